/*
 * test_conf.c - libca/conf.c: the configuration of DESIGN.md and
 * certificate templates; errors are "file:line:", unknown keys and wrong
 * types are errors.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"


/* DESIGN.md, "Configuration (libconfig)", verbatim. */
static const char design_conf[] =
    "root:   { dir = \"root\"; };                 "
    "# present only on the offline laptop\n"
    "server: { dir = \"server-ica\"; };\n"
    "client: { dir = \"client-ica\"; };\n"
    "policy: { leaf_days = 90; renew_before_days = 30; leaf_key = "
    "\"ecdsa-p256\";\n"
    "          crl_days = 14; crl_every_days = 7; };\n"
    "templates = \"templates\";\n"
    "monitor: { warn_days = 30; critical_days = 7; textfile = "
    "\"tierca.prom\";\n"
    "           endpoints = [ \"monitoring.internal:443\" ];\n"
    "           mail: { url = \"smtp://127.0.0.1:25\"; starttls = true;\n"
    "                   from = \"pki@example.internal\"; to = [ "
    "\"ops@example.internal\" ];\n"
    "                   ca = \"root/ca.crt\"; secrets = \"secrets.cfg\"; };"
    " };\n"
    "deploy: { sources = [ \"templates\", \"cron\", \"deploy\" ]; };\n";

/* DESIGN.md, "A certificate template", verbatim. */
static const char design_tpl[] =
    "# deploy-target: /etc/tierca/templates/monitoring.cfg\n"
    "# deploy-mode: 0644\n"
    "name = \"monitoring\";\n"
    "ca = \"server\";                       # or \"client\"\n"
    "subject = \"CN=monitoring.internal,O=Example\";\n"
    "dns = [ \"monitoring.internal\" ];\n"
    "ip = [ \"10.0.20.5\" ];\n"
    "install: { cert = \"/etc/ssl/tierca/monitoring.crt\"; key = "
    "\"/etc/ssl/tierca/monitoring.key\";\n"
    "           fullchain = \"/etc/ssl/tierca/monitoring.fullchain.pem\";\n"
    "           owner = \"root\"; group = \"ssl-cert\"; mode = 0640; };\n"
    "reload = \"systemctl reload nginx\";\n";

static int
strv_is(const struct ca_strv *sv, const char *const *want)
{
	size_t i;

	for (i = 0; want[i] != NULL; i++)
		if (i >= sv->n || strcmp(sv->v[i], want[i]) != 0)
			return 0;
	return i == sv->n;
}

