/*
 * sockd: command line, then the supervisor.  Options follow the habits of
 * sshd and nginx (-f, -t, -d, -c), plus -p to shift privileged ports so
 * that the packaged configuration runs as a normal user, and -r, which
 * asks the running daemon (found by its pid file, -P) to reload and exits
 * with its verdict, for ExecReload=.  -I prints the sockd.conf an
 * inetd.conf or xinetd configuration amounts to, and starts nothing.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control.h"
#include "errlist.h"
#include "importer.h"
#include "log.h"
#include "supervisor.h"

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: sockd [-dfhrtV] [-c file] [-I file] "
	    "[-P pidfile] [-p offset] [-u user[:group]]\n");
}

/* sockd -I: the whole text on stdout, or only the errors on stderr, so
 * that a script never installs half a conversion. */
static int
import_run(const char *file)
{
	struct imp_list l = { 0 };
	struct errlist errs = { 0 };
	size_t i;
	int rc = 0;

	if (import_file(file, &l, &errs) == -1 || errs.n > 0) {
		for (i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.msg[i]);
		rc = 1;
	} else {
		import_names(&l);
		import_print(stdout, file, &l);
		if (fflush(stdout) != 0 || ferror(stdout)) {
			fprintf(stderr, "sockd: -I: writing: %s\n",
			    strerror(errno));
			rc = 1;
		}
	}
	errlist_free(&errs);
	imp_list_free(&l);
	return rc;
}

int
main(int argc, char *argv[])
{
	struct options opt = { .file = SOCKD_CONF_FILE };
	const char *import = NULL;
	char *end;
	ssize_t n;
	long v;
	int ch, test = 0, reload = 0;

	while ((ch = getopt(argc, argv, "c:dfhI:P:p:rtu:V")) != -1) {
		switch (ch) {
		case 'c':
			opt.file = optarg;
			break;
		case 'd':
			opt.debug = 1;
			break;
		case 'f':
			opt.foreground = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'I':
			import = optarg;
			break;
		case 'p':
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || v < 0 ||
			    v > 64511) {
				fprintf(stderr, "sockd: -p %s: expected a port "
				    "offset from 0 to 64511\n", optarg);
				usage(stderr);
				return 2;
			}
			opt.port_offset = (int)v;
			break;
		case 'P':
			opt.pidfile = optarg;
			break;
		case 'r':
			reload = 1;
			break;
		case 't':
			test = 1;
			break;
		case 'u':
			opt.user = optarg;
			break;
		case 'V':
			printf("sockd %s\n", SOCKD_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "sockd: unexpected argument \"%s\"\n",
		    argv[optind]);
		usage(stderr);
		return 2;
	}
	if (import != NULL && (reload || test)) {
		fprintf(stderr, "sockd: -I and -%c: choose one\n",
		    reload ? 'r' : 't');
		usage(stderr);
		return 2;
	}
	if (import != NULL)
		return import_run(import);
	if (reload && test) {
		fprintf(stderr, "sockd: -r and -t: choose one\n");
		usage(stderr);
		return 2;
	}
	/* The daemon reloads the file it was started with. */
	if (reload)
		return control_request(opt.pidfile != NULL ? opt.pidfile :
		    CONTROL_PID_FILE, "reload");
	log_init(1, opt.debug ? LOG_DEBUG : LOG_INFO);
	/* Resolved now: after a package upgrade /proc/self/exe names a
	 * deleted file, and under valgrind it names valgrind. */
	if ((n = readlink("/proc/self/exe", opt.self, sizeof(opt.self) - 1))
	    <= 0)
		snprintf(opt.self, sizeof(opt.self), "/proc/self/exe");
	else
		opt.self[n] = '\0';
	if (test)
		return supervisor_check(&opt);
	(void)signal(SIGPIPE, SIG_IGN);
	return supervisor_run(&opt);
}
