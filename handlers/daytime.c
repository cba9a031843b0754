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
 * Time zones are resolved once, at configure time, and never through TZ:
 * setenv() while other threads format times is a data race, and it would
 * also change the daemon's own log times.  "local" is localtime_r(), "UTC"
 * gmtime_r(); an IANA name is read from its TZif file under
 * /usr/share/zoneinfo: its transition table, then the POSIX TZ rule of the
 * file's footer for times after the last transition (RFC 8536).  The result
 * is a struct tm with tm_gmtoff and tm_zone set, which is all strftime needs
 * for %z and %Z.  Only %s would ask mktime(), that is the process's zone, so
 * outside "local" each %s is expanded beforehand from the local time of the
 * same instant, which mktime() turns back into the right number.
 */
/* Built as a .so, this file may not get the Makefile's -D_GNU_SOURCE;
 * tm_gmtoff, tm_zone, strftime_l() and newlocale() need it. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <locale.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <sockd/handler.h>

#include "handlers.h"

#define DAYTIME_ZONEINFO	"/usr/share/zoneinfo/"
#define DAYTIME_TCP_MAX		4096	/* room for the TCP reply */
#define DAYTIME_TZIF_MAX	(1024 * 1024)
#define DAYTIME_FORMAT		"%Y-%m-%d %X"
#define DAYTIME_TCP_FORMAT	"%a %b %e %H:%M:%S %Y"	/* inetd's ctime() */

