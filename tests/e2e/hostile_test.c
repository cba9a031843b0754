/*
 * Hostile networks, against the real daemon: floods past every limit, slow
 * and silent clients, oversized and binary input, spoofed sources, UDP
 * amplification, broken configuration files and plugins, running out of
 * file descriptors, signal storms.  In every case the daemon keeps running
 * and a well-behaved client beside the attacker gets its bytes intact.
 * Sources other than 127.0.0.1 come from binding 127.0.0.2 and up, which
 * Linux routes on loopback.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

static void
a_connection_flood_past_max_connections_spares_the_open_ones(void **state)
{
	struct harness *h = *state;
	int port = harness_port(), good, fds[40], i, refused = 0;
	char buf[64];

	harness_serve(h, "services = ({ name = \"echo\"; port = %d; "
	    "bind = \"127.0.0.1\"; max_connections = 5; per_source = 0; "
	    "rate = 0; busy = \"busy\\n\"; });\n", port);
	good = tcp_open("127.0.0.1", port);
	assert_true(echo_ok(good, "before\n"));
	for (i = 0; i < 40; i++)
		fds[i] = tcp_open("127.0.0.1", port);
	for (i = 0; i < 40; i++) {
		if (fds[i] == -1)
			continue;
		if (tcp_recv_line(fds[i], buf, sizeof(buf), 200) > 0 &&
		    strcmp(buf, "busy\n") == 0 && tcp_closed(fds[i], 2000))
			refused++;
	}
	assert_true(refused >= 35);
	assert_true(echo_ok(good, "during the flood\n"));
	clients_close(fds, 40);
	assert_true(harness_log_has(h, "max_connections reached"));
	harness_stop_clean(h);
}

static void
one_source_past_per_source_is_refused_and_others_are_not(void **state)
{
	struct harness *h = *state;
	int port = harness_port(), fds[6], i, other;

	harness_serve(h, "services = ({ name = \"echo\"; port = %d; "
	    "bind = \"127.0.0.1\"; per_source = 3; rate = 0; });\n", port);
	for (i = 0; i < 3; i++) {
		fds[i] = tcp_open_from("127.0.0.2", port);
		assert_true(echo_ok(fds[i], "mine\n"));
	}
	fds[3] = tcp_open_from("127.0.0.2", port);
	assert_true(tcp_closed(fds[3], 2000));
	other = tcp_open_from("127.0.0.3", port);
	assert_true(echo_ok(other, "someone else\n"));
	client_close(fds[0]);
	harness_sleep_ms(harness_ms(200));
	fds[4] = tcp_open_from("127.0.0.2", port);	/* a slot came free */
	assert_true(echo_ok(fds[4], "again\n"));
	clients_close(fds + 1, 4);
	client_close(other);
	assert_true(harness_log_has(h, "per_source (3) reached"));
	harness_stop_clean(h);
}

static void
a_source_over_rate_is_refused_and_recovers(void **state)
{
	struct harness *h = *state;
	int port = harness_port(), i, refused = 0;

	harness_serve(h, "services = ({ name = \"echo\"; port = %d; "
	    "bind = \"127.0.0.1\"; per_source = 0; rate = 5; burst = 5; });\n",
	    port);
	for (i = 0; i < 20; i++)
		if (!echo_ok_from("127.0.0.4", port, "x\n"))
			refused++;
	assert_true(refused >= 13);
	assert_true(echo_ok_from("127.0.0.5", port, "not me\n"));
	harness_sleep_ms(harness_ms(1500));
	assert_true(echo_ok_from("127.0.0.4", port, "recovered\n"));
	harness_stop_clean(h);
}

static void
limit_log_lines_are_rate_limited(void **state)
{
	struct harness *h = *state;
	int port = harness_port(), i, fds[60];

	harness_serve(h, "services = ({ name = \"echo\"; port = %d; "
	    "bind = \"127.0.0.1\"; per_source = 0; rate = 1; burst = 1; });\n",
	    port);
	/* Back to back: one token, so all but one or two are refused. */
	for (i = 0; i < 60; i++)
		fds[i] = tcp_open("127.0.0.1", port);
	for (i = 0; i < 60; i++)
		(void)tcp_closed(fds[i], 50);
	assert_true(harness_log_wait(h, "similar lines suppressed", 5000) ||
	    harness_log_count(h, "over rate") >= 5);
	harness_sleep_ms(harness_ms(200));
	assert_true(harness_log_count(h, "over rate") <= 11);
	assert_true(harness_log_count(h, "over rate") >= 5);
	clients_close(fds, 60);
	harness_stop_clean(h);
}

