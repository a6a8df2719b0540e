/*
 * ca.h - the one public header of libca, tierca's certificate library.
 *
 * Conventions (see STYLE.md): functions are ca_<module>_<verb>, return 0 or
 * a negative CA_E* code and fill a struct ca_err; they never print or exit.
 * What comes back through an `out' parameter belongs to the caller.
 * "Now" is always a parameter, read once per run with ca_clock_now().
 */
#ifndef TIERCA_CA_H
#define TIERCA_CA_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>

#define TIERCA_VERSION "0.1.0"

/* ---- errors ------------------------------------------------------------ */

enum {
	CA_EINVAL = -1,   /* bad input: arguments, files, CSRs, names */
	CA_EIO = -2,      /* a read, write, fsync or rename failed */
	CA_ECRYPTO = -3,  /* a GnuTLS operation failed */
	CA_EPERM = -4,    /* file permissions or ownership refused */
	CA_EEXIST = -5,   /* would overwrite something that must stay */
	CA_ENOENT = -6,   /* a file, serial or name that does not exist */
	CA_EPASS = -7,    /* wrong or missing passphrase */
	CA_EPOLICY = -8,  /* pre-issuance lint or key policy refused */
	CA_ECONF = -9,    /* configuration or template error */
	CA_EDB = -10,     /* the CA database is corrupt */
	CA_ENOMEM = -11,
	CA_ELOCK = -12,   /* the CA is locked by another process */
	CA_EVERIFY = -13, /* chain or signature verification failed */
};

struct ca_err {
	int code;
	char msg[1024];
};

/* Sets err (may be NULL) and returns code, so callers can write
 * `return ca_err_set(err, CA_EIO, "cannot write '%s': %s", p, ...);`. */
