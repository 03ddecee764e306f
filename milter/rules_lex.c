/*
 * rules_lex -- the rules file into tokens (spec section 4.2).
 *
 * Words are maximal runs of [][A-Za-z0-9_.:@*+/-]: identifiers, numbers,
 * durations, IPs and CIDRs, list patterns and `500/1h` alike; the parser
 * gives them meaning where it knows what it expects. Strings are
 * "..." with \" and \\ escapes and may not span lines. Newlines and ';'
 * end statements. Every lexical error is reported; a bad byte is skipped,
 * a bad string or an oversized word is still emitted (the error is out)
 * so that the parser stays in step, and lexing goes on. Token texts live
 * in one allocation per file; the token array grows by doubling.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "file.h"
#include "rules_int.h"
#include "xalloc.h"

struct lex {
	const char	*file;
	const char	*p, *end;
	unsigned	 line, col;
	struct diag	*d;
	struct toks	*out;
	struct buf	 text;		/* token texts, NUL-separated */
};

/* wordch -- a byte that may be part of a word */
static int
wordch(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '.' || c == ':' ||
	    c == '@' || c == '*' || c == '+' || c == '/' || c == '-' ||
	    c == '[' || c == ']';
}

/* emit -- append a token (its text goes to lx->text) */
static void
emit(struct lex *lx, enum tok t, const char *s, size_t len, unsigned col)
{
	struct toks	*o = lx->out;
	struct token	*k;

	if (o->n == o->cap) {
		o->cap = o->cap < 64 ? 64 : o->cap * 2;
		o->v = xreallocarray(o->v, o->cap, sizeof(*k));
	}
	k = &o->v[o->n++];
	k->t = t;
	k->s = NULL;
	k->off = lx->text.len;
	k->len = len;
	k->line = lx->line;
	k->col = col;
	if (len > 0)
		buf_append(&lx->text, s, len);
	buf_putc(&lx->text, '\0');
}

/* tok_text -- a token for messages: its text, or what ends a statement */
const char *
tok_text(const struct token *t)
{
	if (t->t == T_EOF)
		return "end of file";
	if (t->t == T_END)
		return t->s[0] == ';' ? ";" : "end of line";
	return t->s;
}

/* advance -- move n bytes on the current line */
static void
advance(struct lex *lx, size_t n)
{
	lx->p += n;
	lx->col += (unsigned)n;
}

/* lex_string -- a "..." string at lx->p */
static void
lex_string(struct lex *lx)
{
	struct buf	 b = BUF_INIT;
	unsigned	 col = lx->col;
	int		 bad = 0;		/* one error per string */

	advance(lx, 1);
	for (;;) {
		if (lx->p >= lx->end || *lx->p == '\n') {
			if (!bad)
				diag_error(lx->d, lx->file, lx->line, col,
				    "unterminated string");
			bad = 1;
			break;
		}
		if (*lx->p == '"') {
			advance(lx, 1);
			break;
		}
		if (*lx->p == '\\') {
			if (lx->p + 1 < lx->end && (lx->p[1] == '"' || lx->p[1] == '\\')) {
				buf_putc(&b, lx->p[1]);
				advance(lx, 2);
				continue;
			}
			if (!bad)
				diag_error(lx->d, lx->file, lx->line, lx->col,
				    "unknown escape in string (only \\\" and \\\\)");
			bad = 1;
		} else if ((unsigned char)*lx->p < ' ' && *lx->p != '\t') {
			if (!bad)
				diag_error(lx->d, lx->file, lx->line, lx->col,
				    "control byte 0x%02x in string", (unsigned char)*lx->p);
			bad = 1;
		} else
			buf_putc(&b, *lx->p);
		advance(lx, 1);
	}
	if (b.len > RULES_TOKEN_MAX && !bad)
		diag_error(lx->d, lx->file, lx->line, col,
		    "string longer than %d bytes", RULES_TOKEN_MAX);
	/* emitted even when bad (the error is out), so parsing goes on in step */
	emit(lx, T_STR, b.data, b.len, col);
	buf_free(&b);
}

