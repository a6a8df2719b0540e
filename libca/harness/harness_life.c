/*
 * harness_life.c - the harness's checks of the lifecycle, in the
 * ephemeral hierarchy only: alerting (the monitor's states at future
 * times, and its mail really delivered over SMTP to the harness's own
 * listener) and renewal (a run 65 days on renews what is due and only
 * that, rotates keys, installs, runs the reload hook, revokes what it
 * superseded, refreshes the CRLs; a second run does nothing).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "harness/harness-int.h"

/* ---- alerting ---------------------------------------------------------- */

static const struct ca_mon_check *
find_check(const struct ca_mon_report *r, enum ca_mon_kind kind,
    const char *name)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (r->v[i].kind == kind && strcmp(r->v[i].name, name) == 0)
			return &r->v[i];
	return NULL;
}

/* The monitor at now + days: the check (kind, name) must be in state. */
static void
expect_state(struct hx *h, const struct ca_mon_report *r, int days,
    enum ca_mon_kind kind, const char *name, enum ca_mon_state want,
    const char *why)
{
	const struct ca_mon_check *c = find_check(r, kind, name);
	char check[200];

	snprintf(check, sizeof(check), "monitor at now+%dd: %s %s", days,
	    ca_mon_kind_name(kind), name);
	if (c == NULL)
		hx_fail(h, check, "no %s check for '%s'", ca_mon_kind_name(kind),
		    name);
	else if (c->state != want)
		hx_fail(h, check, "%s, want %s (%s): %s",
		    ca_mon_state_name(c->state), ca_mon_state_name(want), why,
		    c->detail);
	else
		hx_pass(h, check, "%s (%s)%s%s", ca_mon_state_name(c->state), why,
		    c->detail[0] ? ": " : "", c->detail);
}

/* One header of a message (unfolded), or NULL. */
static char *
header(const char *msg, const char *name)
{
	size_t nl = strlen(name);
	const char *p = msg, *end;
	struct ca_sbuf b = { NULL, 0, 0, 0 };

	for (;;) {
		if (strncmp(p, "\r\n", 2) == 0 || *p == '\0')
			return NULL;
		if (strncasecmp(p, name, nl) == 0 && p[nl] == ':')
			break;
		if ((p = strstr(p, "\r\n")) == NULL)
			return NULL;
		p += 2;
	}
	p += nl + 1;
	while (*p == ' ')
		p++;
	for (;;) {
		if ((end = strstr(p, "\r\n")) == NULL)
			end = p + strlen(p);
		ca_sb_put(&b, p, (size_t)(end - p));
		if (*end == '\0' || (end[2] != ' ' && end[2] != '\t'))
			break;
		p = end + 2;
	}
	ca_sb_put(&b, "", 1);
	if (b.oom) {
		free(b.p);
		return NULL;
	}
	return b.p;
}

/* The messages the listener saved: their paths, sorted. */
static int
mailbox(struct ca_strv *out, const char *dir)
{
	struct dirent *de;
	DIR *d;

	memset(out, 0, sizeof(*out));
	if ((d = opendir(dir)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);
		char *p;
		if (de->d_name[0] == '.' || n < 5 ||
		    strcmp(de->d_name + n - 4, ".eml") != 0)
			continue;
		if ((p = ca_path_join(dir, de->d_name)) == NULL ||
		    ca_strv_add(out, p) != 0) {
			free(p);
			closedir(d);
			return CA_ENOMEM;
		}
		free(p);
	}
	closedir(d);
	return 0;
}

