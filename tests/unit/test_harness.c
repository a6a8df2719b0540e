/*
 * test_harness.c - libca/harness*.c and the renewal run of renew.c:
 * category names, the CRL entry reader against ca_crl_encode (reasons,
 * sign bytes, an empty list), certificates forged in memory against the
 * lint and verification, ca_renew_template over time (issue, nothing,
 * renew with and without a new key, a failed reload retried, dry run),
 * and ca_harness_run: an ephemeral hierarchy whose checks pass, then an
 * audit of it (--pki) that passes and changes nothing, and what it
 * refuses.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"
#include "harness/harness-int.h"

/* ---- names ------------------------------------------------------------- */

static const struct {
	const char *s;
	int ok;
	enum ca_hcat want;
} cat_cases[] = {
	{ "chain", 1, CA_HCAT_CHAIN },
	{ "crl", 1, CA_HCAT_CRL },
	{ "CRL", 1, CA_HCAT_CRL },
	{ "deploy", 1, CA_HCAT_DEPLOY },
	{ "deploy-consistency", 1, CA_HCAT_DEPLOY },
	{ "renewal", 1, CA_HCAT_RENEWAL },
	{ "renew", 1, CA_HCAT_RENEWAL },
	{ "alerting", 1, CA_HCAT_ALERTING },
	{ "alert", 1, CA_HCAT_ALERTING },
	{ "deploy-scripts", 1, CA_HCAT_SCRIPTS },
	{ "deploy-script", 1, CA_HCAT_SCRIPTS },
	{ "scripts", 1, CA_HCAT_SCRIPTS },
	{ "security", 1, CA_HCAT_SECURITY },
	{ "", 0, CA_HCAT__MAX },
	{ "chains", 0, CA_HCAT__MAX },
	{ "deploy,crl", 0, CA_HCAT__MAX },
	{ "all", 0, CA_HCAT__MAX },
};

static void
test_names(void)
{
	enum ca_hcat c;
	size_t i;
	int r;

	for (i = 0; i < sizeof(cat_cases) / sizeof(cat_cases[0]); i++) {
		c = CA_HCAT__MAX;
		r = ca_hcat_parse(&c, cat_cases[i].s);
		UCHECK((r == 0) == cat_cases[i].ok, "'%s': parse %d",
		    cat_cases[i].s, r);
		if (cat_cases[i].ok)
			UCHECK(c == cat_cases[i].want, "'%s' -> %d",
			    cat_cases[i].s, (int)c);
	}
	/* Every name parses back to itself. */
	for (c = 0; c < CA_HCAT__MAX; c++) {
		enum ca_hcat back = CA_HCAT__MAX;
		UCHECK(ca_hcat_parse(&back, ca_hcat_name(c)) == 0 && back == c,
		    "name of %d", (int)c);
	}
	CU_ASSERT_STRING_EQUAL(ca_hcat_name(CA_HCAT__MAX), "?");
	CU_ASSERT_STRING_EQUAL(ca_hresult_name(CA_HPASS), "PASS");
	CU_ASSERT_STRING_EQUAL(ca_hresult_name(CA_HFAIL), "FAIL");
	CU_ASSERT_STRING_EQUAL(ca_hresult_name(CA_HSKIP), "SKIP");
	CU_ASSERT_EQUAL(CA_HCAT_READ_ONLY & (CA_HCAT_BIT(CA_HCAT_RENEWAL) |
	    CA_HCAT_BIT(CA_HCAT_ALERTING)), 0);
	CU_ASSERT_EQUAL(CA_HCAT_ALL, 0x7fu);
}

/* ---- a CA in memory ---------------------------------------------------- */

struct mem_ca {
	gnutls_x509_privkey_t xkey;
	gnutls_privkey_t key;
	gnutls_x509_crt_t crt;
};

static void
mem_ca_free(struct mem_ca *m)
{
	if (m->crt != NULL)
		gnutls_x509_crt_deinit(m->crt);
	if (m->key != NULL)
		gnutls_privkey_deinit(m->key);
	if (m->xkey != NULL)
		gnutls_x509_privkey_deinit(m->xkey);
	memset(m, 0, sizeof(*m));
}

/* A root (issuer NULL) or an intermediate of issuer, made by
 * ca_cert_issue at T0. */
