/*
 * table -- key/value files with most-specific-key lookups (see table.h).
 *
 * The content is an immutable, reference-counted snapshot: a hash of keys
 * ('k' + lower-cased login, address or @domain; 'n' + family, prefix
 * length and masked bytes for networks) to entries of fields. A reload
 * builds a new snapshot and swaps it in under the lock; lookups in flight
 * keep the old one until they drop it. Functions return 0 or -1 unless
 * the header says otherwise.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "buf.h"
#include "hash.h"
#include "log.h"
#include "table.h"
#include "xalloc.h"

#define LINE_MAX_LEN	4096
#define KEYS_MAX	1000000
#define KEY_MAX		320

struct field {
	char	*name;
	char	*value;
};

struct entry {
	size_t		 n;
	struct field	*f;
};

struct snap {
	unsigned	 refs;
	struct hash	*h;
	unsigned char	 len4[33], len6[129];
	size_t		 count;
};

struct table {
	char		*name;
	char		*path;
	pthread_mutex_t	 lock;
	struct snap	*snap;
	struct timespec	 mtime;
	time_t		 checked;	/* monotonic second of the last stat */
};

/* entry_free -- hash value destructor */
static void
entry_free(void *p)
{
	struct entry	*e = p;
	size_t		 i;

	for (i = 0; i < e->n; i++) {
		free(e->f[i].name);
		free(e->f[i].value);
	}
	free(e->f);
	free(e);
}

/* snap_unref -- drop a reference (caller holds no lock on the snapshot) */
static void
snap_unref(struct snap *s)
{
	if (s == NULL || __atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	hash_free(s->h, entry_free);
	free(s);
}

/* str_key -- 'k' + lower-cased text; its length, or 0 when too long */
static size_t
str_key(const char *s, size_t len, char *k)
{
	size_t	i;

	if (len == 0 || len > KEY_MAX)
		return 0;
	k[0] = 'k';
	for (i = 0; i < len; i++)
		k[i + 1] = (char)tolower((unsigned char)s[i]);
	return len + 1;
}

/* net_key -- 'n', family, length, bytes */
static size_t
net_key(const struct ipaddr *ip, unsigned len, char *k)
{
	k[0] = 'n';
	k[1] = ip->family == AF_INET ? '4' : '6';
	k[2] = (char)len;
	memcpy(k + 3, ip->b, ip_maxlen(ip) / 8);
	return 3 + ip_maxlen(ip) / 8;
}

/* parse_value -- a word or a "quoted string" at *p; the value in out */
static int
parse_value(const char **p, struct buf *out)
{
	const char	*s = *p;

	if (*s != '"') {
		while (*s != '\0' && *s != ' ' && *s != '\t')
			buf_putc(out, *s++);
		*p = s;
		return 0;
	}
	for (s++; *s != '"'; s++) {
		if (*s == '\0')
			return -1;
		if (*s == '\\' && (s[1] == '"' || s[1] == '\\'))
			s++;
		buf_putc(out, *s);
	}
	*p = s + 1;
	return 0;
}

/* parse_fields -- `name=value ...` after the key into a new entry */
static struct entry *
parse_fields(const char *line, const char *p, const char *path,
    unsigned lineno, struct diag *d)
{
	struct entry	*e = xcalloc(1, sizeof(*e));
	struct buf	 v = BUF_INIT;
	const char	*n;
	size_t		 nl;

	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		for (n = p; isalnum((unsigned char)*p) || *p == '_' ||
		    *p == '-' || *p == '.'; p++)
			;
		nl = (size_t)(p - n);
		if (nl == 0 || *p != '=') {
			diag_error(d, path, lineno, (unsigned)(n - line) + 1,
			    "expected field=value");
			goto bad;
		}
		p++;
		buf_reset(&v);
		if (parse_value(&p, &v) == -1) {
			diag_error(d, path, lineno, (unsigned)(p - line) + 1,
			    "unterminated quoted value");
			goto bad;
		}
		e->f = xreallocarray(e->f, e->n + 1, sizeof(*e->f));
		e->f[e->n].name = xstrndup(n, nl);
		e->f[e->n].value = xstrdup(buf_str(&v));
		e->n++;
	}
	buf_free(&v);
	return e;
bad:
	buf_free(&v);
	entry_free(e);
	return NULL;
}

