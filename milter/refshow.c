/*
 * refshow -- a decision as `mxgatectl ref` prints it (see refshow.h).
 */
#include "config.h"

#include <ctype.h>
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "refshow.h"

/* the text label and the JSON member of each field */
static const struct {
	const char	*label;
	const char	*json;
} names[RS_NFIELDS] = {
	[RS_REF]	 = { "ref",		"ref" },
	[RS_QID]	 = { "queue_id",	"queue_id" },
	[RS_STAGE]	 = { "stage",		"stage" },
	[RS_RULE]	 = { "rule",		"rule" },
	[RS_ACTION]	 = { "action",		"action" },
	[RS_REPLY]	 = { "reply",		"reply" },
	[RS_TEXT]	 = { "text",		"text" },
	[RS_CLIENT_NAME] = { "client_name",	"client_name" },
	[RS_CLIENT_IP]	 = { "client_ip",	"client_ip" },
	[RS_HELO]	 = { "helo",		"helo" },
	[RS_FROM]	 = { "from",		"from" },
	[RS_RCPT]	 = { "rcpt",		"rcpt" },
	[RS_SASL]	 = { "sasl",		"sasl" },
	[RS_SPF]	 = { "spf",		"spf" },
	[RS_DKIM]	 = { "dkim",		"dkim" },
	[RS_DMARC]	 = { "dmarc",		"dmarc" },
	[RS_DNSBL]	 = { "dnsbl",		"dnsbl" },
	[RS_LIMIT]	 = { "limit",		"limit" },
};

static const char	crockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/* refshow_parse_ref -- check and normalise a reference; 0 or -1 */
int
refshow_parse_ref(const char *in, char *out)
{
	size_t	i;
	int	c;

	if (strlen(in) != REFSHOW_REF_LEN)
		return -1;
	for (i = 0; i < REFSHOW_REF_LEN; i++) {
		c = toupper((unsigned char)in[i]);
		if (c == 'O')
			c = '0';
		else if (c == 'I' || c == 'L')
			c = '1';
		if (c == '\0' || strchr(crockford, c) == NULL)
			return -1;
		out[i] = (char)c;
	}
	out[REFSHOW_REF_LEN] = '\0';
	return 0;
}

/* put_time -- RFC 3339 local time with microseconds */
static void
put_time(const struct refshow *s, struct buf *out)
{
	struct tm	tm;
	time_t		tt = (time_t)s->time;
	char		d[48], z[16];

	if (localtime_r(&tt, &tm) == NULL ||
	    strftime(d, sizeof(d), "%Y-%m-%dT%H:%M:%S", &tm) == 0 ||
	    strftime(z, sizeof(z), "%z", &tm) != 5) {
		buf_printf(out, "@%" PRId64, s->time);
		return;
	}
	buf_printf(out, "%s.%06" PRIu32 "%.3s:%s", d, s->usec % 1000000, z,
	    z + 3);
}

/* put_text -- a value for a terminal: printable ASCII, the rest \xHH */
static void
put_text(struct buf *out, const char *v)
{
	const unsigned char *p;

	for (p = (const unsigned char *)v; *p != '\0'; p++) {
		if (*p < 0x20 || *p > 0x7e || *p == '\\')
			buf_printf(out, "\\x%02X", *p);
		else
			buf_putc(out, *p);
	}
}

/* refshow_text -- "field: value" lines, then the facts indented */
void
refshow_text(const struct refshow *s, struct buf *out)
{
	size_t	i;

	for (i = 0; i < RS_NFIELDS; i++) {
		if (i == RS_QID) {
			buf_puts(out, "time: ");
			if (s->has_time)
				put_time(s, out);
			else
				buf_puts(out, "unknown (no time in the log line)");
			buf_putc(out, '\n');
		}
		if (s->f[i] == NULL)
			continue;
		buf_printf(out, "%s: ", names[i].label);
		put_text(out, s->f[i]);
		buf_putc(out, '\n');
	}
	if (s->nfacts > 0)
		buf_puts(out, "facts:\n");
	for (i = 0; i < s->nfacts; i++) {
		buf_puts(out, "    ");
		put_text(out, s->fact_name[i]);
		buf_puts(out, ": ");
		put_text(out, s->fact_value[i]);
		buf_putc(out, '\n');
	}
	if (s->where != NULL) {
		buf_puts(out, "log: ");
		put_text(out, s->where);
		buf_putc(out, '\n');
	}
}

/* refshow_json -- one JSON object, absent fields null */
void
refshow_json(const struct refshow *s, struct buf *out)
{
	size_t	i;

	buf_puts(out, "{\"time\": ");
	if (s->has_time) {
		buf_putc(out, '"');
		put_time(s, out);
		buf_printf(out, "\", \"unix_time\": %" PRId64 ".%06" PRIu32,
		    s->time, s->usec % 1000000);
	} else
		buf_puts(out, "null, \"unix_time\": null");
	for (i = 0; i < RS_NFIELDS; i++) {
		buf_printf(out, ", \"%s\": ", names[i].json);
		ctl_json_str(out, s->f[i]);
	}
	buf_puts(out, ", \"facts\": {");
	for (i = 0; i < s->nfacts; i++) {
		if (i > 0)
			buf_puts(out, ", ");
		ctl_json_str(out, s->fact_name[i]);
		buf_puts(out, ": ");
		ctl_json_str(out, s->fact_value[i]);
	}
	buf_puts(out, "}, \"log\": ");
	ctl_json_str(out, s->where);
	buf_puts(out, "}\n");
}