/* lex_op -- =~ < <= > >= == != */
static void
lex_op(struct lex *lx)
{
	char	c = *lx->p, n = lx->p + 1 < lx->end ? lx->p[1] : '\0';
	size_t	len = 0;

	if ((c == '=' && (n == '~' || n == '=')) || (c == '!' && n == '=') ||
	    ((c == '<' || c == '>') && n == '='))
		len = 2;
	else if (c == '<' || c == '>')
		len = 1;
	if (len == 0) {
		diag_error(lx->d, lx->file, lx->line, lx->col,
		    "unexpected '%c' (operators: =~ < <= > >= == !=)", c);
		advance(lx, 1);
		return;
	}
	emit(lx, T_OP, lx->p, len, lx->col);
	advance(lx, len);
}

/* lex_one -- the next token or error at lx->p */
static void
lex_one(struct lex *lx)
{
	unsigned char	c = (unsigned char)*lx->p;
	const char	*s;
	static const char punct[] = "{}(),";
	static const enum tok ptok_[] = { T_LBRACE, T_RBRACE, T_LPAREN,
					   T_RPAREN, T_COMMA };

	if (c == '"') {
		lex_string(lx);
	} else if (strchr(punct, c) != NULL && c != '\0') {
		emit(lx, ptok_[strchr(punct, c) - punct], lx->p, 1, lx->col);
		advance(lx, 1);
	} else if (c == '=' || c == '<' || c == '>' || c == '!') {
		lex_op(lx);
	} else if (wordch(c)) {
		for (s = lx->p; s < lx->end && wordch((unsigned char)*s); s++)
			;
		if ((size_t)(s - lx->p) > RULES_TOKEN_MAX)
			diag_error(lx->d, lx->file, lx->line, lx->col,
			    "word longer than %d bytes", RULES_TOKEN_MAX);
		emit(lx, T_WORD, lx->p, (size_t)(s - lx->p), lx->col);
		advance(lx, (size_t)(s - lx->p));
	} else {
		if (c >= ' ' && c < 0x7f)
			diag_error(lx->d, lx->file, lx->line, lx->col,
			    "unexpected character '%c'", c);
		else
			diag_error(lx->d, lx->file, lx->line, lx->col,
			    "unexpected byte 0x%02x (rules files are ASCII; "
			    "use a string for other text)", c);
		advance(lx, 1);
	}
}

/* lex_all -- the whole buffer */
static void
lex_all(struct lex *lx)
{
	while (lx->p < lx->end) {
		switch (*lx->p) {
		case ' ':
		case '\t':
		case '\r':
			advance(lx, 1);
			continue;
		case '\n':
		case ';':
			emit(lx, T_END, lx->p, 1, lx->col);
			if (*lx->p == '\n') {
				lx->line++;
				lx->col = 0;
			}
			advance(lx, 1);
			continue;
		case '#':
			while (lx->p < lx->end && *lx->p != '\n')
				advance(lx, 1);
			continue;
		default:
			lex_one(lx);
		}
	}
	emit(lx, T_END, NULL, 0, lx->col);
	emit(lx, T_EOF, NULL, 0, lx->col);
}

/* read_file -- the whole of a rules file up to RULES_FILE_MAX (file.h); NULL on error */
static char *
read_file(const char *path, size_t *len, struct diag *d)
{
	struct buf	b = BUF_INIT;

	if (file_read(path, RULES_FILE_MAX, "rules file", &b, NULL, d) == -1) {
		buf_free(&b);
		return NULL;
	}
	*len = b.len;
	return buf_release(&b);
}

/* lex_file -- read and lex path; 0, or -1 when it cannot be read */
int
lex_file(const char *path, struct toks *out, struct diag *d)
{
	char		*data;
	size_t		 n, i;
	struct lex	 lx;

	memset(out, 0, sizeof(*out));
	out->file = path;
	if ((data = read_file(path, &n, d)) == NULL)
		return -1;
	memset(&lx, 0, sizeof(lx));
	lx.file = path;
	lx.p = data;
	lx.end = data + n;
	lx.line = 1;
	lx.col = 1;
	lx.d = d;
	lx.out = out;
	lex_all(&lx);
	free(data);
	out->text = buf_release(&lx.text);
	for (i = 0; i < out->n; i++)
		out->v[i].s = out->text + out->v[i].off;
	return 0;
}

/* toks_free -- free a token array */
void
toks_free(struct toks *t)
{
	free(t->text);
	free(t->v);
	t->text = NULL;
	t->v = NULL;
	t->n = t->cap = 0;
}
