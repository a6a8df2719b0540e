/*
 * test_pair.c - libca/pair.c: what a pair's three certificates hold, the
 * input it refuses, and the directory it writes whole or not at all.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"

static void
opts(struct ca_pair_opts *o)
{
	struct ca_pair_opts init = CA_PAIR_OPTS_INIT;

	*o = init;
	o->proxy = "lb";
	o->app = "web";
	ca_strv_add(&o->dns, "web.internal");
	ca_strv_add(&o->ip, "127.0.0.1");
}

static void
opts_free(struct ca_pair_opts *o)
{
	ca_strv_free(&o->dns);
	ca_strv_free(&o->ip);
	ca_strv_free(&o->proxy_dns);
	ca_strv_free(&o->proxy_ip);
}

/* 1 when crt lists the EKU oid. */
static int
has_eku(gnutls_x509_crt_t crt, const char *oid, int *n)
{
	char buf[128];
	size_t len;
	unsigned i;
	int found = 0;

	*n = 0;
	for (i = 0;; i++) {
		len = sizeof(buf);
		if (gnutls_x509_crt_get_key_purpose_oid(crt, i, buf, &len, NULL) <
		    0)
			break;
		(*n)++;
		if (strcmp(buf, oid) == 0)
			found = 1;
	}
	return found;
}

static void
test_contents(void)
{
	struct ca_pair_opts o;
	struct ca_pair p;
	struct ca_err err = { 0 };
	char serial[64], cn[128];
	unsigned crit = 0, ca = 0, usage = 0;
	int pathlen = -1, n;
	size_t len;

	opts(&o);
	CU_ASSERT_FATAL(ca_pair_make(&p, &o, T0, &err) == 0);
	CU_ASSERT(p.key[CA_PAIR_CA] == NULL);
	CU_ASSERT(p.key[CA_PAIR_PROXY] != NULL && p.key[CA_PAIR_APP] != NULL);

	/* The CA: CA:TRUE pathlen:0, keyCertSign alone, no EKU. */
	CU_ASSERT(gnutls_x509_crt_get_basic_constraints(p.crt[CA_PAIR_CA],
	    &crit, &ca, &pathlen) >= 0 && crit && ca && pathlen == 0);
	CU_ASSERT(gnutls_x509_crt_get_key_usage(p.crt[CA_PAIR_CA], &usage,
	    &crit) >= 0 && usage == GNUTLS_KEY_KEY_CERT_SIGN);
	CU_ASSERT(!has_eku(p.crt[CA_PAIR_CA], GNUTLS_KP_TLS_WWW_SERVER, &n) &&
	    n == 0);
	len = sizeof(cn);
	CU_ASSERT(gnutls_x509_crt_get_dn_by_oid(p.crt[CA_PAIR_CA],
	    GNUTLS_OID_X520_COMMON_NAME, 0, 0, cn, &len) >= 0 &&
	    strncmp(cn, "tierca pair 2027-01-01 ", 23) == 0);

	/* The proxy: serial 1000, clientAuth only, CN=proxy lb. */
	CU_ASSERT(ca_cert_serial_hex(serial, sizeof(serial),
	    p.crt[CA_PAIR_PROXY]) == 0 && strcmp(serial, "1000") == 0);
	CU_ASSERT(has_eku(p.crt[CA_PAIR_PROXY], GNUTLS_KP_TLS_WWW_CLIENT, &n) &&
	    n == 1);
	len = sizeof(cn);
	CU_ASSERT(gnutls_x509_crt_get_dn_by_oid(p.crt[CA_PAIR_PROXY],
	    GNUTLS_OID_X520_COMMON_NAME, 0, 0, cn, &len) >= 0 &&
	    strcmp(cn, "proxy lb") == 0);
	CU_ASSERT(gnutls_x509_crt_get_basic_constraints(p.crt[CA_PAIR_PROXY],
	    &crit, &ca, &pathlen) >= 0 && !ca);

	/* The app: serial 1001, serverAuth only, its names. */
	CU_ASSERT(ca_cert_serial_hex(serial, sizeof(serial),
	    p.crt[CA_PAIR_APP]) == 0 && strcmp(serial, "1001") == 0);
	CU_ASSERT(has_eku(p.crt[CA_PAIR_APP], GNUTLS_KP_TLS_WWW_SERVER, &n) &&
	    n == 1);
	CU_ASSERT(gnutls_x509_crt_check_hostname(p.crt[CA_PAIR_APP],
	    "web.internal"));
	CU_ASSERT(gnutls_x509_crt_check_ip(p.crt[CA_PAIR_APP],
	    (const unsigned char *)"\x7f\0\0\1", 4, 0));

	/* 100 calendar years, the same for all three. */
	CU_ASSERT(gnutls_x509_crt_get_expiration_time(p.crt[CA_PAIR_CA]) ==
	    (time_t)4954435200);  /* 2127-01-01T00:00:00Z */
	CU_ASSERT(gnutls_x509_crt_get_expiration_time(p.crt[CA_PAIR_APP]) ==
	    gnutls_x509_crt_get_expiration_time(p.crt[CA_PAIR_CA]));

	/* Each leaf chains to the CA for its purpose, and not for the
	 * other; each key is its certificate's. */
	CU_ASSERT(ca_verify_chain(p.crt[CA_PAIR_PROXY], NULL, 0,
	    &p.crt[CA_PAIR_CA], 1, NULL, 0, GNUTLS_KP_TLS_WWW_CLIENT, T0 + DAY,
	    &err) == 0);
	CU_ASSERT(ca_verify_chain(p.crt[CA_PAIR_APP], NULL, 0,
	    &p.crt[CA_PAIR_CA], 1, NULL, 0, GNUTLS_KP_TLS_WWW_SERVER, T0 + DAY,
	    &err) == 0);
	CU_ASSERT(ca_verify_chain(p.crt[CA_PAIR_APP], NULL, 0,
	    &p.crt[CA_PAIR_CA], 1, NULL, 0, GNUTLS_KP_TLS_WWW_CLIENT, T0 + DAY,
	    NULL) != 0);
	CU_ASSERT(ca_cert_matches_key(p.crt[CA_PAIR_PROXY],
	    p.key[CA_PAIR_PROXY]));
	CU_ASSERT(ca_cert_matches_key(p.crt[CA_PAIR_APP], p.key[CA_PAIR_APP]));
	CU_ASSERT(!ca_cert_matches_key(p.crt[CA_PAIR_CA], p.key[CA_PAIR_APP]));
	ca_pair_free(&p);
	ca_pair_free(&p);
	opts_free(&o);
}

