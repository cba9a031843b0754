/*
 * spawnmsg: a spawn request comes out of the decoder as it went into the
 * encoder; a request too big for its buffer is not encoded; and the
 * decoder, the spawner's only input, refuses every malformed message: cut
 * short anywhere, a string without its NUL, bytes left over, counts over
 * their maximum, an unknown stderr mode.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/resource.h>

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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_request_decodes_as_it_was_encoded),
		cmocka_unit_test(a_request_that_does_not_fit_is_not_encoded),
		cmocka_unit_test(every_cut_of_a_request_is_refused),
		cmocka_unit_test(counts_over_their_maximum_are_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
