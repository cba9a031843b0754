/*
 * The end-to-end harness: one temp dir and one sockd process per test, and
 * client sockets with deadlines.  sockd is started in the foreground with
 * its stdout and stderr appended to dir/log, and is ready when it sends
 * READY=1 to the AF_UNIX datagram socket dir/notify named by NOTIFY_SOCKET,
 * the way systemd learns it.  Every live harness is on a list that the
 * atexit handler and the watchdog (SIGALRM) walk to kill and reap, so no
 * test can leave a daemon or a temp dir behind, whatever way it ends.
 * Client sockets are non-blocking, bound to a chosen loopback source when
 * asked, and tracked; each has a small read-ahead buffer so that line reads
 * can take whole chunks.  Every wait polls against one deadline.  The
 * service helpers at the end (round trips, chat rooms, daytime) assert
 * through cmocka, so a test that uses them reads as its checks alone.
 * strace counts a running daemon's send calls for the suites that batch
 * replies.  The suites of the bus share one redis-server on a loopback
 * port, killed and reaped with the daemons.
 */
#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include "harness.h"

#define MAX_HARNESS	8
#define MAX_ARGS	32
#define MAX_FD		4096
#define READAHEAD	65536

struct harness {
	char		 dir[64];
	char		 conf[PATH_MAX];
	char		 logpath[PATH_MAX];
	char		 notify[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char		 path[PATH_MAX];	/* last harness_write() */
	int		 notify_fd;
	pid_t		 pid;
	int		 status;		/* valid when pid == 0 */
	int		 exited;
	int		 passed;
	char		*log;
	char		*out;
	char		*err;
	char		 msg[4096];		/* last notify message */
	char		*line;
};

struct client {
	int		 open;
	char		*buf;
	size_t		 off;
	size_t		 len;
};

static struct harness	*live[MAX_HARNESS];
static int		 drain_timeout = 3;
static struct client	 clients[MAX_FD];
static int		 inited;

static void	 cleanup_all(void);
static char	*slurp_file(const char *);
static size_t	 slurp_len;

long long
harness_now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
harness_sleep_ms(int ms)
{
	struct timespec	 ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		continue;
}

static int
left_ms(long long deadline)
{
	long long	 d = deadline - harness_now_ms();

	return d < 0 ? 0 : (int)d;
}

/* Waits until fd is ready for events, until deadline but at most cap ms
 * (0: no cap); poll's result. */
static int
poll_until(int fd, short events, long long deadline, int cap)
{
	struct pollfd	 pfd = { .fd = fd, .events = events };
	int		 ms = left_ms(deadline);

	return poll(&pfd, 1, cap > 0 && ms > cap ? cap : ms);
}

static void
on_alarm(int sig)
{
	static const char msg[] = "e2e: watchdog: test took too long\n";

	(void)sig;
	if (write(2, msg, sizeof(msg) - 1) < 0) {
		/* nothing more to do about it */
	}
	cleanup_all();
	_exit(3);
}

static void
init_once(void)
{
	if (inited)
		return;
	inited = 1;
	signal(SIGPIPE, SIG_IGN);
	signal(SIGALRM, on_alarm);
	atexit(cleanup_all);
}

int
harness_valgrind(void)
{
	const char	*v = getenv("SOCKD_VALGRIND");

	return v != NULL && strcmp(v, "1") == 0;
}

int
harness_ms(int ms)
{
	return harness_valgrind() ? ms * 6 : ms;
}

static const char *sockd_path(void);

int
harness_asan(void)
{
	static int	 asan = -1;
	char		*bin;

	if (asan == -1) {
		bin = slurp_file(sockd_path());
		/* ThreadSanitizer's shadow memory says as little. */
		asan = bin != NULL && (memmem(bin, slurp_len, "__asan_init",
		    11) != NULL || memmem(bin, slurp_len, "__tsan_init",
		    11) != NULL);
		free(bin);
	}
	return asan;
}

static const char *
sockd_path(void)
{
	const char	*p = getenv("SOCKD");

	return p != NULL && *p != '\0' ? p : "build/sockd";
}

const char *
harness_plugins(void)
{
	static char	 abs[PATH_MAX];
	const char	*p = getenv("SOCKD_PLUGINS");

	if (p == NULL || *p == '\0')
		p = "build/plugins";
	if (realpath(p, abs) == NULL)
		snprintf(abs, sizeof(abs), "%s", p);
	return abs;
}

struct harness *
harness_new(void)
{
	struct harness		*h;
	struct sockaddr_un	 sun;
	size_t			 i;

	init_once();
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	h->notify_fd = -1;
	drain_timeout = 3;
	snprintf(h->dir, sizeof(h->dir), "/tmp/sockd-e2e.XXXXXX");
	if (mkdtemp(h->dir) == NULL) {
		free(h);
		return NULL;
	}
	snprintf(h->conf, sizeof(h->conf), "%s/sockd.conf", h->dir);
	snprintf(h->logpath, sizeof(h->logpath), "%s/log", h->dir);
	snprintf(h->notify, sizeof(h->notify), "%s/notify", h->dir);

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/notify", h->dir);
	h->notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (h->notify_fd == -1 ||
	    bind(h->notify_fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		harness_free(h);
		return NULL;
	}
	for (i = 0; i < MAX_HARNESS; i++)
		if (live[i] == NULL) {
			live[i] = h;
			break;
		}
	/* A stuck test is killed, with what it started. */
	alarm(harness_valgrind() ? 900 : 120);
	return h;
}

static void
remove_dir(const char *dir)
{
	DIR		*d;
	struct dirent	*e;
	char		 p[PATH_MAX];

	if ((d = opendir(dir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		(void)unlink(p);
	}
	closedir(d);
	(void)rmdir(dir);
}

static void
kill_reap(struct harness *h)
{
	if (h->pid > 0) {
		(void)kill(h->pid, SIGKILL);
		(void)waitpid(h->pid, NULL, 0);
		h->pid = 0;
	}
}

static void
close_clients(void)
{
	int	 fd;

	for (fd = 0; fd < MAX_FD; fd++)
		if (clients[fd].open)
			client_close(fd);
}

static void
cleanup_all(void)
{
	size_t	 i;

	for (i = 0; i < MAX_HARNESS; i++)
		if (live[i] != NULL) {
			kill_reap(live[i]);
			remove_dir(live[i]->dir);
		}
	redis_server_stop();
}

void
harness_free(struct harness *h)
{
	size_t	 i;

	if (h == NULL)
		return;
	alarm(0);
	close_clients();
	kill_reap(h);
	if (!h->passed || getenv("SOCKD_E2E_VERBOSE") != NULL) {
		const char	*log = harness_log(h);

		if (log != NULL && *log != '\0')
			fprintf(stderr, "---- sockd log (%s) ----\n%s"
			    "---- end of log ----\n", h->dir, log);
		if (h->out != NULL && *h->out != '\0')
			fprintf(stderr, "---- last run's stdout ----\n%s"
			    "---- end ----\n", h->out);
		if (h->err != NULL && *h->err != '\0')
			fprintf(stderr, "---- last run's stderr ----\n%s"
			    "---- end ----\n", h->err);
	}
	if (h->notify_fd != -1)
		close(h->notify_fd);
	remove_dir(h->dir);
	for (i = 0; i < MAX_HARNESS; i++)
		if (live[i] == h)
			live[i] = NULL;
	free(h->log);
	free(h->out);
	free(h->err);
	free(h->line);
	free(h);
}

int
harness_setup(void **state)
{
	*state = harness_new();
	return *state == NULL ? -1 : 0;
}

int
harness_teardown(void **state)
{
	harness_free(*state);
	*state = NULL;
	return 0;
}

void
harness_filter(void)
{
	const char	*f = getenv("SOCKD_E2E_FILTER");

	if (f != NULL && *f != '\0')
		cmocka_set_test_filter(f);
}

const char *
harness_dir(const struct harness *h)
{
	return h->dir;
}

const char *
harness_conf(const struct harness *h)
{
	return h->conf;
}

void
harness_pass(struct harness *h)
{
	h->passed = 1;
}

pid_t
harness_pid(const struct harness *h)
{
	return h->pid;
}

static int
port_bindable(int type, int family, int port)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	int			 fd, ok, one = 1;

	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		sin6->sin6_addr = in6addr_loopback;
		len = sizeof(*sin6);
	}
	if ((fd = socket(family, type | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
		    sizeof(one));
	ok = bind(fd, (struct sockaddr *)&ss, len) == 0;
	if (ok && port == 0) {
		len = sizeof(ss);
		if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
			ok = ntohs(((struct sockaddr_in *)&ss)->sin_port);
		else
			ok = 0;
	}
	close(fd);
	return ok;
}

int
harness_port(void)
{
	static int	 given[1024];
	static size_t	 ngiven;
	size_t		 i;
	int		 tries, port;

	for (tries = 0; tries < 200; tries++) {
		if ((port = port_bindable(SOCK_STREAM, AF_INET, 0)) <= 0)
			continue;
		for (i = 0; i < ngiven; i++)
			if (given[i] == port)
				break;
		if (i < ngiven)
			continue;
		if (port_bindable(SOCK_DGRAM, AF_INET, port) != 1 ||
		    port_bindable(SOCK_STREAM, AF_INET6, port) != 1 ||
		    port_bindable(SOCK_DGRAM, AF_INET6, port) != 1)
			continue;
		if (ngiven < sizeof(given) / sizeof(given[0]))
			given[ngiven++] = port;
		return port;
	}
	return -1;
}

static const char *
write_file(struct harness *h, const char *path, const char *pre,
    const char *fmt, va_list ap)
{
	FILE	*fp;

	if ((fp = fopen(path, "w")) == NULL)
		return NULL;
	if (pre != NULL)
		fputs(pre, fp);
	vfprintf(fp, fmt, ap);
	if (fclose(fp) != 0)
		return NULL;
	return path;
}

const char *
harness_write(struct harness *h, const char *name, const char *fmt, ...)
{
	va_list		 ap;
	const char	*p;

	snprintf(h->path, sizeof(h->path), "%s/%s", h->dir, name);
	va_start(ap, fmt);
	p = write_file(h, h->path, NULL, fmt, ap);
	va_end(ap);
	return p;
}

const char *
harness_daemon_section(void)
{
	static char	 buf[PATH_MAX + 512];

	snprintf(buf, sizeof(buf),
	    "daemon: {\n"
	    "\tlog = \"stderr\";\n"
	    "\tlog_level = \"debug\";\n"
	    "\thandler_dir = \"%s\";\n"
	    "%s"
	    "\tdrain_timeout = %d;\n"
	    "};\n", harness_plugins(),
	    geteuid() == 0 ? "\tuser = \"root\";\n" : "", drain_timeout);
	return buf;
}

int
harness_daemon_lines(void)
{
	const char	*p;
	int		 n = 0;

	for (p = harness_daemon_section(); *p != '\0'; p++)
		n += *p == '\n';
	return n;
}

const char *
harness_user(void)
{
	return geteuid() == 0 ? " user = \"root\";" : "";
}

const char *
harness_quiet_section(int workers)
{
	static char	 buf[PATH_MAX + 512];
	char		 w[32] = "";

	if (workers > 0)
		snprintf(w, sizeof(w), " workers = %d;", workers);
	snprintf(buf, sizeof(buf), "daemon: { log = \"stderr\"; "
	    "log_level = \"info\"; handler_dir = \"%s\";%s "
	    "drain_timeout = %d;%s };\n", harness_plugins(), w, drain_timeout,
	    harness_user());
	return buf;
}

void
harness_drain_timeout(int seconds)
{
	drain_timeout = seconds;
}

const char *
harness_config(struct harness *h, const char *fmt, ...)
{
	va_list		 ap;
	const char	*p;

	va_start(ap, fmt);
	p = write_file(h, h->conf, harness_daemon_section(), fmt, ap);
	va_end(ap);
	return p;
}

/* Writes the config file, section then fmt, and starts sockd on it; fails
 * the test unless it is ready. */
static void
serve(struct harness *h, const char *section, const char *fmt, va_list ap)
{
	assert_non_null(write_file(h, h->conf, section, fmt, ap));
	assert_int_equal(harness_start(h, NULL), 0);
}

void
harness_serve(struct harness *h, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	serve(h, harness_daemon_section(), fmt, ap);
	va_end(ap);
}

void
harness_serve_quiet(struct harness *h, int workers, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	serve(h, harness_quiet_section(workers), fmt, ap);
	va_end(ap);
}

static char *
slurp(const char *path)
{
	return slurp_file(path);
}

static char *
slurp_file(const char *path)
{
	FILE	*fp;
	char	*buf = NULL;
	size_t	 len = 0, cap = 0, n;

	if ((fp = fopen(path, "r")) == NULL)
		return strdup("");
	for (;;) {
		if (cap - len < 4097) {
			char *nb = realloc(buf, cap * 2 + 8192);

			if (nb == NULL)
				break;
			buf = nb;
			cap = cap * 2 + 8192;
		}
		if ((n = fread(buf + len, 1, cap - len - 1, fp)) == 0)
			break;
		len += n;
	}
	fclose(fp);
	if (buf != NULL)
		buf[len] = '\0';
	slurp_len = len;
	return buf;
}

/* argv: the wrapper (NULL: valgrind when asked for), sockd, first, then
 * the caller's arguments. */
static size_t
build_argv(const char **argv, const char *const *wrap,
    const char *const *first, va_list ap)
{
	static const char *const vg[] = { "valgrind", "--error-exitcode=99",
	    "--leak-check=full", "--errors-for-leak-kinds=definite,indirect",
	    "--track-fds=no", "-q", NULL };
	const char	*a;
	size_t		 n = 0, i;

	if (wrap == NULL && harness_valgrind())
		wrap = vg;
	for (i = 0; wrap != NULL && wrap[i] != NULL; i++)
		argv[n++] = wrap[i];
	argv[n++] = sockd_path();
	for (i = 0; first != NULL && first[i] != NULL; i++)
		argv[n++] = first[i];
	while (n < MAX_ARGS - 1 && (a = va_arg(ap, const char *)) != NULL)
		argv[n++] = a;
	argv[n] = NULL;
	return n;
}

static pid_t
spawn(const char **argv, const char *out, const char *err,
    const char *notify)
{
	pid_t	 pid, parent = getpid();
	int	 fd;

	if ((pid = fork()) != 0)
		return pid;
	/* Dies with the test process even when that one crashes and its
	 * atexit cleanup never runs (a sanitizer abort, SIGKILL). */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != parent)
		_exit(127);
	if ((fd = open("/dev/null", O_RDONLY)) != -1) {
		dup2(fd, 0);
		close(fd);
	}
	if ((fd = open(out, O_WRONLY | O_CREAT | O_APPEND, 0644)) != -1) {
		dup2(fd, 1);
		close(fd);
	}
	if ((fd = open(err, O_WRONLY | O_CREAT | O_APPEND, 0644)) != -1) {
		dup2(fd, 2);
		close(fd);
	}
	signal(SIGPIPE, SIG_DFL);
	signal(SIGALRM, SIG_DFL);
	if (notify != NULL)
		setenv("NOTIFY_SOCKET", notify, 1);
	else
		unsetenv("NOTIFY_SOCKET");
	execvp(argv[0], (char *const *)argv);
	dprintf(2, "e2e: exec %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

static int
decode(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return -1;
}

int
harness_run(struct harness *h, ...)
{
	const char	*argv[MAX_ARGS];
	char		 out[PATH_MAX], err[PATH_MAX];
	va_list		 ap;
	long long	 deadline;
	pid_t		 pid;
	int		 status, rc = -1;

	snprintf(out, sizeof(out), "%s/run.out", h->dir);
	snprintf(err, sizeof(err), "%s/run.err", h->dir);
	(void)unlink(out);
	(void)unlink(err);
	va_start(ap, h);
	build_argv(argv, NULL, NULL, ap);
	va_end(ap);
	if ((pid = spawn(argv, out, err, NULL)) == -1)
		return -1;
	deadline = harness_now_ms() + harness_ms(10000);
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid) {
			rc = decode(status);
			break;
		}
		if (harness_now_ms() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			break;
		}
		usleep(10000);
	}
	free(h->out);
	free(h->err);
	h->out = slurp(out);
	h->err = slurp(err);
	return rc;
}

int
harness_check(struct harness *h, const char *conf)
{
	return harness_run(h, "-t", "-c", conf != NULL ? conf : h->conf,
	    NULL);
}

const char *
harness_stdout(struct harness *h)
{
	return h->out != NULL ? h->out : "";
}

const char *
harness_stderr(struct harness *h)
{
	return h->err != NULL ? h->err : "";
}

static int
reap(struct harness *h, int block)
{
	int	 status;
	pid_t	 r;

	if (h->pid <= 0)
		return h->exited;
	r = waitpid(h->pid, &status, block ? 0 : WNOHANG);
	if (r == h->pid) {
		h->status = decode(status);
		h->exited = 1;
		h->pid = 0;
	}
	return h->exited;
}

/* Receives one notify message into h->msg; 1, or 0 when none is ready. */
static int
notify_recv(struct harness *h)
{
	ssize_t	 n;

	n = recv(h->notify_fd, h->msg, sizeof(h->msg) - 1, 0);
	if (n < 0)
		return 0;
	h->msg[n] = '\0';
	return 1;
}

const char *
harness_notify(struct harness *h, const char *want, int ms)
{
	long long	 deadline = harness_now_ms() + harness_ms(ms);

	for (;;) {
		while (notify_recv(h))
			if (strstr(h->msg, want) != NULL)
				return h->msg;
		if (harness_now_ms() >= deadline)
			return NULL;
		(void)poll_until(h->notify_fd, POLLIN, deadline, 50);
	}
}

/* Starts argv, then waits for READY=1 as harness_start() tells. */
static int
start_argv(struct harness *h, const char **argv)
{
	long long	 deadline;

	if ((h->pid = spawn(argv, h->logpath, h->logpath, h->notify)) == -1) {
		h->pid = 0;
		return -1;
	}
	deadline = harness_now_ms() + (harness_valgrind() ? 60000 : 10000);
	for (;;) {
		while (notify_recv(h))
			if (strstr(h->msg, "READY=1") != NULL)
				return 0;
		if (reap(h, 0))
			return -1;
		if (harness_now_ms() >= deadline) {
			fprintf(stderr, "e2e: sockd sent no READY=1 in time\n");
			return -1;
		}
		(void)poll_until(h->notify_fd, POLLIN, deadline, 20);
	}
}

/* "sockd -f -c CONF" and the caller's arguments, run through wrap (NULL:
 * valgrind when asked for); what harness_start() returns. */
static int
start_wrapped(struct harness *h, const char *const *wrap, va_list ap)
{
	const char	*argv[MAX_ARGS];
	const char	*first[] = { "-f", "-c", h->conf, NULL };

	kill_reap(h);
	h->exited = 0;
	while (notify_recv(h))
		continue;
	build_argv(argv, wrap, first, ap);
	return start_argv(h, argv);
}

int
harness_start(struct harness *h, ...)
{
	va_list	 ap;
	int	 rc;

	va_start(ap, h);
	rc = start_wrapped(h, NULL, ap);
	va_end(ap);
	return rc;
}

int
harness_start_wrapped(struct harness *h, const char *const *wrap, ...)
{
	va_list	 ap;
	int	 rc;

	va_start(ap, wrap);
	rc = start_wrapped(h, wrap, ap);
	va_end(ap);
	return rc;
}

int
harness_signal(struct harness *h, int sig)
{
	if (h->pid <= 0)
		return -1;
	return kill(h->pid, sig);
}

int
harness_wait_exit(struct harness *h, int ms)
{
	long long	 deadline = harness_now_ms() + harness_ms(ms);

	for (;;) {
		if (reap(h, 0))
			return h->status;
		if (h->pid <= 0 || harness_now_ms() >= deadline)
			return -1;
		usleep(10000);
	}
}

int
harness_stop(struct harness *h)
{
	if (h->exited)
		return h->status;
	if (harness_signal(h, SIGTERM) == -1)
		return -1;
	return harness_wait_exit(h, 15000);
}

long
harness_cpu_ticks(const struct harness *h)
{
	char		 path[64], buf[1024], *p;
	unsigned long	 ut, st;
	FILE		*fp;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)h->pid);
	if ((fp = fopen(path, "r")) == NULL)
		return -1;
	p = fgets(buf, sizeof(buf), fp);
	fclose(fp);
	/* The fields after the command, which may hold spaces and ")". */
	if (p == NULL || (p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
	    &ut, &st) != 2)
		return -1;
	return (long)(ut + st);
}

long
harness_rss_kb(const struct harness *h)
{
	char	 path[64], line[256];
	FILE	*fp;
	long	 kb = -1;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)h->pid);
	if ((fp = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(fp);
	return kb;
}

const char *
harness_log(struct harness *h)
{
	free(h->log);
	h->log = slurp(h->logpath);
	return h->log != NULL ? h->log : "";
}

int
harness_log_has(struct harness *h, const char *needle)
{
	return strstr(harness_log(h), needle) != NULL;
}

int
harness_log_wait(struct harness *h, const char *needle, int ms)
{
	long long	 deadline = harness_now_ms() + harness_ms(ms);

	for (;;) {
		if (harness_log_has(h, needle))
			return 1;
		if (harness_now_ms() >= deadline)
			return 0;
		usleep(20000);
	}
}

const char *
harness_log_line(struct harness *h, const char *needle)
{
	const char	*log = harness_log(h), *p, *b, *e;

	if ((p = strstr(log, needle)) == NULL)
		return NULL;
	for (b = p; b > log && b[-1] != '\n'; b--)
		continue;
	if ((e = strchr(p, '\n')) == NULL)
		e = p + strlen(p);
	free(h->line);
	h->line = strndup(b, e - b);
	return h->line;
}

int
harness_log_count(struct harness *h, const char *needle)
{
	const char	*p = harness_log(h), *e;
	int		 n = 0;

	while (*p != '\0') {
		size_t	 len;
		char	*l;

		if ((e = strchr(p, '\n')) == NULL)
			e = p + strlen(p);
		len = e - p;
		if ((l = strndup(p, len)) != NULL) {
			if (strstr(l, needle) != NULL)
				n++;
			free(l);
		}
		p = *e == '\n' ? e + 1 : e;
	}
	return n;
}

/* Clients. */

static int
fill_addr(const char *addr, int port, struct sockaddr_storage *ss,
    socklen_t *len)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		*len = sizeof(*sin);
		return AF_INET;
	}
	if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		*len = sizeof(*sin6);
		return AF_INET6;
	}
	return -1;
}

