/*
 * ctl_report -- `mxgatectl report`: read the logs, count (see
 * ctl_report.h; the writers are ctl_report_out.c and ctl_report_html.c).
 *
 * Files are read through logread.h's reader (plain and gzip alike, a
 * line over LOGLINE_MAX bytes skipped and counted, never split).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <zlib.h>

#include "ctl_report.h"
#include "ctl_report_int.h"
#include "ipaddr.h"
#include "logline.h"
#include "logread.h"
#include "num.h"
#include "xalloc.h"

#define TOP_DEFAULT	20
#define TOP_MAX		1000000

static void	tbl_init(struct rp_table *);
static void	tbl_free(struct rp_table *);

/* --- tables ------------------------------------------------------------ */

/* tbl_init -- an empty table */
static void
tbl_init(struct rp_table *t)
{
	memset(t, 0, sizeof(*t));
	t->h = hash_new();
}

/* tbl_free -- free the rows and the table */
static void
tbl_free(struct rp_table *t)
{
	size_t	i;

	for (i = 0; i < t->n; i++) {
		free(t->row[i]->key);
		free(t->row[i]->rule);
		free(t->row[i]);
	}
	free(t->row);
	hash_free(t->h, NULL);
	memset(t, 0, sizeof(*t));
}

/* tbl_row -- the row of key (made when new) */
static struct rp_row *
tbl_row(struct rp_table *t, const char *key, size_t len)
{
	struct rp_row	*r = hash_get(t->h, key, len);

	if (r != NULL)
		return r;
	r = xcalloc(1, sizeof(*r));
	/* not xstrndup: an hour x rule key holds a NUL */
	r->key = xmalloc(len + 1);
	memcpy(r->key, key, len);
	r->key[len] = '\0';
	r->len = len;
	(void)hash_put(t->h, key, len, r);
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 64;
		t->row = xreallocarray(t->row, t->cap, sizeof(*t->row));
	}
	t->row[t->n++] = r;
	return r;
}

/* by_count -- qsort: most deferrals first (then the other columns), then by key */
static int
by_count(const void *a, const void *b)
{
	const struct rp_row *x = *(const struct rp_row *const *)a;
	const struct rp_row *y = *(const struct rp_row *const *)b;
	int		 i;
	size_t		 n = x->len < y->len ? x->len : y->len;
	int		 c;

	for (i = 0; i < RP_NCOL; i++)
		if (x->n[i] != y->n[i])
			return x->n[i] > y->n[i] ? -1 : 1;
	if ((c = memcmp(x->key, y->key, n)) != 0)
		return c;
	return x->len < y->len ? -1 : x->len > y->len;
}

/* by_key -- qsort: by key (hours sort in time order) */
static int
by_key(const void *a, const void *b)
{
	const struct rp_row *x = *(const struct rp_row *const *)a;
	const struct rp_row *y = *(const struct rp_row *const *)b;
	size_t		 n = x->len < y->len ? x->len : y->len;
	int		 c;

	if ((c = memcmp(x->key, y->key, n)) != 0)
		return c;
	return x->len < y->len ? -1 : x->len > y->len;
}

/* ctl_report_sorted -- the rows in a new array (free it), by count or by key */
struct rp_row **
ctl_report_sorted(const struct rp_table *t, int key_order)
{
	struct rp_row	**v = xreallocarray(NULL, t->n + 1, sizeof(*v));

	if (t->n > 0)
		memcpy(v, t->row, t->n * sizeof(*v));
	qsort(v, t->n, sizeof(*v), key_order ? by_key : by_count);
	return v;
}

/* --- the most recent refs --------------------------------------------- */

/* older -- is a before b? */
static int
older(const struct rp_ref *a, const struct rp_ref *b)
{
	if (a->t != b->t)
		return a->t < b->t;
	if (a->usec != b->usec)
		return a->usec < b->usec;
	return a->seq < b->seq;
}

/* ref_free -- the strings of one ref */
static void
ref_free(struct rp_ref *f)
{
	free(f->ref);
	free(f->rule);
	free(f->stage);
	free(f->client_name);
	free(f->client_ip);
}

