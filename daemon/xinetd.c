/*
 * xinetd: xinetd.conf and xinetd.d files into import entries.  Reading is
 * two passes, as xinetd's own: first every block of every file (the
 * includedir directories read where they are named, their files in
 * C-locale order, names with a dot or a tilde skipped as xinetd skips
 * them), each attribute kept as written with its operator and line; then
 * each service is settled, the defaults block's attributes first and its
 * own after, "=" replacing, "+=" adding and "-=" removing values, and
 * mapped to sockd's settings.  An attribute sockd has no equivalent for
 * becomes a comment on the entry naming it; an approximation (cps, the
 * log_on_ flags) says what it became.  Errors name the file and line of
 * the attribute, or of the service for what it lacks.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>

#include <sockd/handler.h>

#include "errlist.h"
#include "importer.h"
#include "util.h"

#define XINETD_DEPTH	4	/* how deep includedir may nest */
#define XINETD_FILES	1024	/* how many files one includedir may hold */
#define XINETD_ATTRS	256	/* attribute lines in a block (xinetd has 60) */

enum { OP_SET, OP_ADD, OP_DEL };

struct xattr {
	char		*name;
	int		 op;
	struct strv	 vals;
	char		*file;
	int		 line;
};

struct xblock {
	char		*name;		/* NULL: the defaults block */
	char		*file;
	int		 line;
	struct xattr	*a;
	size_t		 n;
};

struct xparse {
	struct imp_list	*l;
	struct errlist	*errs;
	int		 flags;
	int		 failed;
	struct xblock	*b;		/* every block, in order */
	size_t		 nb;
	size_t		 files;		/* read so far */
};

/* A settled attribute: its values and where they were last set. */
struct xval {
	const char	*name;
	struct strv	 vals;
	const char	*file;
	int		 line;
	int		 used;
};

static int	file_parse(struct xparse *, const char *, const char *, int);

static void
block_free(struct xblock *b)
{
	size_t i;

	for (i = 0; i < b->n; i++) {
		free(b->a[i].name);
		strv_clear(&b->a[i].vals);
		free(b->a[i].file);
	}
	free(b->a);
	free(b->name);
	free(b->file);
}

static int
entry_name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads the files of dir, named at from:line. */
static void
includedir_read(struct xparse *x, const char *dir, const char *from,
    int line, int depth)
{
	struct dirent *de;
	struct stat st;
	char **names = NULL, *path, *text;
	size_t n = 0, i;
	DIR *d;

	if (x->flags & XINETD_NO_FILES)
		return;
	if (depth >= XINETD_DEPTH) {
		errlist_add(x->errs, from, line, "includedir \"%s\": includes "
		    "nest deeper than %d", dir, XINETD_DEPTH);
		x->failed = 1;
		return;
	}
	if ((d = opendir(dir)) == NULL) {
		errlist_add(x->errs, from, line, "includedir \"%s\": %s", dir,
		    strerror(errno));
		x->failed = 1;
		return;
	}
	while ((de = readdir(d)) != NULL) {
		/* xinetd skips these: editors' and packagers' leftovers. */
		if (strchr(de->d_name, '.') != NULL ||
		    strchr(de->d_name, '~') != NULL)
			continue;
		if (n == XINETD_FILES) {
			errlist_add(x->errs, from, line, "includedir \"%s\": "
			    "more than %d files", dir, XINETD_FILES);
			x->failed = 1;
			break;
		}
		names = xreallocarray(names, n + 1, sizeof(*names));
		names[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof(*names), entry_name_cmp);
	for (i = 0; i < n; i++) {
		path = xasprintf("%s/%s", dir, names[i]);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
		    (text = import_read(path, from, line, x->errs)) != NULL) {
			(void)file_parse(x, path, text, depth + 1);
			free(text);
		} else if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
			x->failed = 1;
		free(path);
		free(names[i]);
	}
	free(names);
}

/* Words of s, split at spaces and tabs, into sv. */
static void
words_add(struct strv *sv, const char *s)
{
	size_t n;
	char *w;

	for (;;) {
		s += strspn(s, " \t\r");
		if (*s == '\0')
			return;
		n = strcspn(s, " \t\r");
		w = xasprintf("%.*s", (int)n, s);
		strv_add(sv, w);
		free(w);
		s += n;
	}
}

