/*
 * The TCP data path under load: one chat member's burst of short lines
 * costs the worker bounded work per turn and bounded memory (an echo
 * client on the same worker is still answered at once, the room gets
 * every line, the memory comes back); back-pressure loses nothing at any
 * max_queue; mixed line_timeouts do not delay each other; a connection
 * the handler never accepted is never closed on it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define ROOM		600		/* chat members */
#define BURST_LINES	32768		/* "a\n" each: one 64 KiB read */

/* A field of /proc/PID/status in kB ("VmHWM", "VmRSS"); -1 if none. */
static long
status_kb(const struct harness *h, const char *field)
{
	char path[64], line[256];
	size_t len = strlen(field);
	FILE *fp;
	long kb = -1;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)harness_pid(h));
	if ((fp = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strncmp(line, field, len) == 0 && line[len] == ':') {
			kb = strtol(line + len + 1, NULL, 10);
			break;
		}
	fclose(fp);
	return kb;
}

/* Reads whatever is waiting on fd, without waiting; returns the count. */
static size_t
drain_now(int fd)
{
	static char buf[65536];
	size_t total = 0;
	ssize_t n;

	while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		total += (size_t)n;
	return total;
}

static void
a_burst_to_a_big_room_leaves_the_worker_responsive(void **state)
{
	struct harness *h = *state;
	int cport = harness_port(), eport = harness_port();
	static int fd[ROOM];
	static size_t got[ROOM];
	static struct pollfd pfd[ROOM + 1];
	static char burst[2 * BURST_LINES], buf[65536];
	char line[512], nick[32];
	size_t want, left, k;
	long rss0, rss_end, hwm, n;
	long long t0, echo_ms = -1, deadline;
	int i, e, ready;

	harness_serve_quiet(h, 0, "defaults: { bind = \"127.0.0.1\"; "
	    "per_source = 0; rate = 0; max_connections = 2000; "
	    "backlog = 1024; };\n"
	    "services = ({ name = \"chat\"; port = %d; protocol = \"tcp\"; "
	    "options = { history = 0; }; }, { name = \"echo\"; port = %d; "
	    "protocol = \"tcp\"; });\n", cport, eport);
	e = tcp_open("127.0.0.1", eport);
	assert_int_equal(tcp_sends(e, "warm\n"), 0);
	assert_int_equal(tcp_recv_n(e, buf, 5, 5000), 5);
	rss0 = harness_rss_kb(h);
	for (i = 0; i < ROOM; i++)
		assert_int_not_equal(fd[i] = tcp_open("127.0.0.1", cport), -1);
	/* The answer to the last member's /who comes after every join was
	 * sent: its own "* Present" line at joining, then this one. */
	assert_int_equal(tcp_sends(fd[ROOM - 1], "/who\n"), 0);
	for (i = 0; i < 2; )
		if (tcp_recv_line(fd[ROOM - 1], buf, sizeof(buf), 10000) <= 0)
			fail_msg("no answer to /who");
		else if (strncmp(buf, "* Present:", 10) == 0)
			i++;
	assert_true(tcp_recv_line(fd[0], line, sizeof(line), 10000) > 0);
	assert_int_equal(sscanf(line, "* Welcome, you are %31[^.]", nick), 1);
	/* Then whatever the joins still have on the way, until the room has
	 * been quiet for a while: only the burst is counted below. */
	for (i = 0; i < ROOM; i++) {
		pfd[i].fd = fd[i];
		pfd[i].events = POLLIN;
	}
	while (poll(pfd, ROOM, harness_ms(300)) > 0)
		for (i = 0; i < ROOM; i++)
			if (pfd[i].revents != 0)
				(void)drain_now(fd[i]);
	want = (size_t)BURST_LINES * (strlen(nick) + strlen("<> a\r\n"));

	for (k = 0; k < sizeof(burst); k += 2) {
		burst[k] = 'a';
		burst[k + 1] = '\n';
	}
	assert_int_equal(tcp_send(fd[0], burst, sizeof(burst)), 0);
	t0 = harness_now_ms();
	assert_int_equal(tcp_sends(e, "ping\n"), 0);
	/* Read the room and the echo client together, as they come. */
	for (i = 0; i < ROOM; i++) {
		pfd[i].fd = fd[i];
		pfd[i].events = i == 0 ? 0 : POLLIN;
		got[i] = 0;
	}
	pfd[ROOM].fd = e;
	pfd[ROOM].events = POLLIN;
	left = ROOM - 1;
	hwm = 0;
	deadline = harness_now_ms() + harness_ms(60000);
	while ((left > 0 || echo_ms < 0) && harness_now_ms() < deadline) {
		if ((ready = poll(pfd, ROOM + 1, 100)) <= 0)
			continue;
		if (pfd[ROOM].revents != 0 && echo_ms < 0) {
			n = recv(e, buf, sizeof(buf), MSG_DONTWAIT);
			assert_true(n == 5 && memcmp(buf, "ping\n", 5) == 0);
			echo_ms = harness_now_ms() - t0;
			pfd[ROOM].events = 0;
		}
		for (i = 1; i < ROOM; i++) {
			if (pfd[i].revents == 0)
				continue;
			got[i] += drain_now(fd[i]);
			if (got[i] >= want) {
				pfd[i].events = 0;
				left--;
			}
		}
		if ((n = status_kb(h, "VmRSS")) > hwm)
			hwm = n;
	}
	print_message("echo answered in %lld ms during the burst; RSS %ld kB "
	    "before, %ld kB at most during\n", echo_ms, rss0, hwm);
	assert_true(echo_ms >= 0);
	/* Every member got every line, no more. */
	for (i = 1; i < ROOM; i++)
		if (got[i] != want)
			fail_msg("member %d got %zu bytes of %zu", i, got[i],
			    want);
	/* One read of 32768 lines, one worker: the answer used to take
	 * seconds. */
	assert_true(echo_ms < harness_ms(1000));

	clients_close(fd, ROOM);
	usleep(1000 * 1000);
	assert_int_equal(tcp_sends(e, "after\n"), 0);
	assert_int_equal(tcp_recv_n(e, buf, 6, 5000), 6);
	rss_end = harness_rss_kb(h);
	hwm = status_kb(h, "VmHWM") > hwm ? status_kb(h, "VmHWM") : hwm;
	print_message("RSS %ld kB after everyone left, peak %ld kB\n", rss_end,
	    hwm);
	if (!harness_asan() && !harness_valgrind()) {
		/* 600 connections hold some; the burst itself very little. */
		assert_true(hwm - rss0 < 32 * 1024);
		assert_true(rss_end - rss0 < 4 * 1024);
	}
	harness_stop_clean(h);
}

