/*
 * spawner: the one process of sockd that keeps the privilege to start a
 * program as another user.  The supervisor forks it at start, before it
 * drops root (or its capabilities) and before any worker thread exists;
 * it is connected to each worker loop by a SOCK_SEQPACKET socketpair and
 * does nothing else but:
 *
 *  - receive a spawn request (spawnmsg.c: argv, environment, user, groups,
 *    rlimits, nice, umask, directory, where stderr goes, an id) with its
 *    descriptors (SCM_RIGHTS: the socket for fd 0 and 1, a pipe for fd 2),
 *    start the child and answer with its pid or the errno of the failure;
 *  - reap every child as soon as it exits (SIGCHLD through a signalfd,
 *    then waitpid(-1, WNOHANG) until none is left) and tell the worker
 *    that asked of its status and how long it ran;
 *  - send a signal to a child (its whole session) when a worker asks,
 *    naming it by the request's id, never by a pid the worker chose;
 *  - on a channel of the supervisor's own, create and bind a TCP or UDP
 *    socket on an IPv4 or IPv6 address (spawnmsg_decode_bind() refuses
 *    anything else) and send it back (SCM_RIGHTS), so that sockets bound
 *    after the privilege drop, or by a daemon started with capabilities,
 *    belong to uid 0 as those bound by root at start do: no process of
 *    the daemon's user can join their SO_REUSEPORT group (the kernel
 *    compares the owners, taken from the fsuid at socket()), and each
 *    worker can have a socket of its own, steered (steer.c).  Without
 *    root the spawner sets its fsuid to 0 around socket(), which
 *    CAP_SETUID allows; the supervisor sets the rest (listen, buffers,
 *    keepalive, the steering program) on the socket it receives.
 *
 * It never reads the network, loads no configuration and no plugin, and
 * holds no descriptor but its channels and /dev/null.  Started as root it
 * stays root, with every capability: besides setuid, setgid, setgroups
 * and kill for children of any user, a program configured with user =
 * "root" (in.tftpd chroots, ftpd binds port 20) gets only what the
 * spawner holds, since no_new_privs keeps execve from granting more.
 * Started with capabilities it keeps CAP_SETUID, CAP_SETGID, CAP_KILL and
 * CAP_NET_BIND_SERVICE only, while the daemon drops exactly those: it
 * binds every socket through the spawner from then on.
 *
 * A child is started with vfork(): no copy of memory, whatever the size
 * of the daemon.  In the child, before execve: signal dispositions back to
 * default and the mask cleared, a session of its own (setsid), the
 * descriptors on 0, 1, 2 and every other one closed, rlimits, nice,
 * umask, directory, then groups, gid and uid, every capability dropped,
 * and no_new_privs.  A failure before execve writes its errno into a
 * close-on-exec pipe and exits 127 (a successful execve closes the pipe:
 * end of file); the spawner reaps it at once and answers with that
 * errno, so a spawn that failed is never also reported as an exit.
 *
 * When every channel is closed (the daemon is gone, or stopped), the
 * spawner exits.  Children still running then go on, as an inetd's do:
 * each is in a session of its own and init reaps it.
 */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/fsuid.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <linux/capability.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "spawner.h"
#include "spawnmsg.h"

#define MAX_CHANNELS	256

/* A running child. */
struct child {
	pid_t		 pid;
	int		 chan;		/* the worker that asked */
	uint64_t	 id;
	uint64_t	 start;		/* ms, CLOCK_MONOTONIC */
};

static struct child	*children;
static size_t		 nchildren, capchildren;
static int		 chans[MAX_CHANNELS];
static int		 nchans;
static int		 bindchan = -1;	/* the supervisor's: binds only */
static int		 devnull = -1;
static int		 privileged;

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int
caps_get(struct __user_cap_data_struct d[2])
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };

	return (int)syscall(SYS_capget, &h, d);
}

static int
caps_set(struct __user_cap_data_struct d[2])
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };

	return (int)syscall(SYS_capset, &h, d);
}

#define CAP_HAS(d, set, c)	(((d)[(c) / 32].set >> ((c) % 32)) & 1)