static int
client_track(int fd)
{
	if (fd < 0 || fd >= MAX_FD) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	clients[fd].open = 1;
	clients[fd].off = clients[fd].len = 0;
	return fd;
}

void
client_close(int fd)
{
	if (fd < 0)
		return;
	if (fd < MAX_FD) {
		clients[fd].open = 0;
		free(clients[fd].buf);
		clients[fd].buf = NULL;
		clients[fd].off = clients[fd].len = 0;
	}
	close(fd);
}

void
clients_close(const int *fds, int n)
{
	int	 i;

	for (i = 0; i < n; i++)
		client_close(fds[i]);
}

/*
 * A tracked, non-blocking socket of type bound to src:sport (src NULL: not
 * bound) and connected to addr:port (addr NULL: the loopback address of
 * src's family; port 0: not connected), with SO_RCVBUF set first when
 * rcvbuf > 0; -1 on failure.
 */
static int
client_open(int type, const char *src, int sport, const char *addr,
    int port, int rcvbuf)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	int			 fd, family, err = 0, one = 1;

	init_once();
	if (addr == NULL)
		addr = src != NULL && strchr(src, ':') != NULL ? "::1" :
		    "127.0.0.1";
	if ((family = fill_addr(addr, port, &ss, &len)) == -1)
		return -1;
	fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (client_track(fd) == -1)
		return -1;
	if (rcvbuf > 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
		    sizeof(rcvbuf));
	if (src != NULL) {
		struct sockaddr_storage	 from;
		socklen_t		 flen;

		/* A fixed port may still be held by the last test's socket. */
		if (sport != 0)
			(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
			    sizeof(one));
		if (fill_addr(src, sport, &from, &flen) != family ||
		    bind(fd, (struct sockaddr *)&from, flen) == -1)
			goto fail;
	}
	if (port == 0)
		return fd;
	if (connect(fd, (struct sockaddr *)&ss, len) == -1) {
		if (type != SOCK_STREAM || errno != EINPROGRESS)
			goto fail;
		if (poll_until(fd, POLLOUT, harness_now_ms() +
		    harness_ms(5000), 0) != 1)
			goto fail;
		len = sizeof(err);
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1 ||
		    err != 0)
			goto fail;
	}
	return fd;
