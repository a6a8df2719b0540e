/*
 * export.c - what servers and clients are handed: the root's CRL brought
 * back from a ceremony, the CRL bundle a server checking client
 * certificates needs, trust anchors (PEM, DER, update-ca-certificates).
 *
 * nginx and other OpenSSL-based servers check a CRL for every CA of the
 * path once CRL checking is on: without a current root CRL next to the
 * intermediate's, every client is refused. Hence a bundle is only
 * written when both CRLs are the right CAs' and valid now.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ops/ops-int.h"

/* The big-endian magnitude of a CRL number, leading zeros dropped;
 * len 0 when the CRL has none. */
struct crlnum {
	unsigned char b[32];
	size_t len;
};

static void
crl_number(struct crlnum *out, gnutls_x509_crl_t crl)
{
	unsigned char buf[64];
	size_t n = sizeof(buf), i = 0;
	unsigned crit = 0;

	out->len = 0;
	if (gnutls_x509_crl_get_number(crl, buf, &n, &crit) < 0)
		return;
	while (i < n && buf[i] == 0)
		i++;
	if (n - i > sizeof(out->b))
		return;
	memcpy(out->b, buf + i, n - i);
	out->len = n - i;
}

static int
crlnum_cmp(const struct crlnum *a, const struct crlnum *b)
{
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	return memcmp(a->b, b->b, a->len);
}

static void
crlnum_hex(char *out, size_t len, const struct crlnum *n)
{
	if (n->len == 0) {
		snprintf(out, len, "none");
		return;
	}
	if (len < n->len * 2 + 1) {
		snprintf(out, len, "?");
		return;
	}
	ca_hex(out, n->b, n->len, 1);
}

/* A CRL of issuer, usable at now: its signature, and thisUpdate <= now <
 * nextUpdate. what names it in errors. */
static int
crl_check(gnutls_x509_crl_t crl, gnutls_x509_crt_t issuer, time_t now,
    const char *what, struct ca_err *err)
{
	time_t tu = gnutls_x509_crl_get_this_update(crl);
	time_t nu = gnutls_x509_crl_get_next_update(crl);
	char t[32];

	if (!ca_crl_signed_by(crl, issuer))
		return ca_err_set(err, CA_EVERIFY, "%s is not signed by its CA "
		    "(a CRL of another CA, or altered)", what);
	if (tu == (time_t)-1 || tu > now) {
		ca_time_format(t, sizeof(t), tu);
		return ca_err_set(err, CA_EVERIFY, "%s is not valid before %s",
		    what, t);
	}
	if (nu == (time_t)-1)
		return ca_err_set(err, CA_EVERIFY, "%s has no nextUpdate", what);
	if (nu <= now) {
		ca_time_format(t, sizeof(t), nu);
		return ca_err_set(err, CA_EVERIFY, "%s expired on %s: servers "
		    "would refuse every client", what, t);
	}
	return 0;
}

static int
need_ica(const struct ca *ca, struct ca_err *err)
{
	if (ca->kind == CA_KIND_ROOT || ca->root == NULL || ca->crt == NULL)
		return ca_err_set(err, CA_EINVAL, "'%s' is not an installed "
		    "intermediate (run 'tierca-ica install' first)", ca->dir);
	return 0;
}

