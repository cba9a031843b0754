#ifndef SOCKD_PRECHECK_H
#define SOCKD_PRECHECK_H

struct supervisor;

/*
 * Runs "sockd -t" on the configuration in a child process and calls done
 * with 0 when it passed, or -1 after logging what it printed or how it
 * died.  Returns -1 (and does not call done) when no child could start.
 */
int	precheck_start(struct supervisor *,
	    void (*done)(struct supervisor *, int ok, const char *why));

#endif
