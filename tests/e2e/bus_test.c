/*
 * The bus: one chat room spread over two sockd hosts through a real
 * redis-server on a loopback port, started by the test and killed and
 * reaped with it.  Lines, /me, /nick, joins and leaves typed on one host
 * reach the other host's users once each and in order; history replayed
 * on joining one host includes lines typed on the other; /who names the
 * members of every host, and a crashed one's no more after the ttl;
 * Redis killed in
 * the middle costs one log line and nothing locally, and when it is back
 * on the same port delivery across hosts resumes; events on the room's
 * channel that no sockd wrote are refused or cleaned.  A bad bus setting
 * is a configuration error with its line.  Tests that need redis-server
 * skip when it is not installed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/types.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

/* Starts sockd on h with a chat room "lobby" on port (and metrics on
 * port + 1 when mport is set) and the bus on the redis at rport, and
 * waits for the bus to be up. */
static void
host_start_metrics(struct harness *h, int port, int rport, int mport)
{
	char	 metrics[128] = "";

	if (mport > 0)
		snprintf(metrics, sizeof(metrics), ", { name = \"metrics\"; "
		    "port = %d; bind = \"127.0.0.1\"; handler = \"metrics\"; "
		    "}", mport);
	harness_write(h, "sockd.conf", "daemon: { log = \"stderr\"; "
	    "log_level = \"info\"; handler_dir = \"%s\"; drain_timeout = 1;"
	    "%s bus = \"redis://127.0.0.1:%d\"; };\n"
	    "services = ({ name = \"chat\"; port = %d; bind = \"127.0.0.1\"; "
	    "options = { room = \"lobby\"; }; }%s);\n", harness_plugins(),
	    harness_user(), rport, port, metrics);
	assert_int_equal(harness_start(h, NULL), 0);
	assert_true(harness_log_wait(h, ": connected", harness_ms(10000)));
	/* The SUBSCRIBE follows the connection at once; let Redis read it. */
	harness_sleep_ms(300);
}

static void
host_start(struct harness *h, int port, int rport)
{
	host_start_metrics(h, port, rport, 0);
}

static void	count_lines(int, const char *, const char *, int, int *, int);

static void
a_reload_that_changes_the_room_keeps_its_members_on_the_bus(void **state)
{
	struct harness	*ha = *state, *hb = harness_new();
	int		 rport = redis_server_start_or_skip();
	int		 pa = harness_port(), pb = harness_port(), a, b, i;
	int		 seen[20] = { 0 };
	char		 nick[CHAT_NICK], msg[64];

	host_start(ha, pa, rport);
	host_start(hb, pb, rport);
	a = chat_join(pa, nick, sizeof(nick));
	b = chat_join(pb, nick, sizeof(nick));
	assert_true(a >= 0 && b >= 0);
	assert_int_equal(tcp_sends(b, "/nick bob\r\n"), 0);
	tcp_skip_lines(a, 500);
	harness_write(ha, "sockd.conf", "daemon: { log = \"stderr\"; "
	    "log_level = \"info\"; handler_dir = \"%s\"; drain_timeout = 1;"
	    "%s bus = \"redis://127.0.0.1:%d\"; };\n"
	    "services = ({ name = \"chat\"; port = %d; bind = \"127.0.0.1\"; "
	    "options = { room = \"lobby\"; history = 30; }; });\n",
	    harness_plugins(), harness_user(), rport, pa);
	assert_int_equal(harness_signal(ha, SIGHUP), 0);
	assert_true(harness_log_wait(ha, "reload done", harness_ms(10000)));
	harness_sleep_ms(300);
	for (i = 0; i < 20; i++) {
		snprintf(msg, sizeof(msg), "after %d\r\n", i);
		assert_int_equal(tcp_sends(b, msg), 0);
	}
	count_lines(a, "bob", "after", 20, seen, 1500);
	for (i = 0; i < 20; i++)
		assert_int_equal(seen[i], 1);
	assert_int_equal(tcp_sends(a, "hello from a\r\n"), 0);
	assert_true(tcp_expect(b, "> hello from a", 5000));
	clients_close((int[]){ a, b }, 2);
	harness_stop_clean(hb);
	harness_free(hb);
	harness_stop_clean(ha);
	redis_server_stop();
}

