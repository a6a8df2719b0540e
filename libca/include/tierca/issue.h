/*
 * tierca/issue.h - making CAs and issuing certificates.
 *
 * Layer: ops (docs/architecture.md). Conventions: functions are
 * ca_<module>_<verb>, return 0 or a negative CA_E* code and fill a
 * struct ca_err; they never print or exit.
 */
#ifndef TIERCA_ISSUE_H
#define TIERCA_ISSUE_H

#include "tierca/layer.h"

#if defined(TIERCA_LAYER) && TIERCA_LAYER < 4
#error "tierca/issue.h belongs to the ops layer: a lower layer may not include it"
#endif

#include "tierca/store.h"

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
	int keep_key;                /* reuse issued/NAME/key.pem */
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


struct ca_sign_ica_opts {
	enum ca_kind kind;
	int days;
	struct ca_strv permit_dns;
	const char *crl_url;
};
#define CA_SIGN_ICA_OPTS_INIT { CA_KIND__MAX, 730, { NULL, 0 }, NULL }


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

#endif