fail:
	client_close(fd);
	return -1;
}

int
tcp_open_rcvbuf(const char *addr, int port, int rcvbuf)
{
	return client_open(SOCK_STREAM, NULL, 0, addr, port, rcvbuf);
}

int
tcp_open(const char *addr, int port)
{
	return client_open(SOCK_STREAM, NULL, 0, addr, port, 0);
}

int
tcp_open_from(const char *src, int port)
{
	return client_open(SOCK_STREAM, src, 0, NULL, port, 0);
}

int
tcp_send(int fd, const void *buf, size_t len)
{
	const char	*p = buf;
	long long	 deadline = harness_now_ms() + harness_ms(5000);
	ssize_t		 n;

	while (len > 0) {
		n = send(fd, p, len, MSG_NOSIGNAL);
		if (n > 0) {
			p += n;
			len -= n;
			continue;
		}
		if (n == -1 && errno != EAGAIN && errno != EINTR)
			return -1;
		if (harness_now_ms() >= deadline)
			return -1;
		(void)poll_until(fd, POLLOUT, deadline, 0);
	}
	return 0;
}

int
tcp_sends(int fd, const char *s)
{
	return tcp_send(fd, s, strlen(s));
}

/*
 * Makes bytes available in the read-ahead buffer; returns how many are
 * there, 0 at EOF, -1 at the deadline or on error (reset counts as EOF
 * for callers that only want to know the peer is gone: -2).
 */
