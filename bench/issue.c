/*
 * issue.c - in-process issuance through libca, for `make bench'.
 *
 *   issue setup DIR          a throwaway hierarchy in DIR (root, and a
 *                            P-384 server intermediate in DIR/server)
 *   issue run DIR FIRST N    N ca_issue() calls into DIR/server, names
 *                            hostFIRST.. ; one line per issuance on
 *                            stdout: "<ordinal> <microseconds>"
 *   issue batch DIR FIRST N SIZE
 *                            N issuances by ca_issue_batch() in batches
 *                            of SIZE; one line per batch on stdout:
 *                            "<first ordinal> <size> <microseconds>"
 *
 * The driver (bench/run.sh) alternates `run' chunks with the GnuTLS
 * floor, so both see the same machine; the database grows across
 * chunks to 10,000 entries. Each issuance includes everything ca_issue
 * does: key generation, profile, lint, the database append and every
 * file write with its fsyncs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>

#include "tierca/tierca.h"

static double
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void
die(const char *what, const struct ca_err *err)
{
	fprintf(stderr, "bench-issue: %s: %s\n", what, err->msg);
	exit(1);
}

static char *
join(const char *a, const char *b)
{
	char *p = ca_path_join(a, b);

	if (p == NULL) {
		fprintf(stderr, "bench-issue: out of memory\n");
		exit(1);
	}
	return p;
}

/* A throwaway passphrase, read the way the tools read one: from a 0600
 * file (the root key only lives for the bench). */
static void
bench_pass(struct ca_secret *s, const char *dir)
{
	struct ca_err err = { 0, "" };
	char *p = join(dir, "root.pass");
	FILE *f;

	if ((f = fopen(p, "w")) == NULL || fchmod(fileno(f), 0600) != 0 ||
	    fputs("bench throwaway passphrase 7f3a\n", f) == EOF ||
	    fclose(f) != 0) {
		fprintf(stderr, "bench-issue: cannot write '%s'\n", p);
		exit(1);
	}
	if (ca_secret_from_file(s, p, &err) != 0)
		die("passphrase", &err);
	free(p);
}

static int
setup(const char *dir, time_t now)
{
	struct ca_root_init_opts ro = CA_ROOT_INIT_OPTS_INIT;
	struct ca_ica_init_opts io = CA_ICA_INIT_OPTS_INIT;
	struct ca_sign_ica_opts so = CA_SIGN_ICA_OPTS_INIT;
	struct ca_secret pass = { NULL, 0 };
	struct ca_issued is;
	struct ca_err err = { 0, "" };
	struct ca *root = NULL, *ica = NULL;
	char *rdir = join(dir, "root"), *sdir = join(dir, "server");
	char *csr = join(sdir, "ca.csr"), *crt = join(dir, "server.crt");
	char *rcrt = join(rdir, "ca.crt");

	bench_pass(&pass, dir);
	ro.subject = "CN=Bench Root,O=Tierca Bench";
	ro.alg = CA_KEY_ECDSA_P384;
	if (ca_root_init(rdir, &ro, &pass, now, &err) != 0)
		die("root init", &err);
	io.kind = CA_KIND_SERVER;
	io.subject = "CN=Bench Server ICA,O=Tierca Bench";
	io.alg = CA_KEY_ECDSA_P384;
	if (ca_ica_init(sdir, &io, NULL, &err) != 0)
		die("ica init", &err);
	if (ca_open(&root, rdir, CA_OPEN_LOCK, &err) != 0 ||
	    ca_load_key(root, &pass, &err) != 0)
		die("root open", &err);
	so.kind = CA_KIND_SERVER;
	if (ca_root_sign_file(&is, root, &so, csr, crt, now, &err) != 0)
		die("root sign", &err);
	ca_issued_clear(&is);
	ca_close(root);
	if (ca_open(&ica, sdir, CA_OPEN_LOCK, &err) != 0 ||
	    ca_ica_install(ica, crt, rcrt, now, &err) != 0)
		die("ica install", &err);
	ca_close(ica);
	ca_secret_wipe(&pass);
	free(rdir);
	free(sdir);
	free(csr);
	free(crt);
	free(rcrt);
	return 0;
}

