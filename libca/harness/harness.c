/*
 * harness.c - tierca-harness's run: an ephemeral three-tier hierarchy
 * built in a scratch directory with the same library calls the tools
 * make (or, for an audit, a real installation opened read-only), then
 * the seven categories of checks, each reported as it is decided.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness/harness-int.h"

static const char *const cat_names[CA_HCAT__MAX] = {
	[CA_HCAT_CHAIN] = "chain",
	[CA_HCAT_CRL] = "crl",
	[CA_HCAT_DEPLOY] = "deploy",
	[CA_HCAT_RENEWAL] = "renewal",
	[CA_HCAT_ALERTING] = "alerting",
	[CA_HCAT_SCRIPTS] = "deploy-scripts",
	[CA_HCAT_SECURITY] = "security",
};

const char *
ca_hcat_name(enum ca_hcat c)
{
	return (unsigned)c < CA_HCAT__MAX ? cat_names[c] : "?";
}

int
ca_hcat_parse(enum ca_hcat *out, const char *s)
{
	static const struct {
		const char *alias;
		enum ca_hcat c;
	} aliases[] = {
		{ "deploy-consistency", CA_HCAT_DEPLOY },
		{ "deploy-script", CA_HCAT_SCRIPTS },
		{ "scripts", CA_HCAT_SCRIPTS },
		{ "alert", CA_HCAT_ALERTING },
		{ "renew", CA_HCAT_RENEWAL },
	};
	size_t i;

	for (i = 0; i < CA_HCAT__MAX; i++)
		if (strcasecmp(s, cat_names[i]) == 0) {
			*out = (enum ca_hcat)i;
			return 0;
		}
	for (i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
		if (strcasecmp(s, aliases[i].alias) == 0) {
			*out = aliases[i].c;
			return 0;
		}
	return CA_EINVAL;
}

const char *
ca_hresult_name(enum ca_hresult r)
{
	static const char *const names[CA_HRESULT__MAX] = {
		[CA_HPASS] = "PASS",
		[CA_HFAIL] = "FAIL",
		[CA_HSKIP] = "SKIP",
	};
	return (unsigned)r < CA_HRESULT__MAX ? names[r] : "?";
}

void
hx_check(struct hx *h, enum ca_hresult res, const char *name,
    const char *fmt, ...)
{
	char detail[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	if (res == CA_HPASS)
		h->npass++;
	else if (res == CA_HFAIL)
		h->nfail++;
	else
		h->nskip++;
	if (h->sink != NULL && h->sink->check != NULL)
		h->sink->check(h->sink->ctx, h->cat, res, name, detail);
}

/* ---- helpers ----------------------------------------------------------- */

const char *
hx_kind(enum ca_kind k)
{
	return ca_kind_name(k);
}

const char *
hx_purpose(enum ca_kind k)
{
	return k == CA_KIND_CLIENT ? GNUTLS_KP_TLS_WWW_CLIENT :
	    GNUTLS_KP_TLS_WWW_SERVER;
}

struct ca_db_entry *
hx_current(struct ca_db *db, const char *name, time_t now)
{
	size_t i;

	for (i = db->n; i-- > 0;)
		if (strcmp(db->v[i].name, name) == 0)
			return db->v[i].status == 'V' && db->v[i].not_after > now ?
			    &db->v[i] : NULL;
	return NULL;
}

int
hx_load_issued(gnutls_x509_crt_t *out, struct ca *ca, const char *serial,
    struct ca_err *err)
{
	char *p = NULL;
	int ret;

	if (asprintf(&p, "%s/certs/%s.pem", ca->dir, serial) < 0)
		return ca_err_set(err, CA_ENOMEM, "out of memory");
	ret = ca_cert_load(out, p, err);
	free(p);
	return ret;
}

