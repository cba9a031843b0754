/*
 * The bus: Redis (or Valkey) publish/subscribe for handlers, so that a
 * service can span several sockd hosts (chat's "room").  It lives on the
 * main loop, through hiredis' asynchronous API and its libuv adapter, and
 * handlers reach it through the ABI (sockd_bus_publish, _subscribe,
 * _unsubscribe), from that loop's thread only: SOCKD_ONE_LOOP services run
 * there, and no lock is needed.
 *
 * Two connections, since a subscribing one can do nothing else: "pub"
 * publishes, "sub" holds every channel some handler subscribed to, each
 * channel once however many subscribers share it, and hands every message
 * to each of them.  Both are made again, with every subscription, after
 * either is lost, after a backoff that doubles from BUS_BACKOFF_MIN_MS to
 * BUS_BACKOFF_MAX_MS; one log line says the bus is lost, one that it is
 * back.  While it is down a publish is dropped and counted: messages sent
 * meanwhile reach only this host.  A slow Redis costs at most
 * BUS_QUEUE_MAX commands or BUS_QUEUE_BYTES bytes waiting for their
 * answer; beyond that a publish is dropped and counted too, so sockd's
 * memory never grows with Redis' delay.  The counters are atomics for the
 * metrics handler, which may run on another worker.
 *
 * State kept in Redis (ABI 1.3) goes over "pub" too.  Items pushed to a
 * list wait for the end of the loop turn in a batch per list (only its
 * last max: older ones would be trimmed anyway), then go as one RPUSH,
 * LTRIM and EXPIRE, so a burst of lines costs three commands, not three
 * per line, and leaves the queue to PUBLISH.  A one-shot request
 * (list push, list range, live members) is a bus_req of one to three
 * pipelined commands: its callback comes once, with the last command's
 * answer, or with -1 when one failed, the connection was lost, or the
 * bus was down or full when asked (then from the "soon" timer, never from
 * inside the call).  sockd_bus_cancel(arg) clears the callbacks of arg's
 * requests still out; the commands themselves go on.  A lease (a key
 * claimed with SET NX, or a member of a sorted set scored by its expiry
 * time) is the bus's to keep: refreshed every third of its ttl from the
 * tick, claimed again whenever the bus comes back, and deleted (when held)
 * on release, so a handler needs no timer; a host that dies stops
 * refreshing and its leases expire within their ttl.  A claim is refreshed
 * with SET NX GET: absent, it is ours again; holding our value, an EXPIRE
 * follows; another value means another host has it, and the holder is
 * told.  Leases and requests count in the same in-flight bound as PUBLISH.
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>
#include <hiredis/async.h>
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#include <hiredis/adapters/libuv.h>
#pragma GCC diagnostic pop

#include <sockd/handler.h>

#include "bus.h"
#include "log.h"
#include "util.h"

struct bus_sub {
	char		*channel;
	void		(*fn)(void *, const void *, size_t);
	void		*arg;
	struct bus_sub	*next;
};

enum bus_req_kind { REQ_PUSH, REQ_RANGE, REQ_MEMBERS, REQ_CLAIM, REQ_ADD,
	REQ_DEL };

/* One request's commands, out on "pub" (or failed, waiting for "soon"). */
struct bus_req {
	enum bus_req_kind	 kind;
	void	(*fn)(void *, int, const struct sockd_bus_item *, size_t);
	void			*arg;
	struct sockd_bus_lease	*lease;	/* a lease's attempt */
	int			 pending; /* commands not answered */
	int			 failed;
	int			 stage;	/* CLAIM: 1 after EXPIRE */
	size_t			 bytes;	/* in inflight_bytes */
	struct bus_req		*prev, *next; /* in reqs or failed */
};

enum { LEASE_CLAIM, LEASE_MEMBER };

struct sockd_bus_lease {
	int			 kind;
	char			*key;
	char			*val;
	size_t			 len;
	int			 ttl;		/* seconds */
	void			(*fn)(void *, int);
	void			*arg;
	int			 told;		/* the first outcome */
	int			 tell_fail; /* -1 to tell, from "soon" */
	int			 held, lost, released;
	struct bus_req		*req;		/* the attempt out */
	uint64_t		 refresh_at;	/* uv_now() ms */
	struct sockd_bus_lease	*prev, *next;
};

/* The items pushed to one list since the last loop turn. */
struct bus_batch {
	char			*key;
	size_t			 max;	/* items kept, a ring */
	int			 ttl;
	char			**item;
	size_t			*len;
	size_t			 head, n, bytes;
	struct bus_batch	*next;
};

struct bus_watch {
	void			(*fn)(void *, int);
	void			*arg;
	struct bus_watch	*next;
};

