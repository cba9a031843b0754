/*
 * proxy: every valid shape of header is parsed the same fed whole, one
 * byte at a time and cut in two at every point, and leaves the client's
 * bytes after it alone; every malformed shape is refused with its own
 * reason, as early as its bytes allow.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include <sys/un.h>

#include "proxy.h"

static const uint8_t sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};

/* A v2 header into out: signature, ver_cmd, fam, the declared len (not
 * necessarily blen), then blen bytes of body.  Returns its size. */
static size_t
v2(uint8_t *out, uint8_t vc, uint8_t fam, unsigned int len,
    const void *body, size_t blen)
{
	memcpy(out, sig, 12);
	out[12] = vc;
	out[13] = fam;
	out[14] = (uint8_t)(len >> 8);
	out[15] = (uint8_t)len;
	if (blen > 0)
		memcpy(out + 16, body, blen);
	return 16 + blen;
}

/* The TCP4 addresses of a v2 body: 192.0.2.7:41234 -> 198.51.100.1:7. */
static const uint8_t inet_body[12] = {
	192, 0, 2, 7, 198, 51, 100, 1, 0xa1, 0x12, 0x00, 0x07
};

static const char trail[] = "GET / HTTP/1.0\r\n\r\n";

/* Feeds hdr and then the client's bytes: whole, byte by byte, and cut in
 * two at every point; each way must end at the header's last byte and
 * agree.  The header as parsed is left in *out. */
static void
assert_parses(const void *hdr, size_t hlen, struct proxy_hdr *out)
{
	uint8_t all[2048];
	size_t alen = hlen + sizeof(trail) - 1, i, k, used;
	struct proxy p, q;

	assert_true(alen <= sizeof(all));
	memcpy(all, hdr, hlen);
	memcpy(all + hlen, trail, sizeof(trail) - 1);

	proxy_init(&p);
	assert_int_equal(proxy_feed(&p, all, alen, &used), PROXY_DONE);
	assert_int_equal(used, hlen);
	assert_int_equal(p.hdr.len, hlen);
	assert_int_equal(proxy_error(&p), PROXY_OK);
	/* Done: nothing more is taken. */
	assert_int_equal(proxy_feed(&p, all + used, alen - used, &used),
	    PROXY_DONE);
	assert_int_equal(used, 0);

	proxy_init(&q);
	for (i = 0; i + 1 < hlen; i++) {
		assert_int_equal(proxy_feed(&q, all + i, 1, &used),
		    PROXY_MORE);
		assert_int_equal(used, 1);
	}
	assert_int_equal(proxy_feed(&q, all + i, 1, &used), PROXY_DONE);
	assert_int_equal(used, 1);
	assert_memory_equal(&p.hdr, &q.hdr, sizeof(p.hdr));

	for (k = 0; k < alen; k++) {
		proxy_init(&q);
		if (k < hlen) {
			assert_int_equal(proxy_feed(&q, all, k, &used),
			    PROXY_MORE);
			assert_int_equal(used, k);
			assert_int_equal(proxy_feed(&q, all + k, alen - k,
			    &used), PROXY_DONE);
			assert_int_equal(used, hlen - k);
		} else {
			assert_int_equal(proxy_feed(&q, all, k, &used),
			    PROXY_DONE);
			assert_int_equal(used, hlen);
		}
		assert_memory_equal(&p.hdr, &q.hdr, sizeof(p.hdr));
	}
	*out = p.hdr;
}

/* Feeds bad whole and byte by byte: both refuse it for reason e, the
 * second at byte at (counted from 1), not later. */
static void
assert_refused_at(const void *bad, size_t len, enum proxy_error e,
    size_t at)
{
	struct proxy p;
	size_t i, used;

	proxy_init(&p);
	assert_int_equal(proxy_feed(&p, bad, len, &used), PROXY_ERROR);
	assert_int_equal(proxy_error(&p), e);
	assert_int_equal(proxy_feed(&p, bad, len, &used), PROXY_ERROR);
	assert_int_equal(used, 0);
	proxy_init(&p);
	for (i = 0; i + 1 < at; i++)
		assert_int_equal(proxy_feed(&p, (const uint8_t *)bad + i, 1,
		    &used), PROXY_MORE);
	assert_int_equal(proxy_feed(&p, (const uint8_t *)bad + i, 1, &used),
	    PROXY_ERROR);
	assert_int_equal(proxy_error(&p), e);
}

