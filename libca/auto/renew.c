/*
 * renew.c - what a renewal run does for one template: issue, renew,
 * re-install, or nothing.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "auto/auto-int.h"

#define DAY 86400

const char *
ca_renew_action_name(enum ca_renew_action a)
{
	static const char *const names[CA_RENEW__MAX] = {
		[CA_RENEW_NONE] = "current",
		[CA_RENEW_ISSUE] = "issue",
		[CA_RENEW_RENEW] = "renew",
		[CA_RENEW_INSTALL] = "install",
	};
	return (unsigned)a < CA_RENEW__MAX ? names[a] : "?";
}

static char *
pending_path(struct ca *ca, const char *name)
{
	char *p = NULL;

	if (asprintf(&p, "%s/issued/.%s.reload-pending", ca->dir, name) < 0)
		return NULL;
	return p;
}

int
ca_reload_pending_set(struct ca *ca, const char *name, int pending,
    struct ca_err *err)
{
	char *p = pending_path(ca, name);
	int ret = 0;

	if (p == NULL)
		return ca_err_set(err, CA_ENOMEM, "out of memory");
	if (pending)
		ret = ca_file_write_atomic(p, "", 0, 0600, err);
	else if (ca_path_unlink(p, 0) == -1 && errno != ENOENT)
		ret = ca_err_set(err, CA_EIO, "cannot remove '%s': %s", p,
		    strerror(errno));
	free(p);
	return ret;
}

static char *
superseded_path(struct ca *ca, const char *name)
{
	char *p = NULL;

	if (asprintf(&p, "%s/issued/.%s.superseded", ca->dir, name) < 0)
		return NULL;
	return p;
}

int
ca_superseded_pending(struct ca_strv *out, struct ca *ca, const char *name,
    struct ca_err *err)
{
	char *p = superseded_path(ca, name), *buf = NULL, *line, *save = NULL;
	size_t len = 0;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	if (p == NULL)
		return ca_err_set(err, CA_ENOMEM, "out of memory");
	if (!ca_file_exists(p))
		goto out;
	if ((ret = ca_file_read(&buf, &len, p, 64 * 1024, err)) != 0)
		goto out;
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		struct ca_serial sn;
		if (ca_serial_from_hex(&sn, line) != 0) {
			ret = ca_err_set(err, CA_EDB, "%s: '%.44s' is not a "
			    "serial", p, line);
			break;
		}
		if (ca_strv_add(out, line) != 0) {
			ret = ca_err_set(err, CA_ENOMEM, "out of memory");
			break;
		}
	}
	if (ret != 0)
		ca_strv_free(out);
out:
	free(buf);
	free(p);
	return ret;
}

int
ca_superseded_mark(struct ca *ca, const char *name, const char *serial,
    struct ca_err *err)
{
	struct ca_strv sv;
	char *p, *all = NULL;
	size_t i, len = 0;
	int ret;

	if ((ret = ca_superseded_pending(&sv, ca, name, err)) != 0)
		return ret;
	for (i = 0; i < sv.n; i++)
		if (strcmp(sv.v[i], serial) == 0) {
			ca_strv_free(&sv);
			return 0;
		}
	if ((ret = ca_strv_add(&sv, serial)) != 0 ||
	    (p = superseded_path(ca, name)) == NULL) {
		ca_strv_free(&sv);
		return ca_err_set(err, CA_ENOMEM, "out of memory");
	}
	for (i = 0; i < sv.n; i++)
		len += strlen(sv.v[i]) + 1;
	if ((all = malloc(len + 1)) == NULL)
		ret = ca_err_set(err, CA_ENOMEM, "out of memory");
	else {
		char *w = all;
		for (i = 0; i < sv.n; i++)
			w += sprintf(w, "%s\n", sv.v[i]);
		ret = ca_file_write_atomic(p, all, len, 0600, err);
	}
	free(all);
	free(p);
	ca_strv_free(&sv);
	return ret;
}

int
ca_superseded_clear(struct ca *ca, const char *name, struct ca_err *err)
{
	char *p = superseded_path(ca, name);
	int ret = 0;

	if (p == NULL)
		return ca_err_set(err, CA_ENOMEM, "out of memory");
	if (ca_path_unlink(p, 0) == -1 && errno != ENOENT)
		ret = ca_err_set(err, CA_EIO, "cannot remove '%s': %s", p,
		    strerror(errno));
	free(p);
	return ret;
}

/* The serial of issued/NAME/cert.pem, "" when absent, and the file's
 * content (*data, to be freed) for the install check. Read off the DER:
 * a renewal run asks this of every template, and a full X.509 parse was
 * most of what a run with nothing due cost. */
static void
published_serial(char *buf, size_t len, char **data, size_t *n,
    struct ca *ca, const char *name)
{
	char *p = NULL;

	buf[0] = '\0';
	*data = NULL;
	*n = 0;
	if (asprintf(&p, "%s/issued/%s/cert.pem", ca->dir, name) < 0)
		return;
	if (ca_file_read(data, n, p, CA_MAX_FILE, NULL) == 0) {
		struct ca_cert_peek pk;
		if (ca_cert_peek(&pk, (unsigned char *)*data, *n) == 0)
			snprintf(buf, len, "%s", pk.serial);
	}
	free(p);
}

