/*
 * test_key.c - libca/key.c and libca/secret.c: generation for every
 * algorithm, PKCS#8 export (PBES2/AES-256), exclusive 0600 writes, loading
 * with permission and passphrase checks, the key policy, passphrases from
 * files and descriptors.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"

static char good_buf[] = "correct horse battery staple";
static char bad_buf[] = "correct horse battery stapler";
/* Hand-made secrets (cap 0): ca_secret_wipe leaves their buffers alone. */
static const struct ca_secret good = { good_buf, sizeof(good_buf) - 1 };
static const struct ca_secret bad = { bad_buf, sizeof(bad_buf) - 1 };


static gnutls_pubkey_t
pub_of(gnutls_x509_privkey_t k)
{
	gnutls_privkey_t pk = NULL;
	gnutls_pubkey_t pub = NULL;

	if (ca_privkey_to_abstract(&pk, k, NULL) != 0)
		return NULL;
	if (gnutls_pubkey_init(&pub) < 0 ||
	    gnutls_pubkey_import_privkey(pub, pk, 0, 0) < 0) {
		if (pub != NULL)
			gnutls_pubkey_deinit(pub);
		pub = NULL;
	}
	gnutls_privkey_deinit(pk);
	return pub;
}

static int
same_key(gnutls_x509_privkey_t a, gnutls_x509_privkey_t b)
{
	unsigned char ia[64], ib[64];
	size_t na = sizeof(ia), nb = sizeof(ib);

	if (gnutls_x509_privkey_get_key_id(a, GNUTLS_KEYID_USE_SHA256, ia,
	    &na) < 0 || gnutls_x509_privkey_get_key_id(b,
	    GNUTLS_KEYID_USE_SHA256, ib, &nb) < 0)
		return 0;
	return na == nb && memcmp(ia, ib, na) == 0;
}

static const struct {
	enum ca_key_alg alg;
	gnutls_pk_algorithm_t pk;
	unsigned bits; /* 0: not checked */
} gen_cases[] = {
	{ CA_KEY_ECDSA_P256, GNUTLS_PK_ECDSA, 256 },
	{ CA_KEY_ECDSA_P384, GNUTLS_PK_ECDSA, 384 },
	{ CA_KEY_ECDSA_P521, GNUTLS_PK_ECDSA, 0 }, /* GnuTLS says 528 */
	{ CA_KEY_ED25519, GNUTLS_PK_EDDSA_ED25519, 0 },
	{ CA_KEY_RSA_2048, GNUTLS_PK_RSA, 2048 },
	{ CA_KEY_RSA_3072, GNUTLS_PK_RSA, 3072 },
	{ CA_KEY_RSA_4096, GNUTLS_PK_RSA, 4096 }, /* the one slow key */
};

static void
test_generate(void)
{
	struct ca_err err;
	size_t i;

	CU_ASSERT_EQUAL(sizeof(gen_cases) / sizeof(gen_cases[0]), CA_KEY__MAX);
	for (i = 0; i < sizeof(gen_cases) / sizeof(gen_cases[0]); i++) {
		gnutls_x509_privkey_t k = NULL;
		gnutls_pubkey_t pub;
		const char *name = ca_key_alg_name(gen_cases[i].alg);
		enum ca_key_alg back;
		char desc[32];
		unsigned bits = 0;
		int ret;

		memset(&err, 0, sizeof(err));
		ret = ca_key_generate(&k, gen_cases[i].alg, &err);
		if (!UCHECK(ret == 0 && k != NULL, "generate %s: %d %s", name,
		    ret, err.msg))
			continue;
		UCHECK(gnutls_x509_privkey_get_pk_algorithm2(k, &bits) ==
		    (int)gen_cases[i].pk, "%s: pk algorithm", name);
		if (gen_cases[i].bits != 0)
			UCHECK(bits == gen_cases[i].bits, "%s: %u bits", name, bits);
		UCHECK(gnutls_x509_privkey_verify_params(k) == 0, "%s: params",
		    name);
		if (UCHECK((pub = pub_of(k)) != NULL, "%s: public key", name)) {
			ca_pubkey_describe(desc, sizeof(desc), pub);
			UCHECK(strcmp(desc, name) == 0, "%s: described as '%s'",
			    name, desc);
			UCHECK(ca_pubkey_check_policy(pub, name, &err) == 0, "%s: "
			    "policy: %s", name, err.msg);
			gnutls_pubkey_deinit(pub);
		}
		UCHECK(ca_key_alg_parse(&back, name) == 0 &&
		    back == gen_cases[i].alg, "%s: name round trip", name);
		gnutls_x509_privkey_deinit(k);
	}
	{
		gnutls_x509_privkey_t k = (gnutls_x509_privkey_t)1;
		CU_ASSERT_EQUAL(ca_key_generate(&k, CA_KEY__MAX, &err), CA_EINVAL);
		CU_ASSERT_PTR_NULL(k);
	}
}

