/*
 * milter -- one MTA connection's protocol state machine (see milter.h).
 *
 * States: NEG (waiting for OPTNEG), READY (negotiated, waiting for
 * CONNECT), CONN (a client is connected). QUIT_NC takes a CONN back to
 * READY: the MTA reuses the milter connection for its next SMTP client
 * without a new negotiation, so the next session keeps the negotiated
 * options and the very rule set they were negotiated for. A command out
 * of place (anything before OPTNEG, CONNECT twice, HELO before CONNECT)
 * breaks the protocol: it is logged and the connection is closed, and
 * the MTA applies its milter_default_action (Sendmail's F=).
 *
 * Negotiation switches off every event the loaded rules do not need and
 * asks for no reply where mxgate never answers (SMFIP_NO*, SMFIP_NR_*):
 * connect, HELO, MAIL, RCPT and DATA when no rule there may refuse, every
 * header, the end of headers and every body chunk (nothing in the body
 * can change the decision, which is taken at end of message). It asks
 * only for the macros the session reads (the symbol lists), so admins
 * need no milter_*_macros settings. Each connection keeps the bits the
 * MTA accepted, and a stage negotiated as no-reply never gets one.
 *
 * One call of mconn_input() parses every command in the bytes read and
 * appends all replies and header changes to `out`, which the engine
 * writes in one go: a round trip costs one read and one write.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

/* the protocol's SMFIF_* action bits; no libmilter code is used */
#include <libmilter/mfapi.h>

#include "log.h"
#include "milter.h"
#include "mproto.h"
#include "session.h"
#include "stats.h"
#include "xalloc.h"

/* the SMFIP_NR_* bits mxgate may ask for */
#define NR_BITS	(SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL | \
		 SMFIP_NR_RCPT | SMFIP_NR_DATA | SMFIP_NR_HDR | \
		 SMFIP_NR_EOH | SMFIP_NR_BODY)

enum mstate {
	M_NEG,
	M_READY,
	M_CONN
};

/* macro slots, in the order the stages come */
enum mslot {
	S_CONNECT, S_HELO, S_MAIL, S_RCPT, S_DATA, S_EOH, S_EOM, S_NSLOTS
};

/* the macros the session reads; the symbol lists ask for these only */
static const char *const wanted[] = {
	"daemon_name", "tls_version", "auth_authen", "auth_type", "i", NULL
};
static const char *const symlists[MPROTO_M_NSTAGES] = {
	[MPROTO_M_CONNECT] = "{daemon_name}",
	[MPROTO_M_HELO] = "{tls_version}",
	[MPROTO_M_ENVFROM] = "i {auth_type} {auth_authen}",
	[MPROTO_M_ENVRCPT] = "i",
	[MPROTO_M_DATA] = "i",
	[MPROTO_M_EOM] = "i",
};

struct mconn {
	struct mproto_reader	 rd;
	enum mstate		 state;
	int			 overflow;	/* beyond max_connections */
	struct session		*s;		/* from OPTNEG to close */
	uint32_t		 actions;	/* SMFIF_* the MTA granted */
	uint32_t		 nr;		/* SMFIP_NR_* the MTA accepted */
	int			 in_msg;	/* between MAIL and EOM/ABORT */
	size_t			 nhdr, hdrbytes;
	int			 hdr_over;	/* the header went beyond the bounds */
	struct buf		 mac[S_NSLOTS];	/* "name\0value\0" pairs */
};

static pthread_mutex_t	 rules_lock = PTHREAD_MUTEX_INITIALIZER;
static struct rules	*cur_rules;
static const struct cfg	*cur_cfg;
static struct rl_store	*cur_store;
static struct dns	*cur_dns;
static unsigned		 sessions;
static int		 warned_hdrs;	/* the MTA refused header changes (logged once) */

