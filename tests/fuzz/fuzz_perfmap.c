/* libFuzzer harness: perf map text (JIT symbols) on arbitrary bytes, fed in
 * two pieces as a growing file is, then lookups on the result.  Built and
 * run by `make fuzz` (tests/fuzz/fuzz.mk). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "symbols/perfmap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct perfmap *pm = perfmap_new();
	size_t half = size / 2;
	ssize_t used;
	uint64_t off, probe;
	char *copy;
	size_t i;

	/* An exact-size copy, so reads past the end are caught. */
	copy = malloc(size ? size : 1);
	if (!pm || !copy) {
		perfmap_free(pm);
		free(copy);
		return 0;
	}
	if (size)
		memcpy(copy, data, size);
	used = perfmap_add_text(pm, copy, half, 0);
	if (used < 0 || (size_t)used > half)
		abort();
	used = perfmap_add_text(pm, copy + used, size - (size_t)used, 1);
	if (used < 0)
		abort();
	for (i = 0; i + 8 <= size; i += 8) {
		memcpy(&probe, copy + i, 8);
		if (perfmap_lookup(pm, probe, &off) && off > probe)
			abort();
	}
	perfmap_lookup(pm, 0, &off);
	perfmap_lookup(pm, UINT64_MAX, &off);
	perfmap_free(pm);
	free(copy);
	return 0;
}
