#ifndef SOCKD_REGISTRY_H
#define SOCKD_REGISTRY_H

#include <sys/types.h>

#include <stddef.h>

struct sockd_handler;
typedef void (*registry_reconfigure_fn)(void *, void *);

extern const struct sockd_handler *const builtin_handlers[];

/*
 * Finds handler name: the built-in table, then handler_dir/name.so.
 * Returns NULL and writes why (naming the file) into err when the handler
 * is missing or refused.  Loaded plugins stay loaded: when the file of
 * one changed since, the lookup logs a warning and returns the old code.
 */
const struct sockd_handler *registry_find(const char *name,
	    const char *handler_dir, char *err, size_t errlen);
/* For a reload: logs a warning for each loaded plugin whose file changed
 * on disk (or went) since it was loaded, as only a restart loads the new
 * code; lookups until the next call do not repeat it. */
void		 registry_check_files(void);
/* The user sockd serves as, whose plugin files and directories are
 * trusted besides root's (default: the effective uid). */
void		 registry_set_user(uid_t);
/* h's reconfigure(), or NULL when it has none: handlers built for minor 0
 * have a shorter struct without it, and only SOCKD_ONE_LOOP handlers get
 * it called. */
registry_reconfigure_fn registry_reconfigure(const struct sockd_handler *);
/* The reasons a handler struct is refused, or NULL when it is usable. */
const char *registry_check(const struct sockd_handler *, const char *name,
	    char *buf, size_t len);

#endif
