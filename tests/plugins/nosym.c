/*
 * nosym: a test plugin that loads but exports no sockd_handler_nosym, only
 * a handler under another symbol.  sockd must refuse it, naming the file,
 * and must not go looking for other symbols.
 */
#include <sockd/handler.h>

const struct sockd_handler sockd_handler_nosym_typo = {
	.abi_version = SOCKD_ABI_VERSION, .name = "nosym",
	.protocols = SOCKD_TCP,
};