static void
test_export(void)
{
	gnutls_x509_privkey_t k = NULL, back = NULL;
	gnutls_datum_t d = { NULL, 0 };
	struct ca_err err;
	unsigned schema = 0, cipher = 0, iter = 0, salt_size = 64;
	unsigned char salt[64];
	char *oid = NULL;
	int ret;

	CU_ASSERT_EQUAL_FATAL(ca_key_generate(&k, CA_KEY_ECDSA_P256, &err), 0);

	/* Encrypted: PKCS#8 PBES2 with AES-256. */
	CU_ASSERT_EQUAL(ca_key_export(&d, k, &good, &err), 0);
	CU_ASSERT_PTR_NOT_NULL(memmem(d.data, d.size,
	    "-----BEGIN ENCRYPTED PRIVATE KEY-----", 37));
	ret = gnutls_pkcs8_info(&d, GNUTLS_X509_FMT_PEM, &schema, &cipher, salt,
	    &salt_size, &iter, &oid);
	UCHECK(ret == 0 && schema == GNUTLS_PKCS_PBES2_AES_256 &&
	    cipher == GNUTLS_CIPHER_AES_256_CBC, "pkcs8 info: ret %d schema "
	    "0x%x cipher %u", ret, schema, cipher);
	gnutls_free(oid);
	/* It decrypts with the passphrase, to the same key, and not without. */
	gnutls_x509_privkey_init(&back);
	CU_ASSERT_EQUAL(gnutls_x509_privkey_import_pkcs8(back, &d,
	    GNUTLS_X509_FMT_PEM, good.buf, 0), 0);
	CU_ASSERT(same_key(k, back));
	gnutls_x509_privkey_deinit(back);
	gnutls_x509_privkey_init(&back);
	CU_ASSERT(gnutls_x509_privkey_import_pkcs8(back, &d,
	    GNUTLS_X509_FMT_PEM, bad.buf, 0) < 0);
	gnutls_x509_privkey_deinit(back);
	ca_datum_wipe(&d);
	CU_ASSERT_PTR_NULL(d.data);
	CU_ASSERT_EQUAL(d.size, 0);

	/* Plain */
	CU_ASSERT_EQUAL(ca_key_export(&d, k, NULL, &err), 0);
	CU_ASSERT_PTR_NOT_NULL(memmem(d.data, d.size,
	    "-----BEGIN PRIVATE KEY-----", 27));
	CU_ASSERT_PTR_NULL(memmem(d.data, d.size, "ENCRYPTED", 9));
	gnutls_x509_privkey_init(&back);
	CU_ASSERT_EQUAL(gnutls_x509_privkey_import_pkcs8(back, &d,
	    GNUTLS_X509_FMT_PEM, NULL, GNUTLS_PKCS_PLAIN), 0);
	CU_ASSERT(same_key(k, back));
	gnutls_x509_privkey_deinit(back);
	ca_datum_wipe(&d);
	ca_datum_wipe(&d); /* twice is fine */
	ca_datum_wipe(NULL);
	gnutls_x509_privkey_deinit(k);
}

