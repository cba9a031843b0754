/*
 * sources and acl: source keys group IPv6 by prefix, the token bucket
 * refuses past its burst and recovers with time, the table stays bounded
 * and forgets idle sources, a connection counted on the overflow entry is
 * uncounted there; allow/deny picks the most specific match.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "acl.h"
#include "sources.h"

static struct sockaddr_in6
v6(const char *s)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6 };

	inet_pton(AF_INET6, s, &a.sin6_addr);
	return a;
}

static struct sockaddr_in
v4(const char *s)
{
	struct sockaddr_in a = { .sin_family = AF_INET };

	inet_pton(AF_INET, s, &a.sin_addr);
	return a;
}

static void
ipv6_sources_are_grouped_by_prefix(void **state)
{
	struct sockaddr_in6 a = v6("2001:db8:1:2:aaaa::1");
	struct sockaddr_in6 b = v6("2001:db8:1:2:bbbb::2");
	struct sockaddr_in6 c = v6("2001:db8:1:3::1");
	uint8_t ka[16], kb[16], kc[16];

	(void)state;
	limits_key((struct sockaddr *)&a, 64, ka);
	limits_key((struct sockaddr *)&b, 64, kb);
	limits_key((struct sockaddr *)&c, 64, kc);
	assert_memory_equal(ka, kb, 16);
	assert_memory_not_equal(ka, kc, 16);
	limits_key((struct sockaddr *)&a, 128, ka);
	limits_key((struct sockaddr *)&b, 128, kb);
	assert_memory_not_equal(ka, kb, 16);
}

static void
ipv4_sources_are_keyed_as_mapped_addresses(void **state)
{
	struct sockaddr_in a = v4("192.0.2.1");
	struct sockaddr_in6 m = v6("::ffff:192.0.2.1");
	uint8_t ka[16], km[16];

	(void)state;
	limits_key((struct sockaddr *)&a, 64, ka);
	limits_key((struct sockaddr *)&m, 64, km);
	assert_memory_equal(ka, km, 16);
}

static void
the_bucket_refuses_past_burst_and_refills(void **state)
{
	struct srctab t = { 0 };
	uint8_t key[16] = { 1 };
	struct srcent *e;
	int i;

	(void)state;
	e = srctab_get(&t, key, 3, 1000);
	for (i = 0; i < 3; i++)
		assert_true(srcent_take(e, 1, 3, 1000));
	assert_false(srcent_take(e, 1, 3, 1000));
	assert_false(srcent_take(e, 1, 3, 1500));
	assert_true(srcent_take(e, 1, 3, 2000));	/* one second: one token */
	assert_false(srcent_take(e, 1, 3, 2000));
	assert_true(srcent_take(e, 0, 3, 2000));	/* rate 0: no limit */
	srctab_free(&t);
}

static void
the_table_is_bounded_and_forgets_idle_sources(void **state)
{
	struct srctab t = { 0 };
	uint8_t key[16] = { 0 };
	struct srcent *e;
	uint32_t i;

	(void)state;
	for (i = 0; i < SRCTAB_MAX + 100; i++) {
		memcpy(key, &i, sizeof(i));
		e = srctab_get(&t, key, 10, 0);
		e->conns = 1;
	}
	assert_int_equal(t.n, SRCTAB_MAX);
	assert_ptr_equal(e, &t.overflow);
	/* still found after growth */
	i = 12345;
	memcpy(key, &i, sizeof(i));
	assert_int_equal(srctab_get(&t, key, 10, 0)->conns, 1);
	for (i = 0; i < t.cap; i++)
		if (t.v[i].used && t.v[i].key[0] % 2 == 0)
			t.v[i].conns = 0;
	srctab_sweep(&t, 1, 10, 100000);
	assert_int_equal(t.n, SRCTAB_MAX / 2);
	i = 12345;		/* odd: kept */
	memcpy(key, &i, sizeof(i));
	assert_int_equal(srctab_get(&t, key, 10, 0)->conns, 1);
	srctab_free(&t);
}

/* Adds sources with one connection each until the table is full. */
static void
fill_table(struct srctab *t, uint32_t *next)
{
	uint8_t key[16] = { 0 };
	struct srcent *e;

	while (t->n < SRCTAB_MAX) {
		memcpy(key, next, sizeof(*next));
		(*next)++;
		e = srctab_get(t, key, 10, 0);
		assert_ptr_not_equal(e, &t->overflow);
		e->conns = 1;
	}
}