static void
a_silent_client_is_closed_by_idle_timeout(void **state)
{
	struct harness *h = *state;
	int port = harness_port(), idle, busy, i;

	harness_serve(h, "services = ({ name = \"echo\"; port = %d; "
	    "bind = \"127.0.0.1\"; idle_timeout = 1; });\n", port);
	idle = tcp_open("127.0.0.1", port);
	busy = tcp_open("127.0.0.1", port);
	assert_int_not_equal(tcp_sends(idle, "partial li"), -1);
	for (i = 0; i < 6; i++) {
		assert_true(echo_ok(busy, "alive\n"));
		harness_sleep_ms(400);
	}
	assert_true(tcp_closed(idle, 1000));
	assert_true(echo_ok(busy, "still alive\n"));
	client_close(idle);
	client_close(busy);
	harness_stop_clean(h);
}

/* Streams total bytes to fd while reading what comes back. */
static size_t
stream_through(int fd, char fill, size_t total, size_t *back, int ms)
{
	static char out[65536], in[65536];
	struct pollfd p = { .fd = fd, .events = POLLIN | POLLOUT };
	size_t sent = 0;
	ssize_t n;
	int waited = 0;

	memset(out, fill, sizeof(out));
	*back = 0;
	while (waited < ms && (sent < total || *back < total)) {
		p.events = POLLIN | (sent < total ? POLLOUT : 0);
		if (poll(&p, 1, 100) == 0) {
			waited += 100;
			continue;
		}
		if ((p.revents & POLLOUT) && sent < total) {
			n = write(fd, out, total - sent < sizeof(out) ?
			    total - sent : sizeof(out));
			if (n > 0)
				sent += (size_t)n;
		}
		if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
			n = read(fd, in, sizeof(in));
			if (n <= 0)
				break;
			*back += (size_t)n;
		}
	}
	return sent;
}

static void
a_4mib_line_without_newline_keeps_memory_bounded(void **state)
{
	struct harness *h = *state;
	int port = harness_port(), fd, other;
	long before, after;
	size_t back, total = 4 << 20;

	harness_serve(h, "services = ({ name = \"upper\"; port = %d; "
	    "bind = \"127.0.0.1\"; max_line = 4096; });\n", port);
	before = harness_rss_kb(h);
	fd = tcp_open("127.0.0.1", port);
	other = tcp_open("127.0.0.1", port);
	assert_int_equal(stream_through(fd, 'a', total, &back, harness_ms(20000)),
	    total);
	assert_int_equal(back, total);	/* upper-cased, in max_line pieces */
	after = harness_rss_kb(h);
	assert_true(after - before < 2048);
	assert_true(echo_ok(other, "HELLO\n"));
	client_close(fd);
	client_close(other);
	harness_stop_clean(h);
}

static void
a_client_that_sends_without_reading_loses_nothing(void **state)
{
	struct harness *h = *state;
	int port = harness_port(), fd;
	size_t back, total = 16 << 20;
	long before, after;

	harness_serve(h, "services = ({ name = \"echo\"; port = %d; "
	    "bind = \"127.0.0.1\"; });\n", port);
	before = harness_rss_kb(h);
	fd = tcp_open_rcvbuf("127.0.0.1", port, 4096);
	/* Back-pressure: sockd stops reading while its output waits, so
	 * the 16 MiB wait in socket buffers, not in sockd's memory. */
	assert_int_equal(stream_through(fd, 'z', total, &back, harness_ms(30000)),
	    total);
	assert_int_equal(back, total);
	after = harness_rss_kb(h);
	assert_true(after - before < 4096);
	client_close(fd);
	harness_stop_clean(h);
}