static struct {
	uv_loop_t		*loop;
	uv_thread_t		 thread;
	char			*url;
	struct bus_addr		 addr;
	redisAsyncContext	*pub, *sub;
	int			 pub_up, sub_up;
	int			 was_up;	/* logged as connected */
	int			 told;		/* logged as unreachable */
	int			 told_refused; /* logged an error reply */
	int			 closing;
	uv_timer_t		 retry;
	uv_timer_t		 tick;	/* deadlines, PING, leases */
	uv_timer_t		 soon;	/* failed requests' callbacks */
	struct bus_req		*reqs, *failed;
	struct sockd_bus_lease	*leases;
	struct bus_watch	*watches;
	struct bus_batch	*batches;
	uint64_t		 connect_at, ping_at;	/* 0: no PING out */
	uint64_t		 backoff_ms;
	struct bus_sub		*subs;
	size_t			 inflight, inflight_bytes;
	atomic_int		 configured, connected;
	atomic_ullong		 dropped, published, received;
} bus;

static void	bus_connect(void);
static void	bus_fail(const char *);
static void	bus_watchers(int);
static void	batch_free(struct bus_batch *);
static void	bus_leases_renew(int);

const char *
bus_url(void)
{
	return bus.url;
}

int
bus_stats(int *connected, unsigned long long *dropped,
    unsigned long long *published, unsigned long long *received)
{
	*connected = atomic_load(&bus.connected);
	*dropped = atomic_load(&bus.dropped);
	*published = atomic_load(&bus.published);
	*received = atomic_load(&bus.received);
	return atomic_load(&bus.configured) ? 0 : -1;
}

/* Frees what of pub and sub is left, without a callback's bookkeeping:
 * their pointers are cleared first. */
static void
bus_drop_contexts(void)
{
	redisAsyncContext *ac;

	bus.pub_up = bus.sub_up = 0;
	if ((ac = bus.pub) != NULL) {
		bus.pub = NULL;
		redisAsyncFree(ac);
	}
	if ((ac = bus.sub) != NULL) {
		bus.sub = NULL;
		redisAsyncFree(ac);
	}
}

static void
on_retry(uv_timer_t *t)
{
	bus_connect();
}

/* One of the connections failed or went away (why): log it once, drop the
 * other, try again after the backoff. */
static void
bus_fail(const char *why)
{
	atomic_store(&bus.connected, 0);
	if (bus.closing)
		return;
	if (bus.was_up) {
		log_warnx("bus %s: lost: %s; rooms go on locally, "
		    "reconnecting", bus.url, why);
		bus.was_up = 0;
		bus.told = 1;
		bus_watchers(0);
	} else if (!bus.told) {
		log_warnx("bus %s: cannot connect: %s; rooms go on locally, "
		    "retrying", bus.url, why);
		bus.told = 1;
	}
	bus_drop_contexts();
	if (!uv_is_active((uv_handle_t *)&bus.retry))
		(void)uv_timer_start(&bus.retry, on_retry, bus.backoff_ms, 0);
	bus.backoff_ms *= 2;
	if (bus.backoff_ms > BUS_BACKOFF_MAX_MS)
		bus.backoff_ms = BUS_BACKOFF_MAX_MS;
}

static void
bus_check_up(void)
{
	if (!bus.pub_up || !bus.sub_up)
		return;
	atomic_store(&bus.connected, 1);
	bus.backoff_ms = BUS_BACKOFF_MIN_MS;
	if (bus.told)
		log_info("bus %s: connected again; rooms span hosts again",
		    bus.url);
	else
		log_info("bus %s: connected", bus.url);
	bus.was_up = 1;
	bus.told = 0;
	bus_leases_renew(1);
	bus_watchers(1);
}

static void
on_connect(const redisAsyncContext *ac, int status)
{
	if (ac != bus.pub && ac != bus.sub)
		return;
	if (status != REDIS_OK) {
		/* hiredis frees ac after this callback. */
		if (ac == bus.pub)
			bus.pub = NULL;
		else
			bus.sub = NULL;
		bus_fail(ac->errstr);
		return;
	}
	if (ac == bus.pub)
		bus.pub_up = 1;
	else
		bus.sub_up = 1;
	bus_check_up();
}

static void
on_disconnect(const redisAsyncContext *ac, int status)
{
	if (ac != bus.pub && ac != bus.sub)
		return;
	if (ac == bus.pub)
		bus.pub = NULL;
	else
		bus.sub = NULL;
	bus_fail(ac->err != 0 ? ac->errstr : "connection closed");
}

static void
on_auth(redisAsyncContext *ac, void *r, void *arg)
{
	redisReply *reply = r;

	if (reply != NULL && reply->type == REDIS_REPLY_ERROR) {
		/* Every retry would fail the same way: say it each time. */
		log_warnx("bus %s: AUTH: %s", bus.url, reply->str);
		redisAsyncDisconnect(ac);
	}
}

