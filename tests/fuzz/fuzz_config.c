/*
 * Fuzzes the configuration loader: any bytes as a config file must give
 * either a config or errors, never a crash, a leak or a hang.  The input
 * is up to three files: what comes before the first "\n%%\n" is the
 * main file, what follows is "inc.conf" beside it, and the main file
 * includes it (an @include line is put first unless the main file has one
 * of its own, so that includes of missing files, directories, the main
 * file itself and nested ones are explored too).  What follows a second
 * "\n%%\n" is the drop-in file "d/a.conf", and the main file starts with
 * include_dir = "d" unless it names an include_dir of its own.
 */
/* fuzz-sources: daemon/config.c daemon/opts.c daemon/acl.c daemon/errlist.c daemon/util.c daemon/log.c daemon/busaddr.c daemon/import.c daemon/inetdconf.c daemon/xinetd.c */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char dir[64], main_path[96], inc_path[96], sub_path[96];
static char dropin_dir[96], dropin_path[96];

static void
cleanup(void)
{
	(void)unlink(main_path);
	(void)unlink(inc_path);
	(void)unlink(dropin_path);
	(void)rmdir(dropin_dir);
	(void)rmdir(sub_path);
	(void)rmdir(dir);
}

static int
write_file(const char *path, const void *a, size_t alen, const void *b,
    size_t blen)
{
	FILE *fp;
	int ok;

	if ((fp = fopen(path, "w")) == NULL)
		return -1;
	ok = fwrite(a, 1, alen, fp) == alen && fwrite(b, 1, blen, fp) == blen;
	return fclose(fp) == 0 && ok ? 0 : -1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static const char sep[] = "\n%%\n", inc[] = "@include \"inc.conf\"\n",
	    idir[] = "daemon: { include_dir = \"d\"; };\n";
	const uint8_t *end = data + len, *cut, *cut2 = NULL;
	struct errlist errs = { 0 };
	struct config *c;
	char head[sizeof(inc) + sizeof(idir)];
	size_t mlen;
	int own;

	if (dir[0] == '\0') {
		strcpy(dir, "/tmp/sockd-fuzz-XXXXXX");
		if (mkdtemp(dir) == NULL)
			abort();
		snprintf(main_path, sizeof(main_path), "%s/main.conf", dir);
		snprintf(inc_path, sizeof(inc_path), "%s/inc.conf", dir);
		/* Something to include that is not a file. */
		snprintf(sub_path, sizeof(sub_path), "%s/sub", dir);
		(void)mkdir(sub_path, 0700);
		snprintf(dropin_dir, sizeof(dropin_dir), "%s/d", dir);
		snprintf(dropin_path, sizeof(dropin_path), "%s/d/a.conf", dir);
		(void)mkdir(dropin_dir, 0700);
		atexit(cleanup);
	}
	cut = memmem(data, len, sep, sizeof(sep) - 1);
	if (cut != NULL)
		cut2 = memmem(cut + sizeof(sep) - 1, (size_t)(end - cut) -
		    (sizeof(sep) - 1), sep, sizeof(sep) - 1);
	mlen = cut != NULL ? (size_t)(cut - data) : len;
	own = memmem(data, mlen, "@include", 8) != NULL;
	snprintf(head, sizeof(head), "%s%s", own ? "" : inc, cut2 != NULL &&
	    memmem(data, mlen, "include_dir", 11) == NULL ? idir : "");
	if (write_file(main_path, head, strlen(head), data, mlen) == -1)
		return 0;
	if (cut != NULL) {
		cut += sizeof(sep) - 1;
		if (write_file(inc_path, "", 0, cut, (size_t)((cut2 != NULL ?
		    cut2 : end) - cut)) == -1)
			return 0;
	} else
		(void)unlink(inc_path);
	if (cut2 != NULL) {
		cut2 += sizeof(sep) - 1;
		if (write_file(dropin_path, "", 0, cut2,
		    (size_t)(end - cut2)) == -1)
			return 0;
	} else
		(void)unlink(dropin_path);
	c = config_load(main_path, 10000, &errs);
	config_free(c);
	errlist_free(&errs);
	return 0;
}
