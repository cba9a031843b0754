/*
 * service: a configured service bound to its handler.  Creating one is
 * where the handler is looked up and its configure() runs, so "sockd -t"
 * and a reload both go through here and report the same errors.  Options
 * a handler does not list, and options of the wrong type that its getters
 * met, are errors naming file and line.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sockd/handler.h>

#include "opts.h"
#include "registry.h"
#include "service.h"
#include "util.h"

struct service *
service_new(struct svc_conf *sc, const char *handler_dir,
    struct errlist *errs)
{
	struct service *s;
	const char *why;
	char err[512];
	size_t nerr = errs->n;

	s = xcalloc(1, sizeof(*s));
	s->conf = *sc;
	memset(sc, 0, sizeof(*sc));
	sc = &s->conf;
	s->refs = 1;
	TAILQ_INIT(&s->conns);
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
		why = s->h->configure((const struct sockd_opts *)sc->opts,
		    &s->port_state);
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
service_ref(struct service *s)
{
	s->refs++;
}

void
service_unref(struct service *s)
{
	if (--s->refs > 0)
		return;
	if (s->h != NULL && s->h->unconfigure != NULL)
		s->h->unconfigure(s->port_state);
	srctab_free(&s->src);
	svc_conf_clear(&s->conf);
	free(s);
}

void
service_log_stats(const struct service *s)
{
	const struct svc_stats *st = &s->st;

	log_info("%s: connections %llu accepted, %u open, refused %llu "
	    "busy %llu acl %llu per_source %llu rate; closed %llu idle "
	    "%llu slow; datagrams %llu in, %llu replies, %llu dropped",
	    s->conf.name, (unsigned long long)st->accepted, s->nconns,
	    (unsigned long long)st->refused_busy,
	    (unsigned long long)st->refused_acl,
	    (unsigned long long)st->refused_source,
	    (unsigned long long)st->refused_rate,
	    (unsigned long long)st->closed_idle,
	    (unsigned long long)st->closed_slow,
	    (unsigned long long)st->dgrams, (unsigned long long)st->replies,
	    (unsigned long long)st->dropped);
}

void
service_logx(struct service *s, const char *fmt, ...)
{
	char line[512];
	unsigned int suppressed;
	va_list ap;

	if (!log_ratelimit(&s->rl, &suppressed))
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (suppressed > 0)
		log_warnx("%s: %s (%u similar lines suppressed)", s->conf.name,
		    line, suppressed);
	else
		log_warnx("%s: %s", s->conf.name, line);
}
