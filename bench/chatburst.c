/*
 * chatburst: one chat member sends a burst of short lines in one write to
 * a room of N members; measures how long until every member has every
 * line, and prints the room's delivery rate.  Also asks an echo service
 * on the same server, if given, during the burst, and prints how long its
 * answer took.  With -P, every other member joins on that port instead: a
 * second sockd whose chat shares the room over the bus.
 *
 *   chatburst -p chatport [-P chatport2] [-e echoport] [-a addr]
 *             [-c members] [-l lines] [-r rounds]
 *
 * Output, one line per round: "lines L members N secs S lines_per_s R
 * echo_ms E".
 */
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/resource.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
tcp_connect(const char *addr, int port)
{
	struct sockaddr_in sin;
	int fd;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)port);
	if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1)
		return -1;
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Reads what waits on fd without blocking; returns the count. */
static size_t
drain(int fd)
{
	static char buf[65536];
	size_t total = 0;
	ssize_t n;

	while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		total += (size_t)n;
	return total;
}

/* Waits until fd has been quiet for ms. */
static void
settle(int *fd, int n, int ms)
{
	double quiet = now_s();
	int i;

	while (now_s() - quiet < ms / 1000.0) {
		usleep(10000);
		for (i = 0; i < n; i++)
			if (drain(fd[i]) > 0)
				quiet = now_s();
	}
}

int
main(int argc, char **argv)
{
	const char *addr = "127.0.0.1";
	int port = 0, port2 = 0, eport = 0, members = 500, lines = 32768, rounds = 3;
	int ch, i, r, e = -1, *fd, left;
	size_t want, *got, k;
	struct pollfd *pfd;
	struct rlimit rl;
	char *burst, nick[64], line[512], buf[64];
	double t0, secs, echo_ms;
	ssize_t n;

	while ((ch = getopt(argc, argv, "a:c:e:l:p:P:r:")) != -1) {
		switch (ch) {
		case 'a': addr = optarg; break;
		case 'c': members = atoi(optarg); break;
		case 'e': eport = atoi(optarg); break;
		case 'l': lines = atoi(optarg); break;
		case 'p': port = atoi(optarg); break;
		case 'P': port2 = atoi(optarg); break;
		case 'r': rounds = atoi(optarg); break;
		default: goto usage;
		}
	}
	if (port <= 0 || members < 2 || lines < 1 || rounds < 1)
		goto usage;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	fd = calloc((size_t)members, sizeof(*fd));
	got = calloc((size_t)members, sizeof(*got));
	pfd = calloc((size_t)members + 1, sizeof(*pfd));
	burst = malloc(2 * (size_t)lines);
	if (fd == NULL || got == NULL || pfd == NULL || burst == NULL)
		return 1;
	for (i = 0; i < members; i++)
		if ((fd[i] = tcp_connect(addr, port2 > 0 && i % 2 ?
		    port2 : port)) == -1) {
			fprintf(stderr, "chatburst: member %d: %s\n", i,
			    strerror(errno));
			return 1;
		}
	/* The sender's nick, from its welcome line. */
	for (k = 0; k + 1 < sizeof(line); k++) {
		if (recv(fd[0], line + k, 1, 0) != 1)
			return 1;
		if (line[k] == '\n')
			break;
	}
	line[k + 1] = '\0';
	if (sscanf(line, "* Welcome, you are %63[^.]", nick) != 1) {
		fprintf(stderr, "chatburst: not a chat welcome: %s", line);
		return 1;
	}
	if (eport > 0 && (e = tcp_connect(addr, eport)) == -1)
		return 1;
	settle(fd, members, 300);
	for (k = 0; k < (size_t)lines; k++) {
		burst[2 * k] = 'a';
		burst[2 * k + 1] = '\n';
	}
	want = (size_t)lines * (strlen(nick) + strlen("<> a\r\n"));
	for (r = 0; r < rounds; r++) {
		for (i = 0; i < members; i++) {
			got[i] = 0;
			pfd[i].fd = fd[i];
			pfd[i].events = i == 0 ? 0 : POLLIN;
		}
		pfd[members].fd = e;
		pfd[members].events = e != -1 ? POLLIN : 0;
		left = members - 1;
		echo_ms = -1;
		t0 = now_s();
		if (send(fd[0], burst, 2 * (size_t)lines, 0) !=
		    2 * (ssize_t)lines)
			return 1;
		if (e != -1 && send(e, "ping\n", 5, 0) != 5)
			return 1;
		while (left > 0 || (e != -1 && echo_ms < 0)) {
			if (now_s() - t0 > 120) {
				fprintf(stderr, "chatburst: %d members still "
				    "waiting after 120 s\n", left);
				return 1;
			}
			if (poll(pfd, (nfds_t)members + 1, 1000) <= 0)
				continue;
			if (e != -1 && pfd[members].revents != 0 &&
			    echo_ms < 0) {
				n = recv(e, buf, sizeof(buf), 0);
				if (n <= 0)
					return 1;
				echo_ms = (now_s() - t0) * 1000;
				pfd[members].events = 0;
			}
			for (i = 1; i < members; i++) {
				if (pfd[i].revents == 0)
					continue;
				got[i] += drain(fd[i]);
				if (got[i] >= want) {
					pfd[i].events = 0;
					left--;
				}
			}
		}
		secs = now_s() - t0;
		printf("lines %d members %d secs %.3f lines_per_s %.0f "
		    "echo_ms %.1f\n", lines, members - 1, secs,
		    (double)lines * (members - 1) / secs, echo_ms);
		fflush(stdout);
	}
	for (i = 0; i < members; i++)
		close(fd[i]);
	if (e != -1)
		close(e);
	return 0;
usage:
	fprintf(stderr, "usage: chatburst -p chatport [-P chatport2] "
	    "[-e echoport] [-a addr] [-c members] [-l lines] "
	    "[-r rounds]\n");
	return 2;
}
