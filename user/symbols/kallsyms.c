/* Kernel text symbols from /proc/kallsyms ("ffffffff81000000 T _stext").
 * Names point into the file text kept in memory (one allocation). */
#include "symbols/kallsyms.h"

#include "symbols/elfsym.h"
#include "util/util.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* No kernel function is this large: beyond it, an address after the last
 * symbol is not attributed to it. */
#define KALLSYMS_MAX_FUNC_SIZE (1u << 20)

struct ksym {
	uint64_t addr;
	const char *name;
	int global;
};

struct kallsyms {
	char *text;
	struct ksym *syms;
	size_t n;
};

/* Parses one NUL-terminated line in place.  1 when it is a kept symbol. */
static int parse_line(char *line, struct ksym *s, int *zero_addr)
{
	char *p = line, *end, type;
	unsigned long long a;

	errno = 0;
	a = strtoull(p, &end, 16);
	if (end == p || errno || *end != ' ')
		return 0;
	p = end + 1;
	type = *p;
	if (!type || p[1] != ' ')
		return 0;
	p += 2;
	end = p;
	while (*end && !isspace((unsigned char)*end))
		end++;
	if (end == p)
		return 0;
	*end = '\0'; /* drops the "[module]" column */
	if (type != 't' && type != 'T' && type != 'w' && type != 'W')
		return 0;
	if (a == 0) {
		*zero_addr = 1;
		return 0;
	}
	s->addr = a;
	s->name = p;
	s->global = isupper((unsigned char)type) != 0;
	return 1;
}

static int cmp_ksym(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return elfsym_name_cmp(x->name, x->global, y->name, y->global);
}

int kallsyms_load(const char *path, struct kallsyms **out)
{
	struct kallsyms *k;
	size_t cap = 0, i, n;
	int err, zero = 0;
	char *line, *next;

	if (!out)
		return -EINVAL;
	k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	err = read_path_all(path ? path : "/proc/kallsyms", &k->text, NULL);
	if (err)
		goto fail;
	for (line = k->text; *line; line = next) {
		struct ksym s;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		else
			next = line + strlen(line);
		if (!parse_line(line, &s, &zero))
			continue;
		if (array_grow((void **)&k->syms, &cap, k->n + 1, sizeof(*k->syms))) {
			err = -ENOMEM;
			goto fail;
		}
		k->syms[k->n++] = s;
	}
	if (k->n == 0) {
		/* Every address hidden: kptr_restrict, or not privileged. */
		err = zero ? -EACCES : -ENOENT;
		goto fail;
	}
	qsort(k->syms, k->n, sizeof(*k->syms), cmp_ksym);
	for (i = 1, n = 1; i < k->n; i++)
		if (k->syms[i].addr != k->syms[n - 1].addr)
			k->syms[n++] = k->syms[i];
	k->n = n;
	*out = k;
	return 0;
fail:
	kallsyms_free(k);
	return err;
}

const char *kallsyms_lookup(const struct kallsyms *k, uint64_t addr, uint64_t *off)
{
	const struct ksym *s;
	ssize_t i;

	if (!k)
		return NULL;
	i = sorted_find_le(k->syms, k->n, sizeof(*k->syms), offsetof(struct ksym, addr), addr);
	if (i < 0)
		return NULL;
	s = &k->syms[i];
	if (addr - s->addr >= KALLSYMS_MAX_FUNC_SIZE)
		return NULL;
	if (off)
		*off = addr - s->addr;
	return s->name;
}

void kallsyms_free(struct kallsyms *k)
{
	if (!k)
		return;
	free(k->syms);
	free(k->text);
	free(k);
}