/* parse_line -- one line into the snapshot; errors to the diag */
static void
parse_line(struct snap *s, const char *line, const char *path,
    unsigned lineno, struct diag *d)
{
	const char	*p = line, *k;
	char		 key[KEY_MAX + 20];
	size_t		 kl, klen;
	struct ipaddr	 ip;
	unsigned	 plen;
	struct entry	*e;

	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0')
		return;
	for (k = p; *p != '\0' && *p != ' ' && *p != '\t'; p++)
		;
	kl = (size_t)(p - k);
	if (ip_parse_cidr(k, kl, &ip, &plen) == 0)
		klen = net_key(&ip, plen, key);
	else if (memchr(k, '/', kl) != NULL || (klen = str_key(k, kl, key)) == 0) {
		diag_error(d, path, lineno, (unsigned)(k - line) + 1,
		    "bad key \"%.*s\"", (int)(kl > 60 ? 60 : kl), k);
		return;
	}
	if ((e = parse_fields(line, p, path, lineno, d)) == NULL)
		return;
	if (hash_get(s->h, key, klen) != NULL) {
		diag_error(d, path, lineno, (unsigned)(k - line) + 1,
		    "duplicate key \"%.*s\"", (int)(kl > 60 ? 60 : kl), k);
		entry_free(e);
		return;
	}
	(void)hash_put(s->h, key, klen, e);
	s->count++;
	if (key[0] == 'n')
		(ip.family == AF_INET ? s->len4 : s->len6)[plen] = 1;
}

/* snap_read -- parse the file; NULL when it had errors */
static struct snap *
snap_read(const char *path, struct diag *d, struct timespec *mtime)
{
	FILE		*f;
	struct snap	*s;
	struct stat	 st;
	char		 line[LINE_MAX_LEN + 2];
	unsigned	 lineno = 0, before = d->errors;
	size_t		 len;

	if ((f = fopen(path, "r")) == NULL || fstat(fileno(f), &st) == -1) {
		diag_error(d, path, 0, 0, "cannot read table: %s", strerror(errno));
		if (f != NULL)
			(void)fclose(f);
		return NULL;
	}
	*mtime = st.st_mtim;
	s = xcalloc(1, sizeof(*s));
	s->refs = 1;
	s->h = hash_new();
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		len = strlen(line);
		if (len > LINE_MAX_LEN && line[len - 1] != '\n') {
			diag_error(d, path, lineno, 1, "line longer than %d bytes",
			    LINE_MAX_LEN);
			break;
		}
		if (s->count >= KEYS_MAX) {
			diag_error(d, path, lineno, 1, "more than %d keys", KEYS_MAX);
			break;
		}
		line[strcspn(line, "\r\n")] = '\0';
		if (line[strspn(line, " \t")] == '#')
			continue;
		parse_line(s, line, path, lineno, d);
	}
	(void)fclose(f);
	if (d->errors > before) {
		snap_unref(s);
		return NULL;
	}
	return s;
}

/* table_open -- read a table file; NULL (errors in the diag) on failure */
struct table *
table_open(const char *name, const char *path, struct diag *d)
{
	struct table	*t;
	struct snap	*s;
	struct timespec	 mt;

	if ((s = snap_read(path, d, &mt)) == NULL)
		return NULL;
	t = xcalloc(1, sizeof(*t));
	t->name = xstrdup(name);
	t->path = xstrdup(path);
	t->snap = s;
	t->mtime = mt;
	pthread_mutex_init(&t->lock, NULL);
	return t;
}

/* table_free -- free a table (NULL is fine) */
void
table_free(struct table *t)
{
	if (t == NULL)
		return;
	snap_unref(t->snap);
	pthread_mutex_destroy(&t->lock);
	free(t->name);
	free(t->path);
	free(t);
}

/* table_name -- the name given in the rules file */
const char *
table_name(const struct table *t)
{
	return t->name;
}

