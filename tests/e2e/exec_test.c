/*
 * exec services: a real program per connection, started by the spawner.
 * /usr/bin/rev and /bin/cat answer over TCP; sh -c scripts print their
 * environment, their uid and their descriptors; a thousand connections
 * leave no zombie and no descriptor behind; SIGTERM, drain_timeout,
 * exec_timeout, SIGHUP and a failed spawn (RLIMIT_NPROC) each do what
 * sockd(8) says; stderr goes where the option says; "sockd -t" names
 * each bad option's line.  Checks that change users need root and are
 * skipped without it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

/* An exec service on 127.0.0.1:port running argv (a libconfig list
 * body), with more options and settings. */
static void
serve_exec(struct harness *h, int port, const char *argv, const char *opts,
    const char *settings)
{
	harness_serve(h, "services = ({ name = \"x\"; port = %d; "
	    "bind = \"127.0.0.1\"; handler = \"exec\"; %s\n"
	    "options = { command = [%s]; %s }; });\n", port, settings, argv,
	    opts);
}

/* Sends msg on a new connection, closes its sending side, and returns
 * what came back up to EOF (static). */
static const char *
ask(int port, const char *msg)
{
	static char buf[65536];
	int fd = tcp_open("127.0.0.1", port);

	assert_true(fd >= 0);
	if (msg != NULL)
		assert_int_equal(tcp_sends(fd, msg), 0);
	shutdown(fd, SHUT_WR);
	if (tcp_recv_eof(fd, buf, sizeof(buf), harness_ms(5000)) < 0)
		fail_msg("no EOF from the program");
	client_close(fd);
	return buf;
}