/* milter_rules -- a new reference to the rule set in force (rules_unref it) */
struct rules *
milter_rules(void)
{
	struct rules	*r;

	pthread_mutex_lock(&rules_lock);
	r = cur_rules;
	rules_ref(r);
	pthread_mutex_unlock(&rules_lock);
	return r;
}

/* milter_set_rules -- make r the rule set for new connections (takes a reference) */
void
milter_set_rules(struct rules *r)
{
	struct rules	*old;

	if (r != NULL)
		rules_ref(r);
	pthread_mutex_lock(&rules_lock);
	old = cur_rules;
	cur_rules = r;
	pthread_mutex_unlock(&rules_lock);
	if (old != NULL)
		rules_unref(old);
}

/* milter_init -- the configuration, and the rule set when r is not NULL */
void
milter_init(const struct cfg *cfg, struct rules *r)
{
	cur_cfg = cfg;
	if (r != NULL)
		milter_set_rules(r);
}

/* milter_set_dns -- the DNS engine of new sessions (before the engine starts) */
void
milter_set_dns(struct dns *dns)
{
	cur_dns = dns;
}

/* milter_set_store -- the rate counters of new sessions (before the engine starts) */
void
milter_set_store(struct rl_store *store)
{
	cur_store = store;
}

/* milter_cfg -- the configuration */
const struct cfg *
milter_cfg(void)
{
	return cur_cfg;
}

/* milter_store -- the rate counters */
struct rl_store *
milter_store(void)
{
	return cur_store;
}

/* milter_dns -- the DNS engine */
struct dns *
milter_dns(void)
{
	return cur_dns;
}

/* milter_sessions -- sessions open now */
unsigned
milter_sessions(void)
{
	return __atomic_load_n(&sessions, __ATOMIC_RELAXED);
}

/* mconn_new -- a new MTA connection, waiting for OPTNEG */
struct mconn *
mconn_new(int overflow)
{
	struct mconn	*c = xcalloc(1, sizeof(*c));
	size_t		 i;

	mproto_reader_init(&c->rd);
	c->overflow = overflow;
	for (i = 0; i < S_NSLOTS; i++)
		buf_init(&c->mac[i]);
	return c;
}

/* session_start -- the session of this connection, with the rule set r */
static void
session_start(struct mconn *c, struct rules *r)
{
	c->s = session_new(r, cur_cfg, cur_store, cur_dns);
	__atomic_add_fetch(&sessions, 1, __ATOMIC_RELAXED);
}

/* session_end -- free the session (its counters' slots go back) */
static void
session_end(struct mconn *c)
{
	if (c->s == NULL)
		return;
	session_free(c->s);
	c->s = NULL;
	__atomic_sub_fetch(&sessions, 1, __ATOMIC_RELAXED);
}

/* mconn_free -- the connection is closed */
void
mconn_free(struct mconn *c)
{
	size_t	i;

	if (c == NULL)
		return;
	session_end(c);
	mproto_reader_free(&c->rd);
	for (i = 0; i < S_NSLOTS; i++)
		buf_free(&c->mac[i]);
	free(c);
}

/* slot_of -- the macro slot of the command a MACRO packet is for, or -1 */
static int
slot_of(int cmd)
{
	switch (cmd) {
	case SMFIC_CONNECT:	return S_CONNECT;
	case SMFIC_HELO:	return S_HELO;
	case SMFIC_MAIL:	return S_MAIL;
	case SMFIC_RCPT:	return S_RCPT;
	case SMFIC_DATA:	return S_DATA;
	case SMFIC_EOH:		return S_EOH;
	case SMFIC_BODYEOB:	return S_EOM;
	default:		return -1;
	}
}

/* bare -- a macro name without its braces: "{i}" and "i" are the same */
static void
bare(const char *name, const char **p, size_t *len)
{
	size_t	n = strlen(name);

	if (n >= 2 && name[0] == '{' && name[n - 1] == '}') {
		*p = name + 1;
		*len = n - 2;
	} else {
		*p = name;
		*len = n;
	}
}

