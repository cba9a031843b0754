/*
 * libFuzzer harness for chat: the telnet stripper, sanitiser and parser as
 * pure functions (the telnet state carried across a cut anywhere in the
 * input must give what one piece gives), then the whole TCP room on fake
 * connections (tests/unit/fake_conn.c): input lines are said by three
 * users in turn, and nothing any user receives may carry a control
 * character other than tab and "\r\n" or be invalid UTF-8, and every
 * shared message must be freed at the end.  Then the UDP room: peers on
 * addresses and ports taken from the input join, and the input is relayed
 * under a shared or a per-send budget; what one datagram causes must stay
 * within its budget, never go back to its sender, reach no address more
 * often than peers_per_address allows, and be clean UTF-8 lines.
 */
/* fuzz-sources: handlers/chat.c handlers/text.c handlers/ring.c */
/* fuzz-sources: handlers/peers.c tests/unit/fake_conn.c */
#include <sys/socket.h>
#include <netinet/in.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/fake_conn.h"
#include "chat.h"
#include "peers.h"
#include "text.h"
#include "utf8.h"

extern const struct sockd_handler sockd_handler_chat;

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_clean(const char *s, size_t len)
{
	const unsigned char	*u = (const unsigned char *)s;
	size_t			 i, n;
	uint32_t		 cp;

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
	/* Valid UTF-8 throughout: no 0xff, no Latin-1, no cut character. */
	for (i = 0; i < len; i += n)
		if ((n = utf8_decode(u + i, len - i, &cp)) == 0)
			abort();
}

/* Telnet-strips in as one piece and as two cut at cut: the same bytes,
 * and the same state after. */
static void
check_telnet_cut(const char *in, size_t size, size_t cut)
{
	char	*a, *b;
	size_t	 na, nb;
	int	 sa = TEXT_TELNET_DATA, sb = TEXT_TELNET_DATA;

	if ((a = malloc(size + 1)) == NULL || (b = malloc(size + 1)) == NULL) {
		free(a);
		return;
	}
	na = text_telnet_strip(a, in, size, &sa);
	nb = text_telnet_strip(b, in, cut, &sb);
	nb += text_telnet_strip(b + nb, in + cut, size - cut, &sb);
	if (na > size || na != nb || memcmp(a, b, na) != 0 || sa != sb)
		abort();
	free(a);
	free(b);
}

/* The UDP room: peers join from the first bytes of the input, then the
 * whole input is said by two of them. */
static void
fuzz_udp(const char *in, size_t size)
{
	const struct sockd_handler *h = &sockd_handler_chat;
	struct sockd_opts	*o;
	struct sockd_dgram	*d;
	const struct sockaddr	*to, *from;
	struct sockaddr_storage	 seen[16];
	char			 per[8], peer[64];
	const char		*line;
	void			*ps = NULL;
	size_t			 i, j, k, len, max, total, nseen, same;
	int			 per_address = 1 + (size > 0 ? in[0] & 3 : 0);

	snprintf(per, sizeof(per), "%d", per_address);
	o = fake_opts_new("max_peers", "6", "peers_per_address", per, NULL);
	if (h->configure(o, &ps) != NULL)
		abort();
	fake_opts_free(o);
	for (i = 0; i < size && i < 12; i++) {
		unsigned char	 b = (unsigned char)in[i];

		if (b & 0x80)
			snprintf(peer, sizeof(peer), "[2001:db8::%x]:%u",
			    b & 3, 1024 + (b >> 2 & 7));
		else
			snprintf(peer, sizeof(peer), "192.0.2.%u:%u", b & 3,
			    1024 + (b >> 2 & 7));
		d = fake_dgram_new(ps, peer, 1472);
		h->udp_datagram(d, "", 0);
		if (fake_dgram_sent_count(d) != 0)
			abort();
		fake_dgram_free(d);
	}
	for (k = 0; k < 2; k++) {
		max = 64 + (size % 64) + k * 1400;
		d = fake_dgram_new(ps, k ? "[::ffff:192.0.2.1]:1024" :
		    "192.0.2.2:1025", max);
		if (k)
			fake_dgram_set_budget(d, FAKE_UNLIMITED);
		from = sockd_dgram_peer_addr(d);
		h->udp_datagram(d, in, size);
		if (fake_dgram_refused(d) != 0)
			abort();
		for (i = 0, total = 0, nseen = 0;
		    (line = fake_dgram_sent(d, i, &len, &to)) != NULL; i++) {
			total += len;
			if (len < 2 || memcmp(line + len - 2, "\r\n", 2) != 0)
				abort();
			check_clean(line, len);
			if (peers_addr_equal(to, from))
				abort();
			for (j = 0; j < nseen; j++)
				if (peers_addr_equal(to, (struct sockaddr *)
				    &seen[j]))
					abort();
			if (nseen < 16)
				memcpy(&seen[nseen++], to,
				    sizeof(struct sockaddr_in6));
			for (j = 0, same = 0; j < nseen; j++)
				same += peers_same_host(to,
				    (struct sockaddr *)&seen[j]);
			if (same > (size_t)per_address)
				abort();
		}
		/* Even under a sockd that counts each send alone. */
		if (total > max)
			abort();
		fake_dgram_free(d);
	}
	h->unconfigure(ps);
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

	(void)chat_nick_valid(in, size);
	/* Exactly the room promised, so that ASan sees a byte too many. */
	if ((out = malloc(TEXT_CLEAN_MAX(size) + 1)) == NULL)
		return 0;
	n = text_sanitize(out, in, size);
	if (n > TEXT_CLEAN_MAX(size))
		abort();
	check_clean(out, n);
	(void)chat_parse(out, n, &arg, &arglen);
	if (arg < out || arg + arglen > out + n)
		abort();
	free(out);
	check_telnet_cut(in, size, size > 0 ? (unsigned char)in[size - 1] %
	    (size + 1) : 0);

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
	fuzz_udp(in, size);
	if (fake_msg_live() != 0)
		abort();
	return 0;
}
