/*
 * config: every accepted form of each setting, and every error reported
 * with the right line, all of them in one pass.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <syslog.h>
#include <netinet/in.h>
#include <time.h>

#include <sockd/handler.h>

#include "conf_util.h"
#include "opts.h"

/* Loads text and fails the test unless it gives n errors and, for each of
 * the n (int line, const char *text) pairs that follow, one of them is
 * "file:line: ...text...". */
static void
assert_errors(const char *text, int n, ...)
{
	struct errlist e = { 0 };
	struct config *c = load_text(text, &e, 0);
	va_list ap;
	int i, line;

	assert_int_equal(e.n, n);
	va_start(ap, n);
	for (i = 0; i < n; i++) {
		line = va_arg(ap, int);
		assert_true(has_error(&e, line, va_arg(ap, const char *)));
	}
	va_end(ap);
	config_free(c);
	errlist_free(&e);
}

static void
a_minimal_service_gets_every_default(void **state)
{
	struct errlist e = { 0 };
	struct config *c = load_text(
	    "services = ( { name = \"echo\"; port = 7007; } );\n", &e, 0);

	(void)state;
	assert_non_null(c);
	assert_int_equal(c->nsvc, 1);
	assert_string_equal(c->svc[0].name, "echo");
	assert_string_equal(c->svc[0].handler, "echo");
	assert_int_equal(c->svc[0].protocols, SOCKD_TCP);
	assert_int_equal(c->svc[0].port_tcp, 7007);
	assert_int_equal(c->svc[0].nbind, 2);
	assert_string_equal(c->svc[0].bind[0].text, "0.0.0.0");
	assert_string_equal(c->svc[0].bind[1].text, "::");
	assert_int_equal(c->svc[0].idle_timeout, 300);
	assert_int_equal(c->svc[0].max_line, 4096);
	assert_int_equal(c->svc[0].per_source, 32);
	assert_int_equal(c->svc[0].rate, 50);
	assert_int_equal(c->svc[0].burst, 100);
	assert_int_equal(c->svc[0].max_reply, 1472);
	assert_int_equal(c->svc[0].max_reply_growth, 64);
	assert_true(c->svc[0].enabled);
	assert_true(c->svc[0].drop_low_ports);
	assert_int_equal(c->workers, 1);
	assert_int_equal(c->drain_timeout, 10);
	config_free(c);
}

static void
every_setting_is_read_and_defaults_are_inherited(void **state)
{
	struct errlist e = { 0 };
	struct config *c = load_text(
	    "daemon: { log = \"stderr\"; log_level = \"debug\";\n"
	    "  handler_dir = \"/opt/h\"; user = \"nobody\";\n"
	    "  group = \"nogroup\"; workers = \"auto\"; drain_timeout = 3;\n"
	    "  max_connections = 99; };\n"
	    "defaults: { bind = \"127.0.0.1\"; idle_timeout = 7;\n"
	    "  rate = 0; allow = [\"10.0.0.0/8\"]; };\n"
	    "services = (\n"
	    "  { name = \"a\"; port = 7001; protocol = [\"tcp\", \"udp\"];\n"
	    "    handler = \"echo\"; bind = [\"::1\", \"127.0.0.2\"];\n"
	    "    banner = \"hi\\n\"; busy = \"busy\\n\"; quit = \"q\";\n"
	    "    backlog = 5; max_line = 80; max_queue = 4096;\n"
	    "    max_connections = 3; per_source = 0; ipv6_prefix = 48;\n"
	    "    rate = 10; burst = 4; max_reply = 100;\n"
	    "    max_reply_growth = -1; drop_low_ports = false;\n"
	    "    deny = [\"10.1.0.0/16\", \"2001:db8::1\"]; enabled = false;\n"
	    "    options = { s = \"x\"; i = 5; b = true; }; },\n"
	    "  { name = \"b\"; port = 7002; }\n"
	    ");\n", &e, 0);
	struct svc_conf *a, *b;

	(void)state;
	assert_non_null(c);
	assert_int_equal(c->log_stderr, 1);
	assert_int_equal(c->log_level, LOG_DEBUG);
	assert_string_equal(c->handler_dir, "/opt/h");
	assert_string_equal(c->user, "nobody");
	assert_string_equal(c->group, "nogroup");
	assert_int_equal(c->workers, 0);
	assert_int_equal(c->drain_timeout, 3);
	assert_int_equal(c->max_connections, 99);
	a = &c->svc[0];
	b = &c->svc[1];
	assert_int_equal(a->protocols, SOCKD_TCP | SOCKD_UDP);
	assert_int_equal(a->port_udp, 7001);
	assert_string_equal(a->handler, "echo");
	assert_int_equal(a->nbind, 2);
	assert_string_equal(a->bind[0].text, "::1");
	assert_string_equal(a->banner, "hi\n");
	assert_string_equal(a->busy, "busy\n");
	assert_string_equal(a->quit, "q");
	assert_int_equal(a->backlog, 5);
	assert_int_equal(a->max_line, 80);
	assert_int_equal(a->max_queue, 4096);
	assert_int_equal(a->max_connections, 3);
	assert_int_equal(a->per_source, 0);
	assert_int_equal(a->ipv6_prefix, 48);
	assert_int_equal(a->rate, 10);
	assert_int_equal(a->burst, 4);
	assert_int_equal(a->max_reply, 100);
	assert_int_equal(a->max_reply_growth, -1);
	assert_false(a->drop_low_ports);
	assert_false(a->enabled);
	assert_int_equal(a->acl.ndeny, 2);
	assert_int_equal(a->acl.deny[0].prefix, 16);
	assert_int_equal(a->acl.deny[1].prefix, 128);
	assert_int_equal(a->opts->n, 3);
	assert_string_equal(sockd_opt_string((void *)a->opts, "s", "d"), "x");
	assert_int_equal(sockd_opt_int((void *)a->opts, "i", 0), 5);
	assert_true(sockd_opt_bool((void *)a->opts, "b", 0));
	assert_int_equal(sockd_opt_int((void *)a->opts, "missing", 42), 42);
	/* b inherits from defaults */
	assert_int_equal(b->nbind, 1);
	assert_string_equal(b->bind[0].text, "127.0.0.1");
	assert_int_equal(b->idle_timeout, 7);
	assert_int_equal(b->rate, 0);
	assert_true(b->acl.has_allow);
	assert_int_equal(b->acl.nallow, 1);
	config_free(c);
}

