/*
 * control: the pid file and, next to it, a unix socket on the main loop
 * through which "sockd -r" asks for a reload and waits for its verdict,
 * so that a reload command can fail when the reload did.  One command,
 * "reload", one line; the answer is one line, "ok: ..." or "failed:
 * ...", sent when the reload that started after the request is over (its
 * check in a child and its apply are asynchronous), then the connection
 * is closed.  Only the daemon's own uid and root are served (SO_PEERCRED,
 * besides the socket's mode 0600); a client that says nothing within
 * CONTROL_IDLE_MS, says something else or sends too long a line gets an
 * error and is closed; at most CONTROL_CLIENTS are open at once.  Nothing
 * here blocks: the answer is a few bytes to an empty socket buffer.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/queue.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "control.h"
#include "log.h"
#include "util.h"

#define CONTROL_IDLE_MS		5000
#define CONTROL_CLIENTS		16
#define CONTROL_LINE		64

enum ctl_state { CTL_READING, CTL_WAITING, CTL_CURRENT, CTL_CLOSING };

struct ctl_client {
	uv_pipe_t		 pipe;		/* first: the close callback */
	uv_timer_t		 idle;
	struct control		*ctl;
	enum ctl_state		 state;
	int			 handles;	/* still to close */
	size_t			 len;
	char			 buf[CONTROL_LINE];
	LIST_ENTRY(ctl_client)	 link;
};

struct control {
	uv_pipe_t		 server;	/* first: the close callback */
	uid_t			 uid;
	void			(*reload)(void *);
	void			*arg;
	char			 pidfile[4096];
	char			 path[108];	/* sun_path */
	int			 nclients;
	int			 closing;
	LIST_HEAD(, ctl_client)	 clients;
};

int
control_path(const char *pidfile, char *buf, size_t len)
{
	size_t n = strlen(pidfile);
	int rc;

	if (n > 4 && strcmp(pidfile + n - 4, ".pid") == 0)
		rc = snprintf(buf, len, "%.*s.sock", (int)(n - 4), pidfile);
	else
		rc = snprintf(buf, len, "%s.sock", pidfile);
	return rc < 0 || (size_t)rc >= len ? -1 : 0;
}

static void
control_free(struct control *ctl)
{
	if (ctl->closing && ctl->nclients == 0 && ctl->server.data == NULL)
		free(ctl);
}

static void
on_client_close(uv_handle_t *h)
{
	struct ctl_client *cl = h->data;
	struct control *ctl = cl->ctl;

	if (--cl->handles > 0)
		return;
	LIST_REMOVE(cl, link);
	ctl->nclients--;
	free(cl);
	control_free(ctl);
}

/* Sends line (a few bytes: the kernel takes them whole) and closes. */
static void
client_end(struct ctl_client *cl, const char *line)
{
	uv_buf_t b;

	if (cl->state == CTL_CLOSING)
		return;
	if (line != NULL) {
		b = uv_buf_init((char *)line, (unsigned int)strlen(line));
		(void)uv_try_write((uv_stream_t *)&cl->pipe, &b, 1);
	}
	cl->state = CTL_CLOSING;
	uv_close((uv_handle_t *)&cl->pipe, on_client_close);
	uv_close((uv_handle_t *)&cl->idle, on_client_close);
}

static void
on_client_idle(uv_timer_t *t)
{
	client_end(t->data, "error: no command within 5 seconds\n");
}

static void
on_client_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	struct ctl_client *cl = h->data;

	*b = uv_buf_init(cl->buf + cl->len,
	    (unsigned int)(sizeof(cl->buf) - 1 - cl->len));
}

static void
on_client_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct ctl_client *cl = s->data;
	char *nl, line[CONTROL_LINE + 64];

	if (n == 0)
		return;
	if (n < 0) {
		client_end(cl, NULL);
		return;
	}
	cl->len += (size_t)n;
	cl->buf[cl->len] = '\0';
	if ((nl = strchr(cl->buf, '\n')) == NULL) {
		if (cl->len >= sizeof(cl->buf) - 1)
			client_end(cl, "error: command too long\n");
		return;
	}
	*nl = '\0';
	if (nl > cl->buf && nl[-1] == '\r')
		nl[-1] = '\0';
	if (strcmp(cl->buf, "reload") != 0) {
		snprintf(line, sizeof(line), "error: unknown command \"%.*s\" "
		    "(known: reload)\n", 40, cl->buf);
		client_end(cl, line);
		return;
	}
	(void)uv_read_stop(s);
	(void)uv_timer_stop(&cl->idle);
	cl->state = CTL_WAITING;
	log_info("reload asked on the control socket");
	cl->ctl->reload(cl->ctl->arg);
}

