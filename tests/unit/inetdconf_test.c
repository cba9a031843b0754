/*
 * inetdconf: Debian's inetd.conf, update-inetd's lines and broken input,
 * each error checked for its exact file and line.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sockd/handler.h>

#include "config.h"
#include "errlist.h"
#include "importer.h"
#include "util.h"
#include "import_util.h"

#define FIXTURES	"tests/import/"

/* Parses text as file "t.conf"; the first error, or "" when none. */
static char *
parse_err(const char *text, struct imp_list *l)
{
	struct errlist errs = { 0 };

	return imp_first_error(inetdconf_parse("t.conf", text, l, &errs),
	    &errs);
}

static void
debians_shipped_inetd_conf_has_only_comments(void **state)
{
	struct imp_list l = { 0 };
	struct errlist errs = { 0 };

	(void)state;
	assert_int_equal(import_file(FIXTURES "openbsd-inetd.conf", &l, &errs),
	    0);
	assert_int_equal(errs.n, 0);
	assert_int_equal(l.n, 0);
	imp_list_free(&l);
}

static void
update_inetd_lines_become_exec_services(void **state)
{
	struct imp_list l = { 0 };
	struct errlist errs = { 0 };
	struct imp_entry *e;

	(void)state;
	assert_int_equal(import_file(FIXTURES "update-inetd.conf", &l, &errs),
	    0);
	assert_int_equal(errs.n, 0);
	import_names(&l);

	e = imp_find(&l, "tftp");
	assert_int_equal(e->line, 4);
	assert_int_equal(e->port, 69);
	assert_int_equal(e->protocols, SOCKD_UDP);
	assert_string_equal(e->handler, "exec");
	assert_int_equal(e->wait, 1);
	assert_int_equal(e->enabled, 1);
	assert_int_equal(e->command.n, 3);
	assert_string_equal(e->command.v[0], "/usr/sbin/in.tftpd");
	assert_string_equal(e->command.v[1], "-s");
	assert_string_equal(e->user, "root");
	assert_null(e->group);
	/* argv[0] written as the path is no loss worth a comment. */
	assert_false(strv_has(&e->comments, "argv[0]"));

	/* update-inetd's "nobody.tty" and udp4. */
	e = imp_find(&l, "talk");
	assert_string_equal(e->user, "nobody");
	assert_string_equal(e->group, "tty");
	assert_int_equal(e->command.n, 1);
	assert_string_equal(e->command.v[0], "/usr/sbin/in.talkd");
	assert_int_equal(e->bind.n, 0);

	e = imp_find(&l, "git");
	assert_int_equal(e->port, 9418);
	assert_int_equal(e->wait, 0);
	assert_int_equal(e->command.n, 5);
	assert_string_equal(e->command.v[1], "daemon");
	assert_string_equal(e->command.v[2], "--inetd");

	e = imp_find(&l, "rsync");
	assert_string_equal(e->command.v[1], "--daemon");
	assert_true(strv_has(&e->comments, "argv[0] \"rsyncd\""));
	imp_list_free(&l);
}

static void
dgram_udp_nowait_becomes_a_disabled_service(void **state)
{
	struct imp_list l = { 0 };
	struct imp_entry *e;
	char *err;

	(void)state;
	err = parse_err("biff dgram udp nowait root /usr/sbin/in.comsat "
	    "in.comsat\n", &l);
	assert_string_equal(err, "");
	e = imp_find(&l, "biff");
	assert_int_equal(e->enabled, 0);
	assert_true(strv_has(&e->comments, "wait = true"));
	free(err);
	imp_list_free(&l);
}

static void
an_off_line_is_a_disabled_service(void **state)
{
	struct imp_list l = { 0 };
	struct imp_entry *e;
	char *err;

	(void)state;
	err = parse_err("# comment\n#<off># talk\tdgram\tudp4\twait\t"
	    "nobody.tty\t/usr/sbin/in.talkd\tin.talkd\n"
	    "#<off># broken line\n", &l);
	/* The broken disabled line is noted, never an error. */
	assert_string_equal(err, "");
	assert_int_equal(l.n, 1);
	e = imp_find(&l, "talk");
	assert_int_equal(e->line, 2);
	assert_int_equal(e->enabled, 0);
	assert_true(strv_has(&l.comments, "t.conf:3: a disabled line"));
	free(err);
	imp_list_free(&l);
}

