/*
 * spawnmsg: a spawn request comes out of the decoder as it went into the
 * encoder; a request too big for its buffer is not encoded; and the
 * decoder, the spawner's only input, refuses every malformed message: cut
 * short anywhere, a string without its NUL, bytes left over, counts over
 * their maximum, an unknown stderr mode.  The same for a bind request:
 * only TCP or UDP on an IPv4 or IPv6 address of the right length with a
 * port passes, whatever bytes arrive (random and mutated messages).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdlib.h>
#include <string.h>

#include "spawnmsg.h"

static void
spec_fill(struct spawn_spec *sp)
{
	memset(sp, 0, sizeof(*sp));
	sp->id = 0x123456789aULL;
	sp->flags = SPAWN_SETUSER | SPAWN_NICE;
	sp->uid = 65534;
	sp->gid = 65534;
	sp->nice = -5;
	sp->umask = 027;
	sp->err = SPAWN_ERR_SOCKET;
	sp->nrlim = 2;
	sp->rlim[0].resource = RLIMIT_CORE;
	sp->rlim[0].value = 0;
	sp->rlim[1].resource = RLIMIT_NOFILE;
	sp->rlim[1].value = 64;
	sp->ngroups = 2;
	sp->groups[0] = 65534;
	sp->groups[1] = 100;
	sp->dir = "/srv";
	sp->argc = 3;
	sp->argv[0] = "/usr/sbin/in.tftpd";
	sp->argv[1] = "-s";
	sp->argv[2] = "";
	sp->nenv = 2;
	sp->env[0] = "PATH=/usr/bin:/bin";
	sp->env[1] = "PROTO=UDP";
}

static void
a_request_decodes_as_it_was_encoded(void **state)
{
	struct spawn_spec in, out;
	static char buf[SPAWN_MSG_MAX];
	size_t n;

	(void)state;
	spec_fill(&in);
	n = spawnmsg_encode(&in, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(spawnmsg_decode(&out, buf, n), 0);
	assert_true(out.id == in.id);
	assert_int_equal(out.flags, in.flags);
	assert_int_equal(out.uid, 65534);
	assert_int_equal(out.nice, -5);
	assert_int_equal(out.umask, 027);
	assert_int_equal(out.err, SPAWN_ERR_SOCKET);
	assert_int_equal(out.nrlim, 2);
	assert_int_equal(out.rlim[1].resource, RLIMIT_NOFILE);
	assert_true(out.rlim[1].value == 64);
	assert_int_equal(out.ngroups, 2);
	assert_int_equal(out.groups[1], 100);
	assert_string_equal(out.dir, "/srv");
	assert_int_equal(out.argc, 3);
	assert_string_equal(out.argv[0], "/usr/sbin/in.tftpd");
	assert_string_equal(out.argv[2], "");
	assert_null(out.argv[3]);
	assert_int_equal(out.nenv, 2);
	assert_string_equal(out.env[1], "PROTO=UDP");
	assert_null(out.env[2]);
}

static void
a_request_that_does_not_fit_is_not_encoded(void **state)
{
	struct spawn_spec in;
	char buf[64];

	(void)state;
	spec_fill(&in);
	assert_int_equal(spawnmsg_encode(&in, buf, sizeof(buf)), 0);
	in.argc = 0;
	assert_int_equal(spawnmsg_encode(&in, buf, sizeof(buf)), 0);
}

static void
every_cut_of_a_request_is_refused(void **state)
{
	struct spawn_spec in, out;
	static char buf[SPAWN_MSG_MAX];
	size_t n, i;

	(void)state;
	spec_fill(&in);
	n = spawnmsg_encode(&in, buf, sizeof(buf));
	for (i = 0; i < n; i++)
		assert_int_equal(spawnmsg_decode(&out, buf, i), -1);
	/* One byte more: left over. */
	buf[n] = 'x';
	assert_int_equal(spawnmsg_decode(&out, buf, n + 1), -1);
	/* The last string without its NUL. */
	buf[n - 1] = 'x';
	assert_int_equal(spawnmsg_decode(&out, buf, n), -1);
}