static void
a_connection_counted_on_the_overflow_entry_is_uncounted_there(void **state)
{
	struct srctab t = { 0 };
	uint8_t key[16] = { [8] = 0xaa };	/* not one of fill_table's */
	struct srcent *e;
	uint32_t next = 1;
	size_t i, n;
	int cycle;

	(void)state;
	/* As conn_accept and conn_destroy do, with per_source: the table is
	 * full at accept, and has room again at close after a sweep. */
	for (cycle = 0; cycle < 40; cycle++) {
		fill_table(&t, &next);
		e = srctab_get(&t, key, 10, 0);
		assert_ptr_equal(e, &t.overflow);
		assert_true(e->conns < 32);	/* per_source = 32 admits */
		e->conns++;
		for (i = 0; i < t.cap; i++)
			if (t.v[i].used && t.v[i].key[0] % 2 == cycle % 2)
				t.v[i].conns = 0;
		srctab_sweep(&t, 1, 10, 100000);
		assert_true(t.n < SRCTAB_MAX);
		n = t.n;
		srctab_release(&t, key, 1);
		assert_int_equal(t.overflow.conns, 0);
		assert_int_equal(t.n, n);	/* closing added nothing */
	}
	srctab_free(&t);
}

static void
releasing_a_source_never_adds_it_and_uncounts_its_own_entry(void **state)
{
	struct srctab t = { 0 };
	uint8_t a[16] = { 1 }, b[16] = { 2 };
	struct srcent *e;

	(void)state;
	srctab_release(&t, a, 0);		/* empty table */
	e = srctab_get(&t, a, 10, 0);
	e->conns = 2;
	srctab_release(&t, b, 0);
	assert_int_equal(t.n, 1);
	srctab_release(&t, a, 0);
	assert_int_equal(srctab_get(&t, a, 10, 0)->conns, 1);
	srctab_release(&t, a, 0);
	srctab_release(&t, a, 0);		/* never below zero */
	assert_int_equal(srctab_get(&t, a, 10, 0)->conns, 0);
	srctab_free(&t);
}

static void
the_entry_found_last_is_remembered_until_the_table_changes(void **state)
{
	struct srctab t = { 0 };
	uint8_t a[16] = { 1 }, b[16] = { 2 };
	struct srcent *e;

	(void)state;
	e = srctab_get(&t, a, 10, 0);
	assert_ptr_equal(t.last, e);
	assert_ptr_equal(srctab_get(&t, a, 10, 0), e);
	assert_ptr_not_equal(srctab_get(&t, b, 10, 0), e);
	assert_memory_equal(t.last->key, b, 16);
	assert_ptr_equal(srctab_get(&t, a, 10, 0), e);
	srctab_sweep(&t, 1, 10, 100000);	/* both idle: forgotten */
	assert_null(t.last);
	assert_int_equal(t.n, 0);
	e = srctab_get(&t, a, 10, 0);
	assert_true(e->used);
	assert_int_equal(t.n, 1);
	srctab_free(&t);
}

static void
the_most_specific_acl_entry_wins_and_deny_wins_ties(void **state)
{
	struct acl acl = { 0 };
	struct cidr allow[2], deny[2];
	struct sockaddr_in a;

	(void)state;
	assert_true(acl_allowed(&acl, (struct sockaddr *)&(struct sockaddr_in){
	    .sin_family = AF_INET }));
	cidr_parse("10.0.0.0/8", &allow[0]);
	cidr_parse("10.1.2.3", &allow[1]);
	cidr_parse("10.1.0.0/16", &deny[0]);
	cidr_parse("10.9.0.0/16", &deny[1]);
	acl.allow = allow;
	acl.nallow = 2;
	acl.has_allow = 1;
	acl.deny = deny;
	acl.ndeny = 2;
	a = v4("10.2.0.1");
	assert_true(acl_allowed(&acl, (struct sockaddr *)&a));
	a = v4("10.1.0.1");
	assert_false(acl_allowed(&acl, (struct sockaddr *)&a));
	a = v4("10.1.2.3");
	assert_true(acl_allowed(&acl, (struct sockaddr *)&a));
	a = v4("192.0.2.1");
	assert_false(acl_allowed(&acl, (struct sockaddr *)&a));
	cidr_parse("10.9.0.0/16", &allow[1]);	/* tie with deny[1] */
	a = v4("10.9.1.1");
	assert_false(acl_allowed(&acl, (struct sockaddr *)&a));
	acl.nallow = 0;
	acl.has_allow = 0;		/* deny only: the rest is let in */
	a = v4("192.0.2.1");
	assert_true(acl_allowed(&acl, (struct sockaddr *)&a));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ipv6_sources_are_grouped_by_prefix),
		cmocka_unit_test(ipv4_sources_are_keyed_as_mapped_addresses),
		cmocka_unit_test(the_bucket_refuses_past_burst_and_refills),
		cmocka_unit_test(the_table_is_bounded_and_forgets_idle_sources),
		cmocka_unit_test(
		    a_connection_counted_on_the_overflow_entry_is_uncounted_there),
		cmocka_unit_test(
		    releasing_a_source_never_adds_it_and_uncounts_its_own_entry),
		cmocka_unit_test(
		    the_entry_found_last_is_remembered_until_the_table_changes),
		cmocka_unit_test(the_most_specific_acl_entry_wins_and_deny_wins_ties),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