/* is_wanted -- one of the macros the session reads */
static int
is_wanted(const char *name)
{
	const char	*p;
	size_t		 len, i;

	bare(name, &p, &len);
	for (i = 0; wanted[i] != NULL; i++)
		if (strlen(wanted[i]) == len && memcmp(wanted[i], p, len) == 0)
			return 1;
	return 0;
}

/*
 * keep_macros -- a MACRO packet replaces its stage's macros: only those
 * the session reads, each at most MCONN_MAX_MACRO bytes (a longer value
 * is dropped, as if not sent), stored under their bare names
 */
static void
keep_macros(struct mconn *c, const struct mproto_macros *m)
{
	int		 slot = slot_of(m->for_cmd);
	struct buf	*b;
	const char	*p;
	size_t		 i, len;

	if (slot < 0)
		return;
	b = &c->mac[slot];
	buf_reset(b);
	for (i = 0; i < m->n; i++) {
		if (!is_wanted(m->name[i]) ||
		    strlen(m->value[i]) > MCONN_MAX_MACRO)
			continue;
		bare(m->name[i], &p, &len);
		buf_append(b, p, len);
		buf_putc(b, '\0');
		buf_append(b, m->value[i], strlen(m->value[i]) + 1);
	}
}

/* clear_macros -- forget the macros of slot `from` and every later one */
static void
clear_macros(struct mconn *c, int from)
{
	int	i;

	for (i = from; i < S_NSLOTS; i++)
		buf_reset(&c->mac[i]);
}

/*
 * sym -- a macro's value as the MTA last sent it for this stage or an
 * earlier one (the latest stage first), or NULL
 */
static const char *
sym(const struct mconn *c, int slot, const char *name)
{
	const char	*p, *end;
	int		 i;

	for (i = slot; i >= 0; i--) {
		if (c->mac[i].len == 0)
			continue;
		p = c->mac[i].data;
		end = p + c->mac[i].len;
		while (p < end) {
			const char *v = p + strlen(p) + 1;

			if (strcmp(p, name) == 0)
				return v;
			p = v + strlen(v) + 1;
		}
	}
	return NULL;
}

/*
 * want_protocol -- the protocol bits mxgate asks for, given the rules'
 * plan (the caller keeps those the MTA offers). Headers, end of headers
 * and body chunks never get a reply; header values keep their leading
 * space, which DKIM's simple canonicalization needs.
 */
static uint32_t
want_protocol(const struct session_plan *p)
{
	uint32_t	w = SMFIP_NOUNKNOWN | SMFIP_NR_HDR | SMFIP_NR_EOH |
			    SMFIP_NR_BODY;
	static const struct {
		unsigned	ev;
		uint32_t	no, nr;
	} map[] = {
		{ SESSION_EV_HELO,   SMFIP_NOHELO, SMFIP_NR_HELO },
		{ SESSION_EV_MAIL,   SMFIP_NOMAIL, SMFIP_NR_MAIL },
		{ SESSION_EV_RCPT,   SMFIP_NORCPT, SMFIP_NR_RCPT },
		{ SESSION_EV_DATA,   SMFIP_NODATA, SMFIP_NR_DATA },
		{ SESSION_EV_HEADER, SMFIP_NOHDRS, 0 },
		{ SESSION_EV_BODY,   SMFIP_NOBODY, 0 },
		{ SESSION_EV_EOH,    SMFIP_NOEOH, 0 },
	};
	size_t		i;

	if (!(p->reply & SESSION_EV_CONNECT))
		w |= SMFIP_NR_CONN;
	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (!(p->need & map[i].ev))
			w |= map[i].no;
		else if (!(p->reply & map[i].ev))
			w |= map[i].nr;
	}
	if (p->need & SESSION_EV_HEADER)
		w |= SMFIP_HDR_LEADSPC;
	return w;
}

