/*
 * End-to-end tests of the seed services (issue 3), doing what the classic
 * socket clients do against the real sockd: daytime over UDP with client
 * strftime formats (and hostile ones) and over TCP, upper with UTF-8, the
 * chat room with three clients and a slow reader, chargen's line pattern
 * and back-pressure, and time over TCP and UDP.  Times are compared with
 * the test's own clock, allowing 2 s.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>

#include <signal.h>
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

#define RFC868_OFFSET	2208988800LL

/* udp_ask_str() with 2 s to answer. */
static ssize_t
ask(const char *addr, int port, const char *req, size_t len, char *buf,
    size_t size)
{
	return udp_ask_str(addr, port, req, len, buf, size, 2000);
}

/* daytime */

static void
udp_daytime_answers_a_client_format_with_the_current_time(void **state)
{
	struct harness	*h = *state;
	char		 buf[512];
	int		 port = harness_port();
	static const char *addrs[] = { "127.0.0.1", "::1" };
	size_t		 i;

	harness_serve(h, "services = ({ name = \"daytime\"; port = %d; "
	    BOTH LOOPBACK " });\n", port);
	for (i = 0; i < 2; i++) {
		assert_int_equal(ask(addrs[i], port, "%Y-%m-%d %X", 11, buf,
		    sizeof(buf)), 19);
		assert_time_now(buf, "%Y-%m-%d %H:%M:%S", 0);
	}
	/* Text around the conversions comes back as it is. */
	assert_true(ask("127.0.0.1", port, "it is %F %T now", 15, buf,
	    sizeof(buf)) > 0);
	assert_time_now(buf, "it is %Y-%m-%d %H:%M:%S now", 0);
	harness_stop_clean(h);
}

static void
udp_daytime_answers_an_empty_datagram_in_the_default_format(void **state)
{
	struct harness	*h = *state;
	char		 buf[512];
	int		 a = harness_port(), b = harness_port();

	harness_serve(h, "services = (\n"
	    "  { name = \"daytime\"; port = %d; " BOTH LOOPBACK " },\n"
	    "  { name = \"fixed\"; handler = \"daytime\"; port = %d; "
	    "protocol = \"udp\"; " LOOPBACK " options = { client_format = "
	    "false; format = \"%%d/%%m/%%Y %%H.%%M.%%S\"; }; }\n"
	    ");\n", a, b);
	assert_int_equal(ask("127.0.0.1", a, "", 0, buf, sizeof(buf)), 19);
	assert_time_now(buf, "%Y-%m-%d %H:%M:%S", 0);
	/* client_format = false: the datagram's text is ignored. */
	assert_int_equal(ask("::1", b, "%Y", 2, buf, sizeof(buf)), 19);
	assert_time_now(buf, "%d/%m/%Y %H.%M.%S", 0);
	assert_int_equal(ask("::1", b, "", 0, buf, sizeof(buf)), 19);
	assert_time_now(buf, "%d/%m/%Y %H.%M.%S", 0);
	harness_stop_clean(h);
}

static void
udp_daytime_answers_year_month_day(void **state)
{
	struct harness	*h = *state;
	char		 buf[512], before[32], after[32];
	struct tm	 tm;
	time_t		 t;
	int		 port = harness_port();

	harness_serve(h, "services = ({ name = \"daytime\"; port = %d; "
	    "protocol = \"udp\"; " LOOPBACK " });\n", port);
	t = time(NULL) - 2;
	strftime(before, sizeof(before), "%Y %m %d", localtime_r(&t, &tm));
	assert_int_equal(ask("127.0.0.1", port, "%Y %m %d", 8, buf,
	    sizeof(buf)), 10);
	t = time(NULL) + 2;
	strftime(after, sizeof(after), "%Y %m %d", localtime_r(&t, &tm));
	if (strcmp(buf, before) != 0 && strcmp(buf, after) != 0)
		fail_msg("got \"%s\", want \"%s\"", buf, before);
	harness_stop_clean(h);
}

