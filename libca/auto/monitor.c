/*
 * monitor.c - tierca-monitor's checks: every current certificate of each
 * CA database, the CA certificates themselves, the CRLs, the files the
 * templates install and live TLS endpoints, each judged OK, WARNING,
 * CRITICAL or UNKNOWN (the monitoring-plugin states). Output for machines
 * (the Prometheus textfile) and for people (the alert mail) is made here
 * too; the table and JSON are the tool's.
 *
 * Nothing here takes a CA's lock or needs a key: the monitor only reads,
 * and may run as a user that can read no key at all.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auto/auto-int.h"

#define DAY 86400

/* ---- states ------------------------------------------------------------ */

const char *
ca_mon_state_name(enum ca_mon_state s)
{
	static const char *const names[] = { "OK", "WARNING", "CRITICAL",
		"UNKNOWN" };

	return (unsigned)s < CA_MON__MAX ? names[s] : "UNKNOWN";
}

const char *
ca_mon_kind_name(enum ca_mon_kind k)
{
	static const char *const names[] = { "certificate", "ca", "crl",
		"installed", "endpoint", "config" };

	return (unsigned)k < CA_MON_KIND__MAX ? names[k] : "?";
}

/* Rank by severity: CRITICAL is worse than not knowing. */
static int
rank(enum ca_mon_state s)
{
	switch (s) {
	case CA_MON_OK: return 0;
	case CA_MON_WARNING: return 1;
	case CA_MON_UNKNOWN: return 2;
	case CA_MON_CRITICAL: return 3;
	default: return 2;
	}
}

enum ca_mon_state
ca_mon_worst(enum ca_mon_state a, enum ca_mon_state b)
{
	return rank(a) >= rank(b) ? a : b;
}

long long
ca_mon_days_left(time_t t, time_t now)
{
	long long d = (long long)t - (long long)now;

	/* Rounded down: an hour past the end is day -1, not 0. */
	if (d >= 0)
		return d / DAY;
	return -((-d + DAY - 1) / DAY);
}

enum ca_mon_state
ca_mon_expiry_state(time_t t, time_t now, int warn_days, int crit_days)
{
	long long d = (long long)t - (long long)now;
	long long days;

	if (d <= 0)
		return CA_MON_CRITICAL;
	/* Whole days, rounded up: renewal runs daily, so a certificate at
	 * 29.9 days (renew_before_days = warn_days = 30) is on schedule and
	 * renewed by the next run; one at 29.0 or less missed a run. */
	days = (d + DAY - 1) / DAY;
	if (days < crit_days)
		return CA_MON_CRITICAL;
	if (days < warn_days)
		return CA_MON_WARNING;
	return CA_MON_OK;
}

/* ---- the report -------------------------------------------------------- */

static void
check_clear(struct ca_mon_check *c)
{
	free(c->name);
	free(c->ca);
	free(c->path);
	free(c->detail);
	memset(c, 0, sizeof(*c));
}

void
ca_mon_report_free(struct ca_mon_report *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->n; i++)
		check_clear(&r->v[i]);
	free(r->v);
	memset(r, 0, sizeof(*r));
}

int
ca_mon_add(struct ca_mon_report *r, enum ca_mon_kind kind,
    enum ca_mon_state state, const char *name, const char *ca,
    const char *serial, const time_t *not_after, const char *path,
    const char *fmt, ...)
{
	struct ca_mon_check *c;
	va_list ap;
	int n;

	if ((unsigned)state >= CA_MON__MAX ||
	    (unsigned)kind >= CA_MON_KIND__MAX)
		return CA_EINVAL;
	if (r->n == r->cap) {
		size_t nc = r->cap ? r->cap * 2 : 32;
		struct ca_mon_check *nv = realloc(r->v, nc * sizeof(*nv));
		if (nv == NULL)
			return CA_ENOMEM;
		r->v = nv;
		r->cap = nc;
	}
	c = &r->v[r->n];
	memset(c, 0, sizeof(*c));
	c->kind = kind;
	c->state = state;
	if (serial != NULL)
		snprintf(c->serial, sizeof(c->serial), "%s", serial);
	if (not_after != NULL) {
		c->has_time = 1;
		c->not_after = *not_after;
	}
	c->name = strdup(name != NULL ? name : "");
	c->ca = ca_strdup(ca);
	c->path = ca_strdup(path);
	va_start(ap, fmt);
	n = vasprintf(&c->detail, fmt, ap);
	va_end(ap);
	if (n < 0)
		c->detail = NULL;
	if (c->name == NULL || c->detail == NULL || (ca != NULL &&
	    c->ca == NULL) || (path != NULL && c->path == NULL)) {
		check_clear(c);
		return CA_ENOMEM;
	}
	r->n++;
	r->count[state]++;
	r->state = ca_mon_worst(r->state, state);
	return 0;
}

static int
by_severity(const void *a, const void *b)
{
	const struct ca_mon_check *x = a, *y = b;
	int c;

	if (rank(x->state) != rank(y->state))
		return rank(y->state) - rank(x->state);
	/* Checks with a date before those without; soonest first. */
	if (x->has_time != y->has_time)
		return y->has_time - x->has_time;
	if (x->has_time && x->not_after != y->not_after)
		return x->not_after < y->not_after ? -1 : 1;
	if (x->kind != y->kind)
		return (int)x->kind - (int)y->kind;
	if ((c = strcmp(x->ca ? x->ca : "", y->ca ? y->ca : "")) != 0)
		return c;
	if ((c = strcmp(x->name, y->name)) != 0)
		return c;
	return strcmp(x->serial, y->serial);
}

void
ca_mon_report_sort(struct ca_mon_report *r)
{
	if (r->n > 1)
		qsort(r->v, r->n, sizeof(*r->v), by_severity);
}

/* ---- the scan ---------------------------------------------------------- */

struct mon_ca {
	const char *dir;   /* from the configuration; NULL: none */
	struct ca *ca;     /* NULL when it could not be opened */
	struct ca_db *db;  /* NULL when index.txt could not be read */
	struct ca_db_byname ix; /* db by name: lookups in O(log n) */
};

struct mon {
	const struct ca_conf *conf;
	time_t now;
	struct ca_mon_report *r;
	struct mon_ca cas[CA_KIND__MAX];
	gnutls_x509_crt_t root; /* borrowed: the root dir's or an ICA's copy */
	struct ca_templates tpls;  /* empty when none, or unloadable */
	const struct ca_template **tsorted; /* tpls by CA kind and name */
	int tpls_ok;               /* loaded (else tpl_err says why) */
	struct ca_err tpl_err;
};

static int
tpl_cmp(enum ca_kind ka, const char *na, enum ca_kind kb, const char *nb)
{
	if (ka != kb)
		return ka < kb ? -1 : 1;
	return strcmp(na, nb);
}

