/*
 * inetdconf: inetd.conf, as Debian's openbsd-inetd and update-inetd write
 * it, into import entries.  A line is "service socktype protocol
 * wait[.max] user[:group] server [argv...]"; a line that starts with a
 * space or tab continues the one before (OpenBSD), as does one ending in
 * a backslash.  "addr:service" binds one address, and a line "addr:"
 * alone sets it for the lines that follow (OpenBSD).  Lines of
 * update-inetd's "#<off># " are read as disabled services; one that does
 * not parse is only noted, since inetd would not have read it either.
 * What sockd cannot do the same way is kept as a comment on the entry:
 * RPC services and unknown internal ones are dropped, tcpd is looked
 * through (its host lists are not), "max" becomes a rate.  A service name
 * becomes its port through getservbyname() now, so that the error names
 * the line.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <limits.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sockd/handler.h>

#include "errlist.h"
#include "importer.h"
#include "util.h"

#define FIELDS_MAX	64

static const char *const internals[] = {
	"echo", "discard", "daytime", "chargen", "time",
};

struct iparse {
	const char	*file;
	int		 line;
	struct imp_list	*l;
	struct errlist	*errs;
	int		 off;		/* a "#<off>#" line */
	char		*host;		/* the default address, NULL: any */
	char		 why[256];	/* the error of the line */
};

/* Port of name ("tftp" or "69") for proto, 0 when unknown. */
static int
port_of(const char *name, const char *proto)
{
	struct servent *se;
	char *end;
	long v;

	if (isdigit((unsigned char)*name)) {
		v = strtol(name, &end, 10);
		return *end == '\0' && v > 0 && v <= 65535 ? (int)v : 0;
	}
	if ((se = getservbyname(name, proto)) == NULL)
		return 0;
	return ntohs((uint16_t)se->s_port);
}

static int
numeric_addr(const char *s)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, s, buf) == 1 ||
	    inet_pton(AF_INET6, s, buf) == 1;
}

#define FAIL(p, ...) do { \
	snprintf((p)->why, sizeof((p)->why), __VA_ARGS__); \
	return -1; \
} while (0)

/* The protocol field: SOCKD_TCP or SOCKD_UDP, and its family in fam
 * ("4", "6", "46" or ""); 0 with a comment for RPC and UNIX sockets. */
static int
proto_parse(struct iparse *p, const char *s, unsigned int *proto,
    const char **fam)
{
	if (strncmp(s, "tcp", 3) == 0)
		*proto = SOCKD_TCP;
	else if (strncmp(s, "udp", 3) == 0)
		*proto = SOCKD_UDP;
	else if (strncmp(s, "rpc/", 4) == 0 || strcmp(s, "unix") == 0) {
		*proto = 0;
		return 0;
	} else
		FAIL(p, "protocol \"%s\": expected tcp, udp, tcp6, udp6, tcp46 "
		    "or udp46", s);
	*fam = s + 3;
	if (strcmp(*fam, "") != 0 && strcmp(*fam, "4") != 0 &&
	    strcmp(*fam, "6") != 0 && strcmp(*fam, "46") != 0)
		FAIL(p, "protocol \"%s\": expected tcp, udp, tcp6, udp6, tcp46 "
		    "or udp46", s);
	return 0;
}

/* "wait", "nowait", and either with ".max". */
static int
wait_parse(struct iparse *p, const char *s, int *wait, long long *max)
{
	const char *dot = strchr(s, '.');
	size_t n = dot != NULL ? (size_t)(dot - s) : strlen(s);
	char *end;

	if (n == 4 && strncmp(s, "wait", 4) == 0)
		*wait = 1;
	else if (n == 6 && strncmp(s, "nowait", 6) == 0)
		*wait = 0;
	else
		FAIL(p, "\"%s\": expected wait or nowait, with .max (a number "
		    "of starts per minute) or without", s);
	*max = 0;
	if (dot != NULL) {
		*max = strtoll(dot + 1, &end, 10);
		if (!isdigit((unsigned char)dot[1]) || *end != '\0' ||
		    *max < 1 || *max > 10000000)
			FAIL(p, "\"%s\": the max after the dot is a number of "
			    "starts per minute, 1 to 10000000", s);
	}
	return 0;
}

/* Reads one service line of f fields into a new entry of p->l; 0 also
 * when the line was dropped (with a comment), -1 with p->why. */
