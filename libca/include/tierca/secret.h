/*
 * tierca/secret.h - passphrases held in memory.
 *
 * Layer: base (docs/architecture.md). Conventions: functions are
 * ca_<module>_<verb>, return 0 or a negative CA_E* code and fill a
 * struct ca_err; they never print or exit.
 */
#ifndef TIERCA_SECRET_H
#define TIERCA_SECRET_H

#include "tierca/layer.h"

#if defined(TIERCA_LAYER) && TIERCA_LAYER < 1
#error "tierca/secret.h belongs to the base layer: a lower layer may not include it"
#endif

#include "tierca/common.h"

/* ---- secrets ----------------------------------------------------------- */

struct ca_secret {
	char *buf; /* NUL-terminated, locked in memory where possible */
	size_t len;
	/* Bytes allocated for buf by ca_secret_from_*(); 0 for a secret put
	 * together by hand, whose buffer ca_secret_wipe() leaves alone. */
	size_t cap;
};

/* First line of a 0600/0400 file. */
int ca_secret_from_file(struct ca_secret *out, const char *path,
    struct ca_err *err);
/* First line read from an already open descriptor (not closed). */
int ca_secret_from_fd(struct ca_secret *out, int fd, struct ca_err *err);
/* No-echo prompt on /dev/tty; confirm asks twice. */
int ca_secret_from_tty(struct ca_secret *out, const char *prompt,
    int confirm, struct ca_err *err);
/* Wipes (all cap bytes) and frees; safe on a zeroed struct, and on a
 * hand-made secret (cap 0), whose buffer it leaves alone. */
void ca_secret_wipe(struct ca_secret *s);
/* Minimum quality for a new CA key passphrase. */
int ca_secret_check_new(const struct ca_secret *s, struct ca_err *err);

#endif
