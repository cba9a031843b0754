/*
 * framer: lines are split at "\n", joined across reads, cut into max_line
 * pieces, and the unfinished last line comes out at end of file.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "framer.h"

struct out {
	char	 text[4096];
	int	 nlines;
	int	 stop_after;
};

/* Records each line between [ and ]. */
static int
record(void *arg, const char *line, size_t len)
{
	struct out *o = arg;
	size_t n = strlen(o->text);

	snprintf(o->text + n, sizeof(o->text) - n, "[%.*s]", (int)len, line);
	o->nlines++;
	return o->stop_after != 0 && o->nlines >= o->stop_after;
}

/* framer_feed() of the string s, into o. */
static int
feed(struct framer *f, size_t max_line, const char *s, struct out *o)
{
	return framer_feed(f, max_line, s, strlen(s), record, o);
}

static void
whole_lines_in_one_read_come_out_one_by_one(void **state)
{
	struct framer f = { 0 };
	struct out o = { 0 };

	(void)state;
	assert_int_equal(feed(&f, 100, "a\nbb\r\nccc\n", &o), 0);
	assert_string_equal(o.text, "[a\n][bb\r\n][ccc\n]");
	assert_null(f.buf);
}

static void
a_line_cut_by_reads_is_joined(void **state)
{
	struct framer f = { 0 };
	struct out o = { 0 };

	(void)state;
	feed(&f, 100, "hel", &o);
	feed(&f, 100, "lo wo", &o);
	assert_string_equal(o.text, "");
	feed(&f, 100, "rld\nnext", &o);
	assert_string_equal(o.text, "[hello world\n]");
	assert_int_equal(f.len, 4);
	framer_free(&f);
}

static void
an_overlong_line_comes_in_max_line_pieces(void **state)
{
	struct framer f = { 0 };
	struct out o = { 0 };

	(void)state;
	feed(&f, 4, "abcdefghij\n", &o);
	assert_string_equal(o.text, "[abcd][efgh][ij\n]");
	memset(&o, 0, sizeof(o));
	feed(&f, 4, "ab", &o);
	feed(&f, 4, "cdef", &o);
	assert_string_equal(o.text, "[abcd]");
	assert_int_equal(f.len, 2);
	framer_free(&f);
}

static void
a_line_of_exactly_max_line_keeps_its_newline(void **state)
{
	struct framer f = { 0 };
	struct out o = { 0 };

	(void)state;
	feed(&f, 4, "abc\n", &o);
	feed(&f, 4, "de", &o);
	feed(&f, 4, "f\n", &o);
	assert_string_equal(o.text, "[abc\n][def\n]");
}

static void
the_unfinished_line_comes_out_at_end_of_file(void **state)
{
	struct framer f = { 0 };
	struct out o = { 0 };

	(void)state;
	feed(&f, 100, "x\nlast words", &o);
	assert_int_equal(framer_flush(&f, record, &o), 0);
	assert_string_equal(o.text, "[x\n][last words]");
	assert_int_equal(framer_flush(&f, record, &o), 0);
	assert_int_equal(o.nlines, 2);
}

static void
a_stop_drops_the_rest(void **state)
{
	struct framer f = { 0 };
	struct out o = { .stop_after = 1 };

	(void)state;
	assert_int_equal(feed(&f, 100, "q\nmore\nand", &o), 1);
	assert_string_equal(o.text, "[q\n]");
	assert_int_equal(f.len, 0);
}

static void
empty_lines_are_lines(void **state)
{
	struct framer f = { 0 };
	struct out o = { 0 };

	(void)state;
	feed(&f, 100, "\n\n", &o);
	assert_string_equal(o.text, "[\n][\n]");
}

static void
a_short_unfinished_line_holds_a_small_buffer(void **state)
{
	struct framer f = { 0 };
	struct out o = { 0 };

	(void)state;
	assert_int_equal(feed(&f, 1 << 20, "x", &o), 0);
	assert_int_equal(f.len, 1);
	assert_non_null(f.buf);
	assert_true(f.cap <= 64);
	framer_free(&f);
}

static void
the_buffer_grows_with_the_line_and_goes_when_it_ends(void **state)
{
	struct framer f = { 0 };
	struct out o = { 0 };
	char chunk[300];
	int i;

	(void)state;
	memset(chunk, 'y', sizeof(chunk));
	for (i = 0; i < 3; i++)
		framer_feed(&f, 1000, chunk, sizeof(chunk), record, &o);
	assert_int_equal(f.len, 900);
	assert_true(f.cap >= 900 && f.cap <= 1000);
	framer_feed(&f, 1000, chunk, sizeof(chunk), record, &o);
	/* The first 1000 bytes went out as a piece; 200 are kept. */
	assert_int_equal(o.nlines, 1);
	assert_int_equal(f.len, 200);
	assert_true(f.cap <= 256);
	feed(&f, 1000, "\n", &o);
	assert_int_equal(o.nlines, 2);
	assert_null(f.buf);
	assert_int_equal(f.cap, 0);
}

static void
a_stop_tells_how_much_was_taken_so_the_rest_can_come_later(void **state)
{
	struct framer f = { 0 };
	struct out o = { .stop_after = 2 };
	size_t used;

	(void)state;
	assert_int_equal(framer_feed_some(&f, 100, "ab\ncd\nef\ng", 10,
	    record, &o, &used), 1);
	assert_int_equal(used, 6);
	o.stop_after = 0;
	assert_int_equal(framer_feed_some(&f, 100, "ef\ng", 4, record, &o,
	    &used), 0);
	assert_int_equal(used, 4);
	assert_string_equal(o.text, "[ab\n][cd\n][ef\n]");
	assert_int_equal(f.len, 1);
	framer_free(&f);
}

static void
a_stop_on_a_joined_line_counts_its_tail_as_taken(void **state)
{
	struct framer f = { 0 };
	struct out o = { .stop_after = 1 };
	size_t used;

	(void)state;
	feed(&f, 100, "he", &o);
	assert_int_equal(framer_feed_some(&f, 100, "llo\nrest\n", 10,
	    record, &o, &used), 1);
	assert_int_equal(used, 4);
	assert_string_equal(o.text, "[hello\n]");
	assert_null(f.buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(whole_lines_in_one_read_come_out_one_by_one),
		cmocka_unit_test(a_line_cut_by_reads_is_joined),
		cmocka_unit_test(an_overlong_line_comes_in_max_line_pieces),
		cmocka_unit_test(a_line_of_exactly_max_line_keeps_its_newline),
		cmocka_unit_test(the_unfinished_line_comes_out_at_end_of_file),
		cmocka_unit_test(a_stop_drops_the_rest),
		cmocka_unit_test(empty_lines_are_lines),
		cmocka_unit_test(a_short_unfinished_line_holds_a_small_buffer),
		cmocka_unit_test(
		    the_buffer_grows_with_the_line_and_goes_when_it_ends),
		cmocka_unit_test(
		    a_stop_tells_how_much_was_taken_so_the_rest_can_come_later),
		cmocka_unit_test(
		    a_stop_on_a_joined_line_counts_its_tail_as_taken),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
