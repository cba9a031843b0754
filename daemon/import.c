/*
 * import: the entries the inetd.conf and xinetd parsers make, and the
 * sockd.conf text they become.  The parsers (inetdconf.c, xinetd.c) know
 * their syntax and decide what each line means; this file knows only
 * sockd's: it names the services uniquely, quotes strings for libconfig
 * and writes each entry as a service group.  "sockd -I" prints them with
 * a comment above each naming its source line and every approximation or
 * drop; the daemon setting inetd_conf (config.c) has each entry written
 * on one line, the line of its source, and parses that with libconfig,
 * so that every error libconfig or config.c finds names the inetd.conf
 * line without any mapping back.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>

#include <sockd/handler.h>

#include "errlist.h"
#include "importer.h"
#include "util.h"

void *
imp_grow(void *p, size_t n, size_t size)
{
	if ((n & (n - 1)) != 0 || (n != 0 && n < 8))
		return p;
	return xreallocarray(p, n < 8 ? 8 : 2 * n, size);
}

void
strv_add(struct strv *sv, const char *s)
{
	sv->v = imp_grow(sv->v, sv->n, sizeof(*sv->v));
	sv->v[sv->n++] = xstrdup(s);
}

void
strv_clear(struct strv *sv)
{
	size_t i;

	for (i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = 0;
}

struct imp_entry *
imp_entry_add(struct imp_list *l, const char *file, int line)
{
	struct imp_entry *e;

	l->e = imp_grow(l->e, l->n, sizeof(*l->e));
	e = &l->e[l->n++];
	memset(e, 0, sizeof(*e));
	e->file = xstrdup(file);
	e->line = line;
	e->wait = -1;
	e->enabled = 1;
	e->per_source = -1;
	e->rlimit_as = e->rlimit_cpu = e->rlimit_nofile = -1;
	e->umask = -1;
	e->nice = LLONG_MIN;
	e->keepalive = -1;
	e->log_connections = -1;
	return e;
}

static void
entry_clear(struct imp_entry *e)
{
	free(e->name);
	free(e->file);
	strv_clear(&e->bind);
	free(e->handler);
	strv_clear(&e->command);
	free(e->user);
	free(e->group);
	strv_clear(&e->allow);
	strv_clear(&e->deny);
	strv_clear(&e->env);
	strv_clear(&e->passenv);
	free(e->banner);
	strv_clear(&e->comments);
}

void
imp_entry_drop(struct imp_list *l)
{
	if (l->n > 0)
		entry_clear(&l->e[--l->n]);
}

void
imp_note(struct strv *sv, const char *fmt, ...)
{
	va_list ap;
	char *s, *p;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) == -1) {
		va_end(ap);
		return;
	}
	va_end(ap);
	/* A comment is one line, whatever the input held. */
	for (p = s; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	strv_add(sv, s);
	free(s);
}

void
imp_list_free(struct imp_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		entry_clear(&l->e[i]);
	free(l->e);
	strv_clear(&l->comments);
	memset(l, 0, sizeof(*l));
}

char *
import_read(const char *path, const char *from, int fromline,
    struct errlist *errs)
{
	struct stat st;
	const char *why = NULL;
	char *text = NULL, *nul;
	size_t n = 0, cap = 0;
	int line;
	FILE *fp = NULL;

