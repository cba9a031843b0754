/*
 * errlist: the errors of a configuration, collected rather than logged so
 * that "sockd -t" can print every one of them and a reload can log them
 * and keep serving.  config, opts and service add to it; whoever started
 * the check prints or logs it, then frees it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "errlist.h"
#include "util.h"

void
errlist_add(struct errlist *e, const char *file, int line, const char *fmt,
    ...)
{
	char text[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	e->msg = xreallocarray(e->msg, e->n + 1, sizeof(*e->msg));
	if (line > 0)
		e->msg[e->n++] = xasprintf("%s:%d: %s", file, line, text);
	else
		e->msg[e->n++] = xasprintf("%s: %s", file, text);
}

void
errlist_free(struct errlist *e)
{
	size_t i;

	for (i = 0; i < e->n; i++)
		free(e->msg[i]);
	free(e->msg);
	e->msg = NULL;
	e->n = 0;
}
