/*
 * ctl_limit -- mxgatectl limit, the daemon's side (see ctl.h):
 *
 *   limit show LIMIT KEY      per window: used, max, window, next allowed;
 *			       concurrent: open and max
 *   limit reset LIMIT KEY     forget every window of KEY (logged with the
 *			       peer's uid)
 *   limit top LIMIT [-n N]    the N (10; at most TOP_MAX) keys nearest
 *			       their limit
 *
 * On the rules in force (milter_rules) and the store (milter_store):
 * memory, or Redis with its local fallback. KEY is typed as an
 * administrator knows it and made into the key value a check builds
 * (ratelimit.c): lower-cased; a client_ip part is an address or a
 * network, masked to the limit's prefix ("192.0.2.7" and "192.0.2.0/24"
 * both name 192.0.2.0/24 under client_ip/24); parts of a key joined
 * with '+' ("alice+192.0.2.0/24"), split on '+' only when the key has a
 * client_ip part (a sender may hold '+'). A limit with several keys:
 * KEY is read for each, and every distinct value is shown or reset.
 *
 * Redis down (or failing): show and top give the local fallback's
 * counters, labelled so, when store_error = fallback (they are what
 * mail is counted on meanwhile), exit 69 with store_error = tempfail; a
 * reset forgets the local counters and exits 69 saying Redis was not
 * reset. Concurrency counters live in the local store; a reset leaves
 * them alone (they count connections open now).
 *
 * Nothing here changes a counter except reset. Runs on a control thread.
 *
 * This file reads the arguments and KEY, and does show and reset; top
 * (walking the store and ranking what it finds) is in ctl_limit_top.c;
 * what the two share (a parsed KEY, a request, the writers of the
 * common parts of an answer) is declared in ctl_limit_int.h.
 */
#include "config.h"

#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include "ctl.h"
#include "ctl_limit_int.h"
#include "ipaddr.h"
#include "log.h"
#include "milter.h"
#include "num.h"
#include "ratelimit.h"
#include "rules.h"
#include "store.h"
#include "xalloc.h"

#define TOP_DEFAULT	10
#define TOP_MAX		1000

#define USAGE	"usage: mxgatectl limit show|reset LIMIT KEY\n" \
		"       mxgatectl limit top LIMIT [-n N]\n"

static const char *const count_name[] = {
	"connections", "concurrent", "messages", "recipients", "bytes"
};
static const char *const part_name[] = {
	"client_ip", "sasl_user", "sender", "sender_domain", "rcpt_domain",
	"customer"
};

/* lim_text_str -- s for a terminal: control bytes as \xHH */
void
lim_text_str(struct buf *out, const char *s)
{
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			buf_printf(out, "\\x%02x", (unsigned char)*s);
		else
			buf_putc(out, *s);
	}
}

/* key_desc -- a key's parts as in the rules ("client_ip/24 /64", "a+b") */
static void
key_desc(const struct rl_key *k, struct buf *out)
{
	unsigned	i;

	for (i = 0; i < k->nparts; i++) {
		buf_printf(out, "%s%s", i > 0 ? "+" : "",
		    part_name[k->part[i]]);
		if (k->part[i] == RL_PART_CLIENT_IP)
			buf_printf(out, "/%u /%u", k->v4len, k->v6len);
	}
}

/* lim_kval_free -- a parsed key value's storage */
void
lim_kval_free(struct kval *kv)
{
	unsigned	i;

	free(kv->v);
	for (i = 0; i < RL_MAX_PARTS; i++)
		free(kv->part[i]);
	memset(kv, 0, sizeof(*kv));
}

/* lower -- a copy of s[0..len) lower-cased */
static char *
lower(const char *s, size_t len)
{
	char	*p = xmalloc(len + 1);
	size_t	 i;

	for (i = 0; i < len; i++)
		p[i] = s[i] >= 'A' && s[i] <= 'Z' ? s[i] - 'A' + 'a' : s[i];
	p[len] = '\0';
	return p;
}

