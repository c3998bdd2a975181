// SPDX-License-Identifier: GPL-2.0
/* net collector: the target's sockets from tracepoints only (no kprobes):
 * sock_send_length / sock_recv_length (process context: filtered by the
 * target's tgid first), inet_sock_set_state, tcp_retransmit_skb and
 * tcp_destroy_sock (any context: attributed through the socket, never the
 * current task). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "func.h" /* the log-linear latency histogram */
#include "net.h"

#define AF_INET 2
#define AF_INET6 10
#define MSG_PEEK 2
#define SOCK_BINDPORT_LOCK 8
#define TCP_ESTABLISHED 1
#define TCP_SYN_SENT 2
#define TCP_SYN_RECV 3
#define TCP_CLOSE 7

const volatile __u32 targ_tgid = 0;
const volatile __u32 stream = 0; /* net --stream: events to the ring buffer */

/* NET_LOSSES in net.h. */
__u64 stats[NET_STAT_MAX] = {};

/* Every socket of the target has a slot of sockv for the whole run (its
 * record stays there after close); user space reads sockv through mmap.
 * A socket finds its slot from the socket itself (sk_slots, sk_storage:
 * a pointer off struct sock, tp_btf programs) or, on a kernel without
 * that, through the socks hash (raw_tp programs).  Free slots wait in
 * free_slots (user space fills it): a pop is one slot for one socket,
 * whichever CPU asks. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, NET_MAX_SOCKS);
	__type(key, __u32);
	__type(value, struct net_sock);
} sockv SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, NET_MAX_SOCKS);
	__type(value, __u32);
} free_slots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u32); /* NET_SLOT_* or slot + 1 */
} sk_slots SEC(".maps");

/* In front of sk_slots: the slot by the socket's cookie (unique for the
 * life of the kernel, never reused), direct-mapped: cookie << 16 | the
 * slot's low 16 bits, one 8-byte word, so a reader sees a whole entry or
 * another whole one.  A hit costs one load from the socket and one from
 * this array, both inlined (no helper call); a miss asks sk_slots and
 * fills the entry. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NET_SLOT_CACHE);
	__type(key, __u32);
	__type(value, __u64);
} slot_cache SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, NET_MAX_OPEN);
	__type(key, __u64);   /* struct sock * */
	__type(value, __u32); /* slot + 1 */
} socks SEC(".maps");

/* Response-latency histograms, one slot per socket that has responses
 * (net_sock.hist). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, NET_MAX_HISTS);
	__type(key, __u32);
	__type(value, struct func_hist);
} hists SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, NET_MAX_HISTS);
	__type(value, __u32);
} free_hists SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, NET_MAX_ERRS);
	__type(key, struct net_err_key);
	__type(value, __u64);
} errs SEC(".maps");

/* Connections that a listener established (SYN_RECV -> ESTABLISHED, in
 * softirq: no process to filter by), until the target uses them. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, NET_MAX_ACCEPTS);
	__type(key, __u64);
	__type(value, __u64); /* established, ns */
} accepts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, NET_RINGBUF_BYTES); /* user space shrinks it without --stream */
} events SEC(".maps");

static __always_inline void stat_inc(int i)
{
	__sync_fetch_and_add(&stats[i], 1);
}

static __always_inline int is_target(void)
{
	return (__u32)(bpf_get_current_pid_tgid() >> 32) == targ_tgid;
}

/* Addresses, ports and state from the socket. */
static __always_inline void read_addrs(struct net_sock *e, const struct sock *sk)
{
	e->lport = BPF_CORE_READ(sk, __sk_common.skc_num);
	e->rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (e->family == AF_INET6) {
		BPF_CORE_READ_INTO(&e->laddr, sk, __sk_common.skc_v6_rcv_saddr);
		BPF_CORE_READ_INTO(&e->raddr, sk, __sk_common.skc_v6_daddr);
	} else {
		BPF_CORE_READ_INTO((__u32 *)e->laddr, sk, __sk_common.skc_rcv_saddr);
		BPF_CORE_READ_INTO((__u32 *)e->raddr, sk, __sk_common.skc_daddr);
	}
	e->state = BPF_CORE_READ(sk, __sk_common.skc_state);
}

