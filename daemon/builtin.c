/*
 * The handlers linked into sockd, from handlers/.  registry.c looks names up
 * here before trying handler_dir/NAME.so; each handler's .c file can be
 * built either way since its symbol is named after it.  The table lives on
 * the daemon's side so that handlers/ never includes a daemon header: a
 * handler knows only include/sockd/handler.h.  metrics (daemon/metrics.c)
 * is the daemon's own: it reads the services' counters; so is exec
 * (daemon/exec.c), whose connections conn.c hands to a program.
 */
#include <stddef.h>

#include <sockd/handler.h>

#include "registry.h"

extern const struct sockd_handler sockd_handler_echo;
extern const struct sockd_handler sockd_handler_discard;
extern const struct sockd_handler sockd_handler_daytime;
extern const struct sockd_handler sockd_handler_chargen;
extern const struct sockd_handler sockd_handler_time;
extern const struct sockd_handler sockd_handler_upper;
extern const struct sockd_handler sockd_handler_chat;
extern const struct sockd_handler sockd_handler_metrics;
extern const struct sockd_handler sockd_handler_exec;

const struct sockd_handler *const builtin_handlers[] = {
	&sockd_handler_echo,
	&sockd_handler_discard,
	&sockd_handler_daytime,
	&sockd_handler_chargen,
	&sockd_handler_time,
	&sockd_handler_upper,
	&sockd_handler_chat,
	&sockd_handler_metrics,
	&sockd_handler_exec,
	NULL
};
