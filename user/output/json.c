/* JSON: one complete document with every report (schema in docs/FORMATS.md).
 * Tables are written whole, in the order they have (the run loop sorts them
 * by -s: model/tablesort.h); -n applies to text only. */
#include "output/writer.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#ifndef EBPROF_VERSION
#define EBPROF_VERSION "unknown"
#endif

/* Length of the valid UTF-8 sequence at s, or 0 when the byte is not the
 * start of one (overlongs, surrogates and > U+10FFFF rejected). */
static size_t utf8_len(const unsigned char *s)
{
	unsigned char c = s[0];
	size_t n;
	unsigned cp;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, cp = c & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return n;
}

void json_str(FILE *out, const char *s)
{
	if (!s) {
		fputs("null", out);
		return;
	}
	fputc('"', out);
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		unsigned char c = *p;
		if (c == '"' || c == '\\') {
			fprintf(out, "\\%c", c);
		} else if (c == '\n') {
			fputs("\\n", out);
		} else if (c == '\t') {
			fputs("\\t", out);
		} else if (c == '\r') {
			fputs("\\r", out);
		} else if (c < 0x20 || c == 0x7f) {
			fprintf(out, "\\u%04x", c);
		} else {
			size_t n = utf8_len(p);
			if (!n) {
				/* Invalid byte: keep it visible as its Latin-1 code point. */
				fprintf(out, "\\u%04x", c);
				p++;
				continue;
			}
			fwrite(p, 1, n, out);
			p += n;
			continue;
		}
		p++;
	}
	fputc('"', out);
}

/* Always with a '.' or an exponent, so a reader tells a double from an
 * integer (info facts carry no type of their own). */
static void json_double(FILE *out, double d)
{
	char buf[40];

	if (isnan(d) || isinf(d)) {
		fputs("null", out);
		return;
	}
	snprintf(buf, sizeof(buf), "%.17g", d);
	fputs(buf, out);
	if (!strpbrk(buf, ".e"))
		fputs(".0", out);
}

static void json_values(FILE *out, const int64_t *v, size_t n)
{
	fputc('[', out);
	for (size_t i = 0; i < n; i++)
		fprintf(out, "%s%lld", i ? "," : "", (long long)v[i]);
	fputc(']', out);
}

static const char *kind_name(uint8_t k)
{
	return k == FRAME_KERNEL ? "kernel" : k == FRAME_MARKER ? "marker" : "user";
}

static void write_info(FILE *out, const struct profile *p)
{
	fputs(",\"info\":{", out);
	for (size_t i = 0; i < p->ninfo; i++) {
		const struct pinfo *in = &p->info[i];
		fputs(i ? "," : "", out);
		json_str(out, in->key);
		fputc(':', out);
		if (in->type == INFO_INT)
			fprintf(out, "%lld", (long long)in->v.i);
		else if (in->type == INFO_DOUBLE)
			json_double(out, in->v.d);
		else
			json_str(out, in->v.s);
	}
	fputs("},\"info_units\":{", out);
	for (size_t i = 0; i < p->ninfo; i++) {
		fputs(i ? "," : "", out);
		json_str(out, p->info[i].key);
		fputc(':', out);
		json_str(out, p->info[i].unit ? p->info[i].unit : "");
	}
	fputs("},\"info_labels\":{", out);
	for (size_t i = 0; i < p->ninfo; i++) {
		fputs(i ? "," : "", out);
		json_str(out, p->info[i].key);
		fputc(':', out);
		json_str(out, p->info[i].label ? p->info[i].label : p->info[i].key);
	}
	fputc('}', out);
}

static const char *col_type_name(enum col_type t)
{
	return t == COL_INT ? "int" : t == COL_DOUBLE ? "double" : "str";
}

static void write_table(FILE *out, const struct ptable *t)
{
	fputs("{\"name\":", out);
	json_str(out, t->name);
	fputs(",\"title\":", out);
	json_str(out, t->title);
	fputs(",\"columns\":[", out);
	for (size_t c = 0; c < t->ncols; c++) {
		fputs(c ? ",{\"key\":" : "{\"key\":", out);
		json_str(out, t->cols[c].key);
		fputs(",\"header\":", out);
		json_str(out, t->cols[c].header);
		fputs(",\"unit\":", out);
		json_str(out, t->cols[c].unit ? t->cols[c].unit : "");
		fprintf(out, ",\"type\":\"%s\"", col_type_name(t->cols[c].type));
		if (t->cols[c].text_hidden)
			fputs(",\"hidden\":true", out);
		if (t->cols[c].text_skip)
			fputs(",\"text_skip\":true", out);
		if (t->cols[c].sort_as > 0 && (size_t)t->cols[c].sort_as <= t->ncols) {
			fputs(",\"sort_as\":", out);
			json_str(out, t->cols[t->cols[c].sort_as - 1].key);
		}
		fputc('}', out);
	}
	fputs("],\"rows\":[", out);
	for (size_t r = 0; r < t->nrows; r++) {
		fputs(r ? ",\n[" : "\n[", out);
		for (size_t c = 0; c < t->ncols; c++) {
			const union pcell *v = &t->cells[r * t->ncols + c];
			fputs(c ? "," : "", out);
			if (t->cols[c].type == COL_INT)
				fprintf(out, "%lld", (long long)v->i);
			else if (t->cols[c].type == COL_DOUBLE)
				json_double(out, v->d);
			else
				json_str(out, v->s);
		}
		fputc(']', out);
	}
	fputs("]}", out);
}