static void
on_control_connection(uv_stream_t *server, int status)
{
	struct control *ctl = server->data;
	struct ctl_client *cl;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	uv_os_fd_t fd;

	if (status < 0)
		return;
	cl = xcalloc(1, sizeof(*cl));
	cl->ctl = ctl;
	cl->handles = 2;
	(void)uv_pipe_init(server->loop, &cl->pipe, 0);
	cl->pipe.data = cl;
	(void)uv_timer_init(server->loop, &cl->idle);
	cl->idle.data = cl;
	LIST_INSERT_HEAD(&ctl->clients, cl, link);
	ctl->nclients++;
	if (uv_accept(server, (uv_stream_t *)&cl->pipe) != 0) {
		client_end(cl, NULL);
		return;
	}
	if (uv_fileno((uv_handle_t *)&cl->pipe, &fd) != 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1) {
		client_end(cl, "error: cannot tell who you are\n");
		return;
	}
	if (cred.uid != 0 && cred.uid != ctl->uid) {
		log_warnx("control socket: refused uid %ld (pid %ld): only "
		    "uid %ld and root may use it", (long)cred.uid,
		    (long)cred.pid, (long)ctl->uid);
		client_end(cl, "error: permission denied\n");
		return;
	}
	if (ctl->nclients > CONTROL_CLIENTS) {
		client_end(cl, "error: too many control clients\n");
		return;
	}
	(void)uv_timer_start(&cl->idle, on_client_idle, CONTROL_IDLE_MS, 0);
	(void)uv_read_start((uv_stream_t *)&cl->pipe, on_client_alloc,
	    on_client_read);
}

/* 1 when a daemon accepts connections on path. */
static int
control_alive(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd, rc;

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return 0;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	close(fd);
	return rc == 0;
}

static void	on_server_close(uv_handle_t *);

static int
pidfile_write(const char *path, uid_t uid, gid_t gid)
{
	char buf[32];
	int fd, n;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
	    O_NOFOLLOW, 0644)) == -1)
		return -1;
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (write(fd, buf, (size_t)n) != n ||
	    (geteuid() == 0 && fchown(fd, uid, gid) == -1)) {
		close(fd);
		return -1;
	}
	return close(fd);
}

struct control *
control_open(uv_loop_t *loop, const char *pidfile, uid_t uid, gid_t gid,
    void (*reload)(void *), void *arg, char *err, size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct control *ctl;
	mode_t mask;
	int fd = -1, rc;

	ctl = xcalloc(1, sizeof(*ctl));
	ctl->uid = uid;
	ctl->reload = reload;
	ctl->arg = arg;
	LIST_INIT(&ctl->clients);
	snprintf(ctl->pidfile, sizeof(ctl->pidfile), "%s", pidfile);
	if (control_path(pidfile, ctl->path, sizeof(ctl->path)) == -1) {
		snprintf(err, errlen, "pid file %s: name too long for its "
		    "control socket", pidfile);
		goto fail;
	}
	if (control_alive(ctl->path)) {
		snprintf(err, errlen, "%s: another sockd answers on this "
		    "control socket: stop it, or give this one its own pid "
		    "file (-P)", ctl->path);
		goto fail;
	}
	if (pidfile_write(pidfile, uid, gid) == -1) {
		snprintf(err, errlen, "pid file %s: %s", pidfile,
		    strerror(errno));
		goto fail;
	}
	memcpy(sun.sun_path, ctl->path, strlen(ctl->path));
	(void)unlink(ctl->path);
	/* Made 0600 from the start: no window in which others connect. */
	mask = umask(0177);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		rc = errno;
		(void)umask(mask);
		goto fail_sock;
	}
	(void)umask(mask);
	if ((geteuid() == 0 && chown(ctl->path, uid, gid) == -1) ||
	    listen(fd, CONTROL_CLIENTS) == -1) {
		rc = errno;
		goto fail_sock;
	}
	(void)uv_pipe_init(loop, &ctl->server, 0);
	ctl->server.data = ctl;
	if ((rc = uv_pipe_open(&ctl->server, fd)) != 0 ||
	    (rc = uv_listen((uv_stream_t *)&ctl->server, CONTROL_CLIENTS,
	    on_control_connection)) != 0) {
		snprintf(err, errlen, "control socket %s: %s", ctl->path,
		    uv_strerror(rc));
		ctl->closing = 1;
		(void)unlink(ctl->path);
		(void)unlink(ctl->pidfile);
		if (uv_fileno((uv_handle_t *)&ctl->server,
		    &(uv_os_fd_t){ 0 }) != 0)
			close(fd);
		/* ctl is freed in the close callback */
		uv_close((uv_handle_t *)&ctl->server, on_server_close);
		return NULL;
	}
	log_info("control socket %s, pid file %s", ctl->path, pidfile);
	return ctl;
