/*
 * daytime: strftime formats from clients and from the config, hostile
 * formats, %s, %z and %Z in a zone, and the TCP and UDP paths.  The zones
 * themselves are tz_test.c's.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "fake_conn.h"
#include "../../handlers/daytime.h"

extern const struct sockd_handler sockd_handler_daytime;

#define T_WINTER	1795320860	/* 2026-11-22 04:14:20 UTC */
#define T_SUMMER	1782907200	/* 2026-07-01 12:00:00 UTC */

static struct tz utc = { .kind = TZ_UTC };

/* daytime_format of a C string, into out[outsz]; the length. */
static size_t
fmt(char *out, size_t outsz, const char *f, time_t t, const struct tz *tz)
{
	return daytime_format(out, outsz, f, strlen(f), t, tz);
}

static void
a_client_format_is_expanded_by_strftime(void **state)
{
	char	 out[256];

	(void)state;
	assert_int_equal(fmt(out, sizeof(out), "%Y %m %d", T_WINTER, &utc),
	    10);
	assert_string_equal(out, "2026 11 22");
	fmt(out, sizeof(out), "%Y-%m-%d %X", T_WINTER, &utc);
	assert_string_equal(out, "2026-11-22 04:14:20");
	fmt(out, sizeof(out), "%A %B %Z %z", T_WINTER, &utc);
	assert_string_equal(out, "Sunday November UTC +0000");
}

static void
the_format_need_not_be_nul_terminated(void **state)
{
	char	 out[64];

	(void)state;
	assert_int_equal(daytime_format(out, sizeof(out), "%Y%m", 2,
	    T_WINTER, &utc), 4);
	assert_string_equal(out, "2026");
}

static void
output_exactly_filling_the_buffer_is_sent_but_no_more(void **state)
{
	char	 out[16];

	(void)state;
	/* outsz counts the NUL: 4 bytes of text need 5. */
	assert_int_equal(fmt(out, 5, "%Y", T_WINTER, &utc), 4);
	assert_int_equal(fmt(out, 4, "%Y", T_WINTER, &utc), 0);
}

static void
huge_field_widths_give_nothing_quickly(void **state)
{
	static const char *const hostile[] = {
		"%99999999Y", "%2147483647Y", "%2147483648c",
		"%99999999999999999999999d", "%-99999999Y", "%_99999999H",
		"%099999999s", "%^99999999a", "%#99999999Z", "%99999999%",
		"%99999999E", "%1500Y", NULL,
	};
	char		 out[1473];
	clock_t		 start = clock();
	int		 i, j;

	(void)state;
	for (j = 0; j < 1000; j++)
		for (i = 0; hostile[i] != NULL; i++)
			assert_int_equal(fmt(out, sizeof(out), hostile[i],
			    T_WINTER, &utc), 0);
	/* 13000 refusals: strftime checks the width before padding. */
	assert_true((double)(clock() - start) / CLOCKS_PER_SEC < 2.0);
	/* A width that fits is honoured. */
	assert_int_equal(fmt(out, sizeof(out), "%1400Y", T_WINTER, &utc),
	    1400);
}

static void
odd_formats_are_copied_or_expanded_safely(void **state)
{
	char	 out[64];

	(void)state;
	fmt(out, sizeof(out), "%", T_WINTER, &utc);
	assert_string_equal(out, "%");
	fmt(out, sizeof(out), "100%", T_WINTER, &utc);
	assert_string_equal(out, "100%");
	fmt(out, sizeof(out), "%E", T_WINTER, &utc);
	assert_string_equal(out, "%E");
	fmt(out, sizeof(out), "%Ey %Od %OH", T_WINTER, &utc);
	assert_string_equal(out, "26 22 04");
	/* Unknown conversions are copied as they are. */
	fmt(out, sizeof(out), "%q%k%!", T_WINTER, &utc);
	assert_string_equal(out, "%q 4%!");
	fmt(out, sizeof(out), "%%%n%t", T_WINTER, &utc);
	assert_string_equal(out, "%\n\t");
}

