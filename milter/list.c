/*
 * list -- sets of networks and address patterns (see list.h).
 *
 * Every item becomes one key in a hash: a one-letter kind, then the
 * lower-cased text ('a' address, 'd' domain, 'l' local part, 's' domain
 * suffix) or, for networks, the family, the prefix length and the masked
 * address bytes. An IP lookup probes each prefix length in use, longest
 * first; a string lookup probes the address, its local part, its domain
 * and each parent domain. So a lookup costs a handful of probes whatever
 * the size of the list.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "hash.h"
#include "list.h"
#include "xalloc.h"

#define ITEM_MAX	320
#define FILE_ITEMS_MAX	1000000
#define LINE_MAX_LEN	4096

struct list {
	struct hash	*h;
	unsigned char	 len4[33];	/* prefix lengths in use, IPv4 */
	unsigned char	 len6[129];	/* IPv6 */
	size_t		 count;
};

/* list_new -- an empty list */
struct list *
list_new(void)
{
	struct list	*l = xcalloc(1, sizeof(*l));

	l->h = hash_new();
	return l;
}

/* list_free -- free a list (NULL is fine) */
void
list_free(struct list *l)
{
	if (l == NULL)
		return;
	hash_free(l->h, NULL);
	free(l);
}

/* list_count -- the number of distinct items */
size_t
list_count(const struct list *l)
{
	return l->count;
}

/* net_key -- the hash key of a network: 'n', family, length, bytes */
static size_t
net_key(const struct ipaddr *ip, unsigned len, unsigned char *k)
{
	k[0] = 'n';
	k[1] = ip->family == AF_INET ? 4 : 6;
	k[2] = (unsigned char)len;
	memcpy(k + 3, ip->b, ip_maxlen(ip) / 8);
	return 3 + ip_maxlen(ip) / 8;
}

/* put -- add a key (a duplicate is not an error) */
static void
put(struct list *l, const void *k, size_t len)
{
	if (hash_put(l->h, k, len, l) == NULL)
		l->count++;
}

/* put_str -- add kind + lower-cased s */
static void
put_str(struct list *l, char kind, const char *s, size_t len)
{
	char	k[ITEM_MAX + 2];
	size_t	i;

	k[0] = kind;
	for (i = 0; i < len; i++)
		k[i + 1] = (char)tolower((unsigned char)s[i]);
	put(l, k, len + 1);
}

/* domain_ok -- letters, digits, '-', '_', '.', no empty label */
static int
domain_ok(const char *s, size_t len)
{
	size_t	i;

	if (len == 0 || s[0] == '.' || s[len - 1] == '.')
		return 0;
	for (i = 0; i < len; i++) {
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' &&
		    s[i] != '_' && s[i] != '.')
			return 0;
		if (s[i] == '.' && i > 0 && s[i - 1] == '.')
			return 0;
	}
	return 1;
}

/* local_ok -- printable ASCII without '@', space or '*' */
static int
local_ok(const char *s, size_t len)
{
	size_t	i;

	if (len == 0)
		return 0;
	for (i = 0; i < len; i++)
		if (s[i] <= ' ' || s[i] > '~' || s[i] == '@' || s[i] == '*')
			return 0;
	return 1;
}

/* add_pattern -- an address, local@*, @domain, *.suffix or domain */
static int
add_pattern(struct list *l, const char *s, size_t len, struct buf *err)
{
	const char	*at = memchr(s, '@', len);
	size_t		 ll;

	if (at == NULL) {
		if (len > 2 && s[0] == '*' && s[1] == '.' &&
		    domain_ok(s + 2, len - 2)) {
			put_str(l, 's', s + 2, len - 2);
			return 0;
		}
		if (domain_ok(s, len)) {
			put_str(l, 'd', s, len);
			return 0;
		}
		buf_printf(err, "not an IP, network, address or domain: \"%.*s\"",
		    (int)len, s);
		return -1;
	}
	ll = (size_t)(at - s);
	if (ll == 0 && domain_ok(at + 1, len - 1)) {
		put_str(l, 'd', at + 1, len - 1);
		return 0;
	}
	if (local_ok(s, ll) && len - ll == 2 && at[1] == '*') {
		put_str(l, 'l', s, ll);
		return 0;
	}
	if (local_ok(s, ll) && domain_ok(at + 1, len - ll - 1)) {
		put_str(l, 'a', s, len);
		return 0;
	}
	buf_printf(err, "not a valid address pattern: \"%.*s\"", (int)len, s);
	return -1;
}

