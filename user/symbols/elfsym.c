/* Function symbols and load segments of one ELF file, read with libelf.
 * The file comes from the target: every size and index is checked, names
 * are copied out, and nothing is trusted to be sorted or unique. */
#include "symbols/elfsym.h"
#include "util/util.h"

#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define NT_GNU_BUILD_ID_TYPE 3
#define BUILD_ID_MAX_BYTES 20
#define ELFSYM_MAX_SYMS (1u << 24) /* more is not a real file */

/* The public struct plus what only this file needs. */
struct elffile_priv {
	struct elffile pub;
	char *names;	 /* one block holding every symbol name */
	char *plt_names; /* the same for the PLT stubs */
};

/* A symbol while collecting: name points into libelf's string table;
 * suffix (a PLT stub's "@plt") is appended when the name is copied. */
struct rawsym {
	const char *name;
	const char *suffix;
	uint64_t addr, size;
	int global;
};

struct symvec {
	struct rawsym *v;
	size_t n, cap;
	/* A debug file whose string table the names point into: closed once
	 * the names are copied. */
	Elf *owner;
	int owner_fd;
};

static void symvec_free(struct symvec *sv)
{
	free(sv->v);
	if (sv->owner) {
		elf_end(sv->owner);
		close(sv->owner_fd);
	}
	memset(sv, 0, sizeof(*sv));
}

static int libelf_ready(void)
{
	static int ready;

	if (!ready) {
		if (elf_version(EV_CURRENT) == EV_NONE)
			return -ENOSYS;
		ready = 1;
	}
	return 0;
}

static unsigned leading_underscores(const char *s)
{
	unsigned n = 0;

	while (s[n] == '_')
		n++;
	return n;
}

/* Length of a symbol's name without its version: .symtab spells versioned
 * definitions "name@@VER" (default) or "name@VER"; users name "name". */
static size_t name_len(const char *s)
{
	return strcspn(s, "@");
}

int elfsym_name_cmp(const char *a, int a_global, const char *b, int b_global)
{
	unsigned ua, ub;
	size_t la, lb;
	int c;

	if (a_global != b_global)
		return a_global ? -1 : 1;
	ua = leading_underscores(a);
	ub = leading_underscores(b);
	if (ua != ub)
		return ua < ub ? -1 : 1;
	la = name_len(a);
	lb = name_len(b);
	if (la != lb)
		return la < lb ? -1 : 1;
	c = strncmp(a, b, la);
	return c ? c : strcmp(a, b);
}

static int symvec_push(struct symvec *sv, const struct rawsym *s)
{
	if (sv->n >= ELFSYM_MAX_SYMS)
		return -E2BIG;
	if (array_grow((void **)&sv->v, &sv->cap, sv->n + 1, sizeof(*sv->v)))
		return -ENOMEM;
	sv->v[sv->n++] = *s;
	return 0;
}

Elf_Scn *elffile_section(Elf *e, uint32_t type, const char *name)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	if (name && elf_getshdrstrndx(e, &shstrndx) != 0)
		return NULL;
	while ((scn = elf_nextscn(e, scn)) != NULL) {
		GElf_Shdr sh;
		const char *n;

		if (!gelf_getshdr(scn, &sh) ||
		    (type != SHT_NULL ? sh.sh_type != type : sh.sh_type == SHT_NOBITS))
			continue;
		if (!name)
			return scn;
		n = elf_strptr(e, shstrndx, sh.sh_name);
		if (n && strcmp(n, name) == 0)
			return scn;
	}
	return NULL;
}

int elffile_segment(Elf *e, uint32_t type, GElf_Phdr *out)
{
	size_t n;

	if (elf_getphdrnum(e, &n))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (gelf_getphdr(e, (int)i, out) && out->p_type == type)
			return 1;
	return 0;
}

