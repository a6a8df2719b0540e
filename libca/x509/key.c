/*
 * key.c - key generation, PKCS#8 at rest (PBES2/AES-256), loading with a
 * permission check, and the key-strength policy.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "x509/x509-int.h"

void
ca_datum_wipe(gnutls_datum_t *d)
{
	if (d == NULL || d->data == NULL)
		return;
	gnutls_memset(d->data, 0, d->size);
	gnutls_free(d->data);
	d->data = NULL;
	d->size = 0;
}

/* Datum read by ca_datum_read() is malloc'd, not gnutls_malloc'd. */
void
ca_datum_wipe_heap(gnutls_datum_t *d)
{
	if (d->data == NULL)
		return;
	gnutls_memset(d->data, 0, d->size);
	free(d->data);
	d->data = NULL;
	d->size = 0;
}

int
ca_key_generate(gnutls_x509_privkey_t *out, enum ca_key_alg alg,
    struct ca_err *err)
{
	gnutls_x509_privkey_t k = NULL;
	gnutls_pk_algorithm_t pk;
	unsigned bits;
	int ret;

	*out = NULL;
	switch (alg) {
	case CA_KEY_ECDSA_P256:
		pk = GNUTLS_PK_ECDSA;
		bits = GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1);
		break;
	case CA_KEY_ECDSA_P384:
		pk = GNUTLS_PK_ECDSA;
		bits = GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP384R1);
		break;
	case CA_KEY_ECDSA_P521:
		pk = GNUTLS_PK_ECDSA;
		bits = GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP521R1);
		break;
	case CA_KEY_ED25519:
		pk = GNUTLS_PK_EDDSA_ED25519;
		bits = GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_ED25519);
		break;
	case CA_KEY_RSA_2048:
		pk = GNUTLS_PK_RSA;
		bits = 2048;
		break;
	case CA_KEY_RSA_3072:
		pk = GNUTLS_PK_RSA;
		bits = 3072;
		break;
	case CA_KEY_RSA_4096:
		pk = GNUTLS_PK_RSA;
		bits = 4096;
		break;
	default:
		return ca_err_set(err, CA_EINVAL, "unknown key algorithm");
	}
	if ((ret = gnutls_x509_privkey_init(&k)) < 0)
		return ca_gnutls_err(err, ret, "cannot create a key");
	if ((ret = gnutls_x509_privkey_generate2(k, pk, bits, 0, NULL, 0)) < 0) {
		gnutls_x509_privkey_deinit(k);
		return ca_gnutls_err(err, ret, "cannot generate a %s key",
		    ca_key_alg_name(alg));
	}
	*out = k;
	return 0;
}

int
ca_key_export(gnutls_datum_t *out, gnutls_x509_privkey_t key,
    const struct ca_secret *pass, struct ca_err *err)
{
	int ret;

	out->data = NULL;
	out->size = 0;
	if (pass != NULL)
		ret = gnutls_x509_privkey_export2_pkcs8(key, GNUTLS_X509_FMT_PEM,
		    pass->buf, GNUTLS_PKCS_PBES2_AES_256, out);
	else
		ret = gnutls_x509_privkey_export2_pkcs8(key, GNUTLS_X509_FMT_PEM,
		    NULL, GNUTLS_PKCS_PLAIN, out);
	if (ret < 0)
		return ca_gnutls_err(err, ret, "cannot export the key");
	return 0;
}

int
ca_key_write(const char *path, gnutls_x509_privkey_t key,
    const struct ca_secret *pass, int excl, struct ca_err *err)
{
	gnutls_datum_t pem = { NULL, 0 };
	int ret;

	mode_t old;

	if ((ret = ca_key_export(&pem, key, pass, err)) != 0)
		return ret;
	/* The temp file is made 0600 and fchmod'ed before its first byte;
	 * umask 077 is the second lock on the door, for anything a later
	 * change might create on the way. */
	old = umask(077);
	if (excl)
		ret = ca_file_write_new(path, pem.data, pem.size, 0600, err);
	else
		ret = ca_file_write_atomic(path, pem.data, pem.size, 0600, err);
	umask(old);
	ca_datum_wipe(&pem);
	return ret;
}

