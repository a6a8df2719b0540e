/*
 * tierca-deploy - places every managed file where its own header says:
 * discovers them under the sources, validates the whole set, and only
 * then places them atomically, with owner and mode; unchanged files are
 * left alone; deploy-after commands run once each, after everything.
 *
 *   tierca-deploy [-c CFG] [--root PREFIX] [--dry-run] [--json] [SRC...]
 *   tierca-deploy --check-secrets [PATH...]
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"
#include "tierca/deploy.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: tierca-deploy [-c CFG] [--root PREFIX] [--dry-run] [--json] "
	    "[SRC...]\n"
	    "\n"
	    "Places every managed file found under SRC (files or directories;\n"
	    "default: deploy.sources of the config) where its header says:\n"
	    "  # deploy-target: /abs/path   (required; '//' and ';' leaders too)\n"
	    "  # deploy-owner: user[:group]\n"
	    "  # deploy-mode: 0640          (default 0644; 0600 for a key)\n"
	    "  # deploy-after: command      (run once after a change)\n"
	    "  # deploy-key: yes            (a private key, mode 0600/0400 only)\n"
	    "Everything is validated first; one problem places nothing.\n"
	    "One run at a time per root: another waits for the lock\n"
	    "PREFIX" CA_DEPLOY_LOCK "; the next run removes what a\n"
	    "killed one left.\n"
	    "Exit 0 when all went well, 1 on any failure, 2 on usage errors.\n"
	    "  --root PREFIX  place under PREFIX instead of /\n"
	    "  --dry-run      print the plan and diffs; change nothing\n"
	    "  --json         one JSON document on stdout\n"
	    "\n"
	    "       tierca-deploy --check-secrets [PATH...]\n"
	    "Refuses (exit 1, one line per file) every file under PATH (default .)\n"
	    "holding private key material -- a PEM private key, PKCS#12, a\n"
	    "smtp_password or passphrase setting -- that git does not filter\n"
	    "through git-crypt (git check-attr filter). For a pre-commit hook.\n");
}

/* The repository guard: no key material outside git-crypt. */
static int
check_secrets(int argc, char **argv)
{
	struct ca_strv paths = { NULL, 0 }, problems = { NULL, 0 };
	struct ca_err err = { 0 };
	size_t i, nfiles = 0, nfound = 0;
	int ret, status;

	/* What is read may be a key. */
	harden_process();
	for (i = 0; i < (size_t)argc; i++)
		if (ca_strv_add(&paths, argv[i]) != 0)
			goto nomem;
	if (paths.n == 0 && ca_strv_add(&paths, ".") != 0)
		goto nomem;
	ret = ca_deploy_check_secrets(&problems, &nfiles, &nfound, &paths,
	    &err);
	if (ret != 0 && ret != CA_ECONF) {
		status = fail(&err);
		goto out;
	}
	for (i = 0; i < problems.n; i++)
		msg_err("%s", problems.v[i]);
	if (ret == CA_ECONF) {
		msg_err("%zu file%s refused: private key material outside "
		    "git-crypt", problems.n, problems.n == 1 ? "" : "s");
		status = 1;
		goto out;
	}
	printf("tierca-deploy: %zu file%s checked, %zu with key material, all "
	    "protected by git-crypt\n", nfiles, nfiles == 1 ? "" : "s",
	    nfound);
	status = finish(0);
out:
	ca_strv_free(&paths);
	ca_strv_free(&problems);
	return status;
nomem:
	msg_err("out of memory");
	status = 1;
	goto out;
}

struct run {
	struct ca_deploy d;
	int dry_run, json;
	const char *root;
	struct ca_strv afters;
	const char **after_status; /* per after: "ok", "failed", "would run" */
	char **after_error;
	size_t counts[CA_DEPLOY__MAX], failed, after_failed;
};

static void
owner_name(char *buf, size_t len, uid_t uid, gid_t gid)
{
	struct passwd *pw = getpwuid(uid);
	struct group *gr = getgrgid(gid);
	char u[32], g[32];

	snprintf(u, sizeof(u), "%u", (unsigned)uid);
	snprintf(g, sizeof(g), "%u", (unsigned)gid);
	snprintf(buf, len, "%s:%s", pw ? pw->pw_name : u, gr ? gr->gr_name : g);
}

