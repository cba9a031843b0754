/*
 * A recording fake of every function of include/sockd/handler.h, so that a
 * handler's unit test drives its callbacks directly, without sockets or a
 * loop.  Nothing here depends on cmocka: the fuzzers link it too.
 */
#ifndef FAKE_CONN_H
#define FAKE_CONN_H

#include <stddef.h>

#include <sockd/handler.h>

/* A service groups connections, so that sockd_conn_foreach_peer() finds the
 * others, and holds the port state that configure returned. */
struct fake_service;
struct fake_service *fake_service_new(void *port_state);
/* Frees the service; its connections must be freed first. */
void		 fake_service_free(struct fake_service *);

/* A connection from peer ("192.0.2.7:41234", "[2001:db8::1]:7" or NULL for
 * a default) in service svc (NULL: a service of its own, no port state). */
struct sockd_conn *fake_conn_new_in(struct fake_service *, const char *);
struct sockd_conn *fake_conn_new(void);
/* Drops the queued message references and frees c, not its data. */
void		 fake_conn_free(struct sockd_conn *);
/* Everything written (or sent) so far, NUL-terminated, and its length. */
const char	*fake_conn_output(const struct sockd_conn *);
size_t		 fake_conn_output_len(const struct sockd_conn *);
void		 fake_conn_output_reset(struct sockd_conn *);
/* 1 once sockd_conn_close() was called. */
int		 fake_conn_closed(const struct sockd_conn *);
/* How many writes were attempted after the close. */
int		 fake_conn_writes_after_close(const struct sockd_conn *);
/*
 * Output model: written bytes stay pending until fake_conn_flush(), except
 * that the fake kernel takes up to "absorb" bytes at once (default 0).  With
 * a max_queue, a write that leaves more than that pending closes the
 * connection and fails, as sockd does with a slow reader.
 */
void		 fake_conn_flush(struct sockd_conn *);
void		 fake_conn_set_absorb(struct sockd_conn *, size_t);
void		 fake_conn_set_max_queue(struct sockd_conn *, size_t);
/* Number of sockd_conn_send() calls, and the last message sent. */
size_t		 fake_conn_sends(const struct sockd_conn *);
const struct sockd_msg *fake_conn_last_msg(const struct sockd_conn *);

/* Messages: how many are alive (created and not yet freed). */
long		 fake_msg_live(void);
int		 fake_msg_refs(const struct sockd_msg *);

/* A datagram from peer (NULL: "192.0.2.1:40000") on a service with this
 * port state, whose replies may be at most reply_max bytes, and all of
 * them together too, as sockd counts everything one datagram causes. */
struct sockd_dgram *fake_dgram_new(void *port_state, const char *peer,
		    size_t reply_max);
/* Sets what all sends of d may add up to (each stays within reply_max);
 * FAKE_UNLIMITED: no total, as under max_reply_growth = -1, or a sockd
 * that checks each send alone.  sockd_dgram_reply_max() returns what is
 * left.  fake_dgram_spent(): the bytes sent so far. */
#define FAKE_UNLIMITED	((size_t)-1)
void		 fake_dgram_set_budget(struct sockd_dgram *, size_t);
size_t		 fake_dgram_spent(const struct sockd_dgram *);
void		 fake_dgram_free(struct sockd_dgram *);
/* The last reply, NUL-terminated, its length and how many were sent. */
const char	*fake_dgram_reply_output(const struct sockd_dgram *);
size_t		 fake_dgram_reply_len(const struct sockd_dgram *);
int		 fake_dgram_replies(const struct sockd_dgram *);
/* Replies or sends the size guard refused; 1 once sockd_dgram_drop(). */
int		 fake_dgram_refused(const struct sockd_dgram *);
int		 fake_dgram_dropped(const struct sockd_dgram *);
/* sockd_dgram_send_to() calls: their number, then each one's bytes (NUL-
 * terminated) and destination. */
size_t		 fake_dgram_sent_count(const struct sockd_dgram *);
const char	*fake_dgram_sent(const struct sockd_dgram *, size_t, size_t *,
		    const struct sockaddr **);

/* Options from key, value string pairs ending with NULL: ints are parsed
 * with strtoll, bools are "true" or "false"; a value of another type gives
 * the default, as in sockd, and counts as a type error. */
struct sockd_opts *fake_opts_new(const char *, ...);
void		 fake_opts_free(struct sockd_opts *);
int		 fake_opts_type_errors(const struct sockd_opts *);
/* The first option name read that is not in names (NULL-terminated), or
 * NULL: every option a handler reads must be in its .options. */
const char	*fake_opts_undeclared(const struct sockd_opts *,
		    const char *const *);

/* Logging: lines are kept; FAKE_LOG=1 in the environment prints them. */
int		 fake_log_count(void);
const char	*fake_log_last(void);

/* Parses "192.0.2.7:41234" or "[2001:db8::1]:7"; 0 or -1.  fake_addr()
 * returns it, for an address known to be good: it aborts on a bad one. */
int		 fake_sockaddr(const char *, struct sockaddr_storage *);
struct sockaddr_storage fake_addr(const char *);

#endif /* FAKE_CONN_H */
