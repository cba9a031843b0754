/*
 * Sockets the spawner binds: after the privilege drop (a reload of a
 * daemon started as root) and in a daemon started as a user with
 * capabilities, each worker still gets a socket of its own in a
 * SO_REUSEPORT group that belongs to uid 0, steered by source address, so
 * that per_source and rate hold exactly across workers and no process of
 * the daemon's user can join the group.  Without the spawner, a reload
 * falls back to one socket the workers share, and keeps serving; a
 * spawner that does not answer fails the reload within seconds, and one
 * that may not change its file system uid (a seccomp filter) leaves the
 * daemon binding shared sockets itself, as it did before.  These
 * tests start sockd as root (then running as nobody) and skip otherwise.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <linux/filter.h>
#include <linux/seccomp.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

/* CAP_SETUID and CAP_NET_BIND_SERVICE in /proc/PID/status's masks. */
#define CAP_BIT_SETUID		(1ULL << 7)
#define CAP_BIT_BIND		(1ULL << 10)

static const char *const as_nobody[] = { "setpriv", "--reuid=nobody",
    "--regid=nogroup", "--clear-groups",
    "--inh-caps=+setuid,+setgid,+kill,+net_bind_service",
    "--ambient-caps=+setuid,+setgid,+kill,+net_bind_service", NULL };

/* Root, a user nobody, and (caps) setpriv; else the test is skipped. */
static int
can_run(int caps)
{
	if (geteuid() != 0 || getpwnam("nobody") == NULL) {
		print_message("skipped: needs root and a user nobody\n");
		skip();
		return 0;
	}
	if (caps && (harness_valgrind() ||
	    system("setpriv --help >/dev/null 2>&1") != 0)) {
		print_message("skipped: needs setpriv, without valgrind\n");
		skip();
		return 0;
	}
	return 1;
}

/* The daemon section: two workers, running as nobody when started as
 * root (caps 0), or started as nobody already (caps 1). */
static const char *
daemon_section(int caps)
{
	static char buf[PATH_MAX + 256];

	snprintf(buf, sizeof(buf), "daemon: { log = \"stderr\"; log_level = "
	    "\"info\"; handler_dir = \"%s\"; workers = 2; drain_timeout = 1;%s "
	    "};\ndefaults: { bind = \"127.0.0.1\"; };\n", harness_plugins(),
	    caps ? "" : " user = \"nobody\";");
	return buf;
}

/* Two services on port: a TCP echo with per_source = 3 and a UDP echo
 * with rate = 5, as service list entries. */
static const char *
limited(const char *name, int port)
{
	static char buf[2][512];
	static int i;

	i ^= 1;
	snprintf(buf[i], sizeof(buf[i]), "{ name = \"%s-tcp\"; handler = "
	    "\"echo\"; port = %d; protocol = \"tcp\"; per_source = 3; "
	    "rate = 0; }, { name = \"%s-udp\"; handler = \"echo\"; port = %d; "
	    "protocol = \"udp\"; per_source = 0; rate = 5; burst = 5; }", name,
	    port, name, port);
	return buf[i];
}

/* Writes the config: the daemon section and the services (text). */
static void
write_conf(struct harness *h, int caps, const char *services)
{
	harness_write(h, "sockd.conf", "%sservices = (%s);\n",
	    daemon_section(caps), services);
	assert_int_equal(chmod(harness_conf(h), 0644), 0);
}

/* nobody reads the file again at a reload, and tells READY=1. */
static void
open_dir_to_nobody(struct harness *h)
{
	char path[PATH_MAX];

	assert_int_equal(chmod(harness_dir(h), 0755), 0);
	snprintf(path, sizeof(path), "%s/notify", harness_dir(h));
	if (access(path, F_OK) == 0)
		assert_int_equal(chmod(path, 0777), 0);
}

static void
start(struct harness *h, int caps, const char *services)
{
	open_dir_to_nobody(h);
	write_conf(h, caps, services);
	if ((caps ? harness_start_wrapped(h, as_nobody, NULL) :
	    harness_start(h, NULL)) != 0)
		fail_msg("did not start:\n%s", harness_log(h));
	assert_true(harness_log_has(h, "2 workers"));
}

