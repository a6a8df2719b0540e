/*
 * test_ca.c - libca end to end (ca.c, issue.c, revoke.c): a root, a
 * server and a client intermediate, leaves, revocation and CRLs, judged
 * by libca and by openssl. The tests run in order and build on each
 * other, as the ceremony and the CA host do.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"

static char *tmp;
static char root_dir[600], srv_dir[600], cli_dir[600];
static char srv_crt[700], cli_crt[700], srv_as_cli_crt[700];
static char pass_buf[] = "correct horse battery staple";
static char wrong_buf[] = "correct horse battery stapler";
/* Hand-made secrets (cap 0): ca_secret_wipe leaves their buffers alone. */
static const struct ca_secret pass = { pass_buf, sizeof(pass_buf) - 1 };
static const struct ca_secret wrong = { wrong_buf, sizeof(wrong_buf) - 1 };
static int installed;            /* both intermediates are installed */
/*
 * The run's "now": ten days ago, so that what is made here is valid by
 * the system clock too and openssl and GnuTLS can judge it as it is
 * (test_moved_time and test_cert.c use a "now" ahead of the clock).
 */
static time_t N0;
#define SERIAL_LEN sizeof(((struct ca_issued *)0)->serial)
static char web1[SERIAL_LEN], web2[SERIAL_LEN], api[SERIAL_LEN];

#define CLI_DAYS 30
#define CLI_NA (N0 + CLI_DAYS * DAY)

static int
suite_init(void)
{
	if ((tmp = unit_tmpdir()) == NULL)
		return -1;
	N0 = time(NULL) / DAY * DAY - 10 * DAY;
	snprintf(root_dir, sizeof(root_dir), "%s/root", tmp);
	snprintf(srv_dir, sizeof(srv_dir), "%s/server-ica", tmp);
	snprintf(cli_dir, sizeof(cli_dir), "%s/client-ica", tmp);
	snprintf(srv_crt, sizeof(srv_crt), "%s/server.crt", tmp);
	snprintf(cli_crt, sizeof(cli_crt), "%s/client.crt", tmp);
	snprintf(srv_as_cli_crt, sizeof(srv_as_cli_crt),
	    "%s/server-as-client.crt", tmp);
	return 0;
}

static int
suite_clean(void)
{
	unit_rmtree(tmp);
	free(tmp);
	tmp = NULL;
	return 0;
}

static const char *
in(const char *dir, const char *rel)
{
	static char p[4][800];
	static int k;

	k = (k + 1) % 4;
	snprintf(p[k], sizeof(p[k]), "%s/%s", dir, rel);
	return p[k];
}

static int
file_is(const char *path, const char *want)
{
	char *got = unit_read(path, NULL);
	int ok = got != NULL && strcmp(got, want) == 0;

	free(got);
	return ok;
}

/* Entries of D/index.txt, or -1. */
static int
db_count(const char *dir)
{
	struct ca_db *db = NULL;
	int n;

	if (ca_db_load(&db, in(dir, "index.txt"), NULL) != 0)
		return -1;
	n = (int)db->n;
	ca_db_free(db);
	return n;
}

static void
test_root_init(void)
{
	static const struct {
		const char *name;
		const char *subject;
		int days;
		enum ca_key_alg alg;
		const char *pass; /* NULL: none */
		int ret;
	} bad[] = {
		{ "short passphrase", "CN=R", 3650, CA_KEY_ECDSA_P384,
		    "short pass", CA_EPASS },
		{ "no passphrase", "CN=R", 3650, CA_KEY_ECDSA_P384, NULL,
		    CA_EPASS },
		{ "no subject", NULL, 3650, CA_KEY_ECDSA_P384, pass_buf,
		    CA_EINVAL },
		{ "empty subject", "", 3650, CA_KEY_ECDSA_P384, pass_buf,
		    CA_EINVAL },
		{ "too short", "CN=R", 364, CA_KEY_ECDSA_P384, pass_buf,
		    CA_EINVAL },
		{ "too long", "CN=R", 36501, CA_KEY_ECDSA_P384, pass_buf,
		    CA_EINVAL },
		{ "bad algorithm", "CN=R", 3650, CA_KEY__MAX, pass_buf,
		    CA_EINVAL },
		{ "bad subject", "CN", 3650, CA_KEY_ECDSA_P256, pass_buf,
		    CA_EINVAL },
	};
	struct ca_root_init_opts o = CA_ROOT_INIT_OPTS_INIT;
	struct ca_log_status st;
	gnutls_x509_crt_t crt = NULL;
	struct ca_err err;
	char *before = NULL, *after = NULL;
	size_t i;

	/* Refusals write nothing at all. */
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ca_root_init_opts b = CA_ROOT_INIT_OPTS_INIT;
		char buf[64], dir[700];
		struct ca_secret s;
		int ret;

		snprintf(dir, sizeof(dir), "%s/bad-root-%zu", tmp, i);
		b.subject = bad[i].subject;
		b.days = bad[i].days;
		b.alg = bad[i].alg;
		if (bad[i].pass != NULL) {
			snprintf(buf, sizeof(buf), "%s", bad[i].pass);
			s.buf = buf;
			s.len = strlen(buf);
		}
		memset(&err, 0, sizeof(err));
		ret = ca_root_init(dir, &b, bad[i].pass ? &s : NULL, N0, &err);
		UCHECK(ret == bad[i].ret, "%s: ret %d, want %d (%s)", bad[i].name,
		    ret, bad[i].ret, err.msg);
		UCHECK(!ca_file_exists(dir), "%s: '%s' was created", bad[i].name,
		    dir);
	}

	o.subject = "CN=Unit Root CA,O=Example";
	memset(&err, 0, sizeof(err));
	if (!UCHECK(ca_root_init(root_dir, &o, &pass, N0, &err) == 0, "init: %s",
	    err.msg))
		return;
	CU_ASSERT(file_is(in(root_dir, "kind"), "root\n"));
	CU_ASSERT(file_is(in(root_dir, "index.txt"), ""));
	CU_ASSERT(file_is(in(root_dir, "crlnumber"), "01\n"));
	CU_ASSERT_EQUAL(unit_mode(in(root_dir, "private")), 0700);
	CU_ASSERT_EQUAL(unit_mode(in(root_dir, "private/ca.key")), 0600);
	CU_ASSERT_EQUAL(ca_key_file_encrypted(in(root_dir, "private/ca.key"),
	    &err), 1);
	CU_ASSERT(ca_file_exists(in(root_dir, "certs")));
	/* kind index.txt index.txt.attr crlnumber private certs ca.crt
	 * ceremony.log ceremony.head .lock, and no temp file */
	CU_ASSERT_EQUAL(unit_dir_count(root_dir), 10);
	if (UCHECK(ca_cert_load(&crt, in(root_dir, "ca.crt"), &err) == 0,
	    "load: %s", err.msg)) {
		unsigned crit = 0, ca = 0, status = 9;
		int pl = 0;
		CU_ASSERT_EQUAL(gnutls_x509_crt_get_activation_time(crt),
		    N0 - 300);
		CU_ASSERT_EQUAL(gnutls_x509_crt_get_expiration_time(crt),
		    N0 + 3650 * DAY);
		CU_ASSERT(gnutls_x509_crt_get_basic_constraints(crt, &crit, &ca,
		    &pl) >= 0 && crit && ca);
		CU_ASSERT(gnutls_x509_crt_check_issuer(crt, crt));
		CU_ASSERT(gnutls_x509_crt_verify(crt, &crt, 1, 0, &status) == 0 &&
		    (status & GNUTLS_CERT_SIGNATURE_FAILURE) == 0);
		gnutls_x509_crt_deinit(crt);
	}
	CU_ASSERT_EQUAL(ca_log_verify(&st, root_dir, &err), 0);
	CU_ASSERT_EQUAL(st.entries, 1);

	/* A second init is refused and changes nothing. */
	before = unit_read(in(root_dir, "ca.crt"), NULL);
	memset(&err, 0, sizeof(err));
	CU_ASSERT_EQUAL(ca_root_init(root_dir, &o, &pass, N0 + DAY, &err),
	    CA_EEXIST);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, root_dir));
	after = unit_read(in(root_dir, "ca.crt"), NULL);
	CU_ASSERT(before && after && strcmp(before, after) == 0);
	CU_ASSERT(file_is(in(root_dir, "kind"), "root\n"));
	CU_ASSERT_EQUAL(ca_log_verify(&st, root_dir, &err), 0);
	CU_ASSERT_EQUAL(st.entries, 1);
	free(before);
	free(after);
}

