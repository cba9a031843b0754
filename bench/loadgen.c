/*
 * loadgen: the load generator of sockd's benchmark suite, one libuv loop on
 * one core.  TCP clients can open each connection with a PROXY protocol
 * header (-P 1 or 2, as HAProxy's send-proxy / send-proxy-v2 would, a
 * client address of 198.51.100.0/24 in it), and http-get scrapes a URL
 * path over keep-alive HTTP/1.1 (the metrics service).  A run has three
 * phases: setup (connect every client, time each one's first reply, drain
 * chat welcomes), warm-up, then the measured window, which ends after -d
 * seconds or -n operations, whichever comes first.  Only operations
 * completed inside the window count; the server's utime+stime is
 * read from /proc at both edges of the window (-x PID) so that CPU time per
 * operation covers exactly what was measured.  Every target must be on
 * loopback.  Human text goes to stderr, one key=value line to stdout.
 */
#include <sys/types.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT	24
#endif

#define RDBUF_SIZE	(256 * 1024)
#define BULK_CHUNK	(64 * 1024)
#define BULK_WRITES	2		/* writes kept queued per bulk conn */
#define MAX_SOURCES	250
#define HIST_BUCKETS	(64 * 60)

enum mode {
	M_PINGPONG, M_CONNECT, M_BULK, M_UDP, M_CHAT, M_HOLD, M_HTTP
};

static const char *mode_names[] = {
	"tcp-pingpong", "tcp-connect", "tcp-bulk", "udp-reqrep",
	"chat-fanout", "tcp-hold", "http-get"
};

enum phase {
	P_SETUP, P_WARMUP, P_MEASURE, P_DONE
};

struct conn {
	union {
		uv_tcp_t	 tcp;
		uv_udp_t	 udp;
	} h;
	uv_connect_t	 creq;
	uv_write_t	 wreq[BULK_WRITES];
	int		 wbusy[BULK_WRITES];
	int		 id;
	int		 open;		/* handle initialised, not yet closed */
	int		 connected;
	int		 got_first;
	int		 waiting;	/* udp: request outstanding */
	size_t		 got;		/* bytes of the current reply */
	uint64_t	 t_start;	/* connect started */
	uint64_t	 t_sent;	/* current request sent */
	/* chat line parser */
	size_t		 linepos;
	char		 head[2];
	int		 lastc;
	/* http-get: the response head so far, then the body left */
	char		 hhead[1024];
	size_t		 hlen;
	long long	 body_left;	/* -1: still in the head */
	char		 proxyhdr[128];	/* -P: its PROXY header */
};

static struct {
	enum mode	 mode;
	const char	*addr;
	int		 port;
	int		 conns;
	size_t		 size;
	double		 secs;
	double		 warmup;
	double		 setup_max;
	uint64_t	 count;
	int		 inflight;
	const char	*payload;
	int		 timeout_ms;
	int		 senders;
	int		 sources;
	int		 srcbase;
	int		 server_pid;
	int		 server_cpu;
	int		 window;
	int		 connect_max;
	int		 proxy;		/* PROXY header: 1, 2, 0 none */
	const char	*path;		/* http-get */
	const char	*label;
} o = {
	.mode = M_PINGPONG, .addr = "127.0.0.1", .conns = 1, .size = 64,
	.secs = 5, .warmup = 1, .setup_max = 30, .count = 0, .inflight = 32,
	.timeout_ms = 200, .senders = 1, .sources = 0, .srcbase = 1,
	.window = 8, .connect_max = 512, .path = "/metrics",
};

static uv_loop_t		*loop;
static struct sockaddr_storage	 target;
static struct sockaddr_in	 srcaddr[MAX_SOURCES];
static struct conn		*conns;
static int			 nconns;
static char			*reqbuf;	/* request, shared by all */
static size_t			 reqlen;
static char			 rdbuf[RDBUF_SIZE];
static uv_timer_t		 phase_timer, tick_timer;
static uv_signal_t		 sigint, sigterm;

static enum phase	 phase = P_SETUP;
static uint64_t		 t_run, t_setup_done, t_m0, t_m1;
static double		 cpu_m0, cpu_m1;
static double		 busy_m0, busy_m1, steal_m0, steal_m1;
static int		 cpu_ok;
static int		 n_connecting, n_connected, n_started, n_ready;
static int		 n_closed;
static uint64_t		 ops, bytes, errors, lost, bad, sent;
static uint64_t		 first_reply_max;
static uint64_t		 hist[HIST_BUCKETS];
static uint64_t		 lat_max;
static uint64_t		 last_activity;
static uint64_t		 chat_sent[62], chat_deliv[62];
static int		 chat_live;
static const char	 sidchars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
static signed char	 sidof[256];

static void	measure_start(void);
static void	run_finish(void);
static void	conn_start(struct conn *);
static void	pingpong_send(struct conn *);
static int	tcp_write(struct conn *, const char *, size_t, int,
		    uv_write_cb);
static void	on_written(uv_write_t *, int);
static void	conn_ready(struct conn *);
static void	bulk_fill(struct conn *);
static void	udp_send(struct conn *);
static void	chat_pump(void);
static void	setup_check(void);
static void	on_warmup_end(uv_timer_t *);