static int
by_kind_name(const void *a, const void *b)
{
	const struct ca_template *x = *(const struct ca_template *const *)a;
	const struct ca_template *y = *(const struct ca_template *const *)b;

	return tpl_cmp(x->ca, x->name, y->ca, y->name);
}

/* The templates sorted once, so that asking about each of 10,000 names
 * is a binary search rather than a walk over every template. */
static int
sort_templates(struct mon *m)
{
	size_t i;

	if (m->tpls.n == 0)
		return 0;
	if ((m->tsorted = calloc(m->tpls.n, sizeof(*m->tsorted))) == NULL)
		return CA_ENOMEM;
	for (i = 0; i < m->tpls.n; i++)
		m->tsorted[i] = &m->tpls.v[i];
	qsort(m->tsorted, m->tpls.n, sizeof(*m->tsorted), by_kind_name);
	return 0;
}

/* Whether tierca-renew looks after this name of this CA. */
static int
templated(const struct mon *m, enum ca_kind k, const char *name)
{
	size_t lo = 0, hi = m->tsorted != NULL ? m->tpls.n : 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = tpl_cmp(m->tsorted[mid]->ca, m->tsorted[mid]->name, k,
		    name);
		if (c == 0)
			return 1;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

static const char *
kname(enum ca_kind k)
{
	return ca_kind_name(k);
}

/* Opens each configured CA without its lock (the monitor only reads; a
 * torn last index line is ignored by ca_db_load, as it never counted). */
static int
open_cas(struct mon *m)
{
	const char *dirs[CA_KIND__MAX];
	struct ca_err e;
	enum ca_kind k;
	int ret;

	dirs[CA_KIND_ROOT] = m->conf->root_dir;
	dirs[CA_KIND_SERVER] = m->conf->server_dir;
	dirs[CA_KIND_CLIENT] = m->conf->client_dir;
	for (k = 0; k < CA_KIND__MAX; k++) {
		struct mon_ca *c = &m->cas[k];
		if ((c->dir = dirs[k]) == NULL)
			continue;
		memset(&e, 0, sizeof(e));
		if (ca_open(&c->ca, c->dir, 0, &e) != 0) {
			if ((ret = ca_mon_add(m->r, CA_MON_CONFIG,
			    CA_MON_UNKNOWN, kname(k), kname(k), NULL, NULL,
			    c->dir, "%s.dir: %s", kname(k), e.msg)) != 0)
				return ret;
			continue;
		}
		if (c->ca->kind != k) {
			ret = ca_mon_add(m->r, CA_MON_CONFIG, CA_MON_UNKNOWN,
			    kname(k), kname(k), NULL, NULL, c->dir, "%s.dir "
			    "'%s' holds the %s CA, not the %s one", kname(k),
			    c->dir, kname(c->ca->kind), kname(k));
			ca_close(c->ca);
			c->ca = NULL;
			if (ret != 0)
				return ret;
			continue;
		}
		memset(&e, 0, sizeof(e));
		if (ca_list(&c->db, c->ca, &e) != 0) {
			/* A corrupt database stops every issuance and
			 * renewal. */
			enum ca_mon_state st = e.code == CA_EDB ?
			    CA_MON_CRITICAL : CA_MON_UNKNOWN;
			if ((ret = ca_mon_add(m->r, CA_MON_CONFIG, st,
			    kname(k), kname(k), NULL, NULL, c->dir, "%s",
			    e.msg)) != 0)
				return ret;
		} else if (ca_db_byname_build(&c->ix, c->db, NULL) != 0)
			return CA_ENOMEM;
	}
	if (m->cas[CA_KIND_ROOT].ca != NULL)
		m->root = m->cas[CA_KIND_ROOT].ca->crt;
	if (m->root == NULL && m->cas[CA_KIND_SERVER].ca != NULL)
		m->root = m->cas[CA_KIND_SERVER].ca->root;
	if (m->root == NULL && m->cas[CA_KIND_CLIENT].ca != NULL)
		m->root = m->cas[CA_KIND_CLIENT].ca->root;
	return 0;
}

static void
close_cas(struct mon *m)
{
	enum ca_kind k;

	for (k = 0; k < CA_KIND__MAX; k++) {
		ca_db_byname_free(&m->cas[k].ix);
		ca_db_free(m->cas[k].db);
		ca_close(m->cas[k].ca);
	}
}

/* The newest entry of a name (ca_find would take a hex-looking name for
 * a serial). */
static struct ca_db_entry *
newest_of(const struct mon_ca *c, const char *name)
{
	return ca_db_byname_newest(&c->ix, name);
}

static int
same_serial(const char *a, const char *b)
{
	struct ca_serial x, y;

	if (ca_serial_from_hex(&x, a) != 0 || ca_serial_from_hex(&y, b) != 0)
		return 0;
	return strcmp(x.hex, y.hex) == 0;
}

/* The CA certificates: an intermediate against the leaves it must cover,
 * the root against the intermediates. */
static int
check_ca_cert(struct mon *m, enum ca_kind k, gnutls_x509_crt_t crt,
    const char *path)
{
	const struct ca_conf *cf = m->conf;
	char serial[44] = "", date[32];
	time_t na;
	enum ca_mon_state st;
	long long days;
	int warn, crit;

	if (crt == NULL)
		return ca_mon_add(m->r, CA_MON_CA, CA_MON_CRITICAL, kname(k),
		    kname(k), NULL, NULL, path, "no CA certificate: take "
		    "ca.csr to the root and run 'tierca-ica install'");
	ca_cert_serial_hex(serial, sizeof(serial), crt);
	na = gnutls_x509_crt_get_expiration_time(crt);
	ca_time_format(date, sizeof(date), na);
	days = ca_mon_days_left(na, m->now);
	if (k == CA_KIND_ROOT) {
		crit = CA_MON_ICA_DAYS;
		warn = CA_MON_ICA_DAYS + CA_MON_ROOT_MARGIN_DAYS;
	} else {
		crit = cf->policy.leaf_days;
		warn = cf->policy.leaf_days + cf->policy.renew_before_days;
	}
	st = ca_mon_expiry_state(na, m->now, warn, crit);
	if (na <= m->now)
		return ca_mon_add(m->r, CA_MON_CA, st, kname(k), kname(k),
		    serial, &na, path, "expired on %s: nothing it signed is "
		    "valid; %s", date, k == CA_KIND_ROOT ? "make a new root" :
		    "have the root sign a new intermediate");
	/* Revoked by the root, when this host has the root's database. */
	if (k != CA_KIND_ROOT && m->cas[CA_KIND_ROOT].db != NULL) {
		struct ca_db_entry *e =
		    ca_db_find_serial(m->cas[CA_KIND_ROOT].db, serial);
		if (e != NULL && e->status == 'R')
			return ca_mon_add(m->r, CA_MON_CA, CA_MON_CRITICAL,
			    kname(k), kname(k), serial, &na, path, "revoked by "
			    "the root (%s): install a new intermediate",
			    ca_reason_name(e->reason));
	}
	if (st == CA_MON_CRITICAL)
		return ca_mon_add(m->r, CA_MON_CA, st, kname(k), kname(k),
		    serial, &na, path, "%lld days left, fewer than %d: %s",
		    days, crit, k == CA_KIND_ROOT ? "new intermediates are cut "
		    "short; make a new root" : "new leaves are cut short; have "
		    "the root sign a new intermediate");
	if (st == CA_MON_WARNING)
		return ca_mon_add(m->r, CA_MON_CA, st, kname(k), kname(k),
		    serial, &na, path, "%lld days left, fewer than %d: %s",
		    days, warn, k == CA_KIND_ROOT ? "plan a new root at the "
		    "next ceremony" : "have the root sign a new intermediate "
		    "before leaves are cut short");
	return ca_mon_add(m->r, CA_MON_CA, st, kname(k), kname(k), serial, &na,
	    path, "%s", "");
}

static int
check_cas(struct mon *m)
{
	enum ca_kind k;
	int ret;

	for (k = 0; k < CA_KIND__MAX; k++) {
		struct mon_ca *c = &m->cas[k];
		char *p;
		if (c->ca == NULL)
			continue;
		if ((p = ca_path(c->ca, "ca.crt")) == NULL)
			return CA_ENOMEM;
		ret = check_ca_cert(m, k, c->ca->crt, p);
		free(p);
		if (ret != 0)
			return ret;
	}
	/* No root directory here (the usual CA host): the root the
	 * intermediates chain to is still watched. */
	if (m->cas[CA_KIND_ROOT].ca == NULL && m->root != NULL) {
		struct ca *s = m->cas[CA_KIND_SERVER].ca;
		enum ca_kind from = s != NULL && s->root == m->root ?
		    CA_KIND_SERVER : CA_KIND_CLIENT;
		char *p;
		/* A CA that is its own root (imported from easy-rsa) was
		 * judged above as what it is: a CA that issues leaves. */
		if (ca_self_rooted(m->cas[from].ca))
			return 0;
		if ((p = ca_path(m->cas[from].ca, "root.crt")) == NULL)
			return CA_ENOMEM;
		ret = check_ca_cert(m, CA_KIND_ROOT, m->root, p);
		free(p);
		return ret;
	}
	return 0;
}

/* A CRL is CRITICAL when missing, unreadable, not the CA's, not yet or
 * no longer valid: servers that check it then refuse every client. An
 * intermediate's CRL is remade whenever fewer than crl_every_days are
 * left (crl --if-due), so less than that means the daily job is not
 * running: WARNING. The root's, made at a ceremony, warns 30 days ahead. */
static int
check_crl_file(struct mon *m, enum ca_kind k, const char *name,
    const char *p, gnutls_x509_crt_t issuer, const struct ca_db *db,
    const char *fix)
{
	gnutls_x509_crl_t crl = NULL;
	struct ca_err e = { 0 };
	char date[32];
	time_t tu, nu;
	size_t i, nrev = 0;
	int n, warn, ret;

	if (!ca_file_exists(p)) {
		ret = ca_mon_add(m->r, CA_MON_CRL, CA_MON_CRITICAL, name,
		    kname(k), NULL, NULL, p, "no CRL: servers that check it "
		    "refuse every client; %s", fix);
		goto out;
	}
	if (ca_crl_load(&crl, p, &e) != 0) {
		ret = ca_mon_add(m->r, CA_MON_CRL, CA_MON_CRITICAL, name,
		    kname(k), NULL, NULL, p, "%s; %s", e.msg, fix);
		goto out;
	}
	tu = gnutls_x509_crl_get_this_update(crl);
	nu = gnutls_x509_crl_get_next_update(crl);
	if (issuer != NULL && !ca_crl_signed_by(crl, issuer)) {
		ret = ca_mon_add(m->r, CA_MON_CRL, CA_MON_CRITICAL, name,
		    kname(k), NULL, NULL, p, "not signed by the %s CA; %s",
		    kname(k), fix);
		goto out;
	}
	if (nu == (time_t)-1) {
		ret = ca_mon_add(m->r, CA_MON_CRL, CA_MON_CRITICAL, name,
		    kname(k), NULL, NULL, p, "no nextUpdate; %s", fix);
		goto out;
	}
	ca_time_format(date, sizeof(date), nu);
	if (nu <= m->now) {
		ret = ca_mon_add(m->r, CA_MON_CRL, CA_MON_CRITICAL, name,
		    kname(k), NULL, &nu, p, "expired on %s: servers that check "
		    "it refuse every client; %s", date, fix);
		goto out;
	}
	if (tu > m->now) {
		ca_time_format(date, sizeof(date), tu);
		ret = ca_mon_add(m->r, CA_MON_CRL, CA_MON_CRITICAL, name,
		    kname(k), NULL, &nu, p, "not valid before %s (clock?): "
		    "verifiers refuse it; %s", date, fix);
		goto out;
	}
	if (db != NULL) {
		for (i = 0; i < db->n; i++)
			if (db->v[i].status == 'R')
				nrev++;
		n = gnutls_x509_crl_get_crt_count(crl);
		if (n >= 0 && (size_t)n < nrev) {
			ret = ca_mon_add(m->r, CA_MON_CRL, CA_MON_WARNING,
			    name, kname(k), NULL, &nu, p, "lists %d "
			    "revocations, index.txt %zu: the newer ones do not "
			    "count yet; %s", n, nrev, fix);
			goto out;
		}
	}
	warn = k == CA_KIND_ROOT ? CA_MON_ROOT_CRL_WARN_DAYS :
	    m->conf->policy.crl_every_days;
	if (nu - m->now < (time_t)warn * DAY) {
		ret = ca_mon_add(m->r, CA_MON_CRL, CA_MON_WARNING, name,
		    kname(k), NULL, &nu, p, "next update %s, in fewer than %d "
		    "days%s; %s", date, warn, k == CA_KIND_ROOT ? "" : " (is "
		    "the daily 'crl --if-due' running?)", fix);
		goto out;
	}
	ret = ca_mon_add(m->r, CA_MON_CRL, CA_MON_OK, name, kname(k), NULL,
	    &nu, p, "%s", "");
out:
	if (crl != NULL)
		gnutls_x509_crl_deinit(crl);
	return ret;
}

static int
check_crl(struct mon *m, enum ca_kind k)
{
	struct mon_ca *c = &m->cas[k];
	char *p, fix[512];
	int ret;

	if (c->ca == NULL)
		return 0;
	if (k == CA_KIND_ROOT)
		snprintf(fix, sizeof(fix), "sign a new one at a root ceremony "
		    "(tierca-root crl --dir %s)", c->dir);
	else
		snprintf(fix, sizeof(fix), "run 'tierca-ica crl --dir %s'",
		    c->dir);
	if ((p = ca_path(c->ca, "crl.pem")) == NULL)
		return CA_ENOMEM;
	ret = check_crl_file(m, k, kname(k), p, c->ca->crt, c->db, fix);
	free(p);
	return ret;
}

/* The copies of the root's CRL on this host (which has no root
 * directory): monitor.root_crl, where it is published, and the one each
 * intermediate took with 'tierca-ica root-crl' for its CRL bundle. Each
 * is judged like the root's own, against the root. */
static int
check_root_crl_copy(struct mon *m)
{
	const char *p = m->conf->monitor.root_crl;
	enum ca_kind k;
	int ret = 0;

	if (p != NULL && (ret = check_crl_file(m, CA_KIND_ROOT, "root-crl", p,
	    m->root, m->cas[CA_KIND_ROOT].db, "sign a new one at a root "
	    "ceremony (tierca-root crl) and publish it here")) != 0)
		return ret;
	for (k = CA_KIND_SERVER; k <= CA_KIND_CLIENT && ret == 0; k++) {
		struct ca *ca = m->cas[k].ca;
		char *cp, name[32], fix[600];
		if (ca == NULL || ca->root == NULL)
			continue;
		if ((cp = ca_path(ca, "root-crl.pem")) == NULL)
			return CA_ENOMEM;
		snprintf(name, sizeof(name), "root-crl-%s", kname(k));
		snprintf(fix, sizeof(fix), "sign a new one at a root ceremony "
		    "(tierca-root crl), take it with 'tierca-ica root-crl "
		    "--dir %s' and export the CRL bundle again", m->cas[k].dir);
		if (ca_file_exists(cp))
			ret = check_crl_file(m, CA_KIND_ROOT, name, cp, ca->root,
			    m->cas[CA_KIND_ROOT].db, fix);
		free(cp);
	}
	return ret;
}

/* The detail of a certificate judged by its days left. */
static int
add_expiry(struct mon *m, enum ca_mon_kind kind, enum ca_mon_state st,
    const char *name, const char *ca, const char *serial, time_t na,
    const char *path, int warn, int crit, const char *fix)
{
	char date[32];
	long long days = ca_mon_days_left(na, m->now);

	ca_time_format(date, sizeof(date), na);
	if (na <= m->now)
		return ca_mon_add(m->r, kind, st, name, ca, serial, &na, path,
		    "expired on %s: %s", date, fix);
	if (st == CA_MON_CRITICAL)
		return ca_mon_add(m->r, kind, st, name, ca, serial, &na, path,
		    "%lld days left, fewer than %d, act today: %s", days, crit,
		    fix);
	if (st == CA_MON_WARNING)
		return ca_mon_add(m->r, kind, st, name, ca, serial, &na, path,
		    "%lld days left, fewer than %d: %s", days, warn, fix);
	return ca_mon_add(m->r, kind, st, name, ca, serial, &na, path, "%s",
	    "");
}

/* The current certificate of every name in a database (ca_due: its
 * newest entry, when valid). Superseded and revoked ones are history,
 * not alerts. The root's database holds the intermediates; the installed
 * ones are watched as CA certificates already. */
static int
check_issued(struct mon *m, enum ca_kind k)
{
	const struct ca_conf *cf = m->conf;
	struct ca_db *db = m->cas[k].db;
	struct ca_db_entry **v = NULL;
	struct ca_err e = { 0 };
	size_t i, n = 0;
	int ret = 0, warn, crit;
	char fix[512];

	if (db == NULL)
		return 0;
	if ((ret = ca_due(&v, &n, db, m->now, INT_MAX, &e)) != 0)
		return ret;
	if (k == CA_KIND_ROOT) {
		warn = cf->policy.leaf_days + cf->policy.renew_before_days;
		crit = cf->policy.leaf_days;
	} else {
		warn = cf->monitor.warn_days;
		crit = cf->monitor.critical_days;
	}
	for (i = 0; i < n && ret == 0; i++) {
		enum ca_mon_state st;
		if (k == CA_KIND_ROOT) {
			enum ca_kind j;
			int seen = 0;
			char s[44];
			for (j = CA_KIND_SERVER; j <= CA_KIND_CLIENT; j++)
				if (m->cas[j].ca != NULL &&
				    m->cas[j].ca->crt != NULL &&
				    ca_cert_serial_hex(s, sizeof(s),
				    m->cas[j].ca->crt) == 0 && same_serial(s,
				    v[i]->serial))
					seen = 1;
			if (seen)
				continue;
		}
		st = ca_mon_expiry_state(v[i]->not_after, m->now, warn, crit);
		if (k == CA_KIND_ROOT)
			snprintf(fix, sizeof(fix), "have the root sign a new "
			    "intermediate");
		else if (templated(m, k, v[i]->name))
			snprintf(fix, sizeof(fix), "tierca-renew renews it: is "
			    "the daily job running? Read its errors");
		else
			snprintf(fix, sizeof(fix), "no template: reissue it "
			    "('tierca-ica issue --dir %s %s --replace ...' or "
			    "'sign'), or revoke it if it is no longer used",
			    m->cas[k].dir, v[i]->name);
		ret = add_expiry(m, CA_MON_CERT, st, v[i]->name, kname(k),
		    v[i]->serial, v[i]->not_after, NULL, warn, crit, fix);
	}
	free(v);
	return ret;
}

/* ---- installed files --------------------------------------------------- */

/* Reads an installed file. Unlike the CA's own files, a symlink is
 * followed: the monitor only reads, and operators link certificates. */
static int
slurp(gnutls_datum_t *out, const char *path, int *eno)
{
	struct stat st;
	unsigned char *buf = NULL;
	size_t got = 0;
	ssize_t r;
	int fd;

	out->data = NULL;
	out->size = 0;
	*eno = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1) {
		*eno = errno;
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (size_t)st.st_size > CA_MAX_FILE) {
		*eno = S_ISREG(st.st_mode) ? EFBIG : EINVAL;
		close(fd);
		return -1;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		*eno = ENOMEM;
		return -1;
	}
	while (got < (size_t)st.st_size) {
		r = read(fd, buf + got, (size_t)st.st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			*eno = r < 0 ? errno : EIO;
			close(fd);
			free(buf);
			return -1;
		}
		got += (size_t)r;
	}
	close(fd);
	buf[got] = '\0';
	out->data = buf;
	out->size = (unsigned)got;
	return 0;
}

