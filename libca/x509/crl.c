/*
 * crl.c - v2 CRLs encoded by hand in DER and signed with GnuTLS.
 *
 * GnuTLS's CRL writer cannot add per-entry extensions (so no reason
 * codes) and inserting entries is quadratic: 100,000 entries took minutes.
 * A CRL is a simple structure (RFC 5280, 5.1); encoding it directly is
 * linear and lets every entry carry its CRLReason.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "x509/x509-int.h"

struct der {
	unsigned char *p;
	size_t len, cap;
	int oom;
};

static void
der_reserve(struct der *b, size_t more)
{
	unsigned char *np;
	size_t ncap;

	if (b->oom || b->len + more <= b->cap)
		return;
	ncap = b->cap ? b->cap : 256;
	while (ncap < b->len + more)
		ncap *= 2;
	if ((np = realloc(b->p, ncap)) == NULL) {
		b->oom = 1;
		return;
	}
	b->p = np;
	b->cap = ncap;
}

static void
der_put(struct der *b, const void *data, size_t n)
{
	der_reserve(b, n);
	if (b->oom)
		return;
	memcpy(b->p + b->len, data, n);
	b->len += n;
}

static void
der_hdr(struct der *b, unsigned char tag, size_t len)
{
	unsigned char h[6];
	size_t n = 0;

	h[n++] = tag;
	if (len < 0x80)
		h[n++] = (unsigned char)len;
	else if (len < 0x100) {
		h[n++] = 0x81;
		h[n++] = (unsigned char)len;
	} else if (len < 0x10000) {
		h[n++] = 0x82;
		h[n++] = (unsigned char)(len >> 8);
		h[n++] = (unsigned char)len;
	} else if (len < 0x1000000) {
		h[n++] = 0x83;
		h[n++] = (unsigned char)(len >> 16);
		h[n++] = (unsigned char)(len >> 8);
		h[n++] = (unsigned char)len;
	} else {
		h[n++] = 0x84;
		h[n++] = (unsigned char)(len >> 24);
		h[n++] = (unsigned char)(len >> 16);
		h[n++] = (unsigned char)(len >> 8);
		h[n++] = (unsigned char)len;
	}
	der_put(b, h, n);
}

static void
der_tlv(struct der *b, unsigned char tag, const void *v, size_t n)
{
	der_hdr(b, tag, n);
	der_put(b, v, n);
}

/* Appends `inner' wrapped in tag to b. */
static void
der_wrap(struct der *b, unsigned char tag, const struct der *inner)
{
	if (inner->oom) {
		b->oom = 1;
		return;
	}
	der_tlv(b, tag, inner->p, inner->len);
}

/* The size of a header der_hdr() writes for len. */
static size_t
der_hdr_len(size_t len)
{
	return len < 0x80 ? 2 : len < 0x100 ? 3 : len < 0x10000 ? 4 :
	    len < 0x1000000 ? 5 : 6;
}

