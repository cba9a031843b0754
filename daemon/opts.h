#ifndef SOCKD_OPTS_H
#define SOCKD_OPTS_H

#include <stddef.h>

#include "errlist.h"

enum opt_type { OPT_STRING, OPT_INT, OPT_BOOL, OPT_FLOAT, OPT_OTHER };

struct opt {
	char		*key;
	enum opt_type	 type;
	char		*s;
	long long	 i;
	int		 line;
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
};

/* An empty set of options, of the group at file:line; to opts_free(). */
struct opts	*opts_new(const char *file, int line);
/* Appends option key at line, with its value: a copy of s for OPT_STRING,
 * i for OPT_INT and OPT_BOOL, nothing for the others. */
void		 opts_add(struct opts *, const char *key, int line,
		    enum opt_type, const char *s, long long i);
void		 opts_free(struct opts *);
int		 opts_equal(const struct opts *, const struct opts *);
/* Reports every option not in names (NULL-terminated; NULL: none). */
void		 opts_check_names(const struct opts *, const char *const *,
		    const char *svc, struct errlist *);

#endif