static void
random_binary_comes_back_intact_and_harms_nobody(void **state)
{
	struct harness *h = *state;
	int port = harness_port(), uport = harness_port(), fd, up, i;
	static char data[65536], back[65536];
	size_t n;

	harness_serve(h, "services = ({ name = \"echo\"; port = %d; "
	    "bind = \"127.0.0.1\"; }, { name = \"upper\"; port = %d; "
	    "bind = \"127.0.0.1\"; });\n", port, uport);
	srand(42);
	for (i = 0; i < (int)sizeof(data); i++)
		data[i] = (char)rand();
	fd = tcp_open("127.0.0.1", port);
	assert_int_equal(tcp_send(fd, data, sizeof(data)), 0);
	assert_int_equal(tcp_recv_n(fd, back, sizeof(back), 5000),
	    sizeof(back));
	assert_memory_equal(data, back, sizeof(data));
	up = tcp_open("127.0.0.1", uport);
	assert_int_equal(tcp_send(up, data, sizeof(data)), 0);
	n = 0;
	while (n < sizeof(data)) {
		ssize_t r = tcp_recv_n(up, back, sizeof(back), 1000);

		if (r <= 0)
			break;
		n += (size_t)r;
	}
	assert_true(n >= sizeof(data) - 64);
	assert_true(echo_ok(fd, "fine\n"));
	client_close(fd);
	client_close(up);
	harness_stop_clean(h);
}

