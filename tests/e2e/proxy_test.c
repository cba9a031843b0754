/*
 * The PROXY protocol, against the real daemon: a service with
 * proxy_protocol takes the client's address from the header a balancer
 * sends first, and that address is the peer for the handler
 * (sockd_conn_peer(), through the whoami test plugin), the log,
 * allow/deny, per_source and rate, across a reload too.  Hand-made
 * headers, v1 and v2, come one byte at a time and with the client's first
 * bytes behind them; every malformed shape, a cut header, a header that
 * never ends and a connection from outside proxy_from are closed without
 * a word and counted.  Then a real HAProxy (send-proxy and send-proxy-v2), started
 * by the test as a child that dies with it, sits between clients on
 * 127.0.0.5 and 127.0.0.6 and sockd; without haproxy installed those
 * tests are skipped.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define BUSY	"busy, try later"

/* A whoami service on port that takes PROXY headers from 127.0.0.1,
 * with the service settings extra. */
static void
serve_whoami(struct harness *h, int port, const char *extra)
{
	harness_serve(h, "services = ({ name = \"whoami\"; port = %d; "
	    "bind = \"127.0.0.1\"; handler = \"whoami\"; "
	    "proxy_protocol = true; proxy_from = [\"127.0.0.1\"]; "
	    "busy = \"" BUSY "\\r\\n\"; %s });\n", port, extra);
}

/* A connection from src whose bytes go out as they are sent. */
static int
open_nodelay(const char *src, int port)
{
	int fd, one = 1;

	if ((fd = tcp_open_from(src, port)) != -1)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
	return fd;
}

/* Sends len bytes one at a time, ms apart; -1 once the peer is gone. */
static int
send_bytewise(int fd, const void *buf, size_t len, int ms)
{
	const char *p = buf;
	size_t i;

	for (i = 0; i < len; i++) {
		if (tcp_send(fd, p + i, 1) == -1)
			return -1;
		harness_sleep_ms(ms);
	}
	return 0;
}

/* "PROXY TCP4 src 127.0.0.1 sport 7\r\n" into buf. */
static size_t
v1_header(char *buf, size_t size, const char *src, int sport)
{
	return (size_t)snprintf(buf, size, "PROXY TCP4 %s 127.0.0.1 %d 7\r\n",
	    src, sport);
}

static const uint8_t v2_sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};

/* A v2 header: version and command byte vc, family byte fam, then the
 * block of blen bytes. */
static size_t
v2_header(uint8_t *buf, uint8_t vc, uint8_t fam, const void *block,
    size_t blen)
{
	memcpy(buf, v2_sig, 12);
	buf[12] = vc;
	buf[13] = fam;
	buf[14] = (uint8_t)(blen >> 8);
	buf[15] = (uint8_t)blen;
	memcpy(buf + 16, block, blen);
	return 16 + blen;
}

/* The block of a v2 TCP4 header from src:sport to 127.0.0.1:7. */
static size_t
v2_tcp4_block(uint8_t *b, const char *src, int sport)
{
	assert_int_equal(inet_pton(AF_INET, src, b), 1);
	assert_int_equal(inet_pton(AF_INET, "127.0.0.1", b + 4), 1);
	b[8] = (uint8_t)(sport >> 8);
	b[9] = (uint8_t)sport;
	b[10] = 0;
	b[11] = 7;
	return 12;
}

/* A valid v2 PROXY TCP4 header from src:sport into buf. */
static size_t
v2_tcp4(uint8_t *buf, const char *src, int sport)
{
	uint8_t block[12];

	return v2_header(buf, 0x21, 0x11, block, v2_tcp4_block(block, src,
	    sport));
}

/* Fails the test unless the next line on fd is want. */
static void
expect_line(int fd, const char *want)
{
	char line[512];

	if (tcp_recv_line(fd, line, sizeof(line), 5000) <= 0)
		fail_msg("no line, expected \"%s\"", want);
	if (strcmp(line, want) != 0)
		fail_msg("got \"%s\", expected \"%s\"", line, want);
}

/* A connection from 127.0.0.1 that sent hdr and was greeted with
 * greeting. */
static int
open_as(int port, const void *hdr, size_t len, const char *greeting)
{
	int fd = open_nodelay("127.0.0.1", port);

	assert_int_not_equal(fd, -1);
	assert_int_equal(tcp_send(fd, hdr, len), 0);
	expect_line(fd, greeting);
	return fd;
}

/* Fails the test unless a line sent on fd comes back from the peer the
 * greeting named. */
static void
expect_said(int fd, const char *greeting)
{
	char want[256];
	int n = (int)strcspn(greeting + 8, " ");

	snprintf(want, sizeof(want), "%.*s said hi\n", n, greeting + 8);
	assert_reply_on(fd, "hi\n", want, 3000);
}

/* Fails the test unless fd is closed within ms with nothing sent. */
static void
expect_closed_silently(int fd, int ms, const char *what)
{
	char buf[256];
	ssize_t n = tcp_recv_eof(fd, buf, sizeof(buf), ms);

	if (n != 0)
		fail_msg("%s: %s (%zd bytes: \"%s\")", what, n < 0 ?
		    "not closed" : "answered", n, n > 0 ? buf : "");
}

/* Sends SIGUSR1 and fails the test unless whoami's counters line holds
 * want. */
static void
expect_counters(struct harness *h, const char *want)
{
	const char *line;

	assert_int_equal(harness_signal(h, SIGUSR1), 0);
	assert_true(harness_log_wait(h, "whoami: connections", 3000));
	line = harness_log_line(h, "whoami: connections");
	if (strstr(line, want) == NULL)
		fail_msg("no \"%s\" in: %s", want, line);
}

