/*
 * tierca-harness - builds an ephemeral three-tier hierarchy in a fresh
 * directory under $TMPDIR with libca's real issuing paths, checks it in
 * seven categories (chain, crl, deploy, renewal, alerting, deploy-scripts,
 * security), and removes it again -- also when a check fails, the run
 * crashes or it is interrupted. With --pki CONFIG it audits a real
 * installation with the read-only categories instead, changing nothing.
 *
 *   tierca-harness [--only CATEGORY[,...]]... [--json] [--keep]
 *                  [--pki CONFIG]
 *
 * Two processes: this one makes the directory and waits; a worker in a
 * process group of its own does the work (with the alerting category's
 * SMTP listener as a thread) and reports each check over a pipe. Whatever
 * becomes of the worker -- done, failed, crashed, or killed because we
 * were interrupted -- its whole group is killed before the directory is
 * removed, so no hook or listener outlives the run or writes into a
 * directory being removed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "common.h"
#include "tierca/harness.h"

enum { H_ONLY = 512, H_JSON, H_KEEP, H_PKI, H_SMTP_PORT, H_RELOAD_HOOK,
	H_VERSION };

static const struct option longopts[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, H_VERSION },
	{ "only", required_argument, NULL, H_ONLY },
	{ "json", no_argument, NULL, H_JSON },
	{ "keep", no_argument, NULL, H_KEEP },
	{ "pki", required_argument, NULL, H_PKI },
	/* For testing the harness itself; see tierca-harness(1). */
	{ "smtp-port", required_argument, NULL, H_SMTP_PORT },
	{ "reload-hook", required_argument, NULL, H_RELOAD_HOOK },
	{ NULL, 0, NULL, 0 }
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: tierca-harness [--only CATEGORY[,...]]... [--json] [--keep]\n"
	    "       tierca-harness --pki CONFIG [--only CATEGORY[,...]]... "
	    "[--json]\n"
	    "\n"
	    "builds an ephemeral root, server and client intermediate and leaves\n"
	    "in a new directory under $TMPDIR, checks them and removes it all.\n"
	    "categories: chain, crl, deploy, renewal, alerting, deploy-scripts,\n"
	    "security. --pki CONFIG audits that installation instead with the\n"
	    "read-only ones (chain, crl, deploy, deploy-scripts, security).\n"
	    "  --only C   run only these categories (repeatable, or C1,C2)\n"
	    "  --json     one JSON document on stdout\n"
	    "  --keep     keep the directory and print its path\n"
	    "exit: 0 every category passed, 1 one failed, 2 usage error\n"
	    "common: -h/--help, --version\n");
}

/* ---- what the worker reports ------------------------------------------- */

struct check {
	enum ca_hcat cat;
	enum ca_hresult res;
	char *name, *detail;
};

struct report {
	struct check *v;
	size_t n, cap;
	int done[CA_HCAT__MAX];
	char *error;               /* the run could not be made */
	int oom;
};

static char *
xstrdup(struct report *r, const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		r->oom = 1;
	return p;
}

static void
report_add(struct report *r, enum ca_hcat cat, enum ca_hresult res,
    const char *name, const char *detail)
{
	struct check *nv;

	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 64;
		if ((nv = realloc(r->v, cap * sizeof(*nv))) == NULL) {
			r->oom = 1;
			return;
		}
		r->v = nv;
		r->cap = cap;
	}
	r->v[r->n].cat = cat;
	r->v[r->n].res = res;
	r->v[r->n].name = xstrdup(r, name);
	r->v[r->n].detail = xstrdup(r, detail);
	r->n++;
}

static void
report_free(struct report *r)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		free(r->v[i].name);
		free(r->v[i].detail);
	}
	free(r->v);
	free(r->error);
	memset(r, 0, sizeof(*r));
}

/* One line of the worker's protocol: "C\tcat\tres\tname\tdetail",
 * "D\tcat" (a category is complete), "E\tmessage" (the run failed). */
static void
report_line(struct report *r, char *line)
{
	char *f[5], *save = NULL, *p;
	int n = 0;
	long cat, res;

	for (p = strtok_r(line, "\t", &save); p != NULL && n < 5;
	    p = strtok_r(NULL, n == 4 ? "" : "\t", &save))
		f[n++] = p;
	if (n >= 2 && strcmp(f[0], "E") == 0) {
		free(r->error);
		r->error = xstrdup(r, f[1]);
		return;
	}
	if (n < 2 || (cat = strtol(f[1], NULL, 10)) < 0 || cat >= CA_HCAT__MAX)
		return;
	if (strcmp(f[0], "D") == 0)
		r->done[cat] = 1;
	else if (strcmp(f[0], "C") == 0 && n >= 4 &&
	    (res = strtol(f[2], NULL, 10)) >= 0 && res < CA_HRESULT__MAX)
		report_add(r, (enum ca_hcat)cat, (enum ca_hresult)res, f[3],
		    n == 5 ? f[4] : "");
}

