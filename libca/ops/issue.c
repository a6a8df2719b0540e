/*
 * issue.c - issuing leaves (new key or a device's CSR) from an
 * intermediate, and intermediates from the root.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "ops/ops-int.h"

#define BACKDATE 300
#define DAY 86400

void
ca_issued_clear(struct ca_issued *is)
{
	free(is->name);
	free(is->subject);
	free(is->cert_path);
	memset(is, 0, sizeof(*is));
}

static int
check_index(const char *dir, struct ca_err *err)
{
	char *idx = ca_path_join(dir, "index.txt");
	int ret;

	if (idx == NULL)
		return ca_err_set(err, CA_ENOMEM, "out of memory");
	ret = ca_db_check(idx, err);
	free(idx);
	return ret;
}

/* "CN=" + value escaped as RFC 4514 wants. */
static char *
cn_subject(const char *cn)
{
	size_t n = strlen(cn), i, j = 3;
	char *s = malloc(3 + 2 * n + 1);

	if (s == NULL)
		return NULL;
	memcpy(s, "CN=", 3);
	for (i = 0; i < n; i++) {
		char c = cn[i];
		if (strchr(",+\"\\<>;=", c) != NULL ||
		    (i == 0 && (c == '#' || c == ' ')) ||
		    (i == n - 1 && c == ' '))
			s[j++] = '\\';
		s[j++] = c;
	}
	s[j] = '\0';
	return s;
}

static int
copy_strv(struct ca_strv *dst, const struct ca_strv *src)
{
	size_t i;

	for (i = 0; i < src->n; i++)
		if (ca_strv_add(dst, src->v[i]) != 0)
			return CA_ENOMEM;
	return 0;
}

/* Does NAME already hold a valid certificate in this CA? The index is
 * mapped and searched for the name as a whole field; only the lines that
 * hold it are parsed. No copy, no per-line work: cheap at any size. */
static int
name_in_use(struct ca *ca, const char *name, time_t now, struct ca_err *err)
{
	char *idx = ca_path(ca, "index.txt"), *line = NULL;
	const char *buf = MAP_FAILED, *p, *start, *nl;
	size_t len = 0, plen = strlen(name);
	struct stat st;
	int fd = -1, ret = 0;

	if (idx == NULL)
		return ca_err_set(err, CA_ENOMEM, "out of memory");
	if ((fd = ca_open_beneath(idx, O_RDONLY | O_NOFOLLOW, 0)) == -1 ||
	    fstat(fd, &st) == -1) {
		ret = ca_err_set(err, CA_EIO, "cannot read '%s': %s", idx,
		    strerror(errno));
		goto out;
	}
	len = (size_t)st.st_size;
	if (len == 0)
		goto out;
	if ((buf = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0)) ==
	    MAP_FAILED) {
		ret = ca_err_set(err, CA_EIO, "cannot map '%s': %s", idx,
		    strerror(errno));
		goto out;
	}
	for (p = buf; (p = memmem(p, len - (size_t)(p - buf), name, plen)) !=
	    NULL; p += plen) {
		struct ca_db_entry e;
		char t[32];

		/* The name as a whole field (memmem with the tabs around it
		 * would crawl: tabs are everywhere). */
		if (p == buf || p[-1] != '\t' || p + plen >= buf + len ||
		    p[plen] != '\t')
			continue;
		for (start = p; start > buf && start[-1] != '\n'; start--)
			;
		if ((nl = memchr(p, '\n', len - (size_t)(p - buf))) == NULL)
			break; /* a torn tail never counted */
		free(line);
		if ((line = strndup(start, (size_t)(nl - start))) == NULL) {
			ret = ca_err_set(err, CA_ENOMEM, "out of memory");
			goto out;
		}
		if (ca_db_parse_line(&e, line, NULL) != 0)
			continue; /* the name matched another field */
		if (e.status == 'V' && e.not_after > now &&
		    strcmp(e.name, name) == 0) {
			ca_time_format(t, sizeof(t), e.not_after);
			ret = ca_err_set(err, CA_EEXIST, "'%s' already has a valid "
			    "certificate (serial %s, until %s): revoke it first, "
			    "or renew it", name, e.serial, t);
			ca_db_entry_clear(&e);
			break;
		}
		ca_db_entry_clear(&e);
	}
out:
	free(line);
	if (buf != MAP_FAILED)
		munmap((void *)(uintptr_t)buf, len);
	if (fd != -1)
		close(fd);
	free(idx);
	return ret;
}

/* The same question through the database kept in ca (ca_db_cached):
 * after the first read only appended lines are parsed, so a process
 * that issues many certificates pays O(log n) per name, not a scan of
 * the whole file. */
static int
name_in_use_cached(struct ca *ca, const char *name, time_t now,
    struct ca_err *err)
{
	const struct ca_db_byname *ix;
	struct ca_db *db;
	size_t first, n, i;
	char t[32];
	int ret;

	if ((ret = ca_db_cached(&db, &ix, ca, err)) != 0)
		return ret;
	first = ca_db_byname_find(ix, name, &n);
	for (i = first; i < first + n; i++) {
		const struct ca_db_entry *e = ix->v[i];
		if (e->status == 'V' && e->not_after > now) {
			ca_time_format(t, sizeof(t), e->not_after);
			return ca_err_set(err, CA_EEXIST, "'%s' already has a "
			    "valid certificate (serial %s, until %s): revoke it "
			    "first, or renew it", name, e->serial, t);
		}
	}
	return 0;
}

/* A one-off issuance (tierca-ica issue) searches the file once, which
 * is cheaper than reading it whole; a process that issues again, or
 * holds the database already, goes through the cache. */
static int
name_check(struct ca *ca, const char *name, time_t now, struct ca_err *err)
{
	if (ca->db_cache != NULL || ca->issues > 0)
		return name_in_use_cached(ca, name, now, err);
	return name_in_use(ca, name, now, err);
}

static int
pem_cat(char **out, size_t *outlen, gnutls_x509_crt_t *crts, size_t n,
    struct ca_err *err)
{
	gnutls_datum_t d;
	char *buf = NULL, *nb;
	size_t len = 0, i;
	int ret;

	*out = NULL;
	for (i = 0; i < n; i++) {
		if ((ret = ca_cert_export_pem(&d, crts[i], err)) != 0) {
			free(buf);
			return ret;
		}
		if ((nb = realloc(buf, len + d.size + 1)) == NULL) {
			gnutls_free(d.data);
			free(buf);
			return ca_err_set(err, CA_ENOMEM, "out of memory");
		}
		buf = nb;
		memcpy(buf + len, d.data, d.size);
		len += d.size;
		gnutls_free(d.data);
	}
	*out = buf;
	*outlen = len;
	return 0;
}

