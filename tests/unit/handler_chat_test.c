/*
 * chat: command parsing and nick rules as pure functions, then a room of
 * fake connections: joins, relays, commands, history, shared messages, a
 * slow reader, cleaning and telnet on the way, and the UDP relay.  The
 * units chat is made of have their own tests: text_test.c, ring_test.c and
 * peers_test.c.
 */
#include <sys/socket.h>
#include <netinet/in.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "fake_conn.h"
#include "../../handlers/chat.h"
#include "../../handlers/peers.h"

extern const struct sockd_handler sockd_handler_chat;

#define H	sockd_handler_chat
#define FFFD	"\xef\xbf\xbd"

static void
lines_and_commands_are_told_apart(void **state)
{
	const char	*arg;
	size_t		 len;

	(void)state;
	assert_int_equal(chat_parse("hello", 5, &arg, &len), CHAT_TEXT);
	assert_int_equal(len, 5);
	assert_int_equal(chat_parse("//etc/passwd", 12, &arg, &len), CHAT_TEXT);
	assert_memory_equal(arg, "/etc/passwd", len);
	assert_int_equal(chat_parse("/nick  bob  ", 12, &arg, &len), CHAT_NICK);
	assert_int_equal(len, 3);
	assert_memory_equal(arg, "bob", 3);
	assert_int_equal(chat_parse("/NICK bob", 9, &arg, &len), CHAT_NICK);
	assert_int_equal(chat_parse("/who", 4, &arg, &len), CHAT_WHO);
	assert_int_equal(chat_parse("/me waves  hi", 13, &arg, &len), CHAT_ME);
	assert_memory_equal(arg, "waves  hi", len);
	assert_int_equal(chat_parse("/quit now", 9, &arg, &len), CHAT_QUIT);
	assert_int_equal(chat_parse("/help", 5, &arg, &len), CHAT_HELP);
	assert_int_equal(chat_parse("/nickname x", 11, &arg, &len),
	    CHAT_UNKNOWN);
	assert_memory_equal(arg, "nickname", len);
	assert_int_equal(chat_parse("/", 1, &arg, &len), CHAT_UNKNOWN);
	assert_int_equal(len, 0);
	assert_int_equal(chat_parse("", 0, &arg, &len), CHAT_TEXT);
}

static void
nicks_are_one_to_sixteen_safe_characters(void **state)
{
	(void)state;
	assert_true(chat_nick_valid("bob", 3));
	assert_true(chat_nick_valid("A-z_09", 6));
	assert_true(chat_nick_valid("abcdefghijklmnop", 16));
	assert_false(chat_nick_valid("abcdefghijklmnopq", 17));
	assert_false(chat_nick_valid("", 0));
	assert_false(chat_nick_valid("bo b", 4));
	assert_false(chat_nick_valid("bob\x1b", 4));
	assert_false(chat_nick_valid("b\xc3\xa9", 3));
	assert_false(chat_nick_valid("<admin>", 7));
}

/* A room: a configured port state and a service to put connections in. */
struct room {
	void			*ps;
	struct fake_service	*svc;
};

static void
room_open(struct room *r, struct sockd_opts *o)
{
	const char	*err;

	r->ps = NULL;
	if ((err = H.configure(o, &r->ps)) != NULL)
		fail_msg("configure: %s", err);
	if (o != NULL) {
		assert_null(fake_opts_undeclared(o, H.options));
		fake_opts_free(o);
	}
	r->svc = fake_service_new(r->ps);
}

static struct sockd_conn *
join(struct room *r)
{
	struct sockd_conn	*c = fake_conn_new_in(r->svc, NULL);

	assert_int_equal(H.tcp_connect(c), 0);
	return c;
}

static void
say(struct sockd_conn *c, const char *line)
{
	H.tcp_data(c, line, strlen(line));
}

static void
leave(struct sockd_conn *c)
{
	H.tcp_close(c);
	fake_conn_free(c);
}

static void
room_close(struct room *r)
{
	fake_service_free(r->svc);
	H.unconfigure(r->ps);
	/* Every shared line was freed: history, queues, broadcasts. */
	assert_int_equal(fake_msg_live(), 0);
}

static void
reset(struct sockd_conn **c, int n)
{
	int	 i;

	for (i = 0; i < n; i++)
		fake_conn_output_reset(c[i]);
}

