/*
 * authres -- the Authentication-Results header field (RFC 8601): writing
 * mxgate's own, and recognising existing ones that claim mxgate's
 * authserv-id (forgeries, to be deleted before ours is added).
 *
 * authres_add_*() build the value: "AUTHSERV-ID; method=result
 * ptype.property=value ...", one resinfo per added method, each on its
 * own folded line. A property value that is not a plain token or
 * address is written as a quoted string; control characters and bytes
 * outside printable ASCII never reach the header (dropped). A header with
 * no method says "AUTHSERV-ID; none".
 *
 * authres_claims() reads the authserv-id of an existing header value
 * (skipping comments and folding white space, a token or a quoted string,
 * one left open read as a token) and compares it with ours, ignoring case
 * and one trailing dot: 1 when it claims it, 0 otherwise. Nothing after
 * the id is read, so a value that does not parse after it is still ours
 * to delete; one whose id cannot be read (an open comment) is not.
 *
 * Pure functions on caller-owned buffers: thread-safe.
 */
#ifndef MXGATE_AUTHRES_H
#define MXGATE_AUTHRES_H

#include <stddef.h>

#include "buf.h"

#define AUTHRES_VALUE_MAX	256	/* bytes of one property value written */

struct authres {
	struct buf	b;
	unsigned	n;		/* resinfos written */
};

void	authres_begin(struct authres *, const char *);
void	authres_method(struct authres *, const char *, const char *);
void	authres_prop(struct authres *, const char *, const char *);
void	authres_reason(struct authres *, const char *);
char	*authres_end(struct authres *);
int	authres_claims(const char *, size_t, const char *);

#endif
