// SPDX-License-Identifier: GPL-2.0
/* The launched command's hold at its executable's entry point: one uprobe
 * there (user/run/entry.c places it for the command's pid only) stops the
 * process with SIGSTOP before its first instruction runs, so that every
 * collector reads the mappings ld.so made (DT_NEEDED libraries) before any
 * of the program's own code runs.  ebprof, the parent, sees the stop
 * (waitid WSTOPPED), refreshes, removes the probe and sends SIGCONT. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

#define SIGSTOP 19

const volatile __u32 targ_tgid = 0;

/* Hits in the command (one expected) and bpf_send_signal's result at the
 * first: user space reads both after the stop, or after removing the
 * probe (a hit then was complete). */
__u32 hits;
__s32 signal_err;
__u64 hit_ns; /* CLOCK_MONOTONIC at the first hit */

/* One record per hit, to wake ebprof's poll at once. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} hits_rb SEC(".maps");

SEC("uprobe")
int BPF_KPROBE(entry_stop)
{
	if ((bpf_get_current_pid_tgid() >> 32) != targ_tgid)
		return 0;
	/* The first hit only (the command is one thread at its entry; a
	 * later exec of the same file by this pid is not stopped). */
	if (!hits) {
		hit_ns = bpf_ktime_get_ns();
		signal_err = (__s32)bpf_send_signal(SIGSTOP);
		bpf_ringbuf_output(&hits_rb, &signal_err, sizeof(signal_err), BPF_RB_FORCE_WAKEUP);
	}
	__sync_fetch_and_add(&hits, 1);
	return 0;
}
