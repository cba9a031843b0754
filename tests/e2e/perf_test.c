/*
 * What the daemon's cost depends on, against the real daemon.  UDP
 * replies: the datagrams a wake-up finds are read 20 to a recvmmsg, and
 * the replies of each such batch leave in one sendmmsg; a burst longer
 * than what libuv reads in one loop turn is answered whole.  The bursts
 * queue while sockd is stopped (SIGSTOP), so that it finds them all at
 * once; send calls are counted with strace on the running daemon.
 * allow/deny still hold on the datagram path, which skips them only when
 * a service has no lists.  A reload's configuration check runs niced, so
 * that it does not take the serving loop's core (a plugin whose
 * configure() hangs keeps it alive long enough to look at).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/resource.h>

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define NSRC	4

static const char *const srcs[NSRC] = {
	"127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4",
};

static void
clients_open(int port, int *fds)
{
	int i;

	for (i = 0; i < NSRC; i++)
		assert_int_not_equal(fds[i] = udp_open_from(srcs[i], 0, port),
		    -1);
}

/* Sends per datagrams from each client, "s<i>n<j>", interleaved. */
static void
burst_send(const int *fds, int per)
{
	char msg[32];
	int i, j;

	for (j = 0; j < per; j++)
		for (i = 0; i < NSRC; i++) {
			snprintf(msg, sizeof(msg), "s%dn%d", i, j);
			assert_int_equal(udp_send(fds[i], msg, strlen(msg)),
			    0);
		}
}

/* Fails the test unless each client gets its per echoes, in order. */
static void
burst_expect(const int *fds, int per)
{
	char want[32], buf[64];
	ssize_t n;
	int i, j;

	for (i = 0; i < NSRC; i++)
		for (j = 0; j < per; j++) {
			snprintf(want, sizeof(want), "s%dn%d", i, j);
			n = udp_recv(fds[i], buf, sizeof(buf) - 1,
			    harness_ms(5000));
			assert_true(n > 0);
			buf[n] = '\0';
			assert_string_equal(buf, want);
		}
}

static void
echo_serve(struct harness *h, int port)
{
	harness_serve_quiet(h, 0, "services = ({ name = \"echo\"; port = %d; "
	    "protocol = \"udp\"; bind = \"127.0.0.1\"; rate = 0; });\n",
	    port);
}

static void
a_burst_longer_than_one_loop_turn_is_answered_whole(void **state)
{
	struct harness *h = *state;
	int port = harness_port(), fds[NSRC];

	/* 400 datagrams: libuv reads 32 or so per turn; the replies of
	 * each batch go out with it, not with a later datagram. */
	echo_serve(h, port);
	clients_open(port, fds);
	assert_int_equal(harness_signal(h, SIGSTOP), 0);
	burst_send(fds, 100);
	assert_int_equal(harness_signal(h, SIGCONT), 0);
	burst_expect(fds, 100);
	/* And the last of a burst cut at an odd place. */
	assert_int_equal(harness_signal(h, SIGSTOP), 0);
	burst_send(fds, 9);
	assert_int_equal(harness_signal(h, SIGCONT), 0);
	burst_expect(fds, 9);
	clients_close(fds, NSRC);
	harness_stop_clean(h);
}

static void
the_replies_of_a_batch_of_20_datagrams_take_one_send_call(void **state)
{
	struct harness *h = *state;
	int port = harness_port(), fds[NSRC];
	long calls;
	pid_t st;

	strace_or_skip();
	echo_serve(h, port);
	clients_open(port, fds);
	st = strace_sends_start(h);
	/* 64 datagrams found at once. */
	assert_int_equal(harness_signal(h, SIGSTOP), 0);
	burst_send(fds, 16);
	assert_int_equal(harness_signal(h, SIGCONT), 0);
	burst_expect(fds, 16);
	calls = strace_sends_stop(h, st);
	printf("# 64 replies took %ld send calls\n", calls);
	if (calls <= 0) {
		printf("# strace could not attach: skipped\n");
		clients_close(fds, NSRC);
		harness_stop_clean(h);
		skip();
	}
	/* Four batches (20, 20, 20, 4), and libuv's probe of sendmmsg;
	 * recvmmsg batches of 8 took 9. */
	assert_true(calls <= 5);
	clients_close(fds, NSRC);
	harness_stop_clean(h);
}