/* sift_down -- restore the min-heap below i */
static void
sift_down(struct rp_ref *h, size_t n, size_t i)
{
	struct rp_ref	tmp;
	size_t		c;

	for (; (c = 2 * i + 1) < n; i = c) {
		if (c + 1 < n && older(&h[c + 1], &h[c]))
			c++;
		if (!older(&h[c], &h[i]))
			break;
		tmp = h[c];
		h[c] = h[i];
		h[i] = tmp;
	}
}

/* sift_up -- restore the min-heap above i */
static void
sift_up(struct rp_ref *h, size_t i)
{
	struct rp_ref	tmp;

	for (; i > 0 && older(&h[i], &h[(i - 1) / 2]); i = (i - 1) / 2) {
		tmp = h[i];
		h[i] = h[(i - 1) / 2];
		h[(i - 1) / 2] = tmp;
	}
}

/* copy -- a copy of a log value, "" for none */
static char *
copy(const char *s)
{
	return xstrdup(s != NULL ? s : "");
}

/* keep_ref -- a deferral for the top refs, when it is among the newest */
static void
keep_ref(struct report *r, const struct logline *l)
{
	struct rp_ref	f;

	if (r->top == 0)
		return;
	f.t = l->time;
	f.usec = l->usec;
	f.seq = r->seq++;
	if (r->nrefs == r->top && !older(&r->refs[0], &f))
		return;
	f.ref = copy(l->ref);
	f.rule = copy(l->rule);
	f.stage = copy(l->stage);
	f.client_name = copy(l->client_name);
	f.client_ip = copy(l->client_ip);
	if (r->nrefs < r->top) {
		if (r->nrefs == r->refcap) {
			r->refcap = r->refcap ? r->refcap * 2 : 32;
			r->refs = xreallocarray(r->refs, r->refcap, sizeof(*r->refs));
		}
		r->refs[r->nrefs] = f;
		sift_up(r->refs, r->nrefs++);
		return;
	}
	ref_free(&r->refs[0]);
	r->refs[0] = f;
	sift_down(r->refs, r->nrefs, 0);
}

/* newest_first -- qsort: the most recent ref first */
static int
newest_first(const void *a, const void *b)
{
	const struct rp_ref *x = *(const struct rp_ref *const *)a;
	const struct rp_ref *y = *(const struct rp_ref *const *)b;

	return older(x, y) ? 1 : older(y, x) ? -1 : 0;
}

/* ctl_report_refs -- the kept refs into out (r->nrefs of them), newest first */
void
ctl_report_refs(const struct report *r, struct rp_ref **out)
{
	size_t	i;

	for (i = 0; i < r->nrefs; i++)
		out[i] = &r->refs[i];
	qsort(out, r->nrefs, sizeof(*out), newest_first);
}

/* --- counting ---------------------------------------------------------- */

/* ctl_report_time -- t as local "YYYY-MM-DD HH:MM:SS", or RFC 3339 (rfc = 1) */
void
ctl_report_time(int64_t t, int rfc, struct buf *out)
{
	struct tm	tm;
	time_t		tt = (time_t)t;
	char		s[64];
	size_t		n;

	if (localtime_r(&tt, &tm) == NULL) {
		buf_printf(out, "@%lld", (long long)t);
		return;
	}
	n = strftime(s, sizeof(s), rfc ? "%Y-%m-%dT%H:%M:%S%z" :
	    "%Y-%m-%d %H:%M:%S", &tm);
	if (rfc && n >= 5) {
		/* +HHMM -> +HH:MM */
		buf_append(out, s, n - 2);
		buf_printf(out, ":%s", s + n - 2);
		return;
	}
	buf_append(out, s, n);
}

/* ctl_report_zone -- the local time zone's name now ("UTC", "CET"), or "local time" */
void
ctl_report_zone(struct buf *out)
{
	time_t		now = time(NULL);
	struct tm	tm;
	char		s[64];

	if (localtime_r(&now, &tm) != NULL && strftime(s, sizeof(s), "%Z", &tm) > 0)
		buf_puts(out, s);
	else
		buf_puts(out, "local time");
}

