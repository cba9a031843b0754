/*
 * A chat room over the bus between two hosts that share nothing but a
 * network: each sockd runs in its own network namespace (sockd-a-PID,
 * sockd-b-PID), and redis-server in a third (sockd-r-PID), joined to each
 * host by a veth pair.  The addresses are 198.18.0.0/30 (A) and
 * 198.18.0.4/30 (B), from the range RFC 2544 sets aside for benchmark
 * networks; they exist only inside these namespaces, whose routing tables
 * hold nothing but the two connected /30s, and the machine's own namespace
 * gets no address, route or link: nothing can clash with the machine's real
 * routes, whatever they are.  The test process enters a host's namespace
 * (setns) to start its sockd and to open its members' connections, which
 * stay in that namespace, and leaves it at once; so sockd and redis-server
 * are its own children, waited on and killed as in the other suites.
 *
 * Checked: 50 lines each way arrive once and in order; /who on each host
 * names both members; a nick taken on one host is refused on the other; a
 * line typed before a member of the other host joined is in the history it
 * gets; and host B's link down for a few seconds costs B one log line each
 * way while A's room goes on, after which lines flow both ways again.
 *
 * Namespaces, links and redis-server are removed at teardown, at exit, on
 * the watchdog's SIGALRM and on SIGTERM or SIGINT (make check's timeout),
 * and namespaces of this suite left by a test process that is gone are
 * removed when the suite starts.  Tests skip, saying why, when not root,
 * without ip(8) or redis-server, or when namespaces cannot be made (a
 * container without CAP_SYS_ADMIN).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define NETNS_DIR	"/run/netns"
#define REDIS_PORT	6379
/* How long ip(8) may take before it is killed. */
#define IP_MS		10000

enum { NS_R, NS_A, NS_B, NS_N };

static const char *const ns_letter[NS_N] = { "r", "a", "b" };
/* The address of redis-server as each host sees it (none for R). */
static const char *const ns_redis[NS_N] = { NULL, "198.18.0.1",
    "198.18.0.5" };

static struct {
	char		 name[NS_N][32];
	int		 made[NS_N];
	int		 fd[NS_N];	/* /run/netns/NAME, for setns() */
	int		 root;		/* our own namespace, to return to */
	pid_t		 redis;
} net = { .fd = { -1, -1, -1 }, .root = -1 };

/* Host B's sockd, freed at teardown when a test fails before it does. */
static struct harness	*hb_live;

/* Runs "ip" with the NULL-terminated arguments, its output to /dev/null
 * when quiet; its exit status, or -1 (not run, or killed after IP_MS). */
static int
ip_run(int quiet, ...)
{
	const char	*argv[24];
	va_list		 ap;
	pid_t		 pid;
	size_t		 n = 0;
	int		 fd, status, waited;

	argv[n++] = "ip";
	va_start(ap, quiet);
	while (n < 23 && (argv[n] = va_arg(ap, const char *)) != NULL)
		n++;
	va_end(ap);
	argv[n] = NULL;
	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		if ((fd = open("/dev/null", O_RDWR)) != -1) {
			(void)dup2(fd, 0);
			if (quiet) {
				(void)dup2(fd, 1);
				(void)dup2(fd, 2);
			}
		}
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	for (waited = 0; waited < IP_MS; waited += 10) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		usleep(10000);
	}
	(void)kill(pid, SIGKILL);
	(void)waitpid(pid, NULL, 0);
	return -1;
}

/* Kills and reaps redis-server, then removes the links and namespaces
 * made; idempotent, and safe from the signal handlers below. */
static void
net_down(void)
{
	int	 i;

	if (net.root != -1)
		(void)setns(net.root, CLONE_NEWNET);
	if (net.redis > 0) {
		(void)kill(net.redis, SIGKILL);
		(void)waitpid(net.redis, NULL, 0);
		net.redis = 0;
	}
	if (net.made[NS_R]) {
		/* Gone with R anyway, but R outlives this call while a
		 * process of ours is still in it. */
		(void)ip_run(1, "-n", net.name[NS_R], "link", "del", "ha",
		    (char *)NULL);
		(void)ip_run(1, "-n", net.name[NS_R], "link", "del", "hb",
		    (char *)NULL);
	}
	for (i = 0; i < NS_N; i++) {
		if (net.fd[i] != -1) {
			(void)close(net.fd[i]);
			net.fd[i] = -1;
		}
		if (net.made[i]) {
			(void)ip_run(1, "netns", "del", net.name[i],
			    (char *)NULL);
			net.made[i] = 0;
		}
	}
}

