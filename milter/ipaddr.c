/*
 * ipaddr -- IPv4/IPv6 addresses and networks (see ipaddr.h).
 *
 * Parsing is strict: the whole input must be one address (no spaces, no
 * zone id, no trailing bytes), at most INET6_ADDRSTRLEN bytes. Functions
 * return 0 on success and -1 on error. An IPv4-mapped IPv6 address is
 * stored as AF_INET. ip_parse_cidr takes "ADDR" (the full prefix) or
 * "ADDR/N" with N plain decimal in 0..32 or 0..128 (96..128 for a mapped
 * address, which counts its ::ffff:0:0/96 part); host bits are cleared.
 * ip_format writes RFC 5952 text itself (see fmt6), and "" rather than a
 * truncated address when out is too small (IP_STRLEN always fits).
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "compat.h"
#include "ipaddr.h"
#include "num.h"

static const uint8_t	v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

/* unmap -- ::ffff:a.b.c.d becomes AF_INET a.b.c.d */
static void
unmap(struct ipaddr *ip)
{
	if (ip->family == AF_INET6 && memcmp(ip->b, v4mapped, 12) == 0) {
		memmove(ip->b, ip->b + 12, 4);
		memset(ip->b + 4, 0, 12);
		ip->family = AF_INET;
	}
}

/* ip_parse -- one whole address; 0 or -1 */
int
ip_parse(const char *s, size_t len, struct ipaddr *ip)
{
	char	tmp[INET6_ADDRSTRLEN + 1];

	memset(ip, 0, sizeof(*ip));
	if (len == 0 || len >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	if (strlen(tmp) != len)
		return -1;		/* an embedded NUL */
	if (inet_pton(AF_INET, tmp, ip->b) == 1) {
		ip->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, tmp, ip->b) == 1) {
		ip->family = AF_INET6;
		unmap(ip);
		return 0;
	}
	memset(ip, 0, sizeof(*ip));
	return -1;
}

/* ip_parse_cidr -- "ADDR" (full length) or "ADDR/N"; the network is masked; 0 or -1 */
int
ip_parse_cidr(const char *s, size_t len, struct ipaddr *ip, unsigned *plen)
{
	const char	*slash = memchr(s, '/', len);
	uint64_t	 n;
	int		 mapped;

	if (slash == NULL) {
		if (ip_parse(s, len, ip) == -1)
			return -1;
		*plen = ip_maxlen(ip);
		return 0;
	}
	if (ip_parse(s, (size_t)(slash - s), ip) == -1)
		return -1;
	if (num_parse(slash + 1, len - (size_t)(slash - s) - 1, 0, 128, &n) == -1)
		return -1;
	/* ::ffff:0:0/96 and longer: the prefix counts the mapped bits */
	mapped = ip->family == AF_INET && memchr(s, ':', (size_t)(slash - s)) != NULL;
	if (mapped) {
		if (n < 96)
			return -1;
		n -= 96;
	}
	if (n > ip_maxlen(ip))
		return -1;
	*plen = (unsigned)n;
	ip_mask(ip, *plen);
	return 0;
}

/* ip_from_sockaddr -- the address of a sockaddr_in/in6; 0 or -1 */
int
ip_from_sockaddr(const struct sockaddr *sa, struct ipaddr *ip)
{
	memset(ip, 0, sizeof(*ip));
	if (sa == NULL)
		return -1;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;

		memcpy(ip->b, &in->sin_addr, 4);
		ip->family = AF_INET;
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;

		memcpy(ip->b, &in6->sin6_addr, 16);
		ip->family = AF_INET6;
		unmap(ip);
		return 0;
	}
	return -1;
}

/* ip_maxlen -- 32 or 128 (0 for no address) */
unsigned
ip_maxlen(const struct ipaddr *ip)
{
	return ip->family == AF_INET ? 32 : ip->family == AF_INET6 ? 128 : 0;
}

/* ip_mask -- clear the bits after the first len */
void
ip_mask(struct ipaddr *ip, unsigned len)
{
	unsigned	max = ip_maxlen(ip), i;

	if (len >= max)
		return;
	for (i = len / 8; i < max / 8; i++) {
		if (i == len / 8 && len % 8 != 0)
			ip->b[i] &= (uint8_t)(0xff << (8 - len % 8));
		else
			ip->b[i] = 0;
	}
}

/* ip_in_net -- is ip inside net/len (same family)? */
int
ip_in_net(const struct ipaddr *ip, const struct ipaddr *net, unsigned len)
{
	struct ipaddr	m;

	if (ip->family == 0 || ip->family != net->family)
		return 0;
	m = *ip;
	ip_mask(&m, len);
	return memcmp(m.b, net->b, ip_maxlen(ip) / 8) == 0;
}

/* ip_equal -- same family and bytes */
int
ip_equal(const struct ipaddr *a, const struct ipaddr *b)
{
	return a->family == b->family && a->family != 0 &&
	    memcmp(a->b, b->b, ip_maxlen(a) / 8) == 0;
}

/*
 * fmt6 -- RFC 5952 text of an IPv6 address: lower-case hex, no leading
 * zeros, the first longest run of two or more zero groups as "::".
 * Written out rather than left to inet_ntop, whose mixed "::a.b.c.d"
 * form for IPv4-compatible addresses varies between C libraries.
 */
static void
fmt6(const uint8_t *b, char *out, size_t outlen)
{
	char		 tmp[IP_STRLEN];
	unsigned	 g[8], i, best = 8, bestlen = 0, run;
	size_t		 n = 0;

	for (i = 0; i < 8; i++)
		g[i] = (unsigned)b[2 * i] << 8 | b[2 * i + 1];
	for (i = 0; i < 8; i += run ? run : 1) {
		for (run = 0; i + run < 8 && g[i + run] == 0; run++)
			;
		if (run >= 2 && run > bestlen) {
			best = i;
			bestlen = run;
		}
	}
	for (i = 0; i < 8; i++) {
		if (i == best) {
			n += (size_t)snprintf(tmp + n, sizeof(tmp) - n, "::");
			i += bestlen - 1;
			continue;
		}
		n += (size_t)snprintf(tmp + n, sizeof(tmp) - n, "%s%x",
		    i == 0 || i == best + bestlen ? "" : ":", g[i]);
	}
	if (strlcpy(out, tmp, outlen) >= outlen)
		out[0] = '\0';
}

/* ip_format -- the text form (RFC 5952 for IPv6); "" for no address or a too small out */
void
ip_format(const struct ipaddr *ip, char *out, size_t outlen)
{
	if (outlen == 0)
		return;
	out[0] = '\0';
	if (ip->family == AF_INET6)
		fmt6(ip->b, out, outlen);
	else if (ip->family == AF_INET &&
	    inet_ntop(AF_INET, ip->b, out, (socklen_t)outlen) == NULL)
		out[0] = '\0';
}
