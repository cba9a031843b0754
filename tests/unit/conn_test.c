/*
 * conn on a bare libuv loop: a conn_ctx, a hand-made service with a tiny
 * handler, and a loopback TCP listener made here whose connections go to
 * conn_accept(); the client is a plain socket.  No worker, no supervisor.
 */
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <uv.h>

#include <sockd/handler.h>

#include "conn.h"
#include "service.h"

/* What the tiny handler saw. */
struct seen {
	char		 lines[8][64];
	int		 nlines;
	int		 connects;
	int		 closes;
	int		 refuse;	/* tcp_connect says -1 */
	int		 flood;		/* tcp_connect writes until refused */
	int		 write_refused;
};

static struct seen	 seen;

static void
tiny_data(struct sockd_conn *c, const char *p, size_t len)
{
	if (seen.nlines < 8 && len < sizeof(seen.lines[0]))
		memcpy(seen.lines[seen.nlines++], p, len);
}

static int
tiny_connect(struct sockd_conn *c)
{
	static char chunk[65536];
	int i;

	seen.connects++;
	if (seen.refuse)
		return -1;
	for (i = 0; seen.flood && i < 4096; i++)
		if (sockd_conn_write(c, chunk, sizeof(chunk)) == -1) {
			seen.write_refused = 1;
			break;
		}
	return 0;
}

static void
tiny_close(struct sockd_conn *c)
{
	seen.closes++;
}

static struct sockd_handler tiny = {
	.abi_version = SOCKD_ABI_VERSION, .name = "tiny",
	.protocols = SOCKD_TCP, .tcp_connect = tiny_connect,
	.tcp_data = tiny_data, .tcp_close = tiny_close,
};

/* One test's world: the loop, the context, the service, the listener. */
struct world {
	uv_loop_t		 loop;
	struct conn_ctx		 ctx;
	atomic_uint		 total;
	atomic_uint		 max_total;
	int			 empty;
	struct service		 svc;
	struct svc_local	 local;
	uv_tcp_t		 server;
	struct sockaddr_in	 addr;
	int			 client;
};

static void
on_empty(void *arg)
{
	struct world *w = arg;

	w->empty++;
}

static void
on_connection(uv_stream_t *server, int status)
{
	struct world *w = server->data;

	assert_int_equal(status, 0);
	conn_accept(&w->ctx, server, &w->svc);
}

static struct world *
world_new(unsigned int flags)
{
	struct world *w = calloc(1, sizeof(*w));
	int len = sizeof(w->addr);

	assert_non_null(w);
	memset(&seen, 0, sizeof(seen));
	tiny.flags = flags;
	assert_int_equal(uv_loop_init(&w->loop), 0);
	atomic_init(&w->total, 0);
	atomic_init(&w->max_total, 1000);
	conn_ctx_init(&w->ctx, &w->loop, 0, &w->total, &w->max_total,
	    on_empty, w);
	w->svc.conf.name = "tiny";
	w->svc.conf.max_line = 512;
	w->svc.conf.max_queue = 65536;
	w->svc.conf.max_connections = 100;
	w->svc.h = &tiny;
	/* Never the last reference: the test owns the service. */
	atomic_init(&w->svc.refs, 1000);
	w->svc.nlocal = 1;
	w->svc.local = &w->local;
	TAILQ_INIT(&w->local.conns);
	assert_int_equal(uv_tcp_init(&w->loop, &w->server), 0);
	w->server.data = w;
	uv_ip4_addr("127.0.0.1", 0, &w->addr);
	assert_int_equal(uv_tcp_bind(&w->server,
	    (const struct sockaddr *)&w->addr, 0), 0);
	assert_int_equal(uv_tcp_getsockname(&w->server,
	    (struct sockaddr *)&w->addr, &len), 0);
	assert_int_equal(uv_listen((uv_stream_t *)&w->server, 16,
	    on_connection), 0);
	w->client = -1;
	return w;
}

/* Runs the loop until *what (an int) is at least want, or fails. */
static void
world_until(struct world *w, const volatile int *what, int want)
{
	int i;

	for (i = 0; i < 2000 && *what < want; i++) {
		(void)uv_run(&w->loop, UV_RUN_NOWAIT);
		if (*what < want)
			usleep(1000);
	}
	assert_true(*what >= want);
}

/* Runs the loop until ctx has n connections. */
static void
world_count(struct world *w, unsigned int n)
{
	int i;

	for (i = 0; i < 2000 && conn_ctx_count(&w->ctx) != n; i++) {
		(void)uv_run(&w->loop, UV_RUN_NOWAIT);
		usleep(1000);
	}
	assert_int_equal(conn_ctx_count(&w->ctx), n);
}

/* The client connects; rcvbuf > 0: with a receive buffer that small. */
static void
world_connect(struct world *w, int rcvbuf)
{
	w->client = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(w->client >= 0);
	if (rcvbuf > 0)
		(void)setsockopt(w->client, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
		    sizeof(rcvbuf));
	assert_int_equal(connect(w->client, (struct sockaddr *)&w->addr,
	    sizeof(w->addr)), 0);
}

