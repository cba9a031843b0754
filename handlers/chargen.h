/*
 * chargen's pattern, apart from its callbacks, for its unit tests.
 */
#ifndef SOCKD_HANDLERS_CHARGEN_H
#define SOCKD_HANDLERS_CHARGEN_H

#include <stddef.h>

/*
 * The 72 characters of line n of the RFC 864 pattern (the 95 printable
 * ASCII characters, line 0 starting at '!') followed by "\r\n" into out,
 * which has room for CHARGEN_LINE bytes.  Returns CHARGEN_LINE.
 */
#define CHARGEN_WIDTH	72
#define CHARGEN_LINE	(CHARGEN_WIDTH + 2)
#define CHARGEN_RING	95
size_t		 chargen_line(char *, unsigned int);

#endif /* SOCKD_HANDLERS_CHARGEN_H */
