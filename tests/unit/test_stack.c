/* Stack conversion (symbols/stack.c) from raw address arrays, as an
 * unwinder delivers them: order, the ip-1 rule and the exact pcs it
 * spares, markers, truncation, and
 * the cut of ebprof's own frames at the leaf of kernel stacks.  User
 * addresses are this test's own functions, symbolized in its own pid. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "symbols/stack.h"

/* Functions to point into: not inlined, a body a few dozen bytes long. */
#define TEST_FN(name)                                             \
	__attribute__((noinline, used)) int name(volatile int *x) \
	{                                                         \
		for (int i = 0; i < 8; i++)                       \
			*x += i * *x + 1;                         \
		return *x;                                        \
	}
TEST_FN(stack_fn_leaf)
TEST_FN(stack_fn_mid)
TEST_FN(stack_fn_root)

/* Two one-byte functions back to back, no padding between: the byte
 * before stack_asm_first is stack_asm_before's. */
__asm__(".text\n"
	".p2align 4\n"
	".type stack_asm_before, @function\n"
	"stack_asm_before:\n"
	"ret\n"
	".size stack_asm_before, . - stack_asm_before\n"
	".type stack_asm_first, @function\n"
	"stack_asm_first:\n"
	"ret\n"
	".size stack_asm_first, . - stack_asm_first\n");
void stack_asm_first(void);

struct fx {
	struct profile *p;
	struct symbolizer *sym;
	struct stack_conv conv;
	struct stackbuf st;
};

static struct fx *fx_new(pid_t pid, size_t depth)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->p = profile_new("cpu", "CPU");
	assert_non_null(f->p);
	assert_int_equal(symbolizer_new(pid, &f->sym), 0);
	assert_int_equal(stack_conv_init(&f->conv, f->p, f->sym, -1, depth), 0);
	return f;
}

static void fx_free(struct fx *f)
{
	stack_conv_free(&f->conv);
	symbolizer_free(f->sym);
	profile_free(f->p);
	free(f->st.frames);
	free(f);
}

static const struct pframe *frame(struct fx *f, size_t i)
{
	assert_true(i < f->st.n);
	return &f->p->frames[f->st.frames[i]];
}

static void assert_frame(struct fx *f, size_t i, int kind, const char *func, uint64_t off)
{
	const struct pframe *fr = frame(f, i);

	assert_int_equal(fr->kind, kind);
	assert_non_null(fr->func);
	assert_string_equal(fr->func, func);
	assert_int_equal(fr->offset, off);
}

static uint64_t addr(int (*fn)(volatile int *), uint64_t off)
{
	return (uint64_t)(uintptr_t)fn + off;
}

static void test_order_and_ip_minus_one(void **state)
{
	(void)state;
	struct fx *f = fx_new(getpid(), 16);
	/* leaf first, as captured */
	uint64_t ips[] = { addr(stack_fn_leaf, 5), addr(stack_fn_mid, 7), addr(stack_fn_root, 9) };

	stack_from_ips(&f->conv, &f->st, 0, ips, 3);
	assert_int_equal(f->st.err, 0);
	assert_int_equal(f->st.n, 3);
	/* root first; return addresses looked up at ip-1, the leaf as is */
	assert_frame(f, 0, FRAME_USER, "stack_fn_root", 8);
	assert_frame(f, 1, FRAME_USER, "stack_fn_mid", 6);
	assert_frame(f, 2, FRAME_USER, "stack_fn_leaf", 5);
	assert_string_equal(frame(f, 0)->module, "test_stack");
	assert_int_equal(f->conv.truncated, 0);
	fx_free(f);
}

/* Under a signal frame the walker gives the interrupted pc exactly,
 * marked UNWIND_PC_EXACT: looked up as it is, so a pc on a function's
 * first instruction names that function, not the one before (ip-1). */
static void test_exact_pc(void **state)
{
	(void)state;
	struct fx *f = fx_new(getpid(), 16);
	uint64_t first = (uint64_t)(uintptr_t)stack_asm_first;
	uint64_t ips[] = { addr(stack_fn_leaf, 5), first | UNWIND_PC_EXACT,
			   addr(stack_fn_root, 9) };

	stack_from_ips(&f->conv, &f->st, 0, ips, 3);
	assert_int_equal(f->st.err, 0);
	assert_int_equal(f->st.n, 3);
	assert_frame(f, 0, FRAME_USER, "stack_fn_root", 8);
	assert_frame(f, 1, FRAME_USER, "stack_asm_first", 0);
	assert_frame(f, 2, FRAME_USER, "stack_fn_leaf", 5);
	assert_int_equal(f->conv.bad_walks, 0);
	assert_int_equal(stack_user_pc(ips, 1), first);
	/* The same pc unmarked is a return address: its call is in the
	 * function before. */
	ips[1] = first;
	f->st.n = 0;
	stack_from_ips(&f->conv, &f->st, 0, ips, 3);
	assert_int_equal(f->st.n, 3);
	assert_frame(f, 1, FRAME_USER, "stack_asm_before", 0);
	assert_int_equal(stack_user_pc(ips, 1), first - 1);
	/* The leaf is exact anyway, marked or not. */
	assert_int_equal(stack_user_pc(ips, 0), ips[0]);
	fx_free(f);
}

