/*
 * Fuzzes the spawner's decoders, its only input from the rest of sockd:
 * a spawn request and a bind request.  Whatever decodes must be what the
 * spawner may act on (strings inside the message and NUL-terminated,
 * counts within their maximum; a TCP or UDP socket on an IPv4 or IPv6
 * address with a port), and encode back to a message that decodes the
 * same.
 */
/* fuzz-sources: daemon/spawnmsg.c */
#include <netinet/in.h>
#include <sys/socket.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "spawnmsg.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_bind(const uint8_t *data, size_t size)
{
	struct spawn_bind b, again;
	char buf[256];
	size_t n;

	if (spawnmsg_decode_bind(&b, data, size) == -1)
		return;
	if ((b.proto != SPAWN_BIND_TCP && b.proto != SPAWN_BIND_UDP) ||
	    (b.flags & ~(uint32_t)(SPAWN_BIND_REUSEPORT | SPAWN_BIND_V6ONLY)))
		abort();
	if (b.addr.sa.sa_family == AF_INET) {
		if (b.addrlen != sizeof(struct sockaddr_in) ||
		    (b.flags & SPAWN_BIND_V6ONLY) || b.addr.sin.sin_port == 0)
			abort();
	} else if (b.addr.sa.sa_family != AF_INET6 ||
	    b.addrlen != sizeof(struct sockaddr_in6) ||
	    b.addr.sin6.sin6_port == 0)
		abort();
	if ((n = spawnmsg_encode_bind(&b, buf, sizeof(buf))) != size ||
	    spawnmsg_decode_bind(&again, buf, n) != 0 ||
	    memcmp(&b, &again, sizeof(b)) != 0)
		abort();
}

/* 1 when s is a NUL-terminated string inside data. */
static int
inside(const char *s, const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;

	return s >= p && s < p + size && memchr(s, '\0',
	    (size_t)(p + size - s)) != NULL;
}

static void
check_spawn(const uint8_t *data, size_t size)
{
	static struct spawn_spec sp, again;
	static char buf[SPAWN_MSG_MAX];
	uint32_t i;
	size_t n;

	if (size > SPAWN_MSG_MAX || spawnmsg_decode(&sp, data, size) == -1)
		return;
	if (sp.argc < 1 || sp.argc > SPAWN_MAX_ARGS ||
	    sp.nenv > SPAWN_MAX_ENV || sp.ngroups > SPAWN_MAX_GROUPS ||
	    sp.nrlim > SPAWN_MAX_RLIM || sp.err > SPAWN_ERR_NULL ||
	    !inside(sp.dir, data, size) || sp.argv[sp.argc] != NULL ||
	    sp.env[sp.nenv] != NULL)
		abort();
	for (i = 0; i < sp.argc; i++)
		if (!inside(sp.argv[i], data, size))
			abort();
	for (i = 0; i < sp.nenv; i++)
		if (!inside(sp.env[i], data, size))
			abort();
	if ((n = spawnmsg_encode(&sp, buf, sizeof(buf))) != size ||
	    spawnmsg_decode(&again, buf, n) != 0 || again.argc != sp.argc ||
	    again.nenv != sp.nenv || strcmp(again.dir, sp.dir) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_bind(data, size);
	check_spawn(data, size);
	return 0;
}
