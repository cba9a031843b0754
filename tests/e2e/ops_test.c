/*
 * Operations: what an administrator reads.  Under systemd (JOURNAL_STREAM
 * names the file stderr goes to) every log line starts with its priority
 * ("<3>" for a failed reload) and not with "sockd:", which the journal adds
 * itself; elsewhere lines stay "sockd: ...".  A reload that finds a loaded
 * plugin's file replaced on disk warns that only a restart loads the new
 * code.  "sockd -h" prints the synopsis of sockd(8).  The configurations
 * the package ships as examples pass "sockd -t".
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

/* A TCP socket listening on 127.0.0.1:port, without SO_REUSEADDR or
 * SO_REUSEPORT, so that sockd cannot bind the port beside it. */
static int
squat_port(int port)
{
	struct sockaddr_in sin;
	int fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(fd, 1), 0);
	return fd;
}

/* Serves echo, then reloads onto a port someone else holds: the reload
 * fails, and echo keeps serving. */
static void
reload_onto_a_taken_port(struct harness *h)
{
	int port = harness_port(), taken = harness_port(), squat;
	int fd;

	assert_true(port > 0 && taken > 0);
	harness_serve(h, "services = ({ name = \"echo\"; port = %d; "
	    "bind = \"127.0.0.1\"; });\n", port);
	squat = squat_port(taken);
	harness_config(h, "services = ({ name = \"echo\"; port = %d; "
	    "bind = \"127.0.0.1\"; },\n{ name = \"clash\"; handler = \"echo\"; "
	    "port = %d; bind = \"127.0.0.1\"; });\n", port, taken);
	assert_int_equal(harness_signal(h, SIGHUP), 0);
	if (!harness_log_wait(h, "reload failed", 15000))
		fail_msg("no \"reload failed\" in:\n%s", harness_log(h));
	fd = tcp_open("127.0.0.1", port);
	assert_true(echo_ok(fd, "still here\n"));
	client_close(fd);
	close(squat);
}

/* 1 when some line of log starts with prefix. */
static int
a_line_starts_with(const char *log, const char *prefix)
{
	const char *p;

	for (p = log; p != NULL && *p != '\0'; p = strchr(p, '\n'),
	    p = p != NULL ? p + 1 : NULL)
		if (strncmp(p, prefix, strlen(prefix)) == 0)
			return 1;
	return 0;
}

