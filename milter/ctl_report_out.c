/*
 * ctl_report_out -- the text and the JSON form of `mxgatectl report`
 * (see ctl_report_int.h).
 *
 * Keys are decoded log values and may hold any byte but NUL. The text
 * form writes them as the log does (log_escape: \xHH outside printable
 * ASCII, quoted when they hold a space), so a terminal never gets a
 * control byte. The JSON form passes valid UTF-8 through, escapes '"',
 * '\' and control bytes as JSON wants, and writes U+FFFD for a byte that
 * is not UTF-8 (JSON strings are Unicode text).
 */
#include "config.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl_report_int.h"
#include "log.h"
#include "xalloc.h"

#define KEY_MIN		30	/* the key column of the text tables */
#define KEY_MAX		48

/* a table of the report: its title, data, order and key names */
struct section {
	const char		*title;
	const char		*json;		/* the JSON member */
	const char		*field;		/* the JSON name of a row's key */
	const struct rp_table	*t;
	int			 key_order;	/* 1: by key (hours); 0: by count */
	int			 raw;		/* keys are mxgate's own (hours, networks) */
};

static const char *const col_json[RP_NCOL] = {
	"tempfail", "would_tempfail", "reject", "would_reject"
};

/* sections -- the one-column tables, in report order */
static size_t
sections(const struct report *r, struct section *s)
{
	s[0] = (struct section){ "deferrals per DNS list", "per_list", "list",
	    &r->lists, 0, 0 };
	s[1] = (struct section){ "deferrals per login (sasl)", "per_login",
	    "login", &r->logins, 0, 0 };
	s[2] = (struct section){ "deferrals per client network (/24, /64)",
	    "per_client_net", "net", &r->nets, 0, 1 };
	s[3] = (struct section){ "deferrals per hour", "per_hour", "hour",
	    &r->hours, 1, 1 };
	return 4;
}