	/* Looked at before it is opened: a FIFO would block. */
	if (stat(path, &st) == -1)
		why = strerror(errno);
	else if (S_ISDIR(st.st_mode))
		why = strerror(EISDIR);
	else if (!S_ISREG(st.st_mode))
		why = "not a regular file";
	else if ((fp = fopen(path, "r")) == NULL)
		why = strerror(errno);
	if (why != NULL) {
		if (from != NULL)
			errlist_add(errs, from, fromline, "\"%s\": %s", path,
			    why);
		else
			errlist_add(errs, path, 0, "%s", why);
		return NULL;
	}
	while (n == cap && cap <= IMPORT_FILE_MAX) {
		cap = cap == 0 ? 8192 : cap * 2;
		if (cap > IMPORT_FILE_MAX + 1)
			cap = IMPORT_FILE_MAX + 1;
		text = xreallocarray(text, cap + 1, 1);
		n += fread(text + n, 1, cap - n, fp);
		if (cap == IMPORT_FILE_MAX + 1)
			break;
	}
	fclose(fp);
	if (n > IMPORT_FILE_MAX) {
		errlist_add(errs, path, 0, "larger than the limit of %d KiB",
		    IMPORT_FILE_MAX >> 10);
		free(text);
		return NULL;
	}
	text[n] = '\0';
	if ((nul = memchr(text, '\0', n)) != NULL) {
		for (line = 1; nul > text; nul--)
			line += nul[-1] == '\n';
		errlist_add(errs, path, line, "a NUL byte; expected text");
		free(text);
		return NULL;
	}
	return text;
}

int
import_is_xinetd(const char *text)
{
	const char *p, *q;
	char w[16];
	int n, len;

	for (p = text; p != NULL && *p != '\0'; p = q != NULL ? q + 1 : NULL) {
		q = strchr(p, '\n');
		p += strspn(p, " \t\r");
		if (*p == '#' || *p == '\n' || *p == '\0')
			continue;
		len = (int)strcspn(p, " \t\r\n{");
		snprintf(w, sizeof(w), "%.*s", len, p);
		/* Words on the line: an inetd.conf line has six at least,
		 * "service NAME {", "defaults {" and "includedir DIR" fewer. */
		for (n = 0; p < (q != NULL ? q : p + strlen(p)); n++) {
			p += strcspn(p, " \t\r\n");
			p += strspn(p, " \t\r");
		}
		if (n <= 3 && (strcmp(w, "service") == 0 ||
		    strcmp(w, "defaults") == 0 || strcmp(w, "includedir") == 0))
			return 1;
	}
	return 0;
}

int
import_file(const char *file, struct imp_list *l, struct errlist *errs)
{
	char *text;
	int rc;

	if ((text = import_read(file, NULL, 0, errs)) == NULL)
		return -1;
	if (import_is_xinetd(text))
		rc = xinetd_parse(file, text, 0, l, errs);
	else
		rc = inetdconf_parse(file, text, l, errs);
	free(text);
	return rc;
}

/* The names given so far, with the next number to try after each. */
struct nameset {
	char		**key;
	int		 *next;
	size_t		  mask;
};

static size_t
name_slot(const struct nameset *ns, const char *name)
{
	const unsigned char *p;
	size_t h = 2166136261u;

	for (p = (const unsigned char *)name; *p != '\0'; p++)
		h = (h ^ *p) * 16777619u;
	for (h &= ns->mask; ns->key[h] != NULL &&
	    strcmp(ns->key[h], name) != 0; h = (h + 1) & ns->mask)
		;
	return h;
}

static void
name_take(struct nameset *ns, char *name)
{
	size_t h = name_slot(ns, name);

	ns->key[h] = name;
	ns->next[h] = 2;
}

void
import_names(struct imp_list *l)
{
	struct nameset ns;
	struct imp_entry *e;
	char base[65], *p, *n;
	size_t i, cap, h;
	int k;

	/* A hash of the names: a file of thousands of lines of one
	 * service must not take quadratic time. */
	for (cap = 16; cap < 4 * l->n; cap *= 2)
		;
	ns.key = xcalloc(cap, sizeof(*ns.key));
	ns.next = xcalloc(cap, sizeof(*ns.next));
	ns.mask = cap - 1;
	for (i = 0; i < l->n; i++) {
		e = &l->e[i];
		snprintf(base, sizeof(base) - 8, "%s", e->name != NULL ?
		    e->name : "service");
		for (p = base; *p != '\0'; p++) {
			*p = (char)tolower((unsigned char)*p);
			if (!islower((unsigned char)*p) &&
			    !isdigit((unsigned char)*p) && *p != '_' &&
			    *p != '.' && *p != '-')
				*p = '_';
		}
		if (base[0] == '\0')
			snprintf(base, sizeof(base), "service");
		n = xstrdup(base);
		if (ns.key[h = name_slot(&ns, n)] != NULL) {
			free(n);
			n = xasprintf("%s-%s", base,
			    e->protocols == SOCKD_UDP ? "udp" : "tcp");
		}
		for (k = ns.next[h]; ns.key[name_slot(&ns, n)] != NULL; k++) {
			free(n);
			n = xasprintf("%s-%d", base, k);
			ns.next[h] = k + 1;
		}
		free(e->name);
		e->name = n;
		name_take(&ns, n);
	}
	free(ns.key);
	free(ns.next);
}

