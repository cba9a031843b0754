/*
 * A time zone resolved once, at configure time, so that turning a time into
 * a struct tm never reads the environment: "local" uses localtime_r(), "UTC"
 * gmtime_r(), and an IANA name the zone's TZif file read from
 * /usr/share/zoneinfo (its transitions, then the POSIX TZ rule of its
 * footer for times after the last one).
 */
#ifndef SOCKD_HANDLERS_TZ_H
#define SOCKD_HANDLERS_TZ_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define TZ_LOCAL	0
#define TZ_UTC		1
#define TZ_ZONE		2

struct tz_rule {			/* one POSIX TZ "start" or "end" */
	int		 kind;		/* 'J', 'D' (plain n) or 'M' */
	int		 mon, week, day;	/* M: month, week, weekday */
	long		 secs;		/* time of day, may be < 0 or > 24h */
};

struct tz {
	int		 kind;		/* TZ_* */
	/* TZ_ZONE: the TZif v2+ 64-bit body */
	int64_t		*trans;		/* transition times, ascending */
	unsigned char	*trans_type;	/* index into types, per transition */
	size_t		 ntrans;
	struct tz_ttype {
		long	 utoff;		/* seconds east of UTC */
		int	 isdst;
		size_t	 abbr;		/* offset into abbrs */
	}		*types;
	size_t		 ntypes;
	char		*abbrs;		/* NUL-separated abbreviations */
	size_t		 abbrslen;
	/* The footer's rule; has_rule == 0 when absent or unusable. */
	int		 has_rule, rule_dst;
	char		 std_name[16], dst_name[16];
	long		 std_off, dst_off;	/* seconds east of UTC */
	struct tz_rule	 start, end;
};

/* Resolves "local", "UTC" or an IANA name into *tz; returns NULL or an error
 * message in a static buffer.  tz_free() frees what it allocated. */
const char	*tz_load(struct tz *, const char *);
void		 tz_free(struct tz *);
/* Parses a POSIX TZ string such as "CET-1CEST,M3.5.0,M10.5.0/3"; 0 or -1. */
int		 tz_parse_rule(struct tz *, const char *);
/* Broken-down time of t in tz; tm_zone points into tz or a literal. */
void		 tz_time(const struct tz *, time_t, struct tm *);

#endif /* SOCKD_HANDLERS_TZ_H */
