/*
 * exec: the built-in handler of services that start a program per
 * connection, as inetd and xinetd do.  This file is its configuration:
 * configure() checks every option and reports each error with its own
 * line (opts_error()), and resolves what can be resolved once: the
 * program's path and execute bit, the user and group (and the user's
 * supplementary groups, so that the spawner needs no name lookup), the
 * environment of env and passenv (from sockd's own environment, which
 * does not change).  The connection side is conn.c's hand-off and
 * handoff.c; the process side spawn.c and the spawner.
 *
 * The handler's callbacks are never called: conn.c hands every admitted
 * connection of an exec service to a child instead.  They exist because
 * the registry wants a udp_datagram for a UDP service.
 */
#include <sys/resource.h>
#include <sys/stat.h>

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sockd/handler.h>

#include "config.h"
#include "errlist.h"
#include "exec.h"
#include "opts.h"
#include "util.h"

static int	can_switch = -1;

void
exec_set_can_switch(int yes)
{
	can_switch = yes;
}

static const char *const exec_options[] = {
	"command", "user", "group", "wait", "stderr", "env", "passenv",
	"chdir", "umask", "nice", "exec_timeout", "rlimit_as", "rlimit_cpu",
	"rlimit_nofile", "rlimit_nproc", "rlimit_core", NULL
};

static const struct {
	const char	*name;
	int		 resource;
} rlimits[] = {
	{ "rlimit_as", RLIMIT_AS },
	{ "rlimit_cpu", RLIMIT_CPU },
	{ "rlimit_nofile", RLIMIT_NOFILE },
	{ "rlimit_nproc", RLIMIT_NPROC },
	{ "rlimit_core", RLIMIT_CORE },
};

static void
exec_free(struct exec_conf *ec)
{
	size_t i;

	if (ec == NULL)
		return;
	for (i = 0; i < ec->argc; i++)
		free(ec->argv[i]);
	free(ec->argv);
	for (i = 0; i < ec->nenv; i++)
		free(ec->env[i]);
	free(ec->env);
	free(ec->dir);
	free(ec);
}

/* The option key of type want, or NULL (absent; or wrong, reported). */
static const struct opt *
exec_opt(struct opts *o, const char *key, enum opt_type want,
    const char *what)
{
	const struct opt *op = opts_lookup(o, key);

	if (op == NULL)
		return NULL;
	if (op->type != want) {
		opts_error(o, op->line, "option \"%s\": expected %s", key,
		    what);
		return NULL;
	}
	return op;
}

static void
exec_command(struct exec_conf *ec, struct opts *o)
{
	const struct opt *op = exec_opt(o, "command", OPT_LIST,
	    "a list of strings, [\"/path/to/program\", \"arg\", ...]");
	struct stat st;
	size_t i;

	if (op == NULL) {
		if (opts_lookup(o, "command") == NULL)
			opts_error(o, o->line, "option \"command\" is "
			    "required: [\"/path/to/program\", ...]");
		return;
	}
	if (op->nv == 0 || op->nv > SPAWN_MAX_ARGS) {
		opts_error(o, op->line, "option \"command\": expected 1 to %d "
		    "strings, the program first", SPAWN_MAX_ARGS);
		return;
	}
	if (op->v[0][0] != '/') {
		opts_error(o, op->line, "command \"%s\": not an absolute path",
		    op->v[0]);
		return;
	}
	if (stat(op->v[0], &st) == -1) {
		opts_error(o, op->line, "command \"%s\": %s", op->v[0],
		    strerror(errno));
		return;
	}
	if (!S_ISREG(st.st_mode) || (st.st_mode & 0111) == 0) {
		opts_error(o, op->line, "command \"%s\": not an executable "
		    "file", op->v[0]);
		return;
	}
	ec->argv = xcalloc(op->nv + 1, sizeof(*ec->argv));
	for (i = 0; i < op->nv; i++)
		ec->argv[i] = xstrdup(op->v[i]);
	ec->argc = op->nv;
}