static void
datum_free(gnutls_datum_t *d)
{
	if (d->data != NULL) {
		gnutls_memset(d->data, 0, d->size);
		free(d->data);
	}
	d->data = NULL;
	d->size = 0;
}

/* 0: parsed; -1: no such file (*eno) or unreadable; -2: not a
 * certificate. */
static int
load_installed(gnutls_x509_crt_t *out, const char *path, int *eno)
{
	gnutls_datum_t d;
	int ret;

	*out = NULL;
	if (slurp(&d, path, eno) != 0)
		return -1;
	if (gnutls_x509_crt_init(out) < 0) {
		datum_free(&d);
		*eno = ENOMEM;
		return -1;
	}
	ret = gnutls_x509_crt_import(*out, &d, ca_fmt_of(&d));
	datum_free(&d);
	if (ret < 0) {
		gnutls_x509_crt_deinit(*out);
		*out = NULL;
		return -2;
	}
	return 0;
}

/* As load_installed(), for what every installed certificate is checked
 * for: serial and notAfter, without a full X.509 parse (10,000 of those
 * were half a scan's time). */
static int
peek_installed(struct ca_cert_peek *out, const char *path, int *eno)
{
	gnutls_datum_t d;
	int ret;

	if (slurp(&d, path, eno) != 0)
		return -1;
	ret = ca_cert_peek(out, d.data, d.size) == 0 ? 0 : -2;
	datum_free(&d);
	return ret;
}

