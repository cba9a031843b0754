/*
 * exec services with wait = true (inetd's "wait"): the service's socket
 * itself goes to one program (tests/progs/waitsvc, built beside sockd),
 * which serves until it has been idle for a second; sockd reads nothing
 * of it meanwhile, and waits again once it exits.  A UDP datagram sockd
 * refuses is dropped before the program sees it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

/* The test program, beside the sockd under test. */
static const char *
waitsvc(void)
{
	static char path[PATH_MAX];
	char dir[PATH_MAX], real[PATH_MAX];
	const char *sockd = getenv("SOCKD") != NULL ? getenv("SOCKD") :
	    "build/sockd";

	snprintf(dir, sizeof(dir), "%s", sockd);
	snprintf(path, sizeof(path), "%s/tests/progs/waitsvc", dirname(dir));
	if (realpath(path, real) == NULL)
		fail_msg("%s: not built (make %s)", path, path);
	snprintf(path, sizeof(path), "%s", real);
	return path;
}

static void
serve_wait(struct harness *h, int port, const char *proto,
    const char *settings)
{
	harness_serve(h, "services = ({ name = \"w\"; port = %d; "
	    "bind = \"127.0.0.1\"; protocol = \"%s\"; handler = \"exec\"; "
	    "%s options = { command = [\"%s\"]; wait = true; }; });\n", port,
	    proto, settings, waitsvc());
}

/* Asks over UDP from src; the reply's pid, 0 when none came. */
static int
udp_pid(const char *src, int port, const char *msg, char *text,
    size_t size)
{
	char buf[600];
	int fd = udp_open_from(src, 0, port), pid = 0;
	ssize_t n;

	assert_true(fd >= 0);
	assert_int_equal(udp_send(fd, msg, strlen(msg)), 0);
	if ((n = udp_recv(fd, buf, sizeof(buf) - 1, harness_ms(3000))) > 0) {
		buf[n] = '\0';
		pid = atoi(buf);
		if (text != NULL)
			snprintf(text, size, "%s", strchr(buf, ' ') != NULL ?
			    strchr(buf, ' ') + 1 : "");
	}
	client_close(fd);
	return pid;
}

static void
udp_wait_gives_the_program_the_socket_with_the_datagram(void **state)
{
	struct harness *h = *state;
	int port = harness_port(), p1, p2, p3;
	char text[600];

	serve_wait(h, port, "udp", "");
	p1 = udp_pid("127.0.0.1", port, "one", text, sizeof(text));
	assert_true(p1 > 0);
	assert_string_equal(text, "one");
	/* The same program serves the next one. */
	p2 = udp_pid("127.0.0.1", port, "two", text, sizeof(text));
	assert_int_equal(p2, p1);
	assert_string_equal(text, "two");
	/* Once it exited (idle for a second), a new one starts. */
	assert_true(harness_log_wait(h, "exit: pid=", harness_ms(5000)));
	p3 = udp_pid("127.0.0.1", port, "three", text, sizeof(text));
	assert_true(p3 > 0 && p3 != p1);
	assert_string_equal(text, "three");
	harness_stop_clean(h);
}

static void
udp_wait_drops_a_refused_datagram_before_the_program(void **state)
{
	struct harness *h = *state;
	int port = harness_port();
	char text[600];

	serve_wait(h, port, "udp", "deny = [\"127.0.0.2\"];");
	assert_int_equal(udp_pid("127.0.0.2", port, "denied", NULL, 0), 0);
	assert_true(udp_pid("127.0.0.1", port, "allowed", text,
	    sizeof(text)) > 0);
	assert_string_equal(text, "allowed");
	harness_stop_clean(h);
}

static void
tcp_wait_lets_the_program_accept(void **state)
{
	struct harness *h = *state;
	int port = harness_port(), fd, pid1, pid2;
	char line[64];

	serve_wait(h, port, "tcp", "");
	fd = tcp_open("127.0.0.1", port);
	assert_true(tcp_recv_line(fd, line, sizeof(line), 3000) > 0);
	client_close(fd);
	pid1 = atoi(line);
	fd = tcp_open("127.0.0.1", port);
	assert_true(tcp_recv_line(fd, line, sizeof(line), 3000) > 0);
	client_close(fd);
	pid2 = atoi(line);
	assert_true(pid1 > 0);
	assert_int_equal(pid1, pid2);
	harness_stop_clean(h);
}

static void
sigterm_waits_for_the_program_of_a_wait_service(void **state)
{
	struct harness *h = *state;
	int port = harness_port();

	harness_drain_timeout(20);
	serve_wait(h, port, "udp", "");
	assert_true(udp_pid("127.0.0.1", port, "x", NULL, 0) > 0);
	assert_int_equal(harness_signal(h, SIGTERM), 0);
	assert_int_equal(harness_wait_exit(h, harness_ms(10000)), 0);
	assert_true(harness_log_has(h, "exit: pid="));
	harness_pass(h);
}

static void
udp_without_wait_is_a_config_error(void **state)
{
	struct harness *h = *state;
	const char *conf;

	conf = harness_config(h, "services = ({ name = \"w\"; port = 7001; "
	    "protocol = \"udp\"; handler = \"exec\"; options = { command = "
	    "[\"/bin/cat\"]; }; });\n");
	assert_int_equal(harness_check(h, conf), 1);
	assert_non_null(strstr(harness_stderr(h), "exec over udp needs wait "
	    "= true"));
	harness_pass(h);
}

#define T(f)	HARNESS_TEST(f)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(udp_wait_gives_the_program_the_socket_with_the_datagram),
		T(udp_wait_drops_a_refused_datagram_before_the_program),
		T(tcp_wait_lets_the_program_accept),
		T(sigterm_waits_for_the_program_of_a_wait_service),
		T(udp_without_wait_is_a_config_error),
	};
	return HARNESS_RUN(tests);
}
