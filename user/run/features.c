/* What this kernel offers (see features.h).  Each probe runs once, on the
 * first question, and loads or attaches nothing that outlives it. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <sys/syscall.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "probe/uprobe_multi.h"
#include "run/features.h"
#include "util/util.h"

#define VMLINUX_BTF "/sys/kernel/btf/vmlinux"

struct feature_def {
	/* 1 present, 0 absent, with what was found in detail */
	int (*probe)(const struct feature_def *d, char *detail, size_t len);
	const char *tp; /* tracepoints: "category/name" */
};

static struct {
	int known, ok;
	char detail[160];
} cache[FEAT_MAX];

static const struct feature_def defs[FEAT_MAX];

static int probe_btf(const struct feature_def *d, char *detail, size_t len)
{
	(void)d;
	if (access(VMLINUX_BTF, R_OK)) {
		snprintf(detail, len, "no %s: needs CONFIG_DEBUG_INFO_BTF=y", VMLINUX_BTF);
		return 0;
	}
	snprintf(detail, len, "%s", VMLINUX_BTF);
	return 1;
}

/* The answer of a libbpf_probe_*() call: 1, 0, or a negative errno. */
static int probe_answer(int r, const char *what, char *detail, size_t len)
{
	if (r > 0)
		snprintf(detail, len, "%s", what);
	else if (r == 0)
		snprintf(detail, len, "unknown to this kernel");
	else
		snprintf(detail, len, "cannot probe: %s", strerror(-r));
	return r > 0;
}

static int probe_raw_tp(const struct feature_def *d, char *detail, size_t len)
{
	(void)d;
	return probe_answer(libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_RAW_TRACEPOINT, NULL),
			    "BPF_PROG_TYPE_RAW_TRACEPOINT loads", detail, len);
}

static int probe_ringbuf(const struct feature_def *d, char *detail, size_t len)
{
	(void)d;
	return probe_answer(libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL),
			    "BPF_MAP_TYPE_RINGBUF creates", detail, len);
}

static int probe_bpf_loop(const struct feature_def *d, char *detail, size_t len)
{
	(void)d;
	return probe_answer(
		libbpf_probe_bpf_helper(BPF_PROG_TYPE_RAW_TRACEPOINT, BPF_FUNC_loop, NULL),
		"bpf_loop() in a raw tracepoint program", detail, len);
}

/* A tracepoint exists when a raw tracepoint program attaches to it (what
 * every raw_tp program of ebprof does; it needs no BTF parse, which takes
 * a fifth of a second here: one do-nothing program, attached and detached
 * at once); tracefs, when mounted, answers where raw tracepoints cannot. */
static int probe_tracepoint(const struct feature_def *d, char *detail, size_t len)
{
	static int prog_fd = -1;
	const char *name = strchr(d->tp, '/') + 1;
	const char *tracefs[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };
	char path[256];
	int link_fd = -1, err = 0;

	if (prog_fd < 0) {
		const struct bpf_insn insns[] = {
			{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0 },
			{ .code = BPF_JMP | BPF_EXIT },
		};

		prog_fd = bpf_prog_load(BPF_PROG_TYPE_RAW_TRACEPOINT, "ebprof_tp", "GPL", insns,
					ARRAY_SIZE(insns), NULL);
	}
	if (prog_fd >= 0) {
		link_fd = bpf_raw_tracepoint_open(name, prog_fd);
		err = link_fd < 0 ? errno : 0;
	}
	if (link_fd >= 0) {
		close(link_fd);
		snprintf(detail, len, "raw tracepoint %s attaches", name);
		return 1;
	}
	for (size_t i = 0; i < ARRAY_SIZE(tracefs); i++) {
		snprintf(path, sizeof(path), "%s/events/%s", tracefs[i], d->tp);
		if (!access(path, F_OK)) {
			snprintf(detail, len, "%s", path);
			return 1;
		}
	}
	snprintf(detail, len, "no raw tracepoint %s (%s), no tracefs event", name,
		 prog_fd < 0 ? "raw tracepoint programs do not load" : strerror(err));
	return 0;
}

/* One disabled software cpu-clock event on this CPU for every process, as
 * the cpu collector opens on each CPU. */
static int probe_perf_cpu_clock(const struct feature_def *d, char *detail, size_t len)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_SOFTWARE,
		.config = PERF_COUNT_SW_CPU_CLOCK,
		.size = sizeof(attr),
		.disabled = 1,
	};
	int cpu = sched_getcpu();
	int fd = (int)syscall(__NR_perf_event_open, &attr, -1, cpu < 0 ? 0 : cpu, -1,
			      PERF_FLAG_FD_CLOEXEC);

	(void)d;
	if (fd < 0) {
		int err = errno;

		snprintf(detail, len, "perf_event_open: %s%s", strerror(err),
			 err == EACCES || err == EPERM ? " (needs CAP_PERFMON, or a lower "
							 "kernel.perf_event_paranoid)" :
							 "");
		return 0;
	}
	close(fd);
	snprintf(detail, len, "software PERF_COUNT_SW_CPU_CLOCK opens");
	return 1;
}