static void
exec_user(struct exec_conf *ec, struct opts *o)
{
	const struct opt *u = exec_opt(o, "user", OPT_STRING, "a user name");
	const struct opt *g = exec_opt(o, "group", OPT_STRING,
	    "a group name");
	struct passwd *pw = NULL;
	struct group *gr;
	gid_t groups[SPAWN_MAX_GROUPS];
	int n = SPAWN_MAX_GROUPS, i;

	if (u != NULL && (pw = getpwnam(u->s)) == NULL) {
		opts_error(o, u->line, "user \"%s\" does not exist", u->s);
		return;
	}
	if (g != NULL && (gr = getgrnam(g->s)) == NULL) {
		opts_error(o, g->line, "group \"%s\" does not exist", g->s);
		return;
	}
	if (u == NULL && g == NULL)
		return;
	ec->setuser = 1;
	ec->uid = pw != NULL ? pw->pw_uid : getuid();
	ec->gid = g != NULL ? gr->gr_gid : pw != NULL ? pw->pw_gid :
	    getgid();
	if (pw != NULL && getgrouplist(pw->pw_name, ec->gid, groups, &n) !=
	    -1) {
		for (i = 0; i < n; i++)
			ec->groups[i] = groups[i];
		ec->ngroups = (size_t)n;
	} else {
		ec->groups[0] = ec->gid;
		ec->ngroups = 1;
	}
	if (can_switch == 0 && (ec->uid != getuid() || ec->gid != getgid()))
		opts_error(o, u != NULL ? u->line : g->line, "cannot run the "
		    "program as %s%s%s: sockd was started without root or "
		    "CAP_SETUID and CAP_SETGID", u != NULL ? "user " : "group ",
		    u != NULL ? u->s : g->s, "");
}

static int
env_name_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] == '=' || s[i] == '\0')
			return 0;
	return 1;
}

static void
exec_env(struct exec_conf *ec, struct opts *o)
{
	const struct opt *e = exec_opt(o, "env", OPT_GROUP,
	    "a group of strings, { NAME = \"value\"; }");
	const struct opt *p = exec_opt(o, "passenv", OPT_LIST,
	    "a list of names, [\"NAME\", ...]");
	const char *v;
	size_t i, n = (e != NULL ? e->nv : 0) + (p != NULL ? p->nv : 0);

	if (n > SPAWN_MAX_ENV - 16) {
		opts_error(o, e != NULL ? e->line : p->line, "at most %d "
		    "variables in env and passenv", SPAWN_MAX_ENV - 16);
		return;
	}
	ec->env = xcalloc(n + 1, sizeof(*ec->env));
	for (i = 0; e != NULL && i < e->nv; i++)
		ec->env[ec->nenv++] = xstrdup(e->v[i]);
	for (i = 0; p != NULL && i < p->nv; i++) {
		if (!env_name_ok(p->v[i], strlen(p->v[i]))) {
			opts_error(o, p->line, "passenv \"%s\": not a variable "
			    "name", p->v[i]);
			continue;
		}
		if ((v = getenv(p->v[i])) != NULL)
			ec->env[ec->nenv++] = xasprintf("%s=%s", p->v[i], v);
	}
}

