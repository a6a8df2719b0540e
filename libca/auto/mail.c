/*
 * mail.c - the monitor's alert by SMTP (libcurl), behind struct
 * ca_notifier: RFC 5322 message, STARTTLS or SMTPS with the server's
 * certificate checked against monitor.mail.ca, optional AUTH with the
 * user and password of the secrets file.
 *
 * The SMTP password comes only from the secrets file (0600/0400), is
 * never part of a message, and is wiped once the run is over. libcurl
 * keeps its own copy for the transfer; that copy we cannot wipe.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <curl/curl.h>
#include <libconfig.h>

#include "auto/auto-int.h"

#define SMTP_CONNECT_TIMEOUT 10L
#define SMTP_TIMEOUT 60L

struct mail_ctx {
	char *url;
	int starttls, implicit_tls;
	char *from;
	struct ca_strv to;
	char *ca;
	char *secrets;
	char *user, *password;
	time_t now;
	int curl_up;
};

static void
wipe_str(char **s)
{
	if (*s == NULL)
		return;
	gnutls_memset(*s, 0, strlen(*s));
	free(*s);
	*s = NULL;
}

/* ---- the message ------------------------------------------------------- */

/* An address we put in a header and an SMTP command: no spaces, no
 * angle brackets, no control characters, one '@' with text around it. */
static int
addr_ok(const char *a)
{
	const char *at = strchr(a, '@');
	const unsigned char *p;

	if (at == NULL || at == a || at[1] == '\0' || strchr(at + 1, '@'))
		return 0;
	for (p = (const unsigned char *)a; *p; p++)
		if (*p <= ' ' || *p == 0x7f || *p == '<' || *p == '>' ||
		    *p == ',' || *p == '"' || *p == '(' || *p == ')')
			return 0;
	return 1;
}

