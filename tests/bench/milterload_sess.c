/*
 * milterload_sess -- one MTA-to-milter connection, driven as Postfix's
 * milter8 client drives it (postfix/src/milter/milter8.c, read, not
 * copied):
 *
 *   - OPTNEG offers version 6, actions 0x1FF and protocol 0x1FFFFF, as
 *     Postfix 3 does; the milter's reply may narrow both and carry symbol
 *     lists, which replace the default macro list of their stage.
 *   - Before every event the MACRO packet of its stage is sent, even when
 *     the milter asked not to get the event itself (milter8_event does
 *     the same); header events carry the EOH macros, body chunks the EOM
 *     macros. Macros the MTA does not define are left out.
 *   - An event the milter turned off (SMFIP_NO*) is not sent; after an
 *     event whose reply the milter turned off (SMFIP_NR_*) nothing is
 *     read. Commands are buffered and written when a reply is awaited (or
 *     the connection ends), as Postfix's stream buffer does.
 *   - Header values lose one leading space unless SMFIP_HDR_LEADSPC.
 *   - PROGRESS is read past; SKIP in the body ends the body chunks;
 *     ACCEPT, REJECT, TEMPFAIL, REPLYCODE at CONNECT or HELO decide the
 *     connection (ACCEPT: no further events on it), elsewhere the
 *     message; header and recipient modifications only come at EOM.
 *   - After every message ABORT (Postfix's mail_reset), at the end QUIT.
 *
 * Everything the milter sends is parsed with bounds: the frame reader
 * caps packets at MPROTO_MAX_LEN, every string must end with a NUL inside
 * its packet, and anything else is a protocol error that closes the
 * connection (counted as an error decision).
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "milterload.h"
#include "xalloc.h"

#define ML_VERSION	6
#define ML_ACTIONS	0x1FFU		/* Postfix 3: SMFIF_* it supports */
#define ML_PROTOCOL	0x1FFFFFU	/* Postfix 3: SMFIP_* bits 0-20 */
#define ML_TIMEOUT	30		/* seconds per read or write */

enum res {
	RES_CONT,	/* continue, or no reply expected */
	RES_ACCEPT,
	RES_SKIP,
	RES_DECIDED,	/* *dec holds tempfail, reject or discard */
	RES_ERR
};

/* Postfix's default milter_*_macros, by SMFIM_* stage */
static const char *const defmacros[MPROTO_M_NSTAGES] = {
	"j {daemon_name} {daemon_addr} v _",
	"{tls_version} {cipher} {cipher_bits} {cert_subject} {cert_issuer}",
	"i {auth_type} {auth_authen} {auth_author} {mail_addr} {mail_host} "
	    "{mail_mailer}",
	"i {rcpt_addr} {rcpt_host} {rcpt_mailer}",
	"i",
	"i",
	"i"
};

static int	sock_connect(const char *, struct buf *);
static int	flush(struct ml_conn *);
static int	read_packet(struct ml_conn *, struct mproto_packet *);
static void	send_cmd(struct ml_conn *, int, const void *, size_t);
static const char *macro_value(struct ml_conn *, const char *, uint64_t,
		    char *, size_t);
static void	send_macros(struct ml_conn *, int, int, uint64_t);
static int	has_nul(const unsigned char *, size_t);
static int	mod_ok(const struct mproto_packet *);
static void	count_code(struct ml_stats *, const char *);
static enum res	decide(struct ml_conn *, const struct mproto_packet *,
		    enum ml_decision *);
static enum res	wait_reply(struct ml_conn *, int, enum ml_decision *);
static enum res	event(struct ml_conn *, int, uint32_t, uint32_t, int,
		    uint64_t, const struct buf *, enum ml_decision *);
static int	optneg_symlists(struct ml_conn *, const unsigned char *,
		    size_t);
static int	optneg(struct ml_conn *);
static enum res	conn_events(struct ml_conn *, uint64_t, enum ml_decision *);
static enum res	envelope(struct ml_conn *, uint64_t, enum ml_decision *);
static enum res	content(struct ml_conn *, uint64_t, enum ml_decision *);