static int
line_parse(struct iparse *p, char **f, int nf)
{
	struct imp_entry *e;
	unsigned int proto;
	const char *fam = "", *svc, *server, *base, *sep;
	char *addr = NULL, *colon, *user, *real = NULL;
	long long max;
	int wait, i, port, first;
	size_t k;

	/* "addr:" alone: the address of the lines that follow. */
	if (nf == 1 && f[0][strlen(f[0]) - 1] == ':') {
		f[0][strlen(f[0]) - 1] = '\0';
		if (strcmp(f[0], "*") != 0 && !numeric_addr(f[0]))
			FAIL(p, "address \"%s\": expected a numeric IPv4 or "
			    "IPv6 address, or *", f[0]);
		free(p->host);
		p->host = strcmp(f[0], "*") == 0 ? NULL : xstrdup(f[0]);
		return 0;
	}
	if (nf < 6)
		FAIL(p, "%d field%s; expected at least 6: service, socket "
		    "type, protocol, wait or nowait, user, server", nf,
		    nf == 1 ? "" : "s");
	svc = f[0];
	if ((colon = strrchr(svc, ':')) != NULL) {
		*colon = '\0';
		addr = f[0];
		svc = colon + 1;
		/* [::1]:echo */
		if (addr[0] == '[' && addr[strlen(addr) - 1] == ']') {
			addr[strlen(addr) - 1] = '\0';
			addr++;
		}
		if (strcmp(addr, "*") == 0)
			addr = NULL;
		else if (!numeric_addr(addr))
			FAIL(p, "address \"%s\": expected a numeric IPv4 or "
			    "IPv6 address, or *", addr);
	} else if (p->host != NULL)
		addr = p->host;
	if (*svc == '\0')
		FAIL(p, "no service name before the socket type");
	if (strcmp(f[1], "stream") != 0 && strcmp(f[1], "dgram") != 0) {
		if (strcmp(f[1], "raw") == 0 || strcmp(f[1], "rdm") == 0 ||
		    strcmp(f[1], "seqpacket") == 0) {
			imp_note(&p->l->comments, "%s:%d: %s: dropped: sockd "
			    "serves no %s sockets", p->file, p->line, svc,
			    f[1]);
			return 0;
		}
		FAIL(p, "socket type \"%s\": expected stream or dgram", f[1]);
	}
	if (proto_parse(p, f[2], &proto, &fam) == -1)
		return -1;
	if (proto == 0 || strchr(svc, '/') != NULL) {
		imp_note(&p->l->comments, "%s:%d: %s: dropped: an RPC or UNIX "
		    "socket service, which sockd does not serve", p->file,
		    p->line, svc);
		return 0;
	}
	if ((proto == SOCKD_TCP) != (strcmp(f[1], "stream") == 0))
		FAIL(p, "socket type %s with protocol %s: stream goes with "
		    "tcp, dgram with udp", f[1], f[2]);
	if (wait_parse(p, f[3], &wait, &max) == -1)
		return -1;
	server = f[5];
	if (strcmp(server, "internal") != 0 && server[0] != '/')
		FAIL(p, "server \"%s\": expected an absolute path or "
		    "\"internal\"", server);
	if ((port = port_of(svc, proto == SOCKD_TCP ? "tcp" : "udp")) == 0)
		FAIL(p, "service \"%s\": not a %s service in /etc/services; "
		    "write its port number instead", svc,
		    proto == SOCKD_TCP ? "tcp" : "udp");
	if (strcmp(server, "internal") == 0) {
		for (k = 0; k < nitems(internals); k++)
			if (strcmp(svc, internals[k]) == 0)
				break;
		if (k == nitems(internals)) {
			imp_note(&p->l->comments, "%s:%d: %s: dropped: no "
			    "built-in service of that name in sockd",
			    p->file, p->line, svc);
			return 0;
		}
	}
	if (p->l->n >= IMPORT_ENTRIES_MAX)
		FAIL(p, "more than %d services", IMPORT_ENTRIES_MAX);
	e = imp_entry_add(p->l, p->file, p->line);
	e->name = xstrdup(svc);
	e->port = port;
	e->protocols = proto;
	e->enabled = !p->off;
	if (p->off)
		imp_note(&e->comments, "disabled (#<off>#, update-inetd "
		    "--disable)");
	if (addr != NULL)
		strv_add(&e->bind, addr);
	else if (*fam != '\0' && strcmp(fam, "46") != 0)
		imp_note(&e->comments, "%s: the address family is left to "
		    "\"bind\" in defaults", f[2]);
	if (max > 0) {
		e->rate = (max + 59) / 60;
		e->burst = max;
		imp_note(&e->comments, "%s: %lld starts a minute became rate "
		    "%lld and burst %lld, an approximation: rate counts per "
		    "client address", f[3], max, e->rate, e->burst);
	}
	if (strcmp(server, "internal") == 0) {
		e->handler = xstrdup(svc);
		return 0;
	}
	e->handler = xstrdup("exec");
	e->wait = wait;
	user = f[4];
	if ((sep = strchr(user, ':')) == NULL)
		sep = strchr(user, '.');
	e->user = sep != NULL ? xasprintf("%.*s", (int)(sep - user), user) :
	    xstrdup(user);
	if (sep != NULL && sep[1] != '\0')
		e->group = xstrdup(sep + 1);
	/* The arguments start with argv[0]; command[0] is the path. */
	first = 7;
	base = strrchr(server, '/') + 1;
	if (strcmp(base, "tcpd") == 0) {
		if (nf < 7) {
			imp_entry_drop(p->l);
			FAIL(p, "tcpd without the server it should start");
		}
		real = f[6][0] == '/' ? xstrdup(f[6]) :
		    xasprintf("/usr/sbin/%s", f[6]);
		imp_note(&e->comments, "tcpd: runs %s directly; hosts.allow "
		    "and hosts.deny are not consulted: set allow and deny by "
		    "hand", real);
		server = real;
	} else if (nf > 6 && strcmp(f[6], base) != 0 &&
	    strcmp(f[6], server) != 0)
		imp_note(&e->comments, "argv[0] \"%s\" is not kept: the "
		    "program sees its path", f[6]);
	strv_add(&e->command, server);
	for (i = first; i < nf; i++)
		strv_add(&e->command, f[i]);
	free(real);
	if (proto == SOCKD_UDP && !wait) {
		e->enabled = 0;
		imp_note(&e->comments, "disabled: exec serves UDP only with "
		    "wait = true (dgram udp nowait has no equivalent)");
	}
	return 0;
}

