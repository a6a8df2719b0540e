/*
 * tierca/query.h - listing and describing what a CA issued.
 *
 * Layer: ops (docs/architecture.md). Conventions: functions are
 * ca_<module>_<verb>, return 0 or a negative CA_E* code and fill a
 * struct ca_err; they never print or exit.
 */
#ifndef TIERCA_QUERY_H
#define TIERCA_QUERY_H

#include "tierca/layer.h"

#if defined(TIERCA_LAYER) && TIERCA_LAYER < 4
#error "tierca/query.h belongs to the ops layer: a lower layer may not include it"
#endif

#include "tierca/store.h"


/* Every database entry with the certificate's validity. */
int ca_list(struct ca_db **out, struct ca *ca, struct ca_err *err);
/* Finds the newest entry for a serial or a name. */
int ca_find(struct ca_db_entry **out, struct ca_db *db, const char *key);

/* The current certificate of each name (its newest entry) when it is
 * valid ('V') and expires within within_days of now (already expired
 * ones included). *out is an array of pointers into db; free() it. */
int ca_due(struct ca_db_entry ***out, size_t *n, struct ca_db *db,
    time_t now, int within_days, struct ca_err *err);

/* A readable description of the certificate with this serial or name:
 * subject, issuer, validity, names, key, usage, fingerprint, status. */
int ca_show(char **out, struct ca *ca, const char *key, time_t now,
    struct ca_err *err);
/* The CA's own certificate: subject, notAfter, SHA-256 (for listings). */
struct ca_self_info {
	char *subject;
	time_t not_before, not_after;
	char sha256[65];
	char serial[44];
};
int ca_self_info(struct ca_self_info *out, struct ca *ca);
void ca_self_info_clear(struct ca_self_info *si);

#endif