static void
a_port_comes_from_etc_services_when_absent(void **state)
{
	struct errlist e = { 0 };
	struct config *c = load_text(
	    "services = ( { name = \"daytime\"; handler = \"echo\";\n"
	    "  protocol = [\"udp\", \"tcp\"]; } );\n", &e, 0);

	(void)state;
	assert_non_null(c);
	assert_int_equal(c->svc[0].port_tcp, 13);
	assert_int_equal(c->svc[0].port_udp, 13);
	config_free(c);
}

static void
the_port_offset_moves_only_privileged_ports(void **state)
{
	struct errlist e = { 0 };
	struct config *c = load_text(
	    "services = ( { name = \"echo\"; },\n"
	    "  { name = \"upper\"; port = 7680; } );\n", &e, 10000);

	(void)state;
	assert_non_null(c);
	assert_int_equal(c->svc[0].port_tcp, 10007);
	assert_int_equal(c->svc[1].port_tcp, 7680);
	config_free(c);
}

static void
every_error_is_reported_with_its_line(void **state)
{
	struct errlist e = { 0 };
	struct config *c = load_text(
	    "daemon: { log = \"file\"; workers = 0; colour = 1;\n"	/* 1 */
	    "  log_level = \"loud\"; };\n"				/* 2 */
	    "defaults: { name = \"x\"; };\n"				/* 3 */
	    "bogus = 1;\n"						/* 4 */
	    "services = (\n"						/* 5 */
	    "  { name = \"a\"; port = 70000; },\n"			/* 6 */
	    "  { name = \"b\"; port = \"7\"; },\n"			/* 7 */
	    "  { name = \"c\"; port = 7003; protocol = \"sctp\"; },\n"	/* 8 */
	    "  { name = \"d\"; port = 7004; bind = \"localhost\"; },\n"	/* 9 */
	    "  { name = \"e\"; port = 7005; frobnicate = true; },\n"	/* 10 */
	    "  { port = 7006; },\n"					/* 11 */
	    "  { name = \"g\"; port = 7007; },\n"			/* 12 */
	    "  { name = \"g\"; port = 7008; },\n"			/* 13 */
	    "  { name = \"h\"; port = 7007; },\n"			/* 14 */
	    "  { name = \"i\"; port = 7009; allow = [\"10.0.0.0/33\"]; },\n"
	    "  { name = \"j\"; port = 7010; enabled = 1; },\n"		/* 16 */
	    "  { name = \"nosuchservice\"; },\n"				/* 17 */
	    "  { name = \"k\"; port = 7011; max_line = 0; },\n"		/* 18 */
	    "  { name = \"l\"; port = 7012; options = 5; },\n"		/* 19 */
	    "  { name = \"m\"; port = 7013; handler = \"../x\"; },\n"	/* 20 */
	    "  { name = \"Bad Name\"; port = 7014; }\n"			/* 21 */
	    ");\n", &e, 0);

	(void)state;
	assert_non_null(c);
	/* Kept for the handler checks: "g" and "h" parsed (their clash is
	 * an error of its own). */
	assert_int_equal(c->nsvc, 2);
	assert_string_equal(c->svc[0].name, "g");
	assert_string_equal(c->svc[1].name, "h");
	config_free(c);
	assert_true(has_error(&e, 1, "log \"file\""));
	assert_true(has_error(&e, 1, "\"workers\": 0 is out of range"));
	assert_true(has_error(&e, 1, "unknown setting \"colour\" in daemon"));
	assert_true(has_error(&e, 2, "log_level \"loud\""));
	assert_true(has_error(&e, 3, "\"name\" belongs in a service"));
	assert_true(has_error(&e, 4, "unknown setting \"bogus\""));
	assert_true(has_error(&e, 6, "\"port\": 70000 is out of range"));
	assert_true(has_error(&e, 7, "\"port\": expected an integer"));
	assert_true(has_error(&e, 8, "protocol \"sctp\""));
	assert_true(has_error(&e, 9, "bind \"localhost\": not a numeric"));
	assert_true(has_error(&e, 10, "unknown setting \"frobnicate\""));
	assert_true(has_error(&e, 11, "service without a \"name\""));
	assert_true(has_error(&e, 13, "service \"g\" is already defined at "
	    "line 12"));
	assert_true(has_error(&e, 14, "tcp port 7007 is already used by "
	    "service \"g\""));
	assert_true(has_error(&e, 15, "\"10.0.0.0/33\" is not an address"));
	assert_true(has_error(&e, 16, "\"enabled\": expected true or false"));
	assert_true(has_error(&e, 17, "not a tcp service in /etc/services"));
	assert_true(has_error(&e, 18, "\"max_line\": 0 is out of range"));
	assert_true(has_error(&e, 19, "options: expected a group"));
	assert_true(has_error(&e, 20, "handler \"../x\""));
	assert_true(has_error(&e, 21, "name \"Bad Name\""));
	errlist_free(&e);
}

static void
a_syntax_error_names_file_and_line(void **state)
{
	struct errlist e = { 0 };
	struct config *c = load_text(
	    "services = (\n  { name = \"a\"; port = = 7001; }\n);\n", &e, 0);

	(void)state;
	assert_null(c);
	assert_int_equal(e.n, 1);
	assert_true(has_error(&e, 2, "syntax error"));
	errlist_free(&e);
}

static void
a_missing_file_is_one_clear_error(void **state)
{
	struct errlist e = { 0 };

	(void)state;
	assert_null(config_load("/nonexistent/sockd.conf", 0, &e));
	assert_int_equal(e.n, 1);
	assert_string_equal(e.msg[0], "/nonexistent/sockd.conf: No such file "
	    "or directory");
	errlist_free(&e);
}

static void
wildcard_and_specific_binds_on_one_port_conflict(void **state)
{
	(void)state;
	assert_errors(
	    "services = ( { name = \"a\"; port = 7001; protocol = \"udp\";\n"
	    "  handler = \"echo\"; bind = \"0.0.0.0\"; },\n"
	    "  { name = \"b\"; port = 7001; protocol = \"udp\";\n"
	    "  bind = \"127.0.0.1\"; },\n"
	    "  { name = \"c\"; port = 7001; protocol = \"tcp\"; },\n"
	    "  { name = \"d\"; port = 7001; protocol = \"udp\";\n"
	    "  bind = \"::1\"; } );\n", 1,
	    3, "udp port 7001 is already used");
}