static void
test_root_key(void)
{
	struct ca *root = NULL;
	struct ca_err err;

	if (!UCHECK(ca_open(&root, root_dir, CA_OPEN_LOCK | CA_OPEN_NEED_CERT,
	    &err) == 0, "open: %s", err.msg))
		return;
	CU_ASSERT_EQUAL(root->kind, CA_KIND_ROOT);
	CU_ASSERT_PTR_NOT_NULL(root->crt);
	CU_ASSERT_PTR_NULL(root->root);
	CU_ASSERT_EQUAL(ca_key_needs_pass(root, &err), 1);
	memset(&err, 0, sizeof(err));
	CU_ASSERT_EQUAL(ca_load_key(root, NULL, &err), CA_EPASS);
	CU_ASSERT_EQUAL(ca_load_key(root, &wrong, &err), CA_EPASS);
	CU_ASSERT_PTR_NULL(root->key);
	CU_ASSERT_EQUAL(ca_load_key(root, &pass, &err), 0);
	CU_ASSERT_PTR_NOT_NULL(root->key);
	ca_close(root);
	ca_close(NULL);
}

static void
test_ica_init(void)
{
	static const struct {
		const char *dir;
		enum ca_kind kind;
	} icas[] = {
		{ srv_dir, CA_KIND_SERVER },
		{ cli_dir, CA_KIND_CLIENT },
	};
	struct ca_ica_init_opts o = CA_ICA_INIT_OPTS_INIT;
	struct ca *ca = NULL;
	struct ca_err err;
	char buf[16], dir[700];
	struct ca_secret shortp = { buf, 5 };
	size_t i;

	snprintf(buf, sizeof(buf), "short");
	snprintf(dir, sizeof(dir), "%s/bad-ica", tmp);
	o.subject = "CN=Bad ICA";
	CU_ASSERT_EQUAL(ca_ica_init(dir, &o, NULL, &err), CA_EINVAL); /* kind */
	o.kind = CA_KIND_ROOT;
	CU_ASSERT_EQUAL(ca_ica_init(dir, &o, NULL, &err), CA_EINVAL);
	o.kind = CA_KIND_SERVER;
	CU_ASSERT_EQUAL(ca_ica_init(dir, &o, &shortp, &err), CA_EPASS);
	o.subject = NULL;
	CU_ASSERT_EQUAL(ca_ica_init(dir, &o, NULL, &err), CA_EINVAL);
	CU_ASSERT_FALSE(ca_file_exists(dir));

	for (i = 0; i < 2; i++) {
		const char *d = icas[i].dir;
		char kind[16];

		o.kind = icas[i].kind;
		o.subject = icas[i].kind == CA_KIND_SERVER ?
		    "CN=Unit Server ICA,O=Example" : "CN=Unit Client ICA,O=Example";
		o.alg = CA_KEY_ECDSA_P256;
		memset(&err, 0, sizeof(err));
		if (!UCHECK(ca_ica_init(d, &o, NULL, &err) == 0, "init %s: %s", d,
		    err.msg))
			continue;
		snprintf(kind, sizeof(kind), "%s\n", ca_kind_name(icas[i].kind));
		CU_ASSERT(file_is(in(d, "kind"), kind));
		CU_ASSERT(ca_file_exists(in(d, "ca.csr")));
		CU_ASSERT_FALSE(ca_file_exists(in(d, "ca.crt")));
		CU_ASSERT_EQUAL(unit_mode(in(d, "private/ca.key")), 0600);
		CU_ASSERT_EQUAL(unit_mode(in(d, "issued")), 0700);
		CU_ASSERT_EQUAL(ca_key_file_encrypted(in(d, "private/ca.key"),
		    &err), 0);
		/* not usable before install */
		memset(&err, 0, sizeof(err));
		CU_ASSERT_EQUAL(ca_open(&ca, d, CA_OPEN_NEED_CERT, &err),
		    CA_ENOENT);
		CU_ASSERT_PTR_NULL(ca);
		CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "install"));
		/* and not twice */
		CU_ASSERT_EQUAL(ca_ica_init(d, &o, NULL, &err), CA_EEXIST);
	}
	/* a directory that is not a CA */
	CU_ASSERT_EQUAL(ca_open(&ca, tmp, 0, &err), CA_ENOENT);
	CU_ASSERT_EQUAL(ca_open(&ca, in(tmp, "absent"), 0, &err), CA_ENOENT);
}

static int
sign_at(struct ca *root, const char *csr_dir, enum ca_kind kind, int days,
    const char *permit, const char *out_path, struct ca_issued *is,
    time_t now)
{
	struct ca_sign_ica_opts o = CA_SIGN_ICA_OPTS_INIT;
	gnutls_x509_crq_t q = NULL;
	gnutls_datum_t pem = { NULL, 0 };
	struct ca_err err;
	int ret;

	memset(&err, 0, sizeof(err));
	o.kind = kind;
	o.days = days;
	o.crl_url = "http://pki.example.internal/root.crl";
	if (permit != NULL)
		ca_strv_add(&o.permit_dns, permit);
	if ((ret = ca_csr_load(&q, in(csr_dir, "ca.csr"), &err)) == 0 &&
	    (ret = ca_root_sign(is, &pem, root, &o, q, now, &err)) == 0)
		ret = ca_file_write_atomic(out_path, pem.data, pem.size, 0644,
		    &err);
	UCHECK(ret == 0, "sign %s as %s: %s", csr_dir, ca_kind_name(kind),
	    err.msg);
	gnutls_free(pem.data);
	if (q != NULL)
		gnutls_x509_crq_deinit(q);
	ca_strv_free(&o.permit_dns);
	return ret;
}

static int
sign_to(struct ca *root, const char *csr_dir, enum ca_kind kind, int days,
    const char *permit, const char *out_path, struct ca_issued *is)
{
	return sign_at(root, csr_dir, kind, days, permit, out_path, is, N0);
}

