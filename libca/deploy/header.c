/*
 * deployhdr.c - the deploy-* headers of one managed file: found in the
 * leading comment block, checked as far as that can be done without
 * looking at the system (deploy.c does users, groups and paths).
 */
#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "deploy/deploy-int.h"

enum hkey { H_TARGET, H_OWNER, H_MODE, H_AFTER, H_KEY, H__MAX };

static const char *const hkey_names[H__MAX] = { "target", "owner", "mode",
	"after", "key" };

static int
prob(struct ca_strv *problems, const char *file, size_t line,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Adds "file:line: what" (or "file: what" without a line). */
static int
prob(struct ca_strv *problems, const char *file, size_t line,
    const char *fmt, ...)
{
	char msg[768], full[1400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line > 0)
		snprintf(full, sizeof(full), "%s:%zu: %s", file, line, msg);
	else
		snprintf(full, sizeof(full), "%s: %s", file, msg);
	return ca_strv_add(problems, full) == 0 ? 0 : CA_ENOMEM;
}

void
ca_deploy_hdr_free(struct ca_deploy_hdr *h)
{
	if (h == NULL)
		return;
	free(h->target);
	free(h->owner);
	free(h->user);
	free(h->group);
	free(h->after);
	memset(h, 0, sizeof(*h));
}

int
ca_deploy_has_key(const char *buf, size_t len, size_t *line)
{
	static const char begin[] = "-----BEGIN ";
	const size_t bl = sizeof(begin) - 1;
	const char *p = buf, *end = buf + len, *q, *lbl, *eol;

	while ((q = memmem(p, (size_t)(end - p), begin, bl)) != NULL) {
		lbl = q + bl;
		eol = memchr(lbl, '\n', (size_t)(end - lbl));
		if (eol == NULL)
			eol = end;
		/* The label runs to the closing dashes on the same line. */
		q = memmem(lbl, (size_t)(eol - lbl), "-----", 5);
		if (q != NULL && memmem(lbl, (size_t)(q - lbl), "PRIVATE KEY",
		    11) != NULL) {
			if (line != NULL) {
				const char *s;
				*line = 1;
				for (s = buf; s < lbl; s++)
					if (*s == '\n')
						(*line)++;
			}
			return 1;
		}
		p = lbl;
	}
	return 0;
}

/* A libconfig or key=value setting named like a secret at the start of
 * a line: smtp_password, or a name that ends in "passphrase". */
static int
secret_setting(const char *buf, size_t len, size_t *line)
{
	const char *p = buf, *end = buf + len, *eol, *s, *n;
	size_t ln = 1;

	for (; p < end; p = eol + 1, ln++) {
		if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL)
			eol = end;
		for (s = p; s < eol && (*s == ' ' || *s == '\t'); s++)
			;
		for (n = s; n < eol && (isalnum((unsigned char)*n) ||
		    *n == '_'); n++)
			;
		if (n == s)
			continue;
		{
			const char *v = n;
			while (v < eol && (*v == ' ' || *v == '\t'))
				v++;
			if (v >= eol || (*v != '=' && *v != ':'))
				continue;
		}
		if (((size_t)(n - s) == 13 && strncasecmp(s, "smtp_password",
		    13) == 0) || ((size_t)(n - s) >= 10 &&
		    strncasecmp(n - 10, "passphrase", 10) == 0)) {
			*line = ln;
			return 1;
		}
		if (eol == end)
			break;
	}
	return 0;
}

/* DER PKCS#12: SEQUENCE { INTEGER 3, SEQUENCE (authSafe) ... }. */
static int
pkcs12_magic(const unsigned char *b, size_t len)
{
	size_t i = 2;

	if (len < 8 || b[0] != 0x30)
		return 0;
	if (b[1] & 0x80) {
		size_t n = b[1] & 0x7f;
		if (n < 1 || n > 4)
			return 0;
		i = 2 + n;
	}
	return len > i + 3 && b[i] == 0x02 && b[i + 1] == 0x01 &&
	    b[i + 2] == 0x03 && b[i + 3] == 0x30;
}

int
ca_secret_material(const char **what, size_t *line, const char *name,
    const char *buf, size_t len)
{
	const char *ext = name != NULL ? strrchr(name, '.') : NULL;

	*what = NULL;
	*line = 0;
	if (ca_deploy_has_key(buf, len, line)) {
		*what = "PEM private key";
		return 1;
	}
	if ((ext != NULL && (strcasecmp(ext, ".p12") == 0 ||
	    strcasecmp(ext, ".pfx") == 0)) ||
	    pkcs12_magic((const unsigned char *)buf, len)) {
		*what = "PKCS#12 file";
		*line = 1;
		return 1;
	}
	if (memchr(buf, '\0', len) == NULL && secret_setting(buf, len, line)) {
		*what = "password or passphrase setting";
		return 1;
	}
	return 0;
}