static ssize_t
fill(int fd, long long deadline)
{
	struct client	*c = &clients[fd];
	ssize_t		 n;

	if (fd < 0 || fd >= MAX_FD)
		return -1;
	if (c->len > c->off)
		return c->len - c->off;
	if (c->buf == NULL && (c->buf = malloc(READAHEAD)) == NULL)
		return -1;
	c->off = c->len = 0;
	for (;;) {
		n = recv(fd, c->buf, READAHEAD, 0);
		if (n > 0) {
			c->len = n;
			return n;
		}
		if (n == 0)
			return 0;
		if (errno == ECONNRESET)
			return -2;
		if (errno != EAGAIN && errno != EINTR)
			return -1;
		if (harness_now_ms() >= deadline)
			return -1;
		(void)poll_until(fd, POLLIN, deadline, 0);
	}
}

ssize_t
tcp_recv_n(int fd, void *buf, size_t want, int ms)
{
	long long	 deadline = harness_now_ms() + harness_ms(ms);
	char		*p = buf;
	size_t		 got = 0, k;
	ssize_t		 n;

	while (got < want) {
		if ((n = fill(fd, deadline)) <= 0)
			break;
		k = (size_t)n < want - got ? (size_t)n : want - got;
		memcpy(p + got, clients[fd].buf + clients[fd].off, k);
		clients[fd].off += k;
		got += k;
	}
	return got;
}