/* count_hour -- the deferral in its hour, and in its hour x rule cell */
static void
count_hour(struct report *r, const struct logline *l)
{
	struct tm	 tm;
	time_t		 tt = (time_t)l->time;
	struct rp_row	*row;
	struct buf	 k = BUF_INIT;
	int64_t		 start;

	if (localtime_r(&tt, &tm) != NULL) {
		ctl_report_time(l->time, 0, &k);
		buf_truncate(&k, 13);
		buf_puts(&k, ":00");
		start = l->time - tm.tm_min * 60 - tm.tm_sec;
	} else {
		buf_printf(&k, "@%lld", (long long)l->time);
		start = l->time - l->time % 3600;
	}
	row = tbl_row(&r->hours, k.data, k.len);
	row->n[RP_TEMPFAIL]++;
	row->start = start;
	/* "HOUR\0RULE": a rule name holds no NUL */
	buf_putc(&k, '\0');
	buf_puts(&k, l->rule);
	row = tbl_row(&r->hour_rule, k.data, k.len);
	row->n[RP_TEMPFAIL]++;
	row->start = start;
	if (row->rule == NULL)
		row->rule = xstrdup(l->rule);
	buf_free(&k);
}

/* named -- is [name, name + len) among the NUL-separated names of seen? */
static int
named(const struct buf *seen, const char *name, size_t len)
{
	const char	*s, *end = seen->data + seen->len;

	for (s = seen->data; s != NULL && s < end; s += strlen(s) + 1)
		if (strlen(s) == len && memcmp(s, name, len) == 0)
			return 1;
	return 0;
}

/* count_lists -- the deferral once for every list its dnsbl= names */
static void
count_lists(struct report *r, const char *dnsbl)
{
	const char	*p, *q;
	size_t		 len;
	struct buf	 seen = BUF_INIT;	/* "name\0name\0..." */

	/* LIST[:LABELS](+W),LIST:failed,...: the name ends at ':' or '(' */
	for (p = dnsbl; *p != '\0'; p = *q == '\0' ? q : q + 1) {
		q = p + strcspn(p, ",");
		len = strcspn(p, ":(,");
		if (len == 0 || named(&seen, p, len))
			continue;
		buf_append(&seen, p, len);
		buf_putc(&seen, '\0');
		tbl_row(&r->lists, p, len)->n[RP_TEMPFAIL]++;
	}
	buf_free(&seen);
}

/* count_net -- the deferral for its client's /24 (IPv4) or /64 (IPv6) */
static void
count_net(struct report *r, const char *ipstr)
{
	struct ipaddr	ip;
	char		s[IP_STRLEN], key[IP_STRLEN + 8];
	unsigned	len;
	int		n;

	if (ipstr == NULL || ip_parse(ipstr, strlen(ipstr), &ip) == -1) {
		tbl_row(&r->nets, "unknown", 7)->n[RP_TEMPFAIL]++;
		return;
	}
	len = ip.family == AF_INET ? 24 : 64;
	ip_mask(&ip, len);
	ip_format(&ip, s, sizeof(s));
	n = snprintf(key, sizeof(key), "%s/%u", s, len);
	if (n < 0 || (size_t)n >= sizeof(key))
		n = snprintf(key, sizeof(key), "unknown");
	tbl_row(&r->nets, key, (size_t)n)->n[RP_TEMPFAIL]++;
}

/* outcome -- the column of an action word, or -1 for other decisions */
static int
outcome(const char *action)
{
	static const char *const words[RP_NCOL] = {
		"tempfail", "would_tempfail", "reject", "would_reject"
	};
	int	i;

	for (i = 0; i < RP_NCOL; i++)
		if (strcmp(action, words[i]) == 0)
			return i;
	return -1;
}

/* count -- one decision line */
static void
count(struct report *r, const struct logline *l)
{
	int	col;

	if (!l->has_time) {
		r->no_time++;
		return;
	}
	if ((r->has_since && l->time < r->since) ||
	    (r->has_until && l->time >= r->until)) {
		r->outside++;
		return;
	}
	if (!r->seen || l->time < r->first)
		r->first = l->time;
	if (!r->seen || l->time > r->last)
		r->last = l->time;
	r->seen = 1;
	if ((col = outcome(l->action)) == -1) {
		r->other_decisions++;
		return;
	}
	r->n[col]++;
	tbl_row(&r->rules, l->rule, strlen(l->rule))->n[col]++;
	if (col != RP_TEMPFAIL)
		return;
	if (l->dnsbl != NULL)
		count_lists(r, l->dnsbl);
	if (l->sasl != NULL && *l->sasl != '\0')
		tbl_row(&r->logins, l->sasl, strlen(l->sasl))->n[RP_TEMPFAIL]++;
	count_net(r, l->client_ip);
	count_hour(r, l);
	keep_ref(r, l);
}

