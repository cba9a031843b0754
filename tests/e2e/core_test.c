/*
 * End-to-end tests of the sockd core (issue 2): the command line, config
 * checking, echo and discard over TCP and UDP on 127.0.0.1 and ::1, many
 * clients at once, half-close, banner, quit word, idle timeout, line
 * pieces, plugins (rot13 and the refused ones from tests/plugins), reload,
 * stop, bind conflicts and counters.  Each test runs the real build/sockd
 * with a generated config in its own temp dir; the harness kills it when
 * the test ends, however it ends, and every wait has a deadline.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
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


/* One round trip on a fresh connection: what is sent comes back. */
static void
assert_echo(const char *addr, int port, const char *msg)
{
	assert_tcp_reply(addr, port, msg, msg, 3000);
}

/* A round trip on a connection that stays open. */
static void
assert_echo_on(int fd, const char *msg)
{
	assert_reply_on(fd, msg, msg, 3000);
}

static void
assert_udp_reply(const char *addr, int port, const char *req,
    const char *want)
{
	char	 buf[2048];
	ssize_t	 n;

	n = udp_ask(addr, port, req, strlen(req), buf, sizeof(buf), 3000);
	assert_int_equal(n, strlen(want));
	assert_memory_equal(buf, want, n);
}

static int
has(const char *hay, const char *needle)
{
	return strstr(hay, needle) != NULL;
}

/* A log line containing both a and b, or NULL. */
static const char *
log_line_with(struct harness *h, const char *a, const char *b)
{
	static char	 line[1024];
	const char	*p = harness_log(h), *e;

	while (*p != '\0') {
		size_t	 len;

		if ((e = strchr(p, '\n')) == NULL)
			e = p + strlen(p);
		len = e - p < (ptrdiff_t)sizeof(line) - 1 ? (size_t)(e - p) :
		    sizeof(line) - 1;
		memcpy(line, p, len);
		line[len] = '\0';
		if (has(line, a) && has(line, b))
			return line;
		p = *e == '\n' ? e + 1 : e;
	}
	return NULL;
}

/* The inode of the socket listening on 127.0.0.1:port, from /proc. */
static unsigned long
listen_inode(int port)
{
	FILE		*fp;
	char		 line[512];
	unsigned long	 addr, inode;
	unsigned int	 lport, st;

	if ((fp = fopen("/proc/net/tcp", "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (sscanf(line, " %*d: %lx:%x %*x:%*x %x %*x:%*x %*x:%*x %*x "
		    "%*d %*d %lu", &addr, &lport, &st, &inode) != 4)
			continue;
		if (lport == (unsigned int)port && st == 0x0A &&
		    addr == htonl(INADDR_LOOPBACK)) {
			fclose(fp);
			return inode;
		}
	}
	fclose(fp);
	return 0;
}

/*
 * 1 when connecting to addr:port is refused within a second.  STOPPING=1
 * and RELOADING=1 are sent just before listeners close, so a connection
 * may still slip into the backlog in between: it is then reset.
 */
static int
refused_soon(const char *addr, int port)
{
	long long	 deadline = harness_now_ms() + harness_ms(1000);
	int		 fd;

	do {
		if ((fd = tcp_open(addr, port)) == -1)
			return 1;
		client_close(fd);
		usleep(20000);
	} while (harness_now_ms() < deadline);
	return 0;
}

/* Command line and "sockd -t". */

static void
check_prints_configuration_ok_for_a_good_file(void **state)
{
	struct harness	*h = *state;

	harness_config(h, "services = (\n"
	    "  { name = \"echo\"; port = %d; protocol = [\"tcp\", \"udp\"]; "
	    LOOPBACK " },\n"
	    "  { name = \"discard\"; port = %d; " LOOPBACK " },\n"
	    "  { name = \"rot13\"; port = %d; protocol = [\"tcp\", \"udp\"]; "
	    "bind = \"127.0.0.1\"; options = { frame = true; }; }\n"
	    ");\n", harness_port(), harness_port(), harness_port());
	assert_int_equal(harness_check(h, NULL), 0);
	assert_true(has(harness_stdout(h), "configuration OK"));
	harness_pass(h);
}

