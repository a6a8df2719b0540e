/*
 * clock.c - "now", honouring TIERCA_NOW so drills and tests move time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base-int.h"

int
ca_time_to_tm(struct tm *out, time_t t)
{
	return gmtime_r(&t, out) != NULL ? 0 : CA_EINVAL;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar;
 * timegm() would do, but this keeps us independent of TZ entirely. */
static long long
days_from_civil(long long y, unsigned m, unsigned d)
{
	long long era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (long long)doe - 719468;
}

/* Two digits at s, or -1. */
static int
d2(const char *s)
{
	if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
		return -1;
	return (s[0] - '0') * 10 + (s[1] - '0');
}

int
ca_time_parse_rfc3339(time_t *out, const char *s)
{
	static const unsigned mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30,
		31, 30, 31 };
	int c, y, mo, d, h, mi, se;

	/* Exactly YYYY-MM-DDTHH:MM:SSZ: an operator who writes an offset or
	 * fractions means something we would silently get wrong. */
	if (strlen(s) != 20 || s[4] != '-' || s[7] != '-' ||
	    (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':' ||
	    (s[19] != 'Z' && s[19] != 'z'))
		return CA_EINVAL;
	if ((c = d2(s)) < 0 || (y = d2(s + 2)) < 0 || (mo = d2(s + 5)) < 0 ||
	    (d = d2(s + 8)) < 0 || (h = d2(s + 11)) < 0 ||
	    (mi = d2(s + 14)) < 0 || (se = d2(s + 17)) < 0)
		return CA_EINVAL;
	y += c * 100;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > (int)mdays[mo - 1] ||
	    h > 23 || mi > 59 || se > 60)
		return CA_EINVAL;
	if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return CA_EINVAL;
	*out = (time_t)(days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400LL +
	    h * 3600 + mi * 60 + se);
	return 0;
}

void
ca_time_format(char *buf, size_t len, time_t t)
{
	struct tm tm;

	if (ca_time_to_tm(&tm, t) != 0 ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "@%lld", (long long)t);
}

int
ca_clock_now(time_t *out, struct ca_err *err)
{
	const char *s = getenv("TIERCA_NOW");

	if (s == NULL || *s == '\0') {
		*out = time(NULL);
		return 0;
	}
	if (ca_time_parse_rfc3339(out, s) != 0)
		return ca_err_set(err, CA_EINVAL,
		    "invalid TIERCA_NOW '%s': want RFC 3339 UTC such as "
		    "2027-03-01T00:00:00Z", s);
	return 0;
}

int
ca_time_parse_asn1(time_t *out, const char *s)
{
	char buf[21];
	size_t n = strlen(s), i;
	unsigned y;

	if (n != 13 && n != 15)
		return CA_EINVAL;
	if (s[n - 1] != 'Z')
		return CA_EINVAL;
	for (i = 0; i + 1 < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return CA_EINVAL;
	if (n == 13) {
		y = (unsigned)((s[0] - '0') * 10 + (s[1] - '0'));
		y += y >= 50 ? 1900 : 2000;
		s += 2;
	} else {
		y = (unsigned)((s[0] - '0') * 1000 + (s[1] - '0') * 100 +
		    (s[2] - '0') * 10 + (s[3] - '0'));
		s += 4;
	}
	/* Built by hand, not with snprintf: a CRL run parses two of these
	 * for each of 100,000 lines. */
	buf[0] = (char)('0' + y / 1000);
	buf[1] = (char)('0' + y / 100 % 10);
	buf[2] = (char)('0' + y / 10 % 10);
	buf[3] = (char)('0' + y % 10);
	buf[4] = '-';
	memcpy(buf + 5, s, 2);
	buf[7] = '-';
	memcpy(buf + 8, s + 2, 2);
	buf[10] = 'T';
	memcpy(buf + 11, s + 4, 2);
	buf[13] = ':';
	memcpy(buf + 14, s + 6, 2);
	buf[16] = ':';
	memcpy(buf + 17, s + 8, 2);
	buf[19] = 'Z';
	buf[20] = '\0';
	return ca_time_parse_rfc3339(out, buf);
}
