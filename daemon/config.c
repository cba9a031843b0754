/*
 * config: libconfig file -> struct config.  Nothing else in sockd sees
 * libconfig.  Settings are described once, one row each, in tables in the
 * manner of nginx's directives: svc_settings[] for a service (read the
 * same in "defaults", into a template every service starts from, and in
 * each service) and daemon_settings[] for "daemon".  A row names the
 * setting, the type of its field and the field's offset, the range of a
 * number, and the function that reads it: a generic one for a plain
 * number, boolean or string, one of its own for the rest.  Copying,
 * freeing and comparing a service's settings walk the same table.  Every
 * error is collected as "file:line: text" and loading goes on, so that
 * "sockd -t" reports them all; only a syntax error stops early, since
 * libconfig stops there.  Drop-in files (daemon.include_dir) are read
 * after the main file, one libconfig parse each, in C-locale order; they
 * add services, which start from the main file's defaults, to the same
 * list, so that a duplicate name or a clashing address is found across
 * files as within one, each error naming its own file and line.  The
 * inetd.conf that daemon.inetd_conf names is read last, through the
 * importer's parser (inetdconf.c): its entries are written as libconfig
 * text, each on the line of its source, and loaded as a drop-in file's
 * services, so that its errors name the inetd.conf line.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>

#include <libconfig.h>

#include <sockd/handler.h>

#include "acl.h"
#include "busaddr.h"
#include "config.h"
#include "errlist.h"
#include "importer.h"
#include "log.h"
#include "opts.h"
#include "util.h"

const char *
proto_name(unsigned int p)
{
	return p == SOCKD_UDP ? "udp" : "tcp";
}

struct ctx {
	const char	*file;		/* the file read: main or drop-in */
	struct errlist	*errs;
	int		 port_offset;
	int		 port_line;	/* of "port" in the service read */
	const char	*idir_file;	/* where include_dir is set */
	int		 idir_line;
	const char	*inetd_file;	/* where inetd_conf is set */
	int		 in_inetd;	/* reading inetd_conf's services */
	int		 inetd_line;
	const char	*proxy_file;	/* of "proxy_protocol" in it, */
	int		 proxy_line;	/* 0 when it comes from defaults */
};

/* The type of the field a setting fills: T_OTHER when its function
 * fills something else, or several fields. */
enum stype { T_INT, T_BOOL, T_STRING, T_OTHER };

struct setting;
/* Reads s as row st says, into the struct at base. */
typedef void (*setting_fn)(struct ctx *, config_setting_t *,
    const struct setting *, void *base);

struct setting {
	const char	*name;
	enum stype	 type;
	size_t		 off;		/* of the field, in the struct */
	long long	 min, max;	/* of a number */
	setting_fn	 set;
	int		 flags;
};
#define SERVICE_ONLY	0x1		/* not allowed in "defaults" */

#define FIELD(type, base, st) \
	((type *)(void *)((char *)(base) + (st)->off))
#define CFIELD(type, base, st) \
	((const type *)(const void *)((const char *)(base) + (st)->off))

static const char *
setting_file(const struct ctx *x, const config_setting_t *s)
{
	const char *f = config_setting_source_file(s);

	return f != NULL ? f : x->file;
}

#define ERR(x, s, ...) errlist_add((x)->errs, setting_file(x, s), \
	config_setting_source_line(s), __VA_ARGS__)

static int
get_int(struct ctx *x, config_setting_t *s, long long min, long long max,
    long long *out)
{
	long long v;
	int t = config_setting_type(s);

	if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64) {
		ERR(x, s, "\"%s\": expected an integer", config_setting_name(s));
		return -1;
	}
	v = config_setting_get_int64(s);
	if (v < min || v > max) {
		ERR(x, s, "\"%s\": %lld is out of range (%lld to %lld)",
		    config_setting_name(s), v, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

static const char *
get_str(struct ctx *x, config_setting_t *s)
{
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		ERR(x, s, "\"%s\": expected a string", config_setting_name(s));
		return NULL;
	}
	return config_setting_get_string(s);
}

/* A string setting that must not be empty, and why: "NAME: the empty
 * string WHY; leave "NAME" out instead". */
static const char *
get_str_nonempty(struct ctx *x, config_setting_t *s, const char *why)
{
	const char *v, *name = config_setting_name(s);

	if ((v = get_str(x, s)) == NULL)
		return NULL;
	if (*v == '\0') {
		ERR(x, s, "%s: the empty string %s; leave \"%s\" out instead",
		    name, why, name);
		return NULL;
	}
	return v;
}

static int
valid_name(const char *s, const char *extra)
{
	const char *p;

	if (*s == '\0' || strlen(s) > 64)
		return 0;
	for (p = s; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    *p == '_' || strchr(extra, *p) != NULL))
			return 0;
	return 1;
}

/* A string of 1 to 64 of [a-z0-9_] and extra; NULL when it is not one,
 * after reporting it. */
static const char *
get_ident(struct ctx *x, config_setting_t *s, const char *extra)
{
	const char *v = get_str(x, s);

	if (v != NULL && !valid_name(v, extra)) {
		ERR(x, s, "%s \"%s\": names are 1 to 64 of [a-z0-9_%s]",
		    config_setting_name(s), v, extra);
		return NULL;
	}
	return v;
}

static void
store_string(const struct setting *st, void *base, const char *v)
{
	char **p = FIELD(char *, base, st);

	free(*p);
	*p = xstrdup(v);
}

/* The generic functions: a number in [min, max], a boolean, a string. */
static void
set_int(struct ctx *x, config_setting_t *s, const struct setting *st,
    void *base)
{
	long long n;

	if (get_int(x, s, st->min, st->max, &n) == 0)
		*FIELD(long long, base, st) = n;
}

static void
set_bool(struct ctx *x, config_setting_t *s, const struct setting *st,
    void *base)
{
	if (config_setting_type(s) != CONFIG_TYPE_BOOL)
		ERR(x, s, "\"%s\": expected true or false", st->name);
	else
		*FIELD(int, base, st) = config_setting_get_bool(s);
}

static void
set_string(struct ctx *x, config_setting_t *s, const struct setting *st,
    void *base)
{
	const char *v;

	if ((v = get_str(x, s)) != NULL)
		store_string(st, base, v);
}

/* A string, or a list/array of strings: calls fn for each. */
static int
for_strings(struct ctx *x, config_setting_t *s,
    int (*fn)(struct ctx *, config_setting_t *, const char *, void *),
    void *arg)
{
	config_setting_t *e;
	int i, n, rc = 0;

	switch (config_setting_type(s)) {
	case CONFIG_TYPE_STRING:
		return fn(x, s, config_setting_get_string(s), arg);
	case CONFIG_TYPE_ARRAY:
	case CONFIG_TYPE_LIST:
		n = config_setting_length(s);
		for (i = 0; i < n; i++) {
			e = config_setting_get_elem(s, i);
			if (config_setting_type(e) != CONFIG_TYPE_STRING) {
				ERR(x, e, "\"%s\": expected a string or a list "
				    "of strings", config_setting_name(s));
				rc = -1;
			} else if (fn(x, e, config_setting_get_string(e),
			    arg) == -1)
				rc = -1;
		}
		return rc;
	default:
		ERR(x, s, "\"%s\": expected a string or a list of strings",
		    config_setting_name(s));
		return -1;
	}
}

