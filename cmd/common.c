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
#include <sys/stat.h>

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

static int
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

int
parse_reason(enum ca_reason *out, const char *s)
{
	if (ca_reason_parse(out, s) == 0)
		return 0;
	msg_err("unknown reason '%s' (keyCompromise, CACompromise, "
	    "affiliationChanged, superseded, cessationOfOperation, "
	    "certificateHold, privilegeWithdrawn, AACompromise, unspecified)",
	    s);
	return -1;
}

static void
args_free(struct args *a)
{
	ca_strv_free(&a->permit);
	ca_strv_free(&a->dns);
	ca_strv_free(&a->ip);
	ca_strv_free(&a->email);
}

static int
usage_error(const struct tool *t)
{
	t->usage(stderr);
	return t->usage_status ? t->usage_status : 2;
}

/* Returns -1 to go on, or an exit status. */
static int
parse_args(struct args *a, const struct tool *t, int argc, char **argv)
{
	int c, ret;

	a->pass.fd = -1;
	optind = 1;
	while ((c = getopt_long(argc, argv, t->shortopts ? t->shortopts : "c:h",
	    t->longopts, NULL)) != -1) {
		switch (c) {
		case 'c': a->config = optarg; break;
		case 'h': t->usage(stdout); return finish(0);
		case O_VERSION: printf("%s %s\n", t->name, TIERCA_VERSION);
			return finish(0);
		case O_DIR: a->dir = optarg; break;
		case O_SUBJECT: a->subject = optarg; break;
		case O_KEY: a->key = optarg; break;
		case O_DAYS:
			if (parse_days(&a->days, optarg, "--days") != 0)
				return 2;
			break;
		case O_PFILE: a->pass.file = optarg; break;
		case O_PFD:
			if (parse_fd(&a->pass.fd, optarg) != 0) {
				msg_err("invalid --passphrase-fd '%s'", optarg);
				return 2;
			}
			break;
		case O_KIND: a->kind = optarg; break;
		case O_OUT: a->out = optarg; break;
		case O_PERMIT: ca_strv_add(&a->permit, optarg); break;
		case O_CRLURL: a->crl_url = optarg; break;
		case O_YES: a->yes = 1; break;
		case O_REASON: a->reason = optarg; break;
		case O_VERIFY: a->verify = 1; break;
		case O_ROOT: a->root = optarg; break;
		case O_CN: a->cn = optarg; break;
		case O_DNS: ca_strv_add(&a->dns, optarg); break;
		case O_IP: ca_strv_add(&a->ip, optarg); break;
		case O_EMAIL: ca_strv_add(&a->email, optarg); break;
		case O_TEMPLATE: a->template = optarg; break;
		case O_NOCRL: a->no_crl = 1; break;
		case O_IFDUE: a->if_due = 1; break;
		case O_JSON: a->json = 1; break;
		case O_PKCS12: a->pkcs12 = optarg; break;
		case O_CRL_BUNDLE: a->crl_bundle = optarg; break;
		case O_TRUST: a->trust = optarg; break;
		case O_CA_CERTS: a->ca_certs = optarg; break;
		case O_DER: a->der = 1; break;
		case O_WITH_ICA: a->with_ica = 1; break;
		case O_REPLACE: a->replace = 1; break;
		case O_ACCEPT_LAST: a->accept_last = 1; break;
		case '?': return usage_error(t);
		default:
			if (t->opt == NULL)
				return usage_error(t);
			if ((ret = t->opt(a, c, optarg)) != 0)
				return ret;
		}
	}
	a->pos = argv + optind;
	a->npos = argc - optind;
	if (a->pass.file != NULL && a->pass.fd >= 0) {
		msg_err("give --passphrase-file or --passphrase-fd, not both");
		return 2;
	}
	return -1;
}

/* Which verb argv[1] names; *out NULL and the status to exit with
 * when it names none (or asks for help or the version). */
static int
find_verb(const struct verb **out, const struct tool *t, int argc,
    char **argv)
{
	size_t i;

	*out = NULL;
	if (argc < 2)
		return usage_error(t);
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		t->usage(stdout);
		return finish(0);
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("%s %s\n", t->name, TIERCA_VERSION);
		return finish(0);
	}
	for (i = 0; i < t->nverbs; i++)
		if (strcmp(argv[1], t->verbs[i].name) == 0) {
			*out = &t->verbs[i];
			return 0;
		}
	msg_err("unknown verb '%s' (try %s --help)", argv[1], t->name);
	return 2;
}

int
tool_main(const struct tool *t, int argc, char **argv)
{
	const char *global_config = NULL;
	const struct verb *v;
	struct ca_conf conf, *cp = NULL;
	struct ca_err err = { 0 };
	struct args a;
	time_t now;
	int ret, skip = 1;

	progname = t->name;
	memset(&a, 0, sizeof(a));
	a.ext = t->ext;
	if (t->nverbs == 1 && t->verbs[0].name == NULL) {
		/* tool [options] [args]: the one act, no verb word. */
		v = &t->verbs[0];
		skip = 0;
	} else {
		if (take_global_config(&argc, &argv, &global_config) != 0)
			return 2;
		if ((ret = find_verb(&v, t, argc, argv)) != 0 || v == NULL)
			return ret;
	}
	if (v->flags & RAW_ARGS) {
		/* The verb word and what follows it, untouched. */
		a.pos = argv + 1;
		a.npos = argc - 1;
		return finish(v->fn(&a, NULL, 0));
	}
	/* getopt sees the verb word as its argv[0]. */
	if ((ret = parse_args(&a, t, argc - skip, argv + skip)) >= 0) {
		args_free(&a);
		return ret;
	}
	if (a.config == NULL)
		a.config = global_config;
	if (v->flags & NEED_KEY)
		harden_process();
	umask(022);
	if (!(v->flags & NO_CONFIG)) {
		if (ca_conf_find(&conf, a.config, &err) != 0) {
			args_free(&a);
			fail(&err);
			return t->fail_status ? t->fail_status : 1;
		}
		cp = &conf;
	}
	if (ca_clock_now(&now, &err) != 0) {
		fail(&err);
		ret = t->fail_status ? t->fail_status : 1;
	} else
		ret = v->fn(&a, cp, now);
	if (cp != NULL)
		ca_conf_free(cp);
	args_free(&a);
	return finish(ret);
}
