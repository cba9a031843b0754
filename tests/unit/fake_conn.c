/*
 * The recording fake of the handler ABI (see fake_conn.h).  It keeps every
 * byte a handler writes so that tests compare output exactly, models the
 * write queue just enough for back-pressure (pending bytes, max_queue), and
 * counts message references so that a test can assert every message was
 * freed.  Misuse a real sockd would not survive (a reference dropped twice)
 * aborts at once with a message, so that ASan and the tests point at it.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_conn.h"

struct buf {
	char	*data;
	size_t	 len, cap;
};

struct sockd_msg {
	int	 refs;
	size_t	 len;
	char	 data[];
};

struct fake_service {
	void		 *port_state;
	struct sockd_conn *conns;
	int		  own;		/* made by fake_conn_new() */
};

struct sockd_conn {
	struct fake_service *svc;
	struct sockd_conn *next;
	char		 peer[64];
	struct sockaddr_storage addr;
	void		*data;
	struct buf	 out;
	size_t		 pending, absorb, max_queue;
	int		 closed, after_close;
	struct sockd_msg **queued;	/* references held while "queued" */
	size_t		 nqueued, sends;
	const struct sockd_msg *last_msg;
};

struct sent {
	struct buf	 bytes;
	struct sockaddr_storage to;
};

struct sockd_dgram {
	void		*port_state;
	char		 peer[64];
	struct sockaddr_storage addr;
	size_t		 reply_max;
	size_t		 budget, spent;	/* all sends of this datagram */
	struct buf	 reply;
	int		 replies, refused, dropped;
	struct sent	*sent;
	size_t		 nsent;
};

struct sockd_opts {
	char		**kv;
	size_t		 n;
	int		 type_errors;
	const char	*read[32];	/* names looked up */
	size_t		 nread;
};

static long	 msg_live;
static int	 log_count;
static char	 log_last[1024];

static void *
xmalloc(size_t n)
{
	void	*p;

	if ((p = calloc(1, n ? n : 1)) == NULL) {
		fprintf(stderr, "fake_conn: out of memory\n");
		abort();
	}
	return p;
}

static void
buf_add(struct buf *b, const void *p, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		if ((b->data = realloc(b->data, b->cap)) == NULL)
			abort();
	}
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

int
fake_sockaddr(const char *s, struct sockaddr_storage *ss)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;
	char			 host[64];
	const char		*colon;
	size_t			 n;

	memset(ss, 0, sizeof(*ss));
	if (s[0] == '[') {
		if ((colon = strstr(s, "]:")) == NULL ||
		    (n = colon - s - 1) >= sizeof(host))
			return -1;
		memcpy(host, s + 1, n);
		host[n] = '\0';
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(atoi(colon + 2));
		return inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1 ?
		    0 : -1;
	}
	if ((colon = strrchr(s, ':')) == NULL ||
	    (n = colon - s) >= sizeof(host))
		return -1;
	memcpy(host, s, n);
	host[n] = '\0';
	sin->sin_family = AF_INET;
	sin->sin_port = htons(atoi(colon + 1));
	return inet_pton(AF_INET, host, &sin->sin_addr) == 1 ? 0 : -1;
}

struct sockaddr_storage
fake_addr(const char *s)
{
	struct sockaddr_storage	 ss;

	if (fake_sockaddr(s, &ss) == -1) {
		fprintf(stderr, "fake_conn: bad address %s\n", s);
		abort();
	}
	return ss;
}

struct fake_service *
fake_service_new(void *port_state)
{
	struct fake_service	*svc = xmalloc(sizeof(*svc));

	svc->port_state = port_state;
	return svc;
}

void
fake_service_free(struct fake_service *svc)
{
	if (svc->conns != NULL) {
		fprintf(stderr, "fake_conn: service freed with connections\n");
		abort();
	}
	free(svc);
}

