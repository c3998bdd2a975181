/* net collector: the sockets and endpoints tables (see net_report.h). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "collect/func_hist.h"
#include "collect/net_report.h"
#include "util/bpfmap.h"
#include "util/util.h"

#define IPPROTO_TCP_ 6
#define AF_INET6_ 10

enum {
	S_PROTO,
	S_FAMILY,
	S_LOCAL,
	S_REMOTE,
	S_ROLE,
	S_STATE,
	S_LIFETIME,
	S_TX,
	S_RX,
	S_TXC,
	S_RXC,
	S_ERRORS,
	S_RETRANS,
	S_SRTT_MIN,
	S_SRTT_MEAN,
	S_SRTT_MAX,
	S_CONNECT,
	S_RESP,
	S_P50,
	S_P90,
	S_P99,
	S_COMM,
	S_N
};

/* Columns both tables have (P: S or E), defined once. */
#define TRAFFIC_COLS(P)                                      \
	[P##_TX] = { "tx_bytes", "sent", "bytes", COL_INT }, \
	[P##_RX] = { "rx_bytes", "received", "bytes", COL_INT }
#define RESPONSE_COLS(P)                                             \
	[P##_RESP] = { "responses", "responses", "count", COL_INT }, \
	[P##_P50] = { "resp_p50", "resp p50", "ns", COL_INT },       \
	[P##_P90] = { "resp_p90", "resp p90", "ns", COL_INT },       \
	[P##_P99] = { "resp_p99", "resp p99", "ns", COL_INT }

static const struct pcol_def socket_cols[S_N] = {
	[S_PROTO] = { "proto", "proto", "", COL_STR },
	[S_FAMILY] = { "family", "family", "", COL_STR },
	[S_LOCAL] = { "local", "local", "", COL_STR },
	[S_REMOTE] = { "remote", "remote", "", COL_STR },
	[S_ROLE] = { "role", "role", "", COL_STR },
	[S_STATE] = { "state", "state", "", COL_STR },
	[S_LIFETIME] = { "lifetime", "lifetime", "ns", COL_INT },
	TRAFFIC_COLS(S),
	[S_TXC] = { "tx_calls", "sends", "count", COL_INT },
	[S_RXC] = { "rx_calls", "recvs", "count", COL_INT },
	[S_ERRORS] = { "errors", "errors", "", COL_STR },
	[S_RETRANS] = { "retrans", "retrans", "count", COL_INT },
	[S_SRTT_MIN] = { "srtt_min", "srtt min", "ns", COL_INT },
	[S_SRTT_MEAN] = { "srtt_mean", "srtt mean", "ns", COL_INT },
	[S_SRTT_MAX] = { "srtt_max", "srtt max", "ns", COL_INT },
	[S_CONNECT] = { "connect", "connect", "ns", COL_INT },
	RESPONSE_COLS(S),
	[S_COMM] = { "comm", "thread", "", COL_STR },
};

const struct ptable_def net_socket_table = {
	"sockets", "Sockets", socket_cols, S_N, S_TX, 0,
};

enum {
	E_HOST,
	E_PORT,
	E_PROTO,
	E_ROLE,
	E_CONNS,
	E_TX,
	E_RX,
	E_RETRANS,
	E_SRTT_MEAN,
	E_CONNECT_MEAN,
	E_CONNECT_MAX,
	E_RESP,
	E_P50,
	E_P90,
	E_P99,
	E_N
};

static const struct pcol_def endpoint_cols[E_N] = {
	[E_HOST] = { "host", "remote host", "", COL_STR },
	[E_PORT] = { "port", "port", "", COL_INT },
	[E_PROTO] = { "proto", "proto", "", COL_STR },
	[E_ROLE] = { "role", "role", "", COL_STR },
	[E_CONNS] = { "conns", "sockets", "count", COL_INT },
	TRAFFIC_COLS(E),
	[E_RETRANS] = { "retrans", "retrans", "count", COL_INT },
	[E_SRTT_MEAN] = { "srtt_mean", "srtt mean", "ns", COL_INT },
	[E_CONNECT_MEAN] = { "connect_mean", "connect mean", "ns", COL_INT },
	[E_CONNECT_MAX] = { "connect_max", "connect max", "ns", COL_INT },
	RESPONSE_COLS(E),
};

const struct ptable_def net_endpoint_table = {
	"endpoints", "Remote endpoints (port: the server's)", endpoint_cols, E_N, E_P99, 0,
};

const char *net_proto_name(unsigned proto)
{
	return proto == IPPROTO_TCP_ ? "tcp" : "udp";
}

const char *net_family_name(unsigned family)
{
	return family == AF_INET6_ ? "ipv6" : "ipv4";
}

const char *net_role_name(unsigned role)
{
	return role == NET_ROLE_CLIENT ? "client" : role == NET_ROLE_SERVER ? "server" : "-";
}

static void host_str(char *buf, size_t len, unsigned family, const uint8_t *addr)
{
	if (!inet_ntop(family == AF_INET6_ ? AF_INET6 : AF_INET, addr, buf, (socklen_t)len))
		snprintf(buf, len, "?");
}

void net_endpoint_str(char *buf, size_t len, unsigned family, const uint8_t *addr, unsigned port)
{
	char host[INET6_ADDRSTRLEN];

	if (!port) {
		snprintf(buf, len, "*");
		return;
	}
	host_str(host, sizeof(host), family, addr);
	snprintf(buf, len, family == AF_INET6_ ? "[%s]:%u" : "%s:%u", host, port);
}

static const char *state_name(const struct net_sock *e)
{
	static const char *const tcp[] = {
		"?",	     "ESTABLISHED", "SYN_SENT",	    "SYN_RECV",	  "FIN_WAIT1",
		"FIN_WAIT2", "TIME_WAIT",   "CLOSE",	    "CLOSE_WAIT", "LAST_ACK",
		"LISTEN",    "CLOSING",	    "NEW_SYN_RECV",
	};

	if (e->proto != IPPROTO_TCP_)
		return e->rport ? "connected" : "unconnected";
	return e->state < ARRAY_SIZE(tcp) ? tcp[e->state] : "?";
}

/* Everything read from the maps once per report. */
struct net_rep {
	struct net_sock *socks;
	size_t n, cap;
	struct {
		struct net_err_key k;
		uint64_t n;
	} * errs;
	size_t nerrs, errs_cap;
	const struct func_hist *hists;
	size_t nhists;
	uint64_t now;
	const struct net_prev *prev; /* -i: the previous snapshot; NULL: final report */
	uint64_t dt;		     /* -i: ns since it */
};

/* The interval columns, after a table's own (-i snapshots only). */
enum { IV_TX, IV_RX, IV_TX_RATE, IV_RX_RATE, IV_CALLS_RATE, IV_RETRANS, IV_N };

static const struct pcol_def iv_cols[IV_N] = {
	[IV_TX] = { "tx_interval", "sent/iv", "", COL_INT },
	[IV_RX] = { "rx_interval", "recvd/iv", "", COL_INT },
	[IV_TX_RATE] = { "tx_rate", "sent/s", "bytes/s", COL_INT },
	[IV_RX_RATE] = { "rx_rate", "recvd/s", "bytes/s", COL_INT },
	[IV_CALLS_RATE] = { "calls_rate", "calls/s", "calls/s", COL_INT },
	[IV_RETRANS] = { "retrans_interval", "retrans/iv", "count", COL_INT },
};

/* A socket's or endpoint's counters since the previous snapshot. */
struct net_iv {
	uint64_t tx, rx, calls, retrans;
};

static int prev_cmp(const void *a, const void *b)
{
	uint64_t x = ((const struct net_prev_sock *)a)->id,
		 y = ((const struct net_prev_sock *)b)->id;

	return x < y ? -1 : x > y;
}

static struct net_iv sock_iv(const struct net_rep *r, const struct net_sock *e)
{
	struct net_prev_sock k = { .id = e->id }, *p;
	struct net_iv d = { e->tx_bytes, e->rx_bytes, e->tx_calls + e->rx_calls, e->retrans };

	p = r->prev->n ? bsearch(&k, r->prev->v, r->prev->n, sizeof(k), prev_cmp) : NULL;
	if (p) {
		d.tx -= p->tx;
		d.rx -= p->rx;
		d.calls -= p->calls;
		d.retrans -= p->retrans;
	}
	return d;
}

/* v per second over the interval, rounded down. */
static int64_t per_sec(const struct net_rep *r, uint64_t v)
{
	return r->dt ? (int64_t)((unsigned __int128)v * 1000000000u / r->dt) : 0;
}

static int add_iv_cols(struct ptable *t)
{
	for (size_t i = 0; i < IV_N; i++)
		if (ptable_add_col(t, iv_cols[i].key, iv_cols[i].header, iv_cols[i].unit,
				   iv_cols[i].type) < 0)
			return -ENOMEM;
	return 0;
}

/* The interval cells of row, from column base. */
static void set_iv(struct ptable *t, const struct net_rep *r, int64_t row, size_t base,
		   const struct net_iv *d)
{
#define C(col) ptable_cell(t, (size_t)row, base + (col))->i
	C(IV_TX) = (int64_t)d->tx;
	C(IV_RX) = (int64_t)d->rx;
	C(IV_TX_RATE) = per_sec(r, d->tx);
	C(IV_RX_RATE) = per_sec(r, d->rx);
	C(IV_CALLS_RATE) = per_sec(r, d->calls);
	C(IV_RETRANS) = (int64_t)d->retrans;
#undef C
}

/* A copy of every used slot (the programs keep writing to them). */
static int read_socks(struct net_rep *r, const struct net_sock *slots, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct net_sock e = ((const volatile struct net_sock *)slots)[i];

		if (!e.id)
			continue;
		if (array_grow((void **)&r->socks, &r->cap, r->n + 1, sizeof(e)))
			return -ENOMEM;
		r->socks[r->n++] = e;
	}
	return 0;
}

static int read_errs(struct net_rep *r, int fd)
{
	struct net_err_key k;
	uint64_t n;
	int started = 0;

	while (map_next_entry(fd, &k, sizeof(k), &started, &n)) {
		if (array_grow((void **)&r->errs, &r->errs_cap, r->nerrs + 1, sizeof(*r->errs)))
			return -ENOMEM;
		r->errs[r->nerrs].k = k;
		r->errs[r->nerrs++].n = n;
	}
	return 0;
}

/* "send EAGAIN x3, recv ECONNRESET x1", or "" without errors. */
static void errors_str(const struct net_rep *r, uint64_t id, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = 0;
	for (size_t i = 0; i < r->nerrs && off < len; i++) {
		const char *name;

		if (r->errs[i].k.id != id)
			continue;
		name = strerrorname_np((int)r->errs[i].k.err);
		off += (size_t)snprintf(buf + off, len - off, "%s%s %s x%llu", off ? ", " : "",
					r->errs[i].k.dir ? "recv" : "send", name ? name : "?",
					(unsigned long long)r->errs[i].n);
	}
}

/* Adds socket e's histogram into b (FUNC_HIST_BUCKETS); 0 when it has none. */
static void add_hist(const struct net_rep *r, const struct net_sock *e, uint64_t *b)
{
	const volatile struct func_hist *h;

	if (!e->responses || !e->hist || e->hist > r->nhists)
		return;
	h = &r->hists[e->hist - 1];
	for (size_t i = 0; i < FUNC_HIST_BUCKETS; i++)
		b[i] += h->b[i];
}

/* The response columns from col (RESPONSE_COLS: count, p50, p90, p99). */
static void set_responses(struct ptable *t, int64_t row, size_t col, uint64_t n, const uint64_t *b,
			  uint64_t min, uint64_t max)
{
	static const unsigned pct[] = { 50, 90, 99 };

	ptable_cell(t, (size_t)row, col)->i = (int64_t)n;
	for (size_t i = 0; i < ARRAY_SIZE(pct); i++)
		ptable_cell(t, (size_t)row, col + 1 + i)->i = (int64_t)func_hist_percentile(
			b, FUNC_HIST_BUCKETS, pct[i], min, max);
}

static int socket_row(struct ptable *t, const struct net_rep *r, const struct net_sock *e,
		      uint64_t *b)
{
	char buf[256], comm[NET_COMM_LEN + 1];
	int64_t row = ptable_add_row(t);
	uint64_t end = e->end_ns ? e->end_ns : r->now;
	int err;

	if (row < 0)
		return (int)row;
#define I(col) ptable_cell(t, (size_t)row, col)->i
	I(S_LIFETIME) = end > e->start_ns ? (int64_t)(end - e->start_ns) : 0;
	I(S_TX) = (int64_t)e->tx_bytes;
	I(S_RX) = (int64_t)e->rx_bytes;
	I(S_TXC) = (int64_t)e->tx_calls;
	I(S_RXC) = (int64_t)e->rx_calls;
	I(S_RETRANS) = (int64_t)e->retrans;
	I(S_SRTT_MIN) = (int64_t)e->srtt_min * 1000;
	I(S_SRTT_MEAN) = e->srtt_n ? (int64_t)(e->srtt_sum * 1000 / e->srtt_n) : 0;
	I(S_SRTT_MAX) = (int64_t)e->srtt_max * 1000;
	I(S_CONNECT) = (int64_t)e->connect_ns;
#undef I
	memset(b, 0, FUNC_HIST_BUCKETS * sizeof(*b));
	add_hist(r, e, b);
	set_responses(t, row, S_RESP, e->responses, b, e->resp_min, e->resp_max);
	err = ptable_set_str(t, (size_t)row, S_PROTO, net_proto_name(e->proto));
	err = err ?: ptable_set_str(t, (size_t)row, S_FAMILY, net_family_name(e->family));
	net_endpoint_str(buf, sizeof(buf), e->family, e->laddr, e->lport);
	err = err ?: ptable_set_str(t, (size_t)row, S_LOCAL, buf);
	net_endpoint_str(buf, sizeof(buf), e->family, e->raddr, e->rport);
	err = err ?: ptable_set_str(t, (size_t)row, S_REMOTE, buf);
	err = err ?: ptable_set_str(t, (size_t)row, S_ROLE, net_role_name(e->role));
	err = err ?: ptable_set_str(t, (size_t)row, S_STATE, state_name(e));
	errors_str(r, e->id, buf, sizeof(buf));
	err = err ?: ptable_set_str(t, (size_t)row, S_ERRORS, buf);
	memcpy(comm, e->comm, NET_COMM_LEN);
	comm[NET_COMM_LEN] = 0;
	if (r->prev) {
		struct net_iv d = sock_iv(r, e);

		set_iv(t, r, row, S_N, &d);
	}
	return err ?: ptable_set_str(t, (size_t)row, S_COMM, comm);
}

/* One remote endpoint: host, service port, protocol, role. */
struct net_ep {
	char host[INET6_ADDRSTRLEN];
	unsigned port, proto, role;
	uint64_t conns, tx, rx, retrans, srtt_sum, srtt_n, conn_sum, conn_n, conn_max;
	uint64_t responses, resp_min, resp_max;
	uint64_t b[FUNC_HIST_BUCKETS];
	struct net_iv iv; /* -i: since the previous snapshot */
};

static struct net_ep *ep_of(struct net_ep **eps, size_t *n, size_t *cap, const struct net_sock *e)
{
	char host[INET6_ADDRSTRLEN] = "*";
	unsigned port = e->role == NET_ROLE_SERVER ? e->lport : e->rport;
	struct net_ep *x;

	if (e->rport)
		host_str(host, sizeof(host), e->family, e->raddr);
	for (size_t i = 0; i < *n; i++) {
		x = &(*eps)[i];
		if (x->port == port && x->proto == e->proto && x->role == e->role &&
		    !strcmp(x->host, host))
			return x;
	}
	if (array_grow((void **)eps, cap, *n + 1, sizeof(**eps)))
		return NULL;
	x = &(*eps)[(*n)++];
	snprintf(x->host, sizeof(x->host), "%s", host);
	x->port = port;
	x->proto = e->proto;
	x->role = e->role;
	return x;
}

static void ep_add(struct net_ep *x, const struct net_rep *r, const struct net_sock *e)
{
	if (r->prev) {
		struct net_iv d = sock_iv(r, e);

		x->iv.tx += d.tx;
		x->iv.rx += d.rx;
		x->iv.calls += d.calls;
		x->iv.retrans += d.retrans;
	}
	x->conns++;
	x->tx += e->tx_bytes;
	x->rx += e->rx_bytes;
	x->retrans += e->retrans;
	x->srtt_sum += e->srtt_sum;
	x->srtt_n += e->srtt_n;
	if (e->connect_ns) {
		x->conn_sum += e->connect_ns;
		x->conn_n++;
		if (e->connect_ns > x->conn_max)
			x->conn_max = e->connect_ns;
	}
	if (e->responses) {
		if (!x->responses || e->resp_min < x->resp_min)
			x->resp_min = e->resp_min;
		if (e->resp_max > x->resp_max)
			x->resp_max = e->resp_max;
		x->responses += e->responses;
		add_hist(r, e, x->b);
	}
}

static int endpoint_row(struct ptable *t, const struct net_rep *r, const struct net_ep *x)
{
	int64_t row = ptable_add_row(t);
	int err;

	if (row < 0)
		return (int)row;
#define I(col) ptable_cell(t, (size_t)row, col)->i
	I(E_PORT) = x->port;
	I(E_CONNS) = (int64_t)x->conns;
	I(E_TX) = (int64_t)x->tx;
	I(E_RX) = (int64_t)x->rx;
	I(E_RETRANS) = (int64_t)x->retrans;
	I(E_SRTT_MEAN) = x->srtt_n ? (int64_t)(x->srtt_sum * 1000 / x->srtt_n) : 0;
	I(E_CONNECT_MEAN) = x->conn_n ? (int64_t)(x->conn_sum / x->conn_n) : 0;
	I(E_CONNECT_MAX) = (int64_t)x->conn_max;
#undef I
	set_responses(t, row, E_RESP, x->responses, x->b, x->resp_min, x->resp_max);
	if (r->prev)
		set_iv(t, r, row, E_N, &x->iv);
	err = ptable_set_str(t, (size_t)row, E_HOST, x->host);
	err = err ?: ptable_set_str(t, (size_t)row, E_PROTO, net_proto_name(x->proto));
	return err ?: ptable_set_str(t, (size_t)row, E_ROLE, net_role_name(x->role));
}

static int add_tables(struct profile *p, struct net_rep *r)
{
	struct ptable *st = profile_table_def(p, &net_socket_table, NULL);
	struct ptable *et = profile_table_def(p, &net_endpoint_table, NULL);
	uint64_t *b = calloc(FUNC_HIST_BUCKETS, sizeof(*b));
	struct net_ep *eps = NULL;
	size_t neps = 0, cap = 0;
	int err = !st || !et || !b ? -ENOMEM : 0;

	if (!err && r->prev)
		err = add_iv_cols(st) ?: add_iv_cols(et);

	for (size_t i = 0; i < r->n && !err; i++) {
		struct net_ep *x = ep_of(&eps, &neps, &cap, &r->socks[i]);

		err = x ? socket_row(st, r, &r->socks[i], b) : -ENOMEM;
		if (!err)
			ep_add(x, r, &r->socks[i]);
	}
	for (size_t i = 0; i < neps && !err; i++)
		err = endpoint_row(et, r, &eps[i]);
	free(eps);
	free(b);
	return err;
}

/* Info key and label of every loss counter, from include/net.h. */
static const struct {
	const char *key, *label;
} loss_defs[NET_STAT_MAX] = {
#define NET_LOSS_DEF(name, key, label) [NET_STAT_##name] = { key, "  " label },
	NET_LOSSES(NET_LOSS_DEF)
#undef NET_LOSS_DEF
};

static void add_info(struct profile *p, const struct net_maps *m, const struct net_rep *r,
		     uint64_t t_start)
{
	uint64_t lost = 0, open = 0;

	for (size_t i = 0; i < r->n; i++)
		open += !(r->socks[i].flags & NET_F_CLOSED);
	for (int i = 0; i < NET_STAT_MAX; i++)
		lost += m->stats[i];
	profile_info_int(p, "duration", "duration", "ns", (int64_t)(r->now - t_start));
	if (r->prev) /* exact: the rates are the interval's figures over it */
		profile_info_int(p, "interval", "interval (ns)", "", (int64_t)r->dt);
	profile_info_int(p, "sockets", "sockets", "count", (int64_t)r->n);
	profile_info_int(p, "sockets_open", "  still open", "count", (int64_t)open);
	profile_info_int(p, "lost", "lost or dropped", "count", (int64_t)lost);
	for (int i = 0; i < NET_STAT_MAX; i++)
		profile_info_int(p, loss_defs[i].key, loss_defs[i].label, "count",
				 (int64_t)m->stats[i]);
}

void net_prev_free(struct net_prev *prev)
{
	free(prev->v);
	prev->v = NULL;
	prev->n = 0;
}

/* prev becomes the snapshot r. */
static int prev_update(struct net_prev *prev, const struct net_rep *r)
{
	struct net_prev_sock *v = r->n ? calloc(r->n, sizeof(*v)) : NULL;

	if (r->n && !v)
		return -ENOMEM;
	for (size_t i = 0; i < r->n; i++) {
		const struct net_sock *e = &r->socks[i];

		v[i] = (struct net_prev_sock){ e->id, e->tx_bytes, e->rx_bytes,
					       e->tx_calls + e->rx_calls, e->retrans };
	}
	if (r->n)
		qsort(v, r->n, sizeof(*v), prev_cmp);
	net_prev_free(prev);
	prev->v = v;
	prev->n = r->n;
	prev->t = r->now;
	return 0;
}

int net_report_build(struct profile *p, const struct net_maps *m, uint64_t t_start, uint64_t now,
		     struct net_prev *prev)
{
	struct net_rep r = { .hists = m->hists, .nhists = m->nhists, .now = now, .prev = prev };
	int err;

	if (prev) {
		uint64_t since = prev->t ? prev->t : t_start;

		r.dt = now > since ? now - since : 0;
	}

	err = read_socks(&r, m->slots, m->nslots);
	err = err ?: read_errs(&r, m->errs);
	err = err ?: add_tables(p, &r);
	if (!err)
		add_info(p, m, &r, t_start);
	if (!err && prev)
		err = prev_update(prev, &r);
	free(r.socks);
	free(r.errs);
	return err;
}
