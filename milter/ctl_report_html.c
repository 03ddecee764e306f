/*
 * ctl_report_html -- `mxgatectl report --html FILE`: one self-contained
 * page (no script, no external file, no font download): an inline SVG
 * chart of the deferrals over time per rule, then the tables of the text
 * report (see ctl_report_int.h).
 *
 * The chart stacks one bar per hour (per day when the hours would not
 * fit: more than CHART_SLOTS of them) with one segment per rule: the
 * nine rules with the most deferrals get colours of the Tableau 10
 * palette (made to stay apart, also for most colour-blind readers), the
 * others share one grey. Every bar segment carries a <title>, so a
 * browser shows its count on hover without script. Hours without
 * deferrals take their place on the time axis, empty.
 *
 * Every number of the tables sits in an element with a data-k attribute
 * naming it ("input:lines", "decisions:tempfail", "rule:ID",
 * "rule-would:ID", "rule-reject:ID", "rule-would-reject:ID", "list:NAME",
 * "login:USER", "net:NET", "hour:YYYY-MM-DD HH:00", and "ref:N" for the
 * N-th most recent ref), so a test can hold them against the text report.
 * Text is escaped for HTML; bytes that are not UTF-8 and control bytes
 * become U+FFFD.
 */
#include "config.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl_report_int.h"
#include "xalloc.h"

#define CHART_W		1160	/* the SVG's size and the plot area in it */
#define PLOT_L		64
#define PLOT_R		16
#define PLOT_T		16
#define PLOT_H		260
#define CHART_SLOTS	1000	/* hours on the axis before days are used */
#define NCOLOURS	9

static const char *const colours[NCOLOURS] = {
	"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
	"#edc948", "#b07aa1", "#ff9da7", "#9c755f"
};
static const char other_colour[] = "#79706e";

/* one bar: a time slot and its counts per series */
struct bar {
	const char	*label;		/* the hour's or day's key */
	size_t		 label_len;
	int64_t		 start;
	uint64_t	*n;		/* per series */
	uint64_t	 total;
};

struct chart {
	const char	**series;	/* rule names; "other rules" last when used */
	size_t		  nseries;
	struct bar	 *bar;
	size_t		  nbar;
	int		  daily;
	int64_t		  first;	/* the first slot's start */
	int64_t		  nslots;
	uint64_t	  top;		/* the y axis' maximum */
	uint64_t	  step;		/* between its ticks */
};

/* html_str -- text for HTML content or a quoted attribute value */
static void
html_str(struct buf *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t		n = strlen(s), k;

	while (n > 0) {
		k = 1;
		if (*p == '&')
			buf_puts(out, "&amp;");
		else if (*p == '<')
			buf_puts(out, "&lt;");
		else if (*p == '>')
			buf_puts(out, "&gt;");
		else if (*p == '"')
			buf_puts(out, "&quot;");
		else if (*p == '\'')
			buf_puts(out, "&#39;");
		else if (*p < 0x20 || *p == 0x7f ||
		    (k = ctl_report_utf8(p, n)) == 0) {
			buf_puts(out, "&#xfffd;");
			k = 1;
		} else
			buf_append(out, p, k);
		p += k;
		n -= k;
	}
}

/* --- the chart's data -------------------------------------------------- */

/* chart_series -- the coloured rules (most deferrals first), then "other rules" */
static void
chart_series(const struct report *r, struct chart *c)
{
	struct rp_row	**v = ctl_report_sorted(&r->rules, 0);
	size_t		  i, n = 0;

	c->series = xreallocarray(NULL, NCOLOURS + 1, sizeof(*c->series));
	for (i = 0; i < r->rules.n; i++) {
		if (v[i]->n[RP_TEMPFAIL] == 0)
			continue;
		if (n == NCOLOURS) {
			c->series[n++] = "other rules";
			break;
		}
		c->series[n++] = v[i]->key;
	}
	c->nseries = n;
	free(v);
}

/* series_of -- the series index of a rule */
static size_t
series_of(const struct chart *c, const char *rule)
{
	size_t	i;

	for (i = 0; i < c->nseries && i < NCOLOURS; i++)
		if (strcmp(c->series[i], rule) == 0)
			return i;
	return c->nseries - 1;
}