/* FUNC and IFUNC symbols defined in the first section of the given type. */
static int collect_funcs(Elf *e, Elf64_Word type, struct symvec *sv)
{
	Elf_Scn *scn = elffile_section(e, type, NULL);
	Elf_Data *data;
	GElf_Shdr sh;
	size_t i, n;

	if (!scn || !gelf_getshdr(scn, &sh) || sh.sh_entsize == 0)
		return -ENOENT;
	data = elf_getdata(scn, NULL);
	if (!data)
		return -ENOENT;
	n = data->d_size / sh.sh_entsize;
	for (i = 0; i < n; i++) {
		GElf_Sym sym;
		struct rawsym r = { 0 };
		int t, err;

		if (!gelf_getsym(data, (int)i, &sym))
			break;
		t = GELF_ST_TYPE(sym.st_info);
		if ((t != STT_FUNC && t != STT_GNU_IFUNC) || sym.st_shndx == SHN_UNDEF ||
		    sym.st_value == 0)
			continue;
		r.name = elf_strptr(e, sh.sh_link, sym.st_name);
		if (!r.name || !r.name[0] || r.name[0] == '@')
			continue;
		r.addr = sym.st_value;
		r.size = sym.st_size;
		r.global = GELF_ST_BIND(sym.st_info) != STB_LOCAL;
		err = symvec_push(sv, &r);
		if (err)
			return err;
	}
	return 0;
}

/* One relocation: where it applies, its addend (0 for REL), the name of
 * its symbol in the symbol table its section links to (NULL: none, as an
 * IRELATIVE slot's, whose addend is the ifunc's resolver). */
struct reloc {
	uint64_t offset;
	int64_t addend;
	const char *name;
};

/* Calls fn for each relocation of a REL or RELA section, in order.  Stops
 * at fn's first nonzero return. */
static int for_each_reloc(Elf *e, Elf_Scn *scn, int (*fn)(void *ctx, const struct reloc *r),
			  void *ctx)
{
	Elf_Scn *symscn;
	Elf_Data *d, *symd;
	GElf_Shdr sh, ssh;
	size_t i, n;
	int err = 0;

	if (!scn || !gelf_getshdr(scn, &sh) || sh.sh_entsize == 0 ||
	    !(d = elf_getdata(scn, NULL)) || !(symscn = elf_getscn(e, sh.sh_link)) ||
	    !gelf_getshdr(symscn, &ssh) || !(symd = elf_getdata(symscn, NULL)))
		return -ENOENT;
	n = d->d_size / sh.sh_entsize;
	for (i = 0; i < n && !err; i++) {
		struct reloc r = { 0 };
		uint64_t info;
		GElf_Rela ra;
		GElf_Rel rl;
		GElf_Sym sym;

		if (sh.sh_type == SHT_RELA && gelf_getrela(d, (int)i, &ra)) {
			info = ra.r_info;
			r.offset = ra.r_offset;
			r.addend = ra.r_addend;
		} else if (sh.sh_type == SHT_REL && gelf_getrel(d, (int)i, &rl)) {
			info = rl.r_info;
			r.offset = rl.r_offset;
		} else {
			break;
		}
		if (GELF_R_SYM(info) && gelf_getsym(symd, (int)GELF_R_SYM(info), &sym))
			r.name = elf_strptr(e, ssh.sh_link, sym.st_name);
		if (r.name && !r.name[0])
			r.name = NULL;
		err = fn(ctx, &r);
	}
	return err;
}

/* An executable section of the given name with an address, or NULL. */
static Elf_Scn *code_section(Elf *e, const char *name, GElf_Shdr *sh)
{
	Elf_Scn *scn = elffile_section(e, SHT_PROGBITS, name);

	if (!scn || !gelf_getshdr(scn, sh) || !(sh->sh_flags & SHF_EXECINSTR) || !sh->sh_addr)
		return NULL;
	return scn;
}

/* Stubs of one section being named from .rela.plt: the stub of GOT
 * slot k (its relocation's place: got + (3 + k) * word, the first three
 * words the dynamic linker's) at first + k * entry (within size). */
struct plt_fill {
	const struct elffile *f;
	struct symvec *pv;
	uint64_t addr, first, entry, size;
	uint64_t got, word; /* .got.plt's address, the GOT's word size */
};

