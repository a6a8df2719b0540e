/*
 * import.c - turning an easy-rsa 3 PKI into a tierca CA directory.
 *
 * easy-rsa keeps an OpenSSL `ca` database (index.txt), the CA's ca.crt
 * and private/ca.key, issued/NAME.crt with private/NAME.key, a copy of
 * every certificate as certs_by_serial/SERIAL.pem, and moves what it
 * revokes or renews to revoked/ and renewed/ ({certs,private,reqs}_by_
 * serial/SERIAL.*). Everything is read first and checked; only then is
 * the new directory built, next to its destination, and renamed in.
 * The PKI itself is only ever read.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ops/ops-int.h"

#define IMPORT_MAX_INDEX (256u * 1024 * 1024)

static int
nomem(struct ca_err *err)
{
	return ca_err_set(err, CA_ENOMEM, "out of memory");
}

/* ---- index lines ------------------------------------------------------- */

/* OpenSSL's revocation field: "date", "date,reason", or with a third part
 * for keyTime/CAkeyTime (the compromise time) and holdInstruction. */
static int
map_reason(const char **out, const char *r)
{
	static const struct { const char *from, *to; } alias[] = {
		{ "keyTime", "keyCompromise" },
		{ "CAkeyTime", "CACompromise" },
		{ "holdInstruction", "certificateHold" },
	};
	enum ca_reason cr;
	size_t i;

	for (i = 0; i < sizeof(alias) / sizeof(alias[0]); i++)
		if (strcasecmp(r, alias[i].from) == 0) {
			*out = alias[i].to;
			return 0;
		}
	if (ca_reason_parse(&cr, r) != 0)
		return CA_EINVAL;
	*out = ca_reason_name(cr);
	return 0;
}

int
ca_import_index_line(struct ca_db_entry *out, const char *line,
    struct ca_err *err)
{
	char *copy = NULL, *f[7], *p, *canon = NULL, *rev = NULL, *c1, *c2;
	const char *reason = NULL, *subject;
	struct ca_serial s;
	size_t n = 0, len;
	int ret;

	memset(out, 0, sizeof(*out));
	if ((copy = strdup(line)) == NULL)
		return nomem(err);
	len = strlen(copy);
	if (len > 0 && copy[len - 1] == '\r')
		copy[--len] = '\0';
	for (p = copy; n < 7;) {
		f[n++] = p;
		if ((p = strchr(p, '\t')) == NULL)
			break;
		*p++ = '\0';
	}
	if (p != NULL || n < 5 || n > 6) {
		ret = ca_err_set(err, CA_EDB, "%s%zu fields, want 6 (or 5 without "
		    "the file name)", p != NULL ? "at least " : "", n);
		goto out;
	}
	/* Six fields: the fifth is OpenSSL's file name ("unknown"), which
	 * tierca replaces with its own name. Five: it is missing. */
	subject = f[n - 1];
	if (strlen(f[0]) != 1 || strchr("VRE", f[0][0]) == NULL) {
		ret = ca_err_set(err, CA_EDB, "bad status '%s'", f[0]);
		goto out;
	}
	if ((rev = strdup(f[2])) == NULL) {
		ret = nomem(err);
		goto out;
	}
	if ((c1 = strchr(rev, ',')) != NULL) {
		*c1++ = '\0';
		if ((c2 = strchr(c1, ',')) != NULL)
			*c2 = '\0';
		if (strcasecmp(c1, "removeFromCRL") == 0) {
			ret = ca_err_set(err, CA_EDB, "reason removeFromCRL (a delta "
			    "CRL entry) is not a revocation tierca can carry");
			goto out;
		}
		if (map_reason(&reason, c1) != 0) {
			ret = ca_err_set(err, CA_EDB, "bad revocation reason '%s'",
			    c1);
			goto out;
		}
	}
	if (ca_serial_from_hex(&s, f[3]) != 0) {
		ret = ca_err_set(err, CA_EDB, "bad serial '%s'", f[3]);
		goto out;
	}
	if (asprintf(&canon, "%s\t%s\t%s%s%s\t%s\tunknown\t%s", f[0], f[1], rev,
	    reason != NULL ? "," : "", reason != NULL ? reason : "", f[3],
	    subject) < 0) {
		canon = NULL;
		ret = nomem(err);
		goto out;
	}
	if ((ret = ca_db_parse_line(out, canon, err)) != 0)
		goto out;
	/* As ca_cert_serial_hex() and ca_serial_random() write it, so
	 * certs/SERIAL.pem and collisions are judged on one form. */
	snprintf(out->serial, sizeof(out->serial), "%s", s.hex);
out:
	free(canon);
	free(rev);
	free(copy);
	return ret;
}

/* ---- small helpers ----------------------------------------------------- */

static int
pem_encrypted(const gnutls_datum_t *d)
{
	return memmem(d->data, d->size, "ENCRYPTED PRIVATE KEY", 21) != NULL ||
	    memmem(d->data, d->size, "Proc-Type: 4,ENCRYPTED", 22) != NULL;
}

/* A key in any PEM form OpenSSL writes (PKCS#8, encrypted PKCS#8,
 * PKCS#1/SEC1 with or without Proc-Type encryption). */
static int
key_import(gnutls_x509_privkey_t *out, const gnutls_datum_t *d,
    const struct ca_secret *pass, const char *path, struct ca_err *err)
{
	gnutls_x509_privkey_t k = NULL;
	int enc = pem_encrypted(d), ret;

	*out = NULL;
	if (enc && pass == NULL)
		return ca_err_set(err, CA_EPASS, "key '%s' is encrypted: a "
		    "passphrase is needed", path);
	if ((ret = gnutls_x509_privkey_init(&k)) < 0)
		return ca_gnutls_err(err, ret, "cannot load '%s'", path);
	ret = gnutls_x509_privkey_import2(k, d, GNUTLS_X509_FMT_PEM,
	    enc ? pass->buf : NULL, enc ? 0 : GNUTLS_PKCS_PLAIN);
	if (ret < 0) {
		gnutls_x509_privkey_deinit(k);
		/* A wrong passphrase shows as a decryption or a DER error,
		 * depending on what the bad padding happened to look like. */
		if (enc)
			return ca_err_set(err, CA_EPASS, "wrong passphrase for key "
			    "'%s'", path);
		return ca_gnutls_err(err, ret, "cannot load key '%s'", path);
	}
	*out = k;
	return 0;
}

