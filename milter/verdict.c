/*
 * verdict -- rule decisions to replies and log lines (see verdict.h).
 *
 * A reference is 12 characters of Crockford base32 (no I L O U): 30 bits
 * of seconds, 30 bits of a per-process counter whitened with a random
 * seed. It is unique within a process and practically unique across
 * restarts and hosts, short enough to read over the phone, and it is the
 * same in the reply and in the log line.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "log.h"
#include "num.h"
#include "refring.h"
#include "stats.h"
#include "verdict.h"
#include "xalloc.h"

/* template values verdict.c supplies itself, then the session's */
struct vctx {
	const struct rules_match *m;
	const struct verdict_src *src;
	const char		 *ref;
};

static const char	 b32[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
static uint64_t		 ref_seed;
static uint64_t		 ref_counter;

static void	vctx_value(void *, int, struct buf *);
static void	log_decision(const struct rules_match *, const struct verdict_src *,
		    const char *, const char *, const struct reply *, const char *);
static const char *action_word(enum rules_action);

/* verdict_init -- an empty verdict (continue) */
void
verdict_init(struct verdict *v)
{
	memset(v, 0, sizeof(*v));
	v->kind = VERDICT_CONTINUE;
}

/* verdict_clear -- free the reply lines; the verdict is continue again */
void
verdict_clear(struct verdict *v)
{
	if (v->kind != VERDICT_CONTINUE)
		reply_free(&v->reply);
	verdict_init(v);
}

/* verdict_new_ref -- write a fresh reference (VERDICT_REF_LEN chars + NUL) */
void
verdict_new_ref(char *out)
{
	uint64_t	seed, n, t, x;
	int		i;

	seed = __atomic_load_n(&ref_seed, __ATOMIC_RELAXED);
	if (seed == 0) {
		if (RAND_bytes((unsigned char *)&seed, sizeof(seed)) != 1)
			seed = (uint64_t)time(NULL) * 0x9E3779B97F4A7C15ULL;
		seed |= 1;
		__atomic_store_n(&ref_seed, seed, __ATOMIC_RELAXED);
	}
	n = __atomic_add_fetch(&ref_counter, 1, __ATOMIC_RELAXED);
	/* an odd multiplier is a bijection mod 2^30: distinct counters, distinct refs */
	n = ((n + seed) * (seed | 1)) & 0x3FFFFFFF;
	t = (uint64_t)time(NULL) & 0x3FFFFFFF;
	x = (t << 30) | n;
	for (i = VERDICT_REF_LEN - 1; i >= 0; i--) {
		out[i] = b32[x & 31];
		x >>= 5;
	}
	out[VERDICT_REF_LEN] = '\0';
}

/* action_word -- the log word of an action */
static const char *
action_word(enum rules_action a)
{
	switch (a) {
	case RA_ACCEPT:
		return "accept";
	case RA_TEMPFAIL:
		return "tempfail";
	case RA_REJECT:
		return "reject";
	case RA_LOG:
		return "log";
	case RA_HEADER:
		return "header";
	default:
		return "none";
	}
}

/* vctx_value -- template variables: decision ones here, the rest from the session */
static void
vctx_value(void *arg, int id, struct buf *out)
{
	struct vctx		*c = arg;
	const struct rules_match *m = c->m;
	char			 tmp[32];

	switch (id) {
	case V_REF:
		buf_puts(out, c->ref);
		return;
	case V_RULE:
		buf_puts(out, m->rule);
		return;
	case V_RETRY_AFTER:
		if (m->limit != NULL)
			buf_printf(out, "%" PRIu64, m->limit_result.retry_after);
		return;
	case V_LIMIT_NAME:
		if (m->limit != NULL)
			buf_puts(out, m->limit->name);
		return;
	case V_LIMIT_COUNT:
		if (m->limit != NULL)
			buf_printf(out, "%" PRIu64, m->limit_result.count);
		return;
	case V_LIMIT_MAX:
		if (m->limit != NULL)
			buf_printf(out, "%" PRIu64, m->limit_result.max);
		return;
	case V_LIMIT_WINDOW:
		if (m->limit == NULL)
			return;
		if (m->limit_result.window == 0) {
			buf_puts(out, "concurrent");
			return;
		}
		num_format_duration(m->limit_result.window, tmp, sizeof(tmp));
		buf_puts(out, tmp);
		return;
	default:
		c->src->value(c->src->arg, id, out);
	}
}

/* log_decision -- the one key=value line of a decision (spec section 7) */
static void
log_decision(const struct rules_match *m, const struct verdict_src *src,
    const char *action, const char *ref, const struct reply *reply,
    const char *text)
{
	struct buf	b = BUF_INIT;
	char		win[32];

	buf_printf(&b, "%s:", src->queue_id ? src->queue_id : "NOQUEUE");
	if (ref != NULL)
		buf_printf(&b, " ref=%s", ref);
	buf_puts(&b, " rule=");
	log_escape(&b, m->rule);
	buf_printf(&b, " stage=%s action=%s", stage_name(m->stage), action);
	if (reply != NULL) {
		struct buf r = BUF_INIT;

		reply_format(reply, &r);
		buf_puts(&b, " reply=");
		log_escape(&b, buf_str(&r));
		buf_free(&r);
	}
	if (text != NULL) {
		buf_puts(&b, " text=");
		log_escape(&b, text);
	}
	buf_puts(&b, " client=");
	log_escape(&b, src->client_name ? src->client_name : "unknown");
	buf_putc(&b, '[');
	log_escape(&b, src->client_ip ? src->client_ip : "");
	buf_putc(&b, ']');
	if (src->helo != NULL) {
		buf_puts(&b, " helo=");
		log_escape(&b, src->helo);
	}
	if (src->mail_from != NULL) {
		buf_puts(&b, " from=<");
		log_escape(&b, src->mail_from);
		buf_putc(&b, '>');
	}
	if (src->rcpt != NULL) {
		buf_puts(&b, " rcpt=<");
		log_escape(&b, src->rcpt);
		buf_putc(&b, '>');
	}
	if (src->sasl_user != NULL && *src->sasl_user != '\0') {
		buf_puts(&b, " sasl=");
		log_escape(&b, src->sasl_user);
	}
	if (src->spf != NULL)
		buf_printf(&b, " spf=%s", src->spf);
	if (src->dkim != NULL)
		buf_printf(&b, " dkim=%s", src->dkim);
	if (src->dmarc != NULL)
		buf_printf(&b, " dmarc=%s", src->dmarc);
	if (src->dnsbl != NULL && *src->dnsbl != '\0') {
		buf_puts(&b, " dnsbl=");
		log_escape(&b, src->dnsbl);
	}
	if (m->limit != NULL) {
		if (m->limit_result.window == 0)
			(void)strlcpy(win, "concurrent", sizeof(win));
		else
			num_format_duration(m->limit_result.window, win, sizeof(win));
		buf_puts(&b, " limit=");
		log_escape(&b, m->limit->name);
		buf_printf(&b, ":%" PRIu64 "/%" PRIu64 "/%s",
		    m->limit_result.count, m->limit_result.max, win);
	}
	if (src->dry != NULL) {
		/* explain: the line is shown, nothing else happens */
		buf_printf(src->dry, "%s\n", buf_str(&b));
		buf_free(&b);
		return;
	}
	stats_decision(m->rule, stage_name(m->stage), action);
	log_info("%s", buf_str(&b));
	refring_decision(m, src, action, ref, reply, text);	/* mxgatectl ref */
	buf_free(&b);
}

/* reply_shows -- does one line of the reply hold the reference? */
static int
reply_shows(const struct reply *r, const char *tag)
{
	unsigned	i;

	for (i = 0; i < r->nlines; i++)
		if (strstr(r->line[i], tag) != NULL)
			return 1;
	return 0;
}

/*
 * finish_reply -- the expanded text and footer into reply lines, with
 * "(ref REF)" added unless add is 0 (a template shows ${ref})
 */
static void
finish_reply(struct reply *r, const char *code, const char *ecode,
    struct buf *text, int add, struct vctx *c)
{
	struct buf	foot = BUF_INIT, full = BUF_INIT;
	const struct tmpl *footer = c->src->footer;
	char		tag[VERDICT_REF_LEN + 8];
	size_t		keep;

	if (footer != NULL)
		tmpl_expand(footer, vctx_value, c, &foot);
	if (footer != NULL && tmpl_uses(footer, V_REF))
		add = 0;
	(void)snprintf(tag, sizeof(tag), "(ref %s)", c->ref);
	/* text too long for 32 lines would lose its ref: cut it until it fits */
	for (keep = text->len;; keep /= 2) {
		buf_reset(&full);
		buf_append(&full, text->data != NULL ? text->data : "", keep);
		if (keep < text->len)
			buf_puts(&full, "...");
		if (add)
			buf_printf(&full, "%s%s", full.len ? " " : "", tag);
		reply_build(r, code, ecode, buf_str(&full),
		    foot.len ? buf_str(&foot) : NULL);
		if (!add || keep == 0 || reply_shows(r, c->ref))
			break;
		reply_free(r);
	}
	buf_free(&full);
	buf_free(&foot);
}

/*
 * build_reply -- expand the rule's text and the footer, add "(ref REF)"
 * unless one of them shows ${ref}, and wrap it into reply lines.
 */
static void
build_reply(struct reply *r, const struct rules_match *m, struct vctx *c)
{
	struct buf	text = BUF_INIT;

	if (m->text != NULL)
		tmpl_expand(m->text, vctx_value, c, &text);
	finish_reply(r, m->code, m->ecode, &text,
	    m->text == NULL || !tmpl_uses(m->text, V_REF), c);
	buf_free(&text);
}

/*
 * verdict_decide -- turn the terminal match of a stage into a verdict and
 * its log line. In monitor mode (global, or the rule's own flag) the
 * decision is logged as would_<action> and the verdict is continue.
 * Returns 1 when the decision takes effect, 0 when it was only logged.
 */
int
verdict_decide(struct verdict *v, const struct rules_match *m,
    const struct verdict_src *src)
{
	struct vctx	c;
	struct reply	r;
	char		word[32];
	int		monitor = src->monitor_mode || m->monitor;

	verdict_clear(v);
	verdict_new_ref(v->ref);
	c.m = m;
	c.src = src;
	c.ref = v->ref;
	(void)snprintf(word, sizeof(word), "%s%s", monitor ? "would_" : "",
	    action_word(m->action));
	if (m->action != RA_TEMPFAIL && m->action != RA_REJECT) {
		log_decision(m, src, word, v->ref, NULL, NULL);
		return !monitor;
	}
	build_reply(&r, m, &c);
	log_decision(m, src, word, v->ref, &r, NULL);
	if (monitor) {
		reply_free(&r);
		return 0;
	}
	v->reply = r;
	v->kind = m->action == RA_TEMPFAIL ? VERDICT_TEMPFAIL : VERDICT_REJECT;
	return 1;
}

/*
 * verdict_note -- a non-terminal or monitor match: log actions write
 * their text, monitor rules write would_<action> (with the reply they
 * would have given). The text of a log or header action is expanded here,
 * where ${rule}, ${ref}, ${retry_after} and ${limit.*} are known, and
 * also appended to `expanded` when it is not NULL (the header value).
 */
void
verdict_note(const struct rules_match *m, const struct verdict_src *src,
    struct buf *expanded)
{
	struct vctx	c;
	struct reply	r;
	struct buf	text = BUF_INIT;
	char		ref[VERDICT_REF_LEN + 1], word[32];

	verdict_new_ref(ref);
	c.m = m;
	c.src = src;
	c.ref = ref;
	(void)snprintf(word, sizeof(word), "%s%s", m->monitor ? "would_" : "",
	    action_word(m->action));
	if (m->action == RA_TEMPFAIL || m->action == RA_REJECT) {
		build_reply(&r, m, &c);
		log_decision(m, src, word, ref, &r, NULL);
		reply_free(&r);
		return;
	}
	if (m->text != NULL)
		tmpl_expand(m->text, vctx_value, &c, &text);
	if (expanded != NULL)
		buf_puts(expanded, buf_str(&text));
	if (m->action != RA_HEADER || m->monitor)
		log_decision(m, src, word, ref, NULL, buf_str(&text));
	buf_free(&text);
}

/*
 * verdict_internal -- an internal error at a stage: on_internal_error =
 * tempfail answers 451 4.3.0 with a reference (accept == 0); accept lets
 * the command through. Both are logged.
 */
void
verdict_internal(struct verdict *v, enum stage stage, int accept,
    const struct verdict_src *src)
{
	struct rules_match m;
	char		text[128];

	verdict_clear(v);
	verdict_new_ref(v->ref);
	memset(&m, 0, sizeof(m));
	m.rule = "internal-error";
	m.stage = stage;
	if (accept) {
		log_decision(&m, src, "accept", v->ref, NULL,
		    "internal error; on_internal_error = accept");
		return;
	}
	(void)snprintf(text, sizeof(text),
	    "Temporary local problem, please try again later (ref %s)", v->ref);
	reply_build(&v->reply, "451", "4.3.0", text, NULL);
	log_decision(&m, src, "tempfail", v->ref, &v->reply, "internal error");
	v->kind = VERDICT_TEMPFAIL;
}

/*
 * fault -- mxgate's own answer where a rule could not decide (a check
 * that could not be made, a resource bound): CODE ECODE with the text,
 * the footer and a reference, as rule `rule`; in monitor mode only
 * logged (would_tempfail, would_reject). Returns 1 when the verdict
 * takes effect.
 */
static int
fault(struct verdict *v, enum stage stage, const char *rule,
    const char *code, const char *ecode, struct buf *text,
    const struct verdict_src *src)
{
	int		perm = code[0] == '5';
	const char	*word;

	struct rules_match m;
	struct vctx	c;
	struct reply	r;

	verdict_clear(v);
	verdict_new_ref(v->ref);
	memset(&m, 0, sizeof(m));
	m.rule = rule;
	m.stage = stage;
	m.action = perm ? RA_REJECT : RA_TEMPFAIL;
	m.code = code;
	m.ecode = ecode;
	c.m = &m;
	c.src = src;
	c.ref = v->ref;
	finish_reply(&r, m.code, m.ecode, text, 1, &c);
	if (src->monitor_mode)
		word = perm ? "would_reject" : "would_tempfail";
	else
		word = perm ? "reject" : "tempfail";
	log_decision(&m, src, word, v->ref, &r, NULL);
	if (src->monitor_mode) {
		reply_free(&r);
		return 0;
	}
	v->reply = r;
	v->kind = perm ? VERDICT_REJECT : VERDICT_TEMPFAIL;
	return 1;
}

/* fault_text -- fault() with a fixed text */
static int
fault_text(struct verdict *v, enum stage stage, const char *rule,
    const char *code, const char *ecode, const char *s,
    const struct verdict_src *src)
{
	struct buf	text = BUF_INIT;
	int		rc;

	buf_puts(&text, s);
	rc = fault(v, stage, rule, code, ecode, &text, src);
	buf_free(&text);
	return rc;
}

/*
 * verdict_dnsbl -- DNS lists with on_error = tempfail failed where a rule
 * needed them: 451 4.4.3 naming them (their public names). Returns 1 when
 * the verdict takes effect.
 */
int
verdict_dnsbl(struct verdict *v, enum stage stage, const char *lists,
    const struct verdict_src *src)
{
	struct buf	text = BUF_INIT;
	int		rc;

	buf_printf(&text, "Your address could not be checked against %s: the "
	    "DNS list did not answer. This is temporary; please try again "
	    "later.", lists);
	rc = fault(v, stage, "dnsbl-error", "451", "4.4.3", &text, src);
	buf_free(&text);
	return rc;
}

/*
 * verdict_store -- the shared rate counters (Redis) were unreachable
 * where a rule needed a limit and store_error = tempfail: 451 4.3.0.
 * Returns 1 when the verdict takes effect.
 */
int
verdict_store(struct verdict *v, enum stage stage,
    const struct verdict_src *src)
{
	return fault_text(v, stage, "store-error", "451", "4.3.0", "Sending "
	    "limits cannot be checked right now (the rate counter store is "
	    "unreachable). This is temporary; please try again later.", src);
}

/*
 * verdict_timeout -- a check of the stage ran out of the stage's time
 * (stage_timeout): 451 4.4.3, rule stage-timeout, answered by mxgate
 * itself before the MTA's milter timeout. Returns 1 when the verdict
 * takes effect (not in monitor mode).
 */
int
verdict_timeout(struct verdict *v, enum stage stage,
    const struct verdict_src *src)
{
	return fault_text(v, stage, "stage-timeout", "451", "4.4.3", "Checks "
	    "for this message took too long (a DNS server did not answer in "
	    "time). This is temporary; please try again later.", src);
}

/*
 * verdict_overload -- a connection beyond max_connections: 421 4.3.2,
 * rule max-connections, at connect (delivered at HELO like any connect
 * refusal). Returns 1 when the verdict takes effect (not in monitor mode).
 */
int
verdict_overload(struct verdict *v, const struct verdict_src *src)
{
	return fault_text(v, STAGE_CONNECT, "max-connections", "421", "4.3.2",
	    "Too many connections to the mail filter right now "
	    "(max_connections). This is temporary; please try again later.",
	    src);
}

/*
 * verdict_header_limit -- a message whose header went beyond what mxgate
 * reads (too many fields or bytes): 552 5.3.4 at end of message, rule
 * header-limit. Retrying cannot help, so the refusal is permanent.
 * Returns 1 when the verdict takes effect (not in monitor mode).
 */
int
verdict_header_limit(struct verdict *v, const struct verdict_src *src)
{
	return fault_text(v, STAGE_EOM, "header-limit", "552", "5.3.4",
	    "Message header too large to be checked (too many header fields "
	    "or bytes).", src);
}