static void
udp_daytime_in_utc_matches_the_utc_clock(void **state)
{
	struct harness	*h = *state;
	char		 buf[512];
	int		 port = harness_port();

	harness_serve(h, "services = ({ name = \"daytime\"; port = %d; "
	    "protocol = \"udp\"; " LOOPBACK " options = { timezone = "
	    "\"UTC\"; }; });\n", port);
	assert_true(ask("::1", port, "%Y-%m-%d %H:%M:%S %Z", 20, buf,
	    sizeof(buf)) > 0);
	assert_time_now(buf, "%Y-%m-%d %H:%M:%S UTC", 1);
	harness_stop_clean(h);
}

static void
udp_daytime_survives_hostile_formats(void **state)
{
	struct harness	*h = *state;
	static char	 big[1400];
	static const struct {
		const char	*fmt;
		size_t		 len;
	} hostile[] = {
		{ "%", 1 },
		{ "%E", 2 },
		{ "%Q%q%J%K%&", 10 },
		{ "%99999999Y", 10 },
		{ "%-2147483648Y", 13 },
		{ "%Y\0%m\0%d", 8 },
		{ "\0", 1 },
		{ "\xff\xfe%Y\xc3(", 7 },
		{ "%c%c%c%c%c%c%c%c%c%c%c%c", 24 },
		{ "%s%s%s%s%s%s%s%s%s%s", 20 },
		{ "%%%%%%%%%%%%", 12 },
		{ "%n%t%n%t", 8 },
		{ "%Ec%EC%Ex%EX%Ey%EY%Od%Oe%OH", 27 },
		{ "%#Z%^a%_5d%010m", 15 },
	};
	char		 buf[70000];
	ssize_t		 n;
	size_t		 i;
	int		 fd, port = harness_port();

	harness_serve(h, "services = ({ name = \"daytime\"; port = %d; "
	    "protocol = \"udp\"; " LOOPBACK " rate = 0; });\n", port);
	fd = udp_open("127.0.0.1", port);
	assert_true(fd >= 0);
	for (i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		assert_int_equal(udp_send(fd, hostile[i].fmt, hostile[i].len),
		    0);
		n = udp_recv(fd, buf, sizeof(buf), 300);
		/* No reply, or one within the growth guard and max_reply. */
		if (n > (ssize_t)hostile[i].len + 64 || n > 1472)
			fail_msg("format %zu: %zd bytes back for %zu", i, n,
			    hostile[i].len);
		/* The daemon still answers. */
		assert_int_equal(ask("127.0.0.1", port, "%Y", 2, buf,
		    sizeof(buf)), 4);
	}
	/* 24 bytes of %c expand past 24 + 64: never sent. */
	assert_int_equal(udp_send(fd, "%c%c%c%c%c%c%c%c%c%c%c%c", 24), 0);
	assert_int_equal(udp_recv(fd, buf, sizeof(buf), 300), -1);
	/* A full-size datagram of "%c": no reply at all. */
	for (i = 0; i + 1 < sizeof(big); i += 2)
		memcpy(big + i, "%c", 2);
	assert_int_equal(udp_send(fd, big, sizeof(big)), 0);
	assert_int_equal(udp_recv(fd, buf, sizeof(buf), 300), -1);
	/* A long plain text asks for the date (RFC 867), it is no format. */
	memset(big, 'a', sizeof(big));
	assert_int_equal(udp_send(fd, big, sizeof(big)), 0);
	n = udp_recv(fd, buf, sizeof(buf) - 1, 2000);
	assert_int_equal(n, 19);
	buf[n] = '\0';
	assert_time_now(buf, "%Y-%m-%d %H:%M:%S", 0);
	client_close(fd);
	assert_int_equal(ask("::1", port, "%Y", 2, buf, sizeof(buf)), 4);
	harness_stop_clean(h);
}

static void
tcp_daytime_sends_one_line_and_closes(void **state)
{
	struct harness	*h = *state;
	int		 port = harness_port();

	harness_serve(h, "services = ({ name = \"daytime\"; port = %d; "
	    BOTH LOOPBACK " });\n", port);
	assert_tcp_daytime("::1", port);
	harness_stop_clean(h);
}

/* upper */

