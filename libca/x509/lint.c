/*
 * lint.c - the pre-issuance lint: a certificate that fails any check here
 * is never written, recorded or returned.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "x509/x509-int.h"

int
ca_dns_check(const char *name, int allow_wildcard, struct ca_err *err)
{
	const char *p = name, *label;
	size_t n = strlen(name), len;

	if (n == 0 || n > 253)
		return ca_err_set(err, CA_EINVAL, "invalid DNS name '%s'", name);
	if (allow_wildcard && strncmp(p, "*.", 2) == 0)
		p += 2;
	for (label = p;; p++) {
		if (*p == '.' || *p == '\0') {
			len = (size_t)(p - label);
			if (len == 0 || len > 63 || label[0] == '-' ||
			    label[len - 1] == '-')
				return ca_err_set(err, CA_EINVAL, "invalid DNS name "
				    "'%s'", name);
			if (*p == '\0')
				break;
			label = p + 1;
			continue;
		}
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
			return ca_err_set(err, CA_EINVAL, "invalid DNS name '%s'",
			    name);
	}
	return 0;
}

int
ca_ip_check(const char *ip, struct ca_err *err)
{
	unsigned char b[16];

	if (inet_pton(AF_INET, ip, b) == 1 || inet_pton(AF_INET6, ip, b) == 1)
		return 0;
	return ca_err_set(err, CA_EINVAL, "invalid IP address '%s'", ip);
}

static int
has_eku(gnutls_x509_crt_t c, const char *oid, int *any)
{
	char buf[128];
	size_t n;
	unsigned i;
	int found = 0;

	*any = 0;
	for (i = 0;; i++) {
		n = sizeof(buf);
		if (gnutls_x509_crt_get_key_purpose_oid(c, i, buf, &n, NULL) < 0)
			break;
		*any = 1;
		if (oid != NULL && strcmp(buf, oid) == 0)
			found = 1;
	}
	return found;
}

/* Every DNS, IP and email SAN must sit inside the issuer's permitted
 * subtrees; the error names the first that does not. */
static int
check_constraints(gnutls_x509_crt_t c, gnutls_x509_crt_t issuer,
    const char *who, struct ca_err *err)
{
	gnutls_x509_name_constraints_t nc = NULL;
	unsigned char buf[512];
	char shown[600];
	gnutls_datum_t d;
	unsigned i, crit = 0;
	size_t n;
	int ret, type;

	if (gnutls_x509_name_constraints_init(&nc) < 0)
		return ca_err_set(err, CA_ENOMEM, "out of memory");
	ret = gnutls_x509_crt_get_name_constraints(issuer, nc, 0, &crit);
	if (ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE) {
		ret = 0;
		goto out;
	}
	if (ret < 0) {
		ret = ca_gnutls_err(err, ret, "cannot read the issuer's name "
		    "constraints");
		goto out;
	}
	for (i = 0;; i++) {
		n = sizeof(buf) - 1;
		type = gnutls_x509_crt_get_subject_alt_name(c, i, buf, &n, NULL);
		if (type < 0)
			break;
		if (type != GNUTLS_SAN_DNSNAME && type != GNUTLS_SAN_IPADDRESS &&
		    type != GNUTLS_SAN_RFC822NAME)
			continue;
		d.data = buf;
		d.size = (unsigned)n;
		if (gnutls_x509_name_constraints_check(nc,
		    (gnutls_x509_subject_alt_name_t)type, &d))
			continue;
		if (type == GNUTLS_SAN_IPADDRESS)
			inet_ntop(n == 4 ? AF_INET : AF_INET6, buf, shown,
			    sizeof(shown));
		else
			snprintf(shown, sizeof(shown), "%.*s", (int)n, buf);
		ret = ca_err_set(err, CA_EPOLICY, "%s: name '%s' is outside the "
		    "issuer's name constraints", who, shown);
		goto out;
	}
	/* A CN that looks like a host name is checked against the DNS
	 * constraints too: OpenSSL does so when there is no DNS SAN, and a
	 * certificate that some verifiers refuse must not be issued. */
	n = sizeof(buf) - 1;
	if (gnutls_x509_crt_get_dn_by_oid(c, GNUTLS_OID_X520_COMMON_NAME, 0, 0,
	    buf, &n) >= 0) {
		buf[n] = '\0';
		if (strchr((char *)buf, '.') != NULL &&
		    ca_ip_check((char *)buf, NULL) != 0 &&
		    ca_dns_check((char *)buf, 1, NULL) == 0) {
			d.data = buf;
			d.size = (unsigned)n;
			if (!gnutls_x509_name_constraints_check(nc,
			    GNUTLS_SAN_DNSNAME, &d)) {
				ret = ca_err_set(err, CA_EPOLICY, "%s: CN '%s' is "
				    "outside the issuer's name constraints", who,
				    (char *)buf);
				goto out;
			}
		}
	}
	ret = 0;
out:
	gnutls_x509_name_constraints_deinit(nc);
	return ret;
}

