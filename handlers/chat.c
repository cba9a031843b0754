/*
 * chat: a multi-user room per service, for telnet, nc and five-line socket
 * clients.
 *
 * TCP is a line service (SOCKD_LINES) whose connections all live on one
 * thread (SOCKD_ONE_LOOP), so the room, its port state, needs no lock.  A
 * user is the connection's data: only a nick; who is present is asked of
 * sockd with sockd_conn_foreach_peer().  A line is relayed to every other
 * user as "<nick> text"; /nick, /who, /me, /quit and /help are commands, and
 * "//text" sends "/text".  Every line the server sends ends in "\r\n", which
 * telnet needs and nc shows as well.
 *
 * A relayed line is one sockd_msg shared by all recipients and the history
 * ring (ring.c: the last "history" lines, replayed on join): never one copy
 * per recipient.  The handler only sends; a reader that stops reading is
 * sockd's to close once its queue passes max_queue, and sockd_conn_send()
 * then returns -1, which needs nothing here, so one stuck client never
 * stalls the room.
 *
 * Input is cleaned by text.c in two steps: telnet commands are removed
 * (the connection remembers where it is in one that a read boundary cut),
 * then controls and escape sequences, and what is not UTF-8 becomes
 * U+FFFD, so every relayed line is valid UTF-8 that cannot clear, move or
 * retitle another user's terminal.  Nicks are [A-Za-z0-9_-]{1,16}, unique
 * ignoring case so that "Alice" cannot pass for "alice", and judged as
 * typed: "/nick a<BEL>b" is refused, never cleaned into "ab".
 *
 * UDP (protocol "udp"): each datagram is relayed, cleaned, as
 * "<ip:port> text" to the other peers heard from within peer_timeout
 * seconds, most recently heard first.  Everything one datagram causes
 * shares the budget sockd_dgram_reply_max() gives as it arrives (its size
 * plus max_reply_growth, at most max_reply): the line is built once, and
 * sent to peers only while it fits, so the room is no amplifier.  The peer
 * table (peers.c) remembers at most max_peers, peers_per_address of them
 * per IP address (a new port replaces that address's entry), the longest
 * silent forgotten first.  An empty datagram only joins.
 *
 * With a "room" option (and the daemon's "bus"), the TCP room spans every
 * sockd host whose chat has the same room: each line, /me, /nick, join and
 * leave is also published on the bus channel "sockd:chat:ROOM" as an
 * event (chat_bus_encode: origin host and sequence, kind, nick, text), and
 * events from other hosts are cleaned again, since the bus is no more
 * trusted than a client, and delivered to this host's users, whom the
 * room lists for that (the bus calls in with no connection at hand).
 * Lines from other hosts go into the history too.  A host ignores its own
 * events: its users had them at once.
 *
 * The room's state lives in Redis as well, through the bus's leases,
 * which the daemon refreshes and claims again after an outage: each
 * user's nick is claimed as "sockd:chat:ROOM:nick:NICK" (lower-cased)
 * with this host and the user's id as value, and the user is a member
 * "HOST ID NICK" of the sorted set "sockd:chat:ROOM:members", both with
 * the room's ttl.  /nick waits for Redis' answer (lines typed meanwhile
 * wait too, so they carry the new nick), and a claim lost later (two
 * hosts gave the same nick while the bus was down) renames its user to
 * a guest name, told why.  Guest names carry the host's tag.  /who lists
 * the members of other hosts from the set, so a crashed host's leave
 * within the ttl.  Kept lines are pushed to "sockd:chat:ROOM:history",
 * which replaces the local history each time the bus comes up.
 * Callbacks carry a user (released and cancelled in chat_close()) or the
 * room (cancelled in unconfigure), never a connection that may be gone.
 * Without a bus, or while it is down, the room is this host's alone, and
 * nicks are checked here only.  W and P events (an older /who that asked
 * every host) are still answered.
 */
/* Built as a .so, this file may not get the Makefile's -D_GNU_SOURCE;
 * clock_gettime() needs it. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <sys/random.h>
#include <sys/socket.h>

#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include <sockd/handler.h>

#include "chat.h"
#include "peers.h"
#include "ring.h"
#include "text.h"

#define CHAT_EOL	"\r\n"
#define CHAT_PREFIX_MAX	80	/* "<ip:port> " of a UDP line, and a NUL */
#define CHAT_HOLD_MAX	65536	/* bytes typed while /nick waits */

struct chat_room {
	struct ring	 hist;		/* the last history lines, messages */
	int		 ttl;		/* of members and nicks, s */
	int		 history_ttl;	/* of the history in Redis, s */
	int		 watching;	/* the bus's ups and downs */
	unsigned long	 guests;	/* last guestN handed out */
	struct peers	 peers;		/* UDP */
	struct chat_user *users;	/* TCP users on this host */
	char		*channel;	/* "sockd:chat:ROOM"; NULL: no room */
	int		 subscribed;	/* to channel, on the bus */
	unsigned long long uids;	/* last user id handed out */
	unsigned long long host, seq;	/* events' origin */
};

/* A nick claimed in Redis: the user's own, or the one /nick asked for
 * (want) until Redis answers. */
struct chat_claim {
	struct chat_user	*u;
	struct sockd_bus_lease	*lease;
	int			 want;
	char			 nick[CHAT_NICK_MAX + 1];
};

struct chat_user {
	char		 nick[CHAT_NICK_MAX + 1];
	struct chat_claim claim[2];	/* [cur]: the nick's; other: want */
	int		 cur;
	struct sockd_bus_lease *member;	/* in the room's members */
	char		*held;	/* lines typed while /nick waits */
	size_t		 heldlen;
	int		 overflow;	/* told that more were dropped */
	int		 telnet;	/* enum text_telnet, between pieces */
	struct sockd_conn *conn;
	unsigned long long id;		/* names the user in W and P */
	struct chat_user *prev, *next;	/* in the room's users */
};

