/* Helpers for tests that load configuration text through a temp file. */
#ifndef SOCKD_TEST_CONF_UTIL_H
#define SOCKD_TEST_CONF_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include "config.h"

static char conf_path[128];

static struct config *
load_text(const char *text, struct errlist *errs, int offset)
{
	int fd;
	struct config *c;

	strcpy(conf_path, "/tmp/sockd-unit-XXXXXX");
	fd = mkstemp(conf_path);
	if (fd == -1 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		abort();
	close(fd);
	c = config_load(conf_path, offset, errs);
	unlink(conf_path);
	return c;
}

/* A temp dir for configurations in several files (@include). */
static char conf_dir[64];
static char conf_made[16][128];
static int conf_nmade;

static void
conf_dir_new(void)
{
	strcpy(conf_dir, "/tmp/sockd-unit-XXXXXX");
	if (mkdtemp(conf_dir) == NULL)
		abort();
	conf_nmade = 0;
}

/* Writes conf_dir/name (a directory when text is NULL); returns its path. */
static const char *
conf_dir_write(const char *name, const char *text)
{
	char *path;
	FILE *fp;

	if (conf_nmade == 16)
		abort();
	path = conf_made[conf_nmade++];
	snprintf(path, sizeof(conf_made[0]), "%s/%s", conf_dir, name);
	if (text == NULL) {
		if (mkdir(path, 0700) == -1)
			abort();
		return path;
	}
	if ((fp = fopen(path, "w")) == NULL || fputs(text, fp) == EOF ||
	    fclose(fp) == EOF)
		abort();
	return path;
}

/* Loads conf_dir/name; has_error() then looks for errors in that file. */
static struct config *
conf_dir_load(const char *name, struct errlist *errs)
{
	snprintf(conf_path, sizeof(conf_path), "%s/%s", conf_dir, name);
	return config_load(conf_path, 0, errs);
}

/* Removes what conf_dir_write() made, newest first, and the dir. */
static void
conf_dir_free(void)
{
	while (conf_nmade > 0)
		(void)remove(conf_made[--conf_nmade]);
	(void)rmdir(conf_dir);
}

/* 1 when some error is "<file>:<line>: ...needle..." */
static int
has_error(const struct errlist *errs, int line, const char *needle)
{
	char prefix[160];
	size_t i;

	snprintf(prefix, sizeof(prefix), "%s:%d: ", conf_path, line);
	for (i = 0; i < errs->n; i++)
		if (strncmp(errs->msg[i], prefix, strlen(prefix)) == 0 &&
		    strstr(errs->msg[i], needle) != NULL)
			return 1;
	for (i = 0; i < errs->n; i++)
		fprintf(stderr, "  got: %s\n", errs->msg[i]);
	return 0;
}

#endif
