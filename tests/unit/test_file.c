/*
 * test_file.c - libca/file.c: atomic and create-only writes, reads that
 * refuse symlinks, private-file checks, directories, the per-CA lock.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "unit.h"


/* A fresh empty directory under unit_tmp for one test. */
static void
subdir(char *out, size_t len, const char *name)
{
	snprintf(out, len, "%s/%s", unit_tmp, name);
	if (mkdir(out, 0755) != 0)
		CU_FAIL("mkdir");
}

static const struct {
	const char *content;
	size_t len;
	mode_t mode;
} atomic_cases[] = {
	{ "first version\n", 14, 0644 },
	{ "second, longer version\n", 23, 0600 },
	{ "", 0, 0640 },
	{ "bin\0ary\n", 8, 0444 },
	{ "back to 0644\n", 13, 0644 },
};

static void
test_write_atomic(void)
{
	char dir[512], path[600];
	mode_t old;
	size_t i;

	subdir(dir, sizeof(dir), "atomic");
	snprintf(path, sizeof(path), "%s/file.txt", dir);
	/* The mode asked for is the mode, whatever the umask. */
	old = umask(077);
	for (i = 0; i < sizeof(atomic_cases) / sizeof(atomic_cases[0]); i++) {
		struct ca_err err;
		size_t len = 99;
		char *got;
		int ret;

		memset(&err, 0, sizeof(err));
		ret = ca_file_write_atomic(path, atomic_cases[i].content,
		    atomic_cases[i].len, atomic_cases[i].mode, &err);
		UCHECK(ret == 0, "write %zu: %d %s", i, ret, err.msg);
		got = unit_read(path, &len);
		UCHECK(got != NULL && len == atomic_cases[i].len &&
		    memcmp(got, atomic_cases[i].content, len) == 0, "write %zu: "
		    "content (%zu bytes)", i, len);
		free(got);
		UCHECK(unit_mode(path) == atomic_cases[i].mode, "write %zu: mode "
		    "0%o, want 0%o", i, (unsigned)unit_mode(path),
		    (unsigned)atomic_cases[i].mode);
		/* no temp file left next to it */
		UCHECK(unit_dir_count(dir) == 1, "write %zu: %d entries in the "
		    "directory", i, unit_dir_count(dir));
	}
	umask(old);
}

static void
test_write_atomic_fails(void)
{
	struct ca_err err;
	char dir[512], path[600];

	subdir(dir, sizeof(dir), "atomic-fail");
	/* into a directory that does not exist */
	snprintf(path, sizeof(path), "%s/missing/file.txt", dir);
	memset(&err, 0, sizeof(err));
	CU_ASSERT_EQUAL(ca_file_write_atomic(path, "x", 1, 0644, &err), CA_EIO);
	CU_ASSERT_EQUAL(err.code, CA_EIO);
	CU_ASSERT(strlen(err.msg) > 0);
	/* over a directory: rename fails, and the temp file is removed */
	snprintf(path, sizeof(path), "%s/sub", dir);
	CU_ASSERT_EQUAL(mkdir(path, 0755), 0);
	CU_ASSERT_EQUAL(ca_file_write_atomic(path, "x", 1, 0644, &err), CA_EIO);
	CU_ASSERT_EQUAL(unit_dir_count(dir), 1);
	CU_ASSERT_EQUAL(unit_dir_count(path), 0);
}

static void
test_write_new(void)
{
	struct ca_err err;
	char dir[512], path[600], link_[600], *got;

	subdir(dir, sizeof(dir), "new");
	snprintf(path, sizeof(path), "%s/key.pem", dir);
	CU_ASSERT_EQUAL(ca_file_write_new(path, "one\n", 4, 0600, &err), 0);
	CU_ASSERT_EQUAL(unit_mode(path), 0600);
	memset(&err, 0, sizeof(err));
	CU_ASSERT_EQUAL(ca_file_write_new(path, "two\n", 4, 0644, &err),
	    CA_EEXIST);
	CU_ASSERT_EQUAL(err.code, CA_EEXIST);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, path));
	got = unit_read(path, NULL);
	CU_ASSERT(got != NULL && strcmp(got, "one\n") == 0);
	free(got);
	CU_ASSERT_EQUAL(unit_mode(path), 0600);
	CU_ASSERT_EQUAL(unit_dir_count(dir), 1);
	/* a dangling symlink is something that exists: not followed */
	snprintf(link_, sizeof(link_), "%s/dangling.pem", dir);
	CU_ASSERT_EQUAL(symlink("/nonexistent/target", link_), 0);
	CU_ASSERT_EQUAL(ca_file_write_new(link_, "x", 1, 0600, &err),
	    CA_EEXIST);
	CU_ASSERT_FALSE(ca_file_exists("/nonexistent/target"));
	CU_ASSERT_EQUAL(unit_dir_count(dir), 2);
}

