/* One profiling run (see session.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run/collector.h"
#include "run/entry.h"
#include "run/session.h"
#include "run/target.h"
#include "unwind/share.h"
#include "util/util.h"

#define TICK_MS 100
/* A launched command not at its entry point by then (a library's
 * constructor still running; the time it stood held not counted) is let
 * be: not held there. */
#define ENTRY_TIMEOUT_MS 5000
/* From a hold's hit to the stop it sends. */
#define ENTRY_STOP_MS 2000

struct running {
	const struct collector_ops *ops;
	void *state;
	int attached;
};

struct session {
	const struct options *o;
	struct target t;
	struct running run[MAX_REPORTS + 2];
	int nrun;
	char cmdline[1024];	 /* the profiled command line, read once */
	struct entry_hold *hold; /* launched: until it has stopped at its entry */
	uint64_t released_ns;	 /* launched: when it exec'd */
	uint64_t held_ns;	 /* how long it stood held at its start (0: not held) */
	uint64_t loader_ns;	 /* of which in the dynamic loader */
	int holds;		 /* the stops */
	int at_entry;		 /* one of them at its entry point */
	char hold_note[320];	 /* why it was not held at its entry, for every report */
};

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

static const char *attach_errstr(int err)
{
	switch (err) {
	case -ESRCH: return "no such process";
	case -ENOEXEC: return "no executable (a kernel thread, or a process that is exiting)";
	case -EPERM:
	case -EACCES:
		if (geteuid() == 0)
			return "permission denied (the kernel will not let ebprof inspect this "
			       "process: it holds capabilities ebprof lacks, or a security "
			       "module forbids it)";
		return "permission denied (run as root, or with CAP_BPF, CAP_PERFMON and "
		       "CAP_SYS_PTRACE)";
	default: return strerror(-err);
	}
}

static int open_target(struct session *s)
{
	const struct options *o = s->o;
	int err;

	if (o->argv) {
		err = target_launch(&s->t, o->argv);
		if (err) {
			ebprof_err("cannot run '%s': %s", o->argv[0], strerror(-err));
			return err;
		}
		forward_pid = s->t.pid;
		return 0;
	}
	err = target_attach(&s->t, o->pid);
	if (err)
		ebprof_err("cannot attach to pid %d: %s", (int)o->pid, attach_errstr(err));
	return err;
}

/* The profiled command line: the launched argv, else /proc/PID/cmdline
 * (NUL-separated; a process may have rewritten it, or have none); words
 * joined by spaces. */
static void command_line(const struct session *s, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	if (s->o->argv) {
		for (char **a = s->o->argv; *a && used + 1 < len; a++)
			used += (size_t)snprintf(buf + used, len - used, "%s%s",
						 a == s->o->argv ? "" : " ", *a);
		return;
	}
	char path[64];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)s->t.pid);
	f = fopen(path, "r");
	n = f ? fread(buf, 1, len - 1, f) : 0;
	if (f)
		fclose(f);
	while (n > 0 && buf[n - 1] == '\0')
		n--;
	for (size_t i = 0; i < n; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
	buf[n] = '\0';
	if (!n)
		snprintf(buf, len, "%s", s->t.comm);
}

/* A launched command is held at its start when some collector walks or
 * symbolizes its stacks (it uses the run's unwind share). */
static void arm_hold(struct session *s)
{
	const char *why = "", *loader_why;
	int err;

	if (!unwind_share__used(s->t.share))
		return;
	err = entry_hold__new(s->t.pid, s->t.exe, &s->hold, &why, &loader_why);
	if (err) {
		snprintf(s->hold_note, sizeof(s->hold_note),
			 "the command was not held at its entry point (%s: %s): the libraries "
			 "it maps at start were read at the collectors' periodic refreshes",
			 why, strerror(-err));
		ebprof_verbose(1, "%s", s->hold_note);
	} else if (loader_why) {
		ebprof_verbose(1,
			       "not holding pid %d in its dynamic loader: %s (the loader's "
			       "own work before the entry is walked without its tables)",
			       (int)s->t.pid, loader_why);
	}
}

/* The mappings of the command where it stands, for every collector. */
static void refresh_all(struct session *s)
{
	if (unwind_share__update(s->t.share))
		ebprof_verbose(1, "refreshing the mappings of the held command failed");
}

/* The hold is over: its probes removed, no stop to come. */
static void end_hold(struct session *s)
{
	entry_hold__free(s->hold);
	s->hold = NULL;
}

/* The command hit a hold's probe (st): wait for its stop, every collector
 * refreshes, it goes on.  The stop at the entry is the last. */
