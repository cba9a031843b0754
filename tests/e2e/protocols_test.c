/*
 * End-to-end tests of what real protocol clients send: a telnet client's
 * option negotiation in a chat room, the probes daytime gets from "echo |
 * nc -u", nmap and people ("what time is it?"), the TCP daytime line that
 * clients parse, and a UDP chat room that one datagram must not turn into
 * a flood, with peers on several loopback addresses (127.0.0.2 ...) and on
 * many ports of one.  Times are compared with the test's clock, allowing
 * 2 s.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include "harness.h"

#define LOOPBACK	"bind = [\"127.0.0.1\", \"::1\"];"
#define BOTH		"protocol = [\"tcp\", \"udp\"];"

/* Parses s exactly as fmt (strptime), local time; fails the test unless
 * it is within 2 s of now. */
static void
assert_time_now(const char *s, const char *fmt)
{
	struct tm	 tm;
	const char	*end;
	time_t		 t, now = time(NULL);

	memset(&tm, 0, sizeof(tm));
	tm.tm_isdst = -1;
	end = strptime(s, fmt, &tm);
	if (end == NULL || *end != '\0')
		fail_msg("\"%s\" does not match \"%s\"", s, fmt);
	t = mktime(&tm);
	if (t < now - 2 || t > now + 2)
		fail_msg("\"%s\" is %lld s away from now", s,
		    (long long)(t - now));
}

/* daytime */

static void
udp_daytime_answers_plain_text_with_the_date(void **state)
{
	static const struct {
		const char	*text;
		size_t		 len;
	} plain[] = {
		{ "\n", 1 },			/* echo | nc -u */
		{ "\r\n", 2 },
		{ "what time is it?", 16 },
		{ "dummy", 5 },			/* nmap's daytime.nse */
		{ "", 0 },
	};
	struct harness	*h = *state;
	char		 buf[512];
	ssize_t		 n;
	size_t		 i;
	int		 port = harness_port();

	harness_config(h, "services = ({ name = \"daytime\"; port = %d; "
	    BOTH LOOPBACK " });\n", port);
	assert_int_equal(harness_start(h, NULL), 0);
	for (i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
		n = udp_ask("127.0.0.1", port, plain[i].text, plain[i].len,
		    buf, sizeof(buf) - 1, 2000);
		if (n != 19)
			fail_msg("\"%s\": %zd bytes back", plain[i].text, n);
		buf[n] = '\0';
		assert_time_now(buf, "%Y-%m-%d %H:%M:%S");
	}
	/* A format's line end is no part of it. */
	n = udp_ask("::1", port, "%Y-%m-%d %X\n", 12, buf, sizeof(buf) - 1,
	    2000);
	assert_int_equal(n, 19);
	buf[n] = '\0';
	assert_time_now(buf, "%Y-%m-%d %H:%M:%S");
	harness_stop_clean(h);
}

static void
tcp_daytime_sends_inetds_line_that_parses(void **state)
{
	struct harness	*h = *state;
	char		 buf[512];
	ssize_t		 n;
	int		 fd, a = harness_port(), b = harness_port();

	harness_config(h, "services = (\n"
	    "  { name = \"daytime\"; port = %d; " BOTH LOOPBACK " },\n"
	    "  { name = \"iso\"; handler = \"daytime\"; port = %d; "
	    "protocol = \"tcp\"; " LOOPBACK " options = { format = "
	    "\"%%Y-%%m-%%d %%X\"; }; }\n"
	    ");\n", a, b);
	assert_int_equal(harness_start(h, NULL), 0);
	fd = tcp_open("127.0.0.1", a);
	assert_true(fd >= 0);
	/* "Tue Dec  1 09:47:20 2026\r\n" */
	n = tcp_recv_eof(fd, buf, sizeof(buf), 3000);
	assert_int_equal(n, 26);
	assert_memory_equal(buf + 24, "\r\n", 2);
	buf[24] = '\0';
	assert_time_now(buf, "%a %b %e %H:%M:%S %Y");
	client_close(fd);
	/* A config that sets format keeps it on TCP. */
	fd = tcp_open("::1", b);
	assert_true(fd >= 0);
	n = tcp_recv_eof(fd, buf, sizeof(buf), 3000);
	assert_int_equal(n, 21);
	buf[19] = '\0';
	assert_time_now(buf, "%Y-%m-%d %H:%M:%S");
	client_close(fd);
	harness_stop_clean(h);
}