/*
 * overflow_protocol -- a connection beyond max_connections: CONNECT,
 * HELO and MAIL only, HELO and MAIL answered (where its 421 goes out);
 * CONNECT answered only in monitor mode (accept: unchecked)
 */
static uint32_t
overflow_protocol(void)
{
	uint32_t	w = SMFIP_NOUNKNOWN | SMFIP_NORCPT | SMFIP_NODATA |
			    SMFIP_NOHDRS | SMFIP_NOEOH | SMFIP_NOBODY;

	if (cur_cfg->mode != CFG_MODE_MONITOR)
		w |= SMFIP_NR_CONN;
	return w;
}

/*
 * do_optneg -- the MTA's offer: take the events, replies and macros the
 * rules need. The session starts here, so that it uses the very rule
 * set whose needs were negotiated, even when a reload comes in between.
 */
static int
do_optneg(struct mconn *c, const struct mproto_optneg *o, struct buf *out)
{
	struct session_plan	 p;
	struct mproto_optneg	 r;
	struct rules		*rules;
	struct buf		 err = BUF_INIT;
	int			 rc;

	if (o->version < 2) {
		log_warn("milter: the MTA speaks protocol version %u; mxgate "
		    "needs 2 or later (6 preferred)", o->version);
		return -1;
	}
	rules = milter_rules();
	session_start(c, rules);
	rules_unref(rules);
	session_plan(session_rules(c->s), cur_cfg, &p);
	memset(&r, 0, sizeof(r));
	r.version = o->version < SMFI_PROT_VERSION ? o->version :
	    SMFI_PROT_VERSION;
	if (c->overflow) {
		r.actions = 0;
		r.protocol = o->protocol & overflow_protocol();
	} else {
		r.actions = o->actions & (SMFIF_ADDHDRS | SMFIF_CHGHDRS |
		    SMFIF_SETSYMLIST);
		r.protocol = o->protocol & want_protocol(&p);
		if (p.auth && cur_cfg->add_auth_results &&
		    (o->actions & (SMFIF_ADDHDRS | SMFIF_CHGHDRS)) !=
		    (SMFIF_ADDHDRS | SMFIF_CHGHDRS) &&
		    !__atomic_exchange_n(&warned_hdrs, 1, __ATOMIC_RELAXED))
			log_warn("the MTA does not let milters add and change "
			    "headers: no Authentication-Results (logged once)");
	}
	c->actions = r.actions;
	c->nr = r.protocol & NR_BITS;
	session_proto(c->s, (r.protocol & SMFIP_HDR_LEADSPC) != 0);
	rc = mproto_put_optneg(out, &r,
	    (r.actions & SMFIF_SETSYMLIST) ? symlists : NULL, &err);
	if (rc == -1)
		log_panic("milter: OPTNEG reply: %s", buf_str(&err));
	buf_free(&err);
	c->state = M_READY;
	return 0;
}

/* put_simple -- a reply without data, unless the stage is no-reply */
static void
put_simple(struct buf *out, int code)
{
	struct buf	err = BUF_INIT;

	if (mproto_put_reply(out, code, &err) == -1)
		log_panic("milter: reply %c: %s", code, buf_str(&err));
	buf_free(&err);
}

/*
 * reply -- a verdict on the wire: the one switch over verdict kinds.
 * nr is the stage's SMFIP_NR_* bit: when the MTA accepted it, going on
 * is no reply at all, and a refusal cannot be sent (the plan never lets
 * a rule refuse at such a stage; logged if it ever happens).
 */
