/* user/unwind/cfi.c: the unwind rows of the fixture binaries
 * (tests/unit/fixtures.mk) and of this machine's libc, checked at every
 * row readelf --debug-dump=frames-interp prints (binutils' own reading of
 * the same CFI). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <fcntl.h>
#include <gelf.h>
#include <unistd.h>

#include "unwind/cfi.h"

#define FIXT "build/fixtures/"
#define MAX_CIES 64

/* One parsed readelf row: the CFA, rbp and ra columns as text; signal:
 * its CIE's augmentation has 'S' (a signal frame). */
struct rrow {
	char cfa[32], rbp[16], rbx[16], ra[16];
	int signal, plt; /* plt: a CFA expression inside .plt */
	int plt_k;	 /* the file's lazy .plt threshold (plt_threshold) */
};

/* binutils' lazy .plt CFA expression as readelf --debug-dump=frames
 * prints it, up to its threshold K of (pc & 15): 11 for the standard
 * entries, 9 for IBT's (endbr64 first). */
#define PLT_EXPR                                                                   \
	"DW_CFA_def_cfa_expression (DW_OP_breg7 (rsp): 8; DW_OP_breg16 (rip): 0; " \
	"DW_OP_lit15; DW_OP_and; DW_OP_lit"

/* K of path's lazy .plt expression (and that the rest of it is the
 * standard one), or -1 when it has none. */
static int plt_threshold(const char *path)
{
	char cmd[512], line[1024], tail[128];
	int k = -1;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "readelf --debug-dump=frames %s 2>/dev/null", path);
	f = popen(cmd, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		char *p = strstr(line, PLT_EXPR);
		int n;

		if (!p || sscanf(p + strlen(PLT_EXPR), "%d%127[^\n]", &n, tail) != 2)
			continue;
		if (!strcmp(tail, "; DW_OP_ge; DW_OP_lit3; DW_OP_shl; DW_OP_plus)"))
			k = n;
	}
	pclose(f);
	return k;
}

/* The address range [lo, hi) of section name in path: 0, or -1. */
static int section_range(const char *path, const char *name, unsigned long *lo, unsigned long *hi)
{
	int fd = open(path, O_RDONLY), found = -1;
	Elf *e;
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	if (fd < 0)
		return -1;
	elf_version(EV_CURRENT);
	e = elf_begin(fd, ELF_C_READ, NULL);
	if (e && !elf_getshdrstrndx(e, &shstrndx)) {
		while ((scn = elf_nextscn(e, scn))) {
			GElf_Shdr sh;
			const char *n;

			if (!gelf_getshdr(scn, &sh) || !(n = elf_strptr(e, shstrndx, sh.sh_name)) ||
			    strcmp(n, name))
				continue;
			*lo = sh.sh_addr;
			*hi = sh.sh_addr + sh.sh_size;
			found = 0;
		}
	}
	if (e)
		elf_end(e);
	close(fd);
	return found;
}

/* A row's rbx_off for readelf's rbx column: saved at CFA-N ("c-N"),
 * unchanged (no column, "u", "s"), else lost (a register, "exp"). */
static int16_t rbx_rule(const char *col)
{
	if (col[0] == 'c')
		return (int16_t)atoi(col + 1);
	if (!col[0] || !strcmp(col, "u") || !strcmp(col, "s"))
		return 0;
	return UNWIND_RBX_LOST;
}

/* The row cfi.c must have made of one readelf row. */
static void expect(const struct rrow *r, struct unwind_row *w)
{
	memset(w, 0, sizeof(*w));
	if (r->signal) {
		w->cmd = UNWIND_SIGNAL;
		return;
	}
	if (r->plt && !strcmp(r->cfa, "exp") && !strcmp(r->ra, "c-8")) {
		/* binutils' lazy .plt: rsp + 8, + 8 from the entry's push */
		assert_true(r->plt_k >= 0);
		w->cmd = UNWIND_PLT;
		w->cfa_off = 8;
		w->arg = (uint8_t)r->plt_k;
		w->rbx_off = rbx_rule(r->rbx);
		return;
	}
	if (!strcmp(r->ra, "u")) {
		w->cmd = UNWIND_STOP;
		return;
	}
	w->cmd = UNWIND_FP;
	if (strcmp(r->ra, "c-8"))
		return;
	if (r->rbp[0] == 'c')
		w->rbp_off = (int16_t)atoi(r->rbp + 1);
	else if (r->rbp[0] && strcmp(r->rbp, "u"))
		return; /* rbp in a register or an expression */
	if (!strncmp(r->cfa, "rsp+", 4))
		w->cmd = UNWIND_CFA_RSP;
	else if (!strncmp(r->cfa, "rbp+", 4))
		w->cmd = UNWIND_CFA_RBP;
	else if (!strncmp(r->cfa, "rbx+", 4))
		w->cmd = UNWIND_CFA_RBX;
	else
		w->rbp_off = 0;
	if (w->cmd != UNWIND_FP) {
		w->cfa_off = (int32_t)atoi(r->cfa + 4);
		w->rbx_off = rbx_rule(r->rbx);
	}
}

