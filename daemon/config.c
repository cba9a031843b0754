/*
 * config: libconfig file -> struct config.  Nothing else in sockd sees
 * libconfig.  Per-service settings are described once, in svc_settings[],
 * and the same parser reads them in "defaults" (into a template every
 * service starts from) and in each service.  Every error is collected as
 * "file:line: text" and loading goes on, so that "sockd -t" reports them
 * all; only a syntax error stops early, since libconfig stops there.
 */
#include <arpa/inet.h>
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
#include "config.h"
#include "errlist.h"
#include "log.h"
#include "opts.h"
#include "util.h"

const char *
proto_name(unsigned int p)
{
	return p == SOCKD_UDP ? "udp" : "tcp";
}

enum skind {
	S_INT, S_BOOL, S_STR, S_NAME, S_PORT, S_PROTO, S_BIND, S_ALLOW,
	S_DENY, S_OPTIONS
};

struct setting {
	const char	*name;
	enum skind	 kind;
	size_t		 off;
	long long	 min, max;
	int		 service_only;	/* not allowed in "defaults" */
};

#define F(f)	offsetof(struct svc_conf, f)
static const struct setting svc_settings[] = {
	{ "name", S_NAME, F(name), 0, 0, 1 },
	{ "port", S_PORT, 0, 1, 65535, 1 },
	{ "protocol", S_PROTO, 0, 0, 0, 0 },
	{ "bind", S_BIND, 0, 0, 0, 0 },
	{ "handler", S_STR, F(handler), 0, 0, 0 },
	{ "enabled", S_BOOL, F(enabled), 0, 0, 0 },
	{ "options", S_OPTIONS, 0, 0, 0, 1 },
	{ "banner", S_STR, F(banner), 0, 0, 0 },
	{ "busy", S_STR, F(busy), 0, 0, 0 },
	{ "quit", S_STR, F(quit), 0, 0, 0 },
	{ "idle_timeout", S_INT, F(idle_timeout), 0, INT_MAX / 1000, 0 },
	{ "backlog", S_INT, F(backlog), 1, 65535, 0 },
	{ "max_line", S_INT, F(max_line), 1, 1 << 20, 0 },
	{ "line_timeout", S_INT, F(line_timeout), 0, 3600000, 0 },
	{ "max_queue", S_INT, F(max_queue), 1024, 1LL << 30, 0 },
	{ "max_connections", S_INT, F(max_connections), 1, 10000000, 0 },
	{ "per_source", S_INT, F(per_source), 0, 10000000, 0 },
	{ "ipv6_prefix", S_INT, F(ipv6_prefix), 1, 128, 0 },
	{ "rate", S_INT, F(rate), 0, 10000000, 0 },
	{ "burst", S_INT, F(burst), 1, 100000000, 0 },
	{ "max_reply", S_INT, F(max_reply), 1, 65507, 0 },
	{ "max_reply_growth", S_INT, F(max_reply_growth), -1, 65507, 0 },
	{ "drop_low_ports", S_BOOL, F(drop_low_ports), 0, 0, 0 },
	{ "keepalive", S_BOOL, F(keepalive), 0, 0, 0 },
	{ "rcvbuf", S_INT, F(rcvbuf), 0, 1 << 30, 0 },
	{ "sndbuf", S_INT, F(sndbuf), 0, 1 << 30, 0 },
	{ "v6only", S_BOOL, F(v6only), 0, 0, 0 },
	{ "allow", S_ALLOW, 0, 0, 0, 0 },
	{ "deny", S_DENY, 0, 0, 0, 0 },
};
#undef F

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
};

struct ctx {
	const char	*file;		/* the main file */
	struct errlist	*errs;
	int		 port_offset;
};

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

static void
set_str(char **field, const char *v)
{
	free(*field);
	*field = v != NULL ? xstrdup(v) : NULL;
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
	struct bindaddr b, *nb;

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
	if ((nb = realloc(sc->bind, (sc->nbind + 1) * sizeof(*nb))) == NULL)
		abort();
	sc->bind = nb;
	sc->bind[sc->nbind++] = b;
	return 0;
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

/* Copies every setting of group g, which lies in file. */
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
		default:
			opts_add(o, key, line, OPT_OTHER, NULL, 0);
			errlist_add(x->errs, file, line, "option \"%s\": "
			    "expected a string, number or boolean", key);
			break;
		}
	}
	return o;
}

/* Applies one setting s of a service (or of "defaults" when sc is the
 * template) to sc. */