static int
mem_ca(struct mem_ca *m, const char *subject, enum ca_profile prof,
    const char *permit, const struct mem_ca *issuer)
{
	struct ca_cert_req req = CA_CERT_REQ_INIT;
	struct ca_serial sn;
	int ret;

	memset(m, 0, sizeof(*m));
	if (ca_key_generate(&m->xkey, CA_KEY_ECDSA_P256, NULL) != 0 ||
	    ca_privkey_to_abstract(&m->key, m->xkey, NULL) != 0 ||
	    gnutls_pubkey_init(&req.pubkey) < 0 ||
	    gnutls_pubkey_import_privkey(req.pubkey, m->key, 0, 0) < 0 ||
	    ca_serial_random(&sn, NULL) != 0)
		return -1;
	req.profile = prof;
	req.subject = subject;
	req.not_before = T0 - DAY;
	req.not_after = T0 + 700 * DAY;
	if (permit != NULL)
		ca_strv_add(&req.permit_dns, permit);
	ret = ca_cert_issue(&m->crt, &req, &sn, issuer ? issuer->crt : NULL,
	    issuer ? issuer->key : m->key, T0, NULL);
	ca_strv_free(&req.permit_dns);
	gnutls_pubkey_deinit(req.pubkey);
	return ret;
}

/* ---- the CRL reader ---------------------------------------------------- */

static void
test_crl_entries(void)
{
	static const struct {
		const char *serial;      /* as it goes in */
		enum ca_reason reason;
		const char *want;        /* as the reader gives it back */
		int want_reason;
	} ents[] = {
		{ "0123456789ABCDEF0123456789ABCDEF", CA_REASON_KEY_COMPROMISE,
		    "0123456789ABCDEF0123456789ABCDEF", 1 },
		{ "00FF", CA_REASON_SUPERSEDED, "FF", 4 },   /* sign byte */
		{ "7E", CA_REASON_UNSPECIFIED, "7E", -1 },   /* no extension */
		{ "01", CA_REASON_AA_COMPROMISE, "01", 10 },
		{ "1000000000000000000000000000000000000001",
		    CA_REASON_CESSATION, "1000000000000000000000000000000000000001",
		    5 },
	};
	struct ca_crl_entry in[5];
	struct hx_crl_entry *out = NULL;
	struct mem_ca root, other;
	struct ca_serial num;
	gnutls_x509_crl_t crl = NULL;
	gnutls_datum_t der = { NULL, 0 };
	char hex[64];
	size_t n = 0, i;

	CU_ASSERT_FATAL(mem_ca(&root, "CN=CRL Root", CA_PROF_ROOT, NULL,
	    NULL) == 0);
	CU_ASSERT_FATAL(mem_ca(&other, "CN=Other Root", CA_PROF_ROOT, NULL,
	    NULL) == 0);
	for (i = 0; i < 5; i++) {
		CU_ASSERT_FATAL(ca_serial_from_hex(&in[i].serial,
		    ents[i].serial) == 0);
		in[i].revoked_at = T0 + (time_t)i * DAY;
		in[i].reason = ents[i].reason;
	}
	CU_ASSERT_FATAL(ca_serial_from_hex(&num, "2A") == 0);
	CU_ASSERT_FATAL(ca_crl_encode(&der, root.crt, root.key, in, 5, &num,
	    T0, T0 + 14 * DAY, NULL) == 0);
	CU_ASSERT_FATAL(gnutls_x509_crl_init(&crl) >= 0);
	CU_ASSERT_FATAL(gnutls_x509_crl_import(crl, &der, GNUTLS_X509_FMT_DER)
	    >= 0);
	CU_ASSERT_FATAL(hx_crl_entries(&out, &n, crl, NULL) == 0);
	CU_ASSERT_EQUAL_FATAL(n, 5);
	for (i = 0; i < 5; i++) {
		UCHECK(strcmp(out[i].serial, ents[i].want) == 0, "entry %zu: "
		    "serial %s, want %s", i, out[i].serial, ents[i].want);
		UCHECK(out[i].reason == ents[i].want_reason, "entry %zu: reason "
		    "%d, want %d", i, out[i].reason, ents[i].want_reason);
		UCHECK(out[i].revoked_at == T0 + (time_t)i * DAY, "entry %zu: "
		    "date", i);
	}
	hx_crl_number(hex, sizeof(hex), crl);
	CU_ASSERT_STRING_EQUAL(hex, "2A");
	CU_ASSERT_TRUE(hx_crl_signed_by(crl, root.crt));
	CU_ASSERT_FALSE(hx_crl_signed_by(crl, other.crt));
	free(out);
	out = NULL;
	gnutls_x509_crl_deinit(crl);
	crl = NULL;
	gnutls_free(der.data);
	der.data = NULL;

	/* No revocations: no list at all (RFC 5280), and none read. */
	CU_ASSERT_FATAL(ca_crl_encode(&der, root.crt, root.key, NULL, 0, &num,
	    T0, T0 + 14 * DAY, NULL) == 0);
	CU_ASSERT_FATAL(gnutls_x509_crl_init(&crl) >= 0);
	CU_ASSERT_FATAL(gnutls_x509_crl_import(crl, &der, GNUTLS_X509_FMT_DER)
	    >= 0);
	n = 99;
	CU_ASSERT(hx_crl_entries(&out, &n, crl, NULL) == 0);
	CU_ASSERT_EQUAL(n, 0);
	free(out);
	gnutls_x509_crl_deinit(crl);
	gnutls_free(der.data);
	mem_ca_free(&root);
	mem_ca_free(&other);
}