static int
write_in(const char *dir, const char *rel, const void *buf, size_t len,
    mode_t mode, struct ca_err *err)
{
	char *p = ca_path_join(dir, rel);
	int ret;

	if (p == NULL)
		return ca_err_set(err, CA_ENOMEM, "out of memory");
	ret = ca_file_write_atomic(p, buf, len, mode, err);
	free(p);
	return ret;
}

/* Removes a staged or old issued/NAME generation, with whatever it
 * holds (temp files of an interrupted write too). Never through a
 * symlink: one planted where a generation lies (a leftover name has a
 * guessable pid in it) would lead the unlinks outside the CA; the link
 * itself is what goes. ca_dir_remove_flat unlinks relative to the
 * directory opened with O_NOFOLLOW, so a swap of a parent cannot
 * redirect them. */
static void
rm_tree_flat(const char *dir)
{
	(void)ca_dir_remove_flat(dir);
}

/*
 * issued/NAME is published as a whole: stage_issued() writes the files
 * into a fresh directory next to it, swap_issued() trades places with
 * the old one in a single renameat2(RENAME_EXCHANGE). A reader sees the
 * old pair or the new pair, never a key from one and a certificate from
 * the other. Staging comes first, before anything is recorded, so a full
 * disk fails the issuance with nothing changed.
 */
static int
stage_issued(char **out, struct ca *ca, const char *name,
    const gnutls_datum_t *key, gnutls_x509_crt_t crt, struct ca_err *err)
{
	gnutls_x509_crt_t both[2];
	char *issued = NULL, *tmp = NULL, *buf = NULL;
	size_t len;
	int ret;

	*out = NULL;
	if ((issued = ca_path(ca, "issued")) == NULL ||
	    asprintf(&tmp, "%s/.%s.new.%ld", issued, name, (long)getpid()) < 0) {
		tmp = NULL;
		ret = ca_err_set(err, CA_ENOMEM, "out of memory");
		goto out;
	}
	if ((ret = ca_dir_create(issued, 0700, 0, err)) != 0)
		goto out;
	/* The generation this one replaces must be a directory of ours:
	 * a symlink there would be swapped out and emptied. */
	{
		struct stat st;
		char *final = ca_path_join(issued, name);
		if (final == NULL) {
			ret = ca_err_set(err, CA_ENOMEM, "out of memory");
			goto out;
		}
		if (lstat(final, &st) == 0 && !S_ISDIR(st.st_mode))
			ret = ca_err_set(err, S_ISLNK(st.st_mode) ? CA_EPERM :
			    CA_EEXIST, S_ISLNK(st.st_mode) ? "refusing symlink "
			    "'%s'" : "'%s' is not a directory", final);
		free(final);
		if (ret != 0)
			goto out;
	}
	rm_tree_flat(tmp); /* a leftover of a crashed run with our pid */
	if ((ret = ca_dir_create(tmp, 0700, 1, err)) != 0)
		goto out;
	if (key != NULL) {
		mode_t old = umask(077);
		ret = write_in(tmp, "key.pem", key->data, key->size, 0600, err);
		umask(old);
		if (ret != 0)
			goto fail;
	}
	both[0] = crt;
	both[1] = ca->crt;
	if ((ret = pem_cat(&buf, &len, both, 1, err)) != 0 ||
	    (ret = write_in(tmp, "cert.pem", buf, len, 0644, err)) != 0)
		goto fail;
	free(buf);
	if ((ret = pem_cat(&buf, &len, both + 1, 1, err)) != 0 ||
	    (ret = write_in(tmp, "chain.pem", buf, len, 0644, err)) != 0)
		goto fail;
	free(buf);
	if ((ret = pem_cat(&buf, &len, both, 2, err)) != 0 ||
	    (ret = write_in(tmp, "fullchain.pem", buf, len, 0644, err)) != 0)
		goto fail;
	*out = tmp;
	tmp = NULL;
	goto out;
fail:
	rm_tree_flat(tmp);
out:
	free(buf);
	free(issued);
	free(tmp);
	return ret;
}

static int
swap_issued(struct ca *ca, const char *name, const char *staged,
    struct ca_err *err)
{
	char *issued = NULL, *final = NULL;
	int ret, swapped;

	if ((issued = ca_path(ca, "issued")) == NULL ||
	    (final = ca_path_join(issued, name)) == NULL) {
		ret = ca_err_set(err, CA_ENOMEM, "out of memory");
		goto out;
	}
	if (ca_io_renameat2(AT_FDCWD, staged, AT_FDCWD, final,
	    RENAME_EXCHANGE) == 0)
		swapped = 1;
	else if (errno == ENOENT && ca_io_rename(staged, final) == 0)
		swapped = 0;
	else {
		ret = ca_err_set(err, CA_EIO, "cannot publish '%s': %s", final,
		    strerror(errno));
		goto out;
	}
	/* Not durable is not published: the caller cuts the index line
	 * off again, so the old generation goes back in place (the same
	 * exchange once more, or the new name moved back). */
	if ((ret = ca_dir_fsync(issued, err)) != 0) {
		if (swapped)
			ca_path_rename(staged, final, RENAME_EXCHANGE);
		else
			ca_path_rename(final, staged, 0);
		goto out;
	}
	if (swapped)
		rm_tree_flat(staged); /* now the old generation */
out:
	free(issued);
	free(final);
	return ret;
}

/* Issues from ca to pubkey. key, when given, is published with it. */
static int
issue_core(struct ca_issued *out, struct ca *ca, const char *name,
    const char *dn, const char *cn, const struct ca_strv *dns,
    const struct ca_strv *ip, const struct ca_strv *email,
    gnutls_pubkey_t pubkey,
    gnutls_x509_privkey_t key, int days, int replace, time_t now,
    struct ca_err *err)
{
	struct ca_cert_req req = CA_CERT_REQ_INIT;
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t keypem = { NULL, 0 };
	struct ca_serial serial;
	char *subject = NULL, *p = NULL, *staged = NULL;
	time_t inb, ina;
	off_t before = 0;
	int ret, tries;

	memset(out, 0, sizeof(*out));
	if (ca->kind == CA_KIND_ROOT)
		return ca_err_set(err, CA_EINVAL, "the root signs only "
		    "intermediates (use tierca-root sign)");
	if (ca->crt == NULL)
		return ca_err_set(err, CA_ENOENT, "CA '%s' has no certificate yet:"
		    " run 'tierca-ica install' first", ca->dir);
	if (ca->key == NULL)
		return ca_err_set(err, CA_EINVAL, "the CA key is not loaded");
	if ((ret = ca_name_check(name, err)) != 0)
		return ret;
	if (days < 1 || days > 3650)
		return ca_err_set(err, CA_EINVAL, "validity of %d days is out of "
		    "range (1 to 3650)", days);
	/* Nothing is written on top of a corrupt database. */
	if ((ret = check_index(ca->dir, err)) != 0)
		return ret;
	if (!replace && (ret = name_check(ca, name, now, err)) != 0)
		return ret;
	if (cn == NULL || *cn == '\0')
		cn = dns->n > 0 ? dns->v[0] : ip->n > 0 ? ip->v[0] : name;
	if ((subject = dn != NULL ? strdup(dn) : cn_subject(cn)) == NULL)
		return ca_err_set(err, CA_ENOMEM, "out of memory");