/* day_start -- the local midnight before an hour's start, from its key */
static int64_t
day_start(const struct rp_row *row)
{
	int	h = 0;

	if (row->len >= 13 && row->key[11] >= '0' && row->key[11] <= '2' &&
	    row->key[12] >= '0' && row->key[12] <= '9')
		h = (row->key[11] - '0') * 10 + (row->key[12] - '0');
	return row->start - (int64_t)h * 3600;
}

/* chart_bars -- the hour x rule cells grouped into bars (hours, or days) */
static void
chart_bars(const struct report *r, struct chart *c)
{
	struct rp_row	**v = ctl_report_sorted(&r->hour_rule, 1);
	struct bar	 *b = NULL;
	size_t		  i, klen;
	int64_t		  last;

	c->bar = xcalloc(r->hour_rule.n + 1, sizeof(*c->bar));
	if (r->hour_rule.n > 0) {
		c->first = v[0]->start;
		last = v[r->hour_rule.n - 1]->start;
		c->daily = (last - c->first) / 3600 + 1 > CHART_SLOTS;
	}
	for (i = 0; i < r->hour_rule.n; i++) {
		/* hour keys are "YYYY-MM-DD HH:00" (16), days their first 10 */
		klen = strlen(v[i]->key);
		if (c->daily && klen > 10)
			klen = 10;
		if (b == NULL || b->label_len != klen ||
		    memcmp(b->label, v[i]->key, klen) != 0) {
			b = &c->bar[c->nbar++];
			b->label = v[i]->key;
			b->label_len = klen;
			b->start = c->daily ? day_start(v[i]) : v[i]->start;
			b->n = xcalloc(c->nseries + 1, sizeof(*b->n));
		}
		b->n[series_of(c, v[i]->rule)] += v[i]->n[RP_TEMPFAIL];
		b->total += v[i]->n[RP_TEMPFAIL];
	}
	free(v);
}

/* chart_scale -- slots on the time axis; a round maximum and step for the counts */
static void
chart_scale(struct chart *c)
{
	uint64_t	max = 0, raw, mag = 1;
	int64_t		len = c->daily ? 86400 : 3600;
	size_t		i;

	if (c->nbar > 0) {
		if (c->daily)
			c->first = c->bar[0].start;
		/* + len / 2: a day of 23 or 25 hours still ends in its slot */
		c->nslots = (c->bar[c->nbar - 1].start - c->first + len / 2) / len + 1;
	}
	for (i = 0; i < c->nbar; i++)
		if (c->bar[i].total > max)
			max = c->bar[i].total;
	raw = max / 5 ? max / 5 : 1;
	while (mag <= raw / 10)
		mag *= 10;
	c->step = mag;
	if (c->step < raw)
		c->step = 2 * mag >= raw ? 2 * mag : 5 * mag >= raw ? 5 * mag : 10 * mag;
	c->top = (max + c->step - 1) / c->step * c->step;
	if (c->top == 0)
		c->top = c->step;
}

/* chart_free -- the bars and series */
static void
chart_free(struct chart *c)
{
	size_t	i;

	for (i = 0; i < c->nbar; i++)
		free(c->bar[i].n);
	free(c->bar);
	free(c->series);
}

/* --- the chart's drawing ----------------------------------------------- */

/* slot_of -- a bar's slot on the time axis */
static int64_t
slot_of(const struct chart *c, const struct bar *b)
{
	int64_t	len = c->daily ? 86400 : 3600;

	return (b->start - c->first + len / 2) / len;
}

/* draw_axes -- grid lines, the count axis with its ticks, the time axis line */
static void
draw_axes(const struct chart *c, struct buf *out)
{
	uint64_t	v;
	double		y;

	for (v = 0; v <= c->top; v += c->step) {
		y = PLOT_T + PLOT_H - (double)v * PLOT_H / (double)c->top;
		buf_printf(out, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" "
		    "stroke=\"%s\"/>\n", PLOT_L, y, CHART_W - PLOT_R, y,
		    v ? "#e3e3e3" : "#333");
		buf_printf(out, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%"
		    PRIu64 "</text>\n", PLOT_L - 6, y + 4, v);
	}
	buf_printf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
	    "stroke=\"#333\"/>\n", PLOT_L, PLOT_T, PLOT_L, PLOT_T + PLOT_H);
	buf_printf(out, "<text x=\"14\" y=\"%d\" text-anchor=\"middle\" "
	    "transform=\"rotate(-90 14 %d)\">deferrals per %s</text>\n",
	    PLOT_T + PLOT_H / 2, PLOT_T + PLOT_H / 2, c->daily ? "day" : "hour");
}

