/*
 * tierca-root - the offline root CA, for a signing session on an
 * air-gapped laptop. It makes no network call of any kind.
 *
 *   tierca-root init --dir D --subject DN [--key ALG] [--days N]
 *   tierca-root sign --dir D --kind server|client CSR --out CERT
 *                    [--days N] [--permit-dns SUFFIX]... [--crl-url URL] [--yes]
 *   tierca-root revoke --dir D SERIAL [--reason R]
 *   tierca-root crl --dir D [--days N]
 *   tierca-root log --dir D [--verify]
 *
 * Verbs that use the root key take --passphrase-file F or --passphrase-fd
 * N, or prompt on the tty without echo.
 */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"
#include "tierca/ceremony.h"
#include "tierca/issue.h"
#include "tierca/revoke.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: tierca-root <verb> [options]\n"
	    "\n"
	    "  init   --dir D --subject DN [--key ALG] [--days N]\n"
	    "  sign   --dir D --kind server|client CSR --out CERT [--days N]\n"
	    "         [--permit-dns SUFFIX]... [--crl-url URL] [--yes]\n"
	    "  revoke --dir D SERIAL [--reason R]\n"
	    "  crl    --dir D [--days N]\n"
	    "  log    --dir D [--verify | --accept-last]\n"
	    "\n"
	    "passphrase: --passphrase-file F (mode 0600/0400), --passphrase-fd N,\n"
	    "or a prompt on the terminal. Never on the command line.\n"
	    "common: -c/--config FILE, -h/--help, --version\n"
	    "key algorithms: ecdsa-p256 ecdsa-p384 (default) ecdsa-p521 ed25519\n"
	    "                rsa-2048 rsa-3072 rsa-4096\n");
}

static const struct option longopts[] = {
	COMMON_OPTIONS,
	{ "subject", required_argument, NULL, O_SUBJECT },
	{ "key", required_argument, NULL, O_KEY },
	{ "days", required_argument, NULL, O_DAYS },
	{ "passphrase-file", required_argument, NULL, O_PFILE },
	{ "passphrase-fd", required_argument, NULL, O_PFD },
	{ "kind", required_argument, NULL, O_KIND },
	{ "out", required_argument, NULL, O_OUT },
	{ "permit-dns", required_argument, NULL, O_PERMIT },
	{ "crl-url", required_argument, NULL, O_CRLURL },
	{ "yes", no_argument, NULL, O_YES },
	{ "reason", required_argument, NULL, O_REASON },
	{ "verify", no_argument, NULL, O_VERIFY },
	{ "accept-last", no_argument, NULL, O_ACCEPT_LAST },
	{ NULL, 0, NULL, 0 }
};

static int
need_dir(const struct args *a, const struct ca_conf *conf, const char **dir)
{
	*dir = a->dir != NULL ? a->dir : conf->root_dir;
	if (*dir == NULL) {
		msg_err("missing --dir (or root.dir in the config)");
		return 2;
	}
	return 0;
}

/* Opens the root, locked, its ceremony log verified, with its key
 * loaded: passphrase asked, used, wiped. */
static int
open_root(struct ca **out, const char *dir, const struct pass_opts *po,
    struct ca_err *err)
{
	struct ca_secret pass = { NULL, 0 };
	int ret;

	struct ca_log_status st;

	if ((ret = ca_open(out, dir, CA_OPEN_LOCK | CA_OPEN_NEED_CERT, err)) != 0)
		return ret;
	if (ca_store_kind(*out) != CA_KIND_ROOT) {
		ret = ca_err_set(err, CA_EINVAL, "'%s' is a %s intermediate, not "
		    "a root", dir, ca_kind_name(ca_store_kind(*out)));
		goto fail;
	}
	/* A log that does not verify stops the session before the key
	 * signs anything: every act must be on the record. */
	if ((ret = ca_log_verify(&st, dir, err)) != 0) {
		ca_err_wrap(err, "ceremony log does not verify; refusing to use "
		    "the root key");
		goto fail;
	}
	if ((ret = pass_get(&pass, po, "Root key passphrase: ", 0, err)) != 0)
		goto fail;
	ret = ca_load_key(*out, &pass, err);
	ca_secret_wipe(&pass);
	if (ret == 0)
		return 0;
fail:
	ca_close(*out);
	*out = NULL;
	return ret;
}

static void
detail(struct ca_strv *d, const char *k, const char *v)
{
	char *s = NULL;
	size_t i;

	if (asprintf(&s, "%s=%s", k, v ? v : "") < 0)
		return;
	/* One token per detail: spaces in DNs become '_'. */
	for (i = 0; s[i]; i++)
		if (s[i] == ' ')
			s[i] = '_';
	ca_strv_add(d, s);
	free(s);
}

