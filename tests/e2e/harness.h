/*
 * End-to-end harness: runs the real sockd binary on loopback.
 *
 * A harness owns one temp dir (config, captured stderr, notify socket) and
 * at most one running sockd.  Everything it starts is killed and reaped by
 * harness_free(), by an atexit handler and by a watchdog alarm, so a failed
 * assertion never leaves a daemon behind.  Client sockets opened with the
 * tcp_ and udp_ helpers are closed with them too.
 *
 * Environment: SOCKD (binary, default build/sockd), SOCKD_PLUGINS (dir of
 * the test plugins, default build/plugins), SOCKD_VALGRIND=1 (run sockd
 * under valgrind memcheck; timeouts grow), SOCKD_E2E_VERBOSE=1 (print
 * sockd's log after every test, not only after failed ones),
 * SOCKD_E2E_FILTER (a cmocka test name pattern: run only those).
 */
#ifndef HARNESS_H
#define HARNESS_H

#include <sys/types.h>

#include <stddef.h>

struct harness;

/* Creates the temp dir; NULL on failure.  harness_free() kills, reaps and
 * removes everything. */
struct harness	*harness_new(void);
void		 harness_free(struct harness *);
/* For cmocka: *state = harness_new() / harness_free(*state). */
int		 harness_setup(void **);
/* Applies SOCKD_E2E_FILTER; call before cmocka_run_group_tests(). */
void		 harness_filter(void);
int		 harness_teardown(void **);

const char	*harness_dir(const struct harness *);
const char	*harness_conf(const struct harness *);
const char	*harness_plugins(void);
int		 harness_valgrind(void);
/* 1 when sockd is built with AddressSanitizer: its RSS says little. */
int		 harness_asan(void);
/* ms, scaled up when running under valgrind. */
int		 harness_ms(int);

/* A port free for TCP and UDP on 127.0.0.1 and ::1, never handed out twice
 * by one process; -1 when none was found. */
int		 harness_port(void);

/* Writes dir/name (printf format); returns its path (owned by h). */
const char	*harness_write(struct harness *, const char *name,
		    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Writes the config file: a daemon section (log to stderr, debug level,
 * handler_dir = the plugins, user "root" when root, drain_timeout 3) and
 * then the body. */
const char	*harness_config(struct harness *, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));
/* drain_timeout for the next harness_config() (harness_new() sets 3). */
void		 harness_drain_timeout(int);
/* The daemon section harness_config() writes, for hand-made files. */
const char	*harness_daemon_section(void);

/* Runs sockd with the NULL-terminated arguments and waits for it; returns
 * its exit status, 128 + signal, or -1 (did not finish in time). */
int		 harness_run(struct harness *, ...);
const char	*harness_stdout(struct harness *);
const char	*harness_stderr(struct harness *);

/* Starts "sockd -f -c CONF [args...]" (NULL-terminated) and waits for
 * READY=1 on NOTIFY_SOCKET; 0 when ready, -1 when sockd exited or timed
 * out (harness_wait_exit() then tells the status). */
int		 harness_start(struct harness *, ...);
pid_t		 harness_pid(const struct harness *);
/* The next notify message containing want (others are skipped); NULL when
 * none came within ms. */
const char	*harness_notify(struct harness *, const char *want, int ms);
int		 harness_signal(struct harness *, int);
/* Exit status, 128 + signal, or -1 when still running after ms. */
int		 harness_wait_exit(struct harness *, int ms);
/* SIGTERM, then the exit status as harness_wait_exit(). */
int		 harness_stop(struct harness *);
/* SIGTERM, expects exit 0 (99 would be valgrind's errors), and marks the
 * test passed. */
void		 harness_stop_clean(struct harness *);
/* CLOCK_MONOTONIC in milliseconds. */
long long	 harness_now_ms(void);
/* Marks the test as passed: its log is not printed at teardown. */
void		 harness_pass(struct harness *);
/* Resident set of sockd in kB from /proc/PID/status, -1 on failure. */
long		 harness_rss_kb(const struct harness *);

/* sockd's captured stdout and stderr so far (owned by h). */
const char	*harness_log(struct harness *);
int		 harness_log_has(struct harness *, const char *);
/* Waits until the log contains needle; 1 found, 0 not within ms. */
int		 harness_log_wait(struct harness *, const char *, int ms);
/* The first log line containing needle, without its newline, or NULL. */
const char	*harness_log_line(struct harness *, const char *);
/* Counts log lines containing needle. */
int		 harness_log_count(struct harness *, const char *);

/* Clients.  Sockets are non-blocking and every call has a deadline. */
int		 tcp_open(const char *addr, int port);
/* Same, with SO_RCVBUF set before connecting (0: untouched). */
int		 tcp_open_rcvbuf(const char *addr, int port, int rcvbuf);
int		 tcp_send(int, const void *, size_t);
int		 tcp_sends(int, const char *);
/* Reads until n bytes, EOF or the deadline; returns the count, -1 on
 * error. */
ssize_t		 tcp_recv_n(int, void *, size_t n, int ms);
/* Reads one line including its "\n" into buf, NUL-terminated; returns its
 * length, 0 at EOF, -1 when no whole line came within ms (or it did not
 * fit). */
ssize_t		 tcp_recv_line(int, char *, size_t, int ms);
/* Reads until EOF; returns the count (buf NUL-terminated), -1 when no EOF
 * came within ms or buf filled up. */
ssize_t		 tcp_recv_eof(int, char *, size_t, int ms);
/* 1 when the peer closed (EOF or reset) within ms, data skipped. */
int		 tcp_closed(int, int ms);
/* 1 when nothing at all (no byte, no EOF) arrives within ms. */
int		 tcp_quiet(int, int ms);
void		 client_close(int);

/* A UDP socket connected to addr:port; -1 on failure. */
int		 udp_open(const char *addr, int port);
int		 udp_send(int, const void *, size_t);
/* One datagram, or -1 when none came within ms. */
ssize_t		 udp_recv(int, void *, size_t, int ms);
/* udp_open + udp_send + udp_recv + client_close. */
ssize_t		 udp_ask(const char *addr, int port, const void *, size_t,
		    void *, size_t, int ms);

/* harness_start() with RLIMIT_NOFILE set to nofile (soft and hard) for
 * sockd, through prlimit(1); not under valgrind. */
int		 harness_start_nofile(struct harness *, int nofile, ...);

#endif
