/*
 * db.c - the CA database, in OpenSSL `ca` index.txt format:
 *
 *   status \t notAfter \t revoked[,reason] \t serial \t name \t subject
 *
 * OpenSSL leaves the fifth field ("filename") as "unknown"; tierca keeps
 * the issued name there, which `openssl ca` ignores. Issuance appends one
 * line (the cost does not grow with the database); revocation rewrites the
 * file atomically.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/store-int.h"

static void
format_time(char *buf, size_t len, time_t t)
{
	struct tm tm;

	ca_time_to_tm(&tm, t);
	/* As OpenSSL writes it: UTCTime through 2049. */
	if (tm.tm_year + 1900 < 2050)
		strftime(buf, len, "%y%m%d%H%M%SZ", &tm);
	else
		strftime(buf, len, "%Y%m%d%H%M%SZ", &tm);
}

void
ca_db_entry_clear(struct ca_db_entry *e)
{
	free(e->name);
	free(e->subject);
	e->name = e->subject = NULL;
}

/* Parses one line in place; copy: allocate name and subject. */
static int
parse_line(struct ca_db_entry *e, char *line, int copy, struct ca_err *err)
{
	char *f[6], *p = line, *comma;
	size_t i, n;
	enum ca_reason r;

	memset(e, 0, sizeof(*e));
	for (i = 0; i < 6; i++) {
		f[i] = p;
		if (i < 5) {
			if ((p = strchr(p, '\t')) == NULL)
				return ca_err_set(err, CA_EDB, "%zu fields, want 6",
				    i + 1);
			*p++ = '\0';
		}
	}
	if (strchr(f[5], '\t') != NULL)
		return ca_err_set(err, CA_EDB, "more than 6 fields");
	if (strlen(f[0]) != 1 || strchr("VRE", f[0][0]) == NULL)
		return ca_err_set(err, CA_EDB, "bad status '%s'", f[0]);
	e->status = f[0][0];
	if (ca_time_parse_asn1(&e->not_after, f[1]) != 0)
		return ca_err_set(err, CA_EDB, "bad expiry date '%s'", f[1]);
	if (e->status == 'R') {
		if ((comma = strchr(f[2], ',')) != NULL)
			*comma++ = '\0';
		if (ca_time_parse_asn1(&e->revoked_at, f[2]) != 0)
			return ca_err_set(err, CA_EDB, "bad revocation date '%s'",
			    f[2]);
		e->reason = CA_REASON_UNSPECIFIED;
		if (comma != NULL) {
			if (ca_reason_parse(&r, comma) != 0)
				return ca_err_set(err, CA_EDB, "bad revocation "
				    "reason '%s'", comma);
			e->reason = r;
		}
	} else if (f[2][0] != '\0')
		return ca_err_set(err, CA_EDB, "revocation date on a '%c' entry",
		    e->status);
	n = strlen(f[3]);
	if (n == 0 || n > 40 || n % 2 != 0)
		return ca_err_set(err, CA_EDB, "bad serial '%s'", f[3]);
	for (i = 0; i < n; i++) {
		char c = f[3][i];
		if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') ||
		    (c >= 'a' && c <= 'f')))
			return ca_err_set(err, CA_EDB, "bad serial '%s'", f[3]);
		e->serial[i] = (char)(c >= 'a' ? c - 32 : c);
	}
	e->serial[n] = '\0';
	if (!copy)
		return 0;
	if ((e->name = strdup(f[4])) == NULL ||
	    (e->subject = strdup(f[5])) == NULL) {
		ca_db_entry_clear(e);
		return ca_err_set(err, CA_ENOMEM, "out of memory");
	}
	return 0;
}

int
ca_db_parse_line(struct ca_db_entry *e, char *line, struct ca_err *err)
{
	return parse_line(e, line, 1, err);
}

char *
ca_db_format_line(const struct ca_db_entry *e)
{
	char exp[20], rev[64] = "";
	char *line = NULL;

	format_time(exp, sizeof(exp), e->not_after);
	if (e->status == 'R') {
		format_time(rev, sizeof(rev), e->revoked_at);
		if (e->reason != CA_REASON_UNSPECIFIED &&
		    ca_reason_name(e->reason) != NULL) {
			strcat(rev, ",");
			strcat(rev, ca_reason_name(e->reason));
		}
	}
	if (asprintf(&line, "%c\t%s\t%s\t%s\t%s\t%s\n", e->status, exp, rev,
	    e->serial, e->name && *e->name ? e->name : "unknown",
	    e->subject ? e->subject : "") < 0)
		return NULL;
	return line;
}

