/*
 * dkimkey -- DKIM key records mxgate refuses before libopendkim checks a
 * signature with them (RFC 8301), read from the DNS answer as it comes
 * in: a record longer than DKIMV_KEY_RECORD_MAX bytes (libopendkim reads
 * no more, and would cut it), an RSA key under DKIMV_RSA_BITS_MIN or
 * over DKIMV_RSA_BITS_MAX bits. Only the key's size is read (OpenSSL
 * decodes the public key); no signature is checked here.
 *
 * dkimkey_refused() returns 1 and why for a refused answer, 0 for one
 * the library may have (also one it will find broken itself).
 *
 * Pure functions: thread-safe.
 */
#ifndef MXGATE_DKIMKEY_H
#define MXGATE_DKIMKEY_H

#include <stddef.h>

#include "dns_msg.h"

int	dkimkey_refused(const struct dns_answer *, char *, size_t);

#endif