static void
usage(void)
{
	fprintf(stderr,
	    "usage: loadgen -m mode -p port [-a addr] [-c conns] [-s size]\n"
	    "       [-d secs] [-w warmup] [-n count] [-k inflight] "
	    "[-f payload]\n"
	    "       [-t timeout_ms] [-M senders] [-W window] [-S sources]\n"
	    "       [-b srcbase] [-K connect_max] [-T setup_max] [-x pid] "
	    "[-C cpu]\n"
	    "       [-l label] [-P 1|2] [-u path]\n"
	    "modes: tcp-pingpong tcp-connect tcp-bulk udp-reqrep "
	    "chat-fanout tcp-hold http-get\n");
	exit(2);
}

static void
die(const char *what, int rc)
{
	fprintf(stderr, "loadgen: %s: %s\n", what, uv_strerror(rc));
	exit(1);
}

/* Log-linear histogram: 64 sub-buckets per power of two, ~1.5% error. */
static int
hist_index(uint64_t v)
{
	int	msb, shift;

	if (v < 128)
		return (int)v;
	msb = 63 - __builtin_clzll(v);
	shift = msb - 6;
	return 64 * shift + (int)(v >> shift);
}

static uint64_t
hist_value(int idx)
{
	int	shift;

	if (idx < 128)
		return (uint64_t)idx;
	shift = idx / 64 - 1;
	return (uint64_t)(idx - 64 * shift) << shift;
}

static void
hist_add(uint64_t ns)
{
	int	i = hist_index(ns);

	if (i >= HIST_BUCKETS)
		i = HIST_BUCKETS - 1;
	hist[i]++;
	if (ns > lat_max)
		lat_max = ns;
}

static double
hist_pct(double p)
{
	uint64_t	n = 0, want, acc = 0;
	int		i;

	for (i = 0; i < HIST_BUCKETS; i++)
		n += hist[i];
	if (n == 0)
		return 0;
	want = (uint64_t)(p * (double)n);
	if (want >= n)
		want = n - 1;
	for (i = 0; i < HIST_BUCKETS; i++) {
		acc += hist[i];
		if (acc > want)
			return (double)hist_value(i);
	}
	return (double)lat_max;
}

/* Seconds of CPU the process has used (utime+stime of all its threads, and
 * cutime+cstime of children it has waited for: inetd forks), or -1. */
static double
proc_cpu(int pid)
{
	char			 path[64], buf[1024], *p;
	FILE			*f;
	size_t			 n;
	unsigned long long	 ut, st, cut, cst;
	int			 i;

	if (pid <= 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) == NULL)
		return -1;
	p++;
	/* After the command: state is field 3, utime 14 ... cstime 17. */
	for (i = 3; i < 14; i++) {
		p = strchr(p + 1, ' ');
		if (p == NULL)
			return -1;
	}
	if (sscanf(p, " %llu %llu %llu %llu", &ut, &st, &cut, &cst) != 4)
		return -1;
	return (double)(ut + st + cut + cst) / (double)sysconf(_SC_CLK_TCK);
}

/* Ticks CPU n spent busy (user, nice, system, irq, softirq) and stolen by
 * the hypervisor, from /proc/stat; -1 if unreadable. */
static int
cpu_ticks(int n, double *busy, double *steal)
{
	char			 line[256], name[16];
	FILE			*f;
	unsigned long long	 v[8];
	int			 rc = -1;

	if ((f = fopen("/proc/stat", "r")) == NULL)
		return -1;
	snprintf(name, sizeof(name), "cpu%d ", n);
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, name, strlen(name)) != 0)
			continue;
		if (sscanf(line + strlen(name), "%llu %llu %llu %llu %llu %llu"
		    " %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
		    &v[6], &v[7]) == 8) {
			*busy = (double)(v[0] + v[1] + v[2] + v[5] + v[6]);
			*steal = (double)v[7];
			rc = 0;
		}
		break;
	}
	fclose(f);
	return rc;
}

static int
is_measuring(void)
{
	return phase == P_MEASURE;
}

/* One operation done; ends the window when the count bound is reached. */
static void
op_done(uint64_t n)
{
	if (phase != P_MEASURE)
		return;
	ops += n;
	if (o.count > 0 && ops >= o.count)
		run_finish();
}

static void
on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	(void)h;
	(void)hint;
	*buf = uv_buf_init(rdbuf, sizeof(rdbuf));
}

static void
on_closed(uv_handle_t *h)
{
	struct conn	*c = h->data;

	c->open = 0;
	n_closed++;
	/* tcp-connect: a slot starts its next connection once closed. */
	if (o.mode == M_CONNECT && phase != P_DONE)
		conn_start(c);
}

static void
conn_close(struct conn *c)
{
	if (c->open == 1 && !uv_is_closing((uv_handle_t *)&c->h)) {
		c->open = 2;
		if (c->connected && o.mode == M_CHAT)
			chat_live--;
		c->connected = 0;
		uv_close((uv_handle_t *)&c->h, on_closed);
	}
}

static void
conn_fail(struct conn *c, const char *what, int rc)
{
	errors++;
	if (errors <= 5)
		fprintf(stderr, "loadgen: conn %d: %s: %s\n", c->id, what,
		    uv_strerror(rc));
	conn_close(c);
	if (phase == P_SETUP && !c->got_first && o.mode != M_CONNECT) {
		/* It will never be ready: setup must not wait for it. */
		c->got_first = 1;
		n_ready++;
		setup_check();
	}
}