/* Sends the report r (at t) to the listener and checks what arrived. */
static int
mail_checks(struct hx *h, const struct ca_mon_report *r, time_t t)
{
	struct ca_notifier n;
	struct ca_strv box = { NULL, 0 };
	struct ca_err e = { 0 };
	char *subject = NULL, *body = NULL, *msg = NULL, *got = NULL;
	char *from = NULL, *to = NULL, *rcpt = NULL, want[300];
	size_t len = 0;
	int ret = 0;

	memset(&n, 0, sizeof(n));
	if (h->o->smtp_port <= 0) {
		hx_fail(h, "alert mail sent", "no SMTP listener to send to");
		return 0;
	}
	if (ca_mon_message(&subject, &body, r, "tierca-harness", &e) != 0) {
		hx_fail(h, "alert mail sent", "%s", e.msg);
		goto out;
	}
	if (ca_mail_notifier(&n, &h->conf.monitor.mail, t, &e) != 0 ||
	    n.send(n.ctx, subject, body, &e) != 0) {
		hx_fail(h, "alert mail sent", "%s", e.msg);
		goto out;
	}
	hx_pass(h, "alert mail sent", "over SMTP to %s", h->conf.monitor.mail.url);

	if (h->o->mailbox == NULL || (ret = mailbox(&box, h->o->mailbox)) != 0 ||
	    box.n != 1) {
		hx_fail(h, "alert mail received", "%zu messages reached the "
		    "harness's listener, want 1 (is %s its port?)", box.n,
		    h->conf.monitor.mail.url);
		goto out;
	}
	if (ca_file_read_follow(&msg, &len, box.v[0], CA_MAX_FILE, &e) != 0) {
		hx_fail(h, "alert mail received", "%s", e.msg);
		goto out;
	}
	from = header(msg, "X-Harness-Mail-From");
	rcpt = header(msg, "X-Harness-Rcpt-To");
	snprintf(want, sizeof(want), "<%s>", h->conf.monitor.mail.to.v[0]);
	if (from == NULL || rcpt == NULL || strstr(from,
	    h->conf.monitor.mail.from) == NULL || strcmp(rcpt, want) != 0)
		hx_fail(h, "alert mail received", "envelope from %s to %s, want "
		    "<%s> to %s", from ? from : "?", rcpt ? rcpt : "?",
		    h->conf.monitor.mail.from, want);
	else
		hx_pass(h, "alert mail received", "the listener got one message, "
		    "%s -> %s", from, rcpt);

	/* The message itself starts after the listener's lines. */
	{
		const char *m = msg;
		while (strncmp(m, "X-Harness-", 10) == 0 &&
		    (m = strstr(m, "\r\n")) != NULL)
			m += 2;
		if (m == NULL)
			m = "";
		got = header(m, "Subject");
		free(to);
		to = header(m, "To");
		if (got == NULL || strcmp(got, subject) != 0)
			hx_fail(h, "alert mail subject", "'%s', want '%s'",
			    got ? got : "(none)", subject);
		else
			hx_pass(h, "alert mail subject", "'%s'", got);
		if (to == NULL || strcmp(to, h->conf.monitor.mail.to.v[0]) != 0 ||
		    strstr(m, "\r\n\r\n") == NULL ||
		    strstr(strstr(m, "\r\n\r\n"), "web") == NULL ||
		    strstr(strstr(m, "\r\n\r\n"), "WARNING") == NULL)
			hx_fail(h, "alert mail body", "To: %s; the body does not "
			    "name 'web' as WARNING", to ? to : "(none)");
		else
			hx_pass(h, "alert mail body", "To: %s; the body names "
			    "'web' as WARNING", to);
	}
out:
	ca_mail_notifier_free(&n);
	ca_strv_free(&box);
	free(subject);
	free(body);
	free(msg);
	free(got);
	free(from);
	free(to);
	free(rcpt);
	return ret;
}

