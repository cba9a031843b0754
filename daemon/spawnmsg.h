#ifndef SOCKD_SPAWNMSG_H
#define SOCKD_SPAWNMSG_H

#include <netinet/in.h>
#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

/*
 * The messages between a worker and the spawner (spawner.c), one per
 * SOCK_SEQPACKET record.  A spawn request is a fixed header, the
 * supplementary groups, then NUL-terminated strings: the directory, the
 * arguments, the environment; its descriptors travel beside it
 * (SCM_RIGHTS).  Replies and kill requests are one fixed struct.  A bind
 * request (the supervisor to the spawner, on a channel of its own) is one
 * fixed struct too; its answer is a note, with the socket beside it.
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
	SP_BIND,		/* supervisor to spawner: bind a socket */
	SP_BOUND,		/* spawner to supervisor: err, or the fd */
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

/* What a bind request may ask for. */
#define SPAWN_BIND_TCP		1	/* SOCK_STREAM, else SOCK_DGRAM */
#define SPAWN_BIND_UDP		2
#define SPAWN_BIND_REUSEPORT	0x1	/* several sockets, one group */
#define SPAWN_BIND_V6ONLY	0x2	/* AF_INET6 only */

/* A request to create and bind a TCP or UDP socket on an IPv4 or IPv6
 * address (with its port), decoded. */
struct spawn_bind {
	uint64_t	 id;		/* the answer's id */
	uint32_t	 proto;		/* SPAWN_BIND_TCP or _UDP */
	uint32_t	 flags;		/* SPAWN_BIND_REUSEPORT, _V6ONLY */
	uint32_t	 addrlen;	/* of sockaddr_in or sockaddr_in6 */
	union {
		struct sockaddr		 sa;
		struct sockaddr_in	 sin;
		struct sockaddr_in6	 sin6;
	}		 addr;
};

/* Encodes a bind request into buf (of len bytes); returns the bytes used,
 * or 0 when it does not fit. */
size_t	spawnmsg_encode_bind(const struct spawn_bind *, void *buf, size_t len);
/* Decodes a bind request of len bytes at buf into b; -1 unless it is
 * exactly one, for TCP or UDP, on an AF_INET or AF_INET6 address of the
 * right length with a port, with known flags only. */
int	spawnmsg_decode_bind(struct spawn_bind *, const void *buf, size_t len);

/* Encodes spec into buf (of len bytes); returns the bytes used, or 0 when
 * it does not fit or a count is over its maximum. */
size_t	spawnmsg_encode(const struct spawn_spec *, void *buf, size_t len);
/* Decodes a request of len bytes at buf into spec; -1 when malformed.
 * spec's strings point into buf, which must outlive it. */
int	spawnmsg_decode(struct spawn_spec *, const void *buf, size_t len);

#endif