static int plt_slot(void *ctx, const struct reloc *rel)
{
	struct plt_fill *pf = ctx;
	const char *name = rel->name;
	uint64_t k, at;

	if (rel->offset < pf->got + 3 * pf->word || (rel->offset - pf->got) % pf->word)
		return 0;
	k = (rel->offset - pf->got) / pf->word - 3;
	if (k >= pf->size / pf->entry)
		return 0;
	at = pf->first + k * pf->entry;
	if (at + pf->entry > pf->size)
		return 0;
	/* An ifunc's slot (IRELATIVE): named after its resolver, which is
	 * the ifunc's symbol (strlen's, memcpy's). */
	if (!name && rel->addend > 0) {
		const struct elfsym *s = elffile_lookup(pf->f, (uint64_t)rel->addend);

		name = s && s->addr == (uint64_t)rel->addend ? s->name : NULL;
	}
	if (!name)
		return 0;
	return symvec_push(pf->pv, &(struct rawsym){ name, "@plt", pf->addr + at, pf->entry, 1 });
}

/* .plt.got's stubs (x86-64: "jmp *slot(%rip)", after an endbr64 with
 * IBT), named after the .rela.dyn relocation of the slot they read. */
struct got_stub {
	uint64_t slot, addr;
};

struct got_fill {
	struct symvec *pv;
	struct got_stub *v;
	size_t n;
	uint64_t entry;
};

static int cmp_got_stub(const void *a, const void *b)
{
	const struct got_stub *x = a, *y = b;

	return x->slot < y->slot ? -1 : x->slot > y->slot;
}

static int got_slot(void *ctx, const struct reloc *rel)
{
	struct got_fill *gf = ctx;
	struct got_stub key = { rel->offset, 0 }, *s;

	if (!rel->name || !(s = bsearch(&key, gf->v, gf->n, sizeof(*gf->v), cmp_got_stub)))
		return 0;
	return symvec_push(gf->pv, &(struct rawsym){ rel->name, "@plt", s->addr, gf->entry, 1 });
}

static int collect_plt_got(Elf *e, struct symvec *pv)
{
	static const unsigned char endbr64[] = { 0xf3, 0x0f, 0x1e, 0xfa };
	struct got_fill gf = { pv, NULL, 0, 0 };
	Elf_Scn *scn;
	Elf_Data *d;
	GElf_Shdr sh;
	int err;

	scn = code_section(e, ".plt.got", &sh);
	if (!scn || (sh.sh_entsize != 8 && sh.sh_entsize != 16) || !(d = elf_getdata(scn, NULL)) ||
	    !d->d_buf || d->d_size < sh.sh_entsize)
		return 0;
	gf.entry = sh.sh_entsize;
	gf.v = calloc(d->d_size / gf.entry, sizeof(*gf.v));
	if (!gf.v)
		return -ENOMEM;
	for (uint64_t at = 0; at + gf.entry <= d->d_size; at += gf.entry) {
		const unsigned char *b = (const unsigned char *)d->d_buf + at;
		size_t k = 0;
		int32_t disp;

		if (gf.entry == 16 && !memcmp(b, endbr64, sizeof(endbr64)))
			k = sizeof(endbr64);
		if (b[k] == 0xf2) /* bnd */
			k++;
		if (k + 6 > gf.entry || b[k] != 0xff || b[k + 1] != 0x25)
			continue;
		memcpy(&disp, b + k + 2, sizeof(disp));
		gf.v[gf.n].addr = sh.sh_addr + at;
		gf.v[gf.n++].slot = sh.sh_addr + at + k + 6 + (int64_t)disp;
	}
	qsort(gf.v, gf.n, sizeof(*gf.v), cmp_got_stub);
	err = gf.n ? for_each_reloc(e, elffile_section(e, SHT_RELA, ".rela.dyn"), got_slot, &gf) :
		     0;
	free(gf.v);
	return err == -ENOENT ? 0 : err;
}

/* The GOT the PLT's slots are in: DT_PLTGOT (also under -z now, which
 * merges .got.plt into .got), else .got.plt's address; 0: none. */
