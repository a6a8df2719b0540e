/*
 * tool-rules.h - included first into every cmd/ object by the Makefile.
 * A tool parses flags, calls libca's path-level API and prints: it holds
 * no GnuTLS handle. Poisoning the handle types makes any GnuTLS header,
 * included directly or through a header a tool should not use, fail to
 * compile (docs/architecture.md, "Layers").
 */
#pragma GCC poison gnutls_x509_crt_t gnutls_x509_crq_t gnutls_x509_crl_t
#pragma GCC poison gnutls_x509_privkey_t gnutls_privkey_t gnutls_pubkey_t
#pragma GCC poison gnutls_session_t gnutls_datum_t
