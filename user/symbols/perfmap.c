/* Perf map parsing and lookup.  Entries are kept sorted by start, then by
 * the order they were written, so the latest of the entries starting at
 * one address comes last; a lookup takes the entry starting nearest at or
 * below the address that covers it (looking back a few entries, for a
 * small entry written inside a larger one). */
#include "symbols/perfmap.h"

#include "util/util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Entries looked back at for one lookup. */
#define PERFMAP_SCAN_BACK 16

struct pm_entry {
	uint64_t start, end; /* [start, end) */
	uint64_t seq;	     /* order in the file */
	char *name;
};

struct perfmap {
	struct pm_entry *v;
	size_t n, cap;
	uint64_t seq;
	size_t bad;
	off_t read_to; /* bytes of the file consumed (complete lines) */
	int truncated;
};

struct perfmap *perfmap_new(void)
{
	return calloc(1, sizeof(struct perfmap));
}

/* A hex number at *p (0x optional, at most 16 digits), then at least one
 * space or tab; advances *p past them.  0 or -1. */
static int parse_hex(const char **p, const char *end, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;
	int digits = 0, d;

	if (end - s >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	while (s < end && (d = hex_digit(*s)) >= 0) {
		if (++digits > 16)
			return -1;
		v = (v << 4) | (uint64_t)d;
		s++;
	}
	if (!digits || s >= end || (*s != ' ' && *s != '\t'))
		return -1;
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	*p = s;
	*out = v;
	return 0;
}

/* One line without its '\n': 1 added, 0 malformed, -ENOMEM. */
static int parse_line(struct perfmap *pm, const char *s, const char *end)
{
	uint64_t start, size;
	struct pm_entry *e;

	if (end > s && end[-1] == '\r')
		end--;
	if ((size_t)(end - s) > PERFMAP_LINE_MAX)
		return 0;
	if (parse_hex(&s, end, &start) || parse_hex(&s, end, &size))
		return 0;
	if (size == 0 || size > UINT64_MAX - start || s >= end || memchr(s, '\0', end - s))
		return 0;
	if (array_grow((void **)&pm->v, &pm->cap, pm->n + 1, sizeof(*pm->v)))
		return -ENOMEM;
	e = &pm->v[pm->n];
	e->name = strndup(s, (size_t)(end - s));
	if (!e->name)
		return -ENOMEM;
	e->start = start;
	e->end = start + size;
	e->seq = pm->seq++;
	pm->n++;
	return 1;
}

static int cmp_entry(const void *a, const void *b)
{
	const struct pm_entry *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

ssize_t perfmap_add_text(struct perfmap *pm, const char *text, size_t len, int final)
{
	const char *p = text, *end = text + len;
	size_t added = 0;
	int r = 0;

	if (!pm || (!text && len))
		return -EINVAL;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		if (!nl && !final)
			break;
		if (!nl)
			nl = end;
		if (nl > p) { /* empty lines are not entries, nor malformed */
			r = parse_line(pm, p, nl);
			if (r < 0)
				break;
			if (r == 0)
				pm->bad++;
			added += (size_t)r;
		}
		p = nl < end ? nl + 1 : end;
	}
	if (added)
		qsort(pm->v, pm->n, sizeof(*pm->v), cmp_entry);
	return r < 0 ? r : (ssize_t)(p - text);
}

static void perfmap_clear(struct perfmap *pm)
{
	size_t i;

	for (i = 0; i < pm->n; i++)
		free(pm->v[i].name);
	pm->n = 0;
	pm->bad = 0;
	pm->read_to = 0;
	pm->truncated = 0;
}

int perfmap_update_fd(struct perfmap *pm, int fd)
{
	struct stat st;
	size_t want;
	ssize_t got, used;
	char *buf;
	int final;

	if (!pm || fd < 0)
		return -EINVAL;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if (st.st_size < pm->read_to)
		perfmap_clear(pm); /* rewritten: read it again */
	if (st.st_size == pm->read_to || pm->truncated)
		return 0;
	final = st.st_size > (off_t)PERFMAP_MAX_BYTES;
	want = (size_t)((final ? (off_t)PERFMAP_MAX_BYTES : st.st_size) - pm->read_to);
	if (!want) {
		pm->truncated = final;
		return 0;
	}
	buf = malloc(want);
	if (!buf)
		return -ENOMEM;
	got = pread(fd, buf, want, pm->read_to);
	if (got < 0) {
		free(buf);
		return -errno;
	}
	used = perfmap_add_text(pm, buf, (size_t)got, final && (size_t)got == want);
	free(buf);
	if (used < 0)
		return (int)used;
	pm->read_to += used;
	if (final && (size_t)got == want)
		pm->truncated = 1;
	return 0;
}

const char *perfmap_lookup(const struct perfmap *pm, uint64_t addr, uint64_t *off)
{
	ssize_t i, stop;

	if (!pm || !pm->n)
		return NULL;
	i = sorted_find_le(pm->v, pm->n, sizeof(*pm->v), offsetof(struct pm_entry, start), addr);
	for (stop = i - PERFMAP_SCAN_BACK; i >= 0 && i > stop; i--) {
		if (addr < pm->v[i].end) {
			if (off)
				*off = addr - pm->v[i].start;
			return pm->v[i].name;
		}
	}
	return NULL;
}

size_t perfmap_count(const struct perfmap *pm)
{
	return pm ? pm->n : 0;
}

size_t perfmap_bad(const struct perfmap *pm)
{
	return pm ? pm->bad : 0;
}

int perfmap_truncated(const struct perfmap *pm)
{
	return pm ? pm->truncated : 0;
}

void perfmap_free(struct perfmap *pm)
{
	if (!pm)
		return;
	perfmap_clear(pm);
	free(pm->v);
	free(pm);
}

int perfmap_path(pid_t pid, char *buf, size_t size)
{
	char p[64], *text = NULL, *line, *last = NULL, *tok, *save = NULL;
	long nspid = pid;
	int err, n;

	snprintf(p, sizeof(p), "/proc/%d/status", (int)pid);
	err = read_path_all(p, &text, NULL);
	if (err)
		return err;
	line = strstr(text, "\nNSpid:");
	if (line) {
		line += strlen("\nNSpid:");
		line[strcspn(line, "\n")] = '\0';
		for (tok = strtok_r(line, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save))
			last = tok;
		if (last) {
			char *e;
			long v = strtol(last, &e, 10);

			if (*e == '\0' && v > 0 && v <= INT32_MAX)
				nspid = v;
		}
	}
	free(text);
	n = snprintf(buf, size, "/tmp/perf-%ld.map", nspid);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}
