/* ebprof: the command line, then one profiling run (run/session.h), then
 * the report (output/). */
#include <errno.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/utsname.h>

#include <bpf/libbpf.h>

#include "cli/asserts.h"
#include "cli/options.h"
#include "load/saved.h"
#include "model/diff.h"
#include "output/diff.h"
#include "model/tablesort.h"
#include "output/outfile.h"
#include "output/writer.h"
#include "run/collector.h"
#include "run/features.h"
#include "run/kstones.h"
#include "run/session.h"
#include "util/util.h"

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG && ebprof_verbosity < 2)
		return 0;
	if (level == LIBBPF_INFO && ebprof_verbosity < 1)
		return 0;
	if (level == LIBBPF_WARN && ebprof_verbosity < 1)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/* Checks what every collector needs from this kernel, so a user on
 * another machine learns what is missing before anything loads. */
static int preflight(void)
{
	static const enum feature need[] = { FEAT_BTF }; /* every collector is CO-RE */
	struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };

	/* Every feature probed (net's, uprobes', ...) takes a while: only at
	 * -vv, or with --features.  Each collector probes what it needs. */
	if (ebprof_verbosity >= 2)
		features_print(stderr);
	if (features_require("every report", need, ARRAY_SIZE(need)))
		return -ENOTSUP;
	if (geteuid() != 0)
		ebprof_verbose(1, "not running as root: BPF needs CAP_BPF and CAP_PERFMON");
	setrlimit(RLIMIT_MEMLOCK, &rl); /* older kernels charge BPF maps here */
	return 0;
}

/* Puts tables in -s order (writers render profiles as they are) and
 * renders them in format to f. */
static int render(FILE *f, const char *format, const struct options *o, struct profile **profiles,
		  size_t n, const struct run_meta *run)
{
	const struct writer *w = writer_find(format);
	struct write_opts wo = {
		.limit = o->limit_set || !strcmp(format, "text") ? o->limit : 0,
		.metric = o->metric,
		.callers = o->callers,
		.callees = o->callees,
		.run = run,
	};
	int err = profile_sort_tables(profiles, n, o->sort, stderr);

	/* C does not convert T ** to const T *const * by itself. */
	return err ? err : w->write(f, (const struct profile *const *)profiles, n, &wo, stderr);
}

/* One rendering of the report, to stdout or path. */
static int write_to(const char *path, const char *format, const struct options *o,
		    struct profile **profiles, size_t n, const struct run_meta *run)
{
	struct outfile out;
	int err = outfile_open(&out, path);

	if (err)
		return err;
	return outfile_close(&out, render(out.f, format, o, profiles, n, run));
}

/* The final report, to stdout or -o FILE, and the --save copy. */
static int write_report(const struct options *o, struct profile **profiles, size_t n,
			const struct run_meta *run)
{
	int err = write_to(o->output, o->format, o, profiles, n, run);

	return err || !o->save ? err : write_to(o->save, "json", o, profiles, n, run);
}

/* The --assert verdicts: on stdout after the report, unless the report
 * itself is on stdout for a program (json, dot...): then on stderr.  0, or
 * the exit status they call for. */
static int check_asserts(const struct options *o, const struct asserts *a,
			 struct profile **profiles, size_t n)
{
	FILE *out = !o->output && strcmp(o->format, "text") ? stderr : stdout;

	return asserts_check(a, (const struct profile *const *)profiles, n, out);
}

/* The facts of this run that a saved profile keeps (the command line is
 * taken before parsing, which splits -f lists in place). */
static void run_meta_fill(struct run_meta *m, const struct options *o, uint64_t duration_ns)
{
	struct utsname u;
	char target[64];

	if (o->argv) {
		int n = 0;

		while (o->argv[n])
			n++;
		m->target = run_meta_join(o->argv, n);
	} else {
		char comm[32] = "?";

		task_comm(o->pid, o->pid, comm, sizeof(comm));
		snprintf(target, sizeof(target), "pid %d (%s)", (int)o->pid, comm);
		m->target = strdup(target);
	}
	m->kernel = uname(&u) == 0 ? strdup(u.release) : NULL;
	m->version = strdup(EBPROF_VERSION);
	m->duration_ns = (int64_t)duration_ns;
}