static void
test_root_sign(void)
{
	struct ca *root = NULL;
	struct ca_issued is;
	struct ca_err err;
	char capped[700];

	if (!UCHECK(ca_open(&root, root_dir, CA_OPEN_LOCK, &err) == 0 &&
	    ca_load_key(root, &pass, &err) == 0, "open root: %s", err.msg)) {
		ca_close(root);
		return;
	}
	if (sign_to(root, srv_dir, CA_KIND_SERVER, 730, ".internal", srv_crt,
	    &is) == 0) {
		CU_ASSERT(is.name != NULL && strcmp(is.name, "server-ica") == 0);
		CU_ASSERT_EQUAL(is.capped, 0);
		CU_ASSERT_EQUAL(is.not_after, N0 + 730 * DAY);
		CU_ASSERT(ca_file_exists(in(root_dir, "certs")));
		{
			char rel[64];
			snprintf(rel, sizeof(rel), "certs/%s.pem", is.serial);
			CU_ASSERT(ca_file_exists(in(root_dir, rel)));
		}
		ca_issued_clear(&is);
	}
	if (sign_to(root, cli_dir, CA_KIND_CLIENT, CLI_DAYS, NULL, cli_crt,
	    &is) == 0) {
		CU_ASSERT(is.name != NULL && strcmp(is.name, "client-ica") == 0);
		CU_ASSERT_EQUAL(is.not_after, CLI_NA);
		ca_issued_clear(&is);
	}
	/* The server's request signed as a client intermediate: a
	 * certificate of the wrong kind for the server directory. */
	if (sign_to(root, srv_dir, CA_KIND_CLIENT, 730, NULL, srv_as_cli_crt,
	    &is) == 0)
		ca_issued_clear(&is);
	/* Never beyond the root's own end. */
	snprintf(capped, sizeof(capped), "%s/capped-ica.crt", tmp);
	if (sign_to(root, cli_dir, CA_KIND_CLIENT, 4000, NULL, capped,
	    &is) == 0) {
		CU_ASSERT_EQUAL(is.capped, 1);
		CU_ASSERT_EQUAL(is.not_after, N0 + 3650 * DAY);
		ca_issued_clear(&is);
	}
	CU_ASSERT_EQUAL(db_count(root_dir), 4);
	{
		struct ca_sign_ica_opts o = CA_SIGN_ICA_OPTS_INIT;
		gnutls_x509_crq_t q = NULL;
		gnutls_datum_t pem = { NULL, 0 };
		if (ca_csr_load(&q, in(srv_dir, "ca.csr"), &err) == 0) {
			o.kind = CA_KIND_ROOT;
			CU_ASSERT_EQUAL(ca_root_sign(&is, &pem, root, &o, q, N0,
			    &err), CA_EINVAL);
			o.kind = CA_KIND_SERVER;
			o.days = 0;
			CU_ASSERT_EQUAL(ca_root_sign(&is, &pem, root, &o, q, N0,
			    &err), CA_EINVAL);
			gnutls_x509_crq_deinit(q);
		}
		CU_ASSERT_EQUAL(db_count(root_dir), 4);
	}
	ca_close(root);
}

static void
test_ica_install(void)
{
	static const struct {
		const char *name;
		const char *cert;
		const char *root;
		int ret;
	} bad[] = {
		{ "the client ICA's certificate", cli_crt, NULL, CA_EVERIFY },
		{ "a client-kind certificate for this key", srv_as_cli_crt, NULL,
		    CA_EPOLICY },
		{ "the root's certificate", NULL, NULL, CA_EVERIFY },
		{ "a root that is not self-signed", srv_crt, srv_crt, CA_EVERIFY },
	};
	struct ca *ca = NULL;
	struct ca_err err;
	size_t i;
	char *chain = NULL, *a = NULL, *b = NULL;
	char *out = NULL;
	int rc;

	if (!UCHECK(ca_open(&ca, srv_dir, CA_OPEN_LOCK, &err) == 0, "open: %s",
	    err.msg))
		return;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *cert = bad[i].cert ? bad[i].cert :
		    in(root_dir, "ca.crt");
		const char *root = bad[i].root ? bad[i].root :
		    in(root_dir, "ca.crt");
		int ret;

		memset(&err, 0, sizeof(err));
		ret = ca_ica_install(ca, cert, root, N0, &err);
		UCHECK(ret == bad[i].ret, "install %s: ret %d, want %d (%s)",
		    bad[i].name, ret, bad[i].ret, err.msg);
		UCHECK(!ca_file_exists(in(srv_dir, "ca.crt")) && ca->crt == NULL,
		    "install %s: installed anyway", bad[i].name);
	}
	memset(&err, 0, sizeof(err));
	if (!UCHECK(ca_ica_install(ca, srv_crt, in(root_dir, "ca.crt"), N0,
	    &err) == 0, "install server: %s", err.msg)) {
		ca_close(ca);
		return;
	}
	CU_ASSERT_PTR_NOT_NULL(ca->crt);
	CU_ASSERT_PTR_NOT_NULL(ca->root);
	a = unit_read(srv_crt, NULL);
	b = unit_read(in(root_dir, "ca.crt"), NULL);
	chain = unit_read(in(srv_dir, "chain.pem"), NULL);
	CU_ASSERT(a && b && chain && strncmp(chain, a, strlen(a)) == 0 &&
	    strcmp(chain + strlen(a), b) == 0);
	CU_ASSERT(file_is(in(srv_dir, "ca.crt"), a ? a : "?"));
	CU_ASSERT(file_is(in(srv_dir, "root.crt"), b ? b : "?"));
	free(a);
	free(b);
	free(chain);
	ca_close(ca);

	/* openssl agrees: the intermediate chains to the root. */
	rc = unit_run(&out, "openssl verify -attime %lld -CAfile '%s' '%s' 2>&1",
	    (long long)N0 + DAY, in(root_dir, "ca.crt"), in(srv_dir, "ca.crt"));
	UCHECK(rc == 0 && out && strstr(out, ": OK"), "openssl verify: %s",
	    out ? out : "");
	free(out);

	if (!UCHECK(ca_open(&ca, cli_dir, CA_OPEN_LOCK, &err) == 0, "open: %s",
	    err.msg))
		return;
	/* the server's certificate into the client directory */
	CU_ASSERT_EQUAL(ca_ica_install(ca, srv_crt, in(root_dir, "ca.crt"), N0,
	    &err), CA_EVERIFY);
	if (UCHECK(ca_ica_install(ca, cli_crt, in(root_dir, "ca.crt"), N0,
	    &err) == 0, "install client: %s", err.msg))
		installed = 1;
	ca_close(ca);
	/* now a complete intermediate */
	if (UCHECK(ca_open(&ca, srv_dir, CA_OPEN_NEED_CERT, &err) == 0,
	    "reopen: %s", err.msg)) {
		CU_ASSERT_PTR_NOT_NULL(ca->root);
		CU_ASSERT_EQUAL(ca->kind, CA_KIND_SERVER);
		ca_close(ca);
	}
}

