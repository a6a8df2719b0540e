/*
 * pkcs12.c - PKCS#12 export of an issued certificate with its key and
 * chain, for browsers and Java keystores.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/pkcs12.h>

#include "ops/ops-int.h"

int
ca_export_pkcs12(struct ca *ca, const char *name, const char *out_path,
    const struct ca_secret *pass, struct ca_err *err)
{
	gnutls_x509_crt_t crt = NULL;
	gnutls_x509_privkey_t key = NULL;
	gnutls_pkcs12_bag_t cbag = NULL, kbag = NULL;
	gnutls_pkcs12_t p12 = NULL;
	gnutls_datum_t kder = { NULL, 0 }, out = { NULL, 0 }, id;
	unsigned char keyid[64];
	size_t idlen = sizeof(keyid);
	char *dir = NULL, *p = NULL;
	int ret, idx;

	if (pass == NULL || pass->len == 0)
		return ca_err_set(err, CA_EPASS, "a PKCS#12 export needs a "
		    "passphrase");
	if ((ret = ca_name_check(name, err)) != 0)
		return ret;
	if ((dir = ca_path(ca, "issued")) == NULL ||
	    asprintf(&p, "%s/%s/cert.pem", dir, name) < 0) {
		p = NULL;
		ret = ca_err_set(err, CA_ENOMEM, "out of memory");
		goto out;
	}
	if (!ca_file_exists(p)) {
		ret = ca_err_set(err, CA_ENOENT, "no issued certificate '%s' in "
		    "'%s'", name, ca->dir);
		goto out;
	}
	if ((ret = ca_cert_load(&crt, p, err)) != 0)
		goto out;
	/* A revoked certificate is not handed out again in a new form. */
	{
		struct ca_db *db = NULL;
		struct ca_db_entry *e;
		char sn[64];
		if ((ret = ca_list(&db, ca, err)) != 0)
			goto out;
		ca_cert_serial_hex(sn, sizeof(sn), crt);
		e = ca_db_find_serial(db, sn);
		if (e == NULL || e->status == 'R') {
			ret = ca_err_set(err, e == NULL ? CA_EDB : CA_EPOLICY,
			    e == NULL ? "'%s' (serial %s) is not in the database" :
			    "'%s' (serial %s) is revoked; issue a new certificate "
			    "instead", name, sn);
			ca_db_free(db);
			goto out;
		}
		ca_db_free(db);
	}
	free(p);
	if (asprintf(&p, "%s/%s/key.pem", dir, name) < 0) {
		p = NULL;
		ret = ca_err_set(err, CA_ENOMEM, "out of memory");
		goto out;
	}
	if (!ca_file_exists(p)) {
		ret = ca_err_set(err, CA_ENOENT, "'%s' was signed from a CSR; its "
		    "key is not here to export", name);
		goto out;
	}
	if ((ret = ca_key_load(&key, p, NULL, err)) != 0)
		goto out;
	if (!ca_cert_matches_key(crt, key)) {
		ret = ca_err_set(err, CA_EVERIFY, "'%s' does not match its "
		    "certificate", p);
		goto out;
	}
	if ((ret = gnutls_x509_crt_get_key_id(crt, 0, keyid, &idlen)) < 0) {
		ret = ca_gnutls_err(err, ret, "cannot compute the key id");
		goto out;
	}
	id.data = keyid;
	id.size = (unsigned)idlen;

	/* The certificate bag: leaf (with friendly name and key id, so
	 * keytool and browsers pair it with the key), intermediate, root. */
	if ((ret = gnutls_pkcs12_bag_init(&cbag)) < 0)
		goto gerr;
	if ((idx = gnutls_pkcs12_bag_set_crt(cbag, crt)) < 0) {
		ret = idx;
		goto gerr;
	}
	if ((ret = gnutls_pkcs12_bag_set_friendly_name(cbag, (unsigned)idx,
	    name)) < 0 ||
	    (ret = gnutls_pkcs12_bag_set_key_id(cbag, (unsigned)idx, &id)) < 0)
		goto gerr;
	if (ca->crt != NULL && (ret = gnutls_pkcs12_bag_set_crt(cbag,
	    ca->crt)) < 0)
		goto gerr;
	if (ca->root != NULL && !ca_self_rooted(ca) &&
	    (ret = gnutls_pkcs12_bag_set_crt(cbag, ca->root)) < 0)
		goto gerr;
	if ((ret = gnutls_pkcs12_bag_encrypt(cbag, pass->buf,
	    GNUTLS_PKCS_PBES2_AES_256)) < 0)
		goto gerr;

	if ((ret = gnutls_x509_privkey_export2_pkcs8(key, GNUTLS_X509_FMT_DER,
	    pass->buf, GNUTLS_PKCS_PBES2_AES_256, &kder)) < 0)
		goto gerr;
	if ((ret = gnutls_pkcs12_bag_init(&kbag)) < 0)
		goto gerr;
	if ((idx = gnutls_pkcs12_bag_set_data(kbag,
	    GNUTLS_BAG_PKCS8_ENCRYPTED_KEY, &kder)) < 0) {
		ret = idx;
		goto gerr;
	}
	if ((ret = gnutls_pkcs12_bag_set_friendly_name(kbag, (unsigned)idx,
	    name)) < 0 ||
	    (ret = gnutls_pkcs12_bag_set_key_id(kbag, (unsigned)idx, &id)) < 0)
		goto gerr;

	if ((ret = gnutls_pkcs12_init(&p12)) < 0 ||
	    (ret = gnutls_pkcs12_set_bag(p12, cbag)) < 0 ||
	    (ret = gnutls_pkcs12_set_bag(p12, kbag)) < 0 ||
	    (ret = gnutls_pkcs12_generate_mac2(p12, GNUTLS_MAC_SHA256,
	    pass->buf)) < 0 ||
	    (ret = gnutls_pkcs12_export2(p12, GNUTLS_X509_FMT_DER, &out)) < 0)
		goto gerr;
	ret = ca_file_write_atomic(out_path, out.data, out.size, 0600, err);
	goto out;
gerr:
	ret = ca_gnutls_err(err, ret, "cannot build the PKCS#12 for '%s'", name);
out:
	ca_datum_wipe(&kder);
	ca_datum_wipe(&out);
	if (p12 != NULL)
		gnutls_pkcs12_deinit(p12);
	if (kbag != NULL)
		gnutls_pkcs12_bag_deinit(kbag);
	if (cbag != NULL)
		gnutls_pkcs12_bag_deinit(cbag);
	if (key != NULL)
		gnutls_x509_privkey_deinit(key);
	if (crt != NULL)
		gnutls_x509_crt_deinit(crt);
	free(p);
	free(dir);
	return ret;
}
