/* net collector: the target's TCP and UDP sockets from tracepoints (no
 * kprobes): bytes and calls each way, errors by errno, retransmits,
 * srtt, connect and response latency per socket and per remote endpoint
 * (net_report.c), or with --stream one line per event as it happens
 * (output/stream.c). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "collect/net_report.h"
#include "net.skel.h"
#include "output/stream.h"
#include "run/collector.h"
#include "run/features.h"
#include "util/util.h"

static const struct ptable_def *const net_tables[] = { &net_socket_table, &net_endpoint_table,
						       NULL };

struct net_state {
	struct net_bpf *skel;
	const struct options *opts;
	struct target *target;
	struct ring_buffer *rb;
	struct stream *stream;
	uint64_t t_start, t_stop;
	int64_t realtime_off; /* CLOCK_REALTIME - CLOCK_MONOTONIC, ns */
	uint64_t drops_shown; /* ring buffer drops last written to the stream */
	struct strlist lacks; /* what this kernel lacks, for the report's notes */
	struct net_prev prev; /* the last -i snapshot */
	/* sockv and hists, mapped */
	const struct net_sock *slots;
	const struct func_hist *hists;
	size_t slots_len, hists_len;
};

static void net_close(void *state);

/* Without these nothing works; the others each give one part. */
static const enum feature net_needs[] = {
	FEAT_BTF,
	FEAT_RAW_TRACEPOINT,
	FEAT_TP_SOCK_SEND_LENGTH,
	FEAT_TP_SOCK_RECV_LENGTH,
};

/* Drops the program of a tracepoint this kernel lacks (both variants:
 * tp_btf, raw_tp), saying what is missing then. */
static void optional_tp(struct net_state *s, enum feature f, struct bpf_program *sk_prog,
			struct bpf_program *prog, const char *what)
{
	if (feature_has(f))
		return;
	bpf_program__set_autoload(sk_prog, false);
	bpf_program__set_autoload(prog, false);
	strlist_addf(&s->lacks, "this kernel lacks %s (%s): no %s", feature_key(f),
		     feature_detail(f), what);
}

/* 1: the tp_btf programs, each socket's slot in its sk_storage; 0: the
 * raw_tp programs, the slot in a hash by socket pointer (one more lookup
 * per call), with why in *why. */
static int use_sk_storage(const char **why)
{
	const char *e = getenv("EBPROF_NO_SK_STORAGE");

	if (e && *e && strcmp(e, "0") != 0) {
		*why = "EBPROF_NO_SK_STORAGE is set";
		return 0;
	}
	if (!feature_has(FEAT_TP_BTF_SK_STORAGE)) {
		*why = feature_detail(FEAT_TP_BTF_SK_STORAGE);
		return 0;
	}
	return 1;
}

/* Every slot of a free-slot queue, for the programs to take. */
static int fill_queue(struct bpf_map *q)
{
	int fd = bpf_map__fd(q);

	for (uint32_t i = 0; i < bpf_map__max_entries(q); i++)
		if (bpf_map_update_elem(fd, NULL, &i, BPF_ANY))
			return -errno;
	return 0;
}

/* A read-only mapping of a BPF_F_MMAPABLE array; *len its length. */
static const void *map_array(struct bpf_map *m, size_t *len)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	/* array elements are 8-byte aligned */
	size_t n = ((bpf_map__value_size(m) + 7) & ~(size_t)7) * bpf_map__max_entries(m);
	void *p;

	*len = (n + page - 1) / page * page;
	p = mmap(NULL, *len, PROT_READ, MAP_SHARED, bpf_map__fd(m), 0);
	return p == MAP_FAILED ? NULL : p;
}

