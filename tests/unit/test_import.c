/*
 * test_import.c - libca/import.c: how a line of an easy-rsa (OpenSSL
 * `ca`) index.txt becomes a tierca database entry. The whole import is
 * exercised against Debian's real easy-rsa in tests/cmd/import.sh.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

/* 2027-12-31T23:59:59Z, 2027-06-01T12:00:00Z, 2051-02-03T00:00:00Z */
#define T_EXP (T0 + 365 * DAY - 1)
#define T_REV (T0 + 151 * DAY + 12 * 3600)
#define T_2051 ((time_t)2524608000 + 365 * DAY + 33 * DAY)

static const struct {
	const char *line;
	char status;
	time_t not_after, revoked_at;
	enum ca_reason reason;
	const char *serial, *subject;
} map_cases[] = {
	/* What easy-rsa 3.1 writes: six fields, file name "unknown". */
	{ "V\t271231235959Z\t\t27F8046286D4479B7D26801592DFC652\tunknown\t/CN=web",
	    'V', T_EXP, 0, CA_REASON_UNSPECIFIED,
	    "27F8046286D4479B7D26801592DFC652", "/CN=web" },
	/* Five fields: no file name at all. */
	{ "V\t271231235959Z\t\t0A1B\t/O=Example/CN=alice",
	    'V', T_EXP, 0, CA_REASON_UNSPECIFIED, "0A1B", "/O=Example/CN=alice" },
	{ "E\t270101000000Z\t\t01\tunknown\t/CN=old",
	    'E', T0, 0, CA_REASON_UNSPECIFIED, "01", "/CN=old" },
	{ "R\t271231235959Z\t270601120000Z\t02\tunknown\t/CN=r",
	    'R', T_EXP, T_REV, CA_REASON_UNSPECIFIED, "02", "/CN=r" },
	{ "R\t271231235959Z\t270601120000Z,keyCompromise\t03\tunknown\t/CN=k",
	    'R', T_EXP, T_REV, CA_REASON_KEY_COMPROMISE, "03", "/CN=k" },
	{ "R\t271231235959Z\t270601120000Z,superseded\t04\tunknown\t/CN=s",
	    'R', T_EXP, T_REV, CA_REASON_SUPERSEDED, "04", "/CN=s" },
	{ "R\t271231235959Z\t270601120000Z,cessationOfOperation\t05\tx\t/CN=c",
	    'R', T_EXP, T_REV, CA_REASON_CESSATION, "05", "/CN=c" },
	{ "R\t271231235959Z\t270601120000Z,unspecified\t06\tunknown\t/CN=u",
	    'R', T_EXP, T_REV, CA_REASON_UNSPECIFIED, "06", "/CN=u" },
	/* OpenSSL's -crl_compromise / -crl_CA_compromise / -crl_hold. */
	{ "R\t271231235959Z\t270601120000Z,keyTime,20270501000000Z\t07\tunknown"
	    "\t/CN=kt", 'R', T_EXP, T_REV, CA_REASON_KEY_COMPROMISE, "07",
	    "/CN=kt" },
	{ "R\t271231235959Z\t270601120000Z,CAkeyTime,20270501000000Z\t08\t"
	    "unknown\t/CN=ct", 'R', T_EXP, T_REV, CA_REASON_CA_COMPROMISE, "08",
	    "/CN=ct" },
	{ "R\t271231235959Z\t270601120000Z,holdInstruction,"
	    "holdInstructionReject\t09\tunknown\t/CN=h", 'R', T_EXP, T_REV,
	    CA_REASON_CERTIFICATE_HOLD, "09", "/CN=h" },
	/* A sign byte some writers add is dropped: certs/SERIAL.pem and
	 * the collision check see one form. Lower case is raised. */
	{ "V\t271231235959Z\t\t00ff01\tunknown\t/CN=z",
	    'V', T_EXP, 0, CA_REASON_UNSPECIFIED, "FF01", "/CN=z" },
	/* GeneralizedTime after 2049; a CRLF line end. */
	{ "V\t20510203000000Z\t\tABCD\tunknown\t/CN=far\r",
	    'V', T_2051, 0, CA_REASON_UNSPECIFIED, "ABCD", "/CN=far" },
	/* An empty subject is OpenSSL's when a request had none. */
	{ "V\t271231235959Z\t\tABCD\tunknown\t",
	    'V', T_EXP, 0, CA_REASON_UNSPECIFIED, "ABCD", "" },
};

