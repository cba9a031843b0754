/*
 * misroute: a test plugin whose every datagram causes one send the kernel
 * refuses between two it takes.  It replies "<request>a", then sends to
 * ::1 (which a socket bound to an IPv4 address cannot reach: the kernel
 * says EAFNOSUPPORT), then replies "<request>b", so a batch of replies
 * holds a failure in its middle.
 */
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include <sockd/handler.h>

static void
misroute_datagram(struct sockd_dgram *d, const char *buf, size_t len)
{
	struct sockaddr_in6 to;
	char out[64];

	if (len > sizeof(out) - 1)
		len = sizeof(out) - 1;
	memcpy(out, buf, len);
	out[len] = 'a';
	(void)sockd_dgram_reply(d, out, len + 1);
	memset(&to, 0, sizeof(to));
	to.sin6_family = AF_INET6;
	to.sin6_addr = in6addr_loopback;
	to.sin6_port = htons(9999);
	(void)sockd_dgram_send_to(d, (struct sockaddr *)&to, "x", 1);
	out[len] = 'b';
	(void)sockd_dgram_reply(d, out, len + 1);
}

const struct sockd_handler sockd_handler_misroute = {
	.abi_version = SOCKD_ABI_VERSION, .name = "misroute",
	.protocols = SOCKD_UDP, .udp_datagram = misroute_datagram,
};
