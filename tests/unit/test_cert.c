/*
 * test_cert.c - libca/cert.c and libca/lint.c: serials, name checks, and
 * ca_cert_issue with its pre-issuance lint (profiles, SAN, validity inside
 * the issuer's, name constraints).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#define NOW T0
#define ROOT_NA (NOW + 3650 * DAY)
#define ICA_NA (NOW + 730 * DAY)
#define NB (NOW - 300)

static char *tmp;

/* A root and a server intermediate (nameConstraints permit ".internal"),
 * made once through ca_cert_issue. */
static gnutls_x509_privkey_t root_x, ica_x, leaf_x, weak_x;
static gnutls_privkey_t root_k, ica_k;
static gnutls_pubkey_t root_pub, ica_pub, leaf_pub, weak_pub;
static gnutls_x509_crt_t root_crt, ica_crt;

static int
keypair(gnutls_x509_privkey_t *x, gnutls_privkey_t *k, gnutls_pubkey_t *pub,
    enum ca_key_alg alg)
{
	gnutls_privkey_t tk = NULL;

	if (ca_key_generate(x, alg, NULL) != 0 ||
	    ca_privkey_to_abstract(&tk, *x, NULL) != 0)
		return -1;
	if (gnutls_pubkey_init(pub) < 0 ||
	    gnutls_pubkey_import_privkey(*pub, tk, 0, 0) < 0) {
		gnutls_privkey_deinit(tk);
		return -1;
	}
	if (k != NULL)
		*k = tk;
	else
		gnutls_privkey_deinit(tk);
	return 0;
}

static int
strv_of(struct ca_strv *sv, const char *const *v)
{
	for (; v != NULL && *v != NULL; v++)
		if (ca_strv_add(sv, *v) != 0)
			return -1;
	return 0;
}

static void
req_free(struct ca_cert_req *r)
{
	ca_strv_free(&r->dns);
	ca_strv_free(&r->ip);
	ca_strv_free(&r->email);
	ca_strv_free(&r->permit_dns);
}

static int
suite_init(void)
{
	struct ca_cert_req req = CA_CERT_REQ_INIT;
	struct ca_serial serial;
	static const char *const permit[] = { ".internal", NULL };
	int ret = -1;

	if ((tmp = unit_tmpdir()) == NULL)
		return -1;
	if (keypair(&root_x, &root_k, &root_pub, CA_KEY_ECDSA_P256) != 0 ||
	    keypair(&ica_x, &ica_k, &ica_pub, CA_KEY_ECDSA_P256) != 0 ||
	    keypair(&leaf_x, NULL, &leaf_pub, CA_KEY_ECDSA_P256) != 0)
		return -1;
	/* RSA-1024 can only come from outside libca. */
	if (gnutls_x509_privkey_init(&weak_x) < 0 ||
	    gnutls_x509_privkey_generate(weak_x, GNUTLS_PK_RSA, 1024, 0) < 0 ||
	    gnutls_pubkey_init(&weak_pub) < 0)
		return -1;
	{
		gnutls_privkey_t tk = NULL;
		if (ca_privkey_to_abstract(&tk, weak_x, NULL) != 0)
			return -1;
		ret = gnutls_pubkey_import_privkey(weak_pub, tk, 0, 0);
		gnutls_privkey_deinit(tk);
		if (ret < 0)
			return -1;
	}

	req.profile = CA_PROF_ROOT;
	req.subject = "CN=Unit Root,O=Example";
	req.pubkey = root_pub;
	req.not_before = NB;
	req.not_after = ROOT_NA;
	if (ca_serial_random(&serial, NULL) != 0 ||
	    ca_cert_issue(&root_crt, &req, &serial, NULL, root_k, NOW, NULL) !=
	    0)
		return -1;

	req.profile = CA_PROF_ICA_SERVER;
	req.subject = "CN=Unit Server ICA,O=Example";
	req.pubkey = ica_pub;
	req.not_after = ICA_NA;
	req.crl_url = "http://pki.example.internal/root.crl";
	if (strv_of(&req.permit_dns, permit) != 0 ||
	    ca_serial_random(&serial, NULL) != 0 ||
	    ca_cert_issue(&ica_crt, &req, &serial, root_crt, root_k, NOW,
	    NULL) != 0)
		ret = -1;
	else
		ret = 0;
	req_free(&req);
	return ret;
}

static int
suite_clean(void)
{
	if (root_crt)
		gnutls_x509_crt_deinit(root_crt);
	if (ica_crt)
		gnutls_x509_crt_deinit(ica_crt);
	if (root_k)
		gnutls_privkey_deinit(root_k);
	if (ica_k)
		gnutls_privkey_deinit(ica_k);
	if (root_pub)
		gnutls_pubkey_deinit(root_pub);
	if (ica_pub)
		gnutls_pubkey_deinit(ica_pub);
	if (leaf_pub)
		gnutls_pubkey_deinit(leaf_pub);
	if (weak_pub)
		gnutls_pubkey_deinit(weak_pub);
	if (root_x)
		gnutls_x509_privkey_deinit(root_x);
	if (ica_x)
		gnutls_x509_privkey_deinit(ica_x);
	if (leaf_x)
		gnutls_x509_privkey_deinit(leaf_x);
	if (weak_x)
		gnutls_x509_privkey_deinit(weak_x);
	root_crt = ica_crt = NULL;
	root_k = ica_k = NULL;
	root_pub = ica_pub = leaf_pub = weak_pub = NULL;
	root_x = ica_x = leaf_x = weak_x = NULL;
	unit_rmtree(tmp);
	free(tmp);
	tmp = NULL;
	return 0;
}

/* ---- serials ----------------------------------------------------------- */