/*
 * net_part -- an address or network typed for a client_ip part of k,
 * masked to its prefix and written as a check writes it; 0, or -1 with
 * why
 */
static int
net_part(const struct rl_key *k, const char *s, size_t len, struct kval *kv,
    struct buf *out, struct buf *why)
{
	char		a[IP_STRLEN];
	unsigned	plen, want;

	if (ip_parse_cidr(s, len, &kv->ip, &plen) == -1) {
		buf_printf(why, "not an address or network");
		return -1;
	}
	want = kv->ip.family == AF_INET ? k->v4len : k->v6len;
	if (want > ip_maxlen(&kv->ip))
		want = ip_maxlen(&kv->ip);
	if (memchr(s, '/', len) != NULL && plen != want) {
		buf_printf(why, "counted per /%u, not /%u", want, plen);
		return -1;
	}
	ip_mask(&kv->ip, want);
	ip_format(&kv->ip, a, sizeof(a));
	buf_printf(out, "%s/%u", a, want);
	kv->has_ip = 1;
	return 0;
}

/* set_event -- the event a check would have for these parts (overrides) */
static void
set_event(const struct rl_key *k, struct kval *kv)
{
	unsigned	i;

	memset(&kv->ev, 0, sizeof(kv->ev));
	kv->ev.client_ip = kv->has_ip ? &kv->ip : NULL;
	for (i = 0; i < k->nparts; i++) {
		switch (k->part[i]) {
		case RL_PART_SASL_USER:
			kv->ev.sasl_user = kv->part[i];
			break;
		case RL_PART_SENDER:
			kv->ev.sender = kv->part[i];
			break;
		case RL_PART_SENDER_DOMAIN:
			kv->ev.sender_domain = kv->part[i];
			break;
		case RL_PART_RCPT_DOMAIN:
			kv->ev.rcpt_domain = kv->part[i];
			break;
		case RL_PART_CUSTOMER:
			kv->ev.customer = kv->part[i];
			break;
		default:
			break;
		}
	}
}

/*
 * lim_parse_value -- KEY (len bytes) as a value of key k: 0 with kv
 * filled, or -1 with why
 */
int
lim_parse_value(const struct rl_key *k, const char *s, size_t len,
    struct kval *kv, struct buf *why)
{
	struct buf	 v = BUF_INIT;
	const char	*p = s, *e = s + len, *plus;
	unsigned	 i;
	int		 ip = 0;

	memset(kv, 0, sizeof(*kv));
	for (i = 0; i < k->nparts; i++)
		ip |= k->part[i] == RL_PART_CLIENT_IP;
	for (i = 0; i < k->nparts; i++) {
		plus = ip ? memchr(p, '+', (size_t)(e - p)) : NULL;
		if (plus == NULL)
			plus = e;
		if (i + 1 < k->nparts && plus == e) {
			buf_printf(why, "wants %u parts joined with '+'",
			    k->nparts);
			goto fail;
		}
		if (i + 1 == k->nparts)
			plus = e;
		if (plus == p) {
			buf_printf(why, "an empty part");
			goto fail;
		}
		if (i > 0)
			buf_putc(&v, '+');
		if (k->part[i] == RL_PART_CLIENT_IP) {
			if (net_part(k, p, (size_t)(plus - p), kv, &v,
			    why) == -1)
				goto fail;
		} else {
			kv->part[i] = lower(p, (size_t)(plus - p));
			buf_puts(&v, kv->part[i]);
		}
		p = plus + 1;
	}
	rl_value_finish(&v);
	kv->v = buf_release(&v);
	set_event(k, kv);
	return 0;
fail:
	buf_free(&v);
	lim_kval_free(kv);
	return -1;
}

