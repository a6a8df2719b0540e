/*
 * csr.c - certificate signing requests: made for intermediates, read and
 * checked when a device brings its own key.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "x509/x509-int.h"

int
ca_csr_create(gnutls_x509_crq_t *out, const char *subject,
    gnutls_x509_privkey_t key, struct ca_err *err)
{
	gnutls_x509_crq_t q = NULL;
	gnutls_privkey_t pk = NULL;
	gnutls_pubkey_t pub = NULL;
	const char *errpos = NULL;
	int ret;

	*out = NULL;
	if ((ret = gnutls_x509_crq_init(&q)) < 0)
		return ca_gnutls_err(err, ret, "cannot create a CSR");
	if ((ret = gnutls_x509_crq_set_dn(q, subject, &errpos)) < 0) {
		ret = ca_err_set(err, CA_EINVAL, "invalid subject '%s'%s%s",
		    subject, errpos ? " near: " : "", errpos ? errpos : "");
		goto out;
	}
	if ((ret = gnutls_x509_crq_set_version(q, 1)) < 0 ||
	    (ret = gnutls_x509_crq_set_key(q, key)) < 0) {
		ret = ca_gnutls_err(err, ret, "cannot build the CSR");
		goto out;
	}
	if ((ret = ca_privkey_to_abstract(&pk, key, err)) != 0)
		goto out;
	if ((ret = gnutls_pubkey_init(&pub)) < 0 ||
	    (ret = gnutls_pubkey_import_privkey(pub, pk, 0, 0)) < 0 ||
	    (ret = gnutls_x509_crq_privkey_sign(q, pk, ca_sign_hash(pub), 0)) <
	    0) {
		ret = ca_gnutls_err(err, ret, "cannot sign the CSR");
		goto out;
	}
	*out = q;
	q = NULL;
	ret = 0;
out:
	if (pub != NULL)
		gnutls_pubkey_deinit(pub);
	if (pk != NULL)
		gnutls_privkey_deinit(pk);
	if (q != NULL)
		gnutls_x509_crq_deinit(q);
	return ret;
}

int
ca_csr_check(gnutls_x509_crq_t q, const char *what, struct ca_err *err)
{
	gnutls_pubkey_t pub = NULL;
	gnutls_digest_algorithm_t h;
	int sig, ret;

	/* The self-signature proves possession of the key and that nothing
	 * in the request was changed on the way. */
	if (gnutls_x509_crq_verify(q, 0) < 0)
		return ca_err_set(err, CA_EVERIFY, "CSR '%s' has a bad signature "
		    "(tampered or corrupt)", what);
	sig = gnutls_x509_crq_get_signature_algorithm(q);
	h = sig < 0 ? GNUTLS_DIG_UNKNOWN :
	    gnutls_sign_get_hash_algorithm((gnutls_sign_algorithm_t)sig);
	if (sig < 0 || h == GNUTLS_DIG_MD5 || h == GNUTLS_DIG_SHA1 ||
	    h == GNUTLS_DIG_MD2)
		return ca_err_set(err, CA_EPOLICY, "CSR '%s' is signed with %s: "
		    "SHA-256 or stronger is required", what, sig < 0 ? "an "
		    "unknown algorithm" : gnutls_sign_get_name(
		    (gnutls_sign_algorithm_t)sig));
	if ((ret = gnutls_pubkey_init(&pub)) < 0)
		return ca_err_set(err, CA_ENOMEM, "out of memory");
	if ((ret = gnutls_pubkey_import_x509_crq(pub, q, 0)) < 0) {
		gnutls_pubkey_deinit(pub);
		return ca_gnutls_err(err, ret, "CSR '%s' has an unusable key",
		    what);
	}
	{
		char w[600];
		snprintf(w, sizeof(w), "CSR '%s'", what);
		ret = ca_pubkey_check_policy(pub, w, err);
	}
	gnutls_pubkey_deinit(pub);
	return ret;
}

int
ca_csr_load(gnutls_x509_crq_t *out, const char *path, struct ca_err *err)
{
	gnutls_x509_crq_t q = NULL;
	gnutls_datum_t d;
	int ret;

	*out = NULL;
	if ((ret = ca_datum_read(&d, path, CA_MAX_FILE, err)) != 0)
		return ret;
	if ((ret = gnutls_x509_crq_init(&q)) < 0) {
		free(d.data);
		return ca_gnutls_err(err, ret, "cannot read CSR '%s'", path);
	}
	ret = gnutls_x509_crq_import(q, &d, ca_fmt_of(&d));
	free(d.data);
	if (ret < 0) {
		gnutls_x509_crq_deinit(q);
		return ca_gnutls_err(err, ret, "cannot parse CSR '%s'", path);
	}
	if ((ret = ca_csr_check(q, path, err)) != 0) {
		gnutls_x509_crq_deinit(q);
		return ret;
	}
	*out = q;
	return 0;
}