/* s as a libconfig string, quoted. */
static void
put_str(FILE *fp, const char *s)
{
	const unsigned char *p;

	fputc('"', fp);
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(fp, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", fp);
		else if (*p == '\t')
			fputs("\\t", fp);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(fp, "\\x%02x", *p);
		else
			fputc(*p, fp);
	}
	fputc('"', fp);
}

static void
put_list(FILE *fp, const struct strv *sv)
{
	size_t i;

	fputc('[', fp);
	for (i = 0; i < sv->n; i++) {
		if (i > 0)
			fputs(", ", fp);
		put_str(fp, sv->v[i]);
	}
	fputc(']', fp);
}

/*
 * Writes e as a service group.  sep goes between settings (a newline and
 * indentation, or a space), osep between options; nothing ends the group
 * but its brace.
 */
static void
entry_put(FILE *fp, const struct imp_entry *e, const char *sep,
    const char *osep, const char *end)
{
	size_t i;
	char *eq;

	fprintf(fp, "{%sname = ", sep);
	put_str(fp, e->name);
	fprintf(fp, ";%sport = %d;%sprotocol = \"%s\";", sep, e->port, sep,
	    e->protocols == SOCKD_UDP ? "udp" : "tcp");
	if (e->bind.n > 0) {
		fprintf(fp, "%sbind = ", sep);
		put_list(fp, &e->bind);
		fputc(';', fp);
	}
	fprintf(fp, "%shandler = ", sep);
	put_str(fp, e->handler);
	fputc(';', fp);
	if (!e->enabled)
		fprintf(fp, "%senabled = false;", sep);
	if (e->max_connections > 0)
		fprintf(fp, "%smax_connections = %lld;", sep,
		    e->max_connections);
	if (e->per_source >= 0)
		fprintf(fp, "%sper_source = %lld;", sep, e->per_source);
	if (e->rate > 0)
		fprintf(fp, "%srate = %lld;", sep, e->rate);
	if (e->burst > 0)
		fprintf(fp, "%sburst = %lld;", sep, e->burst);
	if (e->allow.n > 0) {
		fprintf(fp, "%sallow = ", sep);
		put_list(fp, &e->allow);
		fputc(';', fp);
	}
	if (e->deny.n > 0) {
		fprintf(fp, "%sdeny = ", sep);
		put_list(fp, &e->deny);
		fputc(';', fp);
	}
	if (e->banner != NULL) {
		fprintf(fp, "%sbanner = ", sep);
		put_str(fp, e->banner);
		fputc(';', fp);
	}
	if (e->keepalive >= 0)
		fprintf(fp, "%skeepalive = %s;", sep, e->keepalive ? "true" :
		    "false");
	if (e->log_connections >= 0)
		fprintf(fp, "%slog_connections = %s;", sep,
		    e->log_connections ? "true" : "false");
	if (strcmp(e->handler, "exec") == 0) {
		fprintf(fp, "%soptions = {%scommand = ", sep, osep);
		put_list(fp, &e->command);
		fputc(';', fp);
		if (e->user != NULL) {
			fprintf(fp, "%suser = ", osep);
			put_str(fp, e->user);
			fputc(';', fp);
		}
		if (e->group != NULL) {
			fprintf(fp, "%sgroup = ", osep);
			put_str(fp, e->group);
			fputc(';', fp);
		}
		if (e->wait >= 0)
			fprintf(fp, "%swait = %s;", osep, e->wait ? "true" :
			    "false");
		if (e->env.n > 0) {
			fprintf(fp, "%senv = {", osep);
			for (i = 0; i < e->env.n; i++) {
				eq = strchr(e->env.v[i], '=');
				fprintf(fp, " %.*s = ",
				    (int)(eq - e->env.v[i]), e->env.v[i]);
				put_str(fp, eq + 1);
				fputc(';', fp);
			}
			fputs(" };", fp);
		}
		if (e->passenv.n > 0) {
			fprintf(fp, "%spassenv = ", osep);
			put_list(fp, &e->passenv);
			fputc(';', fp);
		}
		/* A string: libconfig would read 027 as decimal. */
		if (e->umask >= 0)
			fprintf(fp, "%sumask = \"0%03llo\";", osep, e->umask);
		if (e->nice != LLONG_MIN)
			fprintf(fp, "%snice = %lld;", osep, e->nice);
		if (e->rlimit_as >= 0)
			fprintf(fp, "%srlimit_as = %lld;", osep, e->rlimit_as);
		if (e->rlimit_cpu >= 0)
			fprintf(fp, "%srlimit_cpu = %lld;", osep,
			    e->rlimit_cpu);
		if (e->rlimit_nofile >= 0)
			fprintf(fp, "%srlimit_nofile = %lld;", osep,
			    e->rlimit_nofile);
		fprintf(fp, "%s};", sep);
	}
	fprintf(fp, "%s}", end);
}

