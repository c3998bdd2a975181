/* CFI -> unwind rows with libdw (see cfi.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <gelf.h>

#include "symbols/elfsym.h"
#include "unwind/cfi.h"
#include "util/util.h"

/* DWARF register numbers of x86-64. */
#define DW_RBX 3
#define DW_RBP 6
#define DW_RSP 7
#define DW_RA 16

struct cfi_src {
	int fd;
	void *image; /* an in-memory ELF's copy, or NULL */
	Elf *elf;
	Dwarf *dw; /* for .debug_frame, else NULL */
	Dwarf_CFI *cfi;
	Elf *cfi_elf;	  /* the handle cfi reads (see eh_frame_handle) */
	bool fresh_cheap; /* cfi finds FDEs by .eh_frame_hdr's table */
	size_t lookups;	  /* frame states asked of cfi */
};

/* libdw keeps every FDE it has looked up in a search tree for the CFI's
 * life; a build visits each once, in address order, so that tree only
 * grows and slows every later lookup (with it kept whole, the largest
 * files took about 1.6 times as long to build): a fresh
 * handle every this many lookups keeps it small, where a fresh one is
 * cheap (it finds its FDEs by the search table, not by a scan). */
#define CFI_FRESH_LOOKUPS 256

static void src_close(struct cfi_src *s)
{
	if (s->dw)
		dwarf_end(s->dw);
	else if (s->cfi)
		dwarf_cfi_end(s->cfi);
	if (s->cfi_elf && s->cfi_elf != s->elf)
		elf_end(s->cfi_elf);
	if (s->elf)
		elf_end(s->elf);
	if (s->fd >= 0)
		close(s->fd);
	free(s->image);
	memset(s, 0, sizeof(*s));
	s->fd = -1;
}

static int src_open(struct cfi_src *s, const char *path)
{
	memset(s, 0, sizeof(*s));
	elf_version(EV_CURRENT);
	s->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (s->fd < 0)
		return -errno;
	s->elf = elf_begin(s->fd, ELF_C_READ_MMAP, NULL);
	if (!s->elf || elf_kind(s->elf) != ELF_K_ELF) {
		src_close(s);
		return -ENOEXEC;
	}
	return 0;
}

/* The handle libdw reads s's .eh_frame from.  libdw takes the sections'
 * .eh_frame_hdr, and with it the sorted FDE table, only when it comes
 * before .eh_frame; gold puts it after (libLLVM, libclang-cpp), and then
 * every FDE of the file is parsed at the first lookup (40 ms for
 * libLLVM) and kept in a tree each lookup walks.  For such a file libdw
 * is given a private copy-on-write handle whose ELF header names no
 * section string table: it then finds both through PT_GNU_EH_FRAME, as
 * the runtime unwinder does.  s->elf itself, and the file, are untouched. */
static Elf *eh_frame_handle(struct cfi_src *s, Elf_Scn *eh_frame)
{
	Elf_Scn *hdr = elffile_section(s->elf, SHT_NULL, ".eh_frame_hdr");
	GElf_Phdr ph;
	GElf_Ehdr eh;
	Elf *e;

	s->fresh_cheap = hdr != NULL;
	if (!hdr || elf_ndxscn(hdr) < elf_ndxscn(eh_frame))
		return s->elf;
	if (s->fd < 0 || !elffile_segment(s->elf, PT_GNU_EH_FRAME, &ph) ||
	    !(e = elf_begin(s->fd, ELF_C_READ_MMAP_PRIVATE, NULL)))
		goto unsorted;
	if (gelf_getehdr(e, &eh) && eh.e_shstrndx != SHN_XINDEX) {
		eh.e_shstrndx = SHN_UNDEF;
		if (gelf_update_ehdr(e, &eh))
			return e;
	}
	elf_end(e);
unsorted:
	s->fresh_cheap = false;
	return s->elf;
}

