/*
 * revoke.c - revocation, CRL generation, and reading the database.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/ops-int.h"

#define DAY 86400

static int
db_open(struct ca_db **out, struct ca *ca, struct ca_err *err)
{
	char *p = ca_path(ca, "index.txt");
	int ret;

	if (p == NULL)
		return ca_err_set(err, CA_ENOMEM, "out of memory");
	ret = ca_db_load(out, p, err);
	free(p);
	return ret;
}

int
ca_list(struct ca_db **out, struct ca *ca, struct ca_err *err)
{
	return db_open(out, ca, err);
}

static int
is_hex(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s; s++)
		if (!isxdigit((unsigned char)*s))
			return 0;
	return 1;
}

int
ca_find(struct ca_db_entry **out, struct ca_db *db, const char *key)
{
	size_t i;

	*out = NULL;
	if (is_hex(key) && strlen(key) >= 8 &&
	    (*out = ca_db_find_serial(db, key)) != NULL)
		return 0;
	/* The newest line of that name is the current certificate. */
	for (i = db->n; i-- > 0;)
		if (strcmp(db->v[i].name, key) == 0) {
			*out = &db->v[i];
			return 0;
		}
	return CA_ENOENT;
}

int
ca_due(struct ca_db_entry ***out, size_t *n, struct ca_db *db, time_t now,
    int within_days, struct ca_err *err)
{
	struct ca_db_entry **v;
	size_t i, k = 0;

	*out = NULL;
	*n = 0;
	if ((v = calloc(db->n + 1, sizeof(*v))) == NULL)
		return ca_err_set(err, CA_ENOMEM, "out of memory");
	for (i = 0; i < db->n; i++)
		v[i] = &db->v[i];
	/* Sorted by name, then by position in the file: the last entry of
	 * each name is its current certificate. O(n log n) for any size. */
	qsort(v, db->n, sizeof(*v), ca_db_cmp_name_line);
	for (i = 0; i < db->n; i++) {
		struct ca_db_entry *e = v[i];
		int superseded = i + 1 < db->n && strcmp(v[i + 1]->name,
		    e->name) == 0 && strcmp(e->name, "unknown") != 0;
		if (superseded || e->status != 'V')
			continue;
		if (e->not_after - now < (time_t)within_days * DAY)
			v[k++] = e;
	}
	*out = v;
	*n = k;
	return 0;
}

int
ca_revoke(struct ca_strv *out, struct ca *ca, const char *key,
    enum ca_reason reason, time_t now, struct ca_err *err)
{
	struct ca_db *db = NULL;
	struct ca_db_entry *e;
	size_t i, hits = 0;
	int ret;

	if ((unsigned)reason >= CA_REASON__MAX || ca_reason_name(reason) == NULL)
		return ca_err_set(err, CA_EINVAL, "invalid revocation reason");
	if ((ret = db_open(&db, ca, err)) != 0)
		return ret;
	if (is_hex(key) && strlen(key) >= 8 &&
	    (e = ca_db_find_serial(db, key)) != NULL) {
		if (e->status == 'R') {
			ret = ca_err_set(err, CA_EEXIST, "serial %s is already "
			    "revoked", e->serial);
			goto out;
		}
		e->status = 'R';
		e->revoked_at = now;
		e->reason = reason;
		ca_strv_add(out, e->serial);
		hits = 1;
	} else {
		/* A name: every certificate of it that is still valid. */
		int known = 0;
		for (i = 0; i < db->n; i++) {
			e = &db->v[i];
			if (strcmp(e->name, key) != 0)
				continue;
			known = 1;
			if (e->status != 'V')
				continue;
			e->status = 'R';
			e->revoked_at = now;
			e->reason = reason;
			ca_strv_add(out, e->serial);
			hits++;
		}
		if (hits == 0) {
			ret = ca_err_set(err, known ? CA_EEXIST : CA_ENOENT,
			    known ? "'%s' has no unrevoked certificate in '%s'" :
			    "no certificate with serial or name '%s' in '%s'",
			    key, db->path);
			goto out;
		}
	}
	ret = ca_db_save(db, err);
out:
	ca_db_free(db);
	return ret;
}

static int
read_crlnumber(struct ca_serial *out, struct ca *ca, struct ca_err *err)
{
	char *p = ca_path(ca, "crlnumber"), *buf = NULL, *nl;
	int ret;

	if (p == NULL)
		return ca_err_set(err, CA_ENOMEM, "out of memory");
	ret = ca_file_read(&buf, NULL, p, 128, err);
	if (ret == CA_ENOENT)
		ret = ca_serial_from_hex(out, "01");
	else if (ret == 0) {
		if ((nl = strchr(buf, '\n')) != NULL)
			*nl = '\0';
		if (ca_serial_from_hex(out, buf) != 0)
			ret = ca_err_set(err, CA_EDB, "'%s': bad CRL number '%s'",
			    p, buf);
	}
	free(buf);
	free(p);
	return ret;
}

/* n + 1 in hex, as OpenSSL keeps it (even number of digits). */
static void
next_number(char *out, size_t len, const struct ca_serial *n)
{
	unsigned char b[21];
	size_t k = n->len, i;
	int carry = 1;

	memcpy(b + 1, n->b, k);
	b[0] = 0;
	for (i = k + 1; i-- > 0 && carry;) {
		b[i] = (unsigned char)(b[i] + 1);
		carry = b[i] == 0;
	}
	for (i = 0; i < k && b[i] == 0; i++)
		;
	if (2 * (k + 1 - i) + 2 > len) {
		snprintf(out, len, "01");
		return;
	}
	ca_hex(out, b + i, k + 1 - i, 1);
	strcat(out, "\n");
}