/* sk_slots values besides slots: a socket of another family or protocol
 * (never recorded), a socket that found no free slot (its events are
 * counted lost). */
#define NET_SLOT_SKIP 0xffffffffu
#define NET_SLOT_FULL 0xfffffffeu
#define NET_COOKIE_MAX (1ull << 48) /* cookies slot_cache can hold */
_Static_assert(NET_MAX_SOCKS < 0xfffe, "slot_cache keeps 16 bits of a slot");
_Static_assert((NET_SLOT_CACHE & (NET_SLOT_CACHE - 1)) == 0, "NET_SLOT_CACHE: a power of 2");

/* The record of a known socket, or NULL. */
static __always_inline struct net_sock *sock_find(const struct sock *sk, const int sks)
{
	__u64 key = (__u64)sk;
	__u32 *slot;

	if (sks)
		slot = bpf_sk_storage_get(&sk_slots, (struct sock *)sk, NULL, 0);
	else
		slot = bpf_map_lookup_elem(&socks, &key);
	return slot ? bpf_map_lookup_elem(&sockv, slot) : NULL;
}

/* Ties slot (or a NET_SLOT_* mark) to sk; the slot the socket has then: a
 * CPU that tied another first wins, and this slot goes back. */
static __always_inline __u32 sock_tie(const struct sock *sk, __u32 slot, const int sks)
{
	__u64 key = (__u64)sk;
	__u32 *got;

	if (sks) {
		got = bpf_sk_storage_get(&sk_slots, (struct sock *)sk, &slot,
					 BPF_SK_STORAGE_GET_F_CREATE);
		if (!got) /* lost a race to create it (or no memory) */
			got = bpf_sk_storage_get(&sk_slots, (struct sock *)sk, NULL, 0);
	} else {
		got = NULL;
		if (slot < NET_MAX_SOCKS && !bpf_map_update_elem(&socks, &key, &slot, BPF_NOEXIST))
			return slot;
		if (slot < NET_MAX_SOCKS)
			got = bpf_map_lookup_elem(&socks, &key);
	}
	if (got && *got == slot)
		return slot;
	if (slot < NET_MAX_SOCKS)
		bpf_map_push_elem(&free_slots, &slot, 0);
	return got ? *got : NET_SLOT_FULL;
}

/* The record of a TCP or UDP socket of the target seen for the first
 * time, or NULL (another family or protocol, or no free slot: counted);
 * *made 0 when another CPU made it first. */
static __always_inline struct net_sock *sock_new(const struct sock *sk, __u64 now, const int sks,
						 int *made)
{
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
	__u16 proto = BPF_CORE_READ(sk, sk_protocol);
	struct net_sock *e;
	__u32 slot, mine;

	if ((family != AF_INET && family != AF_INET6) ||
	    (proto != IPPROTO_TCP && proto != IPPROTO_UDP)) {
		if (sks) /* not looked at again */
			sock_tie(sk, NET_SLOT_SKIP, sks);
		return NULL;
	}
	if (bpf_map_pop_elem(&free_slots, &mine))
		mine = NET_SLOT_FULL;
	slot = sock_tie(sk, mine, sks);
	e = bpf_map_lookup_elem(&sockv, &slot);
	if (!e) {
		if (slot == NET_SLOT_FULL)
			stat_inc(NET_STAT_SOCKS_FULL);
		return NULL;
	}
	*made = slot == mine;
	if (!*made)
		return e;
	/* unique per run: a time and the CPU that took it */
	e->id = (now << 8) | (bpf_get_smp_processor_id() & 0xff);
	e->pid = targ_tgid;
	e->tid = (__u32)bpf_get_current_pid_tgid();
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	e->family = family;
	e->proto = proto;
	e->start_ns = now;
	read_addrs(e, sk);
	return e;
}

