/*
 * tierca/conf.h - the configuration and certificate templates.
 *
 * Layer: auto (docs/architecture.md). Conventions: functions are
 * ca_<module>_<verb>, return 0 or a negative CA_E* code and fill a
 * struct ca_err; they never print or exit.
 */
#ifndef TIERCA_CONF_H
#define TIERCA_CONF_H

#include "tierca/layer.h"

#if defined(TIERCA_LAYER) && TIERCA_LAYER < 5
#error "tierca/conf.h belongs to the auto layer: a lower layer may not include it"
#endif

#include "tierca/common.h"

/* ---- configuration (libconfig) ----------------------------------------- */

struct ca_conf_mail {
	char *url;
	int starttls;
	char *from;
	struct ca_strv to;
	char *ca;
	char *secrets;
	int always;                  /* mail every run, not only on trouble */
};

struct ca_conf {
	char *path;                  /* the file read; NULL for defaults */
	char *root_dir, *server_dir, *client_dir;
	int root_crl_days;           /* root.crl_days, default 180 */
	struct {
		int leaf_days, renew_before_days, crl_days, crl_every_days;
		int revoke_superseded;   /* renew revokes the replaced cert */
		enum ca_key_alg leaf_key;
	} policy;
	char *templates;
	struct {
		int warn_days, critical_days;
		char *textfile;
		char *root_crl;      /* the published root CRL on this host */
		struct ca_strv endpoints;
		int has_mail;
		struct ca_conf_mail mail;
	} monitor;
	struct {
		struct ca_strv sources;
	} deploy;
};

/* Defaults of DESIGN.md. */
void ca_conf_defaults(struct ca_conf *c);
/* Reads a config; relative paths are made relative to its directory.
 * Errors are "file:line: message"; unknown keys are errors. */
int ca_conf_load(struct ca_conf *out, const char *path, struct ca_err *err);
/* -c FILE, else $TIERCA_CONFIG, else ./tierca.cfg when present, else
 * defaults (out->path NULL). */
int ca_conf_find(struct ca_conf *out, const char *given, struct ca_err *err);
void ca_conf_free(struct ca_conf *c);

/* A certificate template. */
struct ca_template {
	char *path;
	char *name;
	enum ca_kind ca;             /* CA_KIND_SERVER or CA_KIND_CLIENT */
	char *subject;
	char *cn;                    /* CN from subject, or NULL */
	struct ca_strv dns, ip, email;
	int days;                    /* 0: the policy's */
	int has_key_alg;
	enum ca_key_alg key_alg;
	int rotate_key;
	struct {
		char *cert, *key, *chain, *fullchain;
		char *owner, *group;
		int mode;
	} install;
	char *reload;
};
int ca_template_load(struct ca_template *out, const char *path,
    struct ca_err *err);
void ca_template_free(struct ca_template *t);

/* Every *.cfg directly under dir, sorted by file name; two templates of
 * one name are an error naming both files. */
struct ca_templates {
	struct ca_template *v;
	size_t n;
};
int ca_templates_load(struct ca_templates *out, const char *dir,
    struct ca_err *err);
void ca_templates_free(struct ca_templates *ts);

#endif
