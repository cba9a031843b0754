/*
 * End-to-end harness: runs the real sockd binary on loopback.
 *
 * A harness owns one temp dir (config, captured stderr, notify socket) and
 * at most one running sockd.  Everything it starts is killed and reaped by
 * harness_free(), by an atexit handler and by a watchdog alarm, so a failed
 * assertion never leaves a daemon behind.  Client sockets opened with the
 * tcp_ and udp_ helpers are closed with them too.  Whatever two suites do
 * alike belongs here, once: config snippets, clients from other loopback
 * sources, round trips, chat rooms, the checks of a daytime answer.
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

/* Service settings for configs: both loopback addresses, both transports. */
#define LOOPBACK	"bind = [\"127.0.0.1\", \"::1\"];"
#define BOTH		"protocol = [\"tcp\", \"udp\"];"

/* Creates the temp dir; NULL on failure.  harness_free() kills, reaps and
 * removes everything. */
struct harness	*harness_new(void);
void		 harness_free(struct harness *);
/* For cmocka: *state = harness_new() / harness_free(*state). */
int		 harness_setup(void **);
int		 harness_teardown(void **);
/* Applies SOCKD_E2E_FILTER; call before cmocka_run_group_tests(). */
void		 harness_filter(void);
/* A cmocka test entry that runs f between harness_setup() and
 * harness_teardown(). */
#define HARNESS_TEST(f)	cmocka_unit_test_setup_teardown(f, \
			    harness_setup, harness_teardown)
/* harness_filter(), then runs the array of tests: main()'s return value. */
#define HARNESS_RUN(tests) \
	(harness_filter(), cmocka_run_group_tests(tests, NULL, NULL))

/* The temp dir, and the config file in it that harness_config() writes. */
const char	*harness_dir(const struct harness *);
const char	*harness_conf(const struct harness *);
/* The absolute path of the test plugins' dir (SOCKD_PLUGINS). */
const char	*harness_plugins(void);
/* 1 when SOCKD_VALGRIND=1 runs sockd under valgrind. */
int		 harness_valgrind(void);
/* 1 when sockd is built with AddressSanitizer (or ThreadSanitizer): its
 * RSS says little. */
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
/* harness_config(), then harness_start() without arguments; fails the
 * test unless sockd is ready. */
void		 harness_serve(struct harness *, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));
/* drain_timeout for the next harness_config() (harness_new() sets 3). */
void		 harness_drain_timeout(int);
/* The daemon section harness_config() writes, for hand-made files. */
const char	*harness_daemon_section(void);
/* How many lines harness_daemon_section() takes: add it to a line number
 * of the text that follows it. */
int		 harness_daemon_lines(void);
/* A one-line daemon section as harness_daemon_section()'s, but logging at
 * info level (no line per connection) and with workers (0: the default). */
