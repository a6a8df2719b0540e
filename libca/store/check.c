/*
 * check.c - the invariants of a CA directory (ca_check), and the
 * recovery a run does under the CA lock after a predecessor died in the
 * middle of its work (ca_recover_begin/_end).
 *
 * What a crash at any instant may leave, and who deals with it:
 *   - temp files of atomic writes, ".NAME.XXXXXX" (file.c), in D, D/certs,
 *     D/private, D/issued: never read by anyone; removed by the next run;
 *   - staging directories D/issued/.NAME.new.PID (issue.c): rolled
 *     forward when their certificate is the one index.txt records as
 *     NAME's newest (the crash came after the commit point), else removed;
 *   - a torn last line of index.txt: never counted; cut off;
 *   - crl.der newer than crl.pem (crl.pem is written last, it is the
 *     commit): crl.der is made from crl.pem again.
 * The next run knows a predecessor died because the lock file is not
 * empty: a run makes it one byte long (a hole) when it takes the lock
 * and empties it when it lets go, so a clean history costs no scan.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/store-int.h"

/* ".NAME.XXXXXX": what mkostemp() in file.c and db.c leaves. */
static int
is_tmp_name(const char *n)
{
	size_t len = strlen(n), i;

	if (len < 9 || n[0] != '.' || n[len - 7] != '.')
		return 0;
	for (i = len - 6; i < len; i++)
		if (!isalnum((unsigned char)n[i]))
			return 0;
	return 1;
}

/* The file a "tmp PATH" note of the lock file names, when it is still
 * there and is what the note promised: an absolute path whose last
 * component is a temp name of ours, a regular file (never a symlink) of
 * this user. NULL otherwise. */
static const char *
noted_tmp(const char *note)
{
	const char *path, *base;
	struct stat st;

	if (strncmp(note, "tmp /", 5) != 0)
		return NULL;
	path = note + 4;
	base = strrchr(path, '/') + 1;
	if (!is_tmp_name(base) || lstat(path, &st) == -1 ||
	    !S_ISREG(st.st_mode) || st.st_uid != geteuid())
		return NULL;
	return path;
}

/* Temp files a run made outside the CA directory (the --out of a root
 * sign) are noted in the lock file first: removed. */
static int
recover_noted(struct ca *ca, struct ca_err *err)
{
	struct ca_strv notes;
	const char *p;
	size_t i;
	int ret;

	if ((ret = ca_lock_notes(&notes, ca->lock_fd, err)) != 0)
		return ret;
	for (i = 0; i < notes.n; i++)
		if ((p = noted_tmp(notes.v[i])) != NULL && unlink(p) == -1 &&
		    errno != ENOENT) {
			ret = ca_err_set(err, CA_EIO, "cannot remove '%s': %s", p,
			    strerror(errno));
			break;
		}
	ca_strv_free(&notes);
	return ret;
}

/* ".NAME.new.PID": a staging directory of issue.c. *pid and the name's
 * length come back. */
static int
is_staging_name(const char *n, long *pid, size_t *namelen)
{
	const char *p = strrchr(n, '.'), *q;
	char *end;

	if (n[0] != '.' || p == NULL || p - n < 5 ||
	    strncmp(p - 4, ".new", 4) != 0)
		return 0;
	q = p + 1;
	if (!isdigit((unsigned char)*q))
		return 0;
	errno = 0;
	*pid = strtol(q, &end, 10);
	if (*end != '\0' || errno != 0 || *pid <= 0)
		return 0;
	*namelen = (size_t)(p - 4 - n - 1);
	return *namelen > 0;
}

int
ca_dir_remove_flat(const char *dir)
{
	DIR *d;
	struct dirent *de;
	struct stat st;
	const char *b;
	int pfd, fd, ret = 0;

	/* Never followed: a symlink (or anything not a directory) planted
	 * at the name is what goes, and the entries are unlinked relative
	 * to the directory opened with O_NOFOLLOW from its parent, itself
	 * reached beneath the CA directory, so a swapped parent cannot
	 * redirect them. */
	if ((pfd = ca_parent_open(&b, dir)) == -1)
		return errno == ENOENT ? 0 : -1;
	if (fstatat(pfd, b, &st, AT_SYMLINK_NOFOLLOW) == -1) {
		ret = errno == ENOENT ? 0 : -1;
		goto out;
	}
	if (!S_ISDIR(st.st_mode)) {
		ret = unlinkat(pfd, b, 0) == -1 && errno != ENOENT ? -1 : 0;
		goto out;
	}
	if ((fd = openat(pfd, b, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1) {
		ret = -1;
		goto out;
	}
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		ret = -1;
		goto out;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) == -1 && errno != ENOENT)
			ret = -1;
	}
	closedir(d);
	if (unlinkat(pfd, b, AT_REMOVEDIR) == -1 && errno != ENOENT)
		ret = -1;