static void
on_message(redisAsyncContext *ac, void *r, void *arg)
{
	redisReply *reply = r, *ch, *data;
	struct bus_sub *s, *next;

	if (reply == NULL || reply->type != REDIS_REPLY_ARRAY ||
	    reply->elements != 3 || reply->element[0]->type !=
	    REDIS_REPLY_STRING || strcmp(reply->element[0]->str,
	    "message") != 0)
		return;
	ch = reply->element[1];
	data = reply->element[2];
	if (ch->type != REDIS_REPLY_STRING || data->type !=
	    REDIS_REPLY_STRING)
		return;
	atomic_fetch_add(&bus.received, 1);
	for (s = bus.subs; s != NULL; s = next) {
		next = s->next;
		if (strlen(s->channel) == ch->len &&
		    memcmp(s->channel, ch->str, ch->len) == 0)
			s->fn(s->arg, data->str, data->len);
	}
}

static void
on_published(redisAsyncContext *ac, void *r, void *arg)
{
	size_t len = (size_t)(uintptr_t)arg;

	bus.inflight--;
	bus.inflight_bytes -= len;
}

static void
on_pong(redisAsyncContext *ac, void *r, void *arg)
{
	if (r != NULL && ac == bus.pub)
		bus.ping_at = 0;
}

/*
 * Once a second: a connection not made within BUS_CONNECT_MS, or a PING
 * not answered within BUS_PING_MS, is a lost bus.  hiredis' libuv adapter
 * does not report a socket error (a refused connection, a reset), and a
 * Redis that stopped answering says nothing either.
 */
static void
on_tick(uv_timer_t *t)
{
	const char *argv[1] = { "PING" };
	uint64_t now = uv_now(bus.loop);

	if (bus.pub == NULL && bus.sub == NULL)
		return;		/* the retry timer runs */
	if (bus.pub_up && bus.sub_up)
		bus_leases_renew(0);
	if (!bus.pub_up || !bus.sub_up) {
		if (now - bus.connect_at >= BUS_CONNECT_MS)
			bus_fail("no connection within the deadline");
		return;
	}
	if (bus.ping_at != 0) {
		if (now - bus.ping_at >= BUS_PING_MS)
			bus_fail("no answer to PING within the deadline");
		return;
	}
	if (redisAsyncCommandArgv(bus.pub, on_pong, NULL, 1, argv, NULL) ==
	    REDIS_OK)
		bus.ping_at = now;
}

static void
bus_send_subscribe(const char *channel)
{
	const char *argv[2] = { "SUBSCRIBE", channel };

	(void)redisAsyncCommandArgv(bus.sub, on_message, NULL, 2, argv,
	    NULL);
}

/* Whether an earlier subscription than s has its channel. */
static int
bus_channel_seen(const struct bus_sub *s, const char *channel)
{
	const struct bus_sub *t;

	for (t = bus.subs; t != s; t = t->next)
		if (strcmp(t->channel, channel) == 0)
			return 1;
	return 0;
}

static redisAsyncContext *
bus_context(void)
{
	redisAsyncContext *ac;
	const char *argv[2] = { "AUTH", bus.addr.password };

	if (bus.addr.path != NULL)
		ac = redisAsyncConnectUnix(bus.addr.path);
	else
		ac = redisAsyncConnect(bus.addr.host, bus.addr.port);
	if (ac == NULL)
		return NULL;
	if (ac->err != 0) {
		if (!bus.told)
			log_warnx("bus %s: %s", bus.url, ac->errstr);
		bus.told = 1;
		redisAsyncFree(ac);
		return NULL;
	}
	if (redisLibuvAttach(ac, bus.loop) != REDIS_OK) {
		redisAsyncFree(ac);
		return NULL;
	}
	(void)redisAsyncSetConnectCallback(ac, on_connect);
	(void)redisAsyncSetDisconnectCallback(ac, on_disconnect);
	if (bus.addr.password != NULL)
		(void)redisAsyncCommandArgv(ac, on_auth, NULL, 2, argv, NULL);
	return ac;
}

static void
bus_connect(void)
{
	struct bus_sub *s;

	if (bus.closing)
		return;
	bus.connect_at = uv_now(bus.loop);
	bus.ping_at = 0;
	if ((bus.pub = bus_context()) == NULL ||
	    (bus.sub = bus_context()) == NULL) {
		bus_fail("cannot make a connection");
		return;
	}
	for (s = bus.subs; s != NULL; s = s->next)
		if (!bus_channel_seen(s, s->channel))
			bus_send_subscribe(s->channel);
}

void
bus_open(uv_loop_t *loop, const char *url, const char *password)
{
	const char *why;

	if ((why = bus_addr_parse(url, &bus.addr)) != NULL) {
		log_warnx("bus %s: %s", url, why);	/* checked already */
		return;
	}
	if (password != NULL) {
		free(bus.addr.password);
		bus.addr.password = xstrdup(password);
	}
	bus.loop = loop;
	bus.thread = uv_thread_self();
	bus.url = xstrdup(url);
	bus.closing = 0;
	bus.backoff_ms = BUS_BACKOFF_MIN_MS;
	(void)uv_timer_init(loop, &bus.retry);
	(void)uv_timer_init(loop, &bus.tick);
	(void)uv_timer_init(loop, &bus.soon);
	(void)uv_timer_start(&bus.tick, on_tick, 1000, 1000);
	atomic_store(&bus.configured, 1);
	bus_connect();
}

