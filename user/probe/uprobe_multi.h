/* uprobe_multi links (Linux >= 6.6): one BPF link attaches a program to
 * many offsets of one file, each with its own bpf cookie, and removing it
 * waits for one RCU grace period instead of one per probe.  libbpf 1.1 has
 * no API for them, so this module speaks bpf(2) directly. */
#ifndef EBPROF_UPROBE_MULTI_H
#define EBPROF_UPROBE_MULTI_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* enum bpf_attach_type BPF_TRACE_UPROBE_MULTI: the expected attach type a
 * program must be loaded with (bpf_program__set_expected_attach_type). */
#define UPROBE_MULTI_ATTACH_TYPE 48

/* 1 when the kernel creates uprobe_multi links and filters them by
 * process (kernels 6.6 to 6.8 filtered by thread; those count as no),
 * 0 when not, with *why (may be NULL) saying what the kernel answered.
 * Probed once, without placing any probe. */
int uprobe_multi_supported(const char **why);

/* Attaches prog_fd (loaded with UPROBE_MULTI_ATTACH_TYPE) at cnt file
 * offsets of path, as return probes when retprobe is set; cookies may be
 * NULL; pid > 0 restricts the probes to that process.  Returns the link's
 * fd (closing it removes every probe) or a negative errno. */
int uprobe_multi_attach(int prog_fd, const char *path, const uint64_t *offsets,
			const uint64_t *cookies, size_t cnt, int retprobe, pid_t pid);

/* Closes n link fds (negative ones skipped) in parallel threads, so the
 * grace period each removal waits for overlaps; sets them to -1. */
void uprobe_multi_close(int *fds, size_t n);

#endif
