/*
 * harness_files.c - the harness's checks of files: deploy consistency
 * (what the templates installed is the latest certificate with its key,
 * nothing stale, nothing orphaned) and deploy-script validation (managed
 * files' headers through ca_deploy_scan, good ones accepted and bad ones
 * refused).
 */
#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness/harness-int.h"

/* ---- deploy consistency ------------------------------------------------ */

static int
has_install(const struct ca_template *t)
{
	return t->install.cert || t->install.key || t->install.chain ||
	    t->install.fullchain;
}

/* The first certificate of a PEM file, links followed. */
static int
crt_read(gnutls_x509_crt_t *out, const char *path, struct ca_err *err)
{
	gnutls_x509_crt_t *list = NULL;
	unsigned n = 0, i;
	gnutls_datum_t d;
	char *buf = NULL;
	size_t len = 0;
	int ret;

	*out = NULL;
	if ((ret = ca_file_read_follow(&buf, &len, path, CA_MAX_FILE, err)) != 0)
		return ret;
	d.data = (unsigned char *)buf;
	d.size = (unsigned)len;
	ret = gnutls_x509_crt_list_import2(&list, &n, &d, GNUTLS_X509_FMT_PEM,
	    0);
	free(buf);
	if (ret < 0 || n == 0)
		return ca_err_set(err, CA_EINVAL, "'%s' holds no certificate",
		    path);
	*out = list[0];
	for (i = 1; i < n; i++)
		gnutls_x509_crt_deinit(list[i]);
	gnutls_free(list);
	return 0;
}

/* 1 when the two files have the same bytes. */
static int
same_file(const char *a, const char *b)
{
	char *x = NULL, *y = NULL;
	size_t nx = 0, ny = 0;
	int same;

	if (ca_file_read_follow(&x, &nx, a, CA_MAX_FILE, NULL) != 0 ||
	    ca_file_read_follow(&y, &ny, b, CA_MAX_FILE, NULL) != 0) {
		free(x);
		return 0;
	}
	same = nx == ny && memcmp(x, y, nx) == 0;
	gnutls_memset(x, 0, nx);
	gnutls_memset(y, 0, ny);
	free(x);
	free(y);
	return same;
}

static int
strv_has(const struct ca_strv *sv, const char *s)
{
	size_t i;

	for (i = 0; i < sv->n; i++)
		if (strcmp(sv->v[i], s) == 0)
			return 1;
	return 0;
}

static char *
dir_part(const char *path)
{
	const char *s = strrchr(path, '/');

	if (s == NULL)
		return strdup(".");
	return s == path ? strdup("/") : strndup(path, (size_t)(s - path));
}