/* draw_labels -- time labels under the axis, far enough apart to read */
static void
draw_labels(const struct chart *c, struct buf *out)
{
	static const int steps[] = { 1, 2, 3, 6, 12, 24, 48, 72, 168, 336,
	    720, 1440, 2160, 4320, 8760 };
	double		sw = (double)(CHART_W - PLOT_L - PLOT_R) / (double)c->nslots;
	int64_t		k = 1, i, len = c->daily ? 86400 : 3600;
	size_t		j;
	struct tm	tm;
	time_t		t;
	char		s[32];
	double		x;

	for (j = 0; j < sizeof(steps) / sizeof(steps[0]); j++) {
		k = c->daily && steps[j] >= 24 ? steps[j] / 24 : steps[j];
		if ((double)k * sw >= 90)
			break;
	}
	while ((double)k * sw < 90)
		k *= 2;
	for (i = 0; i < c->nslots; i += k) {
		/* mid-slot: a daylight saving change does not move the label */
		t = (time_t)(c->first + i * len + len / 2);
		if (localtime_r(&t, &tm) == NULL || strftime(s, sizeof(s),
		    c->daily ? "%Y-%m-%d" : "%m-%d %H:00", &tm) == 0)
			continue;
		x = PLOT_L + ((double)i + 0.5) * sw;
		buf_printf(out, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" "
		    "stroke=\"#333\"/>\n<text x=\"%.1f\" y=\"%d\" "
		    "text-anchor=\"middle\">%s</text>\n", x, PLOT_T + PLOT_H, x,
		    PLOT_T + PLOT_H + 4, x, PLOT_T + PLOT_H + 17, s);
	}
	buf_printf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s "
	    "(local time)</text>\n", PLOT_L + (CHART_W - PLOT_L - PLOT_R) / 2,
	    PLOT_T + PLOT_H + 36, c->daily ? "day" : "hour");
}

/* draw_bars -- one stacked bar per slot with deferrals */
static void
draw_bars(const struct chart *c, struct buf *out)
{
	double		sw = (double)(CHART_W - PLOT_L - PLOT_R) / (double)c->nslots;
	double		bw = sw * 0.8 < 1 ? 1 : sw * 0.8 > 40 ? 40 : sw * 0.8;
	double		x, y, h;
	const struct bar *b;
	size_t		i, s;

	for (i = 0; i < c->nbar; i++) {
		b = &c->bar[i];
		x = PLOT_L + (double)slot_of(c, b) * sw + (sw - bw) / 2;
		y = PLOT_T + PLOT_H;
		for (s = 0; s < c->nseries; s++) {
			if (b->n[s] == 0)
				continue;
			h = (double)b->n[s] * PLOT_H / (double)c->top;
			y -= h;
			buf_printf(out, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" "
			    "height=\"%.2f\" fill=\"%s\" stroke=\"#fff\" "
			    "stroke-width=\"0.5\"><title>", x, y, bw, h,
			    s < NCOLOURS ? colours[s] : other_colour);
			buf_append(out, b->label, b->label_len);
			buf_puts(out, " ");
			html_str(out, c->series[s]);
			buf_printf(out, ": %" PRIu64 "</title></rect>\n", b->n[s]);
		}
	}
}

/* draw_legend -- a coloured square and the name of every series, in rows */
static size_t
draw_legend(const struct chart *c, struct buf *out, int y0)
{
	size_t	i, w;
	int	x = PLOT_L, y = y0;

	for (i = 0; i < c->nseries; i++) {
		w = 32 + 7 * (strlen(c->series[i]) < 40 ? strlen(c->series[i]) : 40);
		if (x > PLOT_L && x + (int)w > CHART_W - PLOT_R) {
			x = PLOT_L;
			y += 20;
		}
		buf_printf(out, "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"12\" "
		    "fill=\"%s\"/><text x=\"%d\" y=\"%d\">", x, y - 10,
		    i < NCOLOURS ? colours[i] : other_colour, x + 17, y);
		html_str(out, c->series[i]);
		buf_puts(out, "</text>\n");
		x += (int)w;
	}
	return (size_t)y;
}

