#define _GNU_SOURCE /* vasprintf */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/util.h"

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

int proc_children(pid_t pid, int (*cb)(pid_t child, void *ctx), void *ctx)
{
	char path[64];
	struct dirent *de;
	DIR *d;
	int err = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return 0;
	while (!err && (de = readdir(d))) {
		char cpath[96], *buf, *p, *end;
		long tid = strtol(de->d_name, NULL, 10);

		if (tid <= 0)
			continue;
		snprintf(cpath, sizeof(cpath), "/proc/%d/task/%ld/children", (int)pid, tid);
		if (read_path_all(cpath, &buf, NULL))
			continue;
		for (p = buf; !err; p = end) {
			long c = strtol(p, &end, 10);

			if (end == p || c <= 0)
				break;
			err = cb((pid_t)c, ctx);
		}
		free(buf);
	}
	closedir(d);
	return err;
}

char task_state(pid_t pid, pid_t tid)
{
	char path[96], *buf, *end, st = 0;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid, (int)tid);
	if (read_path_all(path, &buf, NULL))
		return 0;
	/* "tid (comm) S ...": comm may hold spaces and parentheses */
	end = strrchr(buf, ')');
	if (end && end[1] == ' ')
		st = end[2];
	free(buf);
	return st;
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

struct slice {
	void (*fn)(void *first, size_t count);
	void *first;
	size_t count;
};

static void *slice_main(void *arg)
{
	struct slice *sl = arg;

	sl->fn(sl->first, sl->count);
	return NULL;
}

void run_in_slices(void *base, size_t n, size_t elem, size_t nthreads,
		   void (*fn)(void *first, size_t count))
{
	struct slice sl[UTIL_MAX_SLICES];
	pthread_t th[UTIL_MAX_SLICES];
	int started[UTIL_MAX_SLICES] = { 0 };
	size_t at = 0;

	if (nthreads > UTIL_MAX_SLICES)
		nthreads = UTIL_MAX_SLICES;
	if (nthreads > n)
		nthreads = n;
	if (nthreads <= 1) {
		if (n)
			fn(base, n);
		return;
	}
	for (size_t t = 0; t < nthreads; t++) {
		sl[t].fn = fn;
		sl[t].first = (char *)base + at * elem;
		sl[t].count = n / nthreads + (t < n % nthreads);
		at += sl[t].count;
		started[t] = pthread_create(&th[t], NULL, slice_main, &sl[t]) == 0;
		if (!started[t])
			fn(sl[t].first, sl[t].count);
	}
	for (size_t t = 0; t < nthreads; t++)
		if (started[t])
			pthread_join(th[t], NULL);
}

struct par {
	void (*fn)(size_t i, void *arg);
	void *arg;
	size_t n, next;
};

static void *par_main(void *arg)
{
	struct par *p = arg;
	size_t i;

	while ((i = __atomic_fetch_add(&p->next, 1, __ATOMIC_RELAXED)) < p->n)
		p->fn(i, p->arg);
	return NULL;
}

void run_in_parallel(size_t n, size_t nthreads, void (*fn)(size_t i, void *arg), void *arg)
{
	struct par p = { fn, arg, n, 0 };
	pthread_t th[UTIL_MAX_SLICES];
	size_t started = 0;

	if (nthreads > UTIL_MAX_SLICES)
		nthreads = UTIL_MAX_SLICES;
	if (nthreads > n)
		nthreads = n;
	/* The caller is one of the nthreads. */
	for (size_t t = 1; t < nthreads; t++)
		if (!pthread_create(&th[started], NULL, par_main, &p))
			started++;
	par_main(&p);
	for (size_t t = 0; t < started; t++)
		pthread_join(th[t], NULL);
}

int strlist_vaddf(struct strlist *l, const char *fmt, va_list ap)
{
	char **v = realloc(l->v, (l->n + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	l->v = v;
	if (vasprintf(&v[l->n], fmt, ap) < 0)
		return -ENOMEM;
	l->n++;
	return 0;
}

int strlist_addf(struct strlist *l, const char *fmt, ...)
{
	va_list ap;
	int err;

	va_start(ap, fmt);
	err = strlist_vaddf(l, fmt, ap);
	va_end(ap);
	return err;
}

/* Room for need more bytes and the NUL. */
static int strbuf_room(struct strbuf *b, size_t need)
{
	if (b->len + need + 1 <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < b->len + need + 1)
		cap *= 2;
	char *s = realloc(b->s, cap);
	if (!s)
		return -ENOMEM;
	b->s = s;
	b->cap = cap;
	return 0;
}

int strbuf_add(struct strbuf *b, const char *s)
{
	size_t l = strlen(s);

	if (strbuf_room(b, l))
		return -ENOMEM;
	memcpy(b->s + b->len, s, l + 1);
	b->len += l;
	return 0;
}

int strbuf_addf(struct strbuf *b, const char *fmt, ...)
{
	va_list ap;
	char c;

	va_start(ap, fmt);
	int l = vsnprintf(&c, 1, fmt, ap);
	va_end(ap);
	if (l < 0 || strbuf_room(b, (size_t)l))
		return -ENOMEM;
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, (size_t)l + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)l;
	return 0;
}

void strbuf_reset(struct strbuf *b)
{
	b->len = 0;
	if (b->s)
		b->s[0] = 0;
}

void strbuf_free(struct strbuf *b)
{
	free(b->s);
	*b = (struct strbuf){ 0 };
}

int strlist_has(const struct strlist *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return 1;
	return 0;
}

void strlist_free(struct strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}
