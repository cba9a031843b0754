/*
 * xinetd: Debian's xinetd.conf and xinetd.d files, the attributes and
 * their operators, and broken input, each error checked for its exact
 * file and line.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include <sockd/handler.h>

#include "errlist.h"
#include "importer.h"
#include "util.h"
#include "import_util.h"

#define FIXTURES	"tests/import/xinetd/"

/* Parses text as "x.conf"; the first error, or "" when none. */
static char *
parse_err(const char *text, struct imp_list *l)
{
	struct errlist errs = { 0 };

	return imp_first_error(xinetd_parse("x.conf", text, 0, l, &errs),
	    &errs);
}

static void
debians_shipped_xinetd_files_import_disabled_built_ins(void **state)
{
	struct imp_list l = { 0 };
	struct errlist errs = { 0 };
	char *text, *conf, cwd[PATH_MAX], *p;
	size_t i;

	(void)state;
	/* The shipped file includes /etc/xinetd.d: read our copy instead. */
	text = import_read(FIXTURES "xinetd.conf", NULL, 0, &errs);
	assert_non_null(text);
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	p = strstr(text, "includedir /etc/xinetd.d");
	assert_non_null(p);
	*p = '\0';
	conf = xasprintf("%sincludedir %s/" FIXTURES "xinetd.d\n", text, cwd);
	assert_int_equal(import_is_xinetd(conf), 1);
	assert_int_equal(xinetd_parse(FIXTURES "xinetd.conf", conf, 0, &l,
	    &errs), 0);
	assert_int_equal(errs.n, 0);
	import_names(&l);
	/* Debian ships each dgram service twice: in "echo" with the stream
	 * one, and in "echo-udp" alone. */
	assert_int_equal(l.n, 15);
	for (i = 0; i < l.n; i++) {
		assert_int_equal(l.e[i].enabled, 0);
		assert_string_not_equal(l.e[i].handler, "exec");
	}
	assert_string_equal(imp_find(&l, "echo-stream")->handler, "echo");
	assert_int_equal(imp_find(&l, "echo-dgram")->protocols, SOCKD_UDP);
	assert_int_equal(imp_find(&l, "echo-dgram")->line, 17);
	assert_int_equal(imp_find(&l, "echo-dgram-udp")->line, 4);
	assert_int_equal(imp_find(&l, "time-dgram")->port, 37);
	/* xinetd's own listings have no sockd equivalent. */
	assert_true(strv_has(&l.comments, "xinetd.d/services:4: service "
	    "services: dropped"));
	assert_true(strv_has(&l.comments, "service servers: dropped"));
	free(conf);
	free(text);
	imp_list_free(&l);
}