/* The value of the metric line that starts with name, or -1. */
static long long
metric(int mport, const char *name)
{
	static char	 buf[65536];
	char		 want[128], *p;
	int		 fd;

	if ((fd = tcp_open("127.0.0.1", mport)) == -1)
		return -1;
	if (tcp_sends(fd, "GET /metrics HTTP/1.0\r\n\r\n") == -1 ||
	    tcp_recv_eof(fd, buf, sizeof(buf), 5000) < 0) {
		client_close(fd);
		return -1;
	}
	client_close(fd);
	snprintf(want, sizeof(want), "\n%s ", name);
	if ((p = strstr(buf, want)) == NULL)
		return -1;
	return atoll(p + strlen(want));
}

/* Reads lines on fd until it is quiet for ms, and counts those that
 * contain "<nick> PREFIX N" for N below n into seen[N]; fails the test on
 * one out of order. */
static void
count_lines(int fd, const char *nick, const char *prefix, int n, int *seen,
    int ms)
{
	char	 line[512], want[128], *p;
	int	 i, last = -1;

	snprintf(want, sizeof(want), "<%s> %s ", nick, prefix);
	while (tcp_recv_line(fd, line, sizeof(line), ms) > 0) {
		if ((p = strstr(line, want)) == NULL)
			continue;
		i = atoi(p + strlen(want));
		assert_true(i >= 0 && i < n);
		assert_true(i > last);
		last = i;
		seen[i]++;
	}
}

static void
a_room_spans_two_hosts_and_each_event_arrives_once(void **state)
{
	struct harness	*ha = *state, *hb = harness_new();
	int		 rport = redis_server_start_or_skip();
	int		 pa = harness_port(), pb = harness_port(), a, b, i;
	int		 seen[100] = { 0 };
	char		 nick[CHAT_NICK], msg[64];

	host_start(ha, pa, rport);
	host_start(hb, pb, rport);
	a = chat_join(pa, nick, sizeof(nick));
	assert_true(a >= 0);
	b = chat_join(pb, nick, sizeof(nick));
	assert_true(b >= 0);
	assert_true(tcp_expect(a, " joined", 5000));
	assert_int_equal(tcp_sends(a, "/nick alice\r\n"), 0);
	assert_true(tcp_expect(b, "is now known as alice", 5000));
	assert_int_equal(tcp_sends(b, "/nick bob\r\n"), 0);
	assert_true(tcp_expect(a, "is now known as bob", 5000));
	for (i = 0; i < 100; i++) {
		snprintf(msg, sizeof(msg), "line %d\r\n", i);
		assert_int_equal(tcp_sends(a, msg), 0);
	}
	count_lines(b, "alice", "line", 100, seen, 1500);
	for (i = 0; i < 100; i++)
		assert_int_equal(seen[i], 1);
	assert_int_equal(tcp_sends(b, "/me waves\r\n"), 0);
	assert_true(tcp_expect(a, "* bob waves", 5000));
	client_close(a);
	assert_true(tcp_expect(b, "* alice left", 5000));
	client_close(b);
	harness_stop_clean(hb);
	harness_free(hb);
	harness_stop_clean(ha);
	redis_server_stop();
}

static void
history_on_joining_one_host_has_lines_of_the_other(void **state)
{
	struct harness	*ha = *state, *hb = harness_new();
	int		 rport = redis_server_start_or_skip();
	int		 pa = harness_port(), pb = harness_port(), a, b;
	char		 nick[CHAT_NICK];

	host_start(ha, pa, rport);
	host_start(hb, pb, rport);
	a = chat_join(pa, nick, sizeof(nick));
	assert_true(a >= 0);
	assert_int_equal(tcp_sends(a, "/nick alice\r\nthe first\r\n"
	    "the second\r\n"), 0);
	harness_sleep_ms(500);
	assert_true((b = tcp_open("127.0.0.1", pb)) >= 0);
	assert_true(tcp_expect(b, "<alice> the first", 5000));
	assert_true(tcp_expect(b, "<alice> the second", 5000));
	clients_close((int[]){ a, b }, 2);
	harness_stop_clean(hb);
	harness_free(hb);
	harness_stop_clean(ha);
	redis_server_stop();
}

