/*
 * worker: one event loop serving connections and datagrams.  Worker 0 is
 * the main thread's loop; with "workers = N" the others run on threads of
 * their own, each with its own SO_REUSEPORT sockets so the kernel spreads
 * clients over them (or, for sockets bound after the privilege drop, a
 * dup() each of one shared socket), and share nothing on the data path:
 * a service keeps per-worker connection lists, source tables and
 * counters.  The supervisor binds every socket itself (so a bind error is
 * reported at once and undone easily) and hands each worker the ones to
 * start; it tells a worker thread what to do with a command mask and a
 * uv_async, and waits for W_APPLY so that a reload is complete when it
 * says so.
 */
#include <sys/socket.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sockd/handler.h>

#include "conn.h"
#include "listener.h"
#include "log.h"
#include "service.h"
#include "supervisor.h"
#include "util.h"
#include "worker.h"

static void	on_async(uv_async_t *);

static void
sweep_one(struct service *s, void *arg)
{
	struct worker *w = arg;
	struct svc_local *l = &s->local[w->id];
	uint64_t now = uv_now(w->loop);

	conn_sweep(s, w, now);
	if (l->src.cap > 0)
		srctab_sweep(&l->src, (double)s->conf.rate,
		    (double)s->conf.burst, now);
}

static void
on_tick(uv_timer_t *t)
{
	service_foreach(sweep_one, t->data);
}

int
worker_init(struct worker *w, struct supervisor *sup, int id,
    uv_loop_t *loop)
{
	w->id = id;
	w->sup = sup;
	w->loop = loop;
	w->rbuf = xcalloc(1, RBUF_SIZE);
	w->ubuf = xcalloc(1, UBUF_SIZE);
	LIST_INIT(&w->listeners);
	(void)uv_check_init(loop, &w->check);
	w->check.data = w;
	(void)uv_timer_init(loop, &w->partial_timer);
	w->partial_timer.data = w;
	TAILQ_INIT(&w->backlog);
	(void)uv_idle_init(loop, &w->backlog_idle);
	w->backlog_idle.data = w;
	TAILQ_INIT(&w->drainq);
	(void)uv_idle_init(loop, &w->drain_idle);
	w->drain_idle.data = w;
	(void)uv_timer_init(loop, &w->tick);
	w->tick.data = w;
	(void)uv_timer_start(&w->tick, on_tick, 1000, 1000);
	(void)uv_timer_init(loop, &w->drain);
	w->drain.data = w;
	if (id > 0) {
		if (uv_mutex_init(&w->mu) != 0 || uv_sem_init(&w->done, 0) != 0)
			return -1;
		(void)uv_async_init(loop, &w->async, on_async);
		w->async.data = w;
	}
	return 0;
}

static void
worker_main(void *arg)
{
	struct worker *w = arg;

	worker_apply(w, w->gen);
	uv_sem_post(&w->done);
	(void)uv_run(w->loop, UV_RUN_DEFAULT);
}

int
worker_spawn(struct worker *w)
{
	int rc;

	if ((rc = uv_thread_create(&w->thread, worker_main, w)) != 0) {
		log_warnx("worker %d: cannot start a thread: %s", w->id,
		    uv_strerror(rc));
		return -1;
	}
	/* Its listeners are its own from now on: wait until it has them,
	 * so the supervisor's next look at them comes after. */
	uv_sem_wait(&w->done);
	return 0;
}

/*
 * uv_udp_open() sets SO_REUSEADDR, with which any process of any user may
 * bind the same UDP address and receive its datagrams: cleared, the kernel
 * refuses them (the flag counts when the other binds).
 */
static void
listener_unshare(struct listener *l)
{
	uv_os_fd_t fd;
	int zero = 0;

	if (uv_fileno(&l->u.h, &fd) == 0 &&
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &zero,
	    sizeof(zero)) == -1)
		log_warn("%s: cannot clear SO_REUSEADDR", l->text);
}

void
worker_apply(struct worker *w, unsigned int gen)
{
	struct listener *l, *next;
	struct newsock *ns;
	struct service *old;

	for (l = LIST_FIRST(&w->listeners); l != NULL; l = next) {
		next = LIST_NEXT(l, link);
		if (l->gen != gen) {
			LIST_REMOVE(l, link);
			listener_close(l);
		} else if (l->next_svc != l->svc) {
			service_ref(l->next_svc);
			old = l->svc;
			l->svc = l->next_svc;
			service_unref(old);
		}
	}
	while ((ns = w->news) != NULL) {
		w->news = ns->next;
		if ((l = listener_start(w, ns)) != NULL) {
			if (l->proto == SOCKD_UDP)
				listener_unshare(l);
			l->gen = gen;
			LIST_INSERT_HEAD(&w->listeners, l, link);
		}
		free(ns);
	}
}