static int
open_ica(struct ca **out, const char *dir)
{
	struct ca_err err;

	*out = NULL;
	if (!installed) {
		CU_FAIL("the intermediates were not installed");
		return -1;
	}
	if (!UCHECK(ca_open(out, dir, CA_OPEN_LOCK | CA_OPEN_NEED_CERT,
	    &err) == 0 && ca_key_needs_pass(*out, &err) == 0 &&
	    ca_load_key(*out, NULL, &err) == 0, "open %s: %s", dir, err.msg)) {
		ca_close(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

static int
issue(struct ca_issued *is, struct ca *ca, const char *name,
    const char *dns, int days, int replace, time_t now, struct ca_err *err)
{
	struct ca_issue_opts o = CA_ISSUE_OPTS_INIT;
	int ret;

	o.name = name;
	o.days = days;
	o.replace = replace;
	if (dns != NULL)
		ca_strv_add(&o.dns, dns);
	else
		o.cn = name;
	memset(err, 0, sizeof(*err));
	ret = ca_issue(is, ca, &o, now, err);
	ca_strv_free(&o.dns);
	return ret;
}

static int
openssl_verify(char **out, const char *leaf, const char *crl, time_t at)
{
	return unit_run(out, "openssl verify -attime %lld %s%s%s -CAfile '%s' "
	    "-untrusted '%s' '%s' 2>&1", (long long)at,
	    crl ? "-crl_check -CRLfile '" : "", crl ? crl : "", crl ? "'" : "",
	    in(root_dir, "ca.crt"), in(srv_dir, "ca.crt"), leaf);
}

static void
test_issue(void)
{
	struct ca_issued is;
	struct ca *ca = NULL;
	struct ca_err err;
	gnutls_x509_privkey_t k = NULL;
	gnutls_x509_crt_t crt = NULL;
	char *full = NULL, *cert = NULL, *chain = NULL, *out = NULL;
	time_t now = N0 + DAY;
	int n, certs, rc;

	if (open_ica(&ca, srv_dir) != 0)
		return;
	memset(&is, 0, sizeof(is));
	if (!UCHECK(issue(&is, ca, "web", "web.internal", 90, 0, now, &err) == 0,
	    "issue web: %s", err.msg))
		goto out;
	snprintf(web1, sizeof(web1), "%s", is.serial);
	CU_ASSERT(strlen(is.serial) >= 30);
	CU_ASSERT(is.name && strcmp(is.name, "web") == 0);
	CU_ASSERT(is.subject && strcmp(is.subject, "CN=web.internal") == 0);
	CU_ASSERT_EQUAL(is.not_before, now - 300);
	CU_ASSERT_EQUAL(is.not_after, now + 90 * DAY);
	CU_ASSERT_EQUAL(is.capped, 0);
	CU_ASSERT(is.cert_path && ca_file_exists(is.cert_path));
	ca_issued_clear(&is);
	CU_ASSERT_EQUAL(unit_mode(in(srv_dir, "issued/web")), 0700);
	CU_ASSERT_EQUAL(unit_mode(in(srv_dir, "issued/web/key.pem")), 0600);
	/* the key is the certificate's, fullchain is cert + chain */
	if (UCHECK(ca_key_load(&k, in(srv_dir, "issued/web/key.pem"), NULL,
	    &err) == 0 && ca_cert_load(&crt, in(srv_dir, "issued/web/cert.pem"),
	    &err) == 0, "load: %s", err.msg)) {
		char serial[64];
		CU_ASSERT(ca_cert_matches_key(crt, k));
		ca_cert_serial_hex(serial, sizeof(serial), crt);
		CU_ASSERT_STRING_EQUAL(serial, web1);
	}
	if (k != NULL)
		gnutls_x509_privkey_deinit(k);
	if (crt != NULL)
		gnutls_x509_crt_deinit(crt);
	cert = unit_read(in(srv_dir, "issued/web/cert.pem"), NULL);
	chain = unit_read(in(srv_dir, "issued/web/chain.pem"), NULL);
	full = unit_read(in(srv_dir, "issued/web/fullchain.pem"), NULL);
	CU_ASSERT(cert && chain && full && strlen(full) == strlen(cert) +
	    strlen(chain) && strncmp(full, cert, strlen(cert)) == 0);
	CU_ASSERT(chain && file_is(in(srv_dir, "ca.crt"), chain));
	free(cert);
	free(chain);
	free(full);
	CU_ASSERT_EQUAL(db_count(srv_dir), 1);
	rc = openssl_verify(&out, in(srv_dir, "issued/web/cert.pem"), NULL, now);
	UCHECK(rc == 0 && out && strstr(out, ": OK"), "openssl verify web: %s",
	    out ? out : "");
	free(out);
	out = NULL;

	/* The name is taken while its certificate is valid. */
	CU_ASSERT_EQUAL(issue(&is, ca, "web", "web.internal", 90, 0, now, &err),
	    CA_EEXIST);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "'web'"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, web1));
	CU_ASSERT_EQUAL(db_count(srv_dir), 1);
	/* unless replacing */
	if (UCHECK(issue(&is, ca, "web", "web.internal", 90, 1, now, &err) == 0,
	    "replace web: %s", err.msg)) {
		snprintf(web2, sizeof(web2), "%s", is.serial);
		CU_ASSERT(strcmp(web1, web2) != 0);
		ca_issued_clear(&is);
		if (ca_cert_load(&crt, in(srv_dir, "issued/web/cert.pem"),
		    &err) == 0) {
			char serial[64];
			ca_cert_serial_hex(serial, sizeof(serial), crt);
			CU_ASSERT_STRING_EQUAL(serial, web2);
			gnutls_x509_crt_deinit(crt);
			crt = NULL;
		}
	}
	CU_ASSERT_EQUAL(db_count(srv_dir), 2);

	/* Refused: nothing recorded, stored or published. */
	certs = unit_dir_count(in(srv_dir, "certs"));
	n = db_count(srv_dir);
	CU_ASSERT_EQUAL(issue(&is, ca, "evil", "evil.example", 90, 0, now, &err),
	    CA_EPOLICY);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "evil.example"));
	CU_ASSERT_EQUAL(issue(&is, ca, "../x", "x.internal", 90, 0, now, &err),
	    CA_EINVAL);
	CU_ASSERT_EQUAL(issue(&is, ca, "zero", "zero.internal", 0, 0, now,
	    &err), CA_EINVAL);
	CU_ASSERT_EQUAL(db_count(srv_dir), n);
	CU_ASSERT_EQUAL(unit_dir_count(in(srv_dir, "certs")), certs);
	CU_ASSERT_FALSE(ca_file_exists(in(srv_dir, "issued/evil")));
	CU_ASSERT_EQUAL(unit_dir_count(in(srv_dir, "issued")), 1);

	if (UCHECK(issue(&is, ca, "api", "api.internal", 90, 0, now, &err) == 0,
	    "issue api: %s", err.msg)) {
		snprintf(api, sizeof(api), "%s", is.serial);
		ca_issued_clear(&is);
	}
	if (UCHECK(issue(&is, ca, "svc", "svc.internal", 90, 0, now, &err) == 0,
	    "issue svc: %s", err.msg))
		ca_issued_clear(&is);
	CU_ASSERT_EQUAL(db_count(srv_dir), 4);
out:
	ca_close(ca);
}

