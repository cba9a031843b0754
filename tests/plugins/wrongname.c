/*
 * wrongname: a test plugin in wrongname.so whose handler calls itself
 * "other".  The name must equal the file name, so sockd refuses it.
 */
#include <sockd/handler.h>

const struct sockd_handler sockd_handler_wrongname = {
	.abi_version = SOCKD_ABI_VERSION, .name = "other",
	.protocols = SOCKD_TCP,
};
