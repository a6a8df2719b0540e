/*
 * test_deploy.c - libca/deployhdr.c and deploy.c: the deploy-* headers of
 * one file, the validation of a whole set, the plan, placing, the
 * deploy-after commands and the diffs of a dry run (judged by patch(1)).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"

#define KEY_PEM "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMG\n" \
	"-----END PRIVATE KEY-----\n"

/* ---- headers of one file ------------------------------------------------ */

static const struct {
	const char *name;
	const char *text;
	int ret;              /* 1 managed, 0 not, CA_ECONF */
	const char *problem;  /* a substring of the first problem */
	const char *target;
	mode_t mode;
} hdr_cases[] = {
	{ "hash leader", "# deploy-target: /etc/x.conf\nbody\n", 1, NULL,
	  "/etc/x.conf", 0644 },
	{ "slash leader", "// deploy-target: /etc/x.js\n// deploy-mode: 0640\n"
	  "var a;\n", 1, NULL, "/etc/x.js", 0640 },
	{ "semicolon leader", "; deploy-target: /etc/stunnel/a.conf\n"
	  "; deploy-mode: 600\n[a]\n", 1, NULL, "/etc/stunnel/a.conf", 0600 },
	{ "no space after leader", "#deploy-target:/etc/x\n", 1, NULL,
	  "/etc/x", 0644 },
	{ "shebang first", "#!/bin/sh\n# deploy-target: /usr/local/bin/x\n"
	  "# deploy-mode: 0755\necho\n", 1, NULL, "/usr/local/bin/x", 0755 },
	{ "byte order mark", "\xef\xbb\xbf# deploy-target: /etc/bom\n", 1,
	  NULL, "/etc/bom", 0644 },
	{ "CRLF lines", "# deploy-target: /etc/crlf  \r\n# deploy-mode: "
	  "0640\r\nx\r\n", 1, NULL, "/etc/crlf", 0640 },
	{ "slashes collapsed", "# deploy-target: /etc//tierca///x.cfg\n", 1,
	  NULL, "/etc/tierca/x.cfg", 0644 },
	{ "after and owner", "# deploy-target: /etc/a\n# deploy-owner: "
	  "root:root\n# deploy-after: systemctl reload nginx\n", 1, NULL,
	  "/etc/a", 0644 },
	{ "no header", "server {\n}\n", 0, NULL, NULL, 0 },
	{ "empty file", "", 0, NULL, NULL, 0 },
	{ "header after the first real line", "x = 1;\n# deploy-target: "
	  "/etc/x\n", 0, NULL, NULL, 0 },
	{ "blank line ends the block", "# about\n\n# deploy-target: /etc/x\n",
	  0, NULL, NULL, 0 },
	{ "ordinary deploy- comment", "# deploy-ment notes follow\n", 0,
	  NULL, NULL, 0 },
	{ "relative target", "# deploy-target: etc/x\n", CA_ECONF,
	  ":1: deploy-target 'etc/x' is not an absolute path", NULL, 0 },
	{ "dot-dot target", "# x\n# deploy-target: /etc/../shadow\n",
	  CA_ECONF, ":2: deploy-target '/etc/../shadow' has a '..' component",
	  NULL, 0 },
	{ "trailing dot-dot", "# deploy-target: /etc/..\n", CA_ECONF,
	  "'..' component", NULL, 0 },
	{ "dot component", "# deploy-target: /etc/./x\n", CA_ECONF,
	  "has a '.' component", NULL, 0 },
	{ "directory target", "# deploy-target: /etc/x/\n", CA_ECONF,
	  "names a directory", NULL, 0 },
	{ "root target", "# deploy-target: /\n", CA_ECONF, "names a directory",
	  NULL, 0 },
	{ "mode not octal", "# deploy-target: /etc/x\n# deploy-mode: 0999\n",
	  CA_ECONF, ":2: deploy-mode '0999' is not an octal mode", NULL, 0 },
	{ "mode words", "# deploy-target: /etc/x\n# deploy-mode: u=rw\n",
	  CA_ECONF, "is not an octal mode", NULL, 0 },
	{ "mode too long", "# deploy-target: /etc/x\n# deploy-mode: 00644\n",
	  CA_ECONF, "is not an octal mode", NULL, 0 },
	{ "setuid", "# deploy-target: /etc/x\n# deploy-mode: 4755\n",
	  CA_ECONF, "setuid, setgid and sticky bits", NULL, 0 },
	{ "world-writable", "# deploy-target: /etc/x\n# deploy-mode: 0666\n",
	  CA_ECONF, "would let anyone write", NULL, 0 },
	{ "owner with two colons", "# deploy-target: /etc/x\n"
	  "# deploy-owner: a:b:c\n", CA_ECONF, ":2: deploy-owner 'a:b:c'",
	  NULL, 0 },
	{ "owner with a space", "# deploy-target: /etc/x\n"
	  "# deploy-owner: www data\n", CA_ECONF, "deploy-owner 'www data'",
	  NULL, 0 },
	{ "owner with empty group", "# deploy-target: /etc/x\n"
	  "# deploy-owner: www:\n", CA_ECONF, "deploy-owner 'www:'", NULL, 0 },
	{ "unknown key", "# deploy-target: /etc/x\n# deploy-colour: blue\n",
	  CA_ECONF, ":2: unknown header 'deploy-colour'", NULL, 0 },
	{ "unknown key in an unmanaged file", "# deploy-tagret: /etc/x\n",
	  CA_ECONF, ":1: unknown header 'deploy-tagret'", NULL, 0 },
	{ "repeated target", "# deploy-target: /etc/x\n// deploy-target: "
	  "/etc/y\n", CA_ECONF, ":2: 'deploy-target' repeats the one of line 1",
	  NULL, 0 },
	{ "empty value", "# deploy-target: /etc/x\n# deploy-after:   \n",
	  CA_ECONF, ":2: 'deploy-after' has no value", NULL, 0 },
	{ "missing colon", "# deploy-target /etc/x\n", CA_ECONF,
	  ":1: 'deploy-target' needs a ':'", NULL, 0 },
	{ "upper case", "# Deploy-Target: /etc/x\n", CA_ECONF,
	  ":1: write 'deploy-target' in lower case", NULL, 0 },
	{ "control character", "# deploy-target: /etc/x\n# deploy-after: a\tb"
	  "\n", CA_ECONF, ":2: 'deploy-after' has a control character", NULL,
	  0 },
	{ "headers without a target", "; deploy-mode: 0600\n", CA_ECONF,
	  ":1: deploy-* headers without a deploy-target", NULL, 0 },
	{ "deploy-key not yes or no", "# deploy-target: /etc/x\n"
	  "# deploy-key: sure\n", CA_ECONF, ":2: deploy-key 'sure'", NULL, 0 },
	{ "key without deploy-key", "# deploy-target: /etc/ssl/k.pem\n"
	  KEY_PEM, CA_ECONF, ":2: holds a private key: it is deployed only with "
	  "'deploy-key: yes'", NULL, 0 },
	{ "key with deploy-key: no", "# deploy-target: /etc/k\n# deploy-key: "
	  "no\n" KEY_PEM, CA_ECONF, ":3: holds a private key", NULL, 0 },
	{ "key, deploy-key, default 0600", "# deploy-target: /etc/k\n"
	  "# deploy-key: yes\n" KEY_PEM, 1, NULL, "/etc/k", 0600 },
	{ "key, deploy-key, 0400", "# deploy-target: /etc/k\n# deploy-key: "
	  "yes\n# deploy-mode: 0400\n" KEY_PEM, 1, NULL, "/etc/k", 0400 },
	{ "key, deploy-key, 0640", "# deploy-target: /etc/k\n# deploy-key: "
	  "yes\n# deploy-mode: 0640\n" KEY_PEM, CA_ECONF,
	  ":3: holds a private key: mode 0640 refused", NULL, 0 },
	{ "RSA key deep in the file", "# deploy-target: /etc/k\nbundle\n"
	  "-----BEGIN CERTIFICATE-----\nMII\n-----END CERTIFICATE-----\n"
	  "-----BEGIN RSA PRIVATE KEY-----\nMII\n-----END RSA PRIVATE KEY-----\n",
	  CA_ECONF, ":6: holds a private key", NULL, 0 },
	{ "a certificate is no key", "# deploy-target: /etc/ssl/root.pem\n"
	  "-----BEGIN CERTIFICATE-----\nMII\n-----END CERTIFICATE-----\n", 1,
	  NULL, "/etc/ssl/root.pem", 0644 },
};

