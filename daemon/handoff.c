/*
 * handoff: a connection of an exec service given to its program.  conn.c
 * admits the connection as any other (allow/deny, PROXY, per_source,
 * rate, max_connections), then calls handoff_start() and closes its own
 * handle: the daemon keeps no copy of the socket, no buffer, only a small
 * record of the child (this struct, and conn.c's record of its place
 * under the limits) until the spawner says it exited.
 *
 * The child's environment is clean: PATH, the UCSPI names (PROTO,
 * TCPREMOTEIP, TCPREMOTEPORT, TCPLOCALIP, TCPLOCALPORT), xinetd's
 * REMOTE_HOST (the address: no name lookup), then the service's env and
 * passenv.  With stderr = "log", fd 2 is a pipe whose read end this
 * worker reads: each line is logged as "SERVICE[PID]: line", cut at
 * ERRLINE_MAX bytes, within the service's budget of lines a peer can
 * cause.  exec_timeout sends SIGTERM, then SIGKILL 5 s later.  The exit
 * is logged at info ("exit: pid=N status=0 duration=1.234s", or
 * "signal=TERM") with its own budget, and counted.
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sockd/handler.h>

#include "exec.h"
#include "handoff.h"
#include "log.h"
#include "service.h"
#include "spawn.h"
#include "util.h"

#define ERRLINE_MAX	256		/* bytes of a stderr line logged */
#define KILL_AFTER	5000		/* ms from SIGTERM to SIGKILL */

struct handoff;

/* The read end of a child's stderr, with its line so far.  A uv_poll and
 * read(), not a uv_pipe: the descriptor is opened and closed here. */
struct errpipe {
	uv_poll_t		 poll;
	struct handoff		*h;
	int			 fd;
	size_t			 len;
	int			 cut;		/* the line ran over: skip */
	char			 line[ERRLINE_MAX];
};

struct handoff {
	struct spawn_job	 job;
	struct service		*svc;		/* the caller's reference */
	struct svc_local	*local;
	struct errpipe		*ep;
	uv_timer_t		*timer;		/* exec_timeout */
	int			 pending;	/* handles not closed yet */
	int			 done;		/* the child is gone */
	int			 term;		/* SIGTERM sent for timeout */
	void			(*gone)(void *, int);
	void			*arg;
	int			 ran;
	char			 peer[64];
};

static void
handoff_free(struct handoff *h)
{
	if (h->pending > 0 || !h->done)
		return;
	free(h);
}

static void
on_handle_close(uv_handle_t *hd)
{
	struct handoff *h = hd->data;

	if ((void *)hd == (void *)h->ep) {
		(void)close(h->ep->fd);
		h->ep = NULL;
	}
	free(hd);
	h->pending--;
	handoff_free(h);
}

/* The line of errpipe ep, its first len bytes, is complete (or cut):
 * logged. */
static void
errpipe_line(struct errpipe *ep, size_t len)
{
	struct handoff *h = ep->h;
	unsigned int suppressed = 0;

	while (len > 0 && (ep->line[len - 1] == '\r' ||
	    ep->line[len - 1] == '\n'))
		len--;
	if (!service_logs(h->svc, LOG_WARNING) ||
	    !log_ratelimit_n(&h->local->rl, 10, &suppressed))
		return;
	log_line(LOG_WARNING, "%s[%d]: %.*s%s%s", h->svc->conf.name,
	    (int)h->job.pid, (int)len, ep->line, ep->cut ? "..." : "",
	    suppressed > 0 ? " (similar lines suppressed)" : "");
}

static void
errpipe_close(struct errpipe *ep)
{
	if (!uv_is_closing((uv_handle_t *)&ep->poll)) {
		ep->poll.data = ep->h;
		uv_close((uv_handle_t *)&ep->poll, on_handle_close);
	}
}

/* What the child wrote, at most reads read()s of it: whole lines
 * logged, a line longer than the buffer logged cut ("...") and its rest
 * skipped up to its newline.  At the end of the pipe, closed. */