static void
clients_that_vanish_with_a_reset_do_no_harm(void **state)
{
	struct harness *h = *state;
	int port = harness_port(), fd, good, i;
	struct linger lg = { 1, 0 };

	harness_serve(h, "services = ({ name = \"echo\"; port = %d; "
	    "bind = \"127.0.0.1\"; per_source = 0; rate = 0; });\n", port);
	good = tcp_open("127.0.0.1", port);
	for (i = 0; i < 100; i++) {
		fd = tcp_open("127.0.0.1", port);
		(void)tcp_sends(fd, "half a li");
		(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		client_close(fd);
	}
	assert_true(echo_ok(good, "unharmed\n"));
	client_close(good);
	harness_stop_clean(h);
}

static void
a_udp_flood_from_one_source_leaves_others_answered(void **state)
{
	struct harness *h = *state;
	int port = harness_port(), flood, good, i, j, answered;
	long long start;
	double elapsed;
	char buf[64];

	harness_serve(h, "services = ({ name = \"echo\"; port = %d; "
	    "protocol = \"udp\"; bind = \"127.0.0.1\"; rate = 20; });\n",
	    port);
	flood = udp_open_from("127.0.0.6", 0, port);
	good = udp_open_from("127.0.0.7", 0, port);
	start = harness_now_ms();
	/* The good client asks between bursts and, like any UDP client,
	 * asks again when a burst filled the socket buffer first. */
	for (i = 0, answered = 0; i < 10; i++) {
		for (j = 0; j < 500; j++)
			(void)udp_send(flood, "flood", 5);
		for (j = 0; j < 3; j++) {
			(void)udp_send(good, "good", 4);
			if (udp_recv(good, buf, sizeof(buf), 100) == 4) {
				answered++;
				break;
			}
		}
	}
	assert_true(answered >= 8);
	/* The flooder got its burst and what the rate refilled, no more. */
	for (i = 0; udp_recv(flood, buf, sizeof(buf), 300) > 0; i++)
		;
	elapsed = (double)(harness_now_ms() - start) / 1000;
	if (i > 40 + 20 * elapsed + 10)
		fail_msg("flooder got %d replies in %.1f s", i, elapsed);
	client_close(flood);
	client_close(good);
	harness_stop_clean(h);
}

static void
datagrams_from_privileged_source_ports_get_no_reply(void **state)
{
	struct harness *h = *state;
	int port = harness_port(), fd;
	char buf[64];

	if (geteuid() != 0)
		skip();
	harness_serve(h, "services = ({ name = \"echo\"; port = %d; "
	    "protocol = \"udp\"; bind = \"127.0.0.1\"; });\n", port);
	/* A "reply" to the chargen or echo port of another server is how
	 * two UDP services are made to ping-pong forever. */
	fd = udp_open_from("127.0.0.1", 19, port);
	assert_int_not_equal(fd, -1);
	assert_int_equal(udp_send(fd, "loop?", 5), 0);
	assert_int_equal(udp_recv(fd, buf, sizeof(buf), 500), -1);
	client_close(fd);
	assert_int_equal(udp_ask("127.0.0.1", port, "ok", 2, buf, sizeof(buf),
	    2000), 2);
	harness_signal(h, SIGUSR1);
	assert_true(harness_log_wait(h, "1 dropped", 2000));
	harness_stop_clean(h);
}

static void
udp_replies_never_amplify_by_default(void **state)
{
	struct harness *h = *state;
	int cport = harness_port(), dport = harness_port(), aport =
	    harness_port();
	char buf[2048], fmt[40];

	harness_serve(h, "services = (\n"
	    "{ name = \"chargen\"; port = %d; protocol = \"udp\"; "
	    "bind = \"127.0.0.1\"; },\n"
	    "{ name = \"daytime\"; port = %d; protocol = \"udp\"; "
	    "bind = \"127.0.0.1\"; },\n"
	    "{ name = \"chargen2\"; handler = \"chargen\"; port = %d; "
	    "protocol = \"udp\"; bind = \"127.0.0.1\"; "
	    "max_reply_growth = -1; });\n", cport, dport, aport);
	/* 1 byte in, 74 out: refused by the growth guard. */
	assert_int_equal(udp_ask("127.0.0.1", cport, "x", 1, buf, sizeof(buf),
	    500), -1);
	/* Allowed on purpose, it answers. */
	assert_int_equal(udp_ask("127.0.0.1", aport, "x", 1, buf, sizeof(buf),
	    2000), 74);
	/* 20 bytes of %c would become 240: no reply. */
	strcpy(fmt, "%c%c%c%c%c%c%c%c%c%c");
	assert_int_equal(udp_ask("127.0.0.1", dport, fmt, strlen(fmt), buf,
	    sizeof(buf), 500), -1);
	assert_true(udp_ask("127.0.0.1", dport, "%Y", 2, buf, sizeof(buf),
	    2000) == 4);
	harness_stop_clean(h);
}

static void
hostile_strftime_formats_never_stop_daytime(void **state)
{
	struct harness *h = *state;
	int port = harness_port(), i;
	char buf[2048];
#define F(s)	{ s, sizeof(s) - 1 }
	static const struct {
		const char	*fmt;
		size_t		 len;
	} bad[] = {
		F("%"), F("%E"), F("%O"), F("%99999999Y"), F("%-99999999d"),
		F("%#Z%+"), F("\xff\xfe%Y\xc0"), F("%Y\0%m"),
		F("%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%n"), F("%2147483647Y"),
		F("%-2147483648d"), F("%Ec%EC%Ex%EX%Ey%EY%Od%Oe"),
	};
#undef F

	harness_serve(h, "services = ({ name = \"daytime\"; port = %d; "
	    "protocol = \"udp\"; bind = \"127.0.0.1\"; rate = 0; });\n",
	    port);
	for (i = 0; i < (int)(sizeof(bad) / sizeof(bad[0])); i++) {
		ssize_t n = udp_ask("127.0.0.1", port, bad[i].fmt, bad[i].len,
		    buf, sizeof(buf), 300);

		assert_true(n <= (ssize_t)bad[i].len + 64);
		assert_int_equal(udp_ask("127.0.0.1", port, "%Y", 2, buf,
		    sizeof(buf), 2000), 4);
	}
	harness_stop_clean(h);
}

static void
an_oversized_datagram_is_dropped_and_counted(void **state)
{
	struct harness *h = *state;
	int port = harness_port();
	static char big[65000], buf[65536];

	harness_serve(h, "services = ({ name = \"echo\"; port = %d; "
	    "protocol = \"udp\"; bind = \"127.0.0.1\"; });\n", port);
	memset(big, 'b', sizeof(big));
	assert_int_equal(udp_ask("127.0.0.1", port, big, sizeof(big), buf,
	    sizeof(buf), 500), -1);
	assert_int_equal(udp_ask("127.0.0.1", port, big, 1400, buf,
	    sizeof(buf), 2000), 1400);
	harness_stop_clean(h);
}

static void
allow_and_deny_refuse_tcp_and_udp_from_the_wrong_sources(void **state)
{
	struct harness *h = *state;
	int port = harness_port(), fd;
	char buf[64];

	harness_serve(h, "services = ({ name = \"echo\"; port = %d; "
	    "protocol = [\"tcp\", \"udp\"]; bind = \"127.0.0.1\"; "
	    "allow = [\"127.0.0.0/29\"]; deny = [\"127.0.0.2\"]; });\n", port);
	assert_true(echo_ok_from("127.0.0.3", port, "allowed\n"));
	fd = tcp_open_from("127.0.0.2", port);
	assert_true(tcp_closed(fd, 2000));
	client_close(fd);
	fd = tcp_open_from("127.0.0.9", port);		/* outside allow */
	assert_true(tcp_closed(fd, 2000));
	client_close(fd);
	fd = udp_open_from("127.0.0.2", 0, port);
	assert_int_equal(udp_send(fd, "no", 2), 0);
	assert_int_equal(udp_recv(fd, buf, sizeof(buf), 500), -1);
	client_close(fd);
	fd = udp_open_from("127.0.0.4", 0, port);
	assert_int_equal(udp_send(fd, "yes", 3), 0);
	assert_int_equal(udp_recv(fd, buf, sizeof(buf), 2000), 3);
	client_close(fd);
	assert_true(harness_log_has(h, "refused by allow/deny"));
	harness_stop_clean(h);
}

static void
running_out_of_descriptors_neither_spins_nor_stops_accepting(void **state)
{
	struct harness *h = *state;
	int port = harness_port(), fds[64], i;
	long t0, t1;

	harness_config(h, "services = ({ name = \"echo\"; port = %d; "
	    "bind = \"127.0.0.1\"; per_source = 0; rate = 0; });\n", port);
	if (harness_valgrind())
		skip();		/* valgrind keeps descriptors of its own */
	/* Soft and hard limit: sockd raises its soft limit to the hard one. */
	assert_int_equal(harness_start_nofile(h, 32, NULL), 0);
	for (i = 0; i < 64; i++)
		fds[i] = tcp_open("127.0.0.1", port);
	harness_sleep_ms(300);
	t0 = harness_cpu_ticks(h);
	harness_sleep_ms(1000);
	t1 = harness_cpu_ticks(h);
	assert_true(t1 - t0 < sysconf(_SC_CLK_TCK) / 4);	/* no busy loop */
	clients_close(fds, 64);
	harness_sleep_ms(300);
	assert_true(echo_ok_from("127.0.0.1", port, "after EMFILE\n"));
	harness_stop_clean(h);
}

static void
a_signal_storm_leaves_the_daemon_serving(void **state)
{
	struct harness *h = *state;
	int port = harness_port(), fd, i;

	harness_serve(h, "services = ({ name = \"echo\"; port = %d; "
	    "bind = \"127.0.0.1\"; });\n", port);
	fd = tcp_open("127.0.0.1", port);
	for (i = 0; i < 50; i++) {
		harness_signal(h, SIGHUP);
		harness_signal(h, SIGUSR1);
		harness_signal(h, SIGPIPE);
	}
	harness_sleep_ms(harness_ms(1500));
	assert_true(echo_ok(fd, "calm\n"));
	client_close(fd);
	harness_stop_clean(h);
}

static void
a_reload_naming_a_crashing_plugin_is_refused_and_serving_goes_on(void **state)
{
	struct harness *h = *state;
	int port = harness_port(), cport = harness_port(), fd;

	harness_serve(h, "services = ({ name = \"echo\"; port = %d; "
	    "bind = \"127.0.0.1\"; });\n", port);
	fd = tcp_open("127.0.0.1", port);
	assert_true(echo_ok(fd, "before\n"));
	harness_config(h, "services = ({ name = \"echo\"; port = %d; "
	    "bind = \"127.0.0.1\"; }, { name = \"crashconf\"; port = %d; "
	    "bind = \"127.0.0.1\"; });\n", port, cport);
	harness_signal(h, SIGHUP);
	assert_non_null(harness_notify(h, "reload failed", 10000));
	/* "died of signal 11"; under ASan the child reports and exits 1. */
	assert_true(harness_log_has(h, "died of signal 11") ||
	    harness_log_has(h, "the configuration check failed"));
	assert_true(echo_ok(fd, "after\n"));
	client_close(fd);
	harness_stop_clean(h);
}

static void
root_drops_to_the_configured_user_for_good(void **state)
{
	struct harness *h = *state;
	int port = harness_port();
	char path[64], line[256];
	FILE *fp;
	int found = 0;

	if (geteuid() != 0 || harness_valgrind())
		skip();
	harness_write(h, "sockd.conf", "daemon: { log = \"stderr\"; "
	    "user = \"nobody\"; };\nservices = ({ name = \"echo\"; "
	    "port = %d; bind = \"127.0.0.1\"; });\n", port);
	/* READY=1 comes after the drop: let nobody reach the socket. */
	snprintf(path, sizeof(path), "%s/notify", harness_dir(h));
	assert_int_equal(chmod(harness_dir(h), 0711), 0);
	assert_int_equal(chmod(path, 0666), 0);
	assert_int_equal(harness_start(h, NULL), 0);
	snprintf(path, sizeof(path), "/proc/%d/status", (int)harness_pid(h));
	assert_non_null(fp = fopen(path, "r"));
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strncmp(line, "Uid:", 4) == 0) {
			assert_string_equal(line,
			    "Uid:\t65534\t65534\t65534\t65534\n");
			found = 1;
		}
	fclose(fp);
	assert_true(found);
	assert_true(echo_ok_from("127.0.0.1", port, "as nobody\n"));
	harness_stop_clean(h);
}

