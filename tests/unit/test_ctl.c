/*
 * test_ctl -- the control protocol's framing and JSON (ctl_proto.c):
 * fields round-trip (empty ones, NULs and commas inside, the 16 MiB
 * field), every malformed or truncated request is refused with a reason
 * and no leak, the field count is bounded, and every byte string comes
 * out as valid JSON (quotes, control characters, UTF-8 kept, invalid
 * bytes as U+FFFD).
 */
#include "config.h"

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "ctl.h"

/* parse -- ctl_parse on an exact-size heap copy of p (ASan sees overreads) */
static int
parse(const char *p, size_t n, size_t *argc, char ***argv, size_t **len,
    char **store, const char **why)
{
	char	*copy = malloc(n ? n : 1);
	int	 rc;

	memcpy(copy, p, n);
	rc = ctl_parse(copy, n, argv, len, argc, store, why);
	free(copy);
	return rc;
}

START_TEST(test_roundtrip)
{
	struct buf	 b = BUF_INIT;
	static const char bin[] = { 'a', '\0', ',', ':', '9', '\n' };
	const char	*why = NULL;
	char		**argv, *store;
	size_t		*len, argc;

	ctl_field(&b, CTL_PROTO, strlen(CTL_PROTO));
	ctl_field(&b, "json", 4);
	ctl_field(&b, "", 0);
	ctl_field(&b, bin, sizeof(bin));
	ck_assert_str_eq(buf_str(&b), "11:mxgatectl 1,4:json,0:,6:a");
	ck_assert_int_eq(parse(b.data, b.len, &argc, &argv, &len, &store,
	    &why), 0);
	ck_assert_uint_eq(argc, 4);
	ck_assert_str_eq(argv[0], CTL_PROTO);
	ck_assert_str_eq(argv[1], "json");
	ck_assert_str_eq(argv[2], "");
	ck_assert_uint_eq(len[2], 0);
	ck_assert_uint_eq(len[3], sizeof(bin));
	ck_assert_mem_eq(argv[3], bin, sizeof(bin));
	ck_assert_int_eq(argv[3][sizeof(bin)], '\0');
	ck_assert_ptr_null(argv[4]);
	free(argv);
	free(len);
	free(store);
	buf_free(&b);
}
END_TEST

/* every malformed request, and every cut of a good one, is refused */
START_TEST(test_malformed)
{
	static const char *const bad[] = {
		"", "x", "1", "1:", "1:a", "1:ab", "1:a;", ":a,", "-1:a,",
		"2:a,", "3:ab,", "1:a,x", "1:a,2:b,", "01x:a,",
		"99999999999999999999:a,", "16777217:a,",
	};
	static const char good[] = "11:mxgatectl 1,4:text,6:status,";
	const char	*why;
	char		**argv, *store;
	size_t		*len, argc, i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		ck_assert_msg(parse(bad[i], strlen(bad[i]), &argc, &argv, &len,
		    &store, &why) == -1, "accepted: %s", bad[i]);
		ck_assert_ptr_nonnull(why);
	}
	for (i = 1; i < sizeof(good) - 1; i++) {
		why = NULL;
		if (good[i - 1] == ',')
			continue;	/* a cut after a whole field is a shorter request */
		ck_assert_msg(parse(good, i, &argc, &argv, &len, &store,
		    &why) == -1, "accepted a cut at %zu", i);
		ck_assert_ptr_nonnull(why);
	}
	ck_assert_int_eq(parse(good, sizeof(good) - 1, &argc, &argv, &len,
	    &store, &why), 0);
	ck_assert_uint_eq(argc, 3);
	free(argv);
	free(len);
	free(store);
}
END_TEST

