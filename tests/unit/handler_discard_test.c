/*
 * discard (RFC 863): nothing comes back, over TCP or UDP.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "fake_conn.h"

extern const struct sockd_handler sockd_handler_discard;

static void
discard_needs_no_tcp_callback_at_all(void **state)
{
	(void)state;
	assert_null(sockd_handler_discard.tcp_connect);
	assert_null(sockd_handler_discard.tcp_data);
	assert_int_equal(sockd_handler_discard.protocols,
	    SOCKD_TCP | SOCKD_UDP);
}

static void
discard_accepts_a_datagram_and_answers_nothing(void **state)
{
	struct sockd_dgram	*d = fake_dgram_new(NULL, NULL, 1472);

	(void)state;
	sockd_handler_discard.udp_datagram(d, "into the void", 13);
	assert_int_equal(fake_dgram_replies(d), 0);
	assert_int_equal(fake_dgram_sent_count(d), 0);
	fake_dgram_free(d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(discard_needs_no_tcp_callback_at_all),
		cmocka_unit_test(
		    discard_accepts_a_datagram_and_answers_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
