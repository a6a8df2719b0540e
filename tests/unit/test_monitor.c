/*
 * test_monitor.c - libca/monitor.c, mail.c and endpoint.c without a
 * network: expiry states and days left as tables, the order of states,
 * sorting, the Prometheus textfile (escaping, families), the alert's
 * subject and body, the RFC 5322 message, endpoint strings refused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"

#define H 3600

static const struct {
	const char *what;
	long long left;       /* seconds from now to notAfter */
	int warn, crit;
	enum ca_mon_state want;
	long long days;
} expiry_cases[] = {
	/* the leaf thresholds (30, 7) of an unrenewed 90-day leaf */
	{ "day 10", 80 * DAY, 30, 7, CA_MON_OK, 80 },
	{ "day 65", 25 * DAY, 30, 7, CA_MON_WARNING, 25 },
	{ "day 85", 5 * DAY, 30, 7, CA_MON_CRITICAL, 5 },
	{ "day 95", -5 * DAY, 30, 7, CA_MON_CRITICAL, -5 },
	/* edges: "fewer than N days" */
	{ "exactly warn", 30 * DAY, 30, 7, CA_MON_OK, 30 },
	/* whole days, rounded up: the daily renewal gets its day */
	{ "a second under warn", 30 * DAY - 1, 30, 7, CA_MON_OK, 29 },
	{ "a renewal morning (29.85 days)", 29 * DAY + 20 * H, 30, 7,
	    CA_MON_OK, 29 },
	{ "exactly a day under warn", 29 * DAY, 30, 7, CA_MON_WARNING, 29 },
	{ "a day and a second under warn", 29 * DAY - 1, 30, 7,
	    CA_MON_WARNING, 28 },
	{ "exactly crit", 7 * DAY, 30, 7, CA_MON_WARNING, 7 },
	{ "a second under crit", 7 * DAY - 1, 30, 7, CA_MON_WARNING, 6 },
	{ "exactly a day under crit", 6 * DAY, 30, 7, CA_MON_CRITICAL, 6 },
	{ "one second left", 1, 30, 7, CA_MON_CRITICAL, 0 },
	{ "expiring now", 0, 30, 7, CA_MON_CRITICAL, 0 },
	{ "an hour past", -H, 30, 7, CA_MON_CRITICAL, -1 },
	{ "a day past", -DAY, 30, 7, CA_MON_CRITICAL, -1 },
	{ "a day and a second past", -DAY - 1, 30, 7, CA_MON_CRITICAL, -2 },
	/* zero thresholds: only expiry counts */
	{ "no thresholds", H, 0, 0, CA_MON_OK, 0 },
	{ "no thresholds, expired", -1, 0, 0, CA_MON_CRITICAL, -1 },
	/* an intermediate: leaf_days + renew_before_days, leaf_days */
	{ "ica 121 days", 121 * DAY, 120, 90, CA_MON_OK, 121 },
	{ "ica 100 days", 100 * DAY, 120, 90, CA_MON_WARNING, 100 },
	{ "ica 80 days", 80 * DAY, 120, 90, CA_MON_CRITICAL, 80 },
	/* the root: 730 + 180, 730 */
	{ "root 8 years", 2920LL * DAY,
	    CA_MON_ICA_DAYS + CA_MON_ROOT_MARGIN_DAYS, CA_MON_ICA_DAYS,
	    CA_MON_OK, 2920 },
	{ "root 800 days", 800 * DAY, CA_MON_ICA_DAYS + CA_MON_ROOT_MARGIN_DAYS,
	    CA_MON_ICA_DAYS, CA_MON_WARNING, 800 },
	{ "root 700 days", 700 * DAY, CA_MON_ICA_DAYS + CA_MON_ROOT_MARGIN_DAYS,
	    CA_MON_ICA_DAYS, CA_MON_CRITICAL, 700 },
};

static void
test_expiry_states(void)
{
	size_t i;

	for (i = 0; i < sizeof(expiry_cases) / sizeof(expiry_cases[0]); i++) {
		time_t na = T0 + (time_t)expiry_cases[i].left;
		enum ca_mon_state st = ca_mon_expiry_state(na, T0,
		    expiry_cases[i].warn, expiry_cases[i].crit);
		long long d = ca_mon_days_left(na, T0);
		UCHECK(st == expiry_cases[i].want, "%s: state %s, want %s",
		    expiry_cases[i].what, ca_mon_state_name(st),
		    ca_mon_state_name(expiry_cases[i].want));
		UCHECK(d == expiry_cases[i].days, "%s: %lld days, want %lld",
		    expiry_cases[i].what, d, expiry_cases[i].days);
	}
}