void
bus_close(void)
{
	struct bus_req		*r;
	struct sockd_bus_lease	*l;
	struct bus_batch	*b;

	if (bus.url == NULL || bus.closing)
		return;
	bus.closing = 1;
	/* Shutting down: the handlers hear of nothing more. */
	for (r = bus.reqs; r != NULL; r = r->next)
		r->fn = NULL;
	bus_drop_contexts();
	while ((r = bus.failed) != NULL) {
		bus.failed = r->next;
		free(r);
	}
	while ((b = bus.batches) != NULL) {
		bus.batches = b->next;
		batch_free(b);
	}
	for (l = bus.leases; l != NULL; l = l->next)
		l->req = NULL;
	atomic_store(&bus.connected, 0);
	uv_close((uv_handle_t *)&bus.retry, NULL);
	uv_close((uv_handle_t *)&bus.tick, NULL);
	uv_close((uv_handle_t *)&bus.soon, NULL);
	bus_addr_clear(&bus.addr);
	free(bus.url);
	bus.url = NULL;
}

/* Whether the caller may use the bus now: one is open, and this is its
 * loop's thread. */
static int
bus_usable(void)
{
	uv_thread_t self = uv_thread_self();

	return bus.url != NULL && uv_thread_equal(&self, &bus.thread);
}

int
sockd_bus_publish(const char *channel, const void *p, size_t len)
{
	const char *argv[3] = { "PUBLISH", channel, p };
	size_t argvlen[3] = { 7, strlen(channel), len };

	if (!bus_usable())
		return -1;
	if (!bus.pub_up || !bus.sub_up || bus.inflight >= BUS_QUEUE_MAX ||
	    bus.inflight_bytes + len > BUS_QUEUE_BYTES ||
	    redisAsyncCommandArgv(bus.pub, on_published, (void *)(uintptr_t)
	    len, 3, argv, argvlen) != REDIS_OK) {
		atomic_fetch_add(&bus.dropped, 1);
		return -1;
	}
	bus.inflight++;
	bus.inflight_bytes += len;
	atomic_fetch_add(&bus.published, 1);
	return 0;
}

int
sockd_bus_subscribe(const char *channel, void (*fn)(void *, const void *,
    size_t), void *arg)
{
	struct bus_sub *s, **tail;

	if (!bus_usable() || fn == NULL)
		return -1;
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->channel = strdup(channel)) == NULL) {
		free(s);
		return -1;
	}
	s->fn = fn;
	s->arg = arg;
	for (tail = &bus.subs; *tail != NULL; tail = &(*tail)->next)
		;
	*tail = s;
	if (bus.sub != NULL && !bus_channel_seen(s, channel))
		bus_send_subscribe(channel);
	return 0;
}

void
sockd_bus_unsubscribe(const char *channel, void (*fn)(void *, const void *,
    size_t), void *arg)
{
	struct bus_sub **pp, *s, *t;
	const char *argv[2] = { "UNSUBSCRIBE", channel };

	for (pp = &bus.subs; (s = *pp) != NULL; pp = &s->next)
		if (s->fn == fn && s->arg == arg &&
		    strcmp(s->channel, channel) == 0)
			break;
	if (s == NULL)
		return;
	*pp = s->next;
	free(s->channel);
	free(s);
	for (t = bus.subs; t != NULL; t = t->next)
		if (strcmp(t->channel, channel) == 0)
			return;
	if (bus.sub_up && bus.sub != NULL)
		(void)redisAsyncCommandArgv(bus.sub, NULL, NULL, 2, argv,
		    NULL);
}

/* Whether the bus can take ncmds more commands of bytes now. */
static int
bus_room_for(int ncmds, size_t bytes)
{
	return bus.pub_up && bus.sub_up && !bus.closing &&
	    bus.inflight + ncmds <= BUS_QUEUE_MAX &&
	    bus.inflight_bytes + bytes <= BUS_QUEUE_BYTES;
}

static void
bus_watchers(int up)
{
	struct bus_watch	*w, *next;

	for (w = bus.watches; w != NULL; w = next) {
		next = w->next;
		w->fn(w->arg, up);
	}
}

int
sockd_bus_connected(void)
{
	return bus_usable() && bus.pub_up && bus.sub_up;
}

int
sockd_bus_watch(void (*fn)(void *, int), void *arg)
{
	struct bus_watch	*w;

	if (!bus_usable() || fn == NULL || (w = calloc(1, sizeof(*w))) ==
	    NULL)
		return -1;
	w->fn = fn;
	w->arg = arg;
	w->next = bus.watches;
	bus.watches = w;
	return 0;
}

void
sockd_bus_unwatch(void (*fn)(void *, int), void *arg)
{
	struct bus_watch	**pp, *w;

	for (pp = &bus.watches; (w = *pp) != NULL; pp = &w->next)
		if (w->fn == fn && w->arg == arg) {
			*pp = w->next;
			free(w);
			return;
		}
}