static void
assert_refused(const void *bad, size_t len, enum proxy_error e)
{
	assert_refused_at(bad, len, e, len);
}

static void
assert_text_refused(const char *bad, enum proxy_error e)
{
	assert_refused(bad, strlen(bad), e);
}

static void
assert_inet(const struct sockaddr_storage *ss, int af, const char *addr,
    int port)
{
	char text[INET6_ADDRSTRLEN];
	const struct sockaddr_in *sin = (const void *)ss;
	const struct sockaddr_in6 *sin6 = (const void *)ss;

	assert_int_equal(ss->ss_family, af);
	if (af == AF_INET) {
		inet_ntop(af, &sin->sin_addr, text, sizeof(text));
		assert_int_equal(ntohs(sin->sin_port), port);
	} else {
		inet_ntop(af, &sin6->sin6_addr, text, sizeof(text));
		assert_int_equal(ntohs(sin6->sin6_port), port);
	}
	assert_string_equal(text, addr);
}

static void
a_v1_tcp4_header_carries_both_addresses_and_ports(void **state)
{
	const char *h = "PROXY TCP4 192.0.2.7 198.51.100.1 41234 7\r\n";
	struct proxy_hdr r;

	(void)state;
	assert_parses(h, strlen(h), &r);
	assert_int_equal(r.version, 1);
	assert_int_equal(r.cmd, PROXY_CMD_PROXY);
	assert_int_equal(r.family, PROXY_FAM_TCP4);
	assert_inet(&r.src, AF_INET, "192.0.2.7", 41234);
	assert_inet(&r.dst, AF_INET, "198.51.100.1", 7);
	assert_ptr_equal(proxy_peer(&r), (const void *)&r.src);
}

static void
a_v1_tcp6_header_carries_both_addresses_and_ports(void **state)
{
	const char *h =
	    "PROXY TCP6 2001:db8::7 ::ffff:198.51.100.1 0 65535\r\n";
	/* The longest TCP6 line there is: 104 bytes. */
	const char *longest = "PROXY TCP6 "
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n";
	struct proxy_hdr r;

	(void)state;
	assert_parses(h, strlen(h), &r);
	assert_int_equal(r.family, PROXY_FAM_TCP6);
	assert_inet(&r.src, AF_INET6, "2001:db8::7", 0);
	assert_inet(&r.dst, AF_INET6, "::ffff:198.51.100.1", 65535);
	assert_ptr_equal(proxy_peer(&r), (const void *)&r.src);
	assert_int_equal(strlen(longest), 104);
	assert_parses(longest, strlen(longest), &r);
	assert_inet(&r.src, AF_INET6, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
	    65535);
}

static void
a_v1_unknown_header_keeps_the_real_peer(void **state)
{
	const char *shrt = "PROXY UNKNOWN\r\n";
	const char *lng = "PROXY UNKNOWN ffff::1 ffff::2 anything  at all\r\n";
	char max[PROXY_V1_MAX + 1];
	struct proxy_hdr r;

	(void)state;
	assert_parses(shrt, strlen(shrt), &r);
	assert_int_equal(r.version, 1);
	assert_int_equal(r.family, PROXY_FAM_UNSPEC);
	assert_int_equal(r.src.ss_family, 0);
	assert_null(proxy_peer(&r));
	assert_parses(lng, strlen(lng), &r);
	assert_null(proxy_peer(&r));
	/* 107 bytes, CRLF included, is the most a line may have. */
	memset(max, 'x', sizeof(max));
	memcpy(max, "PROXY UNKNOWN ", 14);
	memcpy(max + PROXY_V1_MAX - 2, "\r\n", 2);
	assert_parses(max, PROXY_V1_MAX, &r);
	assert_null(proxy_peer(&r));
}