static void
tcpd_is_looked_through_with_a_comment(void **state)
{
	struct imp_list l = { 0 };
	struct imp_entry *e;
	char *err;

	(void)state;
	err = parse_err("finger stream tcp nowait nobody /usr/sbin/tcpd "
	    "in.fingerd -w\nuucp stream tcp nowait uucp /usr/sbin/tcpd "
	    "/usr/lib/uucp/uucico -l\n", &l);
	assert_string_equal(err, "");
	e = imp_find(&l, "finger");
	assert_string_equal(e->command.v[0], "/usr/sbin/in.fingerd");
	assert_string_equal(e->command.v[1], "-w");
	assert_true(strv_has(&e->comments, "hosts.allow"));
	e = imp_find(&l, "uucp");
	assert_string_equal(e->command.v[0], "/usr/lib/uucp/uucico");
	free(err);
	imp_list_free(&l);
}

static void
internal_services_become_built_ins_and_others_are_dropped(void **state)
{
	struct imp_list l = { 0 };
	struct imp_entry *e;
	char *err;

	(void)state;
	err = parse_err("echo stream tcp nowait root internal\n"
	    "echo dgram udp wait root internal\n"
	    "tcpmux stream tcp nowait root internal\n"
	    "rstatd/1-3 dgram rpc/udp wait root /usr/sbin/rpc.rstatd x\n",
	    &l);
	assert_string_equal(err, "");
	import_names(&l);
	assert_int_equal(l.n, 2);
	e = imp_find(&l, "echo");
	assert_string_equal(e->handler, "echo");
	assert_int_equal(e->protocols, SOCKD_TCP);
	e = imp_find(&l, "echo-udp");
	assert_string_equal(e->handler, "echo");
	assert_int_equal(e->protocols, SOCKD_UDP);
	assert_true(strv_has(&l.comments, "t.conf:3: tcpmux: dropped"));
	assert_true(strv_has(&l.comments, "t.conf:4: rstatd/1-3: "
	    "dropped"));
	free(err);
	imp_list_free(&l);
}

static void
addresses_bind_their_line_or_the_lines_that_follow(void **state)
{
	struct imp_list l = { 0 };
	char *err;

	(void)state;
	err = parse_err("127.0.0.1:echo stream tcp nowait root internal\n"
	    "[::1]:discard stream tcp nowait root internal\n"
	    "::1:\n"
	    "daytime stream tcp nowait root internal\n"
	    "*:\n"
	    "time stream tcp nowait root internal\n", &l);
	assert_string_equal(err, "");
	assert_int_equal(l.n, 4);
	assert_string_equal(imp_find(&l, "echo")->bind.v[0], "127.0.0.1");
	assert_string_equal(imp_find(&l, "discard")->bind.v[0], "::1");
	assert_string_equal(imp_find(&l, "daytime")->bind.v[0], "::1");
	assert_int_equal(imp_find(&l, "time")->bind.n, 0);
	free(err);
	imp_list_free(&l);
}

static void
max_becomes_a_rate_with_a_comment(void **state)
{
	struct imp_list l = { 0 };
	struct imp_entry *e;
	char *err;

	(void)state;
	err = parse_err("echo stream tcp nowait.400 root internal\n", &l);
	assert_string_equal(err, "");
	e = imp_find(&l, "echo");
	assert_int_equal(e->rate, 7);
	assert_int_equal(e->burst, 400);
	assert_true(strv_has(&e->comments, "approximation"));
	free(err);
	imp_list_free(&l);
}

static void
continuation_lines_join_their_entry(void **state)
{
	struct imp_list l = { 0 };
	struct imp_entry *e;
	char *err;

	(void)state;
	err = parse_err("# x\n7100 stream tcp nowait nobody /usr/bin/rev\n"
	    "\trev -x\n7101 stream tcp nowait nobody /bin/cat \\\r\ncat -u\r\n"
	    "7102 stream\n", &l);
	assert_string_equal(err, "t.conf:6: 2 fields; expected at least 6: "
	    "service, socket type, protocol, wait or nowait, user, server");
	e = imp_find(&l, "7100");
	assert_int_equal(e->line, 2);
	assert_int_equal(e->command.n, 2);
	assert_string_equal(e->command.v[1], "-x");
	e = imp_find(&l, "7101");
	assert_int_equal(e->line, 4);
	assert_string_equal(e->command.v[1], "-u");
	free(err);
	imp_list_free(&l);
}

