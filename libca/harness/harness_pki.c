/*
 * harness_pki.c - the harness's checks of certificates and CRLs: chain
 * (every leaf through the right intermediate, wrong intermediates and
 * crossed purposes refused, name constraints held by the lint and by
 * verification), CRL integrity, and security (algorithms, key sizes,
 * hashes, key files and their permissions).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness/harness-int.h"

/* Forged certificates live five minutes and only in memory; their key is
 * thrown away with them, so even the control one is of no use to anyone. */
#define FORGE_LIFE 300

/* ---- forging ----------------------------------------------------------- */

int
hx_forge(gnutls_x509_crt_t *out, gnutls_x509_crt_t issuer,
    gnutls_privkey_t issuer_key, const char *dns, const char *purpose,
    time_t now, struct ca_err *err)
{
	gnutls_x509_crt_t c = NULL;
	gnutls_x509_privkey_t k = NULL;
	gnutls_datum_t der = { NULL, 0 };
	struct ca_serial sn;
	unsigned char id[64];
	size_t idlen = sizeof(id);
	char dn[300];
	int ret;

	*out = NULL;
	snprintf(dn, sizeof(dn), "CN=%s,O=tierca-harness forgery", dns);
	if ((ret = ca_key_generate(&k, CA_KEY_ECDSA_P256, err)) != 0 ||
	    (ret = ca_serial_random(&sn, err)) != 0)
		goto out;
	/* Directly with GnuTLS, as an attacker holding the key (or a buggy
	 * issuing path) would: no profile, no lint, no record. */
	if ((ret = gnutls_x509_crt_init(&c)) < 0 ||
	    (ret = gnutls_x509_crt_set_version(c, 3)) < 0 ||
	    (ret = gnutls_x509_crt_set_serial(c, sn.b, sn.len)) < 0 ||
	    (ret = gnutls_x509_crt_set_dn(c, dn, NULL)) < 0 ||
	    (ret = gnutls_x509_crt_set_key(c, k)) < 0 ||
	    (ret = gnutls_x509_crt_set_activation_time(c, now - 60)) < 0 ||
	    (ret = gnutls_x509_crt_set_expiration_time(c, now +
	    FORGE_LIFE)) < 0 ||
	    (ret = gnutls_x509_crt_set_basic_constraints(c, 0, -1)) < 0 ||
	    (ret = gnutls_x509_crt_set_key_usage(c,
	    GNUTLS_KEY_DIGITAL_SIGNATURE)) < 0 ||
	    (ret = gnutls_x509_crt_set_key_purpose_oid(c, purpose, 0)) < 0 ||
	    (ret = gnutls_x509_crt_set_subject_alt_name(c, GNUTLS_SAN_DNSNAME,
	    dns, (unsigned)strlen(dns), GNUTLS_FSAN_APPEND)) < 0) {
		ret = ca_gnutls_err(err, ret, "cannot forge '%s'", dns);
		goto out;
	}
	if (gnutls_x509_crt_get_subject_key_id(issuer, id, &idlen, NULL) >= 0 &&
	    (ret = gnutls_x509_crt_set_authority_key_id(c, id, idlen)) < 0) {
		ret = ca_gnutls_err(err, ret, "cannot forge '%s'", dns);
		goto out;
	}
	if ((ret = gnutls_x509_crt_privkey_sign(c, issuer, issuer_key,
	    GNUTLS_DIG_SHA256, 0)) < 0) {
		ret = ca_gnutls_err(err, ret, "cannot sign the forged '%s'", dns);
		goto out;
	}
	/* What a verifier would see: the encoding, parsed again. */
	if ((ret = gnutls_x509_crt_export2(c, GNUTLS_X509_FMT_DER, &der)) < 0) {
		ret = ca_gnutls_err(err, ret, "cannot encode the forged '%s'",
		    dns);
		goto out;
	}
	gnutls_x509_crt_deinit(c);
	c = NULL;
	if ((ret = gnutls_x509_crt_init(&c)) < 0 ||
	    (ret = gnutls_x509_crt_import(c, &der, GNUTLS_X509_FMT_DER)) < 0) {
		ret = ca_gnutls_err(err, ret, "cannot re-read the forged '%s'",
		    dns);
		goto out;
	}
	*out = c;
	c = NULL;
	ret = 0;
out:
	gnutls_free(der.data);
	if (c != NULL)
		gnutls_x509_crt_deinit(c);
	if (k != NULL)
		gnutls_x509_privkey_deinit(k);
	return ret;
}

/* ---- reading CRLs ------------------------------------------------------ */

struct tlv {
	unsigned char tag;
	const unsigned char *v;
	size_t len;
};

/* The next DER element at *p (single-byte tags, definite lengths). */
static int
der_next(struct tlv *t, const unsigned char **p, const unsigned char *end)
{
	const unsigned char *q = *p;
	size_t len = 0, n;

	if (end - q < 2 || (q[0] & 0x1f) == 0x1f)
		return -1;
	t->tag = *q++;
	if (*q < 0x80)
		len = *q++;
	else {
		n = *q++ & 0x7f;
		if (n == 0 || n > 4 || (size_t)(end - q) < n)
			return -1;
		while (n-- > 0)
			len = (len << 8) | *q++;
	}
	if (len > (size_t)(end - q))
		return -1;
	t->v = q;
	t->len = len;
	*p = q + len;
	return 0;
}

