/*
 * test_log.c - libca/log.c: the root's hash-chained ceremony log and its
 * head file; every kind of tampering is caught and named.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"

static int seq;


/* A new directory holding a log of three acts. */
static int
three_acts(char *dir, size_t len)
{
	static const char *const acts[] = { "init", "sign", "crl" };
	struct ca_err err;
	int i;

	snprintf(dir, len, "%s/log-%d", unit_tmp, ++seq);
	if (mkdir(dir, 0700) != 0)
		return -1;
	for (i = 0; i < 3; i++) {
		struct ca_strv d = { NULL, 0 };
		char kv[100];
		int ret;

		snprintf(kv, sizeof(kv), "cert_sha256=%064d", i);
		ca_strv_add(&d, kv);
		ca_strv_add(&d, "serial=0A1B");
		ret = ca_log_append(dir, T0 + i * DAY, acts[i], &d, &err);
		ca_strv_free(&d);
		if (!UCHECK(ret == 0, "append %d: %s", i, err.msg))
			return -1;
	}
	return 0;
}

static char *
log_path(const char *dir, const char *name)
{
	static char p[700];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return p;
}

static void
test_empty(void)
{
	struct ca_log_status st;
	struct ca_err err;
	char dir[600];

	snprintf(dir, sizeof(dir), "%s/empty", unit_tmp);
	CU_ASSERT_EQUAL_FATAL(mkdir(dir, 0700), 0);
	memset(&st, 0xff, sizeof(st));
	CU_ASSERT_EQUAL(ca_log_verify(&st, dir, &err), 0);
	CU_ASSERT_EQUAL(st.entries, 0);
	CU_ASSERT_STRING_EQUAL(st.head, "0000000000000000000000000000000000000000"
	    "000000000000000000000000");
}

