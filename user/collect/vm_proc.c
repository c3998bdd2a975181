/* /proc/PID/status and /proc/PID/stat parsed as hostile input: a field is
 * taken only when its line is complete and its number fits. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collect/vm_proc.h"
#include "util/util.h"

/* The kB value of the line "key:   N kB" in text, in bytes. */
static int status_field(const char *text, const char *key, uint64_t *out)
{
	size_t klen = strlen(key);
	const char *p = text;
	char *end;

	while (p && *p) {
		if (!strncmp(p, key, klen) && p[klen] == ':') {
			unsigned long long v;

			errno = 0;
			v = strtoull(p + klen + 1, &end, 10);
			if (errno || end == p + klen + 1 || strncmp(end, " kB", 3) ||
			    v > UINT64_MAX / 1024)
				return -EINVAL;
			*out = (uint64_t)v * 1024;
			return 0;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return -ENODATA;
}

int vm_parse_status(const char *text, struct vm_reading *r)
{
	int err = status_field(text, "RssAnon", &r->anon);

	if (!err)
		err = status_field(text, "RssFile", &r->file);
	if (!err)
		err = status_field(text, "RssShmem", &r->shmem);
	if (err)
		return err;
	if (status_field(text, "VmSwap", &r->swap) == -ENODATA)
		r->swap = 0; /* a kernel without swap accounting */
	return 0;
}

int vm_parse_stat(const char *text, struct vm_reading *r)
{
	/* "pid (comm) state ppid ...": comm may hold spaces and ')'; the
	 * fields start after its last ')'. */
	const char *p = strrchr(text, ')');
	unsigned long long v[10];
	char *end;

	if (!p)
		return -EINVAL;
	p++;
	/* field 3 (state) is a letter, fields 4..12 numbers */
	while (*p == ' ')
		p++;
	if (!*p || *p == ' ')
		return -EINVAL;
	p++;
	for (int i = 0; i < 9; i++) {
		errno = 0;
		v[i] = strtoull(p, &end, 10);
		if (errno || end == p || *end != ' ')
			return -EINVAL;
		p = end;
	}
	/* v[0] ppid, 1 pgrp, 2 session, 3 tty, 4 tpgid, 5 flags, 6 minflt,
	 * 7 cminflt, 8 majflt */
	r->minflt = v[6];
	r->majflt = v[8];
	return 0;
}

void vm_proc_init(struct vm_proc *p, pid_t pid)
{
	memset(p, 0, sizeof(*p));
	p->pid = pid;
	p->status_fd = p->stat_fd = -1;
}

/* The whole of one /proc file of the process into p->buf, from an fd
 * opened on first use and read again from offset 0 each time (no path walk
 * per tick; the fd holds the process, so a reused pid is never read).
 * -ESRCH when the process is gone. */
static int read_file(struct vm_proc *p, int *fd, const char *name)
{
	if (*fd < 0) {
		char path[64];

		snprintf(path, sizeof(path), "/proc/%d/%s", (int)p->pid, name);
		*fd = open(path, O_RDONLY | O_CLOEXEC);
		if (*fd < 0)
			return errno == ENOENT ? -ESRCH : -errno;
	}
	for (;;) {
		ssize_t n;

		if (p->cap < 4096 || p->len + 1 >= p->cap) {
			size_t cap = p->cap < 4096 ? 4096 : p->cap * 2;
			char *b = realloc(p->buf, cap);

			if (!b)
				return -ENOMEM;
			p->buf = b;
			p->cap = cap;
		}
		n = pread(*fd, p->buf, p->cap - 1, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == ESRCH ? -ESRCH : -errno;
		p->len = (size_t)n;
		if (p->len + 1 < p->cap) {
			p->buf[p->len] = 0;
			return 0;
		}
		/* filled the buffer: larger, and the whole file again */
	}
}

int vm_proc_read(struct vm_proc *p, struct vm_reading *r)
{
	int err = read_file(p, &p->status_fd, "status");

	if (err)
		return err;
	err = vm_parse_status(p->buf, r);
	if (err == -ENODATA) /* no memory any more: the process is exiting */
		return -ESRCH;
	if (err)
		return err;
	err = read_file(p, &p->stat_fd, "stat");
	if (err)
		return err;
	err = vm_parse_stat(p->buf, r);
	r->t_ns = now_ns();
	return err;
}

void vm_proc_close(struct vm_proc *p)
{
	if (p->status_fd >= 0)
		close(p->status_fd);
	if (p->stat_fd >= 0)
		close(p->stat_fd);
	free(p->buf);
	vm_proc_init(p, p->pid);
}
