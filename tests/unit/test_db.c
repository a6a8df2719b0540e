/*
 * test_db.c - libca/db.c: index.txt lines (OpenSSL `ca` format), loading
 * with line numbers, torn-tail repair on append, serial lookup.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "unit.h"


/* 2027-12-31T23:59:59Z, 2027-06-01T12:00:00Z, 2050-01-01, 2051-02-03 */
#define T_EXP (T0 + 365 * DAY - 1)
#define T_REV (T0 + 151 * DAY + 12 * 3600)
#define T_2050 ((time_t)2524608000)
#define T_2051 ((time_t)2524608000 + 365 * DAY + 33 * DAY)

static const struct {
	const char *line;
	const char *formatted; /* NULL: the line itself */
	char status;
	time_t not_after, revoked_at;
	enum ca_reason reason;
	const char *serial, *name, *subject;
} rt_cases[] = {
	{ "V\t271231235959Z\t\t0A1B\tweb\t/O=Example/CN=web.internal", NULL,
	    'V', T_EXP, 0, 0, "0A1B", "web", "/O=Example/CN=web.internal" },
	{ "E\t270101000000Z\t\t01\told\t/CN=old", NULL,
	    'E', T0, 0, 0, "01", "old", "/CN=old" },
	{ "R\t271231235959Z\t270601120000Z\tDEADBEEF\tdb\t/CN=db", NULL,
	    'R', T_EXP, T_REV, CA_REASON_UNSPECIFIED, "DEADBEEF", "db", "/CN=db" },
	{ "R\t271231235959Z\t270601120000Z,keyCompromise\t00FF\tk\t/CN=k", NULL,
	    'R', T_EXP, T_REV, CA_REASON_KEY_COMPROMISE, "00FF", "k", "/CN=k" },
	{ "R\t271231235959Z\t270601120000Z,CACompromise\t02\tc\t/CN=c", NULL,
	    'R', T_EXP, T_REV, CA_REASON_CA_COMPROMISE, "02", "c", "/CN=c" },
	{ "R\t271231235959Z\t270601120000Z,affiliationChanged\t03\ta\t/CN=a",
	    NULL, 'R', T_EXP, T_REV, CA_REASON_AFFILIATION_CHANGED, "03", "a",
	    "/CN=a" },
	{ "R\t271231235959Z\t270601120000Z,superseded\t04\ts\t/CN=s", NULL,
	    'R', T_EXP, T_REV, CA_REASON_SUPERSEDED, "04", "s", "/CN=s" },
	{ "R\t271231235959Z\t270601120000Z,cessationOfOperation\t05\tx\t/CN=x",
	    NULL, 'R', T_EXP, T_REV, CA_REASON_CESSATION, "05", "x", "/CN=x" },
	{ "R\t271231235959Z\t270601120000Z,certificateHold\t06\th\t/CN=h", NULL,
	    'R', T_EXP, T_REV, CA_REASON_CERTIFICATE_HOLD, "06", "h", "/CN=h" },
	{ "R\t271231235959Z\t270601120000Z,privilegeWithdrawn\t09\tp\t/CN=p",
	    NULL, 'R', T_EXP, T_REV, CA_REASON_PRIVILEGE_WITHDRAWN, "09", "p",
	    "/CN=p" },
	{ "R\t271231235959Z\t270601120000Z,AACompromise\t0A\taa\t/CN=aa", NULL,
	    'R', T_EXP, T_REV, CA_REASON_AA_COMPROMISE, "0A", "aa", "/CN=aa" },
	/* GeneralizedTime from 2050 on, UTCTime through 2049 */
	{ "V\t20500101000000Z\t\t7F01\tlong\t/CN=long", NULL,
	    'V', T_2050, 0, 0, "7F01", "long", "/CN=long" },
	{ "R\t20510203000000Z\t20500101000000Z,superseded\t7F02\tl2\t/CN=l2",
	    NULL, 'R', T_2051, T_2050, CA_REASON_SUPERSEDED, "7F02", "l2",
	    "/CN=l2" },
	{ "V\t491231235959Z\t\t10\ty49\t/CN=y49", NULL,
	    'V', T_2050 - 1, 0, 0, "10", "y49", "/CN=y49" },
	/* normalised on the way in */
	{ "V\t271231235959Z\t\t0a1b\tweb\t/CN=web",
	    "V\t271231235959Z\t\t0A1B\tweb\t/CN=web",
	    'V', T_EXP, 0, 0, "0A1B", "web", "/CN=web" },
	{ "R\t271231235959Z\t270601120000Z,KEYCOMPROMISE\t0B\tk\t/CN=k",
	    "R\t271231235959Z\t270601120000Z,keyCompromise\t0B\tk\t/CN=k",
	    'R', T_EXP, T_REV, CA_REASON_KEY_COMPROMISE, "0B", "k", "/CN=k" },
	{ "R\t271231235959Z\t270601120000Z,unspecified\t0C\tu\t/CN=u",
	    "R\t271231235959Z\t270601120000Z\t0C\tu\t/CN=u",
	    'R', T_EXP, T_REV, CA_REASON_UNSPECIFIED, "0C", "u", "/CN=u" },
	/* OpenSSL's own "unknown" name and an empty subject */
	{ "V\t271231235959Z\t\t0D\tunknown\t", NULL,
	    'V', T_EXP, 0, 0, "0D", "unknown", "" },
};

