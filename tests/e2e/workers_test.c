/*
 * Several workers (daemon.workers): connections and datagrams are spread
 * over the loops by the kernel (SO_REUSEPORT) and every client still gets
 * its own bytes; a chat room stays one room, since SOCKD_ONE_LOOP services
 * listen on one worker; reload, counters and shutdown reach every worker.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

/* Both loopback addresses, no per-source limits. */
#define DEFAULTS \
	"defaults: { " LOOPBACK " per_source = 0; rate = 0; };\n"

static void
many_clients_are_spread_over_the_workers_and_answered(void **state)
{
	struct harness *h = *state;
	int port = harness_port(), fds[200], i;
	char msg[64], buf[64];
	size_t n;

	harness_serve_quiet(h, 2, DEFAULTS "services = ({ name = \"echo\"; "
	    "port = %d; protocol = [\"tcp\", \"udp\"]; });\n", port);
	assert_true(harness_log_has(h, "2 workers"));
	for (i = 0; i < 200; i++)
		assert_int_not_equal(fds[i] = tcp_open(i % 2 ? "::1" :
		    "127.0.0.1", port), -1);
	for (i = 0; i < 200; i++) {
		n = (size_t)snprintf(msg, sizeof(msg), "client %d\n", i);
		assert_int_equal(tcp_sends(fds[i], msg), 0);
	}
	for (i = 0; i < 200; i++) {
		n = (size_t)snprintf(msg, sizeof(msg), "client %d\n", i);
		assert_int_equal(tcp_recv_n(fds[i], buf, n, 5000), n);
		assert_memory_equal(buf, msg, n);
	}
	for (i = 0; i < 20; i++)
		assert_int_equal(udp_ask("127.0.0.1", port, "dgram", 5, buf,
		    sizeof(buf), 2000), 5);
	harness_signal(h, SIGUSR1);
	assert_true(harness_log_wait(h, "echo (worker 1): connections",
	    2000));
	assert_true(harness_log_wait(h, "echo (worker 0): connections",
	    2000));
	/* 200 connections all hashed to one worker: 2^-199. */
	assert_false(harness_log_has(h, "echo (worker 0): connections 0 "));
	assert_false(harness_log_has(h, "echo (worker 1): connections 0 "));
	clients_close(fds, 200);
	harness_stop_clean(h);
}

static void
a_chat_room_is_one_room_whatever_the_workers(void **state)
{
	struct harness *h = *state;
	int port = harness_port(), c[8], i;
	char want[64];

	harness_serve_quiet(h, 2, DEFAULTS "services = ({ name = \"chat\"; "
	    "port = %d; });\n", port);
	for (i = 0; i < 8; i++)
		assert_int_not_equal(c[i] = tcp_open(i % 2 ? "::1" :
		    "127.0.0.1", port), -1);
	for (i = 0; i < 8; i++) {
		snprintf(want, sizeof(want), "/nick user%d\n", i);
		assert_int_equal(tcp_sends(c[i], want), 0);
	}
	/* Every client hears every other one's line. */
	for (i = 0; i < 8; i++) {
		snprintf(want, sizeof(want), "line from %d\n", i);
		assert_int_equal(tcp_sends(c[i], want), 0);
	}
	/* Lines of different senders may come in any order: gather all. */
	for (i = 0; i < 8; i++) {
		static char heard[65536];
		char line[1024];
		size_t len = 0;
		int j;

		heard[0] = '\0';
		while (len + sizeof(line) < sizeof(heard) &&
		    tcp_recv_line(c[i], line, sizeof(line), 500) > 0) {
			strcpy(heard + len, line);
			len += strlen(line);
		}
		for (j = 0; j < 8; j++) {
			if (j == i)
				continue;
			snprintf(want, sizeof(want), "<user%d> line from %d",
			    j, j);
			if (strstr(heard, want) == NULL)
				fail_msg("client %d missed \"%s\"", i, want);
		}
	}
	clients_close(c, 8);
	harness_stop_clean(h);
}

static void
a_reload_reaches_every_worker_and_old_connections_go_on(void **state)
{
	struct harness *h = *state;
	int port = harness_port(), dport = harness_port(), old, i;
	char buf[64];

	harness_serve_quiet(h, 2, DEFAULTS "services = ({ name = \"echo\"; "
	    "port = %d; });\n", port);
	old = tcp_open("127.0.0.1", port);
	assert_int_equal(tcp_sends(old, "before\n"), 0);
	assert_int_equal(tcp_recv_n(old, buf, 7, 2000), 7);
	harness_write(h, "sockd.conf", "%s" DEFAULTS "services = ({ "
	    "name = \"echo\"; port = %d; }, { name = \"upper\"; port = %d; "
	    "});\n", harness_quiet_section(2), port, dport);
	harness_signal(h, SIGHUP);
	assert_non_null(harness_notify(h, "READY=1", 10000));
	assert_true(harness_log_has(h, "reload done: 2 services"));
	/* Enough new connections that both workers' sockets take some. */
	for (i = 0; i < 40; i++)
		assert_tcp_reply("127.0.0.1", dport, "abc\n", "ABC\n", 2000);
	assert_reply_on(old, "after\n", "after\n", 2000);
	/* Open connections on a worker do not keep the exit from being 0. */
	assert_int_equal(harness_stop(h), 0);
	client_close(old);
	harness_pass(h);
}

static void
auto_starts_one_worker_per_core(void **state)
{
	struct harness *h = *state;
	int port = harness_port();
	char buf[16];

	harness_write(h, "sockd.conf", "daemon: { log = \"stderr\"; "
	    "workers = \"auto\";%s };\nservices = ({ name = \"echo\"; "
	    "port = %d; bind = \"127.0.0.1\"; });\n",
	    harness_user(), port);
	assert_int_equal(harness_start(h, NULL), 0);
	assert_true(harness_log_has(h, "ready: 1 services"));
	assert_int_equal(udp_ask("127.0.0.1", port, "x", 1, buf, sizeof(buf),
	    300), -1);	/* tcp only */
	harness_stop_clean(h);
}

#define T(f)	HARNESS_TEST(f)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(many_clients_are_spread_over_the_workers_and_answered),
		T(a_chat_room_is_one_room_whatever_the_workers),
		T(a_reload_reaches_every_worker_and_old_connections_go_on),
		T(auto_starts_one_worker_per_core),
	};

	return HARNESS_RUN(tests);
}
