/*
 * pair.c - point-to-point pairs (seed 000, "proxy-ca"): a throwaway CA
 * signs exactly two certificates, the proxy's and the app's, and its key
 * is destroyed before anything is written. The pins and the server
 * snippets that trust the pair are written beside them; the directory
 * appears whole or not at all.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ops/ops-int.h"

#define BACKDATE 300

static const char *const cert_names[CA_PAIR__MAX] = {
	[CA_PAIR_CA] = "ca",
	[CA_PAIR_PROXY] = "proxy",
	[CA_PAIR_APP] = "app",
};

const char *
ca_pair_cert_name(enum ca_pair_cert c)
{
	return (unsigned)c < CA_PAIR__MAX ? cert_names[c] : "?";
}

/* ---- input ------------------------------------------------------------- */

static int
check_names(const struct ca_strv *dns, const struct ca_strv *ip,
    const char *flag, struct ca_err *err)
{
	size_t i;

	for (i = 0; i < dns->n; i++)
		if (ca_dns_check(dns->v[i], 1, err) != 0)
			return ca_err_wrap(err, "%s", flag);
	for (i = 0; i < ip->n; i++)
		if (ca_ip_check(ip->v[i], err) != 0)
			return ca_err_wrap(err, "%s", flag);
	return 0;
}

int
ca_pair_check(const struct ca_pair_opts *o, struct ca_err *err)
{
	int ret;

	if (o->proxy == NULL)
		return ca_err_set(err, CA_EINVAL, "the proxy needs a name "
		    "(--proxy NAME)");
	if (o->app == NULL)
		return ca_err_set(err, CA_EINVAL, "the app needs a name "
		    "(--app NAME)");
	if ((ret = ca_name_check(o->proxy, err)) != 0)
		return ca_err_wrap(err, "--proxy");
	if ((ret = ca_name_check(o->app, err)) != 0)
		return ca_err_wrap(err, "--app");
	/* "proxy NAME" must fit X.520's 64-character common name. */
	if (strlen(o->proxy) > CA_PAIR_NAME_MAX ||
	    strlen(o->app) > CA_PAIR_NAME_MAX)
		return ca_err_set(err, CA_EINVAL, "invalid name '%s': at most %d "
		    "characters in a pair", strlen(o->proxy) > CA_PAIR_NAME_MAX ?
		    o->proxy : o->app, CA_PAIR_NAME_MAX);
	if (o->years < 1 || o->years > CA_PAIR_YEARS_MAX)
		return ca_err_set(err, CA_EINVAL, "a pair lives 1 to %d years, "
		    "not %d", CA_PAIR_YEARS_MAX, o->years);
	if ((unsigned)o->alg >= CA_KEY__MAX)
		return ca_err_set(err, CA_EINVAL, "unknown key algorithm");
	if ((ret = check_names(&o->dns, &o->ip, "the app's names", err)) != 0 ||
	    (ret = check_names(&o->proxy_dns, &o->proxy_ip, "the proxy's names", err)) !=
	    0)
		return ret;
	/* The app is the TLS server: a client checks its name in the SAN. */
	if (o->dns.n + o->ip.n == 0)
		return ca_err_set(err, CA_EINVAL, "the app is a server and needs "
		    "at least one --dns or --ip");
	if (o->both_eku && o->proxy_dns.n + o->proxy_ip.n == 0)
		return ca_err_set(err, CA_EINVAL, "--both-eku makes the proxy a "
		    "server too: give it --proxy-dns or --proxy-ip");
	return 0;
}

/* ---- building ---------------------------------------------------------- */

/* What one certificate of a pair is made of. */
struct spec {
	const char *subject;
	gnutls_pubkey_t pub;
	const struct ca_serial *serial;
	int is_ca;
	int server, client;          /* EKUs of a leaf */
	const struct ca_strv *dns, *ip;
	time_t nb, na;
};

static int
add_sans(gnutls_x509_crt_t c, const struct spec *s, struct ca_err *err)
{
	unsigned char b[16];
	unsigned n;
	size_t i;
	int ret;

	for (i = 0; s->dns != NULL && i < s->dns->n; i++) {
		ret = gnutls_x509_crt_set_subject_alt_name(c, GNUTLS_SAN_DNSNAME,
		    s->dns->v[i], (unsigned)strlen(s->dns->v[i]),
		    GNUTLS_FSAN_APPEND);
		if (ret < 0)
			return ca_gnutls_err(err, ret, "cannot add DNS name '%s'",
			    s->dns->v[i]);
	}
	for (i = 0; s->ip != NULL && i < s->ip->n; i++) {
		if (inet_pton(AF_INET, s->ip->v[i], b) == 1)
			n = 4;
		else if (inet_pton(AF_INET6, s->ip->v[i], b) == 1)
			n = 16;
		else
			return ca_err_set(err, CA_EINVAL, "invalid IP address '%s'",
			    s->ip->v[i]);
		ret = gnutls_x509_crt_set_subject_alt_name(c,
		    GNUTLS_SAN_IPADDRESS, b, n, GNUTLS_FSAN_APPEND);
		if (ret < 0)
			return ca_gnutls_err(err, ret, "cannot add IP '%s'",
			    s->ip->v[i]);
	}
	return 0;
}