static void
set_name(struct ctx *x, config_setting_t *s, const struct setting *st,
    void *base)
{
	const char *v;

	if ((v = get_ident(x, s, ".-")) != NULL)
		store_string(st, base, v);
}

static void
set_handler(struct ctx *x, config_setting_t *s, const struct setting *st,
    void *base)
{
	const char *v;

	if ((v = get_ident(x, s, "")) != NULL)
		store_string(st, base, v);
}

static void
set_quit(struct ctx *x, config_setting_t *s, const struct setting *st,
    void *base)
{
	const char *v;

	/* conn.c compares lines with it: "" would match the first empty
	 * line and end the session there. */
	if ((v = get_str_nonempty(x, s, "would end every session at its "
	    "first empty line")) != NULL)
		store_string(st, base, v);
}

static void
set_port(struct ctx *x, config_setting_t *s, const struct setting *st,
    void *base)
{
	struct svc_conf *sc = base;
	long long n;

	/* Even a bad port means no /etc/services lookup. */
	x->port_line = config_setting_source_line(s);
	if (get_int(x, s, st->min, st->max, &n) == 0)
		sc->port_tcp = sc->port_udp = (int)n;
}

static int
add_proto(struct ctx *x, config_setting_t *s, const char *v, void *arg)
{
	unsigned int *p = arg;

	if (strcmp(v, "tcp") == 0)
		*p |= SOCKD_TCP;
	else if (strcmp(v, "udp") == 0)
		*p |= SOCKD_UDP;
	else {
		ERR(x, s, "protocol \"%s\": expected \"tcp\" or \"udp\"", v);
		return -1;
	}
	return 0;
}

static void
set_protocol(struct ctx *x, config_setting_t *s, const struct setting *st,
    void *base)
{
	struct svc_conf *sc = base;

	sc->protocols = 0;
	if (for_strings(x, s, add_proto, &sc->protocols) == 0 &&
	    sc->protocols == 0)
		ERR(x, s, "protocol: the list is empty");
	if (sc->protocols == 0)
		sc->protocols = SOCKD_TCP;
}

static int
bind_parse(const char *v, struct bindaddr *b)
{
	struct sockaddr_in *sin = (void *)&b->ss;
	struct sockaddr_in6 *sin6 = (void *)&b->ss;

	memset(b, 0, sizeof(*b));
	if (inet_pton(AF_INET, v, &sin->sin_addr) == 1)
		sin->sin_family = AF_INET;
	else if (inet_pton(AF_INET6, v, &sin6->sin6_addr) == 1)
		sin6->sin6_family = AF_INET6;
	else
		return -1;
	snprintf(b->text, sizeof(b->text), "%s", v);
	return 0;
}

static int
add_bind(struct ctx *x, config_setting_t *s, const char *v, void *arg)
{
	struct svc_conf *sc = arg;
	struct bindaddr b;

	const struct sockaddr_in6 *sin6 = (const void *)&b.ss;
	char v4[INET_ADDRSTRLEN];
	size_t i;

	if (bind_parse(v, &b) == -1) {
		ERR(x, s, "bind \"%s\": not a numeric IPv4 or IPv6 address", v);
		return -1;
	}
	/* An IPv6 socket (v6-only) cannot bind an IPv4-mapped address. */
	if (b.ss.ss_family == AF_INET6 &&
	    IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
		inet_ntop(AF_INET, sin6->sin6_addr.s6_addr + 12, v4,
		    sizeof(v4));
		ERR(x, s, "bind \"%s\": an IPv4-mapped address; write \"%s\"",
		    v, v4);
		return -1;
	}
	for (i = 0; i < sc->nbind; i++)
		if (memcmp(&sc->bind[i].ss, &b.ss, sizeof(b.ss)) == 0) {
			ERR(x, s, "bind \"%s\": listed twice", v);
			return -1;
		}
	sc->bind = xreallocarray(sc->bind, sc->nbind + 1, sizeof(*sc->bind));
	sc->bind[sc->nbind++] = b;
	return 0;
}

static void
set_bind(struct ctx *x, config_setting_t *s, const struct setting *st,
    void *base)
{
	struct svc_conf *sc = base;

	free(sc->bind);
	sc->bind = NULL;
	sc->nbind = 0;
	if (for_strings(x, s, add_bind, sc) == 0 && sc->nbind == 0)
		ERR(x, s, "bind: the list is empty");
}

struct acl_arg {
	struct acl	*acl;
	enum acl_list	 which;
};

static int
add_cidr(struct ctx *x, config_setting_t *s, const char *v, void *arg)
{
	struct acl_arg *a = arg;
	struct cidr c;

	if (cidr_parse(v, &c) == -1) {
		ERR(x, s, "\"%s\": \"%s\" is not an address or CIDR prefix",
		    config_setting_name(s) != NULL ? config_setting_name(s) :
		    config_setting_name(config_setting_parent(s)), v);
		return -1;
	}
	acl_add(a->acl, a->which, &c);
	return 0;
}

static void
set_acl(struct ctx *x, config_setting_t *s, struct svc_conf *sc,
    enum acl_list which)
{
	struct acl_arg a = { &sc->acl, which };

	acl_start(&sc->acl, which);
	(void)for_strings(x, s, add_cidr, &a);
}

static void
set_allow(struct ctx *x, config_setting_t *s, const struct setting *st,
    void *base)
{
	set_acl(x, s, base, ACL_ALLOW);
}

static void
set_deny(struct ctx *x, config_setting_t *s, const struct setting *st,
    void *base)
{
	set_acl(x, s, base, ACL_DENY);
}

static void
set_proxy_protocol(struct ctx *x, config_setting_t *s,
    const struct setting *st, void *base)
{
	/* svc_finish() checks it against the rest of the service. */
	x->proxy_file = setting_file(x, s);
	x->proxy_line = config_setting_source_line(s);
	set_bool(x, s, st, base);
}

/* The balancers that may send a PROXY header: an allow list, which
 * refuses whoever it does not match. */
static void
set_proxy_from(struct ctx *x, config_setting_t *s, const struct setting *st,
    void *base)
{
	struct svc_conf *sc = base;
	struct acl_arg a = { &sc->proxy_from, ACL_ALLOW };

	acl_start(&sc->proxy_from, ACL_ALLOW);
	if (for_strings(x, s, add_cidr, &a) == 0 &&
	    sc->proxy_from.nallow == 0)
		ERR(x, s, "proxy_from: the list is empty");
}

/* Copies every setting of group g, which lies in file. */
/* A list or group of strings s as option key: 1 when every element is a
 * string (then added), 0 when it is not. */