/* How many descriptors pid has open. */
static int
count_fds(pid_t pid)
{
	char path[64];
	struct dirent *e;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	if ((d = opendir(path)) == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* The children of ppid, and (zombies) how many of them are zombies. */
static int
children_of(pid_t ppid, int *zombies, pid_t *first)
{
	char path[300], buf[512], *p;
	struct dirent *e;
	FILE *f;
	DIR *d;
	int n = 0, pp;
	char st;

	*zombies = 0;
	if ((d = opendir("/proc")) == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		if (fgets(buf, sizeof(buf), f) != NULL &&
		    (p = strrchr(buf, ')')) != NULL &&
		    sscanf(p + 1, " %c %d", &st, &pp) == 2 && pp == ppid) {
			if (n++ == 0 && first != NULL)
				*first = atoi(e->d_name);
			*zombies += st == 'Z';
		}
		fclose(f);
	}
	closedir(d);
	return n;
}

/* The spawner: sockd's one child process. */
static pid_t
spawner_pid(struct harness *h)
{
	pid_t sp = 0;
	int z;

	assert_int_equal(children_of(harness_pid(h), &z, &sp), 1);
	return sp;
}

static void
rev_and_cat_answer_over_tcp(void **state)
{
	struct harness *h = *state;
	int port = harness_port(), port2 = harness_port();

	harness_serve(h, "services = ({ name = \"rev\"; port = %d; "
	    "bind = \"127.0.0.1\"; handler = \"exec\"; options = { command = "
	    "[\"/usr/bin/rev\"]; }; },\n{ name = \"cat\"; port = %d; "
	    "bind = \"127.0.0.1\"; handler = \"exec\"; options = { command = "
	    "[\"/bin/cat\"]; }; });\n", port, port2);
	assert_string_equal(ask(port, "hello\nworld\n"), "olleh\ndlrow\n");
	assert_string_equal(ask(port2, "as is\n"), "as is\n");
	if (!harness_log_wait(h, "exit: pid=", harness_ms(3000)) ||
	    !harness_log_has(h, "status=0 duration="))
		fail_msg("no exit line:\n%s", harness_log(h));
	harness_stop_clean(h);
}

/* Each worker has its own channel to the one spawner. */
static void
every_worker_starts_programs(void **state)
{
	struct harness *h = *state;
	int port = harness_port(), i;
	char src[32], msg[32];

	harness_serve_quiet(h, 3, "services = ({ name = \"x\"; port = %d; "
	    "bind = \"127.0.0.1\"; handler = \"exec\"; rate = 0; options "
	    "= { command = [\"/usr/bin/rev\"]; }; });\n", port);
	/* Sources are steered to workers: many of them reach them all. */
	for (i = 0; i < 24; i++) {
		int fd;

		snprintf(src, sizeof(src), "127.0.0.%d", 2 + i);
		fd = tcp_open_from(src, port);
		assert_true(fd >= 0);
		snprintf(msg, sizeof(msg), "%d\n", 10 + i);
		assert_int_equal(tcp_sends(fd, msg), 0);
		shutdown(fd, SHUT_WR);	/* rev answers at its end */
		snprintf(msg, sizeof(msg), "%d%d\n", (10 + i) % 10,
		    (10 + i) / 10);
		assert_tcp_recv(fd, msg, 3000);
		client_close(fd);
	}
	harness_stop_clean(h);
}

static void
the_program_sees_a_clean_environment_with_its_peer(void **state)
{
	struct harness *h = *state;
	int port = harness_port();
	char want[128];
	const char *out;

	setenv("SOCKD_TEST_PASSED", "through", 1);
	setenv("SOCKD_TEST_KEPT_OUT", "no", 1);
	serve_exec(h, port, "\"/usr/bin/env\"",
	    "env = { GREETING = \"hi there\"; }; "
	    "passenv = [\"SOCKD_TEST_PASSED\", \"SOCKD_TEST_UNSET\"];", "");
	out = ask(port, NULL);
	assert_non_null(strstr(out, "PATH=/usr/local/bin:/usr/bin:/bin\n"));
	assert_non_null(strstr(out, "PROTO=TCP\n"));
	assert_non_null(strstr(out, "TCPREMOTEIP=127.0.0.1\n"));
	assert_non_null(strstr(out, "REMOTE_HOST=127.0.0.1\n"));
	assert_non_null(strstr(out, "TCPLOCALIP=127.0.0.1\n"));
	snprintf(want, sizeof(want), "TCPLOCALPORT=%d\n", port);
	assert_non_null(strstr(out, want));
	assert_non_null(strstr(out, "TCPREMOTEPORT="));
	assert_non_null(strstr(out, "GREETING=hi there\n"));
	assert_non_null(strstr(out, "SOCKD_TEST_PASSED=through\n"));
	assert_null(strstr(out, "SOCKD_TEST_KEPT_OUT"));
	assert_null(strstr(out, "SOCKD_TEST_UNSET"));
	assert_null(strstr(out, "NOTIFY_SOCKET"));
	assert_null(strstr(out, "HOME="));
	harness_stop_clean(h);
}

/* Behind a balancer, the client is the address the PROXY header
 * carries, and what the client sent right after the header (in the same
 * segment) reaches the program. */
static void
the_program_sees_the_client_of_a_proxy_header(void **state)
{
	struct harness *h = *state;
	int port = harness_port(), fd;
	char buf[4096];

	serve_exec(h, port, "\"/bin/sh\", \"-c\", \"echo $TCPREMOTEIP "
	    "$TCPREMOTEPORT; cat\"", "", "proxy_protocol = true; proxy_from "
	    "= [\"127.0.0.1\"];");
	fd = tcp_open("127.0.0.1", port);
	assert_int_equal(tcp_sends(fd, "PROXY TCP4 192.0.2.7 127.0.0.1 5555 "
	    "80\r\nfirst line\n"), 0);
	shutdown(fd, SHUT_WR);
	assert_true(tcp_recv_eof(fd, buf, sizeof(buf), 5000) >= 0);
	assert_string_equal(buf, "192.0.2.7 5555\nfirst line\n");
	client_close(fd);
	harness_stop_clean(h);
}

/* max_connections is the number of programs running at once. */
static void
max_connections_counts_running_programs(void **state)
{
	struct harness *h = *state;
	int port = harness_port(), fd[3], i;

	serve_exec(h, port, "\"/bin/cat\"", "", "max_connections = 2; "
	    "busy = \"busy\\n\";");
	for (i = 0; i < 2; i++) {
		fd[i] = tcp_open("127.0.0.1", port);
		assert_reply_on(fd[i], "in\n", "in\n", 3000);
	}
	fd[2] = tcp_open("127.0.0.1", port);
	assert_tcp_recv(fd[2], "busy\n", 3000);
	client_close(fd[2]);
	client_close(fd[0]);
	assert_true(harness_log_wait(h, "exit: pid=", 3000));
	fd[2] = tcp_open("127.0.0.1", port);
	assert_reply_on(fd[2], "now\n", "now\n", 3000);
	client_close(fd[1]);
	client_close(fd[2]);
	harness_stop_clean(h);
}

static void
as_root_the_program_runs_as_its_user_with_only_fds_0_1_2(void **state)
{
	struct harness *h = *state;
	int port = harness_port();
	struct passwd *pw;
	char want[64];
	const char *out;

	if (geteuid() != 0 || (pw = getpwnam("nobody")) == NULL)
		skip();
	serve_exec(h, port, "\"/bin/sh\", \"-c\", \"id -u; id -G; "
	    "ls /proc/$$/fd | tr '\\\\n' ' '; echo; cat /proc/$$/status | "
	    "grep -E '^(CapEff|NoNewPrivs)'\"", "user = \"nobody\";", "");
	out = ask(port, NULL);
	snprintf(want, sizeof(want), "%d\n", (int)pw->pw_uid);
	if (strncmp(out, want, strlen(want)) != 0)
		fail_msg("not running as nobody:\n%s", out);
	if (strstr(out, "\n0 1 2 \n") == NULL)
		fail_msg("other descriptors open:\n%s", out);
	assert_non_null(strstr(out, "CapEff:\t0000000000000000"));
	assert_non_null(strstr(out, "NoNewPrivs:\t1"));
	harness_stop_clean(h);
}

static void
the_daemon_keeps_no_privilege_to_change_users(void **state)
{
	struct harness *h = *state;
	int port = harness_port();
	char path[4200], line[256];
	FILE *f;
	int seen = 0;

	if (geteuid() != 0)
		skip();
	assert_true(port > 0);
	harness_config(h, "services = ({ name = \"x\"; port = %d; "
	    "bind = \"127.0.0.1\"; handler = \"exec\"; options = { "
	    "command = [\"/usr/bin/id\", \"-u\"]; user = \"root\"; }; });\n",
	    port);
	/* READY=1 comes after the drop: nobody may send it. */
	snprintf(path, sizeof(path), "%s/notify", harness_dir(h));
	assert_int_equal(chmod(harness_dir(h), 0755), 0);
	assert_int_equal(chmod(path, 0666), 0);
	assert_int_equal(harness_start(h, "-u", "nobody", NULL), 0);
	snprintf(path, sizeof(path), "/proc/%d/status", (int)harness_pid(h));
	assert_non_null(f = fopen(path, "r"));
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "CapPrm:", 7) == 0 ||
		    strncmp(line, "CapEff:", 7) == 0) {
			assert_string_equal(line + 8, "0000000000000000\n");
			seen++;
		}
	fclose(f);
	assert_int_equal(seen, 2);
	/* The spawner still starts the program as root, as it was told. */
	assert_string_equal(ask(port, NULL), "0\n");
	harness_stop_clean(h);
}

