/*
 * upper: locale-independent UTF-8 upper-casing, invalid bytes unchanged,
 * the 3/2 growth bound, and the TCP line and UDP datagram paths.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fake_conn.h"
#include "../../handlers/upper.h"
#include "../../handlers/utf8.h"

extern const struct sockd_handler sockd_handler_upper;

/* Upper-cases s and checks the result against want. */
static void
check(const char *s, const char *want)
{
	size_t	 len = strlen(s), n;
	char	*out = malloc(UPPER_OUTMAX(len) + 1);

	assert_non_null(out);
	n = upper_utf8(out, s, len);
	assert_true(n <= UPPER_OUTMAX(len));
	out[n] = '\0';
	assert_string_equal(out, want);
	free(out);
}

static void
ascii_letters_are_upper_cased_and_the_rest_kept(void **state)
{
	(void)state;
	check("hello, World 42! ~`{}", "HELLO, WORLD 42! ~`{}");
	check("", "");
}

static void
accented_and_cyrillic_letters_are_upper_cased(void **state)
{
	(void)state;
	check("héllo мир", "HÉLLO МИР");
	check("ελληνικά σ ς", "ΕΛΛΗΝΙΚΆ Σ Σ");
	check("ǆ ÿ œ", "Ǆ Ÿ Œ");
	/* Deseret: four-byte letters. */
	check("\xf0\x90\x90\xa8", "\xf0\x90\x90\x80");
}

static void
letters_without_a_one_to_one_upper_case_stay(void **state)
{
	(void)state;
	/* ß would become "SS", a string: simple mappings only. */
	check("straße", "STRAßE");
	check("日本語", "日本語");
}

static void
an_upper_case_may_be_longer_or_shorter_than_its_lower_case(void **state)
{
	(void)state;
	check("\xc9\x90", "\xe2\xb1\xaf");	/* U+0250 -> U+2C6F */
	check("\xc4\xb1", "I");			/* dotless i */
	check("\xc5\xbf", "S");			/* long s */
}

static void
the_worst_growth_fills_exactly_the_documented_room(void **state)
{
	size_t	 i, n, len = 3000;
	char	*in = malloc(len), *out = malloc(UPPER_OUTMAX(len));

	(void)state;
	assert_non_null(in);
	assert_non_null(out);
	for (i = 0; i < len; i += 2)
		memcpy(in + i, "\xc9\x90", 2);
	n = upper_utf8(out, in, len);
	assert_int_equal(n, UPPER_OUTMAX(len));
	for (i = 0; i < n; i += 3)
		assert_memory_equal(out + i, "\xe2\xb1\xaf", 3);
	free(in);
	free(out);
}

static void
bytes_that_are_not_utf8_pass_through_unchanged(void **state)
{
	(void)state;
	check("a\xff\xfe" "b", "A\xff\xfe" "B");
	check("\xc0\xaf" "x", "\xc0\xaf" "X");		/* overlong '/' */
	check("\xe0\x80\xaf", "\xe0\x80\xaf");		/* overlong, 3 bytes */
	check("\xed\xa0\x80" "z", "\xed\xa0\x80" "Z");	/* surrogate */
	check("\xf4\x90\x80\x80", "\xf4\x90\x80\x80");	/* past U+10FFFF */
	check("\xc3", "\xc3");				/* cut short */
	check("\xc3" "a", "\xc3" "A");
	check("\xa9\xc3\xa9", "\xa9\xc3\x89");		/* stray continuation */
}

static void
the_decoder_is_strict(void **state)
{
	uint32_t	 cp;

	(void)state;
	assert_int_equal(utf8_decode((const unsigned char *)"\xc3\xa9", 2,
	    &cp), 2);
	assert_int_equal(cp, 0xe9);
	assert_int_equal(utf8_decode((const unsigned char *)"\xf4\x8f\xbf\xbf",
	    4, &cp), 4);
	assert_int_equal(cp, 0x10ffff);
	assert_int_equal(utf8_decode((const unsigned char *)"\xc1\xbf", 2,
	    &cp), 0);
	assert_int_equal(utf8_decode((const unsigned char *)"\xf0\x8f\xbf\xbf",
	    4, &cp), 0);
	assert_int_equal(utf8_decode((const unsigned char *)"\xe2\x82", 2,
	    &cp), 0);
	assert_int_equal(utf8_decode((const unsigned char *)"\xf5\x80\x80\x80",
	    4, &cp), 0);
}

static void
a_tcp_line_comes_back_upper_cased_with_its_line_ending(void **state)
{
	struct sockd_conn	*c = fake_conn_new();
	void			*ps = NULL;

	(void)state;
	assert_null(sockd_handler_upper.configure(NULL, &ps));
	sockd_handler_upper.tcp_data(c, "héllo мир\r\n", strlen("héllo мир\r\n"));
	sockd_handler_upper.tcp_data(c, "second\n", 7);
	assert_string_equal(fake_conn_output(c), "HÉLLO МИР\r\nSECOND\n");
	assert_false(fake_conn_closed(c));
	fake_conn_free(c);
	assert_true(sockd_handler_upper.flags & SOCKD_LINES);
}

static void
a_long_line_is_upper_cased_whole(void **state)
{
	struct sockd_conn	*c = fake_conn_new();
	size_t			 i, len = 20000;
	char			*in = malloc(len);

	(void)state;
	assert_non_null(in);
	for (i = 0; i < len; i += 2)
		memcpy(in + i, "\xd0\xbc", 2);		/* м */
	sockd_handler_upper.tcp_data(c, in, len);
	assert_int_equal(fake_conn_output_len(c), len);
	for (i = 0; i < len; i += 2)
		assert_memory_equal(fake_conn_output(c) + i, "\xd0\x9c", 2);
	free(in);
	fake_conn_free(c);
}

static void
a_datagram_comes_back_upper_cased(void **state)
{
	struct sockd_dgram	*d = fake_dgram_new(NULL, NULL, 1472);

	(void)state;
	sockd_handler_upper.udp_datagram(d, "über\n", strlen("über\n"));
	assert_int_equal(fake_dgram_replies(d), 1);
	assert_string_equal(fake_dgram_reply_output(d), "ÜBER\n");
	fake_dgram_free(d);
}

static void
a_datagram_that_grows_past_the_guard_is_refused_by_sockd(void **state)
{
	struct sockd_dgram	*d = fake_dgram_new(NULL, NULL, 4);

	(void)state;
	sockd_handler_upper.udp_datagram(d, "\xc9\x90\xc9\x90", 4);
	assert_int_equal(fake_dgram_replies(d), 0);
	assert_int_equal(fake_dgram_refused(d), 1);
	fake_dgram_free(d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    ascii_letters_are_upper_cased_and_the_rest_kept),
		cmocka_unit_test(accented_and_cyrillic_letters_are_upper_cased),
		cmocka_unit_test(letters_without_a_one_to_one_upper_case_stay),
		cmocka_unit_test(
		    an_upper_case_may_be_longer_or_shorter_than_its_lower_case),
		cmocka_unit_test(
		    the_worst_growth_fills_exactly_the_documented_room),
		cmocka_unit_test(
		    bytes_that_are_not_utf8_pass_through_unchanged),
		cmocka_unit_test(the_decoder_is_strict),
		cmocka_unit_test(
		    a_tcp_line_comes_back_upper_cased_with_its_line_ending),
		cmocka_unit_test(a_long_line_is_upper_cased_whole),
		cmocka_unit_test(a_datagram_comes_back_upper_cased),
		cmocka_unit_test(
		    a_datagram_that_grows_past_the_guard_is_refused_by_sockd),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
