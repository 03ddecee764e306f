/*
 * ctl_explain -- mxgatectl explain, the daemon's side (see ctl.h).
 *
 *   explain --ip A [--helo H] [--from S] [--rcpt R]... [--login U]
 *	     [--message-data BYTES]
 *
 * The transaction these facts describe is run through the real session
 * code (session.c) with the rules, configuration, store and DNS engine
 * new connections use now, in look-only mode: the store is only read
 * (no limit counted, no concurrency slot taken), no decision is logged
 * (the lines it would write are collected instead), and every rule the
 * session evaluates is traced with its outcome and the facts it uses.
 * So explain's verdict is the daemon's verdict, by construction.
 *
 * The events go as a client's would: connect, HELO (run even without
 * --helo, with no name), MAIL (with --from), each RCPT (with --rcpt),
 * then DATA, the header, the body and end of message (with --message).
 * The first refusal ends the transaction, except at RCPT, where it
 * refuses that recipient only; the message goes on when one recipient
 * was accepted. A connect-stage refusal is told at HELO as in a real
 * session. Rules of stages the transaction never got to are shown as
 * not reached.
 *
 * The output is text (one block per event, each rule "ID  FILE:LINE
 * OUTCOME" and its facts indented, then the verdict) or one JSON object
 * with the same content. Bounded: at most XP_MAX_RCPTS recipients, the
 * message at most CTL_FIELD_MAX bytes (the transport's bound) and as
 * many header fields and bytes as milter.c reads (MCONN_MAX_*).
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sysexits.h>

#include "ctl.h"
#include "dnsbl.h"
#include "milter.h"
#include "num.h"
#include "session.h"
#include "xalloc.h"

#define XP_MAX_RCPTS	1000
#define XP_BODY_CHUNK	65536

/* the facts of the transaction, from the command line */
struct xp_args {
	const char	*ip;
	const char	*helo;
	const char	*from;
	const char	*login;
	const char	*rcpt[XP_MAX_RCPTS];
	size_t		 nrcpt;
	const char	*msg;		/* or NULL */
	size_t		 msglen;
};

/* one rule as an event saw it */
struct xp_rule {
	char		*id;
	char		*where;		/* FILE:LINE */
	enum rules_outcome o;
	int		 decides;	/* its terminal action ended it */
	char		*detail;	/* the action it took or would take */
	struct buf	 facts;		/* "name\0value\0" pairs */
};

/* one event of the transaction (connect, helo, mail, each rcpt, ...) */
struct xp_block {
	enum stage	 st;
	char		*arg;		/* the recipient (rcpt), or NULL */
	struct xp_rule	*rule;
	size_t		 nrule;
	int		 refused;	/* this event got a 4xx/5xx */
	enum stage	 decided;	/* the stage of that decision */
	char		*reply;		/* the reply, one line */
	struct buf	 log;		/* the decision lines of the event */
};

struct xp {
	struct session	*s;
	struct rules	*rules;
	int		 monitor;	/* mode = monitor */
	struct buf	 dry;		/* every decision line, in order */
	struct xp_block	*b;
	size_t		 nb;
	size_t		 nev;		/* blocks of events that happened */
	int		 rcpt_ok;	/* a recipient was accepted */
	enum stage	 reached;
};

/* last_line -- the last line of b (its decision line): start and length */
static const char *
last_line(const struct buf *b, size_t *len)
{
	size_t	e = b->len, i;

	if (e > 0 && b->data[e - 1] == '\n')
		e--;
	for (i = e; i > 0 && b->data[i - 1] != '\n'; i--)
		;
	*len = e - i;
	return b->len > 0 ? b->data + i : "";
}

/* opt -- "--name VALUE" or "--name=VALUE" at argv[*i]; the value or NULL */
static const char *
opt(const struct ctl_req *req, size_t *i, const char *name, int *bad)
{
	const char	*a = req->argv[*i];
	size_t		 n = strlen(name);

	if (strncmp(a, name, n) != 0)
		return NULL;
	if (a[n] == '=') {
		if (strlen(a) != req->arglen[*i])
			*bad = 1;
		return a + n + 1;
	}
	if (a[n] != '\0')
		return NULL;
	if (*i + 1 >= req->argc) {
		*bad = 1;
		return NULL;
	}
	(*i)++;
	if (strcmp(name, "--message-data") != 0 &&
	    strlen(req->argv[*i]) != req->arglen[*i])
		*bad = 1;	/* a NUL inside a name or address */
	return req->argv[*i];
}

