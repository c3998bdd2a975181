/* Probe layer: patterns -> functions to probe (file + offset).
 * GLOB matches the executable's function symbols; LIB:GLOB a shared
 * library's, found in /proc/PID/maps or, for a launched target not yet
 * exec'd, through the executable's DT_NEEDED and the library path. */
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "symbols/elfsym.h"
#include "probe/resolve.h"
#include "symbols/procmaps.h"
#include "util/util.h"

#define MAX_NEEDED 256 /* libraries followed through DT_NEEDED */
#define MAX_SUGGEST 5
#define MAX_UNPROBEABLE_NAMED 5 /* functions named in the note */

static const char *const std_lib_dirs[] = {
	"/lib/x86_64-linux-gnu",
	"/usr/lib/x86_64-linux-gnu",
	"/lib64",
	"/usr/lib64",
	"/usr/lib",
	"/lib",
};

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

int uprobe_split_pattern(const char *pattern, char *buf, size_t len, const char **lib,
			 const char **glob)
{
	const char *c = strchr(pattern, ':');

	*lib = NULL;
	*glob = pattern;
	if (!c || c[1] == ':' || c == pattern || strlen(pattern) >= len)
		return 0;
	memcpy(buf, pattern, strlen(pattern) + 1);
	buf[c - pattern] = '\0';
	*lib = buf;
	*glob = buf + (c - pattern) + 1;
	return 1;
}

/* name starts with want followed by ".so" or "-" (libc -> libc.so.6,
 * libc-2.36.so). */
static int prefix_lib(const char *name, const char *want)
{
	size_t n = strlen(want);

	if (strncmp(name, want, n) != 0)
		return 0;
	/* A soname names its versioned file too (libstdc++.so.6 is
	 * libstdc++.so.6.0.30). */
	return strncmp(name + n, ".so", 3) == 0 || name[n] == '-' ||
	       (name[n] == '.' && strstr(want, ".so."));
}

int uprobe_lib_matches(const char *path, const char *want)
{
	const char *name = base_name(path);
	char lib[NAME_MAX + 1];

	if (!*want)
		return 0;
	if (strchr(want, '/'))
		return strcmp(path, want) == 0;
	if (strcmp(name, want) == 0 || prefix_lib(name, want))
		return 1;
	if (strncmp(want, "lib", 3) != 0 &&
	    snprintf(lib, sizeof(lib), "lib%s", want) < (int)sizeof(lib))
		return prefix_lib(name, lib);
	return 0;
}

unsigned uprobe_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	unsigned row[256], prev, tmp, best;

	if (la > 255 || lb > 255)
		return 255;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			tmp = row[j];
			best = prev + (a[i - 1] != b[j - 1]);
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = tmp;
		}
	}
	return row[lb] > 255 ? 255 : row[lb];
}

/* The glob's literal text, lower-cased, glob characters dropped. */
static void literal_of(const char *glob, char *buf, size_t len)
{
	size_t n = 0;

	for (; *glob && n + 1 < len; glob++) {
		if (strchr("*?[]\\", *glob))
			continue;
		buf[n++] = (*glob >= 'A' && *glob <= 'Z') ? *glob - 'A' + 'a' : *glob;
	}
	buf[n] = '\0';
}