static void
udp_lists_still_hold_without_the_acl_call_per_datagram(void **state)
{
	struct harness *h = *state;
	int deny = harness_port(), none = harness_port(), open = harness_port();
	int fd;
	char buf[64];

	/* The datagram path skips allow/deny only when there are no
	 * lists: a deny list, and an empty allow list, still refuse. */
	harness_serve_quiet(h, 0, "services = ("
	    "{ name = \"echo\"; port = %d; protocol = \"udp\"; "
	    "bind = \"127.0.0.1\"; deny = [\"127.0.0.2\"]; },"
	    "{ name = \"echo2\"; handler = \"echo\"; port = %d; "
	    "protocol = \"udp\"; bind = \"127.0.0.1\"; allow = []; },"
	    "{ name = \"echo3\"; handler = \"echo\"; port = %d; "
	    "protocol = \"udp\"; bind = \"127.0.0.1\"; });\n",
	    deny, none, open);
	assert_int_equal(udp_ask_str("127.0.0.1", open, "a", 1, buf,
	    sizeof(buf), harness_ms(3000)), 1);
	assert_int_equal(udp_ask_str("127.0.0.1", deny, "b", 1, buf,
	    sizeof(buf), harness_ms(3000)), 1);
	assert_int_not_equal(fd = udp_open_from("127.0.0.2", 0, deny), -1);
	assert_int_equal(udp_send(fd, "c", 1), 0);
	assert_int_equal(udp_recv(fd, buf, sizeof(buf), 300), -1);
	client_close(fd);
	assert_int_equal(udp_ask_str("127.0.0.1", none, "d", 1, buf,
	    sizeof(buf), 300), -1);
	harness_stop_clean(h);
}

/* A child of pid other than its spawner process, or 0. */
static pid_t
child_of(pid_t pid)
{
	char path[300], line[256];
	struct dirent *de;
	DIR *d;
	FILE *fp;
	pid_t found = 0;
	int ppid, spawner;

	if ((d = opendir("/proc")) == NULL)
		return 0;
	while (found == 0 && (de = readdir(d)) != NULL) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/status", de->d_name);
		if ((fp = fopen(path, "r")) == NULL)
			continue;
		spawner = 0;
		while (fgets(line, sizeof(line), fp) != NULL) {
			if (strncmp(line, "Name:", 5) == 0)
				spawner = strstr(line, "sockd-spawner") != NULL;
			if (sscanf(line, "PPid: %d", &ppid) == 1) {
				if (ppid == pid && !spawner)
					found = (pid_t)atoi(de->d_name);
				break;
			}
		}
		fclose(fp);
	}
	closedir(d);
	return found;
}

static void
a_reload_check_runs_ten_nice_levels_below_the_daemon(void **state)
{
	struct harness *h = *state;
	long long deadline;
	pid_t child = 0;
	int daemon_nice, check_nice = 0, want, err;

	harness_drain_timeout(1);
	harness_serve(h, "services = ({ name = \"echo\"; port = %d; "
	    "bind = \"127.0.0.1\"; });\n", harness_port());
	harness_config(h, "services = ({ name = \"hang\"; port = %d; "
	    "bind = \"127.0.0.1\"; handler = \"hangconf\"; });\n",
	    harness_port());
	harness_signal(h, SIGHUP);
	deadline = harness_now_ms() + harness_ms(10000);
	while ((child = child_of(harness_pid(h))) == 0 &&
	    harness_now_ms() < deadline)
		usleep(20000);
	assert_int_not_equal(child, 0);
	errno = 0;
	daemon_nice = getpriority(PRIO_PROCESS, (id_t)harness_pid(h));
	want = daemon_nice + 10 > 19 ? 19 : daemon_nice + 10;
	/* The daemon sets it once the spawn returns: a moment after the
	 * child shows in /proc. */
	deadline = harness_now_ms() + harness_ms(2000);
	while ((err = errno) == 0 && (check_nice = getpriority(PRIO_PROCESS,
	    (id_t)child)) != want && harness_now_ms() < deadline)
		usleep(10000);
	if (err == 0)
		err = errno;
	/* Stopping cancels the hanging check: nothing is left running,
	 * whatever the figures. */
	harness_signal(h, SIGTERM);
	assert_int_equal(harness_wait_exit(h, harness_ms(5000)), 0);
	assert_int_equal(err, 0);
	printf("# daemon nice %d, check nice %d\n", daemon_nice, check_nice);
	assert_int_equal(check_nice, want);
	harness_pass(h);
}

#define T(f)	HARNESS_TEST(f)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(a_burst_longer_than_one_loop_turn_is_answered_whole),
		T(the_replies_of_a_batch_of_20_datagrams_take_one_send_call),
		T(udp_lists_still_hold_without_the_acl_call_per_datagram),
		T(a_reload_check_runs_ten_nice_levels_below_the_daemon),
	};
	return HARNESS_RUN(tests);
}
