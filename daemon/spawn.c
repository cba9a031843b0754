/*
 * spawn: a worker's side of the spawner.  A job is a child asked for by
 * a connection (or a wait service); the request is encoded (spawnmsg.c)
 * and sent with its descriptors in one SOCK_SEQPACKET record, without
 * waiting: a full channel fails that spawn with EAGAIN, the loop never
 * blocks on the spawner.  The spawner's notes come back through a
 * uv_poll and go to the job of their id: started (with the pid) or failed
 * (with the errno), then exited (with the status and the time it ran).
 * When the channel ends (the spawner died), every job is told: the ones
 * not started failed, the others exited with an unknown status (-1), and
 * every later spawn fails at once.  The jobs are a list: a note looks its
 * job up in O(children of this worker).
 */
#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spawn.h"
#include "util.h"

static void	on_poll(uv_poll_t *, int, int);

void
spawn_client_init(struct spawn_client *cl, uv_loop_t *loop, int fd)
{
	memset(cl, 0, sizeof(*cl));
	cl->loop = loop;
	cl->fd = fd;
	cl->next_id = 1;
	LIST_INIT(&cl->jobs);
	cl->poll.data = cl;
	if (fd == -1 || uv_poll_init(loop, &cl->poll, fd) != 0) {
		if (fd != -1)
			(void)close(fd);
		cl->fd = -1;
		return;
	}
	(void)uv_poll_start(&cl->poll, UV_READABLE | UV_DISCONNECT, on_poll);
}

static void
on_poll_close(uv_handle_t *h)
{
	struct spawn_client *cl = h->data;

	(void)close(cl->fd);
	cl->fd = -1;
}

/* The channel is gone: every job ends. */
static void
spawn_lost(struct spawn_client *cl)
{
	struct spawn_job *j;

	if (cl->fd != -1 && !uv_is_closing((uv_handle_t *)&cl->poll))
		uv_close((uv_handle_t *)&cl->poll, on_poll_close);
	while ((j = LIST_FIRST(&cl->jobs)) != NULL) {
		LIST_REMOVE(j, link);
		j->cl = NULL;
		if (j->pid == 0)
			j->cb(j, SPAWN_FAILED, ECONNRESET, 0);
		else
			j->cb(j, SPAWN_EXITED, -1, 0);
	}
}

void
spawn_client_close(struct spawn_client *cl)
{
	cl->closing = 1;
	spawn_lost(cl);
	free(cl->buf);
	cl->buf = NULL;
}

static struct spawn_job *
spawn_find(struct spawn_client *cl, uint64_t id)
{
	struct spawn_job *j;

	LIST_FOREACH(j, &cl->jobs, link)
		if (j->id == id)
			return j;
	return NULL;
}

static void
spawn_note(struct spawn_client *cl, const struct spawn_note *n)
{
	struct spawn_job *j;

	if ((j = spawn_find(cl, n->id)) == NULL)
		return;
	if (n->type == SP_STARTED && n->err == 0) {
		j->pid = n->value;
		j->cb(j, SPAWN_STARTED, n->value, 0);
		return;
	}
	LIST_REMOVE(j, link);
	j->cl = NULL;
	if (n->type == SP_STARTED)
		j->cb(j, SPAWN_FAILED, n->err, 0);
	else
		j->cb(j, SPAWN_EXITED, n->value, n->ms);
}

static void
on_poll(uv_poll_t *h, int status, int events)
{
	struct spawn_client *cl = h->data;
	struct spawn_note n;
	ssize_t len;
	int i;

	/* A bounded batch per turn: 256 notes, then the other clients. */
	for (i = 0; i < 256 && !cl->closing && cl->fd != -1; i++) {
		len = recv(cl->fd, &n, sizeof(n), MSG_DONTWAIT);
		if (len == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		/* The spawner died with requests unread: the error comes
		 * once, before the notes it sent, then end of file. */
		if (len == -1 && errno == ECONNRESET)
			continue;
		if (len <= 0) {
			spawn_lost(cl);
			return;
		}
		if ((size_t)len == sizeof(n))
			spawn_note(cl, &n);
	}
}

int
spawn_start(struct spawn_client *cl, struct spawn_job *j,
    struct spawn_spec *sp, int sock, int errfd, spawn_cb cb)
{
	union {
		struct cmsghdr	 h;
		char		 b[CMSG_SPACE(2 * sizeof(int))];
	} cm;
	struct msghdr mh;
	struct cmsghdr *c;
	struct iovec iov;
	int fds[2] = { sock, errfd }, nfd = errfd != -1 ? 2 : 1;
	size_t len;

	if (cl->fd == -1 || cl->closing || uv_is_closing((uv_handle_t *)
	    &cl->poll))
		return -ECONNREFUSED;
	if (cl->buf == NULL && (cl->buf = malloc(SPAWN_MSG_MAX)) == NULL)
		return -ENOMEM;
	sp->id = cl->next_id++;
	if ((len = spawnmsg_encode(sp, cl->buf, SPAWN_MSG_MAX)) == 0)
		return -E2BIG;
	memset(&mh, 0, sizeof(mh));
	memset(&cm, 0, sizeof(cm));
	iov.iov_base = cl->buf;
	iov.iov_len = len;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cm.b;
	mh.msg_controllen = CMSG_SPACE(nfd * sizeof(int));
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(nfd * sizeof(int));
	memcpy(CMSG_DATA(c), fds, nfd * sizeof(int));
	if (sendmsg(cl->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) == -1)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	j->cl = cl;
	j->id = sp->id;
	j->pid = 0;
	j->cb = cb;
	LIST_INSERT_HEAD(&cl->jobs, j, link);
	return 0;
}

void
spawn_kill(struct spawn_job *j, int sig)
{
	struct spawn_note n;

	if (j->cl == NULL || j->cl->fd == -1)
		return;
	memset(&n, 0, sizeof(n));
	n.type = SP_KILL;
	n.id = j->id;
	n.value = sig;
	(void)send(j->cl->fd, &n, sizeof(n), MSG_DONTWAIT | MSG_NOSIGNAL);
}

void
spawn_kill_all(struct spawn_client *cl, int sig)
{
	struct spawn_job *j;

	LIST_FOREACH(j, &cl->jobs, link)
		spawn_kill(j, sig);
}

unsigned int
spawn_count(const struct spawn_client *cl)
{
	const struct spawn_job *j;
	unsigned int n = 0;

	LIST_FOREACH(j, &cl->jobs, link)
		n++;
	return n;
}