static void
check_reports_every_error_with_its_file_and_line(void **state)
{
	struct harness	*h = *state;
	const char	*conf, *err;
	char		 want[4096];
	int		 line;
	static const struct {
		int		 line;
		const char	*word;
	} errors[] = {
		{ 4, "colour" },	/* unknown setting */
		{ 5, "70000" },		/* port out of range */
		{ 6, "nosuch" },	/* unknown handler */
		{ 7, "ok" },		/* duplicate name */
		{ 8, "sctp" },		/* unknown protocol */
		{ 9, "20001" },		/* same tcp address and port as "ok" */
		{ 10, "port" },		/* wrong type */
		{ 11, "tcponly" },	/* handler does not serve udp */
		{ 12, "idle_timeout" },	/* negative */
	};
	size_t		 i;

	conf = harness_write(h, "bad.conf",
	    "daemon: { log = \"stderr\"; handler_dir = \"%s\"; };\n"
	    "services = (\n"
	    /* One service a line: each error's line is unambiguous. */
#define B	"bind = \"127.0.0.1\"; "
	    "  { name = \"ok\"; port = 20001; " B "handler = \"echo\"; },\n"
	    "  { name = \"a\"; port = 20002; " B "handler = \"echo\"; "
	    "colour = \"red\"; },\n"
	    "  { name = \"b\"; port = 70000; " B "handler = \"echo\"; },\n"
	    "  { name = \"c\"; port = 20003; " B "handler = \"nosuch\"; },\n"
	    "  { name = \"ok\"; port = 20004; " B "handler = \"echo\"; },\n"
	    "  { name = \"e\"; port = 20005; " B "handler = \"echo\"; "
	    "protocol = \"sctp\"; },\n"
	    "  { name = \"f\"; port = 20001; " B "handler = \"echo\"; },\n"
	    "  { name = \"g\"; port = \"seven\"; " B "handler = \"echo\"; "
	    "},\n"
	    "  { name = \"h\"; port = 20006; " B "handler = \"tcponly\"; "
	    "protocol = \"udp\"; },\n"
	    "  { name = \"i\"; port = 20007; " B "handler = \"echo\"; "
	    "idle_timeout = -1; }\n"
#undef B
	    ");\n", harness_plugins());
	assert_non_null(conf);
	assert_int_equal(harness_check(h, conf), 1);
	err = harness_stderr(h);
	assert_false(has(harness_stdout(h), "configuration OK"));
	for (i = 0; i < sizeof(errors) / sizeof(errors[0]); i++) {
		const char	*p, *e;
		int		 found = 0;

		line = errors[i].line;
		snprintf(want, sizeof(want), "%s:%d: ", conf, line);
		/* Some line of stderr starts with FILE:LINE and names it. */
		for (p = err; (p = strstr(p, want)) != NULL; p = e) {
			char	 l[1024];

			if ((e = strchr(p, '\n')) == NULL)
				e = p + strlen(p);
			snprintf(l, sizeof(l), "%.*s", (int)(e - p), p);
			if (has(l, errors[i].word))
				found = 1;
		}
		if (!found)
			fail_msg("no error \"%s...%s\" in:\n%s", want,
			    errors[i].word, err);
	}
	/* Nothing about the good first service. */
	snprintf(want, sizeof(want), "%s:3:", conf);
	assert_false(has(err, want));
	harness_pass(h);
}

static void
check_reports_a_syntax_error_with_its_line(void **state)
{
	struct harness	*h = *state;
	const char	*conf;
	char		 want[4096];

	conf = harness_write(h, "syntax.conf",
	    "daemon: { log = \"stderr\"; };\n"
	    "services = (\n"
	    "  { name = \"echo\"; port = 20001; },\n"
	    "  { name = \"x\" port = 20002; }\n"
	    ");\n");
	assert_int_equal(harness_check(h, conf), 1);
	snprintf(want, sizeof(want), "%s:4:", conf);
	if (!has(harness_stderr(h), want))
		fail_msg("want \"%s\" in: %s", want, harness_stderr(h));
	harness_pass(h);
}

static void
check_of_a_missing_file_exits_1_naming_it(void **state)
{
	struct harness	*h = *state;
	char		 path[4096];

	snprintf(path, sizeof(path), "%s/nonexistent.conf", harness_dir(h));
	assert_int_equal(harness_check(h, path), 1);
	assert_true(has(harness_stderr(h), path));
	harness_pass(h);
}

static void
version_option_prints_the_version_and_exits_0(void **state)
{
	struct harness	*h = *state;

	assert_int_equal(harness_run(h, "-V", NULL), 0);
	assert_string_equal(harness_stdout(h), "sockd " SOCKD_VERSION "\n");
	harness_pass(h);
}

static void
help_option_prints_usage_and_exits_0(void **state)
{
	struct harness	*h = *state;

	assert_int_equal(harness_run(h, "-h", NULL), 0);
	assert_non_null(strcasestr(harness_stdout(h), "usage"));
	harness_pass(h);
}

static void
unknown_option_prints_usage_and_exits_2(void **state)
{
	struct harness	*h = *state;

	assert_int_equal(harness_run(h, "-Z", NULL), 2);
	assert_non_null(strcasestr(harness_stderr(h), "usage"));
	assert_int_equal(harness_run(h, "-p", "lots", "-t", NULL), 2);
	assert_non_null(strcasestr(harness_stderr(h), "usage"));
	harness_pass(h);
}

/* Echo and discard. */

static void
tcp_echo_answers_on_ipv4_and_ipv6(void **state)
{
	struct harness	*h = *state;
	int		 port = harness_port();

	harness_serve(h, "services = ({ name = \"echo\"; port = %d; "
	    LOOPBACK " });\n", port);
	assert_echo("127.0.0.1", port, "Hello over IPv4\r\n");
	assert_echo("::1", port, "Hello over IPv6\n");
	assert_echo("127.0.0.1", port, "no newline at all");
	harness_stop_clean(h);
}

