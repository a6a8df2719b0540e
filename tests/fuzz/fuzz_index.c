/* index.txt: one line through the line parser and formatter (a parsed
 * line must format back to a line that parses the same), then the whole
 * input as a database file. */
#include "fuzz.h"

/* An empty name field is written as OpenSSL's "unknown". */
static const char *
name_of(const struct ca_db_entry *e)
{
	return e->name == NULL || e->name[0] == '\0' ? "unknown" : e->name;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ca_db_entry e, e2;
	struct ca_db *db = NULL;
	struct ca_err err = { 0 };
	const char *p;
	char *line, *out;

	if ((line = malloc(size + 1)) == NULL)
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';
	memset(&e, 0, sizeof(e));
	if (memchr(data, '\n', size) == NULL &&
	    ca_db_parse_line(&e, line, &err) == 0) {
		if ((out = ca_db_format_line(&e)) != NULL) {
			size_t n = strlen(out);
			memset(&e2, 0, sizeof(e2));
			if (n == 0 || out[n - 1] != '\n')
				abort();
			out[n - 1] = '\0';
			/* What we write, we must read back. */
			if (ca_db_parse_line(&e2, out, &err) != 0)
				abort();
			if (strcmp(e.serial, e2.serial) != 0 ||
			    e.status != e2.status ||
			    e.not_after != e2.not_after ||
			    e.revoked_at != e2.revoked_at ||
			    e.reason != e2.reason ||
			    strcmp(name_of(&e), name_of(&e2)) != 0 ||
			    strcmp(e.subject ? e.subject : "", e2.subject ?
			    e2.subject : "") != 0)
				abort();
			ca_db_entry_clear(&e2);
			free(out);
		}
		ca_db_entry_clear(&e);
	}
	free(line);
	if ((p = fuzz_file(data, size, "index.txt")) != NULL &&
	    ca_db_load(&db, p, &err) == 0)
		ca_db_free(db);
	return 0;
}