/* 1: matches, 0: does not, -1: unreadable (*eno), -2: not a key,
 * -3: encrypted (cannot tell). */
static int
key_matches(gnutls_x509_crt_t crt, const char *path, int *eno)
{
	gnutls_x509_privkey_t k = NULL;
	gnutls_datum_t d;
	int ret;

	if (slurp(&d, path, eno) != 0)
		return -1;
	if (memmem(d.data, d.size, "ENCRYPTED", 9) != NULL) {
		datum_free(&d);
		return -3;
	}
	if (gnutls_x509_privkey_init(&k) < 0) {
		datum_free(&d);
		*eno = ENOMEM;
		return -1;
	}
	if (gnutls_x509_privkey_import2(k, &d, ca_fmt_of(&d), NULL,
	    GNUTLS_PKCS_PLAIN) < 0)
		ret = -2;
	else
		ret = ca_cert_matches_key(crt, k) ? 1 : 0;
	gnutls_x509_privkey_deinit(k);
	datum_free(&d);
	return ret;
}

static int
check_template(struct mon *m, const struct ca_template *t)
{
	const struct ca_conf *cf = m->conf;
	struct mon_ca *c = &m->cas[t->ca];
	const char *cp = t->install.cert ? t->install.cert :
	    t->install.fullchain;
	const char *ca = kname(t->ca);
	gnutls_x509_crt_t crt = NULL;
	struct ca_cert_peek pk;
	struct ca_db_entry *cur, *e;
	char serial[44] = "", s2[44] = "", date[32];
	enum ca_mon_state st;
	time_t na;
	int ret, eno, r;

	if (c->dir == NULL)
		return ca_mon_add(m->r, CA_MON_CONFIG, CA_MON_UNKNOWN, t->name,
		    ca, NULL, NULL, t->path, "template for the %s "
		    "intermediate, but the configuration has no %s.dir", ca,
		    ca);
	if (c->db == NULL)
		return 0; /* the CA's own check says why */
	cur = newest_of(c, t->name);
	if (cp == NULL) {
		/* Nothing to look at on disk; the database check watches the
		 * certificate itself. */
		if (cur != NULL)
			return 0;
		return ca_mon_add(m->r, CA_MON_INSTALLED, CA_MON_WARNING,
		    t->name, ca, NULL, NULL, t->path, "never issued: run "
		    "tierca-renew");
	}
	if ((r = peek_installed(&pk, cp, &eno)) == -1) {
		if (eno == ENOENT && cur == NULL)
			return ca_mon_add(m->r, CA_MON_INSTALLED,
			    CA_MON_WARNING, t->name, ca, NULL, NULL, cp,
			    "never issued nor installed: run tierca-renew");
		if (eno == ENOENT)
			return ca_mon_add(m->r, CA_MON_INSTALLED,
			    CA_MON_CRITICAL, t->name, ca, NULL, NULL, cp,
			    "missing: the service has no certificate; run "
			    "tierca-renew");
		return ca_mon_add(m->r, CA_MON_INSTALLED, CA_MON_UNKNOWN,
		    t->name, ca, NULL, NULL, cp, "cannot read: %s",
		    strerror(eno));
	}
	if (r == -2)
		return ca_mon_add(m->r, CA_MON_INSTALLED, CA_MON_CRITICAL,
		    t->name, ca, NULL, NULL, cp, "not a certificate: reinstall "
		    "it (tierca-renew)");
	snprintf(serial, sizeof(serial), "%s", pk.serial);
	na = pk.not_after;
	if (t->install.key != NULL) {
		/* The pair check needs the whole certificate. */
		if ((r = load_installed(&crt, cp, &eno)) != 0) {
			ret = ca_mon_add(m->r, CA_MON_INSTALLED, r == -1 ?
			    CA_MON_UNKNOWN : CA_MON_CRITICAL, t->name, ca, serial,
			    &na, cp, "%s%s", r == -1 ? "cannot read: " :
			    "not a certificate: reinstall it (tierca-renew)",
			    r == -1 ? strerror(eno) : "");
			goto out;
		}
		r = key_matches(crt, t->install.key, &eno);
		if (r == -1 && eno == ENOENT) {
			ret = ca_mon_add(m->r, CA_MON_INSTALLED,
			    CA_MON_CRITICAL, t->name, ca, serial, &na,
			    t->install.key, "key missing: run tierca-renew");
			goto out;
		}
		if (r == -1) {
			ret = ca_mon_add(m->r, CA_MON_INSTALLED, CA_MON_UNKNOWN,
			    t->name, ca, serial, &na, t->install.key, "cannot "
			    "read the key: %s (run the monitor as a user that "
			    "may)", strerror(eno));
			goto out;
		}
		if (r == -2 || r == 0) {
			ret = ca_mon_add(m->r, CA_MON_INSTALLED,
			    CA_MON_CRITICAL, t->name, ca, serial, &na, cp, "%s "
			    "'%s': the service cannot use the pair; run "
			    "tierca-renew", r == -2 ? "unreadable key" : "does "
			    "not match its key", t->install.key);
			goto out;
		}
	}
	if (t->install.fullchain != NULL && cp != t->install.fullchain) {
		struct ca_cert_peek fpk;
		r = peek_installed(&fpk, t->install.fullchain, &eno);
		if (r == 0)
			snprintf(s2, sizeof(s2), "%s", fpk.serial);
		if (r != 0 || strcmp(s2, serial) != 0) {
			ret = ca_mon_add(m->r, CA_MON_INSTALLED,
			    CA_MON_CRITICAL, t->name, ca, serial, &na,
			    t->install.fullchain, "%s%s%s: run tierca-renew",
			    r == -1 ? strerror(eno) : r == -2 ?
			    "not a certificate" : "holds serial ",
			    r == 0 ? s2 : "",
			    r == 0 ? ", not the one of 'cert'" : "");
			goto out;
		}
	}
	/* Usually the installed certificate is the name's newest: no
	 * search through the whole database for it. */
	if (cur != NULL && same_serial(cur->serial, serial))
		e = cur;
	else
		e = ca_db_find_serial(c->db, serial);
	if (e == NULL) {
		ret = ca_mon_add(m->r, CA_MON_INSTALLED, CA_MON_CRITICAL,
		    t->name, ca, serial, &na, cp, "serial %s is not in the %s "
		    "intermediate's database: installed from elsewhere? run "
		    "tierca-renew", serial, ca);
		goto out;
	}
	if (e->status == 'R') {
		ca_time_format(date, sizeof(date), e->revoked_at);
		ret = ca_mon_add(m->r, CA_MON_INSTALLED, CA_MON_CRITICAL,
		    t->name, ca, serial, &na, cp, "revoked on %s (%s): install "
		    "the current certificate (tierca-renew)", date,
		    ca_reason_name(e->reason));
		goto out;
	}
	if (strcmp(e->name, t->name) != 0) {
		ret = ca_mon_add(m->r, CA_MON_INSTALLED, CA_MON_CRITICAL,
		    t->name, ca, serial, &na, cp, "holds the certificate of "
		    "'%s', not of '%s': run tierca-renew", e->name, t->name);
		goto out;
	}
	st = ca_mon_expiry_state(na, m->now, cf->monitor.warn_days,
	    cf->monitor.critical_days);
	if (cur != NULL && cur != e && cur->status == 'V' && na > m->now) {
		/* Renewed, but the new pair never reached the service: the old
		 * one runs out while a good one waits in issued/NAME/. */
		ca_time_format(date, sizeof(date), cur->not_after);
		ret = ca_mon_add(m->r, CA_MON_INSTALLED, ca_mon_worst(st,
		    CA_MON_WARNING), t->name, ca, serial, &na, cp, "renewed "
		    "(serial %s, valid until %s) but not installed; the "
		    "installed one has %lld days left: run tierca-renew",
		    cur->serial, date, ca_mon_days_left(na, m->now));
		goto out;
	}
	ret = add_expiry(m, CA_MON_INSTALLED, st, t->name, ca, serial, na, cp,
	    cf->monitor.warn_days, cf->monitor.critical_days,
	    "renew and install it (tierca-renew)");
out:
	if (crt != NULL)
		gnutls_x509_crt_deinit(crt);
	return ret;
}