static uint64_t plt_got(Elf *e)
{
	Elf_Scn *scn = elffile_section(e, SHT_DYNAMIC, NULL);
	Elf_Data *d = scn ? elf_getdata(scn, NULL) : NULL;
	GElf_Shdr sh;
	GElf_Dyn dyn;

	for (size_t i = 0;
	     d && gelf_getshdr(scn, &sh) && sh.sh_entsize && i < d->d_size / sh.sh_entsize &&
	     gelf_getdyn(d, (int)i, &dyn) && dyn.d_tag != DT_NULL;
	     i++)
		if (dyn.d_tag == DT_PLTGOT)
			return dyn.d_un.d_ptr;
	scn = elffile_section(e, SHT_PROGBITS, ".got.plt");
	return scn && gelf_getshdr(scn, &sh) ? sh.sh_addr : 0;
}

/* The PLT stubs (see elffile.plt), on the machines whose PLT layout is
 * known: a header of the lazy binding code, then one entry per GOT slot
 * of .rela.plt, in .plt or, with IBT, in .plt.sec.  f's symbols name the
 * ifuncs' slots. */
static int collect_plt(Elf *e, const struct elffile *f, struct symvec *pv)
{
	Elf_Scn *rel, *plt, *sec;
	GElf_Shdr psh, ssh;
	GElf_Ehdr eh;
	uint64_t header, got;
	int err = 0;

	if (!gelf_getehdr(e, &eh))
		return 0;
	if (eh.e_machine == EM_X86_64 || eh.e_machine == EM_386)
		header = 16;
	else if (eh.e_machine == EM_AARCH64)
		header = 32;
	else
		return 0;
	rel = elffile_section(e, SHT_RELA, ".rela.plt");
	if (!rel)
		rel = elffile_section(e, SHT_REL, ".rel.plt");
	plt = code_section(e, ".plt", &psh);
	sec = code_section(e, ".plt.sec", &ssh);
	got = plt_got(e);
	if (!got)
		rel = NULL; /* no slots to place the relocations in */
	if (plt) {
		struct rawsym r = { "[plt]", NULL, psh.sh_addr,
				    sec ? psh.sh_size :
					  (header < psh.sh_size ? header : psh.sh_size),
				    1 };

		err = symvec_push(pv, &r);
	}
	if (!err && rel && (sec || plt)) {
		struct plt_fill pf = { f,
				       pv,
				       sec ? ssh.sh_addr : psh.sh_addr,
				       sec ? 0 : header,
				       16,
				       sec ? ssh.sh_size : psh.sh_size,
				       got,
				       gelf_getclass(e) == ELFCLASS64 ? 8 : 4 };

		err = for_each_reloc(e, rel, plt_slot, &pf);
		err = err == -ENOENT ? 0 : err;
	}
	if (!err && eh.e_machine == EM_X86_64)
		err = collect_plt_got(e, pv);
	return err;
}

static int cmp_rawsym(const void *a, const void *b)
{
	const struct rawsym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return elfsym_name_cmp(x->name, x->global, y->name, y->global);
}

/* End of the PT_LOAD segment holding addr, or 0. */
static uint64_t segment_end(const struct elffile *f, uint64_t addr)
{
	size_t i;

	for (i = 0; i < f->nloads; i++) {
		uint64_t v = f->loads[i].vaddr;
		if (addr >= v && addr - v < f->loads[i].memsz)
			return v + f->loads[i].memsz;
	}
	return 0;
}

/* Copies the names of v[0..n) (without a version, with the suffix) into
 * one block, *block, and fills out[i] from v[i].  0 or -ENOMEM. */
static int copy_syms(const struct rawsym *v, size_t n, struct elfsym *out, char **block)
{
	size_t i, bytes = 0;
	char *w;

	for (i = 0; i < n; i++)
		bytes += name_len(v[i].name) + (v[i].suffix ? strlen(v[i].suffix) : 0) + 1;
	w = *block = malloc(bytes ? bytes : 1);
	if (!w)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		size_t l = name_len(v[i].name);

		out[i].name = w;
		memcpy(w, v[i].name, l);
		w += l;
		if (v[i].suffix) {
			memcpy(w, v[i].suffix, strlen(v[i].suffix));
			w += strlen(v[i].suffix);
		}
		*w++ = '\0';
		out[i].addr = v[i].addr;
		out[i].size = v[i].size;
	}
	return 0;
}