static void
a_newcomer_gets_a_unique_guest_nick_and_who_is_there(void **state)
{
	struct room		 r;
	struct sockd_conn	*a, *b;

	(void)state;
	room_open(&r, NULL);
	a = join(&r);
	assert_non_null(strstr(fake_conn_output(a), "you are guest1."));
	assert_non_null(strstr(fake_conn_output(a), "* Present: guest1\r\n"));
	b = join(&r);
	assert_non_null(strstr(fake_conn_output(b), "you are guest2."));
	assert_non_null(strstr(fake_conn_output(b),
	    "* Present: guest2, guest1\r\n"));
	assert_string_equal(strstr(fake_conn_output(a), "* guest2"),
	    "* guest2 joined\r\n");
	leave(b);
	assert_string_equal(strstr(fake_conn_output(a), "* guest2 left"),
	    "* guest2 left\r\n");
	leave(a);
	room_close(&r);
}

static void
three_clients_see_each_others_lines_but_not_their_own(void **state)
{
	struct room		 r;
	struct sockd_conn	*c[3];

	(void)state;
	room_open(&r, NULL);
	c[0] = join(&r);
	c[1] = join(&r);
	c[2] = join(&r);
	reset(c, 3);
	say(c[0], "hello all\r\n");
	say(c[1], "hi guest1\n");
	assert_string_equal(fake_conn_output(c[0]), "<guest2> hi guest1\r\n");
	assert_string_equal(fake_conn_output(c[1]), "<guest1> hello all\r\n");
	assert_string_equal(fake_conn_output(c[2]),
	    "<guest1> hello all\r\n<guest2> hi guest1\r\n");
	leave(c[0]);
	leave(c[1]);
	leave(c[2]);
	room_close(&r);
}

static void
one_message_is_shared_by_all_recipients(void **state)
{
	struct room		 r;
	struct sockd_conn	*c[4];
	const struct sockd_msg	*m;

	(void)state;
	room_open(&r, NULL);
	c[0] = join(&r);
	c[1] = join(&r);
	c[2] = join(&r);
	c[3] = join(&r);
	say(c[0], "broadcast\n");
	m = fake_conn_last_msg(c[1]);
	assert_non_null(m);
	assert_ptr_equal(fake_conn_last_msg(c[2]), m);
	assert_ptr_equal(fake_conn_last_msg(c[3]), m);
	/* Three queued references and the history's. */
	assert_int_equal(fake_msg_refs(m), 4);
	leave(c[0]);
	leave(c[1]);
	leave(c[2]);
	leave(c[3]);
	room_close(&r);
}

static void
control_lines_are_not_relayed_and_escapes_are_stripped(void **state)
{
	struct room		 r;
	struct sockd_conn	*c[2];

	(void)state;
	room_open(&r, NULL);
	c[0] = join(&r);
	c[1] = join(&r);
	reset(c, 2);
	say(c[0], "\x1b[2J\x1b[H\r\n");
	say(c[0], "\n");
	assert_string_equal(fake_conn_output(c[1]), "");
	say(c[0], "\x1b]0;owned\x07nice \x1b[5mtry\x1b[0m\r\n");
	assert_string_equal(fake_conn_output(c[1]), "<guest1> nice try\r\n");
	leave(c[0]);
	leave(c[1]);
	room_close(&r);
}

static void
nick_changes_are_validated_unique_and_announced(void **state)
{
	struct room		 r;
	struct sockd_conn	*c[2];

	(void)state;
	room_open(&r, NULL);
	c[0] = join(&r);
	c[1] = join(&r);
	reset(c, 2);
	say(c[0], "/nick alice\r\n");
	assert_string_equal(fake_conn_output(c[0]),
	    "* guest1 is now known as alice\r\n");
	assert_string_equal(fake_conn_output(c[1]),
	    "* guest1 is now known as alice\r\n");
	reset(c, 2);
	say(c[1], "/nick ALICE\r\n");
	assert_string_equal(fake_conn_output(c[1]),
	    "* ALICE is already taken.\r\n");
	assert_string_equal(fake_conn_output(c[0]), "");
	reset(c, 2);
	say(c[1], "/nick bad nick!\r\n");
	assert_non_null(strstr(fake_conn_output(c[1]), "1 to 16"));
	reset(c, 2);
	say(c[1], "/nick \x1b[2Jbob\r\n");	/* never cleaned into "bob" */
	assert_non_null(strstr(fake_conn_output(c[1]), "1 to 16"));
	assert_string_equal(fake_conn_output(c[0]), "");
	say(c[1], "/nick bob\r\n");
	assert_non_null(strstr(fake_conn_output(c[1]),
	    "* guest2 is now known as bob\r\n"));
	reset(c, 2);
	say(c[1], "hey\n");
	assert_string_equal(fake_conn_output(c[0]), "<bob> hey\r\n");
	leave(c[0]);
	leave(c[1]);
	room_close(&r);
}