/* The installed files of one template. */
static int
check_template(struct hx *h, const struct ca_template *t, struct ca_db *db)
{
	struct ca *ca = h->ca[t->ca];
	const struct ca_db_entry *cur;
	gnutls_x509_crt_t leaf = NULL;
	gnutls_x509_privkey_t key = NULL;
	struct ca_err e = { 0 };
	const char *leafpath = t->install.cert ? t->install.cert :
	    t->install.fullchain;
	char name[200], serial[64], *issued = NULL, *p = NULL;
	int ret = 0, need;

	snprintf(name, sizeof(name), "'%s' installed certificate", t->name);
	if ((cur = hx_current(db, t->name, h->now)) == NULL) {
		hx_fail(h, name, "no current certificate of '%s' in '%s'",
		    t->name, ca->dir);
		return 0;
	}
	if (asprintf(&issued, "%s/issued/%s", ca->dir, t->name) < 0)
		return CA_ENOMEM;

	/* The latest certificate, as published in issued/NAME/. */
	if (leafpath == NULL)
		hx_skip(h, name, "the template installs no certificate");
	else if (crt_read(&leaf, leafpath, &e) != 0)
		hx_fail(h, name, "%s", e.msg);
	else {
		ca_cert_serial_hex(serial, sizeof(serial), leaf);
		free(p);
		if (asprintf(&p, "%s/cert.pem", issued) < 0) {
			ret = CA_ENOMEM;
			goto out;
		}
		if (strcmp(serial, cur->serial) != 0)
			hx_fail(h, name, "stale: '%s' holds serial %s, the current "
			    "certificate is %s", leafpath, serial, cur->serial);
		else if (t->install.cert != NULL && !same_file(t->install.cert,
		    p))
			hx_fail(h, name, "'%s' differs from '%s'", t->install.cert,
			    p);
		else
			hx_pass(h, name, "'%s' is serial %s, the current one",
			    leafpath, serial);
	}

	/* Its key: the pair matches. */
	snprintf(name, sizeof(name), "'%s' installed key", t->name);
	memset(&e, 0, sizeof(e));
	if (t->install.key == NULL)
		hx_skip(h, name, "the template installs no key");
	else if (hx_key_read(&key, t->install.key, &e) != 0)
		hx_fail(h, name, "%s", e.msg);
	else if (leaf == NULL)
		hx_fail(h, name, "no installed certificate to match '%s' with",
		    t->install.key);
	else if (!ca_cert_matches_key(leaf, key))
		hx_fail(h, name, "'%s' is not the key of '%s'", t->install.key,
		    leafpath);
	else
		hx_pass(h, name, "'%s' is the key of the installed certificate",
		    t->install.key);

	/* Chain and full chain: the issued ones, and they verify. */
	if (t->install.chain != NULL || t->install.fullchain != NULL) {
		const char *bad = NULL;
		snprintf(name, sizeof(name), "'%s' installed chain", t->name);
		free(p);
		p = NULL;
		if (t->install.chain != NULL &&
		    (asprintf(&p, "%s/chain.pem", issued) < 0 ||
		    !same_file(t->install.chain, p)))
			bad = t->install.chain;
		free(p);
		p = NULL;
		if (bad == NULL && t->install.fullchain != NULL &&
		    (asprintf(&p, "%s/fullchain.pem", issued) < 0 ||
		    !same_file(t->install.fullchain, p)))
			bad = t->install.fullchain;
		memset(&e, 0, sizeof(e));
		if (bad != NULL)
			hx_fail(h, name, "'%s' is not the chain issued with the "
			    "certificate", bad);
		else if (leaf != NULL && ca_verify_chain(leaf, &ca->crt, 1,
		    &h->root, 1, NULL, 0, hx_purpose(t->ca), h->now, &e) != 0)
			hx_fail(h, name, "the installed certificate does not "
			    "verify: %s", e.msg);
		else
			hx_pass(h, name, "the issued chain, and it verifies");
	}

	/* Owner and mode as the template says, as tierca-renew would leave
	 * them (keys never more open than 0640). */
	{
		const char *files[4] = { t->install.key, t->install.cert,
			t->install.chain, t->install.fullchain };
		const char *bad = NULL;
		char why[600] = "";
		struct stat st;
		size_t i;
		snprintf(name, sizeof(name), "'%s' installed modes", t->name);
		for (i = 0; i < 4 && bad == NULL; i++) {
			mode_t want = (mode_t)t->install.mode & (i == 0 ? 0640 :
			    07777);
			if (files[i] == NULL)
				continue;
			if (lstat(files[i], &st) != 0)
				snprintf(why, sizeof(why), "'%s': %s", bad = files[i],
				    strerror(errno));
			else if (!S_ISREG(st.st_mode) ||
			    (st.st_mode & 07777) != want)
				snprintf(why, sizeof(why), "'%s' is %s mode %04o, "
				    "want %04o", bad = files[i], S_ISREG(st.st_mode) ?
				    "" : "not a regular file,",
				    (unsigned)(st.st_mode & 07777), (unsigned)want);
		}
		memset(&e, 0, sizeof(e));
		need = bad == NULL ? ca_install_needed(ca, t, &e) : 1;
		if (bad != NULL)
			hx_fail(h, name, "%s", why);
		else if (need != 0)
			hx_fail(h, name, "%s", need < 0 ? e.msg : "tierca-renew "
			    "would install again (owner or group differ)");
		else
			hx_pass(h, name, "mode %04o (key %04o)%s%s",
			    (unsigned)t->install.mode,
			    (unsigned)(t->install.mode & 0640),
			    t->install.owner ? ", owner " : "",
			    t->install.owner ? t->install.owner : "");
	}

	/* The service read what is installed: no reload still owed. */
	if (t->reload != NULL) {
		snprintf(name, sizeof(name), "'%s' reloaded", t->name);
		free(p);
		if (asprintf(&p, "%s/issued/.%s.reload-pending", ca->dir,
		    t->name) < 0) {
			p = NULL;
			ret = CA_ENOMEM;
			goto out;
		}
		if (ca_file_exists(p))
			hx_fail(h, name, "a reload is pending ('%s'): the service "
			    "may still serve the old certificate", p);
		else
			hx_pass(h, name, "no reload pending");
	}
out:
	if (leaf != NULL)
		gnutls_x509_crt_deinit(leaf);
	if (key != NULL)
		gnutls_x509_privkey_deinit(key);
	free(issued);
	free(p);
	return ret;
}