#define STR_IS(got, want) \
	UCHECK((got) != NULL && strcmp((got), (want)) == 0, \
	    "%s is '%s', want '%s'", #got, (got) ? (got) : "(null)", (want))

static void
test_design_example(void)
{
	struct ca_conf c;
	struct ca_err err;
	char dir[512], path[600], want[700];

	snprintf(dir, sizeof(dir), "%s/etc", unit_tmp);
	mkdir(dir, 0755);
	snprintf(path, sizeof(path), "%s/tierca.cfg", dir);
	unit_write(path, design_conf, 0644);
	memset(&err, 0, sizeof(err));
	if (!UCHECK(ca_conf_load(&c, path, &err) == 0, "load: %s", err.msg))
		return;
	STR_IS(c.path, path);
	snprintf(want, sizeof(want), "%s/root", dir);
	STR_IS(c.root_dir, want);
	snprintf(want, sizeof(want), "%s/server-ica", dir);
	STR_IS(c.server_dir, want);
	snprintf(want, sizeof(want), "%s/client-ica", dir);
	STR_IS(c.client_dir, want);
	CU_ASSERT_EQUAL(c.root_crl_days, 180);
	CU_ASSERT_EQUAL(c.policy.leaf_days, 90);
	CU_ASSERT_EQUAL(c.policy.renew_before_days, 30);
	CU_ASSERT_EQUAL(c.policy.leaf_key, CA_KEY_ECDSA_P256);
	CU_ASSERT_EQUAL(c.policy.crl_days, 14);
	CU_ASSERT_EQUAL(c.policy.crl_every_days, 7);
	snprintf(want, sizeof(want), "%s/templates", dir);
	STR_IS(c.templates, want);
	CU_ASSERT_EQUAL(c.monitor.warn_days, 30);
	CU_ASSERT_EQUAL(c.monitor.critical_days, 7);
	snprintf(want, sizeof(want), "%s/tierca.prom", dir);
	STR_IS(c.monitor.textfile, want);
	{
		static const char *const ep[] = { "monitoring.internal:443",
			NULL };
		CU_ASSERT(strv_is(&c.monitor.endpoints, ep));
	}
	CU_ASSERT_EQUAL(c.monitor.has_mail, 1);
	STR_IS(c.monitor.mail.url, "smtp://127.0.0.1:25");
	CU_ASSERT_EQUAL(c.monitor.mail.starttls, 1);
	STR_IS(c.monitor.mail.from, "pki@example.internal");
	{
		static const char *const to[] = { "ops@example.internal", NULL };
		CU_ASSERT(strv_is(&c.monitor.mail.to, to));
	}
	snprintf(want, sizeof(want), "%s/root/ca.crt", dir);
	STR_IS(c.monitor.mail.ca, want);
	snprintf(want, sizeof(want), "%s/secrets.cfg", dir);
	STR_IS(c.monitor.mail.secrets, want);
	{
		char a[700], b[700], d[700];
		const char *src[4];
		snprintf(a, sizeof(a), "%s/templates", dir);
		snprintf(b, sizeof(b), "%s/cron", dir);
		snprintf(d, sizeof(d), "%s/deploy", dir);
		src[0] = a;
		src[1] = b;
		src[2] = d;
		src[3] = NULL;
		UCHECK(strv_is(&c.deploy.sources, src), "deploy.sources: %zu "
		    "entries, first '%s'", c.deploy.sources.n,
		    c.deploy.sources.n ? c.deploy.sources.v[0] : "");
	}
	ca_conf_free(&c);
	CU_ASSERT_PTR_NULL(c.path);
	ca_conf_free(&c); /* twice is fine */
	ca_conf_free(NULL);
}

/* Absolute paths stay; other values than the defaults. */
static void
test_other_values(void)
{
	static const char text[] =
	    "root: { dir = \"/srv/root\"; crl_days = 200; };\n"
	    "client: { dir = \"../client\"; };\n"
	    "policy: { leaf_days = 30; renew_before_days = 10; leaf_key = "
	    "\"ED25519\"; crl_days = 3; crl_every_days = 1; };\n"
	    "monitor: { warn_days = 10; critical_days = 10; endpoints = "
	    "\"one:443\";\n"
	    "  mail: { url = \"smtps://mail\"; starttls = false; from = \"a@b\";"
	    " to = \"c@d\"; ca = \"/etc/ssl/ca.pem\"; }; };\n";
	struct ca_conf c;
	struct ca_err err;
	char path[600], want[700];
	static const char *const one[] = { "one:443", NULL };
	static const char *const to[] = { "c@d", NULL };

	snprintf(path, sizeof(path), "%s/other.cfg", unit_tmp);
	unit_write(path, text, 0644);
	if (!UCHECK(ca_conf_load(&c, path, &err) == 0, "load: %s", err.msg))
		return;
	STR_IS(c.root_dir, "/srv/root");
	CU_ASSERT_EQUAL(c.root_crl_days, 200);
	CU_ASSERT_PTR_NULL(c.server_dir);
	snprintf(want, sizeof(want), "%s/../client", unit_tmp);
	STR_IS(c.client_dir, want);
	CU_ASSERT_EQUAL(c.policy.leaf_days, 30);
	CU_ASSERT_EQUAL(c.policy.renew_before_days, 10);
	CU_ASSERT_EQUAL(c.policy.leaf_key, CA_KEY_ED25519);
	CU_ASSERT_EQUAL(c.policy.crl_days, 3);
	CU_ASSERT_EQUAL(c.policy.crl_every_days, 1);
	CU_ASSERT_PTR_NULL(c.templates);
	CU_ASSERT(strv_is(&c.monitor.endpoints, one));
	CU_ASSERT_EQUAL(c.monitor.mail.starttls, 0);
	CU_ASSERT(strv_is(&c.monitor.mail.to, to));
	STR_IS(c.monitor.mail.ca, "/etc/ssl/ca.pem");
	CU_ASSERT_PTR_NULL(c.monitor.mail.secrets);
	CU_ASSERT_PTR_NULL(c.monitor.textfile);
	CU_ASSERT_EQUAL(c.deploy.sources.n, 0);
	ca_conf_free(&c);
}

static const struct {
	const char *name;
	const char *text;
	int ret;
	int line;        /* 0: not checked */
	const char *msg; /* part of the message */
} bad_conf[] = {
	{ "unknown top-level key",
	    "server: { dir = \"s\"; };\ncolour = \"blue\";\n", CA_ECONF, 2,
	    "colour" },
	{ "unknown key in policy",
	    "server: { dir = \"s\"; };\npolicy: {\n  leaf_days = 90;\n"
	    "  leaf_dayz = 90;\n};\n", CA_ECONF, 4, "leaf_dayz" },
	{ "unknown key in server",
	    "\n\nserver: { dir = \"s\"; crl_days = 3; };\n", CA_ECONF, 3,
	    "crl_days" },
	{ "unknown key in mail",
	    "monitor: {\n mail: {\n  url = \"smtp://x\"; from = \"a@b\";\n"
	    "  to = [ \"c@d\" ];\n  password = \"no\";\n };\n};\n", CA_ECONF, 5,
	    "password" },
	{ "string for an integer",
	    "policy: {\n  leaf_days = \"90\";\n};\n", CA_ECONF, 2,
	    "integer" },
	{ "integer for a string", "templates = 5;\n", CA_ECONF, 1, "string" },
	{ "float for an integer", "policy: { crl_days = 14.0; };\n", CA_ECONF,
	    1, "integer" },
	{ "bool for an integer",
	    "\nmonitor: { warn_days = true; };\n", CA_ECONF, 2, "integer" },
	{ "string for a bool",
	    "monitor: { mail: { url = \"u\"; from = \"f\"; to = \"t\";\n"
	    "  starttls = \"yes\"; }; };\n", CA_ECONF, 2, "true or false" },
	{ "string for a group", "server = \"server-ica\";\n", CA_ECONF, 1,
	    "group" },
	{ "list of integers",
	    "deploy: { sources = [ 1, 2 ]; };\n", CA_ECONF, 1, "strings" },
	{ "empty string", "templates = \"\";\n", CA_ECONF, 1, "empty" },
	{ "group without dir", "client: { };\n", CA_ECONF, 1, "dir" },
	{ "out of range", "policy: { leaf_days = 0; };\n", CA_ECONF, 1,
	    "range" },
	{ "renew not before expiry",
	    "policy: { leaf_days = 30; renew_before_days = 30; };\n", CA_ECONF,
	    1, "renew_before_days" },
	{ "CRL regenerated too rarely",
	    "policy: { crl_days = 7; crl_every_days = 7; };\n", CA_ECONF, 1,
	    "crl_every_days" },
	{ "unknown key algorithm",
	    "policy: {\n leaf_key = \"dsa-1024\";\n};\n", CA_ECONF, 2,
	    "dsa-1024" },
	{ "critical above warn",
	    "monitor: { warn_days = 5; critical_days = 6; };\n", CA_ECONF, 1,
	    "critical_days" },
	{ "mail without to",
	    "monitor: { mail: { url = \"u\"; from = \"f\"; }; };\n", CA_ECONF, 1,
	    "to" },
	{ "mail without url",
	    "monitor: { mail: { from = \"f\"; to = \"t\"; }; };\n", CA_ECONF, 1,
	    "url" },
	/* libconfig's own syntax errors, with the line */
	{ "syntax: missing value",
	    "server: { dir = \"s\"; };\npolicy: { leaf_days = ; };\n", CA_ECONF,
	    2, NULL },
	{ "two settings without a separator",
	    "server: { dir = \"s\"; };\n\n\nclient: { dir = \"c\" dir2 = 1; };\n",
	    CA_ECONF, 4, NULL },
	{ "syntax: unterminated string",
	    "server: { dir = \"s\"; };\ntemplates = \"abc;\n", CA_ECONF, 0,
	    NULL },
};

static void
test_conf_errors(void)
{
	size_t i;

	for (i = 0; i < sizeof(bad_conf) / sizeof(bad_conf[0]); i++) {
		struct ca_conf c;
		struct ca_err err;
		char path[600], want[700];
		int ret;

		snprintf(path, sizeof(path), "%s/bad-%zu.cfg", unit_tmp, i);
		unit_write(path, bad_conf[i].text, 0644);
		memset(&err, 0, sizeof(err));
		ret = ca_conf_load(&c, path, &err);
		UCHECK(ret == bad_conf[i].ret, "%s: ret %d, want %d (%s)",
		    bad_conf[i].name, ret, bad_conf[i].ret, err.msg);
		if (ret == 0) {
			ca_conf_free(&c);
			continue;
		}
		if (bad_conf[i].line > 0)
			snprintf(want, sizeof(want), "%s:%d: ", path,
			    bad_conf[i].line);
		else
			snprintf(want, sizeof(want), "%s:", path);
		UCHECK(strncmp(err.msg, want, strlen(want)) == 0, "%s: message "
		    "'%s' does not start with '%s'", bad_conf[i].name, err.msg,
		    want);
		if (bad_conf[i].msg != NULL)
			UCHECK(strstr(err.msg, bad_conf[i].msg) != NULL, "%s: message "
			    "'%s' lacks '%s'", bad_conf[i].name, err.msg,
			    bad_conf[i].msg);
		/* nothing is left allocated on error */
		UCHECK(c.path == NULL && c.server_dir == NULL, "%s: half-filled "
		    "struct", bad_conf[i].name);
	}
}

static void
test_conf_missing(void)
{
	struct ca_conf c;
	struct ca_err err;
	char path[600];

	snprintf(path, sizeof(path), "%s/no-such.cfg", unit_tmp);
	CU_ASSERT_EQUAL(ca_conf_load(&c, path, &err), CA_ENOENT);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, path));
}

