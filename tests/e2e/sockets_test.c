/*
 * Listening sockets: the options a service sets on them reach the
 * connections (keepalive and its timers, buffer sizes), v6only = false
 * serves IPv4 on "::", and with several workers every source address
 * lands on one worker, so per_source and rate hold exactly across workers
 * and a UDP flood from one source occupies one worker only.  The steering
 * tests need SO_REUSEPORT groups, which sockd forms only as root.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

/* The output of "ss ARGS" (a shell command line) into buf. */
static const char *
ss(char *buf, size_t len, const char *fmt, ...)
{
	char cmd[256];
	va_list ap;
	size_t n;
	FILE *fp;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	buf[0] = '\0';
	if ((fp = popen(cmd, "r")) == NULL)
		return buf;
	n = fread(buf, 1, len - 1, fp);
	buf[n] = '\0';
	(void)pclose(fp);
	return buf;
}

static void
the_check_reports_bind_and_include_errors_with_file_and_line(void **state)
{
	struct harness *h = *state;
	char sub[512], want[600];
	const char *path, *err;
	int off = harness_daemon_lines();

	/* Each used to pass "sockd -t" and then fail at start, or make
	 * libconfig exit 2 without a line. */
	path = harness_write(h, "bad.conf", "%sservices = (\n"
	    "{ name = \"echo\"; port = %d; bind = [\"127.0.0.1\",\n"
	    "  \"127.0.0.1\"]; },\n"
	    "{ name = \"upper\"; port = %d;\n"
	    "  bind = \"::ffff:127.0.0.1\"; quit = \"\"; }\n"
	    ");\n", harness_daemon_section(), harness_port(), harness_port());
	assert_int_equal(harness_check(h, path), 1);
	err = harness_stderr(h);
	snprintf(want, sizeof(want), "%s:%d: bind \"127.0.0.1\": listed twice",
	    path, off + 3);
	assert_non_null(strstr(err, want));
	snprintf(want, sizeof(want), "%s:%d: bind \"::ffff:127.0.0.1\": an "
	    "IPv4-mapped address", path, off + 5);
	assert_non_null(strstr(err, want));
	snprintf(want, sizeof(want), "%s:%d: quit: the empty string", path,
	    off + 5);
	assert_non_null(strstr(err, want));
	snprintf(sub, sizeof(sub), "%s/d", harness_dir(h));
	assert_int_equal(mkdir(sub, 0700), 0);
	path = harness_write(h, "inc.conf", "%s@include \"d\"\n"
	    "@include \"gone\"\nservices = ();\n", harness_daemon_section());
	assert_int_equal(harness_check(h, path), 1);
	snprintf(want, sizeof(want), "cannot include \"%s\": Is a directory",
	    sub);
	assert_non_null(strstr(harness_stderr(h), want));
	snprintf(want, sizeof(want), "%s:%d: cannot include", path, off + 1);
	assert_non_null(strstr(harness_stderr(h), want));
	(void)rmdir(sub);
	harness_pass(h);
}

static void
an_accepted_connection_has_keepalive_timers_unless_turned_off(void **state)
{
	struct harness *h = *state;
	int port = harness_port(), port2 = harness_port(), fd, fd2, secs;
	char out[4096];
	const char *p;

	harness_serve(h, "services = ({ name = \"echo\"; port = %d; "
	    "bind = \"127.0.0.1\"; idle_timeout = 0; },\n"
	    "{ name = \"off\"; handler = \"echo\"; port = %d; "
	    "bind = \"127.0.0.1\"; keepalive = false; });\n", port, port2);
	fd = tcp_open("127.0.0.1", port);
	fd2 = tcp_open("127.0.0.1", port2);
	assert_true(echo_ok(fd, "hi\n"));
	assert_true(echo_ok(fd2, "hi\n"));
	/* The daemon's side of the connection: source port = the service. */
	ss(out, sizeof(out), "ss -Htno state established '( sport = :%d )'",
	    port);
	if ((p = strstr(out, "timer:(keepalive,")) == NULL)
		fail_msg("no keepalive timer: %s", out);
	/* TCP_KEEPIDLE is 60 s: the first probe is due within a minute. */
	secs = atoi(p + strlen("timer:(keepalive,"));
	if (strstr(p, "min") != NULL && strstr(p, "min") < strchr(p, ')'))
		secs *= 60;
	if (secs < 30 || secs > 60)
		fail_msg("keepalive timer not about 60 s: %s", out);
	ss(out, sizeof(out), "ss -Htno state established '( sport = :%d )'",
	    port2);
	assert_non_null(strstr(out, "127.0.0.1"));
	if (strstr(out, "keepalive") != NULL)
		fail_msg("keepalive = false, yet: %s", out);
	client_close(fd);
	client_close(fd2);
	harness_stop_clean(h);
}