int
ca_root_crl_import(struct ca_root_crl_info *out, struct ca *ca,
    const char *path, time_t now, struct ca_err *err)
{
	gnutls_x509_crl_t crl = NULL, cur = NULL;
	gnutls_datum_t pem = { NULL, 0 };
	struct crlnum n, have;
	struct ca_err e2 = { 0 };
	char *dst = NULL, what[600];
	int ret;

	memset(out, 0, sizeof(*out));
	if ((ret = need_ica(ca, err)) != 0)
		return ret;
	if ((ret = ca_crl_load(&crl, path, err)) != 0)
		return ret;
	snprintf(what, sizeof(what), "root CRL '%s'", path);
	if ((ret = crl_check(crl, ca->root, now, what, err)) != 0)
		goto out;
	crl_number(&n, crl);
	if ((dst = ca_path(ca, "root-crl.pem")) == NULL) {
		ret = ca_err_set(err, CA_ENOMEM, "out of memory");
		goto out;
	}
	/* An older CRL would bring revoked intermediates back to life. */
	if (ca_file_exists(dst) && ca_crl_load(&cur, dst, &e2) == 0 &&
	    ca_crl_signed_by(cur, ca->root)) {
		crl_number(&have, cur);
		if (crlnum_cmp(&n, &have) < 0 ||
		    (crlnum_cmp(&n, &have) == 0 &&
		    gnutls_x509_crl_get_this_update(crl) <
		    gnutls_x509_crl_get_this_update(cur))) {
			char a[72], b[72];
			crlnum_hex(a, sizeof(a), &n);
			crlnum_hex(b, sizeof(b), &have);
			ret = ca_err_set(err, CA_EEXIST, "root CRL '%s' (number "
			    "%s) is older than the one in '%s' (number %s)",
			    path, a, dst, b);
			goto out;
		}
		if (crlnum_cmp(&n, &have) == 0 &&
		    gnutls_x509_crl_get_this_update(crl) ==
		    gnutls_x509_crl_get_this_update(cur))
			out->unchanged = 1;
	}
	if ((ret = gnutls_x509_crl_export2(crl, GNUTLS_X509_FMT_PEM,
	    &pem)) < 0) {
		ret = ca_gnutls_err(err, ret, "cannot encode root CRL '%s'",
		    path);
		goto out;
	}
	if (!out->unchanged &&
	    (ret = ca_file_write_atomic(dst, pem.data, pem.size, 0644,
	    err)) != 0)
		goto out;
	crlnum_hex(out->number, sizeof(out->number), &n);
	out->this_update = gnutls_x509_crl_get_this_update(crl);
	out->next_update = gnutls_x509_crl_get_next_update(crl);
	ret = gnutls_x509_crl_get_crt_count(crl);
	out->nrevoked = ret > 0 ? (size_t)ret : 0;
	ret = 0;
out:
	gnutls_free(pem.data);
	free(dst);
	if (crl != NULL)
		gnutls_x509_crl_deinit(crl);
	if (cur != NULL)
		gnutls_x509_crl_deinit(cur);
	return ret;
}

/* Appends the PEM of a CRL file, checked against issuer at now. */
static int
append_crl(struct ca_sbuf *b, const char *path, gnutls_x509_crt_t issuer,
    time_t now, const char *what, struct ca_err *err)
{
	gnutls_x509_crl_t crl = NULL;
	gnutls_datum_t pem = { NULL, 0 };
	char w[600];
	int ret;

	snprintf(w, sizeof(w), "%s '%s'", what, path);
	if (!ca_file_exists(path))
		return ca_err_set(err, CA_ENOENT, "no %s ('%s')%s", what, path,
		    strstr(what, "root") != NULL ? ": bring it from the "
		    "ceremony and take it with 'tierca-ica root-crl'" :
		    ": run 'tierca-ica crl'");
	if ((ret = ca_crl_load(&crl, path, err)) != 0)
		return ret;
	if ((ret = crl_check(crl, issuer, now, w, err)) == 0) {
		if ((ret = gnutls_x509_crl_export2(crl, GNUTLS_X509_FMT_PEM,
		    &pem)) < 0)
			ret = ca_gnutls_err(err, ret, "cannot encode %s", w);
		else {
			ca_sb_put(b, (const char *)pem.data, pem.size);
			ret = 0;
		}
	}
	gnutls_free(pem.data);
	gnutls_x509_crl_deinit(crl);
	return ret;
}

int
ca_export_crl_bundle(struct ca *ca, const char *out_path, time_t now,
    struct ca_err *err)
{
	struct ca_sbuf b = { NULL, 0, 0, 0 };
	char *rp = NULL, *ip = NULL;
	int ret;