static int
options_strings(struct opts *o, config_setting_t *s, const char *key,
    int line)
{
	int group = config_setting_type(s) == CONFIG_TYPE_GROUP;
	config_setting_t *e;
	char *kv;
	int i;

	for (i = 0; i < config_setting_length(s); i++)
		if (config_setting_type(config_setting_get_elem(s, i)) !=
		    CONFIG_TYPE_STRING)
			return 0;
	opts_add(o, key, line, group ? OPT_GROUP : OPT_LIST, NULL, 0);
	for (i = 0; i < config_setting_length(s); i++) {
		e = config_setting_get_elem(s, i);
		if (!group) {
			opts_add_string(o, config_setting_get_string(e));
			continue;
		}
		kv = xasprintf("%s=%s", config_setting_name(e),
		    config_setting_get_string(e));
		opts_add_string(o, kv);
		free(kv);
	}
	return 1;
}

static struct opts *
options_read(struct ctx *x, config_setting_t *g, const char *file)
{
	struct opts *o = opts_new(file, config_setting_source_line(g));
	config_setting_t *s;
	const char *key;
	int i, line;

	for (i = 0; i < config_setting_length(g); i++) {
		s = config_setting_get_elem(g, i);
		key = config_setting_name(s);
		line = config_setting_source_line(s);
		switch (config_setting_type(s)) {
		case CONFIG_TYPE_STRING:
			opts_add(o, key, line, OPT_STRING,
			    config_setting_get_string(s), 0);
			break;
		case CONFIG_TYPE_INT:
		case CONFIG_TYPE_INT64:
			opts_add(o, key, line, OPT_INT, NULL,
			    config_setting_get_int64(s));
			break;
		case CONFIG_TYPE_BOOL:
			opts_add(o, key, line, OPT_BOOL, NULL,
			    config_setting_get_bool(s));
			break;
		case CONFIG_TYPE_FLOAT:
			opts_add(o, key, line, OPT_FLOAT, NULL, 0);
			break;
		case CONFIG_TYPE_ARRAY:
		case CONFIG_TYPE_LIST:
		case CONFIG_TYPE_GROUP:
			if (options_strings(o, s, key, line))
				break;
			/* FALLTHROUGH */
		default:
			opts_add(o, key, line, OPT_OTHER, NULL, 0);
			errlist_add(x->errs, file, line, "option \"%s\": "
			    "expected a string, number, boolean, or a list "
			    "or group of strings", key);
			break;
		}
	}
	return o;
}

static void
set_options(struct ctx *x, config_setting_t *s, const struct setting *st,
    void *base)
{
	struct svc_conf *sc = base;

	if (config_setting_type(s) != CONFIG_TYPE_GROUP) {
		ERR(x, s, "options: expected a group { ... }");
		return;
	}
	opts_free(sc->opts);
	sc->opts = options_read(x, s, setting_file(x, s));
}

/* A service's log_level: a level name, kept as its syslog priority. */
static void
set_svc_log_level(struct ctx *x, config_setting_t *s,
    const struct setting *st, void *base)
{
	const char *v;
	int lvl;

	if ((v = get_str(x, s)) == NULL)
		return;
	if ((lvl = log_level_parse(v)) == -1)
		ERR(x, s, "log_level \"%s\": expected error, warning, notice, "
		    "info or debug", v);
	else
		*FIELD(long long, base, st) = lvl;
}

/* Rows of the tables.  NUMBER, FLAG and STRING fill the field of struct
 * st named as the setting: a number in [lo, hi] through set_int(), a
 * boolean through set_bool(), a string through fn (set_string(), or one
 * that checks the string first).  An OTHER row leaves it all to fn. */