/* .eh_frame of s, else its .debug_frame: 1 found, 0 none. */
static int src_cfi(struct cfi_src *s, const char **source)
{
	/* dwarf_getcfi_elf also takes .debug_frame when .eh_frame is
	 * missing in some versions: tell the two apart by the sections. */
	Elf_Scn *scn = elffile_section(s->elf, SHT_NULL, ".eh_frame");
	GElf_Shdr sh;

	if (scn && gelf_getshdr(scn, &sh) && sh.sh_size > 4) {
		s->cfi_elf = eh_frame_handle(s, scn);
		s->cfi = dwarf_getcfi_elf(s->cfi_elf);
		*source = "eh_frame";
		if (s->cfi)
			return 1;
	}
	s->fresh_cheap = false;
	s->dw = dwarf_begin_elf(s->elf, DWARF_C_READ, NULL);
	s->cfi = s->dw ? dwarf_getcfi(s->dw) : NULL;
	*source = "debug_frame";
	return s->cfi != NULL;
}

/* The build-id note of elf as hex, "" when absent. */
static void build_id_hex(Elf *elf, char *hex, size_t len)
{
	size_t n;
	Elf_Scn *scn = NULL;

	hex[0] = 0;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;
		GElf_Nhdr nh;
		size_t off = 0, noff, doff;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE ||
		    !(d = elf_getdata(scn, NULL)))
			continue;
		while ((n = gelf_getnote(d, off, &nh, &noff, &doff)) > 0) {
			off = n;
			if (nh.n_type != NT_GNU_BUILD_ID || nh.n_descsz * 2 + 1 > len)
				continue;
			for (size_t i = 0; i < nh.n_descsz; i++)
				snprintf(hex + 2 * i, 3, "%02x",
					 ((unsigned char *)d->d_buf)[doff + i]);
			return;
		}
	}
}

/* The debug file of s by build-id, when s itself has no CFI. */
static int src_open_debug(struct cfi_src *s, const char *root)
{
	char id[128], path[4096];

	build_id_hex(s->elf, id, sizeof(id));
	src_close(s);
	if (strlen(id) < 3)
		return -ENOENT;
	snprintf(path, sizeof(path), "%s/usr/lib/debug/.build-id/%.2s/%s.debug", root ? root : "",
		 id, id + 2);
	return src_open(s, path);
}

/* The executable PT_LOAD ranges [lo, hi) of elf (link-time addresses);
 * every PT_LOAD into t->loads. */
static size_t exec_segments(Elf *elf, uint64_t (*r)[2], size_t max, struct cfi_table *t)
{
	size_t phnum, n = 0;

	if (elf_getphdrnum(elf, &phnum))
		return 0;
	for (size_t i = 0; i < phnum && n < max; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		if (t->nloads < ARRAY_SIZE(t->loads)) {
			t->loads[t->nloads].vaddr = ph.p_vaddr;
			t->loads[t->nloads].offset = ph.p_offset;
			t->loads[t->nloads++].filesz = ph.p_filesz;
		}
		if (ph.p_flags & PF_X) {
			r[n][0] = ph.p_vaddr;
			r[n][1] = ph.p_vaddr + ph.p_memsz;
			n++;
		}
	}
	return n;
}

/* The ranges of elf's code: its SHF_EXECINSTR sections inside the
 * executable segments segs, in address order.  A segment can hold far
 * more than code (a file linked without -z separate-code maps its
 * headers, symbols and relocations executable: 6 of libLLVM's 96 MB),
 * and every byte no FDE covers costs a lookup.  The segments themselves
 * when the file has no section headers. */