static void
world_send(struct world *w, const char *s)
{
	assert_int_equal(write(w->client, s, strlen(s)), (ssize_t)strlen(s));
}

/* Runs the loop a few turns, so that what was sent is read. */
static void
world_spin(struct world *w)
{
	int i;

	for (i = 0; i < 20; i++) {
		(void)uv_run(&w->loop, UV_RUN_NOWAIT);
		usleep(1000);
	}
}

static void
world_free(struct world *w)
{
	if (w->client != -1)
		close(w->client);
	conn_ctx_abort_all(&w->ctx);
	world_count(w, 0);
	uv_close((uv_handle_t *)&w->server, NULL);
	conn_ctx_close(&w->ctx);
	(void)uv_run(&w->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&w->loop), 0);
	conn_ctx_free(&w->ctx);
	free(w);
}

static void
a_line_handler_gets_whole_lines(void **state)
{
	struct world *w = world_new(SOCKD_LINES);

	(void)state;
	world_connect(w, 0);
	world_until(w, &seen.connects, 1);
	world_send(w, "ab");
	world_spin(w);
	world_send(w, "c\nd");
	world_spin(w);
	world_send(w, "e\n");
	world_until(w, &seen.nlines, 2);
	assert_int_equal(seen.nlines, 2);
	assert_string_equal(seen.lines[0], "abc\n");
	assert_string_equal(seen.lines[1], "de\n");
	world_free(w);
}

static void
a_peer_that_does_not_read_is_closed_past_max_queue(void **state)
{
	struct world *w = world_new(0);

	(void)state;
	w->svc.conf.max_queue = 1024;
	seen.flood = 1;
	world_connect(w, 4096);
	world_until(w, &seen.connects, 1);
	assert_true(seen.write_refused);
	assert_int_equal(w->local.st.closed_slow, 1);
	world_count(w, 0);
	assert_int_equal(seen.closes, 1);
	world_free(w);
}

/* A client connects and is turned away: the handler never hears of its
 * close, and nothing stays counted. */
static void
world_refused(struct world *w)
{
	int i;

	world_connect(w, 0);
	for (i = 0; i < 2000 && w->local.st.accepted == 0 &&
	    w->local.st.refused_busy == 0; i++) {
		(void)uv_run(&w->loop, UV_RUN_NOWAIT);
		usleep(1000);
	}
	world_count(w, 0);
	assert_int_equal(seen.closes, 0);
	assert_int_equal(atomic_load(&w->total), 0);
}

static void
tcp_close_is_not_called_for_a_refused_connection(void **state)
{
	struct world *w = world_new(0);

	(void)state;
	w->svc.conf.max_connections = 0;
	world_refused(w);
	assert_int_equal(w->local.st.refused_busy, 1);
	assert_int_equal(w->local.st.accepted, 0);
	assert_int_equal(seen.connects, 0);
	world_free(w);
}

static void
tcp_close_is_not_called_when_tcp_connect_refuses(void **state)
{
	struct world *w = world_new(0);

	(void)state;
	seen.refuse = 1;
	world_refused(w);
	assert_int_equal(w->local.st.accepted, 1);
	assert_int_equal(seen.connects, 1);
	world_free(w);
}

static void
a_draining_context_calls_empty_after_its_last_connection(void **state)
{
	struct world *w = world_new(0);

	(void)state;
	world_connect(w, 0);
	world_count(w, 1);
	assert_int_equal(atomic_load(&w->total), 1);
	assert_int_equal(conn_ctx_drain(&w->ctx), 1);
	world_spin(w);
	assert_int_equal(w->empty, 0);
	close(w->client);
	w->client = -1;
	world_until(w, &w->empty, 1);
	assert_int_equal(w->empty, 1);
	assert_int_equal(conn_ctx_count(&w->ctx), 0);
	assert_int_equal(seen.closes, 1);
	world_free(w);
}

static void
a_context_not_draining_never_calls_the_empty_callback(void **state)
{
	struct world *w = world_new(0);

	(void)state;
	world_connect(w, 0);
	world_count(w, 1);
	close(w->client);
	w->client = -1;
	world_count(w, 0);
	world_spin(w);
	assert_int_equal(w->empty, 0);
	world_free(w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_line_handler_gets_whole_lines),
		cmocka_unit_test(
		    a_peer_that_does_not_read_is_closed_past_max_queue),
		cmocka_unit_test(
		    tcp_close_is_not_called_for_a_refused_connection),
		cmocka_unit_test(
		    tcp_close_is_not_called_when_tcp_connect_refuses),
		cmocka_unit_test(
		    a_draining_context_calls_empty_after_its_last_connection),
		cmocka_unit_test(
		    a_context_not_draining_never_calls_the_empty_callback),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