static int
check_sig(gnutls_x509_crt_t c, const char *who, struct ca_err *err)
{
	int sig = gnutls_x509_crt_get_signature_algorithm(c);
	gnutls_digest_algorithm_t h;

	if (sig < 0)
		return ca_err_set(err, CA_EPOLICY, "%s: unknown signature "
		    "algorithm", who);
	h = gnutls_sign_get_hash_algorithm((gnutls_sign_algorithm_t)sig);
	if (h == GNUTLS_DIG_MD5 || h == GNUTLS_DIG_SHA1 ||
	    h == GNUTLS_DIG_MD2 || h == GNUTLS_DIG_SHA224 ||
	    !gnutls_sign_is_secure((gnutls_sign_algorithm_t)sig))
		return ca_err_set(err, CA_EPOLICY, "%s: signature algorithm %s "
		    "is not allowed", who,
		    gnutls_sign_get_name((gnutls_sign_algorithm_t)sig));
	return 0;
}

int
ca_lint_cert(gnutls_x509_crt_t c, enum ca_profile prof,
    gnutls_x509_crt_t issuer, time_t now, struct ca_err *err)
{
	gnutls_pubkey_t pub = NULL;
	char who[300], serial[64], cn[256];
	unsigned usage = 0, crit = 0, ca = 0, n_dns = 0, n_ip = 0, i;
	int pathlen = -1, ret, any_eku;
	size_t n;
	time_t nb, na;
	const char *eku = ca_profile_eku(prof);

	n = sizeof(cn);
	if (gnutls_x509_crt_get_dn_by_oid(c, GNUTLS_OID_X520_COMMON_NAME, 0, 0,
	    cn, &n) < 0)
		snprintf(cn, sizeof(cn), "(no CN)");
	if (ca_cert_serial_hex(serial, sizeof(serial), c) != 0)
		snprintf(serial, sizeof(serial), "?");
	snprintf(who, sizeof(who), "%s certificate '%s'", ca_profile_name(prof),
	    cn);

	if (gnutls_x509_crt_get_version(c) != 3)
		return ca_err_set(err, CA_EPOLICY, "%s: not X.509 v3", who);
	if ((ret = check_sig(c, who, err)) != 0)
		return ret;
	if (gnutls_pubkey_init(&pub) < 0)
		return ca_err_set(err, CA_ENOMEM, "out of memory");
	ret = gnutls_pubkey_import_x509(pub, c, 0);
	if (ret < 0) {
		gnutls_pubkey_deinit(pub);
		return ca_gnutls_err(err, ret, "%s: bad public key", who);
	}
	ret = ca_pubkey_check_policy(pub, who, err);
	gnutls_pubkey_deinit(pub);
	if (ret != 0)
		return ret;

	/* Validity: ordered, and inside the issuer's. */
	nb = gnutls_x509_crt_get_activation_time(c);
	na = gnutls_x509_crt_get_expiration_time(c);
	if (nb == (time_t)-1 || na == (time_t)-1 || na <= nb)
		return ca_err_set(err, CA_EPOLICY, "%s: invalid validity period",
		    who);
	if (na <= now)
		return ca_err_set(err, CA_EPOLICY, "%s: would be expired at "
		    "issuance", who);
	if (issuer != NULL) {
		time_t inb = gnutls_x509_crt_get_activation_time(issuer);
		time_t ina = gnutls_x509_crt_get_expiration_time(issuer);
		char t[32];
		if (now < inb || now >= ina) {
			ca_time_format(t, sizeof(t), now >= ina ? ina : inb);
			return ca_err_set(err, CA_EPOLICY, "issuer is not valid "
			    "now (%s %s)", now >= ina ? "expired" :
			    "not valid before", t);
		}
		if (nb < inb || na > ina)
			return ca_err_set(err, CA_EPOLICY, "%s: validity exceeds "
			    "the issuer's", who);
	}

	/* basicConstraints and keyUsage, as the profile says. */
	ret = gnutls_x509_crt_get_basic_constraints(c, &crit, &ca, &pathlen);
	if (ret < 0 || !crit)
		return ca_err_set(err, CA_EPOLICY, "%s: basicConstraints missing "
		    "or not critical", who);
	if ((int)ca != ca_profile_is_ca(prof))
		return ca_err_set(err, CA_EPOLICY, "%s: CA flag is %s, the profile "
		    "wants %s", who, ca ? "TRUE" : "FALSE",
		    ca_profile_is_ca(prof) ? "TRUE" : "FALSE");
	if ((prof == CA_PROF_ICA_SERVER || prof == CA_PROF_ICA_CLIENT) &&
	    pathlen != 0)
		return ca_err_set(err, CA_EPOLICY, "%s: intermediate without "
		    "pathlen 0", who);
	if (gnutls_x509_crt_get_key_usage(c, &usage, &crit) < 0)
		return ca_err_set(err, CA_EPOLICY, "%s: keyUsage missing", who);
	if (ca && (usage & (GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN)) !=
	    (GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN))
		return ca_err_set(err, CA_EPOLICY, "%s: CA without keyCertSign "
		    "and cRLSign", who);
	if (!ca && ((usage & GNUTLS_KEY_KEY_CERT_SIGN) ||
	    !(usage & GNUTLS_KEY_DIGITAL_SIGNATURE)))
		return ca_err_set(err, CA_EPOLICY, "%s: leaf keyUsage is wrong",
		    who);

	/* EKU: exactly the profile's purpose; the root has none. */
	if (eku != NULL && !has_eku(c, eku, &any_eku))
		return ca_err_set(err, CA_EPOLICY, "%s: missing extendedKeyUsage "
		    "%s", who, eku);
	if (eku == NULL) {
		has_eku(c, NULL, &any_eku);
		if (any_eku)
			return ca_err_set(err, CA_EPOLICY, "%s: a root must not "
			    "limit extendedKeyUsage", who);
	}
	if (issuer != NULL && eku != NULL) {
		int issuer_any;
		if (!has_eku(issuer, eku, &issuer_any) && issuer_any)
			return ca_err_set(err, CA_EPOLICY, "%s: the issuer may not "
			    "sign for this purpose (its extendedKeyUsage "
			    "excludes %s)", who, eku);
	}
	if (issuer != NULL) {
		unsigned ica = 0, icrit = 0;
		int ipath = -1;
		if (gnutls_x509_crt_get_basic_constraints(issuer, &icrit, &ica,
		    &ipath) < 0 || !ica)
			return ca_err_set(err, CA_EPOLICY, "%s: the issuer is not "
			    "a CA", who);
		if (ca && ipath == 0)
			return ca_err_set(err, CA_EPOLICY, "%s: the issuer has "
			    "pathlen 0 and may not sign a CA", who);
	}

	/* Identity: a server needs a SAN, a client a SAN or a CN. */
	for (i = 0;; i++) {
		unsigned char buf[512];
		n = sizeof(buf);
		ret = gnutls_x509_crt_get_subject_alt_name(c, i, buf, &n, NULL);
		if (ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (ret == GNUTLS_SAN_DNSNAME)
			n_dns++;
		else if (ret == GNUTLS_SAN_IPADDRESS)
			n_ip++;
		else if (ret < 0)
			return ca_gnutls_err(err, ret, "%s: bad subjectAltName",
			    who);
	}
	if (prof == CA_PROF_LEAF_SERVER && n_dns + n_ip == 0)
		return ca_err_set(err, CA_EPOLICY, "%s: a server certificate "
		    "needs at least one DNS or IP subjectAltName", who);
	if (prof == CA_PROF_LEAF_CLIENT && i == 0 &&
	    strcmp(cn, "(no CN)") == 0)
		return ca_err_set(err, CA_EPOLICY, "%s: a client certificate "
		    "needs a CN or a subjectAltName", who);
	if (issuer != NULL && (ret = check_constraints(c, issuer, who, err)) != 0)
		return ret;
	return 0;
}