static void
tcp_upper_round_trips_utf8(void **state)
{
	struct harness	*h = *state;
	char		 buf[256];
	int		 fd, port = harness_port();

	harness_serve(h, "services = ({ name = \"upper\"; port = %d; "
	    BOTH LOOPBACK " });\n", port);
	fd = tcp_open("127.0.0.1", port);
	assert_true(fd >= 0);
	assert_int_equal(tcp_sends(fd,
	    "h\xc3\xa9llo \xd0\xbc\xd0\xb8\xd1\x80\n"), 0);
	assert_true(tcp_recv_line(fd, buf, sizeof(buf), 3000) > 0);
	assert_string_equal(buf, "H\xc3\x89LLO \xd0\x9c\xd0\x98\xd0\xa0\n");
	/* Line endings stay; invalid UTF-8 passes unchanged. */
	assert_int_equal(tcp_sends(fd, "stra\xc3\x9f" "e \xce\xb1\xce\xb2\r\n"),
	    0);
	assert_true(tcp_recv_line(fd, buf, sizeof(buf), 3000) > 0);
	/* Greek too; the line's \r\n stays. */
	assert_true(strncmp(buf, "STRA", 4) == 0);
	assert_true(strlen(buf) > 7);
	assert_string_equal(buf + strlen(buf) - 7, " \xce\x91\xce\x92\r\n");
	assert_int_equal(tcp_sends(fd, "\xff\xfe ok \xc3\n"), 0);
	assert_true(tcp_recv_line(fd, buf, sizeof(buf), 3000) > 0);
	assert_string_equal(buf, "\xff\xfe OK \xc3\n");
	client_close(fd);

	fd = tcp_open("::1", port);
	assert_true(fd >= 0);
	assert_int_equal(tcp_sends(fd, "ipv6 too\n"), 0);
	assert_true(tcp_recv_line(fd, buf, sizeof(buf), 3000) > 0);
	assert_string_equal(buf, "IPV6 TOO\n");
	client_close(fd);
	harness_stop_clean(h);
}

static void
udp_upper_upper_cases_each_datagram(void **state)
{
	struct harness	*h = *state;
	char		 buf[256];
	int		 port = harness_port();

	harness_serve(h, "services = ({ name = \"upper\"; port = %d; "
	    BOTH LOOPBACK " });\n", port);
	assert_int_equal(ask("127.0.0.1", port, "h\xc3\xa9llo \xd0\xbc\xd0\xb8"
	    "\xd1\x80", 14, buf, sizeof(buf)), 14);
	assert_string_equal(buf, "H\xc3\x89LLO \xd0\x9c\xd0\x98\xd0\xa0");
	assert_int_equal(ask("::1", port, "two\nlines", 9, buf, sizeof(buf)),
	    9);
	assert_string_equal(buf, "TWO\nLINES");
	harness_stop_clean(h);
}

/* chat */

static void
three_chat_clients_see_each_others_lines(void **state)
{
	struct harness	*h = *state;
	char		 nick[3][CHAT_NICK], want[128];
	int		 c[3], i, port = harness_port();

	chat_start(h, port, LOOPBACK, 3, c, nick);
	for (i = 0; i < 3; i++)
		if (nick[i][0] == '\0')
			fail_msg("client %d: no guest nick in the welcome", i);
	assert_string_not_equal(nick[0], nick[1]);
	assert_string_not_equal(nick[1], nick[2]);
	/* The first two saw the third join. */
	snprintf(want, sizeof(want), "* %s joined", nick[2]);
	assert_true(tcp_expect(c[0], want, 2000));
	assert_true(tcp_expect(c[1], want, 2000));

	assert_int_equal(tcp_sends(c[1], "hello\n"), 0);
	snprintf(want, sizeof(want), "<%s> hello", nick[1]);
	assert_true(tcp_expect(c[0], want, 2000));
	assert_true(tcp_expect(c[2], want, 2000));
	/* Not echoed to the sender. */
	assert_true(tcp_quiet(c[1], 300));

	client_close(c[0]);
	snprintf(want, sizeof(want), "* %s left", nick[0]);
	assert_true(tcp_expect(c[1], want, 2000));
	assert_true(tcp_expect(c[2], want, 2000));
	for (i = 1; i < 3; i++)
		client_close(c[i]);
	harness_stop_clean(h);
}