static const char *const chat_options[] = {
	"history", "peer_timeout", "max_peers", "peers_per_address", "room",
	"ttl", "history_ttl", NULL
};

static int
ascii_casecmp(const char *a, size_t alen, const char *b)
{
	size_t	 i;
	int	 x, y;

	for (i = 0; i < alen && b[i] != '\0'; i++) {
		x = a[i] >= 'A' && a[i] <= 'Z' ? a[i] + 32 : a[i];
		y = b[i] >= 'A' && b[i] <= 'Z' ? b[i] + 32 : b[i];
		if (x != y)
			return 1;
	}
	return i != alen || b[i] != '\0';
}

enum chat_cmd
chat_parse(const char *line, size_t len, const char **arg, size_t *arglen)
{
	static const struct {
		const char	*word;
		enum chat_cmd	 cmd;
	} cmds[] = {
		{ "nick", CHAT_NICK }, { "who", CHAT_WHO }, { "me", CHAT_ME },
		{ "quit", CHAT_QUIT }, { "help", CHAT_HELP },
	};
	size_t	 w, i;

	*arg = line;
	*arglen = len;
	if (len == 0 || line[0] != '/')
		return CHAT_TEXT;
	if (len > 1 && line[1] == '/') {
		*arg = line + 1;
		*arglen = len - 1;
		return CHAT_TEXT;
	}
	for (w = 1; w < len && line[w] != ' ' && line[w] != '\t'; w++)
		;
	for (i = w; i < len && (line[i] == ' ' || line[i] == '\t'); i++)
		;
	*arg = line + i;
	*arglen = len - i;
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (ascii_casecmp(line + 1, w - 1, cmds[i].word) == 0) {
			if (cmds[i].cmd == CHAT_NICK)
				while (*arglen > 0 && ((*arg)[*arglen - 1] ==
				    ' ' || (*arg)[*arglen - 1] == '\t'))
					(*arglen)--;
			return cmds[i].cmd;
		}
	*arg = line + 1;
	*arglen = w - 1;
	return CHAT_UNKNOWN;
}

