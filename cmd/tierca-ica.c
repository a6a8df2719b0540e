/*
 * tierca-ica - a server or client intermediate CA on the online CA host.
 *
 *   tierca-ica init --dir D --kind server|client --subject DN [--key ALG]
 *   tierca-ica install --dir D CERT --root ROOTCERT
 *   tierca-ica issue --dir D NAME [--cn CN] [--dns N]... [--ip A]...
 *                    [--email E]... [--days N] [--key ALG] [--replace]
 *   tierca-ica issue [--dir D] --template FILE
 *   tierca-ica sign --dir D NAME CSR [--cn CN] [--dns N]... [--days N]
 *   tierca-ica revoke --dir D SERIAL|NAME [--reason R] [--no-crl]
 *   tierca-ica crl --dir D [--days N] [--if-due]
 *   tierca-ica list --dir D [--json]
 *   tierca-ica show --dir D SERIAL|NAME
 *   tierca-ica export --dir D NAME --pkcs12 OUT [--passphrase-file F]
 *   tierca-ica export --dir D --crl-bundle OUT
 *   tierca-ica export --dir D --trust OUT [--with-intermediate | --der]
 *   tierca-ica export --dir D --ca-certificates DIR
 *   tierca-ica root-crl --dir D FILE
 *   tierca-ica import-easyrsa --dir D --kind server|client PKI_DIR
 *                             [--root ROOTCERT]
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"
#include "tierca/check.h"
#include "tierca/export.h"
#include "tierca/import.h"
#include "tierca/issue.h"
#include "tierca/query.h"
#include "tierca/revoke.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: tierca-ica <verb> [options]\n"
	    "\n"
	    "  init    --dir D --kind server|client --subject DN [--key ALG]\n"
	    "  install --dir D CERT --root ROOTCERT\n"
	    "  issue   --dir D NAME [--cn CN] [--dns N]... [--ip A]... [--email E]...\n"
	    "          [--days N] [--key ALG] [--replace]\n"
	    "  issue   [--dir D] --template FILE [--replace]\n"
	    "  sign    --dir D NAME CSR [--cn CN] [--dns N]... [--ip A]... [--days N]\n"
	    "  revoke  --dir D SERIAL|NAME [--reason R] [--no-crl]\n"
	    "  crl     --dir D [--days N] [--if-due]\n"
	    "  list    --dir D [--json]\n"
	    "  show    --dir D SERIAL|NAME\n"
	    "  check   --dir D                        the directory's invariants:\n"
	    "                                         exit 0 sound, 1 problems\n"
	    "  export  --dir D NAME --pkcs12 OUT\n"
	    "  export  --dir D --crl-bundle OUT       root + intermediate CRL\n"
	    "  export  --dir D --trust OUT [--with-intermediate | --der]\n"
	    "  export  --dir D --ca-certificates DIR  for update-ca-certificates\n"
	    "  root-crl --dir D FILE                  take the root CRL from a\n"
	    "                                         ceremony\n"
	    "  import-easyrsa --dir D --kind server|client PKI_DIR [--root ROOT]\n"
	    "                                         an easy-rsa 3 PKI as a new\n"
	    "                                         CA directory D\n"
	    "\n"
	    "an encrypted intermediate key (init with a passphrase option) and\n"
	    "export take --passphrase-file F (0600/0400), --passphrase-fd N or\n"
	    "a terminal prompt.\n"
	    "common: -c/--config FILE, -h/--help, --version\n");
}

static const struct option longopts[] = {
	COMMON_OPTIONS,
	{ "subject", required_argument, NULL, O_SUBJECT },
	{ "key", required_argument, NULL, O_KEY },
	{ "days", required_argument, NULL, O_DAYS },
	{ "passphrase-file", required_argument, NULL, O_PFILE },
	{ "passphrase-fd", required_argument, NULL, O_PFD },
	{ "kind", required_argument, NULL, O_KIND },
	{ "root", required_argument, NULL, O_ROOT },
	{ "cn", required_argument, NULL, O_CN },
	{ "dns", required_argument, NULL, O_DNS },
	{ "ip", required_argument, NULL, O_IP },
	{ "email", required_argument, NULL, O_EMAIL },
	{ "template", required_argument, NULL, O_TEMPLATE },
	{ "reason", required_argument, NULL, O_REASON },
	{ "no-crl", no_argument, NULL, O_NOCRL },
	{ "if-due", no_argument, NULL, O_IFDUE },
	{ "json", no_argument, NULL, O_JSON },
	{ "pkcs12", required_argument, NULL, O_PKCS12 },
	{ "crl-bundle", required_argument, NULL, O_CRL_BUNDLE },
	{ "trust", required_argument, NULL, O_TRUST },
	{ "ca-certificates", required_argument, NULL, O_CA_CERTS },
	{ "der", no_argument, NULL, O_DER },
	{ "with-intermediate", no_argument, NULL, O_WITH_ICA },
	{ "replace", no_argument, NULL, O_REPLACE },
	{ NULL, 0, NULL, 0 }
};

static int
need_dir(const struct args *a)
{
	if (a->dir != NULL)
		return 0;
	msg_err("missing --dir");
	return 1;
}

/* Loads the CA key, asking for a passphrase only if it is encrypted. */
static int
load_key(struct ca *ca, const struct pass_opts *po, struct ca_err *err)
{
	struct ca_secret pass = { NULL, 0 };
	int ret, enc;

	if ((enc = ca_key_needs_pass(ca, err)) < 0)
		return enc;
	if (enc && (ret = pass_get(&pass, po, "Intermediate key passphrase: ",
	    0, err)) != 0)
		return ret;
	ret = ca_load_key(ca, enc ? &pass : NULL, err);
	ca_secret_wipe(&pass);
	return ret;
}