static void
test_hdr_parse(void)
{
	size_t i;

	for (i = 0; i < sizeof(hdr_cases) / sizeof(hdr_cases[0]); i++) {
		struct ca_deploy_hdr h;
		struct ca_strv pr = { NULL, 0 };
		int ret;

		ret = ca_deploy_hdr_parse(&h, &pr, "f.conf", hdr_cases[i].text,
		    strlen(hdr_cases[i].text));
		UCHECK(ret == hdr_cases[i].ret, "%s: returned %d, want %d (%s)",
		    hdr_cases[i].name, ret, hdr_cases[i].ret,
		    pr.n ? pr.v[0] : "no problem");
		if (hdr_cases[i].problem != NULL)
			UCHECK(pr.n >= 1 && strncmp(pr.v[0], "f.conf:", 7) == 0 &&
			    strstr(pr.v[0], hdr_cases[i].problem) != NULL,
			    "%s: problem '%s', want '%s'", hdr_cases[i].name,
			    pr.n ? pr.v[0] : "", hdr_cases[i].problem);
		else
			UCHECK(pr.n == 0, "%s: unexpected problem '%s'",
			    hdr_cases[i].name, pr.n ? pr.v[0] : "");
		if (hdr_cases[i].target != NULL) {
			UCHECK(h.target != NULL && strcmp(h.target,
			    hdr_cases[i].target) == 0, "%s: target '%s'",
			    hdr_cases[i].name, h.target ? h.target : "(null)");
			UCHECK(h.mode == hdr_cases[i].mode, "%s: mode %04o, want "
			    "%04o", hdr_cases[i].name, (unsigned)h.mode,
			    (unsigned)hdr_cases[i].mode);
		}
		ca_deploy_hdr_free(&h);
		ca_strv_free(&pr);
	}
}

/* Headers beyond the first CA_DEPLOY_HDR_LINES lines are not read. */
static void
test_hdr_lines(void)
{
	struct ca_deploy_hdr h;
	struct ca_strv pr = { NULL, 0 };
	char buf[2048];
	size_t n = 0;
	int i;

	for (i = 1; i < CA_DEPLOY_HDR_LINES; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "# %d\n", i);
	snprintf(buf + n, sizeof(buf) - n, "# deploy-target: /etc/last\n");
	CU_ASSERT_EQUAL(ca_deploy_hdr_parse(&h, &pr, "f", buf, strlen(buf)),
	    1);
	CU_ASSERT(h.target_line == CA_DEPLOY_HDR_LINES);
	ca_deploy_hdr_free(&h);
	snprintf(buf + n, sizeof(buf) - n, "# one more\n# deploy-target: "
	    "/etc/late\n");
	CU_ASSERT_EQUAL(ca_deploy_hdr_parse(&h, &pr, "f", buf, strlen(buf)),
	    0);
	CU_ASSERT_EQUAL(pr.n, 0);
	ca_deploy_hdr_free(&h);
	ca_strv_free(&pr);
}

