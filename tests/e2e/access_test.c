/*
 * Access records, against the real daemon at its default level (info):
 * with log_connections, every connection that ends leaves exactly one
 * line, "SERVICE PEER: closed: reason=... duration=...s in=N out=N", with
 * why it ended (end of file, quit word, idle, slow reader, drain, stop,
 * reset) and the bytes read and written; a refused one leaves "refused:
 * reason=..." in the same shape, and what the log budget held back is
 * told, not lost.  Without log_connections nothing is
 * logged per connection at info; a service's log_level hides its own
 * records, or shows its debug lines, without touching the others.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/socket.h>
#include <netinet/in.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

struct record {
	char			 reason[32];
	double			 secs;
	unsigned long long	 in, out;
	char			 line[512];
};

/* The local port of client socket fd. */
static int
client_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

/* Waits for the "what" record ("closed" or "refused") of service svc's
 * client on 127.0.0.1:cport, fails unless there is exactly one, and
 * reads it into r. */
static void
record_get(struct harness *h, const char *svc, int cport, const char *what,
    struct record *r)
{
	char needle[128];
	const char *line, *p;

	snprintf(needle, sizeof(needle), "%s 127.0.0.1:%d: %s: reason=", svc,
	    cport, what);
	if (!harness_log_wait(h, needle, harness_ms(10000)))
		fail_msg("no \"%s\" record", needle);
	/* Any second one would be written at the same time. */
	harness_sleep_ms(harness_ms(200));
	assert_int_equal(harness_log_count(h, needle), 1);
	line = harness_log_line(h, needle);
	snprintf(r->line, sizeof(r->line), "%s", line);
	p = strstr(r->line, "reason=");
	if (sscanf(p, "reason=%31s duration=%lfs in=%llu out=%llu", r->reason,
	    &r->secs, &r->in, &r->out) != 4)
		fail_msg("not a record: %s", r->line);
	print_message("%s\n", r->line);
}

/* An echo round trip of n bytes on fd. */
static void
echo_bytes(int fd, size_t n)
{
	char out[4096], in[4096];
	size_t i;

	assert_true(n <= sizeof(out));
	for (i = 0; i < n; i++)
		out[i] = (char)('a' + i % 26);
	if (n > 0)
		out[n - 1] = '\n';
	assert_int_equal(tcp_send(fd, out, n), 0);
	assert_int_equal(tcp_recv_n(fd, in, n, harness_ms(5000)), (ssize_t)n);
	assert_memory_equal(in, out, n);
}

#define ECHO	"services = ({ name = \"echo\"; port = %d; " \
		"bind = \"127.0.0.1\"; log_connections = true; "

static void
a_connection_the_peer_ends_has_one_record_with_its_bytes_and_duration(
    void **state)
{
	struct harness *h = *state;
	struct record r;
	int port = harness_port(), fd, cport;
	long long t0;

	harness_serve_quiet(h, 0, ECHO "});\n", port);
	assert_int_not_equal(fd = tcp_open("127.0.0.1", port), -1);
	t0 = harness_now_ms();
	cport = client_port(fd);
	echo_bytes(fd, 1000);
	echo_bytes(fd, 234);
	harness_sleep_ms(500);
	client_close(fd);
	record_get(h, "echo", cport, "closed", &r);
	assert_string_equal(r.reason, "eof");
	assert_int_equal(r.in, 1234);
	assert_int_equal(r.out, 1234);
	assert_true(r.secs >= 0.45);
	assert_true(r.secs <= (harness_now_ms() - t0) / 1000.0 + 0.1);
	harness_stop_clean(h);
}

static void
the_quit_word_is_the_reason_and_counted_in_the_bytes(void **state)
{
	struct harness *h = *state;
	struct record r;
	int port = harness_port(), fd, cport;

	harness_serve_quiet(h, 0, ECHO "quit = \"q\"; });\n", port);
	assert_int_not_equal(fd = tcp_open("127.0.0.1", port), -1);
	cport = client_port(fd);
	echo_bytes(fd, 6);
	assert_int_equal(tcp_sends(fd, "q\n"), 0);
	assert_true(tcp_closed(fd, harness_ms(5000)));
	record_get(h, "echo", cport, "closed", &r);
	assert_string_equal(r.reason, "quit");
	assert_int_equal(r.in, 8);
	assert_int_equal(r.out, 6);
	client_close(fd);
	harness_stop_clean(h);
}

