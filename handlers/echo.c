/*
 * echo (RFC 862): send back every byte that arrives, over TCP and UDP.
 * TCP input is not line-framed: bytes go back as they come, and sockd's
 * half-close handling returns the last of them after the peer's FIN.
 */
#include <sockd/handler.h>

static void
echo_data(struct sockd_conn *c, const char *buf, size_t len)
{
	/* On failure sockd has logged it and is closing c: nothing to undo. */
	(void)sockd_conn_write(c, buf, len);
}

static void
echo_datagram(struct sockd_dgram *d, const char *buf, size_t len)
{
	(void)sockd_dgram_reply(d, buf, len);
}

const struct sockd_handler sockd_handler_echo = {
	.abi_version = SOCKD_ABI_VERSION, .name = "echo",
	.protocols = SOCKD_TCP | SOCKD_UDP,
	.tcp_data = echo_data, .udp_datagram = echo_datagram,
};
