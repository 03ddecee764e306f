/*
 * dkimv -- DKIM verification through libopendkim (see dkimv.h).
 *
 * The library checks signatures one after the other and asks for each
 * key through the hooks below (start, waitreply, cancel). To have the
 * questions answered in parallel, the prescreen callback (called inside
 * dkim_eoh with the signature list) submits all of them at once; the
 * start hook then adopts the submitted question of the same name. The
 * hooks learn which message they work for from a thread-local pointer,
 * set around the library calls that may ask (dkim_eoh, dkim_eom).
 *
 * Signature processing is delayed to end of message
 * (DKIM_LIBFLAGS_DELAYSIGPROC), so the answers arrive while the body is
 * still coming in.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <opendkim/dkim.h>

#include "dkimkey.h"
#include "dkimlen.h"
#include "dkimv.h"
#include "log.h"
#include "xalloc.h"

#define HDR_MAX		(128 * 1024)	/* a header field fed to the library */

#define KEYNAME_MAX	(DKIMV_SELECTOR_MAX + DKIMV_DOMAIN_MAX + 16)

struct prefetch {
	char		 name[KEYNAME_MAX];
	struct dns_query *q;		/* NULL once adopted */
};

/* a signature refused before the library checked it, and why */
struct refused {
	const DKIM_SIGINFO *sig;	/* rsa-sha1: ignored at end of headers */
	char		 key[KEYNAME_MAX];	/* or a key refused when it came in */
	char		 why[DKIMV_REASON_MAX];
};

struct dkimv {
	DKIM			*dkim;		/* NULL: nothing to check (error) */
	char			 id[32];	/* the queue id, for the log */
	int			 eoh_done, eom_done;
	int			 sigs_seen;	/* DKIM-Signature fields fed */
	int			 unusable;	/* the library gave up at eoh */
	char			 why[DKIMV_REASON_MAX];
	struct prefetch		 pre[DKIMV_MAX_SIGS];
	size_t			 npre;
	struct refused		 ref[DKIMV_MAX_SIGS];
	size_t			 nref;
	int			 has_l;		/* a signature with l=: count the body */
	struct dkimlen		 blen;
	int			 wait_set;
	struct timespec		 wait_end;	/* every key answer by then */
	struct deadline		*stage;		/* the session's (NULL: none) */
	struct buf		 hb;
	struct dkimv_outcome	 out;
};

/* one question in the library's hands */
struct hq {
	struct dns_query	*q;
	struct dkimv		*m;		/* NULL outside a message */
	char			 name[KEYNAME_MAX];
	unsigned char		*buf;
	size_t			 buflen;
};

static DKIM_LIB		*lib;
static struct dns	*engine;
static unsigned		 query_ms = 5000;
static unsigned		 max_sigs = 8;
static __thread struct dkimv *cur;

/* internal -- the library (or mxgate) failed on this message: say so once */
static void
internal(struct dkimv *m, const char *what, DKIM_STAT st)
{
	if (m->out.internal)
		return;
	m->out.internal = 1;
	(void)snprintf(m->out.internal_why, sizeof(m->out.internal_why),
	    "%s: %s", what, st == DKIM_STAT_OK ? "no library" :
	    dkim_getresultstr(st));
	log_warn("%s: DKIM: internal error: %s", m->id, m->out.internal_why);
}

/* failed -- is st the library failing, not the message (internal)? */
static int
failed(DKIM_STAT st)
{
	return st == DKIM_STAT_NORESOURCE || st == DKIM_STAT_INTERNAL ||
	    st == DKIM_STAT_CBERROR || st == DKIM_STAT_CBINVALID ||
	    st == DKIM_STAT_INVALID;
}

/* dkimv_result_name -- the RFC 8601 result word */
const char *
dkimv_result_name(enum dkimv_result r)
{
	switch (r) {
	case DKIMV_PASS:	return "pass";
	case DKIMV_FAIL:	return "fail";
	case DKIMV_POLICY:	return "policy";
	case DKIMV_TEMPERROR:	return "temperror";
	case DKIMV_PERMERROR:	return "permerror";
	case DKIMV_NONE:	break;
	}
	return "none";
}

/* ---- DNS hooks -------------------------------------------------------- */