static __always_inline void emit(struct net_sock *e, __u32 type, __u64 now, __u64 latency, __u64 tx,
				 __u64 rx)
{
	struct net_event *ev;

	if (!stream)
		return;
	ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	if (!ev) {
		stat_inc(NET_STAT_RINGBUF_DROPS);
		return;
	}
	ev->ts = now;
	ev->type = type;
	ev->pid = e->pid;
	ev->tid = e->tid;
	__builtin_memcpy(ev->comm, e->comm, sizeof(ev->comm));
	ev->family = e->family;
	ev->proto = e->proto;
	ev->lport = e->lport;
	ev->rport = e->rport;
	__builtin_memcpy(ev->laddr, e->laddr, sizeof(ev->laddr));
	__builtin_memcpy(ev->raddr, e->raddr, sizeof(ev->raddr));
	ev->role = e->role;
	ev->state = e->state;
	ev->latency_ns = latency;
	ev->tx_bytes = tx;
	ev->rx_bytes = rx;
	ev->retrans = e->retrans;
	ev->lifetime_ns = now - e->start_ns;
	bpf_ringbuf_submit(ev, 0);
}

/* A socket the target uses that was not seen connecting: accepted (the
 * accepts map knows it), or in use since before attach.  Then an accepted
 * socket is a copy of its listener: it inherits the listen() backlog and
 * an explicitly bound port (SOCK_BINDPORT_LOCK); a client has neither. */
static __always_inline struct net_sock *sock_first_use(const struct sock *sk, __u64 now,
						       const int sks)
{
	__u64 key = (__u64)sk, *est;
	int made = 0;
	struct net_sock *e = sock_new(sk, now, sks, &made);

	if (!e || !made)
		return e;
	est = bpf_map_lookup_elem(&accepts, &key);
	if (est && e->proto == IPPROTO_TCP) {
		e->role = NET_ROLE_SERVER;
		e->start_ns = *est;
		bpf_map_delete_elem(&accepts, &key);
		emit(e, NET_EV_ACCEPT, now, 0, 0, 0);
		return e;
	}
	e->flags |= NET_F_FIRST_USE;
	if (e->proto == IPPROTO_TCP)
		e->role = BPF_CORE_READ(sk, sk_max_ack_backlog) ||
					  (BPF_CORE_READ(sk, sk_userlocks) & SOCK_BINDPORT_LOCK) ?
				  NET_ROLE_SERVER :
				  NET_ROLE_CLIENT;
	else if (e->rport) /* a connected UDP socket */
		e->role = NET_ROLE_CLIENT;
	return e;
}

static __always_inline void hist_add(struct net_sock *e, __u64 lat)
{
	__u32 b = func_hist_bucket(lat), slot;
	struct func_hist *h;

	if (!e->hist) {
		if (bpf_map_pop_elem(&free_hists, &slot)) {
			stat_inc(NET_STAT_HIST_FULL);
			return;
		}
		e->hist = slot + 1;
	}
	slot = e->hist - 1;
	h = bpf_map_lookup_elem(&hists, &slot);
	if (h && b < FUNC_HIST_BUCKETS)
		__sync_fetch_and_add(&h->b[b], 1);
}

/* The exchange before this ask is complete: its stream event. */
static __always_inline void exchange_done(struct net_sock *e, __u64 now)
{
	if (e->phase == NET_PH_ANSWER)
		emit(e, NET_EV_RESPONSE, e->answer_first, e->answer_first - e->ask_last,
		     e->role == NET_ROLE_CLIENT ? e->ask_bytes : e->answer_bytes,
		     e->role == NET_ROLE_CLIENT ? e->answer_bytes : e->ask_bytes);
	e->ask_bytes = e->answer_bytes = 0;
}