int
ca_renew_plan(struct ca_renew_plan *out, struct ca *ca,
    const struct ca_template *t, int renew_before_days, time_t now,
    struct ca_err *err)
{
	const struct ca_db_byname *ix = NULL;
	struct ca_db *db = NULL;
	struct ca_db_entry *cur = NULL;
	char have[64], *pp, *pem = NULL;
	size_t i, first, n, pemlen = 0;
	int ret;

	memset(out, 0, sizeof(*out));
	/* One run plans every template against the same database: it is
	 * read once (and again only after an issuance changed it), and each
	 * name is found by binary search, so a run over n templates is
	 * O(n log n), not n loads of the whole index. */
	if ((ret = ca_db_cached(&db, &ix, ca, err)) != 0)
		return ret;
	/* The newest certificate of the name that is still valid. */
	first = ca_db_byname_find(ix, t->name, &n);
	for (i = first + n; i-- > first && cur == NULL;)
		if (ix->v[i]->status == 'V' && ix->v[i]->not_after > now)
			cur = ix->v[i];
	if (cur == NULL) {
		out->action = CA_RENEW_ISSUE;
		goto out;
	}
	snprintf(out->serial, sizeof(out->serial), "%s", cur->serial);
	out->not_after = cur->not_after;
	/* Due -- unless it already ends with its intermediate: a new one
	 * could not live longer, and renewing it every day until the end
	 * would only churn keys. The intermediate's end is the monitor's to
	 * flag, and a new intermediate's to solve. */
	if (cur->not_after - now < (time_t)renew_before_days * DAY &&
	    (ca->crt == NULL || cur->not_after <
	    gnutls_x509_crt_get_expiration_time(ca->crt))) {
		out->action = CA_RENEW_RENEW;
		goto out;
	}
	/* Recorded but never published (a crash between the two): its key
	 * is gone, so a new certificate is the only way on. */
	published_serial(have, sizeof(have), &pem, &pemlen, ca, t->name);
	if (strcmp(have, cur->serial) != 0) {
		out->action = CA_RENEW_RENEW;
		goto out;
	}
	/* Without a reload command, nothing is pending any more. */
	if (t->reload != NULL && (pp = pending_path(ca, t->name)) != NULL) {
		out->reload_pending = ca_file_exists(pp);
		free(pp);
	}
	if ((ret = ca_install_needed_cert(ca, t, pem, pemlen, err)) < 0)
		goto out;
	out->action = ret > 0 || out->reload_pending ? CA_RENEW_INSTALL :
	    CA_RENEW_NONE;
	ret = 0;
out:
	free(pem);
	return ret;
}

int
ca_issue_keep_key(struct ca_issued *out, struct ca *ca,
    const struct ca_issue_opts *o, int keep_key, time_t now,
    struct ca_err *err)
{
	struct ca_issue_opts k = *o;

	k.keep_key = keep_key;
	return ca_issue(out, ca, &k, now, err);
}

/* ---- one template's run (tierca-renew, tierca-harness) ----------------- */

const char *
ca_reload_result_name(enum ca_reload_result r)
{
	static const char *const names[CA_RELOAD__MAX] = {
		[CA_RELOAD_NONE] = "none",
		[CA_RELOAD_OK] = "ok",
		[CA_RELOAD_FAILED] = "failed",
	};
	return (unsigned)r < CA_RELOAD__MAX ? names[r] : "?";
}

/* The run's error: the last one wins, as the run goes on after most. */
static void
result_error(struct ca_renew_result *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
result_error(struct ca_renew_result *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->error, sizeof(r->error), fmt, ap);
	va_end(ap);
}

/* Runs the reload command through /bin/sh; 0 when it exits 0. */
static int
run_reload(const char *cmd, char *why, size_t len)
{
	pid_t pid;
	int st;

	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == -1) {
		snprintf(why, len, "cannot fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		/* What the reload prints is a message for people: stderr, so
		 * stdout stays the report (one JSON document with --json). */
		dup2(2, 1);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR) {
			snprintf(why, len, "cannot wait for '%s'", cmd);
			return -1;
		}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	if (WIFEXITED(st))
		snprintf(why, len, "reload '%s' exited %d%s", cmd,
		    WEXITSTATUS(st), WEXITSTATUS(st) == 127 ?
		    " (command not found?)" : "");
	else
		snprintf(why, len, "reload '%s' killed by signal %d", cmd,
		    WTERMSIG(st));
	return -1;
}

static int
has_install(const struct ca_template *t)
{
	return t->install.cert || t->install.key || t->install.chain ||
	    t->install.fullchain;
}

/* The replaced certificates are revoked (superseded) once their successor
 * is installed and the service reloaded, when the config asks for it. A
 * run that failed before that left them marked; this one finishes. */