static void
test_read(void)
{
	static const char data[] = "0123456789";
	struct ca_err err;
	char dir[512], path[600], link_[600], sub[600], *buf;
	size_t len = 0;

	subdir(dir, sizeof(dir), "read");
	snprintf(path, sizeof(path), "%s/ten", dir);
	unit_write(path, data, 0644);
	/* whole file, NUL-terminated, at exactly max */
	CU_ASSERT_EQUAL(ca_file_read(&buf, &len, path, 10, &err), 0);
	CU_ASSERT(buf != NULL && len == 10 && strcmp(buf, data) == 0);
	free(buf);
	CU_ASSERT_EQUAL(ca_file_read(&buf, NULL, path, 1000, &err), 0);
	free(buf);
	/* larger than max */
	memset(&err, 0, sizeof(err));
	buf = (char *)1;
	CU_ASSERT_EQUAL(ca_file_read(&buf, &len, path, 9, &err), CA_EINVAL);
	CU_ASSERT_PTR_NULL(buf);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "too large"));
	/* a symlink is refused, even to a good file */
	snprintf(link_, sizeof(link_), "%s/link", dir);
	CU_ASSERT_EQUAL(symlink(path, link_), 0);
	memset(&err, 0, sizeof(err));
	CU_ASSERT_EQUAL(ca_file_read(&buf, &len, link_, 1000, &err), CA_EPERM);
	CU_ASSERT_PTR_NULL(buf);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "symlink"));
	/* missing, a directory, empty */
	snprintf(sub, sizeof(sub), "%s/absent", dir);
	CU_ASSERT_EQUAL(ca_file_read(&buf, &len, sub, 1000, &err), CA_ENOENT);
	snprintf(sub, sizeof(sub), "%s/adir", dir);
	CU_ASSERT_EQUAL(mkdir(sub, 0755), 0);
	CU_ASSERT_EQUAL(ca_file_read(&buf, &len, sub, 1000, &err), CA_EINVAL);
	snprintf(sub, sizeof(sub), "%s/empty", dir);
	unit_write(sub, "", 0644);
	CU_ASSERT_EQUAL(ca_file_read(&buf, &len, sub, 1000, &err), 0);
	CU_ASSERT(buf != NULL && len == 0 && buf[0] == '\0');
	free(buf);
	/* A FIFO is not a regular file: refused at once, not waited on
	 * (a child with an alarm, so a hang cannot stop the run). */
	snprintf(sub, sizeof(sub), "%s/fifo", dir);
	CU_ASSERT_EQUAL(mkfifo(sub, 0600), 0);
	{
		pid_t pid;
		int st = 0, p[2];
		char c = 0;

		/* The child's answer comes through a pipe, not its exit
		 * status, which a leak checker may change. */
		CU_ASSERT_EQUAL_FATAL(pipe(p), 0);
		fflush(NULL);
		if ((pid = fork()) == 0) {
			close(p[0]);
			alarm(3);
			c = ca_file_read(&buf, &len, sub, 1000, NULL) == CA_EINVAL ?
			    'E' : 'X';
			if (write(p[1], &c, 1) != 1)
				_exit(2);
			_exit(0);
		}
		close(p[1]);
		CU_ASSERT_FATAL(pid > 0);
		if (read(p[0], &c, 1) != 1)
			c = 0;
		close(p[0]);
		CU_ASSERT_EQUAL(waitpid(pid, &st, 0), pid);
		UCHECK(c == 'E', "ca_file_read on a FIFO without a writer: %s",
		    c == 0 ? "blocked (killed by the alarm)" : "not refused with "
		    "CA_EINVAL");
	}
}