/* "content, mode 0600 -> 0644, owner root:root -> www-data" */
static void
describe_changes(char *buf, size_t len, const struct ca_deploy_item *it)
{
	size_t used = 0;
	char o[160];

	buf[0] = '\0';
	if (it->differs & CA_DEPLOY_DIFF_CONTENT)
		used += (size_t)snprintf(buf + used, len - used, "content");
	if ((it->differs & CA_DEPLOY_DIFF_MODE) && used < len)
		used += (size_t)snprintf(buf + used, len - used, "%smode %04o -> "
		    "%04o", used ? ", " : "", (unsigned)it->old_mode,
		    (unsigned)it->mode);
	if ((it->differs & CA_DEPLOY_DIFF_OWNER) && used < len) {
		owner_name(o, sizeof(o), it->old_uid, it->old_gid);
		snprintf(buf + used, len - used, "%sowner %s -> %s", used ?
		    ", " : "", o, it->owner);
	}
}

static void
print_item(const struct ca_deploy_item *it)
{
	char what[512];

	printf("%-9s %s (%s", ca_deploy_state_name(it->state), it->dest,
	    it->src);
	if (it->state == CA_DEPLOY_CHANGED) {
		describe_changes(what, sizeof(what), it);
		printf(": %s", what);
	} else if (it->state == CA_DEPLOY_NEW)
		printf(", %04o%s%s", (unsigned)it->mode, it->owner ? " " : "",
		    it->owner ? it->owner : "");
	printf(")\n");
}

/* The diff of a changed file for a dry run; never of a key. */
static char *
diff_of(const struct ca_deploy_item *it, int *shown)
{
	struct ca_err err = { 0 };
	char *out = NULL;

	*shown = 0;
	if (it->state != CA_DEPLOY_CHANGED ||
	    !(it->differs & CA_DEPLOY_DIFF_CONTENT))
		return NULL;
	if (ca_deploy_diff(&out, it, &err) != 0)
		return NULL;
	*shown = 1;
	return out;
}

static void
print_text(struct run *r)
{
	size_t i;
	int shown;

	for (i = 0; i < r->d.n; i++) {
		const struct ca_deploy_item *it = &r->d.v[i];
		if (!r->dry_run && !it->placed)
			continue;
		print_item(it);
		if (r->dry_run && it->state == CA_DEPLOY_CHANGED &&
		    (it->differs & CA_DEPLOY_DIFF_CONTENT)) {
			char *diff = diff_of(it, &shown);
			if (shown)
				fputs(diff, stdout);
			else
				printf("  (binary or secret, not shown)\n");
			free(diff);
		}
	}
	for (i = 0; i < r->afters.n; i++)
		if (strcmp(r->after_status[i], "failed") != 0)
			printf("%-9s %s\n", r->dry_run ? "would run" : "ran",
			    r->afters.v[i]);
	printf("tierca-deploy: %s%zu new, %zu changed, %zu unchanged, %zu "
	    "failed", r->dry_run ? "dry run: " : "",
	    r->counts[CA_DEPLOY_NEW], r->counts[CA_DEPLOY_CHANGED],
	    r->counts[CA_DEPLOY_UNCHANGED], r->failed);
	if (r->afters.n > 0)
		printf("; deploy-after: %zu %s, %zu failed", r->afters.n -
		    r->after_failed, r->dry_run ? "to run" : "ran",
		    r->after_failed);
	printf("\n");
}