static void
test_conf_find(void)
{
	struct ca_conf c;
	struct ca_err err;
	char a[600], b[600], empty[600], withcfg[600], want[700];
	const char *old = getenv("TIERCA_CONFIG");
	char *saved = old ? strdup(old) : NULL;
	int cwd = open(".", O_RDONLY | O_DIRECTORY);

	snprintf(a, sizeof(a), "%s/find-a.cfg", unit_tmp);
	snprintf(b, sizeof(b), "%s/find-b.cfg", unit_tmp);
	unit_write(a, "server: { dir = \"from-a\"; };\n", 0644);
	unit_write(b, "server: { dir = \"from-b\"; };\n", 0644);
	snprintf(empty, sizeof(empty), "%s/find-empty", unit_tmp);
	snprintf(withcfg, sizeof(withcfg), "%s/find-cwd", unit_tmp);
	mkdir(empty, 0755);
	mkdir(withcfg, 0755);
	snprintf(want, sizeof(want), "%s/tierca.cfg", withcfg);
	unit_write(want, "server: { dir = \"from-cwd\"; };\n", 0644);

	/* $TIERCA_CONFIG */
	setenv("TIERCA_CONFIG", a, 1);
	if (UCHECK(ca_conf_find(&c, NULL, &err) == 0, "env: %s", err.msg)) {
		STR_IS(c.path, a);
		snprintf(want, sizeof(want), "%s/from-a", unit_tmp);
		STR_IS(c.server_dir, want);
		ca_conf_free(&c);
	}
	/* -c FILE wins over the environment */
	if (UCHECK(ca_conf_find(&c, b, &err) == 0, "given: %s", err.msg)) {
		STR_IS(c.path, b);
		ca_conf_free(&c);
	}
	/* a missing $TIERCA_CONFIG is an error, not the defaults */
	snprintf(want, sizeof(want), "%s/find-none.cfg", unit_tmp);
	setenv("TIERCA_CONFIG", want, 1);
	CU_ASSERT_EQUAL(ca_conf_find(&c, NULL, &err), CA_ENOENT);
	unsetenv("TIERCA_CONFIG");
	/* ./tierca.cfg */
	if (chdir(withcfg) == 0) {
		if (UCHECK(ca_conf_find(&c, NULL, &err) == 0, "cwd: %s",
		    err.msg)) {
			STR_IS(c.server_dir, "./from-cwd");
			ca_conf_free(&c);
		}
	} else
		CU_FAIL("chdir");
	/* nothing: the defaults, path NULL */
	if (chdir(empty) == 0) {
		if (UCHECK(ca_conf_find(&c, NULL, &err) == 0, "defaults: %s",
		    err.msg)) {
			CU_ASSERT_PTR_NULL(c.path);
			CU_ASSERT_PTR_NULL(c.server_dir);
			CU_ASSERT_EQUAL(c.policy.leaf_days, 90);
			CU_ASSERT_EQUAL(c.policy.renew_before_days, 30);
			CU_ASSERT_EQUAL(c.policy.crl_days, 14);
			CU_ASSERT_EQUAL(c.policy.crl_every_days, 7);
			CU_ASSERT_EQUAL(c.policy.leaf_key, CA_KEY_ECDSA_P256);
			CU_ASSERT_EQUAL(c.root_crl_days, 180);
			CU_ASSERT_EQUAL(c.monitor.warn_days, 30);
			CU_ASSERT_EQUAL(c.monitor.critical_days, 7);
			ca_conf_free(&c);
		}
	} else
		CU_FAIL("chdir");
	if (cwd >= 0) {
		if (fchdir(cwd) != 0)
			CU_FAIL("fchdir back");
		close(cwd);
	}
	if (saved != NULL)
		setenv("TIERCA_CONFIG", saved, 1);
	free(saved);
}

