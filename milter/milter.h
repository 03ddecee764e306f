/*
 * milter -- the libmilter glue, and the only file that includes
 * <libmilter/mfapi.h>. Callbacks copy MTA input into the session, call
 * it, and map its verdict to SMFIS_* and a reply.
 *
 * milter_open() registers the filter and opens the socket (as root, before
 * the privilege drop); milter_main() runs libmilter's loop until
 * milter_stop(); milter_unlisten() removes a unix socket so that no new
 * connection comes in while those in flight finish. milter_set_rules() swaps the rule set atomically: new
 * connections take the new set, connections in flight keep theirs.
 */
#ifndef MXGATE_MILTER_H
#define MXGATE_MILTER_H

#include <sys/types.h>

#include "cfg.h"
#include "dns.h"
#include "ratelimit.h"
#include "rules.h"

int	milter_open(const struct cfg *, struct rules *,
	    uid_t, gid_t, struct buf *);
int	milter_main(void);
void	milter_stop(void);
int	milter_unlisten(void);
void	milter_set_rules(struct rules *);
void	milter_set_dns(struct dns *);
void	milter_set_store(struct rl_store *);
unsigned milter_active(void);
void	milter_version(struct buf *);

#endif
