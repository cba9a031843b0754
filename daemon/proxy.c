/*
 * proxy: an incremental parser of the PROXY protocol header, versions 1
 * (a text line) and 2 (binary), that a balancer sends before its client's
 * bytes.  It is fed whatever each read brought, one byte or many, and
 * never takes a byte past the header, so the rest of a read is the
 * client's.  The first bytes choose the version: "PROXY" or the 12-byte v2
 * signature; anything else is refused at its first byte that differs.  A
 * v1 line is kept (at most 107 bytes) and parsed at its "\r\n", strictly:
 * single spaces, inet_pton() addresses, decimal ports without sign or
 * leading zero.  A v2 header keeps its fixed 16 bytes and its addresses;
 * the TLVs after them are skipped as they arrive, each checked against
 * the declared length, at most PROXY_V2_TLV_MAX bytes of them.  LOCAL
 * (health checks) and UNSPEC skip their whole block unread, as the spec
 * says, and keep the real peer.  Datagram transports are refused: sockd
 * takes the header on TCP connections only, and a UDP source is not one a
 * handshake has vouched for.  The state is one fixed struct, no
 * allocation.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include <sys/un.h>

#include "proxy.h"

enum {
	S_START,	/* choosing the version */
	S_V1,		/* the v1 line, up to "\r\n" */
	S_V2,		/* the v2 fixed part and addresses, into buf */
	S_SKIP,		/* a v2 block not read: LOCAL, UNSPEC */
	S_TLV,		/* a TLV's type and length */
	S_TLV_VALUE,	/* a TLV's value */
	S_DONE,
	S_ERROR
};

static const uint8_t v2_sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};
static const char v1_sig[5] = { 'P', 'R', 'O', 'X', 'Y' };

/* v2 families and transports, as the 14th byte carries them. */
#define V2_UNSPEC	0x00
#define V2_TCP4		0x11
#define V2_UDP4		0x12
#define V2_TCP6		0x21
#define V2_UDP6		0x22
#define V2_UNIX_STREAM	0x31
#define V2_UNIX_DGRAM	0x32

void
proxy_init(struct proxy *p)
{
	memset(p, 0, sizeof(*p));
}

enum proxy_error
proxy_error(const struct proxy *p)
{
	return (enum proxy_error)p->error;
}

const char *
proxy_strerror(enum proxy_error e)
{
	switch (e) {
	case PROXY_OK:
		return "no error";
	case PROXY_ENOHDR:
		return "no PROXY header";
	case PROXY_EV1LONG:
		return "PROXY v1: no CRLF within 107 bytes";
	case PROXY_EV1CRLF:
		return "PROXY v1: the line does not end in CRLF";
	case PROXY_EV1CHAR:
		return "PROXY v1: a byte that is not printable ASCII";
	case PROXY_EV1FIELDS:
		return "PROXY v1: not 6 fields separated by single spaces";
	case PROXY_EV1PROTO:
		return "PROXY v1: protocol not TCP4, TCP6 or UNKNOWN";
	case PROXY_EV1ADDR:
		return "PROXY v1: an address not of the protocol's family";
	case PROXY_EV1PORT:
		return "PROXY v1: a port not a decimal number from 0 to 65535";
	case PROXY_EV2VERSION:
		return "PROXY v2: version not 2";
	case PROXY_EV2CMD:
		return "PROXY v2: command neither LOCAL nor PROXY";
	case PROXY_EV2FAMILY:
		return "PROXY v2: unknown address family or transport";
	case PROXY_EV2DGRAM:
		return "PROXY v2: a datagram transport; only stream "
		    "connections are taken";
	case PROXY_EV2SHORT:
		return "PROXY v2: length too small for the address family";
	case PROXY_EV2LONG:
		return "PROXY v2: more than 1024 bytes after the addresses";
	case PROXY_EV2TLV:
		return "PROXY v2: a TLV runs past the end of the header";
	}
	return "PROXY: unknown error";
}

const struct sockaddr *
proxy_peer(const struct proxy_hdr *h)
{
	if (h->cmd != PROXY_CMD_PROXY ||
	    (h->family != PROXY_FAM_TCP4 && h->family != PROXY_FAM_TCP6))
		return NULL;
	return (const struct sockaddr *)&h->src;
}

