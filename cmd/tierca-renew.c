/*
 * tierca-renew - the daily cron job: issues every template never issued,
 * renews what has fewer than renew_before_days left, installs the result
 * to the template's paths, runs its reload command, and regenerates CRLs
 * that are due.
 *
 *   tierca-renew [-c CFG] [--dry-run] [--json]
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"
#include "tierca/issue.h"
#include "tierca/renew.h"
#include "tierca/revoke.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: tierca-renew [-c CFG] [--dry-run] [--json]\n"
	    "\n"
	    "Issues every template under 'templates' never issued, renews\n"
	    "certificates with fewer than policy.renew_before_days left,\n"
	    "installs them (install group of the template), runs 'reload',\n"
	    "and regenerates CRLs that are due. Exit 0 when all went well,\n"
	    "1 when anything failed, 2 on usage errors.\n"
	    "  --dry-run  print what would be done; change nothing\n"
	    "  --json     one JSON document on stdout\n");
}

struct result {
	const struct ca_template *t;
	struct ca_renew_result r;
};

struct ctx {
	struct ca_conf conf;
	struct ca *cas[CA_KIND__MAX];
	int dry_run, json;
	time_t now;
};

static struct ca *
ca_for(struct ctx *c, enum ca_kind kind, struct ca_err *err)
{
	const char *dir = kind == CA_KIND_SERVER ? c->conf.server_dir :
	    c->conf.client_dir;
	int enc;

	if (c->cas[kind] != NULL)
		return c->cas[kind];
	if (dir == NULL) {
		ca_err_set(err, CA_ECONF, "no %s.dir in the config",
		    ca_kind_name(kind));
		return NULL;
	}
	if (ca_open(&c->cas[kind], dir, CA_OPEN_LOCK | CA_OPEN_NEED_CERT,
	    err) != 0)
		return NULL;
	if (ca_store_kind(c->cas[kind]) != kind) {
		ca_err_set(err, CA_ECONF, "'%s' is not the %s intermediate", dir,
		    ca_kind_name(kind));
		goto fail;
	}
	if (!c->dry_run) {
		if ((enc = ca_key_needs_pass(c->cas[kind], err)) < 0)
			goto fail;
		if (enc) {
			ca_err_set(err, CA_EPASS, "the key of '%s' is encrypted; "
			    "tierca-renew runs unattended and needs an "
			    "unencrypted intermediate key", dir);
			goto fail;
		}
		if (ca_load_key(c->cas[kind], NULL, err) != 0)
			goto fail;
	}
	return c->cas[kind];
fail:
	ca_close(c->cas[kind]);
	c->cas[kind] = NULL;
	return NULL;
}

/* The work is libca's (ca_renew_template, shared with tierca-harness);
 * this is where its outcome is told. */
static void
do_template(struct ctx *c, struct result *res)
{
	const struct ca_template *t = res->t;
	struct ca_renew_opts o = CA_RENEW_OPTS_INIT;
	struct ca_err err = { 0 };
	struct ca *ca;

	memset(&res->r, 0, sizeof(res->r));
	if ((ca = ca_for(c, t->ca, &err)) == NULL) {
		snprintf(res->r.error, sizeof(res->r.error), "%s", err.msg);
		return;
	}
	o.leaf_days = c->conf.policy.leaf_days;
	o.leaf_key = c->conf.policy.leaf_key;
	o.renew_before_days = c->conf.policy.renew_before_days;
	o.revoke_superseded = c->conf.policy.revoke_superseded;
	o.dry_run = c->dry_run;
	(void)ca_renew_template(&res->r, ca, t, &o, c->now, &err);
	if (res->r.capped)
		msg_warn("'%s' validity cut to the intermediate's notAfter",
		    t->name);
}

static int
crl_if_due(struct ctx *c, enum ca_kind kind, int *made, char *line,
    size_t len)
{
	struct ca_crl_info ci;
	struct ca_err err = { 0 };
	struct ca *ca = c->cas[kind];
	int due;

	*made = 0;
	line[0] = '\0';
	if (ca == NULL)
		return 0;
	if ((due = ca_crl_due(ca, c->conf.policy.crl_every_days, c->now,
	    &err)) <= 0)
		return 0;
	if (c->dry_run) {
		snprintf(line, len, "%s CRL: would regenerate",
		    ca_kind_name(kind));
		*made = 1;
		return 0;
	}
	if (ca_crl_generate(&ci, ca, c->conf.policy.crl_days, c->now,
	    &err) != 0) {
		snprintf(line, len, "%s CRL: %s", ca_kind_name(kind), err.msg);
		return -1;
	}
	*made = 1;
	snprintf(line, len, "%s CRL %s regenerated (%zu revoked)",
	    ca_kind_name(kind), ci.number, ci.nrevoked);
	return 0;
}