/* ctl_report_utf8 -- the length of the valid UTF-8 character at p, or 0 */
size_t
ctl_report_utf8(const unsigned char *p, size_t n)
{
	size_t		need, i;
	unsigned char	lo = 0x80, hi = 0xbf;

	if (n == 0)
		return 0;
	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		need = 1;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		need = 2;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		need = 3;
	else
		return 0;
	/* no overlong forms, no surrogates, nothing above U+10FFFF */
	if (p[0] == 0xe0)
		lo = 0xa0;
	else if (p[0] == 0xed)
		hi = 0x9f;
	else if (p[0] == 0xf0)
		lo = 0x90;
	else if (p[0] == 0xf4)
		hi = 0x8f;
	if (n < need + 1 || p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i <= need; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return need + 1;
}

/* --- text -------------------------------------------------------------- */

/* text_key -- a key as the text report shows it */
static void
text_key(struct buf *out, const char *key, int raw)
{
	if (raw)
		buf_puts(out, key);
	else
		log_escape(out, key);
}

/* pad -- spaces to column width w from the line's start at `from` */
static void
pad(struct buf *out, size_t from, size_t w)
{
	while (out->len - from < w)
		buf_putc(out, ' ');
}

/* key_width -- the key column's width for these rows */
static size_t
key_width(struct rp_row **v, size_t n, int raw)
{
	struct buf	k = BUF_INIT;
	size_t		i, w = KEY_MIN;

	for (i = 0; i < n && w < KEY_MAX; i++) {
		buf_reset(&k);
		text_key(&k, v[i]->key, raw);
		if (k.len + 2 > w)
			w = k.len + 2 < KEY_MAX ? k.len + 2 : KEY_MAX;
	}
	buf_free(&k);
	return w;
}

/* text_row -- "  KEY   N[ N...]" with ncol counts of width cw each */
static void
text_row(struct buf *out, const char *key, int raw, size_t w,
    const uint64_t *n, int ncol, const int *cw)
{
	size_t	start = out->len;
	int	i;

	buf_puts(out, "  ");
	text_key(out, key, raw);
	buf_putc(out, ' ');
	pad(out, start, w + 2);
	for (i = 0; i < ncol; i++)
		buf_printf(out, "%*" PRIu64, cw[i] + (i ? 2 : 0), n[i]);
	buf_putc(out, '\n');
}

/* text_header -- the report's first lines: the period and the counts of lines */
static void
text_header(const struct report *r, struct buf *out)
{
	static const int cw[1] = { 8 };
	const char	*names[8] = { "files", "lines", "decision lines",
	    "other lines", "malformed (skipped)", "over 8 KiB (skipped)",
	    "decisions without a time", "decisions outside the period" };
	const uint64_t	 v[8] = { r->files, r->lines, r->decisions, r->other,
	    r->malformed, r->too_long, r->no_time, r->outside };
	int		 i;

	buf_puts(out, "mxgate report (times in ");
	ctl_report_zone(out);
	if (r->seen) {
		buf_puts(out, "; decisions from ");
		ctl_report_time(r->first, 0, out);
		buf_puts(out, " to ");
		ctl_report_time(r->last, 0, out);
	}
	buf_puts(out, ")\nperiod: ");
	if (!r->has_since && !r->has_until)
		buf_puts(out, "every line");
	if (r->has_since) {
		buf_puts(out, "since ");
		ctl_report_time(r->since, 0, out);
	}
	if (r->has_until) {
		buf_puts(out, r->has_since ? ", until " : "until ");
		ctl_report_time(r->until, 0, out);
		buf_puts(out, " (not included)");
	}
	buf_puts(out, "\n\ninput\n");
	for (i = 0; i < 8; i++)
		text_row(out, names[i], 1, KEY_MIN, &v[i], 1, cw);
}

/* text_rules -- totals, then the table per rule with every outcome */
static void
text_rules(const struct report *r, struct buf *out)
{
	static const int cw1[1] = { 8 };
	static const int cw[RP_NCOL] = { 8, 11, 8, 12 };
	const char	*names[RP_NCOL + 1] = { "deferred (tempfail)",
	    "would defer (monitor mode)", "rejected",
	    "would reject (monitor mode)", "other (accept, log, header)" };
	struct rp_row	**v = ctl_report_sorted(&r->rules, 0);
	size_t		 i, w = key_width(v, r->rules.n, 0);
	int		 c;

	buf_puts(out, "\ndecisions in the period\n");
	for (c = 0; c < RP_NCOL; c++)
		text_row(out, names[c], 1, KEY_MIN, &r->n[c], 1, cw1);
	text_row(out, names[RP_NCOL], 1, KEY_MIN, &r->other_decisions, 1, cw1);
	buf_puts(out, "\ndeferrals per rule");
	pad(out, out->len - strlen("deferrals per rule"), w + 2);
	buf_puts(out, "deferred  would-defer  rejected  would-reject\n");
	for (i = 0; i < r->rules.n; i++)
		text_row(out, v[i]->key, 0, w, v[i]->n, RP_NCOL, cw);
	if (r->rules.n == 0)
		buf_puts(out, "  (none)\n");
	free(v);
}

/* text_table -- one single-count table */
static void
text_table(const struct section *s, struct buf *out)
{
	static const int cw[1] = { 8 };
	struct rp_row	**v = ctl_report_sorted(s->t, s->key_order);
	size_t		 i, w = key_width(v, s->t->n, s->raw);

	buf_printf(out, "\n%s\n", s->title);
	for (i = 0; i < s->t->n; i++)
		text_row(out, v[i]->key, s->raw, w, v[i]->n, 1, cw);
	if (s->t->n == 0)
		buf_puts(out, "  (none)\n");
	free(v);
}

/* rule_width -- the rule column of the refs: the longest rule shown, and 2 */
static size_t
rule_width(struct rp_ref **v, size_t n)
{
	struct buf	k = BUF_INIT;
	size_t		i, w = 6;

	for (i = 0; i < n; i++) {
		buf_reset(&k);
		log_escape(&k, v[i]->rule);
		if (k.len + 2 > w)
			w = k.len + 2 < KEY_MAX ? k.len + 2 : KEY_MAX;
	}
	buf_free(&k);
	return w;
}

/* text_refs -- the most recent deferrals, newest first */
static void
text_refs(const struct report *r, struct buf *out)
{
	struct rp_ref	**v = xreallocarray(NULL, r->nrefs + 1, sizeof(*v));
	size_t		  i, start, w;

	ctl_report_refs(r, v);
	w = rule_width(v, r->nrefs);
	buf_printf(out, "\nmost recent deferrals (newest first, at most %zu)\n",
	    r->top);
	if (r->nrefs > 0) {
		start = out->len;
		buf_puts(out, "  time                 ref           stage    rule");
		pad(out, start, 46 + w);
		buf_puts(out, "client\n");
	}
	for (i = 0; i < r->nrefs; i++) {
		start = out->len;
		buf_puts(out, "  ");
		ctl_report_time(v[i]->t, 0, out);
		buf_puts(out, "  ");
		log_escape(out, v[i]->ref);
		pad(out, start, 36);
		buf_putc(out, ' ');
		log_escape(out, v[i]->stage);
		pad(out, start, 45);
		buf_putc(out, ' ');
		log_escape(out, v[i]->rule);
		pad(out, start, 45 + w);
		buf_putc(out, ' ');
		log_escape(out, v[i]->client_name);
		buf_putc(out, '[');
		log_escape(out, v[i]->client_ip);
		buf_puts(out, "]\n");
	}
	if (r->nrefs == 0)
		buf_puts(out, "  (none)\n");
	free(v);
}

/* ctl_report_text -- the text report */
void
ctl_report_text(const struct report *r, struct buf *out)
{
	struct section	s[4];
	size_t		i, n = sections(r, s);

	text_header(r, out);
	text_rules(r, out);
	for (i = 0; i < n; i++)
		text_table(&s[i], out);
	text_refs(r, out);
}

/* --- JSON -------------------------------------------------------------- */

/* json_str -- a JSON string of s */
static void
json_str(struct buf *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t		n = strlen(s), k;

	buf_putc(out, '"');
	while (n > 0) {
		if (*p == '"' || *p == '\\') {
			buf_printf(out, "\\%c", *p);
			k = 1;
		} else if (*p < 0x20 || *p == 0x7f) {
			buf_printf(out, "\\u%04x", *p);
			k = 1;
		} else if ((k = ctl_report_utf8(p, n)) > 0) {
			buf_append(out, p, k);
		} else {
			buf_puts(out, "\\ufffd");
			k = 1;
		}
		p += k;
		n -= k;
	}
	buf_putc(out, '"');
}

/* json_time -- a time as an RFC 3339 JSON string, or null */
static void
json_time(struct buf *out, int set, int64_t t)
{
	if (!set) {
		buf_puts(out, "null");
		return;
	}
	buf_putc(out, '"');
	ctl_report_time(t, 1, out);
	buf_putc(out, '"');
}

/* json_head -- the period and the counts of lines and decisions */
static void
json_head(const struct report *r, struct buf *out)
{
	int	c;

	buf_puts(out, "{\n  \"since\": ");
	json_time(out, r->has_since, r->since);
	buf_puts(out, ",\n  \"until\": ");
	json_time(out, r->has_until, r->until);
	buf_puts(out, ",\n  \"first\": ");
	json_time(out, r->seen, r->first);
	buf_puts(out, ",\n  \"last\": ");
	json_time(out, r->seen, r->last);
	buf_printf(out, ",\n  \"input\": {\"files\": %" PRIu64 ", \"lines\": %"
	    PRIu64 ", \"decision_lines\": %" PRIu64 ", \"other_lines\": %"
	    PRIu64 ", \"malformed\": %" PRIu64 ", \"too_long\": %" PRIu64
	    ", \"no_time\": %" PRIu64 ", \"outside_period\": %" PRIu64 "},\n",
	    r->files, r->lines, r->decisions, r->other, r->malformed,
	    r->too_long, r->no_time, r->outside);
	buf_puts(out, "  \"decisions\": {");
	for (c = 0; c < RP_NCOL; c++)
		buf_printf(out, "\"%s\": %" PRIu64 ", ", col_json[c], r->n[c]);
	buf_printf(out, "\"other\": %" PRIu64 "},\n", r->other_decisions);
}

/* json_table -- "NAME": [{"FIELD": KEY, "tempfail": N[, ...]}, ...] */
static void
json_table(struct buf *out, const char *name, const char *field,
    const struct rp_table *t, int key_order, int ncol)
{
	struct rp_row	**v = ctl_report_sorted(t, key_order);
	size_t		  i;
	int		  c;

	buf_printf(out, "  \"%s\": [", name);
	for (i = 0; i < t->n; i++) {
		buf_printf(out, "%s\n    {\"%s\": ", i ? "," : "", field);
		json_str(out, v[i]->key);
		if (strcmp(name, "per_hour") == 0) {
			buf_puts(out, ", \"start\": ");
			json_time(out, 1, v[i]->start);
		}
		for (c = 0; c < ncol; c++)
			buf_printf(out, ", \"%s\": %" PRIu64, col_json[c], v[i]->n[c]);
		buf_putc(out, '}');
	}
	buf_puts(out, t->n ? "\n  ],\n" : "],\n");
	free(v);
}

/* json_refs -- "refs": the most recent deferrals, newest first */
static void
json_refs(const struct report *r, struct buf *out)
{
	struct rp_ref	**v = xreallocarray(NULL, r->nrefs + 1, sizeof(*v));
	size_t		  i;

	ctl_report_refs(r, v);
	buf_puts(out, "  \"refs\": [");
	for (i = 0; i < r->nrefs; i++) {
		buf_printf(out, "%s\n    {\"time\": ", i ? "," : "");
		json_time(out, 1, v[i]->t);
		buf_puts(out, ", \"ref\": ");
		json_str(out, v[i]->ref);
		buf_puts(out, ", \"rule\": ");
		json_str(out, v[i]->rule);
		buf_puts(out, ", \"stage\": ");
		json_str(out, v[i]->stage);
		buf_puts(out, ", \"client_name\": ");
		json_str(out, v[i]->client_name);
		buf_puts(out, ", \"client_ip\": ");
		json_str(out, v[i]->client_ip);
		buf_putc(out, '}');
	}
	buf_puts(out, r->nrefs ? "\n  ]\n}\n" : "]\n}\n");
	free(v);
}

/* ctl_report_json -- the report as one JSON object */
void
ctl_report_json(const struct report *r, struct buf *out)
{
	struct section	s[4];
	size_t		i, n = sections(r, s);

	json_head(r, out);
	json_table(out, "per_rule", "rule", &r->rules, 0, RP_NCOL);
	for (i = 0; i < n; i++)
		json_table(out, s[i].json, s[i].field, s[i].t, s[i].key_order, 1);
	json_refs(r, out);
}
