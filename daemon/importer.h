#ifndef SOCKD_IMPORTER_H
#define SOCKD_IMPORTER_H

#include <stdio.h>

#include "errlist.h"

/*
 * What the inetd.conf and xinetd parsers (inetdconf.c, xinetd.c) make of
 * each service, and what import.c turns into sockd.conf text.  Below
 * config in the layers: they never see libconfig or struct config.
 */

/* A list of strings, each its own allocation. */
struct strv {
	char		**v;
	size_t		  n;
};

void	strv_add(struct strv *, const char *);
/* p, an array of n elements of size, with room for one more: it grows
 * to twice its size at each power of two, so that adding is linear. */
void	*imp_grow(void *p, size_t n, size_t size);
void	strv_clear(struct strv *);

struct imp_entry {
	char		*name;		/* the sockd service name */
	char		*file;		/* the source line */
	int		 line;
	int		 port;		/* resolved */
	unsigned int	 protocols;	/* SOCKD_TCP or SOCKD_UDP */
	struct strv	 bind;		/* none: as defaults say */
	char		*handler;	/* "exec" or a built-in's name */
	struct strv	 command;	/* exec: the path, then the arguments */
	char		*user, *group;	/* exec */
	int		 wait;		/* exec; -1: not said */
	int		 enabled;
	long long	 max_connections; /* 0: not said (also those below) */
	long long	 per_source;	/* -1: not said */
	long long	 rate, burst;
	struct strv	 allow, deny;	/* CIDR */
	struct strv	 env;		/* "NAME=value" */
	struct strv	 passenv;
	long long	 rlimit_as, rlimit_cpu;	/* -1: not said */
	long long	 rlimit_nofile;
	long long	 umask, nice;	/* -1 / LLONG_MIN: not said */
	char		*banner;
	int		 keepalive;	/* -1: not said */
	int		 log_connections; /* -1: not said */
	struct strv	 comments;	/* approximations and drops */
};

struct imp_list {
	struct imp_entry *e;
	size_t		  n;
	struct strv	  comments;	/* about lines that made no entry */
};

/* A new entry at the end of l, every field "not said", enabled. */
struct imp_entry *imp_entry_add(struct imp_list *l, const char *file,
		    int line);
/* Drops the last entry of l (one that turned out to be no service). */
void		 imp_entry_drop(struct imp_list *l);
/* Appends a comment, printf style, to an entry or to the list. */
void		 imp_note(struct strv *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
void		 imp_list_free(struct imp_list *);

/* The size limit of a file read by the importer, and how many services
 * one import may make. */
#define IMPORT_FILE_MAX		(1 << 20)
#define IMPORT_ENTRIES_MAX	4096
/* Reads path into a NUL-terminated string (to free); NULL, with the
 * reason in errs as "from:fromline: ..." (or "path: ..." when from is
 * NULL), when it cannot, or when it is too large or holds a NUL. */
char		*import_read(const char *path, const char *from, int fromline,
		    struct errlist *errs);

/*
 * inetd.conf (Debian and OpenBSD syntax), text read from file: appends an
 * entry per service line to l.  Every error goes to errs as "file:line:
 * text"; returns -1 when there was one.
 */
int		 inetdconf_parse(const char *file, const char *text,
		    struct imp_list *l, struct errlist *errs);
/*
 * xinetd.conf or an xinetd.d file, text read from file; includedir
 * directories and banner files are read too unless flags has
 * XINETD_NO_FILES (a fuzzer's input must not name files to read).  As
 * inetdconf_parse().
 */
#define XINETD_NO_FILES	0x1
int		 xinetd_parse(const char *file, const char *text, int flags,
		    struct imp_list *l, struct errlist *errs);

/* 1 when text looks like xinetd's syntax, 0 for inetd.conf. */
int		 import_is_xinetd(const char *text);
/* Reads file in the syntax it has (import_is_xinetd()); as the parsers. */
int		 import_file(const char *file, struct imp_list *l,
		    struct errlist *errs);
/* Makes the names of l unique and valid sockd service names. */
void		 import_names(struct imp_list *l);
/* The sockd.conf that l says, with comments, for "sockd -I". */
void		 import_print(FILE *, const char *source,
		    const struct imp_list *l);
/*
 * "services = ( ... );" for config.c: each entry on the line of its
 * source, so that libconfig's line numbers are the source's.  To free.
 */
char		*import_config_text(const struct imp_list *l);

#endif
