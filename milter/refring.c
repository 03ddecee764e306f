/*
 * refring -- the ring of recent decisions behind `mxgatectl ref` (see
 * refring.h).
 *
 * The ring is an array of n pointers to records, each allocated with
 * its exact size (at most REFRING_REC_MAX bytes), so memory follows the
 * decisions actually recorded. The index is a chained hash: a bucket
 * holds the slot of its newest record, and each record the slot of the
 * next one in its bucket. Overwriting slot i first unlinks the old
 * record of slot i from its chain, so the index never names a record
 * that left the ring.
 */
#include "config.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "facts.h"
#include "num.h"
#include "refring.h"
#include "xalloc.h"

#define NONE		UINT32_MAX
#define NO_OFF		UINT16_MAX
#define SLOTS_MAX	((size_t)UINT32_MAX - 1)
#define FACTS_RESERVE	32	/* room kept for the "..." fact */

/* one decision: the values, NUL-terminated, in data[] */
struct rec {
	int64_t		time;
	uint32_t	usec;
	uint32_t	next;			/* next slot of the bucket, or NONE */
	uint16_t	off[RS_NFIELDS];	/* NO_OFF: absent */
	uint16_t	facts;			/* where the fact pairs start */
	uint16_t	nfacts;
	uint16_t	len;
	char		data[];
};

#define DATA_MAX	(REFRING_REC_MAX - sizeof(struct rec))

/* a record being built */
struct packer {
	char	d[DATA_MAX];
	size_t	len;
};

static pthread_mutex_t	 mu = PTHREAD_MUTEX_INITIALIZER;
static int		 inited;
static struct rec	**slot;
static size_t		 nslot, next_slot;
static uint32_t		*bucket;
static size_t		 nbucket;