out:
	close(pfd);
	return ret;
}

/* opendir(3) of a directory reached beneath its CA directory. */
static DIR *
opendir_beneath(const char *dir)
{
	DIR *d;
	int fd, e;

	if ((fd = ca_open_beneath(dir, O_RDONLY | O_DIRECTORY, 0)) == -1)
		return NULL;
	if ((d = fdopendir(fd)) == NULL) {
		e = errno;
		close(fd);
		errno = e;
	}
	return d;
}

static int
nomem(struct ca_err *err)
{
	return ca_err_set(err, CA_ENOMEM, "out of memory");
}

static const char *
skip00(const char *s)
{
	while (s[0] == '0' && s[1] == '0' && s[2] != '\0')
		s += 2;
	return s;
}

static int
same_serial(const char *a, const char *b)
{
	return strcasecmp(skip00(a), skip00(b)) == 0;
}

/* The newest entry of name in db, or NULL. */
static const struct ca_db_entry *
newest_of(const struct ca_db *db, const char *name)
{
	size_t i;

	for (i = db->n; i-- > 0;)
		if (strcmp(db->v[i].name, name) == 0)
			return &db->v[i];
	return NULL;
}

/* Serial of DIR/cert.pem into buf; 0 or a CA_E code. */
static int
dir_cert_serial(char *buf, size_t len, const char *dir)
{
	gnutls_x509_crt_t crt = NULL;
	char *p = ca_path_join(dir, "cert.pem");
	int ret;

	if (p == NULL)
		return CA_ENOMEM;
	ret = ca_cert_load(&crt, p, NULL);
	free(p);
	if (ret != 0)
		return ret;
	ret = ca_cert_serial_hex(buf, len, crt) == 0 ? 0 : CA_EINVAL;
	gnutls_x509_crt_deinit(crt);
	return ret;
}

/*
 * A staging directory left by a run that died. Its files were written
 * key, cert, chain, fullchain, each atomically: fullchain.pem present
 * means it is complete. It is published when its certificate is NAME's
 * newest entry of the index (the run died after the commit point) and
 * issued/NAME does not hold it yet; otherwise it is an uncommitted
 * issuance, or the old generation of a finished one, and goes.
 */
static int
recover_staging(struct ca *ca, struct ca_db **db, const char *issued,
    const char *ent, size_t namelen, struct ca_err *err)
{
	char *staged = NULL, *name = NULL, *final = NULL, *fc = NULL;
	char have[44], cur[44];
	const struct ca_db_entry *e;
	int ret = 0, publish = 0;

	if ((staged = ca_path_join(issued, ent)) == NULL ||
	    (name = strndup(ent + 1, namelen)) == NULL ||
	    (final = ca_path_join(issued, name)) == NULL ||
	    (fc = ca_path_join(staged, "fullchain.pem")) == NULL) {
		ret = nomem(err);
		goto out;
	}
	if (*db == NULL) {
		char *idx = ca_path(ca, "index.txt");
		if (idx == NULL) {
			ret = nomem(err);
			goto out;
		}
		ret = ca_db_load(db, idx, err);
		free(idx);
		if (ret != 0)
			goto out;
	}
	if (ca_file_exists(fc) &&
	    dir_cert_serial(have, sizeof(have), staged) == 0 &&
	    (e = newest_of(*db, name)) != NULL && e->status == 'V' &&
	    same_serial(e->serial, have) &&
	    (dir_cert_serial(cur, sizeof(cur), final) != 0 ||
	    !same_serial(cur, have)))
		publish = 1;
	if (publish) {
		if (ca_path_rename(staged, final, RENAME_EXCHANGE) == -1 &&
		    (errno != ENOENT || ca_path_rename(staged, final, 0) == -1)) {
			ret = ca_err_set(err, CA_EIO, "cannot publish '%s': %s",
			    final, strerror(errno));
			goto out;
		}
	}
	if (ca_dir_remove_flat(staged) != 0)
		ret = ca_err_set(err, CA_EIO, "cannot remove '%s': %s", staged,
		    strerror(errno));
out:
	free(staged);
	free(name);
	free(final);
	free(fc);
	return ret;
}

