/*
 * table -- key/value files with most-specific-key lookups (see table.h).
 *
 * The content is an immutable, reference-counted snapshot: a hash of keys
 * ('k' + lower-cased login, address or @domain; 'n' + family, prefix
 * length and masked bytes for networks) to entries of fields. A lookup
 * probes a handful of keys plus one per prefix length in use, whatever
 * the size of the file.
 *
 * File syntax, one entry per line; blanks are spaces and tabs:
 *   KEY [NAME=VALUE ...] [# comment]
 * KEY is an IP, a CIDR, @domain, local@domain or a login: printable bytes
 * (UTF-8 allowed) without '"' or '=', at most KEY_MAX bytes. NAME is
 * [A-Za-z0-9_.-]+ and compares exactly; VALUE is a word (no blanks, no
 * '"') or a "quoted string" where \" and \\ are escapes. Control bytes
 * (but tab in quotes) are errors. A key given twice (case-insensitively,
 * or the same network) or a field given twice on a line is an error at
 * its second place. Every error goes to the diag as FILE:LINE:COL and the
 * whole file is refused; reading goes on to report all of them. Lines are
 * at most LINE_MAX_LEN bytes, files at most KEYS_MAX keys.
 *
 * Reload: on lookup, at most once per clock second, the file is stat()ed;
 * when its mtime, size or inode changed it is read again outside the lock
 * (one thread reloads, the others keep using the snapshot in force) and
 * swapped in under the lock; lookups in flight keep the old snapshot
 * until they drop it. A failed re-read is logged (log_warn) and the old
 * content stays in force until the file changes again.
 *
 * Functions return 0 or -1 unless the header says otherwise.
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
#include "compat.h"
#include "file.h"
#include "hash.h"
#include "log.h"
#include "table.h"
#include "xalloc.h"

#define LINE_MAX_LEN	4096
#define KEYS_MAX	1000000
#define TABLE_FILE_MAX	(256 * 1024 * 1024)	/* bytes of a table file */
#define KEY_MAX		320
#define KEYBUF		(KEY_MAX + 20)
#define CAND_MAX	(5 + 129)	/* strings, then one per prefix length */
#define LOG_ERRORS_MAX	20		/* error lines logged for a failed reload */

enum line_rc {
	LINE_OK,
	LINE_EOF,
	LINE_LONG,
	LINE_NUL
};

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
	unsigned char	 len4[33], len6[129];	/* prefix lengths in use */
	size_t		 count;
};

struct fileid {
	struct timespec	 mtime;
	off_t		 size;
	ino_t		 ino;
	dev_t		 dev;
};

struct table {
	char		*name;
	char		*path;
	pthread_mutex_t	 lock;		/* guards everything below */
	struct snap	*snap;
	struct fileid	 id;		/* of the file last read */
	time_t		 checked;	/* clock second of the last stat */
	int		 reloading;
	int		 missing;	/* stat failed (logged once) */
};

static time_t	mono_now(void);
static time_t	(*clock_fn)(void) = mono_now;

/* mono_now -- seconds of the monotonic clock */
static time_t
mono_now(void)
{
	struct timespec	now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec;
}

/* table_set_clock -- tests: replace the reload clock (NULL: the real one) */
void
table_set_clock(time_t (*fn)(void))
{
	clock_fn = fn != NULL ? fn : mono_now;
}

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

