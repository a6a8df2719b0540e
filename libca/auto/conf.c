/*
 * conf.c - the configuration (DESIGN.md "Configuration") and certificate
 * templates, read with libconfig into structs. Unknown keys and wrong
 * types are errors with file:line, never warnings.
 */
#include <errno.h>
#include <stdarg.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libconfig.h>

#include "auto/auto-int.h"

struct src {
	const char *file; /* for messages */
	char *base;       /* directory relative paths hang off */
};

static int
at(struct ca_err *err, const struct src *s, const config_setting_t *st,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int
at(struct ca_err *err, const struct src *s, const config_setting_t *st,
    const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* The root group has no line: name the file alone then. */
	if (st == NULL || config_setting_source_line(st) == 0)
		return ca_err_set(err, CA_ECONF, "%s: %s", s->file, msg);
	return ca_err_set(err, CA_ECONF, "%s:%u: %s", s->file,
	    config_setting_source_line(st), msg);
}

static int
check_keys(const config_setting_t *g, const char *const *allowed,
    const char *where, const struct src *s, struct ca_err *err)
{
	int i, n = config_setting_length(g);
	size_t k;

	for (i = 0; i < n; i++) {
		config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
		const char *name = config_setting_name(m);
		int ok = 0;
		for (k = 0; allowed[k] != NULL; k++)
			if (name != NULL && strcmp(name, allowed[k]) == 0)
				ok = 1;
		if (!ok)
			return at(err, s, m, "unknown key '%s'%s", name ? name :
			    "?", where);
	}
	return 0;
}

static int
get_int(int *out, const config_setting_t *g, const char *name, int min,
    int max, const struct src *s, struct ca_err *err)
{
	config_setting_t *m = config_setting_get_member(g, name);
	char lim[64];
	int v;

	if (m == NULL)
		return 0;
	if (config_setting_type(m) != CONFIG_TYPE_INT)
		return at(err, s, m, "'%s' must be an integer", name);
	v = config_setting_get_int(m);
	if (v < min || v > max) {
		snprintf(lim, sizeof(lim), " (%d to %d)", min, max);
		return at(err, s, m, "'%s' is out of range%s", name, lim);
	}
	*out = v;
	return 0;
}

static int
get_bool(int *out, const config_setting_t *g, const char *name,
    const struct src *s, struct ca_err *err)
{
	config_setting_t *m = config_setting_get_member(g, name);

	if (m == NULL)
		return 0;
	if (config_setting_type(m) != CONFIG_TYPE_BOOL)
		return at(err, s, m, "'%s' must be true or false", name);
	*out = config_setting_get_bool(m);
	return 0;
}

static int
get_str(char **out, const config_setting_t *g, const char *name, int required,
    const struct src *s, struct ca_err *err)
{
	config_setting_t *m = config_setting_get_member(g, name);
	const char *v;

	if (m == NULL) {
		if (required)
			return at(err, s, g, "missing key '%s'", name);
		return 0;
	}
	if (config_setting_type(m) != CONFIG_TYPE_STRING ||
	    (v = config_setting_get_string(m)) == NULL)
		return at(err, s, m, "'%s' must be a string", name);
	if (*v == '\0')
		return at(err, s, m, "'%s' is empty", name);
	free(*out);
	/* libconfig's strings die with config_destroy(): copy. */
	if ((*out = strdup(v)) == NULL)
		return ca_err_set(err, CA_ENOMEM, "out of memory");
	return 0;
}

/* Relative paths are relative to the file they appear in. */
static int
get_path(char **out, const config_setting_t *g, const char *name,
    int required, const struct src *s, struct ca_err *err)
{
	char *v = NULL, *j;
	int ret;

	if ((ret = get_str(&v, g, name, required, s, err)) != 0 || v == NULL)
		return ret;
	if (v[0] != '/' && s->base != NULL) {
		j = ca_path_join(s->base, v);
		free(v);
		if ((v = j) == NULL)
			return ca_err_set(err, CA_ENOMEM, "out of memory");
	}
	free(*out);
	*out = v;
	return 0;
}

static int
get_strv(struct ca_strv *out, const config_setting_t *g, const char *name,
    int paths, const struct src *s, struct ca_err *err)
{
	config_setting_t *m = config_setting_get_member(g, name);
	int i, n;

	if (m == NULL)
		return 0;
	if (config_setting_type(m) == CONFIG_TYPE_STRING) {
		/* One value where a list is wanted: take it as a list. */
		n = 1;
	} else if (config_setting_is_aggregate(m) &&
	    config_setting_type(m) != CONFIG_TYPE_GROUP) {
		n = config_setting_length(m);
	} else
		return at(err, s, m, "'%s' must be a list of strings", name);
	ca_strv_free(out);
	for (i = 0; i < n; i++) {
		config_setting_t *e = config_setting_type(m) == CONFIG_TYPE_STRING
		    ? m : config_setting_get_elem(m, (unsigned)i);
		const char *v = config_setting_get_string(e);
		char *j = NULL;
		int r;
		if (config_setting_type(e) != CONFIG_TYPE_STRING || v == NULL ||
		    *v == '\0')
			return at(err, s, e, "'%s' must hold non-empty strings",
			    name);
		if (paths && v[0] != '/' && s->base != NULL) {
			if ((j = ca_path_join(s->base, v)) == NULL)
				return ca_err_set(err, CA_ENOMEM, "out of memory");
			v = j;
		}
		r = ca_strv_add(out, v);
		free(j);
		if (r != 0)
			return ca_err_set(err, CA_ENOMEM, "out of memory");
	}
	return 0;
}

static int
get_group(config_setting_t **out, const config_setting_t *g, const char *name,
    const struct src *s, struct ca_err *err)
{
	config_setting_t *m = config_setting_get_member(g, name);

	*out = NULL;
	if (m == NULL)
		return 0;
	if (config_setting_type(m) != CONFIG_TYPE_GROUP)
		return at(err, s, m, "'%s' must be a group { ... }", name);
	*out = m;
	return 0;
}

static int
read_file(config_t *cfg, struct src *s, const char *path, struct ca_err *err)
{
	char *copy, *slash;

	FILE *fp;
	int ok;

	s->file = path;
	s->base = NULL;
	/* Opened here, not by config_read_file(): one open instead of an
	 * access() and libconfig's own, which counts when a renewal run
	 * reads 10,000 templates. Links are followed: configs are often
	 * linked into place. */
	if ((fp = fopen(path, "re")) == NULL)
		return ca_err_set(err, errno == ENOENT ? CA_ENOENT : CA_ECONF,
		    "cannot read '%s': %s", path, strerror(errno));
	config_init(cfg);
	ok = config_read(cfg, fp);
	fclose(fp);
	if (!ok) {
		int ret = ca_err_set(err, CA_ECONF, "%s:%d: %s",
		    config_error_file(cfg) ? config_error_file(cfg) : path,
		    config_error_line(cfg), config_error_text(cfg));
		config_destroy(cfg);
		return ret;
	}
	if ((copy = strdup(path)) == NULL) {
		config_destroy(cfg);
		return ca_err_set(err, CA_ENOMEM, "out of memory");
	}
	if ((slash = strrchr(copy, '/')) != NULL) {
		*slash = '\0';
		s->base = copy[0] ? copy : strdup("/");
		if (!copy[0])
			free(copy);
	} else {
		free(copy);
		s->base = NULL;
	}
	return 0;
}

/* ---- the configuration ------------------------------------------------- */

void
ca_conf_defaults(struct ca_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->policy.leaf_days = 90;
	c->policy.renew_before_days = 30;
	c->policy.crl_days = 14;
	c->policy.crl_every_days = 7;
	c->policy.leaf_key = CA_KEY_ECDSA_P256;
	c->root_crl_days = 180;
	c->monitor.warn_days = 30;
	c->monitor.critical_days = 7;
	c->monitor.mail.starttls = 1;
}

void
ca_conf_free(struct ca_conf *c)
{
	if (c == NULL)
		return;
	free(c->path);
	free(c->root_dir);
	free(c->server_dir);
	free(c->client_dir);
	free(c->templates);
	free(c->monitor.textfile);
	free(c->monitor.root_crl);
	ca_strv_free(&c->monitor.endpoints);
	free(c->monitor.mail.url);
	free(c->monitor.mail.from);
	ca_strv_free(&c->monitor.mail.to);
	free(c->monitor.mail.ca);
	free(c->monitor.mail.secrets);
	ca_strv_free(&c->deploy.sources);
	memset(c, 0, sizeof(*c));
}

static int
load_ca_group(char **dir, int *crl_days, config_setting_t *root,
    const char *name, const struct src *s, struct ca_err *err)
{
	static const char *const keys_root[] = { "dir", "crl_days", NULL };
	static const char *const keys_ica[] = { "dir", NULL };
	config_setting_t *g;
	char where[32];
	int ret;

	if ((ret = get_group(&g, root, name, s, err)) != 0 || g == NULL)
		return ret;
	snprintf(where, sizeof(where), " in '%s'", name);
	if ((ret = check_keys(g, crl_days ? keys_root : keys_ica, where, s,
	    err)) != 0 ||
	    (ret = get_path(dir, g, "dir", 1, s, err)) != 0)
		return ret;
	if (crl_days != NULL)
		return get_int(crl_days, g, "crl_days", 1, 3650, s, err);
	return 0;
}

int
ca_conf_load(struct ca_conf *c, const char *path, struct ca_err *err)
{
	static const char *const top[] = { "root", "server", "client", "policy",
		"templates", "monitor", "deploy", NULL };
	static const char *const pol[] = { "leaf_days", "renew_before_days",
		"leaf_key", "crl_days", "crl_every_days", "revoke_superseded",
		NULL };
	static const char *const mon[] = { "warn_days", "critical_days",
		"textfile", "root_crl", "endpoints", "mail", NULL };
	static const char *const mail[] = { "url", "starttls", "from", "to", "ca",
		"secrets", "always", NULL };
	static const char *const dep[] = { "sources", NULL };
	config_t cfg;
	config_setting_t *root, *g, *m;
	struct src s;
	char *alg = NULL;
	int ret;

	ca_conf_defaults(c);
	if ((ret = read_file(&cfg, &s, path, err)) != 0)
		return ret;
	root = config_root_setting(&cfg);
	if ((c->path = strdup(path)) == NULL) {
		ret = ca_err_set(err, CA_ENOMEM, "out of memory");
		goto out;
	}
	if ((ret = check_keys(root, top, "", &s, err)) != 0 ||
	    (ret = load_ca_group(&c->root_dir, &c->root_crl_days, root, "root",
	    &s, err)) != 0 ||
	    (ret = load_ca_group(&c->server_dir, NULL, root, "server", &s,
	    err)) != 0 ||
	    (ret = load_ca_group(&c->client_dir, NULL, root, "client", &s,
	    err)) != 0 ||
	    (ret = get_path(&c->templates, root, "templates", 0, &s, err)) != 0)
		goto out;

	if ((ret = get_group(&g, root, "policy", &s, err)) != 0)
		goto out;
	if (g != NULL) {
		if ((ret = check_keys(g, pol, " in 'policy'", &s, err)) != 0 ||
		    (ret = get_int(&c->policy.leaf_days, g, "leaf_days", 1, 3650,
		    &s, err)) != 0 ||
		    (ret = get_int(&c->policy.renew_before_days, g,
		    "renew_before_days", 0, 3650, &s, err)) != 0 ||
		    (ret = get_int(&c->policy.crl_days, g, "crl_days", 1, 3650, &s,
		    err)) != 0 ||
		    (ret = get_int(&c->policy.crl_every_days, g, "crl_every_days",
		    1, 3650, &s, err)) != 0 ||
		    (ret = get_str(&alg, g, "leaf_key", 0, &s, err)) != 0 ||
		    (ret = get_bool(&c->policy.revoke_superseded, g,
		    "revoke_superseded", &s, err)) != 0)
			goto out;
		if (alg != NULL && ca_key_alg_parse(&c->policy.leaf_key, alg) != 0) {
			ret = at(err, &s, config_setting_get_member(g, "leaf_key"),
			    "unknown key algorithm '%s'", alg);
			goto out;
		}
		if (c->policy.renew_before_days >= c->policy.leaf_days) {
			ret = at(err, &s, g, "renew_before_days must be less than "
			    "leaf_days");
			goto out;
		}
		if (c->policy.crl_every_days >= c->policy.crl_days) {
			ret = at(err, &s, g, "crl_every_days must be less than "
			    "crl_days (or clients see an expired CRL)");
			goto out;
		}
	}

	if ((ret = get_group(&g, root, "monitor", &s, err)) != 0)
		goto out;
	if (g != NULL) {
		if ((ret = check_keys(g, mon, " in 'monitor'", &s, err)) != 0 ||
		    (ret = get_int(&c->monitor.warn_days, g, "warn_days", 0, 3650,
		    &s, err)) != 0 ||
		    (ret = get_int(&c->monitor.critical_days, g, "critical_days",
		    0, 3650, &s, err)) != 0 ||
		    (ret = get_path(&c->monitor.textfile, g, "textfile", 0, &s,
		    err)) != 0 ||
		    (ret = get_path(&c->monitor.root_crl, g, "root_crl", 0, &s,
		    err)) != 0 ||
		    (ret = get_strv(&c->monitor.endpoints, g, "endpoints", 0, &s,
		    err)) != 0 ||
		    (ret = get_group(&m, g, "mail", &s, err)) != 0)
			goto out;
		if (c->monitor.critical_days > c->monitor.warn_days) {
			ret = at(err, &s, g, "critical_days must not exceed "
			    "warn_days");
			goto out;
		}
		if (m != NULL) {
			c->monitor.has_mail = 1;
			if ((ret = check_keys(m, mail, " in 'monitor.mail'", &s,
			    err)) != 0 ||
			    (ret = get_str(&c->monitor.mail.url, m, "url", 1, &s,
			    err)) != 0 ||
			    (ret = get_bool(&c->monitor.mail.starttls, m, "starttls",
			    &s, err)) != 0 ||
			    (ret = get_str(&c->monitor.mail.from, m, "from", 1, &s,
			    err)) != 0 ||
			    (ret = get_strv(&c->monitor.mail.to, m, "to", 0, &s,
			    err)) != 0 ||
			    (ret = get_path(&c->monitor.mail.ca, m, "ca", 0, &s,
			    err)) != 0 ||
			    (ret = get_path(&c->monitor.mail.secrets, m, "secrets", 0,
			    &s, err)) != 0 ||
			    (ret = get_bool(&c->monitor.mail.always, m, "always",
			    &s, err)) != 0)
				goto out;
			if (c->monitor.mail.to.n == 0) {
				ret = at(err, &s, m, "missing key 'to'");
				goto out;
			}
		}
	}

	if ((ret = get_group(&g, root, "deploy", &s, err)) != 0)
		goto out;
	if (g != NULL &&
	    ((ret = check_keys(g, dep, " in 'deploy'", &s, err)) != 0 ||
	    (ret = get_strv(&c->deploy.sources, g, "sources", 1, &s, err)) != 0))
		goto out;
	ret = 0;
out:
	free(alg);
	free(s.base);
	config_destroy(&cfg);
	if (ret != 0)
		ca_conf_free(c);
	return ret;
}

int
ca_conf_find(struct ca_conf *out, const char *given, struct ca_err *err)
{
	const char *env = getenv("TIERCA_CONFIG");

	if (given != NULL)
		return ca_conf_load(out, given, err);
	if (env != NULL && *env != '\0')
		return ca_conf_load(out, env, err);
	if (access("tierca.cfg", F_OK) == 0)
		return ca_conf_load(out, "./tierca.cfg", err);
	ca_conf_defaults(out);
	return 0;
}

/* ---- templates --------------------------------------------------------- */

void
ca_template_free(struct ca_template *t)
{
	if (t == NULL)
		return;
	free(t->path);
	free(t->name);
	free(t->subject);
	free(t->cn);
	ca_strv_free(&t->dns);
	ca_strv_free(&t->ip);
	ca_strv_free(&t->email);
	free(t->install.cert);
	free(t->install.key);
	free(t->install.chain);
	free(t->install.fullchain);
	free(t->install.owner);
	free(t->install.group);
	free(t->reload);
	memset(t, 0, sizeof(*t));
}

/* libconfig 1.5 reads 0640 as decimal 640: modes are written in octal
 * digits, so the decimal digits are taken as octal ones. */
static int
octal_mode(int *out, int v)
{
	int m = 0, mul = 1;

	if (v < 0)
		return CA_EINVAL;
	while (v > 0) {
		if (v % 10 > 7)
			return CA_EINVAL;
		m += (v % 10) * mul;
		mul *= 8;
		v /= 10;
	}
	if (m > 07777)
		return CA_EINVAL;
	*out = m;
	return 0;
}

static int
abs_path(char *p, const char *name, const config_setting_t *g,
    const struct src *s, struct ca_err *err)
{
	if (p == NULL)
		return 0;
	if (p[0] != '/' || strstr(p, "/../") != NULL ||
	    (strlen(p) >= 3 && strcmp(p + strlen(p) - 3, "/..") == 0))
		return at(err, s, config_setting_get_member(g, name),
		    "install path '%s' must be absolute, without '..'", p);
	return 0;
}

int
ca_template_load(struct ca_template *t, const char *path, struct ca_err *err)
{
	static const char *const top[] = { "name", "ca", "subject", "cn", "dns",
		"ip", "email", "days", "key", "rotate_key", "install", "reload",
		NULL };
	static const char *const inst[] = { "cert", "key", "chain", "fullchain",
		"owner", "group", "mode", NULL };
	config_t cfg;
	config_setting_t *root, *g, *m;
	struct src s;
	char *ca = NULL, *alg = NULL;
	size_t i;
	int ret;

	memset(t, 0, sizeof(*t));
	t->rotate_key = 1;
	t->install.mode = 0640;
	if ((ret = read_file(&cfg, &s, path, err)) != 0)
		return ret;
	root = config_root_setting(&cfg);
	if ((t->path = strdup(path)) == NULL) {
		ret = ca_err_set(err, CA_ENOMEM, "out of memory");
		goto out;
	}
	if ((ret = check_keys(root, top, "", &s, err)) != 0 ||
	    (ret = get_str(&t->name, root, "name", 1, &s, err)) != 0 ||
	    (ret = get_str(&ca, root, "ca", 1, &s, err)) != 0 ||
	    (ret = get_str(&t->subject, root, "subject", 0, &s, err)) != 0 ||
	    (ret = get_str(&t->cn, root, "cn", 0, &s, err)) != 0 ||
	    (ret = get_strv(&t->dns, root, "dns", 0, &s, err)) != 0 ||
	    (ret = get_strv(&t->ip, root, "ip", 0, &s, err)) != 0 ||
	    (ret = get_strv(&t->email, root, "email", 0, &s, err)) != 0 ||
	    (ret = get_int(&t->days, root, "days", 1, 3650, &s, err)) != 0 ||
	    (ret = get_str(&alg, root, "key", 0, &s, err)) != 0 ||
	    (ret = get_bool(&t->rotate_key, root, "rotate_key", &s, err)) != 0 ||
	    (ret = get_str(&t->reload, root, "reload", 0, &s, err)) != 0)
		goto out;
	if (ca_name_check(t->name, err) != 0) {
		ret = at(err, &s, config_setting_get_member(root, "name"),
		    "invalid name '%s'", t->name);
		goto out;
	}
	if (ca_kind_parse(&t->ca, ca) != 0 || t->ca == CA_KIND_ROOT) {
		ret = at(err, &s, config_setting_get_member(root, "ca"),
		    "'ca' must be \"server\" or \"client\", not '%s'", ca);
		goto out;
	}
	if (alg != NULL) {
		if (ca_key_alg_parse(&t->key_alg, alg) != 0) {
			ret = at(err, &s, config_setting_get_member(root, "key"),
			    "unknown key algorithm '%s'", alg);
			goto out;
		}
		t->has_key_alg = 1;
	}
	for (i = 0; i < t->dns.n; i++)
		if (ca_dns_check(t->dns.v[i], 1, NULL) != 0) {
			ret = at(err, &s, config_setting_get_member(root, "dns"),
			    "invalid DNS name '%s'", t->dns.v[i]);
			goto out;
		}
	for (i = 0; i < t->ip.n; i++)
		if (ca_ip_check(t->ip.v[i], NULL) != 0) {
			ret = at(err, &s, config_setting_get_member(root, "ip"),
			    "invalid IP address '%s'", t->ip.v[i]);
			goto out;
		}
	if (t->ca == CA_KIND_SERVER && t->dns.n + t->ip.n == 0) {
		ret = at(err, &s, root, "a server template needs 'dns' or "
		    "'ip'");
		goto out;
	}
	if ((ret = get_group(&g, root, "install", &s, err)) != 0)
		goto out;
	if (g != NULL) {
		int mode = -1;
		if ((ret = check_keys(g, inst, " in 'install'", &s, err)) != 0 ||
		    (ret = get_str(&t->install.cert, g, "cert", 0, &s, err)) != 0 ||
		    (ret = get_str(&t->install.key, g, "key", 0, &s, err)) != 0 ||
		    (ret = get_str(&t->install.chain, g, "chain", 0, &s, err)) !=
		    0 ||
		    (ret = get_str(&t->install.fullchain, g, "fullchain", 0, &s,
		    err)) != 0 ||
		    (ret = get_str(&t->install.owner, g, "owner", 0, &s, err)) !=
		    0 ||
		    (ret = get_str(&t->install.group, g, "group", 0, &s, err)) !=
		    0 ||
		    (ret = abs_path(t->install.cert, "cert", g, &s, err)) != 0 ||
		    (ret = abs_path(t->install.key, "key", g, &s, err)) != 0 ||
		    (ret = abs_path(t->install.chain, "chain", g, &s, err)) != 0 ||
		    (ret = abs_path(t->install.fullchain, "fullchain", g, &s,
		    err)) != 0)
			goto out;
		m = config_setting_get_member(g, "mode");
		if (m != NULL) {
			if (config_setting_type(m) == CONFIG_TYPE_INT)
				ret = octal_mode(&mode, config_setting_get_int(m));
			else if (config_setting_type(m) == CONFIG_TYPE_STRING) {
				char *end;
				long v = strtol(config_setting_get_string(m), &end, 8);
				ret = (*end || v < 0 || v > 07777) ? CA_EINVAL : 0;
				mode = (int)v;
			} else
				ret = CA_EINVAL;
			if (ret != 0) {
				ret = at(err, &s, m, "'mode' must be an octal mode "
				    "such as 0640");
				goto out;
			}
			t->install.mode = mode;
		}
	}
	ret = 0;
out:
	free(ca);
	free(alg);
	free(s.base);
	config_destroy(&cfg);
	if (ret != 0)
		ca_template_free(t);
	return ret;
}