static void
udp_echo_answers_on_ipv4_and_ipv6(void **state)
{
	struct harness	*h = *state;
	char		 big[1400], buf[2048];
	int		 port = harness_port();

	harness_serve(h, "services = ({ name = \"echo\"; port = %d; "
	    "protocol = [\"tcp\", \"udp\"]; " LOOPBACK " });\n", port);
	assert_udp_reply("127.0.0.1", port, "datagram v4", "datagram v4");
	assert_udp_reply("::1", port, "datagram v6", "datagram v6");
	memset(big, 'x', sizeof(big));
	assert_int_equal(udp_ask("127.0.0.1", port, big, sizeof(big), buf,
	    sizeof(buf), 3000), sizeof(big));
	assert_memory_equal(buf, big, sizeof(big));
	/* TCP on the same port still answers. */
	assert_echo("::1", port, "tcp too\n");
	harness_stop_clean(h);
}

static void
discard_swallows_tcp_and_udp(void **state)
{
	struct harness	*h = *state;
	char		 buf[64];
	int		 fd, port = harness_port();

	harness_serve(h, "services = ({ name = \"discard\"; port = %d; "
	    "protocol = [\"tcp\", \"udp\"]; " LOOPBACK " });\n", port);
	fd = tcp_open("127.0.0.1", port);
	assert_true(fd >= 0);
	assert_int_equal(tcp_sends(fd, "into the void\n"), 0);
	assert_true(tcp_quiet(fd, 500));
	/* The connection is still there: more can be sent. */
	assert_int_equal(tcp_sends(fd, "more\n"), 0);
	assert_true(tcp_quiet(fd, 200));
	assert_int_equal(shutdown(fd, SHUT_WR), 0);
	assert_true(tcp_closed(fd, 3000));
	client_close(fd);
	assert_int_equal(udp_ask("::1", port, "x", 1, buf, sizeof(buf), 500),
	    -1);
	assert_int_equal(udp_ask("127.0.0.1", port, "y", 1, buf, sizeof(buf),
	    500), -1);
	harness_stop_clean(h);
}

static void
two_hundred_concurrent_clients_each_get_their_own_bytes(void **state)
{
	struct harness	*h = *state;
	enum { N = 200, LEN = 3000 };
	static char	 want[N][LEN], got[LEN];
	int		 fd[N], i, j, port = harness_port();

	harness_serve(h, "services = ({ name = \"echo\"; port = %d; "
	    LOOPBACK " per_source = 0; rate = 0; });\n", port);
	for (i = 0; i < N; i++) {
		fd[i] = tcp_open(i % 2 ? "::1" : "127.0.0.1", port);
		assert_true(fd[i] >= 0);
		for (j = 0; j < LEN; j++)
			want[i][j] = "0123456789abcdef"[(i * 7 + j * (i % 13 +
			    1)) % 16];
		snprintf(want[i], 16, "client %03d", i);
		want[i][10] = ' ';
	}
	/* All are open at once; each sends in two halves. */
	for (i = 0; i < N; i++)
		assert_int_equal(tcp_send(fd[i], want[i], LEN / 2), 0);
	for (i = N - 1; i >= 0; i--)
		assert_int_equal(tcp_send(fd[i], want[i] + LEN / 2,
		    LEN - LEN / 2), 0);
	for (i = 0; i < N; i++) {
		assert_int_equal(tcp_recv_n(fd[i], got, LEN, 10000), LEN);
		if (memcmp(got, want[i], LEN) != 0)
			fail_msg("client %d got someone else's bytes: %.20s",
			    i, got);
	}
	clients_close(fd, N);
	harness_stop_clean(h);
}

static void
half_close_still_returns_the_last_words(void **state)
{
	struct harness	*h = *state;
	static char	 big[200000], buf[sizeof(big) + 1];
	char		 small[64];
	size_t		 i;
	int		 fd, port = harness_port();

	harness_serve(h, "services = ({ name = \"echo\"; port = %d; "
	    LOOPBACK " });\n", port);

	fd = tcp_open("127.0.0.1", port);
	assert_true(fd >= 0);
	assert_int_equal(tcp_sends(fd, "last words"), 0);
	assert_int_equal(shutdown(fd, SHUT_WR), 0);
	assert_int_equal(tcp_recv_eof(fd, small, sizeof(small), 3000), 10);
	assert_string_equal(small, "last words");
	client_close(fd);

	/* More than the socket buffers hold at once, then FIN. */
	for (i = 0; i < sizeof(big); i++)
		big[i] = 'a' + i % 23;
	fd = tcp_open("::1", port);
	assert_true(fd >= 0);
	assert_int_equal(tcp_send(fd, big, 100000), 0);
	assert_int_equal(tcp_recv_n(fd, buf, 50000, 3000), 50000);
	assert_int_equal(tcp_send(fd, big + 100000, sizeof(big) - 100000), 0);
	assert_int_equal(shutdown(fd, SHUT_WR), 0);
	assert_int_equal(tcp_recv_eof(fd, buf + 50000, sizeof(buf) - 50000,
	    5000), sizeof(big) - 50000);
	assert_memory_equal(buf, big, sizeof(big));
	client_close(fd);
	harness_stop_clean(h);
}

