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

	harness_serve(h, "services = ({ name = \"daytime\"; port = %d; "
	    BOTH LOOPBACK " });\n", port);
	for (i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
		n = udp_ask_str("127.0.0.1", port, plain[i].text,
		    plain[i].len, buf, sizeof(buf), 2000);
		if (n != 19)
			fail_msg("\"%s\": %zd bytes back", plain[i].text, n);
		assert_time_now(buf, "%Y-%m-%d %H:%M:%S", 0);
	}
	/* A format's line end is no part of it. */
	n = udp_ask_str("::1", port, "%Y-%m-%d %X\n", 12, buf, sizeof(buf),
	    2000);
	assert_int_equal(n, 19);
	assert_time_now(buf, "%Y-%m-%d %H:%M:%S", 0);
	harness_stop_clean(h);
}

static void
tcp_daytime_sends_inetds_line_that_parses(void **state)
{
	struct harness	*h = *state;
	char		 buf[512];
	ssize_t		 n;
	int		 fd, a = harness_port(), b = harness_port();

	harness_serve(h, "services = (\n"
	    "  { name = \"daytime\"; port = %d; " BOTH LOOPBACK " },\n"
	    "  { name = \"iso\"; handler = \"daytime\"; port = %d; "
	    "protocol = \"tcp\"; " LOOPBACK " options = { format = "
	    "\"%%Y-%%m-%%d %%X\"; }; }\n"
	    ");\n", a, b);
	assert_tcp_daytime("127.0.0.1", a);
	/* A config that sets format keeps it on TCP. */
	fd = tcp_open("::1", b);
	assert_true(fd >= 0);
	n = tcp_recv_eof(fd, buf, sizeof(buf), 3000);
	assert_int_equal(n, 21);
	buf[19] = '\0';
	assert_time_now(buf, "%Y-%m-%d %H:%M:%S", 0);
	client_close(fd);
	harness_stop_clean(h);
}

/* chat over TCP */

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
	char		 line[4096], nick[2][CHAT_NICK], want[64];
	int		 c[3], port = harness_port();

	chat_start(h, port, "protocol = \"tcp\"; " LOOPBACK, 1, c, nick);
	c[1] = tcp_open("127.0.0.1", port);
	assert_true(c[1] >= 0);
	assert_int_equal(tcp_send(c[1], nego, sizeof(nego) - 1), 0);
	/* No newline: line_timeout hands it over alone. */
	assert_true(tcp_recv_line(c[0], line, sizeof(line), 3000) > 0);
	assert_non_null(strstr(line, " joined\r\n"));
	snprintf(nick[1], sizeof(nick[1]), "%.*s",
	    (int)(strstr(line, " joined") - line - 2), line + 2);
	usleep(300 * 1000);
	assert_int_equal(tcp_send(c[1], sub, sizeof(sub) - 1), 0);
	assert_true(tcp_recv_line(c[0], line, sizeof(line), 3000) > 0);
	snprintf(want, sizeof(want), "<%s> hello\r\n", nick[1]);
	assert_string_equal(line, want);
	/* Nothing else: no line of negotiation, no answer to it. */
	assert_true(tcp_quiet(c[0], 500));
	/* The history holds the text alone. */
	c[2] = tcp_open("127.0.0.1", port);
	assert_true(c[2] >= 0);
	while (tcp_recv_line(c[2], line, sizeof(line), 500) > 0) {
		if (strchr(line, '\xff') != NULL)
			fail_msg("0xff in \"%s\"", line);
		if (line[0] == '<')
			assert_string_equal(line, want);
	}
	clients_close(c, 3);
	harness_stop_clean(h);
}

/* chat over UDP */

static void
one_udp_chat_line_costs_at_most_its_size_plus_64(void **state)
{
	struct harness	*h = *state;
	char		 addr[32];
	int		 fd[8], talker, count, i, port = harness_port();
	size_t		 total;

	harness_serve(h, "services = ({ name = \"chat\"; port = %d; "
	    "protocol = \"udp\"; bind = \"127.0.0.1\"; });\n", port);
	for (i = 0; i < 8; i++) {
		snprintf(addr, sizeof(addr), "127.0.0.%d", i + 2);
		fd[i] = udp_open_from(addr, 0, port);
		assert_true(fd[i] >= 0);
		assert_int_equal(udp_send(fd[i], "", 0), 0);	/* joins */
	}
	talker = udp_open_from("127.0.0.10", 0, port);
	assert_true(talker >= 0);
	assert_int_equal(udp_send(talker, "hello", 5), 0);
	total = udp_drain(fd, 8, 5000, 1000, 0, &count);
	/* "<127.0.0.10:PORT> hello\r\n" fits twice in 5 + 64 bytes. */
	if (total > 5 + 64 || count < 1)
		fail_msg("%d datagrams, %zu bytes for 5", count, total);
	clients_close(fd, 8);
	client_close(talker);
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
	harness_serve(h, "services = ({ name = \"chat\"; port = %d; "
	    "protocol = \"udp\"; bind = \"127.0.0.1\"; "
	    "max_reply_growth = -1; });\n", port);
	for (i = 0; i < 10; i++) {
		fd[i] = udp_open_from("127.0.0.2", 0, port);
		assert_true(fd[i] >= 0);
		assert_int_equal(udp_send(fd[i], "", 0), 0);
	}
	talker = udp_open_from("127.0.0.3", 0, port);
	assert_true(talker >= 0);
	assert_int_equal(udp_send(talker, "hello", 5), 0);
	/* The last port heard from is the address's one entry. */
	n = udp_recv(fd[9], buf, sizeof(buf) - 1, 2000);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_non_null(strstr(buf, "> hello\r\n"));
	udp_drain(fd, 9, 500, 500, 0, &count);
	assert_int_equal(count, 0);
	clients_close(fd, 10);
	client_close(talker);
	harness_stop_clean(h);
}

#define T(f)	HARNESS_TEST(f)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(udp_daytime_answers_plain_text_with_the_date),
		T(tcp_daytime_sends_inetds_line_that_parses),
		T(telnet_negotiation_reaches_the_room_as_nothing),
		T(one_udp_chat_line_costs_at_most_its_size_plus_64),
		T(udp_chat_peers_on_many_ports_of_one_address_are_one),
	};

	return HARNESS_RUN(tests);
}
