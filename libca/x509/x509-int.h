/*
 * x509/x509-int.h - internals of the X.509 layer.
 * Not installed; see docs/architecture.md.
 */
#ifndef TIERCA_X509_INT_H
#define TIERCA_X509_INT_H

#include "tierca/layer.h"

#if !defined(TIERCA_LAYER) || TIERCA_LAYER < 2 || TIERCA_LAYER >= TIERCA_LAYER_TOOL
#error "x509/x509-int.h is internal to libca's x509 layer and those above it"
#endif

#include "base/base-int.h"
#include "tierca/x509.h"

/* Profile helpers shared by cert.c and lint.c. */
int ca_profile_is_ca(enum ca_profile p);
const char *ca_profile_eku(enum ca_profile p);
const char *ca_profile_name(enum ca_profile p);
gnutls_digest_algorithm_t ca_sign_hash(gnutls_pubkey_t signer);
/* 1 when crl carries a good signature of ca (its dates are the
 * caller's to judge: GnuTLS would use the system clock). */
int ca_crl_signed_by(gnutls_x509_crl_t crl, gnutls_x509_crt_t ca);

/* PEM (a "-----BEGIN" line anywhere) or else DER. */
gnutls_x509_crt_fmt_t ca_fmt_of(const gnutls_datum_t *d);
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

#endif