/* ---- templates --------------------------------------------------------- */

static void
test_design_template(void)
{
	struct ca_template t;
	struct ca_err err;
	char path[600];
	static const char *const dns[] = { "monitoring.internal", NULL };
	static const char *const ip[] = { "10.0.20.5", NULL };

	snprintf(path, sizeof(path), "%s/monitoring.cfg", unit_tmp);
	unit_write(path, design_tpl, 0644);
	memset(&err, 0, sizeof(err));
	if (!UCHECK(ca_template_load(&t, path, &err) == 0, "load: %s", err.msg))
		return;
	STR_IS(t.path, path);
	STR_IS(t.name, "monitoring");
	CU_ASSERT_EQUAL(t.ca, CA_KIND_SERVER);
	STR_IS(t.subject, "CN=monitoring.internal,O=Example");
	CU_ASSERT(strv_is(&t.dns, dns));
	CU_ASSERT(strv_is(&t.ip, ip));
	CU_ASSERT_EQUAL(t.email.n, 0);
	CU_ASSERT_EQUAL(t.days, 0);
	CU_ASSERT_EQUAL(t.has_key_alg, 0);
	CU_ASSERT_EQUAL(t.rotate_key, 1);
	STR_IS(t.install.cert, "/etc/ssl/tierca/monitoring.crt");
	STR_IS(t.install.key, "/etc/ssl/tierca/monitoring.key");
	STR_IS(t.install.fullchain, "/etc/ssl/tierca/monitoring.fullchain.pem");
	CU_ASSERT_PTR_NULL(t.install.chain);
	STR_IS(t.install.owner, "root");
	STR_IS(t.install.group, "ssl-cert");
	UCHECK(t.install.mode == 0640, "mode is 0%o, want 0640",
	    (unsigned)t.install.mode);
	STR_IS(t.reload, "systemctl reload nginx");
	ca_template_free(&t);
	CU_ASSERT_PTR_NULL(t.name);
	ca_template_free(NULL);
}

