/*
 * tcponly: a test plugin that serves TCP only (echo).  A service asking it
 * for UDP is a config error naming file and line.
 */
#include <sockd/handler.h>

static void
tcponly_data(struct sockd_conn *c, const char *buf, size_t len)
{
	(void)sockd_conn_write(c, buf, len);
}

const struct sockd_handler sockd_handler_tcponly = {
	.abi_version = SOCKD_ABI_VERSION, .name = "tcponly",
	.protocols = SOCKD_TCP, .tcp_data = tcponly_data,
};