/* Setup is done once every client is ready (connected, first reply). */
static void
setup_check(void)
{
	if (phase != P_SETUP || n_ready < nconns)
		return;
	t_setup_done = uv_hrtime();
	if (o.mode == M_CHAT)
		return;		/* on_tick waits for the room to settle */
	if (o.mode == M_HOLD) {
		printf("HOLDING held=%d errors=%llu setup_s=%.3f\n",
		    n_connected, (unsigned long long)errors,
		    (double)(t_setup_done - t_run) / 1e9);
		fflush(stdout);
	}
	phase = P_WARMUP;
	uv_timer_stop(&phase_timer);
	if (o.warmup > 0 && o.mode != M_HOLD)
		uv_timer_start(&phase_timer, on_warmup_end,
		    (uint64_t)(o.warmup * 1000), 0);
	else
		measure_start();
}

static void
conn_ready(struct conn *c)
{
	uint64_t	d;

	if (c->got_first)
		return;
	c->got_first = 1;
	d = uv_hrtime() - c->t_start;
	if (d > first_reply_max)
		first_reply_max = d;
	n_ready++;
	setup_check();
}

/* http-get: one response's bytes; a whole one is an operation, and the
 * next request follows. */
static void
http_read(struct conn *c, const char *p, size_t n)
{
	const char	*end, *cl;
	size_t		 take;
	uint64_t	 now;

	while (n > 0) {
		if (c->body_left < 0) {
			take = sizeof(c->hhead) - 1 - c->hlen;
			if (take == 0) {
				bad++;
				conn_close(c);
				return;
			}
			if (take > n)
				take = n;
			memcpy(c->hhead + c->hlen, p, take);
			c->hlen += take;
			c->hhead[c->hlen] = '\0';
			if ((end = strstr(c->hhead, "\r\n\r\n")) == NULL) {
				p += take;
				n -= take;
				continue;
			}
			/* What of this read follows the head is body. */
			take -= c->hlen - (size_t)(end + 4 - c->hhead);
			p += take;
			n -= take;
			cl = strstr(c->hhead, "Content-Length: ");
			if (strncmp(c->hhead, "HTTP/1.1 200", 12) != 0 ||
			    cl == NULL) {
				bad++;
				conn_close(c);
				return;
			}
			c->body_left = strtoll(cl + 16, NULL, 10);
			c->hlen = 0;
		}
		take = (size_t)c->body_left < n ? (size_t)c->body_left : n;
		c->body_left -= (long long)take;
		p += take;
		n -= take;
		if (c->body_left > 0)
			continue;
		c->body_left = -1;
		now = uv_hrtime();
		if (!c->got_first)
			conn_ready(c);
		else {
			if (is_measuring())
				hist_add(now - c->t_sent);
			op_done(1);
		}
		if (phase != P_DONE)
			pingpong_send(c);
		return;
	}
}

/* Handles reads for every TCP mode. */
static void
on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct conn	*c = s->data;
	uint64_t	 now;
	const char	*p, *end;

	if (nread < 0) {
		if (phase == P_DONE)
			return;
		if (o.mode == M_HOLD && nread == UV_EOF) {
			errors++;	/* closed by the server */
			conn_close(c);
			return;
		}
		conn_fail(c, "read", (int)nread);
		return;
	}
	if (nread == 0)
		return;
	switch (o.mode) {
	case M_PINGPONG:
	case M_CONNECT:
		c->got += (size_t)nread;
		if (c->got < reqlen)
			return;
		if (c->got > reqlen || buf->base[nread - 1] != '\n')
			bad++;
		c->got = 0;
		now = uv_hrtime();
		if (o.mode == M_CONNECT) {
			if (is_measuring())
				hist_add(now - c->t_start);
			op_done(1);
			uv_read_stop(s);
			conn_close(c);
			return;
		}
		if (!c->got_first)
			conn_ready(c);
		else {
			if (is_measuring())
				hist_add(now - c->t_sent);
			op_done(1);
		}
		if (phase != P_DONE)
			pingpong_send(c);
		break;
	case M_BULK:
		if (is_measuring()) {
			bytes += (size_t)nread;
			op_done(0);
		}
		break;
	case M_CHAT:
		last_activity = uv_hrtime();
		p = buf->base;
		end = p + nread;
		/* Count complete lines; notices ("* ") and our own lines
		 * do not count, and nothing counts before the window. */
		while (p < end) {
			const char	*nl, *q;
			size_t		 n;

			nl = memchr(p, '\n', (size_t)(end - p));
			n = (nl ? (size_t)(nl - p) : (size_t)(end - p));
			for (q = p; q < p + n && c->linepos < 2; q++)
				c->head[c->linepos++] = *q;
			for (q = p + n; q > p && q[-1] == '\r'; q--)
				continue;
			if (q > p)
				c->lastc = (unsigned char)q[-1];
			if (nl == NULL)
				break;
			if (!(c->linepos == 2 && c->head[0] == '*' &&
			    c->head[1] == ' ') && c->lastc >= 0 &&
			    sidof[c->lastc] >= 0 &&
			    sidof[c->lastc] < o.senders &&
			    sidof[c->lastc] != c->id) {
				chat_deliv[(int)sidof[c->lastc]]++;
				op_done(1);
			}
			c->linepos = 0;
			c->lastc = -1;
			p = nl + 1;
		}
		chat_pump();
		break;
	case M_HOLD:
		bad++;		/* idle connections receive nothing */
		break;
	case M_HTTP:
		http_read(c, buf->base, (size_t)nread);
		break;
	case M_UDP:
		break;
	}
}