static void write_profile(FILE *out, const struct profile *p)
{
	size_t nm = p->nmetrics;
	fputs("{\"report\":", out);
	json_str(out, p->report);
	fputs(",\"title\":", out);
	json_str(out, p->title);
	fputs(",\"metrics\":[", out);
	for (size_t i = 0; i < nm; i++) {
		fputs(i ? ",{\"name\":" : "{\"name\":", out);
		json_str(out, p->metrics[i].name);
		fputs(",\"unit\":", out);
		json_str(out, p->metrics[i].unit);
		fputs(",\"desc\":", out);
		json_str(out, p->metrics[i].desc);
		fputc('}', out);
	}
	fputs("],\"default_metric\":", out);
	int dm = writer_pick_metric(p, NULL, NULL);
	json_str(out, dm >= 0 ? p->metrics[dm].name : NULL);
	write_info(out, p);
	fputs(",\"notes\":[", out);
	for (size_t i = 0; i < p->notes.n; i++) {
		fputs(i ? "," : "", out);
		json_str(out, p->notes.v[i]);
	}
	fputs("],\n\"frames\":[", out);
	for (size_t i = 0; i < p->nframes; i++) {
		const struct pframe *f = &p->frames[i];
		fputs(i ? ",\n{\"func\":" : "\n{\"func\":", out);
		json_str(out, f->func);
		fputs(",\"module\":", out);
		json_str(out, f->module);
		/* Addresses above INT64_MAX (kernel) as a hex string: JSON
		 * readers hold integers as int64. */
		fprintf(out, f->offset > INT64_MAX ? ",\"offset\":\"0x%llx\"" : ",\"offset\":%llu",
			(unsigned long long)f->offset);
		fprintf(out, ",\"kind\":\"%s\"}", kind_name(f->kind));
	}
	fputs("],\n\"samples\":[", out);
	for (size_t i = 0; i < p->nsamples; i++) {
		const struct psample *s = &p->samples[i];
		fputs(i ? ",\n{\"stack\":[" : "\n{\"stack\":[", out);
		for (uint32_t k = 0; k < s->nframes; k++)
			fprintf(out, "%s%u", k ? "," : "", s->frames[k]);
		fputs("],\"values\":", out);
		json_values(out, s->values, nm);
		fputc('}', out);
	}
	fputs("],\n\"nodes\":[", out);
	for (size_t i = 0; i < p->nnodes; i++) {
		const struct pnode *nd = &p->nodes[i];
		fprintf(out, "%s{\"frame\":%u,\"self\":", i ? ",\n" : "\n", nd->frame);
		json_values(out, nd->self, nm);
		fputs(",\"total\":", out);
		json_values(out, nd->total, nm);
		fprintf(out, ",\"calls\":%llu}", (unsigned long long)nd->calls);
	}
	fputs("],\n\"edges\":[", out);
	for (size_t i = 0; i < p->nedges; i++) {
		const struct pedge *e = &p->edges[i];
		fprintf(out, "%s{\"caller\":%u,\"callee\":%u,\"calls\":%llu,\"total\":",
			i ? ",\n" : "\n", e->caller, e->callee, (unsigned long long)e->calls);
		json_values(out, e->total, nm);
		fputc('}', out);
	}
	fputs("],\n\"tables\":[", out);
	for (size_t i = 0; i < p->ntables; i++) {
		fputs(i ? ",\n" : "\n", out);
		write_table(out, p->tables[i]);
	}
	fputs("]}", out);
}

static void write_run(FILE *out, const struct run_meta *r)
{
	const char *const keys[] = { "command", "target", "kernel", "ebprof" };
	const char *const vals[] = { r->command, r->target, r->kernel, r->version };

	fputs(",\"run\":{", out);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		fprintf(out, "\"%s\":", keys[i]);
		json_str(out, vals[i]);
		fputc(',', out);
	}
	fprintf(out, "\"duration\":%lld}", (long long)r->duration_ns);
}

static int json_write(FILE *out, const struct profile *const *profiles, size_t n,
		      const struct write_opts *o, FILE *err)
{
	(void)err;
	fprintf(out, "{\"schema\":\"%s\",\"version\":%d,\"ebprof\":", EBPROF_JSON_SCHEMA,
		EBPROF_JSON_SCHEMA_VERSION);
	json_str(out, EBPROF_VERSION);
	if (o && o->run)
		write_run(out, o->run);
	fputs(",\"reports\":[", out);
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (!profiles[i])
			continue;
		fputs(k++ ? ",\n" : "\n", out);
		write_profile(out, profiles[i]);
	}
	fputs("]}\n", out);
	return ferror(out) ? -EIO : 0;
}

const struct writer writer_json = {
	.name = "json",
	.desc = "every report as one JSON document (schema ebprof-profile v2)",
	.write = json_write,
};