static void
a_v1_header_sent_byte_by_byte_makes_the_carried_address_the_peer(
    void **state)
{
	struct harness *h = *state;
	int port = harness_port(), fd;
	char hdr[128];
	size_t len = v1_header(hdr, sizeof(hdr), "127.0.0.5", 40000);

	serve_whoami(h, port, "banner = \"hi\\r\\n\";");
	assert_int_not_equal(fd = open_nodelay("127.0.0.1", port), -1);
	assert_int_equal(send_bytewise(fd, hdr, len - 1, 3), 0);
	/* Until the header is whole, not even the banner. */
	assert_true(tcp_quiet(fd, 300));
	assert_int_equal(tcp_send(fd, hdr + len - 1, 1), 0);
	expect_line(fd, "hi\r\n");
	expect_line(fd, "you are 127.0.0.5:40000 inet\n");
	assert_reply_on(fd, "hello\n", "127.0.0.5:40000 said hello\n", 3000);
	assert_true(harness_log_wait(h, "whoami 127.0.0.5:40000: open "
	    "(PROXY v1 from 127.0.0.1:", 2000));
	client_close(fd);
	assert_true(harness_log_wait(h, "whoami 127.0.0.5:40000: closed",
	    2000));
	harness_stop_clean(h);
}

static void
a_v2_header_with_tlvs_sent_byte_by_byte_makes_the_carried_address_the_peer(
    void **state)
{
	struct harness *h = *state;
	int port = harness_port(), fd;
	uint8_t block[36 + 3 + 2 + 3 + 3 + 300], hdr[16 + sizeof(block)];
	size_t n = 0, len;

	assert_int_equal(inet_pton(AF_INET6, "2001:db8::7", block), 1);
	assert_int_equal(inet_pton(AF_INET6, "::1", block + 16), 1);
	block[32] = 4242 >> 8;
	block[33] = 4242 & 0xff;
	block[34] = 0;
	block[35] = 7;
	n = 36;
	/* ALPN "h2", a NOOP without value, a vendor's 300 bytes. */
	memcpy(block + n, "\x01\x00\x02h2", 5);
	n += 5;
	memcpy(block + n, "\x04\x00\x00", 3);
	n += 3;
	memcpy(block + n, "\xe0\x01\x2c", 3);
	n += 3;
	memset(block + n, 'v', 300);
	n += 300;
	len = v2_header(hdr, 0x21, 0x21, block, n);
	serve_whoami(h, port, "");
	assert_int_not_equal(fd = open_nodelay("127.0.0.1", port), -1);
	assert_int_equal(send_bytewise(fd, hdr, 40, 3), 0);
	assert_true(tcp_quiet(fd, 100));
	assert_int_equal(send_bytewise(fd, hdr + 40, len - 40, 1), 0);
	expect_line(fd, "you are [2001:db8::7]:4242 inet6\n");
	assert_reply_on(fd, "hello\n", "[2001:db8::7]:4242 said hello\n",
	    3000);
	assert_true(harness_log_wait(h, "whoami [2001:db8::7]:4242: open "
	    "(PROXY v2 from 127.0.0.1:", 2000));
	client_close(fd);
	harness_stop_clean(h);
}

static void
the_bytes_behind_the_header_in_the_same_read_are_the_clients_first_lines(
    void **state)
{
	struct harness *h = *state;
	int port = harness_port(), fd;
	uint8_t buf[128];
	char v1[160];
	size_t len;

	serve_whoami(h, port, "");
	len = v2_tcp4(buf, "127.0.0.5", 5555);
	memcpy(buf + len, "one\ntwo\n", 8);
	fd = open_as(port, buf, len + 8, "you are 127.0.0.5:5555 inet\n");
	expect_line(fd, "127.0.0.5:5555 said one\n");
	expect_line(fd, "127.0.0.5:5555 said two\n");
	client_close(fd);
	len = v1_header(v1, sizeof(v1), "127.0.0.6", 6666);
	/* "PROXY" inside the client's bytes is the client's. */
	memcpy(v1 + len, "PROXY x\n", 9);
	fd = open_as(port, v1, len + 8, "you are 127.0.0.6:6666 inet\n");
	expect_line(fd, "127.0.0.6:6666 said PROXY x\n");
	client_close(fd);
	harness_stop_clean(h);
}

static void
headers_without_a_client_address_keep_the_balancers(void **state)
{
	struct harness *h = *state;
	static const char v1[] = "PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n";
	uint8_t block[216], hdr[300];
	size_t len;
	int port = harness_port(), fd, i;
	char line[256];

	serve_whoami(h, port, "per_source = 0;");
	memset(block, 'x', sizeof(block));
	for (i = 0; i < 4; i++) {
		switch (i) {
		case 0:		/* LOCAL: the block is skipped unread */
			len = v2_header(hdr, 0x20, 0x11, block, 12);
			break;
		case 1:
			len = sizeof(v1) - 1;
			memcpy(hdr, v1, len);
			break;
		case 2:		/* UNSPEC, with bytes to skip */
			len = v2_header(hdr, 0x21, 0x00, block, 5);
			break;
		default:	/* AF_UNIX stream: two paths */
			len = v2_header(hdr, 0x21, 0x31, block, 216);
			break;
		}
		assert_int_not_equal(fd = open_nodelay("127.0.0.1", port),
		    -1);
		assert_int_equal(send_bytewise(fd, hdr, len, 0), 0);
		if (tcp_recv_line(fd, line, sizeof(line), 5000) <= 0)
			fail_msg("header %d: no greeting", i);
		if (strncmp(line, "you are 127.0.0.1:", 18) != 0)
			fail_msg("header %d: %s", i, line);
		expect_said(fd, line);
		client_close(fd);
	}
	assert_true(harness_log_wait(h, "(PROXY v2 LOCAL, no client address)",
	    2000));
	assert_true(harness_log_has(h, "(PROXY v1 UNKNOWN, no client "
	    "address)"));
	assert_true(harness_log_has(h, "(PROXY v2 UNSPEC, no client "
	    "address)"));
	assert_true(harness_log_has(h, "(PROXY v2 AF_UNIX, no client "
	    "address)"));
	harness_stop_clean(h);
}

