/*
 * info.c - describing CSRs and certificates for people, and the
 * path-level signing entry points the tools use.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/ops-int.h"

void
ca_csr_info_clear(struct ca_csr_info *ci)
{
	free(ci->subject);
	ca_strv_free(&ci->dns);
	ca_strv_free(&ci->ip);
	ca_strv_free(&ci->email);
	memset(ci, 0, sizeof(*ci));
}

int
ca_csr_info_load(struct ca_csr_info *out, const char *path,
    struct ca_err *err)
{
	gnutls_x509_crq_t q = NULL;
	gnutls_pubkey_t pub = NULL;
	gnutls_datum_t dn = { NULL, 0 };
	unsigned crit = 0, isca = 0;
	int pathlen, ret;

	memset(out, 0, sizeof(*out));
	if ((ret = ca_sha256_file(out->csr_sha256, sizeof(out->csr_sha256), path,
	    err)) != 0)
		return ret;
	if ((ret = ca_csr_load(&q, path, err)) != 0)
		return ret;
	if (gnutls_x509_crq_get_dn3(q, &dn, 0) >= 0)
		out->subject = strndup((char *)dn.data, dn.size);
	gnutls_free(dn.data);
	if ((ret = gnutls_pubkey_init(&pub)) < 0 ||
	    (ret = gnutls_pubkey_import_x509_crq(pub, q, 0)) < 0) {
		ret = ca_gnutls_err(err, ret, "CSR '%s': unusable key", path);
		goto out;
	}
	ca_pubkey_describe(out->key, sizeof(out->key), pub);
	ca_pubkey_fingerprint(out->spki_sha256, sizeof(out->spki_sha256), pub);
	if (gnutls_x509_crq_get_basic_constraints(q, &crit, &isca, &pathlen) >=
	    0 && isca)
		out->asks_ca = 1;
	if ((ret = ca_crq_names(&out->dns, &out->ip, &out->email, q, path, 0,
	    err)) != 0)
		goto out;
	ret = 0;
out:
	if (pub != NULL)
		gnutls_pubkey_deinit(pub);
	gnutls_x509_crq_deinit(q);
	if (ret != 0)
		ca_csr_info_clear(out);
	return ret;
}

int
ca_sign_csr_file(struct ca_issued *out, struct ca *ca,
    const struct ca_issue_opts *o, const char *csr_path, time_t now,
    struct ca_err *err)
{
	gnutls_x509_crq_t q = NULL;
	int ret;

	memset(out, 0, sizeof(*out));
	if ((ret = ca_csr_load(&q, csr_path, err)) != 0)
		return ret;
	ret = ca_sign_csr(out, ca, o, q, now, err);
	gnutls_x509_crq_deinit(q);
	return ret;
}

/* ---- show -------------------------------------------------------------- */

static void
show_names(struct ca_sbuf *b, gnutls_x509_crt_t c)
{
	unsigned char buf[512];
	char shown[64];
	unsigned i;
	size_t n;
	int type;

	for (i = 0;; i++) {
		n = sizeof(buf) - 1;
		type = gnutls_x509_crt_get_subject_alt_name(c, i, buf, &n, NULL);
		if (type < 0)
			break;
		buf[n] = '\0';
		if (type == GNUTLS_SAN_DNSNAME)
			ca_sb_printf(b, "  DNS:           %s\n", buf);
		else if (type == GNUTLS_SAN_RFC822NAME)
			ca_sb_printf(b, "  email:         %s\n", buf);
		else if (type == GNUTLS_SAN_IPADDRESS && (n == 4 || n == 16) &&
		    inet_ntop(n == 4 ? AF_INET : AF_INET6, buf, shown,
		    sizeof(shown)) != NULL)
			ca_sb_printf(b, "  IP:            %s\n", shown);
	}
}

int
ca_show(char **out, struct ca *ca, const char *key, time_t now,
    struct ca_err *err)
{
	struct ca_db *db = NULL;
	struct ca_db_entry *e;
	gnutls_x509_crt_t c = NULL;
	gnutls_pubkey_t pub = NULL;
	gnutls_datum_t issuer = { NULL, 0 };
	struct ca_sbuf b = { NULL, 0, 0, 0 };
	char *p = NULL, *subj = NULL, t1[32], t2[32], fp[65], kd[32], eku[128];
	size_t n;
	unsigned i;
	int ret;
	const char *state;

