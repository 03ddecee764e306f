/*
 * dns_msg -- a bounded parser of DNS answer packets (RFC 1035), as
 * libunbound hands them over (ub_result->answer_packet).
 *
 * dns_msg_parse() reads the header, the one question and the answer
 * section, and keeps the records of the asked type that answer the
 * question: owned by the question name or, through CNAME records of the
 * answer section (at most 8 hops), by a name it aliases. Every read is
 * checked against the remaining length; names are at most 255 octets,
 * labels 63, compression pointers point backwards only (at most 64 of
 * them per name). A count larger than the records present, rdata that
 * runs past its record, a TXT string past its rdata: the packet is
 * malformed (-1, with a reason). At most DNS_MSG_MAX_RR records are kept;
 * a TXT record keeps at most DNS_TXT_MAX bytes (text_cut is then set).
 *
 * Pure functions: thread-safe. The answer owns its strings;
 * dns_answer_free() releases them (safe on a zeroed or failed answer).
 */
#ifndef MXGATE_DNS_MSG_H
#define MXGATE_DNS_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define DNS_T_A			1
#define DNS_T_NS		2
#define DNS_T_CNAME		5
#define DNS_T_PTR		12
#define DNS_T_MX		15
#define DNS_T_TXT		16
#define DNS_T_AAAA		28
#define DNS_MSG_MAX_RR		64	/* records kept per answer */
#define DNS_TXT_MAX		4096	/* bytes kept of one TXT record */
#define DNS_NAME_TEXT_MAX	1024	/* a name in text form, escapes included */

struct dns_rr {
	uint16_t	 type;
	uint32_t	 ttl;
	uint16_t	 pref;		/* MX preference */
	uint8_t		 addr[16];	/* A: the first 4 bytes; AAAA: 16 */
	char		*text;		/* TXT: strings joined (raw bytes, NUL-terminated);
					   PTR, MX, CNAME, NS: the name, no trailing dot */
	size_t		 textlen;
	int		 text_cut;	/* TXT cut at DNS_TXT_MAX */
};

struct dns_answer {
	int		 rcode;		/* 0 NOERROR, 2 SERVFAIL, 3 NXDOMAIN, ... */
	int		 tc;		/* the TC bit */
	char		 qname[DNS_NAME_TEXT_MAX];
	uint16_t	 qtype;
	struct dns_rr	*rr;
	size_t		 nrr;
};

int	dns_msg_parse(const uint8_t *, size_t, uint16_t, struct dns_answer *,
	    struct buf *);
void	dns_answer_free(struct dns_answer *);
int	dns_name_valid(const char *);

#endif
