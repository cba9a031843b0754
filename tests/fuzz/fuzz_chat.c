/*
 * libFuzzer harness for chat: the sanitiser and parser as pure functions,
 * then the whole TCP room on fake connections (tests/unit/fake_conn.c):
 * input lines are said by three users in turn, and nothing any user
 * receives may carry a control character other than tab and "\r\n", and
 * every shared message must be freed at the end.  The last line also goes
 * through the UDP relay.
 */
/* fuzz-sources: handlers/chat.c tests/unit/fake_conn.c */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/fake_conn.h"
#include "handlers.h"

extern const struct sockd_handler sockd_handler_chat;

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_clean(const char *s, size_t len)
{
	const unsigned char	*u = (const unsigned char *)s;
	size_t			 i;

	for (i = 0; i < len; i++) {
		if (u[i] == '\r' && i + 1 < len && u[i + 1] == '\n') {
			i++;
			continue;
		}
		if ((u[i] < 0x20 && u[i] != '\t') || u[i] == 0x7f)
			abort();
		if (u[i] == 0xc2 && i + 1 < len && u[i + 1] >= 0x80 &&
		    u[i + 1] <= 0x9f)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct sockd_handler *h = &sockd_handler_chat;
	struct fake_service	*svc;
	struct sockd_conn	*c[3];
	struct sockd_dgram	*d;
	struct sockd_opts	*o;
	const char		*in = (const char *)data, *arg, *nl;
	void			*ps = NULL;
	size_t			 n, arglen, off, len, i;
	char			*out;
	int			 k;

	if ((out = malloc(size + 1)) == NULL)
		return 0;
	n = chat_sanitize(out, in, size);
	if (n > size)
		abort();
	check_clean(out, n);
	(void)chat_parse(out, n, &arg, &arglen);
	if (arg < out || arg + arglen > out + n)
		abort();
	(void)chat_nick_valid(out, n);
	free(out);

	o = fake_opts_new("history", "4", "max_peers", "2", NULL);
	if (h->configure(o, &ps) != NULL)
		abort();
	fake_opts_free(o);
	svc = fake_service_new(ps);
	for (k = 0; k < 3; k++) {
		c[k] = fake_conn_new_in(svc, NULL);
		fake_conn_set_max_queue(c[k], k == 2 ? 300 : 1 << 20);
		if (h->tcp_connect(c[k]) != 0)
			abort();
	}
	for (off = 0, k = 0; off < size; off += len, k = (k + 1) % 3) {
		nl = memchr(in + off, '\n', size - off);
		len = nl != NULL ? (size_t)(nl - (in + off)) + 1 : size - off;
		if (!fake_conn_closed(c[k]))
			h->tcp_data(c[k], in + off, len);
	}
	for (k = 0; k < 3; k++) {
		check_clean(fake_conn_output(c[k]), fake_conn_output_len(c[k]));
		h->tcp_close(c[k]);
		fake_conn_free(c[k]);
	}
	fake_service_free(svc);
	for (i = 0; i < 3; i++) {
		d = fake_dgram_new(ps, i == 1 ? "[2001:db8::1]:9" :
		    i == 2 ? "192.0.2.9:9" : NULL, 64 + (size % 64));
		h->udp_datagram(d, in, size);
		for (n = 0; n < fake_dgram_sent_count(d); n++) {
			arg = fake_dgram_sent(d, n, &arglen, NULL);
			if (arglen > 64 + (size % 64))
				abort();
			check_clean(arg, arglen);
		}
		fake_dgram_free(d);
	}
	h->unconfigure(ps);
	if (fake_msg_live() != 0)
		abort();
	return 0;
}