/* sock_connect -- a connected stream socket to unix:PATH or inet:PORT@HOST */
static int
sock_connect(const char *spec, struct buf *err)
{
	struct sockaddr_un	 sun;
	struct addrinfo		 hints, *ai = NULL;
	const char		*at;
	char			 port[8];
	int			 fd = -1;

	if (strncmp(spec, "unix:", 5) == 0) {
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		if (strlcpy(sun.sun_path, spec + 5, sizeof(sun.sun_path)) >=
		    sizeof(sun.sun_path)) {
			buf_printf(err, "socket path too long: %s", spec);
			return -1;
		}
		if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
		    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
			goto fail;
		return fd;
	}
	if (strncmp(spec, "inet:", 5) != 0 ||
	    (at = strchr(spec, '@')) == NULL ||
	    (size_t)(at - spec - 5) >= sizeof(port)) {
		buf_printf(err, "socket is not unix:PATH or inet:PORT@HOST: %s",
		    spec);
		return -1;
	}
	memcpy(port, spec + 5, (size_t)(at - spec - 5));
	port[at - spec - 5] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;	/* no DNS */
	if (getaddrinfo(at + 1, port, &hints, &ai) != 0) {
		buf_printf(err, "bad address in %s", spec);
		return -1;
	}
	if ((fd = socket(ai->ai_family, SOCK_STREAM, 0)) == -1 ||
	    connect(fd, ai->ai_addr, ai->ai_addrlen) == -1)
		goto fail;
	freeaddrinfo(ai);
	return fd;
fail:
	buf_printf(err, "connect %s: %s", spec, strerror(errno));
	if (ai != NULL)
		freeaddrinfo(ai);
	if (fd != -1)
		close(fd);
	return -1;
}

/* flush -- write the buffered commands */
static int
flush(struct ml_conn *c)
{
	size_t	off = 0;
	ssize_t	n;

	while (off < c->out.len) {
		n = write(c->fd, c->out.data + off, c->out.len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			buf_printf(&c->err, "write: %s",
			    n == 0 ? "nothing written" : strerror(errno));
			return -1;
		}
		off += (size_t)n;
	}
	buf_reset(&c->out);
	return 0;
}

/* read_packet -- the next packet from the milter (bounded by the reader) */
static int
read_packet(struct ml_conn *c, struct mproto_packet *pkt)
{
	enum mproto_rc	rc;
	size_t		used;
	ssize_t		n;

	for (;;) {
		if (c->inoff < c->inlen) {
			rc = mproto_feed(&c->rd, c->in + c->inoff,
			    c->inlen - c->inoff, &used, pkt, &c->err);
			c->inoff += used;
			if (rc == MPROTO_PACKET)
				return 0;
			if (rc == MPROTO_ERROR)
				return -1;
		}
		c->inoff = c->inlen = 0;
		n = read(c->fd, c->in, sizeof(c->in));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			buf_printf(&c->err, "read: %s", n == 0 ? "the milter "
			    "closed the connection" : strerror(errno));
			return -1;
		}
		c->inlen = (size_t)n;
	}
}

/* send_cmd -- frame one command into the output buffer */
static void
send_cmd(struct ml_conn *c, int cmd, const void *data, size_t n)
{
	mproto_put_packet(&c->out, cmd, data, n);
	c->st->commands++;
}

/* macro_value -- what Postfix's smtpd would give for a macro, or NULL */
static const char *
macro_value(struct ml_conn *c, const char *name, uint64_t seq, char *tmp,
    size_t sz)
{
	uint32_t	ip = c->ip;

	if (strcmp(name, "j") == 0)
		return "mx.bench.test";
	if (strcmp(name, "{daemon_name}") == 0)
		return "smtp";
	if (strcmp(name, "{daemon_addr}") == 0)
		return "203.0.113.1";
	if (strcmp(name, "v") == 0)
		return "Postfix 3.7.11";
	if (strcmp(name, "i") == 0) {
		snprintf(tmp, sz, "%010llX",
		    (unsigned long long)seq + 0x100000);
		return tmp;
	}
	if (strcmp(name, "{client_addr}") == 0 || strcmp(name, "_") == 0) {
		snprintf(tmp, sz, "%s%u.%u.%u.%u%s", name[0] == '_' ?
		    "unknown [" : "", ip >> 24, (ip >> 16) & 255,
		    (ip >> 8) & 255, ip & 255, name[0] == '_' ? "]" : "");
		return tmp;
	}
	if (strcmp(name, "{client_name}") == 0 ||
	    strcmp(name, "{client_ptr}") == 0)
		return "unknown";
	if (strcmp(name, "{client_port}") == 0)
		return "40000";
	if (strcmp(name, "{mail_addr}") == 0)
		return c->cfg->from;
	if (strcmp(name, "{rcpt_addr}") == 0)
		return c->cfg->rcpt;
	if (strcmp(name, "{mail_mailer}") == 0 ||
	    strcmp(name, "{rcpt_mailer}") == 0)
		return "smtp";
	return NULL;	/* TLS and SASL macros: not defined here */
}