	req.profile = ca->kind == CA_KIND_SERVER ? CA_PROF_LEAF_SERVER :
	    CA_PROF_LEAF_CLIENT;
	req.subject = subject;
	req.pubkey = pubkey;
	if (copy_strv(&req.dns, dns) != 0 || copy_strv(&req.ip, ip) != 0 ||
	    copy_strv(&req.email, email) != 0) {
		ret = ca_err_set(err, CA_ENOMEM, "out of memory");
		goto out;
	}
	inb = gnutls_x509_crt_get_activation_time(ca->crt);
	ina = gnutls_x509_crt_get_expiration_time(ca->crt);
	req.not_before = now - BACKDATE < inb ? inb : now - BACKDATE;
	req.not_after = now + (time_t)days * DAY;
	if (req.not_after > ina) {
		/* Never silently: the caller warns with out->capped. */
		req.not_after = ina;
		out->capped = 1;
	}
	if (key != NULL && (ret = ca_key_export(&keypem, key, NULL, err)) != 0)
		goto out;

	/* certs/SERIAL.pem is created exclusively: should 128 random bits
	 * ever repeat, the second certificate is simply made again. */
	for (tries = 0;; tries++) {
		if ((ret = ca_serial_random(&serial, err)) != 0 ||
		    (ret = ca_cert_issue(&crt, &req, &serial, ca->crt, ca->key,
		    now, err)) != 0)
			goto out;
		if (staged == NULL && (ret = stage_issued(&staged, ca, name,
		    key != NULL ? &keypem : NULL, crt, err)) != 0)
			goto out;
		ret = ca_store_cert(ca->dir, crt, serial.hex, err);
		if (ret != CA_EEXIST || tries >= 3)
			break;
		/* Staged files hold the first certificate: stage again. */
		gnutls_x509_crt_deinit(crt);
		crt = NULL;
		rm_tree_flat(staged);
		free(staged);
		staged = NULL;
	}
	if (ret != 0)
		goto out;
	if (asprintf(&p, "%s/certs/%s.pem", ca->dir, serial.hex) < 0) {
		p = NULL;
		ret = ca_err_set(err, CA_ENOMEM, "out of memory");
		goto undo_cert;
	}
	/* The database line is the commit point. Before it, a failure
	 * removes what was written; after it, only the swap (a rename, which
	 * needs no space) remains, and if even that fails the line is cut
	 * off again. A crash in between leaves a recorded certificate whose
	 * files are in certs/, never one in use that the CA does not know. */
	if ((ret = ca_record(ca->dir, crt, serial.hex, name, &before, err)) != 0)
		goto undo_cert;
	if ((ret = swap_issued(ca, name, staged, err)) != 0) {
		char *idx = ca_path(ca, "index.txt");
		if (idx != NULL)
			ca_db_truncate(idx, before, NULL);
		free(idx);
		goto undo_cert;
	}
	free(staged);
	staged = NULL;
	ca->issues++;

	snprintf(out->serial, sizeof(out->serial), "%s", serial.hex);
	out->name = strdup(name);
	ca_cert_subject(&out->subject, crt);
	out->not_before = req.not_before;
	out->not_after = req.not_after;
	out->cert_path = p;
	p = NULL;
	ret = 0;
	goto out;
undo_cert:
	if (p != NULL)
		ca_path_unlink(p, 0);
	else {
		char *q = NULL;
		if (asprintf(&q, "%s/certs/%s.pem", ca->dir, serial.hex) >= 0)
			ca_path_unlink(q, 0);
		free(q);
	}
out:
	if (staged != NULL) {
		rm_tree_flat(staged);
		free(staged);
	}
	free(p);
	ca_datum_wipe(&keypem);
	ca_strv_free(&req.dns);
	ca_strv_free(&req.ip);
	ca_strv_free(&req.email);
	free(subject);
	if (crt != NULL)
		gnutls_x509_crt_deinit(crt);
	return ret;
}

/* The key of a new certificate: a new one of o->alg, or with o->keep_key
 * the one of issued/NAME/key.pem (a template's rotate_key = false). */
static int
issue_key(gnutls_x509_privkey_t *out, struct ca *ca,
    const struct ca_issue_opts *o, struct ca_err *err)
{
	char *p = NULL;
	int ret;

	if (!o->keep_key)
		return ca_key_generate(out, o->alg, err);
	if (asprintf(&p, "%s/issued/%s/key.pem", ca->dir, o->name) < 0)
		return ca_err_set(err, CA_ENOMEM, "out of memory");
	ret = ca_key_load(out, p, NULL, err);
	free(p);
	return ret;
}

int
ca_issue(struct ca_issued *out, struct ca *ca, const struct ca_issue_opts *o,
    time_t now, struct ca_err *err)
{
	gnutls_x509_privkey_t k = NULL;
	gnutls_pubkey_t pub = NULL;
	gnutls_privkey_t pk = NULL;
	int ret;

	memset(out, 0, sizeof(*out));
	if ((ret = ca_name_check(o->name, err)) != 0)
		return ret;
	if ((ret = issue_key(&k, ca, o, err)) != 0)
		return ret;
	if ((ret = ca_privkey_to_abstract(&pk, k, err)) != 0)
		goto out;
	if ((ret = gnutls_pubkey_init(&pub)) < 0 ||
	    (ret = gnutls_pubkey_import_privkey(pub, pk, 0, 0)) < 0) {
		ret = ca_gnutls_err(err, ret, "cannot read the new key");
		goto out;
	}
	ret = issue_core(out, ca, o->name, o->subject, o->cn, &o->dns, &o->ip, &o->email,
	    pub, k, o->days, o->replace, now, err);
out:
	if (pub != NULL)
		gnutls_pubkey_deinit(pub);
	if (pk != NULL)
		gnutls_privkey_deinit(pk);
	gnutls_x509_privkey_deinit(k);
	return ret;
}

/* ---- batches: group commit --------------------------------------------- */