/* list_add -- add one item; on error explain it in err and return -1 */
int
list_add(struct list *l, const char *s, size_t len, struct buf *err)
{
	struct ipaddr	 ip;
	unsigned	 plen;
	unsigned char	 k[20];

	if (len == 0 || len > ITEM_MAX) {
		buf_printf(err, "list item must be 1 to %d bytes long", ITEM_MAX);
		return -1;
	}
	if (ip_parse_cidr(s, len, &ip, &plen) == 0) {
		put(l, k, net_key(&ip, plen, k));
		if (ip.family == AF_INET)
			l->len4[plen] = 1;
		else
			l->len6[plen] = 1;
		return 0;
	}
	if (memchr(s, '/', len) != NULL || memchr(s, ':', len) != NULL ||
	    (len > 0 && isdigit((unsigned char)s[len - 1]) &&
	    strspn(s, "0123456789.") >= len)) {
		buf_printf(err, "not a valid IP address or network: \"%.*s\"",
		    (int)len, s);
		return -1;
	}
	return add_pattern(l, s, len, err);
}

/* list_match_ip -- is ip inside any network of the list? */
int
list_match_ip(const struct list *l, const struct ipaddr *ip)
{
	const unsigned char	*used;
	struct ipaddr		 m;
	unsigned char		 k[20];
	int			 len, max;

	if (ip == NULL || ip->family == 0)
		return 0;
	used = ip->family == AF_INET ? l->len4 : l->len6;
	max = (int)ip_maxlen(ip);
	for (len = max; len >= 0; len--) {
		if (!used[len])
			continue;
		m = *ip;
		ip_mask(&m, (unsigned)len);
		if (hash_get(l->h, k, net_key(&m, (unsigned)len, k)) != NULL)
			return 1;
	}
	return 0;
}

/* has -- is kind + s (already lower-case) in the list? */
static int
has(const struct list *l, char kind, const char *s, size_t len)
{
	char	k[ITEM_MAX + 2];

	if (len > ITEM_MAX)
		return 0;
	k[0] = kind;
	memcpy(k + 1, s, len);
	return hash_get(l->h, k, len + 1) != NULL;
}

/* match_domain -- the domain itself or one of its parents as *.suffix */
static int
match_domain(const struct list *l, const char *d, size_t len)
{
	size_t	i;

	if (has(l, 'd', d, len))
		return 1;
	for (i = 0; i < len; i++)
		if (d[i] == '.' && has(l, 's', d + i + 1, len - i - 1))
			return 1;
	return 0;
}

/* list_match_str -- does an address, domain or IP text match an item? */
int
list_match_str(const struct list *l, const char *s)
{
	char		 low[ITEM_MAX + 1];
	const char	*at;
	size_t		 len, i;
	struct ipaddr	 ip;

	if (s == NULL || (len = strlen(s)) == 0 || len > ITEM_MAX)
		return 0;
	if (ip_parse(s, len, &ip) == 0)
		return list_match_ip(l, &ip);
	for (i = 0; i < len; i++)
		low[i] = (char)tolower((unsigned char)s[i]);
	low[len] = '\0';
	if ((at = strrchr(low, '@')) == NULL)
		return match_domain(l, low, len);
	if (has(l, 'a', low, len) || has(l, 'l', low, (size_t)(at - low)))
		return 1;
	return match_domain(l, at + 1, len - (size_t)(at - low) - 1);
}

/* list_load_file -- one item per line, '#' comments; errors to the diag */
int
list_load_file(struct list *l, const char *path, struct diag *d)
{
	FILE		*f;
	char		 line[LINE_MAX_LEN + 2];
	unsigned	 lineno = 0, before = d->errors;
	size_t		 len, b, e;
	struct buf	 err = BUF_INIT;

	if ((f = fopen(path, "r")) == NULL) {
		diag_error(d, path, 0, 0, "cannot read list file: %s", strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		len = strlen(line);
		if (len > LINE_MAX_LEN && line[len - 1] != '\n') {
			diag_error(d, path, lineno, 1, "line longer than %d bytes",
			    LINE_MAX_LEN);
			break;
		}
		line[strcspn(line, "#\r\n")] = '\0';
		for (b = 0; line[b] == ' ' || line[b] == '\t'; b++)
			;
		for (e = strlen(line); e > b && (line[e - 1] == ' ' ||
		    line[e - 1] == '\t'); e--)
			;
		if (e == b)
			continue;
		if (l->count >= FILE_ITEMS_MAX) {
			diag_error(d, path, lineno, 1, "more than %d items",
			    FILE_ITEMS_MAX);
			break;
		}
		buf_reset(&err);
		if (list_add(l, line + b, e - b, &err) == -1)
			diag_error(d, path, lineno, (unsigned)b + 1, "%s",
			    buf_str(&err));
	}
	(void)fclose(f);
	buf_free(&err);
	return d->errors > before ? -1 : 0;
}