static void
equal_service_configs_compare_equal(void **state)
{
	struct errlist e = { 0 };
	const char *text = "services = ( { name = \"a\"; port = 7001;\n"
	    "  options = { x = 1; }; }, { name = \"b\"; port = 7002;\n"
	    "  options = { x = 2; }; } );\n";
	struct config *c1 = load_text(text, &e, 0);
	struct config *c2 = load_text(text, &e, 0);

	(void)state;
	assert_true(svc_conf_equal(&c1->svc[0], &c2->svc[0]));
	assert_false(svc_conf_equal(&c1->svc[0], &c2->svc[1]));
	config_free(c1);
	config_free(c2);
}

static void
option_getters_record_a_wrong_type(void **state)
{
	struct errlist e = { 0 };
	struct config *c = load_text(
	    "services = ( { name = \"a\"; port = 7001;\n"
	    "  options = {\n    n = \"five\";\n  }; } );\n", &e, 0);
	struct opts *o;

	(void)state;
	o = c->svc[0].opts;
	assert_int_equal(sockd_opt_int((void *)o, "n", 7), 7);
	assert_int_equal(o->badline, 3);
	assert_string_equal(o->bad, "option \"n\": expected an integer");
	config_free(c);
}

static void
cidr_matching_follows_prefixes(void **state)
{
	struct cidr c;
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };

	(void)state;
	assert_int_equal(cidr_parse("192.0.2.0/24", &c), 0);
	inet_pton(AF_INET, "192.0.2.200", &sin.sin_addr);
	assert_true(cidr_match(&c, (struct sockaddr *)&sin));
	inet_pton(AF_INET, "192.0.3.1", &sin.sin_addr);
	assert_false(cidr_match(&c, (struct sockaddr *)&sin));
	inet_pton(AF_INET6, "::ffff:192.0.2.9", &sin6.sin6_addr);
	assert_true(cidr_match(&c, (struct sockaddr *)&sin6));
	assert_int_equal(cidr_parse("2001:db8::/33", &c), 0);
	inet_pton(AF_INET6, "2001:db8:7fff::1", &sin6.sin6_addr);
	assert_true(cidr_match(&c, (struct sockaddr *)&sin6));
	inet_pton(AF_INET6, "2001:db8:8000::1", &sin6.sin6_addr);
	assert_false(cidr_match(&c, (struct sockaddr *)&sin6));
	assert_int_equal(cidr_parse("10.0.0.0/", &c), -1);
	assert_int_equal(cidr_parse("10.0.0.0/x", &c), -1);
	assert_int_equal(cidr_parse("::/129", &c), -1);
	assert_int_equal(cidr_parse("example.org", &c), -1);
}

static void
an_address_listed_twice_in_bind_is_an_error_with_its_line(void **state)
{
	(void)state;
	assert_errors(
	    "services = ( { name = \"a\"; port = 7001;\n"
	    "  bind = [\"127.0.0.1\",\n"
	    "    \"127.0.0.1\"]; } );\n", 1,
	    3, "bind \"127.0.0.1\": listed twice");
}

static void
an_ipv4_mapped_bind_is_an_error_that_names_the_ipv4_form(void **state)
{
	(void)state;
	assert_errors(
	    "services = ( { name = \"a\"; port = 7001;\n"
	    "  bind = \"::ffff:127.0.0.1\"; } );\n", 1,
	    2, "bind \"::ffff:127.0.0.1\": an IPv4-mapped address; write "
	    "\"127.0.0.1\"");
}

static void
a_wildcard_and_an_address_in_one_service_overlap(void **state)
{
	(void)state;
	assert_errors(
	    "services = ( { name = \"a\"; port = 7001;\n"
	    "  bind = [\"0.0.0.0\", \"127.0.0.1\"]; },\n"
	    "  { name = \"b\"; port = 7002;\n"
	    "  bind = [\"::\", \"::1\"]; },\n"
	    "  { name = \"c\"; port = 7003;\n"
	    "  bind = [\"::1\", \"127.0.0.1\"]; } );\n", 2,
	    1, "service \"a\": bind \"0.0.0.0\" and \"127.0.0.1\" overlap",
	    3, "service \"b\": bind \"::\" and \"::1\" overlap");
}

static void
two_services_on_one_address_name_both_and_both_addresses(void **state)
{
	(void)state;
	assert_errors(
	    "services = ( { name = \"a\"; port = 7001; bind = \"::1\"; },\n"
	    "  { name = \"b\"; port = 7001; bind = \"::\"; } );\n", 1,
	    2, "service \"b\": tcp port 7001 is already "
	    "used by service \"a\" (line 1): \"::\" overlaps \"::1\"");
}

static void
an_empty_quit_word_is_an_error_with_its_line(void **state)
{
	(void)state;
	assert_errors(
	    "defaults: { quit = \"q\"; };\n"
	    "services = ( { name = \"a\"; port = 7001;\n"
	    "  quit = \"\"; } );\n", 1,
	    3, "quit: the empty string would end every session");
}

static void
socket_settings_have_defaults_ranges_and_inherit(void **state)
{
	struct errlist e = { 0 };
	struct config *c = load_text(
	    "defaults: { keepalive = false; rcvbuf = 65536; };\n"
	    "services = ( { name = \"a\"; port = 7001; },\n"
	    "  { name = \"b\"; port = 7002; keepalive = true; sndbuf = 8192;\n"
	    "    rcvbuf = 0; v6only = false; } );\n", &e, 0);

	(void)state;
	assert_int_equal(e.n, 0);
	assert_false(c->svc[0].keepalive);
	assert_int_equal(c->svc[0].rcvbuf, 65536);
	assert_int_equal(c->svc[0].sndbuf, 0);
	assert_true(c->svc[0].v6only);
	assert_int_equal(c->svc[0].nbind, 2);
	assert_true(c->svc[1].keepalive);
	assert_int_equal(c->svc[1].rcvbuf, 0);
	assert_int_equal(c->svc[1].sndbuf, 8192);
	assert_false(c->svc[1].v6only);
	/* "::" takes IPv4 too, so it is the only default address. */
	assert_int_equal(c->svc[1].nbind, 1);
	assert_string_equal(c->svc[1].bind[0].text, "::");
	assert_false(svc_conf_equal(&c->svc[0], &c->svc[1]));
	config_free(c);
	errlist_free(&e);
	assert_errors(
	    "services = ( { name = \"a\"; port = 7001;\n"
	    "  rcvbuf = -1;\n"
	    "  sndbuf = 2147483647;\n"
	    "  keepalive = 1;\n"
	    "  v6only = \"no\"; } );\n", 4,
	    2, "\"rcvbuf\": -1 is out of range",
	    3, "\"sndbuf\": 2147483647 is out of range",
	    4, "\"keepalive\": expected true or false",
	    5, "\"v6only\": expected true or false");
}