/* Length of a comment leader at s ("#", "//" or ";"), 0 if none. */
static size_t
leader(const char *s, size_t n)
{
	if (n >= 1 && (s[0] == '#' || s[0] == ';'))
		return 1;
	if (n >= 2 && s[0] == '/' && s[1] == '/')
		return 2;
	return 0;
}

/* Normalises an absolute target into a new string (repeated slashes
 * collapsed) or says what is wrong with it. */
static char *
norm_target(const char *v, const char **why)
{
	struct ca_sbuf b = { NULL, 0, 0, 0 };
	const char *p = v, *e;
	size_t n;

	*why = NULL;
	if (v[0] != '/') {
		*why = "is not an absolute path";
		return NULL;
	}
	if (v[strlen(v) - 1] == '/') {
		*why = "names a directory (it ends in '/')";
		return NULL;
	}
	while (*p != '\0') {
		while (*p == '/')
			p++;
		if (*p == '\0')
			break;
		e = strchr(p, '/');
		n = e != NULL ? (size_t)(e - p) : strlen(p);
		if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' &&
		    p[1] == '.')) {
			*why = n == 1 ? "has a '.' component" :
			    "has a '..' component";
			free(b.p);
			return NULL;
		}
		if (n > NAME_MAX) {
			*why = "has a component longer than NAME_MAX";
			free(b.p);
			return NULL;
		}
		ca_sb_put(&b, "/", 1);
		ca_sb_put(&b, p, n);
		p += n;
	}
	if (b.oom) {
		free(b.p);
		*why = "out of memory";
		return NULL;
	}
	if (b.p == NULL) {
		*why = "names the root directory";
		return NULL;
	}
	if (b.len >= PATH_MAX) {
		*why = "is longer than PATH_MAX";
		free(b.p);
		return NULL;
	}
	return b.p;
}

/* A user or group name as useradd(8) makes them, and a trailing '$'. */
static int
name_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 64 || s[0] == '-')
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!(isalnum(c) || c == '.' || c == '_' || c == '-' ||
		    (c == '$' && i == n - 1)))
			return 0;
	}
	return 1;
}

static int
parse_mode(mode_t *out, const char *v)
{
	size_t i, n = strlen(v);
	unsigned m = 0;

	if (n < 3 || n > 4)
		return -1;
	for (i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '7')
			return -1;
		m = m * 8 + (unsigned)(v[i] - '0');
	}
	*out = (mode_t)m;
	return 0;
}

/* One header's value: checked, stored. Problems go to the list. */
static int
take(struct ca_deploy_hdr *h, struct ca_strv *pr, const char *file,
    size_t line, enum hkey k, const char *v)
{
	const char *why;
	char *colon;

	switch (k) {
	case H_TARGET:
		h->target_line = line;
		if ((h->target = norm_target(v, &why)) == NULL)
			return prob(pr, file, line, "deploy-target '%s' %s", v,
			    why);
		return 0;
	case H_OWNER:
		h->owner_line = line;
		if ((h->owner = strdup(v)) == NULL ||
		    (h->user = strdup(v)) == NULL)
			return CA_ENOMEM;
		if ((colon = strchr(h->user, ':')) != NULL) {
			*colon = '\0';
			if ((h->group = strdup(colon + 1)) == NULL)
				return CA_ENOMEM;
		}
		if (!name_ok(h->user) || (h->group != NULL &&
		    !name_ok(h->group)))
			return prob(pr, file, line, "deploy-owner '%s' is not "
			    "'user' or 'user:group'", v);
		return 0;
	case H_MODE:
		h->mode_line = line;
		h->has_mode = 1;
		if (parse_mode(&h->mode, v) != 0)
			return prob(pr, file, line, "deploy-mode '%s' is not an "
			    "octal mode such as 0640", v);
		if (h->mode & 07000)
			return prob(pr, file, line, "deploy-mode '%s': setuid, "
			    "setgid and sticky bits are not deployed", v);
		if (h->mode & 0002)
			return prob(pr, file, line, "deploy-mode '%s' would let "
			    "anyone write the file", v);
		return 0;
	case H_AFTER:
		h->after_line = line;
		return (h->after = strdup(v)) == NULL ? CA_ENOMEM : 0;
	case H_KEY:
		h->key_line = line;
		if (strcmp(v, "yes") == 0)
			h->key_ok = 1;
		else if (strcmp(v, "no") != 0)
			return prob(pr, file, line, "deploy-key '%s' is not yes "
			    "or no", v);
		return 0;
	case H__MAX:
		break;
	}
	return 0;
}