/* ---- forging ----------------------------------------------------------- */

static void
test_forge(void)
{
	static const struct {
		const char *what, *dns, *purpose;
		int verifies, lint;
	} cases[] = {
		{ "inside, serverAuth", "a.internal", GNUTLS_KP_TLS_WWW_SERVER,
		    1, 0 },
		{ "deeper inside", "a.b.internal", GNUTLS_KP_TLS_WWW_SERVER, 1,
		    0 },
		{ "outside the constraints", "a.example.com",
		    GNUTLS_KP_TLS_WWW_SERVER, 0, CA_EPOLICY },
		{ "a suffix, not a subdomain", "evilinternal",
		    GNUTLS_KP_TLS_WWW_SERVER, 0, CA_EPOLICY },
		{ "crossed purpose", "a.internal", GNUTLS_KP_TLS_WWW_CLIENT, 0,
		    CA_EPOLICY },
	};
	struct mem_ca root, ica;
	size_t i;

	CU_ASSERT_FATAL(mem_ca(&root, "CN=Forge Root", CA_PROF_ROOT, NULL,
	    NULL) == 0);
	CU_ASSERT_FATAL(mem_ca(&ica, "CN=Forge ICA", CA_PROF_ICA_SERVER,
	    "internal", &root) == 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		gnutls_x509_crt_t f = NULL;
		struct ca_err e = { 0 };
		int v, l;
		if (!UCHECK(hx_forge(&f, ica.crt, ica.key, cases[i].dns,
		    cases[i].purpose, T0, &e) == 0, "%s: %s", cases[i].what,
		    e.msg))
			continue;
		v = ca_verify_chain(f, &ica.crt, 1, &root.crt, 1, NULL, 0,
		    cases[i].purpose, T0, &e);
		UCHECK((v == 0) == cases[i].verifies, "%s: verify %d (%s)",
		    cases[i].what, v, e.msg);
		l = ca_lint_cert(f, CA_PROF_LEAF_SERVER, ica.crt, T0, NULL);
		UCHECK(l == cases[i].lint, "%s: lint %d, want %d", cases[i].what,
		    l, cases[i].lint);
		/* Five minutes, then it is worth nothing. */
		UCHECK(ca_verify_chain(f, &ica.crt, 1, &root.crt, 1, NULL, 0,
		    NULL, T0 + 301, NULL) != 0, "%s: valid after 5 minutes",
		    cases[i].what);
		gnutls_x509_crt_deinit(f);
	}
	mem_ca_free(&root);
	mem_ca_free(&ica);
}

/* ---- ca_renew_template ------------------------------------------------- */

/* A root and a server intermediate in dir, the intermediate opened with
 * its key loaded. */
