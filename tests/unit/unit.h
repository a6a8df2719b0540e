/*
 * unit.h - shared helpers for the CUnit suites of libca. Each
 * tests/unit/test_<module>.c defines `void register_<module>(void)`, listed
 * in main.c.
 */
#ifndef TIERCA_UNIT_H
#define TIERCA_UNIT_H

#include <CUnit/CUnit.h>
#include "ca.h"
#include "ca-int.h"

#define T0 ((time_t)1798761600) /* 2027-01-01T00:00:00Z */
#define DAY 86400

/* A fresh mkdtemp directory under $TMPDIR, removed by unit_rmtree(). */
char *unit_tmpdir(void);
void unit_rmtree(const char *dir);
/* Writes a file (mode) for fixtures. */
void unit_write(const char *path, const char *data, mode_t mode);

void register_clock(void);
void register_db(void);
void register_crl(void);
void register_key(void);
void register_cert(void);
void register_conf(void);
void register_file(void);
void register_log(void);
void register_ca(void);

#endif