static const struct {
	const char *name;
	mode_t mode;
	int kind; /* 0 file, 1 symlink to a 0600 file, 2 dir, 3 missing */
	int ret;
} private_cases[] = {
	{ "0600", 0600, 0, 0 },
	{ "0400", 0400, 0, 0 },
	{ "0700", 0700, 0, 0 },
	{ "0640", 0640, 0, CA_EPERM },
	{ "0604", 0604, 0, CA_EPERM },
	{ "0620", 0620, 0, CA_EPERM },
	{ "0602", 0602, 0, CA_EPERM },
	{ "0644", 0644, 0, CA_EPERM },
	{ "symlink", 0600, 1, CA_EPERM },
	{ "directory", 0700, 2, CA_EINVAL },
	{ "missing", 0600, 3, CA_ENOENT },
};

static void
test_check_private(void)
{
	char dir[512], path[600], target[600];
	size_t i;

	subdir(dir, sizeof(dir), "private");
	for (i = 0; i < sizeof(private_cases) / sizeof(private_cases[0]); i++) {
		struct ca_err err;
		int ret;

		snprintf(path, sizeof(path), "%s/p%zu", dir, i);
		snprintf(target, sizeof(target), "%s/p%zu.target", dir, i);
		switch (private_cases[i].kind) {
		case 0:
			unit_write(path, "secret\n", private_cases[i].mode);
			break;
		case 1:
			unit_write(target, "secret\n", 0600);
			CU_ASSERT_EQUAL(symlink(target, path), 0);
			break;
		case 2:
			CU_ASSERT_EQUAL(mkdir(path, private_cases[i].mode), 0);
			break;
		}
		memset(&err, 0, sizeof(err));
		ret = ca_file_check_private(path, &err);
		UCHECK(ret == private_cases[i].ret, "%s: ret %d, want %d (%s)",
		    private_cases[i].name, ret, private_cases[i].ret, err.msg);
		if (ret != 0)
			UCHECK(strstr(err.msg, path) != NULL, "%s: message '%s'",
			    private_cases[i].name, err.msg);
	}
}

static void
test_dir_create(void)
{
	struct ca_err err;
	char dir[512], d[600], link_[600], file[600];
	mode_t old;

	subdir(dir, sizeof(dir), "dirs");
	snprintf(d, sizeof(d), "%s/private", dir);
	/* new: exactly the mode asked for, whatever the umask */
	old = umask(0277);
	CU_ASSERT_EQUAL(ca_dir_create(d, 0755, 0, &err), 0);
	umask(old);
	CU_ASSERT_EQUAL(unit_mode(d), 0755);
	/* existing: accepted, mode kept unless forced */
	CU_ASSERT_EQUAL(ca_dir_create(d, 0700, 0, &err), 0);
	CU_ASSERT_EQUAL(unit_mode(d), 0755);
	CU_ASSERT_EQUAL(ca_dir_create(d, 0700, 1, &err), 0);
	CU_ASSERT_EQUAL(unit_mode(d), 0700);
	/* a symlink to a directory is refused, forced or not */
	snprintf(link_, sizeof(link_), "%s/link", dir);
	CU_ASSERT_EQUAL(symlink(d, link_), 0);
	memset(&err, 0, sizeof(err));
	CU_ASSERT_EQUAL(ca_dir_create(link_, 0700, 0, &err), CA_EPERM);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "symlink"));
	CU_ASSERT_EQUAL(ca_dir_create(link_, 0755, 1, &err), CA_EPERM);
	CU_ASSERT_EQUAL(unit_mode(d), 0700);
	/* a dangling symlink too */
	snprintf(link_, sizeof(link_), "%s/dangling", dir);
	CU_ASSERT_EQUAL(symlink("/nonexistent/dir", link_), 0);
	CU_ASSERT_EQUAL(ca_dir_create(link_, 0700, 0, &err), CA_EPERM);
	/* a file in the way */
	snprintf(file, sizeof(file), "%s/file", dir);
	unit_write(file, "x", 0644);
	CU_ASSERT_EQUAL(ca_dir_create(file, 0700, 0, &err), CA_EEXIST);
	/* no parent */
	snprintf(file, sizeof(file), "%s/no/parent", dir);
	CU_ASSERT_EQUAL(ca_dir_create(file, 0700, 0, &err), CA_EIO);
	CU_ASSERT_EQUAL(ca_dir_fsync(dir, &err), 0);
	CU_ASSERT_EQUAL(ca_dir_fsync(file, &err), CA_EIO);
}

