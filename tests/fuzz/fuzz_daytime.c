/*
 * libFuzzer harness for daytime's pure functions: a hostile strftime format
 * into a buffer of a hostile size, in UTC, the local zone, a zone read from
 * zoneinfo, or a zone whose POSIX TZ rule is the input itself.
 *
 * Input: byte 0 picks the zone, bytes 1-2 the buffer size (1-4096), bytes
 * 3-6 a time offset; the rest is the format (or the rule).  The rest also
 * goes to the handler as a UDP datagram, whose reply must fit the guard,
 * and which must get the default format's date when it holds no
 * conversion: plain text is never sent back as it came.
 */
/* fuzz-sources: handlers/daytime.c handlers/tz.c tests/unit/fake_conn.c */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../unit/fake_conn.h"
#include "daytime.h"
#include "tz.h"

extern const struct sockd_handler sockd_handler_daytime;

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* The datagram path of a UTC daytime service configured once. */
static void
fuzz_datagram(const char *buf, size_t len)
{
	static void		*ps;
	struct sockd_opts	*o;
	struct sockd_dgram	*d;
	size_t			 max, n = len;

	if (ps == NULL) {
		o = fake_opts_new("timezone", "UTC", NULL);
		if (sockd_handler_daytime.configure(o, &ps) != NULL)
			abort();
		fake_opts_free(o);
	}
	max = len + 64 > 1472 ? 1472 : len + 64;
	d = fake_dgram_new(ps, NULL, max);
	sockd_handler_daytime.udp_datagram(d, buf, len);
	if (fake_dgram_refused(d) != 0 || fake_dgram_reply_len(d) > max ||
	    fake_dgram_replies(d) + fake_dgram_dropped(d) != 1)
		abort();
	if (n > 0 && buf[n - 1] == '\n')
		n--;
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	/* "%Y-%m-%d %X": 19 bytes. */
	if (!daytime_is_format(buf, n) && fake_dgram_reply_len(d) != 19)
		abort();
	fake_dgram_free(d);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tz zones[3];
	static int	 loaded;
	struct tz rule, *tz;
	struct tm	 tm;
	const char	*f = (const char *)data + 7;
	size_t		 outsz, n, flen;
	int32_t		 delta;
	time_t		 t;
	char		*out, *s;

	if (size < 7)
		return 0;
	flen = size - 7;
	fuzz_datagram(f, flen);
	if (!loaded) {
		zones[0].kind = TZ_UTC;
		zones[1].kind = TZ_LOCAL;
		if (tz_load(&zones[2], "America/Santiago") != NULL)
			abort();
		loaded = 1;
	}
	outsz = 1 + ((data[1] << 8 | data[2]) & 0xfff);
	delta = (int32_t)((uint32_t)data[3] << 24 | data[4] << 16 |
	    data[5] << 8 | data[6]);
	t = 1795320860 + (time_t)delta * 7;
	tz = &zones[data[0] % 3];
	if (data[0] % 4 == 3) {
		/* The rest is a POSIX TZ rule, then "%c %Z %z %s". */
		if ((s = malloc(size - 6)) == NULL)
			return 0;
		memcpy(s, data + 7, size - 7);
		s[size - 7] = '\0';
		memset(&rule, 0, sizeof(rule));
		rule.kind = TZ_ZONE;
		if (tz_parse_rule(&rule, s) == 0) {
			tz_time(&rule, t, &tm);
			if (tm.tm_gmtoff < -7 * 86400 ||
			    tm.tm_gmtoff > 7 * 86400)
				abort();
			tz = &rule;
		}
		free(s);
		if (tz != &rule)
			return 0;
		f = "%c %Z %z %s";
		flen = strlen(f);
	}
	/* Exactly outsz bytes, so that ASan sees one byte too many. */
	if ((out = malloc(outsz)) == NULL)
		return 0;
	n = daytime_format(out, outsz, f, flen, t, tz);
	if (n >= outsz || (n > 0 && out[n] != '\0'))
		abort();
	free(out);
	return 0;
}
