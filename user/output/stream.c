/* Record streams (see stream.h). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output/stream.h"
#include "output/writer.h"
#include "util/util.h"

struct stream {
	FILE *f;
	int own; /* f is -o FILE */
	enum stream_format fmt;
	int header_done;
	int closed; /* EPIPE seen */
	int failed;
};

int stream__new(const char *path, enum stream_format fmt, struct stream **out)
{
	struct stream *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->fmt = fmt;
	s->f = stdout;
	if (path) {
		s->f = fopen(path, "w");
		if (!s->f) {
			int err = -errno;

			ebprof_err("cannot write %s: %s", path, strerror(-err));
			free(s);
			return err;
		}
		s->own = 1;
	}
	/* A closed pipe is an answer (EPIPE from write), not a signal that
	 * kills ebprof before it removes its probes and reports. */
	signal(SIGPIPE, SIG_IGN);
	*out = s;
	return 0;
}

/* The end of a line: flush, and notice a reader that has gone. */
static int end_line(struct stream *s)
{
	fputc('\n', s->f);
	if (fflush(s->f) == 0)
		return 0;
	if (errno == EPIPE) {
		s->closed = 1;
		return -EPIPE;
	}
	if (!s->failed)
		ebprof_err("cannot write the stream: %s", strerror(errno));
	s->failed = 1;
	return -errno;
}

static void tsv_field(FILE *f, const struct stream_field *x)
{
	char *c;

	switch (x->type) {
	case SF_STR:
		c = strdup(x->s ? x->s : "-");
		if (!c)
			return;
		fmt_sanitize(c, "\t");
		fputs(c, f);
		free(c);
		break;
	case SF_INT: fprintf(f, "%lld", (long long)x->i); break;
	case SF_DOUBLE: fprintf(f, "%.6f", x->d); break;
	}
}

static void json_field(FILE *f, const struct stream_field *x)
{
	json_str(f, x->key);
	fputc(':', f);
	switch (x->type) {
	case SF_STR: json_str(f, x->s); break;
	case SF_INT: fprintf(f, "%lld", (long long)x->i); break;
	case SF_DOUBLE: fprintf(f, "%.6f", x->d); break;
	}
}

int stream__write(struct stream *s, const struct stream_field *f, size_t n)
{
	if (s->closed || s->failed)
		return s->closed ? -EPIPE : -EIO;
	if (s->fmt == STREAM_JSONL) {
		fputc('{', s->f);
		for (size_t i = 0; i < n; i++) {
			if (i)
				fputc(',', s->f);
			json_field(s->f, &f[i]);
		}
		fputc('}', s->f);
		return end_line(s);
	}
	if (!s->header_done) {
		for (size_t i = 0; i < n; i++)
			fprintf(s->f, "%s%s", i ? "\t" : "", f[i].key);
		s->header_done = 1;
		if (end_line(s))
			return s->closed ? -EPIPE : -EIO;
	}
	for (size_t i = 0; i < n; i++) {
		if (i)
			fputc('\t', s->f);
		tsv_field(s->f, &f[i]);
	}
	return end_line(s);
}

int stream__lost(struct stream *s, uint64_t n)
{
	if (s->closed || s->failed)
		return s->closed ? -EPIPE : -EIO;
	if (s->fmt == STREAM_JSONL)
		fprintf(s->f, "{\"event\":\"lost\",\"count\":%llu}", (unsigned long long)n);
	else
		fprintf(s->f, "# lost\t%llu\tevents the ring buffer could not take",
			(unsigned long long)n);
	return end_line(s);
}

int stream__closed(const struct stream *s)
{
	return s->closed;
}

void stream__free(struct stream *s)
{
	if (!s)
		return;
	if (s->own)
		fclose(s->f);
	else if (!s->closed)
		fflush(s->f);
	free(s);
}
