/*
 * precheck: before a reload touches the running daemon, the new file is
 * checked by a child running this same binary with -t.  Handlers' code
 * runs in configure(); a plugin that crashes or hangs there then costs a
 * child, not the daemon and its clients.  The child's output is read
 * through a pipe (bounded) and logged; a child still running after
 * PRECHECK_TIMEOUT is killed.  The binary is the one that started (its
 * path as resolved at start).  When no child can be started (an upgrade
 * removed the binary, no descriptor is left) the caller refuses the
 * reload: loading the file in-process unchecked would let a crashing
 * configure() take the daemon down.  The child runs PRECHECK_NICE nice
 * levels below the daemon, set from here right after the spawn (libuv
 * has no option for it): on a busy machine it would otherwise take half
 * of the serving loop's core for as long as it runs.  Stopping the daemon
 * cancels a check in progress: the child is killed and reaped before the
 * loop ends.  It is given the binary, the file, the port offset and a
 * callback with its argument, and knows nothing of who asks.
 */
#include <sys/resource.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "log.h"
#include "precheck.h"
#include "util.h"

#define PRECHECK_TIMEOUT	30000	/* ms */
#define PRECHECK_OUTPUT		8192
#define PRECHECK_NICE		10

struct precheck {
	uv_process_t		 proc;
	uv_pipe_t		 out;
	uv_timer_t		 timer;
	precheck_done		 done;
	void			*arg;
	char			 buf[PRECHECK_OUTPUT];
	size_t			 len;
	int			 closing;
	int			 cancelled;
	int			 exited;
	int64_t			 status;
	int			 signal;
	int			 eof;
};

static void
on_pc_close(uv_handle_t *h)
{
	struct precheck *pc = h->data;

	if (--pc->closing == 0)
		free(pc);
}

/* Both the exit status and the end of the output are in: report. */
static void
precheck_finish(struct precheck *pc)
{
	char why[256], *line, *save;

	if (!pc->exited || !pc->eof)
		return;
	pc->buf[pc->len] = '\0';
	if (pc->cancelled) {
		pc->done(pc->arg, 0, "the daemon is stopping");
	} else if (pc->status == 0 && pc->signal == 0) {
		pc->done(pc->arg, 1, NULL);
	} else {
		for (line = strtok_r(pc->buf, "\n", &save); line != NULL;
		    line = strtok_r(NULL, "\n", &save))
			log_err("%s", line);
		if (pc->signal != 0)
			snprintf(why, sizeof(why), "the configuration check "
			    "died of signal %d (%s)", pc->signal,
			    strsignal(pc->signal));
		else
			snprintf(why, sizeof(why), "the configuration check "
			    "failed: %.200s",
			    pc->len > 0 ? pc->buf : "no output");
		pc->done(pc->arg, 0, why);
	}
	pc->closing = 3;
	uv_close((uv_handle_t *)&pc->proc, on_pc_close);
	uv_close((uv_handle_t *)&pc->out, on_pc_close);
	uv_close((uv_handle_t *)&pc->timer, on_pc_close);
}

static void
on_pc_exit(uv_process_t *p, int64_t status, int signum)
{
	struct precheck *pc = p->data;

	pc->exited = 1;
	pc->status = status;
	pc->signal = signum;
	uv_timer_stop(&pc->timer);
	precheck_finish(pc);
}

static void
on_pc_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct precheck *pc = h->data;
	static char discard[512];

	if (pc->len + 1 < sizeof(pc->buf))
		*buf = uv_buf_init(pc->buf + pc->len,
		    (unsigned int)(sizeof(pc->buf) - 1 - pc->len));
	else
		*buf = uv_buf_init(discard, sizeof(discard));
}

static void
on_pc_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct precheck *pc = s->data;

	if (n > 0 && buf->base == pc->buf + pc->len)
		pc->len += (size_t)n;
	else if (n < 0) {
		uv_read_stop(s);
		pc->eof = 1;
		precheck_finish(pc);
	}
}

static void
on_pc_timeout(uv_timer_t *t)
{
	struct precheck *pc = t->data;

	log_warnx("the configuration check is still running after %ds: "
	    "killing it", PRECHECK_TIMEOUT / 1000);
	(void)uv_process_kill(&pc->proc, SIGKILL);
}

/* Lowers the check's priority below the daemon's; one that has ended
 * already (ESRCH) needs none. */
static void
precheck_nice(int pid)
{
	int prio;

	errno = 0;
	prio = getpriority(PRIO_PROCESS, 0);
	if (prio == -1 && errno != 0)
		return;
	prio += PRECHECK_NICE;
	(void)setpriority(PRIO_PROCESS, (id_t)pid, prio > 19 ? 19 : prio);
}

struct precheck *
precheck_start(const char *self, const char *file, int port_offset,
    precheck_done done, void *arg, char *why, size_t whylen)
{
	struct precheck *pc;
	uv_process_options_t po;
	uv_stdio_container_t stdio[3];
	char offset[16];
	char *args[] = { (char *)self, "-t", "-c", (char *)file, "-p",
	    offset, NULL };
	uv_loop_t *loop = uv_default_loop();
	int rc;

	snprintf(offset, sizeof(offset), "%d", port_offset);
	pc = xcalloc(1, sizeof(*pc));
	pc->done = done;
	pc->arg = arg;
	pc->proc.data = pc->out.data = pc->timer.data = pc;
	(void)uv_pipe_init(loop, &pc->out, 0);
	(void)uv_timer_init(loop, &pc->timer);
	memset(&po, 0, sizeof(po));
	po.file = args[0];
	po.args = args;
	po.exit_cb = on_pc_exit;
	po.stdio = stdio;
	po.stdio_count = 3;
	/* Errors come on stderr; "configuration OK" on stdout is not
	 * needed, the exit status says it. */
	stdio[0].flags = UV_IGNORE;
	stdio[1].flags = UV_IGNORE;
	stdio[2].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
	stdio[2].data.stream = (uv_stream_t *)&pc->out;
	if ((rc = uv_spawn(loop, &pc->proc, &po)) < 0) {
		snprintf(why, whylen, "the configuration check cannot run "
		    "(%s -t): %s", self, uv_strerror(rc));
		/* A failed uv_spawn() leaves the handle initialised: it too
		 * must be closed before pc is freed. */
		pc->closing = 3;
		uv_close((uv_handle_t *)&pc->proc, on_pc_close);
		uv_close((uv_handle_t *)&pc->out, on_pc_close);
		uv_close((uv_handle_t *)&pc->timer, on_pc_close);
		return NULL;
	}
	precheck_nice(pc->proc.pid);
	(void)uv_read_start((uv_stream_t *)&pc->out, on_pc_alloc, on_pc_read);
	(void)uv_timer_start(&pc->timer, on_pc_timeout, PRECHECK_TIMEOUT, 0);
	return pc;
}

void
precheck_cancel(struct precheck *pc)
{
	if (pc->cancelled)
		return;
	pc->cancelled = 1;
	uv_timer_stop(&pc->timer);
	/* Reaped by libuv, which then calls on_pc_exit: nothing is left
	 * behind when the loop ends. */
	if (!pc->exited)
		(void)uv_process_kill(&pc->proc, SIGKILL);
}
