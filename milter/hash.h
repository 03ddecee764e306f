/*
 * hash -- a map from byte-string keys to pointers (open addressing,
 * linear probing, FNV-1a), for lists and tables. Keys are copied; values
 * are the caller's. Not thread-safe: build it, then only read it (reads
 * of an unchanging map may run in parallel).
 */
#ifndef MXGATE_HASH_H
#define MXGATE_HASH_H

#include <stddef.h>

struct hash;

struct hash *hash_new(void);
void	 hash_free(struct hash *, void (*)(void *));
void	*hash_get(const struct hash *, const void *, size_t);
void	*hash_put(struct hash *, const void *, size_t, void *);
size_t	 hash_count(const struct hash *);

#endif