/* Opens the CA, locked; loads its key when asked. */
static int
open_ca(struct ca **out, const char *dir, int with_key,
    const struct pass_opts *po, struct ca_err *err)
{
	int ret;

	if ((ret = ca_open(out, dir, CA_OPEN_LOCK | CA_OPEN_NEED_CERT, err)) != 0)
		return ret;
	if (ca_store_kind(*out) == CA_KIND_ROOT) {
		ret = ca_err_set(err, CA_EINVAL, "'%s' is the root; use "
		    "tierca-root", dir);
		goto fail;
	}
	if (!with_key || (ret = load_key(*out, po, err)) == 0)
		return 0;
fail:
	ca_close(*out);
	*out = NULL;
	return ret;
}

static int
cmd_init(struct args *a, struct ca_conf *conf, time_t now)
{
	struct ca_ica_init_opts o = CA_ICA_INIT_OPTS_INIT;
	struct ca_secret pass = { NULL, 0 };
	struct ca_err err = { 0 };
	int ret, encrypt;

	(void)conf;
	(void)now;
	if (need_dir(a))
		return 2;
	if (a->npos != 0 || a->kind == NULL || a->subject == NULL) {
		msg_err("usage: tierca-ica init --dir D --kind server|client "
		    "--subject DN [--key ALG]");
		return 2;
	}
	if (ca_kind_parse(&o.kind, a->kind) != 0 || o.kind == CA_KIND_ROOT) {
		msg_err("invalid --kind '%s': want server or client", a->kind);
		return 2;
	}
	if (a->key != NULL && ca_key_alg_parse(&o.alg, a->key) != 0) {
		msg_err("unknown key algorithm '%s'", a->key);
		return 2;
	}
	o.subject = a->subject;
	/* The online intermediate's key is read by cron; it is encrypted
	 * only when a passphrase source is given explicitly. */
	encrypt = a->pass.file != NULL || a->pass.fd >= 0;
	if (encrypt && pass_get(&pass, &a->pass, "", 0, &err) != 0)
		return fail(&err);
	ret = ca_ica_init(a->dir, &o, encrypt ? &pass : NULL, &err);
	ca_secret_wipe(&pass);
	if (ret != 0)
		return fail(&err);
	printf("%s intermediate key and request created in '%s' (%s%s)\n",
	    ca_kind_name(o.kind), a->dir, ca_key_alg_name(o.alg),
	    encrypt ? ", key encrypted" : "");
	{
		struct ca_csr_info ci;
		char *p = ca_path_join(a->dir, "ca.csr");
		if (p != NULL && ca_csr_info_load(&ci, p, &err) == 0) {
			printf("request:    %s\n", p);
			printf("csr sha256: %s\n", ci.csr_sha256);
			printf("take it to the root: tierca-root sign --kind %s %s "
			    "--out ...\n", ca_kind_name(o.kind), p);
			ca_csr_info_clear(&ci);
		}
		free(p);
	}
	return 0;
}