/* hook_start -- a key question: the prefetched one of that name, or a new one */
static int
hook_start(void *svc, int type, unsigned char *qname, unsigned char *buf,
    size_t buflen, void **qh)
{
	struct hq	*h;
	size_t		 i;

	(void)svc;
	h = xcalloc(1, sizeof(*h));
	h->m = cur;
	h->buf = buf;
	h->buflen = buflen;
	(void)strlcpy(h->name, (const char *)qname, sizeof(h->name));
	if (cur != NULL)
		for (i = 0; i < cur->npre && h->q == NULL; i++)
			if (cur->pre[i].q != NULL &&
			    strcasecmp(cur->pre[i].name, (char *)qname) == 0) {
				h->q = cur->pre[i].q;
				cur->pre[i].q = NULL;
			}
	if (h->q == NULL)
		h->q = dns_submit(engine, (const char *)qname, (uint16_t)type);
	*qh = h;
	return 0;
}

/* refuse -- note a refused signature (sig) or key (key), with why */
static void
refuse(struct dkimv *m, const DKIM_SIGINFO *sig, const char *key,
    const char *why)
{
	struct refused	*r;

	if (m == NULL || m->nref == DKIMV_MAX_SIGS)
		return;
	r = &m->ref[m->nref++];
	r->sig = sig;
	(void)strlcpy(r->key, key != NULL ? key : "", sizeof(r->key));
	(void)strlcpy(r->why, why, sizeof(r->why));
}

/*
 * hook_waitreply -- the answer packet into the library's buffer. All key
 * questions of a message share one deadline (dns_timeout from the first
 * wait): they were asked in parallel. No wait runs past the stage's
 * deadline (end of message, see dkimv_stage). Anything but NOERROR or NXDOMAIN,
 * a timeout, or a packet that does not fit is DKIM_DNS_ERROR, which the
 * library reports as a temporary key failure.
 */
static int
hook_waitreply(void *svc, void *qh, struct timeval *to, size_t *bytes,
    int *error, int *dnssec)
{
	struct hq		*h = qh;
	struct timespec		 dl;
	const uint8_t		*pkt;
	size_t			 len;
	unsigned		 ms = query_ms;
	int			 rcode;
	char			 why[DKIMV_REASON_MAX];

	(void)svc;
	if (error != NULL)
		*error = 0;
	if (dnssec != NULL)
		*dnssec = DKIM_DNSSEC_UNKNOWN;
	if (to != NULL && (unsigned long)to->tv_sec * 1000 < query_ms)
		ms = (unsigned)to->tv_sec * 1000 + (unsigned)(to->tv_usec / 1000);
	dns_deadline(&dl, ms);
	if (h->m != NULL) {
		if (!h->m->wait_set) {
			h->m->wait_end = dl;
			h->m->wait_set = 1;
		}
		dns_deadline_cap(&dl, &h->m->wait_end);
	}
	/* and never past the stage's deadline (end of message) */
	switch (dns_wait_stage(h->q, &dl, h->m != NULL ? h->m->stage : NULL)) {
	case DNS_PENDING:
		return DKIM_DNS_EXPIRED;
	case DNS_FAILED:
		return DKIM_DNS_ERROR;
	case DNS_DONE:
		break;
	}
	rcode = dns_answer(h->q)->rcode;
	if (rcode != 0 && rcode != 3)
		return DKIM_DNS_ERROR;
	if (rcode == 0 && dkimkey_refused(dns_answer(h->q), why, sizeof(why))) {
		/* the library sees a key failure; dkimv_eom says why */
		refuse(h->m, NULL, h->name, why);
		return DKIM_DNS_ERROR;
	}
	pkt = dns_packet(h->q, &len);
	if (pkt == NULL || len > h->buflen)
		return DKIM_DNS_ERROR;
	memcpy(h->buf, pkt, len);
	*bytes = len;
	return DKIM_DNS_SUCCESS;
}

/* hook_cancel -- the library is done with a question (always called) */
static int
hook_cancel(void *svc, void *qh)
{
	struct hq	*h = qh;

	(void)svc;
	if (h != NULL) {
		dns_release(h->q);
		free(h);
	}
	return 0;
}

/*
 * prescreen -- at end of headers, with every signature: ignore those
 * beyond max_sigs, and ask for the keys of the others at once
 */