static int
der_time(time_t *out, const struct tlv *t)
{
	struct tm tm;
	char s[16];
	size_t off = 0;

	if ((t->tag != 0x17 || t->len != 13) && (t->tag != 0x18 ||
	    t->len != 15))
		return -1;
	memset(&tm, 0, sizeof(tm));
	memcpy(s, t->v, t->len);
	s[t->len] = '\0';
	if (t->tag == 0x17) {
		if (sscanf(s, "%2d", &tm.tm_year) != 1)
			return -1;
		tm.tm_year += tm.tm_year < 50 ? 100 : 0;
		off = 2;
	} else {
		if (sscanf(s, "%4d", &tm.tm_year) != 1)
			return -1;
		tm.tm_year -= 1900;
		off = 4;
	}
	if (sscanf(s + off, "%2d%2d%2d%2d%2d", &tm.tm_mon, &tm.tm_mday,
	    &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 5 || s[t->len - 1] != 'Z')
		return -1;
	tm.tm_mon--;
	*out = timegm(&tm);
	return 0;
}

static void
serial_hex(char *buf, size_t len, const unsigned char *b, size_t n)
{
	while (n > 1 && b[0] == 0) {
		b++;
		n--;
	}
	if (2 * n + 1 > len)
		n = (len - 1) / 2;
	ca_hex(buf, b, n, 1);
}

/* The reasonCode of one entry's extensions, or -1. */
static int
entry_reason(const unsigned char *p, const unsigned char *end)
{
	static const unsigned char oid[] = { 0x55, 0x1d, 0x15 };
	struct tlv ext, f;

	while (p < end) {
		const unsigned char *q, *qe;
		if (der_next(&ext, &p, end) != 0 || ext.tag != 0x30)
			return -2;
		q = ext.v;
		qe = ext.v + ext.len;
		if (der_next(&f, &q, qe) != 0 || f.tag != 0x06)
			return -2;
		if (f.len != sizeof(oid) || memcmp(f.v, oid, sizeof(oid)) != 0)
			continue;
		if (der_next(&f, &q, qe) != 0)
			return -2;
		if (f.tag == 0x01 && der_next(&f, &q, qe) != 0)  /* critical */
			return -2;
		if (f.tag != 0x04)
			return -2;
		q = f.v;
		qe = f.v + f.len;
		if (der_next(&f, &q, qe) != 0 || f.tag != 0x0a || f.len != 1)
			return -2;
		return f.v[0];
	}
	return -1;
}

int
hx_crl_entries(struct hx_crl_entry **out, size_t *n, gnutls_x509_crl_t crl,
    struct ca_err *err)
{
	gnutls_datum_t der = { NULL, 0 };
	struct hx_crl_entry *v = NULL, *nv;
	const unsigned char *p, *end;
	struct tlv t;
	size_t cap = 0, k = 0;
	int ret;

	*out = NULL;
	*n = 0;
	if ((ret = gnutls_x509_crl_export2(crl, GNUTLS_X509_FMT_DER, &der)) < 0)
		return ca_gnutls_err(err, ret, "cannot encode the CRL");
	p = der.data;
	end = der.data + der.size;
	/* CertificateList { tbsCertList { [version] signature issuer
	 * thisUpdate [nextUpdate] [revokedCertificates] [0] crlExtensions }
	 * ... } (RFC 5280, 5.1). */
	if (der_next(&t, &p, end) != 0 || t.tag != 0x30)
		goto bad;
	p = t.v;
	end = t.v + t.len;
	if (der_next(&t, &p, end) != 0 || t.tag != 0x30)
		goto bad;
	p = t.v;
	end = t.v + t.len;
	if (der_next(&t, &p, end) != 0)
		goto bad;
	if (t.tag == 0x02 && der_next(&t, &p, end) != 0)
		goto bad;
	if (t.tag != 0x30 || der_next(&t, &p, end) != 0 || t.tag != 0x30 ||
	    der_next(&t, &p, end) != 0 || (t.tag != 0x17 && t.tag != 0x18))
		goto bad;
	while (p < end) {
		const unsigned char *q, *qe;
		if (der_next(&t, &p, end) != 0)
			goto bad;
		if (t.tag == 0x17 || t.tag == 0x18 || t.tag == 0xa0)
			continue;
		if (t.tag != 0x30)
			goto bad;
		/* revokedCertificates: SEQUENCE OF { serial, date, [exts] }. */
		q = t.v;
		qe = t.v + t.len;
		while (q < qe) {
			struct tlv e, f;
			const unsigned char *r, *re;
			if (der_next(&e, &q, qe) != 0 || e.tag != 0x30)
				goto bad;
			if (k == cap) {
				cap = cap ? 2 * cap : 16;
				if ((nv = realloc(v, cap * sizeof(*v))) == NULL) {
					ret = ca_err_set(err, CA_ENOMEM, "out of "
					    "memory");
					goto out;
				}
				v = nv;
			}
			r = e.v;
			re = e.v + e.len;
			if (der_next(&f, &r, re) != 0 || f.tag != 0x02 ||
			    f.len == 0)
				goto bad;
			serial_hex(v[k].serial, sizeof(v[k].serial), f.v, f.len);
			if (der_next(&f, &r, re) != 0 ||
			    der_time(&v[k].revoked_at, &f) != 0)
				goto bad;
			v[k].reason = -1;
			if (r < re) {
				if (der_next(&f, &r, re) != 0 || f.tag != 0x30)
					goto bad;
				if ((v[k].reason = entry_reason(f.v, f.v +
				    f.len)) < -1)
					goto bad;
			}
			k++;
		}
	}
	*out = v;
	*n = k;
	v = NULL;
	ret = 0;
	goto out;
bad:
	ret = ca_err_set(err, CA_EINVAL, "the CRL's encoding cannot be read");
out:
	free(v);
	gnutls_free(der.data);
	return ret;
}

void
hx_crl_number(char *buf, size_t len, gnutls_x509_crl_t crl)
{
	unsigned char b[64];
	size_t n = sizeof(b);
	unsigned crit = 0;

	buf[0] = '\0';
	if (gnutls_x509_crl_get_number(crl, b, &n, &crit) >= 0 && n > 0)
		serial_hex(buf, len, b, n);
}

int
hx_crl_signed_by(gnutls_x509_crl_t crl, gnutls_x509_crt_t ca)
{
	/* GnuTLS 3.7 judges a CRL's dates by the system clock even with
	 * time checks off: those bits are the caller's to judge. */
	const unsigned timebits = GNUTLS_CERT_REVOCATION_DATA_ISSUED_IN_FUTURE |
	    GNUTLS_CERT_REVOCATION_DATA_SUPERSEDED;
	unsigned vst = 0;

	if (!gnutls_x509_crl_check_issuer(crl, ca) ||
	    gnutls_x509_crl_verify(crl, &ca, 1,
	    GNUTLS_VERIFY_DISABLE_TIME_CHECKS |
	    GNUTLS_VERIFY_DISABLE_TRUSTED_TIME_CHECKS, &vst) < 0)
		return 0;
	return vst == 0 || ((vst & timebits) != 0 &&
	    (vst & ~(timebits | GNUTLS_CERT_INVALID)) == 0);
}

/* ---- small things ------------------------------------------------------ */

static const char *
cn_of(char *buf, size_t len, gnutls_x509_crt_t c)
{
	size_t n = len;

	if (gnutls_x509_crt_get_dn_by_oid(c, GNUTLS_OID_X520_COMMON_NAME, 0, 0,
	    buf, &n) < 0)
		snprintf(buf, len, "(no CN)");
	return buf;
}

/* The current leaves of a CA: newest entry of each name, valid at now. */
struct leaf {
	const struct ca_db_entry *e;
	gnutls_x509_crt_t crt;
};

static void
leaves_free(struct leaf *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i].crt != NULL)
			gnutls_x509_crt_deinit(v[i].crt);
	free(v);
}

/* Fills *out with the current leaves whose certificate could be read;
 * *bad names the first that could not. */
static int
current_leaves(struct leaf **out, size_t *n, struct ca *ca,
    struct ca_db *db, time_t now, char *bad, size_t badlen)
{
	struct leaf *v;
	size_t i, j, k = 0;

	*out = NULL;
	*n = 0;
	bad[0] = '\0';
	if ((v = calloc(db->n + 1, sizeof(*v))) == NULL)
		return CA_ENOMEM;
	for (i = 0; i < db->n; i++) {
		const struct ca_db_entry *e = &db->v[i];
		struct ca_err err = { 0 };
		int newest = 1;
		if (e->status != 'V' || e->not_after <= now)
			continue;
		for (j = i + 1; j < db->n && newest; j++)
			if (strcmp(db->v[j].name, e->name) == 0)
				newest = 0;
		if (!newest)
			continue;
		if (hx_load_issued(&v[k].crt, ca, e->serial, &err) != 0) {
			if (bad[0] == '\0')
				snprintf(bad, badlen, "%s", err.msg);
			continue;
		}
		v[k++].e = e;
	}
	*out = v;
	*n = k;
	return 0;
}

static int
has_constraints(gnutls_x509_crt_t ica, char *inside, size_t ilen,
    char *outside, size_t olen)
{
	static const char *const tries[] = { "harness-probe.example.com",
		"harness-probe.invalid", "harness-probe.test" };
	gnutls_x509_name_constraints_t nc = NULL;
	gnutls_datum_t name, d;
	unsigned crit = 0, type = 0, i;
	int found = 0;

	inside[0] = outside[0] = '\0';
	if (gnutls_x509_name_constraints_init(&nc) < 0)
		return 0;
	if (gnutls_x509_crt_get_name_constraints(ica, nc, 0, &crit) < 0)
		goto out;
	for (i = 0; gnutls_x509_name_constraints_get_permitted(nc, i, &type,
	    &name) >= 0; i++)
		if (type == GNUTLS_SAN_DNSNAME && name.size > 0 &&
		    name.size < ilen - 16) {
			snprintf(inside, ilen, "harness-probe.%.*s",
			    (int)name.size, (const char *)name.data +
			    (name.data[0] == '.'));
			found = 1;
			break;
		}
	for (i = 0; found && i < sizeof(tries) / sizeof(tries[0]); i++) {
		d.data = (unsigned char *)(uintptr_t)tries[i];
		d.size = (unsigned)strlen(tries[i]);
		if (!gnutls_x509_name_constraints_check(nc, GNUTLS_SAN_DNSNAME,
		    &d)) {
			snprintf(outside, olen, "%s", tries[i]);
			break;
		}
	}
	if (outside[0] == '\0')
		found = 0;
out:
	gnutls_x509_name_constraints_deinit(nc);
	return found;
}

/* The key of an intermediate, for forging in memory: the ephemeral
 * hierarchy's own. An audit never loads a production CA key (nothing it
 * does may need one, and a signature it makes is a signature still). */
static int
ica_key(struct hx *h, enum ca_kind k, char *why, size_t len)
{
	if (h->ca[k]->key != NULL)
		return 0;
	snprintf(why, len, "%s", h->ephemeral ? "its key is not loaded" :
	    "an audit does not use CA keys");
	return -1;
}

static enum ca_kind
other(enum ca_kind k)
{
	return k == CA_KIND_SERVER ? CA_KIND_CLIENT : CA_KIND_SERVER;
}

