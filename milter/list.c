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
 *
 * list_add returns 0, or -1 with one line of explanation appended to the
 * caller's buf (no position: the caller knows it). A domain may end in one
 * root dot, which is dropped, in items and in lookups alike.
 * list_load_file reads one item per line ('#' starts a comment, blank
 * lines are skipped, leading and trailing blanks ignored), reports every
 * bad line to the diag as FILE:LINE:COL and returns 0, or -1 when there
 * was any error. Lines longer than LINE_MAX_LEN bytes, NUL bytes and more
 * than FILE_ITEMS_MAX items are errors, never silently cut.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "file.h"
#include "hash.h"
#include "list.h"
#include "xalloc.h"

#define ITEM_MAX	320
#define FILE_ITEMS_MAX	1000000
#define LINE_MAX_LEN	4096
#define LIST_FILE_MAX	(256 * 1024 * 1024)	/* bytes of a list file */
#define LABEL_MAX	63

enum line_rc {
	LINE_OK,
	LINE_EOF,
	LINE_LONG,		/* longer than the buffer; the rest was skipped */
	LINE_NUL		/* holds a NUL byte (at *len) */
};

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

/* domain_ok -- letters, digits, '-', '_', '.'; labels of 1 to 63 bytes */
static int
domain_ok(const char *s, size_t len)
{
	size_t	i, label = 0;

	if (len == 0 || s[0] == '.' || s[len - 1] == '.')
		return 0;
	for (i = 0; i < len; i++) {
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' &&
		    s[i] != '_' && s[i] != '.')
			return 0;
		if (s[i] == '.' && s[i - 1] == '.')
			return 0;
		label = s[i] == '.' ? 0 : label + 1;
		if (label > LABEL_MAX)
			return 0;
	}
	return 1;
}