/* parse_args -- the command line into a; 0, or EX_USAGE (why in out) */
static int
parse_args(const struct ctl_req *req, struct xp_args *a, struct buf *out)
{
	struct in6_addr	 a6;
	const char	*v;
	size_t		 i;
	int		 bad = 0;

	memset(a, 0, sizeof(*a));
	for (i = 1; i < req->argc && !bad; i++) {
		if ((v = opt(req, &i, "--ip", &bad)) != NULL)
			a->ip = v;
		else if ((v = opt(req, &i, "--helo", &bad)) != NULL)
			a->helo = v;
		else if ((v = opt(req, &i, "--from", &bad)) != NULL)
			a->from = v;
		else if ((v = opt(req, &i, "--login", &bad)) != NULL)
			a->login = v;
		else if ((v = opt(req, &i, "--rcpt", &bad)) != NULL) {
			if (a->nrcpt >= XP_MAX_RCPTS) {
				buf_printf(out, "mxgatectl: explain: more than "
				    "%d --rcpt\n", XP_MAX_RCPTS);
				return EX_USAGE;
			}
			a->rcpt[a->nrcpt++] = v;
		} else if ((v = opt(req, &i, "--message-data", &bad)) != NULL) {
			a->msg = v;
			a->msglen = req->arglen[i];
		} else if (!bad) {
			buf_puts(out, "mxgatectl: explain: unknown argument: ");
			buf_append(out, req->argv[i], strlen(req->argv[i]));
			buf_putc(out, '\n');
			return EX_USAGE;
		}
	}
	if (bad) {
		buf_puts(out, "mxgatectl: explain: an option lacks its value "
		    "or holds a NUL byte\n");
		return EX_USAGE;
	}
	if (a->ip == NULL) {
		buf_puts(out, "mxgatectl: explain: --ip is required\n");
		return EX_USAGE;
	}
	if (inet_pton(AF_INET, a->ip, &a6) != 1 &&
	    inet_pton(AF_INET6, a->ip, &a6) != 1) {
		buf_puts(out, "mxgatectl: explain: --ip ");
		buf_puts(out, a->ip);
		buf_puts(out, ": not an IPv4 or IPv6 address\n");
		return EX_USAGE;
	}
	if (a->from == NULL && (a->nrcpt > 0 || a->login != NULL)) {
		buf_puts(out, "mxgatectl: explain: --rcpt and --login need "
		    "--from (--from '' for the null sender)\n");
		return EX_USAGE;
	}
	if (a->msg != NULL && a->nrcpt == 0) {
		buf_puts(out, "mxgatectl: explain: --message needs --rcpt\n");
		return EX_USAGE;
	}
	return 0;
}

/* block_new -- a new event block at stage st */
static struct xp_block *
block_new(struct xp *x, enum stage st, const char *arg)
{
	struct xp_block	*b;

	x->b = xreallocarray(x->b, x->nb + 1, sizeof(*x->b));
	b = &x->b[x->nb++];
	memset(b, 0, sizeof(*b));
	b->st = st;
	b->arg = arg != NULL ? xstrdup(arg) : NULL;
	buf_init(&b->log);
	return b;
}

/* fact_pair -- name and value (the session's text of fact id) into facts */
static void
fact_pair(struct xp *x, struct buf *facts, const char *name, int id)
{
	struct buf	v = BUF_INIT;

	session_value(x->s, id, &v);
	buf_append(facts, name, strlen(name) + 1);
	buf_append(facts, buf_str(&v), v.len + 1);
	buf_free(&v);
}

/*
 * rule_facts -- the facts rule m uses, with their values now (per-list
 * facts: one for each DNS list), and the limit that made it match
 */
