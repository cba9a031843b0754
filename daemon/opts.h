#ifndef SOCKD_OPTS_H
#define SOCKD_OPTS_H

#include <libconfig.h>

#include "config.h"

enum opt_type { OPT_STRING, OPT_INT, OPT_BOOL, OPT_FLOAT, OPT_OTHER };

struct opt {
	char		*key;
	enum opt_type	 type;
	char		*s;
	long long	 i;
	int		 line;
};

/* A service's "options" group, copied out of libconfig.  Getters that find
 * the wrong type record it here, and the caller reports it after the
 * handler's configure(). */
struct opts {
	char		*file;
	int		 line;
	struct opt	*v;
	size_t		 n;
	char		 bad[160];
	int		 badline;
};

struct opts	*opts_new(const char *file, int line);
/* Copies every setting of group g (NULL: none); errors go to errs. */
struct opts	*opts_from_setting(config_setting_t *, const char *file,
		    struct errlist *);
void		 opts_free(struct opts *);
int		 opts_equal(const struct opts *, const struct opts *);
/* Reports every option not in names (NULL-terminated; NULL: none). */
void		 opts_check_names(const struct opts *, const char *const *,
		    const char *svc, struct errlist *);

#endif
