/* /proc/PID/maps parsing: real-looking lines, odd paths, hostile input. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "symbols/procmaps.h"
#include "symbols/vdso.h"

static void parse_str(const char *text, struct procmaps *pm, size_t *bad)
{
	memset(pm, 0, sizeof(*pm));
	assert_int_equal(procmaps_parse(text, strlen(text), pm, bad), 0);
}

static void test_normal_lines(void **state)
{
	const char *text =
		"5645d5319000-5645d531b000 r--p 00000000 fe:00 247134                     "
		"/usr/bin/cat\n"
		"5645d531b000-5645d5320000 r-xp 00002000 fe:00 247134                     "
		"/usr/bin/cat\n"
		"7f956b42d000-7f956b4f1000 rw-p 00000000 00:00 0 \n"
		"7f956b578000-7f956b6ce000 r-xp 00026000 fe:01 332835                     "
		"/usr/lib/x86_64-linux-gnu/libc.so.6\n"
		"7ffd1d3c4000-7ffd1d3c6000 r-xp 00000000 00:00 0                          [vdso]\n"
		"7ffd1d3a0000-7ffd1d3c1000 rw-p 00000000 00:00 0                          "
		"[stack]\n";
	struct procmaps pm;
	size_t bad = 99;

	parse_str(text, &pm, &bad);
	assert_int_equal(bad, 0);
	assert_int_equal(pm.n, 6);
	/* Sorted by start: the [stack] line moves before [vdso]. */
	assert_int_equal(pm.maps[0].start, 0x5645d5319000ULL);
	assert_int_equal(pm.maps[0].end, 0x5645d531b000ULL);
	assert_string_equal(pm.maps[0].perms, "r--p");
	assert_int_equal(pm.maps[1].offset, 0x2000);
	assert_int_equal(pm.maps[1].dev_major, 0xfe);
	assert_int_equal(pm.maps[1].dev_minor, 0);
	assert_int_equal(pm.maps[1].inode, 247134);
	assert_string_equal(pm.maps[1].path, "/usr/bin/cat");
	assert_int_equal(pm.maps[1].deleted, 0);
	assert_null(pm.maps[2].path); /* anonymous, trailing space */
	assert_int_equal(pm.maps[3].dev_minor, 1);
	assert_int_equal(pm.maps[3].offset, 0x26000);
	assert_string_equal(pm.maps[3].path, "/usr/lib/x86_64-linux-gnu/libc.so.6");
	assert_string_equal(pm.maps[4].path, "[stack]");
	assert_string_equal(pm.maps[5].path, "[vdso]");

	/* procmaps_find: executable mappings only, [start, end). */
	assert_ptr_equal(procmaps_find(&pm, 0x5645d531b000ULL), &pm.maps[1]);
	assert_ptr_equal(procmaps_find(&pm, 0x5645d531ffffULL), &pm.maps[1]);
	assert_null(procmaps_find(&pm, 0x5645d5320000ULL));
	assert_null(procmaps_find(&pm, 0x5645d5319010ULL)); /* r--p */
	assert_null(procmaps_find(&pm, 0x1000));
	assert_ptr_equal(procmaps_find(&pm, 0x7ffd1d3c5000ULL), &pm.maps[5]);
	assert_null(procmaps_find(&pm, 0x7ffd1d3a1000ULL)); /* stack rw-p */
	procmaps_free(&pm);
	assert_null(pm.maps);
	assert_int_equal(pm.n, 0);
}

static void test_deleted_and_spaces(void **state)
{
	const char *text = "1000-2000 r-xp 00000000 08:01 42 /tmp/my lib (v2).so (deleted)\n"
			   "3000-4000 r-xp 00001000 08:01 43 /opt/with  two  spaces/bin\n"
			   "5000-6000 r-xp 00000000 08:01 44 /tmp/a (deleted) b\n"
			   "7000-8000 r-xp 00000000 08:01 45 /tmp/x (deleted)";
	struct procmaps pm;
	size_t bad;

	parse_str(text, &pm, &bad);
	assert_int_equal(bad, 0);
	assert_int_equal(pm.n, 4);
	assert_string_equal(pm.maps[0].path, "/tmp/my lib (v2).so");
	assert_int_equal(pm.maps[0].deleted, 1);
	assert_string_equal(pm.maps[1].path, "/opt/with  two  spaces/bin");
	assert_int_equal(pm.maps[1].deleted, 0);
	/* Only a suffix counts. */
	assert_string_equal(pm.maps[2].path, "/tmp/a (deleted) b");
	assert_int_equal(pm.maps[2].deleted, 0);
	/* Last line without a newline. */
	assert_string_equal(pm.maps[3].path, "/tmp/x");
	assert_int_equal(pm.maps[3].deleted, 1);
	procmaps_free(&pm);
}

static void test_long_line(void **state)
{
	size_t plen = 10 * 1024;
	const char *head = "7f0000000000-7f0000001000 r-xp 00000000 08:01 7 /";
	size_t hl = strlen(head);
	char *text = malloc(hl + plen + 64);
	struct procmaps pm = { 0 };
	size_t bad, n;

	assert_non_null(text);
	memcpy(text, head, hl);
	memset(text + hl, 'a', plen);
	n = hl + plen;
	n += (size_t)sprintf(text + n, "\n1000-2000 r-xp 00000000 00:00 0 /b\n");
	assert_int_equal(procmaps_parse(text, n, &pm, &bad), 0);
	assert_int_equal(bad, 0);
	assert_int_equal(pm.n, 2);
	assert_string_equal(pm.maps[0].path, "/b");
	assert_int_equal(strlen(pm.maps[1].path), plen + 1);
	assert_int_equal(pm.maps[1].path[plen], 'a');
	procmaps_free(&pm);
	free(text);
}

