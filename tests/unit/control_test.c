/*
 * control: where the control socket is, and the verdict a client reads,
 * on a bare loop with a socket in a temp dir.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <unistd.h>

#include <cmocka.h>
#include <uv.h>

#include "control.h"

static void
the_socket_takes_the_place_of_the_pid_suffix(void **state)
{
	char buf[128];

	(void)state;
	assert_int_equal(control_path("/run/sockd/sockd.pid", buf,
	    sizeof(buf)), 0);
	assert_string_equal(buf, "/run/sockd/sockd.sock");
	assert_int_equal(control_path("/tmp/x", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/tmp/x.sock");
	assert_int_equal(control_path(".pid", buf, sizeof(buf)), 0);
	assert_string_equal(buf, ".pid.sock");
	assert_int_equal(control_path("/a/very/long/name.pid", buf, 10), -1);
}

static int reloads;

static void
on_reload(void *arg)
{
	(void)arg;
	reloads++;
}

/* Connects to path and sends line; the socket. */
static int
client(const char *path, const char *line)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_true(fd != -1);
	assert_int_equal(connect(fd, (struct sockaddr *)&sun, sizeof(sun)),
	    0);
	assert_int_equal(write(fd, line, strlen(line)), (ssize_t)strlen(line));
	return fd;
}

static void
turn(uv_loop_t *loop)
{
	int i;

	for (i = 0; i < 20; i++)
		(void)uv_run(loop, UV_RUN_NOWAIT);
}

static void
a_request_waits_for_the_reload_after_it(void **state)
{
	char dir[] = "/tmp/sockd-control.XXXXXX", pid[PATH_MAX];
	char sock[PATH_MAX], err[256], buf[256];
	struct control *ctl;
	uv_loop_t loop;
	int a, b;
	ssize_t n;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(pid, sizeof(pid), "%s/sockd.pid", dir);
	snprintf(sock, sizeof(sock), "%s/sockd.sock", dir);
	assert_int_equal(uv_loop_init(&loop), 0);
	ctl = control_open(&loop, pid, getuid(), getgid(), on_reload, NULL,
	    err, sizeof(err));
	assert_non_null(ctl);
	a = client(sock, "reload\n");
	turn(&loop);
	assert_int_equal(reloads, 1);
	/* Running: a is its request.  b comes during it. */
	control_reload_started(ctl);
	b = client(sock, "reload\n");
	turn(&loop);
	assert_int_equal(reloads, 2);
	control_reload_done(ctl, 0, "port in use");
	turn(&loop);
	n = read(a, buf, sizeof(buf) - 1);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_string_equal(buf, "failed: port in use\n");
	assert_int_equal(read(b, buf, sizeof(buf)), -1);	/* waits */
	control_reload_started(ctl);
	control_reload_done(ctl, 1, "serving 2 services");
	turn(&loop);
	n = read(b, buf, sizeof(buf) - 1);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_string_equal(buf, "ok: serving 2 services\n");
	close(a);
	close(b);
	control_close(ctl);
	(void)uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
	assert_int_equal(access(sock, F_OK), -1);
	assert_int_equal(access(pid, F_OK), -1);
	assert_int_equal(rmdir(dir), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_socket_takes_the_place_of_the_pid_suffix),
		cmocka_unit_test(a_request_waits_for_the_reload_after_it),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
