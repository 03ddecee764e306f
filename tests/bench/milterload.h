/*
 * milterload -- a load generator that speaks the MTA side of the milter
 * protocol (version 6) the way Postfix's milter8 client does. A benchmark:
 * it prints figures and asserts nothing. See milterload.c for the options.
 *
 *   milterload.c       options, the message file, threads, figures
 *   milterload_sess.c  one MTA-to-milter connection: negotiation, the
 *			commands of each message, the milter's replies
 *
 * Each worker thread owns one connection at a time and its own counters
 * (struct ml_stats); the main thread adds them up after joining.
 */
#ifndef MILTERLOAD_H
#define MILTERLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "mproto.h"

#define ML_MAX_HEADERS	256	/* header fields of the message file */
#define ML_MAX_CODES	16	/* distinct reply codes counted */
#define ML_CODE_LEN	16	/* "451 4.7.1" and the like */

struct ml_header {
	char	*name;
	char	*value;		/* folded lines joined by "\n", leading space kept */
};

struct ml_cfg {
	const char		*sock;		/* unix:PATH or inet:PORT@HOST */
	unsigned		 conns;		/* concurrent connections */
	uint64_t		 total;		/* messages in all */
	unsigned		 per_conn;	/* messages per connection */
	uint32_t		 ip_first;	/* client addresses, host order */
	uint32_t		 ip_count;
	const char		*helo;
	const char		*from;
	const char		*rcpt;
	struct ml_header	 hdr[ML_MAX_HEADERS];
	size_t			 nhdr;
	struct buf		 body;		/* CRLF line ends, as Postfix sends it */
};

enum ml_decision {
	ML_D_CONTINUE,		/* continue or accept: the message goes on */
	ML_D_TEMPFAIL,
	ML_D_REJECT,
	ML_D_DISCARD,
	ML_D_ERROR,		/* I/O or protocol error, timeout */
	ML_D_N
};

struct ml_code {
	char		code[ML_CODE_LEN];	/* "451 4.7.1" or "tempfail" */
	uint64_t	n;
};

struct ml_stats {
	uint64_t	msgs;
	uint64_t	dec[ML_D_N];
	uint64_t	roundtrips;	/* commands that waited for a reply */
	uint64_t	commands;	/* packets sent */
	uint64_t	mods;		/* header/recipient modifications at EOM */
	struct ml_code	codes[ML_MAX_CODES];
	uint64_t	codes_other;	/* refusals beyond ML_MAX_CODES codes */
	struct mproto_optneg neg;	/* the last negotiation */
	char		err[160];	/* the first error */
};

/* one connection's state, owned by one worker thread */
struct ml_conn {
	int			 fd;
	struct mproto_reader	 rd;
	unsigned char		 in[MPROTO_MAX_PACKET];
	size_t			 inlen, inoff;
	struct buf		 out;
	struct buf		 err;
	uint32_t		 proto;		/* SMFIP_* the milter chose */
	char			*macros[MPROTO_M_NSTAGES];	/* names, spaces */
	int			 skip_body;	/* SMFIR_SKIP seen in this message */
	int			 fresh;		/* CONNECT and HELO not sent yet */
	int			 accepted;	/* ACCEPT at CONNECT/HELO: no more events */
	uint32_t		 ip;		/* the client address, host order */
	const struct ml_cfg	*cfg;
	struct ml_stats		*st;
};

enum ml_sess {
	ML_S_OK,		/* the connection can carry another message */
	ML_S_CLOSE		/* decided for the connection, or broken */
};

int	ml_conn_open(struct ml_conn *, const struct ml_cfg *, struct ml_stats *,
	    uint32_t);
enum ml_sess ml_message(struct ml_conn *, uint64_t, enum ml_decision *);
void	ml_conn_close(struct ml_conn *);

#endif