#define BULK	(8 * 1024 * 1024)

static unsigned char
bulk_byte(size_t i)
{
	return (unsigned char)(i * 7 + i / 251);
}

/* Sends BULK bytes to an echo service without reading until sockd stops
 * taking them, then reads it all back while sending the rest. */
static void
echo_bulk_comes_back_whole(int port)
{
	static unsigned char out[65536], in[65536];
	size_t sent = 0, recvd = 0, i, n;
	long long deadline = harness_now_ms() + harness_ms(60000);
	struct pollfd pfd;
	int fd, reading = 0;
	ssize_t r;

	assert_int_not_equal(fd = tcp_open_rcvbuf("127.0.0.1", port, 32768),
	    -1);
	pfd.fd = fd;
	while (recvd < BULK) {
		if (harness_now_ms() > deadline)
			fail_msg("sent %zu, got back %zu in time", sent, recvd);
		pfd.events = (sent < BULK ? POLLOUT : 0) |
		    (reading ? POLLIN : 0);
		r = poll(&pfd, 1, 1000);
		if (r == 0 && !reading) {
			/* Stalled: sockd stopped reading from us. */
			reading = 1;
			continue;
		}
		if (r <= 0)
			continue;
		if (pfd.revents & (POLLERR | POLLHUP))
			fail_msg("connection lost after %zu sent, %zu back",
			    sent, recvd);
		if ((pfd.revents & POLLOUT) && sent < BULK) {
			n = BULK - sent < sizeof(out) ? BULK - sent :
			    sizeof(out);
			for (i = 0; i < n; i++)
				out[i] = bulk_byte(sent + i);
			r = send(fd, out, n, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (r < 0 && errno != EAGAIN)
				fail_msg("send: %s after %zu sent, %zu back",
				    strerror(errno), sent, recvd);
			if (r > 0)
				sent += (size_t)r;
		}
		if (pfd.revents & POLLIN) {
			r = recv(fd, in, sizeof(in), MSG_DONTWAIT);
			if (r <= 0 && !(r < 0 && errno == EAGAIN))
				fail_msg("recv: %s after %zu sent, %zu back",
				    r == 0 ? "EOF" : strerror(errno), sent,
				    recvd);
			for (i = 0; r > 0 && i < (size_t)r; i++)
				if (in[i] != bulk_byte(recvd + i))
					fail_msg("byte %zu differs",
					    recvd + i);
			if (r > 0)
				recvd += (size_t)r;
		}
	}
	assert_int_equal(sent, BULK);
	assert_int_equal(recvd, BULK);
	client_close(fd);
}

static void
echo_with_max_queue(struct harness *h, const char *max_queue)
{
	int port = harness_port();

	harness_serve_quiet(h, 0, "services = ({ name = \"echo\"; port = %d; "
	    "bind = \"127.0.0.1\"; protocol = \"tcp\";%s });\n", port,
	    max_queue);
	echo_bulk_comes_back_whole(port);
	assert_false(harness_log_has(h, "slow reader"));
	harness_stop_clean(h);
}

static void
sending_without_reading_loses_nothing_at_max_queue_1k(void **state)
{
	echo_with_max_queue(*state, " max_queue = 1024;");
}

static void
sending_without_reading_loses_nothing_at_max_queue_64k(void **state)
{
	echo_with_max_queue(*state, " max_queue = 65536;");
}

static void
sending_without_reading_loses_nothing_at_default_max_queue(void **state)
{
	echo_with_max_queue(*state, "");
}

static void
a_long_line_timeout_does_not_delay_a_short_one(void **state)
{
	struct harness *h = *state;
	int slow = harness_port(), fast = harness_port(), a, b;
	char buf[16];
	long long t0, ms;

	harness_serve(h, "services = ({ name = \"upper\"; port = %d; "
	    "bind = \"127.0.0.1\"; protocol = \"tcp\"; "
	    "line_timeout = 3600000; }, { name = \"upper2\"; "
	    "handler = \"upper\"; port = %d; bind = \"127.0.0.1\"; "
	    "protocol = \"tcp\"; line_timeout = 100; });\n", slow, fast);
	a = tcp_open("127.0.0.1", slow);
	b = tcp_open("127.0.0.1", fast);
	assert_int_equal(tcp_sends(a, "first"), 0);
	usleep(50 * 1000);
	t0 = harness_now_ms();
	assert_int_equal(tcp_sends(b, "second"), 0);
	assert_int_equal(tcp_recv_n(b, buf, 6, 3000), 6);
	ms = harness_now_ms() - t0;
	assert_memory_equal(buf, "SECOND", 6);
	print_message("the 100 ms line came after %lld ms\n", ms);
	assert_true(ms < harness_ms(600));
	/* The hour-long one still waits, and a later one is handed over
	 * after its own 100 ms too. */
	assert_true(tcp_quiet(a, 200));
	t0 = harness_now_ms();
	assert_reply_on(b, "third", "THIRD", 3000);
	assert_true(harness_now_ms() - t0 < harness_ms(600));
	assert_reply_on(a, "\n", "FIRST\n", 3000);
	harness_stop_clean(h);
}

/* Waits until every connection sockd opened has closed (the counts
 * settle); returns how many it opened. */
static int
all_closed(struct harness *h)
{
	long long deadline = harness_now_ms() + harness_ms(10000);
	int open, closed, last = -1;

	for (;;) {
		usleep(200 * 1000);
		open = harness_log_count(h, ": open");
		closed = harness_log_count(h, ": closed");
		if ((open == closed && open == last) ||
		    harness_now_ms() > deadline)
			return open;
		last = open;
	}
}

static void
close_counts_match(struct harness *h)
{
	int connects = harness_log_count(h, "counting: connect");
	int closes = harness_log_count(h, "counting: close ");

	print_message("%d handed over, %d closed on the handler\n", connects,
	    closes);
	assert_false(harness_log_has(h, "counting: close without connect"));
	assert_int_equal(closes, connects);
}

static void
reset_clients_are_never_closed_on_the_handler_unopened(void **state)
{
	struct harness *h = *state;
	struct linger lg = { 1, 0 };
	int port = harness_port(), i, fd;

	harness_serve(h, "services = ({ name = \"counting\"; port = %d; "
	    "bind = \"127.0.0.1\"; protocol = \"tcp\"; per_source = 0; "
	    "rate = 0; banner = \"hello from counting\\n\"; });\n", port);
	/* Resets at spread moments, so that some land between sockd's
	 * accept and its banner. */
	for (i = 0; i < 1000; i++) {
		if ((fd = tcp_open("127.0.0.1", port)) == -1)
			continue;
		(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		if (i % 20 > 0)
			usleep((useconds_t)(i % 20) * 25);
		client_close(fd);
	}
	print_message("%d of 1000 got past accept\n", all_closed(h));
	close_counts_match(h);
	harness_stop_clean(h);
}

#define T(f)	HARNESS_TEST(f)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(a_burst_to_a_big_room_leaves_the_worker_responsive),
		T(sending_without_reading_loses_nothing_at_max_queue_1k),
		T(sending_without_reading_loses_nothing_at_max_queue_64k),
		T(sending_without_reading_loses_nothing_at_default_max_queue),
		T(a_long_line_timeout_does_not_delay_a_short_one),
		T(reset_clients_are_never_closed_on_the_handler_unopened),
	};

	return HARNESS_RUN(tests);
}
