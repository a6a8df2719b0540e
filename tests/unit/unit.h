/*
 * unit.h - shared helpers for the CUnit suites of libca. Each
 * tests/unit/test_<module>.c defines `void register_<module>(void)`, listed
 * in main.c.
 */
#ifndef TIERCA_UNIT_H
#define TIERCA_UNIT_H

#include <CUnit/CUnit.h>
#include "tierca/tierca.h"
#include "deploy/deploy-int.h"

#define T0 ((time_t)1798761600) /* 2027-01-01T00:00:00Z */
#define DAY 86400

/* A suite's scratch directory: unit_tmp_init/unit_tmp_clean as the
 * suite's init and clean functions make and remove unit_tmp. */
extern char *unit_tmp;
int unit_tmp_init(void);
int unit_tmp_clean(void);

/* A fresh mkdtemp directory under $TMPDIR, removed by unit_rmtree(). */
char *unit_tmpdir(void);
void unit_rmtree(const char *dir);
/* Writes a file (mode) for fixtures. */
void unit_write(const char *path, const char *data, mode_t mode);
/* The whole file, NUL-terminated (malloc'd), or NULL. */
char *unit_read(const char *path, size_t *len);
/* Permission bits of path (lstat), or (mode_t)-1. */
mode_t unit_mode(const char *path);
/* Runs a shell command, its stdout into *out (malloc'd); returns the exit
 * status, or -1 when it could not run. For the independent checkers. */
int unit_run(char **out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* How often needle occurs in hay. */
size_t unit_count(const char *hay, const char *needle);
/* Number of entries in dir, "." and ".." not counted; -1 on error. */
int unit_dir_count(const char *dir);

/* A CUnit assertion whose report carries a formatted message, so the
 * failing row of a table is named. Returns the condition. */
int unit_check(int ok, unsigned line, const char *file, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
#define UCHECK(cond, ...) \
	unit_check(!!(cond), __LINE__, __FILE__, __VA_ARGS__)

void register_clock(void);
void register_db(void);
void register_crl(void);
void register_key(void);
void register_cert(void);
void register_conf(void);
void register_file(void);
void register_log(void);
void register_ca(void);
void register_monitor(void);
void register_deploy(void);
void register_import(void);
void register_pair(void);
void register_harness(void);
void register_issue(void);

#endif