/* draw_chart -- the SVG (its size grows with the legend's rows) */
static void
draw_chart(const struct report *r, struct buf *out)
{
	struct chart	c;
	struct buf	body = BUF_INIT;
	size_t		bottom;

	memset(&c, 0, sizeof(c));
	chart_series(r, &c);
	chart_bars(r, &c);
	chart_scale(&c);
	if (c.nslots == 0)
		c.nslots = 1;
	draw_axes(&c, &body);
	if (c.nbar > 0) {
		draw_labels(&c, &body);
		draw_bars(&c, &body);
	} else
		buf_printf(&body, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">"
		    "no deferrals in the period</text>\n",
		    PLOT_L + (CHART_W - PLOT_L - PLOT_R) / 2, PLOT_T + PLOT_H / 2);
	bottom = draw_legend(&c, &body, PLOT_T + PLOT_H + 62);
	buf_printf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
	    "height=\"%zu\" viewBox=\"0 0 %d %zu\" role=\"img\" "
	    "aria-label=\"deferrals per %s and rule\">\n", CHART_W, bottom + 12,
	    CHART_W, bottom + 12, c.daily ? "day" : "hour");
	buf_append(out, body.data, body.len);
	buf_puts(out, "</svg>\n");
	buf_free(&body);
	chart_free(&c);
}

/* --- the tables -------------------------------------------------------- */

/* num_cell -- <td class="n" data-k="PREFIX:KEY">N</td> */
static void
num_cell(struct buf *out, const char *prefix, const char *key, uint64_t n)
{
	buf_printf(out, "<td class=\"n\" data-k=\"%s", prefix);
	html_str(out, key);
	buf_printf(out, "\">%" PRIu64 "</td>", n);
}

/* html_counts -- a two-column table of named counts */
static void
html_counts(struct buf *out, const char *title, const char *prefix,
    const char *const *names, const char *const *keys, const uint64_t *v,
    size_t n)
{
	size_t	i;

	buf_printf(out, "<h2>%s</h2>\n<table>\n", title);
	for (i = 0; i < n; i++) {
		buf_printf(out, "<tr><td>%s</td>", names[i]);
		num_cell(out, prefix, keys[i], v[i]);
		buf_puts(out, "</tr>\n");
	}
	buf_puts(out, "</table>\n");
}

/* html_head -- the title, the period and the counts of lines and decisions */
static void
html_head(const struct report *r, struct buf *out)
{
	const char *const in_names[8] = { "files", "lines", "decision lines",
	    "other lines", "malformed (skipped)", "over 8 KiB (skipped)",
	    "decisions without a time", "decisions outside the period" };
	const char *const in_keys[8] = { "files", "lines", "decision_lines",
	    "other_lines", "malformed", "too_long", "no_time", "outside_period" };
	const uint64_t in_v[8] = { r->files, r->lines, r->decisions, r->other,
	    r->malformed, r->too_long, r->no_time, r->outside };
	const char *const d_names[5] = { "deferred (tempfail)",
	    "would defer (monitor mode)", "rejected",
	    "would reject (monitor mode)", "other (accept, log, header)" };
	const char *const d_keys[5] = { "tempfail", "would_tempfail", "reject",
	    "would_reject", "other" };
	const uint64_t d_v[5] = { r->n[RP_TEMPFAIL], r->n[RP_WOULD_TEMPFAIL],
	    r->n[RP_REJECT], r->n[RP_WOULD_REJECT], r->other_decisions };

	buf_puts(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
	    "<meta charset=\"utf-8\">\n<title>mxgate report</title>\n<style>\n"
	    "body{font-family:sans-serif;margin:16px;color:#222;background:#fff}\n"
	    "h1{font-size:20px}h2{font-size:16px;margin:22px 0 6px}\n"
	    "table{border-collapse:collapse}\n"
	    "td,th{padding:2px 12px 2px 0;border-bottom:1px solid #ddd;"
	    "text-align:left}\n"
	    "td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}\n"
	    "svg text{font-family:sans-serif;font-size:11px;fill:#333}\n"
	    "</style>\n</head>\n<body>\n<h1>mxgate report</h1>\n<p>Times in ");
	ctl_report_zone(out);
	buf_puts(out, ". ");
	if (r->seen) {
		buf_puts(out, "Decisions from ");
		ctl_report_time(r->first, 0, out);
		buf_puts(out, " to ");
		ctl_report_time(r->last, 0, out);
		buf_puts(out, ". ");
	}
	if (r->has_since) {
		buf_puts(out, "Since ");
		ctl_report_time(r->since, 0, out);
		buf_puts(out, ". ");
	}
	if (r->has_until) {
		buf_puts(out, "Until ");
		ctl_report_time(r->until, 0, out);
		buf_puts(out, " (not included). ");
	}
	buf_puts(out, "</p>\n<h2>Deferrals over time, per rule</h2>\n");
	draw_chart(r, out);
	html_counts(out, "Input", "input:", in_names, in_keys, in_v, 8);
	html_counts(out, "Decisions in the period", "decisions:", d_names,
	    d_keys, d_v, 5);
}

