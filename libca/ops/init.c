/*
 * init.c - making CA directories: a new root (key, self-signed
 * certificate), a new intermediate (key and CSR for the root ceremony),
 * and installing the certificate the root signed into an intermediate.
 * Each builds with an undo list, so a failure leaves nothing.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ops/ops-int.h"

/* Leaves are backdated a little so hosts whose clock lags do not reject
 * a certificate that was just installed. */
#define BACKDATE 300
#define DAY 86400

static int
nomem(struct ca_err *err)
{
	return ca_err_set(err, CA_ENOMEM, "out of memory");
}

/* ---- creating CA directories ------------------------------------------- */

/* Files made by an init, removed again when a later step fails, so a
 * failed init leaves nothing that a retry would trip over. */
struct undo {
	char *paths[16];
	int isdir[16];
	size_t n;
};

static void
undo_add(struct undo *u, char *path, int isdir)
{
	if (u->n < 16) {
		u->paths[u->n] = path;
		u->isdir[u->n++] = isdir;
	} else
		free(path);
}

static void
undo_run(struct undo *u, int really)
{
	while (u->n > 0) {
		u->n--;
		if (really) {
			if (u->isdir[u->n])
				rmdir(u->paths[u->n]);
			else
				unlink(u->paths[u->n]);
		}
		free(u->paths[u->n]);
	}
}

static int
mkdir_undo(struct undo *u, const char *dir, const char *rel, mode_t mode,
    struct ca_err *err)
{
	char *p = rel != NULL ? ca_path_join(dir, rel) : strdup(dir);
	int existed, ret;

	if (p == NULL)
		return nomem(err);
	existed = ca_file_exists(p);
	if ((ret = ca_dir_create(p, mode, rel != NULL, err)) != 0) {
		free(p);
		return ret;
	}
	if (!existed)
		undo_add(u, p, 1);
	else
		free(p);
	return 0;
}

static int
write_undo(struct undo *u, const char *dir, const char *rel, const void *buf,
    size_t len, mode_t mode, struct ca_err *err)
{
	char *p = ca_path_join(dir, rel);
	int ret;

	if (p == NULL)
		return nomem(err);
	if ((ret = ca_file_write_new(p, buf, len, mode, err)) != 0) {
		free(p);
		return ret;
	}
	undo_add(u, p, 0);
	return 0;
}

static int
key_write_undo(struct undo *u, const char *dir, gnutls_x509_privkey_t k,
    const struct ca_secret *pass, struct ca_err *err)
{
	char *p = ca_path_join(dir, "private/ca.key");
	int ret;

	if (p == NULL)
		return nomem(err);
	if ((ret = ca_key_write(p, k, pass, 1, err)) != 0) {
		free(p);
		return ret;
	}
	undo_add(u, p, 0);
	return 0;
}

static int
refuse_existing(const char *dir, struct ca_err *err)
{
	static const char *const must_not[] = { "private/ca.key", "ca.crt",
		"kind", "index.txt" };
	size_t i;

	for (i = 0; i < sizeof(must_not) / sizeof(must_not[0]); i++) {
		char *p = ca_path_join(dir, must_not[i]);
		int ex = p != NULL && ca_file_exists(p);
		free(p);
		if (ex)
			return ca_err_set(err, CA_EEXIST, "'%s' already holds a CA "
			    "(%s exists); refusing to overwrite it", dir,
			    must_not[i]);
	}
	return 0;
}

/* The common skeleton: D, D/private (0700), D/certs, D/issued, kind,
 * an empty index.txt (+ .attr so `openssl ca` accepts renewals). */
static int
make_skeleton(struct undo *u, const char *dir, enum ca_kind kind,
    struct ca_err *err)
{
	static const char attr[] = "unique_subject = no\n";
	char kindline[16];
	int ret;