static void
chat_who_lists_the_nicks(void **state)
{
	struct harness	*h = *state;
	char		 nick[3][CHAT_NICK], line[4096];
	int		 c[3], i, seen, port = harness_port();

	chat_start(h, port, LOOPBACK, 3, c, nick);
	for (i = 0; i < 3; i++)
		tcp_skip_lines(c[i], 300);
	assert_int_equal(tcp_sends(c[0], "/who\n"), 0);
	seen = 0;
	while (tcp_recv_line(c[0], line, sizeof(line), 500) > 0)
		for (i = 0; i < 3; i++)
			if (strstr(line, nick[i]) != NULL)
				seen |= 1 << i;
	assert_int_equal(seen, 7);
	/* Only the asker got the list. */
	assert_true(tcp_quiet(c[1], 200));
	assert_true(tcp_quiet(c[2], 10));
	clients_close(c, 3);
	harness_stop_clean(h);
}

static void
chat_nick_renames_and_is_announced(void **state)
{
	struct harness	*h = *state;
	char		 nick[2][CHAT_NICK], want[128];
	int		 c[2], port = harness_port();

	chat_start(h, port, LOOPBACK, 2, c, nick);
	assert_int_equal(tcp_sends(c[0], "/nick alice\n"), 0);
	assert_true(tcp_expect(c[1], "alice", 2000));
	assert_int_equal(tcp_sends(c[0], "hi bob\n"), 0);
	assert_true(tcp_expect(c[1], "<alice> hi bob", 2000));
	/* A taken nick is refused, to the asker only. */
	tcp_skip_lines(c[0], 200);
	assert_int_equal(tcp_sends(c[1], "/nick alice\n"), 0);
	assert_true(tcp_quiet(c[0], 300));
	assert_int_equal(tcp_sends(c[1], "still me\n"), 0);
	snprintf(want, sizeof(want), "<%s> still me", nick[1]);
	assert_true(tcp_expect(c[0], want, 2000));
	clients_close(c, 2);
	harness_stop_clean(h);
}

/* 1 when line is flood line number n from nick, whole; fails otherwise. */
static int
flood_line(const char *line, const char *nick, int n)
{
	char	 want[64];
	size_t	 len;

	if (line[0] == '*')
		return 0;	/* a notice */
	snprintf(want, sizeof(want), "<%s> flood %04d zzz", nick, n);
	len = strlen(line);
	if (strncmp(line, want, strlen(want)) != 0 || len < 4 ||
	    strcmp(line + len - 4, "zz\r\n") != 0)
		fail_msg("line %d arrived as \"%.40s...%s\" (%zu bytes)", n,
		    line, len > 8 ? line + len - 8 : "", len);
	return 1;
}

static void
chat_reader_that_stops_is_dropped_and_others_keep_up(void **state)
{
	struct harness	*h = *state;
	/* 8 MB: more than the kernel buffers (tcp_wmem max 4 MB) hold. */
	enum { LINES = 8000, LEN = 1000 };
	char		 nick[2][CHAT_NICK], line[2048], pad[LEN];
	long long	 t0;
	long		 rss0, rss, maxrss = 0;
	int		 c[2], slow, i, got, port = harness_port();

	harness_serve(h, "services = ({ name = \"chat\"; port = %d; "
	    LOOPBACK " max_queue = 65536; options = { history = 0; }; });\n",
	    port);
	rss0 = harness_rss_kb(h);
	slow = tcp_open_rcvbuf("127.0.0.1", port, 1024);
	assert_true(slow >= 0);
	chat_join_all(port, 2, c, nick);
	memset(pad, 'z', sizeof(pad));
	pad[sizeof(pad) - 1] = '\0';
	t0 = harness_now_ms();
	/* c[0] floods; c[1] reads everything as it comes. */
	got = 0;
	for (i = 0; i < LINES; i++) {
		snprintf(line, sizeof(line), "flood %04d %s\n", i, pad);
		assert_int_equal(tcp_sends(c[0], line), 0);
		while (tcp_recv_line(c[1], line, sizeof(line), 0) > 0)
			got += flood_line(line, nick[0], got);
		if (i % 500 == 0 && (rss = harness_rss_kb(h)) > maxrss)
			maxrss = rss;
	}
	while (got < LINES && tcp_recv_line(c[1], line, sizeof(line), 5000) >
	    0)
		got += flood_line(line, nick[0], got);
	print_message("%d lines in %lld ms; sockd RSS %ld kB, at most %ld "
	    "kB\n", got, harness_now_ms() - t0, rss0, maxrss);
	assert_int_equal(got, LINES);
	assert_true(harness_now_ms() - t0 < harness_ms(30000));
	if (harness_asan())
		print_message("AddressSanitizer: RSS not checked\n");
	else if (maxrss - rss0 > (harness_valgrind() ? 65536 : 16384))
		fail_msg("RSS grew by %ld kB", maxrss - rss0);
	/* The slow one was cut off, and that was logged. */
	assert_true(tcp_closed(slow, 5000));
	assert_true(harness_log_wait(h, "slow", 2000));
	client_close(slow);
	/* The room still works. */
	assert_int_equal(tcp_sends(c[1], "done\n"), 0);
	snprintf(line, sizeof(line), "<%s> done", nick[1]);
	assert_true(tcp_expect(c[0], line, 2000));
	clients_close(c, 2);
	harness_stop_clean(h);
}

