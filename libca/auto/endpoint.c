/*
 * endpoint.c - what a live TLS endpoint serves: a GnuTLS handshake with
 * host:port that returns the peer's chain, for tierca-monitor to judge.
 *
 * Nothing is verified during the handshake on purpose: an expired or
 * wrong certificate is exactly what the monitor wants to see and report.
 * Every step is bounded by one deadline, so a peer that accepts and then
 * says nothing cannot hang a cron job.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "auto/auto-int.h"

void
ca_crt_list_free(gnutls_x509_crt_t *v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		if (v[i] != NULL)
			gnutls_x509_crt_deinit(v[i]);
	free(v);
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Splits "host:port" or "[v6]:port". */
static int
split(char *host, size_t hlen, char *port, size_t plen, const char *ep)
{
	const char *c, *h = ep;
	size_t n;
	char *end;
	long v;

	if (ep[0] == '[') {
		if ((c = strchr(ep, ']')) == NULL || c[1] != ':')
			return CA_EINVAL;
		h = ep + 1;
		n = (size_t)(c - h);
		c++;
	} else {
		if ((c = strrchr(ep, ':')) == NULL)
			return CA_EINVAL;
		n = (size_t)(c - ep);
		/* "::1:443" is ambiguous; IPv6 takes brackets. */
		if (memchr(ep, ':', n) != NULL)
			return CA_EINVAL;
	}
	if (n == 0 || n >= hlen || strlen(c + 1) >= plen)
		return CA_EINVAL;
	memcpy(host, h, n);
	host[n] = '\0';
	errno = 0;
	v = strtol(c + 1, &end, 10);
	if (errno || *end || end == c + 1 || v < 1 || v > 65535)
		return CA_EINVAL;
	snprintf(port, plen, "%ld", v);
	return 0;
}

/* Non-blocking connect bounded by the deadline; the socket is left
 * blocking with send/receive timeouts for what remains. */
static int
connect_by(int *out, const struct addrinfo *ai, long long deadline,
    int *eno)
{
	struct pollfd pfd;
	struct timeval tv;
	socklen_t sl = sizeof(int);
	long long left;
	int fd, fl, soerr = 0;

	*out = -1;
	if ((fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
	    ai->ai_protocol)) == -1) {
		*eno = errno;
		return -1;
	}
	fl = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == -1) {
		if (errno != EINPROGRESS) {
			*eno = errno;
			close(fd);
			return -1;
		}
		pfd.fd = fd;
		pfd.events = POLLOUT;
		for (;;) {
			left = deadline - now_ms();
			if (left <= 0) {
				*eno = ETIMEDOUT;
				close(fd);
				return -1;
			}
			if (poll(&pfd, 1, (int)left) >= 0 || errno != EINTR)
				break;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == -1)
			soerr = errno;
		else if (!(pfd.revents & (POLLOUT | POLLERR | POLLHUP)))
			soerr = ETIMEDOUT;
		if (soerr != 0) {
			*eno = soerr;
			close(fd);
			return -1;
		}
	}
	fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	left = deadline - now_ms();
	if (left < 1)
		left = 1;
	tv.tv_sec = (time_t)(left / 1000);
	tv.tv_usec = (suseconds_t)((left % 1000) * 1000);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	*out = fd;
	return 0;
}

static int
is_ip(const char *host)
{
	unsigned char b[16];

	return inet_pton(AF_INET, host, b) == 1 ||
	    inet_pton(AF_INET6, host, b) == 1;
}

int
ca_endpoint_fetch(gnutls_x509_crt_t **out, size_t *nout,
    const char *ep, int timeout_ms, struct ca_err *err)
{
	struct addrinfo hints, *res = NULL, *ai;
	gnutls_certificate_credentials_t cred = NULL;
	gnutls_session_t s = NULL;
	const gnutls_datum_t *peers;
	gnutls_x509_crt_t *v = NULL;
	char host[256], port[8];
	long long deadline = now_ms() + timeout_ms;
	unsigned i, np = 0;
	int fd = -1, ret, eno = 0, g;

	*out = NULL;
	*nout = 0;
	if (split(host, sizeof(host), port, sizeof(port), ep) != 0)
		return ca_err_set(err, CA_EINVAL, "invalid endpoint '%s': want "
		    "host:port or [v6]:port", ep);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((g = getaddrinfo(host, port, &hints, &res)) != 0)
		return ca_err_set(err, CA_ENOENT, "cannot resolve '%s': %s",
		    host, gai_strerror(g));
	/* Every address in turn; the first that accepts is judged. */
	for (ai = res; ai != NULL && fd == -1; ai = ai->ai_next)
		if (connect_by(&fd, ai, deadline, &eno) == 0)
			break;
	if (fd == -1) {
		ret = ca_err_set(err, CA_EIO, "cannot connect to '%s': %s", ep,
		    strerror(eno));
		goto out;
	}
	if ((g = gnutls_certificate_allocate_credentials(&cred)) < 0 ||
	    (g = gnutls_init(&s, GNUTLS_CLIENT | GNUTLS_NO_SIGNAL)) < 0 ||
	    (g = gnutls_set_default_priority(s)) < 0 ||
	    (g = gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred)) < 0) {
		ret = ca_gnutls_err(err, g, "TLS with '%s'", ep);
		goto out;
	}
	/* SNI only for names (RFC 6066 forbids addresses). */
	if (!is_ip(host) && (g = gnutls_server_name_set(s, GNUTLS_NAME_DNS,
	    host, strlen(host))) < 0) {
		ret = ca_gnutls_err(err, g, "TLS with '%s'", ep);
		goto out;
	}
	gnutls_transport_set_int(s, fd);
	gnutls_handshake_set_timeout(s, (unsigned)(deadline - now_ms() > 0 ?
	    deadline - now_ms() : 1));
	do {
		g = gnutls_handshake(s);
	} while (g < 0 && !gnutls_error_is_fatal(g) && now_ms() < deadline);
	if (g < 0) {
		ret = ca_err_set(err, CA_EIO, "TLS handshake with '%s' failed: "
		    "%s", ep, g == GNUTLS_E_AGAIN || g == GNUTLS_E_TIMEDOUT ?
		    "timed out" : gnutls_strerror(g));
		goto out;
	}
	if ((peers = gnutls_certificate_get_peers(s, &np)) == NULL || np == 0) {
		ret = ca_err_set(err, CA_EVERIFY, "'%s' sent no certificate",
		    ep);
		goto out;
	}
	if ((v = calloc(np, sizeof(*v))) == NULL) {
		ret = ca_err_set(err, CA_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < np; i++) {
		if ((g = gnutls_x509_crt_init(&v[i])) < 0 ||
		    (g = gnutls_x509_crt_import(v[i], &peers[i],
		    GNUTLS_X509_FMT_DER)) < 0) {
			ret = ca_gnutls_err(err, g, "'%s' sent a certificate "
			    "that cannot be parsed", ep);
			goto out;
		}
	}
	/* A polite close; its outcome changes nothing. */
	gnutls_bye(s, GNUTLS_SHUT_WR);
	*out = v;
	*nout = np;
	v = NULL;
	ret = 0;
out:
	ca_crt_list_free(v, np);
	if (s != NULL)
		gnutls_deinit(s);
	if (cred != NULL)
		gnutls_certificate_free_credentials(cred);
	if (fd != -1)
		close(fd);
	if (res != NULL)
		freeaddrinfo(res);
	return ret;
}