static void
req_unlink(struct bus_req *r, struct bus_req **head)
{
	if (r->prev != NULL)
		r->prev->next = r->next;
	else
		*head = r->next;
	if (r->next != NULL)
		r->next->prev = r->prev;
	r->prev = r->next = NULL;
}

static void
req_link(struct bus_req *r, struct bus_req **head)
{
	r->prev = NULL;
	if ((r->next = *head) != NULL)
		r->next->prev = r;
	*head = r;
}

static void	lease_done(struct sockd_bus_lease *, int);
static void	bus_flush_batches(void);

/* The lists' batches of this turn; every failed request's callback, and
 * every lease's first failure, out of the call that caused them. */
static void
on_soon(uv_timer_t *t)
{
	struct bus_req		*r;
	struct sockd_bus_lease	*l;

	bus_flush_batches();
	while ((r = bus.failed) != NULL) {
		req_unlink(r, &bus.failed);
		if (r->fn != NULL)
			r->fn(r->arg, -1, NULL, 0);
		free(r);
	}
again:
	/* A callback may release or make any lease: start over after it. */
	for (l = bus.leases; l != NULL; l = l->next)
		if (l->tell_fail) {
			l->tell_fail = 0;
			lease_done(l, -1);
			goto again;
		}
}

static void
bus_soon(void)
{
	if (!bus.closing && !uv_is_active((uv_handle_t *)&bus.soon))
		(void)uv_timer_start(&bus.soon, on_soon, 0, 0);
}

static void	on_reply(redisAsyncContext *, void *, void *);

/* Sends argv[0..argc) for r; counts it.  -1 when hiredis refuses it. */
static int
req_send(struct bus_req *r, int argc, const char **argv,
    const size_t *argvlen)
{
	size_t	 i, bytes = 0;

	for (i = 0; i < (size_t)argc; i++)
		bytes += argvlen[i];
	if (redisAsyncCommandArgv(bus.pub, on_reply, r, argc, argv,
	    argvlen) != REDIS_OK)
		return -1;
	r->pending++;
	r->bytes += bytes;
	bus.inflight++;
	bus.inflight_bytes += bytes;
	return 0;
}

/* A new request of kind for fn(arg), on the list of those out. */
static struct bus_req *
req_new(enum bus_req_kind kind, void (*fn)(void *, int,
    const struct sockd_bus_item *, size_t), void *arg)
{
	struct bus_req	*r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->kind = kind;
	r->fn = fn;
	r->arg = arg;
	req_link(r, &bus.reqs);
	return r;
}

/* r could not go out at all: its callback comes from "soon". */
static void
req_refuse(struct bus_req *r)
{
	atomic_fetch_add(&bus.dropped, 1);
	req_unlink(r, &bus.reqs);
	if (r->fn == NULL) {
		free(r);
		return;
	}
	req_link(r, &bus.failed);
	bus_soon();
}