static struct sigaction	 old_alarm;

/* The watchdog and make check's timeout: the namespaces first, then what
 * the harness does (kill and reap every sockd, remove the temp dirs). */
static void
on_signal(int sig)
{
	net_down();
	if (sig == SIGALRM && old_alarm.sa_handler != SIG_DFL &&
	    old_alarm.sa_handler != SIG_IGN)
		old_alarm.sa_handler(sig);
	exit(128 + sig);
}

/* Removes the namespaces of this suite whose test process is gone, and
 * ours from a process that had our pid before. */
static void
net_sweep(void)
{
	DIR		*d;
	struct dirent	*e;
	char		 letter[2];
	int		 pid, n;

	if ((d = opendir(NETNS_DIR)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		n = 0;
		if (sscanf(e->d_name, "sockd-%1[rab]-%d%n", letter, &pid,
		    &n) != 2 || e->d_name[n] != '\0' || pid <= 0)
			continue;
		if (pid != getpid() && (kill(pid, 0) == 0 || errno != ESRCH))
			continue;
		fprintf(stderr, "removing stale namespace %s\n", e->d_name);
		(void)ip_run(1, "netns", "del", e->d_name, (char *)NULL);
	}
	closedir(d);
}

/* Enters host i's namespace: what is started or opened now lives there. */
static void
host_enter(int i)
{
	assert_int_equal(setns(net.fd[i], CLONE_NEWNET), 0);
}

static void
host_leave(void)
{
	assert_int_equal(setns(net.root, CLONE_NEWNET), 0);
}

/* 1 when redis-server answers PING from host i. */
static int
redis_ping(int i)
{
	char	 line[64];
	int	 fd, ok = 0;

	host_enter(i);
	fd = tcp_open(ns_redis[i], REDIS_PORT);
	host_leave();
	if (fd == -1)
		return 0;
	if (tcp_sends(fd, "PING\r\n") == 0 &&
	    tcp_recv_line(fd, line, sizeof(line), 2000) > 0)
		ok = strncmp(line, "+PONG", 5) == 0;
	client_close(fd);
	return ok;
}

/* Starts redis-server in R, listening on both of its links (not protected:
 * only the two hosts reach them); fails the test unless both hosts reach it
 * within 10 s. */
static void
redis_start(void)
{
	char		 port[16];
	long long	 end;
	pid_t		 parent = getpid();
	int		 fd;

	snprintf(port, sizeof(port), "%d", REDIS_PORT);
	assert_true((net.redis = fork()) != -1);
	if (net.redis == 0) {
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 ||
		    getppid() != parent || setns(net.fd[NS_R],
		    CLONE_NEWNET) == -1)
			_exit(127);
		if ((fd = open("/dev/null", O_RDWR)) != -1) {
			(void)dup2(fd, 0);
			(void)dup2(fd, 1);
			(void)dup2(fd, 2);
		}
		execlp("redis-server", "redis-server", "--port", port,
		    "--bind", ns_redis[NS_A], ns_redis[NS_B],
		    "--protected-mode", "no", "--save", "", "--appendonly",
		    "no", (char *)NULL);
		_exit(127);
	}
	end = harness_now_ms() + 10000;
	while (harness_now_ms() < end) {
		if (redis_ping(NS_A) && redis_ping(NS_B))
			return;
		harness_sleep_ms(50);
	}
	fail_msg("redis-server in %s: no PONG from both hosts within 10 s",
	    net.name[NS_R]);
}

/* ip ... or skip the test, saying what could not be done. */
#define IP_OR_SKIP(what, ...) do {					\
	if (ip_run(0, __VA_ARGS__, (char *)NULL) != 0) {		\
		fprintf(stderr, "%s failed: skipped\n", what);		\
		skip();							\
	}								\
} while (0)

/* Makes the three namespaces and their links, starts redis-server in R;
 * skips the test when this machine cannot. */