/* A file nobody claims: a leftover of an interrupted install, a key, or
 * a certificate of one of our intermediates. NULL when it is none. */
static const char *
orphan_kind(struct hx *h, const char *dir, const char *file)
{
	gnutls_x509_crt_t c = NULL;
	char *p, *buf = NULL;
	size_t len = 0;
	const char *what = NULL;
	enum ca_kind k;

	if (strncmp(file, ".tierca-install.", 16) == 0)
		return "an interrupted install's temp file";
	if ((p = ca_path_join(dir, file)) == NULL)
		return NULL;
	if (ca_file_read_follow(&buf, &len, p, 1024 * 1024, NULL) == 0) {
		if (memmem(buf, len, "PRIVATE KEY-----", 16) != NULL)
			what = "a private key no template installs";
		gnutls_memset(buf, 0, len);
		free(buf);
	}
	if (what == NULL && crt_read(&c, p, NULL) == 0) {
		for (k = CA_KIND_SERVER; k <= CA_KIND_CLIENT && what == NULL; k++)
			if (h->ca[k] != NULL && h->ca[k]->crt != NULL &&
			    gnutls_x509_crt_check_issuer(c, h->ca[k]->crt))
				what = "a certificate of ours no template installs";
		gnutls_x509_crt_deinit(c);
	}
	free(p);
	return what;
}

static int
orphans(struct hx *h, const struct ca_strv *dirs, const struct ca_strv *claimed)
{
	char why[1200] = "";
	size_t i, looked = 0, found = 0;
	enum ca_kind k;

	for (i = 0; i < dirs->n; i++) {
		struct dirent *de;
		DIR *d = opendir(dirs->v[i]);
		if (d == NULL)
			continue;
		while ((de = readdir(d)) != NULL) {
			struct stat st;
			const char *what;
			char *p;
			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			if ((p = ca_path_join(dirs->v[i], de->d_name)) == NULL) {
				closedir(d);
				return CA_ENOMEM;
			}
			if (lstat(p, &st) == 0 && !S_ISDIR(st.st_mode) &&
			    !strv_has(claimed, p)) {
				looked++;
				if ((what = orphan_kind(h, dirs->v[i],
				    de->d_name)) != NULL && found++ == 0)
					snprintf(why, sizeof(why), "'%s': %s", p, what);
			}
			free(p);
		}
		closedir(d);
	}
	/* Staging directories of an interrupted issuance. */
	for (k = CA_KIND_SERVER; k <= CA_KIND_CLIENT; k++) {
		struct dirent *de;
		char *issued;
		DIR *d;
		if (h->ca[k] == NULL || (issued = ca_path(h->ca[k], "issued")) ==
		    NULL)
			continue;
		if ((d = opendir(issued)) != NULL) {
			while ((de = readdir(d)) != NULL)
				if (de->d_name[0] == '.' &&
				    strstr(de->d_name, ".new.") != NULL &&
				    found++ == 0)
					snprintf(why, sizeof(why), "'%s/%s': an "
					    "interrupted issuance's staging directory",
					    issued, de->d_name);
			closedir(d);
		}
		free(issued);
	}
	if (found > 0)
		hx_fail(h, "no orphaned files", "%zu found; %s", found, why);
	else
		hx_pass(h, "no orphaned files", "%zu unclaimed file%s in %zu "
		    "install director%s, none of them ours", looked, looked == 1 ?
		    "" : "s", dirs->n, dirs->n == 1 ? "y" : "ies");
	return 0;
}

