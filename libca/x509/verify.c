/*
 * verify.c - chain verification at a given time, with optional CRLs.
 *
 * GnuTLS's trust list checks times against the system clock; tierca's
 * "now" may be TIERCA_NOW, so times and revocation are checked here and
 * GnuTLS checks signatures, constraints and purposes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "x509/x509-int.h"

static int
cn_of(char *buf, size_t len, gnutls_x509_crt_t c)
{
	size_t n = len;

	if (gnutls_x509_crt_get_dn_by_oid(c, GNUTLS_OID_X520_COMMON_NAME, 0, 0,
	    buf, &n) < 0)
		snprintf(buf, len, "(no CN)");
	return 0;
}

static int
check_time(gnutls_x509_crt_t c, time_t now, struct ca_err *err)
{
	char cn[256], t[32];

	cn_of(cn, sizeof(cn), c);
	if (now < gnutls_x509_crt_get_activation_time(c)) {
		ca_time_format(t, sizeof(t), gnutls_x509_crt_get_activation_time(c));
		return ca_err_set(err, CA_EVERIFY, "certificate '%s' is not valid "
		    "before %s", cn, t);
	}
	if (now >= gnutls_x509_crt_get_expiration_time(c)) {
		ca_time_format(t, sizeof(t), gnutls_x509_crt_get_expiration_time(c));
		return ca_err_set(err, CA_EVERIFY, "certificate '%s' expired at %s",
		    cn, t);
	}
	return 0;
}

/* GnuTLS 3.7 judges a CRL's dates by the system clock even with time
 * checks disabled. Those bits (and the INVALID that comes with them) are
 * ignored here; the dates are judged at `now' by the caller. Any other
 * bit, a bad signature above all, fails. */
static int
crl_status_ok(unsigned vst)
{
	const unsigned timebits = GNUTLS_CERT_REVOCATION_DATA_ISSUED_IN_FUTURE |
	    GNUTLS_CERT_REVOCATION_DATA_SUPERSEDED;

	if (vst == 0)
		return 1;
	return (vst & timebits) != 0 &&
	    (vst & ~(timebits | GNUTLS_CERT_INVALID)) == 0;
}

int
ca_crl_signed_by(gnutls_x509_crl_t crl, gnutls_x509_crt_t ca)
{
	unsigned vst = 0;

	if (gnutls_x509_crl_verify(crl, &ca, 1,
	    GNUTLS_VERIFY_DISABLE_TIME_CHECKS |
	    GNUTLS_VERIFY_DISABLE_TRUSTED_TIME_CHECKS, &vst) < 0)
		return 0;
	return crl_status_ok(vst);
}

int
ca_verify_chain(gnutls_x509_crt_t crt, gnutls_x509_crt_t *inter,
    size_t ninter, gnutls_x509_crt_t *anchors, size_t nanchors,
    gnutls_x509_crl_t *crls, size_t ncrls, const char *purpose, time_t now,
    struct ca_err *err)
{
	gnutls_x509_trust_list_t tl = NULL;
	gnutls_x509_crt_t *chain = NULL;
	gnutls_typed_vdata_st vd;
	gnutls_datum_t why = { NULL, 0 };
	unsigned status = 0;
	size_t i, j;
	int ret;