static void
b64(struct ca_sbuf *b, const unsigned char *in, size_t n)
{
	static const char t[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char q[4];
	size_t i;

	for (i = 0; i < n; i += 3) {
		unsigned v = (unsigned)in[i] << 16;
		if (i + 1 < n)
			v |= (unsigned)in[i + 1] << 8;
		if (i + 2 < n)
			v |= in[i + 2];
		q[0] = t[(v >> 18) & 63];
		q[1] = t[(v >> 12) & 63];
		q[2] = i + 1 < n ? t[(v >> 6) & 63] : '=';
		q[3] = i + 2 < n ? t[v & 63] : '=';
		ca_sb_put(b, q, 4);
	}
}

/* Subject: plain when it is printable ASCII, else RFC 2047 encoded words
 * of whole UTF-8 characters. Control characters (CR, LF: header
 * injection) become spaces either way. */
static void
put_subject(struct ca_sbuf *b, const char *subject)
{
	unsigned char *s = (unsigned char *)strdup(subject);
	size_t i, n, start, len;
	int ascii = 1;

	if (s == NULL) {
		b->oom = 1;
		return;
	}
	n = strlen((char *)s);
	for (i = 0; i < n; i++) {
		if (s[i] < ' ' || s[i] == 0x7f)
			s[i] = ' ';
		if (s[i] >= 0x80)
			ascii = 0;
	}
	ca_sb_put(b, "Subject: ", 9);
	if (ascii)
		ca_sb_put(b, (char *)s, n);
	else {
		for (start = 0; start < n; start += len) {
			len = n - start < 45 ? n - start : 45;
			/* Do not cut a UTF-8 sequence in two. */
			while (start + len < n &&
			    (s[start + len] & 0xc0) == 0x80 && len > 1)
				len--;
			if (start > 0)
				ca_sb_put(b, "\r\n ", 3);
			ca_sb_put(b, "=?UTF-8?B?", 10);
			b64(b, s + start, len);
			ca_sb_put(b, "?=", 2);
		}
	}
	ca_sb_put(b, "\r\n", 2);
	free(s);
}

int
ca_mail_format(char **out, const char *from, const struct ca_strv *to,
    const char *subject, const char *body, time_t now, struct ca_err *err)
{
	static const char *const wd[] = { "Sun", "Mon", "Tue", "Wed", "Thu",
		"Fri", "Sat" };
	static const char *const mo[] = { "Jan", "Feb", "Mar", "Apr", "May",
		"Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	/* RFC 3834: an automatic message, so no auto-replies come back. */
	static const char mime[] = "MIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: 8bit\r\n"
	    "Auto-Submitted: auto-generated\r\n"
	    "\r\n";
	struct ca_sbuf b = { NULL, 0, 0, 0 };
	unsigned char rnd[16];
	char id[33];
	const char *p, *nl;
	size_t i, col;
	struct tm tm;

	*out = NULL;
	if (!addr_ok(from))
		return ca_err_set(err, CA_EINVAL, "invalid mail sender '%s'",
		    from);
	if (to->n == 0)
		return ca_err_set(err, CA_EINVAL, "no mail recipient");
	for (i = 0; i < to->n; i++)
		if (!addr_ok(to->v[i]))
			return ca_err_set(err, CA_EINVAL, "invalid mail "
			    "recipient '%s'", to->v[i]);
	if (ca_time_to_tm(&tm, now) != 0)
		return ca_err_set(err, CA_EINVAL, "invalid time");
	if (gnutls_rnd(GNUTLS_RND_NONCE, rnd, sizeof(rnd)) < 0)
		return ca_err_set(err, CA_ECRYPTO, "no random bytes for a "
		    "Message-ID");
	ca_hex(id, rnd, sizeof(rnd), 0);
	/* Day and month names fixed: strftime would follow the locale. */
	ca_sb_printf(&b, "Date: %s, %02d %s %04d %02d:%02d:%02d +0000\r\n",
	    wd[tm.tm_wday], tm.tm_mday, mo[tm.tm_mon], tm.tm_year + 1900,
	    tm.tm_hour, tm.tm_min, tm.tm_sec);
	ca_sb_printf(&b, "From: %s\r\n", from);
	ca_sb_put(&b, "To: ", 4);
	for (i = 0, col = 4; i < to->n; i++) {
		size_t l = strlen(to->v[i]);
		if (i > 0) {
			ca_sb_put(&b, ",", 1);
			col++;
			/* Folded, so no line grows past 78 characters. */
			if (col + 1 + l > 78) {
				ca_sb_put(&b, "\r\n", 2);
				col = 0;
			}
			ca_sb_put(&b, " ", 1);
			col++;
		}
		ca_sb_put(&b, to->v[i], l);
		col += l;
	}
	ca_sb_put(&b, "\r\n", 2);
	put_subject(&b, subject);
	ca_sb_printf(&b, "Message-ID: <%s.%lld@%s>\r\n", id, (long long)now,
	    strchr(from, '@') + 1);
	ca_sb_put(&b, mime, sizeof(mime) - 1);
	/* CRLF lines of at most 998 octets (RFC 5322 2.1.1); libcurl
	 * dot-stuffs lines that start with '.'. */
	for (p = body; *p; p = nl + (*nl != '\0')) {
		size_t l;
		if ((nl = strchr(p, '\n')) == NULL)
			nl = p + strlen(p);
		l = (size_t)(nl - p);
		if (l > 0 && p[l - 1] == '\r')
			l--;
		while (l > 998) {
			ca_sb_put(&b, p, 998);
			ca_sb_put(&b, "\r\n", 2);
			p += 998;
			l -= 998;
		}
		ca_sb_put(&b, p, l);
		ca_sb_put(&b, "\r\n", 2);
		if (*nl == '\0')
			break;
	}
	if (b.oom) {
		free(b.p);
		return ca_err_set(err, CA_ENOMEM, "out of memory");
	}
	*out = b.p;
	return 0;
}

/* ---- the secrets file -------------------------------------------------- */

/* smtp_user and smtp_password of a libconfig file that only its owner may
 * read. Other keys (the file holds other secrets too) are not ours. */
static int
load_secrets(struct mail_ctx *c, const char *path, struct ca_err *err)
{
	config_t cfg;
	config_setting_t *u, *pw;
	char *buf = NULL;
	size_t len = 0;
	int ret;

	if ((ret = ca_file_check_private(path, err)) != 0) {
		struct stat st;
		if (ret == CA_EPERM && lstat(path, &st) == 0 &&
		    !S_ISLNK(st.st_mode))
			return ca_err_set(err, CA_EPERM, "secrets file '%s' "
			    "must be mode 0600 or 0400 (it is readable by "
			    "others)", path);
		return ca_err_wrap(err, "secrets file");
	}
	if ((ret = ca_file_read(&buf, &len, path, 64 * 1024, err)) != 0)
		return ret;
	config_init(&cfg);
	if (!config_read_string(&cfg, buf)) {
		/* libconfig's message names the construct, never the value. */
		ret = ca_err_set(err, CA_ECONF, "%s:%d: %s", path,
		    config_error_line(&cfg), config_error_text(&cfg));
		goto out;
	}
	u = config_setting_get_member(config_root_setting(&cfg), "smtp_user");
	pw = config_setting_get_member(config_root_setting(&cfg),
	    "smtp_password");
	if ((u != NULL && config_setting_type(u) != CONFIG_TYPE_STRING) ||
	    (pw != NULL && config_setting_type(pw) != CONFIG_TYPE_STRING)) {
		ret = ca_err_set(err, CA_ECONF, "%s:%u: '%s' must be a string",
		    path, config_setting_source_line(u != NULL &&
		    config_setting_type(u) != CONFIG_TYPE_STRING ? u : pw),
		    u != NULL && config_setting_type(u) != CONFIG_TYPE_STRING ?
		    "smtp_user" : "smtp_password");
		goto out;
	}
	if ((u == NULL) != (pw == NULL)) {
		ret = ca_err_set(err, CA_ECONF, "%s: '%s' without '%s'", path,
		    u != NULL ? "smtp_user" : "smtp_password",
		    u != NULL ? "smtp_password" : "smtp_user");
		goto out;
	}
	if (u != NULL) {
		const char *uv = config_setting_get_string(u);
		const char *pv = config_setting_get_string(pw);
		if (uv == NULL || *uv == '\0' || pv == NULL || *pv == '\0')
			ret = ca_err_set(err, CA_ECONF, "%s: empty smtp_user "
			    "or smtp_password", path);
		else if ((c->user = strdup(uv)) == NULL ||
		    (c->password = strdup(pv)) == NULL)
			ret = ca_err_set(err, CA_ENOMEM, "out of memory");
		else
			ret = 0;
		/* libconfig frees its copy without wiping it: wipe it here,
		 * on the error paths too. */
		if (pv != NULL)
			gnutls_memset((char *)(uintptr_t)pv, 0, strlen(pv));
		if (ret != 0)
			goto out;
	}
	ret = 0;
out:
	config_destroy(&cfg);
	gnutls_memset(buf, 0, len);
	free(buf);
	return ret;
}

/* ---- sending ----------------------------------------------------------- */

struct reader {
	const char *p;
	size_t left;
};

static size_t
read_cb(char *dst, size_t size, size_t nmemb, void *arg)
{
	struct reader *r = arg;
	size_t n = size * nmemb;

	if (n > r->left)
		n = r->left;
	memcpy(dst, r->p, n);
	r->p += n;
	r->left -= n;
	return n;
}

static const char *
hint(CURLcode rc)
{
	switch (rc) {
	case CURLE_LOGIN_DENIED:
		return " (the server refused smtp_user/smtp_password of the "
		    "secrets file)";
	case CURLE_PEER_FAILED_VERIFICATION:
		return " (is monitor.mail.ca the root of the server's "
		    "certificate, and the URL's host in it?)";
	default:
		return "";
	}
}

static int
mail_send(void *arg, const char *subject, const char *body,
    struct ca_err *err)
{
	struct mail_ctx *c = arg;
	struct curl_slist *rcpt = NULL, *n;
	struct reader rd;
	char ebuf[CURL_ERROR_SIZE] = "", *msg = NULL, *a = NULL;
	CURL *h = NULL;
	CURLcode rc;
	size_t i;
	int ret;

	if ((ret = ca_mail_format(&msg, c->from, &c->to, subject, body, c->now,
	    err)) != 0)
		return ret;
	for (i = 0; i < c->to.n; i++) {
		if (asprintf(&a, "<%s>", c->to.v[i]) < 0 ||
		    (n = curl_slist_append(rcpt, a)) == NULL) {
			ret = ca_err_set(err, CA_ENOMEM, "out of memory");
			goto out;
		}
		rcpt = n;
		free(a);
		a = NULL;
	}
	if (asprintf(&a, "<%s>", c->from) < 0) {
		a = NULL;
		ret = ca_err_set(err, CA_ENOMEM, "out of memory");
		goto out;
	}
	if ((h = curl_easy_init()) == NULL) {
		ret = ca_err_set(err, CA_ENOMEM, "cannot start libcurl");
		goto out;
	}
	rd.p = msg;
	rd.left = strlen(msg);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf);
	curl_easy_setopt(h, CURLOPT_URL, c->url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, SMTP_CONNECT_TIMEOUT);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, SMTP_TIMEOUT);
	curl_easy_setopt(h, CURLOPT_MAIL_FROM, a);
	curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(h, CURLOPT_READFUNCTION, read_cb);
	curl_easy_setopt(h, CURLOPT_READDATA, &rd);
	curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
	/* STARTTLS is required, not tried: a server (or a man in the middle)
	 * that does not offer it gets nothing. */
	if (c->starttls || c->implicit_tls)
		curl_easy_setopt(h, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	if (c->ca != NULL) {
		/* Our root and nothing else. */
		curl_easy_setopt(h, CURLOPT_CAINFO, c->ca);
		curl_easy_setopt(h, CURLOPT_CAPATH, NULL);
	}
	if (c->user != NULL) {
		curl_easy_setopt(h, CURLOPT_USERNAME, c->user);
		curl_easy_setopt(h, CURLOPT_PASSWORD, c->password);
	}
	if ((rc = curl_easy_perform(h)) != CURLE_OK) {
		ret = ca_err_set(err, CA_EIO, "cannot send mail via '%s': %s%s",
		    c->url, ebuf[0] ? ebuf : curl_easy_strerror(rc), hint(rc));
		goto out;
	}
	ret = 0;
out:
	if (h != NULL)
		curl_easy_cleanup(h);
	curl_slist_free_all(rcpt);
	free(a);
	free(msg);
	return ret;
}

/* ---- the notifier ------------------------------------------------------ */

static void
ctx_free(struct mail_ctx *c)
{
	if (c == NULL)
		return;
	free(c->url);
	free(c->from);
	ca_strv_free(&c->to);
	free(c->ca);
	free(c->secrets);
	wipe_str(&c->user);
	wipe_str(&c->password);
	if (c->curl_up)
		curl_global_cleanup();
	free(c);
}

void
ca_mail_notifier_free(struct ca_notifier *n)
{
	if (n == NULL)
		return;
	ctx_free(n->ctx);
	memset(n, 0, sizeof(*n));
}

int
ca_mail_notifier(struct ca_notifier *out, const struct ca_conf_mail *m,
    time_t now, struct ca_err *err)
{
	struct mail_ctx *c = NULL;
	const char *auth;
	size_t i;
	int ret;

	memset(out, 0, sizeof(*out));
	if (m->url == NULL || m->from == NULL || m->to.n == 0)
		return ca_err_set(err, CA_ECONF, "mail needs monitor.mail with "
		    "url, from and to in the configuration");
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return ca_err_set(err, CA_ENOMEM, "out of memory");
	if (strncasecmp(m->url, "smtps://", 8) == 0)
		c->implicit_tls = 1;
	else if (strncasecmp(m->url, "smtp://", 7) != 0) {
		ret = ca_err_set(err, CA_ECONF, "monitor.mail.url '%s' must "
		    "start with smtp:// or smtps://", m->url);
		goto fail;
	}
	/* user:password@ would put a secret in the config. */
	auth = m->url + (c->implicit_tls ? 8 : 7);
	if (memchr(auth, '@', strcspn(auth, "/?#")) != NULL) {
		ret = ca_err_set(err, CA_ECONF, "monitor.mail.url must not "
		    "hold a user or password: put smtp_user and smtp_password "
		    "in the secrets file");
		goto fail;
	}
	if (!addr_ok(m->from)) {
		ret = ca_err_set(err, CA_ECONF, "invalid monitor.mail.from "
		    "'%s'", m->from);
		goto fail;
	}
	for (i = 0; i < m->to.n; i++)
		if (!addr_ok(m->to.v[i])) {
			ret = ca_err_set(err, CA_ECONF, "invalid "
			    "monitor.mail.to '%s'", m->to.v[i]);
			goto fail;
		}
	c->starttls = m->starttls;
	c->now = now;
	if ((c->url = strdup(m->url)) == NULL ||
	    (c->from = strdup(m->from)) == NULL ||
	    (m->ca != NULL && (c->ca = strdup(m->ca)) == NULL) ||
	    (m->secrets != NULL && (c->secrets = strdup(m->secrets)) == NULL)) {
		ret = ca_err_set(err, CA_ENOMEM, "out of memory");
		goto fail;
	}
	for (i = 0; i < m->to.n; i++)
		if (ca_strv_add(&c->to, m->to.v[i]) != 0) {
			ret = ca_err_set(err, CA_ENOMEM, "out of memory");
			goto fail;
		}
	if (m->secrets != NULL && (ret = load_secrets(c, m->secrets, err)) != 0)
		goto fail;
	if (c->user != NULL && !c->starttls && !c->implicit_tls) {
		ret = ca_err_set(err, CA_ECONF, "refusing to send the SMTP "
		    "password in clear: set monitor.mail.starttls = true or "
		    "use smtps://");
		goto fail;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		ret = ca_err_set(err, CA_EIO, "cannot start libcurl");
		goto fail;
	}
	c->curl_up = 1;
	out->name = "mail";
	out->send = mail_send;
	out->ctx = c;
	return 0;
fail:
	ctx_free(c);
	return ret;
}