static void
print_head(const char *dir)
{
	struct ca_log_status st;
	struct ca_err err = { 0 };

	if (ca_log_verify(&st, dir, &err) == 0)
		printf("ceremony log: %zu entries, head %s\n"
		    "(write the head down on the ceremony record)\n", st.entries,
		    st.head);
}

static int
cmd_init(struct args *a, struct ca_conf *conf, time_t now)
{
	struct ca_root_init_opts o = CA_ROOT_INIT_OPTS_INIT;
	struct ca_secret pass = { NULL, 0 };
	struct ca_err err = { 0 };
	const char *dir;
	int ret;

	if ((ret = need_dir(a, conf, &dir)) != 0)
		return ret;
	if (a->npos != 0 || a->subject == NULL) {
		msg_err("usage: tierca-root init --dir D --subject DN [--key ALG] "
		    "[--days N]");
		return 2;
	}
	if (a->key != NULL && ca_key_alg_parse(&o.alg, a->key) != 0) {
		msg_err("unknown key algorithm '%s'", a->key);
		return 2;
	}
	o.subject = a->subject;
	if (a->days)
		o.days = a->days;
	if (ca_file_exists(dir)) {
		/* Ask for no passphrase when the answer is no anyway. */
		char *k = ca_path_join(dir, "private/ca.key");
		int exists = k != NULL && ca_file_exists(k);
		free(k);
		if (exists) {
			msg_err("'%s' already holds a root (private/ca.key exists); "
			    "refusing to overwrite it", dir);
			return 1;
		}
	}
	if (pass_get(&pass, &a->pass, "New root key passphrase: ", 1, &err) != 0)
		return fail(&err);
	ret = ca_root_init(dir, &o, &pass, now, &err);
	ca_secret_wipe(&pass);
	if (ret != 0)
		return fail(&err);
	printf("root created in '%s' (%s, %d days)\n", dir,
	    ca_key_alg_name(o.alg), o.days);
	printf("certificate: %s/ca.crt\n", dir);
	print_head(dir);
	return 0;
}

/* A yes on the terminal, or --yes. */
static int
confirm(const char *question)
{
	char ans[16] = "";
	FILE *tty;

	if ((tty = fopen("/dev/tty", "r+")) == NULL)
		return -1;
	fprintf(tty, "%s [y/N] ", question);
	fflush(tty);
	if (fgets(ans, sizeof(ans), tty) == NULL)
		ans[0] = '\0';
	fclose(tty);
	return ans[0] == 'y' || ans[0] == 'Y';
}