static void test_garbage(void **state)
{
	const char *text = "garbage\n"
			   "1000-2000\n"				  /* truncated */
			   "1000-2000 r-xp 0000\n"			  /* truncated */
			   "1000-2000 r-xp 00000000 08:01\n"		  /* no inode */
			   "2000-1000 r-xp 00000000 08:01 1 /end<start\n" /* end < start */
			   "1000-2000 rzxp 00000000 08:01 1 /bad-perm\n"
			   "1g00-2000 r-xp 00000000 08:01 1 /bad-hex\n"
			   "10000000000000000-2 r-xp 00000000 08:01 1 /overflow\n"
			   "1000-2000 r-xp 00000000 08:01 1x /bad-inode\n"
			   "\n" /* empty: not counted */
			   "a000-b000 r-xp 00000000 08:01 9 /good\n"
			   "\x01\x02\xff\n";
	struct procmaps pm;
	size_t bad;

	parse_str(text, &pm, &bad);
	assert_int_equal(bad, 10);
	assert_int_equal(pm.n, 1);
	assert_int_equal(pm.maps[0].start, 0xa000);
	assert_string_equal(pm.maps[0].path, "/good");
	procmaps_free(&pm);
}

static void test_empty(void **state)
{
	struct procmaps pm = { 0 };
	size_t bad = 5;

	assert_int_equal(procmaps_parse("", 0, &pm, &bad), 0);
	assert_int_equal(pm.n, 0);
	assert_int_equal(bad, 0);
	assert_null(procmaps_find(&pm, 0x1000));
	assert_int_equal(procmaps_parse(NULL, 0, &pm, NULL), 0);
	assert_int_equal(procmaps_parse(NULL, 3, &pm, NULL), -EINVAL);
	procmaps_free(&pm);
}

/* Not NUL-terminated: the parser must stop at len. */
static void test_length_bound(void **state)
{
	const char text[] = "1000-2000 r-xp 00000000 08:01 1 /abcdefXXXX";
	struct procmaps pm = { 0 };

	assert_int_equal(procmaps_parse(text, strlen(text) - 4, &pm, NULL), 0);
	assert_int_equal(pm.n, 1);
	assert_string_equal(pm.maps[0].path, "/abcdef");
	procmaps_free(&pm);
}

static void test_read_self(void **state)
{
	struct procmaps pm = { 0 };
	const struct procmap *m;
	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	assert_true(n > 0);
	exe[n] = '\0';
	assert_int_equal(procmaps_read(getpid(), &pm), 0);
	assert_true(pm.n > 5);
	m = procmaps_find(&pm, (uint64_t)(uintptr_t)&test_read_self);
	assert_non_null(m);
	assert_non_null(m->path);
	assert_string_equal(m->path, exe);
	assert_int_equal(m->deleted, 0);
	procmaps_free(&pm);
}

static void test_read_gone(void **state)
{
	struct procmaps pm = { 0 };

	/* Above pid_max (at most 2^22): no such process. */
	assert_int_equal(procmaps_read(0x7ffffff0, &pm), -ESRCH);
	assert_int_equal(procmaps_read(0, &pm), -EINVAL);
}

/* The vdso copied out of a process: this one's, byte for byte what the
 * kernel mapped at AT_SYSINFO_EHDR; a mapping no vdso has and a process
 * gone are refused. */
static void test_vdso_copy(void **state)
{
	struct procmaps pm = { 0 };
	const struct procmap *m = NULL;
	struct procmap bad;
	unsigned long base = getauxval(AT_SYSINFO_EHDR);
	size_t size;
	void *img;
	pid_t child;

	(void)state;
	assert_true(base != 0);
	assert_int_equal(procmaps_read(getpid(), &pm), 0);
	for (size_t i = 0; i < pm.n; i++)
		if (pm.maps[i].path && !strcmp(pm.maps[i].path, "[vdso]"))
			m = &pm.maps[i];
	assert_non_null(m);
	assert_int_equal(m->start, base);
	assert_int_equal(vdso_copy(getpid(), m, &img, &size), 0);
	assert_int_equal(size, m->end - m->start);
	assert_memory_equal(img, (const void *)base, size);
	assert_memory_equal(img, "\177ELF", 4);
	free(img);
	bad = *m;
	bad.end = bad.start;
	assert_int_equal(vdso_copy(getpid(), &bad, &img, &size), -EINVAL);
	bad.end = bad.start + (2u << 20);
	assert_int_equal(vdso_copy(getpid(), &bad, &img, &size), -EINVAL);
	child = fork();
	if (child == 0)
		_exit(0);
	assert_int_equal(waitpid(child, NULL, 0), child);
	assert_int_equal(vdso_copy(child, m, &img, &size), -ESRCH);
	procmaps_free(&pm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normal_lines), cmocka_unit_test(test_deleted_and_spaces),
		cmocka_unit_test(test_long_line),    cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_empty),	     cmocka_unit_test(test_length_bound),
		cmocka_unit_test(test_read_self),    cmocka_unit_test(test_read_gone),
		cmocka_unit_test(test_vdso_copy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
