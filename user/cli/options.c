/* Command-line parsing: every report and option in one place. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run/collector.h"
#include "run/features.h"
#include "output/writer.h"
#include "cli/options.h"
#include "unwind.h"

#define DEFAULT_FREQUENCY 99
#define MAX_FREQUENCY 100000
#define DEFAULT_LIMIT 30
#define DEFAULT_MAX_OVERHEAD 5.0

enum {
	OPT_FORMAT = 1000,
	OPT_METRIC,
	OPT_MIN_BLOCK,
	OPT_UNWIND,
	OPT_MAX_OVERHEAD,
	OPT_COUNT_ONLY,
	OPT_CALLERS,
	OPT_CALLEES,
	OPT_PROBE_COST,
	OPT_RAW_TIMES,
	OPT_FEATURES,
	OPT_STREAM,
	OPT_ALLOCATOR,
	OPT_MIN_AGE,
	OPT_SAVE,
	OPT_ASSERT,
	OPT_CALIBRATE,
	OPT_CHILDREN,
	OPT_NO_DEMANGLE,
};

static const struct option long_opts[] = {
	{ "pid", required_argument, NULL, 'p' },
	{ "duration", required_argument, NULL, 'd' },
	{ "interval", required_argument, NULL, 'i' },
	{ "frequency", required_argument, NULL, 'F' },
	{ "output", required_argument, NULL, 'o' },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "sort", required_argument, NULL, 's' },
	{ "limit", required_argument, NULL, 'n' },
	{ "metric", required_argument, NULL, OPT_METRIC },
	{ "verbose", no_argument, NULL, 'v' },
	{ "min-block", required_argument, NULL, OPT_MIN_BLOCK },
	{ "unwind", required_argument, NULL, OPT_UNWIND },
	{ "children", no_argument, NULL, OPT_CHILDREN },
	{ "no-demangle", no_argument, NULL, OPT_NO_DEMANGLE },
	{ "functions", required_argument, NULL, 'f' },
	{ "max-overhead", required_argument, NULL, OPT_MAX_OVERHEAD },
	{ "count-only", no_argument, NULL, OPT_COUNT_ONLY },
	{ "callers", required_argument, NULL, OPT_CALLERS },
	{ "callees", required_argument, NULL, OPT_CALLEES },
	{ "probe-cost", required_argument, NULL, OPT_PROBE_COST },
	{ "raw-times", no_argument, NULL, OPT_RAW_TIMES },
	{ "features", no_argument, NULL, OPT_FEATURES },
	{ "stream", no_argument, NULL, OPT_STREAM },
	{ "allocator", required_argument, NULL, OPT_ALLOCATOR },
	{ "min-age", required_argument, NULL, OPT_MIN_AGE },
	{ "save", required_argument, NULL, OPT_SAVE },
	{ "assert", required_argument, NULL, OPT_ASSERT },
	{ "calibrate", no_argument, NULL, OPT_CALIBRATE },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

void options_usage(FILE *f)
{
	const struct collector_ops *const *c;
	const struct writer *const *w;

	fprintf(f, "Usage: ebprof [OPTIONS] -p PID [REPORT...]\n"
		   "       ebprof [OPTIONS] [REPORT...] -- COMMAND [ARGS...]\n"
		   "       ebprof report FILE [OUTPUT OPTIONS] [REPORT...]\n"
		   "       ebprof diff BEFORE AFTER [--format text|folded|svg] [REPORT...]\n"
		   "\n"
		   "Profiles an unmodified native process from the outside with BPF: no\n"
		   "ptrace, no LD_PRELOAD, no restart.  Attach to a running process with -p,\n"
		   "or launch COMMAND with probes in place before its first instruction (then\n"
		   "ebprof exits with the command's exit status).  Collection stops on Ctrl-C,\n"
		   "SIGTERM, -d expiry or when the target exits; then the report is written.\n"
		   "A second Ctrl-C quits at once.  Needs root (CAP_BPF and CAP_PERFMON).\n"
		   "\n"
		   "Reports (default: every report marked *; a format of one report takes\n"
		   "the first; naming mem runs vm too):\n");
	for (c = collector_list(); *c; c++)
		fprintf(f, "  %-6s %c %s\n", (*c)->name, (*c)->default_on ? '*' : ' ', (*c)->desc);
	fprintf(f,
		"\n"
		"Target:\n"
		"  -p, --pid PID            profile a running process (all its threads)\n"
		"  -- COMMAND [ARGS...]     launch COMMAND and profile it from the start\n"
		"\n"
		"Collection:\n"
		"  -d, --duration SECONDS   stop after SECONDS (fractions allowed)\n"
		"  -i, --interval SECONDS   while collecting, print every report's tables\n"
		"                           every SECONDS (text, on stdout); the final report\n"
		"                           follows as usual\n"
		"  -F, --frequency HZ       cpu: samples per second of thread CPU time (default "
		"%d)\n"
		"      --min-block USEC     cpu: ignore off-CPU episodes shorter than USEC\n"
		"      --unwind MODE        cpu, mem, vm: how user stacks are walked: auto\n"
		"                           (default: the files' CFI, frame pointers where a\n"
		"                           pc has none), dwarf (CFI only), fp (frame pointers)\n"
		"      --children           cpu: follow the target's child processes too,\n"
		"                           those running at attach and those forked later\n"
		"                           (threads labelled with their process)\n"
		"      --no-demangle        cpu, mem, vm: keep C++ names mangled (_Znwm for\n"
		"                           operator new(unsigned long)), as the files spell them\n"
		"  -f, --functions PATTERNS func: trace these functions exactly (implies the\n"
		"                           func report); comma-separated globs over the\n"
		"                           executable's symbols ('handle_*'), or LIB:GLOB for\n"
		"                           a shared library ('libc:malloc', 'libssl:SSL_*')\n"
		"      --max-overhead PCT   func: detach the hottest probes when their\n"
		"                           estimated cost exceeds PCT %% of one CPU\n"
		"                           (default %.0f; 0 disables the guard)\n"
		"      --count-only         func: count calls only (entry probes, ~half cost)\n"
		"      --probe-cost NS      func: what one traced call costs, in ns, for the\n"
		"                           governor and the report, instead of calibrating\n"
		"                           it at start (also EBPROF_PROBE_COST_NS=NS)\n"
		"                           (--max-overhead and --probe-cost govern mem too)\n"
		"      --stream             net: one line per event (connect, accept,\n"
		"                           response, retransmit, close) as it happens, TSV\n"
		"                           with a header, or --format jsonl; instead of the\n"
		"                           report (implies the net report)\n"
		"      --allocator LIB      mem: probe this library's malloc family instead\n"
		"                           of the one the target binds to ('libjemalloc',\n"
		"                           a path)\n"
		"      --min-age SECONDS    mem: leaks are outstanding blocks at least this\n"
		"                           old at the end (default 0: every one)\n"
		"      --raw-times          func: times as measured, probe cost included\n"
		"                           (default: the probe cost is removed)\n"
		"\n"
		"Output:\n"
		"  -o, --output FILE        write the report to FILE (atomically: a temporary\n"
		"                           file renamed when complete); default stdout,\n"
		"                           and required for formats other than text with\n"
		"                           -- COMMAND (its output goes to stdout too);\n"
		"                           with --stream, written as it goes; FILE.json\n"
		"                           without --format saves the profile\n"
		"      --save FILE          also save the whole profile as JSON to FILE\n"
		"                           (for ebprof report FILE)\n"
		"      --format FORMAT      one of:",
		DEFAULT_FREQUENCY, DEFAULT_MAX_OVERHEAD);
	for (w = writer_list(); *w; w++)
		fprintf(f, " %s", (*w)->name);
	fprintf(f, " (default text); with --stream: tsv (default) or jsonl\n"
		   "  -s, --sort KEY           sort tables by this column:\n");
	for (c = collector_list(); *c; c++) {
		fprintf(f, "                             %s: ", (*c)->name);
		collector_print_sort_keys(f, *c, " ");
		fprintf(f, "\n");
	}
	fprintf(f,
		"  -n, --limit N            rows per table in text output (default %d, 0 = all)\n"
		"      --metric NAME        value for folded/dot/callgrind (cpu's wall is in\n"
		"                           microseconds in folded):\n",
		DEFAULT_LIMIT);
	for (c = collector_list(); *c; c++) {
		if (!(*c)->nmetrics)
			continue; /* a report of tables only */
		fprintf(f, "                             %s: ", (*c)->name);
		collector_print_metrics(f, *c, " ");
		fprintf(f, " (default %s)\n", (*c)->metrics[(*c)->default_metric].name);
	}
	fprintf(f,
		"      --assert EXPR        check the report: 'heavy.cumtime < 9s',\n"
		"                           'medium.ncalls == 400', 'cpu.self(hot_a) < 70%%'\n"
		"                           (repeatable; one PASS/FAIL line each, exit\n"
		"                           status 3 when one fails; grammar in README)\n"
		"      --calibrate          time a fixed reference loop at start: times can\n"
		"                           then be asserted in machine units ('heavy.cumtime\n"
		"                           < 900 kstones'); every report shows the figure\n"
		"      --callers FUNC       func: who called FUNC (pstats print_callers)\n"
		"      --callees FUNC       func: what FUNC called (pstats print_callees)\n"
		"  -v, --verbose            more detail on stderr (repeat for more)\n"
		"      --features           what this kernel offers ebprof (BTF, tracepoints,\n"
		"                           perf events, ...), then exit; needs no target\n"
		"  -h, --help               this help\n"
		"  -V, --version            version\n"
		"\n"
		"Examples:\n"
		"  sudo ebprof -p 1234                               # cpu + vm, until Ctrl-C\n"
		"  sudo ebprof -p 1234 -d 30 cpu --format folded -o cpu.folded\n"
		"  sudo ebprof cpu --metric offcpu --format folded -o off.folded -- ./server\n"
		"  sudo ebprof -f 'heavy,medium,light' -- ./myapp\n"
		"  sudo ebprof -p 1234 -f 'libc:malloc,libc:free' --count-only -d 10\n"
		"  sudo ebprof -p 1234 net -d 30                     # sockets, endpoints\n"
		"  sudo ebprof -p 1234 --stream --format jsonl | grep response\n"
		"  sudo ebprof -p 1234 mem -d 60 --min-age 30        # leaks older than 30 s\n"
		"  sudo ebprof vm --format folded --metric touched_bytes -o grow.folded -- ./app\n"
		"\n"
		"  ebprof report run.json --format callgrind -o run.callgrind\n"
		"  ebprof diff before.json after.json -n 10\n"
		"  ebprof diff before.json after.json cpu --format folded -o diff.folded\n"
		"\n"
		"ebprof report FILE renders a profile saved with -o FILE.json (or --format\n"
		"json, or --save) again, offline: no target, no privileges; REPORT names\n"
		"pick reports of the file.\n"
		"\n"
		"Exit status: 0 ok (or the command's status), 1 runtime failure, 2 usage error,\n"
		"3 an --assert failed.\n");
}