#define NUMBER(st, f, lo, hi) \
	{ #f, T_INT, offsetof(struct st, f), lo, hi, set_int, 0 }
#define FLAG(st, f) \
	{ #f, T_BOOL, offsetof(struct st, f), 0, 0, set_bool, 0 }
#define STRING(st, f, fn, flags) \
	{ #f, T_STRING, offsetof(struct st, f), 0, 0, fn, flags }
#define OTHER(name, fn, flags) \
	{ name, T_OTHER, 0, 0, 0, fn, flags }

static const struct setting svc_settings[] = {
	STRING(svc_conf, name, set_name, SERVICE_ONLY),
	{ "port", T_OTHER, 0, 1, 65535, set_port, SERVICE_ONLY },
	OTHER("protocol", set_protocol, 0),
	OTHER("bind", set_bind, 0),
	STRING(svc_conf, handler, set_handler, 0),
	FLAG(svc_conf, enabled),
	OTHER("options", set_options, SERVICE_ONLY),
	STRING(svc_conf, banner, set_string, 0),
	STRING(svc_conf, busy, set_string, 0),
	STRING(svc_conf, quit, set_quit, 0),
	NUMBER(svc_conf, idle_timeout, 0, INT_MAX / 1000),
	NUMBER(svc_conf, backlog, 1, 65535),
	NUMBER(svc_conf, max_line, 1, 1 << 20),
	NUMBER(svc_conf, line_timeout, 0, 3600000),
	NUMBER(svc_conf, max_queue, 1024, 1LL << 30),
	NUMBER(svc_conf, max_connections, 1, 10000000),
	NUMBER(svc_conf, per_source, 0, 10000000),
	NUMBER(svc_conf, ipv6_prefix, 1, 128),
	NUMBER(svc_conf, rate, 0, 10000000),
	NUMBER(svc_conf, burst, 1, 100000000),
	NUMBER(svc_conf, max_reply, 1, 65507),
	NUMBER(svc_conf, max_reply_growth, -1, 65507),
	FLAG(svc_conf, drop_low_ports),
	FLAG(svc_conf, keepalive),
	NUMBER(svc_conf, rcvbuf, 0, 1 << 30),
	NUMBER(svc_conf, sndbuf, 0, 1 << 30),
	FLAG(svc_conf, v6only),
	OTHER("allow", set_allow, 0),
	OTHER("deny", set_deny, 0),
	FLAG(svc_conf, log_connections),
	{ "log_level", T_INT, offsetof(struct svc_conf, log_level), 0, 0,
	    set_svc_log_level, 0 },
	{ "proxy_protocol", T_BOOL, offsetof(struct svc_conf, proxy_protocol),
	    0, 0, set_proxy_protocol, 0 },
	OTHER("proxy_from", set_proxy_from, 0),
	NUMBER(svc_conf, proxy_timeout, 1, 3600),
};

static void
set_log(struct ctx *x, config_setting_t *s, const struct setting *st,
    void *base)
{
	struct config *c = base;
	const char *v;

	if ((v = get_str(x, s)) == NULL)
		return;
	if (strcmp(v, "stderr") == 0)
		c->log_stderr = 1;
	else if (strcmp(v, "syslog") == 0)
		c->log_stderr = 0;
	else
		ERR(x, s, "log \"%s\": expected \"syslog\" or \"stderr\"", v);
}

static void
set_log_level(struct ctx *x, config_setting_t *s, const struct setting *st,
    void *base)
{
	struct config *c = base;
	const char *v;
	int lvl;

	if ((v = get_str(x, s)) == NULL)
		return;
	if ((lvl = log_level_parse(v)) == -1)
		ERR(x, s, "log_level \"%s\": expected error, warning, notice, "
		    "info or debug", v);
	else
		c->log_level = lvl;
}

static void
set_include_dir(struct ctx *x, config_setting_t *s, const struct setting *st,
    void *base)
{
	const char *v;

	if ((v = get_str_nonempty(x, s, "names no directory")) == NULL)
		return;
	store_string(st, base, v);
	x->idir_file = setting_file(x, s);
	x->idir_line = config_setting_source_line(s);
}

static void
set_inetd_conf(struct ctx *x, config_setting_t *s, const struct setting *st,
    void *base)
{
	const char *v;

	if ((v = get_str_nonempty(x, s, "names no file")) == NULL)
		return;
	store_string(st, base, v);
	x->inetd_file = setting_file(x, s);
	x->inetd_line = config_setting_source_line(s);
}

static void
set_workers(struct ctx *x, config_setting_t *s, const struct setting *st,
    void *base)
{
	struct config *c = base;
	long long n;

	if (config_setting_type(s) == CONFIG_TYPE_STRING) {
		if (strcmp(config_setting_get_string(s), "auto") == 0)
			c->workers = 0;
		else
			ERR(x, s, "workers: expected a number or \"auto\"");
	} else if (get_int(x, s, st->min, st->max, &n) == 0)
		c->workers = (int)n;
}

static void
set_bus(struct ctx *x, config_setting_t *s, const struct setting *st,
    void *base)
{
	struct bus_addr a;
	const char *v, *why;

	if ((v = get_str(x, s)) == NULL)
		return;
	if ((why = bus_addr_parse(v, &a)) != NULL) {
		ERR(x, s, "bus \"%s\": %s", v, why);
		return;
	}
	bus_addr_clear(&a);
	store_string(st, base, v);
}

static const struct setting daemon_settings[] = {
	OTHER("log", set_log, 0),
	OTHER("log_level", set_log_level, 0),
	STRING(config, handler_dir, set_string, 0),
	STRING(config, include_dir, set_include_dir, 0),
	STRING(config, inetd_conf, set_inetd_conf, 0),
	STRING(config, user, set_string, 0),
	STRING(config, group, set_string, 0),
	{ "workers", T_OTHER, 0, 1, 256, set_workers, 0 },
	NUMBER(config, drain_timeout, 0, 3600),
	NUMBER(config, max_connections, 1, 10000000),
	STRING(config, bus, set_bus, 0),
	STRING(config, bus_password, set_string, 0),
};
#undef NUMBER
#undef FLAG
#undef STRING
#undef OTHER

/* Which group settings are read in: what an unknown one's error says. */
enum group { G_SERVICE, G_DEFAULTS, G_DAEMON };

/* Reads setting s, found in group where, into base (a struct svc_conf, or
 * the struct config for "daemon") through its row of table. */
static void
settings_apply(struct ctx *x, const struct setting *table, size_t n,
    enum group where, config_setting_t *s, void *base)
{
	static const char *const in[] = { "", " in defaults", " in daemon" };
	const char *name = config_setting_name(s);
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(table[i].name, name) == 0)
			break;
	if (i == n)
		ERR(x, s, "unknown setting \"%s\"%s", name, in[where]);
	else if (where == G_DEFAULTS && (table[i].flags & SERVICE_ONLY))
		ERR(x, s, "\"%s\" belongs in a service, not in defaults", name);
	else
		table[i].set(x, s, &table[i], base);
}

/* Reads each setting of g, a service's group or "defaults" (then sc is
 * the template services start from). */
static void
svc_read(struct ctx *x, config_setting_t *g, enum group where,
    struct svc_conf *sc)
{
	int i;

	for (i = 0; i < config_setting_length(g); i++)
		settings_apply(x, svc_settings, nitems(svc_settings), where,
		    config_setting_get_elem(g, i), sc);
}

static int
field_equal(const struct setting *st, const void *a, const void *b)
{
	const char *sa, *sb;

	switch (st->type) {
	case T_INT:
		return *CFIELD(long long, a, st) == *CFIELD(long long, b, st);
	case T_BOOL:
		return *CFIELD(int, a, st) == *CFIELD(int, b, st);
	case T_STRING:
		sa = *CFIELD(char *, a, st);
		sb = *CFIELD(char *, b, st);
		if (sa == NULL || sb == NULL)
			return sa == sb;
		return strcmp(sa, sb) == 0;
	default:
		return 1;
	}
}

int
svc_conf_equal(const struct svc_conf *a, const struct svc_conf *b)
{
	size_t i;

	for (i = 0; i < nitems(svc_settings); i++)
		if (!field_equal(&svc_settings[i], a, b))
			return 0;
	/* And what the T_OTHER rows fill. */
	return a->protocols == b->protocols && a->port_tcp == b->port_tcp &&
	    a->port_udp == b->port_udp && a->nbind == b->nbind &&
	    (a->nbind == 0 ||
	    memcmp(a->bind, b->bind, a->nbind * sizeof(*a->bind)) == 0) &&
	    acl_equal(&a->acl, &b->acl) && opts_equal(a->opts, b->opts) &&
	    acl_equal(&a->proxy_from, &b->proxy_from);
}

/* dst becomes a copy of src, with its own strings and lists, but no
 * options: only a service has them, never the template. */
static void
svc_conf_copy(struct svc_conf *dst, const struct svc_conf *src)
{
	char **p;
	size_t i;

	*dst = *src;
	for (i = 0; i < nitems(svc_settings); i++) {
		if (svc_settings[i].type != T_STRING)
			continue;
		p = FIELD(char *, dst, &svc_settings[i]);
		if (*p != NULL)
			*p = xstrdup(*p);
	}
	dst->file = src->file != NULL ? xstrdup(src->file) : NULL;
	dst->bind = xmemdup(src->bind, src->nbind, sizeof(*src->bind));
	acl_copy(&dst->acl, &src->acl);
	acl_copy(&dst->proxy_from, &src->proxy_from);
	dst->opts = NULL;
}

void
svc_conf_clear(struct svc_conf *sc)
{
	size_t i;

	for (i = 0; i < nitems(svc_settings); i++)
		if (svc_settings[i].type == T_STRING)
			free(*FIELD(char *, sc, &svc_settings[i]));
	free(sc->file);
	free(sc->bind);
	acl_clear(&sc->acl);
	acl_clear(&sc->proxy_from);
	opts_free(sc->opts);
	memset(sc, 0, sizeof(*sc));
}

static const struct svc_conf svc_builtin = {
	.enabled = 1,
	.protocols = SOCKD_TCP,
	.idle_timeout = 300,
	.backlog = 511,
	.max_line = 4096,
	.line_timeout = 100,
	.max_queue = 1 << 20,
	.max_connections = 1024,
	.per_source = 32,
	.ipv6_prefix = 64,
	.rate = 50,
	.burst = -1,
	.max_reply = 1472,
	.max_reply_growth = 64,
	.drop_low_ports = 1,
	.keepalive = 1,
	.v6only = 1,
	.log_level = -1,
	.proxy_timeout = 5,
};

static int
lookup_port(const char *name, const char *proto)
{
	struct servent *se = getservbyname(name, proto);

	return se != NULL ? ntohs((uint16_t)se->s_port) : 0;
}

static int
bind_is_any(const struct bindaddr *b)
{
	static const uint8_t zero[16];

	if (b->ss.ss_family == AF_INET)
		return memcmp(&((const struct sockaddr_in *)(const void *)
		    &b->ss)->sin_addr, zero, 4) == 0;
	return memcmp(&((const struct sockaddr_in6 *)(const void *)
	    &b->ss)->sin6_addr, zero, 16) == 0;
}

/* 1 when sockets bound to a and b on one port would take the same
 * packets: the same address, or a wildcard and an address of its family.
 * "::" with v6only off (v6only_a, v6only_b) also takes every IPv4 address.
 */
static int
bind_overlaps(const struct bindaddr *a, int v6only_a,
    const struct bindaddr *b, int v6only_b)
{
	const void *pa, *pb;
	size_t len;

	if (a->ss.ss_family != b->ss.ss_family) {
		if (a->ss.ss_family == AF_INET6)
			return !v6only_a && bind_is_any(a);
		return !v6only_b && bind_is_any(b);
	}
	if (a->ss.ss_family == AF_INET) {
		pa = &((const struct sockaddr_in *)(const void *)&a->ss)->
		    sin_addr;
		pb = &((const struct sockaddr_in *)(const void *)&b->ss)->
		    sin_addr;
		len = 4;
	} else {
		pa = &((const struct sockaddr_in6 *)(const void *)&a->ss)->
		    sin6_addr;
		pb = &((const struct sockaddr_in6 *)(const void *)&b->ss)->
		    sin6_addr;
		len = 16;
	}
	return memcmp(pa, pb, len) == 0 || bind_is_any(a) || bind_is_any(b);
}

/* A service with proxy_protocol must be TCP and say whom it trusts; the
 * error names the line of proxy_protocol, or the service's when it
 * comes from defaults. */
static int
proxy_check(struct ctx *x, const struct svc_conf *sc)
{
	const char *file = x->proxy_line != 0 ? x->proxy_file : sc->file;
	const char *from = x->proxy_line != 0 ? "" : " (from defaults)";
	int line = x->proxy_line != 0 ? x->proxy_line : sc->line;

	if (!(sc->protocols & SOCKD_TCP)) {
		errlist_add(x->errs, file, line, "service \"%s\": "
		    "proxy_protocol%s is for TCP, and the service is UDP "
		    "only; set proxy_protocol = false", sc->name, from);
		return -1;
	}
	/* A list set but empty or wrong has an error of its own. */
	if (!sc->proxy_from.has_allow) {
		errlist_add(x->errs, file, line, "service \"%s\": "
		    "proxy_protocol%s needs proxy_from, the addresses of the "
		    "balancers that may send the header", sc->name, from);
		return -1;
	}
	return 0;
}

/* Fills the default binds and the ports; returns -1 on error. */
static int
svc_finish(struct ctx *x, struct svc_conf *sc)
{
	unsigned int p;
	size_t i, j;
	int *port;

	if (sc->nbind == 0 && !sc->v6only) {
		/* "::" alone takes both families then. */
		sc->bind = xcalloc(1, sizeof(*sc->bind));
		(void)bind_parse("::", &sc->bind[0]);
		sc->nbind = 1;
	} else if (sc->nbind == 0) {
		sc->bind = xcalloc(2, sizeof(*sc->bind));
		(void)bind_parse("0.0.0.0", &sc->bind[0]);
		(void)bind_parse("::", &sc->bind[1]);
		sc->nbind = 2;
	}
	for (i = 0; i < sc->nbind; i++)
		for (j = i + 1; j < sc->nbind; j++)
			if (bind_overlaps(&sc->bind[i], sc->v6only,
			    &sc->bind[j], sc->v6only)) {
				errlist_add(x->errs, sc->file, sc->line,
				    "service \"%s\": bind \"%s\" and \"%s\" "
				    "overlap%s", sc->name, sc->bind[i].text,
				    sc->bind[j].text, sc->v6only ? "" :
				    " (with v6only = false, \"::\" also takes "
				    "IPv4)");
				return -1;
			}
	if (sc->proxy_protocol && proxy_check(x, sc) == -1)
		return -1;
	if (sc->handler == NULL) {
		if (!valid_name(sc->name, "")) {
			errlist_add(x->errs, sc->file, sc->line, "service "
			    "\"%s\": the name is no handler name; set "
			    "\"handler\"", sc->name);
			return -1;
		}
		sc->handler = xstrdup(sc->name);
	}
	if (sc->burst == -1)
		sc->burst = sc->rate > 0 ? 2 * sc->rate : 1;
	if (sc->opts == NULL)
		sc->opts = opts_new(sc->file, sc->line);
	for (p = SOCKD_TCP; p <= SOCKD_UDP; p <<= 1) {
		if (!(sc->protocols & p))
			continue;
		port = p == SOCKD_TCP ? &sc->port_tcp : &sc->port_udp;
		if (x->port_line == 0 &&
		    (*port = lookup_port(sc->name, proto_name(p))) == 0) {
			errlist_add(x->errs, sc->file, sc->line, "service "
			    "\"%s\": no \"port\", and \"%s\" is not a %s "
			    "service in /etc/services", sc->name, sc->name,
			    proto_name(p));
			return -1;
		}
		if (*port < 1024 && x->port_offset > 0) {
			*port += x->port_offset;
			if (*port > 65535) {
				errlist_add(x->errs, sc->file, sc->line,
				    "service \"%s\": port offset %d takes the "
				    "port past 65535", sc->name, x->port_offset);
				return -1;
			}
		}
	}
	return 0;
}

/* Two enabled services must not want the same protocol, address and port;
 * a wildcard address overlaps every address of its family.  Each service
 * is reported once, with the first it clashes with: n copies of one line
 * (an inetd.conf) make n - 1 errors, not n * n / 2. */
static void
check_conflicts(struct ctx *x, struct config *c)
{
	struct svc_conf *a, *b;
	size_t i, j, k, l;
	unsigned int p;
	int pa, pb;
	char *clashed = xcalloc(c->nsvc + 1, 1);

	for (i = 0; i < c->nsvc; i++)
		for (j = i + 1; j < c->nsvc; j++) {
			a = &c->svc[i];
			b = &c->svc[j];
			if (!a->enabled || !b->enabled || clashed[j])
				continue;
			for (p = SOCKD_TCP; p <= SOCKD_UDP; p <<= 1) {
				if (!(a->protocols & b->protocols & p))
					continue;
				pa = p == SOCKD_TCP ? a->port_tcp : a->port_udp;
				pb = p == SOCKD_TCP ? b->port_tcp : b->port_udp;
				if (pa != pb)
					continue;
				for (k = 0; k < a->nbind; k++)
					for (l = 0; l < b->nbind; l++)
						if (bind_overlaps(&a->bind[k],
						    a->v6only, &b->bind[l],
						    b->v6only))
							goto clash;
				continue;
clash:
				clashed[j] = 1;
				if (c->inetd_conf != NULL &&
				    strcmp(b->file, c->inetd_conf) == 0) {
					/* As for a name: sockd.conf wins. */
					log_warnx("%s:%d: service \"%s\": %s "
					    "port %d is already used by service "
					    "\"%s\" (%s:%d); this inetd.conf "
					    "line is skipped", b->file, b->line,
					    b->name, proto_name(p), pb, a->name,
					    a->file, a->line);
					b->enabled = 0;
					break;
				}
				if (strcmp(a->file, b->file) == 0)
					errlist_add(x->errs, b->file, b->line,
					    "service \"%s\": %s port %d is "
					    "already used by service \"%s\" "
					    "(line %d): \"%s\" overlaps \"%s\"",
					    b->name, proto_name(p), pb, a->name,
					    a->line, b->bind[l].text,
					    a->bind[k].text);
				else
					errlist_add(x->errs, b->file, b->line,
					    "service \"%s\": %s port %d is "
					    "already used by service \"%s\" "
					    "(%s:%d): \"%s\" overlaps \"%s\"",
					    b->name, proto_name(p), pb, a->name,
					    a->file, a->line, b->bind[l].text,
					    a->bind[k].text);
			}
		}
	free(clashed);
}

static void
load_daemon(struct ctx *x, struct config *c, config_setting_t *g)
{
	int i;

	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		ERR(x, g, "daemon: expected a group { ... }");
		return;
	}
	for (i = 0; i < config_setting_length(g); i++)
		settings_apply(x, daemon_settings, nitems(daemon_settings),
		    G_DAEMON, config_setting_get_elem(g, i), c);
}

static void
load_services(struct ctx *x, struct config *c, config_setting_t *list,
    const struct svc_conf *tmpl)
{
	config_setting_t *g;
	struct svc_conf *sc;
	size_t k;
	int i, n, nerr;

	if (config_setting_type(list) != CONFIG_TYPE_LIST &&
	    config_setting_type(list) != CONFIG_TYPE_ARRAY) {
		ERR(x, list, "services: expected a list ( { ... }, ... )");
		return;
	}
	/* Drop-in files append to the main file's services. */
	n = config_setting_length(list);
	c->svc = xreallocarray(c->svc, c->nsvc + (n > 0 ? n : 1),
	    sizeof(*c->svc));
	for (i = 0; i < n; i++) {
		g = config_setting_get_elem(list, i);
		if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
			ERR(x, g, "services: each service is a group "
			    "{ name = ...; }");
			continue;
		}
		nerr = (int)x->errs->n;
		sc = &c->svc[c->nsvc];
		svc_conf_copy(sc, tmpl);
		sc->file = xstrdup(setting_file(x, g));
		sc->line = config_setting_source_line(g);
		x->port_line = 0;
		x->proxy_line = 0;
		svc_read(x, g, G_SERVICE, sc);
		if (sc->name == NULL) {
			if ((int)x->errs->n == nerr)
				ERR(x, g, "service without a \"name\"");
			svc_conf_clear(sc);
			continue;
		}
		for (k = 0; k < c->nsvc; k++)
			if (strcmp(c->svc[k].name, sc->name) == 0)
				break;
		if (k < c->nsvc && strcmp(c->svc[k].file, sc->file) == 0) {
			ERR(x, g, "service \"%s\" is already defined at line %d",
			    sc->name, c->svc[k].line);
			svc_conf_clear(sc);
			continue;
		}
		if (k < c->nsvc && x->in_inetd) {
			/* sockd's own configuration wins: a package's
			 * update-inetd line never stops the daemon. */
			log_warnx("%s:%d: service \"%s\" is already defined "
			    "at %s:%d; this inetd.conf line is skipped",
			    sc->file, sc->line, sc->name, c->svc[k].file,
			    c->svc[k].line);
			svc_conf_clear(sc);
			continue;
		}
		if (k < c->nsvc) {
			ERR(x, g, "service \"%s\" is already defined at %s:%d",
			    sc->name, c->svc[k].file, c->svc[k].line);
			svc_conf_clear(sc);
			continue;
		}
		if (svc_finish(x, sc) == -1 ||
		    (int)x->errs->n != nerr) {
			svc_conf_clear(sc);
			continue;
		}
		c->nsvc++;
	}
}

