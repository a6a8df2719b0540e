/*
 * template.c - the set of certificate templates under a directory.
 * (One template is read by ca_template_load() in conf.c, with the rest
 * of libconfig.)
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auto/auto-int.h"

void
ca_templates_free(struct ca_templates *ts)
{
	size_t i;

	if (ts == NULL)
		return;
	for (i = 0; i < ts->n; i++)
		ca_template_free(&ts->v[i]);
	free(ts->v);
	ts->v = NULL;
	ts->n = 0;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
by_tpl_name(const void *a, const void *b)
{
	const struct ca_template *x = *(const struct ca_template *const *)a;
	const struct ca_template *y = *(const struct ca_template *const *)b;
	int c = strcmp(x->name, y->name);

	/* Ties in file order, so the message names the files as read. */
	return c != 0 ? c : strcmp(x->path, y->path);
}

/* Two files issuing into one name would fight over it. Sorted, the
 * duplicates are neighbours: O(n log n) for a directory of thousands. */
static int
unique_names(const struct ca_templates *ts, struct ca_err *err)
{
	const struct ca_template **v;
	size_t i;
	int ret = 0;

	if (ts->n < 2)
		return 0;
	if ((v = malloc(ts->n * sizeof(*v))) == NULL)
		return ca_err_set(err, CA_ENOMEM, "out of memory");
	for (i = 0; i < ts->n; i++)
		v[i] = &ts->v[i];
	qsort(v, ts->n, sizeof(*v), by_tpl_name);
	for (i = 1; i < ts->n; i++)
		if (strcmp(v[i - 1]->name, v[i]->name) == 0) {
			ret = ca_err_set(err, CA_ECONF, "templates '%s' and '%s' "
			    "both have name '%s'", v[i - 1]->path, v[i]->path,
			    v[i]->name);
			break;
		}
	free(v);
	return ret;
}

int
ca_templates_load(struct ca_templates *out, const char *dir,
    struct ca_err *err)
{
	struct ca_strv files = { NULL, 0 };
	struct dirent *de;
	size_t i;
	DIR *d;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	if ((d = opendir(dir)) == NULL)
		return ca_err_set(err, errno == ENOENT ? CA_ENOENT : CA_EIO,
		    "cannot read templates directory '%s': %s", dir,
		    strerror(errno));
	while ((de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);
		if (de->d_name[0] == '.' || n < 5 ||
		    strcmp(de->d_name + n - 4, ".cfg") != 0)
			continue;
		if (ca_strv_add(&files, de->d_name) != 0) {
			closedir(d);
			ca_strv_free(&files);
			return ca_err_set(err, CA_ENOMEM, "out of memory");
		}
	}
	closedir(d);
	if (files.n > 0)
		qsort(files.v, files.n, sizeof(*files.v), by_name);
	if ((out->v = calloc(files.n + 1, sizeof(*out->v))) == NULL) {
		ca_strv_free(&files);
		return ca_err_set(err, CA_ENOMEM, "out of memory");
	}
	for (i = 0; i < files.n; i++) {
		char *p = ca_path_join(dir, files.v[i]);
		if (p == NULL) {
			ret = ca_err_set(err, CA_ENOMEM, "out of memory");
			break;
		}
		ret = ca_template_load(&out->v[out->n], p, err);
		free(p);
		if (ret != 0)
			break;
		out->n++;
	}
	ca_strv_free(&files);
	if (ret == 0)
		ret = unique_names(out, err);
	if (ret != 0)
		ca_templates_free(out);
	return ret;
}