static void
exec_misc(struct exec_conf *ec, struct opts *o)
{
	const struct opt *op;
	size_t i;

	if ((op = exec_opt(o, "wait", OPT_BOOL, "true or false")) != NULL)
		ec->wait = (int)op->i;
	if ((op = exec_opt(o, "stderr", OPT_STRING,
	    "\"log\", \"socket\" or \"null\"")) != NULL) {
		if (strcmp(op->s, "log") == 0)
			ec->err = EXEC_ERR_LOG;
		else if (strcmp(op->s, "socket") == 0)
			ec->err = EXEC_ERR_SOCKET;
		else if (strcmp(op->s, "null") == 0)
			ec->err = EXEC_ERR_NULL;
		else
			opts_error(o, op->line, "stderr \"%s\": expected "
			    "\"log\", \"socket\" or \"null\"", op->s);
	}
	ec->dir = xstrdup("/");
	if ((op = exec_opt(o, "chdir", OPT_STRING, "a directory")) != NULL) {
		if (op->s[0] != '/')
			opts_error(o, op->line, "chdir \"%s\": not an absolute "
			    "path", op->s);
		free(ec->dir);
		ec->dir = xstrdup(op->s);
	}
	ec->umask = 022;
	/* libconfig reads 027 as decimal: the octal form is a string. */
	if ((op = opts_lookup(o, "umask")) != NULL) {
		char *end;
		long long v = op->i;

		if (op->type == OPT_STRING) {
			v = strtoll(op->s, &end, 8);
			if (*op->s == '\0' || *end != '\0')
				v = -1;
		} else if (op->type != OPT_INT)
			v = -1;
		if (v < 0 || v > 0777)
			opts_error(o, op->line, "umask: expected an octal "
			    "string, \"022\" to \"0777\"");
		else
			ec->umask = (mode_t)v;
	}
	if ((op = exec_opt(o, "nice", OPT_INT, "an integer")) != NULL) {
		if (op->i < -20 || op->i > 19)
			opts_error(o, op->line, "nice %lld: expected -20 to "
			    "19", op->i);
		ec->has_nice = 1;
		ec->nice = (int)op->i;
	}
	if ((op = exec_opt(o, "exec_timeout", OPT_INT,
	    "a number of seconds")) != NULL) {
		if (op->i < 0 || op->i > 31536000)
			opts_error(o, op->line, "exec_timeout %lld: expected 0 "
			    "to 31536000 seconds", op->i);
		ec->timeout = op->i;
	}
	for (i = 0; i < nitems(rlimits); i++) {
		if ((op = exec_opt(o, rlimits[i].name, OPT_INT,
		    "a number")) == NULL) {
			if (rlimits[i].resource != RLIMIT_CORE)
				continue;
			ec->rlim[ec->nrlim].resource = RLIMIT_CORE;
			ec->rlim[ec->nrlim++].value = 0;
			continue;
		}
		if (op->i < 0) {
			opts_error(o, op->line, "%s %lld: expected 0 or more",
			    rlimits[i].name, op->i);
			continue;
		}
		ec->rlim[ec->nrlim].resource = rlimits[i].resource;
		ec->rlim[ec->nrlim++].value = (uint64_t)op->i;
	}
}

static const char *
exec_configure(const struct sockd_opts *so, void **port_state)
{
	struct opts *o = (struct opts *)so;
	struct exec_conf *ec = xcalloc(1, sizeof(*ec));

	exec_command(ec, o);
	exec_user(ec, o);
	exec_env(ec, o);
	exec_misc(ec, o);
	*port_state = ec;
	/* Errors went to opts_error(); without an errlist (never, but a
	 * plugin-style caller) say that something is wrong. */
	if (o->errs == NULL && ec->argc == 0)
		return "option \"command\" is required";
	return NULL;
}

static void
exec_unconfigure(void *port_state)
{
	exec_free(port_state);
}

static int
exec_connect(struct sockd_conn *c)
{
	return -1;
}

static void
exec_datagram(struct sockd_dgram *d, const char *p, size_t len)
{
}

const struct sockd_handler sockd_handler_exec = {
	.abi_version = SOCKD_ABI_VERSION,
	.name = "exec",
	.protocols = SOCKD_TCP | SOCKD_UDP,
	.options = exec_options,
	.configure = exec_configure,
	.unconfigure = exec_unconfigure,
	.tcp_connect = exec_connect,
	.udp_datagram = exec_datagram,
};

int
exec_handler(const struct sockd_handler *h)
{
	return h == &sockd_handler_exec;
}

void
exec_check_service(const struct exec_conf *ec, const struct svc_conf *sc,
    struct errlist *errs)
{
	if ((sc->protocols & SOCKD_UDP) && !ec->wait)
		errlist_add(errs, sc->file, sc->line, "service \"%s\": exec "
		    "over udp needs wait = true (the program reads the "
		    "socket itself)", sc->name);
	if (ec->wait && sc->proxy_protocol)
		errlist_add(errs, sc->file, sc->line, "service \"%s\": exec "
		    "with wait = true cannot take a PROXY header (the program "
		    "reads the socket)", sc->name);
}
