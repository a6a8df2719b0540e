/*
 * util.c - names of enums, string lists, hex.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/base-int.h"

static const char *const key_alg_names[CA_KEY__MAX] = {
	[CA_KEY_ECDSA_P256] = "ecdsa-p256",
	[CA_KEY_ECDSA_P384] = "ecdsa-p384",
	[CA_KEY_ECDSA_P521] = "ecdsa-p521",
	[CA_KEY_ED25519] = "ed25519",
	[CA_KEY_RSA_2048] = "rsa-2048",
	[CA_KEY_RSA_3072] = "rsa-3072",
	[CA_KEY_RSA_4096] = "rsa-4096",
};

static const char *const kind_names[CA_KIND__MAX] = {
	[CA_KIND_ROOT] = "root",
	[CA_KIND_SERVER] = "server",
	[CA_KIND_CLIENT] = "client",
};

static const char *const reason_names[CA_REASON__MAX] = {
	[CA_REASON_UNSPECIFIED] = "unspecified",
	[CA_REASON_KEY_COMPROMISE] = "keyCompromise",
	[CA_REASON_CA_COMPROMISE] = "CACompromise",
	[CA_REASON_AFFILIATION_CHANGED] = "affiliationChanged",
	[CA_REASON_SUPERSEDED] = "superseded",
	[CA_REASON_CESSATION] = "cessationOfOperation",
	[CA_REASON_CERTIFICATE_HOLD] = "certificateHold",
	[CA_REASON_PRIVILEGE_WITHDRAWN] = "privilegeWithdrawn",
	[CA_REASON_AA_COMPROMISE] = "AACompromise",
};

int
ca_key_alg_parse(enum ca_key_alg *out, const char *s)
{
	int i;

	for (i = 0; i < CA_KEY__MAX; i++)
		if (s != NULL && strcasecmp(s, key_alg_names[i]) == 0) {
			*out = (enum ca_key_alg)i;
			return 0;
		}
	return CA_EINVAL;
}

const char *
ca_key_alg_name(enum ca_key_alg alg)
{
	return (unsigned)alg < CA_KEY__MAX ? key_alg_names[alg] : "?";
}

int
ca_kind_parse(enum ca_kind *out, const char *s)
{
	int i;

	for (i = 0; i < CA_KIND__MAX; i++)
		if (s != NULL && strcmp(s, kind_names[i]) == 0) {
			*out = (enum ca_kind)i;
			return 0;
		}
	return CA_EINVAL;
}

const char *
ca_kind_name(enum ca_kind kind)
{
	return (unsigned)kind < CA_KIND__MAX ? kind_names[kind] : "?";
}

int
ca_reason_parse(enum ca_reason *out, const char *s)
{
	int i;

	for (i = 0; i < CA_REASON__MAX; i++)
		if (reason_names[i] != NULL && s != NULL &&
		    strcasecmp(s, reason_names[i]) == 0) {
			*out = (enum ca_reason)i;
			return 0;
		}
	return CA_EINVAL;
}

const char *
ca_reason_name(enum ca_reason r)
{
	if ((unsigned)r < CA_REASON__MAX && reason_names[r] != NULL)
		return reason_names[r];
	return NULL;
}

int
ca_strv_add(struct ca_strv *sv, const char *s)
{
	char **nv, *d;

	if ((d = strdup(s)) == NULL)
		return CA_ENOMEM;
	if ((nv = realloc(sv->v, (sv->n + 2) * sizeof(*nv))) == NULL) {
		free(d);
		return CA_ENOMEM;
	}
	sv->v = nv;
	sv->v[sv->n++] = d;
	sv->v[sv->n] = NULL;
	return 0;
}

void
ca_strv_free(struct ca_strv *sv)
{
	size_t i;

	if (sv == NULL)
		return;
	for (i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = 0;
}

void
ca_hex(char *out, const unsigned char *in, size_t n, int upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

char *
ca_strdup(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

int
ca_name_check(const char *name, struct ca_err *err)
{
	size_t i, n;

	n = name != NULL ? strlen(name) : 0;
	if (n == 0 || n > 64)
		return ca_err_set(err, CA_EINVAL,
		    "invalid name '%s': 1 to 64 characters", name ? name : "");
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		if (isalnum(c) || (i > 0 && (c == '.' || c == '_' || c == '-')))
			continue;
		return ca_err_set(err, CA_EINVAL,
		    "invalid name '%s': use letters, digits, '.', '_' and '-',"
		    " starting with a letter or digit", name);
	}
	return 0;
}

/* ---- a growing string -------------------------------------------------- */

static int
sb_reserve(struct ca_sbuf *b, size_t more)
{
	size_t nc;
	char *np;

	if (b->oom)
		return -1;
	if (b->p != NULL && b->len + more < b->cap)
		return 0;
	nc = b->cap ? b->cap : 1024;
	while (nc <= b->len + more)
		nc *= 2;
	if ((np = realloc(b->p, nc)) == NULL) {
		b->oom = 1;
		return -1;
	}
	b->p = np;
	b->cap = nc;
	return 0;
}

void
ca_sb_put(struct ca_sbuf *b, const char *s, size_t n)
{
	if (sb_reserve(b, n) != 0)
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void
ca_sb_printf(struct ca_sbuf *b, const char *fmt, ...)
{
	va_list ap;
	size_t room;
	int n;

	if (b->oom || sb_reserve(b, 64) != 0)
		return;
	/* Straight into the free room; formatted twice only when it was
	 * too small. */
	room = b->cap - b->len;
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, room, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->p[b->len] = '\0';
		b->oom = 1;
		return;
	}
	if ((size_t)n >= room) {
		b->p[b->len] = '\0';
		if (sb_reserve(b, (size_t)n) != 0)
			return;
		va_start(ap, fmt);
		vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
}