struct shape {
	const char	*name;
	uint8_t		 b[1300];
	size_t		 len;
	int		 cut;		/* then the balancer closes */
};

/* Every way a header can be wrong, one of each, in the order the log
 * (10 lines per 10 s) shows the first of them. */
static size_t
shapes_fill(struct shape *s)
{
	static const struct { const char *name, *text; } v1[] = {
		{ "no header", "GET / HTTP/1.0\r\n" },
		{ "v1 LF alone", "PROXY TCP4 10.0.0.5 10.0.0.1 1 7\n" },
		{ "v1 bad protocol", "PROXY UDP4 10.0.0.5 10.0.0.1 1 7\r\n" },
		{ "v1 bad address", "PROXY TCP4 10.0.0.256 10.0.0.1 1 7\r\n" },
		{ "v1 v6 address", "PROXY TCP4 ::1 10.0.0.1 1 7\r\n" },
		{ "v1 bad port", "PROXY TCP4 10.0.0.5 10.0.0.1 65536 7\r\n" },
		{ "v1 leading zero", "PROXY TCP4 10.0.0.5 10.0.0.1 01 7\r\n" },
		{ "v1 two spaces", "PROXY TCP4  10.0.0.5 10.0.0.1 1 7\r\n" },
		{ "v1 five fields", "PROXY TCP4 10.0.0.5 10.0.0.1 1\r\n" },
		{ "v1 control byte", "PROXY TCP4 10.0.0.5\t10.0.0.1 1 7\r\n" },
		{ "v1 CR alone", "PROXY TCP4 10.0.0.5\r10.0.0.1 1 7\r\n" },
		{ "lowercase", "proxy TCP4 10.0.0.5 10.0.0.1 1 7\r\n" },
	};
	uint8_t block[1300];
	size_t n = 0, i;

	for (i = 0; i < sizeof(v1) / sizeof(v1[0]); i++, n++) {
		s[n].name = v1[i].name;
		s[n].len = strlen(v1[i].text);
		memcpy(s[n].b, v1[i].text, s[n].len);
	}
	s[n].name = "v1 without CRLF in 107 bytes";
	memcpy(s[n].b, "PROXY UNKNOWN ", 14);
	memset(s[n].b + 14, 'a', 110);
	s[n].len = 124;
	n++;
	memset(block, 0, sizeof(block));
	s[n].name = "v2 version 1";
	s[n].len = v2_header(s[n].b, 0x11, 0x11, block, 12);
	n++;
	s[n].name = "v2 command 2";
	s[n].len = v2_header(s[n].b, 0x22, 0x11, block, 12);
	n++;
	s[n].name = "v2 family 4";
	s[n].len = v2_header(s[n].b, 0x21, 0x41, block, 12);
	n++;
	s[n].name = "v2 UDP";
	s[n].len = v2_header(s[n].b, 0x21, 0x12, block, 12);
	n++;
	s[n].name = "v2 too short for TCP6";
	s[n].len = v2_header(s[n].b, 0x21, 0x21, block, 20);
	n++;
	s[n].name = "v2 1025 bytes of TLVs";
	s[n].len = v2_header(s[n].b, 0x21, 0x11, block, 12 + 1025);
	n++;
	s[n].name = "v2 a TLV past the end";
	block[12] = 0xe0;
	block[13] = 0;
	block[14] = 9;
	s[n].len = v2_header(s[n].b, 0x21, 0x11, block, 12 + 3 + 4);
	n++;
	s[n].name = "v2 signature broken";
	s[n].len = v2_tcp4(s[n].b, "127.0.0.5", 1);
	s[n].b[11] = 0x0b;
	n++;
	s[n].name = "v1 cut";
	s[n].len = 20;
	memcpy(s[n].b, "PROXY TCP4 127.0.0.5", 20);
	s[n].cut = 1;
	n++;
	s[n].name = "v2 cut in its addresses";
	s[n].len = v2_tcp4(s[n].b, "127.0.0.5", 1) - 3;
	s[n].cut = 1;
	n++;
	return n;
}

static void
each_malformed_header_closes_the_connection_silently_and_is_counted(
    void **state)
{
	struct harness *h = *state;
	static struct shape shapes[32];
	size_t n = shapes_fill(shapes), i;
	int port = harness_port(), fd, pass, lines;
	char want[96], msg[128];

	serve_whoami(h, port, "");
	/* Whole, then one byte at a time. */
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < n; i++) {
			fd = open_nodelay("127.0.0.1", port);
			assert_int_not_equal(fd, -1);
			if (pass == 0)
				(void)tcp_send(fd, shapes[i].b, shapes[i].len);
			else
				(void)send_bytewise(fd, shapes[i].b,
				    shapes[i].len, 0);
			if (shapes[i].cut)
				(void)shutdown(fd, SHUT_WR);
			snprintf(msg, sizeof(msg), "%s (%s)", shapes[i].name,
			    pass == 0 ? "whole" : "byte by byte");
			expect_closed_silently(fd, 3000, msg);
			client_close(fd);
		}
	/* The first ones are logged with the balancer's address, the rest
	 * is suppressed. */
	assert_true(harness_log_wait(h, "whoami 127.0.0.1:", 2000));
	assert_true(harness_log_has(h, "no PROXY header, closing"));
	assert_true(harness_log_has(h, "PROXY v1: the line does not end in "
	    "CRLF, closing"));
	assert_true(harness_log_has(h, "PROXY v1: protocol not TCP4"));
	lines = harness_log_count(h, "PROXY") -
	    harness_log_count(h, "open (PROXY");
	if (lines < 5 || lines > 21)
		fail_msg("%d lines about bad headers", lines);
	snprintf(want, sizeof(want), " proxy 0 refused %zu bad 0 timeout;",
	    2 * n);
	expect_counters(h, want);
	assert_false(harness_log_has(h, "you are"));
	/* And it still serves. */
	fd = open_as(port, "PROXY TCP4 127.0.0.5 127.0.0.1 1 7\r\n", 36,
	    "you are 127.0.0.5:1 inet\n");
	client_close(fd);
	harness_stop_clean(h);
}