static int contains_ci(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	if (!n)
		return 0;
	for (; *hay; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return 1;
	return 0;
}

size_t uprobe_suggest(const char *glob, const char *const *names, size_t n, char *buf, size_t len,
		      size_t max)
{
	char lit[256];
	size_t best[MAX_SUGGEST], score[MAX_SUGGEST], nbest = 0, i, j, out = 0;
	unsigned limit;

	literal_of(glob, lit, sizeof(lit));
	limit = strlen(lit) / 3 + 1;
	if (limit < 2)
		limit = 2;
	if (max > MAX_SUGGEST)
		max = MAX_SUGGEST;
	for (i = 0; i < n; i++) {
		size_t sc;

		if (contains_ci(names[i], lit))
			sc = strlen(names[i]) - strlen(lit); /* 0: same, small: close */
		else {
			unsigned d = uprobe_edit_distance(lit, names[i]);

			if (d > limit)
				continue;
			sc = 1000 + d;
		}
		/* skip duplicates, insert sorted by score */
		for (j = 0; j < nbest; j++)
			if (strcmp(names[best[j]], names[i]) == 0)
				break;
		if (j < nbest)
			continue;
		for (j = nbest; j > 0 && score[j - 1] > sc; j--) {
			if (j < max) {
				best[j] = best[j - 1];
				score[j] = score[j - 1];
			}
		}
		if (j < max) {
			best[j] = i;
			score[j] = sc;
			if (nbest < max)
				nbest++;
		}
	}
	if (len)
		buf[0] = '\0';
	for (i = 0; i < nbest; i++) {
		size_t used = strlen(buf);

		if (snprintf(buf + used, len - used, "%s%s", i ? ", " : "", names[best[i]]) >=
		    (int)(len - used))
			break;
		out++;
	}
	return out;
}

/* ---- files and their symbols ---- */

struct rfile {
	char *path;   /* as ebprof opens it (with /proc/PID/root) */
	char *module; /* basename as the target sees it */
	struct elffile *elf;
};

struct resolver {
	const struct uprobe_where *w;
	char root[64]; /* "/proc/PID/root" or "" */
	struct rfile files[MAX_NEEDED + 1];
	size_t nfiles;
	struct procmaps maps;
	int maps_read;
	struct uprobe_targets *out;
	size_t max; /* most targets out takes */
};

/* Each fact once, however many patterns or files bring it up. */
static int add_note(struct uprobe_targets *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int add_note(struct uprobe_targets *t, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	return strlist_has(&t->notes, line) ? 0 : strlist_addf(&t->notes, "%s", line);
}

/* Opens (once) the file ebprof reads at full; module names it. */
static int open_file(struct resolver *r, const char *full, const char *module, struct rfile **out)
{
	char note[512];
	struct rfile *f;
	int err;

	for (size_t i = 0; i < r->nfiles; i++) {
		if (strcmp(r->files[i].path, full) == 0) {
			*out = &r->files[i];
			return 0;
		}
	}
	if (r->nfiles >= sizeof(r->files) / sizeof(r->files[0]))
		return -E2BIG;
	f = &r->files[r->nfiles];
	err = elffile_open(full, r->root[0] ? r->root : NULL, &f->elf);
	if (err) {
		ebprof_err("cannot read %s: %s", module, strerror(-err));
		return err;
	}
	f->path = strdup(full);
	f->module = strdup(module);
	if (!f->path || !f->module) {
		free(f->path);
		free(f->module);
		elffile_free(f->elf);
		return -ENOMEM;
	}
	r->nfiles++;
	if (elffile_source_note(f->elf, f->module, note, sizeof(note)))
		add_note(r->out, "%s", note);
	*out = f;
	return 0;
}

/* ---- finding a library ---- */

/* DT_NEEDED names and DT_RUNPATH/DT_RPATH of an ELF file. */
static int read_dynamic(const char *path, char ***needed, size_t *nneeded, char **runpath)
{
	Elf *e;
	Elf_Scn *scn = NULL;
	size_t cap = 0;
	int fd, err = 0;

	*needed = NULL;
	*nneeded = 0;
	*runpath = NULL;
	if (elf_version(EV_CURRENT) == EV_NONE)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	e = elf_begin(fd, ELF_C_READ, NULL);
	if (!e) {
		close(fd);
		return -EINVAL;
	}
	while (!err && (scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		Elf_Data *data;
		size_t n;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNAMIC || !sh.sh_entsize)
			continue;
		data = elf_getdata(scn, NULL);
		if (!data)
			continue;
		n = data->d_size / sh.sh_entsize;
		for (size_t i = 0; i < n; i++) {
			GElf_Dyn d;
			const char *s;

			if (!gelf_getdyn(data, (int)i, &d))
				break;
			if (d.d_tag != DT_NEEDED && d.d_tag != DT_RUNPATH && d.d_tag != DT_RPATH)
				continue;
			s = elf_strptr(e, sh.sh_link, d.d_un.d_val);
			if (!s)
				continue;
			if (d.d_tag == DT_NEEDED) {
				if (array_grow((void **)needed, &cap, *nneeded + 1,
					       sizeof(**needed)) ||
				    !((*needed)[*nneeded] = strdup(s))) {
					err = -ENOMEM;
					break;
				}
				(*nneeded)++;
			} else if (!*runpath || d.d_tag == DT_RUNPATH) {
				free(*runpath);
				if (!(*runpath = strdup(s))) {
					err = -ENOMEM;
					break;
				}
			}
		}
	}
	elf_end(e);
	close(fd);
	if (err) {
		for (size_t i = 0; i < *nneeded; i++)
			free((*needed)[i]);
		free(*needed);
		free(*runpath);
		*needed = NULL;
		*nneeded = 0;
		*runpath = NULL;
	}
	return err;
}

/* dir may start with $ORIGIN (the directory of origin). */
static int try_dir(const char *dir, size_t dlen, const char *origin, const char *name, char *out,
		   size_t len)
{
	char d[PATH_MAX];

	if (dlen == 0 || dlen >= sizeof(d))
		return 0;
	memcpy(d, dir, dlen);
	d[dlen] = '\0';
	if (strncmp(d, "$ORIGIN", 7) == 0) {
		if (snprintf(out, len, "%s%s/%s", origin, d + 7, name) >= (int)len)
			return 0;
	} else if (snprintf(out, len, "%s/%s", d, name) >= (int)len) {
		return 0;
	}
	return access(out, R_OK) == 0;
}

static int try_path_list(const char *list, const char *origin, const char *name, char *out,
			 size_t len)
{
	while (list && *list) {
		const char *end = strchr(list, ':');
		size_t n = end ? (size_t)(end - list) : strlen(list);

		if (try_dir(list, n, origin, name, out, len))
			return 1;
		list = end ? end + 1 : NULL;
	}
	return 0;
}

/* Where the dynamic loader would find needed for a file in origin. */
static int search_lib(const char *name, const char *runpath, const char *origin, char *out,
		      size_t len)
{
	if (strchr(name, '/'))
		return snprintf(out, len, "%s", name) < (int)len && access(out, R_OK) == 0;
	if (try_path_list(getenv("LD_LIBRARY_PATH"), origin, name, out, len) ||
	    try_path_list(runpath, origin, name, out, len))
		return 1;
	for (size_t i = 0; i < sizeof(std_lib_dirs) / sizeof(std_lib_dirs[0]); i++)
		if (try_dir(std_lib_dirs[i], strlen(std_lib_dirs[i]), origin, name, out, len))
			return 1;
	return 0;
}

/* The files the dynamic loader loads for the executable, breadth first
 * through DT_NEEDED (its own search order): visit(path, needed name, arg)
 * for each until it returns nonzero (what this returns; 0 when none did,
 * negative errno). */
static int needed_walk(struct resolver *r, int (*visit)(const char *, const char *, void *),
		       void *arg)
{
	char *queue[MAX_NEEDED], path[PATH_MAX];
	size_t head = 0, tail = 0;
	int found = 0;

	if (!(queue[tail++] = strdup(r->w->exe_open)))
		return -ENOMEM;
	while (head < tail && !found) {
		char *cur = queue[head++], **needed, *runpath, origin[PATH_MAX];
		size_t nneeded;
		int err;

		snprintf(origin, sizeof(origin), "%s", cur);
		if (strrchr(origin, '/'))
			*strrchr(origin, '/') = '\0';
		err = read_dynamic(cur, &needed, &nneeded, &runpath);
		if (err == -ENOMEM) {
			found = err;
			break;
		}
		if (err)
			continue; /* a file that cannot be read: its libraries stay unknown */
		for (size_t i = 0; i < nneeded; i++) {
			int seen = 0;

			if (!found && search_lib(needed[i], runpath, origin, path, sizeof(path))) {
				found = visit(path, needed[i], arg);
				for (size_t j = 0; j < tail; j++)
					seen |= strcmp(queue[j], path) == 0;
				if (!seen && tail < MAX_NEEDED)
					queue[tail++] = strdup(path);
				if (tail && !queue[tail - 1])
					tail--;
			}
			free(needed[i]);
		}
		free(needed);
		free(runpath);
	}
	for (size_t i = 0; i < tail; i++)
		free(queue[i]);
	return found;
}

struct lib_match {
	const char *lib;
	char *out;
	size_t len;
};

static int visit_match(const char *path, const char *needed, void *arg)
{
	struct lib_match *m = arg;

	if (!uprobe_lib_matches(path, m->lib) && !uprobe_lib_matches(needed, m->lib))
		return 0;
	snprintf(m->out, m->len, "%s", path);
	return 1;
}

/* Launched target, before exec: breadth first through DT_NEEDED. */
static int find_lib_needed(struct resolver *r, const char *lib, char *out, size_t len)
{
	struct lib_match m = { lib, out, len };

	return needed_walk(r, visit_match, &m);
}

/* A library mapped by the target: out gets its path as the target's maps
 * name it (for the report), open its exact file through
 * /proc/PID/map_files, which holds whatever the path means on the host
 * (chroots, containers' mount namespaces, replaced or deleted files). */
static int find_lib_mapped(struct resolver *r, const char *lib, char *out, size_t len,
			   char *open_path, size_t open_len)
{
	int err;

	if (!r->maps_read) {
		err = procmaps_read(r->w->pid, &r->maps);
		if (err)
			return err;
		r->maps_read = 1;
	}
	for (size_t i = 0; i < r->maps.n; i++) {
		const struct procmap *m = &r->maps.maps[i];

		if (m->path && m->path[0] == '/' && uprobe_lib_matches(m->path, lib)) {
			snprintf(out, len, "%s", m->path);
			snprintf(open_path, open_len, "/proc/%d/map_files/%" PRIx64 "-%" PRIx64,
				 (int)r->w->pid, m->start, m->end);
			return 1;
		}
	}
	return 0;
}

/* The file of library lib: its path as the target sees it in out, the
 * path ebprof opens and probes in open_path. */
static int locate(struct resolver *r, const char *lib, char *out, size_t len, char *open_path,
		  size_t open_len)
{
	int found;

	if (r->w->launched) {
		found = find_lib_needed(r, lib, out, len);
		if (found == 0 && strchr(lib, '/') && access(lib, R_OK) == 0) {
			snprintf(out, len, "%s", lib);
			found = 1;
		}
		if (found > 0)
			snprintf(open_path, open_len, "%s", out);
	} else {
		found = find_lib_mapped(r, lib, out, len, open_path, open_len);
	}
	if (found < 0) {
		if (r->w->launched)
			ebprof_err("cannot search the libraries of %s: %s", r->w->exe_open,
				   strerror(-found));
		else
			ebprof_err("cannot read the mappings of pid %d: %s", r->w->pid,
				   strerror(-found));
		return found;
	}
	if (!found) {
		if (r->w->launched)
			ebprof_err("library '%s' not found among the libraries %s needs", lib,
				   base_name(r->w->exe));
		else
			ebprof_err("library '%s' is not loaded in pid %d", lib, r->w->pid);
		return -ENOENT;
	}
	return 0;
}

/* ---- matching ---- */

int uprobe_insn_unprobeable(const uint8_t *b, size_t n)
{
#if defined(__x86_64__)
	size_t i = 0;

	/* x86 uprobes refuse a first instruction with a lock or ES/CS/SS/DS
	 * prefix, and VEX-encoded ones (AVX; EVEX-encoded ones are taken). */
	for (; i < n; i++) {
		if (b[i] == 0xf0 || b[i] == 0x26 || b[i] == 0x2e || b[i] == 0x36 || b[i] == 0x3e)
			return 1;
		if (b[i] != 0x66 && b[i] != 0x67 && b[i] != 0xf2 && b[i] != 0xf3 && b[i] != 0x64 &&
		    b[i] != 0x65)
			break;
	}
	if (i < n && (b[i] & 0xf0) == 0x40) /* REX */
		i++;
	return i < n && (b[i] == 0xc4 || b[i] == 0xc5);
#else
	(void)b;
	(void)n;
	return 0;
#endif
}

/* Functions matched but left out because uprobes cannot be placed there. */
struct unprobeable {
	size_t n;
	char names[256];
};

static void unprobeable_add(struct unprobeable *u, const char *name)
{
	size_t len = strlen(u->names);

	if (u->n++ < MAX_UNPROBEABLE_NAMED)
		snprintf(u->names + len, sizeof(u->names) - len, "%s%s", len ? ", " : "", name);
}

/* 1 when the instruction at file offset off of fd cannot take a uprobe. */
static int unprobeable_at(int fd, uint64_t off)
{
	uint8_t b[16];
	ssize_t got;

	if (fd < 0)
		return 0;
	got = pread(fd, b, sizeof(b), (off_t)off);
	return got > 0 && uprobe_insn_unprobeable(b, (size_t)got);
}

static int add_target(struct resolver *r, const struct rfile *f, const char *name, uint64_t off)
{
	struct uprobe_targets *t = r->out;
	struct uprobe_target *v;

	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].offset == off && strcmp(t->v[i].path, f->path) == 0)
			return 0;
	if (t->n >= r->max) {
		t->dropped++;
		return 0;
	}
	if (array_grow((void **)&t->v, &t->cap, t->n + 1, sizeof(*t->v)))
		return -ENOMEM;
	v = &t->v[t->n];
	v->name = strdup(name);
	v->module = strdup(f->module);
	v->path = strdup(f->path);
	v->offset = off;
	if (!v->name || !v->module || !v->path) {
		free(v->name);
		free(v->module);
		free(v->path);
		return -ENOMEM;
	}
	t->n++;
	return 0;
}