static enum proxy_status
fail(struct proxy *p, enum proxy_error e)
{
	p->state = S_ERROR;
	p->error = (uint8_t)e;
	return PROXY_ERROR;
}

static enum proxy_status
done(struct proxy *p)
{
	p->state = S_DONE;
	return PROXY_DONE;
}

/* The text of a v1 field, NUL-terminated into out, or -1 if too long. */
static int
v1_copy(const char *s, size_t len, char *out, size_t size)
{
	if (len >= size)
		return -1;
	memcpy(out, s, len);
	out[len] = '\0';
	return 0;
}

static int
v1_port(const char *s, size_t len, uint16_t *port)
{
	unsigned long v = 0;
	size_t i;

	if (len == 0 || len > 5 || (s[0] == '0' && len > 1))
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v > 65535)
		return -1;
	*port = htons((uint16_t)v);
	return 0;
}

static enum proxy_error
v1_addr(const char *s, size_t len, const char *ps, size_t plen, int af,
    struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (void *)ss;
	struct sockaddr_in6 *sin6 = (void *)ss;
	char text[INET6_ADDRSTRLEN];
	uint16_t port;

	memset(ss, 0, sizeof(*ss));
	if (v1_copy(s, len, text, sizeof(text)) == -1 ||
	    inet_pton(af, text, af == AF_INET ? (void *)&sin->sin_addr :
	    (void *)&sin6->sin6_addr) != 1)
		return PROXY_EV1ADDR;
	if (v1_port(ps, plen, &port) == -1)
		return PROXY_EV1PORT;
	ss->ss_family = (sa_family_t)af;
	if (af == AF_INET)
		sin->sin_port = port;
	else
		sin6->sin6_port = port;
	return PROXY_OK;
}

/* Parses the line in buf, "\r\n" included; every byte is printable. */
static enum proxy_status
v1_parse(struct proxy *p)
{
	const char *line = (const char *)p->buf, *f[6], *s, *sp, *end;
	size_t flen[6];
	enum proxy_error e;
	int nf, af, empty;

	end = line + p->n - 2;
	/* "PROXY UNKNOWN" may be followed by anything up to the CRLF. */
	if (end - line >= 13 && memcmp(line, "PROXY UNKNOWN", 13) == 0 &&
	    (end - line == 13 || line[13] == ' ')) {
		p->hdr.version = 1;
		p->hdr.cmd = PROXY_CMD_PROXY;
		p->hdr.family = PROXY_FAM_UNSPEC;
		return done(p);
	}
	for (nf = 0, empty = 0, s = line;; nf++, s = sp + 1) {
		sp = memchr(s, ' ', (size_t)(end - s));
		if (nf < 6) {
			f[nf] = s;
			flen[nf] = (size_t)((sp != NULL ? sp : end) - s);
		}
		/* Two spaces in a row, or one at the end. */
		if ((sp != NULL ? sp : end) == s)
			empty = 1;
		if (sp == NULL)
			break;
	}
	nf++;
	/* A wrong protocol is the clearer thing to report, even when the
	 * count of fields is wrong too. */
	if (nf >= 2 && flen[1] > 0 && !(flen[1] == 4 &&
	    (memcmp(f[1], "TCP4", 4) == 0 || memcmp(f[1], "TCP6", 4) == 0)))
		return fail(p, PROXY_EV1PROTO);
	if (empty || nf != 6)
		return fail(p, PROXY_EV1FIELDS);
	af = f[1][3] == '4' ? AF_INET : AF_INET6;
	if ((e = v1_addr(f[2], flen[2], f[4], flen[4], af, &p->hdr.src)) !=
	    PROXY_OK ||
	    (e = v1_addr(f[3], flen[3], f[5], flen[5], af, &p->hdr.dst)) !=
	    PROXY_OK)
		return fail(p, e);
	p->hdr.version = 1;
	p->hdr.cmd = PROXY_CMD_PROXY;
	p->hdr.family = af == AF_INET ? PROXY_FAM_TCP4 : PROXY_FAM_TCP6;
	return done(p);
}

