/*
 * ops/ops-int.h - internals of the operations layer.
 * Not installed; see docs/architecture.md.
 */
#ifndef TIERCA_OPS_INT_H
#define TIERCA_OPS_INT_H

#include "tierca/layer.h"

#if !defined(TIERCA_LAYER) || TIERCA_LAYER < 4 || TIERCA_LAYER >= TIERCA_LAYER_TOOL
#error "ops/ops-int.h is internal to libca's ops layer and those above it"
#endif

#include "store/store-int.h"
#include "tierca/issue.h"
#include "tierca/revoke.h"
#include "tierca/query.h"
#include "tierca/export.h"
#include "tierca/import.h"
#include "tierca/pair.h"

/* The DNS, IP and email names a CSR asks for. strict: other name types
 * are refused rather than silently dropped. */
int ca_crq_names(struct ca_strv *dns, struct ca_strv *ip,
    struct ca_strv *email, gnutls_x509_crq_t q, const char *what, int strict,
    struct ca_err *err);


/* Signs a CSR made elsewhere: its signature and key are checked, its
 * requested extensions ignored; names come from o (or, when o has none,
 * the CSR's CN and requested DNS/IP/email names, which are linted).
 * Writes D/issued/NAME/cert.pem, chain.pem, fullchain.pem (no key). */
int ca_sign_csr(struct ca_issued *out, struct ca *ca,
    const struct ca_issue_opts *o, gnutls_x509_crq_t csr, time_t now,
    struct ca_err *err);

/* The root signs an intermediate CSR; the PEM goes to out_pem. */
int ca_root_sign(struct ca_issued *out, gnutls_datum_t *out_pem,
    struct ca *root, const struct ca_sign_ica_opts *o,
    gnutls_x509_crq_t csr, time_t now, struct ca_err *err);

/* A pair in memory, indexed by enum ca_pair_cert. key[CA_PAIR_CA] is
 * always NULL: there is no CA key to hand out. */
struct ca_pair {
	gnutls_x509_crt_t crt[CA_PAIR__MAX];
	gnutls_x509_privkey_t key[CA_PAIR__MAX];
};

/* Makes the CA (CA:TRUE pathlen:0, keyCertSign, no EKU) and the two
 * leaves, each linted (ca_lint_cert) before it is returned, valid from
 * now for o->years calendar years. */
int ca_pair_make(struct ca_pair *out, const struct ca_pair_opts *o,
    time_t now, struct ca_err *err);
void ca_pair_free(struct ca_pair *p);

/* The pin of one certificate of a pair. */
int ca_pair_pin(struct ca_pair_pin *out, gnutls_x509_crt_t crt,
    struct ca_err *err);

#endif
