/*
 * session -- per-connection and per-message state (see session.h).
 *
 * Flow of one stage: copy the MTA's input in, run the stage's rules with
 * this session as the fact source, turn the first terminal match into a
 * verdict (verdict.c), count admitted events (ratelimit.c).
 *
 * Every stage (connect, HELO, MAIL, RCPT, DATA, end of message) gets one
 * deadline, stage_timeout from when the MTA's command came (deadline.h),
 * and every check that waits in it is capped by it: DNS lists, SPF, DKIM
 * keys, DMARC, the TXT behind ${dnsbl.txt}, Redis. DKIM keys are asked at
 * end of headers but waited for at end of message, so their time counts
 * against the end-of-message deadline (the body's transfer is not
 * charged to any stage). When a check was cut short by the deadline, the
 * stage gets mxgate's own 451 4.4.3 (rule stage-timeout), never a
 * decision on a result that could not be had in time; a DNS list cut
 * short is unanswered, and its on_error decides as for its own timeout.
 *
 * Counting follows spec section 6: a connection is counted when no
 * connect-stage rule refused it; a message, its recipients and bytes at
 * end of message when the message was accepted. A connect-stage refusal
 * is recorded and delivered at HELO/EHLO (when the client sends no HELO:
 * at RCPT where RCPT rules make RCPT answered anyway, else at MAIL),
 * because Postfix replaces a milter's 421 text at connect with its own.
 *
 * In explain's look-only mode (s->dry set; its entry points are in
 * session_explain.c) nothing is counted and decision lines go to s->dry.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth.h"
#include "dnsbl_lookup.h"
#include "log.h"
#include "num.h"
#include "session.h"
#include "session_int.h"
#include "stats.h"
#include "xalloc.h"


static time_t	conn_warned, msg_warned;	/* store failures, logged once a minute */
static int	limit_get(void *, const struct rl_limit *, struct rl_result *);
static void	matched(void *, const struct rules_match *);
static void	event_fill(struct session *, struct rl_event *);
static int	run_stage(struct session *, enum stage, struct verdict *);
static void	message_reset(struct session *);
static char	*domain_of(const char *);
static void	set_str(char **, const char *);
static void	stage_begin(struct session *);

/* set_str -- replace an owned string with a copy (NULL allowed) */
static void
set_str(char **dst, const char *src)
{
	free(*dst);
	*dst = src != NULL ? xstrdup(src) : NULL;
}