void
ca_db_free(struct ca_db *db)
{
	size_t i;

	if (db == NULL)
		return;
	for (i = 0; i < db->n; i++)
		ca_db_entry_clear(&db->v[i]);
	free(db->v);
	free(db->path);
	free(db);
}

int
ca_db_load(struct ca_db **out, const char *path, struct ca_err *err)
{
	struct ca_db *db = NULL;
	char *buf = NULL, *p, *nl;
	size_t len, lineno = 0;
	struct ca_err lerr;
	int ret;

	*out = NULL;
	if ((db = calloc(1, sizeof(*db))) == NULL ||
	    (db->path = strdup(path)) == NULL) {
		free(db);
		return ca_err_set(err, CA_ENOMEM, "out of memory");
	}
	if ((ret = ca_file_read(&buf, &len, path, CA_MAX_INDEX, err)) != 0) {
		ca_db_free(db);
		return ret;
	}
	for (p = buf; p < buf + len; p = nl + 1) {
		lineno++;
		nl = memchr(p, '\n', (size_t)(buf + len - p));
		if (nl == NULL) {
			/* A torn last line is what a crash during an append
			 * leaves; it never finished, so it never counted.
			 * ca_db_append_line() cuts it off. */
			break;
		}
		*nl = '\0';
		if (*p == '\0')
			continue;
		if (db->n == db->cap) {
			size_t nc = db->cap ? db->cap * 2 : 64;
			struct ca_db_entry *nv = realloc(db->v, nc * sizeof(*nv));
			if (nv == NULL) {
				ret = ca_err_set(err, CA_ENOMEM, "out of memory");
				goto fail;
			}
			db->v = nv;
			db->cap = nc;
		}
		if (ca_db_parse_line(&db->v[db->n], p, &lerr) != 0) {
			ret = ca_err_set(err, CA_EDB, "%s:%zu: corrupt entry: %s",
			    path, lineno, lerr.msg);
			goto fail;
		}
		db->v[db->n].line = lineno;
		db->n++;
	}
	free(buf);
	*out = db;
	return 0;
fail:
	free(buf);
	ca_db_free(db);
	return ret;
}

/* Cuts a torn last line (no '\n') off the file open in fd. */
static int
repair_tail(int fd, const char *path, struct ca_err *err)
{
	char buf[4096];
	struct stat st;
	off_t end, pos;
	ssize_t r, i;

	if (fstat(fd, &st) == -1)
		return ca_err_set(err, CA_EIO, "cannot stat '%s': %s", path,
		    strerror(errno));
	end = st.st_size;
	if (end == 0)
		return 0;
	if (pread(fd, buf, 1, end - 1) != 1)
		return ca_err_set(err, CA_EIO, "cannot read '%s': %s", path,
		    strerror(errno));
	if (buf[0] == '\n')
		return 0;
	for (pos = end; pos > 0;) {
		off_t from = pos > (off_t)sizeof(buf) ? pos - (off_t)sizeof(buf) : 0;
		r = pread(fd, buf, (size_t)(pos - from), from);
		if (r <= 0)
			return ca_err_set(err, CA_EIO, "cannot read '%s'", path);
		for (i = r - 1; i >= 0; i--)
			if (buf[i] == '\n') {
				if (ca_io_ftruncate(fd, from + i + 1) == -1)
					return ca_err_set(err, CA_EIO, "cannot repair "
					    "'%s': %s", path, strerror(errno));
				return 0;
			}
		pos = from;
	}
	if (ca_io_ftruncate(fd, 0) == -1)
		return ca_err_set(err, CA_EIO, "cannot repair '%s': %s", path,
		    strerror(errno));
	return 0;
}

/* Every complete line of the open index must parse: nothing is added to
 * a database that is already corrupt. The scan allocates nothing. */
