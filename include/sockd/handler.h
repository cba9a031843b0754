/*
 * sockd handler ABI.
 *
 * A handler is one "const struct sockd_handler sockd_handler_<name>", linked
 * into sockd or built as <handler_dir>/<name>.so.  It only sees bytes in and
 * bytes out: sockd owns the sockets, the event loop, the configuration,
 * limits, access control, timeouts, buffering and logging, and calls the
 * handler's callbacks.  Handlers never see libuv or libconfig types, so this
 * ABI does not change when those libraries do.
 *
 * Versioning: SOCKD_ABI_MAJOR changes when a field changes or moves; sockd
 * refuses handlers of another major.  SOCKD_ABI_MINOR grows when fields or
 * functions are appended; sockd loads handlers of its own or an older minor
 * and refuses newer ones.
 *
 * Threads: with "workers = N" a service's callbacks run on N threads at
 * once, each connection and datagram on one of them; port state must then
 * be read-only after configure().  A handler that sets SOCKD_ONE_LOOP has
 * all of its connections and datagrams (TCP and UDP) served by one thread,
 * and may keep mutable state in its port state without locks.  configure()
 * and unconfigure() may run on any thread, never at the same time as a
 * callback that uses the same port state.  See sockd-handler(3).
 */
#ifndef SOCKD_HANDLER_H
#define SOCKD_HANDLER_H

#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SOCKD_ABI_MAJOR		1	/* fields changed: older handlers refused */
#define SOCKD_ABI_MINOR		3	/* fields appended: older ones still load */
#define SOCKD_ABI_VERSION	((SOCKD_ABI_MAJOR << 16) | SOCKD_ABI_MINOR)

/* protocols */
#define SOCKD_TCP	0x1
#define SOCKD_UDP	0x2

/* flags */
#define SOCKD_LINES	0x1	/* tcp_data receives whole lines, see below */
#define SOCKD_ONE_LOOP	0x2	/* port state is shared: one thread serves all */

struct sockd_conn;		/* one TCP connection, opaque */
struct sockd_dgram;		/* one received UDP datagram, opaque */
struct sockd_opts;		/* the service's "options" group, opaque */
struct sockd_msg;		/* a refcounted message, opaque */

struct sockd_handler {
	uint32_t	  abi_version;	/* SOCKD_ABI_VERSION; checked first */
	const char	 *name;		/* "daytime"; equals the file name */
	unsigned int	  protocols;	/* SOCKD_TCP, SOCKD_UDP or both */
	unsigned int	  flags;	/* SOCKD_LINES, SOCKD_ONE_LOOP */
	/* Option names this handler reads, NULL-terminated; others are config
	 * errors.  NULL: the handler takes no options. */
	const char *const *options;

	/*
	 * All callbacks are optional (NULL: nothing to do), except that a
	 * handler serving SOCKD_UDP must have udp_datagram.
	 *
	 * configure: called once per service when the configuration is loaded
	 * (also by "sockd -t").  Returns NULL, or an error message that stays
	 * valid until the next call; sockd prefixes it with file:line.
	 * *port_state is handed back by sockd_{conn,dgram}_port_state().
	 */
	const char	*(*configure)(const struct sockd_opts *, void **port_state);
	void		 (*unconfigure)(void *port_state);
	/* A new connection; the banner, if any, is already queued.  -1 refuses
	 * it (sockd closes it; tcp_close is not called). */
	int		 (*tcp_connect)(struct sockd_conn *);
	/* Bytes that arrived; with SOCKD_LINES, exactly one line including its
	 * "\n" (or "\r\n"), or, for a line longer than the service's max_line,
	 * one max_line piece of it, or an unterminated line: the last one
	 * before the peer's end of file, or one followed by no input for the
	 * service's line_timeout milliseconds (clients that send a line
	 * without its newline and wait).  The buffer lives only during the
	 * call. */
	void		 (*tcp_data)(struct sockd_conn *, const char *, size_t);
	/* Everything written so far has been handed to the kernel: a
	 * generator (chargen) writes its next piece here.  Called after a
	 * queued write completes, and on the next loop turn after a write
	 * the kernel took at once, so a generator writes one piece per turn
	 * and other clients are served in between. */
	void		 (*tcp_drain)(struct sockd_conn *);
	/* The connection is going away; free what sockd_conn_data() holds.
	 * Writing is no longer possible. */
	void		 (*tcp_close)(struct sockd_conn *);
	void		 (*udp_datagram)(struct sockd_dgram *, const char *, size_t);

	/* Appended in ABI 1.1: read only from handlers built for 1.1 or
	 * later. */

	/*
	 * reconfigure: a reload changed this service's settings: port_state
	 * is the new configure()'s, old_port_state the running one's, which
	 * is unconfigured afterwards.  Move over what must live on (a
	 * room's history, counters, members' state).  Called once, only for
	 * SOCKD_ONE_LOOP handlers, on the thread that serves the service,
	 * with no other callback of the service running.  The old service's
	 * open connections then belong to the new one: they see its port
	 * state and each other.  NULL: the old service keeps its
	 * connections and its state until they close.
	 */
	void		 (*reconfigure)(void *port_state,
			    void *old_port_state);
};