static const struct {
	const char *text;
	int key;
	size_t line;
} key_cases[] = {
	{ "-----BEGIN PRIVATE KEY-----\n", 1, 1 },
	{ "x\n-----BEGIN ENCRYPTED PRIVATE KEY-----\n", 1, 2 },
	{ "a\nb\n-----BEGIN EC PRIVATE KEY-----\n", 1, 3 },
	{ "-----BEGIN RSA PRIVATE KEY-----", 1, 1 },
	{ "-----BEGIN OPENSSH PRIVATE KEY-----\n", 1, 1 },
	{ "-----BEGIN DSA PRIVATE KEY-----\n", 1, 1 },
	{ "-----BEGIN CERTIFICATE-----\n", 0, 0 },
	{ "-----BEGIN PUBLIC KEY-----\n", 0, 0 },
	{ "-----BEGIN X509 CRL-----\n", 0, 0 },
	{ "PRIVATE KEY in prose\n-----BEGIN CERTIFICATE-----\n", 0, 0 },
	{ "-----BEGIN \n PRIVATE KEY-----\n", 0, 0 },
	{ "", 0, 0 },
};

static void
test_has_key(void)
{
	size_t i, line;

	for (i = 0; i < sizeof(key_cases) / sizeof(key_cases[0]); i++) {
		line = 0;
		UCHECK(ca_deploy_has_key(key_cases[i].text,
		    strlen(key_cases[i].text), &line) == key_cases[i].key,
		    "key case %zu", i);
		if (key_cases[i].key)
			UCHECK(line == key_cases[i].line, "key case %zu: line %zu",
			    i, line);
	}
}

static const struct {
	const char *name, *text;
	size_t len;   /* 0: strlen(text) */
	int found;
	size_t line;
} material_cases[] = {
	{ "a.pem", "x\n-----BEGIN EC PRIVATE KEY-----\n", 0, 1, 2 },
	{ "id", "-----BEGIN OPENSSH PRIVATE KEY-----\n", 0, 1, 1 },
	{ "web.p12", "anything", 0, 1, 1 },
	{ "web.PFX", "anything", 0, 1, 1 },
	/* DER PKCS#12 under another name: SEQUENCE, INTEGER 3, SEQUENCE */
	{ "web.bin", "\x30\x82\x04\x00\x02\x01\x03\x30\x82", 9, 1, 1 },
	{ "web.der", "\x30\x82\x04\x00\x02\x01\x02\x30\x82", 9, 0, 0 },
	{ "secrets.cfg", "smtp_user = \"m\";\nsmtp_password = \"p\";\n", 0, 1,
	    2 },
	{ "s.cfg", "  server_passphrase: \"p\"\n", 0, 1, 1 },
	{ "s.cfg", "# smtp_password = is read from secrets.cfg\n", 0, 0, 0 },
	{ "t.cfg", "name = \"web\";\nsmtp_password_file = \"x\";\n", 0, 0, 0 },
	{ "c.pem", "-----BEGIN CERTIFICATE-----\n", 0, 0, 0 },
	{ "empty", "", 0, 0, 0 },
};

static void
test_secret_material(void)
{
	const char *what;
	size_t i, line, len;

	for (i = 0; i < sizeof(material_cases) / sizeof(material_cases[0]);
	    i++) {
		len = material_cases[i].len ? material_cases[i].len :
		    strlen(material_cases[i].text);
		UCHECK(ca_secret_material(&what, &line, material_cases[i].name,
		    material_cases[i].text, len) == material_cases[i].found,
		    "material case %zu", i);
		if (material_cases[i].found)
			UCHECK(line == material_cases[i].line && what != NULL,
			    "material case %zu: line %zu", i, line);
	}
}

/* ---- diffs, judged by patch(1) ------------------------------------------ */

static char *
lines_of(const char *prefix, int n, int every, const char *alt)
{
	size_t cap = (size_t)n * 32 + 1, len = 0;
	char *s = malloc(cap);
	int i;

	if (s == NULL)
		return NULL;
	s[0] = '\0';
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(s + len, cap - len, "%s %d\n",
		    every && i % every == 0 ? alt : prefix, i);
	return s;
}

static void
check_patch(const char *name, const char *a, const char *b)
{
	char pa[600], pb[600], pd[600], *diff = NULL, *out = NULL;
	struct ca_err err = { 0 };
	int rc;

	UCHECK(ca_deploy_diff_text(&diff, a, strlen(a), b, strlen(b), "old",
	    "new", &err) == 0, "%s: %s", name, err.msg);
	if (diff == NULL)
		return;
	if (strcmp(a, b) == 0) {
		UCHECK(diff[0] == '\0', "%s: a diff of equal texts", name);
		free(diff);
		return;
	}
	UCHECK(strncmp(diff, "--- old\n+++ new\n@@ -", 20) == 0,
	    "%s: diff starts '%.30s'", name, diff);
	snprintf(pa, sizeof(pa), "%s/a", unit_tmp);
	snprintf(pb, sizeof(pb), "%s/b", unit_tmp);
	snprintf(pd, sizeof(pd), "%s/d", unit_tmp);
	unit_write(pa, a, 0644);
	unit_write(pb, b, 0644);
	unit_write(pd, diff, 0644);
	rc = unit_run(&out, "patch -s -o '%s/c' '%s' < '%s' 2>&1 && "
	    "cmp '%s/c' '%s' 2>&1", unit_tmp, pa, pd, unit_tmp, pb);
	UCHECK(rc == 0, "%s: patch(1) does not turn old into new: %s", name,
	    out ? out : "");
	free(out);
	free(diff);
}