static size_t code_ranges(Elf *elf, const uint64_t (*segs)[2], size_t nsegs, uint64_t (*r)[2],
			  size_t max)
{
	Elf_Scn *scn = NULL;
	size_t n = 0;

	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS ||
		    (sh.sh_flags & (SHF_ALLOC | SHF_EXECINSTR)) != (SHF_ALLOC | SHF_EXECINSTR) ||
		    !sh.sh_size)
			continue;
		for (size_t i = 0; i < nsegs; i++) {
			uint64_t lo = sh.sh_addr > segs[i][0] ? sh.sh_addr : segs[i][0];
			uint64_t hi = sh.sh_addr + sh.sh_size < segs[i][1] ?
					      sh.sh_addr + sh.sh_size :
					      segs[i][1];

			if (lo >= hi)
				continue;
			if (n == max)
				goto segments; /* more than the table takes: whole segments */
			size_t j = n++;

			while (j && r[j - 1][0] > lo) {
				r[j][0] = r[j - 1][0];
				r[j][1] = r[j - 1][1];
				j--;
			}
			r[j][0] = lo;
			r[j][1] = hi;
		}
	}
	if (n)
		return n;
segments:
	for (n = 0; n < nsegs && n < max; n++) {
		r[n][0] = segs[n][0];
		r[n][1] = segs[n][1];
	}
	return n;
}

/* Offset N of a register rule "saved at CFA+N" (libdw: DW_OP_call_frame_cfa
 * then the offset, as one plus_uconst or consts+plus); 1 when it is one. */
static int cfa_offset_rule(const Dwarf_Op *ops, size_t nops, int64_t *off)
{
	if (nops == 1 && ops[0].atom == DW_OP_call_frame_cfa) {
		*off = 0;
		return 1;
	}
	if (nops < 2 || ops[0].atom != DW_OP_call_frame_cfa)
		return 0;
	if (nops == 2 && ops[1].atom == DW_OP_plus_uconst) {
		*off = (int64_t)ops[1].number;
		return 1;
	}
	if (nops == 3 && ops[1].atom == DW_OP_consts && ops[2].atom == DW_OP_plus) {
		*off = (int64_t)ops[1].number;
		return 1;
	}
	return 0;
}

/* The CFA expression binutils gives lazy .plt entries: rsp + N, 8 more
 * where (rip & 15) >= K, i.e. breg7 N; breg16 0; lit15; and; litK; ge;
 * lit3; shl; plus.  1 when ops is it (N and K out). */
static int plt_cfa(const Dwarf_Op *ops, size_t nops, int64_t *n, unsigned *k)
{
	static const uint8_t want[] = { DW_OP_breg7, DW_OP_breg16, DW_OP_lit15, DW_OP_and, 0,
					DW_OP_ge,    DW_OP_lit3,   DW_OP_shl,	DW_OP_plus };

	if (nops != ARRAY_SIZE(want) || ops[1].number != 0 || ops[4].atom < DW_OP_lit0 ||
	    ops[4].atom > DW_OP_lit15)
		return 0;
	for (size_t i = 0; i < nops; i++)
		if (i != 4 && ops[i].atom != want[i])
			return 0;
	*n = (int64_t)ops[0].number;
	*k = (unsigned)(ops[4].atom - DW_OP_lit0);
	return *n >= INT32_MIN && *n <= INT32_MAX;
}

/* Where the caller's value of callee-saved register reg is by f's rules,
 * as a row's offset: 0 unchanged, N saved at CFA + N (in int16 range,
 * not 0), or -1 another rule (in a register, an expression). */
static int saved_at(Dwarf_Frame *f, int reg, int16_t *off)
{
	Dwarf_Op mem[3], *ops;
	size_t nops;
	int64_t n;

	*off = 0;
	if (dwarf_frame_register(f, reg, mem, &ops, &nops))
		return -1;
	if (!nops)
		return 0; /* same value (or undefined) */
	if (!cfa_offset_rule(ops, nops, &n) || n == 0 || n <= INT16_MIN || n > INT16_MAX)
		return -1;
	*off = (int16_t)n;
	return 0;
}

