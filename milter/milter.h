/*
 * milter -- one MTA connection's side of the milter protocol: the state
 * machine between the wire codec (mproto.c) and the session. No I/O and
 * no threads here: the engine (engine.c) reads bytes, hands them to
 * mconn_input(), and writes what it appended to `out` in one write.
 *
 *   milter_init(cfg, rules)     the configuration and the first rules
 *   milter_set_rules/dns/store  what new connections use (set_rules at
 *				 any time: atomic; dns and store before
 *				 the engine starts)
 *   mconn_new(overflow)         a connection; overflow: beyond
 *				 max_connections (421 4.3.2, see
 *				 session_overflow)
 *   mconn_input(c, p, n, out)   every command in the n bytes; replies
 *				 appended to out. MCONN_OPEN: go on;
 *				 MCONN_CLOSE: the MTA said QUIT, or broke
 *				 the protocol (logged): close the socket.
 *   mconn_free(c)
 *   milter_sessions()           sessions open now (connections that
 *				 negotiated and have not closed)
 *   milter_rules/cfg/store/dns  what new sessions use, for the control
 *				 socket (milter_rules: a new reference)
 *
 * Bounds (a connection never holds more): one packet (MPROTO_MAX_PACKET,
 * in the frame reader only while a packet is split across reads); the
 * macros mxgate reads, MCONN_MAX_MACRO bytes each; per message
 * MCONN_MAX_HEADERS header fields and MCONN_MAX_HEADER_BYTES bytes of
 * header -- beyond them the session sees no more fields and the message
 * gets 552 5.3.4 at its end (rule header-limit).
 */
#ifndef MXGATE_MILTER_H
#define MXGATE_MILTER_H

#include <stddef.h>

#include "buf.h"
#include "cfg.h"
#include "dns.h"
#include "ratelimit.h"
#include "rules.h"

#define MCONN_MAX_MACRO		1024		/* bytes of one macro value */
#define MCONN_MAX_HEADERS	2000		/* header fields per message */
#define MCONN_MAX_HEADER_BYTES	(1024 * 1024)	/* header bytes per message */

enum mconn_rc {
	MCONN_OPEN,
	MCONN_CLOSE
};

struct mconn;

void	milter_init(const struct cfg *, struct rules *);
void	milter_set_rules(struct rules *);
void	milter_set_dns(struct dns *);
void	milter_set_store(struct rl_store *);
unsigned milter_sessions(void);

/* for the control socket's handlers (ctl.h): what new sessions use */
struct rules *milter_rules(void);		/* a new reference: rules_unref() it */
const struct cfg *milter_cfg(void);
struct rl_store *milter_store(void);
struct dns *milter_dns(void);

struct mconn	*mconn_new(int);
enum mconn_rc	 mconn_input(struct mconn *, const unsigned char *, size_t,
		    struct buf *);
void		 mconn_free(struct mconn *);

#endif
