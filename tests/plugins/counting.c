/*
 * counting: a test plugin, built as counting.so.  A TCP line service that
 * counts the connections its tcp_connect accepted and the tcp_close calls
 * it got, logs each ("counting: connect N", "counting: close N", and
 * "counting: close without connect" when sockd closes a connection it
 * never handed over), and answers the line "stats" with
 * "connects N closes M".
 */
#include <stdio.h>
#include <syslog.h>

#include <sockd/handler.h>

static unsigned long	 connects, closes;
static int		 accepted;	/* the conn data of a handed-over one */

static int
counting_connect(struct sockd_conn *c)
{
	sockd_conn_set_data(c, &accepted);
	sockd_log(LOG_INFO, "counting: connect %lu", ++connects);
	return 0;
}

static void
counting_data(struct sockd_conn *c, const char *buf, size_t len)
{
	char	 out[64];
	int	 n;

	if (len >= 5 && buf[0] == 's' && buf[1] == 't' && buf[2] == 'a' &&
	    buf[3] == 't' && buf[4] == 's') {
		n = snprintf(out, sizeof(out), "connects %lu closes %lu\n",
		    connects, closes);
		(void)sockd_conn_write(c, out, (size_t)n);
	}
}

static void
counting_close(struct sockd_conn *c)
{
	if (sockd_conn_data(c) != &accepted)
		sockd_log(LOG_ERR, "counting: close without connect");
	sockd_log(LOG_INFO, "counting: close %lu", ++closes);
}

const struct sockd_handler sockd_handler_counting = {
	.abi_version = SOCKD_ABI_VERSION, .name = "counting",
	.protocols = SOCKD_TCP, .flags = SOCKD_LINES,
	.tcp_connect = counting_connect, .tcp_data = counting_data,
	.tcp_close = counting_close,
};
