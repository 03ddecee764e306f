/*
 * fuzz_tmpl -- the first half of the input as a template, the second as
 * a hostile value; the reply built from it must keep every invariant
 * libmilter and SMTP need: at most 32 lines, at most 510 octets a line as
 * the client sees it, printable ASCII only, every '%' doubled.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "diag.h"
#include "reply.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct val {
	const uint8_t	*p;
	size_t		 len;
};

static int
resolve(void *arg, const char *n, size_t len, unsigned col, int *id)
{
	(void)arg;
	(void)n;
	(void)col;
	*id = (int)(len % 3);
	return 0;
}

static void
value(void *arg, int id, struct buf *out)
{
	struct val	*v = arg;

	buf_append(out, v->p, id == 0 ? v->len : v->len / (size_t)(id + 1));
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

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct diag	 d = DIAG_INIT;
	struct tmpl	*t;
	struct val	 v = { data + len / 2, len - len / 2 };
	struct buf	 out = BUF_INIT, foot = BUF_INIT;
	struct reply	 r;

	t = tmpl_compile((const char *)data, len / 2, resolve, NULL, &d, "f", 1, 1);
	if (t != NULL) {
		tmpl_expand(t, value, &v, &out);
		reply_sanitize(&foot, (const char *)v.p, v.len > 600 ? 600 : v.len);
		reply_build(&r, "451", "4.7.1", buf_str(&out), buf_str(&foot));
		check(&r);
		reply_free(&r);
		tmpl_free(t);
	}
	reply_build(&r, "421", "4.7.0", "", NULL);
	check(&r);
	reply_free(&r);
	buf_free(&out);
	buf_free(&foot);
	diag_free(&d);
	return 0;
}