	if ((ret = mkdir_undo(u, dir, NULL, 0755, err)) != 0 ||
	    (ret = mkdir_undo(u, dir, "private", 0700, err)) != 0 ||
	    (ret = mkdir_undo(u, dir, "certs", 0755, err)) != 0)
		return ret;
	if (kind != CA_KIND_ROOT &&
	    (ret = mkdir_undo(u, dir, "issued", 0700, err)) != 0)
		return ret;
	snprintf(kindline, sizeof(kindline), "%s\n", ca_kind_name(kind));
	if ((ret = write_undo(u, dir, "kind", kindline, strlen(kindline), 0644,
	    err)) != 0 ||
	    (ret = write_undo(u, dir, "index.txt", "", 0, 0644, err)) != 0 ||
	    (ret = write_undo(u, dir, "index.txt.attr", attr, sizeof(attr) - 1,
	    0644, err)) != 0 ||
	    (ret = write_undo(u, dir, "crlnumber", "01\n", 3, 0644, err)) != 0)
		return ret;
	return 0;
}

static int
pubkey_of(gnutls_pubkey_t *out, gnutls_x509_privkey_t k, struct ca_err *err)
{
	gnutls_privkey_t pk = NULL;
	int ret;

	*out = NULL;
	if ((ret = ca_privkey_to_abstract(&pk, k, err)) != 0)
		return ret;
	if ((ret = gnutls_pubkey_init(out)) < 0 ||
	    (ret = gnutls_pubkey_import_privkey(*out, pk, 0, 0)) < 0) {
		gnutls_privkey_deinit(pk);
		if (*out != NULL)
			gnutls_pubkey_deinit(*out);
		*out = NULL;
		return ca_gnutls_err(err, ret, "cannot read the public key");
	}
	gnutls_privkey_deinit(pk);
	return 0;
}
int
ca_root_init(const char *dir, const struct ca_root_init_opts *o,
    const struct ca_secret *pass, time_t now, struct ca_err *err)
{
	struct ca_cert_req req = CA_CERT_REQ_INIT;
	struct undo u = { .n = 0 };
	gnutls_x509_privkey_t k = NULL;
	gnutls_privkey_t pk = NULL;
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t pem = { NULL, 0 };
	struct ca_serial serial;
	struct ca_strv details = { NULL, 0 };
	char fp[65], line[200], algname[32];
	int ret, lock = -1;

	if (o->subject == NULL || *o->subject == '\0')
		return ca_err_set(err, CA_EINVAL, "a root needs --subject");
	if (o->days < 365 || o->days > 36500)
		return ca_err_set(err, CA_EINVAL, "root validity of %d days is "
		    "out of range (365 to 36500)", o->days);
	if (pass == NULL)
		return ca_err_set(err, CA_EPASS, "the root key is always "
		    "encrypted: a passphrase is needed");
	if ((ret = ca_secret_check_new(pass, err)) != 0)
		return ret;
	if ((ret = refuse_existing(dir, err)) != 0)
		return ret;
	/* Everything that can fail for reasons of input happens before the
	 * first file is written. */
	if ((ret = ca_key_generate(&k, o->alg, err)) != 0)
		goto out;
	if ((ret = ca_privkey_to_abstract(&pk, k, err)) != 0 ||
	    (ret = pubkey_of(&req.pubkey, k, err)) != 0 ||
	    (ret = ca_serial_random(&serial, err)) != 0)
		goto out;
	req.profile = CA_PROF_ROOT;
	req.subject = o->subject;
	req.not_before = now - BACKDATE;
	req.not_after = now + (time_t)o->days * DAY;
	if ((ret = ca_cert_issue(&crt, &req, &serial, NULL, pk, now, err)) != 0)
		goto out;
	if ((ret = ca_cert_export_pem(&pem, crt, err)) != 0)
		goto out;

	if ((ret = mkdir_undo(&u, dir, NULL, 0755, err)) != 0)
		goto out;
	if ((ret = ca_lock_acquire(&lock, dir, 0, err)) != 0)
		goto out;
	if ((ret = refuse_existing(dir, err)) != 0 ||
	    (ret = make_skeleton(&u, dir, CA_KIND_ROOT, err)) != 0 ||
	    (ret = key_write_undo(&u, dir, k, pass, err)) != 0 ||
	    (ret = write_undo(&u, dir, "ca.crt", pem.data, pem.size, 0644,
	    err)) != 0)
		goto out;

	ca_cert_sha256(fp, sizeof(fp), crt);
	snprintf(line, sizeof(line), "cert_sha256=%s", fp);
	ca_strv_add(&details, line);
	ca_pubkey_fingerprint(fp, sizeof(fp), req.pubkey);
	snprintf(line, sizeof(line), "spki_sha256=%s", fp);
	ca_strv_add(&details, line);
	ca_pubkey_describe(algname, sizeof(algname), req.pubkey);
	snprintf(line, sizeof(line), "key=%s", algname);
	ca_strv_add(&details, line);
	snprintf(line, sizeof(line), "serial=%s", serial.hex);
	ca_strv_add(&details, line);
	if ((ret = ca_log_append(dir, now, "init", &details, err)) != 0)
		goto out;
	ret = 0;
out:
	undo_run(&u, ret != 0);
	ca_strv_free(&details);
	ca_lock_release(lock);
	gnutls_free(pem.data);
	if (crt != NULL)
		gnutls_x509_crt_deinit(crt);
	if (req.pubkey != NULL)
		gnutls_pubkey_deinit(req.pubkey);
	if (pk != NULL)
		gnutls_privkey_deinit(pk);
	if (k != NULL)
		gnutls_x509_privkey_deinit(k);
	return ret;
}