static void
root_without_a_user_refuses_to_serve(void **state)
{
	struct harness *h = *state;
	int port = harness_port();

	if (geteuid() != 0)
		skip();
	harness_write(h, "sockd.conf", "daemon: { log = \"stderr\"; };\n"
	    "services = ({ name = \"echo\"; port = %d; "
	    "bind = \"127.0.0.1\"; });\n", port);
	assert_int_equal(harness_start(h, NULL), -1);
	assert_int_equal(harness_wait_exit(h, 5000), 1);
	assert_true(harness_log_has(h, "started as root without "
	    "daemon.user"));
	harness_pass(h);
}

/* Broken files: each gives its error at the right line, exit 1. */
static void
broken_config_files_each_name_file_and_line(void **state)
{
	struct harness *h = *state;
	static const struct {
		const char	*text;
		int		 line;
		const char	*msg;
	} cases[] = {
		{ "services = (\n{ name = \"e\"; port = = 1; });\n", 2,
		    "syntax error" },
		{ "services = ({ name = \"echo\";\n port = 0; });\n", 2,
		    "out of range" },
		{ "services = ({ name = \"echo\";\n port = 65536; });\n", 2,
		    "out of range" },
		{ "services = ({ name = \"echo\";\n port = -7; });\n", 2,
		    "out of range" },
		{ "services = ({ name = \"echo\";\n port = 7.5; });\n", 2,
		    "expected an integer" },
		{ "services = ({ name = \"echo\";\n protocol = \"icmp\"; });\n",
		    2, "protocol \"icmp\"" },
		{ "services = ({ name = \"echo\";\n protocol = []; });\n", 2,
		    "the list is empty" },
		{ "services = ({ name = \"echo\";\n bind = \"::g\"; });\n", 2,
		    "not a numeric" },
		{ "services = ({ name = \"echo\";\n\n handlr = \"x\"; });\n", 3,
		    "unknown setting \"handlr\"" },
		{ "services = ({ name = \"echo\";\n handler = \"nope\"; });\n",
		    1, "unknown handler \"nope\"" },
		{ "services = ({ name = \"echo\";\n idle_timeout = -1; });\n",
		    2, "out of range" },
		{ "services = ({ name = \"echo\";\n max_queue = 1; });\n", 2,
		    "out of range" },
		{ "services = ({ name = \"echo\";\n ipv6_prefix = 129; });\n",
		    2, "out of range" },
		{ "services = ({ name = \"echo\";\n deny = [\"1.2.3\"]; });\n",
		    2, "not an address or CIDR" },
		{ "services = ({ name = \"echo\";\n allow = 5; });\n", 2,
		    "expected a string or a list" },
		{ "services = ({ name = \"echo\";\n options = { a = 1; }; });\n",
		    2, "unknown option \"a\"" },
		{ "services = ({ name = \"daytime\"; protocol = \"udp\";\n"
		    " options = {\n format = 5; }; });\n", 3,
		    "option \"format\": expected a string" },
		{ "services = ({ name = \"chargen\"; protocol = \"udp\"; },\n"
		    "{ name = \"c2\"; handler = \"chargen\"; port = 19;\n"
		    " protocol = \"udp\"; });\n", 2, "already used" },
		{ "services = ({ name = \"echo\"; },\n{ name = \"echo\"; "
		    "port = 1234; });\n", 2, "is already defined at line" },
		{ "services = ({ name = \"chat\"; port = 2000;\n"
		    " protocol = \"udp\"; options = { history = 5; }; });\n", 1,
		    "" },
		{ "daemon: { workers = 0; };\nservices = ();\n", 1,
		    "\"workers\": 0 is out of range" },
		{ "daemon: {\n log = \"file\"; };\nservices = ();\n", 2,
		    "log \"file\"" },
		{ "defaults: {\n port = 7; };\nservices = ();\n", 2,
		    "belongs in a service" },
		{ "servces = ();\n", 1, "unknown setting \"servces\"" },
		{ "services = ({ name = \"discard\"; protocol = \"udp\";\n"
		    " handler = \"badconf\"; });\n", 1, "badconf" },
	};
	char name[32], want[160];
	const char *path, *err;
	size_t i;
	int rc, own, offset = harness_daemon_lines();

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(name, sizeof(name), "broken%zu.conf", i);
		own = strncmp(cases[i].text, "daemon:", 7) == 0;
		path = harness_write(h, name, "%s%s", own ? "" :
		    harness_daemon_section(), cases[i].text);
		rc = harness_check(h, path);
		err = harness_stderr(h);
		if (cases[i].msg[0] == '\0') {
			/* A valid file among them: udp chat is fine. */
			assert_int_equal(rc, 0);
			continue;
		}
		snprintf(want, sizeof(want), "%s:%d: ", path,
		    cases[i].line + (own ? 0 : offset));
		if (rc != 1 || strstr(err, want) == NULL ||
		    strstr(err, cases[i].msg) == NULL)
			fail_msg("case %zu: rc %d, stderr: %s", i, rc, err);
	}
	harness_pass(h);
}