static void
chat_line_typed_in_pieces_is_relayed_as_one_line(void **state)
{
	struct harness	*h = *state;
	char		 nick[2][CHAT_NICK], want[128], line[4096];
	int		 c[2], port = harness_port();

	chat_start(h, port, LOOPBACK, 2, c, nick);
	tcp_skip_lines(c[1], 200);
	/* One line in three segments, closer than line_timeout (100 ms). */
	assert_int_equal(tcp_sends(c[0], "hel"), 0);
	usleep(30000);
	assert_int_equal(tcp_sends(c[0], "lo wor"), 0);
	usleep(30000);
	assert_int_equal(tcp_sends(c[0], "ld\r\n"), 0);
	assert_true(tcp_recv_line(c[1], line, sizeof(line), 2000) > 0);
	snprintf(want, sizeof(want), "<%s> hello world\r\n", nick[0]);
	assert_string_equal(line, want);
	clients_close(c, 2);
	harness_stop_clean(h);
}

static void
chat_commands_me_quit_history_and_unknown(void **state)
{
	struct harness	*h = *state;
	char		 nick[3][CHAT_NICK], want[128], line[4096];
	int		 c[3], i, port = harness_port();

	chat_start(h, port, LOOPBACK " quit = \"bye\";", 2, c, nick);
	tcp_skip_lines(c[0], 200);
	assert_int_equal(tcp_sends(c[0], "/me waves\n"), 0);
	snprintf(want, sizeof(want), "* %s waves", nick[0]);
	assert_true(tcp_expect(c[1], want, 2000));
	/* An unknown command is answered to the sender only. */
	assert_int_equal(tcp_sends(c[1], "/frobnicate\n"), 0);
	assert_true(tcp_expect(c[1], "frobnicate", 2000));
	assert_true(tcp_quiet(c[0], 300));
	/* Control characters and escape sequences never reach others. */
	assert_int_equal(tcp_sends(c[1], "\x1b[2J\x1b]0;pwned\x07tab\there"
	    "\x08\n"), 0);
	assert_true(tcp_recv_line(c[0], line, sizeof(line), 2000) > 0);
	snprintf(want, sizeof(want), "<%s> ", nick[1]);
	assert_non_null(strstr(line, want));
	assert_non_null(strstr(line, "tab\there"));
	for (i = 0; line[i] != '\0'; i++)
		if ((unsigned char)line[i] < ' ' && line[i] != '\t' &&
		    line[i] != '\r' && line[i] != '\n')
			fail_msg("control byte %#x relayed: %s", line[i], line);
	/* A newcomer gets the history. */
	c[2] = tcp_open("::1", port);
	assert_true(c[2] >= 0);
	assert_true(tcp_expect(c[2], "tab\there", 2000));
	/* /quit and the service's quit word both end the session. */
	assert_int_equal(tcp_sends(c[2], "/quit\n"), 0);
	assert_true(tcp_closed(c[2], 2000));
	assert_int_equal(tcp_sends(c[1], "bye\r\n"), 0);
	assert_true(tcp_closed(c[1], 2000));
	snprintf(want, sizeof(want), "* %s left", nick[1]);
	assert_true(tcp_expect(c[0], want, 2000));
	clients_close(c, 3);
	harness_stop_clean(h);
}