static void
test_append_verify(void)
{
	struct ca_log_status st;
	struct ca_err err;
	char dir[600], want[200], *log = NULL, *head = NULL, *l3;

	if (three_acts(dir, sizeof(dir)) != 0)
		return;
	memset(&err, 0, sizeof(err));
	CU_ASSERT_EQUAL(ca_log_verify(&st, dir, &err), 0);
	CU_ASSERT_EQUAL(st.entries, 3);
	CU_ASSERT_EQUAL(strlen(st.head), 64);
	log = unit_read(log_path(dir, "ceremony.log"), NULL);
	head = unit_read(log_path(dir, "ceremony.head"), NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(log);
	CU_ASSERT_PTR_NOT_NULL(head);
	/* the head file: "count hash\n" */
	snprintf(want, sizeof(want), "3 %s\n", st.head);
	CU_ASSERT(head != NULL && strcmp(head, want) == 0);
	/* the format: seq, time, act, details, prev, hash */
	CU_ASSERT_EQUAL(unit_count(log, "\n"), 3);
	CU_ASSERT_EQUAL(unit_count(log, "\t"), 15);
	{
		static const char first[] =
		    "1\t2027-01-01T00:00:00Z\tinit\tcert_sha256=";
		CU_ASSERT(strncmp(log, first, sizeof(first) - 1) == 0);
	}
	CU_ASSERT_PTR_NOT_NULL(strstr(log, "\n2\t2027-01-02T00:00:00Z\tsign\t"));
	CU_ASSERT_PTR_NOT_NULL(strstr(log, " serial=0A1B\t0000000000000000"));
	l3 = strstr(log, "\n3\t2027-01-03T00:00:00Z\tcrl\t");
	CU_ASSERT(l3 != NULL && strstr(l3, st.head) != NULL);
	/* The last line's hash is SHA-256 of the line up to its last tab. */
	if (l3 != NULL) {
		char h[65], *tab = strrchr(l3, '\t');
		ca_sha256_hex(h, sizeof(h), l3 + 1, (size_t)(tab - l3 - 1));
		CU_ASSERT_STRING_EQUAL(h, st.head);
	}
	free(log);
	free(head);
}

/* Tabs and newlines in a detail cannot break the line format. */
static void
test_details_sanitised(void)
{
	struct ca_strv d = { NULL, 0 };
	struct ca_log_status st;
	struct ca_err err;
	char dir[600], *log;

	snprintf(dir, sizeof(dir), "%s/sanitised", unit_tmp);
	CU_ASSERT_EQUAL_FATAL(mkdir(dir, 0700), 0);
	ca_strv_add(&d, "subject=CN=a\tb\nc\rd");
	CU_ASSERT_EQUAL(ca_log_append(dir, T0, "init", &d, &err), 0);
	ca_strv_free(&d);
	CU_ASSERT_EQUAL(ca_log_append(dir, T0, "crl", &d, &err), 0);
	CU_ASSERT_EQUAL(ca_log_verify(&st, dir, &err), 0);
	CU_ASSERT_EQUAL(st.entries, 2);
	log = unit_read(log_path(dir, "ceremony.log"), NULL);
	CU_ASSERT(log != NULL && strstr(log, "subject=CN=a b c d\t") != NULL);
	CU_ASSERT_EQUAL(unit_count(log, "\n"), 2);
	free(log);
}

/* How the file is damaged. */
enum damage {
	EDIT_ACT_2,     /* one byte of line 2's act */
	EDIT_HASH_2,    /* one byte of line 2's own hash */
	EDIT_TIME_1,    /* one byte of line 1's time */
	EDIT_DETAIL_3,  /* one byte of line 3's details */
	REMOVE_2,       /* line 2 taken out */
	SWAP_2_3,       /* lines 2 and 3 exchanged */
	DROP_LAST,      /* line 3 removed, head kept */
	CUT_LAST,       /* line 3 cut in the middle, head kept */
	HEAD_EDITED,    /* the head's hash changed */
	HEAD_COUNT,     /* the head's count changed */
	HEAD_MISSING,   /* the head removed */
	DUP_LAST,       /* line 3 appended again */
};

static const struct {
	const char *name;
	enum damage how;
	const char *where; /* in the message */
} damage_cases[] = {
	{ "edited act on line 2", EDIT_ACT_2, "ceremony.log:2:" },
	{ "edited hash on line 2", EDIT_HASH_2, "ceremony.log:2:" },
	{ "edited time on line 1", EDIT_TIME_1, "ceremony.log:1:" },
	{ "edited detail on line 3", EDIT_DETAIL_3, "ceremony.log:3:" },
	{ "line 2 removed", REMOVE_2, "ceremony.log:2:" },
	{ "lines 2 and 3 swapped", SWAP_2_3, "ceremony.log:2:" },
	{ "last line removed", DROP_LAST, "ceremony.head" },
	{ "last line cut", CUT_LAST, "ceremony.log:3:" },
	{ "head hash edited", HEAD_EDITED, "ceremony.head" },
	{ "head count edited", HEAD_COUNT, "ceremony.head" },
	{ "head missing", HEAD_MISSING, "ceremony.head" },
	{ "last line repeated", DUP_LAST, "ceremony.log:4:" },
};

/* Start of line n (1-based) in s. */
static char *
line_at(char *s, int n)
{
	while (--n > 0 && s != NULL)
		if ((s = strchr(s, '\n')) != NULL)
			s++;
	return s;
}

static int
damage(const char *dir, enum damage how)
{
	char lp[700], hp[700], *log, *head, *l2, *l3, *t, out[8192];

	snprintf(lp, sizeof(lp), "%s/ceremony.log", dir);
	snprintf(hp, sizeof(hp), "%s/ceremony.head", dir);
	log = unit_read(lp, NULL);
	head = unit_read(hp, NULL);
	if (log == NULL || head == NULL || strlen(log) >= sizeof(out) / 2) {
		free(log);
		free(head);
		return -1;
	}
	l2 = line_at(log, 2);
	l3 = line_at(log, 3);
	switch (how) {
	case EDIT_ACT_2:
		t = strstr(l2, "\tsign\t");
		t[1] = 'S';
		break;
	case EDIT_HASH_2:
		t = l3 - 2; /* last hex digit of line 2 */
		*t = *t == '0' ? '1' : '0';
		break;
	case EDIT_TIME_1:
		t = strstr(log, "2027-01-01");
		t[3] = '8';
		break;
	case EDIT_DETAIL_3:
		t = strstr(l3, "serial=0A1B");
		t[7] = 'F';
		break;
	case REMOVE_2:
		memmove(l2, l3, strlen(l3) + 1);
		break;
	case SWAP_2_3:
		snprintf(out, sizeof(out), "%.*s%s%.*s", (int)(l2 - log), log, l3,
		    (int)(l3 - l2), l2);
		snprintf(log, strlen(log) + 1, "%s", out);
		break;
	case DROP_LAST:
		*l3 = '\0';
		break;
	case CUT_LAST:
		l3[20] = '\0';
		break;
	case HEAD_EDITED:
		head[5] = head[5] == 'a' ? 'b' : 'a';
		break;
	case HEAD_COUNT:
		head[0] = '4';
		break;
	case HEAD_MISSING:
		unlink(hp);
		break;
	case DUP_LAST:
		snprintf(out, sizeof(out), "%s%s", log, l3);
		free(log);
		log = strdup(out);
		break;
	}
	unit_write(lp, log, 0644);
	if (how != HEAD_MISSING)
		unit_write(hp, head, 0644);
	free(log);
	free(head);
	return 0;
}

static void
test_tampering(void)
{
	size_t i;

	for (i = 0; i < sizeof(damage_cases) / sizeof(damage_cases[0]); i++) {
		struct ca_log_status st;
		struct ca_strv d = { NULL, 0 };
		struct ca_err err;
		char dir[600], *before, *after;
		int ret;

		if (three_acts(dir, sizeof(dir)) != 0)
			continue;
		if (!UCHECK(damage(dir, damage_cases[i].how) == 0, "%s: cannot "
		    "damage", damage_cases[i].name))
			continue;
		memset(&err, 0, sizeof(err));
		ret = ca_log_verify(&st, dir, &err);
		UCHECK(ret == CA_EVERIFY, "%s: verify ret %d, want CA_EVERIFY",
		    damage_cases[i].name, ret);
		UCHECK(strstr(err.msg, damage_cases[i].where) != NULL, "%s: "
		    "message '%s' lacks '%s'", damage_cases[i].name, err.msg,
		    damage_cases[i].where);

		/* and nothing is added to a broken log */
		before = unit_read(log_path(dir, "ceremony.log"), NULL);
		ca_strv_add(&d, "x=y");
		memset(&err, 0, sizeof(err));
		ret = ca_log_append(dir, T0 + 9 * DAY, "revoke", &d, &err);
		ca_strv_free(&d);
		UCHECK(ret == CA_EVERIFY, "%s: append ret %d, want CA_EVERIFY",
		    damage_cases[i].name, ret);
		UCHECK(strstr(err.msg, "refusing") != NULL, "%s: append message "
		    "'%s'", damage_cases[i].name, err.msg);
		after = unit_read(log_path(dir, "ceremony.log"), NULL);
		UCHECK(before && after && strcmp(before, after) == 0, "%s: the log "
		    "changed", damage_cases[i].name);
		free(before);
		free(after);
	}
}

/* A log that verifies keeps verifying as acts are added. */
static void
test_long_chain(void)
{
	struct ca_log_status st;
	struct ca_err err;
	char dir[600];
	int i;

	snprintf(dir, sizeof(dir), "%s/long", unit_tmp);
	CU_ASSERT_EQUAL_FATAL(mkdir(dir, 0700), 0);
	for (i = 0; i < 50; i++) {
		struct ca_strv d = { NULL, 0 };
		char kv[32];
		snprintf(kv, sizeof(kv), "n=%d", i);
		ca_strv_add(&d, kv);
		if (!UCHECK(ca_log_append(dir, T0 + i, "sign", &d, &err) == 0,
		    "append %d: %s", i, err.msg)) {
			ca_strv_free(&d);
			return;
		}
		ca_strv_free(&d);
	}
	CU_ASSERT_EQUAL(ca_log_verify(&st, dir, &err), 0);
	CU_ASSERT_EQUAL(st.entries, 50);
}

static void
test_sha256(void)
{
	char h[65], path[600];
	struct ca_err err;

	ca_sha256_hex(h, sizeof(h), "abc", 3);
	CU_ASSERT_STRING_EQUAL(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a"
	    "9cb410ff61f20015ad");
	ca_sha256_hex(h, sizeof(h), "", 0);
	CU_ASSERT_STRING_EQUAL(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b93"
	    "4ca495991b7852b855");
	snprintf(path, sizeof(path), "%s/abc", unit_tmp);
	unit_write(path, "abc", 0644);
	CU_ASSERT_EQUAL(ca_sha256_file(h, sizeof(h), path, &err), 0);
	CU_ASSERT_STRING_EQUAL(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a"
	    "9cb410ff61f20015ad");
	snprintf(path, sizeof(path), "%s/absent", unit_tmp);
	CU_ASSERT_EQUAL(ca_sha256_file(h, sizeof(h), path, &err), CA_ENOENT);
}

void
register_log(void)
{
	CU_pSuite s = CU_add_suite("log", unit_tmp_init, unit_tmp_clean);

	CU_add_test(s, "an empty log verifies", test_empty);
	CU_add_test(s, "append x3, verify, format", test_append_verify);
	CU_add_test(s, "details cannot break the format",
	    test_details_sanitised);
	CU_add_test(s, "tampering is caught and named", test_tampering);
	CU_add_test(s, "a long chain", test_long_chain);
	CU_add_test(s, "sha256 helpers", test_sha256);
}