static void
test_map(void)
{
	size_t i;

	for (i = 0; i < sizeof(map_cases) / sizeof(map_cases[0]); i++) {
		struct ca_db_entry e;
		struct ca_err err = { 0 };
		int ret = ca_import_index_line(&e, map_cases[i].line, &err);
		if (!UCHECK(ret == 0, "case %zu: %s", i, err.msg))
			continue;
		UCHECK(e.status == map_cases[i].status, "case %zu: status %c", i,
		    e.status);
		UCHECK(e.not_after == map_cases[i].not_after, "case %zu: expiry "
		    "%lld", i, (long long)e.not_after);
		UCHECK(e.revoked_at == map_cases[i].revoked_at, "case %zu: "
		    "revoked %lld", i, (long long)e.revoked_at);
		UCHECK(e.reason == map_cases[i].reason, "case %zu: reason %d", i,
		    (int)e.reason);
		UCHECK(strcmp(e.serial, map_cases[i].serial) == 0, "case %zu: "
		    "serial %s", i, e.serial);
		UCHECK(e.name != NULL && strcmp(e.name, "unknown") == 0,
		    "case %zu: name %s", i, e.name ? e.name : "(null)");
		UCHECK(e.subject != NULL &&
		    strcmp(e.subject, map_cases[i].subject) == 0,
		    "case %zu: subject %s", i, e.subject ? e.subject : "(null)");
		/* What tierca writes back parses to the same entry. */
		{
			char *line = ca_db_format_line(&e), *nl;
			struct ca_db_entry f;
			if (UCHECK(line != NULL, "case %zu: format", i)) {
				if ((nl = strchr(line, '\n')) != NULL)
					*nl = '\0';
				if (UCHECK(ca_db_parse_line(&f, line, NULL) == 0,
				    "case %zu: reparse '%s'", i, line)) {
					UCHECK(f.reason == e.reason && f.status == e.status
					    && f.revoked_at == e.revoked_at &&
					    strcmp(f.serial, e.serial) == 0,
					    "case %zu: round trip", i);
					ca_db_entry_clear(&f);
				}
			}
			free(line);
		}
		ca_db_entry_clear(&e);
	}
}

static const struct {
	const char *line, *want; /* want: a part of the error message */
} reject_cases[] = {
	{ "", "fields" },
	{ "V\t271231235959Z\t\t0A1B", "4 fields" },
	{ "V\t271231235959Z\t\t0A1B\tunknown\t/CN=a\textra", "7 fields" },
	{ "V\t271231235959Z\t\t0A1B\tunknown\t/CN=a\tb\tc", "7 fields" },
	{ "X\t271231235959Z\t\t0A1B\tunknown\t/CN=a", "status" },
	{ "VV\t271231235959Z\t\t0A1B\tunknown\t/CN=a", "status" },
	{ "V\t2712312359Z\t\t0A1B\tunknown\t/CN=a", "expiry" },
	{ "V\t271331235959Z\t\t0A1B\tunknown\t/CN=a", "expiry" },
	{ "V\t271231235959Z\t\tXYZ1\tunknown\t/CN=a", "serial" },
	{ "V\t271231235959Z\t\t\tunknown\t/CN=a", "serial" },
	{ "V\t271231235959Z\t\t0102030405060708091011121314151617181920212223"
	    "\tunknown\t/CN=a", "serial" },
	{ "V\t271231235959Z\t270601120000Z\t0A1B\tunknown\t/CN=a",
	    "revocation date" },
	{ "R\t271231235959Z\t\t0A1B\tunknown\t/CN=a", "revocation date" },
	{ "R\t271231235959Z\tyesterday\t0A1B\tunknown\t/CN=a",
	    "revocation date" },
	{ "R\t271231235959Z\t270601120000Z,nonsense\t0A1B\tunknown\t/CN=a",
	    "reason" },
	{ "R\t271231235959Z\t270601120000Z,removeFromCRL\t0A1B\tunknown\t/CN=a",
	    "removeFromCRL" },
};

static void
test_reject(void)
{
	size_t i;

	for (i = 0; i < sizeof(reject_cases) / sizeof(reject_cases[0]); i++) {
		struct ca_db_entry e;
		struct ca_err err = { 0 };
		int ret = ca_import_index_line(&e, reject_cases[i].line, &err);
		UCHECK(ret == CA_EDB, "case %zu: want CA_EDB, got %d", i, ret);
		UCHECK(strstr(err.msg, reject_cases[i].want) != NULL,
		    "case %zu: message '%s' lacks '%s'", i, err.msg,
		    reject_cases[i].want);
		UCHECK(e.name == NULL && e.subject == NULL,
		    "case %zu: nothing allocated on failure", i);
	}
}

void
register_import(void)
{
	CU_pSuite s = CU_add_suite("import", NULL, NULL);

	CU_add_test(s, "easy-rsa index lines map to entries", test_map);
	CU_add_test(s, "bad index lines are refused", test_reject);
}