static void
test_write(void)
{
	gnutls_x509_privkey_t k = NULL, k2 = NULL;
	struct ca_err err;
	char dir[512], path[600], *before, *after;
	mode_t old;

	if (ca_key_generate(&k, CA_KEY_ECDSA_P256, &err) != 0 ||
	    ca_key_generate(&k2, CA_KEY_ECDSA_P256, &err) != 0) {
		CU_FAIL("key generation");
		if (k != NULL)
			gnutls_x509_privkey_deinit(k);
		return;
	}
	snprintf(dir, sizeof(dir), "%s/write", unit_tmp);
	CU_ASSERT_EQUAL(mkdir(dir, 0700), 0);
	snprintf(path, sizeof(path), "%s/ca.key", dir);
	/* 0600 whatever the umask */
	old = umask(0);
	CU_ASSERT_EQUAL(ca_key_write(path, k, &good, 1, &err), 0);
	umask(old);
	CU_ASSERT_EQUAL(unit_mode(path), 0600);
	CU_ASSERT_EQUAL(ca_key_file_encrypted(path, &err), 1);
	before = unit_read(path, NULL);
	/* excl: never overwrites */
	memset(&err, 0, sizeof(err));
	CU_ASSERT_EQUAL(ca_key_write(path, k2, NULL, 1, &err), CA_EEXIST);
	CU_ASSERT_EQUAL(err.code, CA_EEXIST);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, path));
	after = unit_read(path, NULL);
	CU_ASSERT(before && after && strcmp(before, after) == 0);
	free(after);
	/* not excl: replaced, still 0600, no temp file left */
	CU_ASSERT_EQUAL(ca_key_write(path, k2, NULL, 0, &err), 0);
	CU_ASSERT_EQUAL(unit_mode(path), 0600);
	CU_ASSERT_EQUAL(ca_key_file_encrypted(path, &err), 0);
	after = unit_read(path, NULL);
	CU_ASSERT(before && after && strcmp(before, after) != 0);
	CU_ASSERT_EQUAL(unit_dir_count(dir), 1);
	free(before);
	free(after);
	unlink(path);
	gnutls_x509_privkey_deinit(k);
	gnutls_x509_privkey_deinit(k2);
}

enum fixture { F_ENC, F_PLAIN, F_GARBAGE, F_NONE };

static const struct {
	const char *name;
	enum fixture file;
	mode_t mode;
	int symlink;
	const struct ca_secret *pass;
	int ret;
	const char *msg; /* part of the message on error */
} load_cases[] = {
	{ "encrypted, right passphrase", F_ENC, 0600, 0, &good, 0, NULL },
	{ "encrypted, 0400", F_ENC, 0400, 0, &good, 0, NULL },
	{ "encrypted, wrong passphrase", F_ENC, 0600, 0, &bad, CA_EPASS,
	    "wrong passphrase" },
	{ "encrypted, no passphrase", F_ENC, 0600, 0, NULL, CA_EPASS,
	    "passphrase" },
	{ "plain, no passphrase", F_PLAIN, 0600, 0, NULL, 0, NULL },
	{ "plain, a passphrase given", F_PLAIN, 0600, 0, &good, 0, NULL },
	{ "plain, mode 0644", F_PLAIN, 0644, 0, NULL, CA_EPERM, "chmod 600" },
	{ "plain, mode 0640", F_PLAIN, 0640, 0, NULL, CA_EPERM, "chmod 600" },
	{ "plain, mode 0604", F_PLAIN, 0604, 0, NULL, CA_EPERM, "chmod 600" },
	{ "encrypted, mode 0644", F_ENC, 0644, 0, &good, CA_EPERM, NULL },
	{ "symlink to a 0600 key", F_PLAIN, 0600, 1, NULL, CA_EPERM,
	    "symlink" },
	{ "not a key", F_GARBAGE, 0600, 0, NULL, CA_ECRYPTO, NULL },
	{ "missing", F_NONE, 0600, 0, NULL, CA_ENOENT, NULL },
};