/* root_dot -- the length of s without one trailing root dot */
static size_t
root_dot(const char *s, size_t len)
{
	return len > 1 && s[len - 1] == '.' && s[len - 2] != '.' ? len - 1 : len;
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
	const char	*at = memchr(s, '@', len), *d;
	size_t		 ll, dl;

	if (at == NULL) {
		len = root_dot(s, len);
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
	d = at + 1;
	dl = len - ll - 1;
	if (ll == 1 && s[0] == '*') {
		buf_printf(err, "\"%.*s\": write @DOMAIN for any address at a "
		    "domain", (int)len, s);
		return -1;
	}
	if (dl == 1 && d[0] == '*' && local_ok(s, ll)) {
		put_str(l, 'l', s, ll);
		return 0;
	}
	dl = root_dot(d, dl);
	if (ll == 0 && domain_ok(d, dl)) {
		put_str(l, 'd', d, dl);
		return 0;
	}
	if (local_ok(s, ll) && domain_ok(d, dl)) {
		put_str(l, 'a', s, ll + 1 + dl);
		return 0;
	}
	buf_printf(err, "not a valid address pattern: \"%.*s\" (want "
	    "local@domain, @domain or local@*)", (int)len, s);
	return -1;
}

/* all_of -- are all len bytes of s in set? (s need not end in a NUL) */
static int
all_of(const char *s, size_t len, const char *set)
{
	size_t	i;

	for (i = 0; i < len; i++)
		if (s[i] == '\0' || strchr(set, s[i]) == NULL)
			return 0;
	return 1;
}

/* ip_like -- does an item without '@' look like an attempt at an IP? */
static int
ip_like(const char *s, size_t len)
{
	return memchr(s, '/', len) != NULL || memchr(s, ':', len) != NULL ||
	    memchr(s, '[', len) != NULL ||
	    (isdigit((unsigned char)s[len - 1]) &&
	    all_of(s, len, "0123456789."));
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
	if (memchr(s, '@', len) == NULL && ip_like(s, len)) {
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

/* match_lower -- match_str on lower-cased text of any length */
static int
match_lower(const struct list *l, const char *low, size_t len)
{
	const char	*at = NULL;
	size_t		 ll, i;

	for (i = len; i > 0 && at == NULL; i--)
		if (low[i - 1] == '@')
			at = low + i - 1;
	if (at == NULL)
		return match_domain(l, low, root_dot(low, len));
	ll = (size_t)(at - low);
	if (has(l, 'a', low, root_dot(low, len)) || has(l, 'l', low, ll))
		return 1;
	return match_domain(l, at + 1, root_dot(at + 1, len - ll - 1));
}

/* list_match_str -- does an address, domain or IP text match an item? */
int
list_match_str(const struct list *l, const char *s)
{
	char		 stack[ITEM_MAX + 1], *low;
	size_t		 len, i;
	struct ipaddr	 ip;
	int		 rc;

	if (s == NULL || (len = strlen(s)) == 0)
		return 0;
	if (ip_parse(s, len, &ip) == 0)
		return list_match_ip(l, &ip);
	/* a long address can still match by its local part or domain */
	low = len < sizeof(stack) ? stack : xmalloc(len + 1);
	for (i = 0; i < len; i++)
		low[i] = (char)tolower((unsigned char)s[i]);
	low[len] = '\0';
	rc = match_lower(l, low, len);
	if (low != stack)
		free(low);
	return rc;
}

/*
 * read_line -- the next line, without its "\n" or "\r\n", into line, which
 * has room for max + 2 bytes. A longer line is skipped to its end and
 * reported as LINE_LONG; *len is the length, or the offset of a NUL byte.
 */
static enum line_rc
read_line(FILE *f, char *line, size_t max, size_t *len)
{
	size_t	n = 0, nulat = 0;
	int	c, nul = 0, over = 0;

	while ((c = getc(f)) != EOF && c != '\n') {
		if (n > max) {
			over = 1;
			continue;
		}
		if (c == '\0' && !nul) {
			nul = 1;
			nulat = n;
		}
		line[n++] = (char)c;
	}
	if (c == EOF && n == 0)
		return LINE_EOF;
	if (!over && n > 0 && line[n - 1] == '\r')
		n--;
	line[n] = '\0';
	*len = nul ? nulat : n;
	if (over || n > max)
		return LINE_LONG;
	return nul ? LINE_NUL : LINE_OK;
}

/* load_line -- one line of a list file: an item, a comment or nothing */
static void
load_line(struct list *l, char *line, const char *path, unsigned lineno,
    size_t *items, struct diag *d, struct buf *err)
{
	size_t	b, e;

	line[strcspn(line, "#")] = '\0';
	for (b = 0; line[b] == ' ' || line[b] == '\t'; b++)
		;
	for (e = strlen(line); e > b && (line[e - 1] == ' ' ||
	    line[e - 1] == '\t'); e--)
		;
	if (e == b)
		return;
	if (++*items == FILE_ITEMS_MAX + 1)
		diag_error(d, path, lineno, (unsigned)b + 1,
		    "more than %d items in one list file", FILE_ITEMS_MAX);
	if (*items > FILE_ITEMS_MAX)
		return;
	buf_reset(err);
	if (list_add(l, line + b, e - b, err) == -1)
		diag_error(d, path, lineno, (unsigned)b + 1, "%s", buf_str(err));
}

/* list_load_file -- one item per line, '#' comments; errors to the diag */
int
list_load_file(struct list *l, const char *path, struct diag *d)
{
	FILE		*f = NULL;
	char		*line = xmalloc(LINE_MAX_LEN + 2);
	unsigned	 lineno = 0, before = d->errors;
	size_t		 len, items = 0;
	struct buf	 err = BUF_INIT, data = BUF_INIT;
	enum line_rc	 rc;

	/* read whole first: a file that changes while read is refused (file.h) */
	if (file_read(path, LIST_FILE_MAX, "list file", &data, NULL, d) == -1 ||
	    data.len == 0)
		goto done;
	if ((f = fmemopen(data.data, data.len, "r")) == NULL) {
		diag_error(d, path, 0, 0, "cannot read list file: %s",
		    strerror(errno));
		goto done;
	}
	while ((rc = read_line(f, line, LINE_MAX_LEN, &len)) != LINE_EOF) {
		lineno++;
		if (rc == LINE_LONG)
			diag_error(d, path, lineno, LINE_MAX_LEN + 1,
			    "line longer than %d bytes", LINE_MAX_LEN);
		else if (rc == LINE_NUL)
			diag_error(d, path, lineno, (unsigned)len + 1,
			    "NUL byte in line");
		else
			load_line(l, line, path, lineno, &items, d, &err);
	}
	if (ferror(f))
		diag_error(d, path, lineno + 1, 0, "read error: %s",
		    strerror(errno));
done:
	if (f != NULL)
		(void)fclose(f);
	free(line);
	buf_free(&err);
	buf_free(&data);
	return d->errors > before ? -1 : 0;
}
