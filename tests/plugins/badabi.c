/*
 * badabi: a test plugin built for handler ABI 2.0, a major this sockd does
 * not speak.  sockd must refuse it, naming the file, before reading any
 * other field.
 */
#include <sockd/handler.h>

const struct sockd_handler sockd_handler_badabi = {
	.abi_version = (2 << 16) | 0, .name = "badabi",
	.protocols = SOCKD_TCP,
};