int
hx_alerting(struct hx *h)
{
	struct ca_mon_report r;
	struct ca_err e = { 0 };
	time_t t65 = h->now + 65 * HX_DAY, t85 = h->now + 85 * HX_DAY;
	int ret;

	/* Now: everything was just made; nothing needs attention. */
	if (ca_monitor_run(&r, &h->conf, h->now, &e) != 0) {
		hx_fail(h, "monitor now", "%s", e.msg);
		return 0;
	}
	if (r.state == CA_MON_OK && r.n > 0)
		hx_pass(h, "monitor now", "OK: %zu checks", r.n);
	else {
		size_t i;
		for (i = 0; i < r.n && r.v[i].state == CA_MON_OK; i++)
			;
		hx_fail(h, "monitor now", "%s: %s %s: %s",
		    ca_mon_state_name(r.state), i < r.n ?
		    ca_mon_kind_name(r.v[i].kind) : "no checks", i < r.n ?
		    r.v[i].name : "", i < r.n ? r.v[i].detail : "");
	}
	ca_mon_report_free(&r);

	/* 65 days on, without renewal: the 90-day leaves are inside the
	 * 30-day warning, the 200-day one is not, and the 14-day CRLs are
	 * long expired. */
	if (ca_monitor_run(&r, &h->conf, t65, &e) != 0) {
		hx_fail(h, "monitor at now+65d", "%s", e.msg);
		return 0;
	}
	expect_state(h, &r, 65, CA_MON_CERT, "web", CA_MON_WARNING,
	    "25 days left, fewer than 30");
	expect_state(h, &r, 65, CA_MON_CERT, "admin", CA_MON_WARNING,
	    "25 days left, fewer than 30");
	expect_state(h, &r, 65, CA_MON_CERT, "long", CA_MON_OK,
	    "135 days left");
	expect_state(h, &r, 65, CA_MON_CRL, "server", CA_MON_CRITICAL,
	    "expired 51 days ago");
	if (r.state == CA_MON_CRITICAL)
		hx_pass(h, "monitor at now+65d: state", "CRITICAL (exit 2), "
		    "%zu critical, %zu warning", r.count[CA_MON_CRITICAL],
		    r.count[CA_MON_WARNING]);
	else
		hx_fail(h, "monitor at now+65d: state", "%s, want CRITICAL",
		    ca_mon_state_name(r.state));
	ret = mail_checks(h, &r, t65);
	ca_mon_report_free(&r);
	if (ret != 0)
		return ret;

	/* 85 days on: the leaves are inside the 7-day critical window. */
	if (ca_monitor_run(&r, &h->conf, t85, &e) != 0) {
		hx_fail(h, "monitor at now+85d", "%s", e.msg);
		return 0;
	}
	expect_state(h, &r, 85, CA_MON_CERT, "web", CA_MON_CRITICAL,
	    "5 days left, fewer than 7");
	expect_state(h, &r, 85, CA_MON_CERT, "long", CA_MON_OK,
	    "115 days left");
	ca_mon_report_free(&r);
	return 0;
}

/* ---- renewal ----------------------------------------------------------- */

static size_t
count_lines(const char *path)
{
	char *buf = NULL, *p;
	size_t len = 0, n = 0;

	if (ca_file_read_follow(&buf, &len, path, CA_MAX_FILE, NULL) != 0)
		return 0;
	for (p = buf; (p = memchr(p, '\n', len - (size_t)(p - buf))) != NULL;
	    p++)
		n++;
	free(buf);
	return n;
}

static void
issued_spki(char *buf, size_t len, struct ca *ca, const char *name)
{
	char *p = NULL;

	buf[0] = '\0';
	if (asprintf(&p, "%s/issued/%s/key.pem", ca->dir, name) >= 0)
		hx_file_spki(buf, len, p);
	free(p);
}

static void
renew_opts(struct hx *h, struct ca_renew_opts *o)
{
	*o = (struct ca_renew_opts)CA_RENEW_OPTS_INIT;
	o->leaf_days = h->conf.policy.leaf_days;
	o->leaf_key = h->conf.policy.leaf_key;
	o->renew_before_days = h->conf.policy.renew_before_days;
	o->revoke_superseded = h->conf.policy.revoke_superseded;
}

/* The daily run's CRL step, as tierca-renew takes it. */
static void
crls_if_due(struct hx *h, time_t t, char *why, size_t len)
{
	struct ca_crl_info ci;
	struct ca_err e = { 0 };
	enum ca_kind k;

	why[0] = '\0';
	for (k = CA_KIND_SERVER; k <= CA_KIND_CLIENT; k++) {
		int due = ca_crl_due(h->ca[k], h->conf.policy.crl_every_days, t,
		    &e);
		if (due < 0 || (due == 1 && ca_crl_generate(&ci, h->ca[k],
		    h->conf.policy.crl_days, t, &e) != 0)) {
			snprintf(why, len, "%s CRL: %.500s", hx_kind(k), e.msg);
			return;
		}
	}
}