/*
 * Connections.  sockd_conn_write() copies; on failure (the connection is
 * closing, or its queue passed the service's max_queue, which closes it) it
 * returns -1 and sockd has logged why: nothing for the handler to undo.
 */
int		 sockd_conn_write(struct sockd_conn *, const void *, size_t);
/* Bytes written but not yet taken by the kernel. */
size_t		 sockd_conn_pending(const struct sockd_conn *);
/* Close once everything written has been sent. */
void		 sockd_conn_close(struct sockd_conn *);
void		*sockd_conn_data(const struct sockd_conn *);
void		 sockd_conn_set_data(struct sockd_conn *, void *);
void		*sockd_conn_port_state(const struct sockd_conn *);
/* "192.0.2.7:41234" or "[2001:db8::1]:41234"; valid until the next call
 * on the same thread. */
const char	*sockd_conn_peer(const struct sockd_conn *);
const struct sockaddr *sockd_conn_peer_addr(const struct sockd_conn *);
/* Calls fn for every other open connection of the same service. */
void		 sockd_conn_foreach_peer(struct sockd_conn *,
		    void (*fn)(struct sockd_conn *, void *), void *arg);

/*
 * Shared messages: one copy of the bytes, sent to many connections.
 * sockd_msg_new() returns a message holding one reference (NULL when out of
 * memory); sockd_conn_send() takes its own reference while the bytes are
 * queued; sockd_msg_ref()/sockd_msg_unref() keep one for later (history).
 * References are thread-safe.
 */
struct sockd_msg *sockd_msg_new(const void *, size_t);
struct sockd_msg *sockd_msg_ref(struct sockd_msg *);
void		 sockd_msg_unref(struct sockd_msg *);
const char	*sockd_msg_data(const struct sockd_msg *);
size_t		 sockd_msg_len(const struct sockd_msg *);
int		 sockd_conn_send(struct sockd_conn *, struct sockd_msg *);

/*
 * Datagrams.  A reply goes to the sender from the socket it arrived on.
 * Each received datagram has a budget: its size plus the service's
 * max_reply_growth (64 by default).  Everything sent because of it, the
 * replies and every sockd_dgram_send_to() together, comes out of that
 * budget, so no handler can make sockd an amplifier.
 * sockd_dgram_reply_max() is what is left of it, at most the service's
 * max_reply; sockd refuses (returns -1, counts a drop, sends nothing) a
 * send larger than that.  A handler sending several datagrams stops when
 * the next one no longer fits.  max_reply_growth = -1 (the service allows
 * amplification): no budget, only max_reply per send.  Sends are copied
 * and queued: 0 means queued and charged; the replies of one receive
 * batch leave together at its end, and one the kernel refuses then is
 * counted as dropped.
 */
int		 sockd_dgram_reply(struct sockd_dgram *, const void *, size_t);
size_t		 sockd_dgram_reply_max(const struct sockd_dgram *);
/* Send to another address from the same socket (chat relay); taken from
 * the same budget. */
int		 sockd_dgram_send_to(struct sockd_dgram *, const struct sockaddr *,
		    const void *, size_t);
/* No reply will be sent: counted as a dropped request. */
void		 sockd_dgram_drop(struct sockd_dgram *);
void		*sockd_dgram_port_state(const struct sockd_dgram *);
const char	*sockd_dgram_peer(const struct sockd_dgram *);
const struct sockaddr *sockd_dgram_peer_addr(const struct sockd_dgram *);

/*
 * Options, from the service's "options" group.  A missing option gives the
 * default; an option of the wrong type also gives the default and is
 * reported by sockd as a configuration error naming file and line.
 */
const char	*sockd_opt_string(const struct sockd_opts *, const char *,
		    const char *);
long long	 sockd_opt_int(const struct sockd_opts *, const char *, long long);
int		 sockd_opt_bool(const struct sockd_opts *, const char *, int);

/* Logging, with syslog(3) priorities (LOG_ERR ... LOG_DEBUG).  The conn
 * form starts the line with the handler's name and the peer. */
