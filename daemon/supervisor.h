#ifndef SOCKD_SUPERVISOR_H
#define SOCKD_SUPERVISOR_H

struct options {
	const char	*file;		/* -c */
	int		 port_offset;	/* -p */
	const char	*user;		/* -u, overrides daemon.user */
	int		 foreground;	/* -f */
	int		 debug;		/* -d */
	char		 self[4096];	/* this binary, for the reload check */
};

/* Checks the configuration as "sockd -t" does; 0 when it is usable. */
int	supervisor_check(const struct options *);
/* Loads, binds, drops privileges and serves until stopped; returns the
 * exit status. */
int	supervisor_run(const struct options *);

#endif