static void
rule_facts(struct xp *x, const struct rules_match *m, struct buf *facts)
{
	struct dnsbl *const *dl = rules_dnsbls(x->rules);
	size_t		 nd = rules_ndnsbls(x->rules), i;
	struct buf	 name = BUF_INIT, lim = BUF_INIT;
	const struct fact_info *fi;
	char		 win[40];
	int		 f;

	for (f = 0; m->used != NULL && f < (int)V_REF; f++) {
		if (!m->used[f])
			continue;
		fi = fact_info((enum fact)f);
		if (!(fi->flags & FACT_PER_LIST)) {
			fact_pair(x, facts, fi->name, f);
			continue;
		}
		for (i = 0; i < nd; i++) {
			buf_reset(&name);
			buf_printf(&name, "dnsbl.%s%s", dnsbl_name(dl[i]),
			    f == F_DNSBL_LABEL ? ".label" : "");
			fact_pair(x, facts, buf_str(&name), FACT_ID(f, i));
		}
	}
	if (m->limit != NULL) {
		if (m->limit_result.window == 0)
			(void)strlcpy(win, "at once", sizeof(win));
		else {
			(void)strlcpy(win, "per ", sizeof(win));
			num_format_duration(m->limit_result.window, win + 4,
			    sizeof(win) - 4);
		}
		buf_reset(&name);
		buf_printf(&name, "limit %s", m->limit->name);
		buf_printf(&lim, "%llu/%llu %s (exceeded)",
		    (unsigned long long)m->limit_result.count,
		    (unsigned long long)m->limit_result.max, win);
		buf_append(facts, buf_str(&name), name.len + 1);
		buf_append(facts, buf_str(&lim), lim.len + 1);
	}
	buf_free(&name);
	buf_free(&lim);
}

/* action_text -- what a matching rule does: "reject 554 5.7.1", "log" */
static char *
action_text(const struct rules_match *m, int would)
{
	static const char *const word[] = {
		[RA_NONE] = "none", [RA_ACCEPT] = "accept",
		[RA_TEMPFAIL] = "tempfail", [RA_REJECT] = "reject",
		[RA_LOG] = "log", [RA_HEADER] = "header",
	};
	struct buf	b = BUF_INIT;
	const char	*p;

	if (would) {
		buf_puts(&b, "would ");
		for (p = word[m->action]; *p != '\0'; p++)
			buf_putc(&b, *p - 'a' + 'A');
	} else
		buf_puts(&b, word[m->action]);
	if (m->action == RA_TEMPFAIL || m->action == RA_REJECT)
		buf_printf(&b, " %s %s", m->code, m->ecode);
	if (m->action == RA_HEADER && m->header_name != NULL)
		buf_printf(&b, " %s", m->header_name);
	return buf_release(&b);
}

/* trace -- session_trace_fn: one rule of the current event */
static void
trace(void *arg, struct session *s, const struct rules_match *m,
    enum rules_outcome o)
{
	struct xp	*x = arg;
	struct xp_block	*b = &x->b[x->nb - 1];
	struct xp_rule	*r;
	struct buf	 w = BUF_INIT;

	(void)s;
	b->rule = xreallocarray(b->rule, b->nrule + 1, sizeof(*b->rule));
	r = &b->rule[b->nrule++];
	memset(r, 0, sizeof(*r));
	r->id = xstrdup(m->rule);
	buf_printf(&w, "%s:%u", m->file != NULL ? m->file : "?", m->line);
	r->where = buf_release(&w);
	r->o = o;
	buf_init(&r->facts);
	r->decides = o == RULES_DECIDED;
	if (o == RULES_DECIDED) {
		/* global monitor mode: the decision is only logged */
		r->o = x->monitor ? RULES_MONITOR : RULES_MATCHED;
		r->decides = !x->monitor;
	}
	if (o == RULES_DECIDED || o == RULES_MONITOR || o == RULES_MATCHED)
		r->detail = action_text(m, r->o == RULES_MONITOR);
	if (o != RULES_NOT_REACHED)
		rule_facts(x, m, &r->facts);
}

