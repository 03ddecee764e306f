/*
 * session -- per-connection and per-message state, and the facts rules
 * see. milter.c copies MTA input into a session through the session_*
 * event functions; each runs the rules of its stage and fills a verdict.
 *
 * A session holds a reference to the rule set it started with, so a
 * reload never changes the rules under a connection in flight. It also
 * holds the concurrency slots its connection took (released by
 * session_free, even after a reload).
 *
 * Events of one connection never run at the same time (the engine hands
 * a connection to one worker at a time), possibly on different threads:
 * a session is used by one thread at a time and needs no lock. Values are copied in; the
 * session owns all of its strings.
 */
#ifndef MXGATE_SESSION_H
#define MXGATE_SESSION_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "buf.h"
#include "cfg.h"
#include "dns.h"
#include "ratelimit.h"
#include "rules.h"
#include "verdict.h"

/* the MTA events a rule set needs (bits), for negotiation */
#define SESSION_EV_HELO		0x01
#define SESSION_EV_MAIL		0x02
#define SESSION_EV_RCPT		0x04
#define SESSION_EV_DATA		0x08
#define SESSION_EV_HEADER	0x10
#define SESSION_EV_BODY		0x20
#define SESSION_EV_EOM		0x40
#define SESSION_EV_CONNECT	0x80
#define SESSION_EV_EOH		0x100

struct session_plan {
	unsigned	need;		/* events to receive */
	unsigned	reply;		/* events that may get a reply other than continue */
	int		connect_only;	/* nothing to check after connect unless a refusal is pending */
	int		auth;		/* DKIM is fed (A-R header, dkim/dmarc facts) */
};

/* a header the rules add at end of message */
struct session_header {
	char	*name;
	char	*value;
};

struct session;

void	session_plan(const struct rules *, const struct cfg *,
	    struct session_plan *);
struct session *session_new(struct rules *, const struct cfg *,
	    struct rl_store *, struct dns *);
struct rules *session_rules(const struct session *);
void	session_free(struct session *);
void	session_connect(struct session *, const char *, const struct sockaddr *,
	    const char *, struct verdict *);
void	session_overflow(struct session *, const char *,
	    const struct sockaddr *, const char *, struct verdict *);
void	session_eom_limit(struct session *, const char *, struct verdict *);
void	session_helo(struct session *, const char *, int, struct verdict *);
void	session_mail(struct session *, const char *, char *const *,
	    const char *, const char *, const char *, struct verdict *);
void	session_rcpt(struct session *, const char *, const char *,
	    struct verdict *);
void	session_data(struct session *, const char *, struct verdict *);
void	session_proto(struct session *, int);
int	session_leadspc_on(const struct session *);
void	session_header(struct session *, const char *, const char *);
void	session_eoh(struct session *);
void	session_body(struct session *, const unsigned char *, size_t);
void	session_eom(struct session *, const char *, struct verdict *);
size_t	session_headers(const struct session *,
	    const struct session_header **);
const char *session_authres(const struct session *, const unsigned **,
	    size_t *);
void	session_abort(struct session *);

/*
 * Look-only (mxgatectl explain): the session decides as usual but counts
 * nothing (no limit commit, no concurrency slot), logs no decision (the
 * lines are appended to log instead) and hands every rule it evaluates
 * to trace with its outcome. Set before session_connect.
 * session_pending: a connect-stage refusal waits for HELO (or MAIL,
 * RCPT). session_unreached: the rules of a stage as not reached.
 * session_value: a fact or template variable's text now.
 */
typedef void (*session_trace_fn)(void *, struct session *,
	    const struct rules_match *, enum rules_outcome);
void	session_look_only(struct session *, struct buf *, session_trace_fn,
	    void *);
int	session_pending(const struct session *);
void	session_unreached(struct session *, enum stage);
void	session_value(struct session *, int, struct buf *);

#endif
