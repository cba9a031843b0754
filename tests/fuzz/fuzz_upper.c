/*
 * libFuzzer harness for upper_utf8(): the output must fit the documented
 * room (the buffer is exactly that big, so ASan sees any overflow), ASCII
 * must map as toupper() in the C locale would, and upper-casing twice must
 * change nothing more.
 */
/* fuzz-sources: handlers/upper.c tests/unit/fake_conn.c */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "upper.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*a, *b;
	size_t	 n, m, i;

	if ((a = malloc(UPPER_OUTMAX(size) + 1)) == NULL)
		return 0;
	n = upper_utf8(a, (const char *)data, size);
	if (n > UPPER_OUTMAX(size))
		abort();
	for (i = 0; i < size && i < n && data[i] < 0x80; i++)
		if (a[i] != (data[i] >= 'a' && data[i] <= 'z' ?
		    data[i] - 32 : data[i]))
			abort();
	if ((b = malloc(UPPER_OUTMAX(n) + 1)) == NULL) {
		free(a);
		return 0;
	}
	m = upper_utf8(b, a, n);
	if (m != n || memcmp(a, b, n) != 0)
		abort();
	free(a);
	free(b);
	return 0;
}