static void
print_json(struct run *r)
{
	size_t i;
	int shown;

	printf("{\"dry_run\":%s,\"root\":", r->dry_run ? "true" : "false");
	json_str(stdout, r->d.root != NULL && r->d.root[0] ? r->d.root : "/");
	printf(",\"files\":[");
	for (i = 0; i < r->d.n; i++) {
		const struct ca_deploy_item *it = &r->d.v[i];
		printf("%s{\"src\":", i ? "," : "");
		json_str(stdout, it->src);
		printf(",\"target\":");
		json_str(stdout, it->target);
		printf(",\"dest\":");
		json_str(stdout, it->dest);
		printf(",\"state\":\"%s\",\"mode\":\"%04o\",\"owner\":",
		    ca_deploy_state_name(it->state), (unsigned)it->mode);
		if (it->owner)
			json_str(stdout, it->owner);
		else
			printf("null");
		printf(",\"after\":");
		if (it->after)
			json_str(stdout, it->after);
		else
			printf("null");
		printf(",\"key\":%s,\"changes\":[", it->is_key ? "true" :
		    "false");
		printf("%s%s%s%s%s", (it->differs & CA_DEPLOY_DIFF_CONTENT) ?
		    "\"content\"" : "", (it->differs & CA_DEPLOY_DIFF_CONTENT) &&
		    (it->differs & ~CA_DEPLOY_DIFF_CONTENT) ? "," : "",
		    (it->differs & CA_DEPLOY_DIFF_MODE) ? "\"mode\"" : "",
		    (it->differs & CA_DEPLOY_DIFF_MODE) &&
		    (it->differs & CA_DEPLOY_DIFF_OWNER) ? "," : "",
		    (it->differs & CA_DEPLOY_DIFF_OWNER) ? "\"owner\"" : "");
		printf("],\"placed\":%s", it->placed ? "true" : "false");
		if (r->dry_run && it->state == CA_DEPLOY_CHANGED &&
		    (it->differs & CA_DEPLOY_DIFF_CONTENT)) {
			char *diff = diff_of(it, &shown);
			printf(",\"diff\":");
			if (shown)
				json_str(stdout, diff);
			else
				printf("null");
			free(diff);
		}
		printf("}");
	}
	printf("],\"after\":[");
	for (i = 0; i < r->afters.n; i++) {
		printf("%s{\"command\":", i ? "," : "");
		json_str(stdout, r->afters.v[i]);
		printf(",\"status\":\"%s\"", r->after_status[i]);
		if (r->after_error[i] != NULL) {
			printf(",\"error\":");
			json_str(stdout, r->after_error[i]);
		}
		printf("}");
	}
	printf("],\"problems\":[");
	for (i = 0; i < r->d.problems.n; i++) {
		printf("%s", i ? "," : "");
		json_str(stdout, r->d.problems.v[i]);
	}
	printf("],\"counts\":{\"new\":%zu,\"changed\":%zu,\"unchanged\":%zu,"
	    "\"failed\":%zu,\"after_failed\":%zu}}\n", r->counts[CA_DEPLOY_NEW],
	    r->counts[CA_DEPLOY_CHANGED], r->counts[CA_DEPLOY_UNCHANGED],
	    r->failed, r->after_failed);
}

/* Every problem, one line each; nothing is placed. */
static int
refuse(struct run *r)
{
	size_t i;

	for (i = 0; i < r->d.problems.n; i++)
		msg_err("%s", r->d.problems.v[i]);
	msg_err("%zu problem%s; nothing placed", r->d.problems.n,
	    r->d.problems.n == 1 ? "" : "s");
	if (r->json)
		print_json(r);
	return 1;
}

/* The run lock of the root: another deploy holding it is waited for,
 * saying so; what a killed run left is removed, saying so. */