int
spawner_can_switch(void)
{
	struct __user_cap_data_struct d[2];

	if (geteuid() == 0)
		return 1;
	if (caps_get(d) == -1)
		return 0;
	return CAP_HAS(d, effective, CAP_SETUID) &&
	    CAP_HAS(d, effective, CAP_SETGID);
}

int
spawner_can_bind(void)
{
	uid_t uid = geteuid();
	int ok;

	if (uid == 0)
		return 1;
	if (!spawner_can_switch())
		return 0;
	/* A seccomp filter (a unit's SystemCallFilter=~@setuid) may
	 * refuse it all the same. */
	(void)setfsuid(0);
	ok = setfsuid((uid_t)-1) == 0;
	(void)setfsuid(uid);
	return ok;
}

/* Keeps only the capabilities in keep (bits of the first word) in the
 * effective, permitted and inheritable sets, and none ambient. */
static int
caps_keep(uint32_t keep)
{
	struct __user_cap_data_struct d[2];
	int i;

	if (caps_get(d) == -1)
		return -1;
	for (i = 0; i < 2; i++) {
		d[i].effective &= i == 0 ? keep : 0;
		d[i].permitted &= i == 0 ? keep : 0;
		d[i].inheritable = 0;
	}
	(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	return caps_set(d);
}

int
spawner_drop_caps(int binds)
{
	struct __user_cap_data_struct d[2];
	uint32_t drop = (1u << CAP_SETUID) | (1u << CAP_SETGID) |
	    (1u << CAP_KILL) | (binds ? 1u << CAP_NET_BIND_SERVICE : 0);
	int c;

	if (geteuid() == 0 || caps_get(d) == -1)
		return 0;
	for (c = 0; c < 32; c++)
		if ((drop >> c) & 1)
			(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_LOWER, c, 0,
			    0);
	d[0].effective &= ~drop;
	d[0].permitted &= ~drop;
	d[0].inheritable &= ~drop;
	if (caps_set(d) == -1) {
		log_warn("cannot drop CAP_SETUID, CAP_SETGID, CAP_KILL%s",
		    binds ? " and CAP_NET_BIND_SERVICE" : "");
		return -1;
	}
	return 0;
}

/* Closes the descriptors lo to hi, as close_range() does. */
static void
close_span(int lo, unsigned int hi)
{
	unsigned int fd;

	if (syscall(SYS_close_range, (unsigned int)lo, hi, 0) == 0)
		return;
	for (fd = (unsigned int)lo; fd <= hi && fd < 65536; fd++)
		(void)close((int)fd);
}

static void
close_from(int lo)
{
	close_span(lo, ~0U);
}

/*
 * The vfork child: never returns.  Only system calls here: the memory is
 * the spawner's, and it is suspended until execve or _exit.
 */
static void __attribute__((noreturn))
child_run(const struct spawn_spec *sp, int sock, int err, int report)
{
	struct __user_cap_data_struct none[2];
	struct rlimit rl;
	sigset_t all;
	uint32_t i;
	int sig;

	sigemptyset(&all);
	for (sig = 1; sig < NSIG; sig++)
		(void)signal(sig, SIG_DFL);
	(void)sigprocmask(SIG_SETMASK, &all, NULL);
	if (setsid() == -1)
		goto fail;
	if (dup2(sock, 0) == -1 || dup2(sock, 1) == -1 || dup2(err, 2) == -1)
		goto fail;
	/* All but the report pipe, which execve closes (O_CLOEXEC). */
	if (report > 3)
		close_span(3, (unsigned int)report - 1);
	close_from(report + 1);
	for (i = 0; i < sp->nrlim; i++) {
		rl.rlim_cur = rl.rlim_max = sp->rlim[i].value;
		if (setrlimit(sp->rlim[i].resource, &rl) == -1)
			goto fail;
	}
	if ((sp->flags & SPAWN_NICE) &&
	    setpriority(PRIO_PROCESS, 0, sp->nice) == -1)
		goto fail;
	(void)umask((mode_t)sp->umask);
	if (chdir(sp->dir) == -1)
		goto fail;
	/* Without the privilege, the program is the daemon's user, as the
	 * configuration check made sure. */
	if ((sp->flags & SPAWN_SETUSER) && privileged) {
		if (syscall(SYS_setgroups, (size_t)sp->ngroups,
		    sp->groups) == -1 ||
		    syscall(SYS_setresgid, sp->gid, sp->gid, sp->gid) == -1 ||
		    syscall(SYS_setresuid, sp->uid, sp->uid, sp->uid) == -1)
			goto fail;
	}
	if (sp->uid != 0) {
		/* Started with capabilities, changing uid kept them. */
		(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
		memset(none, 0, sizeof(none));
		if (caps_set(none) == -1)
			goto fail;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		goto fail;
	execve(sp->argv[0], (char *const *)sp->argv, (char *const *)sp->env);
fail:
	sig = errno != 0 ? errno : EINVAL;
	while (write(report, &sig, sizeof(sig)) == -1 && errno == EINTR)
		;
	_exit(127);
}

static void
note_send(int chan, uint32_t type, uint64_t id, int32_t value, int32_t err,
    uint64_t ms)
{
	struct spawn_note n;

	if (chan < 0 || chans[chan] == -1)
		return;
	memset(&n, 0, sizeof(n));
	n.type = type;
	n.id = id;
	n.value = value;
	n.err = err;
	n.ms = ms;
	/* Blocking: the worker always reads its end. */
	while (send(chans[chan], &n, sizeof(n), MSG_NOSIGNAL) == -1 &&
	    errno == EINTR)
		;
}

static void
child_add(pid_t pid, int chan, uint64_t id)
{
	struct child *nv;
	size_t cap;

	if (nchildren == capchildren) {
		cap = capchildren > 0 ? 2 * capchildren : 64;
		if ((nv = realloc(children, cap * sizeof(*nv))) == NULL) {
			/* Reaped all the same; its exit goes untold. */
			return;
		}
		children = nv;
		capchildren = cap;
	}
	children[nchildren].pid = pid;
	children[nchildren].chan = chan;
	children[nchildren].id = id;
	children[nchildren].start = now_ms();
	nchildren++;
}

/* vfork() alone in its frame: nothing of it changes after the call. */
static pid_t
child_start(const struct spawn_spec *sp, int sock, int err, int report)
{
	pid_t pid;

	if ((pid = vfork()) == 0)
		child_run(sp, sock, err, report);
	return pid;
}

static void
spawn_one(int chan, const struct spawn_spec *sp, int sock, int err)
{
	pid_t pid;
	int e = 0, p[2];
	ssize_t n;

	/* The child's errno, if it fails before execve; nothing (end of
	 * file) once execve closed the pipe. */
	if (pipe2(p, O_CLOEXEC) == -1) {
		note_send(chan, SP_STARTED, sp->id, 0, errno, 0);
		return;
	}
	pid = child_start(sp, sock, sp->err == SPAWN_ERR_SOCKET ? sock :
	    sp->err == SPAWN_ERR_NULL || err == -1 ? devnull : err, p[1]);
	e = errno;
	(void)close(p[1]);
	if (pid == -1) {
		(void)close(p[0]);
		note_send(chan, SP_STARTED, sp->id, 0, e, 0);
		return;
	}
	e = 0;
	while ((n = read(p[0], &e, sizeof(e))) == -1 && errno == EINTR)
		;
	(void)close(p[0]);
	if (n == (ssize_t)sizeof(e) && e != 0) {
		while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
			;
		note_send(chan, SP_STARTED, sp->id, 0, e, 0);
		return;
	}
	child_add(pid, chan, sp->id);
	note_send(chan, SP_STARTED, sp->id, pid, 0, 0);
}

static void
kill_one(int chan, uint64_t id, int sig)
{
	size_t i;

	for (i = 0; i < nchildren; i++)
		if (children[i].chan == chan && children[i].id == id) {
			/* Its session: a shell's children too. */
			if (kill(-children[i].pid, sig) == -1)
				(void)kill(children[i].pid, sig);
			return;
		}
}

/* Sends the bind answer: err, or the socket fd beside it. */
static void
bound_send(int chan, uint64_t id, int err, int fd)
{
	union {
		struct cmsghdr	 h;
		char		 b[CMSG_SPACE(sizeof(int))];
	} cm;
	struct spawn_note n;
	struct iovec iov = { &n, sizeof(n) };
	struct msghdr mh;
	struct cmsghdr *c;

	memset(&n, 0, sizeof(n));
	n.type = SP_BOUND;
	n.id = id;
	n.err = err;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (fd != -1) {
		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.b;
		mh.msg_controllen = sizeof(cm.b);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	while (sendmsg(chans[chan], &mh, MSG_NOSIGNAL) == -1 &&
	    errno == EINTR)
		;
}

/* A socket owned by uid 0: without root, the fsuid is 0 for socket()
 * only; -1 (errno set) rather than a socket of the daemon's user. */
static int
bind_socket(int family, int type)
{
	uid_t uid = geteuid();
	int fd, e;

	if (uid == 0)
		return socket(family, type, 0);
	(void)setfsuid(0);
	if (setfsuid((uid_t)-1) != 0) {
		(void)setfsuid(uid);
		errno = EPERM;
		return -1;
	}
	fd = socket(family, type, 0);
	e = errno;
	(void)setfsuid(uid);
	errno = e;
	return fd;
}

static void
bind_one(int chan, const struct spawn_bind *b)
{
	int fd, one = 1, v6only = (b->flags & SPAWN_BIND_V6ONLY) != 0;
	int reuseport = (b->flags & SPAWN_BIND_REUSEPORT) != 0, e;

	fd = bind_socket(b->addr.sa.sa_family, (b->proto == SPAWN_BIND_TCP ?
	    SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd == -1) {
		bound_send(chan, b->id, errno, -1);
		return;
	}
	if ((b->proto == SPAWN_BIND_TCP && setsockopt(fd, SOL_SOCKET,
	    SO_REUSEADDR, &one, sizeof(one)) == -1) ||
	    (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one,
	    sizeof(one)) == -1) ||
	    (b->addr.sa.sa_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &v6only, sizeof(v6only)) == -1) ||
	    bind(fd, &b->addr.sa, (socklen_t)b->addrlen) == -1) {
		e = errno;
		(void)close(fd);
		bound_send(chan, b->id, e, -1);
		return;
	}
	bound_send(chan, b->id, 0, fd);
	(void)close(fd);
}

/* One message from channel chan; 0 when it is closed. */
static int
chan_read(int chan)
{
	static char buf[SPAWN_MSG_MAX];
	static struct spawn_spec sp;
	union {
		struct cmsghdr	 h;
		char		 b[CMSG_SPACE(2 * sizeof(int))];
	} cm;
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr mh;
	struct cmsghdr *c;
	struct spawn_note n;
	int fds[2] = { -1, -1 }, nfd = 0, i;
	ssize_t len;

	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cm.b;
	mh.msg_controllen = sizeof(cm.b);
	if ((len = recvmsg(chans[chan], &mh, MSG_CMSG_CLOEXEC)) == -1)
		return errno == EINTR || errno == EAGAIN;
	if (len == 0)
		return 0;
	for (c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		for (i = 0; nfd < 2 && (size_t)i < (c->cmsg_len -
		    CMSG_LEN(0)) / sizeof(int); i++)
			memcpy(&fds[nfd++], CMSG_DATA(c) + i * sizeof(int),
			    sizeof(int));
	}
	if (chan == bindchan) {
		struct spawn_bind b;

		/* Nothing but bind requests here, and no descriptor. */
		if (nfd == 0 && !(mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) &&
		    spawnmsg_decode_bind(&b, buf, (size_t)len) == 0)
			bind_one(chan, &b);
		else
			bound_send(chan, 0, EINVAL, -1);
	} else if ((size_t)len == sizeof(n)) {
		memcpy(&n, buf, sizeof(n));
		if (n.type == SP_KILL)
			kill_one(chan, n.id, n.value);
	} else if (!(mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) &&
	    spawnmsg_decode(&sp, buf, (size_t)len) == 0 && fds[0] != -1)
		spawn_one(chan, &sp, fds[0], fds[1]);
	else if (len >= (ssize_t)sizeof(struct spawn_note))
		note_send(chan, SP_STARTED, 0, 0, EINVAL, 0);
	for (i = 0; i < nfd; i++)
		(void)close(fds[i]);
	return 1;
}

static void
reap(void)
{
	uint64_t now = now_ms();
	size_t i;
	pid_t pid;
	int st;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		for (i = 0; i < nchildren; i++)
			if (children[i].pid == pid)
				break;
		if (i == nchildren)
			continue;
		note_send(children[i].chan, SP_EXITED, children[i].id, st, 0,
		    now - children[i].start);
		children[i] = children[--nchildren];
	}
}

static void __attribute__((noreturn))
spawner_main(int sigfd)
{
	struct pollfd pfd[MAX_CHANNELS + 1];
	struct signalfd_siginfo si;
	int i, open;

	for (;;) {
		for (i = 0; i < nchans; i++) {
			pfd[i].fd = chans[i];
			pfd[i].events = POLLIN;
		}
		pfd[nchans].fd = sigfd;
		pfd[nchans].events = POLLIN;
		if (poll(pfd, (nfds_t)nchans + 1, -1) == -1) {
			if (errno == EINTR)
				continue;
			_exit(1);
		}
		if (pfd[nchans].revents & POLLIN) {
			while (read(sigfd, &si, sizeof(si)) == sizeof(si))
				;
			reap();
		}
		for (i = open = 0; i < nchans; i++) {
			if (chans[i] != -1 && (pfd[i].revents &
			    (POLLIN | POLLHUP | POLLERR)) && !chan_read(i)) {
				(void)close(chans[i]);
				chans[i] = -1;
			}
			open += chans[i] != -1;
		}
		if (open == 0)
			_exit(0);
	}
}

/* In the new spawner process: its descriptors, signals and privileges,
 * then its loop. */
static void __attribute__((noreturn))
spawner_child(int n, int *ends, int hasbind)
{
	sigset_t set;
	int i, fd, sigfd, max = 2;

	(void)prctl(PR_SET_NAME, "sockd-spawner", 0, 0, 0);
	/* The channels go to 3.. in order, then the rest is closed. */
	for (i = 0; i < n; i++) {
		if ((fd = fcntl(ends[i], F_DUPFD_CLOEXEC, 3 + n)) == -1)
			_exit(1);
		ends[i] = fd;
	}
	for (i = 0; i < n; i++) {
		if (dup3(ends[i], 3 + i, O_CLOEXEC) == -1)
			_exit(1);
		chans[i] = 3 + i;
		max = 3 + i;
	}
	nchans = n;
	if (hasbind)
		bindchan = n - 1;
	close_from(max + 1);
	/* 0, 1 and 2 stay the daemon's (its log, in the foreground), and
	 * are open, so that received descriptors are above them. */
	for (fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) == -1 && open("/dev/null", O_RDWR) != fd)
			_exit(1);
	if ((devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1)
		_exit(1);
	/* Signals sent to the daemon's process group (^C) are the
	 * daemon's business: the spawner ends with its channels. */
	for (i = 1; i < NSIG; i++)
		if (i != SIGKILL && i != SIGSTOP && i != SIGCHLD)
			(void)signal(i, i == SIGSEGV || i == SIGBUS ||
			    i == SIGABRT || i == SIGFPE || i == SIGILL ?
			    SIG_DFL : SIG_IGN);
	(void)signal(SIGCHLD, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	(void)sigprocmask(SIG_SETMASK, &set, NULL);
	if ((sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) == -1)
		_exit(1);
	privileged = spawner_can_switch();
	if (geteuid() != 0 && privileged)
		(void)caps_keep((1u << CAP_SETUID) | (1u << CAP_SETGID) |
		    (1u << CAP_KILL) | (1u << CAP_NET_BIND_SERVICE));
	spawner_main(sigfd);
}

pid_t
spawner_start(int nw, int *fds, int *bindfd)
{
	int (*sp)[2], i, n = nw + (bindfd != NULL), sz = 1 << 20;
	pid_t pid;

	if (nw < 1 || n > MAX_CHANNELS) {
		log_err("spawner: %d workers (at most %d)", nw,
		    MAX_CHANNELS - 1);
		return -1;
	}
	sp = calloc((size_t)n, sizeof(*sp));
	if (sp == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0,
		    sp[i]) == -1) {
			log_warn("spawner: socketpair");
			while (i-- > 0) {
				(void)close(sp[i][0]);
				(void)close(sp[i][1]);
			}
			free(sp);
			return -1;
		}
		(void)setsockopt(sp[i][0], SOL_SOCKET, SO_SNDBUF, &sz,
		    sizeof(sz));
		(void)setsockopt(sp[i][1], SOL_SOCKET, SO_SNDBUF, &sz,
		    sizeof(sz));
	}
	if ((pid = fork()) == -1) {
		log_warn("spawner: fork");
		for (i = 0; i < n; i++) {
			(void)close(sp[i][0]);
			(void)close(sp[i][1]);
		}
		free(sp);
		return -1;
	}
	if (pid == 0) {
		int ends[MAX_CHANNELS];

		for (i = 0; i < n; i++)
			ends[i] = sp[i][1];
		free(sp);
		spawner_child(n, ends, bindfd != NULL);
	}
	for (i = 0; i < n; i++) {
		(void)close(sp[i][1]);
		(void)fcntl(sp[i][0], F_SETFL, fcntl(sp[i][0], F_GETFL) |
		    O_NONBLOCK);
		if (i < nw)
			fds[i] = sp[i][0];
		else
			*bindfd = sp[i][0];
	}
	free(sp);
	return pid;
}

int
spawner_bind(int chan, int tcp, const struct sockaddr *sa, int reuseport,
    int v6only, int timeout_ms)
{
	static uint64_t seq;
	union {
		struct cmsghdr	 h;
		char		 b[CMSG_SPACE(sizeof(int))];
	} cm;
	char buf[256];
	struct spawn_bind b;
	struct spawn_note n;
	struct iovec iov = { &n, sizeof(n) };
	struct msghdr mh;
	struct cmsghdr *c;
	struct pollfd pfd = { chan, POLLIN, 0 };
	uint64_t end = now_ms() + (uint64_t)timeout_ms, now;
	size_t len;
	ssize_t got;
	int fd, rc;

	memset(&b, 0, sizeof(b));
	b.id = ++seq;
	b.proto = tcp ? SPAWN_BIND_TCP : SPAWN_BIND_UDP;
	b.flags = (reuseport ? SPAWN_BIND_REUSEPORT : 0) |
	    (sa->sa_family == AF_INET6 && v6only ? SPAWN_BIND_V6ONLY : 0);
	b.addrlen = sa->sa_family == AF_INET6 ?
	    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	memcpy(&b.addr, sa, b.addrlen);
	if ((len = spawnmsg_encode_bind(&b, buf, sizeof(buf))) == 0) {
		errno = EINVAL;
		return -1;
	}
	/* The channel is empty but for late answers: room enough. */
	if (send(chan, buf, len, MSG_NOSIGNAL) == -1)
		return -1;
	for (;;) {
		now = now_ms();
		if (now >= end) {
			errno = ETIMEDOUT;
			return -1;
		}
		rc = poll(&pfd, 1, (int)(end - now));
		if (rc == -1 && errno == EINTR)
			continue;
		if (rc == -1)
			return -1;
		if (rc == 0)
			continue;
		memset(&mh, 0, sizeof(mh));
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = cm.b;
		mh.msg_controllen = sizeof(cm.b);
		got = recvmsg(chan, &mh, MSG_CMSG_CLOEXEC);
		if (got == -1 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (got == -1)
			return -1;
		if (got == 0) {
			errno = EPIPE;
			return -1;
		}
		fd = -1;
		for (c = CMSG_FIRSTHDR(&mh); c != NULL;
		    c = CMSG_NXTHDR(&mh, c))
			if (c->cmsg_level == SOL_SOCKET &&
			    c->cmsg_type == SCM_RIGHTS &&
			    c->cmsg_len >= CMSG_LEN(sizeof(int)) && fd == -1)
				memcpy(&fd, CMSG_DATA(c), sizeof(int));
		/* A late answer to a request that timed out: dropped. */
		if (got != (ssize_t)sizeof(n) || n.type != SP_BOUND ||
		    n.id != b.id) {
			if (fd != -1)
				(void)close(fd);
			continue;
		}
		if (n.err != 0 || fd == -1) {
			if (fd != -1)
				(void)close(fd);
			errno = n.err != 0 ? n.err : EPROTO;
			/* Not the spawner gone: a real refusal. */
			if (errno == EPIPE || errno == ECONNRESET)
				errno = EIO;
			return -1;
		}
		return fd;
	}
}