static void
svc_apply(struct ctx *x, struct svc_conf *sc, config_setting_t *s,
    int is_defaults, int *port_seen)
{
	const char *name = config_setting_name(s), *v;
	const struct setting *st = NULL;
	struct acl_arg al;
	long long n;
	size_t i;

	for (i = 0; i < nitems(svc_settings); i++)
		if (strcmp(svc_settings[i].name, name) == 0)
			st = &svc_settings[i];
	if (st == NULL) {
		ERR(x, s, "unknown setting \"%s\"%s", name,
		    is_defaults ? " in defaults" : "");
		return;
	}
	if (is_defaults && st->service_only) {
		ERR(x, s, "\"%s\" belongs in a service, not in defaults", name);
		return;
	}
	switch (st->kind) {
	case S_INT:
		if (get_int(x, s, st->min, st->max, &n) == 0)
			*(long long *)(void *)((char *)sc + st->off) = n;
		break;
	case S_BOOL:
		if (config_setting_type(s) != CONFIG_TYPE_BOOL)
			ERR(x, s, "\"%s\": expected true or false", name);
		else
			*(int *)(void *)((char *)sc + st->off) =
			    config_setting_get_bool(s);
		break;
	case S_STR:
		if ((v = get_str(x, s)) == NULL)
			break;
		if (strcmp(name, "handler") == 0 && !valid_name(v, "")) {
			ERR(x, s, "handler \"%s\": names are 1 to 64 of "
			    "[a-z0-9_]", v);
			break;
		}
		/* conn.c compares lines with it: "" would match the first
		 * empty line and end the session there. */
		if (strcmp(name, "quit") == 0 && *v == '\0') {
			ERR(x, s, "quit: the empty string would end every "
			    "session at its first empty line; leave \"quit\" "
			    "out instead");
			break;
		}
		set_str((char **)(void *)((char *)sc + st->off), v);
		break;
	case S_NAME:
		if ((v = get_str(x, s)) == NULL)
			break;
		if (!valid_name(v, "-.")) {
			ERR(x, s, "name \"%s\": names are 1 to 64 of "
			    "[a-z0-9_.-]", v);
			break;
		}
		set_str(&sc->name, v);
		break;
	case S_PORT:
		/* Even a bad port means no /etc/services lookup. */
		*port_seen = config_setting_source_line(s);
		if (get_int(x, s, st->min, st->max, &n) == 0)
			sc->port_tcp = sc->port_udp = (int)n;
		break;
	case S_PROTO:
		sc->protocols = 0;
		if (for_strings(x, s, add_proto, &sc->protocols) == 0 &&
		    sc->protocols == 0)
			ERR(x, s, "protocol: the list is empty");
		if (sc->protocols == 0)
			sc->protocols = SOCKD_TCP;
		break;
	case S_BIND:
		free(sc->bind);
		sc->bind = NULL;
		sc->nbind = 0;
		if (for_strings(x, s, add_bind, sc) == 0 && sc->nbind == 0)
			ERR(x, s, "bind: the list is empty");
		break;
	case S_ALLOW:
	case S_DENY:
		al.acl = &sc->acl;
		al.which = st->kind == S_ALLOW ? ACL_ALLOW : ACL_DENY;
		acl_start(al.acl, al.which);
		(void)for_strings(x, s, add_cidr, &al);
		break;
	case S_OPTIONS:
		if (config_setting_type(s) != CONFIG_TYPE_GROUP) {
			ERR(x, s, "options: expected a group { ... }");
			break;
		}
		opts_free(sc->opts);
		sc->opts = options_read(x, s, setting_file(x, s));
		break;
	}
}

void
svc_conf_clear(struct svc_conf *sc)
{
	free(sc->name);
	free(sc->file);
	free(sc->handler);
	free(sc->bind);
	free(sc->banner);
	free(sc->busy);
	free(sc->quit);
	acl_clear(&sc->acl);
	opts_free(sc->opts);
	memset(sc, 0, sizeof(*sc));
}

static void *
memdup(const void *p, size_t n)
{
	void *q;

	if (n == 0 || p == NULL)
		return NULL;
	if ((q = malloc(n)) == NULL)
		abort();
	return memcpy(q, p, n);
}

