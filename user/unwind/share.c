/* The run's unwind tables and symbolizer (see share.h). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "symbols/procmaps.h"
#include "symbols/symbolize.h"
#include "unwind/share.h"
#include "unwind/tables.h"
#include "util/util.h"

enum { M_ROWS, M_FILES, M_MAPS, M_NMAPS, M_N };

/* The maps of bpf/unwind.bpf.h (arrays keyed by __u32; unwind_rows an
 * array of maps, one array of rows per file): a reusing object's
 * definition must match, or its load fails. */
static const struct {
	const char *name;
	__u32 value_size, max_entries;
} defs[M_N] = {
	[M_ROWS] = { "unwind_rows", sizeof(__u32), UNWIND_MAX_FILES },
	[M_FILES] = { "unwind_files", sizeof(struct unwind_file), UNWIND_MAX_FILES },
	[M_MAPS] = { "unwind_maps", sizeof(struct unwind_mapping), 2 * UNWIND_MAX_MAPPINGS },
	/* unwind_nmaps: the one __u32 of its data section */
	[M_NMAPS] = { ".data.unwind", sizeof(__u32), 1 },
};

struct unwind_share {
	enum unwind_mode mode;
	pid_t pid;
	int launched;
	int demangle;		      /* the symbolizer's names (symbolizer_set_demangle) */
	int fds[M_N];		      /* -1 until the first __use */
	int users;		      /* objects reusing them */
	uint64_t map_bytes;	      /* their memory, as the kernel charges it */
	struct unwind_tables *tables; /* NULL with --unwind fp */
	struct symbolizer *sym;	      /* from the first reading on */
	int gone;		      /* the target's mappings can no longer be read */
	/* A running target's first reading, built on a thread of its own
	 * while the collectors' objects load (the verifier's time and the
	 * tables' overlap on two CPUs); joined before anything else reads
	 * or changes what it makes. */
	pthread_t builder;
	int building;
	int build_err;
};

int unwind_share__new(enum unwind_mode mode, pid_t pid, int launched, int demangle,
		      struct unwind_share **out)
{
	struct unwind_share *sh = calloc(1, sizeof(*sh));

	*out = sh;
	if (!sh)
		return -ENOMEM;
	sh->mode = mode;
	sh->pid = pid;
	sh->launched = launched;
	sh->demangle = demangle;
	for (int i = 0; i < M_N; i++)
		sh->fds[i] = -1;
	return 0;
}

/* The kernel's memlock figure of a map fd (its memory), 0 if unknown. */
static uint64_t map_memlock(int fd)
{
	char path[64], line[128];
	unsigned long long v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %llu", &v) == 1)
			break;
	fclose(f);
	return v;
}

/* The maps, full size unless nothing walks (--unwind fp), and the
 * tables writing into them.  The rows' arrays come with the files
 * (user/unwind/tables.c); unwind_rows is made from a template of them. */
static int make_maps(struct unwind_share *sh)
{
	struct unwind_tables_opts o;
	int inner = unwind_tables__rows_map(1);

	if (inner < 0)
		return inner;
	for (int i = 0; i < M_N; i++) {
		__u32 n = sh->mode == UNWIND_MODE_FP ? 1 : defs[i].max_entries;

		/* As libbpf makes a data section's map. */
		LIBBPF_OPTS(bpf_map_create_opts, mo, .map_flags = i == M_NMAPS ? BPF_F_MMAPABLE : 0,
			    .inner_map_fd = i == M_ROWS ? (__u32)inner : 0);

		sh->fds[i] = bpf_map_create(
			i == M_ROWS ? BPF_MAP_TYPE_ARRAY_OF_MAPS : BPF_MAP_TYPE_ARRAY,
			defs[i].name + (i == M_NMAPS), sizeof(__u32), defs[i].value_size, n, &mo);
		if (sh->fds[i] < 0) {
			int err = -errno;

			close(inner);
			return err;
		}
		sh->map_bytes += map_memlock(sh->fds[i]);
	}
	close(inner);
	ebprof_verbose(
		1, "unwind: one set of unwind maps for the run: %.1f MiB (and each file's rows)",
		(double)sh->map_bytes / (1 << 20));
	if (sh->mode == UNWIND_MODE_FP)
		return 0;
	o = (struct unwind_tables_opts){ .rows_fd = sh->fds[M_ROWS],
					 .files_fd = sh->fds[M_FILES],
					 .maps_fd = sh->fds[M_MAPS],
					 .nmaps_fd = sh->fds[M_NMAPS] };
	return unwind_tables__new(&o, &sh->tables);
}

