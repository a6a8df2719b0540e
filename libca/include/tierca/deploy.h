/*
 * tierca/deploy.h - managed files placed by their deploy-* headers.
 *
 * Layer: deploy (docs/architecture.md). Conventions: functions are
 * ca_<module>_<verb>, return 0 or a negative CA_E* code and fill a
 * struct ca_err; they never print or exit.
 */
#ifndef TIERCA_DEPLOY_H
#define TIERCA_DEPLOY_H

#include "tierca/layer.h"

#if defined(TIERCA_LAYER) && TIERCA_LAYER < 6
#error "tierca/deploy.h belongs to the deploy layer: a lower layer may not include it"
#endif

#include "tierca/common.h"

/* ---- deployment of managed files (libca/deployhdr.c, deploy.c) --------- */

/* A managed file declares its destination in comment lines at its top
 * ("# ", "// " or "; " leaders):
 *   deploy-target: /abs/path      required
 *   deploy-owner: user[:group]    default: left as created (root:root)
 *   deploy-mode: 0640             default 0644; 0600 for a private key
 *   deploy-after: command         run once after the file changed
 * A private key is only deployed when its mode is 0600/0400 and its
 * header says "deploy-key: yes" (the accident of seed 003). */
enum ca_deploy_state {
	CA_DEPLOY_NEW,        /* nothing at the destination yet */
	CA_DEPLOY_CHANGED,    /* content, owner or mode differ */
	CA_DEPLOY_UNCHANGED,  /* left alone, not counted */
	CA_DEPLOY__MAX
};

struct ca_deploy_item {
	char *src;            /* the managed file as found */
	char *target;         /* the declared absolute target */
	char *dest;           /* root prefix + target */
	int has_owner;
	uid_t uid;
	gid_t gid;
	mode_t mode;
	char *after;          /* deploy-after, or NULL */
	int is_key;           /* holds a private key */
	enum ca_deploy_state state;   /* set by ca_deploy_scan */
	/* added with tierca-deploy: */
	size_t line;          /* the deploy-target line of src */
	char *owner;          /* the deploy-owner text, or NULL */
	char *data;           /* the content validated; placed byte for byte */
	size_t len;
	unsigned differs;     /* CA_DEPLOY_DIFF_* bits when CHANGED */
	mode_t old_mode;      /* the destination's, when it exists */
	uid_t old_uid;
	gid_t old_gid;
	int placed;           /* set by ca_deploy_apply once renamed in */
};

struct ca_deploy {
	struct ca_deploy_item *v;
	size_t n;
	struct ca_strv problems;      /* every "file:line: what" found */
	char *root;           /* added: the prefix, "" for "/" */
	int locked;           /* ca_deploy_lock holds lock_fd */
	int lock_fd;
};

/* Discovers every managed file under sources (files or directories,
 * recursively), parses and validates every header against root (NULL or
 * "" for "/"), and compares each with its destination. All problems are
 * collected in out->problems; the return is CA_ECONF when there is any,
 * so nothing may be placed. */
int ca_deploy_scan(struct ca_deploy *out, const struct ca_strv *sources,
    const char *root, struct ca_err *err);
void ca_deploy_free(struct ca_deploy *d);

/* ---- deployment: additions for tierca-deploy ---- */

/* What differs at a CHANGED destination (ca_deploy_item.differs). */
#define CA_DEPLOY_DIFF_CONTENT 1u
#define CA_DEPLOY_DIFF_MODE 2u
#define CA_DEPLOY_DIFF_OWNER 4u     /* owner or group */

/* Headers are read from the leading comment block only: at most this
 * many lines, up to the first line that is not a comment. */
#define CA_DEPLOY_HDR_LINES 20
/* A managed file larger than this is refused. */
#define CA_DEPLOY_MAX_FILE (4u * 1024 * 1024)

/* The headers of one file, as written (deployhdr.c). Line numbers are
 * 1-based; 0 when the header is absent. */
struct ca_deploy_hdr {
	char *target;         /* normalised: one '/' between components */
	size_t target_line;
	char *owner;          /* the whole "user[:group]" text */
	char *user, *group;   /* its parts; group may be NULL */
	size_t owner_line;
	int has_mode;         /* deploy-mode given */
	mode_t mode;          /* the mode to place: given, else the default */
	size_t mode_line;
	char *after;
	size_t after_line;
	int key_ok;           /* "deploy-key: yes" */
	size_t key_line;
	int is_key;           /* the content holds a PEM private key block */
	size_t key_block_line; /* the line of its BEGIN */
};

/* Parses and checks the headers of one file (buf, len; file names it in
 * problems). Everything that needs no look at the system is checked
 * here: target absolute without '.' or '..', mode, owner syntax, unknown
 * or repeated deploy-* keys, the private-key rule. Every problem is
 * added to problems as "file:line: what". Returns 1 for a managed file
 * without problems, 0 for a file that is not managed (no deploy-* header
 * at all), CA_ECONF when problems were added, CA_ENOMEM. */