static int
cmp_str(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

#define DRAWS 2000

static void
test_serial_random(void)
{
	static char hex[DRAWS][sizeof(((struct ca_serial *)0)->hex)];
	size_t i, n17 = 0, n16 = 0, dups = 0;

	for (i = 0; i < DRAWS; i++) {
		struct ca_serial s;
		char want[2 * sizeof(((struct ca_serial *)0)->b) + 1];
		size_t lead;

		memset(&s, 0xaa, sizeof(s));
		if (!UCHECK(ca_serial_random(&s, NULL) == 0, "draw %zu", i))
			return;
		if (!UCHECK(s.len >= 1 && s.len <= 17, "draw %zu: len %zu", i,
		    s.len))
			return;
		/* positive: the sign bit of the first content byte is clear */
		UCHECK((s.b[0] & 0x80) == 0, "draw %zu: negative (%02x)", i,
		    s.b[0]);
		/* minimal: a leading 0x00 only in front of a set top bit */
		if (s.b[0] == 0x00)
			UCHECK(s.len > 1 && (s.b[1] & 0x80), "draw %zu: needless "
			    "leading zero", i);
		if (s.len == 17)
			UCHECK(s.b[0] == 0x00 && (s.b[1] & 0x80), "draw %zu: 17 "
			    "bytes without a sign byte", i);
		n17 += s.len == 17;
		n16 += s.len == 16;
		/* hex: the magnitude, uppercase, no "00" in front */
		lead = s.b[0] == 0x00 && s.len > 1 ? 1 : 0;
		ca_hex(want, s.b + lead, s.len - lead, 1);
		UCHECK(strcmp(s.hex, want) == 0, "draw %zu: hex %s, want %s", i,
		    s.hex, want);
		UCHECK(strncmp(s.hex, "00", 2) != 0, "draw %zu: hex %s", i, s.hex);
		snprintf(hex[i], sizeof(hex[i]), "%s", s.hex);
	}
	/* 128 random bits: the top bit is set about half the time, and
	 * fewer than 16 bytes (a zero first byte) is rare (1 in 256). */
	UCHECK(n17 > DRAWS * 35 / 100 && n17 < DRAWS * 65 / 100, "%zu of %d "
	    "draws have 17 bytes", n17, DRAWS);
	UCHECK(n16 + n17 >= DRAWS * 97 / 100, "only %zu of %d draws have 16 "
	    "or 17 bytes", n16 + n17, DRAWS);
	qsort(hex, DRAWS, sizeof(hex[0]), cmp_str);
	for (i = 1; i < DRAWS; i++)
		dups += strcmp(hex[i - 1], hex[i]) == 0;
	UCHECK(dups == 0, "%zu repeated serials", dups);
}

static const struct {
	const char *in;
	int ret;
	const char *bytes; /* expected content bytes, as hex */
	const char *hex;
} from_hex_cases[] = {
	{ "01", 0, "01", "01" },
	{ "1", 0, "01", "01" },
	{ "abc", 0, "0ABC", "0ABC" },
	{ "0a1b", 0, "0A1B", "0A1B" },
	{ "0A1B", 0, "0A1B", "0A1B" },
	{ "A1B", 0, "0A1B", "0A1B" },
	{ "000A1B", 0, "0A1B", "0A1B" },
	{ "00000000000a1b", 0, "0A1B", "0A1B" },
	{ "7f", 0, "7F", "7F" },
	{ "80", 0, "0080", "80" },
	{ "0080", 0, "0080", "80" },
	{ "ff", 0, "00FF", "FF" },
	{ "00", 0, "00", "00" },
	{ "0", 0, "00", "00" },
	{ "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF", 0,
	    "00FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF",
	    "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF" },
	{ "01FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF", 0,
	    "01FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF",
	    "01FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF" },
	/* 20 octets, as `openssl ca -create_serial' makes them */
	{ "5A0102030405060708090A0B0C0D0E0F10111213", 0,
	    "5A0102030405060708090A0B0C0D0E0F10111213",
	    "5A0102030405060708090A0B0C0D0E0F10111213" },
	{ "8A0102030405060708090A0B0C0D0E0F10111213", 0,
	    "008A0102030405060708090A0B0C0D0E0F10111213",
	    "8A0102030405060708090A0B0C0D0E0F10111213" },
	{ "000000007FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF", 0,
	    "7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF",
	    "7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF" },
	{ "", CA_EINVAL, NULL, NULL },
	{ "xyz", CA_EINVAL, NULL, NULL },
	{ "0x1A", CA_EINVAL, NULL, NULL },
	{ "-1A", CA_EINVAL, NULL, NULL },
	{ "1A ", CA_EINVAL, NULL, NULL },
	{ "0102030405060708090A0B0C0D0E0F101112131415", CA_EINVAL, NULL, NULL },
};

static void
test_serial_from_hex(void)
{
	size_t i;

	for (i = 0; i < sizeof(from_hex_cases) / sizeof(from_hex_cases[0]);
	    i++) {
		struct ca_serial s;
		char bytes[2 * sizeof(((struct ca_serial *)0)->b) + 1];
		int ret;

		memset(&s, 0, sizeof(s));
		ret = ca_serial_from_hex(&s, from_hex_cases[i].in);
		UCHECK(ret == from_hex_cases[i].ret, "'%s': ret %d, want %d",
		    from_hex_cases[i].in, ret, from_hex_cases[i].ret);
		if (ret != 0 || from_hex_cases[i].ret != 0)
			continue;
		ca_hex(bytes, s.b, s.len, 1);
		UCHECK(strcmp(bytes, from_hex_cases[i].bytes) == 0, "'%s': bytes "
		    "%s, want %s", from_hex_cases[i].in, bytes,
		    from_hex_cases[i].bytes);
		UCHECK(strcmp(s.hex, from_hex_cases[i].hex) == 0, "'%s': hex %s, "
		    "want %s", from_hex_cases[i].in, s.hex, from_hex_cases[i].hex);
	}
}

/* ---- names ------------------------------------------------------------- */

static const struct {
	const char *name;
	int wildcard;
	int ret;
} dns_cases[] = {
	{ "example.com", 0, 0 },
	{ "monitoring.internal", 0, 0 },
	{ "internal", 0, 0 },
	{ "a", 0, 0 },
	{ "a-b.example", 0, 0 },
	{ "xn--bcher-kva.example", 0, 0 },
	{ "_acme.example", 0, 0 },
	{ "UPPER.Example", 0, 0 },
	{ "1.2.3.4", 0, 0 },
	{ "*.example.com", 1, 0 },
	{ "*.example.com", 0, CA_EINVAL },
	{ "*", 1, CA_EINVAL },
	{ "*.", 1, CA_EINVAL },
	{ "foo.*.example", 1, CA_EINVAL },
	{ "f*o.example", 1, CA_EINVAL },
	{ "**.example", 1, CA_EINVAL },
	{ "", 0, CA_EINVAL },
	{ ".", 0, CA_EINVAL },
	{ ".internal", 0, CA_EINVAL },
	{ "example.com.", 0, CA_EINVAL },
	{ "a..b", 0, CA_EINVAL },
	{ "-a.example", 0, CA_EINVAL },
	{ "a-.example", 0, CA_EINVAL },
	{ "a.-b.example", 0, CA_EINVAL },
	{ "exa mple.com", 0, CA_EINVAL },
	{ "exa/mple.com", 0, CA_EINVAL },
	{ "exa\tmple.com", 0, CA_EINVAL },
	{ "user@example.com", 0, CA_EINVAL },
	{ "b\xc3\xbc" "cher.example", 0, CA_EINVAL },
	/* 63-character labels are the limit */
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    ".example", 0, 0 },
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    ".example", 0, CA_EINVAL },
};

