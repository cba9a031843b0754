/*
 * log: on stderr a line starts with "sockd: ", unless stderr is the
 * journal (JOURNAL_STREAM names the file on fd 2), where it starts with
 * its priority as "<N>" and no name.  Each test points fd 2 at a temp file
 * of its own, logs, puts fd 2 back and reads what was written.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sockd/handler.h>

#include "log.h"

struct capture {
	char	 path[64];
	int	 fd;
	int	 saved;
	char	 text[4096];
};

/* Points fd 2 at a new temp file; its "DEV:INODE" goes into stream. */
static void
capture_begin(struct capture *cap, char *stream, size_t len)
{
	struct stat st;

	snprintf(cap->path, sizeof(cap->path), "/tmp/sockd-log-XXXXXX");
	assert_int_not_equal(cap->fd = mkstemp(cap->path), -1);
	assert_int_equal(fstat(cap->fd, &st), 0);
	snprintf(stream, len, "%llu:%llu", (unsigned long long)st.st_dev,
	    (unsigned long long)st.st_ino);
	assert_int_not_equal(cap->saved = dup(STDERR_FILENO), -1);
	assert_int_equal(dup2(cap->fd, STDERR_FILENO), STDERR_FILENO);
}

/* Puts fd 2 back and reads what was logged into cap->text. */
static void
capture_end(struct capture *cap)
{
	ssize_t n;

	assert_int_equal(dup2(cap->saved, STDERR_FILENO), STDERR_FILENO);
	close(cap->saved);
	n = pread(cap->fd, cap->text, sizeof(cap->text) - 1, 0);
	assert_true(n >= 0);
	cap->text[n] = '\0';
	close(cap->fd);
	unlink(cap->path);
	unsetenv("JOURNAL_STREAM");
}

static void
log_some_lines(void)
{
	log_err("cannot listen on tcp 127.0.0.1:7");
	log_warnx("workers take effect at the next start");
	log_msg(LOG_NOTICE, "a notice");
	log_info("ready: 1 services");
	log_debug("echo 127.0.0.1:4000: connected");
	sockd_log(LOG_DAEMON | LOG_WARNING, "a plugin names its facility");
}

static void
lines_to_the_journal_start_with_their_priority_and_no_name(void **state)
{
	struct capture cap;
	char stream[64];

	(void)state;
	capture_begin(&cap, stream, sizeof(stream));
	setenv("JOURNAL_STREAM", stream, 1);
	log_init(1, LOG_DEBUG);
	log_some_lines();
	log_init(1, LOG_INFO);
	capture_end(&cap);
	assert_string_equal(cap.text,
	    "<3>cannot listen on tcp 127.0.0.1:7\n"
	    "<4>workers take effect at the next start\n"
	    "<5>a notice\n"
	    "<6>ready: 1 services\n"
	    "<7>echo 127.0.0.1:4000: connected\n"
	    "<4>a plugin names its facility\n");
}

static void
lines_to_stderr_without_a_journal_start_with_the_name(void **state)
{
	struct capture cap;
	char stream[64];

	(void)state;
	capture_begin(&cap, stream, sizeof(stream));
	unsetenv("JOURNAL_STREAM");
	log_init(1, LOG_INFO);
	log_some_lines();
	capture_end(&cap);
	assert_string_equal(cap.text,
	    "sockd: cannot listen on tcp 127.0.0.1:7\n"
	    "sockd: workers take effect at the next start\n"
	    "sockd: a notice\n"
	    "sockd: ready: 1 services\n"
	    "sockd: a plugin names its facility\n");
}

static void
a_journal_stream_naming_another_file_is_not_the_journal(void **state)
{
	struct capture cap;
	struct stat st;
	char stream[64], theirs[64], other[] = "/tmp/sockd-log-XXXXXX";
	int fd;

	(void)state;
	/* Kept until the end, so that its inode is not handed out again. */
	assert_int_not_equal(fd = mkstemp(other), -1);
	assert_int_equal(fstat(fd, &st), 0);
	snprintf(theirs, sizeof(theirs), "%llu:%llu",
	    (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
	capture_begin(&cap, stream, sizeof(stream));
	setenv("JOURNAL_STREAM", theirs, 1);
	log_init(1, LOG_INFO);
	log_err("reload failed");
	capture_end(&cap);
	close(fd);
	unlink(other);
	assert_string_equal(cap.text, "sockd: reload failed\n");
}

static void
a_malformed_journal_stream_is_not_the_journal(void **state)
{
	static const char *const bad[] = { "", ":", "12", "12:", ":34",
	    "12:34x", "x12:34", "-1:34", "12:-34", " 12:34",
	    "99999999999999999999999:1" };
	struct capture cap;
	char stream[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		capture_begin(&cap, stream, sizeof(stream));
		setenv("JOURNAL_STREAM", bad[i], 1);
		log_init(1, LOG_INFO);
		log_err("reload failed");
		capture_end(&cap);
		if (strcmp(cap.text, "sockd: reload failed\n") != 0)
			fail_msg("JOURNAL_STREAM=\"%s\": %s", bad[i],
			    cap.text);
	}
	/* The good form for the same file is taken. */
	capture_begin(&cap, stream, sizeof(stream));
	setenv("JOURNAL_STREAM", stream, 1);
	log_init(1, LOG_INFO);
	log_err("reload failed");
	capture_end(&cap);
	assert_string_equal(cap.text, "<3>reload failed\n");
}

static void
a_newline_in_a_message_does_not_start_a_line(void **state)
{
	struct capture cap;
	char stream[64];

	(void)state;
	capture_begin(&cap, stream, sizeof(stream));
	setenv("JOURNAL_STREAM", stream, 1);
	log_init(1, LOG_INFO);
	log_info("chat 127.0.0.1:4000: %s", "hello\n<0>forged\r\n");
	capture_end(&cap);
	assert_string_equal(cap.text,
	    "<6>chat 127.0.0.1:4000: hello <0>forged  \n");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    lines_to_the_journal_start_with_their_priority_and_no_name),
		cmocka_unit_test(
		    lines_to_stderr_without_a_journal_start_with_the_name),
		cmocka_unit_test(
		    a_journal_stream_naming_another_file_is_not_the_journal),
		cmocka_unit_test(a_malformed_journal_stream_is_not_the_journal),
		cmocka_unit_test(a_newline_in_a_message_does_not_start_a_line),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
