/* Helpers for tests that load configuration text through a temp file. */
#ifndef SOCKD_TEST_CONF_UTIL_H
#define SOCKD_TEST_CONF_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

static char conf_path[64];

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

/* 1 when some error is "<file>:<line>: ...needle..." */
static int
has_error(const struct errlist *errs, int line, const char *needle)
{
	char prefix[96];
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
