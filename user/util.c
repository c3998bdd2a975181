#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
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

void stackbuf_push(struct stackbuf *s, int64_t frame)
{
	if (frame < 0) {
		s->err = (int)frame;
		return;
	}
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		uint32_t *f = realloc(s->frames, cap * sizeof(*f));

		if (!f) {
			s->err = -ENOMEM;
			return;
		}
		s->frames = f;
		s->cap = cap;
	}
	s->frames[s->n++] = (uint32_t)frame;
}