static void
a_guest_number_taken_by_nick_is_skipped(void **state)
{
	struct room		 r;
	struct sockd_conn	*a, *b;

	(void)state;
	room_open(&r, NULL);
	a = join(&r);
	say(a, "/nick guest2\n");
	b = join(&r);
	assert_non_null(strstr(fake_conn_output(b), "you are guest3."));
	leave(a);
	leave(b);
	room_close(&r);
}

static void
who_lists_everyone_and_me_is_an_action(void **state)
{
	struct room		 r;
	struct sockd_conn	*c[3];

	(void)state;
	room_open(&r, NULL);
	c[0] = join(&r);
	c[1] = join(&r);
	c[2] = join(&r);
	say(c[1], "/nick bob\n");
	reset(c, 3);
	say(c[0], "/who\n");
	assert_string_equal(fake_conn_output(c[0]),
	    "* Present: guest1, guest3, bob\r\n");
	assert_string_equal(fake_conn_output(c[1]), "");
	say(c[1], "/me waves\r\n");
	assert_string_equal(fake_conn_output(c[2]), "* bob waves\r\n");
	assert_string_equal(fake_conn_output(c[1]), "");
	reset(c, 3);
	say(c[1], "/me\n");
	assert_string_equal(fake_conn_output(c[1]), "* Usage: /me ACTION\r\n");
	assert_string_equal(fake_conn_output(c[2]), "");
	leave(c[0]);
	leave(c[1]);
	leave(c[2]);
	room_close(&r);
}

static void
quit_says_goodbye_and_closes_and_others_see_the_leave(void **state)
{
	struct room		 r;
	struct sockd_conn	*c[2];

	(void)state;
	room_open(&r, NULL);
	c[0] = join(&r);
	c[1] = join(&r);
	reset(c, 2);
	say(c[0], "/quit\r\n");
	assert_string_equal(fake_conn_output(c[0]), "* Bye, guest1.\r\n");
	assert_true(fake_conn_closed(c[0]));
	leave(c[0]);
	assert_string_equal(fake_conn_output(c[1]), "* guest1 left\r\n");
	leave(c[1]);
	room_close(&r);
}

static void
help_and_unknown_commands_answer_only_the_sender(void **state)
{
	struct room		 r;
	struct sockd_conn	*c[2];

	(void)state;
	room_open(&r, NULL);
	c[0] = join(&r);
	c[1] = join(&r);
	reset(c, 2);
	say(c[0], "/help\n");
	assert_non_null(strstr(fake_conn_output(c[0]), "/nick NAME"));
	assert_non_null(strstr(fake_conn_output(c[0]), "/quit"));
	say(c[0], "/frob\x1b[2J it\n");
	assert_non_null(strstr(fake_conn_output(c[0]),
	    "* Unknown command /frob; try /help\r\n"));
	assert_string_equal(fake_conn_output(c[1]), "");
	leave(c[0]);
	leave(c[1]);
	room_close(&r);
}

static void
a_newcomer_gets_the_last_history_lines_in_order(void **state)
{
	struct room		 r;
	struct sockd_conn	*a, *b;
	const char		*out;
	char			 line[32];
	int			 i;

	(void)state;
	room_open(&r, fake_opts_new("history", "3", NULL));
	a = join(&r);
	for (i = 1; i <= 5; i++) {
		snprintf(line, sizeof(line), "line %d\n", i);
		say(a, line);
	}
	say(a, "/me is done\n");
	b = join(&r);
	out = strstr(fake_conn_output(b), "\r\n* Present");
	assert_non_null(out);
	assert_string_equal(strchr(out + 2, '\n') + 1,
	    "<guest1> line 4\r\n<guest1> line 5\r\n* guest1 is done\r\n");
	leave(a);
	leave(b);
	room_close(&r);
}

static void
no_history_is_kept_when_it_is_zero(void **state)
{
	struct room		 r;
	struct sockd_conn	*a, *b;

	(void)state;
	room_open(&r, fake_opts_new("history", "0", NULL));
	a = join(&r);
	say(a, "gone\n");
	b = join(&r);
	assert_null(strstr(fake_conn_output(b), "gone"));
	leave(a);
	leave(b);
	room_close(&r);
}