static DKIM_CBSTAT
prescreen(DKIM *dkim, DKIM_SIGINFO **sigs, int nsigs)
{
	struct dkimv	*m = dkim_get_user_context(dkim);
	const char	*d, *s;
	dkim_alg_t	 alg;
	int		 i, n;
	size_t		 j;

	if (m == NULL)
		return DKIM_CBSTAT_CONTINUE;
	for (i = 0; i < nsigs; i++) {
		if ((unsigned)i >= max_sigs) {
			dkim_sig_ignore(sigs[i]);
			m->out.ignored++;
			continue;
		}
		d = (const char *)dkim_sig_getdomain(sigs[i]);
		s = (const char *)dkim_sig_getselector(sigs[i]);
		/* RFC 8301: rsa-sha1 is never valid; its key is not asked for */
		if (dkim_sig_getsignalg(sigs[i], &alg) == DKIM_STAT_OK &&
		    alg == DKIM_SIGN_RSASHA1) {
			dkim_sig_ignore(sigs[i]);
			refuse(m, sigs[i], NULL, "rsa-sha1 is not accepted "
			    "(RFC 8301)");
			continue;
		}
		if (dkim_sig_gettagvalue(sigs[i], 0, (unsigned char *)"l") != NULL)
			m->has_l = 1;
		if (d == NULL || s == NULL || *d == '\0' || *s == '\0' ||
		    dkim_sig_geterror(sigs[i]) > DKIM_SIGERROR_OK)
			continue;
		if (m->npre == DKIMV_MAX_SIGS)
			continue;
		n = snprintf(m->pre[m->npre].name, sizeof(m->pre[0].name),
		    "%s._domainkey.%s", s, d);
		if (n < 0 || (size_t)n >= sizeof(m->pre[0].name))
			continue;
		for (j = 0; j < m->npre; j++)
			if (strcasecmp(m->pre[j].name, m->pre[m->npre].name) == 0)
				break;
		if (j < m->npre)
			continue;	/* asked already */
		m->pre[m->npre].q = dns_submit(engine, m->pre[m->npre].name,
		    16 /* TXT */);
		m->npre++;
	}
	return DKIM_CBSTAT_CONTINUE;
}

/* ---- the library ------------------------------------------------------ */

/*
 * dkimv_init -- the library handle, asking dns with questions of at most
 * qms milliseconds, checking at most sigs signatures per message
 */
int
dkimv_init(struct dns *dns, unsigned qms, unsigned sigs, struct buf *err)
{
	uint32_t	flags = DKIM_LIBFLAGS_DELAYSIGPROC |
			    DKIM_LIBFLAGS_BADSIGHANDLES;
	unsigned int	secs = (qms + 999) / 1000, minbits = DKIMV_RSA_BITS_MIN;
	dkim_query_t	qm = DKIM_QUERY_DNS;

	if (lib != NULL)
		return 0;
	if ((lib = dkim_init(NULL, NULL)) == NULL) {
		buf_puts(err, "libopendkim: dkim_init failed");
		return -1;
	}
	engine = dns;
	query_ms = qms;
	max_sigs = sigs == 0 ? 1 : sigs > DKIMV_MAX_SIGS ? DKIMV_MAX_SIGS : sigs;
	if (dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_FLAGS, &flags,
	    sizeof(flags)) != DKIM_STAT_OK ||
	    dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_TIMEOUT, &secs,
	    sizeof(secs)) != DKIM_STAT_OK ||
	    dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_QUERYMETHOD, &qm,
	    sizeof(qm)) != DKIM_STAT_OK ||
	    dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_MINKEYBITS, &minbits,
	    sizeof(minbits)) != DKIM_STAT_OK) {
		buf_puts(err, "libopendkim: cannot set options");
		dkim_close(lib);
		lib = NULL;
		return -1;
	}
	/* the engine is ours: the library must neither open nor free it */
	dkim_dns_set_init(lib, NULL);
	dkim_dns_set_close(lib, NULL);
	(void)dkim_dns_set_query_service(lib, dns);
	dkim_dns_set_query_start(lib, hook_start);
	dkim_dns_set_query_waitreply(lib, hook_waitreply);
	dkim_dns_set_query_cancel(lib, hook_cancel);
	(void)dkim_set_prescreen(lib, prescreen);
	return 0;
}

/* dkimv_shutdown -- close the library (no message may be in flight) */
void
dkimv_shutdown(void)
{
	if (lib != NULL)
		dkim_close(lib);
	lib = NULL;
	engine = NULL;
}

/* dkimv_version -- "libopendkim X.Y.Z" */
const char *
dkimv_version(void)
{
	static char	v[40];
	uint32_t	n = dkim_libversion();

	(void)snprintf(v, sizeof(v), "libopendkim %u.%u.%u",
	    (unsigned)(n >> 24), (unsigned)((n >> 16) & 0xff),
	    (unsigned)((n >> 8) & 0xff));
	return v;
}

/* ---- one message ------------------------------------------------------ */

