/*
 * Admission at the descriptor limit, against the real daemon started with
 * a low RLIMIT_NOFILE: clients past what the descriptors allow get the
 * busy line and a clean close, never a silent drop; the refusals are
 * logged (rate-limited) and counted as no_fds in the SIGUSR1 counters;
 * once the others leave, new clients are served again.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define BUSY	"busy, try later"

static void
clients_past_the_descriptor_limit_get_the_busy_line_and_are_counted(
    void **state)
{
	struct harness *h = *state;
	int port = harness_port(), fds[100], busy = 0, served = 0, i, lines;
	char buf[256], want[64];
	ssize_t n;

	if (harness_valgrind())
		skip();		/* valgrind keeps descriptors of its own */
	harness_config(h, "services = ({ name = \"echo\"; port = %d; "
	    "bind = \"127.0.0.1\"; per_source = 0; rate = 0; "
	    "busy = \"" BUSY "\\r\\n\"; });\n", port);
	assert_int_equal(harness_start_nofile(h, 64, NULL), 0);
	for (i = 0; i < 100; i++)
		assert_int_not_equal(fds[i] = tcp_open("127.0.0.1", port), -1);
	harness_sleep_ms(harness_ms(1000));
	/* Each client is either served or told it is busy and closed; on
	 * a slow machine the busy line may come only after the question. */
	for (i = 0; i < 100; i++) {
		n = tcp_recv_line(fds[i], buf, sizeof(buf), 20);
		if (n == -1 && tcp_sends(fds[i], "served\n") == 0)
			n = tcp_recv_line(fds[i], buf, sizeof(buf), 3000);
		if (n > 0 && strcmp(buf, "served\n") == 0) {
			served++;
			continue;
		}
		if (n <= 0)
			fail_msg("client %d dropped without a word", i);
		if (strcmp(buf, BUSY "\r\n") != 0)
			fail_msg("client %d got \"%s\"", i, buf);
		if (!tcp_closed(fds[i], 2000))
			fail_msg("client %d: busy, not closed", i);
		busy++;
	}
	printf("# limit 64: %d served, %d busy\n", served, busy);
	assert_true(served >= 10);
	assert_true(busy >= 100 - 64);
	assert_int_equal(served + busy, 100);
	/* Logged, but not once per client. */
	assert_true(harness_log_wait(h, "refused: out of file descriptors",
	    2000));
	lines = harness_log_count(h, "out of file descriptors");
	assert_true(lines >= 1 && lines <= 11);
	harness_signal(h, SIGUSR1);
	assert_true(harness_log_wait(h, "echo: connections", 2000));
	snprintf(want, sizeof(want), " %d no_fds;", busy);
	if (!harness_log_has(h, want))
		fail_msg("no \"%s\" in: %s", want,
		    harness_log_line(h, "echo: connections"));
	clients_close(fds, 100);
	harness_sleep_ms(harness_ms(300));
	/* Room again: as many as were served before are served now. */
	for (i = 0; i < served; i++) {
		assert_int_not_equal(fds[i] = tcp_open("127.0.0.1", port), -1);
		if (!echo_ok(fds[i], "again\n"))
			fail_msg("client %d of %d not served after the others "
			    "left", i, served);
	}
	clients_close(fds, served);
	harness_stop_clean(h);
}

#define T(f)	HARNESS_TEST(f)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(clients_past_the_descriptor_limit_get_the_busy_line_and_are_counted),
	};

	return HARNESS_RUN(tests);
}