static void
net_up(void)
{
	static int	 once;
	struct sigaction sa;
	const char	*veth[NS_N] = { NULL, "ha", "hb" };
	const char	*near[NS_N] = { NULL, "198.18.0.1/30",
	    "198.18.0.5/30" };
	const char	*far[NS_N] = { NULL, "198.18.0.2/30",
	    "198.18.0.6/30" };
	char		 path[64];
	int		 i;

	if (geteuid() != 0) {
		fprintf(stderr, "network namespaces need root: skipped\n");
		skip();
	}
	if (system("command -v ip >/dev/null 2>&1") != 0) {
		fprintf(stderr, "ip (iproute2) is not installed: skipped\n");
		skip();
	}
	if (!redis_server_installed()) {
		fprintf(stderr, "redis-server is not installed: skipped\n");
		skip();
	}
	if (!once++) {
		net_sweep();
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_signal;
		(void)sigaction(SIGALRM, &sa, &old_alarm);
		(void)sigaction(SIGTERM, &sa, NULL);
		(void)sigaction(SIGINT, &sa, NULL);
		(void)atexit(net_down);
	}
	if (net.root == -1)
		assert_true((net.root = open("/proc/self/ns/net",
		    O_RDONLY | O_CLOEXEC)) != -1);
	for (i = 0; i < NS_N; i++) {
		snprintf(net.name[i], sizeof(net.name[i]), "sockd-%s-%d",
		    ns_letter[i], (int)getpid());
		if (ip_run(0, "netns", "add", net.name[i], (char *)NULL) != 0) {
			fprintf(stderr, "ip netns add %s failed (no "
			    "CAP_SYS_ADMIN?): skipped\n", net.name[i]);
			skip();
		}
		net.made[i] = 1;
		snprintf(path, sizeof(path), "%s/%s", NETNS_DIR, net.name[i]);
		assert_true((net.fd[i] = open(path, O_RDONLY | O_CLOEXEC)) !=
		    -1);
		IP_OR_SKIP("ip link set lo up", "-n", net.name[i], "link",
		    "set", "lo", "up");
	}
	for (i = NS_A; i <= NS_B; i++) {
		IP_OR_SKIP("ip link add type veth", "-n", net.name[NS_R],
		    "link", "add", "name", veth[i], "type", "veth", "peer",
		    "name", "eth0", "netns", net.name[i]);
		IP_OR_SKIP("ip addr add", "-n", net.name[NS_R], "addr",
		    "add", near[i], "dev", veth[i]);
		IP_OR_SKIP("ip addr add", "-n", net.name[i], "addr", "add",
		    far[i], "dev", "eth0");
		IP_OR_SKIP("ip link set up", "-n", net.name[NS_R], "link",
		    "set", veth[i], "up");
		IP_OR_SKIP("ip link set up", "-n", net.name[i], "link", "set",
		    "eth0", "up");
	}
	redis_start();
}

/* Starts sockd in host i's namespace with the chat room "lobby" (and
 * opts) on 127.0.0.1:port there, on the bus, and waits for the bus. */
static void
host_start(struct harness *h, int i, int port, const char *opts)
{
	int	 rc;

	harness_write(h, "sockd.conf", "daemon: { log = \"stderr\"; "
	    "log_level = \"info\"; handler_dir = \"%s\"; drain_timeout = 1;"
	    "%s bus = \"redis://%s:%d\"; };\n"
	    "services = ({ name = \"chat\"; port = %d; bind = \"127.0.0.1\"; "
	    "options = { room = \"lobby\"; %s }; });\n", harness_plugins(),
	    harness_user(), ns_redis[i], REDIS_PORT, port, opts);
	host_enter(i);
	rc = harness_start(h, NULL);
	host_leave();
	assert_int_equal(rc, 0);
	assert_true(harness_log_wait(h, ": connected", harness_ms(10000)));
	harness_sleep_ms(300);
}

/* Both hosts up, each with the room on its own port: *ha is A's, hb_live
 * B's. */
static void
hosts_start(struct harness *ha, int *pa, int *pb, const char *opts)
{
	net_up();
	assert_non_null(hb_live = harness_new());
	*pa = harness_port();
	*pb = harness_port();
	host_start(ha, NS_A, *pa, opts);
	host_start(hb_live, NS_B, *pb, opts);
}

/* A member of the room on host i, named nick (NULL: the guest name). */
static int
member(int i, int port, const char *nick)
{
	char	 guest[CHAT_NICK], line[128];
	int	 fd;

	host_enter(i);
	fd = chat_join(port, guest, sizeof(guest));
	host_leave();
	assert_true(fd >= 0);
	if (nick != NULL) {
		snprintf(line, sizeof(line), "/nick %s\r\n", nick);
		assert_int_equal(tcp_sends(fd, line), 0);
		snprintf(line, sizeof(line), "is now known as %s", nick);
		assert_true(tcp_expect(fd, line, 5000));
	}
	return fd;
}

/* 1 when a line containing want comes on fd within ms, 0 when fd is quiet
 * for ms first; the line in line. */
