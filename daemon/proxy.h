#ifndef SOCKD_PROXY_H
#define SOCKD_PROXY_H

#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>

/*
 * The PROXY protocol header (HAProxy's, versions 1 and 2) a balancer sends
 * before its client's bytes.  How conn.c uses it, for a service with
 * proxy_protocol = true (svc_conf: proxy_protocol, proxy_from,
 * proxy_timeout):
 *
 *  1. On accept, before anything else (before allow/deny, per_source and
 *     rate, which are the client's, not the balancer's): if
 *     !acl_allowed(&sc->proxy_from, peer), count it, log it (rate-limited)
 *     and close.  Nobody else may claim an address.  max_connections and
 *     the descriptor reserve are checked as for any connection: the
 *     socket holds a descriptor whoever it speaks for.
 *  2. Allocate a struct proxy (calloc), set the deadline of
 *     proxy_timeout seconds and read.  The handler is not told yet: no
 *     tcp_connect(), no banner, no idle timer, no line framing.
 *  3. Feed every read to proxy_feed().  PROXY_MORE: all of it was taken,
 *     read on.  The deadline, or EOF after some bytes, before PROXY_DONE:
 *     count, log (rate-limited), close.  EOF before any byte is a
 *     balancer's health check: a debug line only.
 *  4. PROXY_DONE: drop the deadline.  If proxy_peer() gives an address,
 *     it replaces the peer everywhere (logs, per_source, rate, the
 *     address handlers see); NULL (LOCAL, UNSPEC/UNKNOWN, AF_UNIX) keeps
 *     the real peer, the balancer.  Then run allow/deny, per_source and
 *     rate on that address, counting it on its source; refused: the busy
 *     line where a direct client gets it, and close.  Then free the
 *     struct proxy, call tcp_connect(), send the banner, start the idle
 *     timer, and hand the rest of the read (from offset *used, when
 *     *used < len) to the handler as the client's first data, through
 *     line framing as usual.
 *  5. PROXY_ERROR: count, log proxy_strerror() with the real peer
 *     (rate-limited), close.  Nothing is sent back: the peer may not be
 *     a PROXY speaker at all.
 *
 * The parser keeps at most 16 + PROXY_V2_ADDR_MAX bytes of the header (a
 * v1 line or a v2 fixed part and addresses); TLVs are skipped as they
 * arrive, never stored.  It never allocates.
 */

#define PROXY_V1_MAX		107	/* a v1 line, "\r\n" included */
#define PROXY_V2_ADDR_MAX	216	/* two AF_UNIX paths of 108 bytes */
#define PROXY_V2_TLV_MAX	1024	/* bytes after the addresses */
#define PROXY_V2_MAX		(16 + PROXY_V2_ADDR_MAX + PROXY_V2_TLV_MAX)

enum proxy_status { PROXY_MORE, PROXY_DONE, PROXY_ERROR };

/* Why a header was refused: proxy_strerror() says it in words. */
enum proxy_error {
	PROXY_OK,
	PROXY_ENOHDR,		/* neither "PROXY " nor the v2 signature */
	PROXY_EV1LONG,		/* no "\r\n" within PROXY_V1_MAX bytes */
	PROXY_EV1CRLF,		/* "\n" without "\r", or "\r" alone */
	PROXY_EV1CHAR,		/* a byte that is not printable ASCII */
	PROXY_EV1FIELDS,	/* not 6 fields, single spaces between */
	PROXY_EV1PROTO,		/* not TCP4, TCP6 or UNKNOWN */
	PROXY_EV1ADDR,		/* inet_pton() refuses it for the protocol */
	PROXY_EV1PORT,		/* not a decimal number 0 to 65535 */
	PROXY_EV2VERSION,	/* version not 2 */
	PROXY_EV2CMD,		/* command neither LOCAL nor PROXY */
	PROXY_EV2FAMILY,	/* family or transport unknown */
	PROXY_EV2DGRAM,		/* a datagram transport */
	PROXY_EV2SHORT,		/* length too small for the family */
	PROXY_EV2LONG,		/* more than PROXY_V2_TLV_MAX after them */
	PROXY_EV2TLV,		/* a TLV runs past the declared length */
};

enum proxy_cmd { PROXY_CMD_LOCAL, PROXY_CMD_PROXY };

/* UNSPEC: v1 UNKNOWN, or v2 AF_UNSPEC. */
enum proxy_family {
	PROXY_FAM_UNSPEC, PROXY_FAM_TCP4, PROXY_FAM_TCP6, PROXY_FAM_UNIX
};

/* What a complete header says. */
struct proxy_hdr {
	int			 version;	/* 1 or 2 */
	enum proxy_cmd		 cmd;		/* v1: always PROXY */
	enum proxy_family	 family;
	/* AF_INET, AF_INET6 or AF_UNIX (v2 paths, for logs); ss_family 0
	 * when the header carries none (LOCAL, UNSPEC). */
	struct sockaddr_storage	 src, dst;
	size_t			 len;		/* of the header, in bytes */
};

/* The parser of one connection's header; all zero is the initial state. */
struct proxy {
	uint8_t			 state;
	uint8_t			 error;		/* an enum proxy_error */
	uint16_t		 n;		/* bytes in buf */
	uint16_t		 need;		/* bytes buf must reach */
	uint16_t		 skip;		/* bytes to pass over */
	uint16_t		 tlv_left;	/* of the TLVs, not yet taken */
	uint8_t			 tlv_n;		/* bytes of tlv[] read */
	uint8_t			 tlv[3];	/* a TLV's type and length */
	size_t			 taken;		/* bytes of header so far */
	uint8_t			 buf[16 + PROXY_V2_ADDR_MAX];
	struct proxy_hdr	 hdr;		/* once PROXY_DONE */
};

/* Makes p ready for a new header. */
void		 proxy_init(struct proxy *p);
/*
 * Takes the next len bytes of the connection.  PROXY_MORE: all of them
 * were header, more is needed.  PROXY_DONE: the header is complete, in
 * p->hdr; it ended *used bytes into buf, the rest is the client's.
 * PROXY_ERROR: not a valid header, proxy_error() says why.  After DONE or
 * ERROR, further calls take nothing and return the same.
 */
enum proxy_status proxy_feed(struct proxy *p, const void *buf, size_t len,
		    size_t *used);
enum proxy_error proxy_error(const struct proxy *p);
/* A short English sentence, "PROXY v1: bad port" style; never NULL. */
const char	*proxy_strerror(enum proxy_error);
/* The address that replaces the peer: the carried source of a PROXY
 * command over TCP4 or TCP6; NULL when the real peer stays. */
const struct sockaddr *proxy_peer(const struct proxy_hdr *);

#endif