static void
v6only_false_serves_ipv4_clients_on_the_ipv6_wildcard(void **state)
{
	struct harness *h = *state;
	int port = harness_port();
	char buf[64];

	harness_serve(h, "services = ({ name = \"echo\"; port = %d; "
	    "protocol = [\"tcp\", \"udp\"]; bind = \"::\"; v6only = false; "
	    "});\n", port);
	assert_true(echo_ok_from("127.0.0.1", port, "over ipv4\n"));
	assert_true(echo_ok_from("::1", port, "over ipv6\n"));
	assert_int_equal(udp_ask("127.0.0.1", port, "dgram4", 6, buf,
	    sizeof(buf), 2000), 6);
	assert_int_equal(udp_ask("::1", port, "dgram6", 6, buf, sizeof(buf),
	    2000), 6);
	harness_stop_clean(h);
}

/* The rb (receive buffer) of the socket ss lists for filter, -1 if none. */
static long
ss_rcvbuf(const char *proto_flags, int port)
{
	char out[4096];
	const char *p;

	ss(out, sizeof(out), "ss -Hn%sm '( sport = :%d )'", proto_flags, port);
	if ((p = strstr(out, ",rb")) == NULL)
		return -1;
	return atol(p + 3);
}

static void
rcvbuf_and_the_larger_udp_default_reach_the_sockets(void **state)
{
	struct harness *h = *state;
	int port = harness_port(), port2 = harness_port();
	long rb;

	harness_serve(h, "services = ({ name = \"echo\"; port = %d; "
	    "protocol = [\"tcp\", \"udp\"]; bind = \"127.0.0.1\"; "
	    "rcvbuf = 100000; },\n"
	    "{ name = \"dflt\"; handler = \"echo\"; port = %d; "
	    "protocol = \"udp\"; bind = \"127.0.0.1\"; });\n", port, port2);
	/* Linux doubles the value for its bookkeeping. */
	rb = ss_rcvbuf("ul", port);
	if (rb != 200000)
		fail_msg("udp rcvbuf = 100000 reads back as %ld", rb);
	rb = ss_rcvbuf("tl", port);
	if (rb != 200000)
		fail_msg("tcp rcvbuf = 100000 reads back as %ld", rb);
	/* rcvbuf = 0 on UDP: 4 MiB, or as much as the kernel allows; at
	 * least more than its usual 208 KiB default. */
	rb = ss_rcvbuf("ul", port2);
	if (rb < (geteuid() == 0 ? 8L << 20 : 425985))
		fail_msg("default udp rcvbuf reads back as %ld", rb);
	harness_stop_clean(h);
}

static int
root_or_skip(void)
{
	if (geteuid() == 0)
		return 1;
	print_message("skipped: workers share sockets only as root\n");
	skip();
	return 0;
}

static void
per_source_holds_across_workers_for_one_address(void **state)
{
	struct harness *h = *state;
	int port = harness_port(), fds[4], other, round, i;

	if (!root_or_skip())
		return;
	harness_serve_quiet(h, 2, "services = ({ name = \"echo\"; port = %d; "
	    "bind = \"127.0.0.1\"; per_source = 3; rate = 0; });\n", port);
	assert_true(harness_log_has(h, "2 workers"));
	/* Spread over two workers by connection, 3 of 4 connections would
	 * pass on each: the fourth would get through 7 times in 8. */
	for (round = 0; round < 5; round++) {
		for (i = 0; i < 3; i++) {
			fds[i] = tcp_open_from("127.0.0.2", port);
			if (!echo_ok(fds[i], "mine\n"))
				fail_msg("round %d: connection %d refused",
				    round, i);
		}
		fds[3] = tcp_open_from("127.0.0.2", port);
		if (fds[3] != -1 && !tcp_closed(fds[3], 3000))
			fail_msg("round %d: a fourth connection from one "
			    "address was served", round);
		other = tcp_open_from("127.0.0.3", port);
		assert_true(echo_ok(other, "someone else\n"));
		clients_close(fds, 4);
		client_close(other);
		/* Until the daemon has seen the closes, they still count. */
		harness_sleep_ms(harness_ms(500));
	}
	assert_true(harness_log_has(h, "per_source (3) reached"));
	harness_stop_clean(h);
}

static void
per_source_holds_across_workers_over_ipv6_and_dual_stack(void **state)
{
	struct harness *h = *state;
	int port = harness_port(), fds[4], round, i;
	const char *src;

	if (!root_or_skip())
		return;
	/* One dual-stack socket per worker: the program reads IPv6 and
	 * IPv4 headers on it. */
	harness_serve_quiet(h, 2, "services = ({ name = \"echo\"; port = %d; "
	    "bind = \"::\"; v6only = false; per_source = 3; rate = 0; });\n",
	    port);
	for (round = 0; round < 6; round++) {
		src = round % 2 ? "127.0.0.2" : "::1";
		for (i = 0; i < 4; i++)
			fds[i] = tcp_open_from(src, port);
		for (i = 0; i < 3; i++)
			if (!echo_ok(fds[i], "mine\n"))
				fail_msg("round %d: connection %d from %s "
				    "refused", round, i, src);
		if (fds[3] != -1 && !tcp_closed(fds[3], 3000))
			fail_msg("round %d: a fourth connection from %s was "
			    "served", round, src);
		clients_close(fds, 4);
		harness_sleep_ms(harness_ms(500));
	}
	harness_stop_clean(h);
}

