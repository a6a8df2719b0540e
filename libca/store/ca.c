/*
 * ca.c - a CA directory handle (docs/architecture.md, "store"): open with
 * its lock and recovery, load its key, close; and the two steps every
 * issuance shares, storing a certificate under its serial and recording
 * it in the database.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/store-int.h"

char *
ca_path(const struct ca *ca, const char *rel)
{
	return ca_path_join(ca->dir, rel);
}

const char *
ca_store_dir(const struct ca *ca)
{
	return ca->dir;
}

enum ca_kind
ca_store_kind(const struct ca *ca)
{
	return ca->kind;
}

static int
nomem(struct ca_err *err)
{
	return ca_err_set(err, CA_ENOMEM, "out of memory");
}

void
ca_close(struct ca *ca)
{
	if (ca == NULL)
		return;
	if (ca->crt != NULL)
		gnutls_x509_crt_deinit(ca->crt);
	if (ca->root != NULL)
		gnutls_x509_crt_deinit(ca->root);
	if (ca->key != NULL)
		gnutls_privkey_deinit(ca->key);
	if (ca->xkey != NULL)
		gnutls_x509_privkey_deinit(ca->xkey);
	ca_db_cache_free(ca->db_cache);
	ca_recover_end(ca);
	ca_lock_release(ca->lock_fd);
	ca_dir_unregister(ca);
	free(ca->dir);
	free(ca);
}

static int
read_kind(enum ca_kind *out, const char *dir, struct ca_err *err)
{
	char *p, *buf = NULL, *nl;
	int ret;

	if ((p = ca_path_join(dir, "kind")) == NULL)
		return nomem(err);
	ret = ca_file_read(&buf, NULL, p, 64, err);
	if (ret == CA_ENOENT)
		ret = ca_err_set(err, CA_ENOENT, "'%s' is not a tierca CA "
		    "directory (no 'kind' file)", dir);
	if (ret == 0) {
		if ((nl = strchr(buf, '\n')) != NULL)
			*nl = '\0';
		if (ca_kind_parse(out, buf) != 0)
			ret = ca_err_set(err, CA_EINVAL, "'%s': unknown kind '%s'",
			    p, buf);
	}
	free(buf);
	free(p);
	return ret;
}

/*
 * Every name of a CA directory that tierca reads or writes. A symlink in
 * one of these places is refused before anything is read or locked: the
 * files are opened O_NOFOLLOW and replaced by rename, but the
 * directories (private, certs, issued) would lead writes elsewhere, and a
 * link among the files means someone has been at the directory.
 */
static const char *const ca_names[] = { "kind", ".lock", "private",
	"private/ca.key", "certs", "issued", "index.txt", "index.txt.attr",
	"crlnumber", "crl.pem", "crl.der", "ca.crt", "ca.csr", "chain.pem",
	"root.crt", "root-crl.pem", "ceremony.log", "ceremony.head" };

static int
refuse_links(const char *dir, struct ca_err *err)
{
	struct stat st;
	char *p;
	size_t i;

	for (i = 0; i < sizeof(ca_names) / sizeof(ca_names[0]); i++) {
		if ((p = ca_path_join(dir, ca_names[i])) == NULL)
			return nomem(err);
		if (lstat(p, &st) == 0 && S_ISLNK(st.st_mode)) {
			ca_err_set(err, CA_EPERM, "refusing symlink '%s' in CA "
			    "directory '%s'", p, dir);
			free(p);
			return CA_EPERM;
		}
		free(p);
	}
	return 0;
}

