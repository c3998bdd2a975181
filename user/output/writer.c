/* Writer registry and helpers shared by the writers. */
#include "output/writer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const struct writer *const writers[] = {
	&writer_text,	    &writer_folded, &writer_json,
	&writer_callgrind,  &writer_dot,    &writer_pprof,
	&writer_speedscope, &writer_svg,    NULL,
};

const struct writer *writer_find(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; writers[i]; i++)
		if (strcmp(writers[i]->name, name) == 0)
			return writers[i];
	return NULL;
}

const struct writer *const *writer_list(void)
{
	return writers;
}

/* Local helpers: the binary is not linked with libm. */
static double dabs(double v)
{
	return v < 0 ? -v : v;
}

static int is_integral(double v)
{
	return dabs(v) < 1e15 && v == (double)(long long)v;
}

/* Three significant digits for scaled values: "830", "12.5", "1.23". */
static void fmt_scaled(char *buf, size_t len, double v, const char *suffix)
{
	double a = dabs(v);
	int prec = a >= 100 ? 0 : a >= 10 ? 1 : 2;
	snprintf(buf, len, "%.*f %s", prec, v, suffix);
}

static int unit_is(const char *unit, const char *u)
{
	return unit && strcmp(unit, u) == 0;
}

static void fmt_duration(char *buf, size_t len, double ns)
{
	double a = dabs(ns);
	if (a >= 1e9)
		snprintf(buf, len, "%.3f s", ns / 1e9);
	else if (a >= 1e6)
		fmt_scaled(buf, len, ns / 1e6, "ms");
	else if (a >= 1e3)
		fmt_scaled(buf, len, ns / 1e3, "us");
	else if (is_integral(ns))
		snprintf(buf, len, "%.0f ns", ns);
	else
		fmt_scaled(buf, len, ns, "ns");
}

static void fmt_bytes(char *buf, size_t len, double b)
{
	static const char *const sfx[] = { "KiB", "MiB", "GiB", "TiB", "PiB" };
	double a = dabs(b);
	if (a < 1024) {
		snprintf(buf, len, "%.0f B", b);
		return;
	}
	size_t i = 0;
	for (b /= 1024, a /= 1024; a >= 1024 && i + 1 < sizeof(sfx) / sizeof(*sfx); i++)
		b /= 1024, a /= 1024;
	fmt_scaled(buf, len, b, sfx[i]);
}

void fmt_double(char *buf, size_t len, double v, const char *unit)
{
	if (!buf || !len)
		return;
	if (isnan(v) || isinf(v))
		snprintf(buf, len, "-");
	else if (unit_is(unit, "ns"))
		fmt_duration(buf, len, v);
	else if (unit_is(unit, "%"))
		snprintf(buf, len, "%.1f%%", v);
	else if (unit_is(unit, "bytes"))
		fmt_bytes(buf, len, v);
	else if (is_integral(v))
		snprintf(buf, len, "%.0f", v);
	else
		snprintf(buf, len, "%.2f", v);
}

void fmt_value(char *buf, size_t len, int64_t v, const char *unit)
{
	if (!buf || !len)
		return;
	if (unit_is(unit, "ns") || unit_is(unit, "bytes"))
		fmt_double(buf, len, (double)v, unit);
	else if (unit_is(unit, "%"))
		snprintf(buf, len, "%lld%%", (long long)v);
	else
		snprintf(buf, len, "%lld", (long long)v);
}

void fmt_sanitize(char *s, const char *extra)
{
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c == 0x7f || (extra && strchr(extra, c)))
			*s = '?';
	}
}

const char *fmt_sanitized(struct strbuf *b, const char *s, const char *extra)
{
	if (!s)
		return NULL;
	if (s != b->s) {
		strbuf_reset(b);
		if (strbuf_add(b, s))
			return NULL;
	}
	fmt_sanitize(b->s, extra);
	return b->s;
}

const char *writer_unit_name(const char *unit, const char *plain)
{
	if (unit_is(unit, "ns"))
		return "nanoseconds";
	return unit_is(unit, "bytes") ? "bytes" : plain;
}

static void list_metrics(const struct profile *p, FILE *err)
{
	for (size_t i = 0; i < p->nmetrics; i++)
		fprintf(err, "%s%s", i ? ", " : "", p->metrics[i].name);
}

int writer_pick_metric(const struct profile *p, const char *name, FILE *err)
{
	if (!p)
		return -1;
	if (!p->nmetrics) {
		if (err)
			fprintf(err, "ebprof: report %s has no metrics\n", p->report);
		return -1;
	}
	if (!name) {
		if (p->default_metric >= 0 && (size_t)p->default_metric < p->nmetrics)
			return p->default_metric;
		return 0;
	}
	int m = profile_metric_index(p, name);
	if (m >= 0)
		return m;
	if (err) {
		fprintf(err, "ebprof: unknown metric '%s' for report %s (available: ", name,
			p->report);
		list_metrics(p, err);
		fprintf(err, ")\n");
	}
	return -1;
}

const struct profile *writer_one_graph(const struct profile *const *profiles, size_t n,
				       const char *format, FILE *err)
{
	const struct profile *found = NULL;
	size_t count = 0;
	for (size_t i = 0; i < n; i++) {
		if (profiles[i] && (profiles[i]->nnodes || profiles[i]->nsamples)) {
			if (!found)
				found = profiles[i];
			count++;
		}
	}
	if (count == 1)
		return found;
	if (err) {
		if (!count) {
			fprintf(err, "ebprof: format %s needs a stack or call-graph report\n",
				format);
		} else {
			fprintf(err, "ebprof: format %s renders one report; name one of:", format);
			for (size_t i = 0; i < n; i++)
				if (profiles[i] && (profiles[i]->nnodes || profiles[i]->nsamples))
					fprintf(err, " %s", profiles[i]->report);
			fprintf(err, "\n");
		}
	}
	return NULL;
}