/* PKI/rel, or PKI/rel/name when name is given. */
static char *
pki_path(const char *pki, const char *rel, const char *name)
{
	char *p = NULL;

	if (name != NULL) {
		if (asprintf(&p, "%s/%s/%s", pki, rel, name) < 0)
			return NULL;
		return p;
	}
	return ca_path_join(pki, rel);
}

static int
put(const char *dir, const char *rel, const void *buf, size_t len,
    mode_t mode, struct ca_err *err)
{
	char *p = ca_path_join(dir, rel);
	int ret;

	if (p == NULL)
		return nomem(err);
	ret = ca_file_write_new(p, buf, len, mode, err);
	free(p);
	return ret;
}

static int
put_crts(const char *dir, const char *rel, gnutls_x509_crt_t *v, size_t n,
    struct ca_err *err)
{
	struct ca_sbuf b = { NULL, 0, 0, 0 };
	gnutls_datum_t d;
	size_t i;
	int ret = 0;

	for (i = 0; i < n && ret == 0; i++) {
		if ((ret = ca_cert_export_pem(&d, v[i], err)) != 0)
			break;
		ca_sb_put(&b, (const char *)d.data, d.size);
		gnutls_free(d.data);
	}
	if (ret == 0 && b.oom)
		ret = nomem(err);
	if (ret == 0)
		ret = put(dir, rel, b.p != NULL ? b.p : "", b.len, 0644, err);
	free(b.p);
	return ret;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

/* Removes the half-built tree (ours alone: made by mkdtemp). */
static void
rm_tree(const char *dir)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Big-endian magnitude compare of two serial-like numbers. */
static int
num_cmp(const struct ca_serial *a, const struct ca_serial *b)
{
	size_t ia = 0, ib = 0;

	while (ia < a->len && a->b[ia] == 0)
		ia++;
	while (ib < b->len && b->b[ib] == 0)
		ib++;
	if (a->len - ia != b->len - ib)
		return a->len - ia < b->len - ib ? -1 : 1;
	return memcmp(a->b + ia, b->b + ib, a->len - ia);
}

/* n + 1 (n < 2^160). */
static int
num_next(struct ca_serial *out, const struct ca_serial *n)
{
	unsigned char b[22];
	size_t k = n->len, i;
	int carry = 1;
	char hex[48];

	b[0] = 0;
	memcpy(b + 1, n->b, k);
	for (i = k + 1; i-- > 0 && carry;) {
		b[i] = (unsigned char)(b[i] + 1);
		carry = b[i] == 0;
	}
	for (i = 0; i + 1 < k + 1 && b[i] == 0; i++)
		;
	ca_hex(hex, b + i, k + 1 - i, 1);
	return ca_serial_from_hex(out, hex);
}

/* ---- what is read from the PKI ----------------------------------------- */

struct ent {
	struct ca_db_entry e;
	char raw[44];                /* the serial as easy-rsa wrote it */
	gnutls_x509_crt_t crt;
	char *key_path;              /* its key in the PKI, or NULL */
	int named;                   /* from issued/NAME.crt */
	int current;                 /* gets issued/NAME/ */
};

struct issued_file {
	char *name;
	char serial[44];
	gnutls_x509_crt_t crt;
	int used;
};

struct pki {
	const char *dir;
	gnutls_x509_crt_t ca, root;
	gnutls_x509_privkey_t key;
	int key_was_encrypted;
	struct ent *v;
	size_t n;
	struct issued_file *iss;
	size_t niss;
	struct ca_strv orphan_keys;  /* private/NAME.key without a cert */
	gnutls_datum_t crl_pem;      /* easy-rsa's crl.pem when it is ours */
	struct ca_serial crlnumber;
	unsigned char index_sha[65];
};

static void
pki_free(struct pki *p)
{
	size_t i;

	for (i = 0; i < p->n; i++) {
		ca_db_entry_clear(&p->v[i].e);
		if (p->v[i].crt != NULL)
			gnutls_x509_crt_deinit(p->v[i].crt);
		free(p->v[i].key_path);
	}
	free(p->v);
	for (i = 0; i < p->niss; i++) {
		free(p->iss[i].name);
		if (p->iss[i].crt != NULL)
			gnutls_x509_crt_deinit(p->iss[i].crt);
	}
	free(p->iss);
	ca_strv_free(&p->orphan_keys);
	if (p->ca != NULL)
		gnutls_x509_crt_deinit(p->ca);
	if (p->root != NULL)
		gnutls_x509_crt_deinit(p->root);
	if (p->key != NULL)
		gnutls_x509_privkey_deinit(p->key);
	free(p->crl_pem.data);
}

/* A certificate of this CA: its signature is ca's. Times and old hash
 * algorithms do not matter here: this is history being carried over. */
static int
signed_by(gnutls_x509_crt_t c, gnutls_x509_crt_t ca)
{
	unsigned st = 0;

	if (!gnutls_x509_crt_check_issuer(c, ca))
		return 0;
	if (gnutls_x509_crt_verify(c, &ca, 1,
	    GNUTLS_VERIFY_DISABLE_TIME_CHECKS |
	    GNUTLS_VERIFY_DISABLE_TRUSTED_TIME_CHECKS |
	    GNUTLS_VERIFY_DISABLE_CA_SIGN |
	    GNUTLS_VERIFY_ALLOW_SIGN_WITH_SHA1 | GNUTLS_VERIFY_ALLOW_BROKEN,
	    &st) < 0)
		return 0;
	return st == 0;
}

/* The CA certificate must be able to go on issuing: a v3 CA, keyUsage
 * (when present) with keyCertSign and cRLSign, a key and a hash tierca
 * accepts, valid now, self-signed or chaining to the root given. */
static int
check_ca(struct pki *p, const struct ca_import_opts *o, const char *path,
    time_t now, struct ca_err *err)
{
	gnutls_pubkey_t pub = NULL;
	unsigned crit = 0, isca = 0, usage = 0;
	int pathlen = -1, ret, sig;
	gnutls_digest_algorithm_t h;
	char t[32], what[600];
	const char *eku = o->kind == CA_KIND_SERVER ? GNUTLS_KP_TLS_WWW_SERVER :
	    GNUTLS_KP_TLS_WWW_CLIENT;

	snprintf(what, sizeof(what), "CA certificate '%s'", path);
	if (gnutls_x509_crt_get_basic_constraints(p->ca, &crit, &isca,
	    &pathlen) < 0 || !isca)
		return ca_err_set(err, CA_EPOLICY, "%s is not a CA (no "
		    "basicConstraints CA:TRUE)", what);
	/* Without keyCertSign verifiers refuse every certificate it signs,
	 * without cRLSign every CRL: such a CA cannot work, so it is not
	 * imported. No keyUsage at all allows both (RFC 5280 4.2.1.3). */
	ret = gnutls_x509_crt_get_key_usage(p->ca, &usage, &crit);
	if (ret >= 0 && (usage & (GNUTLS_KEY_KEY_CERT_SIGN |
	    GNUTLS_KEY_CRL_SIGN)) != (GNUTLS_KEY_KEY_CERT_SIGN |
	    GNUTLS_KEY_CRL_SIGN))
		return ca_err_set(err, CA_EPOLICY, "%s has keyUsage without "
		    "keyCertSign and cRLSign: it cannot sign certificates and "
		    "CRLs", what);
	/* An EKU that leaves out what this directory issues would make the
	 * lint refuse every issuance: say so now. */
	{
		char buf[128];
		size_t n;
		unsigned i;
		int any = 0, found = 0;
		for (i = 0;; i++) {
			n = sizeof(buf);
			if (gnutls_x509_crt_get_key_purpose_oid(p->ca, i, buf, &n,
			    NULL) < 0)
				break;
			any = 1;
			if (strcmp(buf, eku) == 0 ||
			    strcmp(buf, GNUTLS_KP_ANY) == 0)
				found = 1;
		}
		if (any && !found)
			return ca_err_set(err, CA_EPOLICY, "%s has an "
			    "extendedKeyUsage without %s: it cannot issue %s "
			    "certificates", what, eku, ca_kind_name(o->kind));
	}
	sig = gnutls_x509_crt_get_signature_algorithm(p->ca);
	h = sig < 0 ? GNUTLS_DIG_UNKNOWN :
	    gnutls_sign_get_hash_algorithm((gnutls_sign_algorithm_t)sig);
	if (h == GNUTLS_DIG_UNKNOWN || h == GNUTLS_DIG_MD5 ||
	    h == GNUTLS_DIG_SHA1 || h == GNUTLS_DIG_MD2)
		return ca_err_set(err, CA_EPOLICY, "%s is signed with %s, which "
		    "tierca refuses", what, sig < 0 ? "an unknown algorithm" :
		    gnutls_sign_get_name((gnutls_sign_algorithm_t)sig));
	if ((ret = gnutls_pubkey_init(&pub)) < 0 ||
	    (ret = gnutls_pubkey_import_x509(pub, p->ca, 0)) < 0) {
		if (pub != NULL)
			gnutls_pubkey_deinit(pub);
		return ca_gnutls_err(err, ret, "%s: bad public key", what);
	}
	ret = ca_pubkey_check_policy(pub, what, err);
	gnutls_pubkey_deinit(pub);
	if (ret != 0)
		return ret;
	if (now >= gnutls_x509_crt_get_expiration_time(p->ca)) {
		ca_time_format(t, sizeof(t),
		    gnutls_x509_crt_get_expiration_time(p->ca));
		return ca_err_set(err, CA_EPOLICY, "%s expired on %s: an expired "
		    "CA cannot go on issuing", what, t);
	}
	if (o->root == NULL) {
		if (!gnutls_x509_crt_check_issuer(p->ca, p->ca) ||
		    !signed_by(p->ca, p->ca))
			return ca_err_set(err, CA_EVERIFY, "%s is not self-signed "
			    "(an easy-rsa sub-CA): give its root with --root", what);
		return 0;
	}
	if ((ret = ca_cert_load(&p->root, o->root, err)) != 0)
		return ret;
	if (!gnutls_x509_crt_check_issuer(p->root, p->root) ||
	    !signed_by(p->root, p->root))
		return ca_err_set(err, CA_EVERIFY, "'%s' is not a self-signed "
		    "root certificate", o->root);
	if ((ret = ca_verify_chain(p->ca, NULL, 0, &p->root, 1, NULL, 0, NULL,
	    now, err)) != 0)
		return ca_err_wrap(err, "%s does not chain to '%s'", what,
		    o->root);
	return 0;
}

static int
load_ca(struct pki *p, const struct ca_import_opts *o,
    const struct ca_secret *pass, time_t now, struct ca_err *err)
{
	gnutls_datum_t d = { NULL, 0 };
	char *cp = NULL, *kp = NULL;
	int ret;

	if ((cp = pki_path(p->dir, "ca.crt", NULL)) == NULL ||
	    (kp = pki_path(p->dir, "private/ca.key", NULL)) == NULL) {
		ret = nomem(err);
		goto out;
	}
	if ((ret = ca_cert_load(&p->ca, cp, err)) != 0 ||
	    (ret = check_ca(p, o, cp, now, err)) != 0)
		goto out;
	if ((ret = ca_datum_read(&d, kp, CA_MAX_FILE, err)) != 0) {
		if (ret == CA_ENOENT)
			ret = ca_err_set(err, CA_ENOENT, "'%s' has no CA key: "
			    "'%s' is missing", p->dir, kp);
		goto out;
	}
	p->key_was_encrypted = pem_encrypted(&d);
	if ((ret = key_import(&p->key, &d, p->key_was_encrypted ? pass : NULL,
	    kp, err)) != 0)
		goto out;
	if (!ca_cert_matches_key(p->ca, p->key))
		ret = ca_err_set(err, CA_EVERIFY, "'%s' does not match '%s'", kp,
		    cp);
out:
	ca_datum_wipe_heap(&d);
	free(cp);
	free(kp);
	return ret;
}

static int
load_crt_if(gnutls_x509_crt_t *out, const char *path, struct ca_err *err)
{
	*out = NULL;
	if (!ca_file_exists(path))
		return CA_ENOENT;
	return ca_cert_load(out, path, err);
}

/* issued/NAME.crt: which serial carries which name. */
static int
load_issued(struct pki *p, struct ca_err *err)
{
	char *dp = NULL, *fp = NULL;
	struct dirent *de;
	DIR *d = NULL;
	int ret = 0;

	if ((dp = pki_path(p->dir, "issued", NULL)) == NULL)
		return nomem(err);
	if ((d = opendir(dp)) == NULL) {
		if (errno != ENOENT)
			ret = ca_err_set(err, CA_EIO, "cannot read '%s': %s", dp,
			    strerror(errno));
		goto out;
	}
	while ((de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);
		struct issued_file *f, *nv;
		if (n <= 4 || strcmp(de->d_name + n - 4, ".crt") != 0 ||
		    de->d_name[0] == '.')
			continue;
		if ((nv = realloc(p->iss, (p->niss + 1) * sizeof(*nv))) == NULL) {
			ret = nomem(err);
			goto out;
		}
		p->iss = nv;
		f = &p->iss[p->niss];
		memset(f, 0, sizeof(*f));
		if ((f->name = strndup(de->d_name, n - 4)) == NULL) {
			ret = nomem(err);
			goto out;
		}
		p->niss++;
		free(fp);
		if ((fp = ca_path_join(dp, de->d_name)) == NULL) {
			ret = nomem(err);
			goto out;
		}
		if ((ret = ca_cert_load(&f->crt, fp, err)) != 0)
			goto out;
		if (ca_cert_serial_hex(f->serial, sizeof(f->serial), f->crt) != 0) {
			ret = ca_err_set(err, CA_EINVAL, "'%s': bad serial", fp);
			goto out;
		}
	}
out:
	if (d != NULL)
		closedir(d);
	free(fp);
	free(dp);
	return ret;
}

static int
load_index(struct pki *p, struct ca_err *err)
{
	char *ip = NULL, *buf = NULL, *line, *nl;
	struct ca_err lerr;
	size_t len, lineno = 0, i;
	int ret;

	if ((ip = pki_path(p->dir, "index.txt", NULL)) == NULL)
		return nomem(err);
	if ((ret = ca_file_read(&buf, &len, ip, IMPORT_MAX_INDEX, err)) != 0)
		goto out;
	ca_sha256_hex((char *)p->index_sha, sizeof(p->index_sha), buf, len);
	for (line = buf; line < buf + len; line = nl + 1) {
		struct ent *nv;
		lineno++;
		if ((nl = memchr(line, '\n', (size_t)(buf + len - line))) == NULL) {
			ret = ca_err_set(err, CA_EDB, "%s:%zu: incomplete last line "
			    "(no newline)", ip, lineno);
			goto out;
		}
		*nl = '\0';
		if (*line == '\0')
			continue;
		if ((nv = realloc(p->v, (p->n + 1) * sizeof(*nv))) == NULL) {
			ret = nomem(err);
			goto out;
		}
		p->v = nv;
		memset(&p->v[p->n], 0, sizeof(p->v[p->n]));
		if (ca_import_index_line(&p->v[p->n].e, line, &lerr) != 0) {
			ret = ca_err_set(err, CA_EDB, "%s:%zu: corrupt entry: %s",
			    ip, lineno, lerr.msg);
			goto out;
		}
		p->v[p->n].e.line = lineno;
		/* The raw serial names easy-rsa's files. */
		{
			char *t1 = strchr(line, '\t'), *t2, *t3;
			t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
			t3 = t2 ? strchr(t2 + 1, '\t') : NULL;
			if (t3 != NULL)
				snprintf(p->v[p->n].raw, sizeof(p->v[p->n].raw),
				    "%.*s", (int)strcspn(t3 + 1, "\t"), t3 + 1);
		}
		p->n++;
		for (i = 0; i + 1 < p->n; i++)
			if (strcmp(p->v[i].e.serial, p->v[p->n - 1].e.serial) == 0) {
				ret = ca_err_set(err, CA_EDB, "%s:%zu: serial %s "
				    "repeats line %zu", ip, lineno,
				    p->v[p->n - 1].e.serial, p->v[i].e.line);
				goto out;
			}
	}
out:
	free(buf);
	free(ip);
	return ret;
}

/* A name tierca accepts from the certificate's CN, or "unknown". */
static char *
cn_name(gnutls_x509_crt_t c)
{
	char buf[256];
	size_t n = sizeof(buf) - 1;

	if (gnutls_x509_crt_get_dn_by_oid(c, GNUTLS_OID_X520_COMMON_NAME, 0, 0,
	    buf, &n) >= 0) {
		buf[n] = '\0';
		if (ca_name_check(buf, NULL) == 0)
			return strdup(buf);
	}
	return strdup("unknown");
}

/* Finds every entry's certificate (and key); lists what is missing. */
static int
find_certs(struct pki *p, struct ca_err *err)
{
	static const char *const by_serial[][2] = {
		{ "certs_by_serial", ".pem" },
		{ "revoked/certs_by_serial", ".crt" },
		{ "renewed/certs_by_serial", ".crt" },
		{ "expired/certs_by_serial", ".crt" },
	};
	static const char *const key_dirs[] = { "revoked/private_by_serial",
		"renewed/private_by_serial", "expired/private_by_serial" };
	struct ca_sbuf missing = { NULL, 0, 0, 0 };
	size_t i, j, nmissing = 0;
	char *path = NULL, file[64], crt_serial[44];
	int ret = 0;

	for (i = 0; i < p->n; i++) {
		struct ent *e = &p->v[i];
		/* issued/NAME.crt first: it names the entry. */
		for (j = 0; j < p->niss; j++)
			if (strcmp(p->iss[j].serial, e->e.serial) == 0 &&
			    !p->iss[j].used)
				break;
		if (j < p->niss) {
			p->iss[j].used = 1;
			e->crt = p->iss[j].crt;
			p->iss[j].crt = NULL;
			if (ca_name_check(p->iss[j].name, NULL) == 0) {
				e->named = 1;
				free(e->e.name);
				if ((e->e.name = strdup(p->iss[j].name)) == NULL)
					{
				ret = nomem(err);
				goto out;
			}
				snprintf(file, sizeof(file), "%.50s.key",
				    p->iss[j].name);
				free(path);
				if ((path = pki_path(p->dir, "private", file)) == NULL)
					{
				ret = nomem(err);
				goto out;
			}
				if (ca_file_exists(path)) {
					e->key_path = path;
					path = NULL;
				}
			}
		}
		for (j = 0; e->crt == NULL &&
		    j < sizeof(by_serial) / sizeof(by_serial[0]); j++) {
			snprintf(file, sizeof(file), "%s%s", e->raw, by_serial[j][1]);
			free(path);
			if ((path = pki_path(p->dir, by_serial[j][0], file)) == NULL)
				{
				ret = nomem(err);
				goto out;
			}
			ret = load_crt_if(&e->crt, path, err);
			if (ret == CA_ENOENT && strcmp(e->raw, e->e.serial) != 0) {
				snprintf(file, sizeof(file), "%s%s", e->e.serial,
				    by_serial[j][1]);
				free(path);
				if ((path = pki_path(p->dir, by_serial[j][0], file)) ==
				    NULL)
					{
				ret = nomem(err);
				goto out;
			}
				ret = load_crt_if(&e->crt, path, err);
			}
			if (ret == CA_ENOENT)
				continue;
			if (ret != 0)
				goto out;
		}
		ret = 0;
		if (e->crt == NULL) {
			ca_sb_printf(&missing, "%s%s", nmissing ? ", " : "",
			    e->e.serial);
			nmissing++;
			continue;
		}
		if (ca_cert_serial_hex(crt_serial, sizeof(crt_serial), e->crt) !=
		    0 || strcmp(crt_serial, e->e.serial) != 0) {
			ret = ca_err_set(err, CA_EDB, "%s/index.txt:%zu: the "
			    "certificate found for serial %s has serial %s",
			    p->dir, e->e.line, e->e.serial, crt_serial);
			goto out;
		}
		if (!signed_by(e->crt, p->ca)) {
			ret = ca_err_set(err, CA_EVERIFY, "%s/index.txt:%zu: the "
			    "certificate of serial %s is not signed by ca.crt",
			    p->dir, e->e.line, e->e.serial);
			goto out;
		}
		if (!e->named) {
			free(e->e.name);
			if ((e->e.name = cn_name(e->crt)) == NULL)
				{
				ret = nomem(err);
				goto out;
			}
		}
		for (j = 0; e->key_path == NULL &&
		    j < sizeof(key_dirs) / sizeof(key_dirs[0]); j++) {
			snprintf(file, sizeof(file), "%s.key", e->raw);
			free(path);
			if ((path = pki_path(p->dir, key_dirs[j], file)) == NULL)
				{
				ret = nomem(err);
				goto out;
			}
			if (ca_file_exists(path)) {
				e->key_path = path;
				path = NULL;
			}
		}
	}
	if (missing.oom)
		ret = nomem(err);
	else if (nmissing > 0)
		ret = ca_err_set(err, CA_ENOENT, "%s/index.txt: no certificate "
		    "found for %zu entr%s (serial %s): the PKI is incomplete; "
		    "nothing imported", p->dir, nmissing, nmissing == 1 ? "y" :
		    "ies", missing.p);
	/* A certificate in issued/ the index does not know is not this
	 * CA's record: importing would make the database lose it. */
	for (j = 0; ret == 0 && j < p->niss; j++)
		if (!p->iss[j].used)
			ret = ca_err_set(err, CA_EDB, "%s/issued/%s.crt (serial %s) "
			    "is not in %s/index.txt", p->dir, p->iss[j].name,
			    p->iss[j].serial, p->dir);
out:
	free(missing.p);
	free(path);
	return ret;
}

/* private/NAME.key that no entry took: requests never signed. */
static int
find_orphan_keys(struct pki *p, struct ca_err *err)
{
	char *dp = NULL, *fp = NULL;
	struct dirent *de;
	DIR *d = NULL;
	size_t i;
	int ret = 0, used;

	if ((dp = pki_path(p->dir, "private", NULL)) == NULL)
		return nomem(err);
	if ((d = opendir(dp)) == NULL)
		goto out;
	while ((de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);
		if (n <= 4 || strcmp(de->d_name + n - 4, ".key") != 0 ||
		    strcmp(de->d_name, "ca.key") == 0 || de->d_name[0] == '.')
			continue;
		free(fp);
		if ((fp = ca_path_join(dp, de->d_name)) == NULL) {
			ret = nomem(err);
			goto out;
		}
		for (used = 0, i = 0; i < p->n && !used; i++)
			used = p->v[i].key_path != NULL &&
			    strcmp(p->v[i].key_path, fp) == 0;
		if (!used && ca_strv_add(&p->orphan_keys, fp) != 0) {
			ret = nomem(err);
			goto out;
		}
	}
out:
	if (d != NULL)
		closedir(d);
	free(fp);
	free(dp);
	return ret;
}

/* The next CRL number: past easy-rsa's crlnumber file and past the
 * number of its crl.pem (easy-rsa 3.1 writes CRLs without one). */
static int
load_crl_state(struct pki *p, struct ca_err *err)
{
	gnutls_x509_crl_t crl = NULL;
	struct ca_serial n;
	char *cp = NULL, *buf = NULL, *nl;
	unsigned char num[32];
	char hex[80];
	size_t nlen = sizeof(num);
	unsigned crit;
	int ret;

	ca_serial_from_hex(&p->crlnumber, "01");
	if ((cp = pki_path(p->dir, "crlnumber", NULL)) == NULL)
		return nomem(err);
	ret = ca_file_read(&buf, NULL, cp, 128, err);
	if (ret == 0) {
		if ((nl = strchr(buf, '\n')) != NULL)
			*nl = '\0';
		if (ca_serial_from_hex(&n, buf) != 0) {
			ret = ca_err_set(err, CA_EDB, "'%s': bad CRL number '%s'",
			    cp, buf);
			goto out;
		}
		if (num_cmp(&n, &p->crlnumber) > 0)
			p->crlnumber = n;
	} else if (ret != CA_ENOENT)
		goto out;
	free(cp);
	if ((cp = pki_path(p->dir, "crl.pem", NULL)) == NULL) {
		ret = nomem(err);
		goto out;
	}
	ret = 0;
	if (!ca_file_exists(cp))
		goto out;
	/* A CRL that is not this CA's is not carried over (and its number
	 * means nothing here). */
	if (ca_crl_load(&crl, cp, NULL) != 0 || !ca_crl_signed_by(crl, p->ca))
		goto out;
	if (gnutls_x509_crl_get_number(crl, num, &nlen, &crit) >= 0 &&
	    nlen > 0 && nlen <= 20) {
		ca_hex(hex, num, nlen, 1);
		if (ca_serial_from_hex(&n, hex) == 0 && num_next(&n, &n) == 0 &&
		    num_cmp(&n, &p->crlnumber) > 0)
			p->crlnumber = n;
	}
	ret = ca_datum_read(&p->crl_pem, cp, CA_MAX_FILE * 16, err);
out:
	if (crl != NULL)
		gnutls_x509_crl_deinit(crl);
	free(buf);
	free(cp);
	return ret;
}

/* For every name, issued/NAME/ holds its newest certificate with a key:
 * the last valid one in the index, else the last one. Other keys are
 * archived. */
static void
choose_current(struct pki *p, time_t now)
{
	size_t i, j, best;

	for (i = 0; i < p->n; i++) {
		struct ent *e = &p->v[i];
		if (e->key_path == NULL || strcmp(e->e.name, "unknown") == 0)
			continue;
		best = i;
		for (j = 0; j < p->n; j++) {
			struct ent *f = &p->v[j];
			int fv, bv;
			if (f->key_path == NULL || strcmp(f->e.name, e->e.name) != 0)
				continue;
			fv = f->e.status == 'V' && f->e.not_after > now;
			bv = p->v[best].e.status == 'V' &&
			    p->v[best].e.not_after > now;
			if ((fv && !bv) || (fv == bv && j > best))
				best = j;
		}
		p->v[best].current = 1;
	}
}

/* ---- writing the new directory ----------------------------------------- */

static int
dest_check(int *exists, const char *dir, struct ca_err *err)
{
	struct stat st;
	struct dirent *de;
	DIR *d;
	int ret = 0;

	*exists = 0;
	if (lstat(dir, &st) == -1) {
		if (errno == ENOENT)
			return 0;
		return ca_err_set(err, CA_EIO, "cannot stat '%s': %s", dir,
		    strerror(errno));
	}
	if (!S_ISDIR(st.st_mode))
		return ca_err_set(err, CA_EEXIST, "'%s' exists and is not an "
		    "empty directory; refusing to import into it", dir);
	if ((d = opendir(dir)) == NULL)
		return ca_err_set(err, CA_EIO, "cannot read '%s': %s", dir,
		    strerror(errno));
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
			ret = ca_err_set(err, CA_EEXIST, "'%s' is not empty; "
			    "refusing to import into it", dir);
			break;
		}
	closedir(d);
	*exists = 1;
	return ret;
}

