/*
 * test_crl.c - libca/crl.c: the hand-built DER CRL, read back by GnuTLS
 * and judged by `openssl crl` (the independent checker).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"


struct issuer {
	gnutls_x509_privkey_t xkey;
	gnutls_privkey_t key;
	gnutls_x509_crt_t crt;
	char pem[512];  /* its certificate, for openssl -CAfile */
};

static void
issuer_free(struct issuer *is)
{
	if (is->crt != NULL)
		gnutls_x509_crt_deinit(is->crt);
	if (is->key != NULL)
		gnutls_privkey_deinit(is->key);
	if (is->xkey != NULL)
		gnutls_x509_privkey_deinit(is->xkey);
	memset(is, 0, sizeof(*is));
}

/* A self-signed root made through libca, valid around `now'. */
static int
make_issuer(struct issuer *is, enum ca_key_alg alg, time_t now)
{
	struct ca_cert_req req = CA_CERT_REQ_INIT;
	struct ca_serial serial;
	struct ca_err err;
	gnutls_pubkey_t pub = NULL;
	gnutls_datum_t pem = { NULL, 0 };
	int ret;

	memset(is, 0, sizeof(*is));
	memset(&err, 0, sizeof(err));
	if ((ret = ca_key_generate(&is->xkey, alg, &err)) != 0 ||
	    (ret = ca_privkey_to_abstract(&is->key, is->xkey, &err)) != 0 ||
	    (ret = ca_serial_random(&serial, &err)) != 0)
		goto out;
	if (gnutls_pubkey_init(&pub) < 0 ||
	    gnutls_pubkey_import_privkey(pub, is->key, 0, 0) < 0) {
		ret = CA_ECRYPTO;
		goto out;
	}
	req.profile = CA_PROF_ROOT;
	req.subject = "CN=CRL Test Root,O=tierca unit";
	req.pubkey = pub;
	req.not_before = now - DAY;
	req.not_after = now + 3650 * DAY;
	if ((ret = ca_cert_issue(&is->crt, &req, &serial, NULL, is->key, now,
	    &err)) != 0)
		goto out;
	if ((ret = ca_cert_export_pem(&pem, is->crt, &err)) != 0)
		goto out;
	snprintf(is->pem, sizeof(is->pem), "%s/issuer-%s.pem", unit_tmp,
	    ca_key_alg_name(alg));
	if ((ret = ca_file_write_atomic(is->pem, pem.data, pem.size, 0644,
	    &err)) != 0)
		goto out;
out:
	UCHECK(ret == 0, "make_issuer(%s): %d %s", ca_key_alg_name(alg), ret,
	    err.msg);
	gnutls_free(pem.data);
	if (pub != NULL)
		gnutls_pubkey_deinit(pub);
	if (ret != 0)
		issuer_free(is);
	return ret;
}

/* Strips leading zero bytes for comparing INTEGER contents. */
static void
strip0(const unsigned char **p, size_t *n)
{
	while (*n > 1 && (*p)[0] == 0) {
		(*p)++;
		(*n)--;
	}
}

static int
same_int(const unsigned char *a, size_t na, const unsigned char *b, size_t nb)
{
	strip0(&a, &na);
	strip0(&b, &nb);
	return na == nb && memcmp(a, b, na) == 0;
}

static const enum ca_reason reasons[] = {
	CA_REASON_UNSPECIFIED, CA_REASON_KEY_COMPROMISE,
	CA_REASON_CA_COMPROMISE, CA_REASON_AFFILIATION_CHANGED,
	CA_REASON_SUPERSEDED, CA_REASON_CESSATION, CA_REASON_CERTIFICATE_HOLD,
	CA_REASON_PRIVILEGE_WITHDRAWN, CA_REASON_AA_COMPROMISE,
};
#define NREASONS (sizeof(reasons) / sizeof(reasons[0]))

