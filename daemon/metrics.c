/*
 * metrics: the built-in handler that answers "GET /metrics" (and HEAD)
 * over HTTP/1.0 and 1.1 with the Prometheus text exposition format
 * (version 0.0.4): every live service's counters, the reloads' results,
 * the build and the standard process_* metrics.  Each worker counts into
 * its own part of a service with relaxed atomics (stats.h), so nothing on
 * the data path takes a lock or a locked instruction; a scrape sums the
 * workers' parts of every live service (service_foreach()) at that moment,
 * on whichever worker serves it, so counts are exact across workers.  A
 * service a reload left unchanged is the same object and keeps counting;
 * a changed one starts from zero (a counter reset, which Prometheus
 * expects), and while the old one still drains its connections the two
 * are reported as one, by name.
 *
 * The HTTP side is small and strict (httpreq.c): 400 for a malformed
 * head or one over 8 KiB, 405 for a method other than GET and HEAD on
 * /metrics, 404 for any other path, Content-Length always; HTTP/1.1 keeps
 * the connection unless "Connection: close", HTTP/1.0 closes it unless
 * "Connection: keep-alive".  Requests sent ahead (pipelined) are answered
 * in order, a few per loop turn and only while the connection's output
 * has drained (tcp_drain brings the next ones), and at most HTTPREQ_MAX
 * bytes of them may wait: more is a 400 and the connection closes.
 */
#include <sys/resource.h>

#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sockd/handler.h>

#include "bus.h"
#include "httpreq.h"
#include "metrics.h"
#include "service.h"
#include "stats.h"

#define HEAD_ROOM	256	/* the status line and header fields */
#define SERVE_BUDGET	8	/* requests answered per loop turn */

/* One connection's requests not yet answered. */
struct mconn {
	size_t		 len;
	int		 closing;
	char		 buf[HTTPREQ_MAX];
};

/* A growing text; failed once an allocation did not work. */
struct mbuf {
	char		*p;
	size_t		 len;
	size_t		 cap;
	int		 failed;
};

static void
mbuf_printf(struct mbuf *b, const char *fmt, ...)
{
	va_list ap;
	size_t cap;
	char *np;
	int n;

	if (b->failed)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->failed = 1;
			return;
		}
		if ((size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		cap = b->cap * 2 + (size_t)n;
		if ((np = realloc(b->p, cap)) == NULL) {
			b->failed = 1;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
}

/* A service's totals, the parts of all live services of that name. */
struct msvc {
	const char		*name;	/* points into names */
	char			 names[72];
	unsigned int		 protocols;
	struct svc_totals	 t;
};

struct magg {
	struct msvc		*v;
	size_t			 n;
	size_t			 cap;
	int			 failed;
};

/* Under the services' lock: sums s into its name's entry. */
static void
collect_one(struct service *s, void *arg)
{
	struct magg *a = arg;
	struct msvc *e, *nv;
	size_t i, cap;

	for (i = 0; i < a->n; i++)
		if (strcmp(a->v[i].names, s->conf.name) == 0)
			break;
	if (i == a->n) {
		if (a->n == a->cap) {
			cap = a->cap > 0 ? 2 * a->cap : 16;
			if ((nv = realloc(a->v, cap * sizeof(*nv))) == NULL) {
				a->failed = 1;
				return;
			}
			a->v = nv;
			a->cap = cap;
		}
		e = &a->v[a->n++];
		memset(e, 0, sizeof(*e));
		snprintf(e->names, sizeof(e->names), "%s", s->conf.name);
	}
	e = &a->v[i];
	e->protocols |= s->conf.protocols;
	service_totals(s, &e->t);
}

static int
msvc_cmp(const void *a, const void *b)
{
	return strcmp(((const struct msvc *)a)->names,
	    ((const struct msvc *)b)->names);
}

static void
family(struct mbuf *b, const char *name, const char *type, const char *help)
{
	mbuf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
	    type);
}

/* One sample per service that serves proto (0: every service); service
 * names are [a-z0-9_] (config.c), nothing to escape. */
#define SAMPLES(b, a, proto, metric, labels, field) do {		\
	size_t i_;							\
	for (i_ = 0; i_ < (a)->n; i_++)					\
		if ((proto) == 0 || ((a)->v[i_].protocols & (proto)))	\
			mbuf_printf((b), "%s{service=\"%s\"%s} %llu\n",	\
			    (metric), (a)->v[i_].names, (labels),	\
			    (unsigned long long)(a)->v[i_].t.field);	\
} while (0)

