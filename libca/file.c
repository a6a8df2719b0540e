/*
 * file.c - safe file I/O: atomic replace, create-only, no symlinks,
 * permission checks on secrets, the per-CA lock.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ca-int.h"

char *
ca_path_join(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *p;

	if ((p = malloc(la + lb + 2)) == NULL)
		return NULL;
	memcpy(p, a, la);
	p[la] = '/';
	memcpy(p + la + 1, b, lb + 1);
	return p;
}

/*
 * Test hook: deterministic I/O fault injection. TIERCA_FAULT=KIND:N[:ERR]
 * makes the N-th call (1-based, counted per process) of KIND fail with
 * errno ERR (EIO, the default, or ENOSPC). KIND is write, fsync, rename
 * (rename, renameat2, link: every commit step), mkdir, truncate, or any
 * (every one of them counts). When TIERCA_FAULT_LOG names a file, a line
 * is appended to it when the fault fires, so a test can tell a run that
 * passed the point from one that never reached it. Unset, it costs one
 * getenv per process. It can only make an operation fail, never succeed
 * or skip a check: failing an I/O call is always a safe outcome, so the
 * variable weakens nothing when an attacker sets it.
 */
static struct {
	int init;
	enum ca_io_op op;       /* CA_IO__MAX: any */
	unsigned long n;        /* 0: off */
	int err;
	unsigned long seen;
} fault;

static const char *const io_names[CA_IO__MAX] = {
	[CA_IO_WRITE] = "write", [CA_IO_FSYNC] = "fsync",
	[CA_IO_RENAME] = "rename", [CA_IO_MKDIR] = "mkdir",
	[CA_IO_TRUNCATE] = "truncate",
};

static void
fault_init(void)
{
	const char *v = getenv("TIERCA_FAULT"), *c;
	char *end;
	size_t k;

	fault.init = 1;
	if (v == NULL || (c = strchr(v, ':')) == NULL)
		return;
	if ((size_t)(c - v) == 3 && strncmp(v, "any", 3) == 0)
		fault.op = CA_IO__MAX;
	else {
		for (k = 0; k < CA_IO__MAX; k++)
			if (strlen(io_names[k]) == (size_t)(c - v) &&
			    strncmp(v, io_names[k], (size_t)(c - v)) == 0)
				break;
		if (k == CA_IO__MAX)
			return;
		fault.op = (enum ca_io_op)k;
	}
	errno = 0;
	fault.n = strtoul(c + 1, &end, 10);
	if (errno != 0 || end == c + 1)
		fault.n = 0;
	fault.err = strcmp(end, ":ENOSPC") == 0 ? ENOSPC : EIO;
}

int
ca_io_fault(enum ca_io_op op)
{
	const char *log;
	int fd;

	if (!fault.init)
		fault_init();
	if (fault.n == 0 || (fault.op != CA_IO__MAX && fault.op != op))
		return 0;
	if (++fault.seen != fault.n)
		return 0;
	if ((log = getenv("TIERCA_FAULT_LOG")) != NULL &&
	    (fd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0600)) != -1) {
		char line[64];
		int n = snprintf(line, sizeof(line), "%s %lu\n",
		    io_names[op], fault.n);
		if (n > 0) /* the log is best effort */
			(void)!write(fd, line, (size_t)n);
		close(fd);
	}
	errno = fault.err;
	return -1;
}

ssize_t
ca_io_write(int fd, const void *buf, size_t len)
{
	return ca_io_fault(CA_IO_WRITE) ? -1 : write(fd, buf, len);
}

int
ca_io_fsync(int fd)
{
	return ca_io_fault(CA_IO_FSYNC) ? -1 : fsync(fd);
}

int
ca_io_rename(const char *from, const char *to)
{
	return ca_io_fault(CA_IO_RENAME) ? -1 : rename(from, to);
}