static int
run(const char *dir, unsigned long first, unsigned long n, time_t now)
{
	struct ca_err err = { 0, "" };
	struct ca *ica = NULL;
	char *sdir = join(dir, "server");
	unsigned long i;

	if (ca_open(&ica, sdir, CA_OPEN_LOCK | CA_OPEN_NEED_CERT, &err) != 0 ||
	    ca_load_key(ica, NULL, &err) != 0)
		die("ica open", &err);
	for (i = first; i < first + n; i++) {
		struct ca_issue_opts o = CA_ISSUE_OPTS_INIT;
		struct ca_issued is;
		char name[32], dns[64];
		double t0;

		snprintf(name, sizeof(name), "host%lu", i);
		snprintf(dns, sizeof(dns), "host%lu.bench.internal", i);
		o.name = name;
		o.alg = CA_KEY_ECDSA_P256;
		if (ca_strv_add(&o.dns, dns) != 0)
			return 1;
		t0 = now_us();
		if (ca_issue(&is, ica, &o, now, &err) != 0)
			die(name, &err);
		printf("%lu %.1f\n", i, now_us() - t0);
		ca_issued_clear(&is);
		ca_strv_free(&o.dns);
	}
	ca_close(ica);
	free(sdir);
	return fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1;
}

static int
batch(const char *dir, unsigned long first, unsigned long n,
    unsigned long size, time_t now)
{
	struct ca_err err = { 0, "" };
	struct ca_issue_opts *o = NULL;
	struct ca_issued *is = NULL;
	struct ca *ica = NULL;
	char *sdir = join(dir, "server"), (*names)[32] = NULL;
	unsigned long i, k, m;
	double t0;

	if (size == 0 || (o = calloc(size, sizeof(*o))) == NULL ||
	    (is = calloc(size, sizeof(*is))) == NULL ||
	    (names = calloc(size, sizeof(*names))) == NULL)
		return 1;
	if (ca_open(&ica, sdir, CA_OPEN_LOCK | CA_OPEN_NEED_CERT, &err) != 0 ||
	    ca_load_key(ica, NULL, &err) != 0)
		die("ica open", &err);
	for (i = first; i < first + n; i += m) {
		m = first + n - i < size ? first + n - i : size;
		for (k = 0; k < m; k++) {
			struct ca_issue_opts d = CA_ISSUE_OPTS_INIT;
			char dns[64];

			o[k] = d;
			snprintf(names[k], sizeof(names[k]), "host%lu", i + k);
			snprintf(dns, sizeof(dns), "host%lu.bench.internal",
			    i + k);
			o[k].name = names[k];
			o[k].alg = CA_KEY_ECDSA_P256;
			if (ca_strv_add(&o[k].dns, dns) != 0)
				return 1;
		}
		t0 = now_us();
		if (ca_issue_batch(is, ica, o, m, now, &err) != 0)
			die(names[0], &err);
		printf("%lu %lu %.1f\n", i, m, now_us() - t0);
		for (k = 0; k < m; k++) {
			ca_issued_clear(&is[k]);
			ca_strv_free(&o[k].dns);
		}
	}
	ca_close(ica);
	free(sdir);
	free(o);
	free(is);
	free(names);
	return fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1;
}

int
main(int argc, char **argv)
{
	struct ca_err err = { 0, "" };
	time_t now;

	if (gnutls_global_init() < 0 || ca_clock_now(&now, &err) != 0)
		return 1;
	if (argc == 3 && strcmp(argv[1], "setup") == 0)
		return setup(argv[2], now);
	if (argc == 5 && strcmp(argv[1], "run") == 0)
		return run(argv[2], strtoul(argv[3], NULL, 10),
		    strtoul(argv[4], NULL, 10), now);
	if (argc == 6 && strcmp(argv[1], "batch") == 0)
		return batch(argv[2], strtoul(argv[3], NULL, 10),
		    strtoul(argv[4], NULL, 10), strtoul(argv[5], NULL, 10), now);
	fprintf(stderr, "usage: issue setup DIR | issue run DIR FIRST N | "
	    "issue batch DIR FIRST N SIZE\n");
	return 2;
}