static void
with_v6only_off_the_ipv6_wildcard_overlaps_ipv4(void **state)
{
	(void)state;
	assert_errors(
	    "services = ( { name = \"a\"; port = 7001; v6only = false;\n"
	    "  bind = [\"::\", \"0.0.0.0\"]; },\n"
	    "  { name = \"b\"; port = 7002; v6only = false; bind = \"::\"; },\n"
	    "  { name = \"c\"; port = 7002; bind = \"127.0.0.1\"; },\n"
	    "  { name = \"d\"; port = 7003; v6only = false;\n"
	    "    bind = \"::1\"; },\n"
	    "  { name = \"e\"; port = 7003; bind = \"0.0.0.0\"; } );\n", 2,
	    1, "bind \"::\" and \"0.0.0.0\" overlap (with v6only = false",
	    4, "service \"c\": tcp port 7002 is already used by service \"b\"");
}

static void
an_include_of_a_directory_names_the_file_and_line(void **state)
{
	struct errlist e = { 0 };
	char want[160];

	(void)state;
	conf_dir_new();
	conf_dir_write("sub", NULL);
	conf_dir_write("main.conf", "# first\n@include \"sub\"\n"
	    "services = ();\n");
	assert_null(conf_dir_load("main.conf", &e));
	assert_int_equal(e.n, 1);
	snprintf(want, sizeof(want), "cannot include \"%s/sub\": Is a "
	    "directory", conf_dir);
	assert_true(has_error(&e, 2, want));
	errlist_free(&e);
	conf_dir_free();
}

static void
a_missing_include_names_the_file_and_the_line_of_the_include(void **state)
{
	struct errlist e = { 0 };
	struct config *c;
	char want[160];

	(void)state;
	conf_dir_new();
	conf_dir_write("svc.conf", "\n\n  @include \"gone.conf\"\n");
	conf_dir_write("main.conf", "services = (\n"
	    "@include \"svc.conf\"\n);\n");
	assert_null(conf_dir_load("main.conf", &e));
	assert_int_equal(e.n, 1);
	snprintf(want, sizeof(want), "%s/svc.conf:3: cannot include "
	    "\"%s/gone.conf\": No such file or directory", conf_dir, conf_dir);
	assert_string_equal(e.msg[0], want);
	errlist_free(&e);
	/* And a good include still works, with errors in their own file. */
	conf_dir_write("gone.conf", "{ name = \"a\"; port = 70000; }\n");
	c = conf_dir_load("main.conf", &e);
	assert_int_equal(e.n, 1);
	snprintf(want, sizeof(want), "gone.conf:1: \"port\": 70000 is out "
	    "of range");
	assert_memory_equal(e.msg[0], want, strlen(want));
	config_free(c);
	errlist_free(&e);
	conf_dir_free();
}

static void
an_include_loop_is_cut_at_the_depth_limit(void **state)
{
	struct errlist e = { 0 };

	(void)state;
	conf_dir_new();
	conf_dir_write("main.conf", "@include \"main.conf\"\n"
	    "services = ();\n");
	assert_null(conf_dir_load("main.conf", &e));
	assert_int_equal(e.n, 1);
	assert_non_null(strstr(e.msg[0], "includes nest deeper than"));
	errlist_free(&e);
	conf_dir_free();
}

