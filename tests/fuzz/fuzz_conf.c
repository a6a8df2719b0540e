/* tierca.cfg (libconfig) into struct ca_conf. */
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ca_conf c;
	struct ca_err err = { 0 };
	const char *p = fuzz_file(data, size, "tierca.cfg");

	if (p == NULL)
		return 0;
	memset(&c, 0, sizeof(c));
	if (ca_conf_load(&c, p, &err) == 0)
		ca_conf_free(&c);
	return 0;
}