int
ca_io_renameat2(int ofd, const char *from, int nfd, const char *to,
    unsigned flags)
{
	return ca_io_fault(CA_IO_RENAME) ? -1 :
	    renameat2(ofd, from, nfd, to, flags);
}

int
ca_io_link(const char *from, const char *to)
{
	return ca_io_fault(CA_IO_RENAME) ? -1 : link(from, to);
}

int
ca_io_mkdir(const char *path, mode_t mode)
{
	return ca_io_fault(CA_IO_MKDIR) ? -1 : mkdir(path, mode);
}

int
ca_io_mkdirat(int dfd, const char *path, mode_t mode)
{
	return ca_io_fault(CA_IO_MKDIR) ? -1 : mkdirat(dfd, path, mode);
}

int
ca_io_ftruncate(int fd, off_t len)
{
	return ca_io_fault(CA_IO_TRUNCATE) ? -1 : ftruncate(fd, len);
}

int
ca_io_truncate(const char *path, off_t len)
{
	return ca_io_fault(CA_IO_TRUNCATE) ? -1 : truncate(path, len);
}

/* dirname into a new string ("." when there is no slash). */
static char *
dir_of(const char *path)
{
	const char *s = strrchr(path, '/');

	if (s == NULL)
		return strdup(".");
	if (s == path)
		return strdup("/");
	return strndup(path, (size_t)(s - path));
}

int
ca_dir_fsync(const char *dir, struct ca_err *err)
{
	int fd;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return ca_err_set(err, CA_EIO, "cannot open directory '%s': %s",
		    dir, strerror(errno));
	if (ca_io_fsync(fd) == -1 && errno != EINVAL) {
		int e = errno;
		close(fd);
		return ca_err_set(err, CA_EIO, "cannot sync directory '%s': %s",
		    dir, strerror(e));
	}
	close(fd);
	return 0;
}