static void
banner_is_sent_on_connect(void **state)
{
	struct harness	*h = *state;
	int		 fd, port = harness_port();

	harness_serve(h, "services = ({ name = \"echo\"; port = %d; "
	    LOOPBACK " banner = \"welcome to echo\\r\\n\"; });\n", port);
	fd = tcp_open("::1", port);
	assert_true(fd >= 0);
	assert_tcp_recv(fd, "welcome to echo\r\n", 3000);
	assert_true(tcp_quiet(fd, 200));
	assert_echo_on(fd, "ping\n");
	client_close(fd);
	harness_stop_clean(h);
}

static void
quit_word_ends_the_session(void **state)
{
	struct harness	*h = *state;
	char		 buf[64];
	int		 fd, port = harness_port();

	harness_serve(h, "services = ({ name = \"rot13\"; port = %d; "
	    LOOPBACK " quit = \"q\"; });\n", port);

	fd = tcp_open("127.0.0.1", port);
	assert_true(fd >= 0);
	assert_int_equal(tcp_sends(fd, "abc\n"), 0);
	assert_int_equal(tcp_recv_line(fd, buf, sizeof(buf), 3000), 4);
	assert_string_equal(buf, "nop\n");
	/* Longer than the quit word, or only starting with it: a line. */
	assert_int_equal(tcp_sends(fd, "qq\n"), 0);
	assert_int_equal(tcp_recv_line(fd, buf, sizeof(buf), 3000), 3);
	assert_string_equal(buf, "dd\n");
	assert_int_equal(tcp_sends(fd, "q\n"), 0);
	assert_int_equal(tcp_recv_eof(fd, buf, sizeof(buf), 3000), 0);
	client_close(fd);

	/* The classic telnet client ends lines with \r\n. */
	fd = tcp_open("::1", port);
	assert_true(fd >= 0);
	assert_int_equal(tcp_sends(fd, "q\r\n"), 0);
	assert_int_equal(tcp_recv_eof(fd, buf, sizeof(buf), 3000), 0);
	client_close(fd);
	harness_stop_clean(h);
}

static void
idle_connection_is_closed_after_idle_timeout(void **state)
{
	struct harness	*h = *state;
	long long	 t0;
	int		 idle, busy, i, port = harness_port();

	harness_serve(h, "services = ({ name = \"echo\"; port = %d; "
	    LOOPBACK " idle_timeout = 1; });\n", port);
	t0 = harness_now_ms();
	idle = tcp_open("127.0.0.1", port);
	busy = tcp_open("::1", port);
	assert_true(idle >= 0 && busy >= 0);
	/* busy talks every 400 ms for 2.4 s: never idle for 1 s. */
	for (i = 0; i < 6; i++) {
		usleep(400000);
		assert_echo_on(busy, "still here\n");
	}
	assert_true(tcp_closed(idle, 1));
	assert_true(harness_now_ms() - t0 < harness_ms(4000));
	/* Then it falls silent, and is closed within ~1 s too. */
	t0 = harness_now_ms();
	assert_true(tcp_closed(busy, 3000));
	assert_true(harness_now_ms() - t0 >= 700);
	client_close(idle);
	client_close(busy);
	/* idle_timeout = 0: never. */
	harness_stop_clean(h);
}

static void
long_lines_reach_the_handler_in_max_line_pieces(void **state)
{
	struct harness	*h = *state;
	char		 buf[128];
	int		 fd, port = harness_port();

	/* line_timeout = 0: only whole lines, pieces and EOF end a line. */
	harness_serve(h, "services = ({ name = \"rot13\"; port = %d; "
	    LOOPBACK " max_line = 8; line_timeout = 0; options = { frame = "
	    "true; }; });\n", port);
	fd = tcp_open("127.0.0.1", port);
	assert_true(fd >= 0);

	/* Short lines arrive whole, each with its own ending. */
	assert_reply_on(fd, "ab\r\ncd\n", "[no\r\n][pq\n]", 3000);

	/* A 20-byte line comes in 8-byte pieces; the rest ends the line. */
	assert_reply_on(fd, "abcdefghijklmnopqrst\n",
	    "[nopqrstu][vwxyzabc][defg\n]", 3000);

	/* Bytes sent in two writes make one line. */
	assert_int_equal(tcp_sends(fd, "ab"), 0);
	assert_true(tcp_quiet(fd, 500));
	assert_reply_on(fd, "c\n", "[nop\n]", 3000);

	/* The unterminated last line is handed over at the peer's EOF. */
	assert_int_equal(tcp_sends(fd, "tail"), 0);
	assert_int_equal(shutdown(fd, SHUT_WR), 0);
	assert_int_equal(tcp_recv_eof(fd, buf, sizeof(buf), 3000), 6);
	assert_string_equal(buf, "[gnvy]");
	client_close(fd);
	harness_stop_clean(h);
}

