/*
 * test_issue.c - ca_issue_batch (issue.c) and the database cache it
 * looks names up in (db.c): a batch is issued whole or not at all,
 * every certificate verifies with openssl and certtool, a repeated or
 * taken name refuses the batch before anything is written, and a
 * handle's cache sees what another handle appended.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"

static char *tmp;
static char ica[600];
static time_t N0;

static const char *
in(const char *dir, const char *rel)
{
	static char p[4][800];
	static int k;

	k = (k + 1) % 4;
	snprintf(p[k], sizeof(p[k]), "%s/%s", dir, rel);
	return p[k];
}

/* D/issued/NAME[/FILE] of the intermediate. */
static const char *
ipath(const char *name, const char *file)
{
	static char p[4][900];
	static int k;

	k = (k + 1) % 4;
	snprintf(p[k], sizeof(p[k]), "%s/issued/%s%s%s", ica, name,
	    file != NULL ? "/" : "", file != NULL ? file : "");
	return p[k];
}

/* A root and a server intermediate, as the ceremony makes them. */
static int
suite_init(void)
{
	struct ca_root_init_opts ro = CA_ROOT_INIT_OPTS_INIT;
	struct ca_ica_init_opts io = CA_ICA_INIT_OPTS_INIT;
	struct ca_sign_ica_opts so = CA_SIGN_ICA_OPTS_INIT;
	static char pb[] = "batch test passphrase, throwaway";
	const struct ca_secret pass = { pb, sizeof(pb) - 1 };
	struct ca_issued is;
	struct ca_err err;
	struct ca *root = NULL, *c = NULL;
	char rdir[600], crt[700];
	int ret = -1;

	if ((tmp = unit_tmpdir()) == NULL)
		return -1;
	N0 = time(NULL) / DAY * DAY - DAY;
	snprintf(rdir, sizeof(rdir), "%s/root", tmp);
	snprintf(ica, sizeof(ica), "%s/server", tmp);
	snprintf(crt, sizeof(crt), "%s/server.crt", tmp);
	ro.subject = "CN=Batch Root,O=Tierca Test";
	io.kind = CA_KIND_SERVER;
	io.subject = "CN=Batch Server ICA,O=Tierca Test";
	so.kind = CA_KIND_SERVER;
	if (ca_root_init(rdir, &ro, &pass, N0, &err) != 0 ||
	    ca_ica_init(ica, &io, NULL, &err) != 0 ||
	    ca_open(&root, rdir, CA_OPEN_LOCK, &err) != 0 ||
	    ca_load_key(root, &pass, &err) != 0 ||
	    ca_root_sign_file(&is, root, &so, in(ica, "ca.csr"), crt, N0,
	    &err) != 0)
		goto out;
	ca_issued_clear(&is);
	if (ca_open(&c, ica, CA_OPEN_LOCK, &err) != 0 ||
	    ca_ica_install(c, crt, in(rdir, "ca.crt"), N0, &err) != 0)
		goto out;
	ret = 0;
out:
	if (ret != 0)
		fprintf(stderr, "test_issue: setup: %s\n", err.msg);
	ca_close(c);
	ca_close(root);
	return ret;
}

static int
suite_clean(void)
{
	unit_rmtree(tmp);
	free(tmp);
	tmp = NULL;
	return 0;
}

/* n requests named PREFIX0..; dns PREFIXi.test.internal unless nodns
 * (a server leaf without a SAN fails its lint). */
struct reqs {
	struct ca_issue_opts o[64];
	char names[64][32];
	size_t n;
};

static void
reqs_make(struct reqs *r, const char *prefix, size_t n)
{
	size_t i;

	memset(r, 0, sizeof(*r));
	r->n = n;
	for (i = 0; i < n; i++) {
		struct ca_issue_opts d = CA_ISSUE_OPTS_INIT;
		char dns[64];

		r->o[i] = d;
		snprintf(r->names[i], sizeof(r->names[i]), "%s%zu", prefix, i);
		snprintf(dns, sizeof(dns), "%s.test.internal", r->names[i]);
		r->o[i].name = r->names[i];
		ca_strv_add(&r->o[i].dns, dns);
	}
}