/* tcp_recv_line() until deadline. */
static ssize_t
recv_line(int fd, char *buf, size_t size, long long deadline)
{
	size_t		 got = 0;
	ssize_t		 n;

	while (got + 1 < size) {
		char	 ch;

		if ((n = fill(fd, deadline)) <= 0) {
			buf[got] = '\0';
			return n == 0 && got == 0 ? 0 : -1;
		}
		ch = clients[fd].buf[clients[fd].off++];
		buf[got++] = ch;
		if (ch == '\n') {
			buf[got] = '\0';
			return got;
		}
	}
	buf[got] = '\0';
	return -1;
}

ssize_t
tcp_recv_line(int fd, char *buf, size_t size, int ms)
{
	return recv_line(fd, buf, size, harness_now_ms() + harness_ms(ms));
}

int
tcp_expect(int fd, const char *want, int ms)
{
	char		 line[4096];
	long long	 deadline = harness_now_ms() + harness_ms(ms);

	while (harness_now_ms() < deadline) {
		if (recv_line(fd, line, sizeof(line), deadline) <= 0)
			return 0;
		if (strstr(line, want) != NULL)
			return 1;
	}
	return 0;
}

void
tcp_skip_lines(int fd, int ms)
{
	char	 line[4096];

	while (tcp_recv_line(fd, line, sizeof(line), ms) > 0)
		continue;
}

