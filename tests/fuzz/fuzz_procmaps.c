/* libFuzzer harness: procmaps_parse on arbitrary bytes, then lookups on the
 * result.  Built and run by `make fuzz` (tests/fuzz/fuzz.mk). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "symbols/procmaps.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct procmaps pm = { 0 };
	size_t bad = 0, i;
	char *copy;
	int err;

	/* An exact-size copy, so reads past the end are caught. */
	copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	if (size)
		memcpy(copy, data, size);
	err = procmaps_parse(copy, size, &pm, &bad);
	if (err > 0)
		abort();
	for (i = 0; i < pm.n; i++) {
		const struct procmap *m = &pm.maps[i];

		if (m->end < m->start || strlen(m->perms) != 4)
			abort();
		if (i && pm.maps[i - 1].start > m->start)
			abort();
		procmaps_find(&pm, m->start);
		procmaps_find(&pm, m->end);
		procmaps_find(&pm, m->end - 1);
	}
	procmaps_find(&pm, 0);
	procmaps_find(&pm, UINT64_MAX);
	procmaps_free(&pm);
	free(copy);
	return 0;
}