static void
errpipe_read(struct errpipe *ep, int reads)
{
	char *nl;
	size_t used;
	ssize_t n;
	int i;

	for (i = 0; i < reads; i++) {
		if (ep->len == sizeof(ep->line))
			ep->len = 0;	/* a cut line's rest: skipped */
		n = read(ep->fd, ep->line + ep->len, sizeof(ep->line) -
		    ep->len);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			if (ep->len > 0 && !ep->cut)
				errpipe_line(ep, ep->len);
			errpipe_close(ep);
			return;
		}
		ep->len += (size_t)n;
		while ((nl = memchr(ep->line, '\n', ep->len)) != NULL) {
			used = (size_t)(nl - ep->line) + 1;
			if (!ep->cut)
				errpipe_line(ep, used);
			ep->cut = 0;
			memmove(ep->line, ep->line + used, ep->len - used);
			ep->len -= used;
		}
		if (ep->len == sizeof(ep->line) && !ep->cut) {
			ep->cut = 1;
			errpipe_line(ep, ep->len);
		}
	}
}

/* A few reads a turn, so that a chatty child cannot hold the loop. */
static void
on_err_poll(uv_poll_t *p, int status, int events)
{
	errpipe_read(p->data, 4);
}

static void
handoff_exit_log(struct handoff *h, int status, uint64_t ms)
{
	char how[48];
	unsigned int suppressed = 0;

	if (status == -1)
		snprintf(how, sizeof(how), "status=unknown");
	else if (WIFSIGNALED(status))
		snprintf(how, sizeof(how), "signal=%s%s",
		    sigabbrev_np(WTERMSIG(status)) != NULL ?
		    sigabbrev_np(WTERMSIG(status)) : "?",
		    WCOREDUMP(status) ? " core" : "");
	else
		snprintf(how, sizeof(how), "status=%d", WEXITSTATUS(status));
	if (!service_logs(h->svc, LOG_INFO) ||
	    !log_ratelimit_n(&h->local->arl, 1000, &suppressed))
		return;
	log_line(LOG_INFO, "%s %s: exit: pid=%d %s duration=%llu.%03llus%s",
	    h->svc->conf.name, h->peer, (int)h->job.pid, how,
	    (unsigned long long)(ms / 1000), (unsigned long long)(ms % 1000),
	    suppressed > 0 ? " (similar lines suppressed)" : "");
}

static void
handoff_end(struct handoff *h)
{
	h->done = 1;
	if (h->timer != NULL && !uv_is_closing((uv_handle_t *)h->timer))
		uv_close((uv_handle_t *)h->timer, on_handle_close);
	/* What the child wrote before it exited is still in the pipe
	 * (the exit's note can come first): read up to the pipe's size of
	 * it now, then close it, even if something the child left behind
	 * still holds the write end. */
	if (h->ep != NULL && !uv_is_closing((uv_handle_t *)&h->ep->poll))
		errpipe_read(h->ep, 65536 / ERRLINE_MAX);
	if (h->ep != NULL)
		errpipe_close(h->ep);
	h->gone(h->arg, h->ran);
	handoff_free(h);
}

static void
on_timeout(uv_timer_t *t)
{
	struct handoff *h = t->data;

	if (!h->term) {
		h->term = 1;
		service_logx(h->svc, h->local, "%s: pid %d ran past "
		    "exec_timeout (%llds): SIGTERM", h->peer, (int)h->job.pid,
		    ((struct exec_conf *)h->svc->port_state)->timeout);
		spawn_kill(&h->job, SIGTERM);
		(void)uv_timer_start(t, on_timeout, KILL_AFTER, 0);
	} else
		spawn_kill(&h->job, SIGKILL);
}

