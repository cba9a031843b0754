/*
 * Reloads, privileges and plugins: sockets a reload binds after the
 * privilege drop cannot be shared by other processes of that user; a plugin
 * file or directory others could write is refused before it is loaded; a
 * reload whose check cannot run is refused, not loaded unchecked, and the
 * open file limit is raised and checked at start; stopping during a
 * reload's check cancels it; a chat room stays one room across a reload
 * that changes one of its options.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

/* Copies the file from to to with mode; 0 on success. */
static int
copy_file(const char *from, const char *to, mode_t mode)
{
	char buf[65536];
	ssize_t n;
	int in, out, rc = 0;

	if ((in = open(from, O_RDONLY)) == -1)
		return -1;
	if ((out = open(to, O_WRONLY | O_CREAT | O_TRUNC, mode)) == -1) {
		close(in);
		return -1;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			rc = -1;
	if (n < 0)
		rc = -1;
	close(in);
	close(out);
	return rc == 0 ? chmod(to, mode) : -1;
}

/* The first child process of pid, or 0 when it has none. */
static pid_t
child_of(pid_t pid)
{
	char path[300], line[256];
	struct dirent *de;
	DIR *d;
	FILE *fp;
	pid_t found = 0;
	int ppid;

	if ((d = opendir("/proc")) == NULL)
		return 0;
	while (found == 0 && (de = readdir(d)) != NULL) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/status", de->d_name);
		if ((fp = fopen(path, "r")) == NULL)
			continue;
		while (fgets(line, sizeof(line), fp) != NULL)
			if (sscanf(line, "PPid: %d", &ppid) == 1) {
				if (ppid == pid)
					found = (pid_t)atoi(de->d_name);
				break;
			}
		fclose(fp);
	}
	closedir(d);
	return found;
}

/* 1 when pid exists (a zombie counts), 0 once it is gone. */
static int
process_exists(pid_t pid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d", (int)pid);
	return access(path, F_OK) == 0;
}

/* As nobody, tries to bind proto on 127.0.0.1:port with SO_REUSEPORT;
 * returns the errno of bind (0: it worked, -1: the test could not run). */
static int
bind_as_nobody(int type, int port)
{
	struct sockaddr_in sin;
	struct passwd *pw;
	pid_t pid;
	int status, fd, one = 1;

	if ((pw = getpwnam("nobody")) == NULL)
		return -1;
	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		if (setgid(pw->pw_gid) == -1 || setuid(pw->pw_uid) == -1)
			_exit(255);
		if ((fd = socket(AF_INET, type, 0)) == -1 ||
		    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
		    sizeof(one)) == -1 ||
		    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one,
		    sizeof(one)) == -1)
			_exit(254);
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = htons((uint16_t)port);
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1)
			_exit(errno);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) >= 254)
		return -1;
	return WEXITSTATUS(status);
}

