/*
 * inetd.conf and xinetd configuration, against the real daemon: "sockd
 * -I" on each fixture of tests/import (Debian's shipped files and
 * update-inetd's lines) prints a sockd.conf that "sockd -t" accepts, and
 * an error with its file and line and nothing on stdout for broken
 * input; daemon.inetd_conf serves an inetd.conf's services, follows it
 * on reload, refuses a reload with a broken line naming it, and reads
 * update-inetd's lines, "#<off>#" ones included.  Programs are served
 * by the exec handler.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define FIXTURES	"tests/import/"

/* 1 when every line of errs says that this machine lacks a program,
 * user or group an imported service names: what a fixture of another
 * machine's programs may meet. */
static int
machine_errors(const char *errs)
{
	static const char *const ok[] = { "\": No such file or directory",
	    "not an executable", "does not exist", "cannot run the program" };
	const char *p, *q;
	size_t i;
	int n = 0;

	for (p = errs; *p != '\0'; p = q + 1, n++) {
		if ((q = strchr(p, '\n')) == NULL)
			q = p + strlen(p) - 1;
		for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
			if (memmem(p, (size_t)(q - p), ok[i], strlen(ok[i])) !=
			    NULL)
				break;
		if (i == sizeof(ok) / sizeof(ok[0]))
			return 0;
	}
	return n > 0;
}

/*
 * Imports from, checks that what it prints has want (NULL: anything),
 * and checks that with sockd -t; with machine_only the only errors
 * allowed are of programs, users and groups this machine lacks.
 */
static void
import_checks(struct harness *h, const char *from, int machine_only,
    const char *want)
{
	const char *conf;
	char src[PATH_MAX];
	int rc;

	/* from may be harness_write()'s buffer, which the next one reuses. */
	snprintf(src, sizeof(src), "%s", from);
	if ((rc = harness_run(h, "-I", src, NULL)) != 0)
		fail_msg("sockd -I %s: exit %d: %s", src, rc,
		    harness_stderr(h));
	conf = harness_write(h, "imported.conf", "%s", harness_stdout(h));
	assert_non_null(strstr(harness_stdout(h), src));
	if (want != NULL && strstr(harness_stdout(h), want) == NULL)
		fail_msg("sockd -I %s: no \"%s\" in\n%s", src, want,
		    harness_stdout(h));
	if (harness_check(h, conf) != 0 && (!machine_only ||
	    !machine_errors(harness_stderr(h))))
		fail_msg("sockd -I %s | sockd -t: %s\n%s", src,
		    harness_stderr(h), harness_stdout(h));
}

static void
every_fixture_imports_to_a_configuration_that_checks(void **state)
{
	static const char *const xd[] = { "chargen", "chargen-udp",
	    "daytime", "daytime-udp", "discard", "discard-udp", "echo",
	    "echo-udp", "servers", "services", "time", "time-udp" };
	struct harness *h = *state;
	char path[PATH_MAX + 64], cwd[PATH_MAX];
	const char *conf;
	size_t i;

	import_checks(h, FIXTURES "openbsd-inetd.conf", 0,
	    "services = (");
	/* tftpd, talkd, git, rsync...: not all of them are installed. */
	import_checks(h, FIXTURES "update-inetd.conf", 1,
	    "command = [\"/usr/sbin/in.tftpd\", \"-s\", \"/srv/tftp\"];");
	for (i = 0; i < sizeof(xd) / sizeof(xd[0]); i++) {
		snprintf(path, sizeof(path), FIXTURES "xinetd/xinetd.d/%s",
		    xd[i]);
		import_checks(h, path, 0, NULL);
	}
	/* The shipped xinetd.conf includes /etc/xinetd.d: ours instead. */
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	conf = harness_write(h, "xinetd.conf", "defaults\n{\n}\n\nincludedir "
	    "%s/" FIXTURES "xinetd/xinetd.d\n", cwd);
	import_checks(h, conf, 0, "xinetd.d/echo:5\n\t# disable = yes\n"
	    "\t{\n\t\tname = \"echo-stream\";");
	/* As shipped: this machine's /etc/xinetd.d, or an error naming
	 * the includedir line. */
	if (access("/etc/xinetd.d", F_OK) == 0)
		import_checks(h, FIXTURES "xinetd/xinetd.conf", 1, NULL);
	else {
		assert_int_equal(harness_run(h, "-I", FIXTURES
		    "xinetd/xinetd.conf", NULL), 1);
		assert_non_null(strstr(harness_stderr(h), "xinetd.conf:14: "
		    "includedir \"/etc/xinetd.d\": No such file"));
	}
	harness_pass(h);
}