/* A server leaf without any name is refused (the lint wants a SAN). */
static void
test_issue_needs_san(void)
{
	struct ca_issued is;
	struct ca *ca = NULL;
	struct ca_err err;
	int n;

	if (open_ica(&ca, srv_dir) != 0)
		return;
	n = db_count(srv_dir);
	CU_ASSERT_EQUAL(issue(&is, ca, "nosan", NULL, 90, 0, N0 + DAY, &err),
	    CA_EPOLICY);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "subjectAltName"));
	CU_ASSERT_EQUAL(db_count(srv_dir), n);
	ca_close(ca);
}

static void
test_revoke(void)
{
	struct ca_strv out = { NULL, 0 };
	struct ca_db *db = NULL;
	struct ca_db_entry *e;
	struct ca *ca = NULL;
	struct ca_err err;
	char lower[SERIAL_LEN];
	time_t now = N0 + 2 * DAY;
	size_t i;

	if (open_ica(&ca, srv_dir) != 0)
		return;
	/* by name: every valid certificate of it */
	memset(&err, 0, sizeof(err));
	CU_ASSERT_EQUAL(ca_revoke(&out, ca, "web", CA_REASON_KEY_COMPROMISE,
	    now, &err), 0);
	CU_ASSERT_EQUAL(out.n, 2);
	if (out.n == 2) {
		CU_ASSERT(strcmp(out.v[0], web1) == 0 || strcmp(out.v[1], web1) ==
		    0);
		CU_ASSERT(strcmp(out.v[0], web2) == 0 || strcmp(out.v[1], web2) ==
		    0);
	}
	ca_strv_free(&out);
	memset(&err, 0, sizeof(err));
	CU_ASSERT_EQUAL(ca_revoke(&out, ca, "web", CA_REASON_KEY_COMPROMISE,
	    now, &err), CA_EEXIST);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "web"));
	CU_ASSERT_EQUAL(out.n, 0);

	/* by serial, lowercase and with a leading zero byte */
	for (i = 0; api[i] != '\0' && i + 2 < sizeof(lower); i++)
		lower[i] = (char)(api[i] >= 'A' && api[i] <= 'F' ? api[i] + 32 :
		    api[i]);
	lower[i] = '\0';
	CU_ASSERT_EQUAL(ca_revoke(&out, ca, lower, CA_REASON_SUPERSEDED, now,
	    &err), 0);
	CU_ASSERT(out.n == 1 && strcmp(out.v[0], api) == 0);
	ca_strv_free(&out);
	memset(&err, 0, sizeof(err));
	CU_ASSERT_EQUAL(ca_revoke(&out, ca, api, CA_REASON_SUPERSEDED, now,
	    &err), CA_EEXIST);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "already revoked"));
	ca_strv_free(&out);

	/* unknown */
	memset(&err, 0, sizeof(err));
	CU_ASSERT_EQUAL(ca_revoke(&out, ca, "nosuch", CA_REASON_UNSPECIFIED,
	    now, &err), CA_ENOENT);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "nosuch"));
	CU_ASSERT_EQUAL(ca_revoke(&out, ca, "0123456789ABCDEF0123",
	    CA_REASON_UNSPECIFIED, now, &err), CA_ENOENT);
	/* reasons that are not CRL reasons */
	CU_ASSERT_EQUAL(ca_revoke(&out, ca, "svc", (enum ca_reason)7, now,
	    &err), CA_EINVAL);
	CU_ASSERT_EQUAL(ca_revoke(&out, ca, "svc", CA_REASON__MAX, now, &err),
	    CA_EINVAL);
	CU_ASSERT_EQUAL(out.n, 0);
	ca_strv_free(&out);

	/* the database: nothing lost, the right lines revoked */
	if (UCHECK(ca_list(&db, ca, &err) == 0, "list: %s", err.msg)) {
		CU_ASSERT_EQUAL(db->n, 4);
		for (i = 0; i < db->n; i++) {
			e = &db->v[i];
			if (strcmp(e->name, "web") == 0)
				UCHECK(e->status == 'R' && e->revoked_at == now &&
				    e->reason == CA_REASON_KEY_COMPROMISE, "web entry "
				    "%s: %c", e->serial, e->status);
			else if (strcmp(e->name, "api") == 0)
				UCHECK(e->status == 'R' &&
				    e->reason == CA_REASON_SUPERSEDED, "api entry");
			else
				UCHECK(e->status == 'V', "%s entry: %c", e->name,
				    e->status);
		}
		CU_ASSERT(ca_find(&e, db, "web") == 0 && e != NULL &&
		    strcmp(e->serial, web2) == 0);
		CU_ASSERT(ca_find(&e, db, web1) == 0 && e != NULL &&
		    strcmp(e->serial, web1) == 0);
		CU_ASSERT_EQUAL(ca_find(&e, db, "nosuch"), CA_ENOENT);
		ca_db_free(db);
	}
	ca_close(ca);
}