int
ca_ica_init(const char *dir, const struct ca_ica_init_opts *o,
    const struct ca_secret *pass, struct ca_err *err)
{
	struct undo u = { .n = 0 };
	gnutls_x509_privkey_t k = NULL;
	gnutls_x509_crq_t q = NULL;
	gnutls_datum_t pem = { NULL, 0 };
	int ret, lock = -1;

	if (o->kind != CA_KIND_SERVER && o->kind != CA_KIND_CLIENT)
		return ca_err_set(err, CA_EINVAL, "--kind must be server or "
		    "client");
	if (o->subject == NULL || *o->subject == '\0')
		return ca_err_set(err, CA_EINVAL, "an intermediate needs "
		    "--subject");
	if (pass != NULL && (ret = ca_secret_check_new(pass, err)) != 0)
		return ret;
	if ((ret = refuse_existing(dir, err)) != 0)
		return ret;
	if ((ret = ca_key_generate(&k, o->alg, err)) != 0 ||
	    (ret = ca_csr_create(&q, o->subject, k, err)) != 0)
		goto out;
	if ((ret = gnutls_x509_crq_export2(q, GNUTLS_X509_FMT_PEM, &pem)) < 0) {
		ret = ca_gnutls_err(err, ret, "cannot export the CSR");
		goto out;
	}
	if ((ret = mkdir_undo(&u, dir, NULL, 0755, err)) != 0 ||
	    (ret = ca_lock_acquire(&lock, dir, 0, err)) != 0 ||
	    (ret = refuse_existing(dir, err)) != 0 ||
	    (ret = make_skeleton(&u, dir, o->kind, err)) != 0 ||
	    (ret = key_write_undo(&u, dir, k, pass, err)) != 0 ||
	    (ret = write_undo(&u, dir, "ca.csr", pem.data, pem.size, 0644,
	    err)) != 0)
		goto out;
	ret = 0;
out:
	undo_run(&u, ret != 0);
	ca_lock_release(lock);
	gnutls_free(pem.data);
	if (q != NULL)
		gnutls_x509_crq_deinit(q);
	if (k != NULL)
		gnutls_x509_privkey_deinit(k);
	return ret;
}

static int
key_id_equal(gnutls_x509_crt_t crt, gnutls_x509_crq_t q)
{
	unsigned char a[64], b[64];
	size_t na = sizeof(a), nb = sizeof(b);

	if (gnutls_x509_crt_get_key_id(crt, GNUTLS_KEYID_USE_SHA256, a, &na) < 0
	    || gnutls_x509_crq_get_key_id(q, GNUTLS_KEYID_USE_SHA256, b, &nb) < 0)
		return 0;
	return na == nb && memcmp(a, b, na) == 0;
}