static void
test_roundtrip(void)
{
	size_t i;

	for (i = 0; i < sizeof(rt_cases) / sizeof(rt_cases[0]); i++) {
		struct ca_db_entry e;
		struct ca_err err;
		char buf[512], want[512], *out;
		int ret;

		memset(&err, 0, sizeof(err));
		snprintf(buf, sizeof(buf), "%s", rt_cases[i].line);
		ret = ca_db_parse_line(&e, buf, &err);
		if (!UCHECK(ret == 0, "parse '%s': %d %s", rt_cases[i].line, ret,
		    err.msg))
			continue;
		UCHECK(e.status == rt_cases[i].status, "[%zu] status %c", i,
		    e.status);
		UCHECK(e.not_after == rt_cases[i].not_after, "[%zu] not_after "
		    "%lld, want %lld", i, (long long)e.not_after,
		    (long long)rt_cases[i].not_after);
		if (e.status == 'R') {
			UCHECK(e.revoked_at == rt_cases[i].revoked_at, "[%zu] "
			    "revoked_at %lld, want %lld", i, (long long)e.revoked_at,
			    (long long)rt_cases[i].revoked_at);
			UCHECK(e.reason == rt_cases[i].reason, "[%zu] reason %d, "
			    "want %d", i, e.reason, rt_cases[i].reason);
		}
		UCHECK(strcmp(e.serial, rt_cases[i].serial) == 0, "[%zu] serial "
		    "'%s'", i, e.serial);
		UCHECK(e.name && strcmp(e.name, rt_cases[i].name) == 0, "[%zu] "
		    "name '%s'", i, e.name ? e.name : "(null)");
		UCHECK(e.subject && strcmp(e.subject, rt_cases[i].subject) == 0,
		    "[%zu] subject '%s'", i, e.subject ? e.subject : "(null)");

		out = ca_db_format_line(&e);
		snprintf(want, sizeof(want), "%s\n", rt_cases[i].formatted ?
		    rt_cases[i].formatted : rt_cases[i].line);
		UCHECK(out != NULL && strcmp(out, want) == 0, "[%zu] format "
		    "'%s', want '%s'", i, out ? out : "(null)", want);
		free(out);
		ca_db_entry_clear(&e);
		UCHECK(e.name == NULL && e.subject == NULL, "clear");
	}
}

static void
test_format_fields(void)
{
	struct ca_db_entry e;
	char *out;

	/* An entry built in memory: empty name becomes "unknown". */
	memset(&e, 0, sizeof(e));
	e.status = 'R';
	e.not_after = T_2050;
	e.revoked_at = T0;
	e.reason = CA_REASON_CESSATION;
	snprintf(e.serial, sizeof(e.serial), "ABCDEF01");
	e.name = "";
	e.subject = "/CN=x";
	out = ca_db_format_line(&e);
	CU_ASSERT_PTR_NOT_NULL(out);
	if (out != NULL)
		CU_ASSERT_STRING_EQUAL(out, "R\t20500101000000Z\t"
		    "270101000000Z,cessationOfOperation\tABCDEF01\tunknown\t"
		    "/CN=x\n");
	free(out);
}