/* A comment, as lines of at most 79 columns after indent (a tab or
 * nothing) where it has spaces to break at. */
static void
put_comment(FILE *fp, const char *indent, const char *text)
{
	size_t width = (*indent != '\0' ? 79 - 8 : 79) - 2, n, brk;

	while (*text != '\0') {
		n = strlen(text);
		if (n > width) {
			for (brk = width; brk > 0 && text[brk] != ' '; brk--)
				;
			if (brk == 0)
				brk = strcspn(text, " ");
			n = brk;
		}
		fprintf(fp, "%s# %.*s\n", indent, (int)n, text);
		text += n;
		text += strspn(text, " ");
	}
}

void
import_print(FILE *fp, const char *source, const struct imp_list *l)
{
	size_t i, j;

	fprintf(fp, "# sockd.conf from %s, by sockd -I.\n# Above each "
	    "service: its source line, and what had no exact equivalent.\n"
	    "# Check it with sockd -t.\n", source);
	for (i = 0; i < l->comments.n; i++)
		put_comment(fp, "", l->comments.v[i]);
	fputs("services = (\n", fp);
	for (i = 0; i < l->n; i++) {
		fprintf(fp, "\t# %s:%d\n", l->e[i].file, l->e[i].line);
		for (j = 0; j < l->e[i].comments.n; j++)
			put_comment(fp, "\t", l->e[i].comments.v[j]);
		fputc('\t', fp);
		entry_put(fp, &l->e[i], "\n\t\t", "\n\t\t\t", "\n\t");
		fputs(i + 1 < l->n ? ",\n" : "\n", fp);
	}
	fputs(");\n", fp);
}

char *
import_config_text(const struct imp_list *l)
{
	char *text = NULL;
	size_t size = 0, i;
	int line = 1;
	FILE *fp;

	if ((fp = open_memstream(&text, &size)) == NULL)
		return NULL;
	fputs("services = (", fp);
	for (i = 0; i < l->n; i++) {
		for (; line < l->e[i].line; line++)
			fputc('\n', fp);
		entry_put(fp, &l->e[i], " ", " ", " ");
		if (i + 1 < l->n)
			fputc(',', fp);
	}
	fputs(");\n", fp);
	if (fclose(fp) != 0) {
		free(text);
		return NULL;
	}
	return text;
}
