/*
 * tierca - the front command: `tierca root init ...` runs
 * `tierca-root init ...`, git-style. The tool next to this binary is
 * preferred, then $PATH.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"

static const char *const tools[] = { "root", "ica", "renew", "monitor",
	"deploy", "harness", NULL };

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: tierca <tool> <verb> [options]\n"
	    "\n"
	    "tools: root     the offline root CA (tierca-root)\n"
	    "       ica      a server or client intermediate (tierca-ica)\n"
	    "       renew    issue and renew from templates (tierca-renew)\n"
	    "       monitor  expiry and CRL checks (tierca-monitor)\n"
	    "       deploy   place managed files by their headers (tierca-deploy)\n"
	    "       harness  ephemeral hierarchy self-test (tierca-harness)\n"
	    "\n"
	    "'tierca TOOL --help' shows the tool's own help.\n");
}

int
main(int argc, char **argv)
{
	char self[PATH_MAX], path[PATH_MAX + 80], name[64], *slash;
	ssize_t n;
	size_t i;

	progname = "tierca";
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return finish(0);
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("tierca %s\n", TIERCA_VERSION);
		return finish(0);
	}
	for (i = 0; tools[i] != NULL; i++)
		if (strcmp(argv[1], tools[i]) == 0)
			break;
	if (tools[i] == NULL) {
		msg_err("unknown tool '%s' (root, ica, renew, monitor, deploy, "
		    "harness)", argv[1]);
		return 2;
	}
	snprintf(name, sizeof(name), "tierca-%s", tools[i]);
	argv[1] = name;
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		if ((slash = strrchr(self, '/')) != NULL) {
			*slash = '\0';
			snprintf(path, sizeof(path), "%s/%s", self, name);
			if (access(path, X_OK) == 0) {
				execv(path, argv + 1);
				msg_err("cannot run '%s': %s", path, strerror(errno));
				return 1;
			}
		}
	}
	execvp(name, argv + 1);
	msg_err("cannot run '%s': %s", name, strerror(errno));
	return 1;
}