static void
reply(struct mconn *c, struct verdict *v, uint32_t nr, struct buf *out)
{
	const struct reply *r = &v->reply;
	struct buf	 err = BUF_INIT;
	const char	*lines[REPLY_MAX_LINES];
	unsigned	 i;

	if ((c->nr & nr) != 0) {
		if (v->kind != VERDICT_CONTINUE)
			log_warn("ref %s: a decision at a stage negotiated "
			    "without reply was not sent", v->ref);
		verdict_clear(v);
		return;
	}
	switch (v->kind) {
	case VERDICT_CONTINUE:
		put_simple(out, SMFIR_CONTINUE);
		break;
	case VERDICT_TEMPFAIL:
	case VERDICT_REJECT:
		for (i = 0; i < r->nlines && i < REPLY_MAX_LINES; i++)
			lines[i] = r->line[i];
		if (mproto_put_replycode(out, r->code, r->ecode, lines,
		    r->nlines, &err) == -1) {
			/* never expected: reply.c builds valid lines */
			log_warn("ref %s: reply not sendable (%s); sending a "
			    "bare %s", v->ref, buf_str(&err),
			    v->kind == VERDICT_REJECT ? "reject" : "tempfail");
			put_simple(out, v->kind == VERDICT_REJECT ?
			    SMFIR_REJECT : SMFIR_TEMPFAIL);
		}
		break;
	case VERDICT_DONE:
		put_simple(out, SMFIR_ACCEPT);
		break;
	}
	buf_free(&err);
	verdict_clear(v);
}

/*
 * put_header -- add a header field: at index idx (INSHEADER), or at the
 * end when idx < 0; the value with a leading space when values keep
 * theirs (SMFIP_HDR_LEADSPC: the MTA then adds none)
 */
static void
put_header(struct mconn *c, int idx, const char *name, const char *value,
    struct buf *out)
{
	struct buf	v = BUF_INIT, err = BUF_INIT;
	int		rc;

	if (session_leadspc_on(c->s))
		buf_putc(&v, ' ');
	buf_puts(&v, value);
	rc = idx < 0 ? mproto_put_addheader(out, name, buf_str(&v), &err) :
	    mproto_put_insheader(out, (uint32_t)idx, name, buf_str(&v), &err);
	if (rc == -1)
		log_warn("cannot add header %s: %s", name, buf_str(&err));
	buf_free(&v);
	buf_free(&err);
}

/*
 * eom_headers -- at end of an accepted message: delete every
 * Authentication-Results field that claims our authserv-id (from the
 * last one back, so that no deletion shifts an index still to come), put
 * ours at the top, then the header actions' fields at the end
 */
static void
eom_headers(struct mconn *c, struct buf *out)
{
	const struct session_header *h;
	const unsigned	*forged;
	struct buf	 err = BUF_INIT;
	const char	*ar;
	size_t		 i, n;

	if ((c->actions & SMFIF_ADDHDRS) == 0)
		return;
	ar = session_authres(c->s, &forged, &n);
	if (ar != NULL) {
		while (n-- > 0 && (c->actions & SMFIF_CHGHDRS) != 0)
			if (mproto_put_chgheader(out, forged[n],
			    "Authentication-Results", "", &err) == -1)
				log_warn("cannot delete a forged "
				    "Authentication-Results header: %s",
				    buf_str(&err));
		put_header(c, 0, "Authentication-Results", ar, out);
	}
	n = session_headers(c->s, &h);
	for (i = 0; i < n; i++)
		put_header(c, -1, h[i].name, h[i].value, out);
	buf_free(&err);
}

/* do_connect -- a new client: connect-stage rules (or the overflow 421) */
static void
do_connect(struct mconn *c, const struct mproto_connect *m, struct buf *out)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	const struct sockaddr	*sa = NULL;
	const char		*a = m->addr;
	struct verdict		 v;

	memset(&ss, 0, sizeof(ss));
	if (m->family == SMFIA_INET &&
	    inet_pton(AF_INET, a, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(m->port);
		sa = (struct sockaddr *)sin;
	} else if (m->family == SMFIA_INET6) {
		if (strncasecmp(a, "IPv6:", 5) == 0)
			a += 5;
		if (inet_pton(AF_INET6, a, &sin6->sin6_addr) == 1) {
			sin6->sin6_family = AF_INET6;
			sin6->sin6_port = htons(m->port);
			sa = (struct sockaddr *)sin6;
		}
	}
	verdict_init(&v);
	if (c->overflow)
		session_overflow(c->s, m->host, sa,
		    sym(c, S_CONNECT, "daemon_name"), &v);
	else
		session_connect(c->s, m->host, sa,
		    sym(c, S_CONNECT, "daemon_name"), &v);
	c->state = M_CONN;
	reply(c, &v, SMFIP_NR_CONN, out);
}

