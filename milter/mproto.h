/*
 * mproto -- the milter wire codec: protocol version 6 as Postfix (2.6 and
 * later) and Sendmail (8.14 and later) speak it. Pure code: no I/O, no
 * threads, no global state, so an event-driven engine can run one reader
 * per connection and parse every packet already read in one pass.
 *
 * Framing: a packet is a 4-byte big-endian length counting the command
 * byte and its data, the command byte, then the data. Constants are the
 * protocol's own, from <libmilter/mfdef.h>.
 *
 *   mproto_reader_init/_free    one frame reader per connection.
 *   mproto_feed(r, in, n, &used, &pkt, err)
 *	consumes bytes in any split; returns MPROTO_PACKET with one complete
 *	packet (after `used` bytes: feed the rest again), MPROTO_MORE when
 *	all n bytes were taken and no packet is complete, MPROTO_ERROR on a
 *	length of 0 or above MPROTO_MAX_LEN (the reader is then dead: close
 *	the connection). A packet that arrives whole is not copied: pkt
 *	points into `in`; otherwise into the reader. Either way pkt is valid
 *	until the next feed or until the caller's buffer changes.
 *	The reader grows with the bytes that arrive, never by the announced
 *	length: its storage stays under 2 * MPROTO_MAX_LEN (buf doubles).
 *   mproto_decode(pkt, &msg, err)
 *	checks one MTA command and fills msg with pointers into the packet
 *	(every string NUL-terminated inside it). 0 or -1 with err set.
 *   mproto_put_*(out, ...)
 *	append one filter reply (framed) to out; those that take text check
 *	it and return -1 (out unchanged, err set) when it would break the
 *	protocol. MPROTO_NOREPLY writes nothing.
 *   mproto_put_packet(out, cmd, data, n)
 *	frames any command (the MTA side uses it in tests and benchmarks);
 *	n above MPROTO_MAX_DATA is a caller bug and panics.
 *
 * Decoding rules (what the two MTAs send, and nothing else):
 *   - every string field must end with a NUL inside the packet;
 *   - bytes after the last field are an error (trailing garbage), except
 *     in OPTNEG, where libmilter too ignores what follows the 12 bytes;
 *   - EOH, DATA, ABORT, QUIT, QUIT_NC carry no data; BODYEOB may carry a
 *     last body chunk (neither MTA sends one, the protocol allows it);
 *   - CONNECT family 'U' ends the packet; '4', '6', 'L' carry a port and
 *     an address; any other family is an error;
 *   - MACRO: the command it is for must be a known SMFIC_* command, then
 *     name/value pairs, at most MPROTO_MAX_MACROS, names not empty;
 *   - MAIL/RCPT: 1 to MPROTO_MAX_ARGS strings, argv[0] the address;
 *   - an unknown command byte is an error.
 */
#ifndef MXGATE_MPROTO_H
#define MXGATE_MPROTO_H

#include <stddef.h>
#include <stdint.h>

#include <libmilter/mfdef.h>

#include "buf.h"

/*
 * The largest packet: the command byte plus MILTER_MAX_DATA_SIZE (65,535)
 * bytes of data. Postfix sends the body in chunks of MILTER_CHUNK_SIZE
 * (65,535) bytes, Sendmail in chunks of at most MILTER_MAX_DATA_SIZE, and
 * libmilter refuses more unless SMFIP_MDS_256K/1M are negotiated, which
 * mxgate never asks for. A header or macro block larger than this would
 * also break libmilter, so refusing it changes nothing for the MTA.
 */
#define MPROTO_MAX_DATA		MILTER_MAX_DATA_SIZE
#define MPROTO_MAX_LEN		(1 + MPROTO_MAX_DATA)	/* the length field */
#define MPROTO_MAX_PACKET	(MILTER_LEN_BYTES + MPROTO_MAX_LEN)
#define MPROTO_MAX_MACROS	64	/* name/value pairs in one MACRO packet */
#define MPROTO_MAX_ARGS		64	/* MAIL/RCPT address + ESMTP parameters */
#define MPROTO_MAX_REPLY_LINES	32	/* as libmilter's smfi_setmlreply */
#define MPROTO_NOREPLY		0	/* mproto_put_reply: write nothing */