static void
test_load(void)
{
	gnutls_x509_privkey_t k = NULL;
	struct ca_err err;
	char enc[512], plain[512], path[512], target[512];
	size_t i;

	CU_ASSERT_EQUAL_FATAL(ca_key_generate(&k, CA_KEY_ECDSA_P384, &err), 0);
	snprintf(enc, sizeof(enc), "%s/enc.key", unit_tmp);
	snprintf(plain, sizeof(plain), "%s/plain.key", unit_tmp);
	CU_ASSERT_EQUAL(ca_key_write(enc, k, &good, 1, &err), 0);
	CU_ASSERT_EQUAL(ca_key_write(plain, k, NULL, 1, &err), 0);
	for (i = 0; i < sizeof(load_cases) / sizeof(load_cases[0]); i++) {
		gnutls_x509_privkey_t got = (gnutls_x509_privkey_t)1;
		char *data = NULL;
		int ret;

		snprintf(path, sizeof(path), "%s/load-%zu.key", unit_tmp, i);
		snprintf(target, sizeof(target), "%s/load-%zu.target", unit_tmp, i);
		if (load_cases[i].file != F_NONE) {
			data = unit_read(load_cases[i].file == F_ENC ? enc : plain,
			    NULL);
			if (load_cases[i].file == F_GARBAGE) {
				free(data);
				data = strdup("-----BEGIN PRIVATE KEY-----\nAAAA\n"
				    "-----END PRIVATE KEY-----\n");
			}
			unit_write(load_cases[i].symlink ? target : path, data,
			    load_cases[i].mode);
			if (load_cases[i].symlink)
				CU_ASSERT_EQUAL(symlink(target, path), 0);
			free(data);
		}
		memset(&err, 0, sizeof(err));
		ret = ca_key_load(&got, path, load_cases[i].pass, &err);
		UCHECK(ret == load_cases[i].ret, "%s: ret %d, want %d (%s)",
		    load_cases[i].name, ret, load_cases[i].ret, err.msg);
		if (ret == 0) {
			UCHECK(got != NULL && same_key(k, got), "%s: another key",
			    load_cases[i].name);
			gnutls_x509_privkey_deinit(got);
		} else {
			UCHECK(got == NULL, "%s: *out set on error",
			    load_cases[i].name);
			UCHECK(strstr(err.msg, path) != NULL, "%s: message '%s' does "
			    "not name the file", load_cases[i].name, err.msg);
			if (load_cases[i].msg != NULL)
				UCHECK(strstr(err.msg, load_cases[i].msg) != NULL,
				    "%s: message '%s' lacks '%s'", load_cases[i].name,
				    err.msg, load_cases[i].msg);
		}
	}
	CU_ASSERT_EQUAL(ca_key_file_encrypted(enc, &err), 1);
	CU_ASSERT_EQUAL(ca_key_file_encrypted(plain, &err), 0);
	gnutls_x509_privkey_deinit(k);
}

static void
test_policy(void)
{
	gnutls_x509_privkey_t weak = NULL, ok = NULL;
	gnutls_pubkey_t pub = NULL;
	struct ca_err err;

	/* RSA-1024 can only come from outside libca. */
	CU_ASSERT_EQUAL_FATAL(gnutls_x509_privkey_init(&weak), 0);
	CU_ASSERT_EQUAL(gnutls_x509_privkey_generate(weak, GNUTLS_PK_RSA, 1024,
	    0), 0);
	if ((pub = pub_of(weak)) != NULL) {
		memset(&err, 0, sizeof(err));
		CU_ASSERT_EQUAL(ca_pubkey_check_policy(pub, "CSR 'x'", &err),
		    CA_EPOLICY);
		CU_ASSERT_EQUAL(err.code, CA_EPOLICY);
		CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "1024"));
		CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "CSR 'x'"));
		gnutls_pubkey_deinit(pub);
	} else
		CU_FAIL("no public key for RSA-1024");
	gnutls_x509_privkey_deinit(weak);

	CU_ASSERT_EQUAL_FATAL(ca_key_generate(&ok, CA_KEY_ECDSA_P256, &err), 0);
	if ((pub = pub_of(ok)) != NULL) {
		char fp[65], fp2[65];
		CU_ASSERT_EQUAL(ca_pubkey_check_policy(pub, "p256", &err), 0);
		/* fingerprint: 64 lowercase hex digits, stable */
		CU_ASSERT_EQUAL(ca_pubkey_fingerprint(fp, sizeof(fp), pub), 0);
		CU_ASSERT_EQUAL(strlen(fp), 64);
		CU_ASSERT_EQUAL(strspn(fp, "0123456789abcdef"), 64);
		CU_ASSERT_EQUAL(ca_pubkey_fingerprint(fp2, sizeof(fp2), pub), 0);
		CU_ASSERT_STRING_EQUAL(fp, fp2);
		CU_ASSERT_EQUAL(ca_pubkey_fingerprint(fp2, 64, pub), CA_ECRYPTO);
		gnutls_pubkey_deinit(pub);
	} else
		CU_FAIL("no public key for P-256");
	gnutls_x509_privkey_deinit(ok);
}