static int
tcp_write(struct conn *c, const char *base, size_t len, int slot,
    uv_write_cb cb)
{
	uv_buf_t	 b = uv_buf_init((char *)base, (unsigned int)len);
	uv_write_t	*req;
	int		 n, rc;

	if (slot < 0) {
		n = uv_try_write((uv_stream_t *)&c->h.tcp, &b, 1);
		if (n == (int)len)
			return 0;
		if (n > 0) {
			b.base += n;
			b.len -= (size_t)n;
		} else if (n != UV_EAGAIN) {
			conn_fail(c, "write", n);
			return -1;
		}
		/* Rare (a full socket): the rest goes out queued. */
		if ((req = malloc(sizeof(*req))) == NULL) {
			conn_fail(c, "write", UV_ENOMEM);
			return -1;
		}
		req->data = NULL;
		rc = uv_write(req, (uv_stream_t *)&c->h.tcp, &b, 1, cb);
		if (rc != 0) {
			free(req);
			conn_fail(c, "write", rc);
			return -1;
		}
		return 0;
	}
	c->wbusy[slot] = 1;
	c->wreq[slot].data = &c->wbusy[slot];
	rc = uv_write(&c->wreq[slot], (uv_stream_t *)&c->h.tcp, &b, 1, cb);
	if (rc != 0) {
		c->wbusy[slot] = 0;
		conn_fail(c, "write", rc);
		return -1;
	}
	return 0;
}

static void
on_written(uv_write_t *req, int status)
{
	struct conn	*c = req->handle->data;

	free(req);
	if (status < 0 && phase != P_DONE && status != UV_ECANCELED)
		conn_fail(c, "write", status);
}

static void
pingpong_send(struct conn *c)
{
	c->t_sent = uv_hrtime();
	(void)tcp_write(c, reqbuf, reqlen, -1, on_written);
}

static void
on_bulk_written(uv_write_t *req, int status)
{
	struct conn	*c = req->handle->data;

	*(int *)req->data = 0;
	if (status < 0) {
		if (phase != P_DONE && status != UV_ECANCELED)
			conn_fail(c, "write", status);
		return;
	}
	if (is_measuring())
		sent += BULK_CHUNK;
	if (phase != P_DONE)
		bulk_fill(c);
}

static void
bulk_fill(struct conn *c)
{
	int	i;

	for (i = 0; i < BULK_WRITES; i++)
		if (!c->wbusy[i] && c->open == 1)
			(void)tcp_write(c, reqbuf, BULK_CHUNK, i,
			    on_bulk_written);
}

/* Chat senders keep at most -W lines each not yet seen by every peer. */
static void
chat_pump(void)
{
	int		 i;
	uint64_t	 peers, limit;
	struct conn	*c;

	if (phase != P_WARMUP && phase != P_MEASURE)
		return;
	peers = chat_live > 1 ? (uint64_t)chat_live - 1 : 1;
	limit = (uint64_t)o.window * peers;
	for (i = 0; i < o.senders; i++) {
		c = &conns[i];
		if (c->open != 1)
			continue;
		while (chat_sent[i] * peers < chat_deliv[i] + limit) {
			chat_sent[i]++;
			if (is_measuring())
				sent++;
			if (tcp_write(c, reqbuf + i * reqlen, reqlen, -1,
			    on_written) != 0)
				break;
		}
	}
}

/* -P: the PROXY header HAProxy would send first, for a client of
 * 198.51.100.0/24 (one address per connection slot) to the target. */
static int
proxy_send(struct conn *c)
{
	static const char sig[12] = "\r\n\r\n\0\r\nQUIT\n";
	const struct sockaddr_in *dst = (const void *)&target;
	unsigned char *h = (unsigned char *)c->proxyhdr;
	uint32_t src = htonl(0xc6336400u | (uint32_t)(c->id % 254 + 1));
	uint16_t sport = htons((uint16_t)(10000 + c->id % 50000));
	char a[INET_ADDRSTRLEN];
	size_t len;

	if (target.ss_family != AF_INET) {
		conn_fail(c, "proxy header (IPv4 targets only)", UV_EINVAL);
		return -1;
	}
	if (o.proxy == 1) {
		inet_ntop(AF_INET, &src, a, sizeof(a));
		len = (size_t)snprintf(c->proxyhdr, sizeof(c->proxyhdr),
		    "PROXY TCP4 %s 127.0.0.1 %u %d\r\n", a,
		    (unsigned)ntohs(sport), o.port);
	} else {
		memcpy(h, sig, 12);
		h[12] = 0x21;		/* version 2, PROXY */
		h[13] = 0x11;		/* TCP over IPv4 */
		h[14] = 0;
		h[15] = 12;
		memcpy(h + 16, &src, 4);
		memcpy(h + 20, &dst->sin_addr, 4);
		memcpy(h + 24, &sport, 2);
		memcpy(h + 26, &dst->sin_port, 2);
		len = 28;
	}
	return tcp_write(c, c->proxyhdr, len, -1, on_written);
}

