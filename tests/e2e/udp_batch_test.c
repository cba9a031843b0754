/*
 * Batched UDP replies, against the real daemon: the replies a recvmmsg
 * batch produces go out together with sendmmsg at its end.  A burst from
 * several sources is answered whole, in order per source, each reply to
 * its own sender; a datagram alone is answered at once; a reply the
 * kernel refuses in the middle of a batch costs only itself; and the
 * replies of a batch take fewer send calls than there are replies (counted
 * with strace on the running daemon, stopped while the burst queues up so
 * that its batches are full).  Sources other than 127.0.0.1 come from
 * binding 127.0.0.2 and up, which Linux routes on loopback.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define NSRC	4
#define PERSRC	16		/* NSRC * PERSRC = 64 datagrams */

static const char *const srcs[NSRC] = {
	"127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4",
};

/* Opens NSRC clients of 127.0.0.1:port, one per source address. */
static void
clients_open(int port, int *fds)
{
	int i;

	for (i = 0; i < NSRC; i++)
		assert_int_not_equal(fds[i] = udp_open_from(srcs[i], 0, port),
		    -1);
}

/* Sends the burst: datagram j of client i is "s<i>n<j>", interleaved. */
static void
burst_send(const int *fds)
{
	char msg[32];
	int i, j;

	for (j = 0; j < PERSRC; j++)
		for (i = 0; i < NSRC; i++) {
			snprintf(msg, sizeof(msg), "s%dn%d", i, j);
			assert_int_equal(udp_send(fds[i], msg, strlen(msg)),
			    0);
		}
}

/* Fails the test unless client i gets PERSRC replies "s<i>n<j><suffix>"
 * in order of j. */
static void
burst_expect(const int *fds, const char *suffix)
{
	char want[32], buf[64];
	ssize_t n;
	int i, j;

	for (i = 0; i < NSRC; i++)
		for (j = 0; j < PERSRC; j++) {
			snprintf(want, sizeof(want), "s%dn%d%s", i, j, suffix);
			n = udp_recv(fds[i], buf, sizeof(buf) - 1,
			    harness_ms(5000));
			assert_true(n > 0);
			buf[n] = '\0';
			assert_string_equal(buf, want);
		}
}

static void
a_burst_of_64_datagrams_from_4_sources_is_answered_in_order(void **state)
{
	struct harness *h = *state;
	int port = harness_port(), fds[NSRC];

	harness_serve_quiet(h, 0, "services = ({ name = \"echo\"; port = %d; "
	    "protocol = \"udp\"; bind = \"127.0.0.1\"; rate = 0; });\n",
	    port);
	clients_open(port, fds);
	burst_send(fds);
	burst_expect(fds, "");
	clients_close(fds, NSRC);
	harness_stop_clean(h);
}

static void
a_burst_queued_while_sockd_is_stopped_is_answered_in_order(void **state)
{
	struct harness *h = *state;
	int port = harness_port(), fds[NSRC];

	/* Stopped, sockd finds all 64 waiting: every recvmmsg is full. */
	harness_serve_quiet(h, 0, "services = ({ name = \"echo\"; port = %d; "
	    "protocol = \"udp\"; bind = \"127.0.0.1\"; rate = 0; });\n",
	    port);
	clients_open(port, fds);
	assert_int_equal(harness_signal(h, SIGSTOP), 0);
	burst_send(fds);
	assert_int_equal(harness_signal(h, SIGCONT), 0);
	burst_expect(fds, "");
	clients_close(fds, NSRC);
	harness_stop_clean(h);
}

static void
a_datagram_alone_is_answered_at_once(void **state)
{
	struct harness *h = *state;
	int port = harness_port(), i;
	char buf[64];
	long long t0;

	harness_serve_quiet(h, 0, "services = ({ name = \"echo\"; port = %d; "
	    "protocol = \"udp\"; bind = \"127.0.0.1\"; });\n", port);
	for (i = 0; i < 5; i++) {
		t0 = harness_now_ms();
		assert_int_equal(udp_ask_str("127.0.0.1", port, "alone", 5,
		    buf, sizeof(buf), harness_ms(3000)), 5);
		assert_string_equal(buf, "alone");
		/* Waiting for a next datagram would take the 3 s. */
		assert_true(harness_now_ms() - t0 < harness_ms(2000));
	}
	harness_stop_clean(h);
}

