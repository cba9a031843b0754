/*
 * Logging: one line per event, to syslog or to stderr (-f).  A line is
 * written with a single write(2) so that lines from several worker threads
 * never interleave.  When stderr is the systemd journal (JOURNAL_STREAM
 * names the file on fd 2, see systemd.exec(5)), a line starts with its
 * priority as sd-daemon(3) has it ("<3>" for an error) and without the
 * program's name, which the journal adds itself; on a terminal or in a file
 * it starts with "sockd: ".  A newline inside a message becomes a space, so
 * that no text a client sent can start a line of its own.  Events that
 * remote peers can cause at will go through a ratelimit, and nothing is
 * logged per datagram at the default level.
 * fatal() is for what sockd cannot go on without: one line, whatever the
 * level, then exit 1.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <unistd.h>

#include <sockd/handler.h>

#include "log.h"

static int	log_stderr = 1;
static int	log_journal;		/* stderr is the journal */
static atomic_int log_level = LOG_INFO;	/* reload changes it */

/* 1 when JOURNAL_STREAM ("DEVICE:INODE", in decimal) names the file that
 * fd 2 is: systemd sets it for a service whose stderr it reads, and a
 * child that inherited the variable but writes elsewhere does not match. */
int
log_stderr_is_journal(void)
{
	const char *env = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	char *end;

	if (env == NULL || *env < '0' || *env > '9')
		return 0;
	errno = 0;
	dev = strtoull(env, &end, 10);
	if (errno != 0 || *end != ':' || end[1] < '0' || end[1] > '9')
		return 0;
	ino = strtoull(end + 1, &end, 10);
	if (errno != 0 || *end != '\0')
		return 0;
	if (fstat(STDERR_FILENO, &st) == -1)
		return 0;
	return (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino;
}

void
log_init(int to_stderr, int level)
{
	log_stderr = to_stderr;
	log_journal = to_stderr && log_stderr_is_journal();
	log_level = level;
	if (!to_stderr)
		openlog("sockd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
log_set_level(int level)
{
	log_level = level;
}

int
log_get_level(void)
{
	return log_level;
}

/* Returns the syslog priority for a config level name, or -1. */
int
log_level_parse(const char *s)
{
	static const struct {
		const char	*name;
		int		 level;
	} levels[] = {
		{ "error", LOG_ERR }, { "warning", LOG_WARNING },
		{ "notice", LOG_NOTICE }, { "info", LOG_INFO },
		{ "debug", LOG_DEBUG },
	};
	size_t i;

	for (i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		if (strcasecmp(s, levels[i].name) == 0)
			return levels[i].level;
	return -1;
}

/* Writes the line when pri is up to level (the daemon's, or a service's
 * its caller went by). */
static void
log_vmsg(int level, int pri, const char *fmt, va_list ap, const char *err)
{
	char line[1024], *p;
	int n, start;

	/* A plugin may pass a facility too: the level alone counts. */
	pri = LOG_PRI(pri);
	if (pri > level)
		return;
	if (log_journal)
		n = snprintf(line, sizeof(line), "<%d>", pri);
	else if (log_stderr)
		n = snprintf(line, sizeof(line), "sockd: ");
	else
		n = 0;
	start = n;
	n += vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	if (n >= (int)sizeof(line) - 1)
		n = sizeof(line) - 2;
	if (err != NULL) {
		n += snprintf(line + n, sizeof(line) - n, ": %s", err);
		if (n >= (int)sizeof(line) - 1)
			n = sizeof(line) - 2;
	}
	line[n] = '\0';
	for (p = line + start; (p = strpbrk(p, "\r\n")) != NULL; )
		*p = ' ';
	if (!log_stderr) {
		syslog(pri, "%s", line);
		return;
	}
	line[n++] = '\n';
	(void)!write(STDERR_FILENO, line, n);
}

void
log_msg(int pri, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(log_level, pri, fmt, ap, NULL);
	va_end(ap);
}

void
log_line(int pri, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_DEBUG, pri, fmt, ap, NULL);
	va_end(ap);
}

void
log_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(log_level, LOG_ERR, fmt, ap, NULL);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	log_vmsg(log_level, LOG_WARNING, fmt, ap, strerror(saved));
	va_end(ap);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(log_level, LOG_WARNING, fmt, ap, NULL);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(log_level, LOG_INFO, fmt, ap, NULL);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (log_level < LOG_DEBUG)
		return;
	va_start(ap, fmt);
	log_vmsg(log_level, LOG_DEBUG, fmt, ap, NULL);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(log_level, LOG_CRIT, fmt, ap, NULL);
	va_end(ap);
	exit(1);
}

/* At most 10 lines per 10 seconds per limiter. */
int
log_ratelimit(struct ratelimit *rl, unsigned int *suppressed)
{
	return log_ratelimit_n(rl, 10, suppressed);
}

int
log_ratelimit_n(struct ratelimit *rl, unsigned int max,
    unsigned int *suppressed)
{
	time_t now = time(NULL);

	if (now - rl->start >= 10) {
		rl->start = now;
		rl->count = 0;
	}
	if (rl->count >= max) {
		rl->suppressed++;
		return 0;
	}
	rl->count++;
	*suppressed = rl->suppressed;
	rl->suppressed = 0;
	return 1;
}

unsigned int
log_ratelimit_flush(struct ratelimit *rl)
{
	unsigned int n = rl->suppressed;

	if (n == 0 || time(NULL) - rl->start < 10)
		return 0;
	rl->suppressed = 0;
	return n;
}

/* The ABI side: handlers log through the daemon's sink. */
void
sockd_log(int pri, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(log_level, pri, fmt, ap, NULL);
	va_end(ap);
}
