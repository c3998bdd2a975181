/* ebprof: the command line, then one profiling run (run/session.h), then
 * the report (output/). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>

#include <bpf/libbpf.h>

#include "cli/options.h"
#include "model/tablesort.h"
#include "output/outfile.h"
#include "output/writer.h"
#include "run/collector.h"
#include "run/features.h"
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

	if (ebprof_verbosity)
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
		  size_t n)
{
	const struct writer *w = writer_find(format);
	struct write_opts wo = {
		.limit = o->limit_set || !strcmp(format, "text") ? o->limit : 0,
		.metric = o->metric,
		.callers = o->callers,
		.callees = o->callees,
	};
	int err = profile_sort_tables(profiles, n, o->sort, stderr);

	/* C does not convert T ** to const T *const * by itself. */
	return err ? err : w->write(f, (const struct profile *const *)profiles, n, &wo, stderr);
}

/* The final report, to stdout or -o FILE. */
static int write_report(const struct options *o, struct profile **profiles, size_t n)
{
	struct outfile out;
	int err = outfile_open(&out, o->output);

	if (err)
		return err;
	return outfile_close(&out, render(out.f, o->format, o, profiles, n));
}

/* -i: every report's tables as they stand, as text on stdout. */
static void print_interval(struct session *s, int n, double elapsed, void *arg)
{
	const struct options *o = arg;
	struct profile *profiles[MAX_REPORTS + 2];
	size_t np = 0;

	printf("=== interval %d: %.1f s ===\n", n, elapsed);
	if (session_snapshot(s, profiles, &np) == 0)
		render(stdout, "text", o, profiles, np);
	for (size_t i = 0; i < np; i++)
		profile_free(profiles[i]);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	struct options o;
	struct session *s = NULL;
	struct profile *profiles[MAX_REPORTS + 2];
	size_t nprof = 0;
	int err, status;

	ebprof_start_ns = now_ns();
	switch (options_parse(argc, argv, &o, stdout, stderr)) {
	case PARSE_OK: break;
	case PARSE_EXIT_OK: return 0;
	default: return 2;
	}
	ebprof_verbosity = o.verbose;
	libbpf_set_print(libbpf_log);
	/* Everything that can be wrong with the command line fails here,
	 * before collecting for minutes. */
	if (o.sort && collector_check_sort(&o, o.sort))
		return 2;
	if (o.metric && collector_check_metric(&o, o.metric))
		return 2;
	if (outfile_check(o.output))
		return 1;
	if (preflight())
		return 1;

	err = session_open(&o, &s);
	if (err) {
		session_close(s, 1); /* a command not yet released never runs */
		return ebprof_usage_error() || err == -EINVAL ? 2 : 1;
	}
	session_collect(s, o.interval > 0 ? print_interval : NULL, &o);
	err = session_report(s, profiles, &nprof);
	if (!err && !o.stream) /* --stream wrote its lines as they came */
		err = write_report(&o, profiles, nprof);
	for (size_t i = 0; i < nprof; i++)
		profile_free(profiles[i]);
	status = session_close(s, 0); /* a launched command's status; 0 for -p */
	if (err)
		status = ebprof_usage_error() || err == -EINVAL ? 2 : 1;
	return status;
}