static void
a_reload_binds_sockets_no_process_of_the_user_can_join(
    void **state)
{
	struct harness *h = *state;
	int port = harness_port(), nport = harness_port(), i;
	const char *daemon = "daemon: { log = \"stderr\"; log_level = "
	    "\"info\"; user = \"nobody\"; workers = 2; drain_timeout = 1; };\n"
	    "defaults: { bind = [\"127.0.0.1\"]; per_source = 0; rate = 0; };"
	    "\n";
	char buf[PATH_MAX];

	if (geteuid() != 0 || getpwnam("nobody") == NULL)
		skip();
	/* nobody reads the file again at the reload, and tells READY=1. */
	assert_int_equal(chmod(harness_dir(h), 0755), 0);
	snprintf(buf, sizeof(buf), "%s/notify", harness_dir(h));
	if (access(buf, F_OK) == 0)
		assert_int_equal(chmod(buf, 0777), 0);
	harness_write(h, "sockd.conf", "%sservices = ({ name = \"echo\"; "
	    "port = %d; protocol = [\"tcp\", \"udp\"]; });\n", daemon,
	    port);
	assert_int_equal(chmod(harness_conf(h), 0644), 0);
	assert_int_equal(harness_start(h, NULL), 0);
	assert_true(harness_log_has(h, "running as nobody"));
	/* Bound as root at start: the group is root's. */
	assert_int_equal(bind_as_nobody(SOCK_STREAM, port), EADDRINUSE);
	assert_int_equal(bind_as_nobody(SOCK_DGRAM, port), EADDRINUSE);
	harness_write(h, "sockd.conf", "%sservices = ({ name = \"echo\"; "
	    "port = %d; protocol = [\"tcp\", \"udp\"]; }, { name = \"upper\"; "
	    "port = %d; protocol = "
	    "[\"tcp\", \"udp\"]; });\n", daemon, port, nport);
	assert_int_equal(chmod(harness_conf(h), 0644), 0);
	harness_signal(h, SIGHUP);
	assert_true(harness_log_wait(h, "reload done: 2 services", 10000));
	assert_int_equal(bind_as_nobody(SOCK_STREAM, nport), EADDRINUSE);
	assert_int_equal(bind_as_nobody(SOCK_DGRAM, nport), EADDRINUSE);
	/* Every connection and datagram is answered by sockd, on both
	 * workers' copies of the one socket. */
	for (i = 0; i < 20; i++) {
		assert_tcp_reply("127.0.0.1", nport, "abc\n", "ABC\n", 5000);
		assert_int_equal(udp_ask("127.0.0.1", nport, "x", 1, buf,
		    sizeof(buf), 5000), 1);
		assert_memory_equal(buf, "X", 1);
	}
	harness_stop_clean(h);
}

static void
a_plugin_others_could_write_is_refused_by_the_check(void **state)
{
	struct harness *h = *state;
	char dir[PATH_MAX], so[PATH_MAX + 16], from[PATH_MAX + 16];
	int port = harness_port();

	snprintf(dir, sizeof(dir), "%s/plugins", harness_dir(h));
	snprintf(so, sizeof(so), "%s/rot13.so", dir);
	snprintf(from, sizeof(from), "%s/rot13.so", harness_plugins());
	assert_int_equal(mkdir(dir, 0755), 0);
	assert_int_equal(chmod(dir, 0777), 0);
	assert_int_equal(copy_file(from, so, 0644), 0);
	harness_write(h, "sockd.conf", "daemon: { log = \"stderr\"; "
	    "handler_dir = \"%s\";%s };\nservices = ({ name = \"rot13\"; "
	    "port = %d; bind = \"127.0.0.1\"; handler = \"rot13\"; });\n", dir,
	    harness_user(), port);
	assert_int_equal(harness_check(h, NULL), 1);
	assert_non_null(strstr(harness_stderr(h), ": writable by group or "
	    "others (mode 0777)"));
	assert_non_null(strstr(harness_stderr(h), dir));
	assert_int_equal(chmod(dir, 0755), 0);
	assert_int_equal(chmod(so, 0666), 0);
	assert_int_equal(harness_check(h, NULL), 1);
	assert_non_null(strstr(harness_stderr(h), "rot13.so: writable by "
	    "group or others (mode 0666)"));
	if (geteuid() == 0) {
		assert_int_equal(chmod(so, 0644), 0);
		assert_int_equal(chown(so, 65534, 65534), 0);
		assert_int_equal(harness_check(h, NULL), 1);
		assert_non_null(strstr(harness_stderr(h), "rot13.so: owned by "
		    "uid 65534, not root or the daemon's user"));
		/* Nor does the daemon start with it. */
		assert_int_equal(harness_start(h, NULL), -1);
		assert_int_equal(harness_wait_exit(h, 10000), 1);
		assert_true(harness_log_has(h, "owned by uid 65534"));
		assert_int_equal(chown(so, 0, 0), 0);
	}
	assert_int_equal(chmod(so, 0644), 0);
	assert_int_equal(harness_check(h, NULL), 0);
	assert_non_null(strstr(harness_stdout(h), "configuration OK"));
	harness_pass(h);
}

