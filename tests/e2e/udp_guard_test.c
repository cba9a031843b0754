/*
 * The UDP guards, against the real daemon: everything one datagram causes
 * is counted together against its size plus max_reply_growth, whether a
 * handler replies many times or relays to other addresses (a plugin that
 * tries to amplify, the UDP chat with many peers); and a flood from one
 * source, over its rate, is shed so cheaply that another source is still
 * answered.  Sources other than 127.0.0.1 come from binding 127.0.0.2 and
 * up, which Linux routes on loopback.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

/* Serves the amplifier plugin with the service settings, its victim on
 * another port, and sends it 10 bytes: from fds[0], fds[1] the victim. */
static void
amplify(struct harness *h, const char *settings, int *fds)
{
	int port = harness_port(), vport = harness_port();

	harness_serve(h, "services = ({ name = \"amp\"; port = %d; "
	    "protocol = \"udp\"; handler = \"amplifier\"; "
	    "bind = \"127.0.0.1\"; %soptions = { also_to_port = %d; }; });\n",
	    port, settings, vport);
	assert_int_not_equal(fds[0] = udp_open_from("127.0.0.1", 0, port),
	    -1);
	assert_int_not_equal(fds[1] = udp_open_from("127.0.0.1", vport, 0),
	    -1);
	assert_int_equal(send(fds[0], "0123456789", 10, 0), 10);
}

static void
a_handler_sending_many_copies_sends_at_most_the_request_and_64_bytes(
    void **state)
{
	struct harness *h = *state;
	int fds[2];
	size_t total;

	/* 10 bytes in: 100 copies to the sender and 100 to the victim
	 * would be 2000 bytes out; the budget is 10 + 64. */
	amplify(h, "", fds);
	total = udp_drain(fds, 2, 500, 500, 0, NULL);
	printf("# 10-byte datagram caused %zu bytes out\n", total);
	assert_true(total > 0);
	assert_true(total <= 10 + 64);
	/* The refused sends are counted as dropped. */
	harness_signal(h, SIGUSR1);
	assert_true(harness_log_wait(h, "amp: connections", 2000));
	assert_false(harness_log_has(h, " 0 dropped"));
	clients_close(fds, 2);
	harness_stop_clean(h);
}

static void
a_service_without_growth_limit_sends_every_copy(void **state)
{
	struct harness *h = *state;
	int fds[2];
	size_t total;

	amplify(h, "max_reply_growth = -1; ", fds);
	total = udp_drain(fds, 2, 1000, 1000, 2000, NULL);
	assert_int_equal(total, 2000);
	clients_close(fds, 2);
	harness_stop_clean(h);
}

static void
one_chat_datagram_to_many_peers_costs_at_most_its_size_and_64_bytes(
    void **state)
{
	struct harness *h = *state;
	int port = harness_port(), fds[8], i;
	char src[32];
	size_t total;

	harness_serve(h, "services = ({ name = \"chat\"; port = %d; "
	    "protocol = \"udp\"; bind = \"127.0.0.1\"; });\n", port);
	/* Eight peers on eight addresses join with an empty datagram. */
	for (i = 0; i < 8; i++) {
		snprintf(src, sizeof(src), "127.0.0.%d", i + 2);
		assert_int_not_equal(fds[i] = udp_open_from(src, 0, port), -1);
		assert_int_equal(send(fds[i], "", 0, 0), 0);
	}
	harness_sleep_ms(200);
	assert_int_equal(udp_drain(fds, 8, 100, 100, 0, NULL), 0);
	/* One byte from one of them, relayed to seven. */
	assert_int_equal(send(fds[0], "x", 1, 0), 1);
	total = udp_drain(fds, 8, 500, 500, 0, NULL);
	printf("# 1-byte chat datagram caused %zu bytes out\n", total);
	assert_true(total > 0);
	assert_true(total <= 1 + 64);
	clients_close(fds, 8);
	harness_stop_clean(h);
}