static int
set_extensions(gnutls_x509_crt_t c, const struct spec *s,
    gnutls_x509_crt_t issuer, struct ca_err *err)
{
	unsigned char id[64];
	size_t idlen = sizeof(id);
	unsigned usage, bits;
	int ret;

	/* The CA: CA:TRUE pathlen:0 and keyCertSign alone. No cRLSign: a
	 * pair never has a CRL; a compromised pair is replaced, not
	 * revoked. No EKU on the CA: the leaves say what they are for. */
	if ((ret = gnutls_x509_crt_set_basic_constraints(c, s->is_ca,
	    s->is_ca ? 0 : -1)) < 0)
		return ca_gnutls_err(err, ret, "cannot set basicConstraints");
	if (s->is_ca)
		usage = GNUTLS_KEY_KEY_CERT_SIGN;
	else {
		usage = GNUTLS_KEY_DIGITAL_SIGNATURE;
		/* RSA key exchange in TLS 1.2 encrypts to the server key. */
		if (s->server && gnutls_pubkey_get_pk_algorithm(s->pub, &bits) ==
		    GNUTLS_PK_RSA)
			usage |= GNUTLS_KEY_KEY_ENCIPHERMENT;
	}
	if ((ret = gnutls_x509_crt_set_key_usage(c, usage)) < 0)
		return ca_gnutls_err(err, ret, "cannot set keyUsage");
	if (s->server && (ret = gnutls_x509_crt_set_key_purpose_oid(c,
	    GNUTLS_KP_TLS_WWW_SERVER, 0)) < 0)
		return ca_gnutls_err(err, ret, "cannot set extendedKeyUsage");
	if (s->client && (ret = gnutls_x509_crt_set_key_purpose_oid(c,
	    GNUTLS_KP_TLS_WWW_CLIENT, 0)) < 0)
		return ca_gnutls_err(err, ret, "cannot set extendedKeyUsage");
	if ((ret = gnutls_pubkey_get_key_id(s->pub, 0, id, &idlen)) < 0 ||
	    (ret = gnutls_x509_crt_set_subject_key_id(c, id, idlen)) < 0)
		return ca_gnutls_err(err, ret, "cannot set subjectKeyIdentifier");
	if (issuer != NULL) {
		idlen = sizeof(id);
		if ((ret = gnutls_x509_crt_get_subject_key_id(issuer, id, &idlen,
		    NULL)) < 0 ||
		    (ret = gnutls_x509_crt_set_authority_key_id(c, id, idlen)) < 0)
			return ca_gnutls_err(err, ret, "cannot set "
			    "authorityKeyIdentifier");
	}
	return add_sans(c, s, err);
}

/* The checks ca_lint_cert makes on a root, for a CA that is not one of
 * tierca's roots: keyCertSign without cRLSign, pathlen 0. */
static int
lint_ca(gnutls_x509_crt_t c, time_t now, struct ca_err *err)
{
	gnutls_pubkey_t pub = NULL;
	unsigned crit = 0, ca = 0, usage = 0, vst = 0;
	int pathlen = -1, sig, ret;
	gnutls_digest_algorithm_t h;

	sig = gnutls_x509_crt_get_signature_algorithm(c);
	h = gnutls_sign_get_hash_algorithm((gnutls_sign_algorithm_t)sig);
	if (sig < 0 || h == GNUTLS_DIG_MD5 || h == GNUTLS_DIG_SHA1 ||
	    !gnutls_sign_is_secure((gnutls_sign_algorithm_t)sig))
		return ca_err_set(err, CA_EPOLICY, "pair CA: signature algorithm "
		    "is not allowed");
	if ((ret = gnutls_pubkey_init(&pub)) < 0)
		return ca_err_set(err, CA_ENOMEM, "out of memory");
	if ((ret = gnutls_pubkey_import_x509(pub, c, 0)) < 0)
		ret = ca_gnutls_err(err, ret, "pair CA: bad public key");
	else
		ret = ca_pubkey_check_policy(pub, "pair CA", err);
	gnutls_pubkey_deinit(pub);
	if (ret != 0)
		return ret;
	if (gnutls_x509_crt_get_basic_constraints(c, &crit, &ca, &pathlen) < 0
	    || !crit || !ca || pathlen != 0)
		return ca_err_set(err, CA_EPOLICY, "pair CA: basicConstraints "
		    "must be critical CA:TRUE pathlen:0");
	if (gnutls_x509_crt_get_key_usage(c, &usage, &crit) < 0 ||
	    !(usage & GNUTLS_KEY_KEY_CERT_SIGN))
		return ca_err_set(err, CA_EPOLICY, "pair CA: keyUsage without "
		    "keyCertSign");
	if (gnutls_x509_crt_get_expiration_time(c) <= now)
		return ca_err_set(err, CA_EPOLICY, "pair CA: would be expired at "
		    "issuance");
	/* The self-signature, so what is published verifies. */
	if ((ret = gnutls_x509_crt_verify(c, &c, 1,
	    GNUTLS_VERIFY_DISABLE_TIME_CHECKS, &vst)) < 0 || vst != 0)
		return ca_err_set(err, CA_EPOLICY, "pair CA: self-signature does "
		    "not verify");
	return 0;
}

