/*
 * tz: time zones for the handlers that format times (daytime), resolved
 * once, at configure time, and never through TZ: setenv() while other
 * threads format times is a data race, and it would also change the
 * daemon's own log times.  "local" is localtime_r(), "UTC" gmtime_r(); an
 * IANA name is read from its TZif file under /usr/share/zoneinfo: its
 * transition table, then the POSIX TZ rule of the file's footer for times
 * after the last transition (RFC 8536).  The result is a struct tm with
 * tm_gmtoff and tm_zone set, which is all strftime needs for %z and %Z.
 *
 * The calendar arithmetic is done here rather than by mktime() or timegm(),
 * which would read the process's zone: a rule such as "M3.5.0/2" is turned
 * into local seconds of a given year by days_from_civil(), in the proleptic
 * Gregorian calendar.  Zone names are checked before they are joined to the
 * zoneinfo directory, so that a configured name cannot leave it.
 */
/* Built into a .so, this file may not get the Makefile's -D_GNU_SOURCE;
 * tm_gmtoff and tm_zone need it. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tz.h"

#define TZ_ZONEINFO	"/usr/share/zoneinfo/"
#define TZ_TZIF_MAX	(1024 * 1024)

static char		 tz_err[640];

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
rule_local(const struct tz_rule *r, long long y)
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
parse_rule(const char **sp, struct tz_rule *r)
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
tz_parse_rule(struct tz *tz, const char *s)
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
rule_at(const struct tz *tz, time_t t, long *off, int *isdst,
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
tz_time(const struct tz *tz, time_t t, struct tm *tm)
{
	const struct tz_ttype *tt;
	const char	*name;
	size_t		 lo, hi, mid;
	long		 off;
	int		 isdst;
	time_t		 lt;

	memset(tm, 0, sizeof(*tm));
	if (tz->kind == TZ_LOCAL) {
		(void)localtime_r(&t, tm);
		return;
	}
	if (tz->kind == TZ_UTC) {
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
tzif_parse(struct tz *tz, const unsigned char *p, size_t len)
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
			(void)tz_parse_rule(tz, rule);
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
tz_load(struct tz *tz, const char *name)
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
		tz->kind = TZ_LOCAL;
		return NULL;
	}
	if (strcmp(name, "UTC") == 0) {
		tz->kind = TZ_UTC;
		return NULL;
	}
	tz->kind = TZ_ZONE;
	if (!tz_name_ok(name)) {
		snprintf(tz_err, sizeof(tz_err), "timezone \"%.64s\""
		    " is not \"local\", \"UTC\" or a zone name such as "
		    "\"Europe/Paris\"", name);
		return tz_err;
	}
	snprintf(path, sizeof(path), "%s%s", TZ_ZONEINFO, name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1 ||
	    fstat(fd, &sb) == -1) {
		snprintf(tz_err, sizeof(tz_err),
		    "timezone: %s: %s", path, strerror(errno));
		if (fd != -1)
			close(fd);
		return tz_err;
	}
	if (!S_ISREG(sb.st_mode) || sb.st_size > TZ_TZIF_MAX)
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
		tz_free(tz);
		snprintf(tz_err, sizeof(tz_err),
		    "timezone: %s: %s", path, err);
		return tz_err;
	}
	return NULL;
}

void
tz_free(struct tz *tz)
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