static void
a_reader_that_stops_reading_is_closed_and_the_room_goes_on(void **state)
{
	struct room		 r;
	struct sockd_conn	*c[3];
	char			 line[128];
	int			 i;

	(void)state;
	room_open(&r, NULL);
	c[0] = join(&r);
	c[1] = join(&r);
	c[2] = join(&r);
	fake_conn_set_max_queue(c[1], 4096);	/* c[1] never reads */
	for (i = 0; i < 200; i++) {
		fake_conn_flush(c[2]);
		snprintf(line, sizeof(line), "message %d of a busy room, "
		    "padded out to be long enough\n", i);
		say(c[0], line);
	}
	assert_true(fake_conn_closed(c[1]));
	assert_true(fake_conn_output_len(c[1]) <= 4096 + 512);
	assert_non_null(strstr(fake_conn_output(c[2]), "message 199 of"));
	leave(c[1]);
	assert_non_null(strstr(fake_conn_output(c[2]), "* guest2 left"));
	leave(c[0]);
	leave(c[2]);
	room_close(&r);
}

static void
a_nick_with_a_control_byte_is_refused_not_cleaned(void **state)
{
	struct room		 r;
	struct sockd_conn	*c[2];

	(void)state;
	room_open(&r, NULL);
	c[0] = join(&r);
	c[1] = join(&r);
	reset(c, 2);
	say(c[0], "/nick a\x07" "b\r\n");
	assert_string_equal(fake_conn_output(c[0]),
	    "* A nick is 1 to 16 letters, digits, _ or -.\r\n");
	say(c[0], "/nick\x07 ab\r\n");
	say(c[0], "/nick ab\xe9\r\n");
	say(c[0], "/nick a\xff\xff" "b\r\n");
	assert_null(strstr(fake_conn_output(c[0]), "known as"));
	assert_string_equal(fake_conn_output(c[1]), "");
	/* Telnet commands are no part of what was typed. */
	say(c[0], "/nick a\xff\xf1" "b\r\n");
	assert_string_equal(fake_conn_output(c[1]),
	    "* guest1 is now known as ab\r\n");
	/* Nor is a telnet line end in character mode, CR NUL. */
	H.tcp_data(c[0], "/nick cd\r\0", 10);
	assert_non_null(strstr(fake_conn_output(c[1]),
	    "* ab is now known as cd\r\n"));
	leave(c[0]);
	leave(c[1]);
	room_close(&r);
}

static void
telnet_negotiation_reaches_no_one_and_no_history(void **state)
{
	static const char nego[] = "\xff\xfd\x03\xff\xfb\x18\xff\xfb\x1f"
	    "\xff\xfb\x20\xff\xfb\x21\xff\xfb\x22\xff\xfb\x27\xff\xfd\x05";
	struct room		 r;
	struct sockd_conn	*c[3];
	const char		*out;

	(void)state;
	room_open(&r, NULL);
	c[0] = join(&r);
	c[1] = join(&r);
	reset(c, 2);
	/* What telnet sends on connect: no newline, line_timeout ends it. */
	H.tcp_data(c[0], nego, sizeof(nego) - 1);
	H.tcp_data(c[0], "\xff\xfa\x1f\x00\x50\x00\x18\xff\xf0", 9);
	H.tcp_data(c[0], "\xff\xfa\x18\x00XTERM\xff\xf0hello\r\n", 19);
	assert_string_equal(fake_conn_output(c[1]), "<guest1> hello\r\n");
	assert_string_equal(fake_conn_output(c[0]), "");
	c[2] = join(&r);
	out = strstr(fake_conn_output(c[2]), "\r\n* Present");
	assert_non_null(out);
	assert_string_equal(strchr(out + 2, '\n') + 1, "<guest1> hello\r\n");
	leave(c[0]);
	leave(c[1]);
	leave(c[2]);
	room_close(&r);
}

static void
replies_never_cut_a_character(void **state)
{
	struct room		 r;
	struct sockd_conn	*c;
	char			 line[128];
	const char		*out;
	size_t			 i;

	(void)state;
	room_open(&r, NULL);
	c = join(&r);
	fake_conn_output_reset(c);
	/* "/x" and 40 two-byte letters: the echo is cut near 32 bytes. */
	memcpy(line, "/x", 2);
	for (i = 0; i < 40; i++)
		memcpy(line + 2 + 2 * i, "\xc3\xa9", 2);
	memcpy(line + 82, "\n", 2);
	say(c, line);
	out = fake_conn_output(c);
	assert_non_null(strstr(out, "/x\xc3\xa9"));
	assert_null(strstr(out, "\xc3;"));
	assert_non_null(strstr(out, "\xc3\xa9; try /help\r\n"));
	leave(c);
	room_close(&r);
}