static void
bytes_that_are_not_utf8_are_kept_as_they_are(void **state)
{
	char	 out[64];

	(void)state;
	assert_int_equal(fmt(out, sizeof(out), "\xff%Y\xfe\xc3", T_WINTER,
	    &utc), 7);
	assert_string_equal(out, "\xff" "2026\xfe\xc3");
}

static void
empty_results_and_nul_bytes_give_nothing(void **state)
{
	char	 out[64];

	(void)state;
	assert_int_equal(daytime_format(out, sizeof(out), "", 0, T_WINTER,
	    &utc), 0);
	assert_int_equal(daytime_format(out, sizeof(out), "%Y\0%d", 5,
	    T_WINTER, &utc), 0);
	assert_int_equal(daytime_format(out, sizeof(out), "\0", 1, T_WINTER,
	    &utc), 0);
	assert_int_equal(daytime_format(out, 0, "%Y", 2, T_WINTER, &utc), 0);
}

static void
percent_s_is_the_epoch_whatever_the_zone(void **state)
{
	struct tz		 paris;
	char			 out[64], want[32];

	(void)state;
	assert_null(tz_load(&paris, "Europe/Paris"));
	snprintf(want, sizeof(want), "%d", T_WINTER);
	fmt(out, sizeof(out), "%s", T_WINTER, &utc);
	assert_string_equal(out, want);
	fmt(out, sizeof(out), "%s", T_WINTER, &paris);
	assert_string_equal(out, want);
	fmt(out, sizeof(out), "[%_12s|%-s|%%s]", T_WINTER, &paris);
	assert_string_equal(out, "[  1795320860|1795320860|%s]");
	/* The digits alone must fit. */
	assert_int_equal(fmt(out, 10, "%s", T_WINTER, &paris), 0);
	assert_int_equal(fmt(out, 64, "%99999999s", T_WINTER, &paris), 0);
	tz_free(&paris);
}

static void
a_zone_name_gives_its_offset_and_abbreviation(void **state)
{
	struct tz		 tz;
	char			 out[64];

	(void)state;
	assert_null(tz_load(&tz, "Europe/Paris"));
	fmt(out, sizeof(out), "%H:%M %Z %z", T_WINTER, &tz);
	assert_string_equal(out, "05:14 CET +0100");
	fmt(out, sizeof(out), "%H:%M %Z %z", T_SUMMER, &tz);
	assert_string_equal(out, "14:00 CEST +0200");
	tz_free(&tz);
	assert_null(tz_load(&tz, "Asia/Kolkata"));
	fmt(out, sizeof(out), "%H:%M %z", T_WINTER, &tz);
	assert_string_equal(out, "09:44 +0530");
	tz_free(&tz);
}

/* Configures the handler with options o; fails the test on an error. */
static void *
configure(struct sockd_opts *o)
{
	void		*ps = NULL;
	const char	*err;

	err = sockd_handler_daytime.configure(o, &ps);
	if (err != NULL)
		fail_msg("configure: %s", err);
	if (o != NULL) {
		assert_null(fake_opts_undeclared(o,
		    sockd_handler_daytime.options));
		assert_int_equal(fake_opts_type_errors(o), 0);
		fake_opts_free(o);
	}
	return ps;
}

static void
udp_answers_a_client_format_without_a_newline(void **state)
{
	void			*ps = configure(fake_opts_new("timezone",
				    "UTC", NULL));
	struct sockd_dgram	*d = fake_dgram_new(ps, NULL, 1472);
	char			 want[64];
	time_t			 now = time(NULL);
	struct tm		 tm;

	(void)state;
	sockd_handler_daytime.udp_datagram(d, "%Y-%m-%d %H", 11);
	gmtime_r(&now, &tm);
	strftime(want, sizeof(want), "%Y-%m-%d %H", &tm);
	assert_int_equal(fake_dgram_replies(d), 1);
	assert_string_equal(fake_dgram_reply_output(d), want);
	assert_false(fake_dgram_dropped(d));
	fake_dgram_free(d);
	sockd_handler_daytime.unconfigure(ps);
}