static void
first_run(struct hx *h)
{
	const struct ca_renew_result *f = h->first;
	char bad[1800] = "";
	size_t i;

	for (i = 0; i < HX_T__MAX && bad[0] == '\0'; i++)
		if (f[i].error[0] || f[i].plan.action != CA_RENEW_ISSUE ||
		    f[i].serial[0] == '\0')
			snprintf(bad, sizeof(bad), "'%s': %s", h->tpls.v[i].name,
			    f[i].error[0] ? f[i].error : "not issued");
	if (bad[0])
		hx_fail(h, "first run issues every template", "%s", bad);
	else
		hx_pass(h, "first run issues every template", "%d templates "
		    "never issued, %d issued", HX_T__MAX, HX_T__MAX);
	if (f[HX_T_WEB].installed == 4 && f[HX_T_WEB].reload == CA_RELOAD_OK &&
	    f[HX_T_PINNED].installed == 2 &&
	    f[HX_T_PINNED].reload == CA_RELOAD_NONE &&
	    f[HX_T_ADMIN].installed == 0 && count_lines(h->hookfile) == 1)
		hx_pass(h, "first run installs and reloads", "web: 4 files and "
		    "one reload; pinned: 2 files, no reload command; admin: "
		    "nothing to install");
	else
		hx_fail(h, "first run installs and reloads", "web: %d files, "
		    "reload %s; pinned: %d files; admin: %d files; %zu reloads "
		    "logged", f[HX_T_WEB].installed,
		    ca_reload_result_name(f[HX_T_WEB].reload),
		    f[HX_T_PINNED].installed, f[HX_T_ADMIN].installed,
		    count_lines(h->hookfile));
}

