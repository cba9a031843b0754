#ifndef SOCKD_OPTS_H
#define SOCKD_OPTS_H

#include <stddef.h>

#include "errlist.h"

/* OPT_LIST is a list of strings, OPT_GROUP a group of strings, kept as
 * "NAME=value": both for the daemon's own handlers only (exec), a
 * plugin's getters see them as the wrong type. */
enum opt_type { OPT_STRING, OPT_INT, OPT_BOOL, OPT_FLOAT, OPT_OTHER,
	OPT_LIST, OPT_GROUP };

struct opt {
	char		*key;
	enum opt_type	 type;
	char		*s;
	long long	 i;
	int		 line;
	char		**v;		/* OPT_LIST, OPT_GROUP */
	size_t		 nv;
};

/* A service's "options" group, as config read it.  Getters that find
 * the wrong type record it here, and the caller reports it after the
 * handler's configure(). */
struct opts {
	char		*file;
	int		 line;
	struct opt	*v;
	size_t		 n;
	size_t		 cap;		/* of v */
	char		 bad[160];
	int		 badline;
	/* While a built-in handler's configure() runs: where it reports
	 * each error with its own line (opts_error()). */
	struct errlist	*errs;
	const char	*svc;
};

/* An empty set of options, of the group at file:line; to opts_free(). */
struct opts	*opts_new(const char *file, int line);
/* Appends option key at line, with its value: a copy of s for OPT_STRING,
 * i for OPT_INT and OPT_BOOL, nothing for the others. */
void		 opts_add(struct opts *, const char *key, int line,
		    enum opt_type, const char *s, long long i);
/* Appends to the last option added, an OPT_LIST or OPT_GROUP, one more
 * string (a copy of s). */
void		 opts_add_string(struct opts *, const char *s);
void		 opts_free(struct opts *);
/* The option key, whatever its type; NULL when it is not set. */
const struct opt *opts_lookup(const struct opts *, const char *key);
/* "FILE:LINE: service "NAME": message" into the errlist of a built-in
 * handler's configure() (see errs); 0 when it has none. */
int		 opts_error(struct opts *, int line, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
int		 opts_equal(const struct opts *, const struct opts *);
/* Reports every option not in names (NULL-terminated; NULL: none). */
void		 opts_check_names(const struct opts *, const char *const *,
		    const char *svc, struct errlist *);

#endif