/*
 * Checks file (opened by the @include at from:fromline, or the main file
 * when from is NULL) and, recursively, what it includes, before libconfig
 * reads any of it: libconfig's scanner gives no line for an include it
 * cannot open, and its string scanning is quadratic, so a huge value would
 * stall a reload.  Paths resolve as libconfig 1.5 resolves them: every
 * @include, at any depth, is relative to dir, the directory of the main
 * file (or, for a drop-in file and its includes, include_dir).  The
 * top file's text goes to *textp (to free), so that it is read once.
 */
static int
includes_check(struct ctx *x, const char *dir, const char *file,
    const char *from, int fromline, int depth, size_t *total, char **textp)
{
	struct stat st;
	char *text = NULL, *p, *q, *r, *path, *full;
	const char *why = NULL;
	int line, rc = 0, incomment = 0;
	size_t n, cap;
	FILE *fp;

#define INCERR(...) (from != NULL ? errlist_add(x->errs, from, fromline, \
	__VA_ARGS__) : errlist_add(x->errs, file, 0, __VA_ARGS__))
	fp = NULL;
	/* An include is looked at before it is opened: opening a FIFO
	 * would block; the main file may be a pipe (-c /dev/stdin). */
	if (from != NULL && stat(file, &st) == -1)
		why = strerror(errno);
	else if (from != NULL && S_ISDIR(st.st_mode))
		why = strerror(EISDIR);
	else if (from != NULL && !S_ISREG(st.st_mode))
		why = "not a regular file";
	else if ((fp = fopen(file, "r")) == NULL ||
	    fstat(fileno(fp), &st) == -1)
		why = strerror(errno);
	else if (S_ISDIR(st.st_mode))
		why = strerror(EISDIR);
	if (why != NULL) {
		if (from != NULL)
			INCERR("cannot include \"%s\": %s", file, why);
		else
			INCERR("%s", why);
		if (fp != NULL)
			fclose(fp);
		return -1;
	}
	/* Up to one byte past the limit: pipes and /proc files have no
	 * size to go by. */
	for (n = 0, cap = 0; n == cap && cap <= CONFIG_FILE_MAX;) {
		cap = cap == 0 ? 8192 : cap * 2;
		if (cap > CONFIG_FILE_MAX + 1)
			cap = CONFIG_FILE_MAX + 1;
		text = xreallocarray(text, cap + 1, 1);
		n += fread(text + n, 1, cap - n, fp);
		if (cap == CONFIG_FILE_MAX + 1)
			break;
	}
	fclose(fp);
	if (n > CONFIG_FILE_MAX) {
		errlist_add(x->errs, file, 0, "larger than the limit of %d KiB "
		    "for a configuration file", CONFIG_FILE_MAX >> 10);
		free(text);
		return -1;
	}
	if ((*total += n) > CONFIG_TOTAL_MAX) {
		errlist_add(x->errs, file, 0, "the configuration, its includes "
		    "and drop-in files pass the limit of %d KiB together",
		    CONFIG_TOTAL_MAX >> 10);
		free(text);
		return -1;
	}
	text[n] = '\0';
	/* libconfig would cut a string (an @include name too) there. */
	if ((p = memchr(text, '\0', n)) != NULL) {
		for (line = 1, q = text; q < p; q++)
			line += *q == '\n';
		errlist_add(x->errs, file, line, "a NUL byte; a configuration "
		    "is text");
		free(text);
		return -1;
	}
	if (textp != NULL) {
		*textp = xcalloc(1, n + 1);
		memcpy(*textp, text, n);
	}
	for (p = text, line = 1; p != NULL && *p != '\0' && rc == 0;
	    line++, p = q != NULL ? q + 1 : NULL) {
		q = strchr(p, '\n');
		if (incomment) {
			if ((r = strstr(p, "*/")) != NULL && (q == NULL || r < q))
				incomment = 0;
			continue;
		}
		p += strspn(p, " \t");
		if (strncmp(p, "@include", 8) != 0 ||
		    (p[8] != ' ' && p[8] != '\t')) {
			/* Good enough for "@include" inside a comment; a
			 * stray match only costs a spurious check. */
			if ((r = strstr(p, "/*")) != NULL && (q == NULL ||
			    r < q) && ((r = strstr(r + 2, "*/")) == NULL ||
			    (q != NULL && r > q)))
				incomment = 1;
			continue;
		}
		p += 8 + strspn(p + 8, " \t");
		if (*p++ != '"')
			continue;
		/* The name as libconfig's scanner reads it: up to the next
		 * quote, newlines included, where \\ and \" are escapes and
		 * any other backslash is dropped. */
		path = xcalloc(1, strlen(p) + 1);
		for (n = 0; *p != '\0' && *p != '"'; p++) {
			if (*p == '\\' && (p[1] == '\\' || p[1] == '"'))
				p++;
			else if (*p == '\\')
				continue;
			path[n++] = *p;
		}
		if (*p != '"') {
			free(path);
			break;		/* libconfig reports it */
		}
		if (depth >= CONFIG_INCLUDE_DEPTH) {
			errlist_add(x->errs, file, line, "cannot include "
			    "\"%s\": includes nest deeper than %d", path,
			    CONFIG_INCLUDE_DEPTH);
			rc = -1;
		} else {
			full = xasprintf("%s/%s", dir, path);
			rc = includes_check(x, dir, full, file, line,
			    depth + 1, total, NULL);
			free(full);
		}
		free(path);
		/* Go on after the name, which may span lines. */
		for (; q != NULL && q < p; q = strchr(q + 1, '\n'))
			line++;
	}
	free(text);
	return rc;