/* send_macros -- the MACRO packet of a stage, for command cmd */
static void
send_macros(struct ml_conn *c, int stage, int cmd, uint64_t seq)
{
	struct buf	 d = BUF_INIT;
	const char	*p, *e, *v;
	char		 name[64], tmp[64];
	size_t		 n;

	buf_putc(&d, cmd);
	for (p = c->macros[stage]; *p != '\0'; p = e) {
		while (*p == ' ')
			p++;
		e = p + strcspn(p, " ");
		n = (size_t)(e - p);
		if (n == 0 || n >= sizeof(name))
			continue;
		memcpy(name, p, n);
		name[n] = '\0';
		if ((v = macro_value(c, name, seq, tmp, sizeof(tmp))) == NULL)
			continue;
		buf_append(&d, name, n + 1);
		buf_append(&d, v, strlen(v) + 1);
	}
	send_cmd(c, SMFIC_MACRO, d.data, d.len);
	buf_free(&d);
}

/* has_nul -- whether n bytes end with a NUL: a string field closed inside */
static int
has_nul(const unsigned char *p, size_t n)
{
	return n > 0 && memchr(p, '\0', n) != NULL;
}

/*
 * mod_ok -- whether a modification request is well formed: header
 * changes carry [index,] name and value, each NUL-terminated, nothing
 * after; envelope changes and QUARANTINE end with a NUL; REPLBODY is
 * bytes.
 */
static int
mod_ok(const struct mproto_packet *p)
{
	const unsigned char	*d = p->data;
	size_t			 n = p->len, l;

	switch (p->cmd) {
	case SMFIR_REPLBODY:
		return 1;
	case SMFIR_INSHEADER:
	case SMFIR_CHGHEADER:
		if (n < 4)
			return 0;
		d += 4;
		n -= 4;
		/* FALLTHROUGH */
	case SMFIR_ADDHEADER:
		if (!has_nul(d, n))
			return 0;
		l = strlen((const char *)d) + 1;
		return l > 1 && n > l && has_nul(d + l, n - l) &&
		    strlen((const char *)d + l) + 1 == n - l;
	default:
		return n > 0 && d[n - 1] == '\0';
	}
}

/* count_code -- one refusal more under its code ("451 4.7.1") */
static void
count_code(struct ml_stats *st, const char *code)
{
	size_t	i;

	for (i = 0; i < ML_MAX_CODES && st->codes[i].code[0] != '\0'; i++)
		if (strcmp(st->codes[i].code, code) == 0)
			break;
	if (i == ML_MAX_CODES) {
		st->codes_other++;
		return;
	}
	if (st->codes[i].code[0] == '\0')
		(void)strlcpy(st->codes[i].code, code,
		    sizeof(st->codes[i].code));
	st->codes[i].n++;
}

/*
 * decide -- a REPLYCODE packet: "4xx x.y.z text" or "5xx ...", one NUL at
 * its end. The code (and the enhanced code when there is one) is counted.
 */
static enum res
decide(struct ml_conn *c, const struct mproto_packet *p, enum ml_decision *dec)
{
	const char	*t = (const char *)p->data;
	char		 code[ML_CODE_LEN];
	size_t		 n;

	if (p->len < 4 || p->data[p->len - 1] != '\0' ||
	    strlen(t) != p->len - 1 || (t[0] != '4' && t[0] != '5') ||
	    t[1] < '0' || t[1] > '9' || t[2] < '0' || t[2] > '9' ||
	    (t[3] != ' ' && t[3] != '-')) {
		buf_puts(&c->err, "bad REPLYCODE from the milter");
		return RES_ERR;
	}
	n = 3;
	if (t[3] != '\0' && t[4] >= '2' && t[4] <= '5' && t[5] == '.')
		n = 4 + strcspn(t + 4, " \r\n");
	if (n >= sizeof(code))
		n = 3;
	memcpy(code, t, n);
	code[n] = '\0';
	count_code(c->st, code);
	*dec = t[0] == '4' ? ML_D_TEMPFAIL : ML_D_REJECT;
	return RES_DECIDED;
}