#define TPL_HEAD \
	"name = \"web\";\nca = \"server\";\ndns = [ \"web.internal\" ];\n"

static const struct {
	const char *name;
	const char *text;
	int ret;
	int line;        /* 0: not checked */
	const char *msg;
	int mode;        /* on success: install.mode */
} tpl_cases[] = {
	{ "minimal", TPL_HEAD, 0, 0, NULL, 0640 },
	{ "mode 0600", TPL_HEAD "install: { mode = 0600; };\n", 0, 0, NULL,
	    0600 },
	{ "mode 0644 as a string", TPL_HEAD "install: { mode = \"0644\"; };\n",
	    0, 0, NULL, 0644 },
	{ "mode 0755", TPL_HEAD "install: { mode = 755; };\n", 0, 0, NULL,
	    0755 },
	{ "client without names",
	    "name = \"alice\";\nca = \"client\";\nsubject = \"CN=alice\";\n", 0,
	    0, NULL, 0640 },
	{ "server with ip only",
	    "name = \"db\";\nca = \"server\";\nip = \"10.0.0.7\";\n", 0, 0, NULL,
	    0640 },
	{ "server without dns or ip",
	    "name = \"web\";\nca = \"server\";\nsubject = \"CN=web\";\n",
	    CA_ECONF, 0, "'dns' or 'ip'", 0 },
	{ "relative install path",
	    TPL_HEAD "install: {\n  cert = \"certs/web.crt\";\n};\n", CA_ECONF,
	    5, "certs/web.crt", 0 },
	{ "install path with ..",
	    TPL_HEAD "install: { key = \"/etc/ssl/../shadow\"; };\n", CA_ECONF,
	    4, "..", 0 },
	{ "install path ending in ..",
	    TPL_HEAD "install: { chain = \"/etc/ssl/..\"; };\n", CA_ECONF, 4,
	    "..", 0 },
	{ "unknown key", TPL_HEAD "colour = \"blue\";\n", CA_ECONF, 4,
	    "colour", 0 },
	{ "unknown install key",
	    TPL_HEAD "install: {\n  cert = \"/a\";\n  perms = 1;\n};\n",
	    CA_ECONF, 6, "perms", 0 },
	{ "mode with a 9", TPL_HEAD "install: { mode = 0649; };\n", CA_ECONF,
	    4, "mode", 0 },
	{ "mode too large", TPL_HEAD "install: { mode = 17777; };\n", CA_ECONF,
	    4, "mode", 0 },
	{ "mode not octal", TPL_HEAD "install: { mode = \"rw\"; };\n", CA_ECONF,
	    4, "mode", 0 },
	{ "ca root", "name = \"x\";\nca = \"root\";\ndns = \"x.internal\";\n",
	    CA_ECONF, 2, "root", 0 },
	{ "ca unknown", "name = \"x\";\nca = \"web\";\ndns = \"x.internal\";\n",
	    CA_ECONF, 2, "web", 0 },
	{ "missing name", "ca = \"server\";\ndns = \"x.internal\";\n",
	    CA_ECONF, 0, "name", 0 },
	{ "bad name", "name = \"../x\";\nca = \"server\";\ndns = \"x.i\";\n",
	    CA_ECONF, 1, "../x", 0 },
	{ "bad dns",
	    "name = \"x\";\nca = \"server\";\ndns = [ \"ok.internal\", "
	    "\"bad..internal\" ];\n", CA_ECONF, 3, "bad..internal", 0 },
	{ "bad ip", "name = \"x\";\nca = \"server\";\n\nip = \"10.0.0.300\";\n",
	    CA_ECONF, 4, "10.0.0.300", 0 },
	{ "bad key algorithm", TPL_HEAD "key = \"rsa-1024\";\n", CA_ECONF, 4,
	    "rsa-1024", 0 },
	{ "days out of range", TPL_HEAD "days = 0;\n", CA_ECONF, 4, "days", 0 },
	{ "syntax error", TPL_HEAD "install: { cert = ; };\n", CA_ECONF, 4,
	    NULL, 0 },
};

