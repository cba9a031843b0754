/*
 * A plugin whose configure() hangs: the configuration check of a reload
 * naming it runs long, and stopping the daemon meanwhile must not wait
 * for it, nor leave the check behind.
 */
#include <unistd.h>

#include <sockd/handler.h>

static const char *
hang_configure(const struct sockd_opts *o, void **state)
{
	(void)o;
	(void)state;
	sleep(120);
	return "not reached";
}

const struct sockd_handler sockd_handler_hangconf = {
	.abi_version = SOCKD_ABI_VERSION, .name = "hangconf",
	.protocols = SOCKD_TCP, .configure = hang_configure,
};
