/*
 * worker: one event loop serving connections and datagrams.  Worker 0 is
 * the main thread's loop; with "workers = N" the others run on threads of
 * their own, each with its own SO_REUSEPORT sockets so the kernel spreads
 * clients over them (or, for sockets bound after the privilege drop, a
 * dup() each of one shared socket), and share nothing on the data path:
 * a service keeps per-worker connection lists, source tables and
 * counters.  The supervisor binds every socket itself (so a bind error is
 * reported at once and undone easily) and sends each worker a plan of
 * the addresses to serve (plan.c); the worker applies it to the listeners
 * it owns, on its own thread.  A worker thread is told what to do with a
 * command mask and a uv_async, and W_APPLY is waited for, so that a
 * reload is complete when the supervisor says so.  What a worker needs of
 * the daemon (the done callback, drain_timeout, the shared counters)
 * comes in a struct worker_env at init: it knows nothing above itself.
 */
#include <stdlib.h>

#include "conn.h"
#include "dgram.h"
#include "listener.h"
#include "log.h"
#include "plan.h"
#include "service.h"
#include "worker.h"

static void	on_async(uv_async_t *);
static void	worker_finish(void *);

static void
sweep_one(struct service *s, void *arg)
{
	struct worker *w = arg;
	struct svc_local *l = &s->local[w->id];
	uint64_t now = uv_now(w->loop);

	conn_sweep(&w->cc, s, now);
	if (l->src.cap > 0)
		srctab_sweep(&l->src, (double)s->conf.rate,
		    (double)s->conf.burst, now);
}

static void
on_tick(uv_timer_t *t)
{
	struct worker *w = t->data;

	/* The supervisor's watchdog reads it: this loop still turns. */
	atomic_store(&w->beat, uv_hrtime() / 1000000);
	service_foreach(sweep_one, w);
}

int
worker_init(struct worker *w, const struct worker_env *env, int id,
    uv_loop_t *loop)
{
	w->id = id;
	w->env = env;
	w->loop = loop;
	conn_ctx_init(&w->cc, loop, id, env->nconns, env->max_connections,
	    worker_finish, w);
	dgram_ctx_init(&w->dc, loop, id);
	w->lenv.loop = loop;
	w->lenv.id = id;
	w->lenv.cc = &w->cc;
	w->lenv.dc = &w->dc;
	LIST_INIT(&w->listeners);
	atomic_init(&w->beat, uv_hrtime() / 1000000);
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

	worker_apply(w, w->plan);
	w->plan = NULL;
	uv_sem_post(&w->done);
	(void)uv_run(w->loop, UV_RUN_DEFAULT);
}

int
worker_spawn(struct worker *w, struct plan *p)
{
	int rc;

	w->plan = p;
	if ((rc = uv_thread_create(&w->thread, worker_main, w)) != 0) {
		w->plan = NULL;
		log_warnx("worker %d: cannot start a thread: %s", w->id,
		    uv_strerror(rc));
		return -1;
	}
	/* The plan is the supervisor's again once the thread applied it. */
	uv_sem_wait(&w->done);
	return 0;
}

void
worker_apply(struct worker *w, struct plan *p)
{
	struct listener *l, *next;
	struct plan_entry *e;
	size_t i;

	for (l = LIST_FIRST(&w->listeners); l != NULL; l = next) {
		next = LIST_NEXT(l, link);
		e = plan_find(p, l->proto, (struct sockaddr *)&l->addr);
		if (e == NULL || e->fd != -1 || e->served) {
			LIST_REMOVE(l, link);
			listener_close(l);
			continue;
		}
		listener_serve(l, e->svc);
		e->served = 1;
	}
	for (i = 0; i < p->n; i++) {
		e = &p->v[i];
		if (e->fd == -1)
			continue;
		l = listener_start(&w->lenv, e->proto,
		    (struct sockaddr *)&e->addr, e->fd, e->svc);
		e->fd = -1;
		if (l != NULL) {
			e->served = 1;
			LIST_INSERT_HEAD(&w->listeners, l, link);
		}
	}
}

/* The worker is done: its loop may end (the conn_ctx's empty callback
 * once draining). */
static void
worker_finish(void *arg)
{
	struct worker *w = arg;

	if (w->stopping == 2)
		return;
	w->stopping = 2;
	conn_ctx_close(&w->cc);
	uv_close((uv_handle_t *)&w->tick, NULL);
	uv_close((uv_handle_t *)&w->drain, NULL);
	if (w->id > 0)
		uv_close((uv_handle_t *)&w->async, NULL);
	w->env->done(w->env->arg);
}

/* "worker: " when there are several, for lines each of them logs. */
static const char *
worker_prefix(const struct worker *w)
{
	return w->env->nworkers > 1 ? "worker: " : "";
}

void
worker_abort(struct worker *w)
{
	unsigned int n = conn_ctx_count(&w->cc);

	if (n > 0)
		log_info("%sclosing %u connections now", worker_prefix(w), n);
	conn_ctx_abort_all(&w->cc);
}

static void
on_drain_timeout(uv_timer_t *t)
{
	struct worker *w = t->data;

	log_info("drain_timeout: closing %u connections",
	    conn_ctx_count(&w->cc));
	conn_ctx_cut(&w->cc);
}

void
worker_stop(struct worker *w)
{
	struct listener *l;
	unsigned int n, secs;

	if (w->stopping) {
		worker_abort(w);
		return;
	}
	w->stopping = 1;
	while ((l = LIST_FIRST(&w->listeners)) != NULL) {
		LIST_REMOVE(l, link);
		listener_close(l);
	}
	if ((n = conn_ctx_drain(&w->cc)) == 0) {
		worker_finish(w);
		return;
	}
	secs = atomic_load(w->env->drain_timeout);
	log_info("waiting up to %us for %u connections", secs, n);
	(void)uv_timer_start(&w->drain, on_drain_timeout,
	    (uint64_t)secs * 1000, 0);
}

static void
stats_one(struct service *s, void *arg)
{
	struct worker *w = arg;

	service_log_stats(s, w->env->nworkers > 1 ? w->id : -1);
}

void
worker_log_stats(struct worker *w)
{
	service_foreach(stats_one, w);
}

void
worker_command(struct worker *w, unsigned int cmd, struct plan *p)
{
	uv_mutex_lock(&w->mu);
	w->cmd |= cmd;
	if (cmd & W_APPLY)
		w->plan = p;
	uv_mutex_unlock(&w->mu);
	(void)uv_async_send(&w->async);
	if (cmd & W_APPLY)
		uv_sem_wait(&w->done);
}

static void
on_async(uv_async_t *a)
{
	struct worker *w = a->data;
	struct plan *p;
	unsigned int cmd;

	uv_mutex_lock(&w->mu);
	cmd = w->cmd;
	p = w->plan;
	w->plan = NULL;
	w->cmd = 0;
	uv_mutex_unlock(&w->mu);
	if (cmd & W_APPLY) {
		worker_apply(w, p);
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
	if (w->id > 0) {
		uv_mutex_destroy(&w->mu);
		uv_sem_destroy(&w->done);
		if (w->loop != NULL) {
			(void)uv_loop_close(w->loop);
			free(w->loop);
		}
	}
	conn_ctx_free(&w->cc);
	dgram_ctx_free(&w->dc);
}