/* Removes temp files in dir; with staging, also handles issue.c's
 * staging directories. */
static int
recover_dir(struct ca *ca, struct ca_db **db, const char *dir, int staging,
    struct ca_err *err)
{
	DIR *d;
	struct dirent *de;
	struct stat st;
	size_t namelen;
	long pid;
	int ret = 0;

	if ((d = opendir_beneath(dir)) == NULL)
		return 0;
	while (ret == 0 && (de = readdir(d)) != NULL) {
		if (de->d_name[0] != '.' ||
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1)
			continue;
		if (S_ISREG(st.st_mode) && is_tmp_name(de->d_name)) {
			if (unlinkat(dirfd(d), de->d_name, 0) == -1 &&
			    errno != ENOENT)
				ret = ca_err_set(err, CA_EIO, "cannot remove "
				    "'%s/%s': %s", dir, de->d_name,
				    strerror(errno));
		} else if (staging && S_ISDIR(st.st_mode) &&
		    is_staging_name(de->d_name, &pid, &namelen) &&
		    (pid == (long)getpid() || kill((pid_t)pid, 0) == -1))
			ret = recover_staging(ca, db, dir, de->d_name, namelen,
			    err);
	}
	closedir(d);
	return ret;
}

/* crl.pem is the commit: crl.der follows it. */
int
ca_crl_resync(struct ca *ca, struct ca_err *err)
{
	char *pem = ca_path(ca, "crl.pem"), *der = ca_path(ca, "crl.der");
	char *pbuf = NULL, *dbuf = NULL;
	size_t plen = 0, dlen = 0;
	gnutls_datum_t in, out = { NULL, 0 };
	int ret = 0;

	if (pem == NULL || der == NULL) {
		ret = nomem(err);
		goto out;
	}
	if (!ca_file_exists(pem)) {
		if (ca_file_exists(der) && ca_path_unlink(der, 0) == -1)
			ret = ca_err_set(err, CA_EIO, "cannot remove '%s': %s",
			    der, strerror(errno));
		goto out;
	}
	if (ca_file_read(&pbuf, &plen, pem, CA_MAX_INDEX, NULL) != 0)
		goto out; /* ca_check reports it; the next crl replaces it */
	in.data = (unsigned char *)pbuf;
	in.size = (unsigned)plen;
	if (gnutls_pem_base64_decode2("X509 CRL", &in, &out) < 0)
		goto out;
	if (ca_file_read(&dbuf, &dlen, der, CA_MAX_INDEX, NULL) == 0 &&
	    dlen == out.size && memcmp(dbuf, out.data, dlen) == 0)
		goto out;
	ret = ca_file_write_atomic(der, out.data, out.size, 0644, err);
out:
	gnutls_free(out.data);
	free(pbuf);
	free(dbuf);
	free(pem);
	free(der);
	return ret;
}

int
ca_recover_begin(struct ca *ca, struct ca_err *err)
{
	static const char *const dirs[] = { ".", "certs", "private" };
	struct ca_db *db = NULL;
	struct stat st;
	char *p = NULL;
	size_t i;
	int ret = 0;

	if (ca->lock_fd < 0)
		return 0;
	if (fstat(ca->lock_fd, &st) == -1)
		return ca_err_set(err, CA_EIO, "cannot stat the lock of '%s': %s",
		    ca->dir, strerror(errno));
	if (st.st_size > 0) {
		/* The last holder died before ca_recover_end(). */
		ret = recover_noted(ca, err);
		for (i = 0; ret == 0 && i < sizeof(dirs) / sizeof(dirs[0]); i++) {
			if ((p = ca_path(ca, dirs[i])) == NULL)
				return nomem(err);
			ret = recover_dir(ca, &db, p, 0, err);
			free(p);
		}
		if (ret == 0) {
			if ((p = ca_path(ca, "issued")) == NULL)
				ret = nomem(err);
			else
				ret = recover_dir(ca, &db, p, 1, err);
			if (ret == 0 && p != NULL && ca_file_exists(p))
				(void)ca_dir_fsync(p, NULL); /* what was published */
			free(p);
		}
		if (ret == 0 && (p = ca_path(ca, "index.txt")) != NULL) {
			if (ca_file_exists(p))
				ret = ca_db_repair(p, err);
			free(p);
		}
		if (ret == 0)
			ret = ca_crl_resync(ca, err);
		ca_db_free(db);
		if (ret != 0)
			return ca_err_wrap(err, "cannot recover '%s' after an "
			    "interrupted run", ca->dir);
	}
	/* The mark is the size alone: a hole needs no free block, so a full
	 * disk does not stop a run that would write nothing. Should it
	 * fail all the same, the run goes on: the mark only spares later
	 * runs a scan, and ca_check lists what is left over. */
	ca_lock_mark(ca->lock_fd);
	return 0;
}

