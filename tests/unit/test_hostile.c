/* Hostile input for the parsers of what the target hands us: every file of
 * the fuzz seed corpus (tests/fuzz/corpus/<parser>/, crash regressions
 * included) and a fixed-seed set of mutations of each (byte flips,
 * interesting values, truncations) go through procmaps_parse,
 * elffile_open_mem, kallsyms_load, saved_run_parse (a saved profile is
 * untrusted too) and assertion_parse (--assert expressions), which must return cleanly: 0 or a
 * negative errno, with a result that holds together.  Deterministic, so CI
 * covers what `make fuzz` found; run it under valgrind or a sanitizer build
 * to see more. */
#define _GNU_SOURCE /* memfd_create */
#include <dirent.h>
#include <fcntl.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "load/saved.h"
#include "model/assertion.h"
#include "symbols/elfsym.h"
#include "symbols/kallsyms.h"
#include "symbols/perfmap.h"
#include "symbols/procmaps.h"
#include "util/util.h"

#define CORPUS_DIR "tests/fuzz/corpus"
#define MUTATIONS_PER_FILE 1000

static uint64_t rng_state;

static uint64_t rng(void)
{
	/* xorshift64*: the same sequence on every machine. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

static void assert_clean(int err)
{
	assert_true(err == 0 || (err < 0 && err >= -4095));
}

typedef void (*parse_fn)(const unsigned char *data, size_t size);

static void parse_procmaps(const unsigned char *data, size_t size)
{
	struct procmaps pm = { 0 };
	size_t bad = 0, i;
	char *copy = malloc(size ? size : 1);

	assert_non_null(copy);
	memcpy(copy, data, size);
	assert_clean(procmaps_parse(copy, size, &pm, &bad));
	for (i = 0; i < pm.n; i++) {
		assert_true(pm.maps[i].start <= pm.maps[i].end);
		assert_int_equal(strlen(pm.maps[i].perms), 4);
		if (i)
			assert_true(pm.maps[i - 1].start <= pm.maps[i].start);
		procmaps_find(&pm, pm.maps[i].start);
		procmaps_find(&pm, pm.maps[i].end - 1);
	}
	procmaps_free(&pm);
	free(copy);
}

static void parse_perfmap(const unsigned char *data, size_t size)
{
	struct perfmap *pm = perfmap_new();
	char *copy = malloc(size ? size : 1);
	uint64_t off = 0;
	ssize_t used;

	assert_non_null(pm);
	assert_non_null(copy);
	memcpy(copy, data, size);
	used = perfmap_add_text(pm, copy, size / 2, 0);
	assert_true(used >= 0 && (size_t)used <= size / 2);
	assert_true(perfmap_add_text(pm, copy + used, size - (size_t)used, 1) >= 0);
	perfmap_lookup(pm, 0, &off);
	perfmap_lookup(pm, UINT64_MAX, &off);
	perfmap_free(pm);
	free(copy);
}

static void elf_probe(const struct elffile *f, uint64_t addr)
{
	const struct elfsym *s = elffile_lookup(f, addr);
	uint64_t off, back;

	if (s)
		assert_true(addr >= s->addr && addr - s->addr < s->size);
	if (elffile_addr_to_offset(f, addr, &off) == 0)
		elffile_offset_to_addr(f, off, &back);
	if (elffile_offset_to_addr(f, addr, &back) == 0)
		elffile_addr_to_offset(f, back, &off);
}

static void parse_elf(const unsigned char *data, size_t size)
{
	struct elffile *f = NULL;
	void *img = malloc(size ? size : 1);
	size_t i;
	int err;

	assert_non_null(img);
	memcpy(img, data, size);
	err = elffile_open_mem(img, size, "[hostile]", &f);
	assert_clean(err);
	if (err == 0) {
		assert_true(strlen(f->build_id) <= 40);
		assert_true(f->nloads <= 16);
		for (i = 0; i < f->nsyms; i++) {
			assert_non_null(f->syms[i].name);
			assert_true(f->syms[i].size > 0);
			if (i)
				assert_true(f->syms[i - 1].addr < f->syms[i].addr);
			elf_probe(f, f->syms[i].addr);
			elf_probe(f, f->syms[i].addr + f->syms[i].size);
		}
		for (i = 0; i < f->nloads; i++)
			elf_probe(f, f->loads[i].vaddr);
		elf_probe(f, 0);
		elf_probe(f, UINT64_MAX);
		elffile_free(f);
	}
	free(img);
}

static int kfd = -1;
static char kpath[64];

static void parse_kallsyms(const unsigned char *data, size_t size)
{
	struct kallsyms *k = NULL;
	uint64_t off;
	int err;

	if (kfd < 0) {
		kfd = memfd_create("hostile_kallsyms", MFD_CLOEXEC);
		assert_true(kfd >= 0);
		snprintf(kpath, sizeof(kpath), "/proc/self/fd/%d", kfd);
	}
	assert_int_equal(ftruncate(kfd, 0), 0);
	assert_int_equal(pwrite(kfd, data, size, 0), (ssize_t)size);
	err = kallsyms_load(kpath, &k);
	assert_clean(err);
	if (err == 0) {
		kallsyms_lookup(k, 0xffffffff81000000ULL, &off);
		kallsyms_lookup(k, 0, &off);
		kallsyms_lookup(k, UINT64_MAX, &off);
		kallsyms_free(k);
	}
}

/* One mutation of data (size bytes) into buf (cap bytes); its size. */
static size_t mutate(const unsigned char *data, size_t size, unsigned char *buf, size_t cap)
{
	static const uint64_t interesting[] = {
		0,	    1,	    0x7f,	0x80,	    0xff,
		0x7fff,	    0xffff, 0x7fffffff, 0xffffffff, 0x8000000000000000ULL,
		UINT64_MAX,
	};
	size_t n = size < cap ? size : cap, i, k;

	memcpy(buf, data, n);
	if (n == 0)
		return 0;
	switch (rng() % 5) {
	case 0: /* a few bit flips */
		for (k = 1 + rng() % 4; k; k--)
			buf[rng() % n] ^= (unsigned char)(1u << (rng() % 8));
		break;
	case 1: /* one byte set to an edge value */
		buf[rng() % n] = (unsigned char)interesting[rng() % 11];
		break;
	case 2: /* a little-endian 1/2/4/8-byte field set to an edge value */
	{
		size_t w = (size_t)1 << (rng() % 4), at;
		uint64_t v = interesting[rng() % 11];

		if (w > n)
			w = n;
		at = rng() % (n - w + 1);
		for (i = 0; i < w; i++)
			buf[at + i] = (unsigned char)(v >> (8 * i));
		break;
	}
	case 3: /* truncated */ n = rng() % n; break;
	default: /* a run of bytes copied over another place */
	{
		size_t from = rng() % n, to = rng() % n, len = 1 + rng() % 64;

		if (len > n - from)
			len = n - from;
		if (len > n - to)
			len = n - to;
		memmove(buf + to, buf + from, len);
		break;
	}
	}
	return n;
}

/* A saved profile: parsed whole, or rejected with nothing left behind. */
static void parse_saved(const unsigned char *data, size_t size)
{
	struct saved_run s;
	int err = saved_run_parse((const char *)data, size, "hostile.json", &s);

	assert_true(err == 0 || err == -EINVAL);
	if (err) {
		assert_null(s.profiles);
		assert_int_equal(s.n, 0);
	}
	for (size_t i = 0; i < s.n; i++) {
		const struct profile *p = s.profiles[i];

		for (size_t k = 0; k < p->nsamples; k++)
			for (uint32_t f = 0; f < p->samples[k].nframes; f++)
				assert_true(p->samples[k].frames[f] < p->nframes);
		for (size_t k = 0; k < p->nedges; k++)
			assert_true(p->edges[k].caller < p->nnodes &&
				    p->edges[k].callee < p->nnodes);
	}
	saved_run_free(&s);
}

/* An --assert expression: parsed into a whole assertion, or rejected with
 * a message and nothing kept. */
static void parse_assert(const unsigned char *data, size_t size)
{
	struct assertion a;
	char *text = malloc(size + 1), err[256] = "";
	int r;

	assert_non_null(text);
	memcpy(text, data, size);
	text[size] = 0;
	r = assertion_parse(text, &a, err, sizeof(err));
	assert_true(r == 0 || r == -EINVAL);
	if (r == 0) {
		assert_true(a.subject && *a.subject && a.column && *a.column);
		assert_true(a.op <= AOP_NE && a.unit <= AU_PCT);
		assert_true(a.limit == a.limit && a.limit - a.limit == 0); /* finite */
		assertion_free(&a);
	} else {
		assert_true(err[0] != 0);
		assert_null(a.text);
	}
	free(text);
}

static void run_corpus(const char *name, parse_fn parse)
{
	char dir[256], path[512];
	struct dirent *de;
	size_t files = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/%s", CORPUS_DIR, name);
	d = opendir(dir);
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		char *data = NULL;
		unsigned char *buf;
		size_t size = 0, i;
		const char *c;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		assert_int_equal(read_path_all(path, &data, &size), 0);
		files++;
		/* Seeded by the file name: the same cases whatever the
		 * directory order. */
		rng_state = 0x9e3779b97f4a7c15ULL;
		for (c = de->d_name; *c; c++)
			rng_state = (rng_state ^ (unsigned char)*c) * 0x100000001b3ULL;
		if (!rng_state)
			rng_state = 1;
		parse((const unsigned char *)data, size);
		buf = malloc(size ? size : 1);
		assert_non_null(buf);
		for (i = 0; i < MUTATIONS_PER_FILE; i++) {
			size_t n = mutate((const unsigned char *)data, size, buf, size);

			parse(buf, n);
		}
		/* Every prefix of a small file: truncation at each byte. */
		for (i = 0; i < size && size <= 1024; i++)
			parse((const unsigned char *)data, i);
		free(buf);
		free(data);
	}
	closedir(d);
	assert_true(files > 0);
}

static void test_procmaps(void **state)
{
	run_corpus("procmaps", parse_procmaps);
}

static void test_perfmap(void **state)
{
	run_corpus("perfmap", parse_perfmap);
}

static void test_elf(void **state)
{
	run_corpus("elf", parse_elf);
}

static void test_kallsyms(void **state)
{
	run_corpus("kallsyms", parse_kallsyms);
}

/* Every rejected file prints its one error line: not while testing. */
static void test_saved(void **state)
{
	int saved = dup(2), null = open("/dev/null", O_WRONLY);

	assert_true(saved >= 0 && null >= 0);
	dup2(null, 2);
	run_corpus("saved", parse_saved);
	dup2(saved, 2);
	close(saved);
	close(null);
}

static void test_assert(void **state)
{
	run_corpus("assert", parse_assert);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_procmaps), cmocka_unit_test(test_elf),
		cmocka_unit_test(test_kallsyms), cmocka_unit_test(test_saved),
		cmocka_unit_test(test_assert),	 cmocka_unit_test(test_perfmap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