static void
test_dns_check(void)
{
	char long_ok[260], long_bad[260];
	struct ca_err err;
	size_t i;

	for (i = 0; i < sizeof(dns_cases) / sizeof(dns_cases[0]); i++) {
		int ret;
		memset(&err, 0, sizeof(err));
		ret = ca_dns_check(dns_cases[i].name, dns_cases[i].wildcard, &err);
		UCHECK(ret == dns_cases[i].ret, "dns '%s' (wildcard %d): ret %d, "
		    "want %d", dns_cases[i].name, dns_cases[i].wildcard, ret,
		    dns_cases[i].ret);
		if (ret != 0)
			UCHECK(strstr(err.msg, dns_cases[i].name) != NULL, "message "
			    "'%s' does not quote the name", err.msg);
	}
	/* 253 characters in all are the limit: 63 x 4 labels + dots = 255 */
	memset(long_ok, 0, sizeof(long_ok));
	for (i = 0; i < 253; i++)
		long_ok[i] = (i % 10 == 9) ? '.' : 'a';
	memcpy(long_bad, long_ok, sizeof(long_ok));
	long_bad[253] = 'a';
	CU_ASSERT_EQUAL(ca_dns_check(long_ok, 0, NULL), 0);
	CU_ASSERT_EQUAL(ca_dns_check(long_bad, 0, NULL), CA_EINVAL);
}

static const struct {
	const char *ip;
	int ret;
} ip_cases[] = {
	{ "10.0.20.5", 0 },
	{ "127.0.0.1", 0 },
	{ "0.0.0.0", 0 },
	{ "255.255.255.255", 0 },
	{ "::1", 0 },
	{ "2001:db8::1", 0 },
	{ "fe80::1:2:3:4", 0 },
	{ "::ffff:10.0.0.1", 0 },
	{ "", CA_EINVAL },
	{ "10.0.0", CA_EINVAL },
	{ "10.0.0.256", CA_EINVAL },
	{ "10.0.0.1.2", CA_EINVAL },
	{ " 10.0.0.1", CA_EINVAL },
	{ "10.0.0.1 ", CA_EINVAL },
	{ "10.0.0.1/24", CA_EINVAL },
	{ "2001:db8::/32", CA_EINVAL },
	{ "fe80::1%eth0", CA_EINVAL },
	{ "1:2:3:4:5:6:7:8:9", CA_EINVAL },
	{ "localhost", CA_EINVAL },
	{ "[::1]", CA_EINVAL },
};

static void
test_ip_check(void)
{
	struct ca_err err;
	size_t i;

	for (i = 0; i < sizeof(ip_cases) / sizeof(ip_cases[0]); i++) {
		int ret;
		memset(&err, 0, sizeof(err));
		ret = ca_ip_check(ip_cases[i].ip, &err);
		UCHECK(ret == ip_cases[i].ret, "ip '%s': ret %d, want %d",
		    ip_cases[i].ip, ret, ip_cases[i].ret);
		if (ret != 0)
			UCHECK(strstr(err.msg, ip_cases[i].ip) != NULL, "message "
			    "'%s'", err.msg);
	}
}

/* ---- issuing ----------------------------------------------------------- */

enum who { W_NONE, W_ROOT, W_ICA };

struct issue_case {
	const char *name;
	enum ca_profile prof;
	const char *subject;
	const char *dns[4], *ip[3], *email[3], *permit[4];
	const char *crl_url;
	int weak_key;
	enum who issuer;
	time_t nb, na, now;
	int ret;
	const char *msg; /* part of the message on error */
};