static int
cmd_install(struct args *a, struct ca_conf *conf, time_t now)
{
	struct ca_self_info si;
	struct ca_err err = { 0 };
	struct ca *ca = NULL;
	char t[32];
	int ret;

	(void)conf;
	if (need_dir(a))
		return 2;
	if (a->npos != 1 || a->root == NULL) {
		msg_err("usage: tierca-ica install --dir D CERT --root ROOTCERT");
		return 2;
	}
	if (ca_open(&ca, a->dir, CA_OPEN_LOCK, &err) != 0)
		return fail(&err);
	ret = ca_ica_install(ca, a->pos[0], a->root, now, &err);
	if (ret != 0) {
		ca_close(ca);
		return fail(&err);
	}
	ca_self_info(&si, ca);
	ca_time_format(t, sizeof(t), si.not_after);
	printf("installed %s intermediate '%s', valid until %s\n",
	    ca_kind_name(ca_store_kind(ca)), si.subject ? si.subject : "", t);
	printf("chain: %s/chain.pem\n", a->dir);
	ca_self_info_clear(&si);
	ca_close(ca);
	return 0;
}

static void
print_issued(const struct ca *ca, const struct ca_issued *is, int with_key)
{
	char t[32];

	ca_time_format(t, sizeof(t), is->not_after);
	printf("issued '%s' (%s), serial %s, valid until %s\n", is->name,
	    ca_kind_name(ca_store_kind(ca)), is->serial, t);
	if (with_key)
		printf("  key:       %s/issued/%s/key.pem\n", ca_store_dir(ca), is->name);
	printf("  cert:      %s/issued/%s/cert.pem\n", ca_store_dir(ca), is->name);
	printf("  fullchain: %s/issued/%s/fullchain.pem\n", ca_store_dir(ca), is->name);
	if (is->capped)
		msg_warn("'%s' validity cut to the intermediate's notAfter %s",
		    is->name, t);
}

static int
cmd_issue(struct args *a, struct ca_conf *conf, time_t now)
{
	struct ca_issue_opts o = CA_ISSUE_OPTS_INIT;
	struct ca_template t;
	struct ca_issued is;
	struct ca_err err = { 0 };
	struct ca *ca = NULL;
	const char *dir = a->dir;
	int ret, have_t = 0;

	memset(&t, 0, sizeof(t));
	memset(&is, 0, sizeof(is));
	o.days = a->days ? a->days : conf->policy.leaf_days;
	o.alg = conf->policy.leaf_key;
	o.replace = a->replace;
	if (a->template != NULL) {
		if (a->npos != 0 || a->dns.n || a->ip.n || a->email.n || a->cn) {
			msg_err("--template takes the names from the template; "
			    "give no NAME, --cn, --dns, --ip or --email");
			return 2;
		}
		if (ca_template_load(&t, a->template, &err) != 0)
			return fail(&err);
		have_t = 1;
		if (dir == NULL)
			dir = t.ca == CA_KIND_SERVER ? conf->server_dir :
			    conf->client_dir;
		if (dir == NULL) {
			msg_err("missing --dir (or %s.dir in the config)",
			    ca_kind_name(t.ca));
			ret = 2;
			goto out;
		}
		o.name = t.name;
		o.subject = t.subject;
		o.cn = t.cn;
		o.dns = t.dns;
		o.ip = t.ip;
		o.email = t.email;
		if (t.days && !a->days)
			o.days = t.days;
		if (t.has_key_alg)
			o.alg = t.key_alg;
	} else {
		if (need_dir(a))
		return 2;
	if (a->npos != 1) {
			msg_err("usage: tierca-ica issue --dir D NAME [--cn CN] "
			    "[--dns N]... [--ip A]... [--email E]... [--days N] "
			    "[--key ALG]");
			return 2;
		}
		o.name = a->pos[0];
		o.cn = a->cn;
		o.dns = a->dns;
		o.ip = a->ip;
		o.email = a->email;
	}
	if (a->key != NULL && ca_key_alg_parse(&o.alg, a->key) != 0) {
		msg_err("unknown key algorithm '%s'", a->key);
		ret = 2;
		goto out;
	}
	if (open_ca(&ca, dir, 1, &a->pass, &err) != 0) {
		ret = fail(&err);
		goto out;
	}
	if (have_t && t.ca != ca_store_kind(ca)) {
		msg_err("template '%s' is for the %s intermediate, but '%s' is the "
		    "%s one", a->template, ca_kind_name(t.ca), dir,
		    ca_kind_name(ca_store_kind(ca)));
		ret = 1;
		goto out;
	}
	if (ca_issue(&is, ca, &o, now, &err) != 0) {
		ret = fail(&err);
		goto out;
	}
	print_issued(ca, &is, 1);
	ret = 0;
out:
	ca_issued_clear(&is);
	if (have_t)
		ca_template_free(&t);
	ca_close(ca);
	return ret;
}

