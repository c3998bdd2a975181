/* /proc/PID/status and /proc/PID/stat parsed as hostile input: a field is
 * taken only when its line is complete and its number fits. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int vm_read_proc(pid_t pid, struct vm_reading *r)
{
	char path[64], *buf = NULL;
	int err;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	err = read_path_all(path, &buf, NULL);
	if (err)
		return err == -ENOENT ? -ESRCH : err;
	err = vm_parse_status(buf, r);
	free(buf);
	if (err == -ENODATA) /* no memory any more: the process is exiting */
		return -ESRCH;
	buf = NULL;
	if (err)
		return err;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	err = read_path_all(path, &buf, NULL);
	if (err)
		return err == -ENOENT ? -ESRCH : err;
	err = vm_parse_stat(buf, r);
	free(buf);
	r->t_ns = now_ns();
	return err;
}
