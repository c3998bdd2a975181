/* Address -> module, function, offset for one target process.
 *
 * Executable mappings are kept in one array sorted by start and never
 * overlapping: a refresh adds what is new and trims what it covers (newest
 * wins), and keeps the rest, so a library unmapped or a process gone is
 * still symbolized.  Each distinct file is a module: its descriptor is taken
 * when the mapping is first seen (the target may be gone by the time it is
 * needed), its symbols are read on first use and cached until the end.
 * Files are opened inside the target's root (containers); a file deleted or
 * replaced since it was mapped is opened through /proc/PID/map_files. */
#define _GNU_SOURCE /* O_PATH */
#include "symbols/symbolize.h"

#include "symbols/demangle.h"
#include "symbols/elfsym.h"
#include "symbols/kallsyms.h"
#include "symbols/perfmap.h"
#include "symbols/procmaps.h"
#include "symbols/vdso.h"
#include "util/util.h"

#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

enum mod_state { MOD_PENDING, MOD_LOADED, MOD_NONE };

struct module {
	char *path;	  /* as the target sees it; NULL: anonymous */
	const char *name; /* basename, "[vdso]", "[unknown]", ... */
	uint64_t inode;
	uint32_t dev_major, dev_minor;
	int deleted;
	int fd; /* held until the symbols are read, else -1 */
	enum mod_state state;
	struct elffile *elf;
	int used; /* an address was symbolized in it */
	/* The names shown for elf's symbols then PLT stubs (by index),
	 * demangled on first use; NULL where the raw name is shown. */
	char **shown;
	uint8_t *shown_done;
};

struct smap {
	uint64_t start, end, offset;
	struct module *mod;
};

struct mapvec {
	struct smap *v;
	size_t n, cap;
};

struct symbolizer {
	pid_t pid;
	int rootfd;    /* the target's root directory, or -1 */
	char root[64]; /* the same as a path prefix */
	struct mapvec maps;
	struct module **mods;
	size_t nmods, capmods;
	struct kallsyms *ksyms;
	int ksyms_err; /* kallsyms failed to load: do not retry */
	/* JIT symbols for anonymous code (perf map), read on every refresh. */
	char perfmap_path[64];
	int perfmap_fd;
	struct perfmap *perfmap;
	int raw_names; /* symbolizer_set_demangle(s, 0): names as in the file */
};

static int mapvec_push(struct mapvec *mv, const struct smap *m)
{
	if (array_grow((void **)&mv->v, &mv->cap, mv->n + 1, sizeof(*mv->v)))
		return -ENOMEM;
	mv->v[mv->n++] = *m;
	return 0;
}

/* Index of the mapping containing addr, or -1. */
static ssize_t mapvec_find(const struct mapvec *mv, uint64_t addr)
{
	ssize_t i = sorted_find_le(mv->v, mv->n, sizeof(*mv->v), offsetof(struct smap, start),
				   addr);

	return i < 0 || addr >= mv->v[i].end ? -1 : i;
}

static int cmp_smap(const void *a, const void *b)
{
	const struct smap *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return 0;
}

/* fd when it is a regular file (not a FIFO or device the target planted),
 * else closes it: -EINVAL. */
static int regular_or_close(int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	return fd;
}

/* Opens a regular file at path inside the target's root without following
 * the target's symlinks out of it; never blocks on a FIFO. */
