/*
 * auto/auto-int.h - internals of the automation layer.
 * Not installed; see docs/architecture.md.
 */
#ifndef TIERCA_AUTO_INT_H
#define TIERCA_AUTO_INT_H

#include "tierca/layer.h"

#if !defined(TIERCA_LAYER) || TIERCA_LAYER < 5 || TIERCA_LAYER >= TIERCA_LAYER_TOOL
#error "auto/auto-int.h is internal to libca's auto layer and those above it"
#endif

#include "ops/ops-int.h"
#include "tierca/conf.h"
#include "tierca/renew.h"
#include "tierca/monitor.h"

/* ca_install_needed() with issued/NAME/cert.pem's content already in
 * hand (cert NULL: read it). */
int ca_install_needed_cert(struct ca *ca, const struct ca_template *t,
    const char *cert, size_t certlen, struct ca_err *err);

/* TLS handshake with host:port ("[v6]:port" too), every address
 * getaddrinfo gives, timeout_ms for connect and handshake together. The
 * peer's chain is returned unverified, leaf first; free it with
 * ca_crt_list_free(). */
int ca_endpoint_fetch(gnutls_x509_crt_t **out, size_t *n,
    const char *hostport, int timeout_ms, struct ca_err *err);
void ca_crt_list_free(gnutls_x509_crt_t *v, size_t n);

#endif
