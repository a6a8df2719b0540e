/*
 * base/base-int.h - internals of the base layer.
 * Not installed; see docs/architecture.md.
 */
#ifndef TIERCA_BASE_INT_H
#define TIERCA_BASE_INT_H

#include "tierca/layer.h"

#if !defined(TIERCA_LAYER) || TIERCA_LAYER < 1 || TIERCA_LAYER >= TIERCA_LAYER_TOOL
#error "base/base-int.h is internal to libca's base layer and those above it"
#endif

#include <gnutls/gnutls.h>

#include "tierca/common.h"
#include "tierca/fs.h"
#include "tierca/secret.h"

#define CA_MAX_FILE (16u * 1024 * 1024)   /* any single PEM/config input */
#define CA_MAX_INDEX (1024u * 1024 * 1024) /* index.txt */
/* Fills err from a GnuTLS return code. */
#define ca_gnutls_err(err, ret, ...) \
	ca_err_set_gnutls((err), (ret), __VA_ARGS__)
int ca_err_set_gnutls(struct ca_err *err, int ret, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Time helpers. */
int ca_time_to_tm(struct tm *out, time_t t);
/* Wipes and free()s a datum of ca_datum_read() (malloc'd, unlike the
 * gnutls_malloc'd ones of ca_datum_wipe). */
void ca_datum_wipe_heap(gnutls_datum_t *d);

/* Reads a file into a gnutls datum (freed by ca_datum_wipe_heap). */
int ca_datum_read(gnutls_datum_t *out, const char *path, size_t max,
    struct ca_err *err);
/* Lower-case hex of n bytes. */
void ca_hex(char *out, const unsigned char *in, size_t n, int upper);
/* YYMMDDHHMMSSZ (UTCTime: 50-99 are 19xx) or YYYYMMDDHHMMSSZ. */
int ca_time_parse_asn1(time_t *out, const char *s);

/* Like strdup, but NULL in gives NULL out. */
char *ca_strdup(const char *s);

/* A growing NUL-terminated string. A failed allocation sets oom and
 * makes every later call a no-op: check oom once, at the end. */
struct ca_sbuf {
	char *p;
	size_t len, cap;
	int oom;
};
void ca_sb_put(struct ca_sbuf *b, const char *s, size_t n);
void ca_sb_printf(struct ca_sbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Unlinks every entry of dir (one level) and removes it; 0 or -1. */
int ca_dir_remove_flat(const char *dir);
/* Paths inside a CA directory (file.c): ca_open() registers the
 * directory (an fd opened once) and ca_close() lets it go; the file
 * helpers (ca_file_*, ca_dir_*, ca_io_* by path) resolve a path under a
 * registered directory from that fd, refusing any symlink below it
 * (ELOOP) and any way out of it (EXDEV). Other paths open as usual. */
int ca_dir_register(const void *owner, const char *dir);
void ca_dir_unregister(const void *owner);
/* open(2) of path, beneath its CA directory when it is in one. */
int ca_open_beneath(const char *path, int flags, mode_t mode);
/* The directory holding path's last component, opened O_RDONLY|
 * O_DIRECTORY the same way; *base points at that component in path. */
int ca_parent_open(const char **base, const char *path);
/* rename/renameat2 and unlink/rmdir, resolved the same way; no fault
 * hook (the recovery's). */
int ca_path_rename(const char *from, const char *to, unsigned flags);
int ca_path_unlink(const char *path, int dir);

/* Every write, fsync, rename, link, mkdir and truncate of libca goes
 * through these, so the TIERCA_FAULT test hook (file.c) can make the
 * N-th one fail. They behave as the system calls otherwise. */
enum ca_io_op {
	CA_IO_WRITE,
	CA_IO_FSYNC,
	CA_IO_RENAME,           /* rename, renameat2, link */
	CA_IO_MKDIR,
	CA_IO_TRUNCATE,
	CA_IO__MAX
};
/* -1 with errno set when the hook fails this call, else 0. */
int ca_io_fault(enum ca_io_op op);
ssize_t ca_io_write(int fd, const void *buf, size_t len);
int ca_io_fsync(int fd);
int ca_io_rename(const char *from, const char *to);
int ca_io_renameat2(int ofd, const char *from, int nfd, const char *to,
    unsigned flags);
int ca_io_link(const char *from, const char *to);
int ca_io_mkdir(const char *path, mode_t mode);
int ca_io_mkdirat(int dfd, const char *path, mode_t mode);
int ca_io_ftruncate(int fd, off_t len);
int ca_io_truncate(const char *path, off_t len);

#endif
