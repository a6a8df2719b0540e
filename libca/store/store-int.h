/*
 * store/store-int.h - internals of the store layer: struct ca, the database's
 * write path and cache, recovery.
 * Not installed; see docs/architecture.md.
 */
#ifndef TIERCA_STORE_INT_H
#define TIERCA_STORE_INT_H

#include "tierca/layer.h"

#if !defined(TIERCA_LAYER) || TIERCA_LAYER < 3 || TIERCA_LAYER >= TIERCA_LAYER_TOOL
#error "store/store-int.h is internal to libca's store layer and those above it"
#endif

#include "x509/x509-int.h"
#include "tierca/store.h"
#include "tierca/ceremony.h"
#include "tierca/check.h"

/* qsort order of ca_db_entry pointers: by name, then index line. */
int ca_db_cmp_name_line(const void *a, const void *b);

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

struct ca {
	char *dir;
	enum ca_kind kind;
	gnutls_x509_crt_t crt;       /* NULL until installed (intermediates) */
	gnutls_x509_crt_t root;      /* intermediates: the root they chain to */
	gnutls_x509_privkey_t xkey;  /* NULL until ca_load_key() */
	gnutls_privkey_t key;
	int lock_fd;
	struct ca_db_cache *db_cache; /* libca's own: see ca_db_cached() */
	unsigned long issues;        /* leaves issued through this handle */
};

#endif
