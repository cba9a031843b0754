/*
 * time (RFC 868): the time as 32 bits of seconds since 1900-01-01 00:00 UTC,
 * in network byte order.  The count wraps modulo 2^32 (in 2036), as the
 * other implementations do, so that clients keep working across the wrap
 * by assuming the nearest era.  TCP sends it and closes; UDP answers any
 * datagram, its 4 bytes always fit sockd's growth guard.
 */
#include <stdint.h>
#include <time.h>

#include <sockd/handler.h>

#include "rfc868.h"

void
time_rfc868(unsigned char out[4], time_t now)
{
	/* Unsigned conversion is the modulo 2^32 the RFC's users expect. */
	uint32_t	 v = (uint32_t)((int64_t)now + TIME_RFC868_OFFSET);

	out[0] = v >> 24;
	out[1] = v >> 16;
	out[2] = v >> 8;
	out[3] = v;
}

static int
time_connect(struct sockd_conn *c)
{
	unsigned char	 buf[4];

	time_rfc868(buf, time(NULL));
	(void)sockd_conn_write(c, buf, sizeof(buf));
	sockd_conn_close(c);
	return 0;
}

static void
time_datagram(struct sockd_dgram *d, const char *buf, size_t len)
{
	unsigned char	 out[4];

	(void)buf;
	(void)len;
	time_rfc868(out, time(NULL));
	(void)sockd_dgram_reply(d, out, sizeof(out));
}

const struct sockd_handler sockd_handler_time = {
	.abi_version = SOCKD_ABI_VERSION, .name = "time",
	.protocols = SOCKD_TCP | SOCKD_UDP,
	.tcp_connect = time_connect, .udp_datagram = time_datagram,
};