/* Sorts, keeps one name per address (the preferred one, the largest size),
 * gives zero-sized symbols the room up to the next one, copies names
 * without their version suffix. */
static int install_syms(struct elffile_priv *p, struct symvec *sv)
{
	struct elffile *f = &p->pub;
	size_t i, n = 0;

	if (sv->n == 0)
		return 0;
	qsort(sv->v, sv->n, sizeof(*sv->v), cmp_rawsym);
	for (i = 0; i < sv->n; i++) {
		if (n && sv->v[n - 1].addr == sv->v[i].addr) {
			if (sv->v[i].size > sv->v[n - 1].size)
				sv->v[n - 1].size = sv->v[i].size;
			continue;
		}
		sv->v[n++] = sv->v[i];
	}
	f->syms = calloc(n, sizeof(*f->syms));
	if (!f->syms)
		return -ENOMEM;
	if (copy_syms(sv->v, n, f->syms, &p->names)) {
		free(f->syms);
		f->syms = NULL;
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		struct elfsym *s = &f->syms[i];

		if (s->size == 0) {
			uint64_t end = i + 1 < n ? sv->v[i + 1].addr : segment_end(f, s->addr);
			s->size = end > s->addr ? end - s->addr : 1;
		}
	}
	f->nsyms = n;
	return 0;
}

/* The PLT stubs, sorted, one per address (the first found). */
static int install_plt(struct elffile_priv *p, struct symvec *pv)
{
	struct elffile *f = &p->pub;
	size_t i, n = 0;

	if (pv->n == 0)
		return 0;
	qsort(pv->v, pv->n, sizeof(*pv->v), cmp_rawsym);
	for (i = 0; i < pv->n; i++)
		if (!n || pv->v[n - 1].addr + pv->v[n - 1].size <= pv->v[i].addr)
			pv->v[n++] = pv->v[i];
	f->plt = calloc(n, sizeof(*f->plt));
	if (!f->plt)
		return -ENOMEM;
	if (copy_syms(pv->v, n, f->plt, &p->plt_names)) {
		free(f->plt);
		f->plt = NULL;
		return -ENOMEM;
	}
	f->nplt = n;
	return 0;
}

static void read_loads(Elf *e, struct elffile *f)
{
	size_t i, n;
	uint64_t lowest = UINT64_MAX;

	if (elf_getphdrnum(e, &n) != 0)
		return;
	for (i = 0; i < n && f->nloads < sizeof(f->loads) / sizeof(f->loads[0]); i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(e, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		f->loads[f->nloads].vaddr = ph.p_vaddr;
		f->loads[f->nloads].offset = ph.p_offset;
		f->loads[f->nloads].filesz = ph.p_filesz;
		f->loads[f->nloads].memsz = ph.p_memsz;
		f->loads[f->nloads].flags = ph.p_flags;
		f->nloads++;
		if (ph.p_vaddr < lowest) {
			lowest = ph.p_vaddr;
			f->load_bias_base = (ph.p_vaddr - ph.p_offset) & ~(uint64_t)0xfff;
		}
	}
}

/* Looks for NT_GNU_BUILD_ID in one block of notes. */
static int build_id_from_notes(Elf_Data *data, char out[41])
{
	static const char hex[] = "0123456789abcdef";
	size_t off = 0, name_off, desc_off;
	GElf_Nhdr nh;

	while (data && off < data->d_size &&
	       (off = gelf_getnote(data, off, &nh, &name_off, &desc_off)) > 0) {
		const unsigned char *d;
		size_t i;

		if (nh.n_type != NT_GNU_BUILD_ID_TYPE || nh.n_namesz != 4 ||
		    memcmp((const char *)data->d_buf + name_off, "GNU", 4) != 0)
			continue;
		if (nh.n_descsz == 0 || nh.n_descsz > BUILD_ID_MAX_BYTES ||
		    desc_off + nh.n_descsz > data->d_size)
			continue;
		d = (const unsigned char *)data->d_buf + desc_off;
		for (i = 0; i < nh.n_descsz; i++) {
			out[2 * i] = hex[d[i] >> 4];
			out[2 * i + 1] = hex[d[i] & 15];
		}
		out[2 * i] = '\0';
		return 0;
	}
	return -ENOENT;
}

static void read_build_id(Elf *e, char out[41])
{
	Elf_Scn *scn = NULL;
	size_t i, n;

	out[0] = '\0';
	while ((scn = elf_nextscn(e, scn)) != NULL) {
		GElf_Shdr sh;

		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_NOTE &&
		    build_id_from_notes(elf_getdata(scn, NULL), out) == 0)
			return;
	}
	if (elf_getphdrnum(e, &n) != 0)
		return;
	for (i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(e, (int)i, &ph) && ph.p_type == PT_NOTE &&
		    build_id_from_notes(
			    elf_getdata_rawchunk(e, (int64_t)ph.p_offset, ph.p_filesz, ELF_T_NHDR),
			    out) == 0)
			return;
	}
}

