/*
 * dns_msg -- DNS answer packets, read with bounds (see dns_msg.h).
 *
 * Two passes over the answer section: the first checks every record's
 * framing and remembers where each starts; the second follows CNAMEs
 * from the question name and decodes the records of the asked type.
 * Names are decoded into uncompressed wire form (at most 255 octets)
 * and compared case-insensitively.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "dns_msg.h"
#include "xalloc.h"

#define NAME_WIRE_MAX	255
#define MAX_POINTERS	64
#define MAX_ALIASES	9	/* the question name and 8 CNAME hops */
#define CLASS_IN	1

struct wname {
	uint8_t	 b[NAME_WIRE_MAX];
	size_t	 len;
};

struct rec {
	size_t		 owner;		/* offset of the owner name */
	uint16_t	 type, class;
	uint32_t	 ttl;
	size_t		 rdata, rdlen;
};

/* get16 -- a big-endian 16-bit number at p */
static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/*
 * name_read -- the name at off into w (uncompressed wire form); *end is
 * the offset after it in place (after the first pointer). 0 or -1.
 */
static int
name_read(const uint8_t *pkt, size_t len, size_t off, struct wname *w,
    size_t *end)
{
	size_t		 pos = off, start;
	unsigned	 jumps = 0, n;
	int		 jumped = 0;

	w->len = 0;
	for (;;) {
		if (pos >= len)
			return -1;
		n = pkt[pos];
		if ((n & 0xC0) == 0xC0) {
			if (pos + 1 >= len || ++jumps > MAX_POINTERS)
				return -1;
			start = (size_t)((n & 0x3F) << 8 | pkt[pos + 1]);
			/* strictly backwards: no loops, no forward references */
			if (start >= pos)
				return -1;
			if (!jumped)
				*end = pos + 2;
			jumped = 1;
			pos = start;
			continue;
		}
		if ((n & 0xC0) != 0 || pos + 1 + n > len ||
		    w->len + 1 + n > NAME_WIRE_MAX)
			return -1;
		memcpy(w->b + w->len, pkt + pos, 1 + n);
		w->len += 1 + n;
		pos += 1 + n;
		if (n == 0)
			break;
	}
	if (!jumped)
		*end = pos;
	return 0;
}

/* name_eq -- two wire names, ASCII case-insensitively */
static int
name_eq(const struct wname *a, const struct wname *b)
{
	size_t	i;
	uint8_t	x, y;

	if (a->len != b->len)
		return 0;
	for (i = 0; i < a->len; i++) {
		x = a->b[i] >= 'A' && a->b[i] <= 'Z' ? a->b[i] + 32 : a->b[i];
		y = b->b[i] >= 'A' && b->b[i] <= 'Z' ? b->b[i] + 32 : b->b[i];
		if (x != y)
			return 0;
	}
	return 1;
}

/* name_text -- a wire name as text: "a.b" ("." for the root), odd bytes as \DDD */
static void
name_text(const struct wname *w, char *out, size_t outlen)
{
	struct buf	b = BUF_INIT;
	size_t		i = 0, j, n;
	uint8_t		c;

	while (i < w->len && (n = w->b[i]) != 0) {
		if (b.len > 0)
			buf_putc(&b, '.');
		for (j = 1; j <= n; j++) {
			c = w->b[i + j];
			if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			    (c >= '0' && c <= '9') || c == '-' || c == '_')
				buf_putc(&b, c);
			else
				buf_printf(&b, "\\%03u", c);
		}
		i += 1 + n;
	}
	(void)strlcpy(out, b.len > 0 ? buf_str(&b) : ".", outlen);
	buf_free(&b);
}

/* frame -- check and record every answer's framing; 0 or -1 */
static int
frame(const uint8_t *pkt, size_t len, size_t off, struct rec *r, size_t n,
    struct buf *err)
{
	struct wname	w;
	size_t		i, end;

