/*
 * chargen (RFC 864): the rotating pattern, writing only as fast as the
 * reader takes it, and the one-line UDP reply the growth guard governs.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "fake_conn.h"
#include "../../handlers/chargen.h"

extern const struct sockd_handler sockd_handler_chargen;

#define RFC864_LINE0 "!\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRS" \
	"TUVWXYZ[\\]^_`abcdefgh\r\n"
#define RFC864_LINE1 "\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRST" \
	"UVWXYZ[\\]^_`abcdefghi\r\n"

static void
the_first_lines_are_those_of_rfc_864(void **state)
{
	char	 line[CHARGEN_LINE + 1] = "";

	(void)state;
	assert_int_equal(chargen_line(line, 0), 74);
	assert_string_equal(line, RFC864_LINE0);
	assert_int_equal(chargen_line(line, 1), 74);
	assert_string_equal(line, RFC864_LINE1);
}

static void
each_line_starts_one_character_further_round_95(void **state)
{
	char		 a[CHARGEN_LINE], b[CHARGEN_LINE];
	unsigned int	 n, i;

	(void)state;
	for (n = 0; n < 300; n++) {
		chargen_line(a, n);
		chargen_line(b, n + 1);
		assert_memory_equal(a + 1, b, CHARGEN_WIDTH - 1);
		for (i = 0; i < CHARGEN_WIDTH; i++)
			assert_true(a[i] >= ' ' && a[i] <= '~');
		assert_memory_equal(a + CHARGEN_WIDTH, "\r\n", 2);
	}
	chargen_line(a, 94);
	assert_int_equal(a[0], ' ');
	chargen_line(a, 0);
	chargen_line(b, 95);
	assert_memory_equal(a, b, CHARGEN_LINE);
}

/* The output is the pattern from line 0 on, however it was cut. */
static void
assert_pattern(const char *out, size_t len)
{
	char	 line[CHARGEN_LINE];
	size_t	 n;

	assert_int_equal(len % CHARGEN_LINE, 0);
	for (n = 0; n < len / CHARGEN_LINE; n++) {
		chargen_line(line, n % CHARGEN_RING);
		assert_memory_equal(out + n * CHARGEN_LINE, line, CHARGEN_LINE);
	}
}

static void
tcp_writes_one_batch_and_waits_while_bytes_are_queued(void **state)
{
	struct sockd_conn	*c = fake_conn_new();
	size_t			 first;

	(void)state;
	assert_int_equal(sockd_handler_chargen.tcp_connect(c), 0);
	first = fake_conn_output_len(c);
	assert_true(first > 0 && first <= 16384);
	assert_true(sockd_conn_pending(c) > 0);
	/* A drain that finds bytes still queued adds nothing. */
	sockd_handler_chargen.tcp_drain(c);
	assert_int_equal(fake_conn_output_len(c), first);
	assert_false(fake_conn_closed(c));
	fake_conn_free(c);
}

static void
tcp_continues_the_rotation_after_each_drain(void **state)
{
	struct sockd_conn	*c = fake_conn_new();
	int			 i;

	(void)state;
	sockd_handler_chargen.tcp_connect(c);
	for (i = 0; i < 10; i++) {
		fake_conn_flush(c);
		sockd_handler_chargen.tcp_drain(c);
	}
	assert_true(fake_conn_output_len(c) > 10 * 4000);
	assert_pattern(fake_conn_output(c), fake_conn_output_len(c));
	fake_conn_free(c);
}

static void
a_reader_that_takes_everything_does_not_hold_the_loop(void **state)
{
	struct sockd_conn	*c = fake_conn_new();

	(void)state;
	fake_conn_set_absorb(c, (size_t)-1);
	sockd_handler_chargen.tcp_connect(c);
	assert_int_equal(sockd_conn_pending(c), 0);
	/* One piece per callback: sockd calls tcp_drain again on the next
	 * loop turn, so other clients are served in between. */
	assert_int_equal(fake_conn_output_len(c), 221 * CHARGEN_LINE);
	sockd_handler_chargen.tcp_drain(c);
	assert_int_equal(fake_conn_output_len(c), 2 * 221 * CHARGEN_LINE);
	assert_pattern(fake_conn_output(c), fake_conn_output_len(c));
	fake_conn_free(c);
}

static void
tcp_stops_when_sockd_refuses_a_write(void **state)
{
	struct sockd_conn	*c = fake_conn_new();

	(void)state;
	fake_conn_set_max_queue(c, 100);
	sockd_handler_chargen.tcp_connect(c);
	assert_true(fake_conn_closed(c));
	assert_int_equal(fake_conn_output_len(c), 0);
	assert_int_equal(fake_conn_writes_after_close(c), 0);
	fake_conn_free(c);
}

static void
tcp_input_is_ignored_and_nothing_is_allocated(void **state)
{
	(void)state;
	assert_null(sockd_handler_chargen.tcp_data);
	assert_null(sockd_handler_chargen.tcp_close);
	assert_null(sockd_handler_chargen.options);
}

static void
udp_replies_one_74_byte_line_when_the_guard_allows(void **state)
{
	struct sockd_dgram	*d = fake_dgram_new(NULL, NULL, 1472);
	const char		*r;
	size_t			 i;

	(void)state;
	sockd_handler_chargen.udp_datagram(d, "x", 1);
	assert_int_equal(fake_dgram_replies(d), 1);
	assert_int_equal(fake_dgram_reply_len(d), 74);
	r = fake_dgram_reply_output(d);
	for (i = 0; i < CHARGEN_WIDTH; i++)
		assert_true(r[i] >= ' ' && r[i] <= '~');
	assert_memory_equal(r + CHARGEN_WIDTH, "\r\n", 2);
	fake_dgram_free(d);
}

static void
udp_reply_is_refused_when_the_growth_guard_forbids_it(void **state)
{
	/* A 1-byte request may get 65 bytes back under the default guard. */
	struct sockd_dgram	*d = fake_dgram_new(NULL, NULL, 1 + 64);

	(void)state;
	sockd_handler_chargen.udp_datagram(d, "x", 1);
	assert_int_equal(fake_dgram_replies(d), 0);
	assert_int_equal(fake_dgram_refused(d), 1);
	fake_dgram_free(d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_first_lines_are_those_of_rfc_864),
		cmocka_unit_test(
		    each_line_starts_one_character_further_round_95),
		cmocka_unit_test(
		    tcp_writes_one_batch_and_waits_while_bytes_are_queued),
		cmocka_unit_test(tcp_continues_the_rotation_after_each_drain),
		cmocka_unit_test(
		    a_reader_that_takes_everything_does_not_hold_the_loop),
		cmocka_unit_test(tcp_stops_when_sockd_refuses_a_write),
		cmocka_unit_test(tcp_input_is_ignored_and_nothing_is_allocated),
		cmocka_unit_test(
		    udp_replies_one_74_byte_line_when_the_guard_allows),
		cmocka_unit_test(
		    udp_reply_is_refused_when_the_growth_guard_forbids_it),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
