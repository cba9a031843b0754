/*
 * badconf: a test plugin whose configure refuses every "answer" option but
 * 42, with an error message.  sockd must report it as a config error with
 * the service's file:line (also for "sockd -t"), and serve the service
 * (echo over TCP) when the answer is right.
 */
#include <stdio.h>

#include <sockd/handler.h>

static const char *const badconf_options[] = { "answer", NULL };

static const char *
badconf_configure(const struct sockd_opts *opts, void **port_state)
{
	static char	 err[128];
	long long	 answer;

	*port_state = NULL;
	answer = sockd_opt_int(opts, "answer", 0);
	if (answer == 42)
		return NULL;
	snprintf(err, sizeof(err), "badconf: answer must be 42, not %lld",
	    answer);
	return err;
}

static void
badconf_data(struct sockd_conn *c, const char *buf, size_t len)
{
	(void)sockd_conn_write(c, buf, len);
}

const struct sockd_handler sockd_handler_badconf = {
	.abi_version = SOCKD_ABI_VERSION, .name = "badconf",
	.protocols = SOCKD_TCP, .options = badconf_options,
	.configure = badconf_configure, .tcp_data = badconf_data,
};