static void
test_diff(void)
{
	char *big_a = lines_of("line", 3000, 0, NULL),
	    *big_b = lines_of("line", 3000, 97, "changed"),
	    *huge_a = lines_of("a", 5000, 0, NULL),
	    *huge_b = lines_of("b", 5000, 0, NULL);
	char *diff = NULL;
	struct ca_err err = { 0 };

	check_patch("equal", "a\nb\n", "a\nb\n");
	check_patch("one line changed", "1\n2\n3\n4\n5\n6\n7\n8\n9\n",
	    "1\n2\n3\n4\nfive\n6\n7\n8\n9\n");
	check_patch("two hunks", "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n"
	    "14\n15\n16\n", "one\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n14\n"
	    "15\nsixteen\n");
	check_patch("close changes merge", "1\n2\n3\n4\n5\n6\n7\n8\n",
	    "x\n2\n3\n4\n5\n6\n7\ny\n");
	check_patch("from nothing", "", "new\nfile\n");
	check_patch("to nothing", "old\nfile\n", "");
	check_patch("no newline at the end, new", "a\nb\n", "a\nb");
	check_patch("no newline at the end, old", "a\nb", "a\nb\nc\n");
	check_patch("insert at the top", "b\nc\n", "a\nb\nc\n");
	check_patch("delete in the middle", "a\nb\nc\nd\ne\n", "a\ne\n");
	check_patch("3000 lines, every 97th changed", big_a, big_b);
	/* Too large for the table: the middle is replaced as a whole,
	 * which is still a correct diff. */
	check_patch("5000 lines all different", huge_a, huge_b);
	CU_ASSERT_EQUAL(ca_deploy_diff_text(&diff, "1\n2\n3\n4\n5\n6\n7\n8\n9\n",
	    18, "1\n2\n3\n4\nfive\n6\n7\n8\n9\n", 21, "L", "R", &err), 0);
	CU_ASSERT_STRING_EQUAL(diff, "--- L\n+++ R\n@@ -2,7 +2,7 @@\n 2\n 3\n"
	    " 4\n-5\n+five\n 6\n 7\n 8\n");
	free(diff);
	free(big_a);
	free(big_b);
	free(huge_a);
	free(huge_b);
}

/* ---- a whole set: discovery, validation, plan, placing ----------------- */

struct fx {
	const char *path;     /* under src/ */
	const char *text;
};

/* A fresh tree: DIR/src with the files, DIR/root empty. */
static void
tree(char *dir, size_t len, const char *name, const struct fx *files)
{
	char p[900], *s;
	size_t i;

	snprintf(dir, len, "%s/%s", unit_tmp, name);
	mkdir(dir, 0755);
	snprintf(p, sizeof(p), "%s/src", dir);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/root", dir);
	mkdir(p, 0755);
	for (i = 0; files[i].path != NULL; i++) {
		snprintf(p, sizeof(p), "%s/src/%s", dir, files[i].path);
		/* parent directories of the fixture */
		for (s = strchr(p + strlen(dir) + 5, '/'); s != NULL;
		    s = strchr(s + 1, '/')) {
			*s = '\0';
			mkdir(p, 0755);
			*s = '/';
		}
		unit_write(p, files[i].text, 0644);
	}
}

static int
scan(struct ca_deploy *d, const char *dir, struct ca_err *err)
{
	struct ca_strv src = { NULL, 0 };
	char s[900], r[900];
	int ret;

	snprintf(s, sizeof(s), "%s/src", dir);
	snprintf(r, sizeof(r), "%s/root", dir);
	ca_strv_add(&src, s);
	ret = ca_deploy_scan(d, &src, r, err);
	ca_strv_free(&src);
	return ret;
}

static const struct {
	const char *name;
	struct fx files[4];
	const char *problem;  /* substring of the one problem expected */
} set_cases[] = {
	{ "two files, one target", {
	    { "a.conf", "# deploy-target: /etc/x\n" },
	    { "b.conf", "# deploy-target: /etc//x\n" }, { NULL, NULL } },
	  "b.conf:1: deploy-target '/etc/x' is also the target of " },
	{ "a file where a directory is needed", {
	    { "a.conf", "# deploy-target: /etc/app\n" },
	    { "b.conf", "# deploy-target: /etc/app/b.conf\n" },
	    { NULL, NULL } },
	  "b.conf:1: deploy-target '/etc/app/b.conf' needs '/etc/app' to be a "
	  "directory" },
	{ "unknown user", {
	    { "a.conf", "# deploy-target: /etc/a\n# deploy-owner: "
	      "no-such-user-tierca\n" }, { NULL, NULL } },
	  "a.conf:2: deploy-owner: unknown user 'no-such-user-tierca'" },
	{ "unknown group", {
	    { "a.conf", "# deploy-target: /etc/a\n# deploy-owner: "
	      "root:no-such-group-tierca\n" }, { NULL, NULL } },
	  "a.conf:2: deploy-owner: unknown group 'no-such-group-tierca'" },
	{ "hidden files are not sources", {
	    { ".a.conf.swp", "# deploy-target: relative\n" },
	    { ".git/config", "# deploy-colour: x\n" },
	    { "sub/b.conf", "# deploy-target: /etc/b\n" }, { NULL, NULL } },
	  NULL },
	{ "a bad header deep down", {
	    { "a/b/c/d.conf", "# deploy-target: /etc/d\n# deploy-mode: 0660\n"
	      "# deploy-mode: 0640\n" }, { NULL, NULL } },
	  "a/b/c/d.conf:3: 'deploy-mode' repeats the one of line 2" },
};