static void
an_empty_datagram_gets_the_configured_format(void **state)
{
	void			*ps = configure(fake_opts_new("format",
				    "year %Y", NULL));
	struct sockd_dgram	*d = fake_dgram_new(ps, NULL, 1472);

	(void)state;
	sockd_handler_daytime.udp_datagram(d, "", 0);
	assert_int_equal(fake_dgram_reply_len(d), 9);
	assert_memory_equal(fake_dgram_reply_output(d), "year 2", 6);
	fake_dgram_free(d);
	sockd_handler_daytime.unconfigure(ps);
}

static void
without_client_format_the_datagram_is_ignored(void **state)
{
	void			*ps = configure(fake_opts_new("format", "%%Y",
				    "client_format", "false", NULL));
	struct sockd_dgram	*d = fake_dgram_new(ps, NULL, 1472);

	(void)state;
	sockd_handler_daytime.udp_datagram(d, "%H", 2);
	assert_string_equal(fake_dgram_reply_output(d), "%Y");
	fake_dgram_free(d);
	sockd_handler_daytime.unconfigure(ps);
}

static void
udp_drops_what_does_not_fit_the_reply_limit(void **state)
{
	void			*ps = configure(NULL);
	struct sockd_dgram	*d = fake_dgram_new(ps, NULL, 256);

	(void)state;
	sockd_handler_daytime.udp_datagram(d, "%300Y", 5);
	assert_int_equal(fake_dgram_replies(d), 0);
	assert_true(fake_dgram_dropped(d));
	fake_dgram_free(d);
	/* Exactly reply_max bytes are allowed. */
	d = fake_dgram_new(ps, NULL, 256);
	sockd_handler_daytime.udp_datagram(d, "%256Y", 5);
	assert_int_equal(fake_dgram_reply_len(d), 256);
	fake_dgram_free(d);
	sockd_handler_daytime.unconfigure(ps);
}

static void
udp_drops_formats_with_nul_bytes_and_empty_results(void **state)
{
	void			*ps = configure(NULL);
	struct sockd_dgram	*d = fake_dgram_new(ps, NULL, 1472);

	(void)state;
	sockd_handler_daytime.udp_datagram(d, "%Y\0%H", 5);
	assert_true(fake_dgram_dropped(d));
	fake_dgram_free(d);
	d = fake_dgram_new(ps, NULL, 1472);
	sockd_handler_daytime.udp_datagram(d, "%99999999Y", 10);
	assert_true(fake_dgram_dropped(d));
	assert_int_equal(fake_dgram_replies(d), 0);
	fake_dgram_free(d);
	sockd_handler_daytime.unconfigure(ps);
}

static void
a_large_format_datagram_is_copied_not_read_past(void **state)
{
	void			*ps = configure(NULL);
	struct sockd_dgram	*d = fake_dgram_new(ps, NULL, 65507);
	size_t			 i, len = 65507;
	char			*big = malloc(len);

	(void)state;
	assert_non_null(big);
	for (i = 0; i < len; i++)
		big[i] = i % 2 ? 'Y' : '%';
	sockd_handler_daytime.udp_datagram(d, big, len);
	/* 4 digits for every 2 bytes: more than 65507, so nothing. */
	assert_true(fake_dgram_dropped(d));
	fake_dgram_free(d);
	free(big);
	sockd_handler_daytime.unconfigure(ps);
}

static void
tcp_sends_the_format_and_crlf_then_closes(void **state)
{
	void			*ps = configure(fake_opts_new("format",
				    "<%Y>", "timezone", "Europe/Paris", NULL));
	struct fake_service	*svc = fake_service_new(ps);
	struct sockd_conn	*c = fake_conn_new_in(svc, NULL);

	(void)state;
	assert_int_equal(sockd_handler_daytime.tcp_connect(c), 0);
	assert_int_equal(fake_conn_output_len(c), 8);
	assert_memory_equal(fake_conn_output(c), "<20", 3);
	assert_memory_equal(fake_conn_output(c) + 5, ">\r\n", 3);
	assert_true(fake_conn_closed(c));
	fake_conn_free(c);
	fake_service_free(svc);
	sockd_handler_daytime.unconfigure(ps);
}

/* The reply to one datagram of text on a service of state ps; "" when
 * none was sent. */