static void
configure_checks_its_options(void **state)
{
	static const char *const bad[][2] = {
		{ "history", "-1" }, { "history", "10001" },
		{ "peer_timeout", "0" }, { "max_peers", "0" },
		{ "max_peers", "100000" }, { "peers_per_address", "0" },
		{ "peers_per_address", "65537" },
	};
	struct sockd_opts	*o;
	void			*ps = NULL;
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		o = fake_opts_new(bad[i][0], bad[i][1], NULL);
		if (H.configure(o, &ps) == NULL)
			fail_msg("accepted %s = %s", bad[i][0], bad[i][1]);
		fake_opts_free(o);
	}
	assert_int_equal(H.flags, SOCKD_LINES | SOCKD_ONE_LOOP);
}

static void
udp_relays_each_datagram_to_the_other_recent_peers(void **state)
{
	struct room		 r;
	struct sockd_dgram	*d;
	const struct sockaddr	*to;
	struct sockaddr_storage	 bob = fake_addr("192.0.2.2:5000");
	size_t			 len;

	(void)state;
	room_open(&r, NULL);
	d = fake_dgram_new(r.ps, "192.0.2.2:5000", 1472);
	H.udp_datagram(d, "", 0);		/* bob joins */
	assert_int_equal(fake_dgram_sent_count(d), 0);
	fake_dgram_free(d);
	d = fake_dgram_new(r.ps, "[2001:db8::7]:6000", 1472);
	H.udp_datagram(d, "hi \x1b[2Jbob\n", 11);
	assert_int_equal(fake_dgram_sent_count(d), 1);
	assert_string_equal(fake_dgram_sent(d, 0, &len, &to),
	    "<[2001:db8::7]:6000> hi bob\r\n");
	assert_true(peers_addr_equal(to, (struct sockaddr *)&bob));
	assert_int_equal(fake_dgram_replies(d), 0);
	fake_dgram_free(d);
	d = fake_dgram_new(r.ps, "192.0.2.2:5000", 1472);
	H.udp_datagram(d, "hello\n", 6);
	assert_int_equal(fake_dgram_sent_count(d), 1);
	assert_string_equal(fake_dgram_sent(d, 0, NULL, NULL),
	    "<192.0.2.2:5000> hello\r\n");
	fake_dgram_free(d);
	room_close(&r);
}

static void
udp_lines_are_cut_to_the_reply_limit_at_a_character(void **state)
{
	struct room		 r;
	struct sockd_dgram	*d;
	char			 big[200];
	size_t			 i, len;
	const char		*out;

	(void)state;
	room_open(&r, NULL);
	d = fake_dgram_new(r.ps, "192.0.2.2:5000", 1472);
	H.udp_datagram(d, "", 0);
	fake_dgram_free(d);
	for (i = 0; i < sizeof(big); i += 2)
		memcpy(big + i, "\xd0\xbc", 2);
	d = fake_dgram_new(r.ps, "192.0.2.3:5000", 64);
	H.udp_datagram(d, big, sizeof(big));
	assert_int_equal(fake_dgram_refused(d), 0);
	out = fake_dgram_sent(d, 0, &len, NULL);
	assert_non_null(out);
	assert_true(len <= 64);
	assert_memory_equal(out + len - 4, "\xd0\xbc\r\n", 4);
	fake_dgram_free(d);
	room_close(&r);
}

/* A datagram of text from peer with this reply_max and total budget;
 * the caller frees it. */
static struct sockd_dgram *
udp_say(struct room *r, const char *peer, const char *text, size_t reply_max,
    size_t budget)
{
	struct sockd_dgram	*d = fake_dgram_new(r->ps, peer, reply_max);

	fake_dgram_set_budget(d, budget);
	H.udp_datagram(d, text, strlen(text));
	return d;
}

/* Peers 192.0.2.<first>:5000 ... 192.0.2.<last>:5000 join, in order. */
static void
udp_join(struct room *r, int first, int last)
{
	char	 peer[32];
	int	 i;

	for (i = first; i <= last; i++) {
		snprintf(peer, sizeof(peer), "192.0.2.%d:5000", i);
		fake_dgram_free(udp_say(r, peer, "", 1472, 1472));
	}
}