static const struct {
	const char *line;
	const char *msg; /* part of the message */
} bad_cases[] = {
	{ "V\t271231235959Z\t\t0A1B\tweb", "5 fields" },
	{ "V\t271231235959Z\t\t0A1B", "4 fields" },
	{ "V", "1 fields" },
	{ "", "1 fields" },
	{ "V\t271231235959Z\t\t0A1B\tweb\t/CN=web\textra", "more than 6" },
	{ "X\t271231235959Z\t\t0A1B\tweb\t/CN=web", "bad status" },
	{ "VV\t271231235959Z\t\t0A1B\tweb\t/CN=web", "bad status" },
	{ "v\t271231235959Z\t\t0A1B\tweb\t/CN=web", "bad status" },
	{ "\t271231235959Z\t\t0A1B\tweb\t/CN=web", "bad status" },
	{ "V\t2712312359Z\t\t0A1B\tweb\t/CN=web", "bad expiry" },
	{ "V\t271231235959\t\t0A1B\tweb\t/CN=web", "bad expiry" },
	{ "V\t27123123595AZ\t\t0A1B\tweb\t/CN=web", "bad expiry" },
	{ "V\t271331235959Z\t\t0A1B\tweb\t/CN=web", "bad expiry" },
	{ "V\t270230000000Z\t\t0A1B\tweb\t/CN=web", "bad expiry" },
	{ "V\t270229000000Z\t\t0A1B\tweb\t/CN=web", "bad expiry" },
	{ "V\t2027123123595Z\t\t0A1B\tweb\t/CN=web", "bad expiry" },
	{ "V\t\t\t0A1B\tweb\t/CN=web", "bad expiry" },
	{ "V\t271231235959Z\t270601120000Z\t0A1B\tweb\t/CN=web",
	    "revocation date" },
	{ "R\t271231235959Z\t\t0A1B\tweb\t/CN=web", "bad revocation date" },
	{ "R\t271231235959Z\t2706011200Z\t0A1B\tweb\t/CN=web",
	    "bad revocation date" },
	{ "R\t271231235959Z\t270601120000Z,badReason\t0A1B\tweb\t/CN=web",
	    "bad revocation reason" },
	{ "R\t271231235959Z\t270601120000Z,\t0A1B\tweb\t/CN=web",
	    "bad revocation reason" },
	{ "R\t271231235959Z\t270601120000Z,removeFromCRL\t0A1B\tweb\t/CN=web",
	    "bad revocation reason" },
	{ "V\t271231235959Z\t\tABC\tweb\t/CN=web", "bad serial" },
	{ "V\t271231235959Z\t\t\tweb\t/CN=web", "bad serial" },
	{ "V\t271231235959Z\t\t0G1B\tweb\t/CN=web", "bad serial" },
	{ "V\t271231235959Z\t\t0x1B\tweb\t/CN=web", "bad serial" },
	{ "V\t271231235959Z\t\t-01B\tweb\t/CN=web", "bad serial" },
	{ "V\t271231235959Z\t\t"
	    "0102030405060708090A0B0C0D0E0F101112131415\tweb\t/CN=web",
	    "bad serial" },
};

static void
test_reject(void)
{
	size_t i;

	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		struct ca_db_entry e;
		struct ca_err err;
		char buf[512];
		int ret;

		memset(&err, 0, sizeof(err));
		snprintf(buf, sizeof(buf), "%s", bad_cases[i].line);
		ret = ca_db_parse_line(&e, buf, &err);
		UCHECK(ret == CA_EDB, "'%s': ret %d, want CA_EDB",
		    bad_cases[i].line, ret);
		UCHECK(strstr(err.msg, bad_cases[i].msg) != NULL, "'%s': message "
		    "'%s' lacks '%s'", bad_cases[i].line, err.msg,
		    bad_cases[i].msg);
		if (ret == 0)
			ca_db_entry_clear(&e);
		else
			UCHECK(e.name == NULL && e.subject == NULL, "'%s': strings "
			    "left allocated", bad_cases[i].line);
	}
}