static void
test_path_join_exists(void)
{
	char *p = ca_path_join("/var/lib/tierca", "index.txt");
	char dir[512], link_[600];

	CU_ASSERT(p != NULL && strcmp(p, "/var/lib/tierca/index.txt") == 0);
	free(p);
	p = ca_path_join("", "x");
	CU_ASSERT(p != NULL && strcmp(p, "/x") == 0);
	free(p);
	subdir(dir, sizeof(dir), "exists");
	CU_ASSERT(ca_file_exists(dir));
	snprintf(link_, sizeof(link_), "%s/dangling", dir);
	CU_ASSERT_FALSE(ca_file_exists(link_));
	CU_ASSERT_EQUAL(symlink("/nonexistent", link_), 0);
	CU_ASSERT(ca_file_exists(link_));
}

static double
now_s(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (double)tv.tv_sec + tv.tv_usec / 1e6;
}

static void
test_lock(void)
{
	struct ca_err err;
	char dir[512], lock[600];
	int a = -1, b = -1;

	subdir(dir, sizeof(dir), "lock");
	CU_ASSERT_EQUAL(ca_lock_acquire(&a, dir, 0, &err), 0);
	CU_ASSERT(a >= 0);
	snprintf(lock, sizeof(lock), "%s/.lock", dir);
	CU_ASSERT(ca_file_exists(lock));
	CU_ASSERT_EQUAL(unit_mode(lock), 0600);
	/* A second open file description conflicts, even in this process. */
	memset(&err, 0, sizeof(err));
	b = 12345;
	CU_ASSERT_EQUAL(ca_lock_acquire(&b, dir, 0, &err), CA_ELOCK);
	CU_ASSERT_EQUAL(b, -1);
	CU_ASSERT_EQUAL(err.code, CA_ELOCK);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, lock));
	/* without an err struct too */
	CU_ASSERT_EQUAL(ca_lock_acquire(&b, dir, 0, NULL), CA_ELOCK);
	ca_lock_release(a);
	CU_ASSERT_EQUAL(ca_lock_acquire(&b, dir, 0, &err), 0);
	ca_lock_release(b);
	ca_lock_release(-1);
	/* a directory that does not exist */
	snprintf(lock, sizeof(lock), "%s/absent", dir);
	CU_ASSERT_EQUAL(ca_lock_acquire(&b, lock, 0, &err), CA_EIO);
	/* .lock as a symlink is not followed */
	snprintf(lock, sizeof(lock), "%s/.lock", dir);
	unlink(lock);
	CU_ASSERT_EQUAL(symlink("/nonexistent/lock", lock), 0);
	CU_ASSERT_EQUAL(ca_lock_acquire(&b, dir, 0, &err), CA_EIO);
	CU_ASSERT_FALSE(ca_file_exists("/nonexistent/lock"));
}

/* Another process holds the lock: non-blocking fails, blocking waits
 * until it lets go. */
static void
test_lock_other_process(void)
{
	struct ca_err err;
	char dir[512], c = 0;
	int p[2], fd = -1, st = 0;
	double t;
	pid_t pid;

	subdir(dir, sizeof(dir), "lock2");
	CU_ASSERT_EQUAL_FATAL(pipe(p), 0);
	fflush(NULL);
	if ((pid = fork()) == 0) {
		int lfd;
		close(p[0]);
		if (ca_lock_acquire(&lfd, dir, 0, NULL) != 0)
			_exit(1);
		if (write(p[1], "L", 1) != 1)
			_exit(2);
		usleep(400 * 1000);
		_exit(0);
	}
	close(p[1]);
	CU_ASSERT_FATAL(pid > 0);
	if (read(p[0], &c, 1) != 1)
		c = 0;
	close(p[0]);
	CU_ASSERT_EQUAL(ca_lock_acquire(&fd, dir, 0, &err), CA_ELOCK);
	t = now_s();
	CU_ASSERT_EQUAL(ca_lock_acquire(&fd, dir, 1, &err), 0);
	UCHECK(now_s() - t > 0.1, "the blocking lock did not wait (%.3fs)",
	    now_s() - t);
	ca_lock_release(fd);
	/* The child said "L" once it held the lock; its exit status is not
	 * looked at (a leak checker may change it). */
	CU_ASSERT_EQUAL(c, 'L');
	CU_ASSERT_EQUAL(waitpid(pid, &st, 0), pid);
	CU_ASSERT(WIFEXITED(st));
}

