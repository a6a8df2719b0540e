/*
 * tierca/x509.h - keys, certificates, CSRs, serials, CRL encoding, lint and
 * verification: the GnuTLS-typed API. Tools never include it.
 *
 * Layer: x509 (docs/architecture.md). Conventions: functions are
 * ca_<module>_<verb>, return 0 or a negative CA_E* code and fill a
 * struct ca_err; they never print or exit.
 */
#ifndef TIERCA_X509_H
#define TIERCA_X509_H

#include "tierca/layer.h"

#if defined(TIERCA_LAYER) && TIERCA_LAYER < 2
#error "tierca/x509.h belongs to the x509 layer: a lower layer may not include it"
#endif
#if defined(TIERCA_LAYER) && TIERCA_LAYER == TIERCA_LAYER_TOOL
#error "tierca/x509.h is X.509-level: tools (cmd/) call the path-level API"
#endif

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>

#include "tierca/common.h"
#include "tierca/secret.h"

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

#endif
