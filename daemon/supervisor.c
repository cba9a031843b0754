/*
 * supervisor: owns the loop and the running configuration.  Start: load,
 * create the services (handlers configured), bind every listener, drop
 * privileges, tell systemd READY=1.  SIGHUP: the same steps on the new
 * file, into a new set; only when all of it worked is it swapped in, so a
 * broken file or a port that cannot be bound leaves the old configuration
 * serving.  A service whose settings did not change is kept as it is,
 * with its connections and its handler state (a chat room); a listener
 * whose address did not change keeps its socket.  SIGTERM/SIGINT: close
 * the listeners, let connections finish for drain_timeout, then close the
 * rest and return.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sockd/handler.h>

#include "config.h"
#include "conn.h"
#include "listener.h"
#include "log.h"
#include "notify.h"
#include "precheck.h"
#include "service.h"
#include "supervisor.h"
#include "util.h"

static void
svcvec_free(struct service **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		service_unref(v[i]);
	free(v);
}

/* Creates the enabled services of c, reusing running ones whose settings
 * are the same.  Returns -1 with the errors in errs. */
static int
services_create(struct supervisor *sup, struct config *c,
    struct errlist *errs, struct service ***out, size_t *nout)
{
	struct service **v, *s;
	size_t i, j, n = 0, nerr = errs->n;

	v = xcalloc(c->nsvc + 1, sizeof(*v));
	for (i = 0; i < c->nsvc; i++) {
		if (!c->svc[i].enabled)
			continue;
		for (j = 0; sup != NULL && j < sup->nsvc; j++)
			if (svc_conf_equal(&sup->svc[j]->conf, &c->svc[i]))
				break;
		if (sup != NULL && j < sup->nsvc) {
			s = sup->svc[j];
			service_ref(s);
		} else if ((s = service_new(&c->svc[i], c->handler_dir,
		    errs)) == NULL)
			continue;
		v[n++] = s;
	}
	if (errs->n != nerr) {
		svcvec_free(v, n);
		return -1;
	}
	*out = v;
	*nout = n;
	return 0;
}

/* Claims or opens every listener of v for generation gen. */
static int
listeners_open(struct supervisor *sup, struct service **v, size_t n,
    unsigned int gen, struct errlist *errs)
{
	struct listener *l;
	struct sockaddr_storage ss;
	struct svc_conf *sc;
	unsigned int p;
	char err[512];
	size_t i, k;
	int port;

	for (i = 0; i < n; i++) {
		sc = &v[i]->conf;
		for (p = SOCKD_TCP; p <= SOCKD_UDP; p <<= 1) {
			if (!(sc->protocols & p))
				continue;
			port = p == SOCKD_TCP ? sc->port_tcp : sc->port_udp;
			for (k = 0; k < sc->nbind; k++) {
				ss = sc->bind[k].ss;
				if (ss.ss_family == AF_INET6)
					((struct sockaddr_in6 *)(void *)&ss)->
					    sin6_port = htons((uint16_t)port);
				else
					((struct sockaddr_in *)(void *)&ss)->
					    sin_port = htons((uint16_t)port);
				LIST_FOREACH(l, &sup->listeners, link)
					if (l->gen != gen && listener_is(l, p,
					    (struct sockaddr *)&ss))
						break;
				if (l == NULL) {
					l = listener_open(&sup->w, v[i], p,
					    &sc->bind[k], port, err,
					    sizeof(err));
					if (l == NULL) {
						errlist_add(errs, sc->file,
						    sc->line, "%s", err);
						return -1;
					}
					l->fresh = 1;
					LIST_INSERT_HEAD(&sup->listeners, l,
					    link);
				}
				l->gen = gen;
				l->next_svc = v[i];
			}
		}
	}
	return 0;
}