/* One more byte of the v1 line. */
static enum proxy_status
v1_byte(struct proxy *p, uint8_t c)
{
	p->buf[p->n++] = c;
	if (c == '\n') {
		if (p->n < 2 || p->buf[p->n - 2] != '\r')
			return fail(p, PROXY_EV1CRLF);
		return v1_parse(p);
	}
	if (p->n >= 2 && p->buf[p->n - 2] == '\r')
		return fail(p, PROXY_EV1CRLF);
	/* The last byte a line may have is its "\n". */
	if (p->n == PROXY_V1_MAX)
		return fail(p, PROXY_EV1LONG);
	if (c != '\r' && (c < 0x20 || c > 0x7e))
		return fail(p, PROXY_EV1CHAR);
	if (p->n == sizeof(v1_sig) + 1 && c != ' ')
		return fail(p, PROXY_EV1FIELDS);
	return PROXY_MORE;
}

static void
v2_inet(struct sockaddr_storage *ss, int af, const uint8_t *addr,
    const uint8_t *port)
{
	struct sockaddr_in *sin = (void *)ss;
	struct sockaddr_in6 *sin6 = (void *)ss;

	memset(ss, 0, sizeof(*ss));
	ss->ss_family = (sa_family_t)af;
	if (af == AF_INET) {
		memcpy(&sin->sin_addr, addr, 4);
		memcpy(&sin->sin_port, port, 2);
	} else {
		memcpy(&sin6->sin6_addr, addr, 16);
		memcpy(&sin6->sin6_port, port, 2);
	}
}

static void
v2_unix(struct sockaddr_storage *ss, const uint8_t *path)
{
	struct sockaddr_un *sun = (void *)ss;

	memset(ss, 0, sizeof(*ss));
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, path, 108);
}

/* The TLVs after the addresses: tlv_left bytes of them, maybe none. */
static enum proxy_status
v2_tlvs(struct proxy *p)
{
	if (p->tlv_left == 0)
		return done(p);
	if (p->tlv_left < 3)
		return fail(p, PROXY_EV2TLV);
	p->tlv_n = 0;
	p->state = S_TLV;
	return PROXY_MORE;
}

/* The fixed 16 bytes are in buf: check them, and say what comes next. */
static enum proxy_status
v2_fixed(struct proxy *p)
{
	unsigned int len = (unsigned int)p->buf[14] << 8 | p->buf[15];
	unsigned int alen;

	if (p->buf[12] >> 4 != 2)
		return fail(p, PROXY_EV2VERSION);
	if ((p->buf[12] & 0xf) > 1)
		return fail(p, PROXY_EV2CMD);
	p->hdr.version = 2;
	p->hdr.cmd = (p->buf[12] & 0xf) == 1 ? PROXY_CMD_PROXY :
	    PROXY_CMD_LOCAL;
	/* LOCAL: "the receiver must ... discard the protocol block
	 * including the family, which is ignored". */
	switch (p->hdr.cmd == PROXY_CMD_LOCAL ? V2_UNSPEC : p->buf[13]) {
	case V2_UNSPEC:
		if (len > PROXY_V2_ADDR_MAX + PROXY_V2_TLV_MAX)
			return fail(p, PROXY_EV2LONG);
		p->hdr.family = PROXY_FAM_UNSPEC;
		if (len == 0)
			return done(p);
		p->skip = (uint16_t)len;
		p->state = S_SKIP;
		return PROXY_MORE;
	case V2_TCP4:
		p->hdr.family = PROXY_FAM_TCP4;
		alen = 12;
		break;
	case V2_TCP6:
		p->hdr.family = PROXY_FAM_TCP6;
		alen = 36;
		break;
	case V2_UNIX_STREAM:
		p->hdr.family = PROXY_FAM_UNIX;
		alen = 216;
		break;
	case V2_UDP4:
	case V2_UDP6:
	case V2_UNIX_DGRAM:
		return fail(p, PROXY_EV2DGRAM);
	default:
		return fail(p, PROXY_EV2FAMILY);
	}
	if (len < alen)
		return fail(p, PROXY_EV2SHORT);
	if (len - alen > PROXY_V2_TLV_MAX)
		return fail(p, PROXY_EV2LONG);
	p->need = (uint16_t)(16 + alen);
	p->tlv_left = (uint16_t)(len - alen);
	return PROXY_MORE;
}

