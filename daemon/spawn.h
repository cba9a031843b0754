#ifndef SOCKD_SPAWN_H
#define SOCKD_SPAWN_H

#include <sys/queue.h>
#include <sys/types.h>

#include <stdint.h>

#include <uv.h>

#include "spawnmsg.h"

struct spawn_job;

/* What a job hears: started (value: the pid), failed before it ran (value:
 * the errno; the last event) or exited (value: the wait status, -1 when
 * the spawner went away and the end is unknown; the last event). */
enum spawn_event { SPAWN_STARTED, SPAWN_FAILED, SPAWN_EXITED };
typedef void (*spawn_cb)(struct spawn_job *, enum spawn_event, int value,
    uint64_t ms);

/*
 * One event loop's channel to the spawner: its requests go out with
 * MSG_DONTWAIT (the loop never waits for the spawner), replies come back
 * through a uv_poll.  Touched only from its loop's thread.
 */
struct spawn_client {
	uv_poll_t		 poll;
	uv_loop_t		*loop;
	int			 fd;		/* -1: no spawner */
	int			 closing;
	uint64_t		 next_id;
	LIST_HEAD(, spawn_job)	 jobs;
	char			*buf;		/* SPAWN_MSG_MAX, a request */
};

/* A child asked for, embedded in whatever waits for it; its callback may
 * free it. */
struct spawn_job {
	struct spawn_client	*cl;
	uint64_t		 id;
	pid_t			 pid;		/* 0 until started */
	spawn_cb		 cb;
	LIST_ENTRY(spawn_job)	 link;
};

/* Sets up cl on loop with the channel fd (taken over; -1: spawning fails
 * at once with ECONNREFUSED). */
void	spawn_client_init(struct spawn_client *, uv_loop_t *, int fd);
/* Closes the channel (jobs left are told SPAWN_EXITED with -1). */
void	spawn_client_close(struct spawn_client *);
/* Asks for a child of spec (its id is set here) with sock as fd 0 and 1
 * and errfd (or -1) as fd 2; the descriptors stay the caller's.  0: sent,
 * cb will be called; else -errno, and cb will not be. */
int	spawn_start(struct spawn_client *, struct spawn_job *,
	    struct spawn_spec *, int sock, int errfd, spawn_cb);
/* Sends sig to the job's child (and its session), if it runs. */
void	spawn_kill(struct spawn_job *, int sig);
/* The same for every child of cl. */
void	spawn_kill_all(struct spawn_client *, int sig);
/* How many children of cl are asked for or running. */
unsigned int spawn_count(const struct spawn_client *);

#endif