int
ca_ica_install(struct ca *ca, const char *cert_path, const char *root_path,
    time_t now, struct ca_err *err)
{
	gnutls_x509_crt_t crt = NULL, root = NULL;
	gnutls_x509_crq_t q = NULL;
	gnutls_x509_privkey_t k = NULL;
	gnutls_datum_t a = { NULL, 0 }, b = { NULL, 0 };
	char *p = NULL, *chain = NULL;
	unsigned st = 0;
	int ret;
	enum ca_profile prof;

	if (ca->kind == CA_KIND_ROOT)
		return ca_err_set(err, CA_EINVAL, "'%s' is a root, not an "
		    "intermediate", ca->dir);
	prof = ca->kind == CA_KIND_SERVER ? CA_PROF_ICA_SERVER :
	    CA_PROF_ICA_CLIENT;
	if ((ret = ca_cert_load(&crt, cert_path, err)) != 0 ||
	    (ret = ca_cert_load(&root, root_path, err)) != 0)
		goto out;
	/* The root must be a self-signed CA whose signature holds. */
	/* Times are judged at `now' by ca_verify_chain, not the clock. */
	if (!gnutls_x509_crt_check_issuer(root, root) ||
	    gnutls_x509_crt_verify(root, &root, 1,
	    GNUTLS_VERIFY_DISABLE_TIME_CHECKS |
	    GNUTLS_VERIFY_DISABLE_TRUSTED_TIME_CHECKS, &st) < 0 || st != 0) {
		ret = ca_err_set(err, CA_EVERIFY, "'%s' is not a self-signed root "
		    "certificate", root_path);
		goto out;
	}
	/* The key: the certificate must be for this directory's key. */
	if ((p = ca_path(ca, "ca.csr")) == NULL) {
		ret = nomem(err);
		goto out;
	}
	if ((ret = ca_csr_load(&q, p, err)) != 0)
		goto out;
	if (!key_id_equal(crt, q)) {
		ret = ca_err_set(err, CA_EVERIFY, "'%s' does not match the key of "
		    "'%s' (was it signed from another CSR?)", cert_path, ca->dir);
		goto out;
	}
	free(p);
	if ((p = ca_path(ca, "private/ca.key")) == NULL) {
		ret = nomem(err);
		goto out;
	}
	if (ca_key_file_encrypted(p, NULL) == 0) {
		if ((ret = ca_key_load(&k, p, NULL, err)) != 0)
			goto out;
		if (!ca_cert_matches_key(crt, k)) {
			ret = ca_err_set(err, CA_EVERIFY, "'%s' does not match '%s'",
			    cert_path, p);
			goto out;
		}
	}
	if ((ret = ca_verify_chain(crt, NULL, 0, &root, 1, NULL, 0, NULL, now,
	    err)) != 0) {
		ca_err_wrap(err, "'%s' does not chain to '%s'", cert_path,
		    root_path);
		goto out;
	}
	/* Kind and profile: a client intermediate's certificate installed
	 * as the server one would silently merge the two trust models. */
	if ((ret = ca_lint_cert(crt, prof, root, now, err)) != 0) {
		ca_err_wrap(err, "'%s' is not a valid %s intermediate for '%s'",
		    cert_path, ca_kind_name(ca->kind), ca->dir);
		goto out;
	}
	if ((ret = ca_cert_export_pem(&a, crt, err)) != 0 ||
	    (ret = ca_cert_export_pem(&b, root, err)) != 0)
		goto out;
	if ((chain = malloc((size_t)a.size + b.size)) == NULL) {
		ret = nomem(err);
		goto out;
	}
	memcpy(chain, a.data, a.size);
	memcpy(chain + a.size, b.data, b.size);
	free(p);
	p = NULL;
#define PUT(rel, buf, len) do { \
		free(p); \
		if ((p = ca_path(ca, rel)) == NULL) { ret = nomem(err); goto out; } \
		if ((ret = ca_file_write_atomic(p, buf, len, 0644, err)) != 0) \
			goto out; \
	} while (0)
	PUT("root.crt", b.data, b.size);
	PUT("chain.pem", chain, (size_t)a.size + b.size);
	/* ca.crt last: it is what marks the intermediate as installed. */
	PUT("ca.crt", a.data, a.size);
#undef PUT
	if (ca->crt != NULL)
		gnutls_x509_crt_deinit(ca->crt);
	if (ca->root != NULL)
		gnutls_x509_crt_deinit(ca->root);
	ca->crt = crt;
	ca->root = root;
	crt = root = NULL;
	ret = 0;
out:
	free(chain);
	free(p);
	gnutls_free(a.data);
	gnutls_free(b.data);
	if (k != NULL)
		gnutls_x509_privkey_deinit(k);
	if (q != NULL)
		gnutls_x509_crq_deinit(q);
	if (crt != NULL)
		gnutls_x509_crt_deinit(crt);
	if (root != NULL)
		gnutls_x509_crt_deinit(root);
	return ret;
}
