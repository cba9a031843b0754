/* Helpers for the tests of the importers (inetd.conf, xinetd). */
#ifndef SOCKD_TEST_IMPORT_UTIL_H
#define SOCKD_TEST_IMPORT_UTIL_H

#include <stdlib.h>
#include <string.h>

#include "errlist.h"
#include "importer.h"
#include "util.h"

/* The entry named name in l; fails the test when there is none. */
static inline struct imp_entry *
imp_find(struct imp_list *l, const char *name)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->e[i].name, name) == 0)
			return &l->e[i];
	fail_msg("no entry \"%s\"", name);
	return NULL;
}

/* 1 when some string of sv contains needle. */
static inline int
strv_has(const struct strv *sv, const char *needle)
{
	size_t i;

	for (i = 0; i < sv->n; i++)
		if (strstr(sv->v[i], needle) != NULL)
			return 1;
	return 0;
}

/* For a parser that returned rc with errs: fails the test unless rc is -1
 * exactly when there are errors; the first error (to free), or "" when
 * none, and errs freed. */
static inline char *
imp_first_error(int rc, struct errlist *errs)
{
	char *s;

	assert_int_equal(rc, errs->n > 0 ? -1 : 0);
	s = strdup(errs->n > 0 ? errs->msg[0] : "");
	errlist_free(errs);
	return s;
}

#endif
