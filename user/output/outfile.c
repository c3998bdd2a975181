/* Report destination (see outfile.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "output/outfile.h"
#include "util/util.h"

int outfile_check(const char *path)
{
	char buf[PATH_MAX];
	struct stat st;
	const char *dir;

	if (!path)
		return 0;
	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf)) {
		ebprof_err("cannot write %s: %s", path, strerror(ENAMETOOLONG));
		return -ENAMETOOLONG;
	}
	if (!stat(path, &st) && S_ISDIR(st.st_mode)) {
		ebprof_err("cannot write %s: %s", path, strerror(EISDIR));
		return -EISDIR;
	}
	dir = dirname(buf);
	if (access(dir, W_OK | X_OK)) {
		int err = -errno;

		ebprof_err("cannot write %s: directory %s: %s", path, dir, strerror(-err));
		return err;
	}
	return 0;
}

int outfile_open(struct outfile *o, const char *path)
{
	int fd, err;

	memset(o, 0, sizeof(*o));
	o->path = path;
	if (!path) {
		o->f = stdout;
		return 0;
	}
	if (snprintf(o->tmp, sizeof(o->tmp), "%s.XXXXXX", path) >= (int)sizeof(o->tmp)) {
		ebprof_err("cannot write %s: %s", path, strerror(ENAMETOOLONG));
		return -ENAMETOOLONG;
	}
	fd = mkstemp(o->tmp);
	if (fd < 0 || !(o->f = fdopen(fd, "w"))) {
		err = -errno;
		ebprof_err("cannot write %s: %s", path, strerror(-err));
		if (fd >= 0) {
			close(fd);
			unlink(o->tmp);
		}
		return err;
	}
	fchmod(fd, 0644);
	return 0;
}

int outfile_close(struct outfile *o, int err)
{
	if (!o->f)
		return err;
	if (fflush(o->f) && !err)
		err = -errno;
	if (!o->path) {
		if (err && err != -EINVAL)
			ebprof_err("cannot write the report: %s", strerror(-err));
		return err;
	}
	if (fclose(o->f) && !err)
		err = -errno;
	o->f = NULL;
	if (!err && rename(o->tmp, o->path))
		err = -errno;
	if (err) {
		unlink(o->tmp);
		if (err != -EINVAL)
			ebprof_err("cannot write %s: %s", o->path, strerror(-err));
	}
	return err;
}
