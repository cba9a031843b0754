#ifndef SOCKD_CONTROL_H
#define SOCKD_CONTROL_H

#include <sys/types.h>

#include <stddef.h>

#include <uv.h>

/* The pid file when -P is not given; used only when its directory
 * exists (RuntimeDirectory=sockd in the unit). */
#define CONTROL_PID_FILE	"/run/sockd/sockd.pid"
/* How long "sockd -r" waits for the daemon's verdict. */
#define CONTROL_WAIT_MS		60000

struct control;

/* The control socket next to pid file pidfile: "x.pid" gives "x.sock",
 * any other name gets ".sock" appended.  Into buf; -1 when too long. */
int		 control_path(const char *pidfile, char *buf, size_t len);
/*
 * Writes pidfile, then listens on its control socket on loop: mode 0600,
 * both owned by uid and gid; only clients of that uid or root are
 * served.  A client's "reload" calls reload(arg); it is answered by
 * control_reload_done() of the reload that starts after it.  NULL with
 * the reason in err when another daemon answers on the socket or it
 * cannot be made.
 */
struct control	*control_open(uv_loop_t *, const char *pidfile, uid_t,
		    gid_t, void (*reload)(void *), void *arg, char *err,
		    size_t errlen);
/* A reload starts: the requests made so far are answered by its
 * verdict. */
void		 control_reload_started(struct control *);
/* The verdict of that reload: "ok: msg" or "failed: msg" to each of its
 * requests, which are then closed. */
void		 control_reload_done(struct control *, int ok, const char *msg);
/* Answers waiting requests "failed: sockd is stopping", closes the
 * socket and its clients, removes the socket and the pid file; the
 * memory goes with the last close callback.  NULL: nothing. */
void		 control_close(struct control *);
/*
 * "sockd -r": sends cmd to the daemon of pidfile and prints its answer;
 * returns the exit status: 0 ok, 1 failed (or no verdict within
 * CONTROL_WAIT_MS), 2 no daemon reachable.
 */
int		 control_request(const char *pidfile, const char *cmd);

#endif