static int usage(FILE *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int usage(FILE *err, const char *fmt, ...)
{
	va_list ap;

	fprintf(err, "ebprof: ");
	va_start(ap, fmt);
	vfprintf(err, fmt, ap);
	va_end(ap);
	fprintf(err, " (see ebprof --help)\n");
	return PARSE_USAGE;
}

static int parse_long(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_double(const char *s, double lo, double hi, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v < lo || v > hi)
		return -EINVAL;
	*out = v;
	return 0;
}

/* Splits a comma-separated pattern list into o->func_patterns (the
 * pieces point into the argument, which lives as long as argv). */
static int add_patterns(struct options *o, char *arg, FILE *err)
{
	char *save, *tok;

	for (tok = strtok_r(arg, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (o->nfunc_patterns == MAX_FUNC_PATTERNS)
			return usage(err, "too many -f patterns (at most %d)", MAX_FUNC_PATTERNS);
		o->func_patterns[o->nfunc_patterns++] = tok;
	}
	if (o->nfunc_patterns == 0)
		return usage(err, "-f needs at least one function pattern");
	return PARSE_OK;
}

/* The formats of --stream (output/stream.h), beside the writers'. */
static int is_stream_format(const char *name)
{
	return !strcmp(name, "tsv") || !strcmp(name, "jsonl");
}

static int add_report(struct options *o, const char *name, FILE *err)
{
	if (!collector_find(name))
		return usage(err, "unknown report '%s'", name);
	for (int i = 0; i < o->nreports; i++)
		if (!strcmp(o->reports[i], name))
			return PARSE_OK;
	if (o->nreports == MAX_REPORTS)
		return usage(err, "too many reports");
	o->reports[o->nreports++] = name;
	return PARSE_OK;
}

/* ebprof report FILE [REPORT...]: output options only.  The report names
 * are checked against the file, not this build's collectors. */
static int report_check(struct options *o, char **args, int nargs, FILE *err)
{
	if (o->argv || o->pid || o->duration || o->interval || o->nfunc_patterns || o->count_only ||
	    o->min_block_ns || o->save || o->unwind || o->calibrate || o->children ||
	    o->no_demangle || (o->probe_cost_from && !strcmp(o->probe_cost_from, "--probe-cost")) ||
	    o->frequency != DEFAULT_FREQUENCY || o->max_overhead != DEFAULT_MAX_OVERHEAD)
		return usage(err,
			     "ebprof report renders a saved profile: only output options "
			     "(-o, --format, -s, -n, --metric, --callers, --callees, --assert)");
	if (nargs < 1)
		return usage(err, "ebprof report needs a saved profile: ebprof report FILE");
	o->input = args[0];
	for (int i = 1; i < nargs; i++) {
		if (o->nreports == MAX_REPORTS)
			return usage(err, "too many reports");
		o->reports[o->nreports++] = args[i];
	}
	return PARSE_OK;
}

/* ebprof diff BEFORE AFTER [REPORT...]: two saved profiles, text or
 * folded, -o, -n, --metric. */
static int diff_check(struct options *o, char **args, int nargs, FILE *err)
{
	int r;

	if (nargs < 2)
		return usage(err, "ebprof diff needs two saved profiles: ebprof diff BEFORE AFTER");
	if ((r = report_check(o, args, nargs, err)) != PARSE_OK)
		return r;
	if (o->sort || o->callers || o->callees || o->nasserts)
		return usage(err,
			     "ebprof diff takes -o, --format text|folded|svg, -n and --metric");
	if (strcmp(o->format, "text") && strcmp(o->format, "folded") && strcmp(o->format, "svg"))
		return usage(err, "ebprof diff writes text, folded or svg, not --format %s",
			     o->format);
	o->input2 = o->reports[0];
	memmove(o->reports, o->reports + 1, sizeof(*o->reports) * (size_t)(o->nreports - 1));
	o->nreports--;
	return PARSE_OK;
}

enum parse_result options_parse(int argc, char **argv, struct options *o, FILE *out, FILE *err)
{
	int nopt = argc, first = 0, format_set = 0, c, r;
	long l;
	double d;

	memset(o, 0, sizeof(*o));
	o->frequency = DEFAULT_FREQUENCY;
	o->format = "text";
	o->limit = DEFAULT_LIMIT;
	o->max_overhead = DEFAULT_MAX_OVERHEAD;
	if (getenv("EBPROF_PROBE_COST_NS")) {
		if (parse_double(getenv("EBPROF_PROBE_COST_NS"), 1, 1e9, &o->probe_cost_ns))
			return usage(err, "invalid EBPROF_PROBE_COST_NS '%s': nanoseconds >= 1",
				     getenv("EBPROF_PROBE_COST_NS"));
		o->probe_cost_from = "EBPROF_PROBE_COST_NS";
	}

	/* "ebprof report|diff ...": getopt sees the word as the program name. */
	if (argc > 1 && (!strcmp(argv[1], "report") || !strcmp(argv[1], "diff"))) {
		o->mode = !strcmp(argv[1], "report") ? MODE_REPORT : MODE_DIFF;
		first = 1;
	}
	/* Everything after "--" is the command, untouched by getopt. */
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--")) {
			nopt = i;
			if (i + 1 >= argc)
				return usage(err, "'--' must be followed by a command");
			o->argv = &argv[i + 1];
			break;
		}
	}
	optind = 0; /* glibc: a full restart, whatever the last parse left */
	opterr = 0;
	while ((c = getopt_long(nopt - first, argv + first, ":p:d:i:F:o:s:n:vf:hV", long_opts,
				NULL)) != -1) {
		const char *arg = optarg;

		switch (c) {
		case 'p':
			if (parse_long(arg, 1, INT_MAX, &l))
				return usage(err, "invalid pid '%s'", arg);
			o->pid = (pid_t)l;
			break;
		case 'd':
			if (parse_double(arg, 0.001, 1e9, &d))
				return usage(err, "invalid duration '%s': seconds > 0 expected",
					     arg);
			o->duration = d;
			break;
		case 'i':
			if (parse_double(arg, 0.1, 1e6, &d))
				return usage(err, "invalid interval '%s': seconds >= 0.1 expected",
					     arg);
			o->interval = d;
			break;
		case 'F':
			if (parse_long(arg, 1, MAX_FREQUENCY, &l))
				return usage(err, "invalid frequency '%s': 1..100000 Hz", arg);
			o->frequency = (int)l;
			break;
		case 'o':
		case OPT_SAVE:
			if (!*arg)
				return usage(err, "empty output file name");
			*(c == 'o' ? &o->output : &o->save) = arg;
			break;
		case OPT_FORMAT:
			if (!writer_find(arg) && !is_stream_format(arg)) {
				char names[256] = "";

				for (const struct writer *const *w = writer_list(); *w; w++)
					snprintf(names + strlen(names),
						 sizeof(names) - strlen(names), "%s%s",
						 names[0] ? ", " : "", (*w)->name);
				return usage(err,
					     "unknown format '%s' (%s; with --stream: tsv, jsonl)",
					     arg, names);
			}
			o->format = arg;
			format_set = 1;
			break;
		case 's': o->sort = arg; break;
		case 'n':
			if (parse_long(arg, 0, INT_MAX, &l))
				return usage(err, "invalid limit '%s': a count >= 0", arg);
			o->limit = (int)l;
			o->limit_set = 1;
			break;
		case OPT_METRIC: o->metric = arg; break;
		case 'v': o->verbose++; break;
		case OPT_MIN_BLOCK:
			if (parse_long(arg, 0, LONG_MAX / 1000, &l))
				return usage(err, "invalid --min-block '%s': microseconds", arg);
			o->min_block_ns = (uint64_t)l * 1000;
			break;
		case OPT_UNWIND:
			if (!strcmp(arg, "auto"))
				o->unwind = UNWIND_MODE_AUTO;
			else if (!strcmp(arg, "dwarf"))
				o->unwind = UNWIND_MODE_DWARF;
			else if (!strcmp(arg, "fp"))
				o->unwind = UNWIND_MODE_FP;
			else
				return usage(err, "invalid --unwind '%s': auto, dwarf or fp", arg);
			break;
		case 'f':
			if ((r = add_patterns(o, optarg, err)) != PARSE_OK)
				return r;
			if ((r = add_report(o, "func", err)) != PARSE_OK)
				return r;
			break;
		case OPT_MAX_OVERHEAD:
			if (parse_double(arg, 0, 10000, &d))
				return usage(err, "invalid --max-overhead '%s': percent >= 0", arg);
			o->max_overhead = d;
			break;
		case OPT_COUNT_ONLY: o->count_only = 1; break;
		case OPT_PROBE_COST:
			if (parse_double(arg, 1, 1e9, &d))
				return usage(err, "invalid --probe-cost '%s': nanoseconds >= 1",
					     arg);
			o->probe_cost_ns = d;
			o->probe_cost_from = "--probe-cost";
			break;
		case OPT_ALLOCATOR:
			if (!*arg)
				return usage(err, "empty --allocator library name");
			o->allocator = arg;
			break;
		case OPT_MIN_AGE:
			if (parse_double(arg, 0, 1e9, &d))
				return usage(err, "invalid --min-age '%s': seconds >= 0", arg);
			o->min_age_ns = (uint64_t)(d * 1e9);
			break;
		case OPT_RAW_TIMES: o->raw_times = 1; break;
		case OPT_ASSERT:
			if (o->nasserts == MAX_ASSERTS)
				return usage(err, "too many --assert (at most %d)", MAX_ASSERTS);
			o->asserts[o->nasserts++] = arg;
			break;
		case OPT_CALIBRATE: o->calibrate = 1; break;
		case OPT_CHILDREN: o->children = 1; break;
		case OPT_NO_DEMANGLE: o->no_demangle = 1; break;
		case OPT_CALLERS: o->callers = arg; break;
		case OPT_CALLEES: o->callees = arg; break;
		case 'h': options_usage(out); return PARSE_EXIT_OK;
		case 'V': fprintf(out, "ebprof %s\n", EBPROF_VERSION); return PARSE_EXIT_OK;
		case OPT_FEATURES: features_print(out); return PARSE_EXIT_OK;
		case OPT_STREAM:
			o->stream = 1;
			if ((r = add_report(o, "net", err)) != PARSE_OK)
				return r;
			break;
		case ':': return usage(err, "option '%s' needs a value", argv[first + optind - 1]);
		default: return usage(err, "unknown option '%s'", argv[first + optind - 1]);
		}
	}
	if (!format_set && o->output && strlen(o->output) > 5 &&
	    !strcmp(o->output + strlen(o->output) - 5, ".json"))
		o->format = "json";
	if (o->mode == MODE_REPORT)
		return report_check(o, argv + first + optind, nopt - first - optind, err);
	if (o->mode == MODE_DIFF)
		return diff_check(o, argv + first + optind, nopt - first - optind, err);
	for (int i = optind; i < nopt; i++)
		if ((r = add_report(o, argv[i], err)) != PARSE_OK)
			return r;
	if (o->pid && o->argv)
		return usage(err, "give either -p PID or -- COMMAND, not both");
	if (!o->pid && !o->argv)
		return usage(err, "no target: give -p PID or -- COMMAND");
	if (options_wants_report(o, "func") && o->nfunc_patterns == 0)
		return usage(err, "the func report needs -f PATTERNS");
	if (o->stream) {
		if (o->nreports > 1)
			return usage(err, "--stream writes net events only: name no other report");
		if (strcmp(o->format, "text") && !is_stream_format(o->format))
			return usage(err, "--stream writes tsv or jsonl, not --format %s",
				     o->format);
		if (o->sort || o->metric || o->limit_set || o->nasserts)
			return usage(err, "--stream takes no -s, -n, --metric or --assert (it has "
					  "no tables)");
	} else if (is_stream_format(o->format)) {
		return usage(err, "--format %s is for --stream", o->format);
	}
	if (!o->stream && writer_find(o->format)->one_report) {
		int n = 0;

		for (const struct collector_ops *const *c = collector_list(); *c; c++)
			n += options_wants_report(o, (*c)->name);
		if (n > 1)
			return usage(err, "--format %s renders one report: name one (e.g. cpu)",
				     o->format);
	}
	if (o->interval > 0 && !o->output && strcmp(o->format, "text"))
		return usage(err,
			     "-i prints text tables on stdout: write the %s report to a file "
			     "with -o FILE",
			     o->format);
	if ((o->allocator || o->min_age_ns) && !options_wants_report(o, "mem"))
		return usage(err, "--allocator/--min-age need the mem report");
	/* A launched command writes to the same stdout: a report meant for a
	 * program (dot, json, ...) would be mixed with its output. */
	if (o->argv && !o->output && strcmp(o->format, "text"))
		return usage(err,
			     "--format %s with -- COMMAND needs -o FILE (the command writes "
			     "to stdout too)",
			     o->format);
	if (o->children)
		for (const struct collector_ops *const *c = collector_list(); *c; c++)
			if (strcmp((*c)->name, "cpu") && options_wants_report(o, (*c)->name))
				return usage(err,
					     "--children: only the cpu report follows child "
					     "processes (not %s)",
					     (*c)->name);
	if ((o->callers || o->callees) && !options_wants_report(o, "func"))
		return usage(err, "--callers/--callees need the func report (-f PATTERNS)");
	return PARSE_OK;
}