/* .gnu_debuglink: NUL-terminated file name, padding to 4, CRC32. */
static int read_debuglink(Elf *e, char **name, uint32_t *crc)
{
	Elf_Scn *scn = elffile_section(e, SHT_PROGBITS, ".gnu_debuglink");
	Elf_Data *d = scn ? elf_getdata(scn, NULL) : NULL;
	const unsigned char *b;
	size_t len, crc_off;
	GElf_Ehdr eh;

	if (!d || !d->d_buf || d->d_size < 5 || !gelf_getehdr(e, &eh))
		return -ENOENT;
	b = d->d_buf;
	len = strnlen((const char *)b, d->d_size);
	crc_off = (len + 1 + 3) & ~(size_t)3;
	if (len == 0 || len >= NAME_MAX || crc_off + 4 > d->d_size)
		return -ENOENT;
	/* A file name, not a path: never let the target steer us elsewhere. */
	if (memchr(b, '/', len) || strcmp((const char *)b, "..") == 0 ||
	    strcmp((const char *)b, ".") == 0)
		return -EINVAL;
	if (eh.e_ident[EI_DATA] == ELFDATA2MSB)
		*crc = (uint32_t)b[crc_off] << 24 | (uint32_t)b[crc_off + 1] << 16 |
		       (uint32_t)b[crc_off + 2] << 8 | b[crc_off + 3];
	else
		*crc = (uint32_t)b[crc_off + 3] << 24 | (uint32_t)b[crc_off + 2] << 16 |
		       (uint32_t)b[crc_off + 1] << 8 | b[crc_off];
	*name = strndup((const char *)b, len);
	return *name ? 0 : -ENOMEM;
}

static int file_crc32(int fd, uint32_t *out)
{
	unsigned char buf[65536];
	uLong crc = crc32(0L, Z_NULL, 0);
	ssize_t r;

	if (lseek(fd, 0, SEEK_SET) < 0)
		return -errno;
	while ((r = read(fd, buf, sizeof(buf))) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		crc = crc32(crc, buf, (uInt)r);
	}
	*out = (uint32_t)crc;
	return 0;
}

/* What a debug file must match: the build-id, else the debuglink CRC. */
struct debug_want {
	const char *build_id;
	int check_crc;
	uint32_t crc;
};

/* Collects the .symtab functions of candidate debug file path when it
 * matches.  0 when symbols were taken. */
static int try_debug_file(const char *path, const struct debug_want *want, struct symvec *sv)
{
	char bid[41];
	Elf *e;
	int fd, err = -ENOENT;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	e = elf_begin(fd, ELF_C_READ, NULL);
	if (!e || elf_kind(e) != ELF_K_ELF || !elffile_section(e, SHT_SYMTAB, NULL))
		goto out;
	read_build_id(e, bid);
	if (want->build_id[0] && bid[0]) {
		if (strcmp(bid, want->build_id) != 0)
			goto out;
	} else {
		uint32_t crc;

		if (!want->check_crc || file_crc32(fd, &crc) || crc != want->crc)
			goto out;
	}
	err = collect_funcs(e, SHT_SYMTAB, sv);
	if (!err && sv->n == 0)
		err = -ENOENT;
	if (!err) {
		sv->owner = e;
		sv->owner_fd = fd;
		return 0;
	}
	sv->n = 0;
out:
	if (e)
		elf_end(e);
	close(fd);
	return err;
}