static int
issue(gnutls_x509_crt_t *out, const struct issue_case *c, struct ca_err *err)
{
	struct ca_cert_req req = CA_CERT_REQ_INIT;
	struct ca_serial serial;
	int ret;

	req.profile = c->prof;
	req.subject = c->subject;
	req.pubkey = c->weak_key ? weak_pub : leaf_pub;
	req.crl_url = c->crl_url;
	req.not_before = c->nb;
	req.not_after = c->na;
	if (strv_of(&req.dns, c->dns) != 0 || strv_of(&req.ip, c->ip) != 0 ||
	    strv_of(&req.email, c->email) != 0 ||
	    strv_of(&req.permit_dns, c->permit) != 0 ||
	    ca_serial_random(&serial, err) != 0) {
		req_free(&req);
		return CA_ENOMEM;
	}
	ret = ca_cert_issue(out, &req, &serial,
	    c->issuer == W_ICA ? ica_crt : c->issuer == W_ROOT ? root_crt : NULL,
	    c->issuer == W_ICA ? ica_k : root_k, c->now, err);
	req_free(&req);
	return ret;
}

#define LEAF_NA (NOW + 90 * DAY)

static const struct issue_case issue_cases[] = {
	{ "server leaf", CA_PROF_LEAF_SERVER, "CN=svc.internal",
	    { "svc.internal", "*.svc.internal", NULL }, { "10.0.20.5", "::1" },
	    { NULL }, { NULL }, NULL, 0, W_ICA, NB, LEAF_NA, NOW, 0, NULL },
	{ "server leaf, IP only", CA_PROF_LEAF_SERVER, "CN=10.0.20.5",
	    { NULL }, { "10.0.20.5" }, { NULL }, { NULL }, NULL, 0, W_ICA, NB,
	    LEAF_NA, NOW, 0, NULL },
	{ "server leaf up to the issuer's end", CA_PROF_LEAF_SERVER,
	    "CN=svc.internal", { "svc.internal" }, { NULL }, { NULL }, { NULL },
	    NULL, 0, W_ICA, NB, ICA_NA, NOW, 0, NULL },
	{ "server leaf without SAN", CA_PROF_LEAF_SERVER, "CN=svc.internal",
	    { NULL }, { NULL }, { NULL }, { NULL }, NULL, 0, W_ICA, NB, LEAF_NA,
	    NOW, CA_EPOLICY, "subjectAltName" },
	{ "server leaf with only an email SAN", CA_PROF_LEAF_SERVER,
	    "CN=svc.internal", { NULL }, { NULL }, { "ops@svc.internal" },
	    { NULL }, NULL, 0, W_ICA, NB, LEAF_NA, NOW, CA_EPOLICY,
	    "subjectAltName" },
	{ "notAfter beyond the issuer's", CA_PROF_LEAF_SERVER,
	    "CN=svc.internal", { "svc.internal" }, { NULL }, { NULL }, { NULL },
	    NULL, 0, W_ICA, NB, ICA_NA + 1, NOW, CA_EPOLICY, "validity" },
	{ "notBefore before the issuer's", CA_PROF_LEAF_SERVER,
	    "CN=svc.internal", { "svc.internal" }, { NULL }, { NULL }, { NULL },
	    NULL, 0, W_ICA, NB - 1, LEAF_NA, NOW, CA_EPOLICY, "validity" },
	{ "ICA beyond the root", CA_PROF_ICA_SERVER, "CN=Second ICA",
	    { NULL }, { NULL }, { NULL }, { NULL }, NULL, 0, W_ROOT, NB,
	    ROOT_NA + DAY, NOW, CA_EPOLICY, "validity" },
	{ "expired at issuance", CA_PROF_LEAF_SERVER, "CN=svc.internal",
	    { "svc.internal" }, { NULL }, { NULL }, { NULL }, NULL, 0, W_ICA,
	    NB, NOW - 1, NOW, CA_EPOLICY, "expired" },
	{ "notAfter before notBefore", CA_PROF_LEAF_SERVER, "CN=svc.internal",
	    { "svc.internal" }, { NULL }, { NULL }, { NULL }, NULL, 0, W_ICA,
	    NOW + DAY, NOW + 60, NOW, CA_EPOLICY, "validity" },
	{ "issuer expired", CA_PROF_LEAF_SERVER, "CN=svc.internal",
	    { "svc.internal" }, { NULL }, { NULL }, { NULL }, NULL, 0, W_ICA,
	    NB, ICA_NA + 10 * DAY, ICA_NA + 1, CA_EPOLICY,
	    "issuer is not valid" },
	{ "DNS outside the name constraints", CA_PROF_LEAF_SERVER,
	    "CN=evil.example", { "evil.example" }, { NULL }, { NULL }, { NULL },
	    NULL, 0, W_ICA, NB, LEAF_NA, NOW, CA_EPOLICY, "'evil.example'" },
	{ "second DNS outside", CA_PROF_LEAF_SERVER, "CN=ok.internal",
	    { "ok.internal", "evil.example" }, { NULL }, { NULL }, { NULL },
	    NULL, 0, W_ICA, NB, LEAF_NA, NOW, CA_EPOLICY, "'evil.example'" },
	{ "suffix without a dot boundary", CA_PROF_LEAF_SERVER,
	    "CN=evilinternal", { "evilinternal" }, { NULL }, { NULL }, { NULL },
	    NULL, 0, W_ICA, NB, LEAF_NA, NOW, CA_EPOLICY, "'evilinternal'" },
	{ "constraint name itself", CA_PROF_LEAF_SERVER, "CN=internal",
	    { "internal" }, { NULL }, { NULL }, { NULL }, NULL, 0, W_ICA, NB,
	    LEAF_NA, NOW, 0, NULL },
	{ "client leaf from the server ICA", CA_PROF_LEAF_CLIENT, "CN=alice",
	    { NULL }, { NULL }, { NULL }, { NULL }, NULL, 0, W_ICA, NB,
	    LEAF_NA, NOW, CA_EPOLICY, "extendedKeyUsage" },
	{ "intermediate under the intermediate", CA_PROF_ICA_SERVER,
	    "CN=Sub ICA", { NULL }, { NULL }, { NULL }, { NULL }, NULL, 0,
	    W_ICA, NB, LEAF_NA, NOW, CA_EPOLICY, "pathlen 0" },
	{ "weak key", CA_PROF_LEAF_SERVER, "CN=svc.internal",
	    { "svc.internal" }, { NULL }, { NULL }, { NULL }, NULL, 1, W_ICA,
	    NB, LEAF_NA, NOW, CA_EPOLICY, "1024" },
	{ "invalid DNS name", CA_PROF_LEAF_SERVER, "CN=svc.internal",
	    { "bad..internal" }, { NULL }, { NULL }, { NULL }, NULL, 0, W_ICA,
	    NB, LEAF_NA, NOW, CA_EINVAL, "bad..internal" },
	{ "invalid IP", CA_PROF_LEAF_SERVER, "CN=svc.internal",
	    { "svc.internal" }, { "10.0.0.256" }, { NULL }, { NULL }, NULL, 0,
	    W_ICA, NB, LEAF_NA, NOW, CA_EINVAL, "10.0.0.256" },
	{ "invalid email", CA_PROF_LEAF_SERVER, "CN=svc.internal",
	    { "svc.internal" }, { NULL }, { "nobody" }, { NULL }, NULL, 0,
	    W_ICA, NB, LEAF_NA, NOW, CA_EINVAL, "nobody" },
	{ "empty subject", CA_PROF_LEAF_SERVER, "", { "svc.internal" },
	    { NULL }, { NULL }, { NULL }, NULL, 0, W_ICA, NB, LEAF_NA, NOW,
	    CA_EINVAL, "subject" },
	{ "bad subject", CA_PROF_LEAF_SERVER, "CN", { "svc.internal" },
	    { NULL }, { NULL }, { NULL }, NULL, 0, W_ICA, NB, LEAF_NA, NOW,
	    CA_EINVAL, "subject" },
	{ "no profile", CA_PROF__MAX, "CN=x", { "svc.internal" }, { NULL },
	    { NULL }, { NULL }, NULL, 0, W_ICA, NB, LEAF_NA, NOW, CA_EINVAL,
	    NULL },
	{ "ICA with an ftp CRL URL", CA_PROF_ICA_CLIENT, "CN=Client ICA",
	    { NULL }, { NULL }, { NULL }, { NULL }, "ftp://x/crl", 0, W_ROOT,
	    NB, ICA_NA, NOW, CA_EINVAL, "ftp://x/crl" },
	{ "ICA with a bad permit", CA_PROF_ICA_CLIENT, "CN=Client ICA",
	    { NULL }, { NULL }, { NULL }, { "bad..x", NULL }, NULL, 0, W_ROOT,
	    NB, ICA_NA, NOW, CA_EINVAL, "bad..x" },
	{ "client ICA", CA_PROF_ICA_CLIENT, "CN=Client ICA", { NULL },
	    { NULL }, { NULL }, { NULL }, "https://pki.example/c.crl", 0,
	    W_ROOT, NB, ICA_NA, NOW, 0, NULL },
	{ "self-signed root", CA_PROF_ROOT, "CN=Another Root", { NULL },
	    { NULL }, { NULL }, { NULL }, NULL, 0, W_NONE, NB, ROOT_NA, NOW, 0,
	    NULL },
};