/* --- reading ----------------------------------------------------------- */

/* read_lines -- count every line of an open reader; 0 or EX_DATAERR */
static int
read_lines(struct report *r, struct logread *lr, struct logline_ctx *ctx)
{
	struct logline	 l;
	const char	*line;
	size_t		 n;
	int		 rc;

	logline_init(&l);
	while ((rc = logread_next(lr, &line, &n)) == 1) {
		r->lines++;
		if (n > LOGLINE_MAX) {
			r->too_long++;
			continue;
		}
		switch (logline_parse(&l, line, n, ctx)) {
		case LOGLINE_DECISION:
			r->decisions++;
			count(r, &l);
			break;
		case LOGLINE_OTHER:
			r->other++;
			break;
		case LOGLINE_MALFORMED:
			r->malformed++;
			break;
		}
	}
	logline_free(&l);
	return rc == -1 ? logread_error(lr, "report") : 0;
}

/* read_file -- count the lines of one file ("-": standard input) */
static int
read_file(struct report *r, const char *path)
{
	struct logread	 lr;
	struct logline_ctx ctx;
	int		 rc;

	if ((rc = logread_open(&lr, path, &ctx, "report")) != 0)
		return rc;
	r->files++;
	rc = read_lines(r, &lr, &ctx);
	logread_close(&lr);
	return rc;
}

/* --- options ----------------------------------------------------------- */

/* report_synopsis -- the command's synopsis */
static void
report_synopsis(FILE *f)
{
	fprintf(f, "usage: mxgatectl [--json] report [--since T] [--until T] "
	    "[--html FILE] [-n N] [LOGFILE...]\n"
	    "  T: 2026-12-02, 2026-12-02T09:00[:SS][Z|+HH:MM], or 7d, 24h, "
	    "30m, 90s before now\n");
}

/* report_usage -- why, and the synopsis, on standard error; EX_USAGE */
static int
report_usage(const char *why, const char *arg)
{
	if (why != NULL)
		fprintf(stderr, "mxgatectl: report: %s%s%s\n", why,
		    arg != NULL ? ": " : "", arg != NULL ? arg : "");
	report_synopsis(stderr);
	return EX_USAGE;
}

/* parse_when -- T: an RFC 3339 date or date-time, or N[smhd] before now */
static int
parse_when(const char *s, int64_t *t)
{
	uint64_t	ago;
	size_t		len = strlen(s);

	if (logline_time(s, len, t) == 0)
		return 0;
	if (num_parse_duration(s, len, NUM_UNIT_REQUIRED, 0,
	    (uint64_t)100 * 366 * 86400, &ago) == -1)
		return -1;
	*t = (int64_t)time(NULL) - (int64_t)ago;
	return 0;
}

/* opt_value -- the value of --opt=V or of --opt V (advancing *i); NULL when missing */
static const char *
opt_value(int argc, char **argv, int *i, const char *name)
{
	size_t	len = strlen(name);

	if (strncmp(argv[*i], name, len) == 0 && argv[*i][len] == '=')
		return argv[*i] + len + 1;
	if (strcmp(argv[*i], name) != 0 || *i + 1 >= argc)
		return NULL;
	return argv[++*i];
}

/* is_opt -- is argv[i] the option name (alone or as name=V)? */
static int
is_opt(const char *arg, const char *name)
{
	size_t	len = strlen(name);

	return strncmp(arg, name, len) == 0 && (arg[len] == '\0' || arg[len] == '=');
}