fail_sock:
	snprintf(err, errlen, "control socket %s: %s", ctl->path,
	    strerror(rc));
	if (fd != -1)
		close(fd);
	(void)unlink(ctl->path);
	(void)unlink(pidfile);
fail:
	free(ctl);
	return NULL;
}

void
control_reload_started(struct control *ctl)
{
	struct ctl_client *cl;

	if (ctl == NULL)
		return;
	LIST_FOREACH(cl, &ctl->clients, link)
		if (cl->state == CTL_WAITING)
			cl->state = CTL_CURRENT;
}

void
control_reload_done(struct control *ctl, int ok, const char *msg)
{
	struct ctl_client *cl, *next;
	char line[1024];

	if (ctl == NULL)
		return;
	snprintf(line, sizeof(line), "%s: %s\n", ok ? "ok" : "failed", msg);
	for (cl = LIST_FIRST(&ctl->clients); cl != NULL; cl = next) {
		next = LIST_NEXT(cl, link);
		if (cl->state == CTL_CURRENT)
			client_end(cl, line);
	}
}

static void
on_server_close(uv_handle_t *h)
{
	struct control *ctl = h->data;

	ctl->server.data = NULL;
	control_free(ctl);
}

void
control_close(struct control *ctl)
{
	struct ctl_client *cl, *next;

	if (ctl == NULL)
		return;
	ctl->closing = 1;
	for (cl = LIST_FIRST(&ctl->clients); cl != NULL; cl = next) {
		next = LIST_NEXT(cl, link);
		client_end(cl, cl->state == CTL_READING ? NULL :
		    "failed: sockd is stopping\n");
	}
	/* After the privilege drop the directory may be root's: then the
	 * next start replaces both. */
	(void)unlink(ctl->path);
	(void)unlink(ctl->pidfile);
	uv_close((uv_handle_t *)&ctl->server, on_server_close);
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
control_request(const char *pidfile, const char *cmd)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct pollfd pfd;
	char path[sizeof(sun.sun_path)], buf[2048], req[CONTROL_LINE];
	long long deadline;
	size_t len = 0;
	ssize_t n;
	int fd, rc, left;

	if (control_path(pidfile, path, sizeof(path)) == -1) {
		fprintf(stderr, "sockd: pid file %s: name too long\n", pidfile);
		return 2;
	}
	memcpy(sun.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		fprintf(stderr, "sockd: no sockd answers on %s: %s (is it "
		    "running, with this pid file?)\n", path, strerror(errno));
		if (fd != -1)
			close(fd);
		return 2;
	}
	n = snprintf(req, sizeof(req), "%s\n", cmd);
	if (send(fd, req, (size_t)n, MSG_NOSIGNAL) != n) {
		fprintf(stderr, "sockd: %s: %s\n", path, strerror(errno));
		close(fd);
		return 2;
	}
	deadline = now_ms() + CONTROL_WAIT_MS;
	for (;;) {
		left = (int)(deadline - now_ms());
		pfd = (struct pollfd){ .fd = fd, .events = POLLIN };
		if (left <= 0 || (rc = poll(&pfd, 1, left)) == 0) {
			fprintf(stderr, "sockd: no answer from %s within %d "
			    "seconds\n", path, CONTROL_WAIT_MS / 1000);
			close(fd);
			return 1;
		}
		if (rc == -1 && errno == EINTR)
			continue;
		if (rc == -1 || (n = read(fd, buf + len, sizeof(buf) - 1 -
		    len)) < 0) {
			if (rc != -1 && errno == EINTR)
				continue;
			fprintf(stderr, "sockd: %s: %s\n", path,
			    strerror(errno));
			close(fd);
			return 1;
		}
		len += (size_t)n;
		if (n == 0 || len == sizeof(buf) - 1)
			break;
	}
	close(fd);
	buf[len] = '\0';
	if (len > 0 && buf[len - 1] == '\n')
		buf[len - 1] = '\0';
	if (strncmp(buf, "ok:", 3) == 0) {
		printf("sockd: %s done: %s\n", cmd, buf + 3 + (buf[3] == ' '));
		return 0;
	}
	if (strncmp(buf, "failed:", 7) == 0)
		fprintf(stderr, "sockd: %s failed: %s\n", cmd,
		    buf + 7 + (buf[7] == ' '));
	else if (len > 0)
		fprintf(stderr, "sockd: %s: %s\n", cmd, buf);
	else
		fprintf(stderr, "sockd: %s: the daemon closed the control "
		    "connection without an answer\n", cmd);
	return 1;
}
