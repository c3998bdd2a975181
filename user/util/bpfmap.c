/* BPF map reading helpers (see bpfmap.h). */
#include <string.h>

#include <bpf/bpf.h>

#include "util/bpfmap.h"

int map_next_entry(int fd, void *key, size_t key_size, int *started, void *value)
{
	unsigned char next[UTIL_MAP_KEY_MAX];

	if (key_size > sizeof(next))
		return 0;
	while (bpf_map_get_next_key(fd, *started ? key : NULL, next) == 0) {
		memcpy(key, next, key_size);
		*started = 1;
		if (bpf_map_lookup_elem(fd, key, value) == 0)
			return 1;
	}
	return 0;
}

uint64_t map_percpu_u64_sum(int fd, uint32_t key, int ncpus)
{
	uint64_t pc[ncpus > 0 ? ncpus : 1], sum = 0;

	if (ncpus <= 0 || bpf_map_lookup_elem(fd, &key, pc) != 0)
		return 0;
	for (int c = 0; c < ncpus; c++)
		sum += pc[c];
	return sum;
}