ssize_t
tcp_recv_eof(int fd, char *buf, size_t size, int ms)
{
	long long	 deadline = harness_now_ms() + harness_ms(ms);
	size_t		 got = 0, k;
	ssize_t		 n;

	for (;;) {
		n = fill(fd, deadline);
		if (n == 0 || n == -2) {
			buf[got] = '\0';
			return got;
		}
		if (n < 0 || got + 1 >= size) {
			buf[got < size ? got : size - 1] = '\0';
			return -1;
		}
		k = (size_t)n < size - 1 - got ? (size_t)n : size - 1 - got;
		memcpy(buf + got, clients[fd].buf + clients[fd].off, k);
		clients[fd].off += k;
		got += k;
	}
}

int
tcp_closed(int fd, int ms)
{
	long long	 deadline = harness_now_ms() + harness_ms(ms);
	ssize_t		 n;

	for (;;) {
		n = fill(fd, deadline);
		if (n == 0 || n == -2)
			return 1;
		if (n < 0)
			return 0;
		clients[fd].off = clients[fd].len;
	}
}

int
tcp_quiet(int fd, int ms)
{
	long long	 deadline = harness_now_ms() + harness_ms(ms);

	return fill(fd, deadline) == -1 && harness_now_ms() >= deadline;
}

int
echo_ok(int fd, const char *msg)
{
	char	 buf[256];
	size_t	 n = strlen(msg);

	if (fd == -1 || n > sizeof(buf) || tcp_sends(fd, msg) != 0)
		return 0;
	return tcp_recv_n(fd, buf, n, 3000) == (ssize_t)n &&
	    memcmp(buf, msg, n) == 0;
}

int
echo_ok_from(const char *src, int port, const char *msg)
{
	int	 fd, ok;

	fd = tcp_open_from(src, port);
	ok = echo_ok(fd, msg);
	client_close(fd);
	return ok;
}

int
udp_open(const char *addr, int port)
{
	return client_open(SOCK_DGRAM, NULL, 0, addr, port, 0);
}

int
udp_open_from(const char *src, int sport, int port)
{
	return client_open(SOCK_DGRAM, src, sport, NULL, port, 0);
}

int
udp_send(int fd, const void *buf, size_t len)
{
	return send(fd, buf, len, 0) == (ssize_t)len ? 0 : -1;
}

ssize_t
udp_recv(int fd, void *buf, size_t size, int ms)
{
	long long	 deadline = harness_now_ms() + harness_ms(ms);
	ssize_t		 n;

	for (;;) {
		n = recv(fd, buf, size, 0);
		if (n >= 0)
			return n;
		/* ECONNREFUSED: an ICMP error from an earlier send. */
		if (errno != EAGAIN && errno != EINTR && errno != ECONNREFUSED)
			return -1;
		if (harness_now_ms() >= deadline)
			return -1;
		(void)poll_until(fd, POLLIN, deadline, 0);
	}
}