static int
build(gnutls_x509_crt_t *out, const struct spec *s, gnutls_x509_crt_t issuer,
    gnutls_privkey_t key, time_t now, struct ca_err *err)
{
	gnutls_x509_crt_t c = NULL, parsed = NULL;
	gnutls_pubkey_t signer = NULL;
	gnutls_datum_t der = { NULL, 0 };
	const char *errpos = NULL;
	int ret;

	*out = NULL;
	if ((ret = gnutls_x509_crt_init(&c)) < 0)
		return ca_gnutls_err(err, ret, "cannot create a certificate");
	if ((ret = gnutls_x509_crt_set_version(c, 3)) < 0 ||
	    (ret = gnutls_x509_crt_set_serial(c, s->serial->b,
	    s->serial->len)) < 0) {
		ret = ca_gnutls_err(err, ret, "cannot set serial");
		goto out;
	}
	if ((ret = gnutls_x509_crt_set_dn(c, s->subject, &errpos)) < 0) {
		ret = ca_err_set(err, CA_EINVAL, "invalid subject '%s'",
		    s->subject);
		goto out;
	}
	if ((ret = gnutls_x509_crt_set_pubkey(c, s->pub)) < 0 ||
	    (ret = gnutls_x509_crt_set_activation_time(c, s->nb)) < 0 ||
	    (ret = gnutls_x509_crt_set_expiration_time(c, s->na)) < 0) {
		ret = ca_gnutls_err(err, ret, "cannot fill in '%s'", s->subject);
		goto out;
	}
	if ((ret = set_extensions(c, s, issuer, err)) != 0)
		goto out;
	if ((ret = gnutls_pubkey_init(&signer)) < 0 ||
	    (ret = gnutls_pubkey_import_privkey(signer, key, 0, 0)) < 0) {
		ret = ca_gnutls_err(err, ret, "cannot use the pair CA's key");
		goto out;
	}
	if ((ret = gnutls_x509_crt_privkey_sign(c, issuer != NULL ? issuer : c,
	    key, ca_sign_hash(signer), 0)) < 0) {
		ret = ca_gnutls_err(err, ret, "cannot sign '%s'", s->subject);
		goto out;
	}
	/* Lint what will be published: the DER as a verifier parses it. */
	if ((ret = gnutls_x509_crt_export2(c, GNUTLS_X509_FMT_DER, &der)) < 0 ||
	    (ret = gnutls_x509_crt_init(&parsed)) < 0 ||
	    (ret = gnutls_x509_crt_import(parsed, &der, GNUTLS_X509_FMT_DER)) <
	    0) {
		ret = ca_gnutls_err(err, ret, "cannot re-read '%s'", s->subject);
		goto out;
	}
	if (s->is_ca)
		ret = lint_ca(parsed, now, err);
	else {
		ret = 0;
		if (s->server)
			ret = ca_lint_cert(parsed, CA_PROF_LEAF_SERVER, issuer, now,
			    err);
		if (ret == 0 && s->client)
			ret = ca_lint_cert(parsed, CA_PROF_LEAF_CLIENT, issuer, now,
			    err);
	}
	if (ret != 0)
		goto out;
	*out = parsed;
	parsed = NULL;
out:
	gnutls_free(der.data);
	if (parsed != NULL)
		gnutls_x509_crt_deinit(parsed);
	if (signer != NULL)
		gnutls_pubkey_deinit(signer);
	gnutls_x509_crt_deinit(c);
	return ret;
}

static int
pubkey_of(gnutls_pubkey_t *out, gnutls_x509_privkey_t k, struct ca_err *err)
{
	gnutls_privkey_t p = NULL;
	int ret;

	*out = NULL;
	if ((ret = ca_privkey_to_abstract(&p, k, err)) != 0)
		return ret;
	if ((ret = gnutls_pubkey_init(out)) < 0 ||
	    (ret = gnutls_pubkey_import_privkey(*out, p, 0, 0)) < 0) {
		if (*out != NULL)
			gnutls_pubkey_deinit(*out);
		*out = NULL;
		ret = ca_gnutls_err(err, ret, "cannot read a public key");
	}
	gnutls_privkey_deinit(p);
	return ret;
}

/* now plus whole calendar years (a 29 February lands on 1 March). */
static time_t
add_years(time_t now, int years)
{
	struct tm tm;

	if (gmtime_r(&now, &tm) == NULL)
		return (time_t)-1;
	tm.tm_year += years;
	return timegm(&tm);
}