static int
pem_is_encrypted(const gnutls_datum_t *d)
{
	return memmem(d->data, d->size, "-----BEGIN ENCRYPTED PRIVATE KEY",
	    32) != NULL;
}

int
ca_key_file_encrypted(const char *path, struct ca_err *err)
{
	gnutls_datum_t d;
	int ret;

	if ((ret = ca_datum_read(&d, path, CA_MAX_FILE, err)) != 0)
		return ret;
	ret = pem_is_encrypted(&d);
	ca_datum_wipe_heap(&d);
	return ret;
}

int
ca_key_load(gnutls_x509_privkey_t *out, const char *path,
    const struct ca_secret *pass, struct ca_err *err)
{
	gnutls_x509_privkey_t k = NULL;
	gnutls_datum_t d = { NULL, 0 };
	int ret;

	*out = NULL;
	if ((ret = ca_file_check_private(path, err)) != 0) {
		struct stat st;
		if (ret == CA_EPERM && lstat(path, &st) == 0 &&
		    !S_ISLNK(st.st_mode))
			return ca_err_set(err, CA_EPERM, "key file '%s' is "
			    "readable by group or others: chmod 600 it", path);
		return ret;
	}
	if ((ret = ca_datum_read(&d, path, CA_MAX_FILE, err)) != 0)
		return ret;
	if (pem_is_encrypted(&d) && pass == NULL) {
		ret = ca_err_set(err, CA_EPASS, "key '%s' is encrypted: a "
		    "passphrase is needed", path);
		goto out;
	}
	if ((ret = gnutls_x509_privkey_init(&k)) < 0) {
		ret = ca_gnutls_err(err, ret, "cannot load '%s'", path);
		goto out;
	}
	ret = gnutls_x509_privkey_import2(k, &d, GNUTLS_X509_FMT_PEM,
	    pass != NULL ? pass->buf : NULL, pass != NULL ? 0 :
	    GNUTLS_PKCS_PLAIN);
	if (ret == GNUTLS_E_DECRYPTION_FAILED) {
		ret = ca_err_set(err, CA_EPASS, "wrong passphrase for key '%s'",
		    path);
		goto out;
	}
	if (ret < 0) {
		ret = ca_gnutls_err(err, ret, "cannot load key '%s'", path);
		goto out;
	}
	*out = k;
	k = NULL;
	ret = 0;
out:
	if (k != NULL)
		gnutls_x509_privkey_deinit(k);
	ca_datum_wipe_heap(&d);
	return ret;
}

int
ca_privkey_to_abstract(gnutls_privkey_t *out, gnutls_x509_privkey_t k,
    struct ca_err *err)
{
	gnutls_privkey_t p = NULL;
	int ret;

	*out = NULL;
	if ((ret = gnutls_privkey_init(&p)) < 0)
		return ca_gnutls_err(err, ret, "cannot use the key");
	/* No GNUTLS_PRIVKEY_IMPORT_AUTO_RELEASE: the caller keeps k. */
	if ((ret = gnutls_privkey_import_x509(p, k, 0)) < 0) {
		gnutls_privkey_deinit(p);
		return ca_gnutls_err(err, ret, "cannot use the key");
	}
	*out = p;
	return 0;
}

/* The named curve of an ECDSA key (bit counts are ambiguous: GnuTLS
 * reports P-521 as 528 bits). */
static gnutls_ecc_curve_t
ecc_curve(gnutls_pubkey_t pub)
{
	gnutls_ecc_curve_t curve = GNUTLS_ECC_CURVE_INVALID;

	if (gnutls_pubkey_export_ecc_raw2(pub, &curve, NULL, NULL, 0) < 0)
		return GNUTLS_ECC_CURVE_INVALID;
	return curve;
}

int
ca_pubkey_check_policy(gnutls_pubkey_t pub, const char *what,
    struct ca_err *err)
{
	unsigned bits = 0;
	int pk;

