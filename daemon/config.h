#ifndef SOCKD_CONFIG_H
#define SOCKD_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>

#include "acl.h"
#include "errlist.h"

struct opts;

struct bindaddr {
	struct sockaddr_storage	 ss;	/* port filled in per protocol */
	char			 text[64];
};

struct svc_conf {
	char		*name;
	char		*file;		/* where the service is defined */
	int		 line;
	char		*handler;
	unsigned int	 protocols;	/* SOCKD_TCP | SOCKD_UDP */
	int		 port_tcp;
	int		 port_udp;
	struct bindaddr	*bind;
	size_t		 nbind;
	int		 enabled;
	char		*banner;
	char		*busy;
	char		*quit;
	long long	 idle_timeout;
	long long	 backlog;
	long long	 max_line;
	long long	 line_timeout;	/* ms */
	long long	 max_queue;
	long long	 max_connections;
	long long	 per_source;
	long long	 ipv6_prefix;
	long long	 rate;
	long long	 burst;		/* -1: 2 * rate */
	long long	 max_reply;
	long long	 max_reply_growth;
	int		 drop_low_ports;
	int		 keepalive;	/* SO_KEEPALIVE on connections */
	long long	 rcvbuf;	/* bytes; 0: the kernel's (UDP: more) */
	long long	 sndbuf;	/* bytes; 0: the kernel's */
	int		 v6only;	/* IPV6_V6ONLY on IPv6 sockets */
	struct acl	 acl;		/* allow, deny */
	struct opts	*opts;
	int		 log_connections; /* an access record per conn */
	long long	 log_level;	/* its peers' lines; -1: daemon's */
	int		 proxy_protocol; /* a PROXY header comes first */
	struct acl	 proxy_from;	/* who may send it: an allow list */
	long long	 proxy_timeout;	/* seconds the header may take */
};

struct config {
	char		*file;
	int		 log_stderr;
	int		 log_level;
	char		*handler_dir;
	char		*include_dir;	/* as read from, relative ones resolved */
	char		*inetd_conf;	/* the same */
	/* Errors of inetd_conf's lines: each line with one is skipped, as
	 * inetd skips it, and the rest is served.  For the caller to log
	 * (services_create() adds its handlers' errors); they never make
	 * the configuration unusable. */
	struct errlist	 skipped;
	char		*user;
	char		*group;
	int		 workers;
	long long	 drain_timeout;
	long long	 max_connections;
	char		*bus;		/* the bus's url, NULL: none */
	char		*bus_password;
	struct svc_conf	*svc;
	size_t		 nsvc;
};

/*
 * Parses and checks file and, when it sets daemon.include_dir, every
 * drop-in file there, and the inetd.conf daemon.inetd_conf names; port_offset is added to ports below 1024 (-p).
 * Every error found goes to errs; a missing include_dir is only logged
 * as a warning.  Returns the config with the services that had no error
 * (so that "sockd -t" can go on to check their handlers), to free with
 * config_free(); NULL only when the main file could not be read or parsed
 * at all.  Usable only when errs stayed empty.
 */
struct config	*config_load(const char *file, int port_offset,
		    struct errlist *errs);
/* Size limits of a configuration: each file, and all of them together. */
#define CONFIG_FILE_MAX		(1 << 20)
#define CONFIG_TOTAL_MAX	(4 << 20)
/* How deep @include may nest (libconfig's own limit is 10). */
#define CONFIG_INCLUDE_DEPTH	8
/* How many drop-in files include_dir may hold. */
#define CONFIG_DROPIN_MAX	1024
void		 config_free(struct config *);
/* 1 when two service configs would behave the same (reload keeps it). */
int		 svc_conf_equal(const struct svc_conf *, const struct svc_conf *);
/* Frees what sc holds and leaves it zeroed. */
void		 svc_conf_clear(struct svc_conf *sc);
const char	*proto_name(unsigned int);

#endif