	if ((ret = need_ica(ca, err)) != 0)
		return ret;
	if ((rp = ca_path(ca, "root-crl.pem")) == NULL ||
	    (ip = ca_path(ca, "crl.pem")) == NULL) {
		ret = ca_err_set(err, CA_ENOMEM, "out of memory");
		goto out;
	}
	/* A CA that is its own root (imported from easy-rsa) has one CRL. */
	if ((!ca_self_rooted(ca) &&
	    (ret = append_crl(&b, rp, ca->root, now, "root CRL", err)) != 0) ||
	    (ret = append_crl(&b, ip, ca->crt, now, "intermediate CRL",
	    err)) != 0)
		goto out;
	if (b.oom) {
		ret = ca_err_set(err, CA_ENOMEM, "out of memory");
		goto out;
	}
	ret = ca_file_write_atomic(out_path, b.p, b.len, 0644, err);
out:
	free(b.p);
	free(rp);
	free(ip);
	return ret;
}

static int
append_crt(struct ca_sbuf *b, gnutls_x509_crt_t c, gnutls_x509_crt_fmt_t fmt,
    struct ca_err *err)
{
	gnutls_datum_t d = { NULL, 0 };
	int ret;

	if ((ret = gnutls_x509_crt_export2(c, fmt, &d)) < 0)
		return ca_gnutls_err(err, ret, "cannot encode a certificate");
	ca_sb_put(b, (const char *)d.data, d.size);
	gnutls_free(d.data);
	return 0;
}

int
ca_export_trust(struct ca *ca, const char *out_path, int with_ica, int der,
    struct ca_err *err)
{
	struct ca_sbuf b = { NULL, 0, 0, 0 };
	int ret;

	if ((ret = need_ica(ca, err)) != 0)
		return ret;
	if (der && with_ica)
		return ca_err_set(err, CA_EINVAL, "a DER file holds one "
		    "certificate: the root, or use PEM for root and "
		    "intermediate");
	if ((ret = append_crt(&b, ca->root, der ? GNUTLS_X509_FMT_DER :
	    GNUTLS_X509_FMT_PEM, err)) != 0 ||
	    (with_ica && (ret = append_crt(&b, ca->crt, GNUTLS_X509_FMT_PEM,
	    err)) != 0))
		goto out;
	if (b.oom) {
		ret = ca_err_set(err, CA_ENOMEM, "out of memory");
		goto out;
	}
	ret = ca_file_write_atomic(out_path, b.p, b.len, 0644, err);
out:
	free(b.p);
	return ret;
}

int
ca_export_ca_certificates(char **out, struct ca *ca, const char *dir,
    struct ca_err *err)
{
	struct ca_sbuf b = { NULL, 0, 0, 0 };
	char cn[256], *p = NULL;
	size_t n = sizeof(cn) - 1, i;
	struct stat st;
	int ret;

	*out = NULL;
	if ((ret = need_ica(ca, err)) != 0)
		return ret;
	/* update-ca-certificates reads DIR (usually
	 * /usr/local/share/ca-certificates); a typo should not make one. */
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return ca_err_set(err, CA_ENOENT, "'%s' is not a directory",
		    dir);
	/* The file is named after the root's CN: it says what it trusts. */
	if (gnutls_x509_crt_get_dn_by_oid(ca->root, GNUTLS_OID_X520_COMMON_NAME,
	    0, 0, cn, &n) < 0 || n == 0)
		snprintf(cn, sizeof(cn), "tierca-root");
	cn[sizeof(cn) - 1] = '\0';
	for (i = 0; cn[i]; i++)
		if (!isalnum((unsigned char)cn[i]) && cn[i] != '.' &&
		    cn[i] != '-' && cn[i] != '_')
			cn[i] = '_';
	if (cn[0] == '.')
		cn[0] = '_';
	if (asprintf(&p, "%s/%s.crt", dir, cn) < 0) {
		p = NULL;
		ret = ca_err_set(err, CA_ENOMEM, "out of memory");
		goto out;
	}
	if ((ret = append_crt(&b, ca->root, GNUTLS_X509_FMT_PEM, err)) != 0)
		goto out;
	if (b.oom) {
		ret = ca_err_set(err, CA_ENOMEM, "out of memory");
		goto out;
	}
	if ((ret = ca_file_write_atomic(p, b.p, b.len, 0644, err)) != 0)
		goto out;
	*out = p;
	p = NULL;
out:
	free(b.p);
	free(p);
	return ret;
}
