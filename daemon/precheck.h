#ifndef SOCKD_PRECHECK_H
#define SOCKD_PRECHECK_H

#include <stddef.h>

struct precheck;
struct supervisor;

/*
 * Runs "sockd -t" on the configuration in a child process and calls done
 * with ok 1 when it passed, or 0 and why after logging what it printed or
 * how it died.  Returns the check (freed by itself once done has been
 * called), or NULL with the reason in why (done is not called) when no
 * child could start.
 */
struct precheck	*precheck_start(struct supervisor *,
		    void (*done)(struct supervisor *, int ok, const char *why),
		    char *why, size_t whylen);
/* Kills the check's child; done is still called (ok 0) once it is
 * reaped.  Only before done has been called. */
void		 precheck_cancel(struct precheck *);

#endif
