/*
 * tierca/revoke.h - revocation and CRL generation.
 *
 * Layer: ops (docs/architecture.md). Conventions: functions are
 * ca_<module>_<verb>, return 0 or a negative CA_E* code and fill a
 * struct ca_err; they never print or exit.
 */
#ifndef TIERCA_REVOKE_H
#define TIERCA_REVOKE_H

#include "tierca/layer.h"

#if defined(TIERCA_LAYER) && TIERCA_LAYER < 4
#error "tierca/revoke.h belongs to the ops layer: a lower layer may not include it"
#endif

#include "tierca/store.h"


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

#endif