static int
cmd_sign(struct args *a, struct ca_conf *conf, time_t now)
{
	struct ca_sign_ica_opts o = CA_SIGN_ICA_OPTS_INIT;
	struct ca_csr_info ci;
	struct ca_issued is;
	struct ca_strv d = { NULL, 0 };
	struct ca_err err = { 0 };
	struct ca *root = NULL;
	const char *dir, *csr;
	char sha[65], t[32];
	size_t i;
	int ret = 1;

	memset(&ci, 0, sizeof(ci));
	memset(&is, 0, sizeof(is));
	if ((ret = need_dir(a, conf, &dir)) != 0)
		return ret;
	if (a->npos != 1 || a->kind == NULL || a->out == NULL) {
		msg_err("usage: tierca-root sign --dir D --kind server|client CSR "
		    "--out CERT [--days N] [--permit-dns SUFFIX]... "
		    "[--crl-url URL] [--yes]");
		return 2;
	}
	csr = a->pos[0];
	if (ca_kind_parse(&o.kind, a->kind) != 0 || o.kind == CA_KIND_ROOT) {
		msg_err("invalid --kind '%s': want server or client", a->kind);
		return 2;
	}
	if (a->days)
		o.days = a->days;
	if (a->crl_url != NULL && strncmp(a->crl_url, "http://", 7) != 0 &&
	    strncmp(a->crl_url, "https://", 8) != 0 &&
	    strncmp(a->crl_url, "file://", 7) != 0) {
		msg_err("invalid --crl-url '%s': want http://, https:// or file://",
		    a->crl_url);
		return 2;
	}
	o.permit_dns = a->permit;
	o.crl_url = a->crl_url;
	if (ca_csr_info_load(&ci, csr, &err) != 0)
		return fail(&err);
	printf("intermediate CSR '%s'\n", csr);
	printf("  subject:     %s\n", ci.subject ? ci.subject : "");
	printf("  key:         %s\n", ci.key);
	printf("  key sha256:  %s\n", ci.spki_sha256);
	printf("  csr sha256:  %s\n", ci.csr_sha256);
	printf("  kind:        %s intermediate, %d days, pathlen 0\n",
	    ca_kind_name(o.kind), o.days);
	for (i = 0; i < o.permit_dns.n; i++)
		printf("  permit DNS:  %s\n", o.permit_dns.v[i][0] == '.' ?
		    o.permit_dns.v[i] + 1 : o.permit_dns.v[i]);
	if (o.crl_url != NULL)
		printf("  CRL URL:     %s\n", o.crl_url);
	if (!a->yes) {
		int yes;
		fflush(stdout);
		yes = confirm("Compare the SHA-256 with the one printed where the "
		    "CSR was made. Sign it?");
		if (yes < 0) {
			msg_err("no terminal to confirm on: check the CSR and give "
			    "--yes");
			ret = 1;
			goto out;
		}
		if (!yes) {
			msg_err("not signed");
			ret = 1;
			goto out;
		}
	}
	if (open_root(&root, dir, &a->pass, &err) != 0) {
		ret = fail(&err);
		goto out;
	}
	if (ca_root_sign_file(&is, root, &o, csr, a->out, now, &err) != 0) {
		ret = fail(&err);
		goto out;
	}
	if (is.capped) {
		ca_time_format(t, sizeof(t), is.not_after);
		msg_warn("validity cut to the root's notAfter %s", t);
	}
	detail(&d, "kind", ca_kind_name(o.kind));
	detail(&d, "serial", is.serial);
	detail(&d, "subject", is.subject);
	detail(&d, "csr_sha256", ci.csr_sha256);
	if (ca_sha256_file(sha, sizeof(sha), a->out, &err) == 0)
		detail(&d, "cert_sha256", sha);
	detail(&d, "out", a->out);
	if (ca_log_append(dir, now, "sign", &d, &err) != 0) {
		ret = fail(&err);
		goto out;
	}
	ca_time_format(t, sizeof(t), is.not_after);
	printf("signed %s intermediate, serial %s, valid until %s\n",
	    ca_kind_name(o.kind), is.serial, t);
	printf("certificate: %s\n", a->out);
	print_head(dir);
	ret = 0;
out:
	ca_strv_free(&d);
	ca_issued_clear(&is);
	ca_csr_info_clear(&ci);
	ca_close(root);
	return ret;
}

static int
make_crl(struct ca *root, const char *dir, int days, time_t now,
    struct ca_err *err)
{
	struct ca_crl_info ci;
	struct ca_strv d = { NULL, 0 };
	char sha[65], t[32], n[32], *p;
	int ret;

	if ((ret = ca_crl_generate(&ci, root, days, now, err)) != 0)
		return ret;
	detail(&d, "number", ci.number);
	snprintf(n, sizeof(n), "%zu", ci.nrevoked);
	detail(&d, "revoked", n);
	ca_time_format(t, sizeof(t), ci.next_update);
	detail(&d, "next_update", t);
	if ((p = ca_path(root, "crl.pem")) != NULL &&
	    ca_sha256_file(sha, sizeof(sha), p, NULL) == 0)
		detail(&d, "crl_sha256", sha);
	free(p);
	ret = ca_log_append(dir, now, "crl", &d, err);
	ca_strv_free(&d);
	if (ret == 0) {
		printf("root CRL %s: %zu revoked, next update %s\n"
		    "file: %s/crl.pem (and crl.der)\n", ci.number, ci.nrevoked, t,
		    dir);
		print_head(dir);
	}
	return ret;
}