#define XERR(x, file, line, ...) do { \
	errlist_add((x)->errs, file, line, __VA_ARGS__); \
	(x)->failed = 1; \
} while (0)

/* Reads one attribute line p of block b; -1 on error. */
static int
attr_parse(struct xparse *x, struct xblock *b, const char *file, int line,
    const char *p)
{
	struct xattr *a;
	size_t n = strspn(p, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
	const char *q = p + n;
	int op;

	if (n == 0) {
		XERR(x, file, line, "\"%.40s\": expected an attribute name",
		    p);
		return -1;
	}
	/* Settling is quadratic in them. */
	if (b->n == XINETD_ATTRS) {
		XERR(x, file, line, "more than %d attributes in the block of "
		    "line %d", XINETD_ATTRS, b->line);
		return -1;
	}
	q += strspn(q, " \t\r");
	if (q[0] == '=')
		op = OP_SET, q += 1;
	else if (q[0] == '+' && q[1] == '=')
		op = OP_ADD, q += 2;
	else if (q[0] == '-' && q[1] == '=')
		op = OP_DEL, q += 2;
	else {
		XERR(x, file, line, "%.*s: expected the operator =, += or -= "
		    "after the attribute name", (int)n, p);
		return -1;
	}
	b->a = imp_grow(b->a, b->n, sizeof(*b->a));
	a = &b->a[b->n++];
	memset(a, 0, sizeof(*a));
	a->name = xasprintf("%.*s", (int)n, p);
	a->op = op;
	a->file = xstrdup(file);
	a->line = line;
	words_add(&a->vals, q);
	return 0;
}

static struct xblock *
block_new(struct xparse *x, const char *name, const char *file, int line)
{
	struct xblock *b;

	x->b = imp_grow(x->b, x->nb, sizeof(*x->b));
	b = &x->b[x->nb++];
	memset(b, 0, sizeof(*b));
	b->name = name != NULL ? xstrdup(name) : NULL;
	b->file = xstrdup(file);
	b->line = line;
	return b;
}

/* p with a space either side of each brace, to free. */
static char *
brace_spaced(const char *p)
{
	char *out = xcalloc(3, strlen(p) + 1), *o = out;

	for (; *p != '\0'; p++)
		if (*p == '{') {
			*o++ = ' ';
			*o++ = '{';
			*o++ = ' ';
		} else
			*o++ = *p;
	return out;
}

static int
file_parse(struct xparse *x, const char *file, const char *text, int depth)
{
	const char *s, *q, *p;
	char *buf = NULL, *norm, *w[4], *save = NULL, *tok;
	int line, nw, open = 0, want_brace = 0;
	size_t len, bi = 0;

	for (s = text, line = 1; s != NULL && *s != '\0';
	    s = q != NULL ? q + 1 : NULL, line++) {
		q = strchr(s, '\n');
		len = q != NULL ? (size_t)(q - s) : strlen(s);
		free(buf);
		buf = xasprintf("%.*s", (int)len, s);
		p = buf + strspn(buf, " \t\r");
		if (*p == '#' || *p == '\0')
			continue;
		if (open && !want_brace) {
			if (*p == '}')
				open = 0;
			else
				(void)attr_parse(x, &x->b[bi], file, line, p);
			continue;
		}
		norm = brace_spaced(p);
		for (nw = 0, tok = strtok_r(norm, " \t\r", &save);
		    tok != NULL && nw < 4; tok = strtok_r(NULL, " \t\r", &save))
			w[nw++] = tok;
		if (want_brace) {
			want_brace = 0;
			if (nw == 1 && strcmp(w[0], "{") == 0) {
				free(norm);
				continue;
			}
			XERR(x, file, line, "expected \"{\" to open the block "
			    "of line %d", x->b[bi].line);
			block_free(&x->b[bi]);
			x->nb--;
			open = 0;
		}
		if (x->nb > IMPORT_ENTRIES_MAX) {
			XERR(x, file, line, "more than %d services",
			    IMPORT_ENTRIES_MAX);
			free(norm);
			break;
		}
		if (nw >= 2 && nw <= 3 && strcmp(w[0], "service") == 0 &&
		    (nw == 2 || strcmp(w[2], "{") == 0)) {
			(void)block_new(x, w[1], file, line);
			want_brace = nw == 2;
		} else if (nw <= 2 && strcmp(w[0], "defaults") == 0 &&
		    (nw == 1 || strcmp(w[1], "{") == 0)) {
			(void)block_new(x, NULL, file, line);
			want_brace = nw == 1;
		} else if (nw == 2 && strcmp(w[0], "includedir") == 0) {
			includedir_read(x, w[1], file, line, depth);
			free(norm);
			continue;
		} else {
			XERR(x, file, line, "expected \"service NAME {\", "
			    "\"defaults {\" or \"includedir DIR\"");
			free(norm);
			continue;
		}
		free(norm);
		bi = x->nb - 1;
		open = 1;
	}
	free(buf);
	if (open) {
		struct xblock *b = &x->b[bi];

		XERR(x, b->file, b->line, "%s%s%s: the block has no closing "
		    "\"}\" before the end of the file", b->name != NULL ?
		    "service \"" : "defaults", b->name != NULL ? b->name : "",
		    b->name != NULL ? "\"" : "");
		/* Not settled: half a service is no service. */
		block_free(b);
		x->nb--;
		return -1;
	}
	return 0;
}

/* The settled value of attribute name, or NULL. */
static struct xval *
val_get(struct xval *v, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i].name, name) == 0) {
			v[i].used = 1;
			return &v[i];
		}
	return NULL;
}

