/* Probe layer: what one call's probes cost on this machine (see
 * calibrate.h). */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "probe/calibrate.h"
#include "probe/uprobe_multi.h"
#include "probe/uprobe_set.h"
#include "symbols/procmaps.h"
#include "uprobe_gen.h"
#include "util/util.h"

/* Many short rounds, and their lower quartile: on a loaded machine a round
 * that lost its CPU for a while is slower, but the time lost is not what
 * the probes cost (it counts as wall time with or without them). */
#define CALIB_CALLS 200 /* calls per round */
#define CALIB_ROUNDS 16 /* rounds */

/* The function calibration probes: in ebprof's own binary, never inlined,
 * never folded into its callers' loops. */
__attribute__((noinline)) void ebprof_calibration_target(void);
__attribute__((noinline)) void ebprof_calibration_target(void)
{
	__asm__ __volatile__("" ::: "memory");
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

static uint64_t lower_quartile(uint64_t *v)
{
	qsort(v, CALIB_ROUNDS, sizeof(v[0]), cmp_u64);
	return v[CALIB_ROUNDS / 4];
}

static uint64_t mean(const uint64_t *v)
{
	uint64_t sum = 0;

	for (int r = 0; r < CALIB_ROUNDS; r++)
		sum += v[r];
	return sum / CALIB_ROUNDS;
}

/* The rounds' lower-quartile time (their mean into *avg, may be NULL), and
 * (inside set) the lower quartile of the time the BPF side measured inside
 * the calls, per call; *inside_ns stays 0 when it measured nothing. */
static uint64_t time_rounds(const struct uprobe_inside *inside, double *inside_ns, uint64_t *avg)
{
	uint64_t t[CALIB_ROUNDS], in[CALIB_ROUNDS], ns0, ns1, calls0, calls1;
	int ok = inside && inside->read;

	for (int r = 0; r < CALIB_ROUNDS; r++) {
		if (ok && inside->read(inside->ctx, &ns0, &calls0))
			ok = 0;
		t[r] = time_calls(ebprof_calibration_target);
		if (ok && (inside->read(inside->ctx, &ns1, &calls1) || calls1 - calls0 == 0))
			ok = 0;
		if (ok)
			in[r] = (ns1 - ns0) / (calls1 - calls0);
	}
	if (ok && inside_ns)
		*inside_ns = (double)lower_quartile(in);
	if (avg)
		*avg = mean(t);
	return lower_quartile(t);
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

static struct bpf_link *attach_self(const struct bpf_program *prog, int ret, uint64_t off,
				    uint32_t id)
{
	LIBBPF_OPTS(bpf_uprobe_opts, uo, .bpf_cookie = id, .retprobe = ret);

	return bpf_program__attach_uprobe_opts(prog, getpid(), "/proc/self/exe", off, &uo);
}

/* The probes of one traced call, placed as the run places them: return
 * probe first.  0 or negative errno, with nothing left attached. */
static int calib_attach(const struct uprobe_set *s, uint64_t off, uint32_t id,
			struct bpf_link **links, int *fds)
{
	const struct bpf_program *entry = uprobe_set__prog(s, 0), *ret = uprobe_set__prog(s, 1);
	uint64_t cookie = uprobe_cookie(0, id);
	int err;

	if (uprobe_set__kind(s) == UPROBE_ATTACH_MULTI) {
		if (ret && (fds[1] = uprobe_multi_attach(bpf_program__fd(ret), "/proc/self/exe",
							 &off, &cookie, 1, 1, getpid())) < 0)
			return fds[1];
		fds[0] = uprobe_multi_attach(bpf_program__fd(entry), "/proc/self/exe", &off,
					     &cookie, 1, 0, getpid());
		if (fds[0] < 0) {
			err = fds[0];
			uprobe_multi_close(fds, 2);
			return err;
		}
		return 0;
	}
	if (ret && !(links[1] = attach_self(ret, 1, off, id)))
		return -errno;
	if (!(links[0] = attach_self(entry, 0, off, id))) {
		err = -errno;
		uprobe_links_destroy(links, 2);
		return err;
	}
	return 0;
}

/* The calibration probes, removed in the background: their removal waits
 * for a grace period that need not delay the run. */
struct uprobe_calib {
	struct bpf_link *links[2];
	int fds[2];
	pthread_t th;
};

static void *calib_release(void *arg)
{
	struct uprobe_calib *c = arg;

	uprobe_links_destroy(c->links, 2);
	uprobe_multi_close(c->fds, 2);
	return NULL;
}

void uprobe_calib_wait(struct uprobe_calib *c)
{
	if (!c)
		return;
	pthread_join(c->th, NULL);
	free(c);
}

int uprobe_calibrate(const struct uprobe_set *s, uint32_t cookie,
		     const struct uprobe_inside *inside, double *cost_ns, double *inside_ns,
		     double *mean_ns, struct uprobe_calib **pending)
{
	struct uprobe_calib *c = calloc(1, sizeof(*c));
	uint64_t off, base, probed, base_avg = 0, probed_avg = 0;
	int err;

	*pending = NULL;
	*inside_ns = 0;
	if (!c)
		return -ENOMEM;
	c->fds[0] = c->fds[1] = -1;
	err = self_offset(&off);
	if (!err) {
		base = time_rounds(NULL, NULL, &base_avg);
		err = calib_attach(s, off, cookie, c->links, c->fds);
	}
	if (err) {
		free(c);
		return err;
	}
	probed = time_rounds(inside, inside_ns, &probed_avg);
	*cost_ns = probed > base ? (double)(probed - base) / CALIB_CALLS : 0;
	if (mean_ns)
		*mean_ns = probed_avg > base_avg ? (double)(probed_avg - base_avg) / CALIB_CALLS :
						   0;
	if (*inside_ns > *cost_ns)
		*inside_ns = *cost_ns;
	if (pthread_create(&c->th, NULL, calib_release, c) == 0) {
		*pending = c;
	} else {
		calib_release(c);
		free(c);
	}
	return 0;
}

void uprobe_cost_get(struct uprobe_cost *c, const struct uprobe_set *s, uint32_t cookie,
		     const struct uprobe_inside *inside, double override_ns,
		     const char *override_from, struct strlist *notes)
{
	double ns = 0, in = 0;
	int err;

	c->pending = NULL;
	/* Measured even with an override: the split between inside and
	 * outside the call applies to the given cost too. */
	err = uprobe_calibrate(s, cookie, inside, &ns, &in, NULL, &c->pending);
	c->measured_ns = err ? 0 : ns;
	if (override_ns > 0) {
		c->ns = override_ns;
		c->inside_ns = !err && ns > 0 ? override_ns * in / ns : 0;
		c->source = override_from;
		return;
	}
	if (err || ns <= 0) {
		strlist_addf(notes,
			     "probe cost calibration failed (%s); assuming %.0f "
			     "ns per call (--probe-cost sets it)",
			     err ? strerror(-err) : "no measurable cost", UPROBE_ASSUMED_COST_NS);
		c->ns = UPROBE_ASSUMED_COST_NS;
		c->inside_ns = 0;
		c->source = "assumed";
	} else {
		c->ns = ns;
		c->inside_ns = in;
		c->source = "calibrated";
	}
}

void uprobe_cost_wait(struct uprobe_cost *c)
{
	uprobe_calib_wait(c->pending);
	c->pending = NULL;
}