static void
on_connect(uv_connect_t *req, int status)
{
	struct conn	*c = req->data;
	int		 rc;

	n_connecting--;
	if (status < 0) {
		if (status == UV_ECANCELED)
			return;
		conn_fail(c, "connect", status);
		goto more;
	}
	c->connected = 1;
	n_connected++;
	if ((rc = uv_read_start((uv_stream_t *)&c->h.tcp, on_alloc,
	    on_read)) != 0) {
		conn_fail(c, "read_start", rc);
		goto more;
	}
	if (o.proxy && proxy_send(c) != 0)
		goto more;
	switch (o.mode) {
	case M_PINGPONG:
	case M_CONNECT:
	case M_HTTP:
		c->body_left = -1;
		c->hlen = 0;
		pingpong_send(c);
		break;
	case M_BULK:
		bulk_fill(c);
		conn_ready(c);
		break;
	case M_CHAT:
		chat_live++;
		last_activity = uv_hrtime();
		conn_ready(c);
		break;
	case M_HOLD:
		conn_ready(c);
		break;
	case M_UDP:
		break;
	}
more:
	/* Setup connects at most -K clients at once, so as not to
	 * overflow the server's listen backlog. */
	while (phase == P_SETUP && n_started < nconns &&
	    n_connecting < o.connect_max && o.mode != M_CONNECT)
		conn_start(&conns[n_started++]);
}

