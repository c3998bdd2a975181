/* func collector: what one probe hit costs on this machine, and which
 * functions to stop tracing when the estimated overhead exceeds the
 * budget (--max-overhead). */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "func_user.h"
#include "procmaps.h"
#include "util.h"

#define CALIB_CALLS 1000  /* calls per round */
#define CALIB_ROUNDS 3    /* median of */
/* Closing a uprobe waits for an RCU grace period (~0.2 s here), so links
 * are destroyed by this many threads at once: their waits overlap. */
#define FUNC_DESTROY_THREADS 64

/* The function calibration probes: in ebprof's own binary, never inlined,
 * never folded into its callers' loops. */
__attribute__((noinline)) void ebprof_calibration_target(void);
__attribute__((noinline)) void ebprof_calibration_target(void)
{
	__asm__ __volatile__("" ::: "memory");
}

struct destroy_slice {
	struct bpf_link **links;
	size_t n;
};

static void *destroy_slice(void *arg)
{
	struct destroy_slice *d = arg;

	for (size_t i = 0; i < d->n; i++)
		bpf_link__destroy(d->links[i]);
	return NULL;
}

void func_links_destroy(struct bpf_link **links, size_t n)
{
	struct destroy_slice sl[FUNC_DESTROY_THREADS];
	pthread_t th[FUNC_DESTROY_THREADS];
	int started[FUNC_DESTROY_THREADS] = { 0 };
	size_t nt = n < FUNC_DESTROY_THREADS ? n : FUNC_DESTROY_THREADS, at = 0;

	for (size_t t = 0; t < nt; t++) {
		sl[t].links = links + at;
		sl[t].n = n / nt + (t < n % nt);
		at += sl[t].n;
		started[t] = pthread_create(&th[t], NULL, destroy_slice, &sl[t]) == 0;
		if (!started[t])
			destroy_slice(&sl[t]);
	}
	for (size_t t = 0; t < nt; t++)
		if (started[t])
			pthread_join(th[t], NULL);
	memset(links, 0, n * sizeof(*links));
}

static uint64_t time_calls(void (*volatile fn)(void))
{
	uint64_t t0 = now_ns();

	for (int i = 0; i < CALIB_CALLS; i++)
		fn();
	return now_ns() - t0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t median_round(void)
{
	uint64_t t[CALIB_ROUNDS];

	for (int r = 0; r < CALIB_ROUNDS; r++)
		t[r] = time_calls(ebprof_calibration_target);
	qsort(t, CALIB_ROUNDS, sizeof(t[0]), cmp_u64);
	return t[CALIB_ROUNDS / 2];
}

/* File offset of ebprof_calibration_target in /proc/self/exe. */
static int self_offset(uint64_t *off)
{
	struct procmaps m = { 0 };
	const struct procmap *pm;
	uint64_t addr = (uint64_t)(uintptr_t)&ebprof_calibration_target;
	int err = procmaps_read(getpid(), &m);

	if (err)
		return err;
	pm = procmaps_find(&m, addr);
	if (pm)
		*off = addr - pm->start + pm->offset;
	procmaps_free(&m);
	return pm ? 0 : -ENOENT;
}

static struct bpf_link *attach_self(const struct bpf_program *prog, int ret,
				    uint64_t off, uint32_t id)
{
	LIBBPF_OPTS(bpf_uprobe_opts, uo, .bpf_cookie = id, .retprobe = ret);

	return bpf_program__attach_uprobe_opts(prog, getpid(), "/proc/self/exe",
					       off, &uo);
}

int func_calibrate(const struct bpf_program *entry, const struct bpf_program *ret,
		   uint32_t id, double *cost_ns)
{
	struct bpf_link *le = NULL, *lr = NULL;
	uint64_t off, base, probed;
	int err = self_offset(&off);

	if (err)
		return err;
	base = median_round();
	if (ret && !(lr = attach_self(ret, 1, off, id)))
		return -errno;
	le = attach_self(entry, 0, off, id);
	if (!le) {
		err = -errno;
		bpf_link__destroy(lr);
		return err;
	}
	probed = median_round();
	{
		struct bpf_link *links[2] = { le, lr };

		func_links_destroy(links, 2);
	}
	*cost_ns = probed > base ? (double)(probed - base) / CALIB_CALLS : 0;
	return 0;
}

double func_overhead_pct(const struct func_rate *r, size_t n, double cost_ns)
{
	double pct = 0;

	for (size_t i = 0; i < n; i++)
		if (r[i].attached)
			pct += r[i].hits_per_s * cost_ns / 1e9 * 100.0;
	return pct;
}

size_t func_governor_pick(const struct func_rate *r, size_t n, double cost_ns,
			  double budget_pct, size_t *pick)
{
	double pct = func_overhead_pct(r, n, cost_ns);
	size_t npick = 0;

	while (pct > budget_pct) {
		size_t best = n;

		for (size_t i = 0; i < n; i++) {
			int taken = 0;

			if (!r[i].attached || r[i].hits_per_s <= 0)
				continue;
			for (size_t j = 0; j < npick; j++)
				taken |= pick[j] == i;
			if (!taken && (best == n || r[i].hits_per_s > r[best].hits_per_s))
				best = i;
		}
		if (best == n)
			break;
		pick[npick++] = best;
		pct -= r[best].hits_per_s * cost_ns / 1e9 * 100.0;
	}
	return npick;
}