/*
 * dkimv_stage -- the deadline of the stage that waits for the keys (the
 * session's, kept by it: end of message); a key question it cuts short
 * marks it as cut
 */
void
dkimv_stage(struct dkimv *m, struct deadline *stage)
{
	m->stage = stage;
}

/*
 * dkimv_new -- a check for one message (id: for the library's messages);
 * without the library, or when its handle cannot be made, an internal
 * failure (never "none")
 */
struct dkimv *
dkimv_new(const char *id)
{
	struct dkimv	*m = xcalloc(1, sizeof(*m));
	DKIM_STAT	 st = DKIM_STAT_OK;

	(void)strlcpy(m->id, id != NULL ? id : "NOQUEUE", sizeof(m->id));
	if (lib == NULL) {
		internal(m, "libopendkim not started", DKIM_STAT_OK);
		return m;
	}
	m->dkim = dkim_verify(lib, (const unsigned char *)m->id, NULL, &st);
	if (m->dkim == NULL || st != DKIM_STAT_OK) {
		internal(m, "cannot make a verification handle",
		    st != DKIM_STAT_OK ? st : DKIM_STAT_NORESOURCE);
		if (m->dkim != NULL)
			dkim_free(m->dkim);
		m->dkim = NULL;
	}
	if (m->dkim != NULL)
		(void)dkim_set_user_context(m->dkim, m);
	return m;
}

/*
 * dkimv_header -- one header field as the MTA passed it: "Name:value",
 * bare LF at folds turned into CRLF, a space after the colon when
 * add_space. A field the library refuses is left out (a signature
 * covering it then fails).
 */
void
dkimv_header(struct dkimv *m, const char *name, const char *value,
    int add_space)
{
	const char	*p;
	DKIM_STAT	 st;

	if (m->dkim == NULL || m->eoh_done || name == NULL || value == NULL)
		return;
	buf_reset(&m->hb);
	buf_puts(&m->hb, name);
	buf_putc(&m->hb, ':');
	if (add_space)
		buf_putc(&m->hb, ' ');
	for (p = value; *p != '\0' && m->hb.len < HDR_MAX; p++) {
		if (*p == '\n' && (p == value || p[-1] != '\r'))
			buf_putc(&m->hb, '\r');
		buf_putc(&m->hb, *p);
	}
	if (m->hb.len >= HDR_MAX)
		return;
	if (strcasecmp(name, "DKIM-Signature") == 0)
		m->sigs_seen++;
	st = dkim_header(m->dkim, (unsigned char *)m->hb.data, m->hb.len);
	if (failed(st))
		internal(m, "a header field", st);
}

/* dkimv_eoh -- end of headers: read the signatures, ask for their keys */
void
dkimv_eoh(struct dkimv *m)
{
	DKIM_STAT	st;

	if (m->dkim == NULL || m->eoh_done)
		return;
	m->eoh_done = 1;
	cur = m;
	st = dkim_eoh(m->dkim);
	cur = NULL;
	if (st == DKIM_STAT_NOSIG && m->sigs_seen == 0)
		return;
	if (failed(st)) {
		internal(m, "end of headers", st);
		m->unusable = 1;
		return;
	}
	if (st != DKIM_STAT_OK && st != DKIM_STAT_NOSIG) {
		m->unusable = 1;
		(void)snprintf(m->why, sizeof(m->why), "%s",
		    dkim_geterror(m->dkim) != NULL && *dkim_geterror(m->dkim) ?
		    dkim_geterror(m->dkim) : dkim_getresultstr(st));
	}
}

/*
 * dkimv_body -- a body chunk (CRLF lines); 1 while more body is needed.
 * With a signature that has l=, all of it is: whether l= covers the
 * whole body is known only at its end.
 */
int
dkimv_body(struct dkimv *m, const unsigned char *p, size_t len)
{
	DKIM_STAT	st;

	if (!m->eoh_done)
		dkimv_eoh(m);
	if (m->dkim == NULL || m->unusable)
		return 0;
	if (m->has_l)
		dkimlen_feed(&m->blen, p, len);
	if (dkim_minbody(m->dkim) == 0)
		return m->has_l;
	st = dkim_body(m->dkim, (unsigned char *)p, len);
	if (failed(st)) {
		internal(m, "the body", st);
		m->unusable = 1;
		return 0;
	}
	return m->has_l || dkim_minbody(m->dkim) != 0;
}

