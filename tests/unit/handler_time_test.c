/*
 * time (RFC 868): the encoding of seconds since 1900, its wrap, and the two
 * transports.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "fake_conn.h"
#include "../../handlers/rfc868.h"

extern const struct sockd_handler sockd_handler_time;

static uint32_t
decode(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static void
the_unix_epoch_is_2208988800_in_network_order(void **state)
{
	unsigned char	 b[4];

	(void)state;
	time_rfc868(b, 0);
	assert_memory_equal(b, "\x83\xaa\x7e\x80", 4);
}

static void
the_count_wraps_modulo_2_to_the_32_in_2036(void **state)
{
	unsigned char	 b[4];

	(void)state;
	time_rfc868(b, 2085978495);	/* 2036-02-07 06:28:15 UTC */
	assert_memory_equal(b, "\xff\xff\xff\xff", 4);
	time_rfc868(b, 2085978496);
	assert_memory_equal(b, "\x00\x00\x00\x00", 4);
	time_rfc868(b, 2085978496 + 300);
	assert_int_equal(decode(b), 300);
}

static void
times_before_1970_still_count_from_1900(void **state)
{
	unsigned char	 b[4];

	(void)state;
	time_rfc868(b, -2208988800LL);
	assert_int_equal(decode(b), 0);
	time_rfc868(b, -1);
	assert_int_equal(decode(b), 2208988799U);
}

static void
tcp_sends_four_bytes_of_now_and_closes(void **state)
{
	struct sockd_conn	*c = fake_conn_new();
	uint32_t		 want;

	(void)state;
	want = (uint32_t)(time(NULL) + TIME_RFC868_OFFSET);
	assert_int_equal(sockd_handler_time.tcp_connect(c), 0);
	assert_int_equal(fake_conn_output_len(c), 4);
	assert_true(decode((const unsigned char *)fake_conn_output(c)) - want
	    <= 2);
	assert_true(fake_conn_closed(c));
	fake_conn_free(c);
}

static void
udp_answers_any_datagram_even_an_empty_one(void **state)
{
	struct sockd_dgram	*d = fake_dgram_new(NULL, NULL, 64);
	uint32_t		 want;

	(void)state;
	want = (uint32_t)(time(NULL) + TIME_RFC868_OFFSET);
	sockd_handler_time.udp_datagram(d, "", 0);
	assert_int_equal(fake_dgram_replies(d), 1);
	assert_int_equal(fake_dgram_reply_len(d), 4);
	assert_true(decode((const unsigned char *)fake_dgram_reply_output(d)) -
	    want <= 2);
	sockd_handler_time.udp_datagram(d, "what time is it?", 16);
	assert_int_equal(fake_dgram_replies(d), 2);
	fake_dgram_free(d);
}

static void
the_handler_takes_no_options_and_serves_both_transports(void **state)
{
	(void)state;
	assert_int_equal(sockd_handler_time.abi_version, SOCKD_ABI_VERSION);
	assert_string_equal(sockd_handler_time.name, "time");
	assert_null(sockd_handler_time.options);
	assert_int_equal(sockd_handler_time.protocols, SOCKD_TCP | SOCKD_UDP);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_unix_epoch_is_2208988800_in_network_order),
		cmocka_unit_test(the_count_wraps_modulo_2_to_the_32_in_2036),
		cmocka_unit_test(times_before_1970_still_count_from_1900),
		cmocka_unit_test(tcp_sends_four_bytes_of_now_and_closes),
		cmocka_unit_test(udp_answers_any_datagram_even_an_empty_one),
		cmocka_unit_test(
		    the_handler_takes_no_options_and_serves_both_transports),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
