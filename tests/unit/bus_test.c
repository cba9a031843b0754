/*
 * bus.c without Redis: the url forms the "bus" setting takes, and the
 * ABI's answer when no bus is open (the handler's room stays local).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include <sockd/handler.h>

#include "bus.h"

static void
redis_urls_give_host_port_and_password(void **state)
{
	struct bus_addr	 a;

	(void)state;
	assert_null(bus_addr_parse("redis://127.0.0.1", &a));
	assert_string_equal(a.host, "127.0.0.1");
	assert_int_equal(a.port, 6379);
	assert_null(a.password);
	assert_null(a.path);
	bus_addr_clear(&a);
	assert_null(bus_addr_parse("redis://:s3cr@t@redis.example:6380/", &a));
	assert_string_equal(a.host, "redis.example");
	assert_int_equal(a.port, 6380);
	assert_string_equal(a.password, "s3cr@t");
	bus_addr_clear(&a);
	assert_null(bus_addr_parse("redis://[::1]:7000", &a));
	assert_string_equal(a.host, "::1");
	assert_int_equal(a.port, 7000);
	bus_addr_clear(&a);
}

static void
unix_urls_give_the_path(void **state)
{
	struct bus_addr	 a;

	(void)state;
	assert_null(bus_addr_parse("unix:/run/redis/redis.sock", &a));
	assert_string_equal(a.path, "/run/redis/redis.sock");
	assert_null(a.host);
	bus_addr_clear(&a);
	assert_null(bus_addr_parse("unix:///tmp/r.sock", &a));
	assert_string_equal(a.path, "/tmp/r.sock");
	bus_addr_clear(&a);
}

static void
bad_urls_are_refused_with_a_reason(void **state)
{
	static const char *const bad[] = {
		"", "http://127.0.0.1", "redis://", "redis://:6379",
		"redis://h:0", "redis://h:65536", "redis://h:x",
		"redis://h:6379/0", "redis://[::1", "redis://pw@h",
		"unix:relative.sock", "unix:",
	};
	struct bus_addr	 a;
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_non_null(bus_addr_parse(bad[i], &a));
		assert_null(a.host);
		assert_null(a.path);
		assert_null(a.password);
	}
}

static void
without_a_bus_the_abi_refuses_and_counts_nothing(void **state)
{
	unsigned long long	 dropped, published, received;
	int			 up;

	(void)state;
	assert_int_equal(sockd_bus_publish("c", "x", 1), -1);
	assert_int_equal(sockd_bus_subscribe("c", NULL, NULL), -1);
	sockd_bus_unsubscribe("c", NULL, NULL);
	assert_int_equal(bus_stats(&up, &dropped, &published, &received), -1);
	assert_int_equal(up, 0);
	assert_true(dropped == 0 && published == 0 && received == 0);
	assert_null(bus_url());
}

static void
on_result(void *arg, int rc, const struct sockd_bus_item *it, size_t n)
{
	fail_msg("a refused request called back");
}

static void
on_held(void *arg, int held)
{
	fail_msg("a refused claim called back");
}

static void
without_a_bus_state_requests_are_refused_without_callback(void **state)
{
	unsigned long long	 dropped, published, received;
	int			 up;

	(void)state;
	assert_int_equal(sockd_bus_connected(), 0);
	assert_int_equal(sockd_bus_watch(NULL, NULL), -1);
	sockd_bus_unwatch(NULL, NULL);
	assert_int_equal(sockd_bus_push("k", "x", 1, 10, 60), -1);
	assert_int_equal(sockd_bus_range("k", 10, on_result, NULL), -1);
	assert_int_equal(sockd_bus_members("k", on_result, NULL), -1);
	sockd_bus_cancel(NULL);
	assert_null(sockd_bus_claim("k", "v", 1, 15, on_held, NULL));
	assert_null(sockd_bus_member("k", "v", 1, 15));
	sockd_bus_release(NULL);
	assert_int_equal(bus_stats(&up, &dropped, &published, &received), -1);
	assert_true(dropped == 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(redis_urls_give_host_port_and_password),
		cmocka_unit_test(unix_urls_give_the_path),
		cmocka_unit_test(bad_urls_are_refused_with_a_reason),
		cmocka_unit_test(
		    without_a_bus_the_abi_refuses_and_counts_nothing),
		cmocka_unit_test(
		    without_a_bus_state_requests_are_refused_without_callback),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