const char	*harness_quiet_section(int workers);
/* harness_serve() with harness_quiet_section(workers) instead. */
void		 harness_serve_quiet(struct harness *, int workers,
		    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* " user = \"root\";" when the tests run as root (sockd refuses to stay
 * root without it), else "": for daemon sections written by hand. */
const char	*harness_user(void);

/* Runs sockd with the NULL-terminated arguments and waits for it; returns
 * its exit status, 128 + signal, or -1 (did not finish in time). */
int		 harness_run(struct harness *, ...);
/* harness_run() of "sockd -t -c conf" (NULL: the config file). */
int		 harness_check(struct harness *, const char *conf);
/* What the last harness_run() printed (owned by h; "" if nothing). */
const char	*harness_stdout(struct harness *);
const char	*harness_stderr(struct harness *);

/* Starts "sockd -f -c CONF [args...]" (NULL-terminated) and waits for
 * READY=1 on NOTIFY_SOCKET; 0 when ready, -1 when sockd exited or timed
 * out (harness_wait_exit() then tells the status). */
int		 harness_start(struct harness *, ...);
/* harness_start() with RLIMIT_NOFILE set to nofile (soft and hard) for
 * sockd, through prlimit(1); not under valgrind. */
int		 harness_start_nofile(struct harness *, int nofile, ...);
/* harness_start() with sockd run through the NULL-terminated command
 * wrap (systemd-socket-activate ...; not under valgrind). */
int		 harness_start_wrapped(struct harness *,
		    const char *const *wrap, ...);
/* The running sockd's pid, 0 when none runs. */
pid_t		 harness_pid(const struct harness *);
/* The next notify message containing want (others are skipped); NULL when
 * none came within ms. */
const char	*harness_notify(struct harness *, const char *want, int ms);
/* Sends the signal to the running sockd; -1 when none runs. */
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
/* Sleeps ms milliseconds, whatever signals come. */
void		 harness_sleep_ms(int ms);
/* Marks the test as passed: its log is not printed at teardown. */
void		 harness_pass(struct harness *);
/* Resident set of sockd in kB from /proc/PID/status, -1 on failure. */
long		 harness_rss_kb(const struct harness *);
/* CPU time sockd has used (user + system) in clock ticks from
 * /proc/PID/stat, -1 on failure. */
long		 harness_cpu_ticks(const struct harness *);

/* sockd's captured stdout and stderr so far (owned by h). */
const char	*harness_log(struct harness *);
/* 1 when the log contains needle. */
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
/* Same, bound to the source address src first (127.0.0.2 and up are
 * routed on loopback) and connected to port on the loopback address of
 * src's family; -1 when refused at connect. */
int		 tcp_open_from(const char *src, int port);
/* Sends all len bytes (a string); 0, or -1 on error or when the peer
 * took none for 5 s. */
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
/* Reads lines until one contains want; 1 found, 0 when none did within
 * ms (or the peer closed). */
int		 tcp_expect(int, const char *want, int ms);
/* Reads and drops lines until none comes within ms. */
void		 tcp_skip_lines(int, int ms);
/* Echo round trip on an open connection: 1 when msg (at most 256 bytes)
 * comes back intact within 3 s, 0 otherwise or when fd is -1. */
int		 echo_ok(int, const char *msg);
/* echo_ok() on a new connection from src (tcp_open_from()), closed
 * after. */
int		 echo_ok_from(const char *src, int port, const char *msg);
/* Closes a socket of the tcp_ or udp_ helpers (-1: nothing to do). */
void		 client_close(int);
/* client_close() on each of the n sockets. */
void		 clients_close(const int *, int n);

/* A UDP socket connected to addr:port; -1 on failure. */
int		 udp_open(const char *addr, int port);
/* A UDP socket bound to src:sport (0: any port) and connected to port on
 * the loopback address of src's family (port 0: not connected); -1 on
 * failure. */
int		 udp_open_from(const char *src, int sport, int port);
/* Sends one datagram; 0, or -1 when it was not sent whole. */
int		 udp_send(int, const void *, size_t);
/* One datagram, or -1 when none came within ms. */
ssize_t		 udp_recv(int, void *, size_t, int ms);
/* udp_open + udp_send + udp_recv + client_close. */
ssize_t		 udp_ask(const char *addr, int port, const void *, size_t,
		    void *, size_t, int ms);
/* udp_ask() into buf of size bytes, the reply NUL-terminated. */
ssize_t		 udp_ask_str(const char *addr, int port, const void *,
		    size_t, char *buf, size_t size, int ms);
/* Reads every datagram that arrives on the n (at most 16) sockets: waits
 * first_ms for the first, then until ms pass without one, or until want
 * bytes came when want > 0; returns the bytes, the datagrams in *count
 * (count may be NULL). */
size_t		 udp_drain(const int *, int n, int first_ms, int ms,
		    size_t want, int *count);

/* Services; these fail the test themselves. */
/* Fails the test unless the next bytes on fd are want (at most 4096 of
 * them), there within ms. */
void		 assert_tcp_recv(int, const char *want, int ms);
/* tcp_sends() msg on fd, then assert_tcp_recv() want. */
void		 assert_reply_on(int, const char *msg, const char *want,
		    int ms);
/* The same on a new connection to addr:port, closed after. */
void		 assert_tcp_reply(const char *addr, int port, const char *msg,
		    const char *want, int ms);

#define CHAT_NICK	32	/* room for a nick chat_join() reads */
/* Joins the chat room on 127.0.0.1:port and reads the welcome until it is
 * quiet; the socket (-1 on failure) and in nick the guest name the room
 * gave ("" if none). */
int		 chat_join(int port, char *nick, size_t size);
/* chat_join() n times, into c[] and nick[]; fails the test when one
 * cannot connect. */
void		 chat_join_all(int port, int n, int *c, char nick[][CHAT_NICK]);
/* harness_serve() a chat service on port with the service settings (as
 * "bind = ...; quit = ...;"), then chat_join_all(). */
void		 chat_start(struct harness *, int port, const char *settings,
		    int n, int *c, char nick[][CHAT_NICK]);
/* Parses s exactly as fmt (strptime), as local time or UTC; fails the test
 * unless it is within 2 s of now. */
void		 assert_time_now(const char *s, const char *fmt, int utc);
/* Connects to the TCP daytime service at addr:port and checks that it
 * sends inetd's line for now ("Tue Dec  1 09:47:20 2026\r\n"), then
 * closes. */
void		 assert_tcp_daytime(const char *addr, int port);

/* The file sockd's stdout and stderr go to (harness_log() reads it); it
 * exists once sockd has started. */
const char	*harness_log_path(const struct harness *);

/* strace on a running sockd. */
/* Skips the test unless strace is installed and sockd is not under
 * valgrind (strace cannot follow it). */
void		 strace_or_skip(void);
/* Starts strace -c (for at most 30 s) on h's sockd, counting its send
 * system calls into dir/strace.out, and gives it 1 s to attach; its pid. */
pid_t		 strace_sends_start(struct harness *);
/* Interrupts and reaps the strace st; the send calls it counted (0 or -1
 * also when it could not attach). */
long		 strace_sends_stop(struct harness *, pid_t st);

/* redis-server, one at a time, for the suites of the bus. */
/* 1 when redis-server is on PATH. */
int		 redis_server_installed(void);
/* Starts redis-server on 127.0.0.1:port (after stopping the one before)
 * and waits up to 10 s until it answers PING; 0, or -1. */
int		 redis_server_start(int port);
/* redis_server_start() on a free port, the port; skips the test when
 * redis-server is not installed, fails it when it does not start. */
int		 redis_server_start_or_skip(void);
/* Kills (woken first, if stopped) and reaps the redis-server started, if
 * any; also done at exit and by the watchdog. */
void		 redis_server_stop(void);
/* The pid of the redis-server running (0: none), to SIGSTOP it. */
pid_t		 redis_server_pid(void);
/* Sends the command (argc words, as RESP) to the redis on 127.0.0.1:port
 * and reads the answer's first line into buf, and for a bulk string the
 * string itself; 0, or -1. */
int		 redis_server_cmd(int port, char *buf, size_t size, int argc,
		    const char **argv);

#endif
