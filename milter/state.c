/*
 * state -- writing and reading the state file (see state.h).
 *
 * state_save(store, path, mono, wall, err) and state_load(store, path,
 * max_keys, mono, wall, stats, err) take the clocks as arguments (the
 * monotonic one of ratelimit.c, the wall clock in nanoseconds), so tests
 * can move time. state_save returns the number of cells written,
 * state_load 0; both -1 with the reason in err.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "compat.h"
#include "num.h"
#include "state.h"
#include "store.h"
#include "xalloc.h"

#define MAGIC		"mxgate-state 1 "
#define KEY_MAX		1024		/* bytes of a cell key */
#define LINE_MAX_LEN	(20 + 1 + 2 * KEY_MAX + 1)
#define FNV_INIT	0xcbf29ce484222325ULL

/* fnv -- FNV-1a 64 over len bytes, continuing from h */
static uint64_t
fnv(uint64_t h, const char *p, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* state_wallclock -- CLOCK_REALTIME in nanoseconds */
uint64_t
state_wallclock(void)
{
	struct timespec	t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (uint64_t)t.tv_sec * 1000000000ULL + (uint64_t)t.tv_nsec;
}

struct writer {
	struct buf	*out;
	size_t		 n;
};

/* put_cell -- one line for one cell */
static int
put_cell(void *arg, const char *key, size_t len, uint64_t level)
{
	static const char hex[] = "0123456789abcdef";
	struct writer	*w = arg;
	size_t		 i;

	if (len == 0 || len > KEY_MAX)
		return 0;
	buf_printf(w->out, "%" PRIu64 " ", level);
	for (i = 0; i < len; i++) {
		buf_putc(w->out, hex[(unsigned char)key[i] >> 4]);
		buf_putc(w->out, hex[(unsigned char)key[i] & 15]);
	}
	buf_putc(w->out, '\n');
	w->n++;
	return 0;
}

/* write_all -- all of len bytes to fd */
static int
write_all(int fd, const char *p, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* sync_dir -- fsync the directory of path, so that the rename lasts */
static void
sync_dir(const char *path)
{
	char	*copy = xstrdup(path);
	int	 fd;

	if ((fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		(void)fsync(fd);
		close(fd);
	}
	free(copy);
}

/* state_save -- write the store's live cells to path, atomically; how many, or -1 */
int
state_save(struct rl_store *s, const char *path, uint64_t mono, uint64_t wall,
    struct buf *err)
{
	struct buf	 out = BUF_INIT, tmp = BUF_INIT;
	struct writer	 w;
	int		 fd = -1, rc = -1;

	buf_printf(&out, MAGIC "%" PRIu64 "\n", wall);
	w.out = &out;
	w.n = 0;
	(void)s->ops->each(s, mono, put_cell, &w);
	buf_printf(&out, "end %zu %016" PRIx64 "\n", w.n,
	    fnv(FNV_INIT, out.data, out.len));
	buf_printf(&tmp, "%s.tmp", path);
	if (unlink(buf_str(&tmp)) == -1 && errno != ENOENT) {
		buf_printf(err, "%s: %s", buf_str(&tmp), strerror(errno));
		goto done;
	}
	fd = open(buf_str(&tmp), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (fd == -1 || write_all(fd, out.data, out.len) == -1 ||
	    fsync(fd) == -1) {
		buf_printf(err, "%s: %s", buf_str(&tmp), strerror(errno));
		goto done;
	}
	if (close(fd) == -1) {
		fd = -1;
		buf_printf(err, "%s: %s", buf_str(&tmp), strerror(errno));
		goto done;
	}
	fd = -1;
	if (rename(buf_str(&tmp), path) == -1) {
		buf_printf(err, "%s: %s", path, strerror(errno));
		goto done;
	}
	sync_dir(path);
	rc = (int)(w.n > INT_MAX ? INT_MAX : w.n);
done:
	if (fd != -1)
		close(fd);
	if (rc == -1)
		(void)unlink(buf_str(&tmp));
	buf_free(&out);
	buf_free(&tmp);
	return rc;
}

/* read_file -- the whole file, at most max bytes; 0 or -1 with err */
static int
read_file(const char *path, size_t max, struct buf *out, struct buf *err)
{
	struct stat	st;
	char		chunk[8192];
	ssize_t		n;
	int		fd;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		buf_printf(err, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		buf_printf(err, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (out->len + (size_t)n > max) {
			buf_printf(err, "%s: larger than %zu bytes", path, max);
			close(fd);
			return -1;
		}
		buf_append(out, chunk, (size_t)n);
	}
	close(fd);
	if (n == -1) {
		buf_printf(err, "%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* unhex -- one hex digit, or -1 */
static int
unhex(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * parse_cell -- "LEVEL HEXKEY" (without the newline) into level and key
 * (a cell key: two NUL separators, a name and a value); NULL or a reason
 */
static const char *
parse_cell(const char *p, size_t len, uint64_t *level, char *key,
    size_t *keylen)
{
	const char	*sp = memchr(p, ' ', len);
	size_t		 i, hl, nul = 0;
	int		 hi, lo;

	if (sp == NULL || num_parse(p, (size_t)(sp - p), 0, UINT64_MAX,
	    level) == -1)
		return "bad level";
	hl = len - (size_t)(sp + 1 - p);
	if (hl == 0 || hl % 2 != 0 || hl / 2 > KEY_MAX)
		return "bad key length";
	for (i = 0; i < hl / 2; i++) {
		if ((hi = unhex(sp[1 + 2 * i])) < 0 ||
		    (lo = unhex(sp[2 + 2 * i])) < 0)
			return "bad hex in the key";
		key[i] = (char)(hi << 4 | lo);
		if (key[i] == '\0') {
			if (i == 0 || (nul == 1 && key[i - 1] == '\0'))
				return "bad key";
			nul++;
		}
	}
	if (nul != 2 || key[hl / 2 - 1] == '\0')
		return "bad key";
	*keylen = hl / 2;
	return NULL;
}

/* check_end -- the last line: count and digest; the offset of that line */
static int
check_end(const struct buf *f, size_t *body_end, uint64_t *count)
{
	const char	*end = f->data + f->len, *p, *sp;
	uint64_t	 h;

	if (f->len == 0 || end[-1] != '\n')
		return -1;
	for (p = end - 1; p > f->data && p[-1] != '\n'; p--)
		;
	if (end - p < 6 || memcmp(p, "end ", 4) != 0 ||
	    (sp = memchr(p + 4, ' ', (size_t)(end - p - 5))) == NULL)
		return -1;
	if (num_parse(p + 4, (size_t)(sp - p - 4), 0, UINT64_MAX, count) == -1 ||
	    end - 1 - (sp + 1) != 16)
		return -1;
	for (h = 0, sp++; sp < end - 1; sp++) {
		if (unhex(*sp) < 0)
			return -1;
		h = h << 4 | (uint64_t)unhex(*sp);
	}
	*body_end = (size_t)(p - f->data);
	return fnv(FNV_INIT, f->data, *body_end) == h ? 0 : -1;
}

/*
 * state_parse -- the contents of a state file (len bytes; name for
 * messages) into the store, dropping cells whose state has run out; a
 * file that fails any check loads nothing
 */
int
state_parse(struct rl_store *s, const char *data, size_t len,
    const char *name, uint64_t mono, uint64_t wall, struct state_stats *st,
    struct buf *err)
{
	struct buf	 f;
	const char	*p, *nl, *why;
	char		 key[KEY_MAX];
	uint64_t	 written, count, level, gone, n;
	size_t		 body, keylen, line;
	int		 pass;

	memset(st, 0, sizeof(*st));
	f.data = (char *)data;
	f.len = len;
	f.cap = len;
	if (check_end(&f, &body, &count) == -1) {
		buf_printf(err, "%s: truncated or damaged (the end line or its "
		    "digest does not match)", name);
		return -1;
	}
	nl = memchr(f.data, '\n', body);
	if (nl == NULL || (size_t)(nl - f.data) <= sizeof(MAGIC) - 1 ||
	    memcmp(f.data, MAGIC, sizeof(MAGIC) - 1) != 0 ||
	    num_parse(f.data + sizeof(MAGIC) - 1,
	    (size_t)(nl - f.data) - (sizeof(MAGIC) - 1), 0, UINT64_MAX,
	    &written) == -1) {
		buf_printf(err, "%s:1: not an mxgate state file", name);
		return -1;
	}
	gone = wall > written ? wall - written : 0;
	/* pass 0 checks every line, pass 1 loads */
	for (pass = 0; pass < 2; pass++) {
		p = nl + 1;
		for (n = 0, line = 2; p < f.data + body; line++, n++) {
			const char *e = memchr(p, '\n', (size_t)(f.data + body - p));

			if ((why = parse_cell(p, (size_t)(e - p), &level, key,
			    &keylen)) != NULL) {
				buf_printf(err, "%s:%zu: %s", name, line, why);
				return -1;
			}
			p = e + 1;
			if (pass == 0)
				continue;
			if (level <= gone) {
				st->expired++;
				continue;
			}
			s->ops->put(s, key, keylen, rl_sat_add(mono, level - gone));
			st->loaded++;
		}
		if (pass == 0 && n != count) {
			buf_printf(err, "%s: %" PRIu64 " cells, but the end line "
			    "says %" PRIu64, name, n, count);
			return -1;
		}
	}
	return 0;
}

/* state_load -- read the state file at path into the store (see state_parse) */
int
state_load(struct rl_store *s, const char *path, size_t max_keys,
    uint64_t mono, uint64_t wall, struct state_stats *st, struct buf *err)
{
	struct buf	f = BUF_INIT;
	int		rc;

	memset(st, 0, sizeof(*st));
	if (read_file(path, (max_keys + 2) * (LINE_MAX_LEN + 1), &f, err) == -1)
		return -1;
	rc = state_parse(s, f.data != NULL ? f.data : "", f.len, path, mono,
	    wall, st, err);
	buf_free(&f);
	return rc;
}
