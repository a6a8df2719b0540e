/*
 * err.c - struct ca_err: a code and a one-line message.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/base-int.h"

int
ca_err_set(struct ca_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return code;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

int
ca_err_set_gnutls(struct ca_err *err, int ret, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	if (err == NULL)
		return CA_ECRYPTO;
	err->code = CA_ECRYPTO;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	n = strlen(err->msg);
	snprintf(err->msg + n, sizeof(err->msg) - n, ": %s",
	    gnutls_strerror(ret));
	return CA_ECRYPTO;
}

int
ca_err_wrap(struct ca_err *err, const char *fmt, ...)
{
	char inner[sizeof(err->msg)];
	va_list ap;
	size_t n;

	if (err == NULL)
		return CA_EINVAL;
	memcpy(inner, err->msg, sizeof(inner));
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	n = strlen(err->msg);
	snprintf(err->msg + n, sizeof(err->msg) - n, ": %s", inner);
	return err->code;
}