/* chargen */

/* Checks n lines of the chargen pattern; prev is the last line seen. */
static void
assert_chargen_lines(const char *buf, size_t n, char *prev)
{
	size_t	 l, i;

	for (l = 0; l < n; l++) {
		const char *s = buf + l * 74;

		if (s[72] != '\r' || s[73] != '\n')
			fail_msg("line %zu does not end in \\r\\n", l);
		for (i = 0; i < 72; i++) {
			if (s[i] < ' ' || s[i] > '~')
				fail_msg("line %zu: byte %d", l, s[i]);
			if (i > 0 && s[i] != (s[i - 1] == '~' ? ' ' :
			    s[i - 1] + 1))
				fail_msg("line %zu: %c after %c", l, s[i],
				    s[i - 1]);
		}
		/* Each line starts one character further on. */
		if (prev[0] != '\0' && memcmp(prev + 1, s, 71) != 0)
			fail_msg("line %zu does not follow: %.72s", l, s);
		memcpy(prev, s, 72);
	}
}

static void
chargen_sends_the_rotating_line_pattern(void **state)
{
	struct harness	*h = *state;
	enum { N = 500 };
	static char	 buf[N * 74];
	char		 prev[80] = "";
	int		 fd, port = harness_port();

	harness_serve(h, "services = ({ name = \"chargen\"; port = %d; "
	    LOOPBACK " });\n", port);
	fd = tcp_open("::1", port);
	assert_true(fd >= 0);
	assert_int_equal(tcp_recv_n(fd, buf, sizeof(buf), 5000), sizeof(buf));
	assert_chargen_lines(buf, N, prev);
	/* 95 lines later the pattern repeats. */
	assert_memory_equal(buf, buf + 95 * 74, 74);
	/* Input is ignored. */
	assert_int_equal(tcp_sends(fd, "stop please\n"), 0);
	assert_int_equal(tcp_recv_n(fd, buf, 74 * 10, 3000), 740);
	client_close(fd);
	harness_stop_clean(h);
}

static void
chargen_does_not_queue_for_a_client_that_does_not_read(void **state)
{
	struct harness	*h = *state;
	static char	 buf[74 * 200];
	char		 prev[80] = "";
	long		 rss0, rss1;
	ssize_t		 n;
	int		 slow, fast, port = harness_port();

	harness_serve(h, "services = ({ name = \"chargen\"; port = %d; "
	    LOOPBACK " });\n", port);
	usleep(200000);
	rss0 = harness_rss_kb(h);
	assert_true(rss0 > 0);
	slow = tcp_open_rcvbuf("127.0.0.1", port, 4096);
	assert_true(slow >= 0);
	/* Meanwhile another client reads at full speed. */
	fast = tcp_open("::1", port);
	assert_true(fast >= 0);
	assert_int_equal(tcp_recv_n(fast, buf, sizeof(buf), 5000),
	    sizeof(buf));
	client_close(fast);
	sleep(2);
	rss1 = harness_rss_kb(h);
	print_message("sockd RSS %ld kB -> %ld kB with a stalled reader\n",
	    rss0, rss1);
	if (harness_asan())
		print_message("AddressSanitizer: RSS not checked\n");
	else if (rss1 - rss0 > (harness_valgrind() ? 32768 : 4096))
		fail_msg("RSS grew by %ld kB", rss1 - rss0);
	/* The stalled client picks up where it left off. */
	n = tcp_recv_n(slow, buf, sizeof(buf), 5000);
	assert_int_equal(n, sizeof(buf));
	assert_chargen_lines(buf, 200, prev);
	client_close(slow);
	harness_stop_clean(h);
}

static void
udp_chargen_is_no_amplifier_by_default(void **state)
{
	struct harness	*h = *state;
	char		 buf[256], req[16];
	int		 port = harness_port();

	harness_serve(h, "services = ({ name = \"chargen\"; port = %d; "
	    BOTH LOOPBACK " });\n", port);
	/* 74 bytes for 1 is more than 64 over: no reply. */
	assert_int_equal(ask("127.0.0.1", port, "x", 1, buf, sizeof(buf)),
	    -1);
	/* 74 for 16 is within the guard: one line. */
	memset(req, 'x', sizeof(req));
	assert_int_equal(ask("::1", port, req, sizeof(req), buf, sizeof(buf)),
	    74);
	assert_memory_equal(buf + 72, "\r\n", 2);
	harness_stop_clean(h);
}