int
ca_crl_generate(struct ca_crl_info *out, struct ca *ca, int days, time_t now,
    struct ca_err *err)
{
	struct ca_crl_entry *ents = NULL;
	struct ca_serial number;
	gnutls_datum_t der = { NULL, 0 }, pem = { NULL, 0 };
	char next[64], *p = NULL;
	size_t n = 0;
	int ret;

	memset(out, 0, sizeof(*out));
	if (ca->crt == NULL || ca->key == NULL)
		return ca_err_set(err, CA_EINVAL, "CA '%s' needs its certificate "
		    "and key to sign a CRL", ca->dir);
	if (days < 1 || days > 3650)
		return ca_err_set(err, CA_EINVAL, "CRL validity of %d days is out "
		    "of range (1 to 3650)", days);
	if (now >= gnutls_x509_crt_get_expiration_time(ca->crt))
		return ca_err_set(err, CA_EPOLICY, "CA '%s' has expired; it can "
		    "no longer sign a CRL", ca->dir);
	if ((p = ca_path(ca, "index.txt")) == NULL)
		return ca_err_set(err, CA_ENOMEM, "out of memory");
	ret = ca_db_revoked(&ents, &n, p, err);
	free(p);
	p = NULL;
	if (ret != 0)
		return ret;
	if ((ret = read_crlnumber(&number, ca, err)) != 0)
		goto out;
	/* nextUpdate never beyond the CA's own life. */
	{
		time_t next_update = now + (time_t)days * DAY;
		time_t na = gnutls_x509_crt_get_expiration_time(ca->crt);
		if (next_update > na)
			next_update = na;
		if ((ret = ca_crl_encode(&der, ca->crt, ca->key, ents, n, &number,
		    now, next_update, err)) != 0)
			goto out;
		out->next_update = next_update;
	}
	if ((ret = gnutls_pem_base64_encode2("X509 CRL", &der, &pem)) < 0) {
		ret = ca_gnutls_err(err, ret, "cannot encode the CRL");
		goto out;
	}
	/* Bump the number first: a crash after this skips a number, which
	 * is harmless; reusing one for different content is not. */
	next_number(next, sizeof(next), &number);
	if ((p = ca_path(ca, "crlnumber")) == NULL) {
		ret = ca_err_set(err, CA_ENOMEM, "out of memory");
		goto out;
	}
	if ((ret = ca_file_write_atomic(p, next, strlen(next), 0644, err)) != 0)
		goto out;
	free(p);
	/* crl.pem, written last, is the commit: should anything fail after
	 * crl.der was replaced, crl.der is made from crl.pem again, so the
	 * two never differ. */
	if ((p = ca_path(ca, "crl.der")) == NULL ||
	    (ret = ca_file_write_atomic(p, der.data, der.size, 0644, err)) != 0)
		goto resync;
	free(p);
	if ((p = ca_path(ca, "crl.pem")) == NULL ||
	    (ret = ca_file_write_atomic(p, pem.data, pem.size, 0644, err)) != 0)
		goto resync;
	snprintf(out->number, sizeof(out->number), "%s", number.hex);
	out->this_update = now;
	out->nrevoked = n;
	ret = 0;
	goto out;
resync:
	(void)ca_crl_resync(ca, NULL);
out:
	free(p);
	free(ents);
	gnutls_free(der.data);
	gnutls_free(pem.data);
	return ret;
}

/* 1 when index.txt holds a revocation the CRL at crl_path lacks. The
 * index also changes on every issuance, which needs no new CRL. */
static int
ca_crl_revoked_since(struct ca *ca, const char *crl_path)
{
	gnutls_x509_crl_t crl = NULL;
	struct ca_crl_entry *ents = NULL;
	char *p = ca_path(ca, "index.txt");
	size_t nrev = 0;
	int n, due = 1, ret;

	ret = p != NULL ? ca_db_revoked(&ents, &nrev, p, NULL) : CA_ENOMEM;
	free(p);
	free(ents);
	if (ret != 0)
		return 1;
	if (ca_crl_load(&crl, crl_path, NULL) == 0) {
		n = gnutls_x509_crl_get_crt_count(crl);
		due = n < 0 || (size_t)n != nrev;
		gnutls_x509_crl_deinit(crl);
	}
	return due;
}

int
ca_crl_due(struct ca *ca, int every_days, time_t now, struct ca_err *err)
{
	gnutls_x509_crl_t crl = NULL;
	char *p = ca_path(ca, "crl.pem");
	time_t tu, nu;
	int ret;

	if (p == NULL)
		return ca_err_set(err, CA_ENOMEM, "out of memory");
	if (!ca_file_exists(p)) {
		free(p);
		return 1;
	}
	/* A revocation the CRL does not carry yet makes a new one due at
	 * once (mtimes cannot tell: they can be equal within a tick). */
	if (ca_crl_revoked_since(ca, p)) {
		free(p);
		return 1;
	}
	ret = ca_crl_load(&crl, p, err);
	free(p);
	if (ret != 0)
		return 1; /* unreadable: make a new one */
	tu = gnutls_x509_crl_get_this_update(crl);
	nu = gnutls_x509_crl_get_next_update(crl);
	gnutls_x509_crl_deinit(crl);
	if (now >= tu + (time_t)every_days * DAY || nu == (time_t)-1 ||
	    nu - now < (time_t)every_days * DAY)
		return 1;
	return 0;
}