static void
one_datagram_never_causes_more_than_its_budget(void **state)
{
	struct room		 r;
	struct sockd_dgram	*d;
	size_t			 i, len, total;

	(void)state;
	room_open(&r, NULL);
	udp_join(&r, 1, 8);
	/* 3 bytes in, growth 64: "<192.0.2.99:5000> hi!\r\n" (23) twice. */
	d = udp_say(&r, "192.0.2.99:5000", "hi!", 3 + 64, 3 + 64);
	assert_int_equal(fake_dgram_sent_count(d), 2);
	assert_true(fake_dgram_spent(d) <= 3 + 64);
	/* It stops when the line no longer fits: nothing refused. */
	assert_int_equal(fake_dgram_refused(d), 0);
	fake_dgram_free(d);
	/* A sockd that checks each send alone: chat keeps the total. */
	d = udp_say(&r, "192.0.2.99:5000", "hi!", 3 + 64, FAKE_UNLIMITED);
	for (i = 0, total = 0; i < fake_dgram_sent_count(d); i++) {
		assert_non_null(fake_dgram_sent(d, i, &len, NULL));
		total += len;
	}
	assert_int_equal(fake_dgram_sent_count(d), 2);
	assert_true(total <= 3 + 64);
	fake_dgram_free(d);
	/* A budget that holds them all (max_reply_growth = -1): all 8. */
	d = udp_say(&r, "192.0.2.99:5000", "hi!", 1472, FAKE_UNLIMITED);
	assert_int_equal(fake_dgram_sent_count(d), 8);
	fake_dgram_free(d);
	/* Not even one fits: nothing is sent, nothing refused. */
	d = udp_say(&r, "192.0.2.99:5000", "hi!", 20, 20);
	assert_int_equal(fake_dgram_sent_count(d), 0);
	assert_int_equal(fake_dgram_refused(d), 0);
	fake_dgram_free(d);
	room_close(&r);
}

static void
the_budget_goes_to_the_most_recently_heard_peers(void **state)
{
	struct room		 r;
	struct sockd_dgram	*d;
	const struct sockaddr	*to;
	struct sockaddr_storage	 p3 = fake_addr("192.0.2.3:5000"),
				 p8 = fake_addr("192.0.2.8:5000");

	(void)state;
	room_open(&r, NULL);
	udp_join(&r, 1, 8);
	fake_dgram_free(udp_say(&r, "192.0.2.3:5000", "", 64, 64));
	d = udp_say(&r, "192.0.2.99:5000", "hi!", 3 + 64, 3 + 64);
	assert_int_equal(fake_dgram_sent_count(d), 2);
	assert_non_null(fake_dgram_sent(d, 0, NULL, &to));
	assert_true(peers_addr_equal(to, (struct sockaddr *)&p3));
	assert_non_null(fake_dgram_sent(d, 1, NULL, &to));
	assert_true(peers_addr_equal(to, (struct sockaddr *)&p8));
	fake_dgram_free(d);
	room_close(&r);
}

static void
many_ports_of_one_address_are_one_peer(void **state)
{
	struct room		 r;
	struct sockd_dgram	*d;
	const struct sockaddr	*to;
	struct sockaddr_storage	 last = fake_addr("192.0.2.2:5009");
	char			 peer[32];
	int			 i;

	(void)state;
	room_open(&r, NULL);
	for (i = 0; i < 10; i++) {
		snprintf(peer, sizeof(peer), "192.0.2.2:%d", 5000 + i);
		fake_dgram_free(udp_say(&r, peer, "", 1472, 1472));
	}
	d = udp_say(&r, "192.0.2.3:5000", "hi", 1472, FAKE_UNLIMITED);
	assert_int_equal(fake_dgram_sent_count(d), 1);
	assert_non_null(fake_dgram_sent(d, 0, NULL, &to));
	assert_true(peers_addr_equal(to, (struct sockaddr *)&last));
	fake_dgram_free(d);
	room_close(&r);

	/* peers_per_address allows more: the last three ports. */
	room_open(&r, fake_opts_new("peers_per_address", "3", NULL));
	for (i = 0; i < 10; i++) {
		snprintf(peer, sizeof(peer), "192.0.2.2:%d", 5000 + i);
		fake_dgram_free(udp_say(&r, peer, "", 1472, 1472));
	}
	/* An IPv4-mapped IPv6 source is the same address. */
	fake_dgram_free(udp_say(&r, "[::ffff:192.0.2.2]:6000", "", 1472,
	    1472));
	d = udp_say(&r, "192.0.2.3:5000", "hi", 1472, FAKE_UNLIMITED);
	assert_int_equal(fake_dgram_sent_count(d), 3);
	fake_dgram_free(d);
	room_close(&r);
}