struct daytime_state {
	char		*format;	/* UDP, when the datagram is none */
	char		*tcp_format;
	int		 client_format;
	struct daytime_tz tz;
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

static uint32_t
be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. */
static long long
days_from_civil(long long y, int m, int d)
{
	long long	 era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int
is_leap(long long y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Local seconds since the epoch at which rule r fires in year y. */
static long long
rule_local(const struct daytime_rule *r, long long y)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };
	long long	 days;
	int		 dow, day, len;

	switch (r->kind) {
	case 'J':	/* 1-365, February 29 never counted */
		days = days_from_civil(y, 1, 1) + r->day - 1 +
		    (is_leap(y) && r->day >= 60);
		break;
	case 'D':	/* 0-365, February 29 counted */
		days = days_from_civil(y, 1, 1) + r->day;
		break;
	default:	/* Mm.w.d: weekday d of week w (5: last) of month m */
		days = days_from_civil(y, r->mon, 1);
		dow = (int)(((days + 4) % 7 + 7) % 7);	/* 1970-01-01: Thu */
		day = 1 + (r->day - dow + 7) % 7 + (r->week - 1) * 7;
		len = mdays[r->mon - 1] + (r->mon == 2 && is_leap(y));
		while (day > len)
			day -= 7;
		days += day - 1;
		break;
	}
	return days * 86400 + r->secs;
}

/* Parses [+-]hh[:mm[:ss]] at *sp, hours up to 167 (RFC 8536 allows it). */
static int
parse_hms(const char **sp, long *secs)
{
	const char	*s = *sp;
	long		 sign = 1, v = 0, part;
	int		 i, n;

	if (*s == '+' || *s == '-')
		sign = *s++ == '-' ? -1 : 1;
	for (i = 0; i < 3; i++) {
		if (i > 0) {
			if (*s != ':')
				break;
			s++;
		}
		for (n = 0, part = 0; *s >= '0' && *s <= '9' && n < 3; n++)
			part = part * 10 + (*s++ - '0');
		if (n == 0 || (i == 0 && part > 167) || (i > 0 && part > 59))
			return -1;
		v = v * 60 + part;
	}
	for (; i < 3; i++)
		v *= 60;
	*secs = sign * v;
	*sp = s;
	return 0;
}

static int
parse_name(const char **sp, char *name, size_t namesz)
{
	const char	*s = *sp, *e;
	size_t		 n;

	if (*s == '<') {
		for (e = ++s; *e != '>'; e++)
			if (*e == '\0')
				return -1;
		n = e - s;
		*sp = e + 1;
	} else {
		for (e = s; (*e >= 'A' && *e <= 'Z') ||
		    (*e >= 'a' && *e <= 'z'); e++)
			;
		n = e - s;
		*sp = e;
	}
	if (n < 3 || n >= namesz)
		return -1;
	memcpy(name, s, n);
	name[n] = '\0';
	return 0;
}

static int
parse_num(const char **sp, int lo, int hi, int *v)
{
	const char	*s = *sp;
	int		 n = 0, d;

	for (d = 0; *s >= '0' && *s <= '9' && d < 4; d++)
		n = n * 10 + (*s++ - '0');
	if (d == 0 || n < lo || n > hi)
		return -1;
	*v = n;
	*sp = s;
	return 0;
}

static int
parse_rule(const char **sp, struct daytime_rule *r)
{
	const char	*s = *sp;

	memset(r, 0, sizeof(*r));
	if (*s == 'M') {
		s++;
		r->kind = 'M';
		if (parse_num(&s, 1, 12, &r->mon) == -1 || *s++ != '.' ||
		    parse_num(&s, 1, 5, &r->week) == -1 || *s++ != '.' ||
		    parse_num(&s, 0, 6, &r->day) == -1)
			return -1;
	} else if (*s == 'J') {
		s++;
		r->kind = 'J';
		if (parse_num(&s, 1, 365, &r->day) == -1)
			return -1;
	} else {
		r->kind = 'D';
		if (parse_num(&s, 0, 365, &r->day) == -1)
			return -1;
	}
	r->secs = 7200;
	if (*s == '/') {
		s++;
		if (parse_hms(&s, &r->secs) == -1)
			return -1;
	}
	*sp = s;
	return 0;
}

int
daytime_tz_parse_rule(struct daytime_tz *tz, const char *s)
{
	long	 off;

	tz->has_rule = tz->rule_dst = 0;
	if (parse_name(&s, tz->std_name, sizeof(tz->std_name)) == -1 ||
	    parse_hms(&s, &off) == -1)
		return -1;
	/* POSIX offsets count west of Greenwich; tm_gmtoff counts east. */
	tz->std_off = -off;
	if (*s != '\0') {
		if (parse_name(&s, tz->dst_name, sizeof(tz->dst_name)) == -1)
			return -1;
		tz->dst_off = tz->std_off + 3600;
		if (*s != ',' && *s != '\0') {
			if (parse_hms(&s, &off) == -1)
				return -1;
			tz->dst_off = -off;
		}
		if (*s == '\0') {
			/* No rule: POSIX leaves it open; glibc: the US one. */
			s = ",M3.2.0,M11.1.0";
		}
		if (*s++ != ',' || parse_rule(&s, &tz->start) == -1 ||
		    *s++ != ',' || parse_rule(&s, &tz->end) == -1)
			return -1;
		tz->rule_dst = 1;
	}
	if (*s != '\0')
		return -1;
	tz->has_rule = 1;
	return 0;
}

/* The offset, dst flag and name in effect at t under the footer's rule. */
static void
rule_at(const struct daytime_tz *tz, time_t t, long *off, int *isdst,
    const char **name)
{
	long long	 start, end;
	struct tm	 tm;
	time_t		 st;

	*off = tz->std_off;
	*isdst = 0;
	*name = tz->std_name;
	if (!tz->rule_dst)
		return;
	/* Both transitions of the standard-time year; for the southern
	 * hemisphere end comes before start and DST spans the new year. */
	st = t + tz->std_off;
	if (gmtime_r(&st, &tm) == NULL)
		return;
	start = rule_local(&tz->start, tm.tm_year + 1900LL) - tz->std_off;
	end = rule_local(&tz->end, tm.tm_year + 1900LL) - tz->dst_off;
	if (start < end ? (t >= start && t < end) : !(t >= end && t < start)) {
		*off = tz->dst_off;
		*isdst = 1;
		*name = tz->dst_name;
	}
}

void
daytime_tz_time(const struct daytime_tz *tz, time_t t, struct tm *tm)
{
	const struct daytime_ttype *tt;
	const char	*name;
	size_t		 lo, hi, mid;
	long		 off;
	int		 isdst;
	time_t		 lt;

	memset(tm, 0, sizeof(*tm));
	if (tz->kind == DAYTIME_TZ_LOCAL) {
		(void)localtime_r(&t, tm);
		return;
	}
	if (tz->kind == DAYTIME_TZ_UTC) {
		(void)gmtime_r(&t, tm);
		tm->tm_zone = "UTC";
		return;
	}
	if ((tz->ntrans == 0 || t >= tz->trans[tz->ntrans - 1]) &&
	    tz->has_rule)
		rule_at(tz, t, &off, &isdst, &name);
	else {
		if (tz->ntrans == 0 || t < tz->trans[0])
			tt = &tz->types[0];
		else {
			/* The last transition at or before t. */
			lo = 0;
			hi = tz->ntrans;
			while (hi - lo > 1) {
				mid = lo + (hi - lo) / 2;
				if (tz->trans[mid] <= t)
					lo = mid;
				else
					hi = mid;
			}
			tt = &tz->types[tz->trans_type[lo]];
		}
		off = tt->utoff;
		isdst = tt->isdst;
		name = tz->abbrs + tt->abbr;
	}
	if (__builtin_add_overflow(t, off, &lt))
		lt = t;
	(void)gmtime_r(&lt, tm);
	tm->tm_isdst = isdst;
	tm->tm_gmtoff = off;
	tm->tm_zone = name;
}

/* Reads a TZif file (RFC 8536) of version 1 or later into tz. */
static const char *
tzif_parse(struct daytime_tz *tz, const unsigned char *p, size_t len)
{
	uint32_t	 isut, isstd, leap, timecnt, typecnt, charcnt;
	size_t		 tsize = 4, body, i, off;
	const unsigned char *q, *e;

	for (;;) {
		if (len < 44 || memcmp(p, "TZif", 4) != 0)
			return "not a TZif time zone file";
		isut = be32(p + 20);
		isstd = be32(p + 24);
		leap = be32(p + 28);
		timecnt = be32(p + 32);
		typecnt = be32(p + 36);
		charcnt = be32(p + 40);
		if (timecnt > 1 << 20 || typecnt == 0 || typecnt > 256 ||
		    charcnt == 0 || charcnt > 1 << 16 || leap > 1 << 16 ||
		    isstd > typecnt || isut > typecnt)
			return "corrupt TZif header";
		body = timecnt * (tsize + 1) + typecnt * 6 + charcnt +
		    leap * (tsize + 4) + isstd + isut;
		if (len - 44 < body)
			return "truncated TZif file";
		/* Version 2+ repeats everything with 64-bit times. */
		if (p[4] == '\0' || tsize == 8)
			break;
		p += 44 + body;
		len -= 44 + body;
		tsize = 8;
	}
	if (leap > 0)
		return "leap second (\"right/\") zones are not supported";
	tz->trans = calloc(timecnt ? timecnt : 1, sizeof(*tz->trans));
	tz->trans_type = calloc(timecnt ? timecnt : 1, 1);
	tz->types = calloc(typecnt, sizeof(*tz->types));
	tz->abbrs = calloc(charcnt + 1, 1);
	if (!tz->trans || !tz->trans_type || !tz->types || !tz->abbrs)
		return "out of memory";
	q = p + 44;
	for (i = 0; i < timecnt; i++, q += tsize)
		tz->trans[i] = tsize == 8 ?
		    (int64_t)((uint64_t)be32(q) << 32 | be32(q + 4)) :
		    (int32_t)be32(q);
	for (i = 0; i < timecnt; i++, q++) {
		if (*q >= typecnt)
			return "corrupt TZif transition";
		tz->trans_type[i] = *q;
	}
	for (i = 0; i < typecnt; i++, q += 6) {
		tz->types[i].utoff = (int32_t)be32(q);
		tz->types[i].isdst = q[4] != 0;
		if ((tz->types[i].abbr = q[5]) >= charcnt)
			return "corrupt TZif time type";
	}
	memcpy(tz->abbrs, q, charcnt);
	tz->ntrans = timecnt;
	tz->ntypes = typecnt;
	tz->abbrslen = charcnt;
	/* The footer: "\n" TZ-string "\n", describing later times. */
	off = 44 + body;
	if (tsize == 8 && len > off + 1 && p[off] == '\n' &&
	    (e = memchr(p + off + 1, '\n', len - off - 1)) != NULL &&
	    e > p + off + 1) {
		char	 rule[128];
		size_t	 n = e - (p + off + 1);

		if (n < sizeof(rule)) {
			memcpy(rule, p + off + 1, n);
			rule[n] = '\0';
			(void)daytime_tz_parse_rule(tz, rule);
		}
	}
	return NULL;
}

static int
tz_name_ok(const char *name)
{
	const char	*s;

	if (*name == '\0' || *name == '/' || *name == '.' ||
	    strlen(name) > 200 || strstr(name, "..") != NULL ||
	    strstr(name, "/.") != NULL)
		return 0;
	for (s = name; *s != '\0'; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		    (*s >= '0' && *s <= '9') || strchr("_+-./", *s) != NULL))
			return 0;
	return 1;
}