int
ca_pair_make(struct ca_pair *out, const struct ca_pair_opts *o, time_t now,
    struct ca_err *err)
{
	gnutls_x509_privkey_t ca_x = NULL;
	gnutls_privkey_t ca_key = NULL;
	gnutls_pubkey_t pub[CA_PAIR__MAX] = { NULL, NULL, NULL };
	struct ca_serial serial[CA_PAIR__MAX];
	struct spec s[CA_PAIR__MAX];
	char subject[CA_PAIR__MAX][256], id[65], day[32];
	time_t na;
	int ret, i;

	memset(out, 0, sizeof(*out));
	if ((ret = ca_pair_check(o, err)) != 0)
		return ret;
	if ((na = add_years(now, o->years)) == (time_t)-1 || na <= now)
		return ca_err_set(err, CA_EINVAL, "cannot add %d years to now",
		    o->years);
	/* The CA key lives in this function only: generated here, used for
	 * three signatures (its own, the proxy's, the app's), never
	 * exported, and released -- GnuTLS zeroes its parameters -- before
	 * this function returns, on every path. */
	if ((ret = ca_key_generate(&ca_x, o->alg, err)) != 0 ||
	    (ret = ca_privkey_to_abstract(&ca_key, ca_x, err)) != 0 ||
	    (ret = pubkey_of(&pub[CA_PAIR_CA], ca_x, err)) != 0)
		goto out;
	for (i = CA_PAIR_PROXY; i <= CA_PAIR_APP; i++)
		if ((ret = ca_key_generate(&out->key[i], o->alg, err)) != 0 ||
		    (ret = pubkey_of(&pub[i], out->key[i], err)) != 0)
			goto out;
	if ((ret = ca_serial_random(&serial[CA_PAIR_CA], err)) != 0)
		goto out;
	if (ca_serial_from_hex(&serial[CA_PAIR_PROXY], CA_PAIR_SERIAL_PROXY) !=
	    0 || ca_serial_from_hex(&serial[CA_PAIR_APP], CA_PAIR_SERIAL_APP) !=
	    0) {
		ret = ca_err_set(err, CA_EINVAL, "bad pair serial");
		goto out;
	}
	/* The CA's name says what it is for and when it was made; the first
	 * digits of its key's pin tell two pairs of the same names apart. */
	if ((ret = ca_pubkey_fingerprint(id, sizeof(id), pub[CA_PAIR_CA])) !=
	    0) {
		ret = ca_err_set(err, CA_ECRYPTO, "cannot hash the CA key");
		goto out;
	}
	ca_time_format(day, sizeof(day), now);
	day[10] = '\0';
	snprintf(subject[CA_PAIR_CA], sizeof(subject[0]),
	    "CN=tierca pair %s %.8s,OU=proxy %s,OU=app %s", day, id, o->proxy,
	    o->app);
	snprintf(subject[CA_PAIR_PROXY], sizeof(subject[0]), "CN=proxy %s",
	    o->proxy);
	snprintf(subject[CA_PAIR_APP], sizeof(subject[0]), "CN=app %s", o->app);
	memset(s, 0, sizeof(s));
	for (i = 0; i < CA_PAIR__MAX; i++) {
		s[i].subject = subject[i];
		s[i].pub = pub[i];
		s[i].serial = &serial[i];
		s[i].nb = now - BACKDATE;
		s[i].na = na;
	}
	s[CA_PAIR_CA].is_ca = 1;
	s[CA_PAIR_PROXY].client = 1;
	s[CA_PAIR_PROXY].server = o->both_eku;
	s[CA_PAIR_PROXY].dns = &o->proxy_dns;
	s[CA_PAIR_PROXY].ip = &o->proxy_ip;
	s[CA_PAIR_APP].server = 1;
	s[CA_PAIR_APP].client = o->both_eku;
	s[CA_PAIR_APP].dns = &o->dns;
	s[CA_PAIR_APP].ip = &o->ip;
	if ((ret = build(&out->crt[CA_PAIR_CA], &s[CA_PAIR_CA], NULL, ca_key,
	    now, err)) != 0)
		goto out;
	for (i = CA_PAIR_PROXY; i <= CA_PAIR_APP; i++)
		if ((ret = build(&out->crt[i], &s[i], out->crt[CA_PAIR_CA], ca_key,
		    now, err)) != 0)
			goto out;
	ret = 0;
out:
	/* Exactly two leaves were signed, or none is returned. Either way
	 * the CA key goes now. */
	if (ca_key != NULL)
		gnutls_privkey_deinit(ca_key);
	if (ca_x != NULL)
		gnutls_x509_privkey_deinit(ca_x);
	for (i = 0; i < CA_PAIR__MAX; i++)
		if (pub[i] != NULL)
			gnutls_pubkey_deinit(pub[i]);
	if (ret != 0)
		ca_pair_free(out);
	return ret;
}