void
ca_recover_end(struct ca *ca)
{
	/* Should this fail, the next run only scans for nothing. */
	ca_lock_clear(ca->lock_fd);
}

/* ---- the checker --------------------------------------------------------- */

struct chk {
	struct ca_strv *problems, *leftovers;
	int oom;
};

static void
add(struct ca_strv *sv, struct chk *c, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
add(struct ca_strv *sv, struct chk *c, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (s == NULL || ca_strv_add(sv, s) != 0)
		c->oom = 1;
	free(s);
}

#define PROBLEM(c, ...) add((c)->problems, (c), __VA_ARGS__)
#define LEFTOVER(c, ...) add((c)->leftovers != NULL ? (c)->leftovers : \
	(c)->problems, (c), __VA_ARGS__)

static int
cmp_serial(const void *a, const void *b)
{
	const struct ca_db_entry *x = *(struct ca_db_entry *const *)a;
	const struct ca_db_entry *y = *(struct ca_db_entry *const *)b;
	const char *s = skip00(x->serial), *t = skip00(y->serial);
	size_t ls = strlen(s), lt = strlen(t);

	if (ls != lt)
		return ls < lt ? -1 : 1;
	return strcasecmp(s, t);
}

/*
 * A certificate in certs/ is one this CA signed: its issuer is the CA's
 * subject and its signature verifies with the CA's key. Times, the
 * purpose and the hash do not matter here (an expired or SHA-1 entry of
 * an imported history is still this CA's); the point is that nobody put
 * a certificate of another CA, or a forged one, under a serial of ours.
 * The CA certificate is parsed once by ca_open(); one verification per
 * entry is the whole cost.
 */
static void
check_signed(struct chk *c, const char *path, gnutls_x509_crt_t crt,
    gnutls_x509_crt_t ca)
{
	gnutls_datum_t dn = { NULL, 0 };
	unsigned st = 0;

	if (!gnutls_x509_crt_check_issuer(crt, ca)) {
		gnutls_datum_t mine = { NULL, 0 };

		/* The issuer's name alone may be ours: another key under the
		 * same name (its key identifier differs) is not this CA. */
		if (gnutls_x509_crt_get_issuer_dn3(crt, &dn, 0) < 0)
			dn.data = NULL;
		if (dn.data != NULL &&
		    gnutls_x509_crt_get_dn3(ca, &mine, 0) >= 0 &&
		    mine.size == dn.size && memcmp(mine.data, dn.data,
		    dn.size) == 0)
			PROBLEM(c, "%s: issued under this CA's name by another "
			    "key (authority key identifier differs)", path);
		else
			PROBLEM(c, "%s: issued by '%s', not by this CA", path,
			    dn.data != NULL ? (const char *)dn.data : "?");
		gnutls_free(mine.data);
		gnutls_free(dn.data);
		return;
	}
	if (gnutls_x509_crt_verify(crt, &ca, 1,
	    GNUTLS_VERIFY_DISABLE_TIME_CHECKS |
	    GNUTLS_VERIFY_DISABLE_TRUSTED_TIME_CHECKS |
	    GNUTLS_VERIFY_ALLOW_SIGN_WITH_SHA1 | GNUTLS_VERIFY_ALLOW_BROKEN,
	    &st) < 0 || st != 0)
		PROBLEM(c, "%s: signature does not verify with the CA's "
		    "certificate", path);
}