/* The caps of line "Cap...:" in /proc/pid/status, as a number. */
static unsigned long long
proc_caps(pid_t pid, const char *which)
{
	char path[64], line[256];
	unsigned long long v = ~0ULL;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return v;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, which, strlen(which)) == 0)
			v = strtoull(line + strlen(which), NULL, 16);
	fclose(f);
	return v;
}

/* Started unprivileged with CAP_SETUID, CAP_SETGID and CAP_KILL ambient
 * (as a systemd unit's AmbientCapabilities= gives them): the daemon
 * drops the three, the spawner keeps them and starts programs as
 * another user. */
static void
with_ambient_capabilities_only_the_spawner_keeps_them(void **state)
{
	struct harness *h = *state;
	static const char *const wrap[] = { "setpriv", "--reuid=nobody",
	    "--regid=nogroup", "--clear-groups",
	    "--inh-caps=+setuid,+setgid,+kill",
	    "--ambient-caps=+setuid,+setgid,+kill", NULL };
	unsigned long long mask = (1ULL << 5) | (1ULL << 6) | (1ULL << 7);
	int port = harness_port();
	char path[4200];
	struct passwd *pw = NULL;
	pid_t sp;

	if (geteuid() != 0 || harness_valgrind() || getpwnam("nobody") ==
	    NULL || (pw = getpwnam("daemon")) == NULL ||
	    system("setpriv --help >/dev/null 2>&1") != 0)
		skip();
	harness_config(h, "services = ({ name = \"x\"; port = %d; "
	    "bind = \"127.0.0.1\"; handler = \"exec\"; options = { "
	    "command = [\"/usr/bin/id\", \"-u\"]; user = \"daemon\"; }; "
	    "});\n", port);
	snprintf(path, sizeof(path), "%s/notify", harness_dir(h));
	assert_int_equal(chmod(harness_dir(h), 0755), 0);
	assert_int_equal(chmod(path, 0666), 0);
	assert_int_equal(chmod(harness_conf(h), 0644), 0);
	if (harness_start_wrapped(h, (const char *const *)wrap, NULL) != 0)
		fail_msg("did not start:\n%s", harness_log(h));
	assert_true((proc_caps(harness_pid(h), "CapEff:") & mask) == 0);
	assert_true((proc_caps(harness_pid(h), "CapPrm:") & mask) == 0);
	assert_true((proc_caps(harness_pid(h), "CapAmb:") & mask) == 0);
	sp = spawner_pid(h);
	assert_true((proc_caps(sp, "CapEff:") & mask) == mask);
	snprintf(path, sizeof(path), "%d\n", (int)pw->pw_uid);
	assert_string_equal(ask(port, NULL), path);
	harness_stop_clean(h);
}

