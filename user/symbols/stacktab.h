/* The stacks a collector's BPF side interned in its own hash map, keyed by
 * the whole frame array (struct cpu_frames-like: u32 nr, u32 kernel,
 * u64 ips[depth]) -> a unique id, read once per report into a table
 * sorted by id: what stack_from_ips then converts.  No stack ids of a BPF
 * stack map, so no hash collisions. */
#ifndef EBPROF_STACKTAB_H
#define EBPROF_STACKTAB_H

#include <stddef.h>
#include <stdint.h>

struct stacktab_entry {
	uint32_t id, nr;
	uint64_t *ips; /* depth of them, leaf first */
};

struct stacktab {
	struct stacktab_entry *v; /* sorted by id */
	size_t n, cap, depth;
};

/* Reads map fd (key: u32 nr, u32 kernel, u64 ips[depth]; value: u32 id).
 * 0 or -ENOMEM. */
int stacktab_read(int fd, size_t depth, struct stacktab *t);
/* The frames of id, leaf first, and their number (0 for an unknown or
 * negative id). */
size_t stacktab_get(const struct stacktab *t, int id, const uint64_t **ips);
void stacktab_free(struct stacktab *t);

#endif