/* The reports of s named in o (all without names) into pick; 0, or 2
 * with one line for a name the file lacks (1 for a file with more reports
 * than a run makes). */
static int pick_reports(const struct options *o, const struct saved_run *s, const char *path,
			struct profile **pick, size_t *n)
{
	*n = 0;
	if (s->n > MAX_REPORTS) {
		ebprof_err("%s has %zu reports (at most %d)", path, s->n, MAX_REPORTS);
		return 1;
	}
	if (!o->nreports) {
		for (; *n < s->n; (*n)++)
			pick[*n] = s->profiles[*n];
		return 0;
	}
	for (int i = 0; i < o->nreports; i++) {
		const struct profile *p = profile_find_report(
			(const struct profile *const *)s->profiles, s->n, o->reports[i]);

		if (!p) {
			ebprof_usage("%s has no report '%s'", path, o->reports[i]);
			return 2;
		}
		pick[(*n)++] = (struct profile *)p;
	}
	return 0;
}

/* ebprof report FILE: a saved profile rendered again, its reports or the
 * ones named. */
static int report_saved(const struct options *o)
{
	struct saved_run s;
	struct profile *pick[MAX_REPORTS];
	struct asserts a;
	size_t n = 0;
	int err;

	if (asserts_prepare(&a, o, 0))
		return 2;
	if (outfile_check(o->output) || saved_run_load(o->input, &s)) {
		asserts_free(&a);
		return 1;
	}
	for (n = 0; o->metric && n < s.n && profile_metric_index(s.profiles[n], o->metric) < 0; n++)
		;
	if (o->metric && n == s.n) {
		ebprof_usage("no report in %s has a metric '%s'", o->input, o->metric);
		saved_run_free(&s);
		asserts_free(&a);
		return 2;
	}
	if ((err = pick_reports(o, &s, o->input, pick, &n))) {
		saved_run_free(&s);
		asserts_free(&a);
		return err;
	}
	err = write_report(o, pick, n, &s.run);
	err = !err ? check_asserts(o, &a, pick, n) : err == -EINVAL ? 2 : 1;
	saved_run_free(&s);
	asserts_free(&a);
	return err;
}

/* The comparison of two loaded runs to f. */
static int diff_render(FILE *f, const struct options *o, struct profile **b, size_t nb,
		       struct profile **a, size_t na)
{
	const struct profile *const *cb = (const struct profile *const *)b;
	const struct profile *const *ca = (const struct profile *const *)a;
	struct diff d;
	int err;

	if (!strcmp(o->format, "folded"))
		return diff_write_folded(f, cb, nb, ca, na, o->metric, stderr);
	if (!strcmp(o->format, "svg"))
		return diff_write_svg(f, cb, nb, ca, na, o->metric, stderr);
	err = diff_build(cb, nb, ca, na, &d);
	if (!err)
		err = diff_write_text(f, &d, o->limit_set ? o->limit : 0);
	diff_free(&d);
	return err;
}

/* ebprof diff BEFORE AFTER: the change of every table row and metric. */
static int diff_saved(const struct options *o)
{
	struct saved_run s[2];
	struct profile *pick[2][MAX_REPORTS];
	size_t n[2];
	struct outfile out;
	int err = 0, loaded = 0;

	if (outfile_check(o->output))
		return 1;
	for (; loaded < 2 && !err; loaded++)
		err = saved_run_load(loaded ? o->input2 : o->input, &s[loaded]) ? 1 : 0;
	if (err)
		loaded--;
	for (int i = 0; i < 2 && !err; i++)
		err = pick_reports(o, &s[i], i ? o->input2 : o->input, pick[i], &n[i]);
	if (!err && !(err = outfile_open(&out, o->output) ? 1 : 0)) {
		int r = outfile_close(&out, diff_render(out.f, o, pick[0], n[0], pick[1], n[1]));

		err = !r ? 0 : r == -EINVAL ? 2 : 1;
	}
	while (loaded--)
		saved_run_free(&s[loaded]);
	return err;
}

