#ifndef SOCKD_MSG_H
#define SOCKD_MSG_H

#include <stdatomic.h>
#include <stddef.h>

struct sockd_msg {
	atomic_uint	 refs;
	size_t		 len;
	char		 data[];
};

#endif
