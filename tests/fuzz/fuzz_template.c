/* A certificate template (libconfig) into struct ca_template. */
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ca_template t;
	struct ca_err err = { 0 };
	const char *p = fuzz_file(data, size, "web.cfg");

	if (p == NULL)
		return 0;
	memset(&t, 0, sizeof(t));
	if (ca_template_load(&t, p, &err) == 0)
		ca_template_free(&t);
	return 0;
}
