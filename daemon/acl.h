#ifndef SOCKD_ACL_H
#define SOCKD_ACL_H

#include <sys/socket.h>

struct svc_conf;

/* 1 when the service's allow/deny lists let sa in. */
int	acl_allowed(const struct svc_conf *, const struct sockaddr *);

#endif