int
chat_nick_valid(const char *s, size_t len)
{
	size_t	 i;

	if (len == 0 || len > CHAT_NICK_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
			return 0;
	return 1;
}

size_t
chat_bus_encode(char *buf, size_t cap, const struct chat_bus_event *e)
{
	int	 n;

	n = snprintf(buf, cap, CHAT_BUS_MAGIC " %016llx %llu %c %s\n",
	    e->host, e->seq, e->kind, e->nick);
	if (n < 0 || (size_t)n >= cap || cap - (size_t)n < e->textlen)
		return 0;
	memcpy(buf + n, e->text, e->textlen);
	return (size_t)n + e->textlen;
}

static int
hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Reads a number of 1 to 20 digits at *p, before end; -1 if none. */
static int
dec_read(const char **p, const char *end, unsigned long long *v)
{
	size_t	 i;

	*v = 0;
	for (i = 0; *p < end && **p >= '0' && **p <= '9'; (*p)++, i++) {
		if (*v > (ULLONG_MAX - 9) / 10)
			return -1;
		*v = *v * 10 + (unsigned)(**p - '0');
	}
	return i > 0 ? 0 : -1;
}

/* Reads 16 hex digits at *p, before end. */
static int
hex_read(const char **p, const char *end, unsigned long long *v)
{
	size_t	 i;
	int	 d;

	*v = 0;
	if (end - *p < 16)
		return -1;
	for (i = 0; i < 16; i++) {
		if ((d = hex_digit((*p)[i])) == -1)
			return -1;
		*v = *v << 4 | (unsigned)d;
	}
	*p += 16;
	return 0;
}

/* A P event's text: "HOST ID nick, nick...", at least one nick. */
static int
here_valid(const char *p, size_t len)
{
	const char		*end = p + len, *q;
	unsigned long long	 v;

	if (hex_read(&p, end, &v) == -1 || p >= end || *p++ != ' ' ||
	    dec_read(&p, end, &v) == -1 || p >= end || *p++ != ' ')
		return 0;
	for (;;) {
		for (q = p; q < end && *q != ','; q++)
			;
		if (!chat_nick_valid(p, q - p))
			return 0;
		if (q == end)
			return 1;
		if (end - q < 2 || q[1] != ' ')
			return 0;
		p = q + 2;
	}
}

int
chat_bus_decode(const char *buf, size_t len, struct chat_bus_event *e)
{
	const char		*p = buf, *end = buf + len, *nl, *t;
	size_t			 m = sizeof(CHAT_BUS_MAGIC) - 1;
	unsigned long long	 v;

	memset(e, 0, sizeof(*e));
	if (len < m + 1 || memcmp(p, CHAT_BUS_MAGIC " ", m + 1) != 0)
		return -1;
	p += m + 1;
	if (hex_read(&p, end, &e->host) == -1 || p >= end || *p++ != ' ' ||
	    dec_read(&p, end, &e->seq) == -1 || end - p < 4 || *p++ != ' ')
		return -1;
	e->kind = *p++;
	if (*p++ != ' ')
		return -1;
	if ((nl = memchr(p, '\n', end - p)) == NULL ||
	    !chat_nick_valid(p, nl - p))
		return -1;
	memcpy(e->nick, p, nl - p);
	e->nick[nl - p] = '\0';
	e->text = nl + 1;
	e->textlen = end - nl - 1;
	if (e->textlen > CHAT_BUS_TEXT_MAX)
		return -1;
	switch (e->kind) {
	case CHAT_BUS_LINE:
	case CHAT_BUS_ME:
		return e->textlen > 0 ? 0 : -1;
	case CHAT_BUS_JOIN:
	case CHAT_BUS_LEAVE:
		return e->textlen == 0 ? 0 : -1;
	case CHAT_BUS_RENAME:
		return chat_nick_valid(e->text, e->textlen) ? 0 : -1;
	case CHAT_BUS_WHO:
		t = e->text;
		return dec_read(&t, end, &v) == 0 && t == end ? 0 : -1;
	case CHAT_BUS_HERE:
		return here_valid(e->text, e->textlen) ? 0 : -1;
	default:
		return -1;
	}
}

size_t
chat_member_encode(char *buf, size_t cap, unsigned long long host,
    unsigned long long id, const char *nick)
{
	int	 n;

	n = snprintf(buf, cap, "%016llx %llu %s", host, id, nick);
	return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}

int
chat_member_decode(const char *buf, size_t len, unsigned long long *host,
    unsigned long long *id, char *nick)
{
	const char	*p = buf, *end = buf + len;

	if (hex_read(&p, end, host) == -1 || p >= end || *p++ != ' ' ||
	    dec_read(&p, end, id) == -1 || p >= end || *p++ != ' ' ||
	    !chat_nick_valid(p, end - p))
		return -1;
	memcpy(nick, p, end - p);
	nick[end - p] = '\0';
	return 0;
}

/* Tells the room's other hosts of an event of kind by nick; nothing when
 * the room has no bus.  A dropped one (bus down, queue full) is sockd's to
 * count. */
static void
chat_publish(struct chat_room *room, int kind, const char *nick,
    const char *text, size_t len)
{
	struct chat_bus_event	 e;
	char			*buf;
	size_t			 n, cap;

	if (!room->subscribed)
		return;
	memset(&e, 0, sizeof(e));
	e.host = room->host;
	e.seq = ++room->seq;
	e.kind = kind;
	snprintf(e.nick, sizeof(e.nick), "%s", nick);
	e.text = text;
	e.textlen = text_cut(text, len, CHAT_BUS_TEXT_MAX);
	cap = sizeof(CHAT_BUS_MAGIC) + 64 + CHAT_NICK_MAX + e.textlen;
	if ((buf = malloc(cap)) == NULL)
		return;
	if ((n = chat_bus_encode(buf, cap, &e)) > 0)
		(void)sockd_bus_publish(room->channel, buf, n);
	free(buf);
}

/* The line a, nick, b, then text (textlen bytes), then CHAT_EOL, as a
 * message holding one reference; NULL when out of memory. */
static struct sockd_msg *
chat_msg(const char *a, const char *nick, const char *b, const char *text,
    size_t textlen)
{
	struct sockd_msg	*m;
	size_t			 alen, nlen, blen, n;
	char			*buf;

	alen = strlen(a);
	nlen = strlen(nick);
	blen = strlen(b);
	n = alen + nlen + blen + textlen + sizeof(CHAT_EOL) - 1;
	if ((buf = malloc(n)) == NULL)
		return NULL;
	memcpy(buf, a, alen);
	memcpy(buf + alen, nick, nlen);
	memcpy(buf + alen + nlen, b, blen);
	memcpy(buf + alen + nlen + blen, text, textlen);
	memcpy(buf + n - 2, CHAT_EOL, 2);
	m = sockd_msg_new(buf, n);
	free(buf);
	return m;
}

static void
chat_tell(struct sockd_conn *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A line to c alone: replies, errors, help. */
static void
chat_tell(struct sockd_conn *c, const char *fmt, ...)
{
	char	 buf[256];
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 2, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(buf) - 3)
		n = sizeof(buf) - 3;
	memcpy(buf + n, CHAT_EOL, 2);
	(void)sockd_conn_write(c, buf, n + 2);
}

static void
send_one(struct sockd_conn *peer, void *arg)
{
	/* -1: sockd is closing that reader; the others carry on. */
	if (sockd_conn_data(peer) != NULL)
		(void)sockd_conn_send(peer, arg);
}

/* "sockd:chat:ROOM:" and then what (and nick, lower-cased), into buf. */
static void
room_key(const struct chat_room *room, char *buf, size_t size,
    const char *what, const char *nick)
{
	size_t	 n;

	n = (size_t)snprintf(buf, size, "%s:%s", room->channel, what);
	for (; nick != NULL && *nick != '\0' && n + 1 < size; nick++)
		buf[n++] = *nick >= 'A' && *nick <= 'Z' ? *nick + 32 : *nick;
	buf[n < size ? n : size - 1] = '\0';
}

/* A history line, kept in Redis too (without its CHAT_EOL) for the hosts
 * that start later. */
static void
room_push(struct chat_room *room, struct sockd_msg *m)
{
	char	 key[160];

	if (!room->subscribed || room->hist.max == 0)
		return;
	room_key(room, key, sizeof(key), "history", NULL);
	(void)sockd_bus_push(key, sockd_msg_data(m), sockd_msg_len(m) - 2,
	    room->hist.max, room->history_ttl);
}

/* Sends m to everyone else in the room, and to c when self is set; keeps
 * it in the history (here and in Redis) when keep is set.  Drops the
 * caller's reference. */
static void
chat_broadcast(struct sockd_conn *c, struct sockd_msg *m, int self, int keep)
{
	struct chat_room	*room = sockd_conn_port_state(c);
	struct sockd_msg	*old;

	if (m == NULL) {
		sockd_conn_log(c, LOG_ERR, "out of memory");
		return;
	}
	if (self)
		(void)sockd_conn_send(c, m);
	sockd_conn_foreach_peer(c, send_one, m);
	if (keep) {
		room_push(room, m);
		if ((old = ring_push(&room->hist, sockd_msg_ref(m))) != NULL)
			sockd_msg_unref(old);
	}
	sockd_msg_unref(m);
}

struct nick_find {
	const char	*nick;
	size_t		 len;
	int		 found;
};

static void
nick_find_one(struct sockd_conn *peer, void *arg)
{
	struct chat_user	*u = sockd_conn_data(peer);
	struct nick_find	*f = arg;

	if (u != NULL && ascii_casecmp(f->nick, f->len, u->nick) == 0)
		f->found = 1;
}

static int
nick_taken(struct sockd_conn *c, const char *nick, size_t len)
{
	struct nick_find	 f = { nick, len, 0 };

	sockd_conn_foreach_peer(c, nick_find_one, &f);
	return f.found;
}

struct who {
	char	*buf;
	size_t	 len, cap;
	int	 failed;
};

static void
who_add(struct who *w, const char *s)
{
	size_t	 n = strlen(s);
	char	*p;

	if (w->failed)
		return;
	if (w->len + n + 3 > w->cap) {
		w->cap = (w->len + n + 3) * 2;
		if ((p = realloc(w->buf, w->cap)) == NULL) {
			w->failed = 1;
			return;
		}
		w->buf = p;
	}
	memcpy(w->buf + w->len, s, n);
	w->len += n;
}

static void
who_one(struct sockd_conn *peer, void *arg)
{
	struct chat_user	*u = sockd_conn_data(peer);

	if (u != NULL) {
		who_add(arg, ", ");
		who_add(arg, u->nick);
	}
}

/* "* Present: me, others...", to c. */
static void
chat_who(struct sockd_conn *c, const struct chat_user *u)
{
	struct who	 w = { NULL, 0, 0, 0 };

	who_add(&w, "* Present: ");
	who_add(&w, u->nick);
	sockd_conn_foreach_peer(c, who_one, &w);
	who_add(&w, CHAT_EOL);
	if (w.failed)
		sockd_conn_log(c, LOG_ERR, "out of memory");
	else
		(void)sockd_conn_write(c, w.buf, w.len);
	free(w.buf);
}

/* The members of the room's other hosts, from Redis, to u after /who. */
static void
on_members(void *arg, int rc, const struct sockd_bus_item *it, size_t n)
{
	struct chat_user	*u = arg;
	struct chat_room	*room = sockd_conn_port_state(u->conn);
	struct who		 w = { NULL, 0, 0, 0 };
	char			 nick[CHAT_NICK_MAX + 1];
	unsigned long long	 host, id;
	size_t			 i, found = 0;

	who_add(&w, "* On another host: ");
	for (i = 0; rc == 0 && i < n; i++) {
		if (it[i].data == NULL || chat_member_decode(it[i].data,
		    it[i].len, &host, &id, nick) == -1 || host == room->host)
			continue;
		if (found++ > 0)
			who_add(&w, ", ");
		who_add(&w, nick);
	}
	who_add(&w, CHAT_EOL);
	if (found > 0 && !w.failed)
		(void)sockd_conn_write(u->conn, w.buf, w.len);
	free(w.buf);
}

/* /who: the members of other hosts are in Redis, asked now. */
static void
chat_who_ask(struct sockd_conn *c, struct chat_user *u)
{
	struct chat_room	*room = sockd_conn_port_state(c);
	char			 key[160];

	if (!room->subscribed || !sockd_bus_connected())
		return;
	room_key(room, key, sizeof(key), "members", NULL);
	(void)sockd_bus_members(key, on_members, u);
}

/* Keeps u's membership in Redis under its current nick. */
static void
user_member(struct chat_room *room, struct chat_user *u)
{
	char	 key[160], val[64];
	int	 n;

	sockd_bus_release(u->member);
	u->member = NULL;
	if (!room->subscribed)
		return;
	room_key(room, key, sizeof(key), "members", NULL);
	n = chat_member_encode(val, sizeof(val), room->host, u->id, u->nick);
	u->member = sockd_bus_member(key, val, n, room->ttl);
}

static void	on_claim(void *, int);
static void	user_release_held(struct chat_user *);

/* Claims nick in Redis for u, in claim slot i; the value names this host
 * and u, so that no other user anywhere holds the same. */
static void
user_claim(struct chat_room *room, struct chat_user *u, int i,
    const char *nick, int want)
{
	struct chat_claim	*cl = &u->claim[i];
	char			 key[160], val[48];
	int			 n;

	cl->u = u;
	cl->want = want;
	cl->lease = NULL;
	snprintf(cl->nick, sizeof(cl->nick), "%s", nick);
	if (!room->subscribed)
		return;
	room_key(room, key, sizeof(key), "nick:", nick);
	n = snprintf(val, sizeof(val), "%016llx %llu", room->host, u->id);
	cl->lease = sockd_bus_claim(key, val, n, room->ttl, on_claim, cl);
}

static void
user_unclaim(struct chat_user *u, int i)
{
	sockd_bus_release(u->claim[i].lease);
	u->claim[i].lease = NULL;
	u->claim[i].want = 0;
}

/* The next guest name free here.  With a room, it carries this host's
 * tag, so that two hosts do not hand out the same one. */
static void
room_guest(struct chat_room *room, struct sockd_conn *c, char *nick)
{
	do {
		room->guests++;
		if (room->channel != NULL)
			snprintf(nick, CHAT_NICK_MAX + 1, "guest%lu-%04llx",
			    room->guests % 1000000, room->host & 0xffff);
		else
			snprintf(nick, CHAT_NICK_MAX + 1, "guest%lu",
			    room->guests);
	} while (nick_taken(c, nick, strlen(nick)));
}

/* u is now nick: tells the room, here and on the other hosts. */
static void
user_rename(struct chat_user *u, const char *nick)
{
	struct sockd_conn	*c = u->conn;
	struct chat_room	*room = sockd_conn_port_state(c);
	char			 old[CHAT_NICK_MAX + 1];
	size_t			 len = strlen(nick);

	memcpy(old, u->nick, sizeof(old));
	memcpy(u->nick, nick, len + 1);
	chat_publish(room, CHAT_BUS_RENAME, old, u->nick, len);
	chat_broadcast(c, chat_msg("* ", old, " is now known as ", u->nick,
	    len), 1, 0);
	sockd_conn_log(c, LOG_INFO, "%s is now %s", old, u->nick);
	user_member(room, u);
}

/*
 * Redis' answer to a claim.  The nick /nick asked for: taken, refused;
 * otherwise (also when the bus could not tell) it is u's.  The nick u
 * has: held by another host, found when a refresh or a claim after a
 * lost bus reaches Redis later than that host's, so u gives way to a
 * guest name, told why.
 */
static void
on_claim(void *arg, int held)
{
	struct chat_claim	*cl = arg;
	struct chat_user	*u = cl->u;
	struct chat_room	*room = sockd_conn_port_state(u->conn);
	char			 nick[CHAT_NICK_MAX + 1];
	int			 i = cl == &u->claim[0] ? 0 : 1;

	if (cl->want) {
		cl->want = 0;
		if (held == 0 || nick_taken(u->conn, cl->nick,
		    strlen(cl->nick))) {
			chat_tell(u->conn, "* %s is already taken.",
			    cl->nick);
			user_unclaim(u, i);
		} else {
			user_unclaim(u, u->cur);
			u->cur = i;
			user_rename(u, cl->nick);
		}
		user_release_held(u);
		return;
	}
	if (held != 0 || i != u->cur)
		return;
	user_unclaim(u, i);
	room_guest(room, u->conn, nick);
	chat_tell(u->conn, "* %s is taken on another host; you are now %s.",
	    u->nick, nick);
	user_claim(room, u, i, nick, 0);
	user_rename(u, nick);
}

static void
chat_nick(struct sockd_conn *c, struct chat_user *u, const char *nick,
    size_t len)
{
	struct chat_room	*room = sockd_conn_port_state(c);
	struct chat_claim	*want = &u->claim[!u->cur];
	char			 name[CHAT_NICK_MAX + 1];

	if (!chat_nick_valid(nick, len)) {
		chat_tell(c, "* A nick is 1 to %d letters, digits, _ or -.",
		    CHAT_NICK_MAX);
		return;
	}
	if (len == strlen(u->nick) && memcmp(nick, u->nick, len) == 0)
		return;
	if (want->lease != NULL) {
		chat_tell(c, "* Wait: %s is still being checked.", want->nick);
		return;
	}
	if (nick_taken(c, nick, len)) {
		chat_tell(c, "* %.*s is already taken.", (int)len, nick);
		return;
	}
	memcpy(name, nick, len);
	name[len] = '\0';
	if (room->subscribed && sockd_bus_connected()) {
		user_claim(room, u, !u->cur, name, 1);
		if (want->lease != NULL)
			return;		/* on_claim() goes on */
	}
	/* No bus, or it is down: this host's check alone; the claim is
	 * made when the bus is back. */
	user_unclaim(u, u->cur);
	user_claim(room, u, u->cur, name, 0);
	user_rename(u, name);
}

/* One history line, to the newcomer c. */
static void
replay_one(void *m, void *c)
{
	(void)sockd_conn_send(c, m);
}

static int
chat_connect(struct sockd_conn *c)
{
	struct chat_room	*room = sockd_conn_port_state(c);
	struct chat_user	*u;

	if ((u = calloc(1, sizeof(*u))) == NULL) {
		sockd_conn_log(c, LOG_ERR, "out of memory");
		return -1;
	}
	/* Someone may have taken "guestN" with /nick: skip it. */
	room_guest(room, c, u->nick);
	sockd_conn_set_data(c, u);
	u->conn = c;
	u->id = ++room->uids;
	user_claim(room, u, 0, u->nick, 0);
	user_member(room, u);
	if ((u->next = room->users) != NULL)
		u->next->prev = u;
	room->users = u;
	chat_tell(c, "* Welcome, you are %s. Commands: /nick NAME, /who, "
	    "/me ACTION, /quit, /help.", u->nick);
	chat_who(c, u);
	ring_foreach(&room->hist, replay_one, c);
	chat_broadcast(c, chat_msg("* ", u->nick, " joined", "", 0), 0, 0);
	chat_publish(room, CHAT_BUS_JOIN, u->nick, "", 0);
	return 0;
}

/* A line typed while /nick waits for Redis' answer: it is said under the
 * nick that answer gives, so it waits too (CHAT_HOLD_MAX bytes at most;
 * beyond, lines are dropped and the user told once). */
static void
user_hold(struct chat_user *u, const char *buf, size_t len)
{
	char	*p;

	if (u->heldlen + sizeof(len) + len > CHAT_HOLD_MAX ||
	    (p = realloc(u->held, u->heldlen + sizeof(len) + len)) == NULL) {
		if (!u->overflow++)
			chat_tell(u->conn, "* Too much typed while your nick "
			    "is checked: lines dropped.");
		return;
	}
	u->held = p;
	memcpy(p + u->heldlen, &len, sizeof(len));
	memcpy(p + u->heldlen + sizeof(len), buf, len);
	u->heldlen += sizeof(len) + len;
}

static void	chat_data(struct sockd_conn *, const char *, size_t);

/* /nick was answered: the lines held meanwhile, until one waits again. */
static void
user_release_held(struct chat_user *u)
{
	char	*p = u->held, *q;
	size_t	 n = u->heldlen, len;

	u->held = NULL;
	u->heldlen = 0;
	u->overflow = 0;
	for (q = p; q < p + n; q += sizeof(len) + len) {
		memcpy(&len, q, sizeof(len));
		chat_data(u->conn, q + sizeof(len), len);
	}
	free(p);
}

static void
chat_data(struct sockd_conn *c, const char *buf, size_t len)
{
	struct chat_user	*u = sockd_conn_data(c);
	const char		*arg;
	size_t			 n, arglen, rawlen;
	char			*raw, *line;

	if (u == NULL)
		return;
	if (u->claim[!u->cur].want) {
		user_hold(u, buf, len);
		return;
	}
	/* raw: the line without telnet commands; line: raw cleaned. */
	if (len > (SIZE_MAX - 1) / 4 || (raw = malloc(4 * len + 1)) == NULL) {
		sockd_conn_log(c, LOG_ERR, "out of memory");
		return;
	}
	line = raw + len;
	rawlen = text_telnet_strip(raw, buf, len, &u->telnet);
	n = text_sanitize(line, raw, rawlen);
	/* The line's end, as telnet spells it too: CR LF or CR NUL. */
	while (rawlen > 0 && (raw[rawlen - 1] == '\n' ||
	    raw[rawlen - 1] == '\r' || raw[rawlen - 1] == '\0'))
		rawlen--;
	switch (chat_parse(line, n, &arg, &arglen)) {
	case CHAT_TEXT:
		/* A line of controls only is no line at all. */
		if (arglen > 0) {
			chat_broadcast(c, chat_msg("<", u->nick, "> ", arg,
			    arglen), 0, 1);
			chat_publish(sockd_conn_port_state(c), CHAT_BUS_LINE,
			    u->nick, arg, arglen);
		}
		break;
	case CHAT_NICK:
		/* Judged as typed: cleaning must not make "a\ab" into "ab". */
		if (chat_parse(raw, rawlen, &arg, &arglen) != CHAT_NICK)
			arglen = 0;
		chat_nick(c, u, arg, arglen);
		break;
	case CHAT_WHO:
		chat_who(c, u);
		chat_who_ask(c, u);
		break;
	case CHAT_ME:
		if (arglen == 0)
			chat_tell(c, "* Usage: /me ACTION");
		else {
			chat_broadcast(c, chat_msg("* ", u->nick, " ", arg,
			    arglen), 0, 1);
			chat_publish(sockd_conn_port_state(c), CHAT_BUS_ME,
			    u->nick, arg, arglen);
		}
		break;
	case CHAT_QUIT:
		chat_tell(c, "* Bye, %s.", u->nick);
		sockd_conn_close(c);
		break;
	case CHAT_HELP:
		chat_tell(c, "* /nick NAME  change your nick (1-16 of "
		    "A-Z a-z 0-9 _ -)");
		chat_tell(c, "* /who        list who is here");
		chat_tell(c, "* /me ACTION  say that you do something");
		chat_tell(c, "* /quit       leave");
		chat_tell(c, "* //text      say \"/text\"");
		break;
	case CHAT_UNKNOWN:
		chat_tell(c, "* Unknown command /%.*s; try /help",
		    (int)text_cut(arg, arglen, 32), arg);
		break;
	}
	free(raw);
}

static void
chat_close(struct sockd_conn *c)
{
	struct chat_user	*u = sockd_conn_data(c);
	struct chat_room	*room = sockd_conn_port_state(c);

	if (u == NULL)
		return;
	chat_broadcast(c, chat_msg("* ", u->nick, " left", "", 0), 0, 0);
	chat_publish(room, CHAT_BUS_LEAVE, u->nick, "", 0);
	user_unclaim(u, 0);
	user_unclaim(u, 1);
	sockd_bus_release(u->member);
	sockd_bus_cancel(u);
	free(u->held);
	if (u->prev != NULL)
		u->prev->next = u->next;
	else if (room->users == u)
		room->users = u->next;
	if (u->next != NULL)
		u->next->prev = u->prev;
	sockd_conn_set_data(c, NULL);
	free(u);
}

static time_t
monotonic_now(void)
{
	struct timespec	 ts;

	/* Peers age in elapsed time, whatever happens to the clock. */
	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		return time(NULL);
	return ts.tv_sec;
}

struct recipient {
	uint64_t	 seq;
	size_t		 i;
};

static int
recipient_cmp(const void *a, const void *b)
{
	const struct recipient	*x = a, *y = b;

	return x->seq < y->seq ? 1 : x->seq > y->seq ? -1 : 0;
}

/*
 * Sends line (len bytes) to every peer but from, most recently heard first,
 * while it fits what is left of budget and of sockd's own count.
 */
static void
chat_relay(struct sockd_dgram *d, struct peers *ps,
    const struct sockaddr *from, const char *line, size_t len, size_t budget)
{
	struct recipient	*r;
	struct sockaddr		*to;
	size_t			 i, n = 0, spent = 0, left;

	if ((r = calloc(ps->npeers + 1, sizeof(*r))) == NULL) {
		sockd_dgram_drop(d);
		return;
	}
	for (i = 0; i < ps->npeers; i++)
		if (!peers_addr_equal((struct sockaddr *)&ps->peer[i].addr,
		    from)) {
			r[n].seq = ps->peer[i].seq;
			r[n++].i = i;
		}
	/* Who gets it matters only when not all can: the talkers first. */
	if (n > budget / len)
		qsort(r, n, sizeof(*r), recipient_cmp);
	for (i = 0; i < n; i++) {
		/* sockd counts what this datagram caused; so does chat, for
		 * a sockd that counts each send alone. */
		left = sockd_dgram_reply_max(d);
		if (left > budget - spent)
			left = budget - spent;
		if (left < len)
			break;
		spent += len;
		to = (struct sockaddr *)&ps->peer[r[i].i].addr;
		(void)sockd_dgram_send_to(d, to, line, len);
	}
	free(r);
}

static void
chat_datagram(struct sockd_dgram *d, const char *buf, size_t len)
{
	struct chat_room	*room = sockd_dgram_port_state(d);
	const struct sockaddr	*from = sockd_dgram_peer_addr(d);
	struct peers		*ps = &room->peers;
	char			*out, *raw;
	size_t			 n, pre, budget = sockd_dgram_reply_max(d);
	int			 telnet = TEXT_TELNET_DATA;

	peers_touch(ps, from, monotonic_now());
	if (len > (SIZE_MAX - CHAT_PREFIX_MAX - 2) / 4 ||
	    (out = malloc(CHAT_PREFIX_MAX + 4 * len + 2)) == NULL) {
		sockd_dgram_drop(d);
		return;
	}
	raw = out + CHAT_PREFIX_MAX + 3 * len + 2;
	/* "<[2001:db8::1]:41234> ", cut short if sockd ever gave more. */
	pre = (size_t)snprintf(out, CHAT_PREFIX_MAX, "<%.*s> ",
	    CHAT_PREFIX_MAX - 6, sockd_dgram_peer(d));
	n = text_telnet_strip(raw, buf, len, &telnet);
	n = text_sanitize(out + pre, raw, n);
	/* Cut what the budget would refuse, at a character boundary. */
	if (n > 0 && pre + 2 < budget)
		n = text_cut(out + pre, n, budget - pre - 2);
	if (n == 0 || pre + 2 >= budget) {
		free(out);
		return;		/* joined, nothing to say */
	}
	memcpy(out + pre + n, CHAT_EOL, 2);
	chat_relay(d, ps, from, out, pre + n + 2, budget);
	free(out);
}

/* A history line the ring lets go of. */
static void
msg_drop(void *m)
{
	sockd_msg_unref(m);
}

static void	chat_unconfigure(void *);

/* Another host's user asked /who: names this host's users to it. */
static void
room_answer_who(struct chat_room *room, const struct chat_bus_event *q)
{
	struct who		 w = { NULL, 0, 0, 0 };
	struct chat_user	*u;
	char			 head[64];

	if (room->users == NULL)
		return;
	snprintf(head, sizeof(head), "%016llx %.*s ", q->host,
	    (int)q->textlen, q->text);
	who_add(&w, head);
	for (u = room->users; u != NULL; u = u->next) {
		if (u != room->users)
			who_add(&w, ", ");
		who_add(&w, u->nick);
	}
	if (!w.failed)
		chat_publish(room, CHAT_BUS_HERE, room->users->nick, w.buf,
		    w.len);
	free(w.buf);
}

/* An answer to a /who: to the user who asked, if here and still there. */
static void
room_show_here(struct chat_room *room, const struct chat_bus_event *e)
{
	struct chat_user	*u;
	struct sockd_msg	*m;
	unsigned long long	 host, id;
	const char		*p = e->text, *end = e->text + e->textlen;

	if (hex_read(&p, end, &host) == -1 || host != room->host)
		return;
	p++;
	if (dec_read(&p, end, &id) == -1)
		return;
	p++;
	for (u = room->users; u != NULL && u->id != id; u = u->next)
		;
	if (u == NULL)
		return;		/* gone since */
	m = chat_msg("* On another host: ", "", "", p, end - p);
	if (m != NULL) {
		(void)sockd_conn_send(u->conn, m);
		sockd_msg_unref(m);
	}
}

/* An event from another host's part of the room, to every user here. */
static void
on_bus_event(void *arg, const void *p, size_t len)
{
	struct chat_room	*room = arg;
	struct chat_bus_event	 e;
	struct chat_user	*u, *next;
	struct sockd_msg	*m, *old;
	char			*text;
	size_t			 n;
	int			 keep = 0;

	if (chat_bus_decode(p, len, &e) == -1 || e.host == room->host)
		return;
	if (e.kind == CHAT_BUS_WHO) {
		room_answer_who(room, &e);
		return;
	}
	if (e.kind == CHAT_BUS_HERE) {
		room_show_here(room, &e);
		return;
	}
	if ((text = malloc(TEXT_CLEAN_MAX(e.textlen) + 1)) == NULL)
		return;
	n = text_sanitize(text, e.text, e.textlen);
	switch (e.kind) {
	case CHAT_BUS_LINE:
		m = n > 0 ? chat_msg("<", e.nick, "> ", text, n) : NULL;
		keep = 1;
		break;
	case CHAT_BUS_ME:
		m = n > 0 ? chat_msg("* ", e.nick, " ", text, n) : NULL;
		keep = 1;
		break;
	case CHAT_BUS_JOIN:
		m = chat_msg("* ", e.nick, " joined", "", 0);
		break;
	case CHAT_BUS_LEAVE:
		m = chat_msg("* ", e.nick, " left", "", 0);
		break;
	default:
		m = chat_msg("* ", e.nick, " is now known as ", text, n);
		break;
	}
	free(text);
	if (m == NULL)
		return;
	for (u = room->users; u != NULL; u = next) {
		/* A send may close u (slow reader): later, never here. */
		next = u->next;
		(void)sockd_conn_send(u->conn, m);
	}
	if (keep && (old = ring_push(&room->hist, sockd_msg_ref(m))) != NULL)
		sockd_msg_unref(old);
	sockd_msg_unref(m);
}

/* The room's history in Redis, read when the bus came up: it has the
 * lines of every host, also those typed before this one started, and
 * replaces what this host kept alone (unless Redis has none). */
static void
on_history(void *arg, int rc, const struct sockd_bus_item *it, size_t n)
{
	struct chat_room	*room = arg;
	struct ring		 fresh;
	struct sockd_msg	*m, *old;
	char			*text;
	size_t			 i, tn;

	if (rc == -1 || n == 0 || ring_init(&fresh, room->hist.max) == -1)
		return;
	for (i = 0; i < n; i++) {
		/* Redis is no more trusted than a client: cleaned again. */
		if (it[i].data == NULL || it[i].len > CHAT_BUS_TEXT_MAX ||
		    (text = malloc(TEXT_CLEAN_MAX(it[i].len) + 1)) == NULL)
			continue;
		tn = text_sanitize(text, it[i].data, it[i].len);
		m = tn > 0 ? chat_msg("", "", "", text, tn) : NULL;
		free(text);
		if (m != NULL && (old = ring_push(&fresh, m)) != NULL)
			sockd_msg_unref(old);
	}
	ring_free(&room->hist, msg_drop);
	room->hist = fresh;
}

/* The bus came up (again): what Redis has of the history.  The daemon
 * claims the members' nicks again by itself. */
static void
on_bus_state(void *arg, int up)
{
	struct chat_room	*room = arg;
	char			 key[160];

	if (!up || room->hist.max == 0)
		return;
	room_key(room, key, sizeof(key), "history", NULL);
	(void)sockd_bus_range(key, room->hist.max, on_history, room);
}

/* A room name: 1 to 64 of [A-Za-z0-9_.-]. */
static int
room_valid(const char *s)
{
	size_t	 i;

	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
		    s[i] == '-' || s[i] == '.'))
			return 0;
	return i > 0 && i <= 64;
}

