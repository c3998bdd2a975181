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
/* Both files of pid; 0 or negative errno (-ESRCH: the process is gone). */
int vm_read_proc(pid_t pid, struct vm_reading *r);

#endif
