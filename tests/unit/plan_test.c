/*
 * plan: the message a reload sends a worker, and the record the
 * supervisor keeps of what each worker serves once it is settled.
 */
#include <sys/socket.h>
#include <netinet/in.h>

#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <unistd.h>

#include <cmocka.h>
#include <uv.h>

#include <sockd/handler.h>

#include "plan.h"

static struct sockaddr_in
addr4(const char *ip, int port)
{
	struct sockaddr_in sin;

	uv_ip4_addr(ip, port, &sin);
	return sin;
}

static void
a_plan_finds_an_address_by_protocol_address_and_port(void **state)
{
	struct plan p = { 0 };
	struct sockaddr_in a = addr4("127.0.0.1", 7), b = addr4("127.0.0.1", 8);

	(void)state;
	plan_add(&p, SOCKD_TCP, (struct sockaddr *)&a, NULL, -1);
	assert_non_null(plan_find(&p, SOCKD_TCP, (struct sockaddr *)&a));
	assert_null(plan_find(&p, SOCKD_UDP, (struct sockaddr *)&a));
	assert_null(plan_find(&p, SOCKD_TCP, (struct sockaddr *)&b));
	plan_free(&p);
}

static void
settling_keeps_what_is_served_and_closes_sockets_not_taken(void **state)
{
	struct plan p = { 0 };
	struct sockaddr_in a = addr4("127.0.0.1", 7);
	struct sockaddr_in b = addr4("127.0.0.2", 7);
	int i, fd;

	(void)state;
	fd = dup(0);
	assert_true(fd >= 0);
	for (i = 0; i < 40; i++)	/* past the first allocation */
		plan_add(&p, SOCKD_UDP, (struct sockaddr *)&b, NULL, -1);
	plan_add(&p, SOCKD_TCP, (struct sockaddr *)&a, NULL, fd);
	p.v[0].served = 1;
	plan_settle(&p);
	assert_int_equal(p.n, 1);
	assert_int_equal(p.v[0].proto, SOCKD_UDP);
	assert_int_equal(fcntl(fd, F_GETFD), -1);
	assert_null(plan_find(&p, SOCKD_TCP, (struct sockaddr *)&a));
	plan_free(&p);
	assert_int_equal(p.n, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    a_plan_finds_an_address_by_protocol_address_and_port),
		cmocka_unit_test(
		    settling_keeps_what_is_served_and_closes_sockets_not_taken),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
