/*
 * dkimlen -- canonical body length for DKIM l= (see dkimlen.h).
 */
#include "config.h"

#include "dkimlen.h"

/* byte -- one ordinary byte (not part of a CRLF) */
static void
byte(struct dkimlen *l, unsigned char c)
{
	l->s_line++;
	if (c == ' ' || c == '\t')
		l->r_wsp = 1;
	else {
		l->r_line += (uint64_t)l->r_wsp + 1;
		l->r_wsp = 0;
	}
}

/* line_end -- a CRLF: empty lines count only when a non-empty one follows */
static void
line_end(struct dkimlen *l)
{
	l->s_pos += l->s_line + 2;
	if (l->s_line > 0)
		l->s_end = l->s_pos;
	l->s_line = 0;
	/* relaxed: white space at the end of a line is dropped */
	l->r_pos += l->r_line + 2;
	if (l->r_line > 0)
		l->r_end = l->r_pos;
	l->r_line = 0;
	l->r_wsp = 0;
}

/* dkimlen_feed -- a body chunk */
void
dkimlen_feed(struct dkimlen *l, const unsigned char *p, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++) {
		if (l->cr) {
			l->cr = 0;
			if (p[i] == '\n') {
				line_end(l);
				continue;
			}
			byte(l, '\r');
		}
		if (p[i] == '\r')
			l->cr = 1;
		else
			byte(l, p[i]);
	}
}

/* dkimlen_simple -- the simple canonical length (an empty body is CRLF) */
uint64_t
dkimlen_simple(const struct dkimlen *l)
{
	uint64_t	line = l->s_line + (l->cr ? 1 : 0);

	if (line > 0)
		return l->s_pos + line + 2;	/* a CRLF is added */
	return l->s_end > 0 ? l->s_end : 2;
}

/* dkimlen_relaxed -- the relaxed canonical length (an empty body is empty) */
uint64_t
dkimlen_relaxed(const struct dkimlen *l)
{
	uint64_t	line = l->r_line + (l->cr ? (uint64_t)l->r_wsp + 1 : 0);

	if (line > 0)
		return l->r_pos + line + 2;
	return l->r_end;
}