/*
 * block_end -- after the event of the last block: its decision lines
 * and verdict; a stage whose rules did not run shows them not reached.
 * Returns 1 when the event was refused.
 */
static int
block_end(struct xp *x, size_t logfrom, const struct verdict *v,
    enum stage decided)
{
	struct xp_block	*b = &x->b[x->nb - 1];
	struct buf	 r = BUF_INIT;

	if (b->nrule == 0)
		session_unreached(x->s, b->st);
	buf_append(&b->log, x->dry.data + logfrom, x->dry.len - logfrom);
	x->reached = b->st;
	x->nev = x->nb;
	if (v->kind != VERDICT_TEMPFAIL && v->kind != VERDICT_REJECT)
		return 0;
	reply_format(&v->reply, &r);
	b->reply = buf_release(&r);
	b->refused = 1;
	b->decided = decided;
	return 1;
}

/* message_header -- msg's header to the session; where the body starts */
static size_t
message_header(struct xp *x, const char *msg, size_t len, int *over)
{
	struct buf	 name = BUF_INIT, val = BUF_INIT;
	size_t		 i = 0, e, n, nhdr = 0, bytes = 0;
	const char	*c;

	for (; i < len; i = e + 1) {
		c = memchr(msg + i, '\n', len - i);
		e = c != NULL ? (size_t)(c - msg) : len;
		n = e - i;
		if (n > 0 && msg[e - 1] == '\r')
			n--;
		if ((msg[i] == ' ' || msg[i] == '\t') && name.len > 0 &&
		    n > 0) {
			buf_putc(&val, '\n');
			buf_append(&val, msg + i, n);
			continue;
		}
		if (name.len > 0) {
			bytes += name.len + val.len + 2;
			if (++nhdr > MCONN_MAX_HEADERS ||
			    bytes > MCONN_MAX_HEADER_BYTES)
				*over = 1;
			if (!*over)
				session_header(x->s, buf_str(&name),
				    buf_str(&val));
			buf_reset(&name);
			buf_reset(&val);
		}
		if (n == 0 || (c = memchr(msg + i, ':', n)) == NULL ||
		    c == msg + i || memchr(msg + i, ' ', (size_t)(c - msg) - i)
		    != NULL || memchr(msg + i, '\0', n) != NULL) {
			/* the empty line (skipped), or a body with no header */
			i = n == 0 ? e + 1 : i;
			break;
		}
		buf_append(&name, msg + i, (size_t)(c - msg) - i);
		for (c++; c < msg + i + n && (*c == ' ' || *c == '\t'); c++)
			;
		buf_append(&val, c, (size_t)(msg + i + n - c));
	}
	if (name.len > 0 && !*over)
		session_header(x->s, buf_str(&name), buf_str(&val));
	buf_free(&name);
	buf_free(&val);
	return i < len ? i : len;
}

/* message_body -- the body as the MTA sends it: lines end in CRLF */
static void
message_body(struct xp *x, const char *p, size_t len)
{
	struct buf	 chunk = BUF_INIT;
	const char	*c;
	size_t		 n;

	while (len > 0) {
		c = memchr(p, '\n', len);
		n = c != NULL ? (size_t)(c - p) : len;
		buf_append(&chunk, p, n > 0 && p[n - 1] == '\r' ? n - 1 : n);
		buf_append(&chunk, "\r\n", 2);
		p += c != NULL ? n + 1 : n;
		len -= c != NULL ? n + 1 : n;
		if (chunk.len >= XP_BODY_CHUNK) {
			session_body(x->s, (const unsigned char *)chunk.data,
			    chunk.len);
			buf_reset(&chunk);
		}
	}
	if (chunk.len > 0)
		session_body(x->s, (const unsigned char *)chunk.data,
		    chunk.len);
	buf_free(&chunk);
}