static void
a_v2_proxy_inet_header_carries_both_addresses_and_ports(void **state)
{
	uint8_t h[64];
	size_t n = v2(h, 0x21, 0x11, 12, inet_body, 12);
	struct proxy_hdr r;

	(void)state;
	assert_parses(h, n, &r);
	assert_int_equal(r.version, 2);
	assert_int_equal(r.cmd, PROXY_CMD_PROXY);
	assert_int_equal(r.family, PROXY_FAM_TCP4);
	assert_inet(&r.src, AF_INET, "192.0.2.7", 41234);
	assert_inet(&r.dst, AF_INET, "198.51.100.1", 7);
	assert_ptr_equal(proxy_peer(&r), (const void *)&r.src);
}

static void
a_v2_proxy_inet6_header_carries_both_addresses_and_ports(void **state)
{
	uint8_t body[36] = { 0x20, 0x01, 0x0d, 0xb8 }, h[64];
	size_t n;
	struct proxy_hdr r;

	(void)state;
	body[15] = 7;				/* 2001:db8::7 */
	body[31] = 1;				/* ::1 */
	body[32] = 0xa1;			/* 41234 */
	body[33] = 0x12;
	body[35] = 80;
	n = v2(h, 0x21, 0x21, 36, body, 36);
	assert_parses(h, n, &r);
	assert_int_equal(r.family, PROXY_FAM_TCP6);
	assert_inet(&r.src, AF_INET6, "2001:db8::7", 41234);
	assert_inet(&r.dst, AF_INET6, "::1", 80);
	assert_ptr_equal(proxy_peer(&r), (const void *)&r.src);
}

static void
a_v2_local_header_keeps_the_real_peer_whatever_its_block(void **state)
{
	uint8_t h[64], junk[20] = { 0xff, 0xff, 0xff };
	size_t n;
	struct proxy_hdr r;

	(void)state;
	/* HAProxy's health check: LOCAL, UNSPEC, no block. */
	n = v2(h, 0x20, 0x00, 0, NULL, 0);
	assert_parses(h, n, &r);
	assert_int_equal(r.version, 2);
	assert_int_equal(r.cmd, PROXY_CMD_LOCAL);
	assert_int_equal(r.family, PROXY_FAM_UNSPEC);
	assert_null(proxy_peer(&r));
	/* The family of a LOCAL is ignored, its block skipped unread (not
	 * even as TLVs), even a short one. */
	n = v2(h, 0x20, 0x11, 12, inet_body, 12);
	assert_parses(h, n, &r);
	assert_null(proxy_peer(&r));
	n = v2(h, 0x20, 0x21, 4, inet_body, 4);
	assert_parses(h, n, &r);
	assert_int_equal(r.src.ss_family, 0);
	n = v2(h, 0x20, 0xff, sizeof(junk), junk, sizeof(junk));
	assert_parses(h, n, &r);
	assert_null(proxy_peer(&r));
}

static void
a_v2_unspec_header_keeps_the_real_peer(void **state)
{
	uint8_t h[64];
	size_t n;
	struct proxy_hdr r;

	(void)state;
	n = v2(h, 0x21, 0x00, 0, NULL, 0);
	assert_parses(h, n, &r);
	assert_int_equal(r.cmd, PROXY_CMD_PROXY);
	assert_int_equal(r.family, PROXY_FAM_UNSPEC);
	assert_null(proxy_peer(&r));
	n = v2(h, 0x21, 0x00, 12, inet_body, 12);
	assert_parses(h, n, &r);
	assert_null(proxy_peer(&r));
}

static void
a_v2_unix_header_keeps_the_real_peer_and_reports_the_paths(void **state)
{
	uint8_t body[216 + 7] = { 0 }, h[300];
	const struct sockaddr_un *sun;
	size_t n;
	struct proxy_hdr r;

	(void)state;
	memcpy(body, "/run/client.sock", 16);
	memcpy(body + 108, "/run/sockd.sock", 15);
	/* A TLV after the paths: PP2_TYPE_AUTHORITY "abcd". */
	memcpy(body + 216, "\x02\x00\x04" "abcd", 7);
	n = v2(h, 0x21, 0x31, sizeof(body), body, sizeof(body));
	assert_parses(h, n, &r);
	assert_int_equal(r.family, PROXY_FAM_UNIX);
	sun = (const void *)&r.src;
	assert_int_equal(sun->sun_family, AF_UNIX);
	assert_string_equal(sun->sun_path, "/run/client.sock");
	sun = (const void *)&r.dst;
	assert_string_equal(sun->sun_path, "/run/sockd.sock");
	assert_null(proxy_peer(&r));
}

