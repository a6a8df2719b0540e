/*
 * tierca/monitor.h - expiry monitoring, its textfile and its mail.
 *
 * Layer: auto (docs/architecture.md). Conventions: functions are
 * ca_<module>_<verb>, return 0 or a negative CA_E* code and fill a
 * struct ca_err; they never print or exit.
 */
#ifndef TIERCA_MONITOR_H
#define TIERCA_MONITOR_H

#include "tierca/layer.h"

#if defined(TIERCA_LAYER) && TIERCA_LAYER < 5
#error "tierca/monitor.h belongs to the auto layer: a lower layer may not include it"
#endif

#include "tierca/conf.h"


/* How tools tell people (tierca-monitor's mail, later others): one
 * message, a subject line and a plain-text body. */
struct ca_notifier {
	const char *name;
	int (*send)(void *ctx, const char *subject, const char *body,
	    struct ca_err *err);
	void *ctx;
};

/* ---- monitoring: checks, states, textfile, endpoints, mail ------------- */

struct ca_conf;       /* below, with the configuration */
struct ca_conf_mail;

/* The monitoring-plugin states; the values are tierca-monitor's exit
 * codes. */
enum ca_mon_state {
	CA_MON_OK = 0,
	CA_MON_WARNING = 1,
	CA_MON_CRITICAL = 2,
	CA_MON_UNKNOWN = 3,
	CA_MON__MAX
};

/* What a check looked at. */
enum ca_mon_kind {
	CA_MON_CERT,       /* an issued certificate, current for its name */
	CA_MON_CA,         /* a CA's own certificate */
	CA_MON_CRL,        /* a CA's CRL */
	CA_MON_INSTALLED,  /* the files a template installs */
	CA_MON_ENDPOINT,   /* a live TLS endpoint (monitor.endpoints) */
	CA_MON_CONFIG,     /* a CA directory or template that cannot be read */
	CA_MON_KIND__MAX
};

/* Thresholds the configuration has no key for. The root is judged by
 * what it means for the intermediates it signs (730 days): CRITICAL once
 * a new one would be cut short, WARNING one root-CRL period (a ceremony
 * at the latest) before that. */
#define CA_MON_ICA_DAYS 730
#define CA_MON_ROOT_MARGIN_DAYS 180
#define CA_MON_ROOT_CRL_WARN_DAYS 30
#define CA_MON_TIMEOUT_MS 5000

struct ca_mon_check {
	enum ca_mon_kind kind;
	enum ca_mon_state state;
	char *name;       /* issued or template name, host:port, CA kind */
	char *ca;         /* "server", "client", "root", or NULL */
	char serial[44];  /* "" when there is none */
	int has_time;
	time_t not_after; /* notAfter, or a CRL's nextUpdate */
	char *path;       /* the file looked at, or NULL */
	char *detail;     /* what is wrong and what to do; "" when OK */
};

struct ca_mon_report {
	time_t now;
	struct ca_mon_check *v;
	size_t n, cap;
	enum ca_mon_state state;      /* the worst of all, CA_MON_OK if none */
	size_t count[CA_MON__MAX];
};

const char *ca_mon_state_name(enum ca_mon_state s);   /* "WARNING" */
const char *ca_mon_kind_name(enum ca_mon_kind k);     /* "certificate" */
/* The worse of two, ordered as Icinga orders them: OK < WARNING <
 * UNKNOWN < CRITICAL. */
enum ca_mon_state ca_mon_worst(enum ca_mon_state a, enum ca_mon_state b);
/* Whole days from now to t, rounded down: negative once t is past. */
long long ca_mon_days_left(time_t t, time_t now);
/* CRITICAL when t is past or fewer than crit_days away, WARNING when
 * fewer than warn_days away, else OK. */
enum ca_mon_state ca_mon_expiry_state(time_t t, time_t now, int warn_days,
    int crit_days);

/* Runs every check the configuration asks for (DESIGN.md; tierca-monitor(1)
 * lists them). What is found wrong becomes a check, never an error: the
 * errors are out of memory and a configuration with no CA directory. */
int ca_monitor_run(struct ca_mon_report *out, const struct ca_conf *conf,
    time_t now, struct ca_err *err);
/* Appends one check (detail is a printf format). */
int ca_mon_add(struct ca_mon_report *r, enum ca_mon_kind kind,
    enum ca_mon_state state, const char *name, const char *ca,
    const char *serial, const time_t *not_after, const char *path,
    const char *fmt, ...) __attribute__((format(printf, 9, 10)));
/* Worst first, then fewest days left, then kind, CA and name. */
void ca_mon_report_sort(struct ca_mon_report *r);
void ca_mon_report_free(struct ca_mon_report *r);
/* The Prometheus node_exporter textfile (text exposition format 0.0.4). */
int ca_mon_textfile(char **out, size_t *len, const struct ca_mon_report *r,
    struct ca_err *err);
/* ca_mon_textfile() written with ca_file_write_atomic(), mode 0644. */
int ca_mon_textfile_write(const char *path, const struct ca_mon_report *r,
    struct ca_err *err);
/* The alert: a subject that counts what needs attention (WARNING or
 * worse) and a body listing those checks worst first, then the rest. */
int ca_mon_message(char **subject, char **body,
    const struct ca_mon_report *r, const char *host, struct ca_err *err);


/* An RFC 5322 message (CRLF lines, Date, From, To, Subject, Message-ID,
 * MIME headers, Auto-Submitted). */
int ca_mail_format(char **out, const char *from, const struct ca_strv *to,
    const char *subject, const char *body, time_t now, struct ca_err *err);
/* A ca_notifier that sends over SMTP with libcurl as monitor.mail says:
 * smtp:// (STARTTLS required when m->starttls) or smtps://, the server
 * verified against m->ca, AUTH with smtp_user and smtp_password from the
 * m->secrets file (0600/0400, libconfig) when it names them. */
int ca_mail_notifier(struct ca_notifier *out, const struct ca_conf_mail *m,
    time_t now, struct ca_err *err);
void ca_mail_notifier_free(struct ca_notifier *n);

#endif