/*
 * ca_issue_batch() makes n certificates durable with one sync round
 * instead of a dozen fsyncs each. Under the CA lock:
 *
 *   1. every request is checked (name, days, no name twice in the
 *      batch, none already holding a valid certificate, the index
 *      valid) and every key and certificate made and linted: a bad
 *      request refuses the whole batch before anything is written;
 *   2. each certificate's files go to issued/.NAME.new.PID/, written
 *      without fsync, and certs/SERIAL.pem is linked to its cert.pem
 *      (link(2): exclusive, and the name appears whole);
 *   3. one syncfs(2) of the CA's file system makes all of them, and
 *      the directory entries, durable (measured here: 1-2 ms for 100
 *      certificates, against ~7 ms a certificate fsyncing its files
 *      and directories one by one, since every fsync on ext4 waits
 *      for a journal commit of its own);
 *   4. the batch's index lines are appended in one write and one
 *      fdatasync: the commit point, for all n at once;
 *   5. each staging directory trades places with issued/NAME and
 *      issued/ is fsynced once.
 *
 * A crash before 4 leaves unrecorded files only: staging directories
 * the next locked run removes (their certificates are not in the
 * index), the batch's temp copy of chain.pem, which it removes, and
 * certs/SERIAL.pem files the index does not name, which nothing reads
 * (as a crash of ca_issue between its certificate and its line leaves
 * one). A crash during 4 leaves the old index, or the first k lines
 * of the batch and perhaps a torn one after them, which the next run
 * cuts off: a consistent prefix, since no line is written before every
 * certificate of the batch is durable.
 * A crash after 4 leaves recorded certificates whose staging
 * directories the next run publishes. A failure (not a crash) before
 * 4 removes what was written; a failure of 4 cuts the lines off
 * again; a failure of 5 exchanges every generation back and cuts the
 * lines off, as ca_issue does for one.
 */
struct batch_item {
	const struct ca_issue_opts *o;
	gnutls_x509_privkey_t key;     /* owned (issue_key) */
	struct ca_cert_req req;
	char *subject;
	int capped;
	struct ca_serial serial;
	gnutls_x509_crt_t crt;
	gnutls_datum_t keypem;
	char *pem, *full;              /* cert.pem, fullchain.pem */
	size_t pemlen, fulllen;
	char *sname;                   /* ".NAME.new.PID" in issued/ */
	char *certpath;                /* certs/SERIAL.pem, once linked */
	int staged, swapped;           /* swapped: 1 exchanged, 2 moved */
	int replaces;                  /* issued/NAME exists */
};

static void
batch_item_free(struct batch_item *it)
{
	if (it->key != NULL)
		gnutls_x509_privkey_deinit(it->key);
	if (it->req.pubkey != NULL)
		gnutls_pubkey_deinit(it->req.pubkey);
	ca_strv_free(&it->req.dns);
	ca_strv_free(&it->req.ip);
	ca_strv_free(&it->req.email);
	free(it->subject);
	if (it->crt != NULL)
		gnutls_x509_crt_deinit(it->crt);
	ca_datum_wipe(&it->keypem);
	free(it->pem);
	free(it->full);
	free(it->sname);
	free(it->certpath);
}

/* The request of one leaf, as issue_core builds it. */
static int
batch_prepare(struct batch_item *it, struct ca *ca, time_t now,
    struct ca_err *err)
{
	const struct ca_issue_opts *o = it->o;
	gnutls_privkey_t pk = NULL;
	const char *cn = o->cn;
	time_t inb, ina;
	int ret;

	if (cn == NULL || *cn == '\0')
		cn = o->dns.n > 0 ? o->dns.v[0] : o->ip.n > 0 ? o->ip.v[0] :
		    o->name;
	if ((it->subject = o->subject != NULL ? strdup(o->subject) :
	    cn_subject(cn)) == NULL)
		return ca_err_set(err, CA_ENOMEM, "out of memory");
	it->req.profile = ca->kind == CA_KIND_SERVER ? CA_PROF_LEAF_SERVER :
	    CA_PROF_LEAF_CLIENT;
	it->req.subject = it->subject;
	if (copy_strv(&it->req.dns, &o->dns) != 0 ||
	    copy_strv(&it->req.ip, &o->ip) != 0 ||
	    copy_strv(&it->req.email, &o->email) != 0)
		return ca_err_set(err, CA_ENOMEM, "out of memory");
	inb = gnutls_x509_crt_get_activation_time(ca->crt);
	ina = gnutls_x509_crt_get_expiration_time(ca->crt);
	it->req.not_before = now - BACKDATE < inb ? inb : now - BACKDATE;
	it->req.not_after = now + (time_t)o->days * DAY;
	if (it->req.not_after > ina) {
		it->req.not_after = ina;
		it->capped = 1;
	}
	if ((ret = issue_key(&it->key, ca, o, err)) != 0)
		return ret;
	if ((ret = ca_privkey_to_abstract(&pk, it->key, err)) != 0)
		return ret;
	if ((ret = gnutls_pubkey_init(&it->req.pubkey)) < 0 ||
	    (ret = gnutls_pubkey_import_privkey(it->req.pubkey, pk, 0, 0)) < 0)
		ret = ca_gnutls_err(err, ret, "cannot read the new key");
	else
		ret = ca_key_export(&it->keypem, it->key, NULL, err);
	gnutls_privkey_deinit(pk);
	return ret;
}

/* A new serial and certificate for it (again when a serial repeats). */
static int
batch_sign(struct batch_item *it, struct ca *ca, gnutls_x509_crt_t *both,
    const char *chain, size_t chainlen, time_t now, struct ca_err *err)
{
	int ret;

	if (it->crt != NULL)
		gnutls_x509_crt_deinit(it->crt);
	it->crt = NULL;
	free(it->pem);
	free(it->full);
	it->pem = it->full = NULL;
	if ((ret = ca_serial_random(&it->serial, err)) != 0 ||
	    (ret = ca_cert_issue(&it->crt, &it->req, &it->serial, ca->crt,
	    ca->key, now, err)) != 0)
		return ret;
	both[0] = it->crt;
	if ((ret = pem_cat(&it->pem, &it->pemlen, both, 1, err)) != 0)
		return ret;
	/* fullchain.pem is cert.pem and chain.pem, end to end. */
	if ((it->full = malloc(it->pemlen + chainlen)) == NULL)
		return ca_err_set(err, CA_ENOMEM, "out of memory");
	memcpy(it->full, it->pem, it->pemlen);
	memcpy(it->full + it->pemlen, chain, chainlen);
	it->fulllen = it->pemlen + chainlen;
	return 0;
}

/* A new file dfd/name (dir for messages), written whole, not synced:
 * the batch's sync round does that for every file at once. */