ssize_t
udp_ask(const char *addr, int port, const void *req, size_t len, void *buf,
    size_t size, int ms)
{
	ssize_t	 n;
	int	 fd;

	if ((fd = udp_open(addr, port)) == -1)
		return -1;
	n = udp_send(fd, req, len) == 0 ? udp_recv(fd, buf, size, ms) : -1;
	client_close(fd);
	return n;
}

ssize_t
udp_ask_str(const char *addr, int port, const void *req, size_t len,
    char *buf, size_t size, int ms)
{
	ssize_t	 n;

	n = udp_ask(addr, port, req, len, buf, size - 1, ms);
	if (n >= 0)
		buf[n] = '\0';
	return n;
}

size_t
udp_drain(const int *fds, int n, int first_ms, int ms, size_t want,
    int *count)
{
	struct pollfd	 pfd[16];
	char		 buf[2048];
	size_t		 total = 0;
	ssize_t		 r;
	int		 i, got = 0;

	assert_true(n <= 16);
	for (;;) {
		for (i = 0; i < n; i++) {
			pfd[i].fd = fds[i];
			pfd[i].events = POLLIN;
		}
		if (want > 0 && total >= want)
			break;
		if (poll(pfd, (nfds_t)n, harness_ms(got == 0 ? first_ms :
		    ms)) <= 0)
			break;
		for (i = 0; i < n; i++)
			while ((r = recv(fds[i], buf, sizeof(buf), 0)) >= 0) {
				total += (size_t)r;
				got++;
			}
	}
	if (count != NULL)
		*count = got;
	return total;
}

void
harness_stop_clean(struct harness *h)
{
	assert_int_equal(harness_stop(h), 0);
	harness_pass(h);
}

int
harness_start_nofile(struct harness *h, int nofile, ...)
{
	char		 limit[32];
	const char	*wrap[] = { "prlimit", limit, "--", NULL };
	va_list		 ap;
	int		 rc;

	/* prlimit sets the limits, then execs sockd in the same process. */
	snprintf(limit, sizeof(limit), "--nofile=%d:%d", nofile, nofile);
	va_start(ap, nofile);
	rc = start_wrapped(h, wrap, ap);
	va_end(ap);
	return rc;
}

/* Services. */

void
assert_tcp_recv(int fd, const char *want, int ms)
{
	char	 buf[4096];
	size_t	 len = strlen(want);

	assert_true(len <= sizeof(buf));
	assert_int_equal(tcp_recv_n(fd, buf, len, ms), len);
	assert_memory_equal(buf, want, len);
}

void
assert_reply_on(int fd, const char *msg, const char *want, int ms)
{
	assert_int_equal(tcp_sends(fd, msg), 0);
	assert_tcp_recv(fd, want, ms);
}

void
assert_tcp_reply(const char *addr, int port, const char *msg,
    const char *want, int ms)
{
	int	 fd;

	fd = tcp_open(addr, port);
	assert_true(fd >= 0);
	assert_reply_on(fd, msg, want, ms);
	client_close(fd);
}

int
chat_join(int port, char *nick, size_t size)
{
	char	 line[4096], *p;
	size_t	 n;
	int	 fd;

	if ((fd = tcp_open("127.0.0.1", port)) == -1)
		return -1;
	*nick = '\0';
	while (tcp_recv_line(fd, line, sizeof(line), 500) > 0)
		if (*nick == '\0' && (p = strstr(line, "guest")) != NULL) {
			/* "guest12", or "guest12-3f0a" in a room on a bus. */
			for (n = 5; isalnum((unsigned char)p[n]) ||
			    p[n] == '-'; n++)
				continue;
			snprintf(nick, size, "%.*s", (int)n, p);
		}
	return fd;
}

void
chat_join_all(int port, int n, int *c, char nick[][CHAT_NICK])
{
	int	 i;

	for (i = 0; i < n; i++) {
		c[i] = chat_join(port, nick[i], CHAT_NICK);
		assert_true(c[i] >= 0);
	}
}

void
chat_start(struct harness *h, int port, const char *settings, int n, int *c,
    char nick[][CHAT_NICK])
{
	harness_serve(h, "services = ({ name = \"chat\"; port = %d; %s });\n",
	    port, settings);
	chat_join_all(port, n, c, nick);
}

void
assert_time_now(const char *s, const char *fmt, int utc)
{
	struct tm	 tm;
	const char	*end;
	time_t		 t, now = time(NULL);

	memset(&tm, 0, sizeof(tm));
	tm.tm_isdst = -1;
	end = strptime(s, fmt, &tm);
	if (end == NULL || *end != '\0')
		fail_msg("\"%s\" does not match \"%s\"", s, fmt);
	t = utc ? timegm(&tm) : mktime(&tm);
	if (t < now - 2 || t > now + 2)
		fail_msg("\"%s\" is %lld s away from now", s,
		    (long long)(t - now));
}

void
assert_tcp_daytime(const char *addr, int port)
{
	char	 buf[512];
	ssize_t	 n;
	int	 fd;

	fd = tcp_open(addr, port);
	assert_true(fd >= 0);
	/* inetd's format: "Tue Dec  1 09:47:20 2026\r\n". */
	n = tcp_recv_eof(fd, buf, sizeof(buf), 3000);
	assert_int_equal(n, 26);
	assert_memory_equal(buf + 24, "\r\n", 2);
	buf[24] = '\0';
	assert_time_now(buf, "%a %b %e %H:%M:%S %Y", 0);
	client_close(fd);
}

