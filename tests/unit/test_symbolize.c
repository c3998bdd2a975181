/* ELF symbols, kernel symbols and the per-process symbolizer, checked
 * against the fixture programs (tests/unit/fixtures.mk), which print the
 * link-time and run-time addresses and first bytes of their functions. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "symbols/elfsym.h"
#include "symbols/kallsyms.h"
#include "symbols/procmaps.h"
#include "symbols/symbolize.h"

#define FIXT "build/fixtures/"
#define KALLSYMS_FIXTURE "tests/unit/fixtures/kallsyms.txt"

struct fsym {
	char name[64];
	uint64_t link, rt;
	unsigned char bytes[16];
};

struct fixture {
	pid_t pid;
	FILE *out; /* the child's stdout */
	FILE *in;  /* the child's stdin */
	struct fsym syms[16];
	size_t n;
};

/* The fixture alive now: killed by the teardown when a test fails. */
static pid_t live_child;

static int hexbyte(const char *p)
{
	unsigned v;

	return sscanf(p, "%2x", &v) == 1 ? (int)v : -1;
}

/* Reads report lines up to "ready". */
static void read_report(struct fixture *f)
{
	char line[512];

	f->n = 0;
	while (fgets(line, sizeof(line), f->out)) {
		struct fsym *s = &f->syms[f->n];
		char hex[64];
		unsigned long link, rt;

		if (strcmp(line, "ready\n") == 0)
			return;
		assert_true(f->n < sizeof(f->syms) / sizeof(f->syms[0]));
		assert_int_equal(sscanf(line, "%63s %lx %lx %32s", s->name, &link, &rt, hex), 4);
		s->link = link;
		s->rt = rt;
		for (int i = 0; i < 16; i++) {
			int b = hexbyte(hex + 2 * i);
			assert_true(b >= 0);
			s->bytes[i] = (unsigned char)b;
		}
		f->n++;
	}
	fail_msg("fixture output ended before \"ready\"");
}

/* Starts "exe args..." with pipes on stdin/stdout and reads its report. */
static void spawn(struct fixture *f, int no_aslr, const char *exe, const char *a1, const char *a2)
{
	int out[2], in[2];

	memset(f, 0, sizeof(*f));
	assert_int_equal(pipe(out), 0);
	assert_int_equal(pipe(in), 0);
	f->pid = fork();
	assert_true(f->pid >= 0);
	if (f->pid == 0) {
		dup2(out[1], 1);
		dup2(in[0], 0);
		close(out[0]);
		close(in[1]);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (no_aslr)
			personality(ADDR_NO_RANDOMIZE);
		execl(exe, exe, a1, a2, (char *)NULL);
		_exit(127);
	}
	live_child = f->pid;
	close(out[1]);
	close(in[0]);
	f->out = fdopen(out[0], "r");
	f->in = fdopen(in[1], "w");
	assert_non_null(f->out);
	assert_non_null(f->in);
	read_report(f);
}

static void reap(struct fixture *f, int sig)
{
	int status;

	if (sig)
		kill(f->pid, sig);
	assert_int_equal(waitpid(f->pid, &status, 0), f->pid);
	live_child = 0;
	fclose(f->out);
	fclose(f->in);
}

/* The report of a program that exits by itself. */
static void report_of(const char *exe, struct fixture *f)
{
	spawn(f, 0, exe, NULL, NULL);
	reap(f, 0);
}

static const struct fsym *fsym(const struct fixture *f, const char *name)
{
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->syms[i].name, name) == 0)
			return &f->syms[i];
	fail_msg("fixture did not report %s", name);
	return NULL;
}

static const char *const own_funcs[] = { "fixture_alpha", "fixture_beta", "fixture_local",
					 "fixture_nosize", "main" };

/* Symbol lookups and offset conversions of an executable fixture against
 * what the running program reported.  bytes_path: the file holding the
 * code (the stripped file for the debuglink case). */