/* One entry: its certificate is there and says what the line says. */
static void
check_entry(struct chk *c, const struct ca *ca, const struct ca_db *db,
    const struct ca_db_entry *e, gnutls_x509_crt_t cacrt)
{
	gnutls_x509_crt_t crt = NULL;
	struct ca_err lerr;
	char rel[64], hex[44], *p, *subj = NULL;

	if (e->status == 'E')
		return;
	snprintf(rel, sizeof(rel), "certs/%s.pem", e->serial);
	if ((p = ca_path(ca, rel)) == NULL) {
		c->oom = 1;
		return;
	}
	if (ca_cert_load(&crt, p, &lerr) != 0) {
		PROBLEM(c, "%s:%zu: serial %s: %s", db->path, e->line,
		    e->serial, lerr.msg);
		free(p);
		return;
	}
	/* Whose it is first: a foreign certificate differs in all else. */
	if (cacrt != NULL)
		check_signed(c, p, crt, cacrt);
	if (ca_cert_serial_hex(hex, sizeof(hex), crt) != 0 ||
	    !same_serial(hex, e->serial))
		PROBLEM(c, "%s: holds serial %s, not %s (line %zu)", p,
		    hex, e->serial, e->line);
	if (gnutls_x509_crt_get_expiration_time(crt) != e->not_after)
		PROBLEM(c, "%s: notAfter differs from %s:%zu", p, db->path,
		    e->line);
	if (ca_cert_subject_oneline(&subj, crt) != 0 ||
	    strcmp(subj, e->subject) != 0)
		PROBLEM(c, "%s: subject '%s' differs from '%s' at %s:%zu",
		    p, subj != NULL ? subj : "?", e->subject, db->path,
		    e->line);
	free(subj);
	free(p);
	gnutls_x509_crt_deinit(crt);
}

/*
 * The entries are checked in slices by up to MAX_WORKERS threads: a
 * signature verification is the cost (about a millisecond for P-384),
 * and a CA of 10,000 entries should be checked in seconds. Each slice
 * has its own problem list and its own copy of the CA certificate
 * (a GnuTLS handle is not promised to be shareable), and the lists are
 * joined in slice order, so the report reads as a sequential one.
 */
#define MAX_WORKERS 8
#define SLICE_MIN 256

struct slice {
	struct chk c;
	struct ca_strv problems;
	const struct ca *ca;
	const struct ca_db *db;
	gnutls_x509_crt_t cacrt;
	size_t from, to;
	pthread_t tid;
	int running;
};

static void *
check_slice(void *arg)
{
	struct slice *s = arg;
	size_t i;

	for (i = s->from; i < s->to && !s->c.oom; i++)
		check_entry(&s->c, s->ca, s->db, &s->db->v[i], s->cacrt);
	return NULL;
}

static int
crt_copy(gnutls_x509_crt_t *out, gnutls_x509_crt_t crt)
{
	gnutls_datum_t der = { NULL, 0 };
	int ret;

	*out = NULL;
	if (gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &der) < 0)
		return -1;
	if ((ret = gnutls_x509_crt_init(out)) < 0 ||
	    (ret = gnutls_x509_crt_import(*out, &der, GNUTLS_X509_FMT_DER)) < 0) {
		if (*out != NULL)
			gnutls_x509_crt_deinit(*out);
		*out = NULL;
	}
	gnutls_free(der.data);
	return ret < 0 ? -1 : 0;
}

/* Every entry: its certificate is there and says what the line says;
 * no serial twice (v: the entries sorted by serial). */
static void
check_entries(struct chk *c, struct ca *ca, struct ca_db *db,
    struct ca_db_entry **v)
{
	struct slice sl[MAX_WORKERS];
	long ncpu;
	size_t i, j, nw;

	for (i = 1; i < db->n; i++)
		if (cmp_serial(&v[i - 1], &v[i]) == 0)
			PROBLEM(c, "%s:%zu: serial %s repeats line %zu", db->path,
			    v[i]->line > v[i - 1]->line ? v[i]->line :
			    v[i - 1]->line, v[i]->serial,
			    v[i]->line > v[i - 1]->line ? v[i - 1]->line :
			    v[i]->line);

	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	nw = ncpu < 1 ? 1 : ncpu > MAX_WORKERS ? MAX_WORKERS : (size_t)ncpu;
	if (nw > db->n / SLICE_MIN)
		nw = db->n / SLICE_MIN > 0 ? db->n / SLICE_MIN : 1;
	memset(sl, 0, sizeof(sl));
	for (j = 0; j < nw; j++) {
		sl[j].c.problems = &sl[j].problems;
		sl[j].ca = ca;
		sl[j].db = db;
		sl[j].from = db->n * j / nw;
		sl[j].to = db->n * (j + 1) / nw;
		if (ca->crt != NULL && crt_copy(&sl[j].cacrt, ca->crt) != 0)
			sl[j].c.oom = 1;
	}
	/* Slice 0 runs here; a thread that cannot start runs here too. */
	for (j = 1; j < nw; j++)
		sl[j].running = pthread_create(&sl[j].tid, NULL, check_slice,
		    &sl[j]) == 0;
	for (j = 0; j < nw; j++) {
		if (sl[j].running)
			pthread_join(sl[j].tid, NULL);
		else
			check_slice(&sl[j]);
	}
	for (j = 0; j < nw; j++) {
		for (i = 0; i < sl[j].problems.n; i++)
			PROBLEM(c, "%s", sl[j].problems.v[i]);
		if (sl[j].c.oom)
			c->oom = 1;
		ca_strv_free(&sl[j].problems);
		if (sl[j].cacrt != NULL)
			gnutls_x509_crt_deinit(sl[j].cacrt);
	}
}