void		 sockd_log(int, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
void		 sockd_conn_log(const struct sockd_conn *, int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

/*
 * The bus (ABI 1.2): publish/subscribe across sockd hosts, through the
 * daemon's "bus" setting (Redis or Valkey).  Callable only from the thread
 * of the main loop, which serves SOCKD_ONE_LOOP services, from their
 * callbacks and configure()/unconfigure(); elsewhere, or without a bus
 * configured, they do nothing and return -1.
 *
 * sockd_bus_publish() queues the bytes for every subscriber of channel on
 * every host, this one included: it returns 0, or -1 when the bus is down
 * or its bounded queue is full (the message is dropped and counted, and
 * reaches no other host).  sockd_bus_subscribe() calls fn(arg, bytes, len)
 * for every message on channel from then on, also across reconnections
 * (messages published while the bus was down are lost); the bytes live
 * only during the call.  Each subscription made must be removed with
 * sockd_bus_unsubscribe() with the same three arguments, at the latest in
 * unconfigure().  Messages from one publisher arrive in the order sent.
 */
int		 sockd_bus_publish(const char *channel, const void *, size_t);
int		 sockd_bus_subscribe(const char *channel,
		    void (*fn)(void *arg, const void *, size_t), void *arg);
void		 sockd_bus_unsubscribe(const char *channel,
		    void (*fn)(void *arg, const void *, size_t), void *arg);

/*
 * State in Redis (ABI 1.3), with the same rules: the main loop's thread
 * only, a bus configured, or they do nothing and return -1 (or NULL).
 * Every callback comes later on that thread, never from inside the call
 * that asked for it.  Commands go out in the order asked and count in the
 * bus's bounded queue: one refused (bus down, queue full) is counted as
 * dropped.
 *
 * sockd_bus_connected() is 1 while the bus is up.  sockd_bus_watch() calls
 * fn(arg, up) each time it comes up (1, after the leases below were sent
 * again) or goes down (0); remove it with sockd_bus_unwatch() and the same
 * two arguments, at the latest in unconfigure().
 */
int		 sockd_bus_connected(void);
int		 sockd_bus_watch(void (*fn)(void *arg, int up), void *arg);
void		 sockd_bus_unwatch(void (*fn)(void *arg, int up),
		    void *arg);

/*
 * One-shot requests.  sockd_bus_push() appends the bytes to the list at
 * key, keeps its last max items and sets it to expire ttl seconds later
 * (RPUSH, LTRIM, EXPIRE; max at most 65536): 0 queued, -1 dropped.  What
 * is pushed to a list in one loop turn goes at its end in one RPUSH, so a
 * burst costs Redis three commands, and at most its last max items.
 * sockd_bus_range() reads the last max items of the list at key;
 * sockd_bus_members() the members of the sorted set at key that
 * sockd_bus_member() leases keep alive (those whose expiry has passed
 * are removed first).  Both return 0, and
 * then call fn exactly once: fn(arg, 0, items, n) with the items oldest
 * (or lowest) first, living only during the call, or fn(arg, -1, NULL, 0)
 * when the bus was down or full, Redis refused, or the connection was
 * lost; or -1, and fn is never called.  sockd_bus_cancel(arg) makes sure
 * no callback of a request with arg comes any more (free arg after it).
 */
struct sockd_bus_item {
	const void	*data;
	size_t		 len;
};
int		 sockd_bus_push(const char *key, const void *, size_t,
		    size_t max, int ttl);
int		 sockd_bus_range(const char *key, size_t max,
		    void (*fn)(void *arg, int rc,
		    const struct sockd_bus_item *, size_t n), void *arg);
int		 sockd_bus_members(const char *key,
		    void (*fn)(void *arg, int rc,
		    const struct sockd_bus_item *, size_t n), void *arg);
void		 sockd_bus_cancel(void *arg);

/*
 * Leases: state that sockd keeps alive in Redis for the handler, without a
 * timer of its own, until released: refreshed every third of ttl
 * seconds, sent again each time the bus comes back, and expiring within
 * ttl once this host stops (a crash included).
 *
 * sockd_bus_claim() claims key with the value (SET key value NX EX ttl;
 * the key already holding this very value counts as claimed).
 * fn(arg, held) tells the first outcome: 1 claimed, 0 another value holds
 * it, -1 unknown (bus down or lost; sockd claims it when the bus is back).
 * Later, fn(arg, 0) comes once if a refresh or a claim after a lost bus
 * finds another value there; sockd then stops claiming it.  Values must
 * differ between holders (name the host in them).
 *
 * sockd_bus_member() adds member to the sorted set at key, scored by the
 * wall-clock time (milliseconds) at which it expires, ttl seconds ahead,
 * so sockd_bus_members() on any host lists it until then: hosts' clocks
 * must agree within a second or so.
 *
 * sockd_bus_release() ends a lease: no callback comes any more; a claim
 * held is deleted, a member removed (when the bus is down, they expire).
 * Both return NULL without a bus, on another thread or out of memory.
 */
struct sockd_bus_lease;		/* opaque */
struct sockd_bus_lease *sockd_bus_claim(const char *key, const void *value,
		    size_t len, int ttl, void (*fn)(void *arg, int held),
		    void *arg);
struct sockd_bus_lease *sockd_bus_member(const char *key, const void *member,
		    size_t len, int ttl);
void		 sockd_bus_release(struct sockd_bus_lease *);

#ifdef __cplusplus
}
#endif

#endif /* SOCKD_HANDLER_H */