/* -i: every report's tables as they stand, as text on stdout. */
static void print_interval(struct session *s, int n, double elapsed, void *arg)
{
	const struct options *o = arg;
	struct profile *profiles[MAX_REPORTS + 2];
	size_t np = 0;

	printf("=== interval %d: %.1f s ===\n", n, elapsed);
	if (session_snapshot(s, profiles, &np) == 0)
		render(stdout, "text", o, profiles, np, NULL);
	for (size_t i = 0; i < np; i++)
		profile_free(profiles[i]);
	fflush(stdout);
}

static int run_main(int argc, char **argv, struct run_meta *run)
{
	struct options o;
	struct asserts a;
	struct session *s = NULL;
	struct profile *profiles[MAX_REPORTS + 2];
	uint64_t t0;
	size_t nprof = 0;
	int err, status, verdict = 0;
	double kstone_ns = 0;

	ebprof_start_ns = now_ns();
	switch (options_parse(argc, argv, &o, stdout, stderr)) {
	case PARSE_OK: break;
	case PARSE_EXIT_OK: return 0;
	default: return 2;
	}
	ebprof_verbosity = o.verbose;
	if (o.mode == MODE_REPORT)
		return report_saved(&o);
	if (o.mode == MODE_DIFF)
		return diff_saved(&o);
	libbpf_set_print(libbpf_log);
	/* Everything that can be wrong with the command line fails here,
	 * before collecting for minutes. */
	if (o.sort && collector_check_sort(&o, o.sort))
		return 2;
	if (o.metric && collector_check_metric(&o, o.metric))
		return 2;
	if (asserts_prepare(&a, &o, 1))
		return 2;
	if (outfile_check(o.output) || (o.save && outfile_check(o.save)) || preflight()) {
		asserts_free(&a);
		return 1;
	}

	if (o.calibrate && !(kstone_ns = kstones_calibrate())) {
		ebprof_err("--calibrate: the thread CPU clock does not work here");
		asserts_free(&a);
		return 1;
	}
	err = session_open(&o, &s);
	if (err) {
		session_close(s, 1); /* a command not yet released never runs */
		asserts_free(&a);
		return ebprof_usage_error() || err == -EINVAL ? 2 : 1;
	}
	t0 = now_ns();
	session_collect(s, o.interval > 0 ? print_interval : NULL, &o);
	run_meta_fill(run, &o, now_ns() - t0);
	err = session_report(s, profiles, &nprof);
	for (size_t i = 0; !err && kstone_ns > 0 && i < nprof; i++)
		err = profile_info_double(profiles[i], KSTONE_INFO,
					  "calibration (--calibrate: CPU time of 1 kstone)", "ns",
					  kstone_ns);
	if (!err && !o.stream) /* --stream wrote its lines as they came */
		err = write_report(&o, profiles, nprof, run);
	if (!err)
		verdict = check_asserts(&o, &a, profiles, nprof);
	for (size_t i = 0; i < nprof; i++)
		profile_free(profiles[i]);
	asserts_free(&a);
	status = session_close(s, 0); /* a launched command's status; 0 for -p */
	if (err)
		status = ebprof_usage_error() || err == -EINVAL ? 2 : 1;
	else if (verdict)
		status = verdict; /* a failed check outranks the command's status */
	return status;
}

int main(int argc, char **argv)
{
	struct run_meta run;
	int status;

	/* The unwind tables' build allocates and frees a small frame state
	 * per row (libdw), millions for a large program: a heap grown 64 MiB
	 * at a time (address space; pages are resident only once touched)
	 * spares the faults of growing it page by page after each trim,
	 * about 10 % of the build. */
	mallopt(M_TOP_PAD, 64 << 20);
	run = (struct run_meta){ .command = run_meta_join(argv, argc) };
	status = run_main(argc, argv, &run);

	run_meta_free(&run);
	return status;
}