/* end_message -- the message is over (EOM, ABORT): forget it */
static void
end_message(struct mconn *c)
{
	session_abort(c->s);
	c->in_msg = 0;
	c->nhdr = c->hdrbytes = 0;
	c->hdr_over = 0;
}

/* do_header -- one header field, within the per-message bounds */
static void
do_header(struct mconn *c, const struct mproto_header *h)
{
	size_t	len = strlen(h->name) + strlen(h->value) + 2;

	if (c->hdr_over)
		return;
	if (c->nhdr >= MCONN_MAX_HEADERS ||
	    len > MCONN_MAX_HEADER_BYTES - c->hdrbytes) {
		c->hdr_over = 1;
		return;
	}
	c->nhdr++;
	c->hdrbytes += len;
	session_header(c->s, h->name, h->value);
}

/* do_eom -- end of message: eom rules, headers, the final reply */
static void
do_eom(struct mconn *c, const struct mproto_body *last, struct buf *out)
{
	struct verdict	v;
	const char	*qid = sym(c, S_EOM, "i");

	if (last->len > 0)
		session_body(c->s, last->data, last->len);
	verdict_init(&v);
	if (c->hdr_over)
		session_eom_limit(c->s, qid, &v);
	if (v.kind == VERDICT_CONTINUE) {
		session_eom(c->s, qid, &v);
		if (v.kind == VERDICT_CONTINUE)
			eom_headers(c, out);
	}
	end_message(c);
	reply(c, &v, 0, out);
}

/* in_state -- the command is allowed now; else logged (protocol error) */
static int
in_state(const struct mconn *c, int cmd, enum mstate want)
{
	if (c->state == want)
		return 1;
	log_warn("milter: protocol error: command '%c' in state %s; closing "
	    "the MTA connection", cmd, c->state == M_NEG ? "before "
	    "negotiation" : c->state == M_READY ? "before CONNECT" :
	    "after CONNECT");
	return 0;
}