static void on_stop(struct session *s, const struct entry_stop *st)
{
	const char *where = st->entry ? "at its entry point" : "in its dynamic loader";
	int ws;

	if (st->signal_err) {
		/* Not stopped: the refresh races with it, as it did without. */
		refresh_all(s);
		snprintf(s->hold_note, sizeof(s->hold_note),
			 "the command could not be stopped %s (%s): its mappings were read as it "
			 "ran",
			 where, strerror(-st->signal_err));
		end_hold(s);
		return;
	}
	ws = target_wait_stop(&s->t, ENTRY_STOP_MS);
	if (ws == 0) {
		snprintf(s->hold_note, sizeof(s->hold_note),
			 "the command exited %s, before ebprof read its mappings", where);
		end_hold(s);
		return;
	}
	refresh_all(s);
	if (ws < 0) {
		/* Continued by someone else before the stop took effect. */
		snprintf(
			s->hold_note, sizeof(s->hold_note),
			"the command's stop %s was not seen (%s): its mappings were read as it ran",
			where, strerror(-ws));
		end_hold(s);
		return;
	}
	target_continue(&s->t);
	uint64_t held = now_ns() - st->hit_ns;

	s->held_ns += held;
	s->loader_ns += st->entry ? 0 : held;
	s->holds++;
	ebprof_verbose(1, "held pid %d %s for %.1f ms", (int)s->t.pid, where, (double)held / 1e6);
	if (st->entry) {
		s->at_entry = 1;
		end_hold(s);
	}
}

/* The hold, every round of the loop and once after it (end): its stops,
 * or the command gone before its entry, the timeout, the run over. */
static void check_hold(struct session *s, int end)
{
	struct entry_stop st;
	const char *why = NULL;

	while (s->hold && entry_hold__next(s->hold, &st))
		on_stop(s, &st);
	if (!s->hold)
		return;
	if (target_poll_exit(&s->t))
		why = "the command exited before reaching its entry point (in the dynamic loader "
		      "or a library's constructor): it was not held there";
	else if (now_ns() - s->released_ns >= s->held_ns + ENTRY_TIMEOUT_MS * 1000000ull)
		why = "the command had not reached its entry point 5 s after exec (the dynamic "
		      "loader or a library's constructor still running): it was not held there, "
		      "its libraries were read at the collectors' periodic refreshes";
	else if (end)
		why = "the run ended before the command reached its entry point";
	if (!why)
		return;
	/* A hit up to the probes' removal still stops it. */
	entry_hold__detach(s->hold);
	if (entry_hold__next(s->hold, &st)) {
		on_stop(s, &st);
		if (!s->hold)
			return;
		if (!st.entry)
			why = "the command's last stop was in its dynamic loader: it was not held "
			      "at its entry point";
	}
	snprintf(s->hold_note, sizeof(s->hold_note), "%s", why);
	ebprof_verbose(1, "%s", why);
	end_hold(s);
}

/* Attaches collector i once the target's tables are ready (built while
 * the objects loaded; a collector that walks stacks never runs without
 * them). */
static int attach_run(struct session *s, int i)
{
	int err = unwind_share__ready(s->t.share);

	if (!err)
		err = s->run[i].ops->attach(s->run[i].state);
	s->run[i].attached = !err;
	return err;
}

int session_open(const struct options *o, struct session **out)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct session *s = calloc(1, sizeof(*s));
	int err;

	*out = s;
	if (!s)
		return -ENOMEM;
	s->o = o;
	s->t.pidfd = s->t.release_fd = s->t.exec_fd = -1;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	err = open_target(s);
	if (!err)
		err = unwind_share__new((enum unwind_mode)o->unwind, s->t.pid, s->t.launched,
					!o->no_demangle, &s->t.share);
	if (err)
		return err;
	command_line(s, s->cmdline, sizeof(s->cmdline)); /* before a -p target can exit */
	for (const struct collector_ops *const *c = collector_list(); *c; c++) {
		if (!options_wants_report(o, (*c)->name))
			continue;
		s->run[s->nrun].ops = *c;
		s->run[s->nrun].state = NULL;
		err = (*c)->open(&s->run[s->nrun].state, o, &s->t);
		if (err)
			return err; /* a collector whose open() failed cleaned up itself */
		s->nrun++;
		/* A running target: one whose tick can wait collects while the
		 * later objects load (cpu samples during vm's verifier). */
		if (!s->t.launched && (*c)->attach_at_load && (err = attach_run(s, s->nrun - 1)))
			return err;
	}
	for (int i = 0; i < s->nrun; i++)
		if (!s->run[i].attached && (err = attach_run(s, i)))
			return err;
	if (s->t.launched) {
		arm_hold(s);
		/* Before the release: the first stop may come before
		 * target_release returns. */
		s->released_ns = now_ns();
		err = target_release(&s->t);
		if (err) {
			ebprof_err("cannot run '%s': %s", o->argv[0], strerror(-err));
			return err;
		}
	}
	ebprof_verbose(1, "profiling pid %d (%s) with %d collector(s)", (int)s->t.pid, s->t.comm,
		       s->nrun);
	return 0;
}