static void
a_thousand_connections_leave_no_zombie_and_no_descriptor(void **state)
{
	struct harness *h = *state;
	int port = harness_port(), i, fds0, fds1, z, n;
	pid_t sp;

	serve_exec(h, port, "\"/bin/cat\"", "", "log_level = \"warning\"; "
	    "rate = 0; per_source = 0;");
	assert_string_equal(ask(port, "warm\n"), "warm\n");
	harness_sleep_ms(200);
	fds0 = count_fds(harness_pid(h));
	sp = spawner_pid(h);
	for (i = 0; i < 1000; i++)
		if (strcmp(ask(port, "x\n"), "x\n") != 0)
			fail_msg("connection %d: wrong answer", i);
	harness_sleep_ms(harness_ms(500));
	fds1 = count_fds(harness_pid(h));
	n = children_of(sp, &z, NULL);
	if (fds1 > fds0 || z != 0 || n != 0)
		fail_msg("descriptors %d then %d, %d children of the spawner "
		    "(%d zombies)", fds0, fds1, n, z);
	/* The spawner: 0-2, its channel, the supervisor's bind channel,
	 * /dev/null, its signalfd. */
	if (!harness_valgrind())	/* it has descriptors of its own */
		assert_true(count_fds(sp) <= 7);
	harness_stop_clean(h);
}

/* The daemon's memory for each program alive: its records only (the
 * target is 2 KiB); measured over 400 programs after 50 to warm up. */
static void
a_running_program_costs_the_daemon_under_2_kib(void **state)
{
	struct harness *h = *state;
	enum { WARM = 50, N = 400 };
	static int fd[WARM + N];
	int port = harness_port(), i;
	long rss0 = 0, rss1;

	if (harness_asan() || harness_valgrind())
		skip();
	serve_exec(h, port, "\"/bin/cat\"", "", "log_level = \"warning\"; "
	    "rate = 0; per_source = 0;");
	for (i = 0; i < WARM + N; i++) {
		if (i == WARM) {
			harness_sleep_ms(300);
			rss0 = harness_rss_kb(h);
		}
		fd[i] = tcp_open("127.0.0.1", port);
		assert_reply_on(fd[i], "up\n", "up\n", 5000);
	}
	harness_sleep_ms(300);
	rss1 = harness_rss_kb(h);
	print_message("sockd RSS %ld kB with %d programs, %ld kB with %d: "
	    "%.0f bytes each\n", rss0, WARM, rss1, WARM + N,
	    (double)(rss1 - rss0) * 1024 / N);
	if ((rss1 - rss0) * 1024 > 2048L * N)
		fail_msg("%ld kB for %d programs", rss1 - rss0, N);
	clients_close(fd, WARM + N);
	harness_stop_clean(h);
}

static void
sigterm_ends_the_children_and_sockd_exits_0(void **state)
{
	struct harness *h = *state;
	int port = harness_port(), fd;
	long long t0;

	harness_drain_timeout(30);
	serve_exec(h, port, "\"/bin/cat\"", "", "");
	fd = tcp_open("127.0.0.1", port);
	assert_int_equal(tcp_sends(fd, "held\n"), 0);
	assert_tcp_recv(fd, "held\n", 3000);
	t0 = harness_now_ms();
	assert_int_equal(harness_signal(h, SIGTERM), 0);
	assert_int_equal(harness_wait_exit(h, harness_ms(10000)), 0);
	/* Long before drain_timeout: cat ended on its SIGTERM. */
	assert_true(harness_now_ms() - t0 < 10000);
	assert_true(harness_log_has(h, "signal=TERM"));
	assert_true(tcp_closed(fd, 3000));
	client_close(fd);
	harness_pass(h);
}

static void
a_child_that_ignores_sigterm_is_killed_at_drain_timeout(void **state)
{
	struct harness *h = *state;
	int port = harness_port(), fd;
	long long t0, took;

	harness_drain_timeout(2);
	serve_exec(h, port, "\"/bin/sh\", \"-c\", \"trap '' TERM; echo up; "
	    "sleep 60\"", "", "");
	fd = tcp_open("127.0.0.1", port);
	assert_tcp_recv(fd, "up\n", 3000);
	t0 = harness_now_ms();
	assert_int_equal(harness_signal(h, SIGTERM), 0);
	assert_int_equal(harness_wait_exit(h, harness_ms(15000)), 0);
	took = harness_now_ms() - t0;
	if (took < 1500)
		fail_msg("exited after %lld ms, before drain_timeout", took);
	assert_true(harness_log_has(h, "signal=KILL"));
	client_close(fd);
	harness_pass(h);
}

