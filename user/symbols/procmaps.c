/* /proc/PID/maps parsing.
 *
 * Line format (fs/proc/task_mmu.c):
 *   start-end perms offset major:minor inode [spaces path]
 * Every field is checked; a line that does not fit is skipped and counted.
 * The path is the rest of the line (it may contain spaces) with a trailing
 * " (deleted)" removed. */
#include "symbols/procmaps.h"
#include "util/util.h"

#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DELETED_SUFFIX " (deleted)"

/* A cursor over one line: [p, end). */
struct cur {
	const char *p, *end;
};

/* Unsigned number in base 16 or 10, at least one digit, no overflow. */
static int parse_num(struct cur *c, unsigned base, uint64_t *out)
{
	uint64_t v = 0;
	const char *start = c->p;

	while (c->p < c->end) {
		int d = hex_digit(*c->p);
		if (d < 0 || (unsigned)d >= base)
			break;
		if (v > (UINT64_MAX - (uint64_t)d) / base)
			return -1;
		v = v * base + (uint64_t)d;
		c->p++;
	}
	if (c->p == start)
		return -1;
	*out = v;
	return 0;
}

static int expect(struct cur *c, char ch)
{
	if (c->p >= c->end || *c->p != ch)
		return -1;
	c->p++;
	return 0;
}

/* One or more spaces. */
static int skip_spaces(struct cur *c)
{
	const char *start = c->p;

	while (c->p < c->end && *c->p == ' ')
		c->p++;
	return c->p == start ? -1 : 0;
}

/* Parses the fixed fields of one line; path and plen get the rest of the
 * line (plen 0 for anonymous mappings).  0 or -1 for a malformed line. */
static int parse_line(const char *line, size_t len, struct procmap *m, const char **path,
		      size_t *plen)
{
	struct cur c = { line, line + len };
	uint64_t maj, min;
	size_t i;

	memset(m, 0, sizeof(*m));
	if (parse_num(&c, 16, &m->start) || expect(&c, '-') || parse_num(&c, 16, &m->end) ||
	    skip_spaces(&c))
		return -1;
	if (m->end < m->start)
		return -1;
	for (i = 0; i < 4; i++) {
		char ch = c.p < c.end ? *c.p : '\0';
		if (ch != '-' && ch != "rwxp"[i] && !(i == 3 && ch == 's'))
			return -1;
		m->perms[i] = ch;
		c.p++;
	}
	m->perms[4] = '\0';
	if (skip_spaces(&c) || parse_num(&c, 16, &m->offset) || skip_spaces(&c) ||
	    parse_num(&c, 16, &maj) || expect(&c, ':') || parse_num(&c, 16, &min) ||
	    skip_spaces(&c) || parse_num(&c, 10, &m->inode))
		return -1;
	if (maj > UINT32_MAX || min > UINT32_MAX)
		return -1;
	m->dev_major = (uint32_t)maj;
	m->dev_minor = (uint32_t)min;
	*path = c.p;
	*plen = 0;
	if (c.p == c.end)
		return 0; /* anonymous */
	if (skip_spaces(&c))
		return -1;
	*path = c.p;
	*plen = (size_t)(c.end - c.p);
	return 0;
}

static int push(struct procmaps *out, const struct procmap *m)
{
	if (array_grow((void **)&out->maps, &out->cap, out->n + 1, sizeof(*out->maps)))
		return -ENOMEM;
	out->maps[out->n++] = *m;
	return 0;
}

/* Path of the line starting at p (rest of the line), " (deleted)" removed. */
static char *dup_path(const char *p, size_t len, int *deleted)
{
	size_t sl = sizeof(DELETED_SUFFIX) - 1;
	char *s;

	*deleted = 0;
	if (len > sl && memcmp(p + len - sl, DELETED_SUFFIX, sl) == 0) {
		len -= sl;
		*deleted = 1;
	}
	s = malloc(len + 1);
	if (!s)
		return NULL;
	memcpy(s, p, len);
	s[len] = '\0';
	return s;
}

static int cmp_start(const void *a, const void *b)
{
	const struct procmap *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return 0;
}

int procmaps_parse(const char *text, size_t len, struct procmaps *out, size_t *bad)
{
	size_t nbad = 0, pos = 0;
	int err = 0;

	if (!out || (!text && len))
		return -EINVAL;
	while (pos < len) {
		const char *line = text + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t ll = nl ? (size_t)(nl - line) : len - pos;
		struct procmap m;
		const char *path;
		size_t plen;

		pos += ll + (nl ? 1 : 0);
		if (ll == 0)
			continue;
		if (parse_line(line, ll, &m, &path, &plen) < 0) {
			nbad++;
			continue;
		}
		if (plen) {
			m.path = dup_path(path, plen, &m.deleted);
			if (!m.path) {
				err = -ENOMEM;
				break;
			}
		}
		err = push(out, &m);
		if (err) {
			free(m.path);
			break;
		}
	}
	if (out->n > 1)
		qsort(out->maps, out->n, sizeof(*out->maps), cmp_start);
	if (bad)
		*bad = nbad;
	return err;
}

int procmaps_read(pid_t pid, struct procmaps *out)
{
	char path[64], *buf = NULL;
	size_t len = 0;
	int err;

	if (pid <= 0 || !out)
		return -EINVAL;
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	err = read_path_all(path, &buf, &len);
	if (err)
		return err == -ENOENT ? -ESRCH : err;
	err = procmaps_parse(buf, len, out, NULL);
	free(buf);
	return err;
}

const struct procmap *procmaps_find(const struct procmaps *m, uint64_t addr)
{
	const struct procmap *p;
	ssize_t i;

	if (!m)
		return NULL;
	/* Sorted by start: last mapping whose start <= addr. */
	i = sorted_find_le(m->maps, m->n, sizeof(*m->maps), offsetof(struct procmap, start), addr);
	if (i < 0)
		return NULL;
	p = &m->maps[i];
	return addr < p->end && p->perms[2] == 'x' ? p : NULL;
}

void procmaps_free(struct procmaps *m)
{
	size_t i;

	if (!m)
		return;
	for (i = 0; i < m->n; i++)
		free(m->maps[i].path);
	free(m->maps);
	m->maps = NULL;
	m->n = m->cap = 0;
}
