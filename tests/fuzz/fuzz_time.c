/* TIERCA_NOW and every RFC 3339 time we read: a parsed time formats back
 * to a string that parses to the same time. */
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char s[64], back[32];
	time_t t, t2;

	if (size >= sizeof(s))
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (ca_time_parse_rfc3339(&t, s) == 0) {
		ca_time_format(back, sizeof(back), t);
		if (ca_time_parse_rfc3339(&t2, back) != 0 || t2 != t)
			abort();
	}
	return 0;
}
