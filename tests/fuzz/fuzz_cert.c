/* ca_cert_peek, the light reader of installed and issued certificates
 * (tierca-monitor, tierca-renew): never reads out of bounds, and when
 * GnuTLS parses the same bytes as a certificate, both agree on the
 * serial and the validity. */
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	gnutls_datum_t d = { (unsigned char *)data, (unsigned)size };
	gnutls_x509_crt_t crt = NULL;
	struct ca_cert_peek pk;
	char serial[64];

	if (ca_cert_peek(&pk, data, size) != 0)
		return 0;
	if (gnutls_x509_crt_init(&crt) < 0)
		return 0;
	if (gnutls_x509_crt_import(crt, &d, ca_fmt_of(&d)) >= 0 &&
	    ca_cert_serial_hex(serial, sizeof(serial), crt) == 0) {
		if (strcmp(serial, pk.serial) != 0 ||
		    gnutls_x509_crt_get_expiration_time(crt) != pk.not_after ||
		    gnutls_x509_crt_get_activation_time(crt) != pk.not_before)
			abort();
	}
	gnutls_x509_crt_deinit(crt);
	return 0;
}