static void
test_crl(void)
{
	struct ca_crl_info ci;
	struct ca *ca = NULL;
	struct ca_err err;
	gnutls_x509_crl_t crl = NULL;
	time_t now = N0 + 2 * DAY;
	char *out = NULL;
	int rc;

	if (open_ica(&ca, srv_dir) != 0)
		return;
	CU_ASSERT_EQUAL(ca_crl_due(ca, 7, now, &err), 1);
	memset(&err, 0, sizeof(err));
	if (!UCHECK(ca_crl_generate(&ci, ca, 14, now, &err) == 0, "generate: %s",
	    err.msg))
		goto out;
	CU_ASSERT_STRING_EQUAL(ci.number, "01");
	CU_ASSERT_EQUAL(ci.nrevoked, 3);
	CU_ASSERT_EQUAL(ci.this_update, now);
	CU_ASSERT_EQUAL(ci.next_update, now + 14 * DAY);
	CU_ASSERT(file_is(in(srv_dir, "crlnumber"), "02\n"));
	CU_ASSERT(ca_file_exists(in(srv_dir, "crl.der")));
	if (UCHECK(ca_crl_load(&crl, in(srv_dir, "crl.pem"), &err) == 0,
	    "load crl.pem: %s", err.msg)) {
		unsigned st = 0;
		unsigned char num[16];
		size_t n = sizeof(num);
		CU_ASSERT_EQUAL(gnutls_x509_crl_get_crt_count(crl), 3);
		CU_ASSERT_EQUAL(gnutls_x509_crl_get_this_update(crl), now);
		CU_ASSERT_EQUAL(gnutls_x509_crl_get_next_update(crl),
		    now + 14 * DAY);
		CU_ASSERT(gnutls_x509_crl_get_number(crl, num, &n, NULL) >= 0 &&
		    n == 1 && num[0] == 1);
		CU_ASSERT(gnutls_x509_crl_verify(crl, &ca->crt, 1, 0, &st) == 0 &&
		    st == 0);
		gnutls_x509_crl_deinit(crl);
	}
	/* openssl: the CRL verifies, carries the reasons, and revokes */
	rc = unit_run(&out, "openssl crl -in '%s' -CAfile '%s' -noout -text "
	    "2>&1", in(srv_dir, "crl.pem"), in(srv_dir, "ca.crt"));
	UCHECK(rc == 0 && out && strstr(out, "verify OK") &&
	    unit_count(out, "Key Compromise") == 2 &&
	    unit_count(out, "Superseded") == 1, "openssl crl: %.600s",
	    out ? out : "");
	free(out);
	out = NULL;
	rc = openssl_verify(&out, in(srv_dir, "issued/web/cert.pem"),
	    in(srv_dir, "crl.pem"), now + 3600);
	UCHECK(rc != 0 && out && strstr(out, "revoked"), "openssl verify "
	    "-crl_check of a revoked leaf: %s", out ? out : "");
	free(out);
	out = NULL;
	rc = openssl_verify(&out, in(srv_dir, "issued/svc/cert.pem"),
	    in(srv_dir, "crl.pem"), now + 3600);
	UCHECK(rc == 0 && out && strstr(out, ": OK"), "openssl verify "
	    "-crl_check of a good leaf: %s", out ? out : "");
	free(out);
	out = NULL;

	/* and libca's own verifier, with the CRL */
	{
		gnutls_x509_crt_t leaf = NULL, bad = NULL;
		gnutls_x509_crl_t c = NULL;
		if (ca_crl_load(&c, in(srv_dir, "crl.der"), &err) == 0 &&
		    ca_cert_load(&leaf, in(srv_dir, "issued/svc/cert.pem"),
		    &err) == 0 &&
		    ca_cert_load(&bad, in(srv_dir, "issued/web/cert.pem"),
		    &err) == 0) {
			memset(&err, 0, sizeof(err));
			UCHECK(ca_verify_chain(leaf, &ca->crt, 1, &ca->root, 1, &c, 1,
			    GNUTLS_KP_TLS_WWW_SERVER, now + 3600, &err) == 0,
			    "verify svc with the CRL: %s", err.msg);
			memset(&err, 0, sizeof(err));
			UCHECK(ca_verify_chain(bad, &ca->crt, 1, &ca->root, 1, &c, 1,
			    GNUTLS_KP_TLS_WWW_SERVER, now + 3600, &err) ==
			    CA_EVERIFY && strstr(err.msg, "revoked") != NULL,
			    "verify web with the CRL: %s", err.msg);
		} else
			CU_FAIL("cannot load the CRL or the leaves");
		if (leaf != NULL)
			gnutls_x509_crt_deinit(leaf);
		if (bad != NULL)
			gnutls_x509_crt_deinit(bad);
		if (c != NULL)
			gnutls_x509_crl_deinit(c);
	}

	/* due: every 7 days, or when fewer than 7 remain */
	CU_ASSERT_EQUAL(ca_crl_due(ca, 7, now, &err), 0);
	CU_ASSERT_EQUAL(ca_crl_due(ca, 7, now + 6 * DAY, &err), 0);
	CU_ASSERT_EQUAL(ca_crl_due(ca, 7, now + 7 * DAY, &err), 1);
	CU_ASSERT_EQUAL(ca_crl_due(ca, 10, now + 5 * DAY, &err), 1);
	CU_ASSERT_EQUAL(ca_crl_due(ca, 7, now + 15 * DAY, &err), 1);

	/* the number goes up */
	if (UCHECK(ca_crl_generate(&ci, ca, 14, now + DAY, &err) == 0,
	    "second: %s", err.msg)) {
		CU_ASSERT_STRING_EQUAL(ci.number, "02");
		CU_ASSERT(file_is(in(srv_dir, "crlnumber"), "03\n"));
	}
	/* past FF it grows a byte, as OpenSSL's does */
	unit_write(in(srv_dir, "crlnumber"), "FF\n", 0644);
	if (UCHECK(ca_crl_generate(&ci, ca, 14, now + DAY, &err) == 0,
	    "third: %s", err.msg)) {
		CU_ASSERT_STRING_EQUAL(ci.number, "FF");
		CU_ASSERT(file_is(in(srv_dir, "crlnumber"), "0100\n"));
	}
	unit_write(in(srv_dir, "crlnumber"), "zz\n", 0644);
	CU_ASSERT_EQUAL(ca_crl_generate(&ci, ca, 14, now, &err), CA_EDB);
	unit_write(in(srv_dir, "crlnumber"), "04\n", 0644);
	CU_ASSERT_EQUAL(ca_crl_generate(&ci, ca, 0, now, &err), CA_EINVAL);

	/* A revocation the CRL lacks makes a new one due at once, whatever
	 * the file times say (a coarse clock or file system can give the
	 * index and the CRL the same mtime). */
	if (UCHECK(ca_crl_generate(&ci, ca, 14, now + DAY, &err) == 0,
	    "fourth: %s", err.msg)) {
		struct ca_strv rv = { NULL, 0 };
		struct stat sc;
		CU_ASSERT_EQUAL(ca_crl_due(ca, 7, now + DAY, &err), 0);
		/* past the file system's timestamp granularity (a few ms) */
		usleep(50 * 1000);
		CU_ASSERT_EQUAL(ca_revoke(&rv, ca, "svc", CA_REASON_SUPERSEDED,
		    now + DAY, &err), 0);
		ca_strv_free(&rv);
		UCHECK(ca_crl_due(ca, 7, now + DAY, &err) == 1, "a revocation "
		    "after the CRL does not make it due");
		if (stat(in(srv_dir, "crl.pem"), &sc) == 0) {
			struct timespec ts[2];
			ts[0] = sc.st_atim;
			ts[1] = sc.st_mtim;
			CU_ASSERT_EQUAL(utimensat(AT_FDCWD, in(srv_dir, "index.txt"),
			    ts, 0), 0);
			UCHECK(ca_crl_due(ca, 7, now + DAY, &err) == 1, "a revocation "
			    "the CRL lacks is not due when index.txt and crl.pem have "
			    "the same mtime");
		}
		if (UCHECK(ca_crl_generate(&ci, ca, 14, now + DAY, &err) == 0,
		    "fifth: %s", err.msg)) {
			CU_ASSERT_EQUAL(ci.nrevoked, 4);
			CU_ASSERT_EQUAL(ca_crl_due(ca, 7, now + DAY, &err), 0);
		}
	}
	/* an unreadable CRL is due */
	unit_write(in(srv_dir, "crl.pem"), "garbage\n", 0644);
	CU_ASSERT_EQUAL(ca_crl_due(ca, 7, now, &err), 1);
out:
	ca_close(ca);
}

static void
test_capped(void)
{
	struct ca_crl_info ci;
	struct ca_issued is;
	struct ca *ca = NULL;
	struct ca_err err;
	gnutls_x509_crt_t crt = NULL;
	time_t now = N0 + 20 * DAY;

	if (open_ica(&ca, cli_dir) != 0)
		return;
	CU_ASSERT_EQUAL(gnutls_x509_crt_get_expiration_time(ca->crt), CLI_NA);
	/* 90 days asked, 10 left: cut to the issuer's end, and said so */
	if (UCHECK(issue(&is, ca, "alice", NULL, 90, 0, now, &err) == 0,
	    "issue alice: %s", err.msg)) {
		CU_ASSERT_EQUAL(is.capped, 1);
		CU_ASSERT_EQUAL(is.not_after, CLI_NA);
		CU_ASSERT(is.subject && strcmp(is.subject, "CN=alice") == 0);
		if (ca_cert_load(&crt, is.cert_path, &err) == 0) {
			CU_ASSERT_EQUAL(gnutls_x509_crt_get_expiration_time(crt),
			    CLI_NA);
			gnutls_x509_crt_deinit(crt);
		} else
			CU_FAIL("load alice");
		ca_issued_clear(&is);
	}
	if (UCHECK(issue(&is, ca, "bob", NULL, 5, 0, now, &err) == 0,
	    "issue bob: %s", err.msg)) {
		CU_ASSERT_EQUAL(is.capped, 0);
		CU_ASSERT_EQUAL(is.not_after, now + 5 * DAY);
		ca_issued_clear(&is);
	}
	/* the CRL's nextUpdate is capped the same way */
	if (UCHECK(ca_crl_generate(&ci, ca, 14, now, &err) == 0, "crl: %s",
	    err.msg))
		CU_ASSERT_EQUAL(ci.next_update, CLI_NA);
	/* once the intermediate has expired, nothing more */
	CU_ASSERT_EQUAL(issue(&is, ca, "carol", NULL, 5, 0, CLI_NA + 1, &err),
	    CA_EPOLICY);
	CU_ASSERT_EQUAL(ca_crl_generate(&ci, ca, 14, CLI_NA, &err), CA_EPOLICY);
	ca_close(ca);
}