static void
reqs_free(struct reqs *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		ca_strv_free(&r->o[i].dns);
}

static void
issued_clear(struct ca_issued *is, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		ca_issued_clear(&is[i]);
}

/* Checker clean, no leftovers. */
static int
check_clean(void)
{
	struct ca_strv problems = { NULL, 0 }, leftovers = { NULL, 0 };
	struct ca_err err;
	size_t i;
	int ok;

	ok = ca_check(&problems, &leftovers, ica, CA_CHECK_LOCK, N0, &err) ==
	    0 && problems.n == 0 && leftovers.n == 0;
	for (i = 0; i < problems.n; i++)
		fprintf(stderr, "problem: %s\n", problems.v[i]);
	for (i = 0; i < leftovers.n; i++)
		fprintf(stderr, "leftover: %s\n", leftovers.v[i]);
	ca_strv_free(&problems);
	ca_strv_free(&leftovers);
	return ok;
}

/* What a refused batch must not change: the index byte for byte, and
 * the number of files in certs/ and issued/. */
struct snap {
	char *index;
	int certs, issued;
};

static void
snap_take(struct snap *s)
{
	s->index = unit_read(in(ica, "index.txt"), NULL);
	s->certs = unit_dir_count(in(ica, "certs"));
	s->issued = unit_dir_count(in(ica, "issued"));
}

static int
snap_same(struct snap *s)
{
	char *now = unit_read(in(ica, "index.txt"), NULL);
	int same = now != NULL && s->index != NULL &&
	    strcmp(now, s->index) == 0 &&
	    unit_dir_count(in(ica, "certs")) == s->certs &&
	    unit_dir_count(in(ica, "issued")) == s->issued;

	free(now);
	free(s->index);
	s->index = NULL;
	return same;
}

static void
test_batch_issue(void)
{
	struct ca_issued is[40];
	struct reqs r;
	struct ca_db *db = NULL;
	struct ca_err err;
	struct ca *c = NULL;
	char *out = NULL;
	size_t i, j;
	int ret;

	reqs_make(&r, "web", 40);
	CU_ASSERT_FATAL(ca_open(&c, ica, CA_OPEN_LOCK | CA_OPEN_NEED_CERT,
	    &err) == 0);
	CU_ASSERT_FATAL(ca_load_key(c, NULL, &err) == 0);
	ret = ca_issue_batch(is, c, r.o, r.n, N0, &err);
	UCHECK(ret == 0, "batch of 40: %d %s", ret, err.msg);
	ca_close(c);
	if (ret != 0)
		goto out;

	/* The index: 40 lines, distinct serials, each as out[] says. */
	CU_ASSERT_FATAL(ca_db_load(&db, in(ica, "index.txt"), &err) == 0);
	CU_ASSERT(db->n == 40);
	for (i = 0; i < db->n && i < 40; i++) {
		UCHECK(strcmp(db->v[i].name, r.names[i]) == 0 &&
		    ca_db_find_serial(db, is[i].serial) == &db->v[i],
		    "line %zu is '%s' %s", i + 1, db->v[i].name, is[i].serial);
		for (j = 0; j < i; j++)
			UCHECK(strcmp(db->v[i].serial, db->v[j].serial) != 0,
			    "serial of line %zu repeats line %zu", i + 1, j + 1);
		UCHECK(is[i].cert_path != NULL &&
		    unit_mode(is[i].cert_path) == 0644, "%s",
		    is[i].cert_path ? is[i].cert_path : "no cert_path");
		UCHECK(unit_mode(ipath(r.names[i], NULL)) == 0700 &&
		    unit_mode(ipath(r.names[i], "key.pem")) == 0600,
		    "modes of issued/%s", r.names[i]);
	}
	ca_db_free(db);
	UCHECK(check_clean(), "checker after a batch");

	/* Every certificate, judged by openssl and certtool. */
	for (i = 0; i < 40; i += 13) {
		const char *d = ipath(r.names[i], NULL);
		ret = unit_run(&out, "openssl verify -CAfile '%s/root.crt' "
		    "-untrusted '%s/ca.crt' '%s/cert.pem' 2>&1", ica, ica, d);
		UCHECK(ret == 0, "openssl verify %s: %s", r.names[i],
		    out ? out : "");
		free(out);
		ret = unit_run(&out, "certtool --verify --load-ca-certificate "
		    "'%s/root.crt' --infile '%s/fullchain.pem' 2>&1", ica, d);
		UCHECK(ret == 0, "certtool --verify %s: %s", r.names[i],
		    out ? out : "");
		free(out);
		ret = unit_run(&out, "cmp -s '%s/cert.pem' '%s'", d,
		    is[i].cert_path);
		UCHECK(ret == 0, "issued/%s/cert.pem is certs/%s.pem",
		    r.names[i], is[i].serial);
		free(out);
		out = NULL;
	}
	issued_clear(is, 40);
out:
	reqs_free(&r);
}