static int
line_within(int fd, const char *want, char *line, size_t size, int ms)
{
	while (tcp_recv_line(fd, line, size, ms) > 0)
		if (strstr(line, want) != NULL)
			return 1;
	return 0;
}

/* Reads fd until the lines "PREFIX0" to "PREFIX<n-1>" have come, and then
 * until it is quiet for a while; fails the test unless each came once and
 * in order. */
static void
assert_sequence(int fd, const char *prefix, int n)
{
	char		 line[512], *p;
	int		 next = 0, got;
	long long	 end = harness_now_ms() + harness_ms(20000);

	while (harness_now_ms() < end) {
		/* After the last one: long enough for a duplicate. */
		if (tcp_recv_line(fd, line, sizeof(line),
		    next < n ? 5000 : 1000) <= 0)
			break;
		if ((p = strstr(line, prefix)) == NULL)
			continue;
		got = atoi(p + strlen(prefix));
		if (got != next)
			fail_msg("\"%s%d\" came when \"%s%d\" was due", prefix,
			    got, prefix, next);
		next++;
	}
	if (next != n)
		fail_msg("%d of %d lines \"%s...\" came", next, n, prefix);
}

static void
fifty_lines_each_way_arrive_once_and_in_order(void **state)
{
	struct harness	*ha = *state;
	char		 msg[64];
	int		 pa, pb, a, b, i;

	hosts_start(ha, &pa, &pb, "");
	a = member(NS_A, pa, "alice");
	b = member(NS_B, pb, "bob");
	tcp_skip_lines(a, 300);
	tcp_skip_lines(b, 300);
	for (i = 0; i < 50; i++) {
		snprintf(msg, sizeof(msg), "from a %d\r\n", i);
		assert_int_equal(tcp_sends(a, msg), 0);
		snprintf(msg, sizeof(msg), "from b %d\r\n", i);
		assert_int_equal(tcp_sends(b, msg), 0);
	}
	assert_sequence(b, "<alice> from a ", 50);
	assert_sequence(a, "<bob> from b ", 50);
	clients_close((int[]){ a, b }, 2);
	harness_stop_clean(hb_live);
	harness_stop_clean(ha);
}

static void
who_on_each_host_names_the_members_of_both(void **state)
{
	struct harness	*ha = *state;
	char		 line[512];
	int		 pa, pb, a, b;

	hosts_start(ha, &pa, &pb, "");
	a = member(NS_A, pa, "alice");
	b = member(NS_B, pb, "bob");
	tcp_skip_lines(a, 300);
	tcp_skip_lines(b, 300);
	assert_int_equal(tcp_sends(a, "/who\r\n"), 0);
	assert_true(line_within(a, "* Present: alice", line, sizeof(line),
	    5000));
	assert_true(line_within(a, "* On another host: bob", line,
	    sizeof(line), 5000));
	assert_int_equal(tcp_sends(b, "/who\r\n"), 0);
	assert_true(line_within(b, "* Present: bob", line, sizeof(line),
	    5000));
	assert_true(line_within(b, "* On another host: alice", line,
	    sizeof(line), 5000));
	clients_close((int[]){ a, b }, 2);
	harness_stop_clean(hb_live);
	harness_stop_clean(ha);
}

static void
a_nick_taken_on_one_host_is_refused_on_the_other(void **state)
{
	struct harness	*ha = *state;
	char		 line[512];
	int		 pa, pb, a, b;

	hosts_start(ha, &pa, &pb, "");
	a = member(NS_A, pa, "alice");
	b = member(NS_B, pb, NULL);
	tcp_skip_lines(b, 300);
	assert_int_equal(tcp_sends(b, "/nick alice\r\n"), 0);
	assert_true(line_within(b, "* alice is already taken.", line,
	    sizeof(line), 5000));
	assert_int_equal(tcp_sends(a, "/nick carol\r\n"), 0);
	assert_true(tcp_expect(b, "alice is now known as carol", 5000));
	harness_sleep_ms(200);
	assert_int_equal(tcp_sends(b, "/nick alice\r\n"), 0);
	assert_true(tcp_expect(a, "is now known as alice", 5000));
	clients_close((int[]){ a, b }, 2);
	harness_stop_clean(hb_live);
	harness_stop_clean(ha);
}