int ca_err_set(struct ca_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Prefixes an existing message: "outer: inner". */
int ca_err_wrap(struct ca_err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- enums ------------------------------------------------------------- */

enum ca_key_alg {
	CA_KEY_ECDSA_P256,
	CA_KEY_ECDSA_P384,
	CA_KEY_ECDSA_P521,
	CA_KEY_ED25519,
	CA_KEY_RSA_2048,
	CA_KEY_RSA_3072,
	CA_KEY_RSA_4096,
	CA_KEY__MAX
};

/* What a CA directory is. */
enum ca_kind { CA_KIND_ROOT, CA_KIND_SERVER, CA_KIND_CLIENT, CA_KIND__MAX };

/* Certificate profiles of DESIGN.md. */
enum ca_profile {
	CA_PROF_ROOT,
	CA_PROF_ICA_SERVER,
	CA_PROF_ICA_CLIENT,
	CA_PROF_LEAF_SERVER,
	CA_PROF_LEAF_CLIENT,
	CA_PROF__MAX
};

/* RFC 5280 CRLReason values (8 is unused, removeFromCRL is delta-only). */
enum ca_reason {
	CA_REASON_UNSPECIFIED = 0,
	CA_REASON_KEY_COMPROMISE = 1,
	CA_REASON_CA_COMPROMISE = 2,
	CA_REASON_AFFILIATION_CHANGED = 3,
	CA_REASON_SUPERSEDED = 4,
	CA_REASON_CESSATION = 5,
	CA_REASON_CERTIFICATE_HOLD = 6,
	CA_REASON_PRIVILEGE_WITHDRAWN = 9,
	CA_REASON_AA_COMPROMISE = 10,
	CA_REASON__MAX
};

int ca_key_alg_parse(enum ca_key_alg *out, const char *s);
const char *ca_key_alg_name(enum ca_key_alg alg);
int ca_kind_parse(enum ca_kind *out, const char *s);
const char *ca_kind_name(enum ca_kind kind);
/* Accepts the OpenSSL/RFC names ("keyCompromise") case-insensitively. */
int ca_reason_parse(enum ca_reason *out, const char *s);
const char *ca_reason_name(enum ca_reason r);

/* ---- small string lists ------------------------------------------------ */

struct ca_strv {
	char **v;
	size_t n;
};
int ca_strv_add(struct ca_strv *sv, const char *s);
void ca_strv_free(struct ca_strv *sv);

/* ---- clock ------------------------------------------------------------- */

/* "Now": TIERCA_NOW (RFC 3339 UTC, e.g. 2027-03-01T00:00:00Z) or the
 * system clock. */
int ca_clock_now(time_t *out, struct ca_err *err);
int ca_time_parse_rfc3339(time_t *out, const char *s);
/* "2027-03-01T00:00:00Z" into buf (at least 21 bytes). */
void ca_time_format(char *buf, size_t len, time_t t);

/* ---- files ------------------------------------------------------------- */

/* Temp file in the same directory, fchmod, write, fsync, rename, fsync dir.
 * Nothing is left behind on failure. */
int ca_file_write_atomic(const char *path, const void *buf, size_t len,
    mode_t mode, struct ca_err *err);
/* Like ca_file_write_atomic, with the temp file's absolute path noted
 * ("tmp PATH") in the lock file note_fd before the file is made: for a
 * file outside the locked directory, whose temp file the next holder of
 * the lock removes should this run die (see ca_lock_note). */
int ca_file_write_atomic_noted(const char *path, const void *buf,
    size_t len, mode_t mode, int note_fd, struct ca_err *err);
/* Like ca_file_write_atomic, but fails with CA_EEXIST when path exists
 * (link(2) instead of rename(2)): for keys and serial-named certs. */
int ca_file_write_new(const char *path, const void *buf, size_t len,
    mode_t mode, struct ca_err *err);
/* Reads a whole regular file (no symlink followed) of at most max bytes;
 * *out is NUL-terminated. */
int ca_file_read(char **out, size_t *outlen, const char *path, size_t max,
    struct ca_err *err);
/* The same, following symlinks: for files outside CA directories that
 * may be links by design (installed certificates and keys, mailboxes).
 * Never for a CA's own files. */
int ca_file_read_follow(char **out, size_t *outlen, const char *path,
    size_t max, struct ca_err *err);
/* Refuses a file that group or others may read or write. */
int ca_file_check_private(const char *path, struct ca_err *err);
int ca_file_exists(const char *path);
/* Creates dir (one level) with mode; an existing dir is accepted when it
 * is not a symlink; its mode is not changed unless `force_mode'. */
int ca_dir_create(const char *path, mode_t mode, int force_mode,
    struct ca_err *err);
int ca_dir_fsync(const char *dir, struct ca_err *err);
/* Joins a and b with '/' into a new string. */
char *ca_path_join(const char *a, const char *b);

/* One flock per CA directory (D/.lock).  wait: block until free. */
int ca_lock_acquire(int *out, const char *dir, int wait, struct ca_err *err);
/* The same on any lock file. */
int ca_lock_file(int *out, const char *path, int wait, struct ca_err *err);
/* The same on name in the directory dirfd (path: for messages). */
int ca_lock_fileat(int *out, int dirfd, const char *name, const char *path,
    int wait, struct ca_err *err);
void ca_lock_release(int fd);
/* The mark of a lock file: a holder marks it (one byte) when it starts
 * and clears it (empty) when done, so a non-empty lock file says the
 * last holder died at work. Failures are ignored: the mark only spares
 * later runs a look. */
void ca_lock_mark(int fd);
void ca_lock_clear(int fd);
/* Appends one line (no '\n' in it) after the mark and syncs it: what a
 * run notes before it makes something a later run must remove should it
 * die. */
int ca_lock_note(int fd, const char *line, struct ca_err *err);
/* The whole lines noted in a lock file (at most CA_LOCK_NOTES_MAX bytes
 * are read; a torn last line is left out). */
#define CA_LOCK_NOTES_MAX (1024u * 1024)
int ca_lock_notes(struct ca_strv *out, int fd, struct ca_err *err);

/* ---- secrets ----------------------------------------------------------- */

struct ca_secret {
	char *buf; /* NUL-terminated, locked in memory where possible */
	size_t len;
	/* Bytes allocated for buf by ca_secret_from_*(); 0 for a secret put
	 * together by hand, whose buffer ca_secret_wipe() leaves alone. */
	size_t cap;
};

/* First line of a 0600/0400 file. */
int ca_secret_from_file(struct ca_secret *out, const char *path,
    struct ca_err *err);
/* First line read from an already open descriptor (not closed). */
int ca_secret_from_fd(struct ca_secret *out, int fd, struct ca_err *err);
/* No-echo prompt on /dev/tty; confirm asks twice. */
int ca_secret_from_tty(struct ca_secret *out, const char *prompt,
    int confirm, struct ca_err *err);
/* Wipes (all cap bytes) and frees; safe on a zeroed struct, and on a
 * hand-made secret (cap 0), whose buffer it leaves alone. */
void ca_secret_wipe(struct ca_secret *s);
/* Minimum quality for a new CA key passphrase. */
int ca_secret_check_new(const struct ca_secret *s, struct ca_err *err);

/* ---- keys -------------------------------------------------------------- */

int ca_key_generate(gnutls_x509_privkey_t *out, enum ca_key_alg alg,
    struct ca_err *err);
/* PKCS#8 PEM, encrypted with PBES2/AES-256 when pass is given. The
 * returned buffer holds key material: wipe it (ca_datum_wipe). */
int ca_key_export(gnutls_datum_t *out, gnutls_x509_privkey_t key,
    const struct ca_secret *pass, struct ca_err *err);
/* Writes a new key file (O_EXCL, 0600); never overwrites when excl. */
int ca_key_write(const char *path, gnutls_x509_privkey_t key,
    const struct ca_secret *pass, int excl, struct ca_err *err);
/* Loads a key file after checking its permissions; pass may be NULL for
 * an unencrypted key. Wrong passphrase -> CA_EPASS. */
int ca_key_load(gnutls_x509_privkey_t *out, const char *path,
    const struct ca_secret *pass, struct ca_err *err);
/* 1 when the file holds an encrypted PKCS#8 key, 0 otherwise. */
int ca_key_file_encrypted(const char *path, struct ca_err *err);
/* Key strength policy: RSA >= 2048 bits, NIST P-256/384/521, Ed25519. */
int ca_pubkey_check_policy(gnutls_pubkey_t pub, const char *what,
    struct ca_err *err);
/* Describes a public key ("ecdsa-p256", "rsa-3072", ...). */
void ca_pubkey_describe(char *buf, size_t len, gnutls_pubkey_t pub);
/* SHA-256 of the SubjectPublicKeyInfo, lowercase hex. */
int ca_pubkey_fingerprint(char *buf, size_t len, gnutls_pubkey_t pub);
int ca_privkey_to_abstract(gnutls_privkey_t *out, gnutls_x509_privkey_t k,
    struct ca_err *err);
void ca_datum_wipe(gnutls_datum_t *d);

/* ---- certificates, CSRs ------------------------------------------------ */

/* PEM or DER. The first certificate of the file. */
int ca_cert_load(gnutls_x509_crt_t *out, const char *path,
    struct ca_err *err);
int ca_cert_export_pem(gnutls_datum_t *out, gnutls_x509_crt_t crt,
    struct ca_err *err);
/* Serial as uppercase hex without leading zero bytes (OpenSSL's form). */
int ca_cert_serial_hex(char *buf, size_t len, gnutls_x509_crt_t crt);
/* OpenSSL oneline form "/O=Example/CN=foo". */
int ca_cert_subject_oneline(char **out, gnutls_x509_crt_t crt);
/* RFC 4514 form "CN=foo,O=Example". */
int ca_cert_subject(char **out, gnutls_x509_crt_t crt);
/* 1 when crt's public key is the one of key. */
int ca_cert_matches_key(gnutls_x509_crt_t crt, gnutls_x509_privkey_t key);
int ca_cert_sha256(char *buf, size_t len, gnutls_x509_crt_t crt);

int ca_csr_create(gnutls_x509_crq_t *out, const char *subject,
    gnutls_x509_privkey_t key, struct ca_err *err);
/* PEM or DER; verifies the self-signature, the signature hash and the
 * key policy. what names the CSR in error messages. */
int ca_csr_load(gnutls_x509_crq_t *out, const char *path,
    struct ca_err *err);
int ca_csr_check(gnutls_x509_crq_t crq, const char *what,
    struct ca_err *err);

/* A positive serial as minimal DER INTEGER content bytes (tierca draws
 * 128 random bits; imported databases may hold up to 20 octets, plus
 * the sign byte some writers add). */
struct ca_serial {
	unsigned char b[21];
	size_t len;
	char hex[44];
};
int ca_serial_random(struct ca_serial *out, struct ca_err *err);
int ca_serial_from_hex(struct ca_serial *out, const char *hex);

/* Everything that decides a certificate's content. The issuer's key is
 * separate so one request can be built once and signed. */
struct ca_cert_req {
	enum ca_profile profile;
	const char *subject;       /* RFC 4514 DN */
	gnutls_pubkey_t pubkey;    /* subject key */
	struct ca_strv dns, ip, email;
	struct ca_strv permit_dns; /* ICA nameConstraints */
	const char *crl_url;       /* ICA CRL distribution point */
	time_t not_before, not_after;
};
#define CA_CERT_REQ_INIT { .profile = CA_PROF__MAX }

/* Builds and signs a certificate. issuer NULL: self-signed by
 * issuer_key. The result is linted (ca_lint_cert) before it is returned. */
int ca_cert_issue(gnutls_x509_crt_t *out, const struct ca_cert_req *req,
    const struct ca_serial *serial, gnutls_x509_crt_t issuer,
    gnutls_privkey_t issuer_key, time_t now, struct ca_err *err);

/* Pre-issuance lint: profile, names within the issuer's constraints,
 * validity inside the issuer's, key strength, signature hash. */
int ca_lint_cert(gnutls_x509_crt_t crt, enum ca_profile profile,
    gnutls_x509_crt_t issuer, time_t now, struct ca_err *err);
/* Normalises and validates a DNS name or nameConstraint suffix. */
int ca_dns_check(const char *name, int allow_wildcard, struct ca_err *err);
int ca_ip_check(const char *ip, struct ca_err *err);

/* Verifies crt against a chain and trust anchors at `now'. purpose is a
 * GnuTLS key purpose OID or NULL. crls may be NULL. */
int ca_verify_chain(gnutls_x509_crt_t crt, gnutls_x509_crt_t *inter,
    size_t ninter, gnutls_x509_crt_t *anchors, size_t nanchors,
    gnutls_x509_crl_t *crls, size_t ncrls, const char *purpose, time_t now,
    struct ca_err *err);

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

/* ---- CRLs -------------------------------------------------------------- */

struct ca_crl_entry {
	struct ca_serial serial;
	time_t revoked_at;
	enum ca_reason reason;
};

/* Encodes and signs a v2 CRL (DER) by hand: GnuTLS's CRL writer cannot
 * add per-entry reason codes and is quadratic in the number of entries. */
int ca_crl_encode(gnutls_datum_t *out, gnutls_x509_crt_t issuer,
    gnutls_privkey_t key, const struct ca_crl_entry *ents, size_t n,
    const struct ca_serial *crlnumber, time_t this_update,
    time_t next_update, struct ca_err *err);
int ca_crl_load(gnutls_x509_crl_t *out, const char *path,
    struct ca_err *err);

/* ---- a CA directory ---------------------------------------------------- */

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

struct ca_root_init_opts {
	const char *subject;
	enum ca_key_alg alg;
	int days;
};
#define CA_ROOT_INIT_OPTS_INIT { NULL, CA_KEY_ECDSA_P384, 3650 }

/* Creates a new root in dir (which must not hold one). */
int ca_root_init(const char *dir, const struct ca_root_init_opts *o,
    const struct ca_secret *pass, time_t now, struct ca_err *err);

struct ca_ica_init_opts {
	enum ca_kind kind;
	const char *subject;
	enum ca_key_alg alg;
};
#define CA_ICA_INIT_OPTS_INIT { CA_KIND__MAX, NULL, CA_KEY_ECDSA_P384 }

/* Creates an intermediate's key and D/ca.csr. pass may be NULL. */
int ca_ica_init(const char *dir, const struct ca_ica_init_opts *o,
    const struct ca_secret *pass, struct ca_err *err);
/* Installs the certificate the root signed: it must match the key, chain
 * to root and be of the directory's kind. */
int ca_ica_install(struct ca *ca, const char *cert_path,
    const char *root_path, time_t now, struct ca_err *err);

/* What was issued; strings are owned by the struct. */
struct ca_issued {
	char serial[44];
	char *name;
	char *subject;
	time_t not_before, not_after;
	int capped;                  /* notAfter was cut to the issuer's */
	char *cert_path;             /* D/certs/SERIAL.pem */
};
void ca_issued_clear(struct ca_issued *is);

struct ca_issue_opts {
	const char *name;            /* the handle; issued/NAME/ */
	const char *subject;         /* full RFC 4514 DN, overrides cn */
	const char *cn;
	struct ca_strv dns, ip, email;
	int days;
	enum ca_key_alg alg;
	int replace;                 /* allow a name with a valid cert */
	gnutls_x509_privkey_t key;   /* reuse this key (NULL: new one) */
};
#define CA_ISSUE_OPTS_INIT { .days = 90, .alg = CA_KEY_ECDSA_P256 }

/* Issues a leaf with a new key into D/issued/NAME/ (key.pem, cert.pem,
 * chain.pem, fullchain.pem), D/certs/SERIAL.pem and the database. */
int ca_issue(struct ca_issued *out, struct ca *ca,
    const struct ca_issue_opts *o, time_t now, struct ca_err *err);
/* Issues n leaves as ca_issue does, durable by one group commit: all
 * their files are written, synced in one round, and only then recorded
 * by one append to the database (the commit for all n). Every request
 * is checked, and every key and certificate made and linted, before the
 * first write: a bad one (a bad or repeated name, a name that holds a
 * valid certificate unless its replace is set, a lint failure) refuses
 * the whole batch and nothing is written. Any failure leaves the CA as
 * it was. A crash leaves a consistent prefix: no line, or the first k
 * lines of the batch, each with its certificate durable in certs/ (the
 * next locked run publishes their staged issued/NAME, removes the rest
 * and cuts off a torn line). On success out[i] describes reqs[i]; out
 * must hold n entries. */
int ca_issue_batch(struct ca_issued *out, struct ca *ca,
    const struct ca_issue_opts *reqs, size_t n, time_t now,
    struct ca_err *err);
/* Signs a CSR made elsewhere: its signature and key are checked, its
 * requested extensions ignored; names come from o (or, when o has none,
 * the CSR's CN and requested DNS/IP/email names, which are linted).
 * Writes D/issued/NAME/cert.pem, chain.pem, fullchain.pem (no key). */
int ca_sign_csr(struct ca_issued *out, struct ca *ca,
    const struct ca_issue_opts *o, gnutls_x509_crq_t csr, time_t now,
    struct ca_err *err);

struct ca_sign_ica_opts {
	enum ca_kind kind;
	int days;
	struct ca_strv permit_dns;
	const char *crl_url;
};
#define CA_SIGN_ICA_OPTS_INIT { CA_KIND__MAX, 730, { NULL, 0 }, NULL }

/* The root signs an intermediate CSR; the PEM goes to out_pem. */
int ca_root_sign(struct ca_issued *out, gnutls_datum_t *out_pem,
    struct ca *root, const struct ca_sign_ica_opts *o,
    gnutls_x509_crq_t csr, time_t now, struct ca_err *err);

/* Revokes the certificate with this serial, or every valid certificate
 * of this name. The serials revoked are added to out. */
int ca_revoke(struct ca_strv *out, struct ca *ca, const char *serial_or_name,
    enum ca_reason reason, time_t now, struct ca_err *err);

struct ca_crl_info {
	char number[44];
	time_t this_update, next_update;
	size_t nrevoked;
};
/* Builds D/crl.pem, D/crl.der and bumps D/crlnumber. */
int ca_crl_generate(struct ca_crl_info *out, struct ca *ca, int days,
    time_t now, struct ca_err *err);
/* 1 when no CRL exists, it is older than every_days, or it expires within
 * every_days; 0 otherwise. */
int ca_crl_due(struct ca *ca, int every_days, time_t now,
    struct ca_err *err);

/* Every database entry with the certificate's validity. */
int ca_list(struct ca_db **out, struct ca *ca, struct ca_err *err);
/* Finds the newest entry for a serial or a name. */
int ca_find(struct ca_db_entry **out, struct ca_db *db, const char *key);

/* The current certificate of each name (its newest entry) when it is
 * valid ('V') and expires within within_days of now (already expired
 * ones included). *out is an array of pointers into db; free() it. */
int ca_due(struct ca_db_entry ***out, size_t *n, struct ca_db *db,
    time_t now, int within_days, struct ca_err *err);

/* How tools tell people (tierca-monitor's mail, later others): one
 * message, a subject line and a plain-text body. */
struct ca_notifier {
	const char *name;
	int (*send)(void *ctx, const char *subject, const char *body,
	    struct ca_err *err);
	void *ctx;
};

/* PKCS#12 of issued/NAME: key, certificate and chain, friendly name NAME,
 * encrypted with pass (AES-256, SHA-256 MAC). */
int ca_export_pkcs12(struct ca *ca, const char *name, const char *out_path,
    const struct ca_secret *pass, struct ca_err *err);

/* The root's CRL brought from a ceremony, taken into D/root-crl.pem: it
 * must be the root's (D/root.crt), valid at now, and not older than the
 * one there (CRL number, then thisUpdate). unchanged: the same CRL. */
struct ca_root_crl_info {
	char number[72];
	time_t this_update, next_update;
	size_t nrevoked;
	int unchanged;
};
int ca_root_crl_import(struct ca_root_crl_info *out, struct ca *ca,
    const char *path, time_t now, struct ca_err *err);
/* The CRLs a server checking client certificates needs, one PEM file:
 * D/root-crl.pem and D/crl.pem, both the right CA's and valid at now. */
int ca_export_crl_bundle(struct ca *ca, const char *out_path, time_t now,
    struct ca_err *err);
/* Trust anchors for a service: the root, PEM (with_ica: and this
 * intermediate after it), or the root alone in DER. */
int ca_export_trust(struct ca *ca, const char *out_path, int with_ica,
    int der, struct ca_err *err);
/* The root as DIR/<its CN>.crt (PEM, 0644) for update-ca-certificates;
 * *out is the path written. DIR must exist. */
int ca_export_ca_certificates(char **out, struct ca *ca, const char *dir,
    struct ca_err *err);

/* ---- path-level entry points for the tools (no GnuTLS types) ---------- */

struct ca_csr_info {
	char *subject;               /* RFC 4514 */
	char key[32];                /* "ecdsa-p384" */
	char csr_sha256[65];         /* of the file as brought in */
	char spki_sha256[65];        /* of the public key */
	struct ca_strv dns, ip, email;
	int asks_ca;                 /* requests CA:TRUE */
};
/* Loads and checks a CSR (signature, hash, key policy) and describes it. */
int ca_csr_info_load(struct ca_csr_info *out, const char *path,
    struct ca_err *err);
void ca_csr_info_clear(struct ca_csr_info *ci);
/* ca_sign_csr() on a CSR file. */
int ca_sign_csr_file(struct ca_issued *out, struct ca *ca,
    const struct ca_issue_opts *o, const char *csr_path, time_t now,
    struct ca_err *err);
/* ca_root_sign() on a CSR file; the certificate goes to out_path. */
int ca_root_sign_file(struct ca_issued *out, struct ca *root,
    const struct ca_sign_ica_opts *o, const char *csr_path,
    const char *out_path, time_t now, struct ca_err *err);
/* A readable description of the certificate with this serial or name:
 * subject, issuer, validity, names, key, usage, fingerprint, status. */
int ca_show(char **out, struct ca *ca, const char *key, time_t now,
    struct ca_err *err);
/* The CA's own certificate: subject, notAfter, SHA-256 (for listings). */
struct ca_self_info {
	char *subject;
	time_t not_before, not_after;
	char sha256[65];
	char serial[44];
};
int ca_self_info(struct ca_self_info *out, struct ca *ca);
void ca_self_info_clear(struct ca_self_info *si);

/* ---- renewal (tierca-renew) -------------------------------------------- */

struct ca_template;

/* Installs issued/NAME of ca to the paths of t->install (cert, key, chain,
 * fullchain), with t's owner, group and mode (keys never more than
 * 0640). Every file is staged next to its target and fsynced first; the
 * renames then follow one another, key first, so the pair is switched in
 * one short batch and the service is reloaded only after. A file whose
 * content, owner and mode are already right is left alone. *changed
 * counts the files replaced. */
int ca_install(int *changed, struct ca *ca, const struct ca_template *t,
    struct ca_err *err);
/* 1 when some installed file of t differs from issued/NAME (content,
 * owner or mode) or is missing, 0 when all are in place. */
int ca_install_needed(struct ca *ca, const struct ca_template *t,
    struct ca_err *err);
/* The serial of the certificate installed at t->install.cert, or "" when
 * there is none (or it does not parse). */
int ca_installed_serial(char *buf, size_t len, const struct ca_template *t);

enum ca_renew_action {
	CA_RENEW_NONE,     /* current and installed */
	CA_RENEW_ISSUE,    /* never issued (or nothing valid left) */
	CA_RENEW_RENEW,    /* fewer than renew_before_days left */
	CA_RENEW_INSTALL,  /* issued, but not (yet) installed or reloaded */
	CA_RENEW__MAX
};
const char *ca_renew_action_name(enum ca_renew_action a);

struct ca_renew_plan {
	enum ca_renew_action action;
	char serial[44];       /* the current certificate, "" if none */
	time_t not_after;      /* of the current certificate */
	int reload_pending;    /* a reload failed on an earlier run */
};
/* What a renewal run would do for template t in ca at now. */
int ca_renew_plan(struct ca_renew_plan *out, struct ca *ca,
    const struct ca_template *t, int renew_before_days, time_t now,
    struct ca_err *err);
/* ca_issue(); with keep_key, the key of issued/NAME/key.pem is kept
 * (a template's rotate_key = false). */
int ca_issue_keep_key(struct ca_issued *out, struct ca *ca,
    const struct ca_issue_opts *o, int keep_key, time_t now,
    struct ca_err *err);
/* Marks or clears "the reload of NAME still has to run". */
int ca_reload_pending_set(struct ca *ca, const char *name, int pending,
    struct ca_err *err);
/* policy.revoke_superseded: the serials NAME's renewals replaced, kept in
 * issued/.NAME.superseded until its successor is installed and reloaded
 * (a run that fails there leaves them for the next). mark adds one;
 * pending lists them (none: an empty list); clear forgets them. */
int ca_superseded_mark(struct ca *ca, const char *name, const char *serial,
    struct ca_err *err);
int ca_superseded_pending(struct ca_strv *out, struct ca *ca,
    const char *name, struct ca_err *err);
int ca_superseded_clear(struct ca *ca, const char *name, struct ca_err *err);

/* ---- monitoring: checks, states, textfile, endpoints, mail ------------- */

struct ca_conf;       /* below, with the configuration */
struct ca_conf_mail;

/* The monitoring-plugin states; the values are tierca-monitor's exit
 * codes. */
enum ca_mon_state {
	CA_MON_OK = 0,
	CA_MON_WARNING = 1,
	CA_MON_CRITICAL = 2,
	CA_MON_UNKNOWN = 3,
	CA_MON__MAX
};

/* What a check looked at. */
enum ca_mon_kind {
	CA_MON_CERT,       /* an issued certificate, current for its name */
	CA_MON_CA,         /* a CA's own certificate */
	CA_MON_CRL,        /* a CA's CRL */
	CA_MON_INSTALLED,  /* the files a template installs */
	CA_MON_ENDPOINT,   /* a live TLS endpoint (monitor.endpoints) */
	CA_MON_CONFIG,     /* a CA directory or template that cannot be read */
	CA_MON_KIND__MAX
};

/* Thresholds the configuration has no key for. The root is judged by
 * what it means for the intermediates it signs (730 days): CRITICAL once
 * a new one would be cut short, WARNING one root-CRL period (a ceremony
 * at the latest) before that. */
#define CA_MON_ICA_DAYS 730
#define CA_MON_ROOT_MARGIN_DAYS 180
#define CA_MON_ROOT_CRL_WARN_DAYS 30
#define CA_MON_TIMEOUT_MS 5000

struct ca_mon_check {
	enum ca_mon_kind kind;
	enum ca_mon_state state;
	char *name;       /* issued or template name, host:port, CA kind */
	char *ca;         /* "server", "client", "root", or NULL */
	char serial[44];  /* "" when there is none */
	int has_time;
	time_t not_after; /* notAfter, or a CRL's nextUpdate */
	char *path;       /* the file looked at, or NULL */
	char *detail;     /* what is wrong and what to do; "" when OK */
};

struct ca_mon_report {
	time_t now;
	struct ca_mon_check *v;
	size_t n, cap;
	enum ca_mon_state state;      /* the worst of all, CA_MON_OK if none */
	size_t count[CA_MON__MAX];
};

const char *ca_mon_state_name(enum ca_mon_state s);   /* "WARNING" */
const char *ca_mon_kind_name(enum ca_mon_kind k);     /* "certificate" */
/* The worse of two, ordered as Icinga orders them: OK < WARNING <
 * UNKNOWN < CRITICAL. */
enum ca_mon_state ca_mon_worst(enum ca_mon_state a, enum ca_mon_state b);
/* Whole days from now to t, rounded down: negative once t is past. */
long long ca_mon_days_left(time_t t, time_t now);
/* CRITICAL when t is past or fewer than crit_days away, WARNING when
 * fewer than warn_days away, else OK. */
enum ca_mon_state ca_mon_expiry_state(time_t t, time_t now, int warn_days,
    int crit_days);

/* Runs every check the configuration asks for (DESIGN.md; tierca-monitor(1)
 * lists them). What is found wrong becomes a check, never an error: the
 * errors are out of memory and a configuration with no CA directory. */
int ca_monitor_run(struct ca_mon_report *out, const struct ca_conf *conf,
    time_t now, struct ca_err *err);
/* Appends one check (detail is a printf format). */
int ca_mon_add(struct ca_mon_report *r, enum ca_mon_kind kind,
    enum ca_mon_state state, const char *name, const char *ca,
    const char *serial, const time_t *not_after, const char *path,
    const char *fmt, ...) __attribute__((format(printf, 9, 10)));
/* Worst first, then fewest days left, then kind, CA and name. */
void ca_mon_report_sort(struct ca_mon_report *r);
void ca_mon_report_free(struct ca_mon_report *r);
/* The Prometheus node_exporter textfile (text exposition format 0.0.4). */
int ca_mon_textfile(char **out, size_t *len, const struct ca_mon_report *r,
    struct ca_err *err);
/* ca_mon_textfile() written with ca_file_write_atomic(), mode 0644. */
int ca_mon_textfile_write(const char *path, const struct ca_mon_report *r,
    struct ca_err *err);
/* The alert: a subject that counts what needs attention (WARNING or
 * worse) and a body listing those checks worst first, then the rest. */
int ca_mon_message(char **subject, char **body,
    const struct ca_mon_report *r, const char *host, struct ca_err *err);

/* TLS handshake with host:port ("[v6]:port" too), every address
 * getaddrinfo gives, timeout_ms for connect and handshake together. The
 * peer's chain is returned unverified, leaf first; free it with
 * ca_crt_list_free(). */
int ca_endpoint_fetch(gnutls_x509_crt_t **out, size_t *n,
    const char *hostport, int timeout_ms, struct ca_err *err);
void ca_crt_list_free(gnutls_x509_crt_t *v, size_t n);

/* An RFC 5322 message (CRLF lines, Date, From, To, Subject, Message-ID,
 * MIME headers, Auto-Submitted). */
int ca_mail_format(char **out, const char *from, const struct ca_strv *to,
    const char *subject, const char *body, time_t now, struct ca_err *err);
/* A ca_notifier that sends over SMTP with libcurl as monitor.mail says:
 * smtp:// (STARTTLS required when m->starttls) or smtps://, the server
 * verified against m->ca, AUTH with smtp_user and smtp_password from the
 * m->secrets file (0600/0400, libconfig) when it names them. */
int ca_mail_notifier(struct ca_notifier *out, const struct ca_conf_mail *m,
    time_t now, struct ca_err *err);
void ca_mail_notifier_free(struct ca_notifier *n);

/* Validates an issued name: [A-Za-z0-9][A-Za-z0-9._-]*, <= 64 chars. */
int ca_name_check(const char *name, struct ca_err *err);

/* ---- the root's ceremony log ------------------------------------------- */

/* Appends one hash-chained entry: time, act, then "key=value" details
 * (SHA-256 of inputs and outputs). */
int ca_log_append(const char *dir, time_t now, const char *act,
    const struct ca_strv *details, struct ca_err *err);
struct ca_log_status {
	size_t entries;
	char head[65];
	char before_last[65];  /* the hash of entry entries-1 */
	int head_lags;         /* ceremony.head is one entry behind */
};
/* Recomputes the chain; CA_EVERIFY names the first bad line. */
int ca_log_verify(struct ca_log_status *out, const char *dir,
    struct ca_err *err);
/* After a crash between an act's log entry and its head update, the
 * head is one entry behind an intact chain. Once the operator has
 * checked that last entry, this moves the head on and records the
 * recovery as an entry of its own. Refused in any other state. */
int ca_log_accept_last(struct ca_log_status *out, const char *dir,
    time_t now, struct ca_err *err);
/* SHA-256 of a file, lowercase hex. */
int ca_sha256_file(char *buf, size_t len, const char *path,
    struct ca_err *err);
void ca_sha256_hex(char *buf, size_t len, const void *data, size_t n);

/* ---- configuration (libconfig) ----------------------------------------- */

struct ca_conf_mail {
	char *url;
	int starttls;
	char *from;
	struct ca_strv to;
	char *ca;
	char *secrets;
	int always;                  /* mail every run, not only on trouble */
};

struct ca_conf {
	char *path;                  /* the file read; NULL for defaults */
	char *root_dir, *server_dir, *client_dir;
	int root_crl_days;           /* root.crl_days, default 180 */
	struct {
		int leaf_days, renew_before_days, crl_days, crl_every_days;
		int revoke_superseded;   /* renew revokes the replaced cert */
		enum ca_key_alg leaf_key;
	} policy;
	char *templates;
	struct {
		int warn_days, critical_days;
		char *textfile;
		char *root_crl;      /* the published root CRL on this host */
		struct ca_strv endpoints;
		int has_mail;
		struct ca_conf_mail mail;
	} monitor;
	struct {
		struct ca_strv sources;
	} deploy;
};

/* Defaults of DESIGN.md. */
void ca_conf_defaults(struct ca_conf *c);
/* Reads a config; relative paths are made relative to its directory.
 * Errors are "file:line: message"; unknown keys are errors. */
int ca_conf_load(struct ca_conf *out, const char *path, struct ca_err *err);
/* -c FILE, else $TIERCA_CONFIG, else ./tierca.cfg when present, else
 * defaults (out->path NULL). */
int ca_conf_find(struct ca_conf *out, const char *given, struct ca_err *err);
void ca_conf_free(struct ca_conf *c);

/* A certificate template. */
struct ca_template {
	char *path;
	char *name;
	enum ca_kind ca;             /* CA_KIND_SERVER or CA_KIND_CLIENT */
	char *subject;
	char *cn;                    /* CN from subject, or NULL */
	struct ca_strv dns, ip, email;
	int days;                    /* 0: the policy's */
	int has_key_alg;
	enum ca_key_alg key_alg;
	int rotate_key;
	struct {
		char *cert, *key, *chain, *fullchain;
		char *owner, *group;
		int mode;
	} install;
	char *reload;
};
int ca_template_load(struct ca_template *out, const char *path,
    struct ca_err *err);
void ca_template_free(struct ca_template *t);

/* Every *.cfg directly under dir, sorted by file name; two templates of
 * one name are an error naming both files. */
struct ca_templates {
	struct ca_template *v;
	size_t n;
};
int ca_templates_load(struct ca_templates *out, const char *dir,
    struct ca_err *err);
void ca_templates_free(struct ca_templates *ts);


/* ---- deployment of managed files (libca/deployhdr.c, deploy.c) --------- */

/* A managed file declares its destination in comment lines at its top
 * ("# ", "// " or "; " leaders):
 *   deploy-target: /abs/path      required
 *   deploy-owner: user[:group]    default: left as created (root:root)
 *   deploy-mode: 0640             default 0644; 0600 for a private key
 *   deploy-after: command         run once after the file changed
 * A private key is only deployed when its mode is 0600/0400 and its
 * header says "deploy-key: yes" (the accident of seed 003). */
enum ca_deploy_state {
	CA_DEPLOY_NEW,        /* nothing at the destination yet */
	CA_DEPLOY_CHANGED,    /* content, owner or mode differ */
	CA_DEPLOY_UNCHANGED,  /* left alone, not counted */
	CA_DEPLOY__MAX
};

struct ca_deploy_item {
	char *src;            /* the managed file as found */
	char *target;         /* the declared absolute target */
	char *dest;           /* root prefix + target */
	int has_owner;
	uid_t uid;
	gid_t gid;
	mode_t mode;
	char *after;          /* deploy-after, or NULL */
	int is_key;           /* holds a private key */
	enum ca_deploy_state state;   /* set by ca_deploy_scan */
	/* added with tierca-deploy: */
	size_t line;          /* the deploy-target line of src */
	char *owner;          /* the deploy-owner text, or NULL */
	char *data;           /* the content validated; placed byte for byte */
	size_t len;
	unsigned differs;     /* CA_DEPLOY_DIFF_* bits when CHANGED */
	mode_t old_mode;      /* the destination's, when it exists */
	uid_t old_uid;
	gid_t old_gid;
	int placed;           /* set by ca_deploy_apply once renamed in */
};

struct ca_deploy {
	struct ca_deploy_item *v;
	size_t n;
	struct ca_strv problems;      /* every "file:line: what" found */
	char *root;           /* added: the prefix, "" for "/" */
	int locked;           /* ca_deploy_lock holds lock_fd */
	int lock_fd;
};

/* Discovers every managed file under sources (files or directories,
 * recursively), parses and validates every header against root (NULL or
 * "" for "/"), and compares each with its destination. All problems are
 * collected in out->problems; the return is CA_ECONF when there is any,
 * so nothing may be placed. */
int ca_deploy_scan(struct ca_deploy *out, const struct ca_strv *sources,
    const char *root, struct ca_err *err);
void ca_deploy_free(struct ca_deploy *d);

/* ---- deployment: additions for tierca-deploy ---- */

/* What differs at a CHANGED destination (ca_deploy_item.differs). */
#define CA_DEPLOY_DIFF_CONTENT 1u
#define CA_DEPLOY_DIFF_MODE 2u
#define CA_DEPLOY_DIFF_OWNER 4u     /* owner or group */

/* Headers are read from the leading comment block only: at most this
 * many lines, up to the first line that is not a comment. */
#define CA_DEPLOY_HDR_LINES 20
/* A managed file larger than this is refused. */
#define CA_DEPLOY_MAX_FILE (4u * 1024 * 1024)

/* The headers of one file, as written (deployhdr.c). Line numbers are
 * 1-based; 0 when the header is absent. */
struct ca_deploy_hdr {
	char *target;         /* normalised: one '/' between components */
	size_t target_line;
	char *owner;          /* the whole "user[:group]" text */
	char *user, *group;   /* its parts; group may be NULL */
	size_t owner_line;
	int has_mode;         /* deploy-mode given */
	mode_t mode;          /* the mode to place: given, else the default */
	size_t mode_line;
	char *after;
	size_t after_line;
	int key_ok;           /* "deploy-key: yes" */
	size_t key_line;
	int is_key;           /* the content holds a PEM private key block */
	size_t key_block_line; /* the line of its BEGIN */
};

/* Parses and checks the headers of one file (buf, len; file names it in
 * problems). Everything that needs no look at the system is checked
 * here: target absolute without '.' or '..', mode, owner syntax, unknown
 * or repeated deploy-* keys, the private-key rule. Every problem is
 * added to problems as "file:line: what". Returns 1 for a managed file
 * without problems, 0 for a file that is not managed (no deploy-* header
 * at all), CA_ECONF when problems were added, CA_ENOMEM. */
int ca_deploy_hdr_parse(struct ca_deploy_hdr *out, struct ca_strv *problems,
    const char *file, const char *buf, size_t len);
void ca_deploy_hdr_free(struct ca_deploy_hdr *h);
/* 1 when buf holds a PEM block whose label has "PRIVATE KEY" in it
 * (PKCS#8, encrypted PKCS#8, RSA, EC, DSA, OpenSSH, ...); *line (may be
 * NULL) gets the line of its BEGIN. */
int ca_deploy_has_key(const char *buf, size_t len, size_t *line);

const char *ca_deploy_state_name(enum ca_deploy_state s); /* "new" */

/* The run lock of a deploy root: this file under it (--root PREFIX
 * included), made with its directories (0755) when missing. */
#define CA_DEPLOY_LOCK "/var/lib/tierca/deploy.lock"
/* Takes the run lock of d's root (flock; waiting for it when wait, else
 * CA_ELOCK when another run holds it) and marks it (ca_lock_mark). When
 * the mark says the last run died at work, what it left is removed first
 * (*removed counts it): its temp files (regular files named
 * .tierca-deploy.<12 hex digits>, nothing else) in the directories it
 * noted and in those of d's targets, and the directories it noted making,
 * when they are empty; every directory is opened from the root with
 * O_NOFOLLOW. Then each destination is compared again, since another run
 * may have placed it meanwhile: CA_ECONF when that finds a problem (in
 * d->problems). ca_deploy_apply notes in the lock what it makes. */
int ca_deploy_lock(struct ca_deploy *d, int wait, size_t *removed,
    struct ca_err *err);
/* Clears the mark and lets go of the lock (ca_deploy_free does too). */
void ca_deploy_unlock(struct ca_deploy *d);
/* Places every NEW or CHANGED item of a scan that found no problem:
 * missing parent directories are made (0755); each file is staged as a
 * temp file in its target directory (opened component by component from
 * the root with O_NOFOLLOW), gets owner and mode before its first byte,
 * is written and fsynced. Only when all are staged are they renamed in,
 * and the directories fsynced. A failure while staging places nothing;
 * after any failure the temp files are removed, and so is every
 * directory made for the run that is still empty. *placed counts the
 * files renamed in, and each such item gets placed = 1. Under the lock
 * (ca_deploy_lock), each directory about to be made and each directory
 * about to get temp files is noted in it first. */
int ca_deploy_apply(struct ca_deploy *d, size_t *placed, struct ca_err *err);
/* The distinct deploy-after commands, in the order of their first file:
 * of the items placed (placed_only), or of those NEW or CHANGED. */
int ca_deploy_afters(struct ca_strv *out, const struct ca_deploy *d,
    int placed_only);
/* Runs cmd with /bin/sh -c; its standard output goes to our standard
 * error. TIERCA_DEPLOY_ROOT is set to root when it is not "". 0 when it
 * exits 0; else CA_EIO with how it ended. */
/* What private key material buf (the content of the file name) holds:
 * a PEM block whose label has "PRIVATE KEY" in it (PKCS#8, encrypted
 * PKCS#8, RSA, EC, DSA, OpenSSH), a PKCS#12 file (by its .p12/.pfx name
 * or its DER start: SEQUENCE, INTEGER 3, SEQUENCE), or a secrets file
 * (a smtp_password or *passphrase setting). Returns 1 and sets *what
 * (static text) and *line (1-based; 1 for binary), else 0. */
int ca_secret_material(const char **what, size_t *line, const char *name,
    const char *buf, size_t len);
/* The repository guard: every regular file under paths (files, or
 * directories walked without following symlinks, .git left out) that
 * holds private key material must be protected by git-crypt, as
 * `git check-attr filter` tells for it. Each one that is not adds
 * "file:line: what" to problems; *nfiles counts the files read and
 * *nfound those with material (protected or not). Returns 0, or
 * CA_ECONF when problems were added, or CA_ENOMEM. */
int ca_deploy_check_secrets(struct ca_strv *problems, size_t *nfiles,
    size_t *nfound, const struct ca_strv *paths, struct ca_err *err);
int ca_deploy_run_after(const char *cmd, const char *root,
    struct ca_err *err);
/* A unified diff (3 lines of context) from what is at it->dest to
 * it->data; "" when the content is the same. CA_EPERM when either side
 * holds a private key, CA_EINVAL when either is binary (a NUL byte) or
 * the destination is too large: nothing of it may be shown. */
int ca_deploy_diff(char **out, const struct ca_deploy_item *it,
    struct ca_err *err);
/* The same on two buffers, labelled on the ---/+++ lines. */
int ca_deploy_diff_text(char **out, const char *a, size_t alen,
    const char *b, size_t blen, const char *alabel, const char *blabel,
    struct ca_err *err);

/* ---- one template's renewal run (libca/renew.c) ------------------------ */

/* The policy a run applies (policy.* of the configuration). */
struct ca_renew_opts {
	int leaf_days;               /* for a template without days */
	enum ca_key_alg leaf_key;    /* for a template without key */
	int renew_before_days;
	int revoke_superseded;
	int dry_run;                 /* plan only: change nothing */
};
#define CA_RENEW_OPTS_INIT { 90, CA_KEY_ECDSA_P256, 30, 0, 0 }

enum ca_reload_result {
	CA_RELOAD_NONE,              /* nothing to reload, or no command */
	CA_RELOAD_OK,
	CA_RELOAD_FAILED,            /* marked pending: the next run retries */
	CA_RELOAD__MAX
};
const char *ca_reload_result_name(enum ca_reload_result r);   /* "ok" */

struct ca_renew_result {
	struct ca_renew_plan plan;
	char serial[44];             /* the new certificate, "" if none */
	time_t not_after;            /* of the new certificate */
	int capped;                  /* cut to the intermediate's notAfter */
	int installed;               /* files replaced */
	enum ca_reload_result reload;
	char revoked[256];           /* superseded serials revoked now */
	char error[1600];            /* what went wrong, "" when nothing */
};

/* What a tierca-renew run does for template t of ca (its key loaded
 * unless o->dry_run): the plan; then issue or renew (a new key unless
 * t->rotate_key is false), install (ca_install), run t->reload through
 * /bin/sh when a file changed or an earlier reload failed (its output
 * goes to stderr), and with o->revoke_superseded revoke the replaced
 * certificate once its successor is reloaded. The run goes on after a
 * failure where it safely can; out says what was done, out->error and
 * err the (last) failure, and the return is its code. */
int ca_renew_template(struct ca_renew_result *out, struct ca *ca,
    const struct ca_template *t, const struct ca_renew_opts *o, time_t now,
    struct ca_err *err);

/* ---- the test harness (libca/harness*.c; tierca-harness) --------------- */

/* The seven categories of checks, in the order they are reported. */
enum ca_hcat {
	CA_HCAT_CHAIN,               /* "chain" */
	CA_HCAT_CRL,                 /* "crl" */
	CA_HCAT_DEPLOY,              /* "deploy": installed files */
	CA_HCAT_RENEWAL,             /* "renewal" */
	CA_HCAT_ALERTING,            /* "alerting" */
	CA_HCAT_SCRIPTS,             /* "deploy-scripts": managed files */
	CA_HCAT_SECURITY,            /* "security" */
	CA_HCAT__MAX
};
#define CA_HCAT_BIT(c) (1u << (c))
#define CA_HCAT_ALL ((1u << CA_HCAT__MAX) - 1)
/* What an audit of a real installation (--pki) runs: it changes nothing. */
#define CA_HCAT_READ_ONLY (CA_HCAT_BIT(CA_HCAT_CHAIN) | \
	CA_HCAT_BIT(CA_HCAT_CRL) | CA_HCAT_BIT(CA_HCAT_DEPLOY) | \
	CA_HCAT_BIT(CA_HCAT_SCRIPTS) | CA_HCAT_BIT(CA_HCAT_SECURITY))
const char *ca_hcat_name(enum ca_hcat c);
/* Also "deploy-consistency", "deploy-script(s)", "scripts", "alert". */
int ca_hcat_parse(enum ca_hcat *out, const char *s);

enum ca_hresult { CA_HPASS, CA_HFAIL, CA_HSKIP, CA_HRESULT__MAX };
const char *ca_hresult_name(enum ca_hresult r);               /* "PASS" */

/* Where checks go as they are decided; done() once a category is
 * complete (a category never done did not finish). */
struct ca_hsink {
	void (*check)(void *ctx, enum ca_hcat cat, enum ca_hresult res,
	    const char *name, const char *detail);
	void (*done)(void *ctx, enum ca_hcat cat);
	void *ctx;
};

/* The harness's SMTP listener saves each message it receives as
 * MAILBOX/N.eml (written whole, then renamed into place): an
 * "X-Harness-Mail-From: <addr>" line, one "X-Harness-Rcpt-To: <addr>"
 * line per recipient, then the message as received (CRLF lines,
 * dot-unstuffed). */
struct ca_harness_opts {
	const char *dir;             /* an empty scratch directory, made 0700 */
	const char *pki;             /* audit this configuration read-only;
	                                NULL: build an ephemeral hierarchy */
	unsigned cats;               /* CA_HCAT_BIT()s of what to run */
	int smtp_port;               /* alerting: 127.0.0.1:port; 0: none */
	const char *mailbox;         /* where that listener saves messages */
	const char *reload_hook;     /* renewal: the reload command under
	                                test (NULL: the harness's own) */
};
#define CA_HARNESS_OPTS_INIT { NULL, NULL, CA_HCAT_ALL, 0, NULL, NULL }

/* Without o->pki: builds a root, a server intermediate (nameConstraints)
 * and a client intermediate in o->dir with the real issuing paths,
 * issues and installs leaves from templates, revokes two, makes CRLs;
 * then runs the categories asked for (renewal last: it moves time on).
 * With o->pki: the read-only categories against that installation.
 * Failed checks are reported through sink, not as errors; the error
 * return is for a hierarchy that could not be built or a configuration
 * that cannot be read (the categories not done then did not run). */
int ca_harness_run(const struct ca_harness_opts *o,
    const struct ca_hsink *sink, time_t now, struct ca_err *err);

/* ---- importing an easy-rsa 3 PKI (libca/import.c) ---------------------- */

/* An easy-rsa CA is one tier: its ca.crt is (usually) self-signed. Imported,
 * it becomes a server or client CA directory whose root is itself:
 * D/root.crt and D/chain.pem hold ca.crt (or, for an easy-rsa sub-CA,
 * the root given and ca.crt + root). */
struct ca_import_opts {
	enum ca_kind kind;           /* server or client: what it issues next */
	const char *root;            /* the root of an easy-rsa sub-CA, or NULL */
};
#define CA_IMPORT_OPTS_INIT { CA_KIND__MAX, NULL }

struct ca_import_result {
	size_t nvalid, nrevoked, nexpired;   /* index entries by status */
	size_t nissued;              /* issued/NAME/ made (certificate + key) */
	size_t nkey_encrypted;       /* ... of them with a key kept encrypted */
	size_t narchived;            /* other keys, kept in private/archive/ */
	size_t nnokey;               /* certificates without a key */
	int key_encrypted;           /* D/private/ca.key is encrypted */
	int self_signed;             /* the CA is its own root */
	int crl_copied;              /* easy-rsa's crl.pem taken as D/crl.pem */
	char crlnumber[44];          /* the next CRL number (hex) */
};

/* One line of an easy-rsa (OpenSSL `ca`) index.txt, without '\n':
 * status, expiry, revocation "date[,reason[,extra]]", serial, an optional
 * file name field (ignored), subject. OpenSSL's keyTime/CAkeyTime and
 * holdInstruction forms map to keyCompromise, CACompromise and
 * certificateHold; removeFromCRL is refused. out->name is "unknown" and
 * out->serial is normalised as tierca writes it (no leading zero byte);
 * out's strings are allocated (ca_db_entry_clear). */
int ca_import_index_line(struct ca_db_entry *out, const char *line,
    struct ca_err *err);
/* 1 when PKI/private/ca.key is encrypted (a passphrase is needed). */
int ca_import_key_encrypted(const char *pki, struct ca_err *err);
/* Turns the easy-rsa PKI directory pki into a new CA directory dir (which
 * must not exist or be empty): every index entry with its status, dates
 * and reason, named after its issued/NAME.crt (else its CN), its
 * certificate as certs/SERIAL.pem; the CA key as PKCS#8, encrypted with
 * pass when pass is given (the passphrase of an encrypted easy-rsa key,
 * or a new one for a nopass key); leaf keys in issued/NAME/; crlnumber
 * past easy-rsa's. An entry whose certificate is missing, or one not
 * signed by ca.crt, refuses the import. It is built in dir.tmp-XXXXXX and
 * renamed into place, so a failure leaves nothing; pki is only read. */
int ca_import_easyrsa(struct ca_import_result *out, const char *dir,
    const char *pki, const struct ca_import_opts *o,
    const struct ca_secret *pass, time_t now, struct ca_err *err);
/* 1 when ca is its own root (D/root.crt is D/ca.crt: an imported
 * single-tier CA), else 0. */
int ca_self_rooted(const struct ca *ca);

/* ---- point-to-point pairs (libca/pair.c; tierca-pair) ------------------ */

/* Seed 000's "proxy-ca": a throwaway CA signs exactly two certificates,
 * the proxy's (clientAuth, serial 0x1000) and the app's (serverAuth,
 * 0x1001; both EKUs on both with both_eku), and its key is destroyed:
 * generated in memory, never exported or written, released (GnuTLS
 * zeroes it) before ca_pair_make returns. Nothing is left to sign with,
 * so the lifetime may be long; revocation is "make a new pair". */
#define CA_PAIR_SERIAL_PROXY "1000"
#define CA_PAIR_SERIAL_APP "1001"
#define CA_PAIR_YEARS 100            /* default lifetime */
#define CA_PAIR_YEARS_MAX 200
#define CA_PAIR_NAME_MAX 48          /* "proxy NAME" fits a 64-char CN */

enum ca_pair_cert { CA_PAIR_CA, CA_PAIR_PROXY, CA_PAIR_APP, CA_PAIR__MAX };
const char *ca_pair_cert_name(enum ca_pair_cert c);     /* "proxy" */

struct ca_pair_opts {
	const char *proxy, *app;     /* CN=proxy NAME, CN=app NAME */
	struct ca_strv dns, ip;      /* the app's names: at least one */
	struct ca_strv proxy_dns, proxy_ip; /* the proxy's; needed with
	                                both_eku (it is a server then) */
	int years;
	enum ca_key_alg alg;         /* all three keys */
	int both_eku;
};
#define CA_PAIR_OPTS_INIT { .years = CA_PAIR_YEARS, .alg = CA_KEY_ECDSA_P256 }

/* A pair in memory, indexed by enum ca_pair_cert. key[CA_PAIR_CA] is
 * always NULL: there is no CA key to hand out. */
struct ca_pair {
	gnutls_x509_crt_t crt[CA_PAIR__MAX];
	gnutls_x509_privkey_t key[CA_PAIR__MAX];
};

/* Validates names, addresses, years and key algorithm. */
int ca_pair_check(const struct ca_pair_opts *o, struct ca_err *err);
/* Makes the CA (CA:TRUE pathlen:0, keyCertSign, no EKU) and the two
 * leaves, each linted (ca_lint_cert) before it is returned, valid from
 * now for o->years calendar years. */
int ca_pair_make(struct ca_pair *out, const struct ca_pair_opts *o,
    time_t now, struct ca_err *err);
void ca_pair_free(struct ca_pair *p);

/* What identifies one certificate of a pair. */
struct ca_pair_pin {
	char subject[256];           /* RFC 4514 */
	char serial[44];             /* OpenSSL's hex: "1000" */
	char sha256[96];             /* of the DER, "AB:CD:..." as openssl
	                                x509 -fingerprint -sha256 */
	char sha256_hex[65];         /* the same, lowercase hex */
	char pin_sha256[45];         /* RFC 7469: SHA-256 of the SPKI, base64 */
	time_t not_before, not_after;
};
int ca_pair_pin(struct ca_pair_pin *out, gnutls_x509_crt_t crt,
    struct ca_err *err);

struct ca_pair_info {
	char *dir;                   /* D, absolute */
	struct ca_pair_pin pin[CA_PAIR__MAX];
	char *pins_txt, *pins_json;  /* as written to D/pins.txt, pins.json */
};
/* Makes a pair into dir: ca.crt, proxy.crt, proxy.key, app.crt, app.key
 * (PKCS#8 unencrypted, 0600), pins.txt, pins.json, nginx.conf (the app's
 * server block), nginx-proxy.conf (the proxy's proxy_ssl_*), apache.conf
 * (the app's vhost). dir's parent must exist; dir must not, or be
 * empty. Everything is written into a 0700 temp directory beside it and
 * renamed to dir at the end: dir appears whole or not at all. */
int ca_pair_create(struct ca_pair_info *out, const char *dir,
    const struct ca_pair_opts *o, time_t now, struct ca_err *err);
void ca_pair_info_clear(struct ca_pair_info *pi);

/* ---- the invariants of a CA directory (libca/check.c) ------------------ */

#define CA_CHECK_LOCK 1u             /* take the CA lock (waiting) first */

/* Checks what must hold in CA directory dir at any instant, also right
 * after a crash: index.txt parses; every V and R entry has
 * certs/SERIAL.pem, which parses and holds that serial, notAfter and
 * subject, and which ca.crt issued (issuer name and key identifier) and
 * signed (the signature verifies; the entries are checked on up to 8
 * threads); no serial appears twice; every issued/NAME/cert.pem is a
 * certificate the index records under NAME, is certs/SERIAL.pem's, and
 * matches its key.pem;
 * the CRL, if any, parses, is signed by the CA, and crl.der is crl.pem;
 * crlnumber parses. Each violation is added to problems as
 * "path: what". What an interrupted run may leave and the next run that
 * takes the lock repairs (temp files of atomic writes, issued/.NAME.new.
 * PID staging directories, a torn last index line, crl.der behind
 * crl.pem) goes to leftovers, or to problems when leftovers is NULL.
 * Returns 0 when the directory could be checked (whatever was found),
 * else a CA_E code (not a CA directory, out of memory, lock). Changes
 * nothing. */
int ca_check(struct ca_strv *problems, struct ca_strv *leftovers,
    const char *dir, unsigned flags, time_t now, struct ca_err *err);

#endif
