/*
 * rules -- loading a rule set, reference counting, and what it needs
 * (see rules.h; the work is done in rules_lex/parse/def/expr/eval.c).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "rules_int.h"
#include "xalloc.h"

/* free_named -- free definitions with their destructor */
static void
free_named(struct named *v, size_t n, void (*fn)(void *))
{
	size_t	i;

	for (i = 0; i < n; i++) {
		free(v[i].name);
		fn(v[i].p);
	}
	free(v);
}

/* d_list, d_table, d_limit, d_dnsbl -- destructors of definitions */
static void d_list(void *p) { list_free(p); }
static void d_table(void *p) { table_free(p); }
static void d_limit(void *p) { rl_limit_free(p); }
static void d_dnsbl(void *p) { dnsbl_free(p); }

/* rules_free_all -- free a rule set and everything in it */
void
rules_free_all(struct rules *r)
{
	size_t	i;

	for (i = 0; i < r->nrules; i++)
		rules_rule_free(&r->rule[i]);
	free(r->rule);
	tmpl_free(r->footer);
	free_named(r->lists, r->nlists, d_list);
	free_named(r->limits, r->nlimits, d_limit);
	free_named(r->tables, r->ntables, d_table);
	free_named(r->dnsbls, r->ndnsbls, d_dnsbl);
	free(r->dnsblv);
	free(r->limitv);
	free(r->tablev);
	for (i = 0; i < r->nfiles; i++)
		free(r->files[i]);
	free(r->files);
	free(r->path);
	free(r);
}

/* key_facts -- every limit is counted: the facts its keys are made of */
static void
key_facts(struct rules_needs *n, const struct rl_limit *l)
{
	static const enum fact part_fact[] = {
		[RL_PART_CLIENT_IP] = F_CLIENT_IP, [RL_PART_SASL_USER] = F_SASL_USER,
		[RL_PART_SENDER] = F_MAIL_FROM, [RL_PART_SENDER_DOMAIN] = F_MAIL_DOMAIN,
		[RL_PART_RCPT_DOMAIN] = F_RCPT_DOMAIN, [RL_PART_CUSTOMER] = F_CUSTOMER,
	};
	unsigned	i, j;

	for (i = 0; i < l->nkeys; i++)
		for (j = 0; j < l->key[i].nparts; j++)
			n->fact[part_fact[l->key[i].part[j]]] = 1;
	if (l->count == RL_COUNT_BYTES)
		n->body = 1;
}

/* finish -- the arrays the accessors return, and the body/header needs */
static void
finish(struct rules *r)
{
	size_t	i;

	r->limitv = xreallocarray(NULL, r->nlimits + 1, sizeof(*r->limitv));
	for (i = 0; i < r->nlimits; i++) {
		r->limitv[i] = r->limits[i].p;
		key_facts(&r->needs, r->limitv[i]);
	}
	r->tablev = xreallocarray(NULL, r->ntables + 1, sizeof(*r->tablev));
	for (i = 0; i < r->ntables; i++)
		r->tablev[i] = r->tables[i].p;
	r->dnsblv = xreallocarray(NULL, r->ndnsbls + 1, sizeof(*r->dnsblv));
	for (i = 0; i < r->ndnsbls; i++)
		r->dnsblv[i] = r->dnsbls[i].p;
	if (r->needs.fact[F_FROM_DOMAIN])
		r->needs.header = 1;
	if (r->needs.fact[F_SIZE])
		r->needs.body = 1;
}

/* rules_load -- read and check a rules file; NULL (errors in d) on any error */
struct rules *
rules_load(const char *path, struct diag *d)
{
	struct rules	*r = xcalloc(1, sizeof(*r));
	struct pctx	 c;
	unsigned	 before = d->errors;
	int		 rc;

	r->refs = 1;
	r->path = xstrdup(path);
	memset(&c, 0, sizeof(c));
	c.r = r;
	c.d = d;
	c.dir = "";
	c.names = hash_new();
	c.ids = hash_new();
	rc = parse_file(&c, path, NULL);
	hash_free(c.names, NULL);
	hash_free(c.ids, NULL);
	if (rc == -1 || d->errors > before) {
		rules_free_all(r);
		return NULL;
	}
	finish(r);
	return r;
}

/* rules_ref -- take a reference (NULL is fine) */
void
rules_ref(struct rules *r)
{
	if (r != NULL)
		__atomic_add_fetch(&r->refs, 1, __ATOMIC_ACQ_REL);
}

/* rules_unref -- drop a reference; the last one frees the set */
void
rules_unref(struct rules *r)
{
	if (r != NULL && __atomic_sub_fetch(&r->refs, 1, __ATOMIC_ACQ_REL) == 0)
		rules_free_all(r);
}

/* rules_summary -- "N rules (connect 2, rcpt 1), L lists, T tables, M limits, D dnsbls" */
void
rules_summary(const struct rules *r, struct buf *b)
{
	size_t		 n[STAGE_COUNT] = { 0 }, i;
	const char	*sep = "";

	for (i = 0; i < r->nrules; i++)
		n[r->rule[i].stage]++;
	buf_printf(b, "%zu rule%s", r->nrules, r->nrules == 1 ? "" : "s");
	if (r->nrules > 0) {
		buf_puts(b, " (");
		for (i = 0; i < STAGE_COUNT; i++) {
			if (n[i] == 0)
				continue;
			buf_printf(b, "%s%s %zu", sep, stage_name((enum stage)i), n[i]);
			sep = ", ";
		}
		buf_putc(b, ')');
	}
	buf_printf(b, ", %zu list%s, %zu table%s, %zu limit%s", r->nlists,
	    r->nlists == 1 ? "" : "s", r->ntables, r->ntables == 1 ? "" : "s",
	    r->nlimits, r->nlimits == 1 ? "" : "s");
	buf_printf(b, ", %zu dnsbl%s", r->ndnsbls, r->ndnsbls == 1 ? "" : "s");
}

/* rules_needs -- what the set needs from the MTA */
void
rules_needs(const struct rules *r, struct rules_needs *n)
{
	*n = r->needs;
}

/* rules_path -- the file the set was loaded from */
const char *
rules_path(const struct rules *r)
{
	return r->path;
}

/* rules_files -- every rules file read (the main one first, then includes) */
const char *const *
rules_files(const struct rules *r, size_t *n)
{
	*n = r->nfiles;
	return (const char *const *)r->files;
}

/* rules_footer -- the footer template or NULL */
const struct tmpl *
rules_footer(const struct rules *r)
{
	return r->footer;
}

/* rules_nlimits, rules_limits -- every limit defined */
size_t
rules_nlimits(const struct rules *r)
{
	return r->nlimits;
}

const struct rl_limit *const *
rules_limits(const struct rules *r)
{
	return (const struct rl_limit *const *)r->limitv;
}

/* rules_ntables, rules_tables -- every table defined, in file order */
size_t
rules_ntables(const struct rules *r)
{
	return r->ntables;
}

struct table *const *
rules_tables(const struct rules *r)
{
	return r->tablev;
}

/* rules_ndnsbls, rules_dnsbls -- every DNS list defined, in file order */
size_t
rules_ndnsbls(const struct rules *r)
{
	return r->ndnsbls;
}

struct dnsbl *const *
rules_dnsbls(const struct rules *r)
{
	return r->dnsblv;
}
