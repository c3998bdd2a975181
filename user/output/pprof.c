/* pprof: a gzip-compressed perftools.profiles.Profile (user/output/profile.proto,
 * protobuf-c), read by `go tool pprof`, Grafana Pyroscope and Parca.  One
 * report; one sample type per metric; a mapping per module, a function per
 * (name, module), a location per frame. */
#include "output/strtab.h"
#include "output/writer.h"
#include "proto/profile.pb-c.h"
#include "util/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

typedef Perftools__Profiles__Profile Profile;
typedef Perftools__Profiles__ValueType ValueType;
typedef Perftools__Profiles__Sample Sample;
typedef Perftools__Profiles__Mapping Mapping;
typedef Perftools__Profiles__Location Location;
typedef Perftools__Profiles__Line Line;
typedef Perftools__Profiles__Function Function;

/* Everything the message points to, owned here (protobuf-c packs from
 * pointers and frees nothing). */
struct pbuild {
	Profile pr;
	struct strtab st;
	ValueType *types, **type_ptrs;
	Mapping *maps, **map_ptrs;
	Function *funcs, **func_ptrs;
	Location *locs, **loc_ptrs;
	Line *lines, **line_ptrs;
	Sample *samples, **sample_ptrs;
	uint64_t *loc_ids;
	int64_t *values;
	int64_t comment;
};

static void pbuild_free(struct pbuild *b)
{
	strtab_free(&b->st);
	free(b->types), free(b->type_ptrs), free(b->maps), free(b->map_ptrs);
	free(b->funcs), free(b->func_ptrs), free(b->locs), free(b->loc_ptrs);
	free(b->lines), free(b->line_ptrs), free(b->samples), free(b->sample_ptrs);
	free(b->loc_ids), free(b->values);
}

/* The mapping id of a module name (1-based, added when new). */
static uint64_t mapping_of(struct pbuild *b, const char *module)
{
	int64_t name = strtab_add(&b->st, module);

	for (size_t i = 0; i < b->pr.n_mapping; i++)
		if (b->maps[i].filename == name)
			return b->maps[i].id;
	Mapping *m = &b->maps[b->pr.n_mapping];

	perftools__profiles__mapping__init(m);
	m->id = b->pr.n_mapping + 1;
	m->filename = name;
	m->has_functions = 1;
	b->map_ptrs[b->pr.n_mapping++] = m;
	return m->id;
}

/* The function id of (name, module), by a linear search of the functions
 * already made: frames of one function at several offsets share it. */
static uint64_t function_of(struct pbuild *b, int64_t name, int64_t module)
{
	for (size_t i = 0; i < b->pr.n_function; i++)
		if (b->funcs[i].name == name && b->funcs[i].filename == module)
			return b->funcs[i].id;
	Function *f = &b->funcs[b->pr.n_function];

	perftools__profiles__function__init(f);
	f->id = b->pr.n_function + 1;
	f->name = f->system_name = name;
	f->filename = module;
	b->func_ptrs[b->pr.n_function++] = f;
	return f->id;
}

static int build_locations(struct pbuild *b, const struct profile *p)
{
	struct strbuf name = { 0 };
	int err = 0;

	for (size_t i = 0; i < p->nframes && !err; i++) {
		const struct pframe *fr = &p->frames[i];
		Location *l = &b->locs[i];
		Line *ln = &b->lines[i];
		const char *s = pframe_str(fr, &name, 0); /* kernel frames: mapping [kernel] */
		int64_t fname = s ? strtab_add(&b->st, s) : -ENOMEM;
		int64_t mname = fr->module ? strtab_add(&b->st, fr->module) : 0;

		if (fname < 0 || mname < 0) {
			err = -ENOMEM;
			break;
		}
		perftools__profiles__location__init(l);
		perftools__profiles__line__init(ln);
		l->id = i + 1;
		l->mapping_id = fr->module ? mapping_of(b, fr->module) : 0;
		l->address = fr->func ? 0 : fr->offset;
		ln->function_id = function_of(b, fname, mname);
		b->line_ptrs[i] = ln;
		l->n_line = 1;
		l->line = &b->line_ptrs[i];
		b->loc_ptrs[i] = l;
	}
	strbuf_free(&name);
	if (err)
		return err;
	b->pr.n_location = p->nframes;
	b->pr.location = b->loc_ptrs;
	b->pr.mapping = b->map_ptrs;
	b->pr.function = b->func_ptrs;
	return 0;
}

static int build_samples(struct pbuild *b, const struct profile *p)
{
	size_t nloc = 0;

	for (size_t i = 0; i < p->nsamples; i++)
		nloc += p->samples[i].nframes;
	b->loc_ids = calloc(nloc ? nloc : 1, sizeof(*b->loc_ids));
	b->values = calloc(p->nsamples * p->nmetrics + 1, sizeof(*b->values));
	if (!b->loc_ids || !b->values)
		return -ENOMEM;
	nloc = 0;
	for (size_t i = 0; i < p->nsamples; i++) {
		const struct psample *s = &p->samples[i];
		Sample *out = &b->samples[b->pr.n_sample];

		perftools__profiles__sample__init(out);
		out->location_id = &b->loc_ids[nloc];
		for (uint32_t k = 0; k < s->nframes; k++) /* leaf first */
			b->loc_ids[nloc++] = s->frames[s->nframes - 1 - k] + 1;
		out->n_location_id = s->nframes;
		out->value = &b->values[i * p->nmetrics];
		memcpy(out->value, s->values, p->nmetrics * sizeof(*out->value));
		out->n_value = p->nmetrics;
		b->sample_ptrs[b->pr.n_sample++] = out;
	}
	b->pr.sample = b->sample_ptrs;
	return 0;
}