/* alg_name -- the a= of a signature */
static const char *
alg_name(DKIM_SIGINFO *sig)
{
	dkim_alg_t	a;

	if (dkim_sig_getsignalg(sig, &a) != DKIM_STAT_OK)
		return NULL;
	switch (a) {
	case DKIM_SIGN_RSASHA1:		return "rsa-sha1";
	case DKIM_SIGN_RSASHA256:	return "rsa-sha256";
	case DKIM_SIGN_ED25519SHA256:	return "ed25519-sha256";
	default:			return NULL;
	}
}

/* sig_result -- one signature's verdict, with why it did not pass */
static enum dkimv_result
sig_result(DKIM_SIGINFO *sig, char *why, size_t whylen)
{
	int		 e = dkim_sig_geterror(sig);
	unsigned	 fl = dkim_sig_getflags(sig);
	const char	*s;

	if ((fl & DKIM_SIGFLAG_PASSED) && dkim_sig_getbh(sig) == DKIM_SIGBH_MATCH &&
	    (e == DKIM_SIGERROR_OK || e == DKIM_SIGERROR_UNKNOWN))
		return DKIMV_PASS;
	if (dkim_sig_getbh(sig) == DKIM_SIGBH_MISMATCH) {
		(void)strlcpy(why, "body hash mismatch", whylen);
		return DKIMV_FAIL;
	}
	s = e > 0 ? dkim_sig_geterrorstr(e) : NULL;
	(void)strlcpy(why, s != NULL ? s : "signature not verified", whylen);
	switch (e) {
	case DKIM_SIGERROR_KEYFAIL:
		return DKIMV_TEMPERROR;
	case DKIM_SIGERROR_KEYTOOSMALL:
		return DKIMV_PERMERROR;		/* RFC 8301 */
	case DKIM_SIGERROR_BADSIG:
	case DKIM_SIGERROR_KEYREVOKED:
	case DKIM_SIGERROR_EXPIRED:
	case DKIM_SIGERROR_FUTURE:
		return DKIMV_FAIL;
	case DKIM_SIGERROR_OK:
	case DKIM_SIGERROR_UNKNOWN:
		(void)strlcpy(why, "signature mismatch", whylen);
		return DKIMV_FAIL;
	default:
		return DKIMV_PERMERROR;
	}
}

/* copy_tag -- a signature's text into a fixed field, cut at the size */
static void
copy_tag(char *dst, size_t dstlen, const unsigned char *src)
{
	(void)strlcpy(dst, src != NULL ? (const char *)src : "", dstlen);
}

/* copy_b -- the first characters of b=, folding white space left out */
static void
copy_b(char *dst, size_t dstlen, const unsigned char *src)
{
	size_t	n = 0;

	for (; src != NULL && *src != '\0' && n + 1 < dstlen; src++)
		if (*src != ' ' && *src != '\t' && *src != '\r' && *src != '\n')
			dst[n++] = (char)*src;
	dst[n] = '\0';
}

/* refusal -- why mxgate refused sig before the library checked it, or NULL */
static const char *
refusal(const struct dkimv *m, DKIM_SIGINFO *sig)
{
	char	 name[KEYNAME_MAX];
	size_t	 i;
	int	 n;

	n = snprintf(name, sizeof(name), "%s._domainkey.%s",
	    (const char *)dkim_sig_getselector(sig),
	    (const char *)dkim_sig_getdomain(sig));
	for (i = 0; i < m->nref; i++) {
		if (m->ref[i].sig == sig)
			return m->ref[i].why;
		if (m->ref[i].sig == NULL && n > 0 && (size_t)n < sizeof(name) &&
		    dkim_sig_geterror(sig) == DKIM_SIGERROR_KEYFAIL &&
		    strcasecmp(m->ref[i].key, name) == 0)
			return m->ref[i].why;
	}
	return NULL;
}

/*
 * short_l -- a passing signature whose l= stops short of the body's
 * canonical length is not a pass: text added after signing (policy)
 */
static int
short_l(const struct dkimv *m, DKIM_SIGINFO *sig, char *why, size_t whylen)
{
	dkim_canon_t	hc, bc;
	ssize_t		signlen = -1;
	uint64_t	total;

	if (!m->has_l ||
	    dkim_sig_gettagvalue(sig, 0, (unsigned char *)"l") == NULL ||
	    dkim_sig_getcanonlen(m->dkim, sig, NULL, NULL, &signlen) !=
	    DKIM_STAT_OK || signlen < 0 ||
	    dkim_sig_getcanons(sig, &hc, &bc) != DKIM_STAT_OK)
		return 0;
	total = bc == DKIM_CANON_SIMPLE ? dkimlen_simple(&m->blen) :
	    dkimlen_relaxed(&m->blen);
	if (total <= (uint64_t)signlen)
		return 0;
	(void)snprintf(why, whylen, "l=%zd leaves %llu of %llu body bytes "
	    "unsigned", signlen, (unsigned long long)total - (uint64_t)signlen,
	    (unsigned long long)total);
	return 1;
}