static int
write_key_file(const char *tmp, const char *rel, const char *src,
    gnutls_x509_crt_t crt, int *encrypted, int *matches, struct ca_err *err)
{
	gnutls_datum_t d = { NULL, 0 }, pem = { NULL, 0 };
	gnutls_x509_privkey_t k = NULL;
	int ret;

	*encrypted = 0;
	*matches = 0;
	if ((ret = ca_datum_read(&d, src, CA_MAX_FILE, err)) != 0)
		return ret;
	if (pem_encrypted(&d)) {
		/* Its passphrase is the owner's: kept as it is. */
		*encrypted = 1;
		ret = put(tmp, rel, d.data, d.size, 0600, err);
		goto out;
	}
	if (key_import(&k, &d, NULL, src, err) == 0 && crt != NULL &&
	    ca_cert_matches_key(crt, k)) {
		*matches = 1;
		if ((ret = ca_key_export(&pem, k, NULL, err)) == 0)
			ret = put(tmp, rel, pem.data, pem.size, 0600, err);
		goto out;
	}
	/* Not loadable, or not this certificate's key: kept byte for byte. */
	ret = put(tmp, rel, d.data, d.size, 0600, err);
out:
	if (k != NULL)
		gnutls_x509_privkey_deinit(k);
	ca_datum_wipe(&pem);
	ca_datum_wipe_heap(&d);
	return ret;
}