static const char *
udp_reply(void *ps, const char *text, size_t len, char *buf, size_t size)
{
	struct sockd_dgram	*d = fake_dgram_new(ps, NULL, len + 64);

	sockd_handler_daytime.udp_datagram(d, text, len);
	snprintf(buf, size, "%s", fake_dgram_reply_output(d));
	fake_dgram_free(d);
	return buf;
}

/* Fails unless s is exactly now (within 2 s) in fmt, in UTC. */
static void
assert_utc_now(const char *s, const char *fmt)
{
	struct tm	 tm;
	const char	*end;
	time_t		 t, now = time(NULL);

	memset(&tm, 0, sizeof(tm));
	if ((end = strptime(s, fmt, &tm)) == NULL || *end != '\0')
		fail_msg("\"%s\" does not match \"%s\"", s, fmt);
	t = timegm(&tm);
	if (t < now - 2 || t > now + 2)
		fail_msg("\"%s\" is %lld s away from now", s,
		    (long long)(t - now));
}

static void
only_a_datagram_with_a_conversion_is_a_format(void **state)
{
	(void)state;
	assert_true(daytime_is_format("%Y", 2));
	assert_true(daytime_is_format("it is %%", 8));
	assert_true(daytime_is_format("%%", 2));
	assert_false(daytime_is_format("", 0));
	assert_false(daytime_is_format("%", 1));
	assert_false(daytime_is_format("100%", 4));
	assert_false(daytime_is_format("what time is it?", 16));
	assert_false(daytime_is_format("dummy", 5));
}

static void
a_plain_text_datagram_gets_the_date_not_itself(void **state)
{
	static const struct {
		const char	*text;
		size_t		 len;
	} plain[] = {
		{ "\n", 1 }, { "\r\n", 2 }, { "what time is it?", 16 },
		{ "dummy", 5 }, { "what time is it?\r\n", 18 }, { "100%", 4 },
		{ "%\n", 2 }, { "\0", 1 }, { "\xff\xfe", 2 },
	};
	void	*ps = configure(fake_opts_new("timezone", "UTC", NULL));
	char	 buf[256];
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
		assert_utc_now(udp_reply(ps, plain[i].text, plain[i].len, buf,
		    sizeof(buf)), "%Y-%m-%d %H:%M:%S");
	sockd_handler_daytime.unconfigure(ps);
	/* A configured format is the answer to them as to "". */
	ps = configure(fake_opts_new("format", "year %Y", NULL));
	assert_int_equal(strlen(udp_reply(ps, "dummy", 5, buf, sizeof(buf))),
	    9);
	assert_memory_equal(buf, "year 2", 6);
	sockd_handler_daytime.unconfigure(ps);
}

static void
the_line_end_of_a_format_datagram_is_not_part_of_it(void **state)
{
	void	*ps = configure(fake_opts_new("timezone", "UTC", NULL));
	char	 buf[256], want[32];
	time_t	 now = time(NULL);
	struct tm tm;

	(void)state;
	gmtime_r(&now, &tm);
	strftime(want, sizeof(want), "%Y", &tm);
	assert_string_equal(udp_reply(ps, "%Y\n", 3, buf, sizeof(buf)), want);
	assert_string_equal(udp_reply(ps, "%Y\r\n", 4, buf, sizeof(buf)),
	    want);
	/* Only the last line end: one inside stays. */
	udp_reply(ps, "%Y\n\n", 4, buf, sizeof(buf));
	assert_int_equal(strlen(buf), 5);
	assert_int_equal(buf[4], '\n');
	sockd_handler_daytime.unconfigure(ps);
}

static void
tcp_sends_inetds_ctime_format_by_default(void **state)
{
	void			*ps = configure(fake_opts_new("timezone",
				    "UTC", NULL));
	struct fake_service	*svc = fake_service_new(ps);
	struct sockd_conn	*c = fake_conn_new_in(svc, NULL);
	char			 buf[64];

	(void)state;
	assert_int_equal(sockd_handler_daytime.tcp_connect(c), 0);
	/* "Tue Dec  1 09:47:20 2026\r\n" */
	assert_int_equal(fake_conn_output_len(c), 26);
	assert_memory_equal(fake_conn_output(c) + 24, "\r\n", 2);
	snprintf(buf, sizeof(buf), "%.24s", fake_conn_output(c));
	assert_utc_now(buf, "%a %b %e %H:%M:%S %Y");
	assert_true(fake_conn_closed(c));
	fake_conn_free(c);
	fake_service_free(svc);
	sockd_handler_daytime.unconfigure(ps);
}

