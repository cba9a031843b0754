/*
 * chargen (RFC 864): the 72-character lines of the 95 printable ASCII
 * characters, each starting one character further along the ring.
 *
 * TCP sends only as fast as the client reads: one batch of lines (about
 * 16 KiB) on connect and one in each tcp_drain, none while sockd still
 * queues bytes for the connection, so that sockd holds at most one batch
 * for it.  sockd calls tcp_drain when a queued write has completed, and on
 * the next loop turn after a write the kernel took at once, so a client
 * that keeps up gets one batch per loop turn and never holds the thread:
 * other clients are served in between.  The line number is the
 * connection's data itself (a small integer in the pointer), so nothing is
 * allocated and tcp_close has nothing to free.  Input is ignored.
 *
 * UDP answers each datagram with one line (74 bytes).  That is more than a
 * small request, so sockd's growth guard refuses it unless the service
 * allows amplification: UDP chargen is a classic reflection amplifier, and
 * the default config leaves it off for that reason.
 */
#include <stdatomic.h>
#include <stdint.h>

#include <sockd/handler.h>

#include "chargen.h"

/* About 16 KiB of lines per call: sockd calls tcp_drain again on the next
 * loop turn (or once queued bytes left), so other clients get their turn. */
#define CHARGEN_BATCH_LINES	221

static atomic_uint	 chargen_udp_line;

size_t
chargen_line(char *out, unsigned int n)
{
	unsigned int	 i, start = (1 + n) % CHARGEN_RING;

	for (i = 0; i < CHARGEN_WIDTH; i++)
		out[i] = ' ' + (start + i) % CHARGEN_RING;
	out[CHARGEN_WIDTH] = '\r';
	out[CHARGEN_WIDTH + 1] = '\n';
	return CHARGEN_LINE;
}

static void
chargen_drain(struct sockd_conn *c)
{
	char		 buf[CHARGEN_BATCH_LINES * CHARGEN_LINE];
	unsigned int	 n, i;

	/* Bytes still queued: tcp_drain comes back when they left. */
	if (sockd_conn_pending(c) > 0)
		return;
	n = (unsigned int)(uintptr_t)sockd_conn_data(c);
	for (i = 0; i < CHARGEN_BATCH_LINES; i++, n++)
		chargen_line(buf + i * CHARGEN_LINE, n % CHARGEN_RING);
	/* On failure sockd has logged it and is closing c. */
	(void)sockd_conn_write(c, buf, sizeof(buf));
	sockd_conn_set_data(c, (void *)(uintptr_t)(n % CHARGEN_RING));
}

static int
chargen_connect(struct sockd_conn *c)
{
	sockd_conn_set_data(c, NULL);
	chargen_drain(c);
	return 0;
}

static void
chargen_datagram(struct sockd_dgram *d, const char *buf, size_t len)
{
	char		 line[CHARGEN_LINE];
	unsigned int	 n;

	(void)buf;
	(void)len;
	n = atomic_fetch_add_explicit(&chargen_udp_line, 1,
	    memory_order_relaxed);
	chargen_line(line, n % CHARGEN_RING);
	/* Refused by the growth guard unless amplification is allowed. */
	(void)sockd_dgram_reply(d, line, sizeof(line));
}

const struct sockd_handler sockd_handler_chargen = {
	.abi_version = SOCKD_ABI_VERSION, .name = "chargen",
	.protocols = SOCKD_TCP | SOCKD_UDP,
	.tcp_connect = chargen_connect, .tcp_drain = chargen_drain,
	.udp_datagram = chargen_datagram,
};
