/*
 * fuzz.h - what the libFuzzer targets share: the parsers under test read
 * files (with O_NOFOLLOW, so not /proc/self/fd links), hence each input
 * is written to a file in a private directory made once per process and
 * removed at exit.
 */
#ifndef TIERCA_FUZZ_H
#define TIERCA_FUZZ_H

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "deploy/deploy-int.h"

static char fuzz_dir[64];
static char fuzz_path[128];

static void
fuzz_cleanup(void)
{
	if (fuzz_path[0])
		unlink(fuzz_path);
	if (fuzz_dir[0])
		rmdir(fuzz_dir);
}

/* Writes the input to NAME in the private directory; returns its path,
 * or NULL when the file system refuses (the input is then skipped). */
static const char *
fuzz_file(const uint8_t *data, size_t size, const char *name)
{
	int fd;

	if (!fuzz_dir[0]) {
		const char *t = getenv("TMPDIR");
		snprintf(fuzz_dir, sizeof(fuzz_dir), "%s/tierca-fuzz.XXXXXX",
		    t && strlen(t) < 32 ? t : "/tmp");
		if (mkdtemp(fuzz_dir) == NULL) {
			fuzz_dir[0] = '\0';
			return NULL;
		}
		atexit(fuzz_cleanup);
	}
	snprintf(fuzz_path, sizeof(fuzz_path), "%s/%s", fuzz_dir, name);
	if ((fd = open(fuzz_path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1)
		return NULL;
	if (size > 0 && write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return NULL;
	}
	close(fd);
	return fuzz_path;
}

#endif