/* snap_unref -- drop a reference; the last one frees the snapshot */
static void
snap_unref(struct snap *s)
{
	if (s == NULL || __atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	hash_free(s->h, entry_free);
	free(s);
}

/* str_key -- 'k' + lower-cased text into k[KEYBUF]; its length, 0 if too long */
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

/* blank -- space or tab */
static int
blank(int c)
{
	return c == ' ' || c == '\t';
}

/* ctl -- a control byte (NUL to US and DEL) */
static int
ctl(int c)
{
	return (unsigned char)c < 0x20 || c == 0x7f;
}

/* parse_value -- a word or a "quoted string" at *p into out; NULL or an error */
static const char *
parse_value(const char **p, struct buf *out)
{
	const char	*s = *p;

	if (*s != '"') {
		for (; *s != '\0' && !blank(*s); s++) {
			*p = s;
			if (*s == '"')
				return "'\"' inside a value (quote the whole value)";
			if (ctl(*s))
				return "control byte in a value";
			buf_putc(out, *s);
		}
		*p = s;
		return NULL;
	}
	for (s++; *s != '"'; s++) {
		*p = s;
		if (*s == '\0')
			return "unterminated quoted value";
		if (ctl(*s) && *s != '\t')
			return "control byte in a value";
		if (*s == '\\' && (s[1] == '"' || s[1] == '\\'))
			s++;
		buf_putc(out, *s);
	}
	*p = s + 1;
	if (**p != '\0' && !blank(**p))
		return "expected a blank after the closing '\"'";
	return NULL;
}

/* has_field -- is name (nl bytes) already in e? */
static int
has_field(const struct entry *e, const char *name, size_t nl)
{
	size_t	i;

	for (i = 0; i < e->n; i++)
		if (strlen(e->f[i].name) == nl && memcmp(e->f[i].name, name, nl) == 0)
			return 1;
	return 0;
}

/* parse_fields -- `name=value ...` after the key into a new entry; NULL on error */
static struct entry *
parse_fields(const char *line, const char *p, const char *path,
    unsigned lineno, struct diag *d)
{
	struct entry	*e = xcalloc(1, sizeof(*e));
	struct buf	 v = BUF_INIT;
	const char	*n, *err;
	size_t		 nl;

	for (;;) {
		while (blank(*p))
			p++;
		if (*p == '\0' || *p == '#')
			break;
		for (n = p; isalnum((unsigned char)*p) || *p == '_' ||
		    *p == '-' || *p == '.'; p++)
			;
		nl = (size_t)(p - n);
		if (nl == 0 || *p != '=') {
			err = "expected field=value";
			p = n;
			goto bad;
		}
		if (has_field(e, n, nl)) {
			err = "field given twice";
			p = n;
			goto bad;
		}
		p++;
		buf_reset(&v);
		if ((err = parse_value(&p, &v)) != NULL)
			goto bad;
		e->f = xreallocarray(e->f, e->n + 1, sizeof(*e->f));
		e->f[e->n].name = xstrndup(n, nl);
		e->f[e->n].value = xstrdup(buf_str(&v));
		e->n++;
	}
	buf_free(&v);
	return e;
bad:
	diag_error(d, path, lineno, (unsigned)(p - line) + 1, "%s", err);
	buf_free(&v);
	entry_free(e);
	return NULL;
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

/* key_error -- why k (kl bytes, not an IP or CIDR) is not a key, or NULL */
static const char *
key_error(const char *k, size_t kl)
{
	const char	*at = NULL;
	size_t		 i;

	if (kl > KEY_MAX)
		return "key longer than 320 bytes";
	if (memchr(k, '/', kl) != NULL || (memchr(k, '.', kl) != NULL &&
	    all_of(k, kl, "0123456789.")) ||
	    (memchr(k, ':', kl) != NULL && (memchr(k, '%', kl) != NULL ||
	    all_of(k, kl, "0123456789abcdefABCDEF:.[]"))))
		return "not a valid IP address or network";
	for (i = 0; i < kl; i++) {
		if (ctl(k[i]) || k[i] == '"' || k[i] == '=')
			return "a key has no control bytes, '\"' or '='";
		if (k[i] == '@')
			at = k + i;
	}
	if (at != NULL && at == k + kl - 1)
		return "no domain after '@'";
	return NULL;
}

/* parse_key -- the key k (kl bytes) into key[KEYBUF]; its length, 0 on error */
static size_t
parse_key(struct snap *s, const char *k, size_t kl, char *key)
{
	struct ipaddr	ip;
	unsigned	plen;
	size_t		klen;

	if (ip_parse_cidr(k, kl, &ip, &plen) == 0) {
		klen = net_key(&ip, plen, key);
		if (hash_get(s->h, key, klen) == NULL)
			(ip.family == AF_INET ? s->len4 : s->len6)[plen] = 1;
		return klen;
	}
	if (key_error(k, kl) != NULL)
		return 0;
	return str_key(k, kl, key);
}

/* parse_line -- one line into the snapshot; errors to the diag */
static void
parse_line(struct snap *s, const char *line, const char *path,
    unsigned lineno, struct diag *d)
{
	const char	*p = line, *k;
	char		 key[KEYBUF];
	size_t		 kl, klen;
	struct entry	*e;
	unsigned	 col;

	while (blank(*p))
		p++;
	if (*p == '\0' || *p == '#')
		return;
	for (k = p; *p != '\0' && !blank(*p); p++)
		;
	kl = (size_t)(p - k);
	col = (unsigned)(k - line) + 1;
	if ((klen = parse_key(s, k, kl, key)) == 0) {
		diag_error(d, path, lineno, col, "bad key \"%.*s\": %s",
		    (int)(kl > 60 ? 60 : kl), k, key_error(k, kl));
		return;
	}
	if ((e = parse_fields(line, p, path, lineno, d)) == NULL)
		return;
	if (hash_get(s->h, key, klen) != NULL) {
		diag_error(d, path, lineno, col, "duplicate key \"%.*s\"",
		    (int)(kl > 60 ? 60 : kl), k);
		entry_free(e);
		return;
	}
	(void)hash_put(s->h, key, klen, e);
	s->count++;
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

/* file_id -- what tells one version of the file from another */
static void
file_id(const struct stat *st, struct fileid *id)
{
	memset(id, 0, sizeof(*id));
	id->mtime = st->st_mtim;
	id->size = st->st_size;
	id->ino = st->st_ino;
	id->dev = st->st_dev;
}

/* same_id -- the same version? */
static int
same_id(const struct fileid *a, const struct fileid *b)
{
	return a->mtime.tv_sec == b->mtime.tv_sec &&
	    a->mtime.tv_nsec == b->mtime.tv_nsec && a->size == b->size &&
	    a->ino == b->ino && a->dev == b->dev;
}

/* read_lines -- parse every line of f into s */
static void
read_lines(FILE *f, struct snap *s, const char *path, struct diag *d)
{
	char		*line = xmalloc(LINE_MAX_LEN + 2);
	unsigned	 lineno = 0;
	size_t		 len;
	enum line_rc	 rc;

	while ((rc = read_line(f, line, LINE_MAX_LEN, &len)) != LINE_EOF) {
		lineno++;
		if (rc == LINE_LONG) {
			diag_error(d, path, lineno, LINE_MAX_LEN + 1,
			    "line longer than %d bytes", LINE_MAX_LEN);
		} else if (rc == LINE_NUL) {
			diag_error(d, path, lineno, (unsigned)len + 1,
			    "NUL byte in line");
		} else if (s->count >= KEYS_MAX) {
			if (line[strspn(line, " \t")] != '\0' &&
			    line[strspn(line, " \t")] != '#') {
				diag_error(d, path, lineno, 1,
				    "more than %d keys", KEYS_MAX);
				break;
			}
		} else
			parse_line(s, line, path, lineno, d);
	}
	if (ferror(f))
		diag_error(d, path, lineno + 1, 0, "read error: %s",
		    strerror(errno));
	free(line);
}

/* snap_read -- parse the file; NULL when it had errors */
static struct snap *
snap_read(const char *path, struct diag *d, struct fileid *id)
{
	FILE		*f = NULL;
	struct snap	*s;
	struct stat	 st;
	struct buf	 data = BUF_INIT;
	unsigned	 before = d->errors;

	/* read whole first: a file that changes while read is refused (file.h) */
	if (file_read(path, TABLE_FILE_MAX, "table", &data, &st, d) == -1) {
		buf_free(&data);
		return NULL;
	}
	if (data.len > 0 && (f = fmemopen(data.data, data.len, "r")) == NULL) {
		diag_error(d, path, 0, 0, "cannot read table: %s", strerror(errno));
		buf_free(&data);
		return NULL;
	}
	file_id(&st, id);
	s = xcalloc(1, sizeof(*s));
	s->refs = 1;
	s->h = hash_new();
	if (f != NULL) {
		read_lines(f, s, path, d);
		(void)fclose(f);
	}
	buf_free(&data);
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
	struct fileid	 id;

	if ((s = snap_read(path, d, &id)) == NULL)
		return NULL;
	t = xcalloc(1, sizeof(*t));
	t->name = xstrdup(name);
	t->path = xstrdup(path);
	t->snap = s;
	t->id = id;
	t->checked = clock_fn();
	if (pthread_mutex_init(&t->lock, NULL) != 0)
		log_panic("table %s: pthread_mutex_init failed", name);
	return t;
}

/* table_free -- free a table (NULL is fine); no lookup may be running */
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

/* log_failed -- a re-read failed: say so, with its first error lines */
static void
log_failed(const struct table *t, const struct diag *d)
{
	const char	*p = buf_str(&d->out);
	unsigned	 n;
	size_t		 len;

	log_warn("table %s: %s changed but has %u error%s; the old content "
	    "stays in force", t->name, t->path, d->errors,
	    d->errors == 1 ? "" : "s");
	for (n = 0; *p != '\0' && n < LOG_ERRORS_MAX; n++) {
		len = strcspn(p, "\n");
		log_warn("table %s: %.*s", t->name, (int)len, p);
		p += len + (p[len] != '\0');
	}
}

/*
 * refresh -- re-read the file when it changed (stat at most once a clock
 * second). Called with the lock held; drops it while reading. Returns the
 * replaced snapshot, for the caller to unref once the lock is released.
 */
static struct snap *
refresh(struct table *t)
{
	struct stat	 st;
	struct diag	 d = DIAG_INIT;
	struct snap	*s, *old = NULL;
	struct fileid	 id;
	time_t		 now = clock_fn();

	if (t->reloading || now == t->checked)
		return NULL;
	t->checked = now;
	if (stat(t->path, &st) == -1) {
		if (!t->missing)
			log_warn("table %s: %s: %s; the old content stays in "
			    "force", t->name, t->path, strerror(errno));
		t->missing = 1;
		return NULL;
	}
	t->missing = 0;
	file_id(&st, &id);
	if (same_id(&id, &t->id))
		return NULL;
	t->id = id;		/* a broken version is tried once */
	t->reloading = 1;
	pthread_mutex_unlock(&t->lock);
	s = snap_read(t->path, &d, &id);
	pthread_mutex_lock(&t->lock);
	t->reloading = 0;
	if (s == NULL)
		log_failed(t, &d);
	else {
		t->id = id;
		old = t->snap;
		t->snap = s;
		log_info("table %s: reloaded %s: %zu keys", t->name, t->path,
		    s->count);
	}
	diag_free(&d);
	return old;
}

/* acquire -- the current snapshot, with a reference */
static struct snap *
acquire(struct table *t)
{
	struct snap	*s, *old;

	pthread_mutex_lock(&t->lock);
	old = refresh(t);
	s = t->snap;
	__atomic_add_fetch(&s->refs, 1, __ATOMIC_ACQ_REL);
	pthread_mutex_unlock(&t->lock);
	snap_unref(old);
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

/* probe -- append the entry of a string key (optionally '@' + s) to out */
static size_t
probe(const struct snap *s, const char *str, int at, const struct entry **out,
    size_t n)
{
	char		 key[KEYBUF + 1];
	size_t		 kl;

	if (str == NULL || (kl = str_key(str, strlen(str), key + at)) == 0 ||
	    kl + (size_t)at > KEY_MAX + 1)
		return n;
	if (at) {
		key[0] = 'k';
		key[1] = '@';
	}
	if ((out[n] = hash_get(s->h, key, kl + (size_t)at)) != NULL)
		n++;
	return n;
}

/* candidates -- the entries of q, most specific first; their number */
static size_t
candidates(const struct snap *s, const struct table_query *q,
    const struct entry *out[CAND_MAX])
{
	const char	*ad = NULL, *ld = NULL;
	char		 key[KEYBUF];
	size_t		 n = 0;
	int		 len;
	struct ipaddr	 m;

	if (q->address != NULL)
		ad = strrchr(q->address, '@');
	if (q->login != NULL)
		ld = strrchr(q->login, '@');
	n = probe(s, q->login, 0, out, n);
	n = probe(s, q->address, 0, out, n);
	if (ad != NULL && ad != q->address)
		n = probe(s, ad, 0, out, n);
	else if (ad == NULL)	/* a bare domain also matches @domain */
		n = probe(s, q->address, 1, out, n);
	if (ld != NULL && ld != q->login)
		n = probe(s, ld, 0, out, n);
	if (q->ip == NULL || q->ip->family == 0)
		return n;
	for (len = (int)ip_maxlen(q->ip); len >= 0; len--) {
		if (!(q->ip->family == AF_INET ? s->len4 : s->len6)[len])
			continue;
		m = *q->ip;
		ip_mask(&m, (unsigned)len);
		if ((out[n] = hash_get(s->h, key, net_key(&m, (unsigned)len,
		    key))) != NULL)
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
	const struct entry	*c[CAND_MAX];
	size_t			 n = candidates(s, q, c), i, j;
	int			 rc = 0;

	for (i = 0; i < n && rc == 0; i++) {
		for (j = 0; j < c[i]->n; j++) {
			if (strcmp(c[i]->f[j].name, field) != 0)
				continue;
			rc = strlcpy(out, c[i]->f[j].value, outlen) < outlen ?
			    1 : -1;
			break;
		}
	}
	if (rc == -1 && outlen > 0)
		out[0] = '\0';
	snap_unref(s);
	return rc;
}

/* table_has -- does any key match q? */
int
table_has(struct table *t, const struct table_query *q)
{
	struct snap		*s = acquire(t);
	const struct entry	*c[CAND_MAX];
	int			 rc = candidates(s, q, c) > 0;

	snap_unref(s);
	return rc;
}