static int
cmd_sign(struct args *a, struct ca_conf *conf, time_t now)
{
	struct ca_issue_opts o = CA_ISSUE_OPTS_INIT;
	struct ca_issued is;
	struct ca_err err = { 0 };
	struct ca *ca = NULL;
	int ret;

	memset(&is, 0, sizeof(is));
	if (need_dir(a))
		return 2;
	if (a->npos != 2) {
		msg_err("usage: tierca-ica sign --dir D NAME CSR [--cn CN] "
		    "[--dns N]... [--ip A]... [--email E]... [--days N]");
		return 2;
	}
	o.name = a->pos[0];
	o.cn = a->cn;
	o.dns = a->dns;
	o.ip = a->ip;
	o.email = a->email;
	o.days = a->days ? a->days : conf->policy.leaf_days;
	o.replace = a->replace;
	if (ca_name_check(o.name, &err) != 0)
		return fail(&err);
	if (open_ca(&ca, a->dir, 1, &a->pass, &err) != 0)
		return fail(&err);
	if (ca_sign_csr_file(&is, ca, &o, a->pos[1], now, &err) != 0)
		ret = fail(&err);
	else {
		print_issued(ca, &is, 0);
		ret = 0;
	}
	ca_issued_clear(&is);
	ca_close(ca);
	return ret;
}

static int
make_crl(struct ca *ca, int days, time_t now, struct ca_err *err)
{
	struct ca_crl_info ci;
	char t[32];

	if (ca_crl_generate(&ci, ca, days, now, err) != 0)
		return -1;
	ca_time_format(t, sizeof(t), ci.next_update);
	printf("CRL %s: %zu revoked, next update %s\n", ci.number, ci.nrevoked,
	    t);
	return 0;
}

static int
cmd_revoke(struct args *a, struct ca_conf *conf, time_t now)
{
	struct ca_strv revoked = { NULL, 0 };
	enum ca_reason reason = CA_REASON_UNSPECIFIED;
	struct ca_err err = { 0 };
	struct ca *ca = NULL;
	size_t i;
	int ret;

	if (need_dir(a))
		return 2;
	if (a->npos != 1) {
		msg_err("usage: tierca-ica revoke --dir D SERIAL|NAME [--reason R]");
		return 2;
	}
	if (a->reason != NULL && parse_reason(&reason, a->reason) != 0)
		return 2;
	if (open_ca(&ca, a->dir, !a->no_crl, &a->pass, &err) != 0)
		return fail(&err);
	if (ca_revoke(&revoked, ca, a->pos[0], reason, now, &err) != 0) {
		ret = fail(&err);
		goto out;
	}
	for (i = 0; i < revoked.n; i++)
		printf("revoked serial %s (%s)\n", revoked.v[i],
		    ca_reason_name(reason));
	/* A revocation counts once the CRL says so: publish it now. */
	if (!a->no_crl && make_crl(ca, a->days ? a->days :
	    conf->policy.crl_days, now, &err) != 0) {
		/* The revocation is recorded and stays; only its CRL is late. */
		ca_err_wrap(&err, "revoked, but the CRL was not renewed (run "
		    "'tierca-ica crl --dir %s')", a->dir);
		ret = fail(&err);
		goto out;
	}
	ret = 0;
out:
	ca_strv_free(&revoked);
	ca_close(ca);
	return ret;
}

