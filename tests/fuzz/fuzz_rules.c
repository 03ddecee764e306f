/*
 * fuzz_rules -- any bytes as a rules file: rules_load must report errors
 * or load, never crash, leak or read out of bounds. A set that loads is
 * also evaluated at every stage with facts and limits derived from the
 * input, so conditions of every kind run. The file goes into a private
 * directory so that relative includes and globs stay inside it.
 */
#include "config.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diag.h"
#include "rules.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char *vals[] = { "", "x", "a@b.test", "192.0.2.1", "2001:db8::1",
			      "42", "0", "postmaster@example.com" };

struct fenv {
	unsigned	seed;
	unsigned	nmatched;
};

/* pick -- a value chosen by the input and the fact */
static unsigned
pick(struct fenv *e, unsigned f)
{
	return (e->seed >> (f % 24)) ^ (f * 2654435761u);
}

/* fact_cb -- a fact value: text, number and IP agree as far as they can */
static int
fact_cb(void *arg, enum fact f, struct fact_value *v)
{
	struct fenv	*e = arg;
	unsigned	 k = pick(e, (unsigned)f);
	const char	*s = vals[k % (sizeof(vals) / sizeof(vals[0]))];

	memset(v, 0, sizeof(*v));
	if ((k >> 8) % 17 == 0)
		return -1;
	v->s = s;
	v->set = s[0] != '\0';
	v->n = strtoll(s, NULL, 10);
	if (fact_info(f)->type == FT_IP && ip_parse(s, strlen(s), &v->ip) == -1)
		v->set = 0;
	return 0;
}

/* limit_cb -- exceeded or not, by the input */
static int
limit_cb(void *arg, const struct rl_limit *l, struct rl_result *r)
{
	struct fenv	*e = arg;
	unsigned	 k = pick(e, (unsigned)strlen(l->name) + 40);

	memset(r, 0, sizeof(*r));
	if ((k >> 8) % 23 == 0)
		return -1;
	r->exceeded = k & 1;
	r->retry_after = r->exceeded ? 7 : 0;
	return 0;
}

/* matched_cb -- touch what the daemon would read */
static void
matched_cb(void *arg, const struct rules_match *m)
{
	struct fenv	*e = arg;

	if (m->rule != NULL && m->file != NULL && m->text != NULL)
		e->nmatched++;
}

/* eval_all -- every stage */
static void
eval_all(const struct rules *r, const uint8_t *data, size_t len)
{
	struct fenv		 e;
	struct rules_env	 env = { &e, fact_cb, limit_cb, matched_cb };
	struct rules_match	 m;
	struct rules_needs	 n;
	size_t			 i;
	int			 st;

	memset(&e, 0, sizeof(e));
	for (i = 0; i < len; i++)
		e.seed = e.seed * 31 + data[i];
	rules_needs(r, &n);
	for (st = STAGE_CONNECT; st < STAGE_COUNT; st++)
		if (rules_eval(r, (enum stage)st, &env, &m) == 1 && m.rule == NULL)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char		 dir[] = "/tmp/fuzz_rules.XXXXXX", path[64];
	int		 fd;
	struct diag	 d = DIAG_INIT;
	struct rules	*r;
	struct buf	 b = BUF_INIT;

	if (mkdtemp(dir) == NULL)
		return 0;
	(void)snprintf(path, sizeof(path), "%s/main.rules", dir);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600)) == -1 ||
	    write(fd, data, len) != (ssize_t)len) {
		if (fd != -1)
			close(fd);
		unlink(path);
		rmdir(dir);
		return 0;
	}
	close(fd);
	r = rules_load(path, &d);
	if (r != NULL) {
		rules_summary(r, &b);
		eval_all(r, data, len);
		rules_unref(r);
	}
	buf_free(&b);
	diag_free(&d);
	unlink(path);
	rmdir(dir);
	return 0;
}