static const char *
purpose_name(enum ca_kind k)
{
	return k == CA_KIND_CLIENT ? "clientAuth" : "serverAuth";
}

/* ---- chain ------------------------------------------------------------- */

/* Forged certificates under the intermediate of kind k: a control that
 * must verify, a crossed purpose and a name outside the constraints that
 * must not; and the lint (and, in the ephemeral hierarchy, ca_issue)
 * refusing that name. */
static int
forgeries(struct hx *h, enum ca_kind k)
{
	gnutls_x509_crt_t ica = h->ca[k]->crt, f = NULL;
	struct ca_err e = { 0 };
	char name[96], in[300], out[96], why[1100];
	int constrained, control_ok = 0;
	enum ca_profile prof = k == CA_KIND_SERVER ? CA_PROF_LEAF_SERVER :
	    CA_PROF_LEAF_CLIENT;

	constrained = has_constraints(ica, in, sizeof(in), out, sizeof(out));
	if (!constrained)
		snprintf(in, sizeof(in), "harness-probe.%s.internal", hx_kind(k));
	snprintf(name, sizeof(name), "forged %s leaf", hx_kind(k));
	if (ica_key(h, k, why, sizeof(why)) != 0) {
		hx_skip(h, name, "cannot forge under the %s intermediate: %s",
		    hx_kind(k), why);
		return 0;
	}
	/* The control: signed the same way, inside every rule. If it did
	 * not verify, the refusals below would prove nothing. */
	if (hx_forge(&f, ica, h->ca[k]->key, in, hx_purpose(k), h->now,
	    &e) != 0) {
		hx_fail(h, name, "%s", e.msg);
		return 0;
	}
	if (ca_verify_chain(f, &ica, 1, &h->root, 1, NULL, 0, hx_purpose(k),
	    h->now, &e) == 0) {
		control_ok = 1;
		hx_pass(h, "forged control verifies", "a %s certificate for '%s' "
		    "signed with GnuTLS directly under the %s intermediate "
		    "verifies (so the refusals below are the rules at work)",
		    purpose_name(k), in, hx_kind(k));
	} else
		hx_fail(h, "forged control verifies", "a %s certificate for "
		    "'%s' forged inside every rule does not verify: %s",
		    purpose_name(k), in, e.msg);
	gnutls_x509_crt_deinit(f);
	f = NULL;

	/* A crossed purpose: the intermediate's EKU does not allow it. */
	memset(&e, 0, sizeof(e));
	if (hx_forge(&f, ica, h->ca[k]->key, in, hx_purpose(other(k)), h->now,
	    &e) != 0)
		hx_fail(h, "forged crossed purpose refused", "%s", e.msg);
	else if (ca_verify_chain(f, &ica, 1, &h->root, 1, NULL, 0,
	    hx_purpose(other(k)), h->now, &e) != 0 && control_ok)
		hx_pass(h, "forged crossed purpose refused", "a %s certificate "
		    "forged under the %s intermediate fails verification for "
		    "%s: %s", purpose_name(other(k)), hx_kind(k),
		    purpose_name(other(k)), e.msg);
	else
		hx_fail(h, "forged crossed purpose refused", "a %s certificate "
		    "forged under the %s intermediate %s", purpose_name(other(k)),
		    hx_kind(k), control_ok ? "verifies: the two trust models "
		    "are not kept apart" : "proves nothing (the control failed)");
	if (f != NULL)
		gnutls_x509_crt_deinit(f);
	f = NULL;

	if (!constrained) {
		hx_skip(h, "name constraints", "the %s intermediate has no DNS "
		    "name constraints", hx_kind(k));
		return 0;
	}
	/* Outside the name constraints: the lint refuses it before it
	 * could be issued, and verification refuses it when forged. */
	memset(&e, 0, sizeof(e));
	if (hx_forge(&f, ica, h->ca[k]->key, out, hx_purpose(k), h->now,
	    &e) != 0) {
		hx_fail(h, "name constraints", "%s", e.msg);
		return 0;
	}
	if (ca_lint_cert(f, prof, ica, h->now, &e) == CA_EPOLICY &&
	    strstr(e.msg, "outside") != NULL)
		hx_pass(h, "lint refuses a name outside the constraints", "%s",
		    e.msg);
	else
		hx_fail(h, "lint refuses a name outside the constraints", "the "
		    "pre-issuance lint %s '%s' under the %s intermediate",
		    e.msg[0] ? "refused for another reason:" : "accepts", out,
		    hx_kind(k));
	memset(&e, 0, sizeof(e));
	if (ca_verify_chain(f, &ica, 1, &h->root, 1, NULL, 0, hx_purpose(k),
	    h->now, &e) != 0 && control_ok)
		hx_pass(h, "forged name outside the constraints refused", "'%s' "
		    "signed directly under the %s intermediate fails "
		    "verification: %s", out, hx_kind(k), e.msg);
	else
		hx_fail(h, "forged name outside the constraints refused", "'%s' "
		    "forged under the %s intermediate %s", out, hx_kind(k),
		    control_ok ? "verifies: the name constraints are not "
		    "enforced" : "proves nothing (the control failed)");
	gnutls_x509_crt_deinit(f);

	/* The real issuing path refuses it and records nothing. */
	if (h->ephemeral) {
		struct ca_issue_opts io = CA_ISSUE_OPTS_INIT;
		struct ca_issued is;
		struct stat before, after;
		char *idx = ca_path(h->ca[k], "index.txt");
		char *dir = ca_path(h->ca[k], "issued/outside");
		int ret;

		memset(&e, 0, sizeof(e));
		memset(&is, 0, sizeof(is));
		io.name = "outside";
		if (idx == NULL || dir == NULL || stat(idx, &before) != 0 ||
		    ca_strv_add(&io.dns, out) != 0) {
			free(idx);
			free(dir);
			ca_strv_free(&io.dns);
			return CA_ENOMEM;
		}
		ret = ca_issue(&is, h->ca[k], &io, h->now, &e);
		if (ret == CA_EPOLICY && stat(idx, &after) == 0 &&
		    after.st_size == before.st_size && !ca_file_exists(dir))
			hx_pass(h, "issuing outside the constraints refused",
			    "ca_issue: %s; nothing recorded", e.msg);
		else
			hx_fail(h, "issuing outside the constraints refused",
			    "ca_issue of '%s' %s", out, ret == 0 ? "issued it" :
			    e.msg);
		ca_issued_clear(&is);
		ca_strv_free(&io.dns);
		free(idx);
		free(dir);
	}
	return 0;
}

/*
 * The invariants of each CA directory (ca_check, as `tierca-ica check'
 * runs it): the database, every certificate it records signed by that
 * CA, the issued pairs, the CRL state. Without the lock: an audit must
 * not even create a lock file, and ca_check only reads files that are
 * replaced by rename. It never reads private/ca.key (only the names in
 * private/, for temp files); it does read issued/NAME/key.pem, the leaf
 * keys, to match them to their certificates: the security category
 * reads them as well, and they are not what --pki keeps out of reach.
 * Leftovers of an interrupted run are no failure (a tool may be running
 * now), but are named.
 */
#define HX_CHECK_SHOWN 3

void
hx_ca_dirs(struct hx *h, const char *when)
{
	enum ca_kind k;

	for (k = 0; k < CA_KIND__MAX; k++) {
		struct ca_strv problems = { NULL, 0 }, leftovers = { NULL, 0 };
		struct ca_sbuf b = { NULL, 0, 0, 0 };
		struct ca_err e = { 0 };
		char name[96];
		size_t i;

		if (h->ca[k] == NULL)
			continue;
		snprintf(name, sizeof(name), "%s CA directory%s%s", hx_kind(k),
		    when != NULL ? " " : "", when != NULL ? when : "");
		if (ca_check(&problems, &leftovers, h->ca[k]->dir, 0, h->now,
		    &e) != 0) {
			hx_fail(h, name, "cannot check '%s': %s", h->ca[k]->dir,
			    e.msg);
			continue;
		}
		for (i = 0; i < problems.n && i < HX_CHECK_SHOWN; i++)
			ca_sb_printf(&b, "%s%s", i > 0 ? "; " : "",
			    problems.v[i]);
		if (problems.n > HX_CHECK_SHOWN)
			ca_sb_printf(&b, "; and %zu more", problems.n -
			    HX_CHECK_SHOWN);
		if (problems.n > 0)
			hx_fail(h, name, "%zu problem%s (tierca-ica check --dir "
			    "'%s'): %s", problems.n, problems.n == 1 ? "" : "s",
			    h->ca[k]->dir, b.oom || b.p == NULL ? "?" : b.p);
		else if (leftovers.n > 0)
			hx_pass(h, name, "'%s': invariants hold; %zu leftover%s "
			    "of an interrupted run, which the next run repairs: "
			    "%s", h->ca[k]->dir, leftovers.n, leftovers.n == 1 ?
			    "" : "s", leftovers.v[0]);
		else
			hx_pass(h, name, "'%s': invariants hold, every "
			    "certificate it records is signed by its CA",
			    h->ca[k]->dir);
		free(b.p);
		ca_strv_free(&problems);
		ca_strv_free(&leftovers);
	}
}