static void
an_idle_connection_is_recorded_as_idle_after_its_timeout(void **state)
{
	struct harness *h = *state;
	struct record r;
	int port = harness_port(), fd, cport;

	harness_serve_quiet(h, 0, ECHO "idle_timeout = 1; });\n", port);
	assert_int_not_equal(fd = tcp_open("127.0.0.1", port), -1);
	cport = client_port(fd);
	echo_bytes(fd, 100);
	assert_true(tcp_closed(fd, harness_ms(10000)));
	record_get(h, "echo", cport, "closed", &r);
	assert_string_equal(r.reason, "idle");
	assert_int_equal(r.in, 100);
	assert_int_equal(r.out, 100);
	/* Closed at most one idle_timeout late, give or take a tick (and
	 * a loaded machine). */
	assert_true(r.secs >= 0.99);
	assert_true(r.secs < harness_ms(10000) / 1000.0);
	client_close(fd);
	harness_stop_clean(h);
}

static void
a_reset_is_recorded_as_an_error_that_names_it(void **state)
{
	struct harness *h = *state;
	struct linger lg = { 1, 0 };
	struct record r;
	int port = harness_port(), fd, cport;

	harness_serve_quiet(h, 0, ECHO "});\n", port);
	assert_int_not_equal(fd = tcp_open("127.0.0.1", port), -1);
	cport = client_port(fd);
	echo_bytes(fd, 10);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg,
	    sizeof(lg)), 0);
	client_close(fd);
	record_get(h, "echo", cport, "closed", &r);
	assert_string_equal(r.reason, "error");
	assert_non_null(strstr(r.line, " error=ECONNRESET"));
	assert_int_equal(r.in, 10);
	assert_int_equal(r.out, 10);
	harness_stop_clean(h);
}

static void
a_chat_member_that_stops_reading_is_recorded_as_a_slow_reader(
    void **state)
{
	struct harness *h = *state;
	char nick[1][CHAT_NICK], line[1100], pad[1000];
	struct record r;
	int port = harness_port(), c, slow, cport, i;

	harness_serve_quiet(h, 0, "services = ({ name = \"chat\"; port = %d; "
	    "bind = \"127.0.0.1\"; log_connections = true; max_queue = 4096; "
	    "sndbuf = 4096; options = { history = 0; }; });\n", port);
	assert_int_not_equal(slow = tcp_open_rcvbuf("127.0.0.1", port, 1024),
	    -1);
	cport = client_port(slow);
	chat_join_all(port, 1, &c, nick);
	memset(pad, 'z', sizeof(pad));
	pad[sizeof(pad) - 1] = '\0';
	/* Far more than the slow one's buffers and max_queue hold. */
	for (i = 0; i < 1000 && !harness_log_has(h, "slow reader"); i++) {
		snprintf(line, sizeof(line), "flood %04d %s\n", i, pad);
		assert_int_equal(tcp_sends(c, line), 0);
		while (tcp_recv_line(c, line, sizeof(line), 0) > 0)
			;
	}
	record_get(h, "chat", cport, "closed", &r);
	assert_string_equal(r.reason, "slow_reader");
	assert_int_equal(r.in, 0);
	assert_true(r.out > 0);
	assert_true(tcp_closed(slow, harness_ms(5000)));
	client_close(slow);
	client_close(c);
	harness_stop_clean(h);
}