int
ca_deploy_hdr_parse(struct ca_deploy_hdr *h, struct ca_strv *pr,
    const char *file, const char *buf, size_t len)
{
	size_t seen[H__MAX] = { 0 }, before = pr->n, first = 0, line = 0;
	const char *p = buf, *end = buf + len;
	char *val = NULL;
	int ret = 0;

	memset(h, 0, sizeof(*h));
	/* A UTF-8 byte order mark is not a character of the first line. */
	if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	while (p < end && line < CA_DEPLOY_HDR_LINES) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *s, *e, *k, *ke;
		size_t n, l, i;
		enum hkey key;

		if (eol == NULL)
			eol = end;
		line++;
		n = (size_t)(eol - p);
		s = p;
		p = eol < end ? eol + 1 : end;
		/* The header block ends at the first line that is not a
		 * comment: a blank line, or the file's first real line. */
		if ((l = leader(s, n)) == 0)
			break;
		s += l;
		e = s + (n - l);
		while (s < e && (*s == ' ' || *s == '\t' || *s == '#' ||
		    *s == ';' || *s == '/'))
			s++;
		if ((size_t)(e - s) < 7 || strncasecmp(s, "deploy-", 7) != 0)
			continue;
		k = s + 7;
		for (ke = k; ke < e && (isalnum((unsigned char)*ke) ||
		    *ke == '-' || *ke == '_'); ke++)
			;
		for (key = 0; key < H__MAX; key++)
			if ((size_t)(ke - k) == strlen(hkey_names[key]) &&
			    strncasecmp(k, hkey_names[key], (size_t)(ke - k)) == 0)
				break;
		s = ke;
		while (s < e && (*s == ' ' || *s == '\t'))
			s++;
		if (s == e || *s != ':') {
			/* "# deploy-ment notes" is a comment; a known key
			 * without its colon is a header gone wrong. */
			if (key < H__MAX && (ret = prob(pr, file, line,
			    "'deploy-%s' needs a ':' before its value",
			    hkey_names[key])) != 0)
				goto out;
			continue;
		}
		if (first == 0)
			first = line;
		if (key == H__MAX) {
			if ((ret = prob(pr, file, line, "unknown header "
			    "'deploy-%.*s' (known: deploy-target, deploy-owner, "
			    "deploy-mode, deploy-after, deploy-key)",
			    (int)(ke - k), k)) != 0)
				goto out;
			continue;
		}
		if (strncmp(k, hkey_names[key], (size_t)(ke - k)) != 0 &&
		    (ret = prob(pr, file, line, "write 'deploy-%s' in lower "
		    "case", hkey_names[key])) != 0)
			goto out;
		/* the value: after the colon, without surrounding blanks
		 * (and the \r of a CRLF file) */
		for (s++; s < e && (*s == ' ' || *s == '\t'); s++)
			;
		while (e > s && (e[-1] == ' ' || e[-1] == '\t' ||
		    e[-1] == '\r'))
			e--;
		if (seen[key]) {
			if ((ret = prob(pr, file, line, "'deploy-%s' repeats the "
			    "one of line %zu", hkey_names[key], seen[key])) != 0)
				goto out;
			continue;
		}
		seen[key] = line;
		if (s == e) {
			if ((ret = prob(pr, file, line, "'deploy-%s' has no value",
			    hkey_names[key])) != 0)
				goto out;
			continue;
		}
		for (i = 0; s + i < e; i++)
			if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
				break;
		if (s + i < e) {
			if ((ret = prob(pr, file, line, "'deploy-%s' has a control "
			    "character in its value", hkey_names[key])) != 0)
				goto out;
			continue;
		}
		if ((val = strndup(s, (size_t)(e - s))) == NULL) {
			ret = CA_ENOMEM;
			goto out;
		}
		if ((ret = take(h, pr, file, line, key, val)) != 0)
			goto out;
		free(val);
		val = NULL;
	}
	if (first == 0)
		goto out; /* not a managed file */
	if (!seen[H_TARGET]) {
		ret = prob(pr, file, first, "deploy-* headers without a "
		    "deploy-target: where should the file go?");
		goto out;
	}
	h->is_key = ca_deploy_has_key(buf, len, &h->key_block_line);
	if (!h->has_mode)
		h->mode = h->is_key ? 0600 : 0644;
	/* The accident of seed 003: a key that lands somewhere by mistake.
	 * It goes out only when its header says it is meant to, and only
	 * readable by its owner. */
	if (h->is_key && !h->key_ok)
		ret = prob(pr, file, h->key_block_line, "holds a private key: "
		    "it is deployed only with 'deploy-key: yes' and mode 0600 "
		    "or 0400");
	else if (h->is_key && h->mode != 0600 && h->mode != 0400)
		ret = prob(pr, file, h->mode_line ? h->mode_line :
		    h->key_line, "holds a private key: mode %04o refused "
		    "(0600 or 0400)", (unsigned)h->mode);
out:
	free(val);
	if (ret == CA_ENOMEM)
		return ret;
	if (ret != 0 || pr->n > before)
		return CA_ECONF;
	return h->target != NULL ? 1 : 0;
}