/* sig_out -- one signature of the outcome */
static void
sig_out(struct dkimv *m, DKIM_SIGINFO *sig, const char *refused)
{
	struct dkimv_sig *o = &m->out.sig[m->out.nsigs++];
	enum dkimv_result r;

	copy_tag(o->domain, sizeof(o->domain), dkim_sig_getdomain(sig));
	copy_tag(o->selector, sizeof(o->selector), dkim_sig_getselector(sig));
	copy_b(o->b, sizeof(o->b), dkim_sig_gettagvalue(sig, 0,
	    (unsigned char *)"b"));
	o->alg = alg_name(sig);
	if (refused != NULL) {
		o->result = DKIMV_PERMERROR;
		(void)strlcpy(o->reason, refused, sizeof(o->reason));
	} else
		o->result = sig_result(sig, o->reason, sizeof(o->reason));
	if (o->result == DKIMV_PASS && short_l(m, sig, o->reason,
	    sizeof(o->reason)))
		o->result = DKIMV_POLICY;
	/* the message's result is one of the dkim fact's: policy is a fail */
	r = o->result == DKIMV_POLICY ? DKIMV_FAIL : o->result;
	if (r > m->out.result)
		m->out.result = r;
}

/* dkimv_eom -- end of message: every signature checked; the outcome (id: for the log) */
const struct dkimv_outcome *
dkimv_eom(struct dkimv *m, const char *id)
{
	DKIM_SIGINFO	**sigs = NULL;
	const char	*why;
	DKIM_STAT	 st;
	_Bool		 testkey = 0;
	int		 i, n = 0;

	if (m->eom_done)
		return &m->out;
	if (!m->eoh_done)
		dkimv_eoh(m);
	m->eom_done = 1;
	m->out.result = DKIMV_NONE;
	if (m->out.internal) {
		m->out.result = DKIMV_TEMPERROR;
		return &m->out;
	}
	if (m->dkim == NULL)
		return &m->out;
	if (m->unusable) {
		if (m->sigs_seen > 0) {
			m->out.result = DKIMV_PERMERROR;
			m->out.nsigs = 1;
			(void)strlcpy(m->out.sig[0].reason, m->why,
			    sizeof(m->out.sig[0].reason));
			m->out.sig[0].result = DKIMV_PERMERROR;
		}
		return &m->out;
	}
	cur = m;
	st = dkim_eom(m->dkim, &testkey);
	cur = NULL;
	if (failed(st)) {
		internal(m, "end of message", st);
		m->out.result = DKIMV_TEMPERROR;
		return &m->out;
	}
	if (m->out.ignored > 0)
		log_info("%s: %zu DKIM signature%s beyond dkim_max_signatures = %u "
		    "not checked", id != NULL ? id : m->id, m->out.ignored,
		    m->out.ignored == 1 ? "" : "s", max_sigs);
	st = dkim_getsiglist(m->dkim, &sigs, &n);
	if (st != DKIM_STAT_OK || sigs == NULL) {
		if (m->sigs_seen > 0) {
			internal(m, "the signature list", st != DKIM_STAT_OK ?
			    st : DKIM_STAT_INTERNAL);
			m->out.result = DKIMV_TEMPERROR;
		}
		return &m->out;
	}
	for (i = 0; i < n && m->out.nsigs < DKIMV_MAX_SIGS; i++) {
		why = refusal(m, sigs[i]);
		if ((dkim_sig_getflags(sigs[i]) & DKIM_SIGFLAG_IGNORE) &&
		    why == NULL)
			continue;	/* beyond dkim_max_signatures */
		sig_out(m, sigs[i], why);
	}
	return &m->out;
}

/* dkimv_free -- NULL is fine; questions still asked are let go */
void
dkimv_free(struct dkimv *m)
{
	size_t	i;

	if (m == NULL)
		return;
	for (i = 0; i < m->npre; i++)
		if (m->pre[i].q != NULL)
			dns_release(m->pre[i].q);
	if (m->dkim != NULL)
		(void)dkim_free(m->dkim);
	buf_free(&m->hb);
	free(m);
}
