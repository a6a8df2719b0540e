/* A CSR brought to the CA (PEM or DER): load, self-signature and policy
 * check, the names it asks for. */
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	gnutls_x509_crq_t q = NULL;
	struct ca_strv dns = { NULL, 0 }, ip = { NULL, 0 }, em = { NULL, 0 };
	struct ca_err err = { 0 };
	const char *p = fuzz_file(data, size, "req.csr");

	if (p == NULL)
		return 0;
	if (ca_csr_load(&q, p, &err) == 0) {
		memset(&err, 0, sizeof(err));
		(void)ca_crq_names(&dns, &ip, &em, q, "fuzz", 1, &err);
		ca_strv_free(&dns);
		ca_strv_free(&ip);
		ca_strv_free(&em);
		gnutls_x509_crq_deinit(q);
	}
	return 0;
}
