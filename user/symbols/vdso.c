/* The target's vdso image (see vdso.h). */
#include "symbols/vdso.h"

#include "symbols/procmaps.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define VDSO_MAX_SIZE (1u << 20)

int vdso_copy(pid_t pid, const struct procmap *m, void **image, size_t *size)
{
	uint64_t n = m->end > m->start ? m->end - m->start : 0;
	char p[64];
	ssize_t got;
	void *img;
	int fd, err;

	if (n == 0 || n > VDSO_MAX_SIZE)
		return -EINVAL;
	snprintf(p, sizeof(p), "/proc/%d/mem", (int)pid);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	img = malloc(n);
	if (!img) {
		close(fd);
		return -ENOMEM;
	}
	got = pread(fd, img, n, (off_t)m->start);
	err = got == (ssize_t)n ? 0 : got < 0 ? -errno : -EIO;
	close(fd);
	if (err) {
		free(img);
		return err;
	}
	*image = img;
	*size = n;
	return 0;
}
