/*
 * tierca/check.h - the invariants of a CA directory.
 *
 * Layer: store (docs/architecture.md). Conventions: functions are
 * ca_<module>_<verb>, return 0 or a negative CA_E* code and fill a
 * struct ca_err; they never print or exit.
 */
#ifndef TIERCA_CHECK_H
#define TIERCA_CHECK_H

#include "tierca/layer.h"

#if defined(TIERCA_LAYER) && TIERCA_LAYER < 3
#error "tierca/check.h belongs to the store layer: a lower layer may not include it"
#endif

#include "tierca/common.h"

/* ---- the invariants of a CA directory (libca/check.c) ------------------ */

#define CA_CHECK_LOCK 1u             /* take the CA lock (waiting) first */

/* Checks what must hold in CA directory dir at any instant, also right
 * after a crash: index.txt parses; every V and R entry has
 * certs/SERIAL.pem, which parses and holds that serial, notAfter and
 * subject, and which ca.crt issued (issuer name and key identifier) and
 * signed (the signature verifies; the entries are checked on up to 8
 * threads); no serial appears twice; every issued/NAME/cert.pem is a
 * certificate the index records under NAME, is certs/SERIAL.pem's, and
 * matches its key.pem;
 * the CRL, if any, parses, is signed by the CA, and crl.der is crl.pem;
 * crlnumber parses. Each violation is added to problems as
 * "path: what". What an interrupted run may leave and the next run that
 * takes the lock repairs (temp files of atomic writes, issued/.NAME.new.
 * PID staging directories, a torn last index line, crl.der behind
 * crl.pem) goes to leftovers, or to problems when leftovers is NULL.
 * Returns 0 when the directory could be checked (whatever was found),
 * else a CA_E code (not a CA directory, out of memory, lock). Changes
 * nothing. */
int ca_check(struct ca_strv *problems, struct ca_strv *leftovers,
    const char *dir, unsigned flags, time_t now, struct ca_err *err);

#endif