static void no_match(const struct rfile *f, const char *pattern, const char *glob)
{
	const char **names = calloc(f->elf->nsyms + 1, sizeof(*names));
	char sugg[512] = "";

	if (names) {
		for (size_t i = 0; i < f->elf->nsyms; i++)
			names[i] = f->elf->syms[i].name;
		uprobe_suggest(glob, names, f->elf->nsyms, sugg, sizeof(sugg), MAX_SUGGEST);
		free(names);
	}
	if (f->elf->nsyms == 0)
		ebprof_usage("no function matches '%s': %s has no function symbols", pattern,
			     f->module);
	else if (sugg[0])
		ebprof_usage("no function in %s matches '%s'; did you mean: %s?", f->module,
			     pattern, sugg);
	else
		ebprof_usage("no function in %s matches '%s' (and none is close)", f->module,
			     pattern);
}

static int resolve_one(struct resolver *r, const char *pattern)
{
	char buf[1024], tpath[PATH_MAX], full[PATH_MAX];
	const char *lib, *glob;
	struct unprobeable u = { 0 };
	struct rfile *f;
	size_t matched = 0;
	int err, fd;

	uprobe_split_pattern(pattern, buf, sizeof(buf), &lib, &glob);
	if (!*glob) {
		ebprof_usage("empty function pattern in '%s'", pattern);
		return -EINVAL;
	}
	if (lib) {
		err = locate(r, lib, tpath, sizeof(tpath), full, sizeof(full));
		if (err)
			return err;
		err = open_file(r, full, base_name(tpath), &f);
	} else {
		err = open_file(r, r->w->exe_open, base_name(r->w->exe), &f);
	}
	if (err)
		return err;
	fd = open(f->path, O_RDONLY | O_CLOEXEC);
	for (size_t i = 0; i < f->elf->nsyms && !err; i++) {
		const struct elfsym *s = &f->elf->syms[i];
		uint64_t off;

		if (!s->addr || !s->name || fnmatch(glob, s->name, 0) != 0)
			continue;
		if (elffile_addr_to_offset(f->elf, s->addr, &off) != 0)
			continue;
		matched++;
		if (unprobeable_at(fd, off))
			unprobeable_add(&u, s->name);
		else
			err = add_target(r, f, s->name, off);
	}
	if (fd >= 0)
		close(fd);
	if (err)
		return err;
	if (!matched) {
		no_match(f, pattern, glob);
		return -ENOENT;
	}
	if (u.n == matched) {
		ebprof_err("cannot trace %s in %s: uprobes cannot be placed on %s first "
			   "instruction (lock prefix or AVX)",
			   u.names, f->module, u.n == 1 ? "its" : "their");
		return -EOPNOTSUPP;
	}
	if (u.n)
		err = add_note(r->out,
			       "%zu function%s in %s not traced: uprobes cannot be placed "
			       "on %s first instruction (lock prefix or AVX): %s%s",
			       u.n, u.n == 1 ? "" : "s", f->module, u.n == 1 ? "its" : "their",
			       u.names, u.n > MAX_UNPROBEABLE_NAMED ? ", ..." : "");
	return err;
}