/* command -- one decoded command; -1 closes the connection */
static int
command(struct mconn *c, const struct mproto_msg *m, struct buf *out)
{
	struct verdict	v;
	uint64_t	t0 = stats_clock();	/* stage latency (stats.h) */

	verdict_init(&v);
	/* before negotiation: only OPTNEG (and QUIT) */
	if (c->state == M_NEG && m->cmd != SMFIC_OPTNEG &&
	    m->cmd != SMFIC_QUIT) {
		(void)in_state(c, m->cmd, M_READY);
		return -1;
	}
	switch (m->cmd) {
	case SMFIC_OPTNEG:
		if (!in_state(c, m->cmd, M_NEG))
			return -1;
		return do_optneg(c, &m->u.optneg, out);
	case SMFIC_MACRO:
		keep_macros(c, &m->u.macros);
		return 0;
	case SMFIC_CONNECT:
		if (!in_state(c, m->cmd, M_READY))
			return -1;
		do_connect(c, &m->u.conn, out);
		stats_latency(STAGE_CONNECT, t0);
		return 0;
	case SMFIC_QUIT:
		return -1;
	case SMFIC_QUIT_NC: {
		struct rules *r = session_rules(c->s);

		/* the next client: same negotiation, same rule set */
		rules_ref(r);
		session_end(c);
		session_start(c, r);
		rules_unref(r);
		clear_macros(c, S_CONNECT);
		c->in_msg = 0;
		c->nhdr = c->hdrbytes = 0;
		c->hdr_over = 0;
		c->state = M_READY;
		return 0;
	}
	case SMFIC_ABORT:
		if (c->state == M_CONN)
			end_message(c);
		clear_macros(c, S_MAIL);
		return 0;
	case SMFIC_UNKNOWN:
		put_simple(out, SMFIR_CONTINUE);
		return 0;
	default:
		break;
	}
	if (!in_state(c, m->cmd, M_CONN))
		return -1;
	switch (m->cmd) {
	case SMFIC_HELO:
		session_helo(c->s, m->u.helo,
		    sym(c, S_HELO, "tls_version") != NULL, &v);
		reply(c, &v, SMFIP_NR_HELO, out);
		stats_latency(STAGE_HELO, t0);
		break;
	case SMFIC_MAIL:
		if (c->in_msg)
			end_message(c);
		c->in_msg = 1;
		session_mail(c->s, m->u.args.argv[0],
		    (char *const *)m->u.args.argv + 1,
		    sym(c, S_MAIL, "auth_authen"), sym(c, S_MAIL, "auth_type"),
		    sym(c, S_MAIL, "i"), &v);
		reply(c, &v, SMFIP_NR_MAIL, out);
		stats_latency(STAGE_MAIL, t0);
		break;
	case SMFIC_RCPT:
		session_rcpt(c->s, m->u.args.argv[0], sym(c, S_RCPT, "i"), &v);
		reply(c, &v, SMFIP_NR_RCPT, out);
		stats_latency(STAGE_RCPT, t0);
		break;
	case SMFIC_DATA:
		session_data(c->s, sym(c, S_DATA, "i"), &v);
		reply(c, &v, SMFIP_NR_DATA, out);
		stats_latency(STAGE_DATA, t0);
		break;
	case SMFIC_HEADER:
		do_header(c, &m->u.header);
		if ((c->nr & SMFIP_NR_HDR) == 0)
			put_simple(out, SMFIR_CONTINUE);
		break;
	case SMFIC_EOH:
		session_eoh(c->s);
		if ((c->nr & SMFIP_NR_EOH) == 0)
			put_simple(out, SMFIR_CONTINUE);
		break;
	case SMFIC_BODY:
		session_body(c->s, m->u.body.data, m->u.body.len);
		if ((c->nr & SMFIP_NR_BODY) == 0)
			put_simple(out, SMFIR_CONTINUE);
		break;
	case SMFIC_BODYEOB:
		do_eom(c, &m->u.body, out);
		stats_latency(STAGE_EOM, t0);
		break;
	default:
		log_warn("milter: protocol error: unexpected command '%c'; "
		    "closing the MTA connection", m->cmd);
		return -1;
	}
	return 0;
}

/*
 * mconn_input -- every command in p[0..n), replies appended to out.
 * A framing or decoding error is logged and closes the connection.
 */
enum mconn_rc
mconn_input(struct mconn *c, const unsigned char *p, size_t n,
    struct buf *out)
{
	struct mproto_packet	 pkt;
	struct mproto_msg	 m;
	struct buf		 err = BUF_INIT;
	enum mproto_rc		 rc;
	size_t			 used;
	enum mconn_rc		 ret = MCONN_OPEN;

	while (n > 0) {
		rc = mproto_feed(&c->rd, p, n, &used, &pkt, &err);
		p += used;
		n -= used;
		if (rc == MPROTO_MORE)
			break;
		if (rc == MPROTO_ERROR || mproto_decode(&pkt, &m, &err) == -1) {
			log_warn("milter: protocol error: %s; closing the MTA "
			    "connection", buf_str(&err));
			ret = MCONN_CLOSE;
			break;
		}
		if (command(c, &m, out) == -1) {
			ret = MCONN_CLOSE;
			break;
		}
	}
	buf_free(&err);
	return ret;
}
