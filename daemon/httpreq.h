#ifndef SOCKD_HTTPREQ_H
#define SOCKD_HTTPREQ_H

#include <sys/types.h>

#include <stddef.h>

#define HTTPREQ_MAX	8192	/* a request's head, blank line included */

enum httpreq_method {
	HTTPREQ_GET = 1,
	HTTPREQ_HEAD,
	HTTPREQ_OTHER,		/* a valid token, not served */
};

/* One parsed request head; path points into the parsed buffer. */
struct httpreq {
	enum httpreq_method	 method;
	int			 minor;		/* HTTP/1.0 or HTTP/1.1 */
	int			 keepalive;	/* open after the answer */
	const char		*path;		/* the target, not NUL-ended */
	size_t			 pathlen;
};

/*
 * Parses the request head at the start of buf (len bytes): returns its
 * length, blank line included, when it is whole and valid, 0 when more
 * bytes are needed, -1 when it is malformed, carries a body, or has no end
 * within HTTPREQ_MAX bytes.  Lines end in CRLF or LF.
 */
ssize_t	httpreq_parse(const char *buf, size_t len, struct httpreq *);

#endif