static void
tcp_start(struct conn *c)
{
	struct sockaddr_in	*src;
	uv_os_fd_t		 fd;
	int			 rc, one = 1;

	memset(&c->h, 0, sizeof(c->h));
	memset(c->wbusy, 0, sizeof(c->wbusy));
	c->got = 0;
	c->connected = 0;
	rc = uv_tcp_init_ex(loop, &c->h.tcp, target.ss_family);
	if (rc != 0)
		die("tcp_init", rc);
	c->h.tcp.data = c;
	c->open = 1;
	c->t_start = uv_hrtime();
	(void)uv_tcp_nodelay(&c->h.tcp, 1);
	if (o.sources > 0) {
		/* The port is chosen at connect(), per destination: each
		 * source address gets the whole ephemeral range. */
		src = &srcaddr[c->id % o.sources];
		if (uv_fileno((uv_handle_t *)&c->h.tcp, &fd) == 0)
			(void)setsockopt(fd, IPPROTO_IP,
			    IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
		rc = uv_tcp_bind(&c->h.tcp, (struct sockaddr *)src, 0);
		if (rc != 0) {
			conn_fail(c, "bind", rc);
			return;
		}
	}
	c->creq.data = c;
	rc = uv_tcp_connect(&c->creq, &c->h.tcp, (struct sockaddr *)&target,
	    on_connect);
	if (rc != 0) {
		conn_fail(c, "connect", rc);
		return;
	}
	n_connecting++;
}

static void
on_udp_recv(uv_udp_t *u, ssize_t nread, const uv_buf_t *buf,
    const struct sockaddr *from, unsigned flags)
{
	struct conn	*c = u->data;
	uint64_t	 now;

	(void)buf;
	(void)flags;
	if (nread == 0 && from == NULL)
		return;
	if (nread < 0) {
		if (phase != P_DONE) {
			errors++;
			if (errors <= 5)
				fprintf(stderr, "loadgen: udp %d: recv: %s\n",
				    c->id, uv_strerror((int)nread));
		}
		return;
	}
	if (!c->waiting)
		return;		/* a reply after its timeout */
	c->waiting = 0;
	now = uv_hrtime();
	if (o.payload == NULL ? (size_t)nread != reqlen : nread == 0)
		bad++;
	if (is_measuring())
		hist_add(now - c->t_sent);
	if (!c->got_first)
		conn_ready(c);
	else
		op_done(1);
	if (phase != P_DONE)
		udp_send(c);
}

static void
udp_send(struct conn *c)
{
	uv_buf_t	b = uv_buf_init(reqbuf, (unsigned int)reqlen);
	int		rc;

	c->t_sent = uv_hrtime();
	c->waiting = 1;
	if (is_measuring())
		sent++;
	rc = uv_udp_try_send(&c->h.udp, &b, 1, NULL);
	if (rc < 0 && rc != UV_EAGAIN) {
		errors++;
		if (errors <= 5)
			fprintf(stderr, "loadgen: udp %d: send: %s\n", c->id,
			    uv_strerror(rc));
	}
	/* EAGAIN: the datagram is lost; the timeout resends. */
}

static void
udp_start(struct conn *c)
{
	struct sockaddr_in	 any;
	int			 rc;

	if ((rc = uv_udp_init(loop, &c->h.udp)) != 0)
		die("udp_init", rc);
	c->h.udp.data = c;
	c->open = 1;
	c->t_start = uv_hrtime();
	if (o.sources > 0) {
		rc = uv_udp_bind(&c->h.udp,
		    (struct sockaddr *)&srcaddr[c->id % o.sources], 0);
	} else if (target.ss_family == AF_INET) {
		uv_ip4_addr("127.0.0.1", 0, &any);
		rc = uv_udp_bind(&c->h.udp, (struct sockaddr *)&any, 0);
	} else
		rc = 0;
	if (rc != 0)
		die("udp_bind", rc);
	if ((rc = uv_udp_connect(&c->h.udp, (struct sockaddr *)&target)) != 0)
		die("udp_connect", rc);
	if ((rc = uv_udp_recv_start(&c->h.udp, on_alloc, on_udp_recv)) != 0)
		die("udp_recv_start", rc);
	udp_send(c);
}

static void
conn_start(struct conn *c)
{
	if (o.mode == M_UDP)
		udp_start(c);
	else
		tcp_start(c);
}

/* Periodic work: UDP timeouts, chat settling, the setup deadline. */
static void
on_tick(uv_timer_t *t)
{
	uint64_t	 now = uv_hrtime(), tmo;
	int		 i;

	(void)t;
	if (phase == P_SETUP && now - t_run > (uint64_t)(o.setup_max * 1e9)) {
		fprintf(stderr, "loadgen: setup not done after %.0f s "
		    "(%d/%d ready)\n", o.setup_max, n_ready, nconns);
		if (o.mode == M_HOLD || n_ready > 0) {
			n_ready = nconns;
			if (o.mode == M_CHAT)
				last_activity = 0;
			setup_check();
		} else {
			errors++;
			run_finish();
			return;
		}
	}
	if (o.mode == M_UDP) {
		tmo = (uint64_t)o.timeout_ms * 1000000;
		for (i = 0; i < nconns; i++) {
			struct conn *c = &conns[i];

			if (!c->waiting || now - c->t_sent < tmo)
				continue;
			if (is_measuring())
				lost++;
			if (!c->got_first) {
				/* Setup: no reply at all so far. */
				errors++;
			}
			udp_send(c);
		}
	}
	if (o.mode == M_CHAT && phase == P_SETUP && n_ready >= nconns &&
	    now - last_activity > 300 * 1000000ULL) {
		/* The welcomes and join notices are drained. */
		phase = P_WARMUP;
		if (o.warmup > 0)
			uv_timer_start(&phase_timer,
			    on_warmup_end,
			    (uint64_t)(o.warmup * 1000), 0);
		else
			measure_start();
		chat_pump();
	}
}

static void
on_warmup_end(uv_timer_t *t)
{
	(void)t;
	measure_start();
}

static void
on_window_end(uv_timer_t *t)
{
	(void)t;
	run_finish();
}

static void
measure_start(void)
{
	if (phase == P_DONE)
		return;
	phase = P_MEASURE;
	memset(hist, 0, sizeof(hist));
	lat_max = 0;
	ops = bytes = lost = sent = 0;
	cpu_m0 = proc_cpu(o.server_pid);
	cpu_ok = cpu_ticks(o.server_cpu, &busy_m0, &steal_m0) == 0;
	t_m0 = uv_hrtime();
	uv_timer_start(&phase_timer, on_window_end,
	    (uint64_t)(o.secs * 1000), 0);
}

static void
close_walk(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

static int
held(void)
{
	int	i, n = 0;

	for (i = 0; i < nconns; i++)
		if (conns[i].open == 1 && conns[i].connected)
			n++;
	return n;
}

static void
report(void)
{
	double		 secs, cpu, nops, rate, per, tck;
	const char	*unit;

	secs = (double)(t_m1 - t_m0) / 1e9;
	cpu = (cpu_m0 >= 0 && cpu_m1 >= 0) ? cpu_m1 - cpu_m0 : -1;
	nops = (double)ops;
	unit = "op";
	switch (o.mode) {
	case M_PINGPONG:
		unit = "rt";
		break;
	case M_CONNECT:
		unit = "conn";
		break;
	case M_BULK:
		nops = (double)bytes / 1e6;
		unit = "MB";
		break;
	case M_UDP:
		unit = "reply";
		break;
	case M_CHAT:
		unit = "line";
		break;
	case M_HOLD:
		nops = held();
		unit = "conn";
		break;
	case M_HTTP:
		unit = "scrape";
		break;
	}
	rate = secs > 0 ? nops / secs : 0;
	if (o.mode == M_HOLD)	/* connections set up per second */
		rate = t_setup_done > t_run ?
		    nops / ((double)(t_setup_done - t_run) / 1e9) : 0;
	per = (cpu >= 0 && nops > 0) ? cpu * 1e6 / nops : -1;

	fprintf(stderr, "%s %s:%d: %.0f %s in %.3f s = %.1f %s/s",
	    mode_names[o.mode], o.addr, o.port, nops, unit, secs, rate, unit);
	if (o.mode == M_PINGPONG || o.mode == M_CONNECT || o.mode == M_UDP ||
	    o.mode == M_HTTP)
		fprintf(stderr, ", p50 %.1f us, p99 %.1f us",
		    hist_pct(0.50) / 1e3, hist_pct(0.99) / 1e3);
	if (cpu >= 0)
		fprintf(stderr, ", server cpu %.3f s = %.2f us/%s", cpu, per,
		    unit);
	fprintf(stderr, ", errors %llu\n", (unsigned long long)errors);

	printf("mode=%s", mode_names[o.mode]);
	if (o.label)
		printf(" label=%s", o.label);
	printf(" port=%d conns=%d size=%zu secs=%.3f unit=%s ops=%.*f"
	    " rate=%.1f errors=%llu bad=%llu", o.port, nconns, reqlen, secs,
	    unit, o.mode == M_BULK ? 3 : 0, nops, rate,
	    (unsigned long long)errors,
	    (unsigned long long)bad);
	if (o.mode == M_PINGPONG || o.mode == M_CONNECT || o.mode == M_UDP ||
	    o.mode == M_HTTP)
		printf(" p50_us=%.1f p99_us=%.1f max_us=%.1f",
		    hist_pct(0.50) / 1e3, hist_pct(0.99) / 1e3,
		    (double)lat_max / 1e3);
	if (o.mode == M_PINGPONG)
		printf(" first_reply_max_ms=%.3f",
		    (double)first_reply_max / 1e6);
	if (o.mode == M_UDP)
		printf(" sent=%llu lost=%llu loss_pct=%.3f",
		    (unsigned long long)sent, (unsigned long long)lost,
		    sent ? 100.0 * (double)lost / (double)sent : 0.0);
	if (o.mode == M_CHAT)
		printf(" senders=%d lines_sent=%llu", o.senders,
		    (unsigned long long)sent);
	if (o.mode == M_HOLD)
		printf(" held=%d connected=%d setup_s=%.3f", held(),
		    n_connected, t_setup_done ?
		    (double)(t_setup_done - t_run) / 1e9 : -1.0);
	if (cpu >= 0)
		printf(" srv_cpu_s=%.3f srv_cpu_us_per_op=%.3f", cpu, per);
	if (cpu >= 0 && cpu_ok && secs > 0) {
		/* What else ran on the server's CPU: noise in the figures. */
		tck = (double)sysconf(_SC_CLK_TCK);
		printf(" cpu%d_others_pct=%.1f cpu%d_steal_pct=%.1f",
		    o.server_cpu, 100 * ((busy_m1 - busy_m0) / tck - cpu) /
		    secs, o.server_cpu, 100 * (steal_m1 - steal_m0) / tck /
		    secs);
	}
	printf("\n");
	fflush(stdout);
}

static void
run_finish(void)
{
	if (phase == P_DONE)
		return;
	if (phase == P_MEASURE) {
		t_m1 = uv_hrtime();
		cpu_m1 = proc_cpu(o.server_pid);
		if (cpu_ok)
			cpu_ok = cpu_ticks(o.server_cpu, &busy_m1,
			    &steal_m1) == 0;
	} else
		t_m1 = t_m0 = uv_hrtime();
	phase = P_DONE;
	report();
	uv_walk(loop, close_walk, NULL);
}

static void
on_signal(uv_signal_t *s, int signum)
{
	(void)s;
	(void)signum;
	if (phase == P_MEASURE || phase == P_DONE) {
		run_finish();
		return;
	}
	fprintf(stderr, "loadgen: interrupted during setup\n");
	errors++;
	run_finish();
}

static int
loopback_addr(const char *s, int port, struct sockaddr_storage *ss)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (uv_ip4_addr(s, port, sin) == 0)
		return (ntohl(sin->sin_addr.s_addr) >> 24) == 127 ? 0 : -1;
	if (uv_ip6_addr(s, port, sin6) == 0)
		return IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr) ? 0 : -1;
	return -1;
}