static void
a_connection_from_outside_proxy_from_is_refused_at_once(void **state)
{
	struct harness *h = *state;
	int port = harness_port(), fd;
	char hdr[128];
	size_t len = v1_header(hdr, sizeof(hdr), "127.0.0.1", 1);

	serve_whoami(h, port, "allow = [\"127.0.0.0/8\"];");
	/* Without sending a byte: the address alone refuses it. */
	assert_int_not_equal(fd = open_nodelay("127.0.0.9", port), -1);
	expect_closed_silently(fd, 2000, "from 127.0.0.9");
	client_close(fd);
	/* A header claiming the balancer's own address changes nothing. */
	assert_int_not_equal(fd = open_nodelay("127.0.0.9", port), -1);
	(void)tcp_send(fd, hdr, len);
	expect_closed_silently(fd, 2000, "from 127.0.0.9 with a header");
	client_close(fd);
	assert_true(harness_log_wait(h, "whoami 127.0.0.9:", 2000));
	assert_true(harness_log_has(h, "refused: not in proxy_from"));
	expect_counters(h, " proxy 2 refused 0 bad 0 timeout;");
	assert_false(harness_log_has(h, "you are"));
	harness_stop_clean(h);
}

static void
a_header_that_never_completes_is_closed_after_proxy_timeout(void **state)
{
	struct harness *h = *state;
	int port = harness_port(), part, none;
	long long t0, dt;

	serve_whoami(h, port, "proxy_timeout = 1; banner = \"hi\\r\\n\";");
	t0 = harness_now_ms();
	assert_int_not_equal(part = open_nodelay("127.0.0.1", port), -1);
	assert_int_not_equal(none = open_nodelay("127.0.0.1", port), -1);
	assert_int_equal(tcp_sends(part, "PROXY TCP4 127.0.0.5 "), 0);
	expect_closed_silently(part, 6000, "a part of a header");
	dt = harness_now_ms() - t0;
	printf("# closed after %lld ms (proxy_timeout = 1)\n", dt);
	if (dt < 900)
		fail_msg("closed after %lld ms, before proxy_timeout", dt);
	expect_closed_silently(none, 6000, "no header at all");
	assert_true(harness_log_wait(h, "no complete PROXY header within 1s, "
	    "closing", 2000));
	expect_counters(h, " proxy 0 refused 0 bad 2 timeout;");
	harness_stop_clean(h);
}

static void
the_idle_timeout_does_not_cut_a_header_short(void **state)
{
	struct harness *h = *state;
	int port = harness_port(), fd;
	char hdr[128];
	size_t len = v1_header(hdr, sizeof(hdr), "127.0.0.5", 1);

	serve_whoami(h, port, "proxy_timeout = 30; idle_timeout = 1;");
	assert_int_not_equal(fd = open_nodelay("127.0.0.1", port), -1);
	/* The idle sweep runs every second: it passes twice. */
	assert_true(tcp_quiet(fd, 2500));
	assert_int_equal(tcp_send(fd, hdr, len), 0);
	expect_line(fd, "you are 127.0.0.5:1 inet\n");
	/* From now on the idle timeout holds. */
	expect_closed_silently(fd, 6000, "idle after its header");
	harness_stop_clean(h);
}

static void
per_source_counts_the_carried_address_and_releases_it_at_close(
    void **state)
{
	struct harness *h = *state;
	int port = harness_port(), a, b, c, d;
	char hdr[128], buf[256];
	size_t len;

	serve_whoami(h, port, "per_source = 1; rate = 0;");
	len = v1_header(hdr, sizeof(hdr), "127.0.0.5", 1);
	a = open_as(port, hdr, len, "you are 127.0.0.5:1 inet\n");
	/* The same client again, through the same balancer: busy. */
	len = v1_header(hdr, sizeof(hdr), "127.0.0.5", 2);
	assert_int_not_equal(b = open_nodelay("127.0.0.1", port), -1);
	assert_int_equal(tcp_send(b, hdr, len), 0);
	assert_int_equal(tcp_recv_eof(b, buf, sizeof(buf), 3000),
	    strlen(BUSY "\r\n"));
	assert_string_equal(buf, BUSY "\r\n");
	client_close(b);
	/* Refused, it gave back nothing it had not taken. */
	len = v1_header(hdr, sizeof(hdr), "127.0.0.5", 5);
	assert_int_not_equal(b = open_nodelay("127.0.0.1", port), -1);
	assert_int_equal(tcp_send(b, hdr, len), 0);
	assert_int_equal(tcp_recv_eof(b, buf, sizeof(buf), 3000),
	    strlen(BUSY "\r\n"));
	client_close(b);
	/* Another client through the same balancer: served. */
	len = v1_header(hdr, sizeof(hdr), "127.0.0.6", 3);
	c = open_as(port, hdr, len, "you are 127.0.0.6:3 inet\n");
	assert_true(harness_log_wait(h, "whoami 127.0.0.5:2: refused: "
	    "per_source (1) reached", 2000));
	/* The first one leaves: its place is given back, on its key. */
	client_close(a);
	assert_true(harness_log_wait(h, "whoami 127.0.0.5:1: closed", 2000));
	len = v1_header(hdr, sizeof(hdr), "127.0.0.5", 4);
	d = open_as(port, hdr, len, "you are 127.0.0.5:4 inet\n");
	expect_counters(h, "accepted, 2 open, refused 0 busy 0 acl "
	    "2 per_source 0 rate 0 no_fds; proxy 0 refused 0 bad 0 timeout;");
	assert_true(strstr(harness_log_line(h, "whoami: connections"),
	    "connections 3 accepted") != NULL);
	client_close(c);
	client_close(d);
	harness_stop_clean(h);
}