static void
print_result(const struct result *res, int dry_run)
{
	const struct ca_renew_result *r = &res->r;
	char t[32];

	if (r->error[0]) {
		msg_err("%s", r->error);
		return;
	}
	if (r->plan.action == CA_RENEW_NONE) {
		ca_time_format(t, sizeof(t), r->plan.not_after);
		printf("%-20s current   serial %s, until %s\n", res->t->name,
		    r->plan.serial, t);
		return;
	}
	if (dry_run) {
		printf("%-20s would %s", res->t->name,
		    ca_renew_action_name(r->plan.action));
		if (r->plan.serial[0]) {
			ca_time_format(t, sizeof(t), r->plan.not_after);
			printf(" (now serial %s, until %s)", r->plan.serial, t);
		}
		printf("\n");
		return;
	}
	ca_time_format(t, sizeof(t), r->not_after);
	if (r->serial[0])
		printf("%-20s %-9s serial %s, until %s", res->t->name,
		    r->plan.action == CA_RENEW_ISSUE ? "issued" : "renewed",
		    r->serial, t);
	else
		printf("%-20s installed serial %s", res->t->name,
		    r->plan.serial);
	printf("; %d file(s) installed; reload %s", r->installed,
	    ca_reload_result_name(r->reload));
	if (r->revoked[0])
		printf("; superseded %s revoked", r->revoked);
	printf("\n");
}