void
ca_pair_free(struct ca_pair *p)
{
	int i;

	if (p == NULL)
		return;
	for (i = 0; i < CA_PAIR__MAX; i++) {
		if (p->crt[i] != NULL)
			gnutls_x509_crt_deinit(p->crt[i]);
		if (p->key[i] != NULL)
			gnutls_x509_privkey_deinit(p->key[i]);
		p->crt[i] = NULL;
		p->key[i] = NULL;
	}
}

/* ---- pins -------------------------------------------------------------- */

static void
base64(char *out, const unsigned char *in, size_t n)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i;
	unsigned v;

	for (i = 0; i + 2 < n; i += 3) {
		v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
		*out++ = tab[v >> 18];
		*out++ = tab[(v >> 12) & 63];
		*out++ = tab[(v >> 6) & 63];
		*out++ = tab[v & 63];
	}
	if (i < n) {
		v = (unsigned)in[i] << 16;
		if (i + 1 < n)
			v |= (unsigned)in[i + 1] << 8;
		*out++ = tab[v >> 18];
		*out++ = tab[(v >> 12) & 63];
		*out++ = i + 1 < n ? tab[(v >> 6) & 63] : '=';
		*out++ = '=';
	}
	*out = '\0';
}

int
ca_pair_pin(struct ca_pair_pin *out, gnutls_x509_crt_t crt,
    struct ca_err *err)
{
	gnutls_pubkey_t pub = NULL;
	gnutls_datum_t spki = { NULL, 0 };
	unsigned char h[32];
	size_t n = sizeof(h), i;
	char *subject = NULL;
	int ret;

	memset(out, 0, sizeof(*out));
	if (ca_cert_serial_hex(out->serial, sizeof(out->serial), crt) != 0 ||
	    gnutls_x509_crt_get_fingerprint(crt, GNUTLS_DIG_SHA256, h, &n) < 0
	    || n != 32)
		return ca_err_set(err, CA_ECRYPTO, "cannot fingerprint a "
		    "certificate");
	ca_hex(out->sha256_hex, h, 32, 0);
	/* openssl x509 -fingerprint's form: upper case, colon-separated. */
	for (i = 0; i < 32; i++) {
		ca_hex(out->sha256 + 3 * i, h + i, 1, 1);
		out->sha256[3 * i + 2] = i + 1 < 32 ? ':' : '\0';
	}
	/* RFC 7469: SHA-256 of the DER SubjectPublicKeyInfo, base64. */
	if ((ret = gnutls_pubkey_init(&pub)) < 0 ||
	    (ret = gnutls_pubkey_import_x509(pub, crt, 0)) < 0 ||
	    (ret = gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &spki)) < 0 ||
	    (ret = gnutls_hash_fast(GNUTLS_DIG_SHA256, spki.data, spki.size,
	    h)) < 0) {
		ret = ca_gnutls_err(err, ret, "cannot hash a public key");
		goto out;
	}
	base64(out->pin_sha256, h, 32);
	if (ca_cert_subject(&subject, crt) != 0) {
		ret = ca_err_set(err, CA_ENOMEM, "out of memory");
		goto out;
	}
	snprintf(out->subject, sizeof(out->subject), "%s", subject);
	out->not_before = gnutls_x509_crt_get_activation_time(crt);
	out->not_after = gnutls_x509_crt_get_expiration_time(crt);
	ret = 0;
out:
	free(subject);
	gnutls_free(spki.data);
	if (pub != NULL)
		gnutls_pubkey_deinit(pub);
	return ret;
}

/* ---- the files of D ---------------------------------------------------- */

/* Characters a path may not have to be quoted in the snippets: nginx
 * expands '$' in ssl_certificate, both take '"' and '\' as syntax. */
static int
path_quotable(const char *p)
{
	for (; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == '"' ||
		    *p == '\\' || *p == '$' || *p == '\'' || *p == '%')
			return 0;
	return 1;
}

static void
json_str(struct ca_sbuf *b, const char *s)
{
	ca_sb_put(b, "\"", 1);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			ca_sb_printf(b, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			ca_sb_printf(b, "\\u%04x", (unsigned char)*s);
		else
			ca_sb_put(b, s, 1);
	}
	ca_sb_put(b, "\"", 1);
}

