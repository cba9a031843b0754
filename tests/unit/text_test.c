/*
 * text: telnet commands, escape sequences and controls removed, invalid
 * UTF-8 replaced by U+FFFD, the 3-bytes-per-byte bound, and cuts at a
 * character boundary.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "../../handlers/text.h"

/* Sanitises s and checks the result against want. */
static void
san(const char *s, size_t len, const char *want)
{
	char	 out[768];
	size_t	 n;

	assert_true(TEXT_CLEAN_MAX(len) < sizeof(out));
	n = text_sanitize(out, s, len);
	assert_true(n <= TEXT_CLEAN_MAX(len));
	out[n] = '\0';
	assert_string_equal(out, want);
}
#define SAN(s, want)	san((s), sizeof(s) - 1, (want))

static void
ansi_escapes_cannot_reach_another_terminal(void **state)
{
	(void)state;
	SAN("\x1b[2J", "");
	SAN("\x1b[2Jcleared", "cleared");
	SAN("a\x1b[1;31mred\x1b[0m b", "ared b");
	SAN("\x1b]0;pwned\x07title", "title");
	SAN("\x1b]2;pwned\x1b\\title", "title");
	SAN("\x1bPdevice\x1b\\x", "x");
	SAN("\x1b(B\x1b" "cx", "x");
	SAN("\x1b[?1049h\x1b[H", "");
	SAN("tail\x1b", "tail");
	SAN("\x1b[", "");
}

static void
control_characters_but_tab_are_removed(void **state)
{
	(void)state;
	SAN("a\tb", "a\tb");
	SAN("bell\x07 back\x08space del\x7f nul\0!", "bell backspace del nul!");
	SAN("line\r\n", "line");
	SAN("line\n", "line");
	SAN("in\rside\n", "inside");
	/* C1 controls: CSI as UTF-8 is removed; as a lone 8-bit byte it is
	 * not UTF-8, and U+FFFD is nothing any terminal obeys. */
	SAN("\xc2\x9b" "2J", "2J");
	SAN("\x9b" "2J\x85", "\xef\xbf\xbd" "2J\xef\xbf\xbd");
	SAN("\xc2\x80\xc2\x9f", "");
}

static void
utf8_text_survives_sanitising(void **state)
{
	(void)state;
	SAN("héllo мир ś 日本 \xf0\x9f\x98\x80", "héllo мир ś 日本 \xf0\x9f\x98\x80");
	SAN("\xc2\xa0nbsp", "\xc2\xa0nbsp");
	/* Other invalid bytes (Latin-1 text) become U+FFFD. */
	SAN("caf\xe9", "caf\xef\xbf\xbd");
}

/* Telnet-strips s (from state *tn, or a fresh one when tn is NULL), then
 * sanitises it, and checks the result against want. */
static void
clean_from(const char *s, size_t len, int *tn, const char *want)
{
	char	 raw[256], out[768];
	size_t	 n;
	int	 fresh = TEXT_TELNET_DATA;

	assert_true(len < sizeof(raw));
	n = text_telnet_strip(raw, s, len, tn != NULL ? tn : &fresh);
	assert_true(n <= len);
	n = text_sanitize(out, raw, n);
	out[n] = '\0';
	assert_string_equal(out, want);
}
#define CLEAN(s, want)		clean_from((s), sizeof(s) - 1, NULL, (want))
#define CLEAN_TN(s, tn, want)	clean_from((s), sizeof(s) - 1, (tn), (want))
#define FFFD	"\xef\xbf\xbd"

static void
telnet_option_negotiation_inside_a_line_is_removed(void **state)
{
	(void)state;
	CLEAN("hel\xff\xfb\x01lo", "hello");		/* IAC WILL ECHO */
	CLEAN("\xff\xfd\x03\xff\xfb\x18\xff\xfb\x1f" "hi\r\n", "hi");
	CLEAN("a\xff\xfc\x01" "b\xff\xfe\x22" "c", "abc");	/* WONT, DONT */
	/* The option byte may be anything, "\n" and IAC included. */
	CLEAN("a\xff\xfd\nb", "ab");
	CLEAN("a\xff\xfd\xff" "b", "ab");
	/* Two-byte commands: NOP, AYT, IP, GA, a stray SE. */
	CLEAN("a\xff\xf1" "b\xff\xf6" "c\xff\xf4" "d\xff\xf9" "e\xff\xf0" "f",
	    "abcdef");
}

static void
telnet_subnegotiation_is_removed_whole(void **state)
{
	(void)state;
	/* IAC SB TERMINAL-TYPE IS "XTERM" IAC SE */
	CLEAN("a\xff\xfa\x18\x00XTERM\xff\xf0" "b", "ab");
	/* NAWS 80x24, and a size holding 0xff (doubled inside SB) */
	CLEAN("\xff\xfa\x1f\x00\x50\x00\x18\xff\xf0ok", "ok");
	CLEAN("\xff\xfa\x1f\x00\xff\xff\x00\x18\xff\xf0ok", "ok");
	/* An IAC other than SE inside SB does not end it. */
	CLEAN("\xff\xfa\x27x\xff\xf1y\xff\xf0z", "z");
}

static void
iac_iac_is_a_0xff_byte_which_becomes_u_fffd(void **state)
{
	char	 out[8];
	int	 tn = TEXT_TELNET_DATA;

	(void)state;
	assert_int_equal(text_telnet_strip(out, "x\xff\xffy", 4, &tn), 3);
	assert_memory_equal(out, "x\xffy", 3);
	CLEAN("x\xff\xffy", "x" FFFD "y");
}