static void
val_apply(struct xval **vp, size_t *np, const struct xattr *a)
{
	struct xval *v = NULL;
	size_t i, j;

	for (i = 0; i < *np; i++)
		if (strcmp((*vp)[i].name, a->name) == 0)
			v = &(*vp)[i];
	if (v == NULL) {
		*vp = imp_grow(*vp, *np, sizeof(**vp));
		v = &(*vp)[(*np)++];
		memset(v, 0, sizeof(*v));
		v->name = a->name;
	}
	v->file = a->file;
	v->line = a->line;
	if (a->op == OP_SET)
		strv_clear(&v->vals);
	for (i = 0; i < a->vals.n; i++) {
		if (a->op != OP_DEL) {
			strv_add(&v->vals, a->vals.v[i]);
			continue;
		}
		for (j = 0; j < v->vals.n; j++)
			if (strcmp(v->vals.v[j], a->vals.v[i]) == 0) {
				free(v->vals.v[j]);
				memmove(&v->vals.v[j], &v->vals.v[j + 1],
				    (v->vals.n - j - 1) * sizeof(char *));
				v->vals.n--;
				j--;
			}
	}
}

static int
has_word(const struct strv *sv, const char *w)
{
	size_t i;

	for (i = 0; i < sv->n; i++)
		if (strcasecmp(sv->v[i], w) == 0)
			return 1;
	return 0;
}

/* A number of v (one value) in [min, max], with K, M or G when bytes;
 * -2 for UNLIMITED; -1 after an error. */
static long long
val_num(struct xparse *x, const struct xval *v, long long min,
    long long max, int bytes)
{
	long long n;
	char *end;

	if (v->vals.n != 1) {
		XERR(x, v->file, v->line, "%s: expected one value", v->name);
		return -1;
	}
	if (strcasecmp(v->vals.v[0], "UNLIMITED") == 0)
		return -2;
	errno = 0;
	n = strtoll(v->vals.v[0], &end, 10);
	if (bytes && (*end == 'K' || *end == 'k') && end[1] == '\0')
		n = n > LLONG_MAX >> 10 ? LLONG_MAX : n << 10, end++;
	else if (bytes && (*end == 'M' || *end == 'm') && end[1] == '\0')
		n = n > LLONG_MAX >> 20 ? LLONG_MAX : n << 20, end++;
	else if (bytes && (*end == 'G' || *end == 'g') && end[1] == '\0')
		n = n > LLONG_MAX >> 30 ? LLONG_MAX : n << 30, end++;
	if (!isdigit((unsigned char)v->vals.v[0][0]) || *end != '\0' ||
	    errno != 0 || n < min || n > max) {
		XERR(x, v->file, v->line, "%s \"%s\": expected a number from "
		    "%lld to %lld%s", v->name, v->vals.v[0], min, max,
		    bytes ? " (K, M or G after it: bytes)" : "");
		return -1;
	}
	return n;
}