static int
pins_text(struct ca_pair_info *pi, time_t now, struct ca_err *err)
{
	struct ca_sbuf t = { NULL, 0, 0, 0 }, j = { NULL, 0, 0, 0 };
	char made[32], nb[32], na[32];
	int i;

	ca_time_format(made, sizeof(made), now);
	ca_sb_printf(&t, "# tierca-pair %s, made %s\n"
	    "# sha256: SHA-256 of the certificate (DER), as openssl x509 "
	    "-fingerprint -sha256\n"
	    "# pin_sha256: SHA-256 of the SubjectPublicKeyInfo, base64 "
	    "(RFC 7469 pin-sha256)\n", pi->dir, made);
	ca_sb_put(&j, "{\"dir\":", 7);
	json_str(&j, pi->dir);
	ca_sb_printf(&j, ",\"made\":\"%s\"", made);
	for (i = 0; i < CA_PAIR__MAX; i++) {
		const struct ca_pair_pin *p = &pi->pin[i];
		const char *n = cert_names[i];

		ca_time_format(nb, sizeof(nb), p->not_before);
		ca_time_format(na, sizeof(na), p->not_after);
		ca_sb_printf(&t, "%s.file=%s/%s.crt\n%s.subject=%s\n"
		    "%s.serial=%s\n%s.not_before=%s\n%s.not_after=%s\n"
		    "%s.sha256=%s\n%s.sha256_hex=%s\n%s.pin_sha256=%s\n",
		    n, pi->dir, n, n, p->subject, n, p->serial, n, nb, n, na,
		    n, p->sha256, n, p->sha256_hex, n, p->pin_sha256);
		ca_sb_printf(&j, ",\"%s\":{\"file\":\"%s.crt\",\"subject\":", n,
		    n);
		json_str(&j, p->subject);
		ca_sb_printf(&j, ",\"serial\":\"%s\",\"not_before\":\"%s\","
		    "\"not_after\":\"%s\",\"sha256\":\"%s\",\"sha256_hex\":\"%s\","
		    "\"pin_sha256\":\"%s\"}", p->serial, nb, na, p->sha256,
		    p->sha256_hex, p->pin_sha256);
	}
	ca_sb_put(&j, "}\n", 2);
	if (t.oom || j.oom) {
		free(t.p);
		free(j.p);
		return ca_err_set(err, CA_ENOMEM, "out of memory");
	}
	pi->pins_txt = t.p;
	pi->pins_json = j.p;
	return 0;
}

/* The app's side: a server that lets only the proxy in. */
static char *
nginx_conf(const struct ca_pair_info *pi)
{
	struct ca_sbuf b = { NULL, 0, 0, 0 };

	ca_sb_printf(&b,
	    "# tierca-pair: the app's side (nginx), inside its server { } "
	    "block.\n"
	    "# Only the proxy's certificate gets through: the pair's CA is "
	    "the only\n"
	    "# trust anchor (no other CA, no other pair), depth 1 (no "
	    "intermediates),\n"
	    "# and the serial check refuses the pair's other certificate "
	    "(the app's).\n"
	    "# Paths as made; change them where the files are copied.\n"
	    "ssl_certificate \"%s/app.crt\";\n"
	    "ssl_certificate_key \"%s/app.key\";\n"
	    "ssl_client_certificate \"%s/ca.crt\";\n"
	    "ssl_verify_client on;\n"
	    "ssl_verify_depth 1;\n"
	    "if ($ssl_client_serial != \"%s\") {\n"
	    "\treturn 403;\n"
	    "}\n", pi->dir, pi->dir, pi->dir, CA_PAIR_SERIAL_PROXY);
	if (b.oom) {
		free(b.p);
		return NULL;
	}
	return b.p;
}

/* The proxy's side: nginx as the client of the app, in the location
 * that proxy_pass'es to it. */
static char *
nginx_proxy_conf(const struct ca_pair_info *pi, const char *app_name)
{
	struct ca_sbuf b = { NULL, 0, 0, 0 };

	ca_sb_printf(&b,
	    "# tierca-pair: the proxy's side (nginx), in the location that "
	    "does\n"
	    "# proxy_pass https://... to the app. The app is trusted through "
	    "the pair's\n"
	    "# CA only, and its name is checked.\n"
	    "# Paths as made; change them where the files are copied.\n"
	    "proxy_ssl_certificate \"%s/proxy.crt\";\n"
	    "proxy_ssl_certificate_key \"%s/proxy.key\";\n"
	    "proxy_ssl_trusted_certificate \"%s/ca.crt\";\n"
	    "proxy_ssl_verify on;\n"
	    "proxy_ssl_verify_depth 1;\n"
	    "proxy_ssl_server_name on;\n"
	    "proxy_ssl_name %s;\n", pi->dir, pi->dir, pi->dir, app_name);
	if (b.oom) {
		free(b.p);
		return NULL;
	}
	return b.p;
}

static char *
apache_conf(const struct ca_pair_info *pi)
{
	struct ca_sbuf b = { NULL, 0, 0, 0 };

	ca_sb_printf(&b,
	    "# tierca-pair: the app's side (Apache 2.4, mod_ssl), inside its "
	    "<VirtualHost>.\n"
	    "# Only the proxy's certificate gets through: the pair's CA is "
	    "the only\n"
	    "# trust anchor, depth 1, and the serial check refuses the pair's "
	    "other\n"
	    "# certificate (the app's).\n"
	    "# Paths as made; change them where the files are copied.\n"
	    "SSLEngine on\n"
	    "SSLCertificateFile \"%s/app.crt\"\n"
	    "SSLCertificateKeyFile \"%s/app.key\"\n"
	    "SSLCACertificateFile \"%s/ca.crt\"\n"
	    "SSLVerifyClient require\n"
	    "SSLVerifyDepth 1\n"
	    "# The proxy always has serial 0x%s; no other certificate may "
	    "connect.\n"
	    "<If \"%%{SSL_CLIENT_M_SERIAL} != '%s'\">\n"
	    "    Require all denied\n"
	    "</If>\n", pi->dir, pi->dir, pi->dir, CA_PAIR_SERIAL_PROXY,
	    CA_PAIR_SERIAL_PROXY);
	if (b.oom) {
		free(b.p);
		return NULL;
	}
	return b.p;
}