static void
test_batch_refused(void)
{
	struct ca_issued is[8];
	struct reqs r;
	struct snap s;
	struct ca_err err;
	struct ca *c = NULL;
	int ret;

	CU_ASSERT_FATAL(ca_open(&c, ica, CA_OPEN_LOCK | CA_OPEN_NEED_CERT,
	    &err) == 0);
	CU_ASSERT_FATAL(ca_load_key(c, NULL, &err) == 0);

	/* A name twice in one batch. */
	reqs_make(&r, "dup", 6);
	r.o[4].name = r.names[1];
	snap_take(&s);
	ret = ca_issue_batch(is, c, r.o, r.n, N0, &err);
	UCHECK(ret == CA_EEXIST && strstr(err.msg, "'dup1'") != NULL &&
	    strstr(err.msg, "twice") != NULL, "%d %s", ret, err.msg);
	CU_ASSERT(snap_same(&s));
	reqs_free(&r);

	/* A name that holds a valid certificate (from test_batch_issue). */
	reqs_make(&r, "new", 5);
	r.o[3].name = "web7";
	snap_take(&s);
	ret = ca_issue_batch(is, c, r.o, r.n, N0, &err);
	UCHECK(ret == CA_EEXIST && strstr(err.msg, "'web7'") != NULL,
	    "%d %s", ret, err.msg);
	CU_ASSERT(snap_same(&s));
	reqs_free(&r);

	/* A lint failure in the middle: a server leaf without a SAN. */
	reqs_make(&r, "lint", 5);
	ca_strv_free(&r.o[2].dns);
	snap_take(&s);
	ret = ca_issue_batch(is, c, r.o, r.n, N0, &err);
	UCHECK(ret == CA_EPOLICY && strstr(err.msg, "'lint2'") != NULL,
	    "%d %s", ret, err.msg);
	CU_ASSERT(snap_same(&s));
	reqs_free(&r);

	/* A bad name, and days out of range. */
	reqs_make(&r, "bad", 3);
	r.o[1].name = "../x";
	snap_take(&s);
	ret = ca_issue_batch(is, c, r.o, r.n, N0, &err);
	UCHECK(ret == CA_EINVAL, "%d %s", ret, err.msg);
	r.o[1].name = r.names[1];
	r.o[2].days = 0;
	ret = ca_issue_batch(is, c, r.o, r.n, N0, &err);
	UCHECK(ret == CA_EINVAL && strstr(err.msg, "'bad2'") != NULL,
	    "%d %s", ret, err.msg);
	CU_ASSERT(snap_same(&s));

	/* Nothing at all is a batch too. */
	CU_ASSERT(ca_issue_batch(is, c, r.o, 0, N0, &err) == 0);
	reqs_free(&r);
	ca_close(c);
	UCHECK(check_clean(), "checker after the refusals");
}

/* replace: issued/NAME trades places with the new generation; the old
 * certificate stays recorded, the old generation's files go. */