int
hx_key_read(gnutls_x509_privkey_t *out, const char *path, struct ca_err *err)
{
	gnutls_x509_privkey_t k = NULL;
	gnutls_datum_t d;
	char *buf = NULL;
	size_t len = 0;
	int ret;

	*out = NULL;
	if ((ret = ca_file_read_follow(&buf, &len, path, CA_MAX_FILE, err)) != 0)
		return ret;
	d.data = (unsigned char *)buf;
	d.size = (unsigned)len;
	if ((ret = gnutls_x509_privkey_init(&k)) < 0 ||
	    (ret = gnutls_x509_privkey_import2(k, &d, GNUTLS_X509_FMT_PEM, NULL,
	    GNUTLS_PKCS_PLAIN)) < 0) {
		ret = ca_gnutls_err(err, ret, "cannot read key '%s'", path);
		if (k != NULL)
			gnutls_x509_privkey_deinit(k);
	} else {
		*out = k;
		ret = 0;
	}
	gnutls_memset(buf, 0, len);
	free(buf);
	return ret;
}

void
hx_crt_spki(char *buf, size_t len, gnutls_x509_crt_t crt)
{
	unsigned char id[32];
	size_t n = sizeof(id);

	buf[0] = '\0';
	if (len >= 65 && gnutls_x509_crt_get_key_id(crt,
	    GNUTLS_KEYID_USE_SHA256, id, &n) >= 0 && n == 32)
		ca_hex(buf, id, 32, 0);
}

void
hx_file_spki(char *buf, size_t len, const char *path)
{
	gnutls_x509_privkey_t k = NULL;
	unsigned char id[32];
	size_t n = sizeof(id);

	buf[0] = '\0';
	if (len < 65 || hx_key_read(&k, path, NULL) != 0)
		return;
	if (gnutls_x509_privkey_get_key_id(k, GNUTLS_KEYID_USE_SHA256, id,
	    &n) >= 0 && n == 32)
		ca_hex(buf, id, 32, 0);
	gnutls_x509_privkey_deinit(k);
}

/* ---- opening a configuration ------------------------------------------- */

static int
hx_open(struct hx *h, const char *cfg, struct ca_err *err)
{
	const char *dirs[CA_KIND__MAX];
	enum ca_kind k;
	int ret;

	if ((ret = ca_conf_load(&h->conf, cfg, err)) != 0)
		return ret;
	h->conf_ok = 1;
	dirs[CA_KIND_ROOT] = h->conf.root_dir;
	dirs[CA_KIND_SERVER] = h->conf.server_dir;
	dirs[CA_KIND_CLIENT] = h->conf.client_dir;
	if (dirs[CA_KIND_SERVER] == NULL && dirs[CA_KIND_CLIENT] == NULL &&
	    dirs[CA_KIND_ROOT] == NULL)
		return ca_err_set(err, CA_ECONF, "%s: no CA directory to check "
		    "(root.dir, server.dir or client.dir)", cfg);
	for (k = 0; k < CA_KIND__MAX; k++) {
		if (dirs[k] == NULL)
			continue;
		/* No lock: an audit must not even create a lock file. Every
		 * file read here is replaced by rename, never rewritten. */
		if (ca_open(&h->ca[k], dirs[k], 0, &h->ca_err[k]) != 0)
			continue;
		if (h->ca[k]->kind != k) {
			ca_err_set(&h->ca_err[k], CA_ECONF, "%s.dir '%s' holds the "
			    "%s CA", hx_kind(k), dirs[k],
			    hx_kind(h->ca[k]->kind));
			ca_close(h->ca[k]);
			h->ca[k] = NULL;
		}
	}
	/* The anchor: the root itself where its directory is (the offline
	 * laptop, the ephemeral hierarchy), else the copy the intermediates
	 * were installed with. */
	if (h->ca[CA_KIND_ROOT] != NULL && h->ca[CA_KIND_ROOT]->crt != NULL) {
		h->root = h->ca[CA_KIND_ROOT]->crt;
		h->root_from = ca_path(h->ca[CA_KIND_ROOT], "ca.crt");
	} else
		for (k = CA_KIND_SERVER; k <= CA_KIND_CLIENT && h->root == NULL;
		    k++)
			if (h->ca[k] != NULL && h->ca[k]->root != NULL) {
				h->root = h->ca[k]->root;
				h->root_from = ca_path(h->ca[k], "root.crt");
			}
	if (h->conf.templates != NULL)
		h->tpls_ok = ca_templates_load(&h->tpls, h->conf.templates,
		    &h->tpl_err) == 0;
	return 0;
}

