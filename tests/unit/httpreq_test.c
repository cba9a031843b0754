/*
 * httpreq: the request heads the metrics handler accepts, waits for and
 * refuses, on the parser alone.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "httpreq.h"

static ssize_t
parse(const char *s, struct httpreq *r)
{
	return httpreq_parse(s, strlen(s), r);
}

static void
a_get_is_whole_at_its_blank_line_and_1_1_keeps_alive(void **state)
{
	const char *s = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\nGET";
	struct httpreq r;

	(void)state;
	assert_int_equal(parse(s, &r), strlen(s) - 3);
	assert_int_equal(r.method, HTTPREQ_GET);
	assert_int_equal(r.minor, 1);
	assert_true(r.keepalive);
	assert_int_equal(r.pathlen, 8);
	assert_memory_equal(r.path, "/metrics", 8);
}

static void
lines_may_end_in_a_bare_newline(void **state)
{
	struct httpreq r;

	(void)state;
	assert_int_equal(parse("HEAD /x HTTP/1.0\nA: b\n\n", &r), 23);
	assert_int_equal(r.method, HTTPREQ_HEAD);
	assert_int_equal(r.minor, 0);
	assert_false(r.keepalive);
}

static void
connection_options_decide_whether_the_connection_stays(void **state)
{
	struct httpreq r;

	(void)state;
	assert_true(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n",
	    &r) > 0);
	assert_true(r.keepalive);
	assert_true(parse("GET / HTTP/1.1\r\nconnection: foo, close\r\n\r\n",
	    &r) > 0);
	assert_false(r.keepalive);
	assert_true(parse("GET / HTTP/1.0\r\nConnection: close, keep-alive"
	    "\r\n\r\n", &r) > 0);
	assert_false(r.keepalive);
}

static void
an_unfinished_head_asks_for_more(void **state)
{
	struct httpreq r;

	(void)state;
	assert_int_equal(parse("", &r), 0);
	assert_int_equal(parse("GET /metrics HT", &r), 0);
	assert_int_equal(parse("GET /metrics HTTP/1.1\r\n", &r), 0);
	assert_int_equal(parse("GET /metrics HTTP/1.1\r\nHost: a\r", &r), 0);
	assert_int_equal(parse("\r\n\r\n", &r), 0);
}

static void
other_methods_are_parsed_to_be_refused_later(void **state)
{
	struct httpreq r;

	(void)state;
	assert_true(parse("DELETE /metrics HTTP/1.1\r\n\r\n", &r) > 0);
	assert_int_equal(r.method, HTTPREQ_OTHER);
	/* Methods are case-sensitive. */
	assert_true(parse("get /metrics HTTP/1.1\r\n\r\n", &r) > 0);
	assert_int_equal(r.method, HTTPREQ_OTHER);
}

static void
malformed_request_lines_are_refused_at_their_newline(void **state)
{
	static const char *const bad[] = {
		"GET /metrics\r\n",
		"GET  /metrics HTTP/1.1\r\n",
		"GET /metrics  HTTP/1.1\r\n",
		"GET /metrics HTTP/2.0\r\n",
		"GET /metrics HTTP/1.10\r\n",
		"GET /metrics http/1.1\r\n",
		"G(T /metrics HTTP/1.1\r\n",
		" GET /metrics HTTP/1.1\r\n",
		"GET /met\x01rics HTTP/1.1\r\n",
		"GET /metrics HTTP/1.1\r\r\n",
		"hello\n",
	};
	struct httpreq r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(parse(bad[i], &r), -1);
}

static void
malformed_header_fields_are_refused(void **state)
{
	static const char *const bad[] = {
		"Host : a\r\n",
		"Host\r\n",
		": a\r\n",
		" folded\r\n",
		"X: a\x01z\r\n",
		"Content-Length: 5\r\n",
		"Content-Length: x\r\n",
		"Content-Length:\r\n",
		"Transfer-Encoding: chunked\r\n",
	};
	char buf[128];
	struct httpreq r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\n%s\r\n", bad[i]);
		assert_int_equal(parse(buf, &r), -1);
	}
	assert_true(parse("GET / HTTP/1.1\r\nContent-Length: 00\r\n\r\n",
	    &r) > 0);
}

static void
a_nul_byte_is_refused_even_before_its_line_ends(void **state)
{
	struct httpreq r;

	(void)state;
	assert_int_equal(httpreq_parse("GET /\0", 6, &r), -1);
}

static void
a_head_without_end_within_8_kib_is_refused(void **state)
{
	static char buf[HTTPREQ_MAX + 100];
	struct httpreq r;
	size_t n;

	(void)state;
	n = (size_t)snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\nX: ");
	memset(buf + n, 'a', sizeof(buf) - n);
	assert_int_equal(httpreq_parse(buf, HTTPREQ_MAX - 1, &r), 0);
	assert_int_equal(httpreq_parse(buf, HTTPREQ_MAX, &r), -1);
	assert_int_equal(httpreq_parse(buf, sizeof(buf), &r), -1);
	/* A head of exactly 8 KiB still fits. */
	memcpy(buf + HTTPREQ_MAX - 4, "\r\n\r\n", 4);
	assert_int_equal(httpreq_parse(buf, sizeof(buf), &r), HTTPREQ_MAX);
}

static void
empty_lines_before_the_request_line_are_skipped(void **state)
{
	struct httpreq r;

	(void)state;
	assert_int_equal(parse("\r\n\nGET / HTTP/1.1\r\n\r\n", &r), 21);
	assert_int_equal(r.method, HTTPREQ_GET);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    a_get_is_whole_at_its_blank_line_and_1_1_keeps_alive),
		cmocka_unit_test(lines_may_end_in_a_bare_newline),
		cmocka_unit_test(
		    connection_options_decide_whether_the_connection_stays),
		cmocka_unit_test(an_unfinished_head_asks_for_more),
		cmocka_unit_test(other_methods_are_parsed_to_be_refused_later),
		cmocka_unit_test(
		    malformed_request_lines_are_refused_at_their_newline),
		cmocka_unit_test(malformed_header_fields_are_refused),
		cmocka_unit_test(
		    a_nul_byte_is_refused_even_before_its_line_ends),
		cmocka_unit_test(a_head_without_end_within_8_kib_is_refused),
		cmocka_unit_test(
		    empty_lines_before_the_request_line_are_skipped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