static void
on_job(struct spawn_job *j, enum spawn_event ev, int value, uint64_t ms)
{
	struct handoff *h = (struct handoff *)j;
	struct svc_stats *st = &h->local->st;

	switch (ev) {
	case SPAWN_STARTED:
		h->ran = 1;
		stat_inc(&st->exec_started);
		log_debug("%s %s: started pid %d", h->svc->conf.name, h->peer,
		    value);
		return;
	case SPAWN_FAILED:
		stat_inc(&st->exec_failed);
		service_logx(h->svc, h->local, "%s: cannot start %s: %s",
		    h->peer, ((struct exec_conf *)h->svc->port_state)->argv[0],
		    strerror(value));
		break;
	case SPAWN_EXITED:
		stat_inc(&st->exec_exited);
		handoff_exit_log(h, value, ms);
		break;
	}
	handoff_end(h);
}

/* "NAME=value" into env[*n], from the spare room at *p (end at end). */
static void
env_add(const char **env, uint32_t *n, char **p, const char *end,
    const char *name, const char *v)
{
	int len = snprintf(*p, (size_t)(end - *p), "%s=%s", name, v);

	if (len < 0 || len >= end - *p)
		return;
	env[(*n)++] = *p;
	*p += len + 1;
}

/* The UCSPI names of the addresses. */
static void
env_addrs(struct spawn_spec *sp, char **p, const char *end,
    unsigned int proto, const struct sockaddr *peer,
    const struct sockaddr *local)
{
	static const char *const names[2][5] = {
		{ "TCPREMOTEIP", "TCPREMOTEPORT", "TCPLOCALIP", "TCPLOCALPORT",
		    "TCP" },
		{ "UDPREMOTEIP", "UDPREMOTEPORT", "UDPLOCALIP", "UDPLOCALPORT",
		    "UDP" },
	};
	const char *const *n = names[proto == SOCKD_UDP];
	char ip[INET6_ADDRSTRLEN], port[8];
	const struct sockaddr *sa;
	const void *a;
	int i;

	env_add(sp->env, &sp->nenv, p, end, "PROTO", n[4]);
	for (i = 0; i < 2; i++) {
		sa = i == 0 ? peer : local;
		if (sa == NULL || (sa->sa_family != AF_INET &&
		    sa->sa_family != AF_INET6))
			continue;
		a = sa->sa_family == AF_INET ?
		    (const void *)&((const struct sockaddr_in *)sa)->sin_addr :
		    (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr;
		if (inet_ntop(sa->sa_family, a, ip, sizeof(ip)) == NULL)
			continue;
		snprintf(port, sizeof(port), "%d", sockaddr_port(sa));
		env_add(sp->env, &sp->nenv, p, end, n[2 * i], ip);
		env_add(sp->env, &sp->nenv, p, end, n[2 * i + 1], port);
		if (i == 0)
			env_add(sp->env, &sp->nenv, p, end, "REMOTE_HOST",
			    ip);
	}
}

/* The request for ec's program. */
static void
handoff_spec(struct spawn_spec *sp, const struct exec_conf *ec,
    char *room, size_t roomlen, unsigned int proto,
    const struct sockaddr *peer, const struct sockaddr *local)
{
	char *p = room;
	size_t i;

	memset(sp, 0, sizeof(*sp));
	sp->flags = SPAWN_SETUSER | (ec->has_nice ? SPAWN_NICE : 0);
	if (ec->setuser) {
		sp->uid = ec->uid;
		sp->gid = ec->gid;
		sp->ngroups = (uint32_t)ec->ngroups;
		memcpy(sp->groups, ec->groups, ec->ngroups *
		    sizeof(ec->groups[0]));
	} else {
		/* The daemon's own user, which it runs as now. */
		sp->uid = getuid();
		sp->gid = getgid();
		sp->ngroups = 1;
		sp->groups[0] = sp->gid;
	}
	sp->nice = ec->nice;
	sp->umask = ec->umask;
	sp->err = ec->err == EXEC_ERR_SOCKET ? SPAWN_ERR_SOCKET :
	    ec->err == EXEC_ERR_NULL ? SPAWN_ERR_NULL : SPAWN_ERR_FD;
	sp->nrlim = (uint32_t)ec->nrlim;
	memcpy(sp->rlim, ec->rlim, ec->nrlim * sizeof(ec->rlim[0]));
	sp->dir = ec->dir;
	sp->argc = (uint32_t)ec->argc;
	for (i = 0; i < ec->argc; i++)
		sp->argv[i] = ec->argv[i];
	env_add(sp->env, &sp->nenv, &p, room + roomlen, "PATH",
	    "/usr/local/bin:/usr/bin:/bin");
	env_addrs(sp, &p, room + roomlen, proto, peer, local);
	for (i = 0; i < ec->nenv && sp->nenv < SPAWN_MAX_ENV; i++)
		sp->env[sp->nenv++] = ec->env[i];
}

/* A pipe for the child's stderr: the read end on the loop, the write end
 * in *wfd; -1 when there is none. */
static int
handoff_errpipe(struct handoff *h, uv_loop_t *loop, int *wfd)
{
	struct errpipe *ep;
	int fds[2];

	if ((ep = calloc(1, sizeof(*ep))) == NULL)
		return -1;
	if (pipe2(fds, O_CLOEXEC) == -1) {
		free(ep);
		return -1;
	}
	(void)fcntl(fds[0], F_SETFL, O_NONBLOCK);
	if (uv_poll_init(loop, &ep->poll, fds[0]) != 0) {
		(void)close(fds[0]);
		(void)close(fds[1]);
		free(ep);
		return -1;
	}
	ep->fd = fds[0];
	ep->h = h;
	ep->poll.data = ep;
	h->ep = ep;
	h->pending++;
	(void)uv_poll_start(&ep->poll, UV_READABLE | UV_DISCONNECT,
	    on_err_poll);
	*wfd = fds[1];
	return 0;
}

int
handoff_start(struct spawn_client *cl, struct service *s,
    struct svc_local *l, int fd, unsigned int proto,
    const struct sockaddr *peer, const struct sockaddr *local,
    void (*gone)(void *, int), void *arg)
{
	const struct exec_conf *ec = s->port_state;
	static _Thread_local struct spawn_spec sp;
	char room[1024];
	struct handoff *h;
	char text[64];
	int wfd = -1, rc;

	if (peer != NULL)
		(void)sockaddr_fmt(peer, text, sizeof(text));
	else
		snprintf(text, sizeof(text), "-");
	if ((h = calloc(1, sizeof(*h))) == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	h->svc = s;
	h->local = l;
	h->gone = gone;
	h->arg = arg;
	memcpy(h->peer, text, sizeof(h->peer));
	handoff_spec(&sp, ec, room, sizeof(room), proto, peer, local);
	if (ec->err == EXEC_ERR_LOG && handoff_errpipe(h, cl->loop, &wfd) ==
	    -1)
		sp.err = SPAWN_ERR_NULL;
	rc = spawn_start(cl, &h->job, &sp, fd, wfd, on_job);
	if (wfd != -1)
		(void)close(wfd);
	if (rc < 0) {
		h->done = 1;
		if (h->ep != NULL)
			errpipe_close(h->ep);
		handoff_free(h);
		goto fail;
	}
	if (ec->timeout > 0 && (h->timer = malloc(sizeof(*h->timer))) !=
	    NULL) {
		(void)uv_timer_init(cl->loop, h->timer);
		h->timer->data = h;
		h->pending++;
		(void)uv_timer_start(h->timer, on_timeout,
		    (uint64_t)ec->timeout * 1000, 0);
	}
	return 0;
fail:
	stat_inc(&l->st.exec_failed);
	service_logx(s, l, "%s: cannot start %s: %s", text, ec->argv[0],
	    rc == -ECONNREFUSED ? "the spawner is gone" : strerror(-rc));
	return -1;
}
