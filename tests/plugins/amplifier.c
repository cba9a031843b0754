/*
 * amplifier: a test plugin that tries to make sockd an amplifier.  Each
 * datagram is sent back "copies" times (default 100) to its sender, and
 * as many times to the sender's address on port "also_to_port" when that
 * option is set, as a relay to a victim would.  Every send's outcome is
 * ignored: the daemon's per-datagram budget decides what goes out.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include <sockd/handler.h>

static const char *const amplifier_options[] = { "copies",
    "also_to_port", NULL };

struct amplifier {
	long long	 copies;
	long long	 also_to_port;
};

static const char *
amplifier_configure(const struct sockd_opts *opts, void **port_state)
{
	struct amplifier *a;
	long long copies = sockd_opt_int(opts, "copies", 100);
	long long port = sockd_opt_int(opts, "also_to_port", 0);

	if (copies < 0 || copies > 100000 || port < 0 || port > 65535)
		return "copies or also_to_port out of range";
	if ((a = malloc(sizeof(*a))) == NULL)
		return "out of memory";
	a->copies = copies;
	a->also_to_port = port;
	*port_state = a;
	return NULL;
}

static void
amplifier_unconfigure(void *port_state)
{
	free(port_state);
}

static void
amplifier_datagram(struct sockd_dgram *d, const char *buf, size_t len)
{
	const struct amplifier *a = sockd_dgram_port_state(d);
	struct sockaddr_storage to;
	long long i;

	memset(&to, 0, sizeof(to));
	memcpy(&to, sockd_dgram_peer_addr(d),
	    sockd_dgram_peer_addr(d)->sa_family == AF_INET6 ?
	    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
	if (to.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&to)->sin6_port =
		    htons((uint16_t)a->also_to_port);
	else
		((struct sockaddr_in *)&to)->sin_port =
		    htons((uint16_t)a->also_to_port);
	for (i = 0; i < a->copies; i++) {
		(void)sockd_dgram_reply(d, buf, len);
		if (a->also_to_port != 0)
			(void)sockd_dgram_send_to(d, (struct sockaddr *)&to,
			    buf, len);
	}
}

const struct sockd_handler sockd_handler_amplifier = {
	.abi_version = SOCKD_ABI_VERSION, .name = "amplifier",
	.protocols = SOCKD_UDP, .options = amplifier_options,
	.configure = amplifier_configure,
	.unconfigure = amplifier_unconfigure,
	.udp_datagram = amplifier_datagram,
};
