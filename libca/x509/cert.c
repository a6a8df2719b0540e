/*
 * cert.c - loading and describing certificates, serials, and building a
 * certificate from a profile (ca_cert_issue).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "x509/x509-int.h"

gnutls_x509_crt_fmt_t
ca_fmt_of(const gnutls_datum_t *d)
{
	return memmem(d->data, d->size, "-----BEGIN", 10) != NULL ?
	    GNUTLS_X509_FMT_PEM : GNUTLS_X509_FMT_DER;
}

int
ca_cert_load(gnutls_x509_crt_t *out, const char *path, struct ca_err *err)
{
	gnutls_x509_crt_t c = NULL;
	gnutls_datum_t d;
	int ret;

	*out = NULL;
	if ((ret = ca_datum_read(&d, path, CA_MAX_FILE, err)) != 0)
		return ret;
	if ((ret = gnutls_x509_crt_init(&c)) < 0) {
		free(d.data);
		return ca_gnutls_err(err, ret, "cannot load '%s'", path);
	}
	ret = gnutls_x509_crt_import(c, &d, ca_fmt_of(&d));
	free(d.data);
	if (ret < 0) {
		gnutls_x509_crt_deinit(c);
		return ca_gnutls_err(err, ret, "cannot parse certificate '%s'",
		    path);
	}
	*out = c;
	return 0;
}

/* One DER tag and length at *p (single-byte tags, definite lengths up
 * to 2^32-1): the content's start and size, bounded by end. */
static int
der_next(const unsigned char **p, const unsigned char *end,
    unsigned char *tag, size_t *len)
{
	const unsigned char *q = *p;
	size_t n = 0, k;

	if (end - q < 2)
		return -1;
	*tag = *q++;
	if (*q < 0x80)
		n = *q++;
	else {
		k = *q++ & 0x7f;
		if (k == 0 || k > 4 || (size_t)(end - q) < k)
			return -1;
		while (k-- > 0)
			n = n << 8 | *q++;
	}
	if ((size_t)(end - q) < n)
		return -1;
	*p = q;
	*len = n;
	return 0;
}

/* A DER UTCTime or GeneralizedTime at p (the content of tag). */
static int
der_time(time_t *out, unsigned char tag, const unsigned char *p, size_t l)
{
	char s[16];

	if ((tag != 0x17 || l != 13) && (tag != 0x18 || l != 15))
		return -1;
	memcpy(s, p, l);
	s[l] = '\0';
	return ca_time_parse_asn1(out, s) == 0 ? 0 : -1;
}