static void
test_set(void)
{
	char dir[700];
	size_t i;

	for (i = 0; i < sizeof(set_cases) / sizeof(set_cases[0]); i++) {
		struct ca_deploy d;
		struct ca_err err = { 0 };
		char name[32];
		int ret;

		snprintf(name, sizeof(name), "set%zu", i);
		tree(dir, sizeof(dir), name, set_cases[i].files);
		ret = scan(&d, dir, &err);
		if (set_cases[i].problem == NULL) {
			UCHECK(ret == 0 && d.problems.n == 0, "%s: %d %s",
			    set_cases[i].name, ret, d.problems.n ?
			    d.problems.v[0] : err.msg);
		} else {
			UCHECK(ret == CA_ECONF && d.problems.n == 1 &&
			    strstr(d.problems.v[0], set_cases[i].problem) != NULL,
			    "%s: %d, %zu problems, first '%s'", set_cases[i].name,
			    ret, d.problems.n, d.problems.n ? d.problems.v[0] :
			    err.msg);
			UCHECK(strstr(err.msg, "nothing may be placed") != NULL,
			    "%s: %s", set_cases[i].name, err.msg);
		}
		ca_deploy_free(&d);
	}
}

/* What is on the way to a target, or at it, in the root. */
static void
test_dest_checks(void)
{
	static const struct fx files[] = {
		{ "a.conf", "# deploy-target: /etc/link/a.conf\n" },
		{ "b.conf", "# deploy-target: /etc/file/b.conf\n" },
		{ "c.conf", "# deploy-target: /etc/dir\n" },
		{ NULL, NULL } };
	struct ca_deploy d;
	struct ca_err err = { 0 };
	char dir[700], p[900], t[900];

	tree(dir, sizeof(dir), "dest", files);
	snprintf(p, sizeof(p), "%s/root/etc", dir);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/root/etc/dir", dir);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/root/etc/file", dir);
	unit_write(p, "x", 0644);
	snprintf(p, sizeof(p), "%s/root/etc/link", dir);
	snprintf(t, sizeof(t), "%s/src", dir);
	CU_ASSERT_EQUAL(symlink(t, p), 0);
	CU_ASSERT_EQUAL(scan(&d, dir, &err), CA_ECONF);
	CU_ASSERT_EQUAL(d.problems.n, 3);
	UCHECK(d.problems.n == 3 &&
	    strstr(d.problems.v[0], "a.conf:1: ") != NULL &&
	    strstr(d.problems.v[0], "/root/etc/link' is a symlink") != NULL,
	    "symlink: %s", d.problems.n ? d.problems.v[0] : "");
	UCHECK(d.problems.n == 3 &&
	    strstr(d.problems.v[1], "/root/etc/file' on the way") != NULL &&
	    strstr(d.problems.v[1], "is not a directory") != NULL,
	    "file on the way: %s", d.problems.n > 1 ? d.problems.v[1] : "");
	UCHECK(d.problems.n == 3 &&
	    strstr(d.problems.v[2], "exists and is not a regular file") !=
	    NULL, "directory at the target: %s", d.problems.n > 2 ?
	    d.problems.v[2] : "");
	ca_deploy_free(&d);
	/* nothing was written through the link */
	CU_ASSERT_EQUAL(unit_dir_count(t), 3);
}

/* A source tree with a symlink, a file too large, an explicit file that
 * is not managed, and one file named twice. */
static void
test_sources(void)
{
	static const struct fx files[] = {
		{ "a.conf", "# deploy-target: /etc/a\n" },
		{ "plain.txt", "not managed\n" },
		{ NULL, NULL } };
	struct ca_strv src = { NULL, 0 };
	struct ca_deploy d;
	struct ca_err err = { 0 };
	char dir[700], p[900], r[900], *big;
	size_t n = CA_DEPLOY_MAX_FILE + 10;

	tree(dir, sizeof(dir), "sources", files);
	snprintf(p, sizeof(p), "%s/src/a.conf", dir);
	ca_strv_add(&src, p);
	snprintf(p, sizeof(p), "%s/src", dir);
	ca_strv_add(&src, p);
	snprintf(r, sizeof(r), "%s/root", dir);
	/* one file by two ways: once */
	CU_ASSERT_EQUAL(ca_deploy_scan(&d, &src, r, &err), 0);
	CU_ASSERT_EQUAL(d.n, 1);
	ca_deploy_free(&d);
	/* an explicit file must be managed */
	snprintf(p, sizeof(p), "%s/src/plain.txt", dir);
	ca_strv_add(&src, p);
	CU_ASSERT_EQUAL(ca_deploy_scan(&d, &src, r, &err), CA_ECONF);
	UCHECK(d.problems.n == 1 && strstr(d.problems.v[0],
	    "plain.txt: not a managed file") != NULL, "%s",
	    d.problems.n ? d.problems.v[0] : err.msg);
	ca_deploy_free(&d);
	ca_strv_free(&src);
	/* a symlink and a file too large under a source */
	snprintf(p, sizeof(p), "%s/src/link.conf", dir);
	CU_ASSERT_EQUAL(symlink("a.conf", p), 0);
	if ((big = malloc(n + 1)) != NULL) {
		memset(big, 'x', n);
		big[n] = '\0';
		memcpy(big, "# deploy-target: /etc/big\n", 26);
		snprintf(p, sizeof(p), "%s/src/big.conf", dir);
		unit_write(p, big, 0644);
		free(big);
	}
	CU_ASSERT_EQUAL(scan(&d, dir, &err), CA_ECONF);
	UCHECK(d.problems.n == 2 && strstr(d.problems.v[0],
	    "big.conf:1: too large to deploy") != NULL && strstr(d.problems.v[1],
	    "link.conf: not a regular file (a symlink)") != NULL,
	    "%zu problems: %s / %s", d.problems.n, d.problems.n ?
	    d.problems.v[0] : "", d.problems.n > 1 ? d.problems.v[1] : "");
	ca_deploy_free(&d);
	/* no sources, or a root that is not a directory: errors */
	CU_ASSERT_EQUAL(ca_deploy_scan(&d, &src, r, &err), CA_EINVAL);
	ca_strv_add(&src, dir);
	snprintf(p, sizeof(p), "%s/src/a.conf", dir);
	CU_ASSERT_EQUAL(ca_deploy_scan(&d, &src, p, &err), CA_ENOENT);
	ca_strv_free(&src);
}

