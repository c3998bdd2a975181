/* ebprof: the command line, the collection loop and the output. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <bpf/libbpf.h>

#include "run/collector.h"
#include "model/tablesort.h"
#include "run/features.h"
#include "output/writer.h"
#include "cli/options.h"
#include "run/target.h"
#include "util/util.h"

#define TICK_MS 100

static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t forward_pid;

static void on_signal(int sig)
{
	if (stop_requested && sig == SIGINT)
		_exit(130); /* second Ctrl-C: quit now; the kernel frees our probes */
	stop_requested = sig;
	if (sig == SIGTERM && forward_pid > 0)
		kill((pid_t)forward_pid, SIGTERM);
}

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
	struct rlimit rl = {RLIM_INFINITY, RLIM_INFINITY};

	if (ebprof_verbosity)
		features_print(stderr);
	if (features_require("every report", need, ARRAY_SIZE(need)))
		return -ENOTSUP;
	if (geteuid() != 0)
		ebprof_verbose(1, "not running as root: BPF needs CAP_BPF and CAP_PERFMON");
	setrlimit(RLIMIT_MEMLOCK, &rl); /* older kernels charge BPF maps here */
	return 0;
}

static const char *errstr(int err)
{
	switch (err) {
	case -ESRCH:
		return "no such process";
	case -ENOEXEC:
		return "no executable (a kernel thread, or a process that is exiting)";
	case -EPERM:
	case -EACCES:
		if (geteuid() == 0)
			return "permission denied (the kernel will not let ebprof inspect this "
			       "process: it holds capabilities ebprof lacks, or a security "
			       "module forbids it)";
		return "permission denied (run as root, or with CAP_BPF, CAP_PERFMON and "
		       "CAP_SYS_PTRACE)";
	default:
		return strerror(-err);
	}
}

/* Writes the report to stdout, or to FILE via a temporary file renamed
 * into place once complete.  Tables are put in -s order here, once, for
 * every format: writers render profiles as they are. */
static int write_output(const struct options *o, struct profile **profiles, size_t n)
{
	const struct writer *w = writer_find(o->format);
	struct write_opts wo = {
		.limit = o->limit_set || !strcmp(o->format, "text") ? o->limit : 0,
		.metric = o->metric,
		.callers = o->callers,
		.callees = o->callees,
	};
	char tmp[PATH_MAX];
	FILE *f = stdout;
	int err, fd = -1;

	err = profile_sort_tables(profiles, n, o->sort, stderr);
	if (err)
		return err;
	if (o->output) {
		if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", o->output) >= (int)sizeof(tmp))
			return -ENAMETOOLONG;
		fd = mkstemp(tmp);
		if (fd < 0 || !(f = fdopen(fd, "w"))) {
			err = -errno;
			ebprof_err("cannot write %s: %s", o->output, strerror(-err));
			if (fd >= 0) {
				close(fd);
				unlink(tmp);
			}
			return err;
		}
		fchmod(fd, 0644);
	}
	/* C does not convert T ** to const T *const * by itself. */
	err = w->write(f, (const struct profile *const *)profiles, n, &wo, stderr);
	if (fflush(f) && !err)
		err = -errno;
	if (o->output) {
		if (fclose(f) && !err)
			err = -errno;
		if (!err && rename(tmp, o->output))
			err = -errno;
		if (err) {
			unlink(tmp);
			if (err != -EINVAL)
				ebprof_err("cannot write %s: %s", o->output, strerror(-err));
		}
	}
	return err;
}

struct running {
	const struct collector_ops *ops;
	void *state;
};