static void
a_reload_whose_check_cannot_run_is_refused(void **state)
{
	struct harness *h = *state;
	char copy[PATH_MAX], buf[16];
	const char *saved = getenv("SOCKD"), *from;
	int port = harness_port();

	/* Started from a copy, which an "upgrade" then removes. */
	from = saved != NULL && *saved != '\0' ? saved : "build/sockd";
	snprintf(copy, sizeof(copy), "%s/sockd", harness_dir(h));
	assert_int_equal(copy_file(from, copy, 0755), 0);
	setenv("SOCKD", copy, 1);
	harness_config(h, "services = ({ name = \"echo\"; port = %d; "
	    "bind = \"127.0.0.1\"; });\n", port);
	if (harness_start(h, NULL) != 0) {
		setenv("SOCKD", from, 1);
		fail_msg("sockd did not start");
	}
	setenv("SOCKD", from, 1);
	assert_int_equal(unlink(copy), 0);
	harness_config(h, "services = ({ name = \"echo\"; port = %d; "
	    "bind = \"127.0.0.1\"; }, { name = \"crash\"; port = %d; "
	    "bind = \"127.0.0.1\"; handler = \"crashconf\"; });\n", port,
	    harness_port());
	harness_signal(h, SIGHUP);
	assert_non_null(harness_notify(h, "reload failed", 10000));
	assert_true(harness_log_wait(h, "the configuration check cannot "
	    "run", 5000));
	assert_true(harness_log_has(h, "still serving the previous "
	    "configuration"));
	assert_int_equal(udp_ask("127.0.0.1", port, "x", 1, buf, sizeof(buf),
	    300), -1);	/* tcp only, as before */
	assert_int_equal(harness_wait_exit(h, 200), -1);
	assert_tcp_reply("127.0.0.1", port, "still\n", "still\n", 5000);
	harness_stop_clean(h);
}

/* Starts sockd (drain_timeout 1), then reloads into a config whose check
 * hangs in configure(); returns the check's pid. */
static pid_t
start_hanging_reload(struct harness *h)
{
	long long deadline;
	int port = harness_port();
	pid_t child = 0;

	harness_drain_timeout(1);
	harness_serve(h, "services = ({ name = \"echo\"; port = %d; "
	    "bind = \"127.0.0.1\"; });\n", port);
	harness_config(h, "services = ({ name = \"echo\"; port = %d; "
	    "bind = \"127.0.0.1\"; }, { name = \"hang\"; port = %d; "
	    "bind = \"127.0.0.1\"; handler = \"hangconf\"; });\n", port,
	    harness_port());
	harness_signal(h, SIGHUP);
	deadline = harness_now_ms() + harness_ms(10000);
	while ((child = child_of(harness_pid(h))) == 0 &&
	    harness_now_ms() < deadline)
		usleep(20000);
	assert_int_not_equal(child, 0);
	/* Let it get into configure(). */
	usleep(300000);
	return child;
}

static void
assert_gone(pid_t child)
{
	long long deadline = harness_now_ms() + 2000;

	while (process_exists(child) && harness_now_ms() < deadline)
		usleep(20000);
	if (process_exists(child)) {
		kill(child, SIGKILL);
		fail_msg("the configuration check %d outlived sockd",
		    (int)child);
	}
}

static void
a_stop_during_a_reload_check_cancels_it(void **state)
{
	struct harness *h = *state;
	long long t0, ms;
	pid_t child = start_hanging_reload(h);

	t0 = harness_now_ms();
	harness_signal(h, SIGTERM);
	/* drain_timeout + 1 s. */
	assert_int_equal(harness_wait_exit(h, harness_ms(2000)), 0);
	ms = harness_now_ms() - t0;
	printf("exit %lld ms after SIGTERM during the reload check\n", ms);
	assert_gone(child);
	harness_pass(h);
}

static void
a_second_sigterm_during_a_reload_check_never_kills(void **state)
{
	struct harness *h = *state;
	pid_t child = start_hanging_reload(h);

	harness_signal(h, SIGTERM);
	harness_signal(h, SIGTERM);
	usleep(50000);
	harness_signal(h, SIGTERM);
	assert_int_equal(harness_wait_exit(h, harness_ms(2000)), 0);
	assert_gone(child);
	harness_pass(h);
}