#define L1 "V\t271231235959Z\t\t0A1B\tweb\t/O=Example/CN=web\n"
#define L2 "R\t271231235959Z\t270601120000Z,keyCompromise\t00FF12\tdb\t/CN=db\n"
#define L3 "V\t20500101000000Z\t\tDEADBEEF\tapi\t/CN=api\n"
#define BAD "V\t271231235959Z\t\tXYZ\tbroken\t/CN=broken\n"

static const struct {
	const char *name;
	const char *content;
	int ret;
	size_t n;       /* entries when ret == 0 */
	const char *at; /* ":LINE:" in the message when ret != 0 */
} load_cases[] = {
	{ "empty", "", 0, 0, NULL },
	{ "three", L1 L2 L3, 0, 3, NULL },
	{ "blank lines skipped", L1 "\n" L2 "\n\n" L3, 0, 3, NULL },
	{ "torn last line", L1 L2 "V\t2712312", 0, 2, NULL },
	{ "only a torn line", "R\t27", 0, 0, NULL },
	{ "corrupt line 3", L1 L2 BAD L3, CA_EDB, 0, ":3:" },
	{ "corrupt line 1", BAD L1, CA_EDB, 0, ":1:" },
	{ "blank lines count", L1 "\n" BAD, CA_EDB, 0, ":3:" },
	{ "5 fields on line 2", L1 "V\t271231235959Z\t\t0A\tx\n", CA_EDB, 0,
	    ":2:" },
	{ "CRLF line", L1 "V\t271231235959Z\t\t0A1C\tweb\t/CN=web\r\n" BAD,
	    CA_EDB, 0, ":3:" },
};

static void
test_load(void)
{
	char path[512];
	size_t i;

	for (i = 0; i < sizeof(load_cases) / sizeof(load_cases[0]); i++) {
		struct ca_db *db = (struct ca_db *)1;
		struct ca_err err;
		int ret;

		memset(&err, 0, sizeof(err));
		snprintf(path, sizeof(path), "%s/load-%zu.txt", unit_tmp, i);
		unit_write(path, load_cases[i].content, 0644);
		ret = ca_db_load(&db, path, &err);
		UCHECK(ret == load_cases[i].ret, "%s: ret %d, want %d (%s)",
		    load_cases[i].name, ret, load_cases[i].ret, err.msg);
		if (ret == 0) {
			UCHECK(db != NULL && db->n == load_cases[i].n, "%s: %zu "
			    "entries, want %zu", load_cases[i].name, db ? db->n : 0,
			    load_cases[i].n);
			UCHECK(db && db->path && strcmp(db->path, path) == 0, "%s: "
			    "path", load_cases[i].name);
		} else {
			char want[600];
			snprintf(want, sizeof(want), "%s%s", path, load_cases[i].at);
			UCHECK(db == NULL, "%s: *out not NULL on error",
			    load_cases[i].name);
			UCHECK(strstr(err.msg, want) != NULL, "%s: message '%s' "
			    "lacks '%s'", load_cases[i].name, err.msg, want);
		}
		if (ret == 0)
			ca_db_free(db);
	}
}