/* Collects until Ctrl-C, SIGTERM, -d expiry or the target's exit. */
static void collect(const struct options *o, struct target *t, struct running *run, int nrun)
{
	uint64_t deadline = o->duration > 0 ? now_ns() + (uint64_t)(o->duration * 1e9) : 0;

	/* The first tick comes at once: a command just released has exec'd,
	 * and a short one may be gone before the next. */
	for (;;) {
		struct pollfd pfd = {.fd = t->pidfd, .events = POLLIN};
		int timeout = TICK_MS;

		for (int i = 0; i < nrun; i++)
			if (run[i].ops->tick)
				run[i].ops->tick(run[i].state);
		if (stop_requested || target_poll_exit(t))
			break;
		if (deadline) {
			uint64_t now = now_ns();

			if (now >= deadline)
				break;
			if ((deadline - now) / 1000000 < (uint64_t)timeout)
				timeout = (int)((deadline - now) / 1000000) + 1;
		}
		poll(&pfd, t->pidfd >= 0 ? 1 : 0, timeout);
	}
	if (stop_requested)
		ebprof_verbose(1, "stopping on signal %d", (int)stop_requested);
}

int main(int argc, char **argv)
{
	struct options o;
	struct target t = {.pidfd = -1, .release_fd = -1, .exec_fd = -1};
	struct running run[MAX_REPORTS + 2];
	struct profile *profiles[MAX_REPORTS + 2];
	const struct collector_ops *const *c;
	struct sigaction sa = {.sa_handler = on_signal};
	int nrun = 0, nprof = 0, err, status = 0;

	ebprof_start_ns = now_ns();
	switch (options_parse(argc, argv, &o, stdout, stderr)) {
	case PARSE_OK:
		break;
	case PARSE_EXIT_OK:
		return 0;
	default:
		return 2;
	}
	ebprof_verbosity = o.verbose;
	libbpf_set_print(libbpf_log);
	if (o.sort && collector_check_sort(&o, o.sort))
		return 2;
	if (o.metric && collector_check_metric(&o, o.metric))
		return 2;
	if (preflight())
		return 1;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	if (o.argv) {
		err = target_launch(&t, o.argv);
		if (err) {
			ebprof_err("cannot run '%s': %s", o.argv[0], strerror(-err));
			return 1;
		}
		forward_pid = t.pid;
	} else {
		err = target_attach(&t, o.pid);
		if (err) {
			ebprof_err("cannot attach to pid %d: %s", (int)o.pid, errstr(err));
			return 1;
		}
	}

	for (c = collector_list(); *c; c++) {
		if (!options_wants_report(&o, (*c)->name))
			continue;
		run[nrun].ops = *c;
		run[nrun].state = NULL;
		err = (*c)->open(&run[nrun].state, &o, &t);
		if (err)
			goto fail;
		nrun++;
	}
	for (int i = 0; i < nrun; i++) {
		err = run[i].ops->attach(run[i].state);
		if (err)
			goto fail;
	}
	if (t.launched) {
		err = target_release(&t);
		if (err) {
			ebprof_err("cannot run '%s': %s", o.argv[0], strerror(-err));
			goto fail;
		}
	}
	ebprof_verbose(1, "profiling pid %d (%s) with %d collector(s)", (int)t.pid, t.comm, nrun);

	collect(&o, &t, run, nrun);

	for (int i = 0; i < nrun; i++)
		if (run[i].ops->stop)
			run[i].ops->stop(run[i].state);
	for (int i = 0; i < nrun; i++) {
		err = run[i].ops->report(run[i].state, &profiles[nprof]);
		if (err)
			goto fail;
		nprof++;
	}
	err = write_output(&o, profiles, (size_t)nprof);
	for (int i = 0; i < nprof; i++)
		profile_free(profiles[i]);
	for (int i = 0; i < nrun; i++)
		run[i].ops->close(run[i].state);
	status = target_wait(&t); /* a launched command's status; 0 for -p */
	if (err)
		status = err == -EINVAL ? 2 : 1;
	target_close(&t);
	return status;

fail:
	for (int i = 0; i < nprof; i++)
		profile_free(profiles[i]);
	/* the collectors that opened; one whose open() failed cleaned up itself */
	for (int i = 0; i < nrun; i++)
		run[i].ops->close(run[i].state);
	target_abort(&t);
	target_close(&t);
	return ebprof_usage_error() || err == -EINVAL ? 2 : 1;
}