static int
check_templates(struct mon *m)
{
	size_t i;
	int ret = 0;

	if (m->conf->templates == NULL)
		return 0;
	if (!m->tpls_ok)
		return ca_mon_add(m->r, CA_MON_CONFIG, CA_MON_UNKNOWN,
		    "templates", NULL, NULL, NULL, m->conf->templates, "%s",
		    m->tpl_err.msg);
	for (i = 0; i < m->tpls.n && ret == 0; i++)
		ret = check_template(m, &m->tpls.v[i]);
	return ret;
}

/* ---- endpoints --------------------------------------------------------- */

/* The host of "host:port" or "[v6]:port" (allocated), or NULL. */
static char *
host_of(const char *ep)
{
	const char *c;

	if (ep[0] == '[') {
		if ((c = strchr(ep, ']')) == NULL)
			return NULL;
		return strndup(ep + 1, (size_t)(c - ep - 1));
	}
	if ((c = strrchr(ep, ':')) == NULL)
		return NULL;
	return strndup(ep, (size_t)(c - ep));
}

static int
check_endpoint(struct mon *m, const char *ep)
{
	const struct ca_conf *cf = m->conf;
	gnutls_x509_crt_t *chain = NULL;
	struct ca_db_entry *e = NULL, *cur;
	struct ca_err err = { 0 };
	enum ca_kind k, found = CA_KIND__MAX;
	enum ca_mon_state st;
	char serial[44] = "", date[32], *host = NULL;
	size_t n = 0;
	time_t na;
	int ret;

	if (ca_endpoint_fetch(&chain, &n, ep, CA_MON_TIMEOUT_MS, &err) != 0)
		return ca_mon_add(m->r, CA_MON_ENDPOINT, CA_MON_UNKNOWN, ep,
		    NULL, NULL, NULL, NULL, "%s", err.msg);
	if ((host = host_of(ep)) == NULL) {
		ret = CA_ENOMEM;
		goto out;
	}
	ca_cert_serial_hex(serial, sizeof(serial), chain[0]);
	na = gnutls_x509_crt_get_expiration_time(chain[0]);
	for (k = CA_KIND_SERVER; k < CA_KIND__MAX && e == NULL; k++)
		if (m->cas[k].db != NULL &&
		    (e = ca_db_find_serial(m->cas[k].db, serial)) != NULL)
			found = k;
	st = ca_mon_expiry_state(na, m->now, cf->monitor.warn_days,
	    cf->monitor.critical_days);
	if (na <= m->now) {
		ret = add_expiry(m, CA_MON_ENDPOINT, st, ep,
		    found < CA_KIND__MAX ? kname(found) : NULL, serial, na,
		    NULL, 0, 0,
		    "install a current certificate and reload the service");
		goto out;
	}
	if (e != NULL && e->status == 'R') {
		ca_time_format(date, sizeof(date), e->revoked_at);
		ret = ca_mon_add(m->r, CA_MON_ENDPOINT, CA_MON_CRITICAL, ep,
		    kname(found), serial, &na, NULL, "serves '%s', revoked on "
		    "%s (%s): install the current certificate and reload",
		    e->name, date, ca_reason_name(e->reason));
		goto out;
	}
	if (e != NULL && m->root != NULL &&
	    ca_verify_chain(chain[0], chain + 1, n - 1, &m->root, 1, NULL, 0,
	    GNUTLS_KP_TLS_WWW_SERVER, m->now, &err) != 0) {
		size_t l = strlen(err.msg);
		while (l > 0 && (err.msg[l - 1] == ' ' ||
		    err.msg[l - 1] == '.'))
			err.msg[--l] = '\0';
		ret = ca_mon_add(m->r, CA_MON_ENDPOINT, CA_MON_CRITICAL, ep,
		    kname(found), serial, &na, NULL, "served %s; is "
		    "fullchain.pem configured?", err.msg);
		goto out;
	}
	if (!gnutls_x509_crt_check_hostname2(chain[0], host, 0)) {
		ret = ca_mon_add(m->r, CA_MON_ENDPOINT, CA_MON_CRITICAL, ep,
		    found < CA_KIND__MAX ? kname(found) : NULL, serial, &na,
		    NULL, "the served certificate is not for '%s'", host);
		goto out;
	}
	if (e == NULL) {
		ret = ca_mon_add(m->r, CA_MON_ENDPOINT, ca_mon_worst(st,
		    CA_MON_WARNING), ep, NULL, serial, &na, NULL, "serves "
		    "serial %s, which no CA watched here issued (%lld days "
		    "left)", serial, ca_mon_days_left(na, m->now));
		goto out;
	}
	cur = newest_of(&m->cas[found], e->name);
	if (cur != NULL && cur != e && cur->status == 'V') {
		ca_time_format(date, sizeof(date), cur->not_after);
		ret = ca_mon_add(m->r, CA_MON_ENDPOINT, ca_mon_worst(st,
		    CA_MON_WARNING), ep, kname(found), serial, &na, NULL,
		    "serves an old certificate of '%s' (%lld days left); "
		    "serial %s, valid until %s, was issued since: install it "
		    "and reload the service", e->name,
		    ca_mon_days_left(na, m->now), cur->serial, date);
		goto out;
	}
	ret = add_expiry(m, CA_MON_ENDPOINT, st, ep, kname(found), serial, na,
	    NULL, cf->monitor.warn_days, cf->monitor.critical_days,
	    "renew it, install it and reload the service");
out:
	free(host);
	ca_crt_list_free(chain, n);
	return ret;
}