int
ca_db_check_fd(int fd, const char *path, struct ca_err *err)
{
	struct ca_db_entry e;
	struct ca_err lerr;
	struct stat st;
	char *buf, *p, *nl, *end;
	size_t lineno = 0, got = 0;
	ssize_t r;
	int ret = 0;

	if (fstat(fd, &st) == -1)
		return ca_err_set(err, CA_EIO, "cannot stat '%s': %s", path,
		    strerror(errno));
	if ((size_t)st.st_size > CA_MAX_INDEX)
		return ca_err_set(err, CA_EDB, "'%s' is too large", path);
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL)
		return ca_err_set(err, CA_ENOMEM, "out of memory");
	while (got < (size_t)st.st_size) {
		r = pread(fd, buf + got, (size_t)st.st_size - got, (off_t)got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			free(buf);
			return ca_err_set(err, CA_EIO, "cannot read '%s'", path);
		}
		got += (size_t)r;
	}
	end = buf + got;
	for (p = buf; p < end; p = nl + 1) {
		lineno++;
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			break; /* a torn tail: repaired before appending */
		*nl = '\0';
		if (*p != '\0' && parse_line(&e, p, 0, &lerr) != 0) {
			ret = ca_err_set(err, CA_EDB, "%s:%zu: corrupt entry: %s",
			    path, lineno, lerr.msg);
			break;
		}
	}
	free(buf);
	return ret;
}

/*
 * The validation cache: after tierca has written or fully checked the
 * index, D/.index.txt.ok holds the file's identity (device, inode, size,
 * mtime in ns). While the index still has that identity, nobody else
 * has touched it and the O(n) scan is skipped, so an issuance costs the
 * same at 100 or 100,000 entries. Any outside edit changes the identity
 * and brings the full check back. It is a cache: written without fsync,
 * and a missing or stale one only costs a scan.
 */
static char *
ok_path(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *p = NULL;

	if (slash == NULL) {
		if (asprintf(&p, ".%s.ok", path) < 0)
			return NULL;
	} else if (asprintf(&p, "%.*s/.%s.ok", (int)(slash - path), path,
	    slash + 1) < 0)
		return NULL;
	return p;
}

static int
identity(char *buf, size_t len, int fd)
{
	struct stat st;

	if (fstat(fd, &st) == -1)
		return -1;
	snprintf(buf, len, "%llu %llu %lld %lld.%09ld\n",
	    (unsigned long long)st.st_dev, (unsigned long long)st.st_ino,
	    (long long)st.st_size, (long long)st.st_mtim.tv_sec,
	    st.st_mtim.tv_nsec);
	return 0;
}

static int
ok_matches(const char *path, int fd)
{
	char want[128], *have = NULL, *p = ok_path(path);
	int match = 0;

	if (p != NULL && identity(want, sizeof(want), fd) == 0 &&
	    ca_file_read(&have, NULL, p, 256, NULL) == 0)
		match = strcmp(have, want) == 0;
	free(have);
	free(p);
	return match;
}

static void
ok_store(const char *path, int fd)
{
	char id[128], *p = ok_path(path), *tmp = NULL;
	int tfd;

	if (p == NULL || identity(id, sizeof(id), fd) != 0 ||
	    asprintf(&tmp, "%s.XXXXXX", p) < 0) {
		free(p);
		return;
	}
	if ((tfd = mkostemp(tmp, O_CLOEXEC)) != -1) {
		if (ca_io_write(tfd, id, strlen(id)) != (ssize_t)strlen(id) ||
		    close(tfd) != 0 || ca_io_rename(tmp, p) != 0)
			ca_path_unlink(tmp, 0);
	}
	free(tmp);
	free(p);
}

int
ca_db_check(const char *path, struct ca_err *err)
{
	int fd, ret = 0;

	if ((fd = ca_open_beneath(path, O_RDONLY | O_NOFOLLOW, 0)) == -1)
		return ca_err_set(err, CA_EIO, "cannot open '%s': %s", path,
		    strerror(errno));
	/* No ok_store() here: a command that fails later must leave nothing
	 * behind, not even the cache. The append that follows stores it. */
	if (!ok_matches(path, fd))
		ret = ca_db_check_fd(fd, path, err);
	close(fd);
	return ret;
}