static void
stat_of(struct stat *st, const char *dir, const char *rel)
{
	char p[900];

	snprintf(p, sizeof(p), "%s/root%s", dir, rel);
	memset(st, 0, sizeof(*st));
	if (lstat(p, st) != 0)
		st->st_ino = 0;
}

/* Placing, then idempotence: the plan after a run is all unchanged, and
 * a changed mode alone is a change. Directories are 0755 whatever the
 * umask. */
static void
test_apply(void)
{
	static const struct fx files[] = {
		{ "a.conf", "# deploy-target: /etc/app/deep/a.conf\n"
		  "# deploy-after: true\nA\n" },
		{ "b.conf", "; deploy-target: /etc/b.conf\n; deploy-mode: 0640\n"
		  "; deploy-after: true\nB\n" },
		{ "k.pem", "# deploy-target: /etc/ssl/k.pem\n# deploy-key: yes\n"
		  KEY_PEM },
		{ NULL, NULL } };
	struct ca_deploy d;
	struct ca_strv afters;
	struct ca_err err = { 0 };
	struct stat st, st2;
	char dir[700], p[900], *got;
	size_t placed = 0, i;
	mode_t old;

	tree(dir, sizeof(dir), "apply", files);
	old = umask(077);
	CU_ASSERT_EQUAL(scan(&d, dir, &err), 0);
	CU_ASSERT_EQUAL(d.n, 3);
	for (i = 0; i < d.n; i++)
		CU_ASSERT_EQUAL(d.v[i].state, CA_DEPLOY_NEW);
	CU_ASSERT_EQUAL(ca_deploy_afters(&afters, &d, 0), 0);
	CU_ASSERT_EQUAL(afters.n, 1); /* "true", once */
	ca_strv_free(&afters);
	UCHECK(ca_deploy_apply(&d, &placed, &err) == 0, "apply: %s", err.msg);
	CU_ASSERT_EQUAL(placed, 3);
	CU_ASSERT_EQUAL(ca_deploy_afters(&afters, &d, 1), 0);
	CU_ASSERT_EQUAL(afters.n, 1);
	ca_strv_free(&afters);
	ca_deploy_free(&d);
	umask(old);
	snprintf(p, sizeof(p), "%s/root/etc/app/deep/a.conf", dir);
	got = unit_read(p, NULL);
	CU_ASSERT(got != NULL && strcmp(got, files[0].text) == 0);
	free(got);
	CU_ASSERT_EQUAL(unit_mode(p), 0644);
	snprintf(p, sizeof(p), "%s/root/etc/app/deep", dir);
	CU_ASSERT_EQUAL(unit_mode(p), 0755);
	snprintf(p, sizeof(p), "%s/root/etc/b.conf", dir);
	CU_ASSERT_EQUAL(unit_mode(p), 0640);
	snprintf(p, sizeof(p), "%s/root/etc/ssl/k.pem", dir);
	CU_ASSERT_EQUAL(unit_mode(p), 0600);
	snprintf(p, sizeof(p), "%s/root/etc", dir);
	CU_ASSERT_EQUAL(unit_dir_count(p), 3); /* app, b.conf, ssl: no temp */

	/* again: nothing to do, nothing touched */
	stat_of(&st, dir, "/etc/b.conf");
	CU_ASSERT_EQUAL(scan(&d, dir, &err), 0);
	for (i = 0; i < d.n; i++)
		UCHECK(d.v[i].state == CA_DEPLOY_UNCHANGED, "%s is %s",
		    d.v[i].src, ca_deploy_state_name(d.v[i].state));
	CU_ASSERT_EQUAL(ca_deploy_afters(&afters, &d, 0), 0);
	CU_ASSERT_EQUAL(afters.n, 0);
	CU_ASSERT_EQUAL(ca_deploy_apply(&d, &placed, &err), 0);
	CU_ASSERT_EQUAL(placed, 0);
	ca_deploy_free(&d);
	stat_of(&st2, dir, "/etc/b.conf");
	CU_ASSERT(st.st_ino == st2.st_ino && st.st_mtime == st2.st_mtime);

	/* a mode changed by hand is put right */
	snprintf(p, sizeof(p), "%s/root/etc/b.conf", dir);
	chmod(p, 0600);
	CU_ASSERT_EQUAL(scan(&d, dir, &err), 0);
	for (i = 0; i < d.n; i++)
		if (strstr(d.v[i].src, "b.conf") != NULL) {
			CU_ASSERT_EQUAL(d.v[i].state, CA_DEPLOY_CHANGED);
			CU_ASSERT_EQUAL(d.v[i].differs, CA_DEPLOY_DIFF_MODE);
			CU_ASSERT_EQUAL(d.v[i].old_mode, 0600);
		} else
			CU_ASSERT_EQUAL(d.v[i].state, CA_DEPLOY_UNCHANGED);
	CU_ASSERT_EQUAL(ca_deploy_apply(&d, &placed, &err), 0);
	CU_ASSERT_EQUAL(placed, 1);
	ca_deploy_free(&d);
	CU_ASSERT_EQUAL(unit_mode(p), 0640);
}