int
hx_chain(struct hx *h)
{
	struct leaf *lv[CA_KIND__MAX] = { NULL };
	size_t nl[CA_KIND__MAX] = { 0 }, i;
	struct ca_db *db[CA_KIND__MAX] = { NULL };
	struct ca_err e = { 0 };
	char cn[256], bad[1100], name[300];
	enum ca_kind k;
	int ret = 0;

	if (h->root == NULL) {
		hx_fail(h, "root certificate", "no root certificate: neither a "
		    "root directory nor an intermediate's root.crt");
		return 0;
	}
	if (ca_verify_chain(h->root, NULL, 0, &h->root, 1, NULL, 0, NULL, h->now,
	    &e) == 0 && ca_lint_cert(h->root, CA_PROF_ROOT, NULL, h->now,
	    &e) == 0)
		hx_pass(h, "root certificate", "'%s' (%s) is a self-signed root, "
		    "valid now", cn_of(cn, sizeof(cn), h->root), h->root_from);
	else
		hx_fail(h, "root certificate", "%s: %s", h->root_from, e.msg);

	for (k = CA_KIND_SERVER; k <= CA_KIND_CLIENT; k++) {
		const char *dir = k == CA_KIND_SERVER ? h->conf.server_dir :
		    h->conf.client_dir;
		gnutls_x509_crt_t ica;
		enum ca_profile prof = k == CA_KIND_SERVER ? CA_PROF_ICA_SERVER :
		    CA_PROF_ICA_CLIENT;

		snprintf(name, sizeof(name), "%s intermediate", hx_kind(k));
		if (dir == NULL) {
			hx_skip(h, name, "no %s.dir in the configuration",
			    hx_kind(k));
			continue;
		}
		if (h->ca[k] == NULL || h->ca[k]->crt == NULL) {
			hx_fail(h, name, "%s", h->ca[k] == NULL ? h->ca_err[k].msg :
			    "not installed (no ca.crt)");
			continue;
		}
		ica = h->ca[k]->crt;
		memset(&e, 0, sizeof(e));
		if (ca_verify_chain(ica, NULL, 0, &h->root, 1, NULL, 0, NULL,
		    h->now, &e) == 0)
			hx_pass(h, name, "'%s' chains to the root",
			    cn_of(cn, sizeof(cn), ica));
		else
			hx_fail(h, name, "'%s/ca.crt' does not chain to the root "
			    "(%s): %s", dir, h->root_from, e.msg);
		memset(&e, 0, sizeof(e));
		snprintf(name, sizeof(name), "%s intermediate profile",
		    hx_kind(k));
		if (ca_lint_cert(ica, prof, h->root, h->now, &e) == 0)
			hx_pass(h, name, "CA, pathlen 0, keyCertSign and cRLSign, "
			    "extendedKeyUsage %s", purpose_name(k));
		else
			hx_fail(h, name, "%s", e.msg);
		/* The root it was installed with is the root. */
		if (h->ca[k]->root != NULL && h->root != h->ca[k]->root) {
			char a[65], b[65];
			snprintf(name, sizeof(name), "%s root.crt", hx_kind(k));
			ca_cert_sha256(a, sizeof(a), h->root);
			ca_cert_sha256(b, sizeof(b), h->ca[k]->root);
			if (strcmp(a, b) == 0)
				hx_pass(h, name, "the intermediate's root.crt is "
				    "the root's certificate");
			else
				hx_fail(h, name, "'%s/root.crt' is not the root's "
				    "certificate ('%s')", dir, h->root_from);
		}

		memset(&e, 0, sizeof(e));
		snprintf(name, sizeof(name), "%s leaves", hx_kind(k));
		if (ca_list(&db[k], h->ca[k], &e) != 0) {
			hx_fail(h, name, "%s", e.msg);
			continue;
		}
		if ((ret = current_leaves(&lv[k], &nl[k], h->ca[k], db[k],
		    h->now, bad, sizeof(bad))) != 0)
			goto out;
		if (bad[0] != '\0')
			hx_fail(h, name, "%s", bad);
		if (nl[k] == 0)
			hx_skip(h, name, "no current certificate in '%s'", dir);
		for (i = 0; i < nl[k]; i++) {
			memset(&e, 0, sizeof(e));
			snprintf(name, sizeof(name), "%s leaf '%s'", hx_kind(k),
			    lv[k][i].e->name);
			if (ca_verify_chain(lv[k][i].crt, &ica, 1, &h->root, 1,
			    NULL, 0, hx_purpose(k), h->now, &e) == 0)
				hx_pass(h, name, "serial %s verifies to the root "
				    "through the %s intermediate for %s",
				    lv[k][i].e->serial, hx_kind(k),
				    purpose_name(k));
			else
				hx_fail(h, name, "serial %s: %s",
				    lv[k][i].e->serial, e.msg);
		}
	}

	/* The two trust models stay apart: a leaf of one intermediate does
	 * not verify through the other, nor for the other's purpose. */
	for (k = CA_KIND_SERVER; k <= CA_KIND_CLIENT; k++) {
		enum ca_kind o = other(k);
		gnutls_x509_crt_t ica, oca;
		if (nl[k] == 0 || h->ca[o] == NULL || h->ca[o]->crt == NULL)
			continue;
		ica = h->ca[k]->crt;
		oca = h->ca[o]->crt;
		memset(&e, 0, sizeof(e));
		snprintf(name, sizeof(name), "%s leaf through the %s "
		    "intermediate", hx_kind(k), hx_kind(o));
		if (ca_verify_chain(lv[k][0].crt, &oca, 1, &h->root, 1, NULL, 0,
		    hx_purpose(k), h->now, &e) != 0)
			hx_pass(h, name, "'%s' is refused through the wrong "
			    "intermediate: %s", lv[k][0].e->name, e.msg);
		else
			hx_fail(h, name, "'%s' verifies through the %s "
			    "intermediate", lv[k][0].e->name, hx_kind(o));
		memset(&e, 0, sizeof(e));
		snprintf(name, sizeof(name), "%s leaf for %s", hx_kind(k),
		    purpose_name(o));
		if (ca_verify_chain(lv[k][0].crt, &ica, 1, &h->root, 1, NULL, 0,
		    hx_purpose(o), h->now, &e) != 0)
			hx_pass(h, name, "'%s' is refused for %s: %s",
			    lv[k][0].e->name, purpose_name(o), e.msg);
		else
			hx_fail(h, name, "'%s' verifies for %s",
			    lv[k][0].e->name, purpose_name(o));
	}
	for (k = CA_KIND_SERVER; k <= CA_KIND_CLIENT; k++)
		if (h->ca[k] != NULL && h->ca[k]->crt != NULL &&
		    (ret = forgeries(h, k)) != 0)
			goto out;
	hx_ca_dirs(h, NULL);
	ret = 0;
out:
	for (k = 0; k < CA_KIND__MAX; k++) {
		leaves_free(lv[k], nl[k]);
		ca_db_free(db[k]);
	}
	return ret;
}

/* ---- CRLs -------------------------------------------------------------- */

/* Compares two hex numbers: <0, 0, >0. */
static int
hexcmp(const char *a, const char *b)
{
	struct ca_serial x, y;

	if (ca_serial_from_hex(&x, a) != 0 || ca_serial_from_hex(&y, b) != 0)
		return strcmp(a, b);
	if (x.len != y.len)
		return x.len < y.len ? -1 : 1;
	return memcmp(x.b, y.b, x.len);
}

static int
same_hex(const char *a, const char *b)
{
	return hexcmp(a, b) == 0;
}