/* time */

static void
assert_rfc868_now(const unsigned char *b)
{
	uint32_t	 v, now;

	v = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	    (uint32_t)b[2] << 8 | b[3];
	now = (uint32_t)((long long)time(NULL) + RFC868_OFFSET);
	if ((int32_t)(v - now) < -2 || (int32_t)(v - now) > 2)
		fail_msg("time %u is %d s away from %u", v,
		    (int32_t)(v - now), now);
}

static void
time_over_tcp_is_within_2_s_of_the_clock(void **state)
{
	struct harness	*h = *state;
	char		 buf[16];
	int		 fd, port = harness_port();

	harness_serve(h, "services = ({ name = \"time\"; port = %d; "
	    BOTH LOOPBACK " });\n", port);
	fd = tcp_open("127.0.0.1", port);
	assert_true(fd >= 0);
	assert_int_equal(tcp_recv_eof(fd, buf, sizeof(buf), 3000), 4);
	assert_rfc868_now((unsigned char *)buf);
	client_close(fd);
	fd = tcp_open("::1", port);
	assert_true(fd >= 0);
	assert_int_equal(tcp_recv_eof(fd, buf, sizeof(buf), 3000), 4);
	assert_rfc868_now((unsigned char *)buf);
	client_close(fd);
	harness_stop_clean(h);
}

static void
time_over_udp_is_within_2_s_of_the_clock(void **state)
{
	struct harness	*h = *state;
	char		 buf[16];
	int		 port = harness_port();

	harness_serve(h, "services = ({ name = \"time\"; port = %d; "
	    BOTH LOOPBACK " });\n", port);
	assert_int_equal(ask("127.0.0.1", port, "", 0, buf, sizeof(buf)), 4);
	assert_rfc868_now((unsigned char *)buf);
	assert_int_equal(ask("::1", port, "what time is it?", 16, buf,
	    sizeof(buf)), 4);
	assert_rfc868_now((unsigned char *)buf);
	harness_stop_clean(h);
}

/* The shipped config */

static void
default_config_passes_the_check(void **state)
{
	struct harness	*h = *state;
	const char	*conf = getenv("SOCKD_DEFAULT_CONF");

	if (conf == NULL || *conf == '\0')
		conf = "conf/sockd.conf";
	assert_int_equal(harness_check(h, conf), 0);
	assert_non_null(strstr(harness_stdout(h), "configuration OK"));
	/* Unprivileged ports with -p, as the README shows. */
	assert_int_equal(harness_run(h, "-t", "-p", "10000", "-c", conf,
	    NULL), 0);
	harness_pass(h);
}

#define T(f)	HARNESS_TEST(f)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(udp_daytime_answers_a_client_format_with_the_current_time),
		T(udp_daytime_answers_an_empty_datagram_in_the_default_format),
		T(udp_daytime_answers_year_month_day),
		T(udp_daytime_in_utc_matches_the_utc_clock),
		T(udp_daytime_survives_hostile_formats),
		T(tcp_daytime_sends_one_line_and_closes),
		T(tcp_upper_round_trips_utf8),
		T(udp_upper_upper_cases_each_datagram),
		T(three_chat_clients_see_each_others_lines),
		T(chat_who_lists_the_nicks),
		T(chat_nick_renames_and_is_announced),
		T(chat_line_typed_in_pieces_is_relayed_as_one_line),
		T(chat_commands_me_quit_history_and_unknown),
		T(chat_reader_that_stops_is_dropped_and_others_keep_up),
		T(chargen_sends_the_rotating_line_pattern),
		T(chargen_does_not_queue_for_a_client_that_does_not_read),
		T(udp_chargen_is_no_amplifier_by_default),
		T(time_over_tcp_is_within_2_s_of_the_clock),
		T(time_over_udp_is_within_2_s_of_the_clock),
		T(default_config_passes_the_check),
	};

	return HARNESS_RUN(tests);
}
