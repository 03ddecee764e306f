/*
 * ipaddr -- IPv4/IPv6 addresses and networks in one canonical binary form.
 *
 * An IPv4 address is always stored as AF_INET, also when it arrived as an
 * IPv4-mapped IPv6 address (::ffff:192.0.2.1), so one client never has two
 * spellings (keys, lists, tables). Pure functions; thread-safe.
 */
#ifndef MXGATE_IPADDR_H
#define MXGATE_IPADDR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define IP_STRLEN	64	/* room for any formatted address, with "/128" */

struct ipaddr {
	int	family;		/* AF_INET or AF_INET6; 0 = none */
	uint8_t	b[16];		/* network order; IPv4 uses b[0..3] */
};

int	ip_parse(const char *, size_t, struct ipaddr *);
int	ip_parse_cidr(const char *, size_t, struct ipaddr *, unsigned *);
int	ip_from_sockaddr(const struct sockaddr *, struct ipaddr *);
void	ip_mask(struct ipaddr *, unsigned);
int	ip_in_net(const struct ipaddr *, const struct ipaddr *, unsigned);
int	ip_equal(const struct ipaddr *, const struct ipaddr *);
unsigned ip_maxlen(const struct ipaddr *);
void	ip_format(const struct ipaddr *, char *, size_t);

#endif
