/*
 * common.h - what every tierca tool shares: messages, flags that take a
 * passphrase, config lookup. No crypto here (see the Makefile's layering
 * check); that is libca's.
 */
#ifndef TIERCA_CMD_COMMON_H
#define TIERCA_CMD_COMMON_H

#include <stdio.h>
#include "ca.h"

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



/* Takes -c/--config FILE given before the verb. -1 on a usage error. */
int take_global_config(int *argc, char ***argv, const char **config);

/* Prints s as a JSON string (with quotes). */
void json_str(FILE *f, const char *s);
#endif