static int
check_endpoints(struct mon *m)
{
	const struct ca_strv *eps = &m->conf->monitor.endpoints;
	size_t i, j;
	int ret = 0;

	for (i = 0; i < eps->n && ret == 0; i++) {
		/* One check per endpoint, however often it is listed. */
		for (j = 0; j < i; j++)
			if (strcmp(eps->v[i], eps->v[j]) == 0)
				break;
		if (j == i)
			ret = check_endpoint(m, eps->v[i]);
	}
	return ret;
}

int
ca_monitor_run(struct ca_mon_report *out, const struct ca_conf *conf,
    time_t now, struct ca_err *err)
{
	struct mon m;
	enum ca_kind k;
	int ret;

	memset(out, 0, sizeof(*out));
	out->now = now;
	if (conf->root_dir == NULL && conf->server_dir == NULL &&
	    conf->client_dir == NULL)
		return ca_err_set(err, CA_ECONF, "%s: no CA directory to watch "
		    "(server.dir, client.dir or root.dir)", conf->path != NULL ?
		    conf->path : "no configuration (-c FILE or TIERCA_CONFIG)");
	memset(&m, 0, sizeof(m));
	m.conf = conf;
	m.now = now;
	m.r = out;
	if (conf->templates != NULL)
		m.tpls_ok = ca_templates_load(&m.tpls, conf->templates,
		    &m.tpl_err) == 0;
	if ((m.tpls_ok && (ret = sort_templates(&m)) != 0) ||
	    (ret = open_cas(&m)) != 0 || (ret = check_cas(&m)) != 0)
		goto out;
	for (k = 0; k < CA_KIND__MAX; k++)
		if ((ret = check_crl(&m, k)) != 0 ||
		    (ret = check_issued(&m, k)) != 0)
			goto out;
	if ((ret = check_root_crl_copy(&m)) != 0 ||
	    (ret = check_templates(&m)) != 0 ||
	    (ret = check_endpoints(&m)) != 0)
		goto out;
	ret = 0;
out:
	close_cas(&m);
	free(m.tsorted);
	if (m.tpls_ok)
		ca_templates_free(&m.tpls);
	if (ret != 0) {
		ca_mon_report_free(out);
		out->now = now;
		return ca_err_set(err, ret, "out of memory");
	}
	return 0;
}

