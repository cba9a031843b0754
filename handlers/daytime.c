/*
 * daytime (RFC 867), and the classic UDP time server whose datagram is a
 * strftime(3) format.  TCP sends the time plus "\r\n" and closes, in
 * "tcp_format", else "format", else inetd's "%a %b %e %H:%M:%S %Y"
 * ("Tue Dec  1 09:47:20 2026"), which is what daytime clients and scanners
 * expect to parse.  UDP answers with exactly the formatted text, no
 * newline, or drops the datagram (sockd counts it) when there is nothing
 * safe to send.  Only a datagram holding a conversion (a '%' followed by a
 * character) is a format, without its trailing "\r\n" or "\n"; any other
 * datagram, empty or plain text such as nmap's probe or the "\n" of
 * "echo | nc -u", asks for the date as RFC 867 says, and gets "format"
 * (default "%Y-%m-%d %X"): it is never sent back as it came, which made
 * daytime look like echo.
 *
 * A client format is hostile input.  It is copied into a NUL-terminated
 * buffer (a format containing NUL is dropped), and formatted into a buffer
 * of sockd_dgram_reply_max() bytes by glibc's strftime_l(), which checks
 * every field width against the room left before padding and returns 0
 * instead of writing past the end, so "%99999999Y" costs nothing; lone '%',
 * unknown conversions and E/O modifiers are copied or ignored by it.  A 0
 * from strftime means "empty or did not fit", and both are dropped.  The C
 * locale is used so that replies do not depend on the machine.
 *
 * The "timezone" option is resolved once, at configure time, by tz.c,
 * which gives a struct tm with tm_gmtoff and tm_zone set, all strftime
 * needs for %z and %Z.  Only %s would ask mktime(), that is the process's
 * zone, so outside "local" each %s is expanded beforehand from the local
 * time of the same instant, which mktime() turns back into the right number.
 */
/* Built as a .so, this file may not get the Makefile's -D_GNU_SOURCE;
 * strftime_l() and newlocale() need it. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <locale.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include <sockd/handler.h>

#include "daytime.h"
#include "tz.h"

#define DAYTIME_TCP_MAX		4096	/* room for the TCP reply */
#define DAYTIME_FORMAT		"%Y-%m-%d %X"
#define DAYTIME_TCP_FORMAT	"%a %b %e %H:%M:%S %Y"	/* inetd's ctime() */

struct daytime_state {
	char		*format;	/* UDP, when the datagram is none */
	char		*tcp_format;
	int		 client_format;
	struct tz	 tz;
};

static const char *const daytime_options[] = {
	"format", "tcp_format", "client_format", "timezone", NULL
};

static pthread_once_t	 daytime_once = PTHREAD_ONCE_INIT;
static locale_t		 daytime_c = (locale_t)0;
static char		 daytime_err[640];

/* Buffers up to this size live on the stack. */
#define DAYTIME_SMALL	2048

