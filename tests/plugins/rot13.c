/*
 * rot13: a test plugin, built as rot13.so and loaded from handler_dir by the
 * end-to-end suite.  A TCP line service (each line back in rot13 with its
 * line ending) and a UDP service (each datagram back in rot13).  The option
 * "frame" (bool) wraps what each tcp_data call brings in "[" and "]", so a
 * test can see how sockd cut the input: whole lines, max_line pieces, the
 * unterminated last line before EOF.
 */
#include <stdint.h>
#include <stdlib.h>

#include <sockd/handler.h>

static const char *const rot13_options[] = { "frame", NULL };

static char
rot13_char(char c)
{
	if (c >= 'a' && c <= 'z')
		return 'a' + (c - 'a' + 13) % 26;
	if (c >= 'A' && c <= 'Z')
		return 'A' + (c - 'A' + 13) % 26;
	return c;
}

static const char *
rot13_configure(const struct sockd_opts *opts, void **port_state)
{
	*port_state = sockd_opt_bool(opts, "frame", 0) ? (void *)1 : NULL;
	return NULL;
}

static void
rot13_data(struct sockd_conn *c, const char *buf, size_t len)
{
	char	 out[512];
	size_t	 i, n;
	int	 frame = sockd_conn_port_state(c) != NULL;

	if (frame && sockd_conn_write(c, "[", 1) == -1)
		return;
	while (len > 0) {
		n = len < sizeof(out) ? len : sizeof(out);
		for (i = 0; i < n; i++)
			out[i] = rot13_char(buf[i]);
		/* On failure sockd has logged it and is closing c. */
		if (sockd_conn_write(c, out, n) == -1)
			return;
		buf += n;
		len -= n;
	}
	if (frame)
		(void)sockd_conn_write(c, "]", 1);
}

static void
rot13_datagram(struct sockd_dgram *d, const char *buf, size_t len)
{
	char	*out;
	size_t	 i;

	if ((out = malloc(len + 1)) == NULL) {
		sockd_dgram_drop(d);
		return;
	}
	for (i = 0; i < len; i++)
		out[i] = rot13_char(buf[i]);
	(void)sockd_dgram_reply(d, out, len);
	free(out);
}

const struct sockd_handler sockd_handler_rot13 = {
	.abi_version = SOCKD_ABI_VERSION, .name = "rot13",
	.protocols = SOCKD_TCP | SOCKD_UDP, .flags = SOCKD_LINES,
	.options = rot13_options, .configure = rot13_configure,
	.tcp_data = rot13_data, .udp_datagram = rot13_datagram,
};