int
hx_deploy(struct hx *h)
{
	struct ca_db *db[CA_KIND__MAX] = { NULL };
	struct ca_strv dirs = { NULL, 0 }, claimed = { NULL, 0 };
	size_t i, j, n = 0;
	enum ca_kind k;
	int ret = 0;

	if (h->conf.templates == NULL) {
		hx_skip(h, "templates", "no templates in the configuration");
		return 0;
	}
	if (!h->tpls_ok) {
		hx_fail(h, "templates", "%s", h->tpl_err.msg);
		return 0;
	}
	for (i = 0; i < h->tpls.n && ret == 0; i++) {
		const struct ca_template *t = &h->tpls.v[i];
		const char *files[4] = { t->install.cert, t->install.key,
			t->install.chain, t->install.fullchain };
		struct ca_err e = { 0 };
		char name[200];

		if (!has_install(t))
			continue;
		n++;
		for (j = 0; j < 4; j++) {
			char *d;
			if (files[j] == NULL)
				continue;
			if (ca_strv_add(&claimed, files[j]) != 0 ||
			    (d = dir_part(files[j])) == NULL) {
				ret = CA_ENOMEM;
				goto out;
			}
			if (!strv_has(&dirs, d) && ca_strv_add(&dirs, d) != 0) {
				free(d);
				ret = CA_ENOMEM;
				goto out;
			}
			free(d);
		}
		snprintf(name, sizeof(name), "'%s' installed certificate",
		    t->name);
		if (h->ca[t->ca] == NULL || h->ca[t->ca]->crt == NULL) {
			hx_fail(h, name, "the %s CA cannot be read: %s",
			    hx_kind(t->ca), h->ca_err[t->ca].msg);
			continue;
		}
		if (db[t->ca] == NULL &&
		    ca_list(&db[t->ca], h->ca[t->ca], &e) != 0) {
			hx_fail(h, name, "%s", e.msg);
			continue;
		}
		ret = check_template(h, t, db[t->ca]);
	}
	if (ret != 0)
		goto out;
	if (n == 0)
		hx_skip(h, "installed files", "no template installs anything");
	else
		ret = orphans(h, &dirs, &claimed);
out:
	for (k = 0; k < CA_KIND__MAX; k++)
		ca_db_free(db[k]);
	ca_strv_free(&dirs);
	ca_strv_free(&claimed);
	return ret;
}

/* ---- deploy-script validation ------------------------------------------ */

struct sample {
	const char *file;       /* relative to samples/ */
	const char *text;
	mode_t fmode;
	/* What the scan must read from it (good ones). */
	const char *target;
	mode_t mode;
	const char *after;
};

static const struct sample good[] = {
	{ "good/nginx/tierca.conf",
	    "# deploy-target: /etc/nginx/conf.d/tierca.conf\n"
	    "# deploy-mode: 0644\n"
	    "# deploy-after: nginx -t && systemctl reload nginx\n"
	    "ssl_certificate /etc/ssl/tierca/web.fullchain.pem;\n"
	    "ssl_certificate_key /etc/ssl/tierca/web.key;\n"
	    "ssl_client_certificate /etc/ssl/tierca/client-ca.pem;\n"
	    "ssl_verify_client on;\n", 0644,
	    "/etc/nginx/conf.d/tierca.conf", 0644,
	    "nginx -t && systemctl reload nginx" },
	{ "good/systemd/tierca-renew.timer",
	    "# deploy-target: /etc/systemd/system/tierca-renew.timer\n"
	    "# deploy-owner: @OWNER@\n"
	    "# deploy-mode: 0644\n"
	    "[Timer]\nOnCalendar=daily\nPersistent=true\n", 0644,
	    "/etc/systemd/system/tierca-renew.timer", 0644, NULL },
	{ "good/templates/grafana.cfg",
	    "// deploy-target: /etc/tierca/templates/grafana.cfg\n"
	    "// deploy-mode: 0640\n"
	    "name = \"grafana\";\nca = \"server\";\n"
	    "dns = [ \"grafana.internal\" ];\n", 0644,
	    "/etc/tierca/templates/grafana.cfg", 0640, NULL },
	{ "good/php/tierca.ini",
	    "; deploy-target: /etc/php/conf.d/tierca.ini\n"
	    "openssl.cafile = /etc/ssl/tierca/root.crt\n", 0644,
	    "/etc/php/conf.d/tierca.ini", 0644, NULL },
	{ "good/bin/tierca-check",
	    "# deploy-target: /usr/local/sbin/tierca-check\n"
	    "# deploy-mode: 0755\n"
	    "tierca-monitor -c /etc/tierca/tierca.cfg --mail\n", 0755,
	    "/usr/local/sbin/tierca-check", 0755, NULL },
};