static void
update_inetd_lines_of_installed_programs_check_cleanly(void **state)
{
	struct harness *h = *state;
	struct passwd *pw = getpwuid(geteuid());
	struct group *gr = getgrgid(getegid());
	const char *u = pw != NULL ? pw->pw_name : "root";
	const char *g = gr != NULL ? gr->gr_name : "root";
	const char *src;

	/* The forms of tests/import/update-inetd.conf, with programs that
	 * are there and the user running the tests. */
	src = harness_write(h, "installed-inetd.conf",
	    "tftp\tdgram\tudp4\twait\t%s\t/bin/cat /bin/cat -u\n"
	    "talk\tdgram\tudp4\twait\t%s.%s\t/bin/cat\tcat\n"
	    "biff\tdgram\tudp\tnowait\t%s\t/bin/cat\tcat\n"
	    "git\tstream\ttcp\tnowait\t%s:%s\t/usr/bin/rev\trev --x\n"
	    "#<off># finger\tstream\ttcp\tnowait\t%s\t/usr/sbin/tcpd\t"
	    "/bin/cat\n"
	    "auth\tstream\ttcp\tnowait.30\t%s\t/usr/sbin/tcpd\t/bin/cat -u\n"
	    "7100\tstream\ttcp6\tnowait\t%s\t/bin/cat\tcat\n"
	    "echo\tstream\ttcp\tnowait\troot\tinternal\n",
	    u, u, g, u, u, g, u, u, u);
	import_checks(h, src, 0, "command = [\"/bin/cat\", \"-u\"];");
	harness_pass(h);
}

static void
xinetd_services_of_installed_programs_check_cleanly(void **state)
{
	struct harness *h = *state;
	struct passwd *pw = getpwuid(geteuid());
	const char *src;

	src = harness_write(h, "rev", "defaults\n{\n\tinstances = 30\n"
	    "\tlog_on_success += HOST DURATION\n}\n"
	    "service rev\n{\n\ttype = UNLISTED\n\tport = 7100\n"
	    "\tsocket_type = stream\n\tprotocol = tcp\n\twait = no\n"
	    "\tuser = %s\n\tserver = /usr/bin/rev\n\tonly_from = 127.0.0.1 "
	    "::1\n\tcps = 50 10\n\tenv = LANG=C\n\tpassenv = HOME\n"
	    "\trlimit_as = 256M\n\trlimit_files = 64\n\tumask = 027\n"
	    "\tnice = 5\n\tflags = KEEPALIVE\n}\n",
	    pw != NULL ? pw->pw_name : "root");
	import_checks(h, src, 0, "umask = \"0027\";");
	harness_pass(h);
}

static void
broken_input_prints_file_and_line_and_nothing_else(void **state)
{
	struct harness *h = *state;
	const char *bad;

	bad = harness_write(h, "bad-inetd.conf", "# x\necho stream tcp "
	    "nowait root internal\ndaytime stream tcp nowait root\n");
	assert_int_equal(harness_run(h, "-I", bad, NULL), 1);
	assert_string_equal(harness_stdout(h), "");
	assert_non_null(strstr(harness_stderr(h), "bad-inetd.conf:3: 5 "
	    "fields; expected at least 6"));
	bad = harness_write(h, "bad-xinetd", "service rev\n{\n\tsocket_type "
	    "= stream\n\tserver = /usr/bin/rev\n");
	assert_int_equal(harness_run(h, "-I", bad, NULL), 1);
	assert_string_equal(harness_stdout(h), "");
	assert_non_null(strstr(harness_stderr(h), "bad-xinetd:1: service "
	    "\"rev\": the block has no closing"));
	assert_int_equal(harness_run(h, "-I", "/nonexistent/inetd.conf",
	    NULL), 1);
	assert_non_null(strstr(harness_stderr(h), "/nonexistent/inetd.conf: "
	    "No such file or directory"));
	harness_pass(h);
}

/* The exec service line that runs rev as the user running the tests
 * (nobody cannot be switched to without root). */
static const char *
rev_line(int port, const char *proto, int dot)
{
	static char line[256];
	struct passwd *pw = getpwuid(geteuid());
	struct group *gr = getgrgid(getegid());

	snprintf(line, sizeof(line), "%d\tstream\t%s\tnowait\t%s%s%s\t"
	    "/usr/bin/rev\trev\n", port, proto, pw != NULL ? pw->pw_name :
	    "root", dot ? "." : ":", gr != NULL ? gr->gr_name : "root");
	return line;
}

/* Sends msg to /usr/bin/rev on 127.0.0.1:port, and ends its input (rev
 * writes into a pipe's buffer until its input ends): 1 when the line
 * comes back reversed. */
