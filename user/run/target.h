/* The profiled process: attach to a running PID, or launch a command held
 * before exec until probes are in place (and then at its entry point,
 * run/entry.h, until the collectors have read its mappings). */
#ifndef EBPROF_TARGET_H
#define EBPROF_TARGET_H

#include <sys/types.h>

struct unwind_share;

struct target {
	pid_t pid;
	int pidfd; /* becomes readable when the process exits */
	int launched;
	int release_fd; /* launch: write end of the pipe the child waits on */
	int exec_fd;	/* launch: closes on exec, or carries exec's errno */
	char comm[32];
	char exe[4096];	     /* executable path as the target names it */
	char exe_open[4096]; /* path ebprof opens and probes: /proc/PID/exe for
			      * -p (containers, deleted binaries), else exe */
	int exited;
	int exit_status; /* launch: shell-style status (128+sig) */
	/* Its unwind tables and symbolizer, shared by the collectors
	 * (user/unwind/share.h); the session's. */
	struct unwind_share *share;
};

/* 0 or negative errno (-ESRCH no such process, -EPERM not permitted). */
int target_attach(struct target *t, pid_t pid);
/* Forks; the child waits for target_release() then execs argv[0] (PATH
 * searched).  -ENOENT/-EACCES when the command cannot be run. */
int target_launch(struct target *t, char **argv);
/* Lets a launched child exec; returns once the exec happened, or the
 * exec's negative errno. */
int target_release(struct target *t);
/* Launch: waits up to timeout_ms for the released child to stop (held at
 * its entry).  1 stopped, 0 exited meanwhile (status recorded),
 * -ETIMEDOUT. */
int target_wait_stop(struct target *t, int timeout_ms);
/* Launch: lets a stopped child go on (SIGCONT). */
void target_continue(struct target *t);
/* Non-blocking check: 1 when the process has exited (reaps a launched
 * child and records its status), 0 otherwise. */
int target_poll_exit(struct target *t);
/* Launch: kills the child if it never started (probes failed). */
void target_abort(struct target *t);
/* Launch: waits for the child and returns its status. */
int target_wait(struct target *t);
void target_close(struct target *t);

#endif