/* html_rules -- the table per rule with every outcome */
static void
html_rules(const struct report *r, struct buf *out)
{
	static const char *const pfx[RP_NCOL] = { "rule:", "rule-would:",
	    "rule-reject:", "rule-would-reject:" };
	struct rp_row	**v = ctl_report_sorted(&r->rules, 0);
	size_t		  i;
	int		  c;

	buf_puts(out, "<h2>Deferrals per rule</h2>\n<table>\n<tr><th>rule</th>"
	    "<th class=\"n\">deferred</th><th class=\"n\">would defer</th>"
	    "<th class=\"n\">rejected</th><th class=\"n\">would reject</th></tr>\n");
	for (i = 0; i < r->rules.n; i++) {
		buf_puts(out, "<tr><td>");
		html_str(out, v[i]->key);
		buf_puts(out, "</td>");
		for (c = 0; c < RP_NCOL; c++)
			num_cell(out, pfx[c], v[i]->key, v[i]->n[c]);
		buf_puts(out, "</tr>\n");
	}
	buf_puts(out, "</table>\n");
	free(v);
}

/* html_table -- one single-count table */
static void
html_table(struct buf *out, const char *title, const char *head,
    const char *prefix, const struct rp_table *t, int key_order)
{
	struct rp_row	**v = ctl_report_sorted(t, key_order);
	size_t		  i;

	buf_printf(out, "<h2>%s</h2>\n<table>\n<tr><th>%s</th>"
	    "<th class=\"n\">deferred</th></tr>\n", title, head);
	for (i = 0; i < t->n; i++) {
		buf_puts(out, "<tr><td>");
		html_str(out, v[i]->key);
		buf_puts(out, "</td>");
		num_cell(out, prefix, v[i]->key, v[i]->n[RP_TEMPFAIL]);
		buf_puts(out, "</tr>\n");
	}
	buf_puts(out, "</table>\n");
	free(v);
}

/* html_refs -- the most recent deferrals, newest first */
static void
html_refs(const struct report *r, struct buf *out)
{
	struct rp_ref	**v = xreallocarray(NULL, r->nrefs + 1, sizeof(*v));
	size_t		  i;

	ctl_report_refs(r, v);
	buf_printf(out, "<h2>Most recent deferrals (at most %zu)</h2>\n<table>\n"
	    "<tr><th>time</th><th>ref</th><th>stage</th><th>rule</th>"
	    "<th>client</th></tr>\n", r->top);
	for (i = 0; i < r->nrefs; i++) {
		buf_puts(out, "<tr><td>");
		ctl_report_time(v[i]->t, 0, out);
		buf_printf(out, "</td><td data-k=\"ref:%zu\">", i + 1);
		html_str(out, v[i]->ref);
		buf_puts(out, "</td><td>");
		html_str(out, v[i]->stage);
		buf_puts(out, "</td><td>");
		html_str(out, v[i]->rule);
		buf_puts(out, "</td><td>");
		html_str(out, v[i]->client_name);
		buf_putc(out, '[');
		html_str(out, v[i]->client_ip);
		buf_puts(out, "]</td></tr>\n");
	}
	buf_puts(out, "</table>\n");
	free(v);
}

/* ctl_report_html -- the page */
void
ctl_report_html(const struct report *r, struct buf *out)
{
	html_head(r, out);
	html_rules(r, out);
	html_table(out, "Deferrals per DNS list", "list", "list:", &r->lists, 0);
	html_table(out, "Deferrals per login (sasl)", "login", "login:",
	    &r->logins, 0);
	html_table(out, "Deferrals per client network (/24, /64)", "network",
	    "net:", &r->nets, 0);
	html_table(out, "Deferrals per hour", "hour", "hour:", &r->hours, 1);
	html_refs(r, out);
	buf_puts(out, "</body>\n</html>\n");
}
