/*
 * registry: handler lookup.  Built-ins come first (handlers/builtin.c), then
 * dlopen("<handler_dir>/<name>.so", RTLD_NOW | RTLD_LOCAL) and the symbol
 * "sockd_handler_<name>", so one .c file can be linked in or built as a
 * plugin.  A plugin is checked before anything else is read from it: ABI
 * major, minor, name and callbacks.  Loaded plugins are cached and never
 * unloaded: connections of an old configuration may still run their code.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sockd/handler.h>

#include "registry.h"
#include "util.h"

struct loaded {
	char			*name;
	char			*path;
	const struct sockd_handler *h;
	struct loaded		*next;
};

static struct loaded	*loaded;

const char *
registry_check(const struct sockd_handler *h, const char *name, char *buf,
    size_t len)
{
	unsigned int major = h->abi_version >> 16;
	unsigned int minor = h->abi_version & 0xffff;

	if (major != SOCKD_ABI_MAJOR)
		snprintf(buf, len, "built for handler ABI %u.%u; this sockd "
		    "loads %d.x", major, minor, SOCKD_ABI_MAJOR);
	else if (minor > SOCKD_ABI_MINOR)
		snprintf(buf, len, "built for handler ABI %u.%u, newer than "
		    "this sockd's %d.%d", major, minor, SOCKD_ABI_MAJOR,
		    SOCKD_ABI_MINOR);
	else if (h->name == NULL || strcmp(h->name, name) != 0)
		snprintf(buf, len, "calls itself \"%s\", not \"%s\"",
		    h->name != NULL ? h->name : "(null)", name);
	else if (h->protocols == 0 ||
	    (h->protocols & ~(unsigned int)(SOCKD_TCP | SOCKD_UDP)) != 0)
		snprintf(buf, len, "serves no known protocol (%#x)",
		    h->protocols);
	else if ((h->protocols & SOCKD_UDP) && h->udp_datagram == NULL)
		snprintf(buf, len, "serves udp but has no udp_datagram");
	else
		return NULL;
	return buf;
}

const struct sockd_handler *
registry_find(const char *name, const char *handler_dir, char *err,
    size_t errlen)
{
	const struct sockd_handler *h;
	struct loaded *l;
	char path[4096], sym[128], why[256];
	void *dl;
	size_t i;

	for (i = 0; builtin_handlers[i] != NULL; i++)
		if (strcmp(builtin_handlers[i]->name, name) == 0)
			return builtin_handlers[i];
	snprintf(path, sizeof(path), "%s/%s.so", handler_dir, name);
	for (l = loaded; l != NULL; l = l->next)
		if (strcmp(l->name, name) == 0 && strcmp(l->path, path) == 0)
			return l->h;
	if ((dl = dlopen(path, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		snprintf(err, errlen, "unknown handler \"%s\": not built in, "
		    "and %s", name, dlerror());
		return NULL;
	}
	snprintf(sym, sizeof(sym), "sockd_handler_%s", name);
	if ((h = dlsym(dl, sym)) == NULL) {
		snprintf(err, errlen, "%s: no symbol %s", path, sym);
		dlclose(dl);
		return NULL;
	}
	if (registry_check(h, name, why, sizeof(why)) != NULL) {
		snprintf(err, errlen, "%s: refused: %s", path, why);
		dlclose(dl);
		return NULL;
	}
	l = xcalloc(1, sizeof(*l));
	l->name = xstrdup(name);
	l->path = xstrdup(path);
	l->h = h;
	l->next = loaded;
	loaded = l;
	return h;
}