static void
test_worst(void)
{
	static const struct {
		enum ca_mon_state a, b, want;
	} cases[] = {
		{ CA_MON_OK, CA_MON_OK, CA_MON_OK },
		{ CA_MON_OK, CA_MON_WARNING, CA_MON_WARNING },
		{ CA_MON_WARNING, CA_MON_UNKNOWN, CA_MON_UNKNOWN },
		{ CA_MON_UNKNOWN, CA_MON_CRITICAL, CA_MON_CRITICAL },
		{ CA_MON_CRITICAL, CA_MON_UNKNOWN, CA_MON_CRITICAL },
		{ CA_MON_CRITICAL, CA_MON_WARNING, CA_MON_CRITICAL },
		{ CA_MON_UNKNOWN, CA_MON_OK, CA_MON_UNKNOWN },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		UCHECK(ca_mon_worst(cases[i].a, cases[i].b) == cases[i].want,
		    "worst(%s, %s)", ca_mon_state_name(cases[i].a),
		    ca_mon_state_name(cases[i].b));
	CU_ASSERT_STRING_EQUAL(ca_mon_state_name(CA_MON_UNKNOWN), "UNKNOWN");
	CU_ASSERT_STRING_EQUAL(ca_mon_kind_name(CA_MON_INSTALLED), "installed");
	/* The states are the plugin exit codes. */
	CU_ASSERT_EQUAL(CA_MON_OK, 0);
	CU_ASSERT_EQUAL(CA_MON_WARNING, 1);
	CU_ASSERT_EQUAL(CA_MON_CRITICAL, 2);
	CU_ASSERT_EQUAL(CA_MON_UNKNOWN, 3);
}

/* A small report: one of each state, in a muddled order. */
static void
make_report(struct ca_mon_report *r)
{
	time_t a = T0 + 80 * DAY, b = T0 + 20 * DAY, c = T0 - DAY;
	time_t n = T0 + 3 * DAY;

	memset(r, 0, sizeof(*r));
	r->now = T0;
	CU_ASSERT_EQUAL(ca_mon_add(r, CA_MON_CERT, CA_MON_OK, "web", "server",
	    "0A", &a, NULL, "%s", ""), 0);
	CU_ASSERT_EQUAL(ca_mon_add(r, CA_MON_CERT, CA_MON_WARNING, "db",
	    "server", "0B", &b, NULL, "%d days left", 20), 0);
	CU_ASSERT_EQUAL(ca_mon_add(r, CA_MON_ENDPOINT, CA_MON_UNKNOWN,
	    "we\"ird\\host\n:443", NULL, NULL, NULL, NULL, "cannot connect"),
	    0);
	CU_ASSERT_EQUAL(ca_mon_add(r, CA_MON_CERT, CA_MON_CRITICAL, "old",
	    "client", "0C", &c, NULL, "expired"), 0);
	CU_ASSERT_EQUAL(ca_mon_add(r, CA_MON_CRL, CA_MON_WARNING, "server",
	    "server", NULL, &n, "/x/crl.pem", "next update soon"), 0);
}

static void
test_report(void)
{
	struct ca_mon_report r;

	make_report(&r);
	CU_ASSERT_EQUAL(r.n, 5);
	CU_ASSERT_EQUAL(r.state, CA_MON_CRITICAL);
	CU_ASSERT_EQUAL(r.count[CA_MON_WARNING], 2);
	CU_ASSERT_EQUAL(r.count[CA_MON_OK], 1);
	CU_ASSERT_EQUAL(ca_mon_add(&r, CA_MON_CERT, CA_MON__MAX, "x", NULL,
	    NULL, NULL, NULL, "x"), CA_EINVAL);
	ca_mon_report_sort(&r);
	/* Worst first (CRITICAL, UNKNOWN, WARNING, OK), soonest first. */
	CU_ASSERT_STRING_EQUAL(r.v[0].name, "old");
	CU_ASSERT_EQUAL(r.v[1].state, CA_MON_UNKNOWN);
	CU_ASSERT_STRING_EQUAL(r.v[2].name, "server");
	CU_ASSERT_STRING_EQUAL(r.v[3].name, "db");
	CU_ASSERT_STRING_EQUAL(r.v[4].name, "web");
	CU_ASSERT_STRING_EQUAL(r.v[3].detail, "20 days left");
	ca_mon_report_free(&r);
	ca_mon_report_free(&r);
	CU_ASSERT_EQUAL(r.n, 0);
}

static void
test_textfile(void)
{
	struct ca_mon_report r;
	struct ca_err err = { 0 };
	char *t = NULL, *p, *line, *save = NULL;
	size_t len = 0;

	make_report(&r);
	CU_ASSERT_EQUAL_FATAL(ca_mon_textfile(&t, &len, &r, &err), 0);
	CU_ASSERT_EQUAL(len, strlen(t));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "tierca_certificate_not_after_seconds"
	    "{check=\"certificate\",ca=\"server\",name=\"db\",serial=\"0B\"} "
	    "1800489600\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "tierca_certificate_days_left"
	    "{check=\"certificate\",ca=\"client\",name=\"old\",serial=\"0C\"} "
	    "-1\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "tierca_crl_next_update_seconds"
	    "{ca=\"server\",name=\"server\"} 1799020800\n"));
	/* Backslash, double quote and newline escaped in label values. */
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "tierca_check_state{"
	    "check=\"endpoint\",name=\"we\\\"ird\\\\host\\n:443\"} 3\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "tierca_monitor_state 2\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "tierca_monitor_checks{state="
	    "\"warning\"} 2\n"));
	/* A CRL is no certificate; a check without a date has no gauge. */
	CU_ASSERT_PTR_NULL(strstr(t,
	    "tierca_certificate_days_left{check=\"crl\""));
	CU_ASSERT_PTR_NULL(strstr(t, "tierca_certificate_days_left{check="
	    "\"endpoint\""));
	/* Each family announced once, and only gauges. */
	CU_ASSERT_EQUAL(unit_count(t, "# TYPE tierca_check_state gauge\n"), 1);
	CU_ASSERT_EQUAL(unit_count(t, "# TYPE "), unit_count(t, " gauge\n"));
	CU_ASSERT_EQUAL(unit_count(t, "# TYPE "), unit_count(t, "# HELP "));
	/* No raw newline inside a sample. */
	p = strdup(t);
	for (line = strtok_r(p, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save))
		UCHECK(line[0] == '#' || strncmp(line, "tierca_", 7) == 0,
		    "stray line '%s'", line);
	free(p);
	free(t);

	/* Written atomically, mode 0644. */
	{
		char *path = ca_path_join(unit_tmp, "tierca.prom");
		char *got;
		CU_ASSERT_EQUAL(ca_mon_textfile_write(path, &r, &err), 0);
		CU_ASSERT_EQUAL(unit_mode(path), 0644);
		got = unit_read(path, NULL);
		CU_ASSERT_PTR_NOT_NULL(got &&
		    strstr(got, "tierca_monitor_state 2"));
		free(got);
		free(path);
		path = ca_path_join(unit_tmp, "no/such/dir.prom");
		CU_ASSERT_NOT_EQUAL(ca_mon_textfile_write(path, &r, &err), 0);
		CU_ASSERT_PTR_NOT_NULL(strstr(err.msg,
		    "cannot write textfile"));
		free(path);
	}
	ca_mon_report_free(&r);
}