static void
v2_tlvs_are_skipped_up_to_the_limit(void **state)
{
	static uint8_t big[PROXY_V2_MAX];
	uint8_t body[12 + PROXY_V2_TLV_MAX], h[16 + sizeof(body)];
	size_t n, tl = 0;
	struct proxy_hdr r;

	(void)state;
	memcpy(body, inet_body, 12);
	/* An empty NOOP, a CRC32C (not checked), then one NOOP whose value
	 * fills the rest of the limit exactly. */
	memcpy(body + 12, "\x04\x00\x00", 3);
	tl += 3;
	memcpy(body + 12 + tl, "\x03\x00\x04" "\xde\xad\xbe\xef", 7);
	tl += 7;
	body[12 + tl] = 0x04;
	body[12 + tl + 1] = (uint8_t)((PROXY_V2_TLV_MAX - tl - 3) >> 8);
	body[12 + tl + 2] = (uint8_t)(PROXY_V2_TLV_MAX - tl - 3);
	memset(body + 12 + tl + 3, 'v', PROXY_V2_TLV_MAX - tl - 3);
	n = v2(h, 0x21, 0x11, sizeof(body), body, sizeof(body));
	assert_int_equal(n, 16 + 12 + PROXY_V2_TLV_MAX);
	assert_parses(h, n, &r);
	assert_inet(&r.src, AF_INET, "192.0.2.7", 41234);
	/* And a LOCAL block of the largest size, skipped unread. */
	n = v2(big, 0x20, 0x00, PROXY_V2_MAX - 16, NULL, 0);
	assert_parses(big, PROXY_V2_MAX, &r);
	assert_int_equal(r.cmd, PROXY_CMD_LOCAL);
}

static void
a_plain_request_is_no_proxy_header(void **state)
{
	(void)state;
	assert_refused_at("GET / HTTP/1.0\r\n", 16, PROXY_ENOHDR, 1);
	assert_refused_at("\r\n\r\n\r", 5, PROXY_ENOHDR, 5);
	assert_refused_at("PROXZ TCP4", 10, PROXY_ENOHDR, 5);
	assert_refused_at("proxy TCP4", 10, PROXY_ENOHDR, 1);
}

static void
a_v2_signature_wrong_in_any_byte_is_no_proxy_header(void **state)
{
	uint8_t h[64];
	size_t i;

	(void)state;
	for (i = 0; i < 12; i++) {
		(void)v2(h, 0x21, 0x11, 12, inet_body, 12);
		h[i] ^= 0x40;
		assert_refused_at(h, 28, PROXY_ENOHDR, i + 1);
	}
}

static void
a_truncated_header_waits_for_more_and_is_never_done(void **state)
{
	const char *v1 = "PROXY TCP4 192.0.2.7 198.51.100.1 41234 7\r\n";
	uint8_t h[64];
	size_t n = v2(h, 0x21, 0x11, 12 + 3, "\0\0\0\0\0\0\0\0\0\0\0\0"
	    "\x04\x00\x00", 15), k, used;
	struct proxy p;

	(void)state;
	for (k = 0; k < strlen(v1); k++) {
		proxy_init(&p);
		assert_int_equal(proxy_feed(&p, v1, k, &used), PROXY_MORE);
	}
	for (k = 0; k < n; k++) {
		proxy_init(&p);
		assert_int_equal(proxy_feed(&p, h, k, &used), PROXY_MORE);
		assert_int_equal(used, k);
	}
}

static void
a_v1_line_without_crlf_is_refused_at_107_bytes(void **state)
{
	char line[200];

	(void)state;
	memset(line, '1', sizeof(line));
	memcpy(line, "PROXY UNKNOWN ", 14);
	assert_refused_at(line, sizeof(line), PROXY_EV1LONG, PROXY_V1_MAX);
	/* A CR at byte 107 is too late: its LF would be the 108th. */
	line[PROXY_V1_MAX - 1] = '\r';
	line[PROXY_V1_MAX] = '\n';
	assert_refused_at(line, sizeof(line), PROXY_EV1LONG, PROXY_V1_MAX);
}

