/*
 * hash -- byte-string keyed map (see hash.h).
 *
 * The table size is a power of two and at most half full, so a probe
 * sequence always ends at an empty slot. A key is stored with its length
 * and hash; no deletion (lists and tables are rebuilt, never edited).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "xalloc.h"

struct slot {
	char		*key;		/* NULL: empty */
	size_t		 len;
	uint64_t	 h;
	void		*val;
};

struct hash {
	struct slot	*slot;
	size_t		 size;		/* a power of two */
	size_t		 count;
};

/* fnv -- FNV-1a over the key bytes */
static uint64_t
fnv(const void *key, size_t len)
{
	const unsigned char	*p = key;
	uint64_t		 h = 0xcbf29ce484222325ULL;
	size_t			 i;

	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* hash_new -- an empty map */
struct hash *
hash_new(void)
{
	struct hash	*h = xcalloc(1, sizeof(*h));

	h->size = 16;
	h->slot = xcalloc(h->size, sizeof(*h->slot));
	return h;
}

/* hash_free -- free the map, calling fn on every value when fn is set */
void
hash_free(struct hash *h, void (*fn)(void *))
{
	size_t	i;

	if (h == NULL)
		return;
	for (i = 0; i < h->size; i++) {
		if (h->slot[i].key == NULL)
			continue;
		free(h->slot[i].key);
		if (fn != NULL)
			fn(h->slot[i].val);
	}
	free(h->slot);
	free(h);
}

/* find -- the slot of key, or the empty slot where it would go */
static struct slot *
find(const struct hash *h, const void *key, size_t len, uint64_t hv)
{
	size_t		 i = (size_t)hv & (h->size - 1);
	struct slot	*s;

	for (;; i = (i + 1) & (h->size - 1)) {
		s = &h->slot[i];
		if (s->key == NULL || (s->h == hv && s->len == len &&
		    memcmp(s->key, key, len) == 0))
			return s;
	}
}

/* grow -- double the table */
static void
grow(struct hash *h)
{
	struct slot	*old = h->slot, *s;
	size_t		 n = h->size, i;

	h->size *= 2;
	h->slot = xcalloc(h->size, sizeof(*h->slot));
	for (i = 0; i < n; i++) {
		if (old[i].key == NULL)
			continue;
		s = find(h, old[i].key, old[i].len, old[i].h);
		*s = old[i];
	}
	free(old);
}

/* hash_get -- the value of key, or NULL */
void *
hash_get(const struct hash *h, const void *key, size_t len)
{
	struct slot	*s = find(h, key, len, fnv(key, len));

	return s->key != NULL ? s->val : NULL;
}

/* hash_put -- set key to val; returns the previous value (or NULL) */
void *
hash_put(struct hash *h, const void *key, size_t len, void *val)
{
	uint64_t	 hv = fnv(key, len);
	struct slot	*s = find(h, key, len, hv);
	void		*old;

	if (s->key != NULL) {
		old = s->val;
		s->val = val;
		return old;
	}
	if ((h->count + 1) * 2 > h->size) {
		grow(h);
		s = find(h, key, len, hv);
	}
	s->key = xmalloc(len + 1);
	memcpy(s->key, key, len);
	s->key[len] = '\0';
	s->len = len;
	s->h = hv;
	s->val = val;
	h->count++;
	return NULL;
}

/* hash_count -- the number of keys */
size_t
hash_count(const struct hash *h)
{
	return h->count;
}
