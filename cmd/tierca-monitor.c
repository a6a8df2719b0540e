/*
 * tierca-monitor - daily expiry and health checks of a tierca PKI: every
 * certificate of the CA databases, the CA certificates, the CRLs, the
 * files the templates install and live TLS endpoints. A table for people,
 * JSON for machines, a Prometheus textfile, and one mail when something
 * needs attention.
 *
 *   tierca-monitor [-c CFG] [--mail] [--textfile F] [--json]
 *
 * Exit codes are the monitoring-plugin ones, so it drops into Nagios and
 * Icinga: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN. Anything that stops the
 * run from judging (a usage error, an unreadable configuration) is
 * UNKNOWN too; so is a mail or textfile that could not be delivered,
 * unless the state is CRITICAL already.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"
#include "tierca/monitor.h"

enum { M_MAIL = 512, M_TEXTFILE };

static const struct option longopts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, O_VERSION },
	{ "mail", no_argument, NULL, M_MAIL },
	{ "textfile", required_argument, NULL, M_TEXTFILE },
	{ "json", no_argument, NULL, O_JSON },
	{ NULL, 0, NULL, 0 }
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: tierca-monitor [-c CFG] [--mail] [--textfile F] [--json]\n"
	    "\n"
	    "checks every certificate of the configured CAs, the CA\n"
	    "certificates, the CRLs, the files the templates install and\n"
	    "monitor.endpoints; prints a table (or --json), writes the\n"
	    "Prometheus textfile (--textfile or monitor.textfile) and, with\n"
	    "--mail, sends one message when anything needs attention.\n"
	    "\n"
	    "exit: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (also usage errors)\n"
	    "common: -c/--config FILE, -h/--help, --version\n");
}

struct opts {
	const char *config, *textfile;
	int mail, json;
};

/* Delivery problems (mail, textfile) make the run UNKNOWN unless it is
 * CRITICAL already: non-zero either way, and the worse news wins. */
static int
worse(int status, enum ca_mon_state s)
{
	return (int)ca_mon_worst((enum ca_mon_state)status, s);
}

static void
print_table(const struct ca_mon_report *r)
{
	char t[32];
	size_t i;

	printf("%s: %zu checks, %zu critical, %zu warning, %zu unknown, %zu "
	    "ok\n", ca_mon_state_name(r->state), r->n,
	    r->count[CA_MON_CRITICAL], r->count[CA_MON_WARNING],
	    r->count[CA_MON_UNKNOWN], r->count[CA_MON_OK]);
	printf("%-8s  %-11s  %-6s  %-20s  %-32s  %-20s  %5s  %s\n", "STATE",
	    "CHECK", "CA", "NAME", "SERIAL", "NOT AFTER", "DAYS", "DETAIL");
	for (i = 0; i < r->n; i++) {
		const struct ca_mon_check *c = &r->v[i];
		char days[24] = "-";
		if (c->has_time) {
			ca_time_format(t, sizeof(t), c->not_after);
			snprintf(days, sizeof(days), "%lld",
			    ca_mon_days_left(c->not_after, r->now));
		} else
			snprintf(t, sizeof(t), "-");
		printf("%-8s  %-11s  %-6s  %-20s  %-32s  %-20s  %5s  %s",
		    ca_mon_state_name(c->state), ca_mon_kind_name(c->kind),
		    c->ca ? c->ca : "-", c->name,
		    c->serial[0] ? c->serial : "-", t, days, c->detail);
		if (c->state != CA_MON_OK && c->path != NULL)
			printf(" [%s]", c->path);
		putchar('\n');
	}
}

static void
json_or_null(const char *s)
{
	if (s == NULL)
		fputs("null", stdout);
	else
		json_str(stdout, s);
}

static void
print_json(const struct ca_mon_report *r, int status, const struct opts *o,
    const char *config, const char *textfile, int mail_sent,
    const char *mail_err, const char *textfile_err)
{
	char t[32];
	size_t i;
	int s;

	ca_time_format(t, sizeof(t), r->now);
	printf("{\"state\":\"%s\",\"exit\":%d,\"now\":\"%s\",\"config\":",
	    ca_mon_state_name(r->state), status, t);
	json_or_null(config);
	printf(",\"counts\":{");
	for (s = 0; s < CA_MON__MAX; s++)
		printf("%s\"%s\":%zu", s ? "," : "", ca_mon_state_name(s),
		    r->count[s]);
	printf("},\"checks\":[");
	for (i = 0; i < r->n; i++) {
		const struct ca_mon_check *c = &r->v[i];
		printf("%s{\"check\":\"%s\",\"state\":\"%s\",\"ca\":", i ? "," :
		    "", ca_mon_kind_name(c->kind), ca_mon_state_name(c->state));
		json_or_null(c->ca);
		printf(",\"name\":");
		json_str(stdout, c->name);
		printf(",\"serial\":");
		json_or_null(c->serial[0] ? c->serial : NULL);
		if (c->has_time) {
			ca_time_format(t, sizeof(t), c->not_after);
			printf(",\"not_after\":\"%s\",\"days_left\":%lld", t,
			    ca_mon_days_left(c->not_after, r->now));
		} else
			printf(",\"not_after\":null,\"days_left\":null");
		printf(",\"path\":");
		json_or_null(c->path);
		printf(",\"detail\":");
		json_str(stdout, c->detail);
		printf("}");
	}
	printf("],\"textfile\":{\"path\":");
	json_or_null(textfile);
	printf(",\"error\":");
	json_or_null(textfile_err);
	printf("},\"mail\":{\"requested\":%s,\"sent\":%s,\"error\":",
	    o->mail ? "true" : "false", mail_sent ? "true" : "false");
	json_or_null(mail_err);
	printf("}}\n");
}