static void
unfinished_line_is_handed_over_after_line_timeout(void **state)
{
	struct harness	*h = *state;
	long long	 t0;
	int		 fd, port = harness_port();

	harness_serve(h, "services = ({ name = \"rot13\"; port = %d; "
	    LOOPBACK " line_timeout = 300; options = { frame = true; }; "
	    "});\n", port);
	fd = tcp_open("::1", port);
	assert_true(fd >= 0);
	/* Pieces closer together than line_timeout make one line. */
	assert_int_equal(tcp_sends(fd, "ab"), 0);
	usleep(100000);
	assert_reply_on(fd, "cd\n", "[nopq\n]", 3000);
	/* A prompt answer without "\n" is served after line_timeout. */
	t0 = harness_now_ms();
	assert_reply_on(fd, "yes", "[lrf]", 3000);
	assert_true(harness_now_ms() - t0 >= 250);
	client_close(fd);
	harness_stop_clean(h);
}

/* Plugins. */

static void
plugin_is_loaded_from_handler_dir(void **state)
{
	struct harness	*h = *state;
	char		 buf[64];
	int		 fd, port = harness_port();

	harness_config(h, "services = ({ name = \"rot13\"; port = %d; "
	    "protocol = [\"tcp\", \"udp\"]; " LOOPBACK " });\n", port);
	assert_int_equal(harness_check(h, NULL), 0);
	assert_int_equal(harness_start(h, NULL), 0);
	fd = tcp_open("127.0.0.1", port);
	assert_true(fd >= 0);
	assert_int_equal(tcp_sends(fd, "Hello, World!\n"), 0);
	assert_int_equal(tcp_recv_line(fd, buf, sizeof(buf), 3000), 14);
	assert_string_equal(buf, "Uryyb, Jbeyq!\n");
	client_close(fd);
	assert_udp_reply("::1", port, "Why did the chicken",
	    "Jul qvq gur puvpxra");
	assert_udp_reply("127.0.0.1", port, "abc", "nop");
	harness_stop_clean(h);
}

static void
plugins_breaking_the_abi_are_refused_naming_the_file(void **state)
{
	struct harness	*h = *state;
	static const struct {
		const char	*name;
		const char	*proto;
		const char	*why;
	} bad[] = {
		{ "badabi", "tcp", "2.0" },
		{ "newminor", "tcp", "1.99" },
		{ "wrongname", "tcp", "other" },
		{ "nosym", "tcp", "sockd_handler_nosym" },
		{ "noudp", "udp", "udp_datagram" },
	};
	char		 file[128], want[4096];
	const char	*conf, *err;
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		conf = harness_write(h, "plugin.conf",
		    "%s"
		    "services = (\n"
		    "  { name = \"%s\"; port = %d; protocol = \"%s\"; "
		    "bind = \"127.0.0.1\"; }\n"
		    ");\n", harness_daemon_section(), bad[i].name,
		    harness_port(), bad[i].proto);
		assert_int_equal(harness_check(h, conf), 1);
		err = harness_stderr(h);
		snprintf(file, sizeof(file), "%s.so", bad[i].name);
		snprintf(want, sizeof(want), "%s:", conf);
		if (!has(err, file) || !has(err, bad[i].why) ||
		    !has(err, want))
			fail_msg("%s: want \"%s\", \"%s\" and \"%s\" in: %s",
			    bad[i].name, want, file, bad[i].why, err);
		assert_false(has(harness_stdout(h), "configuration OK"));
	}
	/* Refused at startup too: exit 1 before anything is bound. */
	assert_int_equal(harness_run(h, "-f", "-c", conf, NULL), 1);
	assert_true(has(harness_stderr(h), "noudp.so"));
	harness_pass(h);
}