static void check_elf_funcs(const struct elffile *e, const struct fixture *f,
			    const char *bytes_path)
{
	int fd = open(bytes_path, O_RDONLY);

	assert_true(fd >= 0);
	for (size_t i = 0; i < sizeof(own_funcs) / sizeof(own_funcs[0]); i++) {
		const struct fsym *s = fsym(f, own_funcs[i]);
		const struct elfsym *sym;
		unsigned char buf[16];
		uint64_t off, back;

		sym = elffile_lookup(e, s->link);
		assert_non_null(sym);
		assert_string_equal(sym->name, s->name);
		assert_int_equal(sym->addr, s->link);
		assert_true(sym->size > 0);
		sym = elffile_lookup(e, s->link + sym->size - 1);
		assert_non_null(sym);
		assert_string_equal(sym->name, s->name);

		/* addr -> file offset: the bytes there are the function's. */
		assert_int_equal(elffile_addr_to_offset(e, s->link, &off), 0);
		assert_int_equal(pread(fd, buf, sizeof(buf), (off_t)off), (ssize_t)sizeof(buf));
		assert_memory_equal(buf, s->bytes, sizeof(buf));
		assert_int_equal(elffile_offset_to_addr(e, off, &back), 0);
		assert_int_equal(back, s->link);
	}
	/* The zero-size symbol reaches up to the next one. */
	{
		const struct fsym *nz = fsym(f, "fixture_nosize"), *al = fsym(f, "fixture_alpha");
		const struct elfsym *sym = elffile_lookup(e, nz->link);

		assert_true(al->link > nz->link);
		assert_int_equal(sym->size, al->link - nz->link);
	}
	close(fd);
}

static void test_elf_pie(void **state)
{
	struct fixture f;
	struct elffile *e;
	uint64_t a;

	report_of(FIXT "fixture_pie", &f);
	assert_int_equal(elffile_open(FIXT "fixture_pie", NULL, &e), 0);
	assert_int_equal(e->source, ELFSYM_SYMTAB);
	assert_int_equal(e->is_pie_or_dyn, 1);
	assert_int_equal(strlen(e->build_id), 40);
	assert_null(e->debuglink);
	assert_true(e->nloads >= 2);
	assert_int_equal(e->load_bias_base, 0);
	check_elf_funcs(e, &f, FIXT "fixture_pie");
	/* Aliases: one entry per address, the plain global name. */
	for (size_t i = 1; i < e->nsyms; i++)
		assert_true(e->syms[i - 1].addr < e->syms[i].addr);
	for (size_t i = 0; i < e->nsyms; i++)
		assert_string_not_equal(e->syms[i].name, "__fixture_alpha_alias");
	/* Outside every symbol and segment. */
	assert_null(elffile_lookup(e, 0));
	assert_int_equal(elffile_offset_to_addr(e, 1ULL << 40, &a), -ENOENT);
	assert_int_equal(elffile_addr_to_offset(e, 1ULL << 40, &a), -ENOENT);
	elffile_free(e);
}

static void test_elf_nopie(void **state)
{
	struct fixture f;
	struct elffile *e;

	report_of(FIXT "fixture_nopie", &f);
	/* Not relocated: link address == run-time address. */
	assert_int_equal(fsym(&f, "fixture_beta")->link, fsym(&f, "fixture_beta")->rt);
	assert_int_equal(elffile_open(FIXT "fixture_nopie", NULL, &e), 0);
	assert_int_equal(e->source, ELFSYM_SYMTAB);
	assert_int_equal(e->is_pie_or_dyn, 0);
	assert_true(e->load_bias_base > 0);
	check_elf_funcs(e, &f, FIXT "fixture_nopie");
	elffile_free(e);
}

static void test_elf_debuglink(void **state)
{
	struct fixture f;
	struct elffile *e, *dbg;

	report_of(FIXT "fixture_stripped", &f);
	assert_int_equal(elffile_open(FIXT "fixture_stripped", NULL, &e), 0);
	assert_int_equal(e->source, ELFSYM_DEBUGLINK);
	assert_non_null(e->debuglink);
	assert_string_equal(e->debuglink, "fixture_stripped.debug");
	assert_int_equal(strlen(e->build_id), 40);
	/* Segments are the stripped file's: the bytes are read from it. */
	check_elf_funcs(e, &f, FIXT "fixture_stripped");
	/* Same build as the unstripped PIE. */
	assert_int_equal(elffile_open(FIXT "fixture_stripped.debug", NULL, &dbg), 0);
	assert_string_equal(dbg->build_id, e->build_id);
	assert_int_equal(dbg->nsyms, e->nsyms);
	elffile_free(dbg);
	elffile_free(e);
}

