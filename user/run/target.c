/* The profiled process: attach by pid, or launch a command held before
 * exec until the probes are in place. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "run/target.h"
#include "util/util.h"

static int pidfd_open_(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

static void read_comm(struct target *t)
{
	t->comm[0] = 0;
	task_comm(t->pid, t->pid, t->comm, sizeof(t->comm));
}

/* The thread group of a thread id (a TID given to -p means its process). */
static pid_t tgid_of(pid_t pid)
{
	char path[64], line[128];
	pid_t tgid = pid;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return pid;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Tgid: %d", &tgid) == 1)
			break;
	fclose(f);
	return tgid > 0 ? tgid : pid;
}

int target_attach(struct target *t, pid_t pid)
{
	char path[64];
	ssize_t n;

	memset(t, 0, sizeof(*t));
	pid = tgid_of(pid);
	t->pid = pid;
	t->release_fd = t->exec_fd = -1;
	t->pidfd = pidfd_open_(pid);
	if (t->pidfd < 0)
		return -errno;
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	n = readlink(path, t->exe, sizeof(t->exe) - 1);
	if (n < 0) {
		int err = -errno;

		/* Kernel threads have no exe; zombies neither. */
		close(t->pidfd);
		if (err == -ENOENT) {
			snprintf(path, sizeof(path), "/proc/%d", (int)pid);
			return access(path, F_OK) ? -ESRCH : -ENOEXEC;
		}
		return err;
	}
	t->exe[n] = 0;
	/* Open the executable as the target sees it (containers, deleted). */
	snprintf(t->exe_open, sizeof(t->exe_open), "/proc/%d/exe", (int)pid);
	read_comm(t);
	return 0;
}

/* PATH search as execvp does, so probes can be placed on the file that
 * will run. */
static int resolve_command(const char *cmd, char *out, size_t len)
{
	const char *path = getenv("PATH");
	char buf[4096];
	int err = -ENOENT;

	if (strchr(cmd, '/')) {
		if (access(cmd, X_OK))
			return -errno;
		if (!realpath(cmd, buf))
			return -errno;
		snprintf(out, len, "%s", buf);
		return 0;
	}
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		size_t n = strcspn(path, ":");

		snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, n ? path : ".", cmd);
		if (access(buf, X_OK) == 0 && realpath(buf, out))
			return 0;
		if (errno == EACCES)
			err = -EACCES;
		path += n;
		if (*path == ':')
			path++;
	}
	(void)len;
	return err;
}

int target_launch(struct target *t, char **argv)
{
	int go[2], execfd[2];
	pid_t pid;
	int err;

	memset(t, 0, sizeof(*t));
	t->release_fd = t->exec_fd = t->pidfd = -1;
	t->launched = 1;
	err = resolve_command(argv[0], t->exe, sizeof(t->exe));
	if (err)
		return err;
	memcpy(t->exe_open, t->exe, sizeof(t->exe_open));
	if (pipe2(go, O_CLOEXEC))
		return -errno;
	if (pipe2(execfd, O_CLOEXEC)) {
		err = -errno;
		close(go[0]);
		close(go[1]);
		return err;
	}
	pid = fork();
	if (pid < 0) {
		err = -errno;
		close(go[0]), close(go[1]), close(execfd[0]), close(execfd[1]);
		return err;
	}
	if (pid == 0) {
		char c;
		int e;

		close(go[1]);
		close(execfd[0]);
		/* Wait until the profiler says go; EOF means it gave up. */
		if (read(go[0], &c, 1) != 1)
			_exit(127);
		close(go[0]);
		/* Held at its entry point (run/entry.h) when ebprof dies, by
		 * kill -9 say: the kernel's SIGCONT lets it go on. */
		prctl(PR_SET_PDEATHSIG, SIGCONT);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		execv(t->exe, argv);
		e = errno;
		if (write(execfd[1], &e, sizeof(e)) < 0)
			_exit(127);
		_exit(127);
	}
	close(go[0]);
	close(execfd[1]);
	t->pid = pid;
	t->release_fd = go[1];
	t->exec_fd = execfd[0];
	t->pidfd = pidfd_open_(pid);
	snprintf(t->comm, sizeof(t->comm), "%.31s", strrchr(t->exe, '/') + 1);
	return 0;
}