int
ca_cert_peek(struct ca_cert_peek *out, const unsigned char *data, size_t n)
{
	gnutls_datum_t in = { (unsigned char *)data, (unsigned)n };
	gnutls_datum_t der = { NULL, 0 };
	const unsigned char *p, *end, *tbs_end, *v;
	unsigned char tag;
	size_t l, vl, i = 0;
	int ret = CA_EINVAL;

	memset(out, 0, sizeof(*out));
	if (n > CA_MAX_FILE)
		return CA_EINVAL;
	if (ca_fmt_of(&in) == GNUTLS_X509_FMT_PEM) {
		if (gnutls_pem_base64_decode2("CERTIFICATE", &in, &der) < 0)
			return CA_EINVAL;
		p = der.data;
		end = der.data + der.size;
	} else {
		p = data;
		end = data + n;
	}
	/* Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm,
	 * signatureValue }, spanning the whole DER; tbsCertificate ::=
	 * SEQUENCE { [0] version OPTIONAL, serialNumber INTEGER, signature
	 * AlgorithmIdentifier, issuer Name, validity SEQUENCE { notBefore,
	 * notAfter }, ... }. */
	if (der_next(&p, end, &tag, &l) != 0 || tag != 0x30 || p + l != end)
		goto out;
	if (der_next(&p, end, &tag, &l) != 0 || tag != 0x30)
		goto out;
	tbs_end = p + l;
	/* What follows the TBS: the algorithm and the signature, nothing
	 * else. */
	{
		const unsigned char *q = tbs_end;
		if (der_next(&q, end, &tag, &vl) != 0 || tag != 0x30)
			goto out;
		q += vl;
		if (der_next(&q, end, &tag, &vl) != 0 || tag != 0x03 ||
		    q + vl != end)
			goto out;
	}
	end = tbs_end;
	if (der_next(&p, end, &tag, &l) != 0)
		goto out;
	if (tag == 0xa0) {
		p += l;
		if (der_next(&p, end, &tag, &l) != 0)
			goto out;
	}
	if (tag != 0x02 || l == 0 || l > 21)
		goto out;
	while (i + 1 < l && p[i] == 0)
		i++;
	ca_hex(out->serial, p + i, l - i, 1);
	p += l;
	/* signature, issuer: skipped. */
	if (der_next(&p, end, &tag, &l) != 0 || tag != 0x30)
		goto out;
	p += l;
	if (der_next(&p, end, &tag, &l) != 0 || tag != 0x30)
		goto out;
	p += l;
	if (der_next(&p, end, &tag, &l) != 0 || tag != 0x30)
		goto out;
	end = p + l;
	if (der_next(&p, end, &tag, &vl) != 0)
		goto out;
	v = p;
	if (der_time(&out->not_before, tag, v, vl) != 0)
		goto out;
	p += vl;
	if (der_next(&p, end, &tag, &vl) != 0 || p + vl != end ||
	    der_time(&out->not_after, tag, p, vl) != 0)
		goto out;
	ret = 0;
out:
	if (ret != 0)
		memset(out, 0, sizeof(*out));
	gnutls_free(der.data);
	return ret;
}

int
ca_cert_export_pem(gnutls_datum_t *out, gnutls_x509_crt_t crt,
    struct ca_err *err)
{
	int ret;

	if ((ret = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, out)) < 0)
		return ca_gnutls_err(err, ret, "cannot export a certificate");
	return 0;
}

int
ca_cert_serial_hex(char *buf, size_t len, gnutls_x509_crt_t crt)
{
	unsigned char s[64];
	size_t n = sizeof(s), i = 0;

	if (gnutls_x509_crt_get_serial(crt, s, &n) < 0)
		return CA_ECRYPTO;
	while (i + 1 < n && s[i] == 0)
		i++;
	if (2 * (n - i) + 1 > len)
		return CA_EINVAL;
	ca_hex(buf, s + i, n - i, 1);
	return 0;
}

int
ca_serial_random(struct ca_serial *out, struct ca_err *err)
{
	unsigned char r[16];
	size_t i = 0;
	int ret;

	/* 128 bits from the CSPRNG, as a positive minimal DER INTEGER:
	 * leading zero bytes dropped, a 0x00 prepended when the top bit is
	 * set, so every one of the 128 bits stays random. */
	if ((ret = gnutls_rnd(GNUTLS_RND_RANDOM, r, sizeof(r))) < 0)
		return ca_gnutls_err(err, ret, "cannot draw a serial number");
	while (i < sizeof(r) - 1 && r[i] == 0)
		i++;
	out->len = 0;
	if (r[i] & 0x80)
		out->b[out->len++] = 0;
	memcpy(out->b + out->len, r + i, sizeof(r) - i);
	out->len += sizeof(r) - i;
	ca_hex(out->hex, r + i, sizeof(r) - i, 1);
	return 0;
}