/* chat over TCP */

/* Reads one line into line (NUL-terminated); its length, or -1. */
static ssize_t
chat_line(int fd, char *line, size_t size, int ms)
{
	ssize_t	 n = tcp_recv_line(fd, line, size, ms);

	return n > 0 ? n : -1;
}

/* Joins and reads the welcome until quiet; the nick the room gave. */
static int
chat_join(int port, char *nick, size_t size)
{
	char	 line[4096], *p;
	size_t	 n;
	int	 fd;

	if ((fd = tcp_open("127.0.0.1", port)) == -1)
		return -1;
	*nick = '\0';
	while (tcp_recv_line(fd, line, sizeof(line), 500) > 0)
		if (*nick == '\0' && (p = strstr(line, "guest")) != NULL) {
			for (n = 5; isdigit((unsigned char)p[n]); n++)
				;
			snprintf(nick, size, "%.*s", (int)n, p);
		}
	return fd;
}

static void
telnet_negotiation_reaches_the_room_as_nothing(void **state)
{
	/* What telnet(1) sends on connect, then its answers. */
	static const char nego[] =
	    "\xff\xfd\x03"		/* DO SUPPRESS-GO-AHEAD */
	    "\xff\xfb\x18"		/* WILL TERMINAL-TYPE */
	    "\xff\xfb\x1f"		/* WILL NAWS */
	    "\xff\xfb\x20"		/* WILL TERMINAL-SPEED */
	    "\xff\xfb\x21"		/* WILL LFLOW */
	    "\xff\xfb\x22"		/* WILL LINEMODE */
	    "\xff\xfb\x27"		/* WILL NEW-ENVIRON */
	    "\xff\xfd\x05";		/* DO STATUS */
	static const char sub[] =
	    "\xff\xfa\x1f\x00\x50\x00\x18\xff\xf0"	/* NAWS 80x24 */
	    "\xff\xfa\x18\x00" "XTERM-256COLOR\xff\xf0"	/* TTYPE IS */
	    "\xff\xfc\x01"				/* WONT ECHO */
	    "hello\r\n";
	struct harness	*h = *state;
	char		 line[4096], nick[2][32], want[64];
	int		 c[3], port = harness_port();

	harness_config(h, "services = ({ name = \"chat\"; port = %d; "
	    "protocol = \"tcp\"; " LOOPBACK " });\n", port);
	assert_int_equal(harness_start(h, NULL), 0);
	c[0] = chat_join(port, nick[0], sizeof(nick[0]));
	assert_true(c[0] >= 0);
	c[1] = tcp_open("127.0.0.1", port);
	assert_true(c[1] >= 0);
	assert_int_equal(tcp_send(c[1], nego, sizeof(nego) - 1), 0);
	/* No newline: line_timeout hands it over alone. */
	assert_true(chat_line(c[0], line, sizeof(line), 3000) > 0);
	assert_non_null(strstr(line, " joined\r\n"));
	snprintf(nick[1], sizeof(nick[1]), "%.*s",
	    (int)(strstr(line, " joined") - line - 2), line + 2);
	usleep(300 * 1000);
	assert_int_equal(tcp_send(c[1], sub, sizeof(sub) - 1), 0);
	assert_true(chat_line(c[0], line, sizeof(line), 3000) > 0);
	snprintf(want, sizeof(want), "<%s> hello\r\n", nick[1]);
	assert_string_equal(line, want);
	/* Nothing else: no line of negotiation, no answer to it. */
	assert_true(tcp_quiet(c[0], 500));
	/* The history holds the text alone. */
	c[2] = tcp_open("127.0.0.1", port);
	assert_true(c[2] >= 0);
	while (chat_line(c[2], line, sizeof(line), 500) > 0) {
		if (strchr(line, '\xff') != NULL)
			fail_msg("0xff in \"%s\"", line);
		if (line[0] == '<')
			assert_string_equal(line, want);
	}
	client_close(c[0]);
	client_close(c[1]);
	client_close(c[2]);
	harness_stop_clean(h);
}

/* chat over UDP */