	if ((chain = calloc(ninter + 1, sizeof(*chain))) == NULL)
		return ca_err_set(err, CA_ENOMEM, "out of memory");
	chain[0] = crt;
	for (i = 0; i < ninter; i++)
		chain[i + 1] = inter[i];
	if ((ret = gnutls_x509_trust_list_init(&tl, 0)) < 0) {
		ret = ca_gnutls_err(err, ret, "cannot verify");
		goto out;
	}
	/* The trust list does not take ownership with these flags. */
	ret = gnutls_x509_trust_list_add_cas(tl, anchors, (unsigned)nanchors,
	    GNUTLS_TL_NO_DUPLICATES);
	if (ret < 0) {
		ret = ca_gnutls_err(err, ret, "cannot load trust anchors");
		goto out;
	}
	memset(&vd, 0, sizeof(vd));
	vd.type = GNUTLS_DT_KEY_PURPOSE_OID;
	vd.data = (unsigned char *)(uintptr_t)purpose;
	ret = gnutls_x509_trust_list_verify_crt2(tl, chain,
	    (unsigned)ninter + 1, &vd, purpose != NULL ? 1 : 0,
	    GNUTLS_VERIFY_DISABLE_TIME_CHECKS |
	    GNUTLS_VERIFY_DISABLE_TRUSTED_TIME_CHECKS, &status, NULL);
	if (ret < 0) {
		ret = ca_gnutls_err(err, ret, "cannot verify");
		goto out;
	}
	if (status != 0) {
		gnutls_certificate_verification_status_print(status,
		    GNUTLS_CRT_X509, &why, 0);
		ret = ca_err_set(err, CA_EVERIFY, "chain does not verify: %.*s",
		    (int)why.size, why.data ? (char *)why.data : "");
		gnutls_free(why.data);
		goto out;
	}
	for (i = 0; i < ninter + 1; i++)
		if ((ret = check_time(chain[i], now, err)) != 0)
			goto out;
	/* Revocation: a CRL counts only once its signature verifies against
	 * the CA that issued it; then every certificate it covers is looked
	 * up in it. */
	for (j = 0; j < ncrls && crls != NULL; j++) {
		gnutls_x509_crt_t signer = NULL;
		unsigned vst = 0;
		for (i = 1; i < ninter + 1 && signer == NULL; i++)
			if (gnutls_x509_crl_check_issuer(crls[j], chain[i]))
				signer = chain[i];
		for (i = 0; i < nanchors && signer == NULL; i++)
			if (gnutls_x509_crl_check_issuer(crls[j], anchors[i]))
				signer = anchors[i];
		/* GnuTLS 3.7 judges a CRL's dates by the system clock even with
		 * time checks disabled; those bits are masked out here and the
		 * dates judged at `now' below. A bad signature sets its own
		 * bit, which is kept. */
		if (signer == NULL || gnutls_x509_crl_verify(crls[j], &signer, 1,
		    GNUTLS_VERIFY_DISABLE_TIME_CHECKS |
		    GNUTLS_VERIFY_DISABLE_TRUSTED_TIME_CHECKS, &vst) < 0 ||
		    !crl_status_ok(vst)) {
			ret = ca_err_set(err, CA_EVERIFY, "a CRL does not verify "
			    "against its issuer");
			goto out;
		}
		/* Its times at `now': a stale CRL proves nothing. */
		{
			time_t tu = gnutls_x509_crl_get_this_update(crls[j]);
			time_t nu = gnutls_x509_crl_get_next_update(crls[j]);
			char t[32];
			if (now < tu || (nu != (time_t)-1 && now >= nu)) {
				ca_time_format(t, sizeof(t), now < tu ? tu : nu);
				ret = ca_err_set(err, CA_EVERIFY, "a CRL is %s (%s)",
				    now < tu ? "not yet valid" : "expired", t);
				goto out;
			}
		}
		for (i = 0; i < ninter + 1; i++) {
			char sn[64], cn[256];
			if (gnutls_x509_crt_check_revocation(chain[i], &crls[j], 1)
			    != 1)
				continue;
			cn_of(cn, sizeof(cn), chain[i]);
			ca_cert_serial_hex(sn, sizeof(sn), chain[i]);
			ret = ca_err_set(err, CA_EVERIFY, "certificate '%s' (serial "
			    "%s) is revoked", cn, sn);
			goto out;
		}
	}
	ret = 0;
out:
	if (tl != NULL)
		gnutls_x509_trust_list_deinit(tl, 0);
	free(chain);
	return ret;
}
