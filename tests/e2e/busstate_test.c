/*
 * A chat room's state in Redis, across two sockd hosts and a real
 * redis-server on a loopback port, started by the test and killed and
 * reaped with it: a nick is unique across hosts, guest names too; the
 * history a joining user gets has the lines of the other host, also those
 * typed before this host started; the members of a SIGKILLed host leave
 * /who within the room's ttl; Redis stopped and started again costs one
 * log line each way, the room goes on locally meanwhile and the nicks are
 * claimed again when it is back (a clash then renames one of the two to a
 * guest name, with a notice); and a Redis that stops answering (SIGSTOP)
 * neither grows sockd's memory with what is typed nor stalls other
 * services, and members who leave before its answers come are not
 * touched when they do.  Tests skip when redis-server is not installed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/types.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

/* Starts sockd on h with the chat room "lobby" (and opts) on port, echo on
 * eport when set, the bus on the redis at rport, and waits for the bus. */
static void
host_start(struct harness *h, int port, int rport, const char *opts,
    int eport)
{
	char	 echo[128] = "";

	if (eport > 0)
		snprintf(echo, sizeof(echo), ", { name = \"echo\"; port = %d; "
		    "bind = \"127.0.0.1\"; }", eport);
	harness_write(h, "sockd.conf", "daemon: { log = \"stderr\"; "
	    "log_level = \"info\"; handler_dir = \"%s\"; drain_timeout = 1;"
	    "%s bus = \"redis://127.0.0.1:%d\"; };\n"
	    "services = ({ name = \"chat\"; port = %d; bind = \"127.0.0.1\"; "
	    "options = { room = \"lobby\"; %s }; }%s);\n", harness_plugins(),
	    harness_user(), rport, port, opts, echo);
	assert_int_equal(harness_start(h, NULL), 0);
	assert_true(harness_log_wait(h, ": connected", harness_ms(10000)));
	harness_sleep_ms(300);
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

static void
a_nick_taken_on_one_host_is_refused_on_the_other(void **state)
{
	struct harness	*ha = *state, *hb = harness_new();
	int		 rport = redis_server_start_or_skip();
	int		 pa = harness_port(), pb = harness_port(), a, b;
	char		 nick[CHAT_NICK], line[512];

	host_start(ha, pa, rport, "", 0);
	host_start(hb, pb, rport, "", 0);
	a = chat_join(pa, nick, sizeof(nick));
	b = chat_join(pb, nick, sizeof(nick));
	assert_true(a >= 0 && b >= 0);
	assert_int_equal(tcp_sends(a, "/nick alice\r\n"), 0);
	assert_true(tcp_expect(b, "is now known as alice", 5000));
	/* The same reply as a clash on one host, whatever the case. */
	assert_int_equal(tcp_sends(b, "/nick alice\r\n"), 0);
	assert_true(line_within(b, "* alice is already taken.", line,
	    sizeof(line), 5000));
	assert_int_equal(tcp_sends(b, "/nick ALICE\r\n"), 0);
	assert_true(line_within(b, "* ALICE is already taken.", line,
	    sizeof(line), 5000));
	assert_int_equal(tcp_sends(b, "/nick bob\r\n"), 0);
	assert_true(tcp_expect(b, "is now known as bob", 5000));
	/* A nick given up is free again at once, on every host. */
	assert_int_equal(tcp_sends(a, "/nick carol\r\n"), 0);
	assert_true(tcp_expect(b, "alice is now known as carol", 5000));
	harness_sleep_ms(200);
	assert_int_equal(tcp_sends(b, "/nick alice\r\n"), 0);
	assert_true(tcp_expect(a, "bob is now known as alice", 5000));
	clients_close((int[]){ a, b }, 2);
	harness_stop_clean(hb);
	harness_free(hb);
	harness_stop_clean(ha);
	redis_server_stop();
}

static void
guest_names_are_unique_across_hosts(void **state)
{
	struct harness	*ha = *state, *hb = harness_new();
	int		 rport = redis_server_start_or_skip();
	int		 pa = harness_port(), pb = harness_port(), i, j;
	int		 c[40];
	char		 nick[40][CHAT_NICK];

	host_start(ha, pa, rport, "", 0);
	host_start(hb, pb, rport, "", 0);
	for (i = 0; i < 20; i++) {
		c[2 * i] = chat_join(pa, nick[2 * i], CHAT_NICK);
		c[2 * i + 1] = chat_join(pb, nick[2 * i + 1], CHAT_NICK);
		assert_true(c[2 * i] >= 0 && c[2 * i + 1] >= 0);
	}
	for (i = 0; i < 40; i++) {
		assert_int_equal(strncmp(nick[i], "guest", 5), 0);
		for (j = 0; j < i; j++)
			if (strcmp(nick[i], nick[j]) == 0)
				fail_msg("%s twice", nick[i]);
	}
	clients_close(c, 40);
	harness_stop_clean(hb);
	harness_free(hb);
	harness_stop_clean(ha);
	redis_server_stop();
}

static void
history_has_lines_typed_before_this_host_started(void **state)
{
	struct harness	*ha = *state, *hb = harness_new();
	int		 rport = redis_server_start_or_skip();
	int		 pa = harness_port(), pb = harness_port(), a, b, a2;
	char		 nick[CHAT_NICK];

	host_start(ha, pa, rport, "history = 5;", 0);
	a = chat_join(pa, nick, sizeof(nick));
	assert_true(a >= 0);
	assert_int_equal(tcp_sends(a, "/nick alice\r\nline 0\r\nline 1\r\n"
	    "/me waves\r\n"), 0);
	harness_sleep_ms(500);
	/* B starts later: its history comes from Redis. */
	host_start(hb, pb, rport, "history = 5;", 0);
	b = chat_join(pb, nick, sizeof(nick));
	assert_true(b >= 0);
	client_close(b);
	assert_true((b = tcp_open("127.0.0.1", pb)) >= 0);
	assert_true(tcp_expect(b, "<alice> line 0", 5000));
	assert_true(tcp_expect(b, "<alice> line 1", 5000));
	assert_true(tcp_expect(b, "* alice waves", 5000));
	assert_int_equal(tcp_sends(b, "/nick bob\r\nfrom b\r\n"), 0);
	assert_true(tcp_expect(a, "<bob> from b", 5000));
	/* And a newcomer on A has B's line, in order. */
	assert_true((a2 = tcp_open("127.0.0.1", pa)) >= 0);
	assert_true(tcp_expect(a2, "<alice> line 1", 5000));
	assert_true(tcp_expect(a2, "<bob> from b", 5000));
	clients_close((int[]){ a, b, a2 }, 3);
	harness_stop_clean(hb);
	harness_free(hb);
	harness_stop_clean(ha);
	redis_server_stop();
}

static void
a_killed_hosts_members_leave_who_within_the_ttl(void **state)
{
	struct harness	*ha = *state, *hb = harness_new();
	int		 rport = redis_server_start_or_skip();
	int		 pa = harness_port(), pb = harness_port(), a, b;
	int		 gone;
	char		 nick[CHAT_NICK], line[512];
	long long	 t0, ms;

	host_start(ha, pa, rport, "ttl = 3;", 0);
	host_start(hb, pb, rport, "ttl = 3;", 0);
	a = chat_join(pa, nick, sizeof(nick));
	b = chat_join(pb, nick, sizeof(nick));
	assert_true(a >= 0 && b >= 0);
	assert_int_equal(tcp_sends(a, "/nick alice\r\n"), 0);
	assert_int_equal(tcp_sends(b, "/nick bob\r\n"), 0);
	tcp_skip_lines(b, 500);
	assert_int_equal(tcp_sends(b, "/who\r\n"), 0);
	assert_true(line_within(b, "* Present: bob", line, sizeof(line),
	    5000));
	assert_true(line_within(b, "* On another host: alice", line,
	    sizeof(line), 5000));

	assert_int_equal(harness_signal(ha, SIGKILL), 0);
	assert_int_equal(harness_wait_exit(ha, 5000), 128 + SIGKILL);
	harness_pass(ha);
	t0 = harness_now_ms();
	for (gone = 0; !gone && harness_now_ms() - t0 < 10000; ) {
		tcp_skip_lines(b, 0);
		assert_int_equal(tcp_sends(b, "/who\r\n"), 0);
		assert_true(line_within(b, "* Present: bob", line,
		    sizeof(line), 5000));
		gone = !line_within(b, "On another host", line,
		    sizeof(line), 300);
	}
	ms = harness_now_ms() - t0;
	fprintf(stderr, "a killed host's member left /who after %lld ms "
	    "(ttl 3 s)\n", ms);
	assert_true(gone);
	/* Within the ttl; one /who round and a refresh's tick of slack. */
	assert_true(ms <= 3000 + 1500);
	/* And its nick is free within the ttl too. */
	assert_int_equal(tcp_sends(b, "/nick alice\r\n"), 0);
	assert_true(tcp_expect(b, "bob is now known as alice", 5000));
	client_close(b);
	harness_stop_clean(hb);
	harness_free(hb);
	redis_server_stop();
}

static void
nicks_are_claimed_again_when_redis_returns(void **state)
{
	struct harness	*ha = *state, *hb = harness_new();
	int		 rport = redis_server_start_or_skip();
	int		 pa = harness_port(), pb = harness_port(), a, a2, b;
	int		 na, nb;
	char		 nick[CHAT_NICK], line[512];
	const char	*get[2] = { "GET", "sockd:chat:lobby:nick:carol" };

	host_start(ha, pa, rport, "", 0);
	host_start(hb, pb, rport, "", 0);
	a = chat_join(pa, nick, sizeof(nick));
	a2 = chat_join(pa, nick, sizeof(nick));
	b = chat_join(pb, nick, sizeof(nick));
	assert_true(a >= 0 && a2 >= 0 && b >= 0);
	assert_int_equal(tcp_sends(a, "/nick alice\r\n"), 0);
	assert_true(tcp_expect(b, "is now known as alice", 5000));

	redis_server_stop();
	assert_true(harness_log_wait(ha, ": lost: ", harness_ms(8000)));
	assert_true(harness_log_wait(hb, ": lost: ", harness_ms(8000)));
	/* Locally the room goes on; nicks are checked here alone. */
	assert_int_equal(tcp_sends(a, "alone\r\n"), 0);
	assert_true(tcp_expect(a2, "<alice> alone", 5000));
	assert_int_equal(tcp_sends(a2, "/nick alice\r\n"), 0);
	assert_true(line_within(a2, "* alice is already taken.", line,
	    sizeof(line), 5000));
	assert_int_equal(tcp_sends(b, "/nick alice\r\n"), 0);
	assert_true(tcp_expect(b, "is now known as alice", 5000));
	assert_int_equal(tcp_sends(a2, "/nick carol\r\n"), 0);
	assert_true(tcp_expect(a2, "is now known as carol", 5000));
	tcp_skip_lines(a, 300);

	/* Back: the two alices meet in Redis; one gives way. */
	assert_int_equal(redis_server_start(rport), 0);
	assert_true(harness_log_wait(ha, "connected again",
	    harness_ms(15000)));
	assert_true(harness_log_wait(hb, "connected again",
	    harness_ms(15000)));
	na = line_within(a, "alice is taken on another host; you are now "
	    "guest", line, sizeof(line), 2000);
	nb = line_within(b, "alice is taken on another host; you are now "
	    "guest", line, sizeof(line), 2000);
	assert_int_equal(na + nb, 1);
	/* The other nicks were claimed again. */
	assert_int_equal(redis_server_cmd(rport, line, sizeof(line), 2, get),
	    0);
	assert_int_not_equal(line[0], '$');
	assert_true(strlen(line) > 16);
	assert_int_equal(harness_log_count(ha, ": lost: "), 1);
	assert_int_equal(harness_log_count(ha, "connected again"), 1);
	assert_int_equal(harness_log_count(hb, ": lost: "), 1);
	assert_int_equal(harness_log_count(hb, "connected again"), 1);
	/* And carol is now taken across hosts again. */
	assert_int_equal(tcp_sends(b, "/nick carol\r\n"), 0);
	assert_true(line_within(b, "* carol is already taken.", line,
	    sizeof(line), 5000));
	clients_close((int[]){ a, a2, b }, 3);
	harness_stop_clean(hb);
	harness_free(hb);
	harness_stop_clean(ha);
	redis_server_stop();
}

static void
a_stopped_redis_grows_no_memory_and_stalls_nothing(void **state)
{
	struct harness	*h = *state;
	int		 rport = redis_server_start_or_skip();
	int		 port = harness_port(), eport = harness_port();
	int		 a, b, i, e;
	char		 nick[CHAT_NICK], line[512], msg[600];
	long		 rss0, rss1;
	long long	 t, worst = 0;

	host_start(h, port, rport, "history = 100;", eport);
	a = chat_join(port, nick, sizeof(nick));
	b = chat_join(port, nick, sizeof(nick));
	assert_true(a >= 0 && b >= 0);
	memset(msg, 'x', sizeof(msg));
	memcpy(msg + sizeof(msg) - 3, "\r\n", 3);
	rss0 = harness_rss_kb(h);
	assert_int_equal(kill(redis_server_pid(), SIGSTOP), 0);
	/* 16 MB typed while Redis does not answer: far more than the
	 * bus's queue. */
	for (i = 0; i < 28000; i++) {
		assert_int_equal(tcp_sends(a, msg), 0);
		if (i % 500 == 0) {
			tcp_skip_lines(b, 0);
			t = harness_now_ms();
			assert_true(echo_ok(e = tcp_open("127.0.0.1", eport),
			    "still here\n"));
			client_close(e);
			if (harness_now_ms() - t > worst)
				worst = harness_now_ms() - t;
		}
	}
	tcp_skip_lines(b, 500);
	rss1 = harness_rss_kb(h);
	fprintf(stderr, "Redis stopped: rss %ld kB -> %ld kB, slowest echo "
	    "%lld ms\n", rss0, rss1, worst);
	/* ASan and valgrind keep freed memory: no meaning there. */
	if (!harness_asan() && !harness_valgrind())
		assert_true(rss1 - rss0 < 12 * 1024);
	assert_true(worst < 1000);
	assert_int_equal(kill(redis_server_pid(), SIGCONT), 0);
	/* The room is still one. */
	assert_int_equal(tcp_sends(a, "after\r\n"), 0);
	assert_true(line_within(b, "> after", line, sizeof(line), 5000));
	clients_close((int[]){ a, b }, 2);
	harness_stop_clean(h);
	redis_server_stop();
}

static void
members_who_leave_before_redis_answers_are_never_touched(void **state)
{
	struct harness	*h = *state;
	int		 rport = redis_server_start_or_skip();
	int		 port = harness_port(), c[20], a, i;
	char		 nick[CHAT_NICK], msg[64], line[512];

	host_start(h, port, rport, "", 0);
	a = chat_join(port, nick, sizeof(nick));
	assert_true(a >= 0);
	/* Redis holds every answer while the members ask and leave. */
	assert_int_equal(kill(redis_server_pid(), SIGSTOP), 0);
	for (i = 0; i < 20; i++) {
		c[i] = chat_join(port, nick, sizeof(nick));
		assert_true(c[i] >= 0);
		snprintf(msg, sizeof(msg), "/nick left%d\r\nsaid\r\n/who\r\n",
		    i);
		assert_int_equal(tcp_sends(c[i], msg), 0);
	}
	harness_sleep_ms(300);
	clients_close(c, 20);
	harness_sleep_ms(1000);
	assert_int_equal(kill(redis_server_pid(), SIGCONT), 0);
	harness_sleep_ms(1000);
	/* The answers came for members long gone: the room is fine, and
	 * their nicks are free. */
	assert_int_equal(tcp_sends(a, "/nick left3\r\n"), 0);
	assert_true(line_within(a, "is now known as left3", line,
	    sizeof(line), 5000));
	client_close(a);
	harness_stop_clean(h);
	redis_server_stop();
}

static int
busstate_teardown(void **state)
{
	redis_server_stop();
	return harness_teardown(state);
}

#undef HARNESS_TEST
#define HARNESS_TEST(f)	cmocka_unit_test_setup_teardown(f, \
			    harness_setup, busstate_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		HARNESS_TEST(a_nick_taken_on_one_host_is_refused_on_the_other),
		HARNESS_TEST(guest_names_are_unique_across_hosts),
		HARNESS_TEST(history_has_lines_typed_before_this_host_started),
		HARNESS_TEST(a_killed_hosts_members_leave_who_within_the_ttl),
		HARNESS_TEST(nicks_are_claimed_again_when_redis_returns),
		HARNESS_TEST(
		    a_stopped_redis_grows_no_memory_and_stalls_nothing),
		HARNESS_TEST(
		    members_who_leave_before_redis_answers_are_never_touched),
	};

	return HARNESS_RUN(tests);
}
