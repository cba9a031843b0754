/*
 * supervisor: owns the main loop and the running configuration.  Start
 * (supervisor_run): load the file and start the log, raise the open file
 * limit, make the workers' loops, create the services (handlers
 * configured) and bind every socket, drop privileges, have each worker
 * start its sockets, catch the signals, tell systemd READY=1 and serve.
 * SIGHUP: the same steps on the new file, into a new set; only when all
 * of it worked is it swapped in, so a broken file or a port that cannot
 * be bound leaves the old configuration serving.  A service whose
 * settings did not change is kept as it is, with its connections and its
 * handler state (a chat room); an address that did not change keeps its
 * socket.  SIGTERM/SIGINT: the workers close their listeners, let
 * connections finish for drain_timeout, then close the rest and return.
 *
 * The supervisor binds every socket itself, then sends each worker a plan
 * (plan.c) of the addresses it is to serve, kept or new, which the worker
 * applies to its own listeners on its own thread (worker.c); it keeps its
 * own record of what each worker serves and never touches a worker's
 * listeners.  One SO_REUSEPORT socket per worker, bound as root or, after
 * the privilege drop and in a daemon started with capabilities, by the
 * spawner as uid 0, so that no other process can join the group; one
 * socket all workers share when neither can (a daemon started as a plain
 * user, or the spawner gone).  Services that keep state across
 * connections (SOCKD_ONE_LOOP: a chat room) listen on worker 0 only, so
 * their connections always share one thread.  Workers learn of the
 * supervisor only a done callback and the shared counters (struct
 * worker_env).
 */
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sockd/handler.h>

#include "activation.h"
#include "bus.h"
#include "config.h"
#include "conn.h"
#include "control.h"
#include "exec.h"
#include "listener.h"
#include "log.h"
#include "notify.h"
#include "plan.h"
#include "precheck.h"
#include "registry.h"
#include "service.h"
#include "spawner.h"
#include "stats.h"
#include "supervisor.h"
#include "util.h"
#include "waitport.h"
#include "worker.h"

/* Descriptors beyond connections and listeners: the log, the notify
 * socket, the reload check's pipe, the loops' own. */
#define NOFILE_RESERVE	32
/* How long a reload waits for the spawner to bind a socket. */
#define SPAWNER_BIND_MS	2000

static const int sigs[] = { SIGHUP, SIGTERM, SIGINT, SIGUSR1 };

struct supervisor {
	struct options		 opt;
	struct config		*conf;		/* daemon-wide settings */
	struct service		**svc;		/* the running configuration */
	size_t			 nsvc;
	struct worker		*workers;	/* [0] runs on the main loop */
	int			 nworkers;
	struct worker_env	 wenv;		/* what every worker is given */
	struct plan		*bound;		/* per worker: what it serves */
	atomic_uint		 nconns;	/* all services, all workers */
	/* What workers read of sup->conf, which a reload replaces. */
	atomic_uint		 max_connections;
	atomic_uint		 drain_timeout;
	atomic_int		 finished;	/* workers done draining */
	uv_async_t		 wake;		/* a worker finished */
	uv_signal_t		 sig[4];
	int			 stopping;
	int			 reloading;	/* a check is running */
	struct precheck		*precheck;	/* that check, or NULL */
	int			 reload_again;	/* SIGHUP during it */
	struct control		*ctl;		/* sockd -r, or NULL */
	uv_timer_t		 watchdog;	/* WATCHDOG=1 */
	uint64_t		 watchdog_ms;	/* WATCHDOG_USEC, 0: none */
	int			 watchdog_quiet; /* a worker is stuck */
	pid_t			 spawner;	/* exec services' children */
	int			*spawn_fds;	/* per worker: its channel */
	int			 bind_fd;	/* spawner_bind()'s, or -1 */
};

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
/* 1 when sc is a line of daemon.inetd_conf: its errors skip it. */
static int
from_inetd(const struct config *c, const struct svc_conf *sc)
{
	return c->inetd_conf != NULL && strcmp(sc->file, c->inetd_conf) == 0;
}

/* The lines of inetd_conf that were skipped, each with why: logged at
 * error, or printed by "sockd -t", which still passes. */
static void
skipped_report(const struct config *c, int print)
{
	const char *pri = log_stderr_is_journal() ? "<3>" : "";
	size_t i;

	for (i = 0; i < c->skipped.n; i++)
		if (print)
			fprintf(stderr, "%s%s (this inetd.conf line is "
			    "skipped)\n", pri, c->skipped.msg[i]);
		else
			log_err("%s (this inetd.conf line is skipped)",
			    c->skipped.msg[i]);
}