static void
configure_error_of_a_plugin_is_a_config_error(void **state)
{
	struct harness	*h = *state;
	char		 want[4096];
	const char	*conf;
	int		 port = harness_port();

	conf = harness_write(h, "badconf.conf",
	    "daemon: { log = \"stderr\"; handler_dir = \"%s\"; };\n"
	    "services = (\n"
	    "  { name = \"ok\"; handler = \"badconf\"; port = %d; "
	    "bind = \"127.0.0.1\"; options = { answer = 42; }; },\n"
	    "  { name = \"wrong\"; handler = \"badconf\"; port = %d;\n"
	    "    bind = \"127.0.0.1\"; options = { answer = 7; }; }\n"
	    ");\n", harness_plugins(), port, harness_port());
	assert_int_equal(harness_check(h, conf), 1);
	assert_true(has(harness_stderr(h), "answer must be 42, not 7"));
	/* The service's line (4) or its options' (5), not the good one's. */
	snprintf(want, sizeof(want), "%s:4: ", conf);
	if (!has(harness_stderr(h), want)) {
		snprintf(want, sizeof(want), "%s:5: ", conf);
		if (!has(harness_stderr(h), want))
			fail_msg("no %s:4 or :5 in: %s", conf,
			    harness_stderr(h));
	}
	snprintf(want, sizeof(want), "%s:3:", conf);
	assert_false(has(harness_stderr(h), want));

	/* An option the handler does not list is an error too. */
	harness_config(h, "services = ({ name = \"ok\"; handler = \"badconf\"; "
	    "port = %d; bind = \"127.0.0.1\"; options = { answer = 42; "
	    "question = \"?\"; }; });\n", port);
	assert_int_equal(harness_check(h, NULL), 1);
	assert_true(has(harness_stderr(h), "question"));

	/* With the right answer it runs. */
	harness_config(h, "services = ({ name = \"ok\"; handler = \"badconf\"; "
	    "port = %d; bind = \"127.0.0.1\"; options = { answer = 42; }; "
	    "});\n", port);
	assert_int_equal(harness_check(h, NULL), 0);
	assert_int_equal(harness_start(h, NULL), 0);
	assert_echo("127.0.0.1", port, "forty-two\n");
	harness_stop_clean(h);
}

/* Reload. */

static void
reload_adds_a_service_while_an_old_connection_keeps_working(void **state)
{
	struct harness	*h = *state;
	const char	*msg;
	unsigned long	 inode;
	char		 buf[64];
	int		 old, fd, a = harness_port(), b = harness_port();

	harness_serve(h, "services = ({ name = \"echo\"; port = %d; "
	    LOOPBACK " });\n", a);
	old = tcp_open("127.0.0.1", a);
	assert_true(old >= 0);
	assert_echo_on(old, "before\n");
	inode = listen_inode(a);
	assert_true(inode != 0);

	harness_config(h, "services = (\n"
	    "  { name = \"echo\"; port = %d; " LOOPBACK " },\n"
	    "  { name = \"rot13\"; port = %d; protocol = [\"tcp\", \"udp\"]; "
	    LOOPBACK " }\n);\n", a, b);
	assert_int_equal(harness_signal(h, SIGHUP), 0);
	assert_non_null(harness_notify(h, "RELOADING=1", 5000));
	msg = harness_notify(h, "READY=1", 5000);
	assert_non_null(msg);
	assert_null(strstr(msg, "failed"));

	/* The new service answers... */
	fd = tcp_open("::1", b);
	assert_true(fd >= 0);
	assert_int_equal(tcp_sends(fd, "new\n"), 0);
	assert_int_equal(tcp_recv_line(fd, buf, sizeof(buf), 3000), 4);
	assert_string_equal(buf, "arj\n");
	client_close(fd);
	assert_udp_reply("127.0.0.1", b, "udp", "hqc");
	/* ...the old connection still works, on the same listener. */
	assert_echo_on(old, "after\n");
	assert_echo("127.0.0.1", a, "fresh\n");
	assert_int_equal(listen_inode(a), inode);
	client_close(old);
	harness_stop_clean(h);
}

static void
reload_removes_a_service_but_not_its_live_connections(void **state)
{
	struct harness	*h = *state;
	int		 live, a = harness_port(), b = harness_port();

	harness_serve(h, "services = (\n"
	    "  { name = \"echo\"; port = %d; " LOOPBACK " },\n"
	    "  { name = \"echo2\"; handler = \"echo\"; port = %d; " LOOPBACK
	    " }\n);\n", a, b);
	live = tcp_open("127.0.0.1", b);
	assert_true(live >= 0);
	assert_echo_on(live, "one\n");

	harness_config(h, "services = ({ name = \"echo\"; port = %d; "
	    LOOPBACK " });\n", a);
	assert_int_equal(harness_signal(h, SIGHUP), 0);
	assert_non_null(harness_notify(h, "RELOADING=1", 5000));
	assert_non_null(harness_notify(h, "READY=1", 5000));
	assert_true(refused_soon("127.0.0.1", b));
	assert_true(refused_soon("::1", b));
	assert_echo_on(live, "two\n");
	assert_echo("::1", a, "unchanged\n");
	client_close(live);
	harness_stop_clean(h);
}