static void
test_template_cases(void)
{
	size_t i;

	for (i = 0; i < sizeof(tpl_cases) / sizeof(tpl_cases[0]); i++) {
		struct ca_template t;
		struct ca_err err;
		char path[600], want[700];
		int ret;

		snprintf(path, sizeof(path), "%s/tpl-%zu.cfg", unit_tmp, i);
		unit_write(path, tpl_cases[i].text, 0644);
		memset(&err, 0, sizeof(err));
		ret = ca_template_load(&t, path, &err);
		UCHECK(ret == tpl_cases[i].ret, "%s: ret %d, want %d (%s)",
		    tpl_cases[i].name, ret, tpl_cases[i].ret, err.msg);
		if (ret == 0) {
			UCHECK(t.install.mode == tpl_cases[i].mode, "%s: mode 0%o, "
			    "want 0%o", tpl_cases[i].name, (unsigned)t.install.mode,
			    (unsigned)tpl_cases[i].mode);
			ca_template_free(&t);
			continue;
		}
		if (tpl_cases[i].line > 0)
			snprintf(want, sizeof(want), "%s:%d: ", path,
			    tpl_cases[i].line);
		else
			snprintf(want, sizeof(want), "%s:", path);
		UCHECK(strncmp(err.msg, want, strlen(want)) == 0, "%s: message "
		    "'%s' does not start with '%s'", tpl_cases[i].name, err.msg,
		    want);
		if (tpl_cases[i].msg != NULL)
			UCHECK(strstr(err.msg, tpl_cases[i].msg) != NULL, "%s: "
			    "message '%s' lacks '%s'", tpl_cases[i].name, err.msg,
			    tpl_cases[i].msg);
		UCHECK(t.name == NULL && t.path == NULL, "%s: half-filled "
		    "template", tpl_cases[i].name);
	}
}