int
ca_db_append(const char *path, const struct ca_db_entry *e, off_t *before,
    int check, struct ca_err *err)
{
	struct stat st;
	char *line;
	size_t len, off = 0;
	ssize_t w;
	int fd, ret = 0;

	if ((line = ca_db_format_line(e)) == NULL)
		return ca_err_set(err, CA_ENOMEM, "out of memory");
	len = strlen(line);
	fd = ca_open_beneath(path, O_RDWR | O_APPEND | O_NOFOLLOW, 0);
	if (fd == -1) {
		ret = ca_err_set(err, CA_EIO, "cannot open '%s': %s", path,
		    strerror(errno));
		goto out;
	}
	if ((check && !ok_matches(path, fd) &&
	    (ret = ca_db_check_fd(fd, path, err)) != 0) ||
	    (ret = repair_tail(fd, path, err)) != 0)
		goto out;
	if (fstat(fd, &st) == -1) {
		ret = ca_err_set(err, CA_EIO, "cannot stat '%s': %s", path,
		    strerror(errno));
		goto out;
	}
	if (before != NULL)
		*before = st.st_size;
	while (off < len) {
		w = ca_io_write(fd, line + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			int e2 = w < 0 ? errno : EIO;
			/* Leave no partial line behind for the next reader. */
			repair_tail(fd, path, NULL);
			ret = ca_err_set(err, CA_EIO, "cannot append to '%s': %s",
			    path, strerror(e2));
			goto out;
		}
		off += (size_t)w;
	}
	if (ca_io_fsync(fd) == -1) {
		/* A line that may not survive a power cut is not committed:
		 * it is cut off again, so the caller's rollback (which
		 * removes the certificate) leaves no entry without a file. */
		ret = ca_err_set(err, CA_EIO, "cannot sync '%s': %s", path,
		    strerror(errno));
		if (ca_io_ftruncate(fd, st.st_size) == 0)
			fsync(fd);
		goto out;
	}
	/* The file was valid before (checked here, or by the caller under
	 * the same lock) and the line is ours. */
	ok_store(path, fd);
out:
	if (fd != -1)
		close(fd);
	free(line);
	return ret;
}

int
ca_db_append_lines(const char *path, const char *lines, size_t len,
    off_t *before, struct ca_err *err)
{
	struct stat st;
	size_t off = 0;
	ssize_t w;
	int fd, ret = 0;

	if ((fd = ca_open_beneath(path, O_RDWR | O_APPEND | O_NOFOLLOW, 0)) ==
	    -1)
		return ca_err_set(err, CA_EIO, "cannot open '%s': %s", path,
		    strerror(errno));
	if ((ret = repair_tail(fd, path, err)) != 0)
		goto out;
	if (fstat(fd, &st) == -1) {
		ret = ca_err_set(err, CA_EIO, "cannot stat '%s': %s", path,
		    strerror(errno));
		goto out;
	}
	if (before != NULL)
		*before = st.st_size;
	while (off < len) {
		w = ca_io_write(fd, lines + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			int e2 = w < 0 ? errno : EIO;
			/* Not one line of a batch that did not go in whole:
			 * the complete lines written so far go too. */
			if (ftruncate(fd, st.st_size) == 0)
				fsync(fd);
			ret = ca_err_set(err, CA_EIO, "cannot append to '%s': %s",
			    path, strerror(e2));
			goto out;
		}
		off += (size_t)w;
	}
	/* An append changes the data and the size, both of which
	 * fdatasync makes durable; the mtime it may leave behind is no
	 * part of the database. */
	if (ca_io_fault(CA_IO_FSYNC) == -1 || fdatasync(fd) == -1) {
		ret = ca_err_set(err, CA_EIO, "cannot sync '%s': %s", path,
		    strerror(errno));
		if (ca_io_ftruncate(fd, st.st_size) == 0)
			fsync(fd);
		goto out;
	}
	ok_store(path, fd);
out:
	close(fd);
	return ret;
}

int
ca_db_append_line(const char *path, const struct ca_db_entry *e,
    struct ca_err *err)
{
	return ca_db_append(path, e, NULL, 1, err);
}

int
ca_db_repair(const char *path, struct ca_err *err)
{
	int fd, ret;

	if ((fd = ca_open_beneath(path, O_RDWR | O_NOFOLLOW, 0)) == -1)
		return ca_err_set(err, CA_EIO, "cannot open '%s': %s", path,
		    strerror(errno));
	if ((ret = repair_tail(fd, path, err)) == 0 && ca_io_fsync(fd) == -1)
		ret = ca_err_set(err, CA_EIO, "cannot sync '%s': %s", path,
		    strerror(errno));
	close(fd);
	return ret;
}