	*out = NULL;
	if ((ret = ca_list(&db, ca, err)) != 0)
		return ret;
	if (ca_find(&e, db, key) != 0) {
		ret = ca_err_set(err, CA_ENOENT, "no certificate with serial or "
		    "name '%s' in '%s'", key, db->path);
		goto out;
	}
	if (asprintf(&p, "%s/certs/%s.pem", ca->dir, e->serial) < 0) {
		p = NULL;
		ret = ca_err_set(err, CA_ENOMEM, "out of memory");
		goto out;
	}
	if ((ret = ca_cert_load(&c, p, err)) != 0)
		goto out;
	state = e->status == 'R' ? "revoked" : (e->status == 'E' ||
	    e->not_after <= now) ? "expired" : "valid";
	ca_cert_subject(&subj, c);
	gnutls_x509_crt_get_issuer_dn3(c, &issuer, 0);
	ca_time_format(t1, sizeof(t1), gnutls_x509_crt_get_activation_time(c));
	ca_time_format(t2, sizeof(t2), gnutls_x509_crt_get_expiration_time(c));
	ca_sb_printf(&b, "name:            %s\n", e->name);
	ca_sb_printf(&b, "serial:          %s\n", e->serial);
	ca_sb_printf(&b, "status:          %s", state);
	if (e->status == 'R') {
		char t3[32];
		ca_time_format(t3, sizeof(t3), e->revoked_at);
		ca_sb_printf(&b, " (%s, %s)", t3, ca_reason_name(e->reason));
	} else if (e->not_after > now)
		ca_sb_printf(&b, " (%lld days left)",
		    (long long)((e->not_after - now) / 86400));
	ca_sb_printf(&b, "\nsubject:         %s\n", subj ? subj : "");
	ca_sb_printf(&b, "issuer:          %.*s\n", (int)issuer.size,
	    issuer.data ? (char *)issuer.data : "");
	ca_sb_printf(&b, "not before:      %s\nnot after:       %s\n", t1, t2);
	if (gnutls_pubkey_init(&pub) >= 0 &&
	    gnutls_pubkey_import_x509(pub, c, 0) >= 0) {
		ca_pubkey_describe(kd, sizeof(kd), pub);
		ca_sb_printf(&b, "key:             %s\n", kd);
	}
	for (i = 0;; i++) {
		n = sizeof(eku);
		if (gnutls_x509_crt_get_key_purpose_oid(c, i, eku, &n, NULL) < 0)
			break;
		ca_sb_printf(&b, "purpose:         %s\n",
		    strcmp(eku, GNUTLS_KP_TLS_WWW_SERVER) == 0 ? "serverAuth" :
		    strcmp(eku, GNUTLS_KP_TLS_WWW_CLIENT) == 0 ? "clientAuth" : eku);
	}
	ca_sb_printf(&b, "names:\n");
	show_names(&b, c);
	if (ca_cert_sha256(fp, sizeof(fp), c) == 0)
		ca_sb_printf(&b, "sha256:          %s\n", fp);
	ca_sb_printf(&b, "file:            %s\n", p);
	if (b.oom || b.p == NULL) {
		ret = ca_err_set(err, CA_ENOMEM, "out of memory");
		goto out;
	}
	*out = b.p;
	b.p = NULL;
	ret = 0;
out:
	free(b.p);
	free(subj);
	free(p);
	gnutls_free(issuer.data);
	if (pub != NULL)
		gnutls_pubkey_deinit(pub);
	if (c != NULL)
		gnutls_x509_crt_deinit(c);
	ca_db_free(db);
	return ret;
}

void
ca_self_info_clear(struct ca_self_info *si)
{
	free(si->subject);
	memset(si, 0, sizeof(*si));
}

int
ca_self_info(struct ca_self_info *out, struct ca *ca)
{
	memset(out, 0, sizeof(*out));
	if (ca->crt == NULL)
		return CA_ENOENT;
	ca_cert_subject(&out->subject, ca->crt);
	out->not_before = gnutls_x509_crt_get_activation_time(ca->crt);
	out->not_after = gnutls_x509_crt_get_expiration_time(ca->crt);
	ca_cert_sha256(out->sha256, sizeof(out->sha256), ca->crt);
	ca_cert_serial_hex(out->serial, sizeof(out->serial), ca->crt);
	return 0;
}