static void
counts_over_their_maximum_are_refused(void **state)
{
	struct spawn_spec in, out;
	static char buf[SPAWN_MSG_MAX];
	uint32_t bad;
	size_t n;
	/* The fixed part's fields, as spawnmsg.c lays them out. */
	static const size_t off[] = {
		36,	/* nrlim */
		40,	/* ngroups */
		44,	/* argc */
		48,	/* nenv */
		32,	/* err */
	};
	static const uint32_t val[] = {
		SPAWN_MAX_RLIM + 1, SPAWN_MAX_GROUPS + 1, SPAWN_MAX_ARGS + 1,
		SPAWN_MAX_ENV + 1, SPAWN_ERR_NULL + 1,
	};
	size_t i;

	(void)state;
	spec_fill(&in);
	for (i = 0; i < sizeof(off) / sizeof(off[0]); i++) {
		n = spawnmsg_encode(&in, buf, sizeof(buf));
		assert_int_equal(spawnmsg_decode(&out, buf, n), 0);
		bad = val[i];
		memcpy(buf + off[i], &bad, sizeof(bad));
		assert_int_equal(spawnmsg_decode(&out, buf, n), -1);
	}
	n = spawnmsg_encode(&in, buf, sizeof(buf));
	bad = 0;	/* argc 0: no program */
	memcpy(buf + 44, &bad, sizeof(bad));
	assert_int_equal(spawnmsg_decode(&out, buf, n), -1);
	bad = SP_KILL;	/* not a spawn request */
	n = spawnmsg_encode(&in, buf, sizeof(buf));
	memcpy(buf, &bad, sizeof(bad));
	assert_int_equal(spawnmsg_decode(&out, buf, n), -1);
}

/* A bind request for TCP on [::1]:7007, v6-only, in a reuseport group. */
static size_t
bind_fill(char *buf, size_t len)
{
	struct spawn_bind b;

	memset(&b, 0, sizeof(b));
	b.id = 42;
	b.proto = SPAWN_BIND_TCP;
	b.flags = SPAWN_BIND_REUSEPORT | SPAWN_BIND_V6ONLY;
	b.addrlen = sizeof(struct sockaddr_in6);
	b.addr.sin6.sin6_family = AF_INET6;
	b.addr.sin6.sin6_port = htons(7007);
	b.addr.sin6.sin6_addr = in6addr_loopback;
	return spawnmsg_encode_bind(&b, buf, len);
}

/* The checks the spawner relies on, for anything decoded. */
static void
assert_bind_sane(const struct spawn_bind *b)
{
	assert_true(b->proto == SPAWN_BIND_TCP || b->proto == SPAWN_BIND_UDP);
	assert_int_equal(b->flags & ~(uint32_t)(SPAWN_BIND_REUSEPORT |
	    SPAWN_BIND_V6ONLY), 0);
	if (b->addr.sa.sa_family == AF_INET) {
		assert_int_equal(b->addrlen, sizeof(struct sockaddr_in));
		assert_int_equal(b->flags & SPAWN_BIND_V6ONLY, 0);
		assert_int_not_equal(b->addr.sin.sin_port, 0);
	} else {
		assert_int_equal(b->addr.sa.sa_family, AF_INET6);
		assert_int_equal(b->addrlen, sizeof(struct sockaddr_in6));
		assert_int_not_equal(b->addr.sin6.sin6_port, 0);
	}
}

static void
a_bind_request_decodes_as_it_was_encoded(void **state)
{
	struct spawn_bind out;
	char buf[256];
	size_t n;

	(void)state;
	assert_true((n = bind_fill(buf, sizeof(buf))) > 0);
	assert_int_equal(spawnmsg_decode_bind(&out, buf, n), 0);
	assert_int_equal(out.id, 42);
	assert_int_equal(out.proto, SPAWN_BIND_TCP);
	assert_int_equal(out.flags, SPAWN_BIND_REUSEPORT | SPAWN_BIND_V6ONLY);
	assert_int_equal(out.addr.sa.sa_family, AF_INET6);
	assert_int_equal(ntohs(out.addr.sin6.sin6_port), 7007);
	assert_true(IN6_IS_ADDR_LOOPBACK(&out.addr.sin6.sin6_addr));
	/* Not a spawn request either. */
	assert_int_equal(spawnmsg_decode((struct spawn_spec[1]){ 0 }, buf, n),
	    -1);
	assert_int_equal(bind_fill(buf, 8), 0);
}

/* Overwrites 4 bytes at off of a good bind request with v; decodes. */
static int
bind_with(size_t off, uint32_t v)
{
	struct spawn_bind out;
	char buf[256];
	size_t n = bind_fill(buf, sizeof(buf));

	memcpy(buf + off, &v, sizeof(v));
	return spawnmsg_decode_bind(&out, buf, n);
}