/* After listeners_open(): keep (ok) or undo (!ok) generation gen. */
static void
listeners_settle(struct supervisor *sup, unsigned int gen, int ok)
{
	struct listener *l, *next;

	for (l = LIST_FIRST(&sup->listeners); l != NULL; l = next) {
		next = LIST_NEXT(l, link);
		if (ok && l->gen == gen) {
			l->svc = l->next_svc;
			l->fresh = 0;
		} else if (ok || l->fresh) {
			if (!ok)
				l->svc = l->next_svc;
			LIST_REMOVE(l, link);
			listener_close(l);
		} else
			l->gen = 0;
	}
}

static void
errs_log(struct errlist *errs)
{
	size_t i;

	for (i = 0; i < errs->n; i++)
		log_msg(LOG_ERR, "%s", errs->msg[i]);
}

static void
errs_print(struct errlist *errs)
{
	size_t i;

	for (i = 0; i < errs->n; i++)
		fprintf(stderr, "%s\n", errs->msg[i]);
}

int
supervisor_check(const struct options *opt)
{
	struct errlist errs = { 0 };
	struct service **v;
	struct config *c;
	size_t n;

	if ((c = config_load(opt->file, opt->port_offset, &errs)) != NULL &&
	    services_create(NULL, c, &errs, &v, &n) == 0)
		svcvec_free(v, n);
	config_free(c);
	if (errs.n > 0) {
		errs_print(&errs);
		errlist_free(&errs);
		return 1;
	}
	printf("configuration OK\n");
	return 0;
}

static uint64_t
monotonic_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void
supervisor_reload(struct supervisor *sup)
{
	static unsigned int gen = 1;
	struct errlist errs = { 0 };
	struct service **v;
	struct config *c;
	size_t n, i;
	char status[256];

	gen++;
	if ((c = config_load(sup->opt.file, sup->opt.port_offset,
	    &errs)) == NULL || services_create(sup, c, &errs, &v, &n) == -1)
		goto fail;
	if (listeners_open(sup, v, n, gen, &errs) == -1) {
		listeners_settle(sup, gen, 0);
		svcvec_free(v, n);
		goto fail;
	}
	listeners_settle(sup, gen, 1);
	for (i = 0; i < n; i++)
		if (v[i]->all.le_prev == NULL)
			LIST_INSERT_HEAD(&sup->all, v[i], all);
	svcvec_free(sup->svc, sup->nsvc);
	sup->svc = v;
	sup->nsvc = n;
	if (!sup->opt.debug)
		log_set_level(c->log_level);
	if (c->workers != sup->conf->workers ||
	    !((c->user == NULL && sup->conf->user == NULL) ||
	    (c->user != NULL && sup->conf->user != NULL &&
	    strcmp(c->user, sup->conf->user) == 0)))
		log_warnx("workers and user take effect at the next start");
	config_free(sup->conf);
	sup->conf = c;
	log_info("reload done: %zu services", n);
	notify("READY=1\nSTATUS=serving %zu services", n);
	return;
fail:
	errs_log(&errs);
	snprintf(status, sizeof(status), "reload failed: %s; still serving "
	    "the previous configuration", errs.n > 0 ? errs.msg[0] : "?");
	log_msg(LOG_ERR, "%s", status);
	notify("READY=1\nSTATUS=%s", status);
	errlist_free(&errs);
	config_free(c);
}

static void	reload_begin(struct supervisor *);

static void
reload_checked(struct supervisor *sup, int ok, const char *why)
{
	char status[300];

	if (sup->stopping == 0) {
		if (ok)
			supervisor_reload(sup);
		else {
			snprintf(status, sizeof(status), "reload failed: %s; "
			    "still serving the previous configuration", why);
			log_msg(LOG_ERR, "%s", status);
			notify("READY=1\nSTATUS=%s", status);
		}
	}
	sup->reloading = 0;
	if (sup->reload_again && sup->stopping == 0) {
		sup->reload_again = 0;
		reload_begin(sup);
	}
}