static int
cmd_crl(struct args *a, struct ca_conf *conf, time_t now)
{
	struct ca_err err = { 0 };
	struct ca *ca = NULL;
	int ret;

	if (need_dir(a))
		return 2;
	if (a->npos != 0) {
		msg_err("usage: tierca-ica crl --dir D [--days N] [--if-due]");
		return 2;
	}
	if (open_ca(&ca, a->dir, 0, &a->pass, &err) != 0)
		return fail(&err);
	/* Decide first: a CRL that is not due needs no key (nor its
	 * passphrase). */
	if (a->if_due && !ca_crl_due(ca, conf->policy.crl_every_days, now,
	    &err)) {
		printf("CRL of '%s' is current; nothing to do\n", a->dir);
		ca_close(ca);
		return 0;
	}
	if (load_key(ca, &a->pass, &err) != 0) {
		ca_close(ca);
		return fail(&err);
	}
	ret = make_crl(ca, a->days ? a->days : conf->policy.crl_days, now,
	    &err) != 0 ? fail(&err) : 0;
	ca_close(ca);
	return ret;
}

static const char *
state_of(const struct ca_db_entry *e, time_t now)
{
	if (e->status == 'R')
		return "revoked";
	if (e->status == 'E' || e->not_after <= now)
		return "expired";
	return "valid";
}

static int
cmd_list(struct args *a, struct ca_conf *conf, time_t now)
{
	struct ca_err err = { 0 };
	struct ca_db *db = NULL;
	struct ca *ca = NULL;
	size_t i;
	char t[32];

	(void)conf;
	if (need_dir(a))
		return 2;
	if (a->npos != 0) {
		msg_err("usage: tierca-ica list --dir D [--json]");
		return 2;
	}
	if (ca_open(&ca, a->dir, 0, &err) != 0)
		return fail(&err);
	if (ca_list(&db, ca, &err) != 0) {
		ca_close(ca);
		return fail(&err);
	}
	if (a->json) {
		printf("{\"ca\":");
		json_str(stdout, a->dir);
		printf(",\"kind\":\"%s\",\"certificates\":[", ca_kind_name(ca_store_kind(ca)));
	} else
		printf("%-8s %-34s %-20s %-20s %5s  %s\n", "STATE", "SERIAL",
		    "NAME", "NOT AFTER", "DAYS", "SUBJECT");
	for (i = 0; i < db->n; i++) {
		const struct ca_db_entry *e = &db->v[i];
		long long days = (long long)((e->not_after - now) / 86400);
		ca_time_format(t, sizeof(t), e->not_after);
		if (a->json) {
			printf("%s{\"serial\":\"%s\",\"name\":", i ? "," : "",
			    e->serial);
			json_str(stdout, e->name);
			printf(",\"state\":\"%s\",\"not_after\":\"%s\","
			    "\"days_left\":%lld,\"subject\":", state_of(e, now), t,
			    days);
			json_str(stdout, e->subject);
			if (e->status == 'R') {
				char r[32];
				ca_time_format(r, sizeof(r), e->revoked_at);
				printf(",\"revoked_at\":\"%s\",\"reason\":\"%s\"", r,
				    ca_reason_name(e->reason));
			}
			printf("}");
		} else
			printf("%-8s %-34s %-20s %-20s %5lld  %s\n",
			    state_of(e, now), e->serial, e->name, t, days,
			    e->subject);
	}
	if (a->json)
		printf("]}\n");
	ca_db_free(db);
	ca_close(ca);
	return 0;
}

static int
cmd_show(struct args *a, struct ca_conf *conf, time_t now)
{
	struct ca_err err = { 0 };
	struct ca *ca = NULL;
	char *text = NULL;
	int ret;

	(void)conf;
	if (need_dir(a))
		return 2;
	if (a->npos != 1) {
		msg_err("usage: tierca-ica show --dir D SERIAL|NAME");
		return 2;
	}
	if (ca_open(&ca, a->dir, 0, &err) != 0)
		return fail(&err);
	if (ca_show(&text, ca, a->pos[0], now, &err) != 0)
		ret = fail(&err);
	else {
		fputs(text, stdout);
		ret = 0;
	}
	free(text);
	ca_close(ca);
	return ret;
}

/* The invariants of a CA directory (ca_check), under its lock: every
 * problem one line on stdout, then leftovers of an interrupted run that
 * the next run repairs, marked as such; exit 1 when a problem was found. */
