/*
 * dkimv -- DKIM verification (RFC 6376, RFC 8463 Ed25519) with
 * libopendkim, its DNS questions answered by mxgate's one DNS engine.
 *
 * dkimv_init() sets up the one library handle at start-up: its DNS hooks
 * submit key questions to the engine (never libopendkim's own resolver),
 * a SERVFAIL or a timeout is a temporary error (never "no key"), and the
 * library never frees the engine (dkim_dns_set_close(lib, NULL)).
 *
 * One struct dkimv checks one message: headers (LF folds turned into
 * CRLF, as the library wants), end of headers, body chunks, end of
 * message. When the MTA cut the space after the colon (no
 * SMFIP_HDR_LEADSPC), one is put back, as the sender wrote it in nearly
 * every case. At end of headers every signature is read; those beyond
 * max_sigs are ignored (and counted), and the key records of the others
 * are asked for at once, in parallel, so that the library finds them
 * answered when it checks the signatures one after the other at end of
 * message. dkimv_body() says when no signature needs more of the body
 * (an unsigned message; never with l=, which is judged against the whole
 * body): the MTA may then skip the rest.
 *
 * Results per signature: pass; policy (verified, but its l= leaves part
 * of the body unsigned: text added after signing); fail (bad signature,
 * body hash mismatch, revoked key); temperror (the key could not be
 * fetched); permerror (no key record, a malformed signature or key, and
 * RFC 8301: rsa-sha1, whose key is never asked for, and an RSA key under
 * DKIMV_RSA_BITS_MIN bits). A key record over DKIMV_KEY_RECORD_MAX bytes
 * (libopendkim would cut it) or an RSA key over DKIMV_RSA_BITS_MAX bits
 * is refused as it comes in, before the library checks any signature
 * with it: permerror. The message's result is the best of them in the
 * order pass, temperror, fail, permerror, with policy counted as fail
 * (the dkim fact has no "policy"); "none" when unsigned.
 *
 * An internal failure (no library, a handle that cannot be made, the
 * library out of memory or failing inside) sets internal, with why, and
 * the result temperror: the caller applies on_internal_error; it is
 * never read as "none" or as a result of the message. It is logged.
 *
 * The library handle is shared by all threads; a struct dkimv is used by
 * one thread at a time.
 */
#ifndef MXGATE_DKIMV_H
#define MXGATE_DKIMV_H

#include <stddef.h>

#include "buf.h"
#include "dns.h"

#define DKIMV_MAX_SIGS		64	/* the most dkim_max_signatures can be */
#define DKIMV_DOMAIN_MAX	256
#define DKIMV_SELECTOR_MAX	64
#define DKIMV_REASON_MAX	80
#define DKIMV_RSA_BITS_MIN	1024	/* RFC 8301: smaller keys are permerror */
#define DKIMV_RSA_BITS_MAX	4096	/* larger keys are refused unchecked */
#define DKIMV_KEY_RECORD_MAX	1024	/* bytes of a key record libopendkim reads */

enum dkimv_result {
	DKIMV_NONE,
	DKIMV_PERMERROR,
	DKIMV_FAIL,
	DKIMV_POLICY,		/* verified, refused here (l= short of the body) */
	DKIMV_TEMPERROR,
	DKIMV_PASS		/* the order is "best of": higher is better */
};

struct dkimv_sig {
	enum dkimv_result result;
	char		  domain[DKIMV_DOMAIN_MAX];	/* d=, "" if missing */
	char		  selector[DKIMV_SELECTOR_MAX];	/* s= */
	char		  b[9];				/* the first 8 of b= (RFC 6008) */
	const char	 *alg;				/* "rsa-sha256", ... or NULL */
	char		  reason[DKIMV_REASON_MAX];	/* why not pass */
};

struct dkimv_outcome {
	enum dkimv_result result;	/* best of the signatures checked */
	int		  internal;	/* mxgate or the library failed: result
					   temperror, never trust it (below) */
	char		  internal_why[DKIMV_REASON_MAX];
	size_t		  nsigs;	/* signatures checked (at most max_sigs) */
	size_t		  ignored;	/* signatures beyond max_sigs */
	struct dkimv_sig  sig[DKIMV_MAX_SIGS];
};

struct dkimv;

int		 dkimv_init(struct dns *, unsigned, unsigned, struct buf *);
void		 dkimv_shutdown(void);
const char	*dkimv_version(void);

struct dkimv	*dkimv_new(const char *);
void		 dkimv_stage(struct dkimv *, struct deadline *);
void		 dkimv_header(struct dkimv *, const char *, const char *, int);
void		 dkimv_eoh(struct dkimv *);
int		 dkimv_body(struct dkimv *, const unsigned char *, size_t);
const struct dkimv_outcome *dkimv_eom(struct dkimv *, const char *);
void		 dkimv_free(struct dkimv *);
const char	*dkimv_result_name(enum dkimv_result);

#endif