/* Response latency: the last call of the ask to the first of the answer. */
static __always_inline void track_response(struct net_sock *e, int dir, __u64 bytes, __u64 now)
{
	int ask;

	if (e->role == NET_ROLE_UNKNOWN)
		return;
	ask = (e->role == NET_ROLE_CLIENT) == (dir == 0);
	if (ask) {
		if (e->phase != NET_PH_ASK)
			exchange_done(e, now);
		e->phase = NET_PH_ASK;
		e->ask_last = now;
		e->ask_bytes += bytes;
		return;
	}
	if (e->phase == NET_PH_ASK) {
		__u64 lat = now - e->ask_last;

		e->phase = NET_PH_ANSWER;
		e->answer_first = now;
		e->responses++;
		e->resp_sum += lat;
		if (!e->resp_min || lat < e->resp_min)
			e->resp_min = lat;
		if (lat > e->resp_max)
			e->resp_max = lat;
		hist_add(e, lat);
	}
	if (e->phase == NET_PH_ANSWER)
		e->answer_bytes += bytes;
}

/* The kernel's own retransmit count of the socket (tcp_sock.total_retrans,
 * segments, SYN-ACKs of an accepted connection included): it covers what
 * happened while the socket was not known yet, which the tracepoint count
 * cannot.  The tracepoint runs before the kernel adds to total_retrans, so
 * the larger of the two is the kernel's count. */
static __always_inline void retrans_max(struct net_sock *e, __u64 tr)
{
	if (tr > e->retrans)
		e->retrans = tr;
}

static __always_inline void sample_retrans(struct net_sock *e, const struct sock *sk)
{
	retrans_max(e, BPF_CORE_READ((const struct tcp_sock *)sk, total_retrans));
}

/* With sks (a tp_btf program) the socket is read directly, else through
 * bpf_probe_read_kernel. */
static __always_inline void sample_srtt(struct net_sock *e, struct sock *sk, const int sks)
{
	struct tcp_sock *tp;
	__u64 srtt;

	if (e->proto != IPPROTO_TCP)
		return;
	if (sks) {
		tp = bpf_skc_to_tcp_sock(sk);
		if (!tp)
			return;
		retrans_max(e, tp->total_retrans);
		srtt = tp->srtt_us >> 3;
	} else {
		sample_retrans(e, sk);
		srtt = BPF_CORE_READ((const struct tcp_sock *)sk, srtt_us) >> 3;
	}
	if (!srtt)
		return;
	if (!e->srtt_min || srtt < e->srtt_min)
		e->srtt_min = srtt;
	if (srtt > e->srtt_max)
		e->srtt_max = srtt;
	e->srtt_sum += srtt;
	e->srtt_n++;
}

static __always_inline void count_err(struct net_sock *e, int dir, int ret)
{
	struct net_err_key k = { .id = e->id, .dir = dir, .err = -ret };
	__u64 one = 1, *n = bpf_map_lookup_elem(&errs, &k);

	if (n)
		__sync_fetch_and_add(n, 1);
	else if (bpf_map_update_elem(&errs, &k, &one, BPF_NOEXIST))
		stat_inc(NET_STAT_ERRS_FULL);
}

/* Adds v to the tx (dir 0) or rx (dir 1) counter of a pair: every rx_X
 * follows its tx_X in struct net_sock (checked below). */
static __always_inline void dir_add(__u64 *tx, int dir, __u64 v)
{
	__sync_fetch_and_add(tx + dir, v);
}

_Static_assert(__builtin_offsetof(struct net_sock, rx_bytes) ==
			       __builtin_offsetof(struct net_sock, tx_bytes) + 8 &&
		       __builtin_offsetof(struct net_sock, rx_calls) ==
			       __builtin_offsetof(struct net_sock, tx_calls) + 8 &&
		       __builtin_offsetof(struct net_sock, rx_err) ==
			       __builtin_offsetof(struct net_sock, tx_err) + 8,
	       "net_sock: rx_X must follow tx_X");

