/*
 * tierca/renew.h - installing and renewing templates (tierca-renew).
 *
 * Layer: auto (docs/architecture.md). Conventions: functions are
 * ca_<module>_<verb>, return 0 or a negative CA_E* code and fill a
 * struct ca_err; they never print or exit.
 */
#ifndef TIERCA_RENEW_H
#define TIERCA_RENEW_H

#include "tierca/layer.h"

#if defined(TIERCA_LAYER) && TIERCA_LAYER < 5
#error "tierca/renew.h belongs to the auto layer: a lower layer may not include it"
#endif

#include "tierca/issue.h"
#include "tierca/conf.h"

/* ---- renewal (tierca-renew) -------------------------------------------- */

struct ca_template;

/* Installs issued/NAME of ca to the paths of t->install (cert, key, chain,
 * fullchain), with t's owner, group and mode (keys never more than
 * 0640). Every file is staged next to its target and fsynced first; the
 * renames then follow one another, key first, so the pair is switched in
 * one short batch and the service is reloaded only after. A file whose
 * content, owner and mode are already right is left alone. *changed
 * counts the files replaced. */
int ca_install(int *changed, struct ca *ca, const struct ca_template *t,
    struct ca_err *err);
/* 1 when some installed file of t differs from issued/NAME (content,
 * owner or mode) or is missing, 0 when all are in place. */
int ca_install_needed(struct ca *ca, const struct ca_template *t,
    struct ca_err *err);
/* The serial of the certificate installed at t->install.cert, or "" when
 * there is none (or it does not parse). */
int ca_installed_serial(char *buf, size_t len, const struct ca_template *t);

enum ca_renew_action {
	CA_RENEW_NONE,     /* current and installed */
	CA_RENEW_ISSUE,    /* never issued (or nothing valid left) */
	CA_RENEW_RENEW,    /* fewer than renew_before_days left */
	CA_RENEW_INSTALL,  /* issued, but not (yet) installed or reloaded */
	CA_RENEW__MAX
};
const char *ca_renew_action_name(enum ca_renew_action a);

struct ca_renew_plan {
	enum ca_renew_action action;
	char serial[44];       /* the current certificate, "" if none */
	time_t not_after;      /* of the current certificate */
	int reload_pending;    /* a reload failed on an earlier run */
};
/* What a renewal run would do for template t in ca at now. */
int ca_renew_plan(struct ca_renew_plan *out, struct ca *ca,
    const struct ca_template *t, int renew_before_days, time_t now,
    struct ca_err *err);
/* ca_issue(); with keep_key, the key of issued/NAME/key.pem is kept
 * (a template's rotate_key = false). */
int ca_issue_keep_key(struct ca_issued *out, struct ca *ca,
    const struct ca_issue_opts *o, int keep_key, time_t now,
    struct ca_err *err);
/* Marks or clears "the reload of NAME still has to run". */
int ca_reload_pending_set(struct ca *ca, const char *name, int pending,
    struct ca_err *err);
/* policy.revoke_superseded: the serials NAME's renewals replaced, kept in
 * issued/.NAME.superseded until its successor is installed and reloaded
 * (a run that fails there leaves them for the next). mark adds one;
 * pending lists them (none: an empty list); clear forgets them. */
int ca_superseded_mark(struct ca *ca, const char *name, const char *serial,
    struct ca_err *err);
int ca_superseded_pending(struct ca_strv *out, struct ca *ca,
    const char *name, struct ca_err *err);
int ca_superseded_clear(struct ca *ca, const char *name, struct ca_err *err);


/* ---- one template's renewal run (libca/renew.c) ------------------------ */

/* The policy a run applies (policy.* of the configuration). */
struct ca_renew_opts {
	int leaf_days;               /* for a template without days */
	enum ca_key_alg leaf_key;    /* for a template without key */
	int renew_before_days;
	int revoke_superseded;
	int dry_run;                 /* plan only: change nothing */
};
#define CA_RENEW_OPTS_INIT { 90, CA_KEY_ECDSA_P256, 30, 0, 0 }

enum ca_reload_result {
	CA_RELOAD_NONE,              /* nothing to reload, or no command */
	CA_RELOAD_OK,
	CA_RELOAD_FAILED,            /* marked pending: the next run retries */
	CA_RELOAD__MAX
};
const char *ca_reload_result_name(enum ca_reload_result r);   /* "ok" */

struct ca_renew_result {
	struct ca_renew_plan plan;
	char serial[44];             /* the new certificate, "" if none */
	time_t not_after;            /* of the new certificate */
	int capped;                  /* cut to the intermediate's notAfter */
	int installed;               /* files replaced */
	enum ca_reload_result reload;
	char revoked[256];           /* superseded serials revoked now */
	char error[1600];            /* what went wrong, "" when nothing */
};

/* What a tierca-renew run does for template t of ca (its key loaded
 * unless o->dry_run): the plan; then issue or renew (a new key unless
 * t->rotate_key is false), install (ca_install), run t->reload through
 * /bin/sh when a file changed or an earlier reload failed (its output
 * goes to stderr), and with o->revoke_superseded revoke the replaced
 * certificate once its successor is reloaded. The run goes on after a
 * failure where it safely can; out says what was done, out->error and
 * err the (last) failure, and the return is its code. */
int ca_renew_template(struct ca_renew_result *out, struct ca *ca,
    const struct ca_template *t, const struct ca_renew_opts *o, time_t now,
    struct ca_err *err);

#endif