/* A directory D that ca_open() takes (a kind file, issued/, certs/), an
 * outside directory O with a precious file, and O's listing. */
static void
beneath_fixture(char *d, char *o, size_t len, const char *name)
{
	char p[700];

	subdir(d, len, name);
	if (snprintf(o, len, "%s.outside", d) >= (int)len || mkdir(o, 0755) != 0)
		CU_FAIL("mkdir outside");
	snprintf(p, sizeof(p), "%s/kind", d);
	unit_write(p, "server\n", 0644);
	snprintf(p, sizeof(p), "%s/issued", d);
	CU_ASSERT_EQUAL(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/issued/web", d);
	CU_ASSERT_EQUAL(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/certs", d);
	CU_ASSERT_EQUAL(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/key.pem", o);
	unit_write(p, "precious\n", 0600);
}

/* What the helpers do when a symlink is swapped in below a CA directory
 * after ca_open() looked (the race ca_open's own check cannot close):
 * refused, naming the link, the outside left as it was. Run with
 * openat2 and with the walk of kernels without it. */
static void
beneath_case(int walk)
{
	struct ca *ca = NULL;
	struct ca_err err;
	char d[600], o[600], p[800], q[800], *buf = NULL;
	size_t len;

	if (walk)
		setenv("TIERCA_NO_OPENAT2", "1", 1);
	beneath_fixture(d, o, sizeof(d), walk ? "beneath-walk" : "beneath");
	memset(&err, 0, sizeof(err));
	if (!UCHECK(ca_open(&ca, d, 0, &err) == 0, "open: %s", err.msg))
		goto out;

	/* issued/ swapped for a link to O. */
	snprintf(p, sizeof(p), "%s/issued/web", d);
	CU_ASSERT_EQUAL(rmdir(p), 0);
	snprintf(p, sizeof(p), "%s/issued", d);
	CU_ASSERT_EQUAL(rmdir(p), 0);
	CU_ASSERT_EQUAL(symlink(o, p), 0);
	snprintf(q, sizeof(q), "%s/issued/key.pem", d);
	memset(&err, 0, sizeof(err));
	CU_ASSERT_EQUAL(ca_file_read(&buf, &len, q, 4096, &err), CA_EPERM);
	UCHECK(strstr(err.msg, "refusing symlink") != NULL &&
	    strstr(err.msg, p) != NULL, "read: %s", err.msg);
	CU_ASSERT_PTR_NULL(buf);
	CU_ASSERT_EQUAL(ca_file_write_atomic(q, "evil\n", 5, 0600, &err),
	    CA_EPERM);
	UCHECK(strstr(err.msg, "refusing symlink") != NULL, "write: %s", err.msg);
	snprintf(q, sizeof(q), "%s/issued/new.pem", d);
	CU_ASSERT_EQUAL(ca_file_write_new(q, "evil\n", 5, 0600, &err),
	    CA_EPERM);
	CU_ASSERT_EQUAL(ca_file_check_private(q, &err), CA_EPERM);
	CU_ASSERT(ca_file_exists(q)); /* something in the way: not absent */
	snprintf(q, sizeof(q), "%s/issued/.web.new.1", d);
	CU_ASSERT_EQUAL(ca_dir_create(q, 0700, 1, &err), CA_EPERM);
	CU_ASSERT_EQUAL(ca_dir_fsync(p, &err), CA_EPERM);
	snprintf(q, sizeof(q), "%s/issued/key.pem", d);
	CU_ASSERT_EQUAL(ca_io_rename(q, q), -1);
	CU_ASSERT_EQUAL(errno, ELOOP);
	CU_ASSERT_EQUAL(ca_io_truncate(q, 0), -1);
	CU_ASSERT_EQUAL(unit_dir_count(o), 1);
	snprintf(q, sizeof(q), "%s/key.pem", o);
	buf = unit_read(q, &len);
	UCHECK(buf != NULL && strcmp(buf, "precious\n") == 0,
	    "the outside file changed");
	free(buf);
	buf = NULL;

	/* A way out through "..". */
	snprintf(q, sizeof(q), "%s/certs/../../%s/key.pem", d,
	    strrchr(o, '/') + 1);
	CU_ASSERT_EQUAL(ca_file_read(&buf, &len, q, 4096, &err), CA_EPERM);
	UCHECK(strstr(err.msg, "out of its CA directory") != NULL, "..: %s",
	    err.msg);

	/* Below certs/, a real directory, all works. */
	snprintf(q, sizeof(q), "%s/certs/01.pem", d);
	CU_ASSERT_EQUAL(ca_file_write_new(q, "x\n", 2, 0644, &err), 0);
	CU_ASSERT_EQUAL(ca_file_read(&buf, &len, q, 4096, &err), 0);
	CU_ASSERT_EQUAL(len, 2);
	free(buf);
	buf = NULL;
	ca_close(ca);
	ca = NULL;

	/* The CA directory itself under a symlinked parent is fine. */
	snprintf(p, sizeof(p), "%s/issued", d);
	CU_ASSERT_EQUAL(unlink(p), 0);
	CU_ASSERT_EQUAL(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s.alias", d);
	CU_ASSERT_EQUAL(symlink(unit_tmp, p), 0);
	snprintf(p, sizeof(p), "%s.alias/%s", d, walk ? "beneath-walk" :
	    "beneath");
	memset(&err, 0, sizeof(err));
	if (UCHECK(ca_open(&ca, p, 0, &err) == 0, "open via alias: %s",
	    err.msg)) {
		CU_ASSERT_FATAL(snprintf(q, sizeof(q), "%s/certs/02.pem", p) <
		    (int)sizeof(q));
		CU_ASSERT_EQUAL(ca_file_write_new(q, "y\n", 2, 0644, &err), 0);
		CU_ASSERT_EQUAL(ca_file_read(&buf, &len, q, 4096, &err), 0);
		free(buf);
	}
out:
	ca_close(ca);
	unsetenv("TIERCA_NO_OPENAT2");
}

/* ca_file_read_follow: what ca_file_read refuses, a link, it follows;
 * the other rules hold. */
static void
test_read_follow(void)
{
	struct ca_err err;
	char d[600], p[700], l[700], *buf = NULL;
	size_t len = 0;

	subdir(d, sizeof(d), "follow");
	snprintf(p, sizeof(p), "%s/file", d);
	unit_write(p, "installed\n", 0640);
	snprintf(l, sizeof(l), "%s/link", d);
	CU_ASSERT_EQUAL(symlink(p, l), 0);
	memset(&err, 0, sizeof(err));
	CU_ASSERT_EQUAL(ca_file_read(&buf, &len, l, 4096, &err), CA_EPERM);
	CU_ASSERT_EQUAL(ca_file_read_follow(&buf, &len, l, 4096, &err), 0);
	CU_ASSERT_EQUAL(len, 10);
	UCHECK(buf != NULL && strcmp(buf, "installed\n") == 0, "follow");
	free(buf);
	buf = NULL;
	CU_ASSERT_EQUAL(ca_file_read_follow(&buf, &len, l, 4, &err), CA_EINVAL);
	CU_ASSERT_EQUAL(ca_file_read_follow(&buf, &len, d, 4096, &err),
	    CA_EINVAL);
	snprintf(p, sizeof(p), "%s/missing", d);
	CU_ASSERT_EQUAL(ca_file_read_follow(&buf, &len, p, 4096, &err),
	    CA_ENOENT);
	CU_ASSERT_PTR_NULL(buf);
}

static void
test_beneath(void)
{
	beneath_case(0);
}

static void
test_beneath_walk(void)
{
	beneath_case(1);
}

void
register_file(void)
{
	CU_pSuite s = CU_add_suite("file", unit_tmp_init, unit_tmp_clean);

	CU_add_test(s, "write_atomic: content, mode, no temp", test_write_atomic);
	CU_add_test(s, "write_atomic: failures leave nothing",
	    test_write_atomic_fails);
	CU_add_test(s, "write_new: EEXIST", test_write_new);
	CU_add_test(s, "read: symlink, max, kinds", test_read);
	CU_add_test(s, "check_private", test_check_private);
	CU_add_test(s, "dir_create", test_dir_create);
	CU_add_test(s, "path_join, file_exists", test_path_join_exists);
	CU_add_test(s, "lock: second fd", test_lock);
	CU_add_test(s, "lock: another process", test_lock_other_process);
	CU_add_test(s, "read_follow: links followed", test_read_follow);
	CU_add_test(s, "beneath a CA directory: openat2", test_beneath);
	CU_add_test(s, "beneath a CA directory: the walk", test_beneath_walk);
}
