/*
 * The built-in metrics handler: after known traffic (echo connections and
 * datagrams, a connection refused by per_source, a reload that fails and
 * one that works) a scrape reports exact counts, with one worker and with
 * two, and counters of unchanged services survive the reload; promtool
 * (Debian package prometheus) accepts the text.  The HTTP side: 404, 405,
 * 400, HEAD, keep-alive and close as HTTP/1.0 and 1.1 say, pipelining,
 * the 8 KiB cap.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define DEFAULTS \
	"defaults: { " LOOPBACK " per_source = 0; rate = 0; };\n"

/* One response on fd: its head lines into head (NUL-terminated), and,
 * unless head_only, its body (Content-Length bytes) into body.  Returns
 * the status code, -1 when no whole response came within 5 s. */
static int
http_read(int fd, char *head, size_t hsize, char *body, size_t bsize,
    int head_only)
{
	char line[1024];
	size_t hlen = 0;
	long clen = -1;
	int status = -1;
	ssize_t n;

	head[0] = '\0';
	if (body != NULL)
		body[0] = '\0';
	for (;;) {
		if ((n = tcp_recv_line(fd, line, sizeof(line), 5000)) <= 0)
			return -1;
		if (status == -1 && sscanf(line, "HTTP/1.1 %d ", &status) != 1)
			return -1;
		if (strncasecmp(line, "Content-Length:", 15) == 0)
			clen = strtol(line + 15, NULL, 10);
		if (hlen + (size_t)n < hsize) {
			memcpy(head + hlen, line, (size_t)n + 1);
			hlen += (size_t)n;
		}
		if (strcmp(line, "\r\n") == 0)
			break;
	}
	if (clen < 0)
		return -1;
	if (head_only || clen == 0)
		return status;
	if ((size_t)clen >= bsize ||
	    tcp_recv_n(fd, body, (size_t)clen, 5000) != clen)
		return -1;
	body[clen] = '\0';
	return status;
}

/* GET /metrics on a new connection into body; fails the test unless it
 * answers 200 and closes (HTTP/1.0). */
static void
scrape(int port, char *body, size_t size)
{
	char head[2048];
	int fd;

	assert_int_not_equal(fd = tcp_open("127.0.0.1", port), -1);
	assert_int_equal(tcp_sends(fd, "GET /metrics HTTP/1.0\r\n\r\n"), 0);
	assert_int_equal(http_read(fd, head, sizeof(head), body, size, 0),
	    200);
	assert_non_null(strstr(head,
	    "Content-Type: text/plain; version=0.0.4"));
	assert_true(tcp_closed(fd, 5000));
	client_close(fd);
}

/* The value of the sample series ("name{labels}") in text, -1 when it is
 * not there. */
static double
sample(const char *text, const char *series)
{
	size_t len = strlen(series);
	const char *p = text;

	while ((p = strstr(p, series)) != NULL) {
		if ((p == text || p[-1] == '\n') && p[len] == ' ')
			return strtod(p + len + 1, NULL);
		p += len;
	}
	return -1;
}

/* Scrapes until series reads want; fails the test after 10 s. */
static void
assert_sample_soon(int port, const char *series, double want)
{
	static char body[65536];
	long long deadline = harness_now_ms() + harness_ms(10000);
	double v;

	for (;;) {
		scrape(port, body, sizeof(body));
		if ((v = sample(body, series)) == want)
			return;
		if (harness_now_ms() > deadline) {
			fprintf(stderr, "%s is %g, want %g\n", series, v, want);
			fail();
		}
		harness_sleep_ms(50);
	}
}

static void
assert_sample(const char *text, const char *series, double want)
{
	double v = sample(text, series);

	if (v != want) {
		fprintf(stderr, "%s is %g, want %g\n", series, v, want);
		fail();
	}
}

/* promtool check metrics on text; skipped with a message when promtool
 * is not installed. */
static void
assert_promtool_accepts(struct harness *h, const char *text)
{
	char cmd[4096];
	const char *file;
	int rc;

	if (system("command -v promtool >/dev/null 2>&1") != 0) {
		fprintf(stderr, "promtool not found (Debian package "
		    "prometheus): format check skipped\n");
		return;
	}
	file = harness_write(h, "scrape.txt", "%s", text);
	snprintf(cmd, sizeof(cmd), "timeout 60 promtool check metrics "
	    "< '%s' > '%s/promtool.out' 2>&1", file, harness_dir(h));
	rc = system(cmd);
	if (rc != 0) {
		snprintf(cmd, sizeof(cmd), "cat '%s/promtool.out' >&2",
		    harness_dir(h));
		if (system(cmd) != 0)
			print_message("(promtool's output could not be shown)\n");
	}
	assert_int_equal(rc, 0);
}