/* The checks of one CA's CRL at path, signed by crt. db (may be NULL) is
 * what it must list. */
static int
crl_checks(struct hx *h, enum ca_kind k, const char *label, const char *path,
    gnutls_x509_crt_t crt, struct ca *ca, struct ca_db *db)
{
	gnutls_x509_crl_t crl = NULL;
	struct hx_crl_entry *ents = NULL;
	struct ca_err e = { 0 };
	char name[200], num[64], t[32], *buf = NULL, *p = NULL;
	size_t nents = 0, i, j, nrev = 0;
	time_t tu, nu;
	int ret = 0;

	snprintf(name, sizeof(name), "%s CRL", label);
	if (ca_crl_load(&crl, path, &e) != 0) {
		hx_fail(h, name, "%s", e.msg);
		return 0;
	}
	/* Signed by the right CA: its name, its key identifier, its
	 * signature -- and by no other of ours. */
	{
		unsigned char aki[64], ski[64];
		size_t na = sizeof(aki), ns = sizeof(ski);
		enum ca_kind o;
		const char *wrong = NULL;
		for (o = 0; o < CA_KIND__MAX; o++)
			if (o != k && h->ca[o] != NULL && h->ca[o]->crt != NULL &&
			    hx_crl_signed_by(crl, h->ca[o]->crt))
				wrong = hx_kind(o);
		if (!hx_crl_signed_by(crl, crt))
			hx_fail(h, name, "'%s' is not signed by the %s CA", path,
			    hx_kind(k));
		else if (gnutls_x509_crl_get_authority_key_id(crl, aki, &na,
		    NULL) < 0 || gnutls_x509_crt_get_subject_key_id(crt, ski, &ns,
		    NULL) < 0 || na != ns || memcmp(aki, ski, na) != 0)
			hx_fail(h, name, "'%s': its authorityKeyIdentifier is not "
			    "the %s CA's key", path, hx_kind(k));
		else if (wrong != NULL)
			hx_fail(h, name, "'%s' verifies against the %s CA too",
			    path, wrong);
		else
			hx_pass(h, name, "signed by the %s CA (issuer, key "
			    "identifier, signature)", hx_kind(k));
	}
	tu = gnutls_x509_crl_get_this_update(crl);
	nu = gnutls_x509_crl_get_next_update(crl);
	snprintf(name, sizeof(name), "%s CRL next update", label);
	if (nu == (time_t)-1)
		hx_fail(h, name, "'%s' has no nextUpdate", path);
	else if (tu > h->now)
		hx_fail(h, name, "'%s' is not valid yet (thisUpdate in the "
		    "future)", path);
	else if (nu <= h->now) {
		ca_time_format(t, sizeof(t), nu);
		hx_fail(h, name, "'%s' expired at %s", path, t);
	} else {
		ca_time_format(t, sizeof(t), nu);
		hx_pass(h, name, "%s, %lld days ahead", t,
		    (long long)((nu - h->now) / HX_DAY));
	}

	/* Numbers: present, below the next one, growing from CRL to CRL. */
	hx_crl_number(num, sizeof(num), crl);
	snprintf(name, sizeof(name), "%s CRL number", label);
	if (ca != NULL) {
		char *nl;
		if ((p = ca_path(ca, "crlnumber")) == NULL) {
			ret = CA_ENOMEM;
			goto out;
		}
		memset(&e, 0, sizeof(e));
		if (num[0] == '\0')
			hx_fail(h, name, "'%s' has no cRLNumber", path);
		else if (ca_file_read(&buf, NULL, p, 128, &e) != 0)
			hx_fail(h, name, "%s", e.msg);
		else {
			if ((nl = strchr(buf, '\n')) != NULL)
				*nl = '\0';
			if (hexcmp(num, buf) >= 0)
				hx_fail(h, name, "CRL number %s is not below the "
				    "next one in '%s' (%s)", num, p, buf);
			else if (h->ephemeral && k != CA_KIND_ROOT &&
			    !(hexcmp(h->crlnum[k][0], h->crlnum[k][1]) < 0 &&
			    same_hex(num, h->crlnum[k][1])))
				hx_fail(h, name, "CRLs made in turn got numbers %s "
				    "and %s; the current one has %s",
				    h->crlnum[k][0], h->crlnum[k][1], num);
			else if (h->ephemeral && k != CA_KIND_ROOT)
				hx_pass(h, name, "%s then %s; next %s",
				    h->crlnum[k][0], h->crlnum[k][1], buf);
			else
				hx_pass(h, name, "%s; next %s", num, buf);
		}
		free(buf);
		buf = NULL;
		free(p);
		p = NULL;
	} else if (num[0] == '\0')
		hx_fail(h, name, "'%s' has no cRLNumber", path);
	else
		hx_pass(h, name, "%s", num);

	/* crl.der is the same CRL. */
	if (ca != NULL) {
		gnutls_datum_t der = { NULL, 0 };
		size_t len = 0;
		snprintf(name, sizeof(name), "%s crl.der", label);
		if ((p = ca_path(ca, "crl.der")) == NULL) {
			ret = CA_ENOMEM;
			goto out;
		}
		memset(&e, 0, sizeof(e));
		if (!ca_file_exists(p))
			hx_skip(h, name, "no '%s'", p);
		else if (ca_file_read(&buf, &len, p, 256u * 1024 * 1024, &e) != 0)
			hx_fail(h, name, "%s", e.msg);
		else if (gnutls_x509_crl_export2(crl, GNUTLS_X509_FMT_DER,
		    &der) < 0 || der.size != len ||
		    memcmp(der.data, buf, len) != 0)
			hx_fail(h, name, "'%s' is not crl.pem in DER", p);
		else
			hx_pass(h, name, "the same CRL as crl.pem");
		gnutls_free(der.data);
		free(buf);
		buf = NULL;
		free(p);
		p = NULL;
	}

	/* Every revocation of the database, with its reason; nothing else. */
	if (db != NULL) {
		const char *problem = NULL;
		char why[300] = "";
		snprintf(name, sizeof(name), "%s CRL entries", label);
		memset(&e, 0, sizeof(e));
		if (hx_crl_entries(&ents, &nents, crl, &e) != 0) {
			hx_fail(h, name, "%s", e.msg);
			goto verify;
		}
		for (i = 0; i < db->n && problem == NULL; i++) {
			const struct ca_db_entry *d = &db->v[i];
			int want;
			if (d->status != 'R')
				continue;
			nrev++;
			want = d->reason == CA_REASON_UNSPECIFIED ? -1 :
			    (int)d->reason;
			for (j = 0; j < nents; j++)
				if (same_hex(ents[j].serial, d->serial))
					break;
			if (j == nents) {
				problem = "missing";
				snprintf(why, sizeof(why), "serial %s ('%s', %s) is "
				    "revoked in the database but not on the CRL",
				    d->serial, d->name, ca_reason_name(d->reason));
			} else if (ents[j].reason != want) {
				problem = "reason";
				snprintf(why, sizeof(why), "serial %s: reason %d on "
				    "the CRL, %s in the database", d->serial,
				    ents[j].reason, ca_reason_name(d->reason));
			} else if (ents[j].revoked_at != d->revoked_at) {
				problem = "date";
				snprintf(why, sizeof(why), "serial %s: revocation "
				    "date differs from the database", d->serial);
			}
		}
		for (j = 0; j < nents && problem == NULL; j++) {
			struct ca_db_entry *d = ca_db_find_serial(db,
			    ents[j].serial);
			if (d == NULL || d->status != 'R') {
				problem = "extra";
				snprintf(why, sizeof(why), "serial %s is on the CRL "
				    "but %s", ents[j].serial, d == NULL ? "not in "
				    "the database" : "valid in the database");
			}
		}
		if (problem != NULL)
			hx_fail(h, name, "%s", why);
		else
			hx_pass(h, name, "%zu revoked, each listed with its "
			    "reason", nrev);
	}

verify:
	/* A revoked certificate of this CA fails verification with the
	 * CRL; a current one passes. */
	if (db != NULL && ca != NULL && h->root != NULL) {
		gnutls_x509_crt_t inter = k == CA_KIND_ROOT ? NULL : crt;
		size_t tried = 0, refused = 0;
		char first[1400] = "";
		snprintf(name, sizeof(name), "revoked %s certificates refused",
		    label);
		for (i = 0; i < db->n; i++) {
			const struct ca_db_entry *d = &db->v[i];
			gnutls_x509_crt_t c = NULL;
			if (d->status != 'R' || d->not_after <= h->now ||
			    hx_load_issued(&c, ca, d->serial, NULL) != 0)
				continue;
			tried++;
			memset(&e, 0, sizeof(e));
			if (ca_verify_chain(c, inter ? &inter : NULL, inter ? 1 : 0,
			    &h->root, 1, &crl, 1, NULL, h->now, &e) != 0 &&
			    strstr(e.msg, "is revoked") != NULL)
				refused++;
			else if (first[0] == '\0')
				snprintf(first, sizeof(first), "serial %s ('%s') %s",
				    d->serial, d->name, e.msg[0] ? e.msg :
				    "verifies");
			gnutls_x509_crt_deinit(c);
		}
		if (tried == 0)
			hx_skip(h, name, "nothing revoked that has not expired");
		else if (refused == tried)
			hx_pass(h, name, "%zu revoked certificate%s fail%s "
			    "verification with the CRL", tried, tried == 1 ? "" :
			    "s", tried == 1 ? "s" : "");
		else
			hx_fail(h, name, "%s", first);

		/* A current one still verifies with it. */
		snprintf(name, sizeof(name), "current %s certificate with the "
		    "CRL", label);
		for (i = db->n, tried = 0; i-- > 0 && tried == 0;) {
			const struct ca_db_entry *d = &db->v[i];
			gnutls_x509_crt_t c = NULL;
			if (d->status != 'V' || d->not_after <= h->now ||
			    hx_load_issued(&c, ca, d->serial, NULL) != 0)
				continue;
			tried++;
			memset(&e, 0, sizeof(e));
			if (ca_verify_chain(c, inter ? &inter : NULL, inter ? 1 : 0,
			    &h->root, 1, &crl, 1, NULL, h->now, &e) == 0)
				hx_pass(h, name, "serial %s ('%s') verifies with "
				    "the CRL", d->serial, d->name);
			else
				hx_fail(h, name, "serial %s ('%s'): %s", d->serial,
				    d->name, e.msg);
			gnutls_x509_crt_deinit(c);
		}
		if (tried == 0)
			hx_skip(h, name, "no current certificate");
	}
out:
	free(ents);
	free(buf);
	free(p);
	gnutls_x509_crl_deinit(crl);
	return ret;
}

