#ifndef SOCKD_PRECHECK_H
#define SOCKD_PRECHECK_H

#include <stddef.h>

struct precheck;

/* Called once a check is over: ok 1 when it passed, else 0 and why. */
typedef void (*precheck_done)(void *arg, int ok, const char *why);

/*
 * Runs "self -t -c file -p port_offset" in a child process and calls
 * done(arg, ...) with ok 1 when it passed, or 0 and why after logging
 * what it printed or how it died.  Returns the check (freed by itself
 * once done has been called), or NULL with the reason in why (done is
 * not called) when no child could start.
 */
struct precheck	*precheck_start(const char *self, const char *file,
		    int port_offset, precheck_done done, void *arg,
		    char *why, size_t whylen);
/* Kills the check's child; done is still called (ok 0) once it is
 * reaped.  Only before done has been called. */
void		 precheck_cancel(struct precheck *);

#endif
