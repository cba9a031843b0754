/*
 * A plugin whose configure() crashes: a reload naming it must be refused
 * by the configuration check in a child, and the daemon must go on.
 */
#include <signal.h>

#include <sockd/handler.h>

static const char *
crash_configure(const struct sockd_opts *o, void **state)
{
	(void)o;
	(void)state;
	raise(SIGSEGV);
	return "not reached";
}

const struct sockd_handler sockd_handler_crashconf = {
	.abi_version = SOCKD_ABI_VERSION, .name = "crashconf",
	.protocols = SOCKD_TCP, .configure = crash_configure,
};
