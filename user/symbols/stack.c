/* Stacks of addresses -> profile frames (see stack.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "symbols/stack.h"

int stack_conv_init(struct stack_conv *c, struct profile *p, struct symbolizer *sym, int map_fd,
		    size_t depth)
{
	memset(c, 0, sizeof(*c));
	c->p = p;
	c->sym = sym;
	c->map_fd = map_fd;
	c->depth = depth;
	c->ips = calloc(depth ? depth : 1, sizeof(*c->ips));
	return c->ips ? 0 : -ENOMEM;
}

void stack_conv_free(struct stack_conv *c)
{
	free(c->ips);
	c->ips = NULL;
}

static void push_marker(struct stack_conv *c, struct stackbuf *st, const char *name)
{
	stackbuf_push(st, profile_frame(c->p, FRAME_MARKER, name, NULL, 0));
}

/* The leaf-side kernel frames of a sample or switch-out taken by ebprof:
 * its BPF program and the whole tracing path that ran it (the tracepoint's
 * iterator and stubs, the BPF trampolines of raw tracepoints and perf
 * events), not the target's time. */
static const char *const profiler_prefixes[] = {
	"bpf_prog_",	  "bpf_trace_run",	  "__bpf_trace_",
	"__traceiter_",	  "__probestub_",	  "perf_trace_",
	"trace_call_bpf", "bpf_overflow_handler", "__perf_event_overflow",
};

static int is_profiler_frame(struct stack_conv *c, uint64_t ip)
{
	struct symres r;

	symbolize_kernel(c->sym, ip, &r);
	if (!r.func)
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(profiler_prefixes); i++)
		if (!strncmp(r.func, profiler_prefixes[i], strlen(profiler_prefixes[i])))
			return 1;
	return 0;
}

/* The frames of a user stack up to the first return address (not the
 * leaf: where the thread was) outside every executable mapping. */
static size_t user_walk_end(struct stack_conv *c, const uint64_t *ips, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		if (!symbolizer_in_exec_map(c->sym, ips[i] & ~UNWIND_PC_EXACT)) {
			c->bad_walks++;
			return i;
		}
	}
	return n;
}

void stack_from_ips(struct stack_conv *c, struct stackbuf *st, int kernel, const uint64_t *ips,
		    size_t n)
{
	size_t skip = 0;

	if (n == 0 && !kernel)
		push_marker(c, st, "[no user stack]");
	if (n == 0)
		return;
	if (n >= c->depth) {
		c->truncated++;
		push_marker(c, st, "[truncated]");
	}
	/* Everything leafward of the root-most frame of the tracing path is
	 * ebprof's own instrumentation (the target never calls into it): a
	 * switch-out's program and trampolines, or a sample that landed in
	 * one of ebprof's programs or the helpers it called. */
	for (size_t i = 0; kernel && i < n; i++)
		if (is_profiler_frame(c, ips[i]))
			skip = i + 1;
	if (!kernel)
		n = user_walk_end(c, ips, n);
	for (size_t i = n; i-- > skip;) {
		struct symres r;
		/* Return addresses point after the call: look up ip-1 for
		 * every frame but the leaf (and a user pc marked exact). */
		uint64_t a = kernel ? (i > skip ? ips[i] - 1 : ips[i]) : stack_user_pc(ips, i);

		if (kernel)
			symbolize_kernel(c->sym, a, &r);
		else
			symbolize_user(c->sym, a, &r);
		/* A signal frame's return address is the first instruction of
		 * the signal trampoline (glibc's __restore_rt): ip-1 is in no
		 * function (the walker marks it exact; a frame-pointer stack
		 * does not). */
		if (!kernel && !r.func && a == ips[i] - 1)
			symbolize_user(c->sym, ips[i], &r);
		stackbuf_push(st, profile_frame(c->p, kernel ? FRAME_KERNEL : FRAME_USER, r.func,
						r.module, r.offset));
	}
}

void stack_from_id(struct stack_conv *c, struct stackbuf *st, int kernel, int stack_id)
{
	uint32_t id = (uint32_t)stack_id;
	size_t n = 0;

	if (stack_id < 0) {
		if (!kernel)
			push_marker(c, st, "[no user stack]");
		return;
	}
	memset(c->ips, 0, c->depth * sizeof(*c->ips));
	if (bpf_map_lookup_elem(c->map_fd, &id, c->ips))
		return;
	/* A stack map value is zero-filled past its last frame. */
	while (n < c->depth && c->ips[n])
		n++;
	stack_from_ips(c, st, kernel, c->ips, n);
}

void stack_from_proc(struct stack_conv *c, struct stackbuf *st, pid_t pid, pid_t tid)
{
	char path[96], *buf, *line, *save;
	char **names = calloc(c->depth ? c->depth : 1, sizeof(*names));
	size_t n = 0;

	/* Lines like "[<0>] do_nanosleep+0x6b/0x140", leaf first. */
	snprintf(path, sizeof(path), "/proc/%d/task/%d/stack", (int)pid, (int)tid);
	if (!names || read_path_all(path, &buf, NULL)) {
		free(names);
		return;
	}
	for (line = strtok_r(buf, "\n", &save); line && n < c->depth;
	     line = strtok_r(NULL, "\n", &save)) {
		char *sym = strchr(line, ' ');

		if (!sym)
			continue;
		sym++;
		sym[strcspn(sym, "+ ")] = 0;
		if (*sym)
			names[n++] = sym;
	}
	while (n-- > 0)
		stackbuf_push(st, profile_frame(c->p, FRAME_KERNEL, names[n], "[kernel]", 0));
	free(buf);
	free(names);
}
