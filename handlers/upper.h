/*
 * upper's casing, apart from its callbacks, for its unit tests and fuzzer.
 */
#ifndef SOCKD_HANDLERS_UPPER_H
#define SOCKD_HANDLERS_UPPER_H

#include <stddef.h>

/*
 * Upper-cases UTF-8 in into out, which must have room for
 * UPPER_OUTMAX(len) bytes; returns the length written.  Bytes that are not
 * strict UTF-8 are copied unchanged.  A code point is replaced only when its
 * upper case encodes in at most 3/2 of its own bytes, which every simple
 * Unicode upper-case mapping does (U+0250 -> U+2C6F grows 2 -> 3).
 */
#define UPPER_OUTMAX(len)	((len) + (len) / 2)
size_t		 upper_utf8(char *, const char *, size_t);

#endif /* SOCKD_HANDLERS_UPPER_H */