	pk = gnutls_pubkey_get_pk_algorithm(pub, &bits);
	switch (pk) {
	case GNUTLS_PK_RSA:
		if (bits < 2048)
			return ca_err_set(err, CA_EPOLICY, "%s: RSA key of %u bits "
			    "is too weak (at least 2048)", what, bits);
		if (bits > 16384)
			return ca_err_set(err, CA_EPOLICY, "%s: RSA key of %u bits "
			    "is larger than any verifier accepts", what, bits);
		return 0;
	case GNUTLS_PK_ECDSA:
		switch (ecc_curve(pub)) {
		case GNUTLS_ECC_CURVE_SECP256R1:
		case GNUTLS_ECC_CURVE_SECP384R1:
		case GNUTLS_ECC_CURVE_SECP521R1:
			return 0;
		default:
			return ca_err_set(err, CA_EPOLICY, "%s: ECDSA curve of %u "
			    "bits is not allowed (P-256, P-384 or P-521)", what,
			    bits);
		}
	case GNUTLS_PK_EDDSA_ED25519:
	case GNUTLS_PK_EDDSA_ED448:
		return 0;
	default:
		return ca_err_set(err, CA_EPOLICY, "%s: key type %s is not "
		    "allowed", what, gnutls_pk_get_name((gnutls_pk_algorithm_t)pk)
		    ? gnutls_pk_get_name((gnutls_pk_algorithm_t)pk) : "unknown");
	}
}

void
ca_pubkey_describe(char *buf, size_t len, gnutls_pubkey_t pub)
{
	unsigned bits = 0;
	int pk = gnutls_pubkey_get_pk_algorithm(pub, &bits);

	switch (pk) {
	case GNUTLS_PK_RSA:
		snprintf(buf, len, "rsa-%u", bits);
		break;
	case GNUTLS_PK_ECDSA:
		switch (ecc_curve(pub)) {
		case GNUTLS_ECC_CURVE_SECP256R1:
			snprintf(buf, len, "ecdsa-p256");
			break;
		case GNUTLS_ECC_CURVE_SECP384R1:
			snprintf(buf, len, "ecdsa-p384");
			break;
		case GNUTLS_ECC_CURVE_SECP521R1:
			snprintf(buf, len, "ecdsa-p521");
			break;
		default:
			snprintf(buf, len, "ecdsa-%u", bits);
		}
		break;
	case GNUTLS_PK_EDDSA_ED25519:
		snprintf(buf, len, "ed25519");
		break;
	case GNUTLS_PK_EDDSA_ED448:
		snprintf(buf, len, "ed448");
		break;
	default:
		snprintf(buf, len, "%s-%u", gnutls_pk_get_name(
		    (gnutls_pk_algorithm_t)pk) ? gnutls_pk_get_name(
		    (gnutls_pk_algorithm_t)pk) : "unknown", bits);
	}
}

int
ca_pubkey_fingerprint(char *buf, size_t len, gnutls_pubkey_t pub)
{
	unsigned char id[32];
	size_t n = sizeof(id);

	if (len < 65 || gnutls_pubkey_get_key_id(pub, GNUTLS_KEYID_USE_SHA256,
	    id, &n) < 0 || n != 32)
		return CA_ECRYPTO;
	ca_hex(buf, id, 32, 0);
	return 0;
}

gnutls_digest_algorithm_t
ca_sign_hash(gnutls_pubkey_t signer)
{
	unsigned bits = 0;

	switch (gnutls_pubkey_get_pk_algorithm(signer, &bits)) {
	case GNUTLS_PK_ECDSA:
		switch (ecc_curve(signer)) {
		case GNUTLS_ECC_CURVE_SECP521R1:
			return GNUTLS_DIG_SHA512;
		case GNUTLS_ECC_CURVE_SECP384R1:
			return GNUTLS_DIG_SHA384;
		default:
			return GNUTLS_DIG_SHA256;
		}
	case GNUTLS_PK_EDDSA_ED25519:
		return GNUTLS_DIG_SHA512;
	case GNUTLS_PK_EDDSA_ED448:
		return GNUTLS_DIG_SHAKE_256;
	default:
		return GNUTLS_DIG_SHA256;
	}
}