/*
 * wait_reply -- read until the final reply of one event. PROGRESS is read
 * past; modifications count at EOM and are a protocol error elsewhere.
 */
static enum res
wait_reply(struct ml_conn *c, int eom, enum ml_decision *dec)
{
	struct mproto_packet	p;

	if (flush(c) == -1)
		return RES_ERR;
	c->st->roundtrips++;
	for (;;) {
		if (read_packet(c, &p) == -1)
			return RES_ERR;
		switch (p.cmd) {
		case SMFIR_PROGRESS:
			if (p.len != 0)
				break;
			continue;
		case SMFIR_ADDHEADER:
		case SMFIR_INSHEADER:
		case SMFIR_CHGHEADER:
		case SMFIR_ADDRCPT:
		case SMFIR_DELRCPT:
		case SMFIR_ADDRCPT_PAR:
		case SMFIR_CHGFROM:
		case SMFIR_QUARANTINE:
		case SMFIR_REPLBODY:
			if (!eom || !mod_ok(&p))
				break;
			c->st->mods++;
			continue;
		case SMFIR_CONTINUE:
		case SMFIR_ACCEPT:
		case SMFIR_SKIP:
			if (p.len != 0)
				break;
			return p.cmd == SMFIR_CONTINUE ? RES_CONT :
			    p.cmd == SMFIR_ACCEPT ? RES_ACCEPT : RES_SKIP;
		case SMFIR_TEMPFAIL:
		case SMFIR_REJECT:
		case SMFIR_DISCARD:
			if (p.len != 0)
				break;
			count_code(c->st, p.cmd == SMFIR_TEMPFAIL ? "tempfail" :
			    p.cmd == SMFIR_REJECT ? "reject" : "discard");
			*dec = p.cmd == SMFIR_TEMPFAIL ? ML_D_TEMPFAIL :
			    p.cmd == SMFIR_REJECT ? ML_D_REJECT : ML_D_DISCARD;
			return RES_DECIDED;
		case SMFIR_REPLYCODE:
			return decide(c, &p, dec);
		default:
			break;
		}
		buf_printf(&c->err, "unexpected reply '%c' (%zu bytes) from "
		    "the milter", p.cmd >= 32 && p.cmd < 127 ? p.cmd : '?',
		    p.len);
		return RES_ERR;
	}
}

/*
 * event -- one event as milter8_event sends it: the stage's macros, then
 * the command unless the milter turned it off (no), then its reply unless
 * the milter said it sends none (nr).
 */
static enum res
event(struct ml_conn *c, int cmd, uint32_t no, uint32_t nr, int stage,
    uint64_t seq, const struct buf *data, enum ml_decision *dec)
{
	enum res	r;

	send_macros(c, stage, cmd, seq);
	if (no != 0 && (c->proto & no) != 0)
		return RES_CONT;
	send_cmd(c, cmd, data->data, data->len);
	if (nr != 0 && (c->proto & nr) != 0)
		return RES_CONT;
	r = wait_reply(c, cmd == SMFIC_BODYEOB, dec);
	/* SKIP ends the body chunks; elsewhere it skips more of the same */
	return r == RES_SKIP && cmd != SMFIC_BODY ? RES_CONT : r;
}

/* optneg_symlists -- the symbol lists after the OPTNEG reply's 12 bytes */
static int
optneg_symlists(struct ml_conn *c, const unsigned char *p, size_t n)
{
	uint32_t	stage;
	size_t		len;

	while (n > 0) {
		if (n < 4 + 1 || !has_nul(p + 4, n - 4)) {
			buf_puts(&c->err, "truncated symbol list in OPTNEG");
			return -1;
		}
		stage = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
		    (uint32_t)p[2] << 8 | p[3];
		len = strlen((const char *)p + 4);
		if (stage >= MPROTO_M_NSTAGES) {
			buf_printf(&c->err, "symbol list for stage %u", stage);
			return -1;
		}
		free(c->macros[stage]);
		c->macros[stage] = xstrdup((const char *)p + 4);
		p += 4 + len + 1;
		n -= 4 + len + 1;
	}
	return 0;
}