/* A failure while staging places nothing: the temp files and the
 * directories made for the run go again. */
static void
test_apply_rollback(void)
{
	static const struct fx files[] = {
		{ "a.conf", "# deploy-target: /new/dir/a.conf\n" },
		{ "b.conf", "# deploy-target: /blocked/b.conf\n" },
		{ NULL, NULL } };
	struct ca_deploy d;
	struct ca_err err = { 0 };
	char dir[700], p[900];
	size_t placed = 9;

	tree(dir, sizeof(dir), "rollback", files);
	CU_ASSERT_EQUAL(scan(&d, dir, &err), 0);
	/* between the plan and the placing, a file where a directory is
	 * needed */
	snprintf(p, sizeof(p), "%s/root/blocked", dir);
	unit_write(p, "in the way", 0644);
	CU_ASSERT_NOT_EQUAL(ca_deploy_apply(&d, &placed, &err), 0);
	UCHECK(strstr(err.msg, "/root/blocked") != NULL, "%s", err.msg);
	CU_ASSERT_EQUAL(placed, 0);
	CU_ASSERT_EQUAL(d.v[0].placed, 0);
	ca_deploy_free(&d);
	snprintf(p, sizeof(p), "%s/root", dir);
	CU_ASSERT_EQUAL(unit_dir_count(p), 1); /* "blocked" only */

	/* a symlink planted after the plan is not followed either */
	snprintf(p, sizeof(p), "%s/root/blocked", dir);
	unlink(p);
	CU_ASSERT_EQUAL(scan(&d, dir, &err), 0);
	snprintf(p, sizeof(p), "%s/root/new", dir);
	CU_ASSERT_EQUAL(symlink("/tmp", p), 0);
	CU_ASSERT_EQUAL(ca_deploy_apply(&d, &placed, &err), CA_EPERM);
	UCHECK(strstr(err.msg, "it is a symlink") != NULL, "%s", err.msg);
	CU_ASSERT_EQUAL(placed, 0);
	ca_deploy_free(&d);
	snprintf(p, sizeof(p), "%s/root", dir);
	CU_ASSERT_EQUAL(unit_dir_count(p), 1); /* the link; no "blocked" */
}

/* The run lock: one holder at a time; after a holder died, only our own
 * temp names, and only the empty directories it noted making, go. */
static const struct {
	const char *name;
	int ours;
} tmp_names[] = {
	{ ".tierca-deploy.0123456789ab", 1 },
	{ ".tierca-deploy.ffffffffffff", 1 },
	{ ".tierca-deploy.0123456789AB", 0 },   /* upper case */
	{ ".tierca-deploy.0123456789a", 0 },    /* 11 digits */
	{ ".tierca-deploy.0123456789abc", 0 },  /* 13 */
	{ ".tierca-deploy.g123456789ab", 0 },   /* not hex */
	{ "x.tierca-deploy.0123456789ab", 0 },
	{ ".a.conf.Ab12Cd", 0 },                /* another tool's temp */
};

static void
test_lock(void)
{
	static const struct fx files[] = {
		{ "a.conf", "# deploy-target: /etc/app/a.conf\nA\n" },
		{ NULL, NULL } };
	struct ca_deploy d, d2;
	struct ca_err err = { 0 };
	struct stat st;
	char dir[700], p[900];
	size_t placed = 0, removed = 9, i, want = 0;

	tree(dir, sizeof(dir), "lock", files);
	CU_ASSERT_EQUAL(scan(&d, dir, &err), 0);
	UCHECK(ca_deploy_lock(&d, 0, &removed, &err) == 0, "%s", err.msg);
	CU_ASSERT_EQUAL(removed, 0);
	snprintf(p, sizeof(p), "%s/root%s", dir, CA_DEPLOY_LOCK);
	CU_ASSERT(stat(p, &st) == 0 && st.st_size == 1); /* marked */
	/* a second run is refused while it does not wait */
	CU_ASSERT_EQUAL(scan(&d2, dir, &err), 0);
	CU_ASSERT_EQUAL(ca_deploy_lock(&d2, 0, &removed, &err), CA_ELOCK);
	ca_deploy_free(&d2);
	UCHECK(ca_deploy_apply(&d, &placed, &err) == 0, "%s", err.msg);
	CU_ASSERT_EQUAL(placed, 1);
	CU_ASSERT(stat(p, &st) == 0 && st.st_size > 1); /* its notes */
	ca_deploy_free(&d);
	CU_ASSERT(stat(p, &st) == 0 && st.st_size == 0); /* cleared */

	/* a holder that died: its notes, and what it left */
	for (i = 0; i < sizeof(tmp_names) / sizeof(tmp_names[0]); i++) {
		snprintf(p, sizeof(p), "%s/root/etc/app/%s", dir,
		    tmp_names[i].name);
		unit_write(p, "staged", 0600);
		want += tmp_names[i].ours;
	}
	snprintf(p, sizeof(p), "%s/root/etc/made", dir);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/root/etc/kept", dir);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/root/etc/kept/user.conf", dir);
	unit_write(p, "a user's", 0644);
	snprintf(p, sizeof(p), "%s/root%s", dir, CA_DEPLOY_LOCK);
	unit_write(p, "\nd /etc/made\nd /etc/kept\nd /etc/app\n", 0600);
	CU_ASSERT_EQUAL(scan(&d, dir, &err), 0);
	UCHECK(ca_deploy_lock(&d, 0, &removed, &err) == 0, "%s", err.msg);
	CU_ASSERT_EQUAL(removed, want + 1);
	ca_deploy_free(&d);
	for (i = 0; i < sizeof(tmp_names) / sizeof(tmp_names[0]); i++) {
		snprintf(p, sizeof(p), "%s/root/etc/app/%s", dir,
		    tmp_names[i].name);
		UCHECK(ca_file_exists(p) != tmp_names[i].ours, "%s: %s",
		    tmp_names[i].name, tmp_names[i].ours ? "left" : "removed");
	}
	snprintf(p, sizeof(p), "%s/root/etc/made", dir);
	CU_ASSERT_FALSE(ca_file_exists(p));
	snprintf(p, sizeof(p), "%s/root/etc/kept/user.conf", dir);
	CU_ASSERT_TRUE(ca_file_exists(p));
	snprintf(p, sizeof(p), "%s/root/etc/app/a.conf", dir);
	CU_ASSERT_TRUE(ca_file_exists(p));
}