static void copy_file(const char *from, const char *to)
{
	char buf[65536];
	int in = open(from, O_RDONLY), out;
	ssize_t r;

	assert_true(in >= 0);
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	assert_true(out >= 0);
	while ((r = read(in, buf, sizeof(buf))) > 0)
		assert_int_equal(write(out, buf, (size_t)r), r);
	close(in);
	close(out);
}

static void mkdirs(const char *path)
{
	char tmp[PATH_MAX];

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		mkdir(tmp, 0755);
		*p = '/';
	}
	mkdir(tmp, 0755);
}

static void rm_rf(const char *dir)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

/* Puts the fixture's debug file at dir/name (dbg receives the path) and
 * checks that opening bin under root finds it. */
static void debug_found_at(const char *root, const char *bin, const char *dir, const char *name,
			   char *dbg, size_t dbglen)
{
	struct elffile *e;

	mkdirs(dir);
	snprintf(dbg, dbglen, "%s/%s", dir, name);
	copy_file(FIXT "fixture_stripped.debug", dbg);
	assert_int_equal(elffile_open(bin, root, &e), 0);
	assert_int_equal(e->source, ELFSYM_DEBUGLINK);
	assert_non_null(elffile_lookup(e, e->syms[0].addr));
	elffile_free(e);
}

/* Debug files under a root prefix: by build-id, in /usr/lib/debug<dir>,
 * in <dir>/.debug; and a wrong file with the right name is refused. */
static void test_elf_debug_under_root(void **state)
{
	char root[] = "/tmp/ebprof-test-root-XXXXXX";
	char bin[PATH_MAX], dbg[PATH_MAX + 64], dir[PATH_MAX];
	struct elffile *e;
	char bid[41], name[48];

	assert_non_null(mkdtemp(root));
	snprintf(dir, sizeof(dir), "%s/opt/app", root);
	mkdirs(dir);
	snprintf(bin, sizeof(bin), "%s/opt/app/prog", root);
	copy_file(FIXT "fixture_stripped", bin);
	assert_int_equal(elffile_open(bin, root, &e), 0);
	assert_int_not_equal(e->source, ELFSYM_DEBUGLINK); /* nothing found yet */
	snprintf(bid, sizeof(bid), "%s", e->build_id);
	elffile_free(e);

	/* 1: /usr/lib/debug/.build-id/xx/rest.debug */
	snprintf(dir, sizeof(dir), "%s/usr/lib/debug/.build-id/%.2s", root, bid);
	snprintf(name, sizeof(name), "%s.debug", bid + 2);
	debug_found_at(root, bin, dir, name, dbg, sizeof(dbg));
	/* Without the root the same file is not found. */
	assert_int_equal(elffile_open(bin, NULL, &e), 0);
	assert_int_not_equal(e->source, ELFSYM_DEBUGLINK);
	elffile_free(e);
	unlink(dbg);

	/* 2: /usr/lib/debug/opt/app/<debuglink> */
	snprintf(dir, sizeof(dir), "%s/usr/lib/debug/opt/app", root);
	debug_found_at(root, bin, dir, "fixture_stripped.debug", dbg, sizeof(dbg));
	unlink(dbg);

	/* 3: <dir>/.debug/<debuglink> */
	snprintf(dir, sizeof(dir), "%s/opt/app/.debug", root);
	debug_found_at(root, bin, dir, "fixture_stripped.debug", dbg, sizeof(dbg));

	/* A debug file of another build under the right name: refused. */
	copy_file(FIXT "libfixture.so", dbg);
	assert_int_equal(elffile_open(bin, root, &e), 0);
	assert_int_not_equal(e->source, ELFSYM_DEBUGLINK);
	for (size_t i = 0; i < e->nsyms; i++)
		assert_string_not_equal(e->syms[i].name, "lib_one");
	elffile_free(e);
	rm_rf(root);
}

/* .symtab spells a versioned definition "lib_versioned@@FIXTURE_2"; the
 * name users see and match is lib_versioned, in .symtab and .dynsym alike. */
