/*
 * Drop-in service files (daemon.include_dir), against the real daemon:
 * "sockd -t" checks the main file and every drop-in together, each error
 * with its own file and line; a service from a drop-in answers; a reload
 * picks up a drop-in added, changed or removed, and a service of a
 * drop-in that did not change keeps its open connection.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/stat.h>

#include <dirent.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

/* The drop-in directory, "d" beside sockd.conf. */
static const char *
dropin_dir(struct harness *h)
{
	static char dir[PATH_MAX];

	snprintf(dir, sizeof(dir), "%s/d", harness_dir(h));
	return dir;
}

/* The harness removes only the files of its dir: the drop-ins first. */
static int
dropin_teardown(void **state)
{
	struct harness *h = *state;
	char path[PATH_MAX + 256];
	struct dirent *e;
	DIR *d;

	if (h != NULL && (d = opendir(dropin_dir(h))) != NULL) {
		while ((e = readdir(d)) != NULL) {
			snprintf(path, sizeof(path), "%s/%s", dropin_dir(h),
			    e->d_name);
			if (e->d_name[0] != '.')
				(void)unlink(path);
		}
		closedir(d);
		(void)rmdir(dropin_dir(h));
	}
	return harness_teardown(state);
}

/* Writes sockd.conf with include_dir = "d" (made here) and then body. */
static void
dropin_main(struct harness *h, const char *body)
{
	(void)mkdir(dropin_dir(h), 0755);
	assert_non_null(harness_write(h, "sockd.conf", "daemon: { log = "
	    "\"stderr\"; log_level = \"debug\"; handler_dir = \"%s\"; "
	    "include_dir = \"d\"; drain_timeout = 3;%s };\n"
	    "defaults: { bind = [\"127.0.0.1\", \"::1\"]; };\n%s",
	    harness_plugins(), harness_user(), body));
}

/* Writes d/name: one service on port, served by handler. */
static void
dropin_write(struct harness *h, const char *name, const char *svc,
    const char *handler, int port)
{
	char rel[300];

	snprintf(rel, sizeof(rel), "d/%s", name);
	assert_non_null(harness_write(h, rel, "# %s\nservices = (\n"
	    "  { name = \"%s\"; handler = \"%s\"; port = %d; }\n);\n", name,
	    svc, handler, port));
}

static void
dropin_remove(struct harness *h, const char *name)
{
	char path[PATH_MAX + 300];

	snprintf(path, sizeof(path), "%s/%s", dropin_dir(h), name);
	assert_int_equal(unlink(path), 0);
}

/* SIGHUP; fails the test unless the reload worked. */
static void
reload_ok(struct harness *h)
{
	const char *msg;

	assert_int_equal(harness_signal(h, SIGHUP), 0);
	assert_non_null(harness_notify(h, "RELOADING=1", harness_ms(10000)));
	msg = harness_notify(h, "READY=1", harness_ms(30000));
	assert_non_null(msg);
	if (strstr(msg, "failed") != NULL)
		fail_msg("%s", msg);
}

/* 1 when connections to 127.0.0.1:port are refused within 5 s. */
static int
refused_soon(int port)
{
	long long deadline = harness_now_ms() + harness_ms(5000);
	int fd;

	do {
		if ((fd = tcp_open("127.0.0.1", port)) == -1)
			return 1;
		client_close(fd);
		harness_sleep_ms(20);
	} while (harness_now_ms() < deadline);
	return 0;
}

static void
check_covers_the_main_file_and_every_drop_in(void **state)
{
	struct harness *h = *state;
	int p1 = harness_port(), p2 = harness_port();
	char want[PATH_MAX + 200];

	dropin_main(h, "services = (\n  { name = \"echo\"; port = 1; } );\n");
	dropin_write(h, "a.conf", "upper", "upper", p1);
	assert_non_null(harness_write(h, "d/b.conf", "services = (\n"
	    "  { name = \"bad\"; handler = \"echo\"; port = 70000; },\n"
	    "  { name = \"echo\"; port = %d; } );\n", p2));
	assert_non_null(harness_write(h, "d/b.conf.dpkg-old", "junk"));
	assert_int_equal(harness_check(h, NULL), 1);
	snprintf(want, sizeof(want), "%s/b.conf:2: \"port\": 70000 is out of "
	    "range", dropin_dir(h));
	assert_non_null(strstr(harness_stderr(h), want));
	snprintf(want, sizeof(want), "%s/b.conf:3: service \"echo\" is "
	    "already defined at %s:4", dropin_dir(h), harness_conf(h));
	assert_non_null(strstr(harness_stderr(h), want));
	/* A handler that is none is found in a drop-in too. */
	dropin_write(h, "b.conf", "nosuch", "nosuch", p2);
	assert_int_equal(harness_check(h, NULL), 1);
	snprintf(want, sizeof(want), "%s/b.conf:3: service \"nosuch\": "
	    "unknown handler", dropin_dir(h));
	assert_non_null(strstr(harness_stderr(h), want));
	dropin_write(h, "b.conf", "rot13", "rot13", p2);
	assert_int_equal(harness_check(h, NULL), 0);
	assert_string_equal(harness_stdout(h), "configuration OK\n");
	harness_pass(h);
}