#undef INCERR
}

/*
 * Reads file, whose @includes are relative to dir, into cfg (to destroy);
 * -1, with the error in x->errs, when it could not be read or parsed.
 */
static int
conf_parse(struct ctx *x, const char *dir, const char *file, size_t *total,
    config_t *cfg)
{
	char *text = NULL;
	int ok;

	if (includes_check(x, dir, file, NULL, 0, 0, total, &text) == -1) {
		free(text);
		return -1;
	}
	config_init(cfg);
	config_set_include_dir(cfg, dir);
	ok = config_read_string(cfg, text);
	free(text);
	if (!ok) {
		errlist_add(x->errs, config_error_file(cfg) != NULL ?
		    config_error_file(cfg) : file, config_error_line(cfg),
		    "%s", config_error_text(cfg));
		config_destroy(cfg);
		return -1;
	}
	return 0;
}

/* Reads the drop-in file path, whose @includes are relative to dir. */
static void
dropin_read(struct ctx *x, struct config *c, const char *dir,
    const char *path, const struct svc_conf *tmpl, size_t *total)
{
	config_setting_t *root, *s;
	const char *main_file = x->file, *name;
	config_t cfg;
	int i;

	x->file = path;
	if (conf_parse(x, dir, path, total, &cfg) == -1) {
		x->file = main_file;
		return;
	}
	root = config_root_setting(&cfg);
	for (i = 0; i < config_setting_length(root); i++) {
		s = config_setting_get_elem(root, i);
		name = config_setting_name(s);
		if (strcmp(name, "services") == 0)
			load_services(x, c, s, tmpl);
		else if (strcmp(name, "daemon") == 0 ||
		    strcmp(name, "defaults") == 0)
			ERR(x, s, "\"%s\" belongs in the main file %s; a "
			    "drop-in file holds only \"services\"", name,
			    main_file);
		else
			ERR(x, s, "unknown setting \"%s\"; a drop-in file "
			    "holds only \"services\"", name);
	}
	config_destroy(&cfg);
	x->file = main_file;
}

