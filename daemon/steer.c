/*
 * steer: which worker a source address lands on.  With several workers
 * each has its own SO_REUSEPORT socket per address, and the kernel would
 * spread packets over them by a hash of the whole 4-tuple, so one client's
 * connections and datagrams would be counted by every worker's limits and
 * a flood from one source would occupy them all.  A classic BPF program
 * (SO_ATTACH_REUSEPORT_CBPF) picks the socket from the source address
 * alone instead.  The program runs with the packet at the transport
 * payload, so it loads the network header through SKF_NET_OFF, and reads
 * the version nibble first: a dual-stack IPv6 socket also sees IPv4.
 *
 * The hash is h = a ^ (a >> 16), h % n, where a is the IPv4 source
 * address, or for IPv6 the XOR of the four 32-bit words of the source
 * cut to its prefix.  Consecutive IPv4 addresses thus go to consecutive
 * workers.  It is not keyed: a client that picks its source address can
 * pick its worker anyway.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/filter.h>

#include "steer.h"

/* The mask of the 32-bit word i of an IPv6 address cut to prefix bits. */
static uint32_t
prefix_word(int i, int prefix)
{
	if (prefix >= 32 * (i + 1))
		return 0xffffffffu;
	if (prefix <= 32 * i)
		return 0;
	return 0xffffffffu << (32 - (prefix - 32 * i));
}

int
steer_attach(int fd, int n, int ipv6_prefix)
{
	uint32_t m0 = prefix_word(0, ipv6_prefix);
	uint32_t m1 = prefix_word(1, ipv6_prefix);
	uint32_t m2 = prefix_word(2, ipv6_prefix);
	uint32_t m3 = prefix_word(3, ipv6_prefix);
	struct sock_filter prog[] = {
		/* 0: the IP version */
		BPF_STMT(BPF_LD | BPF_B | BPF_ABS, SKF_NET_OFF + 0),
		BPF_STMT(BPF_ALU | BPF_RSH | BPF_K, 4),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 4, 0, 2),
		/* 3: IPv4: the source address */
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_NET_OFF + 12),
		BPF_JUMP(BPF_JMP | BPF_JA, 14, 0, 0),
		/* 5: IPv6: the source words under the prefix, folded */
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_NET_OFF + 8),
		BPF_STMT(BPF_ALU | BPF_AND | BPF_K, m0),
		BPF_STMT(BPF_MISC | BPF_TAX, 0),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_NET_OFF + 12),
		BPF_STMT(BPF_ALU | BPF_AND | BPF_K, m1),
		BPF_STMT(BPF_ALU | BPF_XOR | BPF_X, 0),
		BPF_STMT(BPF_MISC | BPF_TAX, 0),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_NET_OFF + 16),
		BPF_STMT(BPF_ALU | BPF_AND | BPF_K, m2),
		BPF_STMT(BPF_ALU | BPF_XOR | BPF_X, 0),
		BPF_STMT(BPF_MISC | BPF_TAX, 0),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_NET_OFF + 20),
		BPF_STMT(BPF_ALU | BPF_AND | BPF_K, m3),
		BPF_STMT(BPF_ALU | BPF_XOR | BPF_X, 0),
		/* 19: the hash of A */
		BPF_STMT(BPF_MISC | BPF_TAX, 0),
		BPF_STMT(BPF_ALU | BPF_RSH | BPF_K, 16),
		BPF_STMT(BPF_ALU | BPF_XOR | BPF_X, 0),
		BPF_STMT(BPF_ALU | BPF_MOD | BPF_K, (uint32_t)n),
		BPF_STMT(BPF_RET | BPF_A, 0),
	};
	struct sock_fprog fprog;

	if (n < 1) {
		errno = EINVAL;
		return -1;
	}
	/* The kernel copies the padding after len too. */
	memset(&fprog, 0, sizeof(fprog));
	fprog.len = sizeof(prog) / sizeof(prog[0]);
	fprog.filter = prog;
	return setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &fprog,
	    sizeof(fprog));
}
