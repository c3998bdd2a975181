/* The stacks a collector's BPF side interned in its own hash map, keyed by
 * the whole frame array (struct cpu_frames-like: u32 nr, u32 kernel,
 * u64 ips[depth]) -> a unique id, moved (read and deleted) into a table
 * sorted by id: what stack_from_ips then converts.  No stack ids of a BPF
 * stack map, so no hash collisions; and since the map is drained into
 * user space whenever it fills up, its size bounds the stacks new within
 * one drain, not the stacks of the run.  A stack drained and seen again
 * gets a new id: the same frames under two ids, which the profile merges
 * by content. */
#ifndef EBPROF_STACKTAB_H
#define EBPROF_STACKTAB_H

#include <stddef.h>
#include <stdint.h>

struct stacktab_entry {
	uint32_t id, nr;
	uint64_t *ips; /* nr of them, leaf first */
};

struct stacktab {
	struct stacktab_entry *v; /* sorted by id */
	size_t n, cap, depth;
};

/* An empty table of stacks of at most depth frames. */
void stacktab_init(struct stacktab *t, size_t depth);
/* Moves every entry of map fd (key: u32 nr, u32 kernel, u64 ips[depth];
 * value: u32 id) into t: read, deleted from the map, kept here.  The
 * number moved, or a negative errno (what was moved before it stays). */
long stacktab_drain(int fd, struct stacktab *t);
/* The frames of id, leaf first, and their number (0 for an unknown or
 * negative id). */
size_t stacktab_get(const struct stacktab *t, int id, const uint64_t **ips);
void stacktab_free(struct stacktab *t);

#endif
