/*
 * registry: handler lookup.  Built-ins come first (daemon/builtin.c), then
 * dlopen("<handler_dir>/<name>.so", RTLD_NOW | RTLD_LOCAL) and the symbol
 * "sockd_handler_<name>", so one .c file can be linked in or built as a
 * plugin.  A plugin is checked before anything else is read from it: ABI
 * major, minor, name and callbacks.  Loaded plugins are cached and never
 * unloaded: connections of an old configuration may still run their code.
 *
 * dlopen() runs a plugin's constructors, and configure() runs as root in
 * "sockd -t" and at start: before either, the file and every directory up
 * to / must be owned by root or by the user sockd serves as, and writable
 * by no one else (as sshd's StrictModes has it for keys).  A root-owned
 * sticky directory (/tmp) is fine: others cannot replace what is in it.
 * The checked path, symbolic links resolved, is the one loaded.
 *
 * dlopen() of a path already loaded returns the code loaded first, so a
 * plugin file replaced on disk (a package upgrade, a rebuild) changes
 * nothing until sockd restarts.  The file's identity (device, inode, size,
 * modification time) is kept when it is loaded; a reload, and a lookup,
 * that find another file there, or none, say so at warning level, once per
 * reload.
 */
#include <sys/stat.h>

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sockd/handler.h>

#include "log.h"
#include "registry.h"
#include "util.h"

struct loaded {
	char			*name;
	char			*path;
	const struct sockd_handler *h;
	dev_t			 dev;	/* the file as it was loaded */
	ino_t			 ino;
	off_t			 size;
	struct timespec		 mtime;
	unsigned int		 warned;	/* the round it was reported in */
	struct loaded		*next;
};

static struct loaded	*loaded;
static unsigned int	 lookup_round = 1;
static uid_t		 user;
static int		 user_set;

void
registry_set_user(uid_t uid)
{
	user = uid;
	user_set = 1;
}

/* NULL when a file of st may be trusted: owned by root or the user, and
 * writable by them only; else why not. */
static const char *
registry_trusted(const struct stat *st, char *buf, size_t len)
{
	uid_t me = user_set ? user : geteuid();

	if (st->st_uid != 0 && st->st_uid != me)
		snprintf(buf, len, "owned by uid %lu, not root or the "
		    "daemon's user", (unsigned long)st->st_uid);
	else if ((st->st_mode & (S_IWGRP | S_IWOTH)) != 0 &&
	    !(S_ISDIR(st->st_mode) && (st->st_mode & S_ISVTX) &&
	    st->st_uid == 0))
		snprintf(buf, len, "writable by group or others (mode %04o)",
		    (unsigned int)(st->st_mode & 07777));
	else
		return NULL;
	return buf;
}

/*
 * Checks the plugin file real (a resolved path) and each directory above
 * it.  Returns 0, or -1 with the file, the offending directory if it is
 * one, and the reason in err.
 */
static int
registry_path_check(const char *real, struct stat *file, char *err,
    size_t errlen)
{
	struct stat st;
	char dir[PATH_MAX], why[128], *slash;

	if (stat(real, &st) == -1) {
		snprintf(err, errlen, "%s: %s", real, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", real);
		return -1;
	}
	if (registry_trusted(&st, why, sizeof(why)) != NULL) {
		snprintf(err, errlen, "%s: %s", real, why);
		return -1;
	}
	*file = st;
	snprintf(dir, sizeof(dir), "%s", real);
	while ((slash = strrchr(dir, '/')) != NULL) {
		if (slash == dir)
			slash[1] = '\0';
		else
			*slash = '\0';
		if (stat(dir, &st) == -1) {
			snprintf(err, errlen, "%s: directory %s: %s", real, dir,
			    strerror(errno));
			return -1;
		}
		if (registry_trusted(&st, why, sizeof(why)) != NULL) {
			snprintf(err, errlen, "%s: directory %s: %s", real,
			    dir, why);
			return -1;
		}
		if (slash == dir)
			break;
	}
	return 0;
}

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

/* Warns, once a round, when the file l was loaded from is another file
 * now, or gone: the old code stays loaded whatever is on disk. */
static void
registry_changed(struct loaded *l)
{
	struct stat st;

	if (l->warned == lookup_round)
		return;
	if (stat(l->path, &st) == -1) {
		l->warned = lookup_round;
		log_warnx("handler \"%s\": %s: %s; the code loaded from it "
		    "keeps running until sockd restarts", l->name, l->path,
		    strerror(errno));
	} else if (st.st_dev != l->dev || st.st_ino != l->ino ||
	    st.st_size != l->size || st.st_mtim.tv_sec != l->mtime.tv_sec ||
	    st.st_mtim.tv_nsec != l->mtime.tv_nsec) {
		l->warned = lookup_round;
		log_warnx("handler \"%s\": %s changed on disk since it was "
		    "loaded; a reload keeps the old code: restart sockd to "
		    "load the new one", l->name, l->path);
	}
}

void
registry_check_files(void)
{
	struct loaded *l;

	if (++lookup_round == 0)
		lookup_round = 1;
	for (l = loaded; l != NULL; l = l->next)
		registry_changed(l);
}

registry_reconfigure_fn
registry_reconfigure(const struct sockd_handler *h)
{
	if ((h->abi_version & 0xffff) < 1 || !(h->flags & SOCKD_ONE_LOOP))
		return NULL;
	return h->reconfigure;
}

const struct sockd_handler *
registry_find(const char *name, const char *handler_dir, char *err,
    size_t errlen)
{
	const struct sockd_handler *h;
	struct loaded *l;
	char path[4096], real[PATH_MAX], sym[128], why[256];
	struct stat st;
	void *dl;
	size_t i;

	for (i = 0; builtin_handlers[i] != NULL; i++)
		if (strcmp(builtin_handlers[i]->name, name) == 0)
			return builtin_handlers[i];
	snprintf(path, sizeof(path), "%s/%s.so", handler_dir, name);
	for (l = loaded; l != NULL; l = l->next)
		if (strcmp(l->name, name) == 0 &&
		    strcmp(l->path, path) == 0) {
			registry_changed(l);
			return l->h;
		}
	memset(&st, 0, sizeof(st));
	if (realpath(path, real) != NULL) {
		if (registry_path_check(real, &st, err, errlen) == -1)
			return NULL;
	} else
		snprintf(real, sizeof(real), "%s", path);
	if ((dl = dlopen(real, RTLD_NOW | RTLD_LOCAL)) == NULL) {
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
	l->dev = st.st_dev;
	l->ino = st.st_ino;
	l->size = st.st_size;
	l->mtime = st.st_mtim;
	l->next = loaded;
	loaded = l;
	return h;
}