int ca_deploy_hdr_parse(struct ca_deploy_hdr *out, struct ca_strv *problems,
    const char *file, const char *buf, size_t len);
void ca_deploy_hdr_free(struct ca_deploy_hdr *h);
/* 1 when buf holds a PEM block whose label has "PRIVATE KEY" in it
 * (PKCS#8, encrypted PKCS#8, RSA, EC, DSA, OpenSSH, ...); *line (may be
 * NULL) gets the line of its BEGIN. */
int ca_deploy_has_key(const char *buf, size_t len, size_t *line);

const char *ca_deploy_state_name(enum ca_deploy_state s); /* "new" */

/* The run lock of a deploy root: this file under it (--root PREFIX
 * included), made with its directories (0755) when missing. */
#define CA_DEPLOY_LOCK "/var/lib/tierca/deploy.lock"
/* Takes the run lock of d's root (flock; waiting for it when wait, else
 * CA_ELOCK when another run holds it) and marks it (ca_lock_mark). When
 * the mark says the last run died at work, what it left is removed first
 * (*removed counts it): its temp files (regular files named
 * .tierca-deploy.<12 hex digits>, nothing else) in the directories it
 * noted and in those of d's targets, and the directories it noted making,
 * when they are empty; every directory is opened from the root with
 * O_NOFOLLOW. Then each destination is compared again, since another run
 * may have placed it meanwhile: CA_ECONF when that finds a problem (in
 * d->problems). ca_deploy_apply notes in the lock what it makes. */
int ca_deploy_lock(struct ca_deploy *d, int wait, size_t *removed,
    struct ca_err *err);
/* Clears the mark and lets go of the lock (ca_deploy_free does too). */
void ca_deploy_unlock(struct ca_deploy *d);
/* Places every NEW or CHANGED item of a scan that found no problem:
 * missing parent directories are made (0755); each file is staged as a
 * temp file in its target directory (opened component by component from
 * the root with O_NOFOLLOW), gets owner and mode before its first byte,
 * is written and fsynced. Only when all are staged are they renamed in,
 * and the directories fsynced. A failure while staging places nothing;
 * after any failure the temp files are removed, and so is every
 * directory made for the run that is still empty. *placed counts the
 * files renamed in, and each such item gets placed = 1. Under the lock
 * (ca_deploy_lock), each directory about to be made and each directory
 * about to get temp files is noted in it first. */
int ca_deploy_apply(struct ca_deploy *d, size_t *placed, struct ca_err *err);
/* The distinct deploy-after commands, in the order of their first file:
 * of the items placed (placed_only), or of those NEW or CHANGED. */
int ca_deploy_afters(struct ca_strv *out, const struct ca_deploy *d,
    int placed_only);
/* Runs cmd with /bin/sh -c; its standard output goes to our standard
 * error. TIERCA_DEPLOY_ROOT is set to root when it is not "". 0 when it
 * exits 0; else CA_EIO with how it ended. */
/* What private key material buf (the content of the file name) holds:
 * a PEM block whose label has "PRIVATE KEY" in it (PKCS#8, encrypted
 * PKCS#8, RSA, EC, DSA, OpenSSH), a PKCS#12 file (by its .p12/.pfx name
 * or its DER start: SEQUENCE, INTEGER 3, SEQUENCE), or a secrets file
 * (a smtp_password or *passphrase setting). Returns 1 and sets *what
 * (static text) and *line (1-based; 1 for binary), else 0. */
int ca_secret_material(const char **what, size_t *line, const char *name,
    const char *buf, size_t len);
/* The repository guard: every regular file under paths (files, or
 * directories walked without following symlinks, .git left out) that
 * holds private key material must be protected by git-crypt, as
 * `git check-attr filter` tells for it. Each one that is not adds
 * "file:line: what" to problems; *nfiles counts the files read and
 * *nfound those with material (protected or not). Returns 0, or
 * CA_ECONF when problems were added, or CA_ENOMEM. */
int ca_deploy_check_secrets(struct ca_strv *problems, size_t *nfiles,
    size_t *nfound, const struct ca_strv *paths, struct ca_err *err);
int ca_deploy_run_after(const char *cmd, const char *root,
    struct ca_err *err);
/* A unified diff (3 lines of context) from what is at it->dest to
 * it->data; "" when the content is the same. CA_EPERM when either side
 * holds a private key, CA_EINVAL when either is binary (a NUL byte) or
 * the destination is too large: nothing of it may be shown. */
int ca_deploy_diff(char **out, const struct ca_deploy_item *it,
    struct ca_err *err);
/* The same on two buffers, labelled on the ---/+++ lines. */
int ca_deploy_diff_text(char **out, const char *a, size_t alen,
    const char *b, size_t blen, const char *alabel, const char *blabel,
    struct ca_err *err);

#endif