int
ca_db_truncate(const char *path, off_t size, struct ca_err *err)
{
	if (ca_io_truncate(path, size) == -1)
		return ca_err_set(err, CA_EIO, "cannot restore '%s': %s", path,
		    strerror(errno));
	return 0;
}

int
ca_db_save(const struct ca_db *db, struct ca_err *err)
{
	char *buf = NULL, *line;
	size_t len = 0, cap = 4096, i, n;
	int ret;

	if ((buf = malloc(cap)) == NULL)
		return ca_err_set(err, CA_ENOMEM, "out of memory");
	for (i = 0; i < db->n; i++) {
		if ((line = ca_db_format_line(&db->v[i])) == NULL) {
			free(buf);
			return ca_err_set(err, CA_ENOMEM, "out of memory");
		}
		n = strlen(line);
		if (len + n > cap) {
			char *nb;
			while (len + n > cap)
				cap *= 2;
			if ((nb = realloc(buf, cap)) == NULL) {
				free(line);
				free(buf);
				return ca_err_set(err, CA_ENOMEM, "out of memory");
			}
			buf = nb;
		}
		memcpy(buf + len, line, n);
		len += n;
		free(line);
	}
	ret = ca_file_write_atomic(db->path, buf, len, 0644, err);
	free(buf);
	if (ret == 0) {
		/* Written from parsed entries: valid by construction. */
		int fd = ca_open_beneath(db->path, O_RDONLY | O_NOFOLLOW, 0);
		if (fd != -1) {
			ok_store(db->path, fd);
			close(fd);
		}
	}
	return ret;
}

static const char *
skip_zero_bytes(const char *s)
{
	while (s[0] == '0' && s[1] == '0' && s[2] != '\0')
		s += 2;
	return s;
}

struct ca_db_entry *
ca_db_find_serial(struct ca_db *db, const char *hex)
{
	struct ca_serial want;
	const char *w;
	size_t i;

	/* Compare normalised forms so "0a1b" finds "0A1B" and "A1B". Two
	 * hex serials of even length are the same number when they agree
	 * after their leading zero bytes: no conversion per entry, which
	 * made a lookup per template quadratic in practice. */
	if (ca_serial_from_hex(&want, hex) != 0)
		return NULL;
	w = skip_zero_bytes(want.hex);
	for (i = 0; i < db->n; i++)
		if (strcasecmp(skip_zero_bytes(db->v[i].serial), w) == 0)
			return &db->v[i];
	return NULL;
}

int
ca_db_cmp_name_line(const void *a, const void *b)
{
	const struct ca_db_entry *x = *(struct ca_db_entry *const *)a;
	const struct ca_db_entry *y = *(struct ca_db_entry *const *)b;
	int c = strcmp(x->name, y->name);

	if (c != 0)
		return c;
	return x->line < y->line ? -1 : x->line > y->line;
}

int
ca_db_byname_build(struct ca_db_byname *out, struct ca_db *db,
    struct ca_err *err)
{
	size_t i;

	out->n = 0;
	if ((out->v = malloc((db->n + 1) * sizeof(*out->v))) == NULL)
		return ca_err_set(err, CA_ENOMEM, "out of memory");
	for (i = 0; i < db->n; i++)
		out->v[i] = &db->v[i];
	out->n = db->n;
	qsort(out->v, out->n, sizeof(*out->v), ca_db_cmp_name_line);
	return 0;
}