struct sockd_conn *
fake_conn_new_in(struct fake_service *svc, const char *peer)
{
	struct sockd_conn	*c = xmalloc(sizeof(*c));
	static unsigned int	 port = 40000;

	if (svc == NULL) {
		svc = fake_service_new(NULL);
		svc->own = 1;
	}
	c->svc = svc;
	c->next = svc->conns;
	svc->conns = c;
	if (peer == NULL)
		snprintf(c->peer, sizeof(c->peer), "192.0.2.7:%u", port++);
	else
		snprintf(c->peer, sizeof(c->peer), "%s", peer);
	c->addr = fake_addr(c->peer);
	buf_add(&c->out, "", 0);
	return c;
}

struct sockd_conn *
fake_conn_new(void)
{
	return fake_conn_new_in(NULL, NULL);
}

static void
conn_unqueue(struct sockd_conn *c)
{
	size_t	 i;

	for (i = 0; i < c->nqueued; i++)
		sockd_msg_unref(c->queued[i]);
	free(c->queued);
	c->queued = NULL;
	c->nqueued = 0;
}

void
fake_conn_free(struct sockd_conn *c)
{
	struct sockd_conn	**pp;

	for (pp = &c->svc->conns; *pp != NULL; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	if (c->svc->own)
		fake_service_free(c->svc);
	conn_unqueue(c);
	free(c->out.data);
	free(c);
}

const char *
fake_conn_output(const struct sockd_conn *c)
{
	return c->out.data;
}

size_t
fake_conn_output_len(const struct sockd_conn *c)
{
	return c->out.len;
}

void
fake_conn_output_reset(struct sockd_conn *c)
{
	c->out.len = 0;
	c->out.data[0] = '\0';
}

int
fake_conn_closed(const struct sockd_conn *c)
{
	return c->closed;
}

int
fake_conn_writes_after_close(const struct sockd_conn *c)
{
	return c->after_close;
}

void
fake_conn_flush(struct sockd_conn *c)
{
	c->pending = 0;
	conn_unqueue(c);
}

void
fake_conn_set_absorb(struct sockd_conn *c, size_t n)
{
	c->absorb = n;
}

void
fake_conn_set_max_queue(struct sockd_conn *c, size_t n)
{
	c->max_queue = n;
}

size_t
fake_conn_sends(const struct sockd_conn *c)
{
	return c->sends;
}

const struct sockd_msg *
fake_conn_last_msg(const struct sockd_conn *c)
{
	return c->last_msg;
}

/* Accounts for len more bytes; -1 when the connection cannot take them. */
static int
conn_queue(struct sockd_conn *c, size_t len)
{
	size_t	 take;

	if (c->closed) {
		c->after_close++;
		return -1;
	}
	take = len < c->absorb ? len : c->absorb;
	c->pending += len - take;
	if (c->max_queue && c->pending > c->max_queue) {
		c->closed = 1;
		return -1;
	}
	return 0;
}

int
sockd_conn_write(struct sockd_conn *c, const void *p, size_t len)
{
	if (conn_queue(c, len) == -1)
		return -1;
	buf_add(&c->out, p, len);
	return 0;
}

size_t
sockd_conn_pending(const struct sockd_conn *c)
{
	return c->pending;
}

void
sockd_conn_close(struct sockd_conn *c)
{
	c->closed = 1;
}

void *
sockd_conn_data(const struct sockd_conn *c)
{
	return c->data;
}

void
sockd_conn_set_data(struct sockd_conn *c, void *data)
{
	c->data = data;
}

void *
sockd_conn_port_state(const struct sockd_conn *c)
{
	return c->svc->port_state;
}

const char *
sockd_conn_peer(const struct sockd_conn *c)
{
	return c->peer;
}

const struct sockaddr *
sockd_conn_peer_addr(const struct sockd_conn *c)
{
	return (const struct sockaddr *)&c->addr;
}

void
sockd_conn_foreach_peer(struct sockd_conn *c,
    void (*fn)(struct sockd_conn *, void *), void *arg)
{
	struct sockd_conn	*p, *next;

	for (p = c->svc->conns; p != NULL; p = next) {
		next = p->next;
		if (p != c && !p->closed)
			fn(p, arg);
	}
}

struct sockd_msg *
sockd_msg_new(const void *p, size_t len)
{
	struct sockd_msg	*m = xmalloc(sizeof(*m) + len + 1);

	m->refs = 1;
	m->len = len;
	if (len)
		memcpy(m->data, p, len);
	m->data[len] = '\0';
	msg_live++;
	return m;
}

struct sockd_msg *
sockd_msg_ref(struct sockd_msg *m)
{
	if (m->refs <= 0) {
		fprintf(stderr, "fake_conn: ref of a freed message\n");
		abort();
	}
	m->refs++;
	return m;
}

void
sockd_msg_unref(struct sockd_msg *m)
{
	if (m == NULL)
		return;
	if (m->refs <= 0) {
		fprintf(stderr, "fake_conn: unref of a freed message\n");
		abort();
	}
	if (--m->refs == 0) {
		msg_live--;
		free(m);
	}
}

const char *
sockd_msg_data(const struct sockd_msg *m)
{
	return m->data;
}

size_t
sockd_msg_len(const struct sockd_msg *m)
{
	return m->len;
}

int
sockd_conn_send(struct sockd_conn *c, struct sockd_msg *m)
{
	c->sends++;
	if (conn_queue(c, m->len) == -1)
		return -1;
	buf_add(&c->out, m->data, m->len);
	c->last_msg = m;
	/* Like sockd, hold a reference while the bytes are queued. */
	c->queued = realloc(c->queued, (c->nqueued + 1) * sizeof(*c->queued));
	if (c->queued == NULL)
		abort();
	c->queued[c->nqueued++] = sockd_msg_ref(m);
	return 0;
}

long
fake_msg_live(void)
{
	return msg_live;
}

int
fake_msg_refs(const struct sockd_msg *m)
{
	return m->refs;
}

struct sockd_dgram *
fake_dgram_new(void *port_state, const char *peer, size_t reply_max)
{
	struct sockd_dgram	*d = xmalloc(sizeof(*d));

	d->port_state = port_state;
	snprintf(d->peer, sizeof(d->peer), "%s",
	    peer != NULL ? peer : "192.0.2.1:40000");
	d->addr = fake_addr(d->peer);
	d->reply_max = reply_max;
	d->budget = reply_max;
	buf_add(&d->reply, "", 0);
	return d;
}

void
fake_dgram_free(struct sockd_dgram *d)
{
	size_t	 i;

	for (i = 0; i < d->nsent; i++)
		free(d->sent[i].bytes.data);
	free(d->sent);
	free(d->reply.data);
	free(d);
}

void
fake_dgram_set_budget(struct sockd_dgram *d, size_t budget)
{
	d->budget = budget;
}

size_t
fake_dgram_spent(const struct sockd_dgram *d)
{
	return d->spent;
}

int
sockd_dgram_reply(struct sockd_dgram *d, const void *p, size_t len)
{
	if (len > sockd_dgram_reply_max(d)) {
		d->refused++;
		return -1;
	}
	d->spent += len;
	d->reply.len = 0;
	buf_add(&d->reply, p, len);
	d->replies++;
	return 0;
}

size_t
sockd_dgram_reply_max(const struct sockd_dgram *d)
{
	if (d->budget == FAKE_UNLIMITED)
		return d->reply_max;
	return d->budget - d->spent < d->reply_max ? d->budget - d->spent :
	    d->reply_max;
}

int
sockd_dgram_send_to(struct sockd_dgram *d, const struct sockaddr *to,
    const void *p, size_t len)
{
	struct sent	*s;
	size_t		 salen;

	if (len > sockd_dgram_reply_max(d)) {
		d->refused++;
		return -1;
	}
	d->spent += len;
	d->sent = realloc(d->sent, (d->nsent + 1) * sizeof(*d->sent));
	if (d->sent == NULL)
		abort();
	s = &d->sent[d->nsent++];
	memset(s, 0, sizeof(*s));
	buf_add(&s->bytes, p, len);
	salen = to->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
	    sizeof(struct sockaddr_in);
	memcpy(&s->to, to, salen);
	return 0;
}

void
sockd_dgram_drop(struct sockd_dgram *d)
{
	d->dropped = 1;
}

void *
sockd_dgram_port_state(const struct sockd_dgram *d)
{
	return d->port_state;
}

const char *
sockd_dgram_peer(const struct sockd_dgram *d)
{
	return d->peer;
}

const struct sockaddr *
sockd_dgram_peer_addr(const struct sockd_dgram *d)
{
	return (const struct sockaddr *)&d->addr;
}

const char *
fake_dgram_reply_output(const struct sockd_dgram *d)
{
	return d->reply.data;
}

size_t
fake_dgram_reply_len(const struct sockd_dgram *d)
{
	return d->reply.len;
}

int
fake_dgram_replies(const struct sockd_dgram *d)
{
	return d->replies;
}

int
fake_dgram_refused(const struct sockd_dgram *d)
{
	return d->refused;
}

int
fake_dgram_dropped(const struct sockd_dgram *d)
{
	return d->dropped;
}

size_t
fake_dgram_sent_count(const struct sockd_dgram *d)
{
	return d->nsent;
}

const char *
fake_dgram_sent(const struct sockd_dgram *d, size_t i, size_t *len,
    const struct sockaddr **to)
{
	if (i >= d->nsent)
		return NULL;
	if (len != NULL)
		*len = d->sent[i].bytes.len;
	if (to != NULL)
		*to = (const struct sockaddr *)&d->sent[i].to;
	return d->sent[i].bytes.data;
}

struct sockd_opts *
fake_opts_new(const char *key, ...)
{
	struct sockd_opts	*o = xmalloc(sizeof(*o));
	va_list			 ap;
	const char		*k, *v;

	va_start(ap, key);
	for (k = key; k != NULL; k = va_arg(ap, const char *)) {
		v = va_arg(ap, const char *);
		o->kv = realloc(o->kv, (o->n + 2) * sizeof(*o->kv));
		if (o->kv == NULL || (o->kv[o->n] = strdup(k)) == NULL ||
		    (o->kv[o->n + 1] = strdup(v)) == NULL)
			abort();
		o->n += 2;
	}
	va_end(ap);
	return o;
}

void
fake_opts_free(struct sockd_opts *o)
{
	size_t	 i;

	if (o == NULL)
		return;
	for (i = 0; i < o->n; i++)
		free(o->kv[i]);
	free(o->kv);
	free(o);
}

int
fake_opts_type_errors(const struct sockd_opts *o)
{
	return o->type_errors;
}

const char *
fake_opts_undeclared(const struct sockd_opts *o, const char *const *names)
{
	size_t	 i, j;

	for (i = 0; i < o->nread; i++) {
		for (j = 0; names != NULL && names[j] != NULL; j++)
			if (strcmp(o->read[i], names[j]) == 0)
				break;
		if (names == NULL || names[j] == NULL)
			return o->read[i];
	}
	return NULL;
}

/* The value of name, or NULL; remembers that the handler asked for it. */
static const char *
opts_find(const struct sockd_opts *co, const char *name)
{
	/* The ABI passes const options; the fake records reads anyway. */
	struct sockd_opts	*o = (struct sockd_opts *)(uintptr_t)co;
	size_t			 i;

	if (o == NULL)
		return NULL;
	for (i = 0; i < o->nread; i++)
		if (strcmp(o->read[i], name) == 0)
			break;
	if (i == o->nread && o->nread < sizeof(o->read) / sizeof(o->read[0]))
		o->read[o->nread++] = name;
	for (i = 0; i + 1 < o->n; i += 2)
		if (strcmp(o->kv[i], name) == 0)
			return o->kv[i + 1];
	return NULL;
}

const char *
sockd_opt_string(const struct sockd_opts *o, const char *name,
    const char *def)
{
	const char	*v = opts_find(o, name);

	return v != NULL ? v : def;
}

long long
sockd_opt_int(const struct sockd_opts *co, const char *name, long long def)
{
	struct sockd_opts	*o = (struct sockd_opts *)(uintptr_t)co;
	const char		*v = opts_find(o, name);
	char			*end;
	long long		 n;

	if (v == NULL)
		return def;
	errno = 0;
	n = strtoll(v, &end, 10);
	if (*v == '\0' || *end != '\0' || errno != 0) {
		o->type_errors++;
		return def;
	}
	return n;
}

int
sockd_opt_bool(const struct sockd_opts *co, const char *name, int def)
{
	struct sockd_opts	*o = (struct sockd_opts *)(uintptr_t)co;
	const char		*v = opts_find(o, name);

	if (v == NULL)
		return def;
	if (strcmp(v, "true") == 0)
		return 1;
	if (strcmp(v, "false") == 0)
		return 0;
	o->type_errors++;
	return def;
}

static void log_v(const char *, const char *, va_list)
		    __attribute__((format(printf, 2, 0)));

static void
log_v(const char *prefix, const char *fmt, va_list ap)
{
	int	 n;

	n = snprintf(log_last, sizeof(log_last), "%s", prefix);
	if (n < 0 || (size_t)n >= sizeof(log_last))
		n = 0;
	vsnprintf(log_last + n, sizeof(log_last) - n, fmt, ap);
	log_count++;
	if (getenv("FAKE_LOG") != NULL)
		fprintf(stderr, "log: %s\n", log_last);
}

void
sockd_log(int pri, const char *fmt, ...)
{
	va_list	 ap;

	(void)pri;
	va_start(ap, fmt);
	log_v("", fmt, ap);
	va_end(ap);
}

void
sockd_conn_log(const struct sockd_conn *c, int pri, const char *fmt, ...)
{
	char	 prefix[80];
	va_list	 ap;

	(void)pri;
	snprintf(prefix, sizeof(prefix), "%s: ", c->peer);
	va_start(ap, fmt);
	log_v(prefix, fmt, ap);
	va_end(ap);
}

int
fake_log_count(void)
{
	return log_count;
}

const char *
fake_log_last(void)
{
	return log_last;
}

/* No bus here: a room stays on its host. */
int
sockd_bus_publish(const char *channel, const void *p, size_t len)
{
	return -1;
}

int
sockd_bus_subscribe(const char *channel, void (*fn)(void *, const void *,
    size_t), void *arg)
{
	return -1;
}

void
sockd_bus_unsubscribe(const char *channel, void (*fn)(void *, const void *,
    size_t), void *arg)
{
}

int
sockd_bus_connected(void)
{
	return 0;
}

int
sockd_bus_watch(void (*fn)(void *, int), void *arg)
{
	return -1;
}

void
sockd_bus_unwatch(void (*fn)(void *, int), void *arg)
{
}

int
sockd_bus_push(const char *key, const void *p, size_t len, size_t max,
    int ttl)
{
	return -1;
}

int
sockd_bus_range(const char *key, size_t max, void (*fn)(void *, int,
    const struct sockd_bus_item *, size_t), void *arg)
{
	return -1;
}

int
sockd_bus_members(const char *key, void (*fn)(void *, int,
    const struct sockd_bus_item *, size_t), void *arg)
{
	return -1;
}

void
sockd_bus_cancel(void *arg)
{
}

struct sockd_bus_lease *
sockd_bus_claim(const char *key, const void *value, size_t len, int ttl,
    void (*fn)(void *, int), void *arg)
{
	return NULL;
}

struct sockd_bus_lease *
sockd_bus_member(const char *key, const void *member, size_t len, int ttl)
{
	return NULL;
}

void
sockd_bus_release(struct sockd_bus_lease *l)
{
}