/* The row of one libdw frame state. */
static void frame_row(Dwarf_Frame *f, struct unwind_row *row)
{
	Dwarf_Op mem[3], *ops;
	size_t nops;
	int64_t ra, plt_off;
	int16_t rbp, rbx;
	unsigned plt_k;

	row->cmd = UNWIND_FP;
	if (dwarf_frame_register(f, DW_RA, mem, &ops, &nops) == 0 && nops == 0 && ops == mem) {
		row->cmd = UNWIND_STOP; /* undefined return address */
		return;
	}
	if (dwarf_frame_register(f, DW_RA, mem, &ops, &nops) || !cfa_offset_rule(ops, nops, &ra) ||
	    ra != -8)
		return;
	if (saved_at(f, DW_RBP, &rbp))
		return; /* rbp in another register, or an expression */
	if (saved_at(f, DW_RBX, &rbx))
		rbx = UNWIND_RBX_LOST;
	if (dwarf_frame_cfa(f, &ops, &nops))
		return;
	if (!rbp && plt_cfa(ops, nops, &plt_off, &plt_k)) {
		row->cmd = UNWIND_PLT;
		row->cfa_off = (int32_t)plt_off;
		row->arg = (uint8_t)plt_k;
		row->rbx_off = rbx;
		return;
	}
	if (nops != 1 || ops[0].atom != DW_OP_bregx ||
	    (ops[0].number != DW_RSP && ops[0].number != DW_RBP && ops[0].number != DW_RBX) ||
	    (int64_t)ops[0].number2 < INT32_MIN || (int64_t)ops[0].number2 > INT32_MAX)
		return; /* a CFA expression (a realigned stack) */
	row->cmd = ops[0].number == DW_RSP ? UNWIND_CFA_RSP :
		   ops[0].number == DW_RBP ? UNWIND_CFA_RBP :
					     UNWIND_CFA_RBX;
	row->cfa_off = (int32_t)(int64_t)ops[0].number2;
	row->rbp_off = rbp;
	row->rbx_off = rbx;
}

/* A build's rows: one reservation the size of the largest table a file
 * may have, filled in place (no copy, no zeroing as it grows), trimmed to
 * what was filled at the end. */
struct rows {
	struct unwind_row *v;
	size_t n;
};

#define ROWS_RESERVED ((size_t)UNWIND_MAX_FILE_ROWS * sizeof(struct unwind_row))

/* The mapped length of n rows. */
static size_t rows_len(size_t n)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	return (n * sizeof(struct unwind_row) + page - 1) & ~(page - 1);
}

