#ifndef SOCKD_STEER_H
#define SOCKD_STEER_H

/*
 * Attaches to fd, one socket of a SO_REUSEPORT group of n sockets (after
 * bind, and for TCP after listen), a program that hands every packet of
 * one source to the same socket of the group: index hash(source) % n, in
 * the order the sockets joined.  IPv6 sources are cut to ipv6_prefix bits
 * first, as per_source and rate count them.  0, or -1 with errno.
 */
int	steer_attach(int fd, int n, int ipv6_prefix);

#endif