/* Where D goes: its parent made absolute (it must exist), its last
 * component kept. */
static int
abs_dir(char **out, const char *dir, struct ca_err *err)
{
	char *copy = NULL, *base, *slash, *parent = NULL;
	size_t n;
	int ret;

	*out = NULL;
	if ((copy = strdup(dir)) == NULL)
		return ca_err_set(err, CA_ENOMEM, "out of memory");
	n = strlen(copy);
	while (n > 1 && copy[n - 1] == '/')
		copy[--n] = '\0';
	slash = strrchr(copy, '/');
	base = slash != NULL ? slash + 1 : copy;
	if (*base == '\0' || strcmp(base, ".") == 0 || strcmp(base, "..") ==
	    0) {
		ret = ca_err_set(err, CA_EINVAL, "invalid directory '%s': name a "
		    "new directory", dir);
		goto out;
	}
	if (slash == copy)
		parent = realpath("/", NULL);
	else if (slash != NULL) {
		*slash = '\0';
		parent = realpath(copy, NULL);
	} else
		parent = realpath(".", NULL);
	if (parent == NULL) {
		ret = ca_err_set(err, errno == ENOENT ? CA_ENOENT : CA_EIO,
		    "cannot create '%s': its parent directory %s", dir,
		    errno == ENOENT ? "does not exist" : strerror(errno));
		goto out;
	}
	if (asprintf(out, "%s/%s", strcmp(parent, "/") == 0 ? "" : parent,
	    base) < 0) {
		*out = NULL;
		ret = ca_err_set(err, CA_ENOMEM, "out of memory");
		goto out;
	}
	ret = 0;
out:
	free(parent);
	free(copy);
	return ret;
}

/* D may not exist yet, or be an empty directory (rename(2) replaces an
 * empty one and refuses any other). */
static int
check_target(const char *dir, struct ca_err *err)
{
	struct dirent *de;
	struct stat st;
	DIR *d;
	int fd, n = 0;

	if (lstat(dir, &st) == -1) {
		if (errno == ENOENT)
			return 0;
		return ca_err_set(err, CA_EIO, "cannot look at '%s': %s", dir,
		    strerror(errno));
	}
	if (!S_ISDIR(st.st_mode))
		return ca_err_set(err, CA_EEXIST, "'%s' exists and is not a "
		    "directory", dir);
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) ==
	    -1 || (d = fdopendir(fd)) == NULL) {
		if (fd != -1)
			close(fd);
		return ca_err_set(err, CA_EIO, "cannot read '%s': %s", dir,
		    strerror(errno));
	}
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	if (n > 0)
		return ca_err_set(err, CA_EEXIST, "'%s' exists and is not empty: "
		    "a pair is never written over another", dir);
	return 0;
}

