/* The launched command held at its start (see entry.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "entry.skel.h"
#include "entry_stop.h"
#include "run/entry.h"
#include "symbols/elfsym.h"
#include "util/util.h"

/* The kernel follows at most this many "#!" interpreters. */
#define ENTRY_MAX_INTERP 4

struct entry_hold {
	struct entry_bpf *skel;
	struct bpf_link *link;	      /* at the entry point */
	struct bpf_link *loader_link; /* at ld.so's _dl_debug_state */
	struct ring_buffer *rb;
	uint32_t taken; /* hits given by entry_hold__next */
};

/* The program interpreter (PT_INTERP) of the ELF file path, into out:
 * 0, or -ENOENT for a static executable. */
static int elf_interp(const char *path, char *out, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), err = -ENOENT;
	GElf_Phdr ph;
	Elf *e;

	if (fd < 0)
		return -errno;
	e = elf_begin(fd, ELF_C_READ, NULL);
	if (e && elffile_segment(e, PT_INTERP, &ph)) {
		err = -ENOEXEC;
		if (ph.p_filesz > 1 && ph.p_filesz < len &&
		    pread(fd, out, ph.p_filesz, (off_t)ph.p_offset) == (ssize_t)ph.p_filesz &&
		    out[ph.p_filesz - 1] == '\0')
			err = 0;
	}
	if (e)
		elf_end(e);
	close(fd);
	return err;
}

/* The loader's stops: a uprobe on _dl_debug_state of the interpreter of
 * file.  NULL, or why there is none. */
static const char *attach_loader(struct entry_hold *h, pid_t pid, const char *file)
{
	LIBBPF_OPTS(bpf_uprobe_opts, uo, .func_name = "_dl_debug_state",
		    .bpf_cookie = ENTRY_STOP_LOADER);
	char interp[PATH_MAX], real[PATH_MAX];
	int err = elf_interp(file, interp, sizeof(interp));

	if (err == -ENOENT)
		return NULL; /* static: its entry is its first instruction */
	if (err || !realpath(interp, real))
		return "its program interpreter cannot be read";
	h->loader_link = bpf_program__attach_uprobe_opts(h->skel->progs.entry_stop, pid, real, 0,
							 &uo);
	if (!h->loader_link)
		return "its dynamic loader has no _dl_debug_state to stop at";
	ebprof_verbose(1, "holding pid %d in its dynamic loader too (%s: _dl_debug_state)",
		       (int)pid, real);
	return NULL;
}

/* e_entry as a file offset: the PT_LOAD segment that holds it. */
static int elf_entry_offset(int fd, uint64_t *offset)
{
	GElf_Ehdr eh;
	size_t n;
	Elf *e;
	int err = -ENOEXEC;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return -EINVAL;
	e = elf_begin(fd, ELF_C_READ, NULL);
	if (!e)
		return -ENOEXEC;
	if (elf_kind(e) != ELF_K_ELF || !gelf_getehdr(e, &eh) ||
	    (eh.e_type != ET_EXEC && eh.e_type != ET_DYN) || elf_getphdrnum(e, &n)) {
		elf_end(e);
		return -ENOEXEC;
	}
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(e, (int)i, &ph) || ph.p_type != PT_LOAD || !(ph.p_flags & PF_X))
			continue;
		if (eh.e_entry >= ph.p_vaddr && eh.e_entry - ph.p_vaddr < ph.p_filesz) {
			*offset = eh.e_entry - ph.p_vaddr + ph.p_offset;
			err = 0;
			break;
		}
	}
	elf_end(e);
	return err;
}

/* The interpreter of a "#!" line in head (n bytes), into out. */
static int script_interp(const char *head, size_t n, char *out, size_t len)
{
	size_t i = 2, j;

	while (i < n && (head[i] == ' ' || head[i] == '\t'))
		i++;
	j = i;
	while (j < n && head[j] != ' ' && head[j] != '\t' && head[j] != '\n' && head[j] != '\0')
		j++;
	if (j == i || j == n || j - i >= len)
		return -ENOEXEC;
	memcpy(out, head + i, j - i);
	out[j - i] = '\0';
	return 0;
}