/* Joins the bus channel of name, when there is a bus. */
static const char *
room_subscribe(struct chat_room *room, const char *name)
{
	size_t	 n;

	if (!room_valid(name))
		return "room must be 1 to 64 letters, digits, _, - or .";
	n = sizeof("sockd:chat:") + strlen(name);
	if ((room->channel = malloc(n)) == NULL)
		return "out of memory";
	snprintf(room->channel, n, "sockd:chat:%s", name);
	if (getrandom(&room->host, sizeof(room->host), 0) !=
	    sizeof(room->host))
		room->host = (unsigned long long)time(NULL) ^
		    (unsigned long long)(uintptr_t)room;
	room->subscribed = sockd_bus_subscribe(room->channel, on_bus_event,
	    room) == 0;
	if (room->subscribed) {
		room->watching = sockd_bus_watch(on_bus_state, room) == 0;
		if (sockd_bus_connected())
			on_bus_state(room, 1);
	}
	return NULL;
}

static const char *
chat_configure(const struct sockd_opts *opts, void **port_state)
{
	struct chat_room	*room;
	long long		 history, timeout, peers, per_address;
	long long		 ttl, httl;
	const char		*name, *err;

	history = sockd_opt_int(opts, "history", 20);
	timeout = sockd_opt_int(opts, "peer_timeout", 300);
	peers = sockd_opt_int(opts, "max_peers", 64);
	per_address = sockd_opt_int(opts, "peers_per_address", 1);
	ttl = sockd_opt_int(opts, "ttl", 15);
	httl = sockd_opt_int(opts, "history_ttl", 86400);
	if (history < 0 || history > 10000)
		return "history must be between 0 and 10000 lines";
	if (timeout < 1 || timeout > 86400)
		return "peer_timeout must be between 1 and 86400 seconds";
	if (peers < 1 || peers > 65536)
		return "max_peers must be between 1 and 65536";
	if (per_address < 1 || per_address > 65536)
		return "peers_per_address must be between 1 and 65536";
	if (ttl < 3 || ttl > 300)
		return "ttl must be between 3 and 300 seconds";
	if (httl < 60 || httl > 30 * 86400)
		return "history_ttl must be between 60 and 2592000 seconds";
	if ((room = calloc(1, sizeof(*room))) == NULL)
		return "out of memory";
	if (ring_init(&room->hist, history) == -1 ||
	    peers_init(&room->peers, peers, timeout, per_address) == -1) {
		ring_free(&room->hist, NULL);
		free(room);
		return "out of memory";
	}
	room->ttl = ttl;
	room->history_ttl = httl;
	if ((name = sockd_opt_string(opts, "room", NULL)) != NULL &&
	    (err = room_subscribe(room, name)) != NULL) {
		chat_unconfigure(room);
		return err;
	}
	*port_state = room;
	return NULL;
}

