/* The target's unwind tables in BPF maps (see tables.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "symbols/procmaps.h"
#include "symbols/vdso.h"
#include "unwind/cfi.h"
#include "unwind/tables.h"
#include "util/util.h"

/* A file seen in the target: its table, and where its rows are. */
struct ufile {
	uint64_t dev, ino;
	struct cfi_table cfi;
	uint32_t id; /* index in unwind_files, or UNWIND_NO_FILE / UNWIND_TOO_LARGE */
};

struct unwind_tables {
	struct unwind_tables_opts o;
	struct ufile *files;
	size_t nfiles, cap;
	uint32_t next_file;
	uint32_t next_row;
	struct unwind_tables_stats st;
};

int unwind_tables__new(const struct unwind_tables_opts *o, struct unwind_tables **out)
{
	struct unwind_tables *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	t->o = *o;
	*out = t;
	return 0;
}

/* Copies f's rows into the rows array and gives it a file index. */
static int load_rows(struct unwind_tables *t, struct ufile *f)
{
	struct unwind_file uf = { t->next_row, (uint32_t)f->cfi.n };
	uint32_t id = t->next_file, *keys;
	__u32 count = uf.n;
	int err;

	if (!f->cfi.n) {
		f->id = UNWIND_NO_FILE;
		return 0;
	}
	if (id >= UNWIND_MAX_FILES || f->cfi.n > UNWIND_MAX_ROWS - t->next_row) {
		f->id = UNWIND_TOO_LARGE;
		t->st.too_large++;
		return 0;
	}
	keys = malloc(uf.n * sizeof(*keys));
	if (!keys)
		return -ENOMEM;
	for (uint32_t i = 0; i < uf.n; i++)
		keys[i] = uf.first + i;
	/* One syscall for the file's rows. */
	err = bpf_map_update_batch(t->o.rows_fd, keys, f->cfi.rows, &count, NULL) ? -errno : 0;
	free(keys);
	if (err)
		return err;
	if (bpf_map_update_elem(t->o.files_fd, &id, &uf, BPF_ANY))
		return -errno;
	t->next_row += uf.n;
	t->next_file++;
	t->st.files++;
	t->st.bytes += uf.n * sizeof(struct unwind_row);
	f->id = id;
	return 0;
}

/* The vdso's key among the files (no file has it). */
#define VDSO_DEV UINT64_MAX
#define VDSO_INO UINT64_MAX

/* The vdso's CFI, from the target's own vdso image (symbols/vdso.h). */
static int vdso_cfi(pid_t pid, const struct procmap *m, struct cfi_table *cfi)
{
	size_t size;
	void *img;
	int err = vdso_copy(pid, m, &img, &size);

	if (err)
		return err;
	err = cfi_table_build_image(img, size, cfi);
	free(img);
	return err;
}

/* The file of a mapping, its table built on first sight. */
static struct ufile *file_of(struct unwind_tables *t, pid_t pid, const struct procmap *m)
{
	char path[4200], root[64];
	struct stat sb;
	struct ufile *f;
	uint64_t t0;
	int err;

	snprintf(root, sizeof(root), "/proc/%d/root", (int)pid);
	snprintf(path, sizeof(path), "%s%s", root, m->path);
	if (!strcmp(m->path, "[vdso]")) {
		sb.st_dev = VDSO_DEV;
		sb.st_ino = VDSO_INO;
	} else if (m->path[0] != '/' || stat(path, &sb)) {
		return NULL;
	}
	for (size_t i = 0; i < t->nfiles; i++)
		if (t->files[i].dev == sb.st_dev && t->files[i].ino == sb.st_ino)
			return &t->files[i];
	if (array_grow((void **)&t->files, &t->cap, t->nfiles + 1, sizeof(*t->files)))
		return NULL;
	f = &t->files[t->nfiles];
	f->dev = sb.st_dev;
	f->ino = sb.st_ino;
	t0 = now_ns();
	err = f->dev == VDSO_DEV ? vdso_cfi(pid, m, &f->cfi) : cfi_table_build(path, root, &f->cfi);
	t->st.build_ns += now_ns() - t0;
	if (err == -E2BIG) {
		f->id = UNWIND_TOO_LARGE;
		t->st.too_large++;
	} else if (err || load_rows(t, f)) {
		cfi_table_free(&f->cfi);
		return NULL;
	}
	ebprof_verbose(1, "unwind: %s: %zu rows from %s", m->path, f->cfi.n,
		       f->cfi.source ? f->cfi.source : "no CFI");
	t->nfiles++;
	return f;
}

int unwind_tables__update(struct unwind_tables *t, pid_t pid, const struct procmaps *pm)
{
	uint32_t n = 0, zero = 0;
	uint64_t files0 = t->nfiles, ns0 = t->st.build_ns;
	int err = 0;

	t->st.mappings_left = 0;
	/* /proc/PID/maps is sorted by address. */
	for (size_t i = 0; i < pm->n; i++) {
		const struct procmap *m = &pm->maps[i];
		struct unwind_mapping um = { m->start, m->end, 0, UNWIND_NO_FILE };
		struct ufile *f;
		unsigned long bias;

		if (m->perms[2] != 'x')
			continue;
		if (n >= UNWIND_MAX_MAPPINGS) {
			t->st.mappings_left++;
			continue;
		}
		f = m->path && (m->path[0] == '/' || !strcmp(m->path, "[vdso]")) ?
			    file_of(t, pid, m) :
			    NULL;
		if (f && (f->id == UNWIND_TOO_LARGE ||
			  (f->id != UNWIND_NO_FILE &&
			   !cfi_table_bias(&f->cfi, m->start, m->offset, &bias)))) {
			um.file = f->id;
			um.bias = f->id == UNWIND_TOO_LARGE ? 0 : bias;
		}
		if (bpf_map_update_elem(t->o.maps_fd, &n, &um, BPF_ANY)) {
			err = -errno;
			break;
		}
		n++;
	}
	/* The entries are written in place; a walk during the rewrite may
	 * see one mapping of the old order (one sample's stack at most). */
	if (!err && bpf_map_update_elem(t->o.nmaps_fd, &zero, &n, BPF_ANY))
		err = -errno;
	if (t->nfiles > files0)
		ebprof_verbose(1,
			       "unwind: tables of %zu new files built in %.1f ms; %llu files, "
			       "%.1f KiB of rows loaded",
			       (size_t)(t->nfiles - files0), (double)(t->st.build_ns - ns0) / 1e6,
			       (unsigned long long)t->st.files, (double)t->st.bytes / 1024);
	return err;
}

void unwind_tables__stats(const struct unwind_tables *t, struct unwind_tables_stats *st)
{
	*st = t->st;
}

void unwind_tables__free(struct unwind_tables *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nfiles; i++)
		cfi_table_free(&t->files[i].cfi);
	free(t->files);
	free(t);
}