static int
cmd_check(struct args *a, struct ca_conf *conf, time_t now)
{
	struct ca_strv problems = { NULL, 0 }, leftovers = { NULL, 0 };
	struct ca_err err = { 0 };
	size_t i;
	int ret;

	(void)conf;
	if (need_dir(a))
		return 2;
	if (a->npos != 0) {
		msg_err("usage: tierca-ica check --dir D");
		return 2;
	}
	if (ca_check(&problems, &leftovers, a->dir, CA_CHECK_LOCK, now,
	    &err) != 0)
		ret = fail(&err);
	else {
		for (i = 0; i < problems.n; i++)
			printf("%s\n", problems.v[i]);
		for (i = 0; i < leftovers.n; i++)
			printf("leftover: %s\n", leftovers.v[i]);
		ret = problems.n > 0;
		if (problems.n > 0)
			msg_err("'%s': %zu problem%s found", a->dir, problems.n,
			    problems.n == 1 ? "" : "s");
	}
	ca_strv_free(&problems);
	ca_strv_free(&leftovers);
	return ret;
}

/* export without a key: the CRL bundle and trust anchors. */
static int
export_public(struct args *a, time_t now)
{
	struct ca_err err = { 0 };
	struct ca *ca = NULL;
	char *written = NULL;
	int ret;

	if (a->npos != 0) {
		msg_err("unexpected argument '%s': --crl-bundle, --trust and "
		    "--ca-certificates export the CA's own files", a->pos[0]);
		return 2;
	}
	if ((a->der || a->with_ica) && a->trust == NULL) {
		msg_err("--der and --with-intermediate go with --trust");
		return 2;
	}
	if (ca_open(&ca, a->dir, CA_OPEN_NEED_CERT, &err) != 0)
		return fail(&err);
	if (a->crl_bundle != NULL) {
		if ((ret = ca_export_crl_bundle(ca, a->crl_bundle, now,
		    &err)) == 0)
			printf("wrote '%s': the root's and this intermediate's "
			    "CRL (PEM)\n", a->crl_bundle);
	} else if (a->trust != NULL) {
		if ((ret = ca_export_trust(ca, a->trust, a->with_ica, a->der,
		    &err)) == 0)
			printf("wrote '%s': the root%s (%s)\n", a->trust,
			    a->with_ica ? " and this intermediate" : "",
			    a->der ? "DER" : "PEM");
	} else if ((ret = ca_export_ca_certificates(&written, ca, a->ca_certs,
	    &err)) == 0)
		printf("wrote '%s': run update-ca-certificates\n", written);
	free(written);
	ca_close(ca);
	return ret != 0 ? fail(&err) : 0;
}

static int
cmd_export(struct args *a, struct ca_conf *conf, time_t now)
{
	struct ca_secret pass = { NULL, 0 };
	struct ca_err err = { 0 };
	struct ca *ca = NULL;
	int ret, kinds;

	(void)conf;
	if (need_dir(a))
		return 2;
	kinds = (a->pkcs12 != NULL) + (a->crl_bundle != NULL) +
	    (a->trust != NULL) + (a->ca_certs != NULL);
	if (kinds != 1) {
		msg_err("export takes one of --pkcs12, --crl-bundle, --trust, "
		    "--ca-certificates");
		return 2;
	}
	if (a->pkcs12 == NULL)
		return export_public(a, now);
	if (a->npos != 1 || a->der || a->with_ica) {
		msg_err("usage: tierca-ica export --dir D NAME --pkcs12 OUT");
		return 2;
	}
	if (ca_open(&ca, a->dir, 0, &err) != 0)
		return fail(&err);
	if (pass_get(&pass, &a->pass, "PKCS#12 export passphrase: ", 1,
	    &err) != 0) {
		ca_close(ca);
		return fail(&err);
	}
	ret = ca_export_pkcs12(ca, a->pos[0], a->pkcs12, &pass, &err);
	ca_secret_wipe(&pass);
	ca_close(ca);
	if (ret != 0)
		return fail(&err);
	printf("exported '%s' with its chain to '%s' (PKCS#12, AES-256)\n",
	    a->pos[0], a->pkcs12);
	return 0;
}

static int
cmd_root_crl(struct args *a, struct ca_conf *conf, time_t now)
{
	struct ca_root_crl_info ri;
	struct ca_err err = { 0 };
	struct ca *ca = NULL;
	char nu[32];
	int ret;

	(void)conf;
	if (need_dir(a))
		return 2;
	if (a->npos != 1) {
		msg_err("usage: tierca-ica root-crl --dir D FILE");
		return 2;
	}
	if (ca_open(&ca, a->dir, CA_OPEN_LOCK | CA_OPEN_NEED_CERT, &err) != 0)
		return fail(&err);
	ret = ca_root_crl_import(&ri, ca, a->pos[0], now, &err);
	ca_close(ca);
	if (ret != 0)
		return fail(&err);
	ca_time_format(nu, sizeof(nu), ri.next_update);
	printf("%s root CRL number %s: %zu revoked, next update %s\n",
	    ri.unchanged ? "already have" : "took", ri.number, ri.nrevoked, nu);
	return 0;
}