#define N_CONNS		10
#define M_DGRAMS	7

#define SERVICES_FMT \
	"services = (\n" \
	"  { name = \"echo\"; port = %d; protocol = [\"tcp\", \"udp\"]; },\n" \
	"  { name = \"limited\"; port = %d; handler = \"echo\"; " \
	"per_source = 1; },\n" \
	"  { name = \"metrics\"; port = %d; bind = \"127.0.0.1\"; " \
	"handler = \"metrics\"; }\n" \
	");\n"

/* Rewrites the config file sockd runs on. */
static void
write_conf(struct harness *h, const char *text)
{
	FILE *f;

	assert_non_null(f = fopen(harness_conf(h), "w"));
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static void
known_traffic_gives_exact_counts(struct harness *h, int workers)
{
	static char body[65536], conf[8192];
	int echo = harness_port(), lim = harness_port(), mp = harness_port();
	int fds[N_CONNS], held, again, i;
	char buf[64];
	double t0 = (double)time(NULL);

	/* What harness_serve_quiet() writes, for the reload. */
	snprintf(conf, sizeof(conf), "%s" DEFAULTS SERVICES_FMT,
	    harness_quiet_section(workers), echo, lim, mp);
	harness_serve_quiet(h, workers, DEFAULTS SERVICES_FMT, echo, lim, mp);

	/* N echo connections, each one round trip of 6 bytes, held open. */
	for (i = 0; i < N_CONNS; i++) {
		assert_int_not_equal(fds[i] = tcp_open(i % 2 ? "::1" :
		    "127.0.0.1", echo), -1);
		assert_true(echo_ok(fds[i], "hello\n"));
	}
	scrape(mp, body, sizeof(body));
	assert_sample(body, "sockd_connections_open{service=\"echo\"}",
	    N_CONNS);
	clients_close(fds, N_CONNS);
	/* M datagrams of 5 bytes, each answered. */
	for (i = 0; i < M_DGRAMS; i++)
		assert_int_equal(udp_ask("127.0.0.1", echo, "dgram", 5, buf,
		    sizeof(buf), 3000), 5);
	/* One connection refused by per_source = 1. */
	assert_int_not_equal(held = tcp_open("127.0.0.1", lim), -1);
	assert_true(echo_ok(held, "mine\n"));
	assert_int_not_equal(again = tcp_open("127.0.0.1", lim), -1);
	assert_true(tcp_closed(again, 5000));
	client_close(again);
	client_close(held);

	/* A reload that fails, then one that works on the same services. */
	write_conf(h, "services = (\n");
	assert_int_equal(harness_signal(h, SIGHUP), 0);
	assert_non_null(harness_notify(h, "reload failed", 10000));
	write_conf(h, conf);
	assert_int_equal(harness_signal(h, SIGHUP), 0);
	assert_true(harness_log_wait(h, "reload done", 10000));

	assert_sample_soon(mp, "sockd_connections_open{service=\"echo\"}", 0);
	scrape(mp, body, sizeof(body));
	assert_sample(body, "sockd_connections_accepted_total"
	    "{service=\"echo\"}", N_CONNS);
	assert_sample(body, "sockd_bytes_received_total{service=\"echo\","
	    "protocol=\"tcp\"}", 6 * N_CONNS);
	assert_sample(body, "sockd_bytes_sent_total{service=\"echo\","
	    "protocol=\"tcp\"}", 6 * N_CONNS);
	assert_sample(body, "sockd_datagrams_received_total"
	    "{service=\"echo\"}", M_DGRAMS);
	assert_sample(body, "sockd_datagrams_replied_total"
	    "{service=\"echo\"}", M_DGRAMS);
	assert_sample(body, "sockd_bytes_received_total{service=\"echo\","
	    "protocol=\"udp\"}", 5 * M_DGRAMS);
	assert_sample(body, "sockd_bytes_sent_total{service=\"echo\","
	    "protocol=\"udp\"}", 5 * M_DGRAMS);
	assert_sample(body, "sockd_datagrams_dropped_total{service=\"echo\","
	    "reason=\"rate\"}", 0);
	assert_sample(body, "sockd_connections_accepted_total"
	    "{service=\"limited\"}", 1);
	assert_sample(body, "sockd_connections_refused_total"
	    "{service=\"limited\",reason=\"per_source\"}", 1);
	assert_sample(body, "sockd_connections_refused_total"
	    "{service=\"echo\",reason=\"per_source\"}", 0);
	/* limited is TCP only: no datagram series for it. */
	assert_sample(body, "sockd_datagrams_received_total"
	    "{service=\"limited\"}", -1);
	assert_sample(body, "sockd_config_reloads_total{result=\"failure\"}",
	    1);
	assert_sample(body, "sockd_config_reloads_total{result=\"success\"}",
	    1);
	assert_sample(body, "sockd_config_last_reload_successful", 1);
	assert_true(sample(body, "sockd_config_last_reload_success_timestamp"
	    "_seconds") >= t0);
	assert_true(strstr(body, "sockd_build_info{version=\"") != NULL);
	assert_true(sample(body, "process_start_time_seconds") > t0 - 60);
	assert_true(sample(body, "process_resident_memory_bytes") > 0);
	assert_true(sample(body, "process_open_fds") > 0);
	assert_true(sample(body, "process_max_fds") >=
	    sample(body, "process_open_fds"));
	assert_true(sample(body, "process_cpu_seconds_total") >= 0);
	assert_promtool_accepts(h, body);
	harness_stop_clean(h);
}

static void
known_traffic_gives_exact_counts_on_one_worker(void **state)
{
	known_traffic_gives_exact_counts(*state, 1);
}

static void
counts_are_exact_summed_over_two_workers(void **state)
{
	known_traffic_gives_exact_counts(*state, 2);
}

/* A failed reload leaves last_reload_successful at 0. */
static void
a_failed_reload_shows_in_last_reload_successful(void **state)
{
	struct harness *h = *state;
	static char body[65536];
	int mp = harness_port();

	harness_serve_quiet(h, 0, "services = ({ name = \"metrics\"; "
	    "port = %d; bind = \"127.0.0.1\"; handler = \"metrics\"; });\n",
	    mp);
	scrape(mp, body, sizeof(body));
	assert_sample(body, "sockd_config_last_reload_successful", 1);
	assert_sample(body, "sockd_config_reloads_total{result=\"failure\"}",
	    0);
	write_conf(h, "services = ({ name = 1; });\n");
	assert_int_equal(harness_signal(h, SIGHUP), 0);
	assert_non_null(harness_notify(h, "reload failed", 10000));
	scrape(mp, body, sizeof(body));
	assert_sample(body, "sockd_config_last_reload_successful", 0);
	assert_sample(body, "sockd_config_reloads_total{result=\"failure\"}",
	    1);
	harness_stop_clean(h);
}

static int
serve_metrics(struct harness *h)
{
	int mp = harness_port();

	harness_serve_quiet(h, 0, "services = ({ name = \"metrics\"; "
	    "port = %d; bind = \"127.0.0.1\"; handler = \"metrics\"; });\n",
	    mp);
	return mp;
}

static void
one_connection_gets_404_head_405_then_400_and_a_close(void **state)
{
	struct harness *h = *state;
	static char body[65536];
	char head[2048];
	int mp = serve_metrics(h), fd;

	assert_int_not_equal(fd = tcp_open("127.0.0.1", mp), -1);
	assert_int_equal(tcp_sends(fd, "GET /nope HTTP/1.1\r\nHost: a\r\n\r\n"),
	    0);
	assert_int_equal(http_read(fd, head, sizeof(head), body, sizeof(body),
	    0), 404);
	assert_non_null(strstr(head, "Connection: keep-alive\r\n"));
	assert_int_equal(tcp_sends(fd, "HEAD /metrics HTTP/1.1\n\n"), 0);
	assert_int_equal(http_read(fd, head, sizeof(head), NULL, 0, 1), 200);
	assert_non_null(strstr(head, "Content-Type: text/plain; "
	    "version=0.0.4"));
	assert_null(strstr(head, "Content-Length: 0\r\n"));
	/* HEAD sends no body: the next bytes are the next answer. */
	assert_int_equal(tcp_sends(fd, "POST /metrics HTTP/1.1\r\n"
	    "Content-Length: 0\r\n\r\n"), 0);
	assert_int_equal(http_read(fd, head, sizeof(head), body, sizeof(body),
	    0), 405);
	assert_non_null(strstr(head, "Allow: GET, HEAD\r\n"));
	assert_int_equal(tcp_sends(fd, "GET /metrics HTTP/1.1 junk\r\n"), 0);
	assert_int_equal(http_read(fd, head, sizeof(head), body, sizeof(body),
	    0), 400);
	assert_non_null(strstr(head, "Connection: close\r\n"));
	assert_true(tcp_closed(fd, 5000));
	client_close(fd);
	harness_stop_clean(h);
}

static void
http_1_0_closes_unless_keep_alive_1_1_on_connection_close(void **state)
{
	struct harness *h = *state;
	static char body[65536];
	char head[2048];
	int mp = serve_metrics(h), fd;

	assert_int_not_equal(fd = tcp_open("127.0.0.1", mp), -1);
	assert_int_equal(tcp_sends(fd, "GET /metrics HTTP/1.0\r\n"
	    "Connection: keep-alive\r\n\r\n"), 0);
	assert_int_equal(http_read(fd, head, sizeof(head), body, sizeof(body),
	    0), 200);
	assert_true(tcp_quiet(fd, 300));
	assert_int_equal(tcp_sends(fd, "GET /metrics HTTP/1.0\r\n\r\n"), 0);
	assert_int_equal(http_read(fd, head, sizeof(head), body, sizeof(body),
	    0), 200);
	assert_true(tcp_closed(fd, 5000));
	client_close(fd);

	assert_int_not_equal(fd = tcp_open("127.0.0.1", mp), -1);
	assert_int_equal(tcp_sends(fd, "GET /metrics HTTP/1.1\r\n"
	    "Connection: close\r\n\r\n"), 0);
	assert_int_equal(http_read(fd, head, sizeof(head), body, sizeof(body),
	    0), 200);
	assert_non_null(strstr(head, "Connection: close\r\n"));
	assert_true(tcp_closed(fd, 5000));
	client_close(fd);
	harness_stop_clean(h);
}

static void
pipelined_requests_are_answered_in_order(void **state)
{
	struct harness *h = *state;
	static char body[65536], req[4096];
	char head[2048];
	int mp = serve_metrics(h), fd, i;

	req[0] = '\0';
	for (i = 0; i < 30; i++)
		strcat(req, i % 2 ? "GET /x HTTP/1.1\r\n\r\n" :
		    "GET /metrics HTTP/1.1\r\n\r\n");
	assert_int_not_equal(fd = tcp_open("127.0.0.1", mp), -1);
	assert_int_equal(tcp_sends(fd, req), 0);
	for (i = 0; i < 30; i++)
		assert_int_equal(http_read(fd, head, sizeof(head), body,
		    sizeof(body), 0), i % 2 ? 404 : 200);
	assert_true(tcp_quiet(fd, 300));
	client_close(fd);
	harness_stop_clean(h);
}

static void
a_head_over_8_kib_gets_400_and_a_close(void **state)
{
	struct harness *h = *state;
	static char body[65536], req[9000];
	char head[2048];
	int mp = serve_metrics(h), fd;
	size_t n;

	n = (size_t)snprintf(req, sizeof(req), "GET /metrics HTTP/1.1\r\n"
	    "X-Long: ");
	memset(req + n, 'a', sizeof(req) - n - 1);
	req[sizeof(req) - 1] = '\0';
	assert_int_not_equal(fd = tcp_open("127.0.0.1", mp), -1);
	assert_int_equal(tcp_sends(fd, req), 0);
	assert_int_equal(http_read(fd, head, sizeof(head), body, sizeof(body),
	    0), 400);
	assert_true(tcp_closed(fd, 5000));
	client_close(fd);
	/* The daemon still answers others. */
	scrape(mp, body, sizeof(body));
	harness_stop_clean(h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		HARNESS_TEST(known_traffic_gives_exact_counts_on_one_worker),
		HARNESS_TEST(counts_are_exact_summed_over_two_workers),
		HARNESS_TEST(a_failed_reload_shows_in_last_reload_successful),
		HARNESS_TEST(
		    one_connection_gets_404_head_405_then_400_and_a_close),
		HARNESS_TEST(
		    http_1_0_closes_unless_keep_alive_1_1_on_connection_close),
		HARNESS_TEST(pipelined_requests_are_answered_in_order),
		HARNESS_TEST(a_head_over_8_kib_gets_400_and_a_close),
	};
	return HARNESS_RUN(tests);
}