static void
render_services(struct mbuf *b, const struct magg *a)
{
	const char *m;

	m = "sockd_connections_accepted_total";
	family(b, m, "counter", "TCP connections accepted.");
	SAMPLES(b, a, SOCKD_TCP, m, "", accepted);
	m = "sockd_connections_open";
	family(b, m, "gauge", "TCP connections open now.");
	SAMPLES(b, a, SOCKD_TCP, m, "", open);
	m = "sockd_connections_refused_total";
	family(b, m, "counter", "TCP connections turned away at accept, "
	    "by reason.");
	SAMPLES(b, a, SOCKD_TCP, m, ",reason=\"busy\"", refused_busy);
	SAMPLES(b, a, SOCKD_TCP, m, ",reason=\"acl\"", refused_acl);
	SAMPLES(b, a, SOCKD_TCP, m, ",reason=\"per_source\"",
	    refused_source);
	SAMPLES(b, a, SOCKD_TCP, m, ",reason=\"rate\"", refused_rate);
	SAMPLES(b, a, SOCKD_TCP, m, ",reason=\"no_fds\"", refused_nofds);
	SAMPLES(b, a, SOCKD_TCP, m, ",reason=\"proxy_from\"", refused_proxy);
	m = "sockd_connections_closed_total";
	family(b, m, "counter", "TCP connections closed by sockd, by "
	    "reason.");
	SAMPLES(b, a, SOCKD_TCP, m, ",reason=\"idle\"", closed_idle);
	SAMPLES(b, a, SOCKD_TCP, m, ",reason=\"slow\"", closed_slow);
	SAMPLES(b, a, SOCKD_TCP, m, ",reason=\"proxy_bad\"", proxy_bad);
	SAMPLES(b, a, SOCKD_TCP, m, ",reason=\"proxy_timeout\"",
	    proxy_timeout);
	m = "sockd_exec_started_total";
	family(b, m, "counter", "Programs started for connections (exec).");
	SAMPLES(b, a, SOCKD_TCP, m, "", exec_started);
	m = "sockd_exec_failed_total";
	family(b, m, "counter", "Programs that could not be started (exec).");
	SAMPLES(b, a, SOCKD_TCP, m, "", exec_failed);
	m = "sockd_exec_exited_total";
	family(b, m, "counter", "Programs that exited (exec); started less "
	    "exited are running.");
	SAMPLES(b, a, SOCKD_TCP, m, "", exec_exited);
	m = "sockd_datagrams_received_total";
	family(b, m, "counter", "UDP datagrams received.");
	SAMPLES(b, a, SOCKD_UDP, m, "", dgrams);
	m = "sockd_datagrams_replied_total";
	family(b, m, "counter", "UDP datagrams sent (replies and relays).");
	SAMPLES(b, a, SOCKD_UDP, m, "", replies);
	m = "sockd_datagrams_dropped_total";
	family(b, m, "counter", "UDP datagrams dropped, or replies not sent, "
	    "by reason.");
	SAMPLES(b, a, SOCKD_UDP, m, ",reason=\"source\"", dropped_source);
	SAMPLES(b, a, SOCKD_UDP, m, ",reason=\"truncated\"",
	    dropped_truncated);
	SAMPLES(b, a, SOCKD_UDP, m, ",reason=\"acl\"", dropped_acl);
	SAMPLES(b, a, SOCKD_UDP, m, ",reason=\"rate\"", dropped_rate);
	SAMPLES(b, a, SOCKD_UDP, m, ",reason=\"budget\"", dropped_budget);
	SAMPLES(b, a, SOCKD_UDP, m, ",reason=\"send\"", dropped_send);
	SAMPLES(b, a, SOCKD_UDP, m, ",reason=\"handler\"", dropped_handler);
	m = "sockd_bytes_received_total";
	family(b, m, "counter", "Bytes received from clients.");
	SAMPLES(b, a, SOCKD_TCP, m, ",protocol=\"tcp\"", tcp_in);
	SAMPLES(b, a, SOCKD_UDP, m, ",protocol=\"udp\"", udp_in);
	m = "sockd_bytes_sent_total";
	family(b, m, "counter", "Bytes sent to clients.");
	SAMPLES(b, a, SOCKD_TCP, m, ",protocol=\"tcp\"", tcp_out);
	SAMPLES(b, a, SOCKD_UDP, m, ",protocol=\"udp\"", udp_out);
}