/* 1 for the names of drop-in files: "*.conf", but no dotfile; leftovers
 * of package managers and editors ("x.conf.dpkg-old", "x.conf~") end
 * otherwise. */
static int
dropin_name(const char *name)
{
	size_t n = strlen(name);

	return name[0] != '.' && n > 5 && strcmp(name + n - 5, ".conf") == 0;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Reads every drop-in file of c->include_dir in C-locale order, the main
 * file (st_main) excepted, should the directory hold it.  A missing
 * directory is only a warning: the setting may name one that a package
 * creates, or that an admin has not made yet.
 */
static void
dropins_read(struct ctx *x, struct config *c, const struct stat *st_main,
    const struct svc_conf *tmpl, size_t *total)
{
	const char *dir = c->include_dir;
	struct dirent *de;
	struct stat st;
	char **names = NULL, *path;
	size_t n = 0, i;
	DIR *d;

	if (stat(dir, &st) == -1 && errno == ENOENT) {
		log_warnx("%s:%d: include_dir \"%s\": no such directory; no "
		    "drop-in files read", x->idir_file, x->idir_line, dir);
		return;
	}
	if (stat(dir, &st) == -1 || (!S_ISDIR(st.st_mode) &&
	    (errno = ENOTDIR) != 0) || (d = opendir(dir)) == NULL) {
		errlist_add(x->errs, x->idir_file, x->idir_line,
		    "include_dir \"%s\": %s", dir, strerror(errno));
		return;
	}
	while ((errno = 0, de = readdir(d)) != NULL) {
		if (!dropin_name(de->d_name))
			continue;
		if (n == CONFIG_DROPIN_MAX) {
			errlist_add(x->errs, x->idir_file, x->idir_line,
			    "include_dir \"%s\": more than %d drop-in files",
			    dir, CONFIG_DROPIN_MAX);
			break;
		}
		names = xreallocarray(names, n + 1, sizeof(*names));
		names[n++] = xstrdup(de->d_name);
	}
	if (de == NULL && errno != 0)
		errlist_add(x->errs, x->idir_file, x->idir_line,
		    "include_dir \"%s\": %s", dir, strerror(errno));
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof(*names), name_cmp);
	for (i = 0; i < n; i++) {
		path = xasprintf("%s/%s", dir, names[i]);
		/* Looked at before it is opened: a FIFO would block. */
		if (stat(path, &st) == -1)
			log_warnx("%s: ignored: %s", path, strerror(errno));
		else if (!S_ISREG(st.st_mode))
			log_warnx("%s: ignored: not a regular file", path);
		else if (st_main == NULL || st.st_dev != st_main->st_dev ||
		    st.st_ino != st_main->st_ino)
			dropin_read(x, c, dir, path, tmpl, total);
		free(path);
		free(names[i]);
	}
	free(names);
}