static void test_elf_symbol_versions(void **state)
{
	const char *files[] = { FIXT "libfixture.so", FIXT "libfixture_stripped.so" };

	(void)state;
	for (size_t k = 0; k < 2; k++) {
		struct elffile *e;
		size_t found = 0;

		assert_int_equal(elffile_open(files[k], NULL, &e), 0);
		for (size_t i = 0; i < e->nsyms; i++) {
			assert_null(strchr(e->syms[i].name, '@'));
			if (strcmp(e->syms[i].name, "lib_versioned") == 0)
				found++;
		}
		assert_int_equal(found, 1);
		elffile_free(e);
	}
}

/* A stripped shared library still has its exports in .dynsym. */
static void test_elf_dynsym(void **state)
{
	struct fixture f;
	struct elffile *full, *e;
	const char *names[] = { "lib_one", "lib_two" };

	report_of(FIXT "fixture_pie", &f);
	assert_int_equal(elffile_open(FIXT "libfixture.so", NULL, &full), 0);
	assert_int_equal(full->source, ELFSYM_SYMTAB);
	assert_int_equal(elffile_open(FIXT "libfixture_stripped.so", NULL, &e), 0);
	assert_int_equal(e->source, ELFSYM_DYNSYM);
	assert_int_equal(e->is_pie_or_dyn, 1);
	assert_true(e->nsyms < full->nsyms); /* local symbols are gone */
	for (size_t i = 0; i < 2; i++) {
		const struct fsym *s = fsym(&f, names[i]);
		const struct elfsym *sym = elffile_lookup(e, s->link + 1);
		uint64_t off;

		assert_non_null(sym);
		assert_string_equal(sym->name, names[i]);
		assert_int_equal(sym->addr, s->link);
		assert_int_equal(elffile_addr_to_offset(e, s->link, &off), 0);
		assert_int_equal(elffile_addr_to_offset(full, s->link, &off), 0);
	}
	{
		/* The line every report shares: nothing for a .symtab. */
		char buf[256];
		struct elffile none = { 0 };

		assert_null(elffile_source_note(full, "libfixture.so", buf, sizeof(buf)));
		assert_string_equal(elffile_source_note(e, "libx.so", buf, sizeof(buf)),
				    "libx.so has no .symtab: fell back to .dynsym (exported "
				    "functions only)");
		assert_string_equal(elffile_source_note(&none, "liby.so", buf, sizeof(buf)),
				    "liby.so has no symbols (no .symtab, .dynsym or debug file)");
		assert_non_null(strstr(elffile_source_note(NULL, "libz.so", buf, sizeof(buf)),
				       "libz.so could not be read"));
	}
	elffile_free(e);
	elffile_free(full);
}

/* The PLT stubs against binutils' own synthetic "name@plt" symbols
 * (objdump -d, which names each stub from the slot its code reaches): the
 * standard lazy .plt (PIE and not), IBT's .plt.sec in front of its lazy
 * .plt, .plt.got, -z now (the slots in .got), a shared library, and
 * libc, whose ifuncs' slots (IRELATIVE, "*ABS*+0xADDR@plt" to objdump:
 * named after the ifunc's symbol at ADDR) have their relocations after
 * every other's, not in slot order.  Every stub objdump names is one of
 * the file's stubs at its address with its name, and no other; a pc
 * inside one finds it; the lazy binding code is "[plt]". */
