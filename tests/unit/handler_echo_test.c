/*
 * echo (RFC 862): bytes go back as they come, over TCP and UDP.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "fake_conn.h"

extern const struct sockd_handler sockd_handler_echo;

static void
echo_sends_back_what_arrives(void **state)
{
	struct sockd_conn	*c = fake_conn_new();

	(void)state;
	sockd_handler_echo.tcp_data(c, "Hello\n", 6);
	sockd_handler_echo.tcp_data(c, "\0bin\xff", 5);
	assert_int_equal(fake_conn_output_len(c), 11);
	assert_memory_equal(fake_conn_output(c), "Hello\n\0bin\xff", 11);
	assert_false(fake_conn_closed(c));
	fake_conn_free(c);
}

static void
echo_answers_a_datagram_with_the_same_bytes(void **state)
{
	struct sockd_dgram	*d = fake_dgram_new(NULL, NULL, 1472);

	(void)state;
	sockd_handler_echo.udp_datagram(d, "ping", 4);
	assert_int_equal(fake_dgram_replies(d), 1);
	assert_string_equal(fake_dgram_reply_output(d), "ping");
	fake_dgram_free(d);
}

static void
echo_is_not_line_framed_and_takes_no_options(void **state)
{
	(void)state;
	assert_int_equal(sockd_handler_echo.flags & SOCKD_LINES, 0);
	assert_null(sockd_handler_echo.options);
	assert_non_null(sockd_handler_echo.udp_datagram);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(echo_sends_back_what_arrives),
		cmocka_unit_test(echo_answers_a_datagram_with_the_same_bytes),
		cmocka_unit_test(echo_is_not_line_framed_and_takes_no_options),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