/* Temp files of atomic writes in dir (relative name rel for messages). */
static void
check_tmp(struct chk *c, const char *dir)
{
	DIR *d;
	struct dirent *de;
	struct stat st;

	if ((d = opendir_beneath(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] == '.' && is_tmp_name(de->d_name) &&
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0
		    && S_ISREG(st.st_mode))
			LEFTOVER(c, "%s/%s: temp file of an interrupted write "
			    "(the next run removes it)", dir, de->d_name);
	closedir(d);
}

/* What a run that died noted in the lock file and left behind. */
static void
check_noted(struct chk *c, struct ca *ca)
{
	struct ca_strv notes = { NULL, 0 };
	char *lp = ca_path(ca, ".lock");
	const char *p;
	size_t i;
	int fd = -1;

	if (lp == NULL) {
		c->oom = 1;
		return;
	}
	if ((fd = ca_open_beneath(lp, O_RDONLY | O_NOFOLLOW, 0)) != -1 &&
	    ca_lock_notes(&notes, fd, NULL) == 0)
		for (i = 0; i < notes.n; i++)
			if ((p = noted_tmp(notes.v[i])) != NULL)
				LEFTOVER(c, "%s: temp file of an interrupted "
				    "write, noted in %s (the next run removes "
				    "it)", p, lp);
	if (fd != -1)
		close(fd);
	ca_strv_free(&notes);
	free(lp);
}

/* The entry of serial hex in v (sorted by serial), or NULL. */
static struct ca_db_entry *
find_serial(struct ca_db_entry **v, size_t n, const char *hex)
{
	struct ca_db_entry key, *kp = &key, **hit;

	memset(&key, 0, sizeof(key));
	snprintf(key.serial, sizeof(key.serial), "%s", hex);
	hit = bsearch(&kp, v, n, sizeof(*v), cmp_serial);
	return hit != NULL ? *hit : NULL;
}

/* issued/ is looked at on a thread of its own while the entries are. */
struct issued_job {
	struct chk c;
	struct ca_strv problems, leftovers;
	struct ca *ca;
	struct ca_db *db;
	struct ca_db_entry **v;
};

static void check_issued(struct chk *c, struct ca *ca, struct ca_db *db,
    struct ca_db_entry **v);

static void *
issued_thread(void *arg)
{
	struct issued_job *j = arg;

	check_issued(&j->c, j->ca, j->db, j->v);
	return NULL;
}

/* Both checks of the database: the entries (in slices) and issued/,
 * at once; the problems of the entries come first, as in one pass. */
static void
check_db(struct chk *c, struct ca *ca, struct ca_db *db)
{
	struct issued_job j;
	struct ca_db_entry **v;
	pthread_t tid;
	size_t i;
	int threaded;

	if ((v = calloc(db->n + 1, sizeof(*v))) == NULL) {
		c->oom = 1;
		return;
	}
	for (i = 0; i < db->n; i++)
		v[i] = &db->v[i];
	qsort(v, db->n, sizeof(*v), cmp_serial);
	memset(&j, 0, sizeof(j));
	j.c.problems = &j.problems;
	j.c.leftovers = c->leftovers != NULL ? &j.leftovers : NULL;
	j.ca = ca;
	j.db = db;
	j.v = v;
	threaded = pthread_create(&tid, NULL, issued_thread, &j) == 0;
	check_entries(c, ca, db, v);
	if (threaded)
		pthread_join(tid, NULL);
	else
		issued_thread(&j);
	for (i = 0; i < j.problems.n; i++)
		PROBLEM(c, "%s", j.problems.v[i]);
	for (i = 0; i < j.leftovers.n; i++)
		LEFTOVER(c, "%s", j.leftovers.v[i]);
	if (j.c.oom)
		c->oom = 1;
	ca_strv_free(&j.problems);
	ca_strv_free(&j.leftovers);
	free(v);
}

/* issued/NAME/cert.pem is the very certificate certs/SERIAL.pem holds
 * (whose signature check_entries() verified), not merely one with the
 * same serial. When certs/SERIAL.pem cannot be read, check_entries()
 * has said so already. */
static void
same_as_recorded(struct chk *c, const struct ca *ca, const char *cp,
    gnutls_x509_crt_t crt, const char *serial)
{
	gnutls_x509_crt_t rec = NULL;
	char rel[64], *p;

	snprintf(rel, sizeof(rel), "certs/%s.pem", serial);
	if ((p = ca_path(ca, rel)) == NULL) {
		c->oom = 1;
		return;
	}
	if (ca_cert_load(&rec, p, NULL) == 0 && !gnutls_x509_crt_equals(crt,
	    rec))
		PROBLEM(c, "%s: is not %s, the certificate recorded under its "
		    "serial", cp, p);
	if (rec != NULL)
		gnutls_x509_crt_deinit(rec);
	free(p);
}

/* issued/NAME: a recorded certificate, with its key when there is one. */
static void
check_issued(struct chk *c, struct ca *ca, struct ca_db *db,
    struct ca_db_entry **v)
{
	char *issued = ca_path(ca, "issued");
	DIR *d = NULL;
	struct dirent *de;
	struct stat st;
	size_t namelen;
	long pid;

	if (issued == NULL) {
		c->oom = 1;
		return;
	}
	if ((d = opendir_beneath(issued)) == NULL) {
		if (errno == ELOOP)
			PROBLEM(c, "%s: refusing symlink", issued);
		free(issued);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		gnutls_x509_crt_t crt = NULL;
		gnutls_x509_privkey_t key = NULL;
		struct ca_db_entry *e;
		struct ca_err lerr;
		char hex[44], *sub = NULL, *cp = NULL, *kp = NULL;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1)
			continue;
		if (de->d_name[0] == '.') {
			if (S_ISDIR(st.st_mode) &&
			    is_staging_name(de->d_name, &pid, &namelen))
				LEFTOVER(c, "%s/%s: staging directory of an "
				    "interrupted issuance (the next run publishes "
				    "or removes it)", issued, de->d_name);
			else if (S_ISREG(st.st_mode) && is_tmp_name(de->d_name))
				LEFTOVER(c, "%s/%s: temp file of an interrupted "
				    "write (the next run removes it)", issued,
				    de->d_name);
			else
				PROBLEM(c, "%s/%s: unexpected entry", issued,
				    de->d_name);
			continue;
		}
		if (S_ISLNK(st.st_mode)) {
			PROBLEM(c, "%s/%s: a symlink (refused, not followed)",
			    issued, de->d_name);
			continue;
		}
		if (!S_ISDIR(st.st_mode)) {
			PROBLEM(c, "%s/%s: not a directory", issued, de->d_name);
			continue;
		}
		if ((sub = ca_path_join(issued, de->d_name)) == NULL ||
		    (cp = ca_path_join(sub, "cert.pem")) == NULL ||
		    (kp = ca_path_join(sub, "key.pem")) == NULL) {
			c->oom = 1;
			goto next;
		}
		check_tmp(c, sub);
		if (ca_cert_load(&crt, cp, &lerr) != 0) {
			PROBLEM(c, "%s", lerr.msg);
			goto next;
		}
		if (ca_cert_serial_hex(hex, sizeof(hex), crt) != 0 ||
		    (e = find_serial(v, db->n, hex)) == NULL)
			PROBLEM(c, "%s: serial %s is not in %s", cp, hex, db->path);
		else {
			if (strcmp(e->name, de->d_name) != 0)
				PROBLEM(c, "%s: serial %s is recorded as '%s'", cp,
				    hex, e->name);
			same_as_recorded(c, ca, cp, crt, e->serial);
		}
		if (ca_file_exists(kp)) {
			if (ca_key_load(&key, kp, NULL, &lerr) != 0)
				PROBLEM(c, "%s", lerr.msg);
			else if (!ca_cert_matches_key(crt, key))
				PROBLEM(c, "%s: does not match %s", kp, cp);
		}
next:
		if (key != NULL)
			gnutls_x509_privkey_deinit(key);
		if (crt != NULL)
			gnutls_x509_crt_deinit(crt);
		free(sub);
		free(cp);
		free(kp);
	}
	closedir(d);
	free(issued);
}