static int build(struct pbuild *b, const struct profile *p)
{
	const struct pinfo *dur = profile_get_info(p, "duration");
	const struct pinfo *cmd = profile_get_info(p, "command");
	size_t nf = p->nframes ? p->nframes : 1, ns = p->nsamples ? p->nsamples : 1;

	perftools__profiles__profile__init(&b->pr);
	b->types = calloc(p->nmetrics + 1, sizeof(*b->types));
	b->type_ptrs = calloc(p->nmetrics + 1, sizeof(*b->type_ptrs));
	b->maps = calloc(nf, sizeof(*b->maps));
	b->map_ptrs = calloc(nf, sizeof(*b->map_ptrs));
	b->funcs = calloc(nf, sizeof(*b->funcs));
	b->func_ptrs = calloc(nf, sizeof(*b->func_ptrs));
	b->locs = calloc(nf, sizeof(*b->locs));
	b->loc_ptrs = calloc(nf, sizeof(*b->loc_ptrs));
	b->lines = calloc(nf, sizeof(*b->lines));
	b->line_ptrs = calloc(nf, sizeof(*b->line_ptrs));
	b->samples = calloc(ns, sizeof(*b->samples));
	b->sample_ptrs = calloc(ns, sizeof(*b->sample_ptrs));
	if (!b->types || !b->type_ptrs || !b->maps || !b->map_ptrs || !b->funcs || !b->func_ptrs ||
	    !b->locs || !b->loc_ptrs || !b->lines || !b->line_ptrs || !b->samples ||
	    !b->sample_ptrs || strtab_add(&b->st, "") != 0)
		return -ENOMEM;
	for (size_t m = 0; m < p->nmetrics; m++) {
		perftools__profiles__value_type__init(&b->types[m]);
		b->types[m].type = strtab_add(&b->st, p->metrics[m].name);
		b->types[m].unit = strtab_add(&b->st,
					      writer_unit_name(p->metrics[m].unit, "count"));
		b->type_ptrs[m] = &b->types[m];
	}
	b->pr.n_sample_type = p->nmetrics;
	b->pr.sample_type = b->type_ptrs;
	if (p->default_metric >= 0 && (size_t)p->default_metric < p->nmetrics)
		b->pr.default_sample_type = b->types[p->default_metric].type;
	if (dur && dur->type == INFO_INT)
		b->pr.duration_nanos = dur->v.i;
	if (cmd && cmd->type == INFO_STR && cmd->v.s) {
		b->comment = strtab_add(&b->st, cmd->v.s);
		b->pr.n_comment = 1;
		b->pr.comment = &b->comment;
	}
	int r = build_locations(b, p);

	if (!r)
		r = build_samples(b, p);
	b->pr.n_string_table = b->st.n;
	b->pr.string_table = b->st.v;
	return r;
}

/* The packed message, gzip-compressed, to out. */
static int write_gzip(FILE *out, const uint8_t *data, size_t len)
{
	z_stream z = { 0 };
	uint8_t buf[65536];
	int r;

	if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM;
	z.next_in = (uint8_t *)data;
	z.avail_in = (uInt)len;
	do {
		z.next_out = buf;
		z.avail_out = sizeof(buf);
		r = deflate(&z, Z_FINISH);
		fwrite(buf, 1, sizeof(buf) - z.avail_out, out);
	} while (r == Z_OK);
	deflateEnd(&z);
	return r == Z_STREAM_END && !ferror(out) ? 0 : -EIO;
}

static int pprof_write(FILE *out, const struct profile *const *profiles, size_t n,
		       const struct write_opts *o, FILE *err)
{
	const struct profile *p = writer_one_graph(profiles, n, "pprof", err);
	struct pbuild b = { 0 };
	uint8_t *buf = NULL;
	size_t len;
	int r;

	(void)o;
	if (!p)
		return -EINVAL;
	if (!p->nsamples) {
		fprintf(err, "ebprof: format pprof needs stacks: report %s has none\n", p->report);
		return -EINVAL;
	}
	r = build(&b, p);
	if (!r && p->nsamples * p->nmetrics > (size_t)1 << 28)
		r = -E2BIG;
	if (!r) {
		len = perftools__profiles__profile__get_packed_size(&b.pr);
		buf = malloc(len ? len : 1);
		r = buf ? 0 : -ENOMEM;
	}
	if (!r) {
		perftools__profiles__profile__pack(&b.pr, buf);
		r = write_gzip(out, buf, len);
	}
	free(buf);
	pbuild_free(&b);
	return r;
}

const struct writer writer_pprof = {
	.name = "pprof",
	.desc = "gzip-compressed pprof protobuf (go tool pprof, Pyroscope, Parca)",
	.one_report = 1,
	.write = pprof_write,
};
