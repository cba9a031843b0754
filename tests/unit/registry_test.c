/*
 * registry: built-ins are found first; a handler struct is refused for
 * another ABI major, a newer minor, a name mismatch, no protocol, or UDP
 * without udp_datagram.  Loading real .so files is covered end to end.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include <sockd/handler.h>

#include "registry.h"

static void
dgram(struct sockd_dgram *d, const char *p, size_t n)
{
	(void)d;
	(void)p;
	(void)n;
}

static void
builtin_handlers_are_found_without_a_handler_dir(void **state)
{
	char err[256];
	const struct sockd_handler *h;

	(void)state;
	h = registry_find("echo", "/nonexistent", err, sizeof(err));
	assert_non_null(h);
	assert_string_equal(h->name, "echo");
}

static void
an_unknown_handler_names_the_file_it_looked_for(void **state)
{
	char err[512];

	(void)state;
	assert_null(registry_find("nosuch", "/nonexistent", err, sizeof(err)));
	assert_non_null(strstr(err, "unknown handler \"nosuch\""));
	assert_non_null(strstr(err, "/nonexistent/nosuch.so"));
}

static void
a_handler_of_the_current_abi_passes(void **state)
{
	struct sockd_handler h = { SOCKD_ABI_VERSION, "x", SOCKD_TCP | SOCKD_UDP,
	    0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, dgram };
	char buf[128];

	(void)state;
	assert_null(registry_check(&h, "x", buf, sizeof(buf)));
	h.abi_version = SOCKD_ABI_MAJOR << 16;	/* an older minor loads */
	assert_null(registry_check(&h, "x", buf, sizeof(buf)));
}

static void
each_refusal_says_why(void **state)
{
	struct sockd_handler h = { SOCKD_ABI_VERSION, "x", SOCKD_TCP, 0, NULL,
	    NULL, NULL, NULL, NULL, NULL, NULL, NULL };
	char buf[128];

	(void)state;
	h.abi_version = (SOCKD_ABI_MAJOR + 1) << 16;
	assert_non_null(strstr(registry_check(&h, "x", buf, sizeof(buf)),
	    "built for handler ABI 2.0"));
	h.abi_version = (SOCKD_ABI_MAJOR << 16) | (SOCKD_ABI_MINOR + 1);
	assert_non_null(strstr(registry_check(&h, "x", buf, sizeof(buf)),
	    "newer than this sockd"));
	h.abi_version = SOCKD_ABI_VERSION;
	assert_non_null(strstr(registry_check(&h, "y", buf, sizeof(buf)),
	    "calls itself \"x\", not \"y\""));
	h.protocols = 0;
	assert_non_null(strstr(registry_check(&h, "x", buf, sizeof(buf)),
	    "serves no known protocol"));
	h.protocols = SOCKD_UDP;
	assert_non_null(strstr(registry_check(&h, "x", buf, sizeof(buf)),
	    "has no udp_datagram"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(builtin_handlers_are_found_without_a_handler_dir),
		cmocka_unit_test(an_unknown_handler_names_the_file_it_looked_for),
		cmocka_unit_test(a_handler_of_the_current_abi_passes),
		cmocka_unit_test(each_refusal_says_why),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