static int
write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t w;

	while (len > 0) {
		w = ca_io_write(fd, p, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/*
 * The temp file of a write whose temp name must be known to the next run
 * should this one die: the name (".BASE.XXXXXX", as mkostemp makes it) is
 * chosen here and noted in the lock file note_fd, with the directory made
 * absolute, before the file is created. A kill at any instant leaves no
 * temp file that the note does not name.
 */
static int
create_noted(char *tmp, const char *dir, int note_fd, struct ca_err *err)
{
	static const char alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789";
	unsigned char rnd[6];
	char *abs = NULL, *line = NULL, *x = tmp + strlen(tmp) - 6;
	const char *base = strrchr(tmp, '/') + 1;
	int fd = -1, tries, ret;
	size_t i;

	if ((abs = realpath(dir, NULL)) == NULL)
		return ca_err_set(err, CA_EIO, "cannot resolve directory '%s': "
		    "%s", dir, strerror(errno));
	for (tries = 0; tries < 16; tries++) {
		if (gnutls_rnd(GNUTLS_RND_NONCE, rnd, sizeof(rnd)) != 0) {
			ret = ca_err_set(err, CA_ECRYPTO, "no random bytes for a "
			    "temp name");
			goto out;
		}
		for (i = 0; i < sizeof(rnd); i++)
			x[i] = alnum[rnd[i] % (sizeof(alnum) - 1)];
		free(line);
		if (asprintf(&line, "tmp %s/%s", strcmp(abs, "/") == 0 ? "" :
		    abs, base) < 0) {
			line = NULL;
			ret = ca_err_set(err, CA_ENOMEM, "out of memory");
			goto out;
		}
		if ((ret = ca_lock_note(note_fd, line, err)) != 0) {
			ca_err_wrap(err, "cannot create a file in '%s'", dir);
			goto out;
		}
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
		if (fd != -1 || errno != EEXIST)
			break;
	}
	if (fd == -1)
		ret = ca_err_set(err, CA_EIO, "cannot create a file in '%s': %s",
		    dir, strerror(errno));
	else
		ret = fd;
out:
	free(line);
	free(abs);
	return ret;
}

/*
 * The one write path: a temp file next to the target (so rename is atomic),
 * its mode set before any byte lands, fsynced, then renamed (or linked
 * when the target must not exist yet), then the directory fsynced so the
 * new name survives a power cut.
 */
static int
write_file(const char *path, const void *buf, size_t len, mode_t mode,
    int excl, int note_fd, struct ca_err *err)
{
	char *dir = NULL, *tmp = NULL;
	const char *base;
	int fd = -1, ret = CA_EIO;
	size_t n;

	if ((dir = dir_of(path)) == NULL)
		goto nomem;
	base = strrchr(path, '/');
	base = base != NULL ? base + 1 : path;
	n = strlen(dir) + strlen(base) + 16;
	if ((tmp = malloc(n)) == NULL)
		goto nomem;
	snprintf(tmp, n, "%s/.%s.XXXXXX", dir, base);
	if (note_fd >= 0)
		fd = create_noted(tmp, dir, note_fd, err);
	else if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1)
		fd = ca_err_set(err, CA_EIO, "cannot create a file in '%s': %s",
		    dir, strerror(errno));
	if (fd < 0) {
		ret = fd;
		fd = -1;
		free(tmp);
		tmp = NULL;
		goto out;
	}
	if (fchmod(fd, mode) == -1 || write_all(fd, buf, len) == -1 ||
	    ca_io_fsync(fd) == -1) {
		ret = ca_err_set(err, CA_EIO, "cannot write '%s': %s", path,
		    strerror(errno));
		goto out;
	}
	if (close(fd) == -1) {
		fd = -1;
		ret = ca_err_set(err, CA_EIO, "cannot write '%s': %s", path,
		    strerror(errno));
		goto out;
	}
	fd = -1;
	if (excl) {
		if (ca_io_link(tmp, path) == -1) {
			ret = ca_err_set(err, errno == EEXIST ? CA_EEXIST : CA_EIO,
			    "cannot create '%s': %s", path, strerror(errno));
			goto out;
		}
		unlink(tmp);
	} else if (ca_io_rename(tmp, path) == -1) {
		ret = ca_err_set(err, CA_EIO, "cannot replace '%s': %s", path,
		    strerror(errno));
		goto out;
	}
	free(tmp);
	tmp = NULL;
	/* A new name whose directory entry may not survive a power cut is
	 * not made: a create-only file is taken back (nobody else can have
	 * it, link(2) was exclusive). A replaced file cannot be: its old
	 * content is gone, and the error says the new one may not last. */
	if ((ret = ca_dir_fsync(dir, err)) != 0 && excl)
		unlink(path);
out:
	if (fd != -1)
		close(fd);
	if (tmp != NULL) {
		unlink(tmp);
		free(tmp);
	}
	free(dir);
	return ret;
nomem:
	ret = ca_err_set(err, CA_ENOMEM, "out of memory");
	goto out;
}

int
ca_file_write_atomic(const char *path, const void *buf, size_t len,
    mode_t mode, struct ca_err *err)
{
	return write_file(path, buf, len, mode, 0, -1, err);
}

int
ca_file_write_atomic_noted(const char *path, const void *buf, size_t len,
    mode_t mode, int note_fd, struct ca_err *err)
{
	return write_file(path, buf, len, mode, 0, note_fd, err);
}

int
ca_file_write_new(const char *path, const void *buf, size_t len,
    mode_t mode, struct ca_err *err)
{
	return write_file(path, buf, len, mode, 1, -1, err);
}

int
ca_file_read(char **out, size_t *outlen, const char *path, size_t max,
    struct ca_err *err)
{
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	ssize_t r;
	int fd;

	*out = NULL;
	/* O_NONBLOCK: a FIFO planted where a file should be must not hang
	 * the tool; it is refused below as not a regular file. */
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)) ==
	    -1) {
		if (errno == ELOOP)
			return ca_err_set(err, CA_EPERM,
			    "refusing symlink '%s'", path);
		return ca_err_set(err, errno == ENOENT ? CA_ENOENT : CA_EIO,
		    "cannot open '%s': %s", path, strerror(errno));
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		return ca_err_set(err, CA_EINVAL, "'%s' is not a regular file",
		    path);
	}
	if ((size_t)st.st_size > max) {
		close(fd);
		return ca_err_set(err, CA_EINVAL, "'%s' is too large (%lld bytes)",
		    path, (long long)st.st_size);
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		return ca_err_set(err, CA_ENOMEM, "out of memory");
	}
	while (got < (size_t)st.st_size) {
		r = read(fd, buf + got, (size_t)st.st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			int e = r < 0 ? errno : EIO;
			close(fd);
			free(buf);
			return ca_err_set(err, CA_EIO, "cannot read '%s': %s",
			    path, strerror(e));
		}
		got += (size_t)r;
	}
	close(fd);
	buf[got] = '\0';
	*out = buf;
	if (outlen != NULL)
		*outlen = got;
	return 0;
}