/*
 * key_values -- the distinct values KEY names under the keys of l (at
 * most RL_MAX_KEYS); their number, 0 with the reasons in why
 */
static unsigned
key_values(const struct rl_limit *l, const char *s, size_t len,
    struct kval *kv, unsigned *kdef, struct buf *why)
{
	struct buf	w = BUF_INIT;
	unsigned	i, j, n = 0;

	for (i = 0; i < l->nkeys && i < RL_MAX_KEYS; i++) {
		buf_reset(&w);
		if (lim_parse_value(&l->key[i], s, len, &kv[n], &w) == -1) {
			buf_printf(why, "%s  key ", why->len > 0 ? "\n" : "");
			key_desc(&l->key[i], why);
			buf_printf(why, ": %s", buf_str(&w));
			continue;
		}
		for (j = 0; j < n; j++)
			if (strcmp(kv[j].v, kv[n].v) == 0)
				break;
		if (j < n) {
			lim_kval_free(&kv[n]);
			continue;
		}
		kdef[n++] = i;
	}
	buf_free(&w);
	return n;
}

/* put_time -- t as local "YYYY-MM-DD HH:MM:SS TZ", or RFC 3339 UTC (JSON) */
static void
put_time(struct buf *out, time_t t, int json)
{
	struct tm	tm;
	char		s[64];

	if (json) {
		gmtime_r(&t, &tm);
		(void)strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%SZ", &tm);
	} else {
		localtime_r(&t, &tm);
		(void)strftime(s, sizeof(s), "%Y-%m-%d %H:%M:%S %Z", &tm);
	}
	buf_puts(out, s);
}

/* secs_up -- nanoseconds as whole seconds, rounded up */
static uint64_t
secs_up(uint64_t ns)
{
	return ns / NS + (ns % NS != 0);
}

/* lim_put_next -- when the next event is allowed (text or JSON members) */
void
lim_put_next(const struct lreq *q, struct buf *out, uint64_t wait)
{
	uint64_t	in = secs_up(wait);
	time_t		at = q->wall + (time_t)(in > (uint64_t)INT32_MAX ?
			    INT32_MAX : in);

	if (q->json) {
		buf_puts(out, "\"next_allowed\":\"");
		put_time(out, at, 1);
		buf_printf(out, "\",\"next_allowed_in\":%" PRIu64, in);
		return;
	}
	if (in == 0) {
		buf_puts(out, "now");
		return;
	}
	put_time(out, at, 0);
	buf_printf(out, " (in %" PRIu64 " s)", in);
}

/* lim_head -- the limit, its store, and the label of a fallback */
void
lim_head(const struct lreq *q, struct buf *out)
{
	struct buf	name = BUF_INIT;
	unsigned	i;

	q->s->ops->name(q->s, &name);
	if (q->json) {
		buf_puts(out, "{\"limit\":");
		ctl_json_str(out, q->l->name);
		buf_printf(out, ",\"count\":\"%s\",\"store\":",
		    count_name[q->l->count]);
		ctl_json_str(out, buf_str(&name));
		buf_printf(out, ",\"fallback\":%s", q->label ? "true" :
		    "false");
		if (q->label != NULL) {
			buf_puts(out, ",\"fallback_reason\":");
			ctl_json_str(out, buf_str(&q->why));
		}
		buf_free(&name);
		return;
	}
	buf_printf(out, "limit %s: count %s; key ", q->l->name,
	    count_name[q->l->count]);
	for (i = 0; i < q->l->nkeys && i < RL_MAX_KEYS; i++) {
		if (i > 0)
			buf_puts(out, ", ");
		key_desc(&q->l->key[i], out);
	}
	buf_printf(out, "\nstore: %s\n", buf_str(&name));
	if (q->label != NULL) {
		buf_printf(out, "NOTE: %s\n  ", q->label);
		lim_text_str(out, buf_str(&q->why));
		buf_putc(out, '\n');
	}
	buf_free(&name);
}