/* The run's symbolizer for pid (0: kernel only), as the options name. */
static int new_symbolizer(struct unwind_share *sh, pid_t pid)
{
	int err = symbolizer_new(pid, &sh->sym);

	if (!err)
		symbolizer_set_demangle(sh->sym, sh->demangle);
	return err;
}

/* One reading of the mappings into the symbolizer, then the tables:
 * building tables can take longer than a short command lives.  With
 * loud, one line on failure. */
static int refresh(struct unwind_share *sh, int loud)
{
	struct procmaps pm = { 0 };
	int err;

	if (!sh || !sh->users || sh->gone)
		return 0;
	err = procmaps_read(sh->pid, &pm);
	if (err) {
		sh->gone = err == -ESRCH;
		if (loud)
			ebprof_err("cannot read the mappings of pid %d: %s", (int)sh->pid,
				   strerror(-err));
		return err;
	}
	/* A new symbolizer reads them itself, once. */
	err = sh->sym ? symbolizer_update(sh->sym, &pm) : new_symbolizer(sh, sh->pid);
	if (err && loud)
		ebprof_err("cannot read the mappings of pid %d: %s", (int)sh->pid, strerror(-err));
	if (!err && sh->tables) {
		err = unwind_tables__update(sh->tables, sh->pid, &pm);
		if (err && loud)
			ebprof_err("cannot load the unwind tables of pid %d: %s", (int)sh->pid,
				   strerror(-err));
	}
	procmaps_free(&pm);
	return err;
}

static void *build_main(void *arg)
{
	struct unwind_share *sh = arg;

	sh->build_err = refresh(sh, 1);
	return NULL;
}

/* The first reading done (its thread joined); its result, once. */
static int join_build(struct unwind_share *sh)
{
	int err;

	if (!sh || !sh->building)
		return 0;
	pthread_join(sh->builder, NULL);
	sh->building = 0;
	err = sh->build_err;
	sh->build_err = 0;
	return err;
}

int unwind_share__use(struct unwind_share *sh, struct bpf_object *obj)
{
	const char *name = bpf_object__name(obj);
	int err;

	if (sh->fds[0] < 0 && (err = make_maps(sh))) {
		ebprof_err("cannot create the unwind tables' maps: %s", strerror(-err));
		return err;
	}
	for (int i = 0; i < M_N; i++) {
		struct bpf_map *m = bpf_object__find_map_by_name(obj, defs[i].name);

		err = m ? bpf_map__reuse_fd(m, sh->fds[i]) : -ENOENT;
		if (err) {
			ebprof_err("BPF object %s cannot reuse the unwind map %s: %s", name,
				   defs[i].name, strerror(-err));
			return err;
		}
	}
	ebprof_verbose(1, "unwind: %s uses the run's unwind maps (%d object(s))", name,
		       sh->users + 1);
	/* A launched command is ebprof's own fork until released: its
	 * mappings are read from the first update on.  A running target's
	 * are read now, on a thread (synchronously if none can be made). */
	if (sh->users++ || sh->launched)
		return 0;
	sh->building = !pthread_create(&sh->builder, NULL, build_main, sh);
	return sh->building ? 0 : refresh(sh, 1);
}

int unwind_share__ready(struct unwind_share *sh)
{
	return join_build(sh);
}

int unwind_share__used(const struct unwind_share *sh)
{
	return sh && sh->users > 0;
}

int unwind_share__update(struct unwind_share *sh)
{
	join_build(sh);
	return refresh(sh, 0);
}

struct symbolizer *unwind_share__symbolizer(struct unwind_share *sh)
{
	join_build(sh);
	if (!sh->sym && (sh->gone || new_symbolizer(sh, sh->pid)) && new_symbolizer(sh, 0))
		return NULL;
	symbolizer_forget_used(sh->sym);
	return sh->sym;
}

void unwind_share__free(struct unwind_share *sh)
{
	if (!sh)
		return;
	join_build(sh);
	unwind_tables__free(sh->tables);
	symbolizer_free(sh->sym);
	for (int i = 0; i < M_N; i++)
		if (sh->fds[i] >= 0)
			close(sh->fds[i]);
	free(sh);
}
