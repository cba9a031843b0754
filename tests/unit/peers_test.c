/*
 * peers: the UDP room's table forgets the silent, evicts the longest
 * silent, orders peers heard in the same second, and keeps an address to
 * per_address entries; address comparison, IPv4-mapped IPv6 included; a
 * reload's refit keeps the most recently heard.
 */
#include <sys/socket.h>
#include <netinet/in.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "fake_conn.h"		/* fake_addr() */
#include "../../handlers/peers.h"

/* Records the peer at address s as heard from at now. */
static void
touch(struct peers *ps, const char *s, time_t now)
{
	struct sockaddr_storage	 ss = fake_addr(s);

	peers_touch(ps, (struct sockaddr *)&ss, now);
}

/* 1 when the peer at address s is in the table. */
static int
has(const struct peers *ps, const char *s)
{
	struct sockaddr_storage	 ss = fake_addr(s);
	size_t			 i;

	for (i = 0; i < ps->npeers; i++)
		if (peers_addr_equal((const struct sockaddr *)&ps->peer[i].addr,
		    (struct sockaddr *)&ss))
			return 1;
	return 0;
}

static void
the_peer_table_forgets_the_silent_and_evicts_the_oldest(void **state)
{
	struct peer		 tab[3];
	struct peers		 ps = { .peer = tab, .max = 3, .timeout = 10 };
	struct sockaddr_storage	 a = fake_addr("192.0.2.1:1000"),
				 b = fake_addr("192.0.2.2:1000"),
				 c = fake_addr("[2001:db8::1]:1000"),
				 d = fake_addr("192.0.2.1:1001");

	(void)state;
	peers_touch(&ps, (struct sockaddr *)&a, 100);
	peers_touch(&ps, (struct sockaddr *)&b, 101);
	peers_touch(&ps, (struct sockaddr *)&a, 102);
	assert_int_equal(ps.npeers, 2);
	peers_touch(&ps, (struct sockaddr *)&c, 103);
	peers_touch(&ps, (struct sockaddr *)&d, 104);	/* evicts b */
	assert_int_equal(ps.npeers, 3);
	for (size_t i = 0; i < ps.npeers; i++)
		assert_false(peers_addr_equal((struct sockaddr *)&tab[i].addr,
		    (struct sockaddr *)&b));
	peers_touch(&ps, (struct sockaddr *)&d, 113);	/* a, c age */
	assert_int_equal(ps.npeers, 2);
	peers_touch(&ps, (struct sockaddr *)&d, 200);
	assert_int_equal(ps.npeers, 1);
}

static void
the_peer_table_orders_peers_heard_in_the_same_second(void **state)
{
	struct peer		 tab[3];
	struct peers		 ps = { .peer = tab, .max = 3, .timeout = 10,
				    .per_address = 1 };
	struct sockaddr_storage	 a = fake_addr("192.0.2.1:1000"),
				 b = fake_addr("192.0.2.2:1000"),
				 c = fake_addr("192.0.2.3:1000"),
				 d = fake_addr("192.0.2.4:1000");
	size_t			 i;

	(void)state;
	peers_touch(&ps, (struct sockaddr *)&a, 100);
	peers_touch(&ps, (struct sockaddr *)&b, 100);
	peers_touch(&ps, (struct sockaddr *)&c, 100);
	peers_touch(&ps, (struct sockaddr *)&a, 100);
	peers_touch(&ps, (struct sockaddr *)&d, 100);	/* evicts b */
	assert_int_equal(ps.npeers, 3);
	for (i = 0; i < ps.npeers; i++)
		assert_false(peers_addr_equal((struct sockaddr *)&tab[i].addr,
		    (struct sockaddr *)&b));
	peers_touch(&ps, (struct sockaddr *)&b, 100);	/* evicts c */
	for (i = 0; i < ps.npeers; i++)
		assert_false(peers_addr_equal((struct sockaddr *)&tab[i].addr,
		    (struct sockaddr *)&c));
}
static void
addresses_are_equal_by_port_and_the_same_host_by_address(void **state)
{
	struct sockaddr_storage	 a = fake_addr("192.0.2.1:1000"),
				 b = fake_addr("192.0.2.1:1001"),
				 m = fake_addr("[::ffff:192.0.2.1]:1000"),
				 c = fake_addr("[2001:db8::1]:1000"),
				 d = fake_addr("[2001:db8::1]:2000");
	struct sockaddr		*sa = (struct sockaddr *)&a,
				*sb = (struct sockaddr *)&b,
				*sm = (struct sockaddr *)&m,
				*sc = (struct sockaddr *)&c,
				*sd = (struct sockaddr *)&d;

	(void)state;
	assert_true(peers_addr_equal(sa, sa));
	assert_false(peers_addr_equal(sa, sb));
	assert_false(peers_addr_equal(sa, sm));	/* another family */
	assert_false(peers_addr_equal(sc, sd));
	assert_true(peers_same_host(sa, sb));
	assert_true(peers_same_host(sa, sm));
	assert_true(peers_same_host(sm, sb));
	assert_true(peers_same_host(sc, sd));
	assert_false(peers_same_host(sa, sc));
}

static void
one_address_keeps_at_most_per_address_ports(void **state)
{
	struct peers	 ps;

	(void)state;
	assert_int_equal(peers_init(&ps, 8, 10, 2), 0);
	touch(&ps, "192.0.2.1:1000", 100);
	touch(&ps, "192.0.2.1:1001", 101);
	touch(&ps, "192.0.2.2:1000", 102);
	/* The same address, IPv4-mapped: its longest silent port goes. */
	touch(&ps, "[::ffff:192.0.2.1]:1002", 103);
	assert_int_equal(ps.npeers, 3);
	assert_false(has(&ps, "192.0.2.1:1000"));
	assert_true(has(&ps, "192.0.2.1:1001"));
	assert_true(has(&ps, "[::ffff:192.0.2.1]:1002"));
	peers_free(&ps);
	assert_null(ps.peer);
	peers_free(&ps);
}

static void
a_refit_keeps_the_most_recently_heard(void **state)
{
	struct peers	 old, new;

	(void)state;
	assert_int_equal(peers_init(&old, 3, 10, 1), 0);
	assert_int_equal(peers_init(&new, 2, 10, 1), 0);
	touch(&old, "192.0.2.1:1000", 100);
	touch(&old, "192.0.2.2:1000", 101);
	touch(&old, "192.0.2.3:1000", 102);
	touch(&old, "192.0.2.1:1000", 103);
	peers_refit(&new, &old);
	assert_int_equal(old.npeers, 0);
	assert_int_equal(new.npeers, 2);
	assert_true(has(&new, "192.0.2.1:1000"));
	assert_true(has(&new, "192.0.2.3:1000"));
	/* The stamps go on from where the old table left them. */
	assert_int_equal(new.seq, 4);
	peers_free(&old);
	peers_free(&new);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    the_peer_table_forgets_the_silent_and_evicts_the_oldest),
		cmocka_unit_test(
		    the_peer_table_orders_peers_heard_in_the_same_second),
		cmocka_unit_test(
		    addresses_are_equal_by_port_and_the_same_host_by_address),
		cmocka_unit_test(one_address_keeps_at_most_per_address_ports),
		cmocka_unit_test(a_refit_keeps_the_most_recently_heard),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