static void
allow_and_deny_judge_the_carried_address(void **state)
{
	struct harness *h = *state;
	int port = harness_port(), fd;
	uint8_t hdr[64];
	size_t len;

	serve_whoami(h, port, "deny = [\"127.0.0.66\"];");
	len = v2_tcp4(hdr, "127.0.0.66", 66);
	assert_int_not_equal(fd = open_nodelay("127.0.0.1", port), -1);
	assert_int_equal(tcp_send(fd, hdr, len), 0);
	expect_closed_silently(fd, 3000, "a denied client");
	client_close(fd);
	assert_true(harness_log_wait(h, "whoami 127.0.0.66:66: refused by "
	    "allow/deny", 2000));
	len = v2_tcp4(hdr, "127.0.0.67", 67);
	fd = open_as(port, hdr, len, "you are 127.0.0.67:67 inet\n");
	client_close(fd);
	expect_counters(h, "refused 0 busy 1 acl");
	harness_stop_clean(h);
}

static void
rate_judges_the_carried_address(void **state)
{
	struct harness *h = *state;
	int port = harness_port(), a, b, c;
	char hdr[128], buf[256];
	size_t len;

	/* One new connection a second per client, and no burst. */
	serve_whoami(h, port, "rate = 1; burst = 1; per_source = 0;");
	len = v1_header(hdr, sizeof(hdr), "127.0.0.5", 1);
	a = open_as(port, hdr, len, "you are 127.0.0.5:1 inet\n");
	len = v1_header(hdr, sizeof(hdr), "127.0.0.5", 2);
	assert_int_not_equal(b = open_nodelay("127.0.0.1", port), -1);
	assert_int_equal(tcp_send(b, hdr, len), 0);
	assert_int_equal(tcp_recv_eof(b, buf, sizeof(buf), 3000),
	    strlen(BUSY "\r\n"));
	len = v1_header(hdr, sizeof(hdr), "127.0.0.6", 3);
	c = open_as(port, hdr, len, "you are 127.0.0.6:3 inet\n");
	assert_true(harness_log_wait(h, "whoami 127.0.0.5:2: refused: over "
	    "rate (1/s)", 2000));
	clients_close((int[]){ a, b, c }, 3);
	harness_stop_clean(h);
}

static void
a_connection_waiting_for_its_header_holds_a_place_under_max_connections(
    void **state)
{
	struct harness *h = *state;
	int port = harness_port(), a, b;
	char hdr[128], buf[256];
	size_t len = v1_header(hdr, sizeof(hdr), "127.0.0.5", 1);

	serve_whoami(h, port, "max_connections = 1;");
	assert_int_not_equal(a = open_nodelay("127.0.0.1", port), -1);
	harness_sleep_ms(harness_ms(200));
	assert_int_not_equal(b = open_nodelay("127.0.0.1", port), -1);
	assert_int_equal(tcp_recv_eof(b, buf, sizeof(buf), 3000),
	    strlen(BUSY "\r\n"));
	client_close(b);
	assert_int_equal(tcp_send(a, hdr, len), 0);
	expect_line(a, "you are 127.0.0.5:1 inet\n");
	client_close(a);
	harness_stop_clean(h);
}

static void
a_connection_waiting_for_its_header_is_no_peer_of_the_handlers(
    void **state)
{
	struct harness *h = *state;
	int port = harness_port(), a, b;
	char hdr[128];
	size_t len = v1_header(hdr, sizeof(hdr), "127.0.0.5", 1);

	serve_whoami(h, port, "");
	a = open_as(port, hdr, len, "you are 127.0.0.5:1 inet\n");
	assert_int_not_equal(b = open_nodelay("127.0.0.1", port), -1);
	assert_int_equal(tcp_send(b, hdr, 8), 0);
	harness_sleep_ms(harness_ms(100));
	assert_reply_on(a, "peers\n", "0 peers\n", 3000);
	assert_int_equal(tcp_send(b, hdr + 8, len - 8), 0);
	expect_line(b, "you are 127.0.0.5:1 inet\n");
	assert_reply_on(a, "peers\n", "1 peers\n", 3000);
	client_close(a);
	client_close(b);
	harness_stop_clean(h);
}

static void
udp_of_a_proxy_service_is_served_as_before(void **state)
{
	struct harness *h = *state;
	int port = harness_port(), fd;
	char buf[64];

	harness_serve(h, "services = ({ name = \"echo\"; port = %d; "
	    "bind = \"127.0.0.1\"; " BOTH " proxy_protocol = true; "
	    "proxy_from = [\"127.0.0.1\"]; });\n", port);
	assert_int_equal(udp_ask_str("127.0.0.1", port, "ping", 4, buf,
	    sizeof(buf), 3000), 4);
	assert_string_equal(buf, "ping");
	/* TCP without a header is not served. */
	assert_int_not_equal(fd = open_nodelay("127.0.0.1", port), -1);
	assert_int_equal(tcp_sends(fd, "ping\n"), 0);
	expect_closed_silently(fd, 3000, "TCP without a header");
	client_close(fd);
	harness_stop_clean(h);
}

