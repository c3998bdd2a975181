/* entry_point(): the file and file offset of the entry that runs first
 * when a path is exec'd: this test's own executable (its _start, placed by
 * the kernel: the ground truth from /proc/self/maps), "#!" scripts and
 * their nesting, and files with no ELF entry. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "run/entry.h"
#include "symbols/procmaps.h"

extern char _start[];

static char self[PATH_MAX];
static char dir[] = "/tmp/ebprof-unit-entry-XXXXXX";

/* The file offset of _start in this executable, as mapped. */
static uint64_t start_offset(void)
{
	struct procmaps m = { 0 };
	const struct procmap *pm;
	uint64_t off;

	assert_int_equal(procmaps_read(getpid(), &m), 0);
	pm = procmaps_find(&m, (uint64_t)(uintptr_t)_start);
	assert_non_null(pm);
	off = (uint64_t)(uintptr_t)_start - pm->start + pm->offset;
	procmaps_free(&m);
	return off;
}

static const char *write_file(const char *name, const char *text)
{
	static char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static int setup(void **state)
{
	(void)state;
	if (!realpath("/proc/self/exe", self) || !mkdtemp(dir))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	char cmd[PATH_MAX + 16];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_own_executable(void **state)
{
	char file[PATH_MAX];
	uint64_t off = 0;

	(void)state;
	assert_int_equal(entry_point("/proc/self/exe", file, sizeof(file), &off), 0);
	assert_string_equal(file, self);
	assert_int_equal(off, start_offset());
}

static void test_scripts(void **state)
{
	char file[PATH_MAX], line[PATH_MAX + 32];
	const char *p;
	uint64_t want = start_offset(), off = 0;

	(void)state;
	/* Spaces before the interpreter, an argument after it. */
	snprintf(line, sizeof(line), "#!  %s -x\necho\n", self);
	p = write_file("one", line);
	assert_int_equal(entry_point(p, file, sizeof(file), &off), 0);
	assert_string_equal(file, self);
	assert_int_equal(off, want);
	/* A script whose interpreter is a script. */
	snprintf(line, sizeof(line), "#!%s/one\n", dir);
	p = write_file("two", line);
	off = 0;
	assert_int_equal(entry_point(p, file, sizeof(file), &off), 0);
	assert_string_equal(file, self);
	assert_int_equal(off, want);
}

static void test_too_deep(void **state)
{
	char file[PATH_MAX], line[PATH_MAX + 32], name[8];
	uint64_t off;

	(void)state;
	/* s0 -> s1 -> ... -> s5 -> this executable: six interpreters, more
	 * than the kernel follows. */
	for (int i = 5; i >= 0; i--) {
		if (i == 5)
			snprintf(line, sizeof(line), "#!%s\n", self);
		else
			snprintf(line, sizeof(line), "#!%s/s%d\n", dir, i + 1);
		snprintf(name, sizeof(name), "s%d", i);
		write_file(name, line);
	}
	snprintf(line, sizeof(line), "%s/s0", dir);
	assert_int_equal(entry_point(line, file, sizeof(file), &off), -ELOOP);
	snprintf(line, sizeof(line), "%s/s2", dir);
	assert_int_equal(entry_point(line, file, sizeof(file), &off), 0);
}

static void test_no_entry(void **state)
{
	char file[PATH_MAX];
	uint64_t off;

	(void)state;
	assert_int_equal(entry_point(write_file("text", "echo hi\n"), file, sizeof(file), &off),
			 -ENOEXEC);
	assert_int_equal(entry_point(write_file("empty", ""), file, sizeof(file), &off), -ENOEXEC);
	assert_int_equal(entry_point(write_file("bare", "#!\n"), file, sizeof(file), &off),
			 -ENOEXEC);
	assert_int_equal(entry_point(write_file("unended", "#!/bin/sh"), file, sizeof(file), &off),
			 -ENOEXEC);
	assert_int_equal(
		entry_point(write_file("elfmagic", "\177ELF\2\1\1"), file, sizeof(file), &off),
		-ENOEXEC);
	assert_int_equal(entry_point(write_file("missing", "#!/nonexistent/interp\n"), file,
				     sizeof(file), &off),
			 -ENOENT);
	assert_int_equal(entry_point("/nonexistent", file, sizeof(file), &off), -ENOENT);
	assert_int_equal(entry_point(self, file, 16, &off), -ENAMETOOLONG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_own_executable),
		cmocka_unit_test(test_scripts),
		cmocka_unit_test(test_too_deep),
		cmocka_unit_test(test_no_entry),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
