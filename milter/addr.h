/*
 * addr -- RFC 5322 address lists, as in a From: header field: the author
 * domains DMARC (RFC 9989) and the from_domain fact are computed from.
 *
 * addr_list_parse() reads an address-list by the RFC 5322 grammar:
 * mailboxes (`local@domain`, `Name <local@domain>`), groups
 * (`name: a@b, c@d;`), comments (nested, with quoted pairs), quoted
 * strings (a quoted `<x@y>` or `@` inside a display name or local part is
 * text, not an address), folding whitespace, domain literals, and
 * `<>`. Every mailbox is counted; the domains of the first
 * ADDR_MAX_DOMAINS are kept, lower-cased. Anything that is not an
 * address-list (`a@b, user2`, an unclosed quote or comment, a phrase
 * with no address) is refused (-1) with a reason: callers classify it as
 * an unparseable From, never as a pass. Comments nest at most
 * ADDR_MAX_NEST deep; the input is read once, left to right.
 *
 * Pure functions: thread-safe.
 */
#ifndef MXGATE_ADDR_H
#define MXGATE_ADDR_H

#include <stddef.h>

#include "buf.h"

#define ADDR_MAX_DOMAINS	8
#define ADDR_DOMAIN_MAX		255
#define ADDR_MAX_NEST		32

struct addr_list {
	size_t	mailboxes;	/* every mailbox, <> included */
	size_t	ndomains;	/* domains kept (mailboxes with one, at most ADDR_MAX_DOMAINS) */
	size_t	no_domain;	/* mailboxes without a usable domain (<>, a domain literal) */
	char	domain[ADDR_MAX_DOMAINS][ADDR_DOMAIN_MAX + 1];
};

int	addr_list_parse(const char *, size_t, struct addr_list *, struct buf *);

#endif