static void check_plt(const char *path, int ibt)
{
	char cmd[512], line[512];
	struct elffile *e;
	size_t named = 0, ours = 0;
	uint64_t plt_addr = 0;
	FILE *p;

	assert_int_equal(elffile_open(path, NULL, &e), 0);
	snprintf(cmd, sizeof(cmd),
		 "objdump -d -j .plt -j .plt.sec -j .plt.got %s 2>/dev/null | "
		 "grep -E '^[0-9a-f]+ <'",
		 path);
	p = popen(cmd, "r");
	assert_non_null(p);
	while (fgets(line, sizeof(line), p)) {
		unsigned long long a;
		char name[256];
		const struct elfsym *s;
		size_t l;

		assert_int_equal(sscanf(line, "%llx <%255[^>]>:", &a, name), 2);
		l = strlen(name);
		if (!strcmp(name, ".plt") || (l > 9 && !strcmp(name + l - 9, "@plt-0x10"))) {
			plt_addr = a; /* the lazy .plt's start (PLT0), unnamed */
			continue;
		}
		assert_true(l > 4 && !strcmp(name + l - 4, "@plt"));
		if (!strncmp(name, "*ABS*+0x", 8)) {
			/* an ifunc's slot: the symbol at its resolver's address */
			const struct elfsym *ifunc = elffile_lookup(e,
								    strtoull(name + 8, NULL, 16));

			assert_non_null(ifunc);
			assert_int_equal(ifunc->addr, strtoull(name + 8, NULL, 16));
			snprintf(name, sizeof(name), "%s@plt", ifunc->name);
		}
		for (int off = 0; off < 8; off += 7) {
			s = elffile_lookup(e, a + (uint64_t)off);
			if (!s)
				fail_msg("%s: no stub at %#llx (%s)", path, a + off, name);
			assert_string_equal(s->name, name);
			assert_int_equal(s->addr, a);
		}
		named++;
	}
	assert_int_equal(pclose(p), 0);
	for (size_t i = 0; i < e->nplt; i++)
		ours += strcmp(e->plt[i].name, "[plt]") != 0;
	assert_true(named > 0);
	assert_int_equal(ours, named);
	/* Nothing of the stubs among the symbols (which -f globs). */
	for (size_t i = 0; i < e->nsyms; i++)
		assert_null(strstr(e->syms[i].name, "@plt"));
	/* PLT0: "[plt]"; with IBT, the whole lazy .plt behind .plt.sec. */
	assert_true(plt_addr != 0);
	{
		const struct elfsym *s0 = elffile_lookup(e, plt_addr + 6);

		assert_non_null(s0);
		assert_string_equal(s0->name, "[plt]");
		assert_int_equal(s0->addr, plt_addr);
		if (ibt)
			assert_true(s0->size > 16);
		else
			assert_int_equal(s0->size, 16);
	}
	elffile_free(e);
}

static void test_elf_plt(void **state)
{
	(void)state;
	check_plt(FIXT "fixture_pie", 0);
	check_plt(FIXT "fixture_nopie", 0);
	check_plt(FIXT "fixture_ibt", 1);
	check_plt(FIXT "libfixture.so", 0);
	check_plt(FIXT "libfixture_stripped.so", 0);
	check_plt(FIXT "fixture_now", 0);
	{
		/* this process's libc */
		struct procmaps pm = { 0 };
		const char *libc = NULL;

		assert_int_equal(procmaps_read(getpid(), &pm), 0);
		for (size_t i = 0; i < pm.n && !libc; i++)
			if (pm.maps[i].path && strstr(pm.maps[i].path, "/libc.so"))
				libc = pm.maps[i].path;
		assert_non_null(libc);
		check_plt(libc, 0);
		procmaps_free(&pm);
	}
}

static void test_elf_bad_files(void **state)
{
	char path[] = "/tmp/ebprof-test-elf-XXXXXX";
	unsigned char head[300];
	struct elffile *e = NULL;
	int fd, in;

	assert_int_equal(elffile_open("/nonexistent/file", NULL, &e), -ENOENT);
	assert_int_equal(elffile_open(KALLSYMS_FIXTURE, NULL, &e), -ENOEXEC);

	/* A truncated ELF: fails or yields nothing, never crashes. */
	in = open(FIXT "fixture_pie", O_RDONLY);
	assert_true(in >= 0);
	assert_int_equal(read(in, head, sizeof(head)), (ssize_t)sizeof(head));
	close(in);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, head, sizeof(head)), (ssize_t)sizeof(head));
	close(fd);
	if (elffile_open(path, NULL, &e) == 0) {
		assert_int_equal(e->nsyms, 0);
		elffile_free(e);
	}
	unlink(path);
}