#define T(f)	HARNESS_TEST(f)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(a_connection_flood_past_max_connections_spares_the_open_ones),
		T(one_source_past_per_source_is_refused_and_others_are_not),
		T(a_source_over_rate_is_refused_and_recovers),
		T(limit_log_lines_are_rate_limited),
		T(a_silent_client_is_closed_by_idle_timeout),
		T(a_4mib_line_without_newline_keeps_memory_bounded),
		T(a_client_that_sends_without_reading_loses_nothing),
		T(random_binary_comes_back_intact_and_harms_nobody),
		T(clients_that_vanish_with_a_reset_do_no_harm),
		T(a_udp_flood_from_one_source_leaves_others_answered),
		T(datagrams_from_privileged_source_ports_get_no_reply),
		T(udp_replies_never_amplify_by_default),
		T(hostile_strftime_formats_never_stop_daytime),
		T(an_oversized_datagram_is_dropped_and_counted),
		T(allow_and_deny_refuse_tcp_and_udp_from_the_wrong_sources),
		T(running_out_of_descriptors_neither_spins_nor_stops_accepting),
		T(a_signal_storm_leaves_the_daemon_serving),
		T(a_reload_naming_a_crashing_plugin_is_refused_and_serving_goes_on),
		T(root_drops_to_the_configured_user_for_good),
		T(root_without_a_user_refuses_to_serve),
		T(broken_config_files_each_name_file_and_line),
	};

	return HARNESS_RUN(tests);
}
