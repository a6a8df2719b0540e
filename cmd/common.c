/*
 * common.c - messages, passphrase options, process hardening.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "common.h"

const char *progname = "tierca";

void
msg_err(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "%s: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void
msg_warn(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "%s: warning: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int
fail(const struct ca_err *err)
{
	msg_err("%s", err->msg[0] ? err->msg : "failed");
	return 1;
}

int
finish(int status)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		if (status == 0) {
			msg_err("cannot write to standard output: %s",
			    strerror(errno));
			return 1;
		}
	}
	return status;
}

int
parse_fd(int *out, const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < 0 || v > INT_MAX)
		return -1;
	*out = (int)v;
	return 0;
}

int
parse_days(int *out, const char *s, const char *flag)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < 1 || v > 36500) {
		msg_err("invalid %s '%s': want a number of days", flag, s);
		return -1;
	}
	*out = (int)v;
	return 0;
}

int
pass_get(struct ca_secret *out, const struct pass_opts *po,
    const char *prompt, int confirm, struct ca_err *err)
{
	if (po->file != NULL)
		return ca_secret_from_file(out, po->file, err);
	if (po->fd >= 0)
		return ca_secret_from_fd(out, po->fd, err);
	return ca_secret_from_tty(out, prompt, confirm, err);
}

void
harden_process(void)
{
	struct rlimit rl = { 0, 0 };

	/* A core file of a process holding a CA key is a copy of the key. */
	(void)setrlimit(RLIMIT_CORE, &rl);
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

void
json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s != NULL && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

int
take_global_config(int *argc, char ***argv, const char **config)
{
	char **v = *argv;
	int n = *argc;

	/* tool [-c FILE | --config FILE | --config=FILE] verb ... */
	while (n > 1) {
		if ((strcmp(v[1], "-c") == 0 || strcmp(v[1], "--config") == 0)) {
			if (n < 3) {
				msg_err("%s needs a file", v[1]);
				return -1;
			}
			*config = v[2];
			v[2] = v[0];
			v += 2;
			n -= 2;
		} else if (strncmp(v[1], "--config=", 9) == 0) {
			*config = v[1] + 9;
			v[1] = v[0];
			v += 1;
			n -= 1;
		} else
			break;
	}
	*argv = v;
	*argc = n;
	return 0;
}
