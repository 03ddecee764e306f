/*
 * mproto -- the milter wire codec (see mproto.h for the contract, the
 * limits and the decoding rules). Every read checks the bytes that remain
 * first; nothing is allocated by what a peer announces.
 */
#include "config.h"

#include <string.h>

/* SMFIF_* and SMFIM_* live here; no libmilter code is used */
#include <libmilter/mfapi.h>

#include "buf.h"
#include "log.h"
#include "mproto.h"

_Static_assert(MPROTO_M_CONNECT == SMFIM_CONNECT &&
    MPROTO_M_HELO == SMFIM_HELO && MPROTO_M_ENVFROM == SMFIM_ENVFROM && MPROTO_M_ENVRCPT == SMFIM_ENVRCPT &&
    MPROTO_M_DATA == SMFIM_DATA && MPROTO_M_EOM == SMFIM_EOM &&
    MPROTO_M_EOH == SMFIM_EOH && MPROTO_M_NSTAGES == SMFIM_LAST + 1,
    "mproto stages are libmilter's SMFIM_* values");

/* a cursor over one packet's data */
struct cur {
	const unsigned char	*p;
	size_t			 left;
};

static int	cur_str(struct cur *, const char **);
static int	cur_u32(struct cur *, uint32_t *);
static int	cur_end(const struct cur *, const char *, struct buf *);
static int	dec_optneg(struct cur *, struct mproto_msg *, struct buf *);
static int	dec_macros(struct cur *, struct mproto_msg *, struct buf *);
static int	dec_connect(struct cur *, struct mproto_msg *, struct buf *);
static int	dec_argv(struct cur *, struct mproto_msg *, struct buf *);
static int	dec_header(struct cur *, struct mproto_msg *, struct buf *);
static int	dec_onestr(struct cur *, const char **, const char *,
		    struct buf *);
static int	known_cmd(int);
static const char *bare(const char *, size_t *);
static void	put_u32(struct buf *, uint32_t);
static int	hdr_check(const char *, const char *, size_t, struct buf *);
static int	text_check(const char *, struct buf *);
static int	code_check(const char *, const char *, struct buf *);

/* mproto_reader_init -- an empty reader at a packet boundary */
void
mproto_reader_init(struct mproto_reader *r)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->pkt);
}

/* mproto_reader_free -- release the reader's storage */
void
mproto_reader_free(struct mproto_reader *r)
{
	buf_free(&r->pkt);
	mproto_reader_init(r);
}

/* frame_len -- the length field of r->hdr, checked against the limits */
static int
frame_len(struct mproto_reader *r, struct buf *err)
{
	uint32_t	n;

	n = (uint32_t)r->hdr[0] << 24 | (uint32_t)r->hdr[1] << 16 |
	    (uint32_t)r->hdr[2] << 8 | r->hdr[3];
	if (n == 0 || n > MPROTO_MAX_LEN) {
		buf_printf(err, "milter packet length %lu outside 1..%d",
		    (unsigned long)n, MPROTO_MAX_LEN);
		r->dead = 1;
		return -1;
	}
	r->need = n;
	return 0;
}

/* emit -- hand out a complete packet at d (command byte first) */
static enum mproto_rc
emit(struct mproto_reader *r, const unsigned char *d, struct mproto_packet *pkt)
{
	pkt->cmd = d[0];
	pkt->data = d + 1;
	pkt->len = r->need - 1;
	r->hdrlen = 0;
	r->need = 0;
	return MPROTO_PACKET;
}

/*
 * mproto_feed -- take bytes from in until one packet is complete. A packet
 * that lies whole in `in` is handed out in place; a split one is gathered
 * in r->pkt, which is reset at the next call.
 */
enum mproto_rc
mproto_feed(struct mproto_reader *r, const void *in, size_t n, size_t *used,
    struct mproto_packet *pkt, struct buf *err)
{
	const unsigned char	*p = in;
	size_t			 off = 0, take;

	*used = 0;
	if (r->dead) {
		buf_puts(err, "milter reader used after a framing error");
		return MPROTO_ERROR;
	}
	if (r->hdrlen == 0)
		buf_reset(&r->pkt);
	while (r->hdrlen < MILTER_LEN_BYTES && off < n)
		r->hdr[r->hdrlen++] = p[off++];
	*used = off;
	if (r->hdrlen < MILTER_LEN_BYTES)
		return MPROTO_MORE;
	if (r->need == 0 && frame_len(r, err) == -1)
		return MPROTO_ERROR;
	if (r->pkt.len == 0 && n - off >= r->need) {
		*used = off + r->need;
		return emit(r, p + off, pkt);
	}
	take = r->need - r->pkt.len;
	if (take > n - off)
		take = n - off;
	if (take > 0)
		buf_append(&r->pkt, p + off, take);
	*used = off + take;
	if (r->pkt.len < r->need)
		return MPROTO_MORE;
	return emit(r, (const unsigned char *)r->pkt.data, pkt);
}

