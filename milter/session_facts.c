/*
 * session_facts -- what rules and templates see of a session: the facts
 * (rules_env's fact callback) and the template variables, each worked out
 * when first asked (DNS lists waited for, SPF, DKIM and DMARC checked).
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "dnsbl_lookup.h"
#include "session.h"
#include "session_int.h"
#include "table.h"
#include "xalloc.h"

/* session_customer -- the customer field of the first table that knows the login or sender */
const char *
session_customer(struct session *s)
{
	struct table *const *t = rules_tables(s->rules);
	size_t		 i, n = rules_ntables(s->rules);
	struct table_query q;
	char		 val[256];

	if (s->customer_done)
		return s->customer;
	s->customer_done = 1;
	if (s->sasl_user == NULL && (s->mail_from == NULL || *s->mail_from == '\0'))
		return NULL;
	memset(&q, 0, sizeof(q));
	q.login = s->sasl_user;
	q.address = s->mail_from != NULL && *s->mail_from ? s->mail_from : NULL;
	for (i = 0; i < n; i++) {
		if (table_get(t[i], &q, "customer", val, sizeof(val)) == 1 &&
		    val[0] != '\0') {
			s->customer = xstrdup(val);
			break;
		}
	}
	return s->customer;
}

/* str_fact -- fill a text fact */
static void
str_fact(struct fact_value *v, const char *s)
{
	v->s = s != NULL ? s : "";
	v->set = s != NULL && *s != '\0';
}

/* num_fact -- fill a numeric fact (text form in the session's scratch) */
static void
num_fact(struct session *s, struct fact_value *v, int64_t n)
{
	(void)snprintf(s->numbuf, sizeof(s->numbuf), "%" PRId64, n);
	v->n = n;
	v->s = s->numbuf;
	v->set = 1;
}

/* client_net -- the client's network at the prefix of the deciding limit, or /24 and /64 */
static void
client_net(struct session *s, char *out, size_t outlen)
{
	struct ipaddr	 net = s->ip;
	unsigned	 len = s->ip.family == AF_INET ? 24 : 64, i;
	const struct rl_limit *l = s->cur != NULL ? s->cur->limit : NULL;
	char		 a[IP_STRLEN];

	if (s->ip.family == 0) {
		(void)strlcpy(out, "", outlen);
		return;
	}
	for (i = 0; l != NULL && i < l->nkeys; i++) {
		if (l->key[i].nparts >= 1 &&
		    l->key[i].part[0] == RL_PART_CLIENT_IP) {
			len = s->ip.family == AF_INET ? l->key[i].v4len :
			    l->key[i].v6len;
			break;
		}
	}
	ip_mask(&net, len);
	ip_format(&net, a, sizeof(a));
	(void)snprintf(out, outlen, "%s/%u", a, len);
}

/*
 * dnsbl_defer -- does a list of [from, to) with on_error = tempfail fail,
 * so that the stage defers (spec 4.3)? In monitor mode the deferral is
 * only logged, once per connection, and the rules go on.
 */
static int
dnsbl_defer(struct session *s, size_t from, size_t to)
{
	struct verdict_src src;
	struct verdict	 tv;
	struct buf	 names = BUF_INIT;

	if (!dnsbl_lookup_defers(s->dnsbl, from, to))
		return 0;
	if (s->cfg->mode != CFG_MODE_MONITOR)
		return 1;
	if (!s->dnsbl_deferred) {
		s->dnsbl_deferred = 1;
		dnsbl_lookup_failed_names(s->dnsbl, &names);
		session_src(s, &src, s->reached);
		verdict_init(&tv);
		(void)verdict_dnsbl(&tv, s->reached, buf_str(&names), &src);
		verdict_clear(&tv);
		buf_free(&names);
	}
	return 0;
}

/*
 * dnsbl_fact -- dnsbl.score, .names, .error (all lists) and dnsbl.NAME,
 * dnsbl.NAME.label (list idx), waiting for the answers they need. A rule
 * (for_rule) that needs a failed on_error = tempfail list defers.
 */