void uprobe_targets_free(struct uprobe_targets *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->v[i].name);
		free(t->v[i].module);
		free(t->v[i].path);
	}
	free(t->v);
	strlist_free(&t->notes);
	memset(t, 0, sizeof(*t));
}

/* A resolver filling out (emptied) with at most max targets; NULL when out
 * of memory. */
static struct resolver *resolver_new(const struct uprobe_where *w, struct uprobe_targets *out,
				     size_t max)
{
	struct resolver *r = calloc(1, sizeof(*r));

	memset(out, 0, sizeof(*out));
	if (!r)
		return NULL;
	r->w = w;
	r->out = out;
	r->max = max;
	if (!w->launched && w->pid > 0)
		snprintf(r->root, sizeof(r->root), "/proc/%d/root", (int)w->pid);
	return r;
}

/* Frees r; on err (returned) its targets too. */
static int resolver_free(struct resolver *r, int err)
{
	for (size_t i = 0; i < r->nfiles; i++) {
		elffile_free(r->files[i].elf);
		free(r->files[i].path);
		free(r->files[i].module);
	}
	if (r->maps_read)
		procmaps_free(&r->maps);
	if (err)
		uprobe_targets_free(r->out);
	free(r);
	return err;
}

int uprobe_resolve(const struct uprobe_where *w, const char *const *patterns, size_t npatterns,
		   size_t max, struct uprobe_targets *out)
{
	struct resolver *r = resolver_new(w, out, max);
	int err = 0;

	if (!r)
		return -ENOMEM;
	for (size_t i = 0; i < npatterns && !err; i++)
		err = resolve_one(r, patterns[i]);
	return resolver_free(r, err);
}