/* SIGHUP: check the new file in a child first (see precheck.c). */
static void
reload_begin(struct supervisor *sup)
{
	if (sup->reloading) {
		sup->reload_again = 1;
		return;
	}
	sup->reloading = 1;
	notify("RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)monotonic_usec());
	log_info("reloading %s", sup->opt.file);
	if (precheck_start(sup, reload_checked) == -1)
		reload_checked(sup, 1, NULL);
}

static void
supervisor_finish(struct supervisor *sup)
{
	size_t i;

	if (sup->stopping == 2)
		return;
	sup->stopping = 2;
	for (i = 0; i < nitems(sup->sig); i++)
		uv_close((uv_handle_t *)&sup->sig[i], NULL);
	uv_close((uv_handle_t *)&sup->tick, NULL);
	uv_close((uv_handle_t *)&sup->drain, NULL);
	uv_close((uv_handle_t *)&sup->w.check, NULL);
	uv_close((uv_handle_t *)&sup->w.partial_timer, NULL);
}

static void
abort_all(struct supervisor *sup)
{
	struct service *s;
	struct conn *c;

	LIST_FOREACH(s, &sup->all, all)
		TAILQ_FOREACH(c, &s->conns, link)
			conn_abort(c);
}

static void
on_drain_timeout(uv_timer_t *t)
{
	struct supervisor *sup = t->data;

	log_info("drain_timeout: closing %u connections", sup->w.nconns);
	abort_all(sup);
}

static void
supervisor_stop(struct supervisor *sup)
{
	struct listener *l;

	if (sup->stopping) {
		log_info("closing %u connections now", sup->w.nconns);
		abort_all(sup);
		return;
	}
	sup->stopping = 1;
	notify("STOPPING=1");
	log_info("stopping");
	while ((l = LIST_FIRST(&sup->listeners)) != NULL) {
		LIST_REMOVE(l, link);
		listener_close(l);
	}
	svcvec_free(sup->svc, sup->nsvc);
	sup->svc = NULL;
	sup->nsvc = 0;
	if (sup->w.nconns == 0) {
		supervisor_finish(sup);
		return;
	}
	log_info("waiting up to %llds for %u connections",
	    sup->conf->drain_timeout, sup->w.nconns);
	(void)uv_timer_start(&sup->drain, on_drain_timeout,
	    (uint64_t)sup->conf->drain_timeout * 1000, 0);
}

void
supervisor_conn_gone(struct supervisor *sup)
{
	if (sup->stopping == 1 && sup->w.nconns == 0)
		supervisor_finish(sup);
}

static void
on_signal(uv_signal_t *h, int signum)
{
	struct supervisor *sup = h->data;
	size_t i;

	switch (signum) {
	case SIGHUP:
		if (!sup->stopping)
			reload_begin(sup);
		break;
	case SIGUSR1:
		for (i = 0; i < sup->nsvc; i++)
			service_log_stats(sup->svc[i]);
		break;
	default:
		supervisor_stop(sup);
		break;
	}
}

static void
on_tick(uv_timer_t *t)
{
	struct supervisor *sup = t->data;
	struct service *s;
	uint64_t now = uv_now(sup->w.loop);

	LIST_FOREACH(s, &sup->all, all) {
		conn_sweep(s, now);
		if (s->src.cap > 0)
			srctab_sweep(&s->src, (double)s->conf.rate,
			    (double)s->conf.burst, now);
	}
}

/* Started as root: become user (and group) for good. */
static int
drop_privileges(const char *user, const char *group)
{
	struct passwd *pw;
	struct group *gr;
	gid_t gid;

	if (user == NULL) {
		log_msg(LOG_ERR, "started as root without daemon.user: set "
		    "user (user = \"root\" keeps root on purpose), or -u");
		return -1;
	}
	if (strcmp(user, "root") == 0)
		return 0;
	if ((pw = getpwnam(user)) == NULL) {
		log_msg(LOG_ERR, "user \"%s\" does not exist", user);
		return -1;
	}
	gid = pw->pw_gid;
	if (group != NULL) {
		if ((gr = getgrnam(group)) == NULL) {
			log_msg(LOG_ERR, "group \"%s\" does not exist", group);
			return -1;
		}
		gid = gr->gr_gid;
	}
	if (setgroups(1, &gid) == -1 || setresgid(gid, gid, gid) == -1 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1) {
		log_warn("cannot drop privileges to %s", user);
		return -1;
	}
	if (setuid(0) != -1 || seteuid(0) != -1) {
		log_msg(LOG_ERR, "privileges could be regained after "
		    "dropping to %s", user);
		return -1;
	}
	log_info("running as %s", user);
	return 0;
}

int
supervisor_run(const struct options *opt)
{
	static const int sigs[] = { SIGHUP, SIGTERM, SIGINT, SIGUSR1 };
	struct supervisor *sup;
	struct errlist errs = { 0 };
	const char *user, *group;
	char *spec = NULL, *colon;
	size_t i;
	int rc = 1;

	sup = xcalloc(1, sizeof(*sup));
	sup->opt = *opt;
	LIST_INIT(&sup->all);
	LIST_INIT(&sup->listeners);
	if ((sup->conf = config_load(opt->file, opt->port_offset,
	    &errs)) == NULL) {
		errs_print(&errs);
		goto out;
	}
	log_init(opt->foreground || sup->conf->log_stderr,
	    opt->debug ? LOG_DEBUG : sup->conf->log_level);
	log_info("sockd %s starting", SOCKD_VERSION);
	sup->w.loop = uv_default_loop();
	sup->w.sup = sup;
	sup->w.rbuf = xcalloc(1, RBUF_SIZE);
	sup->w.ubuf = xcalloc(1, UBUF_SIZE);
	(void)uv_check_init(sup->w.loop, &sup->w.check);
	conn_worker_init(&sup->w);
	if (services_create(NULL, sup->conf, &errs, &sup->svc,
	    &sup->nsvc) == -1 ||
	    listeners_open(sup, sup->svc, sup->nsvc, 1, &errs) == -1) {
		errs_log(&errs);
		if (!opt->foreground && !sup->conf->log_stderr)
			errs_print(&errs);
		listeners_settle(sup, 1, 0);
		svcvec_free(sup->svc, sup->nsvc);
		sup->svc = NULL;
		sup->nsvc = 0;
		uv_close((uv_handle_t *)&sup->w.check, NULL);
		uv_close((uv_handle_t *)&sup->w.partial_timer, NULL);
		(void)uv_run(sup->w.loop, UV_RUN_DEFAULT);
		goto out;
	}
	listeners_settle(sup, 1, 1);
	for (i = 0; i < sup->nsvc; i++)
		LIST_INSERT_HEAD(&sup->all, sup->svc[i], all);
	for (i = 0; i < nitems(sigs); i++) {
		(void)uv_signal_init(sup->w.loop, &sup->sig[i]);
		sup->sig[i].data = sup;
		(void)uv_signal_start(&sup->sig[i], on_signal, sigs[i]);
	}
	(void)uv_timer_init(sup->w.loop, &sup->tick);
	sup->tick.data = sup;
	(void)uv_timer_start(&sup->tick, on_tick, 1000, 1000);
	(void)uv_timer_init(sup->w.loop, &sup->drain);
	sup->drain.data = sup;
	if (geteuid() == 0) {
		user = sup->conf->user;
		group = sup->conf->group;
		if (opt->user != NULL) {
			spec = xstrdup(opt->user);
			if ((colon = strchr(spec, ':')) != NULL)
				*colon++ = '\0';
			user = spec;
			group = colon;
		}
		if (drop_privileges(user, group) == -1) {
			free(spec);
			supervisor_stop(sup);
			(void)uv_run(sup->w.loop, UV_RUN_DEFAULT);
			goto out;
		}
		free(spec);
	}
	log_info("ready: %zu services", sup->nsvc);
	notify("READY=1\nSTATUS=serving %zu services\nMAINPID=%ld",
	    sup->nsvc, (long)getpid());
	(void)uv_run(sup->w.loop, UV_RUN_DEFAULT);
	log_info("exiting");
	rc = 0;
out:
	errlist_free(&errs);
	if (sup->w.loop != NULL && uv_loop_close(sup->w.loop) != 0)
		log_warnx("event loop closed with handles still open");
	config_free(sup->conf);
	free(sup->w.rbuf);
	free(sup->w.ubuf);
	free(sup);
	return rc;
}