static void
only_tcp_or_udp_on_ipv4_or_ipv6_may_be_bound(void **state)
{
	struct spawn_bind out;
	struct sockaddr_in sin;
	char buf[256];
	uint16_t w;
	size_t n, i;

	(void)state;
	n = bind_fill(buf, sizeof(buf));
	for (i = 0; i < n; i++)
		assert_int_equal(spawnmsg_decode_bind(&out, buf, i), -1);
	assert_int_equal(spawnmsg_decode_bind(&out, buf, n + 1), -1);
	/* type, proto, flags, addrlen, as spawnmsg.c lays them out */
	assert_int_equal(bind_with(0, SP_SPAWN), -1);
	assert_int_equal(bind_with(0, SP_BOUND), -1);
	assert_int_equal(bind_with(4, 0), -1);
	assert_int_equal(bind_with(4, 3), -1);
	assert_int_equal(bind_with(16, 0x4), -1);
	assert_int_equal(bind_with(16, 0x80000000u), -1);
	assert_int_equal(bind_with(20, sizeof(struct sockaddr_in)), -1);
	assert_int_equal(bind_with(20, sizeof(struct sockaddr_in6) + 1), -1);
	assert_int_equal(bind_with(20, 0), -1);
	assert_int_equal(bind_with(20, 0xffffffffu), -1);
	/* Families other than IPv4 and IPv6. */
	n = bind_fill(buf, sizeof(buf));
	for (w = 0; w < 64; w++) {
		if (w == AF_INET6)
			continue;
		memcpy(buf + 24, &w, sizeof(w));
		assert_int_equal(spawnmsg_decode_bind(&out, buf, n), -1);
	}
	/* Port 0 (any port). */
	w = 0;
	n = bind_fill(buf, sizeof(buf));
	memcpy(buf + 24 + 2, &w, sizeof(w));
	assert_int_equal(spawnmsg_decode_bind(&out, buf, n), -1);
	/* IPv4 with the IPv6 length, and v6-only on IPv4. */
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(7);
	n = bind_fill(buf, sizeof(buf));
	memset(buf + 24, 0, sizeof(struct sockaddr_in6));
	memcpy(buf + 24, &sin, sizeof(sin));
	assert_int_equal(spawnmsg_decode_bind(&out, buf, n), -1);
	assert_int_equal(bind_with(20, sizeof(struct sockaddr_in)), -1);
	memcpy(buf + 20, &(uint32_t){ sizeof(sin) }, 4);
	assert_int_equal(spawnmsg_decode_bind(&out, buf, n), -1);
	memcpy(buf + 16, &(uint32_t){ SPAWN_BIND_REUSEPORT }, 4);
	assert_int_equal(spawnmsg_decode_bind(&out, buf, n), 0);
	assert_bind_sane(&out);
}

/* Random bytes, and good requests with random bytes changed, cut or
 * grown: each is refused or decodes to something the spawner may do. */
static void
random_and_mutated_bind_requests_never_pass_unchecked(void **state)
{
	struct spawn_bind out;
	unsigned char buf[256], good[256];
	size_t n, len, k, i;
	unsigned int seed = 13;
	int passed = 0;

	(void)state;
	n = bind_fill((char *)good, sizeof(good));
	for (i = 0; i < 200000; i++) {
		if (i % 2 == 0) {
			len = (size_t)rand_r(&seed) % (n + 9);
			for (k = 0; k < len; k++)
				buf[k] = (unsigned char)rand_r(&seed);
			/* Now and then the right type and length. */
			if (i % 4 == 0 && len >= 4) {
				memcpy(buf, good, 4);
				len = n;
			}
		} else {
			memcpy(buf, good, n);
			len = n;
			for (k = 0; k < 1 + (size_t)rand_r(&seed) % 4; k++)
				buf[(size_t)rand_r(&seed) % n] =
				    (unsigned char)rand_r(&seed);
			if (rand_r(&seed) % 8 == 0)
				len = (size_t)rand_r(&seed) % (n + 8);
		}
		memset(&out, 0xa5, sizeof(out));
		if (spawnmsg_decode_bind(&out, buf, len) == 0) {
			assert_int_equal(len, n);
			assert_bind_sane(&out);
			passed++;
		}
	}
	/* The mutations that keep a request whole do pass. */
	assert_true(passed > 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_request_decodes_as_it_was_encoded),
		cmocka_unit_test(a_request_that_does_not_fit_is_not_encoded),
		cmocka_unit_test(every_cut_of_a_request_is_refused),
		cmocka_unit_test(counts_over_their_maximum_are_refused),
		cmocka_unit_test(a_bind_request_decodes_as_it_was_encoded),
		cmocka_unit_test(only_tcp_or_udp_on_ipv4_or_ipv6_may_be_bound),
		cmocka_unit_test(
		    random_and_mutated_bind_requests_never_pass_unchecked),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
