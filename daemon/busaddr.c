/*
 * busaddr: where the message bus is, "redis://[:PASSWORD@]HOST[:PORT]" or
 * "unix:PATH", parsed without the bus itself, so that the configuration
 * (which checks the daemon's "bus" setting) and the bus (which connects)
 * share one parser and config.c needs nothing of hiredis or libuv.
 */
#include <stdlib.h>
#include <string.h>

#include "busaddr.h"
#include "util.h"

static char *
bus_strndup(const char *s, size_t n)
{
	char *p = xcalloc(1, n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

const char *
bus_addr_parse(const char *url, struct bus_addr *a)
{
	const char *p, *at, *end, *colon;
	char *e;
	long port = 6379;

	memset(a, 0, sizeof(*a));
	if (strncmp(url, "unix:", 5) == 0) {
		p = url + 5;
		if (strncmp(p, "//", 2) == 0)
			p += 2;
		if (*p != '/')
			return "a unix: bus needs an absolute path";
		a->path = xstrdup(p);
		return NULL;
	}
	if (strncmp(url, "redis://", 8) != 0)
		return "expected \"redis://[:PASSWORD@]HOST[:PORT]\" or "
		    "\"unix:PATH\"";
	p = url + 8;
	if ((at = strrchr(p, '@')) != NULL) {
		if ((colon = memchr(p, ':', at - p)) == NULL)
			return "expected \":PASSWORD@\" before the host";
		if (at - colon - 1 > 0)
			a->password = bus_strndup(colon + 1, at - colon - 1);
		p = at + 1;
	}
	if (*p == '[') {
		if ((end = strchr(p, ']')) == NULL) {
			bus_addr_clear(a);
			return "an IPv6 address lacks its \"]\"";
		}
		a->host = bus_strndup(p + 1, end - p - 1);
		p = end + 1;
	} else {
		end = p + strcspn(p, ":/");
		a->host = bus_strndup(p, end - p);
		p = end;
	}
	if (*a->host == '\0') {
		bus_addr_clear(a);
		return "no host";
	}
	if (*p == ':') {
		port = strtol(p + 1, &e, 10);
		if (e == p + 1 || port < 1 || port > 65535) {
			bus_addr_clear(a);
			return "the port must be a number from 1 to 65535";
		}
		p = e;
	}
	if (*p == '/')
		p++;
	if (*p != '\0') {
		bus_addr_clear(a);
		return "unexpected text after the port (a database number "
		    "is not supported)";
	}
	a->port = (int)port;
	return NULL;
}

void
bus_addr_clear(struct bus_addr *a)
{
	free(a->host);
	free(a->path);
	free(a->password);
	memset(a, 0, sizeof(*a));
}

