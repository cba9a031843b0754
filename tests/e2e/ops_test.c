/*
 * Operations: what an administrator reads.  "sockd -h" prints the
 * synopsis of sockd(8).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

/* The synopsis of man/sockd.8 as mandoc renders it, one line, into buf;
 * 0, or -1 when the page or mandoc is not there. */
static int
man_synopsis(char *buf, size_t size)
{
	char line[1024], *src, *dst;
	FILE *fp;
	int next = 0, rc = -1;

	if (access("man/sockd.8", R_OK) == -1 ||
	    (fp = popen("mandoc -T ascii -O width=200 man/sockd.8 2>/dev/null",
	    "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL) {
		/* Bold and underline are "c\bc" and "_\bc". */
		for (src = dst = line; *src != '\0'; src++)
			if (src[1] == '\b' && src[2] != '\0')
				continue;
			else if (*src != '\b')
				*dst++ = *src;
		*dst = '\0';
		line[strcspn(line, "\n")] = '\0';
		if (next) {
			snprintf(buf, size, "%s", line + strspn(line, " "));
			rc = 0;
			break;
		}
		next = strcmp(line, "SYNOPSIS") == 0;
	}
	pclose(fp);
	return rc;
}

static void
help_prints_the_synopsis_of_the_manual(void **state)
{
	struct harness *h = *state;
	char synopsis[1024], want[1100];

	if (man_synopsis(synopsis, sizeof(synopsis)) == -1)
		skip();
	snprintf(want, sizeof(want), "usage: %s\n", synopsis);
	assert_int_equal(harness_run(h, "-h", NULL), 0);
	assert_string_equal(harness_stdout(h), want);
	assert_int_equal(harness_run(h, "-Z", NULL), 2);
	assert_non_null(strstr(harness_stderr(h), want));
	harness_pass(h);
}

#define T(f)	HARNESS_TEST(f)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(help_prints_the_synopsis_of_the_manual),
	};
	return HARNESS_RUN(tests);
}