static int
put_file(int dfd, const char *dir, const char *name, const void *buf,
    size_t len, mode_t mode, mode_t um, struct ca_err *err)
{
	const char *p = buf;
	ssize_t w;
	int fd;

	if ((fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, mode)) == -1)
		return ca_err_set(err, errno == EEXIST ? CA_EEXIST : CA_EIO,
		    "cannot create '%s/%s': %s", dir, name, strerror(errno));
	/* The mode asked for is meant; only a umask that takes bits of it
	 * away costs the extra call. */
	if ((mode & um) != 0 && fchmod(fd, mode) == -1)
		goto fail;
	while (len > 0) {
		if ((w = ca_io_write(fd, p, len)) < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		p += w;
		len -= (size_t)w;
	}
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	return 0;
fail:
	{
		int e = errno;
		if (fd != -1)
			close(fd);
		unlinkat(dfd, name, 0);
		return ca_err_set(err, CA_EIO, "cannot write '%s/%s': %s", dir,
		    name, strerror(e));
	}
}

/* A fresh temp name ".BASE.XXXXXX" in buf (the next locked run removes
 * such files should this one die), created by put_file relative to dfd. */
static int
put_tmp(char *buf, size_t size, int dfd, const char *dir, const char *base,
    const void *data, size_t len, mode_t um, struct ca_err *err)
{
	static const char az[] = "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	unsigned char rnd[6];
	size_t i, n;
	int ret, tries;

	n = (size_t)snprintf(buf, size, ".%s.XXXXXX", base);
	for (tries = 0;; tries++) {
		if (gnutls_rnd(GNUTLS_RND_NONCE, rnd, sizeof(rnd)) < 0)
			return ca_err_set(err, CA_ECRYPTO, "no random bytes for "
			    "a temp name");
		for (i = 0; i < 6; i++)
			buf[n - 6 + i] = az[rnd[i] % (sizeof(az) - 1)];
		ret = put_file(dfd, dir, buf, data, len, 0644, um, err);
		if (ret != CA_EEXIST || tries >= 10)
			return ret;
	}
}

static int
cmp_name(const void *a, const void *b)
{
	const struct batch_item *x = *(struct batch_item *const *)a;
	const struct batch_item *y = *(struct batch_item *const *)b;

	return strcmp(x->o->name, y->o->name);
}

/* Step 1: everything that can refuse a request, before any write. */
static int
batch_check(struct batch_item *v, size_t n, struct ca *ca, time_t now,
    struct ca_err *err)
{
	struct batch_item **by = NULL;
	size_t i;
	int ret = 0;

	if (ca->kind == CA_KIND_ROOT)
		return ca_err_set(err, CA_EINVAL, "the root signs only "
		    "intermediates (use tierca-root sign)");
	if (ca->crt == NULL)
		return ca_err_set(err, CA_ENOENT, "CA '%s' has no certificate "
		    "yet: run 'tierca-ica install' first", ca->dir);
	if (ca->key == NULL)
		return ca_err_set(err, CA_EINVAL, "the CA key is not loaded");
	for (i = 0; i < n; i++) {
		if (v[i].o->name == NULL)
			return ca_err_set(err, CA_EINVAL, "batch request %zu has "
			    "no name", i + 1);
		if ((ret = ca_name_check(v[i].o->name, err)) != 0)
			return ret;
		if (v[i].o->days < 1 || v[i].o->days > 3650)
			return ca_err_set(err, CA_EINVAL, "'%s': validity of %d "
			    "days is out of range (1 to 3650)", v[i].o->name,
			    v[i].o->days);
	}
	/* One issued/NAME, one staging directory: a name once a batch. */
	if ((by = malloc(n * sizeof(*by))) == NULL)
		return ca_err_set(err, CA_ENOMEM, "out of memory");
	for (i = 0; i < n; i++)
		by[i] = &v[i];
	qsort(by, n, sizeof(*by), cmp_name);
	for (i = 1; i < n; i++)
		if (strcmp(by[i - 1]->o->name, by[i]->o->name) == 0) {
			ret = ca_err_set(err, CA_EEXIST, "'%s' is asked for twice "
			    "in one batch", by[i]->o->name);
			goto out;
		}
	if ((ret = check_index(ca->dir, err)) != 0)
		goto out;
	for (i = 0; i < n; i++)
		if (!v[i].o->replace &&
		    (ret = name_in_use_cached(ca, v[i].o->name, now, err)) != 0)
			goto out;
out:
	free(by);
	return ret;
}

/* Takes back what the batch wrote: every generation exchanged back,
 * staging directories and certificate files removed. The undo steps
 * are the plain calls (not ca_io_*): an injected fault must not defeat
 * its own undo. */
static void
batch_undo(struct batch_item *v, size_t n, int ifd, const char *issued)
{
	size_t i;

	for (i = n; i-- > 0;) {
		struct batch_item *it = &v[i];
		if (it->swapped == 1)
			renameat2(ifd, it->sname, ifd, it->o->name,
			    RENAME_EXCHANGE);
		else if (it->swapped == 2 &&
		    renameat(ifd, it->o->name, ifd, it->sname) == 0)
			it->staged = 1;
		it->swapped = 0;
		if (it->staged) {
			char *p = ca_path_join(issued, it->sname);
			if (p != NULL)
				rm_tree_flat(p);
			free(p);
			it->staged = 0;
		}
		if (it->certpath != NULL) {
			ca_path_unlink(it->certpath, 0);
			free(it->certpath);
			it->certpath = NULL;
		}
	}
}

/*
 * Step 2 for one item: issued/.NAME.new.PID/ with key.pem, cert.pem,
 * chain.pem and fullchain.pem, then certs/SERIAL.pem. Fewer inodes are
 * made than files named, since creating inodes is most of the cost of
 * this step: chain.pem is a link to the batch's one copy (chain_tmp in
 * issued/), and certs/SERIAL.pem a link to cert.pem, made last and
 * exclusively (link(2) fails on any name already there, so a serial is
 * never used twice; *taken then says so). Every writer of a CA replaces
 * files by rename, never in place, so files sharing an inode never
 * diverge.
 */
static int
batch_stage(struct batch_item *it, int *taken, int ifd, int cfd,
    const char *issued, const char *certs, const char *chain_tmp, mode_t um,
    struct ca_err *err)
{
	const char *name = it->o->name;
	struct stat st;
	char *path = NULL, cname[64];
	int sfd = -1, ret;