/* Sends one datagram from src on a new socket (a new source port each
 * time, as the kernel would spread them by port) and returns the socket. */
static int
udp_once(const char *src, int port, const char *msg)
{
	int fd = udp_open_from(src, 0, port);

	if (fd != -1)
		(void)udp_send(fd, msg, strlen(msg));
	return fd;
}

static void
rate_holds_across_workers_for_one_address(void **state)
{
	struct harness *h = *state;
	int port = harness_port(), fds[20], i, answered = 0, other, most;
	long long start;
	char buf[64];

	if (!root_or_skip())
		return;
	harness_serve_quiet(h, 2, "services = ({ name = \"echo\"; port = %d; "
	    "protocol = \"udp\"; bind = \"127.0.0.1\"; per_source = 0; "
	    "rate = 5; burst = 5; });\n", port);
	start = harness_now_ms();
	for (i = 0; i < 20; i++)
		assert_int_not_equal(fds[i] = udp_once("127.0.0.2", port,
		    "x"), -1);
	/* The burst, plus what 5 per second refilled while sending (a
	 * loaded machine may be slow to send); per worker it would be
	 * twice the burst. */
	most = 5 + (int)((harness_now_ms() - start) * 5 / 1000) + 1;
	for (i = 0; i < 20; i++)
		if (udp_recv(fds[i], buf, sizeof(buf), 300) == 1)
			answered++;
	clients_close(fds, 20);
	if (answered < 5 || answered > most)
		fail_msg("one source got %d answers, its burst is 5 (at most "
		    "%d here)", answered, most);
	other = udp_once("127.0.0.3", port, "y");
	assert_int_equal(udp_recv(other, buf, sizeof(buf), 2000), 1);
	client_close(other);
	harness_stop_clean(h);
}

/* The flooding child: as fast as it can for ms, from 16 source ports of
 * src, so that a hash of the whole 4-tuple would spread it. */
static void
flood(const char *src, int port, int ms)
{
	long long end = harness_now_ms() + ms;
	int fds[16], i;

	alarm((unsigned int)(ms / 1000 + 5));
	for (i = 0; i < 16; i++)
		if ((fds[i] = udp_open_from(src, 0, port)) == -1)
			_exit(1);
	while (harness_now_ms() < end)
		for (i = 0; i < 16; i++)
			(void)send(fds[i], "flood", 5, 0);
	_exit(0);
}

static void
a_udp_flood_from_one_source_leaves_another_source_answered(void **state)
{
	struct harness *h = *state;
	int port = harness_port(), fd, asked = 0, answered = 0, status, i;
	long long end;
	char buf[64];
	pid_t pid[2];

	if (harness_valgrind())
		skip();		/* a share of a flood says nothing there */
	if (!root_or_skip())
		return;
	/* 127.0.0.2 and .3 are consecutive: they land on different
	 * workers of two. */
	harness_serve_quiet(h, 2, "services = ({ name = \"echo\"; port = %d; "
	    "protocol = \"udp\"; bind = \"127.0.0.1\"; per_source = 0; "
	    "rate = 0; });\n", port);
	/* Two flooders: more than a worker can take on this machine. */
	for (i = 0; i < 2; i++) {
		if ((pid[i] = fork()) == 0)
			flood("127.0.0.2", port, 2000);
		assert_true(pid[i] > 0);
	}
	harness_sleep_ms(200);
	fd = udp_open_from("127.0.0.3", 0, port);
	assert_int_not_equal(fd, -1);
	end = harness_now_ms() + 1500;
	while (harness_now_ms() < end) {
		snprintf(buf, sizeof(buf), "ask %d", asked);
		(void)udp_send(fd, buf, strlen(buf));
		asked++;
		/* Skip late answers to earlier questions. */
		while (udp_recv(fd, buf, sizeof(buf), 500) > 0) {
			if (atoi(buf + 4) == asked - 1 &&
			    strncmp(buf, "ask ", 4) == 0) {
				answered++;
				break;
			}
		}
		harness_sleep_ms(10);
	}
	client_close(fd);
	for (i = 0; i < 2; i++)
		assert_int_equal(waitpid(pid[i], &status, 0), pid[i]);
	print_message("answered %d of %d during the flood\n", answered, asked);
	if (answered * 100 < asked * 80)
		fail_msg("only %d of %d answered during a flood from another "
		    "source", answered, asked);
	assert_true(asked >= 10);
	harness_stop_clean(h);
}

#define T(f)	HARNESS_TEST(f)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(the_check_reports_bind_and_include_errors_with_file_and_line),
		T(an_accepted_connection_has_keepalive_timers_unless_turned_off),
		T(v6only_false_serves_ipv4_clients_on_the_ipv6_wildcard),
		T(rcvbuf_and_the_larger_udp_default_reach_the_sockets),
		T(per_source_holds_across_workers_for_one_address),
		T(per_source_holds_across_workers_over_ipv6_and_dual_stack),
		T(rate_holds_across_workers_for_one_address),
		T(a_udp_flood_from_one_source_leaves_another_source_answered),
	};

	return HARNESS_RUN(tests);
}