/* hash -- FNV-1a of a reference */
static size_t
hash(const char *s)
{
	uint32_t	h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* drop_locked -- free the ring and its index */
static void
drop_locked(void)
{
	size_t	i;

	for (i = 0; i < nslot; i++)
		free(slot[i]);
	free(slot);
	free(bucket);
	slot = NULL;
	bucket = NULL;
	nslot = nbucket = next_slot = 0;
}

/* init_locked -- an empty ring of n slots (0: none) */
static void
init_locked(size_t n)
{
	size_t	i;

	drop_locked();
	inited = 1;
	if (n == 0)
		return;
	if (n > SLOTS_MAX)
		n = SLOTS_MAX;
	nslot = n;
	slot = xcalloc(n, sizeof(*slot));
	for (nbucket = 64; nbucket < n && nbucket < ((size_t)1 << 30);)
		nbucket <<= 1;
	bucket = xcalloc(nbucket, sizeof(*bucket));
	for (i = 0; i < nbucket; i++)
		bucket[i] = NONE;
}

/* refring_init -- keep the last n decisions from now on (0: none) */
void
refring_init(size_t n)
{
	pthread_mutex_lock(&mu);
	init_locked(n);
	pthread_mutex_unlock(&mu);
}

/* refring_deinit -- free everything; the next decision sets up the default */
void
refring_deinit(void)
{
	pthread_mutex_lock(&mu);
	drop_locked();
	inited = 0;
	pthread_mutex_unlock(&mu);
}

/* refring_size -- the number of decisions kept at most */
size_t
refring_size(void)
{
	size_t	n;

	pthread_mutex_lock(&mu);
	n = inited ? nslot : REFRING_DEFAULT;
	pthread_mutex_unlock(&mu);
	return n;
}

/*
 * add -- append v, cut to max bytes and the room left (then ending in
 * "..." on a character boundary); its offset in *off. 0, or -1 when
 * there is no room at all.
 */
static int
add(struct packer *p, const char *v, size_t max, size_t keep, uint16_t *off)
{
	size_t	room = DATA_MAX - p->len - keep, n = strlen(v), cut;

	if (p->len + keep >= DATA_MAX || room < 5)
		return -1;
	if (max > room - 1)
		max = room - 1;
	if (off != NULL)
		*off = (uint16_t)p->len;
	if (n <= max) {
		memcpy(p->d + p->len, v, n + 1);
		p->len += n + 1;
		return 0;
	}
	/* no half UTF-8 character before the ellipsis */
	for (cut = max - 3; cut > 0 && ((unsigned char)v[cut] & 0xC0) == 0x80;)
		cut--;
	memcpy(p->d + p->len, v, cut);
	memcpy(p->d + p->len + cut, "...", 4);
	p->len += cut + 4;
	return 0;
}

/* pack -- a record of s (bounded), or NULL without a reference */
static struct rec *
pack(const struct refshow *s)
{
	struct packer	*p;
	struct rec	*r, hd;
	size_t		 i, max, need;

	if (s->f[RS_REF] == NULL)
		return NULL;
	p = xmalloc(sizeof(*p));
	p->len = 0;
	memset(&hd, 0, sizeof(hd));
	for (i = 0; i < RS_NFIELDS; i++) {
		hd.off[i] = NO_OFF;
		max = i == RS_REPLY || i == RS_TEXT ? REFRING_LONG_MAX :
		    REFRING_VAL_MAX;
		if (s->f[i] != NULL)
			(void)add(p, s->f[i], max, 0, &hd.off[i]);
	}
	hd.facts = (uint16_t)p->len;
	for (i = 0; i < s->nfacts; i++) {
		/* the name whole (or cut to its share) and 5 bytes of value */
		need = strlen(s->fact_name[i]);
		need = (need < REFRING_VAL_MAX ? need : REFRING_VAL_MAX) + 7;
		if (p->len + FACTS_RESERVE + need > DATA_MAX ||
		    add(p, s->fact_name[i], REFRING_VAL_MAX, FACTS_RESERVE,
		    NULL) == -1)
			break;
		if (add(p, s->fact_value[i], REFRING_VAL_MAX, FACTS_RESERVE,
		    NULL) == -1)
			abort();	/* room was checked above */
		hd.nfacts++;
	}
	if (i < s->nfacts &&
	    add(p, "...", 4, 0, NULL) == 0 &&
	    add(p, "(more facts left out)", 32, 0, NULL) == 0)
		hd.nfacts++;
	hd.time = s->time;
	hd.usec = s->usec;
	hd.next = NONE;
	hd.len = (uint16_t)p->len;
	r = xmalloc(sizeof(*r) + p->len);
	memcpy(r, &hd, sizeof(hd));
	memcpy(r->data, p->d, p->len);
	free(p);
	return r;
}

/* unpack -- s pointing into record r */
static void
unpack(const struct rec *r, struct refshow *s)
{
	const char	*q;
	size_t		 i;

	memset(s, 0, sizeof(*s));
	s->has_time = 1;
	s->time = r->time;
	s->usec = r->usec;
	for (i = 0; i < RS_NFIELDS; i++)
		s->f[i] = r->off[i] == NO_OFF ? NULL : r->data + r->off[i];
	q = r->data + r->facts;
	for (i = 0; i < r->nfacts && i < REFSHOW_FACTS_MAX; i++) {
		s->fact_name[i] = q;
		q += strlen(q) + 1;
		s->fact_value[i] = q;
		q += strlen(q) + 1;
	}
	s->nfacts = i;
}

/* unlink_locked -- take slot i's record out of its bucket's chain */
static void
unlink_locked(size_t i)
{
	struct rec	*r = slot[i];
	uint32_t	*pp;

	pp = &bucket[hash(r->data + r->off[RS_REF]) & (nbucket - 1)];
	while (*pp != NONE) {
		if (*pp == i) {
			*pp = r->next;
			return;
		}
		pp = &slot[*pp]->next;
	}
}

/* refring_put -- record a decision (copied, cut to its bounds) */
void
refring_put(const struct refshow *s)
{
	struct rec	*r, *old = NULL;
	size_t		 i, b;

	if ((r = pack(s)) == NULL)
		return;
	pthread_mutex_lock(&mu);
	if (!inited)
		init_locked(REFRING_DEFAULT);
	if (nslot == 0) {
		pthread_mutex_unlock(&mu);
		free(r);
		return;
	}
	i = next_slot;
	if (slot[i] != NULL) {
		unlink_locked(i);
		old = slot[i];
	}
	slot[i] = r;
	b = hash(r->data + r->off[RS_REF]) & (nbucket - 1);
	r->next = bucket[b];
	bucket[b] = (uint32_t)i;
	next_slot = (i + 1) % nslot;
	pthread_mutex_unlock(&mu);
	free(old);
}

/* refring_get -- the decision with reference ref: its block, or NULL */
void *
refring_get(const char *ref, struct refshow *s)
{
	struct rec	*r, *copy = NULL;
	uint32_t	 j;

	pthread_mutex_lock(&mu);
	if (nbucket > 0) {
		for (j = bucket[hash(ref) & (nbucket - 1)]; j != NONE;
		    j = r->next) {
			r = slot[j];
			if (strcmp(r->data + r->off[RS_REF], ref) == 0) {
				copy = xmalloc(sizeof(*r) + r->len);
				memcpy(copy, r, sizeof(*r) + r->len);
				break;
			}
		}
	}
	pthread_mutex_unlock(&mu);
	if (copy != NULL)
		unpack(copy, s);
	return copy;
}

/* --- a decision as verdict.c logs it ------------------------------------ */

/* the facts of one decision being collected */
struct facts {
	struct refshow	*s;
	struct buf	 name[REFSHOW_FACTS_MAX];
	struct buf	 val[REFSHOW_FACTS_MAX];
};

/* fact_add -- one fact (name, value) */
static void
fact_add(struct facts *c, const char *name, size_t nlen, const char *val,
    size_t vlen)
{
	size_t	i = c->s->nfacts;

	if (i >= REFSHOW_FACTS_MAX)
		return;
	buf_append(&c->name[i], name, nlen);
	buf_append(&c->val[i], val, vlen);
	c->s->fact_name[i] = buf_str(&c->name[i]);
	c->s->fact_value[i] = buf_str(&c->val[i]);
	c->s->nfacts++;
}

/*
 * list_facts -- dnsbl.NAME and dnsbl.NAME.label of the lists that listed
 * the client, from the log's "LIST:LABELS(+W),..." (labels '/'-joined)
 */
static void
list_facts(struct facts *c, const char *dnsbl, int weight, int label)
{
	const char	*p = dnsbl, *e, *colon, *paren;
	struct buf	 n = BUF_INIT, v = BUF_INIT;
	size_t		 k;

	for (; p != NULL && *p != '\0'; p = *e == ',' ? e + 1 : NULL) {
		e = p + strcspn(p, ",");
		paren = memchr(p, '(', (size_t)(e - p));
		if (paren == NULL || e[-1] != ')')
			continue;	/* failed, error=...: in dnsbl.error */
		colon = memchr(p, ':', (size_t)(paren - p));
		buf_reset(&n);
		buf_puts(&n, "dnsbl.");
		buf_append(&n, p, (size_t)((colon ? colon : paren) - p));
		buf_reset(&v);
		buf_append(&v, paren[1] == '+' ? paren + 2 : paren + 1,
		    (size_t)(e - 1 - (paren[1] == '+' ? paren + 2 : paren + 1)));
		if (weight)
			fact_add(c, n.data, n.len, buf_str(&v), v.len);
		if (!label || colon == NULL)
			continue;
		buf_puts(&n, ".label");
		buf_reset(&v);
		for (k = 1; colon + k < paren; k++)
			buf_putc(&v, colon[k] == '/' ? ',' : colon[k]);
		fact_add(c, n.data, n.len, buf_str(&v), v.len);
	}
	buf_free(&n);
	buf_free(&v);
}

/* one_fact -- the value of fact f at the decision */
static void
one_fact(struct facts *c, enum fact f, const struct rules_match *m,
    const struct verdict_src *src)
{
	const char	*name = fact_info(f)->name;
	struct buf	 v = BUF_INIT;
	char		 tmp[32];

	switch (f) {
	case V_REF:
	case V_RULE:		/* fields of their own */
	case V_DNSBL_TXT:
	case V_DNSBL_LIST_TXT:	/* DNS texts: in the reply they made */
	case F_DNSBL_LIST:
	case F_DNSBL_LABEL:	/* per list: list_facts() */
		return;
	case V_RETRY_AFTER:
	case V_LIMIT_COUNT:
	case V_LIMIT_MAX:
		if (m->limit != NULL)
			buf_printf(&v, "%" PRIu64, f == V_RETRY_AFTER ?
			    m->limit_result.retry_after : f == V_LIMIT_COUNT ?
			    m->limit_result.count : m->limit_result.max);
		break;
	case V_LIMIT_NAME:
		if (m->limit != NULL)
			buf_puts(&v, m->limit->name);
		break;
	case V_LIMIT_WINDOW:
		if (m->limit != NULL && m->limit_result.window == 0)
			buf_puts(&v, "concurrent");
		else if (m->limit != NULL) {
			num_format_duration(m->limit_result.window, tmp,
			    sizeof(tmp));
			buf_puts(&v, tmp);
		}
		break;
	default:
		if (src->value != NULL)
			src->value(src->arg, (int)f, &v);
	}
	fact_add(c, name, strlen(name), buf_str(&v), v.len);
	buf_free(&v);
}

/* limit_field -- the log's limit=NAME:COUNT/MAX/WINDOW */
static void
limit_field(const struct rules_match *m, struct buf *out)
{
	char	win[32];

	if (m->limit_result.window == 0)
		(void)strlcpy(win, "concurrent", sizeof(win));
	else
		num_format_duration(m->limit_result.window, win, sizeof(win));
	buf_printf(out, "%s:%" PRIu64 "/%" PRIu64 "/%s", m->limit->name,
	    m->limit_result.count, m->limit_result.max, win);
}

/* nonempty -- s, or NULL when it is empty */
static const char *
nonempty(const char *s)
{
	return s != NULL && *s != '\0' ? s : NULL;
}

/*
 * refring_decision -- record a decision with the fields of its log line
 * (verdict.c's log_decision) and the facts the rule used
 */
void
refring_decision(const struct rules_match *m, const struct verdict_src *src,
    const char *action, const char *ref, const struct reply *reply,
    const char *text)
{
	struct refshow	 s;
	struct facts	*c;
	struct buf	 rb = BUF_INIT, lb = BUF_INIT;
	struct timespec	 ts;
	size_t		 i;

	if (ref == NULL || refring_size() == 0)
		return;
	memset(&s, 0, sizeof(s));
	(void)clock_gettime(CLOCK_REALTIME, &ts);
	s.has_time = 1;
	s.time = (int64_t)ts.tv_sec;
	s.usec = (uint32_t)(ts.tv_nsec / 1000);
	s.f[RS_REF] = ref;
	s.f[RS_QID] = src->queue_id ? src->queue_id : "NOQUEUE";
	s.f[RS_STAGE] = stage_name(m->stage);
	s.f[RS_RULE] = m->rule;
	s.f[RS_ACTION] = action;
	if (reply != NULL) {
		reply_format(reply, &rb);
		s.f[RS_REPLY] = buf_str(&rb);
	}
	s.f[RS_TEXT] = text;
	s.f[RS_CLIENT_NAME] = src->client_name ? src->client_name : "unknown";
	s.f[RS_CLIENT_IP] = src->client_ip ? src->client_ip : "";
	s.f[RS_HELO] = src->helo;
	s.f[RS_FROM] = src->mail_from;
	s.f[RS_RCPT] = src->rcpt;
	s.f[RS_SASL] = nonempty(src->sasl_user);
	s.f[RS_SPF] = src->spf;
	s.f[RS_DKIM] = src->dkim;
	s.f[RS_DMARC] = src->dmarc;
	s.f[RS_DNSBL] = nonempty(src->dnsbl);
	if (m->limit != NULL) {
		limit_field(m, &lb);
		s.f[RS_LIMIT] = buf_str(&lb);
	}
	c = xcalloc(1, sizeof(*c));
	c->s = &s;
	for (i = 0; m->used != NULL && i < F_COUNT; i++)
		if (m->used[i])
			one_fact(c, (enum fact)i, m, src);
	if (m->used != NULL && s.f[RS_DNSBL] != NULL)
		list_facts(c, s.f[RS_DNSBL], m->used[F_DNSBL_LIST],
		    m->used[F_DNSBL_LABEL]);
	refring_put(&s);
	for (i = 0; i < REFSHOW_FACTS_MAX; i++) {
		buf_free(&c->name[i]);
		buf_free(&c->val[i]);
	}
	free(c);
	buf_free(&rb);
	buf_free(&lb);
}
