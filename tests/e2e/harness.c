/*
 * The end-to-end harness: one temp dir and one sockd process per test, and
 * client sockets with deadlines.  sockd is started in the foreground with
 * its stdout and stderr appended to dir/log, and is ready when it sends
 * READY=1 to the AF_UNIX datagram socket dir/notify named by NOTIFY_SOCKET,
 * the way systemd learns it.  Every live harness is on a list that the
 * atexit handler and the watchdog (SIGALRM) walk to kill and reap, so no
 * test can leave a daemon or a temp dir behind, whatever way it ends.
 * Client sockets are non-blocking; each has a small read-ahead buffer so
 * that line reads can take whole chunks.
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

static int
left_ms(long long deadline)
{
	long long	 d = deadline - harness_now_ms();

	return d < 0 ? 0 : (int)d;
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
		asan = bin != NULL && memmem(bin, slurp_len, "__asan_init",
		    11) != NULL;
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

/* argv: [valgrind ...] sockd then the caller's arguments. */
static size_t
build_argv(const char **argv, const char *first[], va_list ap)
{
	static const char *vg[] = { "valgrind", "--error-exitcode=99",
	    "--leak-check=full", "--errors-for-leak-kinds=definite,indirect",
	    "--track-fds=no", "-q" };
	const char	*a;
	size_t		 n = 0, i;

	if (harness_valgrind())
		for (i = 0; i < sizeof(vg) / sizeof(vg[0]); i++)
			argv[n++] = vg[i];
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
	build_argv(argv, NULL, ap);
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
	struct pollfd	 pfd;
	long long	 deadline = harness_now_ms() + harness_ms(ms);

	for (;;) {
		while (notify_recv(h))
			if (strstr(h->msg, want) != NULL)
				return h->msg;
		if (harness_now_ms() >= deadline)
			return NULL;
		pfd.fd = h->notify_fd;
		pfd.events = POLLIN;
		(void)poll(&pfd, 1, left_ms(deadline) > 50 ? 50 :
		    left_ms(deadline));
	}
}

int
harness_start(struct harness *h, ...)
{
	const char	*argv[MAX_ARGS];
	const char	*first[] = { "-f", "-c", h->conf, NULL };
	char		 notify[PATH_MAX];
	struct pollfd	 pfd;
	va_list		 ap;
	long long	 deadline;

	kill_reap(h);
	h->exited = 0;
	while (notify_recv(h))
		continue;
	snprintf(notify, sizeof(notify), "%s/notify", h->dir);
	va_start(ap, h);
	build_argv(argv, first, ap);
	va_end(ap);
	if ((h->pid = spawn(argv, h->logpath, h->logpath, notify)) == -1) {
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
		pfd.fd = h->notify_fd;
		pfd.events = POLLIN;
		(void)poll(&pfd, 1, 20);
	}
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

int
tcp_open_rcvbuf(const char *addr, int port, int rcvbuf)
{
	struct sockaddr_storage	 ss;
	struct pollfd		 pfd;
	socklen_t		 len;
	int			 fd, family, err = 0;

	init_once();
	if ((family = fill_addr(addr, port, &ss, &len)) == -1)
		return -1;
	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (client_track(fd) == -1)
		return -1;
	if (rcvbuf > 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
		    sizeof(rcvbuf));
	if (connect(fd, (struct sockaddr *)&ss, len) == -1) {
		if (errno != EINPROGRESS)
			goto fail;
		pfd.fd = fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, harness_ms(5000)) != 1)
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
tcp_open(const char *addr, int port)
{
	return tcp_open_rcvbuf(addr, port, 0);
}

int
tcp_send(int fd, const void *buf, size_t len)
{
	const char	*p = buf;
	long long	 deadline = harness_now_ms() + harness_ms(5000);
	struct pollfd	 pfd;
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
		pfd.fd = fd;
		pfd.events = POLLOUT;
		(void)poll(&pfd, 1, left_ms(deadline));
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
	struct pollfd	 pfd;
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
		pfd.fd = fd;
		pfd.events = POLLIN;
		(void)poll(&pfd, 1, left_ms(deadline));
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

ssize_t
tcp_recv_line(int fd, char *buf, size_t size, int ms)
{
	long long	 deadline = harness_now_ms() + harness_ms(ms);
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
udp_open(const char *addr, int port)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	int			 fd, family;

	init_once();
	if ((family = fill_addr(addr, port, &ss, &len)) == -1)
		return -1;
	fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (client_track(fd) == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&ss, len) == -1) {
		client_close(fd);
		return -1;
	}
	return fd;
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
	struct pollfd	 pfd;
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
		pfd.fd = fd;
		pfd.events = POLLIN;
		(void)poll(&pfd, 1, left_ms(deadline));
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

void
harness_stop_clean(struct harness *h)
{
	assert_int_equal(harness_stop(h), 0);
	harness_pass(h);
}

int
harness_start_nofile(struct harness *h, int nofile, ...)
{
	const char	*argv[MAX_ARGS], *a;
	char		 notify[PATH_MAX], limit[32];
	struct pollfd	 pfd;
	va_list		 ap;
	long long	 deadline;
	size_t		 n = 0;

	kill_reap(h);
	h->exited = 0;
	while (notify_recv(h))
		continue;
	snprintf(notify, sizeof(notify), "%s/notify", h->dir);
	snprintf(limit, sizeof(limit), "--nofile=%d:%d", nofile, nofile);
	argv[n++] = "prlimit";
	argv[n++] = limit;
	argv[n++] = "--";
	argv[n++] = sockd_path();
	argv[n++] = "-f";
	argv[n++] = "-c";
	argv[n++] = h->conf;
	va_start(ap, nofile);
	while (n < MAX_ARGS - 1 && (a = va_arg(ap, const char *)) != NULL)
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	/* prlimit sets the limits, then execs sockd in the same process. */
	if ((h->pid = spawn(argv, h->logpath, h->logpath, notify)) == -1) {
		h->pid = 0;
		return -1;
	}
	deadline = harness_now_ms() + 10000;
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
		pfd.fd = h->notify_fd;
		pfd.events = POLLIN;
		(void)poll(&pfd, 1, 20);
	}
}
