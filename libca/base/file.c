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
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/openat2.h>

#include "base/base-int.h"

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
 * Paths inside a CA directory are resolved from the directory itself,
 * never through a symlink. ca_open() refuses a symlink at the names a CA
 * directory holds, but that is one look at one moment: a link swapped in
 * later at issued/, issued/NAME or certs/ would lead an O_NOFOLLOW open
 * of issued/NAME/key.pem, which guards only the last component, to read
 * or write elsewhere. So ca_open() registers the directory with an fd
 * opened once, and every helper here that is given a path under a
 * registered directory walks from that fd with openat2(RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS): no component below the CA directory may be a
 * symlink, none may climb out of it. The directory's own path may run
 * through symlinks (/var -> /srv/var): only what is inside is the CA's.
 * Paths outside every CA (deploy targets, templates, installs) are
 * opened as before. Kernels before 5.6 lack openat2; there the same
 * rule is kept by a walk, one component at a time, O_NOFOLLOW.
 *
 * The registry is changed only by ca_open() and ca_close(); readers
 * (ca_check's threads) run between the two.
 */
struct cadir {
	const void *owner;
	char *dir;
	size_t len;
	int fd;
};
static struct cadir *cadirs;
static size_t ncadirs;

int
ca_dir_register(const void *owner, const char *dir)
{
	struct cadir *v;
	int fd;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		return -1;
	if ((v = realloc(cadirs, (ncadirs + 1) * sizeof(*v))) == NULL) {
		close(fd);
		errno = ENOMEM;
		return -1;
	}
	cadirs = v;
	if ((v[ncadirs].dir = strdup(dir)) == NULL) {
		close(fd);
		errno = ENOMEM;
		return -1;
	}
	v[ncadirs].len = strlen(dir);
	while (v[ncadirs].len > 1 && dir[v[ncadirs].len - 1] == '/')
		v[ncadirs].len--;
	v[ncadirs].owner = owner;
	v[ncadirs].fd = fd;
	ncadirs++;
	return 0;
}

void
ca_dir_unregister(const void *owner)
{
	size_t i;

	for (i = ncadirs; i-- > 0;)
		if (cadirs[i].owner == owner) {
			close(cadirs[i].fd);
			free(cadirs[i].dir);
			memmove(&cadirs[i], &cadirs[i + 1],
			    (ncadirs - i - 1) * sizeof(*cadirs));
			ncadirs--;
		}
	if (ncadirs == 0) {
		free(cadirs);
		cadirs = NULL;
	}
}

/* The fd of the registered CA directory path lies in (the newest one
 * registered under the longest prefix), and *rel, the rest of path;
 * -1 when path is not inside a CA directory. */
static int
ca_dir_of(const char *path, const char **rel)
{
	size_t i, best = 0;
	int fd = -1;

	for (i = ncadirs; i-- > 0;) {
		const struct cadir *c = &cadirs[i];
		if (c->len > best && strncmp(path, c->dir, c->len) == 0 &&
		    path[c->len] == '/') {
			best = c->len;
			fd = c->fd;
		}
	}
	if (fd == -1)
		return -1;
	path += best;
	while (*path == '/')
		path++;
	*rel = *path != '\0' ? path : ".";
	return fd;
}

/* Without openat2: one component at a time, never following a link,
 * never climbing out. */
static int
walk_beneath(int dfd, const char *rel, int flags, mode_t mode)
{
	char *copy, *comp, *next;
	int cur = dfd, fd = -1, e = 0;

	if ((copy = strdup(rel)) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	for (comp = copy;; comp = next) {
		while (*comp == '/')
			comp++;
		if ((next = strchr(comp, '/')) != NULL)
			*next++ = '\0';
		while (next != NULL && *next == '/')
			next++;
		if (next != NULL && *next == '\0')
			next = NULL;
		if (strcmp(comp, "..") == 0) {
			e = EXDEV;
			break;
		}
		if (next == NULL) {
			fd = openat(cur, *comp != '\0' ? comp : ".",
			    flags | O_NOFOLLOW | O_CLOEXEC, mode);
			e = fd == -1 ? errno : 0;
			break;
		}
		if (*comp == '\0' || strcmp(comp, ".") == 0)
			continue;
		fd = openat(cur, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
		if (fd == -1) {
			struct stat st;
			e = errno;
			if (e == ENOTDIR && fstatat(cur, comp, &st,
			    AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
				e = ELOOP;
			break;
		}
		if (cur != dfd)
			close(cur);
		cur = fd;
		fd = -1;
	}
	if (cur != dfd)
		close(cur);
	free(copy);
	errno = e;
	return e != 0 ? -1 : fd;
}

int
ca_open_beneath(const char *path, int flags, mode_t mode)
{
	struct open_how how;
	const char *rel;
	int dfd, fd;

	if ((dfd = ca_dir_of(path, &rel)) == -1)
		return open(path, flags | O_CLOEXEC, mode);
	memset(&how, 0, sizeof(how));
	how.flags = (unsigned long long)(flags | O_NOFOLLOW | O_CLOEXEC);
	how.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0;
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
	    RESOLVE_NO_MAGICLINKS;
	/* TIERCA_NO_OPENAT2 (a test hook) takes the walk of old kernels:
	 * it keeps the same rule, so setting it weakens nothing. */
	if (getenv("TIERCA_NO_OPENAT2") != NULL)
		fd = walk_beneath(dfd, rel, flags, mode);
	else {
		do
			fd = (int)syscall(SYS_openat2, dfd, rel, &how,
			    sizeof(how));
		while (fd == -1 && errno == EAGAIN);
		if (fd == -1 && (errno == ENOSYS || errno == EPERM))
			fd = walk_beneath(dfd, rel, flags, mode);
	}
	/* O_DIRECTORY on a symlink not followed says ENOTDIR: say what it
	 * is, a symlink, so it is refused as one. */
	if (fd == -1 && errno == ENOTDIR && (flags & O_DIRECTORY)) {
		struct stat st;
		int pfd = walk_beneath(dfd, rel, O_PATH, 0);

		if (pfd != -1) {
			int link = fstat(pfd, &st) == 0 && S_ISLNK(st.st_mode);
			close(pfd);
			errno = link ? ELOOP : ENOTDIR;
		} else
			errno = ENOTDIR;
	}
	return fd;
}

/* The directory path's last component lies in, opened beneath its CA
 * directory when it is in one, and that component in *base (a pointer
 * into path). */
int
ca_parent_open(const char **base, const char *path)
{
	char *dir;
	const char *s = strrchr(path, '/');
	int fd;

	*base = s != NULL ? s + 1 : path;
	if (s == NULL)
		dir = strdup(".");
	else if (s == path)
		dir = strdup("/");
	else
		dir = strndup(path, (size_t)(s - path));
	if (dir == NULL) {
		errno = ENOMEM;
		return -1;
	}
	fd = ca_open_beneath(dir, O_RDONLY | O_DIRECTORY, 0);
	free(dir);
	return fd;
}

/* For a message: the first symlink on path below its CA directory (or
 * path itself when there is none now), in a new string. */
static char *
link_on_way(const char *path)
{
	const char *rel, *p;
	struct stat st;
	char *pre;

	if (ca_dir_of(path, &rel) == -1 || strcmp(rel, ".") == 0)
		return strdup(path);
	for (p = rel;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		if ((pre = strndup(path, (size_t)(p - path))) == NULL)
			return NULL;
		if (lstat(pre, &st) == 0 && S_ISLNK(st.st_mode))
			return pre;
		free(pre);
		if (*p == '\0')
			break;
	}
	return strdup(path);
}

/* The error of a path refused or not found beneath a CA directory. */
static int
path_err(struct ca_err *err, int e, const char *what, const char *path)
{
	char *l;
	int ret;

	if (e == ELOOP) {
		l = link_on_way(path);
		if (l != NULL && strcmp(l, path) != 0)
			ret = ca_err_set(err, CA_EPERM, "refusing symlink '%s' "
			    "on the way to '%s'", l, path);
		else
			ret = ca_err_set(err, CA_EPERM, "refusing symlink '%s'",
			    path);
		free(l);
		return ret;
	}
	if (e == EXDEV)
		return ca_err_set(err, CA_EPERM, "refusing '%s': it leads out "
		    "of its CA directory", path);
	return ca_err_set(err, e == ENOENT ? CA_ENOENT : e == ENOMEM ?
	    CA_ENOMEM : CA_EIO, "%s '%s': %s", what, path, strerror(e));
}

/* rename/link of paths, each resolved beneath its CA directory. */
static int
move_beneath(const char *from, const char *to, unsigned flags, int link)
{
	const char *fb, *tb;
	int ffd, tfd = -1, r = -1, e;

	if ((ffd = ca_parent_open(&fb, from)) == -1)
		return -1;
	if ((tfd = ca_parent_open(&tb, to)) == -1)
		goto out;
	if (link)
		r = linkat(ffd, fb, tfd, tb, 0);
	else
		r = renameat2(ffd, fb, tfd, tb, flags);
out:
	e = errno;
	close(ffd);
	if (tfd != -1)
		close(tfd);
	errno = e;
	return r;
}

int
ca_path_rename(const char *from, const char *to, unsigned flags)
{
	return move_beneath(from, to, flags, 0);
}

int
ca_path_unlink(const char *path, int dir)
{
	const char *b;
	int pfd, r, e;

	if ((pfd = ca_parent_open(&b, path)) == -1)
		return -1;
	r = unlinkat(pfd, b, dir ? AT_REMOVEDIR : 0);
	e = errno;
	close(pfd);
	errno = e;
	return r;
}

/* lstat, beneath. */
static int
lstat_beneath(const char *path, struct stat *st)
{
	const char *b;
	int pfd, r, e;

	if ((pfd = ca_parent_open(&b, path)) == -1)
		return -1;
	r = fstatat(pfd, b, st, AT_SYMLINK_NOFOLLOW);
	e = errno;
	close(pfd);
	errno = e;
	return r;
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

/* The path-based ones resolve their paths beneath the CA directory. */
int
ca_io_rename(const char *from, const char *to)
{
	return ca_io_fault(CA_IO_RENAME) ? -1 : move_beneath(from, to, 0, 0);
}

int
ca_io_renameat2(int ofd, const char *from, int nfd, const char *to,
    unsigned flags)
{
	if (ca_io_fault(CA_IO_RENAME))
		return -1;
	if (ofd == AT_FDCWD && nfd == AT_FDCWD)
		return move_beneath(from, to, flags, 0);
	return renameat2(ofd, from, nfd, to, flags);
}

int
ca_io_link(const char *from, const char *to)
{
	return ca_io_fault(CA_IO_RENAME) ? -1 : move_beneath(from, to, 0, 1);
}

int
ca_io_mkdir(const char *path, mode_t mode)
{
	const char *b;
	int pfd, r, e;

	if (ca_io_fault(CA_IO_MKDIR))
		return -1;
	if ((pfd = ca_parent_open(&b, path)) == -1)
		return -1;
	r = mkdirat(pfd, b, mode);
	e = errno;
	close(pfd);
	errno = e;
	return r;
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
	int fd, r, e;

	if (ca_io_fault(CA_IO_TRUNCATE))
		return -1;
	if ((fd = ca_open_beneath(path, O_WRONLY | O_NONBLOCK, 0)) == -1)
		return -1;
	r = ftruncate(fd, len);
	e = errno;
	close(fd);
	errno = e;
	return r;
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

	if ((fd = ca_open_beneath(dir, O_RDONLY | O_DIRECTORY, 0)) == -1)
		return errno == ELOOP || errno == EXDEV ?
		    path_err(err, errno, "", dir) :
		    ca_err_set(err, CA_EIO, "cannot open directory '%s': %s",
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
 * A temp file ".BASE.XXXXXX" in the directory pfd (dir, for messages),
 * created 0600, never over anything: mkostemp(3) relative to a directory
 * fd. With note_fd >= 0 the temp name must be known to the next run
 * should this one die: each name is noted in that lock file ("tmp
 * ABSDIR/NAME") before the file is created, so a kill at any instant
 * leaves no temp file the note does not name. The fd, or a CA_* code.
 */
static int
tmp_create(char *tmp, size_t len, int pfd, const char *dir, const char *base,
    int note_fd, struct ca_err *err)
{
	static const char set[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789";
	unsigned char r[6];
	char *abs = NULL, *line = NULL;
	int tries, fd = -1, i, ret;

	if (note_fd >= 0 && (abs = realpath(dir, NULL)) == NULL)
		return ca_err_set(err, CA_EIO, "cannot resolve directory '%s': "
		    "%s", dir, strerror(errno));
	for (tries = 0; tries < 100; tries++) {
		if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
			break;
		for (i = 0; i < 6; i++)
			r[i] = (unsigned char)set[r[i] % (sizeof(set) - 1)];
		snprintf(tmp, len, ".%s.%.6s", base, (const char *)r);
		if (abs != NULL) {
			free(line);
			if (asprintf(&line, "tmp %s/%s", strcmp(abs, "/") == 0 ?
			    "" : abs, tmp) < 0) {
				line = NULL;
				ret = ca_err_set(err, CA_ENOMEM, "out of memory");
				goto out;
			}
			if ((ret = ca_lock_note(note_fd, line, err)) != 0) {
				ca_err_wrap(err, "cannot create a file in '%s'", dir);
				goto out;
			}
		}
		fd = openat(pfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
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
 * new name survives a power cut. Everything is done relative to the
 * directory, opened once (beneath its CA directory when it is in one):
 * a symlink swapped in on the way cannot send the file elsewhere.
 */
static int
write_file(const char *path, const void *buf, size_t len, mode_t mode,
    int excl, int note_fd, struct ca_err *err)
{
	char *dir = NULL, *tmp = NULL;
	const char *base;
	int fd = -1, pfd = -1, ret = CA_EIO, made = 0;
	size_t n;

	if ((dir = dir_of(path)) == NULL)
		goto nomem;
	if ((pfd = ca_parent_open(&base, path)) == -1) {
		if (errno == ENOMEM)
			goto nomem;
		ret = errno == ELOOP || errno == EXDEV ? path_err(err, errno,
		    "", dir) : ca_err_set(err, CA_EIO, "cannot create a file in "
		    "'%s': %s", dir, strerror(errno));
		goto out;
	}
	n = strlen(base) + 16;
	if ((tmp = malloc(n)) == NULL)
		goto nomem;
	if ((fd = tmp_create(tmp, n, pfd, dir, base, note_fd, err)) < 0) {
		ret = fd;
		fd = -1;
		goto out;
	}
	made = 1;
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
		if ((ca_io_fault(CA_IO_RENAME) ? -1 :
		    linkat(pfd, tmp, pfd, base, 0)) == -1) {
			ret = ca_err_set(err, errno == EEXIST ? CA_EEXIST : CA_EIO,
			    "cannot create '%s': %s", path, strerror(errno));
			goto out;
		}
		unlinkat(pfd, tmp, 0);
	} else if ((ca_io_fault(CA_IO_RENAME) ? -1 :
	    renameat(pfd, tmp, pfd, base)) == -1) {
		ret = ca_err_set(err, CA_EIO, "cannot replace '%s': %s", path,
		    strerror(errno));
		goto out;
	}
	made = 0;
	/* A new name whose directory entry may not survive a power cut is
	 * not made: a create-only file is taken back (nobody else can have
	 * it, link(2) was exclusive). A replaced file cannot be: its old
	 * content is gone, and the error says the new one may not last. */
	ret = 0;
	if (ca_io_fsync(pfd) == -1 && errno != EINVAL) {
		ret = ca_err_set(err, CA_EIO, "cannot sync directory '%s': %s",
		    dir, strerror(errno));
		if (excl)
			unlinkat(pfd, base, 0);
	}
out:
	if (fd != -1)
		close(fd);
	if (made)
		unlinkat(pfd, tmp, 0);
	if (pfd != -1)
		close(pfd);
	free(tmp);
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

/* The whole of fd (path for messages), a regular file of at most max
 * bytes, NUL-terminated; closes fd. */
static int
read_fd(char **out, size_t *outlen, int fd, const char *path, size_t max,
    struct ca_err *err)
{
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	ssize_t r;

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
ca_file_read(char **out, size_t *outlen, const char *path, size_t max,
    struct ca_err *err)
{
	int fd;

	*out = NULL;
	/* O_NONBLOCK: a FIFO planted where a file should be must not hang
	 * the tool; it is refused below as not a regular file. */
	if ((fd = ca_open_beneath(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK,
	    0)) == -1)
		return path_err(err, errno, "cannot open", path);
	return read_fd(out, outlen, fd, path, max, err);
}

int
ca_file_read_follow(char **out, size_t *outlen, const char *path,
    size_t max, struct ca_err *err)
{
	int fd;

	*out = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1)
		return ca_err_set(err, errno == ENOENT ? CA_ENOENT : CA_EIO,
		    "cannot open '%s': %s", path, strerror(errno));
	return read_fd(out, outlen, fd, path, max, err);
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

	if (lstat_beneath(path, &st) == -1)
		return path_err(err, errno, "cannot open", path);
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

	/* Something is there when a symlink is in the way: whoever goes on
	 * to read or write it is refused with the reason. */
	return lstat_beneath(path, &st) == 0 || errno == ELOOP ||
	    errno == EXDEV;
}

int
ca_dir_create(const char *path, mode_t mode, int force_mode,
    struct ca_err *err)
{
	struct stat st;
	const char *b;
	int pfd, fd = -1, ret = 0;

	if ((pfd = ca_parent_open(&b, path)) == -1)
		return errno == ENOMEM ? ca_err_set(err, CA_ENOMEM, "out of "
		    "memory") : errno == ELOOP || errno == EXDEV ?
		    path_err(err, errno, "", path) : ca_err_set(err, CA_EIO,
		    "cannot create directory '%s': %s", path, strerror(errno));
	if (ca_io_fault(CA_IO_MKDIR) == 0 && mkdirat(pfd, b, mode) == 0) {
		/* mkdir honours the umask; the mode we asked for is meant.
		 * Set through an fd of what was made, never through a name
		 * that could have been swapped since. */
		if ((fd = openat(pfd, b, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC)) == -1 || fchmod(fd, mode) == -1)
			ret = ca_err_set(err, CA_EIO, "cannot chmod '%s': %s",
			    path, strerror(errno));
		goto out;
	}
	if (errno != EEXIST) {
		ret = ca_err_set(err, CA_EIO, "cannot create directory '%s': %s",
		    path, strerror(errno));
		goto out;
	}
	if (fstatat(pfd, b, &st, AT_SYMLINK_NOFOLLOW) == -1) {
		ret = ca_err_set(err, CA_EIO, "cannot stat '%s': %s", path,
		    strerror(errno));
		goto out;
	}
	if (S_ISLNK(st.st_mode)) {
		ret = ca_err_set(err, CA_EPERM, "refusing symlink '%s'", path);
		goto out;
	}
	if (!S_ISDIR(st.st_mode)) {
		ret = ca_err_set(err, CA_EEXIST, "'%s' exists and is not a "
		    "directory", path);
		goto out;
	}
	if (force_mode && (st.st_mode & 07777) != mode &&
	    ((fd = openat(pfd, b, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1 || fchmod(fd, mode) == -1))
		ret = ca_err_set(err, CA_EIO, "cannot chmod '%s': %s", path,
		    strerror(errno));
out:
	if (fd != -1)
		close(fd);
	close(pfd);
	return ret;
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
	/* A lock inside a CA directory is walked to from its fd (no link
	 * on the way); one under a directory fd the caller walked to is
	 * opened there. */
	if (dirfd == AT_FDCWD)
		fd = ca_open_beneath(path, O_RDWR | O_CREAT | O_NOFOLLOW, 0600);
	else
		fd = openat(dirfd, name, O_RDWR | O_CREAT | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
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
