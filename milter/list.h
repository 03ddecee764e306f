/*
 * list -- a named set of IPs/CIDRs and address/domain patterns
 * (rules file: `list NAME { ITEM, ... }` or `list NAME file "PATH"`).
 *
 * Items and how they match (case-insensitive):
 *   192.0.2.1, 192.0.2.0/24, 2001:db8::/32   an IP value inside the network
 *   user@example.com                         that exact address
 *   @example.com                             an address at that domain, or that domain
 *   postmaster@*                             an address with that local part, any domain
 *   *.example.com                            a domain (or an address's domain) below example.com
 *   example.com                              that domain, or an address at that domain
 * A list is built once at load and then read-only: lookups are thread-safe.
 * Sizes are bounded: an item is at most 320 bytes, a file at most 1,000,000 items.
 */
#ifndef MXGATE_LIST_H
#define MXGATE_LIST_H

#include <stddef.h>

#include "diag.h"
#include "ipaddr.h"

struct list;

struct list *list_new(void);
void	list_free(struct list *);
int	list_add(struct list *, const char *, size_t, struct buf *);
int	list_load_file(struct list *, const char *, struct diag *);
size_t	list_count(const struct list *);
int	list_match_ip(const struct list *, const struct ipaddr *);
int	list_match_str(const struct list *, const char *);

#endif