/* ---- the worker's end of the pipe --------------------------------------- */

static int result_fd = -1;

static void
write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, buf, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		buf += w;
		len -= (size_t)w;
	}
}

/* Tabs and line ends would break the protocol's lines. */
static void
put_field(char *out, size_t len, const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i + 1 < len; i++)
		out[i] = s[i] == '\t' || s[i] == '\n' || s[i] == '\r' ? ' ' : s[i];
	out[i] = '\0';
}

static void
sink_check(void *ctx, enum ca_hcat cat, enum ca_hresult res,
    const char *name, const char *detail)
{
	char n[512], d[4096], *line = NULL;
	int len;

	(void)ctx;
	put_field(n, sizeof(n), name);
	put_field(d, sizeof(d), detail);
	if ((len = asprintf(&line, "C\t%d\t%d\t%s\t%s\n", (int)cat, (int)res, n,
	    d)) < 0)
		return;
	write_all(result_fd, line, (size_t)len);
	free(line);
}

static void
sink_done(void *ctx, enum ca_hcat cat)
{
	char line[32];
	int len;

	(void)ctx;
	len = snprintf(line, sizeof(line), "D\t%d\n", (int)cat);
	write_all(result_fd, line, (size_t)len);
}

/* ---- the SMTP listener (alerting) -------------------------------------- */

/*
 * A minimal SMTP server (RFC 5321: EHLO/HELO, MAIL, RCPT, DATA, RSET,
 * NOOP, QUIT) on 127.0.0.1, port chosen by the kernel, one session at a
 * time. Each message is saved in the mailbox as libca's ca.h describes.
 * Plain SMTP only: the harness's mail configuration has starttls = false
 * and nothing leaves the loopback.
 */
#define SMTP_LINE 4096
#define SMTP_MAX_MSG (4u * 1024 * 1024)
#define SMTP_MAX_RCPT 64
#define SMTP_TIMEOUT_MS 30000

struct smtpd {
	int lfd;
	int stop[2];
	int port;
	const char *mailbox;
	unsigned seq;
	pthread_t th;
	int running;
};

struct conn {
	int fd, stopfd;
	char buf[SMTP_LINE + 2];
	size_t len;
};

struct growbuf {
	char *p;
	size_t len, cap;
	int bad;
};

