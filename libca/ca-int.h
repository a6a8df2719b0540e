/*
 * ca-int.h - internals shared between libca modules; not installed.
 */
#ifndef TIERCA_CA_INT_H
#define TIERCA_CA_INT_H

#include "ca.h"

#define CA_MAX_FILE (16u * 1024 * 1024)   /* any single PEM/config input */
#define CA_MAX_INDEX (1024u * 1024 * 1024) /* index.txt */

/* Fills err from a GnuTLS return code. */
#define ca_gnutls_err(err, ret, ...) \
	ca_err_set_gnutls((err), (ret), __VA_ARGS__)
int ca_err_set_gnutls(struct ca_err *err, int ret, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Time helpers. */
int ca_time_to_tm(struct tm *out, time_t t);

/* Wipes and free()s a datum of ca_datum_read() (malloc'd, unlike the
 * gnutls_malloc'd ones of ca_datum_wipe). */
void ca_datum_wipe_heap(gnutls_datum_t *d);

/* Reads a file into a gnutls datum (freed by ca_datum_wipe_heap). */
int ca_datum_read(gnutls_datum_t *out, const char *path, size_t max,
    struct ca_err *err);

/* Profile helpers shared by cert.c and lint.c. */
int ca_profile_is_ca(enum ca_profile p);
const char *ca_profile_eku(enum ca_profile p);
const char *ca_profile_name(enum ca_profile p);
gnutls_digest_algorithm_t ca_sign_hash(gnutls_pubkey_t signer);

/* qsort order of ca_db_entry pointers: by name, then index line. */
int ca_db_cmp_name_line(const void *a, const void *b);

/* 1 when crl carries a good signature of ca (its dates are the
 * caller's to judge: GnuTLS would use the system clock). */
int ca_crl_signed_by(gnutls_x509_crl_t crl, gnutls_x509_crt_t ca);

/* PEM (a "-----BEGIN" line anywhere) or else DER. */
gnutls_x509_crt_fmt_t ca_fmt_of(const gnutls_datum_t *d);

/* Lower-case hex of n bytes. */
void ca_hex(char *out, const unsigned char *in, size_t n, int upper);
/* What a renewal run and the monitor need of a certificate (PEM: its
 * first CERTIFICATE block, or DER), read off the DER without a full
 * X.509 parse: the outer structure must be whole (TBS, algorithm,
 * signature, nothing more), the serial as ca_cert_serial_hex() writes
 * it. CA_EINVAL when it is not a certificate. */
struct ca_cert_peek {
	char serial[44];
	time_t not_before, not_after;
};
int ca_cert_peek(struct ca_cert_peek *out, const unsigned char *data,
    size_t n);
/* YYMMDDHHMMSSZ (UTCTime: 50-99 are 19xx) or YYYYMMDDHHMMSSZ. */
int ca_time_parse_asn1(time_t *out, const char *s);
/* ca_install_needed() with issued/NAME/cert.pem's content already in
 * hand (cert NULL: read it). */
int ca_install_needed_cert(struct ca *ca, const struct ca_template *t,
    const char *cert, size_t certlen, struct ca_err *err);

/* Like strdup, but NULL in gives NULL out. */
char *ca_strdup(const char *s);

/* A growing NUL-terminated string. A failed allocation sets oom and
 * makes every later call a no-op: check oom once, at the end. */
struct ca_sbuf {
	char *p;
	size_t len, cap;
	int oom;
};
void ca_sb_put(struct ca_sbuf *b, const char *s, size_t n);
void ca_sb_printf(struct ca_sbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* D/certs/SERIAL.pem, created exclusively (CA_EEXIST on a repeat). */
int ca_store_cert(const char *dir, gnutls_x509_crt_t crt, const char *serial,
    struct ca_err *err);
/* Appends a 'V' line for crt to D/index.txt; *before (may be NULL)
 * gets the size the file had, for ca_db_truncate() to undo it. */
int ca_record(const char *dir, gnutls_x509_crt_t crt, const char *serial,
    const char *name, off_t *before, struct ca_err *err);
/* check: refuse when any line of the index is corrupt; callers that
 * checked already (ca_db_check) under the same lock pass 0. */
int ca_db_append(const char *path, const struct ca_db_entry *e,
    off_t *before, int check, struct ca_err *err);
/* Appends lines (whole '\n'-terminated index lines, already checked)
 * in one write and one fdatasync: the commit of a batch. Nothing of
 * them stays when either fails. *before as for ca_db_append. */
int ca_db_append_lines(const char *path, const char *lines, size_t len,
    off_t *before, struct ca_err *err);
/* Every complete line of the index parses; CA_EDB names the first that
 * does not. Allocates nothing per line. */
int ca_db_check(const char *path, struct ca_err *err);
int ca_db_check_fd(int fd, const char *path, struct ca_err *err);
int ca_db_truncate(const char *path, off_t size, struct ca_err *err);

/* The DNS, IP and email names a CSR asks for. strict: other name types
 * are refused rather than silently dropped. */
int ca_crq_names(struct ca_strv *dns, struct ca_strv *ip,
    struct ca_strv *email, gnutls_x509_crq_t q, const char *what, int strict,
    struct ca_err *err);

/* The entries of a loaded database sorted by name, then by line: a name's
 * entries are adjacent, oldest first, and found by binary search, so a
 * run over every template or name is O(n log n), not O(n^2). The
 * pointers are into db, which must outlive the index. */
struct ca_db_byname {
	struct ca_db_entry **v;
	size_t n;
};
int ca_db_byname_build(struct ca_db_byname *out, struct ca_db *db,
    struct ca_err *err);
/* The position of name's first entry; *count of them (0: none). */
size_t ca_db_byname_find(const struct ca_db_byname *ix, const char *name,
    size_t *count);
/* name's newest entry, or NULL. */
struct ca_db_entry *ca_db_byname_newest(const struct ca_db_byname *ix,
    const char *name);
void ca_db_byname_free(struct ca_db_byname *ix);

/* The database of a CA kept across calls within one process (renewal
 * plans every template against it): reloaded only when index.txt is no
 * longer the file it was read from (device, inode, size, mtime). The
 * result is borrowed from ca and valid until the next call or
 * ca_close(). */
struct ca_db_cache;
int ca_db_cached(struct ca_db **db, const struct ca_db_byname **ix,
    struct ca *ca, struct ca_err *err);
void ca_db_cache_free(struct ca_db_cache *c);

/* The revoked entries of index.txt at path, in file order, as CRL
 * entries; every line is checked. For 100,000 lines this allocates one
 * array, not two strings per line as ca_db_load does. */
int ca_db_revoked(struct ca_crl_entry **out, size_t *n, const char *path,
    struct ca_err *err);

/* Cuts a torn last line off index.txt (and fsyncs it). */
int ca_db_repair(const char *path, struct ca_err *err);

/* Recovery after a run that died holding the CA lock (check.c): called
 * by ca_open() once it holds the lock, and by ca_close(). A non-empty
 * lock file says the last holder never reached ca_recover_end(). */
int ca_recover_begin(struct ca *ca, struct ca_err *err);
void ca_recover_end(struct ca *ca);
/* crl.pem is a CRL's commit point: crl.der is made from it again when
 * it differs, and removed when there is no crl.pem. */
int ca_crl_resync(struct ca *ca, struct ca_err *err);
/* Unlinks every entry of dir (one level) and removes it; 0 or -1. */
int ca_dir_remove_flat(const char *dir);

/* Paths inside a CA directory (file.c): ca_open() registers the
 * directory (an fd opened once) and ca_close() lets it go; the file
 * helpers (ca_file_*, ca_dir_*, ca_io_* by path) resolve a path under a
 * registered directory from that fd, refusing any symlink below it
 * (ELOOP) and any way out of it (EXDEV). Other paths open as usual. */
int ca_dir_register(const void *owner, const char *dir);
void ca_dir_unregister(const void *owner);
/* open(2) of path, beneath its CA directory when it is in one. */
int ca_open_beneath(const char *path, int flags, mode_t mode);
/* The directory holding path's last component, opened O_RDONLY|
 * O_DIRECTORY the same way; *base points at that component in path. */
int ca_parent_open(const char **base, const char *path);
/* rename/renameat2 and unlink/rmdir, resolved the same way; no fault
 * hook (the recovery's). */
int ca_path_rename(const char *from, const char *to, unsigned flags);
int ca_path_unlink(const char *path, int dir);

/* Every write, fsync, rename, link, mkdir and truncate of libca goes
 * through these, so the TIERCA_FAULT test hook (file.c) can make the
 * N-th one fail. They behave as the system calls otherwise. */
enum ca_io_op {
	CA_IO_WRITE,
	CA_IO_FSYNC,
	CA_IO_RENAME,           /* rename, renameat2, link */
	CA_IO_MKDIR,
	CA_IO_TRUNCATE,
	CA_IO__MAX
};
/* -1 with errno set when the hook fails this call, else 0. */
int ca_io_fault(enum ca_io_op op);
ssize_t ca_io_write(int fd, const void *buf, size_t len);
int ca_io_fsync(int fd);
int ca_io_rename(const char *from, const char *to);
int ca_io_renameat2(int ofd, const char *from, int nfd, const char *to,
    unsigned flags);
int ca_io_link(const char *from, const char *to);
int ca_io_mkdir(const char *path, mode_t mode);
int ca_io_mkdirat(int dfd, const char *path, mode_t mode);
int ca_io_ftruncate(int fd, off_t len);
int ca_io_truncate(const char *path, off_t len);

#endif