static const struct {
	const char *name;
	const char *content; /* NULL: no file */
	mode_t mode;
	int symlink;
	int ret;
	const char *want; /* the secret, or a part of the error message */
} secret_cases[] = {
	{ "newline", "hunter2hunter2\n", 0600, 0, 0, "hunter2hunter2" },
	{ "CRLF", "pass phrase\r\n", 0600, 0, 0, "pass phrase" },
	{ "no newline, 0400", "justthis", 0400, 0, 0, "justthis" },
	{ "first line only", "first\nsecond\n", 0600, 0, 0, "first" },
	{ "inner blanks kept", " a b \n", 0600, 0, 0, " a b " },
	{ "lone CR kept inside", "a\rb\n", 0600, 0, 0, "a\rb" },
	{ "empty", "", 0600, 0, CA_EPASS, "empty" },
	{ "only a newline", "\n", 0600, 0, CA_EPASS, "empty" },
	{ "only CRLF", "\r\n", 0600, 0, CA_EPASS, "empty" },
	{ "mode 0644", "pass\n", 0644, 0, CA_EPERM, "0600" },
	{ "mode 0640", "pass\n", 0640, 0, CA_EPERM, "0600" },
	{ "mode 0660", "pass\n", 0660, 0, CA_EPERM, "0600" },
	{ "symlink", "pass\n", 0600, 1, CA_EPERM, "symlink" },
	{ "missing", NULL, 0600, 0, CA_ENOENT, NULL },
};

static void
test_secret_file(void)
{
	char path[512], target[512];
	size_t i;

	for (i = 0; i < sizeof(secret_cases) / sizeof(secret_cases[0]); i++) {
		struct ca_secret s;
		struct ca_err err;
		int ret;

		snprintf(path, sizeof(path), "%s/pass-%zu", unit_tmp, i);
		snprintf(target, sizeof(target), "%s/pass-%zu.target", unit_tmp, i);
		if (secret_cases[i].content != NULL) {
			unit_write(secret_cases[i].symlink ? target : path,
			    secret_cases[i].content, secret_cases[i].mode);
			if (secret_cases[i].symlink)
				CU_ASSERT_EQUAL(symlink(target, path), 0);
		}
		memset(&err, 0, sizeof(err));
		ret = ca_secret_from_file(&s, path, &err);
		UCHECK(ret == secret_cases[i].ret, "%s: ret %d, want %d (%s)",
		    secret_cases[i].name, ret, secret_cases[i].ret, err.msg);
		if (ret == 0) {
			const char *want = secret_cases[i].ret == 0 ?
			    secret_cases[i].want : "(an error)";
			UCHECK(s.buf != NULL && strcmp(s.buf, want) == 0 &&
			    s.len == strlen(want), "%s: got '%s' (%zu)",
			    secret_cases[i].name, s.buf ? s.buf : "", s.len);
			ca_secret_wipe(&s);
			UCHECK(s.buf == NULL && s.len == 0, "%s: wipe",
			    secret_cases[i].name);
		} else {
			UCHECK(s.buf == NULL, "%s: buffer kept on error",
			    secret_cases[i].name);
			UCHECK(strstr(err.msg, path) != NULL, "%s: message '%s' "
			    "does not name the file", secret_cases[i].name, err.msg);
			if (secret_cases[i].want != NULL)
				UCHECK(strstr(err.msg, secret_cases[i].want) != NULL,
				    "%s: message '%s' lacks '%s'", secret_cases[i].name,
				    err.msg, secret_cases[i].want);
		}
	}
}