/* optneg -- offer what Postfix 3 offers; take the milter's narrowing */
static int
optneg(struct ml_conn *c)
{
	struct mproto_packet	 p;
	unsigned char		 o[12];
	uint32_t		 v[3] = { ML_VERSION, ML_ACTIONS, ML_PROTOCOL };
	size_t			 i;

	for (i = 0; i < 12; i++)
		o[i] = (unsigned char)(v[i / 4] >> (24 - 8 * (i % 4)));
	send_cmd(c, SMFIC_OPTNEG, o, sizeof(o));
	if (flush(c) == -1 || read_packet(c, &p) == -1)
		return -1;
	c->st->roundtrips++;
	if (p.cmd != SMFIC_OPTNEG || p.len < 12) {
		buf_puts(&c->err, "the milter's first reply is not OPTNEG");
		return -1;
	}
	for (i = 0; i < 3; i++)
		v[i] = (uint32_t)p.data[4 * i] << 24 |
		    (uint32_t)p.data[4 * i + 1] << 16 |
		    (uint32_t)p.data[4 * i + 2] << 8 | p.data[4 * i + 3];
	if (v[0] < 2 || v[0] > ML_VERSION || (v[1] & ~ML_ACTIONS) != 0 ||
	    (v[2] & ~ML_PROTOCOL) != 0) {
		buf_printf(&c->err, "OPTNEG reply version %u actions 0x%x "
		    "protocol 0x%x is not within the offer", v[0], v[1], v[2]);
		return -1;
	}
	c->st->neg.version = v[0];
	c->st->neg.actions = v[1];
	c->st->neg.protocol = v[2];
	c->proto = v[2];
	return optneg_symlists(c, p.data + 12, p.len - 12);
}

/* ml_conn_open -- connect and negotiate; 0, or -1 with st->err set */
int
ml_conn_open(struct ml_conn *c, const struct ml_cfg *cfg, struct ml_stats *st,
    uint32_t ip)
{
	struct timeval	tv = { ML_TIMEOUT, 0 };
	int		i;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->cfg = cfg;
	c->st = st;
	c->ip = ip;
	c->fresh = 1;
	mproto_reader_init(&c->rd);
	for (i = 0; i < MPROTO_M_NSTAGES; i++)
		c->macros[i] = xstrdup(defmacros[i]);
	if ((c->fd = sock_connect(cfg->sock, &c->err)) == -1)
		goto fail;
	(void)setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (optneg(c) == -1)
		goto fail;
	return 0;
fail:
	if (st->err[0] == '\0')
		(void)strlcpy(st->err, buf_str(&c->err), sizeof(st->err));
	ml_conn_close(c);
	return -1;
}

/* conn_events -- CONNECT (family '4', port, address) and HELO */
static enum res
conn_events(struct ml_conn *c, uint64_t seq, enum ml_decision *dec)
{
	struct buf	d = BUF_INIT;
	char		tmp[64];
	enum res	r;

	buf_printf(&d, "[%s]", macro_value(c, "{client_addr}", seq, tmp,
	    sizeof(tmp)));
	buf_putc(&d, '\0');
	buf_putc(&d, SMFIA_INET);
	buf_putc(&d, 40000 >> 8);
	buf_putc(&d, 40000 & 255);
	buf_append(&d, tmp, strlen(tmp) + 1);
	r = event(c, SMFIC_CONNECT, SMFIP_NOCONNECT, SMFIP_NR_CONN,
	    MPROTO_M_CONNECT, seq, &d, dec);
	if (r == RES_CONT) {
		buf_reset(&d);
		buf_append(&d, c->cfg->helo, strlen(c->cfg->helo) + 1);
		r = event(c, SMFIC_HELO, SMFIP_NOHELO, SMFIP_NR_HELO,
		    MPROTO_M_HELO, seq, &d, dec);
	}
	buf_free(&d);
	return r;
}

/* envelope -- MAIL, RCPT and DATA; addresses in <> as Postfix sends them */
static enum res
envelope(struct ml_conn *c, uint64_t seq, enum ml_decision *dec)
{
	struct buf	d = BUF_INIT;
	enum res	r;

	buf_printf(&d, "<%s>", c->cfg->from);
	buf_putc(&d, '\0');
	r = event(c, SMFIC_MAIL, SMFIP_NOMAIL, SMFIP_NR_MAIL, MPROTO_M_ENVFROM,
	    seq, &d, dec);
	if (r == RES_CONT) {
		buf_reset(&d);
		buf_printf(&d, "<%s>", c->cfg->rcpt);
		buf_putc(&d, '\0');
		r = event(c, SMFIC_RCPT, SMFIP_NORCPT, SMFIP_NR_RCPT,
		    MPROTO_M_ENVRCPT, seq, &d, dec);
	}
	if (r == RES_CONT) {
		buf_reset(&d);
		r = event(c, SMFIC_DATA, SMFIP_NODATA, SMFIP_NR_DATA,
		    MPROTO_M_DATA, seq, &d, dec);
	}
	buf_free(&d);
	return r;
}

