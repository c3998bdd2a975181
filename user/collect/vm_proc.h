/* The target's resident set and fault counts from /proc, one reading per
 * tick (the vm collector's timeline). */
#ifndef EBPROF_VM_PROC_H
#define EBPROF_VM_PROC_H

#include <stdint.h>
#include <sys/types.h>

struct vm_reading {
	uint64_t t_ns;			  /* CLOCK_MONOTONIC */
	uint64_t anon, file, shmem, swap; /* bytes: RssAnon, RssFile, RssShmem, VmSwap */
	uint64_t minflt, majflt;	  /* the process's, live and dead threads */
};

/* Parses the text of /proc/PID/status (fields in kB) and /proc/PID/stat
 * (minflt, majflt: fields 10 and 12).  0, -ENODATA when a field is
 * missing (status of a process that has released its memory), -EINVAL
 * when one is malformed. */
int vm_parse_status(const char *text, struct vm_reading *r);
int vm_parse_stat(const char *text, struct vm_reading *r);
/* The two files of one process, opened on the first reading and kept
 * open: each reading is two preads from offset 0 into one reused buffer
 * (a third of the cost of opening, reading and closing both). */
struct vm_proc {
	pid_t pid;
	int status_fd, stat_fd; /* -1 until the first reading */
	char *buf;
	size_t cap, len;
};

void vm_proc_init(struct vm_proc *p, pid_t pid);
/* Both files; 0 or negative errno (-ESRCH: the process is gone). */
int vm_proc_read(struct vm_proc *p, struct vm_reading *r);
void vm_proc_close(struct vm_proc *p);

#endif