static void
tcp_format_sets_the_tcp_reply_alone(void **state)
{
	void			*ps = configure(fake_opts_new("format",
				    "U%Y", "tcp_format", "T%Y", NULL));
	struct fake_service	*svc = fake_service_new(ps);
	struct sockd_conn	*c = fake_conn_new_in(svc, NULL);
	char			 buf[64];

	(void)state;
	assert_int_equal(sockd_handler_daytime.tcp_connect(c), 0);
	assert_int_equal(fake_conn_output_len(c), 7);
	assert_memory_equal(fake_conn_output(c), "T2", 2);
	udp_reply(ps, "", 0, buf, sizeof(buf));
	assert_int_equal(strlen(buf), 5);
	assert_memory_equal(buf, "U2", 2);
	fake_conn_free(c);
	fake_service_free(svc);
	sockd_handler_daytime.unconfigure(ps);
}

static void
configure_refuses_bad_zones_and_empty_formats(void **state)
{
	struct sockd_opts	*o;
	void			*ps = NULL;
	const char		*err;

	(void)state;
	o = fake_opts_new("timezone", "../etc/passwd", NULL);
	err = sockd_handler_daytime.configure(o, &ps);
	assert_non_null(err);
	assert_non_null(strstr(err, "timezone"));
	fake_opts_free(o);
	o = fake_opts_new("format", "", NULL);
	assert_non_null(sockd_handler_daytime.configure(o, &ps));
	fake_opts_free(o);
	o = fake_opts_new("format", "%5000Y", NULL);
	assert_non_null(sockd_handler_daytime.configure(o, &ps));
	fake_opts_free(o);
	o = fake_opts_new("tcp_format", "", NULL);
	err = sockd_handler_daytime.configure(o, &ps);
	assert_non_null(err);
	assert_non_null(strstr(err, "tcp_format"));
	fake_opts_free(o);
	o = fake_opts_new("format", "%Y", "tcp_format", "%5000Y", NULL);
	assert_non_null(sockd_handler_daytime.configure(o, &ps));
	fake_opts_free(o);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_client_format_is_expanded_by_strftime),
		cmocka_unit_test(the_format_need_not_be_nul_terminated),
		cmocka_unit_test(
		    output_exactly_filling_the_buffer_is_sent_but_no_more),
		cmocka_unit_test(huge_field_widths_give_nothing_quickly),
		cmocka_unit_test(odd_formats_are_copied_or_expanded_safely),
		cmocka_unit_test(bytes_that_are_not_utf8_are_kept_as_they_are),
		cmocka_unit_test(empty_results_and_nul_bytes_give_nothing),
		cmocka_unit_test(percent_s_is_the_epoch_whatever_the_zone),
		cmocka_unit_test(a_zone_name_gives_its_offset_and_abbreviation),
		cmocka_unit_test(udp_answers_a_client_format_without_a_newline),
		cmocka_unit_test(an_empty_datagram_gets_the_configured_format),
		cmocka_unit_test(without_client_format_the_datagram_is_ignored),
		cmocka_unit_test(udp_drops_what_does_not_fit_the_reply_limit),
		cmocka_unit_test(
		    udp_drops_formats_with_nul_bytes_and_empty_results),
		cmocka_unit_test(
		    a_large_format_datagram_is_copied_not_read_past),
		cmocka_unit_test(tcp_sends_the_format_and_crlf_then_closes),
		cmocka_unit_test(configure_refuses_bad_zones_and_empty_formats),
		cmocka_unit_test(only_a_datagram_with_a_conversion_is_a_format),
		cmocka_unit_test(
		    a_plain_text_datagram_gets_the_date_not_itself),
		cmocka_unit_test(
		    the_line_end_of_a_format_datagram_is_not_part_of_it),
		cmocka_unit_test(tcp_sends_inetds_ctime_format_by_default),
		cmocka_unit_test(tcp_format_sets_the_tcp_reply_alone),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