/* cur_str -- a NUL-terminated string at the cursor; -1 without its NUL */
static int
cur_str(struct cur *c, const char **s)
{
	const unsigned char	*nul;

	if (c->left == 0 || (nul = memchr(c->p, '\0', c->left)) == NULL)
		return -1;
	*s = (const char *)c->p;
	c->left -= (size_t)(nul - c->p) + 1;
	c->p = nul + 1;
	return 0;
}

/* cur_u32 -- a big-endian 32-bit number at the cursor */
static int
cur_u32(struct cur *c, uint32_t *v)
{
	if (c->left < 4)
		return -1;
	*v = (uint32_t)c->p[0] << 24 | (uint32_t)c->p[1] << 16 |
	    (uint32_t)c->p[2] << 8 | c->p[3];
	c->p += 4;
	c->left -= 4;
	return 0;
}

/* cur_end -- refuse bytes after the last field of `what` */
static int
cur_end(const struct cur *c, const char *what, struct buf *err)
{
	if (c->left == 0)
		return 0;
	buf_printf(err, "milter %s: %zu bytes after the last field", what,
	    c->left);
	return -1;
}

/* known_cmd -- is c a command the MTA may send? */
static int
known_cmd(int c)
{
	switch (c) {
	case SMFIC_ABORT: case SMFIC_BODY: case SMFIC_CONNECT:
	case SMFIC_MACRO: case SMFIC_BODYEOB: case SMFIC_HELO:
	case SMFIC_QUIT_NC: case SMFIC_HEADER: case SMFIC_MAIL:
	case SMFIC_EOH: case SMFIC_OPTNEG: case SMFIC_QUIT:
	case SMFIC_RCPT: case SMFIC_DATA: case SMFIC_UNKNOWN:
		return 1;
	}
	return 0;
}

/* dec_optneg -- version, actions, protocol; libmilter ignores the rest */
static int
dec_optneg(struct cur *c, struct mproto_msg *m, struct buf *err)
{
	if (cur_u32(c, &m->u.optneg.version) == -1 ||
	    cur_u32(c, &m->u.optneg.actions) == -1 ||
	    cur_u32(c, &m->u.optneg.protocol) == -1) {
		buf_printf(err, "milter OPTNEG: %d bytes needed",
		    MILTER_OPTLEN);
		return -1;
	}
	return 0;
}

/* dec_macros -- the command they are for, then name/value pairs */
static int
dec_macros(struct cur *c, struct mproto_msg *m, struct buf *err)
{
	struct mproto_macros	*mm = &m->u.macros;

	if (c->left == 0 || !known_cmd(c->p[0])) {
		buf_puts(err, "milter MACRO: no or unknown command");
		return -1;
	}
	mm->for_cmd = c->p[0];
	c->p++;
	c->left--;
	mm->n = 0;
	while (c->left > 0) {
		if (mm->n == MPROTO_MAX_MACROS) {
			buf_printf(err, "milter MACRO: more than %d macros",
			    MPROTO_MAX_MACROS);
			return -1;
		}
		if (cur_str(c, &mm->name[mm->n]) == -1 ||
		    cur_str(c, &mm->value[mm->n]) == -1) {
			buf_puts(err,
			    "milter MACRO: name or value without NUL");
			return -1;
		}
		if (mm->name[mm->n][0] == '\0') {
			buf_puts(err, "milter MACRO: empty name");
			return -1;
		}
		mm->n++;
	}
	return 0;
}

/* dec_connect -- host, family; then port and address unless 'U' */
static int
dec_connect(struct cur *c, struct mproto_msg *m, struct buf *err)
{
	struct mproto_connect	*cn = &m->u.conn;

	if (cur_str(c, &cn->host) == -1 || c->left == 0) {
		buf_puts(err, "milter CONNECT: truncated host or family");
		return -1;
	}
	cn->family = *c->p++;
	c->left--;
	cn->port = 0;
	cn->addr = "";
	switch (cn->family) {
	case SMFIA_UNKNOWN:
		return cur_end(c, "CONNECT", err);
	case SMFIA_INET: case SMFIA_INET6: case SMFIA_UNIX:
		break;
	default:
		buf_printf(err, "milter CONNECT: bad family 0x%02x",
		    (unsigned)cn->family & 0xff);
		return -1;
	}
	if (c->left < 2) {
		buf_puts(err, "milter CONNECT: truncated port");
		return -1;
	}
	cn->port = (uint16_t)(c->p[0] << 8 | c->p[1]);
	c->p += 2;
	c->left -= 2;
	if (cur_str(c, &cn->addr) == -1) {
		buf_puts(err, "milter CONNECT: address without NUL");
		return -1;
	}
	return cur_end(c, "CONNECT", err);
}

