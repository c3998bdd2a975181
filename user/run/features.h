/* What this kernel offers ebprof, probed once at start and cached: each
 * collector asks here before it loads anything, so a machine that lacks
 * something gets one line naming it instead of a verifier or attach
 * error.  `ebprof --features` prints the table. */
#ifndef EBPROF_FEATURES_H
#define EBPROF_FEATURES_H

#include <stddef.h>
#include <stdio.h>

/* X(NAME, key, what) */
#define FEATURES(X)                                                                           \
	X(BTF, "btf", "kernel BTF")                                                           \
	X(RAW_TRACEPOINT, "raw_tracepoint", "raw tracepoint programs")                        \
	X(TP_SCHED_SWITCH, "tp_sched_switch", "sched_switch tracepoint")                      \
	X(TP_SCHED_PROCESS_EXIT, "tp_sched_process_exit", "sched_process_exit tracepoint")    \
	X(PERF_CPU_CLOCK, "perf_cpu_clock", "cpu-clock perf events")                          \
	X(UPROBE, "uprobe", "uprobes (perf PMU)")                                             \
	X(RINGBUF, "ringbuf", "BPF ring buffers")                                             \
	X(BPF_LOOP, "bpf_loop", "bpf_loop helper")                                            \
	X(UPROBE_MULTI, "uprobe_multi", "uprobe_multi links, process filter")                 \
	X(TP_SOCK_SEND_LENGTH, "tp_sock_send_length", "sock_send_length tracepoint")          \
	X(TP_SOCK_RECV_LENGTH, "tp_sock_recv_length", "sock_recv_length tracepoint")          \
	X(TP_INET_SOCK_SET_STATE, "tp_inet_sock_set_state", "inet_sock_set_state tracepoint") \
	X(TP_TCP_RETRANSMIT_SKB, "tp_tcp_retransmit_skb", "tcp_retransmit_skb tracepoint")    \
	X(TP_TCP_DESTROY_SOCK, "tp_tcp_destroy_sock", "tcp_destroy_sock tracepoint")          \
	X(TP_SYS_ENTER, "tp_sys_enter", "raw_syscalls sys_enter tracepoint")                  \
	X(TP_SYS_EXIT, "tp_sys_exit", "raw_syscalls sys_exit tracepoint")                     \
	X(TP_PAGE_FAULT_USER, "tp_page_fault_user", "exceptions page_fault_user tracepoint")  \
	X(TP_BTF_SK_STORAGE, "tp_btf_sk_storage", "sk_storage, socket cookies in tp_btf")

#define FEATURE_ENUM(name, key, what) FEAT_##name,
enum feature {
	FEATURES(FEATURE_ENUM) FEAT_MAX,
};
#undef FEATURE_ENUM

/* 1 when the kernel has f, else 0; probed on first use, then cached. */
int feature_has(enum feature f);
/* Its key ("btf"), and what the probe found (a path, an error). */
const char *feature_key(enum feature f);
const char *feature_detail(enum feature f);
/* Probes every feature and prints one line each: key, yes/no, detail. */
void features_print(FILE *f);
/* 0 when the kernel has every feature of need[n]; else one error line
 * "WHO needs: WHAT (detail), ..." naming all that are missing, and
 * -ENOTSUP. */
int features_require(const char *who, const enum feature *need, size_t n);

#endif
