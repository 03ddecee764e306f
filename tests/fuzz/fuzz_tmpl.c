/*
 * fuzz_tmpl -- the first half of the input as a template, the second as
 * a hostile value (next to fixed hostile ones: CR/LF/NUL/'%'/UTF-8, and
 * 5000 '%' over the 1000-byte cap); the reply built from the expansion
 * must keep every invariant libmilter and SMTP need: 1 to 32 lines, at
 * most 510 octets a line as the client sees it ("451-4.7.1 " + text with
 * '%%' shown once), at most 980 stored bytes a line (libmilter's
 * MAXREPLYLEN), printable ASCII only, no lone '%', the footer last.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "diag.h"
#include "reply.h"

#define STORED_MAX	980	/* libmilter MAXREPLYLEN */

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct val {
	const uint8_t	*p;
	size_t		 len;
};

/* resolve -- every name is a variable: its length picks one of four */
static int
resolve(void *arg, const char *n, size_t len, unsigned col, int *id)
{
	(void)arg;
	(void)n;
	(void)col;
	*id = (int)(len % 4);
	return 0;
}

/* value -- the fuzz value, a fixed hostile one, a long '%' run, a part */
static void
value(void *arg, int id, struct buf *out)
{
	struct val	*v = arg;
	int		 i;

	switch (id) {
	case 0:
		buf_append(out, v->p, v->len);
		break;
	case 1:
		buf_append(out, "a\r\n250 ok\0%s%n\t\xc3\xa9\x7f%", 19);
		break;
	case 2:
		for (i = 0; i < 5000; i++)
			buf_putc(out, '%');
		break;
	default:
		buf_append(out, v->p, v->len / 2);
		break;
	}
}

/* check -- the reply invariants */
static void
check(const struct reply *r)
{
	unsigned	 i;
	size_t		 n;
	const char	*p;

	if (r->nlines == 0 || r->nlines > REPLY_MAX_LINES)
		abort();
	for (i = 0; i < r->nlines; i++) {
		if (r->line[i] == NULL || strlen(r->line[i]) > STORED_MAX)
			abort();
		n = strlen(r->code) + 1 + strlen(r->ecode) + 1;
		for (p = r->line[i]; *p != '\0'; p++, n++) {
			if (*p < ' ' || *p > '~')
				abort();
			if (*p == '%' && *++p != '%')
				abort();
		}
		if (n > REPLY_LINE_MAX)
			abort();
	}
}

/* check_log -- reply_format gives one printable line */
static void
check_log(const struct reply *r)
{
	struct buf	 log = BUF_INIT;
	size_t		 i;

	reply_format(r, &log);
	for (i = 0; i < log.len; i++)
		if (log.data[i] < ' ' || log.data[i] > '~')
			abort();
	buf_free(&log);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct diag	 d = DIAG_INIT;
	struct tmpl	*t;
	struct val	 v = { data + len / 2, len - len / 2 };
	struct buf	 out = BUF_INIT, foot = BUF_INIT;
	struct reply	 r;

	t = tmpl_compile((const char *)data, len / 2, resolve, NULL, &d, "f", 1, 1);
	if (t == NULL && d.errors == 0)
		abort();	/* a refused template always says why */
	if (t != NULL) {
		tmpl_expand(t, value, &v, &out);
		reply_sanitize(&foot, (const char *)v.p, v.len > 600 ? 600 : v.len);
		reply_build(&r, "451", "4.7.1", buf_str(&out), buf_str(&foot));
		check(&r);
		check_log(&r);
		reply_free(&r);
		/* a short footer is always the whole last line */
		reply_build(&r, "451", "4.7.1", buf_str(&out), "(ref A%1)");
		check(&r);
		if (strcmp(r.line[r.nlines - 1], "(ref A%%1)") != 0)
			abort();
		reply_free(&r);
		tmpl_free(t);
	}
	/* the raw fuzz bytes straight into reply_build */
	buf_reset(&out);
	buf_append(&out, data, len);
	reply_build(&r, "421", "4.7.0", buf_str(&out), NULL);
	check(&r);
	check_log(&r);
	reply_free(&r);
	buf_free(&out);
	buf_free(&foot);
	diag_free(&d);
	return 0;
}