/* dec_argv -- MAIL/RCPT: the address, then ESMTP parameters */
static int
dec_argv(struct cur *c, struct mproto_msg *m, struct buf *err)
{
	struct mproto_argv	*a = &m->u.args;

	a->argc = 0;
	if (c->left == 0) {
		buf_puts(err, "milter MAIL/RCPT: no address");
		return -1;
	}
	while (c->left > 0) {
		if (a->argc == MPROTO_MAX_ARGS) {
			buf_printf(err, "milter MAIL/RCPT: more than %d "
			    "arguments", MPROTO_MAX_ARGS);
			return -1;
		}
		if (cur_str(c, &a->argv[a->argc]) == -1) {
			buf_puts(err, "milter MAIL/RCPT: argument without NUL");
			return -1;
		}
		a->argc++;
	}
	a->argv[a->argc] = NULL;
	return 0;
}

/* dec_header -- name NUL value NUL, the name not empty */
static int
dec_header(struct cur *c, struct mproto_msg *m, struct buf *err)
{
	if (cur_str(c, &m->u.header.name) == -1 ||
	    cur_str(c, &m->u.header.value) == -1) {
		buf_puts(err, "milter HEADER: name or value without NUL");
		return -1;
	}
	if (m->u.header.name[0] == '\0') {
		buf_puts(err, "milter HEADER: empty name");
		return -1;
	}
	return cur_end(c, "HEADER", err);
}

/* dec_onestr -- exactly one NUL-terminated string (HELO, UNKNOWN) */
static int
dec_onestr(struct cur *c, const char **s, const char *what, struct buf *err)
{
	if (cur_str(c, s) == -1) {
		buf_printf(err, "milter %s: string without NUL", what);
		return -1;
	}
	return cur_end(c, what, err);
}

/* mproto_decode -- check one MTA command and point msg into its data */
int
mproto_decode(const struct mproto_packet *pkt, struct mproto_msg *m,
    struct buf *err)
{
	struct cur	c = { pkt->data, pkt->len };

	memset(m, 0, sizeof(*m));
	m->cmd = pkt->cmd;
	switch (pkt->cmd) {
	case SMFIC_OPTNEG:
		return dec_optneg(&c, m, err);
	case SMFIC_MACRO:
		return dec_macros(&c, m, err);
	case SMFIC_CONNECT:
		return dec_connect(&c, m, err);
	case SMFIC_HELO:
		return dec_onestr(&c, &m->u.helo, "HELO", err);
	case SMFIC_MAIL: case SMFIC_RCPT:
		return dec_argv(&c, m, err);
	case SMFIC_HEADER:
		return dec_header(&c, m, err);
	case SMFIC_BODY: case SMFIC_BODYEOB:
		m->u.body.data = pkt->data;
		m->u.body.len = pkt->len;
		return 0;
	case SMFIC_UNKNOWN:
		return dec_onestr(&c, &m->u.unknown, "UNKNOWN", err);
	case SMFIC_EOH: case SMFIC_DATA: case SMFIC_ABORT:
	case SMFIC_QUIT: case SMFIC_QUIT_NC:
		return cur_end(&c, "command", err);
	}
	buf_printf(err, "milter: unknown command 0x%02x",
	    (unsigned)pkt->cmd & 0xff);
	return -1;
}

/* bare -- a macro name without the braces of a long name: "{x}" -> "x" */
static const char *
bare(const char *name, size_t *len)
{
	size_t	n = strlen(name);

	if (n >= 2 && name[0] == '{' && name[n - 1] == '}') {
		*len = n - 2;
		return name + 1;
	}
	*len = n;
	return name;
}

/*
 * mproto_macro_get -- the value of a macro by name, with or without the
 * braces that long names carry on the wire ("i" or "{client_addr}").
 */
const char *
mproto_macro_get(const struct mproto_macros *mm, const char *name)
{
	const char	*want, *s;
	size_t		 i, wl, sl;

	want = bare(name, &wl);
	for (i = 0; i < mm->n; i++) {
		s = bare(mm->name[i], &sl);
		if (sl == wl && memcmp(s, want, wl) == 0)
			return mm->value[i];
	}
	return NULL;
}

