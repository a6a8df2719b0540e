/*
 * tierca/pair.h - point-to-point certificate pairs (tierca-pair).
 *
 * Layer: ops (docs/architecture.md). Conventions: functions are
 * ca_<module>_<verb>, return 0 or a negative CA_E* code and fill a
 * struct ca_err; they never print or exit.
 */
#ifndef TIERCA_PAIR_H
#define TIERCA_PAIR_H

#include "tierca/layer.h"

#if defined(TIERCA_LAYER) && TIERCA_LAYER < 4
#error "tierca/pair.h belongs to the ops layer: a lower layer may not include it"
#endif

#include "tierca/common.h"

/* ---- point-to-point pairs (libca/pair.c; tierca-pair) ------------------ */

/* Seed 000's "proxy-ca": a throwaway CA signs exactly two certificates,
 * the proxy's (clientAuth, serial 0x1000) and the app's (serverAuth,
 * 0x1001; both EKUs on both with both_eku), and its key is destroyed:
 * generated in memory, never exported or written, released (GnuTLS
 * zeroes it) before ca_pair_make returns. Nothing is left to sign with,
 * so the lifetime may be long; revocation is "make a new pair". */
#define CA_PAIR_SERIAL_PROXY "1000"
#define CA_PAIR_SERIAL_APP "1001"
#define CA_PAIR_YEARS 100            /* default lifetime */
#define CA_PAIR_YEARS_MAX 200
#define CA_PAIR_NAME_MAX 48          /* "proxy NAME" fits a 64-char CN */

enum ca_pair_cert { CA_PAIR_CA, CA_PAIR_PROXY, CA_PAIR_APP, CA_PAIR__MAX };
const char *ca_pair_cert_name(enum ca_pair_cert c);     /* "proxy" */

struct ca_pair_opts {
	const char *proxy, *app;     /* CN=proxy NAME, CN=app NAME */
	struct ca_strv dns, ip;      /* the app's names: at least one */
	struct ca_strv proxy_dns, proxy_ip; /* the proxy's; needed with
	                                both_eku (it is a server then) */
	int years;
	enum ca_key_alg alg;         /* all three keys */
	int both_eku;
};
#define CA_PAIR_OPTS_INIT { .years = CA_PAIR_YEARS, .alg = CA_KEY_ECDSA_P256 }


/* Validates names, addresses, years and key algorithm. */
int ca_pair_check(const struct ca_pair_opts *o, struct ca_err *err);

/* What identifies one certificate of a pair. */
struct ca_pair_pin {
	char subject[256];           /* RFC 4514 */
	char serial[44];             /* OpenSSL's hex: "1000" */
	char sha256[96];             /* of the DER, "AB:CD:..." as openssl
	                                x509 -fingerprint -sha256 */
	char sha256_hex[65];         /* the same, lowercase hex */
	char pin_sha256[45];         /* RFC 7469: SHA-256 of the SPKI, base64 */
	time_t not_before, not_after;
};

struct ca_pair_info {
	char *dir;                   /* D, absolute */
	struct ca_pair_pin pin[CA_PAIR__MAX];
	char *pins_txt, *pins_json;  /* as written to D/pins.txt, pins.json */
};
/* Makes a pair into dir: ca.crt, proxy.crt, proxy.key, app.crt, app.key
 * (PKCS#8 unencrypted, 0600), pins.txt, pins.json, nginx.conf (the app's
 * server block), nginx-proxy.conf (the proxy's proxy_ssl_*), apache.conf
 * (the app's vhost). dir's parent must exist; dir must not, or be
 * empty. Everything is written into a 0700 temp directory beside it and
 * renamed to dir at the end: dir appears whole or not at all. */
int ca_pair_create(struct ca_pair_info *out, const char *dir,
    const struct ca_pair_opts *o, time_t now, struct ca_err *err);
void ca_pair_info_clear(struct ca_pair_info *pi);

#endif
