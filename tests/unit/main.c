/*
 * main.c - runs every CUnit suite of libca; exit 1 on any failure.
 */
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "unit.h"

char *
unit_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char *t = NULL;

	if (asprintf(&t, "%s/tierca-unit.XXXXXX", base && *base ? base :
	    "/tmp") < 0)
		return NULL;
	if (mkdtemp(t) == NULL) {
		free(t);
		return NULL;
	}
	return t;
}

char *unit_tmp;

int
unit_tmp_init(void)
{
	return (unit_tmp = unit_tmpdir()) != NULL ? 0 : -1;
}

int
unit_tmp_clean(void)
{
	unit_rmtree(unit_tmp);
	free(unit_tmp);
	unit_tmp = NULL;
	return 0;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		return rmdir(path);
	return unlink(path);
}

void
unit_rmtree(const char *dir)
{
	if (dir != NULL)
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

void
unit_write(const char *path, const char *data, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	if (fd < 0)
		return;
	if (write(fd, data, strlen(data)) < 0) {
		/* the test's own assertions will notice */
	}
	fchmod(fd, mode);
	close(fd);
}

char *
unit_read(const char *path, size_t *len)
{
	struct stat st;
	char *buf;
	size_t got = 0;
	ssize_t r;
	int fd;

	if ((fd = open(path, O_RDONLY)) == -1)
		return NULL;
	if (fstat(fd, &st) == -1 || (buf = malloc((size_t)st.st_size + 1)) ==
	    NULL) {
		close(fd);
		return NULL;
	}
	while (got < (size_t)st.st_size &&
	    (r = read(fd, buf + got, (size_t)st.st_size - got)) > 0)
		got += (size_t)r;
	close(fd);
	buf[got] = '\0';
	if (len != NULL)
		*len = got;
	return buf;
}

mode_t
unit_mode(const char *path)
{
	struct stat st;

	if (lstat(path, &st) == -1)
		return (mode_t)-1;
	return st.st_mode & 07777;
}

int
unit_run(char **out, const char *fmt, ...)
{
	char *cmd = NULL, *buf = NULL, *nb;
	size_t len = 0, cap = 0, r;
	va_list ap;
	FILE *f;
	int st, n;

	*out = NULL;
	va_start(ap, fmt);
	n = vasprintf(&cmd, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	fflush(NULL);
	if ((f = popen(cmd, "r")) == NULL) {
		free(cmd);
		return -1;
	}
	free(cmd);
	for (;;) {
		if (cap - len < 4096) {
			cap = cap ? cap * 2 : 8192;
			if ((nb = realloc(buf, cap)) == NULL)
				break;
			buf = nb;
		}
		if ((r = fread(buf + len, 1, cap - len - 1, f)) == 0)
			break;
		len += r;
	}
	st = pclose(f);
	if (buf == NULL)
		return -1;
	buf[len] = '\0';
	*out = buf;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

size_t
unit_count(const char *hay, const char *needle)
{
	size_t n = 0, k = strlen(needle);

	if (hay == NULL || k == 0)
		return 0;
	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay += k;
	}
	return n;
}

int
unit_dir_count(const char *dir)
{
	struct dirent *de;
	DIR *d;
	int n = 0;

	if ((d = opendir(dir)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

int
unit_check(int ok, unsigned line, const char *file, const char *fmt, ...)
{
	char msg[1400];
	va_list ap;

	if (ok) {
		CU_assertImplementation(CU_TRUE, line, "", file, "", CU_FALSE);
		return 1;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	CU_assertImplementation(CU_FALSE, line, msg, file, "", CU_FALSE);
	return 0;
}

int
main(void)
{
	unsigned failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	register_clock();
	register_db();
	register_crl();
	register_key();
	register_cert();
	register_conf();
	register_file();
	register_log();
	register_ca();
	register_monitor();
	register_deploy();
	register_import();
	register_pair();
	register_harness();
	register_issue();
	CU_basic_set_mode(CU_BRM_NORMAL);
	CU_basic_run_tests();
	failed = CU_get_number_of_tests_failed() +
	    CU_get_number_of_suites_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
