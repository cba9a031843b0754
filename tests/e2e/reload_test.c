/*
 * Reloads, privileges and plugins: sockets a reload binds after the
 * privilege drop cannot be shared by other processes of that user.
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
	int port = harness_port(), nport = harness_port(), i, fd;
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
		assert_int_not_equal(fd = tcp_open("127.0.0.1", nport), -1);
		assert_int_equal(tcp_sends(fd, "abc\n"), 0);
		assert_int_equal(tcp_recv_n(fd, buf, 4, 5000), 4);
		assert_memory_equal(buf, "ABC\n", 4);
		client_close(fd);
		assert_int_equal(udp_ask("127.0.0.1", nport, "x", 1, buf,
		    sizeof(buf), 5000), 1);
		assert_memory_equal(buf, "X", 1);
	}
	harness_stop_clean(h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f)	cmocka_unit_test_setup_teardown(f, harness_setup, \
	    harness_teardown)
		T(a_reload_binds_sockets_no_process_of_the_user_can_join),
#undef T
	};

	harness_filter();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