static void
under_the_journal_lines_carry_their_priority_and_no_name(void **state)
{
	struct harness *h = *state;
	const char *line;
	struct stat st;
	char stream[64];
	int fd;

	/* The file exists before sockd starts, so that its inode is known. */
	fd = open(harness_log_path(h), O_WRONLY | O_CREAT | O_APPEND, 0644);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	close(fd);
	snprintf(stream, sizeof(stream), "%llu:%llu",
	    (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", stream, 1);
	reload_onto_a_taken_port(h);
	unsetenv("JOURNAL_STREAM");

	line = harness_log_line(h, "reload failed");
	if (line == NULL || strncmp(line, "<3>reload failed", 16) != 0)
		fail_msg("want \"<3>reload failed\", got: %s", line);
	line = harness_log_line(h, "cannot listen");
	if (line == NULL || strncmp(line, "<3>", 3) != 0)
		fail_msg("want an error line \"<3>...cannot listen...\", got: "
		    "%s", line);
	line = harness_log_line(h, "ready: ");
	if (line == NULL || strncmp(line, "<6>ready: ", 10) != 0)
		fail_msg("want \"<6>ready: ...\", got: %s", line);
	line = harness_log_line(h, "reloading ");
	if (line == NULL || strncmp(line, "<6>reloading ", 13) != 0)
		fail_msg("want \"<6>reloading ...\", got: %s", line);
	if (a_line_starts_with(harness_log(h), "sockd"))
		fail_msg("a line names the program, which the journal does "
		    "itself:\n%s", harness_log(h));
	harness_stop_clean(h);
}

static void
without_the_journal_lines_start_with_the_name(void **state)
{
	struct harness *h = *state;
	const char *line;

	unsetenv("JOURNAL_STREAM");
	reload_onto_a_taken_port(h);
	line = harness_log_line(h, "reload failed");
	if (line == NULL || strncmp(line, "sockd: reload failed", 20) != 0)
		fail_msg("want \"sockd: reload failed\", got: %s", line);
	line = harness_log_line(h, "ready: ");
	if (line == NULL || strncmp(line, "sockd: ready: ", 14) != 0)
		fail_msg("want \"sockd: ready: ...\", got: %s", line);
	if (a_line_starts_with(harness_log(h), "<"))
		fail_msg("a line has a journal priority:\n%s", harness_log(h));
	harness_stop_clean(h);
}

/* A journal stream that is not where stderr goes (a variable inherited
 * by a process whose stderr was redirected) changes nothing. */
static void
a_journal_stream_of_another_file_changes_nothing(void **state)
{
	struct harness *h = *state;
	struct stat st;
	char stream[64];
	int port = harness_port();

	assert_int_equal(stat(harness_dir(h), &st), 0);
	snprintf(stream, sizeof(stream), "%llu:%llu",
	    (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", stream, 1);
	harness_serve(h, "services = ({ name = \"echo\"; port = %d; "
	    "bind = \"127.0.0.1\"; });\n", port);
	unsetenv("JOURNAL_STREAM");
	if (harness_log_line(h, "sockd: ready: ") == NULL)
		fail_msg("want \"sockd: ready: ...\" in:\n%s", harness_log(h));
	harness_stop_clean(h);
}

/* A configuration that does not load at start is reported before logging
 * begins: under the journal those lines are errors as well. */
static void
under_the_journal_a_broken_start_reports_errors_at_err(void **state)
{
	struct harness *h = *state;
	const char *line;
	struct stat st;
	char stream[64];
	int fd;

	fd = open(harness_log_path(h), O_WRONLY | O_CREAT | O_APPEND, 0644);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	close(fd);
	snprintf(stream, sizeof(stream), "%llu:%llu",
	    (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
	harness_config(h, "services = ({ name = \"echo\"; port = 99999; });\n");
	setenv("JOURNAL_STREAM", stream, 1);
	assert_int_equal(harness_start(h, NULL), -1);
	unsetenv("JOURNAL_STREAM");
	assert_int_equal(harness_wait_exit(h, 5000), 1);
	line = harness_log_line(h, "99999");
	if (line == NULL || strncmp(line, "<3>", 3) != 0)
		fail_msg("want \"<3>FILE:LINE: ...\", got: %s", line);
	harness_pass(h);
}

/* Copies the file from to to (created or truncated) with mode 0644;
 * 0 on success. */
static int
copy_file(const char *from, const char *to)
{
	char buf[65536];
	ssize_t n;
	int in, out, rc = 0;

	if ((in = open(from, O_RDONLY)) == -1)
		return -1;
	if ((out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0644)) == -1) {
		close(in);
		return -1;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			rc = -1;
	if (n < 0)
		rc = -1;
	close(in);
	close(out);
	return rc == 0 ? chmod(to, 0644) : -1;
}

static void
a_reload_warns_that_a_replaced_plugin_needs_a_restart(void **state)
{
	struct harness *h = *state;
	char dir[PATH_MAX], so[PATH_MAX + 16], from[PATH_MAX + 16];
	char next[PATH_MAX + 16];
	const char *line;
	int port = harness_port(), fd;

	snprintf(dir, sizeof(dir), "%s/plugins", harness_dir(h));
	snprintf(so, sizeof(so), "%s/rot13.so", dir);
	snprintf(next, sizeof(next), "%s/rot13.so.new", dir);
	snprintf(from, sizeof(from), "%s/rot13.so", harness_plugins());
	assert_int_equal(mkdir(dir, 0755), 0);
	assert_int_equal(copy_file(from, so), 0);
	harness_write(h, "sockd.conf", "daemon: { log = \"stderr\"; "
	    "handler_dir = \"%s\";%s };\nservices = ({ name = \"rot13\"; "
	    "port = %d; bind = \"127.0.0.1\"; });\n", dir, harness_user(),
	    port);
	assert_int_equal(harness_start(h, NULL), 0);

	/* Unchanged: a reload says nothing about it. */
	assert_int_equal(harness_signal(h, SIGHUP), 0);
	assert_true(harness_log_wait(h, "reload done", 15000));
	assert_int_equal(harness_log_count(h, "changed on disk"), 0);

	/* Replaced as a package upgrade does it: a new file, renamed over
	 * the old one (a new inode). */
	assert_int_equal(copy_file(from, next), 0);
	assert_int_equal(rename(next, so), 0);
	assert_int_equal(harness_signal(h, SIGHUP), 0);
	if (!harness_log_wait(h, "changed on disk", 15000))
		fail_msg("no warning about %s in:\n%s", so, harness_log(h));
	line = harness_log_line(h, "changed on disk");
	assert_non_null(strstr(line, so));
	assert_non_null(strstr(line, "restart"));
	assert_true(harness_log_wait(h, "reload done: 1 services", 15000));
	assert_int_equal(harness_log_count(h, "reload done"), 2);
	/* The old code still serves. */
	fd = tcp_open("127.0.0.1", port);
	assert_reply_on(fd, "Hello\n", "Uryyb\n", 3000);
	client_close(fd);

	/* Each reload says it again, once. */
	assert_int_equal(harness_signal(h, SIGHUP), 0);
	while (harness_log_count(h, "reload done") < 3)
		assert_true(harness_log_wait(h, "reload done", 15000));
	assert_int_equal(harness_log_count(h, "changed on disk"), 2);
	harness_stop_clean(h);
}

/* The synopsis of man/sockd.8 as mandoc renders it, one line, into buf;
 * 0, or -1 when the page or mandoc is not there. */
static int
man_synopsis(char *buf, size_t size)
{
	char line[1024], *src, *dst;
	FILE *fp;
	int next = 0, rc = -1;

	if (access("man/sockd.8", R_OK) == -1 ||
	    (fp = popen("mandoc -T ascii -O width=200 man/sockd.8 2>/dev/null",
	    "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL) {
		/* Bold and underline are "c\bc" and "_\bc". */
		for (src = dst = line; *src != '\0'; src++)
			if (src[1] == '\b' && src[2] != '\0')
				continue;
			else if (*src != '\b')
				*dst++ = *src;
		*dst = '\0';
		line[strcspn(line, "\n")] = '\0';
		if (next) {
			snprintf(buf, size, "%s", line + strspn(line, " "));
			rc = 0;
			break;
		}
		next = strcmp(line, "SYNOPSIS") == 0;
	}
	pclose(fp);
	return rc;
}

static void
help_prints_the_synopsis_of_the_manual(void **state)
{
	struct harness *h = *state;
	char synopsis[1024], want[1100];

	if (man_synopsis(synopsis, sizeof(synopsis)) == -1)
		skip();
	snprintf(want, sizeof(want), "usage: %s\n", synopsis);
	assert_int_equal(harness_run(h, "-h", NULL), 0);
	assert_string_equal(harness_stdout(h), want);
	assert_int_equal(harness_run(h, "-Z", NULL), 2);
	assert_non_null(strstr(harness_stderr(h), want));
	harness_pass(h);
}

static void
the_shipped_configurations_pass_the_check(void **state)
{
	struct harness *h = *state;
	glob_t g;
	size_t i;

	if (glob("conf/examples/*.conf", 0, NULL, &g) != 0)
		skip();
	assert_true(g.gl_pathc >= 2);
	for (i = 0; i <= g.gl_pathc; i++) {
		const char *f = i < g.gl_pathc ? g.gl_pathv[i] :
		    "conf/sockd.conf";

		if (harness_check(h, f) != 0 ||
		    strcmp(harness_stdout(h), "configuration OK\n") != 0)
			fail_msg("sockd -t -c %s:\n%s%s", f, harness_stdout(h),
			    harness_stderr(h));
	}
	globfree(&g);
	harness_pass(h);
}

#define T(f)	HARNESS_TEST(f)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(under_the_journal_lines_carry_their_priority_and_no_name),
		T(without_the_journal_lines_start_with_the_name),
		T(a_journal_stream_of_another_file_changes_nothing),
		T(under_the_journal_a_broken_start_reports_errors_at_err),
		T(a_reload_warns_that_a_replaced_plugin_needs_a_restart),
		T(help_prints_the_synopsis_of_the_manual),
		T(the_shipped_configurations_pass_the_check),
	};
	return HARNESS_RUN(tests);
}