static void
with_two_workers_one_balancers_clients_are_counted_together(void **state)
{
	struct harness *h = *state;
	int port = harness_port(), a[8], served, busy, i;
	char hdr[128], buf[256];
	size_t len;

	harness_serve_quiet(h, 2, "services = ({ name = \"whoami\"; "
	    "port = %d; bind = \"127.0.0.1\"; handler = \"whoami\"; "
	    "proxy_protocol = true; proxy_from = [\"127.0.0.1\"]; "
	    "per_source = 1; rate = 0; busy = \"" BUSY "\\r\\n\"; });\n",
	    port);
	/* Every connection of the balancer lands on one worker, so
	 * per_source holds for its clients as with one. */
	for (i = 0; i < 8; i++) {
		len = v1_header(hdr, sizeof(hdr), "127.0.0.5", 10 + i);
		assert_int_not_equal(a[i] = open_nodelay("127.0.0.1", port),
		    -1);
		assert_int_equal(tcp_send(a[i], hdr, len), 0);
	}
	/* Which one is read first is the loop's choice. */
	for (i = 0, served = busy = 0; i < 8; i++) {
		if (tcp_recv_line(a[i], buf, sizeof(buf), 5000) <= 0)
			fail_msg("connection %d: no answer", i);
		if (strncmp(buf, "you are 127.0.0.5:", 18) == 0)
			served++;
		else if (strcmp(buf, BUSY "\r\n") == 0)
			busy++;
		else
			fail_msg("connection %d: %s", i, buf);
	}
	assert_int_equal(served, 1);
	assert_int_equal(busy, 7);
	clients_close(a, 8);
	harness_stop_clean(h);
}

static void
a_balancer_that_connects_and_closes_without_a_byte_is_not_counted(
    void **state)
{
	struct harness *h = *state;
	int port = harness_port(), fd;
	struct linger lg = { 1, 0 };

	serve_whoami(h, port, "");
	/* A health check: connect, close; then one that resets. */
	assert_int_not_equal(fd = open_nodelay("127.0.0.1", port), -1);
	client_close(fd);
	assert_true(harness_log_wait(h, "closed before a PROXY header",
	    3000));
	assert_int_not_equal(fd = open_nodelay("127.0.0.1", port), -1);
	harness_sleep_ms(harness_ms(100));
	(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	client_close(fd);
	assert_true(harness_log_wait(h, "read: connection reset", 3000));
	expect_counters(h, " proxy 0 refused 0 bad 0 timeout;");
	assert_true(strstr(harness_log_line(h, "whoami: connections"),
	    "0 accepted, 0 open") != NULL);
	harness_stop_clean(h);
}

/* A chat room behind a balancer, per_source 1, with history hist. */
static void
chat_proxy_config(struct harness *h, int port, int hist)
{
	harness_config(h, "services = ({ name = \"chat\"; port = %d; "
	    "bind = \"127.0.0.1\"; proxy_protocol = true; "
	    "proxy_from = [\"127.0.0.1\"]; per_source = 1; rate = 0; "
	    "busy = \"" BUSY "\\r\\n\"; options = { history = %d; }; });\n",
	    port, hist);
}

static void
a_reload_that_keeps_a_chat_room_keeps_a_header_on_its_way(void **state)
{
	struct harness *h = *state;
	int port = harness_port(), a, b, c;
	char hdr[128], buf[256];
	size_t len;

	chat_proxy_config(h, port, 20);
	assert_int_equal(harness_start(h, NULL), 0);
	len = v1_header(hdr, sizeof(hdr), "127.0.0.5", 1);
	assert_int_not_equal(a = open_nodelay("127.0.0.1", port), -1);
	assert_int_equal(tcp_send(a, hdr, len), 0);
	assert_true(tcp_expect(a, "you are guest1", 5000));
	/* b is half way through its header when the room is reloaded. */
	len = v1_header(hdr, sizeof(hdr), "127.0.0.5", 2);
	assert_int_not_equal(b = open_nodelay("127.0.0.1", port), -1);
	assert_int_equal(tcp_send(b, hdr, 10), 0);
	assert_int_not_equal(c = open_nodelay("127.0.0.1", port), -1);
	assert_int_equal(tcp_send(c, "PROXY TCP4 127.0.0.6", 20), 0);
	/* Not in the room yet: the room's lines are not for them. */
	harness_sleep_ms(harness_ms(100));
	assert_int_equal(tcp_sends(a, "before the reload\n"), 0);
	assert_true(tcp_quiet(b, 300));
	assert_true(tcp_quiet(c, 1));
	chat_proxy_config(h, port, 21);
	harness_signal(h, SIGHUP);
	assert_true(harness_log_wait(h, "reload done: 1 services", 10000));
	assert_true(harness_log_has(h, "chat: reconfigured, 3 connections "
	    "kept"));
	/* The room counted 127.0.0.5 once, and still does. */
	assert_int_equal(tcp_send(b, hdr + 10, len - 10), 0);
	assert_int_equal(tcp_recv_eof(b, buf, sizeof(buf), 5000),
	    strlen(BUSY "\r\n"));
	assert_string_equal(buf, BUSY "\r\n");
	assert_int_equal(tcp_sends(c, " 127.0.0.1 3 7\r\nhello\n"), 0);
	assert_true(tcp_expect(c, "you are guest2", 5000));
	assert_true(tcp_expect(a, "<guest2> hello", 5000));
	client_close(a);
	assert_true(tcp_expect(c, "guest1 left", 5000));
	/* Its place given back on the room that took it over. */
	len = v1_header(hdr, sizeof(hdr), "127.0.0.5", 4);
	assert_int_not_equal(a = open_nodelay("127.0.0.1", port), -1);
	assert_int_equal(tcp_send(a, hdr, len), 0);
	assert_true(tcp_expect(a, "you are guest3", 5000));
	/* Nothing was counted on the balancer's own address, which a LOCAL
	 * header keeps. */
	len = v2_header((uint8_t *)hdr, 0x20, 0x00, "", 0);
	assert_int_not_equal(b = open_nodelay("127.0.0.1", port), -1);
	assert_int_equal(tcp_send(b, hdr, len), 0);
	assert_true(tcp_expect(b, "you are guest4", 5000));
	client_close(a);
	client_close(b);
	client_close(c);
	harness_stop_clean(h);
}

/*
 * HAProxy, a child of the test: started with the config in the
 * harness's dir, killed and reaped at teardown, and with PDEATHSIG so
 * that it dies with the test whatever way that ends.
 */
static pid_t	 haproxy_pid;
static char	 haproxy_log[256];

static void
haproxy_kill(void)
{
	if (haproxy_pid > 0) {
		(void)kill(haproxy_pid, SIGKILL);
		(void)waitpid(haproxy_pid, NULL, 0);
		haproxy_pid = 0;
	}
}

static const char *
haproxy_path(void)
{
	static const char *const dirs[] = { "/usr/sbin", "/usr/local/sbin",
	    "/usr/bin", "/sbin", "/bin" };
	static char path[64];
	size_t i;

	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/haproxy", dirs[i]);
		if (access(path, X_OK) == 0)
			return path;
	}
	return NULL;
}