static void
reload_with_a_broken_file_keeps_the_old_services(void **state)
{
	struct harness	*h = *state;
	const char	*msg;
	int		 old, a = harness_port(), b = harness_port();

	harness_serve(h, "services = ({ name = \"echo\"; port = %d; "
	    LOOPBACK " });\n", a);
	old = tcp_open("::1", a);
	assert_true(old >= 0);
	assert_echo_on(old, "before\n");

	harness_write(h, "sockd.conf", "services = ( { name = ; port = %d; "
	    "} ;\n", b);
	assert_int_equal(harness_signal(h, SIGHUP), 0);
	assert_non_null(harness_notify(h, "RELOADING=1", 5000));
	msg = harness_notify(h, "READY=1", 5000);
	assert_non_null(msg);
	if (strstr(msg, "STATUS=") == NULL ||
	    strstr(msg, "reload failed") == NULL)
		fail_msg("want STATUS=...reload failed in: %s", msg);
	assert_true(harness_log_wait(h, "reload failed", 2000));
	assert_echo_on(old, "after\n");
	assert_echo("127.0.0.1", a, "fresh\n");
	assert_int_equal(tcp_open("127.0.0.1", b), -1);

	/* A valid file with an error sockd finds (unknown handler) too. */
	harness_config(h, "services = ({ name = \"echo\"; port = %d; "
	    LOOPBACK " }, { name = \"x\"; handler = \"nosuch\"; port = %d; "
	    "bind = \"127.0.0.1\"; });\n", a, b);
	assert_int_equal(harness_signal(h, SIGHUP), 0);
	msg = harness_notify(h, "READY=1", 5000);
	assert_non_null(msg);
	assert_non_null(strstr(msg, "reload failed"));
	assert_int_equal(tcp_open("127.0.0.1", b), -1);

	/* A good file afterwards is taken. */
	harness_config(h, "services = ({ name = \"echo\"; port = %d; "
	    LOOPBACK " }, { name = \"echo2\"; handler = \"echo\"; port = %d; "
	    LOOPBACK " });\n", a, b);
	assert_int_equal(harness_signal(h, SIGHUP), 0);
	msg = harness_notify(h, "READY=1", 5000);
	assert_non_null(msg);
	assert_null(strstr(msg, "failed"));
	assert_echo("127.0.0.1", b, "now\n");
	assert_echo_on(old, "still\n");
	client_close(old);
	harness_stop_clean(h);
}

/* Stopping. */

static void
sigterm_with_open_connections_exits_0(void **state)
{
	struct harness	*h = *state;
	char		 buf[64];
	long long	 t0;
	int		 c[3], i, port = harness_port();

	harness_serve(h, "services = ({ name = \"echo\"; port = %d; "
	    "protocol = [\"tcp\", \"udp\"]; " LOOPBACK " });\n", port);
	for (i = 0; i < 3; i++) {
		c[i] = tcp_open(i ? "127.0.0.1" : "::1", port);
		assert_true(c[i] >= 0);
		assert_echo_on(c[i], "hi\n");
	}
	/* One has bytes in flight when the signal comes. */
	assert_int_equal(tcp_sends(c[0], "in flight"), 0);
	t0 = harness_now_ms();
	assert_int_equal(harness_signal(h, SIGTERM), 0);
	assert_non_null(harness_notify(h, "STOPPING=1", 3000));
	assert_tcp_recv(c[0], "in flight", 3000);
	/* No new connections or datagrams; live ones still served. */
	assert_true(refused_soon("127.0.0.1", port));
	assert_true(refused_soon("::1", port));
	assert_int_equal(udp_ask("127.0.0.1", port, "u", 1, buf, sizeof(buf),
	    300), -1);
	assert_echo_on(c[1], "draining\n");
	/* drain_timeout = 3: then everything is closed, exit 0. */
	assert_int_equal(harness_wait_exit(h, 8000), 0);
	assert_true(harness_now_ms() - t0 < harness_ms(8000));
	for (i = 0; i < 3; i++)
		assert_true(tcp_closed(c[i], 1000));
	harness_pass(h);
}

static void
sigterm_without_connections_exits_at_once(void **state)
{
	struct harness	*h = *state;
	long long	 t0;
	int		 port = harness_port();

	harness_drain_timeout(30);
	harness_serve(h, "services = ({ name = \"echo\"; port = %d; "
	    LOOPBACK " });\n", port);
	assert_echo("127.0.0.1", port, "x\n");
	t0 = harness_now_ms();
	assert_int_equal(harness_stop(h), 0);
	assert_true(harness_now_ms() - t0 < harness_ms(3000));
	harness_pass(h);
}

static void
second_sigterm_ends_the_drain_at_once(void **state)
{
	struct harness	*h = *state;
	long long	 t0;
	int		 fd, port = harness_port();

	harness_drain_timeout(30);
	harness_serve(h, "services = ({ name = \"echo\"; port = %d; "
	    LOOPBACK " });\n", port);
	fd = tcp_open("127.0.0.1", port);
	assert_true(fd >= 0);
	assert_echo_on(fd, "x\n");
	t0 = harness_now_ms();
	assert_int_equal(harness_signal(h, SIGTERM), 0);
	assert_non_null(harness_notify(h, "STOPPING=1", 3000));
	/* Still draining: the connection is served. */
	assert_int_equal(harness_wait_exit(h, 500), -1);
	assert_echo_on(fd, "y\n");
	assert_int_equal(harness_signal(h, SIGINT), 0);
	assert_int_equal(harness_wait_exit(h, 3000), 0);
	assert_true(harness_now_ms() - t0 < harness_ms(5000));
	assert_true(tcp_closed(fd, 1000));
	client_close(fd);
	harness_pass(h);
}

