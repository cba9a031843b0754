/*
 * tz: zones read from zoneinfo agree with glibc's own TZ handling for two
 * centuries, POSIX TZ rules are parsed or refused, and zone names cannot
 * leave the zoneinfo directory.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "../../handlers/tz.h"

#define T_WINTER	1795320860	/* 2026-11-22 04:14:20 UTC */
#define T_SUMMER	1782907200	/* 2026-07-01 12:00:00 UTC */

/* Compares zone name against glibc's localtime_r under TZ, from 1901 to
 * 2110, so both the transition table and the footer rule are covered. */
static void
check_zone_against_glibc(const char *name)
{
	struct tz		 tz;
	struct tm		 a, b;
	char			 env[128];
	long long		 t;

	assert_null(tz_load(&tz, name));
	snprintf(env, sizeof(env), ":%s", name);
	setenv("TZ", env, 1);
	tzset();
	for (t = -2145916800LL; t < 4418064000LL; t += 86400 * 3 + 3607) {
		time_t	 tt = (time_t)t;

		localtime_r(&tt, &a);
		tz_time(&tz, tt, &b);
		if (a.tm_gmtoff != b.tm_gmtoff || a.tm_hour != b.tm_hour ||
		    a.tm_mday != b.tm_mday || a.tm_isdst != b.tm_isdst ||
		    strcmp(a.tm_zone, b.tm_zone) != 0)
			fail_msg("%s at %lld: glibc %ld %s %d, ours %ld %s %d",
			    name, t, a.tm_gmtoff, a.tm_zone, a.tm_isdst,
			    b.tm_gmtoff, b.tm_zone, b.tm_isdst);
	}
	unsetenv("TZ");
	tzset();
	tz_free(&tz);
}

static void
zones_agree_with_glibc_for_two_centuries(void **state)
{
	static const char *const zones[] = {
		"Europe/Paris", "America/New_York", "Australia/Sydney",
		"America/Nuuk", "Asia/Jerusalem", "Pacific/Chatham",
		"America/Sao_Paulo", "Asia/Tokyo", "Europe/Dublin",
		"America/Santiago", "Pacific/Apia", "Etc/GMT+5", "Etc/UTC",
		NULL,
	};
	int	 i;

	(void)state;
	for (i = 0; zones[i] != NULL; i++)
		check_zone_against_glibc(zones[i]);
}

static void
posix_tz_rules_are_parsed(void **state)
{
	struct tz		 tz;
	struct tm		 tm;

	(void)state;
	memset(&tz, 0, sizeof(tz));
	tz.kind = TZ_ZONE;
	assert_int_equal(tz_parse_rule(&tz,
	    "CET-1CEST,M3.5.0,M10.5.0/3"), 0);
	assert_int_equal(tz.std_off, 3600);
	assert_int_equal(tz.dst_off, 7200);
	assert_string_equal(tz.dst_name, "CEST");
	assert_int_equal(tz.end.secs, 3 * 3600);
	tz_time(&tz, T_SUMMER, &tm);
	assert_int_equal(tm.tm_hour, 14);
	assert_string_equal(tm.tm_zone, "CEST");
	assert_int_equal(tz_parse_rule(&tz, "<+03>-3"), 0);
	assert_int_equal(tz.std_off, 3 * 3600);
	assert_false(tz.rule_dst);
	assert_int_equal(tz_parse_rule(&tz,
	    "<-02>2<-01>,M3.5.0/-1,M10.5.0/0"), 0);
	assert_int_equal(tz.start.secs, -3600);
	assert_int_equal(tz_parse_rule(&tz,
	    "EST5EDT,0/0,J365/25"), 0);	/* DST all year */
	tz_time(&tz, T_WINTER, &tm);
	assert_int_equal(tm.tm_gmtoff, -4 * 3600);
	assert_int_equal(tz_parse_rule(&tz, "NZST-12:00:00NZDT-13,"
	    "M9.5.0,M4.1.0/3"), 0);
	tz_time(&tz, T_WINTER, &tm);	/* southern summer */
	assert_string_equal(tm.tm_zone, "NZDT");
}

static void
bad_posix_tz_rules_are_refused(void **state)
{
	static const char *const bad[] = {
		"", "X", "CET", "CET-", "CET-1CEST,M13.1.0,M1.1.0",
		"CET-1CEST,M3.6.0,M10.5.0", "CET-1CEST,J0,J365",
		"CET-1CEST,M3.5.0", "CET-168", "<+03-3", "CET-1 trailing",
		"CET-1CEST,M3.5.0/200,M10.5.0", NULL,
	};
	struct tz		 tz;
	int			 i;

	(void)state;
	memset(&tz, 0, sizeof(tz));
	for (i = 0; bad[i] != NULL; i++)
		if (tz_parse_rule(&tz, bad[i]) != -1)
			fail_msg("accepted \"%s\"", bad[i]);
}

static void
zone_names_that_leave_zoneinfo_are_refused(void **state)
{
	static const char *const bad[] = {
		"../../etc/passwd", "/etc/passwd", "Europe/../../../etc/shadow",
		"Europe/Paris ", "Europe;rm", "", ".hidden", "Europe/.x",
		"Nowhere/Atlantis", "Europe", "zone.tab", NULL,
	};
	struct tz		 tz;
	int			 i;

	(void)state;
	for (i = 0; bad[i] != NULL; i++)
		if (tz_load(&tz, bad[i]) == NULL)
			fail_msg("accepted \"%s\"", bad[i]);
	assert_null(tz_load(&tz, "local"));
	assert_int_equal(tz.kind, TZ_LOCAL);
	assert_null(tz_load(&tz, "UTC"));
	assert_int_equal(tz.kind, TZ_UTC);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(zones_agree_with_glibc_for_two_centuries),
		cmocka_unit_test(posix_tz_rules_are_parsed),
		cmocka_unit_test(bad_posix_tz_rules_are_refused),
		cmocka_unit_test(zone_names_that_leave_zoneinfo_are_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