/* Formats a candidate path and tries it.  0 when symbols were taken. */
__attribute__((format(printf, 3, 4))) static int try_candidate(const struct debug_want *want,
							       struct symvec *sv, const char *fmt,
							       ...)
{
	char cand[PATH_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(cand, sizeof(cand), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(cand))
		return -ENAMETOOLONG;
	return try_debug_file(cand, want, sv);
}

/* The candidates gdb uses, in its order, all under root. */
static int find_debug_syms(const char *path, const char *root, const char *debuglink,
			   const struct debug_want *want, struct symvec *sv)
{
	const char *slash, *dir, *tdir;
	size_t rl = strlen(root);
	int dirlen, dl;

	if (strlen(want->build_id) > 2 &&
	    try_candidate(want, sv, "%s/usr/lib/debug/.build-id/%.2s/%s.debug", root,
			  want->build_id, want->build_id + 2) == 0)
		return 0;
	if (!debuglink)
		return -ENOENT;
	slash = strrchr(path, '/');
	dir = slash ? path : ".";
	dirlen = slash ? (int)(slash - path) : 1;
	dl = dirlen;
	/* The directory as the target sees it, for /usr/lib/debug<dir>. */
	tdir = dir;
	if (rl && slash && strncmp(path, root, rl) == 0 && (size_t)dl >= rl) {
		tdir = path + rl;
		dl -= (int)rl;
	}
	if (try_candidate(want, sv, "%.*s/%s", dirlen, dir, debuglink) == 0 ||
	    try_candidate(want, sv, "%.*s/.debug/%s", dirlen, dir, debuglink) == 0 ||
	    try_candidate(want, sv, "%s/usr/lib/debug%.*s/%s", root, dl, tdir, debuglink) == 0)
		return 0;
	return -ENOENT;
}

void elffile_free(struct elffile *f)
{
	struct elffile_priv *p = (struct elffile_priv *)f;

	if (!f)
		return;
	free(f->path);
	free(f->syms);
	free(f->plt);
	free(f->debuglink);
	free(p->names);
	free(p->plt_names);
	free(p);
}

/* Reads everything from an open Elf.  path names the file (and its
 * directory for debuglink lookups); root may be NULL; debug 0: no debug
 * file lookups (an image in memory). */
static int load_elf(Elf *e, const char *path, const char *root, int debug, struct elffile **out)
{
	struct elffile_priv *p;
	struct elffile *f;
	struct symvec sv = { 0 }, pv = { 0 };
	uint32_t crc = 0;
	GElf_Ehdr eh;
	int err;

	if (elf_kind(e) != ELF_K_ELF || !gelf_getehdr(e, &eh))
		return -ENOEXEC;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	f = &p->pub;
	f->path = strdup(path);
	if (!f->path) {
		err = -ENOMEM;
		goto fail;
	}
	f->is_pie_or_dyn = eh.e_type == ET_DYN;
	read_loads(e, f);
	read_build_id(e, f->build_id);
	err = read_debuglink(e, &f->debuglink, &crc);
	if (err == -ENOMEM)
		goto fail;

	err = collect_funcs(e, SHT_SYMTAB, &sv);
	if (err == 0 && sv.n)
		f->source = ELFSYM_SYMTAB;
	else if (err == -ENOENT && debug) {
		struct debug_want want = { f->build_id, f->debuglink != NULL, crc };

		sv.n = 0;
		if (find_debug_syms(path, root ? root : "", f->debuglink, &want, &sv) == 0)
			f->source = ELFSYM_DEBUGLINK;
	}
	if (f->source == ELFSYM_NONE) {
		sv.n = 0;
		err = collect_funcs(e, SHT_DYNSYM, &sv);
		if (err == 0 && sv.n)
			f->source = ELFSYM_DYNSYM;
	}
	err = install_syms(p, &sv);
	if (!err)
		err = collect_plt(e, f, &pv);
	if (!err)
		err = install_plt(p, &pv);
	if (err)
		goto fail;
	symvec_free(&sv);
	symvec_free(&pv);
	*out = f;
	return 0;
fail:
	symvec_free(&sv);
	symvec_free(&pv);
	elffile_free(f);
	return err;
}

int elffile_open_fd(int fd, const char *path, const char *root, struct elffile **out)
{
	Elf *e;
	int err;

	if (fd < 0 || !path || !out)
		return -EINVAL;
	err = libelf_ready();
	if (err)
		return err;
	e = elf_begin(fd, ELF_C_READ, NULL);
	if (!e)
		return -ENOEXEC;
	err = load_elf(e, path, root, 1, out);
	elf_end(e);
	return err;
}

int elffile_open(const char *path, const char *root, struct elffile **out)
{
	int fd, err;

	if (!path || !out)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = elffile_open_fd(fd, path, root, out);
	close(fd);
	return err;
}

int elffile_open_mem(void *image, size_t size, const char *name, struct elffile **out)
{
	Elf *e;
	int err;

	if (!image || !name || !out)
		return -EINVAL;
	err = libelf_ready();
	if (err)
		return err;
	e = elf_memory(image, size);
	if (!e)
		return -ENOEXEC;
	err = load_elf(e, name, NULL, 0, out);
	elf_end(e);
	return err;
}

const struct elfsym *elffile_lookup(const struct elffile *f, uint64_t addr)
{
	const struct elfsym *s;
	ssize_t i;

	if (!f)
		return NULL;
	/* A stub is never inside a symbol (but for one given the room up to
	 * the next, as _init before the .plt). */
	i = sorted_find_le(f->plt, f->nplt, sizeof(*f->plt), offsetof(struct elfsym, addr), addr);
	if (i >= 0 && addr - f->plt[i].addr < f->plt[i].size)
		return &f->plt[i];
	i = sorted_find_le(f->syms, f->nsyms, sizeof(*f->syms), offsetof(struct elfsym, addr),
			   addr);
	if (i < 0)
		return NULL;
	s = &f->syms[i];
	return addr - s->addr < s->size ? s : NULL;
}

int elffile_offset_to_addr(const struct elffile *f, uint64_t off, uint64_t *addr)
{
	size_t i, best = SIZE_MAX;

	if (!f || !addr)
		return -EINVAL;
	for (i = 0; i < f->nloads; i++) {
		if (off < f->loads[i].offset || off - f->loads[i].offset >= f->loads[i].filesz)
			continue;
		if (best == SIZE_MAX || (f->loads[i].flags & PF_X))
			best = i;
	}
	if (best == SIZE_MAX)
		return -ENOENT;
	*addr = f->loads[best].vaddr + (off - f->loads[best].offset);
	return 0;
}

int elffile_addr_to_offset(const struct elffile *f, uint64_t addr, uint64_t *off)
{
	size_t i;

	if (!f || !off)
		return -EINVAL;
	for (i = 0; i < f->nloads; i++) {
		if (addr < f->loads[i].vaddr || addr - f->loads[i].vaddr >= f->loads[i].filesz)
			continue;
		*off = f->loads[i].offset + (addr - f->loads[i].vaddr);
		return 0;
	}
	return -ENOENT;
}

const char *elffile_source_note(const struct elffile *f, const char *module, char *buf, size_t len)
{
	if (!buf || !len)
		return NULL;
	if (!f)
		snprintf(buf, len, "%s could not be read: no symbols (its code is addresses only)",
			 module);
	else if (f->source == ELFSYM_SYMTAB)
		return NULL;
	else if (f->source == ELFSYM_DYNSYM)
		snprintf(buf, len,
			 "%s has no .symtab: fell back to .dynsym (exported functions only)",
			 module);
	else if (f->source == ELFSYM_DEBUGLINK)
		snprintf(buf, len, "%s: symbols from its separate debug file", module);
	else
		snprintf(buf, len, "%s has no symbols (no .symtab, .dynsym or debug file)", module);
	return buf;
}
