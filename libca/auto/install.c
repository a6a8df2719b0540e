/*
 * install.c - placing an issued certificate where its service reads it,
 * as the template's install group says.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auto/auto-int.h"

struct staged {
	const char *target;
	char *tmp;          /* NULL: already right, nothing to do */
};

static char *
dir_of(const char *path)
{
	const char *s = strrchr(path, '/');

	if (s == NULL)
		return strdup(".");
	return s == path ? strdup("/") : strndup(path, (size_t)(s - path));
}

static int
resolve_ids(uid_t *uid, gid_t *gid, const struct ca_template *t,
    struct ca_err *err)
{
	*uid = (uid_t)-1;
	*gid = (gid_t)-1;
	if (t->install.owner != NULL) {
		struct passwd *pw = getpwnam(t->install.owner);
		if (pw == NULL)
			return ca_err_set(err, CA_ECONF, "%s: unknown owner '%s'",
			    t->path, t->install.owner);
		*uid = pw->pw_uid;
	}
	if (t->install.group != NULL) {
		struct group *gr = getgrnam(t->install.group);
		if (gr == NULL)
			return ca_err_set(err, CA_ECONF, "%s: unknown group '%s'",
			    t->path, t->install.group);
		*gid = gr->gr_gid;
	}
	return 0;
}

/* 1 when target already holds exactly this content, owner and mode. */
static int
already_right(const char *target, const char *buf, size_t len, uid_t uid,
    gid_t gid, mode_t mode)
{
	struct stat st;
	char *have = NULL;
	size_t hlen;
	int same;

	if (lstat(target, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (st.st_mode & 07777) != mode ||
	    (uid != (uid_t)-1 && st.st_uid != uid) ||
	    (gid != (gid_t)-1 && st.st_gid != gid))
		return 0;
	if (ca_file_read(&have, &hlen, target, CA_MAX_FILE, NULL) != 0)
		return 0;
	same = hlen == len && memcmp(have, buf, len) == 0;
	gnutls_memset(have, 0, hlen);
	free(have);
	return same;
}

/* Stages buf next to target: temp file, owner, mode, content, fsync. */
static int
stage(struct staged *s, const char *target, const char *buf, size_t len,
    uid_t uid, gid_t gid, mode_t mode, struct ca_err *err)
{
	char *dir = NULL, *tmp = NULL;
	struct stat st;
	int fd = -1, ret;

	s->target = target;
	s->tmp = NULL;
	if (already_right(target, buf, len, uid, gid, mode))
		return 0;
	if ((dir = dir_of(target)) == NULL ||
	    asprintf(&tmp, "%s/.tierca-install.XXXXXX", dir) < 0) {
		free(dir);
		return ca_err_set(err, CA_ENOMEM, "out of memory");
	}
	if (stat(dir, &st) == -1 || !S_ISDIR(st.st_mode)) {
		ret = ca_err_set(err, CA_ENOENT, "cannot install '%s': directory "
		    "'%s' does not exist", target, dir);
		goto fail;
	}
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1) {
		ret = ca_err_set(err, CA_EIO, "cannot install '%s': %s", target,
		    strerror(errno));
		free(tmp);
		tmp = NULL;
		goto fail;
	}
	/* Owner and mode before the first byte: a key is never readable by
	 * anyone it is not meant for, not even for a moment. */
	if (fchown(fd, uid, gid) == -1 || fchmod(fd, mode) == -1) {
		ret = ca_err_set(err, CA_EPERM, "cannot set owner/mode of '%s': %s",
		    target, strerror(errno));
		goto fail;
	}
	{
		size_t off = 0;
		while (off < len) {
			ssize_t w = ca_io_write(fd, buf + off, len - off);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				ret = ca_err_set(err, CA_EIO, "cannot write '%s': %s",
				    target, strerror(w < 0 ? errno : EIO));
				goto fail;
			}
			off += (size_t)w;
		}
	}
	if (ca_io_fsync(fd) == -1 || close(fd) == -1) {
		fd = -1;
		ret = ca_err_set(err, CA_EIO, "cannot write '%s': %s", target,
		    strerror(errno));
		goto fail;
	}
	s->tmp = tmp;
	free(dir);
	return 0;
fail:
	if (fd != -1)
		close(fd);
	if (tmp != NULL) {
		unlink(tmp);
		free(tmp);
	}
	free(dir);
	return ret;
}

int
ca_install(int *changed, struct ca *ca, const struct ca_template *t,
    struct ca_err *err)
{
	static const char *const src[] = { "key.pem", "cert.pem", "chain.pem",
		"fullchain.pem" };
	const char *dst[4] = { t->install.key, t->install.cert,
		t->install.chain, t->install.fullchain };
	struct staged st[4];
	char *data[4] = { NULL, NULL, NULL, NULL };
	size_t len[4] = { 0, 0, 0, 0 }, i;
	uid_t uid;
	gid_t gid;
	int ret;