/* Removes what a failed run put into its own temp directory. */
static void
remove_tmp(const char *tmp)
{
	struct dirent *de;
	DIR *d;
	int fd;

	if ((fd = open(tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) ==
	    -1)
		return;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			(void)unlinkat(fd, de->d_name, 0);
	closedir(d);
	(void)rmdir(tmp);
}

static int
write_crt(const char *tmp, const char *name, gnutls_x509_crt_t crt,
    struct ca_err *err)
{
	gnutls_datum_t pem = { NULL, 0 };
	char *path;
	int ret;

	if ((path = ca_path_join(tmp, name)) == NULL)
		return ca_err_set(err, CA_ENOMEM, "out of memory");
	if ((ret = ca_cert_export_pem(&pem, crt, err)) == 0)
		ret = ca_file_write_new(path, pem.data, pem.size, 0644, err);
	gnutls_free(pem.data);
	free(path);
	return ret;
}

static int
write_text(const char *tmp, const char *name, const char *text,
    struct ca_err *err)
{
	char *path;
	int ret;

	if (text == NULL)
		return ca_err_set(err, CA_ENOMEM, "out of memory");
	if ((path = ca_path_join(tmp, name)) == NULL)
		return ca_err_set(err, CA_ENOMEM, "out of memory");
	ret = ca_file_write_new(path, text, strlen(text), 0644, err);
	free(path);
	return ret;
}

static int
write_key(const char *tmp, const char *name, gnutls_x509_privkey_t key,
    struct ca_err *err)
{
	char *path;
	int ret;

	if ((path = ca_path_join(tmp, name)) == NULL)
		return ca_err_set(err, CA_ENOMEM, "out of memory");
	/* Unencrypted PKCS#8: the servers load it unattended. 0600, in a
	 * 0700 directory, created exclusively. */
	ret = ca_key_write(path, key, NULL, 1, err);
	free(path);
	return ret;
}

int
ca_pair_create(struct ca_pair_info *out, const char *dir,
    const struct ca_pair_opts *o, time_t now, struct ca_err *err)
{
	struct ca_pair p;
	char *tmp = NULL, *parent = NULL, *s = NULL, *slash;
	const char *app_name;
	int ret, i, made = 0;

	memset(out, 0, sizeof(*out));
	memset(&p, 0, sizeof(p));
	if (dir == NULL || *dir == '\0')
		return ca_err_set(err, CA_EINVAL, "the pair needs a directory "
		    "(--dir D)");
	if ((ret = ca_pair_check(o, err)) != 0)
		return ret;
	if ((ret = abs_dir(&out->dir, dir, err)) != 0)
		goto out;
	if (!path_quotable(out->dir)) {
		ret = ca_err_set(err, CA_EINVAL, "invalid directory '%s': the "
		    "server snippets cannot name a path with quotes, '\\', '$', "
		    "'%%' or control characters", dir);
		goto out;
	}
	if ((ret = check_target(out->dir, err)) != 0)
		goto out;
	if ((parent = strdup(out->dir)) == NULL ||
	    asprintf(&tmp, "%s.tmp-XXXXXX", out->dir) < 0) {
		tmp = NULL;
		ret = ca_err_set(err, CA_ENOMEM, "out of memory");
		goto out;
	}
	slash = strrchr(parent, '/');
	slash[slash == parent ? 1 : 0] = '\0';
	/* Everything is made in D.tmp-XXXXXX (mkdtemp: 0700) and renamed to
	 * D at the end, so D appears whole or not at all. */
	if (mkdtemp(tmp) == NULL) {
		ret = ca_err_set(err, CA_EIO, "cannot create a directory next to "
		    "'%s': %s", out->dir, strerror(errno));
		free(tmp);
		tmp = NULL;
		goto out;
	}
	made = 1;
	if ((ret = ca_pair_make(&p, o, now, err)) != 0)
		goto out;
	for (i = 0; i < CA_PAIR__MAX; i++)
		if ((ret = ca_pair_pin(&out->pin[i], p.crt[i], err)) != 0)
			goto out;
	if ((ret = pins_text(out, now, err)) != 0)
		goto out;
	app_name = o->dns.n > 0 ? o->dns.v[0] : o->ip.v[0];
	if ((ret = write_crt(tmp, "ca.crt", p.crt[CA_PAIR_CA], err)) != 0 ||
	    (ret = write_crt(tmp, "proxy.crt", p.crt[CA_PAIR_PROXY], err)) != 0 ||
	    (ret = write_key(tmp, "proxy.key", p.key[CA_PAIR_PROXY], err)) != 0 ||
	    (ret = write_crt(tmp, "app.crt", p.crt[CA_PAIR_APP], err)) != 0 ||
	    (ret = write_key(tmp, "app.key", p.key[CA_PAIR_APP], err)) != 0 ||
	    (ret = write_text(tmp, "pins.txt", out->pins_txt, err)) != 0 ||
	    (ret = write_text(tmp, "pins.json", out->pins_json, err)) != 0)
		goto out;
	s = nginx_conf(out);
	if ((ret = write_text(tmp, "nginx.conf", s, err)) != 0)
		goto out;
	free(s);
	s = nginx_proxy_conf(out, app_name);
	if ((ret = write_text(tmp, "nginx-proxy.conf", s, err)) != 0)
		goto out;
	free(s);
	s = apache_conf(out);
	if ((ret = write_text(tmp, "apache.conf", s, err)) != 0)
		goto out;
	if ((ret = ca_dir_fsync(tmp, err)) != 0)
		goto out;
	if (ca_io_rename(tmp, out->dir) == -1) {
		if (errno == ENOTEMPTY || errno == EEXIST || errno == ENOTDIR)
			ret = ca_err_set(err, CA_EEXIST, "'%s' appeared while the "
			    "pair was made: nothing written", out->dir);
		else
			ret = ca_err_set(err, CA_EIO, "cannot rename '%s' to '%s': "
			    "%s", tmp, out->dir, strerror(errno));
		goto out;
	}
	made = 0;
	ret = ca_dir_fsync(parent, err);
out:
	if (made)
		remove_tmp(tmp);
	free(s);
	free(tmp);
	free(parent);
	ca_pair_free(&p);
	if (ret != 0)
		ca_pair_info_clear(out);
	return ret;
}

void
ca_pair_info_clear(struct ca_pair_info *pi)
{
	if (pi == NULL)
		return;
	free(pi->dir);
	free(pi->pins_txt);
	free(pi->pins_json);
	memset(pi, 0, sizeof(*pi));
}