static int open_in_root(const struct symbolizer *s, const char *path)
{
	char full[4096 + 64];
	int fd = -1, n;

	if (s->rootfd >= 0) {
		struct open_how how = {
			.flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK,
			.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
		};
		fd = (int)syscall(SYS_openat2, s->rootfd, path, &how, sizeof(how));
		if (fd < 0 && errno != ENOSYS)
			return -errno;
	}
	if (fd < 0) {
		n = snprintf(full, sizeof(full), "%s%s", s->root, path);
		if (n < 0 || (size_t)n >= sizeof(full))
			return -ENAMETOOLONG;
		fd = open(full, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
		if (fd < 0)
			return -errno;
	}
	return regular_or_close(fd);
}

/* The exact file behind a mapping, even deleted (needs privileges). */
static int open_map_file(const struct symbolizer *s, uint64_t start, uint64_t end)
{
	char p[96];
	int fd;

	snprintf(p, sizeof(p), "/proc/%d/map_files/%" PRIx64 "-%" PRIx64, (int)s->pid, start, end);
	fd = open(p, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	return regular_or_close(fd);
}

/* Takes a descriptor of the mapped file: by path when it is still the file
 * that was mapped (same inode), else through map_files. */
static void module_open_file(const struct symbolizer *s, struct module *mod,
			     const struct procmap *pm)
{
	int fd = -1;

	if (!mod->deleted) {
		struct stat st;

		fd = open_in_root(s, mod->path);
		if (fd >= 0 && (fstat(fd, &st) < 0 || st.st_ino != mod->inode)) {
			close(fd);
			fd = -1;
		}
	}
	if (fd < 0)
		fd = open_map_file(s, pm->start, pm->end);
	mod->fd = fd;
	mod->state = fd >= 0 ? MOD_PENDING : MOD_NONE;
}

/* The vdso is not a file: its image is copied out of the target now. */
static void module_read_vdso(const struct symbolizer *s, struct module *mod,
			     const struct procmap *pm)
{
	size_t size;
	void *img;

	mod->state = MOD_NONE;
	if (vdso_copy(s->pid, pm, &img, &size))
		return;
	if (elffile_open_mem(img, size, "[vdso]", &mod->elf) == 0)
		mod->state = MOD_LOADED;
	free(img);
}

static const char *module_name(const char *path)
{
	const char *slash;

	if (!path)
		return "[unknown]";
	slash = strrchr(path, '/');
	return slash && slash[1] ? slash + 1 : path;
}

static int same_module(const struct module *mod, const struct procmap *pm)
{
	if (!mod->path || !pm->path)
		return !mod->path && !pm->path;
	return mod->inode == pm->inode && mod->dev_major == pm->dev_major &&
	       mod->dev_minor == pm->dev_minor && mod->deleted == pm->deleted &&
	       strcmp(mod->path, pm->path) == 0;
}

/* The module of a mapping: an existing one for the same file, or new. */
static struct module *get_module(struct symbolizer *s, const struct procmap *pm)
{
	struct module *mod;
	size_t i;

	for (i = 0; i < s->nmods; i++)
		if (same_module(s->mods[i], pm))
			return s->mods[i];
	if (array_grow((void **)&s->mods, &s->capmods, s->nmods + 1, sizeof(*s->mods)))
		return NULL;
	mod = calloc(1, sizeof(*mod));
	if (!mod)
		return NULL;
	mod->fd = -1;
	mod->state = MOD_NONE;
	if (pm->path) {
		mod->path = strdup(pm->path);
		if (!mod->path) {
			free(mod);
			return NULL;
		}
	}
	mod->name = module_name(mod->path);
	mod->inode = pm->inode;
	mod->dev_major = pm->dev_major;
	mod->dev_minor = pm->dev_minor;
	mod->deleted = pm->deleted;
	if (mod->path && strcmp(mod->path, "[vdso]") == 0)
		module_read_vdso(s, mod, pm);
	else if (mod->path && mod->path[0] == '/')
		module_open_file(s, mod, pm);
	s->mods[s->nmods++] = mod;
	return mod;
}

static struct elffile *module_elf(struct symbolizer *s, struct module *mod)
{
	char full[4096 + 64];

	if (mod->state == MOD_PENDING) {
		snprintf(full, sizeof(full), "%s%s", s->root, mod->path);
		mod->state = elffile_open_fd(mod->fd, full, s->root, &mod->elf) == 0 ? MOD_LOADED :
										       MOD_NONE;
		close(mod->fd);
		mod->fd = -1;
	}
	return mod->state == MOD_LOADED ? mod->elf : NULL;
}

/* Old mappings minus the ranges of the fresh ones (sorted), plus those. */
static int merge_maps(struct mapvec *old, const struct mapvec *fresh)
{
	struct mapvec out = { 0 };
	size_t i, j;
	int err = 0;

	for (i = 0; i < old->n && !err; i++) {
		const struct smap *o = &old->v[i];
		uint64_t cur = o->start;

		for (j = 0; j < fresh->n && cur < o->end && !err; j++) {
			const struct smap *f = &fresh->v[j];

			if (f->end <= cur || f->start >= o->end)
				continue;
			if (f->start > cur) {
				struct smap piece = { cur, f->start, o->offset + (cur - o->start),
						      o->mod };
				err = mapvec_push(&out, &piece);
			}
			cur = f->end;
		}
		if (!err && cur < o->end) {
			struct smap piece = { cur, o->end, o->offset + (cur - o->start), o->mod };
			err = mapvec_push(&out, &piece);
		}
	}
	for (j = 0; j < fresh->n && !err; j++)
		err = mapvec_push(&out, &fresh->v[j]);
	if (err) {
		free(out.v);
		return err;
	}
	qsort(out.v, out.n, sizeof(*out.v), cmp_smap);
	free(old->v);
	*old = out;
	return 0;
}

/* Is pm already known exactly as it is? */
static int known_mapping(const struct symbolizer *s, const struct procmap *pm)
{
	ssize_t i = mapvec_find(&s->maps, pm->start);
	const struct smap *m;

	if (i < 0)
		return 0;
	m = &s->maps.v[i];
	return m->start == pm->start && m->end == pm->end && m->offset == pm->offset &&
	       same_module(m->mod, pm);
}

/* Opens the target's perf map once it exists; reads what it gained. */
static void perfmap_refresh(struct symbolizer *s)
{
	if (!s->perfmap_path[0])
		return;
	if (s->perfmap_fd < 0)
		s->perfmap_fd = open_in_root(s, s->perfmap_path);
	if (s->perfmap_fd < 0)
		return;
	if (!s->perfmap)
		s->perfmap = perfmap_new();
	perfmap_update_fd(s->perfmap, s->perfmap_fd);
}

void symbolizer_perfmap_stats(const struct symbolizer *s, size_t *entries, size_t *bad,
			      int *truncated)
{
	*entries = s ? perfmap_count(s->perfmap) : 0;
	*bad = s ? perfmap_bad(s->perfmap) : 0;
	*truncated = s ? perfmap_truncated(s->perfmap) : 0;
}

int symbolizer_update(struct symbolizer *s, const struct procmaps *pm)
{
	struct mapvec fresh = { 0 };
	size_t i;
	int err = 0;

	if (!s)
		return -EINVAL;
	if (s->pid == 0)
		return 0;
	perfmap_refresh(s);
	for (i = 0; i < pm->n; i++) {
		const struct procmap *p = &pm->maps[i];
		struct smap m;

		if (p->perms[2] != 'x' || p->end <= p->start || known_mapping(s, p))
			continue;
		m.start = p->start;
		m.end = p->end;
		m.offset = p->offset;
		m.mod = get_module(s, p);
		if (!m.mod) {
			err = -ENOMEM;
			goto out;
		}
		err = mapvec_push(&fresh, &m);
		if (err)
			goto out;
	}
	if (fresh.n)
		err = merge_maps(&s->maps, &fresh);
out:
	free(fresh.v);
	return err;
}

int symbolizer_refresh(struct symbolizer *s)
{
	struct procmaps pm = { 0 };
	int err;

	if (!s)
		return -EINVAL;
	if (s->pid == 0)
		return 0;
	err = procmaps_read(s->pid, &pm);
	if (!err)
		err = symbolizer_update(s, &pm);
	else
		perfmap_refresh(s);
	procmaps_free(&pm);
	return err;
}

int symbolizer_new(pid_t pid, struct symbolizer **out)
{
	struct symbolizer *s;
	char p[64];
	int err;

	if (pid < 0 || !out)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->pid = pid;
	s->rootfd = -1;
	s->perfmap_fd = -1;
	if (pid > 0) {
		if (perfmap_path(pid, s->perfmap_path, sizeof(s->perfmap_path)))
			s->perfmap_path[0] = '\0';
		snprintf(p, sizeof(p), "/proc/%d/root", (int)pid);
		/* Held: the root stays reachable after the target exits. */
		s->rootfd = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (s->rootfd >= 0)
			snprintf(s->root, sizeof(s->root), "/proc/self/fd/%d", s->rootfd);
		else
			snprintf(s->root, sizeof(s->root), "%s", p);
	}
	err = symbolizer_refresh(s);
	if (err) {
		symbolizer_free(s);
		return err;
	}
	*out = s;
	return 0;
}

/* The name a frame shows for sym, one of mod's symbols or PLT stubs: the
 * demangled name, made once, or the raw one. */
static const char *shown_name(const struct symbolizer *s, struct module *mod,
			      const struct elfsym *sym)
{
	const struct elffile *f = mod->elf;
	size_t n = f->nsyms + f->nplt, i;

	if (s->raw_names)
		return sym->name;
	i = sym >= f->syms && sym < f->syms + f->nsyms ? (size_t)(sym - f->syms) :
							 f->nsyms + (size_t)(sym - f->plt);
	if (!mod->shown) {
		mod->shown = calloc(n, sizeof(*mod->shown));
		mod->shown_done = calloc(n, sizeof(*mod->shown_done));
		if (!mod->shown || !mod->shown_done) {
			free(mod->shown);
			free(mod->shown_done);
			mod->shown = NULL;
			mod->shown_done = NULL;
			return sym->name;
		}
	}
	if (!mod->shown_done[i]) {
		mod->shown[i] = demangle(sym->name);
		mod->shown_done[i] = 1;
	}
	return mod->shown[i] ? mod->shown[i] : sym->name;
}

void symbolizer_set_demangle(struct symbolizer *s, int on)
{
	if (s)
		s->raw_names = !on;
}

void symbolize_user(struct symbolizer *s, uint64_t addr, struct symres *r)
{
	const struct elfsym *sym;
	struct elffile *elf;
	struct module *mod;
	const struct smap *m;
	uint64_t off, vaddr;
	ssize_t i;

	r->func = NULL;
	r->module = "[unknown]";
	r->path = NULL;
	r->offset = addr;
	if (!s || (i = mapvec_find(&s->maps, addr)) < 0)
		return;
	m = &s->maps.v[i];
	mod = m->mod;
	r->module = mod->name;
	r->path = mod->path;
	if (!mod->path) { /* anonymous: JIT code named by a perf map, or raw */
		r->func = perfmap_lookup(s->perfmap, addr, &r->offset);
		if (r->func)
			r->module = "[perf-map]";
		return;
	}
	off = addr - m->start + m->offset;
	r->offset = off;
	elf = module_elf(s, mod);
	mod->used = 1;
	if (!elf || elffile_offset_to_addr(elf, off, &vaddr) != 0)
		return;
	sym = elffile_lookup(elf, vaddr);
	if (sym) {
		r->func = shown_name(s, mod, sym);
		r->offset = vaddr - sym->addr;
	}
}

int symbolizer_in_exec_map(const struct symbolizer *s, uint64_t addr)
{
	return !s || !s->pid || mapvec_find(&s->maps, addr) >= 0;
}

void symbolize_kernel(struct symbolizer *s, uint64_t addr, struct symres *r)
{
	uint64_t off = 0;
	const char *name = NULL;

	if (s && !s->ksyms && !s->ksyms_err)
		s->ksyms_err = kallsyms_load(NULL, &s->ksyms);
	if (s && s->ksyms)
		name = kallsyms_lookup(s->ksyms, addr, &off);
	r->func = name;
	r->module = "[kernel]";
	r->path = NULL;
	r->offset = name ? off : addr;
}

void symbolizer_forget_used(struct symbolizer *s)
{
	for (size_t i = 0; s && i < s->nmods; i++)
		s->mods[i]->used = 0;
}

void symbolizer_source_notes(struct symbolizer *s, void (*fn)(void *ctx, const char *line),
			     void *ctx)
{
	char line[512];

	for (size_t i = 0; s && i < s->nmods; i++) {
		struct module *mod = s->mods[i];

		if (!mod->used || !mod->path || mod->path[0] != '/')
			continue;
		if (elffile_source_note(module_elf(s, mod), mod->name, line, sizeof(line)))
			fn(ctx, line);
	}
}

void symbolizer_free(struct symbolizer *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->nmods; i++) {
		struct module *mod = s->mods[i];

		if (mod->fd >= 0)
			close(mod->fd);
		for (size_t j = 0; mod->shown && j < mod->elf->nsyms + mod->elf->nplt; j++)
			free(mod->shown[j]);
		free(mod->shown);
		free(mod->shown_done);
		elffile_free(mod->elf);
		free(mod->path);
		free(mod);
	}
	free(s->mods);
	free(s->maps.v);
	kallsyms_free(s->ksyms);
	perfmap_free(s->perfmap);
	if (s->perfmap_fd >= 0)
		close(s->perfmap_fd);
	if (s->rootfd >= 0)
		close(s->rootfd);
	free(s);
}