int
ca_open(struct ca **out, const char *dir, unsigned flags, struct ca_err *err)
{
	struct ca *ca = NULL;
	struct stat st;
	char *p = NULL;
	int ret;

	*out = NULL;
	if (lstat(dir, &st) == -1)
		return ca_err_set(err, CA_ENOENT, "cannot open CA directory '%s':"
		    " %s", dir, strerror(errno));
	if (S_ISLNK(st.st_mode))
		return ca_err_set(err, CA_EPERM, "refusing symlink '%s': give "
		    "the CA directory itself", dir);
	if (!S_ISDIR(st.st_mode))
		return ca_err_set(err, CA_EINVAL, "'%s' is not a directory", dir);
	if ((ret = refuse_links(dir, err)) != 0)
		return ret;
	if ((ca = calloc(1, sizeof(*ca))) == NULL)
		return nomem(err);
	ca->lock_fd = -1;
	if ((ca->dir = strdup(dir)) == NULL) {
		ret = nomem(err);
		goto fail;
	}
	/* From here on every path under dir is walked from this fd, and no
	 * symlink below it is followed (file.c). */
	if (ca_dir_register(ca, dir) != 0) {
		ret = errno == ENOMEM ? nomem(err) : ca_err_set(err, CA_EIO,
		    "cannot open CA directory '%s': %s", dir, strerror(errno));
		goto fail;
	}
	if ((ret = read_kind(&ca->kind, dir, err)) != 0)
		goto fail;
	/* Take the lock before reading anything that a writer may change. */
	if ((flags & CA_OPEN_LOCK) &&
	    ((ret = ca_lock_acquire(&ca->lock_fd, dir, 1, err)) != 0 ||
	    (ret = ca_recover_begin(ca, err)) != 0))
		goto fail;
	if ((p = ca_path(ca, "ca.crt")) == NULL) {
		ret = nomem(err);
		goto fail;
	}
	if (ca_file_exists(p)) {
		if ((ret = ca_cert_load(&ca->crt, p, err)) != 0)
			goto fail;
	} else if (flags & CA_OPEN_NEED_CERT) {
		ret = ca_err_set(err, CA_ENOENT, "CA '%s' has no certificate yet: "
		    "take '%s/ca.csr' to the root and run 'tierca-ica install'",
		    dir, dir);
		goto fail;
	}
	free(p);
	if ((p = ca_path(ca, "root.crt")) == NULL) {
		ret = nomem(err);
		goto fail;
	}
	if (ca->kind != CA_KIND_ROOT && ca_file_exists(p) &&
	    (ret = ca_cert_load(&ca->root, p, err)) != 0)
		goto fail;
	free(p);
	*out = ca;
	return 0;
fail:
	free(p);
	ca_close(ca);
	return ret;
}

int
ca_key_needs_pass(struct ca *ca, struct ca_err *err)
{
	char *p = ca_path(ca, "private/ca.key");
	int ret;

	if (p == NULL)
		return nomem(err);
	ret = ca_key_file_encrypted(p, err);
	free(p);
	return ret;
}

int
ca_load_key(struct ca *ca, const struct ca_secret *pass, struct ca_err *err)
{
	char *p = NULL;
	int ret;

	if (ca->key != NULL)
		return 0;
	if ((p = ca_path(ca, "private/ca.key")) == NULL)
		return nomem(err);
	if ((ret = ca_key_load(&ca->xkey, p, pass, err)) != 0)
		goto out;
	if (ca->crt != NULL && !ca_cert_matches_key(ca->crt, ca->xkey)) {
		ret = ca_err_set(err, CA_EVERIFY, "'%s' does not match '%s/ca.crt'",
		    p, ca->dir);
		goto out;
	}
	ret = ca_privkey_to_abstract(&ca->key, ca->xkey, err);
out:
	free(p);
	return ret;
}


/* Writes D/certs/SERIAL.pem; the exclusive create guarantees a serial is
 * never used twice in this CA. */
int
ca_store_cert(const char *dir, gnutls_x509_crt_t crt, const char *serial,
    struct ca_err *err)
{
	gnutls_datum_t pem = { NULL, 0 };
	char rel[64], *p;
	int ret;

	if ((ret = ca_cert_export_pem(&pem, crt, err)) != 0)
		return ret;
	snprintf(rel, sizeof(rel), "certs/%s.pem", serial);
	if ((p = ca_path_join(dir, rel)) == NULL)
		ret = nomem(err);
	else
		ret = ca_file_write_new(p, pem.data, pem.size, 0644, err);
	free(p);
	gnutls_free(pem.data);
	return ret;
}

int
ca_record(const char *dir, gnutls_x509_crt_t crt, const char *serial,
    const char *name, off_t *before, struct ca_err *err)
{
	struct ca_db_entry e;
	char *idx = ca_path_join(dir, "index.txt");
	int ret;

	memset(&e, 0, sizeof(e));
	e.status = 'V';
	e.not_after = gnutls_x509_crt_get_expiration_time(crt);
	snprintf(e.serial, sizeof(e.serial), "%s", serial);
	e.name = (char *)(uintptr_t)name;
	if (idx == NULL || ca_cert_subject_oneline(&e.subject, crt) != 0) {
		free(idx);
		return nomem(err);
	}
	/* The issuing paths check the index first, under the same lock. */
	ret = ca_db_append(idx, &e, before, 0, err);
	free(e.subject);
	free(idx);
	return ret;
}