static int
services_create(struct supervisor *sup, struct config *c, int nworkers,
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
		    nworkers, from_inetd(c, &c->svc[i]) ? &c->skipped :
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

/* Frees a plan per worker. */
static void
plans_free(struct supervisor *sup, struct plan *plans)
{
	int i;

	if (plans == NULL)
		return;
	for (i = 0; i < sup->nworkers; i++)
		plan_free(&plans[i]);
	free(plans);
}

/*
 * The sockets of one address, for every worker that serves s, into its
 * plan: "keep" where the worker serves the address already, else a new
 * socket.  Each worker gets a SO_REUSEPORT socket of its own, steered by
 * source address, when the group can belong to uid 0, so that no
 * unprivileged process can join it: bound as root (at start, before the
 * privilege drop), or by the spawner (spawner_bind(): after the drop, or
 * in a daemon started with capabilities).  Bound by any other user (a
 * daemon started unprivileged, or the spawner gone), SO_REUSEPORT would
 * let every process of that user bind the same port and take a share of
 * the clients: one socket without it is bound, and each worker starts a
 * dup() of it.
 */
static int
listeners_plan_addr(struct supervisor *sup, struct plan *plans,
    struct service *s, unsigned int p, const struct sockaddr *sa, char *err,
    size_t errlen)
{
	struct listen_opts lo;
	char name[96];
	int wi, nw, fd, shared = -1, root = geteuid() == 0, made = 0;
	int spawned = !root && sup->bind_fd != -1;

	/* A wait service's socket goes to one program at a time. */
	nw = (s->h->flags & SOCKD_ONE_LOOP) || waitport_wants(s) ? 1 :
	    sup->nworkers;
	listen_opts_from(&lo, &s->conf, root || spawned ? nw : 1);
	for (wi = 0; wi < nw; wi++) {
		if (sup->bound != NULL &&
		    plan_find(&sup->bound[wi], p, sa) != NULL &&
		    plan_find(&plans[wi], p, sa) == NULL) {
			plan_add(&plans[wi], p, sa, s, -1);
			continue;
		}
		/* A socket the service manager passed is shared by the
		 * workers as one bound without root is. */
		if (shared == -1 && (fd = activation_take(p, sa,
		    s->conf.name)) != -1) {
			shared = fd;
			root = spawned = 0;
		} else if (spawned && (fd = spawner_bind(sup->bind_fd,
		    p == SOCKD_TCP, sa, nw > 1, lo.v6only,
		    SPAWNER_BIND_MS)) != -1) {
			if (listener_adopt(fd, p, sa, (int)s->conf.backlog,
			    nw > 1, err, errlen, &lo) == -1)
				return -1;
		} else if (spawned && made == 0 && (errno == EPIPE ||
		    errno == ECONNRESET)) {
			/* Gone: from now on as a plain user would. */
			log_warnx("the spawner is gone: sockets bound from now "
			    "on are shared by the workers, and per_source and "
			    "rate count per worker on them");
			(void)close(sup->bind_fd);
			sup->bind_fd = -1;
			spawned = 0;
			lo.group = 1;
			wi--;
			continue;
		} else if (spawned) {
			if (errno != ETIMEDOUT && errno != EPIPE &&
			    errno != ECONNRESET)
				return listener_fail(-1, errno, p, sa, err,
				    errlen);
			listener_name(p, sa, name, sizeof(name));
			if (errno == ETIMEDOUT)
				snprintf(err, errlen, "cannot listen on %s: "
				    "the spawner did not answer within %d s",
				    name, SPAWNER_BIND_MS / 1000);
			else
				snprintf(err, errlen, "cannot listen on %s: "
				    "the spawner is gone", name);
			return -1;
		} else if (root || shared == -1) {
			fd = listener_socket(p, sa, (int)s->conf.backlog,
			    root && nw > 1, err, errlen, &lo);
			if (fd == -1)
				return -1;
			if (!root)
				shared = fd;
		} else if ((fd = fcntl(shared, F_DUPFD_CLOEXEC, 0)) == -1) {
			listener_name(p, sa, name, sizeof(name));
			snprintf(err, errlen, "cannot listen on %s: dup: %s",
			    name, strerror(errno));
			return -1;
		}
		made++;
		plan_add(&plans[wi], p, sa, s, fd);
	}
	return 0;
}

/*
 * A plan per worker for the services v: each address they want, kept
 * where the worker serves it already, else bound anew (see
 * listeners_plan_addr()).  Nothing changes for clients until the workers
 * apply it.  NULL with the errors in errs (the new sockets closed) when
 * an address cannot be bound.
 */
static struct plan *
listeners_plan(struct supervisor *sup, struct service **v, size_t n,
    struct errlist *errs)
{
	struct sockaddr_storage ss;
	struct svc_conf *sc;
	struct plan *plans;
	unsigned int p;
	char err[256];
	size_t i, k;
	int port;

	plans = xcalloc(sup->nworkers, sizeof(*plans));
	for (i = 0; i < n; i++) {
		sc = &v[i]->conf;
		for (p = SOCKD_TCP; p <= SOCKD_UDP; p <<= 1) {
			if (!(sc->protocols & p))
				continue;
			port = p == SOCKD_TCP ? sc->port_tcp : sc->port_udp;
			for (k = 0; k < sc->nbind; k++) {
				ss = sc->bind[k].ss;
				if (ss.ss_family == AF_INET6)
					((struct sockaddr_in6 *)(void *)
					    &ss)->sin6_port =
					    htons((uint16_t)port);
				else
					((struct sockaddr_in *)(void *)
					    &ss)->sin_port =
					    htons((uint16_t)port);
				if (listeners_plan_addr(sup, plans, v[i], p,
				    (struct sockaddr *)&ss, err,
				    sizeof(err)) == -1) {
					errlist_add(errs, sc->file, sc->line,
					    "service \"%s\": %s", sc->name,
					    err);
					plans_free(sup, plans);
					return NULL;
				}
			}
		}
	}
	return plans;
}

/* Has every worker apply its plan; returns when all have.  What they
 * serve now becomes the supervisor's record. */
static void
listeners_apply(struct supervisor *sup, struct plan *plans)
{
	int i;

	worker_apply(&sup->workers[0], &plans[0]);
	for (i = 1; i < sup->nworkers; i++)
		worker_command(&sup->workers[i], W_APPLY, &plans[i]);
	for (i = 0; i < sup->nworkers; i++)
		plan_settle(&plans[i]);
	plans_free(sup, sup->bound);
	sup->bound = plans;
}

/*
 * After worker_apply() of a reload (so on worker 0's thread, the one that
 * serves SOCKD_ONE_LOOP services, with none of their callbacks running):
 * a new service that replaces a running one of the same name and handler,
 * when the handler has reconfigure(), takes over its state and its open
 * connections, so that a chat room stays one room across a reload that
 * changed one of its options.  The old service, left without
 * connections, is freed with the old configuration.
 */
static void
services_adopt(struct supervisor *sup, struct service **v, size_t n)
{
	registry_reconfigure_fn fn;
	struct service *old;
	size_t i, j, k;

	for (i = 0; i < n; i++) {
		if ((fn = registry_reconfigure(v[i]->h)) == NULL)
			continue;
		for (j = 0; j < sup->nsvc; j++) {
			old = sup->svc[j];
			if (old == v[i] || old->h != v[i]->h ||
			    strcmp(old->conf.name, v[i]->conf.name) != 0)
				continue;
			for (k = 0; k < n && v[k] != old; k++)
				continue;
			if (k < n)	/* still running, unchanged */
				continue;
			fn(v[i]->port_state, old->port_state);
			conn_adopt(old, v[i], 0);
			log_info("%s: reconfigured, %u connections kept",
			    v[i]->conf.name, v[i]->local[0].nconns);
			break;
		}
	}
}

static void
errs_log(struct errlist *errs)
{
	size_t i;

	for (i = 0; i < errs->n; i++)
		log_err("%s", errs->msg[i]);
}

static void
errs_print(struct errlist *errs)
{
	/* Under systemd (sockd -t in ExecStartPre, or a start that fails
	 * before logging begins) these are errors in the journal too. */
	const char *pri = log_stderr_is_journal() ? "<3>" : "";
	size_t i;

	for (i = 0; i < errs->n; i++)
		fprintf(stderr, "%s%s\n", pri, errs->msg[i]);
}

/* The user sockd serves as: -u, else daemon.user, when started as root;
 * else whoever started it.  A user that does not exist gives root, which
 * fails later with its own message. */
static uid_t
daemon_uid(const struct options *opt, const struct config *c)
{
	const char *user = opt->user != NULL ? opt->user : c->user;
	struct passwd *pw;
	char name[256], *colon;

	if (geteuid() != 0 || user == NULL)
		return geteuid();
	snprintf(name, sizeof(name), "%s", user);
	if ((colon = strchr(name, ':')) != NULL)
		*colon = '\0';
	if ((pw = getpwnam(name)) == NULL)
		return 0;
	return pw->pw_uid;
}

/* Each connection is a descriptor: the soft limit goes up to the hard one
 * at start (an unlimited hard limit is not a number the kernel takes for
 * descriptors: the soft one stays). */
static void
nofile_raise(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 ||
	    rl.rlim_max == RLIM_INFINITY || rl.rlim_cur >= rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
		log_warn("cannot raise the open file limit to %llu",
		    (unsigned long long)rl.rlim_max);
}

/* Warns when max_connections, the listening sockets and a reserve do not
 * fit in the open file limit: past it, clients are dropped. */
static void
nofile_check(struct supervisor *sup, const struct plan *plans)
{
	struct rlimit rl;
	unsigned long long need, n = 0;
	int wi;

	for (wi = 0; wi < sup->nworkers; wi++)
		n += plans[wi].n;
	need = (unsigned long long)sup->conf->max_connections + n +
	    NOFILE_RESERVE;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_cur != RLIM_INFINITY && need > rl.rlim_cur)
		log_warnx("max_connections %lld, %llu listening sockets and "
		    "%d in reserve need %llu descriptors, more than the open "
		    "file limit of %llu: raise it (LimitNOFILE=, ulimit -n) or "
		    "lower max_connections", sup->conf->max_connections, n,
		    NOFILE_RESERVE, need, (unsigned long long)rl.rlim_cur);
}

