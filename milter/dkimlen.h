/*
 * dkimlen -- the length of a message body after DKIM canonicalization
 * (RFC 6376 section 3.4.3 simple, 3.4.4 relaxed), counted as the body
 * streams by, without keeping it. dkimv.c compares it with a signature's
 * l= to tell whether the signature covers the whole body.
 *
 * dkimlen_feed() takes body chunks as the MTA passes them (CRLF line
 * ends, a CRLF may be split between chunks); dkimlen_simple() and
 * dkimlen_relaxed() give the canonical length of what was fed so far.
 * A CR or LF that is not part of a CRLF is an ordinary byte.
 *
 * Pure functions on a caller-owned struct (zeroed to start): thread-safe.
 */
#ifndef MXGATE_DKIMLEN_H
#define MXGATE_DKIMLEN_H

#include <stddef.h>
#include <stdint.h>

struct dkimlen {
	int		cr;		/* the last byte fed was a CR */
	uint64_t	s_pos;		/* simple: bytes through the last line end */
	uint64_t	s_end;		/* simple: ... through the last non-empty line */
	uint64_t	s_line;		/* simple: bytes of the line being read */
	uint64_t	r_pos, r_end, r_line;	/* the same, relaxed */
	int		r_wsp;		/* relaxed: white space pending in the line */
};

void		dkimlen_feed(struct dkimlen *, const unsigned char *, size_t);
uint64_t	dkimlen_simple(const struct dkimlen *);
uint64_t	dkimlen_relaxed(const struct dkimlen *);

#endif