static void
test_issue_table(void)
{
	size_t i;

	for (i = 0; i < sizeof(issue_cases) / sizeof(issue_cases[0]); i++) {
		const struct issue_case *c = &issue_cases[i];
		gnutls_x509_crt_t crt = (gnutls_x509_crt_t)1;
		struct ca_err err;
		int ret;

		memset(&err, 0, sizeof(err));
		ret = issue(&crt, c, &err);
		UCHECK(ret == c->ret, "%s: ret %d, want %d (%s)", c->name, ret,
		    c->ret, err.msg);
		if (ret != 0) {
			UCHECK(crt == NULL, "%s: *out set on error", c->name);
			if (c->msg != NULL)
				UCHECK(strstr(err.msg, c->msg) != NULL, "%s: message "
				    "'%s' lacks \"%s\"", c->name, err.msg, c->msg);
			continue;
		}
		/* What was returned passes the lint again. */
		UCHECK(ca_lint_cert(crt, c->prof, c->issuer == W_ICA ? ica_crt :
		    c->issuer == W_ROOT ? root_crt : NULL, c->now, &err) == 0,
		    "%s: re-lint: %s", c->name, err.msg);
		UCHECK(gnutls_x509_crt_get_activation_time(crt) == c->nb &&
		    gnutls_x509_crt_get_expiration_time(crt) == c->na, "%s: "
		    "validity", c->name);
		gnutls_x509_crt_deinit(crt);
	}
}