/* one_option -- the option at argv[*i] into r; 0, EX_USAGE, or -1 after -h */
static int
one_option(struct report *r, int argc, char **argv, int *i)
{
	const char	*v, *arg = argv[*i];
	uint64_t	 n;

	if (strcmp(arg, "--json") == 0) {
		r->json = 1;
		return 0;
	}
	if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
		report_synopsis(stdout);
		return -1;
	}
	if (is_opt(arg, "--since") || is_opt(arg, "--until")) {
		if ((v = opt_value(argc, argv, i, arg[2] == 's' ? "--since" :
		    "--until")) == NULL)
			return report_usage("missing time after", arg);
		if (parse_when(v, arg[2] == 's' ? &r->since : &r->until) == -1)
			return report_usage("bad time", v);
		*(arg[2] == 's' ? &r->has_since : &r->has_until) = 1;
		return 0;
	}
	if (is_opt(arg, "--html")) {
		if ((v = opt_value(argc, argv, i, "--html")) == NULL || *v == '\0')
			return report_usage("missing file after", arg);
		r->html = v;
		return 0;
	}
	if (strcmp(arg, "-n") == 0) {
		if ((v = opt_value(argc, argv, i, "-n")) == NULL ||
		    num_parse(v, strlen(v), 0, TOP_MAX, &n) == -1)
			return report_usage("-n wants a number of refs (0 to 1000000)",
			    NULL);
		r->top = (size_t)n;
		return 0;
	}
	return report_usage("unknown option", arg);
}

/* parse_args -- options into r; *first is the first log file's index */
static int
parse_args(struct report *r, int argc, char **argv, int *first)
{
	int	i, rc;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		}
		if (argv[i][0] != '-' || strcmp(argv[i], "-") == 0)
			break;
		if ((rc = one_option(r, argc, argv, &i)) != 0)
			return rc;	/* -1: -h, answered */
	}
	if (r->has_since && r->has_until && r->until <= r->since)
		return report_usage("--until is not after --since", NULL);
	*first = i;
	return 0;
}

/* --- the command ------------------------------------------------------- */

/* report_free -- everything counted */
static void
report_free(struct report *r)
{
	size_t	i;

	tbl_free(&r->rules);
	tbl_free(&r->lists);
	tbl_free(&r->logins);
	tbl_free(&r->nets);
	tbl_free(&r->hours);
	tbl_free(&r->hour_rule);
	for (i = 0; i < r->nrefs; i++)
		ref_free(&r->refs[i]);
	free(r->refs);
}

/* write_html -- the page into path; 0 or EX_CANTCREAT */
static int
write_html(const struct report *r, const char *path)
{
	struct buf	 page = BUF_INIT;
	FILE		*f;
	int		 ok;

	ctl_report_html(r, &page);
	if ((f = fopen(path, "w")) == NULL) {
		fprintf(stderr, "mxgatectl: report: %s: %s\n", path, strerror(errno));
		buf_free(&page);
		return EX_CANTCREAT;
	}
	ok = fwrite(page.data, 1, page.len, f) == page.len;
	ok = fclose(f) == 0 && ok;
	buf_free(&page);
	if (!ok) {
		fprintf(stderr, "mxgatectl: report: %s: %s\n", path, strerror(errno));
		return EX_CANTCREAT;
	}
	return 0;
}

/* output -- the text or JSON report on standard output; 0 or EX_IOERR */
static int
output(const struct report *r)
{
	struct buf	out = BUF_INIT;
	int		ok;

	if (r->json)
		ctl_report_json(r, &out);
	else
		ctl_report_text(r, &out);
	ok = fwrite(out.data, 1, out.len, stdout) == out.len;
	ok = fflush(stdout) == 0 && ok;
	buf_free(&out);
	if (!ok) {
		fprintf(stderr, "mxgatectl: report: standard output: %s\n",
		    strerror(errno));
		return EX_IOERR;
	}
	return 0;
}

/* ctl_report -- `mxgatectl report ...` (see ctl_report.h) */
int
ctl_report(int argc, char **argv, int json)
{
	struct report	r;
	int		i, first, rc;

	memset(&r, 0, sizeof(r));
	r.json = json;
	r.top = TOP_DEFAULT;
	if ((rc = parse_args(&r, argc, argv, &first)) != 0)
		return rc == -1 ? 0 : rc;
	tbl_init(&r.rules);
	tbl_init(&r.lists);
	tbl_init(&r.logins);
	tbl_init(&r.nets);
	tbl_init(&r.hours);
	tbl_init(&r.hour_rule);
	if (first == argc)
		rc = read_file(&r, "-");
	for (i = first; i < argc && rc == 0; i++)
		rc = read_file(&r, argv[i]);
	if (rc == 0 && r.html != NULL)
		rc = write_html(&r, r.html);
	if (rc == 0)
		rc = output(&r);
	report_free(&r);
	return rc;
}
