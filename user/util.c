#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

int ebprof_verbosity;
uint64_t ebprof_start_ns;
static int usage_error;

static void vline(const char *fmt, va_list ap)
{
	char buf[1024];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	fprintf(stderr, "ebprof: %s\n", buf);
}

void ebprof_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vline(fmt, ap);
	va_end(ap);
}

void ebprof_usage(const char *fmt, ...)
{
	va_list ap;

	usage_error = 1;
	va_start(ap, fmt);
	vline(fmt, ap);
	va_end(ap);
}

int ebprof_usage_error(void)
{
	return usage_error;
}

void ebprof_verbose(int level, const char *fmt, ...)
{
	va_list ap;

	if (ebprof_verbosity < level)
		return;
	va_start(ap, fmt);
	vline(fmt, ap);
	va_end(ap);
}

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int task_alive(pid_t pid, pid_t tid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/task/%d", (int)pid, (int)tid);
	return access(path, F_OK) == 0;
}

int array_grow(void **arr, size_t *cap, size_t need, size_t elem)
{
	size_t ncap = *cap ? *cap : 16;
	void *n;

	if (need <= *cap)
		return 0;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2 / elem)
			return -ENOMEM;
		ncap *= 2;
	}
	n = realloc(*arr, ncap * elem);
	if (!n)
		return -ENOMEM;
	memset((char *)n + *cap * elem, 0, (ncap - *cap) * elem);
	*arr = n;
	*cap = ncap;
	return 0;
}

ssize_t sorted_find_le(const void *base, size_t n, size_t size, size_t key_off, uint64_t key)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		uint64_t k;

		memcpy(&k, (const char *)base + mid * size + key_off, sizeof(k));
		if (k <= key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (ssize_t)lo - 1;
}

int read_fd_all(int fd, char **buf, size_t *len)
{
	size_t cap = 0, n = 0;
	char *b = NULL;

	for (;;) {
		ssize_t r;

		if (array_grow((void **)&b, &cap, n + 64 * 1024, 1)) {
			free(b);
			return -ENOMEM;
		}
		r = read(fd, b + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;

			free(b);
			return -e;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	b[n] = 0;
	*buf = b;
	if (len)
		*len = n;
	return 0;
}

int read_path_all(const char *path, char **buf, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), err;

	if (fd < 0)
		return -errno;
	err = read_fd_all(fd, buf, len);
	close(fd);
	return err;
}

void task_comm(pid_t pid, pid_t tid, char *comm, size_t len)
{
	char path[96];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/comm", (int)pid, (int)tid);
	f = fopen(path, "r");
	if (!f)
		return;
	if (fgets(comm, (int)len, f))
		comm[strcspn(comm, "\n")] = 0;
	fclose(f);
}

void stackbuf_push(struct stackbuf *s, int64_t frame)
{
	if (frame < 0) {
		s->err = (int)frame;
		return;
	}
	if (array_grow((void **)&s->frames, &s->cap, s->n + 1, sizeof(*s->frames))) {
		s->err = -ENOMEM;
		return;
	}
	s->frames[s->n++] = (uint32_t)frame;
}