/* The leaf as a verifier sees it: profile extensions, AKI, chain. */
static void
test_leaf_profile(void)
{
	const struct issue_case *c = &issue_cases[0];
	gnutls_x509_crt_t crt = NULL;
	struct ca_err err;
	unsigned char a[64], b[64];
	size_t na = sizeof(a), nb = sizeof(b);
	unsigned crit = 0, ca = 9, usage = 0;
	int pathlen = 0;
	char oid[128], serial[64], *out = NULL, path[600];
	size_t n = sizeof(oid);
	gnutls_datum_t pem = { NULL, 0 };

	CU_ASSERT_EQUAL_FATAL(issue(&crt, c, &err), 0);
	CU_ASSERT(gnutls_x509_crt_get_basic_constraints(crt, &crit, &ca,
	    &pathlen) >= 0 && crit && !ca);
	CU_ASSERT(gnutls_x509_crt_get_key_usage(crt, &usage, &crit) >= 0);
	CU_ASSERT_EQUAL(usage, GNUTLS_KEY_DIGITAL_SIGNATURE);
	CU_ASSERT(gnutls_x509_crt_get_key_purpose_oid(crt, 0, oid, &n, NULL) >=
	    0 && strcmp(oid, GNUTLS_KP_TLS_WWW_SERVER) == 0);
	CU_ASSERT(gnutls_x509_crt_get_authority_key_id(crt, a, &na, NULL) >= 0);
	CU_ASSERT(gnutls_x509_crt_get_subject_key_id(ica_crt, b, &nb, NULL) >=
	    0);
	CU_ASSERT(na == nb && memcmp(a, b, na) == 0);
	CU_ASSERT(ca_cert_matches_key(crt, leaf_x));
	CU_ASSERT_FALSE(ca_cert_matches_key(crt, root_x));
	CU_ASSERT_EQUAL(ca_cert_serial_hex(serial, sizeof(serial), crt), 0);
	CU_ASSERT(strlen(serial) >= 2 && strncmp(serial, "00", 2) != 0);
	CU_ASSERT_EQUAL(ca_cert_serial_hex(serial, 4, crt), CA_EINVAL);
	UCHECK(ca_verify_chain(crt, &ica_crt, 1, &root_crt, 1, NULL, 0,
	    GNUTLS_KP_TLS_WWW_SERVER, NOW, &err) == 0, "verify: %s", err.msg);

	/* openssl sees the same names */
	snprintf(path, sizeof(path), "%s/leaf.pem", tmp);
	if (ca_cert_export_pem(&pem, crt, &err) == 0 &&
	    ca_file_write_atomic(path, pem.data, pem.size, 0644, &err) == 0) {
		int rc = unit_run(&out, "openssl x509 -in '%s' -noout -text 2>&1",
		    path);
		UCHECK(rc == 0 && out && strstr(out, "DNS:svc.internal") &&
		    strstr(out, "DNS:*.svc.internal") &&
		    strstr(out, "IP Address:10.0.20.5") &&
		    strstr(out, "CA:FALSE") &&
		    strstr(out, "TLS Web Server Authentication"), "openssl x509: "
		    "%.400s", out ? out : "");
		free(out);
	} else
		CU_FAIL("cannot write leaf.pem");
	gnutls_free(pem.data);
	gnutls_x509_crt_deinit(crt);
}

/* ".internal" is written as the RFC 5280 "internal". */
static void
test_name_constraints_written(void)
{
	static const struct {
		const char *permit[4];
		const char *want[4];
	} cases[] = {
		{ { ".internal", NULL }, { "internal", NULL } },
		{ { "internal", "example.org", "..lan", NULL },
		    { "internal", "example.org", "lan", NULL } },
	};
	size_t i, k;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct issue_case c;
		gnutls_x509_crt_t crt = NULL;
		gnutls_x509_name_constraints_t nc = NULL;
		gnutls_datum_t name, pem = { NULL, 0 };
		struct ca_err err;
		unsigned crit = 0, type = 0;
		char path[600], *out = NULL;
		int ret;

		memset(&c, 0, sizeof(c));
		c.name = "nc";
		c.prof = CA_PROF_ICA_CLIENT;
		c.subject = "CN=Constrained ICA";
		memcpy(c.permit, cases[i].permit, sizeof(c.permit));
		c.issuer = W_ROOT;
		c.nb = NB;
		c.na = ICA_NA;
		c.now = NOW;
		ret = issue(&crt, &c, &err);
		if (!UCHECK(ret == 0, "case %zu: issue %s", i, err.msg))
			continue;
		gnutls_x509_name_constraints_init(&nc);
		ret = gnutls_x509_crt_get_name_constraints(crt, nc, 0, &crit);
		UCHECK(ret == 0 && crit == 1, "case %zu: constraints ret %d crit "
		    "%u", i, ret, crit);
		for (k = 0; cases[i].want[k] != NULL; k++) {
			ret = gnutls_x509_name_constraints_get_permitted(nc,
			    (unsigned)k, &type, &name);
			UCHECK(ret == 0 && type == GNUTLS_SAN_DNSNAME &&
			    name.size == strlen(cases[i].want[k]) &&
			    memcmp(name.data, cases[i].want[k], name.size) == 0,
			    "case %zu: permitted %zu is '%.*s', want '%s'", i, k,
			    ret == 0 ? (int)name.size : 0, ret == 0 ?
			    (const char *)name.data : "", cases[i].want[k]);
		}
		UCHECK(gnutls_x509_name_constraints_get_permitted(nc, (unsigned)k,
		    &type, &name) == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE,
		    "case %zu: more than %zu permitted names", i, k);
		gnutls_x509_name_constraints_deinit(nc);

		/* and openssl reads the same */
		snprintf(path, sizeof(path), "%s/nc-%zu.pem", tmp, i);
		if (ca_cert_export_pem(&pem, crt, &err) == 0 &&
		    ca_file_write_atomic(path, pem.data, pem.size, 0644, &err) ==
		    0) {
			int rc = unit_run(&out, "openssl x509 -in '%s' -noout -text "
			    "2>&1", path);
			UCHECK(rc == 0 && out && strstr(out, "Permitted:") &&
			    unit_count(out, "DNS:.") == 0 && strstr(out,
			    "DNS:internal"), "case %zu: openssl: %.400s", i,
			    out ? out : "");
			free(out);
		}
		gnutls_free(pem.data);
		gnutls_x509_crt_deinit(crt);
	}
}

static const struct {
	const char *dn;
	const char *oneline;
	const char *rfc4514;
} subject_cases[] = {
	{ "CN=foo,O=Example", "/O=Example/CN=foo", "CN=foo,O=Example" },
	{ "CN=svc.internal,OU=Ops,O=Example,C=DE",
	    "/C=DE/O=Example/OU=Ops/CN=svc.internal",
	    "CN=svc.internal,OU=Ops,O=Example,C=DE" },
	{ "CN=only", "/CN=only", "CN=only" },
	{ "CN=a\\,b,O=X", "/O=X/CN=a,b", "CN=a\\,b,O=X" },
	{ "CN=Example Root CA 2027,O=Example Org",
	    "/O=Example Org/CN=Example Root CA 2027",
	    "CN=Example Root CA 2027,O=Example Org" },
};

