/*
 * tierca/ceremony.h - the root's hash-chained ceremony log.
 *
 * Layer: store (docs/architecture.md). Conventions: functions are
 * ca_<module>_<verb>, return 0 or a negative CA_E* code and fill a
 * struct ca_err; they never print or exit.
 */
#ifndef TIERCA_CEREMONY_H
#define TIERCA_CEREMONY_H

#include "tierca/layer.h"

#if defined(TIERCA_LAYER) && TIERCA_LAYER < 3
#error "tierca/ceremony.h belongs to the store layer: a lower layer may not include it"
#endif

#include "tierca/common.h"

/* ---- the root's ceremony log ------------------------------------------- */

/* Appends one hash-chained entry: time, act, then "key=value" details
 * (SHA-256 of inputs and outputs). */
int ca_log_append(const char *dir, time_t now, const char *act,
    const struct ca_strv *details, struct ca_err *err);
struct ca_log_status {
	size_t entries;
	char head[65];
	char before_last[65];  /* the hash of entry entries-1 */
	int head_lags;         /* ceremony.head is one entry behind */
};
/* Recomputes the chain; CA_EVERIFY names the first bad line. */
int ca_log_verify(struct ca_log_status *out, const char *dir,
    struct ca_err *err);
/* After a crash between an act's log entry and its head update, the
 * head is one entry behind an intact chain. Once the operator has
 * checked that last entry, this moves the head on and records the
 * recovery as an entry of its own. Refused in any other state. */
int ca_log_accept_last(struct ca_log_status *out, const char *dir,
    time_t now, struct ca_err *err);
/* SHA-256 of a file, lowercase hex. */
int ca_sha256_file(char *buf, size_t len, const char *path,
    struct ca_err *err);
void ca_sha256_hex(char *buf, size_t len, const void *data, size_t n);

#endif
