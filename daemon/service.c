/*
 * service: a configured service bound to its handler.  Creating one is
 * where the handler is looked up and its configure() runs, so "sockd -t"
 * and a reload both go through here and report the same errors.  Options
 * a handler does not list, and options of the wrong type that its getters
 * met, are errors naming file and line.  Lines its peers cause are
 * logged up to the service's own log_level when it has one
 * (service_logs()), so that one service can be quieted, or followed
 * closely, without the others.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sockd/handler.h>

#include <uv.h>

#include "errlist.h"
#include "exec.h"
#include "opts.h"
#include "registry.h"
#include "service.h"
#include "util.h"

static LIST_HEAD(, service) services = LIST_HEAD_INITIALIZER(services);
static uv_mutex_t	 services_mu;
static uv_once_t	 services_once = UV_ONCE_INIT;

static void
services_init(void)
{
	if (uv_mutex_init(&services_mu) != 0)
		abort();
}

struct service *
service_new(struct svc_conf *sc, const char *handler_dir, int nworkers,
    struct errlist *errs)
{
	struct service *s;
	const char *why;
	char err[512];
	size_t nerr = errs->n;
	int i;

	s = xcalloc(1, sizeof(*s));
	s->conf = *sc;
	memset(sc, 0, sizeof(*sc));
	sc = &s->conf;
	atomic_init(&s->refs, 1);
	atomic_init(&s->nconns, 0);
	s->nlocal = nworkers;
	s->local = xcalloc(nworkers, sizeof(*s->local));
	for (i = 0; i < nworkers; i++)
		TAILQ_INIT(&s->local[i].conns);
	s->h = registry_find(sc->handler, handler_dir, err, sizeof(err));
	if (s->h == NULL) {
		errlist_add(errs, sc->file, sc->line, "service \"%s\": %s",
		    sc->name, err);
		goto fail;
	}
	if ((sc->protocols & ~s->h->protocols) != 0) {
		errlist_add(errs, sc->file, sc->line, "service \"%s\": "
		    "handler \"%s\" does not serve %s", sc->name, s->h->name,
		    proto_name(sc->protocols & ~s->h->protocols));
		goto fail;
	}
	opts_check_names(sc->opts, s->h->options, sc->name, errs);
	if (errs->n != nerr)
		goto fail;
	if (s->h->configure != NULL) {
		/* The built-in exec reports each error on its own line. */
		if (exec_handler(s->h)) {
			sc->opts->errs = errs;
			sc->opts->svc = sc->name;
		}
		why = s->h->configure((const struct sockd_opts *)sc->opts,
		    &s->port_state);
		sc->opts->errs = NULL;
		if (why == NULL && exec_handler(s->h))
			exec_check_service(s->port_state, sc, errs);
		if (sc->opts->badline != 0) {
			errlist_add(errs, sc->opts->file, sc->opts->badline,
			    "service \"%s\": %s", sc->name, sc->opts->bad);
		}
		if (why != NULL)
			errlist_add(errs, sc->opts->file, sc->opts->line,
			    "service \"%s\": handler \"%s\": %s", sc->name,
			    s->h->name, why);
		if (errs->n != nerr) {
			if (why == NULL && s->h->unconfigure != NULL)
				s->h->unconfigure(s->port_state);
			s->h = NULL;
			goto fail;
		}
	}
	return s;
fail:
	s->h = NULL;
	service_unref(s);
	return NULL;
}

void
service_publish(struct service *s)
{
	uv_once(&services_once, services_init);
	uv_mutex_lock(&services_mu);
	if (!s->listed) {
		LIST_INSERT_HEAD(&services, s, all);
		s->listed = 1;
	}
	uv_mutex_unlock(&services_mu);
}

void
service_foreach(void (*fn)(struct service *, void *), void *arg)
{
	struct service *s;

	uv_once(&services_once, services_init);
	uv_mutex_lock(&services_mu);
	LIST_FOREACH(s, &services, all)
		fn(s, arg);
	uv_mutex_unlock(&services_mu);
}

void
service_ref(struct service *s)
{
	atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
}