static void
test_message(void)
{
	struct ca_mon_report r;
	struct ca_err err = { 0 };
	char *subject = NULL, *body = NULL, *c, *w, *o;

	make_report(&r);
	CU_ASSERT_EQUAL_FATAL(ca_mon_message(&subject, &body, &r, "cahost",
	    &err), 0);
	CU_ASSERT_STRING_EQUAL(subject,
	    "[tierca] CRITICAL: 4 checks need attention on cahost");
	CU_ASSERT_PTR_NOT_NULL(strstr(body, "4 of 5 checks need attention: 1 "
	    "CRITICAL, 2 WARNING, 1 UNKNOWN."));
	c = strstr(body, "CRITICAL  certificate client/old, serial 0C");
	w = strstr(body, "WARNING   certificate server/db, serial 0B");
	o = strstr(body, "OK        certificate server/web");
	CU_ASSERT(c != NULL && w != NULL && o != NULL && c < w && w < o);
	CU_ASSERT_PTR_NOT_NULL(strstr(body, "          file: /x/crl.pem\n"));
	free(subject);
	free(body);
	ca_mon_report_free(&r);

	/* One problem: singular; none: all pass. */
	memset(&r, 0, sizeof(r));
	ca_mon_add(&r, CA_MON_CRL, CA_MON_WARNING, "client", "client", NULL,
	    NULL, NULL, "x");
	ca_mon_message(&subject, &body, &r, "h", &err);
	CU_ASSERT_STRING_EQUAL(subject, "[tierca] WARNING: 1 check needs "
	    "attention on h");
	free(subject);
	free(body);
	ca_mon_report_free(&r);
	ca_mon_add(&r, CA_MON_CRL, CA_MON_OK, "client", "client", NULL, NULL,
	    NULL, "%s", "");
	ca_mon_message(&subject, &body, &r, "h", &err);
	CU_ASSERT_STRING_EQUAL(subject, "[tierca] OK: all 1 checks pass on h");
	free(subject);
	free(body);
	ca_mon_report_free(&r);
}