static void
a_member_joining_on_b_gets_a_line_typed_on_a_in_history(void **state)
{
	struct harness	*ha = *state;
	int		 pa, pb, a, w, b;

	hosts_start(ha, &pa, &pb, "history = 5;");
	a = member(NS_A, pa, "alice");
	/* Someone on B sees it come, so bob surely joins after. */
	w = member(NS_B, pb, NULL);
	assert_int_equal(tcp_sends(a, "typed before bob came\r\n"), 0);
	assert_true(tcp_expect(w, "<alice> typed before bob came", 5000));
	host_enter(NS_B);
	b = tcp_open("127.0.0.1", pb);
	host_leave();
	assert_true(b >= 0);
	assert_true(tcp_expect(b, "<alice> typed before bob came", 5000));
	clients_close((int[]){ a, w, b }, 3);
	harness_stop_clean(hb_live);
	harness_stop_clean(ha);
}

static void
b_losing_its_link_logs_once_each_way_and_a_goes_on(void **state)
{
	struct harness	*ha = *state, *hb;
	char		 msg[64], line[512];
	int		 pa, pb, a, a2, b, i;
	long long	 t0, lost, back;

	hosts_start(ha, &pa, &pb, "");
	hb = hb_live;
	a = member(NS_A, pa, "alice");
	a2 = member(NS_A, pa, "carol");
	b = member(NS_B, pb, "bob");
	assert_int_equal(tcp_sends(a, "before\r\n"), 0);
	assert_true(tcp_expect(b, "<alice> before", 5000));
	tcp_skip_lines(a2, 300);

	t0 = harness_now_ms();
	assert_int_equal(ip_run(0, "-n", net.name[NS_B], "link", "set",
	    "eth0", "down", (char *)NULL), 0);
	/* A's room goes on meanwhile, line by line. */
	for (i = 0; !harness_log_has(hb, ": lost: ") &&
	    harness_now_ms() - t0 < harness_ms(20000); i++) {
		snprintf(msg, sizeof(msg), "while down %d\r\n", i);
		assert_int_equal(tcp_sends(a, msg), 0);
		snprintf(msg, sizeof(msg), "<alice> while down %d", i);
		assert_true(line_within(a2, msg, line, sizeof(line), 5000));
		harness_sleep_ms(250);
	}
	assert_true(harness_log_has(hb, ": lost: "));
	lost = harness_now_ms() - t0;
	harness_sleep_ms(1000);
	assert_int_equal(ip_run(0, "-n", net.name[NS_B], "link", "set",
	    "eth0", "up", (char *)NULL), 0);
	t0 = harness_now_ms();
	assert_true(harness_log_wait(hb, "connected again",
	    harness_ms(20000)));
	back = harness_now_ms() - t0;
	fprintf(stderr, "link down: B lost the bus after %lld ms, %d lines "
	    "on A meanwhile; link up: bus back after %lld ms\n", lost, i,
	    back);
	/* Time for B's subscription to reach Redis again. */
	harness_sleep_ms(1000);
	tcp_skip_lines(b, 0);
	tcp_skip_lines(a, 0);
	assert_int_equal(tcp_sends(a, "after from a\r\n"), 0);
	assert_true(line_within(b, "<alice> after from a", line,
	    sizeof(line), 5000));
	assert_int_equal(tcp_sends(b, "after from b\r\n"), 0);
	assert_true(line_within(a, "<bob> after from b", line, sizeof(line),
	    5000));
	assert_int_equal(harness_log_count(hb, ": lost: "), 1);
	assert_int_equal(harness_log_count(hb, "connected again"), 1);
	assert_int_equal(harness_log_count(hb, "cannot connect"), 0);
	/* A's link stayed up: it noticed nothing. */
	assert_int_equal(harness_log_count(ha, ": lost: "), 0);
	clients_close((int[]){ a, a2, b }, 3);
	harness_stop_clean(hb);
	harness_stop_clean(ha);
}

static int
netns_teardown(void **state)
{
	harness_free(hb_live);
	hb_live = NULL;
	net_down();
	return harness_teardown(state);
}

#undef HARNESS_TEST
#define HARNESS_TEST(f)	cmocka_unit_test_setup_teardown(f, \
			    harness_setup, netns_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		HARNESS_TEST(fifty_lines_each_way_arrive_once_and_in_order),
		HARNESS_TEST(who_on_each_host_names_the_members_of_both),
		HARNESS_TEST(a_nick_taken_on_one_host_is_refused_on_the_other),
		HARNESS_TEST(
		    a_member_joining_on_b_gets_a_line_typed_on_a_in_history),
		HARNESS_TEST(
		    b_losing_its_link_logs_once_each_way_and_a_goes_on),
	};

	return HARNESS_RUN(tests);
}