static void
a_connection_cut_by_drain_timeout_is_recorded_as_drain(void **state)
{
	struct harness *h = *state;
	struct record r;
	int port = harness_port(), fd, cport;

	harness_drain_timeout(1);
	harness_serve_quiet(h, 0, ECHO "});\n", port);
	assert_int_not_equal(fd = tcp_open("127.0.0.1", port), -1);
	cport = client_port(fd);
	echo_bytes(fd, 42);
	assert_int_equal(harness_signal(h, SIGTERM), 0);
	assert_int_equal(harness_wait_exit(h, harness_ms(10000)), 0);
	record_get(h, "echo", cport, "closed", &r);
	assert_string_equal(r.reason, "drain");
	assert_int_equal(r.in, 42);
	assert_int_equal(r.out, 42);
	assert_true(r.secs >= 0.99);
	client_close(fd);
	harness_pass(h);
}

static void
a_connection_closed_at_a_second_sigterm_is_recorded_as_stop(void **state)
{
	struct harness *h = *state;
	struct record r;
	int port = harness_port(), fd, cport;

	harness_drain_timeout(30);
	harness_serve_quiet(h, 0, ECHO "});\n", port);
	assert_int_not_equal(fd = tcp_open("127.0.0.1", port), -1);
	cport = client_port(fd);
	echo_bytes(fd, 3);
	assert_int_equal(harness_signal(h, SIGTERM), 0);
	assert_true(harness_log_wait(h, "waiting up to", harness_ms(5000)));
	assert_int_equal(harness_signal(h, SIGTERM), 0);
	assert_int_equal(harness_wait_exit(h, harness_ms(10000)), 0);
	record_get(h, "echo", cport, "closed", &r);
	assert_string_equal(r.reason, "stop");
	assert_int_equal(r.in, 3);
	assert_int_equal(r.out, 3);
	client_close(fd);
	harness_pass(h);
}

static void
a_refused_connection_has_a_record_of_the_same_shape(void **state)
{
	struct harness *h = *state;
	struct record r;
	int port = harness_port(), a, b, acport, bcport;

	harness_serve_quiet(h, 0, ECHO "per_source = 1; "
	    "busy = \"busy\\r\\n\"; });\n", port);
	assert_int_not_equal(a = tcp_open("127.0.0.1", port), -1);
	acport = client_port(a);
	echo_bytes(a, 5);
	assert_int_not_equal(b = tcp_open("127.0.0.1", port), -1);
	bcport = client_port(b);
	assert_true(tcp_expect(b, "busy", harness_ms(5000)));
	assert_true(tcp_closed(b, harness_ms(5000)));
	record_get(h, "echo", bcport, "refused", &r);
	assert_string_equal(r.reason, "per_source");
	assert_true(r.secs == 0.0);
	assert_int_equal(r.in, 0);
	assert_int_equal(r.out, 6);
	/* Refused: nothing closed it later. */
	assert_false(harness_log_count(h, ": closed: ") > 0);
	client_close(a);
	record_get(h, "echo", acport, "closed", &r);
	assert_string_equal(r.reason, "eof");
	client_close(b);
	harness_stop_clean(h);
}

static void
without_log_connections_nothing_is_logged_per_connection_at_info(
    void **state)
{
	struct harness *h = *state;
	int port = harness_port(), fd, i;

	harness_serve_quiet(h, 0, "services = ({ name = \"echo\"; port = %d; "
	    "bind = \"127.0.0.1\"; quit = \"q\"; idle_timeout = 1; });\n",
	    port);
	for (i = 0; i < 3; i++) {
		assert_int_not_equal(fd = tcp_open("127.0.0.1", port), -1);
		echo_bytes(fd, 10);
		if (i == 1)
			assert_int_equal(tcp_sends(fd, "q\n"), 0);
		if (i == 2)
			assert_true(tcp_closed(fd, harness_ms(10000)));
		client_close(fd);
	}
	assert_int_equal(harness_stop(h), 0);
	assert_false(harness_log_has(h, "reason="));
	assert_false(harness_log_has(h, "echo 127.0.0.1:"));
	harness_pass(h);
}