static uint64_t
wall_ms(void)
{
	struct timespec	 ts;

	/* Members' scores are read by every host: the wall clock. */
	(void)clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void	lease_attempt(struct sockd_bus_lease *);
static void	lease_free(struct sockd_bus_lease *);

/* The last answer of a lease's attempt: whether it holds the lease. */
static void
lease_answer(struct bus_req *r, redisReply *reply)
{
	struct sockd_bus_lease	*l = r->lease;
	char			 ttl[24];
	const char		*argv[3] = { "EXPIRE", l->key, ttl };
	size_t			 argvlen[3];

	if (r->failed) {
		l->req = NULL;
		lease_done(l, -1);
		return;
	}
	if (r->kind == REQ_CLAIM && r->stage == 0 &&
	    reply->type == REDIS_REPLY_STRING) {
		if (reply->len != l->len || memcmp(reply->str, l->val,
		    l->len) != 0) {
			l->req = NULL;
			lease_done(l, 0);
			return;
		}
		/* Ours already: only its expiry is new. */
		snprintf(ttl, sizeof(ttl), "%d", l->ttl);
		argvlen[0] = 6;
		argvlen[1] = strlen(l->key);
		argvlen[2] = strlen(ttl);
		r->stage = 1;
		if (!l->released && bus_room_for(1, argvlen[1]) &&
		    req_send(r, 3, argv, argvlen) == 0) {
			req_link(r, &bus.reqs);
			l->req = r;
			return;	/* r lives on */
		}
	}
	l->req = NULL;
	lease_done(l, 1);
}

static void
on_reply(redisAsyncContext *ac, void *rep, void *arg)
{
	redisReply		*reply = rep;
	struct bus_req		*r = arg;
	struct sockd_bus_item	*items = NULL;
	size_t			 i, n = 0;

	bus.inflight--;
	if (reply != NULL && reply->type == REDIS_REPLY_ERROR &&
	    !bus.told_refused++)
		/* Once: a Redis older than 7 refuses SET NX GET each time. */
		log_warnx("bus %s: Redis refused a command: %s", bus.url,
		    reply->str);
	if (reply == NULL || reply->type == REDIS_REPLY_ERROR)
		r->failed = 1;
	if (--r->pending > 0)
		return;
	bus.inflight_bytes -= r->bytes;
	r->bytes = 0;
	req_unlink(r, &bus.reqs);
	if (r->lease != NULL) {
		lease_answer(r, reply);
		if (r->pending > 0)
			return;
	} else if (r->fn != NULL && !bus.closing) {
		if (!r->failed && reply->type == REDIS_REPLY_ARRAY) {
			n = reply->elements;
			if (n > 0 && (items = calloc(n, sizeof(*items))) ==
			    NULL)
				r->failed = 1;
			for (i = 0; items != NULL && i < n; i++) {
				if (reply->element[i]->type !=
				    REDIS_REPLY_STRING)
					continue;
				items[i].data = reply->element[i]->str;
				items[i].len = reply->element[i]->len;
			}
		}
		if (r->failed)
			r->fn(r->arg, -1, NULL, 0);
		else
			r->fn(r->arg, 0, items, items != NULL ? n : 0);
		free(items);
	}
	free(r);
}

/* Frees b, and what it holds. */
static void
batch_free(struct bus_batch *b)
{
	size_t	 i;

	for (i = 0; i < b->n; i++)
		free(b->item[(b->head + i) % b->max]);
	free(b->item);
	free(b->len);
	free(b->key);
	free(b);
}

/* Sends each list's batch as one RPUSH of its items, then LTRIM and
 * EXPIRE: three commands per list and loop turn, however many lines. */
static void
bus_flush_batches(void)
{
	struct bus_batch	*b;
	struct bus_req		*r;
	const char		**argv;
	size_t			*argvlen, i, klen;
	char			 lo[24], t[24];
	const char		*a2[4] = { "LTRIM", NULL, lo, "-1" };
	const char		*a3[3] = { "EXPIRE", NULL, t };
	size_t			 l2[4], l3[3];

	while ((b = bus.batches) != NULL) {
		bus.batches = b->next;
		klen = strlen(b->key);
		argv = calloc(b->n + 2, sizeof(*argv));
		argvlen = calloc(b->n + 2, sizeof(*argvlen));
		r = NULL;
		if (argv == NULL || argvlen == NULL || !bus_room_for(3,
		    b->bytes + 3 * klen) || (r = req_new(REQ_PUSH, NULL,
		    NULL)) == NULL) {
			atomic_fetch_add(&bus.dropped, 1);
			goto next;
		}
		argv[0] = "RPUSH", argvlen[0] = 5;
		argv[1] = b->key, argvlen[1] = klen;
		for (i = 0; i < b->n; i++) {
			argv[i + 2] = b->item[(b->head + i) % b->max];
			argvlen[i + 2] = b->len[(b->head + i) % b->max];
		}
		snprintf(lo, sizeof(lo), "-%zu", b->max);
		snprintf(t, sizeof(t), "%d", b->ttl);
		a2[1] = a3[1] = b->key;
		l2[0] = 5, l2[1] = klen, l2[2] = strlen(lo), l2[3] = 2;
		l3[0] = 6, l3[1] = klen, l3[2] = strlen(t);
		if (req_send(r, (int)b->n + 2, argv, argvlen) == -1) {
			req_refuse(r);
			goto next;
		}
		/* Pipelined behind the RPUSH: nothing can come between. */
		(void)req_send(r, 4, a2, l2);
		(void)req_send(r, 3, a3, l3);
next:
		free(argv);
		free(argvlen);
		batch_free(b);
	}
}

int
sockd_bus_push(const char *key, const void *p, size_t len, size_t max,
    int ttl)
{
	struct bus_batch	*b;
	char			*copy;
	size_t			 i;

	if (!bus_usable() || max == 0 || max > BUS_BATCH_MAX || ttl < 1)
		return -1;
	if (!bus.pub_up || !bus.sub_up || len > BUS_QUEUE_BYTES / 4) {
		atomic_fetch_add(&bus.dropped, 1);
		return -1;
	}
	for (b = bus.batches; b != NULL; b = b->next)
		if (strcmp(b->key, key) == 0)
			break;
	if (b == NULL) {
		if ((b = calloc(1, sizeof(*b))) == NULL ||
		    (b->key = strdup(key)) == NULL ||
		    (b->item = calloc(max, sizeof(*b->item))) == NULL ||
		    (b->len = calloc(max, sizeof(*b->len))) == NULL) {
			if (b != NULL) {
				free(b->item);
				free(b->key);
				free(b);
			}
			return -1;
		}
		b->max = max;
		b->next = bus.batches;
		bus.batches = b;
	}
	b->ttl = ttl;
	if ((copy = malloc(len > 0 ? len : 1)) == NULL)
		return -1;
	memcpy(copy, p, len);
	/* Only the last max items can stay in the list: older ones of
	 * this turn need not go at all. */
	while (b->n > 0 && (b->n == b->max ||
	    b->bytes + len > BUS_QUEUE_BYTES / 4)) {
		i = b->head;
		b->bytes -= b->len[i];
		free(b->item[i]);
		b->head = (b->head + 1) % b->max;
		b->n--;
	}
	i = (b->head + b->n) % b->max;
	b->item[i] = copy;
	b->len[i] = len;
	b->bytes += len;
	b->n++;
	bus_soon();
	return 0;
}

int
sockd_bus_range(const char *key, size_t max, void (*fn)(void *, int,
    const struct sockd_bus_item *, size_t), void *arg)
{
	char		 lo[24];
	const char	*argv[4] = { "LRANGE", key, lo, "-1" };
	size_t		 argvlen[4];
	struct bus_req	*r;

	if (!bus_usable() || max == 0)
		return -1;
	snprintf(lo, sizeof(lo), "-%zu", max);
	argvlen[0] = 6, argvlen[1] = strlen(key), argvlen[2] = strlen(lo);
	argvlen[3] = 2;
	if ((r = req_new(REQ_RANGE, fn, arg)) == NULL)
		return -1;
	if (!bus_room_for(1, argvlen[1]) || req_send(r, 4, argv, argvlen) ==
	    -1)
		req_refuse(r);
	return 0;
}

int
sockd_bus_members(const char *key, void (*fn)(void *, int,
    const struct sockd_bus_item *, size_t), void *arg)
{
	char		 now[32], min[32];
	const char	*a1[4] = { "ZREMRANGEBYSCORE", key, "-inf", now };
	const char	*a2[4] = { "ZRANGEBYSCORE", key, min, "+inf" };
	size_t		 l1[4], l2[4], klen = strlen(key);
	struct bus_req	*r;
	uint64_t	 t = wall_ms();

	if (!bus_usable())
		return -1;
	snprintf(now, sizeof(now), "(%llu", (unsigned long long)t);
	snprintf(min, sizeof(min), "%llu", (unsigned long long)t);
	l1[0] = 16, l1[1] = klen, l1[2] = 4, l1[3] = strlen(now);
	l2[0] = 13, l2[1] = klen, l2[2] = strlen(min), l2[3] = 4;
	if ((r = req_new(REQ_MEMBERS, fn, arg)) == NULL)
		return -1;
	if (!bus_room_for(2, 2 * klen) || req_send(r, 4, a1, l1) == -1) {
		req_refuse(r);
		return 0;
	}
	if (req_send(r, 4, a2, l2) == -1)
		r->failed = 1;
	return 0;
}

void
sockd_bus_cancel(void *arg)
{
	struct bus_req	*r;

	for (r = bus.reqs; r != NULL; r = r->next)
		if (r->lease == NULL && r->arg == arg)
			r->fn = NULL;
	for (r = bus.failed; r != NULL; r = r->next)
		if (r->arg == arg)
			r->fn = NULL;
}

/* The outcome of l's attempt: 1 held, 0 another holds it, -1 unknown. */
static void
lease_done(struct sockd_bus_lease *l, int held)
{
	uint64_t	 every = (uint64_t)l->ttl * 1000 / 3;

	if (l->released) {
		/* Never delete what another host holds now. */
		if (held == 1 || (held == -1 && l->held))
			lease_attempt(l);	/* sends the delete */
		lease_free(l);
		return;
	}
	if (held == 1) {
		l->held = 1;
		/* Up to a third early, at random: leases made together
		 * spread over the ticks instead of all refreshing in one. */
		if (every >= 3000)
			every -= (uint64_t)random() % (every / 3);
		l->refresh_at = uv_now(bus.loop) + (every < 1000 ? 1000 :
		    every);
	} else if (held == 0) {
		l->held = 0;
		l->lost = 1;
	} else
		l->refresh_at = uv_now(bus.loop) + 1000;
	if (bus.closing)
		return;
	if (!l->told || held == 0) {
		l->told = 1;
		if (l->fn != NULL)
			l->fn(l->arg, held);
	}
}

/* Sends l's claim, refresh or (released) delete. */
static void
lease_attempt(struct sockd_bus_lease *l)
{
	char		 ttl[24], score[32];
	const char	*set[7] = { "SET", l->key, l->val, "NX", "GET", "EX",
	    ttl };
	const char	*zadd[4] = { "ZADD", l->key, score, l->val };
	const char	*exp[3] = { "EXPIRE", l->key, ttl };
	const char	*del[2] = { "DEL", l->key };
	const char	*zrem[3] = { "ZREM", l->key, l->val };
	size_t		 klen = strlen(l->key), sl[7], zl[4], el[3];
	size_t		 dl[2], rl[3];
	struct bus_req	*r;

	snprintf(ttl, sizeof(ttl), "%d", l->released ? 0 : l->kind ==
	    LEASE_MEMBER ? 2 * l->ttl : l->ttl);
	snprintf(score, sizeof(score), "%llu", (unsigned long long)
	    (wall_ms() + (uint64_t)l->ttl * 1000));
	sl[0] = 3, sl[1] = klen, sl[2] = l->len, sl[3] = 2, sl[4] = 3;
	sl[5] = 2, sl[6] = strlen(ttl);
	zl[0] = 4, zl[1] = klen, zl[2] = strlen(score), zl[3] = l->len;
	el[0] = 6, el[1] = klen, el[2] = strlen(ttl);
	dl[0] = 3, dl[1] = klen;
	rl[0] = 4, rl[1] = klen, rl[2] = l->len;
	if (l->released) {
		/* A bus down or full: the key expires by itself. */
		if (!bus_room_for(1, klen + l->len) || (r = req_new(REQ_DEL,
		    NULL, NULL)) == NULL)
			return;
		if ((l->kind == LEASE_CLAIM ? req_send(r, 2, del, dl) :
		    req_send(r, 3, zrem, rl)) == -1)
			req_refuse(r);
		return;
	}
	if (!bus_room_for(2, 2 * klen + l->len + 32) ||
	    (r = req_new(l->kind == LEASE_CLAIM ? REQ_CLAIM : REQ_ADD, NULL,
	    NULL)) == NULL) {
		atomic_fetch_add(&bus.dropped, 1);
		if (!l->told)
			l->tell_fail = 1, bus_soon();
		l->refresh_at = uv_now(bus.loop) + 1000;
		return;
	}
	r->lease = l;
	l->req = r;
	if (l->kind == LEASE_CLAIM) {
		if (req_send(r, 7, set, sl) == -1)
			r->failed = 1;
	} else if (req_send(r, 4, zadd, zl) == -1 ||
	    req_send(r, 3, exp, el) == -1)
		r->failed = 1;
	if (r->pending == 0) {
		req_unlink(r, &bus.reqs);
		l->req = NULL;
		free(r);
		if (!l->told)
			l->tell_fail = 1, bus_soon();
		l->refresh_at = uv_now(bus.loop) + 1000;
	}
}

/* From the tick, or (all) when the bus is back: claims or refreshes the
 * leases due. */
static void
bus_leases_renew(int all)
{
	struct sockd_bus_lease	*l, *next;
	uint64_t		 now = uv_now(bus.loop);

	for (l = bus.leases; l != NULL; l = next) {
		next = l->next;
		/* Refreshes take half the queue at most, the rest waits for
		 * the next tick: PUBLISH keeps its room. */
		if (!all && bus.inflight >= BUS_QUEUE_MAX / 2)
			break;
		if (l->req == NULL && !l->lost && !l->released &&
		    (all || l->refresh_at <= now))
			lease_attempt(l);
	}
}

static void
lease_free(struct sockd_bus_lease *l)
{
	if (l->prev != NULL)
		l->prev->next = l->next;
	else
		bus.leases = l->next;
	if (l->next != NULL)
		l->next->prev = l->prev;
	free(l->key);
	free(l->val);
	free(l);
}

static struct sockd_bus_lease *
lease_new(int kind, const char *key, const void *val, size_t len, int ttl,
    void (*fn)(void *, int), void *arg)
{
	struct sockd_bus_lease	*l;

	if (!bus_usable() || ttl < 1 || (l = calloc(1, sizeof(*l))) == NULL)
		return NULL;
	if ((l->key = strdup(key)) == NULL || (l->val = malloc(len + 1)) ==
	    NULL) {
		free(l->key);
		free(l);
		return NULL;
	}
	memcpy(l->val, val, len);
	l->val[len] = '\0';
	l->len = len;
	l->kind = kind;
	l->ttl = ttl;
	l->fn = fn;
	l->arg = arg;
	if ((l->next = bus.leases) != NULL)
		l->next->prev = l;
	bus.leases = l;
	if (bus.pub_up && bus.sub_up)
		lease_attempt(l);
	else if (fn != NULL) {
		l->tell_fail = 1;
		bus_soon();
	}
	return l;
}

struct sockd_bus_lease *
sockd_bus_claim(const char *key, const void *val, size_t len, int ttl,
    void (*fn)(void *, int), void *arg)
{
	return lease_new(LEASE_CLAIM, key, val, len, ttl, fn, arg);
}

struct sockd_bus_lease *
sockd_bus_member(const char *key, const void *member, size_t len, int ttl)
{
	return lease_new(LEASE_MEMBER, key, member, len, ttl, NULL, NULL);
}

void
sockd_bus_release(struct sockd_bus_lease *l)
{
	if (l == NULL)
		return;
	l->released = 1;
	l->fn = NULL;
	l->tell_fail = 0;
	if (l->req != NULL && !bus.closing)
		return;		/* lease_done() ends it */
	if (l->held && !bus.closing && bus.url != NULL)
		lease_attempt(l);
	lease_free(l);
}
