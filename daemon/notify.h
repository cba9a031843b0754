#ifndef SOCKD_NOTIFY_H
#define SOCKD_NOTIFY_H

/* Sends one datagram to $NOTIFY_SOCKET, if set (sd_notify(3) protocol). */
void	notify(const char *, ...) __attribute__((format(printf, 1, 2)));

#endif