/* Splits s into at most FIELDS_MAX words; -1 when there are more. */
static int
fields_split(char *s, char **f)
{
	int n = 0;

	for (;;) {
		s += strspn(s, " \t\r");
		if (*s == '\0')
			return n;
		if (n == FIELDS_MAX)
			return -1;
		f[n++] = s;
		s += strcspn(s, " \t\r");
		if (*s != '\0')
			*s++ = '\0';
	}
}

static void
logical_parse(struct iparse *p, char *buf, int *failed)
{
	char *f[FIELDS_MAX];
	int nf;

	p->why[0] = '\0';
	if ((nf = fields_split(buf, f)) == -1)
		snprintf(p->why, sizeof(p->why), "more than %d fields",
		    FIELDS_MAX);
	else if (nf > 0 && line_parse(p, f, nf) == 0)
		return;
	if (p->why[0] == '\0')
		return;
	if (p->off) {
		imp_note(&p->l->comments, "%s:%d: a disabled line, not "
		    "imported: %s", p->file, p->line, p->why);
		return;
	}
	errlist_add(p->errs, p->file, p->line, "%s", p->why);
	*failed = 1;
}

int
inetdconf_parse(const char *file, const char *text, struct imp_list *l,
    struct errlist *errs)
{
	struct iparse p = { .file = file, .l = l, .errs = errs };
	const char *s, *q, *body;
	char *buf = NULL;
	size_t len, blen = 0;
	int line, failed = 0, start = 0, off = 0, cont = 0;

	for (s = text, line = 1; s != NULL && *s != '\0';
	    s = q != NULL ? q + 1 : NULL, line++) {
		q = strchr(s, '\n');
		len = q != NULL ? (size_t)(q - s) : strlen(s);
		/* A line that starts with a space or tab continues the entry
		 * before it, as does one after a backslash. */
		if (buf != NULL && (cont || *s == ' ' || *s == '\t') &&
		    s[strspn(s, " \t\r")] != '\n' &&
		    s[strspn(s, " \t\r")] != '\0' &&
		    s[strspn(s, " \t\r")] != '#') {
			body = s;
		} else {
			if (buf != NULL) {
				p.line = start;
				p.off = off;
				logical_parse(&p, buf, &failed);
				free(buf);
				buf = NULL;
			}
			body = s + strspn(s, " \t\r");
			off = strncmp(body, "#<off>#", 7) == 0;
			if (off)
				body += 7;
			else if (*body == '#' || *body == '\n' ||
			    *body == '\0')
				continue;
			len -= (size_t)(body - s);
			blen = 0;
			start = line;
		}
		buf = xreallocarray(buf, blen + len + 2, 1);
		if (blen > 0)
			buf[blen++] = ' ';
		memcpy(buf + blen, body, len);
		blen += len;
		/* A file written on Windows: "\\\r\n" continues too. */
		while (blen > 0 && buf[blen - 1] == '\r')
			blen--;
		buf[blen] = '\0';
		cont = blen > 0 && buf[blen - 1] == '\\';
		if (cont)
			buf[--blen] = '\0';
	}
	if (buf != NULL) {
		p.line = start;
		p.off = off;
		logical_parse(&p, buf, &failed);
		free(buf);
	}
	free(p.host);
	return failed ? -1 : 0;
}