static void
print_json(const struct result *rs, size_t n, char crl[][1200], int made[],
    int dry_run)
{
	char t[32];
	size_t i;

	printf("{\"dry_run\":%s,\"templates\":[", dry_run ? "true" : "false");
	for (i = 0; i < n; i++) {
		const struct ca_renew_result *r = &rs[i].r;
		printf("%s{\"name\":", i ? "," : "");
		json_str(stdout, rs[i].t->name);
		printf(",\"ca\":\"%s\",\"action\":\"%s\",\"serial\":",
		    ca_kind_name(rs[i].t->ca), r->error[0] ? "error" :
		    ca_renew_action_name(r->plan.action));
		json_str(stdout, r->serial[0] ? r->serial : r->plan.serial);
		ca_time_format(t, sizeof(t), r->serial[0] ? r->not_after :
		    r->plan.not_after);
		printf(",\"not_after\":\"%s\",\"installed\":%d,"
		    "\"reload\":\"%s\"", r->serial[0] || r->plan.serial[0] ? t :
		    "", r->installed, ca_reload_result_name(r->reload));
		if (r->revoked[0])
			printf(",\"revoked\":\"%s\"", r->revoked);
		if (r->error[0]) {
			printf(",\"error\":");
			json_str(stdout, r->error);
		}
		printf("}");
	}
	printf("],\"crl\":{\"server\":");
	json_str(stdout, crl[CA_KIND_SERVER]);
	printf(",\"client\":");
	json_str(stdout, crl[CA_KIND_CLIENT]);
	printf(",\"regenerated\":%d}}\n", made[CA_KIND_SERVER] +
	    made[CA_KIND_CLIENT]);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	struct ctx c;
	struct ca_templates ts = { NULL, 0 };
	struct ca_err err = { 0 };
	struct result *rs = NULL;
	const char *config = NULL;
	char crl[CA_KIND__MAX][1200], *lockp = NULL, *slash;
	int made[CA_KIND__MAX] = { 0 }, counts[CA_RENEW__MAX] = { 0 };
	int opt, lock = -1, failed = 0, k;
	size_t i;

	progname = "tierca-renew";
	memset(&c, 0, sizeof(c));
	memset(crl, 0, sizeof(crl));
	while ((opt = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c': config = optarg; break;
		case 'h': usage(stdout); return finish(0);
		case 'V': printf("tierca-renew %s\n", TIERCA_VERSION);
			return finish(0);
		case 'n': c.dry_run = 1; break;
		case 'j': c.json = 1; break;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	harden_process();
	umask(022);
	if (ca_conf_find(&c.conf, config, &err) != 0 ||
	    ca_clock_now(&c.now, &err) != 0)
		return fail(&err);
	if (c.conf.templates == NULL) {
		msg_err("no 'templates' in the config%s%s", c.conf.path ? " " : "",
		    c.conf.path ? c.conf.path : "");
		ca_conf_free(&c.conf);
		return 1;
	}
	/* One run at a time: a second one started while the first works
	 * says so and leaves. The lock sits next to the config. */
	if (c.conf.path != NULL && (slash = strrchr(c.conf.path, '/')) != NULL) {
		if (asprintf(&lockp, "%.*s/.tierca-renew.lock",
		    (int)(slash - c.conf.path), c.conf.path) < 0)
			lockp = NULL;
	} else
		lockp = strdup(".tierca-renew.lock");
	if (lockp == NULL || ca_lock_file(&lock, lockp, 0, &err) != 0) {
		if (err.code == CA_ELOCK) {
			fprintf(c.json ? stderr : stdout, "tierca-renew: another "
			    "run is in progress (lock '%s'); nothing done\n", lockp);
			if (c.json)
				printf("{\"skipped\":\"another run is in progress\"}\n");
			free(lockp);
			ca_conf_free(&c.conf);
			return finish(0);
		}
		free(lockp);
		ca_conf_free(&c.conf);
		return fail(&err);
	}
	if (ca_templates_load(&ts, c.conf.templates, &err) != 0) {
		failed = fail(&err);
		goto out;
	}
	/* The JSON report is written at the end and needs every result;
	 * the text report prints each at once, so one slot serves (a
	 * result is 2 KiB: 20 MiB for 10,000 templates otherwise). */
	if ((rs = calloc(c.json ? ts.n + 1 : 1, sizeof(*rs))) == NULL) {
		msg_err("out of memory");
		failed = 1;
		goto out;
	}
	for (i = 0; i < ts.n; i++) {
		struct result *res = &rs[c.json ? i : 0];
		res->t = &ts.v[i];
		do_template(&c, res);
		if (res->r.error[0])
			failed = 1;
		else
			counts[res->r.plan.action]++;
		if (!c.json)
			print_result(res, c.dry_run);
	}
	/* One daily cron line keeps the CRLs fresh too. */
	for (k = CA_KIND_SERVER; k <= CA_KIND_CLIENT; k++) {
		const char *dir = k == CA_KIND_SERVER ? c.conf.server_dir :
		    c.conf.client_dir;
		if (dir == NULL)
			continue; /* not configured: nothing to keep fresh */
		if (c.cas[k] == NULL && ca_for(&c, (enum ca_kind)k, &err) == NULL) {
			/* A CA with no template still has a CRL that must stay
			 * fresh: not being able to open it is a failure. */
			failed = 1;
			snprintf(crl[k], sizeof(crl[k]), "%s CRL: %s",
			    ca_kind_name((enum ca_kind)k), err.msg);
			msg_err("%s", crl[k]);
			continue;
		}
		if (crl_if_due(&c, (enum ca_kind)k, &made[k], crl[k],
		    sizeof(crl[k])) != 0) {
			failed = 1;
			msg_err("%s", crl[k]);
		} else if (!c.json && crl[k][0])
			printf("%s\n", crl[k]);
	}
	if (c.json)
		print_json(rs, ts.n, crl, made, c.dry_run);
	else
		printf("tierca-renew: %s%d issued, %d renewed, %d installed, "
		    "%d current, %d failed; %d CRL(s) %sregenerated\n",
		    c.dry_run ? "dry run: would have " : "",
		    counts[CA_RENEW_ISSUE], counts[CA_RENEW_RENEW],
		    counts[CA_RENEW_INSTALL], counts[CA_RENEW_NONE],
		    (int)ts.n - counts[CA_RENEW_ISSUE] - counts[CA_RENEW_RENEW] -
		    counts[CA_RENEW_INSTALL] - counts[CA_RENEW_NONE],
		    made[CA_KIND_SERVER] + made[CA_KIND_CLIENT],
		    c.dry_run ? "to be " : "");
out:
	for (k = 0; k < CA_KIND__MAX; k++)
		ca_close(c.cas[k]);
	free(rs);
	ca_templates_free(&ts);
	ca_lock_release(lock);
	free(lockp);
	ca_conf_free(&c.conf);
	return finish(failed ? 1 : 0);
}
