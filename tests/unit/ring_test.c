/*
 * ring: the last max items, oldest first; what no longer fits is handed
 * back or dropped, a refit keeps the newest, and a ring of 0 keeps nothing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "../../handlers/ring.h"

/* Items are small integers in the pointer; 0 is never one. */
#define ITEM(n)	((void *)(uintptr_t)(n))

static char	 dropped[64];

/* Appends item to a string of what it saw, "1 2 3 ". */
static void
seen(void *item, void *arg)
{
	char	*s = arg;
	size_t	 len = strlen(s);

	snprintf(s + len, 64 - len, "%u ", (unsigned)(uintptr_t)item);
}

static void
drop(void *item)
{
	seen(item, dropped);
}

/* The items of r, oldest first, as "1 2 3 ". */
static const char *
items(const struct ring *r)
{
	static char	 s[64];

	s[0] = '\0';
	ring_foreach(r, seen, s);
	return s;
}

static void
the_ring_keeps_the_last_items_oldest_first(void **state)
{
	struct ring	 r;
	int		 i;

	(void)state;
	assert_int_equal(ring_init(&r, 3), 0);
	assert_string_equal(items(&r), "");
	assert_null(ring_push(&r, ITEM(1)));
	assert_null(ring_push(&r, ITEM(2)));
	assert_string_equal(items(&r), "1 2 ");
	assert_null(ring_push(&r, ITEM(3)));
	assert_ptr_equal(ring_push(&r, ITEM(4)), ITEM(1));
	assert_ptr_equal(ring_push(&r, ITEM(5)), ITEM(2));
	assert_string_equal(items(&r), "3 4 5 ");
	for (i = 6; i <= 10; i++)
		assert_ptr_equal(ring_push(&r, ITEM(i)), ITEM(i - 3));
	assert_string_equal(items(&r), "8 9 10 ");
	dropped[0] = '\0';
	ring_free(&r, drop);
	assert_string_equal(dropped, "8 9 10 ");
}

static void
a_ring_of_zero_keeps_nothing(void **state)
{
	struct ring	 r;

	(void)state;
	assert_int_equal(ring_init(&r, 0), 0);
	assert_ptr_equal(ring_push(&r, ITEM(1)), ITEM(1));
	assert_string_equal(items(&r), "");
	ring_free(&r, NULL);
	/* A zeroed ring, as a configure that failed leaves it. */
	memset(&r, 0, sizeof(r));
	ring_free(&r, drop);
}

static void
a_refit_keeps_the_newest_items_that_fit(void **state)
{
	struct ring	 old, new;
	int		 i;

	(void)state;
	assert_int_equal(ring_init(&old, 3), 0);
	for (i = 1; i <= 5; i++)
		(void)ring_push(&old, ITEM(i));
	/* 3 -> 2: the oldest goes, the newest two move. */
	assert_int_equal(ring_init(&new, 2), 0);
	dropped[0] = '\0';
	ring_refit(&new, &old, drop);
	assert_string_equal(dropped, "3 ");
	assert_string_equal(items(&new), "4 5 ");
	assert_string_equal(items(&old), "");
	/* 2 -> 4: all move, and there is room for more. */
	ring_free(&old, NULL);
	assert_int_equal(ring_init(&old, 4), 0);
	dropped[0] = '\0';
	ring_refit(&old, &new, drop);
	assert_string_equal(dropped, "");
	assert_null(ring_push(&old, ITEM(6)));
	assert_string_equal(items(&old), "4 5 6 ");
	/* 4 -> 0: all are dropped. */
	ring_free(&new, NULL);
	assert_int_equal(ring_init(&new, 0), 0);
	ring_refit(&new, &old, drop);
	assert_string_equal(dropped, "4 5 6 ");
	ring_free(&old, drop);
	ring_free(&new, drop);
	assert_string_equal(dropped, "4 5 6 ");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_ring_keeps_the_last_items_oldest_first),
		cmocka_unit_test(a_ring_of_zero_keeps_nothing),
		cmocka_unit_test(a_refit_keeps_the_newest_items_that_fit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