/* run_message -- DATA, the header, the body, end of message */
static void
run_message(struct xp *x, const struct xp_args *a)
{
	struct verdict	 v;
	size_t		 from, body;
	int		 over = 0;

	verdict_init(&v);
	block_new(x, STAGE_DATA, NULL);
	from = x->dry.len;
	session_data(x->s, NULL, &v);
	if (block_end(x, from, &v, STAGE_DATA)) {
		verdict_clear(&v);
		return;
	}
	block_new(x, STAGE_EOM, NULL);
	from = x->dry.len;
	body = message_header(x, a->msg, a->msglen, &over);
	session_eoh(x->s);
	message_body(x, a->msg + body, a->msglen - body);
	if (over)
		session_eom_limit(x->s, NULL, &v);
	if (v.kind == VERDICT_CONTINUE)
		session_eom(x->s, NULL, &v);
	(void)block_end(x, from, &v, STAGE_EOM);
	verdict_clear(&v);
}

/* run_rcpts -- each RCPT; 1 when at least one recipient was accepted */
static int
run_rcpts(struct xp *x, const struct xp_args *a)
{
	struct verdict	 v;
	struct buf	 r = BUF_INIT;
	size_t		 i, from;
	int		 ok = 0, pending;

	for (i = 0; i < a->nrcpt; i++) {
		buf_reset(&r);
		buf_printf(&r, "<%s>", a->rcpt[i]);
		verdict_init(&v);
		pending = session_pending(x->s);
		block_new(x, STAGE_RCPT, a->rcpt[i]);
		from = x->dry.len;
		session_rcpt(x->s, buf_str(&r), NULL, &v);
		if (!block_end(x, from, &v, pending ? STAGE_CONNECT :
		    STAGE_RCPT))
			ok = x->rcpt_ok = 1;
		verdict_clear(&v);
		if (pending)
			break;		/* the connection's refusal: no more */
	}
	buf_free(&r);
	return ok;
}

/* run -- the transaction, event by event, until it ends */
static void
run(struct xp *x, const struct xp_args *a)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	struct verdict		 v;
	struct buf		 from = BUF_INIT;
	size_t			 at;
	int			 pending;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, a->ip, &sin->sin_addr) == 1)
		sin->sin_family = AF_INET;
	else if (inet_pton(AF_INET6, a->ip, &sin6->sin6_addr) == 1)
		sin6->sin6_family = AF_INET6;
	verdict_init(&v);
	block_new(x, STAGE_CONNECT, NULL);
	session_connect(x->s, NULL, (struct sockaddr *)&ss, NULL, &v);
	if (block_end(x, 0, &v, STAGE_CONNECT) || v.kind == VERDICT_DONE)
		goto out;
	pending = session_pending(x->s);
	block_new(x, STAGE_HELO, NULL);
	at = x->dry.len;
	session_helo(x->s, a->helo, 0, &v);
	if (block_end(x, at, &v, pending ? STAGE_CONNECT : STAGE_HELO) ||
	    a->from == NULL)
		goto out;
	pending = session_pending(x->s);
	buf_printf(&from, "<%s>", a->from);
	block_new(x, STAGE_MAIL, NULL);
	at = x->dry.len;
	session_mail(x->s, buf_str(&from), NULL, a->login, NULL, NULL, &v);
	if (block_end(x, at, &v, pending ? STAGE_CONNECT : STAGE_MAIL))
		goto out;
	if (run_rcpts(x, a) && a->msg != NULL)
		run_message(x, a);
out:
	verdict_clear(&v);
	buf_free(&from);
}

/* unreached -- the rules of every stage after the last event, not reached */
static void
unreached(struct xp *x)
{
	enum stage	st;

	for (st = x->reached + 1; st < STAGE_COUNT; st++) {
		block_new(x, st, NULL);
		session_unreached(x->s, st);
	}
}

/*
 * final -- the block whose refusal ended the transaction (or, with every
 * recipient refused, the last), or NULL when it was accepted
 */
static const struct xp_block *
final(const struct xp *x)
{
	const struct xp_block	*b;

	if (x->nev == 0)
		return NULL;
	b = &x->b[x->nev - 1];
	if (!b->refused || (b->st == STAGE_RCPT && x->rcpt_ok))
		return NULL;
	return b;
}

/*
 * decision_block -- the block that holds the decision's line: the
 * connect block for a connect-stage refusal replied later, else f
 */