static struct ca *
mini_pki(const char *dir)
{
	struct ca_root_init_opts ro = CA_ROOT_INIT_OPTS_INIT;
	struct ca_ica_init_opts io = CA_ICA_INIT_OPTS_INIT;
	struct ca_sign_ica_opts so = CA_SIGN_ICA_OPTS_INIT;
	struct ca_secret pass = { NULL, 0 };
	struct ca_issued is;
	struct ca *root = NULL, *ica = NULL;
	char p[4][512];
	int ok;

	memset(&is, 0, sizeof(is));
	snprintf(p[0], sizeof(p[0]), "%s/pass", dir);
	snprintf(p[1], sizeof(p[1]), "%s/root", dir);
	snprintf(p[2], sizeof(p[2]), "%s/server", dir);
	snprintf(p[3], sizeof(p[3]), "%s/server.crt", dir);
	unit_write(p[0], "a passphrase for the unit test\n", 0600);
	ro.subject = "CN=Renew Root";
	ro.alg = CA_KEY_ECDSA_P256;
	io.kind = CA_KIND_SERVER;
	io.subject = "CN=Renew ICA";
	io.alg = CA_KEY_ECDSA_P256;
	so.kind = CA_KIND_SERVER;
	ok = ca_secret_from_file(&pass, p[0], NULL) == 0 &&
	    ca_root_init(p[1], &ro, &pass, T0, NULL) == 0 &&
	    ca_open(&root, p[1], 0, NULL) == 0 &&
	    ca_load_key(root, &pass, NULL) == 0 &&
	    ca_ica_init(p[2], &io, NULL, NULL) == 0;
	if (ok) {
		char csr[600], rc[600];
		snprintf(csr, sizeof(csr), "%s/ca.csr", p[2]);
		snprintf(rc, sizeof(rc), "%s/ca.crt", p[1]);
		ok = ca_root_sign_file(&is, root, &so, csr, p[3], T0, NULL) == 0 &&
		    ca_open(&ica, p[2], 0, NULL) == 0 &&
		    ca_ica_install(ica, p[3], rc, T0, NULL) == 0 &&
		    ca_load_key(ica, NULL, NULL) == 0;
	}
	ca_issued_clear(&is);
	ca_close(root);
	ca_secret_wipe(&pass);
	if (!ok) {
		ca_close(ica);
		return NULL;
	}
	return ica;
}