/* content -- the headers, EOH, body chunks of at most 65,535 bytes, EOM */
static enum res
content(struct ml_conn *c, uint64_t seq, enum ml_decision *dec)
{
	const struct ml_cfg	*cfg = c->cfg;
	struct buf		 d = BUF_INIT;
	const char		*v;
	size_t			 i, off, n;
	enum res		 r = RES_CONT;

	for (i = 0; i < cfg->nhdr && r == RES_CONT; i++) {
		v = cfg->hdr[i].value;
		if ((c->proto & SMFIP_HDR_LEADSPC) == 0 && *v == ' ')
			v++;
		buf_reset(&d);
		buf_append(&d, cfg->hdr[i].name, strlen(cfg->hdr[i].name) + 1);
		buf_append(&d, v, strlen(v) + 1);
		r = event(c, SMFIC_HEADER, SMFIP_NOHDRS, SMFIP_NR_HDR,
		    MPROTO_M_EOH, seq, &d, dec);
	}
	buf_reset(&d);
	if (r == RES_CONT)
		r = event(c, SMFIC_EOH, SMFIP_NOEOH, SMFIP_NR_EOH, MPROTO_M_EOH,
		    seq, &d, dec);
	for (off = 0; off < cfg->body.len && r == RES_CONT; off += n) {
		n = cfg->body.len - off;
		if (n > MPROTO_MAX_DATA)
			n = MPROTO_MAX_DATA;
		buf_reset(&d);
		buf_append(&d, cfg->body.data + off, n);
		r = event(c, SMFIC_BODY, SMFIP_NOBODY, SMFIP_NR_BODY,
		    MPROTO_M_EOM, seq, &d, dec);
	}
	if (r == RES_SKIP)	/* no more body chunks: on to EOM */
		r = RES_CONT;
	buf_reset(&d);
	if (r == RES_CONT)
		r = event(c, SMFIC_BODYEOB, 0, 0, MPROTO_M_EOM, seq, &d, dec);
	buf_free(&d);
	return r;
}

/*
 * ml_message -- one message on the connection (CONNECT and HELO first on
 * a fresh one); its decision in *dec. ML_S_CLOSE when the connection
 * cannot carry more: the milter decided for it, or it broke.
 */
enum ml_sess
ml_message(struct ml_conn *c, uint64_t seq, enum ml_decision *dec)
{
	enum res	r = RES_CONT;

	*dec = ML_D_CONTINUE;
	if (c->fresh) {
		c->fresh = 0;
		r = conn_events(c, seq, dec);
		if (r == RES_ACCEPT)
			c->accepted = 1;
		if (r != RES_CONT && r != RES_ACCEPT)
			goto out;
	}
	if (c->accepted)
		return ML_S_OK;	/* Postfix sends this milter nothing more */
	r = envelope(c, seq, dec);
	if (r == RES_CONT)
		r = content(c, seq, dec);
	if (r != RES_ERR) {
		/* mail_reset: ABORT ends the transaction, no reply */
		send_cmd(c, SMFIC_ABORT, NULL, 0);
		return ML_S_OK;
	}
out:
	if (r == RES_ERR) {
		*dec = ML_D_ERROR;
		if (c->st->err[0] == '\0')
			(void)strlcpy(c->st->err, buf_str(&c->err),
			    sizeof(c->st->err));
	}
	return ML_S_CLOSE;
}

/* ml_conn_close -- QUIT (when the connection still works) and free */
void
ml_conn_close(struct ml_conn *c)
{
	int	i;

	if (c->fd != -1 && c->err.len == 0) {
		send_cmd(c, SMFIC_QUIT, NULL, 0);
		(void)flush(c);
	}
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	mproto_reader_free(&c->rd);
	buf_free(&c->out);
	buf_free(&c->err);
	for (i = 0; i < MPROTO_M_NSTAGES; i++) {
		free(c->macros[i]);
		c->macros[i] = NULL;
	}
}