/* Splits a LOC line by the header's columns. */
static unsigned long parse_row(char *line, char cols[][16], int ncols, struct rrow *r)
{
	char *save, *tok = strtok_r(line, " \n", &save);
	unsigned long pc = strtoul(tok, NULL, 16);

	memset(r, 0, sizeof(*r));
	for (int c = 1; c < ncols && (tok = strtok_r(NULL, " \n", &save)); c++) {
		/* "r10 (r10)" is one column: a register rule */
		if (tok[0] == '(') {
			c--;
			continue;
		}
		if (!strcmp(cols[c], "CFA"))
			snprintf(r->cfa, sizeof(r->cfa), "%s", tok);
		else if (!strcmp(cols[c], "rbp"))
			snprintf(r->rbp, sizeof(r->rbp), "%s", tok);
		else if (!strcmp(cols[c], "rbx"))
			snprintf(r->rbx, sizeof(r->rbx), "%s", tok);
		else if (!strcmp(cols[c], "ra"))
			snprintf(r->ra, sizeof(r->ra), "%s", tok);
	}
	return pc;
}

static void check_at(const struct cfi_table *t, unsigned long pc, const struct rrow *r,
		     size_t *checked)
{
	struct unwind_row want;
	const struct unwind_row *got = cfi_table_find(t, pc);

	expect(r, &want);
	assert_non_null(got);
	if (got->cmd != want.cmd || got->cfa_off != want.cfa_off || got->rbp_off != want.rbp_off ||
	    got->rbx_off != want.rbx_off || got->arg != want.arg)
		fail_msg("pc %#lx: readelf CFA %s rbp %s rbx %s ra %s; got cmd %d cfa %d rbp %d "
			 "rbx %d arg %d",
			 pc, r->cfa, r->rbp, r->rbx, r->ra, got->cmd, got->cfa_off, got->rbp_off,
			 got->rbx_off, got->arg);
	(*checked)++;
}

/* Every row readelf prints for path, and each FDE without rows of its
 * own (its CIE's initial rules) at its first pc. */
static size_t check_file(const char *path)
{
	char cmd[512], line[512], cols[16][16];
	unsigned long cie_off[MAX_CIES], fde_lo = 0, fde_hi = 0;
	struct rrow cie_row[MAX_CIES], r;
	struct cfi_table t;
	unsigned long sig_off[MAX_CIES], plt_lo = 0, plt_hi = 0;
	int nsig = 0, signal = 0, plt_k = plt_threshold(path);
	int ncies = 0, ncols = 0, in_cie = 0, fde_rows = -1, fde_cie = -1;
	size_t checked = 0;
	FILE *f;

	assert_int_equal(cfi_table_build(path, NULL, &t), 0);
	assert_non_null(t.source);
	section_range(path, ".plt", &plt_lo, &plt_hi);
	snprintf(cmd, sizeof(cmd), "readelf --debug-dump=frames-interp %s 2>/dev/null", path);
	f = popen(cmd, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		unsigned long off, pc;
		char *p, *q;

		if (strstr(line, " CIE ") && ncies < MAX_CIES) {
			cie_off[ncies] = strtoul(line, NULL, 16);
			/* CIE "zRS": the augmentation string, S for a signal
			 * frame (such a CIE may print no row of its own) */
			p = strchr(line, '"');
			q = p ? strchr(p + 1, '"') : NULL;
			if (q && memchr(p + 1, 'S', (size_t)(q - p - 1)) && nsig < MAX_CIES)
				sig_off[nsig++] = cie_off[ncies];
			in_cie = 1;
		} else if ((p = strstr(line, " FDE cie="))) {
			if (fde_rows == 0 && fde_cie >= 0)
				check_at(&t, fde_lo, &cie_row[fde_cie], &checked);
			off = strtoul(p + 9, NULL, 16);
			fde_cie = -1;
			for (int i = 0; i < ncies; i++)
				if (cie_off[i] == off)
					fde_cie = i;
			signal = 0;
			for (int i = 0; i < nsig; i++)
				signal |= sig_off[i] == off;
			fde_lo = strtoul(strstr(line, "pc=") + 3, NULL, 16);
			fde_hi = strtoul(strstr(line, "..") + 2, NULL, 16);
			fde_rows = 0;
			in_cie = 0;
		} else if (strstr(line, "   LOC ")) {
			char *save, *tok = strtok_r(line, " \n", &save);

			for (ncols = 0; tok && ncols < 16; tok = strtok_r(NULL, " \n", &save))
				snprintf(cols[ncols++], sizeof(cols[0]), "%s", tok);
		} else if (line[0] >= '0' && line[0] <= 'f' && strlen(line) > 17 &&
			   line[16] == ' ') {
			pc = parse_row(line, cols, ncols, &r);
			r.signal = !in_cie && signal;
			r.plt = !in_cie && pc >= plt_lo && pc < plt_hi;
			r.plt_k = plt_k;
			if (in_cie) {
				cie_row[ncies++] = r;
				in_cie = 0;
			} else if (fde_rows >= 0 && pc < fde_hi) {
				/* (a row at the FDE's end belongs to none) */
				check_at(&t, pc, &r, &checked);
				fde_rows++;
			}
		}
	}
	if (fde_rows == 0 && fde_cie >= 0)
		check_at(&t, fde_lo, &cie_row[fde_cie], &checked);
	pclose(f);
	cfi_table_free(&t);
	return checked;
}

