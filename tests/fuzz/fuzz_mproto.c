/*
 * fuzz_mproto -- any byte stream from the MTA side through the milter
 * frame reader (fed in pieces of a size the first byte picks: 0 = all at
 * once) and every packet through the decoder. Checks what the codec
 * promises: packets within MPROTO_MAX_DATA, the reader's storage bounded,
 * every decoded string NUL-terminated inside its packet, the caps on
 * macros and arguments, errors always explained; headers, HELO names and
 * reply text that the encoders accept read back unchanged.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "mproto.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* inside -- s is a string that ends inside the packet */
static void
inside(const struct mproto_packet *p, const char *s)
{
	const unsigned char	*u = (const unsigned char *)s;

	if (u < p->data || u >= p->data + p->len ||
	    memchr(u, '\0', (size_t)(p->data + p->len - u)) == NULL)
		abort();
}

/* reread -- the one packet in w, decoded; it must be cmd */
static void
reread(const struct buf *w, int cmd, struct mproto_msg *m)
{
	struct mproto_reader	r;
	struct mproto_packet	p;
	struct buf		err = BUF_INIT;
	size_t			used;

	mproto_reader_init(&r);
	if (mproto_feed(&r, w->data, w->len, &used, &p, &err) != MPROTO_PACKET ||
	    used != w->len || p.cmd != cmd)
		abort();
	if (cmd == SMFIR_ADDHEADER) {
		/* a reply shares the header's layout: decode it as one */
		p.cmd = SMFIC_HEADER;
		if (mproto_decode(&p, m, &err) != 0)
			abort();
	} else if (p.len == 0 || p.data[p.len - 1] != '\0')
		abort();
	mproto_reader_free(&r);
	buf_free(&err);
}

/* encode -- what the encoders accept reads back unchanged */
static void
encode(const struct mproto_msg *m)
{
	struct buf		w = BUF_INIT, err = BUF_INIT;
	struct mproto_msg	back;
	const char		*line;

	if (m->cmd == SMFIC_HEADER &&
	    mproto_put_addheader(&w, m->u.header.name, m->u.header.value,
	    &err) == 0) {
		reread(&w, SMFIR_ADDHEADER, &back);
		if (strcmp(back.u.header.name, m->u.header.name) != 0 ||
		    strcmp(back.u.header.value, m->u.header.value) != 0)
			abort();
	} else if (w.len != 0)
		abort();
	if (m->cmd == SMFIC_HELO || m->cmd == SMFIC_UNKNOWN) {
		line = m->cmd == SMFIC_HELO ? m->u.helo : m->u.unknown;
		if (mproto_put_replycode(&w, "451", "4.7.1", &line, 1, &err) == 0)
			reread(&w, SMFIR_REPLYCODE, &back);
	}
	buf_free(&w);
	buf_free(&err);
}

/* check -- the decoded fields of p lie inside it and within the caps */
static void
check(const struct mproto_packet *p, const struct mproto_msg *m)
{
	size_t	i;

	switch (m->cmd) {
	case SMFIC_MACRO:
		if (m->u.macros.n > MPROTO_MAX_MACROS)
			abort();
		for (i = 0; i < m->u.macros.n; i++) {
			inside(p, m->u.macros.name[i]);
			inside(p, m->u.macros.value[i]);
			if (mproto_macro_get(&m->u.macros,
			    m->u.macros.name[i]) == NULL)
				abort();
		}
		break;
	case SMFIC_CONNECT:
		inside(p, m->u.conn.host);
		if (m->u.conn.family != SMFIA_UNKNOWN)
			inside(p, m->u.conn.addr);
		break;
	case SMFIC_MAIL: case SMFIC_RCPT:
		if (m->u.args.argc < 1 || m->u.args.argc > MPROTO_MAX_ARGS)
			abort();
		for (i = 0; i < m->u.args.argc; i++)
			inside(p, m->u.args.argv[i]);
		break;
	case SMFIC_HEADER:
		inside(p, m->u.header.name);
		inside(p, m->u.header.value);
		break;
	case SMFIC_HELO:
		inside(p, m->u.helo);
		break;
	case SMFIC_UNKNOWN:
		inside(p, m->u.unknown);
		break;
	}
	encode(m);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct mproto_reader	r;
	struct mproto_packet	p;
	struct mproto_msg	m;
	struct buf		err = BUF_INIT;
	size_t			step, off, n, used;
	enum mproto_rc		rc;

	if (len < 1)
		return 0;
	step = data[0] == 0 ? len : data[0];
	mproto_reader_init(&r);
	for (off = 1; off < len; ) {
		n = len - off < step ? len - off : step;
		rc = mproto_feed(&r, data + off, n, &used, &p, &err);
		if (used > n || r.pkt.cap > 2 * MPROTO_MAX_LEN + 1)
			abort();
		off += used;
		if (rc == MPROTO_ERROR) {
			if (err.len == 0)
				abort();
			break;
		}
		if (rc == MPROTO_MORE) {
			if (used != n)
				abort();
			continue;
		}
		if (p.len > MPROTO_MAX_DATA)
			abort();
		buf_reset(&err);
		if (mproto_decode(&p, &m, &err) == 0)
			check(&p, &m);
		else if (err.len == 0)
			abort();
		buf_reset(&err);
	}
	mproto_reader_free(&r);
	buf_free(&err);
	return 0;
}