static void
exec_timeout_sends_sigterm(void **state)
{
	struct harness *h = *state;
	int port = harness_port(), fd;

	serve_exec(h, port, "\"/bin/sleep\", \"60\"", "exec_timeout = 1;",
	    "");
	fd = tcp_open("127.0.0.1", port);
	if (!tcp_closed(fd, harness_ms(6000)))
		fail_msg("still open:\n%s", harness_log(h));
	assert_true(harness_log_wait(h, "signal=TERM", 3000));
	assert_true(harness_log_has(h, "exec_timeout"));
	client_close(fd);
	harness_stop_clean(h);
}

static void
a_flood_to_a_reader_that_does_not_read_costs_sockd_nothing(void **state)
{
	struct harness *h = *state;
	int port = harness_port(), fd[4], i;
	long rss0 = 0, rss1;

	serve_exec(h, port, "\"/usr/bin/yes\"", "", "");
	rss0 = harness_rss_kb(h);
	for (i = 0; i < 4; i++)
		assert_true((fd[i] = tcp_open("127.0.0.1", port)) >= 0);
	harness_sleep_ms(1500);
	rss1 = harness_rss_kb(h);
	if (!harness_asan() && !harness_valgrind() && rss1 > rss0 + 1024)
		fail_msg("RSS grew from %ld to %ld kB", rss0, rss1);
	clients_close(fd, 4);
	harness_stop_clean(h);
}

static void
stderr_goes_to_the_log_the_socket_or_nowhere(void **state)
{
	struct harness *h = *state;
	int p1 = harness_port(), p2 = harness_port(), p3 = harness_port();
	const char *sh = "\"/bin/sh\", \"-c\", \"echo out; echo err-$0 >&2\"";

	harness_serve(h, "services = ("
	    "{ name = \"a\"; port = %d; bind = \"127.0.0.1\"; handler = "
	    "\"exec\"; options = { command = [%s, \"log\"]; }; },\n"
	    "{ name = \"b\"; port = %d; bind = \"127.0.0.1\"; handler = "
	    "\"exec\"; options = { command = [%s, \"socket\"]; stderr = "
	    "\"socket\"; }; },\n"
	    "{ name = \"c\"; port = %d; bind = \"127.0.0.1\"; handler = "
	    "\"exec\"; options = { command = [%s, \"null\"]; stderr = "
	    "\"null\"; }; });\n", p1, sh, p2, sh, p3, sh);
	assert_string_equal(ask(p1, NULL), "out\n");
	if (!harness_log_wait(h, "]: err-log", 3000))
		fail_msg("no stderr line:\n%s", harness_log(h));
	assert_true(harness_log_line(h, "]: err-log") != NULL &&
	    strstr(harness_log_line(h, "]: err-log"), "a[") != NULL);
	assert_string_equal(ask(p2, NULL), "out\nerr-socket\n");
	assert_string_equal(ask(p3, NULL), "out\n");
	harness_sleep_ms(300);
	assert_false(harness_log_has(h, "err-null"));
	assert_false(harness_log_has(h, "err-socket"));
	harness_stop_clean(h);
}

/* The program went away after the check: each connection is closed with
 * the busy line, counted and logged. */
/* A stderr line past 256 bytes is logged cut, and the next one whole. */
static void
a_long_stderr_line_is_cut(void **state)
{
	struct harness *h = *state;
	int port = harness_port();
	const char *l;

	serve_exec(h, port, "\"/bin/sh\", \"-c\", \"printf 'long%0600d\\\\n' "
	    "0 >&2; echo next >&2\"", "", "");
	assert_string_equal(ask(port, NULL), "");
	if (!harness_log_wait(h, "]: next", 3000))
		fail_msg("no second line:\n%s", harness_log(h));
	assert_non_null(l = harness_log_line(h, "]: long000"));
	assert_non_null(strstr(l, "0..."));
	assert_true(strlen(l) < 400);
	harness_stop_clean(h);
}

/* Everything a program wrote to stderr before it exited is logged, even
 * when the note of its exit comes before the pipe is read. */
static void
stderr_written_just_before_the_exit_is_all_logged(void **state)
{
	struct harness *h = *state;
	int port = harness_port(), i, fd;
	char want[32];

	serve_exec(h, port, "\"/bin/sh\", \"-c\", \"sleep 0.5; for i in 1 2 3 "
	    "4 5 6 7 8; do printf 'line%d-%0190d\\\\n' $i 0; done >&2\"",
	    "", "");
	fd = tcp_open("127.0.0.1", port);
	assert_true(fd >= 0);
	if (!harness_log_wait(h, "started pid", 3000))
		fail_msg("not started:\n%s", harness_log(h));
	/* Held while the program writes and exits: the lines and the
	 * note of the exit are then waiting together. */
	assert_int_equal(harness_signal(h, SIGSTOP), 0);
	usleep(1500 * 1000);
	assert_int_equal(harness_signal(h, SIGCONT), 0);
	client_close(fd);
	if (!harness_log_wait(h, "exit: pid=", 3000))
		fail_msg("no exit:\n%s", harness_log(h));
	for (i = 1; i <= 8; i++) {
		snprintf(want, sizeof(want), "]: line%d-000", i);
		if (!harness_log_wait(h, want, 2000))
			fail_msg("%s lost:\n%s", want, harness_log(h));
	}
	harness_stop_clean(h);
}