static void
test_mail_format(void)
{
	struct ca_strv to = { NULL, 0 }, one = { NULL, 0 }, bad = { NULL, 0 };
	struct ca_err err = { 0 };
	char *m = NULL, *body, *p;
	size_t i;

	ca_strv_add(&to, "ops@example.internal");
	ca_strv_add(&to, "oncall-with-a-long-name@example.internal");
	ca_strv_add(&to, "third@example.internal");
	CU_ASSERT_EQUAL_FATAL(ca_mail_format(&m, "pki@example.internal", &to,
	    "[tierca] OK\r\nBcc: evil@example.com", "line 1\n.dot\n\nend",
	    T0 + 59 * DAY + 3 * H, &err), 0);
	CU_ASSERT(strncmp(m, "Date: Mon, 01 Mar 2027 03:00:00 +0000\r\n", 39) ==
	    0);
	CU_ASSERT_PTR_NOT_NULL(strstr(m, "\r\nFrom: pki@example.internal\r\n"));
	/* Folded before 78 columns. */
	CU_ASSERT_PTR_NOT_NULL(strstr(m, "\r\nTo: ops@example.internal, "
	    "oncall-with-a-long-name@example.internal,\r\n "
	    "third@example.internal\r\n"));
	/* No header injection through the subject. */
	CU_ASSERT_PTR_NOT_NULL(strstr(m, "\r\nSubject: [tierca] OK  Bcc: "
	    "evil@example.com\r\n"));
	CU_ASSERT_PTR_NULL(strstr(m, "\r\nBcc:"));
	CU_ASSERT_PTR_NOT_NULL(strstr(m, "\r\nMessage-ID: <"));
	CU_ASSERT_PTR_NOT_NULL(strstr(m, "@example.internal>\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(m, "\r\nAuto-Submitted: "
	    "auto-generated\r\n"));
	body = strstr(m, "\r\n\r\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(body);
	CU_ASSERT_STRING_EQUAL(body + 4, "line 1\r\n.dot\r\n\r\nend\r\n");
	/* Every line ends in CRLF. */
	for (p = m; (p = strchr(p, '\n')) != NULL; p++)
		CU_ASSERT(p > m && p[-1] == '\r');
	free(m);

	/* Non-ASCII subjects are encoded words; long lines are cut. */
	ca_strv_add(&one, "a@b.c");
	{
		char longline[2100];
		memset(longline, 'x', sizeof(longline) - 1);
		longline[sizeof(longline) - 1] = '\0';
		CU_ASSERT_EQUAL(ca_mail_format(&m, "a@b.c", &one,
		    "Zertifikat läuft ab", longline, T0, &err), 0);
		CU_ASSERT_PTR_NOT_NULL(strstr(m, "Subject: =?UTF-8?B?"
		    "WmVydGlmaWthdCBsw6R1ZnQgYWI=?=\r\n"));
		body = strstr(m, "\r\n\r\n") + 4;
		for (i = 0, p = body; *p; i++) {
			char *e = strstr(p, "\r\n");
			CU_ASSERT_FATAL(e != NULL);
			CU_ASSERT(e - p <= 998);
			p = e + 2;
		}
		CU_ASSERT_EQUAL(i, 3);
		free(m);
	}
	/* Addresses that would break a header or an SMTP command. */
	CU_ASSERT_EQUAL(ca_mail_format(&m, "no-at-sign", &one, "s", "b", T0,
	    &err), CA_EINVAL);
	CU_ASSERT_EQUAL(ca_mail_format(&m, "a@b.c", &bad, "s", "b", T0, &err),
	    CA_EINVAL);
	ca_strv_add(&bad, "x@y.z>\r\nRCPT TO:<evil@example.com");
	CU_ASSERT_EQUAL(ca_mail_format(&m, "a@b.c", &bad, "s", "b", T0, &err),
	    CA_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "invalid mail recipient"));
	ca_strv_free(&to);
	ca_strv_free(&one);
	ca_strv_free(&bad);
}