/* Each bad set must be refused, with a problem naming `names'. */
static const struct {
	const char *check;
	const char *dir;
	const char *names;       /* a file the problem must name */
	struct {
		const char *file, *text;
	} files[2];
} bad[] = {
	{ "relative target refused", "bad-relative", "relative.conf",
	    { { "relative.conf", "# deploy-target: etc/tierca/relative.conf\n"
	    "x = 1;\n" } } },
	{ "'..' in the target refused", "bad-dotdot", "dotdot.conf",
	    { { "dotdot.conf", "# deploy-target: /etc/tierca/../shadow\n"
	    "x = 1;\n" } } },
	{ "duplicate target refused", "bad-duplicate", "same.conf",
	    { { "one.conf", "# deploy-target: /etc/tierca/same.conf\n"
	    "one = 1;\n" }, { "two.conf",
	    "# deploy-target: /etc/tierca/same.conf\ntwo = 2;\n" } } },
	{ "invalid mode refused", "bad-mode", "mode.conf",
	    { { "mode.conf", "# deploy-target: /etc/tierca/mode.conf\n"
	    "# deploy-mode: 0999\nx = 1;\n" } } },
	{ "unknown owner refused", "bad-owner", "owner.conf",
	    { { "owner.conf", "# deploy-target: /etc/tierca/owner.conf\n"
	    "# deploy-owner: no-such-user-tierca-harness\nx = 1;\n" } } },
	{ "private key without deploy-key refused", "bad-key", "leak.pem",
	    { { "leak.pem", "# deploy-target: /etc/ssl/private/leak.pem\n"
	    "# deploy-mode: 0600\n"
	    "-----BEGIN PRIVATE KEY-----\n"
	    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgAAAAAAAAAAAAAAAA\n"
	    "-----END PRIVATE KEY-----\n" } } },
};

static int
write_sample(const char *base, const char *rel, const char *text,
    mode_t mode, struct ca_err *err)
{
	char *p = ca_path_join(base, rel), *s;
	int ret = 0;

	if (p == NULL)
		return ca_err_set(err, CA_ENOMEM, "out of memory");
	/* Parent directories, one level at a time. */
	for (s = p + strlen(base) + 1; (s = strchr(s, '/')) != NULL; s++) {
		*s = '\0';
		ret = ca_dir_create(p, 0755, 0, err);
		*s = '/';
		if (ret != 0)
			break;
	}
	if (ret == 0)
		ret = ca_file_write_atomic(p, text, strlen(text), mode, err);
	free(p);
	return ret;
}

/* "@OWNER@" in a sample is whoever runs the harness (as user:group), so
 * the sample is valid without root too; with no name for us, the line
 * goes and the sample has no owner. */
static char *
sample_text(const char *text, int *has_owner)
{
	const char *at = strstr(text, "@OWNER@"), *eol;
	struct passwd *pw = getpwuid(geteuid());
	struct group *gr = getgrgid(getegid());
	char *out = NULL;

	*has_owner = 0;
	if (at == NULL)
		return strdup(text);
	if (pw != NULL && gr != NULL) {
		*has_owner = 1;
		if (asprintf(&out, "%.*s%s:%s%s", (int)(at - text), text,
		    pw->pw_name, gr->gr_name, at + 7) < 0)
			out = NULL;
		return out;
	}
	for (eol = at; *eol != '\0' && *eol != '\n'; eol++)
		;
	while (at > text && at[-1] != '\n')
		at--;
	if (asprintf(&out, "%.*s%s", (int)(at - text), text,
	    *eol ? eol + 1 : eol) < 0)
		out = NULL;
	return out;
}

