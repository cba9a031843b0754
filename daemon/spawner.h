#ifndef SOCKD_SPAWNER_H
#define SOCKD_SPAWNER_H

#include <sys/types.h>

/*
 * Forks the spawner with n channels (SOCK_SEQPACKET socketpairs), one per
 * worker loop: fds[i] is the daemon's end of channel i (non-blocking,
 * close-on-exec).  Call it before any other thread exists and before
 * privileges are dropped.  Returns the spawner's pid, or -1 (logged).
 */
pid_t	spawner_start(int n, int *fds);
/* 1 when this process may start children as other users (root, or
 * CAP_SETUID and CAP_SETGID in its effective set). */
int	spawner_can_switch(void);
/* After spawner_start(), for a daemon holding capabilities rather than
 * root: drops CAP_SETUID, CAP_SETGID and CAP_KILL from every set of this
 * process, which only the spawner needs; 0, or -1 (logged). */
int	spawner_drop_caps(void);

#endif
