/*
 * secret.c - passphrases from a 0600 file, an fd or a no-echo tty prompt.
 * Never argv, never the environment; wiped before they are freed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "base/base-int.h"

#define SECRET_MAX 1024

/*
 * Wipes and frees what secret_alloc() made: the whole allocation (cap
 * bytes), not only len, since a refused over-long line or an earlier,
 * longer read may have left bytes beyond len. A secret with cap 0 was
 * put together by hand (a test, a constant): its buffer is not ours to
 * write to or free, so only the struct is reset.
 */
void
ca_secret_wipe(struct ca_secret *s)
{
	if (s == NULL)
		return;
	if (s->buf != NULL && s->cap > 0) {
		gnutls_memset(s->buf, 0, s->cap);
		munlock(s->buf, s->cap);
		free(s->buf);
	}
	s->buf = NULL;
	s->len = 0;
	s->cap = 0;
}

static int
secret_alloc(struct ca_secret *s, struct ca_err *err)
{
	s->len = 0;
	s->cap = 0;
	if ((s->buf = calloc(1, SECRET_MAX)) == NULL)
		return ca_err_set(err, CA_ENOMEM, "out of memory");
	s->cap = SECRET_MAX;
	/* Best effort: keep it out of swap. */
	(void)mlock(s->buf, SECRET_MAX);
	return 0;
}

/* Reads up to the first newline; the rest of the input is ignored. */
static int
read_line_fd(struct ca_secret *s, int fd, const char *what,
    struct ca_err *err)
{
	char c;
	ssize_t r;
	int ret;

	if ((ret = secret_alloc(s, err)) != 0)
		return ret;
	for (;;) {
		r = read(fd, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			ret = ca_err_set(err, CA_EIO, "cannot read passphrase "
			    "from %s: %s", what, strerror(errno));
			goto fail;
		}
		if (r == 0 || c == '\n')
			break;
		if (s->len + 1 >= SECRET_MAX) {
			ret = ca_err_set(err, CA_EINVAL, "passphrase from %s is "
			    "too long", what);
			goto fail;
		}
		s->buf[s->len++] = c;
	}
	if (s->len > 0 && s->buf[s->len - 1] == '\r')
		s->buf[--s->len] = '\0';
	gnutls_memset(&c, 0, sizeof(c));
	if (s->len == 0) {
		ret = ca_err_set(err, CA_EPASS, "empty passphrase from %s", what);
		goto fail;
	}
	return 0;
fail:
	gnutls_memset(&c, 0, sizeof(c)); /* the last character read */
	ca_secret_wipe(s);
	return ret;
}

int
ca_secret_from_file(struct ca_secret *out, const char *path,
    struct ca_err *err)
{
	char what[512];
	int fd, ret;

	memset(out, 0, sizeof(*out));
	if ((ret = ca_file_check_private(path, err)) != 0) {
		struct stat st;
		if (ret == CA_EPERM && lstat(path, &st) == 0 &&
		    !S_ISLNK(st.st_mode))
			return ca_err_set(err, CA_EPERM, "passphrase file '%s' "
			    "must be mode 0600 or 0400 (it is readable by "
			    "others)", path);
		return ret;
	}
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return ca_err_set(err, CA_EIO, "cannot open passphrase file "
		    "'%s': %s", path, strerror(errno));
	snprintf(what, sizeof(what), "'%s'", path);
	ret = read_line_fd(out, fd, what, err);
	close(fd);
	return ret;
}

int
ca_secret_from_fd(struct ca_secret *out, int fd, struct ca_err *err)
{
	char what[32];

	memset(out, 0, sizeof(*out));
	snprintf(what, sizeof(what), "fd %d", fd);
	return read_line_fd(out, fd, what, err);
}

static int
prompt_once(struct ca_secret *s, int fd, const char *prompt,
    struct ca_err *err)
{
	struct termios old, noecho;
	int ret;

	if (tcgetattr(fd, &old) == -1)
		return ca_err_set(err, CA_EIO, "cannot read the terminal: %s",
		    strerror(errno));
	noecho = old;
	noecho.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	noecho.c_lflag |= ICANON;
	if (write(fd, prompt, strlen(prompt)) < 0 ||
	    tcsetattr(fd, TCSAFLUSH, &noecho) == -1)
		return ca_err_set(err, CA_EIO, "cannot prompt on the terminal: "
		    "%s", strerror(errno));
	ret = read_line_fd(s, fd, "the terminal", err);
	tcsetattr(fd, TCSAFLUSH, &old);
	if (write(fd, "\n", 1) < 0) {
		/* the newline is cosmetic */
	}
	return ret;
}

int
ca_secret_from_tty(struct ca_secret *out, const char *prompt, int confirm,
    struct ca_err *err)
{
	struct ca_secret again = { 0 };
	int fd, ret;

	memset(out, 0, sizeof(*out));
	if ((fd = open("/dev/tty", O_RDWR | O_CLOEXEC)) == -1)
		return ca_err_set(err, CA_EPASS, "no terminal to ask for the "
		    "passphrase: use --passphrase-file or --passphrase-fd");
	if ((ret = prompt_once(out, fd, prompt, err)) != 0)
		goto out;
	if (confirm) {
		if ((ret = prompt_once(&again, fd, "Repeat the passphrase: ",
		    err)) != 0) {
			ca_secret_wipe(out);
			goto out;
		}
		if (again.len != out->len ||
		    memcmp(again.buf, out->buf, out->len) != 0) {
			ca_secret_wipe(out);
			ret = ca_err_set(err, CA_EPASS, "the passphrases do not "
			    "match");
		}
		ca_secret_wipe(&again);
	}
out:
	close(fd);
	return ret;
}

int
ca_secret_check_new(const struct ca_secret *s, struct ca_err *err)
{
	/* A CA key passphrase guards a key that lives for years; a short
	 * one falls to an offline guess against the PBKDF2 in PKCS#8. */
	if (s == NULL || s->len < 12)
		return ca_err_set(err, CA_EPASS, "passphrase too short: a CA key "
		    "needs at least 12 characters");
	return 0;
}
