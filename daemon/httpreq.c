/*
 * httpreq: a small, strict parser of HTTP/1.0 and 1.1 request heads, for
 * the metrics handler, which answers GET and HEAD only and never reads a
 * body.  It looks at each line as soon as it is whole, so garbage is
 * refused at its first newline rather than after HTTPREQ_MAX bytes, and
 * it never reads past what it was given or past HTTPREQ_MAX.  Accepted:
 * a request line of exactly METHOD SP TARGET SP HTTP/1.0 or HTTP/1.1,
 * header fields "name: value" (no space before the colon, no folded
 * lines, no control characters), empty lines before the request line
 * (RFC 9112, 2.2), lines ending in CRLF or LF.  Refused besides: a body
 * (Content-Length other than 0, any Transfer-Encoding), since the
 * handler could not tell where the next request starts.
 */
#include <string.h>
#include <strings.h>

#include "httpreq.h"

/* RFC 9110 tchar. */
static int
is_tchar(unsigned char ch)
{
	if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9'))
		return 1;
	return ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch) != NULL;
}

static int
is_token(const char *p, size_t len)
{
	size_t i;

	if (len == 0)
		return 0;
	for (i = 0; i < len; i++)
		if (!is_tchar((unsigned char)p[i]))
			return 0;
	return 1;
}

/* Equal to the literal s, ignoring case. */
static int
is_word(const char *p, size_t len, const char *s)
{
	return len == strlen(s) && strncasecmp(p, s, len) == 0;
}

static int
request_line(const char *p, size_t len, struct httpreq *r)
{
	const char *sp1, *sp2, *ver;
	size_t i, vlen;

	if ((sp1 = memchr(p, ' ', len)) == NULL ||
	    !is_token(p, (size_t)(sp1 - p)))
		return -1;
	if ((sp2 = memchr(sp1 + 1, ' ', len - (size_t)(sp1 + 1 - p))) ==
	    NULL || sp2 == sp1 + 1)
		return -1;
	r->path = sp1 + 1;
	r->pathlen = (size_t)(sp2 - r->path);
	for (i = 0; i < r->pathlen; i++)
		if ((unsigned char)r->path[i] <= ' ' ||
		    (unsigned char)r->path[i] == 0x7f)
			return -1;
	ver = sp2 + 1;
	vlen = len - (size_t)(ver - p);
	if (vlen != 8 || memcmp(ver, "HTTP/1.", 7) != 0 ||
	    (ver[7] != '0' && ver[7] != '1'))
		return -1;
	r->minor = ver[7] - '0';
	if ((size_t)(sp1 - p) == 3 && memcmp(p, "GET", 3) == 0)
		r->method = HTTPREQ_GET;
	else if ((size_t)(sp1 - p) == 4 && memcmp(p, "HEAD", 4) == 0)
		r->method = HTTPREQ_HEAD;
	else
		r->method = HTTPREQ_OTHER;
	return 0;
}

/* The comma-separated options of a Connection field. */
static void
connection_field(const char *v, size_t len, int *close, int *keep)
{
	size_t i = 0, start, end;

	while (i < len) {
		while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		start = i;
		while (i < len && v[i] != ',')
			i++;
		end = i;
		while (end > start && (v[end - 1] == ' ' || v[end - 1] == '\t'))
			end--;
		if (is_word(v + start, end - start, "close"))
			*close = 1;
		else if (is_word(v + start, end - start, "keep-alive"))
			*keep = 1;
	}
}

static int
header_line(const char *p, size_t len, int *close, int *keep)
{
	const char *colon, *v;
	size_t i, vlen;

	if ((colon = memchr(p, ':', len)) == NULL ||
	    !is_token(p, (size_t)(colon - p)))
		return -1;
	v = colon + 1;
	vlen = len - (size_t)(v - p);
	for (i = 0; i < vlen; i++)
		if (((unsigned char)v[i] < ' ' && v[i] != '\t') ||
		    (unsigned char)v[i] == 0x7f)
			return -1;
	while (vlen > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		vlen--;
	}
	while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
		vlen--;
	if (is_word(p, (size_t)(colon - p), "Connection"))
		connection_field(v, vlen, close, keep);
	else if (is_word(p, (size_t)(colon - p), "Content-Length")) {
		for (i = 0; i < vlen && v[i] == '0'; i++)
			continue;
		if (vlen == 0 || i != vlen)
			return -1;
	} else if (is_word(p, (size_t)(colon - p), "Transfer-Encoding"))
		return -1;
	return 0;
}

ssize_t
httpreq_parse(const char *buf, size_t len, struct httpreq *r)
{
	const char *p = buf, *nl, *end;
	size_t n, llen;
	int seen = 0, close = 0, keep = 0;

	memset(r, 0, sizeof(*r));
	if (len > HTTPREQ_MAX)
		len = HTTPREQ_MAX;
	end = buf + len;
	while ((nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		llen = (size_t)(nl - p);
		if (llen > 0 && p[llen - 1] == '\r')
			llen--;
		if (memchr(p, '\r', llen) != NULL ||
		    memchr(p, '\0', llen) != NULL)
			return -1;
		n = (size_t)(nl + 1 - buf);
		if (llen == 0 && seen) {
			r->keepalive = r->minor == 1 ? !close : keep && !close;
			return (ssize_t)n;
		}
		if (llen == 0)
			;	/* before the request line */
		else if (!seen) {
			if (request_line(p, llen, r) == -1)
				return -1;
			seen = 1;
		} else if (p[0] == ' ' || p[0] == '\t' ||
		    header_line(p, llen, &close, &keep) == -1)
			return -1;
		p = nl + 1;
	}
	/* The part of a line so far may already be wrong. */
	if (memchr(p, '\0', (size_t)(end - p)) != NULL)
		return -1;
	return len >= HTTPREQ_MAX ? -1 : 0;
}