int
hx_renewal(struct hx *h)
{
	struct ca_renew_result r[HX_T__MAX], again[HX_T__MAX];
	struct ca_renew_opts o;
	struct ca_db *db = NULL;
	struct ca_err e = { 0 };
	char before_spki[HX_T__MAX][65], after_spki[HX_T__MAX][65];
	char why[1800], crlwhy[600], inst[64];
	const time_t t1 = h->now + 65 * HX_DAY;
	size_t i, hooks;
	int ret = 0;

	first_run(h);
	renew_opts(h, &o);
	for (i = 0; i < HX_T__MAX; i++)
		issued_spki(before_spki[i], sizeof(before_spki[i]),
		    h->ca[h->tpls.v[i].ca], h->tpls.v[i].name);
	hooks = count_lines(h->hookfile);
	/* The hook under test, when one was given (testing the harness). */
	if (h->o->reload_hook != NULL) {
		char *hk = strdup(h->o->reload_hook);
		if (hk == NULL)
			return CA_ENOMEM;
		free(h->tpls.v[HX_T_WEB].reload);
		h->tpls.v[HX_T_WEB].reload = hk;
	}

	/* The run, 65 days on: what tierca-renew does on that day. */
	for (i = 0; i < HX_T__MAX; i++)
		(void)ca_renew_template(&r[i], h->ca[h->tpls.v[i].ca],
		    &h->tpls.v[i], &o, t1, NULL);
	crls_if_due(h, t1, crlwhy, sizeof(crlwhy));

	/* Renews what is due, leaves the rest. */
	why[0] = '\0';
	for (i = 0; i < HX_T__MAX && why[0] == '\0'; i++) {
		const char *n = h->tpls.v[i].name;
		if (i == HX_T_LONG)
			continue;
		if (r[i].plan.action != CA_RENEW_RENEW || r[i].serial[0] == '\0')
			snprintf(why, sizeof(why), "'%s': %s, %s", n,
			    ca_renew_action_name(r[i].plan.action),
			    r[i].error[0] ? r[i].error : "no new certificate");
		else if (strcmp(r[i].serial, h->first[i].serial) == 0)
			snprintf(why, sizeof(why), "'%s' kept serial %s", n,
			    r[i].serial);
		else if (r[i].not_after != t1 + 90 * HX_DAY)
			snprintf(why, sizeof(why), "'%s': the new certificate "
			    "does not run 90 days from the renewal", n);
	}
	if (why[0])
		hx_fail(h, "renews what is due", "%s", why);
	else
		hx_pass(h, "renews what is due", "web, pinned and admin (25 days "
		    "left) renewed for 90 days from now+65d");
	if (r[HX_T_LONG].plan.action == CA_RENEW_NONE &&
	    r[HX_T_LONG].serial[0] == '\0' &&
	    strcmp(r[HX_T_LONG].plan.serial, h->first[HX_T_LONG].serial) == 0)
		hx_pass(h, "leaves the rest", "long (135 days left) kept serial %s",
		    r[HX_T_LONG].plan.serial);
	else
		hx_fail(h, "leaves the rest", "long: %s%s%s",
		    ca_renew_action_name(r[HX_T_LONG].plan.action),
		    r[HX_T_LONG].error[0] ? ": " : "", r[HX_T_LONG].error);

	/* Keys: new ones, except where the template pins them. */
	for (i = 0; i < HX_T__MAX; i++)
		issued_spki(after_spki[i], sizeof(after_spki[i]),
		    h->ca[h->tpls.v[i].ca], h->tpls.v[i].name);
	if (before_spki[HX_T_WEB][0] && after_spki[HX_T_WEB][0] &&
	    strcmp(before_spki[HX_T_WEB], after_spki[HX_T_WEB]) != 0 &&
	    after_spki[HX_T_ADMIN][0] &&
	    strcmp(before_spki[HX_T_ADMIN], after_spki[HX_T_ADMIN]) != 0 &&
	    strcmp(before_spki[HX_T_LONG], after_spki[HX_T_LONG]) == 0)
		hx_pass(h, "rotates keys", "web and admin have new keys");
	else
		hx_fail(h, "rotates keys", "web or admin kept its key, or long's "
		    "changed");
	if (before_spki[HX_T_PINNED][0] &&
	    strcmp(before_spki[HX_T_PINNED], after_spki[HX_T_PINNED]) == 0)
		hx_pass(h, "keeps a pinned key", "pinned (rotate_key = false) "
		    "renewed with its key");
	else
		hx_fail(h, "keeps a pinned key", "pinned got a new key");

	/* Installed: the new certificates and their keys. */
	why[0] = '\0';
	for (i = 0; i < HX_T__MAX && why[0] == '\0'; i++) {
		const struct ca_template *t = &h->tpls.v[i];
		char spki[65];
		if (t->install.cert == NULL)
			continue;
		ca_installed_serial(inst, sizeof(inst), t);
		hx_file_spki(spki, sizeof(spki), t->install.key);
		if (strcmp(inst, r[i].serial) != 0)
			snprintf(why, sizeof(why), "'%s' installed serial %s, "
			    "renewed %s", t->name, inst, r[i].serial);
		else if (strcmp(spki, after_spki[i]) != 0)
			snprintf(why, sizeof(why), "'%s': the installed key is not "
			    "the new one", t->name);
	}
	if (why[0])
		hx_fail(h, "installs the renewed certificates", "%s", why);
	else
		hx_pass(h, "installs the renewed certificates", "web and pinned: "
		    "new certificate and its key in place");

	/* The reload hook ran, once. */
	if (r[HX_T_WEB].reload == CA_RELOAD_OK && (h->o->reload_hook != NULL ||
	    count_lines(h->hookfile) == hooks + 1))
		hx_pass(h, "runs the reload hook", "web's reload ran once%s",
		    h->o->reload_hook ? " (the hook given)" : " (it appended to "
		    "the hook's log)");
	else
		hx_fail(h, "runs the reload hook", "web: reload %s%s%s; %zu new "
		    "lines in the hook's log",
		    ca_reload_result_name(r[HX_T_WEB].reload),
		    r[HX_T_WEB].error[0] ? ": " : "", r[HX_T_WEB].error,
		    count_lines(h->hookfile) - hooks);

	/* Superseded certificates revoked, and on the fresh CRL. */
	snprintf(why, sizeof(why), "%s", crlwhy);
	if (why[0] == '\0' && ca_list(&db, h->ca[CA_KIND_SERVER], &e) != 0)
		snprintf(why, sizeof(why), "%s", e.msg);
	for (i = 0; db != NULL && i < HX_T__MAX && why[0] == '\0'; i++) {
		struct ca_db_entry *d;
		if (h->tpls.v[i].ca != CA_KIND_SERVER || i == HX_T_LONG)
			continue;
		d = ca_db_find_serial(db, h->first[i].serial);
		if (d == NULL || d->status != 'R' ||
		    d->reason != CA_REASON_SUPERSEDED)
			snprintf(why, sizeof(why), "'%s': the replaced serial %s "
			    "is not revoked as superseded", h->tpls.v[i].name,
			    h->first[i].serial);
	}
	ca_db_free(db);
	db = NULL;
	if (why[0] == '\0') {
		gnutls_x509_crl_t crl = NULL;
		struct hx_crl_entry *ents = NULL;
		size_t n = 0, j, listed = 0;
		char *p = ca_path(h->ca[CA_KIND_SERVER], "crl.pem");
		if (p == NULL)
			return CA_ENOMEM;
		if (ca_crl_load(&crl, p, &e) != 0 ||
		    hx_crl_entries(&ents, &n, crl, &e) != 0)
			snprintf(why, sizeof(why), "%s", e.msg);
		else if (gnutls_x509_crl_get_this_update(crl) != t1 ||
		    gnutls_x509_crl_get_next_update(crl) != t1 +
		    h->conf.policy.crl_days * HX_DAY)
			snprintf(why, sizeof(why), "the server CRL was not "
			    "regenerated at now+65d");
		for (j = 0; j < n && why[0] == '\0'; j++)
			if ((strcmp(ents[j].serial, h->first[HX_T_WEB].serial) ==
			    0 || strcmp(ents[j].serial,
			    h->first[HX_T_PINNED].serial) == 0) &&
			    ents[j].reason == CA_REASON_SUPERSEDED)
				listed++;
		if (why[0] == '\0' && listed != 2)
			snprintf(why, sizeof(why), "the regenerated server CRL "
			    "lists %zu of the 2 superseded certificates", listed);
		free(ents);
		free(p);
		if (crl != NULL)
			gnutls_x509_crl_deinit(crl);
	}
	if (why[0])
		hx_fail(h, "revokes the superseded and refreshes the CRL", "%s",
		    why);
	else
		hx_pass(h, "revokes the superseded and refreshes the CRL",
		    "the replaced web and pinned certificates are revoked "
		    "(superseded) and on the server CRL made at now+65d");

	/* The renewed certificate verifies on the day. */
	{
		gnutls_x509_crt_t c = NULL;
		memset(&e, 0, sizeof(e));
		if (hx_load_issued(&c, h->ca[CA_KIND_SERVER], r[HX_T_WEB].serial,
		    &e) != 0 || ca_verify_chain(c, &h->ca[CA_KIND_SERVER]->crt, 1,
		    &h->root, 1, NULL, 0, GNUTLS_KP_TLS_WWW_SERVER, t1, &e) != 0)
			hx_fail(h, "renewed certificate verifies", "%s", e.msg);
		else
			hx_pass(h, "renewed certificate verifies", "web serial %s, "
			    "at now+65d", r[HX_T_WEB].serial);
		if (c != NULL)
			gnutls_x509_crt_deinit(c);
	}

	/* A second run on the same day has nothing to do. */
	hooks = count_lines(h->hookfile);
	why[0] = '\0';
	for (i = 0; i < HX_T__MAX; i++) {
		(void)ca_renew_template(&again[i], h->ca[h->tpls.v[i].ca],
		    &h->tpls.v[i], &o, t1, NULL);
		if (why[0] == '\0' && (again[i].plan.action != CA_RENEW_NONE ||
		    again[i].serial[0] || again[i].installed ||
		    again[i].reload != CA_RELOAD_NONE))
			snprintf(why, sizeof(why), "'%s': %s%s%s",
			    h->tpls.v[i].name,
			    ca_renew_action_name(again[i].plan.action),
			    again[i].error[0] ? ": " : "", again[i].error);
	}
	if (why[0] == '\0' && count_lines(h->hookfile) != hooks)
		snprintf(why, sizeof(why), "the hook ran again");
	if (why[0])
		hx_fail(h, "a second run changes nothing", "%s", why);
	else
		hx_pass(h, "a second run changes nothing", "every template "
		    "current, no reload");
	/* What the renewals wrote keeps the invariants. */
	hx_ca_dirs(h, "after renewal");
	return ret;
}
