/*
 * whoami: a test plugin, built as whoami.so.  A TCP line service that
 * greets each connection with the address sockd gives it, as
 * sockd_conn_peer() and sockd_conn_peer_addr() tell it ("you are
 * 127.0.0.5:41234 inet\n"), and answers every line with the peer and
 * the line ("127.0.0.5:41234 said hello\n"), so that a test sees which
 * address the handler was handed and which bytes were the client's.
 */
#include <sys/socket.h>

#include <stdio.h>

#include <sockd/handler.h>

static const char *
family(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return "inet";
	if (sa->sa_family == AF_INET6)
		return "inet6";
	return "other";
}

static int
whoami_connect(struct sockd_conn *c)
{
	char out[128];
	int n;

	n = snprintf(out, sizeof(out), "you are %s %s\n", sockd_conn_peer(c),
	    family(sockd_conn_peer_addr(c)));
	return sockd_conn_write(c, out, (size_t)n);
}

static void
whoami_data(struct sockd_conn *c, const char *buf, size_t len)
{
	char out[128];
	int n;

	n = snprintf(out, sizeof(out), "%s said ", sockd_conn_peer(c));
	if (sockd_conn_write(c, out, (size_t)n) == 0)
		(void)sockd_conn_write(c, buf, len);
}

const struct sockd_handler sockd_handler_whoami = {
	.abi_version = SOCKD_ABI_VERSION, .name = "whoami",
	.protocols = SOCKD_TCP, .flags = SOCKD_LINES,
	.tcp_connect = whoami_connect, .tcp_data = whoami_data,
};
