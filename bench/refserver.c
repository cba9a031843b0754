/*
 * refserver: the "physical limit" of the benchmark suite, the smallest
 * correct single-loop libuv server for what sockd's benchmarks exercise:
 * TCP echo, UDP echo, UDP daytime (the datagram is the strftime format) and
 * a TCP broadcast chat, with none of sockd's machinery (no config, limits,
 * handlers or logging).  It does what a tuned server must do anyway: one
 * shared read buffer, uv_try_write before queueing, recvmmsg for UDP, read
 * paused while a client's output waits, and one refcounted buffer per chat
 * message shared by every recipient (copied only if some write must queue).
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <uv.h>

#define RDBUF_SIZE	(64 * 1024)
#define UDPBUF_SIZE	(20 * 64 * 1024)	/* libuv's recvmmsg batch */
#define MAX_LINE	4096
#define MAX_QUEUE	(1024 * 1024)
#define MAX_REPLY	1472
#define REPLY_GROWTH	64

enum kind {
	K_ECHO, K_CHAT
};

struct client {
	uv_tcp_t	 tcp;
	enum kind	 kind;
	struct client	*prev, *next;	/* chat room */
	char		*part;		/* chat: a line not yet complete */
	size_t		 partlen;
	int		 closing;
};

struct msg {
	int		 refs;
	size_t		 len;
	char		 data[];
};

struct wreq {
	uv_write_t	 req;
	struct msg	*msg;
};

struct listener {
	uv_tcp_t	 tcp;
	enum kind	 kind;
};

static uv_loop_t	*loop;
static char		 rdbuf[RDBUF_SIZE];
static char		 udpbuf[UDPBUF_SIZE];
static struct client	*room;
static const char	*bindaddr = "127.0.0.1";

static void
usage(void)
{
	fprintf(stderr, "usage: refserver [-a addr] [-e tcp-echo-port] "
	    "[-u udp-echo-port]\n"
	    "       [-y udp-daytime-port] [-c tcp-chat-port]\n");
	exit(2);
}

static void
on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	(void)h;
	(void)hint;
	*buf = uv_buf_init(rdbuf, sizeof(rdbuf));
}

static void
on_client_closed(uv_handle_t *h)
{
	struct client	*c = h->data;

	free(c->part);
	free(c);
}

static void
client_close(struct client *c)
{
	if (c->closing)
		return;
	c->closing = 1;
	if (c->kind == K_CHAT) {
		if (c->prev)
			c->prev->next = c->next;
		else
			room = c->next;
		if (c->next)
			c->next->prev = c->prev;
	}
	uv_close((uv_handle_t *)&c->tcp, on_client_closed);
}

static void
msg_unref(struct msg *m)
{
	if (m != NULL && --m->refs == 0)
		free(m);
}

static void	on_echo_read(uv_stream_t *, ssize_t, const uv_buf_t *);

static void
on_written(uv_write_t *req, int status)
{
	struct wreq	*w = (struct wreq *)req;
	struct client	*c = req->handle->data;

	msg_unref(w->msg);
	free(w);
	if (status < 0) {
		client_close(c);
		return;
	}
	/* Echo: reading resumes once the output has drained. */
	if (c->kind == K_ECHO && !c->closing &&
	    c->tcp.write_queue_size == 0)
		(void)uv_read_start((uv_stream_t *)&c->tcp, on_alloc,
		    on_echo_read);
}

/* Sends base[0..len) to c, queueing a copy (or a reference to *mp, made on
 * first need from the shared bytes) if the socket does not take it all. */
static int
client_send(struct client *c, const char *base, size_t len, struct msg **mp)
{
	struct wreq	*w;
	uv_buf_t	 b;
	int		 n = 0;

	if (c->tcp.write_queue_size == 0) {
		b = uv_buf_init((char *)base, (unsigned int)len);
		n = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
		if (n == (int)len)
			return 0;
		if (n < 0 && n != UV_EAGAIN)
			return -1;
		if (n < 0)
			n = 0;
	}
	if (c->tcp.write_queue_size + len > MAX_QUEUE)
		return -1;	/* a slow reader is closed, not buffered */
	if (*mp == NULL) {
		if ((*mp = malloc(sizeof(**mp) + len)) == NULL)
			return -1;
		(*mp)->refs = 1;
		(*mp)->len = len;
		memcpy((*mp)->data, base, len);
	}
	if ((w = malloc(sizeof(*w))) == NULL)
		return -1;
	w->msg = *mp;
	(*mp)->refs++;
	b = uv_buf_init((*mp)->data + n, (unsigned int)(len - (size_t)n));
	if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, on_written)
	    != 0) {
		msg_unref(w->msg);
		free(w);
		return -1;
	}
	return 0;
}