static void
test_renew_template(void)
{
	struct ca_renew_opts o = CA_RENEW_OPTS_INIT;
	struct ca_renew_result r;
	struct ca_template t;
	struct ca_err e = { 0 };
	char *dir = unit_tmpdir(), tpl[512], inst[512], log[512], text[2048];
	char first[44], second[44], *body;
	struct ca *ca;
	size_t n;

	CU_ASSERT_FATAL(dir != NULL);
	ca = mini_pki(dir);
	CU_ASSERT_FATAL(ca != NULL);
	snprintf(inst, sizeof(inst), "%s/inst", dir);
	CU_ASSERT_FATAL(mkdir(inst, 0755) == 0);
	snprintf(log, sizeof(log), "%s/reloads", dir);
	snprintf(tpl, sizeof(tpl), "%s/app.cfg", dir);
	snprintf(text, sizeof(text), "name = \"app\";\nca = \"server\";\n"
	    "dns = [ \"app.internal\" ];\ninstall: { cert = \"%s/app.crt\"; "
	    "key = \"%s/app.key\"; mode = 0640; };\nreload = \"echo r >> %s\";\n",
	    inst, inst, log);
	unit_write(tpl, text, 0644);
	CU_ASSERT_FATAL(ca_template_load(&t, tpl, &e) == 0);

	/* Day 0: issued, installed, reloaded. */
	CU_ASSERT(ca_renew_template(&r, ca, &t, &o, T0, &e) == 0);
	CU_ASSERT_EQUAL(r.plan.action, CA_RENEW_ISSUE);
	CU_ASSERT(r.serial[0] != '\0' && r.installed == 2);
	CU_ASSERT_EQUAL(r.reload, CA_RELOAD_OK);
	CU_ASSERT_STRING_EQUAL(r.error, "");
	CU_ASSERT_EQUAL(r.not_after, T0 + 90 * DAY);
	snprintf(first, sizeof(first), "%s", r.serial);
	body = unit_read(log, &n);
	CU_ASSERT(body != NULL && n == 2);
	free(body);

	/* The same day again: nothing at all. */
	CU_ASSERT(ca_renew_template(&r, ca, &t, &o, T0, &e) == 0);
	CU_ASSERT_EQUAL(r.plan.action, CA_RENEW_NONE);
	CU_ASSERT(r.serial[0] == '\0' && r.installed == 0 &&
	    r.reload == CA_RELOAD_NONE);

	/* Day 65, dry run: the plan, and nothing changed. */
	o.dry_run = 1;
	CU_ASSERT(ca_renew_template(&r, ca, &t, &o, T0 + 65 * DAY, &e) == 0);
	CU_ASSERT_EQUAL(r.plan.action, CA_RENEW_RENEW);
	CU_ASSERT_STRING_EQUAL(r.plan.serial, first);
	CU_ASSERT(r.serial[0] == '\0' && r.installed == 0);
	o.dry_run = 0;

	/* Day 65 with a reload that fails: renewed and installed, the
	 * reload marked pending, the old one not yet revoked. */
	o.revoke_superseded = 1;
	free(t.reload);
	t.reload = strdup("exit 3");
	CU_ASSERT(ca_renew_template(&r, ca, &t, &o, T0 + 65 * DAY, &e) != 0);
	CU_ASSERT_EQUAL(r.plan.action, CA_RENEW_RENEW);
	CU_ASSERT(r.serial[0] != '\0' && strcmp(r.serial, first) != 0);
	CU_ASSERT_EQUAL(r.installed, 2);
	CU_ASSERT_EQUAL(r.reload, CA_RELOAD_FAILED);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.error, "exited 3"));
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "exited 3"));
	CU_ASSERT_STRING_EQUAL(r.revoked, "");
	snprintf(second, sizeof(second), "%s", r.serial);

	/* The next run retries the reload, then revokes the old one. */
	free(t.reload);
	t.reload = strdup("true");
	CU_ASSERT(ca_renew_template(&r, ca, &t, &o, T0 + 65 * DAY + 60,
	    &e) == 0);
	CU_ASSERT_EQUAL(r.plan.action, CA_RENEW_INSTALL);
	CU_ASSERT(r.serial[0] == '\0');
	CU_ASSERT_EQUAL(r.reload, CA_RELOAD_OK);
	CU_ASSERT_STRING_EQUAL(r.revoked, first);
	CU_ASSERT(ca_renew_template(&r, ca, &t, &o, T0 + 65 * DAY + 120,
	    &e) == 0);
	CU_ASSERT_EQUAL(r.plan.action, CA_RENEW_NONE);

	/* A pinned key: renewed with the same key. */
	t.rotate_key = 0;
	{
		char k1[65], k2[65], kp[600];
		snprintf(kp, sizeof(kp), "%s/server/issued/app/key.pem", dir);
		hx_file_spki(k1, sizeof(k1), kp);
		CU_ASSERT(ca_renew_template(&r, ca, &t, &o, T0 + 130 * DAY,
		    &e) == 0);
		CU_ASSERT_EQUAL(r.plan.action, CA_RENEW_RENEW);
		hx_file_spki(k2, sizeof(k2), kp);
		CU_ASSERT(k1[0] != '\0' && strcmp(k1, k2) == 0);
		CU_ASSERT_STRING_EQUAL(r.revoked, second);
	}
	CU_ASSERT_STRING_EQUAL(ca_reload_result_name(CA_RELOAD_FAILED),
	    "failed");
	ca_template_free(&t);
	ca_close(ca);
	unit_rmtree(dir);
	free(dir);
}

/* ---- ca_harness_run ---------------------------------------------------- */

struct tally {
	size_t n[CA_HCAT__MAX][CA_HRESULT__MAX];
	int done[CA_HCAT__MAX];
	char first_fail[CA_HCAT__MAX][512];
};

static void
tally_check(void *ctx, enum ca_hcat cat, enum ca_hresult res,
    const char *name, const char *detail)
{
	struct tally *t = ctx;

	t->n[cat][res]++;
	if (res == CA_HFAIL && t->first_fail[cat][0] == '\0')
		snprintf(t->first_fail[cat], sizeof(t->first_fail[cat]), "%s: %s",
		    name, detail);
}

static void
tally_done(void *ctx, enum ca_hcat cat)
{
	((struct tally *)ctx)->done[cat] = 1;
}