size_t
ca_db_byname_find(const struct ca_db_byname *ix, const char *name,
    size_t *count)
{
	size_t lo = 0, hi = ix->n, first;

	/* The first entry whose name is not less than name. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(ix->v[mid]->name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	first = lo;
	while (lo < ix->n && strcmp(ix->v[lo]->name, name) == 0)
		lo++;
	*count = lo - first;
	return first;
}

struct ca_db_entry *
ca_db_byname_newest(const struct ca_db_byname *ix, const char *name)
{
	size_t n, first = ca_db_byname_find(ix, name, &n);

	return n > 0 ? ix->v[first + n - 1] : NULL;
}

void
ca_db_byname_free(struct ca_db_byname *ix)
{
	free(ix->v);
	ix->v = NULL;
	ix->n = 0;
}

/*
 * The database kept across calls (ca_db_cached). Issuance only appends
 * to index.txt, so when the file is still the one that was read (same
 * device and inode) and has only grown, what was read is still its
 * prefix: only the appended tail is parsed and merged into the name
 * index. That keeps a name lookup per issuance O(log n) plus the work
 * of the new lines, whether they were appended by this process or by
 * another one under the CA lock. Anything else (a revocation rewrites
 * the file under a new inode, a truncation, an edit in place that does
 * not grow the file or touches its last 64 bytes) reloads it all. An
 * edit by hand further up that also grows the file, inode kept, is not
 * seen until the file is rewritten: editors that save by rename, and
 * every tierca writer, change the inode.
 */
#define CACHE_TAIL 64

struct ca_db_cache {
	struct stat st;         /* index.txt as last seen (fast path) */
	struct ca_db *db;
	struct ca_db_byname ix;
	off_t off;              /* bytes parsed: through the last '\n' */
	size_t nlines;          /* lines in those bytes */
	char tail[CACHE_TAIL];  /* the bytes just before off */
	size_t ntail;
};

void
ca_db_cache_free(struct ca_db_cache *c)
{
	if (c == NULL)
		return;
	ca_db_byname_free(&c->ix);
	ca_db_free(c->db);
	free(c);
}

static int
same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	    a->st_size == b->st_size &&
	    a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	    a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	    a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
	    a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* Grows db->v to hold want entries; ix's pointers into it follow. */
static int
cache_reserve(struct ca_db_cache *c, size_t want)
{
	struct ca_db *db = c->db;
	struct ca_db_entry *nv;
	size_t nc, i;

	if (want <= db->cap)
		return 0;
	for (nc = db->cap ? db->cap : 64; nc < want; nc *= 2)
		;
	if ((nv = malloc(nc * sizeof(*nv))) == NULL)
		return CA_ENOMEM;
	if (db->n > 0)
		memcpy(nv, db->v, db->n * sizeof(*nv));
	for (i = 0; i < c->ix.n; i++)
		c->ix.v[i] = nv + (c->ix.v[i] - db->v);
	free(db->v);
	db->v = nv;
	db->cap = nc;
	return 0;
}

/*
 * Parses buf (the file's bytes from c->off on) into new entries and
 * merges them into the name index: the new ones are sorted among
 * themselves and merged in one pass, O(n + k log k). A torn last line
 * (no '\n') is left for later, as every reader does.
 */
static int
cache_extend(struct ca_db_cache *c, char *buf, size_t len, struct ca_err *err)
{
	struct ca_db_entry **add = NULL, **merged = NULL;
	struct ca_err lerr;
	size_t first = c->db->n, k, i, j, m, used, lines = c->nlines;
	char *p, *nl, *last;
	int ret = 0;

	/* Only complete lines count; the bytes before the new offset are
	 * remembered, before parsing cuts the lines up, to recognise the
	 * prefix next time (when they reach back before buf, the end of
	 * the old tail is kept in front). */
	if ((last = memrchr(buf, '\n', len)) == NULL)
		return 0;
	used = (size_t)(last + 1 - buf);
	{
		char t[CACHE_TAIL];
		size_t from_buf = used < CACHE_TAIL ? used : CACHE_TAIL;
		size_t from_old = CACHE_TAIL - from_buf;

		if (from_old > c->ntail)
			from_old = c->ntail;
		memcpy(t, c->tail + c->ntail - from_old, from_old);
		memcpy(t + from_old, buf + used - from_buf, from_buf);
		memcpy(c->tail, t, from_old + from_buf);
		c->ntail = from_old + from_buf;
	}
	for (p = buf; p < buf + used; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(buf + used - p));
		lines++;
		*nl = '\0';
		if (*p == '\0')
			continue;
		if (cache_reserve(c, c->db->n + 1) != 0) {
			ret = ca_err_set(err, CA_ENOMEM, "out of memory");
			goto fail;
		}
		if (ca_db_parse_line(&c->db->v[c->db->n], p, &lerr) != 0) {
			ret = ca_err_set(err, CA_EDB, "%s:%zu: corrupt entry: %s",
			    c->db->path, lines, lerr.msg);
			goto fail;
		}
		c->db->v[c->db->n].line = lines;
		c->db->n++;
	}
	k = c->db->n - first;
	if (k > 0) {
		if ((add = malloc(k * sizeof(*add))) == NULL ||
		    (merged = malloc((c->ix.n + k) * sizeof(*merged))) ==
		    NULL) {
			ret = ca_err_set(err, CA_ENOMEM, "out of memory");
			goto fail;
		}
		for (i = 0; i < k; i++)
			add[i] = &c->db->v[first + i];
		qsort(add, k, sizeof(*add), ca_db_cmp_name_line);
		for (i = j = m = 0; i < c->ix.n || j < k;)
			merged[m++] = j == k || (i < c->ix.n &&
			    ca_db_cmp_name_line(&c->ix.v[i], &add[j]) < 0) ?
			    c->ix.v[i++] : add[j++];
		free(c->ix.v);
		c->ix.v = merged;
		c->ix.n = m;
		merged = NULL;
	}
	c->off += (off_t)used;
	c->nlines = lines;
	free(add);
	return 0;
fail:
	/* The caller drops the cache: a half-merged index is no index. */
	free(add);
	free(merged);
	return ret;
}