static void
a_v1_line_with_a_bad_address_is_refused(void **state)
{
	(void)state;
	assert_text_refused("PROXY TCP4 192.0.2.256 198.51.100.1 1 2\r\n",
	    PROXY_EV1ADDR);
	assert_text_refused("PROXY TCP4 192.0.2.1 ::1 1 2\r\n",
	    PROXY_EV1ADDR);
	assert_text_refused("PROXY TCP6 192.0.2.1 ::1 1 2\r\n",
	    PROXY_EV1ADDR);
	assert_text_refused("PROXY TCP4 192.0.02.1 192.0.2.1 1 2\r\n",
	    PROXY_EV1ADDR);
	assert_text_refused("PROXY TCP4 localhost 192.0.2.1 1 2\r\n",
	    PROXY_EV1ADDR);
	assert_text_refused("PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n",
	    PROXY_EV1ADDR);
	assert_text_refused("PROXY TCP6 "
	    "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255:1 ::1 1 2\r\n",
	    PROXY_EV1ADDR);
	assert_text_refused("PROXY TCP5 192.0.2.1 192.0.2.2 1 2\r\n",
	    PROXY_EV1PROTO);
	assert_text_refused("PROXY UDP4 192.0.2.1 192.0.2.2 1 2\r\n",
	    PROXY_EV1PROTO);
	assert_text_refused("PROXY UNKNOWNX\r\n", PROXY_EV1PROTO);
	assert_text_refused("PROXY tcp4 192.0.2.1 192.0.2.2 1 2\r\n",
	    PROXY_EV1PROTO);
}

static void
a_v1_line_with_a_bad_port_is_refused(void **state)
{
	(void)state;
	assert_text_refused("PROXY TCP4 192.0.2.1 192.0.2.2 65536 2\r\n",
	    PROXY_EV1PORT);
	assert_text_refused("PROXY TCP4 192.0.2.1 192.0.2.2 1 -1\r\n",
	    PROXY_EV1PORT);
	assert_text_refused("PROXY TCP4 192.0.2.1 192.0.2.2 +1 2\r\n",
	    PROXY_EV1PORT);
	assert_text_refused("PROXY TCP4 192.0.2.1 192.0.2.2 01 2\r\n",
	    PROXY_EV1PORT);
	assert_text_refused("PROXY TCP4 192.0.2.1 192.0.2.2 1 0x10\r\n",
	    PROXY_EV1PORT);
	assert_text_refused("PROXY TCP4 192.0.2.1 192.0.2.2 1 100000\r\n",
	    PROXY_EV1PORT);
	assert_text_refused("PROXY TCP4 192.0.2.1 192.0.2.2 99999999999999999"
	    "999 2\r\n", PROXY_EV1PORT);
}

static void
a_v1_line_with_bad_spacing_or_fields_is_refused(void **state)
{
	(void)state;
	assert_text_refused("PROXY  TCP4 192.0.2.1 192.0.2.2 1 2\r\n",
	    PROXY_EV1FIELDS);
	assert_text_refused("PROXY TCP4 192.0.2.1  192.0.2.2 1 2\r\n",
	    PROXY_EV1FIELDS);
	assert_text_refused("PROXY TCP4 192.0.2.1 192.0.2.2 1 2 \r\n",
	    PROXY_EV1FIELDS);
	assert_text_refused("PROXY TCP4 192.0.2.1 192.0.2.2 1 2 3\r\n",
	    PROXY_EV1FIELDS);
	assert_text_refused("PROXY TCP4 192.0.2.1 192.0.2.2 1\r\n",
	    PROXY_EV1FIELDS);
	assert_text_refused("PROXY TCP4 192.0.2.1 192.0.2.2 1 \r\n",
	    PROXY_EV1FIELDS);
	assert_text_refused("PROXY TCP4\r\n", PROXY_EV1FIELDS);
	assert_refused_at("PROXYx", 6, PROXY_EV1FIELDS, 6);
	assert_refused_at("PROXY\tTCP4 192.0.2.1 192.0.2.2 1 2\r\n", 37,
	    PROXY_EV1CHAR, 6);
	assert_refused_at("PROXY TCP4\t192.0.2.1 192.0.2.2 1 2\r\n", 37,
	    PROXY_EV1CHAR, 11);
	assert_refused_at("PROXY TCP4 192.0.2.1\0 192.0.2.2 1 2\r\n", 38,
	    PROXY_EV1CHAR, 21);
	assert_refused_at("PROXY TCP4 \x80", 12, PROXY_EV1CHAR, 12);
}

