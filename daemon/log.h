#ifndef SOCKD_LOG_H
#define SOCKD_LOG_H

#include <syslog.h>
#include <time.h>

/* Logs to stderr (to_stderr) or syslog from now on, up to level.  On
 * stderr, lines start with "sockd: ", or with "<N>" (their priority) when
 * JOURNAL_STREAM says stderr is the systemd journal. */
void	log_init(int to_stderr, int level);
/* 1 when JOURNAL_STREAM names the file that stderr is: lines written there
 * by hand take a "<N>" priority prefix too. */
int	log_stderr_is_journal(void);
void	log_set_level(int);
int	log_get_level(void);
int	log_level_parse(const char *);
void	log_msg(int, const char *, ...) __attribute__((format(printf, 2, 3)));
/* log_msg() whatever the daemon's level, for a line its caller checked
 * against a level of its own (a service's log_level). */
void	log_line(int, const char *, ...) __attribute__((format(printf, 2, 3)));
void	log_err(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
/* Logs at LOG_CRIT, whatever the level, and exits 1: for what sockd cannot
 * go on without (out of memory at configuration time). */
void	fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

/* A budget of log lines per interval, so that a flood cannot make logging
 * the attack surface.  log_ratelimit() returns 1 when a line may be
 * written, and says how many were suppressed before it. */
struct ratelimit {
	time_t		 start;
	unsigned int	 count;
	unsigned int	 suppressed;
};
int	log_ratelimit(struct ratelimit *, unsigned int *suppressed);
/* The same with a budget of max lines per 10 seconds. */
int	log_ratelimit_n(struct ratelimit *, unsigned int max,
	    unsigned int *suppressed);
/* How many lines rl held back in an interval that is over, forgotten
 * then (0 while it lasts): to tell of a burst that no line followed. */
unsigned int log_ratelimit_flush(struct ratelimit *);

#endif
