/*
 * exec's options: lists and groups of strings come out of the file for the
 * daemon's own handlers (a plugin's getter sees them as the wrong type);
 * a full set of options is checked into its struct exec_conf, with the
 * defaults (chdir "/", umask 022, rlimit_core 0); each bad option is an
 * error on its own line; a reload sees a changed list as a changed
 * service.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/resource.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sockd/handler.h>

#pragma GCC diagnostic ignored "-Wunused-function"
#include "conf_util.h"
#include "errlist.h"
#include "exec.h"
#include "opts.h"
#include "service.h"

/* The one service of text, made with its handler; NULL with errs. */
static struct service *
one_service(const char *text, struct errlist *errs)
{
	struct config *c = load_text(text, errs, 0);
	struct service *s = NULL;

	assert_non_null(c);
	if (errs->n == 0 && c->nsvc == 1)
		s = service_new(&c->svc[0], "/nonexistent", 1, errs);
	config_free(c);
	return s;
}

static void
a_full_set_of_options_is_checked_into_its_conf(void **state)
{
	struct errlist errs = { 0 };
	struct service *s;
	const struct exec_conf *ec;
	size_t i;
	int core = -1, nofile = -1;

	(void)state;
	setenv("EXECCONF_TEST", "kept", 1);
	s = one_service("services = ({ name = \"t\"; port = 7100; handler = "
	    "\"exec\";\n options = {\n command = [\"/bin/sh\", \"-c\", "
	    "\"true\"];\n env = { A = \"1\"; B = \"two words\"; };\n"
	    " passenv = [\"EXECCONF_TEST\", \"EXECCONF_UNSET\"];\n"
	    " stderr = \"null\"; umask = \"027\"; nice = 3;\n"
	    " exec_timeout = 9; rlimit_nofile = 64; chdir = \"/tmp\";\n"
	    "}; });\n", &errs);
	if (s == NULL)
		fail_msg("%s", errs.n > 0 ? errs.msg[0] : "no service");
	ec = s->port_state;
	assert_int_equal(ec->argc, 3);
	assert_string_equal(ec->argv[0], "/bin/sh");
	assert_string_equal(ec->argv[2], "true");
	assert_null(ec->argv[3]);
	assert_int_equal(ec->nenv, 3);
	assert_string_equal(ec->env[0], "A=1");
	assert_string_equal(ec->env[1], "B=two words");
	assert_string_equal(ec->env[2], "EXECCONF_TEST=kept");
	assert_int_equal(ec->err, EXEC_ERR_NULL);
	assert_int_equal(ec->umask, 027);
	assert_int_equal(ec->nice, 3);
	assert_true(ec->has_nice);
	assert_true(ec->timeout == 9);
	assert_string_equal(ec->dir, "/tmp");
	assert_false(ec->setuser);
	assert_false(ec->wait);
	for (i = 0; i < ec->nrlim; i++) {
		if (ec->rlim[i].resource == RLIMIT_CORE)
			core = (int)ec->rlim[i].value;
		if (ec->rlim[i].resource == RLIMIT_NOFILE)
			nofile = (int)ec->rlim[i].value;
	}
	assert_int_equal(core, 0);
	assert_int_equal(nofile, 64);
	service_unref(s);
	errlist_free(&errs);
}

static void
the_defaults_are_chdir_root_umask_022_and_no_core(void **state)
{
	struct errlist errs = { 0 };
	struct service *s;
	const struct exec_conf *ec;

	(void)state;
	s = one_service("services = ({ name = \"t\"; port = 7100; handler = "
	    "\"exec\"; options = { command = [\"/bin/cat\"]; }; });\n",
	    &errs);
	assert_non_null(s);
	ec = s->port_state;
	assert_string_equal(ec->dir, "/");
	assert_int_equal(ec->umask, 022);
	assert_int_equal(ec->err, EXEC_ERR_LOG);
	assert_int_equal(ec->nrlim, 1);
	assert_int_equal(ec->rlim[0].resource, RLIMIT_CORE);
	assert_true(ec->nenv == 0);
	service_unref(s);
	errlist_free(&errs);
}

static void
each_bad_option_is_an_error_on_its_own_line(void **state)
{
	struct errlist errs = { 0 };
	char want[64];
	size_t i;
	int found[4] = { 0 };

	(void)state;
	assert_null(one_service("services = ({ name = \"t\"; port = 7100; "
	    "handler = \"exec\"; options = {\n"
	    "command = [\"/bin/cat\"];\n"		/* 2 */
	    "umask = \"089\";\n"			/* 3 */
	    "nice = 40;\n"				/* 4 */
	    "passenv = [\"A=B\"];\n"			/* 5 */
	    "rlimit_as = -1;\n"				/* 6 */
	    "}; });\n", &errs));
	assert_int_equal(errs.n, 4);
	for (i = 0; i < errs.n; i++) {
		int line;

		for (line = 3; line <= 6; line++) {
			snprintf(want, sizeof(want), ":%d: service \"t\": ",
			    line);
			if (strstr(errs.msg[i], want) != NULL)
				found[line - 3]++;
		}
	}
	for (i = 0; i < 4; i++)
		assert_int_equal(found[i], 1);
	errlist_free(&errs);
}

static void
a_plugin_getter_sees_a_list_as_the_wrong_type(void **state)
{
	struct opts *o = opts_new("f.conf", 1);

	(void)state;
	opts_add(o, "words", 7, OPT_LIST, NULL, 0);
	opts_add_string(o, "a");
	assert_null(sockd_opt_string((struct sockd_opts *)o, "words", NULL));
	assert_int_equal(o->badline, 7);
	assert_non_null(strstr(o->bad, "expected a string"));
	opts_free(o);
}

static void
a_changed_list_makes_a_changed_service(void **state)
{
	struct opts *a = opts_new("f", 1), *b = opts_new("f", 1);

	(void)state;
	opts_add(a, "command", 2, OPT_LIST, NULL, 0);
	opts_add_string(a, "/bin/cat");
	opts_add(b, "command", 2, OPT_LIST, NULL, 0);
	opts_add_string(b, "/bin/cat");
	assert_true(opts_equal(a, b));
	opts_add_string(b, "-u");
	assert_false(opts_equal(a, b));
	opts_free(a);
	opts_free(b);
}

#define T(f)	cmocka_unit_test(f)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(a_full_set_of_options_is_checked_into_its_conf),
		T(the_defaults_are_chdir_root_umask_022_and_no_core),
		T(each_bad_option_is_an_error_on_its_own_line),
		T(a_plugin_getter_sees_a_list_as_the_wrong_type),
		T(a_changed_list_makes_a_changed_service),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
