/* A key file: PKCS#8, encrypted or not, under a fixed passphrase (the
 * decryption path included). */
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char pw[] = "fuzz passphrase";
	struct ca_secret pass = { pw, sizeof(pw) - 1 };
	gnutls_x509_privkey_t k = NULL;
	struct ca_err err = { 0 };
	const char *p = fuzz_file(data, size, "key.pem");

	if (p == NULL)
		return 0;
	(void)ca_key_file_encrypted(p, &err);
	if (ca_key_load(&k, p, &pass, &err) == 0)
		gnutls_x509_privkey_deinit(k);
	return 0;
}
