#ifndef SOCKD_SPAWNMSG_H
#define SOCKD_SPAWNMSG_H

#include <stddef.h>
#include <stdint.h>

/*
 * The messages between a worker and the spawner (spawner.c), one per
 * SOCK_SEQPACKET record.  A spawn request is a fixed header, the
 * supplementary groups, then NUL-terminated strings: the directory, the
 * arguments, the environment; its descriptors travel beside it
 * (SCM_RIGHTS).  Replies and kill requests are one fixed struct.
 */
#define SPAWN_MSG_MAX	65536		/* one request, bytes */
#define SPAWN_MAX_ARGS	256
#define SPAWN_MAX_ENV	256
#define SPAWN_MAX_GROUPS 256
#define SPAWN_MAX_RLIM	8

enum spawn_type {
	SP_SPAWN = 1,		/* worker to spawner: start a child */
	SP_KILL,		/* worker to spawner: signal a child */
	SP_STARTED,		/* spawner to worker: pid, or err */
	SP_EXITED,		/* spawner to worker: status, duration */
};

/* Where the child's fd 2 goes. */
enum spawn_stderr {
	SPAWN_ERR_FD = 0,	/* the second descriptor sent (a pipe) */
	SPAWN_ERR_SOCKET,	/* the socket, as fd 0 and 1 */
	SPAWN_ERR_NULL,		/* /dev/null */
};

#define SPAWN_SETUSER	0x1	/* change to uid, gid, groups */
#define SPAWN_NICE	0x2

struct spawn_rlimit {
	int32_t		 resource;	/* RLIMIT_* */
	uint32_t	 pad;
	uint64_t	 value;		/* soft and hard */
};

/* A request to start a child, decoded: its pointers point into the
 * message. */
struct spawn_spec {
	uint64_t	 id;
	uint32_t	 flags;		/* SPAWN_SETUSER, SPAWN_NICE */
	uint32_t	 uid;
	uint32_t	 gid;
	int32_t		 nice;
	uint32_t	 umask;
	uint32_t	 err;		/* enum spawn_stderr */
	uint32_t	 nrlim;
	struct spawn_rlimit rlim[SPAWN_MAX_RLIM];
	uint32_t	 ngroups;
	uint32_t	 groups[SPAWN_MAX_GROUPS];
	const char	*dir;
	uint32_t	 argc;
	const char	*argv[SPAWN_MAX_ARGS + 1];	/* NULL-terminated */
	uint32_t	 nenv;
	const char	*env[SPAWN_MAX_ENV + 1];	/* NULL-terminated */
};

/* A kill request or a reply. */
struct spawn_note {
	uint32_t	 type;		/* SP_KILL, SP_STARTED, SP_EXITED */
	int32_t		 value;		/* signal, pid, or wait status */
	int32_t		 err;		/* SP_STARTED: errno, 0 started */
	uint32_t	 pad;
	uint64_t	 id;
	uint64_t	 ms;		/* SP_EXITED: how long it ran */
};

/* Encodes spec into buf (of len bytes); returns the bytes used, or 0 when
 * it does not fit or a count is over its maximum. */
size_t	spawnmsg_encode(const struct spawn_spec *, void *buf, size_t len);
/* Decodes a request of len bytes at buf into spec; -1 when malformed.
 * spec's strings point into buf, which must outlive it. */
int	spawnmsg_decode(struct spawn_spec *, const void *buf, size_t len);

#endif