int
ca_datum_read(gnutls_datum_t *out, const char *path, size_t max,
    struct ca_err *err)
{
	char *buf;
	size_t len;
	int ret;

	out->data = NULL;
	out->size = 0;
	if ((ret = ca_file_read(&buf, &len, path, max, err)) != 0)
		return ret;
	out->data = (unsigned char *)buf;
	out->size = (unsigned)len;
	return 0;
}

int
ca_file_check_private(const char *path, struct ca_err *err)
{
	struct stat st;

	if (lstat(path, &st) == -1)
		return ca_err_set(err, errno == ENOENT ? CA_ENOENT : CA_EIO,
		    "cannot open '%s': %s", path, strerror(errno));
	if (S_ISLNK(st.st_mode))
		return ca_err_set(err, CA_EPERM, "refusing symlink '%s'", path);
	if (!S_ISREG(st.st_mode))
		return ca_err_set(err, CA_EINVAL, "'%s' is not a regular file",
		    path);
	if (st.st_mode & 077)
		return ca_err_set(err, CA_EPERM,
		    "'%s' is accessible by group or others (mode %04o): "
		    "chmod 600 it", path, (unsigned)(st.st_mode & 07777));
	return 0;
}

int
ca_file_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

int
ca_dir_create(const char *path, mode_t mode, int force_mode,
    struct ca_err *err)
{
	struct stat st;

	if (ca_io_mkdir(path, mode) == 0) {
		/* mkdir honours the umask; the mode we asked for is meant. */
		if (chmod(path, mode) == -1)
			return ca_err_set(err, CA_EIO, "cannot chmod '%s': %s",
			    path, strerror(errno));
		return 0;
	}
	if (errno != EEXIST)
		return ca_err_set(err, CA_EIO, "cannot create directory '%s': %s",
		    path, strerror(errno));
	if (lstat(path, &st) == -1)
		return ca_err_set(err, CA_EIO, "cannot stat '%s': %s", path,
		    strerror(errno));
	if (S_ISLNK(st.st_mode))
		return ca_err_set(err, CA_EPERM, "refusing symlink '%s'", path);
	if (!S_ISDIR(st.st_mode))
		return ca_err_set(err, CA_EEXIST, "'%s' exists and is not a "
		    "directory", path);
	if (force_mode && (st.st_mode & 07777) != mode &&
	    chmod(path, mode) == -1)
		return ca_err_set(err, CA_EIO, "cannot chmod '%s': %s", path,
		    strerror(errno));
	return 0;
}

int
ca_lock_file(int *out, const char *path, int wait, struct ca_err *err)
{
	return ca_lock_fileat(out, AT_FDCWD, path, path, wait, err);
}

