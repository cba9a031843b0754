#ifndef SOCKD_SPAWNER_H
#define SOCKD_SPAWNER_H

#include <sys/types.h>

struct sockaddr;

/*
 * Forks the spawner with nw channels (SOCK_SEQPACKET socketpairs), one per
 * worker loop: fds[i] is the daemon's end of channel i (non-blocking,
 * close-on-exec); with bindfd, one more for spawner_bind() in *bindfd.
 * Call it before any other thread exists and before privileges are
 * dropped.  Returns the spawner's pid, or -1 (logged).
 */
pid_t	spawner_start(int nw, int *fds, int *bindfd);
/*
 * Has the spawner create a TCP (tcp) or UDP socket owned by uid 0, set
 * SO_REUSEADDR (TCP), SO_REUSEPORT (reuseport) and IPV6_V6ONLY (v6only,
 * AF_INET6), and bind it to sa; waits up to timeout_ms for it on the
 * channel chan (spawner_start()'s bindfd).  Returns the bound socket
 * (non-blocking, close-on-exec; the caller listens and owns it), or -1
 * with errno: the bind's own error, ETIMEDOUT when no answer came, EPIPE
 * or ECONNRESET when the spawner is gone.
 */
int	spawner_bind(int chan, int tcp, const struct sockaddr *sa,
	    int reuseport, int v6only, int timeout_ms);
/* 1 when this process may start children as other users (root, or
 * CAP_SETUID and CAP_SETGID in its effective set). */
int	spawner_can_switch(void);
/* 1 when the spawner can bind sockets owned by uid 0: root, or
 * CAP_SETUID with setfsuid() allowed. */
int	spawner_can_bind(void);
/* After spawner_start(), for a daemon holding capabilities rather than
 * root: drops CAP_SETUID, CAP_SETGID and CAP_KILL from every set of this
 * process, which only the spawner needs, and CAP_NET_BIND_SERVICE too
 * when binds (the spawner binds every socket); 0, or -1 (logged). */
int	spawner_drop_caps(int binds);

#endif
