/*
 * tierca/harness.h - the ephemeral-hierarchy test harness (libharness.a).
 *
 * Layer: harness (docs/architecture.md). Conventions: functions are
 * ca_<module>_<verb>, return 0 or a negative CA_E* code and fill a
 * struct ca_err; they never print or exit.
 */
#ifndef TIERCA_HARNESS_H
#define TIERCA_HARNESS_H

#include "tierca/layer.h"

#if defined(TIERCA_LAYER) && TIERCA_LAYER < 7
#error "tierca/harness.h belongs to the harness layer: a lower layer may not include it"
#endif

#include "tierca/common.h"

/* ---- the test harness (libca/harness*.c; tierca-harness) --------------- */

/* The seven categories of checks, in the order they are reported. */
enum ca_hcat {
	CA_HCAT_CHAIN,               /* "chain" */
	CA_HCAT_CRL,                 /* "crl" */
	CA_HCAT_DEPLOY,              /* "deploy": installed files */
	CA_HCAT_RENEWAL,             /* "renewal" */
	CA_HCAT_ALERTING,            /* "alerting" */
	CA_HCAT_SCRIPTS,             /* "deploy-scripts": managed files */
	CA_HCAT_SECURITY,            /* "security" */
	CA_HCAT__MAX
};
#define CA_HCAT_BIT(c) (1u << (c))
#define CA_HCAT_ALL ((1u << CA_HCAT__MAX) - 1)
/* What an audit of a real installation (--pki) runs: it changes nothing. */
#define CA_HCAT_READ_ONLY (CA_HCAT_BIT(CA_HCAT_CHAIN) | \
	CA_HCAT_BIT(CA_HCAT_CRL) | CA_HCAT_BIT(CA_HCAT_DEPLOY) | \
	CA_HCAT_BIT(CA_HCAT_SCRIPTS) | CA_HCAT_BIT(CA_HCAT_SECURITY))
const char *ca_hcat_name(enum ca_hcat c);
/* Also "deploy-consistency", "deploy-script(s)", "scripts", "alert". */
int ca_hcat_parse(enum ca_hcat *out, const char *s);

enum ca_hresult { CA_HPASS, CA_HFAIL, CA_HSKIP, CA_HRESULT__MAX };
const char *ca_hresult_name(enum ca_hresult r);               /* "PASS" */

/* Where checks go as they are decided; done() once a category is
 * complete (a category never done did not finish). */
struct ca_hsink {
	void (*check)(void *ctx, enum ca_hcat cat, enum ca_hresult res,
	    const char *name, const char *detail);
	void (*done)(void *ctx, enum ca_hcat cat);
	void *ctx;
};

/* The harness's SMTP listener saves each message it receives as
 * MAILBOX/N.eml (written whole, then renamed into place): an
 * "X-Harness-Mail-From: <addr>" line, one "X-Harness-Rcpt-To: <addr>"
 * line per recipient, then the message as received (CRLF lines,
 * dot-unstuffed). */
struct ca_harness_opts {
	const char *dir;             /* an empty scratch directory, made 0700 */
	const char *pki;             /* audit this configuration read-only;
	                                NULL: build an ephemeral hierarchy */
	unsigned cats;               /* CA_HCAT_BIT()s of what to run */
	int smtp_port;               /* alerting: 127.0.0.1:port; 0: none */
	const char *mailbox;         /* where that listener saves messages */
	const char *reload_hook;     /* renewal: the reload command under
	                                test (NULL: the harness's own) */
};
#define CA_HARNESS_OPTS_INIT { NULL, NULL, CA_HCAT_ALL, 0, NULL, NULL }

/* Without o->pki: builds a root, a server intermediate (nameConstraints)
 * and a client intermediate in o->dir with the real issuing paths,
 * issues and installs leaves from templates, revokes two, makes CRLs;
 * then runs the categories asked for (renewal last: it moves time on).
 * With o->pki: the read-only categories against that installation.
 * Failed checks are reported through sink, not as errors; the error
 * return is for a hierarchy that could not be built or a configuration
 * that cannot be read (the categories not done then did not run). */
int ca_harness_run(const struct ca_harness_opts *o,
    const struct ca_hsink *sink, time_t now, struct ca_err *err);

#endif