static void
svc_conf_copy(struct svc_conf *dst, const struct svc_conf *src)
{
	*dst = *src;
	dst->name = src->name != NULL ? xstrdup(src->name) : NULL;
	dst->file = src->file != NULL ? xstrdup(src->file) : NULL;
	dst->handler = src->handler != NULL ? xstrdup(src->handler) : NULL;
	dst->banner = src->banner != NULL ? xstrdup(src->banner) : NULL;
	dst->busy = src->busy != NULL ? xstrdup(src->busy) : NULL;
	dst->quit = src->quit != NULL ? xstrdup(src->quit) : NULL;
	dst->bind = memdup(src->bind, src->nbind * sizeof(*src->bind));
	acl_copy(&dst->acl, &src->acl);
	dst->opts = NULL;
}

static int
str_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* memcmp() of two arrays, either of which may be NULL when empty. */
static int
mem_eq(const void *a, const void *b, size_t n)
{
	return n == 0 || memcmp(a, b, n) == 0;
}

int
svc_conf_equal(const struct svc_conf *a, const struct svc_conf *b)
{
	return str_eq(a->name, b->name) && str_eq(a->handler, b->handler) &&
	    a->protocols == b->protocols && a->port_tcp == b->port_tcp &&
	    a->port_udp == b->port_udp && a->nbind == b->nbind &&
	    mem_eq(a->bind, b->bind, a->nbind * sizeof(*a->bind)) &&
	    a->enabled == b->enabled && str_eq(a->banner, b->banner) &&
	    str_eq(a->busy, b->busy) && str_eq(a->quit, b->quit) &&
	    a->idle_timeout == b->idle_timeout && a->backlog == b->backlog &&
	    a->max_line == b->max_line && a->max_queue == b->max_queue &&
	    a->line_timeout == b->line_timeout &&
	    a->max_connections == b->max_connections &&
	    a->per_source == b->per_source &&
	    a->ipv6_prefix == b->ipv6_prefix && a->rate == b->rate &&
	    a->burst == b->burst && a->max_reply == b->max_reply &&
	    a->max_reply_growth == b->max_reply_growth &&
	    a->drop_low_ports == b->drop_low_ports &&
	    a->keepalive == b->keepalive && a->rcvbuf == b->rcvbuf &&
	    a->sndbuf == b->sndbuf && a->v6only == b->v6only &&
	    acl_equal(&a->acl, &b->acl) && opts_equal(a->opts, b->opts);
}

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

/* Fills the default binds and the ports; returns -1 on error. */
static int
svc_finish(struct ctx *x, struct svc_conf *sc, int port_line)
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
		if (port_line == 0 &&
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
 * a wildcard address overlaps every address of its family. */
static void
check_conflicts(struct ctx *x, struct config *c)
{
	struct svc_conf *a, *b;
	size_t i, j, k, l;
	unsigned int p;
	int pa, pb;

	for (i = 0; i < c->nsvc; i++)
		for (j = i + 1; j < c->nsvc; j++) {
			a = &c->svc[i];
			b = &c->svc[j];
			if (!a->enabled || !b->enabled)
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
}

static void
load_daemon(struct ctx *x, struct config *c, config_setting_t *g)
{
	config_setting_t *s;
	const char *name, *v;
	long long n;
	int i, lvl;

	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		ERR(x, g, "daemon: expected a group { ... }");
		return;
	}
	for (i = 0; i < config_setting_length(g); i++) {
		s = config_setting_get_elem(g, i);
		name = config_setting_name(s);
		if (strcmp(name, "log") == 0) {
			if ((v = get_str(x, s)) == NULL)
				continue;
			if (strcmp(v, "stderr") == 0)
				c->log_stderr = 1;
			else if (strcmp(v, "syslog") == 0)
				c->log_stderr = 0;
			else
				ERR(x, s, "log \"%s\": expected \"syslog\" or "
				    "\"stderr\"", v);
		} else if (strcmp(name, "log_level") == 0) {
			if ((v = get_str(x, s)) == NULL)
				continue;
			if ((lvl = log_level_parse(v)) == -1)
				ERR(x, s, "log_level \"%s\": expected error, "
				    "warning, notice, info or debug", v);
			else
				c->log_level = lvl;
		} else if (strcmp(name, "handler_dir") == 0) {
			if ((v = get_str(x, s)) != NULL)
				set_str(&c->handler_dir, v);
		} else if (strcmp(name, "user") == 0) {
			if ((v = get_str(x, s)) != NULL)
				set_str(&c->user, v);
		} else if (strcmp(name, "group") == 0) {
			if ((v = get_str(x, s)) != NULL)
				set_str(&c->group, v);
		} else if (strcmp(name, "workers") == 0) {
			if (config_setting_type(s) == CONFIG_TYPE_STRING) {
				if (strcmp(config_setting_get_string(s),
				    "auto") == 0)
					c->workers = 0;
				else
					ERR(x, s, "workers: expected a number "
					    "or \"auto\"");
			} else if (get_int(x, s, 1, 256, &n) == 0)
				c->workers = (int)n;
		} else if (strcmp(name, "drain_timeout") == 0) {
			if (get_int(x, s, 0, 3600, &n) == 0)
				c->drain_timeout = n;
		} else if (strcmp(name, "max_connections") == 0) {
			if (get_int(x, s, 1, 10000000, &n) == 0)
				c->max_connections = n;
		} else
			ERR(x, s, "unknown setting \"%s\" in daemon", name);
	}
}

static void
load_services(struct ctx *x, struct config *c, config_setting_t *list,
    const struct svc_conf *tmpl)
{
	config_setting_t *g, *s;
	struct svc_conf *sc;
	size_t k;
	int i, j, n, nerr, port_line;

	if (config_setting_type(list) != CONFIG_TYPE_LIST &&
	    config_setting_type(list) != CONFIG_TYPE_ARRAY) {
		ERR(x, list, "services: expected a list ( { ... }, ... )");
		return;
	}
	n = config_setting_length(list);
	c->svc = xcalloc(n > 0 ? n : 1, sizeof(*c->svc));
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
		port_line = 0;
		for (j = 0; j < config_setting_length(g); j++) {
			s = config_setting_get_elem(g, j);
			svc_apply(x, sc, s, 0, &port_line);
		}
		if (sc->name == NULL) {
			if ((int)x->errs->n == nerr)
				ERR(x, g, "service without a \"name\"");
			svc_conf_clear(sc);
			continue;
		}
		for (k = 0; k < c->nsvc; k++)
			if (strcmp(c->svc[k].name, sc->name) == 0)
				break;
		if (k < c->nsvc) {
			ERR(x, g, "service \"%s\" is already defined at line %d",
			    sc->name, c->svc[k].line);
			svc_conf_clear(sc);
			continue;
		}
		if (svc_finish(x, sc, port_line) == -1 ||
		    (int)x->errs->n != nerr) {
			svc_conf_clear(sc);
			continue;
		}
		c->nsvc++;
	}
	check_conflicts(x, c);
}

