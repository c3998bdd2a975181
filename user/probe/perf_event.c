#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/perf_event.h>
#include <sys/syscall.h>

#include <bpf/libbpf.h>

#include "probe/perf_event.h"
#include "util/util.h"

static int has_tid(const struct perf_events *pe, pid_t tid)
{
	for (size_t i = 0; i < pe->n; i++)
		if (pe->ev[i].tid == tid)
			return 1;
	return 0;
}

/* 1 when an event was opened on tid, 0 when tid is gone, or -errno. */
static int open_thread(struct perf_events *pe, int freq, struct bpf_program *prog, pid_t tid)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_SOFTWARE,
		.config = PERF_COUNT_SW_CPU_CLOCK,
		.size = sizeof(attr),
		.freq = 1, /* the kernel turns it into a fixed period of 1/freq s */
		.sample_freq = (unsigned long long)freq,
		.inherit = 1,
	};
	struct bpf_link *link;
	int fd;

	if (array_grow((void **)&pe->ev, &pe->cap, pe->n + 1, sizeof(*pe->ev)))
		return -ENOMEM;
	fd = (int)syscall(__NR_perf_event_open, &attr, tid, -1, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd < 0)
		return errno == ESRCH ? 0 : -errno;
	/* the link owns fd from here on */
	link = bpf_program__attach_perf_event(prog, fd);
	if (!link) {
		int err = -errno;

		close(fd);
		return err;
	}
	pe->ev[pe->n].link = link;
	pe->ev[pe->n++].tid = tid;
	return 1;
}

/* One pass over /proc/PID/task: the number of events opened, or -errno. */
static int open_pass(struct perf_events *pe, int freq, struct bpf_program *prog, pid_t pid)
{
	char path[64];
	struct dirent *de;
	DIR *d;
	int added = 0, err = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return -errno;
	while (!err && (de = readdir(d))) {
		pid_t tid = (pid_t)strtol(de->d_name, NULL, 10);

		if (tid <= 0 || has_tid(pe, tid))
			continue;
		err = open_thread(pe, freq, prog, tid);
		if (err > 0)
			added++, err = 0;
	}
	closedir(d);
	return err ? err : added;
}

int perf_events_add_process(struct perf_events *pe, int freq, struct bpf_program *prog, pid_t pid)
{
	int added;

	do
		added = open_pass(pe, freq, prog, pid);
	while (added > 0);
	return added < 0 ? added : 0;
}

void perf_events_close(struct perf_events *pe)
{
	for (size_t i = 0; i < pe->n; i++)
		bpf_link__destroy(pe->ev[i].link); /* also closes the fd */
	free(pe->ev);
	memset(pe, 0, sizeof(*pe));
}