static void
a_chat_room_stays_one_room_across_a_reload_of_its_options(void **state)
{
	struct harness *h = *state;
	int port = harness_port(), a, b, c;

	harness_serve(h, "services = ({ name = \"chat\"; port = %d; "
	    "bind = \"127.0.0.1\"; options = { history = 20; }; });\n", port);
	assert_int_not_equal(a = tcp_open("127.0.0.1", port), -1);
	assert_true(tcp_expect(a, "you are guest1", 5000));
	assert_int_not_equal(b = tcp_open("127.0.0.1", port), -1);
	assert_true(tcp_expect(b, "you are guest2", 5000));
	assert_true(tcp_expect(a, "guest2 joined", 5000));
	assert_int_equal(tcp_sends(a, "before the reload\n"), 0);
	assert_true(tcp_expect(b, "<guest1> before the reload", 5000));

	harness_config(h, "services = ({ name = \"chat\"; port = %d; "
	    "bind = \"127.0.0.1\"; options = { history = 21; }; });\n", port);
	harness_signal(h, SIGHUP);
	assert_true(harness_log_wait(h, "reload done: 1 services", 10000));
	assert_int_equal(tcp_sends(b, "after the reload\n"), 0);
	assert_true(tcp_expect(a, "<guest2> after the reload", 5000));
	/* A newcomer is in the same room, with its history. */
	assert_int_not_equal(c = tcp_open("127.0.0.1", port), -1);
	assert_true(tcp_expect(c, "you are guest3", 5000));
	assert_true(tcp_expect(c, "<guest1> before the reload", 5000));
	assert_true(tcp_expect(c, "<guest2> after the reload", 5000));
	assert_true(tcp_expect(a, "guest3 joined", 5000));
	assert_true(tcp_expect(b, "guest3 joined", 5000));
	assert_int_equal(tcp_sends(c, "hello both\n"), 0);
	assert_true(tcp_expect(a, "<guest3> hello both", 5000));
	assert_true(tcp_expect(b, "<guest3> hello both", 5000));
	client_close(a);
	assert_true(tcp_expect(c, "guest1 left", 5000));
	client_close(b);
	client_close(c);
	assert_true(harness_log_has(h, "chat: reconfigured, 2 connections "
	    "kept"));
	harness_stop_clean(h);
}

static void
the_open_file_limit_is_raised_and_checked_at_start(void **state)
{
	struct harness *h = *state;
	struct rlimit saved, low;
	char path[64], line[256];
	unsigned long long soft = 0, hard = 0;
	FILE *fp;
	int port = harness_port(), rc;

	assert_int_equal(getrlimit(RLIMIT_NOFILE, &saved), 0);
	if (saved.rlim_max < 1024)
		skip();
	if (harness_valgrind())
		skip();		/* valgrind keeps its own descriptor limit */
	low = saved;
	low.rlim_cur = 256;
	/* max_connections far past any hard limit: the warning names it. */
	harness_write(h, "sockd.conf", "daemon: { log = \"stderr\"; "
	    "max_connections = 10000000;%s };\nservices = ({ name = \"echo\"; "
	    "port = %d; bind = \"127.0.0.1\"; });\n", harness_user(), port);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	rc = harness_start(h, NULL);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &saved), 0);
	assert_int_equal(rc, 0);
	snprintf(path, sizeof(path), "/proc/%d/limits", (int)harness_pid(h));
	assert_non_null(fp = fopen(path, "r"));
	while (fgets(line, sizeof(line), fp) != NULL)
		if (sscanf(line, "Max open files %llu %llu", &soft, &hard) ==
		    2)
			break;
	fclose(fp);
	assert_int_equal(soft, (unsigned long long)saved.rlim_max);
	assert_true(harness_log_has(h, "max_connections 10000000, 1 "
	    "listening sockets and 32 in reserve need 10000033 descriptors, "
	    "more than the open file limit"));
	harness_stop_clean(h);
}

#define T(f)	HARNESS_TEST(f)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(a_reload_binds_sockets_no_process_of_the_user_can_join),
		T(a_plugin_others_could_write_is_refused_by_the_check),
		T(a_reload_whose_check_cannot_run_is_refused),
		T(a_stop_during_a_reload_check_cancels_it),
		T(a_second_sigterm_during_a_reload_check_never_kills),
		T(a_chat_room_stays_one_room_across_a_reload_of_its_options),
		T(the_open_file_limit_is_raised_and_checked_at_start),
	};

	return HARNESS_RUN(tests);
}