int
ca_serial_from_hex(struct ca_serial *out, const char *hex)
{
	unsigned char mag[21];
	size_t n = strlen(hex), nb, i, j = 0;

	/* At most 20 octets of magnitude (RFC 5280 allows 20 in all; a
	 * sign byte on top is tolerated from other writers). */
	if (n == 0 || n > 40)
		return CA_EINVAL;
	nb = (n + 1) / 2;
	memset(mag, 0, sizeof(mag));
	for (i = 0; i < n; i++) {
		int v;
		char c = hex[i];
		if (c >= '0' && c <= '9')
			v = c - '0';
		else if (c >= 'a' && c <= 'f')
			v = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v = c - 'A' + 10;
		else
			return CA_EINVAL;
		/* An odd count puts the first digit in a low nibble. */
		j = (i + (n & 1)) / 2;
		if ((i + (n & 1)) % 2 == 0)
			mag[j] |= (unsigned char)(v << 4);
		else
			mag[j] |= (unsigned char)v;
	}
	i = 0;
	while (i + 1 < nb && mag[i] == 0)
		i++;
	out->len = 0;
	if (mag[i] & 0x80)
		out->b[out->len++] = 0;
	if (out->len + nb - i > sizeof(out->b))
		return CA_EINVAL;
	memcpy(out->b + out->len, mag + i, nb - i);
	out->len += nb - i;
	ca_hex(out->hex, mag + i, nb - i, 1);
	return 0;
}

/* The subject in OpenSSL's oneline form, RDNs in DER order. Tabs and
 * newlines cannot appear in an index.txt field, so they become '?'. */
int
ca_cert_subject_oneline(char **out, gnutls_x509_crt_t crt)
{
	gnutls_x509_dn_t dn;
	gnutls_x509_ava_st ava;
	size_t cap = 256, len = 0;
	char *s, *ns;
	int i, j;

	*out = NULL;
	if (gnutls_x509_crt_get_subject(crt, &dn) < 0)
		return CA_ECRYPTO;
	if ((s = malloc(cap)) == NULL)
		return CA_ENOMEM;
	s[0] = '\0';
	for (i = 0;; i++) {
		for (j = 0;; j++) {
			const char *name;
			size_t need;
			unsigned k;

			if (gnutls_x509_dn_get_rdn_ava(dn, i, j, &ava) < 0)
				break;
			name = gnutls_x509_dn_oid_name((const char *)ava.oid.data,
			    GNUTLS_X509_DN_OID_RETURN_OID);
			need = len + strlen(name) + ava.value.size + 4;
			if (need > cap) {
				cap = need * 2;
				if ((ns = realloc(s, cap)) == NULL) {
					free(s);
					return CA_ENOMEM;
				}
				s = ns;
			}
			s[len++] = j == 0 ? '/' : '+';
			len += (size_t)sprintf(s + len, "%s=", name);
			for (k = 0; k < ava.value.size; k++) {
				char c = (char)ava.value.data[k];
				s[len++] = (c == '\t' || c == '\n' || c == '\r' ||
				    c == '\0') ? '?' : c;
			}
			s[len] = '\0';
		}
		if (j == 0)
			break;
	}
	*out = s;
	return 0;
}

int
ca_cert_subject(char **out, gnutls_x509_crt_t crt)
{
	gnutls_datum_t d = { NULL, 0 };

	*out = NULL;
	if (gnutls_x509_crt_get_dn3(crt, &d, 0) < 0)
		return CA_ECRYPTO;
	*out = strndup((const char *)d.data, d.size);
	gnutls_free(d.data);
	return *out != NULL ? 0 : CA_ENOMEM;
}

int
ca_cert_matches_key(gnutls_x509_crt_t crt, gnutls_x509_privkey_t key)
{
	unsigned char a[64], b[64];
	size_t na = sizeof(a), nb = sizeof(b);

	if (gnutls_x509_crt_get_key_id(crt, GNUTLS_KEYID_USE_SHA256, a, &na) < 0
	    || gnutls_x509_privkey_get_key_id(key, GNUTLS_KEYID_USE_SHA256, b,
	    &nb) < 0)
		return 0;
	return na == nb && memcmp(a, b, na) == 0;
}

int
ca_cert_sha256(char *buf, size_t len, gnutls_x509_crt_t crt)
{
	unsigned char h[32];
	size_t n = sizeof(h);

	if (len < 65 || gnutls_x509_crt_get_fingerprint(crt, GNUTLS_DIG_SHA256,
	    h, &n) < 0)
		return CA_ECRYPTO;
	ca_hex(buf, h, 32, 0);
	return 0;
}

/* ---- building ---------------------------------------------------------- */

