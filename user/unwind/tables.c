/* The target's unwind tables in BPF maps (see tables.h). */
#include <errno.h>
#include <pthread.h>
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
	char *path;  /* until its table is built: where it is read from */
	char *shown; /* its path in the target */
	int err;     /* its build's */
	off_t size;  /* of the file: the largest are built first */
};

struct unwind_tables {
	struct unwind_tables_opts o;
	struct ufile *files;
	size_t nfiles, cap;
	uint64_t rows; /* loaded, of all files */
	uint32_t set;  /* unwind_maps' set in use: 0 or UNWIND_MAPS_SET */
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

/* The kernel's stride of an array's values is their size rounded up to
 * 8: a row's exactly, so rows are copied as they are. */
_Static_assert(sizeof(struct unwind_row) % 8 == 0, "unwind rows must need no padding");
#define ROW_STRIDE sizeof(struct unwind_row)

/* Copies n rows into the array of fd through its mapping (no syscall per
 * row: 1M rows took 0.35 s as a batch update). */
static int fill_rows(int fd, const struct unwind_row *rows, uint32_t n)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t len = ((size_t)n * ROW_STRIDE + page - 1) & ~(page - 1);
	char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	if (m == MAP_FAILED)
		return -errno;
	memcpy(m, rows, (size_t)n * ROW_STRIDE);
	munmap(m, len);
	return 0;
}

/* Gives f a file index: its rows into an array of their own, in
 * unwind_rows at that index (which holds the array from then on). */