/* The perf PMU that uprobes are created through (libbpf attaches uprobes
 * with it; no tracefs needed). */
static int probe_uprobe(const struct feature_def *d, char *detail, size_t len)
{
	const char *path = "/sys/bus/event_source/devices/uprobe/type";
	FILE *f = fopen(path, "r");
	int type = -1;

	(void)d;
	if (f) {
		if (fscanf(f, "%d", &type) != 1)
			type = -1;
		fclose(f);
	}
	if (type < 0) {
		snprintf(detail, len, "no %s: needs CONFIG_UPROBE_EVENTS=y", path);
		return 0;
	}
	snprintf(detail, len, "perf event type %d", type);
	return 1;
}

static int probe_uprobe_multi(const struct feature_def *d, char *detail, size_t len)
{
	const char *why;
	int ok = uprobe_multi_supported(&why);

	(void)d;
	snprintf(detail, len, "%s", ok ? "links with a per-process pid filter" : why);
	return ok;
}

/* A tp_btf program on sock_send_length that looks up a socket's
 * BPF_MAP_TYPE_SK_STORAGE and reads its cookie (what the net collector's
 * programs do), loaded and attached, then closed: tp_btf attaches as a
 * raw tracepoint, so a kernel without BPF trampolines (no fentry) may
 * still have it. */
static int probe_tp_btf_sk_storage(const struct feature_def *d, char *detail, size_t len)
{
	LIBBPF_OPTS(bpf_map_create_opts, mo, .map_flags = BPF_F_NO_PREALLOC);
	LIBBPF_OPTS(bpf_prog_load_opts, po, .expected_attach_type = BPF_TRACE_RAW_TP);
	struct btf *btf = btf__new_empty();
	int btf_fd = -1, map_fd = -1, prog_fd = -1, link_fd = -1, ok = 0, id;
	const char *what = "";

	(void)d;
	/* the map's key and value types: int */
	if (!btf || btf__add_int(btf, "int", 4, BTF_INT_SIGNED) != 1) {
		snprintf(detail, len, "cannot build BTF for the probe map");
		goto out;
	}
	btf_fd = btf__load_into_kernel(btf) ? -1 : btf__fd(btf);
	if (btf_fd < 0) {
		snprintf(detail, len, "BTF load: %s", strerror(errno));
		goto out;
	}
	mo.btf_fd = (__u32)btf_fd;
	mo.btf_key_type_id = 1;
	mo.btf_value_type_id = 1;
	map_fd = bpf_map_create(BPF_MAP_TYPE_SK_STORAGE, "ebprof_sks", 4, 4, 0, &mo);
	if (map_fd < 0) {
		snprintf(detail, len, "BPF_MAP_TYPE_SK_STORAGE: %s", strerror(errno));
		goto out;
	}
	id = libbpf_find_vmlinux_btf_id("sock_send_length", BPF_TRACE_RAW_TP);
	if (id < 0) {
		snprintf(detail, len, "no btf_trace_sock_send_length in kernel BTF");
		goto out;
	}
	po.attach_btf_id = (__u32)id;
	{
		/* r6 = r2 = ctx[0] (sk); r1 = map; r3 = r4 = 0;
		 * bpf_sk_storage_get(); r1 = r6; bpf_get_socket_cookie();
		 * r0 = 0; exit */
		struct bpf_insn insns[] = {
			{ .code = BPF_LDX | BPF_MEM | BPF_DW,
			  .dst_reg = BPF_REG_6,
			  .src_reg = BPF_REG_1 },
			{ .code = BPF_ALU64 | BPF_MOV | BPF_X,
			  .dst_reg = BPF_REG_2,
			  .src_reg = BPF_REG_6 },
			{ .code = BPF_LD | BPF_DW | BPF_IMM,
			  .dst_reg = BPF_REG_1,
			  .src_reg = BPF_PSEUDO_MAP_FD,
			  .imm = map_fd },
			{ 0 },
			{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_3 },
			{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_4 },
			{ .code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_sk_storage_get },
			{ .code = BPF_ALU64 | BPF_MOV | BPF_X,
			  .dst_reg = BPF_REG_1,
			  .src_reg = BPF_REG_6 },
			{ .code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_get_socket_cookie },
			{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0 },
			{ .code = BPF_JMP | BPF_EXIT },
		};

		prog_fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, "ebprof_sks", "GPL", insns,
					ARRAY_SIZE(insns), &po);
	}
	if (prog_fd < 0) {
		what = "load";
	} else {
		link_fd = bpf_raw_tracepoint_open(NULL, prog_fd);
		what = "attach";
	}
	if (link_fd < 0) {
		snprintf(detail, len,
			 "tp_btf program with bpf_sk_storage_get, bpf_get_socket_cookie: %s: %s",
			 what, strerror(errno));
		goto out;
	}
	snprintf(detail, len, "tp_btf/sock_send_length with sk_storage and socket cookie attaches");
	ok = 1;