static void
on_shutdown(uv_shutdown_t *req, int status)
{
	(void)status;
	client_close(req->handle->data);
	free(req);
}

static void
on_echo_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct client	*c = s->data;
	struct msg	*m = NULL;
	uv_shutdown_t	*req;

	if (nread == UV_EOF) {
		/* Half-close: the echo of what is queued still goes out. */
		if ((req = malloc(sizeof(*req))) == NULL ||
		    uv_shutdown(req, s, on_shutdown) != 0) {
			free(req);
			client_close(c);
		}
		return;
	}
	if (nread < 0) {
		client_close(c);
		return;
	}
	if (client_send(c, buf->base, (size_t)nread, &m) != 0) {
		client_close(c);
		return;
	}
	if (m != NULL) {
		msg_unref(m);
		uv_read_stop(s);
	}
}

/* Chat: everything up to the last newline goes to every other client. */
static void
chat_broadcast(struct client *from, const char *base, size_t len)
{
	struct client	*c, *next;
	struct msg	*m = NULL;

	for (c = room; c != NULL; c = next) {
		next = c->next;
		if (c != from && client_send(c, base, len, &m) != 0)
			client_close(c);
	}
	msg_unref(m);
}

static void
on_chat_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct client	*c = s->data;
	const char	*p, *nl;
	size_t		 n, head, rest;

	if (nread < 0) {
		client_close(c);
		return;
	}
	p = buf->base;
	n = (size_t)nread;
	while (n > 0) {
		/* Find the last complete line in this read. */
		for (nl = p + n; nl > p && nl[-1] != '\n'; nl--)
			continue;
		if (nl == p) {
			/* No newline: keep it, a max-size piece at most. */
			if (c->part == NULL &&
			    (c->part = malloc(MAX_LINE)) == NULL) {
				client_close(c);
				return;
			}
			rest = MAX_LINE - c->partlen;
			if (rest > n)
				rest = n;
			memcpy(c->part + c->partlen, p, rest);
			c->partlen += rest;
			p += rest;
			n -= rest;
			if (c->partlen == MAX_LINE) {
				chat_broadcast(c, c->part, c->partlen);
				c->partlen = 0;
			}
			continue;
		}
		head = (size_t)(nl - p);
		if (c->partlen > 0) {
			/* Finish the kept line first: few bytes, rare. */
			const char *e = memchr(p, '\n', head);

			rest = (size_t)(e - p) + 1;
			if (c->partlen + rest <= MAX_LINE) {
				memcpy(c->part + c->partlen, p, rest);
				c->partlen += rest;
				p += rest;
				n -= rest;
				head -= rest;
			}
			chat_broadcast(c, c->part, c->partlen);
			c->partlen = 0;
			if (head == 0)
				continue;
		}
		chat_broadcast(c, p, head);
		p += head;
		n -= head;
	}
}

static void
on_connection(uv_stream_t *ls, int status)
{
	struct listener	*l = ls->data;
	struct client	*c;

	if (status < 0)
		return;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return;
	uv_tcp_init(loop, &c->tcp);
	c->tcp.data = c;
	c->kind = l->kind;
	if (uv_accept(ls, (uv_stream_t *)&c->tcp) != 0) {
		c->kind = K_ECHO;
		client_close(c);
		return;
	}
	(void)uv_tcp_nodelay(&c->tcp, 1);
	if (c->kind == K_CHAT) {
		c->next = room;
		if (room)
			room->prev = c;
		room = c;
		uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_chat_read);
	} else
		uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_echo_read);
}

static void
udp_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	(void)h;
	(void)hint;
	*buf = uv_buf_init(udpbuf, sizeof(udpbuf));
}

static int
udp_sane(ssize_t nread, const struct sockaddr *from)
{
	const struct sockaddr_in	*sin = (const struct sockaddr_in *)from;

	if (nread < 0 || from == NULL)
		return 0;
	/* Ports below 1024 are other servers; replying can make a loop. */
	if (from->sa_family == AF_INET && ntohs(sin->sin_port) < 1024)
		return 0;
	if (from->sa_family == AF_INET6 &&
	    ntohs(((const struct sockaddr_in6 *)from)->sin6_port) < 1024)
		return 0;
	return 1;
}

static void
on_udp_echo(uv_udp_t *u, ssize_t nread, const uv_buf_t *buf,
    const struct sockaddr *from, unsigned flags)
{
	uv_buf_t	b;

	(void)flags;
	if (!udp_sane(nread, from) || nread > MAX_REPLY)
		return;
	b = uv_buf_init(buf->base, (unsigned int)nread);
	(void)uv_udp_try_send(u, &b, 1, from);	/* full socket: dropped */
}