static const char *const prof_names[CA_PROF__MAX] = {
	[CA_PROF_ROOT] = "root",
	[CA_PROF_ICA_SERVER] = "server intermediate",
	[CA_PROF_ICA_CLIENT] = "client intermediate",
	[CA_PROF_LEAF_SERVER] = "server",
	[CA_PROF_LEAF_CLIENT] = "client",
};

const char *
ca_profile_name(enum ca_profile p)
{
	return (unsigned)p < CA_PROF__MAX ? prof_names[p] : "?";
}

int
ca_profile_is_ca(enum ca_profile p)
{
	return p == CA_PROF_ROOT || p == CA_PROF_ICA_SERVER ||
	    p == CA_PROF_ICA_CLIENT;
}

const char *
ca_profile_eku(enum ca_profile p)
{
	switch (p) {
	case CA_PROF_ICA_SERVER:
	case CA_PROF_LEAF_SERVER:
		return GNUTLS_KP_TLS_WWW_SERVER;
	case CA_PROF_ICA_CLIENT:
	case CA_PROF_LEAF_CLIENT:
		return GNUTLS_KP_TLS_WWW_CLIENT;
	default:
		return NULL;
	}
}

static int
add_sans(gnutls_x509_crt_t c, const struct ca_cert_req *r, struct ca_err *err)
{
	unsigned char ip[16];
	size_t i;
	int ret;

	for (i = 0; i < r->dns.n; i++) {
		if ((ret = ca_dns_check(r->dns.v[i], 1, err)) != 0)
			return ret;
		ret = gnutls_x509_crt_set_subject_alt_name(c, GNUTLS_SAN_DNSNAME,
		    r->dns.v[i], (unsigned)strlen(r->dns.v[i]),
		    GNUTLS_FSAN_APPEND);
		if (ret < 0)
			return ca_gnutls_err(err, ret, "cannot add DNS name '%s'",
			    r->dns.v[i]);
	}
	for (i = 0; i < r->ip.n; i++) {
		unsigned n;
		if (inet_pton(AF_INET, r->ip.v[i], ip) == 1)
			n = 4;
		else if (inet_pton(AF_INET6, r->ip.v[i], ip) == 1)
			n = 16;
		else
			return ca_err_set(err, CA_EINVAL, "invalid IP address '%s'",
			    r->ip.v[i]);
		ret = gnutls_x509_crt_set_subject_alt_name(c,
		    GNUTLS_SAN_IPADDRESS, ip, n, GNUTLS_FSAN_APPEND);
		if (ret < 0)
			return ca_gnutls_err(err, ret, "cannot add IP '%s'",
			    r->ip.v[i]);
	}
	for (i = 0; i < r->email.n; i++) {
		const char *at = strchr(r->email.v[i], '@');
		if (at == NULL || at == r->email.v[i] ||
		    ca_dns_check(at + 1, 0, NULL) != 0)
			return ca_err_set(err, CA_EINVAL, "invalid email address "
			    "'%s'", r->email.v[i]);
		ret = gnutls_x509_crt_set_subject_alt_name(c,
		    GNUTLS_SAN_RFC822NAME, r->email.v[i],
		    (unsigned)strlen(r->email.v[i]), GNUTLS_FSAN_APPEND);
		if (ret < 0)
			return ca_gnutls_err(err, ret, "cannot add email '%s'",
			    r->email.v[i]);
	}
	return 0;
}

static int
add_name_constraints(gnutls_x509_crt_t c, const struct ca_cert_req *r,
    struct ca_err *err)
{
	gnutls_x509_name_constraints_t nc = NULL;
	gnutls_datum_t d;
	size_t i;
	int ret;