/* Keys no issued/NAME/ takes (older generations, unsigned requests)
 * are kept byte for byte in private/archive/: an archive keeps what was
 * there. */
static int
archive_key(const char *tmp, const char *src, const char *base,
    struct ca_import_result *out, struct ca_err *err)
{
	gnutls_datum_t d = { NULL, 0 };
	char rel[128];
	int ret;

	snprintf(rel, sizeof(rel), "private/archive/%.80s.key", base);
	if ((ret = ca_datum_read(&d, src, CA_MAX_FILE, err)) == 0 &&
	    (ret = put(tmp, rel, d.data, d.size, 0600, err)) == 0)
		out->narchived++;
	ca_datum_wipe_heap(&d);
	return ret;
}

static int
write_dir(struct ca_import_result *out, const char *tmp, struct pki *p,
    const struct ca_import_opts *o, const struct ca_secret *pass,
    time_t now, struct ca_err *err)
{
	static const char attr[] = "unique_subject = no\n";
	struct ca_sbuf idx = { NULL, 0, 0, 0 }, note = { NULL, 0, 0, 0 };
	gnutls_x509_crt_t two[2];
	char kindline[16], rel[160], t[32];
	size_t i;
	int ret;

	if ((ret = ca_dir_create(tmp, 0755, 1, err)) != 0)
		goto out;
#define MKDIR(r, m) do { \
		char *q_ = ca_path_join(tmp, r); \
		if (q_ == NULL) { ret = nomem(err); goto out; } \
		ret = ca_dir_create(q_, m, 1, err); \
		free(q_); \
		if (ret != 0) goto out; \
	} while (0)
	MKDIR("private", 0700);
	MKDIR("private/archive", 0700);
	MKDIR("certs", 0755);
	MKDIR("issued", 0700);
	snprintf(kindline, sizeof(kindline), "%s\n", ca_kind_name(o->kind));
	if ((ret = put(tmp, "kind", kindline, strlen(kindline), 0644,
	    err)) != 0 ||
	    (ret = put(tmp, "index.txt.attr", attr, sizeof(attr) - 1, 0644,
	    err)) != 0)
		goto out;
	snprintf(out->crlnumber, sizeof(out->crlnumber), "%s",
	    p->crlnumber.hex);
	snprintf(rel, sizeof(rel), "%s\n", p->crlnumber.hex);
	if ((ret = put(tmp, "crlnumber", rel, strlen(rel), 0644, err)) != 0)
		goto out;

	/* The CA key, in tierca's form: PKCS#8, PBES2/AES-256 when it has
	 * a passphrase. */
	{
		char *kp = ca_path_join(tmp, "private/ca.key");
		if (kp == NULL) {
			ret = nomem(err);
			goto out;
		}
		ret = ca_key_write(kp, p->key, pass, 1, err);
		free(kp);
		if (ret != 0)
			goto out;
		out->key_encrypted = pass != NULL;
	}

	/* ca.crt, root.crt and chain.pem as ca_ica_install() leaves them. */
	two[0] = p->ca;
	two[1] = p->root != NULL ? p->root : p->ca;
	out->self_signed = p->root == NULL;
	if ((ret = put_crts(tmp, "ca.crt", two, 1, err)) != 0 ||
	    (ret = put_crts(tmp, "root.crt", two + 1, 1, err)) != 0 ||
	    (ret = put_crts(tmp, "chain.pem", two, p->root != NULL ? 2 : 1,
	    err)) != 0)
		goto out;

	for (i = 0; i < p->n; i++) {
		struct ent *e = &p->v[i];
		char *line;
		switch (e->e.status) {
		case 'V': out->nvalid++; break;
		case 'R': out->nrevoked++; break;
		default: out->nexpired++; break;
		}
		snprintf(rel, sizeof(rel), "certs/%s.pem", e->e.serial);
		if ((ret = put_crts(tmp, rel, &e->crt, 1, err)) != 0)
			goto out;
		if ((line = ca_db_format_line(&e->e)) == NULL) {
			ret = nomem(err);
			goto out;
		}
		ca_sb_put(&idx, line, strlen(line));
		free(line);
		if (e->key_path == NULL) {
			out->nnokey++;
			continue;
		}
		if (!e->current) {
			if ((ret = archive_key(tmp, e->key_path, e->e.serial, out,
			    err)) != 0)
				goto out;
			continue;
		}
		{
			int enc, match;
			snprintf(rel, sizeof(rel), "issued/%s", e->e.name);
			MKDIR(rel, 0700);
			snprintf(rel, sizeof(rel), "issued/%s/key.pem", e->e.name);
			if ((ret = write_key_file(tmp, rel, e->key_path, e->crt, &enc,
			    &match, err)) != 0)
				goto out;
			out->nissued++;
			if (enc)
				out->nkey_encrypted++;
			two[0] = e->crt;
			two[1] = p->ca;
			snprintf(rel, sizeof(rel), "issued/%s/cert.pem", e->e.name);
			if ((ret = put_crts(tmp, rel, two, 1, err)) != 0)
				goto out;
			snprintf(rel, sizeof(rel), "issued/%s/chain.pem", e->e.name);
			if ((ret = put_crts(tmp, rel, two + 1, 1, err)) != 0)
				goto out;
			snprintf(rel, sizeof(rel), "issued/%s/fullchain.pem",
			    e->e.name);
			if ((ret = put_crts(tmp, rel, two, 2, err)) != 0)
				goto out;
		}
	}
	for (i = 0; i < p->orphan_keys.n; i++) {
		const char *b = strrchr(p->orphan_keys.v[i], '/');
		char base[96];
		snprintf(base, sizeof(base), "unsigned-%.*s", (int)strcspn(b + 1,
		    "."), b + 1);
		if ((ret = archive_key(tmp, p->orphan_keys.v[i], base, out,
		    err)) != 0)
			goto out;
	}
	if (idx.oom) {
		ret = nomem(err);
		goto out;
	}
	if ((ret = put(tmp, "index.txt", idx.p != NULL ? idx.p : "", idx.len,
	    0644, err)) != 0)
		goto out;
	if (p->crl_pem.data != NULL) {
		if ((ret = put(tmp, "crl.pem", p->crl_pem.data, p->crl_pem.size,
		    0644, err)) != 0)
			goto out;
		out->crl_copied = 1;
	}
	/* Where this CA came from, for the operator who finds it later. */
	ca_time_format(t, sizeof(t), now);
	ca_sb_printf(&note, "imported_from = %s\nimported_at = %s\n"
	    "source_index_sha256 = %s\nentries = %zu\nvalid = %zu\n"
	    "revoked = %zu\nexpired = %zu\n", p->dir, t,
	    (const char *)p->index_sha, p->n, out->nvalid, out->nrevoked,
	    out->nexpired);
	if (note.oom) {
		ret = nomem(err);
		goto out;
	}
	ret = put(tmp, "easyrsa-import.txt", note.p, note.len, 0644, err);
	if (ret == 0)
		ret = ca_dir_fsync(tmp, err);