static void
raise_nofile(rlim_t want)
{
	struct rlimit	rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want)
		return;
	if (rl.rlim_max < want)
		rl.rlim_max = want;	/* works as root */
	rl.rlim_cur = want;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
		(void)getrlimit(RLIMIT_NOFILE, &rl);
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
		fprintf(stderr, "loadgen: open files limited to %llu\n",
		    (unsigned long long)rl.rlim_cur);
	}
}

static long
num(const char *s, long lo, long hi)
{
	char	*end;
	long	 v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < lo || v > hi) {
		fprintf(stderr, "loadgen: bad number: %s\n", s);
		usage();
	}
	return v;
}

static double
fnum(const char *s)
{
	char	*end;
	double	 v = strtod(s, &end);

	if (*end != '\0' || v < 0 || v > 86400) {
		fprintf(stderr, "loadgen: bad duration: %s\n", s);
		usage();
	}
	return v;
}

static void
build_request(void)
{
	size_t	i, len;
	int	s;

	if (o.mode == M_UDP && o.payload != NULL) {
		reqlen = strlen(o.payload);
		if ((reqbuf = strdup(o.payload)) == NULL)
			exit(1);
		return;
	}
	if (o.mode == M_HTTP) {
		reqlen = strlen(o.path) + 64;
		if ((reqbuf = malloc(reqlen)) == NULL)
			exit(1);
		reqlen = (size_t)snprintf(reqbuf, reqlen, "GET %s HTTP/1.1\r\n"
		    "Host: 127.0.0.1\r\n\r\n", o.path);
		return;
	}
	if (o.mode == M_BULK) {
		reqlen = BULK_CHUNK;
		if ((reqbuf = malloc(reqlen)) == NULL)
			exit(1);
		for (i = 0; i < reqlen; i++)
			reqbuf[i] = (i % 64 == 63) ? '\n' :
			    (char)('a' + i % 26);
		return;
	}
	len = o.size < 2 ? 2 : o.size;
	reqlen = len;
	/* Chat: one line per sender, its last character names it. */
	s = o.mode == M_CHAT ? o.senders : 1;
	if ((reqbuf = malloc(len * (size_t)s)) == NULL)
		exit(1);
	for (i = 0; i < (size_t)s; i++) {
		memset(reqbuf + i * len, 'x', len);
		reqbuf[i * len] = 'm';
		if (o.mode == M_CHAT)
			reqbuf[i * len + len - 2] = sidchars[i];
		reqbuf[i * len + len - 1] = '\n';
	}
}