int
supervisor_check(const struct options *opt)
{
	struct errlist errs = { 0 };
	struct service **v;
	struct config *c;
	size_t n;

	/* Handlers of the services that parsed are checked too, so that one
	 * run reports every error. */
	if ((c = config_load(opt->file, opt->port_offset, &errs)) != NULL)
		registry_set_user(daemon_uid(opt, c));
	if (c != NULL && services_create(NULL, c, 1, &errs, &v, &n) == 0)
		svcvec_free(v, n);
	if (c != NULL)
		skipped_report(c, 1);
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

/* The end of a reload: systemd is told READY=1 and the outcome, and so
 * is each "sockd -r" that waits for it. */
static void
reload_verdict(struct supervisor *sup, int ok, const char *msg)
{
	notify("READY=1\nSTATUS=%s%s", ok ? "" : "reload failed: ", msg);
	control_reload_done(sup->ctl, ok, msg);
}

static void
supervisor_reload(struct supervisor *sup)
{
	struct errlist errs = { 0 };
	struct service **v;
	struct config *c;
	struct plan *plans;
	size_t n, i;
	char status[256], why[1024];
	int workers, len;

	registry_check_files();
	if ((c = config_load(sup->opt.file, sup->opt.port_offset,
	    &errs)) == NULL || errs.n > 0 || services_create(sup, c,
	    sup->nworkers, &errs, &v, &n) == -1)
		goto fail;
	if ((plans = listeners_plan(sup, v, n, &errs)) == NULL) {
		svcvec_free(v, n);
		goto fail;
	}
	skipped_report(c, 0);
	listeners_apply(sup, plans);
	services_adopt(sup, v, n);
	for (i = 0; i < n; i++)
		service_publish(v[i]);
	svcvec_free(sup->svc, sup->nsvc);
	sup->svc = v;
	sup->nsvc = n;
	if (!sup->opt.debug)
		log_set_level(c->log_level);
	workers = c->workers > 0 ? c->workers :
	    (int)uv_available_parallelism();
	if (workers != sup->nworkers ||
	    !((c->user == NULL && sup->conf->user == NULL) ||
	    (c->user != NULL && sup->conf->user != NULL &&
	    strcmp(c->user, sup->conf->user) == 0)))
		log_warnx("workers and user take effect at the next start");
	if (!((c->bus == NULL && bus_url() == NULL) || (c->bus != NULL &&
	    bus_url() != NULL && strcmp(c->bus, bus_url()) == 0)))
		log_warnx("bus takes effect at the next start");
	atomic_store(&sup->max_connections, (unsigned int)c->max_connections);
	atomic_store(&sup->drain_timeout, (unsigned int)c->drain_timeout);
	config_free(sup->conf);
	sup->conf = c;
	stats_reload(1);
	log_info("reload done: %zu services", n);
	snprintf(status, sizeof(status), "serving %zu services", n);
	reload_verdict(sup, 1, status);
	return;
fail:
	stats_reload(0);
	errs_log(&errs);
	for (i = 0, len = 0, why[0] = '\0'; i < errs.n && len >= 0 &&
	    (size_t)len < sizeof(why); i++)
		len += snprintf(why + len, sizeof(why) - (size_t)len, "%s%s",
		    i > 0 ? "; " : "", errs.msg[i]);
	log_err("reload failed: %s; still serving the previous "
	    "configuration", errs.n > 0 ? errs.msg[0] : "?");
	snprintf(status, sizeof(status), "%s; still serving the previous "
	    "configuration", errs.n > 0 ? why : "?");
	reload_verdict(sup, 0, status);
	errlist_free(&errs);
	config_free(c);
}

static void	reload_begin(struct supervisor *);

static void
reload_checked(void *arg, int ok, const char *why)
{
	struct supervisor *sup = arg;
	char status[1024];

	sup->precheck = NULL;
	if (sup->stopping == 0) {
		if (ok)
			supervisor_reload(sup);
		else {
			snprintf(status, sizeof(status), "%s; still serving "
			    "the previous configuration", why);
			stats_reload(0);
			log_err("reload failed: %s", status);
			reload_verdict(sup, 0, status);
		}
	}
	sup->reloading = 0;
	if (sup->reload_again && sup->stopping == 0) {
		sup->reload_again = 0;
		reload_begin(sup);
	}
}

/* SIGHUP: check the new file in a child first (see precheck.c); when no
 * child can run, the reload is refused. */
static void
reload_begin(struct supervisor *sup)
{
	char why[512];

	if (sup->reloading) {
		sup->reload_again = 1;
		return;
	}
	sup->reloading = 1;
	control_reload_started(sup->ctl);
	notify("RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=reloading %s",
	    (unsigned long long)monotonic_usec(), sup->opt.file);
	log_info("reloading %s", sup->opt.file);
	if ((sup->precheck = precheck_start(sup->opt.self, sup->opt.file,
	    sup->opt.port_offset, reload_checked, sup, why,
	    sizeof(why))) == NULL)
		reload_checked(sup, 0, why);
}

/* "reload" on the control socket: as SIGHUP. */
static void
on_control_reload(void *arg)
{
	struct supervisor *sup = arg;

	if (!sup->stopping)
		reload_begin(sup);
}

/* A worker has closed its last handle (any thread). */
static void
on_worker_done(void *arg)
{
	struct supervisor *sup = arg;

	atomic_fetch_add(&sup->finished, 1);
	(void)uv_async_send(&sup->wake);
}

static void
on_wake(uv_async_t *a)
{
	struct supervisor *sup = a->data;
	size_t i;

	if (atomic_load(&sup->finished) < sup->nworkers)
		return;
	for (i = 0; i < nitems(sup->sig); i++)
		uv_close((uv_handle_t *)&sup->sig[i], NULL);
	uv_close((uv_handle_t *)&sup->wake, NULL);
	/* libuv puts back the default action, which would kill the daemon
	 * on a signal that comes while the loop finishes closing. */
	for (i = 0; i < nitems(sigs); i++)
		(void)signal(sigs[i], SIG_IGN);
}

static void
supervisor_stop(struct supervisor *sup)
{
	int i;

	if (sup->stopping) {
		worker_abort(&sup->workers[0]);
		for (i = 1; i < sup->nworkers; i++)
			worker_command(&sup->workers[i], W_ABORT, NULL);
		return;
	}
	sup->stopping = 1;
	notify("STOPPING=1");
	log_info("stopping");
	bus_close();
	control_close(sup->ctl);
	sup->ctl = NULL;
	if (sup->watchdog_ms > 0)
		uv_close((uv_handle_t *)&sup->watchdog, NULL);
	if (sup->precheck != NULL) {
		log_info("cancelling the configuration check of the reload");
		precheck_cancel(sup->precheck);
	}
	svcvec_free(sup->svc, sup->nsvc);
	sup->svc = NULL;
	sup->nsvc = 0;
	worker_stop(&sup->workers[0]);
	for (i = 1; i < sup->nworkers; i++)
		worker_command(&sup->workers[i], W_STOP, NULL);
}

static void
on_signal(uv_signal_t *h, int signum)
{
	struct supervisor *sup = h->data;
	int i;

	switch (signum) {
	case SIGHUP:
		if (!sup->stopping)
			reload_begin(sup);
		break;
	case SIGUSR1:
		worker_log_stats(&sup->workers[0]);
		for (i = 1; i < sup->nworkers; i++)
			worker_command(&sup->workers[i], W_STATS, NULL);
		break;
	default:
		supervisor_stop(sup);
		break;
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
		log_err("started as root without daemon.user: set "
		    "user (user = \"root\" keeps root on purpose), or -u");
		return -1;
	}
	if (strcmp(user, "root") == 0)
		return 0;
	if ((pw = getpwnam(user)) == NULL) {
		log_err("user \"%s\" does not exist", user);
		return -1;
	}
	gid = pw->pw_gid;
	if (group != NULL) {
		if ((gr = getgrnam(group)) == NULL) {
			log_err("group \"%s\" does not exist", group);
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
		log_err("privileges could be regained after "
		    "dropping to %s", user);
		return -1;
	}
	log_info("running as %s", user);
	return 0;
}

static int
privileges(struct supervisor *sup)
{
	const char *user = sup->conf->user, *group = sup->conf->group;
	char *spec = NULL, *colon;
	int rc;

	/* Started with capabilities: the spawner keeps those of users,
	 * and binds every socket when it can. */
	if (geteuid() != 0)
		return spawner_drop_caps(sup->bind_fd != -1);
	if (sup->opt.user != NULL) {
		spec = xstrdup(sup->opt.user);
		if ((colon = strchr(spec, ':')) != NULL)
			*colon++ = '\0';
		user = spec;
		group = colon;
	}
	rc = drop_privileges(user, group);
	free(spec);
	return rc;
}

/* Loads the configuration and starts the log; NULL (errors printed)
 * when the file does not load. */
static struct supervisor *
supervisor_load(const struct options *opt, struct errlist *errs)
{
	struct supervisor *sup;

	sup = xcalloc(1, sizeof(*sup));
	sup->opt = *opt;
	sup->bind_fd = -1;
	if ((sup->conf = config_load(opt->file, opt->port_offset,
	    errs)) == NULL || errs->n > 0) {
		errs_print(errs);
		config_free(sup->conf);
		free(sup);
		return NULL;
	}
	log_init(opt->foreground || sup->conf->log_stderr,
	    opt->debug ? LOG_DEBUG : sup->conf->log_level);
	log_info("sockd %s starting", SOCKD_VERSION);
	return sup;
}

/* The open file limit, the user handlers are loaded for, and the limits
 * workers read while a reload may replace the configuration. */
static void
supervisor_limits(struct supervisor *sup)
{
	nofile_raise();
	registry_set_user(daemon_uid(&sup->opt, sup->conf));
	atomic_init(&sup->max_connections,
	    (unsigned int)sup->conf->max_connections);
	atomic_init(&sup->drain_timeout,
	    (unsigned int)sup->conf->drain_timeout);
}

/* Makes the workers' loops and sets them up (worker 0 on the main loop);
 * their threads start later, in workers_start(). */
static int
workers_init(struct supervisor *sup)
{
	uv_loop_t *loop;
	int wi;

	sup->nworkers = sup->conf->workers > 0 ? sup->conf->workers :
	    (int)uv_available_parallelism();
	if (sup->nworkers < 1)
		sup->nworkers = 1;
	sup->wenv.done = on_worker_done;
	sup->wenv.arg = sup;
	sup->wenv.nworkers = sup->nworkers;
	sup->wenv.drain_timeout = &sup->drain_timeout;
	sup->wenv.nconns = &sup->nconns;
	sup->wenv.max_connections = &sup->max_connections;
	/* Before any thread, and before the privileges go. */
	sup->spawn_fds = xcalloc(sup->nworkers, sizeof(*sup->spawn_fds));
	if ((sup->spawner = spawner_start(sup->nworkers, sup->spawn_fds,
	    &sup->bind_fd)) == -1) {
		log_err("cannot start the spawner of exec services");
		sup->nworkers = 0;
		return -1;
	}
	exec_set_can_switch(spawner_can_switch());
	/* Without the privilege, its sockets would be ours anyway. */
	if (!spawner_can_bind()) {
		if (spawner_can_switch())
			log_warnx("setfsuid refused: the workers share the "
			    "sockets, and per_source and rate count per "
			    "worker");
		(void)close(sup->bind_fd);
		sup->bind_fd = -1;
	}
	sup->wenv.spawn_fds = sup->spawn_fds;
	sup->workers = xcalloc(sup->nworkers, sizeof(*sup->workers));
	(void)uv_async_init(uv_default_loop(), &sup->wake, on_wake);
	sup->wake.data = sup;
	for (wi = 0; wi < sup->nworkers; wi++) {
		if (wi == 0)
			loop = uv_default_loop();
		else if ((loop = malloc(sizeof(*loop))) == NULL ||
		    uv_loop_init(loop) != 0) {
			free(loop);
			log_err("worker %d: cannot make a loop", wi);
			sup->nworkers = wi;
			return -1;
		}
		if (worker_init(&sup->workers[wi], &sup->wenv, wi,
		    loop) == -1) {
			log_err("worker %d: cannot start", wi);
			sup->nworkers = wi + 1;
			return -1;
		}
	}
	return 0;
}

/* The bus, before the services, which subscribe as they are configured;
 * on the main loop, where SOCKD_ONE_LOOP services live. */
static void
bus_start(struct supervisor *sup)
{
	if (sup->conf->bus != NULL)
		bus_open(uv_default_loop(), sup->conf->bus,
		    sup->conf->bus_password);
}

/* Creates the services and binds their sockets into a plan per worker;
 * NULL (errors logged) when either fails. */
static struct plan *
services_start(struct supervisor *sup, struct errlist *errs)
{
	struct plan *plans = NULL;
	size_t i;

	if (services_create(NULL, sup->conf, sup->nworkers, errs, &sup->svc,
	    &sup->nsvc) == -1 ||
	    (plans = listeners_plan(sup, sup->svc, sup->nsvc, errs)) == NULL) {
		errs_log(errs);
		if (!sup->opt.foreground && !sup->conf->log_stderr)
			errs_print(errs);
		return NULL;
	}
	skipped_report(sup->conf, 0);
	for (i = 0; i < sup->nsvc; i++)
		service_publish(sup->svc[i]);
	nofile_check(sup, plans);
	return plans;
}

/* Worker 0 applies its plan, the others start their threads with
 * theirs; *started is the last worker thread running.  The plans then
 * become the record of what each serves. */
static int
workers_start(struct supervisor *sup, struct plan *plans, int *started)
{
	int wi;

	worker_apply(&sup->workers[0], &plans[0]);
	for (wi = 1; wi < sup->nworkers; wi++) {
		if (worker_spawn(&sup->workers[wi], &plans[wi]) == -1)
			return -1;
		*started = wi;
	}
	for (wi = 0; wi < sup->nworkers; wi++)
		plan_settle(&plans[wi]);
	sup->bound = plans;
	return 0;
}

static void
signals_start(struct supervisor *sup)
{
	size_t i;

	for (i = 0; i < nitems(sigs); i++) {
		(void)uv_signal_init(uv_default_loop(), &sup->sig[i]);
		sup->sig[i].data = sup;
		(void)uv_signal_start(&sup->sig[i], on_signal, sigs[i]);
	}
}

/*
 * WATCHDOG=1 every half of WATCHDOG_USEC, from the main loop, as long as
 * every worker's loop has stamped its heartbeat (once a second, worker.c)
 * lately: a loop that is stuck then gets the daemon restarted.
 */
static void
on_watchdog(uv_timer_t *t)
{
	struct supervisor *sup = t->data;
	uint64_t now = uv_hrtime() / 1000000, beat, late;
	int wi;

	/* The heartbeat comes once a second: allow for a loaded machine. */
	late = sup->watchdog_ms / 2 > 3000 ? sup->watchdog_ms / 2 : 3000;
	for (wi = 1; wi < sup->nworkers; wi++) {
		beat = atomic_load(&sup->workers[wi].beat);
		if (now > beat && now - beat > late) {
			if (!sup->watchdog_quiet)
				log_err("worker %d: its loop has not turned "
				    "for %llu ms; no WATCHDOG=1 until it "
				    "does", wi,
				    (unsigned long long)(now - beat));
			sup->watchdog_quiet = 1;
			return;
		}
	}
	if (sup->watchdog_quiet)
		log_info("every worker's loop turns again");
	sup->watchdog_quiet = 0;
	notify("WATCHDOG=1");
}

/* WATCHDOG_USEC (and WATCHDOG_PID, when set, ours) from systemd's
 * WatchdogSec=; unset for the children. */
static void
watchdog_start(struct supervisor *sup)
{
	const char *usec = getenv("WATCHDOG_USEC");
	const char *pid = getenv("WATCHDOG_PID");
	unsigned long long v;
	char *end;

	if (usec != NULL && (pid == NULL || strtol(pid, NULL, 10) ==
	    (long)getpid())) {
		errno = 0;
		v = strtoull(usec, &end, 10);
		if (*usec == '\0' || *end != '\0' || errno != 0 || v == 0)
			log_warnx("WATCHDOG_USEC=%s: not a number of "
			    "microseconds; no watchdog", usec);
		else
			sup->watchdog_ms = v / 1000 > 0 ? v / 1000 : 1;
	}
	(void)unsetenv("WATCHDOG_USEC");
	(void)unsetenv("WATCHDOG_PID");
	if (sup->watchdog_ms == 0)
		return;
	(void)uv_timer_init(uv_default_loop(), &sup->watchdog);
	sup->watchdog.data = sup;
	(void)uv_timer_start(&sup->watchdog, on_watchdog, 0,
	    sup->watchdog_ms / 2 > 0 ? sup->watchdog_ms / 2 : 1);
	log_info("watchdog: WATCHDOG=1 every %llu ms",
	    (unsigned long long)(sup->watchdog_ms / 2 > 0 ?
	    sup->watchdog_ms / 2 : 1));
}

/* The gid sockd serves as, as daemon_uid() the uid. */
static gid_t
daemon_gid(const struct options *opt, const struct config *c)
{
	const char *user = opt->user != NULL ? opt->user : c->user;
	const char *group = opt->user != NULL ? NULL : c->group;
	struct passwd *pw;
	struct group *gr;
	char name[256], *colon;

	if (geteuid() != 0 || user == NULL)
		return getegid();
	snprintf(name, sizeof(name), "%s", user);
	if ((colon = strchr(name, ':')) != NULL) {
		*colon++ = '\0';
		group = colon;
	}
	if (group != NULL && (gr = getgrnam(group)) != NULL)
		return gr->gr_gid;
	if ((pw = getpwnam(name)) == NULL)
		return 0;
	return pw->pw_gid;
}

/*
 * The pid file and control socket for "sockd -r", owned by the user
 * sockd serves as: -P, whose failure is fatal, else the default when its
 * directory exists (RuntimeDirectory=sockd), whose failure is a warning.
 */
static int
control_start(struct supervisor *sup)
{
	const char *path = sup->opt.pidfile;
	char err[512];
	struct stat st;

	if (path == NULL) {
		if (stat(CONTROL_PID_FILE, &st) == -1 && (stat("/run/sockd",
		    &st) == -1 || !S_ISDIR(st.st_mode))) {
			log_debug("no /run/sockd: no pid file, no control "
			    "socket (sockd -r needs one: -P)");
			return 0;
		}
		path = CONTROL_PID_FILE;
	}
	sup->ctl = control_open(uv_default_loop(), path,
	    daemon_uid(&sup->opt, sup->conf), daemon_gid(&sup->opt,
	    sup->conf), on_control_reload, sup, err, sizeof(err));
	if (sup->ctl != NULL)
		return 0;
	if (sup->opt.pidfile != NULL) {
		log_err("%s", err);
		return -1;
	}
	log_warnx("%s; sockd -r cannot reach this daemon", err);
	return 0;
}

/* Serves until every worker is done, then waits for their threads. */
static void
supervisor_serve(struct supervisor *sup)
{
	int wi;

	log_info("ready: %zu services, %d worker%s", sup->nsvc, sup->nworkers,
	    sup->nworkers > 1 ? "s" : "");
	notify("READY=1\nSTATUS=serving %zu services\nMAINPID=%ld",
	    sup->nsvc, (long)getpid());
	(void)uv_run(uv_default_loop(), UV_RUN_DEFAULT);
	for (wi = 1; wi < sup->nworkers; wi++)
		(void)uv_thread_join(&sup->workers[wi].thread);
	log_info("exiting");
}

/* A start that failed half way: threads already started are told to
 * stop, the sockets not started closed, the rest discarded. */
static void
supervisor_abandon(struct supervisor *sup, struct plan *plans, int started)
{
	int wi;

	svcvec_free(sup->svc, sup->nsvc);
	sup->svc = NULL;
	sup->nsvc = 0;
	for (wi = 1; wi <= started; wi++)
		worker_command(&sup->workers[wi], W_STOP, NULL);
	for (wi = 1; wi <= started; wi++)
		(void)uv_thread_join(&sup->workers[wi].thread);
	plans_free(sup, plans);
	for (wi = sup->nworkers - 1; wi > started; wi--) {
		worker_stop(&sup->workers[wi]);
		(void)uv_run(sup->workers[wi].loop, UV_RUN_DEFAULT);
	}
	if (sup->nworkers > 0)
		worker_stop(&sup->workers[0]);
	control_close(sup->ctl);
	sup->ctl = NULL;
	bus_close();
	uv_close((uv_handle_t *)&sup->wake, NULL);
	(void)uv_run(uv_default_loop(), UV_RUN_DEFAULT);
}

/* After the loops returned: frees the workers and the supervisor. */
/* The workers closed their channels: the spawner ends; up to a second. */
static void
spawner_reap(struct supervisor *sup)
{
	int i;

	for (i = 0; sup->spawner > 0 && i < 100; i++) {
		if (waitpid(sup->spawner, NULL, WNOHANG) != 0)
			return;
		uv_sleep(10);
	}
}

static void
supervisor_free(struct supervisor *sup)
{
	int wi;

	for (wi = 0; sup->workers != NULL && wi < sup->nworkers; wi++)
		worker_free(&sup->workers[wi]);
	plans_free(sup, sup->bound);
	free(sup->workers);
	free(sup->spawn_fds);
	if (sup->bind_fd != -1)
		(void)close(sup->bind_fd);
	spawner_reap(sup);
	if (uv_loop_close(uv_default_loop()) != 0)
		log_warnx("event loop closed with handles still open");
	config_free(sup->conf);
	free(sup);
	activation_free();
}

int
supervisor_run(const struct options *opt)
{
	struct supervisor *sup;
	struct errlist errs = { 0 };
	struct plan *plans = NULL;
	int started = 0;

	if ((sup = supervisor_load(opt, &errs)) == NULL) {
		errlist_free(&errs);
		return 1;
	}
	supervisor_limits(sup);
	activation_init();
	if (workers_init(sup) == -1 ||
	    (bus_start(sup), plans = services_start(sup, &errs)) == NULL ||
	    (activation_close_unclaimed(), control_start(sup)) == -1 ||
	    privileges(sup) == -1 ||
	    workers_start(sup, plans, &started) == -1) {
		supervisor_abandon(sup, plans, started);
		errlist_free(&errs);
		supervisor_free(sup);
		return 1;
	}
	signals_start(sup);
	watchdog_start(sup);
	supervisor_serve(sup);
	errlist_free(&errs);
	supervisor_free(sup);
	return 0;
}