/* The slot of sk from slot_cache, or 0 with *ce the entry to fill. */
static __always_inline int cached_slot(struct sock *sk, __u32 *slot, __u64 **ce)
{
	__u64 c = sk->__sk_common.skc_cookie.counter, v;
	__u32 i = c & (NET_SLOT_CACHE - 1);

	*ce = bpf_map_lookup_elem(&slot_cache, &i);
	if (!*ce || !c)
		return 0;
	v = *(volatile __u64 *)*ce;
	if (v >> 16 != c)
		return 0;
	*slot = v & 0xffff;
	if (*slot >= (NET_SLOT_FULL & 0xffff))
		*slot |= 0xffff0000;
	return 1;
}

static __always_inline void cache_slot(struct sock *sk, __u32 slot, __u64 *ce)
{
	__u64 c = bpf_get_socket_cookie(sk); /* gives the socket one if it has none */

	if (ce && c && c < NET_COOKIE_MAX)
		*(volatile __u64 *)ce = c << 16 | (slot & 0xffff);
}

/* The record of the socket of a send or receive call, made at first use;
 * NULL for a socket not recorded (counted when it found no free slot). */
static __always_inline struct net_sock *io_sock(struct sock *sk, __u64 now, const int sks)
{
	__u64 key = (__u64)sk, *ce = NULL;
	__u32 *st, slot;
	struct net_sock *e;

	if (sks && cached_slot(sk, &slot, &ce))
		goto found;
	if (sks)
		st = bpf_sk_storage_get(&sk_slots, sk, NULL, 0);
	else
		st = bpf_map_lookup_elem(&socks, &key);
	if (!st)
		return sock_first_use(sk, now, sks);
	slot = *st;
	if (sks)
		cache_slot(sk, slot, ce);
found:
	e = bpf_map_lookup_elem(&sockv, &slot);
	if (!e && slot == NET_SLOT_FULL)
		stat_inc(NET_STAT_SOCKS_FULL);
	return e;
}

/* One send (dir 0) or receive (dir 1) call of the target on sk; sks: the
 * socket's slot in sk_slots (tp_btf programs), else in socks (raw_tp). */
static __always_inline void on_io(struct sock *sk, int ret, int flags, int dir, const int sks)
{
	struct net_sock *e;
	__u64 now;

	if (!is_target())
		return;
	now = bpf_ktime_get_ns();
	e = io_sock(sk, now, sks);
	if (!e)
		return;
	e->last_ns = now;
	dir_add(&e->tx_calls, dir, 1);
	if (ret < 0) {
		dir_add(&e->tx_err, dir, 1);
		count_err(e, dir, ret);
		return;
	}
	if (dir == 1 && (flags & MSG_PEEK))
		return; /* the bytes are read again */
	dir_add(&e->tx_bytes, dir, ret);
	sample_srtt(e, sk, sks);
	if (ret > 0)
		track_response(e, dir, ret, now);
}

static __always_inline void on_state(const struct sock *sk, int oldstate, int newstate,
				     const int sks)
{
	__u64 key = (__u64)sk, now;
	struct net_sock *e;
	int made = 0;

	if (BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP)
		return;
	now = bpf_ktime_get_ns();
	if (oldstate == TCP_SYN_RECV && newstate == TCP_ESTABLISHED) {
		if (bpf_map_update_elem(&accepts, &key, &now, BPF_ANY))
			stat_inc(NET_STAT_ACCEPTS_FULL);
		return;
	}
	e = sock_find(sk, sks);
	if (newstate == TCP_SYN_SENT && is_target()) {
		if (e) /* connect again on a socket seen before (pointer reused) */
			return;
		e = sock_new(sk, now, sks, &made);
		if (!e || !made)
			return;
		e->role = NET_ROLE_CLIENT;
		e->connect_start = now;
		e->state = newstate;
		return;
	}
	if (!e)
		return;
	e->state = newstate;
	if (oldstate == TCP_SYN_SENT && newstate == TCP_ESTABLISHED && e->connect_start) {
		read_addrs(e, sk); /* the local port is chosen after SYN_SENT */
		e->state = newstate;
		e->connect_ns = now - e->connect_start;
		emit(e, NET_EV_CONNECT, now, e->connect_ns, 0, 0);
	}
	if (newstate == TCP_CLOSE && !e->end_ns) {
		e->end_ns = now;
		e->flags |= NET_F_CLOSED;
	}
}