static void
attributes_map_to_settings_with_defaults_and_operators(void **state)
{
	struct imp_list l = { 0 };
	struct imp_entry *e;
	char *err;

	(void)state;
	err = parse_err(
	    "defaults\n{\n"
	    "\tonly_from = 127.0.0.1 10.0.0.0\n"
	    "\tinstances = 60\n"
	    "\tlog_type = SYSLOG daemon info\n"
	    "\tlog_on_success = HOST PID\n"
	    "}\n"
	    "service rev\n{\n"
	    "\tsocket_type = stream\n\tprotocol = tcp\n\twait = no\n"
	    "\tuser = nobody\n\tgroup = nogroup\n"
	    "\tserver = /usr/bin/rev\n\tserver_args = -a -b\n"
	    "\tport = 7100\n\ttype = UNLISTED\n"
	    "\tonly_from += 192.168.1.0/24 host.example\n"
	    "\tonly_from -= 10.0.0.0\n"
	    "\tno_access = 192.168.1.7\n"
	    "\tper_source = UNLIMITED\n"
	    "\tcps = 25 30\n"
	    "\tenv = LANG=C TZ=UTC\n\tpassenv = HOME\n"
	    "\trlimit_as = 64M\n\trlimit_cpu = 10\n\trlimit_files = 32\n"
	    "\trlimit_stack = 1M\n"
	    "\tumask = 027\n\tnice = 5\n"
	    "\tflags = KEEPALIVE NODELAY\n"
	    "\tbind = 127.0.0.1\n"
	    "\tbanner = /nonexistent/banner\n"
	    "\taccess_times = 2:00-8:59\n"
	    "}\n", &l);
	assert_string_equal(err, "");
	e = imp_find(&l, "rev");
	assert_int_equal(e->line, 8);
	assert_int_equal(e->port, 7100);
	assert_string_equal(e->handler, "exec");
	assert_int_equal(e->command.n, 3);
	assert_string_equal(e->command.v[0], "/usr/bin/rev");
	assert_string_equal(e->command.v[2], "-b");
	assert_string_equal(e->user, "nobody");
	assert_string_equal(e->group, "nogroup");
	assert_int_equal(e->wait, 0);
	assert_int_equal(e->allow.n, 2);
	assert_string_equal(e->allow.v[0], "127.0.0.1/32");
	assert_string_equal(e->allow.v[1], "192.168.1.0/24");
	assert_true(strv_has(&e->comments, "\"host.example\" dropped"));
	assert_string_equal(e->deny.v[0], "192.168.1.7/32");
	assert_int_equal(e->max_connections, 60);
	assert_int_equal(e->per_source, 0);
	assert_int_equal(e->rate, 25);
	assert_true(strv_has(&e->comments, "cps 25 became rate 25"));
	assert_string_equal(e->env.v[1], "TZ=UTC");
	assert_string_equal(e->passenv.v[0], "HOME");
	assert_int_equal(e->rlimit_as, 64LL << 20);
	assert_int_equal(e->rlimit_cpu, 10);
	assert_int_equal(e->rlimit_nofile, 32);
	assert_true(strv_has(&e->comments, "rlimit_stack: dropped"));
	assert_int_equal(e->umask, 027);
	assert_int_equal(e->nice, 5);
	assert_int_equal(e->keepalive, 1);
	assert_true(strv_has(&e->comments, "flags NODELAY: dropped"));
	assert_string_equal(e->bind.v[0], "127.0.0.1");
	assert_true(strv_has(&e->comments, "banner \"/nonexistent/banner\" "
	    "dropped"));
	assert_true(strv_has(&e->comments, "access_times: dropped"));
	assert_true(strv_has(&e->comments, "log_type: dropped"));
	assert_int_equal(e->log_connections, 1);
	free(err);
	imp_list_free(&l);
}

static void
only_from_with_no_address_left_allows_nobody(void **state)
{
	struct imp_list l = { 0 };
	struct imp_entry *e;
	char *err;

	(void)state;
	err = parse_err("service echo {\n type = INTERNAL\n socket_type = "
	    "stream\n wait = no\n only_from = host.example\n}\n"
	    "service discard {\n type = INTERNAL\n socket_type = stream\n"
	    " wait = no\n only_from = localhost\n}\n", &l);
	assert_string_equal(err, "");
	e = imp_find(&l, "echo");
	assert_int_equal(e->allow.n, 0);
	assert_int_equal(e->deny.n, 2);
	assert_string_equal(e->deny.v[0], "0.0.0.0/0");
	assert_true(strv_has(&e->comments, "nobody is allowed"));
	e = imp_find(&l, "discard");
	assert_int_equal(e->allow.n, 2);
	assert_string_equal(e->allow.v[1], "::1/128");
	free(err);
	imp_list_free(&l);
}

static void
a_readable_banner_is_read_into_the_service(void **state)
{
	struct imp_list l = { 0 };
	char path[] = "/tmp/sockd-banner-XXXXXX", *text, *err;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd != -1);
	assert_int_equal(write(fd, "Hello\n", 6), 6);
	close(fd);
	text = xasprintf("service echo {\n type = INTERNAL\n socket_type = "
	    "stream\n wait = no\n banner = %s\n}\n", path);
	err = parse_err(text, &l);
	unlink(path);
	assert_string_equal(err, "");
	assert_string_equal(imp_find(&l, "echo")->banner, "Hello\n");
	free(err);
	free(text);
	imp_list_free(&l);
}

