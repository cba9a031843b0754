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
 */
#include <stdatomic.h>
#include <stdint.h>
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

static struct {
	uv_loop_t		*loop;
	uv_thread_t		 thread;
	char			*url;
	struct bus_addr		 addr;
	redisAsyncContext	*pub, *sub;
	int			 pub_up, sub_up;
	int			 was_up;	/* logged as connected */
	int			 told;		/* logged as unreachable */
	int			 closing;
	uv_timer_t		 retry;
	uv_timer_t		 tick;		/* deadlines, PING */
	uint64_t		 connect_at, ping_at;	/* 0: no PING out */
	uint64_t		 backoff_ms;
	struct bus_sub		*subs;
	size_t			 inflight, inflight_bytes;
	atomic_int		 configured, connected;
	atomic_ullong		 dropped, published, received;
} bus;

static void	bus_connect(void);
static void	bus_fail(const char *);

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
	(void)uv_timer_start(&bus.tick, on_tick, 1000, 1000);
	atomic_store(&bus.configured, 1);
	bus_connect();
}

void
bus_close(void)
{
	if (bus.url == NULL || bus.closing)
		return;
	bus.closing = 1;
	bus_drop_contexts();
	atomic_store(&bus.connected, 0);
	uv_close((uv_handle_t *)&bus.retry, NULL);
	uv_close((uv_handle_t *)&bus.tick, NULL);
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