static void
a_service_log_level_hides_or_shows_its_own_lines_only(void **state)
{
	struct harness *h = *state;
	struct record r;
	int port = harness_port(), port2 = harness_port(),
	    port3 = harness_port(), a, b, c, d, bcport, dcport;

	harness_serve_quiet(h, 0, "services = ("
	    "{ name = \"quiet\"; handler = \"echo\"; port = %d; "
	    "bind = \"127.0.0.1\"; log_connections = true; "
	    "log_level = \"warning\"; per_source = 1; },"
	    "{ name = \"loud\"; handler = \"echo\"; port = %d; "
	    "bind = \"127.0.0.1\"; log_connections = true; },"
	    "{ name = \"close\"; handler = \"echo\"; port = %d; "
	    "bind = \"127.0.0.1\"; log_level = \"debug\"; });\n",
	    port, port2, port3);
	assert_int_not_equal(a = tcp_open("127.0.0.1", port), -1);
	echo_bytes(a, 10);
	/* A refusal is a warning: still written. */
	assert_int_not_equal(b = tcp_open("127.0.0.1", port), -1);
	bcport = client_port(b);
	assert_true(tcp_closed(b, harness_ms(5000)));
	record_get(h, "quiet", bcport, "refused", &r);
	assert_string_equal(r.reason, "per_source");
	client_close(a);
	client_close(b);
	assert_int_not_equal(c = tcp_open("127.0.0.1", port2), -1);
	echo_bytes(c, 10);
	client_close(c);
	/* The debug service: its own lines at debug, with the daemon at
	 * info. */
	assert_int_not_equal(d = tcp_open("127.0.0.1", port3), -1);
	dcport = client_port(d);
	echo_bytes(d, 7);
	client_close(d);
	record_get(h, "close", dcport, "closed", &r);
	assert_string_equal(r.reason, "eof");
	assert_int_equal(r.in, 7);
	assert_int_equal(harness_log_count(h, ": open"), 1);
	assert_non_null(strstr(harness_log_line(h, ": open"),
	    "close 127.0.0.1:"));
	assert_int_equal(harness_stop(h), 0);
	assert_int_equal(harness_log_count(h, "loud 127.0.0.1:"), 1);
	assert_int_equal(harness_log_count(h, ": closed: "), 2);
	harness_pass(h);
}

static void
refusals_past_the_log_budget_are_counted_not_lost(void **state)
{
	struct harness *h = *state;
	int port = harness_port(), a, b[15], i, lines;
	long long t0;

	harness_serve_quiet(h, 0, ECHO "per_source = 1; });\n", port);
	assert_int_not_equal(a = tcp_open("127.0.0.1", port), -1);
	echo_bytes(a, 5);
	t0 = harness_now_ms();
	for (i = 0; i < 15; i++) {
		assert_int_not_equal(b[i] = tcp_open("127.0.0.1", port), -1);
		assert_true(tcp_closed(b[i], harness_ms(5000)));
	}
	/* 10 lines per 10 s; the other 5 are told once the 10 s are over,
	 * though no line follows them. */
	assert_true(harness_log_wait(h, "echo: 5 similar lines suppressed",
	    harness_ms(20000)));
	print_message("told after %lld ms\n", harness_now_ms() - t0);
	lines = harness_log_count(h, "refused: reason=per_source");
	assert_int_equal(lines, 10);
	clients_close(b, 15);
	client_close(a);
	harness_stop_clean(h);
}

#define T(f)	HARNESS_TEST(f)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(a_connection_the_peer_ends_has_one_record_with_its_bytes_and_duration),
		T(the_quit_word_is_the_reason_and_counted_in_the_bytes),
		T(an_idle_connection_is_recorded_as_idle_after_its_timeout),
		T(a_reset_is_recorded_as_an_error_that_names_it),
		T(a_chat_member_that_stops_reading_is_recorded_as_a_slow_reader),
		T(a_connection_cut_by_drain_timeout_is_recorded_as_drain),
		T(a_connection_closed_at_a_second_sigterm_is_recorded_as_stop),
		T(a_refused_connection_has_a_record_of_the_same_shape),
		T(without_log_connections_nothing_is_logged_per_connection_at_info),
		T(a_service_log_level_hides_or_shows_its_own_lines_only),
		T(refusals_past_the_log_budget_are_counted_not_lost),
	};

	return HARNESS_RUN(tests);
}
