#ifndef SOCKD_ACL_H
#define SOCKD_ACL_H

#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>

/* An address, or a prefix of one. */
struct cidr {
	int		 family;	/* AF_INET or AF_INET6 */
	uint8_t		 addr[16];
	int		 prefix;
};

/* A service's access list: allow and deny lists of CIDR prefixes.  Start
 * from { 0 }: no lists, everyone allowed. */
struct acl {
	struct cidr	*allow;
	size_t		 nallow;
	int		 has_allow;	/* an allow list was set, even empty */
	struct cidr	*deny;
	size_t		 ndeny;
};

enum acl_list { ACL_ALLOW, ACL_DENY };

/* Parses "192.0.2.0/24", "2001:db8::/32" or a plain address into c:
 * 0, or -1 when s is none of these. */
int	cidr_parse(const char *s, struct cidr *c);
/* 1 when sa lies inside c; IPv4-mapped IPv6 peers match IPv4 prefixes. */
int	cidr_match(const struct cidr *c, const struct sockaddr *sa);

/* Empties one list of a; an allow list that is set refuses whoever it
 * does not match, even while it is empty. */
void	acl_start(struct acl *a, enum acl_list);
/* Appends c to one list of a (configuration time: fatal when out of
 * memory). */
void	acl_add(struct acl *a, enum acl_list, const struct cidr *c);
/* dst becomes a copy of src, with lists of its own. */
void	acl_copy(struct acl *dst, const struct acl *src);
/* 1 when a and b let in the same clients by the same entries. */
int	acl_equal(const struct acl *a, const struct acl *b);
/* Frees the lists of a and leaves it allowing everyone. */
void	acl_clear(struct acl *a);
/* 1 when a lets sa in. */
int	acl_allowed(const struct acl *a, const struct sockaddr *sa);

#endif