	*changed = 0;
	memset(st, 0, sizeof(st));
	if ((ret = resolve_ids(&uid, &gid, t, err)) != 0)
		return ret;
	for (i = 0; i < 4; i++) {
		char *p = NULL;
		if (dst[i] == NULL)
			continue;
		if (asprintf(&p, "%s/issued/%s/%s", ca->dir, t->name, src[i]) < 0)
			return ca_err_set(err, CA_ENOMEM, "out of memory");
		ret = ca_file_read(&data[i], &len[i], p, CA_MAX_FILE, err);
		if (ret != 0 && i == 0 && ret == CA_ENOENT)
			ret = ca_err_set(err, CA_ENOENT, "'%s' has no key here (it "
			    "was signed from a CSR): the template cannot install "
			    "one", t->name);
		free(p);
		if (ret != 0)
			goto out;
	}
	/* Stage everything before replacing anything: a full disk or a
	 * missing directory leaves every installed file as it was. */
	for (i = 0; i < 4; i++) {
		mode_t mode = (mode_t)t->install.mode;
		if (dst[i] == NULL)
			continue;
		if (i == 0)
			mode &= 0640; /* a key is never world-readable */
		if ((ret = stage(&st[i], dst[i], data[i], len[i], uid, gid, mode,
		    err)) != 0)
			goto out;
	}
	/* Key first, then the certificates: the switch is one batch of
	 * renames, and the reload comes after all of them. */
	for (i = 0; i < 4; i++) {
		char *dir;
		if (st[i].tmp == NULL)
			continue;
		if (ca_io_rename(st[i].tmp, st[i].target) == -1) {
			ret = ca_err_set(err, CA_EIO, "cannot install '%s': %s",
			    st[i].target, strerror(errno));
			goto out;
		}
		free(st[i].tmp);
		st[i].tmp = NULL;
		(*changed)++;
		if ((dir = dir_of(dst[i])) != NULL)
			ca_dir_fsync(dir, NULL);
		free(dir);
	}
	ret = 0;
out:
	for (i = 0; i < 4; i++) {
		if (st[i].tmp != NULL) {
			unlink(st[i].tmp);
			free(st[i].tmp);
		}
		if (data[i] != NULL) {
			gnutls_memset(data[i], 0, len[i]);
			free(data[i]);
		}
	}
	return ret;
}

int
ca_install_needed(struct ca *ca, const struct ca_template *t,
    struct ca_err *err)
{
	return ca_install_needed_cert(ca, t, NULL, 0, err);
}

int
ca_install_needed_cert(struct ca *ca, const struct ca_template *t,
    const char *cert, size_t certlen, struct ca_err *err)
{
	static const char *const src[] = { "key.pem", "cert.pem", "chain.pem",
		"fullchain.pem" };
	const char *dst[4] = { t->install.key, t->install.cert,
		t->install.chain, t->install.fullchain };
	uid_t uid;
	gid_t gid;
	size_t i;
	int needed = 0, ret;

	if ((ret = resolve_ids(&uid, &gid, t, err)) != 0)
		return ret;
	/* Every installed file, not just the certificate: a missing key or
	 * a wrong mode is put right by the next run. */
	for (i = 0; i < 4 && !needed; i++) {
		char *p = NULL, *data = NULL;
		size_t len = 0;
		mode_t mode = (mode_t)t->install.mode;
		if (dst[i] == NULL)
			continue;
		if (i == 0)
			mode &= 0640;
		if (i == 1 && cert != NULL) {
			/* issued/NAME/cert.pem, already read by the caller. */
			if (!already_right(dst[i], cert, certlen, uid, gid, mode))
				needed = 1;
			continue;
		}
		if (asprintf(&p, "%s/issued/%s/%s", ca->dir, t->name, src[i]) < 0)
			return ca_err_set(err, CA_ENOMEM, "out of memory");
		if (ca_file_read(&data, &len, p, CA_MAX_FILE, NULL) != 0 ||
		    !already_right(dst[i], data, len, uid, gid, mode))
			needed = 1;
		if (data != NULL) {
			gnutls_memset(data, 0, len);
			free(data);
		}
		free(p);
	}
	return needed;
}

int
ca_installed_serial(char *buf, size_t len, const struct ca_template *t)
{
	gnutls_x509_crt_t c = NULL;

	buf[0] = '\0';
	if (t->install.cert == NULL || ca_cert_load(&c, t->install.cert,
	    NULL) != 0)
		return 0;
	ca_cert_serial_hex(buf, len, c);
	gnutls_x509_crt_deinit(c);
	return 0;
}