static void
a_failed_spawn_closes_the_connection_and_is_counted(void **state)
{
	struct harness *h = *state;
	int port = harness_port(), fd;
	const char *prog = harness_write(h, "prog", "#!/bin/sh\necho hi\n");
	char argv[4200];

	assert_int_equal(chmod(prog, 0755), 0);
	snprintf(argv, sizeof(argv), "\"%s\"", prog);
	serve_exec(h, port, argv, "", "busy = \"busy\\n\";");
	assert_string_equal(ask(port, NULL), "hi\n");
	/* Reaped and counted before the stats line is asked for. */
	if (!harness_log_wait(h, "exit: pid=", 5000))
		fail_msg("no exit line:\n%s", harness_log(h));
	assert_int_equal(unlink(prog), 0);
	fd = tcp_open("127.0.0.1", port);
	if (!tcp_closed(fd, harness_ms(3000)))
		fail_msg("still open:\n%s", harness_log(h));
	client_close(fd);
	if (!harness_log_wait(h, "No such file or directory", 3000) ||
	    !harness_log_has(h, "cannot start"))
		fail_msg("not logged:\n%s", harness_log(h));
	assert_int_equal(harness_signal(h, SIGUSR1), 0);
	if (!harness_log_wait(h, "exec 1 started, 1 failed, 1 exited", 3000))
		fail_msg("not counted:\n%s", harness_log(h));
	harness_stop_clean(h);
}

/*
 * RLIMIT_NPROC: a user already running a process, with rlimit_nproc = 0,
 * cannot start another: the kernel marks the child at setuid() and
 * execve() fails with EAGAIN.  A first service keeps one program of
 * nobody running, so the count is never 0 whatever else runs.
 */
static void
a_program_over_rlimit_nproc_is_refused_counted_and_logged_sparingly(void **state)
{
	struct harness *h = *state;
	int hold = harness_port(), port = harness_port(), fd, fd2, i;

	/* valgrind, following the child, cannot survive the execve()
	 * that fails. */
	if (geteuid() != 0 || getpwnam("nobody") == NULL || harness_valgrind())
		skip();
	harness_serve(h, "services = ({ name = \"hold\"; port = %d; "
	    "bind = \"127.0.0.1\"; handler = \"exec\"; options = { "
	    "command = [\"/bin/cat\"]; user = \"nobody\"; }; },\n"
	    "{ name = \"x\"; port = %d; bind = \"127.0.0.1\"; "
	    "handler = \"exec\"; busy = \"busy\\n\"; options = { "
	    "command = [\"/bin/cat\"]; user = \"nobody\"; "
	    "rlimit_nproc = 0; }; });\n", hold, port);
	fd = tcp_open("127.0.0.1", hold);
	assert_true(fd >= 0);
	assert_int_equal(tcp_sends(fd, "held\n"), 0);
	assert_true(tcp_expect(fd, "held\n", harness_ms(3000)));
	for (i = 0; i < 20; i++) {
		fd2 = tcp_open("127.0.0.1", port);
		assert_true(fd2 >= 0);
		if (!tcp_closed(fd2, harness_ms(3000)))
			fail_msg("still open:\n%s", harness_log(h));
		client_close(fd2);
	}
	if (!harness_log_wait(h, "Resource temporarily unavailable", 3000))
		fail_msg("not logged:\n%s", harness_log(h));
	assert_int_equal(harness_signal(h, SIGUSR1), 0);
	if (!harness_log_wait(h, "exec 0 started, 20 failed", 3000))
		fail_msg("not counted:\n%s", harness_log(h));
	/* Rate-limited: at most 10 lines in 10 s for the 20. */
	assert_true(harness_log_count(h, "Resource temporarily "
	    "unavailable") <= 10);
	/* The holder's program is untouched. */
	assert_int_equal(tcp_sends(fd, "still\n"), 0);
	assert_true(tcp_expect(fd, "still\n", harness_ms(3000)));
	client_close(fd);
	harness_stop_clean(h);
}

static void
rlimits_umask_nice_and_chdir_apply_to_the_program(void **state)
{
	struct harness *h = *state;
	int port = harness_port();

	/* valgrind refuses a spawner's RLIMIT_NOFILE below its own. */
	if (harness_valgrind())
		skip();
	serve_exec(h, port, "\"/bin/sh\", \"-c\", \"ulimit -n; ulimit -c; "
	    "umask; pwd; nice\"", "rlimit_nofile = 17; umask = \"027\"; "
	    "chdir = \"/tmp\"; nice = 5;", "");
	assert_string_equal(ask(port, NULL), "17\n0\n0027\n/tmp\n5\n");
	harness_stop_clean(h);
}