out:
	free(idx.p);
	free(note.p);
	return ret;
#undef MKDIR
}

int
ca_import_key_encrypted(const char *pki, struct ca_err *err)
{
	gnutls_datum_t d = { NULL, 0 };
	char *kp = pki_path(pki, "private/ca.key", NULL);
	int ret;

	if (kp == NULL)
		return nomem(err);
	ret = ca_datum_read(&d, kp, CA_MAX_FILE, err);
	free(kp);
	if (ret != 0)
		return ret;
	ret = pem_encrypted(&d);
	ca_datum_wipe_heap(&d);
	return ret;
}

int
ca_import_easyrsa(struct ca_import_result *out, const char *dir,
    const char *pki, const struct ca_import_opts *o,
    const struct ca_secret *pass, time_t now, struct ca_err *err)
{
	struct pki p;
	struct stat st;
	char *tmp = NULL, *parent = NULL, *slash;
	int ret, exists, made = 0;

	memset(out, 0, sizeof(*out));
	memset(&p, 0, sizeof(p));
	p.dir = pki;
	if (o->kind != CA_KIND_SERVER && o->kind != CA_KIND_CLIENT)
		return ca_err_set(err, CA_EINVAL, "--kind must be server or "
		    "client");
	if (lstat(pki, &st) == -1)
		return ca_err_set(err, CA_ENOENT, "cannot open easy-rsa PKI '%s': "
		    "%s", pki, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return ca_err_set(err, CA_EINVAL, "easy-rsa PKI '%s' is not a "
		    "directory", pki);
	{
		char *ip = pki_path(pki, "index.txt", NULL), *cp =
		    pki_path(pki, "ca.crt", NULL);
		int ok = ip != NULL && cp != NULL && ca_file_exists(ip) &&
		    ca_file_exists(cp);
		free(ip);
		free(cp);
		if (!ok)
			return ca_err_set(err, CA_ENOENT, "'%s' is not an easy-rsa "
			    "PKI (no ca.crt and index.txt)", pki);
	}
	if ((ret = dest_check(&exists, dir, err)) != 0)
		return ret;
	/* Everything is read and checked before anything is written. */
	if ((ret = load_ca(&p, o, pass, now, err)) != 0 ||
	    (ret = load_issued(&p, err)) != 0 ||
	    (ret = load_index(&p, err)) != 0 ||
	    (ret = find_certs(&p, err)) != 0 ||
	    (ret = find_orphan_keys(&p, err)) != 0 ||
	    (ret = load_crl_state(&p, err)) != 0)
		goto out;
	if (!p.key_was_encrypted && pass != NULL &&
	    (ret = ca_secret_check_new(pass, err)) != 0)
		goto out;
	choose_current(&p, now);

	{
		size_t l = strlen(dir);
		while (l > 1 && dir[l - 1] == '/')
			l--;
		if (asprintf(&tmp, "%.*s.tmp-XXXXXX", (int)l, dir) < 0) {
			tmp = NULL;
			ret = nomem(err);
			goto out;
		}
	}
	if (mkdtemp(tmp) == NULL) {
		ret = ca_err_set(err, CA_EIO, "cannot create '%s': %s", tmp,
		    strerror(errno));
		goto out;
	}
	made = 1;
	/* pass: the easy-rsa key's own passphrase, kept; or, for a nopass
	 * key, one the operator gave to encrypt it from now on. */
	if ((ret = write_dir(out, tmp, &p, o, pass, now, err)) != 0)
		goto out;
	/* The commit: an empty destination directory is replaced whole. */
	if (ca_io_rename(tmp, dir) == -1) {
		ret = ca_err_set(err, errno == ENOTEMPTY || errno == EEXIST ?
		    CA_EEXIST : CA_EIO, "cannot move the imported CA into '%s': "
		    "%s", dir, strerror(errno));
		goto out;
	}
	made = 0;
	if ((parent = strdup(dir)) == NULL) {
		ret = nomem(err);
		goto out;
	}
	slash = strrchr(parent, '/');
	if (slash == parent)
		slash[1] = '\0';
	else if (slash != NULL)
		*slash = '\0';
	ret = ca_dir_fsync(slash != NULL ? parent : ".", err);
out:
	if (made)
		rm_tree(tmp);
	if (ret != 0) {
		struct ca_import_result z;
		memset(&z, 0, sizeof(z));
		*out = z;
	}
	free(parent);
	free(tmp);
	pki_free(&p);
	return ret;
}

int
ca_self_rooted(const struct ca *ca)
{
	return ca != NULL && ca->crt != NULL && ca->root != NULL &&
	    gnutls_x509_crt_equals(ca->crt, ca->root);
}