/* macro stages of the OPTNEG symbol lists (libmilter's SMFIM_* values) */
enum mproto_stage {
	MPROTO_M_CONNECT = 0,
	MPROTO_M_HELO = 1,
	MPROTO_M_ENVFROM = 2,
	MPROTO_M_ENVRCPT = 3,
	MPROTO_M_DATA = 4,
	MPROTO_M_EOM = 5,
	MPROTO_M_EOH = 6,
	MPROTO_M_NSTAGES = 7
};

enum mproto_rc {
	MPROTO_ERROR = -1,
	MPROTO_MORE = 0,
	MPROTO_PACKET = 1
};

struct mproto_reader {
	unsigned char	 hdr[MILTER_LEN_BYTES];
	size_t		 hdrlen;	/* length bytes seen of this packet */
	size_t		 need;		/* the length field, once complete */
	struct buf	 pkt;		/* command + data of a split packet */
	int		 dead;		/* a framing error was reported */
};

struct mproto_packet {
	int			 cmd;	/* SMFIC_* (or SMFIR_* on the MTA side) */
	const unsigned char	*data;
	size_t			 len;
};

struct mproto_optneg {
	uint32_t	version;
	uint32_t	actions;	/* SMFIF_* */
	uint32_t	protocol;	/* SMFIP_* */
};

struct mproto_macros {
	int		 for_cmd;	/* the SMFIC_* these macros belong to */
	size_t		 n;
	const char	*name[MPROTO_MAX_MACROS];	/* as sent: "j", "{daemon_name}" */
	const char	*value[MPROTO_MAX_MACROS];
};

struct mproto_connect {
	const char	*host;
	int		 family;	/* SMFIA_* */
	uint16_t	 port;		/* host order; 0 for 'U' */
	const char	*addr;		/* "" for 'U' */
};

struct mproto_argv {
	size_t		 argc;		/* >= 1 */
	const char	*argv[MPROTO_MAX_ARGS + 1];	/* NULL after the last */
};

struct mproto_header {
	const char	*name;
	const char	*value;
};

struct mproto_body {
	const unsigned char	*data;
	size_t			 len;
};

struct mproto_msg {
	int	cmd;	/* SMFIC_* */
	union {
		struct mproto_optneg	optneg;
		struct mproto_macros	macros;
		struct mproto_connect	conn;
		const char		*helo;
		struct mproto_argv	args;		/* MAIL, RCPT */
		struct mproto_header	header;
		struct mproto_body	body;		/* BODY, BODYEOB */
		const char		*unknown;	/* the SMTP command line */
	} u;
};

void	 mproto_reader_init(struct mproto_reader *);
void	 mproto_reader_free(struct mproto_reader *);
enum mproto_rc mproto_feed(struct mproto_reader *, const void *, size_t,
	    size_t *, struct mproto_packet *, struct buf *);

int	 mproto_decode(const struct mproto_packet *, struct mproto_msg *,
	    struct buf *);
const char *mproto_macro_get(const struct mproto_macros *, const char *);

void	 mproto_put_packet(struct buf *, int, const void *, size_t);
int	 mproto_put_reply(struct buf *, int, struct buf *);
int	 mproto_put_replycode(struct buf *, const char *, const char *,
	    const char *const *, size_t, struct buf *);
int	 mproto_put_addheader(struct buf *, const char *, const char *,
	    struct buf *);
int	 mproto_put_insheader(struct buf *, uint32_t, const char *,
	    const char *, struct buf *);
int	 mproto_put_chgheader(struct buf *, uint32_t, const char *,
	    const char *, struct buf *);
int	 mproto_put_optneg(struct buf *, const struct mproto_optneg *,
	    const char *const [MPROTO_M_NSTAGES], struct buf *);

#endif
