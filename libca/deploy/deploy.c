/*
 * deploy.c - managed files: discovered under the sources, validated as a
 * whole set, compared with their destinations (the plan), then placed
 * all together; deploy-after commands; diffs for dry runs.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "deploy/deploy-int.h"

#define MAX_DEPTH 32          /* directories below a source */
#define HEAD_MAX (64u * 1024) /* read of a file too large to deploy */

struct seen {
	dev_t dev;
	ino_t ino;
};

struct scan {
	struct ca_deploy *d;
	struct seen *seen;
	size_t nseen;
	size_t cap;           /* of d->v */
};

static int
prob(struct ca_strv *problems, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
prob(struct ca_strv *problems, const char *fmt, ...)
{
	char msg[1400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return ca_strv_add(problems, msg) == 0 ? 0 : CA_ENOMEM;
}

const char *
ca_deploy_state_name(enum ca_deploy_state s)
{
	static const char *const names[CA_DEPLOY__MAX] = { "new", "changed",
		"unchanged" };

	return s < CA_DEPLOY__MAX ? names[s] : "?";
}

static void
wipe_free(char *p, size_t n)
{
	if (p == NULL)
		return;
	gnutls_memset(p, 0, n);
	free(p);
}

static void
item_clear(struct ca_deploy_item *it)
{
	free(it->src);
	free(it->target);
	free(it->dest);
	free(it->after);
	free(it->owner);
	/* Every content is wiped, not only what was seen to be a key: a
	 * config may hold a password just as well. */
	wipe_free(it->data, it->len);
	memset(it, 0, sizeof(*it));
}

void
ca_deploy_free(struct ca_deploy *d)
{
	size_t i;

	if (d == NULL)
		return;
	for (i = 0; i < d->n; i++)
		item_clear(&d->v[i]);
	free(d->v);
	ca_strv_free(&d->problems);
	free(d->root);
	ca_deploy_unlock(d);
	memset(d, 0, sizeof(*d));
}

/* ---- discovery ---------------------------------------------------------- */

/* Resolves deploy-owner against the system; problems name file:line. */
static int
resolve_owner(struct ca_deploy_item *it, const struct ca_deploy_hdr *h,
    struct ca_strv *pr)
{
	struct passwd *pw;
	struct group *gr;
	int ret;

	it->uid = (uid_t)-1;
	it->gid = (gid_t)-1;
	if (h->owner == NULL)
		return 0;
	it->has_owner = 1;
	if ((pw = getpwnam(h->user)) == NULL) {
		if ((ret = prob(pr, "%s:%zu: deploy-owner: unknown user '%s'",
		    it->src, h->owner_line, h->user)) != 0)
			return ret;
	} else
		it->uid = pw->pw_uid;
	if (h->group != NULL) {
		if ((gr = getgrnam(h->group)) == NULL) {
			if ((ret = prob(pr, "%s:%zu: deploy-owner: unknown group "
			    "'%s'", it->src, h->owner_line, h->group)) != 0)
				return ret;
		} else
			it->gid = gr->gr_gid;
	}
	/* Without root the chown would fail half-way through placing:
	 * say so now, while nothing is placed. */
	if (geteuid() != 0) {
		if (it->uid != (uid_t)-1 && it->uid != geteuid())
			return prob(pr, "%s:%zu: deploy-owner '%s' needs root "
			    "(this runs as uid %u)", it->src, h->owner_line,
			    h->owner, (unsigned)geteuid());
		if (it->gid != (gid_t)-1 && it->gid != getegid()) {
			int i = 0, n = getgroups(0, NULL);
			gid_t *gs = n > 0 ? calloc((size_t)n, sizeof(*gs)) : NULL;
			if (gs != NULL && (n = getgroups(n, gs)) > 0)
				for (i = 0; i < n && gs[i] != it->gid; i++)
					;
			free(gs);
			if (n <= 0 || i == n)
				return prob(pr, "%s:%zu: deploy-owner '%s' needs "
				    "root or membership of group '%s'", it->src,
				    h->owner_line, h->owner, h->group);
		}
	}
	return 0;
}

static int
join_dest(char **out, const char *root, const char *target)
{
	size_t rl = strlen(root), tl = strlen(target);

	if (rl + tl >= PATH_MAX)
		return -1;
	if ((*out = malloc(rl + tl + 1)) == NULL)
		return -1;
	memcpy(*out, root, rl);
	memcpy(*out + rl, target, tl + 1);
	return 0;
}

/* The first HEAD_MAX bytes of a file too large to deploy: enough to see
 * whether it claims to be managed. */
static int
read_head(char **out, size_t *len, const char *path)
{
	ssize_t r;
	int fd;

	*out = NULL;
	*len = 0;
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
	    O_NONBLOCK)) == -1)
		return -1;
	if ((*out = malloc(HEAD_MAX + 1)) == NULL) {
		close(fd);
		return -1;
	}
	while ((r = read(fd, *out + *len, HEAD_MAX - *len)) > 0 ||
	    (r < 0 && errno == EINTR))
		if (r > 0 && (*len += (size_t)r) == HEAD_MAX)
			break;
	close(fd);
	(*out)[*len] = '\0';
	return 0;
}

/* One file found under a source (explicit: named as a source itself). */
static int
consider(struct scan *sc, const char *path, const struct stat *st,
    int explicit)
{
	struct ca_deploy *d = sc->d;
	struct ca_deploy_hdr h;
	struct ca_deploy_item *it;
	struct ca_err e = { 0 };
	char *buf = NULL;
	size_t len = 0, i;
	int ret, too_large = (size_t)st->st_size > CA_DEPLOY_MAX_FILE;

	/* The same managed file by two ways (a source inside another):
	 * once. */
	for (i = 0; i < sc->nseen; i++)
		if (sc->seen[i].dev == st->st_dev && sc->seen[i].ino ==
		    st->st_ino)
			return 0;
	if (too_large) {
		if (read_head(&buf, &len, path) != 0)
			return prob(&d->problems, "%s: cannot read: %s", path,
			    strerror(errno));
	} else if (ca_file_read(&buf, &len, path, CA_DEPLOY_MAX_FILE,
	    &e) != 0)
		return e.code == CA_ENOMEM ? CA_ENOMEM :
		    prob(&d->problems, "%s", e.msg);
	ret = ca_deploy_hdr_parse(&h, &d->problems, path, buf, len);
	if (ret == CA_ENOMEM)
		goto out;
	if (ret == 0) {
		ret = explicit ? prob(&d->problems, "%s: not a managed file: "
		    "no deploy-target header in its leading comment block",
		    path) : 0;
		goto out;
	}
	if (sc->nseen % 64 == 0) {
		struct seen *ns = realloc(sc->seen, (sc->nseen + 64) *
		    sizeof(*ns));
		if (ns == NULL) {
			ret = CA_ENOMEM;
			goto out;
		}
		sc->seen = ns;
	}
	sc->seen[sc->nseen].dev = st->st_dev;
	sc->seen[sc->nseen++].ino = st->st_ino;
	if (too_large) {
		ret = prob(&d->problems, "%s:%zu: too large to deploy (%lld "
		    "bytes, at most %u)", path, h.target_line,
		    (long long)st->st_size, CA_DEPLOY_MAX_FILE);
		goto out;
	}
	if (h.target == NULL) {
		ret = 0;  /* its problems are listed; nothing to place */
		goto out;
	}
	if (d->n == sc->cap) {
		size_t nc = sc->cap ? sc->cap * 2 : 16;
		struct ca_deploy_item *nv = realloc(d->v, nc * sizeof(*nv));
		if (nv == NULL) {
			ret = CA_ENOMEM;
			goto out;
		}
		d->v = nv;
		sc->cap = nc;
	}
	it = &d->v[d->n];
	memset(it, 0, sizeof(*it));
	d->n++;
	it->line = h.target_line;
	it->mode = h.mode;
	it->is_key = h.is_key;
	it->data = buf;
	it->len = len;
	buf = NULL;
	if ((it->src = strdup(path)) == NULL ||
	    (it->target = strdup(h.target)) == NULL ||
	    (h.after != NULL && (it->after = strdup(h.after)) == NULL) ||
	    (h.owner != NULL && (it->owner = strdup(h.owner)) == NULL) ||
	    join_dest(&it->dest, d->root, h.target) != 0) {
		ret = CA_ENOMEM;
		goto out;
	}
	ret = resolve_owner(it, &h, &d->problems);
out:
	ca_deploy_hdr_free(&h);
	wipe_free(buf, len);
	return ret == CA_ENOMEM ? CA_ENOMEM : 0;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names of dp's entries that skip() does not leave out, sorted;
 * *out and its strings are the caller's (free_names). */
static int
sorted_names(char ***out, size_t *nout, DIR *dp, int (*skip)(const char *))
{
	struct dirent *de;
	char **names = NULL, **nn;
	size_t n = 0, cap = 0;

	*out = NULL;
	*nout = 0;
	while ((de = readdir(dp)) != NULL) {
		if (skip(de->d_name))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			if ((nn = realloc(names, cap * sizeof(*nn))) == NULL)
				goto nomem;
			names = nn;
		}
		if ((names[n] = strdup(de->d_name)) == NULL)
			goto nomem;
		n++;
	}
	if (n > 0)
		qsort(names, n, sizeof(*names), by_name);
	*out = names;
	*nout = n;
	return 0;
nomem:
	while (n > 0)
		free(names[--n]);
	free(names);
	return CA_ENOMEM;
}