/* The whole file, at most size - 1 bytes, NUL-terminated; -1 on error. */
static ssize_t
read_small(const char *path, char *buf, size_t size)
{
	FILE *f;
	size_t n;

	if ((f = fopen(path, "re")) == NULL)
		return -1;
	n = fread(buf, 1, size - 1, f);
	buf[n] = '\0';
	fclose(f);
	return (ssize_t)n;
}

/* When the process started, in seconds since the epoch; 0 unknown. */
static double
process_start(void)
{
	char buf[4096], *p;
	unsigned long long start = 0, btime = 0;
	long tck = sysconf(_SC_CLK_TCK);
	int field;

	if (read_small("/proc/self/stat", buf, sizeof(buf)) <= 0 ||
	    (p = strrchr(buf, ')')) == NULL || tck <= 0)
		return 0;
	/* After the name come the fields from the 3rd on; 22 is starttime. */
	for (field = 2; field < 22 && p != NULL; field++)
		p = strchr(p + 1, ' ');
	if (p == NULL || sscanf(p, " %llu", &start) != 1)
		return 0;
	if (read_small("/proc/stat", buf, sizeof(buf)) <= 0 ||
	    (p = strstr(buf, "\nbtime ")) == NULL ||
	    sscanf(p, "\nbtime %llu", &btime) != 1)
		return 0;
	return (double)btime + (double)start / (double)tck;
}