static void
rooms_go_on_without_redis_and_span_hosts_again_when_it_returns(
    void **state)
{
	struct harness	*ha = *state, *hb = harness_new();
	int		 rport = redis_server_start_or_skip();
	int		 pa = harness_port(), pb = harness_port(), a, a2, b, i;
	int		 ma = harness_port(), seen[50] = { 0 };
	char		 nick[CHAT_NICK], msg[64];

	host_start_metrics(ha, pa, rport, ma);
	assert_int_equal(metric(ma, "sockd_bus_connected"), 1);
	assert_int_equal(metric(ma, "sockd_bus_dropped_total"), 0);
	host_start(hb, pb, rport);
	a = chat_join(pa, nick, sizeof(nick));
	a2 = chat_join(pa, nick, sizeof(nick));
	b = chat_join(pb, nick, sizeof(nick));
	assert_true(a >= 0 && a2 >= 0 && b >= 0);
	assert_int_equal(tcp_sends(a, "/nick alice\r\n"), 0);
	tcp_skip_lines(a2, 500);
	tcp_skip_lines(b, 500);

	redis_server_stop();
	assert_true(harness_log_wait(ha, ": lost: ", harness_ms(5000)));
	assert_true(harness_log_wait(hb, ": lost: ", harness_ms(5000)));
	/* Locally the room goes on, through several failed reconnections. */
	for (i = 0; i < 5; i++) {
		snprintf(msg, sizeof(msg), "alone %d\r\n", i);
		assert_int_equal(tcp_sends(a, msg), 0);
		snprintf(msg, sizeof(msg), "<alice> alone %d", i);
		assert_true(tcp_expect(a2, msg, 5000));
		harness_sleep_ms(300);
	}
	assert_int_equal(harness_log_count(ha, "bus redis://"), 2);
	assert_int_equal(harness_log_count(ha, ": lost: "), 1);
	/* What could not be published is counted, and took no memory. */
	assert_int_equal(metric(ma, "sockd_bus_connected"), 0);
	assert_true(metric(ma, "sockd_bus_dropped_total") >= 5);

	assert_int_equal(redis_server_start(rport), 0);
	assert_true(harness_log_wait(ha, "connected again",
	    harness_ms(15000)));
	assert_true(harness_log_wait(hb, "connected again",
	    harness_ms(15000)));
	harness_sleep_ms(300);
	tcp_skip_lines(b, 200);
	for (i = 0; i < 50; i++) {
		snprintf(msg, sizeof(msg), "back %d\r\n", i);
		assert_int_equal(tcp_sends(a, msg), 0);
	}
	count_lines(b, "alice", "back", 50, seen, 1500);
	for (i = 0; i < 50; i++)
		assert_int_equal(seen[i], 1);
	assert_int_equal(metric(ma, "sockd_bus_connected"), 1);
	clients_close((int[]){ a, a2, b }, 3);
	harness_stop_clean(hb);
	harness_free(hb);
	harness_stop_clean(ha);
	redis_server_stop();
}

/* 1 when a line containing want comes on fd within ms, 0 when fd is quiet
 * for ms first. */
static int
line_within(int fd, const char *want, int ms)
{
	char	 line[512];

	while (tcp_recv_line(fd, line, sizeof(line), ms) > 0)
		if (strstr(line, want) != NULL)
			return 1;
	return 0;
}

static void
who_lists_both_hosts_and_never_a_crashed_one(void **state)
{
	struct harness	*ha = *state, *hb = harness_new();
	int		 rport = redis_server_start_or_skip();
	int		 pa = harness_port(), pb = harness_port(), a, a2, b;
	char		 nick[CHAT_NICK], line[512];

	host_start(ha, pa, rport);
	host_start(hb, pb, rport);
	a = chat_join(pa, nick, sizeof(nick));
	a2 = chat_join(pa, nick, sizeof(nick));
	b = chat_join(pb, nick, sizeof(nick));
	assert_true(a >= 0 && a2 >= 0 && b >= 0);
	assert_int_equal(tcp_sends(a, "/nick alice\r\n"), 0);
	assert_int_equal(tcp_sends(a2, "/nick carol\r\n"), 0);
	assert_int_equal(tcp_sends(b, "/nick bob\r\n"), 0);
	tcp_skip_lines(b, 500);
	assert_int_equal(tcp_sends(b, "/who\r\n"), 0);
	assert_true(tcp_recv_line(b, line, sizeof(line), 5000) > 0);
	assert_non_null(strstr(line, "* Present: bob"));
	assert_true(tcp_recv_line(b, line, sizeof(line), 5000) > 0);
	assert_non_null(strstr(line, "* On another host: "));
	assert_non_null(strstr(line, "alice"));
	assert_non_null(strstr(line, "carol"));

	/* A crashed host refreshes its members no more: gone from /who
	 * within the room's ttl (15 s by default). */
	assert_int_equal(harness_signal(ha, SIGKILL), 0);
	assert_int_equal(harness_wait_exit(ha, 5000), 128 + SIGKILL);
	harness_pass(ha);
	tcp_skip_lines(b, 300);
	harness_sleep_ms(15000);
	assert_int_equal(tcp_sends(b, "/who\r\n"), 0);
	assert_true(line_within(b, "* Present: bob", 5000));
	assert_false(line_within(b, "On another host", 1000));
	clients_close((int[]){ a, a2, b }, 3);
	harness_stop_clean(hb);
	harness_free(hb);
	redis_server_stop();
}