static int
dnsbl_fact(struct session *s, enum fact f, size_t idx, struct fact_value *v,
    int for_rule)
{
	static const enum dnsbl_value kind[] = {
		[F_DNSBL_SCORE] = DNSBL_V_SCORE, [F_DNSBL_NAMES] = DNSBL_V_NAMES,
		[F_DNSBL_ERROR] = DNSBL_V_ERROR, [F_DNSBL_LIST] = DNSBL_V_LIST,
		[F_DNSBL_LABEL] = DNSBL_V_LABEL,
	};
	size_t		 from = 0, to = rules_ndnsbls(s->rules);
	int64_t		 n = 0;

	if (f == F_DNSBL_LIST || f == F_DNSBL_LABEL)
		from = idx, to = idx + 1;
	if (s->dnsbl == NULL) {
		/* nothing was asked (no client address, or no DNS engine) */
		if (f == F_DNSBL_SCORE)
			num_fact(s, v, 0);
		return 0;
	}
	if (for_rule && f != F_DNSBL_ERROR && dnsbl_defer(s, from, to))
		return RULES_DEFER;
	buf_reset(&s->fbuf);
	if (!dnsbl_lookup_value(s->dnsbl, kind[f], idx, &s->fbuf, &n))
		return 0;
	if (f == F_DNSBL_SCORE || f == F_DNSBL_LIST)
		num_fact(s, v, n);
	else
		str_fact(v, buf_str(&s->fbuf));
	return 0;
}

/* session_tx -- the transaction as the checks of auth.c see it */
void
session_tx(struct session *s, struct auth_tx *tx)
{
	tx->ip = &s->ip;
	tx->helo = s->helo;
	tx->sender = s->mail_from;
	tx->queue_id = s->queue_id;
	tx->leadspc = s->leadspc;
}

/* spf_fact -- spf, spf.domain, spf.reason: checked when first needed */
static void
spf_fact(struct session *s, enum fact f, struct fact_value *v)
{
	const struct spf_outcome *o;
	struct auth_tx		 tx;

	if (s->mail_from == NULL)
		return;
	session_tx(s, &tx);
	o = auth_spf(s->auth, &tx);
	if (f == F_SPF)
		str_fact(v, spf_result_name(o->result));
	else if (f == F_SPF_DOMAIN)
		str_fact(v, o->domain[0] != '\0' ? o->domain : NULL);
	else
		str_fact(v, o->reason[0] != '\0' ? o->reason : NULL);
}

/*
 * msg_auth_fact -- dkim, dkim.domains, dmarc, dmarc.*: at end of message;
 * -1 when the check failed inside (on_internal_error applies)
 */
static int
msg_auth_fact(struct session *s, enum fact f, struct fact_value *v)
{
	const struct dmarc_outcome *m;
	struct auth_tx		 tx;

	if (s->reached != STAGE_EOM)
		return 0;
	session_tx(s, &tx);
	if (auth_internal(s->auth, &tx))
		return -1;
	if (f == F_DKIM) {
		str_fact(v, dkimv_result_name(auth_dkim(s->auth, &tx)->result));
		return 0;
	}
	if (f == F_DKIM_DOMAINS) {
		str_fact(v, auth_dkim_domains(s->auth, &tx));
		return 0;
	}
	m = auth_dmarc(s->auth, &tx);
	if (f == F_DMARC)
		str_fact(v, dmarc_result_name(m->result));
	else if (f == F_DMARC_POLICY)
		str_fact(v, m->result == DMARC_PASS || m->result == DMARC_FAIL ?
		    dmarc_policy_name(m->policy) : NULL);
	else {
		v->n = m->testing;
		v->s = m->testing ? "yes" : "no";
		v->set = m->testing;
	}
	return 0;
}

