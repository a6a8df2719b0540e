/*
 * floor.c - the raw cost of a leaf certificate on GnuTLS, the floor that
 * tierca's issuance is measured against.
 *
 * One process: a P-384 intermediate key and self-signed certificate are
 * made once, then N rounds of "generate an ECDSA P-256 key" and "build
 * and sign a leaf certificate with it" (the extensions tierca's server
 * leaf carries, SHA-384 as tierca signs with a P-384 key). Nothing is
 * written to disk, nothing is checked: this is what no CA can beat.
 *
 * Output: one JSON object on stdout with the per-certificate medians in
 * microseconds.
 *
 *   floor [N]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>

#define DIE(what, ret) do { \
	fprintf(stderr, "floor: %s: %s\n", what, gnutls_strerror(ret)); \
	exit(1); } while (0)

static double
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static gnutls_x509_crt_t
make_issuer(gnutls_privkey_t key)
{
	gnutls_x509_crt_t c;
	gnutls_pubkey_t pub;
	unsigned char id[64];
	size_t idlen = sizeof(id);
	time_t t = time(NULL);
	int ret;

	if ((ret = gnutls_x509_crt_init(&c)) < 0 ||
	    (ret = gnutls_pubkey_init(&pub)) < 0 ||
	    (ret = gnutls_pubkey_import_privkey(pub, key, 0, 0)) < 0 ||
	    (ret = gnutls_x509_crt_set_pubkey(c, pub)) < 0 ||
	    (ret = gnutls_x509_crt_set_version(c, 3)) < 0 ||
	    (ret = gnutls_x509_crt_set_serial(c, "\x01", 1)) < 0 ||
	    (ret = gnutls_x509_crt_set_dn(c, "CN=Floor ICA,O=Bench", NULL)) < 0 ||
	    (ret = gnutls_x509_crt_set_activation_time(c, t - 60)) < 0 ||
	    (ret = gnutls_x509_crt_set_expiration_time(c, t + 730 * 86400)) <
	    0 ||
	    (ret = gnutls_x509_crt_set_basic_constraints(c, 1, 0)) < 0 ||
	    (ret = gnutls_x509_crt_set_key_usage(c, GNUTLS_KEY_KEY_CERT_SIGN |
	    GNUTLS_KEY_CRL_SIGN)) < 0 ||
	    (ret = gnutls_pubkey_get_key_id(pub, GNUTLS_KEYID_USE_SHA1, id,
	    &idlen)) < 0 ||
	    (ret = gnutls_x509_crt_set_subject_key_id(c, id, idlen)) < 0 ||
	    (ret = gnutls_x509_crt_privkey_sign(c, c, key, GNUTLS_DIG_SHA384,
	    0)) < 0)
		DIE("issuer", ret);
	gnutls_pubkey_deinit(pub);
	return c;
}

int
main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 2000, i;
	gnutls_x509_privkey_t ixkey;
	gnutls_privkey_t ikey;
	gnutls_x509_crt_t issuer;
	double *kg, *sg, *tot, t0, t1, t2, wall;
	time_t now = time(NULL);
	int ret;

	if (n < 1) {
		fprintf(stderr, "usage: floor [N]\n");
		return 2;
	}
	if ((ret = gnutls_global_init()) < 0)
		DIE("init", ret);
	kg = calloc(n, sizeof(*kg));
	sg = calloc(n, sizeof(*sg));
	tot = calloc(n, sizeof(*tot));
	if (kg == NULL || sg == NULL || tot == NULL)
		return 1;
	if ((ret = gnutls_x509_privkey_init(&ixkey)) < 0 ||
	    (ret = gnutls_x509_privkey_generate(ixkey, GNUTLS_PK_ECDSA,
	    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP384R1), 0)) < 0 ||
	    (ret = gnutls_privkey_init(&ikey)) < 0 ||
	    (ret = gnutls_privkey_import_x509(ikey, ixkey, 0)) < 0)
		DIE("issuer key", ret);
	issuer = make_issuer(ikey);

	wall = now_us();
	for (i = 0; i < n; i++) {
		gnutls_x509_privkey_t k;
		gnutls_privkey_t pk;
		gnutls_pubkey_t pub;
		gnutls_x509_crt_t c;
		gnutls_datum_t der;
		unsigned char serial[16], id[64];
		size_t idlen = sizeof(id);
		char dns[64];

		t0 = now_us();
		if ((ret = gnutls_x509_privkey_init(&k)) < 0 ||
		    (ret = gnutls_x509_privkey_generate(k, GNUTLS_PK_ECDSA,
		    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0)) < 0)
			DIE("keygen", ret);
		t1 = now_us();
		snprintf(dns, sizeof(dns), "host%zu.bench.internal", i);
		if ((ret = gnutls_rnd(GNUTLS_RND_NONCE, serial,
		    sizeof(serial))) < 0)
			DIE("serial", ret);
		serial[0] &= 0x7f;
		serial[0] |= 0x40;
		if ((ret = gnutls_privkey_init(&pk)) < 0 ||
		    (ret = gnutls_privkey_import_x509(pk, k, 0)) < 0 ||
		    (ret = gnutls_pubkey_init(&pub)) < 0 ||
		    (ret = gnutls_pubkey_import_privkey(pub, pk, 0, 0)) < 0 ||
		    (ret = gnutls_x509_crt_init(&c)) < 0 ||
		    (ret = gnutls_x509_crt_set_version(c, 3)) < 0 ||
		    (ret = gnutls_x509_crt_set_serial(c, serial,
		    sizeof(serial))) < 0 ||
		    (ret = gnutls_x509_crt_set_dn_by_oid(c,
		    GNUTLS_OID_X520_COMMON_NAME, 0, dns, strlen(dns))) < 0 ||
		    (ret = gnutls_x509_crt_set_pubkey(c, pub)) < 0 ||
		    (ret = gnutls_x509_crt_set_activation_time(c, now - 300)) <
		    0 ||
		    (ret = gnutls_x509_crt_set_expiration_time(c,
		    now + 90 * 86400)) < 0 ||
		    (ret = gnutls_x509_crt_set_subject_alt_name(c,
		    GNUTLS_SAN_DNSNAME, dns, strlen(dns), GNUTLS_FSAN_SET)) <
		    0 ||
		    (ret = gnutls_x509_crt_set_basic_constraints(c, 0, -1)) < 0 ||
		    (ret = gnutls_x509_crt_set_key_usage(c,
		    GNUTLS_KEY_DIGITAL_SIGNATURE)) < 0 ||
		    (ret = gnutls_x509_crt_set_key_purpose_oid(c,
		    GNUTLS_KP_TLS_WWW_SERVER, 0)) < 0 ||
		    (ret = gnutls_pubkey_get_key_id(pub, GNUTLS_KEYID_USE_SHA1,
		    id, &idlen)) < 0 ||
		    (ret = gnutls_x509_crt_set_subject_key_id(c, id, idlen)) <
		    0 ||
		    (ret = gnutls_x509_crt_set_authority_key_id(c, id, idlen)) <
		    0 ||
		    (ret = gnutls_x509_crt_privkey_sign(c, issuer, ikey,
		    GNUTLS_DIG_SHA384, 0)) < 0 ||
		    (ret = gnutls_x509_crt_export2(c, GNUTLS_X509_FMT_DER,
		    &der)) < 0)
			DIE("sign", ret);
		t2 = now_us();
		kg[i] = t1 - t0;
		sg[i] = t2 - t1;
		tot[i] = t2 - t0;
		gnutls_free(der.data);
		gnutls_x509_crt_deinit(c);
		gnutls_pubkey_deinit(pub);
		gnutls_privkey_deinit(pk);
		gnutls_x509_privkey_deinit(k);
	}
	wall = now_us() - wall;
	printf("{\"n\": %zu, \"keygen_us\": %.1f, \"sign_us\": %.1f, "
	    "\"total_us\": %.1f, \"wall_us_per_cert\": %.1f}\n", n,
	    median(kg, n), median(sg, n), median(tot, n), wall / (double)n);
	gnutls_x509_crt_deinit(issuer);
	gnutls_privkey_deinit(ikey);
	gnutls_x509_privkey_deinit(ixkey);
	gnutls_global_deinit();
	free(kg);
	free(sg);
	free(tot);
	return fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1;
}