/* The database is the truth: a name with a valid certificate in it needs
 * `replace', even when someone removed its issued/NAME directory. */
static void
test_name_taken_without_dir(void)
{
	struct ca_issued is;
	struct ca *ca = NULL;
	struct ca_err err;
	char dir[800];
	time_t now = N0 + 20 * DAY;
	int n;

	if (open_ica(&ca, cli_dir) != 0)
		return;
	if (UCHECK(issue(&is, ca, "dup", NULL, 5, 0, now, &err) == 0,
	    "issue dup: %s", err.msg))
		ca_issued_clear(&is);
	CU_ASSERT_EQUAL(issue(&is, ca, "dup", NULL, 5, 0, now, &err), CA_EEXIST);
	snprintf(dir, sizeof(dir), "%s/issued/dup", cli_dir);
	unit_rmtree(dir);
	n = db_count(cli_dir);
	memset(&err, 0, sizeof(err));
	if (!UCHECK(issue(&is, ca, "dup", NULL, 5, 0, now, &err) == CA_EEXIST,
	    "a second valid certificate for 'dup' was issued without replace "
	    "once issued/dup was gone"))
		ca_issued_clear(&is);
	UCHECK(db_count(cli_dir) == n, "index.txt grew from %d to %d lines", n,
	    db_count(cli_dir));

	/* Only a whole name is taken: not a part of one, nor a serial or a
	 * subject that happens to read like it. */
	{
		struct ca_db *db = NULL;
		struct ca_db_entry *e = NULL;
		char alice_serial[SERIAL_LEN] = "";
		const char *names[5];
		size_t i;

		if (ca_list(&db, ca, &err) == 0) {
			if (ca_find(&e, db, "alice") == 0)
				snprintf(alice_serial, sizeof(alice_serial), "%s",
				    e->serial);
			ca_db_free(db);
		}
		names[0] = "alic";
		names[1] = "lice";
		names[2] = "CN";
		names[3] = alice_serial[0] ? alice_serial : "no-serial";
		names[4] = NULL;
		for (i = 0; names[i] != NULL; i++) {
			memset(&err, 0, sizeof(err));
			if (UCHECK(issue(&is, ca, names[i], NULL, 5, 0, now, &err) ==
			    0, "'%s' refused: %s", names[i], err.msg))
				ca_issued_clear(&is);
		}
	}
	ca_close(ca);
}

/* The root revokes an intermediate and publishes its CRL; it issues no
 * leaves. */
static void
test_root_revoke(void)
{
	struct ca_strv out = { NULL, 0 };
	struct ca_crl_info ci;
	struct ca_issued is;
	struct ca *root = NULL;
	struct ca_err err;

	if (!UCHECK(ca_open(&root, root_dir, CA_OPEN_LOCK, &err) == 0 &&
	    ca_load_key(root, &pass, &err) == 0, "open root: %s", err.msg)) {
		ca_close(root);
		return;
	}
	CU_ASSERT_EQUAL(issue(&is, root, "leaf", "leaf.internal", 90, 0, N0,
	    &err), CA_EINVAL);
	CU_ASSERT_EQUAL(ca_revoke(&out, root, "client-ica",
	    CA_REASON_CA_COMPROMISE, N0 + DAY, &err), 0);
	/* every certificate recorded as client-ica: the real one, the one
	 * made from the server's request, the capped one */
	CU_ASSERT_EQUAL(out.n, 3);
	ca_strv_free(&out);
	if (UCHECK(ca_crl_generate(&ci, root, 180, N0 + DAY, &err) == 0,
	    "root crl: %s", err.msg)) {
		CU_ASSERT_EQUAL(ci.nrevoked, 3);
		CU_ASSERT_EQUAL(ci.next_update, N0 + DAY + 180 * DAY);
	}
	ca_close(root);
}

/* ca_due: the current certificate of each name, valid and expiring
 * within the window (expired ones included). */
static void
test_due(void)
{
	static const struct {
		const char *name;
		char status;
		int days; /* notAfter - now, in days */
	} ents[] = {
		{ "soon", 'V', 10 },
		{ "later", 'V', 40 },
		{ "renewed", 'V', 5 },     /* superseded by the next line */
		{ "renewed", 'V', 80 },
		{ "gone", 'R', 3 },
		{ "expired", 'V', -2 },
		{ "edge", 'V', 30 },       /* exactly 30 days: not within */
		{ "unknown", 'V', 1 },     /* OpenSSL's lines never supersede */
		{ "unknown", 'V', 2 },
		{ "replaced", 'V', 3 },
		{ "replaced", 'R', 90 },   /* the newest is revoked: not due */
	};
	static const char *const want[] = { "expired", "soon", "unknown",
		"unknown", NULL };
	struct ca_db_entry **due = NULL;
	struct ca_db *db = NULL;
	struct ca_err err;
	char path[700], *text = NULL;
	size_t i, n = 0, len = 0;
	time_t now = N0;

	for (i = 0; i < sizeof(ents) / sizeof(ents[0]); i++) {
		struct ca_db_entry e;
		char *line, *nt;
		memset(&e, 0, sizeof(e));
		e.status = ents[i].status;
		e.not_after = now + ents[i].days * DAY;
		e.revoked_at = now - DAY;
		snprintf(e.serial, sizeof(e.serial), "%04zX", 0x100 + i);
		e.name = (char *)(uintptr_t)ents[i].name;
		e.subject = "/CN=x";
		if ((line = ca_db_format_line(&e)) == NULL ||
		    (nt = realloc(text, len + strlen(line) + 1)) == NULL) {
			free(line);
			free(text);
			CU_FAIL("out of memory");
			return;
		}
		text = nt;
		memcpy(text + len, line, strlen(line) + 1);
		len += strlen(line);
		free(line);
	}
	snprintf(path, sizeof(path), "%s/due-index.txt", tmp);
	unit_write(path, text, 0644);
	free(text);
	if (!UCHECK(ca_db_load(&db, path, &err) == 0, "load: %s", err.msg))
		return;
	if (UCHECK(ca_due(&due, &n, db, now, 30, &err) == 0, "ca_due: %s",
	    err.msg)) {
		int seen[4] = { 0, 0, 0, 0 };
		size_t k;
		UCHECK(n == 4, "%zu due, want 4", n);
		for (i = 0; i < n; i++) {
			for (k = 0; want[k] != NULL; k++)
				if (!seen[k] && strcmp(due[i]->name, want[k]) == 0) {
					seen[k] = 1;
					break;
				}
			UCHECK(want[k] != NULL, "'%s' (serial %s) is due", due[i]->name,
			    due[i]->serial);
		}
		free(due);
	}
	/* a window of 0 days: only what has expired */
	if (UCHECK(ca_due(&due, &n, db, now, 0, &err) == 0, "ca_due 0: %s",
	    err.msg)) {
		UCHECK(n == 1 && strcmp(due[0]->name, "expired") == 0, "%zu due "
		    "within 0 days", n);
		free(due);
	}
	ca_db_free(db);
}

