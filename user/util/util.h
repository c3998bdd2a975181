/* Small shared helpers: error lines, clocks, growable stacks of frames. */
#ifndef EBPROF_UTIL_H
#define EBPROF_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* One line on stderr: "ebprof: <message>". */
void ebprof_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A usage error: the same line; main exits with status 2 when it sees
 * ebprof_usage_error() set. */
void ebprof_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int ebprof_usage_error(void);
/* Extra lines with -v. */
void ebprof_verbose(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
extern int ebprof_verbosity;

uint64_t now_ns(void); /* CLOCK_MONOTONIC */
/* The value of a hexadecimal digit (either case), -1 for any other
 * character: the one digit test of the /proc and perf-map parsers. */
int hex_digit(char c);
/* now_ns() when ebprof started (set by main). */
extern uint64_t ebprof_start_ns;
/* 1 when thread tid of process pid still exists. */
int task_alive(pid_t pid, pid_t tid);
/* The thread's name from /proc into comm (unchanged when it cannot be
 * read, e.g. the thread is gone). */
void task_comm(pid_t pid, pid_t tid, char *comm, size_t len);

/* The thread's state letter from /proc (R running or runnable, S, D, ...),
 * or 0 when it cannot be read. */
char task_state(pid_t pid, pid_t tid);

/* Calls cb(child, ctx) for each child process of process pid, as
 * /proc/PID/task/TID/children lists them (the children of every thread);
 * stops at cb's first nonzero return and returns it, else 0 (also when
 * pid is gone). */
int proc_children(pid_t pid, int (*cb)(pid_t child, void *ctx), void *ctx);

/* Grows *arr (elem bytes each, *cap of them) to hold at least need,
 * doubling; new space is zeroed.  0 or -ENOMEM. */
int array_grow(void **arr, size_t *cap, size_t need, size_t elem);

/* In n elements of size bytes sorted by the uint64_t at key_off, the index
 * of the last one whose key is <= key, or -1 when none is (binary search:
 * "which symbol or mapping starts at or before this address"). */
ssize_t sorted_find_le(const void *base, size_t n, size_t size, size_t key_off, uint64_t key);

/* Reads a whole file whose size stat cannot tell (procfs) into a malloc'd,
 * NUL-terminated buffer; *len (may be NULL) excludes the NUL.  0 or -errno. */
int read_fd_all(int fd, char **buf, size_t *len);
int read_path_all(const char *path, char **buf, size_t *len);

/* A growing list of malloc'd lines (a report's notes). */
struct strlist {
	char **v;
	size_t n;
};
/* Appends one formatted line: 0 or -ENOMEM. */
int strlist_addf(struct strlist *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int strlist_vaddf(struct strlist *l, const char *fmt, va_list ap);
/* 1 when the list holds a line equal to s. */
int strlist_has(const struct strlist *l, const char *s);
void strlist_free(struct strlist *l);

/* A growing NUL-terminated string: text that must come out whole (frame
 * names of any length).  Zeroed to start; s stays NULL until written. */
struct strbuf {
	char *s;
	size_t len, cap;
};
/* Appends s, or formatted text: 0 or -ENOMEM (b unchanged).  s must not
 * point into b. */
int strbuf_add(struct strbuf *b, const char *s);
int strbuf_addf(struct strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Empties b, keeping its memory for the next string. */
void strbuf_reset(struct strbuf *b);
void strbuf_free(struct strbuf *b);

/* Runs fn over n elements of elem bytes at base, split into at most
 * nthreads slices (capped at UTIL_MAX_SLICES), each on a thread of its own;
 * a slice whose thread cannot start runs inline, and one slice runs inline.
 * For work that mostly waits (removing probes waits for RCU grace periods):
 * the waits overlap. */
#define UTIL_MAX_SLICES 64
void run_in_slices(void *base, size_t n, size_t elem, size_t nthreads,
		   void (*fn)(void *first, size_t count));

/* Runs fn(i, arg) for i in 0 .. n-1 on up to nthreads threads (capped at
 * UTIL_MAX_SLICES), each taking the next i when done with its last: for
 * CPU-bound items of uneven size.  A thread that cannot start leaves its
 * share to the others (to the caller, which takes items too). */
void run_in_parallel(size_t n, size_t nthreads, void (*fn)(size_t i, void *arg), void *arg);

/* A stack being built, as frame indices root first. */
struct stackbuf {
	uint32_t *frames;
	size_t n, cap;
	int err;
};
/* Appends a frame index; a negative index (an error from profile_frame)
 * or allocation failure is remembered in err. */
void stackbuf_push(struct stackbuf *s, int64_t frame);

#endif