static void
events_no_sockd_wrote_are_refused_or_cleaned(void **state)
{
	struct harness	*h = *state;
	int		 rport = redis_server_start_or_skip();
	int		 port = harness_port(), c;
	char		 nick[CHAT_NICK], buf[64], line[512];
	const char	*junk[3] = { "PUBLISH", "sockd:chat:lobby", "junk" };
	const char	*bad[3] = { "PUBLISH", "sockd:chat:lobby",
	    "sockd-chat/1 00000000000000ff 1 T mallory\n\033[2Jhi\007 there" };

	host_start(h, port, rport);
	c = chat_join(port, nick, sizeof(nick));
	assert_true(c >= 0);
	assert_int_equal(redis_server_cmd(rport, buf, sizeof(buf), 3, junk),
	    0);
	assert_int_equal(redis_server_cmd(rport, buf, sizeof(buf), 3, bad),
	    0);
	assert_true(tcp_recv_line(c, line, sizeof(line), 5000) > 0);
	assert_non_null(strstr(line, "<mallory> hi there"));
	assert_null(strchr(line, '\033'));
	assert_null(strchr(line, '\007'));
	assert_true(tcp_quiet(c, 300));
	client_close(c);
	harness_stop_clean(h);
	redis_server_stop();
}

static void
a_bad_bus_setting_is_an_error_with_its_line(void **state)
{
	struct harness	*h = *state;
	const char	*conf;

	conf = harness_write(h, "bad.conf", "daemon: {\n\tlog = \"stderr\";\n"
	    "\tbus = \"http://127.0.0.1\";\n};\n"
	    "services = ({ name = \"chat\"; port = %d; });\n",
	    harness_port());
	assert_int_equal(harness_check(h, conf), 1);
	assert_non_null(strstr(harness_stderr(h), "bad.conf:3: bus "
	    "\"http://127.0.0.1\": expected"));
	conf = harness_write(h, "bad.conf", "daemon: {\n\tbus = "
	    "\"redis://127.0.0.1:99999\";\n};\n"
	    "services = ({ name = \"chat\"; port = %d; options = { room = "
	    "\"a b\"; }; });\n", harness_port());
	assert_int_equal(harness_check(h, conf), 1);
	assert_non_null(strstr(harness_stderr(h), "bad.conf:2: bus "));
	assert_non_null(strstr(harness_stderr(h), "bad.conf:4: "));
	assert_non_null(strstr(harness_stderr(h), "room must be"));
	harness_pass(h);
}

/* A failed test ends before its redis_server_stop(). */
static int
bus_teardown(void **state)
{
	redis_server_stop();
	return harness_teardown(state);
}

#undef HARNESS_TEST
#define HARNESS_TEST(f)	cmocka_unit_test_setup_teardown(f, \
			    harness_setup, bus_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		HARNESS_TEST(a_room_spans_two_hosts_and_each_event_arrives_once),
		HARNESS_TEST(history_on_joining_one_host_has_lines_of_the_other),
		HARNESS_TEST(
		    rooms_go_on_without_redis_and_span_hosts_again_when_it_returns),
		HARNESS_TEST(who_lists_both_hosts_and_never_a_crashed_one),
		HARNESS_TEST(
		    a_reload_that_changes_the_room_keeps_its_members_on_the_bus),
		HARNESS_TEST(events_no_sockd_wrote_are_refused_or_cleaned),
		HARNESS_TEST(a_bad_bus_setting_is_an_error_with_its_line),
	};

	return HARNESS_RUN(tests);
}