/* Rewrites the config and reloads; fails unless it is done. */
static void
reload(struct harness *h, int caps, const char *services, int nsvc)
{
	char want[64];

	write_conf(h, caps, services);
	snprintf(want, sizeof(want), "reload done: %d services", nsvc);
	harness_signal(h, SIGHUP);
	if (!harness_log_wait(h, want, harness_ms(10000)))
		fail_msg("no \"%s\":\n%s", want, harness_log(h));
}

/* Over 5 rounds, 3 connections from 127.0.0.2 are served and the fourth
 * refused, while 127.0.0.3 is served.  Counted per worker, the fourth
 * would get through most rounds. */
static void
assert_per_source_exact(struct harness *h, int port)
{
	int fds[4], other, round, i;

	(void)h;
	for (round = 0; round < 5; round++) {
		for (i = 0; i < 3; i++) {
			fds[i] = tcp_open_from("127.0.0.2", port);
			if (!echo_ok(fds[i], "mine\n"))
				fail_msg("port %d, round %d: connection %d "
				    "refused", port, round, i);
		}
		fds[3] = tcp_open_from("127.0.0.2", port);
		if (fds[3] != -1 && !tcp_closed(fds[3], 3000))
			fail_msg("port %d, round %d: a fourth connection from "
			    "one address was served", port, round);
		other = tcp_open_from("127.0.0.3", port);
		if (!echo_ok(other, "someone else\n"))
			fail_msg("port %d, round %d: another address was "
			    "refused", port, round);
		clients_close(fds, 4);
		client_close(other);
		/* Until the daemon has seen the closes, they still count. */
		harness_sleep_ms(harness_ms(500));
	}
}

/* 20 datagrams from 127.0.0.2, each from a new port and 10 ms apart, so
 * that on a socket the workers share each would go to whichever wakes
 * first: the burst of 5 (and what the rate refilled meanwhile) is
 * answered, not twice that; then 127.0.0.3 is answered. */
static void
assert_rate_exact(int port)
{
	int fds[20], i, answered = 0, most, other;
	long long begin;
	char buf[64];

	begin = harness_now_ms();
	for (i = 0; i < 20; i++) {
		fds[i] = udp_open_from("127.0.0.2", 0, port);
		assert_int_not_equal(fds[i], -1);
		(void)udp_send(fds[i], "x", 1);
		harness_sleep_ms(10);
	}
	most = 5 + (int)((harness_now_ms() - begin) * 5 / 1000) + 1;
	for (i = 0; i < 20; i++)
		if (udp_recv(fds[i], buf, sizeof(buf), 300) == 1)
			answered++;
	clients_close(fds, 20);
	if (answered < 5 || answered > most)
		fail_msg("port %d: one source got %d answers, its burst is 5 "
		    "(at most %d here)", port, answered, most);
	other = udp_open_from("127.0.0.3", 0, port);
	assert_int_not_equal(other, -1);
	(void)udp_send(other, "y", 1);
	assert_int_equal(udp_recv(other, buf, sizeof(buf), 2000), 1);
	client_close(other);
}