static void
test_both_eku(void)
{
	struct ca_pair_opts o;
	struct ca_pair p;
	struct ca_err err = { 0 };
	int n, i;

	opts(&o);
	o.both_eku = 1;
	ca_strv_add(&o.proxy_dns, "lb.internal");
	CU_ASSERT_FATAL(ca_pair_make(&p, &o, T0, &err) == 0);
	for (i = CA_PAIR_PROXY; i <= CA_PAIR_APP; i++) {
		UCHECK(has_eku(p.crt[i], GNUTLS_KP_TLS_WWW_SERVER, &n) &&
		    has_eku(p.crt[i], GNUTLS_KP_TLS_WWW_CLIENT, &n) && n == 2,
		    "%s has both EKUs", ca_pair_cert_name((enum ca_pair_cert)i));
	}
	CU_ASSERT(gnutls_x509_crt_check_hostname(p.crt[CA_PAIR_PROXY],
	    "lb.internal"));
	ca_pair_free(&p);
	opts_free(&o);
}

static void
test_pins(void)
{
	struct ca_pair_opts o;
	struct ca_pair p;
	struct ca_pair_pin pin;
	struct ca_err err = { 0 };
	gnutls_datum_t pem = { NULL, 0 };
	char *path = NULL, *out = NULL;

	opts(&o);
	CU_ASSERT_FATAL(ca_pair_make(&p, &o, T0, &err) == 0);
	CU_ASSERT_FATAL(ca_pair_pin(&pin, p.crt[CA_PAIR_PROXY], &err) == 0);
	CU_ASSERT_STRING_EQUAL(pin.serial, "1000");
	CU_ASSERT_STRING_EQUAL(pin.subject, "CN=proxy lb");
	CU_ASSERT(strlen(pin.sha256) == 95 && pin.sha256[2] == ':');
	CU_ASSERT(strlen(pin.sha256_hex) == 64);
	CU_ASSERT(strlen(pin.pin_sha256) == 44 && pin.pin_sha256[43] == '=');
	/* The independent checker: openssl on the same certificate. */
	CU_ASSERT_FATAL(ca_cert_export_pem(&pem, p.crt[CA_PAIR_PROXY], &err) ==
	    0);
	CU_ASSERT_FATAL(asprintf(&path, "%s/pin.pem", unit_tmp) > 0);
	unit_write(path, (const char *)pem.data, 0644);
	if (unit_run(&out, "openssl x509 -in %s -noout -pubkey | openssl pkey "
	    "-pubin -outform DER | openssl dgst -sha256 -binary | base64",
	    path) == 0)
		UCHECK(strncmp(out, pin.pin_sha256, 44) == 0, "pin %s, openssl "
		    "%s", pin.pin_sha256, out);
	free(out);
	out = NULL;
	if (unit_run(&out, "openssl x509 -in %s -noout -fingerprint -sha256",
	    path) == 0)
		UCHECK(strstr(out, pin.sha256) != NULL, "sha256 %s, openssl %s",
		    pin.sha256, out);
	free(out);
	free(path);
	gnutls_free(pem.data);
	ca_pair_free(&p);
	opts_free(&o);
}

