/*
 * newminor: a test plugin claiming handler ABI 1.99, newer than this sockd:
 * it may rely on fields sockd does not know, so sockd must refuse it.
 */
#include <sockd/handler.h>

const struct sockd_handler sockd_handler_newminor = {
	.abi_version = (SOCKD_ABI_MAJOR << 16) | 99, .name = "newminor",
	.protocols = SOCKD_TCP,
};