/* A UDP socket bound to addr, any port, connected to 127.0.0.1:port. */
static int
udp_from(const char *addr, int port)
{
	struct sockaddr_in	 sin;
	int			 fd;

	if ((fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1)
		goto fail;
	sin.sin_port = htons(port);
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1)
		goto fail;
	return fd;
fail:
	close(fd);
	return -1;
}

/* Reads what the n sockets in fd get: until first_ms for the first
 * datagram, then ms more for any others (a loaded machine may be slow to
 * send the first; the rest follow at once).  The datagrams in *count, the
 * bytes returned. */
static size_t
udp_collect(const int *fd, int n, int first_ms, int ms, int *count)
{
	char		 buf[2048];
	long long	 deadline = harness_now_ms() + harness_ms(first_ms);
	size_t		 total = 0;
	ssize_t		 r;
	int		 i;

	*count = 0;
	while (harness_now_ms() < deadline)
		for (i = 0; i < n; i++)
			while ((r = udp_recv(fd[i], buf, sizeof(buf), 5)) >=
			    0) {
				if ((*count)++ == 0)
					deadline = harness_now_ms() +
					    harness_ms(ms);
				total += (size_t)r;
			}
	return total;
}

static void
one_udp_chat_line_costs_at_most_its_size_plus_64(void **state)
{
	struct harness	*h = *state;
	char		 addr[32];
	int		 fd[8], talker, count, i, port = harness_port();
	size_t		 total;

	harness_config(h, "services = ({ name = \"chat\"; port = %d; "
	    "protocol = \"udp\"; bind = \"127.0.0.1\"; });\n", port);
	assert_int_equal(harness_start(h, NULL), 0);
	for (i = 0; i < 8; i++) {
		snprintf(addr, sizeof(addr), "127.0.0.%d", i + 2);
		fd[i] = udp_from(addr, port);
		assert_true(fd[i] >= 0);
		assert_int_equal(udp_send(fd[i], "", 0), 0);	/* joins */
	}
	talker = udp_from("127.0.0.10", port);
	assert_true(talker >= 0);
	assert_int_equal(udp_send(talker, "hello", 5), 0);
	total = udp_collect(fd, 8, 5000, 1000, &count);
	/* "<127.0.0.10:PORT> hello\r\n" fits twice in 5 + 64 bytes. */
	if (total > 5 + 64 || count < 1)
		fail_msg("%d datagrams, %zu bytes for 5", count, total);
	for (i = 0; i < 8; i++)
		close(fd[i]);
	close(talker);
	harness_stop_clean(h);
}

static void
udp_chat_peers_on_many_ports_of_one_address_are_one(void **state)
{
	struct harness	*h = *state;
	int		 fd[10], talker, count, i, port = harness_port();
	char		 buf[256];
	ssize_t		 n;

	/* Growth allowed, so that only the peer table limits the fan-out. */
	harness_config(h, "services = ({ name = \"chat\"; port = %d; "
	    "protocol = \"udp\"; bind = \"127.0.0.1\"; "
	    "max_reply_growth = -1; });\n", port);
	assert_int_equal(harness_start(h, NULL), 0);
	for (i = 0; i < 10; i++) {
		fd[i] = udp_from("127.0.0.2", port);
		assert_true(fd[i] >= 0);
		assert_int_equal(udp_send(fd[i], "", 0), 0);
	}
	talker = udp_from("127.0.0.3", port);
	assert_true(talker >= 0);
	assert_int_equal(udp_send(talker, "hello", 5), 0);
	/* The last port heard from is the address's one entry. */
	n = udp_recv(fd[9], buf, sizeof(buf) - 1, 2000);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_non_null(strstr(buf, "> hello\r\n"));
	udp_collect(fd, 9, 500, 500, &count);
	assert_int_equal(count, 0);
	for (i = 0; i < 10; i++)
		close(fd[i]);
	close(talker);
	harness_stop_clean(h);
}

int
main(void)
{
#define T(f)	cmocka_unit_test_setup_teardown(f, harness_setup, \
		    harness_teardown)
	const struct CMUnitTest tests[] = {
		T(udp_daytime_answers_plain_text_with_the_date),
		T(tcp_daytime_sends_inetds_line_that_parses),
		T(telnet_negotiation_reaches_the_room_as_nothing),
		T(one_udp_chat_line_costs_at_most_its_size_plus_64),
		T(udp_chat_peers_on_many_ports_of_one_address_are_one),
	};
#undef T

	harness_filter();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