/* Reads [c->off, size) of fd into a new buffer. */
static int
read_from(char **out, size_t *outlen, int fd, off_t from, off_t size,
    struct ca_err *err)
{
	size_t len = (size_t)(size - from), got = 0;
	char *buf;
	ssize_t r;

	*out = NULL;
	if ((buf = malloc(len + 1)) == NULL)
		return ca_err_set(err, CA_ENOMEM, "out of memory");
	while (got < len) {
		r = pread(fd, buf + got, len - got, from + (off_t)got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break; /* shrank meanwhile: what was read is parsed */
		got += (size_t)r;
	}
	buf[got] = '\0';
	*out = buf;
	*outlen = got;
	return 0;
}

/* Is the file in fd (stat st) c's file, grown by appends only? */
static int
cache_is_prefix(const struct ca_db_cache *c, int fd, const struct stat *st)
{
	char t[CACHE_TAIL];

	/* Not grown, yet not the file that was read (the caller's fast
	 * path failed): changed in place, read again. */
	if (c->db == NULL || st->st_dev != c->st.st_dev ||
	    st->st_ino != c->st.st_ino || st->st_size <= c->off)
		return 0;
	if (c->ntail == 0)
		return c->off == 0;
	return pread(fd, t, c->ntail, c->off - (off_t)c->ntail) ==
	    (ssize_t)c->ntail && memcmp(t, c->tail, c->ntail) == 0;
}

int
ca_db_cached(struct ca_db **db, const struct ca_db_byname **ix,
    struct ca *ca, struct ca_err *err)
{
	struct ca_db_cache *c = ca->db_cache;
	struct stat before, after;
	char *p = ca_path(ca, "index.txt"), *buf = NULL;
	size_t len = 0;
	int fd = -1, ret;

