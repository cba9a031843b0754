/*
 * Fuzzes the configuration loader: any bytes as a config file must give
 * either a config or errors, never a crash, a leak or a hang.
 */
/* fuzz-sources: daemon/config.c daemon/opts.c daemon/util.c daemon/log.c */
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static int fd = -1;
	struct errlist errs = { 0 };
	struct config *c;
	char path[64];

	if (fd == -1 && (fd = memfd_create("sockd-fuzz", 0)) == -1)
		return 0;
	if (ftruncate(fd, 0) == -1 || pwrite(fd, data, len, 0) !=
	    (ssize_t)len)
		return 0;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	c = config_load(path, 10000, &errs);
	config_free(c);
	errlist_free(&errs);
	return 0;
}
