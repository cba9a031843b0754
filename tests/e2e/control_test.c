/*
 * The daemon's control from outside: "sockd -r" and its control socket
 * (the verdict of a reload, refusals), the systemd notify messages of a
 * reload, the watchdog, and sockets passed by a service manager
 * (systemd-socket-activate).
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include "harness.h"

#define ACTIVATE	"/usr/bin/systemd-socket-activate"

/* dir/sockd.pid and dir/sockd.sock of h. */
static const char *
pid_path(struct harness *h)
{
	static char buf[PATH_MAX];

	snprintf(buf, sizeof(buf), "%s/sockd.pid", harness_dir(h));
	return buf;
}

static const char *
sock_path(struct harness *h)
{
	static char buf[PATH_MAX];

	snprintf(buf, sizeof(buf), "%s/sockd.sock", harness_dir(h));
	return buf;
}

/* "sockd -r -P dir/sockd.pid": its exit status. */
static int
reload_command(struct harness *h)
{
	char pid[PATH_MAX];

	snprintf(pid, sizeof(pid), "%s", pid_path(h));
	return harness_run(h, "-r", "-P", pid, NULL);
}

static void serve_with_pid_file(struct harness *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

/* harness_serve() with the pid file -P dir/sockd.pid. */
static void
serve_with_pid_file(struct harness *h, const char *fmt, ...)
{
	char pid[PATH_MAX], body[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	snprintf(pid, sizeof(pid), "%s", pid_path(h));
	harness_config(h, "%s", body);
	assert_int_equal(harness_start(h, "-P", pid, NULL), 0);
}

/* Connects to the control socket at path, sends msg (NULL: nothing) and
 * reads until EOF or ms; the bytes read into buf, -1 when connect
 * failed (errno kept), -2 when no EOF came in time. */
static ssize_t
control_ask(const char *path, const char *msg, char *buf, size_t size,
    int ms)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	long long deadline = harness_now_ms() + harness_ms(ms);
	struct pollfd pfd;
	size_t len = 0;
	ssize_t n;
	int fd, saved;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	if (msg != NULL)
		(void)send(fd, msg, strlen(msg), MSG_NOSIGNAL);
	buf[0] = '\0';
	for (;;) {
		pfd = (struct pollfd){ .fd = fd, .events = POLLIN };
		if (harness_now_ms() >= deadline || poll(&pfd, 1,
		    (int)(deadline - harness_now_ms())) <= 0) {
			close(fd);
			return -2;
		}
		if ((n = read(fd, buf + len, size - 1 - len)) <= 0)
			break;
		len += (size_t)n;
		buf[len] = '\0';
		if (len == size - 1)
			break;
	}
	close(fd);
	return (ssize_t)len;
}

static void
reload_command_exits_0_once_the_new_service_answers(
    void **state)
{
	struct harness *h = *state;
	int port = harness_port(), nport = harness_port();

	serve_with_pid_file(h, "services = ({ name = \"echo\"; port = %d; "
	    LOOPBACK " });\n", port);
	assert_true(access(pid_path(h), F_OK) == 0);
	harness_config(h, "services = ({ name = \"echo\"; port = %d; "
	    LOOPBACK " }, { name = \"upper\"; port = %d; " LOOPBACK " });\n",
	    port, nport);
	assert_int_equal(reload_command(h), 0);
	assert_non_null(strstr(harness_stdout(h), "serving 2 services"));
	/* Answered once the reload is done: the new service is there. */
	assert_tcp_reply("127.0.0.1", nport, "abc\n", "ABC\n", 5000);
	assert_tcp_reply("::1", port, "abc\n", "abc\n", 5000);
	harness_stop_clean(h);
	/* Gone with the daemon. */
	assert_int_equal(access(sock_path(h), F_OK), -1);
	assert_int_equal(access(pid_path(h), F_OK), -1);
}

static void
reload_command_exits_1_with_the_reason_for_a_busy_port(void **state)
{
	struct harness *h = *state;
	int port = harness_port(), busy = harness_port(), fd;

	serve_with_pid_file(h, "services = ({ name = \"echo\"; port = %d; "
	    LOOPBACK " });\n", port);
	assert_true((fd = tcp_open("127.0.0.1", port)) != -1);
	client_close(fd);
	/* Someone else holds the new port. */
	{
		struct sockaddr_in sin = { .sin_family = AF_INET,
		    .sin_port = htons((uint16_t)busy),
		    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

		assert_true((fd = socket(AF_INET, SOCK_STREAM, 0)) != -1);
		assert_int_equal(bind(fd, (struct sockaddr *)&sin,
		    sizeof(sin)), 0);
		assert_int_equal(listen(fd, 1), 0);
	}
	harness_config(h, "services = ({ name = \"echo\"; port = %d; "
	    LOOPBACK " }, { name = \"upper\"; port = %d; "
	    "bind = \"127.0.0.1\"; });\n", port, busy);
	assert_int_equal(reload_command(h), 1);
	assert_non_null(strstr(harness_stderr(h), "reload failed"));
	assert_non_null(strstr(harness_stderr(h), "Address already in use"));
	assert_non_null(strstr(harness_stderr(h), "upper"));
	close(fd);
	/* The old configuration serves. */
	assert_tcp_reply("127.0.0.1", port, "still\n", "still\n", 5000);
	/* A broken file is reported the same way, from the check. */
	harness_config(h, "services = ({ name = \"echo\"; port = %d; "
	    "nonsense = 1; });\n", port);
	assert_int_equal(reload_command(h), 1);
	assert_non_null(strstr(harness_stderr(h), "sockd.conf:"));
	assert_tcp_reply("127.0.0.1", port, "again\n", "again\n", 5000);
	harness_stop_clean(h);
}

static void
reload_command_exits_2_when_no_daemon_runs(void **state)
{
	struct harness *h = *state;

	assert_int_equal(reload_command(h), 2);
	assert_non_null(strstr(harness_stderr(h), "no sockd answers"));
	harness_pass(h);
}

static void
a_second_daemon_on_the_same_pid_file_is_refused(void **state)
{
	struct harness *h = *state;
	struct harness *h2 = harness_new();
	int port = harness_port(), port2 = harness_port();
	char pid[PATH_MAX];

	assert_non_null(h2);
	serve_with_pid_file(h, "services = ({ name = \"echo\"; port = %d; "
	    LOOPBACK " });\n", port);
	snprintf(pid, sizeof(pid), "%s", pid_path(h));
	harness_config(h2, "services = ({ name = \"echo\"; port = %d; "
	    LOOPBACK " });\n", port2);
	assert_int_equal(harness_start(h2, "-P", pid, NULL), -1);
	assert_int_equal(harness_wait_exit(h2, 5000), 1);
	assert_true(harness_log_has(h2, "another sockd answers"));
	harness_pass(h2);
	harness_free(h2);
	/* The first one still answers its control socket. */
	assert_int_equal(reload_command(h), 0);
	harness_stop_clean(h);
}

static void
the_control_socket_answers_only_reload(void **state)
{
	struct harness *h = *state;
	int port = harness_port();
	struct stat st;
	char buf[512];
	long long t0;

	serve_with_pid_file(h, "services = ({ name = \"echo\"; port = %d; "
	    LOOPBACK " });\n", port);
	assert_int_equal(stat(sock_path(h), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_true(control_ask(sock_path(h), "shutdown\n", buf, sizeof(buf),
	    5000) > 0);
	assert_non_null(strstr(buf, "error: unknown command \"shutdown\""));
	memset(buf, 'x', 200);
	buf[200] = '\0';
	assert_true(control_ask(sock_path(h), buf, buf, sizeof(buf),
	    5000) > 0);
	assert_non_null(strstr(buf, "error: command too long"));
	/* Silence is closed after a few seconds, and serves nobody. */
	t0 = harness_now_ms();
	assert_true(control_ask(sock_path(h), NULL, buf, sizeof(buf),
	    20000) >= 0);
	assert_true(harness_now_ms() - t0 >= 4000);
	assert_non_null(strstr(buf, "error: no command"));
	assert_int_equal(harness_log_count(h, "reload asked"), 0);
	assert_tcp_reply("127.0.0.1", port, "abc\n", "abc\n", 5000);
	harness_stop_clean(h);
}

static void
another_user_is_refused_by_the_control_socket(void **state)
{
	struct harness *h = *state;
	int port = harness_port(), p[2], status;
	struct passwd *pw;
	char buf[512];
	ssize_t n;
	pid_t pid;

	if (geteuid() != 0 || (pw = getpwnam("nobody")) == NULL)
		skip();
	serve_with_pid_file(h, "services = ({ name = \"echo\"; port = %d; "
	    LOOPBACK " });\n", port);
	/* Past the socket's mode, so that the daemon's own check is what
	 * refuses. */
	assert_int_equal(chmod(harness_dir(h), 0711), 0);
	assert_int_equal(chmod(sock_path(h), 0666), 0);
	assert_int_equal(pipe(p), 0);
	if ((pid = fork()) == 0) {
		close(p[0]);
		if (setgid(pw->pw_gid) == -1 || setuid(pw->pw_uid) == -1)
			_exit(3);
		n = control_ask(sock_path(h), "reload\n", buf, sizeof(buf),
		    5000);
		if (n > 0 && write(p[1], buf, (size_t)n) != n)
			_exit(4);
		_exit(n > 0 ? 0 : 5);
	}
	close(p[1]);
	n = read(p[0], buf, sizeof(buf) - 1);
	close(p[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_string_equal(buf, "error: permission denied\n");
	assert_true(harness_log_wait(h, "control socket: refused uid", 5000));
	assert_int_equal(harness_log_count(h, "reloading"), 0);
	harness_stop_clean(h);
}

/* MONOTONIC_USEC=N of a notify message, as CLOCK_MONOTONIC's. */
static long long
monotonic_of(const char *msg)
{
	const char *p = strstr(msg, "MONOTONIC_USEC=");

	return p == NULL ? -1 : strtoll(p + 15, NULL, 10);
}

static void
reloads_tell_systemd_reloading_then_ready(void **state)
{
	struct harness *h = *state;
	int port = harness_port(), nport = harness_port();
	struct timespec ts;
	const char *m;
	long long now;

	serve_with_pid_file(h, "services = ({ name = \"echo\"; port = %d; "
	    LOOPBACK " });\n", port);
	harness_config(h, "services = ({ name = \"echo\"; port = %d; "
	    LOOPBACK " }, { name = \"upper\"; port = %d; " LOOPBACK " });\n",
	    port, nport);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
	assert_int_equal(harness_signal(h, SIGHUP), 0);
	assert_non_null(m = harness_notify(h, "RELOADING=1", 10000));
	assert_true(monotonic_of(m) >= now);
	assert_true(monotonic_of(m) < now + 10000000);
	assert_non_null(strstr(m, "STATUS=reloading"));
	assert_non_null(m = harness_notify(h, "READY=1", 10000));
	assert_non_null(strstr(m, "STATUS=serving 2 services"));
	assert_tcp_reply("127.0.0.1", nport, "abc\n", "ABC\n", 5000);
	/* A failed reload: READY=1 again, with the reason. */
	harness_config(h, "services = ({ name = \"echo\"; port = %d; "
	    "nonsense = 1; });\n", port);
	assert_int_equal(reload_command(h), 1);
	assert_non_null(m = harness_notify(h, "RELOADING=1", 10000));
	assert_non_null(m = harness_notify(h, "READY=1", 10000));
	assert_non_null(strstr(m, "STATUS=reload failed: "));
	assert_non_null(strstr(m, "still serving the previous"));
	assert_tcp_reply("127.0.0.1", nport, "abc\n", "ABC\n", 5000);
	harness_stop_clean(h);
}

/* A port below 1024 free on 127.0.0.1 for TCP, or -1. */
static int
low_port(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int port, fd, rc;

	for (port = 1023; port > 900; port--) {
		sin.sin_port = htons((uint16_t)port);
		if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
			return -1;
		rc = bind(fd, (struct sockaddr *)&sin, sizeof(sin));
		close(fd);
		if (rc == 0)
			return port;
	}
	return -1;
}

/* Started as root, the spawner binds it (bind_test.c has the message
 * when it cannot). */
static void
a_low_port_after_the_drop_is_bound_by_the_spawner(void **state)
{
	struct harness *h = *state;
	int port = harness_port(), low = low_port();
	const char *daemon = "daemon: { log = \"stderr\"; log_level = "
	    "\"info\"; user = \"nobody\"; drain_timeout = 1; };\n";
	char buf[PATH_MAX], pid[PATH_MAX];
	FILE *fp;

	if (geteuid() != 0 || getpwnam("nobody") == NULL || low == -1 ||
	    (fp = fopen("/proc/sys/net/ipv4/ip_unprivileged_port_start",
	    "r")) == NULL)
		skip();
	if (fscanf(fp, "%d", &port) != 1 || port <= low) {
		fclose(fp);
		skip();
	}
	fclose(fp);
	port = harness_port();
	/* nobody reads the file again at the reload, and tells READY=1. */
	assert_int_equal(chmod(harness_dir(h), 0755), 0);
	snprintf(buf, sizeof(buf), "%s/notify", harness_dir(h));
	if (access(buf, F_OK) == 0)
		assert_int_equal(chmod(buf, 0777), 0);
	harness_write(h, "sockd.conf", "%sservices = ({ name = \"echo\"; "
	    "port = %d; bind = \"127.0.0.1\"; });\n", daemon, port);
	assert_int_equal(chmod(harness_conf(h), 0644), 0);
	snprintf(pid, sizeof(pid), "%s", pid_path(h));
	assert_int_equal(harness_start(h, "-P", pid, NULL), 0);
	assert_true(harness_log_has(h, "running as nobody"));
	harness_write(h, "sockd.conf", "%sservices = ({ name = \"echo\"; "
	    "port = %d; bind = \"127.0.0.1\"; }, { name = \"upper\"; "
	    "port = %d; bind = \"127.0.0.1\"; });\n", daemon, port, low);
	assert_int_equal(chmod(harness_conf(h), 0644), 0);
	assert_int_equal(reload_command(h), 0);
	assert_tcp_reply("127.0.0.1", low, "abc\n", "ABC\n", 5000);
	assert_tcp_reply("127.0.0.1", port, "abc\n", "abc\n", 5000);
	harness_stop_clean(h);
}

static void
the_watchdog_is_fed_from_every_loop(void **state)
{
	struct harness *h = *state;
	int port = harness_port(), i;
	long long t0;

	/* WatchdogSec=200ms: WATCHDOG=1 every 100 ms, while both workers'
	 * loops turn. */
	setenv("WATCHDOG_USEC", "200000", 1);
	harness_serve_quiet(h, 2, "services = ({ name = \"echo\"; "
	    "port = %d; " LOOPBACK " });\n", port);
	unsetenv("WATCHDOG_USEC");
	t0 = harness_now_ms();
	for (i = 0; i < 5; i++)
		assert_non_null(harness_notify(h, "WATCHDOG=1", 5000));
	/* Five in well under the 5 s a stuck loop would be let go. */
	assert_true(harness_now_ms() - t0 < harness_ms(3000));
	assert_true(harness_log_has(h, "watchdog: WATCHDOG=1 every 100 ms"));
	harness_stop_clean(h);
}

static void
a_watchdog_for_another_pid_is_ignored(void **state)
{
	struct harness *h = *state;
	int port = harness_port();

	setenv("WATCHDOG_USEC", "200000", 1);
	setenv("WATCHDOG_PID", "1", 1);
	harness_serve(h, "services = ({ name = \"echo\"; port = %d; "
	    LOOPBACK " });\n", port);
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	assert_null(harness_notify(h, "WATCHDOG=1", 1000));
	harness_stop_clean(h);
}

/*
 * systemd-socket-activate starts sockd at the first client, as systemd
 * does: a child is that client, echoing "first" over TCP (or UDP, where
 * datagrams sent before the socket exists are lost: sent again until one
 * is answered).  Returns when sockd is ready and the child's echo came
 * back.
 */
static void
start_activated(struct harness *h, const char **wrap, int udp, int port)
{
	long long deadline;
	char buf[64];
	pid_t pid;
	int fd, status;

	if ((pid = fork()) == 0) {
		deadline = harness_now_ms() + harness_ms(10000);
		while (harness_now_ms() < deadline) {
			if (udp && udp_ask_str("127.0.0.1", port, "first", 5,
			    buf, sizeof(buf), 200) == 5)
				_exit(strcmp(buf, "first") == 0 ? 0 : 2);
			if (!udp && (fd = tcp_open("127.0.0.1", port)) != -1)
				_exit(echo_ok(fd, "first\n") ? 0 : 2);
			harness_sleep_ms(50);
		}
		_exit(3);
	}
	assert_true(pid > 0);
	assert_int_equal(harness_start_wrapped(h, wrap, NULL), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void
inherited_tcp_sockets_are_served_the_rest_bound(void **state)
{
	struct harness *h = *state;
	int port = harness_port(), own = harness_port(),
	    extra = harness_port();
	char l1[64], l2[64];
	const char *wrap[] = { ACTIVATE, "-E", "NOTIFY_SOCKET", "-E",
	    "ASAN_OPTIONS", "-E", "UBSAN_OPTIONS", "-l", l1, "-l", l2,
	    "--fdname=echo:spare", NULL };

	if (access(ACTIVATE, X_OK) != 0 || harness_valgrind())
		skip();
	snprintf(l1, sizeof(l1), "127.0.0.1:%d", port);
	snprintf(l2, sizeof(l2), "127.0.0.1:%d", extra);
	harness_config(h, "services = ({ name = \"echo\"; port = %d; "
	    "bind = \"127.0.0.1\"; }, { name = \"upper\"; port = %d; "
	    "bind = \"127.0.0.1\"; });\n", port, own);
	start_activated(h, wrap, 0, port);
	assert_true(harness_log_has(h, "echo: tcp 127.0.0.1:"));
	assert_non_null(harness_log_line(h, ": inherited (fd 3)"));
	assert_non_null(strstr(harness_log_line(h, ": inherited (fd 3)"),
	    l1));
	assert_true(harness_log_has(h, "(spare): tcp 127.0.0.1:"));
	assert_true(harness_log_has(h, "no service listens there; closed"));
	assert_tcp_reply("127.0.0.1", port, "abc\n", "abc\n", 5000);
	assert_tcp_reply("127.0.0.1", own, "abc\n", "ABC\n", 5000);
	/* The unclaimed one is closed: nobody listens there. */
	assert_int_equal(tcp_open("127.0.0.1", extra), -1);
	/* A reload keeps the inherited socket, even through one without
	 * its service. */
	harness_config(h, "services = ({ name = \"upper\"; port = %d; "
	    "bind = \"127.0.0.1\"; });\n", own);
	harness_signal(h, SIGHUP);
	assert_true(harness_log_wait(h, "reload done: 1 services", 10000));
	harness_config(h, "services = ({ name = \"echo\"; port = %d; "
	    "bind = \"127.0.0.1\"; }, { name = \"upper\"; port = %d; "
	    "bind = \"127.0.0.1\"; });\n", port, own);
	harness_signal(h, SIGHUP);
	assert_true(harness_log_wait(h, "reload done: 2 services", 10000));
	assert_tcp_reply("127.0.0.1", port, "back\n", "back\n", 5000);
	harness_stop_clean(h);
}

static void
an_inherited_udp_socket_is_served(void **state)
{
	struct harness *h = *state;
	int port = harness_port();
	char l1[64], buf[64];
	const char *wrap[] = { ACTIVATE, "-E", "NOTIFY_SOCKET", "-E",
	    "ASAN_OPTIONS", "-E", "UBSAN_OPTIONS", "-d", "-l", l1, NULL };

	if (access(ACTIVATE, X_OK) != 0 || harness_valgrind())
		skip();
	snprintf(l1, sizeof(l1), "127.0.0.1:%d", port);
	harness_config(h, "services = ({ name = \"echo\"; port = %d; "
	    "bind = \"127.0.0.1\"; " BOTH " });\n", port);
	start_activated(h, wrap, 1, port);
	assert_true(harness_log_has(h, "echo: udp 127.0.0.1:"));
	assert_non_null(strstr(harness_log_line(h, ": inherited"), "udp"));
	/* TCP on the same port had no socket passed: bound by sockd. */
	assert_non_null(harness_log_line(h, "listening on tcp 127.0.0.1"));
	assert_int_equal(udp_ask_str("127.0.0.1", port, "ping", 4, buf,
	    sizeof(buf), 5000), 4);
	assert_string_equal(buf, "ping");
	assert_tcp_reply("127.0.0.1", port, "abc\n", "abc\n", 5000);
	harness_stop_clean(h);
}

#define T(f)	HARNESS_TEST(f)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(reload_command_exits_0_once_the_new_service_answers),
		T(reload_command_exits_1_with_the_reason_for_a_busy_port),
		T(reload_command_exits_2_when_no_daemon_runs),
		T(a_second_daemon_on_the_same_pid_file_is_refused),
		T(the_control_socket_answers_only_reload),
		T(another_user_is_refused_by_the_control_socket),
		T(reloads_tell_systemd_reloading_then_ready),
		T(a_low_port_after_the_drop_is_bound_by_the_spawner),
		T(the_watchdog_is_fed_from_every_loop),
		T(a_watchdog_for_another_pid_is_ignored),
		T(inherited_tcp_sockets_are_served_the_rest_bound),
		T(an_inherited_udp_socket_is_served),
	};

	return HARNESS_RUN(tests);
}
