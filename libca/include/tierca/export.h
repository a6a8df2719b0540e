/*
 * tierca/export.h - files for services: PKCS#12, CRL bundles, trust anchors.
 *
 * Layer: ops (docs/architecture.md). Conventions: functions are
 * ca_<module>_<verb>, return 0 or a negative CA_E* code and fill a
 * struct ca_err; they never print or exit.
 */
#ifndef TIERCA_EXPORT_H
#define TIERCA_EXPORT_H

#include "tierca/layer.h"

#if defined(TIERCA_LAYER) && TIERCA_LAYER < 4
#error "tierca/export.h belongs to the ops layer: a lower layer may not include it"
#endif

#include "tierca/store.h"
#include "tierca/secret.h"


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

#endif