static int
send_mail(const struct ca_conf *conf, const struct ca_mon_report *r,
    time_t now, struct ca_err *err)
{
	struct ca_notifier n;
	char host[256], *subject = NULL, *body = NULL;
	int ret;

	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	if ((ret = ca_mon_message(&subject, &body, r, host, err)) != 0)
		return ret;
	if ((ret = ca_mail_notifier(&n, &conf->monitor.mail, now, err)) != 0)
		ca_err_wrap(err, "cannot send mail");
	else {
		ret = n.send(n.ctx, subject, body, err);
		ca_mail_notifier_free(&n);
	}
	free(subject);
	free(body);
	return ret;
}

static int
monitor_opt(struct args *a, int c, const char *arg)
{
	struct opts *o = a->ext;

	switch (c) {
	case M_MAIL: o->mail = 1; return 0;
	case M_TEXTFILE: o->textfile = arg; return 0;
	}
	usage(stderr);
	return CA_MON_UNKNOWN;
}

/* The one act. The configuration is read here, not by tool_main, so
 * that a stray argument is told before a broken configuration. */
static int
cmd_monitor(struct args *a, struct ca_conf *unused, time_t now)
{
	struct ca_mon_report r;
	struct ca_conf conf;
	struct ca_err err = { 0 }, merr = { 0 }, terr = { 0 };
	struct opts *op = a->ext, o = *op;
	const char *textfile;
	int status, mail_sent = 0, mail_failed = 0, text_failed = 0;

	(void)unused;
	o.config = a->config;
	o.json = a->json;
	/* A peer that hangs up must not kill the run before the report. */
	signal(SIGPIPE, SIG_IGN);
	if (a->npos > 0) {
		msg_err("unexpected argument '%s' (try tierca-monitor --help)",
		    a->pos[0]);
		return CA_MON_UNKNOWN;
	}
	/* --mail reads the SMTP password of the secrets file. */
	if (o.mail)
		harden_process();
	if (ca_conf_find(&conf, o.config, &err) != 0) {
		msg_err("%s", err.msg);
		return CA_MON_UNKNOWN;
	}
	if (o.mail && !conf.monitor.has_mail) {
		msg_err("--mail needs a monitor.mail group in the "
		    "configuration%s%s%s", conf.path ? " ('" : "", conf.path ?
		    conf.path : "", conf.path ? "')" : "");
		ca_conf_free(&conf);
		return CA_MON_UNKNOWN;
	}
	if (ca_monitor_run(&r, &conf, now, &err) != 0) {
		msg_err("%s", err.msg);
		ca_conf_free(&conf);
		return CA_MON_UNKNOWN;
	}
	ca_mon_report_sort(&r);
	status = (int)r.state;

	/* The textfile first: whatever happens to the mail, Prometheus
	 * sees this run. */
	textfile = o.textfile != NULL ? o.textfile : conf.monitor.textfile;
	if (textfile != NULL &&
	    ca_mon_textfile_write(textfile, &r, &terr) != 0) {
		text_failed = 1;
		status = worse(status, CA_MON_UNKNOWN);
	}
	/* One message per run: when something needs attention, or every
	 * run when monitor.mail.always asks (a daily "all is well" that
	 * also proves the mail path works). */
	if (o.mail && (r.state != CA_MON_OK || conf.monitor.mail.always)) {
		if (send_mail(&conf, &r, now, &merr) != 0) {
			mail_failed = 1;
			status = worse(status, CA_MON_UNKNOWN);
		} else
			mail_sent = 1;
	}
	if (o.json)
		print_json(&r, status, &o, conf.path, textfile, mail_sent,
		    mail_failed ? merr.msg : NULL, text_failed ? terr.msg :
		    NULL);
	else
		print_table(&r);
	if (text_failed)
		msg_err("%s", terr.msg);
	if (mail_failed)
		msg_err("%s", merr.msg);
	ca_mon_report_free(&r);
	ca_conf_free(&conf);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		msg_err("cannot write to standard output");
		return worse(status, CA_MON_UNKNOWN);
	}
	return status;
}

static const struct verb verbs[] = {
	{ NULL, cmd_monitor, NO_CONFIG },
};

static struct opts opts;

static const struct tool tool = {
	.name = "tierca-monitor", .usage = usage, .longopts = longopts,
	.verbs = verbs, .nverbs = 1, .opt = monitor_opt, .ext = &opts,
	.usage_status = CA_MON_UNKNOWN, .fail_status = CA_MON_UNKNOWN,
};

int
main(int argc, char **argv)
{
	return tool_main(&tool, argc, argv);
}