static int
rev_ok(int port)
{
	char buf[64];
	int fd = tcp_open("127.0.0.1", port), ok;

	if (fd == -1)
		return 0;
	ok = tcp_sends(fd, "hello\n") == 0 && shutdown(fd, SHUT_WR) == 0 &&
	    tcp_recv_eof(fd, buf, sizeof(buf), harness_ms(10000)) == 6 &&
	    strcmp(buf, "olleh\n") == 0;
	client_close(fd);
	return ok;
}

/* sockd.conf with daemon.inetd_conf = "inetd.conf" and services on
 * loopback by default. */
static void
inetd_main(struct harness *h, const char *services)
{
	assert_non_null(harness_write(h, "sockd.conf", "daemon: { log = "
	    "\"stderr\"; log_level = \"debug\"; inetd_conf = \"inetd.conf\"; "
	    "drain_timeout = 3;%s };\n"
	    "defaults: { bind = [\"127.0.0.1\", \"::1\"]; };\n%s",
	    harness_user(), services));
}

/* SIGHUP; 1 when the reload worked, 0 when it failed. */
static int
reload(struct harness *h)
{
	const char *msg;

	assert_int_equal(harness_signal(h, SIGHUP), 0);
	assert_non_null(harness_notify(h, "RELOADING=1", harness_ms(10000)));
	msg = harness_notify(h, "READY=1", harness_ms(30000));
	assert_non_null(msg);
	return strstr(msg, "failed") == NULL;
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

/* 1 when nothing listens on TCP 127.0.0.1:port now. */
static int
port_free(int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	int fd, ok;

	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return 0;
	ok = bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0;
	close(fd);
	return ok;
}

/* An offset for -p that puts echo (7) on a free port whose daytime
 * (13) is free too; the echo port in *echo. */
static int
offset_for_echo(int *echo)
{
	int i, p;

	for (i = 0; i < 20; i++) {
		p = harness_port();
		assert_true(p > 7);
		if (port_free(p + 6)) {
			*echo = p;
			return p - 7;
		}
	}
	fail_msg("no free port pair for echo and daytime");
	return -1;
}

static void
inetd_conf_services_answer_and_follow_reloads(void **state)
{
	struct harness *h = *state;
	int echo, off, rev = harness_port(), upper = harness_port();
	char offs[16], svc[128];

	off = offset_for_echo(&echo);
	snprintf(offs, sizeof(offs), "%d", off);
	snprintf(svc, sizeof(svc), "services = ( { name = \"upper\"; "
	    "port = %d; } );\n", upper);
	inetd_main(h, svc);
	assert_non_null(harness_write(h, "inetd.conf", "# inetd.conf\n"
	    "echo\tstream\ttcp\tnowait\troot\tinternal\n%s",
	    rev_line(rev, "tcp", 0)));
	assert_int_equal(harness_start(h, "-p", offs, NULL), 0);
	assert_true(echo_ok(tcp_open("127.0.0.1", echo), "hello\n"));
	assert_tcp_reply("127.0.0.1", upper, "abc\n", "ABC\n", 3000);
	assert_true(rev_ok(rev));

	/* echo removed, daytime added: a reload follows the file. */
	assert_non_null(harness_write(h, "inetd.conf", "# inetd.conf\n"
	    "daytime\tstream\ttcp\tnowait\troot\tinternal\n"));
	assert_true(reload(h));
	assert_tcp_daytime("127.0.0.1", echo + 6);
	assert_true(refused_soon(echo));
	assert_true(refused_soon(rev));

	/* A broken line and one whose program is gone, as a removed
	 * package may leave: each is logged with its line and skipped, as
	 * inetd does; the good line (rev again) is served, daytime
	 * stays. */
	assert_non_null(harness_write(h, "inetd.conf", "# inetd.conf\n"
	    "daytime\tstream\ttcp\tnowait\troot\tinternal\n"
	    "echo\tstream\ttcp\tnowait\troot\n"
	    "%d\tstream\ttcp\tnowait\troot\t/usr/sbin/in.gone\tin.gone\n"
	    "%s", harness_port(), rev_line(rev, "tcp", 0)));
	assert_true(reload(h));
	assert_true(harness_log_wait(h, "inetd.conf:3: 5 fields; expected "
	    "at least 6", harness_ms(5000)));
	assert_true(harness_log_wait(h, "in.gone\": No such file or "
	    "directory (this inetd.conf line is skipped)", harness_ms(5000)));
	assert_tcp_daytime("127.0.0.1", echo + 6);
	assert_true(rev_ok(rev));
	assert_true(refused_soon(echo));
	/* A restart with the same file starts too. */
	assert_int_equal(harness_check(h, NULL), 0);
	harness_stop_clean(h);
}

static void
update_inetd_lines_and_off_lines_are_read(void **state)
{
	struct harness *h = *state;
	int echo, off, rev = harness_port(), rev2 = harness_port();
	char offs[16], lines[600];

	off = offset_for_echo(&echo);
	snprintf(offs, sizeof(offs), "%d", off);
	inetd_main(h, "");
	/* As update-inetd --add and --disable write them. */
	snprintf(lines, sizeof(lines), "#<off># echo\tstream\ttcp\tnowait\t"
	    "root\tinternal\ndaytime\tstream\ttcp4\tnowait\troot\t"
	    "internal\n");
	strncat(lines, rev_line(rev, "tcp4", 1), sizeof(lines) -
	    strlen(lines) - 1);
	strncat(lines, "#<off># ", sizeof(lines) - strlen(lines) - 1);
	strncat(lines, rev_line(rev2, "tcp", 0), sizeof(lines) -
	    strlen(lines) - 1);
	assert_non_null(harness_write(h, "inetd.conf", "%s", lines));
	assert_int_equal(harness_start(h, "-p", offs, NULL), 0);
	assert_tcp_daytime("127.0.0.1", echo + 6);
	assert_true(refused_soon(echo));
	assert_true(rev_ok(rev));
	assert_true(refused_soon(rev2));
	harness_stop_clean(h);
}

static void
a_missing_inetd_conf_is_no_error(void **state)
{
	struct harness *h = *state;
	int port = harness_port();

	assert_non_null(harness_write(h, "sockd.conf", "daemon: { log = "
	    "\"stderr\"; log_level = \"debug\"; inetd_conf = \"inetd.conf\"; "
	    "drain_timeout = 3;%s };\n"
	    "services = ( { name = \"upper\"; port = %d; bind = "
	    "\"127.0.0.1\"; } );\n", harness_user(), port));
	assert_int_equal(harness_check(h, NULL), 0);
	assert_int_equal(harness_start(h, NULL), 0);
	assert_true(harness_log_wait(h, "inetd.conf\": no such file; no "
	    "inetd services", harness_ms(3000)));
	assert_tcp_reply("127.0.0.1", port, "abc\n", "ABC\n", 3000);
	harness_stop_clean(h);
}

static void
a_line_clashing_with_sockd_conf_is_skipped_with_a_warning(void **state)
{
	struct harness *h = *state;
	int port = harness_port(), port2 = harness_port();

	inetd_main(h, "");
	assert_non_null(harness_write(h, "sockd.conf", "daemon: { log = "
	    "\"stderr\"; inetd_conf = \"inetd.conf\";%s };\n"
	    "services = ( { name = \"echo\"; port = %d; },\n"
	    "  { name = \"up\"; port = %d; handler = \"upper\"; } );\n",
	    harness_user(), port, port2));
	/* One line takes echo's name, the other upper's port. */
	assert_non_null(harness_write(h, "inetd.conf", "\n\necho\tstream\t"
	    "tcp\tnowait\troot\tinternal\n"
	    "%d\tstream\ttcp\tnowait\t%s\t/usr/bin/rev\trev\n", port2,
	    getpwuid(getuid())->pw_name));
	assert_int_equal(harness_check(h, NULL), 0);
	assert_non_null(strstr(harness_stderr(h), "inetd.conf:3: service "
	    "\"echo\" is already defined at "));
	assert_non_null(strstr(harness_stderr(h), "sockd.conf:2"));
	assert_non_null(strstr(harness_stderr(h), "inetd.conf:4: service "));
	assert_non_null(strstr(harness_stderr(h), "this inetd.conf line is "
	    "skipped"));
	assert_int_equal(harness_start(h, NULL), 0);
	/* sockd.conf's services answer, not the lines'. */
	assert_tcp_reply("127.0.0.1", port2, "abc\n", "ABC\n", 3000);
	assert_tcp_reply("127.0.0.1", port, "abc\n", "abc\n", 3000);
	harness_stop_clean(h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		HARNESS_TEST(
		    every_fixture_imports_to_a_configuration_that_checks),
		HARNESS_TEST(
		    update_inetd_lines_of_installed_programs_check_cleanly),
		HARNESS_TEST(
		    xinetd_services_of_installed_programs_check_cleanly),
		HARNESS_TEST(
		    broken_input_prints_file_and_line_and_nothing_else),
		HARNESS_TEST(inetd_conf_services_answer_and_follow_reloads),
		HARNESS_TEST(update_inetd_lines_and_off_lines_are_read),
		HARNESS_TEST(a_missing_inetd_conf_is_no_error),
		HARNESS_TEST(
		    a_line_clashing_with_sockd_conf_is_skipped_with_a_warning),
	};
	return HARNESS_RUN(tests);
}