static int
cmd_import_easyrsa(struct args *a, struct ca_conf *conf, time_t now)
{
	struct ca_import_opts o = CA_IMPORT_OPTS_INIT;
	struct ca_import_result r;
	struct ca_secret pass = { NULL, 0 };
	struct ca_err err = { 0 };
	int ret, enc, given;

	(void)conf;
	if (need_dir(a))
		return 2;
	if (a->npos != 1 || a->kind == NULL) {
		msg_err("usage: tierca-ica import-easyrsa --dir D --kind "
		    "server|client PKI_DIR [--root ROOTCERT]");
		return 2;
	}
	if (ca_kind_parse(&o.kind, a->kind) != 0 || o.kind == CA_KIND_ROOT) {
		msg_err("invalid --kind '%s': want server or client", a->kind);
		return 2;
	}
	o.root = a->root;
	/* A passphrase is asked for when easy-rsa's key is encrypted (it is
	 * kept, and keeps protecting the key); for a nopass key only when a
	 * passphrase option is given (the key is then encrypted with it). A
	 * PKI that cannot be read is reported by the import itself. */
	if ((enc = ca_import_key_encrypted(a->pos[0], NULL)) < 0)
		enc = 0;
	given = a->pass.file != NULL || a->pass.fd >= 0;
	if ((enc || given) && pass_get(&pass, &a->pass, "easy-rsa CA key "
	    "passphrase: ", 0, &err) != 0)
		return fail(&err);
	ret = ca_import_easyrsa(&r, a->dir, a->pos[0], &o, enc || given ?
	    &pass : NULL, now, &err);
	ca_secret_wipe(&pass);
	if (ret != 0)
		return fail(&err);
	printf("imported easy-rsa PKI '%s' into '%s' as the %s CA%s\n",
	    a->pos[0], a->dir, ca_kind_name(o.kind), r.self_signed ?
	    " (self-signed: it is its own root)" : "");
	printf("  entries:  %zu valid, %zu revoked, %zu expired; every "
	    "certificate in certs/\n", r.nvalid, r.nrevoked, r.nexpired);
	printf("  keys:     %zu in issued/NAME/%s, %zu kept in private/archive/,"
	    " %zu certificates without a key\n", r.nissued,
	    r.nkey_encrypted ? " (some still encrypted)" : "", r.narchived,
	    r.nnokey);
	printf("  CA key:   %s/private/ca.key (PKCS#8%s)\n", a->dir,
	    r.key_encrypted ? ", encrypted with AES-256" : ", not encrypted");
	printf("  next CRL: number %s%s; publish one now: tierca-ica crl --dir "
	    "%s\n", r.crlnumber, r.crl_copied ? " (easy-rsa's crl.pem kept "
	    "until then)" : "", a->dir);
	if (!r.key_encrypted)
		msg_warn("the CA key '%s/private/ca.key' is not encrypted: tierca "
		    "recommends a passphrase (import again with "
		    "--passphrase-file F)", a->dir);
	return 0;
}

static const struct verb verbs[] = {
	{ "init", cmd_init, NEED_KEY },
	{ "install", cmd_install, 0 },
	{ "issue", cmd_issue, NEED_KEY },
	{ "sign", cmd_sign, NEED_KEY },
	{ "revoke", cmd_revoke, NEED_KEY },
	{ "crl", cmd_crl, NEED_KEY },
	{ "list", cmd_list, 0 },
	{ "show", cmd_show, 0 },
	{ "check", cmd_check, 0 },
	{ "export", cmd_export, NEED_KEY },
	{ "root-crl", cmd_root_crl, 0 },
	{ "import-easyrsa", cmd_import_easyrsa, NEED_KEY },
};

static const struct tool tool = {
	"tierca-ica", usage, longopts, verbs,
	sizeof(verbs) / sizeof(verbs[0])
};

int
main(int argc, char **argv)
{
	return tool_main(&tool, argc, argv);
}