static void
a_lone_iac_at_the_end_of_a_line_is_dropped(void **state)
{
	(void)state;
	CLEAN("abc\xff", "abc");
	CLEAN("abc\xff\r\n", "abc");
	CLEAN("abc\xff\xfd", "abc");
	CLEAN("abc\xff\xfa\x18", "abc");
	CLEAN("\xff", "");
}

static void
a_telnet_command_cut_between_reads_is_still_removed(void **state)
{
	int	 tn = TEXT_TELNET_DATA;

	(void)state;
	/* Pieces of one line (line_timeout, max_line) carry the state. */
	CLEAN_TN("he\xff", &tn, "he");
	assert_int_equal(tn, TEXT_TELNET_IAC);
	CLEAN_TN("\xfb", &tn, "");
	CLEAN_TN("\x01llo", &tn, "llo");
	assert_int_equal(tn, TEXT_TELNET_DATA);
	CLEAN_TN("a\xff\xfa\x18\x00XT", &tn, "a");
	CLEAN_TN("ERM\xff", &tn, "");
	CLEAN_TN("\xf0" "b\r\n", &tn, "b");
	assert_int_equal(tn, TEXT_TELNET_DATA);
}

static void
an_unterminated_subnegotiation_ends_with_its_line(void **state)
{
	int	 tn = TEXT_TELNET_DATA;

	(void)state;
	CLEAN_TN("a\xff\xfa\x18junk\n", &tn, "a");
	assert_int_equal(tn, TEXT_TELNET_DATA);
	CLEAN_TN("text\n", &tn, "text");
	CLEAN_TN("b\xff\xfa\x18\xff\r\n", &tn, "b");
	CLEAN_TN("more\r\n", &tn, "more");
}

static void
invalid_utf8_becomes_u_fffd(void **state)
{
	(void)state;
	SAN("caf\xe9!", "caf" FFFD "!");
	SAN("\xff\xfe", FFFD FFFD);
	SAN("\x80x", FFFD "x");
	/* A cut sequence is one replacement: its maximal subpart. */
	SAN("\xe2\x82x", FFFD "x");
	SAN("\xf0\x9f\x98", FFFD);
	SAN("\xe2\x82\xac\xe2", "\xe2\x82\xac" FFFD);
	SAN("\xf8\x88\x80\x80\x80", FFFD FFFD FFFD FFFD FFFD);
}

static void
overlong_and_surrogate_encodings_become_u_fffd(void **state)
{
	(void)state;
	SAN("\xc0\xaf", FFFD FFFD);			/* overlong "/" */
	SAN("\xc1\xbf", FFFD FFFD);
	SAN("\xe0\x80\xaf", FFFD FFFD FFFD);		/* overlong "/" */
	SAN("\xf0\x80\x80\xaf", FFFD FFFD FFFD FFFD);
	SAN("\xed\xa0\x80", FFFD FFFD FFFD);		/* U+D800 */
	SAN("\xed\xbf\xbf", FFFD FFFD FFFD);		/* U+DFFF */
	SAN("\xf4\x90\x80\x80", FFFD FFFD FFFD FFFD);	/* past U+10FFFF */
	/* The neighbours that are valid stay. */
	SAN("\xed\x9f\xbf\xee\x80\x80\xf4\x8f\xbf\xbf",
	    "\xed\x9f\xbf\xee\x80\x80\xf4\x8f\xbf\xbf");
}

static void
cleaning_never_writes_more_than_three_bytes_per_byte(void **state)
{
	char	 in[256], out[TEXT_CLEAN_MAX(256)];
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof(in); i++)
		in[i] = (char)(0x80 + i % 64);
	assert_int_equal(text_sanitize(out, in, sizeof(in)),
	    TEXT_CLEAN_MAX(sizeof(in)));
}

static void
a_cut_never_splits_a_character(void **state)
{
	static const char s[] = "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";

	(void)state;
	/* What fits is kept whole. */
	assert_int_equal(text_cut(s, 10, 10), 10);
	assert_int_equal(text_cut(s, 10, 64), 10);
	/* Otherwise back to the start of the character cut. */
	assert_int_equal(text_cut(s, 10, 9), 6);
	assert_int_equal(text_cut(s, 10, 6), 6);
	assert_int_equal(text_cut(s, 10, 5), 3);
	assert_int_equal(text_cut(s, 10, 2), 1);
	assert_int_equal(text_cut(s, 10, 0), 0);
	assert_int_equal(text_cut("\xc3\xa9", 2, 1), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ansi_escapes_cannot_reach_another_terminal),
		cmocka_unit_test(control_characters_but_tab_are_removed),
		cmocka_unit_test(utf8_text_survives_sanitising),
		cmocka_unit_test(
		    telnet_option_negotiation_inside_a_line_is_removed),
		cmocka_unit_test(telnet_subnegotiation_is_removed_whole),
		cmocka_unit_test(iac_iac_is_a_0xff_byte_which_becomes_u_fffd),
		cmocka_unit_test(a_lone_iac_at_the_end_of_a_line_is_dropped),
		cmocka_unit_test(
		    a_telnet_command_cut_between_reads_is_still_removed),
		cmocka_unit_test(
		    an_unterminated_subnegotiation_ends_with_its_line),
		cmocka_unit_test(invalid_utf8_becomes_u_fffd),
		cmocka_unit_test(
		    overlong_and_surrogate_encodings_become_u_fffd),
		cmocka_unit_test(
		    cleaning_never_writes_more_than_three_bytes_per_byte),
		cmocka_unit_test(a_cut_never_splits_a_character),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