static void
a_service_in_a_drop_in_answers(void **state)
{
	struct harness *h = *state;
	int p1 = harness_port(), p2 = harness_port();
	char body[200];

	snprintf(body, sizeof(body), "services = ( { name = \"echo\"; "
	    "port = %d; } );\n", p1);
	dropin_main(h, body);
	dropin_write(h, "50-upper.conf", "upper", "upper", p2);
	assert_int_equal(harness_start(h, NULL), 0);
	assert_tcp_reply("127.0.0.1", p1, "abc\n", "abc\n", harness_ms(5000));
	assert_tcp_reply("127.0.0.1", p2, "abc\n", "ABC\n", harness_ms(5000));
	assert_tcp_reply("::1", p2, "def\n", "DEF\n", harness_ms(5000));
	harness_stop_clean(h);
}

static void
a_reload_picks_up_added_changed_and_removed_drop_ins(void **state)
{
	struct harness *h = *state;
	int p1 = harness_port(), p2 = harness_port();

	dropin_main(h, "");
	dropin_write(h, "a.conf", "one", "echo", p1);
	assert_int_equal(harness_start(h, NULL), 0);
	assert_tcp_reply("127.0.0.1", p1, "abc\n", "abc\n", harness_ms(5000));
	assert_int_equal(tcp_open("127.0.0.1", p2), -1);
	/* Added. */
	dropin_write(h, "b.conf", "two", "upper", p2);
	reload_ok(h);
	assert_tcp_reply("127.0.0.1", p2, "abc\n", "ABC\n", harness_ms(5000));
	/* Changed: the same name and port, another handler. */
	dropin_write(h, "a.conf", "one", "upper", p1);
	reload_ok(h);
	assert_tcp_reply("127.0.0.1", p1, "abc\n", "ABC\n", harness_ms(5000));
	/* A broken one is refused, and the rest keeps serving. */
	assert_non_null(harness_write(h, "d/c.conf", "services = ( { name "
	    "= \"three\"; port = = 1; } );\n"));
	assert_int_equal(harness_signal(h, SIGHUP), 0);
	assert_true(harness_log_wait(h, "c.conf:1: syntax error",
	    harness_ms(30000)));
	assert_non_null(harness_notify(h, "reload failed", harness_ms(30000)));
	dropin_remove(h, "c.conf");
	assert_tcp_reply("127.0.0.1", p2, "abc\n", "ABC\n", harness_ms(5000));
	/* Removed. */
	dropin_remove(h, "b.conf");
	reload_ok(h);
	assert_true(refused_soon(p2));
	assert_tcp_reply("127.0.0.1", p1, "abc\n", "ABC\n", harness_ms(5000));
	harness_stop_clean(h);
}

static void
an_unchanged_drop_in_service_keeps_its_connection_across_a_reload(
    void **state)
{
	struct harness *h = *state;
	int p1 = harness_port(), p2 = harness_port(), fd, listening;

	dropin_main(h, "");
	dropin_write(h, "a.conf", "one", "echo", p1);
	assert_int_equal(harness_start(h, NULL), 0);
	fd = tcp_open("127.0.0.1", p1);
	assert_true(echo_ok(fd, "before\n"));
	listening = harness_log_count(h, "one: listening on");
	assert_true(listening >= 2);
	/* Touched, not changed: the file is read again, the service kept. */
	dropin_write(h, "a.conf", "one", "echo", p1);
	dropin_write(h, "b.conf", "two", "upper", p2);
	reload_ok(h);
	assert_true(harness_log_has(h, "reload done: 2 services"));
	assert_true(echo_ok(fd, "after\n"));
	assert_tcp_reply("127.0.0.1", p2, "abc\n", "ABC\n", harness_ms(5000));
	/* Its sockets and its state stayed: nothing of it was redone. */
	assert_int_equal(harness_log_count(h, "one: listening on"), listening);
	assert_false(harness_log_has(h, "one: closing"));
	assert_false(harness_log_has(h, "one: reconfigured"));
	assert_true(echo_ok(fd, "still\n"));
	client_close(fd);
	harness_stop_clean(h);
}

#define T(f)	cmocka_unit_test_setup_teardown(f, harness_setup, \
		    dropin_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(check_covers_the_main_file_and_every_drop_in),
		T(a_service_in_a_drop_in_answers),
		T(a_reload_picks_up_added_changed_and_removed_drop_ins),
		T(an_unchanged_drop_in_service_keeps_its_connection_across_a_reload),
	};
	return HARNESS_RUN(tests);
}
