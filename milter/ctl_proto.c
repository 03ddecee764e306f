/*
 * ctl_proto -- the control protocol's framing and the JSON helpers
 * (ctl.h), without I/O: shared by the daemon, mxgatectl and the tests.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "xalloc.h"

/* ctl_field -- append one "LEN:BYTES," field */
void
ctl_field(struct buf *b, const char *p, size_t n)
{
	buf_printf(b, "%zu:", n);
	buf_append(b, p, n);
	buf_append(b, ",", 1);
}

/*
 * ctl_parse -- "LEN:BYTES," fields into argv/arglen (pointers into a
 * copy with a NUL after each field, *store, to be freed with argv and
 * arglen). 0, or -1 with why.
 */
int
ctl_parse(const char *p, size_t len, char ***argvp, size_t **lenp,
    size_t *argcp, char **store, const char **why)
{
	char	 *copy, **argv = NULL;
	size_t	 *arglen = NULL, argc = 0, pos = 0, flen, out = 0;

	copy = xmalloc(len + 1);
	while (pos < len) {
		flen = 0;
		if (pos >= len || p[pos] < '0' || p[pos] > '9')
			goto bad;
		while (pos < len && p[pos] >= '0' && p[pos] <= '9') {
			flen = flen * 10 + (size_t)(p[pos] - '0');
			if (flen > CTL_FIELD_MAX)
				goto bad;
			pos++;
		}
		if (pos >= len || p[pos] != ':' || len - pos - 1 < flen + 1 ||
		    p[pos + 1 + flen] != ',')
			goto bad;
		if (argc == CTL_FIELDS) {
			*why = "too many fields";
			goto fail;
		}
		argv = xreallocarray(argv, argc + 2, sizeof(*argv));
		arglen = xreallocarray(arglen, argc + 1, sizeof(*arglen));
		memcpy(copy + out, p + pos + 1, flen);
		argv[argc] = copy + out;
		arglen[argc++] = flen;
		out += flen;
		copy[out++] = '\0';
		pos += flen + 2;
	}
	if (argv == NULL)
		goto bad;
	argv[argc] = NULL;
	*argvp = argv;
	*lenp = arglen;
	*argcp = argc;
	*store = copy;
	return 0;
bad:
	*why = "malformed request";
fail:
	free(copy);
	free(argv);
	free(arglen);
	return -1;
}

/* utf8_len -- the length of the valid UTF-8 sequence at p, or 0 */
static size_t
utf8_len(const unsigned char *p, size_t n)
{
	size_t		need, i;
	uint32_t	c;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		need = 2, c = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		need = 3, c = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		need = 4, c = p[0] & 0x07;
	else
		return 0;
	if (n < need)
		return 0;
	for (i = 1; i < need; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (p[i] & 0x3f);
	}
	if ((need == 3 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) ||
	    (need == 4 && (c < 0x10000 || c > 0x10ffff)))
		return 0;
	return need;
}

/*
 * ctl_json_strn -- s (n bytes) as a JSON string: quotes, backslashes and
 * control characters escaped; bytes that are not UTF-8 become U+FFFD,
 * so the output is always valid JSON
 */
void
ctl_json_strn(struct buf *b, const char *s, size_t n)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i = 0, k;

	buf_append(b, "\"", 1);
	while (i < n) {
		if (p[i] == '"' || p[i] == '\\') {
			buf_printf(b, "\\%c", p[i]);
			i++;
		} else if (p[i] == '\n') {
			buf_append(b, "\\n", 2);
			i++;
		} else if (p[i] == '\t') {
			buf_append(b, "\\t", 2);
			i++;
		} else if (p[i] < 0x20 || p[i] == 0x7f) {
			buf_printf(b, "\\u%04x", p[i]);
			i++;
		} else if ((k = utf8_len(p + i, n - i)) == 0) {
			buf_append(b, "\\ufffd", 6);
			i++;
		} else {
			buf_append(b, s + i, k);
			i += k;
		}
	}
	buf_append(b, "\"", 1);
}

/* ctl_json_str -- a C string as a JSON string (NULL: null) */
void
ctl_json_str(struct buf *b, const char *s)
{
	if (s == NULL)
		buf_append(b, "null", 4);
	else
		ctl_json_strn(b, s, strlen(s));
}

/* ctl_json_lines -- each line of text as a JSON string, comma-separated */
void
ctl_json_lines(struct buf *b, const char *text)
{
	const char	*nl;
	int		 first = 1;

	for (; *text != '\0'; text = *nl == '\0' ? nl : nl + 1) {
		if ((nl = strchr(text, '\n')) == NULL)
			nl = text + strlen(text);
		if (nl == text)
			continue;
		if (!first)
			buf_append(b, ",", 1);
		first = 0;
		ctl_json_strn(b, text, (size_t)(nl - text));
	}
}