	if (r->permit_dns.n == 0)
		return 0;
	if ((ret = gnutls_x509_name_constraints_init(&nc)) < 0)
		return ca_gnutls_err(err, ret, "cannot build name constraints");
	for (i = 0; i < r->permit_dns.n; i++) {
		const char *s = r->permit_dns.v[i];
		/* RFC 5280 form: "internal", never ".internal" -- strict
		 * verifiers reject the dotted DNS constraint and with it the
		 * whole chain. */
		while (*s == '.')
			s++;
		if ((ret = ca_dns_check(s, 0, err)) != 0) {
			ca_err_wrap(err, "invalid --permit-dns '%s'",
			    r->permit_dns.v[i]);
			goto out;
		}
		d.data = (unsigned char *)(uintptr_t)s;
		d.size = (unsigned)strlen(s);
		ret = gnutls_x509_name_constraints_add_permitted(nc,
		    GNUTLS_SAN_DNSNAME, &d);
		if (ret < 0) {
			ret = ca_gnutls_err(err, ret, "cannot add constraint '%s'",
			    s);
			goto out;
		}
	}
	if ((ret = gnutls_x509_crt_set_name_constraints(c, nc, 1)) < 0) {
		ret = ca_gnutls_err(err, ret, "cannot set name constraints");
		goto out;
	}
	ret = 0;
out:
	gnutls_x509_name_constraints_deinit(nc);
	return ret;
}

static int
set_extensions(gnutls_x509_crt_t c, const struct ca_cert_req *r,
    gnutls_x509_crt_t issuer, struct ca_err *err)
{
	unsigned char id[64];
	size_t idlen = sizeof(id);
	unsigned usage;
	int ret, is_ca = ca_profile_is_ca(r->profile);
	const char *eku = ca_profile_eku(r->profile);

	ret = gnutls_x509_crt_set_basic_constraints(c, is_ca,
	    r->profile == CA_PROF_ROOT || !is_ca ? -1 : 0);
	if (ret < 0)
		return ca_gnutls_err(err, ret, "cannot set basicConstraints");
	if (is_ca)
		usage = GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN;
	else {
		unsigned bits;
		usage = GNUTLS_KEY_DIGITAL_SIGNATURE;
		/* RSA key exchange in TLS 1.2 encrypts to the server key. */
		if (r->profile == CA_PROF_LEAF_SERVER &&
		    gnutls_pubkey_get_pk_algorithm(r->pubkey, &bits) ==
		    GNUTLS_PK_RSA)
			usage |= GNUTLS_KEY_KEY_ENCIPHERMENT;
	}
	if ((ret = gnutls_x509_crt_set_key_usage(c, usage)) < 0)
		return ca_gnutls_err(err, ret, "cannot set keyUsage");
	if (eku != NULL &&
	    (ret = gnutls_x509_crt_set_key_purpose_oid(c, eku, 0)) < 0)
		return ca_gnutls_err(err, ret, "cannot set extendedKeyUsage");
	if ((ret = gnutls_pubkey_get_key_id(r->pubkey, 0, id, &idlen)) < 0 ||
	    (ret = gnutls_x509_crt_set_subject_key_id(c, id, idlen)) < 0)
		return ca_gnutls_err(err, ret, "cannot set subjectKeyIdentifier");
	if (issuer != NULL) {
		idlen = sizeof(id);
		ret = gnutls_x509_crt_get_subject_key_id(issuer, id, &idlen, NULL);
		if (ret < 0)
			return ca_gnutls_err(err, ret, "issuer has no "
			    "subjectKeyIdentifier");
		if ((ret = gnutls_x509_crt_set_authority_key_id(c, id, idlen)) < 0)
			return ca_gnutls_err(err, ret, "cannot set "
			    "authorityKeyIdentifier");
	}
	if ((ret = add_sans(c, r, err)) != 0)
		return ret;
	if (r->profile == CA_PROF_ICA_SERVER || r->profile == CA_PROF_ICA_CLIENT) {
		if ((ret = add_name_constraints(c, r, err)) != 0)
			return ret;
		if (r->crl_url != NULL) {
			if (strncmp(r->crl_url, "http://", 7) != 0 &&
			    strncmp(r->crl_url, "https://", 8) != 0 &&
			    strncmp(r->crl_url, "file://", 7) != 0)
				return ca_err_set(err, CA_EINVAL, "invalid CRL URL "
				    "'%s': want http://, https:// or file://",
				    r->crl_url);
			ret = gnutls_x509_crt_set_crl_dist_points(c,
			    GNUTLS_SAN_URI, r->crl_url, 0);
			if (ret < 0)
				return ca_gnutls_err(err, ret, "cannot set CRL "
				    "distribution point");
		}
	}
	return 0;
}

