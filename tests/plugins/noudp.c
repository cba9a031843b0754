/*
 * noudp: a test plugin that claims UDP but has no udp_datagram callback.
 * sockd must refuse it rather than call a NULL pointer on the first
 * datagram.
 */
#include <sockd/handler.h>

static void
noudp_data(struct sockd_conn *c, const char *buf, size_t len)
{
	(void)sockd_conn_write(c, buf, len);
}

const struct sockd_handler sockd_handler_noudp = {
	.abi_version = SOCKD_ABI_VERSION, .name = "noudp",
	.protocols = SOCKD_TCP | SOCKD_UDP,
	.tcp_data = noudp_data,
};
