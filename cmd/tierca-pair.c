/*
 * tierca-pair - a point-to-point pair (seed 000): a throwaway CA issues
 * exactly two certificates, the proxy's and the app's, and its key is
 * gone before anything is written.
 *
 *   tierca-pair --dir D --proxy NAME --app NAME (--dns N | --ip A)...
 *       [--proxy-dns N]... [--proxy-ip A]... [--both-eku] [--years N]
 *       [--key ALG] [--json]
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"
#include "tierca/pair.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: tierca-pair --dir D --proxy NAME --app NAME "
	    "(--dns N | --ip A)...\n"
	    "           [--proxy-dns N]... [--proxy-ip A]... [--both-eku]\n"
	    "           [--years N] [--key ALG] [--json]\n"
	    "\n"
	    "Makes a throwaway CA, issues exactly two certificates with it --\n"
	    "the proxy's (clientAuth, serial 1000) and the app's (serverAuth,\n"
	    "serial 1001) -- and destroys the CA key, which never touches the\n"
	    "disk. D gets ca.crt, proxy.crt/.key, app.crt/.key, pins.txt,\n"
	    "pins.json and server snippets (nginx.conf, nginx-proxy.conf,\n"
	    "apache.conf); the pins are printed too.\n"
	    "  --dir D         a new directory (its parent must exist)\n"
	    "  --proxy NAME    the client side: CN=proxy NAME\n"
	    "  --app NAME      the server side: CN=app NAME\n"
	    "  --dns N, --ip A the app's names (at least one)\n"
	    "  --proxy-dns N, --proxy-ip A  the proxy's names (--both-eku)\n"
	    "  --both-eku      both certificates for clientAuth and serverAuth\n"
	    "  --years N       lifetime, 1 to %d (default %d)\n"
	    "  --key ALG       ecdsa-p256 (default), ecdsa-p384, ecdsa-p521,\n"
	    "                  ed25519, rsa-2048, rsa-3072, rsa-4096\n"
	    "  --json          print pins.json instead of pins.txt\n",
	    CA_PAIR_YEARS_MAX, CA_PAIR_YEARS);
}

/* Best effort against the CA key reaching swap: lock every page. Only
 * where the lock cannot starve the process later -- as root
 * (CAP_IPC_LOCK has no limit) or with an unlimited RLIMIT_MEMLOCK; with
 * a small limit MCL_FUTURE would make later allocations fail. Never
 * under AddressSanitizer, whose shadow mappings are terabytes. */
static int
lock_memory(void)
{
#if defined(__SANITIZE_ADDRESS__)
	return 0;
#else
	struct rlimit rl;

	if (geteuid() != 0 && (getrlimit(RLIMIT_MEMLOCK, &rl) != 0 ||
	    rl.rlim_cur != RLIM_INFINITY))
		return 0;
	return mlockall(MCL_CURRENT | MCL_FUTURE) == 0;
#endif
}

static int
parse_years(int *out, const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 1 || v > CA_PAIR_YEARS_MAX) {
		msg_err("invalid --years '%s': want 1 to %d", s,
		    CA_PAIR_YEARS_MAX);
		return -1;
	}
	*out = (int)v;
	return 0;
}

enum {
	P_DIR = 256, P_PROXY, P_APP, P_DNS, P_IP, P_PDNS, P_PIP, P_BOTH,
	P_YEARS, P_KEY, P_JSON, P_VERSION
};

static const struct option longopts[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, P_VERSION },
	{ "dir", required_argument, NULL, P_DIR },
	{ "proxy", required_argument, NULL, P_PROXY },
	{ "app", required_argument, NULL, P_APP },
	{ "dns", required_argument, NULL, P_DNS },
	{ "ip", required_argument, NULL, P_IP },
	{ "proxy-dns", required_argument, NULL, P_PDNS },
	{ "proxy-ip", required_argument, NULL, P_PIP },
	{ "both-eku", no_argument, NULL, P_BOTH },
	{ "years", required_argument, NULL, P_YEARS },
	{ "key", required_argument, NULL, P_KEY },
	{ "json", no_argument, NULL, P_JSON },
	{ NULL, 0, NULL, 0 }
};

static void
opts_free(struct ca_pair_opts *o)
{
	ca_strv_free(&o->dns);
	ca_strv_free(&o->ip);
	ca_strv_free(&o->proxy_dns);
	ca_strv_free(&o->proxy_ip);
}

int
main(int argc, char **argv)
{
	struct ca_pair_opts o = CA_PAIR_OPTS_INIT;
	struct ca_pair_info pi;
	struct ca_err err = { 0 };
	const char *dir = NULL;
	struct ca_strv *sv;
	time_t now;
	int c, json = 0, status = 2, locked;

	progname = "tierca-pair";
	memset(&pi, 0, sizeof(pi));
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		sv = NULL;
		switch (c) {
		case 'h': usage(stdout); status = finish(0); goto out;
		case P_VERSION: printf("tierca-pair %s\n", TIERCA_VERSION);
			status = finish(0);
			goto out;
		case P_DIR: dir = optarg; break;
		case P_PROXY: o.proxy = optarg; break;
		case P_APP: o.app = optarg; break;
		case P_DNS: sv = &o.dns; break;
		case P_IP: sv = &o.ip; break;
		case P_PDNS: sv = &o.proxy_dns; break;
		case P_PIP: sv = &o.proxy_ip; break;
		case P_BOTH: o.both_eku = 1; break;
		case P_YEARS:
			if (parse_years(&o.years, optarg) != 0)
				goto out;
			break;
		case P_KEY:
			if (ca_key_alg_parse(&o.alg, optarg) != 0) {
				msg_err("unknown key algorithm '%s'", optarg);
				goto out;
			}
			break;
		case P_JSON: json = 1; break;
		default: usage(stderr); goto out;
		}
		if (sv != NULL && ca_strv_add(sv, optarg) != 0) {
			msg_err("out of memory");
			status = 1;
			goto out;
		}
	}
	if (optind != argc) {
		msg_err("unexpected argument '%s'", argv[optind]);
		goto out;
	}
	if (dir == NULL || o.proxy == NULL || o.app == NULL) {
		msg_err("missing %s (try tierca-pair --help)", dir == NULL ?
		    "--dir D" : o.proxy == NULL ? "--proxy NAME" : "--app NAME");
		goto out;
	}
	/* Input errors are usage errors, told before any key exists. */
	if (ca_pair_check(&o, &err) != 0) {
		msg_err("%s", err.msg);
		goto out;
	}
	/* The CA key will be in this process's memory: no core file, no
	 * ptrace, and (where it cannot hurt) no swap. */
	harden_process();
	locked = lock_memory();
	(void)locked;
	umask(077);
	if (ca_clock_now(&now, &err) != 0 ||
	    ca_pair_create(&pi, dir, &o, now, &err) != 0) {
		status = fail(&err);
		goto out;
	}
	fputs(json ? pi.pins_json : pi.pins_txt, stdout);
	if (!json)
		printf("tierca-pair: made '%s'; the CA key is destroyed, this pair "
		    "can never be extended\n", pi.dir);
	status = finish(0);
out:
	ca_pair_info_clear(&pi);
	opts_free(&o);
	return status;
}
