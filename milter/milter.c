/*
 * milter -- libmilter callbacks (see milter.h).
 *
 * Negotiation switches off every callback the loaded rules do not need
 * and asks for no reply where mxgate never answers (SMFIP_NO*, SMFIP_NR_*):
 * connect, HELO, MAIL, RCPT and DATA when no rule there may refuse, every
 * header, the end of headers and every body chunk (nothing in the body
 * can change the decision, which is taken at end of message), so a message
 * costs as few round trips as the rules allow. Each connection remembers
 * which of those bits the MTA accepted (struct mconn), and a callback of
 * such a stage returns SMFIS_NOREPLY, never SMFIS_CONTINUE: libmilter
 * does not turn CONTINUE into no reply silently, it logs "milter claimed
 * not to reply in state N but did anyway" at LOG_ERR each time. Where the
 * MTA did not accept the bit the callback answers SMFIS_CONTINUE as usual.
 *
 * Postfix sends few macros by default: mxgate asks for the ones it needs
 * with smfi_setsymlist(), so admins need no milter_*_macros settings.
 *
 * A session is created at negotiation (or at connect) and freed at close.
 * libmilter calls close also before a milter connection is reused for a
 * new SMTP connection (SMFIC_QUIT_NC) without a new negotiation; close
 * cannot tell that from the end, so it frees everything, and the session
 * started at the next connect answers every stage (SMFIS_CONTINUE): safe
 * with any negotiation, at the cost of libmilter's error line for a stage
 * negotiated as no-reply.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libmilter/mfapi.h>
#include <openssl/crypto.h>

#include "dkimv.h"
#include "log.h"
#include "milter.h"
#include "session.h"
#include "store_redis.h"
#include "xalloc.h"

static pthread_mutex_t	 rules_lock = PTHREAD_MUTEX_INITIALIZER;
static struct rules	*cur_rules;
static const struct cfg	*cur_cfg;
static struct rl_store	*cur_store;
static struct dns	*cur_dns;
static unsigned		 active;
static char		*listen_path;	/* a unix socket's file, or NULL */
static int		 warned_hdrs;	/* the MTA refused header changes (logged once) */

/* one milter connection: its session and what negotiation settled */
struct mconn {
	struct session	*s;
	unsigned long	 nr;	/* the SMFIP_NR_* bits the MTA accepted */
};

static sfsistat	reply(SMFICTX *, struct verdict *, unsigned long);

/* current_rules -- a new reference to the rule set in force */
static struct rules *
current_rules(void)
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

/* milter_active -- connections open now */
unsigned
milter_active(void)
{
	return __atomic_load_n(&active, __ATOMIC_RELAXED);
}

/* sym -- a macro value or NULL */
static const char *
sym(SMFICTX *ctx, const char *name)
{
	return smfi_getsymval(ctx, (char *)name);
}

/*
 * set_reply -- hand the verdict's reply lines to libmilter. A failure
 * here would make libmilter send a bare tempfail (Postfix's generic
 * text), so it is logged; reply.c guarantees lines libmilter accepts.
 */
static void
set_reply(SMFICTX *ctx, const struct verdict *v)
{
	const struct reply *r = &v->reply;
	const char	*l[REPLY_MAX_LINES];
	unsigned	 i;
	int		 rc;

	for (i = 0; i < REPLY_MAX_LINES; i++)
		l[i] = i < r->nlines ? r->line[i] : NULL;
	if (r->nlines <= 1)
		rc = smfi_setreply(ctx, (char *)r->code, (char *)r->ecode,
		    (char *)(r->nlines ? r->line[0] : ""));
	else
		rc = smfi_setmlreply(ctx, r->code, r->ecode, l[0], l[1], l[2],
		    l[3], l[4], l[5], l[6], l[7], l[8], l[9], l[10], l[11],
		    l[12], l[13], l[14], l[15], l[16], l[17], l[18], l[19],
		    l[20], l[21], l[22], l[23], l[24], l[25], l[26], l[27],
		    l[28], l[29], l[30], l[31], (char *)NULL);
	if (rc != MI_SUCCESS)
		log_warn("ref %s: libmilter refused the reply text (%s %s, %u lines)",
		    v->ref, r->code, r->ecode, r->nlines);
}

