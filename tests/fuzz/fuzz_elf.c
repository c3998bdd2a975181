/* libFuzzer harness: elffile_open_mem on arbitrary bytes, then symbol
 * lookups and offset <-> address conversions on what it returns.  Built
 * and run by `make fuzz` (tests/fuzz/fuzz.mk). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "symbols/elfsym.h"

static void probe(const struct elffile *f, uint64_t addr)
{
	const struct elfsym *s = elffile_lookup(f, addr);
	uint64_t off, back;

	if (s && (addr < s->addr || addr - s->addr >= s->size))
		abort();
	if (elffile_addr_to_offset(f, addr, &off) == 0)
		elffile_offset_to_addr(f, off, &back);
	if (elffile_offset_to_addr(f, addr, &back) == 0)
		elffile_addr_to_offset(f, back, &off);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct elffile *f = NULL;
	size_t i;
	void *img;
	int err;

	/* libelf may write into the image it is given; an exact-size copy
	 * also makes reads past the end visible. */
	img = malloc(size ? size : 1);
	if (!img)
		return 0;
	if (size)
		memcpy(img, data, size);
	err = elffile_open_mem(img, size, "[fuzz]", &f);
	if (err > 0)
		abort();
	if (err == 0) {
		if (strlen(f->build_id) > 40 || f->nloads > 16)
			abort();
		for (i = 0; i < f->nsyms; i++) {
			const struct elfsym *s = &f->syms[i];

			if (!s->name || !s->name[0] || s->size == 0)
				abort();
			if (i && f->syms[i - 1].addr >= s->addr)
				abort();
			probe(f, s->addr);
			probe(f, s->addr + s->size - 1);
			probe(f, s->addr + s->size);
		}
		for (i = 0; i < f->nloads; i++) {
			probe(f, f->loads[i].vaddr);
			probe(f, f->loads[i].offset);
			probe(f, f->loads[i].vaddr + f->loads[i].filesz);
		}
		probe(f, 0);
		probe(f, UINT64_MAX);
		elffile_free(f);
	}
	free(img);
	return 0;
}