/* ---- the ephemeral hierarchy ------------------------------------------- */

/* A libconfig string literal of s. */
static char *
cfg_quote(const char *s)
{
	struct ca_sbuf b = { NULL, 0, 0, 0 };

	ca_sb_put(&b, "\"", 1);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			ca_sb_put(&b, "\\", 1);
		ca_sb_put(&b, s, 1);
	}
	ca_sb_put(&b, "\"", 1);
	if (b.oom) {
		free(b.p);
		return NULL;
	}
	return b.p;
}

/* A shell word of s (single quotes). */
static char *
sh_quote(const char *s)
{
	struct ca_sbuf b = { NULL, 0, 0, 0 };

	ca_sb_put(&b, "'", 1);
	for (; *s; s++) {
		if (*s == '\'')
			ca_sb_put(&b, "'\\''", 4);
		else
			ca_sb_put(&b, s, 1);
	}
	ca_sb_put(&b, "'", 1);
	if (b.oom) {
		free(b.p);
		return NULL;
	}
	return b.p;
}

static int
write_text(const char *dir, const char *rel, mode_t mode, struct ca_err *err,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int
write_text(const char *dir, const char *rel, mode_t mode, struct ca_err *err,
    const char *fmt, ...)
{
	char *p = ca_path_join(dir, rel), *text = NULL;
	va_list ap;
	int n, ret;

	va_start(ap, fmt);
	n = vasprintf(&text, fmt, ap);
	va_end(ap);
	if (p == NULL || n < 0) {
		free(p);
		return ca_err_set(err, CA_ENOMEM, "out of memory");
	}
	ret = ca_file_write_atomic(p, text, (size_t)n, mode, err);
	free(text);
	free(p);
	return ret;
}

/* The templates: web renews with a new key and reloads through the hook;
 * pinned keeps its key; admin is a client certificate that installs
 * nothing; long lives 200 days, so it is not due when the others are.
 * Every path is quoted: $TMPDIR may hold anything. */
static int
write_templates(struct hx *h, const char *tdir, struct ca_err *err)
{
	static const char *const files[] = { "web.crt", "web.key",
		"web.chain.pem", "web.fullchain.pem", "pinned.crt", "pinned.key",
		"long.fullchain.pem", "long.key" };
	enum { N = sizeof(files) / sizeof(files[0]) };
	char *q[N], *hook = NULL, *qhook = NULL, *qfile = NULL, *p;
	size_t i;
	int ret;

	memset(q, 0, sizeof(q));
	for (i = 0; i < N; i++) {
		if ((p = ca_path_join(h->inst, files[i])) == NULL)
			break;
		q[i] = cfg_quote(p);
		free(p);
		if (q[i] == NULL)
			break;
	}
	if (i < N || (qfile = sh_quote(h->hookfile)) == NULL ||
	    asprintf(&hook, "echo reload >> %s", qfile) < 0 ||
	    (qhook = cfg_quote(hook)) == NULL) {
		ret = ca_err_set(err, CA_ENOMEM, "out of memory");
		goto out;
	}
	if ((ret = write_text(tdir, "web.cfg", 0644, err,
	    "# deploy-target: /etc/tierca/templates/web.cfg\n"
	    "# deploy-mode: 0644\n"
	    "name = \"web\";\n"
	    "ca = \"server\";\n"
	    "subject = \"CN=web.internal,O=tierca-harness\";\n"
	    "dns = [ \"web.internal\" ];\n"
	    "ip = [ \"127.0.0.1\" ];\n"
	    "install: { cert = %s; key = %s;\n"
	    "           chain = %s;\n"
	    "           fullchain = %s; mode = 0640; };\n"
	    "reload = %s;\n", q[0], q[1], q[2], q[3], qhook)) != 0 ||
	    (ret = write_text(tdir, "pinned.cfg", 0644, err,
	    "# deploy-target: /etc/tierca/templates/pinned.cfg\n"
	    "name = \"pinned\";\n"
	    "ca = \"server\";\n"
	    "dns = [ \"pinned.internal\" ];\n"
	    "rotate_key = false;\n"
	    "install: { cert = %s; key = %s;\n"
	    "           mode = 0644; };\n", q[4], q[5])) != 0 ||
	    (ret = write_text(tdir, "long.cfg", 0644, err,
	    "# deploy-target: /etc/tierca/templates/long.cfg\n"
	    "name = \"long\";\n"
	    "ca = \"server\";\n"
	    "dns = [ \"long.internal\" ];\n"
	    "days = 200;\n"
	    "install: { fullchain = %s;\n"
	    "           key = %s; mode = 0640; };\n", q[6], q[7])) != 0 ||
	    (ret = write_text(tdir, "admin.cfg", 0644, err,
	    "# deploy-target: /etc/tierca/templates/admin.cfg\n"
	    "name = \"admin\";\n"
	    "ca = \"client\";\n"
	    "cn = \"Harness Admin\";\n"
	    "email = [ \"admin@harness.invalid\" ];\n")) != 0)
		goto out;
	ret = 0;
out:
	for (i = 0; i < N; i++)
		free(q[i]);
	free(hook);
	free(qhook);
	free(qfile);
	return ret;
}

static int
mkdir_in(const char *dir, const char *rel, mode_t mode, struct ca_err *err)
{
	char *p = ca_path_join(dir, rel);
	int ret;

	if (p == NULL)
		return ca_err_set(err, CA_ENOMEM, "out of memory");
	ret = ca_dir_create(p, mode, 1, err);
	free(p);
	return ret;
}

/* Makes an intermediate in dir/rel, has the root sign its CSR (the
 * certificate goes to dir/transfer/NAME.crt) and installs it. */
static int
make_ica(struct hx *h, struct ca *root, const char *rel, const char *name,
    enum ca_kind kind, const char *subject, const char *permit, int install,
    char *serial, struct ca_err *err)
{
	struct ca_ica_init_opts io = CA_ICA_INIT_OPTS_INIT;
	struct ca_sign_ica_opts so = CA_SIGN_ICA_OPTS_INIT;
	struct ca_issued is;
	struct ca *ca = NULL;
	char *dir = ca_path_join(h->o->dir, rel), *csr = NULL, *crt = NULL;
	char *rootcrt = ca_path(root, "ca.crt");
	int ret;

	memset(&is, 0, sizeof(is));
	if (dir == NULL || rootcrt == NULL ||
	    asprintf(&csr, "%s/ca.csr", dir) < 0 ||
	    asprintf(&crt, "%s/transfer/%s.crt", h->o->dir, name) < 0) {
		ret = ca_err_set(err, CA_ENOMEM, "out of memory");
		goto out;
	}
	io.kind = kind;
	io.subject = subject;
	io.alg = CA_KEY_ECDSA_P256;
	so.kind = kind;
	if (permit != NULL && (ret = ca_strv_add(&so.permit_dns, permit)) != 0)
		goto out;
	if ((ret = ca_ica_init(dir, &io, NULL, err)) != 0 ||
	    (ret = ca_root_sign_file(&is, root, &so, csr, crt, h->now,
	    err)) != 0)
		goto out;
	if (serial != NULL)
		snprintf(serial, 44, "%s", is.serial);
	if (!install)
		goto out;
	if ((ret = ca_open(&ca, dir, 0, err)) != 0 ||
	    (ret = ca_ica_install(ca, crt, rootcrt, h->now, err)) != 0)
		goto out;
out:
	if (ret != 0)
		ca_err_wrap(err, "cannot make the %s intermediate", rel);
	ca_issued_clear(&is);
	ca_strv_free(&so.permit_dns);
	ca_close(ca);
	free(dir);
	free(csr);
	free(crt);
	free(rootcrt);
	return ret;
}

/* Issues a leaf outside any template and revokes it. */
static int
issue_and_revoke(struct hx *h, enum ca_kind k, const char *name,
    const char *dns, const char *cn, enum ca_reason reason,
    struct ca_err *err)
{
	struct ca_issue_opts io = CA_ISSUE_OPTS_INIT;
	struct ca_strv out = { NULL, 0 };
	struct ca_issued is;
	int ret;

	memset(&is, 0, sizeof(is));
	io.name = name;
	io.cn = cn;
	if (dns != NULL && (ret = ca_strv_add(&io.dns, dns)) != 0)
		return ca_err_set(err, CA_ENOMEM, "out of memory");
	if ((ret = ca_issue(&is, h->ca[k], &io, h->now, err)) == 0 &&
	    (ret = ca_revoke(&out, h->ca[k], is.serial, reason, h->now,
	    err)) == 0) {
		snprintf(h->revoked[k], sizeof(h->revoked[k]), "%s", is.serial);
		h->revoked_reason[k] = reason;
	}
	ca_strv_free(&io.dns);
	ca_strv_free(&out);
	ca_issued_clear(&is);
	return ret;
}

static int
build(struct hx *h, struct ca_err *err)
{
	struct ca_root_init_opts ro = CA_ROOT_INIT_OPTS_INIT;
	struct ca_renew_opts rn = CA_RENEW_OPTS_INIT;
	struct ca_strv out = { NULL, 0 };
	struct ca_crl_info ci;
	struct ca *root = NULL;
	const char *d = h->o->dir;
	unsigned char rnd[24];
	char pw[64], retired[44], *p = NULL, *tdir = NULL, *url = NULL;
	enum ca_kind k;
	size_t i;
	int ret, port = h->o->smtp_port > 0 ? h->o->smtp_port : 25;

	/* The root's passphrase: random, in a 0600 file, read back as the
	 * tools read one. */
	if (gnutls_rnd(GNUTLS_RND_KEY, rnd, sizeof(rnd)) < 0)
		return ca_err_set(err, CA_ECRYPTO, "no random bytes");
	ca_hex(pw, rnd, sizeof(rnd), 0);
	gnutls_memset(rnd, 0, sizeof(rnd));
	if ((p = ca_path_join(d, "root.pass")) == NULL) {
		ret = ca_err_set(err, CA_ENOMEM, "out of memory");
		goto out;
	}
	strcat(pw, "\n");
	ret = ca_file_write_new(p, pw, strlen(pw), 0600, err);
	gnutls_memset(pw, 0, sizeof(pw));
	if (ret != 0 || (ret = ca_secret_from_file(&h->pass, p, err)) != 0)
		goto out;

	/* The ceremony: root, two intermediates (the server one limited to
	 * *.internal), a third one retired at once, the root's CRL. */
	ro.subject = "CN=tierca-harness Root,O=tierca-harness";
	ro.alg = CA_KEY_ECDSA_P256;
	free(p);
	if ((p = ca_path_join(d, "root")) == NULL) {
		ret = ca_err_set(err, CA_ENOMEM, "out of memory");
		goto out;
	}
	if ((ret = ca_root_init(p, &ro, &h->pass, h->now, err)) != 0 ||
	    (ret = ca_open(&root, p, 0, err)) != 0 ||
	    (ret = ca_load_key(root, &h->pass, err)) != 0 ||
	    (ret = mkdir_in(d, "transfer", 0755, err)) != 0 ||
	    (ret = make_ica(h, root, "server", "server", CA_KIND_SERVER,
	    "CN=tierca-harness Server ICA,O=tierca-harness", "internal", 1,
	    NULL, err)) != 0 ||
	    (ret = make_ica(h, root, "client", "client", CA_KIND_CLIENT,
	    "CN=tierca-harness Client ICA,O=tierca-harness", NULL, 1, NULL,
	    err)) != 0 ||
	    (ret = make_ica(h, root, "transfer/retired", "retired",
	    CA_KIND_SERVER,
	    "CN=tierca-harness Retired ICA,O=tierca-harness", NULL, 0, retired,
	    err)) != 0 ||
	    (ret = ca_revoke(&out, root, retired, CA_REASON_CESSATION, h->now,
	    err)) != 0 ||
	    (ret = ca_crl_generate(&ci, root, 180, h->now, err)) != 0)
		goto out;
	snprintf(h->revoked[CA_KIND_ROOT], sizeof(h->revoked[0]), "%s",
	    retired);
	h->revoked_reason[CA_KIND_ROOT] = CA_REASON_CESSATION;
	ca_close(root);
	root = NULL;

	/* The online host: configuration and templates. */
	if ((h->inst = ca_path_join(d, "inst")) == NULL ||
	    (h->hookfile = ca_path_join(d, "reloads")) == NULL ||
	    (tdir = ca_path_join(d, "templates")) == NULL ||
	    asprintf(&url, "smtp://127.0.0.1:%d", port) < 0) {
		url = NULL;
		ret = ca_err_set(err, CA_ENOMEM, "out of memory");
		goto out;
	}
	if ((ret = mkdir_in(d, "inst", 0755, err)) != 0 ||
	    (ret = mkdir_in(d, "templates", 0755, err)) != 0 ||
	    (ret = write_templates(h, tdir, err)) != 0 ||
	    (ret = write_text(d, "tierca.cfg", 0644, err,
	    "# deploy-target: /etc/tierca/tierca.cfg\n"
	    "root: { dir = \"root\"; };\n"
	    "server: { dir = \"server\"; };\n"
	    "client: { dir = \"client\"; };\n"
	    "policy: { leaf_days = 90; renew_before_days = 30;\n"
	    "          leaf_key = \"ecdsa-p256\"; crl_days = 14;\n"
	    "          crl_every_days = 7; revoke_superseded = true; };\n"
	    "templates = \"templates\";\n"
	    "monitor: { warn_days = 30; critical_days = 7;\n"
	    "  mail: { url = \"%s\"; starttls = false;\n"
	    "          from = \"tierca-harness@harness.invalid\";\n"
	    "          to = [ \"ops@harness.invalid\" ]; }; };\n"
	    "deploy: { sources = [ \"templates\", \"samples/good\" ]; };\n",
	    url)) != 0)
		goto out;
	free(p);
	if ((p = ca_path_join(d, "tierca.cfg")) == NULL) {
		ret = ca_err_set(err, CA_ENOMEM, "out of memory");
		goto out;
	}
	if ((ret = hx_open(h, p, err)) != 0)
		goto out;
	for (k = CA_KIND_SERVER; k <= CA_KIND_CLIENT; k++)
		if (h->ca[k] == NULL) {
			ret = ca_err_set(err, h->ca_err[k].code, "%s",
			    h->ca_err[k].msg);
			goto out;
		} else if ((ret = ca_load_key(h->ca[k], NULL, err)) != 0)
			goto out;
	if (!h->tpls_ok || h->tpls.n != HX_T__MAX) {
		ret = ca_err_set(err, CA_ECONF, "the harness's templates: %s",
		    h->tpl_err.msg[0] ? h->tpl_err.msg : "not four");
		goto out;
	}

	/* First CRLs, then the first renewal run (it issues everything),
	 * two revocations, and the CRLs again: the numbers must grow. */
	for (k = CA_KIND_SERVER; k <= CA_KIND_CLIENT; k++) {
		if ((ret = ca_crl_generate(&ci, h->ca[k], h->conf.policy.crl_days,
		    h->now, err)) != 0)
			goto out;
		snprintf(h->crlnum[k][0], 44, "%s", ci.number);
	}
	rn.leaf_days = h->conf.policy.leaf_days;
	rn.leaf_key = h->conf.policy.leaf_key;
	rn.renew_before_days = h->conf.policy.renew_before_days;
	rn.revoke_superseded = h->conf.policy.revoke_superseded;
	for (i = 0; i < h->tpls.n; i++)
		(void)ca_renew_template(&h->first[i], h->ca[h->tpls.v[i].ca],
		    &h->tpls.v[i], &rn, h->now, NULL);
	if ((ret = issue_and_revoke(h, CA_KIND_SERVER, "victim",
	    "victim.internal", NULL, CA_REASON_KEY_COMPROMISE, err)) != 0 ||
	    (ret = issue_and_revoke(h, CA_KIND_CLIENT, "former", NULL,
	    "Former Admin", CA_REASON_AFFILIATION_CHANGED, err)) != 0)
		goto out;
	for (k = CA_KIND_SERVER; k <= CA_KIND_CLIENT; k++) {
		if ((ret = ca_crl_generate(&ci, h->ca[k], h->conf.policy.crl_days,
		    h->now, err)) != 0)
			goto out;
		snprintf(h->crlnum[k][1], 44, "%s", ci.number);
	}
	ret = 0;
out:
	if (ret != 0)
		ca_err_wrap(err, "cannot build the ephemeral hierarchy");
	ca_strv_free(&out);
	ca_close(root);
	free(p);
	free(tdir);
	free(url);
	return ret;
}

/* ---- the run ----------------------------------------------------------- */

static void
hx_free(struct hx *h)
{
	enum ca_kind k;

	for (k = 0; k < CA_KIND__MAX; k++)
		ca_close(h->ca[k]);
	if (h->tpls_ok)
		ca_templates_free(&h->tpls);
	if (h->conf_ok)
		ca_conf_free(&h->conf);
	ca_secret_wipe(&h->pass);
	free(h->root_from);
	free(h->hookfile);
	free(h->inst);
	free(h->cfgpath);
}

int
ca_harness_run(const struct ca_harness_opts *o, const struct ca_hsink *sink,
    time_t now, struct ca_err *err)
{
	/* Renewal last: it moves time on and changes what it renews. */
	static const struct {
		enum ca_hcat cat;
		int (*fn)(struct hx *);
	} order[] = {
		{ CA_HCAT_CHAIN, hx_chain },
		{ CA_HCAT_CRL, hx_crl },
		{ CA_HCAT_DEPLOY, hx_deploy },
		{ CA_HCAT_SCRIPTS, hx_scripts },
		{ CA_HCAT_SECURITY, hx_security },
		{ CA_HCAT_ALERTING, hx_alerting },
		{ CA_HCAT_RENEWAL, hx_renewal },
	};
	struct hx h;
	size_t i;
	int ret;

	memset(&h, 0, sizeof(h));
	h.o = o;
	h.sink = sink;
	h.now = now;
	h.ephemeral = o->pki == NULL;
	if (o->dir == NULL)
		return ca_err_set(err, CA_EINVAL, "the harness needs a scratch "
		    "directory");
	if (o->pki != NULL && (o->cats & ~CA_HCAT_READ_ONLY) != 0)
		return ca_err_set(err, CA_EINVAL, "renewal and alerting change "
		    "things: they are not run against a real installation");
	if (h.ephemeral)
		ret = build(&h, err);
	else
		ret = hx_open(&h, o->pki, err);
	if (ret != 0)
		goto out;
	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		if (!(o->cats & CA_HCAT_BIT(order[i].cat)))
			continue;
		h.cat = order[i].cat;
		h.npass = h.nfail = h.nskip = 0;
		if ((ret = order[i].fn(&h)) != 0) {
			ca_err_set(err, ret, "%s: out of memory",
			    ca_hcat_name(h.cat));
			goto out;
		}
		if (sink != NULL && sink->done != NULL)
			sink->done(sink->ctx, h.cat);
	}
	ret = 0;
out:
	hx_free(&h);
	return ret;
}