static void
test_batch_replace(void)
{
	struct ca_issued is[3];
	struct ca_db *db = NULL;
	const struct ca_db_entry *e;
	struct reqs r;
	struct ca_err err;
	struct ca *c = NULL;
	gnutls_x509_crt_t crt = NULL;
	char hex[44];
	int ret, before;

	CU_ASSERT_FATAL(ca_open(&c, ica, CA_OPEN_LOCK | CA_OPEN_NEED_CERT,
	    &err) == 0);
	CU_ASSERT_FATAL(ca_load_key(c, NULL, &err) == 0);
	before = unit_dir_count(in(ica, "issued"));
	reqs_make(&r, "web", 3);       /* web0..web2 hold certificates */
	r.o[0].replace = r.o[1].replace = r.o[2].replace = 1;
	ret = ca_issue_batch(is, c, r.o, r.n, N0, &err);
	UCHECK(ret == 0, "%d %s", ret, err.msg);
	ca_close(c);
	CU_ASSERT(unit_dir_count(in(ica, "issued")) == before);
	CU_ASSERT_FATAL(ca_db_load(&db, in(ica, "index.txt"), &err) == 0);
	CU_ASSERT(db->n == 43);
	e = &db->v[db->n - 1];
	CU_ASSERT(strcmp(e->name, "web2") == 0);
	CU_ASSERT(ca_cert_load(&crt, ipath("web2", "cert.pem"), &err) == 0);
	if (crt != NULL) {
		ca_cert_serial_hex(hex, sizeof(hex), crt);
		UCHECK(ret != 0 || strcmp(hex, is[2].serial) == 0,
		    "issued/web2 holds %s, not %s", hex, is[2].serial);
		gnutls_x509_crt_deinit(crt);
	}
	ca_db_free(db);
	if (ret == 0)
		issued_clear(is, 3);
	reqs_free(&r);
	UCHECK(check_clean(), "checker after a replacing batch");
}

/*
 * The cache of one handle against appends by another: a name issued by
 * the other handle is seen as taken (the tail was read), a revocation
 * (the file rewritten) frees it, and the cache matches a fresh load.
 * The handles are opened without the lock: one process cannot hold
 * two flocks on one file, and each call here is alone anyway.
 */