/* domain_of -- the lower-cased part after the last '@', or NULL */
static char *
domain_of(const char *addr)
{
	const char	*at = strrchr(addr, '@');
	char		*d, *p;

	if (at == NULL || at[1] == '\0')
		return NULL;
	d = xstrdup(at + 1);
	for (p = d; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return d;
}

/* strip_brackets -- "<a@b>" -> "a@b" (a copy) */
static char *
strip_brackets(const char *s)
{
	size_t	len = strlen(s);

	if (len >= 2 && s[0] == '<' && s[len - 1] == '>')
		return xstrndup(s + 1, len - 2);
	return xstrdup(s);
}

/*
 * session_plan -- which MTA events a rule set needs and where it may
 * answer, so that negotiation switches off every other callback.
 */
void
session_plan(const struct rules *r, const struct cfg *cfg,
    struct session_plan *p)
{
	struct rules_needs	 n;
	const struct rl_limit *const *lim = rules_limits(r);
	size_t			 i, nl = rules_nlimits(r);
	int			 msg_limits = 0, rcpt_limits = 0, conc_limits = 0;

	rules_needs(r, &n);
	/* DKIM needs every header and the body; DMARC SPF too */
	p->auth = cfg->add_auth_results || n.fact[F_DKIM] ||
	    n.fact[F_DKIM_DOMAINS] || n.fact[F_DMARC] || n.fact[F_DMARC_POLICY] ||
	    n.fact[F_DMARC_TESTING];
	if (p->auth) {
		n.header = n.body = 1;
		n.stages |= 1u << STAGE_EOM;
		n.fact[F_SPF] = 1;
	}
	for (i = 0; i < nl; i++) {
		if (lim[i]->count == RL_COUNT_MESSAGES ||
		    lim[i]->count == RL_COUNT_BYTES)
			msg_limits = 1;
		if (lim[i]->count == RL_COUNT_RECIPIENTS)
			msg_limits = rcpt_limits = 1;
		if (lim[i]->count == RL_COUNT_CONCURRENT)
			conc_limits = 1;
	}
	p->need = p->reply = 0;
	/* SPF checks the HELO name for <> */
	if (n.stages & ((1u << STAGE_CONNECT) | (1u << STAGE_HELO)) ||
	    n.fact[F_HELO] || n.fact[F_TLS] || n.fact[F_SPF] ||
	    n.fact[F_SPF_DOMAIN] || n.fact[F_SPF_REASON])
		p->need |= SESSION_EV_HELO;
	/*
	 * A connect/helo refusal goes out at HELO; from a client that sends
	 * no HELO, at RCPT when RCPT is answered anyway (so MAIL needs no
	 * round trip of its own), else at MAIL.
	 */
	if (n.stages & ((1u << STAGE_CONNECT) | (1u << STAGE_HELO))) {
		p->need |= SESSION_EV_MAIL;
		p->reply |= SESSION_EV_HELO;
		if (n.stages & (1u << STAGE_RCPT))
			p->need |= SESSION_EV_RCPT;
		else
			p->reply |= SESSION_EV_MAIL;
	}
	/* connect/helo header actions are added at each message's end */
	if (n.stages & ~((1u << STAGE_CONNECT) | (1u << STAGE_HELO)) ||
	    msg_limits || n.conn_headers)
		p->need |= SESSION_EV_MAIL | SESSION_EV_EOM;
	if (n.stages & (1u << STAGE_MAIL))
		p->reply |= SESSION_EV_MAIL;
	if (n.stages & ((1u << STAGE_RCPT) | (1u << STAGE_DATA) |
	    (1u << STAGE_EOM)) || rcpt_limits || n.fact[F_RCPT_COUNT])
		p->need |= SESSION_EV_RCPT;
	if (n.stages & (1u << STAGE_RCPT))
		p->reply |= SESSION_EV_RCPT;
	if (n.stages & (1u << STAGE_DATA))
		p->need |= SESSION_EV_DATA, p->reply |= SESSION_EV_DATA;
	if (n.header)
		p->need |= SESSION_EV_HEADER;
	if (p->auth)
		p->need |= SESSION_EV_EOH;
	if (n.body)
		p->need |= SESSION_EV_BODY;
	if (p->need & SESSION_EV_EOM)
		p->reply |= SESSION_EV_EOM;
	/*
	 * Rules of the connect stage alone: once a connection is admitted
	 * there is nothing left to do, and answering accept at connect
	 * spares the MTA every later round trip of the session. Not with a
	 * concurrency limit: Postfix closes the milter connection after an
	 * accept, and the slot must be held until the client leaves.
	 */
	p->connect_only = !(n.stages & ~(1u << STAGE_CONNECT)) && !msg_limits &&
	    !conc_limits && !n.header && !n.body && !n.conn_headers;
	if (p->connect_only)
		p->reply |= SESSION_EV_CONNECT;
}

/* session_new -- a connection's state, holding a reference to its rules */
struct session *
session_new(struct rules *rules, const struct cfg *cfg, struct rl_store *store,
    struct dns *dns)
{
	struct session	*s = xcalloc(1, sizeof(*s));

	rules_ref(rules);
	s->rules = rules;
	s->cfg = cfg;
	s->store = store;
	s->dns = dns;
	session_plan(rules, cfg, &s->plan);
	s->auth = auth_new(dns, (unsigned)cfg->dns_timeout * 1000,
	    cfg->add_auth_results ? cfg->authserv_id : NULL, s->plan.auth,
	    &s->stage);
	verdict_init(&s->deferred);
	return s;
}

/* stage_begin -- a stage starts: its one deadline, stage_timeout from now */
static void
stage_begin(struct session *s)
{
	deadline_start(&s->stage, (unsigned)s->cfg->stage_timeout * 1000);
}

/* session_rules -- the rule set the session uses */
struct rules *
session_rules(const struct session *s)
{
	return s->rules;
}

/*
 * headers_clear -- free those of the n headers of h whose stage (st[i])
 * is drop, or all of them when st is NULL; the rest move to the front.
 * Returns how many remain.
 */
static size_t
headers_clear(struct session_header *h, enum stage *st, size_t n, int drop)
{
	size_t	i, k = 0;

	for (i = 0; i < n; i++) {
		if (st != NULL && (int)st[i] != drop) {
			h[k] = h[i];
			st[k++] = st[i];
			continue;
		}
		free(h[i].name);
		free(h[i].value);
	}
	return k;
}

/* message_reset -- forget the message (new MAIL, end of message, abort) */
static void
message_reset(struct session *s)
{
	size_t	i;

	set_str(&s->queue_id, NULL);
	set_str(&s->sasl_user, NULL);
	/* the message's results, each counted once, as it is forgotten */
	if (s->dry == NULL)
		stats_auth(auth_spf_result(s->auth), auth_dkim_result(s->auth),
		    auth_dmarc_result(s->auth));
	auth_reset(s->auth);
	set_str(&s->sasl_method, NULL);
	set_str(&s->mail_from, NULL);
	set_str(&s->mail_domain, NULL);
	set_str(&s->customer, NULL);
	set_str(&s->rcpt, NULL);
	set_str(&s->rcpt_domain, NULL);
	set_str(&s->authres, NULL);
	for (i = 0; i < s->npending; i++)
		free(s->pending[i]);
	free(s->pending);
	s->pending = NULL;
	s->npending = 0;
	s->nhdr = headers_clear(s->hdr, NULL, s->nhdr, -1);
	/* the connect/helo header actions come first in every message */
	for (i = 0; i < s->nchdr; i++) {
		s->hdr[i].name = xstrdup(s->chdr[i].name);
		s->hdr[i].value = xstrdup(s->chdr[i].value);
	}
	s->nhdr = s->nchdr;
	s->customer_done = 0;
	s->declared_size = s->size = 0;
	s->msg_accepted = 0;
	s->msg_internal = 0;
}

/* session_free -- release everything, including the concurrency slots */
void
session_free(struct session *s)
{
	if (s == NULL)
		return;
	message_reset(s);
	s->nhdr = headers_clear(s->hdr, NULL, s->nhdr, -1);
	s->nchdr = headers_clear(s->chdr, NULL, s->nchdr, -1);
	rl_conn_close(s->store, s->held);
	dnsbl_lookup_free(s->dnsbl);
	auth_free(s->auth);
	buf_free(&s->fbuf);
	buf_free(&s->dnsbl_log);
	verdict_clear(&s->deferred);
	free(s->client_name);
	free(s->daemon_name);
	free(s->helo);
	rules_unref(s->rules);
	free(s);
}

/* event_fill -- the identity of the current event for the rate limiter */
static void
event_fill(struct session *s, struct rl_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->client_ip = s->ip.family ? &s->ip : NULL;
	ev->sasl_user = s->sasl_user;
	ev->sender = s->mail_from;
	ev->sender_domain = s->mail_domain;
	ev->customer = s->mail_from != NULL || s->sasl_user != NULL ?
	    session_customer(s) : NULL;
	ev->rcpt_domain = s->rcpt_domain;
	ev->pending = (const char *const *)s->pending;
	ev->npending = s->npending;
	ev->size = s->size ? s->size : s->declared_size;
	ev->conn_held = s->held != NULL;
	ev->stage = &s->stage;
}

/* limit_get -- rules_env: check a limit for the current event */
static int
limit_get(void *arg, const struct rl_limit *l, struct rl_result *res)
{
	struct session	*s = arg;
	struct rl_event	 ev;

	event_fill(s, &ev);
	/* only a store that failed with store_error = tempfail says -1 */
	return rl_check(s->store, l, &ev, res) == -1 ? RULES_STORE_ERROR : 0;
}

/* session_src -- what verdict.c needs from this session at a stage */
void
session_src(struct session *s, struct verdict_src *src, enum stage st)
{
	memset(src, 0, sizeof(*src));
	src->arg = s;
	src->value = session_value_get;
	src->queue_id = s->queue_id;
	src->client_name = s->client_name ? s->client_name : "unknown";
	src->client_ip = s->ip.family ? s->ipstr : "";
	src->helo = st >= STAGE_HELO ? s->helo : NULL;
	src->mail_from = st >= STAGE_MAIL ? s->mail_from : NULL;
	src->rcpt = st == STAGE_RCPT ? s->rcpt : NULL;
	src->sasl_user = st >= STAGE_MAIL ? s->sasl_user : NULL;
	src->spf = st >= STAGE_MAIL ? auth_spf_result(s->auth) : NULL;
	src->dkim = st == STAGE_EOM ? auth_dkim_result(s->auth) : NULL;
	src->dmarc = st == STAGE_EOM ? auth_dmarc_result(s->auth) : NULL;
	buf_reset(&s->dnsbl_log);
	if (s->dnsbl != NULL)
		dnsbl_lookup_log(s->dnsbl, &s->dnsbl_log);
	src->dnsbl = buf_str(&s->dnsbl_log);
	src->footer = rules_footer(s->rules);
	src->monitor_mode = s->cfg->mode == CFG_MODE_MONITOR;
	src->dry = s->dry;
}

/* matched -- rules_env: a non-terminal or monitor rule matched */
static void
matched(void *arg, const struct rules_match *m)
{
	struct session		*s = arg;
	struct verdict_src	 src;
	struct buf		 text = BUF_INIT;

	s->cur = m;
	session_src(s, &src, m->stage);
	verdict_note(m, &src, &text);
	if (m->action == RA_HEADER && !m->monitor && m->stage <= STAGE_HELO) {
		/* the connection's: added to every message (message_reset) */
		if (s->nchdr < SESSION_MAX_HEADERS) {
			s->chdr[s->nchdr].name = xstrdup(m->header_name);
			s->chdr[s->nchdr].value = xstrdup(buf_str(&text));
			s->chdr_stage[s->nchdr++] = m->stage;
		} else
			log_warn("NOQUEUE: rule %s: more than %d headers, ignored",
			    m->rule, SESSION_MAX_HEADERS);
	} else if (m->action == RA_HEADER && !m->monitor) {
		if (s->nhdr < SESSION_MAX_HEADERS) {
			s->hdr[s->nhdr].name = xstrdup(m->header_name);
			s->hdr[s->nhdr].value = xstrdup(buf_str(&text));
			s->nhdr++;
		} else
			log_warn("%s: rule %s: more than %d headers, ignored",
			    s->queue_id ? s->queue_id : "NOQUEUE", m->rule,
			    SESSION_MAX_HEADERS);
	}
	buf_free(&text);
	s->cur = NULL;
}

/*
 * run_stage -- run a stage's rules and fill the verdict. Returns 1 when a
 * terminal rule took effect (accept, tempfail, reject), else 0.
 */
static int
run_stage(struct session *s, enum stage st, struct verdict *v)
{
	struct rules_env	env;
	struct rules_match	m;
	struct verdict_src	src;
	int			rc;

	verdict_clear(v);
	s->reached = st;
	if (s->conn_accepted || (st >= STAGE_MAIL && s->msg_accepted))
		return 0;
	env.arg = s;
	env.fact = session_fact_get;
	env.limit = limit_get;
	env.matched = matched;
	env.trace = s->trace != NULL ? session_trace_rule : NULL;
	memset(&m, 0, sizeof(m));
	rc = rules_eval(s->rules, st, &env, &m);
	session_src(s, &src, st);
	/* a check ran out of the stage's time: nothing it said is a result */
	if (deadline_was_cut(&s->stage) && rc != RULES_DEFER)
		return verdict_timeout(v, st, &src);
	if (rc == RULES_DEFER) {
		struct buf names = BUF_INIT;

		dnsbl_lookup_failed_names(s->dnsbl, &names);
		rc = verdict_dnsbl(v, st, buf_str(&names), &src);
		buf_free(&names);
		return rc;
	}
	if (rc == RULES_STORE_ERROR)
		return verdict_store(v, st, &src);
	if (rc < 0) {
		s->msg_internal = st >= STAGE_MAIL;
		verdict_internal(v, st,
		    s->cfg->on_internal_error == CFG_ON_ERROR_ACCEPT, &src);
		return v->kind != VERDICT_CONTINUE;
	}
	if (rc == 0)
		return 0;
	s->cur = &m;
	rc = verdict_decide(v, &m, &src);
	s->cur = NULL;
	if (rc && m.action == RA_ACCEPT) {
		if (st <= STAGE_HELO)
			s->conn_accepted = 1;
		else
			s->msg_accepted = 1;
	}
	return rc;
}

/* client_facts -- the client's address, verified name and the MTA's daemon */
static void
client_facts(struct session *s, const char *hostname,
    const struct sockaddr *sa, const char *daemon_name)
{
	if (sa != NULL && ip_from_sockaddr(sa, &s->ip) == 0)
		ip_format(&s->ip, s->ipstr, sizeof(s->ipstr));
	/* Postfix says "[1.2.3.4]" or "unknown" when it verified no name */
	if (hostname != NULL && hostname[0] != '[' && hostname[0] != '\0')
		set_str(&s->client_name, hostname);
	set_str(&s->daemon_name, daemon_name);
}

/*
 * session_overflow -- a client whose MTA connection is beyond
 * max_connections: no rule runs, nothing is counted or looked up; the
 * 421 4.3.2 is kept for HELO/EHLO (or MAIL) like a connect-stage
 * refusal. In monitor mode the connection is accepted unchecked
 * (VERDICT_DONE), after the would_tempfail line.
 */
void
session_overflow(struct session *s, const char *hostname,
    const struct sockaddr *sa, const char *daemon_name, struct verdict *v)
{
	struct verdict_src	src;

	stage_begin(s);
	client_facts(s, hostname, sa, daemon_name);
	session_src(s, &src, STAGE_CONNECT);
	/* milter.c negotiates HELO and MAIL answered for these */
	s->plan.reply |= SESSION_EV_HELO | SESSION_EV_MAIL;
	if (verdict_overload(&s->deferred, &src)) {
		s->conn_refused = 1;
		return;
	}
	v->kind = VERDICT_DONE;
}

/* conn_count -- count an admitted connection and take its concurrency slots */
static void
conn_count(struct session *s)
{
	struct rl_event	ev;
	size_t		nl = rules_nlimits(s->rules);

	event_fill(s, &ev);
	if (rl_commit_connection(s->store, rules_limits(s->rules), nl, &ev) < 0)
		log_warn_limited(&conn_warned, "NOQUEUE: rate counters: cannot "
		    "count the connection of %s (logged at most once a minute)",
		    s->ipstr);
	s->held = rl_conn_open(s->store, rules_limits(s->rules), nl, &ev);
}

/*
 * session_connect -- a new client. Connect-stage rules run now; a refusal
 * is kept and delivered at HELO/EHLO (spec 4.4). An admitted connection
 * is counted and takes its concurrency slots.
 */
void
session_connect(struct session *s, const char *hostname,
    const struct sockaddr *sa, const char *daemon_name, struct verdict *v)
{
	stage_begin(s);
	client_facts(s, hostname, sa, daemon_name);
	/* every list at once, now: a connection costs one DNS round trip */
	if (s->dns != NULL && s->ip.family != 0 && rules_ndnsbls(s->rules) > 0)
		s->dnsbl = dnsbl_lookup_start(s->dns, rules_dnsbls(s->rules),
		    rules_ndnsbls(s->rules), &s->ip,
		    (unsigned)s->cfg->dns_timeout * 1000, &s->stage);
	if (run_stage(s, STAGE_CONNECT, v) && v->kind != VERDICT_CONTINUE) {
		/* keep it for HELO; Postfix would replace its text here */
		s->deferred = *v;
		verdict_init(v);
		s->conn_refused = 1;
		dnsbl_lookup_free(s->dnsbl);
		s->dnsbl = NULL;
		return;
	}
	if (s->conn_accepted) {
		/* trusted: no later rule will ask */
		dnsbl_lookup_free(s->dnsbl);
		s->dnsbl = NULL;
	}
	if (s->dry == NULL)
		conn_count(s);
	if (s->plan.connect_only && v->kind == VERDICT_CONTINUE)
		v->kind = VERDICT_DONE;
}

/* deliver_pending -- hand over a connect-stage refusal (once) */
static int
deliver_pending(struct session *s, struct verdict *v)
{
	if (s->deferred.kind == VERDICT_CONTINUE)
		return 0;
	verdict_clear(v);
	*v = s->deferred;
	verdict_init(&s->deferred);
	return 1;
}

/* session_helo -- HELO/EHLO: deliver a connect-stage refusal, else run helo rules */
void
session_helo(struct session *s, const char *helo, int tls, struct verdict *v)
{
	stage_begin(s);
	set_str(&s->helo, helo);
	s->tls = tls;
	if (deliver_pending(s, v))
		return;
	if (s->conn_refused)
		return;
	/* a new HELO/EHLO (after STARTTLS) replaces the helo-stage headers */
	s->nchdr = headers_clear(s->chdr, s->chdr_stage, s->nchdr, STAGE_HELO);
	(void)run_stage(s, STAGE_HELO, v);
}

/* size_param -- the SIZE= value of MAIL FROM's ESMTP arguments, or 0 */
static uint64_t
size_param(char *const *args)
{
	uint64_t	n;
	size_t		i;

	for (i = 0; args != NULL && args[i] != NULL && i < 32; i++) {
		if (strncasecmp(args[i], "SIZE=", 5) == 0 &&
		    num_parse(args[i] + 5, strlen(args[i] + 5), 0,
		    UINT64_MAX / 2, &n) == 0)
			return n;
	}
	return 0;
}

/* session_mail -- MAIL FROM: a new message */
void
session_mail(struct session *s, const char *from, char *const *args,
    const char *sasl_user, const char *sasl_method, const char *qid,
    struct verdict *v)
{
	stage_begin(s);
	message_reset(s);
	if ((s->plan.reply & SESSION_EV_MAIL) && deliver_pending(s, v))
		return;
	s->mail_from = strip_brackets(from != NULL ? from : "");
	s->mail_domain = domain_of(s->mail_from);
	if (sasl_user != NULL && *sasl_user != '\0')
		set_str(&s->sasl_user, sasl_user);
	if (sasl_method != NULL && *sasl_method != '\0')
		set_str(&s->sasl_method, sasl_method);
	set_str(&s->queue_id, qid);
	s->declared_size = size_param(args);
	if (s->conn_refused)
		return;
	(void)run_stage(s, STAGE_MAIL, v);
}

/* session_rcpt -- RCPT TO: a refusal refuses this recipient only */
void
session_rcpt(struct session *s, const char *rcpt, const char *qid,
    struct verdict *v)
{
	stage_begin(s);
	/* a connect refusal not yet told (no HELO, MAIL not answered) */
	if (deliver_pending(s, v) || s->conn_refused)
		return;
	free(s->rcpt);
	s->rcpt = strip_brackets(rcpt != NULL ? rcpt : "");
	free(s->rcpt_domain);
	s->rcpt_domain = domain_of(s->rcpt);
	if (qid != NULL)
		set_str(&s->queue_id, qid);
	if (run_stage(s, STAGE_RCPT, v) && v->kind != VERDICT_CONTINUE)
		return;
	if (s->npending >= SESSION_MAX_RCPTS)
		return;
	s->pending = xreallocarray(s->pending, s->npending + 1,
	    sizeof(*s->pending));
	s->pending[s->npending++] = xstrdup(s->rcpt_domain ? s->rcpt_domain : "");
}

/* session_data -- DATA */
void
session_data(struct session *s, const char *qid, struct verdict *v)
{
	stage_begin(s);
	if (qid != NULL)
		set_str(&s->queue_id, qid);
	set_str(&s->rcpt, NULL);
	set_str(&s->rcpt_domain, NULL);
	(void)run_stage(s, STAGE_DATA, v);
}

/*
 * session_proto -- what negotiation settled: header values keep their
 * leading space (SMFIP_HDR_LEADSPC)
 */
void
session_proto(struct session *s, int leadspc)
{
	s->leadspc = leadspc;
}

/* session_leadspc_on -- do header values keep their leading space? */
int
session_leadspc_on(const struct session *s)
{
	return s->leadspc;
}

/* session_header -- one header field (From:, A-R forgeries, DKIM) */
void
session_header(struct session *s, const char *name, const char *value)
{
	struct auth_tx	tx;

	session_tx(s, &tx);
	auth_header(s->auth, &tx, name, value);
}

/* session_eoh -- end of headers: DKIM asks for the signatures' keys */
void
session_eoh(struct session *s)
{
	auth_eoh(s->auth);
}

/* session_body -- a body chunk: its size, and DKIM */
void
session_body(struct session *s, const unsigned char *p, size_t len)
{
	auth_body(s->auth, p, len);
	s->size += len;
}

/*
 * eom_authres -- our Authentication-Results value; a check that failed
 * inside gets on_internal_error first (once per message; no rule may have
 * asked for it), and checks the stage's deadline cut short get mxgate's
 * own 451 4.4.3. 1 when either refused the message.
 */
static int
eom_authres(struct session *s, struct verdict *v)
{
	struct auth_tx		tx;
	struct verdict_src	src;

	int			cut = deadline_was_cut(&s->stage);

	session_tx(s, &tx);
	session_src(s, &src, STAGE_EOM);
	if (auth_internal(s->auth, &tx) && !s->msg_internal) {
		s->msg_internal = 1;
		verdict_internal(v, STAGE_EOM,
		    s->cfg->on_internal_error == CFG_ON_ERROR_ACCEPT, &src);
		if (v->kind != VERDICT_CONTINUE)
			return 1;
	}
	s->authres = auth_results(s->auth, &tx);
	/* the header's checks ran out of time: no header that lies */
	session_src(s, &src, STAGE_EOM);
	return !cut && deadline_was_cut(&s->stage) &&
	    verdict_timeout(v, STAGE_EOM, &src);
}

/*
 * session_eom -- end of message: eom rules, then count the message when
 * it was accepted. The headers of header actions stay readable through
 * session_headers() until the next message starts. The stage's deadline
 * runs from now; DKIM keys asked at end of headers are waited for now,
 * and so count against it, as does our Authentication-Results header.
 */
void
session_eom(struct session *s, const char *qid, struct verdict *v)
{
	struct rl_event	ev;

	stage_begin(s);
	if (qid != NULL)
		set_str(&s->queue_id, qid);
	set_str(&s->rcpt, NULL);
	set_str(&s->rcpt_domain, NULL);
	if (run_stage(s, STAGE_EOM, v) && v->kind != VERDICT_CONTINUE)
		return;
	if (s->cfg->add_auth_results && eom_authres(s, v))
		return;
	if (s->dry != NULL)
		return;
	event_fill(s, &ev);
	if (rl_commit_message(s->store, rules_limits(s->rules),
	    rules_nlimits(s->rules), &ev) < 0)
		log_warn_limited(&msg_warned, "%s: rate counters: cannot count "
		    "the message (logged at most once a minute)",
		    s->queue_id ? s->queue_id : "NOQUEUE");
}

/*
 * session_eom_limit -- end of a message whose header went beyond what
 * the milter reads (milter.c's bounds): 552 5.3.4, rule header-limit;
 * in monitor mode only logged, and the message goes on to session_eom()
 */
void
session_eom_limit(struct session *s, const char *qid, struct verdict *v)
{
	struct verdict_src	src;

	if (qid != NULL)
		set_str(&s->queue_id, qid);
	session_src(s, &src, STAGE_EOM);
	(void)verdict_header_limit(v, &src);
}

/* session_headers -- the headers to add at end of message */
size_t
session_headers(const struct session *s, const struct session_header **out)
{
	*out = s->hdr;
	return s->nhdr;
}

/*
 * session_authres -- our Authentication-Results value at end of message
 * (NULL: none to add), and the indices of forged ones to delete first
 * (ascending: delete from the last one back)
 */
const char *
session_authres(const struct session *s, const unsigned **forged, size_t *n)
{
	*n = auth_forged(s->auth, forged);
	return s->authres;
}

/* session_abort -- the message ended without end of message: nothing counted */
void
session_abort(struct session *s)
{
	message_reset(s);
}