static void
check_crl(struct chk *c, struct ca *ca)
{
	char *pem = ca_path(ca, "crl.pem"), *der = ca_path(ca, "crl.der");
	char *pbuf = NULL, *dbuf = NULL;
	size_t plen, dlen;
	gnutls_x509_crl_t crl = NULL;
	gnutls_datum_t in, out = { NULL, 0 };
	struct ca_err lerr;

	if (pem == NULL || der == NULL) {
		c->oom = 1;
		goto out;
	}
	if (!ca_file_exists(pem)) {
		if (ca_file_exists(der))
			LEFTOVER(c, "%s: without crl.pem (the next run removes "
			    "it)", der);
		goto out;
	}
	if (ca_crl_load(&crl, pem, &lerr) != 0) {
		PROBLEM(c, "%s", lerr.msg);
		goto out;
	}
	if (ca->crt == NULL || !ca_crl_signed_by(crl, ca->crt))
		PROBLEM(c, "%s: not signed by this CA", pem);
	if (ca_file_read(&pbuf, &plen, pem, CA_MAX_INDEX, &lerr) != 0) {
		PROBLEM(c, "%s", lerr.msg);
		goto out;
	}
	in.data = (unsigned char *)pbuf;
	in.size = (unsigned)plen;
	if (gnutls_pem_base64_decode2("X509 CRL", &in, &out) < 0)
		PROBLEM(c, "%s: not PEM", pem);
	else if (ca_file_read(&dbuf, &dlen, der, CA_MAX_INDEX, &lerr) != 0)
		PROBLEM(c, "%s", lerr.msg);
	else if (dlen != out.size || memcmp(dbuf, out.data, dlen) != 0)
		LEFTOVER(c, "%s: differs from crl.pem (the next run makes it "
		    "again from crl.pem)", der);
out:
	if (crl != NULL)
		gnutls_x509_crl_deinit(crl);
	gnutls_free(out.data);
	free(pbuf);
	free(dbuf);
	free(pem);
	free(der);
}