static void
test_load_fields(void)
{
	struct ca_db *db = NULL;
	struct ca_err err;
	char path[512];

	snprintf(path, sizeof(path), "%s/fields.txt", unit_tmp);
	unit_write(path, L1 "\n" L2 L3, 0644);
	if (!UCHECK(ca_db_load(&db, path, &err) == 0, "load: %s", err.msg))
		return;
	if (UCHECK(db->n == 3, "%zu entries, want 3", db->n)) {
		CU_ASSERT_EQUAL(db->v[0].line, 1);
		CU_ASSERT_EQUAL(db->v[1].line, 3);
		CU_ASSERT_EQUAL(db->v[2].line, 4);
		CU_ASSERT_EQUAL(db->v[1].status, 'R');
		CU_ASSERT_EQUAL(db->v[1].reason, CA_REASON_KEY_COMPROMISE);
		CU_ASSERT_STRING_EQUAL(db->v[2].name, "api");
		CU_ASSERT_EQUAL(db->v[2].not_after, T_2050);
	}
	ca_db_free(db);
	/* missing file */
	snprintf(path, sizeof(path), "%s/no-such-index.txt", unit_tmp);
	CU_ASSERT_EQUAL(ca_db_load(&db, path, &err), CA_ENOENT);
	CU_ASSERT_PTR_NULL(db);
	ca_db_free(NULL);
}

static void
make_entry(struct ca_db_entry *e, const char *serial, const char *name)
{
	memset(e, 0, sizeof(*e));
	e->status = 'V';
	e->not_after = T_EXP;
	snprintf(e->serial, sizeof(e->serial), "%s", serial);
	e->name = (char *)(uintptr_t)name;
	e->subject = "/CN=new";
}

static const struct {
	const char *name;
	const char *before;
	const char *after; /* file content after appending NEWL */
} append_cases[] = {
	{ "empty file", "", "V\t271231235959Z\t\t0C0D\tnew\t/CN=new\n" },
	{ "after complete lines", L1 L2,
	    L1 L2 "V\t271231235959Z\t\t0C0D\tnew\t/CN=new\n" },
	{ "torn tail cut off", L1 L2 "V\t2712312359",
	    L1 L2 "V\t271231235959Z\t\t0C0D\tnew\t/CN=new\n" },
	{ "only a torn line", "R\t271231",
	    "V\t271231235959Z\t\t0C0D\tnew\t/CN=new\n" },
};

static void
test_append(void)
{
	char path[512];
	size_t i;

	for (i = 0; i < sizeof(append_cases) / sizeof(append_cases[0]); i++) {
		struct ca_db_entry e;
		struct ca_db *db = NULL;
		struct ca_err err;
		char *got;
		int ret;

		snprintf(path, sizeof(path), "%s/append-%zu.txt", unit_tmp, i);
		unit_write(path, append_cases[i].before, 0644);
		make_entry(&e, "0C0D", "new");
		ret = ca_db_append_line(path, &e, &err);
		UCHECK(ret == 0, "%s: append %d %s", append_cases[i].name, ret,
		    err.msg);
		got = unit_read(path, NULL);
		UCHECK(got && strcmp(got, append_cases[i].after) == 0, "%s: file "
		    "is '%s'", append_cases[i].name, got ? got : "(null)");
		free(got);
		ret = ca_db_load(&db, path, &err);
		if (UCHECK(ret == 0, "%s: reload %s", append_cases[i].name,
		    err.msg)) {
			UCHECK(db->n > 0 && strcmp(db->v[db->n - 1].serial, "0C0D") ==
			    0, "%s: last entry", append_cases[i].name);
			ca_db_free(db);
		}
	}
}

/* Earlier lines stay byte for byte, even where a rewrite would normalise
 * them (lowercase serial, explicit "unspecified"), and the file is the
 * same inode: appended to, not replaced. */