int
ca_lock_fileat(int *out, int dirfd, const char *name, const char *path,
    int wait, struct ca_err *err)
{
	int fd;

	*out = -1;
	fd = openat(dirfd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd == -1)
		return ca_err_set(err, CA_EIO, "cannot open lock '%s': %s", path,
		    strerror(errno));
	while (flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) == -1) {
		int e = errno;
		if (e == EINTR)
			continue;
		close(fd);
		return ca_err_set(err, e == EWOULDBLOCK ? CA_ELOCK : CA_EIO,
		    "cannot lock '%s': %s", path, e == EWOULDBLOCK ?
		    "another tierca process holds it" : strerror(e));
	}
	*out = fd;
	return 0;
}

int
ca_lock_acquire(int *out, const char *dir, int wait, struct ca_err *err)
{
	char *path;
	int ret;

	*out = -1;
	if ((path = ca_path_join(dir, ".lock")) == NULL)
		return ca_err_set(err, CA_ENOMEM, "out of memory");
	ret = ca_lock_file(out, path, wait, err);
	free(path);
	return ret;
}

void
ca_lock_release(int fd)
{
	if (fd >= 0)
		close(fd);
}

/*
 * A lock file is empty while nobody works under it. A run marks it (one
 * byte, a hole: no free block needed) once it holds the lock and empties
 * it when done, so a non-empty lock file tells the next holder that the
 * last one died at work. What a run notes after the mark, one line at a
 * time, tells the next one what to look for.
 */
void
ca_lock_mark(int fd)
{
	if (fd >= 0)
		(void)!ftruncate(fd, 1);
}

void
ca_lock_clear(int fd)
{
	if (fd >= 0)
		(void)!ftruncate(fd, 0);
}

int
ca_lock_note(int fd, const char *line, struct ca_err *err)
{
	struct stat st;
	size_t len = strlen(line);
	char *buf = NULL;
	off_t at;
	int ret = 0;

	if (fstat(fd, &st) == -1)
		return ca_err_set(err, CA_EIO, "cannot write the lock file: %s",
		    strerror(errno));
	at = st.st_size > 0 ? st.st_size : 1;
	if ((buf = malloc(len + 1)) == NULL)
		return ca_err_set(err, CA_ENOMEM, "out of memory");
	memcpy(buf, line, len);
	buf[len] = '\n';
	/* One write with the newline last: a torn note has none, and a
	 * reader takes only whole lines. Synced, so that what it names is
	 * never on disk before it. */
	if (lseek(fd, at, SEEK_SET) == -1 || write_all(fd, buf, len + 1) == -1 ||
	    ca_io_fsync(fd) == -1) {
		ret = ca_err_set(err, CA_EIO, "cannot write the lock file: %s",
		    strerror(errno));
		(void)!ftruncate(fd, at);
	}
	free(buf);
	return ret;
}

int
ca_lock_notes(struct ca_strv *out, int fd, struct ca_err *err)
{
	struct stat st;
	char *buf = NULL, *p, *nl, *end;
	size_t len, got = 0;
	ssize_t r;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	if (fstat(fd, &st) == -1)
		return ca_err_set(err, CA_EIO, "cannot read the lock file: %s",
		    strerror(errno));
	len = (size_t)st.st_size < CA_LOCK_NOTES_MAX ? (size_t)st.st_size :
	    CA_LOCK_NOTES_MAX;
	if ((buf = malloc(len + 1)) == NULL)
		return ca_err_set(err, CA_ENOMEM, "out of memory");
	while (got < len) {
		r = pread(fd, buf + got, len - got, (off_t)got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	end = buf + got;
	for (p = buf; p < end && (nl = memchr(p, '\n', (size_t)(end - p))) !=
	    NULL; p = nl + 1) {
		*nl = '\0';
		while (p < nl && *p == '\0')  /* the mark */
			p++;
		if (p == nl || memchr(p, '\0', (size_t)(nl - p)) != NULL)
			continue;
		if (ca_strv_add(out, p) != 0) {
			ca_strv_free(out);
			ret = ca_err_set(err, CA_ENOMEM, "out of memory");
			break;
		}
	}
	free(buf);
	return ret;
}