/* The next event of the loop at or after now: -d expiry or the next -i
 * interval, 0 for none. */
static uint64_t earliest(uint64_t a, uint64_t b)
{
	return !a ? b : !b ? a : a < b ? a : b;
}

void session_collect(struct session *s, session_interval_fn on_interval, void *arg)
{
	uint64_t start = now_ns();
	uint64_t deadline = s->o->duration > 0 ? start + (uint64_t)(s->o->duration * 1e9) : 0;
	uint64_t every = on_interval && s->o->interval > 0 ? (uint64_t)(s->o->interval * 1e9) : 0;
	uint64_t next = every ? start + every : 0;
	int n = 0;

	/* The first tick comes at once: a command just released has exec'd,
	 * and a short one may be gone before the next. */
	for (;;) {
		struct pollfd pfd[2];
		int timeout = TICK_MS;
		nfds_t npfd = 0;

		int done = 0;

		check_hold(s, 0);
		/* One reading of the target's mappings for every collector. */
		unwind_share__update(s->t.share);
		for (int i = 0; i < s->nrun; i++)
			if (s->run[i].ops->tick && s->run[i].ops->tick(s->run[i].state) > 0)
				done = 1; /* its output has no reader left */
		if (done || stop_requested || target_poll_exit(&s->t))
			break;
		uint64_t now = now_ns(), wake;

		if (deadline && now >= deadline)
			break;
		if (next && now >= next) {
			on_interval(s, ++n, (double)(now - start) / 1e9, arg);
			while (next <= now_ns())
				next += every; /* a slow snapshot skips intervals, not time */
			now = now_ns();
		}
		wake = earliest(deadline, next);
		if (wake && wake > now && (wake - now) / 1000000 < (uint64_t)timeout)
			timeout = (int)((wake - now) / 1000000) + 1;
		if (s->t.pidfd >= 0)
			pfd[npfd++] = (struct pollfd){ .fd = s->t.pidfd, .events = POLLIN };
		/* Woken at once by the hit at the entry. */
		if (s->hold)
			pfd[npfd++] = (struct pollfd){ .fd = entry_hold__fd(s->hold),
						       .events = POLLIN };
		poll(pfd, npfd, timeout);
	}
	check_hold(s, 1);
	if (stop_requested)
		ebprof_verbose(1, "stopping on signal %d", (int)stop_requested);
}

size_t session_nreports(const struct session *s)
{
	return (size_t)s->nrun;
}

/* A launched command's holds at its start, in every report. */
static int hold_facts(const struct session *s, struct profile *p)
{
	int err = 0;

	if (s->held_ns) {
		char entry[64] = "";

		if (s->at_entry)
			snprintf(entry, sizeof(entry), ", %.1f ms at its entry point",
				 (double)(s->held_ns - s->loader_ns) / 1e6);
		err = profile_info_int(p, "entry_hold_ns", "held at its start", "ns",
				       (int64_t)s->held_ns);
		if (!err)
			err = profile_note(
				p,
				"the command was held stopped at its start (%d stop(s): "
				"%.1f ms in the dynamic loader, before and after it "
				"mapped the libraries%s) while ebprof read the mappings: "
				"its main thread's wall and off-CPU time include it, in "
				"the stop signal's kernel frames",
				s->holds, (double)s->loader_ns / 1e6, entry);
	}
	if (!err && !s->at_entry && s->hold_note[0])
		err = profile_note(p, "%s", s->hold_note);
	return err;
}

int session_snapshot(struct session *s, struct profile **profiles, size_t *n)
{
	int err = 0;

	*n = 0;
	unwind_share__update(s->t.share); /* the code mapped since the last tick */
	for (int i = 0; i < s->nrun && !err; i++) {
		err = s->run[i].ops->report(s->run[i].state, &profiles[*n]);
		if (err)
			break;
		err = profile_info_str(profiles[*n], "command", "command", s->cmdline);
		if (!err)
			err = hold_facts(s, profiles[*n]);
		(*n)++;
	}
	return err;
}

int session_report(struct session *s, struct profile **profiles, size_t *n)
{
	for (int i = 0; i < s->nrun; i++)
		if (s->run[i].ops->stop)
			s->run[i].ops->stop(s->run[i].state);
	return session_snapshot(s, profiles, n);
}

int session_close(struct session *s, int abort)
{
	int status = 0;

	if (!s)
		return 0;
	/* A command held at its entry, or about to be, goes on first. */
	check_hold(s, 1);
	for (int i = 0; i < s->nrun; i++)
		s->run[i].ops->close(s->run[i].state);
	unwind_share__free(s->t.share);
	if (abort)
		target_abort(&s->t);
	else
		status = target_wait(&s->t); /* a launched command's status; 0 for -p */
	target_close(&s->t);
	free(s);
	return status;
}
