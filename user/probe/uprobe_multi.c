/* uprobe_multi links through the raw bpf(2) syscall (see uprobe_multi.h). */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/bpf.h>
#include <bpf/bpf.h>

#include "probe/uprobe_multi.h"
#include "util/util.h"

#define BPF_F_UPROBE_MULTI_RETURN_ 1u
#define CLOSE_THREADS 16

/* The head of union bpf_attr's link_create and its uprobe_multi member, as
 * in the kernel's include/uapi/linux/bpf.h (older distribution headers do
 * not have it). */
struct link_create_uprobe_multi {
	uint32_t prog_fd;
	uint32_t target_fd;
	uint32_t attach_type;
	uint32_t flags;
	uint64_t path;
	uint64_t offsets;
	uint64_t ref_ctr_offsets;
	uint64_t cookies;
	uint32_t cnt;
	uint32_t uflags;
	uint32_t pid;
};

static int link_create(int prog_fd, const char *path, const uint64_t *offsets,
		       const uint64_t *cookies, uint32_t cnt, uint32_t flags, uint32_t pid)
{
	struct link_create_uprobe_multi a;
	long fd;

	memset(&a, 0, sizeof(a));
	a.prog_fd = (uint32_t)prog_fd;
	a.attach_type = UPROBE_MULTI_ATTACH_TYPE;
	a.path = (uint64_t)(uintptr_t)path;
	a.offsets = (uint64_t)(uintptr_t)offsets;
	a.cookies = (uint64_t)(uintptr_t)cookies;
	a.cnt = cnt;
	a.uflags = flags;
	a.pid = pid;
	fd = syscall(__NR_bpf, BPF_LINK_CREATE, &a, sizeof(a));
	return fd < 0 ? -errno : (int)fd;
}

int uprobe_multi_attach(int prog_fd, const char *path, const uint64_t *offsets,
			const uint64_t *cookies, size_t cnt, int retprobe, pid_t pid)
{
	if (cnt == 0 || cnt > UINT32_MAX)
		return -EINVAL;
	return link_create(prog_fd, path, offsets, cookies, (uint32_t)cnt,
			   retprobe ? BPF_F_UPROBE_MULTI_RETURN_ : 0, pid > 0 ? (uint32_t)pid : 0);
}

/* The answer libbpf's own feature probe relies on: a link on "/" (not a
 * regular file) fails with EBADF where uprobe_multi exists; with an invalid
 * pid, kernels that filter by process reject the pid first (EINVAL). */
static int probe(const char **why)
{
	struct bpf_insn insns[2] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, po,
		    .expected_attach_type = (enum bpf_attach_type)UPROBE_MULTI_ATTACH_TYPE);
	uint64_t off = 0;
	int prog, fd, ok = 0;

	prog = bpf_prog_load(BPF_PROG_TYPE_KPROBE, "ebprof_probe", "GPL", insns, 2, &po);
	if (prog < 0) {
		*why = errno == EINVAL ? "the kernel has no uprobe_multi attach type" :
					 "a uprobe_multi program does not load";
		return 0;
	}
	fd = link_create(prog, "/", &off, NULL, 1, 0, 0);
	if (fd != -EBADF) {
		*why = fd == -EINVAL || fd == -EOPNOTSUPP ? "the kernel has no uprobe_multi links" :
							    "uprobe_multi links do not work";
	} else {
		fd = link_create(prog, "/", &off, NULL, 1, 0, (uint32_t)-1);
		if (fd == -EINVAL)
			ok = 1;
		else
			*why = "the kernel's uprobe_multi pid filter is per thread (before 6.9)";
	}
	if (fd >= 0)
		close(fd);
	close(prog);
	return ok;
}

int uprobe_multi_supported(const char **why)
{
	static int known = -1;
	static const char *reason = "";

	if (known < 0)
		known = probe(&reason);
	if (why)
		*why = known ? "" : reason;
	return known;
}

static void close_fds(void *first, size_t n)
{
	int *fds = first;

	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

void uprobe_multi_close(int *fds, size_t n)
{
	size_t live = 0;

	for (size_t i = 0; i < n; i++)
		live += fds[i] >= 0;
	/* Each close waits for the kernel to retire the link's uprobes: on
	 * threads of their own (one per live link, up to CLOSE_THREADS) the
	 * waits overlap. */
	run_in_slices(fds, n, sizeof(*fds), live < CLOSE_THREADS ? live : CLOSE_THREADS, close_fds);
	for (size_t i = 0; i < n; i++)
		fds[i] = -1;
}