/* How `openssl crl -text' names each reason. */
static const char *
openssl_reason(enum ca_reason r)
{
	switch (r) {
	case CA_REASON_UNSPECIFIED: return "Unspecified";
	case CA_REASON_KEY_COMPROMISE: return "Key Compromise";
	case CA_REASON_CA_COMPROMISE: return "CA Compromise";
	case CA_REASON_AFFILIATION_CHANGED: return "Affiliation Changed";
	case CA_REASON_SUPERSEDED: return "Superseded";
	case CA_REASON_CESSATION: return "Cessation Of Operation";
	case CA_REASON_CERTIFICATE_HOLD: return "Certificate Hold";
	case CA_REASON_PRIVILEGE_WITHDRAWN: return "Privilege Withdrawn";
	case CA_REASON_AA_COMPROMISE: return "AA Compromise";
	default: return "?";
	}
}

/*
 * Encodes a CRL and checks it every way we can: GnuTLS parses it and
 * verifies its signature, every entry's serial and time is there in
 * order, both extensions are; openssl parses it, verifies it against the
 * issuer and shows each entry's reason.
 */
static void
check_crl(const char *what, struct issuer *is, const struct ca_crl_entry *ents,
    size_t n, const char *number, time_t tu, time_t nu, unsigned status_mask,
    gnutls_sign_algorithm_t want_sig)
{
	gnutls_datum_t der = { NULL, 0 };
	gnutls_x509_crl_t crl = NULL;
	gnutls_x509_crl_iter_t iter = NULL;
	struct ca_serial num;
	struct ca_err err;
	unsigned char buf[64], ski[64];
	size_t len, skilen = sizeof(ski), i, count[CA_REASON__MAX];
	unsigned crit = 9, status = 0;
	char path[600], oid[128], *out = NULL;
	time_t t;
	int ret, rc;

	memset(&err, 0, sizeof(err));
	memset(count, 0, sizeof(count));
	if (!UCHECK(ca_serial_from_hex(&num, number) == 0, "%s: number", what))
		return;
	ret = ca_crl_encode(&der, is->crt, is->key, ents, n, &num, tu, nu, &err);
	if (!UCHECK(ret == 0 && der.data != NULL && der.size > 0, "%s: encode "
	    "%d %s", what, ret, err.msg))
		goto out;

	/* GnuTLS reads it back. */
	if (gnutls_x509_crl_init(&crl) < 0)
		goto out;
	ret = gnutls_x509_crl_import(crl, &der, GNUTLS_X509_FMT_DER);
	if (!UCHECK(ret == 0, "%s: gnutls import: %s", what,
	    gnutls_strerror(ret)))
		goto out;
	UCHECK(gnutls_x509_crl_get_version(crl) == 2, "%s: version", what);
	UCHECK(gnutls_x509_crl_get_crt_count(crl) == (int)n, "%s: %d entries, "
	    "want %zu", what, gnutls_x509_crl_get_crt_count(crl), n);
	UCHECK(gnutls_x509_crl_get_this_update(crl) == tu, "%s: thisUpdate "
	    "%lld, want %lld", what,
	    (long long)gnutls_x509_crl_get_this_update(crl), (long long)tu);
	UCHECK(gnutls_x509_crl_get_next_update(crl) == nu, "%s: nextUpdate "
	    "%lld, want %lld", what,
	    (long long)gnutls_x509_crl_get_next_update(crl), (long long)nu);
	UCHECK(gnutls_x509_crl_get_signature_algorithm(crl) == (int)want_sig,
	    "%s: signature algorithm %s, want %s", what,
	    gnutls_sign_get_name(gnutls_x509_crl_get_signature_algorithm(crl)),
	    gnutls_sign_get_name(want_sig));
	UCHECK(gnutls_x509_crl_check_issuer(crl, is->crt) == 1, "%s: issuer "
	    "name", what);
	ret = gnutls_x509_crl_verify(crl, &is->crt, 1, 0, &status);
	UCHECK(ret == 0 && (status & ~status_mask) == 0, "%s: gnutls verify "
	    "ret %d status 0x%x", what, ret, status);

	/* cRLNumber and authorityKeyIdentifier, not critical. */
	len = sizeof(buf);
	ret = gnutls_x509_crl_get_number(crl, buf, &len, &crit);
	UCHECK(ret >= 0 && crit == 0 && same_int(buf, len, num.b, num.len),
	    "%s: CRL number (ret %d, crit %u)", what, ret, crit);
	len = sizeof(buf);
	crit = 9;
	ret = gnutls_x509_crl_get_authority_key_id(crl, buf, &len, &crit);
	gnutls_x509_crt_get_subject_key_id(is->crt, ski, &skilen, NULL);
	UCHECK(ret >= 0 && crit == 0 && len == skilen &&
	    memcmp(buf, ski, len) == 0, "%s: authorityKeyIdentifier (ret %d)",
	    what, ret);
	for (i = 0;; i++) {
		len = sizeof(oid);
		if (gnutls_x509_crl_get_extension_info(crl, (unsigned)i, oid, &len,
		    &crit) < 0)
			break;
		UCHECK((strcmp(oid, "2.5.29.35") == 0 && i == 0) ||
		    (strcmp(oid, "2.5.29.20") == 0 && i == 1), "%s: extension %zu "
		    "is %s", what, i, oid);
	}
	UCHECK(i == 2, "%s: %zu extensions, want 2", what, i);

	/* Every entry, in order. */
	for (i = 0;; i++) {
		len = sizeof(buf);
		ret = gnutls_x509_crl_iter_crt_serial(crl, &iter, buf, &len, &t);
		if (ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (!UCHECK(ret == 0 && i < n, "%s: entry %zu: %s", what, i,
		    gnutls_strerror(ret)))
			break;
		if (!UCHECK(len == ents[i].serial.len &&
		    memcmp(buf, ents[i].serial.b, len) == 0, "%s: entry %zu "
		    "serial (want %s)", what, i, ents[i].serial.hex) ||
		    !UCHECK(t == ents[i].revoked_at, "%s: entry %zu time %lld, "
		    "want %lld", what, i, (long long)t,
		    (long long)ents[i].revoked_at))
			break;
		count[ents[i].reason]++;
	}
	UCHECK(i == n, "%s: iterated %zu entries, want %zu", what, i, n);

	/* openssl, from a file as the tools publish it. */
	snprintf(path, sizeof(path), "%s/%s.der", unit_tmp, what);
	if (!UCHECK(ca_file_write_atomic(path, der.data, der.size, 0644,
	    &err) == 0, "%s: write %s", what, err.msg))
		goto out;
	rc = unit_run(&out, "openssl crl -inform DER -in '%s' -noout -text "
	    "2>&1", path);
	if (!UCHECK(rc == 0 && out != NULL, "%s: openssl crl -text exit %d: "
	    "%.300s", what, rc, out ? out : ""))
		goto out;
	UCHECK(strstr(out, "Version 2 (0x1)") != NULL, "%s: openssl version",
	    what);
	UCHECK(strstr(out, "CRL Test Root") != NULL, "%s: openssl issuer",
	    what);
	UCHECK(strstr(out, "X509v3 CRL Number") != NULL, "%s: openssl CRL "
	    "number", what);
	UCHECK(strstr(out, "X509v3 Authority Key Identifier") != NULL,
	    "%s: openssl AKI", what);
	UCHECK(unit_count(out, "Serial Number:") == n, "%s: openssl shows "
	    "%zu entries, want %zu", what, unit_count(out, "Serial Number:"), n);
	if (n == 0)
		UCHECK(strstr(out, "No Revoked Certificates") != NULL, "%s: "
		    "openssl: empty list", what);
	/* No extension for "unspecified" (RFC 5280 5.3.1); every other
	 * reason shows up once per entry that carries it. */
	UCHECK(unit_count(out, "Unspecified") == 0, "%s: an 'Unspecified' "
	    "reason was encoded", what);
	UCHECK(unit_count(out, "X509v3 CRL Reason Code") == n -
	    count[CA_REASON_UNSPECIFIED], "%s: %zu reason codes, want %zu",
	    what, unit_count(out, "X509v3 CRL Reason Code"),
	    n - count[CA_REASON_UNSPECIFIED]);
	for (i = 1; i < NREASONS; i++)
		UCHECK(unit_count(out, openssl_reason(reasons[i])) ==
		    count[reasons[i]], "%s: openssl shows '%s' %zu times, want "
		    "%zu", what, openssl_reason(reasons[i]),
		    unit_count(out, openssl_reason(reasons[i])),
		    count[reasons[i]]);
	free(out);
	out = NULL;
	rc = unit_run(&out, "openssl crl -inform DER -in '%s' -CAfile '%s' "
	    "-noout 2>&1", path, is->pem);
	UCHECK(rc == 0 && out && strstr(out, "verify OK") != NULL, "%s: "
	    "openssl verify exit %d: %.300s", what, rc, out ? out : "");
out:
	free(out);
	if (iter != NULL)
		gnutls_x509_crl_iter_deinit(iter);
	if (crl != NULL)
		gnutls_x509_crl_deinit(crl);
	gnutls_free(der.data);
}

static void
fill(struct ca_crl_entry *e, size_t n, time_t base)
{
	struct ca_err err;
	size_t i;

	for (i = 0; i < n; i++) {
		ca_serial_random(&e[i].serial, &err);
		e[i].revoked_at = base - (time_t)i * 3600;
		e[i].reason = reasons[i % NREASONS];
	}
}

static void
test_empty_and_one(void)
{
	struct issuer is;
	struct ca_crl_entry one;
	time_t now = time(NULL) - 60;

	if (make_issuer(&is, CA_KEY_ECDSA_P256, now) != 0)
		return;
	check_crl("empty", &is, NULL, 0, "01", now, now + 14 * DAY, 0,
	    GNUTLS_SIGN_ECDSA_SHA256);
	memset(&one, 0, sizeof(one));
	ca_serial_from_hex(&one.serial, "80FF"); /* needs its sign byte */
	one.revoked_at = now - DAY;
	one.reason = CA_REASON_KEY_COMPROMISE;
	check_crl("one", &is, &one, 1, "80", now, now + 14 * DAY, 0,
	    GNUTLS_SIGN_ECDSA_SHA256);
	issuer_free(&is);
}

static void
test_thousand(void)
{
	struct ca_crl_entry *e;
	struct issuer is;
	time_t now = time(NULL) - 60;

	if (make_issuer(&is, CA_KEY_ECDSA_P256, now) != 0)
		return;
	if ((e = calloc(1000, sizeof(*e))) == NULL) {
		issuer_free(&is);
		CU_FAIL("out of memory");
		return;
	}
	fill(e, 1000, now);
	/* a few edges among the random serials */
	ca_serial_from_hex(&e[1].serial, "01");
	ca_serial_from_hex(&e[2].serial, "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF");
	ca_serial_from_hex(&e[3].serial, "7F");
	/* 20 octets with the top bit set: 21 content bytes */
	ca_serial_from_hex(&e[4].serial,
	    "8A0102030405060708090A0B0C0D0E0F10111213");
	check_crl("thousand", &is, e, 1000, "1000", now, now + 14 * DAY, 0,
	    GNUTLS_SIGN_ECDSA_SHA256);
	free(e);
	issuer_free(&is);
}

/* After 2049 both the CRL's times and the entries' are GeneralizedTime
 * (RFC 5280 5.1.2.4). GnuTLS judges CRL times by the system clock: the
 * mask lets "issued in the future" (and the INVALID that comes with it)
 * through, but not a signature failure. */
static void
test_generalized_time(void)
{
	struct ca_crl_entry e[3];
	struct issuer is;
	time_t now = time(NULL) - 60;
	time_t y2050 = (time_t)2524608000;

	if (make_issuer(&is, CA_KEY_ECDSA_P256, now) != 0)
		return;
	memset(e, 0, sizeof(e));
	fill(e, 3, y2050 + 3600);
	e[2].revoked_at = y2050 - 1; /* 2049-12-31T23:59:59Z: UTCTime */
	check_crl("y2050", &is, e, 3, "02", y2050 - 60, y2050 + 14 * DAY,
	    GNUTLS_CERT_REVOCATION_DATA_ISSUED_IN_FUTURE | GNUTLS_CERT_INVALID,
	    GNUTLS_SIGN_ECDSA_SHA256);
	issuer_free(&is);
}

static const struct {
	enum ca_key_alg alg;
	gnutls_sign_algorithm_t sig;
} alg_cases[] = {
	{ CA_KEY_ECDSA_P256, GNUTLS_SIGN_ECDSA_SHA256 },
	{ CA_KEY_ECDSA_P384, GNUTLS_SIGN_ECDSA_SHA384 },
	{ CA_KEY_ECDSA_P521, GNUTLS_SIGN_ECDSA_SHA512 },
	{ CA_KEY_ED25519, GNUTLS_SIGN_EDDSA_ED25519 },
	{ CA_KEY_RSA_2048, GNUTLS_SIGN_RSA_SHA256 },
};

static void
test_issuer_algs(void)
{
	struct ca_crl_entry e[10];
	size_t i;

	for (i = 0; i < sizeof(alg_cases) / sizeof(alg_cases[0]); i++) {
		struct issuer is;
		time_t now = time(NULL) - 60;
		char what[64];

		if (make_issuer(&is, alg_cases[i].alg, now) != 0)
			continue;
		memset(e, 0, sizeof(e));
		fill(e, 10, now);
		snprintf(what, sizeof(what), "alg-%s",
		    ca_key_alg_name(alg_cases[i].alg));
		check_crl(what, &is, e, 10, "0A", now, now + 14 * DAY, 0,
		    alg_cases[i].sig);
		issuer_free(&is);
	}
}

static void
test_load(void)
{
	gnutls_datum_t der = { NULL, 0 }, pem = { NULL, 0 };
	gnutls_x509_crl_t crl = NULL;
	struct ca_crl_entry e[4];
	struct ca_serial num;
	struct ca_err err;
	struct issuer is;
	char path[600];
	time_t now = time(NULL) - 60;

	if (make_issuer(&is, CA_KEY_ED25519, now) != 0)
		return;
	memset(e, 0, sizeof(e));
	fill(e, 4, now);
	ca_serial_from_hex(&num, "05");
	if (!UCHECK(ca_crl_encode(&der, is.crt, is.key, e, 4, &num, now,
	    now + DAY, &err) == 0, "encode: %s", err.msg)) {
		issuer_free(&is);
		return;
	}
	CU_ASSERT_EQUAL(gnutls_pem_base64_encode2("X509 CRL", &der, &pem), 0);
	/* DER and PEM */
	snprintf(path, sizeof(path), "%s/load.der", unit_tmp);
	ca_file_write_atomic(path, der.data, der.size, 0644, &err);
	if (UCHECK(ca_crl_load(&crl, path, &err) == 0, "load DER: %s", err.msg)) {
		CU_ASSERT_EQUAL(gnutls_x509_crl_get_crt_count(crl), 4);
		gnutls_x509_crl_deinit(crl);
	}
	snprintf(path, sizeof(path), "%s/load.pem", unit_tmp);
	ca_file_write_atomic(path, pem.data, pem.size, 0644, &err);
	if (UCHECK(ca_crl_load(&crl, path, &err) == 0, "load PEM: %s", err.msg)) {
		CU_ASSERT_EQUAL(gnutls_x509_crl_get_crt_count(crl), 4);
		gnutls_x509_crl_deinit(crl);
	}
	/* garbage, a missing file */
	snprintf(path, sizeof(path), "%s/garbage.pem", unit_tmp);
	unit_write(path, "-----BEGIN X509 CRL-----\nnot base64\n", 0644);
	CU_ASSERT_EQUAL(ca_crl_load(&crl, path, &err), CA_ECRYPTO);
	CU_ASSERT_PTR_NULL(crl);
	snprintf(path, sizeof(path), "%s/absent.pem", unit_tmp);
	CU_ASSERT_EQUAL(ca_crl_load(&crl, path, &err), CA_ENOENT);
	gnutls_free(der.data);
	gnutls_free(pem.data);
	issuer_free(&is);
}

void
register_crl(void)
{
	CU_pSuite s = CU_add_suite("crl", unit_tmp_init, unit_tmp_clean);

	CU_add_test(s, "0 and 1 entries", test_empty_and_one);
	CU_add_test(s, "1000 entries, every reason", test_thousand);
	CU_add_test(s, "GeneralizedTime from 2050", test_generalized_time);
	CU_add_test(s, "issuer key algorithms", test_issuer_algs);
	CU_add_test(s, "ca_crl_load DER and PEM", test_load);
}
