/* libFuzzer harness: kallsyms_load on arbitrary bytes (kallsyms reads a
 * file, so the bytes go through a memfd), then lookups.  Built and run by
 * `make fuzz` (tests/fuzz/fuzz.mk). */
#define _GNU_SOURCE /* memfd_create */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "symbols/kallsyms.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static char path[64];
	struct kallsyms *k = NULL;
	uint64_t off;
	int err;

	if (fd < 0) {
		fd = memfd_create("fuzz_kallsyms", MFD_CLOEXEC);
		if (fd < 0)
			abort();
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	err = kallsyms_load(path, &k);
	if (err > 0)
		abort();
	if (err == 0) {
		static const uint64_t addrs[] = {
			0, 1, 0xffffffff81000000ULL, 0xffffffffc0000000ULL, UINT64_MAX,
		};
		size_t i;

		for (i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
			const char *name = kallsyms_lookup(k, addrs[i], &off);

			if (name && !name[0])
				abort();
		}
		kallsyms_free(k);
	}
	return 0;
}