const char *
harness_log_path(const struct harness *h)
{
	return h->logpath;
}

/* strace, to count system calls. */

void
strace_or_skip(void)
{
	if (harness_valgrind()) {
		printf("# strace cannot follow valgrind: skipped\n");
		skip();
	}
	if (access("/usr/bin/strace", X_OK) != 0) {
		printf("# strace is not installed: skipped\n");
		skip();
	}
}

pid_t
strace_sends_start(struct harness *h)
{
	char	 pidarg[32], out[4096];
	pid_t	 st;

	snprintf(pidarg, sizeof(pidarg), "%d", (int)harness_pid(h));
	snprintf(out, sizeof(out), "%s/strace.out", harness_dir(h));
	if ((st = fork()) == 0) {
		execl("/usr/bin/timeout", "timeout", "30", "/usr/bin/strace",
		    "-q", "-f", "-c", "-o", out, "-e",
		    "trace=sendto,sendmsg,sendmmsg", "-p", pidarg,
		    (char *)NULL);
		_exit(127);
	}
	assert_true(st > 0);
	harness_sleep_ms(harness_ms(1000));
	return st;
}

/* Calls of the send system calls in strace -c's summary file. */
static long
strace_sends(const char *path)
{
	char	 line[256], name[64];
	long	 calls, total = 0;
	FILE	*f;

	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		double	 pct, secs;
		long	 usecs, errs;

		/* "% time seconds usecs/call calls [errors] syscall" */
		if (sscanf(line, "%lf %lf %ld %ld %ld %63s", &pct, &secs,
		    &usecs, &calls, &errs, name) == 6 ||
		    sscanf(line, "%lf %lf %ld %ld %63s", &pct, &secs, &usecs,
		    &calls, name) == 5)
			if (strncmp(name, "send", 4) == 0)
				total += calls;
	}
	fclose(f);
	return total;
}

long
strace_sends_stop(struct harness *h, pid_t st)
{
	char	 out[4096];
	int	 status;

	(void)kill(st, SIGINT);
	assert_int_equal(waitpid(st, &status, 0), st);
	snprintf(out, sizeof(out), "%s/strace.out", harness_dir(h));
	return strace_sends(out);
}

/* redis-server, for the suites of the bus. */

static pid_t	 redis_pid;

void
redis_server_stop(void)
{
	if (redis_pid <= 0)
		return;
	/* SIGCONT too: a stopped process dies only once woken. */
	(void)kill(redis_pid, SIGKILL);
	(void)kill(redis_pid, SIGCONT);
	(void)waitpid(redis_pid, NULL, 0);
	redis_pid = 0;
}

pid_t
redis_server_pid(void)
{
	return redis_pid;
}

int
redis_server_cmd(int port, char *buf, size_t size, int argc,
    const char **argv)
{
	char	 head[64];
	int	 fd, i, rc = -1;

	if ((fd = tcp_open("127.0.0.1", port)) == -1)
		return -1;
	snprintf(head, sizeof(head), "*%d\r\n", argc);
	if (tcp_sends(fd, head) == -1)
		goto out;
	for (i = 0; i < argc; i++) {
		snprintf(head, sizeof(head), "$%zu\r\n", strlen(argv[i]));
		if (tcp_sends(fd, head) == -1 || tcp_sends(fd, argv[i]) ==
		    -1 || tcp_sends(fd, "\r\n") == -1)
			goto out;
	}
	if (tcp_recv_line(fd, buf, size, 2000) > 0)
		rc = 0;
	if (rc == 0 && buf[0] == '$' && buf[1] != '-' &&
	    tcp_recv_line(fd, buf, size, 2000) <= 0)
		rc = -1;
out:
	client_close(fd);
	return rc;
}

int
redis_server_start(int port)
{
	const char	*argv[1] = { "PING" };
	char		 p[16], buf[64];
	long long	 end;
	int		 fd;

	init_once();
	redis_server_stop();
	snprintf(p, sizeof(p), "%d", port);
	if ((redis_pid = fork()) == -1)
		return -1;
	if (redis_pid == 0) {
		if ((fd = open("/dev/null", O_RDWR)) != -1) {
			(void)dup2(fd, 0);
			(void)dup2(fd, 1);
			(void)dup2(fd, 2);
		}
		execlp("redis-server", "redis-server", "--port", p, "--bind",
		    "127.0.0.1", "--save", "", "--appendonly", "no",
		    (char *)NULL);
		_exit(127);
	}
	end = harness_now_ms() + 10000;
	while (harness_now_ms() < end) {
		if (redis_server_cmd(port, buf, sizeof(buf), 1, argv) == 0 &&
		    strncmp(buf, "+PONG", 5) == 0)
			return 0;
		harness_sleep_ms(50);
	}
	return -1;
}

int
redis_server_installed(void)
{
	return system("command -v redis-server >/dev/null 2>&1") == 0;
}

int
redis_server_start_or_skip(void)
{
	int	 port;

	if (!redis_server_installed()) {
		fprintf(stderr, "redis-server is not installed: skipped\n");
		skip();
	}
	port = harness_port();
	assert_int_equal(redis_server_start(port), 0);
	return port;
}