/* at most CTL_FIELDS fields; the largest field passes */
START_TEST(test_bounds)
{
	struct buf	 b = BUF_INIT;
	const char	*why;
	char		**argv, *store, *big;
	size_t		*len, argc, i;

	for (i = 0; i < CTL_FIELDS; i++)
		ctl_field(&b, "x", 1);
	ck_assert_int_eq(ctl_parse(b.data, b.len, &argv, &len, &argc, &store,
	    &why), 0);
	ck_assert_uint_eq(argc, CTL_FIELDS);
	free(argv);
	free(len);
	free(store);
	ctl_field(&b, "x", 1);
	why = NULL;
	ck_assert_int_eq(ctl_parse(b.data, b.len, &argv, &len, &argc, &store,
	    &why), -1);
	ck_assert_str_eq(why, "too many fields");
	buf_reset(&b);
	big = calloc(1, CTL_FIELD_MAX);
	ctl_field(&b, big, CTL_FIELD_MAX);
	ck_assert_int_eq(ctl_parse(b.data, b.len, &argv, &len, &argc, &store,
	    &why), 0);
	ck_assert_uint_eq(len[0], CTL_FIELD_MAX);
	free(argv);
	free(len);
	free(store);
	free(big);
	buf_free(&b);
}
END_TEST

/* json -- ctl_json_strn of n bytes, as a C string */
static char *
json(const char *s, size_t n)
{
	struct buf	b = BUF_INIT;

	ctl_json_strn(&b, s, n);
	return buf_release(&b);
}

START_TEST(test_json)
{
	static const struct {
		const char	*in;
		size_t		 len;
		const char	*out;
	} t[] = {
		{ "plain", 5, "\"plain\"" },
		{ "a\"b\\c", 5, "\"a\\\"b\\\\c\"" },
		{ "l1\nl2\tx\r", 8, "\"l1\\nl2\\tx\\u000d\"" },
		{ "nul\0x", 5, "\"nul\\u0000x\"" },
		{ "del\x7f", 4, "\"del\\u007f\"" },
		{ "caf\xc3\xa9", 5, "\"caf\xc3\xa9\"" },		/* UTF-8 kept */
		{ "\xe2\x82\xac", 3, "\"\xe2\x82\xac\"" },
		{ "\xf0\x9f\x93\xa7", 4, "\"\xf0\x9f\x93\xa7\"" },
		{ "lat\xe9n", 5, "\"lat\\ufffdn\"" },		/* Latin-1 byte */
		{ "\xc3", 1, "\"\\ufffd\"" },			/* cut sequence */
		{ "\xc0\xaf", 2, "\"\\ufffd\\ufffd\"" },	/* overlong */
		{ "\xed\xa0\x80", 3, "\"\\ufffd\\ufffd\\ufffd\"" }, /* surrogate */
		{ "\xf4\x90\x80\x80", 4,
		  "\"\\ufffd\\ufffd\\ufffd\\ufffd\"" },	/* > U+10FFFF */
	};
	struct buf	 b = BUF_INIT;
	char		*got;
	size_t		 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		got = json(t[i].in, t[i].len);
		ck_assert_msg(strcmp(got, t[i].out) == 0, "%zu: %s", i, got);
		free(got);
	}
	ctl_json_str(&b, NULL);
	buf_puts(&b, " ");
	ctl_json_lines(&b, "one\n\ntwo\nthree");
	ck_assert_str_eq(buf_str(&b), "null \"one\",\"two\",\"three\"");
	buf_free(&b);
}
END_TEST

/* every byte value, alone and after a lead byte: the output is JSON-safe */
START_TEST(test_json_bytes)
{
	char		 in[2], *got, *p;
	unsigned	 a, c;

	for (a = 0; a < 256; a++)
		for (c = 0; c < 256; c++) {
			in[0] = (char)a;
			in[1] = (char)c;
			got = json(in, 2);
			for (p = got; *p != '\0'; p++)
				ck_assert_msg((unsigned char)*p >= 0x20 &&
				    *p != 0x7f, "raw control byte for %02x %02x",
				    a, c);
			free(got);
		}
}
END_TEST

static Suite *
suite(void)
{
	Suite	*s = suite_create("ctl");
	TCase	*tc = tcase_create("all");

	tcase_add_test(tc, test_roundtrip);
	tcase_add_test(tc, test_malformed);
	tcase_add_test(tc, test_bounds);
	tcase_add_test(tc, test_json);
	tcase_add_test(tc, test_json_bytes);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