/* ---- the Prometheus textfile ------------------------------------------- */

/* A label value: backslash, double quote and newline escaped (text
 * exposition format). */
static void
label(struct ca_sbuf *b, const char *key, const char *v, int first)
{
	size_t n;

	if (!first)
		ca_sb_put(b, ",", 1);
	ca_sb_put(b, key, strlen(key));
	ca_sb_put(b, "=\"", 2);
	/* Runs of plain characters at once: this is per label of every
	 * check, 10,000s of them in a large fleet's textfile. */
	while (*v != '\0') {
		n = strcspn(v, "\\\"\n");
		ca_sb_put(b, v, n);
		v += n;
		if (*v == '\0')
			break;
		ca_sb_put(b, *v == '\n' ? "\\n" : *v == '"' ? "\\\"" : "\\\\",
		    2);
		v++;
	}
	ca_sb_put(b, "\"", 1);
}

static void
labels(struct ca_sbuf *b, const struct ca_mon_check *c)
{
	ca_sb_put(b, "{", 1);
	label(b, "check", ca_mon_kind_name(c->kind), 1);
	if (c->ca != NULL)
		label(b, "ca", c->ca, 0);
	label(b, "name", c->name, 0);
	if (c->serial[0])
		label(b, "serial", c->serial, 0);
	ca_sb_put(b, "}", 1);
}

static int
is_cert(const struct ca_mon_check *c)
{
	return c->has_time && (c->kind == CA_MON_CERT || c->kind == CA_MON_CA ||
	    c->kind == CA_MON_INSTALLED || c->kind == CA_MON_ENDPOINT);
}

int
ca_mon_textfile(char **out, size_t *len, const struct ca_mon_report *r,
    struct ca_err *err)
{
	static const char *const lower[] = { "ok", "warning", "critical",
		"unknown" };
	struct ca_sbuf b = { NULL, 0, 0, 0 };
	size_t i;
	int s;