static void test_kallsyms(void **state)
{
	char path[] = "/tmp/ebprof-test-kallsyms-XXXXXX";
	const char *zeros = "0000000000000000 T _stext\n0000000000000000 t foo\n";
	struct kallsyms *k;
	uint64_t off = 99;
	int fd;

	assert_int_equal(kallsyms_load(KALLSYMS_FIXTURE, &k), 0);
	/* Aliases: the name without leading underscores. */
	assert_string_equal(kallsyms_lookup(k, 0xffffffff81000000ULL, &off), "startup_64");
	assert_int_equal(off, 0);
	assert_string_equal(kallsyms_lookup(k, 0xffffffff81000050ULL, &off), "startup_64");
	assert_int_equal(off, 0x50);
	assert_string_equal(kallsyms_lookup(k, 0xffffffff81000080ULL, &off),
			    "__pfx_secondary_startup_64");
	assert_string_equal(kallsyms_lookup(k, 0xffffffff81000110ULL, &off),
			    "secondary_startup_64");
	assert_int_equal(off, 0x10);
	/* Data and read-only symbols are not functions. */
	assert_string_equal(kallsyms_lookup(k, 0xffffffff81001800ULL, &off), "do_one_initcall");
	assert_int_equal(off, 0x800);
	assert_string_equal(kallsyms_lookup(k, 0xffffffff81002004ULL, &off), "weak_thing");
	assert_int_equal(off, 4);
	/* Module symbol, module column dropped. */
	assert_string_equal(kallsyms_lookup(k, 0xffffffffc0000010ULL, &off), "ext4_fill_super");
	assert_int_equal(off, 0x10);
	/* Before the first symbol; far past a symbol. */
	assert_null(kallsyms_lookup(k, 0xffffffff80000000ULL, &off));
	assert_null(kallsyms_lookup(k, 0xffffffff81002000ULL + (4u << 20), &off));
	assert_null(kallsyms_lookup(k, 0, &off));
	kallsyms_free(k);

	/* kptr_restrict: every address zero. */
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, zeros, strlen(zeros)), (ssize_t)strlen(zeros));
	close(fd);
	assert_int_equal(kallsyms_load(path, &k), -EACCES);
	unlink(path);
	assert_int_equal(kallsyms_load("/nonexistent/kallsyms", &k), -ENOENT);
}

static void expect_sym(struct symbolizer *s, uint64_t addr, const char *func, uint64_t offset,
		       const char *module)
{
	struct symres r;

	symbolize_user(s, addr, &r);
	assert_non_null(r.func);
	assert_string_equal(r.func, func);
	assert_int_equal(r.offset, offset);
	assert_string_equal(r.module, module);
	assert_non_null(r.path);
	assert_string_equal(strrchr(r.path, '/') + 1, module);
}

/* A running PIE with a shared library, symbolized through its pid; then
 * killed: what was known stays symbolized, including the library whose
 * symbols were never read before the exit. */
static void test_symbolizer_process(void **state)
{
	struct fixture f;
	struct symbolizer *s;
	struct procmaps pm = { 0 };
	struct symres r;
	uint64_t vdso = 0;

	spawn(&f, 0, FIXT "fixture_pie", "sleep", NULL);
	assert_int_equal(symbolizer_new(f.pid, &s), 0);
	expect_sym(s, fsym(&f, "fixture_alpha")->rt, "fixture_alpha", 0, "fixture_pie");
	expect_sym(s, fsym(&f, "fixture_beta")->rt + 5, "fixture_beta", 5, "fixture_pie");
	expect_sym(s, fsym(&f, "fixture_local")->rt + 1, "fixture_local", 1, "fixture_pie");
	assert_int_equal(symbolizer_refresh(s), 0);
	assert_int_equal(procmaps_read(f.pid, &pm), 0);
	for (size_t i = 0; i < pm.n; i++)
		if (pm.maps[i].path && strcmp(pm.maps[i].path, "[vdso]") == 0)
			vdso = pm.maps[i].start;
	procmaps_free(&pm);

	reap(&f, SIGKILL);
	assert_int_equal(symbolizer_refresh(s), -ESRCH);
	expect_sym(s, fsym(&f, "lib_two")->rt + 2, "lib_two", 2, "libfixture.so");
	expect_sym(s, fsym(&f, "main")->rt + 7, "main", 7, "fixture_pie");
	expect_sym(s, fsym(&f, "fixture_alpha")->rt + 1, "fixture_alpha", 1, "fixture_pie");

	/* Nothing mapped there: raw address. */
	symbolize_user(s, 0x10, &r);
	assert_null(r.func);
	assert_string_equal(r.module, "[unknown]");
	assert_null(r.path);
	assert_int_equal(r.offset, 0x10);
	if (vdso) {
		symbolize_user(s, vdso + 0x10, &r);
		assert_string_equal(r.module, "[vdso]");
	}
	symbolizer_free(s);
	assert_int_equal(symbolizer_new(f.pid, &s), -ESRCH);
}