static const struct xp_block *
decision_block(const struct xp *x, const struct xp_block *f)
{
	return f->decided == STAGE_CONNECT ? &x->b[0] : f;
}

/* decision_rule -- the rule= of the last decision line of a block */
static void
decision_rule(const struct xp_block *b, struct buf *out)
{
	const char	*p = buf_str(&b->log), *q, *last = NULL;

	while ((q = strstr(p, " rule=")) != NULL) {
		last = q + 6;
		p = last;
	}
	if (last == NULL)
		return;
	q = last + strcspn(last, " \n");
	buf_append(out, last, (size_t)(q - last));
}

/* text_block -- one event's block, for humans */
static void
text_block(const struct xp_block *b, struct buf *out)
{
	const struct xp_rule	*r;
	const char		*p, *end, *nl;
	size_t			 i;

	buf_printf(out, "%s%s%s%s\n", stage_name(b->st), b->arg ? " <" : "",
	    b->arg ? b->arg : "", b->arg ? ">" : "");
	if (b->nrule == 0)
		buf_puts(out, "  (no rules)\n");
	for (i = 0; i < b->nrule; i++) {
		r = &b->rule[i];
		buf_printf(out, "  %s  %s  %s", r->id, r->where,
		    rules_outcome_name(r->o));
		if (r->detail != NULL)
			buf_printf(out, r->o == RULES_MONITOR ? " (%s)" :
			    ": %s", r->detail);
		buf_puts(out, r->decides ? " (decides)\n" : "\n");
		p = r->facts.data;
		end = p + r->facts.len;
		while (p != NULL && p < end) {
			buf_printf(out, "      %s = ", p);
			p += strlen(p) + 1;
			buf_printf(out, "%s\n", *p != '\0' ? p : "(none)");
			p += strlen(p) + 1;
		}
	}
	for (p = buf_str(&b->log); *p != '\0'; p = nl + 1) {
		nl = strchr(p, '\n');
		buf_puts(out, "  log: ");
		buf_append(out, p, (size_t)(nl - p) + 1);
	}
	if (b->refused)
		buf_printf(out, "  reply: %s\n", b->reply);
}

/* text_out -- the whole explanation, for humans */
static void
text_out(const struct xp *x, struct buf *out)
{
	const struct xp_block	*f = final(x);
	struct buf		 rule = BUF_INIT;
	const char		*p;
	size_t			 i, n;

	for (i = 0; i < x->nb; i++)
		text_block(&x->b[i], out);
	buf_putc(out, '\n');
	if (f == NULL) {
		buf_printf(out, "accepted\nstage: %s\n",
		    stage_name(x->reached));
		return;
	}
	decision_rule(decision_block(x, f), &rule);
	buf_printf(out, "reply: %s\nstage: %s", f->reply,
	    stage_name(f->decided));
	if (f->decided != f->st)
		buf_printf(out, " (replied at %s)", stage_name(f->st));
	buf_printf(out, "\nrule: %s\n", buf_str(&rule));
	/* the decision's line is the event's last */
	p = last_line(&decision_block(x, f)->log, &n);
	buf_puts(out, "log: ");
	buf_append(out, p, n);
	buf_putc(out, '\n');
	buf_free(&rule);
}

