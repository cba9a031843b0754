/*
 * libFuzzer harness for chat_member_decode(): a room's members are read
 * from a Redis sorted set, which anyone who can reach Redis can write to.
 * The input is copied to a buffer of exactly its size (ASan sees any read
 * past it); a member that decodes must have a valid nick, and must encode
 * back to the same bytes when the input was canonical.
 */
/* fuzz-sources: handlers/chat.c handlers/text.c handlers/ring.c */
/* fuzz-sources: handlers/peers.c tests/unit/fake_conn.c */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chat.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned long long	 host, id;
	char			 nick[CHAT_NICK_MAX + 1], out[64], *in;
	size_t			 n;

	if ((in = malloc(size > 0 ? size : 1)) == NULL)
		return 0;
	memcpy(in, data, size);
	if (chat_member_decode(in, size, &host, &id, nick) == 0) {
		if (!chat_nick_valid(nick, strlen(nick)))
			abort();
		n = chat_member_encode(out, sizeof(out), host, id, nick);
		/* "0042" reads as 42, written as 42: only a canonical
		 * input comes back as it was. */
		if (n == 0 || n > size || (n == size && memcmp(out, in, n)
		    != 0))
			abort();
	}
	free(in);
	return 0;
}