static void
render_process(struct mbuf *b)
{
	struct rusage ru;
	struct rlimit rl;
	struct dirent *de;
	char buf[256];
	unsigned long long vm, rss;
	long page = sysconf(_SC_PAGESIZE);
	double start;
	DIR *d;
	long nfd = 0;

	if (getrusage(RUSAGE_SELF, &ru) == 0) {
		family(b, "process_cpu_seconds_total", "counter",
		    "Total user and system CPU time spent in seconds.");
		mbuf_printf(b, "process_cpu_seconds_total %.6f\n",
		    (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
		    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
	}
	if (read_small("/proc/self/statm", buf, sizeof(buf)) > 0 &&
	    sscanf(buf, "%llu %llu", &vm, &rss) == 2 && page > 0) {
		family(b, "process_resident_memory_bytes", "gauge",
		    "Resident memory size in bytes.");
		mbuf_printf(b, "process_resident_memory_bytes %llu\n",
		    rss * (unsigned long long)page);
		family(b, "process_virtual_memory_bytes", "gauge",
		    "Virtual memory size in bytes.");
		mbuf_printf(b, "process_virtual_memory_bytes %llu\n",
		    vm * (unsigned long long)page);
	}
	if ((start = process_start()) > 0) {
		family(b, "process_start_time_seconds", "gauge",
		    "Start time of the process since unix epoch in seconds.");
		mbuf_printf(b, "process_start_time_seconds %.2f\n", start);
	}
	if ((d = opendir("/proc/self/fd")) != NULL) {
		while ((de = readdir(d)) != NULL)
			if (de->d_name[0] != '.')
				nfd++;
		closedir(d);
		family(b, "process_open_fds", "gauge",
		    "Number of open file descriptors.");
		/* Less the one that counted them. */
		mbuf_printf(b, "process_open_fds %ld\n", nfd - 1);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		family(b, "process_max_fds", "gauge",
		    "Maximum number of open file descriptors.");
		if (rl.rlim_cur == RLIM_INFINITY)
			mbuf_printf(b, "process_max_fds +Inf\n");
		else
			mbuf_printf(b, "process_max_fds %llu\n",
			    (unsigned long long)rl.rlim_cur);
	}
}

/* The bus's state and counters, when one is configured. */
static void
render_bus(struct mbuf *b)
{
	unsigned long long dropped, published, received;
	int up;

	if (bus_stats(&up, &dropped, &published, &received) == -1)
		return;
	family(b, "sockd_bus_connected", "gauge",
	    "Whether the bus (Redis) is connected.");
	mbuf_printf(b, "sockd_bus_connected %d\n", up);
	family(b, "sockd_bus_published_total", "counter",
	    "Messages handed to the bus.");
	mbuf_printf(b, "sockd_bus_published_total %llu\n", published);
	family(b, "sockd_bus_received_total", "counter",
	    "Messages received from the bus.");
	mbuf_printf(b, "sockd_bus_received_total %llu\n", received);
	family(b, "sockd_bus_dropped_total", "counter",
	    "Messages not published: the bus was down or its queue full.");
	mbuf_printf(b, "sockd_bus_dropped_total %llu\n", dropped);
}

static void
render_daemon(struct mbuf *b)
{
	struct stats_reloads r;
	double last;

	stats_reloads(&r);
	family(b, "sockd_build_info", "gauge", "The version of sockd, as a "
	    "label; always 1.");
	mbuf_printf(b, "sockd_build_info{version=\"%s\"} 1\n", SOCKD_VERSION);
	family(b, "sockd_config_reloads_total", "counter",
	    "Configuration reloads, by result.");
	mbuf_printf(b, "sockd_config_reloads_total{result=\"success\"} %llu\n"
	    "sockd_config_reloads_total{result=\"failure\"} %llu\n",
	    (unsigned long long)r.success, (unsigned long long)r.failure);
	family(b, "sockd_config_last_reload_successful", "gauge",
	    "Whether the last reload worked (1 before the first).");
	mbuf_printf(b, "sockd_config_last_reload_successful %d\n", r.last_ok);
	/* The configuration in use was loaded at start, before any reload. */
	last = r.last_success > 0 ? (double)r.last_success : process_start();
	family(b, "sockd_config_last_reload_success_timestamp_seconds",
	    "gauge", "When the configuration in use was loaded.");
	mbuf_printf(b, "sockd_config_last_reload_success_timestamp_seconds "
	    "%.0f\n", last);
	render_bus(b);
}

char *
metrics_render(size_t room, size_t *off, size_t *len)
{
	struct mbuf b = { 0 };
	struct magg a = { 0 };

	if ((b.p = malloc(room + 8192)) == NULL)
		return NULL;
	b.cap = room + 8192;
	b.len = room;
	service_foreach(collect_one, &a);
	if (a.n > 1)
		qsort(a.v, a.n, sizeof(*a.v), msvc_cmp);
	render_daemon(&b);
	render_services(&b, &a);
	render_process(&b);
	free(a.v);
	if (b.failed || a.failed) {
		free(b.p);
		return NULL;
	}
	*off = room;
	*len = b.len - room;
	return b.p;
}

/* The handler. */

enum status { ST_OK, ST_BAD, ST_NOT_FOUND, ST_METHOD, ST_UNAVAILABLE };

static const char *const status_text[] = {
	[ST_OK] = "200 OK",
	[ST_BAD] = "400 Bad Request",
	[ST_NOT_FOUND] = "404 Not Found",
	[ST_METHOD] = "405 Method Not Allowed",
	[ST_UNAVAILABLE] = "503 Service Unavailable",
};

/* Sends the head for status s and, unless only
 * the head was asked for, the body of blen bytes that follows HEAD_ROOM
 * bytes of room in p. */
static void
respond(struct sockd_conn *c, char *p, size_t off, size_t blen,
    enum status s, int head_only, int keep)
{
	char head[HEAD_ROOM];
	int n;

	n = snprintf(head, sizeof(head), "HTTP/1.1 %s\r\n"
	    "Content-Type: %s\r\n"
	    "Content-Length: %zu\r\n"
	    "%s"
	    "Connection: %s\r\n\r\n", status_text[s],
	    s == ST_OK ? "text/plain; version=0.0.4; charset=utf-8" :
	    "text/plain; charset=utf-8", blen,
	    s == ST_METHOD ? "Allow: GET, HEAD\r\n" : "",
	    keep ? "keep-alive" : "close");
	/* The head goes right before the body: one write. */
	memcpy(p + off - (size_t)n, head, (size_t)n);
	(void)sockd_conn_write(c, p + off - (size_t)n,
	    (size_t)n + (head_only ? 0 : blen));
}

/* A short error answer; the connection closes after it unless keep. */
static void
respond_error(struct sockd_conn *c, enum status s, int head_only, int keep)
{
	char buf[HEAD_ROOM + 64];
	const char *t = status_text[s];
	size_t blen = strlen(t) + 1;

	memcpy(buf + HEAD_ROOM, t, blen - 1);
	buf[HEAD_ROOM + blen - 1] = '\n';
	respond(c, buf, HEAD_ROOM, blen, s, head_only, keep);
}

static int
is_metrics_path(const struct httpreq *r)
{
	return (r->pathlen == 8 || (r->pathlen > 8 && r->path[8] == '?')) &&
	    memcmp(r->path, "/metrics", 8) == 0;
}

/* Answers one request; 0 when the connection stays open. */
static int
metrics_answer(struct sockd_conn *c, const struct httpreq *r)
{
	int head_only = r->method == HTTPREQ_HEAD;
	size_t off, len;
	char *p;

	if (!is_metrics_path(r)) {
		respond_error(c, ST_NOT_FOUND, head_only, r->keepalive);
		return r->keepalive ? 0 : -1;
	}
	if (r->method == HTTPREQ_OTHER) {
		respond_error(c, ST_METHOD, 0, r->keepalive);
		return r->keepalive ? 0 : -1;
	}
	if ((p = metrics_render(HEAD_ROOM, &off, &len)) == NULL) {
		sockd_conn_log(c, LOG_WARNING, "out of memory for the metrics");
		respond_error(c, ST_UNAVAILABLE, head_only, 0);
		return -1;
	}
	respond(c, p, off, len, ST_OK, head_only, r->keepalive);
	free(p);
	return r->keepalive ? 0 : -1;
}

/* Answers the whole requests m holds, a few per turn, while c's output
 * has drained. */
static void
metrics_serve(struct sockd_conn *c, struct mconn *m)
{
	struct httpreq r;
	ssize_t n;
	int k;

	for (k = 0; k < SERVE_BUDGET && !m->closing; k++) {
		if (sockd_conn_pending(c) > 0)
			return;		/* tcp_drain comes back */
		if ((n = httpreq_parse(m->buf, m->len, &r)) == 0)
			return;
		if (n < 0) {
			sockd_conn_log(c, LOG_DEBUG, "bad request");
			respond_error(c, ST_BAD, 0, 0);
			m->closing = 1;
		} else {
			if (metrics_answer(c, &r) == -1)
				m->closing = 1;
			memmove(m->buf, m->buf + n, m->len - (size_t)n);
			m->len -= (size_t)n;
		}
		if (m->closing)
			sockd_conn_close(c);
	}
}

static void
metrics_data(struct sockd_conn *c, const char *p, size_t len)
{
	struct mconn *m = sockd_conn_data(c);
	size_t take;

	if (m == NULL) {
		if ((m = malloc(sizeof(*m))) == NULL) {
			sockd_conn_log(c, LOG_WARNING, "out of memory");
			sockd_conn_close(c);
			return;
		}
		m->len = 0;
		m->closing = 0;
		sockd_conn_set_data(c, m);
	}
	while (len > 0 && !m->closing) {
		take = sizeof(m->buf) - m->len;
		if (take == 0) {
			/* Requests sent ahead passed what may wait. */
			sockd_conn_log(c, LOG_DEBUG, "requests over %d bytes",
			    HTTPREQ_MAX);
			respond_error(c, ST_BAD, 0, 0);
			m->closing = 1;
			sockd_conn_close(c);
			return;
		}
		if (take > len)
			take = len;
		memcpy(m->buf + m->len, p, take);
		m->len += take;
		p += take;
		len -= take;
		metrics_serve(c, m);
	}
}

static void
metrics_drain(struct sockd_conn *c)
{
	struct mconn *m = sockd_conn_data(c);

	if (m != NULL && m->len > 0)
		metrics_serve(c, m);
}

static void
metrics_close(struct sockd_conn *c)
{
	free(sockd_conn_data(c));
}

const struct sockd_handler sockd_handler_metrics = {
	.abi_version = SOCKD_ABI_VERSION,
	.name = "metrics",
	.protocols = SOCKD_TCP,
	.tcp_data = metrics_data,
	.tcp_drain = metrics_drain,
	.tcp_close = metrics_close,
};
