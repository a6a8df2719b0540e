/*
 * log.c - the root's ceremony log: append-only, hash-chained.
 *
 * One line per act:
 *   seq \t time \t act \t details \t prev \t hash
 * where hash = SHA-256(seq \t time \t act \t details \t prev) and prev is
 * the previous line's hash (64 zeros for the first). Editing or removing
 * any line breaks the chain from there on. Cutting lines off the end
 * keeps a valid chain, so the head (count and last hash) is also kept in
 * D/ceremony.head and printed after every act for the paper record.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/store-int.h"

#define ZERO64 "0000000000000000000000000000000000000000000000000000000000000000"

void
ca_sha256_hex(char *buf, size_t len, const void *data, size_t n)
{
	unsigned char h[32];

	if (len < 65 || gnutls_hash_fast(GNUTLS_DIG_SHA256, data, n, h) < 0) {
		if (len > 0)
			buf[0] = '\0';
		return;
	}
	ca_hex(buf, h, 32, 0);
}

int
ca_sha256_file(char *buf, size_t len, const char *path, struct ca_err *err)
{
	char *data = NULL;
	size_t n;
	int ret;

	if ((ret = ca_file_read(&data, &n, path, CA_MAX_FILE, err)) != 0)
		return ret;
	ca_sha256_hex(buf, len, data, n);
	free(data);
	return 0;
}

/* Walks the log; fills st with the count and head. CA_EVERIFY names the
 * first line that does not verify. */
static int
walk(struct ca_log_status *st, const char *path, struct ca_err *err)
{
	char *buf = NULL, *p, *nl, prev[65], want[65];
	size_t len, lineno = 0;
	int ret;

	memset(st, 0, sizeof(*st));
	memcpy(prev, ZERO64, 65);
	ret = ca_file_read(&buf, &len, path, CA_MAX_INDEX, err);
	if (ret == CA_ENOENT) {
		memcpy(st->head, prev, 65);
		return 0;
	}
	if (ret != 0)
		return ret;
	for (p = buf; p < buf + len; p = nl + 1) {
		char *f[6], *q = p;
		size_t i, bodylen;
		unsigned long seq;

		lineno++;
		if ((nl = memchr(p, '\n', (size_t)(buf + len - p))) == NULL) {
			ret = ca_err_set(err, CA_EVERIFY, "%s:%zu: unterminated "
			    "line (cut off or edited)", path, lineno);
			goto out;
		}
		*nl = '\0';
		for (i = 0; i < 6; i++) {
			f[i] = q;
			if (i < 5 && (q = strchr(q, '\t')) == NULL) {
				ret = ca_err_set(err, CA_EVERIFY, "%s:%zu: malformed "
				    "entry", path, lineno);
				goto out;
			}
			if (i < 5)
				*q++ = '\0';
		}
		seq = strtoul(f[0], NULL, 10);
		if (seq != lineno) {
			ret = ca_err_set(err, CA_EVERIFY, "%s:%zu: entry number %s, "
			    "want %zu (a line was removed or inserted)", path,
			    lineno, f[0], lineno);
			goto out;
		}
		if (strcmp(f[4], prev) != 0) {
			ret = ca_err_set(err, CA_EVERIFY, "%s:%zu: chain broken (the "
			    "line before was edited or removed)", path, lineno);
			goto out;
		}
		/* Rejoin the hashed part in place. */
		bodylen = (size_t)(f[5] - f[0] - 1);
		for (i = 1; i < 5; i++)
			f[i][-1] = '\t';
		ca_sha256_hex(want, sizeof(want), f[0], bodylen);
		if (strcmp(want, f[5]) != 0) {
			ret = ca_err_set(err, CA_EVERIFY, "%s:%zu: entry was edited "
			    "(hash mismatch)", path, lineno);
			goto out;
		}
		memcpy(st->before_last, prev, 65);
		memcpy(prev, f[5], 65);
		st->entries = lineno;
	}
	memcpy(st->head, prev, 65);
	ret = 0;
out:
	free(buf);
	return ret;
}

static int
write_head(const char *dir, size_t entries, const char *hash,
    struct ca_err *err)
{
	char *p = ca_path_join(dir, "ceremony.head"), head[128];
	int ret;

	if (p == NULL)
		return ca_err_set(err, CA_ENOMEM, "out of memory");
	snprintf(head, sizeof(head), "%zu %s\n", entries, hash);
	ret = ca_file_write_atomic(p, head, strlen(head), 0644, err);
	free(p);
	return ret;
}

