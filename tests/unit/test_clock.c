/*
 * test_clock.c - libca/clock.c: RFC 3339 UTC parsing and formatting, and
 * "now" from TIERCA_NOW.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#define H 3600

static char *saved_now;

static int
suite_init(void)
{
	const char *s = getenv("TIERCA_NOW");

	saved_now = s != NULL ? strdup(s) : NULL;
	return 0;
}

static int
suite_clean(void)
{
	if (saved_now != NULL)
		setenv("TIERCA_NOW", saved_now, 1);
	else
		unsetenv("TIERCA_NOW");
	free(saved_now);
	saved_now = NULL;
	return 0;
}

static const struct {
	const char *s;
	int ret;
	time_t want;
} parse_cases[] = {
	/* valid */
	{ "2027-01-01T00:00:00Z", 0, T0 },
	{ "1970-01-01T00:00:00Z", 0, 0 },
	{ "2027-01-01T00:00:00z", 0, T0 },
	{ "2027-03-01T00:00:00Z", 0, T0 + 59 * DAY },
	{ "2027-03-01T12:34:56Z", 0, T0 + 59 * DAY + 12 * H + 34 * 60 + 56 },
	{ "2027-12-31T23:59:59Z", 0, T0 + 365 * DAY - 1 },
	{ "2000-02-29T00:00:00Z", 0, 951782400 },
	{ "2028-02-29T00:00:00Z", 0, T0 + 365 * DAY + 59 * DAY },
	{ "2028-03-01T00:00:00Z", 0, T0 + 365 * DAY + 60 * DAY },
	{ "2050-01-01T00:00:00Z", 0, 2524608000 },
	/* calendar */
	{ "2027-02-29T00:00:00Z", CA_EINVAL, 0 },
	{ "2100-02-29T00:00:00Z", CA_EINVAL, 0 },
	{ "2027-02-30T00:00:00Z", CA_EINVAL, 0 },
	{ "2027-04-31T00:00:00Z", CA_EINVAL, 0 },
	{ "2027-13-01T00:00:00Z", CA_EINVAL, 0 },
	{ "2027-00-01T00:00:00Z", CA_EINVAL, 0 },
	{ "2027-01-00T00:00:00Z", CA_EINVAL, 0 },
	{ "2027-01-01T24:00:00Z", CA_EINVAL, 0 },
	{ "2027-01-01T00:60:00Z", CA_EINVAL, 0 },
	{ "1969-12-31T23:59:59Z", CA_EINVAL, 0 },
	/* offsets: only UTC is accepted */
	{ "2027-03-01T00:00:00+01:00", CA_EINVAL, 0 },
	{ "2027-03-01T00:00:00+00:00", CA_EINVAL, 0 },
	{ "2027-03-01T00:00:00-05:00", CA_EINVAL, 0 },
	{ "2027-03-01T01:00:00+0100", CA_EINVAL, 0 },
	/* garbage */
	{ "", CA_EINVAL, 0 },
	{ "now", CA_EINVAL, 0 },
	{ "2027-03-01", CA_EINVAL, 0 },
	{ "2027-03-01T00:00:00", CA_EINVAL, 0 },
	{ "2027-03-01 00:00:00Z", CA_EINVAL, 0 },
	{ "2027-03-01T00:00:00.5Z", CA_EINVAL, 0 },
	{ "2027-03-01T00:00:00ZZ", CA_EINVAL, 0 },
	{ "2027-03-01T00:00:00Z ", CA_EINVAL, 0 },
	{ " 2027-03-01T00:00:00Z", CA_EINVAL, 0 },
	{ "27-03-01T00:00:00Z", CA_EINVAL, 0 },
	{ "2027/03/01T00:00:00Z", CA_EINVAL, 0 },
	{ "1798761600", CA_EINVAL, 0 },
	/* a sign or a blank in a two-digit field is not a digit */
	{ "2027-03-01T00:00:+0Z", CA_EINVAL, 0 },
	{ "2027-03-01T 0:00:00Z", CA_EINVAL, 0 },
	{ "2027-+3-01T00:00:00Z", CA_EINVAL, 0 },
};

static void
test_parse(void)
{
	size_t i;

	for (i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		time_t t = (time_t)-12345;
		int ret = ca_time_parse_rfc3339(&t, parse_cases[i].s);

		UCHECK(ret == parse_cases[i].ret, "parse '%s': ret %d, want %d",
		    parse_cases[i].s, ret, parse_cases[i].ret);
		if (ret == 0 && parse_cases[i].ret == 0)
			UCHECK(t == parse_cases[i].want, "parse '%s': %lld, want "
			    "%lld", parse_cases[i].s, (long long)t,
			    (long long)parse_cases[i].want);
	}
}