static void
chat_unconfigure(void *port_state)
{
	struct chat_room	*room = port_state;

	if (room == NULL)
		return;
	if (room->watching)
		sockd_bus_unwatch(on_bus_state, room);
	sockd_bus_cancel(room);
	if (room->subscribed)
		sockd_bus_unsubscribe(room->channel, on_bus_event, room);
	free(room->channel);
	ring_free(&room->hist, msg_drop);
	peers_free(&room->peers);
	free(room);
}

/* A reload changed an option: the room goes on in the new port state, with
 * its newest history lines (as many as the new size keeps), the guest
 * counter and the UDP peers heard from most recently. */
static void
chat_reconfigure(void *port_state, void *old_port_state)
{
	struct chat_room	*room = port_state, *old = old_port_state;
	struct chat_user	*u;

	if (room == NULL || old == NULL)
		return;
	room->guests = old->guests;
	/* The users move; the room's origin too, so that its sequence goes
	 * on. */
	room->users = old->users;
	room->uids = old->uids;
	old->users = NULL;
	if (room->channel != NULL && old->channel != NULL) {
		room->host = old->host;
		room->seq = old->seq;
	}
	ring_refit(&room->hist, &old->hist, msg_drop);
	peers_refit(&room->peers, &old->peers);
	if (room->subscribed == old->subscribed && room->ttl == old->ttl &&
	    (room->channel == NULL || old->channel == NULL ?
	    room->channel == old->channel :
	    strcmp(room->channel, old->channel) == 0))
		return;
	/* Another room (or ttl): the members and nicks are claimed there. */
	for (u = room->users; u != NULL; u = u->next) {
		user_unclaim(u, 0);
		user_unclaim(u, 1);
		u->cur = 0;
		user_claim(room, u, 0, u->nick, 0);
		user_member(room, u);
		if (u->held != NULL)
			user_release_held(u);
	}
}

const struct sockd_handler sockd_handler_chat = {
	.abi_version = SOCKD_ABI_VERSION, .name = "chat",
	.protocols = SOCKD_TCP | SOCKD_UDP,
	.flags = SOCKD_LINES | SOCKD_ONE_LOOP, .options = chat_options,
	.configure = chat_configure, .unconfigure = chat_unconfigure,
	.tcp_connect = chat_connect, .tcp_data = chat_data,
	.tcp_close = chat_close, .udp_datagram = chat_datagram,
	.reconfigure = chat_reconfigure,
};