static int
cmd_revoke(struct args *a, struct ca_conf *conf, time_t now)
{
	struct ca_strv revoked = { NULL, 0 }, d = { NULL, 0 };
	enum ca_reason reason = CA_REASON_UNSPECIFIED;
	struct ca_err err = { 0 };
	struct ca *root = NULL;
	const char *dir;
	size_t i;
	int ret;

	if ((ret = need_dir(a, conf, &dir)) != 0)
		return ret;
	if (a->npos != 1) {
		msg_err("usage: tierca-root revoke --dir D SERIAL [--reason R]");
		return 2;
	}
	if (a->reason != NULL && parse_reason(&reason, a->reason) != 0)
		return 2;
	/* By serial only: a renewed intermediate shares its name with the
	 * one before it, and a name would revoke both. */
	if (strlen(a->pos[0]) < 8 ||
	    strspn(a->pos[0], "0123456789abcdefABCDEF") != strlen(a->pos[0])) {
		msg_err("invalid serial '%s': give the intermediate's serial in hex"
		    " (openssl x509 -noout -serial)", a->pos[0]);
		return 2;
	}
	if (open_root(&root, dir, &a->pass, &err) != 0)
		return fail(&err);
	if (ca_revoke(&revoked, root, a->pos[0], reason, now, &err) != 0) {
		ret = fail(&err);
		goto out;
	}
	for (i = 0; i < revoked.n; i++) {
		detail(&d, "serial", revoked.v[i]);
		printf("revoked serial %s (%s)\n", revoked.v[i],
		    ca_reason_name(reason));
	}
	detail(&d, "reason", ca_reason_name(reason));
	if (ca_log_append(dir, now, "revoke", &d, &err) != 0) {
		ret = fail(&err);
		goto out;
	}
	/* The revocation means nothing until a CRL says so. */
	if (make_crl(root, dir, a->days ? a->days : conf->root_crl_days, now,
	    &err) != 0) {
		ret = fail(&err);
		goto out;
	}
	ret = 0;
out:
	ca_strv_free(&revoked);
	ca_strv_free(&d);
	ca_close(root);
	return ret;
}

static int
cmd_crl(struct args *a, struct ca_conf *conf, time_t now)
{
	struct ca_err err = { 0 };
	struct ca *root = NULL;
	const char *dir;
	int ret;

	if ((ret = need_dir(a, conf, &dir)) != 0)
		return ret;
	if (a->npos != 0) {
		msg_err("usage: tierca-root crl --dir D [--days N]");
		return 2;
	}
	if (open_root(&root, dir, &a->pass, &err) != 0)
		return fail(&err);
	ret = make_crl(root, dir, a->days ? a->days : conf->root_crl_days, now,
	    &err) != 0 ? fail(&err) : 0;
	ca_close(root);
	return ret;
}

static int
cmd_log(struct args *a, struct ca_conf *conf, time_t now)
{
	struct ca_log_status st;
	struct ca_err err = { 0 };
	const char *dir;
	char *p, *buf = NULL;
	int ret, lock = -1;

	if ((ret = need_dir(a, conf, &dir)) != 0)
		return ret;
	if (a->npos != 0) {
		msg_err("usage: tierca-root log --dir D [--verify | "
		    "--accept-last]");
		return 2;
	}
	if (a->accept_last) {
		if (ca_lock_acquire(&lock, dir, 1, &err) != 0)
			return fail(&err);
		ret = ca_log_accept_last(&st, dir, now, &err);
		ca_lock_release(lock);
		if (ret != 0)
			return fail(&err);
		printf("ceremony log recovered: %zu entries, head %s\n"
		    "(write the head down on the ceremony record)\n", st.entries,
		    st.head);
		return 0;
	}
	if (a->verify) {
		if (ca_log_verify(&st, dir, &err) != 0)
			return fail(&err);
		printf("ceremony log verifies: %zu entries, head %s\n", st.entries,
		    st.head);
		return 0;
	}
	if ((p = ca_path_join(dir, "ceremony.log")) == NULL)
		return 1;
	if (ca_file_read(&buf, NULL, p, 64u * 1024 * 1024, &err) != 0) {
		free(p);
		return fail(&err);
	}
	free(p);
	/* seq time act details (hashes are for --verify). */
	{
		char *line = buf, *nl;
		for (; *line; line = nl + 1) {
			char *f[6], *q = line;
			int i;
			if ((nl = strchr(line, '\n')) == NULL)
				break;
			*nl = '\0';
			for (i = 0; i < 6; i++) {
				f[i] = q;
				if (i < 5 && (q = strchr(q, '\t')) != NULL)
					*q++ = '\0';
				else if (i < 5) {
					f[i + 1] = NULL;
					break;
				}
			}
			if (i < 5) {
				printf("%s\n", f[0]);
				continue;
			}
			printf("%4s  %s  %-7s %s\n", f[0], f[1], f[2], f[3]);
		}
	}
	free(buf);
	if (ca_log_verify(&st, dir, &err) != 0) {
		msg_warn("%s", err.msg);
		return 1;
	}
	return 0;
}

static const struct verb verbs[] = {
	{ "init", cmd_init, NEED_KEY },
	{ "sign", cmd_sign, NEED_KEY },
	{ "revoke", cmd_revoke, NEED_KEY },
	{ "crl", cmd_crl, NEED_KEY },
	{ "log", cmd_log, 0 },
};

static const struct tool tool = {
	"tierca-root", usage, longopts, verbs,
	sizeof(verbs) / sizeof(verbs[0])
};

int
main(int argc, char **argv)
{
	return tool_main(&tool, argc, argv);
}