/* An only_from or no_access value as a CIDR prefix of sockd, or NULL
 * (a host name, a range of xinetd's own). */
static char *
cidr_of(const char *s)
{
	unsigned char a[16];
	char *slash, *end, buf[64];
	long bits;
	int i, zeros;

	if (strlen(s) >= sizeof(buf))
		return NULL;
	snprintf(buf, sizeof(buf), "%s", s);
	if ((slash = strchr(buf, '/')) != NULL) {
		*slash = '\0';
		bits = strtol(slash + 1, &end, 10);
		if (!isdigit((unsigned char)slash[1]) || *end != '\0')
			return NULL;
		if (inet_pton(AF_INET, buf, a) == 1 && bits >= 0 && bits <= 32)
			return xstrdup(s);
		if (inet_pton(AF_INET6, buf, a) == 1 && bits >= 0 &&
		    bits <= 128)
			return xstrdup(s);
		return NULL;
	}
	if (inet_pton(AF_INET6, buf, a) == 1)
		return xstrdup(s);
	if (inet_pton(AF_INET, buf, a) != 1)
		return NULL;
	/* xinetd: trailing zero bytes are wildcards, 0.0.0.0 is anyone. */
	for (zeros = 0, i = 3; i >= 0 && a[i] == 0; i--)
		zeros++;
	return xasprintf("%s/%d", s, 32 - 8 * zeros);
}

static void
acl_map(struct imp_entry *e, const struct xval *v, struct strv *out)
{
	size_t i;
	char *c;

	if (v->vals.n == 0 && out == &e->allow) {
		/* "only_from =" with nothing: nobody. */
		strv_add(&e->deny, "0.0.0.0/0");
		strv_add(&e->deny, "::/0");
		return;
	}
	for (i = 0; i < v->vals.n; i++) {
		if (strcmp(v->vals.v[i], "localhost") == 0) {
			strv_add(out, "127.0.0.1/32");
			strv_add(out, "::1/128");
			continue;
		}
		if ((c = cidr_of(v->vals.v[i])) == NULL) {
			imp_note(&e->comments, "%s: \"%s\" dropped: sockd "
			    "takes addresses and CIDR prefixes only", v->name,
			    v->vals.v[i]);
			continue;
		}
		strv_add(out, c);
		free(c);
	}
	if (out == &e->allow && out->n == 0) {
		/* Served to everyone, the service would be more open than
		 * it was. */
		strv_add(&e->deny, "0.0.0.0/0");
		strv_add(&e->deny, "::/0");
		imp_note(&e->comments, "%s: nothing left of it, so nobody is "
		    "allowed: set allow by hand", v->name);
	}
}

static const char *const internals[] = {
	"echo", "discard", "daytime", "chargen", "time",
};

/* Attributes that mean nothing to sockd, dropped with a comment. */
static const char *const handled[] = {
	"type", "socket_type", "protocol", "wait", "user", "group", "server",
	"server_args", "port", "bind", "interface", "only_from", "no_access",
	"instances", "per_source", "cps", "disable", "env", "passenv",
	"rlimit_as", "rlimit_cpu", "rlimit_files", "banner", "flags",
	"log_on_success", "log_on_failure", "id", "umask", "nice",
	"disabled", "enabled",
};

static int
str_in(const char *s, const char *const *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(s, list[i]) == 0)
			return 1;
	return 0;
}

/* The scalar value of attribute name, or NULL. */
static const char *
val_str(struct xval *v, size_t n, const char *name)
{
	struct xval *a = val_get(v, n, name);

	return a != NULL && a->vals.n > 0 ? a->vals.v[0] : NULL;
}

/* Settles block b (a service) against the defaults d (or NULL) into an
 * entry of x->l. */
