/*
 * rules_int -- what the rules_*.c files share: tokens, the parsed rule
 * set, and the functions each file offers the others. Not for use
 * outside the rules module.
 *
 *   rules_lex.c    file -> token array (every lexical error reported)
 *   rules_parse.c  tokens -> statements: footer, list, table, include
 *   rules_def.c    limit and rule statements
 *   rules_dnsbl.c  dnsbl statements and the per-list dnsbl.NAME facts
 *   rules_expr.c   conditions: parsing, static checks, freeing
 *   rules_eval.c   evaluating a stage
 *   rules.c        load, reference counting, summary, needs, accessors
 */
#ifndef MXGATE_RULES_INT_H
#define MXGATE_RULES_INT_H

#include <regex.h>
#include <stddef.h>

#include "diag.h"
#include "dnsbl.h"
#include "facts.h"
#include "hash.h"
#include "ipaddr.h"
#include "list.h"
#include "ratelimit.h"
#include "reply.h"
#include "rules.h"
#include "table.h"

#define RULES_FILE_MAX		(4 * 1024 * 1024)
#define RULES_TOKEN_MAX		4096
#define RULES_INCLUDE_DEPTH	16
#define RULES_NEST_MAX		64
#define RULES_TERMS_MAX		256	/* operands and `not`s of one condition */

enum tok {
	T_EOF,
	T_END,		/* newline or ';' */
	T_WORD,		/* identifiers, numbers, durations, IPs, patterns */
	T_STR,		/* "..." (unescaped) */
	T_OP,		/* =~ < <= > >= == != */
	T_LBRACE, T_RBRACE, T_LPAREN, T_RPAREN, T_COMMA
};

struct token {
	enum tok	 t;
	char		*s;		/* NUL-terminated text, in toks.text */
	size_t		 off;		/* of s in toks.text, while lexing */
	size_t		 len;
	unsigned	 line, col;
};

struct toks {
	const char	*file;
	struct token	*v;
	size_t		 n, cap;
	char		*text;		/* every token's text, one allocation */
};

enum ex {
	EX_OR, EX_AND, EX_NOT, EX_BARE, EX_IS, EX_ISNOT, EX_INLIST,
	EX_INTABLE, EX_RE, EX_CMP, EX_LIMIT
};

enum cmp { CMP_LT, CMP_LE, CMP_GT, CMP_GE, CMP_EQ, CMP_NE };

struct expr {
	enum ex		 op;
	struct expr	*a, *b;
	enum fact	 fact;
	unsigned	 arg;		/* the DNS list of a per-list fact */
	char		*str;		/* EX_IS */
	struct ipaddr	 ip;		/* EX_IS on an IP fact */
	struct list	*list;		/* EX_INLIST */
	int		 list_owned;	/* an inline { ... } set */
	struct table	*table;		/* EX_INTABLE */
	regex_t		 re;		/* EX_RE */
	int		 re_ok;
	enum cmp	 cmp;		/* EX_CMP */
	int64_t		 num;
	struct rl_limit	*limit;		/* EX_LIMIT */
};

struct action {
	enum rules_action a;
	char		  code[4];
	char		  ecode[16];
	struct tmpl	 *text;
	char		 *hname;
};

struct rule {
	char		*id;
	const char	*file;
	unsigned	 line;
	enum stage	 stage;
	int		 monitor;
	struct expr	*cond;		/* NULL: always */
	struct action	*act;
	size_t		 nact;
	unsigned char	 used[F_COUNT];	/* 1: its condition or a template uses fact f */
};

enum nkind { NK_LIST, NK_TABLE, NK_LIMIT, NK_DNSBL };

struct named {
	char		*name;
	const char	*file;
	unsigned	 line;
	void		*p;		/* struct list, table, rl_limit or dnsbl */
};

struct rules {
	unsigned	 refs;
	char		*path;
	char		**files;	/* every file read, for rules_match.file */
	size_t		 nfiles;
	struct tmpl	*footer;
	struct named	*lists, *tables, *limits, *dnsbls;
	size_t		 nlists, ntables, nlimits, ndnsbls;
	struct dnsbl	**dnsblv;	/* for rules_dnsbls() */
	struct rl_limit	**limitv;	/* for rules_limits() */
	struct table	**tablev;
	struct rule	*rule;
	size_t		 nrules;
	struct rules_needs needs;
};

/* the parser's state, shared with rules_expr.c */
struct pctx {
	struct rules	*r;
	struct diag	*d;
	struct toks	*tk;
	size_t		 i;		/* current token */
	const char	*dir;		/* directory of the current file */
	enum stage	 stage;		/* of the rule being parsed */
	int		 has_limit;	/* its condition tests a limit */
	int		 footer;	/* compiling the footer */
	const struct token *at;		/* the string being compiled */
	const char	*chain[RULES_INCLUDE_DEPTH + 1];	/* realpaths of the include chain */
	unsigned	 depth;
	unsigned	 terms;		/* of the condition being parsed */
	unsigned char	*used;		/* of the rule being parsed, or NULL */
	struct hash	*names;		/* name -> NK_x + 4 * (index + 1) */
	struct hash	*ids;		/* rule id -> index + 1 */
};

int	 lex_file(const char *, struct toks *, struct diag *);
void	 toks_free(struct toks *);

const char *tok_text(const struct token *);
void	*rules_grow(void *, size_t, size_t);
struct token *ptok(struct pctx *);
void	 perr(struct pctx *, const struct token *, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
int	 word_is(const struct token *, const char *);
struct named *find_named(struct pctx *, const char *, enum nkind *);
struct named *find_kind(struct pctx *, const char *, enum nkind);
void	 use_fact(struct pctx *, enum fact);
int	 fact_usable(struct pctx *, enum fact, int, const struct token *);
void	 fact_unknown(struct pctx *, const struct token *, const char *, size_t,
	    int);

struct expr *expr_parse(struct pctx *);
void	 expr_free(struct expr *);
int	 expr_eval(const struct expr *, const struct rules_env *,
	    const struct rl_limit **, struct rl_result *);

int	 parse_file(struct pctx *, const char *, const struct token *);
int	 rules_list_items(struct pctx *, struct list *);
struct tmpl *rules_template(struct pctx *, const struct token *);
int	 expect_end(struct pctx *);
struct token *pnext(struct pctx *);
struct token *rules_new_name(struct pctx *, const char *);
void	 rules_add_named(struct pctx *, enum nkind, const struct token *,
	    void *);
int	 rules_st_limit(struct pctx *);
int	 rules_st_dnsbl(struct pctx *);
int	 rules_block_lines(struct pctx *, const struct token *, const char *,
	    int (*)(struct pctx *, void *, struct token *), void *);
int	 rules_dnsbl_fact(struct pctx *, const struct token *, const char *,
	    size_t, int, int *);
int	 rules_st_rule(struct pctx *);
void	 rules_rule_free(struct rule *);
void	 rules_free_all(struct rules *);

#endif
