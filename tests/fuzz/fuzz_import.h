/*
 * What the importers' fuzzers share: the input as a parser's text, and
 * the check of what a parse gave.  Included, not linked, so each fuzzer
 * still builds from its fuzz-sources line alone.
 */
#ifndef SOCKD_FUZZ_IMPORT_H
#define SOCKD_FUZZ_IMPORT_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libconfig.h>

#include "errlist.h"
#include "importer.h"

/* The input as a string (to free), or NULL to skip it: too long, or with
 * a NUL no file of text has. */
static char *
fuzz_import_text(const uint8_t *data, size_t size)
{
	char *text;

	if (size > 65536 || memchr(data, '\0', size) != NULL)
		return NULL;
	text = calloc(1, size + 1);
	if (text == NULL)
		abort();
	memcpy(text, data, size);
	return text;
}

/* Aborts unless a parse that returned rc gave errors, or entries whose
 * sockd.conf text (as inetd_conf and "sockd -I" write it) libconfig
 * reads; then frees l and errs. */
static void
fuzz_import_check(int rc, struct imp_list *l, struct errlist *errs)
{
	config_t cfg;
	char *conf;
	static FILE *null;

	if (null == NULL && (null = fopen("/dev/null", "w")) == NULL)
		abort();
	if (rc == 0) {
		import_names(l);
		import_print(null, "f.conf", l);
		if ((conf = import_config_text(l)) == NULL)
			abort();
		config_init(&cfg);
		if (!config_read_string(&cfg, conf)) {
			fprintf(stderr, "%s\nline %d: %s\n", conf,
			    config_error_line(&cfg), config_error_text(&cfg));
			abort();
		}
		config_destroy(&cfg);
		free(conf);
	} else if (errs->n == 0)
		abort();
	errlist_free(errs);
	imp_list_free(l);
}

#endif
