/*
 * tierca/fs.h - files, directories, locks.
 *
 * Layer: base (docs/architecture.md). Conventions: functions are
 * ca_<module>_<verb>, return 0 or a negative CA_E* code and fill a
 * struct ca_err; they never print or exit.
 */
#ifndef TIERCA_FS_H
#define TIERCA_FS_H

#include "tierca/layer.h"

#if defined(TIERCA_LAYER) && TIERCA_LAYER < 1
#error "tierca/fs.h belongs to the base layer: a lower layer may not include it"
#endif

#include "tierca/common.h"

/* ---- files ------------------------------------------------------------- */

/* Temp file in the same directory, fchmod, write, fsync, rename, fsync dir.
 * Nothing is left behind on failure. */
int ca_file_write_atomic(const char *path, const void *buf, size_t len,
    mode_t mode, struct ca_err *err);
/* Like ca_file_write_atomic, with the temp file's absolute path noted
 * ("tmp PATH") in the lock file note_fd before the file is made: for a
 * file outside the locked directory, whose temp file the next holder of
 * the lock removes should this run die (see ca_lock_note). */
int ca_file_write_atomic_noted(const char *path, const void *buf,
    size_t len, mode_t mode, int note_fd, struct ca_err *err);
/* Like ca_file_write_atomic, but fails with CA_EEXIST when path exists
 * (link(2) instead of rename(2)): for keys and serial-named certs. */
int ca_file_write_new(const char *path, const void *buf, size_t len,
    mode_t mode, struct ca_err *err);
/* Reads a whole regular file (no symlink followed) of at most max bytes;
 * *out is NUL-terminated. */
int ca_file_read(char **out, size_t *outlen, const char *path, size_t max,
    struct ca_err *err);
/* The same, following symlinks: for files outside CA directories that
 * may be links by design (installed certificates and keys, mailboxes).
 * Never for a CA's own files. */
int ca_file_read_follow(char **out, size_t *outlen, const char *path,
    size_t max, struct ca_err *err);
/* Refuses a file that group or others may read or write. */
int ca_file_check_private(const char *path, struct ca_err *err);
int ca_file_exists(const char *path);
/* Creates dir (one level) with mode; an existing dir is accepted when it
 * is not a symlink; its mode is not changed unless `force_mode'. */
int ca_dir_create(const char *path, mode_t mode, int force_mode,
    struct ca_err *err);
int ca_dir_fsync(const char *dir, struct ca_err *err);
/* Joins a and b with '/' into a new string. */
char *ca_path_join(const char *a, const char *b);

/* One flock per CA directory (D/.lock).  wait: block until free. */
int ca_lock_acquire(int *out, const char *dir, int wait, struct ca_err *err);
/* The same on any lock file. */
int ca_lock_file(int *out, const char *path, int wait, struct ca_err *err);
/* The same on name in the directory dirfd (path: for messages). */
int ca_lock_fileat(int *out, int dirfd, const char *name, const char *path,
    int wait, struct ca_err *err);
void ca_lock_release(int fd);
/* The mark of a lock file: a holder marks it (one byte) when it starts
 * and clears it (empty) when done, so a non-empty lock file says the
 * last holder died at work. Failures are ignored: the mark only spares
 * later runs a look. */
void ca_lock_mark(int fd);
void ca_lock_clear(int fd);
/* Appends one line (no '\n' in it) after the mark and syncs it: what a
 * run notes before it makes something a later run must remove should it
 * die. */
int ca_lock_note(int fd, const char *line, struct ca_err *err);
/* The whole lines noted in a lock file (at most CA_LOCK_NOTES_MAX bytes
 * are read; a torn last line is left out). */
#define CA_LOCK_NOTES_MAX (1024u * 1024)
int ca_lock_notes(struct ca_strv *out, int fd, struct ca_err *err);

#endif