static __always_inline void on_retransmit(const struct sock *sk, const struct sk_buff *skb, int err,
					  const int sks)
{
	struct net_sock *e;
	struct skb_shared_info *sh;
	__u64 segs;

	if (err)
		return; /* not sent: the kernel does not count it either */
	e = sock_find(sk, sks);
	if (!e)
		return;
	/* tcp_skb_pcount(): the segments this skb carries */
	sh = (struct skb_shared_info *)(BPF_CORE_READ(skb, head) + BPF_CORE_READ(skb, end));
	segs = BPF_CORE_READ(sh, gso_segs);
	__sync_fetch_and_add(&e->retrans, segs ? segs : 1);
	emit(e, NET_EV_RETRANSMIT, bpf_ktime_get_ns(), 0, 0, 0);
}

/* The record stays in its slot, closed; the socket's tie to it goes with
 * the socket (sk_storage) or here (socks). */
static __always_inline void on_destroy(struct sock *sk, const int sks)
{
	__u64 key = (__u64)sk, now = bpf_ktime_get_ns();
	struct net_sock *e = sock_find(sk, sks);

	bpf_map_delete_elem(&accepts, &key);
	if (!sks)
		bpf_map_delete_elem(&socks, &key);
	if (!e)
		return;
	if (!e->end_ns)
		e->end_ns = now;
	e->flags |= NET_F_CLOSED;
	if (e->proto == IPPROTO_TCP)
		sample_retrans(e, sk);
	exchange_done(e, now);
	e->phase = NET_PH_IDLE;
	emit(e, NET_EV_CLOSE, now, 0, e->tx_bytes, e->rx_bytes);
}

/* Each tracepoint has two programs: NAME_sk, tp_btf (the socket's slot
 * from sk_storage), loaded when the kernel has them (feature
 * tp_btf_sk_storage), else NAME, raw_tp (the slot from the socks hash).
 * body sees sk_storage: 1 in the first, 0 in the second. */
#define NET_PROGS(tp, name, body, ...)       \
	SEC("tp_btf/" #tp)                   \
	int BPF_PROG(name##_sk, __VA_ARGS__) \
	{                                    \
		const int sk_storage = 1;    \
		body;                        \
		return 0;                    \
	}                                    \
	SEC("raw_tp/" #tp)                   \
	int BPF_PROG(name, __VA_ARGS__)      \
	{                                    \
		const int sk_storage = 0;    \
		body;                        \
		return 0;                    \
	}

NET_PROGS(sock_send_length, net_send, on_io(sk, ret, flags, 0, sk_storage), struct sock *sk,
	  int ret, int flags)
NET_PROGS(sock_recv_length, net_recv, on_io(sk, ret, flags, 1, sk_storage), struct sock *sk,
	  int ret, int flags)
NET_PROGS(inet_sock_set_state, net_state, on_state(sk, oldstate, newstate, sk_storage),
	  const struct sock *sk, int oldstate, int newstate)
NET_PROGS(tcp_retransmit_skb, net_retransmit, on_retransmit(sk, skb, err, sk_storage),
	  const struct sock *sk, const struct sk_buff *skb, int err)
NET_PROGS(tcp_destroy_sock, net_destroy, on_destroy(sk, sk_storage), struct sock *sk)

char LICENSE[] SEC("license") = "GPL";