	*out = NULL;
	ca_sb_printf(&b, "# HELP tierca_check_state State of a tierca-monitor "
	    "check: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.\n"
	    "# TYPE tierca_check_state gauge\n");
	for (i = 0; i < r->n; i++) {
		ca_sb_printf(&b, "tierca_check_state");
		labels(&b, &r->v[i]);
		ca_sb_printf(&b, " %d\n", (int)r->v[i].state);
	}
	ca_sb_printf(&b, "# HELP tierca_certificate_not_after_seconds notAfter of a "
	    "certificate, as a Unix time.\n"
	    "# TYPE tierca_certificate_not_after_seconds gauge\n");
	for (i = 0; i < r->n; i++)
		if (is_cert(&r->v[i])) {
			ca_sb_printf(&b, "tierca_certificate_not_after_seconds");
			labels(&b, &r->v[i]);
			ca_sb_printf(&b, " %lld\n", (long long)r->v[i].not_after);
		}
	ca_sb_printf(&b, "# HELP tierca_certificate_days_left Whole days until "
	    "notAfter, negative once expired.\n"
	    "# TYPE tierca_certificate_days_left gauge\n");
	for (i = 0; i < r->n; i++)
		if (is_cert(&r->v[i])) {
			ca_sb_printf(&b, "tierca_certificate_days_left");
			labels(&b, &r->v[i]);
			ca_sb_printf(&b, " %lld\n",
			    ca_mon_days_left(r->v[i].not_after, r->now));
		}
	ca_sb_printf(&b, "# HELP tierca_crl_next_update_seconds nextUpdate of a "
	    "CA's CRL, as a Unix time.\n"
	    "# TYPE tierca_crl_next_update_seconds gauge\n");
	for (i = 0; i < r->n; i++)
		if (r->v[i].kind == CA_MON_CRL && r->v[i].has_time &&
		    r->v[i].ca != NULL) {
			ca_sb_printf(&b, "tierca_crl_next_update_seconds{");
			label(&b, "ca", r->v[i].ca, 1);
			label(&b, "name", r->v[i].name, 0);
			ca_sb_printf(&b, "} %lld\n", (long long)r->v[i].not_after);
		}
	ca_sb_printf(&b, "# HELP tierca_monitor_checks Checks of the last run, by "
	    "state.\n# TYPE tierca_monitor_checks gauge\n");
	for (s = 0; s < CA_MON__MAX; s++)
		ca_sb_printf(&b, "tierca_monitor_checks{state=\"%s\"} %zu\n",
		    lower[s], r->count[s]);
	ca_sb_printf(&b, "# HELP tierca_monitor_state Worst state of the last run: "
	    "0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.\n"
	    "# TYPE tierca_monitor_state gauge\n"
	    "tierca_monitor_state %d\n", (int)r->state);
	ca_sb_printf(&b, "# HELP tierca_monitor_last_run_timestamp_seconds When the "
	    "last run happened, as a Unix time.\n"
	    "# TYPE tierca_monitor_last_run_timestamp_seconds gauge\n"
	    "tierca_monitor_last_run_timestamp_seconds %lld\n",
	    (long long)r->now);
	if (b.oom) {
		free(b.p);
		return ca_err_set(err, CA_ENOMEM, "out of memory");
	}
	*out = b.p;
	if (len != NULL)
		*len = b.len;
	return 0;
}

int
ca_mon_textfile_write(const char *path, const struct ca_mon_report *r,
    struct ca_err *err)
{
	char *text = NULL;
	size_t len = 0;
	int ret;

	if ((ret = ca_mon_textfile(&text, &len, r, err)) != 0)
		return ret;
	/* node_exporter reads the directory at any moment: it must see the
	 * old file or the new one, never half of one. */
	ret = ca_file_write_atomic(path, text, len, 0644, err);
	free(text);
	if (ret != 0)
		return ca_err_wrap(err, "cannot write textfile");
	return 0;
}

/* ---- the alert --------------------------------------------------------- */

static int
by_severity_p(const void *a, const void *b)
{
	return by_severity(*(const struct ca_mon_check *const *)a,
	    *(const struct ca_mon_check *const *)b);
}

static void
describe(struct ca_sbuf *b, const struct ca_mon_check *c, time_t now)
{
	char date[32];

	ca_sb_printf(b, "%-8s  %s", ca_mon_state_name(c->state),
	    ca_mon_kind_name(c->kind));
	if (c->ca != NULL && strcmp(c->ca, c->name) != 0)
		ca_sb_printf(b, " %s/%s", c->ca, c->name);
	else
		ca_sb_printf(b, " %s", c->name);
	if (c->serial[0])
		ca_sb_printf(b, ", serial %s", c->serial);
	if (c->has_time) {
		ca_time_format(date, sizeof(date), c->not_after);
		ca_sb_printf(b, ", %s %s (%lld days)", c->kind == CA_MON_CRL ?
		    "next update" : "not after", date,
		    ca_mon_days_left(c->not_after, now));
	}
	ca_sb_printf(b, "\n");
	if (c->detail[0])
		ca_sb_printf(b, "          %s\n", c->detail);
	if (c->path != NULL && c->state != CA_MON_OK)
		ca_sb_printf(b, "          file: %s\n", c->path);
}

int
ca_mon_message(char **subject, char **body, const struct ca_mon_report *r,
    const char *host, struct ca_err *err)
{
	const struct ca_mon_check **v = NULL;
	struct ca_sbuf s = { NULL, 0, 0, 0 }, b = { NULL, 0, 0, 0 };
	size_t i, bad = r->n - r->count[CA_MON_OK];
	char now[32];

	*subject = *body = NULL;
	if ((v = calloc(r->n + 1, sizeof(*v))) == NULL)
		return ca_err_set(err, CA_ENOMEM, "out of memory");
	for (i = 0; i < r->n; i++)
		v[i] = &r->v[i];
	qsort(v, r->n, sizeof(*v), by_severity_p);
	ca_time_format(now, sizeof(now), r->now);
	if (bad == 0)
		ca_sb_printf(&s, "[tierca] OK: all %zu checks pass on %s", r->n,
		    host);
	else
		ca_sb_printf(&s, "[tierca] %s: %zu %s need%s attention on %s",
		    ca_mon_state_name(r->state), bad, bad == 1 ? "check" :
		    "checks", bad == 1 ? "s" : "", host);
	ca_sb_printf(&b, "tierca-monitor on %s at %s: %s\n", host, now,
	    ca_mon_state_name(r->state));
	ca_sb_printf(&b, "%zu of %zu checks need attention: %zu CRITICAL, %zu "
	    "WARNING, %zu UNKNOWN.\n", bad, r->n, r->count[CA_MON_CRITICAL],
	    r->count[CA_MON_WARNING], r->count[CA_MON_UNKNOWN]);
	if (bad > 0)
		ca_sb_printf(&b, "\nWorst first:\n\n");
	for (i = 0; i < bad; i++)
		describe(&b, v[i], r->now);
	if (r->count[CA_MON_OK] > 0) {
		ca_sb_printf(&b, "\nOK (%zu):\n\n", r->count[CA_MON_OK]);
		for (i = bad; i < r->n; i++)
			describe(&b, v[i], r->now);
	}
	ca_sb_printf(&b, "\nWhat each state means and what to do: tierca-monitor(1) "
	    "and the \"Monitoring\" section of docs/operations.md.\n");
	free(v);
	if (s.oom || b.oom) {
		free(s.p);
		free(b.p);
		return ca_err_set(err, CA_ENOMEM, "out of memory");
	}
	*subject = s.p;
	*body = b.p;
	return 0;
}