static int
lock_root(struct run *r)
{
	struct ca_err err = { 0 };
	size_t removed = 0;
	int ret;

	ret = ca_deploy_lock(&r->d, 0, &removed, &err);
	if (ret == CA_ELOCK) {
		msg_warn("another tierca-deploy is placing files under '%s': "
		    "waiting for it to finish (lock '%s%s')", r->d.root[0] ?
		    r->d.root : "/", r->d.root, CA_DEPLOY_LOCK);
		memset(&err, 0, sizeof(err));
		ret = ca_deploy_lock(&r->d, 1, &removed, &err);
	}
	if (removed > 0)
		msg_warn("removed %zu leftover%s of an interrupted run (temp "
		    "files, empty directories it made)", removed, removed == 1 ?
		    "" : "s");
	if (ret == CA_ECONF)
		return refuse(r);
	if (ret != 0)
		return fail(&err);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "root", required_argument, NULL, 'r' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "check-secrets", no_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 }
	};
	int secrets = 0;
	struct ca_conf conf;
	struct ca_strv args = { NULL, 0 };
	const struct ca_strv *sources;
	struct ca_err err = { 0 };
	struct run r;
	const char *config = NULL;
	size_t i, placed = 0;
	int opt, ret, status = 0;

	progname = "tierca-deploy";
	memset(&r, 0, sizeof(r));
	memset(&conf, 0, sizeof(conf));
	while ((opt = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c': config = optarg; break;
		case 'h': usage(stdout); return finish(0);
		case 'V': printf("tierca-deploy %s\n", TIERCA_VERSION);
			return finish(0);
		case 'r': r.root = optarg; break;
		case 'n': r.dry_run = 1; break;
		case 'j': r.json = 1; break;
		case 's': secrets = 1; break;
		default: usage(stderr); return 2;
		}
	}
	if (secrets) {
		if (r.root != NULL || r.dry_run || r.json || config != NULL) {
			msg_err("--check-secrets takes paths only (no --root, "
			    "--dry-run, --json or -c)");
			return 2;
		}
		return check_secrets(argc - optind, argv + optind);
	}
	if (r.root != NULL && r.root[0] != '/') {
		msg_err("--root '%s' must be an absolute path", r.root);
		return 2;
	}
	umask(022);
	if (ca_conf_find(&conf, config, &err) != 0)
		return fail(&err);
	/* SRC operands win over deploy.sources, as flags win over the
	 * config; the config's are already relative to its own file. */
	for (i = (size_t)optind; i < (size_t)argc; i++)
		if (ca_strv_add(&args, argv[i]) != 0) {
			msg_err("out of memory");
			status = 1;
			goto out;
		}
	sources = args.n > 0 ? &args : &conf.deploy.sources;
	if (sources->n == 0) {
		msg_err("nothing to deploy: name SRC... or set deploy.sources "
		    "in the config%s%s", conf.path ? " " : "",
		    conf.path ? conf.path : "");
		status = 2;
		goto out;
	}
	ret = ca_deploy_scan(&r.d, sources, r.root, &err);
	if (ret != 0 && ret != CA_ECONF) {
		status = fail(&err);
		goto out;
	}
	if (ret == CA_ECONF) {
		status = refuse(&r);
		goto out;
	}
	/* The plan is made again under the lock: what a run that held it
	 * meanwhile placed is unchanged now. The lock is let go before the
	 * deploy-after commands, which may take long and touch nothing of
	 * ours. */
	if (!r.dry_run && (status = lock_root(&r)) != 0)
		goto out;
	if (!r.dry_run && ca_deploy_apply(&r.d, &placed, &err) != 0) {
		msg_err("%s", err.msg);
		if (placed == 0)
			msg_err("nothing placed");
		status = 1;
	}
	ca_deploy_unlock(&r.d);
	for (i = 0; i < r.d.n; i++) {
		const struct ca_deploy_item *it = &r.d.v[i];
		if (it->state == CA_DEPLOY_UNCHANGED || r.dry_run || it->placed)
			r.counts[it->state]++;
		else
			r.failed++;
	}
	/* deploy-after: only after every file is in place, and not at all
	 * after a failed placement (a half-new set is not reloaded). */
	if (status == 0 && ca_deploy_afters(&r.afters, &r.d, !r.dry_run) != 0) {
		msg_err("out of memory");
		status = 1;
		goto out;
	}
	if (r.afters.n > 0 &&
	    ((r.after_status = calloc(r.afters.n, sizeof(const char *))) == NULL ||
	    (r.after_error = calloc(r.afters.n, sizeof(char *))) == NULL)) {
		msg_err("out of memory");
		status = 1;
		goto out;
	}
	for (i = 0; i < r.afters.n; i++) {
		if (r.dry_run) {
			r.after_status[i] = "would run";
			continue;
		}
		memset(&err, 0, sizeof(err));
		if (ca_deploy_run_after(r.afters.v[i], r.d.root, &err) == 0) {
			r.after_status[i] = "ok";
			continue;
		}
		r.after_status[i] = "failed";
		r.after_error[i] = strdup(err.msg);
		r.after_failed++;
		msg_err("%s", err.msg);
		status = 1;
	}
	if (r.json)
		print_json(&r);
	else
		print_text(&r);
out:
	if (r.after_error != NULL)
		for (i = 0; i < r.afters.n; i++)
			free(r.after_error[i]);
	free(r.after_error);
	free(r.after_status);
	ca_strv_free(&r.afters);
	ca_strv_free(&args);
	ca_deploy_free(&r.d);
	ca_conf_free(&conf);
	return finish(status);
}