/* lim_window_str -- a window's length ("1h") */
void
lim_window_str(const struct rl_limit *l, unsigned i, char *d, size_t len)
{
	num_format_duration(l->window[i].secs, d, len);
}

/* show_conc -- a concurrency counter (in the local store) */
static int
show_conc(const struct lreq *q, struct kval *kv, struct buf *out,
    struct buf *err)
{
	struct rl_store	*s = q->s->ops->local(q->s);
	struct buf	 key = BUF_INIT;
	uint64_t	 max = rl_conc_max(q->l, &kv->ev), open = 0;

	if (s == NULL)
		s = q->s;
	rl_conc_key(&key, q->l->name, kv->v);
	/* the open count is read with conc(+0), which never creates a key */
	if (s->ops->conc(s, key.data, key.len, 0, &open) == -1) {
		buf_printf(err, "limit %s: the counter cannot be read\n",
		    q->l->name);
		buf_free(&key);
		return -1;
	}
	buf_free(&key);
	if (q->json) {
		buf_printf(out, ",\"open\":%" PRIu64 ",\"max\":", open);
		if (max == RL_UNLIMITED)
			buf_puts(out, "null");
		else
			buf_printf(out, "%" PRIu64, max);
		return 0;
	}
	buf_printf(out, "  concurrent: %" PRIu64 " open", open);
	if (max == RL_UNLIMITED)
		buf_puts(out, ", unlimited (override)\n");
	else
		buf_printf(out, ", max %" PRIu64 "\n", max);
	return 0;
}

/* show_windows -- every window of a rate limit for one value, one peek */
static int
show_windows(const struct lreq *q, struct kval *kv, struct buf *out,
    struct buf *err)
{
	struct rl_cell	 cell[RL_MAX_WINDOWS];
	struct buf	 key[RL_MAX_WINDOWS];
	uint64_t	 n[RL_MAX_WINDOWS], used;
	unsigned	 i, nw = q->l->nwindows;
	char		 d[32];
	int		 rc;

	if (nw > RL_MAX_WINDOWS)
		nw = RL_MAX_WINDOWS;
	for (i = 0; i < nw; i++) {
		buf_init(&key[i]);
		n[i] = rl_window_cell(q->l, i, &kv->ev, kv->v, &key[i],
		    &cell[i]);
	}
	rc = q->s->ops->peek(q->s, cell, nw, q->now, err);
	for (i = 0; i < nw && rc == 0; i++) {
		lim_window_str(q->l, i, d, sizeof(d));
		used = n[i] == 0 || n[i] == RL_UNLIMITED ? 0 :
		    rl_used(cell[i].level, n[i], q->l->window[i].secs);
		if (q->json) {
			buf_printf(out, "%s{\"window\":\"%s\",\"seconds\":%"
			    PRIu64 ",\"used\":%" PRIu64 ",\"max\":",
			    i ? "," : "", d, q->l->window[i].secs, used);
			if (n[i] == RL_UNLIMITED)
				buf_puts(out, "null,");
			else
				buf_printf(out, "%" PRIu64 ",", n[i]);
			lim_put_next(q, out, n[i] == 0 ?
			    q->l->window[i].secs * NS :
			    n[i] == RL_UNLIMITED ? 0 : cell[i].wait);
			buf_putc(out, '}');
			continue;
		}
		buf_printf(out, "  window %-6s used %" PRIu64 " of ", d, used);
		if (n[i] == RL_UNLIMITED)
			buf_puts(out, "unlimited (override)");
		else
			buf_printf(out, "%" PRIu64, n[i]);
		buf_puts(out, "; next allowed ");
		if (n[i] == 0)
			buf_puts(out, "never (max 0)");
		else
			lim_put_next(q, out, n[i] == RL_UNLIMITED ? 0 :
			    cell[i].wait);
		buf_putc(out, '\n');
	}
	for (i = 0; i < nw; i++)
		buf_free(&key[i]);
	return rc;
}

