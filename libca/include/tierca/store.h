/*
 * tierca/store.h - a CA directory and its database (index.txt).
 *
 * Layer: store (docs/architecture.md). Conventions: functions are
 * ca_<module>_<verb>, return 0 or a negative CA_E* code and fill a
 * struct ca_err; they never print or exit.
 */
#ifndef TIERCA_STORE_H
#define TIERCA_STORE_H

#include "tierca/layer.h"

#if defined(TIERCA_LAYER) && TIERCA_LAYER < 3
#error "tierca/store.h belongs to the store layer: a lower layer may not include it"
#endif

#include "tierca/common.h"
#include "tierca/secret.h"

/* ---- the CA database (OpenSSL `ca` index.txt format) ------------------- */

struct ca_db_entry {
	char status;          /* 'V', 'R' or 'E' */
	time_t not_after;
	time_t revoked_at;    /* R only */
	enum ca_reason reason;
	char serial[44];      /* uppercase hex */
	char *name;           /* tierca's handle (OpenSSL's filename field) */
	char *subject;        /* oneline subject */
	size_t line;          /* 1-based line number in index.txt */
};

struct ca_db {
	char *path;
	struct ca_db_entry *v;
	size_t n, cap;
};

int ca_db_load(struct ca_db **out, const char *path, struct ca_err *err);
void ca_db_free(struct ca_db *db);
/* Appends one line (O_APPEND, fsync): the cost does not grow with the
 * database. Repairs a torn last line left by a crash first. */
int ca_db_append_line(const char *path, const struct ca_db_entry *e,
    struct ca_err *err);
/* Rewrites the whole file atomically (revocation). */
int ca_db_save(const struct ca_db *db, struct ca_err *err);
struct ca_db_entry *ca_db_find_serial(struct ca_db *db, const char *hex);
/* Formats one index.txt line (with '\n') into a new string. */
char *ca_db_format_line(const struct ca_db_entry *e);
/* Parses one line (no '\n'); e's strings are allocated. */
int ca_db_parse_line(struct ca_db_entry *e, char *line, struct ca_err *err);
void ca_db_entry_clear(struct ca_db_entry *e);

/* ---- a CA directory ---------------------------------------------------- */


/* A CA directory opened: its certificate, key (once loaded), lock and
 * database cache. Opaque outside libca. */
struct ca;

#define CA_OPEN_LOCK 1u          /* take the directory lock, waiting */
#define CA_OPEN_NEED_CERT 2u     /* refuse an intermediate not installed */

int ca_open(struct ca **out, const char *dir, unsigned flags,
    struct ca_err *err);
/* Loads the CA key; pass may be NULL for an unencrypted key. */
int ca_load_key(struct ca *ca, const struct ca_secret *pass,
    struct ca_err *err);
/* 1 when the CA key is encrypted and needs a passphrase. */
int ca_key_needs_pass(struct ca *ca, struct ca_err *err);
void ca_close(struct ca *ca);
/* The path of a file in the CA directory (allocated). */
char *ca_path(const struct ca *ca, const char *rel);
/* What the handle is: the directory as given to ca_open, and its kind. */
const char *ca_store_dir(const struct ca *ca);
enum ca_kind ca_store_kind(const struct ca *ca);

#endif