/* Errors at startup, counters, port offset. */

static void
port_in_use_exits_1_naming_service_address_and_port(void **state)
{
	struct harness	*h = *state;
	struct sockaddr_in sin;
	const char	*line;
	char		 portstr[16];
	int		 squat, port = harness_port();

	squat = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(squat >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(squat, (struct sockaddr *)&sin, sizeof(sin)),
	    0);
	assert_int_equal(listen(squat, 1), 0);

	harness_config(h, "services = ({ name = \"clash\"; handler = \"echo\"; "
	    "port = %d; " LOOPBACK " });\n", port);
	assert_int_equal(harness_start(h, NULL), -1);
	assert_int_equal(harness_wait_exit(h, 5000), 1);
	snprintf(portstr, sizeof(portstr), "%d", port);
	line = harness_log_line(h, "clash");
	if (line == NULL || !has(line, "127.0.0.1") || !has(line, portstr))
		fail_msg("want a line naming clash, 127.0.0.1 and %d in:\n%s",
		    port, harness_log(h));
	close(squat);
	harness_pass(h);
}

static void
sigusr1_logs_the_counters(void **state)
{
	struct harness	*h = *state;
	const char	*line = NULL;
	char		 buf[16];
	int		 i, port = harness_port();

	harness_serve(h, "services = ({ name = \"countme\"; handler = "
	    "\"echo\"; port = %d; protocol = [\"tcp\", \"udp\"]; " LOOPBACK
	    " });\n", port);
	assert_echo("127.0.0.1", port, "one\n");
	assert_echo("::1", port, "two\n");
	for (i = 0; i < 3; i++)
		assert_int_equal(udp_ask("127.0.0.1", port, "d", 1, buf,
		    sizeof(buf), 3000), 1);
	usleep(100000);
	assert_int_equal(harness_signal(h, SIGUSR1), 0);
	for (i = 0; i < 50 && line == NULL; i++) {
		usleep(harness_ms(60000) / 1000);
		line = log_line_with(h, "countme", "accepted");
	}
	if (line == NULL)
		fail_msg("no counters line for countme in:\n%s",
		    harness_log(h));
	/* Two connections, three datagrams, three replies. */
	if (!has(line, "2 accepted") || !has(line, "3 in") ||
	    !has(line, "3 replies"))
		fail_msg("wrong counts: %s", line);
	/* The daemon is still running and serving. */
	assert_echo("127.0.0.1", port, "three\n");
	harness_stop_clean(h);
}

static void
port_offset_moves_ports_below_1024(void **state)
{
	struct harness	*h = *state;
	char		 off[16];
	int		 port;

	do
		port = harness_port();
	while (port != -1 && port < 1031);
	assert_true(port > 0);
	snprintf(off, sizeof(off), "%d", port - 7);
	harness_config(h, "services = ({ name = \"echo\"; port = 7; "
	    LOOPBACK " });\n");
	assert_int_equal(harness_start(h, "-p", off, NULL), 0);
	assert_echo("127.0.0.1", port, "offset\n");
	harness_stop_clean(h);
}

#define T(f)	HARNESS_TEST(f)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(check_prints_configuration_ok_for_a_good_file),
		T(check_reports_every_error_with_its_file_and_line),
		T(check_reports_a_syntax_error_with_its_line),
		T(check_of_a_missing_file_exits_1_naming_it),
		T(version_option_prints_the_version_and_exits_0),
		T(help_option_prints_usage_and_exits_0),
		T(unknown_option_prints_usage_and_exits_2),
		T(tcp_echo_answers_on_ipv4_and_ipv6),
		T(udp_echo_answers_on_ipv4_and_ipv6),
		T(discard_swallows_tcp_and_udp),
		T(two_hundred_concurrent_clients_each_get_their_own_bytes),
		T(half_close_still_returns_the_last_words),
		T(banner_is_sent_on_connect),
		T(quit_word_ends_the_session),
		T(idle_connection_is_closed_after_idle_timeout),
		T(long_lines_reach_the_handler_in_max_line_pieces),
		T(unfinished_line_is_handed_over_after_line_timeout),
		T(plugin_is_loaded_from_handler_dir),
		T(plugins_breaking_the_abi_are_refused_naming_the_file),
		T(configure_error_of_a_plugin_is_a_config_error),
		T(reload_adds_a_service_while_an_old_connection_keeps_working),
		T(reload_removes_a_service_but_not_its_live_connections),
		T(reload_with_a_broken_file_keeps_the_old_services),
		T(sigterm_with_open_connections_exits_0),
		T(sigterm_without_connections_exits_at_once),
		T(second_sigterm_ends_the_drain_at_once),
		T(port_in_use_exits_1_naming_service_address_and_port),
		T(sigusr1_logs_the_counters),
		T(port_offset_moves_ports_below_1024),
	};

	return HARNESS_RUN(tests);
}