static int net_open(void **statep, const struct options *o, struct target *t)
{
	struct net_state *s;
	struct net_bpf *k;
	const char *why = "";
	int err, sks;

	if (features_require("the net report", net_needs, ARRAY_SIZE(net_needs)))
		return -ENOTSUP;
	if (o->stream && !feature_has(FEAT_RINGBUF))
		return features_require("net --stream", (enum feature[]){ FEAT_RINGBUF }, 1);
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->opts = o;
	s->target = t;
	k = s->skel = net_bpf__open();
	if (!k) {
		err = -errno;
		collector_bpf_error("net", 0, err);
		goto fail;
	}
	k->rodata->targ_tgid = (uint32_t)t->pid;
	k->rodata->stream = (uint32_t)o->stream;
	if (!o->stream) /* the smallest ring buffer: one page */
		bpf_map__set_max_entries(k->maps.events, (uint32_t)sysconf(_SC_PAGESIZE));
	sks = use_sk_storage(&why);
	{
		struct bpf_program *sk_progs[] = { k->progs.net_send_sk, k->progs.net_recv_sk,
						   k->progs.net_state_sk,
						   k->progs.net_retransmit_sk,
						   k->progs.net_destroy_sk };
		struct bpf_program *progs[] = { k->progs.net_send, k->progs.net_recv,
						k->progs.net_state, k->progs.net_retransmit,
						k->progs.net_destroy };

		for (size_t i = 0; i < ARRAY_SIZE(progs); i++)
			bpf_program__set_autoload(sks ? progs[i] : sk_progs[i], false);
	}
	if (sks) /* the fallback's map, unused: its smallest size */
		bpf_map__set_max_entries(k->maps.socks, 1);
	else
		strlist_addf(&s->lacks,
			     "per-socket state found through a hash by socket pointer, not "
			     "sk_storage (%s): more cost per send and receive",
			     why);
	optional_tp(s, FEAT_TP_INET_SOCK_SET_STATE, k->progs.net_state_sk, k->progs.net_state,
		    "connect latency, accept or close times");
	optional_tp(s, FEAT_TP_TCP_RETRANSMIT_SKB, k->progs.net_retransmit_sk,
		    k->progs.net_retransmit, "retransmits");
	optional_tp(s, FEAT_TP_TCP_DESTROY_SOCK, k->progs.net_destroy_sk, k->progs.net_destroy,
		    "close events");
	err = net_bpf__load(k);
	if (err) {
		collector_bpf_error("net", 1, err);
		goto fail;
	}
	err = fill_queue(k->maps.free_slots);
	err = err ?: fill_queue(k->maps.free_hists);
	if (!err) {
		s->slots = map_array(k->maps.sockv, &s->slots_len);
		s->hists = map_array(k->maps.hists, &s->hists_len);
		if (!s->slots || !s->hists)
			err = -errno;
	}
	if (err) {
		ebprof_err("cannot set up the net maps: %s", strerror(-err));
		goto fail;
	}
	*statep = s;
	return 0;
fail:
	net_close(s);
	return err;
}

static int handle_event(void *ctx, void *data, size_t len);

static int net_attach(void *state)
{
	struct net_state *s = state;
	struct timespec rt;
	int err;

	if (s->opts->stream) {
		err = stream__new(s->opts->output,
				  strcmp(s->opts->format, "jsonl") ? STREAM_TSV : STREAM_JSONL,
				  &s->stream);
		if (err)
			return err;
		s->rb = ring_buffer__new(bpf_map__fd(s->skel->maps.events), handle_event, s, NULL);
		if (!s->rb) {
			err = -errno;
			ebprof_err("cannot read the net ring buffer: %s", strerror(-err));
			return err;
		}
	}
	err = net_bpf__attach(s->skel);
	if (err) {
		ebprof_err("cannot attach the net tracepoints: %s", strerror(-err));
		return err;
	}
	s->t_start = now_ns();
	clock_gettime(CLOCK_REALTIME, &rt);
	s->realtime_off = (int64_t)rt.tv_sec * 1000000000 + rt.tv_nsec - (int64_t)s->t_start;
	return 0;
}

static const char *const ev_names[] = {
	[NET_EV_CONNECT] = "connect",	[NET_EV_ACCEPT] = "accept",
	[NET_EV_RESPONSE] = "response", [NET_EV_RETRANSMIT] = "retransmit",
	[NET_EV_CLOSE] = "close",
};