/* buf holds the fixed part and the addresses of a PROXY command. */
static enum proxy_status
v2_addresses(struct proxy *p)
{
	const uint8_t *a = p->buf + 16;

	switch (p->hdr.family) {
	case PROXY_FAM_TCP4:
		v2_inet(&p->hdr.src, AF_INET, a, a + 8);
		v2_inet(&p->hdr.dst, AF_INET, a + 4, a + 10);
		break;
	case PROXY_FAM_TCP6:
		v2_inet(&p->hdr.src, AF_INET6, a, a + 32);
		v2_inet(&p->hdr.dst, AF_INET6, a + 16, a + 34);
		break;
	default:
		v2_unix(&p->hdr.src, a);
		v2_unix(&p->hdr.dst, a + 108);
		break;
	}
	return v2_tlvs(p);
}

/* Takes what it can of in[0..len) in the current state; *n says how
 * much. */
static enum proxy_status
proxy_step(struct proxy *p, const uint8_t *in, size_t len, size_t *n)
{
	size_t k;
	unsigned int vlen;

	*n = 1;
	switch (p->state) {
	case S_START:
		p->buf[p->n++] = in[0];
		if (p->buf[0] == v1_sig[0]) {
			if (p->buf[p->n - 1] != (uint8_t)v1_sig[p->n - 1])
				return fail(p, PROXY_ENOHDR);
			if (p->n == sizeof(v1_sig))
				p->state = S_V1;
			return PROXY_MORE;
		}
		if (p->buf[p->n - 1] != v2_sig[p->n - 1])
			return fail(p, PROXY_ENOHDR);
		if (p->n == sizeof(v2_sig)) {
			p->state = S_V2;
			p->need = 16;
		}
		return PROXY_MORE;
	case S_V1:
		return v1_byte(p, in[0]);
	case S_V2:
		k = p->need - p->n;
		*n = k < len ? k : len;
		memcpy(p->buf + p->n, in, *n);
		p->n += (uint16_t)*n;
		if (p->n < p->need)
			return PROXY_MORE;
		if (p->n == 16)
			return v2_fixed(p);
		return v2_addresses(p);
	case S_SKIP:
		*n = p->skip < len ? p->skip : len;
		p->skip -= (uint16_t)*n;
		return p->skip == 0 ? done(p) : PROXY_MORE;
	case S_TLV:
		p->tlv[p->tlv_n++] = in[0];
		if (p->tlv_n < 3)
			return PROXY_MORE;
		vlen = (unsigned int)p->tlv[1] << 8 | p->tlv[2];
		p->tlv_left -= 3;
		if (vlen > p->tlv_left)
			return fail(p, PROXY_EV2TLV);
		p->tlv_left -= (uint16_t)vlen;
		p->skip = (uint16_t)vlen;
		p->state = S_TLV_VALUE;
		if (vlen == 0)
			break;
		return PROXY_MORE;
	case S_TLV_VALUE:
		*n = p->skip < len ? p->skip : len;
		p->skip -= (uint16_t)*n;
		if (p->skip > 0)
			return PROXY_MORE;
		break;
	case S_DONE:
		*n = 0;
		return PROXY_DONE;
	default:
		*n = 0;
		return PROXY_ERROR;
	}
	/* A TLV's value is over (or empty): the next one, or the end. */
	return v2_tlvs(p);
}

enum proxy_status
proxy_feed(struct proxy *p, const void *buf, size_t len, size_t *used)
{
	const uint8_t *in = buf;
	enum proxy_status st;
	size_t i = 0, n;

	if (p->state == S_DONE || p->state == S_ERROR) {
		*used = 0;
		return p->state == S_DONE ? PROXY_DONE : PROXY_ERROR;
	}
	st = PROXY_MORE;
	while (i < len && st == PROXY_MORE) {
		st = proxy_step(p, in + i, len - i, &n);
		i += n;
	}
	p->taken += i;
	if (st == PROXY_DONE)
		p->hdr.len = p->taken;
	*used = i;
	return st;
}