/* What HAProxy wrote to its standard error, at most 4 KiB of it. */
static const char *
haproxy_said(void)
{
	static char text[4096];
	FILE *f;
	size_t n = 0;

	if ((f = fopen(haproxy_log, "r")) != NULL) {
		n = fread(text, 1, sizeof(text) - 1, f);
		fclose(f);
	}
	text[n] = '\0';
	return text;
}

/* 1 when something listens on 127.0.0.1:port (from /proc/net/tcp, so
 * that looking does not open a connection through HAProxy). */
static int
listening(int port)
{
	FILE *f = fopen("/proc/net/tcp", "r");
	char line[512], want[32];
	int found = 0;

	if (f == NULL)
		return 0;
	snprintf(want, sizeof(want), "0100007F:%04X 00000000:0000 0A", port);
	while (!found && fgets(line, sizeof(line), f) != NULL)
		found = strstr(line, want) != NULL;
	fclose(f);
	return found;
}

/* Starts HAProxy with a frontend on v1 to a send-proxy backend and one
 * on v2 to a send-proxy-v2 backend, both to sockd on 127.0.0.1:port;
 * fails the test unless both listen within 10 s. */
static void
haproxy_start(struct harness *h, int port, int v1, int v2)
{
	const char *bin = haproxy_path(), *cfg, *log;
	long long deadline;
	pid_t parent = getpid();
	int fd, status;

	cfg = harness_write(h, "haproxy.cfg",
	    "global\n"
	    "\tnbthread 1\n"
	    "defaults\n"
	    "\tmode tcp\n"
	    "\ttimeout connect 5s\n"
	    "\ttimeout client 30s\n"
	    "\ttimeout server 30s\n"
	    "frontend v1\n"
	    "\tbind 127.0.0.1:%d\n"
	    "\tdefault_backend sockd_v1\n"
	    "frontend v2\n"
	    "\tbind 127.0.0.1:%d\n"
	    "\tdefault_backend sockd_v2\n"
	    "backend sockd_v1\n"
	    "\tserver s1 127.0.0.1:%d send-proxy\n"
	    "backend sockd_v2\n"
	    "\tserver s2 127.0.0.1:%d send-proxy-v2\n",
	    v1, v2, port, port);
	snprintf(haproxy_log, sizeof(haproxy_log), "%s/haproxy.log",
	    harness_dir(h));
	log = haproxy_log;
	if ((haproxy_pid = fork()) == -1)
		fail_msg("fork: %s", strerror(errno));
	if (haproxy_pid == 0) {
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 ||
		    getppid() != parent)
			_exit(127);
		if ((fd = open("/dev/null", O_RDONLY)) != -1) {
			dup2(fd, 0);
			close(fd);
		}
		if ((fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644)) !=
		    -1) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		signal(SIGPIPE, SIG_DFL);
		signal(SIGALRM, SIG_DFL);
		execl(bin, "haproxy", "-f", cfg, "-db", (char *)NULL);
		_exit(127);
	}
	deadline = harness_now_ms() + harness_ms(10000);
	while (!listening(v1) || !listening(v2)) {
		if (waitpid(haproxy_pid, &status, WNOHANG) == haproxy_pid) {
			haproxy_pid = 0;
			fail_msg("haproxy exited (status %d): %s", status,
			    haproxy_said());
		}
		if (harness_now_ms() > deadline)
			fail_msg("haproxy does not listen on %d and %d: %s",
			    v1, v2, haproxy_said());
		harness_sleep_ms(20);
	}
}

static int
haproxy_setup(void **state)
{
	if (haproxy_path() == NULL) {
		printf("# haproxy is not installed (sh .ci/install-deps "
		    "proxy): skipped\n");
		*state = NULL;
		return 0;
	}
	return harness_setup(state);
}