/* The root's CRL where the root is not: as published (monitor.root_crl)
 * and as each intermediate took it for its CRL bundle (root-crl.pem). */
static int
root_crl_copies(struct hx *h, int *any)
{
	enum ca_kind k;
	char label[64], *p;
	int ret = 0;

	*any = 0;
	if (h->root == NULL)
		return 0;
	if (h->conf.monitor.root_crl != NULL) {
		*any = 1;
		if ((ret = crl_checks(h, CA_KIND_ROOT, "published root",
		    h->conf.monitor.root_crl, h->root, NULL, NULL)) != 0)
			return ret;
	}
	for (k = CA_KIND_SERVER; k <= CA_KIND_CLIENT && ret == 0; k++) {
		if (h->ca[k] == NULL)
			continue;
		if ((p = ca_path(h->ca[k], "root-crl.pem")) == NULL)
			return CA_ENOMEM;
		if (ca_file_exists(p)) {
			*any = 1;
			snprintf(label, sizeof(label), "%s's copy of the root",
			    hx_kind(k));
			ret = crl_checks(h, CA_KIND_ROOT, label, p, h->root, NULL,
			    NULL);
		}
		free(p);
	}
	return ret;
}

int
hx_crl(struct hx *h)
{
	struct ca_err e = { 0 };
	enum ca_kind k;
	int ret = 0, any;

	for (k = 0; k < CA_KIND__MAX && ret == 0; k++) {
		const char *dirs[CA_KIND__MAX] = { h->conf.root_dir,
			h->conf.server_dir, h->conf.client_dir };
		struct ca_db *db = NULL;
		char name[64], *p;

		snprintf(name, sizeof(name), "%s CRL", hx_kind(k));
		if (h->ca[k] == NULL || h->ca[k]->crt == NULL) {
			if (dirs[k] != NULL)
				hx_fail(h, name, "%s", h->ca[k] == NULL ?
				    h->ca_err[k].msg : "the CA has no certificate");
			else if (k == CA_KIND_ROOT) {
				if ((ret = root_crl_copies(h, &any)) != 0)
					break;
				if (!any)
					hx_skip(h, name, "no root directory, no "
					    "monitor.root_crl and no root-crl.pem here");
			} else
				hx_skip(h, name, "no %s.dir in the configuration",
				    hx_kind(k));
			continue;
		}
		memset(&e, 0, sizeof(e));
		if (ca_list(&db, h->ca[k], &e) != 0) {
			hx_fail(h, name, "%s", e.msg);
			continue;
		}
		if ((p = ca_path(h->ca[k], "crl.pem")) == NULL) {
			ca_db_free(db);
			return CA_ENOMEM;
		}
		ret = crl_checks(h, k, hx_kind(k), p, h->ca[k]->crt, h->ca[k],
		    db);
		free(p);
		ca_db_free(db);
		/* The copies too, where the root is here as well. */
		if (ret == 0 && k == CA_KIND_ROOT &&
		    (ret = root_crl_copies(h, &any)) != 0)
			break;
	}
	return ret;
}

/* ---- security ---------------------------------------------------------- */

/* NULL when crt's key and signature are within policy, else why. */
static const char *
crt_policy(char *buf, size_t len, gnutls_x509_crt_t crt)
{
	gnutls_pubkey_t pub = NULL;
	struct ca_err e = { 0 };
	int sig = gnutls_x509_crt_get_signature_algorithm(crt);
	gnutls_digest_algorithm_t hash;

	if (gnutls_pubkey_init(&pub) < 0 ||
	    gnutls_pubkey_import_x509(pub, crt, 0) < 0) {
		if (pub != NULL)
			gnutls_pubkey_deinit(pub);
		snprintf(buf, len, "unreadable public key");
		return buf;
	}
	if (ca_pubkey_check_policy(pub, "key", &e) != 0) {
		gnutls_pubkey_deinit(pub);
		snprintf(buf, len, "%s", e.msg);
		return buf;
	}
	gnutls_pubkey_deinit(pub);
	if (sig < 0) {
		snprintf(buf, len, "unknown signature algorithm");
		return buf;
	}
	hash = gnutls_sign_get_hash_algorithm((gnutls_sign_algorithm_t)sig);
	/* SHA-256 or stronger (EdDSA hashes inside: SHA-512, SHAKE256). */
	if (!gnutls_sign_is_secure((gnutls_sign_algorithm_t)sig) ||
	    (hash != GNUTLS_DIG_SHA256 && hash != GNUTLS_DIG_SHA384 &&
	    hash != GNUTLS_DIG_SHA512 && hash != GNUTLS_DIG_SHA3_256 &&
	    hash != GNUTLS_DIG_SHA3_384 && hash != GNUTLS_DIG_SHA3_512 &&
	    hash != GNUTLS_DIG_SHAKE_256 && hash != GNUTLS_DIG_UNKNOWN)) {
		snprintf(buf, len, "signature algorithm %s",
		    gnutls_sign_get_name((gnutls_sign_algorithm_t)sig) ?
		    gnutls_sign_get_name((gnutls_sign_algorithm_t)sig) : "?");
		return buf;
	}
	if (hash == GNUTLS_DIG_UNKNOWN &&
	    gnutls_sign_get_pk_algorithm((gnutls_sign_algorithm_t)sig) !=
	    GNUTLS_PK_EDDSA_ED25519 &&
	    gnutls_sign_get_pk_algorithm((gnutls_sign_algorithm_t)sig) !=
	    GNUTLS_PK_EDDSA_ED448) {
		snprintf(buf, len, "signature algorithm without a known hash");
		return buf;
	}
	return NULL;
}