/* session_fact_get -- rules_env: the value of a fact now */
int
session_fact_get(void *arg, int id, struct fact_value *v)
{
	struct session	*s = arg;
	enum fact	 f = FACT_BASE(id);

	memset(v, 0, sizeof(*v));
	switch (f) {
	case F_DNSBL_SCORE:
	case F_DNSBL_NAMES:
	case F_DNSBL_ERROR:
	case F_DNSBL_LIST:
	case F_DNSBL_LABEL:
		return dnsbl_fact(s, f, FACT_INDEX(id), v, 1);
	case F_CLIENT_IP:
		v->ip = s->ip;
		str_fact(v, s->ip.family ? s->ipstr : NULL);
		return 0;
	case F_CLIENT_NET:
		client_net(s, s->netbuf, sizeof(s->netbuf));
		str_fact(v, s->netbuf);
		return 0;
	case F_CLIENT_NAME:
		str_fact(v, s->client_name ? s->client_name : "unknown");
		return 0;
	case F_DAEMON_NAME:
		str_fact(v, s->daemon_name);
		return 0;
	case F_HELO:
		str_fact(v, s->helo);
		return 0;
	case F_TLS:
		v->n = s->tls;
		v->s = s->tls ? "yes" : "no";
		v->set = s->tls;
		return 0;
	case F_SASL_USER:
		str_fact(v, s->sasl_user);
		return 0;
	case F_SASL_METHOD:
		str_fact(v, s->sasl_method);
		return 0;
	case F_MAIL_FROM:
		str_fact(v, s->mail_from);
		return 0;
	case F_MAIL_DOMAIN:
		str_fact(v, s->mail_domain);
		return 0;
	case F_SPF:
	case F_SPF_DOMAIN:
	case F_SPF_REASON:
		spf_fact(s, f, v);
		return 0;
	case F_CUSTOMER:
		str_fact(v, session_customer(s));
		return 0;
	case F_RCPT:
		str_fact(v, s->rcpt);
		return 0;
	case F_RCPT_DOMAIN:
		str_fact(v, s->rcpt_domain);
		return 0;
	case F_RCPT_COUNT:
		num_fact(s, v, (int64_t)s->npending);
		return 0;
	case F_FROM_DOMAIN:
		str_fact(v, auth_from_domain(s->auth));
		return 0;
	case F_DKIM:
	case F_DKIM_DOMAINS:
	case F_DMARC:
	case F_DMARC_POLICY:
	case F_DMARC_TESTING:
		return msg_auth_fact(s, f, v);
	case F_SIZE:
		num_fact(s, v, (int64_t)s->size);
		return 0;
	default:
		return 0;	/* facts of checks this build lacks: never set */
	}
}

/* session_value_get -- template variables the session knows (verdict.c does ref, rule, limit.*) */
void
session_value_get(void *arg, int id, struct buf *out)
{
	struct session		*s = arg;
	struct fact_value	 v;
	enum fact		 f = FACT_BASE(id);

	memset(&v, 0, sizeof(v));
	switch (f) {
	case V_HOSTNAME:
		buf_puts(out, s->cfg->hostname);
		return;
	case V_QUEUE_ID:
		buf_puts(out, s->queue_id ? s->queue_id : "");
		return;
	case V_DNSBL_TXT:
		if (s->dnsbl != NULL)
			dnsbl_lookup_txt_all(s->dnsbl, out);
		return;
	case V_DNSBL_LIST_TXT:
		if (s->dnsbl != NULL)
			dnsbl_lookup_txt(s->dnsbl, FACT_INDEX(id), out);
		return;
	case F_DNSBL_SCORE:
	case F_DNSBL_NAMES:
	case F_DNSBL_ERROR:
	case F_DNSBL_LIST:
	case F_DNSBL_LABEL:
		/* a text shows what is known; only rules defer */
		if (dnsbl_fact(s, f, FACT_INDEX(id), &v, 0) == 0 && v.s != NULL)
			buf_puts(out, v.s);
		return;
	default:
		if (session_fact_get(s, id, &v) == 0 && v.s != NULL)
			buf_puts(out, v.s);
	}
}
