/* The target's unwind tables in BPF maps (see tables.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
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
	uint64_t rows; /* loaded, of all files */
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

int unwind_tables__rows_map(uint32_t n)
{
	LIBBPF_OPTS(bpf_map_create_opts, mo, .map_flags = BPF_F_INNER_MAP | BPF_F_MMAPABLE);
	int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "unwind_frows", sizeof(__u32),
				sizeof(struct unwind_row), n, &mo);

	return fd < 0 ? -errno : fd;
}

/* The kernel's stride of an array's values: their size rounded up to 8. */
#define ROW_STRIDE ((sizeof(struct unwind_row) + 7) & ~(size_t)7)

/* Copies n rows into the array of fd through its mapping (one memcpy per
 * row, no syscall per row: 1M rows took 0.35 s as a batch update). */
static int fill_rows(int fd, const struct unwind_row *rows, uint32_t n)
{
	size_t len = ((size_t)n * ROW_STRIDE + 4095) & ~(size_t)4095;
	char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	if (m == MAP_FAILED)
		return -errno;
	for (uint32_t i = 0; i < n; i++)
		memcpy(m + (size_t)i * ROW_STRIDE, &rows[i], sizeof(rows[i]));
	munmap(m, len);
	return 0;
}

/* Gives f a file index: its rows into an array of their own, in
 * unwind_rows at that index (which holds the array from then on). */
static int load_rows(struct unwind_tables *t, struct ufile *f)
{
	struct unwind_file uf = { (uint32_t)f->cfi.n, 0 };
	uint32_t id = t->next_file;
	int err, fd;

	if (!f->cfi.n) {
		f->id = UNWIND_NO_FILE;
		return 0;
	}
	if (id >= UNWIND_MAX_FILES || f->cfi.n > UNWIND_MAX_ROWS - t->rows) {
		f->id = UNWIND_TOO_LARGE;
		t->st.too_large++;
		return 0;
	}
	fd = unwind_tables__rows_map(uf.n);
	if (fd < 0)
		return fd;
	err = fill_rows(fd, f->cfi.rows, uf.n);
	if (!err && bpf_map_update_elem(t->o.files_fd, &id, &uf, BPF_ANY))
		err = -errno;
	if (!err && bpf_map_update_elem(t->o.rows_fd, &id, &fd, BPF_ANY))
		err = -errno;
	close(fd);
	if (err)
		return err;
	t->rows += uf.n;
	t->next_file++;
	t->st.files++;
	t->st.bytes += uf.n * ROW_STRIDE;
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
	ebprof_verbose(1, "unwind: %s: %zu rows from %s%s", m->path, f->cfi.n,
		       f->cfi.source ? f->cfi.source : "no CFI",
		       f->id == UNWIND_TOO_LARGE ? ": over a table limit, frame pointers there" :
						   "");
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
