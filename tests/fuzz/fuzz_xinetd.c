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
#include <stdlib.h>

#include "fuzz_import.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imp_list l = { 0 };
	struct errlist errs = { 0 };
	char *text;

	if ((text = fuzz_import_text(data, size)) == NULL)
		return 0;
	fuzz_import_check(xinetd_parse("f.conf", text, XINETD_NO_FILES, &l,
	    &errs), &l, &errs);
	free(text);
	return 0;
}