static void test_fixture_pie(void **state)
{
	(void)state;
	assert_true(check_file(FIXT "fixture_pie") > 10);
}

static void test_fixture_nopie(void **state)
{
	(void)state;
	assert_true(check_file(FIXT "fixture_nopie") > 10);
}

static void test_fixture_ibt(void **state)
{
	(void)state;
	assert_true(check_file(FIXT "fixture_ibt") > 10);
}

/* gold's order, .eh_frame_hdr after .eh_frame, which libdw's section
 * lookup misses (cfi.c reads such a file through PT_GNU_EH_FRAME): the
 * same rows as readelf's. */
static void test_fixture_gold(void **state)
{
	unsigned long eh, eh_end, hdr, hdr_end;

	(void)state;
	assert_int_equal(section_range(FIXT "fixture_gold", ".eh_frame", &eh, &eh_end), 0);
	assert_int_equal(section_range(FIXT "fixture_gold", ".eh_frame_hdr", &hdr, &hdr_end), 0);
	assert_true(hdr > eh);
	assert_true(check_file(FIXT "fixture_gold") > 10);
}

static void test_fixture_lib(void **state)
{
	(void)state;
	assert_true(check_file(FIXT "libfixture.so") > 3);
}

/* Debian's libc: thousands of FDEs, no frame pointers. */
static void test_libc(void **state)
{
	(void)state;
	assert_true(check_file("/lib/x86_64-linux-gnu/libc.so.6") > 10000);
}

/* The lazy .plt of the fixtures and libc: rsp+16 at PLT0, rsp+24 after
 * its push, then binutils' expression (readelf --debug-dump=frames
 * shows it) for the 16-byte entries: PLT rows of rsp + 8 (+ 8 from
 * (pc & 15) >= k: 11, or 9 for IBT's entries); IBT's .plt.sec (the
 * bound stubs the calls go to) is plain rsp + 8. */
static void check_plt(const char *path, int k)
{
	unsigned long lo, hi, sec_lo, sec_hi;
	struct cfi_table t;
	const struct unwind_row *r;
	int sec;

	assert_int_equal(section_range(path, ".plt", &lo, &hi), 0);
	assert_true(hi - lo >= 32);
	assert_int_equal(plt_threshold(path), k);
	sec = section_range(path, ".plt.sec", &sec_lo, &sec_hi) == 0;
	assert_int_equal(sec, k == 9);
	assert_int_equal(cfi_table_build(path, NULL, &t), 0);
	r = cfi_table_find(&t, lo);
	assert_int_equal(r->cmd, UNWIND_CFA_RSP);
	assert_int_equal(r->cfa_off, 16);
	r = cfi_table_find(&t, lo + 6);
	assert_int_equal(r->cmd, UNWIND_CFA_RSP);
	assert_int_equal(r->cfa_off, 24);
	for (unsigned long pc = lo + 16; pc < hi; pc++) {
		r = cfi_table_find(&t, pc);
		assert_int_equal(r->cmd, UNWIND_PLT);
		assert_int_equal(r->cfa_off, 8);
		assert_int_equal(r->arg, k);
	}
	for (unsigned long pc = sec_lo; sec && pc < sec_hi; pc++) {
		r = cfi_table_find(&t, pc);
		assert_int_equal(r->cmd, UNWIND_CFA_RSP);
		assert_int_equal(r->cfa_off, 8);
	}
	cfi_table_free(&t);
}

