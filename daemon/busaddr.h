#ifndef SOCKD_BUSADDR_H
#define SOCKD_BUSADDR_H

/* Where the bus is: "redis://[:PASSWORD@]HOST[:PORT]" or "unix:PATH". */
struct bus_addr {
	char	*host;		/* NULL for a unix socket */
	int	 port;
	char	*path;		/* NULL for TCP */
	char	*password;	/* NULL: no AUTH */
};

/* Parses url into a (to free with bus_addr_clear()); returns NULL, or why
 * it cannot be used, a static string. */
const char	*bus_addr_parse(const char *url, struct bus_addr *a);
void		 bus_addr_clear(struct bus_addr *a);

#endif