static void
test_secret_long(void)
{
	struct ca_secret s;
	struct ca_err err;
	char path[512], *big;

	if ((big = malloc(2001)) == NULL)
		return;
	memset(big, 'x', 2000);
	big[2000] = '\0';
	snprintf(path, sizeof(path), "%s/pass-long", unit_tmp);
	unit_write(path, big, 0600);
	CU_ASSERT_EQUAL(ca_secret_from_file(&s, path, &err), CA_EINVAL);
	CU_ASSERT_PTR_NULL(s.buf);
	/* 1023 characters still fit */
	big[1023] = '\0';
	unit_write(path, big, 0600);
	CU_ASSERT_EQUAL(ca_secret_from_file(&s, path, &err), 0);
	CU_ASSERT_EQUAL(s.len, 1023);
	/* The whole allocation is known, so the whole of it is wiped. */
	CU_ASSERT(s.cap > s.len);
	ca_secret_wipe(&s);
	CU_ASSERT(s.buf == NULL && s.len == 0 && s.cap == 0);
	free(big);
	memset(&s, 0, sizeof(s));
	ca_secret_wipe(&s); /* zeroed struct */
	ca_secret_wipe(NULL);
	/* A hand-made secret in read-only memory: not written, not freed. */
	s.buf = (char *)"a constant passphrase";
	s.len = 21;
	s.cap = 0;
	ca_secret_wipe(&s);
	CU_ASSERT(s.buf == NULL && s.len == 0);
}

static void
test_secret_fd(void)
{
	struct ca_secret s;
	struct ca_err err;
	int p[2];
	static const char in[] = "s3cret pass\r\nsecond line\n";

	CU_ASSERT_EQUAL_FATAL(pipe(p), 0);
	CU_ASSERT_EQUAL(write(p[1], in, sizeof(in) - 1), (ssize_t)sizeof(in) - 1);
	close(p[1]);
	CU_ASSERT_EQUAL(ca_secret_from_fd(&s, p[0], &err), 0);
	CU_ASSERT(s.buf != NULL && strcmp(s.buf, "s3cret pass") == 0);
	CU_ASSERT_EQUAL(s.len, 11);
	ca_secret_wipe(&s);
	/* Not closed, and read no further than the first line. */
	CU_ASSERT_NOT_EQUAL(fcntl(p[0], F_GETFD), -1);
	CU_ASSERT_EQUAL(ca_secret_from_fd(&s, p[0], &err), 0);
	CU_ASSERT(s.buf != NULL && strcmp(s.buf, "second line") == 0);
	ca_secret_wipe(&s);
	/* then end of input: empty */
	memset(&err, 0, sizeof(err));
	CU_ASSERT_EQUAL(ca_secret_from_fd(&s, p[0], &err), CA_EPASS);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "fd"));
	CU_ASSERT_PTR_NULL(s.buf);
	close(p[0]);
	/* a closed descriptor */
	CU_ASSERT_EQUAL(ca_secret_from_fd(&s, p[0], &err), CA_EIO);
}

static void
test_secret_check_new(void)
{
	static const struct {
		const char *s;
		int ret;
	} cases[] = {
		{ "", CA_EPASS },
		{ "short", CA_EPASS },
		{ "elevenchars", CA_EPASS },
		{ "twelve chars", 0 },
		{ "correct horse battery staple", 0 },
	};
	struct ca_err err;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char buf[64];
		struct ca_secret s;
		snprintf(buf, sizeof(buf), "%s", cases[i].s);
		s.buf = buf;
		s.len = strlen(buf);
		UCHECK(ca_secret_check_new(&s, &err) == cases[i].ret, "'%s'",
		    cases[i].s);
	}
	CU_ASSERT_EQUAL(ca_secret_check_new(NULL, &err), CA_EPASS);
}

void
register_key(void)
{
	CU_pSuite s = CU_add_suite("key", unit_tmp_init, unit_tmp_clean);

	CU_add_test(s, "generate every algorithm", test_generate);
	CU_add_test(s, "export PKCS#8 encrypted and plain", test_export);
	CU_add_test(s, "write: excl, 0600", test_write);
	CU_add_test(s, "load: passphrase, mode, symlink", test_load);
	CU_add_test(s, "key policy", test_policy);
	CU_add_test(s, "secret from a file", test_secret_file);
	CU_add_test(s, "secret too long", test_secret_long);
	CU_add_test(s, "secret from an fd", test_secret_fd);
	CU_add_test(s, "new passphrase quality", test_secret_check_new);
}
