/*
 * libFuzzer harness for chat_bus_decode(): events come from the bus, which
 * anyone who can reach Redis can write to.  The input is copied to a
 * buffer of exactly its size (ASan sees any read past it); an event that
 * decodes must have a valid nick, text within the input, a known kind,
 * and must encode back to the same bytes.
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
	struct chat_bus_event	 e;
	char			*in, *out;
	size_t			 n;

	if ((in = malloc(size + 1)) == NULL)
		return 0;
	memcpy(in, data, size);
	if (chat_bus_decode(in, size, &e) == 0) {
		if (!chat_nick_valid(e.nick, strlen(e.nick)) ||
		    e.text < in || e.text + e.textlen != in + size ||
		    e.textlen > CHAT_BUS_TEXT_MAX || strchr("TMJLNWP",
		    e.kind) == NULL || e.kind == 0)
			abort();
		if ((out = malloc(size)) != NULL) {
			n = chat_bus_encode(out, size, &e);
			/* The decoder takes "0042" as 42; the encoder
			 * writes 42: only a canonical input comes back. */
			if (n > size || (n == size &&
			    memcmp(out, in, n) != 0))
				abort();
			free(out);
		}
	}
	free(in);
	return 0;
}
