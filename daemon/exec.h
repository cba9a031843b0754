#ifndef SOCKD_EXEC_H
#define SOCKD_EXEC_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "spawnmsg.h"

struct errlist;
struct sockd_handler;
struct svc_conf;

enum exec_stderr { EXEC_ERR_LOG, EXEC_ERR_SOCKET, EXEC_ERR_NULL };

/* The options of an exec service, checked: its handler's port state. */
struct exec_conf {
	char		**argv;		/* NULL-terminated */
	size_t		 argc;
	char		**env;		/* env, then passenv: "NAME=value" */
	size_t		 nenv;
	int		 setuser;	/* user or group given */
	uid_t		 uid;
	gid_t		 gid;
	uint32_t	 groups[SPAWN_MAX_GROUPS];
	size_t		 ngroups;
	int		 wait;
	enum exec_stderr err;
	char		*dir;
	mode_t		 umask;
	int		 has_nice;
	int		 nice;
	long long	 timeout;	/* s, 0: none */
	struct spawn_rlimit rlim[SPAWN_MAX_RLIM];
	size_t		 nrlim;
};

extern const struct sockd_handler sockd_handler_exec;

/* 1 when h is exec: its services start a program per connection. */
int	exec_handler(const struct sockd_handler *);
/* The checks of an exec service that need its settings, not only its
 * options: the protocol and wait. */
void	exec_check_service(const struct exec_conf *, const struct svc_conf *,
	    struct errlist *);
/* Whether sockd may start children as users other than its own, known at
 * start (before privileges are dropped): a service with another user is
 * refused when it cannot.  Unset ("sockd -t"): not checked. */
void	exec_set_can_switch(int);

#endif