static void
udp_lines_lose_telnet_commands_and_invalid_utf8(void **state)
{
	struct room		 r;
	struct sockd_dgram	*d;

	(void)state;
	room_open(&r, NULL);
	udp_join(&r, 1, 1);
	d = udp_say(&r, "192.0.2.9:5000", "\xff\xfd\x03h\xe9\xff\xffy\n",
	    1472, 1472);
	assert_int_equal(fake_dgram_sent_count(d), 1);
	assert_string_equal(fake_dgram_sent(d, 0, NULL, NULL),
	    "<192.0.2.9:5000> h" FFFD FFFD "y\r\n");
	fake_dgram_free(d);
	room_close(&r);
}

static void
a_reload_carries_the_room_into_the_new_settings(void **state)
{
	struct room		 r;
	struct sockd_conn	*a, *b;
	struct sockd_opts	*o;
	const char		*out, *err;
	void			*ps;
	char			 line[32];
	int			 i;

	(void)state;
	room_open(&r, fake_opts_new("history", "3", NULL));
	a = join(&r);
	for (i = 1; i <= 5; i++) {
		snprintf(line, sizeof(line), "line %d\n", i);
		say(a, line);
	}
	leave(a);
	fake_service_free(r.svc);
	/* history 3 -> 2: the newest two lines live on. */
	ps = NULL;
	o = fake_opts_new("history", "2", NULL);
	if ((err = H.configure(o, &ps)) != NULL)
		fail_msg("configure: %s", err);
	fake_opts_free(o);
	assert_non_null(H.reconfigure);
	H.reconfigure(ps, r.ps);
	H.unconfigure(r.ps);
	r.ps = ps;
	r.svc = fake_service_new(ps);
	b = join(&r);
	assert_non_null(strstr(fake_conn_output(b), "you are guest2."));
	out = strstr(fake_conn_output(b), "\r\n* Present");
	assert_non_null(out);
	assert_string_equal(strchr(out + 2, '\n') + 1,
	    "<guest1> line 4\r\n<guest1> line 5\r\n");
	leave(b);
	room_close(&r);
}

/* bus events */

static void
a_bus_event_decodes_to_what_was_encoded(void **state)
{
	struct chat_bus_event	 e = { 0x0123456789abcdefULL, 42,
	    CHAT_BUS_LINE, "alice", "hello there", 11 }, d;
	char			 buf[256];
	size_t			 n;

	(void)state;
	n = chat_bus_encode(buf, sizeof(buf), &e);
	assert_true(n > 0);
	assert_memory_equal(buf, "sockd-chat/1 0123456789abcdef 42 T alice\n"
	    "hello there", n);
	assert_int_equal(chat_bus_decode(buf, n, &d), 0);
	assert_true(d.host == e.host && d.seq == 42);
	assert_int_equal(d.kind, CHAT_BUS_LINE);
	assert_string_equal(d.nick, "alice");
	assert_int_equal(d.textlen, 11);
	assert_memory_equal(d.text, "hello there", 11);
	assert_int_equal(chat_bus_encode(buf, 20, &e), 0);
}

static void
malformed_bus_events_are_refused(void **state)
{
	static const char *const bad[] = {
		"",
		"sockd-chat/1",
		"sockd-chat/2 0123456789abcdef 1 T a\nx",
		"sockd-chat/1 0123456789ABCDEF 1 T a\nx",
		"sockd-chat/1 0123456789abcde 1 T a\nx",
		"sockd-chat/1 0123456789abcdef  T a\nx",
		"sockd-chat/1 0123456789abcdef 99999999999999999999 T a\nx",
		"sockd-chat/1 0123456789abcdef 1 X a\nx",
		"sockd-chat/1 0123456789abcdef 1 T a b\nx",
		"sockd-chat/1 0123456789abcdef 1 T \nx",
		"sockd-chat/1 0123456789abcdef 1 T a",
		"sockd-chat/1 0123456789abcdef 1 T a\n",
		"sockd-chat/1 0123456789abcdef 1 J a\nx",
		"sockd-chat/1 0123456789abcdef 1 N a\nb\x07",
		"sockd-chat/1 0123456789abcdef 1 T aaaaaaaaaaaaaaaaa\nx",
		"sockd-chat/1 0123456789abcdef 1 W a\n",
		"sockd-chat/1 0123456789abcdef 1 W a\n12x",
		"sockd-chat/1 0123456789abcdef 1 P a\n0123456789abcdef 3 ",
		"sockd-chat/1 0123456789abcdef 1 P a\n0123456789abcdef 3 b,c",
		"sockd-chat/1 0123456789abcdef 1 P a\n0123456789abcdef 3 b, ",
		"sockd-chat/1 0123456789abcdef 1 P a\n0123456789abcdef b",
		"sockd-chat/1 0123456789abcdef 1 P a\n0123456789abcde 3 b",
	};
	struct chat_bus_event	 e;
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(chat_bus_decode(bad[i], strlen(bad[i]), &e),
		    -1);
	assert_int_equal(chat_bus_decode("sockd-chat/1 0123456789abcdef 1 "
	    "N a\nb", 37, &e), 0);
	assert_int_equal(chat_bus_decode("sockd-chat/1 0123456789abcdef 1 "
	    "L a\n", 36, &e), 0);
	assert_int_equal(chat_bus_decode("sockd-chat/1 0123456789abcdef 1 "
	    "W a\n17", 38, &e), 0);
	assert_int_equal(chat_bus_decode("sockd-chat/1 0123456789abcdef 1 "
	    "P a\n0123456789abcdef 17 b, c-d", 62, &e), 0);
}