/* show -- `limit show LIMIT KEY` */
static int
show(struct lreq *q, struct kval *kv, unsigned nv, struct buf *out,
    struct buf *err)
{
	unsigned	i;
	int		rc = 0;

	lim_head(q, out);
	if (q->json)
		buf_puts(out, ",\"keys\":[");
	for (i = 0; i < nv && rc == 0; i++) {
		if (q->json) {
			buf_printf(out, "%s{\"key\":", i ? "," : "");
			ctl_json_str(out, kv[i].v);
		} else {
			buf_puts(out, "key ");
			lim_text_str(out, kv[i].v);
			buf_putc(out, '\n');
		}
		if (q->l->count == RL_COUNT_CONCURRENT)
			rc = show_conc(q, &kv[i], out, err);
		else {
			if (q->json)
				buf_puts(out, ",\"windows\":[");
			rc = show_windows(q, &kv[i], out, err);
			if (q->json)
				buf_putc(out, ']');
		}
		if (q->json)
			buf_putc(out, '}');
	}
	if (q->json)
		buf_puts(out, "]}\n");
	return rc;
}

/* peer_name -- "uid N (NAME)" of the peer */
static void
peer_name(uid_t uid, struct buf *out)
{
	struct passwd	 pw, *res = NULL;
	char		 b[1024];

	buf_printf(out, "uid %lu", (unsigned long)uid);
	if (getpwuid_r(uid, &pw, b, sizeof(b), &res) == 0 && res != NULL)
		buf_printf(out, " (%s)", pw.pw_name);
}

/*
 * forget_value -- every window cell of one value, on the store and on
 * its local fallback; the cells that existed in *gone; 0, or -1 when
 * the (networked) store failed, with err
 */
static int
forget_value(const struct lreq *q, const struct kval *kv, size_t *gone,
    struct buf *err)
{
	struct rl_cell	 cell[RL_MAX_WINDOWS];
	struct buf	 key[RL_MAX_WINDOWS];
	struct rl_store	*local = q->s->ops->local(q->s);
	unsigned	 i, nw = q->l->nwindows;
	size_t		 g = 0;
	int		 rc;

	if (nw > RL_MAX_WINDOWS)
		nw = RL_MAX_WINDOWS;
	for (i = 0; i < nw; i++) {
		buf_init(&key[i]);
		(void)rl_window_cell(q->l, i, &kv->ev, kv->v, &key[i],
		    &cell[i]);
	}
	*gone = 0;
	if (local != NULL) {
		(void)local->ops->forget(local, cell, nw, &g, err);
		*gone += g;
	}
	rc = q->s->ops->forget(q->s, cell, nw, &g, err);
	if (rc == 0)
		*gone += g;
	for (i = 0; i < nw; i++)
		buf_free(&key[i]);
	return rc;
}

/* reset -- `limit reset LIMIT KEY`: forget, log, say what was reset */
static int
reset(struct lreq *q, struct kval *kv, unsigned nv, struct buf *out,
    struct buf *err)
{
	struct buf	who = BUF_INIT, v = BUF_INIT, name = BUF_INIT;
	size_t		gone;
	unsigned	i;
	int		rc = EX_OK;