static void
daytime_locale_init(void)
{
	daytime_c = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

/*
 * Copies fmt into f (room for len + outsz + 1), each %s conversion replaced
 * by its digits; -1 when they alone could not fit in outsz.
 */
static int
expand_epoch(char *f, const char *fmt, size_t len, time_t t, size_t outsz,
    locale_t loc)
{
	char		 conv[32];
	struct tm	 ltm;
	size_t		 i, j, n, o = 0, added = 0;

	memset(&ltm, 0, sizeof(ltm));
	(void)localtime_r(&t, &ltm);
	for (i = 0; i < len; i = j) {
		if (fmt[i] != '%') {
			f[o++] = fmt[i];
			j = i + 1;
			continue;
		}
		/* The syntax glibc reads: flags, width, one E or O. */
		for (j = i + 1; j < len && strchr("_-0^#", fmt[j]); j++)
			;
		for (; j < len && fmt[j] >= '0' && fmt[j] <= '9'; j++)
			;
		if (j < len && (fmt[j] == 'E' || fmt[j] == 'O'))
			j++;
		if (j < len)
			j++;
		if (fmt[j - 1] != 's' || j - i < 2) {
			memcpy(f + o, fmt + i, j - i);
			o += j - i;
			continue;
		}
		if (j - i >= sizeof(conv))
			return -1;
		memcpy(conv, fmt + i, j - i);
		conv[j - i] = '\0';
		/* Digits beyond outsz in all could never be sent; the bound
		 * also keeps this write inside f. */
		n = strftime_l(f + o, outsz - added, conv, &ltm, loc);
		if (n == 0)
			return -1;
		added += n;
		o += n;
	}
	f[o] = '\0';
	return 0;
}

size_t
daytime_format(char *out, size_t outsz, const char *fmt, size_t fmtlen,
    time_t t, const struct tz *tz)
{
	struct tm	 tm;
	char		 small[DAYTIME_SMALL], *f = small;
	size_t		 n = 0;

	if (outsz == 0 || fmtlen == 0 || memchr(fmt, '\0', fmtlen) != NULL ||
	    outsz > SIZE_MAX / 4 || fmtlen > SIZE_MAX / 4)
		return 0;
	(void)pthread_once(&daytime_once, daytime_locale_init);
	if (daytime_c == (locale_t)0)
		return 0;
	/* Usual requests fit on the stack: no allocation per datagram. */
	if (fmtlen + outsz + 1 > sizeof(small) &&
	    (f = malloc(fmtlen + outsz + 1)) == NULL)
		return 0;
	if (tz->kind == TZ_LOCAL) {
		memcpy(f, fmt, fmtlen);
		f[fmtlen] = '\0';
	} else if (expand_epoch(f, fmt, fmtlen, t, outsz, daytime_c) == -1)
		goto out;
	tz_time(tz, t, &tm);
	n = strftime_l(out, outsz, f, &tm, daytime_c);
out:
	if (f != small)
		free(f);
	return n;
}

/* NULL when fmt gives output that fits a TCP reply, else why not. */
static const char *
daytime_check(const char *name, const char *fmt, const struct tz *tz)
{
	char	 probe[DAYTIME_TCP_MAX];

	if (daytime_format(probe, sizeof(probe) - 2, fmt, strlen(fmt),
	    time(NULL), tz) != 0)
		return NULL;
	snprintf(daytime_err, sizeof(daytime_err), "%s gives no output, or "
	    "more than 4 KiB", name);
	return daytime_err;
}

static const char *
daytime_configure(const struct sockd_opts *opts, void **port_state)
{
	struct daytime_state *st;
	const char	*fmt, *tcp_fmt, *zone, *err;

	if ((st = calloc(1, sizeof(*st))) == NULL)
		return "out of memory";
	/* A config that sets format keeps it for TCP too, as before
	 * tcp_format existed. */
	fmt = sockd_opt_string(opts, "format", NULL);
	tcp_fmt = sockd_opt_string(opts, "tcp_format", fmt != NULL ? fmt :
	    DAYTIME_TCP_FORMAT);
	if (fmt == NULL)
		fmt = DAYTIME_FORMAT;
	st->client_format = sockd_opt_bool(opts, "client_format", 1);
	zone = sockd_opt_string(opts, "timezone", "local");
	if ((err = tz_load(&st->tz, zone)) != NULL) {
		free(st);
		return err;
	}
	/* The formats are the admin's: refuse now what could never be sent. */
	if ((st->format = strdup(fmt)) == NULL ||
	    (st->tcp_format = strdup(tcp_fmt)) == NULL)
		err = "out of memory";
	else if ((err = daytime_check("format", fmt, &st->tz)) == NULL)
		err = daytime_check("tcp_format", tcp_fmt, &st->tz);
	if (err != NULL) {
		tz_free(&st->tz);
		free(st->format);
		free(st->tcp_format);
		free(st);
		return err;
	}
	*port_state = st;
	return NULL;
}

static void
daytime_unconfigure(void *port_state)
{
	struct daytime_state *st = port_state;

	if (st == NULL)
		return;
	tz_free(&st->tz);
	free(st->format);
	free(st->tcp_format);
	free(st);
}

static int
daytime_connect(struct sockd_conn *c)
{
	struct daytime_state *st = sockd_conn_port_state(c);
	char		 buf[DAYTIME_TCP_MAX];
	size_t		 n;

	n = daytime_format(buf, sizeof(buf) - 2, st->tcp_format,
	    strlen(st->tcp_format), time(NULL), &st->tz);
	if (n == 0) {
		sockd_conn_log(c, LOG_ERR, "cannot format the time");
		return -1;
	}
	memcpy(buf + n, "\r\n", 2);
	(void)sockd_conn_write(c, buf, n + 2);
	sockd_conn_close(c);
	return 0;
}

int
daytime_is_format(const char *buf, size_t len)
{
	const char	*p;

	/* A '%' that ends the datagram converts nothing. */
	return len > 1 && (p = memchr(buf, '%', len - 1)) != NULL;
}

static void
daytime_datagram(struct sockd_dgram *d, const char *buf, size_t len)
{
	struct daytime_state *st = sockd_dgram_port_state(d);
	size_t		 max = sockd_dgram_reply_max(d), n = 0;
	char		 small[DAYTIME_SMALL], *out = small;

	/* The line end of "echo '%c' | nc -u" is no part of the format. */
	if (len > 0 && buf[len - 1] == '\n')
		len--;
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	if (!st->client_format || !daytime_is_format(buf, len)) {
		buf = st->format;
		len = strlen(st->format);
	}
	/* One more byte than a reply may have, for strftime's NUL. */
	if (max > 0 && max < SIZE_MAX && (max + 1 <= sizeof(small) ||
	    (out = malloc(max + 1)) != NULL)) {
		n = daytime_format(out, max + 1, buf, len, time(NULL), &st->tz);
		if (n > 0)
			(void)sockd_dgram_reply(d, out, n);
		if (out != small)
			free(out);
	}
	if (n == 0)
		sockd_dgram_drop(d);
}

const struct sockd_handler sockd_handler_daytime = {
	.abi_version = SOCKD_ABI_VERSION, .name = "daytime",
	.protocols = SOCKD_TCP | SOCKD_UDP, .options = daytime_options,
	.configure = daytime_configure, .unconfigure = daytime_unconfigure,
	.tcp_connect = daytime_connect, .udp_datagram = daytime_datagram,
};
