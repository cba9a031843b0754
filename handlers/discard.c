/*
 * discard (RFC 863): read everything, answer nothing.  The TCP side needs no
 * callback at all; UDP needs one so that the datagram is accepted.
 */
#include <sockd/handler.h>

static void
discard_datagram(struct sockd_dgram *d, const char *buf, size_t len)
{
	(void)d;
	(void)buf;
	(void)len;
}

const struct sockd_handler sockd_handler_discard = {
	.abi_version = SOCKD_ABI_VERSION, .name = "discard",
	.protocols = SOCKD_TCP | SOCKD_UDP,
	.udp_datagram = discard_datagram,
};