static void
test_append_keeps_earlier(void)
{
	static const char old[] = "V\t271231235959Z\t\t0a1b\tweb\t/CN=web\n"
	    "R\t271231235959Z\t270601120000Z,unspecified\t0c\tx\t/CN=x\n";
	struct ca_db_entry e;
	struct ca_err err;
	struct stat st1, st2;
	char path[512], *got;
	size_t len = 0;
	int k;

	snprintf(path, sizeof(path), "%s/keep.txt", unit_tmp);
	unit_write(path, old, 0644);
	CU_ASSERT_EQUAL_FATAL(stat(path, &st1), 0);
	for (k = 0; k < 3; k++) {
		char serial[8];
		snprintf(serial, sizeof(serial), "%04X", 0x100 + k);
		make_entry(&e, serial, "n");
		CU_ASSERT_EQUAL(ca_db_append_line(path, &e, &err), 0);
	}
	CU_ASSERT_EQUAL_FATAL(stat(path, &st2), 0);
	CU_ASSERT_EQUAL(st1.st_ino, st2.st_ino);
	got = unit_read(path, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(got);
	CU_ASSERT(len > sizeof(old) - 1);
	CU_ASSERT(strncmp(got, old, sizeof(old) - 1) == 0);
	CU_ASSERT_EQUAL(unit_count(got, "\n"), 5);
	CU_ASSERT_PTR_NOT_NULL(strstr(got, "\t0102\tn\t/CN=new\n"));
	free(got);
	/* A missing index is an error, not a new file. */
	snprintf(path, sizeof(path), "%s/absent.txt", unit_tmp);
	make_entry(&e, "01", "n");
	CU_ASSERT_EQUAL(ca_db_append_line(path, &e, &err), CA_EIO);
	CU_ASSERT_FALSE(ca_file_exists(path));
}

static void
test_save(void)
{
	struct ca_db *db = NULL, *db2 = NULL;
	struct ca_err err;
	char path[512], *got;

	snprintf(path, sizeof(path), "%s/save.txt", unit_tmp);
	unit_write(path, L1 L2 L3, 0644);
	CU_ASSERT_EQUAL_FATAL(ca_db_load(&db, path, &err), 0);
	db->v[0].status = 'R';
	db->v[0].revoked_at = T0;
	db->v[0].reason = CA_REASON_SUPERSEDED;
	CU_ASSERT_EQUAL(ca_db_save(db, &err), 0);
	ca_db_free(db);
	got = unit_read(path, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(got);
	CU_ASSERT_STRING_EQUAL(got, "R\t271231235959Z\t270101000000Z,superseded"
	    "\t0A1B\tweb\t/O=Example/CN=web\n" L2 L3);
	free(got);
	CU_ASSERT_EQUAL(unit_mode(path), 0644);
	CU_ASSERT_EQUAL_FATAL(ca_db_load(&db2, path, &err), 0);
	CU_ASSERT_EQUAL(db2->n, 3);
	ca_db_free(db2);
}

static const struct {
	const char *q;
	int want; /* index, -1: not found */
} find_cases[] = {
	{ "0A1B", 0 }, { "0a1b", 0 }, { "a1b", 0 }, { "A1B", 0 },
	{ "000A1B", 0 }, { "0000000a1b", 0 },
	{ "FF12", 1 }, { "ff12", 1 }, { "00ff12", 1 }, { "000000FF12", 1 },
	{ "DEADBEEF", 2 }, { "deadbeef", 2 }, { "0DeAdBeEf", 2 },
	{ "1B", -1 }, { "0A1B00", -1 }, { "DEADBEEF00", -1 }, { "xyz", -1 },
	{ "", -1 }, { "0x0A1B", -1 },
};

static void
test_find_serial(void)
{
	struct ca_db *db = NULL;
	struct ca_err err;
	char path[512];
	size_t i;

	snprintf(path, sizeof(path), "%s/find.txt", unit_tmp);
	unit_write(path, L1 L2 L3, 0644);
	CU_ASSERT_EQUAL_FATAL(ca_db_load(&db, path, &err), 0);
	for (i = 0; i < sizeof(find_cases) / sizeof(find_cases[0]); i++) {
		struct ca_db_entry *e = ca_db_find_serial(db, find_cases[i].q);
		if (find_cases[i].want < 0)
			UCHECK(e == NULL, "find '%s': found '%s'", find_cases[i].q,
			    e ? e->serial : "");
		else
			UCHECK(e == &db->v[find_cases[i].want], "find '%s': got %s",
			    find_cases[i].q, e ? e->serial : "nothing");
	}
	ca_db_free(db);
}

/*
 * RFC 5280 allows serials of up to 20 octets, and `openssl ca
 * -create_serial' makes them that long (159 random bits); the parser
 * accepts them (40 hex digits), so lookup and the CRL must handle them.
 */
static void
test_long_serial(void)
{
#define L20 "R\t271231235959Z\t270601120000Z,superseded" \
	    "\t5A0102030405060708090A0B0C0D0E0F10111213\tossl\t/CN=ossl\n"
	struct ca_serial s;
	struct ca_db *db = NULL;
	struct ca_err err;
	char path[512];

	snprintf(path, sizeof(path), "%s/long-serial.txt", unit_tmp);
	unit_write(path, L1 L20, 0644);
	if (!UCHECK(ca_db_load(&db, path, &err) == 0, "load: %s", err.msg))
		return;
	CU_ASSERT_EQUAL(db->n, 2);
	UCHECK(ca_db_find_serial(db, "5A0102030405060708090A0B0C0D0E0F10111213")
	    == &db->v[1], "a 20-octet serial from the index is not found");
	UCHECK(ca_serial_from_hex(&s, "5A0102030405060708090A0B0C0D0E0F10111213")
	    == 0, "a 20-octet serial cannot be held for the CRL");
	ca_db_free(db);
}

/* What a CRL is built from: revoked lines only, in file order, serials
 * as DER INTEGER content (leading zeros dropped, a sign byte added). */
static void
test_revoked(void)
{
	static const struct {
		const char *line;
		unsigned char der[4];
		size_t len;
		enum ca_reason reason;
	} t[] = {
		{ "R\t271231235959Z\t270601120000Z\t00FF\ta\t/CN=a",
		    { 0x00, 0xff }, 2, CA_REASON_UNSPECIFIED },
		{ "V\t271231235959Z\t\t0A1B\tb\t/CN=b", { 0 }, 0, 0 },
		{ "R\t271231235959Z\t270601120000Z,keyCompromise\t0000801A"
		    "\tc\t/CN=c", { 0x00, 0x80, 0x1a }, 3,
		    CA_REASON_KEY_COMPROMISE },
		{ "R\t271231235959Z\t270601120000Z,superseded\t7f\td\t/CN=d",
		    { 0x7f }, 1, CA_REASON_SUPERSEDED },
	};
	struct ca_crl_entry *v = NULL;
	struct ca_err err;
	char path[4200], body[1024] = "";
	size_t i, n = 0, k = 0;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		strcat(body, t[i].line);
		strcat(body, "\n");
	}
	snprintf(path, sizeof(path), "%s/revoked.txt", unit_tmp);
	unit_write(path, body, 0644);
	if (!UCHECK(ca_db_revoked(&v, &n, path, &err) == 0, "%s", err.msg))
		return;
	CU_ASSERT_EQUAL(n, 3);
	for (i = 0; i < sizeof(t) / sizeof(t[0]) && k < n; i++) {
		if (t[i].len == 0)
			continue;
		UCHECK(v[k].serial.len == t[i].len &&
		    memcmp(v[k].serial.b, t[i].der, t[i].len) == 0,
		    "entry %zu: DER serial", i);
		CU_ASSERT_EQUAL(v[k].reason, t[i].reason);
		k++;
	}
	free(v);
	/* A corrupt line stops it, as it stops every reader. */
	unit_write(path, "R\tbad\n", 0644);
	CU_ASSERT_EQUAL(ca_db_revoked(&v, &n, path, &err), CA_EDB);
}

void
register_db(void)
{
	CU_pSuite s = CU_add_suite("db", unit_tmp_init, unit_tmp_clean);

	CU_add_test(s, "parse/format round trip", test_roundtrip);
	CU_add_test(s, "format of an in-memory entry", test_format_fields);
	CU_add_test(s, "parse rejects", test_reject);
	CU_add_test(s, "load: counts, torn tail, corrupt line number",
	    test_load);
	CU_add_test(s, "load: fields and line numbers", test_load_fields);
	CU_add_test(s, "append repairs a torn tail", test_append);
	CU_add_test(s, "append keeps earlier lines", test_append_keeps_earlier);
	CU_add_test(s, "save rewrites", test_save);
	CU_add_test(s, "find_serial: case and leading zeros", test_find_serial);
	CU_add_test(s, "20-octet serials", test_long_serial);
	CU_add_test(s, "revoked entries for a CRL", test_revoked);
}
