/*
 * Fuzzes the xinetd parser: any bytes as an xinetd configuration must give
 * entries or errors, never a crash, a leak or a hang; and whatever
 * entries come out, the sockd.conf text they become (as "sockd -I"
 * writes it) must be what libconfig reads, since an importer
 * that wrote a syntax error would lose every line's own message.
 * includedir and banner name no file read here.
 */
/* fuzz-sources: daemon/inetdconf.c daemon/import.c daemon/xinetd.c daemon/errlist.c daemon/util.c daemon/log.c */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libconfig.h>

#include "errlist.h"
#include "importer.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imp_list l = { 0 };
	struct errlist errs = { 0 };
	config_t cfg;
	char *text, *conf;
	static FILE *null;

	if (size > 65536 || memchr(data, '\0', size) != NULL)
		return 0;
	if (null == NULL && (null = fopen("/dev/null", "w")) == NULL)
		abort();
	text = calloc(1, size + 1);
	if (text == NULL)
		abort();
	memcpy(text, data, size);
	if (xinetd_parse("f.conf", text, XINETD_NO_FILES, &l, &errs) == 0) {
		import_names(&l);
		import_print(null, "f.conf", &l);
		if ((conf = import_config_text(&l)) == NULL)
			abort();
		config_init(&cfg);
		if (!config_read_string(&cfg, conf)) {
			fprintf(stderr, "%s\nline %d: %s\n", conf,
			    config_error_line(&cfg), config_error_text(&cfg));
			abort();
		}
		config_destroy(&cfg);
		free(conf);
	} else if (errs.n == 0)
		abort();
	errlist_free(&errs);
	imp_list_free(&l);
	free(text);
	return 0;
}