/* One stream line per event. */
static int handle_event(void *ctx, void *data, size_t len)
{
	struct net_state *s = ctx;
	const struct net_event *ev = data;
	char comm[NET_COMM_LEN + 1], local[64], remote[64];

	if (len < sizeof(*ev) || ev->type >= ARRAY_SIZE(ev_names) || !ev_names[ev->type])
		return 0;
	memcpy(comm, ev->comm, NET_COMM_LEN);
	comm[NET_COMM_LEN] = 0;
	net_endpoint_str(local, sizeof(local), ev->family, ev->laddr, ev->lport);
	net_endpoint_str(remote, sizeof(remote), ev->family, ev->raddr, ev->rport);
	struct stream_field f[] = {
		{ "time", SF_DOUBLE, .d = (double)((int64_t)ev->ts + s->realtime_off) / 1e9 },
		{ "event", SF_STR, .s = ev_names[ev->type] },
		{ "pid", SF_INT, .i = ev->pid },
		{ "tid", SF_INT, .i = ev->tid },
		{ "comm", SF_STR, .s = comm },
		{ "proto", SF_STR, .s = net_proto_name(ev->proto) },
		{ "family", SF_STR, .s = net_family_name(ev->family) },
		{ "role", SF_STR, .s = net_role_name(ev->role) },
		{ "local", SF_STR, .s = local },
		{ "remote", SF_STR, .s = remote },
		{ "latency_ns", SF_INT, .i = (int64_t)ev->latency_ns },
		{ "tx_bytes", SF_INT, .i = (int64_t)ev->tx_bytes },
		{ "rx_bytes", SF_INT, .i = (int64_t)ev->rx_bytes },
		{ "retrans", SF_INT, .i = (int64_t)ev->retrans },
		{ "lifetime_ns", SF_INT, .i = (int64_t)ev->lifetime_ns },
	};
	/* a negative return stops ring_buffer__consume: the reader has gone */
	return stream__write(s->stream, f, ARRAY_SIZE(f));
}

/* Drains the ring buffer; a line for drops since the last one.  1 when
 * the reader of the stream has gone (the session stops), else 0. */
static int drain(struct net_state *s)
{
	uint64_t drops;

	if (!s->rb)
		return 0;
	ring_buffer__consume(s->rb);
	drops = s->skel->bss->stats[NET_STAT_RINGBUF_DROPS];
	if (drops != s->drops_shown && !stream__closed(s->stream)) {
		stream__lost(s->stream, drops);
		s->drops_shown = drops;
	}
	return stream__closed(s->stream);
}

static int net_tick(void *state)
{
	return drain(state);
}

static void net_stop(void *state)
{
	struct net_state *s = state;
	uint64_t drops;

	if (s->t_stop)
		return;
	net_bpf__detach(s->skel);
	s->t_stop = now_ns();
	drain(s);
	drops = s->skel->bss->stats[NET_STAT_RINGBUF_DROPS];
	if (s->stream && drops)
		ebprof_err("net --stream: %llu events dropped (ring buffer full)",
			   (unsigned long long)drops);
}

static int net_report(void *state, struct profile **out)
{
	struct net_state *s = state;
	struct net_maps m = {
		.slots = s->slots,
		.nslots = bpf_map__max_entries(s->skel->maps.sockv),
		.hists = s->hists,
		.nhists = bpf_map__max_entries(s->skel->maps.hists),
		.errs = bpf_map__fd(s->skel->maps.errs),
		.stats = (const uint64_t *)s->skel->bss->stats,
	};
	struct profile *p = profile_new("net",
					"Network: the target's sockets and remote endpoints");
	int err;

	if (!p)
		return -ENOMEM;
	/* while collecting: a -i snapshot, with the interval's rates */
	err = s->t_stop ? net_report_build(p, &m, s->t_start, s->t_stop, NULL) :
			  net_report_build(p, &m, s->t_start, now_ns(), &s->prev);
	for (size_t i = 0; !err && i < s->lacks.n; i++)
		err = profile_note(p, "%s", s->lacks.v[i]);
	if (err) {
		profile_free(p);
		return err;
	}
	*out = p;
	return 0;
}

static void net_close(void *state)
{
	struct net_state *s = state;

	if (!s)
		return;
	ring_buffer__free(s->rb);
	if (s->slots)
		munmap((void *)s->slots, s->slots_len);
	if (s->hists)
		munmap((void *)s->hists, s->hists_len);
	net_bpf__destroy(s->skel);
	stream__free(s->stream);
	strlist_free(&s->lacks);
	net_prev_free(&s->prev);
	free(s);
}

const struct collector_ops net_collector = {
	.name = "net",
	.desc = "TCP/UDP sockets: bytes, errors, retransmits, RTT, connect and response latency",
	.default_on = 0,
	.tables = net_tables,
	.open = net_open,
	.attach = net_attach,
	.tick = net_tick,
	.stop = net_stop,
	.report = net_report,
	.close = net_close,
};