	*db = NULL;
	*ix = NULL;
	if (p == NULL)
		return ca_err_set(err, CA_ENOMEM, "out of memory");
	if (stat(p, &before) == -1) {
		ret = ca_err_set(err, CA_EIO, "cannot stat '%s': %s", p,
		    strerror(errno));
		goto out;
	}
	if (c != NULL && same_file(&c->st, &before)) {
		ret = 0;
		goto done;
	}
	/* O_NONBLOCK: a FIFO planted at the name must not hang the run; it
	 * is refused as not a regular file, as ca_file_read does. */
	if ((fd = ca_open_beneath(p, O_RDONLY | O_NOFOLLOW | O_NONBLOCK, 0)) ==
	    -1 || fstat(fd, &before) == -1) {
		ret = ca_err_set(err, CA_EIO, "cannot read '%s': %s", p,
		    strerror(errno));
		goto out;
	}
	if (!S_ISREG(before.st_mode)) {
		ret = ca_err_set(err, CA_EINVAL, "'%s' is not a regular file",
		    p);
		goto out;
	}
	if ((size_t)before.st_size > CA_MAX_INDEX) {
		ret = ca_err_set(err, CA_EINVAL, "'%s' is too large (%lld bytes)",
		    p, (long long)before.st_size);
		goto out;
	}
	if (c == NULL || !cache_is_prefix(c, fd, &before)) {
		/* Read from scratch. */
		ca_db_cache_free(c);
		ca->db_cache = c = NULL;
		if ((c = calloc(1, sizeof(*c))) == NULL ||
		    (c->db = calloc(1, sizeof(*c->db))) == NULL ||
		    (c->db->path = strdup(p)) == NULL ||
		    (c->ix.v = malloc(sizeof(*c->ix.v))) == NULL) {
			ca_db_cache_free(c);
			c = NULL;
			ret = ca_err_set(err, CA_ENOMEM, "out of memory");
			goto out;
		}
		ca->db_cache = c;
	}
	if ((ret = read_from(&buf, &len, fd, c->off, before.st_size,
	    err)) != 0 || (ret = cache_extend(c, buf, len, err)) != 0) {
		ca_db_cache_free(c);
		ca->db_cache = c = NULL;
		goto out;
	}
	/* A file that changed while it was read is not taken as seen: the
	 * next call reads on from where this one stopped. */
	c->st = before;
	if (fstat(fd, &after) == -1 || !same_file(&before, &after))
		c->st.st_size = -1;
done:
	*db = c->db;
	*ix = &c->ix;
	ret = 0;
out:
	if (fd != -1)
		close(fd);
	free(buf);
	free(p);
	return ret;
}

/* Hex digits (validated by parse_line) as a positive DER INTEGER's
 * content: leading zero bytes dropped, a zero byte added when the top
 * bit is set. Like ca_serial_from_hex without the hex round trip. */
static void
serial_der(struct ca_serial *out, const char *hex)
{
	unsigned char b[21] = { 0 };
	size_t n = strlen(hex) / 2, i, k = 0;

	for (i = 0; i < n; i++) {
		int hi = hex[2 * i], lo = hex[2 * i + 1];
		hi = hi <= '9' ? hi - '0' : (hi | 0x20) - 'a' + 10;
		lo = lo <= '9' ? lo - '0' : (lo | 0x20) - 'a' + 10;
		b[i] = (unsigned char)(hi << 4 | lo);
	}
	for (i = 0; i + 1 < n && b[i] == 0; i++)
		;
	if (b[i] & 0x80)
		out->b[k++] = 0;
	memcpy(out->b + k, b + i, n - i);
	out->len = k + n - i;
	out->hex[0] = '\0';
}

int
ca_db_revoked(struct ca_crl_entry **out, size_t *nout, const char *path,
    struct ca_err *err)
{
	struct ca_crl_entry *v = NULL, *nv;
	struct ca_db_entry e;
	struct ca_err lerr;
	char *buf = NULL, *p, *nl;
	size_t len, lineno = 0, n = 0, cap = 0;
	int ret;

	*out = NULL;
	*nout = 0;
	if ((ret = ca_file_read(&buf, &len, path, CA_MAX_INDEX, err)) != 0)
		return ret;
	for (p = buf; p < buf + len; p = nl + 1) {
		lineno++;
		if ((nl = memchr(p, '\n', (size_t)(buf + len - p))) == NULL)
			break; /* a torn last line never counted */
		*nl = '\0';
		if (*p == '\0')
			continue;
		/* Every line is checked, as ca_db_load does, but nothing is
		 * copied: only revoked entries are kept, and only what a CRL
		 * entry needs. */
		if (parse_line(&e, p, 0, &lerr) != 0) {
			ret = ca_err_set(err, CA_EDB, "%s:%zu: corrupt entry: %s",
			    path, lineno, lerr.msg);
			goto fail;
		}
		if (e.status != 'R')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			if ((nv = realloc(v, cap * sizeof(*v))) == NULL) {
				ret = ca_err_set(err, CA_ENOMEM, "out of memory");
				goto fail;
			}
			v = nv;
		}
		serial_der(&v[n].serial, e.serial);
		v[n].revoked_at = e.revoked_at;
		v[n].reason = e.reason;
		n++;
	}
	free(buf);
	*out = v;
	*nout = n;
	return 0;
fail:
	free(buf);
	free(v);
	return ret;
}