static int
check_head(struct ca_log_status *st, const char *dir, struct ca_err *err)
{
	char *p = ca_path_join(dir, "ceremony.head"), *buf = NULL;
	char want[128], lag[128];
	int ret;

	if (p == NULL)
		return ca_err_set(err, CA_ENOMEM, "out of memory");
	ret = ca_file_read(&buf, NULL, p, 256, err);
	if (ret == CA_ENOENT && st->entries == 0) {
		ret = 0;
		goto out;
	}
	if (ret == CA_ENOENT && st->entries == 1) {
		/* init crashed between its entry and the head */
		st->head_lags = 1;
		ret = ca_err_set(err, CA_EVERIFY, "'%s' is missing: the first act "
		    "was cut off before its head was written; check entry 1, then "
		    "run 'tierca-root log --dir %s --accept-last'", p, dir);
		goto out;
	}
	if (ret == CA_ENOENT) {
		ret = ca_err_set(err, CA_EVERIFY, "'%s' is missing", p);
		goto out;
	}
	if (ret != 0)
		goto out;
	snprintf(want, sizeof(want), "%zu %s\n", st->entries, st->head);
	snprintf(lag, sizeof(lag), "%zu %s\n", st->entries - 1,
	    st->before_last);
	if (strcmp(buf, want) == 0)
		ret = 0;
	else if (st->entries > 1 && strcmp(buf, lag) == 0) {
		st->head_lags = 1;
		ret = ca_err_set(err, CA_EVERIFY, "'%s' is one entry behind the "
		    "log: act %zu was cut off before its head was written; check "
		    "that entry against the ceremony record, then run "
		    "'tierca-root log --dir %s --accept-last'", p, st->entries,
		    dir);
	} else
		ret = ca_err_set(err, CA_EVERIFY, "'%s' does not match the log: "
		    "entries were cut off the end, or the head was edited", p);
out:
	free(buf);
	free(p);
	return ret;
}

int
ca_log_accept_last(struct ca_log_status *out, const char *dir, time_t now,
    struct ca_err *err)
{
	struct ca_strv d = { NULL, 0 };
	char line[160];
	int ret;

	ret = ca_log_verify(out, dir, err);
	if (ret == 0)
		return ca_err_set(err, CA_EINVAL, "the ceremony log of '%s' "
		    "verifies; there is nothing to accept", dir);
	if (!out->head_lags)
		return ret;
	if ((ret = write_head(dir, out->entries, out->head, err)) != 0)
		return ret;
	snprintf(line, sizeof(line), "accepted_entry=%zu", out->entries);
	ca_strv_add(&d, line);
	ret = ca_log_append(dir, now, "accept-last", &d, err);
	ca_strv_free(&d);
	if (ret == 0)
		ret = ca_log_verify(out, dir, err);
	return ret;
}

int
ca_log_verify(struct ca_log_status *out, const char *dir, struct ca_err *err)
{
	char *p = ca_path_join(dir, "ceremony.log");
	int ret;

	if (p == NULL)
		return ca_err_set(err, CA_ENOMEM, "out of memory");
	ret = walk(out, p, err);
	free(p);
	if (ret == 0)
		ret = check_head(out, dir, err);
	return ret;
}

int
ca_log_append(const char *dir, time_t now, const char *act,
    const struct ca_strv *details, struct ca_err *err)
{
	struct ca_log_status st;
	char *path = NULL, *hp = NULL, *body = NULL, *line = NULL;
	char t[32], hash[65];
	size_t len = 0, i, j;
	ssize_t w;
	int fd = -1, ret;

	if ((path = ca_path_join(dir, "ceremony.log")) == NULL ||
	    (hp = ca_path_join(dir, "ceremony.head")) == NULL) {
		ret = ca_err_set(err, CA_ENOMEM, "out of memory");
		goto out;
	}
	/* Never extend a chain that does not verify. */
	if ((ret = ca_log_verify(&st, dir, err)) != 0) {
		ca_err_wrap(err, "ceremony log does not verify; refusing to "
		    "add to it");
		goto out;
	}
	for (i = 0; i < details->n; i++)
		len += strlen(details->v[i]) + 1;
	if ((body = malloc(len + 1)) == NULL) {
		ret = ca_err_set(err, CA_ENOMEM, "out of memory");
		goto out;
	}
	body[0] = '\0';
	for (i = 0, len = 0; i < details->n; i++) {
		const char *s = details->v[i];
		if (i > 0)
			body[len++] = ' ';
		/* Keep the line format: no tabs or newlines in a value. */
		for (j = 0; s[j]; j++)
			body[len++] = (s[j] == '\t' || s[j] == '\n' ||
			    s[j] == '\r') ? ' ' : s[j];
	}
	body[len] = '\0';
	ca_time_format(t, sizeof(t), now);
	if (asprintf(&line, "%zu\t%s\t%s\t%s\t%s", st.entries + 1, t, act,
	    body, st.head) < 0) {
		line = NULL;
		ret = ca_err_set(err, CA_ENOMEM, "out of memory");
		goto out;
	}
	ca_sha256_hex(hash, sizeof(hash), line, strlen(line));
	free(body);
	if (asprintf(&body, "%s\t%s\n", line, hash) < 0) {
		body = NULL;
		ret = ca_err_set(err, CA_ENOMEM, "out of memory");
		goto out;
	}
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
	    0644);
	if (fd == -1) {
		ret = ca_err_set(err, CA_EIO, "cannot open '%s': %s", path,
		    strerror(errno));
		goto out;
	}
	len = strlen(body);
	w = ca_io_write(fd, body, len);
	if (w != (ssize_t)len || ca_io_fsync(fd) == -1) {
		ret = ca_err_set(err, CA_EIO, "cannot append to '%s': %s", path,
		    strerror(errno));
		goto out;
	}
	ret = write_head(dir, st.entries + 1, hash, err);
out:
	if (fd != -1)
		close(fd);
	free(line);
	free(body);
	free(path);
	free(hp);
	return ret;
}