static int
haproxy_teardown(void **state)
{
	if (*state != NULL && getenv("SOCKD_E2E_VERBOSE") != NULL)
		fprintf(stderr, "---- haproxy log ----\n%s---- end ----\n",
		    haproxy_said());
	haproxy_kill();
	return *state == NULL ? 0 : harness_teardown(state);
}

static void
haproxy_send_proxy_and_v2_carry_the_clients_address(void **state)
{
	struct harness *h = *state;
	int port, v1, v2, fd, i;
	char line[256];

	if (h == NULL)
		skip();
	port = harness_port();
	v1 = harness_port();
	v2 = harness_port();
	serve_whoami(h, port, "");
	haproxy_start(h, port, v1, v2);
	for (i = 0; i < 2; i++) {
		assert_int_not_equal(fd = tcp_open_from("127.0.0.5",
		    i == 0 ? v1 : v2), -1);
		if (tcp_recv_line(fd, line, sizeof(line), 5000) <= 0)
			fail_msg("send-proxy%s: no greeting", i ? "-v2" : "");
		/* The client, not HAProxy's 127.0.0.1. */
		if (strncmp(line, "you are 127.0.0.5:", 18) != 0)
			fail_msg("send-proxy%s: %s", i ? "-v2" : "", line);
		expect_said(fd, line);
		client_close(fd);
	}
	assert_true(harness_log_wait(h, "open (PROXY v1 from 127.0.0.1:",
	    2000));
	assert_true(harness_log_wait(h, "open (PROXY v2 from 127.0.0.1:",
	    2000));
	assert_true(strstr(harness_log_line(h, "open (PROXY v1"),
	    "whoami 127.0.0.5:") != NULL);
	assert_true(strstr(harness_log_line(h, "open (PROXY v2"),
	    "whoami 127.0.0.5:") != NULL);
	assert_false(harness_log_has(h, "whoami 127.0.0.1:"));
	harness_stop_clean(h);
}

static void
through_haproxy_per_source_counts_the_client_not_the_balancer(
    void **state)
{
	struct harness *h = *state;
	int port, v1, v2, a, b, c, i;
	long long deadline;
	char buf[256];

	if (h == NULL)
		skip();
	port = harness_port();
	v1 = harness_port();
	v2 = harness_port();
	serve_whoami(h, port, "per_source = 1; rate = 0;");
	haproxy_start(h, port, v1, v2);
	for (i = 0; i < 2; i++) {
		assert_int_not_equal(a = tcp_open_from("127.0.0.5",
		    i == 0 ? v1 : v2), -1);
		assert_true(tcp_expect(a, "you are 127.0.0.5:", 5000));
		/* A second one from 127.0.0.5 is turned away... */
		assert_int_not_equal(b = tcp_open_from("127.0.0.5",
		    i == 0 ? v1 : v2), -1);
		if (tcp_recv_eof(b, buf, sizeof(buf), 5000) < 0 ||
		    strcmp(buf, BUSY "\r\n") != 0)
			fail_msg("second from 127.0.0.5: \"%s\"", buf);
		/* ...while 127.0.0.6 is served. */
		assert_int_not_equal(c = tcp_open_from("127.0.0.6",
		    i == 0 ? v1 : v2), -1);
		assert_true(tcp_expect(c, "you are 127.0.0.6:", 5000));
		client_close(a);
		client_close(b);
		client_close(c);
		/* All three gone from sockd before the next round. */
		deadline = harness_now_ms() + harness_ms(5000);
		while (harness_log_count(h, ": closed") < 3 * (i + 1)) {
			if (harness_now_ms() > deadline)
				fail_msg("round %d: not all closed", i);
			harness_sleep_ms(20);
		}
	}
	assert_int_equal(harness_log_count(h, "refused: per_source (1) "
	    "reached"), 2);
	assert_true(strstr(harness_log_line(h, "refused: per_source"),
	    "whoami 127.0.0.5:") != NULL);
	harness_stop_clean(h);
}

#define T(f)	HARNESS_TEST(f)
#define TH(f)	cmocka_unit_test_setup_teardown(f, haproxy_setup, \
		    haproxy_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(a_v1_header_sent_byte_by_byte_makes_the_carried_address_the_peer),
		T(a_v2_header_with_tlvs_sent_byte_by_byte_makes_the_carried_address_the_peer),
		T(the_bytes_behind_the_header_in_the_same_read_are_the_clients_first_lines),
		T(headers_without_a_client_address_keep_the_balancers),
		T(each_malformed_header_closes_the_connection_silently_and_is_counted),
		T(a_connection_from_outside_proxy_from_is_refused_at_once),
		T(a_header_that_never_completes_is_closed_after_proxy_timeout),
		T(the_idle_timeout_does_not_cut_a_header_short),
		T(per_source_counts_the_carried_address_and_releases_it_at_close),
		T(allow_and_deny_judge_the_carried_address),
		T(rate_judges_the_carried_address),
		T(a_connection_waiting_for_its_header_holds_a_place_under_max_connections),
		T(a_connection_waiting_for_its_header_is_no_peer_of_the_handlers),
		T(udp_of_a_proxy_service_is_served_as_before),
		T(with_two_workers_one_balancers_clients_are_counted_together),
		T(a_balancer_that_connects_and_closes_without_a_byte_is_not_counted),
		T(a_reload_that_keeps_a_chat_room_keeps_a_header_on_its_way),
		TH(haproxy_send_proxy_and_v2_carry_the_clients_address),
		TH(through_haproxy_per_source_counts_the_client_not_the_balancer),
	};

	return HARNESS_RUN(tests);
}