static void
describe(char *buf, size_t len, gnutls_x509_crt_t crt)
{
	gnutls_pubkey_t pub = NULL;
	char k[32] = "?";
	int sig = gnutls_x509_crt_get_signature_algorithm(crt);
	const char *sn = sig >= 0 ?
	    gnutls_sign_get_name((gnutls_sign_algorithm_t)sig) : NULL;

	if (gnutls_pubkey_init(&pub) >= 0) {
		if (gnutls_pubkey_import_x509(pub, crt, 0) >= 0)
			ca_pubkey_describe(k, sizeof(k), pub);
		gnutls_pubkey_deinit(pub);
	}
	snprintf(buf, len, "%s, signed %s", k, sn ? sn : "?");
}

/* 1 when path is a directory (not a link) of exactly mode. */
static int
dir_mode(const char *path, mode_t mode, char *why, size_t len)
{
	struct stat st;

	if (lstat(path, &st) != 0) {
		snprintf(why, len, "'%s': %s", path, strerror(errno));
		return 0;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(why, len, "'%s' is not a directory", path);
		return 0;
	}
	if ((st.st_mode & 07777) != mode) {
		snprintf(why, len, "'%s' is mode %04o, want %04o", path,
		    (unsigned)(st.st_mode & 07777), (unsigned)mode);
		return 0;
	}
	return 1;
}

/* 1 when path is a regular file (not a link) of mode 0600 or 0400. */
static int
key_mode(const char *path, char *why, size_t len)
{
	struct stat st;
	mode_t m;

	if (lstat(path, &st) != 0) {
		snprintf(why, len, "'%s': %s", path, strerror(errno));
		return 0;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, len, "'%s' is not a regular file", path);
		return 0;
	}
	m = st.st_mode & 07777;
	if (m != 0600 && m != 0400) {
		snprintf(why, len, "'%s' is mode %04o, want 0600", path,
		    (unsigned)m);
		return 0;
	}
	return 1;
}

/* issued/ and every issued/NAME/ 0700, every key.pem 0600. */
static int
issued_modes(struct ca *ca, size_t *nkeys, char *why, size_t len)
{
	char *issued = ca_path(ca, "issued"), *p = NULL;
	struct dirent *de;
	DIR *d = NULL;
	int ok = 0;

	*nkeys = 0;
	if (issued == NULL) {
		snprintf(why, len, "out of memory");
		return 0;
	}
	if (!dir_mode(issued, 0700, why, len))
		goto out;
	if ((d = opendir(issued)) == NULL) {
		snprintf(why, len, "'%s': %s", issued, strerror(errno));
		goto out;
	}
	while ((de = readdir(d)) != NULL) {
		struct stat st;
		if (de->d_name[0] == '.')
			continue;
		free(p);
		if ((p = ca_path_join(issued, de->d_name)) == NULL) {
			snprintf(why, len, "out of memory");
			goto out;
		}
		if (lstat(p, &st) != 0 || !S_ISDIR(st.st_mode))
			continue;
		if (!dir_mode(p, 0700, why, len))
			goto out;
		free(p);
		if (asprintf(&p, "%s/%s/key.pem", issued, de->d_name) < 0) {
			p = NULL;
			snprintf(why, len, "out of memory");
			goto out;
		}
		if (!ca_file_exists(p))
			continue; /* signed from a CSR: no key here */
		if (!key_mode(p, why, len))
			goto out;
		(*nkeys)++;
	}
	ok = 1;
out:
	if (d != NULL)
		closedir(d);
	free(p);
	free(issued);
	return ok;
}

/* Regular files holding a PEM private key under dir, outside the
 * subtrees named in allowed; the first found into why. Links are not
 * followed. */
static int
stray_keys(const char *dir, int depth, const char *const *allowed,
    size_t *nfiles, char *why, size_t len)
{
	struct dirent *de;
	DIR *d;
	int found = 0;

	if (depth > 8 || (d = opendir(dir)) == NULL)
		return 0;
	while (!found && (de = readdir(d)) != NULL) {
		struct stat st;
		char *p, *buf = NULL;
		size_t i, n = 0;
		int skip = 0;
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if ((p = ca_path_join(dir, de->d_name)) == NULL)
			break;
		for (i = 0; allowed != NULL && allowed[i] != NULL; i++)
			if (strcmp(p, allowed[i]) == 0)
				skip = 1;
		if (skip || lstat(p, &st) != 0) {
			free(p);
			continue;
		}
		if (S_ISDIR(st.st_mode))
			found = stray_keys(p, depth + 1, allowed, nfiles, why, len);
		else if (S_ISREG(st.st_mode) && st.st_size <= 4 * 1024 * 1024 &&
		    ca_file_read(&buf, &n, p, 4u * 1024 * 1024, NULL) == 0) {
			(*nfiles)++;
			if (memmem(buf, n, "PRIVATE KEY-----", 16) != NULL) {
				snprintf(why, len, "'%s' holds a private key", p);
				found = 1;
			}
			gnutls_memset(buf, 0, n);
			free(buf);
		}
		free(p);
	}
	closedir(d);
	return found;
}

static int
root_key_checks(struct hx *h)
{
	struct ca *root = h->ca[CA_KIND_ROOT];
	gnutls_datum_t d = { NULL, 0 };
	struct ca_err e = { 0 };
	unsigned schema = 0, cipher = 0, salt_size = 0, iter = 0;
	unsigned char salt[128];
	char *p, *oid = NULL;
	int ret;

	if ((p = ca_path(root, "private/ca.key")) == NULL)
		return CA_ENOMEM;
	salt_size = sizeof(salt);
	if (ca_datum_read(&d, p, CA_MAX_FILE, &e) != 0)
		hx_fail(h, "root key encrypted", "%s", e.msg);
	else if ((ret = gnutls_pkcs8_info(&d, GNUTLS_X509_FMT_PEM, &schema,
	    &cipher, salt, &salt_size, &iter, &oid)) < 0)
		hx_fail(h, "root key encrypted", "'%s' is not an encrypted "
		    "PKCS#8 key (%s)", p, gnutls_strerror(ret));
	else if (schema != GNUTLS_PKCS_PBES2_AES_256 ||
	    cipher != GNUTLS_CIPHER_AES_256_CBC)
		hx_fail(h, "root key encrypted", "'%s' is encrypted with %s, "
		    "not PBES2 AES-256", p,
		    gnutls_cipher_get_name((gnutls_cipher_algorithm_t)cipher) ?
		    gnutls_cipher_get_name((gnutls_cipher_algorithm_t)cipher) :
		    "an unknown cipher");
	else if (iter < 10000)
		hx_fail(h, "root key encrypted", "'%s': PBKDF2 with only %u "
		    "iterations", p, iter);
	else
		hx_pass(h, "root key encrypted", "PKCS#8 PBES2 AES-256-CBC, "
		    "PBKDF2 %u iterations", iter);
	gnutls_free(oid);
	if (d.data != NULL) {
		gnutls_memset(d.data, 0, d.size);
		free(d.data);
	}
	/* The harness knows its passphrase: the key opens with it, matches
	 * the root, and does not open with another. */
	if (h->ephemeral && h->pass.buf != NULL) {
		gnutls_x509_privkey_t k = NULL;
		struct ca_secret wrong = { (char *)"not the passphrase at all",
			25 };
		memset(&e, 0, sizeof(e));
		if (ca_key_load(&k, p, &h->pass, &e) != 0)
			hx_fail(h, "root key passphrase", "%s", e.msg);
		else if (!ca_cert_matches_key(root->crt, k))
			hx_fail(h, "root key passphrase", "'%s' does not match "
			    "the root certificate", p);
		else {
			gnutls_x509_privkey_deinit(k);
			k = NULL;
			memset(&e, 0, sizeof(e));
			if (ca_key_load(&k, p, &wrong, &e) == CA_EPASS)
				hx_pass(h, "root key passphrase", "opens with its "
				    "passphrase only, and matches the root");
			else
				hx_fail(h, "root key passphrase", "a wrong "
				    "passphrase %s", k != NULL ? "opens it" :
				    e.msg);
		}
		if (k != NULL)
			gnutls_x509_privkey_deinit(k);
	}
	free(p);
	return 0;
}