static void
service_settle(struct xparse *x, const struct xblock *b,
    const struct xblock *d)
{
	struct xval *v = NULL, *a;
	struct imp_entry *e;
	const char *st, *proto_s, *s;
	unsigned int proto;
	size_t n = 0, i, j, nerr = x->errs->n;
	long long num;
	int internal, port = 0;
	char *text;

	for (i = 0; d != NULL && i < d->n; i++)
		if (strcmp(d->a[i].name, "disabled") != 0 &&
		    strcmp(d->a[i].name, "enabled") != 0)
			val_apply(&v, &n, &d->a[i]);
	for (i = 0; i < b->n; i++)
		val_apply(&v, &n, &b->a[i]);
	e = imp_entry_add(x->l, b->file, b->line);
	e->name = xstrdup((s = val_str(v, n, "id")) != NULL ? s : b->name);
	a = val_get(v, n, "type");
	internal = a != NULL && has_word(&a->vals, "INTERNAL");
	if (a != NULL && (has_word(&a->vals, "RPC") ||
	    has_word(&a->vals, "TCPMUX") || has_word(&a->vals, "TCPMUXPLUS"))) {
		imp_note(&x->l->comments, "%s:%d: service %s: dropped: an RPC "
		    "or TCPMUX service, which sockd does not serve", b->file,
		    b->line, b->name);
		goto drop;
	}
	if ((st = val_str(v, n, "socket_type")) == NULL) {
		XERR(x, b->file, b->line, "service \"%s\": no socket_type",
		    b->name);
		goto drop;
	}
	if (strcmp(st, "stream") != 0 && strcmp(st, "dgram") != 0) {
		a = val_get(v, n, "socket_type");
		if (strcmp(st, "raw") == 0 || strcmp(st, "seqpacket") == 0) {
			imp_note(&x->l->comments, "%s:%d: service %s: dropped: "
			    "sockd serves no %s sockets", b->file, b->line,
			    b->name, st);
			goto drop;
		}
		XERR(x, a->file, a->line, "socket_type \"%s\": expected "
		    "stream or dgram", st);
		goto drop;
	}
	proto = strcmp(st, "stream") == 0 ? SOCKD_TCP : SOCKD_UDP;
	if ((proto_s = val_str(v, n, "protocol")) != NULL &&
	    strcmp(proto_s, proto == SOCKD_TCP ? "tcp" : "udp") != 0) {
		a = val_get(v, n, "protocol");
		XERR(x, a->file, a->line, "protocol \"%s\" with socket_type "
		    "%s: stream goes with tcp, dgram with udp", proto_s, st);
		goto drop;
	}
	e->protocols = proto;
	if ((a = val_get(v, n, "port")) != NULL) {
		if ((num = val_num(x, a, 1, 65535, 0)) < 0)
			goto drop;
		port = (int)num;
	} else {
		struct servent *se = getservbyname(b->name,
		    proto == SOCKD_TCP ? "tcp" : "udp");

		if (se == NULL) {
			XERR(x, b->file, b->line, "service \"%s\": not a %s "
			    "service in /etc/services; set \"port\"", b->name,
			    proto == SOCKD_TCP ? "tcp" : "udp");
			goto drop;
		}
		port = ntohs((uint16_t)se->s_port);
	}
	e->port = port;
	if ((a = val_get(v, n, "wait")) != NULL) {
		if (a->vals.n == 1 && strcmp(a->vals.v[0], "yes") == 0)
			e->wait = 1;
		else if (a->vals.n == 1 && strcmp(a->vals.v[0], "no") == 0)
			e->wait = 0;
		else {
			XERR(x, a->file, a->line, "wait: expected yes or no");
			goto drop;
		}
	}
	if ((a = val_get(v, n, "disable")) != NULL) {
		if (a->vals.n == 1 && strcmp(a->vals.v[0], "yes") == 0) {
			e->enabled = 0;
			imp_note(&e->comments, "disable = yes");
		} else if (a->vals.n != 1 || strcmp(a->vals.v[0], "no") != 0) {
			XERR(x, a->file, a->line, "disable: expected yes or "
			    "no");
			goto drop;
		}
	}
	for (i = 0; d != NULL && i < d->n; i++)
		if (strcmp(d->a[i].name, "disabled") == 0 &&
		    (has_word(&d->a[i].vals, b->name) ||
		    has_word(&d->a[i].vals, e->name))) {
			e->enabled = 0;
			imp_note(&e->comments, "named by \"disabled\" in "
			    "defaults");
		} else if (strcmp(d->a[i].name, "enabled") == 0 &&
		    !has_word(&d->a[i].vals, b->name) &&
		    !has_word(&d->a[i].vals, e->name)) {
			e->enabled = 0;
			imp_note(&e->comments, "not named by \"enabled\" in "
			    "defaults");
		}
	if (internal) {
		if (!str_in(b->name, internals, nitems(internals))) {
			imp_note(&x->l->comments, "%s:%d: service %s: dropped: "
			    "no built-in service of that name in sockd",
			    b->file, b->line, b->name);
			goto drop;
		}
		e->handler = xstrdup(b->name);
		(void)val_get(v, n, "user");
		(void)val_get(v, n, "group");
		(void)val_get(v, n, "server");
	} else {
		if ((s = val_str(v, n, "server")) == NULL) {
			XERR(x, b->file, b->line, "service \"%s\": no server "
			    "(and not type = INTERNAL)", b->name);
			goto drop;
		}
		if (s[0] != '/') {
			a = val_get(v, n, "server");
			XERR(x, a->file, a->line, "server \"%s\": expected an "
			    "absolute path", s);
			goto drop;
		}
		e->handler = xstrdup("exec");
		strv_add(&e->command, s);
		if ((a = val_get(v, n, "server_args")) != NULL)
			for (i = 0; i < a->vals.n; i++)
				strv_add(&e->command, a->vals.v[i]);
		if ((s = val_str(v, n, "user")) != NULL)
			e->user = xstrdup(s);
		if ((s = val_str(v, n, "group")) != NULL)
			e->group = xstrdup(s);
		if (e->wait == -1) {
			XERR(x, b->file, b->line, "service \"%s\": no wait",
			    b->name);
			goto drop;
		}
		if (proto == SOCKD_UDP && !e->wait) {
			e->enabled = 0;
			imp_note(&e->comments, "disabled: exec serves UDP only "
			    "with wait = true (dgram with wait = no has no "
			    "equivalent)");
		}
	}
	if ((a = val_get(v, n, "bind")) != NULL ||
	    (a = val_get(v, n, "interface")) != NULL) {
		for (i = 0; i < a->vals.n; i++) {
			unsigned char buf[16];

			if (inet_pton(AF_INET, a->vals.v[i], buf) == 1 ||
			    inet_pton(AF_INET6, a->vals.v[i], buf) == 1)
				strv_add(&e->bind, a->vals.v[i]);
			else if (strcmp(a->vals.v[i], "localhost") == 0)
				strv_add(&e->bind, "127.0.0.1");
			else
				/* Dropped, it would bind every address. */
				XERR(x, a->file, a->line, "%s \"%s\": sockd "
				    "binds numeric addresses only; write the "
				    "address", a->name, a->vals.v[i]);
		}
	}
	if ((a = val_get(v, n, "only_from")) != NULL)
		acl_map(e, a, &e->allow);
	if ((a = val_get(v, n, "no_access")) != NULL)
		acl_map(e, a, &e->deny);
	if ((a = val_get(v, n, "instances")) != NULL &&
	    (num = val_num(x, a, 1, 10000000, 0)) > 0)
		e->max_connections = num;
	if ((a = val_get(v, n, "per_source")) != NULL &&
	    (num = val_num(x, a, 0, 10000000, 0)) != -1)
		e->per_source = num == -2 ? 0 : num;
	if ((a = val_get(v, n, "cps")) != NULL && a->vals.n >= 1) {
		char *end;

		num = strtoll(a->vals.v[0], &end, 10);
		if (!isdigit((unsigned char)a->vals.v[0][0]) || *end != '\0' ||
		    num < 1 || num > 10000000 || a->vals.n > 2)
			XERR(x, a->file, a->line, "cps: expected connections "
			    "per second (1 to 10000000), then seconds");
		else {
			e->rate = num;
			imp_note(&e->comments, "cps %lld became rate %lld, an "
			    "approximation: rate counts per client address, "
			    "and a client over it is refused, the service "
			    "not stopped", num, num);
		}
	}
	if ((a = val_get(v, n, "env")) != NULL)
		for (i = 0; i < a->vals.n; i++) {
			s = a->vals.v[i];
			j = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "abcdefghijklmnopqrstuvwxyz0123456789_");
			if (j == 0 || s[j] != '=' || isdigit((unsigned char)*s))
				XERR(x, a->file, a->line, "env \"%s\": "
				    "expected NAME=value", s);
			else
				strv_add(&e->env, s);
		}
	if ((a = val_get(v, n, "passenv")) != NULL)
		for (i = 0; i < a->vals.n; i++)
			strv_add(&e->passenv, a->vals.v[i]);
	if ((a = val_get(v, n, "rlimit_as")) != NULL &&
	    (num = val_num(x, a, 0, LLONG_MAX, 1)) >= 0)
		e->rlimit_as = num;
	if ((a = val_get(v, n, "rlimit_cpu")) != NULL &&
	    (num = val_num(x, a, 0, INT_MAX, 0)) >= 0)
		e->rlimit_cpu = num;
	if ((a = val_get(v, n, "rlimit_files")) != NULL &&
	    (num = val_num(x, a, 0, INT_MAX, 0)) >= 0)
		e->rlimit_nofile = num;
	if ((a = val_get(v, n, "umask")) != NULL && a->vals.n == 1) {
		char *end;

		num = strtoll(a->vals.v[0], &end, 8);
		if (*end != '\0' || num < 0 || num > 0777)
			XERR(x, a->file, a->line, "umask: expected an octal "
			    "number");
		else
			e->umask = num;
	}
	if ((a = val_get(v, n, "nice")) != NULL &&
	    (num = val_num(x, a, 0, 19, 0)) >= 0)
		e->nice = num;
	if ((a = val_get(v, n, "banner")) != NULL && a->vals.n == 1) {
		struct errlist berr = { 0 };

		if (x->flags & XINETD_NO_FILES)
			errlist_add(&berr, a->vals.v[0], 0, "not read");
		if (berr.n == 0 && (text = import_read(a->vals.v[0], NULL, 0,
		    &berr)) != NULL)
			e->banner = text;
		else
			imp_note(&e->comments, "banner \"%s\" dropped: %s",
			    a->vals.v[0], berr.msg[0]);
		errlist_free(&berr);
	}
	if ((a = val_get(v, n, "flags")) != NULL)
		for (i = 0; i < a->vals.n; i++) {
			if (strcasecmp(a->vals.v[i], "KEEPALIVE") == 0)
				e->keepalive = 1;
			else
				imp_note(&e->comments, "flags %s: dropped",
				    a->vals.v[i]);
		}
	a = val_get(v, n, "log_on_success");
	if ((a != NULL && a->vals.n > 0) ||
	    ((a = val_get(v, n, "log_on_failure")) != NULL && a->vals.n > 0)) {
		e->log_connections = 1;
		imp_note(&e->comments, "log_on_success and log_on_failure "
		    "became log_connections, which logs each connection as it "
		    "ends");
	}
	(void)val_get(v, n, "log_on_failure");
	for (i = 0; i < n; i++)
		if (!v[i].used && !str_in(v[i].name, handled,
		    nitems(handled)))
			imp_note(&e->comments, "%s: dropped: sockd has no "
			    "equivalent", v[i].name);
	if (x->errs->n != nerr)
		goto drop;
	goto out;
drop:
	imp_entry_drop(x->l);
out:
	for (i = 0; i < n; i++)
		strv_clear(&v[i].vals);
	free(v);
}

int
xinetd_parse(const char *file, const char *text, int flags,
    struct imp_list *l, struct errlist *errs)
{
	struct xparse x = { .l = l, .errs = errs, .flags = flags };
	const struct xblock *d = NULL;
	size_t i;

	(void)file_parse(&x, file, text, 0);
	for (i = 0; i < x.nb; i++)
		if (x.b[i].name == NULL) {
			if (d != NULL)
				XERR(&x, x.b[i].file, x.b[i].line, "a second "
				    "defaults block (the first at %s:%d)",
				    d->file, d->line);
			else
				d = &x.b[i];
		}
	for (i = 0; i < x.nb; i++)
		if (x.b[i].name != NULL)
			service_settle(&x, &x.b[i], d);
	for (i = 0; i < x.nb; i++)
		block_free(&x.b[i]);
	free(x.b);
	return x.failed ? -1 : 0;
}