static void test_truncated(void **state)
{
	(void)state;
	struct fx *f = fx_new(getpid(), 2);
	uint64_t ips[] = { addr(stack_fn_leaf, 3), addr(stack_fn_mid, 4) };

	/* as deep as the capture holds: the root is missing */
	stack_from_ips(&f->conv, &f->st, 0, ips, 2);
	assert_int_equal(f->st.n, 3);
	assert_int_equal(frame(f, 0)->kind, FRAME_MARKER);
	assert_string_equal(frame(f, 0)->func, "[truncated]");
	assert_frame(f, 1, FRAME_USER, "stack_fn_mid", 3);
	assert_frame(f, 2, FRAME_USER, "stack_fn_leaf", 3);
	/* one short of the limit is whole */
	f->st.n = 0;
	stack_from_ips(&f->conv, &f->st, 0, ips, 1);
	assert_int_equal(f->st.n, 1);
	assert_frame(f, 0, FRAME_USER, "stack_fn_leaf", 3);
	assert_int_equal(f->conv.truncated, 1);
	fx_free(f);
}

/* A frame-pointer walk gone astray: the walk stops at the first return
 * address outside every executable mapping, and the frames dropped are
 * counted. */
static void test_bad_return_address(void **state)
{
	(void)state;
	struct fx *f = fx_new(getpid(), 16);
	uint64_t ips[] = { addr(stack_fn_leaf, 5), addr(stack_fn_mid, 7), 0xd202548243a7a0ffull,
			   addr(stack_fn_root, 9) };

	stack_from_ips(&f->conv, &f->st, 0, ips, 4);
	assert_int_equal(f->st.err, 0);
	assert_int_equal(f->st.n, 2);
	assert_frame(f, 0, FRAME_USER, "stack_fn_mid", 6);
	assert_frame(f, 1, FRAME_USER, "stack_fn_leaf", 5);
	assert_int_equal(f->conv.bad_walks, 1);
	fx_free(f);
}

static void test_markers(void **state)
{
	(void)state;
	struct fx *f = fx_new(0, 8);

	stack_from_ips(&f->conv, &f->st, 0, NULL, 0);
	assert_int_equal(f->st.n, 1);
	assert_int_equal(frame(f, 0)->kind, FRAME_MARKER);
	assert_string_equal(frame(f, 0)->func, "[no user stack]");
	/* an empty kernel stack (a sample in user mode) adds nothing */
	stack_from_ips(&f->conv, &f->st, 1, NULL, 0);
	assert_int_equal(f->st.n, 1);
	/* a stack id that was not captured: the same rules */
	stack_from_id(&f->conv, &f->st, 1, -14);
	assert_int_equal(f->st.n, 1);
	stack_from_id(&f->conv, &f->st, 0, -14);
	assert_int_equal(f->st.n, 2);
	assert_int_equal(f->st.frames[1], f->st.frames[0]);
	fx_free(f);
}

/* Address of a global kernel text symbol, 0 when kallsyms hides it. */
static uint64_t ksym(const char *name)
{
	FILE *kf = fopen("/proc/kallsyms", "r");
	char line[512], sym[256], type;
	unsigned long long a;
	uint64_t found = 0;

	if (!kf)
		return 0;
	while (!found && fgets(line, sizeof(line), kf))
		if (sscanf(line, "%llx %c %255s", &a, &type, sym) == 3 &&
		    (type == 'T' || type == 't') && !strcmp(sym, name))
			found = a;
	fclose(kf);
	return found;
}

static void test_kernel_leaf_cut(void **state)
{
	(void)state;
	uint64_t trace = ksym("bpf_trace_run1"), iter = ksym("__traceiter_sched_switch"),
		 inner = ksym("__schedule"), outer = ksym("schedule");

	if (!trace || !iter || !inner || !outer)
		skip(); /* kallsyms addresses need root */
	struct fx *f = fx_new(0, 8);
	uint64_t ips[] = { trace + 0x10, iter + 0x8, inner + 0x20, outer + 0x30 };

	stack_from_ips(&f->conv, &f->st, 1, ips, 4);
	/* the tracing path is gone, the tracepoint's iterator too; the frame
	 * below it is the leaf now */
	assert_int_equal(f->st.n, 2);
	assert_frame(f, 0, FRAME_KERNEL, "schedule", 0x2f);
	assert_frame(f, 1, FRAME_KERNEL, "__schedule", 0x20);
	assert_string_equal(frame(f, 0)->module, "[kernel]");
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_and_ip_minus_one), cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_bad_return_address),     cmocka_unit_test(test_markers),
		cmocka_unit_test(test_kernel_leaf_cut),	       cmocka_unit_test(test_exact_pc),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
