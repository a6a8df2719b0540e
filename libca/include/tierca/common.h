/*
 * tierca/common.h - errors, enums, string lists, the clock: what every module uses.
 *
 * Layer: base (docs/architecture.md). Conventions: functions are
 * ca_<module>_<verb>, return 0 or a negative CA_E* code and fill a
 * struct ca_err; they never print or exit.
 */
#ifndef TIERCA_COMMON_H
#define TIERCA_COMMON_H

#include "tierca/layer.h"

#if defined(TIERCA_LAYER) && TIERCA_LAYER < 1
#error "tierca/common.h belongs to the base layer: a lower layer may not include it"
#endif

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

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


/* Validates an issued name: [A-Za-z0-9][A-Za-z0-9._-]*, <= 64 chars. */
int ca_name_check(const char *name, struct ca_err *err);

#endif