static const struct {
	time_t t;
	const char *s;
} format_cases[] = {
	{ 0, "1970-01-01T00:00:00Z" },
	{ T0, "2027-01-01T00:00:00Z" },
	{ T0 + 59 * DAY + 12 * H + 34 * 60 + 56, "2027-03-01T12:34:56Z" },
	{ T0 + 365 * DAY + 59 * DAY, "2028-02-29T00:00:00Z" },
	{ 2524607999, "2049-12-31T23:59:59Z" },
	{ 2524608000, "2050-01-01T00:00:00Z" },
	{ 4102444800, "2100-01-01T00:00:00Z" },
};

static void
test_format_roundtrip(void)
{
	char buf[32];
	size_t i;

	for (i = 0; i < sizeof(format_cases) / sizeof(format_cases[0]); i++) {
		time_t back = 0;

		memset(buf, 'x', sizeof(buf));
		ca_time_format(buf, sizeof(buf), format_cases[i].t);
		UCHECK(strcmp(buf, format_cases[i].s) == 0, "format %lld: '%s', "
		    "want '%s'", (long long)format_cases[i].t, buf,
		    format_cases[i].s);
		UCHECK(ca_time_parse_rfc3339(&back, buf) == 0 &&
		    back == format_cases[i].t, "round trip of '%s' gave %lld",
		    buf, (long long)back);
	}
	/* Exactly 21 bytes are enough (20 characters and the NUL). */
	ca_time_format(buf, 21, T0);
	CU_ASSERT_STRING_EQUAL(buf, "2027-01-01T00:00:00Z");
}

static const struct {
	const char *env; /* NULL: unset */
	int ret;
	time_t want;     /* -1: the system clock */
} now_cases[] = {
	{ "2027-03-01T00:00:00Z", 0, T0 + 59 * DAY },
	{ "2028-02-29T23:59:59Z", 0, T0 + 365 * DAY + 60 * DAY - 1 },
	{ NULL, 0, -1 },
	{ "", 0, -1 },
	{ "2027-03-01T00:00:00+01:00", CA_EINVAL, 0 },
	{ "yesterday", CA_EINVAL, 0 },
	{ "2027-02-29T00:00:00Z", CA_EINVAL, 0 },
};

static void
test_clock_now(void)
{
	size_t i;

	for (i = 0; i < sizeof(now_cases) / sizeof(now_cases[0]); i++) {
		struct ca_err err;
		time_t t = 0, before, after;
		const char *e = now_cases[i].env;
		int ret;

		memset(&err, 0, sizeof(err));
		if (e != NULL)
			setenv("TIERCA_NOW", e, 1);
		else
			unsetenv("TIERCA_NOW");
		before = time(NULL);
		ret = ca_clock_now(&t, &err);
		after = time(NULL);
		UCHECK(ret == now_cases[i].ret, "TIERCA_NOW='%s': ret %d, want "
		    "%d", e ? e : "(unset)", ret, now_cases[i].ret);
		if (now_cases[i].ret != 0) {
			UCHECK(err.code == now_cases[i].ret, "err.code %d",
			    err.code);
			/* The message names the variable and the bad value. */
			UCHECK(strstr(err.msg, "TIERCA_NOW") != NULL &&
			    strstr(err.msg, e) != NULL, "message '%s'", err.msg);
		} else if (now_cases[i].want == -1)
			UCHECK(t >= before && t <= after, "system clock: %lld not "
			    "in [%lld, %lld]", (long long)t, (long long)before,
			    (long long)after);
		else
			UCHECK(t == now_cases[i].want, "TIERCA_NOW='%s': %lld, want "
			    "%lld", e, (long long)t, (long long)now_cases[i].want);
	}
	unsetenv("TIERCA_NOW");
}

void
register_clock(void)
{
	CU_pSuite s = CU_add_suite("clock", suite_init, suite_clean);

	CU_add_test(s, "ca_time_parse_rfc3339 table", test_parse);
	CU_add_test(s, "ca_time_format round trip", test_format_roundtrip);
	CU_add_test(s, "ca_clock_now and TIERCA_NOW", test_clock_now);
}