/* Non-PIE executable, and a stripped one whose symbols are found through
 * its debuglink. */
static char notes[8][512];
static size_t nnotes;

static void collect_note(void *ctx, const char *line)
{
	(void)ctx;
	assert_true(nnotes < 8);
	snprintf(notes[nnotes++], sizeof(notes[0]), "%s", line);
}

static void test_symbolizer_nopie_and_debuglink(void **state)
{
	const char *exes[] = { "fixture_nopie", "fixture_stripped" };

	for (size_t i = 0; i < 2; i++) {
		char exe[64];
		struct fixture f;
		struct symbolizer *s;

		snprintf(exe, sizeof(exe), FIXT "%s", exes[i]);
		spawn(&f, 0, exe, "sleep", NULL);
		assert_int_equal(symbolizer_new(f.pid, &s), 0);
		expect_sym(s, fsym(&f, "fixture_beta")->rt + 3, "fixture_beta", 3, exes[i]);
		expect_sym(s, fsym(&f, "fixture_nosize")->rt + 4, "fixture_nosize", 4, exes[i]);
		/* Where the symbols came from: nothing to say for a .symtab,
		 * the debug file for the stripped one; only modules used. */
		nnotes = 0;
		symbolizer_source_notes(s, collect_note, NULL);
		if (i == 0) {
			assert_int_equal(nnotes, 0);
		} else {
			assert_int_equal(nnotes, 1);
			assert_string_equal(notes[0], "fixture_stripped: symbols from its separate "
						      "debug file");
		}
		reap(&f, SIGKILL);
		symbolizer_free(s);
	}
}

/* The same pid execs another program: the refresh adds its mappings;
 * where they overlap the old ones (no ASLR: same addresses), the newest
 * wins; the rest of the old ones stay. */
static void test_symbolizer_refresh_after_exec(void **state)
{
	struct fixture f;
	struct fsym before_alpha, before_lib;
	struct symbolizer *s;

	spawn(&f, 1, FIXT "fixture_pie", "exec", FIXT "fixture_nopie");
	before_alpha = *fsym(&f, "fixture_alpha");
	before_lib = *fsym(&f, "lib_one");
	assert_int_equal(symbolizer_new(f.pid, &s), 0);
	expect_sym(s, before_alpha.rt, "fixture_alpha", 0, "fixture_pie");

	fputs("go\n", f.in);
	fflush(f.in);
	read_report(&f);
	assert_int_equal(symbolizer_refresh(s), 0);
	/* New program, at its link addresses. */
	expect_sym(s, fsym(&f, "fixture_beta")->rt, "fixture_beta", 0, "fixture_nopie");
	/* Old program's mapping is kept. */
	expect_sym(s, before_alpha.rt + 2, "fixture_alpha", 2, "fixture_pie");
	/* libfixture.so: kept, or mapped again at the same place. */
	expect_sym(s, before_lib.rt + 1, "lib_one", 1, "libfixture.so");
	reap(&f, SIGKILL);
	symbolizer_free(s);
}

/* Newest wins on an exact overlap: exec of a different file with the same
 * layout, loaded at the same address with ASLR off. */
static void test_symbolizer_overlap(void **state)
{
	struct fixture f;
	struct symbolizer *s;
	uint64_t alpha;
	struct symres r;

	spawn(&f, 1, FIXT "fixture_pie", "exec", FIXT "fixture_stripped");
	alpha = fsym(&f, "fixture_alpha")->rt;
	assert_int_equal(symbolizer_new(f.pid, &s), 0);
	expect_sym(s, alpha, "fixture_alpha", 0, "fixture_pie");
	fputs("go\n", f.in);
	fflush(f.in);
	read_report(&f);
	assert_int_equal(symbolizer_refresh(s), 0);
	if (fsym(&f, "fixture_alpha")->rt == alpha) {
		expect_sym(s, alpha + 1, "fixture_alpha", 1, "fixture_stripped");
	} else {
		/* ASLR could not be turned off: both are known side by side. */
		expect_sym(s, alpha + 1, "fixture_alpha", 1, "fixture_pie");
		expect_sym(s, fsym(&f, "fixture_alpha")->rt, "fixture_alpha", 0,
			   "fixture_stripped");
	}
	symbolize_user(s, alpha, &r);
	assert_non_null(r.func);
	reap(&f, SIGKILL);
	symbolizer_free(s);
}