/* refresh -- re-read the file when its mtime changed (at most once a second) */
static void
refresh(struct table *t)
{
	struct timespec	 now, mt;
	struct stat	 st;
	struct diag	 d = DIAG_INIT;
	struct snap	*s, *old;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec == t->checked)
		return;
	t->checked = now.tv_sec;
	if (stat(t->path, &st) == -1 ||
	    (st.st_mtim.tv_sec == t->mtime.tv_sec &&
	    st.st_mtim.tv_nsec == t->mtime.tv_nsec))
		return;
	t->mtime = st.st_mtim;
	if ((s = snap_read(t->path, &d, &mt)) == NULL) {
		log_warn("table %s: %s changed but has errors; the old content "
		    "stays in force: %s", t->name, t->path, buf_str(&d.out));
		diag_free(&d);
		return;
	}
	t->mtime = mt;
	old = t->snap;
	t->snap = s;
	snap_unref(old);
	log_info("table %s: reloaded %s: %zu keys", t->name, t->path, s->count);
	diag_free(&d);
}

/* acquire -- the current snapshot, with a reference */
static struct snap *
acquire(struct table *t)
{
	struct snap	*s;

	pthread_mutex_lock(&t->lock);
	refresh(t);
	s = t->snap;
	__atomic_add_fetch(&s->refs, 1, __ATOMIC_ACQ_REL);
	pthread_mutex_unlock(&t->lock);
	return s;
}

/* table_count -- keys in force */
size_t
table_count(struct table *t)
{
	struct snap	*s = acquire(t);
	size_t		 n = s->count;

	snap_unref(s);
	return n;
}

/* candidates -- the entries of q, most specific first; their number */
static size_t
candidates(const struct snap *s, const struct table_query *q,
    const struct entry **out, size_t max)
{
	const char	*str[4] = { q->login, q->address, NULL, NULL };
	char		 key[KEY_MAX + 20];
	size_t		 n = 0, i, kl;
	const char	*at;
	int		 len;
	struct ipaddr	 m;

	if (q->address != NULL && (at = strrchr(q->address, '@')) != NULL)
		str[2] = at;
	else if (q->address != NULL)
		str[2] = NULL;
	if (q->login != NULL && (at = strrchr(q->login, '@')) != NULL)
		str[3] = at;
	for (i = 0; i < 4 && n < max; i++) {
		if (str[i] == NULL || (kl = str_key(str[i], strlen(str[i]), key)) == 0)
			continue;
		if ((out[n] = hash_get(s->h, key, kl)) != NULL)
			n++;
	}
	/* a bare domain as the address also matches @domain */
	if (q->address != NULL && strchr(q->address, '@') == NULL && n < max &&
	    strlen(q->address) < KEY_MAX) {
		key[0] = 'k';
		key[1] = '@';
		kl = str_key(q->address, strlen(q->address), key + 1);
		key[1] = '@';
		key[0] = 'k';
		if (kl != 0 && (out[n] = hash_get(s->h, key, kl + 1)) != NULL)
			n++;
	}
	for (len = q->ip != NULL ? (int)ip_maxlen(q->ip) : -1; len >= 0 && n < max; len--) {
		if (!(q->ip->family == AF_INET ? s->len4 : s->len6)[len])
			continue;
		m = *q->ip;
		ip_mask(&m, (unsigned)len);
		if ((out[n] = hash_get(s->h, key, net_key(&m, (unsigned)len, key))) != NULL)
			n++;
	}
	return n;
}

/* table_get -- the value of field for q: 1 found, 0 not found, -1 too long */
int
table_get(struct table *t, const struct table_query *q, const char *field,
    char *out, size_t outlen)
{
	struct snap		*s = acquire(t);
	const struct entry	*c[8];
	size_t			 n = candidates(s, q, c, 8), i, j;
	int			 rc = 0;

	for (i = 0; i < n && rc == 0; i++) {
		for (j = 0; j < c[i]->n; j++) {
			if (strcmp(c[i]->f[j].name, field) != 0)
				continue;
			rc = strlcpy(out, c[i]->f[j].value, outlen) < outlen ? 1 : -1;
			break;
		}
	}
	snap_unref(s);
	return rc;
}

/* table_has -- does any key match q? */
int
table_has(struct table *t, const struct table_query *q)
{
	struct snap		*s = acquire(t);
	const struct entry	*c[8];
	int			 rc = candidates(s, q, c, 8) > 0;

	snap_unref(s);
	return rc;
}