/* ---- the allocator the target binds to ---- */

struct provider {
	struct resolver *r;
	const char *anchor; /* the function that picks the file ("malloc") */
	struct rfile *f;    /* the first file that defines it */
	int err;
};

/* f's function named name (versions ignored), or NULL. */
static const struct elfsym *file_defines(const struct rfile *f, const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < f->elf->nsyms; i++) {
		const struct elfsym *s = &f->elf->syms[i];

		if (s->addr && s->name && strcspn(s->name, "@") == n && !strncmp(s->name, name, n))
			return s;
	}
	return NULL;
}

/* 1 when the file ebprof opens at full (the target's tpath) defines the
 * anchor: it is the provider. */
static int try_provider(struct provider *p, const char *full, const char *tpath)
{
	struct rfile *f;

	p->err = open_file(p->r, full, base_name(tpath), &f);
	if (p->err)
		return 1;
	if (!file_defines(f, p->anchor))
		return 0;
	p->f = f;
	return 1;
}

/* A library the target loads, by name or path: tries it where the target
 * has it (mapped), or where the loader will find it (launched). */
static int try_library(struct provider *p, const char *lib)
{
	char tpath[PATH_MAX], full[PATH_MAX];
	int found;

	if (p->r->w->launched) {
		if (strchr(lib, '/'))
			found = snprintf(tpath, sizeof(tpath), "%s", lib) < (int)sizeof(tpath) &&
				access(tpath, R_OK) == 0;
		else
			found = search_lib(lib, NULL, "", tpath, sizeof(tpath));
		snprintf(full, sizeof(full), "%s", tpath);
	} else {
		found = find_lib_mapped(p->r, base_name(lib), tpath, sizeof(tpath), full,
					sizeof(full));
		if (found < 0)
			return p->err = found, 1;
	}
	return found > 0 ? try_provider(p, full, tpath) : 0;
}

