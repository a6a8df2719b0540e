/*
 * common.h - what every tierca tool shares: messages, flags that take a
 * passphrase, config lookup. No crypto here (see the Makefile's layering
 * check); that is libca's.
 */
#ifndef TIERCA_CMD_COMMON_H
#define TIERCA_CMD_COMMON_H

#include <getopt.h>
#include <stdio.h>
#include <time.h>
#include "tierca/common.h"
#include "tierca/fs.h"
#include "tierca/secret.h"
#include "tierca/store.h"
#include "tierca/conf.h"

extern const char *progname;

/* "tierca-ica: message" on stderr. */
void msg_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints err's message and returns exit status 1. */
int fail(const struct ca_err *err);
/* Flushes stdout; 1 when it failed. */
int finish(int status);

/* Where a passphrase comes from: --passphrase-file F, --passphrase-fd N,
 * else the tty. */
struct pass_opts {
	const char *file;
	int fd;
};
#define PASS_OPTS_INIT { NULL, -1 }
int pass_get(struct ca_secret *out, const struct pass_opts *po,
    const char *prompt, int confirm, struct ca_err *err);
int parse_fd(int *out, const char *s);
int parse_days(int *out, const char *s, const char *flag);

/* Disables core dumps and ptrace attach while a CA key is in memory. */
void harden_process(void);



/* Prints s as a JSON string (with quotes). */
void json_str(FILE *f, const char *s);

/* Everything the tools' flags can set; each tool's option table decides
 * which flags it accepts. */
struct args {
	const char *dir, *config, *subject, *kind, *out, *crl_url, *reason;
	const char *key, *root, *cn, *template, *pkcs12;
	const char *crl_bundle, *trust, *ca_certs;
	int der, with_ica;
	struct pass_opts pass;
	struct ca_strv permit, dns, ip, email;
	int days, yes, verify, json, if_due, no_crl, replace, accept_last;
	char **pos;
	int npos;
	/* A tool's own flags (struct tool's opt) go here. */
	void *ext;
};

enum {
	O_DIR = 256, O_SUBJECT, O_KEY, O_DAYS, O_PFILE, O_PFD, O_KIND, O_OUT,
	O_PERMIT, O_CRLURL, O_YES, O_REASON, O_VERIFY, O_ROOT, O_CN, O_DNS,
	O_IP, O_EMAIL, O_TEMPLATE, O_NOCRL, O_IFDUE, O_JSON, O_PKCS12,
	O_REPLACE, O_ACCEPT_LAST, O_VERSION, O_CRL_BUNDLE, O_TRUST, O_CA_CERTS,
	O_DER, O_WITH_ICA
};

/* The options every tool has. */
#define COMMON_OPTIONS \
	{ "config", required_argument, NULL, 'c' }, \
	{ "help", no_argument, NULL, 'h' }, \
	{ "version", no_argument, NULL, O_VERSION }, \
	{ "dir", required_argument, NULL, O_DIR }

#define NEED_KEY 1u  /* the verb handles a CA key: harden the process */
#define NO_CONFIG 2u /* tool_main loads no config: the verb does, or none
                        is read (conf is NULL) */
#define RAW_ARGS 4u  /* no flags parsed: pos/npos are the verb's words */

struct verb {
	const char *name;
	int (*fn)(struct args *, struct ca_conf *, time_t);
	unsigned flags;
};

/* Every tool is one of these: its flags, its verbs, its usage. A tool
 * of one act (tierca-renew, tierca-monitor, ...) has a single verb named
 * NULL and no verb word on its command line. */
struct tool {
	const char *name;
	void (*usage)(FILE *);
	const struct option *longopts;
	const struct verb *verbs;
	size_t nverbs;
	/* getopt's short options; NULL: "c:h" */
	const char *shortopts;
	/* The flags struct args has no field for: called with getopt's
	 * code and its argument; 0 to go on, else the exit status. */
	int (*opt)(struct args *a, int c, const char *arg);
	/* The tool's own options, handed to opt and the verb as args.ext. */
	void *ext;
	/* The exit status of a usage error; 0: 2 (tierca-monitor: 3) */
	int usage_status;
	/* ... and of a config or clock that cannot be read; 0: 1 */
	int fail_status;
};

/* tool [-c FILE] verb [options] [args]: parses, loads the config, reads
 * "now" once, runs the verb, returns the exit status. A tool of one act:
 * tool [options] [args]. */
int tool_main(const struct tool *t, int argc, char **argv);
/* A revocation reason by name; prints the list on error. */
int parse_reason(enum ca_reason *out, const char *s);

#endif