	if (q->l->count == RL_COUNT_CONCURRENT) {
		buf_printf(err, "limit %s counts open connections: there is "
		    "nothing to reset (it drops as they close)\n", q->l->name);
		return EX_DATAERR;
	}
	peer_name(q->req->uid, &who);
	q->s->ops->name(q->s, &name);
	if (q->json) {
		buf_puts(out, "{\"limit\":");
		ctl_json_str(out, q->l->name);
		buf_puts(out, ",\"reset\":[");
	}
	for (i = 0; i < nv; i++) {
		if (forget_value(q, &kv[i], &gone, err) == -1) {
			buf_printf(err, "\nlimit %s ", q->l->name);
			lim_text_str(err, kv[i].v);
			buf_printf(err, ": the local counters were reset; %s "
			    "was not\n", buf_str(&name));
			rc = EX_UNAVAILABLE;
		}
		buf_reset(&v);
		log_escape(&v, kv[i].v);
		log_info("limit reset: %s %s by %s (%zu cell%s forgotten%s)",
		    q->l->name, buf_str(&v), buf_str(&who), gone,
		    gone == 1 ? "" : "s", rc == EX_OK ? "" :
		    "; redis unreachable: local counters only");
		if (q->json) {
			buf_printf(out, "%s{\"key\":", i ? "," : "");
			ctl_json_str(out, kv[i].v);
			buf_printf(out, ",\"cells\":%zu}", gone);
		} else {
			buf_printf(out, "limit %s: key ", q->l->name);
			lim_text_str(out, kv[i].v);
			buf_printf(out, " reset in %s: every window forgotten "
			    "(%zu counter%s held state)\n", buf_str(&name),
			    gone, gone == 1 ? "" : "s");
		}
	}
	if (q->json) {
		buf_puts(out, "],\"by\":");
		ctl_json_str(out, buf_str(&who));
		buf_puts(out, "}\n");
	}
	if (rc != EX_OK)
		buf_reset(out);
	buf_free(&who);
	buf_free(&v);
	buf_free(&name);
	return rc;
}

/* limit_list -- "no limit X; the limits are: a, b" */
static void
limit_list(const struct rules *rules, const char *name, struct buf *err)
{
	const struct rl_limit *const *lim = rules_limits(rules);
	size_t	i, n = rules_nlimits(rules);

	buf_puts(err, "mxgatectl: limit: no limit ");
	lim_text_str(err, name);
	if (n == 0) {
		buf_puts(err, " (the rules in force define no limits)\n");
		return;
	}
	buf_puts(err, "; the limits are: ");
	for (i = 0; i < n; i++)
		buf_printf(err, "%s%s", i ? ", " : "", lim[i]->name);
	buf_putc(err, '\n');
}

/* args -- the command line: 0, or EX_USAGE with the message in err */
static int
args(const struct ctl_req *req, int *op, size_t *n, struct buf *err)
{
	uint64_t	v;
	size_t		i;

	for (i = 1; i < req->argc; i++)
		if (strlen(req->argv[i]) != req->arglen[i] ||
		    req->argv[i][0] == '\0') {
			buf_puts(err, "mxgatectl: limit: an empty argument or "
			    "one holding NUL\n" USAGE);
			return EX_USAGE;
		}
	*n = TOP_DEFAULT;
	if (req->argc >= 2 && strcmp(req->argv[1], "show") == 0)
		*op = 's';
	else if (req->argc >= 2 && strcmp(req->argv[1], "reset") == 0)
		*op = 'r';
	else if (req->argc >= 2 && strcmp(req->argv[1], "top") == 0)
		*op = 't';
	else {
		buf_printf(err, "mxgatectl: limit: %s\n" USAGE, req->argc < 2 ?
		    "show, reset or top?" : "show, reset or top, not that");
		return EX_USAGE;
	}
	if (*op != 't' && req->argc == 4)
		return 0;
	if (*op == 't' && req->argc == 3 && req->argv[2][0] != '-')
		return 0;
	if (*op == 't' && req->argc == 5 && strcmp(req->argv[3], "-n") == 0 &&
	    req->argv[2][0] != '-') {
		if (num_parse(req->argv[4], req->arglen[4], 1, TOP_MAX,
		    &v) == 0) {
			*n = (size_t)v;
			return 0;
		}
		buf_printf(err, "mxgatectl: limit top: -n wants a number from "
		    "1 to %d\n" USAGE, TOP_MAX);
		return EX_USAGE;
	}
	buf_printf(err, "mxgatectl: limit %s: wrong arguments\n" USAGE,
	    req->argv[1]);
	return EX_USAGE;
}

