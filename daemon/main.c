/*
 * sockd: command line, then the supervisor.  Options follow the habits of
 * sshd and nginx (-f, -t, -d, -c), plus -p to shift privileged ports so
 * that the packaged configuration runs as a normal user.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "log.h"
#include "supervisor.h"

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: sockd [-dfhtV] [-c file] [-p offset] "
	    "[-u user[:group]]\n");
}

int
main(int argc, char *argv[])
{
	struct options opt = { .file = SOCKD_CONF_FILE };
	char *end;
	ssize_t n;
	long v;
	int ch, test = 0;

	while ((ch = getopt(argc, argv, "c:dfhp:tu:V")) != -1) {
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