	for (i = 0; i < n; i++) {
		r[i].owner = off;
		if (name_read(pkt, len, off, &w, &end) == -1) {
			buf_printf(err, "answer %zu: bad owner name", i + 1);
			return -1;
		}
		if (end + 10 > len) {
			buf_printf(err, "answer %zu: truncated (the count says "
			    "more records than the packet holds)", i + 1);
			return -1;
		}
		r[i].type = get16(pkt + end);
		r[i].class = get16(pkt + end + 2);
		r[i].ttl = (uint32_t)get16(pkt + end + 4) << 16 | get16(pkt + end + 6);
		r[i].rdlen = get16(pkt + end + 8);
		r[i].rdata = end + 10;
		if (r[i].rdata + r[i].rdlen > len) {
			buf_printf(err, "answer %zu: rdata runs past the end", i + 1);
			return -1;
		}
		off = r[i].rdata + r[i].rdlen;
	}
	return 0;
}

/* rdata_name -- a name that must end inside the record's rdata at from; 0 or -1 */
static int
rdata_name(const uint8_t *pkt, size_t len, const struct rec *r, size_t from,
    struct wname *w)
{
	size_t	end;

	if (name_read(pkt, len, from, w, &end) == -1 ||
	    end > r->rdata + r->rdlen)
		return -1;
	return 0;
}

/* txt -- the joined character-strings of a TXT record; 0 or -1 */
static int
txt(const uint8_t *pkt, const struct rec *r, struct dns_rr *out)
{
	struct buf	b = BUF_INIT;
	size_t		pos = r->rdata, end = r->rdata + r->rdlen, n, keep;

	if (r->rdlen == 0)
		return -1;
	while (pos < end) {
		n = pkt[pos];
		if (pos + 1 + n > end) {
			buf_free(&b);
			return -1;
		}
		keep = b.len + n > DNS_TXT_MAX ? DNS_TXT_MAX - b.len : n;
		if (keep < n)
			out->text_cut = 1;
		buf_append(&b, pkt + pos + 1, keep);
		pos += 1 + n;
	}
	out->textlen = b.len;
	out->text = b.data != NULL ? buf_release(&b) : xstrdup("");
	return 0;
}

/* decode -- the rdata of one kept record; 0 or -1 */
static int
decode(const uint8_t *pkt, size_t len, const struct rec *r, struct dns_rr *out)
{
	struct wname	w;
	char		t[DNS_NAME_TEXT_MAX];
	size_t		from = r->rdata;

	memset(out, 0, sizeof(*out));
	out->type = r->type;
	out->ttl = r->ttl;
	switch (r->type) {
	case DNS_T_A:
	case DNS_T_AAAA:
		if (r->rdlen != (r->type == DNS_T_A ? 4u : 16u))
			return -1;
		memcpy(out->addr, pkt + r->rdata, r->rdlen);
		return 0;
	case DNS_T_TXT:
		return txt(pkt, r, out);
	case DNS_T_MX:
		if (r->rdlen < 3)
			return -1;
		out->pref = get16(pkt + r->rdata);
		from += 2;
		/* FALLTHROUGH */
	case DNS_T_PTR:
	case DNS_T_CNAME:
	case DNS_T_NS:
		if (rdata_name(pkt, len, r, from, &w) == -1)
			return -1;
		name_text(&w, t, sizeof(t));
		out->text = xstrdup(t);
		out->textlen = strlen(t);
		return 0;
	default:
		return 0;	/* kept without decoding */
	}
}

/* aliases -- the question name and the names CNAMEs of the answer make it; 0 or -1 */
static int
aliases(const uint8_t *pkt, size_t len, const struct rec *r, size_t n,
    struct wname *names, size_t *nn)
{
	struct wname	owner, target;
	size_t		i, j, end;
	int		grew = 1;

	while (grew && *nn < MAX_ALIASES) {
		grew = 0;
		for (i = 0; i < n && *nn < MAX_ALIASES; i++) {
			if (r[i].type != DNS_T_CNAME || r[i].class != CLASS_IN)
				continue;
			(void)name_read(pkt, len, r[i].owner, &owner, &end);
			for (j = 0; j < *nn && !name_eq(&owner, &names[j]); j++)
				;
			if (j == *nn)
				continue;
			if (rdata_name(pkt, len, &r[i], r[i].rdata, &target) == -1)
				return -1;
			for (j = 0; j < *nn && !name_eq(&target, &names[j]); j++)
				;
			if (j == *nn) {
				names[(*nn)++] = target;
				grew = 1;
			}
		}
	}
	return 0;
}