static void
test_subject(void)
{
	size_t i;

	for (i = 0; i < sizeof(subject_cases) / sizeof(subject_cases[0]); i++) {
		struct issue_case c;
		gnutls_x509_crt_t crt = NULL;
		struct ca_err err;
		char *one = NULL, *rfc = NULL;

		memset(&c, 0, sizeof(c));
		c.name = "subject";
		c.prof = CA_PROF_ROOT;
		c.subject = subject_cases[i].dn;
		c.issuer = W_NONE;
		c.nb = NB;
		c.na = ROOT_NA;
		c.now = NOW;
		if (!UCHECK(issue(&crt, &c, &err) == 0, "'%s': %s",
		    subject_cases[i].dn, err.msg))
			continue;
		UCHECK(ca_cert_subject_oneline(&one, crt) == 0 && one != NULL &&
		    strcmp(one, subject_cases[i].oneline) == 0, "oneline of '%s' "
		    "is '%s', want '%s'", subject_cases[i].dn, one ? one : "",
		    subject_cases[i].oneline);
		UCHECK(ca_cert_subject(&rfc, crt) == 0 && rfc != NULL &&
		    strcmp(rfc, subject_cases[i].rfc4514) == 0, "subject of '%s' "
		    "is '%s'", subject_cases[i].dn, rfc ? rfc : "");
		free(one);
		free(rfc);
		gnutls_x509_crt_deinit(crt);
	}
}

/* ca_lint_cert on its own, against the wrong profile. */
static void
test_lint_profiles(void)
{
	static const struct {
		const char *name;
		int crt_ica; /* 0: the root */
		enum ca_profile prof;
		int issuer_root;
		int ret;
		const char *msg;
	} cases[] = {
		{ "root as root", 0, CA_PROF_ROOT, 0, 0, NULL },
		{ "ICA as server ICA", 1, CA_PROF_ICA_SERVER, 1, 0, NULL },
		{ "ICA as client ICA", 1, CA_PROF_ICA_CLIENT, 1, CA_EPOLICY,
		    "extendedKeyUsage" },
		{ "root as server leaf", 0, CA_PROF_LEAF_SERVER, 0, CA_EPOLICY,
		    "CA flag" },
		{ "ICA as root", 1, CA_PROF_ROOT, 1, CA_EPOLICY,
		    "extendedKeyUsage" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ca_err err;
		int ret;

		memset(&err, 0, sizeof(err));
		ret = ca_lint_cert(cases[i].crt_ica ? ica_crt : root_crt,
		    cases[i].prof, cases[i].issuer_root ? root_crt : NULL, NOW,
		    &err);
		UCHECK(ret == cases[i].ret, "%s: ret %d, want %d (%s)",
		    cases[i].name, ret, cases[i].ret, err.msg);
		if (cases[i].msg != NULL)
			UCHECK(strstr(err.msg, cases[i].msg) != NULL, "%s: message "
			    "'%s'", cases[i].name, err.msg);
	}
}

/*
 * ca_verify_chain at a given "now", with and without a CRL. Times are
 * judged at `now', never by the system clock: T0 lies ahead of it here.
 */
static void
test_verify_chain(void)
{
	struct issue_case good_c = issue_cases[0], bad_c = issue_cases[0];
	gnutls_x509_crt_t good = NULL, bad = NULL;
	gnutls_x509_crl_t crl = NULL;
	gnutls_datum_t der = { NULL, 0 };
	struct ca_crl_entry ent;
	struct ca_serial num;
	struct ca_err err;
	char serial[64];
	size_t i;
	struct {
		const char *name;
		int revoked_leaf, with_crl;
		const char *purpose;
		time_t now;
		int ret;
		const char *msg;
	} cases[] = {
		{ "good leaf", 0, 0, GNUTLS_KP_TLS_WWW_SERVER, NOW, 0, NULL },
		{ "good leaf, no purpose", 0, 0, NULL, NOW + 80 * DAY, 0, NULL },
		{ "expired", 0, 0, GNUTLS_KP_TLS_WWW_SERVER, LEAF_NA, CA_EVERIFY,
		    "expired" },
		{ "not yet valid", 0, 0, GNUTLS_KP_TLS_WWW_SERVER, NB - 1,
		    CA_EVERIFY, "not valid before" },
		{ "wrong purpose", 0, 0, GNUTLS_KP_TLS_WWW_CLIENT, NOW,
		    CA_EVERIFY, NULL },
		{ "good leaf with the CRL", 0, 1, GNUTLS_KP_TLS_WWW_SERVER,
		    NOW + 3600, 0, NULL },
		{ "revoked leaf with the CRL", 1, 1, GNUTLS_KP_TLS_WWW_SERVER,
		    NOW + 3600, CA_EVERIFY, "revoked" },
		{ "revoked leaf without a CRL", 1, 0, GNUTLS_KP_TLS_WWW_SERVER,
		    NOW + 3600, 0, NULL },
		/* as openssl verify -crl_check: a CRL outside its own dates
		 * at `now' proves nothing */
		{ "CRL past its nextUpdate", 0, 1, GNUTLS_KP_TLS_WWW_SERVER,
		    NOW + 15 * DAY, CA_EVERIFY, "CRL" },
		{ "CRL before its thisUpdate", 0, 1, GNUTLS_KP_TLS_WWW_SERVER,
		    NOW - 60, CA_EVERIFY, "CRL" },
	};

	good_c.dns[1] = NULL;
	bad_c.dns[1] = NULL;
	bad_c.subject = "CN=revoked.internal";
	bad_c.dns[0] = "revoked.internal";
	if (issue(&good, &good_c, &err) != 0 || issue(&bad, &bad_c, &err) != 0)
		goto out;
	/* the intermediate's CRL, made at NOW, revoking `bad' */
	memset(&ent, 0, sizeof(ent));
	ca_cert_serial_hex(serial, sizeof(serial), bad);
	ca_serial_from_hex(&ent.serial, serial);
	ent.revoked_at = NOW;
	ent.reason = CA_REASON_KEY_COMPROMISE;
	ca_serial_from_hex(&num, "01");
	if (!UCHECK(ca_crl_encode(&der, ica_crt, ica_k, &ent, 1, &num, NOW,
	    NOW + 14 * DAY, &err) == 0, "crl: %s", err.msg) ||
	    gnutls_x509_crl_init(&crl) < 0 ||
	    gnutls_x509_crl_import(crl, &der, GNUTLS_X509_FMT_DER) < 0)
		goto out;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int ret;

		memset(&err, 0, sizeof(err));
		ret = ca_verify_chain(cases[i].revoked_leaf ? bad : good, &ica_crt,
		    1, &root_crt, 1, cases[i].with_crl ? &crl : NULL,
		    cases[i].with_crl ? 1 : 0, cases[i].purpose, cases[i].now,
		    &err);
		UCHECK(ret == cases[i].ret, "%s: ret %d, want %d (%s)",
		    cases[i].name, ret, cases[i].ret, err.msg);
		if (cases[i].msg != NULL)
			UCHECK(strstr(err.msg, cases[i].msg) != NULL, "%s: message "
			    "'%s' lacks '%s'", cases[i].name, err.msg, cases[i].msg);
	}
out:
	gnutls_free(der.data);
	if (crl != NULL)
		gnutls_x509_crl_deinit(crl);
	if (good != NULL)
		gnutls_x509_crt_deinit(good);
	if (bad != NULL)
		gnutls_x509_crt_deinit(bad);
}