static void
test_template_fields(void)
{
	static const char text[] =
	    "name = \"alice\";\nca = \"client\";\ncn = \"alice\";\n"
	    "email = [ \"alice@example.internal\" ];\ndays = 30;\n"
	    "key = \"ecdsa-p384\";\nrotate_key = false;\n";
	static const char *const email[] = { "alice@example.internal", NULL };
	struct ca_template t;
	struct ca_err err;
	char path[600];

	snprintf(path, sizeof(path), "%s/alice.cfg", unit_tmp);
	unit_write(path, text, 0644);
	if (!UCHECK(ca_template_load(&t, path, &err) == 0, "load: %s", err.msg))
		return;
	CU_ASSERT_EQUAL(t.ca, CA_KIND_CLIENT);
	STR_IS(t.cn, "alice");
	CU_ASSERT_PTR_NULL(t.subject);
	CU_ASSERT(strv_is(&t.email, email));
	CU_ASSERT_EQUAL(t.days, 30);
	CU_ASSERT_EQUAL(t.has_key_alg, 1);
	CU_ASSERT_EQUAL(t.key_alg, CA_KEY_ECDSA_P384);
	CU_ASSERT_EQUAL(t.rotate_key, 0);
	CU_ASSERT_PTR_NULL(t.install.cert);
	CU_ASSERT_PTR_NULL(t.reload);
	ca_template_free(&t);
}

void
register_conf(void)
{
	CU_pSuite s = CU_add_suite("conf", unit_tmp_init, unit_tmp_clean);

	CU_add_test(s, "the DESIGN.md configuration", test_design_example);
	CU_add_test(s, "other values, absolute paths", test_other_values);
	CU_add_test(s, "configuration errors are file:line:", test_conf_errors);
	CU_add_test(s, "missing configuration", test_conf_missing);
	CU_add_test(s, "ca_conf_find: -c, TIERCA_CONFIG, ./tierca.cfg",
	    test_conf_find);
	CU_add_test(s, "the DESIGN.md template", test_design_template);
	CU_add_test(s, "template cases", test_template_cases);
	CU_add_test(s, "template fields", test_template_fields);
}
