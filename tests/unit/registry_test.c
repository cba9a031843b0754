/*
 * registry: built-ins are found first; a handler struct is refused for
 * another ABI major, a newer minor, a name mismatch, no protocol, or UDP
 * without udp_datagram; a plugin file that someone else could have written
 * is refused before it is opened; reconfigure is read only from handlers
 * of minor 1 or later.  Loading real .so files is covered end to end.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
	    0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, dgram, NULL };
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
	    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL };
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

static void
reconfigure(void *a, void *b)
{
	(void)a;
	(void)b;
}

static void
a_minor_0_handler_has_no_reconfigure(void **state)
{
	struct sockd_handler full = { SOCKD_ABI_VERSION, "x", SOCKD_TCP,
	    SOCKD_ONE_LOOP, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	    reconfigure };
	struct sockd_handler *old;
	size_t len = offsetof(struct sockd_handler, reconfigure);
	char buf[128];

	(void)state;
	assert_ptr_equal(registry_reconfigure(&full), reconfigure);
	/* A minor-0 plugin's struct ends before the field: exactly that
	 * long, so that reading past it is caught by the sanitizer. */
	full.abi_version = SOCKD_ABI_MAJOR << 16;
	assert_non_null(old = malloc(len));
	memcpy(old, &full, len);
	assert_null(registry_check(old, "x", buf, sizeof(buf)));
	assert_null(registry_reconfigure(old));
	free(old);
	/* Only handlers whose connections share one loop get it. */
	full.abi_version = SOCKD_ABI_VERSION;
	full.flags = 0;
	assert_null(registry_reconfigure(&full));
}

/* Writes dir/name.so (not a real library: it must not get that far). */
static void
plugin_file(const char *dir, const char *name, mode_t mode)
{
	char path[512];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s.so", dir, name);
	assert_non_null(fp = fopen(path, "w"));
	fputs("not a library\n", fp);
	fclose(fp);
	assert_int_equal(chmod(path, mode), 0);
}

static void
a_plugin_others_could_write_is_refused_before_loading(void **state)
{
	char dir[] = "/tmp/sockd-registry.XXXXXX", path[512], err[1024];

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/x.so", dir);
	registry_set_user(geteuid());
	plugin_file(dir, "x", 0666);
	assert_null(registry_find("x", dir, err, sizeof(err)));
	assert_non_null(strstr(err, "x.so: writable by group or others "
	    "(mode 0666)"));
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(chmod(dir, 0777), 0);
	assert_null(registry_find("x", dir, err, sizeof(err)));
	assert_non_null(strstr(err, ": writable by group or others "
	    "(mode 0777)"));
	assert_non_null(strstr(err, dir));
	assert_int_equal(chmod(dir, 0755), 0);
	if (geteuid() == 0) {
		assert_int_equal(chown(path, 65534, 65534), 0);
		assert_null(registry_find("x", dir, err, sizeof(err)));
		assert_non_null(strstr(err, "x.so: owned by uid 65534, not "
		    "root or the daemon's user"));
		/* Unless it is the daemon's user. */
		registry_set_user(65534);
		assert_null(registry_find("x", dir, err, sizeof(err)));
		assert_null(strstr(err, "owned by"));
		registry_set_user(geteuid());
	}
	/* Trusted: it gets as far as dlopen(), which finds no library. */
	assert_int_equal(chown(path, geteuid(), getegid()), 0);
	assert_null(registry_find("x", dir, err, sizeof(err)));
	assert_null(strstr(err, "writable"));
	assert_null(strstr(err, "owned by"));
	assert_non_null(strstr(err, "x.so"));
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(builtin_handlers_are_found_without_a_handler_dir),
		cmocka_unit_test(an_unknown_handler_names_the_file_it_looked_for),
		cmocka_unit_test(a_handler_of_the_current_abi_passes),
		cmocka_unit_test(each_refusal_says_why),
		cmocka_unit_test(a_minor_0_handler_has_no_reconfigure),
		cmocka_unit_test(
		    a_plugin_others_could_write_is_refused_before_loading),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