/* json_block -- one event's block as a JSON object */
static void
json_block(const struct xp_block *b, struct buf *out)
{
	const struct xp_rule	*r;
	const char		*p, *end, *nl;
	size_t			 i;

	buf_puts(out, "{\"stage\":");
	ctl_json_str(out, stage_name(b->st));
	if (b->arg != NULL) {
		buf_puts(out, ",\"rcpt\":");
		ctl_json_str(out, b->arg);
	}
	buf_puts(out, ",\"rules\":[");
	for (i = 0; i < b->nrule; i++) {
		r = &b->rule[i];
		buf_puts(out, i ? ",{\"id\":" : "{\"id\":");
		ctl_json_str(out, r->id);
		buf_puts(out, ",\"where\":");
		ctl_json_str(out, r->where);
		buf_puts(out, ",\"outcome\":");
		ctl_json_str(out, rules_outcome_name(r->o));
		buf_printf(out, ",\"decides\":%s",
		    r->decides ? "true" : "false");
		buf_puts(out, ",\"action\":");
		if (r->detail != NULL)
			ctl_json_str(out, r->detail);
		else
			buf_puts(out, "null");
		buf_puts(out, ",\"facts\":{");
		p = r->facts.data;
		end = p + r->facts.len;
		while (p != NULL && p < end) {
			if (p != r->facts.data)
				buf_putc(out, ',');
			ctl_json_str(out, p);
			buf_putc(out, ':');
			p += strlen(p) + 1;
			ctl_json_str(out, p);
			p += strlen(p) + 1;
		}
		buf_puts(out, "}}");
	}
	buf_puts(out, "],\"log\":[");
	for (p = buf_str(&b->log); *p != '\0'; p = nl + 1) {
		nl = strchr(p, '\n');
		if (p != b->log.data)
			buf_putc(out, ',');
		ctl_json_strn(out, p, (size_t)(nl - p));
	}
	buf_puts(out, "],\"reply\":");
	if (b->refused)
		ctl_json_str(out, b->reply);
	else
		buf_puts(out, "null");
	buf_putc(out, '}');
}

/* json_out -- the whole explanation as one JSON object */
static void
json_out(const struct xp *x, struct buf *out)
{
	const struct xp_block	*f = final(x);
	struct buf		 rule = BUF_INIT;
	const char		*p;
	size_t			 i, n;

	buf_printf(out, "{\"result\":\"%s\",\"stage\":",
	    f == NULL ? "accepted" : "refused");
	ctl_json_str(out, stage_name(f != NULL ? f->decided : x->reached));
	if (f != NULL) {
		decision_rule(decision_block(x, f), &rule);
		buf_puts(out, ",\"replied_at\":");
		ctl_json_str(out, stage_name(f->st));
		buf_puts(out, ",\"rule\":");
		ctl_json_str(out, buf_str(&rule));
		buf_puts(out, ",\"reply\":");
		ctl_json_str(out, f->reply);
		buf_puts(out, ",\"log\":");
		p = last_line(&decision_block(x, f)->log, &n);
		ctl_json_strn(out, p, n);
	}
	buf_puts(out, ",\"events\":[");
	for (i = 0; i < x->nb; i++) {
		if (i)
			buf_putc(out, ',');
		json_block(&x->b[i], out);
	}
	buf_puts(out, "]}\n");
	buf_free(&rule);
}

/* xp_free -- everything an explanation holds */
static void
xp_free(struct xp *x)
{
	size_t	i, j;

	for (i = 0; i < x->nb; i++) {
		for (j = 0; j < x->b[i].nrule; j++) {
			free(x->b[i].rule[j].id);
			free(x->b[i].rule[j].where);
			free(x->b[i].rule[j].detail);
			buf_free(&x->b[i].rule[j].facts);
		}
		free(x->b[i].rule);
		free(x->b[i].arg);
		free(x->b[i].reply);
		buf_free(&x->b[i].log);
	}
	free(x->b);
	buf_free(&x->dry);
	session_free(x->s);
	if (x->rules != NULL)
		rules_unref(x->rules);
}

/* ctl_explain -- the rules' verdict on these facts, counting nothing */
int
ctl_explain(const struct ctl_req *req, struct buf *out)
{
	struct xp_args	 a;
	struct xp	 x;
	int		 rc;

	if ((rc = parse_args(req, &a, out)) != 0)
		return rc;
	memset(&x, 0, sizeof(x));
	buf_init(&x.dry);
	if ((x.rules = milter_rules()) == NULL) {
		buf_puts(out, "mxgatectl: explain: no rules loaded\n");
		return EX_UNAVAILABLE;
	}
	x.monitor = milter_cfg()->mode == CFG_MODE_MONITOR;
	x.s = session_new(x.rules, milter_cfg(), milter_store(), milter_dns());
	session_look_only(x.s, &x.dry, trace, &x);
	run(&x, &a);
	unreached(&x);
	if (req->json)
		json_out(&x, out);
	else
		text_out(&x, out);
	xp_free(&x);
	return 0;
}