static int
first_problem_naming(const struct ca_deploy *d, const char *needle)
{
	size_t i;

	for (i = 0; i < d->problems.n; i++)
		if (strstr(d->problems.v[i], needle) != NULL)
			return (int)i;
	return -1;
}

int
hx_scripts(struct hx *h)
{
	struct ca_strv src = { NULL, 0 };
	struct ca_deploy d;
	struct ca_err e = { 0 };
	char *samples = NULL, *stage = NULL, *p = NULL, why[1200];
	int owner[sizeof(good) / sizeof(good[0])];
	size_t i, j;
	int ret = 0, r, idx;

	memset(&d, 0, sizeof(d));
	if ((samples = ca_path_join(h->o->dir, "samples")) == NULL ||
	    (stage = ca_path_join(h->o->dir, "stage")) == NULL) {
		ret = CA_ENOMEM;
		goto out;
	}
	/* The sample set: written here, scanned against an empty staging
	 * root in the scratch directory. */
	if (ca_dir_create(samples, 0755, 0, &e) != 0 ||
	    ca_dir_create(stage, 0755, 0, &e) != 0) {
		hx_fail(h, "sample managed files", "%s", e.msg);
		goto out;
	}
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		char *text = sample_text(good[i].text, &owner[i]);
		if (text == NULL) {
			ret = CA_ENOMEM;
			goto out;
		}
		r = write_sample(samples, good[i].file, text, good[i].fmode, &e);
		free(text);
		if (r != 0) {
			hx_fail(h, "sample managed files", "%s", e.msg);
			goto out;
		}
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		for (j = 0; j < 2 && bad[i].files[j].file != NULL; j++) {
			free(p);
			if (asprintf(&p, "%s/%s", bad[i].dir,
			    bad[i].files[j].file) < 0) {
				p = NULL;
				ret = CA_ENOMEM;
				goto out;
			}
			if (write_sample(samples, p, bad[i].files[j].text,
			    strstr(p, ".pem") ? 0600 : 0644, &e) != 0) {
				hx_fail(h, "sample managed files", "%s", e.msg);
				goto out;
			}
		}

	/* The good ones: every header read as written. */
	free(p);
	if ((p = ca_path_join(samples, "good")) == NULL ||
	    ca_strv_add(&src, p) != 0) {
		ret = CA_ENOMEM;
		goto out;
	}
	memset(&e, 0, sizeof(e));
	r = ca_deploy_scan(&d, &src, stage, &e);
	why[0] = '\0';
	if (r != 0)
		snprintf(why, sizeof(why), "refused: %s", d.problems.n > 0 ?
		    d.problems.v[0] : e.msg);
	else if (d.n != sizeof(good) / sizeof(good[0]))
		snprintf(why, sizeof(why), "%zu managed files found, want %zu",
		    d.n, sizeof(good) / sizeof(good[0]));
	for (i = 0; why[0] == '\0' && i < sizeof(good) / sizeof(good[0]); i++) {
		const struct ca_deploy_item *it = NULL;
		char dest[600];
		for (j = 0; j < d.n; j++)
			if (d.v[j].src != NULL && strstr(d.v[j].src, good[i].file))
				it = &d.v[j];
		snprintf(dest, sizeof(dest), "%s%s", stage, good[i].target);
		if (it == NULL)
			snprintf(why, sizeof(why), "'%s' not found", good[i].file);
		else if (it->target == NULL ||
		    strcmp(it->target, good[i].target) != 0)
			snprintf(why, sizeof(why), "'%s': target '%s', want '%s'",
			    good[i].file, it->target ? it->target : "(none)",
			    good[i].target);
		else if (it->dest == NULL || strcmp(it->dest, dest) != 0)
			snprintf(why, sizeof(why), "'%s': destination '%s', want "
			    "'%s'", good[i].file, it->dest ? it->dest : "(none)",
			    dest);
		else if (it->mode != good[i].mode)
			snprintf(why, sizeof(why), "'%s': mode %04o, want %04o",
			    good[i].file, (unsigned)it->mode,
			    (unsigned)good[i].mode);
		else if ((good[i].after == NULL) != (it->after == NULL) ||
		    (good[i].after != NULL && strcmp(good[i].after,
		    it->after) != 0))
			snprintf(why, sizeof(why), "'%s': deploy-after '%s'",
			    good[i].file, it->after ? it->after : "(none)");
		else if (owner[i] != it->has_owner || (owner[i] &&
		    (it->uid != geteuid() || it->gid != getegid())))
			snprintf(why, sizeof(why), "'%s': owner %s", good[i].file,
			    owner[i] ? "not ours" : "where none was given");
		else if (it->state != CA_DEPLOY_NEW)
			snprintf(why, sizeof(why), "'%s': state %d, want new (the "
			    "staging root is empty)", good[i].file, (int)it->state);
	}
	if (why[0] != '\0')
		hx_fail(h, "sample headers parse", "%s", why);
	else
		hx_pass(h, "sample headers parse", "%zu managed files ('# ', "
		    "'// ', '; ' leaders; target, mode, owner, after) read as "
		    "written", d.n);
	ca_deploy_free(&d);
	memset(&d, 0, sizeof(d));
	ca_strv_free(&src);

	/* The bad ones: each set refused, the problem naming the file. */
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		free(p);
		if (asprintf(&p, "%s/%s", samples, bad[i].dir) < 0 ||
		    ca_strv_add(&src, p) != 0) {
			p = NULL;
			ret = CA_ENOMEM;
			goto out;
		}
		memset(&e, 0, sizeof(e));
		r = ca_deploy_scan(&d, &src, stage, &e);
		idx = first_problem_naming(&d, bad[i].names);
		if (r == CA_ECONF && idx >= 0)
			hx_pass(h, bad[i].check, "%s", d.problems.v[idx]);
		else if (r == CA_ECONF)
			hx_fail(h, bad[i].check, "refused, but no problem names "
			    "'%s': %s", bad[i].names, d.problems.n > 0 ?
			    d.problems.v[0] : e.msg);
		else
			hx_fail(h, bad[i].check, "'%s' %s", bad[i].dir, r == 0 ?
			    "was accepted" : e.msg);
		ca_deploy_free(&d);
		memset(&d, 0, sizeof(d));
		ca_strv_free(&src);
	}

	/* Scanning placed nothing. */
	{
		char *sub = NULL;
		size_t nl = 0;
		DIR *dd = opendir(stage);
		struct dirent *de;
		while (dd != NULL && (de = readdir(dd)) != NULL)
			if (strcmp(de->d_name, ".") != 0 &&
			    strcmp(de->d_name, "..") != 0 && nl++ == 0)
				sub = strdup(de->d_name);
		if (dd != NULL)
			closedir(dd);
		if (nl == 0 && dd != NULL)
			hx_pass(h, "scanning places nothing", "the staging root "
			    "is still empty");
		else
			hx_fail(h, "scanning places nothing", "'%s/%s' appeared",
			    stage, sub ? sub : "?");
		free(sub);
	}

	/* The configuration's own managed files. */
	if (h->conf.deploy.sources.n == 0)
		hx_skip(h, "deploy.sources", "no deploy.sources in the "
		    "configuration");
	else {
		memset(&e, 0, sizeof(e));
		r = ca_deploy_scan(&d, &h->conf.deploy.sources, h->ephemeral ?
		    stage : NULL, &e);
		if (r == 0)
			hx_pass(h, "deploy.sources", "%zu managed file%s in %zu "
			    "source%s, every header valid", d.n, d.n == 1 ? "" :
			    "s", h->conf.deploy.sources.n,
			    h->conf.deploy.sources.n == 1 ? "" : "s");
		else if (d.problems.n > 0)
			hx_fail(h, "deploy.sources", "%zu problem%s: %s%s%s",
			    d.problems.n, d.problems.n == 1 ? "" : "s",
			    d.problems.v[0], d.problems.n > 1 ? "; " : "",
			    d.problems.n > 1 ? d.problems.v[1] : "");
		else
			hx_fail(h, "deploy.sources", "%s", e.msg);
		ca_deploy_free(&d);
		memset(&d, 0, sizeof(d));
	}
out:
	ca_deploy_free(&d);
	ca_strv_free(&src);
	free(samples);
	free(stage);
	free(p);
	return ret;
}