static void
test_run_after(void)
{
	struct ca_err err = { 0 };

	CU_ASSERT_EQUAL(ca_deploy_run_after("true", "", &err), 0);
	CU_ASSERT_EQUAL(ca_deploy_run_after("exit 3", "", &err), CA_EIO);
	UCHECK(strstr(err.msg, "deploy-after 'exit 3' exited 3") != NULL,
	    "%s", err.msg);
	CU_ASSERT_EQUAL(ca_deploy_run_after("kill -TERM $$", "", &err), CA_EIO);
	UCHECK(strstr(err.msg, "killed by signal 15") != NULL, "%s", err.msg);
	CU_ASSERT_EQUAL(ca_deploy_run_after("test \"$TIERCA_DEPLOY_ROOT\" = "
	    "/stage", "/stage", &err), 0);
	CU_ASSERT_EQUAL(ca_deploy_run_after("test -z \"$TIERCA_DEPLOY_ROOT\"",
	    "", &err), 0);
}

/* A dry run's diff: of text, never of a key or of binary content. */
static void
test_item_diff(void)
{
	static const struct fx files[] = {
		{ "t.conf", "# deploy-target: /etc/t.conf\nnew\n" },
		{ "k.pem", "# deploy-target: /etc/k.pem\n# deploy-key: yes\n"
		  KEY_PEM },
		{ "was-key.conf", "# deploy-target: /etc/was-key\nno key now\n" },
		{ NULL, NULL } };
	struct ca_deploy d;
	struct ca_err err = { 0 };
	char dir[700], p[900], *diff = NULL;
	size_t i;

	tree(dir, sizeof(dir), "diff", files);
	snprintf(p, sizeof(p), "%s/root/etc", dir);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/root/etc/t.conf", dir);
	unit_write(p, "# deploy-target: /etc/t.conf\nold\n", 0644);
	snprintf(p, sizeof(p), "%s/root/etc/k.pem", dir);
	unit_write(p, "# deploy-target: /etc/k.pem\nold\n", 0600);
	snprintf(p, sizeof(p), "%s/root/etc/was-key", dir);
	unit_write(p, KEY_PEM, 0644);
	CU_ASSERT_EQUAL(scan(&d, dir, &err), 0);
	for (i = 0; i < d.n; i++) {
		int ret = ca_deploy_diff(&diff, &d.v[i], &err);
		if (strstr(d.v[i].src, "t.conf") != NULL) {
			CU_ASSERT_EQUAL(ret, 0);
			UCHECK(diff != NULL && strstr(diff, "-old\n+new\n") !=
			    NULL, "%s", diff ? diff : err.msg);
		} else {
			CU_ASSERT_EQUAL(ret, CA_EPERM);
			CU_ASSERT_PTR_NULL(diff);
			CU_ASSERT(strstr(err.msg, "private key") != NULL);
		}
		free(diff);
		diff = NULL;
	}
	ca_deploy_free(&d);
}

void
register_deploy(void)
{
	CU_pSuite s = CU_add_suite("deploy", unit_tmp_init, unit_tmp_clean);

	CU_add_test(s, "headers of one file", test_hdr_parse);
	CU_add_test(s, "only the first lines", test_hdr_lines);
	CU_add_test(s, "private key blocks", test_has_key);
	CU_add_test(s, "key material for the repository guard",
	    test_secret_material);
	CU_add_test(s, "unified diffs", test_diff);
	CU_add_test(s, "a whole set", test_set);
	CU_add_test(s, "what is at the destination", test_dest_checks);
	CU_add_test(s, "sources", test_sources);
	CU_add_test(s, "placing and idempotence", test_apply);
	CU_add_test(s, "a failed placing places nothing", test_apply_rollback);
	CU_add_test(s, "the run lock and a dead run's leftovers", test_lock);
	CU_add_test(s, "deploy-after", test_run_after);
	CU_add_test(s, "diffs of items", test_item_diff);
}