/*
 * Checks file (opened by the @include at from:fromline, or the main file
 * when from is NULL) and, recursively, what it includes, before libconfig
 * reads any of it: libconfig's scanner gives no line for an include it
 * cannot open, and its string scanning is quadratic, so a huge value would
 * stall a reload.  Paths resolve as libconfig 1.5 resolves them: every
 * @include, at any depth, is relative to the main file's directory.
 * The main file's text goes to *textp (to free), so that it is read once.
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
		if ((text = realloc(text, cap + 1)) == NULL)
			abort();
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
		errlist_add(x->errs, file, 0, "the configuration and its "
		    "includes pass the limit of %d KiB together",
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
			if (asprintf(&full, "%s/%s", dir, path) == -1)
				abort();
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

struct config *
config_load(const char *file, int port_offset, struct errlist *errs)
{
	struct ctx x = { file, errs, port_offset };
	struct svc_conf tmpl;
	struct config *c;
	config_t cfg;
	config_setting_t *root, *s, *services = NULL, *defaults = NULL;
	char *dir, *text = NULL;
	const char *idir;
	int i, j, dummy, ok;
	size_t total = 0;

	/* dirname() may return its argument cut short, or a static "." */
	dir = xstrdup(file);
	idir = dirname(dir);
	if (includes_check(&x, idir, file, NULL, 0, 0, &total, &text) == -1) {
		free(text);
		free(dir);
		return NULL;
	}
	config_init(&cfg);
	config_set_include_dir(&cfg, idir);
	ok = config_read_string(&cfg, text);
	free(text);
	free(dir);
	if (!ok) {
		errlist_add(errs, config_error_file(&cfg) != NULL ?
		    config_error_file(&cfg) : file, config_error_line(&cfg),
		    "%s", config_error_text(&cfg));
		config_destroy(&cfg);
		return NULL;
	}
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
			for (j = 0; j < config_setting_length(defaults); j++)
				svc_apply(&x, &tmpl,
				    config_setting_get_elem(defaults, j), 1,
				    &dummy);
	}
	if (services == NULL)
		errlist_add(errs, file, 0, "no \"services\" list");
	else
		load_services(&x, c, services, &tmpl);
	svc_conf_clear(&tmpl);
	config_destroy(&cfg);
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
	free(c->user);
	free(c->group);
	free(c);
}