void
service_unref(struct service *s)
{
	int i;

	if (atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) != 1)
		return;
	if (s->listed) {
		uv_mutex_lock(&services_mu);
		LIST_REMOVE(s, all);
		uv_mutex_unlock(&services_mu);
	}
	if (s->h != NULL && s->h->unconfigure != NULL)
		s->h->unconfigure(s->port_state);
	for (i = 0; i < s->nlocal; i++)
		srctab_free(&s->local[i].src);
	free(s->local);
	svc_conf_clear(&s->conf);
	free(s);
}

void
service_totals(const struct service *s, struct svc_totals *t)
{
	const struct svc_stats *st;
	int i;

	for (i = 0; i < s->nlocal; i++) {
		st = &s->local[i].st;
#define SVC_TOTAL_ADD(n)	t->n += stat_get(&st->n);
		SVC_COUNTERS(SVC_TOTAL_ADD)
#undef SVC_TOTAL_ADD
	}
	t->open += atomic_load_explicit(&((struct service *)s)->nconns,
	    memory_order_relaxed);
}

void
service_log_stats(const struct service *s, int worker)
{
	const struct svc_local *l = &s->local[worker < 0 ? 0 : worker];
	const struct svc_stats *st = &l->st;
	char name[96];
	uint64_t dropped;

	if (worker < 0)
		snprintf(name, sizeof(name), "%s", s->conf.name);
	else
		snprintf(name, sizeof(name), "%s (worker %d)", s->conf.name,
		    worker);
	dropped = stat_get(&st->dropped_source) +
	    stat_get(&st->dropped_truncated) + stat_get(&st->dropped_acl) +
	    stat_get(&st->dropped_rate) + stat_get(&st->dropped_budget) +
	    stat_get(&st->dropped_send) + stat_get(&st->dropped_handler);
	log_info("%s: connections %llu accepted, %u open, refused %llu "
	    "busy %llu acl %llu per_source %llu rate %llu no_fds; proxy "
	    "%llu refused %llu bad %llu timeout; closed "
	    "%llu idle %llu slow; datagrams %llu in, %llu replies, "
	    "%llu dropped",
	    name, (unsigned long long)stat_get(&st->accepted), l->nconns,
	    (unsigned long long)stat_get(&st->refused_busy),
	    (unsigned long long)stat_get(&st->refused_acl),
	    (unsigned long long)stat_get(&st->refused_source),
	    (unsigned long long)stat_get(&st->refused_rate),
	    (unsigned long long)stat_get(&st->refused_nofds),
	    (unsigned long long)stat_get(&st->refused_proxy),
	    (unsigned long long)stat_get(&st->proxy_bad),
	    (unsigned long long)stat_get(&st->proxy_timeout),
	    (unsigned long long)stat_get(&st->closed_idle),
	    (unsigned long long)stat_get(&st->closed_slow),
	    (unsigned long long)stat_get(&st->dgrams),
	    (unsigned long long)stat_get(&st->replies),
	    (unsigned long long)dropped);
	if (s->h != NULL && exec_handler(s->h))
		log_info("%s: exec %llu started, %llu failed, %llu exited",
		    name, (unsigned long long)stat_get(&st->exec_started),
		    (unsigned long long)stat_get(&st->exec_failed),
		    (unsigned long long)stat_get(&st->exec_exited));
}

int
service_log_level(const struct service *s)
{
	return s->conf.log_level >= 0 ? (int)s->conf.log_level :
	    log_get_level();
}

int
service_logs(const struct service *s, int pri)
{
	/* A plugin may pass a facility too: the level alone counts. */
	return LOG_PRI(pri) <= service_log_level(s);
}

void
service_logx(struct service *s, struct svc_local *l, const char *fmt, ...)
{
	char line[512];
	unsigned int suppressed;
	va_list ap;

	/* Checked first: a hidden line costs no share of the budget. */
	if (!service_logs(s, LOG_WARNING) ||
	    !log_ratelimit(&l->rl, &suppressed))
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (suppressed > 0)
		log_line(LOG_WARNING, "%s: %s (%u similar lines suppressed)",
		    s->conf.name, line, suppressed);
	else
		log_line(LOG_WARNING, "%s: %s", s->conf.name, line);
}