static void
free_names(char **names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* A source walk leaves out every dot entry (.git, editor swap files, our
 * own temp files); the secrets guard only ., .. and .git. */
static int
skip_dot(const char *name)
{
	return name[0] == '.';
}

static int
skip_git(const char *name)
{
	return strcmp(name, ".") == 0 || strcmp(name, "..") == 0 ||
	    strcmp(name, ".git") == 0;
}

/* Every regular file under dir, in name order; entries whose name starts
 * with '.' (.git, editor swap files, our own temp files) are left out. */
static int
walk(struct scan *sc, const char *dir, int depth)
{
	struct ca_deploy *d = sc->d;
	struct stat st;
	char **names = NULL, *p;
	size_t n = 0, i;
	DIR *dp;
	int ret;

	if (depth > MAX_DEPTH)
		return prob(&d->problems, "%s: more than %d directories deep",
		    dir, MAX_DEPTH);
	if ((dp = opendir(dir)) == NULL)
		return prob(&d->problems, "%s: cannot open directory: %s", dir,
		    strerror(errno));
	ret = sorted_names(&names, &n, dp, skip_dot);
	for (i = 0; i < n && ret == 0; i++) {
		if ((p = ca_path_join(dir, names[i])) == NULL) {
			ret = CA_ENOMEM;
			break;
		}
		if (lstat(p, &st) == -1)
			ret = prob(&d->problems, "%s: cannot stat: %s", p,
			    strerror(errno));
		else if (S_ISDIR(st.st_mode))
			ret = walk(sc, p, depth + 1);
		else if (S_ISREG(st.st_mode))
			ret = consider(sc, p, &st, 0);
		else
			ret = prob(&d->problems, "%s: not a regular file (%s): "
			    "sources hold regular files only", p,
			    S_ISLNK(st.st_mode) ? "a symlink" : "a special file");
		free(p);
	}
	closedir(dp);
	free_names(names, n);
	return ret;
}

/* ---- validation of the whole set --------------------------------------- */

static int
by_target(const void *a, const void *b, void *items)
{
	const struct ca_deploy_item *v = items;
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	int c = strcmp(v[i].target, v[j].target);

	/* equal targets: in discovery order, so the first found is named */
	return c != 0 ? c : (i < j ? -1 : i > j);
}

/* Two files to one target; a file where another needs a directory. */
static int
check_targets(struct ca_deploy *d)
{
	size_t *ix, i, lo, hi, mid;
	char *anc = NULL, *s;
	int ret = 0, c;

	if (d->n == 0)
		return 0;
	if ((ix = malloc(d->n * sizeof(*ix))) == NULL)
		return CA_ENOMEM;
	for (i = 0; i < d->n; i++)
		ix[i] = i;
	qsort_r(ix, d->n, sizeof(*ix), by_target, d->v);
	for (i = 1; i < d->n && ret == 0; i++) {
		const struct ca_deploy_item *a = &d->v[ix[i - 1]],
		    *b = &d->v[ix[i]];
		if (strcmp(a->target, b->target) == 0)
			ret = prob(&d->problems, "%s:%zu: deploy-target '%s' is "
			    "also the target of %s:%zu", b->src, b->line,
			    b->target, a->src, a->line);
	}
	for (i = 0; i < d->n && ret == 0; i++) {
		const struct ca_deploy_item *it = &d->v[i];
		free(anc);
		if ((anc = strdup(it->target)) == NULL) {
			ret = CA_ENOMEM;
			break;
		}
		/* every ancestor of the target, looked up among the targets */
		while ((s = strrchr(anc, '/')) != NULL && s != anc && ret == 0) {
			*s = '\0';
			lo = 0;
			hi = d->n;
			while (lo < hi) {
				mid = (lo + hi) / 2;
				c = strcmp(d->v[ix[mid]].target, anc);
				if (c == 0) {
					ret = prob(&d->problems, "%s:%zu: "
					    "deploy-target '%s' needs '%s' to be a "
					    "directory, but %s:%zu deploys a file "
					    "there", it->src, it->line, it->target,
					    anc, d->v[ix[mid]].src,
					    d->v[ix[mid]].line);
					break;
				}
				if (c < 0)
					lo = mid + 1;
				else
					hi = mid;
			}
		}
	}
	free(anc);
	free(ix);
	return ret;
}

/* Walks the destination from the root down with lstat: no symlink and
 * nothing but directories on the way; then compares what is there. */
static int
check_dest(struct ca_deploy *d, struct ca_deploy_item *it)
{
	struct stat st;
	char *p = NULL, *have = NULL;
	size_t rl = strlen(d->root), off, hlen = 0;
	int ret = 0, last;

	if ((p = strdup(it->dest)) == NULL)
		return CA_ENOMEM;
	it->state = CA_DEPLOY_NEW;
	off = rl + 1;
	for (;;) {
		char *slash = strchr(p + off, '/');
		last = slash == NULL;
		if (!last)
			*slash = '\0';
		if (lstat(p, &st) == -1) {
			if (errno != ENOENT)
				ret = prob(&d->problems, "%s:%zu: cannot check "
				    "'%s': %s", it->src, it->line, p,
				    strerror(errno));
			goto out; /* missing: made when placed */
		}
		if (S_ISLNK(st.st_mode)) {
			ret = prob(&d->problems, "%s:%zu: '%s' is a symlink on "
			    "the way to '%s': refused", it->src, it->line, p,
			    it->dest);
			goto out;
		}
		if (last)
			break;
		if (!S_ISDIR(st.st_mode)) {
			ret = prob(&d->problems, "%s:%zu: '%s' on the way to '%s' "
			    "is not a directory", it->src, it->line, p, it->dest);
			goto out;
		}
		*slash = '/';
		off = (size_t)(slash - p) + 1;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = prob(&d->problems, "%s:%zu: '%s' exists and is not a "
		    "regular file", it->src, it->line, it->dest);
		goto out;
	}
	it->state = CA_DEPLOY_CHANGED;
	it->old_mode = st.st_mode & 07777;
	it->old_uid = st.st_uid;
	it->old_gid = st.st_gid;
	if (it->old_mode != it->mode)
		it->differs |= CA_DEPLOY_DIFF_MODE;
	if ((it->uid != (uid_t)-1 && st.st_uid != it->uid) ||
	    (it->gid != (gid_t)-1 && st.st_gid != it->gid))
		it->differs |= CA_DEPLOY_DIFF_OWNER;
	if ((size_t)st.st_size != it->len)
		it->differs |= CA_DEPLOY_DIFF_CONTENT;
	else if (ca_file_read(&have, &hlen, it->dest, CA_DEPLOY_MAX_FILE,
	    NULL) != 0 || hlen != it->len || memcmp(have, it->data,
	    it->len) != 0)
		it->differs |= CA_DEPLOY_DIFF_CONTENT;
	if (it->differs == 0)
		it->state = CA_DEPLOY_UNCHANGED;
out:
	wipe_free(have, hlen);
	free(p);
	return ret;
}

int
ca_deploy_scan(struct ca_deploy *out, const struct ca_strv *sources,
    const char *root, struct ca_err *err)
{
	struct scan sc;
	struct stat st;
	size_t i, rl;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	out->lock_fd = -1;
	memset(&sc, 0, sizeof(sc));
	sc.d = out;
	if ((out->root = strdup(root != NULL ? root : "")) == NULL)
		return ca_err_set(err, CA_ENOMEM, "out of memory");
	/* "/x/" and "/x" are one prefix; "/" is no prefix at all. */
	rl = strlen(out->root);
	while (rl > 0 && out->root[rl - 1] == '/')
		out->root[--rl] = '\0';
	if (root != NULL && root[0] != '\0' && (stat(root, &st) == -1 ||
	    !S_ISDIR(st.st_mode))) {
		ret = ca_err_set(err, CA_ENOENT, "root '%s' is not a directory",
		    root);
		goto fail;
	}
	if (sources == NULL || sources->n == 0) {
		ret = ca_err_set(err, CA_EINVAL, "no sources to deploy from");
		goto fail;
	}
	for (i = 0; i < sources->n && ret == 0; i++) {
		const char *s = sources->v[i];
		if (stat(s, &st) == -1)
			ret = prob(&out->problems, "%s: cannot open source: %s", s,
			    strerror(errno));
		else if (S_ISDIR(st.st_mode))
			ret = walk(&sc, s, 0);
		else if (S_ISREG(st.st_mode))
			ret = consider(&sc, s, &st, 1);
		else
			ret = prob(&out->problems, "%s: not a regular file or "
			    "directory", s);
	}
	if (ret == 0)
		ret = check_targets(out);
	for (i = 0; i < out->n && ret == 0; i++)
		ret = check_dest(out, &out->v[i]);
	free(sc.seen);
	if (ret != 0) {
		ca_err_set(err, ret, "out of memory");
		goto fail;
	}
	if (out->problems.n > 0)
		return ca_err_set(err, CA_ECONF, "%zu problem%s in the managed "
		    "files; nothing may be placed", out->problems.n,
		    out->problems.n == 1 ? "" : "s");
	return 0;
fail:
	free(sc.seen);
	ca_deploy_free(out);
	return ret;
}

/* ---- placing ------------------------------------------------------------ */

struct dirfd {
	char *path;           /* the directory's target path ("" for root) */
	int fd;
	int dirty;            /* a name was renamed into it */
	int noted;            /* noted in the lock as getting temp files */
};

struct made {
	char *path;           /* a directory we created (dest path) */
	char *parent;         /* its parent, to fsync */
};

struct apply {
	struct ca_deploy *d;
	int rootfd;
	int note_fd;          /* the run lock, or -1 */
	struct dirfd *dirs;
	size_t ndirs;
	struct made *made;
	size_t nmade;
	char **tmp;           /* per item: the staged temp name, or NULL */
	size_t *tmpdir;       /* per item: its directory in dirs */
};

/* The directory of target (without its last component), opened from the
 * root one component at a time with O_NOFOLLOW, made when missing. */
static int
open_dir(size_t *out, struct apply *a, const char *target,
    struct ca_err *err)
{
	const char *end = strrchr(target, '/');
	size_t dl = (size_t)(end - target), i;
	char *path = NULL, *comp = NULL;
	const char *p = target + 1;
	int fd = -1, nfd, ret;
	struct dirfd *nd;

	for (i = 0; i < a->ndirs; i++)
		if (strlen(a->dirs[i].path) == dl &&
		    strncmp(a->dirs[i].path, target, dl) == 0) {
			*out = i;
			return 0;
		}
	if ((path = strndup(target, dl)) == NULL)
		return ca_err_set(err, CA_ENOMEM, "out of memory");
	if ((fd = dup(a->rootfd)) == -1) {
		ret = ca_err_set(err, CA_EIO, "cannot open the root: %s",
		    strerror(errno));
		goto out;
	}
	while (p < end) {
		const char *e = strchr(p, '/');
		char *full = NULL;
		free(comp);
		if ((comp = strndup(p, (size_t)(e - p))) == NULL) {
			ret = ca_err_set(err, CA_ENOMEM, "out of memory");
			goto out;
		}
		nfd = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
		if (nfd == -1 && errno == ENOENT) {
			int made;
			/* Noted first: should this run die, the next one
			 * removes it again when it is still empty. */
			if (a->note_fd >= 0) {
				char *note = NULL;
				if (asprintf(&note, "d %.*s", (int)(e - target),
				    target) < 0) {
					ret = ca_err_set(err, CA_ENOMEM, "out of "
					    "memory");
					goto out;
				}
				ret = ca_lock_note(a->note_fd, note, err);
				free(note);
				if (ret != 0) {
					ca_err_wrap(err, "cannot create directory "
					    "'%s%.*s'", a->d->root,
					    (int)(e - target), target);
					goto out;
				}
			}
			made = ca_io_mkdirat(fd, comp, 0755) == 0;
			if (!made && errno != EEXIST) {
				ret = ca_err_set(err, CA_EIO, "cannot create "
				    "directory '%s%.*s': %s", a->d->root,
				    (int)(e - target), target, strerror(errno));
				goto out;
			}
			/* Made by us: removed again if nothing is placed. */
			if (made) {
				struct made *nm = realloc(a->made, (a->nmade + 1) *
				    sizeof(*nm));
				if (nm == NULL) {
					ret = ca_err_set(err, CA_ENOMEM, "out of "
					    "memory");
					goto out;
				}
				a->made = nm;
				if (asprintf(&full, "%s%.*s", a->d->root,
				    (int)(e - target), target) < 0) {
					ret = ca_err_set(err, CA_ENOMEM, "out of "
					    "memory");
					goto out;
				}
				a->made[a->nmade].path = full;
				if (asprintf(&a->made[a->nmade].parent, "%s%.*s",
				    a->d->root, (int)(p - 1 - target), target) <
				    0) {
					free(full);
					ret = ca_err_set(err, CA_ENOMEM, "out of "
					    "memory");
					goto out;
				}
				a->nmade++;
			}
			nfd = openat(fd, comp, O_RDONLY | O_DIRECTORY |
			    O_NOFOLLOW | O_CLOEXEC);
			/* mkdir honours the umask; 0755 is meant. */
			if (nfd != -1 && fchmod(nfd, 0755) == -1) {
				close(nfd);
				nfd = -1;
			}
		}
		if (nfd == -1) {
			struct stat st;
			int en = errno;
			/* Planted since the plan was made: not followed. */
			if ((en == ELOOP || en == ENOTDIR) && fstatat(fd, comp, &st,
			    AT_SYMLINK_NOFOLLOW) == 0)
				ret = ca_err_set(err, CA_EPERM, "cannot place under "
				    "'%s%.*s': %s", a->d->root, (int)(e - target),
				    target, S_ISLNK(st.st_mode) ? "it is a symlink" :
				    "it is not a directory");
			else
				ret = ca_err_set(err, CA_EIO, "cannot open directory "
				    "'%s%.*s': %s", a->d->root, (int)(e - target),
				    target, strerror(en));
			goto out;
		}
		close(fd);
		fd = nfd;
		p = e + 1;
	}
	if ((nd = realloc(a->dirs, (a->ndirs + 1) * sizeof(*nd))) == NULL) {
		ret = ca_err_set(err, CA_ENOMEM, "out of memory");
		goto out;
	}
	a->dirs = nd;
	a->dirs[a->ndirs].path = path;
	a->dirs[a->ndirs].fd = fd;
	a->dirs[a->ndirs].dirty = 0;
	a->dirs[a->ndirs].noted = 0;
	*out = a->ndirs++;
	path = NULL;
	fd = -1;
	ret = 0;
out:
	if (fd != -1)
		close(fd);
	free(comp);
	free(path);
	return ret;
}

static int
write_all(int fd, const char *buf, size_t len)
{
	ssize_t w;

	while (len > 0) {
		w = ca_io_write(fd, buf, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

/* A temp file in dir: owner and mode before the first byte, content,
 * fsync. The name comes back in *tmp. */
static int
stage(char **tmp, int dirfd, const struct ca_deploy_item *it,
    struct ca_err *err)
{
	unsigned char rnd[6];
	char name[40], hex[13];
	int fd = -1, tries, ret;

	*tmp = NULL;
	for (tries = 0; tries < 16; tries++) {
		if (gnutls_rnd(GNUTLS_RND_NONCE, rnd, sizeof(rnd)) != 0)
			return ca_err_set(err, CA_ECRYPTO, "no random bytes for "
			    "a temp name");
		ca_hex(hex, rnd, sizeof(rnd), 0);
		snprintf(name, sizeof(name), ".tierca-deploy.%s", hex);
		fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd != -1 || errno != EEXIST)
			break;
	}
	if (fd == -1)
		return ca_err_set(err, CA_EIO, "cannot create a temp file next "
		    "to '%s': %s", it->dest, strerror(errno));
	if ((*tmp = strdup(name)) == NULL) {
		ret = ca_err_set(err, CA_ENOMEM, "out of memory");
		goto fail;
	}
	/* Owner and mode first: a file meant for one service is never
	 * readable by anyone else, not even for a moment. */
	if ((it->has_owner && fchown(fd, it->uid, it->gid) == -1) ||
	    fchmod(fd, it->mode) == -1) {
		ret = ca_err_set(err, CA_EPERM, "cannot set owner/mode of '%s': "
		    "%s", it->dest, strerror(errno));
		goto fail;
	}
	if (write_all(fd, it->data, it->len) == -1 || ca_io_fsync(fd) == -1) {
		ret = ca_err_set(err, CA_EIO, "cannot write '%s': %s", it->dest,
		    strerror(errno));
		goto fail;
	}
	if (close(fd) == -1) {
		fd = -1;
		ret = ca_err_set(err, CA_EIO, "cannot write '%s': %s", it->dest,
		    strerror(errno));
		goto fail;
	}
	return 0;
fail:
	if (fd != -1)
		close(fd);
	unlinkat(dirfd, name, 0);
	free(*tmp);
	*tmp = NULL;
	return ret;
}

/* A directory about to get temp files is noted in the lock first, so
 * that the next run looks there should this one die. */
static int
note_tmpdir(struct apply *a, struct dirfd *df, struct ca_err *err)
{
	char *note = NULL;
	int ret;

	if (a->note_fd < 0 || df->noted)
		return 0;
	if (asprintf(&note, "t %s", df->path[0] ? df->path : "/") < 0)
		return ca_err_set(err, CA_ENOMEM, "out of memory");
	ret = ca_lock_note(a->note_fd, note, err);
	free(note);
	if (ret != 0)
		return ca_err_wrap(err, "cannot stage in '%s%s'", a->d->root,
		    df->path[0] ? df->path : "/");
	df->noted = 1;
	return 0;
}

int
ca_deploy_apply(struct ca_deploy *d, size_t *placed, struct ca_err *err)
{
	struct apply a;
	size_t i;
	int ret = 0;

	*placed = 0;
	if (d->problems.n > 0)
		return ca_err_set(err, CA_ECONF, "%zu problem%s in the managed "
		    "files; nothing placed", d->problems.n,
		    d->problems.n == 1 ? "" : "s");
	memset(&a, 0, sizeof(a));
	a.d = d;
	a.rootfd = -1;
	a.note_fd = d->locked ? d->lock_fd : -1;
	if (d->n == 0)
		return 0;
	if ((a.tmp = calloc(d->n, sizeof(*a.tmp))) == NULL ||
	    (a.tmpdir = calloc(d->n, sizeof(*a.tmpdir))) == NULL) {
		ret = ca_err_set(err, CA_ENOMEM, "out of memory");
		goto out;
	}
	if ((a.rootfd = open(d->root[0] ? d->root : "/", O_RDONLY |
	    O_DIRECTORY | O_CLOEXEC)) == -1) {
		ret = ca_err_set(err, CA_EIO, "cannot open root '%s': %s",
		    d->root[0] ? d->root : "/", strerror(errno));
		goto out;
	}
	/* Stage everything before anything is renamed in: a full disk, a
	 * refused chown or a directory that cannot be made leaves every
	 * destination as it was. Directories are kept by index, since
	 * a.dirs grows. */
	for (i = 0; i < d->n; i++) {
		struct ca_deploy_item *it = &d->v[i];
		if (it->state == CA_DEPLOY_UNCHANGED)
			continue;
		if ((ret = open_dir(&a.tmpdir[i], &a, it->target, err)) != 0 ||
		    (ret = note_tmpdir(&a, &a.dirs[a.tmpdir[i]], err)) != 0 ||
		    (ret = stage(&a.tmp[i], a.dirs[a.tmpdir[i]].fd, it,
		    err)) != 0)
			goto out;
	}
	for (i = 0; i < d->n; i++) {
		struct ca_deploy_item *it = &d->v[i];
		struct dirfd *df;
		if (a.tmp[i] == NULL)
			continue;
		df = &a.dirs[a.tmpdir[i]];
		if (ca_io_renameat2(df->fd, a.tmp[i], df->fd,
		    strrchr(it->target, '/') + 1, 0) == -1) {
			ret = ca_err_set(err, CA_EIO, "cannot place '%s': %s",
			    it->dest, strerror(errno));
			goto out;
		}
		free(a.tmp[i]);
		a.tmp[i] = NULL;
		df->dirty = 1;
		it->placed = 1;
		(*placed)++;
	}
	/* The new names, and the new directories, survive a power cut. */
	for (i = 0; i < a.ndirs; i++)
		if (a.dirs[i].dirty && ca_io_fsync(a.dirs[i].fd) == -1 &&
		    errno != EINVAL && ret == 0)
			ret = ca_err_set(err, CA_EIO, "cannot sync directory "
			    "'%s%s': %s", d->root, a.dirs[i].path,
			    strerror(errno));
	for (i = 0; i < a.nmade; i++)
		if (ca_dir_fsync(a.made[i].parent[0] ? a.made[i].parent : "/",
		    ret == 0 ? err : NULL) != 0 && ret == 0)
			ret = CA_EIO;
	if (ret == 0) {
		/* nothing to undo */
		for (i = 0; i < a.nmade; i++) {
			free(a.made[i].path);
			free(a.made[i].parent);
		}
		a.nmade = 0;
	}
out:
	for (i = 0; a.tmp != NULL && i < d->n; i++)
		if (a.tmp[i] != NULL) {
			unlinkat(a.dirs[a.tmpdir[i]].fd, a.tmp[i], 0);
			free(a.tmp[i]);
		}
	/* Directories made for a failed run go again when nothing was
	 * placed in them (rmdir removes only what is empty), deepest
	 * first. */
	while (a.nmade > 0) {
		a.nmade--;
		rmdir(a.made[a.nmade].path);
		free(a.made[a.nmade].path);
		free(a.made[a.nmade].parent);
	}
	free(a.made);
	for (i = 0; i < a.ndirs; i++) {
		close(a.dirs[i].fd);
		free(a.dirs[i].path);
	}
	free(a.dirs);
	free(a.tmp);
	free(a.tmpdir);
	if (a.rootfd != -1)
		close(a.rootfd);
	return ret;
}

/* ---- the run lock, and what a killed run left --------------------------- */

#define TMP_PREFIX ".tierca-deploy."

/* ".tierca-deploy.<12 lowercase hex digits>": a name stage() makes, and
 * nothing else is ours to remove. */
static int
is_deploy_tmp(const char *n)
{
	size_t pl = sizeof(TMP_PREFIX) - 1, i;

	if (strncmp(n, TMP_PREFIX, pl) != 0 || strlen(n) != pl + 12)
		return 0;
	for (i = pl; i < pl + 12; i++)
		if (!isdigit((unsigned char)n[i]) && (n[i] < 'a' || n[i] > 'f'))
			return 0;
	return 1;
}

/* A directory ("/" or "/a/b", as in a target) opened from rootfd one
 * component at a time, never through a symlink; -1 when it cannot be
 * (missing, not a directory, a symlink, a "." or ".." in a note). */
static int
open_under(int rootfd, const char *dir)
{
	char *copy = NULL, *comp = NULL, *save = NULL;
	int fd, nfd;

	if (dir[0] != '/' || (copy = strdup(dir)) == NULL)
		return -1;
	if ((fd = dup(rootfd)) == -1) {
		free(copy);
		return -1;
	}
	for (comp = strtok_r(copy, "/", &save); comp != NULL && fd != -1;
	    comp = strtok_r(NULL, "/", &save)) {
		nfd = strcmp(comp, ".") == 0 || strcmp(comp, "..") == 0 ? -1 :
		    openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
		close(fd);
		fd = nfd;
	}
	free(copy);
	return fd;
}

/* Our temp files in one directory go; *n counts them. */
static int
sweep(int rootfd, const char *root, const char *dir, size_t *n,
    struct ca_err *err)
{
	struct dirent *de;
	struct stat st;
	DIR *dp;
	int fd, ret = 0;

	if ((fd = open_under(rootfd, dir)) == -1)
		return 0;  /* nothing there of ours to remove */
	if ((dp = fdopendir(fd)) == NULL) {
		close(fd);
		return ca_err_set(err, CA_EIO, "cannot read directory '%s%s': %s",
		    root, dir, strerror(errno));
	}
	while ((de = readdir(dp)) != NULL) {
		/* Only our names, and only regular files: a symlink or a
		 * directory under such a name is not something we made. */
		if (!is_deploy_tmp(de->d_name) || fstatat(dirfd(dp), de->d_name,
		    &st, AT_SYMLINK_NOFOLLOW) == -1 || !S_ISREG(st.st_mode))
			continue;
		if (unlinkat(dirfd(dp), de->d_name, 0) == 0)
			(*n)++;
		else if (errno != ENOENT && ret == 0)
			ret = ca_err_set(err, CA_EIO, "cannot remove '%s%s/%s': %s",
			    root, strcmp(dir, "/") == 0 ? "" : dir, de->d_name,
			    strerror(errno));
	}
	closedir(dp);
	return ret;
}

/* A directory the dead run noted making goes when it is empty. */
static void
remove_made(int rootfd, const char *dir, size_t *n)
{
	const char *slash = strrchr(dir, '/');
	char *parent;
	int pfd;

	if (slash == NULL || slash[1] == '\0' ||
	    (parent = strndup(dir, slash == dir ? 1 : (size_t)(slash - dir))) ==
	    NULL)
		return;
	/* AT_REMOVEDIR removes only an empty directory, never a symlink. */
	if ((pfd = open_under(rootfd, parent)) != -1) {
		if (strcmp(slash + 1, ".") != 0 && strcmp(slash + 1, "..") != 0 &&
		    unlinkat(pfd, slash + 1, AT_REMOVEDIR) == 0)
			(*n)++;
		close(pfd);
	}
	free(parent);
}

static int
strv_add_once(struct ca_strv *sv, const char *s)
{
	size_t i;

	for (i = 0; i < sv->n; i++)
		if (strcmp(sv->v[i], s) == 0)
			return 0;
	return ca_strv_add(sv, s) == 0 ? 0 : CA_ENOMEM;
}

/* After a run that died holding the lock: its temp files in the
 * directories it noted and in those of our targets, then the directories
 * it noted making, deepest (last noted) first. */
static int
recover(struct ca_deploy *d, int rootfd, size_t *n, struct ca_err *err)
{
	struct ca_strv notes = { NULL, 0 }, dirs = { NULL, 0 };
	char *dir = NULL;
	size_t i;
	int ret;

	if ((ret = ca_lock_notes(&notes, d->lock_fd, err)) != 0)
		return ret;
	for (i = 0; i < notes.n && ret == 0; i++)
		if (strncmp(notes.v[i], "t /", 3) == 0)
			ret = strv_add_once(&dirs, notes.v[i] + 2);
	for (i = 0; i < d->n && ret == 0; i++) {
		const char *t = d->v[i].target, *sl = strrchr(t, '/');
		free(dir);
		if ((dir = strndup(t, sl == t ? 1 : (size_t)(sl - t))) == NULL)
			ret = CA_ENOMEM;
		else
			ret = strv_add_once(&dirs, dir);
	}
	if (ret == CA_ENOMEM)
		ret = ca_err_set(err, CA_ENOMEM, "out of memory");
	for (i = 0; i < dirs.n && ret == 0; i++)
		ret = sweep(rootfd, d->root, dirs.v[i], n, err);
	for (i = notes.n; i-- > 0 && ret == 0;)
		if (strncmp(notes.v[i], "d /", 3) == 0)
			remove_made(rootfd, notes.v[i] + 2, n);
	free(dir);
	ca_strv_free(&dirs);
	ca_strv_free(&notes);
	return ret;
}

/* The directory of the lock under the root, made when missing; no
 * symlink followed on the way. */
static int
open_lock_dir(int *out, int rootfd, const char *root, struct ca_err *err)
{
	char *copy = NULL, *comp = NULL, *save = NULL;
	int fd, nfd, ret = 0;
	const char *lock = CA_DEPLOY_LOCK;
	size_t dl = (size_t)(strrchr(lock, '/') - lock);

	*out = -1;
	if ((copy = strndup(lock, dl)) == NULL)
		return ca_err_set(err, CA_ENOMEM, "out of memory");
	if ((fd = dup(rootfd)) == -1) {
		free(copy);
		return ca_err_set(err, CA_EIO, "cannot open root '%s': %s",
		    root[0] ? root : "/", strerror(errno));
	}
	for (comp = strtok_r(copy, "/", &save); comp != NULL;
	    comp = strtok_r(NULL, "/", &save)) {
		nfd = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
		if (nfd == -1 && errno == ENOENT &&
		    (ca_io_mkdirat(fd, comp, 0755) == 0 || errno == EEXIST)) {
			nfd = openat(fd, comp, O_RDONLY | O_DIRECTORY |
			    O_NOFOLLOW | O_CLOEXEC);
		}
		if (nfd == -1) {
			ret = ca_err_set(err, CA_EIO, "cannot open directory "
			    "'%s%.*s': %s", root, (int)(comp - copy +
			    strlen(comp)), lock, strerror(errno));
			break;
		}
		close(fd);
		fd = nfd;
	}
	free(copy);
	if (ret != 0) {
		close(fd);
		return ret;
	}
	*out = fd;
	return 0;
}

/* Every destination compared again, under the lock. */
static int
replan(struct ca_deploy *d, struct ca_err *err)
{
	size_t i;

	for (i = 0; i < d->n; i++) {
		struct ca_deploy_item *it = &d->v[i];
		it->differs = 0;
		it->placed = 0;
		if (check_dest(d, it) != 0)
			return ca_err_set(err, CA_ENOMEM, "out of memory");
	}
	if (d->problems.n > 0)
		return ca_err_set(err, CA_ECONF, "%zu problem%s in the managed "
		    "files; nothing may be placed", d->problems.n,
		    d->problems.n == 1 ? "" : "s");
	return 0;
}

int
ca_deploy_lock(struct ca_deploy *d, int wait, size_t *removed,
    struct ca_err *err)
{
	struct stat st;
	char *shown = NULL;
	const char *name = strrchr(CA_DEPLOY_LOCK, '/') + 1;
	int rootfd = -1, dfd = -1, fd = -1, ret;

	*removed = 0;
	if (d->locked)
		return 0;
	if ((rootfd = open(d->root[0] ? d->root : "/", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1)
		return ca_err_set(err, CA_EIO, "cannot open root '%s': %s",
		    d->root[0] ? d->root : "/", strerror(errno));
	if ((ret = open_lock_dir(&dfd, rootfd, d->root, err)) != 0)
		goto out;
	if (asprintf(&shown, "%s%s", d->root, CA_DEPLOY_LOCK) < 0) {
		shown = NULL;
		ret = ca_err_set(err, CA_ENOMEM, "out of memory");
		goto out;
	}
	if ((ret = ca_lock_fileat(&fd, dfd, name, shown, wait, err)) != 0)
		goto out;
	if (fstat(fd, &st) == -1) {
		ret = ca_err_set(err, CA_EIO, "cannot stat lock '%s': %s", shown,
		    strerror(errno));
		goto out;
	}
	d->lock_fd = fd;
	d->locked = 1;
	fd = -1;
	/* Not empty: the last run died at work (ca_lock_mark). */
	if (st.st_size > 0 && (ret = recover(d, rootfd, removed, err)) != 0) {
		ca_err_wrap(err, "cannot clean up after an interrupted run "
		    "(lock '%s')", shown);
		goto out;
	}
	ca_lock_mark(d->lock_fd);
	ret = replan(d, err);
out:
	/* Not marked yet: let go without clearing, so that what the dead
	 * run noted is there for the next one. */
	if (ret != 0 && ret != CA_ECONF && d->locked) {
		ca_lock_release(d->lock_fd);
		d->locked = 0;
		d->lock_fd = -1;
	}
	if (fd != -1)
		close(fd);
	if (dfd != -1)
		close(dfd);
	close(rootfd);
	free(shown);
	return ret;
}

void
ca_deploy_unlock(struct ca_deploy *d)
{
	if (!d->locked)
		return;
	ca_lock_clear(d->lock_fd);
	ca_lock_release(d->lock_fd);
	d->locked = 0;
	d->lock_fd = -1;
}

/* ---- deploy-after ------------------------------------------------------- */

int
ca_deploy_afters(struct ca_strv *out, const struct ca_deploy *d,
    int placed_only)
{
	size_t i, j;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < d->n; i++) {
		const struct ca_deploy_item *it = &d->v[i];
		if (it->after == NULL || (placed_only ? !it->placed :
		    it->state == CA_DEPLOY_UNCHANGED))
			continue;
		for (j = 0; j < out->n; j++)
			if (strcmp(out->v[j], it->after) == 0)
				break;
		if (j == out->n && ca_strv_add(out, it->after) != 0) {
			ca_strv_free(out);
			return CA_ENOMEM;
		}
	}
	return 0;
}

int
ca_deploy_run_after(const char *cmd, const char *root, struct ca_err *err)
{
	pid_t pid;
	int st;

	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == -1)
		return ca_err_set(err, CA_EIO, "cannot fork for deploy-after "
		    "'%s': %s", cmd, strerror(errno));
	if (pid == 0) {
		/* What the command prints is for people: on stderr, so that
		 * stdout stays the report (one JSON document with --json). */
		dup2(2, 1);
		if (root != NULL && root[0] != '\0')
			setenv("TIERCA_DEPLOY_ROOT", root, 1);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR)
			return ca_err_set(err, CA_EIO, "cannot wait for "
			    "deploy-after '%s': %s", cmd, strerror(errno));
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	if (WIFEXITED(st))
		return ca_err_set(err, CA_EIO, "deploy-after '%s' exited %d%s",
		    cmd, WEXITSTATUS(st), WEXITSTATUS(st) == 127 ?
		    " (command not found?)" : "");
	return ca_err_set(err, CA_EIO, "deploy-after '%s' killed by signal %d",
	    cmd, WTERMSIG(st));
}

/* ---- the repository guard ----------------------------------------------- */

/* 1 when git says path is filtered by git-crypt, 0 when it says not
 * (*how gets its answer: "unspecified", "unset", another filter), -1
 * when git cannot tell (not installed, not in a repository). */
static int
git_crypt_filtered(const char *path, char *how, size_t howlen)
{
	char out[PATH_MAX + 64], *dir = NULL, *v;
	const char *base;
	size_t got = 0;
	ssize_t r;
	pid_t pid;
	int fd[2], st;

	snprintf(how, howlen, "git cannot tell");
	if (pipe2(fd, O_CLOEXEC) == -1)
		return -1;
	base = strrchr(path, '/');
	if (base != NULL && (dir = strndup(path, (size_t)(base - path) +
	    (base == path))) == NULL) {
		close(fd[0]);
		close(fd[1]);
		return -1;
	}
	base = base != NULL ? base + 1 : path;
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == -1) {
		close(fd[0]);
		close(fd[1]);
		free(dir);
		return -1;
	}
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDWR);
		dup2(fd[1], 1);
		if (devnull >= 0)
			dup2(devnull, 2);
		if (dir != NULL && chdir(dir) == -1)
			_exit(126);
		/* The path as git sees it from its own directory; only
		 * .gitattributes decide, the content is not read. */
		execlp("git", "git", "check-attr", "filter", "--", base,
		    (char *)NULL);
		_exit(127);
	}
	close(fd[1]);
	free(dir);
	while (got < sizeof(out) - 1) {
		r = read(fd[0], out + got, sizeof(out) - 1 - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	out[got] = '\0';
	close(fd[0]);
	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR)
			return -1;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return -1;
	/* "<path>: filter: <value>\n" */
	if ((v = strstr(out, ": filter: ")) == NULL)
		return -1;
	v += 10;
	v[strcspn(v, "\n")] = '\0';
	snprintf(how, howlen, "filter %s", v);
	return strcmp(v, "git-crypt") == 0;
}

struct guard {
	struct ca_strv *problems;
	size_t nfiles, nfound;
};

static int
guard_file(struct guard *g, const char *path, const struct stat *st)
{
	struct ca_err e = { 0 };
	const char *what;
	char *buf = NULL, how[128];
	size_t len = 0, line;
	int ret = 0, prot;

	if ((size_t)st->st_size > CA_DEPLOY_MAX_FILE) {
		if (read_head(&buf, &len, path) != 0)
			return prob(g->problems, "%s: cannot read: %s", path,
			    strerror(errno));
	} else if (ca_file_read(&buf, &len, path, CA_DEPLOY_MAX_FILE,
	    &e) != 0)
		return e.code == CA_ENOMEM ? CA_ENOMEM :
		    prob(g->problems, "%s", e.msg);
	g->nfiles++;
	if (ca_secret_material(&what, &line, path, buf, len)) {
		g->nfound++;
		prot = git_crypt_filtered(path, how, sizeof(how));
		if (prot != 1)
			ret = prob(g->problems, "%s:%zu: %s not protected by "
			    "git-crypt (%s): add its path to .gitattributes "
			    "with filter=git-crypt, or keep it out of the "
			    "repository", path, line, what, how);
	}
	/* What was read may be a key: wiped, as every deploy content. */
	wipe_free(buf, len);
	return ret;
}

static int
guard_walk(struct guard *g, const char *dir, int depth)
{
	struct stat st;
	char **names = NULL, *p;
	size_t n = 0, i;
	DIR *dp;
	int ret;

	if (depth > MAX_DEPTH)
		return prob(g->problems, "%s: more than %d directories deep",
		    dir, MAX_DEPTH);
	if ((dp = opendir(dir)) == NULL)
		return prob(g->problems, "%s: cannot open directory: %s", dir,
		    strerror(errno));
	ret = sorted_names(&names, &n, dp, skip_git);
	for (i = 0; i < n && ret != CA_ENOMEM; i++) {
		if ((p = ca_path_join(dir, names[i])) == NULL) {
			ret = CA_ENOMEM;
			break;
		}
		/* A symlink's target is not the repository's content. */
		if (lstat(p, &st) == -1)
			ret = prob(g->problems, "%s: cannot stat: %s", p,
			    strerror(errno));
		else if (S_ISDIR(st.st_mode))
			ret = guard_walk(g, p, depth + 1);
		else if (S_ISREG(st.st_mode))
			ret = guard_file(g, p, &st);
		free(p);
	}
	closedir(dp);
	free_names(names, n);
	return ret;
}

int
ca_deploy_check_secrets(struct ca_strv *problems, size_t *nfiles,
    size_t *nfound, const struct ca_strv *paths, struct ca_err *err)
{
	struct guard g = { problems, 0, 0 };
	struct stat st;
	size_t i, before = problems->n;
	int ret = 0;

	for (i = 0; i < paths->n && ret != CA_ENOMEM; i++) {
		if (lstat(paths->v[i], &st) == -1)
			ret = prob(problems, "%s: cannot stat: %s", paths->v[i],
			    strerror(errno));
		else if (S_ISDIR(st.st_mode))
			ret = guard_walk(&g, paths->v[i], 0);
		else if (S_ISREG(st.st_mode))
			ret = guard_file(&g, paths->v[i], &st);
	}
	*nfiles = g.nfiles;
	*nfound = g.nfound;
	if (ret == CA_ENOMEM)
		return ca_err_set(err, CA_ENOMEM, "out of memory");
	return problems->n > before ? CA_ECONF : 0;
}

/* ---- diffs -------------------------------------------------------------- */

struct lines {
	const char **p;       /* start of each line */
	size_t *n;            /* its length, '\n' included when present */
	unsigned long *h;     /* a hash, to compare quickly */
	size_t count;
};

static void
lines_free(struct lines *l)
{
	free(l->p);
	free(l->n);
	free(l->h);
}

static int
lines_split(struct lines *l, const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len, *e;
	size_t cap = 0;

	memset(l, 0, sizeof(*l));
	while (p < end) {
		unsigned long h = 5381;
		const char *q;
		if (l->count == cap) {
			size_t nc = cap ? cap * 2 : 64;
			const char **np = realloc(l->p, nc * sizeof(*np));
			size_t *nn;
			unsigned long *nh;
			if (np == NULL)
				return -1;
			l->p = np;
			if ((nn = realloc(l->n, nc * sizeof(*nn))) == NULL)
				return -1;
			l->n = nn;
			if ((nh = realloc(l->h, nc * sizeof(*nh))) == NULL)
				return -1;
			l->h = nh;
			cap = nc;
		}
		e = memchr(p, '\n', (size_t)(end - p));
		e = e != NULL ? e + 1 : end;
		for (q = p; q < e; q++)
			h = h * 33 + (unsigned char)*q;
		l->p[l->count] = p;
		l->n[l->count] = (size_t)(e - p);
		l->h[l->count] = h;
		l->count++;
		p = e;
	}
	return 0;
}

static int
same_line(const struct lines *a, size_t i, const struct lines *b, size_t j)
{
	return a->h[i] == b->h[j] && a->n[i] == b->n[j] &&
	    memcmp(a->p[i], b->p[j], a->n[i]) == 0;
}

enum { OP_EQ, OP_DEL, OP_ADD };

struct op {
	unsigned char kind;
	size_t a, b;          /* line indexes in old and new */
};

/* The edit script: common head and tail, and between them a longest
 * common subsequence when the table is small enough (1 << 24 cells),
 * else the whole middle replaced, which is still a correct diff. */
static int
edit_script(struct op **out, size_t *nops, const struct lines *a,
    const struct lines *b)
{
	size_t pre = 0, suf = 0, n, m, i, j, k = 0;
	unsigned *t = NULL;
	struct op *ops;

	while (pre < a->count && pre < b->count && same_line(a, pre, b, pre))
		pre++;
	while (suf < a->count - pre && suf < b->count - pre &&
	    same_line(a, a->count - 1 - suf, b, b->count - 1 - suf))
		suf++;
	n = a->count - pre - suf;
	m = b->count - pre - suf;
	if ((ops = malloc((a->count + b->count + 1) * sizeof(*ops))) == NULL)
		return -1;
	for (i = 0; i < pre; i++)
		ops[k++] = (struct op){ OP_EQ, i, i };
	if (n > 0 && m > 0 && (n + 1) * (m + 1) <= (1u << 24))
		t = calloc((n + 1) * (m + 1), sizeof(*t));
	if (t != NULL) {
		/* t[i][j]: LCS length of old[i..] and new[j..] (middle part) */
		for (i = n; i-- > 0;)
			for (j = m; j-- > 0;)
				t[i * (m + 1) + j] = same_line(a, pre + i, b,
				    pre + j) ? t[(i + 1) * (m + 1) + j + 1] + 1 :
				    (t[(i + 1) * (m + 1) + j] >=
				    t[i * (m + 1) + j + 1] ?
				    t[(i + 1) * (m + 1) + j] :
				    t[i * (m + 1) + j + 1]);
		i = j = 0;
		while (i < n || j < m) {
			if (i < n && j < m && same_line(a, pre + i, b, pre + j)) {
				ops[k++] = (struct op){ OP_EQ, pre + i, pre + j };
				i++;
				j++;
			} else if (j == m || (i < n && t[(i + 1) * (m + 1) + j] >=
			    t[i * (m + 1) + j + 1])) {
				ops[k++] = (struct op){ OP_DEL, pre + i, pre + j };
				i++;
			} else {
				ops[k++] = (struct op){ OP_ADD, pre + i, pre + j };
				j++;
			}
		}
		free(t);
	} else {
		for (i = 0; i < n; i++)
			ops[k++] = (struct op){ OP_DEL, pre + i, pre };
		for (j = 0; j < m; j++)
			ops[k++] = (struct op){ OP_ADD, pre + n, pre + j };
	}
	for (i = 0; i < suf; i++)
		ops[k++] = (struct op){ OP_EQ, pre + n + i, pre + m + i };
	*out = ops;
	*nops = k;
	return 0;
}

static void
put_line(struct ca_sbuf *sb, char c, const struct lines *l, size_t i)
{
	ca_sb_put(sb, &c, 1);
	ca_sb_put(sb, l->p[i], l->n[i]);
	if (l->n[i] == 0 || l->p[i][l->n[i] - 1] != '\n')
		ca_sb_printf(sb, "\n\\ No newline at end of file\n");
}

/* "start,count" of a hunk side as diff -u writes it. */
static void
range(struct ca_sbuf *sb, size_t start, size_t count)
{
	if (count == 1)
		ca_sb_printf(sb, "%zu", start + 1);
	else
		ca_sb_printf(sb, "%zu,%zu", count == 0 ? start : start + 1,
		    count);
}

int
ca_deploy_diff_text(char **out, const char *a, size_t alen, const char *b,
    size_t blen, const char *alabel, const char *blabel, struct ca_err *err)
{
	const size_t ctx = 3;
	struct lines la, lb;
	struct ca_sbuf sb = { NULL, 0, 0, 0 };
	struct op *ops = NULL;
	size_t nops = 0, i, s, e, k, na, nb;

	*out = NULL;
	if (lines_split(&la, a, alen) != 0 || lines_split(&lb, b, blen) != 0 ||
	    edit_script(&ops, &nops, &la, &lb) != 0) {
		lines_free(&la);
		lines_free(&lb);
		return ca_err_set(err, CA_ENOMEM, "out of memory");
	}
	ca_sb_put(&sb, "", 0);
	for (i = 0; i < nops; i++)
		if (ops[i].kind != OP_EQ)
			break;
	if (i < nops)
		ca_sb_printf(&sb, "--- %s\n+++ %s\n", alabel, blabel);
	while (i < nops) {
		/* A hunk: from ctx lines before this change to ctx lines after
		 * the last change that is less than 2 * ctx lines further. */
		s = i >= ctx ? i - ctx : 0;
		e = i;
		for (k = i; k < nops; k++) {
			if (ops[k].kind != OP_EQ)
				e = k;
			else if (k - e > 2 * ctx)
				break;
		}
		e = e + ctx + 1 < nops ? e + ctx + 1 : nops;
		for (na = nb = 0, k = s; k < e; k++) {
			na += ops[k].kind != OP_ADD;
			nb += ops[k].kind != OP_DEL;
		}
		ca_sb_printf(&sb, "@@ -");
		range(&sb, ops[s].a, na);
		ca_sb_printf(&sb, " +");
		range(&sb, ops[s].b, nb);
		ca_sb_printf(&sb, " @@\n");
		for (k = s; k < e; k++)
			if (ops[k].kind == OP_EQ)
				put_line(&sb, ' ', &la, ops[k].a);
			else if (ops[k].kind == OP_DEL)
				put_line(&sb, '-', &la, ops[k].a);
			else
				put_line(&sb, '+', &lb, ops[k].b);
		for (i = e; i < nops && ops[i].kind == OP_EQ; i++)
			;
	}
	free(ops);
	lines_free(&la);
	lines_free(&lb);
	if (sb.oom) {
		free(sb.p);
		return ca_err_set(err, CA_ENOMEM, "out of memory");
	}
	*out = sb.p;
	return 0;
}

int
ca_deploy_diff(char **out, const struct ca_deploy_item *it,
    struct ca_err *err)
{
	char *have = NULL;
	size_t hlen = 0;
	int ret;

	*out = NULL;
	if (it->is_key)
		return ca_err_set(err, CA_EPERM, "'%s' holds a private key: not "
		    "shown", it->src);
	if (memchr(it->data, '\0', it->len) != NULL)
		return ca_err_set(err, CA_EINVAL, "'%s' is binary: not shown",
		    it->src);
	if (it->state == CA_DEPLOY_NEW) {
		have = strdup("");
	} else {
		struct ca_err e = { 0 };
		if ((ret = ca_file_read(&have, &hlen, it->dest,
		    CA_DEPLOY_MAX_FILE, &e)) != 0)
			return ca_err_set(err, ret == CA_ENOMEM ? ret :
			    CA_EINVAL, "%s", e.msg);
	}
	if (have == NULL)
		return ca_err_set(err, CA_ENOMEM, "out of memory");
	/* What is there now may be a key even when the new content is not:
	 * it is not shown either. */
	if (ca_deploy_has_key(have, hlen, NULL))
		ret = ca_err_set(err, CA_EPERM, "'%s' holds a private key: not "
		    "shown", it->dest);
	else if (memchr(have, '\0', hlen) != NULL)
		ret = ca_err_set(err, CA_EINVAL, "'%s' is binary: not shown",
		    it->dest);
	else
		ret = ca_deploy_diff_text(out, have, hlen, it->data, it->len,
		    it->dest, it->src, err);
	wipe_free(have, hlen);
	return ret;
}