static void
broken_lines_are_errors_naming_file_and_line(void **state)
{
	static const struct {
		const char	*text, *err;
	} t[] = {
		{ "# c\n\necho stream tcp nowait root\n",
		  "t.conf:3: 5 fields; expected at least 6" },
		{ "echo streem tcp nowait root internal\n",
		  "t.conf:1: socket type \"streem\": expected stream or "
		  "dgram" },
		{ "\nnosuchservice stream tcp nowait root /bin/cat cat\n",
		  "t.conf:2: service \"nosuchservice\": not a tcp service in "
		  "/etc/services; write its port number instead" },
		{ "echo stream tcp sometimes root internal\n",
		  "t.conf:1: \"sometimes\": expected wait or nowait" },
		{ "echo stream tcp nowait.x root internal\n",
		  "t.conf:1: \"nowait.x\": the max after the dot" },
		{ "\n\n\n7100 stream tcp nowait root bin/cat cat\n",
		  "t.conf:4: server \"bin/cat\": expected an absolute path" },
		{ "echo stream udp nowait root internal\n",
		  "t.conf:1: socket type stream with protocol udp" },
		{ "echo stream sctp nowait root internal\n",
		  "t.conf:1: protocol \"sctp\": expected tcp" },
		{ "host.example:echo stream tcp nowait root internal\n",
		  "t.conf:1: address \"host.example\": expected a numeric" },
		{ "7100 stream tcp nowait root /usr/sbin/tcpd\n",
		  "t.conf:1: tcpd without the server" },
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

static void
config_text_puts_each_entry_on_its_source_line(void **state)
{
	struct imp_list l = { 0 };
	char *err, *text, *p;
	int line;

	(void)state;
	err = parse_err("# a\n\necho stream tcp nowait root internal\n#\n"
	    "7100 stream tcp nowait nobody /usr/bin/rev rev a\"b\\c\n",
	    &l);
	assert_string_equal(err, "");
	import_names(&l);
	text = import_config_text(&l);
	assert_non_null(text);
	p = strstr(text, "name = \"echo\"");
	assert_non_null(p);
	for (line = 1; p > text; p--)
		line += p[-1] == '\n';
	assert_int_equal(line, 3);
	p = strstr(text, "name = \"7100\"");
	assert_non_null(p);
	for (line = 1; p > text; p--)
		line += p[-1] == '\n';
	assert_int_equal(line, 5);
	/* Quotes and backslashes of arguments are escaped. */
	assert_non_null(strstr(text, "\"a\\\"b\\\\c\""));
	free(text);
	free(err);
	imp_list_free(&l);
}

static void
names_are_made_unique_and_valid(void **state)
{
	struct imp_list l = { 0 };
	struct imp_entry *e;
	const char *names[] = { "Echo", "echo", "echo", "a b" };
	size_t i;

	(void)state;
	for (i = 0; i < nitems(names); i++) {
		e = imp_entry_add(&l, "t.conf", (int)i + 1);
		e->name = strdup(names[i]);
		e->protocols = i == 1 ? SOCKD_UDP : SOCKD_TCP;
	}
	import_names(&l);
	assert_string_equal(l.e[0].name, "echo");
	assert_string_equal(l.e[1].name, "echo-udp");
	assert_string_equal(l.e[2].name, "echo-tcp");
	assert_string_equal(l.e[3].name, "a_b");
	imp_list_free(&l);
}

static void
xinetd_syntax_is_told_from_inetd_conf(void **state)
{
	(void)state;
	assert_int_equal(import_is_xinetd("# x\nservice echo\n{\n}\n"), 1);
	assert_int_equal(import_is_xinetd("service echo {\n}\n"), 1);
	assert_int_equal(import_is_xinetd("defaults\n{\n}\n"), 1);
	assert_int_equal(import_is_xinetd("includedir /etc/xinetd.d\n"), 1);
	assert_int_equal(import_is_xinetd("echo stream tcp nowait root "
	    "internal\n"), 0);
	assert_int_equal(import_is_xinetd("#service echo {\n"), 0);
	assert_int_equal(import_is_xinetd(""), 0);
}

/* Writes text to a new temp file; its path in path. */
static void
temp_write(char *path, const char *text)
{
	FILE *fp;
	int fd;

	fd = mkstemp(path);
	assert_true(fd != -1);
	fp = fdopen(fd, "w");
	assert_non_null(fp);
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
}

static void
inetd_conf_errors_of_the_services_name_the_inetd_conf_line(void **state)
{
	char inetd[] = "/tmp/sockd-inetd-XXXXXX";
	char main_file[] = "/tmp/sockd-main-XXXXXX", *text, want[128];
	struct errlist errs = { 0 };
	struct config *c;

	(void)state;
	temp_write(inetd, "# x\n\n17007 stream tcp nowait root internal\n"
	    "::ffff:127.0.0.1:echo stream tcp nowait root internal\n"
	    "daytime stream tcp nowait root internal\n");
	text = xasprintf("daemon = { inetd_conf = \"%s\"; };\nservices = (\n"
	    "{ name = \"daytime\"; port = 7013; } );\n", inetd);
	temp_write(main_file, text);
	c = config_load(main_file, 0, &errs);
	unlink(inetd);
	unlink(main_file);
	assert_non_null(c);
	/* A line's error skips the line: it is no error of the whole. */
	assert_int_equal(errs.n, 0);
	assert_int_equal(c->skipped.n, 1);
	/* The config's own check of the address, at the line it is on. */
	snprintf(want, sizeof(want), "%s:4: bind \"::ffff:127.0.0.1\": an "
	    "IPv4-mapped address; write \"127.0.0.1\"", inetd);
	assert_string_equal(c->skipped.msg[0], want);
	/* daytime is sockd.conf's: the line of the same name is skipped
	 * with a warning, not an error. */
	assert_string_equal(c->svc[0].name, "daytime");
	assert_string_equal(c->svc[0].file, main_file);
	for (size_t i = 1; i < c->nsvc; i++)
		assert_string_not_equal(c->svc[i].name, "daytime");
	config_free(c);
	errlist_free(&errs);
	free(text);
}

static void
many_copies_of_one_line_make_one_error_each(void **state)
{
	char inetd[] = "/tmp/sockd-inetd-XXXXXX";
	char main_file[] = "/tmp/sockd-main-XXXXXX", *text, *lines;
	struct errlist errs = { 0 };
	struct config *c;
	size_t i, n = 1000;
	const char *line = "echo stream tcp nowait root internal\n";

	(void)state;
	lines = calloc(n, strlen(line) + 1);
	assert_non_null(lines);
	for (i = 0; i < n; i++)
		strcat(lines, line);
	temp_write(inetd, lines);
	text = xasprintf("daemon = { inetd_conf = \"%s\"; };\n", inetd);
	temp_write(main_file, text);
	c = config_load(main_file, 0, &errs);
	unlink(inetd);
	unlink(main_file);
	assert_non_null(c);
	/* Each copy clashes with the first and is skipped with a warning,
	 * once each, not once per pair (half a million): the first
	 * stays. */
	assert_int_equal(errs.n, 0);
	assert_int_equal(c->nsvc, n);
	assert_true(c->svc[0].enabled);
	for (i = 1; i < n; i++)
		assert_false(c->svc[i].enabled);
	config_free(c);
	errlist_free(&errs);
	free(text);
	free(lines);
}

static void
the_largest_import_takes_linear_time(void **state)
{
	const char *line = "echo stream tcp nowait root internal\n";
	struct imp_list l = { 0 };
	size_t i, n = IMPORT_ENTRIES_MAX;
	char *lines, *err;
	clock_t t0;

	(void)state;
	lines = calloc(n, strlen(line) + 1);
	assert_non_null(lines);
	for (i = 0; i < n; i++)
		memcpy(lines + i * strlen(line), line, strlen(line));
	/* CPU time, which other processes on the machine do not add to:
	 * a few milliseconds, where growing arrays by one element and
	 * naming by trial took seconds. */
	t0 = clock();
	err = parse_err(lines, &l);
	assert_string_equal(err, "");
	import_names(&l);
	assert_int_equal(l.n, n);
	assert_string_equal(l.e[n - 1].name, "echo-4095");
	assert_true(clock() - t0 < 2 * CLOCKS_PER_SEC);
	imp_list_free(&l);
	free(err);
	strcat(lines, line);
	err = parse_err(lines, &l);
	assert_string_equal(err, "t.conf:4097: more than 4096 services");
	imp_list_free(&l);
	free(err);
	free(lines);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(debians_shipped_inetd_conf_has_only_comments),
		cmocka_unit_test(update_inetd_lines_become_exec_services),
		cmocka_unit_test(dgram_udp_nowait_becomes_a_disabled_service),
		cmocka_unit_test(an_off_line_is_a_disabled_service),
		cmocka_unit_test(tcpd_is_looked_through_with_a_comment),
		cmocka_unit_test(
		    internal_services_become_built_ins_and_others_are_dropped),
		cmocka_unit_test(
		    addresses_bind_their_line_or_the_lines_that_follow),
		cmocka_unit_test(max_becomes_a_rate_with_a_comment),
		cmocka_unit_test(continuation_lines_join_their_entry),
		cmocka_unit_test(broken_lines_are_errors_naming_file_and_line),
		cmocka_unit_test(
		    config_text_puts_each_entry_on_its_source_line),
		cmocka_unit_test(names_are_made_unique_and_valid),
		cmocka_unit_test(xinetd_syntax_is_told_from_inetd_conf),
		cmocka_unit_test(
		    inetd_conf_errors_of_the_services_name_the_inetd_conf_line),
		cmocka_unit_test(many_copies_of_one_line_make_one_error_each),
		cmocka_unit_test(the_largest_import_takes_linear_time),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
