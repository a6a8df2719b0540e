/*
 * harness.h - what the modules of the test harness share (harness.c:
 * the run and the ephemeral hierarchy; harness_pki.c: chain, CRLs and
 * security; harness_files.c: installed and managed files; harness_life.c:
 * renewal and alerting). Not installed; the harness's public header is tierca/harness.h.
 */
#ifndef TIERCA_HARNESS_INT_H
#define TIERCA_HARNESS_INT_H

#include "tierca/layer.h"

#if !defined(TIERCA_LAYER) || TIERCA_LAYER < TIERCA_LAYER_HARNESS || \
    TIERCA_LAYER >= TIERCA_LAYER_TOOL
#error "harness/harness-int.h is internal to the harness"
#endif

#include "deploy/deploy-int.h"
#include "tierca/harness.h"

#define HX_DAY 86400
/* The templates of the ephemeral hierarchy, in the order they are
 * loaded (ca_templates_load sorts by file name). */
enum { HX_T_ADMIN, HX_T_LONG, HX_T_PINNED, HX_T_WEB, HX_T__MAX };

struct hx {
	const struct ca_harness_opts *o;
	const struct ca_hsink *sink;
	time_t now;
	int ephemeral;
	char *cfgpath;
	struct ca_conf conf;
	int conf_ok;
	/* Each configured CA, opened without its lock (an audit must not
	 * even create a lock file); NULL when absent or unreadable, with
	 * the reason in ca_err. */
	struct ca *ca[CA_KIND__MAX];
	struct ca_err ca_err[CA_KIND__MAX];
	/* The trust anchor: root/ca.crt, else an intermediate's root.crt. */
	gnutls_x509_crt_t root;
	char *root_from;
	struct ca_templates tpls;
	int tpls_ok;
	struct ca_err tpl_err;
	/* The category being run, and what it has found so far. */
	enum ca_hcat cat;
	size_t npass, nfail, nskip;

	/* The ephemeral hierarchy only. */
	struct ca_secret pass;         /* the root key's, from a 0600 file */
	char crlnum[CA_KIND__MAX][2][44]; /* the CRL numbers made in turn */
	char revoked[CA_KIND__MAX][44];   /* revoked in the setup */
	enum ca_reason revoked_reason[CA_KIND__MAX];
	struct ca_renew_result first[HX_T__MAX]; /* the run that issued */
	char *hookfile;                /* the reload hook's log */
	char *inst;                    /* where the templates install */
};

/* Reports one check of the current category. */
void hx_check(struct hx *h, enum ca_hresult res, const char *name,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
#define hx_pass(h, name, ...) hx_check((h), CA_HPASS, (name), __VA_ARGS__)
#define hx_fail(h, name, ...) hx_check((h), CA_HFAIL, (name), __VA_ARGS__)
#define hx_skip(h, name, ...) hx_check((h), CA_HSKIP, (name), __VA_ARGS__)

/* The categories. Each reports its checks; the return is for what stops
 * a run (out of memory). */
int hx_chain(struct hx *h);
int hx_crl(struct hx *h);
int hx_security(struct hx *h);
int hx_deploy(struct hx *h);
int hx_scripts(struct hx *h);
int hx_alerting(struct hx *h);
int hx_renewal(struct hx *h);

/* ---- helpers shared by the modules ------------------------------------ */

/* ca_check on each open CA directory, one check "KIND CA directory[ when]"
 * each; reads no CA key. */
void hx_ca_dirs(struct hx *h, const char *when);

/* "server" for a kind, as in the configuration. */
const char *hx_kind(enum ca_kind k);
/* The purpose OID a leaf of the CA of kind k serves. */
const char *hx_purpose(enum ca_kind k);
/* The newest entry of name in db when it is valid at now, else NULL. */
struct ca_db_entry *hx_current(struct ca_db *db, const char *name,
    time_t now);
/* Loads D/certs/SERIAL.pem of ca. */
int hx_load_issued(gnutls_x509_crt_t *out, struct ca *ca,
    const char *serial, struct ca_err *err);
/* Imports an unencrypted private key from a file without the owner-only
 * check of ca_key_load (an installed key may be 0640). */
int hx_key_read(gnutls_x509_privkey_t *out, const char *path,
    struct ca_err *err);
/* A fresh in-memory leaf for `dns', signed by issuer's key directly with
 * GnuTLS: no lint, no record. purpose is the EKU it claims. */
int hx_forge(gnutls_x509_crt_t *out, gnutls_x509_crt_t issuer,
    gnutls_privkey_t issuer_key, const char *dns, const char *purpose,
    time_t now, struct ca_err *err);
/* SHA-256 of a certificate's public key, lowercase hex, or "" . */
void hx_crt_spki(char *buf, size_t len, gnutls_x509_crt_t crt);
/* The same of the key in a PEM file, or "". */
void hx_file_spki(char *buf, size_t len, const char *path);

/* A CRL's entries as encoded (DER walk: GnuTLS has no API for the
 * per-entry reason code). */
struct hx_crl_entry {
	char serial[44];               /* uppercase hex, as ca_serial */
	time_t revoked_at;
	int reason;                    /* -1: no reasonCode extension */
};
int hx_crl_entries(struct hx_crl_entry **out, size_t *n,
    gnutls_x509_crl_t crl, struct ca_err *err);
/* The cRLNumber as uppercase hex, or "" when it has none. */
void hx_crl_number(char *buf, size_t len, gnutls_x509_crl_t crl);
/* 1 when crl carries a good signature of ca (dates not judged). */
int hx_crl_signed_by(gnutls_x509_crl_t crl, gnutls_x509_crt_t ca);

#endif
