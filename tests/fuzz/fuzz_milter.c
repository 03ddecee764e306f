/*
 * fuzz_milter -- any byte stream from the MTA side through the protocol
 * state machine (milter.c) and the sessions behind it, as the engine
 * would feed it: in pieces of a size the first byte picks (0 = all at
 * once). The second byte picks the connection kind: bit 0 beyond
 * max_connections, bit 1 monitor mode. The rules use every stage, a
 * list, a table-free limit of each kind and header actions; DNS is
 * absent (the session handles a NULL engine) and Authentication-Results
 * is off, so DKIM never asks for keys.
 *
 * Checks what the engine promises the MTA: every byte mxgate writes is a
 * framed filter reply of the protocol (c t r a y h i m O), each within a
 * packet, a REPLYCODE is "4xx"/"5xx" text ending in NUL; no crash, no
 * leak, and memory bounded (libFuzzer's -rss_limit_mb and ASan).
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cfg.h"
#include "diag.h"
#include "log.h"
#include "milter.h"
#include "mproto.h"
#include "ratelimit.h"
#include "rules.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char rules_text[] =
    "list trusted { 192.0.2.0/24 }\n"
    "limit conn_open { count concurrent; key client_ip/24 /64; max 3 }\n"
    "limit msgs { count messages; key client_ip; rate 5/1h }\n"
    "limit rcpts { count recipients; key sender; rate 10/1h }\n"
    "rule trusted at connect { if client_ip in trusted\n accept }\n"
    "rule busy at connect { if limit conn_open exceeded\n"
    "  tempfail 421 4.7.0 \"busy ${client_net} 100% (${limit.max})\" }\n"
    "rule tag at helo { if helo =~ \"^x\"\n header \"X-Helo\" \"${helo}\" }\n"
    "rule badhelo at helo { if helo is \"bad\"\n tempfail 421 4.7.1 \"no\" }\n"
    "rule from at mail { if mail_domain is \"bad.test\"\n"
    "  tempfail 451 4.7.1 \"from ${mail_from}\" }\n"
    "rule many at rcpt { if limit rcpts exceeded\n"
    "  tempfail 452 4.5.3 \"too many, retry in ${retry_after}s\" }\n"
    "rule r at rcpt { if rcpt_domain is \"no.test\"\n reject 550 5.7.1 \"no\" }\n"
    "rule d at data { if rcpt_count > 3\n tempfail 451 4.7.0 \"data\" }\n"
    "rule m at eom { if limit msgs exceeded or size > 100000\n"
    "  tempfail 451 4.7.0 \"slow down ${queue_id}\" }\n"
    "rule h at eom { if from_domain\n header \"X-From\" \"${from_domain}\" }\n";

static struct cfg	 cfg, cfg_mon;
static struct buf	 logbuf = BUF_INIT;

/* setup -- the configuration, the rules, a memory store (once) */
static void
setup(void)
{
	char		 path[] = "/tmp/fuzz_milter.XXXXXX";
	struct diag	 d = DIAG_INIT;
	struct rules	*r;
	FILE		*f;
	int		 fd;

	log_capture(&logbuf);
	if ((fd = mkstemp(path)) == -1 || (f = fdopen(fd, "w")) == NULL)
		abort();
	fputs(rules_text, f);
	fclose(f);
	r = rules_load(path, &d);
	(void)unlink(path);
	if (r == NULL || d.errors > 0) {
		fputs(buf_str(&d.out), stderr);
		abort();
	}
	diag_free(&d);
	cfg_defaults(&cfg);
	cfg.add_auth_results = 0;
	cfg_defaults(&cfg_mon);
	cfg_mon.add_auth_results = 0;
	cfg_mon.mode = CFG_MODE_MONITOR;
	milter_init(&cfg, r);
	rules_unref(r);
	milter_set_store(rl_store_memory(10000));
	milter_set_dns(NULL);
}

/* check_out -- everything written is framed filter replies */
static void
check_out(const struct buf *out)
{
	struct mproto_reader	 rd;
	struct mproto_packet	 p;
	struct buf		 err = BUF_INIT;
	const unsigned char	*b = (const unsigned char *)out->data;
	size_t			 n = out->len, used;
	enum mproto_rc		 rc;

	mproto_reader_init(&rd);
	while (n > 0) {
		rc = mproto_feed(&rd, b, n, &used, &p, &err);
		b += used;
		n -= used;
		if (rc == MPROTO_ERROR)
			abort();
		if (rc == MPROTO_MORE)
			abort();	/* a reply cut short */
		switch (p.cmd) {
		case SMFIR_CONTINUE:
		case SMFIR_TEMPFAIL:
		case SMFIR_REJECT:
		case SMFIR_ACCEPT:
			if (p.len != 0)
				abort();
			break;
		case SMFIR_REPLYCODE:
			if (p.len < 5 || p.data[p.len - 1] != '\0' ||
			    memchr(p.data, '\0', p.len) != p.data + p.len - 1 ||
			    (p.data[0] != '4' && p.data[0] != '5'))
				abort();
			break;
		case SMFIR_ADDHEADER:
		case SMFIR_INSHEADER:
		case SMFIR_CHGHEADER:
			if (p.len == 0 || p.data[p.len - 1] != '\0')
				abort();
			break;
		case SMFIC_OPTNEG:
			/* version, actions, protocol; symbol lists end in NUL */
			if (p.len < 12 || (p.len > 12 && p.data[p.len - 1] != '\0'))
				abort();
			break;
		default:
			abort();
		}
	}
	mproto_reader_free(&rd);
	buf_free(&err);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int	 done;
	struct mconn	*c;
	struct buf	 out = BUF_INIT;
	size_t		 step, k;
	enum mconn_rc	 rc = MCONN_OPEN;

	if (!done) {
		setup();
		done = 1;
	}
	if (size < 2)
		return 0;
	step = data[0];
	milter_init((data[1] & 2) ? &cfg_mon : &cfg, NULL);
	c = mconn_new(data[1] & 1);
	data += 2;
	size -= 2;
	while (size > 0 && rc == MCONN_OPEN) {
		k = step == 0 || step > size ? size : step;
		buf_reset(&out);
		rc = mconn_input(c, data, k, &out);
		check_out(&out);
		data += k;
		size -= k;
	}
	mconn_free(c);
	buf_free(&out);
	buf_reset(&logbuf);
	return 0;
}