/* The spawner killed: the connection whose program ran is released,
 * new ones are closed, counted and logged; sockd goes on serving the
 * rest and stops cleanly. */
static void
without_its_spawner_sockd_refuses_programs_and_goes_on(void **state)
{
	struct harness *h = *state;
	int port = harness_port(), echo = harness_port(), fd;

	harness_serve(h, "services = ({ name = \"x\"; port = %d; "
	    "bind = \"127.0.0.1\"; handler = \"exec\"; busy = \"busy\\n\"; "
	    "options = { command = [\"/bin/cat\"]; }; },\n"
	    "{ name = \"echo\"; port = %d; bind = \"127.0.0.1\"; });\n", port,
	    echo);
	fd = tcp_open("127.0.0.1", port);
	assert_reply_on(fd, "a\n", "a\n", 3000);
	/* The spawner may tell of the start after the program answered. */
	assert_true(harness_log_wait(h, "started pid", harness_ms(3000)));
	assert_int_equal(kill(spawner_pid(h), SIGKILL), 0);
	if (!harness_log_wait(h, "status=unknown", harness_ms(3000)))
		fail_msg("not released:\n%s", harness_log(h));
	client_close(fd);
	fd = tcp_open("127.0.0.1", port);
	assert_tcp_recv(fd, "busy\n", 3000);
	assert_true(tcp_closed(fd, 3000));
	client_close(fd);
	assert_true(harness_log_has(h, "the spawner is gone"));
	fd = tcp_open("127.0.0.1", echo);
	assert_true(echo_ok(fd, "still\n"));
	client_close(fd);
	harness_stop_clean(h);
}

/* The metrics handler exposes the programs started, failed and exited. */
static void
metrics_count_programs(void **state)
{
	struct harness *h = *state;
	int port = harness_port(), mport = harness_port(), fd;
	char buf[65536];

	harness_serve(h, "services = ({ name = \"x\"; port = %d; "
	    "bind = \"127.0.0.1\"; handler = \"exec\"; "
	    "options = { command = [\"/bin/cat\"]; }; },\n"
	    "{ name = \"m\"; port = %d; bind = \"127.0.0.1\"; handler = "
	    "\"metrics\"; });\n", port, mport);
	assert_string_equal(ask(port, "a\n"), "a\n");
	assert_true(harness_log_wait(h, "exit: pid=", 3000));
	fd = tcp_open("127.0.0.1", mport);
	assert_int_equal(tcp_sends(fd, "GET /metrics HTTP/1.0\r\n\r\n"), 0);
	assert_true(tcp_recv_eof(fd, buf, sizeof(buf), 5000) > 0);
	client_close(fd);
	assert_non_null(strstr(buf, "sockd_exec_started_total{service=\"x\"} "
	    "1\n"));
	assert_non_null(strstr(buf, "sockd_exec_exited_total{service=\"x\"} "
	    "1\n"));
	assert_non_null(strstr(buf, "sockd_exec_failed_total{service=\"x\"} "
	    "0\n"));
	harness_stop_clean(h);
}

static void
a_reload_keeps_running_children_of_a_removed_service(void **state)
{
	struct harness *h = *state;
	int port = harness_port(), other = harness_port(), fd;

	serve_exec(h, port, "\"/bin/cat\"", "", "");
	fd = tcp_open("127.0.0.1", port);
	assert_reply_on(fd, "before\n", "before\n", 3000);
	harness_config(h, "services = ({ name = \"echo\"; port = %d; "
	    "bind = \"127.0.0.1\"; });\n", other);
	assert_int_equal(harness_signal(h, SIGHUP), 0);
	assert_true(harness_log_wait(h, "reload done", harness_ms(10000)));
	assert_reply_on(fd, "after\n", "after\n", 3000);
	client_close(fd);
	assert_true(harness_log_wait(h, "exit: pid=", 3000));
	harness_stop_clean(h);
}

static void
without_privileges_another_user_is_refused_at_start(void **state)
{
	struct harness *h = *state;
	int port = harness_port();

	if (geteuid() == 0)
		skip();
	harness_config(h, "services = ({ name = \"x\"; port = %d; "
	    "bind = \"127.0.0.1\"; handler = \"exec\"; options = { "
	    "command = [\"/bin/cat\"]; user = \"root\"; }; });\n", port);
	assert_int_equal(harness_start(h, NULL), -1);
	assert_true(harness_log_has(h, "cannot run the program as user "
	    "root"));
	harness_pass(h);
}