static void
a_v1_line_not_ended_by_crlf_is_refused(void **state)
{
	(void)state;
	assert_text_refused("PROXY TCP4 192.0.2.1 192.0.2.2 1 2\n",
	    PROXY_EV1CRLF);
	assert_text_refused("PROXY UNKNOWN\n", PROXY_EV1CRLF);
	assert_text_refused("PROXY TCP4 192.0.2.1 192.0.2.2 1 2\rx",
	    PROXY_EV1CRLF);
	assert_refused_at("PROXY UNKNOWN\r\r\n", 16, PROXY_EV1CRLF, 15);
	assert_text_refused("PROXY\n", PROXY_EV1CRLF);
	assert_refused_at("PROXY\r\n", 7, PROXY_EV1FIELDS, 6);
}

static void
a_v2_header_with_a_bad_version_or_command_is_refused(void **state)
{
	uint8_t h[64];
	size_t n;

	(void)state;
	n = v2(h, 0x11, 0x11, 12, inet_body, 12);
	assert_refused_at(h, n, PROXY_EV2VERSION, 16);
	n = v2(h, 0x31, 0x11, 12, inet_body, 12);
	assert_refused_at(h, n, PROXY_EV2VERSION, 16);
	n = v2(h, 0x22, 0x11, 12, inet_body, 12);
	assert_refused_at(h, n, PROXY_EV2CMD, 16);
	n = v2(h, 0x2f, 0x11, 12, inet_body, 12);
	assert_refused_at(h, n, PROXY_EV2CMD, 16);
}

static void
a_v2_header_with_a_bad_family_or_a_datagram_transport_is_refused(
    void **state)
{
	static const uint8_t bad[] = { 0x01, 0x10, 0x13, 0x20, 0x23, 0x30,
	    0x41, 0x02 };
	static const uint8_t dgram[] = { 0x12, 0x22, 0x32 };
	static const uint8_t zero[216];
	uint8_t h[300];
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(bad); i++) {
		n = v2(h, 0x21, bad[i], 216, zero, 216);
		assert_refused_at(h, n, PROXY_EV2FAMILY, 16);
	}
	for (i = 0; i < sizeof(dgram); i++) {
		n = v2(h, 0x21, dgram[i], 216, zero, 216);
		assert_refused_at(h, n, PROXY_EV2DGRAM, 16);
	}
}

static void
a_v2_length_too_small_for_the_family_is_refused(void **state)
{
	static const uint8_t zero[216];
	uint8_t h[300];
	size_t n;

	(void)state;
	n = v2(h, 0x21, 0x11, 11, inet_body, 11);
	assert_refused_at(h, n, PROXY_EV2SHORT, 16);
	n = v2(h, 0x21, 0x21, 12, inet_body, 12);
	assert_refused_at(h, n, PROXY_EV2SHORT, 16);
	n = v2(h, 0x21, 0x31, 215, zero, 215);
	assert_refused_at(h, n, PROXY_EV2SHORT, 16);
	n = v2(h, 0x21, 0x11, 0, NULL, 0);
	assert_refused_at(h, n, PROXY_EV2SHORT, 16);
}

static void
a_v2_length_over_the_limit_is_refused_before_the_block_arrives(
    void **state)
{
	uint8_t h[64];
	size_t n;

	(void)state;
	n = v2(h, 0x21, 0x11, 12 + PROXY_V2_TLV_MAX + 1, inet_body, 12);
	assert_refused_at(h, n, PROXY_EV2LONG, 16);
	n = v2(h, 0x21, 0x21, 36 + PROXY_V2_TLV_MAX + 1, inet_body, 12);
	assert_refused_at(h, n, PROXY_EV2LONG, 16);
	n = v2(h, 0x20, 0x00, PROXY_V2_MAX - 16 + 1, inet_body, 12);
	assert_refused_at(h, n, PROXY_EV2LONG, 16);
	n = v2(h, 0x21, 0x00, 0xffff, inet_body, 12);
	assert_refused_at(h, n, PROXY_EV2LONG, 16);
}