/* Appends a row at pc unless it says what the previous one says. */
static int rows_add(struct rows *r, uint64_t pc, const struct unwind_row *row)
{
	struct unwind_row *last = r->n ? &r->v[r->n - 1] : NULL;

	if (pc > UINT32_MAX)
		return -E2BIG;
	if (last && last->cmd == row->cmd && last->cfa_off == row->cfa_off &&
	    last->rbp_off == row->rbp_off && last->rbx_off == row->rbx_off && last->arg == row->arg)
		return 0;
	if (last && last->pc == pc) {
		*last = *row;
		last->pc = (uint32_t)pc;
		return 0;
	}
	if (r->n >= UNWIND_MAX_FILE_ROWS)
		return -E2BIG;
	if (!r->v) {
		void *m = mmap(NULL, ROWS_RESERVED, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

		if (m == MAP_FAILED)
			return -ENOMEM;
		r->v = m;
	}
	r->v[r->n] = *row;
	r->v[r->n++].pc = (uint32_t)pc;
	return 0;
}

/* The reservation of r trimmed to its rows (none: unmapped). */
static void rows_trim(struct rows *r)
{
	if (!r->v)
		return;
	if (!r->n) {
		munmap(r->v, ROWS_RESERVED);
		r->v = NULL;
	} else if (rows_len(r->n) < ROWS_RESERVED) {
		munmap((char *)r->v + rows_len(r->n), ROWS_RESERVED - rows_len(r->n));
	}
}

/* The start addresses of s's FDEs, sorted, from the search table the
 * linker puts in .eh_frame_hdr (a fixed layout: version 1, then the
 * encoded .eh_frame pointer and FDE count, then count pairs of initial
 * location and FDE address; only the encodings linkers write are taken:
 * 4-byte fields, the table relative to the section).  0 and *n 0 when
 * the file has none; the caller probes instead. */
static int fde_starts(Elf *elf, uint64_t **out, size_t *n)
{
	Elf_Scn *scn = elffile_section(elf, SHT_NULL, ".eh_frame_hdr");
	const uint8_t *b;
	Elf_Data *d;
	GElf_Shdr sh;
	uint32_t count;

	*out = NULL;
	*n = 0;
	if (!scn || !gelf_getshdr(scn, &sh) || !(d = elf_rawdata(scn, NULL)) || d->d_size < 12)
		return 0;
	b = d->d_buf;
	/* version; the pointer's and the count's 4-byte encodings; the
	 * table's: DW_EH_PE_datarel | DW_EH_PE_sdata4 */
	if (b[0] != 1 || (b[1] & 0x0f) != DW_EH_PE_sdata4 ||
	    ((b[2] & 0x0f) != DW_EH_PE_udata4 && (b[2] & 0x0f) != DW_EH_PE_sdata4) ||
	    b[3] != (DW_EH_PE_datarel | DW_EH_PE_sdata4))
		return 0;
	memcpy(&count, b + 8, 4);
	if (!count || count > (d->d_size - 12) / 8)
		return 0;
	*out = malloc(count * sizeof(**out));
	if (!*out)
		return -ENOMEM;
	for (uint32_t i = 0; i < count; i++) {
		int32_t loc;

		memcpy(&loc, b + 12 + 8 * (size_t)i, 4);
		(*out)[i] = sh.sh_addr + (int64_t)loc;
	}
	*n = count;
	return 0;
}

/* The first FDE start above pc, else hi (pc + 1 without a search table). */
static uint64_t next_start(const uint64_t *starts, size_t n, uint64_t pc, uint64_t hi)
{
	size_t lo = 0, top = n;

	if (!n)
		return pc + 1;
	while (lo < top) {
		size_t mid = lo + (top - lo) / 2;

		if (starts[mid] <= pc)
			lo = mid + 1;
		else
			top = mid;
	}
	return lo < n && starts[lo] < hi ? starts[lo] : hi;
}

/* Rows for [lo, hi): one per frame state libdw gives, in address order;
 * pcs no FDE covers become NONE rows up to the next FDE's start (from
 * starts, sorted; without it probed byte by byte, as an FDE may start
 * anywhere), but for the file's entry point: where the kernel starts a
 * process there is no caller, and ld.so's _start (RTLD_START) has no CFI:
 * a STOP row from there to the next FDE. */
static int range_rows(struct cfi_src *s, const uint64_t *starts, size_t nstarts, uint64_t lo,
		      uint64_t hi, uint64_t entry, struct rows *r)
{
	static const struct unwind_row none = { .cmd = UNWIND_NONE };
	static const struct unwind_row stop = { .cmd = UNWIND_STOP };
	uint64_t pc = lo;
	int err = 0;

	while (!err && pc < hi) {
		Dwarf_Frame *f = NULL;
		Dwarf_Addr start, end;
		struct unwind_row row = { 0 };

		if (s->fresh_cheap && ++s->lookups % CFI_FRESH_LOOKUPS == 0) {
			Dwarf_CFI *fresh = dwarf_getcfi_elf(s->cfi_elf);

			if (fresh) {
				dwarf_cfi_end(s->cfi);
				s->cfi = fresh;
			}
		}
		if (dwarf_cfi_addrframe(s->cfi, pc, &f) || !f) {
			uint64_t next = next_start(starts, nstarts, pc, hi);

			if (entry && entry >= pc && entry < next) {
				err = entry > pc ? rows_add(r, pc, &none) : 0;
				if (!err)
					err = rows_add(r, entry, &stop);
			} else {
				err = rows_add(r, pc, &none);
			}
			pc = next;
			continue;
		}
		bool signal = false;

		dwarf_frame_info(f, &start, &end, &signal);
		if (signal)
			row.cmd = UNWIND_SIGNAL; /* its CFA and rules: the ucontext's */
		else
			frame_row(f, &row);
		free(f);
		err = rows_add(r, pc, &row);
		pc = end > pc ? end : pc + 1;
	}
	return err ? err : rows_add(r, hi, &none);
}

/* The rows of the open file s (its debug file under root when it has no
 * CFI itself, and root is not NULL or s is a file). */
static int build(struct cfi_src *s, const char *root, int debug, struct cfi_table *out)
{
	struct rows r = { 0 };
	uint64_t segs[16][2], ranges[32][2], *starts = NULL, entry;
	size_t nranges, nstarts = 0;
	GElf_Ehdr eh;
	int err;

	/* The executable's entry, read before the CFI may come from a debug
	 * file (the same addresses). */
	entry = gelf_getehdr(s->elf, &eh) ? eh.e_entry : 0;
	/* The executable's own code, whichever file the CFI comes from. */
	nranges = exec_segments(s->elf, segs, ARRAY_SIZE(segs), out);
	nranges = code_ranges(s->elf, (const uint64_t(*)[2])segs, nranges, ranges,
			      ARRAY_SIZE(ranges));
	if (!src_cfi(s, &out->source)) {
		err = debug ? src_open_debug(s, root) : -ENOENT;
		if (err || !src_cfi(s, &out->source)) {
			src_close(s);
			out->source = NULL;
			return 0; /* no CFI: frame pointers only */
		}
	}
	err = s->dw ? 0 : fde_starts(s->elf, &starts, &nstarts);
	for (size_t i = 0; i < nranges && !err; i++)
		err = range_rows(s, starts, nstarts, ranges[i][0], ranges[i][1], entry, &r);
	free(starts);
	src_close(s);
	if (err) {
		r.n = 0;
		rows_trim(&r);
		out->source = NULL;
		return err;
	}
	rows_trim(&r);
	out->rows = r.v;
	out->n = r.n;
	return 0;
}

int cfi_table_build(const char *path, const char *root, struct cfi_table *out)
{
	struct cfi_src s;
	int err;

	memset(out, 0, sizeof(*out));
	err = src_open(&s, path);
	return err ? err : build(&s, root, 1, out);
}

int cfi_table_build_image(const void *image, size_t size, struct cfi_table *out)
{
	struct cfi_src s = { .fd = -1 };

	memset(out, 0, sizeof(*out));
	elf_version(EV_CURRENT);
	s.image = malloc(size);
	if (!s.image)
		return -ENOMEM;
	memcpy(s.image, image, size);
	s.elf = elf_memory(s.image, size);
	if (!s.elf || elf_kind(s.elf) != ELF_K_ELF) {
		src_close(&s);
		return -ENOEXEC;
	}
	return build(&s, NULL, 0, out);
}

const struct unwind_row *cfi_table_find(const struct cfi_table *t, unsigned long pc)
{
	size_t lo = 0, hi = t->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (t->rows[mid].pc <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? &t->rows[lo - 1] : NULL;
}

int cfi_table_bias(const struct cfi_table *t, unsigned long map_start, unsigned long map_off,
		   unsigned long *bias)
{
	for (size_t i = 0; i < t->nloads; i++) {
		/* A mapping starts at the page of its segment's offset. */
		if (map_off >= (t->loads[i].offset & ~0xfffUL) &&
		    map_off < t->loads[i].offset + (t->loads[i].filesz ? t->loads[i].filesz : 1)) {
			*bias = map_start - map_off - (t->loads[i].vaddr - t->loads[i].offset);
			return 0;
		}
	}
	return -ENOENT;
}

void cfi_table_drop_rows(struct cfi_table *t)
{
	if (t->rows)
		munmap(t->rows, rows_len(t->n));
	t->rows = NULL;
}

void cfi_table_free(struct cfi_table *t)
{
	cfi_table_drop_rows(t);
	memset(t, 0, sizeof(*t));
}