/* Sends "flood" from src to 127.0.0.1:port as fast as one core allows for
 * ms, never reading; returns the child's pid. */
static pid_t
udp_flooder(const char *src, int port, int ms)
{
	pid_t pid, parent = getpid();
	long long end;
	int fd;

	if ((pid = fork()) != 0)
		return pid;
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != parent)
		_exit(1);
	if ((fd = udp_open_from(src, 0, port)) == -1)
		_exit(1);
	(void)fcntl(fd, F_SETFL, 0);
	end = harness_now_ms() + ms;
	while (harness_now_ms() < end) {
		int i;

		for (i = 0; i < 256; i++)
			(void)send(fd, "flood", 5, 0);
	}
	_exit(0);
}

static void
a_udp_flood_from_one_source_leaves_another_answered(void **state)
{
	struct harness *h = *state;
	int port = harness_port(), good, asked = 0, answered = 0, status;
	char buf[64], msg[32];
	const char *line;
	unsigned long long dgrams = 0;
	long long start, end;
	long t0, t1;
	ssize_t n;
	pid_t pid;
	int i;

	if (harness_valgrind())
		skip();		/* a share of a flood says nothing there */
	/* rate 200: the flooder is over it at once, the good client (one
	 * question at a time, at most 100 a second) never. */
	harness_serve(h, "services = ({ name = \"echo\"; port = %d; "
	    "protocol = \"udp\"; bind = \"127.0.0.1\"; rate = 200; });\n",
	    port);
	assert_int_not_equal(good = udp_open_from("127.0.0.7", 0, port), -1);
	t0 = harness_cpu_ticks(h);
	assert_true((pid = udp_flooder("127.0.0.6", port, 2000)) > 0);
	harness_sleep_ms(200);
	/* One question at a time, every 10 ms at most, each given 200 ms,
	 * while the flood lasts; late answers to earlier questions do not
	 * count for the current one. */
	start = harness_now_ms();
	end = start + 1600;
	for (i = 0; harness_now_ms() < end; i++) {
		long long deadline;

		while (harness_now_ms() < start + 10 * i)
			harness_sleep_ms(1);
		n = snprintf(msg, sizeof(msg), "good %d", i);
		if (send(good, msg, (size_t)n, 0) != n)
			continue;
		asked++;
		deadline = harness_now_ms() + harness_ms(200);
		while (harness_now_ms() < deadline) {
			ssize_t r = udp_recv(good, buf, sizeof(buf), 20);

			if (r == n && memcmp(buf, msg, (size_t)n) == 0) {
				answered++;
				break;
			}
		}
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	harness_sleep_ms(200);
	t1 = harness_cpu_ticks(h);
	harness_signal(h, SIGUSR1);
	assert_true(harness_log_wait(h, "echo: connections", 2000));
	line = harness_log_line(h, "echo: connections");
	if (line != NULL && (line = strstr(line, "datagrams ")) != NULL)
		(void)sscanf(line, "datagrams %llu", &dgrams);
	printf("# flood: %d of %d answered (%.0f%%); sockd took %llu "
	    "datagrams, %.0f ns of CPU each\n", answered, asked,
	    asked ? 100.0 * answered / asked : 0.0, dgrams,
	    dgrams ? (double)(t1 - t0) * 1e9 / sysconf(_SC_CLK_TCK) /
	    (double)dgrams : 0.0);
	assert_true(asked >= 5);
	assert_true(answered * 100 >= asked * 80);
	client_close(good);
	harness_stop_clean(h);
}

#define T(f)	HARNESS_TEST(f)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(a_handler_sending_many_copies_sends_at_most_the_request_and_64_bytes),
		T(a_service_without_growth_limit_sends_every_copy),
		T(one_chat_datagram_to_many_peers_costs_at_most_its_size_and_64_bytes),
		T(a_udp_flood_from_one_source_leaves_another_answered),
	};

	return HARNESS_RUN(tests);
}