int
hx_security(struct hx *h)
{
	struct ca_err e = { 0 };
	char name[200], why[1200], desc[128];
	enum ca_kind k;
	size_t i;
	int ret = 0;

	/* Algorithms, key sizes and signature hashes. */
	if (h->root != NULL) {
		describe(desc, sizeof(desc), h->root);
		if (crt_policy(why, sizeof(why), h->root) == NULL)
			hx_pass(h, "root certificate algorithms", "%s", desc);
		else
			hx_fail(h, "root certificate algorithms", "%s", why);
	}
	for (k = 0; k < CA_KIND__MAX; k++) {
		struct ca *ca = h->ca[k];
		struct ca_db *db = NULL;
		struct leaf *lv = NULL;
		size_t nl = 0, nbad = 0, nkeys = 0;
		char bad[1100], first[1200] = "", *p = NULL;

		if (ca == NULL) {
			const char *dirs[CA_KIND__MAX] = { h->conf.root_dir,
				h->conf.server_dir, h->conf.client_dir };
			snprintf(name, sizeof(name), "%s CA", hx_kind(k));
			if (dirs[k] != NULL)
				hx_fail(h, name, "%s", h->ca_err[k].msg);
			continue;
		}
		if (ca->crt != NULL && k != CA_KIND_ROOT) {
			snprintf(name, sizeof(name), "%s certificate algorithms",
			    hx_kind(k));
			describe(desc, sizeof(desc), ca->crt);
			if (crt_policy(why, sizeof(why), ca->crt) == NULL)
				hx_pass(h, name, "%s", desc);
			else
				hx_fail(h, name, "%s", why);
		}
		/* Every current certificate it issued. */
		if (k != CA_KIND_ROOT && ca_list(&db, ca, NULL) == 0) {
			if ((ret = current_leaves(&lv, &nl, ca, db, h->now, bad,
			    sizeof(bad))) != 0) {
				ca_db_free(db);
				return ret;
			}
			for (i = 0; i < nl; i++)
				if (crt_policy(why, sizeof(why), lv[i].crt) != NULL &&
				    nbad++ == 0)
					snprintf(first, sizeof(first), "'%.64s' (serial "
					    "%s): %.1000s", lv[i].e->name, lv[i].e->serial,
					    why);
			snprintf(name, sizeof(name), "%s leaf algorithms",
			    hx_kind(k));
			if (nbad > 0)
				hx_fail(h, name, "%zu of %zu: %s", nbad, nl, first);
			else if (nl > 0)
				hx_pass(h, name, "%zu current certificate%s, keys and "
				    "signatures within policy", nl, nl == 1 ? "" :
				    "s");
			else
				hx_skip(h, name, "no current certificate");
			leaves_free(lv, nl);
			ca_db_free(db);
		}
		/* Its CRL's signature. */
		if ((p = ca_path(ca, "crl.pem")) == NULL)
			return CA_ENOMEM;
		if (ca_file_exists(p)) {
			gnutls_x509_crl_t crl = NULL;
			snprintf(name, sizeof(name), "%s CRL signature", hx_kind(k));
			memset(&e, 0, sizeof(e));
			if (ca_crl_load(&crl, p, &e) != 0)
				hx_fail(h, name, "%s", e.msg);
			else {
				int sig = gnutls_x509_crl_get_signature_algorithm(crl);
				gnutls_digest_algorithm_t hh = sig < 0 ? 0 :
				    gnutls_sign_get_hash_algorithm(
				    (gnutls_sign_algorithm_t)sig);
				if (sig >= 0 && gnutls_sign_is_secure(
				    (gnutls_sign_algorithm_t)sig) &&
				    hh != GNUTLS_DIG_SHA1 && hh != GNUTLS_DIG_MD5 &&
				    hh != GNUTLS_DIG_SHA224)
					hx_pass(h, name, "%s", gnutls_sign_get_name(
					    (gnutls_sign_algorithm_t)sig));
				else
					hx_fail(h, name, "signature algorithm %s",
					    sig >= 0 && gnutls_sign_get_name(
					    (gnutls_sign_algorithm_t)sig) ?
					    gnutls_sign_get_name(
					    (gnutls_sign_algorithm_t)sig) : "?");
				gnutls_x509_crl_deinit(crl);
			}
		}
		free(p);

		/* The CA key: 0600 in a 0700 private/. */
		snprintf(name, sizeof(name), "%s key permissions", hx_kind(k));
		if ((p = ca_path(ca, "private")) == NULL)
			return CA_ENOMEM;
		if (dir_mode(p, 0700, why, sizeof(why))) {
			free(p);
			if ((p = ca_path(ca, "private/ca.key")) == NULL)
				return CA_ENOMEM;
			if (key_mode(p, why, sizeof(why)))
				hx_pass(h, name, "private/ 0700, private/ca.key "
				    "0600");
			else
				hx_fail(h, name, "%s", why);
		} else
			hx_fail(h, name, "%s", why);
		free(p);

		/* The intermediate's own key: within policy, its
		 * certificate's. (The root's is encrypted: below.) */
		if (k != CA_KIND_ROOT) {
			gnutls_x509_privkey_t xk = NULL;
			snprintf(name, sizeof(name), "%s key", hx_kind(k));
			if ((p = ca_path(ca, "private/ca.key")) == NULL)
				return CA_ENOMEM;
			memset(&e, 0, sizeof(e));
			if (ca_key_file_encrypted(p, NULL) == 1)
				hx_skip(h, name, "encrypted: not opened");
			else if (hx_key_read(&xk, p, &e) != 0)
				hx_fail(h, name, "%s", e.msg);
			else if (ca->crt == NULL || !ca_cert_matches_key(ca->crt,
			    xk))
				hx_fail(h, name, "'%s' is not the key of the %s "
				    "certificate", p, hx_kind(k));
			else
				hx_pass(h, name, "matches the %s certificate",
				    hx_kind(k));
			if (xk != NULL)
				gnutls_x509_privkey_deinit(xk);
			free(p);

			snprintf(name, sizeof(name), "%s issued key permissions",
			    hx_kind(k));
			if (issued_modes(ca, &nkeys, why, sizeof(why)))
				hx_pass(h, name, "issued/ and its directories 0700, "
				    "%zu key%s 0600", nkeys, nkeys == 1 ? "" : "s");
			else
				hx_fail(h, name, "%s", why);
		}

		/* No private key anywhere else in the CA directory. */
		{
			char *priv = ca_path(ca, "private");
			char *iss = ca_path(ca, "issued");
			const char *allowed[] = { priv, iss, NULL };
			size_t nfiles = 0;
			if (priv == NULL || iss == NULL) {
				free(priv);
				free(iss);
				return CA_ENOMEM;
			}
			snprintf(name, sizeof(name), "%s: no stray private keys",
			    hx_kind(k));
			if (stray_keys(ca->dir, 0, allowed, &nfiles, why,
			    sizeof(why)))
				hx_fail(h, name, "%s (keys belong in private/ or "
				    "issued/)", why);
			else
				hx_pass(h, name, "%zu files outside private/ and "
				    "issued/, none holds a private key", nfiles);
			free(priv);
			free(iss);
		}
	}

	/* The root key is encrypted (where the root is). */
	if (h->ca[CA_KIND_ROOT] != NULL) {
		if ((ret = root_key_checks(h)) != 0)
			return ret;
	} else
		hx_skip(h, "root key encrypted", "no root directory here (the "
		    "root is offline)");

	/* Templates are deployed as they are: none may hold a key. */
	if (h->conf.templates != NULL) {
		size_t nfiles = 0;
		if (stray_keys(h->conf.templates, 0, NULL, &nfiles, why,
		    sizeof(why)))
			hx_fail(h, "templates: no private keys", "%s", why);
		else
			hx_pass(h, "templates: no private keys", "%zu files, none "
			    "holds a private key", nfiles);
	}

	/* Installed keys: at most 0640, so never readable by others. */
	if (h->tpls_ok) {
		size_t n = 0;
		const char *bad = NULL;
		struct stat st;
		for (i = 0; i < h->tpls.n && bad == NULL; i++) {
			const char *p = h->tpls.v[i].install.key;
			if (p == NULL || stat(p, &st) != 0)
				continue;
			n++;
			if ((st.st_mode & 0137) != 0) {
				snprintf(why, sizeof(why), "'%s' is mode %04o (at "
				    "most 0640)", p, (unsigned)(st.st_mode & 07777));
				bad = why;
			}
		}
		if (bad != NULL)
			hx_fail(h, "installed key permissions", "%s", bad);
		else if (n > 0)
			hx_pass(h, "installed key permissions", "%zu installed "
			    "key%s, none readable by others", n, n == 1 ? "" : "s");
		else
			hx_skip(h, "installed key permissions", "no template "
			    "installs a key");
	}
	return 0;
}