static int visit_provider(const char *path, const char *needed, void *arg)
{
	(void)needed;
	return try_library(arg, path);
}

/* LD_PRELOAD as the target has it: ebprof's own environment for a launched
 * command (it inherits it), /proc/PID/environ otherwise.  Entries are
 * separated by spaces or colons. */
static int try_preloads(struct provider *p)
{
	char path[64], *env = NULL, *own = NULL, *save, *tok;
	size_t len = 0;

	if (p->r->w->launched) {
		if (getenv("LD_PRELOAD") && !(own = strdup(getenv("LD_PRELOAD"))))
			return p->err = -ENOMEM, 1;
	} else {
		snprintf(path, sizeof(path), "/proc/%d/environ", (int)p->r->w->pid);
		if (read_path_all(path, &env, &len) == 0)
			for (size_t i = 0; i < len && !own; i += strlen(env + i) + 1)
				if (!strncmp(env + i, "LD_PRELOAD=", 11) &&
				    !(own = strdup(env + i + 11)))
					p->err = -ENOMEM;
		free(env);
	}
	for (tok = own ? strtok_r(own, " :", &save) : NULL; tok && !p->f && !p->err;
	     tok = strtok_r(NULL, " :", &save))
		try_library(p, tok);
	free(own);
	return p->f || p->err;
}