/*
 * fall_back -- the configured store failed to answer show or top: its
 * local store, labelled, when mail is counted there (store_error =
 * fallback); 0, or EX_UNAVAILABLE (the memory store never fails)
 */
static int
fall_back(struct lreq *q, struct buf *err)
{
	struct rl_store	*local = q->s->ops->local(q->s);
	const struct cfg *cfg = milter_cfg();

	if (local == NULL || q->label != NULL)
		return EX_UNAVAILABLE;
	if (cfg != NULL && cfg->store_error == CFG_STORE_ERROR_TEMPFAIL) {
		buf_puts(err, " (store_error = tempfail: no local counters "
		    "are in force)");
		return EX_UNAVAILABLE;
	}
	buf_append(&q->why, err->data, err->len);
	buf_reset(err);
	q->s = local;
	q->label = "Redis did not answer: these are the LOCAL FALLBACK "
	    "counters of this host, which mail is counted on until it is back";
	return 0;
}

/* ctl_limit -- see ctl.h and the top of this file */
int
ctl_limit(const struct ctl_req *req, struct buf *out)
{
	struct kval	 kv[RL_MAX_KEYS];
	unsigned	 kdef[RL_MAX_KEYS], nv = 0, i;
	struct rules	*rules;
	struct lreq	 q;
	struct buf	 why = BUF_INIT, err = BUF_INIT;
	size_t		 i2, n;
	int		 op, rc;

	if ((rc = args(req, &op, &n, out)) != 0)
		return rc;
	if ((rules = milter_rules()) == NULL || milter_store() == NULL) {
		if (rules != NULL)
			rules_unref(rules);
		buf_puts(out, "mxgatectl: limit: no rules or store yet\n");
		return EX_UNAVAILABLE;
	}
	memset(&q, 0, sizeof(q));
	q.req = req;
	q.json = req->json;
	q.s = milter_store();
	q.now = rl_now();
	q.wall = time(NULL);
	buf_init(&q.why);
	for (i2 = 0; i2 < rules_nlimits(rules); i2++)
		if (strcmp(rules_limits(rules)[i2]->name, req->argv[2]) == 0)
			q.l = rules_limits(rules)[i2];
	if (q.l == NULL) {
		limit_list(rules, req->argv[2], out);
		rc = EX_DATAERR;
		goto done;
	}
	if (op != 't' && (nv = key_values(q.l, req->argv[3], req->arglen[3],
	    kv, kdef, &why)) == 0) {
		buf_puts(out, "mxgatectl: limit: ");
		lim_text_str(out, req->argv[3]);
		buf_printf(out, " is not a key of limit %s:\n%s\n", q.l->name,
		    buf_str(&why));
		rc = EX_DATAERR;
		goto done;
	}
	for (;;) {
		if (op == 's')
			rc = show(&q, kv, nv, out, &err) == 0 ? EX_OK :
			    EX_UNAVAILABLE;
		else if (op == 'r')
			rc = reset(&q, kv, nv, out, &err);
		else
			rc = lim_top(&q, n, out, &err) == 0 ? EX_OK :
			    EX_UNAVAILABLE;
		if (rc != EX_UNAVAILABLE || op == 'r' || fall_back(&q, &err))
			break;
		buf_reset(out);
	}
	if (rc != EX_OK) {
		buf_reset(out);
		buf_puts(out, "mxgatectl: limit: ");
		buf_append(out, err.data, err.len);
		if (err.len == 0 || err.data[err.len - 1] != '\n')
			buf_putc(out, '\n');
	}
done:
	for (i = 0; i < nv; i++)
		lim_kval_free(&kv[i]);
	buf_free(&why);
	buf_free(&err);
	buf_free(&q.why);
	rules_unref(rules);
	return rc;
}