/*
 * DESIGN.md: every tool reads "now" from TIERCA_NOW so that drills and
 * tests can move time. With "now" a year ahead of the system clock, an
 * intermediate made and signed at that "now" installs as it does today.
 */
static void
test_moved_time(void)
{
	struct ca_root_init_opts ro = CA_ROOT_INIT_OPTS_INIT;
	struct ca_ica_init_opts io = CA_ICA_INIT_OPTS_INIT;
	struct ca *root = NULL, *ica = NULL;
	struct ca_issued is;
	struct ca_err err;
	char r[700], d[700], crt[700];
	time_t later = time(NULL) / DAY * DAY + 400 * DAY;

	snprintf(r, sizeof(r), "%s/moved-root", tmp);
	snprintf(d, sizeof(d), "%s/moved-ica", tmp);
	snprintf(crt, sizeof(crt), "%s/moved-ica.crt", tmp);
	ro.subject = "CN=Drill Root";
	ro.alg = CA_KEY_ECDSA_P256;
	io.kind = CA_KIND_SERVER;
	io.subject = "CN=Drill ICA";
	io.alg = CA_KEY_ECDSA_P256;
	memset(&err, 0, sizeof(err));
	if (!UCHECK(ca_root_init(r, &ro, &pass, later, &err) == 0 &&
	    ca_ica_init(d, &io, NULL, &err) == 0 &&
	    ca_open(&root, r, CA_OPEN_LOCK, &err) == 0 &&
	    ca_load_key(root, &pass, &err) == 0, "setup: %s", err.msg))
		goto out;
	if (sign_at(root, d, CA_KIND_SERVER, 730, NULL, crt, &is, later) != 0)
		goto out;
	ca_issued_clear(&is);
	if (!UCHECK(ca_open(&ica, d, CA_OPEN_LOCK, &err) == 0, "open: %s",
	    err.msg))
		goto out;
	memset(&err, 0, sizeof(err));
	UCHECK(ca_ica_install(ica, crt, in(r, "ca.crt"), later + DAY, &err) ==
	    0, "install with now = system clock + 401 days: %s", err.msg);
out:
	ca_close(ica);
	ca_close(root);
}

/*
 * ca_check over a CA large enough to be checked in slices on threads
 * (more than 2 x 256 entries): a clean copy has no problem; a copy with
 * one certificate swapped for another deep in the second slice has
 * problems naming that file only, each reported once.
 */
#define BIG_N 530

static void
test_check_big(void)
{
	struct ca_strv problems = { NULL, 0 }, leftovers = { NULL, 0 };
	struct ca_issued is;
	struct ca_err err;
	struct ca *ca = NULL;
	struct ca_db *db = NULL;
	char name[32], dns[64], big[700], *out = NULL, want[900];
	size_t i, n0;
	int ok = 1;

	if (open_ica(&ca, cli_dir) != 0)
		return;
	for (i = 0; ok && i < BIG_N; i++) {
		snprintf(name, sizeof(name), "big%zu", i);
		snprintf(dns, sizeof(dns), "big%zu.example", i);
		memset(&is, 0, sizeof(is));
		ok = UCHECK(issue(&is, ca, name, NULL, 30, 0, N0, &err) == 0,
		    "issue %s: %s", name, err.msg);
		ca_issued_clear(&is);
	}
	ca_close(ca);
	ca = NULL;
	if (!ok)
		return;
	snprintf(big, sizeof(big), "%s/big-copy", tmp);
	if (!UCHECK(unit_run(&out, "cp -a '%s' '%s'", cli_dir, big) == 0,
	    "cp"))
		goto out;
	free(out);
	out = NULL;
	memset(&err, 0, sizeof(err));
	if (!UCHECK(ca_check(&problems, &leftovers, big, 0, N0, &err) == 0,
	    "check: %s", err.msg))
		goto out;
	UCHECK(problems.n == 0, "clean: %zu problems, first %s", problems.n,
	    problems.n > 0 ? problems.v[0] : "");
	ca_strv_free(&problems);
	if (!UCHECK(ca_db_load(&db, in(big, "index.txt"), &err) == 0 &&
	    db->n >= BIG_N, "db: %s", err.msg))
		goto out;
	n0 = db->n;
	/* Entry n0 - 20 (second slice) gets entry 3's certificate. */
	if (!UCHECK(unit_run(&out, "cp '%s/certs/%s.pem' '%s/certs/%s.pem'",
	    big, db->v[3].serial, big, db->v[n0 - 20].serial) == 0, "plant"))
		goto out;
	free(out);
	out = NULL;
	if (!UCHECK(ca_check(&problems, &leftovers, big, 0, N0, &err) == 0,
	    "check: %s", err.msg))
		goto out;
	snprintf(want, sizeof(want), "%s/certs/%s.pem: holds serial %s",
	    big, db->v[n0 - 20].serial, db->v[3].serial);
	UCHECK(problems.n >= 1 && strstr(problems.v[0], want) != NULL,
	    "planted: %zu problems, first '%s'", problems.n,
	    problems.n > 0 ? problems.v[0] : "");
	for (i = 0; i < problems.n; i++)
		UCHECK(strstr(problems.v[i], db->v[n0 - 20].serial) != NULL,
		    "a problem elsewhere: %s", problems.v[i]);
	UCHECK(problems.n <= 4, "%zu problems for one swapped file",
	    problems.n);
out:
	free(out);
	ca_db_free(db);
	ca_strv_free(&problems);
	ca_strv_free(&leftovers);
}

void
register_ca(void)
{
	CU_pSuite s = CU_add_suite("ca", suite_init, suite_clean);

	CU_add_test(s, "root init", test_root_init);
	CU_add_test(s, "root key passphrase", test_root_key);
	CU_add_test(s, "intermediate init", test_ica_init);
	CU_add_test(s, "root signs the intermediates", test_root_sign);
	CU_add_test(s, "intermediate install", test_ica_install);
	CU_add_test(s, "issue", test_issue);
	CU_add_test(s, "a server leaf needs a SAN", test_issue_needs_san);
	CU_add_test(s, "revoke", test_revoke);
	CU_add_test(s, "CRL generation and due", test_crl);
	CU_add_test(s, "leaf capped at the issuer's end", test_capped);
	CU_add_test(s, "a name is taken by the database, whole names only",
	    test_name_taken_without_dir);
	CU_add_test(s, "root revokes an intermediate", test_root_revoke);
	CU_add_test(s, "ca_due", test_due);
	CU_add_test(s, "install with TIERCA_NOW ahead of the clock",
	    test_moved_time);
	CU_add_test(s, "check: a CA checked in slices", test_check_big);
}