static void
a_huge_file_is_refused_before_it_is_parsed(void **state)
{
	struct errlist e = { 0 };
	size_t n = 64u << 20;
	char *big = malloc(n + 64), want[200];
	struct timespec t0, t1;
	const char *path;
	FILE *fp;
	int i;

	(void)state;
	assert_non_null(big);
	/* A 64 MiB banner: libconfig would take minutes over it. */
	strcpy(big, "services = ( { name = \"a\"; port = 7001; banner = \"");
	memset(big + strlen(big), 'x', n);
	strcpy(big + 51 + n, "\"; } );\n");
	conf_dir_new();
	path = conf_dir_write("big.conf", "");
	assert_non_null(fp = fopen(path, "w"));
	assert_int_equal(fputs(big, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
	conf_dir_write("main.conf", "@include \"big.conf\"\n");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_null(conf_dir_load("big.conf", &e));
	assert_null(conf_dir_load("main.conf", &e));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true(t1.tv_sec - t0.tv_sec < 5);
	assert_int_equal(e.n, 2);
	for (i = 0; i < 2; i++) {
		snprintf(want, sizeof(want), "%s: larger than the limit of "
		    "1024 KiB", path);
		assert_memory_equal(e.msg[i], want, strlen(want));
	}
	errlist_free(&e);
	/* Files under the limit each, but too much together. */
	memset(big, ' ', (1u << 20) - 1);
	big[(1u << 20) - 1] = '\0';
	conf_dir_write("a.conf", big);
	conf_dir_write("main.conf", "@include \"a.conf\"\n@include \"a.conf\"\n"
	    "@include \"a.conf\"\n@include \"a.conf\"\n@include \"a.conf\"\n"
	    "services = ();\n");
	assert_null(conf_dir_load("main.conf", &e));
	assert_int_equal(e.n, 1);
	assert_non_null(strstr(e.msg[0], "pass the limit of 4096 KiB "
	    "together"));
	errlist_free(&e);
	free(big);
	conf_dir_free();
}

static void
a_nul_byte_is_an_error_with_its_line_not_an_exit(void **state)
{
	static const char text[] = "services = ();\n@include \"\0x\"\n";
	struct errlist e = { 0 };
	const char *path;
	FILE *fp;

	(void)state;
	conf_dir_new();
	/* libconfig cuts the name at the NUL and would read the directory,
	 * where its scanner exits the process. */
	path = conf_dir_write("main.conf", "");
	assert_non_null(fp = fopen(path, "w"));
	assert_int_equal(fwrite(text, 1, sizeof(text) - 1, fp),
	    sizeof(text) - 1);
	assert_int_equal(fclose(fp), 0);
	assert_null(conf_dir_load("main.conf", &e));
	assert_int_equal(e.n, 1);
	assert_true(has_error(&e, 2, "a NUL byte"));
	errlist_free(&e);
	conf_dir_free();
}

/* 1 when some error is "<conf_dir>/<file>:<line>: ...needle..." (line 0:
 * "<conf_dir>/<file>: ...needle..."). */
static int
has_error_in(const struct errlist *errs, const char *file, int line,
    const char *needle)
{
	char prefix[200];
	size_t i;

	if (line > 0)
		snprintf(prefix, sizeof(prefix), "%s/%s:%d: ", conf_dir, file,
		    line);
	else
		snprintf(prefix, sizeof(prefix), "%s/%s: ", conf_dir, file);
	for (i = 0; i < errs->n; i++)
		if (strncmp(errs->msg[i], prefix, strlen(prefix)) == 0 &&
		    strstr(errs->msg[i], needle) != NULL)
			return 1;
	fprintf(stderr, "  wanted: %s...%s\n", prefix, needle);
	for (i = 0; i < errs->n; i++)
		fprintf(stderr, "  got: %s\n", errs->msg[i]);
	return 0;
}

/* What sockd logs on stderr while loading conf_dir/name. */
static struct config *
conf_dir_load_logged(const char *name, struct errlist *errs, char *log,
    size_t size)
{
	struct config *c;
	FILE *tmp = tmpfile();
	int saved;
	size_t n;

	assert_non_null(tmp);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	assert_int_equal(dup2(fileno(tmp), STDERR_FILENO), STDERR_FILENO);
	c = conf_dir_load(name, errs);
	fflush(stderr);
	assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	close(saved);
	rewind(tmp);
	n = fread(log, 1, size - 1, tmp);
	log[n] = '\0';
	fclose(tmp);
	return c;
}

static void
drop_in_files_are_read_in_c_locale_order_and_leftovers_are_ignored(
    void **state)
{
	struct errlist e = { 0 };
	struct config *c;
	char link[160], log[2048];
	static const char *const want[] = { "main", "big", "alpha", "beta",
	    "linked" };
	size_t i;

	(void)state;
	conf_dir_new();
	conf_dir_write("main.conf", "daemon: { include_dir = \"d\"; };\n"
	    "defaults: { bind = \"127.0.0.1\"; idle_timeout = 9; };\n"
	    "services = ( { name = \"main\"; port = 7001; handler = \"echo\";"
	    " } );\n");
	conf_dir_write("d", NULL);
	conf_dir_write("other.inc", "services = ( { name = \"linked\"; "
	    "port = 7005; handler = \"echo\"; } );\n");
	conf_dir_write("d/b.conf", "services = ( { name = \"beta\"; "
	    "port = 7004; handler = \"echo\"; } );\n");
	conf_dir_write("d/a.conf", "services = ( { name = \"alpha\"; "
	    "port = 7003; handler = \"echo\"; } );\n");
	/* Upper case sorts first in the C locale, whatever LANG says. */
	conf_dir_write("d/B.conf", "services = ( { name = \"big\"; "
	    "port = 7002; handler = \"echo\"; } );\n");
	conf_dir_write("d/.hidden.conf", "garbage");
	conf_dir_write("d/x.conf.dpkg-old", "garbage");
	conf_dir_write("d/x.conf.dpkg-dist", "garbage");
	conf_dir_write("d/x.conf~", "garbage");
	conf_dir_write("d/README", "garbage");
	conf_dir_write("d/.conf", "garbage");
	conf_dir_write("d/sub.conf", NULL);
	snprintf(link, sizeof(link), "%s/d/l.conf", conf_dir);
	assert_int_equal(symlink("../other.inc", link), 0);
	c = conf_dir_load_logged("main.conf", &e, log, sizeof(log));
	(void)unlink(link);
	assert_int_equal(e.n, 0);
	assert_non_null(c);
	assert_int_equal(c->nsvc, sizeof(want) / sizeof(want[0]));
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		assert_string_equal(c->svc[i].name, want[i]);
		/* The main file's defaults hold in every file. */
		assert_int_equal(c->svc[i].idle_timeout, 9);
		assert_int_equal(c->svc[i].nbind, 1);
	}
	assert_non_null(strstr(c->svc[1].file, "/d/B.conf"));
	assert_non_null(strstr(log, "/d/sub.conf: ignored: not a regular "
	    "file"));
	config_free(c);
	conf_dir_free();
}

static void
errors_in_a_drop_in_name_that_file_and_line(void **state)
{
	static const char nul[] = "services = ();\n\n# \0\n";
	struct errlist e = { 0 };
	struct config *c;
	char want[200], *big;
	const char *path;
	FILE *fp;

	(void)state;
	conf_dir_new();
	conf_dir_write("main.conf", "daemon: { include_dir = \"d\"; };\n"
	    "services = ( { name = \"echo\"; port = 7001; } );\n");
	conf_dir_write("d", NULL);
	conf_dir_write("d/a.conf", "services = (\n"
	    "  { name = \"a\";\n"
	    "    port = 70000; } );\n");
	conf_dir_write("d/b.conf", "services = (\n  { name = = \"b\"; } );\n");
	conf_dir_write("d/c.conf", "services = (\n@include \"gone.inc\"\n);\n");
	path = conf_dir_write("d/d.conf", "");
	assert_non_null(fp = fopen(path, "w"));
	assert_int_equal(fwrite(nul, 1, sizeof(nul) - 1, fp), sizeof(nul) - 1);
	assert_int_equal(fclose(fp), 0);
	big = malloc((2u << 20) + 1);
	assert_non_null(big);
	memset(big, ' ', 2u << 20);
	big[2u << 20] = '\0';
	conf_dir_write("d/e.conf", big);
	free(big);
	c = conf_dir_load("main.conf", &e);
	assert_non_null(c);
	/* The main file's service and those of the other files stay, for
	 * "sockd -t" to check their handlers. */
	assert_int_equal(c->nsvc, 1);
	assert_int_equal(e.n, 5);
	assert_true(has_error_in(&e, "d/a.conf", 3, "\"port\": 70000 is out "
	    "of range"));
	assert_true(has_error_in(&e, "d/b.conf", 2, "syntax error"));
	/* An @include in a drop-in is relative to include_dir. */
	snprintf(want, sizeof(want), "cannot include \"%s/d/gone.inc\": No "
	    "such file or directory", conf_dir);
	assert_true(has_error_in(&e, "d/c.conf", 2, want));
	assert_true(has_error_in(&e, "d/d.conf", 3, "a NUL byte"));
	assert_true(has_error_in(&e, "d/e.conf", 0, "larger than the limit "
	    "of 1024 KiB"));
	config_free(c);
	errlist_free(&e);
	/* The include, once there, is read from include_dir. */
	conf_dir_write("d/gone.inc", "{ name = \"c\"; port = 7003; "
	    "handler = \"echo\"; }\n");
	(void)remove(path);
	(void)remove(conf_made[6]);	/* d/e.conf */
	c = conf_dir_load("main.conf", &e);
	assert_int_equal(e.n, 2);
	assert_int_equal(c->nsvc, 2);
	assert_string_equal(c->svc[1].name, "c");
	config_free(c);
	errlist_free(&e);
	conf_dir_free();
}

static void
a_service_defined_in_two_files_names_both_places(void **state)
{
	struct errlist e = { 0 };
	struct config *c;
	char want[200];

	(void)state;
	conf_dir_new();
	conf_dir_write("main.conf", "daemon: { include_dir = \"d\"; };\n"
	    "services = (\n"
	    "  { name = \"echo\"; port = 7001; bind = \"::1\"; } );\n");
	conf_dir_write("d", NULL);
	conf_dir_write("d/a.conf", "services = (\n"
	    "  { name = \"b\"; port = 7002; handler = \"echo\"; },\n"
	    "  { name = \"echo\"; port = 7009; } );\n");
	conf_dir_write("d/b.conf", "services = (\n\n"
	    "  { name = \"c\"; port = 7002; handler = \"echo\"; },\n"
	    "  { name = \"d\"; port = 7001; handler = \"echo\"; } );\n");
	c = conf_dir_load("main.conf", &e);
	assert_int_equal(e.n, 3);
	snprintf(want, sizeof(want), "service \"echo\" is already defined at "
	    "%s/main.conf:3", conf_dir);
	assert_true(has_error_in(&e, "d/a.conf", 3, want));
	snprintf(want, sizeof(want), "service \"c\": tcp port 7002 is already "
	    "used by service \"b\" (%s/d/a.conf:2)", conf_dir);
	assert_true(has_error_in(&e, "d/b.conf", 3, want));
	snprintf(want, sizeof(want), "service \"d\": tcp port 7001 is already "
	    "used by service \"echo\" (%s/main.conf:3): \"::\" overlaps "
	    "\"::1\"", conf_dir);
	assert_true(has_error_in(&e, "d/b.conf", 4, want));
	config_free(c);
	errlist_free(&e);
	conf_dir_free();
}

static void
daemon_and_defaults_in_a_drop_in_are_refused_with_file_and_line(
    void **state)
{
	struct errlist e = { 0 };
	struct config *c;

	(void)state;
	conf_dir_new();
	conf_dir_write("main.conf", "daemon: { include_dir = \"d\"; };\n"
	    "services = ();\n");
	conf_dir_write("d", NULL);
	conf_dir_write("d/a.conf", "# a service\n"
	    "daemon: { workers = 2; };\n"
	    "defaults: { rate = 0; };\n"
	    "services = ( { name = \"echo\"; port = 7001; } );\n"
	    "colour = 1;\n");
	c = conf_dir_load("main.conf", &e);
	assert_int_equal(e.n, 3);
	assert_true(has_error_in(&e, "d/a.conf", 2, "\"daemon\" belongs in "
	    "the main file"));
	assert_true(has_error_in(&e, "d/a.conf", 3, "\"defaults\" belongs in "
	    "the main file"));
	assert_true(has_error_in(&e, "d/a.conf", 5, "unknown setting "
	    "\"colour\"; a drop-in file holds only \"services\""));
	/* Nothing of them was applied. */
	assert_int_equal(c->workers, 1);
	assert_int_equal(c->svc[0].rate, 50);
	config_free(c);
	errlist_free(&e);
	conf_dir_free();
}

static void
a_missing_include_dir_is_a_warning_not_an_error(void **state)
{
	struct errlist e = { 0 };
	struct config *c;
	char log[2048], want[200];

	(void)state;
	conf_dir_new();
	/* No services in the main file: they may all be drop-ins. */
	conf_dir_write("main.conf", "daemon: {\n"
	    "  include_dir = \"sockd.d\"; };\n");
	c = conf_dir_load_logged("main.conf", &e, log, sizeof(log));
	assert_int_equal(e.n, 0);
	assert_non_null(c);
	assert_int_equal(c->nsvc, 0);
	snprintf(want, sizeof(want), "%s/main.conf:2: include_dir "
	    "\"%s/sockd.d\": no such directory", conf_dir, conf_dir);
	assert_non_null(strstr(log, want));
	config_free(c);
	conf_dir_free();
}

static void
an_include_dir_that_is_no_directory_is_an_error_naming_it(void **state)
{
	struct errlist e = { 0 };
	struct config *c;
	char want[200];

	(void)state;
	conf_dir_new();
	conf_dir_write("main.conf", "daemon: {\n"
	    "  include_dir = \"file\"; };\nservices = ();\n");
	conf_dir_write("file", "services = ();\n");
	c = conf_dir_load("main.conf", &e);
	assert_int_equal(e.n, 1);
	snprintf(want, sizeof(want), "include_dir \"%s/file\": Not a "
	    "directory", conf_dir);
	assert_true(has_error_in(&e, "main.conf", 2, want));
	config_free(c);
	errlist_free(&e);
	conf_dir_write("main.conf", "daemon: {\n"
	    "  include_dir = \"\"; };\nservices = ();\n");
	c = conf_dir_load("main.conf", &e);
	assert_int_equal(e.n, 1);
	assert_true(has_error_in(&e, "main.conf", 2, "include_dir: the empty "
	    "string"));
	config_free(c);
	errlist_free(&e);
	/* Root reads any directory: only others see it unreadable. */
	if (geteuid() != 0) {
		conf_dir_write("d", NULL);
		assert_int_equal(chmod(conf_made[conf_nmade - 1], 0), 0);
		conf_dir_write("main.conf", "daemon: {\n"
		    "  include_dir = \"d\"; };\nservices = ();\n");
		c = conf_dir_load("main.conf", &e);
		assert_int_equal(e.n, 1);
		assert_true(has_error_in(&e, "main.conf", 2, "Permission "
		    "denied"));
		config_free(c);
		errlist_free(&e);
	}
	conf_dir_free();
}

static void
a_relative_include_dir_is_relative_to_the_main_file(void **state)
{
	struct errlist e = { 0 };
	struct config *c;
	char want[200], text[300];

	(void)state;
	conf_dir_new();
	conf_dir_write("etc", NULL);
	conf_dir_write("etc/sockd.d", NULL);
	conf_dir_write("etc/sockd.d/a.conf", "services = ( { name = \"echo\"; "
	    "port = 7001; } );\n");
	conf_dir_write("etc/main.conf", "daemon: { include_dir = \"sockd.d\"; "
	    "};\n");
	/* The working directory is not conf_dir/etc. */
	c = conf_dir_load("etc/main.conf", &e);
	assert_int_equal(e.n, 0);
	snprintf(want, sizeof(want), "%s/etc/sockd.d", conf_dir);
	assert_string_equal(c->include_dir, want);
	assert_int_equal(c->nsvc, 1);
	config_free(c);
	/* An absolute one is taken as it is. */
	snprintf(text, sizeof(text), "daemon: { include_dir = \"%s\"; };\n",
	    want);
	conf_dir_write("main.conf", text);
	c = conf_dir_load("main.conf", &e);
	assert_int_equal(e.n, 0);
	assert_string_equal(c->include_dir, want);
	assert_int_equal(c->nsvc, 1);
	config_free(c);
	conf_dir_free();
}

static void
the_main_file_in_its_own_include_dir_is_read_once(void **state)
{
	struct errlist e = { 0 };
	struct config *c;

	(void)state;
	conf_dir_new();
	conf_dir_write("main.conf", "daemon: { include_dir = \".\"; };\n"
	    "services = ( { name = \"echo\"; port = 7001; } );\n");
	conf_dir_write("z.conf", "services = ( { name = \"upper\"; "
	    "port = 7002; } );\n");
	c = conf_dir_load("main.conf", &e);
	assert_int_equal(e.n, 0);
	assert_int_equal(c->nsvc, 2);
	config_free(c);
	conf_dir_free();
}

static void
log_connections_and_log_level_are_read_inherited_and_checked(void **state)
{
	const char *text = "defaults: { log_connections = true;\n"
	    "  log_level = \"warning\"; };\n"
	    "services = ( { name = \"a\"; port = 7001; },\n"
	    "  { name = \"b\"; port = 7002; log_connections = false;\n"
	    "    log_level = \"DEBUG\"; } );\n";
	struct errlist e = { 0 };
	struct config *c, *c2;

	(void)state;
	/* Off, and the daemon's level, unless set. */
	c = load_text("services = ( { name = \"a\"; port = 7001; } );\n", &e,
	    0);
	assert_int_equal(e.n, 0);
	assert_false(c->svc[0].log_connections);
	assert_int_equal(c->svc[0].log_level, -1);
	config_free(c);
	c = load_text(text, &e, 0);
	assert_int_equal(e.n, 0);
	assert_true(c->svc[0].log_connections);
	assert_int_equal(c->svc[0].log_level, LOG_WARNING);
	assert_false(c->svc[1].log_connections);
	assert_int_equal(c->svc[1].log_level, LOG_DEBUG);
	/* A reload that changes either one changes the service. */
	c2 = load_text(text, &e, 0);
	assert_true(svc_conf_equal(&c->svc[1], &c2->svc[1]));
	c2->svc[1].log_level = LOG_INFO;
	assert_false(svc_conf_equal(&c->svc[1], &c2->svc[1]));
	c2->svc[1].log_level = LOG_DEBUG;
	c2->svc[1].log_connections = 1;
	assert_false(svc_conf_equal(&c->svc[1], &c2->svc[1]));
	config_free(c2);
	config_free(c);
	assert_errors("services = ( { name = \"a\"; port = 7001;\n"
	    "  log_level = \"loud\";\n"
	    "  log_connections = \"yes\"; },\n"
	    "  { name = \"b\"; port = 7002; log_level = 6; } );\n", 3,
	    2, "log_level \"loud\": expected error, warning, notice, info or "
	    "debug", 3, "\"log_connections\": expected true or false",
	    4, "\"log_level\": expected a string");
}

static void
proxy_settings_have_defaults_inherit_and_count_in_equality(void **state)
{
	struct errlist e = { 0 };
	struct config *c = load_text(
	    "defaults: { proxy_protocol = true;\n"
	    "  proxy_from = [\"10.0.0.0/8\", \"2001:db8::1\"]; };\n"
	    "services = ( { name = \"a\"; port = 7001; },\n"
	    "  { name = \"b\"; port = 7002; proxy_timeout = 3600;\n"
	    "    proxy_from = \"192.0.2.1\"; },\n"
	    "  { name = \"c\"; port = 7003; proxy_protocol = false; },\n"
	    "  { name = \"d\"; port = 7004; protocol = \"udp\";\n"
	    "    proxy_protocol = false; } );\n", &e, 0);
	struct config *plain = load_text(
	    "services = ( { name = \"a\"; port = 7001; } );\n", &e, 0);
	struct sockaddr_in sin = { .sin_family = AF_INET };

	(void)state;
	assert_int_equal(e.n, 0);
	assert_false(plain->svc[0].proxy_protocol);
	assert_int_equal(plain->svc[0].proxy_timeout, 5);
	assert_false(plain->svc[0].proxy_from.has_allow);
	assert_true(c->svc[0].proxy_protocol);
	assert_int_equal(c->svc[0].proxy_timeout, 5);
	assert_int_equal(c->svc[0].proxy_from.nallow, 2);
	inet_pton(AF_INET, "10.1.2.3", &sin.sin_addr);
	assert_true(acl_allowed(&c->svc[0].proxy_from,
	    (struct sockaddr *)&sin));
	assert_false(acl_allowed(&c->svc[1].proxy_from,
	    (struct sockaddr *)&sin));
	inet_pton(AF_INET, "192.0.2.2", &sin.sin_addr);
	assert_false(acl_allowed(&c->svc[0].proxy_from,
	    (struct sockaddr *)&sin));
	assert_int_equal(c->svc[1].proxy_timeout, 3600);
	assert_int_equal(c->svc[1].proxy_from.nallow, 1);
	assert_false(c->svc[2].proxy_protocol);
	/* Each setting counts for a reload: plain "a" against "a" behind a
	 * balancer, and "a" against itself with another list. */
	assert_false(svc_conf_equal(&plain->svc[0], &c->svc[0]));
	plain->svc[0].proxy_protocol = 1;
	assert_false(svc_conf_equal(&plain->svc[0], &c->svc[0]));
	acl_copy(&plain->svc[0].proxy_from, &c->svc[0].proxy_from);
	assert_true(svc_conf_equal(&plain->svc[0], &c->svc[0]));
	plain->svc[0].proxy_timeout = 6;
	assert_false(svc_conf_equal(&plain->svc[0], &c->svc[0]));
	plain->svc[0].proxy_timeout = 5;
	acl_clear(&plain->svc[0].proxy_from);
	acl_copy(&plain->svc[0].proxy_from, &c->svc[1].proxy_from);
	assert_false(svc_conf_equal(&plain->svc[0], &c->svc[0]));
	config_free(c);
	config_free(plain);
	errlist_free(&e);
}

static void
proxy_setting_errors_name_their_lines(void **state)
{
	(void)state;
	assert_errors(
	    "services = ( { name = \"a\"; port = 7001;\n"		/* 1 */
	    "  proxy_protocol = 1; },\n"				/* 2 */
	    "  { name = \"b\"; port = 7002;\n"			/* 3 */
	    "    proxy_from = [\"10.0.0.0/33\"]; },\n"		/* 4 */
	    "  { name = \"c\"; port = 7003; proxy_from = []; },\n"	/* 5 */
	    "  { name = \"d\"; port = 7004; proxy_timeout = 0; },\n"	/* 6 */
	    "  { name = \"e\"; port = 7005; proxy_timeout = 3601; },\n"
	    "  { name = \"f\"; port = 7006; proxy_timeout = \"5\"; },\n"
	    "  { name = \"g\"; port = 7007;\n"			/* 9 */
	    "    proxy_protocol = true; },\n"			/* 10 */
	    "  { name = \"h\"; port = 7008; protocol = \"udp\";\n"	/* 11 */
	    "    proxy_from = \"10.0.0.1\";\n"			/* 12 */
	    "    proxy_protocol = true; },\n"			/* 13 */
	    "  { name = \"i\"; port = 7009; proxy_protocol = true;\n"	/* 14 */
	    "    proxy_from = \"bogus\"; } );\n", 9,			/* 15 */
	    2, "\"proxy_protocol\": expected true or false",
	    4, "\"proxy_from\": \"10.0.0.0/33\" is not an address",
	    5, "proxy_from: the list is empty",
	    6, "\"proxy_timeout\": 0 is out of range (1 to 3600)",
	    7, "\"proxy_timeout\": 3601 is out of range (1 to 3600)",
	    8, "\"proxy_timeout\": expected an integer",
	    10, "service \"g\": proxy_protocol needs proxy_from",
	    13, "service \"h\": proxy_protocol is for TCP, and the service "
	    "is UDP only",
	    15, "\"proxy_from\": \"bogus\" is not an address");
}

static void
proxy_protocol_from_defaults_is_checked_in_each_service(void **state)
{
	(void)state;
	assert_errors(
	    "defaults: { proxy_protocol = true; };\n"			/* 1 */
	    "services = ( { name = \"a\"; port = 7001; },\n"		/* 2 */
	    "  { name = \"b\"; port = 7002; protocol = \"udp\";\n"	/* 3 */
	    "    proxy_from = \"10.0.0.1\"; },\n"			/* 4 */
	    "  { name = \"c\"; port = 7003; protocol = \"udp\";\n"	/* 5 */
	    "    proxy_protocol = false; },\n"			/* 6 */
	    "  { name = \"d\"; port = 7004; protocol = [\"udp\", \"tcp\"];\n"
	    "    proxy_from = \"10.0.0.1\"; } );\n", 2,		/* 8 */
	    2, "service \"a\": proxy_protocol (from defaults) needs "
	    "proxy_from",
	    3, "service \"b\": proxy_protocol (from defaults) is for TCP");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_minimal_service_gets_every_default),
		cmocka_unit_test(every_setting_is_read_and_defaults_are_inherited),
		cmocka_unit_test(a_port_comes_from_etc_services_when_absent),
		cmocka_unit_test(the_port_offset_moves_only_privileged_ports),
		cmocka_unit_test(every_error_is_reported_with_its_line),
		cmocka_unit_test(a_syntax_error_names_file_and_line),
		cmocka_unit_test(a_missing_file_is_one_clear_error),
		cmocka_unit_test(wildcard_and_specific_binds_on_one_port_conflict),
		cmocka_unit_test(equal_service_configs_compare_equal),
		cmocka_unit_test(option_getters_record_a_wrong_type),
		cmocka_unit_test(cidr_matching_follows_prefixes),
		cmocka_unit_test(an_address_listed_twice_in_bind_is_an_error_with_its_line),
		cmocka_unit_test(an_ipv4_mapped_bind_is_an_error_that_names_the_ipv4_form),
		cmocka_unit_test(a_wildcard_and_an_address_in_one_service_overlap),
		cmocka_unit_test(two_services_on_one_address_name_both_and_both_addresses),
		cmocka_unit_test(an_empty_quit_word_is_an_error_with_its_line),
		cmocka_unit_test(socket_settings_have_defaults_ranges_and_inherit),
		cmocka_unit_test(with_v6only_off_the_ipv6_wildcard_overlaps_ipv4),
		cmocka_unit_test(an_include_of_a_directory_names_the_file_and_line),
		cmocka_unit_test(a_missing_include_names_the_file_and_the_line_of_the_include),
		cmocka_unit_test(an_include_loop_is_cut_at_the_depth_limit),
		cmocka_unit_test(a_huge_file_is_refused_before_it_is_parsed),
		cmocka_unit_test(a_nul_byte_is_an_error_with_its_line_not_an_exit),
		cmocka_unit_test(drop_in_files_are_read_in_c_locale_order_and_leftovers_are_ignored),
		cmocka_unit_test(errors_in_a_drop_in_name_that_file_and_line),
		cmocka_unit_test(a_service_defined_in_two_files_names_both_places),
		cmocka_unit_test(daemon_and_defaults_in_a_drop_in_are_refused_with_file_and_line),
		cmocka_unit_test(a_missing_include_dir_is_a_warning_not_an_error),
		cmocka_unit_test(an_include_dir_that_is_no_directory_is_an_error_naming_it),
		cmocka_unit_test(a_relative_include_dir_is_relative_to_the_main_file),
		cmocka_unit_test(the_main_file_in_its_own_include_dir_is_read_once),
		cmocka_unit_test(log_connections_and_log_level_are_read_inherited_and_checked),
		cmocka_unit_test(proxy_settings_have_defaults_inherit_and_count_in_equality),
		cmocka_unit_test(proxy_setting_errors_name_their_lines),
		cmocka_unit_test(proxy_protocol_from_defaults_is_checked_in_each_service),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