/*
 * reply -- map a verdict to SMFIS_* (the one switch over verdict kinds);
 * nr is the stage's SMFIP_NR_* bit when the MTA accepted it for this
 * connection (0 otherwise): going on is then SMFIS_NOREPLY
 */
static sfsistat
reply(SMFICTX *ctx, struct verdict *v, unsigned long nr)
{
	sfsistat	rc = SMFIS_CONTINUE;

	switch (v->kind) {
	case VERDICT_CONTINUE:
		rc = nr ? SMFIS_NOREPLY : SMFIS_CONTINUE;
		break;
	case VERDICT_TEMPFAIL:
		set_reply(ctx, v);
		rc = SMFIS_TEMPFAIL;
		break;
	case VERDICT_REJECT:
		set_reply(ctx, v);
		rc = SMFIS_REJECT;
		break;
	case VERDICT_DONE:
		rc = SMFIS_ACCEPT;
		break;
	}
	verdict_clear(v);
	return rc;
}

/*
 * want_flags -- the protocol bits mxgate asks for, given the rules' plan
 * (the caller keeps those the MTA offers). Headers, end of headers and
 * body chunks never get a reply; header values keep their leading
 * space, which DKIM's simple canonicalization needs.
 */
static unsigned long
want_flags(const struct session_plan *p)
{
	unsigned long	w = SMFIP_NOUNKNOWN | SMFIP_NR_HDR | SMFIP_NR_EOH |
			    SMFIP_NR_BODY;
	static const struct {
		unsigned	ev;
		unsigned long	no, nr;
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
 * start -- a session for this milter connection, with the rules in
 * force; no stage is known as no-reply until negotiation says so
 */
static struct mconn *
start(SMFICTX *ctx)
{
	struct rules	*r = current_rules();
	struct mconn	*c = xcalloc(1, sizeof(*c));

	c->s = session_new(r, cur_cfg, cur_store, cur_dns);
	rules_unref(r);
	__atomic_add_fetch(&active, 1, __ATOMIC_RELAXED);
	(void)smfi_setpriv(ctx, c);
	return c;
}

/* conn -- this milter connection's state, or NULL (none started) */
static struct mconn *
conn(SMFICTX *ctx)
{
	return smfi_getpriv(ctx);
}

/* session_of -- this milter connection's session, or NULL */
static struct session *
session_of(SMFICTX *ctx)
{
	struct mconn	*c = conn(ctx);

	return c != NULL ? c->s : NULL;
}

/* noreply -- bit, when the MTA accepted it as no-reply for this connection */
static unsigned long
noreply(SMFICTX *ctx, unsigned long bit)
{
	struct mconn	*c = conn(ctx);

	return c != NULL ? c->nr & bit : 0;
}

/* go_on -- the "go on" of a stage: SMFIS_NOREPLY where negotiated so */
static sfsistat
go_on(SMFICTX *ctx, unsigned long bit)
{
	return noreply(ctx, bit) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

/*
 * mlfi_negotiate -- take only the callbacks and macros the rules need.
 * The session starts here, so that it uses the very rule set whose
 * needs were negotiated, even when a reload comes in between.
 */
static sfsistat
mlfi_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
    unsigned long f2, unsigned long f3, unsigned long *pf0,
    unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	struct session_plan	 p;
	struct mconn		*c = conn(ctx);

	(void)f2;
	(void)f3;
	if (c == NULL)
		c = start(ctx);
	session_plan(session_rules(c->s), cur_cfg, &p);
	*pf0 = f0 & (SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_SETSYMLIST);
	*pf1 = f1 & want_flags(&p);
	c->nr = *pf1 & (SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL |
	    SMFIP_NR_RCPT | SMFIP_NR_DATA | SMFIP_NR_HDR | SMFIP_NR_EOH |
	    SMFIP_NR_BODY);
	session_proto(c->s, (*pf1 & SMFIP_HDR_LEADSPC) != 0);
	if (p.auth && cur_cfg->add_auth_results &&
	    (f0 & (SMFIF_ADDHDRS | SMFIF_CHGHDRS)) !=
	    (SMFIF_ADDHDRS | SMFIF_CHGHDRS) &&
	    !__atomic_exchange_n(&warned_hdrs, 1, __ATOMIC_RELAXED))
		log_warn("the MTA does not let milters add and change headers: "
		    "no Authentication-Results (logged once)");
	*pf2 = *pf3 = 0;
	if (f0 & SMFIF_SETSYMLIST) {
		(void)smfi_setsymlist(ctx, SMFIM_CONNECT,
		    "j {daemon_name} {client_addr} {client_name}");
		(void)smfi_setsymlist(ctx, SMFIM_HELO, "{tls_version} {cipher}");
		(void)smfi_setsymlist(ctx, SMFIM_ENVFROM,
		    "i {auth_type} {auth_authen} {mail_addr}");
		(void)smfi_setsymlist(ctx, SMFIM_ENVRCPT, "i {rcpt_addr}");
		(void)smfi_setsymlist(ctx, SMFIM_DATA, "i");
		(void)smfi_setsymlist(ctx, SMFIM_EOH, "i");
		(void)smfi_setsymlist(ctx, SMFIM_EOM, "i");
	}
	return SMFIS_CONTINUE;
}

/* mlfi_connect -- a new client: connect-stage rules */
static sfsistat
mlfi_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *addr)
{
	struct mconn	*c = conn(ctx);
	struct verdict	 v;

	/* started at negotiation; anew after a close (SMFIC_QUIT_NC reuse) */
	if (c == NULL)
		c = start(ctx);
	verdict_init(&v);
	session_connect(c->s, hostname, addr, sym(ctx, "{daemon_name}"), &v);
	return reply(ctx, &v, noreply(ctx, SMFIP_NR_CONN));
}

/* mlfi_helo -- HELO/EHLO */
static sfsistat
mlfi_helo(SMFICTX *ctx, char *helo)
{
	struct session	*s = session_of(ctx);
	struct verdict	 v;

	if (s == NULL)
		return go_on(ctx, SMFIP_NR_HELO);
	verdict_init(&v);
	session_helo(s, helo, sym(ctx, "{tls_version}") != NULL, &v);
	return reply(ctx, &v, noreply(ctx, SMFIP_NR_HELO));
}

/* mlfi_envfrom -- MAIL FROM */
static sfsistat
mlfi_envfrom(SMFICTX *ctx, char **argv)
{
	struct session	*s = session_of(ctx);
	struct verdict	 v;

	if (s == NULL)
		return go_on(ctx, SMFIP_NR_MAIL);
	verdict_init(&v);
	session_mail(s, argv[0], argv[0] != NULL ? argv + 1 : NULL,
	    sym(ctx, "{auth_authen}"), sym(ctx, "{auth_type}"), sym(ctx, "i"),
	    &v);
	return reply(ctx, &v, noreply(ctx, SMFIP_NR_MAIL));
}

/* mlfi_envrcpt -- RCPT TO */
static sfsistat
mlfi_envrcpt(SMFICTX *ctx, char **argv)
{
	struct session	*s = session_of(ctx);
	struct verdict	 v;

	if (s == NULL)
		return go_on(ctx, SMFIP_NR_RCPT);
	verdict_init(&v);
	session_rcpt(s, argv[0], sym(ctx, "i"), &v);
	return reply(ctx, &v, noreply(ctx, SMFIP_NR_RCPT));
}

/* mlfi_data -- DATA */
static sfsistat
mlfi_data(SMFICTX *ctx)
{
	struct session	*s = session_of(ctx);
	struct verdict	 v;

	if (s == NULL)
		return go_on(ctx, SMFIP_NR_DATA);
	verdict_init(&v);
	session_data(s, sym(ctx, "i"), &v);
	return reply(ctx, &v, noreply(ctx, SMFIP_NR_DATA));
}

/* mlfi_header -- one header field */
static sfsistat
mlfi_header(SMFICTX *ctx, char *name, char *value)
{
	struct session	*s = session_of(ctx);

	if (s != NULL)
		session_header(s, name, value);
	return go_on(ctx, SMFIP_NR_HDR);
}

/* mlfi_eoh -- end of headers (DKIM asks for its keys) */
static sfsistat
mlfi_eoh(SMFICTX *ctx)
{
	struct session	*s = session_of(ctx);

	if (s != NULL)
		session_eoh(s);
	return go_on(ctx, SMFIP_NR_EOH);
}

/* mlfi_body -- a body chunk (no reply where the MTA accepted SMFIP_NR_BODY) */
static sfsistat
mlfi_body(SMFICTX *ctx, unsigned char *p, size_t len)
{
	struct session	*s = session_of(ctx);

	if (s != NULL)
		session_body(s, p, len);
	return go_on(ctx, SMFIP_NR_BODY);
}

/*
 * put_header -- add a header field: at index idx (smfi_insheader), or at
 * the end when idx < 0; the value with a leading space when values keep
 * theirs (SMFIP_HDR_LEADSPC: the MTA then adds none)
 */
static int
put_header(SMFICTX *ctx, struct session *s, int idx, const char *name,
    const char *value)
{
	struct buf	v = BUF_INIT;
	int		rc;

	if (session_leadspc_on(s))
		buf_putc(&v, ' ');
	buf_puts(&v, value);
	rc = idx < 0 ? smfi_addheader(ctx, (char *)name, v.data) :
	    smfi_insheader(ctx, idx, (char *)name, v.data);
	buf_free(&v);
	return rc;
}

/*
 * auth_headers -- at end of message: delete every Authentication-Results
 * field that claims our authserv-id (from the last one back, so that no
 * deletion shifts an index still to come), then put ours at the top
 */
static void
auth_headers(SMFICTX *ctx, struct session *s)
{
	const unsigned	*forged;
	size_t		 n;
	const char	*ar = session_authres(s, &forged, &n);

	if (ar == NULL)
		return;
	while (n-- > 0)
		if (smfi_chgheader(ctx, (char *)"Authentication-Results",
		    (int)forged[n], NULL) != MI_SUCCESS)
			log_warn("cannot delete a forged Authentication-Results header");
	if (put_header(ctx, s, 0, "Authentication-Results", ar) != MI_SUCCESS)
		log_warn("cannot add the Authentication-Results header");
}

/* mlfi_eom -- end of message: eom rules, headers, counting */
static sfsistat
mlfi_eom(SMFICTX *ctx)
{
	struct session		*s = session_of(ctx);
	const struct session_header *h;
	struct verdict		 v;
	size_t			 i, n;

	if (s == NULL)
		return SMFIS_CONTINUE;
	verdict_init(&v);
	session_eom(s, sym(ctx, "i"), &v);
	if (v.kind == VERDICT_CONTINUE) {
		auth_headers(ctx, s);
		n = session_headers(s, &h);
		for (i = 0; i < n; i++)
			if (put_header(ctx, s, -1, h[i].name, h[i].value) != MI_SUCCESS)
				log_warn("cannot add header %s", h[i].name);
	}
	session_abort(s);	/* the message is over: forget it */
	return reply(ctx, &v, 0);
}

/* mlfi_abort -- the message ended early (RSET, new EHLO, lost client) */
static sfsistat
mlfi_abort(SMFICTX *ctx)
{
	struct session	*s = session_of(ctx);

	if (s != NULL)
		session_abort(s);
	return SMFIS_CONTINUE;
}

/* mlfi_close -- the connection ended (or is reused after XCLIENT) */
static sfsistat
mlfi_close(SMFICTX *ctx)
{
	struct mconn	*c = conn(ctx);

	if (c != NULL) {
		session_free(c->s);
		free(c);
		__atomic_sub_fetch(&active, 1, __ATOMIC_RELAXED);
		(void)smfi_setpriv(ctx, NULL);
	}
	return SMFIS_CONTINUE;
}

static struct smfiDesc desc = {
	"mxgate",
	SMFI_VERSION,
	SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_SETSYMLIST,
	mlfi_connect,
	mlfi_helo,
	mlfi_envfrom,
	mlfi_envrcpt,
	mlfi_header,
	mlfi_eoh,
	mlfi_body,
	mlfi_eom,
	mlfi_abort,
	mlfi_close,
	NULL,		/* unknown */
	mlfi_data,
	mlfi_negotiate
};

/* socket_path -- the file of a unix:/local: socket spec, or NULL */
static const char *
socket_path(const char *spec)
{
	if (strncmp(spec, "unix:", 5) == 0)
		return spec + 5;
	if (strncmp(spec, "local:", 6) == 0)
		return spec + 6;
	if (spec[0] == '/')
		return spec;
	return NULL;
}

/*
 * milter_open -- register with libmilter and open the socket (as root,
 * before the privilege drop); a unix socket gets socket_mode and the
 * daemon's owner so that it can be removed at exit.
 */
int
milter_open(const struct cfg *cfg, struct rules *rules, uid_t uid, gid_t gid,
    struct buf *err)
{
	const char	*path = socket_path(cfg->socket);

	cur_cfg = cfg;
	milter_set_rules(rules);
	if (smfi_register(desc) != MI_SUCCESS) {
		buf_puts(err, "smfi_register failed");
		return -1;
	}
	if (smfi_setconn((char *)cfg->socket) != MI_SUCCESS) {
		buf_printf(err, "bad socket %s", cfg->socket);
		return -1;
	}
	if (smfi_settimeout(7210) != MI_SUCCESS ||
	    smfi_opensocket(1) != MI_SUCCESS) {
		buf_printf(err, "cannot open socket %s", cfg->socket);
		return -1;
	}
	if (path != NULL) {
		free(listen_path);
		listen_path = xstrdup(path);
		if (chmod(path, (mode_t)cfg->socket_mode) == -1 ||
		    (geteuid() == 0 && chown(path, uid, gid) == -1)) {
			buf_printf(err, "socket %s: %s", path, strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* milter_set_dns -- the DNS engine of new sessions (before milter_main) */
void
milter_set_dns(struct dns *dns)
{
	cur_dns = dns;
}

/* milter_set_store -- the rate counters of new sessions (before milter_main) */
void
milter_set_store(struct rl_store *store)
{
	cur_store = store;
}

/* milter_main -- serve until milter_stop(); 0 or -1 */
int
milter_main(void)
{
	return smfi_main() == MI_SUCCESS ? 0 : -1;
}

/* milter_stop -- stop accepting connections; milter_main() returns */
void
milter_stop(void)
{
	(void)smfi_stop();
}

/*
 * milter_unlisten -- remove the unix socket's file: new connections fail
 * at once (the MTA applies milter_default_action) while the sessions in
 * flight go on. 0, or -1 (an inet socket, or the file cannot be removed).
 */
int
milter_unlisten(void)
{
	if (listen_path == NULL || unlink(listen_path) == -1)
		return -1;
	return 0;
}

/* milter_version -- the versions of the linked libraries, for -V */
void
milter_version(struct buf *b)
{
	unsigned	ma = 0, mi = 0, pl = 0;

	(void)smfi_version(&ma, &mi, &pl);
	buf_printf(b, "libmilter %u.%u.%u\n", ma, mi, pl);
	buf_printf(b, "%s\n", OpenSSL_version(OPENSSL_VERSION));
	buf_printf(b, "libunbound %s\n", dns_version());
	buf_printf(b, "%s\n", dkimv_version());
	buf_printf(b, "%s\n", rl_redis_version());
}