static void
test_batch_cache(void)
{
	struct ca_issued is[4];
	struct ca_strv revoked = { NULL, 0 };
	const struct ca_db_byname *ix;
	struct ca_db *db = NULL, *fresh = NULL;
	struct reqs r;
	struct ca_err err;
	struct ca *a = NULL, *b = NULL;
	size_t i;
	int ret;

	CU_ASSERT_FATAL(ca_open(&a, ica, CA_OPEN_NEED_CERT, &err) == 0);
	CU_ASSERT_FATAL(ca_load_key(a, NULL, &err) == 0);
	CU_ASSERT_FATAL(ca_open(&b, ica, CA_OPEN_NEED_CERT, &err) == 0);
	CU_ASSERT_FATAL(ca_load_key(b, NULL, &err) == 0);

	reqs_make(&r, "ca", 2);                /* ca0, ca1 through a */
	ret = ca_issue_batch(is, a, r.o, 2, N0, &err);
	UCHECK(ret == 0, "%d %s", ret, err.msg);
	if (ret == 0)
		issued_clear(is, 2);
	reqs_free(&r);
	reqs_make(&r, "cb", 2);                /* cb0, cb1 through b */
	ret = ca_issue_batch(is, b, r.o, 2, N0, &err);
	UCHECK(ret == 0, "%d %s", ret, err.msg);
	if (ret == 0)
		issued_clear(is, 2);
	reqs_free(&r);

	reqs_make(&r, "cb", 2);                /* a must see them taken */
	r.o[0].name = "cfresh";
	ret = ca_issue_batch(is, a, r.o, 2, N0, &err);
	UCHECK(ret == CA_EEXIST && strstr(err.msg, "'cb1'") != NULL,
	    "a sees b's cb1: %d %s", ret, err.msg);
	reqs_free(&r);

	/* a's cache is the file: same entries, the name index sorted. */
	CU_ASSERT_FATAL(ca_db_cached(&db, &ix, a, &err) == 0);
	CU_ASSERT_FATAL(ca_db_load(&fresh, in(ica, "index.txt"), &err) == 0);
	CU_ASSERT(db->n == fresh->n && ix->n == fresh->n);
	for (i = 0; i < db->n && i < fresh->n; i++)
		UCHECK(strcmp(db->v[i].serial, fresh->v[i].serial) == 0 &&
		    db->v[i].line == fresh->v[i].line, "entry %zu", i);
	for (i = 1; i < ix->n; i++)
		UCHECK(ca_db_cmp_name_line(&ix->v[i - 1], &ix->v[i]) < 0,
		    "name index order at %zu", i);
	ca_db_free(fresh);

	/* Edited in place by hand (same inode): the last line's subject
	 * changes its last character; a's cache is read again. */
	{
		char *buf = NULL;
		size_t len = 0;
		int fd;

		buf = unit_read(in(ica, "index.txt"), &len);
		CU_ASSERT_FATAL(buf != NULL && len > 2);
		fd = open(in(ica, "index.txt"), O_WRONLY);
		CU_ASSERT_FATAL(fd != -1);
		CU_ASSERT(pwrite(fd, "X", 1, (off_t)len - 2) == 1);
		close(fd);
		free(buf);
		CU_ASSERT_FATAL(ca_db_cached(&db, &ix, a, &err) == 0);
		UCHECK(db->n > 0 && db->v[db->n - 1].subject[strlen(
		    db->v[db->n - 1].subject) - 1] == 'X',
		    "a's cache sees the edit: '%s'",
		    db->n > 0 ? db->v[db->n - 1].subject : "");
		/* Put it back as it was: the checker compares subjects. */
		CU_ASSERT_FATAL(ca_db_load(&fresh, in(ica, "index.txt"), &err)
		    == 0);
		fresh->v[fresh->n - 1].subject[strlen(
		    fresh->v[fresh->n - 1].subject) - 1] = 'l';
		CU_ASSERT(ca_db_save(fresh, &err) == 0);
		ca_db_free(fresh);
	}

	/* Revoked by b (the index is rewritten): a may issue cb1 again. */
	ret = ca_revoke(&revoked, b, "cb1", CA_REASON_SUPERSEDED, N0, &err);
	UCHECK(ret == 0, "revoke: %d %s", ret, err.msg);
	ca_strv_free(&revoked);
	reqs_make(&r, "cb", 2);
	r.o[0].name = "cfresh";
	ret = ca_issue_batch(is, a, r.o, 2, N0, &err);
	UCHECK(ret == 0, "cb1 after its revocation: %d %s", ret, err.msg);
	if (ret == 0)
		issued_clear(is, 2);
	reqs_free(&r);

	/* And single issuances through a handle that has a cache. */
	reqs_make(&r, "cs", 1);
	ret = ca_issue(is, a, &r.o[0], N0, &err);
	UCHECK(ret == 0, "%d %s", ret, err.msg);
	if (ret == 0)
		ca_issued_clear(is);
	ret = ca_issue(is, b, &r.o[0], N0, &err);
	UCHECK(ret == CA_EEXIST, "b sees cs0 taken: %d %s", ret, err.msg);
	reqs_free(&r);
	ca_close(a);
	ca_close(b);
	UCHECK(check_clean(), "checker after the cache test");
}

void
register_issue(void)
{
	CU_pSuite s = CU_add_suite("issue batch", suite_init, suite_clean);

	CU_add_test(s, "a batch: index, serials, files, verify",
	    test_batch_issue);
	CU_add_test(s, "a bad request refuses the batch, nothing written",
	    test_batch_refused);
	CU_add_test(s, "a batch replaces issued names", test_batch_replace);
	CU_add_test(s, "the name cache across handles", test_batch_cache);
}