static void
test_notifier_config(void)
{
	static const struct {
		const char *url, *secrets_mode;
		int starttls;
		const char *want;
	} cases[] = {
		{ "http://127.0.0.1:25", NULL, 1, "must start with smtp://" },
		{ "smtp://u:p@127.0.0.1:25", NULL, 1, "must not hold a user" },
		{ "smtp://127.0.0.1:25", "0644", 1,
		    "must be mode 0600 or 0400" },
		{ "smtp://127.0.0.1:25", "0600", 0, "refusing to send the SMTP "
		    "password in clear" },
		{ "smtp://127.0.0.1:25", "0600", 1, NULL },
		{ "SMTPS://127.0.0.1:465", "0400", 0, NULL },
	};
	struct ca_conf_mail m;
	struct ca_notifier n;
	struct ca_err err;
	char *sec = ca_path_join(unit_tmp, "secrets.cfg");
	size_t i;
	int ret;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&m, 0, sizeof(m));
		memset(&err, 0, sizeof(err));
		m.url = (char *)cases[i].url;
		m.from = (char *)"pki@example.internal";
		ca_strv_add(&m.to, "ops@example.internal");
		m.starttls = cases[i].starttls;
		if (cases[i].secrets_mode != NULL) {
			unlink(sec);
			mode_t mode = (mode_t)strtol(cases[i].secrets_mode,
			    NULL, 8);
			unit_write(sec, "smtp_user = \"u\";\n"
			    "smtp_password = \"pw\";\nother_secret = 3;\n",
			    mode);
			m.secrets = sec;
		}
		ret = ca_mail_notifier(&n, &m, T0, &err);
		if (cases[i].want == NULL) {
			UCHECK(ret == 0, "%s: %s", cases[i].url, err.msg);
			if (ret == 0) {
				CU_ASSERT_STRING_EQUAL(n.name, "mail");
				CU_ASSERT_PTR_NOT_NULL(n.send);
			}
			ca_mail_notifier_free(&n);
		} else
			UCHECK(ret != 0 &&
			    strstr(err.msg, cases[i].want) != NULL,
			    "%s: got '%s', want '%s'", cases[i].url, err.msg,
			    cases[i].want);
		CU_ASSERT_PTR_NULL(strstr(err.msg, "pw\""));
		ca_strv_free(&m.to);
	}
	unlink(sec);
	free(sec);
}

static void
test_endpoint_strings(void)
{
	static const char *const bad[] = { "host", "host:", "host:0",
		"host:65536", "host:x", ":443", "::1:443", "[::1]", "[::1]443",
		"[]:443" };
	gnutls_x509_crt_t *v = NULL;
	struct ca_err err;
	size_t i, n = 0;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&err, 0, sizeof(err));
		int ret = ca_endpoint_fetch(&v, &n, bad[i], 100, &err);
		UCHECK(ret == CA_EINVAL && v == NULL &&
		    strstr(err.msg, "invalid endpoint") != NULL, "'%s': %s",
		    bad[i], err.msg);
	}
	ca_crt_list_free(NULL, 0);
}

static void
test_run_nothing(void)
{
	struct ca_conf c;
	struct ca_mon_report r;
	struct ca_err err = { 0 };

	/* A configuration with no CA directory has nothing to judge. */
	ca_conf_defaults(&c);
	CU_ASSERT_EQUAL(ca_monitor_run(&r, &c, T0, &err), CA_ECONF);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "no CA directory to watch"));
	CU_ASSERT_EQUAL(r.n, 0);
	/* A directory that is not there is UNKNOWN, not an error. */
	c.server_dir = ca_path_join(unit_tmp, "nowhere");
	CU_ASSERT_EQUAL(ca_monitor_run(&r, &c, T0, &err), 0);
	CU_ASSERT_EQUAL(r.state, CA_MON_UNKNOWN);
	CU_ASSERT_EQUAL(r.n, 1);
	CU_ASSERT_EQUAL(r.v[0].kind, CA_MON_CONFIG);
	ca_mon_report_free(&r);
	ca_conf_free(&c);
}

void
register_monitor(void)
{
	CU_pSuite s = CU_add_suite("monitor", unit_tmp_init, unit_tmp_clean);

	CU_add_test(s, "expiry states and days left", test_expiry_states);
	CU_add_test(s, "the order of states", test_worst);
	CU_add_test(s, "report: counts, worst, sort", test_report);
	CU_add_test(s, "textfile", test_textfile);
	CU_add_test(s, "alert subject and body", test_message);
	CU_add_test(s, "RFC 5322 message", test_mail_format);
	CU_add_test(s, "mail notifier configuration", test_notifier_config);
	CU_add_test(s, "endpoint strings", test_endpoint_strings);
	CU_add_test(s, "nothing to watch", test_run_nothing);
}
