/* /proc/PID/status and /proc/PID/stat as the vm collector reads them:
 * real text, a comm with spaces and parentheses, hostile input. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <signal.h>
#include <sys/wait.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "collect/vm_proc.h"

static const char status_text[] = "Name:\tcat\n"
				  "VmRSS:\t    1200 kB\n"
				  "RssAnon:\t     100 kB\n"
				  "RssFile:\t    1000 kB\n"
				  "RssShmem:\t     100 kB\n"
				  "VmSwap:\t       8 kB\n";

static void test_status(void **state)
{
	struct vm_reading r = { 0 };

	assert_int_equal(vm_parse_status(status_text, &r), 0);
	assert_int_equal(r.anon, 100 * 1024);
	assert_int_equal(r.file, 1000 * 1024);
	assert_int_equal(r.shmem, 100 * 1024);
	assert_int_equal(r.swap, 8 * 1024);
}

static void test_status_missing(void **state)
{
	struct vm_reading r = { 0 };

	/* a process that released its memory: no Rss lines */
	assert_int_equal(vm_parse_status("Name:\tz\nState:\tZ (zombie)\n", &r), -ENODATA);
	/* no VmSwap: 0 */
	assert_int_equal(vm_parse_status("RssAnon:\t1 kB\nRssFile:\t2 kB\nRssShmem:\t0 kB\n", &r),
			 0);
	assert_int_equal(r.swap, 0);
}

static void test_status_hostile(void **state)
{
	struct vm_reading r = { 0 };

	assert_int_equal(vm_parse_status("RssAnon:\tlots kB\n", &r), -EINVAL);
	assert_int_equal(vm_parse_status("RssAnon:\t5 MB\n", &r), -EINVAL);
	assert_int_equal(vm_parse_status("RssAnon:\t99999999999999999999999 kB\n", &r), -EINVAL);
	assert_int_equal(vm_parse_status("RssAnon:\t18446744073709551 kB\n", &r), -EINVAL);
	assert_int_equal(vm_parse_status("RssAnon:", &r), -EINVAL);
	assert_int_equal(vm_parse_status("", &r), -ENODATA);
}

static void test_stat(void **state)
{
	struct vm_reading r = { 0 };
	const char *text = "4242 (a b) c)) S 1 4242 4242 0 -1 4194560 777 0 3 0 10 5 0 0 20 0 1\n";

	assert_int_equal(vm_parse_stat(text, &r), 0);
	assert_int_equal(r.minflt, 777);
	assert_int_equal(r.majflt, 3);
}

static void test_stat_hostile(void **state)
{
	struct vm_reading r = { 0 };

	assert_int_equal(vm_parse_stat("", &r), -EINVAL);
	assert_int_equal(vm_parse_stat("1 (x", &r), -EINVAL);
	assert_int_equal(vm_parse_stat("1 (x) S 1 2 3", &r), -EINVAL);
	assert_int_equal(vm_parse_stat("1 (x) S 1 2 3 4 5 6 x 8 9 10", &r), -EINVAL);
	assert_int_equal(vm_parse_stat("1 (x)", &r), -EINVAL);
}

/* Faults in 256 pages never touched before. */
static void touch_new_pages(void)
{
	volatile char *b = malloc(1 << 20);

	assert_non_null((void *)b);
	for (size_t i = 0; i < (1 << 20); i += 4096)
		b[i] = 1;
	free((void *)b);
}

static void test_read_self(void **state)
{
	struct vm_reading r = { 0 }, again = { 0 };
	struct vm_proc p, gone;
	int first_fd;

	vm_proc_init(&p, getpid());
	assert_int_equal(vm_proc_read(&p, &r), 0);
	assert_true(r.anon + r.file > 0);
	assert_true(r.minflt > 0);
	assert_true(r.t_ns > 0);
	/* The second reading is from the same open files, read afresh. */
	first_fd = p.status_fd;
	assert_true(first_fd >= 0 && p.stat_fd >= 0);
	touch_new_pages(); /* minflt grows */
	assert_int_equal(vm_proc_read(&p, &again), 0);
	assert_int_equal(p.status_fd, first_fd);
	assert_true(again.minflt > r.minflt);
	assert_true(again.t_ns > r.t_ns);
	vm_proc_close(&p);
	assert_int_equal(p.status_fd, -1);
	vm_proc_init(&gone, 0x7ffffff0);
	assert_int_equal(vm_proc_read(&gone, &r), -ESRCH);
	vm_proc_close(&gone);
}

/* Files opened while the process lived: once it is reaped they say it is
 * gone (the open file holds that process, never a later one of its pid). */
static void test_read_reaped(void **state)
{
	struct vm_reading r = { 0 };
	struct vm_proc p;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		pause();
		_exit(0);
	}
	vm_proc_init(&p, pid);
	assert_int_equal(vm_proc_read(&p, &r), 0);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	assert_int_equal(vm_proc_read(&p, &r), -ESRCH);
	vm_proc_close(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status),	       cmocka_unit_test(test_status_missing),
		cmocka_unit_test(test_status_hostile), cmocka_unit_test(test_stat),
		cmocka_unit_test(test_stat_hostile),   cmocka_unit_test(test_read_self),
		cmocka_unit_test(test_read_reaped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