int
main(int argc, char *argv[])
{
	const char	*modename = NULL;
	char		 a[32];
	int		 ch, i, rc;

	while ((ch = getopt(argc, argv, "a:b:C:c:d:f:K:k:l:M:m:n:P:p:S:s:T:t:"
	    "u:W:w:x:")) != -1) {
		switch (ch) {
		case 'a':
			o.addr = optarg;
			break;
		case 'b':
			o.srcbase = (int)num(optarg, 1, 254);
			break;
		case 'C':
			o.server_cpu = (int)num(optarg, 0, 4095);
			break;
		case 'c':
			o.conns = (int)num(optarg, 1, 1000000);
			break;
		case 'd':
			o.secs = fnum(optarg);
			break;
		case 'f':
			o.payload = optarg;
			break;
		case 'K':
			o.connect_max = (int)num(optarg, 1, 1000000);
			break;
		case 'k':
			o.inflight = (int)num(optarg, 1, 100000);
			break;
		case 'l':
			o.label = optarg;
			break;
		case 'M':
			o.senders = (int)num(optarg, 1, 62);
			break;
		case 'm':
			modename = optarg;
			break;
		case 'n':
			o.count = (uint64_t)num(optarg, 0, LONG_MAX);
			break;
		case 'P':
			o.proxy = (int)num(optarg, 1, 2);
			break;
		case 'p':
			o.port = (int)num(optarg, 1, 65535);
			break;
		case 'u':
			o.path = optarg;
			break;
		case 'S':
			o.sources = (int)num(optarg, 0, MAX_SOURCES);
			break;
		case 's':
			o.size = (size_t)num(optarg, 1, 65536);
			break;
		case 'T':
			o.setup_max = fnum(optarg);
			break;
		case 't':
			o.timeout_ms = (int)num(optarg, 1, 60000);
			break;
		case 'W':
			o.window = (int)num(optarg, 1, 100000);
			break;
		case 'w':
			o.warmup = fnum(optarg);
			break;
		case 'x':
			o.server_pid = (int)num(optarg, 1, INT_MAX);
			break;
		default:
			usage();
		}
	}
	if (optind != argc || modename == NULL || o.port == 0)
		usage();
	for (i = 0; i < (int)(sizeof(mode_names) / sizeof(mode_names[0])); i++)
		if (strcmp(modename, mode_names[i]) == 0)
			break;
	if (i == (int)(sizeof(mode_names) / sizeof(mode_names[0])))
		usage();
	o.mode = (enum mode)i;
	if (loopback_addr(o.addr, o.port, &target) != 0) {
		fprintf(stderr, "loadgen: %s: not a loopback address "
		    "(127.0.0.0/8 or ::1 only)\n", o.addr);
		return 2;
	}
	if (o.sources > 0) {
		if (target.ss_family != AF_INET ||
		    o.srcbase + o.sources > 255) {
			fprintf(stderr, "loadgen: -S needs an IPv4 target and "
			    "127.0.0.%d-%d\n", o.srcbase,
			    o.srcbase + o.sources - 1);
			return 2;
		}
		for (i = 0; i < o.sources; i++) {
			snprintf(a, sizeof(a), "127.0.0.%d", o.srcbase + i);
			uv_ip4_addr(a, 0, &srcaddr[i]);
		}
	}
	if (o.mode == M_CHAT && o.senders > o.conns) {
		fprintf(stderr, "loadgen: more senders than clients\n");
		return 2;
	}
	memset(sidof, -1, sizeof(sidof));
	for (i = 0; sidchars[i] != '\0'; i++)
		sidof[(unsigned char)sidchars[i]] = (signed char)i;

	nconns = (o.mode == M_CONNECT || o.mode == M_UDP) ? o.inflight :
	    o.conns;
	if ((conns = calloc((size_t)nconns, sizeof(*conns))) == NULL) {
		fprintf(stderr, "loadgen: out of memory\n");
		return 1;
	}
	for (i = 0; i < nconns; i++) {
		conns[i].id = i;
		conns[i].lastc = -1;
	}
	raise_nofile((rlim_t)nconns + 256);
	build_request();
	signal(SIGPIPE, SIG_IGN);

	loop = uv_default_loop();
	uv_timer_init(loop, &phase_timer);
	uv_timer_init(loop, &tick_timer);
	uv_signal_init(loop, &sigint);
	uv_signal_init(loop, &sigterm);
	uv_signal_start(&sigint, on_signal, SIGINT);
	uv_signal_start(&sigterm, on_signal, SIGTERM);
	uv_timer_start(&tick_timer, on_tick, 5, o.mode == M_UDP ?
	    (uint64_t)(o.timeout_ms / 4 > 0 ? o.timeout_ms / 4 : 1) : 20);
	uv_unref((uv_handle_t *)&sigint);
	uv_unref((uv_handle_t *)&sigterm);

	t_run = uv_hrtime();
	if (o.mode == M_CONNECT) {
		/* No setup: the window opens after the warm-up. */
		phase = P_WARMUP;
		if (o.warmup > 0)
			uv_timer_start(&phase_timer,
			    on_warmup_end,
			    (uint64_t)(o.warmup * 1000), 0);
		else
			measure_start();
		for (i = 0; i < nconns; i++)
			conn_start(&conns[i]);
	} else if (o.mode == M_UDP) {
		for (i = 0; i < nconns; i++)
			conn_start(&conns[i]);
	} else {
		while (n_started < nconns && n_connecting < o.connect_max)
			conn_start(&conns[n_started++]);
	}
	rc = uv_run(loop, UV_RUN_DEFAULT);
	(void)rc;
	if (phase != P_DONE)
		run_finish();
	return errors > 0 && ops == 0 ? 1 : 0;
}
