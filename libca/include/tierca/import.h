/*
 * tierca/import.h - taking over an easy-rsa 3 PKI.
 *
 * Layer: ops (docs/architecture.md). Conventions: functions are
 * ca_<module>_<verb>, return 0 or a negative CA_E* code and fill a
 * struct ca_err; they never print or exit.
 */
#ifndef TIERCA_IMPORT_H
#define TIERCA_IMPORT_H

#include "tierca/layer.h"

#if defined(TIERCA_LAYER) && TIERCA_LAYER < 4
#error "tierca/import.h belongs to the ops layer: a lower layer may not include it"
#endif

#include "tierca/store.h"

/* ---- importing an easy-rsa 3 PKI (libca/import.c) ---------------------- */

/* An easy-rsa CA is one tier: its ca.crt is (usually) self-signed. Imported,
 * it becomes a server or client CA directory whose root is itself:
 * D/root.crt and D/chain.pem hold ca.crt (or, for an easy-rsa sub-CA,
 * the root given and ca.crt + root). */
struct ca_import_opts {
	enum ca_kind kind;           /* server or client: what it issues next */
	const char *root;            /* the root of an easy-rsa sub-CA, or NULL */
};
#define CA_IMPORT_OPTS_INIT { CA_KIND__MAX, NULL }

struct ca_import_result {
	size_t nvalid, nrevoked, nexpired;   /* index entries by status */
	size_t nissued;              /* issued/NAME/ made (certificate + key) */
	size_t nkey_encrypted;       /* ... of them with a key kept encrypted */
	size_t narchived;            /* other keys, kept in private/archive/ */
	size_t nnokey;               /* certificates without a key */
	int key_encrypted;           /* D/private/ca.key is encrypted */
	int self_signed;             /* the CA is its own root */
	int crl_copied;              /* easy-rsa's crl.pem taken as D/crl.pem */
	char crlnumber[44];          /* the next CRL number (hex) */
};

/* One line of an easy-rsa (OpenSSL `ca`) index.txt, without '\n':
 * status, expiry, revocation "date[,reason[,extra]]", serial, an optional
 * file name field (ignored), subject. OpenSSL's keyTime/CAkeyTime and
 * holdInstruction forms map to keyCompromise, CACompromise and
 * certificateHold; removeFromCRL is refused. out->name is "unknown" and
 * out->serial is normalised as tierca writes it (no leading zero byte);
 * out's strings are allocated (ca_db_entry_clear). */
int ca_import_index_line(struct ca_db_entry *out, const char *line,
    struct ca_err *err);
/* 1 when PKI/private/ca.key is encrypted (a passphrase is needed). */
int ca_import_key_encrypted(const char *pki, struct ca_err *err);
/* Turns the easy-rsa PKI directory pki into a new CA directory dir (which
 * must not exist or be empty): every index entry with its status, dates
 * and reason, named after its issued/NAME.crt (else its CN), its
 * certificate as certs/SERIAL.pem; the CA key as PKCS#8, encrypted with
 * pass when pass is given (the passphrase of an encrypted easy-rsa key,
 * or a new one for a nopass key); leaf keys in issued/NAME/; crlnumber
 * past easy-rsa's. An entry whose certificate is missing, or one not
 * signed by ca.crt, refuses the import. It is built in dir.tmp-XXXXXX and
 * renamed into place, so a failure leaves nothing; pki is only read. */
int ca_import_easyrsa(struct ca_import_result *out, const char *dir,
    const char *pki, const struct ca_import_opts *o,
    const struct ca_secret *pass, time_t now, struct ca_err *err);
/* 1 when ca is its own root (D/root.crt is D/ca.crt: an imported
 * single-tier CA), else 0. */
int ca_self_rooted(const struct ca *ca);

#endif