static void
gb_put(struct growbuf *b, const char *s, size_t n)
{
	char *np;
	size_t cap;

	if (b->bad)
		return;
	if (b->len + n > SMTP_MAX_MSG) {
		b->bad = 1;
		return;
	}
	if (b->len + n + 1 > b->cap) {
		cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n + 1)
			cap *= 2;
		if ((np = realloc(b->p, cap)) == NULL) {
			b->bad = 1;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
reply(struct conn *c, const char *s)
{
	size_t len = strlen(s);

	while (len > 0) {
		ssize_t w = send(c->fd, s, len, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		s += w;
		len -= (size_t)w;
	}
}

/* The next line without its CRLF (a bare LF is taken too): its length,
 * or -1 at the end of the session (closed, timed out, stopped, or a line
 * longer than SMTP allows). */
static int
conn_line(struct conn *c, char *out, size_t max)
{
	for (;;) {
		char *nl = memchr(c->buf, '\n', c->len);
		struct pollfd pf[2];
		ssize_t r;
		if (nl != NULL) {
			size_t n = (size_t)(nl - c->buf), take = n;
			if (take > 0 && c->buf[take - 1] == '\r')
				take--;
			if (take >= max)
				return -1;
			memcpy(out, c->buf, take);
			out[take] = '\0';
			memmove(c->buf, nl + 1, c->len - n - 1);
			c->len -= n + 1;
			return (int)take;
		}
		if (c->len >= SMTP_LINE)
			return -1;
		pf[0].fd = c->fd;
		pf[0].events = POLLIN;
		pf[1].fd = c->stopfd;
		pf[1].events = POLLIN;
		if (poll(pf, 2, SMTP_TIMEOUT_MS) <= 0 || pf[1].revents)
			return -1;
		r = recv(c->fd, c->buf + c->len, SMTP_LINE - c->len, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		c->len += (size_t)r;
	}
}

/* "MAIL FROM:<a@b> SIZE=1" -> "<a@b>"; NULL when it has no path. */
static const char *
path_arg(char *line, const char *verb)
{
	size_t n = strlen(verb);
	char *p, *end;

	if (strncasecmp(line, verb, n) != 0)
		return NULL;
	p = line + n;
	while (*p == ' ')
		p++;
	if (*p != '<' || (end = strchr(p, '>')) == NULL)
		return NULL;
	end[1] = '\0';
	return p;
}

static int
save_message(struct smtpd *s, const char *from, char **rcpt, size_t nrcpt,
    const struct growbuf *data)
{
	struct growbuf b = { NULL, 0, 0, 0 };
	struct ca_err err = { 0 };
	char name[32], hdr[600], *p;
	size_t i;
	int ret;

	snprintf(hdr, sizeof(hdr), "X-Harness-Mail-From: %s\r\n", from);
	gb_put(&b, hdr, strlen(hdr));
	for (i = 0; i < nrcpt; i++) {
		snprintf(hdr, sizeof(hdr), "X-Harness-Rcpt-To: %s\r\n", rcpt[i]);
		gb_put(&b, hdr, strlen(hdr));
	}
	gb_put(&b, data->p ? data->p : "", data->len);
	snprintf(name, sizeof(name), "%u.eml", ++s->seq);
	if (b.bad || (p = ca_path_join(s->mailbox, name)) == NULL) {
		free(b.p);
		return -1;
	}
	ret = ca_file_write_new(p, b.p, b.len, 0600, &err);
	free(p);
	free(b.p);
	return ret;
}

static void
session(struct smtpd *s, int fd)
{
	struct conn c;
	struct growbuf data = { NULL, 0, 0, 0 };
	char line[SMTP_LINE], *from = NULL, *rcpt[SMTP_MAX_RCPT];
	size_t nrcpt = 0, i;
	int greeted = 0, n;
	const char *a;

	memset(&c, 0, sizeof(c));
	c.fd = fd;
	c.stopfd = s->stop[0];
	reply(&c, "220 tierca-harness ESMTP ready\r\n");
	while ((n = conn_line(&c, line, sizeof(line))) >= 0) {
		if (strncasecmp(line, "EHLO ", 5) == 0 ||
		    strcasecmp(line, "EHLO") == 0) {
			greeted = 1;
			reply(&c, "250-tierca-harness\r\n250-8BITMIME\r\n"
			    "250 SIZE 4194304\r\n");
		} else if (strncasecmp(line, "HELO ", 5) == 0) {
			greeted = 1;
			reply(&c, "250 tierca-harness\r\n");
		} else if (strncasecmp(line, "MAIL FROM:", 10) == 0) {
			if (!greeted)
				reply(&c, "503 5.5.1 EHLO or HELO first\r\n");
			else if (from != NULL)
				reply(&c, "503 5.5.1 nested MAIL command\r\n");
			else if ((a = path_arg(line, "MAIL FROM:")) == NULL)
				reply(&c, "501 5.5.4 syntax: MAIL FROM:<address>\r\n");
			else if ((from = strdup(a)) == NULL)
				reply(&c, "452 4.3.1 out of memory\r\n");
			else
				reply(&c, "250 2.1.0 sender ok\r\n");
		} else if (strncasecmp(line, "RCPT TO:", 8) == 0) {
			if (from == NULL)
				reply(&c, "503 5.5.1 MAIL first\r\n");
			else if ((a = path_arg(line, "RCPT TO:")) == NULL ||
			    strcmp(a, "<>") == 0)
				reply(&c, "501 5.5.4 syntax: RCPT TO:<address>\r\n");
			else if (nrcpt == SMTP_MAX_RCPT)
				reply(&c, "452 4.5.3 too many recipients\r\n");
			else if ((rcpt[nrcpt] = strdup(a)) == NULL)
				reply(&c, "452 4.3.1 out of memory\r\n");
			else {
				nrcpt++;
				reply(&c, "250 2.1.5 recipient ok\r\n");
			}
		} else if (strcasecmp(line, "DATA") == 0) {
			if (from == NULL || nrcpt == 0) {
				reply(&c, "503 5.5.1 MAIL and RCPT first\r\n");
				continue;
			}
			reply(&c, "354 end data with <CRLF>.<CRLF>\r\n");
			data.len = 0;
			data.bad = 0;
			while ((n = conn_line(&c, line, sizeof(line))) >= 0 &&
			    strcmp(line, ".") != 0) {
				/* RFC 5321 4.5.2: a leading dot was doubled. */
				const char *l = line[0] == '.' ? line + 1 : line;
				gb_put(&data, l, strlen(l));
				gb_put(&data, "\r\n", 2);
			}
			if (n < 0)
				break;
			if (data.bad)
				reply(&c, "552 5.3.4 message too big\r\n");
			else if (save_message(s, from, rcpt, nrcpt, &data) != 0)
				reply(&c, "451 4.3.0 cannot save the message\r\n");
			else
				reply(&c, "250 2.0.0 saved\r\n");
			free(from);
			from = NULL;
			for (i = 0; i < nrcpt; i++)
				free(rcpt[i]);
			nrcpt = 0;
		} else if (strcasecmp(line, "RSET") == 0) {
			free(from);
			from = NULL;
			for (i = 0; i < nrcpt; i++)
				free(rcpt[i]);
			nrcpt = 0;
			reply(&c, "250 2.0.0 reset\r\n");
		} else if (strncasecmp(line, "NOOP", 4) == 0 &&
		    (line[4] == '\0' || line[4] == ' ')) {
			reply(&c, "250 2.0.0 ok\r\n");
		} else if (strcasecmp(line, "QUIT") == 0) {
			reply(&c, "221 2.0.0 bye\r\n");
			break;
		} else if (strncasecmp(line, "VRFY", 4) == 0) {
			reply(&c, "252 2.1.5 cannot verify\r\n");
		} else
			reply(&c, "502 5.5.2 command not implemented\r\n");
	}
	free(from);
	for (i = 0; i < nrcpt; i++)
		free(rcpt[i]);
	free(data.p);
	close(fd);
}

static void *
smtpd_main(void *arg)
{
	struct smtpd *s = arg;

	for (;;) {
		struct pollfd pf[2];
		int fd;
		pf[0].fd = s->lfd;
		pf[0].events = POLLIN;
		pf[1].fd = s->stop[0];
		pf[1].events = POLLIN;
		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pf[1].revents)
			break;
		if ((fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC)) < 0)
			continue;
		session(s, fd);
	}
	return NULL;
}

static int
smtpd_start(struct smtpd *s, const char *mailbox, char *why, size_t len)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);

	memset(s, 0, sizeof(*s));
	s->lfd = s->stop[0] = s->stop[1] = -1;
	s->mailbox = mailbox;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = 0;
	if ((s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    bind(s->lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(s->lfd, 8) != 0 ||
	    getsockname(s->lfd, (struct sockaddr *)&sa, &sl) != 0 ||
	    pipe2(s->stop, O_CLOEXEC) != 0) {
		snprintf(why, len, "cannot listen on 127.0.0.1: %s",
		    strerror(errno));
		goto fail;
	}
	s->port = ntohs(sa.sin_port);
	if ((errno = pthread_create(&s->th, NULL, smtpd_main, s)) != 0) {
		snprintf(why, len, "cannot start the SMTP listener: %s",
		    strerror(errno));
		goto fail;
	}
	s->running = 1;
	return 0;
fail:
	if (s->lfd >= 0)
		close(s->lfd);
	if (s->stop[0] >= 0) {
		close(s->stop[0]);
		close(s->stop[1]);
	}
	s->lfd = s->stop[0] = s->stop[1] = -1;
	return -1;
}

static void
smtpd_stop(struct smtpd *s)
{
	if (!s->running)
		return;
	write_all(s->stop[1], "x", 1);
	pthread_join(s->th, NULL);
	close(s->lfd);
	close(s->stop[0]);
	close(s->stop[1]);
	s->running = 0;
}

/* ---- the worker -------------------------------------------------------- */

struct opts {
	unsigned cats;
	int json, keep, smtp_port;
	const char *pki, *reload_hook;
};

static int
worker(const struct opts *op, const char *dir, time_t now)
{
	struct ca_harness_opts o = CA_HARNESS_OPTS_INIT;
	struct ca_hsink sink = { sink_check, sink_done, NULL };
	struct ca_err err = { 0 };
	struct smtpd s;
	char *mailbox = NULL, why[1100], *line = NULL;
	int ret = 0, len;

	memset(&s, 0, sizeof(s));
	o.dir = dir;
	o.pki = op->pki;
	o.cats = op->cats;
	o.reload_hook = op->reload_hook;
	if ((mailbox = ca_path_join(dir, "mailbox")) == NULL ||
	    ca_dir_create(mailbox, 0700, 1, &err) != 0) {
		snprintf(why, sizeof(why), "%s", err.msg[0] ? err.msg :
		    "out of memory");
		goto fail;
	}
	o.mailbox = mailbox;
	/* The listener runs only for the alerting category, and not when a
	 * port was given: then the alert goes there (testing). */
	if (op->smtp_port > 0)
		o.smtp_port = op->smtp_port;
	else if (op->pki == NULL && (op->cats & CA_HCAT_BIT(CA_HCAT_ALERTING))) {
		if (smtpd_start(&s, mailbox, why, sizeof(why)) != 0)
			goto fail;
		o.smtp_port = s.port;
	}
	if (ca_harness_run(&o, &sink, now, &err) != 0) {
		snprintf(why, sizeof(why), "%s", err.msg);
		goto fail;
	}
	goto out;
fail:
	put_field(why, sizeof(why), why);
	if ((len = asprintf(&line, "E\t%s\n", why)) >= 0)
		write_all(result_fd, line, (size_t)len);
	free(line);
	ret = 1;
out:
	smtpd_stop(&s);
	free(mailbox);
	return ret;
}

/* ---- the parent: signals, the directory, the report -------------------- */

static volatile sig_atomic_t got_signal, got_child;

static void
on_signal(int sig)
{
	if (sig == SIGCHLD)
		got_child = 1;
	else if (got_signal == 0)
		got_signal = sig;
}

/* Removes a tree without following a symlink; directories we cannot
 * read are opened up first (they are ours). */
static int
rm_at(int dfd, const char *name)
{
	struct stat st;
	struct dirent *de;
	DIR *d;
	int fd, ret = 0;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(dfd, name, 0) == 0 || errno == ENOENT ? 0 : -1;
	if ((st.st_mode & 0700) != 0700 && fchmodat(dfd, name, 0700, 0) != 0)
		return -1;
	if ((fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) < 0)
		return -1;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (rm_at(dirfd(d), de->d_name) != 0)
			ret = -1;
	}
	closedir(d);
	if (unlinkat(dfd, name, AT_REMOVEDIR) != 0 && errno != ENOENT)
		ret = -1;
	return ret;
}

static int
rm_tree(const char *path)
{
	return rm_at(AT_FDCWD, path);
}

static void
json_res(const char *key, const char *s, int comma)
{
	printf("%s\"%s\":", comma ? "," : "", key);
	if (s == NULL)
		fputs("null", stdout);
	else
		json_str(stdout, s);
}

static enum ca_hresult
category_result(const struct report *r, enum ca_hcat c, size_t *np,
    size_t *nf, size_t *ns)
{
	size_t i;

	*np = *nf = *ns = 0;
	for (i = 0; i < r->n; i++) {
		if (r->v[i].cat != c)
			continue;
		if (r->v[i].res == CA_HPASS)
			(*np)++;
		else if (r->v[i].res == CA_HFAIL)
			(*nf)++;
		else
			(*ns)++;
	}
	if (*nf > 0 || !r->done[c])
		return CA_HFAIL;
	return *np > 0 ? CA_HPASS : CA_HSKIP;
}

static int
print_report(const struct report *r, const struct opts *op, const char *dir,
    double secs, const char *stopped)
{
	size_t i, np, nf, ns, total = 0, nfailed = 0, ncats = 0;
	enum ca_hresult cr;
	char failed[256] = "";
	int c;

	for (c = 0; c < CA_HCAT__MAX; c++) {
		if (!(op->cats & CA_HCAT_BIT(c)))
			continue;
		ncats++;
		if (category_result(r, (enum ca_hcat)c, &np, &nf, &ns) ==
		    CA_HFAIL) {
			nfailed++;
			snprintf(failed + strlen(failed), sizeof(failed) -
			    strlen(failed), "%s%s", failed[0] ? ", " : "",
			    ca_hcat_name((enum ca_hcat)c));
		}
		total += np + nf + ns;
	}
	if (op->json) {
		printf("{\"result\":\"%s\",\"mode\":\"%s\"", nfailed ? "FAIL" :
		    "PASS", op->pki ? "pki" : "ephemeral");
		json_res("config", op->pki, 1);
		json_res("dir", op->keep ? dir : NULL, 1);
		printf(",\"seconds\":%.2f", secs);
		json_res("error", r->error, 1);
		json_res("interrupted", stopped, 1);
		printf(",\"categories\":[");
		for (c = 0, ncats = 0; c < CA_HCAT__MAX; c++) {
			if (!(op->cats & CA_HCAT_BIT(c)))
				continue;
			cr = category_result(r, (enum ca_hcat)c, &np, &nf, &ns);
			printf("%s{\"name\":\"%s\",\"result\":\"%s\",\"passed\":%zu,"
			    "\"failed\":%zu,\"skipped\":%zu,\"completed\":%s,"
			    "\"checks\":[", ncats++ ? "," : "",
			    ca_hcat_name((enum ca_hcat)c), ca_hresult_name(cr), np,
			    nf, ns, r->done[c] ? "true" : "false");
			for (i = 0, np = 0; i < r->n; i++) {
				if (r->v[i].cat != (enum ca_hcat)c)
					continue;
				printf("%s{\"name\":", np++ ? "," : "");
				json_str(stdout, r->v[i].name);
				printf(",\"result\":\"%s\",\"detail\":",
				    ca_hresult_name(r->v[i].res));
				json_str(stdout, r->v[i].detail);
				printf("}");
			}
			printf("]}");
		}
		printf("]}\n");
		return nfailed ? 1 : 0;
	}
	for (c = 0; c < CA_HCAT__MAX; c++) {
		if (!(op->cats & CA_HCAT_BIT(c)))
			continue;
		printf("== %s\n", ca_hcat_name((enum ca_hcat)c));
		for (i = 0; i < r->n; i++)
			if (r->v[i].cat == (enum ca_hcat)c)
				printf("  %s  %s%s%s\n", ca_hresult_name(r->v[i].res),
				    r->v[i].name, r->v[i].detail[0] ? ": " : "",
				    r->v[i].detail);
		cr = category_result(r, (enum ca_hcat)c, &np, &nf, &ns);
		printf("%s %s: %zu passed, %zu failed, %zu skipped\n\n",
		    ca_hresult_name(cr), ca_hcat_name((enum ca_hcat)c), np, nf,
		    ns);
	}
	if (nfailed)
		printf("tierca-harness: FAIL: %zu of %zu categories failed (%s); "
		    "%zu checks, %.1fs\n", nfailed, ncats, failed, total, secs);
	else
		printf("tierca-harness: PASS: %zu of %zu categories passed; %zu "
		    "checks, %.1fs\n", ncats, ncats, total, secs);
	if (op->keep)
		printf("kept %s\n", dir);
	return nfailed ? 1 : 0;
}

/* Adds the reason to every selected category the worker did not finish. */
static void
unfinished(struct report *r, unsigned cats, const char *why)
{
	int c;

	for (c = 0; c < CA_HCAT__MAX; c++)
		if ((cats & CA_HCAT_BIT(c)) && !r->done[c])
			report_add(r, (enum ca_hcat)c, CA_HFAIL, "not completed",
			    why);
}

static double
elapsed(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) +
	    (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Reads what is there; 1 at end of file. */
static int
pump(int fd, struct growbuf *acc, struct report *r, int relay)
{
	char buf[8192];
	ssize_t n = read(fd, buf, sizeof(buf));

	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : 1;
	if (n == 0)
		return 1;
	if (relay) {
		write_all(2, buf, (size_t)n);
		return 0;
	}
	gb_put(acc, buf, (size_t)n);
	for (;;) {
		char *nl = acc->p != NULL ? memchr(acc->p, '\n', acc->len) : NULL;
		size_t k;
		if (nl == NULL)
			break;
		*nl = '\0';
		report_line(r, acc->p);
		k = (size_t)(nl - acc->p) + 1;
		memmove(acc->p, nl + 1, acc->len - k);
		acc->len -= k;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	struct opts op = { 0, 0, 0, 0, NULL, NULL };
	struct report rep;
	struct growbuf acc = { NULL, 0, 0, 0 };
	struct ca_err err = { 0 };
	struct sigaction sa;
	struct timespec t0, deadline = { 0, 0 };
	sigset_t block, waitmask;
	char *dir = NULL, stopped[64] = "", why[256] = "";
	const char *tmp;
	int resp[2] = { -1, -1 }, errp[2] = { -1, -1 }, opt, status = 0;
	int res_eof = 0, err_eof = 0, exited = 0, forwarded = 0, killed = 0;
	int worker_bad = 0;
	size_t i;
	pid_t pid;
	time_t now;

	progname = "tierca-harness";
	memset(&rep, 0, sizeof(rep));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'h':
			usage(stdout);
			return finish(0);
		case H_VERSION:
			printf("tierca-harness %s\n", TIERCA_VERSION);
			return finish(0);
		case H_ONLY: {
			char *s = strdup(optarg), *p, *save = NULL;
			if (s == NULL) {
				msg_err("out of memory");
				return 1;
			}
			for (p = strtok_r(s, ",", &save); p != NULL;
			    p = strtok_r(NULL, ",", &save)) {
				enum ca_hcat c;
				if (ca_hcat_parse(&c, p) != 0) {
					msg_err("unknown category '%s' (chain, crl, "
					    "deploy, renewal, alerting, deploy-scripts, "
					    "security)", p);
					free(s);
					return 2;
				}
				op.cats |= CA_HCAT_BIT(c);
			}
			free(s);
			break;
		}
		case H_JSON: op.json = 1; break;
		case H_KEEP: op.keep = 1; break;
		case H_PKI: op.pki = optarg; break;
		case H_SMTP_PORT: {
			char *end;
			long v = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end || v < 1 || v > 65535) {
				msg_err("invalid --smtp-port '%s'", optarg);
				return 2;
			}
			op.smtp_port = (int)v;
			break;
		}
		case H_RELOAD_HOOK: op.reload_hook = optarg; break;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		msg_err("unexpected argument '%s' (try tierca-harness --help)",
		    argv[optind]);
		return 2;
	}
	if (op.pki != NULL) {
		struct ca_conf conf;
		if (op.cats & ~CA_HCAT_READ_ONLY) {
			msg_err("--pki runs only the read-only categories (chain, "
			    "crl, deploy, deploy-scripts, security): renewal and "
			    "alerting would change the installation");
			return 2;
		}
		if (op.smtp_port || op.reload_hook) {
			msg_err("--smtp-port and --reload-hook are for the ephemeral "
			    "hierarchy, not --pki");
			return 2;
		}
		if (op.cats == 0)
			op.cats = CA_HCAT_READ_ONLY;
		/* Say what is wrong with the configuration before anything. */
		if (ca_conf_load(&conf, op.pki, &err) != 0)
			return fail(&err);
		ca_conf_free(&conf);
	} else if (op.cats == 0)
		op.cats = CA_HCAT_ALL;
	if (ca_clock_now(&now, &err) != 0)
		return fail(&err);

	/* Signals are caught from here on, and held except while we wait:
	 * whatever arrives, the directory is removed before we go. */
	sigemptyset(&block);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(&block, sigs[i]);
	sigaddset(&block, SIGCHLD);
	sigprocmask(SIG_BLOCK, &block, &waitmask);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigdelset(&waitmask, sigs[i]);
	sigdelset(&waitmask, SIGCHLD);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	tmp = getenv("TMPDIR");
	if (tmp == NULL || *tmp == '\0')
		tmp = "/tmp";
	if (asprintf(&dir, "%s/tierca-harness.XXXXXX", tmp) < 0) {
		msg_err("out of memory");
		return 1;
	}
	if (mkdtemp(dir) == NULL) {
		msg_err("cannot make a directory in '%s': %s", tmp,
		    strerror(errno));
		free(dir);
		return 1;
	}
	if (pipe2(resp, O_CLOEXEC) != 0 || pipe2(errp, O_CLOEXEC) != 0) {
		msg_err("cannot make a pipe: %s", strerror(errno));
		status = 1;
		goto cleanup;
	}
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) < 0) {
		msg_err("cannot fork: %s", strerror(errno));
		status = 1;
		goto cleanup;
	}
	if (pid == 0) {
		pid_t parent = getppid();
		int devnull;
		/* A group of its own: we kill it as a whole, hooks included.
		 * It dies with us should we be killed outright. */
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = SIG_DFL;
		for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
			sigaction(sigs[i], &sa, NULL);
		sigaction(SIGCHLD, &sa, NULL);
		sigprocmask(SIG_UNBLOCK, &block, NULL);
		/* No terminal: hooks read nothing, and everything printed
		 * reaches the parent, which relays it. */
		if ((devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0) {
			dup2(devnull, 0);
			close(devnull);
		}
		dup2(errp[1], 1);
		dup2(errp[1], 2);
		close(errp[0]);
		close(errp[1]);
		close(resp[0]);
		result_fd = resp[1];
		/* The worker holds the throwaway CA keys and passphrase. */
		harden_process();
		umask(022);
		status = worker(&op, dir, now);
		close(result_fd);
		free(dir);
		exit(status);
	}
	setpgid(pid, pid);
	close(resp[1]);
	close(errp[1]);
	resp[1] = errp[1] = -1;
	fcntl(resp[0], F_SETFL, O_NONBLOCK);
	fcntl(errp[0], F_SETFL, O_NONBLOCK);

	/* Wait for the worker, relaying what it says. */
	for (;;) {
		struct pollfd pf[2];
		struct timespec ts = { 0, 200 * 1000 * 1000 }, nowts;
		siginfo_t si;
		if (got_signal && !forwarded) {
			snprintf(stopped, sizeof(stopped), "%s",
			    strsignal(got_signal));
			kill(-pid, SIGTERM);
			forwarded = 1;
			clock_gettime(CLOCK_MONOTONIC, &deadline);
			deadline.tv_sec += 5;
		}
		clock_gettime(CLOCK_MONOTONIC, &nowts);
		if (forwarded && !killed && nowts.tv_sec >= deadline.tv_sec) {
			kill(-pid, SIGKILL);
			killed = 1;
		}
		memset(&si, 0, sizeof(si));
		if (!exited && waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG |
		    WNOWAIT) == 0 && si.si_pid == pid)
			exited = 1;
		if (exited)
			break;
		pf[0].fd = res_eof ? -1 : resp[0];
		pf[0].events = POLLIN;
		pf[1].fd = err_eof ? -1 : errp[0];
		pf[1].events = POLLIN;
		if (ppoll(pf, 2, &ts, &waitmask) > 0) {
			if (pf[0].revents && !res_eof)
				res_eof = pump(resp[0], &acc, &rep, 0);
			if (pf[1].revents && !err_eof)
				err_eof = pump(errp[0], NULL, NULL, 1);
		}
	}
	/* Its group goes as a whole -- hooks, listeners, anything it left
	 * behind -- while the unreaped worker still holds the group's id. */
	kill(-pid, SIGKILL);
	{
		struct timespec end;
		clock_gettime(CLOCK_MONOTONIC, &end);
		end.tv_sec += 2;
		while (!res_eof || !err_eof) {
			struct pollfd pf[2];
			struct timespec ts = { 0, 100 * 1000 * 1000 }, nowts;
			clock_gettime(CLOCK_MONOTONIC, &nowts);
			if (nowts.tv_sec > end.tv_sec)
				break;
			pf[0].fd = res_eof ? -1 : resp[0];
			pf[0].events = POLLIN;
			pf[1].fd = err_eof ? -1 : errp[0];
			pf[1].events = POLLIN;
			if (ppoll(pf, 2, &ts, &block) > 0) {
				if (pf[0].revents && !res_eof)
					res_eof = pump(resp[0], &acc, &rep, 0);
				if (pf[1].revents && !err_eof)
					err_eof = pump(errp[0], NULL, NULL, 1);
			}
		}
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (stopped[0])
		snprintf(why, sizeof(why), "interrupted (%s)", stopped);
	else if (rep.error != NULL)
		snprintf(why, sizeof(why), "%s", rep.error);
	else if (WIFSIGNALED(status))
		snprintf(why, sizeof(why), "the worker died (%s)",
		    strsignal(WTERMSIG(status)));
	else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		snprintf(why, sizeof(why), "the worker exited %d",
		    WEXITSTATUS(status));
	else
		snprintf(why, sizeof(why), "the worker ended before it");
	unfinished(&rep, op.cats, why);
	/* Every category done, and then a crash or a failure on the way
	 * out (a leak found by a sanitizer, say): not a clean run either. */
	worker_bad = !stopped[0] && rep.error == NULL &&
	    (WIFSIGNALED(status) || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0);
	status = 0;

cleanup:
	if (resp[0] >= 0)
		close(resp[0]);
	if (resp[1] >= 0)
		close(resp[1]);
	if (errp[0] >= 0)
		close(errp[0]);
	if (errp[1] >= 0)
		close(errp[1]);
	free(acc.p);
	if (!op.keep && rm_tree(dir) != 0) {
		msg_err("cannot remove '%s': %s", dir, strerror(errno));
		status = 1;
	}
	if (status == 0) {
		if (rep.error != NULL)
			msg_err("%s", rep.error);
		if (rep.oom)
			msg_err("out of memory: the report is incomplete");
		status = print_report(&rep, &op, dir, elapsed(&t0),
		    stopped[0] ? stopped : NULL);
		if (rep.oom)
			status = 1;
		if (worker_bad) {
			msg_err("the worker ended badly after its checks: %s", why);
			status = 1;
		}
	}
	if (op.keep && stopped[0])
		msg_err("kept '%s'", dir);
	report_free(&rep);
	free(dir);
	status = finish(status);
	if (got_signal) {
		/* Die of the signal, so whoever sent it sees that. */
		int sig = got_signal;
		fflush(stdout);
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = SIG_DFL;
		sigaction(sig, &sa, NULL);
		sigprocmask(SIG_UNBLOCK, &block, NULL);
		raise(sig);
	}
	return status;
}