/* put_u32 -- a big-endian 32-bit number */
static void
put_u32(struct buf *out, uint32_t v)
{
	unsigned char	b[4];

	b[0] = (unsigned char)(v >> 24);
	b[1] = (unsigned char)(v >> 16);
	b[2] = (unsigned char)(v >> 8);
	b[3] = (unsigned char)v;
	buf_append(out, b, sizeof(b));
}

/* mproto_put_packet -- frame cmd and n bytes of data; more is a caller bug */
void
mproto_put_packet(struct buf *out, int cmd, const void *data, size_t n)
{
	if (n > MPROTO_MAX_DATA)
		log_panic("mproto_put_packet: %zu bytes of data", n);
	put_u32(out, (uint32_t)(n + 1));
	buf_putc(out, cmd);
	if (n > 0)
		buf_append(out, data, n);
}

/* mproto_put_reply -- a reply without data; MPROTO_NOREPLY writes nothing */
int
mproto_put_reply(struct buf *out, int code, struct buf *err)
{
	switch (code) {
	case MPROTO_NOREPLY:
		return 0;
	case SMFIR_CONTINUE: case SMFIR_TEMPFAIL: case SMFIR_REJECT:
	case SMFIR_ACCEPT: case SMFIR_DISCARD: case SMFIR_PROGRESS:
	case SMFIR_SKIP: case SMFIR_SHUTDOWN:
		mproto_put_packet(out, code, NULL, 0);
		return 0;
	}
	buf_printf(err, "milter reply 0x%02x takes data or is unknown",
	    (unsigned)code & 0xff);
	return -1;
}

/* text_check -- reply text: printable ASCII and tab, nothing else */
static int
text_check(const char *s, struct buf *err)
{
	const unsigned char	*p;

	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if ((*p < 0x20 && *p != '\t') || *p > 0x7e) {
			buf_printf(err, "reply text: byte 0x%02x", *p);
			return -1;
		}
	return 0;
}

/*
 * code_check -- "4xx"/"5xx" and an enhanced code "c.d.e" with the same
 * class: Postfix refuses a reply whose fifth byte is not the code's first.
 */
static int
code_check(const char *code, const char *xcode, struct buf *err)
{
	size_t	i, dots = 0, run = 0;

	if (strlen(code) != 3 || (code[0] != '4' && code[0] != '5') ||
	    code[1] < '0' || code[1] > '9' || code[2] < '0' || code[2] > '9') {
		buf_printf(err, "reply code \"%s\": not 4xx or 5xx", code);
		return -1;
	}
	if (xcode[0] != code[0] || xcode[1] != '.')
		goto bad;
	for (i = 1; xcode[i] != '\0'; i++) {
		if (xcode[i] == '.') {
			if (run == 0 && i > 1)
				goto bad;
			dots++;
			run = 0;
		} else if (xcode[i] >= '0' && xcode[i] <= '9' && run < 3)
			run++;
		else
			goto bad;
	}
	if (dots == 2 && run > 0)
		return 0;
bad:
	buf_printf(err, "enhanced code \"%s\" does not fit reply code %s",
	    xcode, code);
	return -1;
}

/*
 * mproto_put_replycode -- a (multi-line) SMTP reply: "451-4.7.1 a\r\n451
 * 4.7.1 b" NUL-terminated, as smfi_setmlreply sends it. The lines go out
 * as given: their '%' must already be doubled (reply.c does it), because
 * Sendmail uses the text as a format string and Postfix undoes the escape.
 */
int
mproto_put_replycode(struct buf *out, const char *code, const char *xcode,
    const char *const *lines, size_t n, struct buf *err)
{
	struct buf	t = BUF_INIT;
	size_t		i;

	if (n == 0 || n > MPROTO_MAX_REPLY_LINES) {
		buf_printf(err, "reply: %zu lines, 1..%d allowed", n,
		    MPROTO_MAX_REPLY_LINES);
		return -1;
	}
	if (xcode == NULL || code_check(code, xcode, err) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		if (text_check(lines[i], err) == -1)
			goto fail;
		buf_printf(&t, "%s%c%s ", code, i + 1 < n ? '-' : ' ', xcode);
		buf_puts(&t, lines[i]);
		if (i + 1 < n)
			buf_puts(&t, "\r\n");
	}
	if (t.len + 1 > MPROTO_MAX_DATA) {
		buf_printf(err, "reply: %zu bytes, more than a packet", t.len);
		goto fail;
	}
	mproto_put_packet(out, SMFIR_REPLYCODE, t.data, t.len + 1);
	buf_free(&t);
	return 0;
fail:
	buf_free(&t);
	return -1;
}