/* keep -- decode the records of the asked type owned by one of names; 0 or -1 */
static int
keep(const uint8_t *pkt, size_t len, const struct rec *r, size_t n,
    const struct wname *names, size_t nn, struct dns_answer *out,
    struct buf *err)
{
	struct wname	owner;
	size_t		i, j, end;

	out->rr = xcalloc(DNS_MSG_MAX_RR, sizeof(*out->rr));
	for (i = 0; i < n && out->nrr < DNS_MSG_MAX_RR; i++) {
		if (r[i].type != out->qtype || r[i].class != CLASS_IN)
			continue;
		(void)name_read(pkt, len, r[i].owner, &owner, &end);
		for (j = 0; j < nn && !name_eq(&owner, &names[j]); j++)
			;
		if (j == nn)
			continue;
		if (decode(pkt, len, &r[i], &out->rr[out->nrr]) == -1) {
			buf_printf(err, "answer %zu: bad rdata for its type", i + 1);
			return -1;
		}
		out->nrr++;
	}
	return 0;
}

/*
 * dns_msg_parse -- the records of type qtype that answer the packet's
 * question; 0, or -1 when the packet is malformed (err says why).
 */
int
dns_msg_parse(const uint8_t *pkt, size_t len, uint16_t qtype,
    struct dns_answer *out, struct buf *err)
{
	struct wname	 names[MAX_ALIASES];
	struct rec	*r = NULL;
	size_t		 off, an, nn = 1;
	int		 rc = -1;

	memset(out, 0, sizeof(*out));
	out->qtype = qtype;
	if (len < 12) {
		buf_puts(err, "shorter than a DNS header");
		return -1;
	}
	out->rcode = pkt[3] & 0x0F;
	out->tc = (pkt[2] & 0x02) != 0;
	if (get16(pkt + 4) != 1) {
		buf_printf(err, "%u questions, not one", get16(pkt + 4));
		return -1;
	}
	if (name_read(pkt, len, 12, &names[0], &off) == -1 || off + 4 > len) {
		buf_puts(err, "bad question");
		return -1;
	}
	name_text(&names[0], out->qname, sizeof(out->qname));
	if (get16(pkt + off) != qtype) {
		buf_puts(err, "question is not the asked type");
		return -1;
	}
	off += 4;
	an = get16(pkt + 6);
	/* a record takes 11 octets at least: a larger count cannot be true */
	if (an * 11 > len - off) {
		buf_printf(err, "%zu answers cannot fit in %zu octets", an,
		    len - off);
		return -1;
	}
	r = xreallocarray(NULL, an + 1, sizeof(*r));
	if (frame(pkt, len, off, r, an, err) == -1 ||
	    aliases(pkt, len, r, an, names, &nn) == -1)
		goto done;
	rc = keep(pkt, len, r, an, names, nn, out, err);
done:
	if (rc == -1 && err->len == 0)
		buf_puts(err, "bad CNAME target");
	free(r);
	return rc;
}

/* dns_answer_free -- release the records' strings */
void
dns_answer_free(struct dns_answer *a)
{
	size_t	i;

	for (i = 0; a->rr != NULL && i < a->nrr; i++)
		free(a->rr[i].text);
	free(a->rr);
	a->rr = NULL;
	a->nrr = 0;
}

/* dns_name_valid -- labels of 1-63 octets, at most 253 in all (a final dot allowed) */
int
dns_name_valid(const char *name)
{
	size_t	len = strlen(name), label = 0, i;

	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0 || len > 253)
		return 0;
	for (i = 0; i < len; i++) {
		if (name[i] != '.') {
			if (++label > 63)
				return 0;
		} else if (label == 0)
			return 0;
		else
			label = 0;
	}
	return label > 0;
}