static void
worker_finish(struct worker *w)
{
	if (w->stopping == 2)
		return;
	w->stopping = 2;
	uv_close((uv_handle_t *)&w->check, NULL);
	uv_close((uv_handle_t *)&w->partial_timer, NULL);
	uv_close((uv_handle_t *)&w->backlog_idle, NULL);
	uv_close((uv_handle_t *)&w->drain_idle, NULL);
	uv_close((uv_handle_t *)&w->tick, NULL);
	uv_close((uv_handle_t *)&w->drain, NULL);
	if (w->id > 0)
		uv_close((uv_handle_t *)&w->async, NULL);
	supervisor_worker_done(w->sup);
}

static void
abort_one(struct service *s, void *arg)
{
	struct worker *w = arg;
	struct conn *c;

	TAILQ_FOREACH(c, &s->local[w->id].conns, link)
		conn_abort(c);
}

void
worker_abort(struct worker *w)
{
	if (w->nconns > 0)
		log_info("%sclosing %u connections now", w->sup->nworkers > 1 ?
		    "worker: " : "", w->nconns);
	service_foreach(abort_one, w);
}

static void
on_drain_timeout(uv_timer_t *t)
{
	struct worker *w = t->data;

	log_info("drain_timeout: closing %u connections", w->nconns);
	service_foreach(abort_one, w);
}

void
worker_stop(struct worker *w)
{
	struct listener *l;

	if (w->stopping) {
		worker_abort(w);
		return;
	}
	w->stopping = 1;
	while ((l = LIST_FIRST(&w->listeners)) != NULL) {
		LIST_REMOVE(l, link);
		listener_close(l);
	}
	if (w->nconns == 0) {
		worker_finish(w);
		return;
	}
	log_info("waiting up to %us for %u connections",
	    atomic_load(&w->sup->drain_timeout), w->nconns);
	(void)uv_timer_start(&w->drain, on_drain_timeout,
	    (uint64_t)atomic_load(&w->sup->drain_timeout) * 1000, 0);
}

void
worker_conn_gone(struct worker *w)
{
	if (w->stopping == 1 && w->nconns == 0)
		worker_finish(w);
}

static void
stats_one(struct service *s, void *arg)
{
	struct worker *w = arg;

	service_log_stats(s, w->sup->nworkers > 1 ? w->id : -1);
}

void
worker_log_stats(struct worker *w)
{
	service_foreach(stats_one, w);
}

void
worker_command(struct worker *w, unsigned int cmd, unsigned int gen)
{
	uv_mutex_lock(&w->mu);
	w->cmd |= cmd;
	if (cmd & W_APPLY)
		w->gen = gen;
	uv_mutex_unlock(&w->mu);
	(void)uv_async_send(&w->async);
	if (cmd & W_APPLY)
		uv_sem_wait(&w->done);
}

static void
on_async(uv_async_t *a)
{
	struct worker *w = a->data;
	unsigned int cmd, gen;

	uv_mutex_lock(&w->mu);
	cmd = w->cmd;
	gen = w->gen;
	w->cmd = 0;
	uv_mutex_unlock(&w->mu);
	if (cmd & W_APPLY) {
		worker_apply(w, gen);
		uv_sem_post(&w->done);
	}
	if (cmd & W_STATS)
		worker_log_stats(w);
	if (cmd & W_STOP)
		worker_stop(w);
	if (cmd & W_ABORT)
		worker_abort(w);
}

void
worker_free(struct worker *w)
{
	struct newsock *ns;

	while ((ns = w->news) != NULL) {
		w->news = ns->next;
		close(ns->fd);
		service_unref(ns->svc);
		free(ns);
	}
	if (w->id > 0) {
		uv_mutex_destroy(&w->mu);
		uv_sem_destroy(&w->done);
		if (w->loop != NULL) {
			(void)uv_loop_close(w->loop);
			free(w->loop);
		}
	}
	free(w->pieces);
	free(w->partial);
	free(w->rbuf);
	free(w->ubuf);
}