	*taken = 0;
	/* The generation this one replaces must be a directory of ours:
	 * a symlink there would be swapped out and emptied. */
	if (fstatat(ifd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (!S_ISDIR(st.st_mode))
			return ca_err_set(err, S_ISLNK(st.st_mode) ? CA_EPERM :
			    CA_EEXIST, S_ISLNK(st.st_mode) ? "refusing symlink "
			    "'%s/%s'" : "'%s/%s' is not a directory", issued,
			    name);
		it->replaces = 1;
	}
	if ((it->sname == NULL && asprintf(&it->sname, ".%s.new.%ld", name,
	    (long)getpid()) < 0) ||
	    (path = ca_path_join(issued, it->sname)) == NULL) {
		ret = ca_err_set(err, CA_ENOMEM, "out of memory");
		goto out;
	}
	rm_tree_flat(path); /* a leftover of a crashed run with our pid */
	if (ca_io_mkdirat(ifd, it->sname, 0700) == -1) {
		ret = ca_err_set(err, CA_EIO, "cannot create directory '%s': %s",
		    path, strerror(errno));
		goto out;
	}
	it->staged = 1;
	if ((sfd = openat(ifd, it->sname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1 ||
	    ((0700 & um) != 0 && fchmod(sfd, 0700) == -1)) {
		ret = ca_err_set(err, CA_EIO, "cannot open '%s': %s", path,
		    strerror(errno));
		goto out;
	}
	if ((ret = put_file(sfd, path, "key.pem", it->keypem.data,
	    it->keypem.size, 0600, um, err)) != 0 ||
	    (ret = put_file(sfd, path, "cert.pem", it->pem, it->pemlen, 0644,
	    um, err)) != 0)
		goto out;
	if (ca_io_fault(CA_IO_RENAME) == -1 ||
	    linkat(ifd, chain_tmp, sfd, "chain.pem", 0) == -1) {
		ret = ca_err_set(err, CA_EIO, "cannot create '%s/chain.pem': %s",
		    path, strerror(errno));
		goto out;
	}
	if ((ret = put_file(sfd, path, "fullchain.pem", it->full, it->fulllen,
	    0644, um, err)) != 0)
		goto out;
	snprintf(cname, sizeof(cname), "%s.pem", it->serial.hex);
	if (ca_io_fault(CA_IO_RENAME) == -1 ||
	    linkat(sfd, "cert.pem", cfd, cname, 0) == -1) {
		*taken = errno == EEXIST;
		ret = ca_err_set(err, *taken ? CA_EEXIST : CA_EIO, "cannot "
		    "create '%s/%s': %s", certs, cname, strerror(errno));
		goto out;
	}
	if (asprintf(&it->certpath, "%s/%s", certs, cname) < 0) {
		it->certpath = NULL;
		unlinkat(cfd, cname, 0);
		ret = ca_err_set(err, CA_ENOMEM, "out of memory");
		goto out;
	}
	ret = 0;
out:
	if (sfd != -1)
		close(sfd);
	free(path);
	return ret;
}

int
ca_issue_batch(struct ca_issued *out, struct ca *ca,
    const struct ca_issue_opts *reqs, size_t n, time_t now,
    struct ca_err *err)
{
	struct batch_item *v = NULL;
	gnutls_x509_crt_t both[2];
	struct ca_sbuf lines = { NULL, 0, 0, 0 };
	char *issued = NULL, *certs = NULL, *idx = NULL, *chain = NULL;
	size_t chainlen = 0, i;
	off_t before = 0;
	int dfd = -1, cfd = -1, ifd = -1, ret, tries, committed = 0, taken;
	int have_chain = 0;
	char chain_tmp[32];
	mode_t um;

	for (i = 0; i < n; i++)
		memset(&out[i], 0, sizeof(out[i]));
	if (n == 0)
		return 0;
	if ((v = calloc(n, sizeof(*v))) == NULL)
		return ca_err_set(err, CA_ENOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		struct ca_cert_req r = CA_CERT_REQ_INIT;
		v[i].o = &reqs[i];
		v[i].req = r;
	}
	if ((ret = batch_check(v, n, ca, now, err)) != 0)
		goto out;

	/* Keys, certificates and their lint: all before the first write. */
	both[1] = ca->crt;
	if ((ret = pem_cat(&chain, &chainlen, both + 1, 1, err)) != 0)
		goto out;
	for (i = 0; i < n; i++)
		if ((ret = batch_prepare(&v[i], ca, now, err)) != 0 ||
		    (ret = batch_sign(&v[i], ca, both, chain, chainlen, now,
		    err)) != 0) {
			ca_err_wrap(err, "'%s'", v[i].o->name);
			goto out;
		}

	/* Step 2: the files, unsynced. The umask is read once (and put
	 * back at once) so that a file needs fchmod only when it takes
	 * bits away. */
	um = umask(077);
	umask(um);
	if ((issued = ca_path(ca, "issued")) == NULL ||
	    (certs = ca_path(ca, "certs")) == NULL ||
	    (idx = ca_path(ca, "index.txt")) == NULL) {
		ret = ca_err_set(err, CA_ENOMEM, "out of memory");
		goto out;
	}
	if ((ret = ca_dir_create(issued, 0700, 0, err)) != 0)
		goto out;
	if ((dfd = open(ca->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    (cfd = ca_open_beneath(certs, O_RDONLY | O_DIRECTORY | O_NOFOLLOW,
	    0)) == -1 ||
	    (ifd = ca_open_beneath(issued, O_RDONLY | O_DIRECTORY | O_NOFOLLOW,
	    0)) == -1) {
		ret = ca_err_set(err, CA_EIO, "cannot open a directory of '%s': "
		    "%s", ca->dir, strerror(errno));
		goto out;
	}
	if ((ret = put_tmp(chain_tmp, sizeof(chain_tmp), ifd, issued,
	    "chain.pem", chain, chainlen, um, err)) != 0)
		goto undo;
	have_chain = 1;
	for (i = 0; i < n; i++) {
		/* Should 128 random bits ever repeat, the certificate is made
		 * again with another serial. */
		for (tries = 0;; tries++) {
			ret = batch_stage(&v[i], &taken, ifd, cfd, issued, certs,
			    chain_tmp, um, err);
			if (!taken || tries >= 3)
				break;
			batch_undo(&v[i], 1, ifd, issued);
			if ((ret = batch_sign(&v[i], ca, both, chain, chainlen,
			    now, err)) != 0)
				break;
		}
		if (ret != 0)
			goto undo;
	}

	/* Step 3: one sync round for every file and directory entry. */
	if (ca_io_fault(CA_IO_FSYNC) == -1 || syncfs(dfd) == -1) {
		ret = ca_err_set(err, CA_EIO, "cannot sync '%s': %s", ca->dir,
		    strerror(errno));
		goto undo;
	}

	/* Step 4: the commit. */
	for (i = 0; i < n; i++) {
		struct ca_db_entry e;
		char *line;

		memset(&e, 0, sizeof(e));
		e.status = 'V';
		e.not_after = gnutls_x509_crt_get_expiration_time(v[i].crt);
		snprintf(e.serial, sizeof(e.serial), "%s", v[i].serial.hex);
		e.name = (char *)(uintptr_t)v[i].o->name;
		if (ca_cert_subject_oneline(&e.subject, v[i].crt) != 0 ||
		    (line = ca_db_format_line(&e)) == NULL) {
			free(e.subject);
			ret = ca_err_set(err, CA_ENOMEM, "out of memory");
			goto undo;
		}
		ca_sb_put(&lines, line, strlen(line));
		free(line);
		free(e.subject);
	}
	if (lines.oom) {
		ret = ca_err_set(err, CA_ENOMEM, "out of memory");
		goto undo;
	}
	if ((ret = ca_db_append_lines(idx, lines.p, lines.len, &before,
	    err)) != 0)
		goto undo;
	committed = 1;

	/* Step 5: publish, and make the new names durable once. */
	for (i = 0; i < n; i++) {
		struct batch_item *it = &v[i];
		/* A new name is moved in without replacing anything (should
		 * one have appeared meanwhile, it is an error, not lost). */
		if (ca_io_renameat2(ifd, it->sname, ifd, it->o->name,
		    it->replaces ? RENAME_EXCHANGE : RENAME_NOREPLACE) == 0) {
			it->swapped = it->replaces ? 1 : 2;
			it->staged = it->replaces;
		} else {
			ret = ca_err_set(err, CA_EIO, "cannot publish '%s/%s': %s",
			    issued, it->o->name, strerror(errno));
			goto undo;
		}
	}
	if (ca_io_fsync(ifd) == -1 && errno != EINVAL) {
		ret = ca_err_set(err, CA_EIO, "cannot sync directory '%s': %s",
		    issued, strerror(errno));
		goto undo;
	}
	/* What now lies at the staging names are the old generations. */
	for (i = 0; i < n; i++) {
		if (v[i].swapped == 1) {
			char *p = ca_path_join(issued, v[i].sname);
			if (p != NULL)
				rm_tree_flat(p);
			free(p);
		}
		v[i].staged = 0;
	}
	for (i = 0; i < n; i++) {
		struct batch_item *it = &v[i];
		snprintf(out[i].serial, sizeof(out[i].serial), "%s",
		    it->serial.hex);
		out[i].name = strdup(it->o->name);
		ca_cert_subject(&out[i].subject, it->crt);
		out[i].not_before = it->req.not_before;
		out[i].not_after = it->req.not_after;
		out[i].capped = it->capped;
		out[i].cert_path = it->certpath;
		it->certpath = NULL;
	}
	ca->issues += n;
	ret = 0;
	goto out;
undo:
	/* The lines go before the files they name, as in ca_issue: no
	 * instant where a recorded certificate has no file. */
	if (committed) {
		int fd;
		ca_db_truncate(idx, before, NULL);
		if ((fd = ca_open_beneath(idx, O_RDONLY | O_NOFOLLOW, 0)) != -1) {
			fsync(fd);
			close(fd);
		}
	}
	batch_undo(v, n, ifd, issued);
out:
	if (have_chain)
		unlinkat(ifd, chain_tmp, 0);
	if (dfd != -1)
		close(dfd);
	if (cfd != -1)
		close(cfd);
	if (ifd != -1)
		close(ifd);
	for (i = 0; v != NULL && i < n; i++)
		batch_item_free(&v[i]);
	free(v);
	free(lines.p);
	free(chain);
	free(issued);
	free(certs);
	free(idx);
	return ret;
}

/* The CSR's CN, or NULL. */
static char *
crq_cn(gnutls_x509_crq_t q)
{
	char buf[256];
	size_t n = sizeof(buf);

	if (gnutls_x509_crq_get_dn_by_oid(q, GNUTLS_OID_X520_COMMON_NAME, 0, 0,
	    buf, &n) < 0)
		return NULL;
	return strndup(buf, n);
}

int
ca_crq_names(struct ca_strv *dns, struct ca_strv *ip, struct ca_strv *email,
    gnutls_x509_crq_t q, const char *what, int strict, struct ca_err *err)
{
	unsigned char buf[512];
	char shown[64];
	unsigned i;
	size_t n;
	int type;

	for (i = 0;; i++) {
		n = sizeof(buf) - 1;
		type = gnutls_x509_crq_get_subject_alt_name(q, i, buf, &n, NULL,
		    NULL);
		if (type == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			return 0;
		if (type < 0)
			return ca_gnutls_err(err, type, "CSR '%s': bad "
			    "subjectAltName", what);
		buf[n] = '\0';
		switch (type) {
		case GNUTLS_SAN_DNSNAME:
			if (ca_strv_add(dns, (char *)buf) != 0)
				return CA_ENOMEM;
			break;
		case GNUTLS_SAN_RFC822NAME:
			if (ca_strv_add(email, (char *)buf) != 0)
				return CA_ENOMEM;
			break;
		case GNUTLS_SAN_IPADDRESS:
			if (inet_ntop(n == 4 ? AF_INET : AF_INET6, buf, shown,
			    sizeof(shown)) == NULL || (n != 4 && n != 16))
				return ca_err_set(err, CA_EINVAL, "CSR '%s': bad IP "
				    "subjectAltName", what);
			if (ca_strv_add(ip, shown) != 0)
				return CA_ENOMEM;
			break;
		default:
			if (!strict)
				break;
			return ca_err_set(err, CA_EPOLICY, "CSR '%s' asks for a "
			    "subjectAltName of a type tierca does not issue (%d)",
			    what, type);
		}
	}
}

int
ca_sign_csr(struct ca_issued *out, struct ca *ca,
    const struct ca_issue_opts *o, gnutls_x509_crq_t q, time_t now,
    struct ca_err *err)
{
	struct ca_strv dns = { NULL, 0 }, ip = { NULL, 0 }, email = { NULL, 0 };
	gnutls_pubkey_t pub = NULL;
	unsigned crit = 0, isca = 0;
	int pathlen = -1, ret;
	char *cn = NULL;

	memset(out, 0, sizeof(*out));
	if ((ret = ca_csr_check(q, o->name, err)) != 0)
		return ret;
	/* A leaf request asking to be a CA is an attack or a mistake;
	 * either way it is refused, not quietly downgraded. */
	if (gnutls_x509_crq_get_basic_constraints(q, &crit, &isca, &pathlen) >=
	    0 && isca)
		return ca_err_set(err, CA_EPOLICY, "CSR for '%s' asks for "
		    "CA:TRUE; a leaf is never a CA", o->name);
	if (o->dns.n + o->ip.n + o->email.n > 0 || o->cn != NULL) {
		if (copy_strv(&dns, &o->dns) || copy_strv(&ip, &o->ip) ||
		    copy_strv(&email, &o->email)) {
			ret = ca_err_set(err, CA_ENOMEM, "out of memory");
			goto out;
		}
	} else if ((ret = ca_crq_names(&dns, &ip, &email, q, o->name, 1,
	    err)) != 0)
		goto out;
	cn = o->cn != NULL ? strdup(o->cn) : crq_cn(q);
	if ((ret = gnutls_pubkey_init(&pub)) < 0 ||
	    (ret = gnutls_pubkey_import_x509_crq(pub, q, 0)) < 0) {
		ret = ca_gnutls_err(err, ret, "CSR for '%s': unusable key",
		    o->name);
		goto out;
	}
	ret = issue_core(out, ca, o->name, o->subject, cn, &dns, &ip, &email, pub, NULL,
	    o->days, o->replace, now, err);
out:
	free(cn);
	ca_strv_free(&dns);
	ca_strv_free(&ip);
	ca_strv_free(&email);
	if (pub != NULL)
		gnutls_pubkey_deinit(pub);
	return ret;
}

/* The root signs; out_path (may be NULL) is written before the
 * certificate is recorded, so a full USB stick fails the act with the
 * root's database unchanged. */
static int
root_sign(struct ca_issued *out, gnutls_datum_t *out_pem, struct ca *root,
    const struct ca_sign_ica_opts *o, gnutls_x509_crq_t q,
    const char *out_path, time_t now, struct ca_err *err)
{
	struct ca_cert_req req = CA_CERT_REQ_INIT;
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t dn = { NULL, 0 };
	struct ca_serial serial;
	char name[32];
	time_t ina;
	int ret, tries, wrote;

	memset(out, 0, sizeof(*out));
	out_pem->data = NULL;
	out_pem->size = 0;
	if (root->kind != CA_KIND_ROOT || root->crt == NULL || root->key == NULL)
		return ca_err_set(err, CA_EINVAL, "'%s' is not a root with its "
		    "key loaded", root->dir);
	if (o->kind != CA_KIND_SERVER && o->kind != CA_KIND_CLIENT)
		return ca_err_set(err, CA_EINVAL, "--kind must be server or "
		    "client");
	if (o->days < 1 || o->days > 7300)
		return ca_err_set(err, CA_EINVAL, "validity of %d days is out of "
		    "range (1 to 7300)", o->days);
	if ((ret = ca_csr_check(q, "intermediate request", err)) != 0 ||
	    (ret = check_index(root->dir, err)) != 0)
		return ret;
	if ((ret = gnutls_x509_crq_get_dn3(q, &dn, 0)) < 0 || dn.size == 0) {
		ret = ca_err_set(err, CA_EINVAL, "the CSR has no subject");
		goto out;
	}
	if ((req.subject = strndup((char *)dn.data, dn.size)) == NULL ||
	    copy_strv(&req.permit_dns, &o->permit_dns) != 0) {
		ret = ca_err_set(err, CA_ENOMEM, "out of memory");
		goto out;
	}
	if ((ret = gnutls_pubkey_init(&req.pubkey)) < 0 ||
	    (ret = gnutls_pubkey_import_x509_crq(req.pubkey, q, 0)) < 0) {
		ret = ca_gnutls_err(err, ret, "the CSR's key is unusable");
		goto out;
	}
	req.profile = o->kind == CA_KIND_SERVER ? CA_PROF_ICA_SERVER :
	    CA_PROF_ICA_CLIENT;
	req.crl_url = o->crl_url;
	ina = gnutls_x509_crt_get_expiration_time(root->crt);
	req.not_before = now - BACKDATE;
	if (req.not_before < gnutls_x509_crt_get_activation_time(root->crt))
		req.not_before = gnutls_x509_crt_get_activation_time(root->crt);
	req.not_after = now + (time_t)o->days * DAY;
	if (req.not_after > ina) {
		req.not_after = ina;
		out->capped = 1;
	}
	for (tries = 0;; tries++) {
		if ((ret = ca_serial_random(&serial, err)) != 0 ||
		    (ret = ca_cert_issue(&crt, &req, &serial, root->crt, root->key,
		    now, err)) != 0)
			goto out;
		ret = ca_store_cert(root->dir, crt, serial.hex, err);
		if (ret != CA_EEXIST || tries >= 3)
			break;
		gnutls_x509_crt_deinit(crt);
		crt = NULL;
	}
	if (ret != 0)
		goto out;
	snprintf(name, sizeof(name), "%s-ica", ca_kind_name(o->kind));
	wrote = 0;
	if ((ret = ca_cert_export_pem(out_pem, crt, err)) == 0 &&
	    out_path != NULL && (ret = ca_file_write_atomic_noted(out_path,
	    out_pem->data, out_pem->size, 0644, root->lock_fd, err)) == 0)
		wrote = 1;
	if (ret != 0 || (ret = ca_record(root->dir, crt, serial.hex, name, NULL,
	    err)) != 0) {
		char *c = NULL;
		if (asprintf(&c, "%s/certs/%s.pem", root->dir, serial.hex) >= 0)
			ca_path_unlink(c, 0);
		free(c);
		/* Only what this act wrote is taken back. */
		if (wrote)
			unlink(out_path);
		gnutls_free(out_pem->data);
		out_pem->data = NULL;
		out_pem->size = 0;
		goto out;
	}
	snprintf(out->serial, sizeof(out->serial), "%s", serial.hex);
	out->name = strdup(name);
	ca_cert_subject(&out->subject, crt);
	out->not_before = req.not_before;
	out->not_after = req.not_after;
	ret = 0;
out:
	gnutls_free(dn.data);
	free((char *)(uintptr_t)req.subject);
	ca_strv_free(&req.permit_dns);
	if (req.pubkey != NULL)
		gnutls_pubkey_deinit(req.pubkey);
	if (crt != NULL)
		gnutls_x509_crt_deinit(crt);
	return ret;
}

int
ca_root_sign(struct ca_issued *out, gnutls_datum_t *out_pem, struct ca *root,
    const struct ca_sign_ica_opts *o, gnutls_x509_crq_t q, time_t now,
    struct ca_err *err)
{
	return root_sign(out, out_pem, root, o, q, NULL, now, err);
}

int
ca_root_sign_file(struct ca_issued *out, struct ca *root,
    const struct ca_sign_ica_opts *o, const char *csr_path,
    const char *out_path, time_t now, struct ca_err *err)
{
	gnutls_x509_crq_t q = NULL;
	gnutls_datum_t pem = { NULL, 0 };
	int ret;

	memset(out, 0, sizeof(*out));
	if ((ret = ca_csr_load(&q, csr_path, err)) != 0)
		return ret;
	ret = root_sign(out, &pem, root, o, q, out_path, now, err);
	gnutls_free(pem.data);
	gnutls_x509_crq_deinit(q);
	return ret;
}