/* Each bad option of an exec service is reported on its own line. */
static void
the_check_names_the_line_of_each_bad_option(void **state)
{
	struct harness *h = *state;
	const char *conf, *out;
	char want[256];
	int base = harness_daemon_lines(), i;
	static const struct {
		int	 line;
		const char *text;
	} errs[] = {
		{ 3, "command \"bin/cat\": not an absolute path" },
		{ 6, "command \"/nonexistent/prog\": No such file or "
		    "directory" },
		{ 9, "command \"/etc/passwd\": not an executable file" },
		{ 12, "user \"no-such-user-here\" does not exist" },
		{ 15, "group \"no-such-group-here\" does not exist" },
		{ 18, "option \"command\": expected a list of strings" },
		{ 21, "option \"wait\": expected true or false" },
		{ 24, "stderr \"tty\": expected" },
		{ 27, "option \"env\": expected a group of strings" },
		{ 29, "exec over udp needs wait = true" },
	};

/* The next exec service, named n on port p, its options on the line
 * after. */
#define NEXT(n, p) "}; },\n{ name = \"" n "\"; handler = \"exec\"; " \
		"port = " p "; options = {\n"
	conf = harness_config(h, "services = (\n"
	    "{ name = \"a\"; port = 7001; handler = \"exec\"; options = {\n"
	    "  command = [\"bin/cat\"];\n"
	    NEXT("b", "7002") "  command = [\"/nonexistent/prog\"];\n"
	    NEXT("c", "7003") "  command = [\"/etc/passwd\"];\n"
	    NEXT("d", "7004") "  command = [\"/bin/cat\"]; "
	    "user = \"no-such-user-here\";\n"
	    NEXT("e", "7005") "  command = [\"/bin/cat\"]; "
	    "group = \"no-such-group-here\";\n"
	    NEXT("f", "7006") "  command = \"/bin/cat\";\n"
	    NEXT("g", "7007") "  command = [\"/bin/cat\"]; wait = 3;\n"
	    NEXT("h", "7008") "  command = [\"/bin/cat\"]; stderr = \"tty\";\n"
	    NEXT("i", "7009") "  command = [\"/bin/cat\"]; env = [\"A=b\"];\n"
	    "}; },\n{ name = \"j\"; port = 7010; protocol = \"udp\"; handler = "
	    "\"exec\"; options = { command = [\"/bin/cat\"]; }; }\n"
	    ");\n");
#undef NEXT
	assert_int_equal(harness_check(h, conf), 1);
	out = harness_stderr(h);
	for (i = 0; i < (int)(sizeof(errs) / sizeof(errs[0])); i++) {
		snprintf(want, sizeof(want), "%s:%d: ", conf,
		    base + errs[i].line);
		if (strstr(out, want) == NULL || strstr(out,
		    errs[i].text) == NULL)
			fail_msg("no \"%s\" ... \"%s\" in:\n%s", want,
			    errs[i].text, out);
		/* The text is on the line that names the line. */
		assert_non_null(strstr(strstr(out, want), errs[i].text));
	}
	harness_pass(h);
}

#define T(f)	HARNESS_TEST(f)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(rev_and_cat_answer_over_tcp),
		T(every_worker_starts_programs),
		T(the_program_sees_a_clean_environment_with_its_peer),
		T(the_program_sees_the_client_of_a_proxy_header),
		T(max_connections_counts_running_programs),
		T(as_root_the_program_runs_as_its_user_with_only_fds_0_1_2),
		T(the_daemon_keeps_no_privilege_to_change_users),
		T(with_ambient_capabilities_only_the_spawner_keeps_them),
		T(a_thousand_connections_leave_no_zombie_and_no_descriptor),
		T(a_running_program_costs_the_daemon_under_2_kib),
		T(sigterm_ends_the_children_and_sockd_exits_0),
		T(a_child_that_ignores_sigterm_is_killed_at_drain_timeout),
		T(exec_timeout_sends_sigterm),
		T(a_flood_to_a_reader_that_does_not_read_costs_sockd_nothing),
		T(stderr_goes_to_the_log_the_socket_or_nowhere),
		T(a_long_stderr_line_is_cut),
		T(stderr_written_just_before_the_exit_is_all_logged),
		T(a_failed_spawn_closes_the_connection_and_is_counted),
		T(a_program_over_rlimit_nproc_is_refused_counted_and_logged_sparingly),
		T(rlimits_umask_nice_and_chdir_apply_to_the_program),
		T(without_its_spawner_sockd_refuses_programs_and_goes_on),
		T(metrics_count_programs),
		T(a_reload_keeps_running_children_of_a_removed_service),
		T(without_privileges_another_user_is_refused_at_start),
		T(the_check_names_the_line_of_each_bad_option),
	};
	return HARNESS_RUN(tests);
}
