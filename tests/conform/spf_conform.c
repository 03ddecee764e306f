/*
 * spf_conform -- the RFC 7208 test suite through mxgate's SPF evaluator
 * and its DNS engine. Reads the suite as flat lines (spf_suite.py) on
 * standard input; each section's zone is served by libunbound as local
 * data, its TIMEOUT names are resolved through a forwarder that never
 * answers (a silent UDP socket of this process on 127.0.0.1), so nothing
 * leaves the machine. Prints every case that fails and "N/M passed";
 * exits 0 only when all pass. Explanations are not compared: mxgate
 * never fetches exp= (RFC 7208 6.2 makes them optional).
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buf.h"
#include "dns.h"
#include "ipaddr.h"
#include "spf.h"
#include "spf_dns.h"

#define QUERY_MS	300
#define TOTAL_MS	10000
#define FIELDS		6

static int	silent = -1;
static char	fwd[64];
static int	total, passed;

/* unpct -- decode %XX in place */
static void
unpct(char *s)
{
	char	*o = s;
	unsigned v;

	if (strcmp(s, "%") == 0) {
		*s = '\0';
		return;
	}
	for (; *s != '\0'; s++) {
		if (s[0] == '%' && sscanf(s + 1, "%2x", &v) == 1) {
			*o++ = (char)v;
			s += 2;
		} else
			*o++ = *s;
	}
	*o = '\0';
}

/* split -- tab-separated fields, decoded; their number */
static int
split(char *line, char **f)
{
	int	n = 0;
	char	*p = line, *tab;

	while (n < FIELDS) {
		f[n++] = p;
		if ((tab = strchr(p, '\t')) == NULL)
			break;
		*tab = '\0';
		p = tab + 1;
	}
	for (int i = 1; i < n; i++)
		unpct(f[i]);
	return n;
}

/* silent_open -- a UDP socket on 127.0.0.1 that reads nothing */
static void
silent_open(void)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof(sin);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((silent = socket(AF_INET, SOCK_DGRAM, 0)) == -1 ||
	    bind(silent, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    getsockname(silent, (struct sockaddr *)&sin, &len) == -1) {
		perror("silent socket");
		exit(2);
	}
	(void)snprintf(fwd, sizeof(fwd), "127.0.0.1@%u", ntohs(sin.sin_port));
}

/* run -- one case; 1 if its result is one of the expected */
static int
run(struct dns *d, char **f)
{
	struct spf_request	req;
	struct spf_outcome	out;
	struct spf_engine	e;
	struct deadline		dl;
	struct spf_resolver	r;
	const char		*got;
	char			*exp, *tok, *save;
	int			 ok = 0;

	memset(&req, 0, sizeof(req));
	if (ip_parse(f[3], strlen(f[3]), &req.ip) == -1) {
		printf("FAIL %s: cannot read host %s\n", f[1], f[3]);
		return 0;
	}
	req.helo = f[2];
	req.sender = f[4];
	deadline_start(&dl, TOTAL_MS);
	spf_engine_init(&e, d, QUERY_MS, &dl, &r);
	spf_check(&r, &req, &out);
	got = spf_result_name(out.result);
	exp = strdup(f[5]);
	for (tok = strtok_r(exp, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save))
		if (strcmp(tok, got) == 0)
			ok = 1;
	if (!ok)
		printf("FAIL %s: expected %s, got %s (%s; %u lookups, %u void)\n",
		    f[1], f[5], got, out.reason, out.lookups, out.voids);
	free(exp);
	return ok;
}

int
main(void)
{
	char		 line[8192], *f[FIELDS];
	struct dns	*d = NULL;
	struct buf	 err;
	int		 started = 0, root = 0, n;

	buf_init(&err);
	silent_open();
	while (fgets(line, sizeof(line), stdin) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		n = split(line, f);
		if (strcmp(f[0], "section") == 0) {
			if ((d = dns_new(fwd, &err)) == NULL)
				goto fail;
			started = root = 0;
		} else if (strcmp(f[0], "timeout") == 0 && n == 2) {
			if (dns_local_zone(d, f[1], "transparent", &err) == -1)
				goto fail;
		} else if (strcmp(f[0], "rr") == 0 && n == 2) {
			/*
			 * the root zone after the transparent ones: added
			 * before them, libunbound resolves every name
			 * outside the local data instead of denying it
			 */
			if (!root && dns_local_zone(d, ".", "static", &err) == -1)
				goto fail;
			root = 1;
			if (dns_local(d, NULL, f[1], &err) == -1)
				goto fail;
		} else if (strcmp(f[0], "test") == 0 && n == FIELDS) {
			if (!root && dns_local_zone(d, ".", "static", &err) == -1)
				goto fail;
			root = 1;
			if (!started && dns_start(d, &err) == -1)
				goto fail;
			started = 1;
			total++;
			passed += run(d, f);
		} else if (strcmp(f[0], "end") == 0) {
			dns_free(d);
			d = NULL;
		} else {
			fprintf(stderr, "spf_conform: bad line: %s\n", line);
			return 2;
		}
	}
	printf("RFC 7208 test suite: %d/%d passed\n", passed, total);
	printf("%d passed, %d failed\n", passed, total - passed);
	close(silent);
	buf_free(&err);
	return passed == total && total > 0 ? 0 : 1;
fail:
	fprintf(stderr, "spf_conform: %s\n", buf_str(&err));
	return 2;
}