static void
a_tlv_running_past_the_end_is_refused(void **state)
{
	uint8_t body[32], h[64];
	size_t n;

	(void)state;
	memcpy(body, inet_body, 12);
	/* Declares 5 bytes of value; only 4 are left in the header. */
	memcpy(body + 12, "\x02\x00\x05" "abcd", 7);
	n = v2(h, 0x21, 0x11, 19, body, 19);
	assert_refused_at(h, n, PROXY_EV2TLV, 16 + 12 + 3);
	/* Two bytes left: too few for a TLV's type and length. */
	memcpy(body + 12, "\x04\x00\x00" "\x04\x00", 5);
	n = v2(h, 0x21, 0x11, 17, body, 17);
	assert_refused_at(h, n, PROXY_EV2TLV, 16 + 12 + 3);
	n = v2(h, 0x21, 0x11, 13, body, 13);
	assert_refused_at(h, n, PROXY_EV2TLV, 16 + 12);
	/* A TLV longer than the whole header could be. */
	memcpy(body + 12, "\x02\xff\xff", 3);
	n = v2(h, 0x21, 0x11, 15, body, 15);
	assert_refused_at(h, n, PROXY_EV2TLV, 16 + 12 + 3);
}

static void
every_error_has_its_own_words(void **state)
{
	int i, j;

	(void)state;
	for (i = PROXY_OK; i <= PROXY_EV2TLV; i++) {
		assert_non_null(proxy_strerror(i));
		for (j = PROXY_OK; j < i; j++)
			assert_string_not_equal(proxy_strerror(i),
			    proxy_strerror(j));
	}
	assert_string_equal(proxy_strerror(PROXY_ENOHDR), "no PROXY header");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_v1_tcp4_header_carries_both_addresses_and_ports),
		cmocka_unit_test(a_v1_tcp6_header_carries_both_addresses_and_ports),
		cmocka_unit_test(a_v1_unknown_header_keeps_the_real_peer),
		cmocka_unit_test(a_v2_proxy_inet_header_carries_both_addresses_and_ports),
		cmocka_unit_test(a_v2_proxy_inet6_header_carries_both_addresses_and_ports),
		cmocka_unit_test(a_v2_local_header_keeps_the_real_peer_whatever_its_block),
		cmocka_unit_test(a_v2_unspec_header_keeps_the_real_peer),
		cmocka_unit_test(a_v2_unix_header_keeps_the_real_peer_and_reports_the_paths),
		cmocka_unit_test(v2_tlvs_are_skipped_up_to_the_limit),
		cmocka_unit_test(a_plain_request_is_no_proxy_header),
		cmocka_unit_test(a_v2_signature_wrong_in_any_byte_is_no_proxy_header),
		cmocka_unit_test(a_truncated_header_waits_for_more_and_is_never_done),
		cmocka_unit_test(a_v1_line_without_crlf_is_refused_at_107_bytes),
		cmocka_unit_test(a_v1_line_with_a_bad_address_is_refused),
		cmocka_unit_test(a_v1_line_with_a_bad_port_is_refused),
		cmocka_unit_test(a_v1_line_with_bad_spacing_or_fields_is_refused),
		cmocka_unit_test(a_v1_line_not_ended_by_crlf_is_refused),
		cmocka_unit_test(a_v2_header_with_a_bad_version_or_command_is_refused),
		cmocka_unit_test(a_v2_header_with_a_bad_family_or_a_datagram_transport_is_refused),
		cmocka_unit_test(a_v2_length_too_small_for_the_family_is_refused),
		cmocka_unit_test(a_v2_length_over_the_limit_is_refused_before_the_block_arrives),
		cmocka_unit_test(a_tlv_running_past_the_end_is_refused),
		cmocka_unit_test(every_error_has_its_own_words),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