static void
a_reply_the_kernel_refuses_costs_only_itself(void **state)
{
	struct harness *h = *state;
	int port = harness_port(), fds[NSRC];
	unsigned long long in = 0, replies = 0, dropped = 0;
	const char *line;
	char buf[64];
	int i, j;

	/* Each datagram: a reply, a send to ::1 from an IPv4 socket (the
	 * kernel refuses it), another reply; so every batch has failures
	 * in its middle. */
	harness_serve_quiet(h, 0, "services = ({ name = \"mis\"; port = %d; "
	    "protocol = \"udp\"; bind = \"127.0.0.1\"; rate = 0; "
	    "handler = \"misroute\"; });\n", port);
	clients_open(port, fds);
	assert_int_equal(harness_signal(h, SIGSTOP), 0);
	burst_send(fds);
	assert_int_equal(harness_signal(h, SIGCONT), 0);
	for (i = 0; i < NSRC; i++)
		for (j = 0; j < PERSRC; j++) {
			char want[32];
			ssize_t n;
			const char *sfx = "ab";
			int k;

			for (k = 0; k < 2; k++) {
				snprintf(want, sizeof(want), "s%dn%d%c", i, j,
				    sfx[k]);
				n = udp_recv(fds[i], buf, sizeof(buf) - 1,
				    harness_ms(5000));
				assert_true(n > 0);
				buf[n] = '\0';
				assert_string_equal(buf, want);
			}
		}
	harness_signal(h, SIGUSR1);
	assert_true(harness_log_wait(h, "mis: connections", 2000));
	line = harness_log_line(h, "mis: connections");
	assert_non_null(line = strstr(line, "datagrams "));
	assert_int_equal(sscanf(line, "datagrams %llu in, %llu replies, "
	    "%llu dropped", &in, &replies, &dropped), 3);
	assert_int_equal(in, NSRC * PERSRC);
	assert_int_equal(replies, 2 * NSRC * PERSRC);
	assert_int_equal(dropped, NSRC * PERSRC);
	clients_close(fds, NSRC);
	harness_stop_clean(h);
}

static void
the_replies_of_a_batch_take_one_send_call(void **state)
{
	struct harness *h = *state;
	int port = harness_port(), fds[NSRC];
	long calls;
	pid_t st;

	strace_or_skip();
	harness_serve_quiet(h, 0, "services = ({ name = \"echo\"; port = %d; "
	    "protocol = \"udp\"; bind = \"127.0.0.1\"; rate = 0; });\n",
	    port);
	clients_open(port, fds);
	st = strace_sends_start(h);
	assert_int_equal(harness_signal(h, SIGSTOP), 0);
	burst_send(fds);
	assert_int_equal(harness_signal(h, SIGCONT), 0);
	burst_expect(fds, "");
	calls = strace_sends_stop(h, st);
	printf("# %d replies took %ld send calls\n", NSRC * PERSRC, calls);
	if (calls <= 0) {
		printf("# strace could not attach: skipped\n");
		clients_close(fds, NSRC);
		harness_stop_clean(h);
		skip();
	}
	/* Batches of 8: 8 calls; some slack for a batch cut short. */
	assert_true(calls <= NSRC * PERSRC / 4);
	clients_close(fds, NSRC);
	harness_stop_clean(h);
}

#define T(f)	HARNESS_TEST(f)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(a_burst_of_64_datagrams_from_4_sources_is_answered_in_order),
		T(a_burst_queued_while_sockd_is_stopped_is_answered_in_order),
		T(a_datagram_alone_is_answered_at_once),
		T(a_reply_the_kernel_refuses_costs_only_itself),
		T(the_replies_of_a_batch_take_one_send_call),
	};
	return HARNESS_RUN(tests);
}