/* The executable is deleted and another file takes its path after it was
 * mapped: its symbols must come from the mapped file (through map_files,
 * which needs privileges) or not at all, never from the new file. */
static void test_symbolizer_replaced_file(void **state)
{
	char dir[] = "/tmp/ebprof-test-replaced-XXXXXX";
	char exe[PATH_MAX], lib[PATH_MAX];
	struct fixture f;
	struct symbolizer *s;
	struct symres r;
	uint64_t beta;

	assert_non_null(mkdtemp(dir));
	snprintf(exe, sizeof(exe), "%s/prog", dir);
	snprintf(lib, sizeof(lib), "%s/libfixture.so", dir);
	copy_file(FIXT "fixture_pie", exe);
	copy_file(FIXT "libfixture.so", lib);
	spawn(&f, 0, exe, "sleep", NULL);
	beta = fsym(&f, "fixture_beta")->rt;
	assert_int_equal(unlink(exe), 0);
	copy_file(FIXT "fixture_nopie", exe);

	assert_int_equal(symbolizer_new(f.pid, &s), 0);
	symbolize_user(s, beta + 3, &r);
	assert_string_equal(r.module, "prog");
	assert_non_null(r.path);
	assert_string_equal(r.path, exe);
	if (geteuid() == 0 || r.func) {
		assert_non_null(r.func);
		assert_string_equal(r.func, "fixture_beta");
		assert_int_equal(r.offset, 3);
	} else {
		/* Unprivileged: the file offset, computed from the mapping. */
		assert_int_equal(r.offset, fsym(&f, "fixture_beta")->link + 3);
	}
	reap(&f, SIGKILL);
	symbolizer_free(s);
	rm_rf(dir);
}

static void test_symbolizer_kernel(void **state)
{
	struct symbolizer *s;
	struct symres r;

	assert_int_equal(symbolizer_new(0, &s), 0);
	symbolize_kernel(s, 0x1234, &r);
	assert_string_equal(r.module, "[kernel]");
	assert_null(r.path);
	if (!r.func)
		assert_int_equal(r.offset, 0x1234);
	/* Kernel-only: every user address is unknown. */
	symbolize_user(s, 0x400000, &r);
	assert_null(r.func);
	assert_string_equal(r.module, "[unknown]");
	assert_int_equal(r.offset, 0x400000);
	symbolizer_free(s);
	assert_int_equal(symbolizer_new(-1, &s), -EINVAL);
}

static int kill_live_child(void **state)
{
	if (live_child > 0) {
		kill(live_child, SIGKILL);
		waitpid(live_child, NULL, 0);
		live_child = 0;
	}
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_elf_pie, kill_live_child),
		cmocka_unit_test_teardown(test_elf_nopie, kill_live_child),
		cmocka_unit_test_teardown(test_elf_debuglink, kill_live_child),
		cmocka_unit_test_teardown(test_elf_debug_under_root, kill_live_child),
		cmocka_unit_test_teardown(test_elf_dynsym, kill_live_child),
		cmocka_unit_test_teardown(test_elf_symbol_versions, kill_live_child),
		cmocka_unit_test_teardown(test_elf_plt, kill_live_child),
		cmocka_unit_test_teardown(test_elf_bad_files, kill_live_child),
		cmocka_unit_test_teardown(test_kallsyms, kill_live_child),
		cmocka_unit_test_teardown(test_symbolizer_process, kill_live_child),
		cmocka_unit_test_teardown(test_symbolizer_nopie_and_debuglink, kill_live_child),
		cmocka_unit_test_teardown(test_symbolizer_refresh_after_exec, kill_live_child),
		cmocka_unit_test_teardown(test_symbolizer_overlap, kill_live_child),
		cmocka_unit_test_teardown(test_symbolizer_replaced_file, kill_live_child),
		cmocka_unit_test_teardown(test_symbolizer_kernel, kill_live_child),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