static void
revoke_superseded(struct ca_renew_result *r, struct ca *ca,
    const struct ca_template *t, time_t now)
{
	struct ca_strv sv = { NULL, 0 };
	struct ca_err err = { 0 };
	size_t i, used = 0;

	if (ca_superseded_pending(&sv, ca, t->name, &err) != 0) {
		result_error(r, "%s: %s", t->name, err.msg);
		return;
	}
	for (i = 0; i < sv.n; i++) {
		struct ca_strv out = { NULL, 0 };
		int ret = ca_revoke(&out, ca, sv.v[i], CA_REASON_SUPERSEDED, now,
		    &err);
		ca_strv_free(&out);
		/* Revoked by hand in between: nothing left to do. */
		if (ret != 0 && ret != CA_EEXIST) {
			result_error(r, "%s: cannot revoke the superseded serial "
			    "%s: %s", t->name, sv.v[i], err.msg);
			break;
		}
		if (ret == 0 && used + strlen(sv.v[i]) + 2 < sizeof(r->revoked))
			used += (size_t)snprintf(r->revoked + used,
			    sizeof(r->revoked) - used, "%s%s", used ? " " : "",
			    sv.v[i]);
		memset(&err, 0, sizeof(err));
	}
	if (i == sv.n && sv.n > 0 && ca_superseded_clear(ca, t->name, &err) != 0)
		result_error(r, "%s: %s", t->name, err.msg);
	ca_strv_free(&sv);
}

int
ca_renew_template(struct ca_renew_result *r, struct ca *ca,
    const struct ca_template *t, const struct ca_renew_opts *o, time_t now,
    struct ca_err *err)
{
	struct ca_issue_opts io = CA_ISSUE_OPTS_INIT;
	struct ca_issued is;
	struct ca_err e = { 0 };
	int changed = 0, ret;

	memset(r, 0, sizeof(*r));
	memset(&is, 0, sizeof(is));
	r->reload = CA_RELOAD_NONE;
	if ((ret = ca_renew_plan(&r->plan, ca, t, o->renew_before_days, now,
	    err)) != 0) {
		result_error(r, "%s", err != NULL ? err->msg : "cannot plan");
		return ret;
	}
	if (o->dry_run || r->plan.action == CA_RENEW_NONE)
		return 0;
	if (r->plan.action == CA_RENEW_ISSUE ||
	    r->plan.action == CA_RENEW_RENEW) {
		io.name = t->name;
		io.subject = t->subject;
		io.cn = t->cn;
		io.dns = t->dns;
		io.ip = t->ip;
		io.email = t->email;
		io.days = t->days ? t->days : o->leaf_days;
		io.alg = t->has_key_alg ? t->key_alg : o->leaf_key;
		io.replace = 1;
		if ((ret = ca_issue_keep_key(&is, ca, &io, r->plan.action ==
		    CA_RENEW_RENEW && !t->rotate_key, now, &e)) != 0) {
			result_error(r, "%s: %s", t->name, e.msg);
			return ca_err_set(err, ret, "%s", r->error);
		}
		snprintf(r->serial, sizeof(r->serial), "%s", is.serial);
		r->not_after = is.not_after;
		r->capped = is.capped;
		ca_issued_clear(&is);
		if (o->revoke_superseded && r->plan.action == CA_RENEW_RENEW &&
		    r->plan.serial[0] &&
		    ca_superseded_mark(ca, t->name, r->plan.serial, &e) != 0) {
			result_error(r, "%s: renewed as %s, but the old serial %s "
			    "cannot be marked for revocation: %s", t->name,
			    r->serial, r->plan.serial, e.msg);
			/* The install and reload still go ahead. */
		}
	}
	if (has_install(t)) {
		if ((ret = ca_install(&changed, ca, t, &e)) != 0) {
			/* An issuance stays recorded; the next run sees the
			 * installed files differ and installs them. */
			if (r->serial[0])
				result_error(r, "%s: serial %s issued, not installed "
				    "(the next run installs it): %s", t->name,
				    r->serial, e.msg);
			else
				result_error(r, "%s: %s", t->name, e.msg);
			return ca_err_set(err, ret, "%s", r->error);
		}
		r->installed = changed;
	}
	/* Reload when the service has something new to read, or when an
	 * earlier reload of this name failed. */
	if (t->reload != NULL && (changed > 0 || r->plan.reload_pending ||
	    (!has_install(t) && r->serial[0]))) {
		char why[512];
		if (run_reload(t->reload, why, sizeof(why)) == 0) {
			r->reload = CA_RELOAD_OK;
			ca_reload_pending_set(ca, t->name, 0, NULL);
		} else {
			r->reload = CA_RELOAD_FAILED;
			ca_reload_pending_set(ca, t->name, 1, NULL);
			result_error(r, "%s: %s (the certificate stays issued; "
			    "the next run retries the reload)", t->name, why);
		}
	}
	if (o->revoke_superseded && r->error[0] == '\0' &&
	    r->reload != CA_RELOAD_FAILED)
		revoke_superseded(r, ca, t, now);
	if (r->error[0] != '\0')
		return ca_err_set(err, CA_EIO, "%s", r->error);
	return 0;
}