/* How many sockets listen on (TCP) or are bound to (UDP) 127.0.0.1:port. */
static int
sockets_on(int tcp, int port)
{
	char cmd[128], line[512];
	FILE *fp;
	int n = 0;

	snprintf(cmd, sizeof(cmd), "ss -Hn%sl 'sport = :%d' 2>/dev/null",
	    tcp ? "t" : "u", port);
	if ((fp = popen(cmd, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL)
		n += strstr(line, "127.0.0.1:") != NULL;
	(void)pclose(fp);
	return n;
}

/* As nobody (the daemon's user), tries to bind type on 127.0.0.1:port
 * with SO_REUSEPORT; returns the errno of bind (0: it worked, -1: the
 * test could not run). */
static int
bind_as_nobody(int type, int port)
{
	struct sockaddr_in sin;
	struct passwd *pw;
	pid_t pid;
	int status, fd, one = 1;

	if ((pw = getpwnam("nobody")) == NULL || (pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		alarm(10);
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

/* Each worker has a socket of its own on port, in a group nobody cannot
 * join, for TCP and UDP. */
static void
assert_group_of_root(int port)
{
	assert_int_equal(sockets_on(1, port), 2);
	assert_int_equal(sockets_on(0, port), 2);
	assert_int_equal(bind_as_nobody(SOCK_STREAM, port), EADDRINUSE);
	assert_int_equal(bind_as_nobody(SOCK_DGRAM, port), EADDRINUSE);
}

/* The spawner: the child of sockd named sockd-spawner; 0 if none. */
static pid_t
spawner_of(pid_t ppid)
{
	char path[300], buf[512], *p;
	struct dirent *e;
	pid_t found = 0;
	FILE *f;
	DIR *d;
	int pp;
	char st;

	if ((d = opendir("/proc")) == NULL)
		return 0;
	while (found == 0 && (e = readdir(d)) != NULL) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		if (fgets(buf, sizeof(buf), f) != NULL &&
		    strstr(buf, "(sockd-spawner)") != NULL &&
		    (p = strrchr(buf, ')')) != NULL &&
		    sscanf(p + 1, " %c %d", &st, &pp) == 2 && pp == ppid)
			found = atoi(e->d_name);
		fclose(f);
	}
	closedir(d);
	return found;
}

/* The spawner of the running sockd: it may not have taken its name yet
 * when sockd is ready, on a loaded machine. */
static pid_t
spawner_wait(struct harness *h)
{
	pid_t sp = 0;
	int i;

	for (i = 0; i < 250 && (sp = spawner_of(harness_pid(h))) == 0; i++)
		harness_sleep_ms(20);
	if (sp == 0)
		fail_msg("no sockd-spawner among sockd's children");
	return sp;
}

/* The mask of line "Cap...:" in /proc/pid/status; all ones on failure. */
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

static void
per_source_is_exact_on_a_service_a_reload_adds(void **state)
{
	struct harness *h = *state;
	int port = harness_port(), nport = harness_port();
	char both[1100];

	if (!can_run(0))
		return;
	start(h, 0, limited("a", port));
	assert_true(harness_log_has(h, "running as nobody"));
	snprintf(both, sizeof(both), "%s, %s", limited("a", port),
	    limited("b", nport));
	reload(h, 0, both, 4);
	assert_per_source_exact(h, nport);
	assert_true(harness_log_has(h, "per_source (3) reached"));
	harness_stop_clean(h);
}

static void
rate_is_exact_over_udp_on_a_service_a_reload_adds(void **state)
{
	struct harness *h = *state;
	int port = harness_port(), nport = harness_port();
	char both[1100];

	if (!can_run(0))
		return;
	start(h, 0, limited("a", port));
	snprintf(both, sizeof(both), "%s, %s", limited("a", port),
	    limited("b", nport));
	reload(h, 0, both, 4);
	assert_rate_exact(nport);
	harness_stop_clean(h);
}

static void
after_a_reload_the_daemon_user_cannot_join_the_new_group(void **state)
{
	struct harness *h = *state;
	int port = harness_port(), nport = harness_port();
	char both[1100];

	if (!can_run(0))
		return;
	start(h, 0, limited("a", port));
	assert_group_of_root(port);
	snprintf(both, sizeof(both), "%s, %s", limited("a", port),
	    limited("b", nport));
	reload(h, 0, both, 4);
	assert_group_of_root(nport);
	/* And both workers answer on it. */
	assert_tcp_reply("127.0.0.1", nport, "abc\n", "abc\n", 5000);
	harness_stop_clean(h);
}

static void
with_capabilities_limits_are_exact_and_loops_lack_setuid(void **state)
{
	struct harness *h = *state;
	int port = harness_port(), nport = harness_port();
	unsigned long long mask = CAP_BIT_SETUID | CAP_BIT_BIND;
	char both[1100];
	pid_t sp;

	if (!can_run(1))
		return;
	start(h, 1, limited("a", port));
	assert_int_equal(proc_caps(harness_pid(h), "CapEff:") & mask, 0);
	assert_int_equal(proc_caps(harness_pid(h), "CapPrm:") & mask, 0);
	assert_int_equal(proc_caps(harness_pid(h), "CapAmb:") & mask, 0);
	sp = spawner_wait(h);
	assert_int_equal(proc_caps(sp, "CapEff:") & mask, mask);
	assert_group_of_root(port);
	assert_per_source_exact(h, port);
	assert_rate_exact(port);
	snprintf(both, sizeof(both), "%s, %s", limited("a", port),
	    limited("b", nport));
	reload(h, 1, both, 4);
	assert_group_of_root(nport);
	assert_per_source_exact(h, nport);
	assert_rate_exact(nport);
	harness_stop_clean(h);
}

/* A port below 1024 free on 127.0.0.1 that nobody may not bind, or -1. */
static int
low_port(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int port, fd, rc, start = 1024;
	FILE *fp;

	if ((fp = fopen("/proc/sys/net/ipv4/ip_unprivileged_port_start",
	    "r")) != NULL) {
		if (fscanf(fp, "%d", &start) != 1)
			start = 0;
		fclose(fp);
	}
	for (port = 1023; port > 900 && port >= start; port--)
		;
	for (; port > 900; port--) {
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

static void
without_the_spawner_a_reload_shares_one_socket_and_serves(void **state)
{
	struct harness *h = *state;
	int port = harness_port(), nport = harness_port(), i, low = low_port();
	char both[1100], buf[16];
	pid_t sp;

	if (!can_run(0))
		return;
	start(h, 0, limited("a", port));
	sp = spawner_wait(h);
	assert_int_equal(kill(sp, SIGKILL), 0);
	for (i = 0; i < 100 && spawner_of(harness_pid(h)) == sp &&
	    kill(sp, 0) == 0; i++)
		harness_sleep_ms(20);
	/* Bound by the daemon's user now, a port below 1024 is refused,
	 * with the remedy. */
	if (low != -1) {
		snprintf(both, sizeof(both), "%s, { name = \"upper\"; port = "
		    "%d; }", limited("a", port), low);
		write_conf(h, 0, both);
		harness_signal(h, SIGHUP);
		if (!harness_log_wait(h, "reload failed", harness_ms(10000)))
			fail_msg("no failed reload:\n%s", harness_log(h));
		assert_true(harness_log_has(h, "permission denied: ports "
		    "below 1024 need root or CAP_NET_BIND_SERVICE"));
	}
	snprintf(both, sizeof(both), "%s, %s", limited("a", port),
	    limited("b", nport));
	reload(h, 0, both, 4);
	assert_true(harness_log_has(h, "the spawner is gone"));
	/* One socket, without SO_REUSEPORT: still nobody else's. */
	assert_int_equal(sockets_on(1, nport), 1);
	assert_int_equal(bind_as_nobody(SOCK_STREAM, nport), EADDRINUSE);
	assert_int_equal(bind_as_nobody(SOCK_DGRAM, nport), EADDRINUSE);
	assert_tcp_reply("127.0.0.1", nport, "abc\n", "abc\n", 5000);
	assert_int_equal(udp_ask("127.0.0.1", nport, "x", 1, buf,
	    sizeof(buf), 5000), 1);
	assert_tcp_reply("127.0.0.1", port, "old\n", "old\n", 5000);
	harness_stop_clean(h);
}

static void
a_spawner_that_does_not_answer_fails_the_reload_in_seconds(void **state)
{
	struct harness *h = *state;
	int port = harness_port(), nport = harness_port();
	char both[1100];
	long long t0, took;
	pid_t sp;

	if (!can_run(0))
		return;
	start(h, 0, limited("a", port));
	sp = spawner_wait(h);
	assert_int_equal(kill(sp, SIGSTOP), 0);
	snprintf(both, sizeof(both), "%s, %s", limited("a", port),
	    limited("b", nport));
	write_conf(h, 0, both);
	t0 = harness_now_ms();
	harness_signal(h, SIGHUP);
	if (!harness_log_wait(h, "reload failed", harness_ms(15000))) {
		(void)kill(sp, SIGCONT);
		fail_msg("no failed reload:\n%s", harness_log(h));
	}
	took = harness_now_ms() - t0;
	(void)kill(sp, SIGCONT);
	assert_true(harness_log_has(h,
	    "the spawner did not answer within 2 s"));
	/* The reload check runs first; the bind waited 2 s, not forever. */
	if (took > harness_ms(12000))
		fail_msg("the reload took %lld ms to fail", took);
	assert_tcp_reply("127.0.0.1", port, "still\n", "still\n", 5000);
	/* Answering again, the spawner binds the next reload's sockets
	 * (its late answer to the first is dropped). */
	harness_sleep_ms(200);
	reload(h, 0, both, 4);
	assert_group_of_root(nport);
	assert_tcp_reply("127.0.0.1", nport, "abc\n", "abc\n", 5000);
	harness_stop_clean(h);
}

/* This program, for the wrapper below. */
static char self[PATH_MAX];

/* Started with capabilities, but setfsuid refused by a seccomp filter
 * (as a unit's SystemCallFilter=~@setuid does): sockd binds its sockets
 * itself, shared by the workers, keeps CAP_NET_BIND_SERVICE, and says
 * why. */
static void
with_setfsuid_refused_the_workers_share_sockets(void **state)
{
	struct harness *h = *state;
	const char *wrap[16];
	int port = harness_port(), i, n = 0;
	char buf[16];

	if (!can_run(1))
		return;
	wrap[n++] = self;
	wrap[n++] = "--no-setfsuid";
	for (i = 0; as_nobody[i] != NULL; i++)
		wrap[n++] = as_nobody[i];
	wrap[n] = NULL;
	open_dir_to_nobody(h);
	write_conf(h, 1, limited("a", port));
	if (harness_start_wrapped(h, wrap, NULL) != 0)
		fail_msg("did not start:\n%s", harness_log(h));
	assert_true(harness_log_has(h, "setfsuid refused"));
	assert_int_equal(proc_caps(harness_pid(h), "CapEff:") &
	    (CAP_BIT_SETUID | CAP_BIT_BIND), CAP_BIT_BIND);
	assert_int_equal(sockets_on(1, port), 1);
	assert_int_equal(bind_as_nobody(SOCK_STREAM, port), EADDRINUSE);
	assert_tcp_reply("127.0.0.1", port, "abc\n", "abc\n", 5000);
	assert_int_equal(udp_ask("127.0.0.1", port, "x", 1, buf,
	    sizeof(buf), 5000), 1);
	harness_stop_clean(h);
}

/* "--no-setfsuid cmd args...": runs cmd with setfsuid failing (EPERM). */
static int
run_without_setfsuid(char **argv)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		    offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_setfsuid, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof(f) / sizeof(f[0]), f };

	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) == -1)
		return 126;
	execvp(argv[0], argv);
	return 127;
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		HARNESS_TEST(per_source_is_exact_on_a_service_a_reload_adds),
		HARNESS_TEST(
		    rate_is_exact_over_udp_on_a_service_a_reload_adds),
		HARNESS_TEST(
		    after_a_reload_the_daemon_user_cannot_join_the_new_group),
		HARNESS_TEST(
		    with_capabilities_limits_are_exact_and_loops_lack_setuid),
		HARNESS_TEST(
		    without_the_spawner_a_reload_shares_one_socket_and_serves),
		HARNESS_TEST(
		    a_spawner_that_does_not_answer_fails_the_reload_in_seconds),
		HARNESS_TEST(with_setfsuid_refused_the_workers_share_sockets),
	};

	if (argc > 2 && strcmp(argv[1], "--no-setfsuid") == 0)
		return run_without_setfsuid(argv + 2);
	if (realpath(argv[0], self) == NULL)
		return 1;
	return HARNESS_RUN(tests);
}
