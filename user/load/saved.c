/* Saved profiles read back with jansson (see saved.h). */
#include "load/saved.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "output/writer.h"
#include "util/util.h"

/* The first problem found, printed once at the end. */
struct loader {
	char msg[256];
	uint32_t *frame_map; /* file frame index -> profile frame */
	size_t nframes;
	uint32_t *node_map; /* file node index -> profile node */
	size_t nnodes;
};

static int bad(struct loader *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(struct loader *l, const char *fmt, ...)
{
	va_list ap;

	if (!l->msg[0]) {
		va_start(ap, fmt);
		vsnprintf(l->msg, sizeof(l->msg), fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static json_t *member(json_t *o, const char *key, json_type type)
{
	json_t *v = json_object_get(o, key);
	return v && json_typeof(v) == type ? v : NULL;
}

/* A string member, or NULL (absent or null); -EINVAL when it is another type. */
static int opt_str(struct loader *l, json_t *o, const char *key, const char **out)
{
	json_t *v = json_object_get(o, key);

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return bad(l, "'%s' is not a string", key);
	*out = json_string_value(v);
	return 0;
}

static int req_str(struct loader *l, json_t *o, const char *key, const char **out)
{
	if (opt_str(l, o, key, out))
		return -EINVAL;
	return *out ? 0 : bad(l, "'%s' missing", key);
}

/* An integer member in [lo, hi]. */
static int req_int(struct loader *l, json_t *o, const char *key, int64_t lo, int64_t hi,
		   int64_t *out)
{
	json_t *v = member(o, key, JSON_INTEGER);

	if (!v)
		return bad(l, "'%s' missing or not an integer", key);
	*out = json_integer_value(v);
	if (*out < lo || *out > hi)
		return bad(l, "'%s' out of range", key);
	return 0;
}

static json_t *req_array(struct loader *l, json_t *o, const char *key)
{
	json_t *v = member(o, key, JSON_ARRAY);

	if (!v)
		bad(l, "'%s' missing or not an array", key);
	return v;
}

/* The array at key and a map of one profile index per element, for the
 * sections that later ones refer to by position (frames, nodes). */
static json_t *indexed_array(struct loader *l, json_t *r, const char *key, uint32_t **map,
			     size_t *n)
{
	json_t *a = req_array(l, r, key);

	if (!a)
		return NULL;
	*n = json_array_size(a);
	*map = calloc(*n ? *n : 1, sizeof(**map));
	if (!*map)
		bad(l, "out of memory");
	return *map ? a : NULL;
}

/* A metric vector: exactly nm integers. */
static int values(struct loader *l, json_t *a, size_t nm, int64_t *out)
{
	size_t i;
	json_t *v;

	if (!json_is_array(a) || json_array_size(a) != nm)
		return bad(l, "a value list does not have one value per metric");
	json_array_foreach(a, i, v)
	{
		if (!json_is_integer(v))
			return bad(l, "a metric value is not an integer");
		out[i] = json_integer_value(v);
	}
	return 0;
}

static int load_metrics(struct loader *l, json_t *r, struct profile *p)
{
	json_t *a = req_array(l, r, "metrics"), *m;
	const char *name, *unit, *desc, *dm;
	size_t i;

	if (!a)
		return -EINVAL;
	if (json_array_size(a) > PROFILE_MAX_METRICS)
		return bad(l, "more than %d metrics", PROFILE_MAX_METRICS);
	json_array_foreach(a, i, m)
	{
		if (req_str(l, m, "name", &name) || opt_str(l, m, "unit", &unit) ||
		    opt_str(l, m, "desc", &desc))
			return -EINVAL;
		if (profile_add_metric(p, name, unit, desc) < 0)
			return bad(l, "bad or repeated metric '%s'", name);
	}
	if (opt_str(l, r, "default_metric", &dm))
		return -EINVAL;
	p->default_metric = dm ? profile_metric_index(p, dm) : 0;
	if (p->default_metric < 0)
		return bad(l, "default_metric '%s' is not a metric", dm);
	return 0;
}

static int load_info(struct loader *l, json_t *r, struct profile *p)
{
	json_t *info = member(r, "info", JSON_OBJECT);
	json_t *units = member(r, "info_units", JSON_OBJECT);
	json_t *labels = member(r, "info_labels", JSON_OBJECT);
	const char *key, *unit = NULL, *label = NULL;
	json_t *v;
	int err;

	if (!info)
		return bad(l, "'info' missing or not an object");
	json_object_foreach(info, key, v)
	{
		if ((units && opt_str(l, units, key, &unit)) ||
		    (labels && opt_str(l, labels, key, &label)))
			return -EINVAL;
		if (json_is_integer(v))
			err = profile_info_int(p, key, label, unit, json_integer_value(v));
		else if (json_is_real(v))
			err = profile_info_double(p, key, label, unit, json_real_value(v));
		else if (json_is_null(v)) /* a double that was not finite */
			err = profile_info_double(p, key, label, unit, NAN);
		else if (json_is_string(v))
			err = profile_info_str(p, key, label, json_string_value(v));
		else
			return bad(l, "info '%s' is not a number or a string", key);
		if (err)
			return bad(l, "info '%s': %s", key, strerror(-err));
	}
	return 0;
}

static int load_notes(struct loader *l, json_t *r, struct profile *p)
{
	json_t *a = req_array(l, r, "notes"), *v;
	size_t i;

	if (!a)
		return -EINVAL;
	json_array_foreach(a, i, v)
	{
		if (!json_is_string(v))
			return bad(l, "a note is not a string");
		if (profile_note(p, "%s", json_string_value(v)))
			return bad(l, "out of memory");
	}
	return 0;
}

static int frame_kind(const char *s)
{
	if (!s || !strcmp(s, "user"))
		return s ? FRAME_USER : -1;
	return !strcmp(s, "kernel") ? FRAME_KERNEL : !strcmp(s, "marker") ? FRAME_MARKER : -1;
}

/* An offset: an integer, or a "0x..." string for addresses above INT64_MAX. */
static int frame_offset(struct loader *l, json_t *f, uint64_t *out)
{
	json_t *v = json_object_get(f, "offset");
	const char *s;
	char *end;

	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		*out = (uint64_t)json_integer_value(v);
		return 0;
	}
	s = json_is_string(v) ? json_string_value(v) : NULL;
	if (!s || strncmp(s, "0x", 2) || !s[2])
		return bad(l, "a frame offset is not a number");
	errno = 0;
	*out = strtoull(s + 2, &end, 16);
	return errno || *end ? bad(l, "a frame offset is not a number") : 0;
}

static int load_frames(struct loader *l, json_t *r, struct profile *p)
{
	json_t *a = indexed_array(l, r, "frames", &l->frame_map, &l->nframes), *f;
	const char *func, *module, *kind;
	uint64_t off = 0;
	int64_t idx;
	size_t i;

	if (!a)
		return -EINVAL;
	json_array_foreach(a, i, f)
	{
		if (opt_str(l, f, "func", &func) || opt_str(l, f, "module", &module) ||
		    req_str(l, f, "kind", &kind) || frame_offset(l, f, &off))
			return -EINVAL;
		if (frame_kind(kind) < 0)
			return bad(l, "unknown frame kind '%s'", kind);
		idx = profile_frame(p, frame_kind(kind), func, module, off);
		if (idx < 0)
			return bad(l, "out of memory");
		l->frame_map[i] = (uint32_t)idx;
	}
	return 0;
}

static int load_samples(struct loader *l, json_t *r, struct profile *p)
{
	json_t *a = req_array(l, r, "samples"), *s, *st, *v;
	int64_t vals[PROFILE_MAX_METRICS];
	size_t i, k;
	uint32_t *frames;
	int err = 0;

	if (!a)
		return -EINVAL;
	json_array_foreach(a, i, s)
	{
		st = member(s, "stack", JSON_ARRAY);
		if (!st || json_array_size(st) > UINT32_MAX)
			return bad(l, "a sample has no stack");
		if (values(l, json_object_get(s, "values"), p->nmetrics, vals))
			return -EINVAL;
		frames = malloc((json_array_size(st) + 1) * sizeof(*frames));
		if (!frames)
			return bad(l, "out of memory");
		json_array_foreach(st, k, v)
		{
			if (!json_is_integer(v) || json_integer_value(v) < 0 ||
			    (uint64_t)json_integer_value(v) >= l->nframes) {
				err = bad(l, "a sample names a frame that does not exist");
				break;
			}
			frames[k] = l->frame_map[json_integer_value(v)];
		}
		if (!err && profile_add_sample(p, frames, (uint32_t)json_array_size(st), vals))
			err = bad(l, "out of memory");
		free(frames);
		if (err)
			return err;
	}
	return 0;
}

static int load_nodes(struct loader *l, json_t *r, struct profile *p)
{
	json_t *a = indexed_array(l, r, "nodes", &l->node_map, &l->nnodes), *n;
	int64_t frame, calls, idx;
	size_t i;

	if (!a)
		return -EINVAL;
	json_array_foreach(a, i, n)
	{
		if (req_int(l, n, "frame", 0, (int64_t)l->nframes - 1, &frame) ||
		    req_int(l, n, "calls", 0, INT64_MAX, &calls))
			return -EINVAL;
		idx = profile_node(p, l->frame_map[frame]);
		if (idx < 0)
			return bad(l, "out of memory");
		if ((size_t)idx != p->nnodes - 1)
			return bad(l, "two nodes for one frame");
		if (values(l, json_object_get(n, "self"), p->nmetrics, p->nodes[idx].self) ||
		    values(l, json_object_get(n, "total"), p->nmetrics, p->nodes[idx].total))
			return -EINVAL;
		p->nodes[idx].calls = (uint64_t)calls;
		l->node_map[i] = (uint32_t)idx;
	}
	return 0;
}

static int load_edges(struct loader *l, json_t *r, struct profile *p)
{
	json_t *a = req_array(l, r, "edges"), *e;
	int64_t caller, callee, calls, idx;
	size_t i;

	if (!a)
		return -EINVAL;
	json_array_foreach(a, i, e)
	{
		if (req_int(l, e, "caller", 0, (int64_t)l->nnodes - 1, &caller) ||
		    req_int(l, e, "callee", 0, (int64_t)l->nnodes - 1, &callee) ||
		    req_int(l, e, "calls", 0, INT64_MAX, &calls))
			return -EINVAL;
		idx = profile_edge(p, l->node_map[caller], l->node_map[callee]);
		if (idx < 0)
			return bad(l, "out of memory");
		if ((size_t)idx != p->nedges - 1)
			return bad(l, "two edges between the same nodes");
		if (values(l, json_object_get(e, "total"), p->nmetrics, p->edges[idx].total))
			return -EINVAL;
		p->edges[idx].calls = (uint64_t)calls;
	}
	return 0;
}

static int col_type(const char *s)
{
	return !strcmp(s, "str")    ? COL_STR :
	       !strcmp(s, "int")    ? COL_INT :
	       !strcmp(s, "double") ? COL_DOUBLE :
				      -1;
}

static int load_columns(struct loader *l, json_t *tj, struct ptable *t)
{
	json_t *a = req_array(l, tj, "columns"), *c;
	const char *key, *header, *unit, *type, *sort_as;
	size_t i;
	int idx;

	if (!a)
		return -EINVAL;
	for (i = 0; i < json_array_size(a); i++) {
		c = json_array_get(a, i);
		if (req_str(l, c, "key", &key) || opt_str(l, c, "header", &header) ||
		    opt_str(l, c, "unit", &unit) || req_str(l, c, "type", &type))
			return -EINVAL;
		if (col_type(type) < 0)
			return bad(l, "unknown column type '%s'", type);
		idx = ptable_add_col(t, key, header, unit, col_type(type));
		if (idx < 0)
			return bad(l, "bad or repeated column '%s'", key);
		if (json_is_true(json_object_get(c, "hidden")))
			ptable_hide_col(t, (size_t)idx);
		if (json_is_true(json_object_get(c, "text_skip")))
			ptable_skip_rows_by(t, (size_t)idx);
	}
	/* sort_as names another column: resolved once all are known. */
	json_array_foreach(a, i, c)
	{
		if (opt_str(l, c, "sort_as", &sort_as))
			return -EINVAL;
		if (!sort_as)
			continue;
		idx = ptable_col_index(t, sort_as);
		if (idx < 0)
			return bad(l, "column sorted as an unknown column '%s'", sort_as);
		ptable_sort_as(t, i, (size_t)idx);
	}
	return 0;
}

static int load_cell(struct loader *l, struct ptable *t, size_t r, size_t c, json_t *v)
{
	union pcell *cell = ptable_cell(t, r, c);

	switch (t->cols[c].type) {
	case COL_INT:
		if (!json_is_integer(v))
			return bad(l, "table '%s': an int cell is not an integer", t->name);
		cell->i = json_integer_value(v);
		return 0;
	case COL_DOUBLE:
		if (!json_is_number(v) && !json_is_null(v))
			return bad(l, "table '%s': a double cell is not a number", t->name);
		cell->d = json_is_null(v) ? NAN : json_number_value(v);
		return 0;
	default:
		if (!json_is_string(v) && !json_is_null(v))
			return bad(l, "table '%s': a str cell is not a string", t->name);
		if (json_is_string(v) && ptable_set_str(t, r, c, json_string_value(v)))
			return bad(l, "out of memory");
		return 0;
	}
}

static int load_table(struct loader *l, json_t *tj, struct profile *p)
{
	json_t *rows, *row, *v;
	const char *name, *title;
	struct ptable *t;
	size_t i, c;
	int64_t r;

	if (req_str(l, tj, "name", &name) || opt_str(l, tj, "title", &title))
		return -EINVAL;
	if (profile_find_table(p, name))
		return bad(l, "two tables named '%s'", name);
	t = profile_table(p, name, title);
	if (!t)
		return bad(l, "out of memory");
	if (load_columns(l, tj, t) || !(rows = req_array(l, tj, "rows")))
		return -EINVAL;
	json_array_foreach(rows, i, row)
	{
		if (!json_is_array(row) || json_array_size(row) != t->ncols)
			return bad(l, "table '%s': a row does not have one cell per column", name);
		if ((r = ptable_add_row(t)) < 0)
			return bad(l, "out of memory");
		json_array_foreach(row, c, v) if (load_cell(l, t, (size_t)r, c, v)) return -EINVAL;
	}
	return 0;
}

static int load_report(struct loader *l, json_t *r, struct profile **out)
{
	const char *report, *title;
	json_t *tables, *t;
	struct profile *p;
	size_t i;
	int err;

	*out = NULL;
	if (!json_is_object(r))
		return bad(l, "a report is not an object");
	if (req_str(l, r, "report", &report) || opt_str(l, r, "title", &title))
		return -EINVAL;
	p = profile_new(report, title);
	if (!p)
		return bad(l, "out of memory");
	err = load_metrics(l, r, p) || load_info(l, r, p) || load_notes(l, r, p) ||
	      load_frames(l, r, p) || load_samples(l, r, p) || load_nodes(l, r, p) ||
	      load_edges(l, r, p);
	tables = err ? NULL : req_array(l, r, "tables");
	if (!tables)
		err = 1;
	json_array_foreach(tables, i, t) if (!err && load_table(l, t, p)) err = 1;
	free(l->frame_map);
	free(l->node_map);
	l->frame_map = l->node_map = NULL;
	if (err) {
		if (l->msg[0])
			snprintf(l->msg + strlen(l->msg), sizeof(l->msg) - strlen(l->msg),
				 " (report %.40s)", report);
		profile_free(p);
		return -EINVAL;
	}
	*out = p;
	return 0;
}

static int dup_member(struct loader *l, json_t *o, const char *key, char **out)
{
	const char *s;

	if (opt_str(l, o, key, &s))
		return -EINVAL;
	if (s && !(*out = strdup(s)))
		return bad(l, "out of memory");
	return 0;
}

static int load_run(struct loader *l, json_t *doc, struct run_meta *m)
{
	json_t *r = json_object_get(doc, "run"), *d;

	if (!r)
		return 0;
	if (!json_is_object(r))
		return bad(l, "'run' is not an object");
	if (dup_member(l, r, "command", &m->command) || dup_member(l, r, "target", &m->target) ||
	    dup_member(l, r, "kernel", &m->kernel) || dup_member(l, r, "ebprof", &m->version))
		return -EINVAL;
	d = json_object_get(r, "duration");
	if (d && !json_is_integer(d))
		return bad(l, "run 'duration' is not an integer");
	m->duration_ns = d ? json_integer_value(d) : 0;
	return 0;
}

static int load_doc(struct loader *l, json_t *doc, struct saved_run *out)
{
	const char *schema;
	json_t *reports, *r;
	int64_t version;
	size_t i;

	if (!json_is_object(doc) || opt_str(l, doc, "schema", &schema) || !schema ||
	    strcmp(schema, EBPROF_JSON_SCHEMA))
		return bad(l, "not an ebprof profile (no \"schema\": \"%s\")", EBPROF_JSON_SCHEMA);
	if (!member(doc, "version", JSON_INTEGER))
		return bad(l, "no schema version");
	version = json_integer_value(json_object_get(doc, "version"));
	if (version != EBPROF_JSON_SCHEMA_VERSION)
		return bad(l, "schema version %lld, this ebprof reads version %d",
			   (long long)version, EBPROF_JSON_SCHEMA_VERSION);
	if (load_run(l, doc, &out->run) || !(reports = req_array(l, doc, "reports")))
		return -EINVAL;
	out->profiles = calloc(json_array_size(reports) + 1, sizeof(*out->profiles));
	if (!out->profiles)
		return bad(l, "out of memory");
	json_array_foreach(reports, i, r)
	{
		if (load_report(l, r, &out->profiles[i]))
			return -EINVAL;
		out->n++;
	}
	return 0;
}

int saved_run_parse(const char *data, size_t len, const char *name, struct saved_run *out)
{
	struct loader l = { 0 };
	json_error_t jerr;
	json_t *doc;
	int err;

	memset(out, 0, sizeof(*out));
	doc = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc) {
		ebprof_err("%s: not a valid JSON document: %s (line %d)", name, jerr.text,
			   jerr.line);
		return -EINVAL;
	}
	err = load_doc(&l, doc, out);
	json_decref(doc);
	if (err) {
		ebprof_err("%s: %s", name, l.msg[0] ? l.msg : "malformed profile");
		saved_run_free(out);
	}
	return err;
}

int saved_run_load(const char *path, struct saved_run *out)
{
	char *buf;
	size_t len;
	int err = read_path_all(path, &buf, &len);

	memset(out, 0, sizeof(*out));
	if (err) {
		ebprof_err("cannot read %s: %s", path, strerror(-err));
		return err;
	}
	err = saved_run_parse(buf, len, path, out);
	free(buf);
	return err;
}

void saved_run_free(struct saved_run *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		profile_free(s->profiles[i]);
	free(s->profiles);
	run_meta_free(&s->run);
	memset(s, 0, sizeof(*s));
}