int entry_point(const char *path, char *file, size_t len, uint64_t *offset)
{
	char cur[PATH_MAX], next[PATH_MAX], head[256];

	if (len < PATH_MAX || snprintf(cur, sizeof(cur), "%s", path) >= (int)sizeof(cur))
		return -ENAMETOOLONG;
	for (int depth = 0; depth <= ENTRY_MAX_INTERP; depth++) {
		int fd = open(cur, O_RDONLY | O_CLOEXEC), err;
		ssize_t n;

		if (fd < 0)
			return -errno;
		n = pread(fd, head, sizeof(head), 0);
		if (n >= 4 && !memcmp(head, ELFMAG, SELFMAG)) {
			err = elf_entry_offset(fd, offset);
			close(fd);
			if (!err && !realpath(cur, file))
				err = -errno;
			return err;
		}
		close(fd);
		if (n < 2 || head[0] != '#' || head[1] != '!' ||
		    script_interp(head, (size_t)n, next, sizeof(next)))
			return -ENOEXEC;
		memcpy(cur, next, sizeof(cur));
	}
	return -ELOOP;
}

/* The ring buffer's only job is to wake the session's poll. */
static int on_hit(void *ctx, void *data, size_t size)
{
	(void)ctx, (void)data, (void)size;
	return 0;
}

int entry_hold__new(pid_t pid, const char *exe, struct entry_hold **out, const char **why,
		    const char **loader_why)
{
	LIBBPF_OPTS(bpf_uprobe_opts, uo, .bpf_cookie = ENTRY_STOP_ENTRY);
	char file[PATH_MAX];
	uint64_t off;
	struct entry_hold *h;
	int err;

	*out = NULL;
	*loader_why = NULL;
	err = entry_point(exe, file, sizeof(file), &off);
	if (err) {
		*why = err == -ENOEXEC ? "no ELF entry point found (not an ELF file or a script)" :
					 "cannot read the executable";
		return err;
	}
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	*why = "cannot load its BPF program";
	h->skel = entry_bpf__open();
	if (!h->skel) {
		err = -errno;
		goto fail;
	}
	h->skel->rodata->targ_tgid = (uint32_t)pid;
	err = entry_bpf__load(h->skel);
	if (err)
		goto fail;
	h->rb = ring_buffer__new(bpf_map__fd(h->skel->maps.hits_rb), on_hit, h, NULL);
	if (!h->rb) {
		err = -errno;
		goto fail;
	}
	*why = "cannot place the uprobe on its entry point";
	h->link = bpf_program__attach_uprobe_opts(h->skel->progs.entry_stop, pid, file, (size_t)off,
						  &uo);
	if (!h->link) {
		err = -errno;
		goto fail;
	}
	ebprof_verbose(1, "holding pid %d at its entry point (%s + 0x%llx)", (int)pid, file,
		       (unsigned long long)off);
	*loader_why = attach_loader(h, pid, file);
	*out = h;
	return 0;
fail:
	entry_hold__free(h);
	return err;
}

int entry_hold__fd(const struct entry_hold *h)
{
	return ring_buffer__epoll_fd(h->rb);
}

int entry_hold__next(struct entry_hold *h, struct entry_stop *st)
{
	uint32_t hits;

	if (h->rb)
		ring_buffer__consume(h->rb);
	hits = __atomic_load_n(&h->skel->bss->hits, __ATOMIC_ACQUIRE);
	if (hits == h->taken)
		return 0;
	h->taken = hits;
	st->entry = h->skel->bss->kind == ENTRY_STOP_ENTRY;
	st->signal_err = h->skel->bss->signal_err;
	st->hit_ns = h->skel->bss->hit_ns;
	return 1;
}

void entry_hold__detach(struct entry_hold *h)
{
	/* The links' removal waits for the handlers running. */
	bpf_link__destroy(h->link);
	bpf_link__destroy(h->loader_link);
	h->link = h->loader_link = NULL;
}

void entry_hold__free(struct entry_hold *h)
{
	if (!h)
		return;
	bpf_link__destroy(h->link);
	bpf_link__destroy(h->loader_link);
	ring_buffer__free(h->rb);
	entry_bpf__destroy(h->skel);
	free(h);
}
