/*
 * Handler options: the "options" group of a service, a plain list of
 * keys and typed values.  config copies the group out of libconfig into
 * it (opts_add), so that it outlives config_destroy() and so that neither
 * handlers nor this file ever see libconfig types.  The sockd_opt_*
 * getters are the ABI side.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sockd/handler.h>

#include "opts.h"
#include "util.h"

struct opts *
opts_new(const char *file, int line)
{
	struct opts *o = xcalloc(1, sizeof(*o));

	o->file = xstrdup(file != NULL ? file : "?");
	o->line = line;
	return o;
}

void
opts_add(struct opts *o, const char *key, int line, enum opt_type type,
    const char *s, long long i)
{
	struct opt *op;

	/* Doubling: a group may hold many thousands of options. */
	if (o->n == o->cap) {
		o->cap = o->cap == 0 ? 8 : 2 * o->cap;
		o->v = xreallocarray(o->v, o->cap, sizeof(*o->v));
	}
	op = &o->v[o->n++];
	memset(op, 0, sizeof(*op));
	op->key = xstrdup(key);
	op->type = type;
	op->line = line;
	if (type == OPT_STRING)
		op->s = xstrdup(s);
	else if (type == OPT_INT || type == OPT_BOOL)
		op->i = i;
}

void
opts_add_string(struct opts *o, const char *s)
{
	struct opt *op = &o->v[o->n - 1];

	op->v = xreallocarray(op->v, op->nv + 1, sizeof(*op->v));
	op->v[op->nv++] = xstrdup(s);
}

void
opts_free(struct opts *o)
{
	size_t i, j;

	if (o == NULL)
		return;
	for (i = 0; i < o->n; i++) {
		free(o->v[i].key);
		free(o->v[i].s);
		for (j = 0; j < o->v[i].nv; j++)
			free(o->v[i].v[j]);
		free(o->v[i].v);
	}
	free(o->v);
	free(o->file);
	free(o);
}

int
opts_equal(const struct opts *a, const struct opts *b)
{
	size_t i, j;

	if (a->n != b->n)
		return 0;
	for (i = 0; i < a->n; i++) {
		if (strcmp(a->v[i].key, b->v[i].key) != 0 ||
		    a->v[i].type != b->v[i].type || a->v[i].i != b->v[i].i ||
		    a->v[i].nv != b->v[i].nv)
			return 0;
		for (j = 0; j < a->v[i].nv; j++)
			if (strcmp(a->v[i].v[j], b->v[i].v[j]) != 0)
				return 0;
		if ((a->v[i].s == NULL) != (b->v[i].s == NULL) ||
		    (a->v[i].s != NULL && strcmp(a->v[i].s, b->v[i].s) != 0))
			return 0;
	}
	return 1;
}

void
opts_check_names(const struct opts *o, const char *const *names,
    const char *svc, struct errlist *errs)
{
	const char *const *p;
	size_t i;

	for (i = 0; i < o->n; i++) {
		for (p = names; p != NULL && *p != NULL; p++)
			if (strcmp(*p, o->v[i].key) == 0)
				break;
		if (p == NULL || *p == NULL)
			errlist_add(errs, o->file, o->v[i].line, "service \"%s\": "
			    "unknown option \"%s\"", svc, o->v[i].key);
	}
}

const struct opt *
opts_lookup(const struct opts *o, const char *key)
{
	size_t i;

	for (i = 0; o != NULL && i < o->n; i++)
		if (strcmp(o->v[i].key, key) == 0)
			return &o->v[i];
	return NULL;
}

int
opts_error(struct opts *o, int line, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	if (o->errs == NULL)
		return 0;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	errlist_add(o->errs, o->file, line, "service \"%s\": %s",
	    o->svc != NULL ? o->svc : "?", msg);
	return 1;
}

static const struct opt *
opts_find(const struct sockd_opts *so, const char *key, enum opt_type want,
    const char *what)
{
	struct opts *o = (struct opts *)so;
	size_t i;

	if (o == NULL)
		return NULL;
	for (i = 0; i < o->n; i++) {
		if (strcmp(o->v[i].key, key) != 0)
			continue;
		if (o->v[i].type == want)
			return &o->v[i];
		if (o->badline == 0) {
			snprintf(o->bad, sizeof(o->bad),
			    "option \"%s\": expected %s", key, what);
			o->badline = o->v[i].line;
		}
		return NULL;
	}
	return NULL;
}

const char *
sockd_opt_string(const struct sockd_opts *so, const char *key,
    const char *def)
{
	const struct opt *op = opts_find(so, key, OPT_STRING, "a string");

	return op != NULL ? op->s : def;
}

long long
sockd_opt_int(const struct sockd_opts *so, const char *key, long long def)
{
	const struct opt *op = opts_find(so, key, OPT_INT, "an integer");

	return op != NULL ? op->i : def;
}

int
sockd_opt_bool(const struct sockd_opts *so, const char *key, int def)
{
	const struct opt *op = opts_find(so, key, OPT_BOOL,
	    "true or false");

	return op != NULL ? (int)op->i : def;
}