/* uprobe_resolve_provider; quiet: no line when no file defines anchor. */
static int resolve_provider(const struct uprobe_where *w, const char *lib, const char *anchor,
			    const char *const *names, size_t n, struct uprobe_targets *out,
			    int quiet)
{
	struct resolver *r = resolver_new(w, out, n);
	struct provider p = { .r = r, .anchor = anchor };
	char tpath[PATH_MAX], full[PATH_MAX];
	struct unprobeable u = { 0 };
	int err = 0, fd;

	if (!r)
		return -ENOMEM;
	if (lib) {
		err = locate(r, lib, tpath, sizeof(tpath), full, sizeof(full));
		if (!err && !try_provider(&p, full, tpath)) {
			ebprof_usage("--allocator %s: %s does not define %s", lib, base_name(tpath),
				     anchor);
			err = -ENOENT;
		}
	} else if (!try_provider(&p, w->exe_open, w->exe) && !try_preloads(&p)) {
		err = needed_walk(r, visit_provider, &p);
		if (err > 0)
			err = 0;
		if (!err && !p.f && !p.err) {
			if (!quiet)
				ebprof_err("no library of %s defines %s", base_name(w->exe),
					   anchor);
			err = -ENOENT;
		}
	}
	if (!err)
		err = p.err;
	fd = !err && p.f ? open(p.f->path, O_RDONLY | O_CLOEXEC) : -1;
	for (size_t i = 0; i < n && !err && p.f; i++) {
		const struct elfsym *s = file_defines(p.f, names[i]);
		uint64_t off;

		if (!s || elffile_addr_to_offset(p.f->elf, s->addr, &off) != 0)
			continue;
		if (unprobeable_at(fd, off))
			unprobeable_add(&u, names[i]);
		else
			err = add_target(r, p.f, names[i], off);
	}
	if (fd >= 0)
		close(fd);
	if (!err && u.n)
		err = add_note(out,
			       "not traced in %s: uprobes cannot be placed on the first "
			       "instruction of %s",
			       p.f->module, u.names);
	return resolver_free(r, err);
}

int uprobe_resolve_provider(const struct uprobe_where *w, const char *lib, const char *anchor,
			    const char *const *names, size_t n, struct uprobe_targets *out)
{
	return resolve_provider(w, lib, anchor, names, n, out, 0);
}

int uprobe_resolve_optional(const struct uprobe_where *w, const char *anchor,
			    const char *const *names, size_t n, struct uprobe_targets *out)
{
	return resolve_provider(w, NULL, anchor, names, n, out, 1);
}

int uprobe_resolve_binding(const struct uprobe_where *w, const char *name,
			   struct uprobe_targets *out)
{
	return resolve_provider(w, NULL, name, &name, 1, out, 1);
}
