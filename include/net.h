/* The net collector: structs, limits and loss counters shared by
 * bpf/net.bpf.c and user/collect/net*.c.  Compiles under vmlinux.h (BPF)
 * and under libc (user). */
#ifndef EBPROF_NET_H
#define EBPROF_NET_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define NET_MAX_SOCKS 24576  /* sockets of the target in one run, open or closed */
#define NET_MAX_OPEN 8192    /* open at one time (kernels without sk_storage) */
#define NET_MAX_HISTS 2048   /* sockets with a response-latency histogram */
#define NET_SLOT_CACHE 8192  /* entries of the socket -> slot cache (a power of 2) */
#define NET_MAX_ERRS 4096    /* distinct (socket, direction, errno) */
#define NET_MAX_ACCEPTS 4096 /* connections established on a listener, not yet used */
#define NET_RINGBUF_BYTES (1u << 20)
#define NET_COMM_LEN 16

enum net_role { NET_ROLE_UNKNOWN = 0, NET_ROLE_CLIENT = 1, NET_ROLE_SERVER = 2 };

/* net_sock.flags */
#define NET_F_FIRST_USE 1u /* not seen connecting or accepting: picked up on first use */
#define NET_F_CLOSED 2u	   /* reached TCP_CLOSE */

/* Response tracking: the application asks (client: sends, server:
 * receives), then answers come (client: receives, server: sends).  The
 * latency runs from the last call of the ask to the first of the answer. */
enum net_phase { NET_PH_IDLE = 0, NET_PH_ASK = 1, NET_PH_ANSWER = 2 };

/* One socket of the target: a slot of the sockv array for the whole run
 * (found from the socket through sk_storage, or a hash by socket pointer
 * while it lives); id 0: a free slot. */
struct net_sock {
	__u64 id; /* unique per run, key of hists and errs */
	__u32 pid, tid;
	char comm[NET_COMM_LEN];
	__u16 family; /* AF_INET, AF_INET6 */
	__u16 proto;  /* IPPROTO_TCP, IPPROTO_UDP */
	__u8 role;    /* enum net_role */
	__u8 state;   /* last TCP state (TCP_ESTABLISHED...); UDP: 0 */
	__u8 flags;   /* NET_F_* */
	__u8 phase;   /* enum net_phase */
	__u16 lport, rport;
	__u32 hist;		   /* slot of its response-latency histogram + 1; 0: none */
	__u8 laddr[16], raddr[16]; /* IPv4 in the first 4 bytes */
	__u64 start_ns;		   /* connect, accept, or first use */
	__u64 end_ns;		   /* close; 0 while open */
	__u64 last_ns;		   /* last send or receive */
	__u64 tx_bytes, rx_bytes, tx_calls, rx_calls, tx_err, rx_err;
	__u64 retrans; /* segments retransmitted: the kernel's total_retrans of the socket */
	__u64 srtt_min, srtt_max, srtt_sum, srtt_n; /* us, sampled at send/receive */
	__u64 connect_start, connect_ns;	    /* SYN_SENT -> ESTABLISHED */
	/* the exchange in progress */
	__u64 ask_last, ask_bytes, answer_first, answer_bytes;
	/* finished exchanges: count, ns */
	__u64 responses, resp_sum, resp_min, resp_max;
};

/* Errors (negative returns) per socket, direction and errno. */
struct net_err_key {
	__u64 id;
	__u32 dir; /* 0 send, 1 receive */
	__u32 err; /* errno, positive */
};

/* Events of net --stream (ring buffer). */
enum net_ev_type {
	NET_EV_CONNECT = 1,
	NET_EV_ACCEPT,
	NET_EV_RESPONSE,
	NET_EV_RETRANSMIT,
	NET_EV_CLOSE
};

struct net_event {
	__u64 ts; /* CLOCK_MONOTONIC ns */
	__u32 type;
	__u32 pid, tid;
	char comm[NET_COMM_LEN];
	__u16 family, proto;
	__u16 lport, rport;
	__u32 hist; /* slot of its response-latency histogram + 1; 0: none */
	__u8 laddr[16], raddr[16];
	__u8 role, state, pad[6];
	__u64 latency_ns;	  /* connect, response */
	__u64 tx_bytes, rx_bytes; /* response: request and answer bytes; close: totals */
	__u64 retrans;		  /* close: total */
	__u64 lifetime_ns;	  /* close */
};

/* Loss and drop counters (.bss stats[], indexes NET_STAT_<NAME>).
 *   X(NAME, info key, info label) */
#define NET_LOSSES(X)                                                                  \
	/* events of a socket not recorded: no free slot (or open-socket map full) */  \
	X(SOCKS_FULL, "lost_socks_full", "socket events lost (socket map full)")       \
	/* a response latency not in the histograms: histogram map full */             \
	X(HIST_FULL, "lost_hist_full", "response latencies lost (histogram map full)") \
	/* an error not counted by errno: error map full */                            \
	X(ERRS_FULL, "lost_errs_full", "errors not counted by errno (error map full)") \
	/* an accepted connection whose role is guessed: accept map full */            \
	X(ACCEPTS_FULL, "lost_accepts_full", "accepted connections missed (map full)") \
	/* a stream event the ring buffer could not take */                            \
	X(RINGBUF_DROPS, "lost_stream_events", "stream events dropped (ring buffer full)")

#define NET_STAT_ENUM(name, key, label) NET_STAT_##name,
enum net_stat {
	NET_LOSSES(NET_STAT_ENUM) NET_STAT_MAX,
};
#undef NET_STAT_ENUM

#endif