static void test_plt(void **state)
{
	(void)state;
	check_plt(FIXT "fixture_pie", 11);
	check_plt(FIXT "fixture_nopie", 11);
	check_plt(FIXT "fixture_ibt", 9);
	check_plt("/lib/x86_64-linux-gnu/libc.so.6", 11);
}

/* e_entry of the ELF file path. */
static unsigned long entry_of(const char *path)
{
	int fd = open(path, O_RDONLY);
	GElf_Ehdr eh = { 0 };
	Elf *e;

	assert_true(fd >= 0);
	elf_version(EV_CURRENT);
	e = elf_begin(fd, ELF_C_READ, NULL);
	assert_non_null(gelf_getehdr(e, &eh));
	elf_end(e);
	close(fd);
	return eh.e_entry;
}

/* Debian's dynamic linker: its lazy-binding resolvers keep their entry
 * rsp in rbx and realign rsp (CFA rbx + 56, rbx saved at CFA - 56); its
 * entry point is the outermost frame. */
static void test_ld_so(void **state)
{
	const char *path = "/lib64/ld-linux-x86-64.so.2";
	struct cfi_table t;
	size_t rbx = 0;

	(void)state;
	assert_true(check_file(path) > 1000);
	assert_int_equal(cfi_table_build(path, NULL, &t), 0);
	for (size_t i = 0; i < t.n; i++)
		if (t.rows[i].cmd == UNWIND_CFA_RBX) {
			assert_int_equal(t.rows[i].rbx_off, -t.rows[i].cfa_off);
			rbx++;
		}
	assert_true(rbx >= 3); /* _dl_runtime_resolve_{fxsave,xsave,xsavec} */
	/* Its _start (RTLD_START) has no FDE: the outermost frame there. */
	assert_int_equal(cfi_table_find(&t, entry_of(path))->cmd, UNWIND_STOP);
	assert_int_equal(cfi_table_find(&t, entry_of(path) + 8)->cmd, UNWIND_STOP);
	cfi_table_free(&t);
}

/* glibc's __restore_rt: its FDE is a signal frame's ('S'). */
static void test_libc_signal_frame(void **state)
{
	struct cfi_table t;
	size_t signal = 0;

	(void)state;
	assert_int_equal(cfi_table_build("/lib/x86_64-linux-gnu/libc.so.6", NULL, &t), 0);
	for (size_t i = 0; i < t.n; i++)
		signal += t.rows[i].cmd == UNWIND_SIGNAL;
	assert_true(signal >= 1);
	cfi_table_free(&t);
}

/* _start's return address is undefined: the walk stops there. */
static void test_stop_and_gaps(void **state)
{
	struct cfi_table t;
	size_t stops = 0, none = 0;

	(void)state;
	assert_int_equal(cfi_table_build(FIXT "fixture_nopie", NULL, &t), 0);
	for (size_t i = 0; i < t.n; i++) {
		stops += t.rows[i].cmd == UNWIND_STOP;
		none += t.rows[i].cmd == UNWIND_NONE;
		if (i)
			assert_true(t.rows[i - 1].pc < t.rows[i].pc);
	}
	assert_int_equal(stops, 1);
	assert_true(none >= 1); /* past the end of the code at least */
	assert_null(cfi_table_find(&t, t.rows[0].pc - 1));
	cfi_table_free(&t);
}

static void test_not_elf(void **state)
{
	struct cfi_table t;

	(void)state;
	assert_int_equal(cfi_table_build("tests/unit/fixtures/kallsyms.txt", NULL, &t), -ENOEXEC);
	assert_int_equal(cfi_table_build("/nonexistent", NULL, &t), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixture_pie), cmocka_unit_test(test_fixture_nopie),
		cmocka_unit_test(test_fixture_ibt), cmocka_unit_test(test_fixture_gold),
		cmocka_unit_test(test_fixture_lib), cmocka_unit_test(test_libc),
		cmocka_unit_test(test_ld_so),	    cmocka_unit_test(test_libc_signal_frame),
		cmocka_unit_test(test_plt),	    cmocka_unit_test(test_stop_and_gaps),
		cmocka_unit_test(test_not_elf),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