int target_release(struct target *t)
{
	int e = 0;
	ssize_t n;

	if (t->release_fd < 0)
		return 0;
	if (write(t->release_fd, "g", 1) != 1) {
		e = -errno;
		close(t->release_fd);
		t->release_fd = -1;
		return e;
	}
	close(t->release_fd);
	t->release_fd = -1;
	/* The exec pipe closes on a successful exec, or carries errno. */
	do
		n = read(t->exec_fd, &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	close(t->exec_fd);
	t->exec_fd = -1;
	if (n == sizeof(e))
		return -e;
	read_comm(t);
	return 0;
}

static int status_of(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return 1;
}

/* A child's exit as waitid reports it, shell-style as status_of. */
static void record_exit(struct target *t, const siginfo_t *si)
{
	t->exited = 1;
	t->exit_status = si->si_code == CLD_EXITED ? si->si_status : 128 + si->si_status;
}

int target_wait_stop(struct target *t, int timeout_ms)
{
	uint64_t deadline = now_ns() + (uint64_t)timeout_ms * 1000000ull;

	if (t->exited)
		return 0;
	for (;;) {
		struct pollfd pfd = { .fd = t->pidfd, .events = POLLIN };
		siginfo_t si = { 0 };

		if (waitid(P_PID, (id_t)t->pid, &si, WSTOPPED | WEXITED | WNOHANG) &&
		    errno != EINTR)
			return -errno;
		if (si.si_pid == t->pid) {
			if (si.si_code == CLD_STOPPED)
				return 1;
			if (si.si_code == CLD_EXITED || si.si_code == CLD_KILLED ||
			    si.si_code == CLD_DUMPED) {
				record_exit(t, &si);
				return 0;
			}
		}
		if (now_ns() >= deadline)
			return -ETIMEDOUT;
		/* The stop comes within a few scheduling rounds; an exit wakes
		 * the pidfd. */
		poll(&pfd, t->pidfd >= 0 ? 1 : 0, 1);
	}
}

void target_continue(struct target *t)
{
	if (t->launched && !t->exited)
		kill(t->pid, SIGCONT);
}

int target_poll_exit(struct target *t)
{
	char path[64];

	if (t->exited)
		return 1;
	if (t->launched) {
		int st;
		pid_t r = waitpid(t->pid, &st, WNOHANG);

		if (r == t->pid) {
			t->exited = 1;
			t->exit_status = status_of(st);
		}
		return t->exited;
	}
	/* A pidfd turns readable on exit, zombie or not. */
	if (t->pidfd >= 0) {
		struct pollfd pfd = { .fd = t->pidfd, .events = POLLIN };

		if (poll(&pfd, 1, 0) == 1)
			t->exited = 1;
		return t->exited;
	}
	snprintf(path, sizeof(path), "/proc/%d", (int)t->pid);
	if (kill(t->pid, 0) && errno == ESRCH)
		t->exited = 1;
	else if (access(path, F_OK))
		t->exited = 1;
	return t->exited;
}

void target_abort(struct target *t)
{
	if (!t->launched || t->exited)
		return;
	if (t->release_fd >= 0) {
		/* Never started: closing the pipe makes the child exit. */
		close(t->release_fd);
		t->release_fd = -1;
	}
	target_wait(t);
}

int target_wait(struct target *t)
{
	int st;

	if (!t->launched)
		return 0;
	while (!t->exited) {
		pid_t r = waitpid(t->pid, &st, 0);

		if (r == t->pid) {
			t->exited = 1;
			t->exit_status = status_of(st);
		} else if (r < 0 && errno != EINTR) {
			break;
		}
	}
	return t->exit_status;
}

void target_close(struct target *t)
{
	if (t->pidfd >= 0)
		close(t->pidfd);
	if (t->release_fd >= 0)
		close(t->release_fd);
	if (t->exec_fd >= 0)
		close(t->exec_fd);
	t->pidfd = t->release_fd = -1;
	t->exec_fd = -1;
}