static void
a_room_member_decodes_as_encoded_and_junk_is_refused(void **state)
{
	unsigned long long	 host, id;
	char			 buf[64], nick[CHAT_NICK_MAX + 1];
	size_t			 n;

	(void)state;
	n = chat_member_encode(buf, sizeof(buf), 0x3f0aULL, 42, "alice");
	assert_int_equal(n, strlen("0000000000003f0a 42 alice"));
	assert_memory_equal(buf, "0000000000003f0a 42 alice", n);
	assert_int_equal(chat_member_decode(buf, n, &host, &id, nick), 0);
	assert_true(host == 0x3f0aULL && id == 42);
	assert_string_equal(nick, "alice");
	assert_int_equal(chat_member_encode(buf, 8, 1, 1, "alice"), 0);
	assert_int_equal(chat_member_decode("0000000000003f0a 42 ", 20,
	    &host, &id, nick), -1);
	assert_int_equal(chat_member_decode("3f0a 42 alice", 13, &host, &id,
	    nick), -1);
	assert_int_equal(chat_member_decode("0000000000003f0a x alice", 24,
	    &host, &id, nick), -1);
	assert_int_equal(chat_member_decode("0000000000003f0a 1 a\033b", 22,
	    &host, &id, nick), -1);
	assert_int_equal(chat_member_decode("0000000000003f0a 1 "
	    "seventeen_letters", 36, &host, &id, nick), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(lines_and_commands_are_told_apart),
		cmocka_unit_test(nicks_are_one_to_sixteen_safe_characters),
		cmocka_unit_test(
		    a_newcomer_gets_a_unique_guest_nick_and_who_is_there),
		cmocka_unit_test(
		    three_clients_see_each_others_lines_but_not_their_own),
		cmocka_unit_test(one_message_is_shared_by_all_recipients),
		cmocka_unit_test(
		    control_lines_are_not_relayed_and_escapes_are_stripped),
		cmocka_unit_test(
		    nick_changes_are_validated_unique_and_announced),
		cmocka_unit_test(a_guest_number_taken_by_nick_is_skipped),
		cmocka_unit_test(who_lists_everyone_and_me_is_an_action),
		cmocka_unit_test(
		    quit_says_goodbye_and_closes_and_others_see_the_leave),
		cmocka_unit_test(
		    help_and_unknown_commands_answer_only_the_sender),
		cmocka_unit_test(
		    a_newcomer_gets_the_last_history_lines_in_order),
		cmocka_unit_test(no_history_is_kept_when_it_is_zero),
		cmocka_unit_test(
		    a_reader_that_stops_reading_is_closed_and_the_room_goes_on),
		cmocka_unit_test(configure_checks_its_options),
		cmocka_unit_test(
		    udp_relays_each_datagram_to_the_other_recent_peers),
		cmocka_unit_test(
		    udp_lines_are_cut_to_the_reply_limit_at_a_character),
		cmocka_unit_test(
		    a_nick_with_a_control_byte_is_refused_not_cleaned),
		cmocka_unit_test(
		    telnet_negotiation_reaches_no_one_and_no_history),
		cmocka_unit_test(replies_never_cut_a_character),
		cmocka_unit_test(
		    one_datagram_never_causes_more_than_its_budget),
		cmocka_unit_test(
		    the_budget_goes_to_the_most_recently_heard_peers),
		cmocka_unit_test(many_ports_of_one_address_are_one_peer),
		cmocka_unit_test(
		    udp_lines_lose_telnet_commands_and_invalid_utf8),
		cmocka_unit_test(
		    a_reload_carries_the_room_into_the_new_settings),
		cmocka_unit_test(a_bus_event_decodes_to_what_was_encoded),
		cmocka_unit_test(malformed_bus_events_are_refused),
		cmocka_unit_test(
		    a_room_member_decodes_as_encoded_and_junk_is_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