static int load_rows(struct unwind_tables *t, struct ufile *f)
{
	struct unwind_file uf = { (uint32_t)f->cfi.n, 0 };
	uint32_t id = (uint32_t)t->st.files; /* the files with rows take 0, 1, ... */
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
	cfi_table_drop_rows(&f->cfi); /* the map holds them now */
	t->rows += uf.n;
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

/* The index in t->files of a mapping's file, added on first sight (the
 * vdso's table built at once, a file's left for build_one with its path
 * kept); -1 when it has none. */
static long file_index(struct unwind_tables *t, pid_t pid, const char *root,
		       const struct procmap *m)
{
	char path[4200];
	struct stat sb;
	struct ufile *f;

	snprintf(path, sizeof(path), "%s%s", root, m->path);
	if (!strcmp(m->path, "[vdso]")) {
		sb.st_dev = VDSO_DEV;
		sb.st_ino = VDSO_INO;
	} else if (m->path[0] != '/' || stat(path, &sb)) {
		return -1;
	}
	for (size_t i = 0; i < t->nfiles; i++)
		if (t->files[i].dev == sb.st_dev && t->files[i].ino == sb.st_ino)
			return (long)i;
	if (array_grow((void **)&t->files, &t->cap, t->nfiles + 1, sizeof(*t->files)))
		return -1;
	f = &t->files[t->nfiles];
	memset(f, 0, sizeof(*f));
	f->dev = sb.st_dev;
	f->ino = sb.st_ino;
	f->size = sb.st_dev == VDSO_DEV ? 0 : sb.st_size;
	f->shown = strdup(m->path);
	if (sb.st_dev == VDSO_DEV)
		f->err = vdso_cfi(pid, m, &f->cfi);
	else if (!(f->path = strdup(path)))
		f->err = -ENOMEM;
	if (!f->shown) {
		free(f->path);
		cfi_table_free(&f->cfi);
		return -1;
	}
	return (long)t->nfiles++;
}

/* Loads what the build of f gave: its rows, or why it has none. */
static void load_one(struct unwind_tables *t, struct ufile *f)
{
	int err = f->err;

	if (err == -E2BIG) {
		f->id = UNWIND_TOO_LARGE;
		t->st.too_large++;
	} else if (!err && (err = load_rows(t, f))) {
		f->id = UNWIND_TOO_LARGE; /* counted where it is walked */
		t->st.too_large++;
		ebprof_verbose(1, "unwind: %s: cannot load its rows: %s", f->shown, strerror(-err));
	} else if (err) {
		f->id = UNWIND_NO_FILE;
		ebprof_verbose(1, "unwind: %s: no table: %s", f->shown, strerror(-err));
	}
	if (!err || err == -E2BIG)
		ebprof_verbose(1, "unwind: %s: %zu rows from %s%s", f->shown, f->cfi.n,
			       f->cfi.source ? f->cfi.source : "no CFI",
			       f->id == UNWIND_TOO_LARGE ?
				       ": over a table limit, frame pointers there" :
				       "");
	if (err)
		cfi_table_free(&f->cfi);
	free(f->path);
	f->path = NULL;
}

struct build_job {
	struct unwind_tables *t;
	struct ufile **order; /* the new files, largest first */
	const char *root;
	pthread_mutex_t lock; /* over loading: t's counts and file indexes */
};

static int larger_first(const void *a, const void *b)
{
	off_t x = (*(struct ufile *const *)a)->size, y = (*(struct ufile *const *)b)->size;

	return (x < y) - (x > y);
}

/* Builds the table of the job's i-th new file (on a thread of its own:
 * files share nothing), then loads it, one file at a time, while the
 * other threads go on building. */
static void build_one(size_t i, void *arg)
{
	struct build_job *j = arg;
	struct ufile *f = j->order[i];

	if (f->path && !f->err)
		f->err = cfi_table_build(f->path, j->root, &f->cfi);
	pthread_mutex_lock(&j->lock);
	load_one(j->t, f);
	pthread_mutex_unlock(&j->lock);
}

/* At most this many threads build the tables of a reading's new files. */
#define BUILD_THREADS 8

int unwind_tables__update(struct unwind_tables *t, pid_t pid, const struct procmaps *pm)
{
	uint32_t n = 0, zero = 0, nmaps, set = t->set ^ UNWIND_MAPS_SET;
	uint32_t base = UNWIND_MAPS_BASE(set), key;
	size_t files0 = t->nfiles;
	long *idx = calloc(pm->n ? pm->n : 1, sizeof(*idx));
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	size_t nthreads = ncpu < 1 ? 1 : ncpu > BUILD_THREADS ? BUILD_THREADS : (size_t)ncpu;
	char root[64];
	uint64_t t0;
	int err = 0;

	if (!idx)
		return -ENOMEM;
	snprintf(root, sizeof(root), "/proc/%d/root", (int)pid);
	for (size_t i = 0; i < pm->n; i++) {
		const struct procmap *m = &pm->maps[i];

		idx[i] = m->perms[2] == 'x' && m->path &&
					 (m->path[0] == '/' || !strcmp(m->path, "[vdso]")) ?
				 file_index(t, pid, root, m) :
				 -1;
	}
	/* The new files' tables, built in parallel, the largest first (they
	 * take most of a start's time), each loaded when it is built. */
	if (t->nfiles > files0) {
		size_t nnew = t->nfiles - files0;
		struct ufile **order = malloc(nnew * sizeof(*order));
		struct build_job job = { t, order, root, PTHREAD_MUTEX_INITIALIZER };

		if (!order) {
			free(idx);
			return -ENOMEM;
		}
		for (size_t i = 0; i < nnew; i++)
			order[i] = &t->files[files0 + i];
		qsort(order, nnew, sizeof(*order), larger_first);
		t0 = now_ns();
		run_in_parallel(nnew, nthreads, build_one, &job);
		t->st.build_ns += now_ns() - t0;
		free(order);
		ebprof_verbose(1,
			       "unwind: tables of %zu new files built in %.1f ms; %llu files, "
			       "%.1f KiB of rows loaded",
			       nnew, (double)(now_ns() - t0) / 1e6, (unsigned long long)t->st.files,
			       (double)t->st.bytes / 1024);
	}
	t->st.mappings_left = 0;
	/* /proc/PID/maps is sorted by address. */
	for (size_t i = 0; i < pm->n; i++) {
		const struct procmap *m = &pm->maps[i];
		struct unwind_mapping um = { m->start, m->end, 0, UNWIND_NO_FILE };
		struct ufile *f = idx[i] >= 0 ? &t->files[idx[i]] : NULL;
		unsigned long bias;

		if (m->perms[2] != 'x')
			continue;
		if (n >= UNWIND_MAX_MAPPINGS) {
			t->st.mappings_left++;
			continue;
		}
		if (f && (f->id == UNWIND_TOO_LARGE ||
			  (f->id != UNWIND_NO_FILE &&
			   !cfi_table_bias(&f->cfi, m->start, m->offset, &bias)))) {
			um.file = f->id;
			um.bias = f->id == UNWIND_TOO_LARGE ? 0 : bias;
		}
		key = base + n;
		if (bpf_map_update_elem(t->o.maps_fd, &key, &um, BPF_ANY)) {
			err = -errno;
			break;
		}
		n++;
	}
	free(idx);
	/* Written into the set not in use, then made the one in use in one
	 * store: a walk sees the old set or the new one, whole. */
	nmaps = set | n;
	if (!err && bpf_map_update_elem(t->o.nmaps_fd, &zero, &nmaps, BPF_ANY))
		err = -errno;
	if (!err)
		t->set = set;
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
	for (size_t i = 0; i < t->nfiles; i++) {
		cfi_table_free(&t->files[i].cfi);
		free(t->files[i].path);
		free(t->files[i].shown);
	}
	free(t->files);
	free(t);
}
