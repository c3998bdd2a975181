/* Shared by bpf/cpu.bpf.c and user/unwind/: the compact unwind tables the
 * BPF stack walker reads (one row per pc range of a file, built from its
 * CFI), the mapping lookup of the target, and their limits. */
#ifndef EBPROF_UNWIND_H
#define EBPROF_UNWIND_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define UNWIND_MAX_FRAMES 127		/* user frames per stack */
#define UNWIND_MAX_ROWS (1u << 23)	/* rows of all files (table memory: 128 MiB, 16 B a row) */
#define UNWIND_MAX_FILE_ROWS (1u << 22) /* rows of one file */
#define UNWIND_MAX_FILES 256		/* files with a table */
#define UNWIND_MAX_MAPPINGS 1024	/* executable mappings of the target */
#define UNWIND_SEARCH_STEPS 23		/* binary search steps: > log2(UNWIND_MAX_FILE_ROWS) */
#define UNWIND_MAP_STEPS 11		/* > log2(UNWIND_MAX_MAPPINGS) */
/* unwind_maps holds two sets of UNWIND_MAX_MAPPINGS entries: the loader
 * writes the set not in use, then flips unwind_nmaps to it in one store,
 * so a walk never sees a set half rewritten.  unwind_nmaps: the set in
 * its top bit, the count of its entries below. */
#define UNWIND_MAPS_SET (1u << 31)
#define UNWIND_MAPS_BASE(nmaps) ((nmaps)&UNWIND_MAPS_SET ? UNWIND_MAX_MAPPINGS : 0)

/* What a row says to do at the pcs from its pc up to the next row's. */
enum unwind_cmd {
	UNWIND_CFA_RSP = 0, /* CFA = rsp + cfa_off; RA at CFA - 8 */
	UNWIND_CFA_RBP = 1, /* CFA = rbp + cfa_off; RA at CFA - 8 */
	UNWIND_STOP = 2,    /* return address undefined: the outermost frame */
	UNWIND_FP = 3,	    /* CFI the walker cannot follow: a frame-pointer step */
	UNWIND_NONE = 4,    /* no CFI covers these pcs */
	/* A signal frame (its FDE's 'S' augmentation: glibc's __restore_rt):
	 * rsp points to the struct ucontext the kernel pushed; the caller
	 * is the interrupted state, its rip exact (not after a call). */
	UNWIND_SIGNAL = 5,
	/* A lazy .plt entry (the linker's standard CFA expression):
	 * CFA = rsp + cfa_off, 8 more where (pc & 15) >= arg (after the
	 * entry's push); RA at CFA - 8. */
	UNWIND_PLT = 6,
	/* CFA = rbx + cfa_off; RA at CFA - 8: a function that keeps its
	 * entry rsp in rbx and realigns rsp (glibc's lazy-binding
	 * resolver, _dl_runtime_resolve_*). */
	UNWIND_CFA_RBX = 7,
};

/* Set by the walker in a user frame (not the leaf) whose pc is exact,
 * not a return address: the interrupted pc under a signal frame, and the
 * signal trampoline's entry the handler returns to.  Symbolized at the pc
 * itself, not at pc - 1 (stack_user_pc); no user address has bit 63. */
#define UNWIND_PC_EXACT (1ull << 63)

/* x86-64 ucontext: uc_mcontext (struct sigcontext, the gregs) at 40;
 * rbp, rbx, rsp and rip are its gregs 10, 11, 15 and 16. */
#define UNWIND_UC_RBP (40 + 10 * 8)
#define UNWIND_UC_RBX (40 + 11 * 8)
#define UNWIND_UC_RSP (40 + 15 * 8)
#define UNWIND_UC_RIP (40 + 16 * 8)

/* rbp_off 0: rbp unchanged by this frame; else the caller's rbp is saved
 * at CFA + rbp_off.  rbx_off the same for rbx (which only UNWIND_CFA_RBX
 * rows read), or UNWIND_RBX_LOST: the caller's rbx is in no place the
 * walker follows (it then stops at an UNWIND_CFA_RBX row). */
struct unwind_row {
	__u32 pc; /* link-time address (file's own virtual addresses) */
	__s32 cfa_off;
	__s16 rbp_off;
	__s16 rbx_off;
	__u8 cmd; /* enum unwind_cmd */
	__u8 arg; /* UNWIND_PLT: the threshold of (pc & 15); else 0 */
	__u16 pad;
};

#define UNWIND_RBX_LOST (-32768)

/* A file's rows: the n entries of its own array (unwind_rows[file], an
 * array of maps: each file's rows take the memory they need), sorted by
 * pc. */
struct unwind_file {
	__u32 n;
	__u32 pad;
};

/* One executable mapping: [start, end) runs the file's code at link-time
 * address addr - bias.  file is an index of unwind_files, or
 * UNWIND_NO_FILE for code without a table (anonymous, JIT). */
struct unwind_mapping {
	__u64 start, end, bias;
	__u32 file;
	__u32 pad;
};

#define UNWIND_NO_FILE 0xffffffffu   /* no table: frame pointers */
#define UNWIND_TOO_LARGE 0xfffffffeu /* table over a limit: frame pointers, counted */

/* --unwind: how user stacks are walked. */
enum unwind_mode {
	UNWIND_MODE_AUTO = 0, /* CFI tables, frame pointers where a pc has none */
	UNWIND_MODE_DWARF,    /* CFI tables only */
	UNWIND_MODE_FP,	      /* frame pointers (bpf_get_stack) */
};

#endif
