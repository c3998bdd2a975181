/* Reading BPF maps from user space: the walk of a hash map and the sum of
 * a per-CPU counter (libbpf), kept apart from util's plain helpers so that
 * what does not touch the kernel links without libbpf. */
#ifndef EBPROF_UTIL_BPFMAP_H
#define EBPROF_UTIL_BPFMAP_H

#include <stddef.h>
#include <stdint.h>

/* Walks a BPF hash map: fills key (key_size bytes, at most
 * UTIL_MAP_KEY_MAX) and value with the next entry and returns 1, or returns
 * 0 at the end.  *started is 0 before the first call.  An entry deleted
 * between its key and its lookup is skipped.
 *   int started = 0;
 *   while (map_next_entry(fd, &key, sizeof(key), &started, &val)) ... */
#define UTIL_MAP_KEY_MAX 64
int map_next_entry(int fd, void *key, size_t key_size, int *started, void *value);

/* Sum over ncpus CPUs of a per-CPU array's __u64 at key (0 when the
 * lookup fails). */
uint64_t map_percpu_u64_sum(int fd, uint32_t key, int ncpus);

#endif