static void
test_refused(void)
{
	static const struct {
		const char *what, *proxy, *app, *dns, *pdns;
		int years, both;
	} t[] = {
		{ "no proxy", NULL, "web", "web.internal", NULL, 100, 0 },
		{ "no app", "lb", NULL, "web.internal", NULL, 100, 0 },
		{ "bad proxy name", "l b", "web", "web.internal", NULL, 100, 0 },
		{ "bad app name", "lb", "-web", "web.internal", NULL, 100, 0 },
		{ "long name", "lb", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		    "web.internal", NULL, 100, 0 },
		{ "app without names", "lb", "web", NULL, NULL, 100, 0 },
		{ "bad DNS", "lb", "web", "web..internal", NULL, 100, 0 },
		{ "0 years", "lb", "web", "web.internal", NULL, 0, 0 },
		{ "201 years", "lb", "web", "web.internal", NULL, 201, 0 },
		{ "both EKUs, proxy without names", "lb", "web", "web.internal",
		    NULL, 100, 1 },
		{ "bad proxy DNS", "lb", "web", "web.internal", "-x", 100, 1 },
	};
	struct ca_pair_opts init = CA_PAIR_OPTS_INIT, o;
	struct ca_pair p;
	struct ca_err err;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		o = init;
		o.proxy = t[i].proxy;
		o.app = t[i].app;
		o.years = t[i].years;
		o.both_eku = t[i].both;
		if (t[i].dns != NULL)
			ca_strv_add(&o.dns, t[i].dns);
		if (t[i].pdns != NULL)
			ca_strv_add(&o.proxy_dns, t[i].pdns);
		memset(&err, 0, sizeof(err));
		UCHECK(ca_pair_make(&p, &o, T0, &err) == CA_EINVAL &&
		    err.msg[0] && p.crt[CA_PAIR_CA] == NULL, "%s: refused (%s)",
		    t[i].what, err.msg);
		opts_free(&o);
	}
}

static void
test_create(void)
{
	struct ca_pair_opts o;
	struct ca_pair_info pi;
	struct ca_err err = { 0 };
	char *base = NULL, *d = NULL, *f = NULL, *txt;
	static const char *const files[] = { "ca.crt", "proxy.crt",
	    "proxy.key", "app.crt", "app.key", "pins.txt", "pins.json",
	    "nginx.conf", "nginx-proxy.conf", "apache.conf" };
	size_t i;

	opts(&o);
	/* A directory of its own, to see that nothing else appears. */
	CU_ASSERT_FATAL(asprintf(&base, "%s/create", unit_tmp) > 0 &&
	    mkdir(base, 0700) == 0);
	CU_ASSERT_FATAL(asprintf(&d, "%s/pair", base) > 0);
	CU_ASSERT_FATAL(ca_pair_create(&pi, d, &o, T0, &err) == 0);
	CU_ASSERT_STRING_EQUAL(pi.pin[CA_PAIR_APP].serial, "1001");
	CU_ASSERT(unit_mode(d) == 0700);
	CU_ASSERT(unit_dir_count(d) == 10);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		free(f);
		CU_ASSERT_FATAL(asprintf(&f, "%s/%s", d, files[i]) > 0);
		UCHECK(unit_mode(f) == (strstr(files[i], ".key") ? 0600 : 0644),
		    "%s mode %o", files[i], unit_mode(f));
	}
	free(f);
	CU_ASSERT_FATAL(asprintf(&f, "%s/nginx.conf", d) > 0);
	txt = unit_read(f, NULL);
	CU_ASSERT(txt != NULL && strstr(txt, "ssl_verify_client on;") &&
	    strstr(txt, "ssl_verify_depth 1;") &&
	    strstr(txt, "if ($ssl_client_serial != \"1000\")"));
	free(txt);
	free(f);
	CU_ASSERT_FATAL(asprintf(&f, "%s/apache.conf", d) > 0);
	txt = unit_read(f, NULL);
	CU_ASSERT(txt != NULL && strstr(txt, "SSLVerifyClient require") &&
	    strstr(txt, "SSLVerifyDepth 1") &&
	    strstr(txt, "%{SSL_CLIENT_M_SERIAL} != '1000'"));
	free(txt);
	free(f);
	ca_pair_info_clear(&pi);

	/* Never over an earlier pair; nothing beside it either. */
	CU_ASSERT(ca_pair_create(&pi, d, &o, T0, &err) == CA_EEXIST);
	CU_ASSERT(pi.dir == NULL && pi.pins_txt == NULL);
	CU_ASSERT(unit_dir_count(base) == 1);
	/* A missing parent. */
	f = NULL;
	CU_ASSERT_FATAL(asprintf(&f, "%s/no/pair", base) > 0);
	CU_ASSERT(ca_pair_create(&pi, f, &o, T0, &err) == CA_ENOENT);
	CU_ASSERT(unit_dir_count(base) == 1);
	free(f);
	free(d);
	free(base);
	opts_free(&o);
}

void
register_pair(void)
{
	CU_pSuite s = CU_add_suite("pair", unit_tmp_init, unit_tmp_clean);

	CU_add_test(s, "the three certificates", test_contents);
	CU_add_test(s, "both EKUs", test_both_eku);
	CU_add_test(s, "pins against openssl", test_pins);
	CU_add_test(s, "refused input", test_refused);
	CU_add_test(s, "the directory", test_create);
}