/* ca_cert_peek reads what GnuTLS reads, from PEM and DER, and refuses
 * what is not a whole certificate. */
static void
test_peek(void)
{
	gnutls_x509_crt_t certs[3], crt = NULL;
	gnutls_datum_t pem = { NULL, 0 }, der = { NULL, 0 };
	struct ca_cert_peek pk;
	struct ca_err err;
	char serial[64], *junk;
	size_t i;

	CU_ASSERT_EQUAL_FATAL(issue(&crt, &issue_cases[0], &err), 0);
	certs[0] = root_crt;
	certs[1] = ica_crt;
	certs[2] = crt;
	for (i = 0; i < 3; i++) {
		CU_ASSERT_FATAL(gnutls_x509_crt_export2(certs[i],
		    GNUTLS_X509_FMT_PEM, &pem) >= 0);
		CU_ASSERT_FATAL(gnutls_x509_crt_export2(certs[i],
		    GNUTLS_X509_FMT_DER, &der) >= 0);
		CU_ASSERT_EQUAL(ca_cert_serial_hex(serial, sizeof(serial),
		    certs[i]), 0);
		CU_ASSERT_EQUAL(ca_cert_peek(&pk, pem.data, pem.size), 0);
		CU_ASSERT_STRING_EQUAL(pk.serial, serial);
		CU_ASSERT_EQUAL(pk.not_after,
		    gnutls_x509_crt_get_expiration_time(certs[i]));
		CU_ASSERT_EQUAL(pk.not_before,
		    gnutls_x509_crt_get_activation_time(certs[i]));
		CU_ASSERT_EQUAL(ca_cert_peek(&pk, der.data, der.size), 0);
		CU_ASSERT_STRING_EQUAL(pk.serial, serial);
		/* Truncated, with a byte more, or not a certificate at all. */
		CU_ASSERT_EQUAL(ca_cert_peek(&pk, der.data, der.size - 1),
		    CA_EINVAL);
		CU_ASSERT_EQUAL(pk.serial[0], '\0');
		if ((junk = malloc(der.size + 1)) != NULL) {
			memcpy(junk, der.data, der.size);
			junk[der.size] = 0;
			CU_ASSERT_EQUAL(ca_cert_peek(&pk, (unsigned char *)junk,
			    der.size + 1), CA_EINVAL);
			free(junk);
		}
		gnutls_free(pem.data);
		gnutls_free(der.data);
	}
	CU_ASSERT_EQUAL(ca_cert_peek(&pk, (const unsigned char *)"hello", 5),
	    CA_EINVAL);
	CU_ASSERT_EQUAL(ca_cert_peek(&pk, (const unsigned char *)
	    "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
	    58), CA_EINVAL);
	gnutls_x509_crt_deinit(crt);
}

void
register_cert(void)
{
	CU_pSuite s = CU_add_suite("cert", suite_init, suite_clean);

	CU_add_test(s, "ca_serial_random", test_serial_random);
	CU_add_test(s, "ca_serial_from_hex", test_serial_from_hex);
	CU_add_test(s, "ca_dns_check", test_dns_check);
	CU_add_test(s, "ca_ip_check", test_ip_check);
	CU_add_test(s, "ca_cert_issue and lint table", test_issue_table);
	CU_add_test(s, "server leaf profile", test_leaf_profile);
	CU_add_test(s, "nameConstraints as written",
	    test_name_constraints_written);
	CU_add_test(s, "subject forms", test_subject);
	CU_add_test(s, "lint against the wrong profile", test_lint_profiles);
	CU_add_test(s, "ca_verify_chain at a given now, with a CRL",
	    test_verify_chain);
	CU_add_test(s, "ca_cert_peek agrees with GnuTLS", test_peek);
}