static void
test_run(void)
{
	struct ca_harness_opts o = CA_HARNESS_OPTS_INIT;
	struct tally t;
	struct ca_hsink sink = { tally_check, tally_done, &t };
	struct ca_err e = { 0 };
	char *dir = unit_tmpdir(), *audit = unit_tmpdir(), cfg[600];
	char *snap1 = NULL, *snap2 = NULL;
	time_t now = time(NULL);
	enum ca_hcat c;

	CU_ASSERT_FATAL(dir != NULL && audit != NULL);
	/* Everything but renewal (it moves time on) and alerting (it needs
	 * the tool's SMTP listener). */
	memset(&t, 0, sizeof(t));
	o.dir = dir;
	o.cats = CA_HCAT_ALL & ~(CA_HCAT_BIT(CA_HCAT_RENEWAL) |
	    CA_HCAT_BIT(CA_HCAT_ALERTING));
	CU_ASSERT_FATAL(ca_harness_run(&o, &sink, now, &e) == 0);
	for (c = 0; c < CA_HCAT__MAX; c++) {
		int want = (o.cats & CA_HCAT_BIT(c)) != 0;
		UCHECK(t.done[c] == want, "%s: done %d", ca_hcat_name(c),
		    t.done[c]);
		UCHECK(t.n[c][CA_HFAIL] == 0, "%s: %s", ca_hcat_name(c),
		    t.first_fail[c]);
		UCHECK(!want || t.n[c][CA_HPASS] > 0, "%s: nothing passed",
		    ca_hcat_name(c));
	}

	/* The same hierarchy audited: the read-only categories pass, and
	 * not a byte of it changes. */
	snprintf(cfg, sizeof(cfg), "%s/tierca.cfg", dir);
	CU_ASSERT(unit_run(&snap1, "cd '%s' && find . -path ./samples -prune "
	    "-o -path ./stage -prune -o -type f -print0 | sort -z | xargs -0 "
	    "sha256sum; find . -printf '%%p %%m\\n' | sort", dir) == 0);
	memset(&t, 0, sizeof(t));
	o.dir = audit;
	o.pki = cfg;
	o.cats = CA_HCAT_READ_ONLY;
	CU_ASSERT_FATAL(ca_harness_run(&o, &sink, now, &e) == 0);
	for (c = 0; c < CA_HCAT__MAX; c++) {
		int want = (CA_HCAT_READ_ONLY & CA_HCAT_BIT(c)) != 0;
		UCHECK(t.done[c] == want, "audit %s: done %d", ca_hcat_name(c),
		    t.done[c]);
		UCHECK(t.n[c][CA_HFAIL] == 0, "audit %s: %s", ca_hcat_name(c),
		    t.first_fail[c]);
	}
	CU_ASSERT(unit_run(&snap2, "cd '%s' && find . -path ./samples -prune "
	    "-o -path ./stage -prune -o -type f -print0 | sort -z | xargs -0 "
	    "sha256sum; find . -printf '%%p %%m\\n' | sort", dir) == 0);
	CU_ASSERT(snap1 != NULL && snap2 != NULL && strcmp(snap1, snap2) == 0);

	/* Alerting without a listener: its delivery fails, honestly. */
	memset(&t, 0, sizeof(t));
	o.pki = NULL;
	o.cats = CA_HCAT_BIT(CA_HCAT_ALERTING);
	unit_rmtree(audit);
	CU_ASSERT_FATAL(mkdir(audit, 0700) == 0);
	CU_ASSERT(ca_harness_run(&o, &sink, now, &e) == 0);
	CU_ASSERT(t.done[CA_HCAT_ALERTING]);
	CU_ASSERT_EQUAL(t.n[CA_HCAT_ALERTING][CA_HFAIL], 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(t.first_fail[CA_HCAT_ALERTING],
	    "no SMTP listener"));

	/* What it refuses: renewal against a real installation, no
	 * directory, a configuration that cannot be read. */
	o.pki = cfg;
	o.cats = CA_HCAT_BIT(CA_HCAT_RENEWAL);
	CU_ASSERT(ca_harness_run(&o, &sink, now, &e) == CA_EINVAL);
	o.cats = CA_HCAT_READ_ONLY;
	o.dir = NULL;
	CU_ASSERT(ca_harness_run(&o, &sink, now, &e) == CA_EINVAL);
	o.dir = audit;
	o.pki = "/nonexistent/tierca.cfg";
	memset(&t, 0, sizeof(t));
	CU_ASSERT(ca_harness_run(&o, &sink, now, &e) != 0);
	CU_ASSERT(!t.done[CA_HCAT_CHAIN]);
	free(snap1);
	free(snap2);
	unit_rmtree(dir);
	unit_rmtree(audit);
	free(dir);
	free(audit);
}

void
register_harness(void)
{
	CU_pSuite s = CU_add_suite("harness", unit_tmp_init, unit_tmp_clean);

	CU_add_test(s, "category names", test_names);
	CU_add_test(s, "CRL entries, reasons, numbers", test_crl_entries);
	CU_add_test(s, "forged certificates", test_forge);
	CU_add_test(s, "ca_renew_template over time", test_renew_template);
	CU_add_test(s, "ca_harness_run and an audit of it", test_run);
}