int
ca_check(struct ca_strv *problems, struct ca_strv *leftovers,
    const char *dir, unsigned flags, time_t now, struct ca_err *err)
{
	static const char *const tmpdirs[] = { ".", "certs", "private" };
	struct chk c = { problems, leftovers, 0 };
	struct ca *ca = NULL;
	struct ca_db *db = NULL;
	struct ca_err lerr;
	char *p = NULL;
	int lock = -1, ret;
	size_t i;

	(void)now;
	if ((flags & CA_CHECK_LOCK) &&
	    (ret = ca_lock_acquire(&lock, dir, 1, err)) != 0)
		return ret;
	if ((ret = ca_open(&ca, dir, 0, err)) != 0)
		goto out;
	if (ca->kind == CA_KIND_ROOT && ca->crt == NULL)
		PROBLEM(&c, "%s/ca.crt: missing", dir);
	if ((p = ca_path(ca, "index.txt")) == NULL) {
		ret = nomem(err);
		goto out;
	}
	if (ca_file_exists(p)) {
		char *buf = NULL;
		size_t len = 0;

		if (ca_db_load(&db, p, &lerr) != 0)
			PROBLEM(&c, "%s", lerr.msg);
		else if (ca_file_read(&buf, &len, p, CA_MAX_INDEX, NULL) == 0 &&
		    len > 0 && buf[len - 1] != '\n')
			LEFTOVER(&c, "%s: a torn last line of an interrupted "
			    "append (never counted; the next run cuts it off)",
			    p);
		free(buf);
	} else if (ca->crt != NULL)
		PROBLEM(&c, "%s: missing", p);
	if (db != NULL) {
		check_db(&c, ca, db);
	}
	for (i = 0; i < sizeof(tmpdirs) / sizeof(tmpdirs[0]); i++) {
		char *d = ca_path(ca, tmpdirs[i]);
		if (d == NULL) {
			ret = nomem(err);
			goto out;
		}
		check_tmp(&c, d);
		free(d);
	}
	check_noted(&c, ca);
	check_crl(&c, ca);
	free(p);
	if ((p = ca_path(ca, "crlnumber")) == NULL) {
		ret = nomem(err);
		goto out;
	}
	if (ca_file_exists(p)) {
		char *buf = NULL, *nl;
		struct ca_serial s;
		if (ca_file_read(&buf, NULL, p, 128, &lerr) != 0)
			PROBLEM(&c, "%s", lerr.msg);
		else {
			if ((nl = strchr(buf, '\n')) != NULL)
				*nl = '\0';
			if (ca_serial_from_hex(&s, buf) != 0)
				PROBLEM(&c, "%s: bad CRL number '%s'", p, buf);
		}
		free(buf);
	}
	ret = c.oom ? nomem(err) : 0;
out:
	free(p);
	ca_db_free(db);
	ca_close(ca);
	ca_lock_release(lock);
	return ret;
}