out:
	if (link_fd >= 0)
		close(link_fd);
	if (prog_fd >= 0)
		close(prog_fd);
	if (map_fd >= 0)
		close(map_fd);
	btf__free(btf); /* closes btf_fd */
	return ok;
}

static const struct feature_def defs[FEAT_MAX] = {
	[FEAT_BTF] = { .probe = probe_btf },
	[FEAT_RAW_TRACEPOINT] = { .probe = probe_raw_tp },
	[FEAT_TP_SCHED_SWITCH] = { .probe = probe_tracepoint, .tp = "sched/sched_switch" },
	[FEAT_TP_SCHED_PROCESS_EXIT] = { .probe = probe_tracepoint,
					 .tp = "sched/sched_process_exit" },
	[FEAT_PERF_CPU_CLOCK] = { .probe = probe_perf_cpu_clock },
	[FEAT_UPROBE] = { .probe = probe_uprobe },
	[FEAT_RINGBUF] = { .probe = probe_ringbuf },
	[FEAT_BPF_LOOP] = { .probe = probe_bpf_loop },
	[FEAT_UPROBE_MULTI] = { .probe = probe_uprobe_multi },
	[FEAT_TP_SOCK_SEND_LENGTH] = { .probe = probe_tracepoint, .tp = "sock/sock_send_length" },
	[FEAT_TP_SOCK_RECV_LENGTH] = { .probe = probe_tracepoint, .tp = "sock/sock_recv_length" },
	[FEAT_TP_INET_SOCK_SET_STATE] = { .probe = probe_tracepoint,
					  .tp = "sock/inet_sock_set_state" },
	[FEAT_TP_TCP_RETRANSMIT_SKB] = { .probe = probe_tracepoint,
					 .tp = "tcp/tcp_retransmit_skb" },
	[FEAT_TP_TCP_DESTROY_SOCK] = { .probe = probe_tracepoint, .tp = "tcp/tcp_destroy_sock" },
	[FEAT_TP_SYS_ENTER] = { .probe = probe_tracepoint, .tp = "raw_syscalls/sys_enter" },
	[FEAT_TP_SYS_EXIT] = { .probe = probe_tracepoint, .tp = "raw_syscalls/sys_exit" },
	[FEAT_TP_PAGE_FAULT_USER] = { .probe = probe_tracepoint,
				      .tp = "exceptions/page_fault_user" },
	[FEAT_TP_BTF_SK_STORAGE] = { .probe = probe_tp_btf_sk_storage },
};

static const struct {
	const char *key, *what;
} names[FEAT_MAX] = {
#define FEATURE_NAME(name, key, what) [FEAT_##name] = { key, what },
	FEATURES(FEATURE_NAME)
#undef FEATURE_NAME
};

int feature_has(enum feature f)
{
	if (!cache[f].known) {
		cache[f].ok = defs[f].probe(&defs[f], cache[f].detail, sizeof(cache[f].detail));
		cache[f].known = 1;
	}
	return cache[f].ok;
}

const char *feature_key(enum feature f)
{
	return names[f].key;
}

const char *feature_detail(enum feature f)
{
	feature_has(f);
	return cache[f].detail;
}

void features_print(FILE *f)
{
	fprintf(f, "%-22s %-7s %s\n", "feature", "present", "detail");
	for (int i = 0; i < FEAT_MAX; i++)
		fprintf(f, "%-22s %-7s %s: %s\n", names[i].key, feature_has(i) ? "yes" : "no",
			names[i].what, cache[i].detail);
}

int features_require(const char *who, const enum feature *need, size_t n)
{
	char msg[1024] = "";
	size_t len = 0;

	for (size_t i = 0; i < n; i++) {
		if (feature_has(need[i]) || len >= sizeof(msg))
			continue;
		len += (size_t)snprintf(msg + len, sizeof(msg) - len, "%s%s (%s)", len ? ", " : "",
					names[need[i]].what, cache[need[i]].detail);
	}
	if (!len)
		return 0;
	ebprof_err("%s needs what this kernel lacks: %s", who, msg);
	return -ENOTSUP;
}
