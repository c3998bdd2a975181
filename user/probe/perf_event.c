#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/perf_event.h>
#include <sys/syscall.h>

#include <bpf/libbpf.h>

#include "probe/perf_event.h"
#include "util/util.h"

/* Online CPUs from /sys/devices/system/cpu/online into a malloc'd array. */
static int online_cpus(int **cpus, size_t *n)
{
	FILE *f = fopen("/sys/devices/system/cpu/online", "r");
	char buf[4096];
	int *out = NULL;
	size_t cnt = 0, cap = 0;
	char *p, *tok, *save;

	if (!f)
		return -errno;
	if (!fgets(buf, sizeof(buf), f)) {
		fclose(f);
		return -EIO;
	}
	fclose(f);
	for (p = buf; (tok = strtok_r(p, ",\n", &save)); p = NULL) {
		int a, b;

		if (sscanf(tok, "%d-%d", &a, &b) != 2) {
			if (sscanf(tok, "%d", &a) != 1)
				continue;
			b = a;
		}
		for (int c = a; c <= b && c >= 0 && c < 65536; c++) {
			if (array_grow((void **)&out, &cap, cnt + 1, sizeof(*out))) {
				free(out);
				return -ENOMEM;
			}
			out[cnt++] = c;
		}
	}
	if (!cnt) {
		free(out);
		return -EIO;
	}
	*cpus = out;
	*n = cnt;
	return 0;
}

int perf_events_open_cpu_clock(struct perf_events *pe, int freq, struct bpf_program *prog)
{
	int *cpus = NULL;
	size_t n = 0;
	int err = online_cpus(&cpus, &n);

	memset(pe, 0, sizeof(*pe));
	if (err)
		return err;
	pe->links = calloc(n, sizeof(*pe->links));
	if (!pe->links) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct perf_event_attr attr = {
			.type = PERF_TYPE_SOFTWARE,
			.config = PERF_COUNT_SW_CPU_CLOCK,
			.size = sizeof(attr),
			.freq = 1,
			.sample_freq = (unsigned long long)freq,
		};
		int fd = (int)syscall(__NR_perf_event_open, &attr, -1, cpus[i], -1,
				      PERF_FLAG_FD_CLOEXEC);

		if (fd < 0) {
			err = -errno;
			goto out;
		}
		/* the link owns fd from here on */
		pe->links[pe->n] = bpf_program__attach_perf_event(prog, fd);
		if (!pe->links[pe->n]) {
			err = -errno;
			close(fd);
			goto out;
		}
		pe->n++;
	}
out:
	free(cpus);
	if (err)
		perf_events_close(pe);
	return err;
}

void perf_events_close(struct perf_events *pe)
{
	for (size_t i = 0; i < pe->n; i++)
		bpf_link__destroy(pe->links[i]); /* also closes the fd */
	free(pe->links);
	memset(pe, 0, sizeof(*pe));
}