int
ca_cert_issue(gnutls_x509_crt_t *out, const struct ca_cert_req *r,
    const struct ca_serial *serial, gnutls_x509_crt_t issuer,
    gnutls_privkey_t issuer_key, time_t now, struct ca_err *err)
{
	gnutls_x509_crt_t c = NULL, parsed = NULL;
	gnutls_pubkey_t signer_pub = NULL;
	gnutls_datum_t der = { NULL, 0 };
	const char *errpos = NULL;
	int ret;

	*out = NULL;
	if ((unsigned)r->profile >= CA_PROF__MAX || r->pubkey == NULL ||
	    r->subject == NULL)
		return ca_err_set(err, CA_EINVAL, "incomplete certificate "
		    "request");
	if ((ret = gnutls_x509_crt_init(&c)) < 0)
		return ca_gnutls_err(err, ret, "cannot create a certificate");
	if ((ret = gnutls_x509_crt_set_version(c, 3)) < 0 ||
	    (ret = gnutls_x509_crt_set_serial(c, serial->b, serial->len)) < 0) {
		ret = ca_gnutls_err(err, ret, "cannot set serial");
		goto out;
	}
	if (*r->subject == '\0') {
		ret = ca_err_set(err, CA_EINVAL, "empty subject");
		goto out;
	}
	if ((ret = gnutls_x509_crt_set_dn(c, r->subject, &errpos)) < 0) {
		ret = ca_err_set(err, CA_EINVAL, "invalid subject '%s'%s%s",
		    r->subject, errpos ? " near: " : "", errpos ? errpos : "");
		goto out;
	}
	if ((ret = gnutls_x509_crt_set_pubkey(c, r->pubkey)) < 0) {
		ret = ca_gnutls_err(err, ret, "cannot set the public key");
		goto out;
	}
	if ((ret = gnutls_x509_crt_set_activation_time(c, r->not_before)) < 0 ||
	    (ret = gnutls_x509_crt_set_expiration_time(c, r->not_after)) < 0) {
		ret = ca_gnutls_err(err, ret, "cannot set validity");
		goto out;
	}
	if ((ret = set_extensions(c, r, issuer, err)) != 0)
		goto out;
	if ((ret = gnutls_pubkey_init(&signer_pub)) < 0 ||
	    (ret = gnutls_pubkey_import_privkey(signer_pub, issuer_key, 0, 0)) <
	    0) {
		ret = ca_gnutls_err(err, ret, "cannot use the issuer key");
		goto out;
	}
	ret = gnutls_x509_crt_privkey_sign(c, issuer != NULL ? issuer : c,
	    issuer_key, ca_sign_hash(signer_pub), 0);
	if (ret < 0) {
		ret = ca_gnutls_err(err, ret, "cannot sign '%s'", r->subject);
		goto out;
	}
	/* Lint what will be published: the DER as a verifier will parse it,
	 * not the structure we just filled in. */
	if ((ret = gnutls_x509_crt_export2(c, GNUTLS_X509_FMT_DER, &der)) < 0 ||
	    (ret = gnutls_x509_crt_init(&parsed)) < 0 ||
	    (ret = gnutls_x509_crt_import(parsed, &der, GNUTLS_X509_FMT_DER)) <
	    0) {
		ret = ca_gnutls_err(err, ret, "cannot re-read '%s'", r->subject);
		goto out;
	}
	if ((ret = ca_lint_cert(parsed, r->profile, issuer, now, err)) != 0)
		goto out;
	*out = parsed;
	parsed = NULL;
	ret = 0;
out:
	gnutls_free(der.data);
	if (parsed != NULL)
		gnutls_x509_crt_deinit(parsed);
	if (signer_pub != NULL)
		gnutls_pubkey_deinit(signer_pub);
	gnutls_x509_crt_deinit(c);
	return ret;
}
