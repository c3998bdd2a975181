// SPDX-License-Identifier: GPL-2.0
/* The launched command's holds at its start: uprobes (user/run/entry.c
 * places them for the command's pid only) on its executable's entry
 * point and on the dynamic loader's debugger hook, _dl_debug_state, which
 * ld.so calls before it maps the DT_NEEDED libraries (the executable and
 * ld.so itself mapped) and once they are mapped and relocated, before
 * their constructors.  Each hit stops the process with SIGSTOP; ebprof,
 * the parent, sees the stop (waitid WSTOPPED), refreshes every
 * collector's view of the mappings and sends SIGCONT.  So ld.so's work
 * and the libraries' constructors are walked with tables too, not only
 * what runs after the entry.  The entry's hit is the last: nothing stops
 * after it. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "entry_stop.h"

char LICENSE[] SEC("license") = "GPL";

#define SIGSTOP 19

const volatile __u32 targ_tgid = 0;

/* The hits that stopped the command, and the last one's kind (its
 * probe's cookie: enum entry_stop_kind), time and bpf_send_signal's
 * result.  The command stands still from one stop until ebprof continues
 * it, so hits come one at a time; user space reads hits (acquire) first. */
__u32 hits;
__u32 kind;
__s32 signal_err;
__u64 hit_ns; /* CLOCK_MONOTONIC */
__u32 done;   /* the entry was hit: no more stops */

/* One record per hit, to wake ebprof's poll at once. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} hits_rb SEC(".maps");

SEC("uprobe")
int BPF_KPROBE(entry_stop)
{
	__u32 k = (__u32)bpf_get_attach_cookie(ctx);

	if ((bpf_get_current_pid_tgid() >> 32) != targ_tgid || done)
		return 0;
	/* After the entry nothing stops (a later exec of the same files by
	 * this pid, a dlopen in main). */
	if (k == ENTRY_STOP_ENTRY)
		done = 1;
	kind = k;
	hit_ns = bpf_ktime_get_ns();
	signal_err = (__s32)bpf_send_signal(SIGSTOP);
	__sync_fetch_and_add(&hits, 1);
	bpf_ringbuf_output(&hits_rb, &k, sizeof(k), BPF_RB_FORCE_WAKEUP);
	return 0;
}