static void
der_free(struct der *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/* Dotted OID to DER content bytes. */
static int
oid_encode(unsigned char *out, size_t *outlen, const char *oid)
{
	unsigned long arcs[32];
	size_t narcs = 0, n = 0, i;
	const char *p = oid;
	char *end;

	while (*p != '\0' && narcs < 32) {
		arcs[narcs++] = strtoul(p, &end, 10);
		if (end == p || (*end != '.' && *end != '\0'))
			return CA_EINVAL;
		p = *end == '.' ? end + 1 : end;
	}
	if (narcs < 2 || *p != '\0')
		return CA_EINVAL;
	arcs[1] += arcs[0] * 40;
	for (i = 1; i < narcs; i++) {
		unsigned char tmp[10];
		size_t k = 0;
		unsigned long v = arcs[i];
		do {
			tmp[k++] = (unsigned char)(v & 0x7f);
			v >>= 7;
		} while (v != 0);
		if (n + k > *outlen)
			return CA_EINVAL;
		while (k > 0) {
			k--;
			out[n++] = (unsigned char)(tmp[k] | (k ? 0x80 : 0));
		}
	}
	*outlen = n;
	return 0;
}

static void
der_oid(struct der *b, const char *oid)
{
	unsigned char buf[64];
	size_t n = sizeof(buf);

	if (oid_encode(buf, &n, oid) != 0) {
		b->oom = 1;
		return;
	}
	der_tlv(b, 0x06, buf, n);
}

/* UTCTime through 2049, GeneralizedTime after (RFC 5280, 5.1.2.4). */
static void
der_time(struct der *b, time_t t)
{
	struct tm tm;
	char s[20];

	if (ca_time_to_tm(&tm, t) != 0) {
		b->oom = 1;
		return;
	}
	if (tm.tm_year + 1900 < 2050) {
		strftime(s, sizeof(s), "%y%m%d%H%M%SZ", &tm);
		der_tlv(b, 0x17, s, 13);
	} else {
		strftime(s, sizeof(s), "%Y%m%d%H%M%SZ", &tm);
		der_tlv(b, 0x18, s, 15);
	}
}

/* Extension { extnID, extnValue OCTET STRING (inner) }. */
static void
der_ext(struct der *b, const char *oid, const struct der *inner)
{
	struct der e = { 0 };

	der_oid(&e, oid);
	der_wrap(&e, 0x04, inner);
	der_wrap(b, 0x30, &e);
	der_free(&e);
}

int
ca_crl_encode(gnutls_datum_t *out, gnutls_x509_crt_t issuer,
    gnutls_privkey_t key, const struct ca_crl_entry *ents, size_t n,
    const struct ca_serial *crlnumber, time_t this_update,
    time_t next_update, struct ca_err *err)
{
	struct der tbs = { 0 }, body = { 0 }, list = { 0 }, alg = { 0 };
	struct der exts = { 0 }, tmp = { 0 }, crl = { 0 }, out_der = { 0 };
	gnutls_datum_t dn = { NULL, 0 }, sig = { NULL, 0 }, tbsd;
	gnutls_pubkey_t pub = NULL;
	gnutls_sign_algorithm_t salg;
	unsigned char keyid[64];
	size_t idlen = sizeof(keyid), i;
	const char *oid;
	unsigned bits;
	int ret, pk;

	out->data = NULL;
	out->size = 0;
	if ((ret = gnutls_pubkey_init(&pub)) < 0 ||
	    (ret = gnutls_pubkey_import_privkey(pub, key, 0, 0)) < 0) {
		ret = ca_gnutls_err(err, ret, "cannot use the CA key");
		goto out;
	}
	pk = gnutls_pubkey_get_pk_algorithm(pub, &bits);
	salg = gnutls_pk_to_sign((gnutls_pk_algorithm_t)pk, ca_sign_hash(pub));
	if (salg == GNUTLS_SIGN_UNKNOWN ||
	    (oid = gnutls_sign_get_oid(salg)) == NULL) {
		ret = ca_err_set(err, CA_ECRYPTO, "no signature algorithm for "
		    "the CA key");
		goto out;
	}
	/* AlgorithmIdentifier: RSA PKCS#1 v1.5 carries NULL parameters,
	 * ECDSA and EdDSA none (RFC 5758, RFC 8410). */
	der_oid(&tmp, oid);
	if (pk == GNUTLS_PK_RSA)
		der_put(&tmp, "\x05\x00", 2);
	der_wrap(&alg, 0x30, &tmp);
	der_free(&tmp);

	if ((ret = gnutls_x509_crt_get_raw_dn(issuer, &dn)) < 0) {
		ret = ca_gnutls_err(err, ret, "cannot read the CA subject");
		goto out;
	}
	ret = gnutls_x509_crt_get_subject_key_id(issuer, keyid, &idlen, NULL);
	if (ret < 0) {
		ret = ca_gnutls_err(err, ret, "the CA has no "
		    "subjectKeyIdentifier");
		goto out;
	}

	der_put(&body, "\x02\x01\x01", 3); /* version v2 */
	der_put(&body, alg.p, alg.len);
	der_put(&body, dn.data, dn.size);
	der_time(&body, this_update);
	der_time(&body, next_update);

	/* One set of scratch buffers for all entries: no allocation per
	 * entry once they have grown; the list is sized for the usual
	 * entry up front (a 16-byte serial, a date and a reason code are
	 * 52 bytes), so it is not copied over as it grows. */
	der_reserve(&list, n * 56);
	{
		struct der ent = { 0 }, r = { 0 }, ext = { 0 }, seq = { 0 };
		for (i = 0; i < n; i++) {
			const struct ca_crl_entry *c = &ents[i];

			ent.len = r.len = ext.len = seq.len = 0;
			der_tlv(&ent, 0x02, c->serial.b, c->serial.len);
			der_time(&ent, c->revoked_at);
			/* RFC 5280 5.3.1: no extension for "unspecified". */
			if (c->reason != CA_REASON_UNSPECIFIED) {
				unsigned char v = (unsigned char)c->reason;
				der_tlv(&r, 0x0a, &v, 1);
				der_ext(&ext, "2.5.29.21", &r);
				der_wrap(&seq, 0x30, &ext);
				der_put(&ent, seq.p, seq.len);
				if (r.oom || ext.oom || seq.oom)
					ent.oom = 1;
			}
			der_wrap(&list, 0x30, &ent);
		}
		der_free(&ent);
		der_free(&r);
		der_free(&ext);
		der_free(&seq);
	}

	/* crlExtensions [0]: authorityKeyIdentifier and cRLNumber. */
	{
		struct der aki = { 0 }, akiseq = { 0 }, num = { 0 }, seq = { 0 };
		der_tlv(&aki, 0x80, keyid, idlen);
		der_wrap(&akiseq, 0x30, &aki);
		der_ext(&exts, "2.5.29.35", &akiseq);
		der_tlv(&num, 0x02, crlnumber->b, crlnumber->len);
		der_ext(&exts, "2.5.29.20", &num);
		der_wrap(&seq, 0x30, &exts);
		der_wrap(&tmp, 0xa0, &seq);
		der_free(&aki);
		der_free(&akiseq);
		der_free(&num);
		der_free(&seq);
	}
	/* The list is by far the largest part (4 MB for 100,000 entries):
	 * it is copied once into the TBSCertList, and that once into the
	 * result, rather than wrapped layer by layer. An empty list is
	 * absent, not an empty SEQUENCE (RFC 5280 5.1.2.6). */
	{
		size_t lhdr = n > 0 ? der_hdr_len(list.len) : 0;
		size_t blen = body.len + lhdr + (n > 0 ? list.len : 0) + tmp.len;

		der_reserve(&tbs, der_hdr_len(blen) + blen);
		der_hdr(&tbs, 0x30, blen);
		der_put(&tbs, body.p, body.len);
		if (n > 0) {
			der_hdr(&tbs, 0x30, list.len);
			der_put(&tbs, list.p, list.len);
		}
		der_put(&tbs, tmp.p, tmp.len);
		if (body.oom || tmp.oom)
			tbs.oom = 1;
	}
	der_free(&list);
	if (tbs.oom || alg.oom || list.oom || exts.oom) {
		ret = ca_err_set(err, CA_ENOMEM, "out of memory encoding the CRL");
		goto out;
	}

	tbsd.data = tbs.p;
	tbsd.size = (unsigned)tbs.len;
	if ((ret = gnutls_privkey_sign_data2(key, salg, 0, &tbsd, &sig)) < 0) {
		ret = ca_gnutls_err(err, ret, "cannot sign the CRL");
		goto out;
	}
	/* The tail (algorithm, signature) is small: the outer header is
	 * written ahead of the TBS into one gnutls-allocated buffer, so
	 * callers free uniformly and the TBS is copied once more only. */
	der_put(&crl, alg.p, alg.len);
	der_hdr(&crl, 0x03, sig.size + 1);
	der_put(&crl, "", 1); /* no unused bits */
	der_put(&crl, sig.data, sig.size);
	if (crl.oom) {
		ret = ca_err_set(err, CA_ENOMEM, "out of memory encoding the CRL");
		goto out;
	}
	{
		size_t inner = tbs.len + crl.len;
		size_t total = der_hdr_len(inner) + inner;

		der_hdr(&out_der, 0x30, inner);
		if (out_der.oom ||
		    (out->data = gnutls_malloc(total)) == NULL) {
			ret = ca_err_set(err, CA_ENOMEM, "out of memory");
			goto out;
		}
		memcpy(out->data, out_der.p, out_der.len);
		memcpy(out->data + out_der.len, tbs.p, tbs.len);
		memcpy(out->data + out_der.len + tbs.len, crl.p, crl.len);
		out->size = (unsigned)total;
	}
	ret = 0;
out:
	der_free(&tbs);
	der_free(&body);
	der_free(&list);
	der_free(&alg);
	der_free(&exts);
	der_free(&tmp);
	der_free(&crl);
	der_free(&out_der);
	gnutls_free(dn.data);
	gnutls_free(sig.data);
	if (pub != NULL)
		gnutls_pubkey_deinit(pub);
	return ret;
}

int
ca_crl_load(gnutls_x509_crl_t *out, const char *path, struct ca_err *err)
{
	gnutls_x509_crl_t c = NULL;
	gnutls_datum_t d;
	int ret;

	*out = NULL;
	if ((ret = ca_datum_read(&d, path, 256u * 1024 * 1024, err)) != 0)
		return ret;
	if ((ret = gnutls_x509_crl_init(&c)) < 0) {
		free(d.data);
		return ca_gnutls_err(err, ret, "cannot read CRL '%s'", path);
	}
	ret = gnutls_x509_crl_import(c, &d, ca_fmt_of(&d));
	free(d.data);
	if (ret < 0) {
		gnutls_x509_crl_deinit(c);
		return ca_gnutls_err(err, ret, "cannot parse CRL '%s'", path);
	}
	*out = c;
	return 0;
}