/*
 * Reads c->inetd_conf as a drop-in file whose services are its entries.
 * A missing file is no error: the setting names the file update-inetd
 * writes, which exists only once a package has registered a service.
 * An error in the file goes to c->skipped, not to the configuration's
 * errors: the line is skipped and the others are served, as inetd does,
 * so that a line a package left behind never keeps sockd from starting.
 */
static void
inetd_read(struct ctx *x, struct config *c, const struct svc_conf *tmpl,
    size_t *total)
{
	const char *path = c->inetd_conf, *main_file = x->file;
	struct errlist *errs = x->errs;
	struct imp_list l = { 0 };
	struct stat st;
	config_t cfg;
	char *text, *ctext;

	if (stat(path, &st) == -1 && errno == ENOENT) {
		log_info("%s:%d: inetd_conf \"%s\": no such file; no inetd "
		    "services", x->inetd_file, x->inetd_line, path);
		return;
	}
	if ((text = import_read(path, x->inetd_file, x->inetd_line,
	    &c->skipped)) == NULL)
		return;
	if ((*total += strlen(text)) > CONFIG_TOTAL_MAX) {
		errlist_add(&c->skipped, path, 0, "the configuration, its "
		    "includes, drop-in files and inetd_conf pass the limit of "
		    "%d KiB together", CONFIG_TOTAL_MAX >> 10);
		free(text);
		return;
	}
	/* The lines that parsed are entries, whatever the others. */
	(void)inetdconf_parse(path, text, &l, &c->skipped);
	free(text);
	import_names(&l);
	ctext = import_config_text(&l);
	imp_list_free(&l);
	if (ctext == NULL) {
		errlist_add(&c->skipped, path, 0, "out of memory");
		return;
	}
	config_init(&cfg);
	if (!config_read_string(&cfg, ctext))
		/* The importer writes only what libconfig reads: a bug. */
		errlist_add(&c->skipped, path, config_error_line(&cfg),
		    "%s (as imported)", config_error_text(&cfg));
	else {
		x->file = path;
		x->in_inetd = 1;
		x->errs = &c->skipped;
		load_services(x, c, config_lookup(&cfg, "services"), tmpl);
		x->errs = errs;
		x->in_inetd = 0;
		x->file = main_file;
	}
	config_destroy(&cfg);
	free(ctext);
}

struct config *
config_load(const char *file, int port_offset, struct errlist *errs)
{
	struct ctx x = { .file = file, .errs = errs,
	    .port_offset = port_offset };
	struct svc_conf tmpl;
	struct config *c;
	struct stat st_main;
	config_t cfg;
	config_setting_t *root, *s, *services = NULL, *defaults = NULL;
	char *dir, *idir;
	int i, have_st;
	size_t total = 0;

	/* dirname() may return its argument cut short, or a static "." */
	dir = xstrdup(file);
	idir = xstrdup(dirname(dir));
	free(dir);
	if (conf_parse(&x, idir, file, &total, &cfg) == -1) {
		free(idir);
		return NULL;
	}
	have_st = stat(file, &st_main) == 0;
	c = xcalloc(1, sizeof(*c));
	c->file = xstrdup(file);
	c->log_level = LOG_INFO;
	c->handler_dir = xstrdup(SOCKD_HANDLER_DIR);
	c->workers = 1;
	c->drain_timeout = 10;
	c->max_connections = 4096;
	root = config_root_setting(&cfg);
	for (i = 0; i < config_setting_length(root); i++) {
		s = config_setting_get_elem(root, i);
		if (strcmp(config_setting_name(s), "daemon") == 0)
			load_daemon(&x, c, s);
		else if (strcmp(config_setting_name(s), "defaults") == 0)
			defaults = s;
		else if (strcmp(config_setting_name(s), "services") == 0)
			services = s;
		else
			ERR(&x, s, "unknown setting \"%s\"; expected daemon, "
			    "defaults or services", config_setting_name(s));
	}
	svc_conf_copy(&tmpl, &svc_builtin);
	if (defaults != NULL) {
		if (config_setting_type(defaults) != CONFIG_TYPE_GROUP)
			ERR(&x, defaults, "defaults: expected a group { ... }");
		else
			svc_read(&x, defaults, G_DEFAULTS, &tmpl);
	}
	if (services != NULL)
		load_services(&x, c, services, &tmpl);
	else if (c->include_dir == NULL && c->inetd_conf == NULL)
		errlist_add(errs, file, 0, "no \"services\" list");
	if (c->include_dir != NULL) {
		/* Relative to the main file, as its @includes are. */
		if (c->include_dir[0] != '/' && strcmp(idir, ".") != 0) {
			dir = xasprintf("%s/%s", idir, c->include_dir);
			free(c->include_dir);
			c->include_dir = dir;
		}
		dropins_read(&x, c, have_st ? &st_main : NULL, &tmpl, &total);
	}
	if (c->inetd_conf != NULL) {
		/* Relative to the main file, as include_dir. */
		if (c->inetd_conf[0] != '/' && strcmp(idir, ".") != 0) {
			dir = xasprintf("%s/%s", idir, c->inetd_conf);
			free(c->inetd_conf);
			c->inetd_conf = dir;
		}
		inetd_read(&x, c, &tmpl, &total);
	}
	check_conflicts(&x, c);
	svc_conf_clear(&tmpl);
	/* x.idir_file lies in cfg. */
	config_destroy(&cfg);
	free(idir);
	return c;
}

void
config_free(struct config *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->nsvc; i++)
		svc_conf_clear(&c->svc[i]);
	free(c->svc);
	free(c->file);
	free(c->handler_dir);
	free(c->include_dir);
	free(c->inetd_conf);
	errlist_free(&c->skipped);
	free(c->user);
	free(c->group);
	free(c->bus);
	free(c->bus_password);
	free(c);
}
