/* Known growth for the vm report.  grow_memory() maps and touches new
 * memory three ways: an anonymous mmap of MMAP_PAGES pages, MALLOC_BLOCKS
 * malloc'd blocks of 1 MiB (above the mmap threshold: each its own
 * mapping), and BRK_PAGES pages of break growth through sbrk; it writes one
 * byte per page itself, so every first touch happens in it.  churn() then
 * allocates, touches and frees a 64 KiB block CHURN times: the same heap
 * pages again and again, which is no growth.  main calls grow_memory through
 * a function whose name is 700 bytes ("long_name_" 70 times), longer than
 * any fixed buffer: every format must carry it whole.  The memory is held HOLD_MS
 * before exit (for the resident-set readings).  Transparent huge pages are
 * turned off for the process (one fault would then touch 2 MiB).
 *
 *   touchmem START MMAP_PAGES MALLOC_BLOCKS BRK_PAGES CHURN [HOLD_MS]
 *
 * With TOUCHMEM_TRUTH set, writes "touched_pages N", "mapped_bytes N",
 * "page N", "churn_block N", "churn N" lines to that file. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "gate.h"

#define BLOCK (1L << 20)
#define CHURN_BLOCK (64L << 10)

static long page;
void *volatile sink;

/* One byte per page of [p, p + len), inlined: every page is faulted in by
 * the function that calls it (which keeps a frame pointer). */
static inline __attribute__((always_inline)) long touch(char *p, long len)
{
	long n = 0;

	for (long off = 0; off < len; off += page, n++)
		((volatile char *)p)[off] = 1;
	return n;
}

__attribute__((noinline, noclone)) static long grow_memory(long mmap_pages, long blocks,
							   long brk_pages, long *mapped)
{
	long pages = 0;
	char *p = mmap(NULL, mmap_pages * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);

	if (p == MAP_FAILED)
		exit(1);
	*mapped += mmap_pages * page;
	pages += touch(p, mmap_pages * page);
	for (long i = 0; i < blocks; i++) {
		char *b = malloc(BLOCK);

		if (!b)
			exit(1);
		sink = b;
		*mapped += BLOCK;
		/* malloc wrote its header in the first page: touch the rest */
		pages += touch(b + page, BLOCK - page);
	}
	if (brk_pages) {
		char *b = sbrk(brk_pages * page);

		if (b == (void *)-1)
			exit(1);
		*mapped += brk_pages * page;
		pages += touch(b, brk_pages * page);
	}
	return pages;
}

#define CAT(a, b) a##b
#define XCAT(a, b) CAT(a, b)
#define N10 long_name_
#define N20 XCAT(N10, N10)
#define N40 XCAT(N20, N20)
#define N80 XCAT(N40, N40)
#define N160 XCAT(N80, N80)
#define N320 XCAT(N160, N160)
#define N640 XCAT(N320, N320)
#define LONG_NAME XCAT(N640, XCAT(N40, N20))

__attribute__((noinline, noclone)) static long LONG_NAME(long mmap_pages, long blocks,
							 long brk_pages, long *mapped)
{
	long pages = grow_memory(mmap_pages, blocks, brk_pages, mapped);

	sink = mapped; /* no tail call: this frame stays under grow_memory */
	return pages;
}

__attribute__((noinline, noclone)) static void churn(long n)
{
	for (long i = 0; i < n; i++) {
		char *b = malloc(CHURN_BLOCK);

		if (!b)
			exit(1);
		touch(b, CHURN_BLOCK);
		sink = b;
		free(b);
	}
}

int main(int argc, char **argv)
{
	long mapped = 0, pages, hold_ms;

	gate_init();
	if (argc < 6) {
		fprintf(stderr, "usage: touchmem START MMAP_PAGES MALLOC_BLOCKS BRK_PAGES CHURN "
				"[HOLD_MS]\n");
		return 2;
	}
	page = sysconf(_SC_PAGESIZE);
	prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0);
	hold_ms = argc > 6 ? atol(argv[6]) : 1000;
	if (gate_wait(argv[1]))
		return 2;
	pages = LONG_NAME(atol(argv[2]), atol(argv[3]), atol(argv[4]), &mapped);
	churn(atol(argv[5]));
	const char *truth = getenv("TOUCHMEM_TRUTH");
	if (truth) {
		FILE *f = fopen(truth, "w");

		if (!f)
			return 1;
		fprintf(f,
			"touched_pages %ld\nmapped_bytes %ld\npage %ld\nchurn_block %ld\nchurn "
			"%s\n",
			pages, mapped, page, CHURN_BLOCK, argv[5]);
		fclose(f);
	}
	struct timespec ts = { hold_ms / 1000, (hold_ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0)
		;
	return 0;
}