/*
 * hdr_check -- a header name of printable ASCII without ':' or space, a
 * value without NUL, CR or bare LF (a LF must fold: space or tab after
 * it), both fitting one packet with `extra` bytes besides.
 */
static int
hdr_check(const char *name, const char *value, size_t extra, struct buf *err)
{
	const unsigned char	*p;

	if (name[0] == '\0') {
		buf_puts(err, "header: empty name");
		return -1;
	}
	for (p = (const unsigned char *)name; *p != '\0'; p++)
		if (*p <= 0x20 || *p > 0x7e || *p == ':') {
			buf_printf(err, "header name: byte 0x%02x", *p);
			return -1;
		}
	for (p = (const unsigned char *)value; *p != '\0'; p++)
		if (*p == '\r' || (*p == '\n' && p[1] != ' ' && p[1] != '\t')) {
			buf_puts(err, "header value: CR or LF not folding");
			return -1;
		}
	if (strlen(name) + strlen(value) + 2 + extra > MPROTO_MAX_DATA) {
		buf_puts(err, "header: larger than a packet");
		return -1;
	}
	return 0;
}

/* put_hdr -- [index] name NUL value NUL as one packet of command cmd */
static int
put_hdr(struct buf *out, int cmd, int with_index, uint32_t idx,
    const char *name, const char *value, struct buf *err)
{
	size_t	nl, vl;

	if (hdr_check(name, value, with_index ? 4 : 0, err) == -1)
		return -1;
	nl = strlen(name);
	vl = strlen(value);
	put_u32(out, (uint32_t)(1 + (with_index ? 4 : 0) + nl + 1 + vl + 1));
	buf_putc(out, cmd);
	if (with_index)
		put_u32(out, idx);
	buf_append(out, name, nl + 1);
	buf_append(out, value, vl + 1);
	return 0;
}

/* mproto_put_addheader -- append a header at the end */
int
mproto_put_addheader(struct buf *out, const char *name, const char *value,
    struct buf *err)
{
	return put_hdr(out, SMFIR_ADDHEADER, 0, 0, name, value, err);
}

/* mproto_put_insheader -- insert a header at idx (0: the top) */
int
mproto_put_insheader(struct buf *out, uint32_t idx, const char *name,
    const char *value, struct buf *err)
{
	return put_hdr(out, SMFIR_INSHEADER, 1, idx, name, value, err);
}

/* mproto_put_chgheader -- change the idx-th (from 1) `name`; "" deletes */
int
mproto_put_chgheader(struct buf *out, uint32_t idx, const char *name,
    const char *value, struct buf *err)
{
	return put_hdr(out, SMFIR_CHGHEADER, 1, idx, name, value, err);
}

/*
 * mproto_put_optneg -- the filter's OPTNEG reply, then for every stage
 * with a list the stage number and its space-separated macro names, NUL-
 * terminated, as smfi_setsymlist sends them. A list needs SMFIF_SETSYMLIST
 * in the actions: without it the MTA would not read one.
 */
int
mproto_put_optneg(struct buf *out, const struct mproto_optneg *o,
    const char *const sym[MPROTO_M_NSTAGES], struct buf *err)
{
	size_t	i, len = MILTER_OPTLEN;

	for (i = 0; sym != NULL && i < MPROTO_M_NSTAGES; i++) {
		if (sym[i] == NULL)
			continue;
		if (sym[i][0] == '\0' || text_check(sym[i], err) == -1 ||
		    (o->actions & SMFIF_SETSYMLIST) == 0) {
			buf_printf(err, "OPTNEG: bad macro list for stage %zu",
			    i);
			return -1;
		}
		len += 4 + strlen(sym[i]) + 1;
	}
	if (len > MPROTO_MAX_DATA) {
		buf_puts(err, "OPTNEG: macro lists larger than a packet");
		return -1;
	}
	put_u32(out, (uint32_t)(len + 1));
	buf_putc(out, SMFIC_OPTNEG);
	put_u32(out, o->version);
	put_u32(out, o->actions);
	put_u32(out, o->protocol);
	for (i = 0; sym != NULL && i < MPROTO_M_NSTAGES; i++) {
		if (sym[i] == NULL)
			continue;
		put_u32(out, (uint32_t)i);
		buf_append(out, sym[i], strlen(sym[i]) + 1);
	}
	return 0;
}