static void
disabled_in_defaults_and_dgram_nowait_disable_services(void **state)
{
	struct imp_list l = { 0 };
	char *err;

	(void)state;
	err = parse_err("defaults {\n disabled = echo\n}\n"
	    "service echo {\n type = INTERNAL\n socket_type = stream\n"
	    " wait = no\n}\n"
	    "service biff {\n socket_type = dgram\n wait = no\n"
	    " server = /usr/sbin/in.comsat\n}\n"
	    "service tftp {\n socket_type = dgram\n wait = yes\n"
	    " server = /usr/sbin/in.tftpd\n server_args = -s /srv/tftp\n}\n",
	    &l);
	assert_string_equal(err, "");
	assert_int_equal(imp_find(&l, "echo")->enabled, 0);
	assert_int_equal(imp_find(&l, "biff")->enabled, 0);
	assert_true(strv_has(&imp_find(&l, "biff")->comments, "wait = true"));
	assert_int_equal(imp_find(&l, "tftp")->enabled, 1);
	assert_int_equal(imp_find(&l, "tftp")->port, 69);
	free(err);
	imp_list_free(&l);
}

static void
broken_input_is_an_error_naming_file_and_line(void **state)
{
	static const struct {
		const char	*text, *err;
	} t[] = {
		{ "# x\nservice rev\n{\n\tsocket_type = stream\n",
		  "x.conf:2: service \"rev\": the block has no closing \"}\"" },
		{ "service rev\n{\n\tsocket_type = stream\n\tuser : root\n}\n",
		  "x.conf:4: user: expected the operator =, += or -=" },
		{ "\n\nincludedir /nonexistent/xinetd.d\n",
		  "x.conf:3: includedir \"/nonexistent/xinetd.d\": No such "
		  "file or directory" },
		{ "service rev\n{\n\tsocket_type = streem\n}\n",
		  "x.conf:3: socket_type \"streem\": expected stream or "
		  "dgram" },
		{ "service rev\n{\n\tsocket_type = stream\n\twait = no\n"
		  "\tport = 7100\n\tserver = rev\n}\n",
		  "x.conf:6: server \"rev\": expected an absolute path" },
		{ "\nservice rev {\n\tsocket_type = stream\n\tport = 7100\n"
		  "\tserver = /usr/bin/rev\n}\n",
		  "x.conf:2: service \"rev\": no wait" },
		{ "service nosuchservice {\n\tsocket_type = stream\n"
		  "\twait = no\n\tserver = /usr/bin/rev\n}\n",
		  "x.conf:1: service \"nosuchservice\": not a tcp service in "
		  "/etc/services; set \"port\"" },
		{ "service rev {\n\tsocket_type = stream\n\twait = no\n"
		  "\tport = 70000\n\tserver = /usr/bin/rev\n}\n",
		  "x.conf:4: port \"70000\": expected a number from 1 to "
		  "65535" },
		{ "serv rev {\n}\n",
		  "x.conf:1: expected \"service NAME {\"" },
		{ "service rev\nsocket_type = stream\n}\n",
		  "x.conf:2: expected \"{\" to open the block of line 1" },
		{ "service echo {\n\ttype = INTERNAL\n\tsocket_type = stream\n"
		  "\twait = no\n\tbind = host.example\n}\n",
		  "x.conf:5: bind \"host.example\": sockd binds numeric "
		  "addresses only" },
		{ "service rev {\n\tsocket_type = stream\n\twait = maybe\n"
		  "\tport = 7100\n}\n",
		  "x.conf:3: wait: expected yes or no" },
	};
	struct imp_list l = { 0 };
	size_t i;
	char *err;

	(void)state;
	for (i = 0; i < nitems(t); i++) {
		err = parse_err(t[i].text, &l);
		if (strncmp(err, t[i].err, strlen(t[i].err)) != 0)
			fail_msg("%s: got \"%s\", expected \"%s...\"",
			    t[i].text, err, t[i].err);
		assert_int_equal(l.n, 0);
		free(err);
		imp_list_free(&l);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    debians_shipped_xinetd_files_import_disabled_built_ins),
		cmocka_unit_test(
		    attributes_map_to_settings_with_defaults_and_operators),
		cmocka_unit_test(only_from_with_no_address_left_allows_nobody),
		cmocka_unit_test(a_readable_banner_is_read_into_the_service),
		cmocka_unit_test(
		    disabled_in_defaults_and_dgram_nowait_disable_services),
		cmocka_unit_test(broken_input_is_an_error_naming_file_and_line),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