#define VM_COMPANION "vm"

/* 1 when the output holds one report only (a one-report format, --stream). */
static int single_report(const struct options *o)
{
	const struct writer *w;

	if (o->stream)
		return 1;
	w = o->format ? writer_find(o->format) : NULL;
	return w && w->one_report;
}

static const struct collector_ops *first_default(void)
{
	for (const struct collector_ops *const *c = collector_list(); *c; c++)
		if ((*c)->default_on)
			return *c;
	return NULL;
}

int options_wants_report(const struct options *o, const char *name)
{
	const struct collector_ops *c;

	c = collector_find(name);
	if (o->nreports == 0) {
		if (!c || !c->default_on)
			return 0;
		/* A format of one report, or --stream, takes the first default
		 * report (cpu) alone: the others ride along where there is room.
		 * --children follows descendants in cpu only: the others, which
		 * would see the target alone, stay out. */
		if (c == first_default())
			return 1;
		return !single_report(o) && !o->children;
	}
	for (int i = 0; i < o->nreports; i++)
		if (!strcmp(o->reports[i], name))
			return 1;
	/* The mem report has both layers: the light one (vm) runs with the
	 * exact one unless the format shows a single report. */
	if (c && !strcmp(name, VM_COMPANION) && !single_report(o))
		return options_wants_report(o, "mem");
	return 0;
}
