/*
 * whoami: a test plugin, built as whoami.so.  A TCP line service that
 * greets each connection with the address sockd gives it, as
 * sockd_conn_peer() and sockd_conn_peer_addr() tell it ("you are
 * 127.0.0.5:41234 inet\n"), and answers every line with the peer and
 * the line ("127.0.0.5:41234 said hello\n"), so that a test sees which
 * address the handler was handed and which bytes were the client's.
 * The line "peers" is answered with how many other connections
 * sockd_conn_foreach_peer() shows ("2 peers\n").
 */
#include <sys/socket.h>

#include <stdio.h>
#include <string.h>

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
count_one(struct sockd_conn *peer, void *arg)
{
	(void)peer;
	(*(unsigned int *)arg)++;
}

static void
whoami_data(struct sockd_conn *c, const char *buf, size_t len)
{
	char out[128];
	unsigned int peers = 0;
	int n;

	if (len == 6 && memcmp(buf, "peers\n", 6) == 0) {
		sockd_conn_foreach_peer(c, count_one, &peers);
		n = snprintf(out, sizeof(out), "%u peers\n", peers);
		(void)sockd_conn_write(c, out, (size_t)n);
		return;
	}
	n = snprintf(out, sizeof(out), "%s said ", sockd_conn_peer(c));
	if (sockd_conn_write(c, out, (size_t)n) == 0)
		(void)sockd_conn_write(c, buf, len);
}

const struct sockd_handler sockd_handler_whoami = {
	.abi_version = SOCKD_ABI_VERSION, .name = "whoami",
	.protocols = SOCKD_TCP, .flags = SOCKD_LINES,
	.tcp_connect = whoami_connect, .tcp_data = whoami_data,
};
