/* The deploy-* headers of a managed file (tierca-deploy reads them from
 * any file under its sources): whatever the bytes, a clean verdict, and
 * an accepted target is absolute and has no '.' or '..' component. */
#include "fuzz.h"

static int
target_ok(const char *t)
{
	const char *p;

	if (t == NULL || t[0] != '/')
		return 0;
	for (p = t; *p; p++)
		if (p[0] == '/' && p[1] == '.' &&
		    (p[2] == '/' || p[2] == '\0' ||
		    (p[2] == '.' && (p[3] == '/' || p[3] == '\0'))))
			return 0;
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ca_deploy_hdr h;
	struct ca_strv problems = { NULL, 0 };
	int ret;

	memset(&h, 0, sizeof(h));
	ret = ca_deploy_hdr_parse(&h, &problems, "fuzz.conf",
	    (const char *)data, size);
	if (ret == 1 && (!target_ok(h.target) || problems.n != 0))
		abort();
	if (ret == CA_ECONF && problems.n == 0)
		abort();
	(void)ca_deploy_has_key((const char *)data, size, NULL);
	ca_deploy_hdr_free(&h);
	ca_strv_free(&problems);
	return 0;
}