static void
on_udp_daytime(uv_udp_t *u, ssize_t nread, const uv_buf_t *buf,
    const struct sockaddr *from, unsigned flags)
{
	char		 fmt[MAX_REPLY + 1], out[MAX_REPLY + 1];
	struct tm	 tm;
	time_t		 now;
	size_t		 n, max;
	uv_buf_t	 b;

	(void)flags;
	if (!udp_sane(nread, from) || nread > MAX_REPLY)
		return;
	if (nread == 0)
		strcpy(fmt, "%Y-%m-%d %X");
	else {
		memcpy(fmt, buf->base, (size_t)nread);
		fmt[nread] = '\0';
	}
	now = time(NULL);
	localtime_r(&now, &tm);
	/* No amplification: the reply is at most 64 bytes longer. */
	max = (size_t)nread + REPLY_GROWTH;
	if (max > MAX_REPLY)
		max = MAX_REPLY;
	if ((n = strftime(out, max + 1, fmt, &tm)) == 0)
		return;
	b = uv_buf_init(out, (unsigned int)n);
	(void)uv_udp_try_send(u, &b, 1, from);
}

static void
on_signal(uv_signal_t *s, int signum)
{
	(void)s;
	(void)signum;
	uv_stop(loop);
}

static void
listen_tcp(int port, enum kind kind)
{
	struct listener		*l;
	struct sockaddr_storage	 ss;
	int			 rc;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		exit(1);
	if (uv_ip4_addr(bindaddr, port, (struct sockaddr_in *)&ss) != 0 &&
	    uv_ip6_addr(bindaddr, port, (struct sockaddr_in6 *)&ss) != 0) {
		fprintf(stderr, "refserver: bad address %s\n", bindaddr);
		exit(2);
	}
	l->kind = kind;
	uv_tcp_init(loop, &l->tcp);
	l->tcp.data = l;
	if ((rc = uv_tcp_bind(&l->tcp, (struct sockaddr *)&ss, 0)) != 0 ||
	    (rc = uv_listen((uv_stream_t *)&l->tcp, 511, on_connection)) != 0) {
		fprintf(stderr, "refserver: tcp %s:%d: %s\n", bindaddr, port,
		    uv_strerror(rc));
		exit(1);
	}
}

static void
listen_udp(int port, uv_udp_recv_cb cb)
{
	uv_udp_t		*u;
	struct sockaddr_storage	 ss;
	int			 rc;

	if ((u = calloc(1, sizeof(*u))) == NULL)
		exit(1);
	if (uv_ip4_addr(bindaddr, port, (struct sockaddr_in *)&ss) != 0 &&
	    uv_ip6_addr(bindaddr, port, (struct sockaddr_in6 *)&ss) != 0) {
		fprintf(stderr, "refserver: bad address %s\n", bindaddr);
		exit(2);
	}
	uv_udp_init_ex(loop, u, ss.ss_family | UV_UDP_RECVMMSG);
	if ((rc = uv_udp_bind(u, (struct sockaddr *)&ss, 0)) != 0 ||
	    (rc = uv_udp_recv_start(u, udp_alloc, cb)) != 0) {
		fprintf(stderr, "refserver: udp %s:%d: %s\n", bindaddr, port,
		    uv_strerror(rc));
		exit(1);
	}
}

static int
port_arg(const char *s)
{
	char	*end;
	long	 v = strtol(s, &end, 10);

	if (*end != '\0' || v < 1 || v > 65535)
		usage();
	return (int)v;
}

int
main(int argc, char *argv[])
{
	uv_signal_t	sint, sterm;
	int		ch, any = 0;

	signal(SIGPIPE, SIG_IGN);
	tzset();
	loop = uv_default_loop();
	/* Options are applied in order: -a before the ports it binds. */
	while ((ch = getopt(argc, argv, "a:c:e:u:y:")) != -1) {
		switch (ch) {
		case 'a':
			bindaddr = optarg;
			break;
		case 'c':
			listen_tcp(port_arg(optarg), K_CHAT);
			any = 1;
			break;
		case 'e':
			listen_tcp(port_arg(optarg), K_ECHO);
			any = 1;
			break;
		case 'u':
			listen_udp(port_arg(optarg), on_udp_echo);
			any = 1;
			break;
		case 'y':
			listen_udp(port_arg(optarg), on_udp_daytime);
			any = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || !any)
		usage();
	uv_signal_init(loop, &sint);
	uv_signal_init(loop, &sterm);
	uv_signal_start(&sint, on_signal, SIGINT);
	uv_signal_start(&sterm, on_signal, SIGTERM);
	fprintf(stderr, "refserver: ready\n");
	uv_run(loop, UV_RUN_DEFAULT);
	return 0;
}