const char *
daytime_tz_load(struct daytime_tz *tz, const char *name)
{
	char		 path[256];
	unsigned char	*buf = NULL;
	const char	*err = NULL;
	struct stat	 sb;
	ssize_t		 n;
	size_t		 len = 0;
	int		 fd;

	memset(tz, 0, sizeof(*tz));
	if (strcmp(name, "local") == 0) {
		tz->kind = DAYTIME_TZ_LOCAL;
		return NULL;
	}
	if (strcmp(name, "UTC") == 0) {
		tz->kind = DAYTIME_TZ_UTC;
		return NULL;
	}
	tz->kind = DAYTIME_TZ_ZONE;
	if (!tz_name_ok(name)) {
		snprintf(daytime_err, sizeof(daytime_err), "timezone \"%.64s\""
		    " is not \"local\", \"UTC\" or a zone name such as "
		    "\"Europe/Paris\"", name);
		return daytime_err;
	}
	snprintf(path, sizeof(path), "%s%s", DAYTIME_ZONEINFO, name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1 ||
	    fstat(fd, &sb) == -1) {
		snprintf(daytime_err, sizeof(daytime_err),
		    "timezone: %s: %s", path, strerror(errno));
		if (fd != -1)
			close(fd);
		return daytime_err;
	}
	if (!S_ISREG(sb.st_mode) || sb.st_size > DAYTIME_TZIF_MAX)
		err = "not a time zone file";
	else if ((buf = malloc(sb.st_size + 1)) == NULL)
		err = "out of memory";
	while (err == NULL && len < (size_t)sb.st_size) {
		if ((n = read(fd, buf + len, sb.st_size - len)) <= 0) {
			err = n == 0 ? "short read" : strerror(errno);
			break;
		}
		len += n;
	}
	close(fd);
	if (err == NULL)
		err = tzif_parse(tz, buf, len);
	free(buf);
	if (err != NULL) {
		daytime_tz_free(tz);
		snprintf(daytime_err, sizeof(daytime_err),
		    "timezone: %s: %s", path, err);
		return daytime_err;
	}
	return NULL;
}

void
daytime_tz_free(struct daytime_tz *tz)
{
	free(tz->trans);
	free(tz->trans_type);
	free(tz->types);
	free(tz->abbrs);
	tz->trans = NULL;
	tz->trans_type = NULL;
	tz->types = NULL;
	tz->abbrs = NULL;
	tz->ntrans = tz->ntypes = tz->abbrslen = 0;
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
    time_t t, const struct daytime_tz *tz)
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
	if (tz->kind == DAYTIME_TZ_LOCAL) {
		memcpy(f, fmt, fmtlen);
		f[fmtlen] = '\0';
	} else if (expand_epoch(f, fmt, fmtlen, t, outsz, daytime_c) == -1)
		goto out;
	daytime_tz_time(tz, t, &tm);
	n = strftime_l(out, outsz, f, &tm, daytime_c);
out:
	if (f != small)
		free(f);
	return n;
}

/* NULL when fmt gives output that fits a TCP reply, else why not. */
static const char *
daytime_check(const char *name, const char *fmt, const struct daytime_tz *tz)
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
	if ((err = daytime_tz_load(&st->tz, zone)) != NULL) {
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
		daytime_tz_free(&st->tz);
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
	daytime_tz_free(&st->tz);
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
