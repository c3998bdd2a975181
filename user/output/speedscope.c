/* speedscope's file format (https://www.speedscope.app/file-format-schema.json):
 * every report with stacks, every metric its own sampled profile, frames
 * shared by (function, module) across them. */
#include "output/strtab.h"
#include "output/writer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SCHEMA_URL "https://www.speedscope.app/file-format-schema.json"

/* Frame keys "name\x1fmodule" (module empty for markers) interned in t;
 * map[i] the shared index of p's frame i. */
static int intern_frames(struct strtab *t, const struct profile *p, int64_t *map)
{
	struct strbuf name = { 0 }, key = { 0 };
	int err = 0;

	for (size_t i = 0; i < p->nframes && !err; i++) {
		const char *s = pframe_str(&p->frames[i], &name, 0);

		strbuf_reset(&key);
		if (!s ||
		    strbuf_addf(&key, "%s\x1f%s", s,
				p->frames[i].module ? p->frames[i].module : "") ||
		    (map[i] = strtab_add(t, key.s)) < 0)
			err = -ENOMEM;
	}
	strbuf_free(&name);
	strbuf_free(&key);
	return err;
}

static void write_frames(FILE *out, const struct strtab *t)
{
	fprintf(out, "\"shared\":{\"frames\":[");
	for (size_t i = 0; i < t->n; i++) {
		char *sep = strchr(t->v[i], '\x1f');

		*sep = 0;
		fprintf(out, "%s{\"name\":", i ? "," : "");
		json_str(out, t->v[i]);
		if (sep[1]) {
			fprintf(out, ",\"file\":");
			json_str(out, sep + 1);
		}
		fprintf(out, "}");
		*sep = '\x1f';
	}
	fprintf(out, "]}");
}

/* One sampled profile: p's stacks with a non-zero metric m. */
static void write_profile(FILE *out, const struct profile *p, int m, const int64_t *map)
{
	size_t k = 0;

	fprintf(out, "{\"type\":\"sampled\",\"name\":");
	char name[256];

	snprintf(name, sizeof(name), "%s: %s", p->report, p->metrics[m].name);
	json_str(out, name);
	fprintf(out, ",\"unit\":\"%s\",\"startValue\":0,\"endValue\":%lld,\"samples\":[",
		writer_unit_name(p->metrics[m].unit, "none"),
		(long long)profile_metric_total(p, m));
	for (size_t i = 0; i < p->nsamples; i++) {
		const struct psample *s = &p->samples[i];

		if (!s->values[m])
			continue;
		fprintf(out, "%s[", k++ ? "," : "");
		for (uint32_t f = 0; f < s->nframes; f++) /* root first */
			fprintf(out, "%s%lld", f ? "," : "", (long long)map[s->frames[f]]);
		fprintf(out, "]");
	}
	fprintf(out, "],\"weights\":[");
	k = 0;
	for (size_t i = 0; i < p->nsamples; i++)
		if (p->samples[i].values[m])
			fprintf(out, "%s%lld", k++ ? "," : "", (long long)p->samples[i].values[m]);
	fprintf(out, "]}");
}

static int speedscope_write(FILE *out, const struct profile *const *profiles, size_t n,
			    const struct write_opts *o, FILE *err)
{
	struct strtab t = { 0 };
	int64_t *maps[n ? n : 1];
	size_t nprof = 0, active = 0;
	int r = 0;

	for (size_t i = 0; i < n; i++) {
		const struct profile *p = profiles[i];

		maps[i] = NULL;
		if (!p->nsamples || !p->nmetrics)
			continue;
		maps[i] = calloc(p->nframes ? p->nframes : 1, sizeof(**maps));
		if (!maps[i] || (r = intern_frames(&t, p, maps[i])))
			r = -ENOMEM;
	}
	for (size_t i = 0; i < n && !r; i++) {
		if (!maps[i])
			continue;
		if (!nprof && o && o->metric && profile_metric_index(profiles[i], o->metric) >= 0)
			active = (size_t)profile_metric_index(profiles[i], o->metric);
		else if (!nprof)
			active = (size_t)writer_pick_metric(profiles[i], NULL, NULL);
		nprof += profiles[i]->nmetrics;
	}
	if (!r && !nprof) {
		fprintf(err, "ebprof: format speedscope needs a report with stacks\n");
		r = -EINVAL;
	}
	if (!r) {
		const struct pinfo *cmd = profile_get_info(profiles[0], "command");

		fprintf(out, "{\"$schema\":\"%s\",\"exporter\":\"ebprof %s\",\"name\":", SCHEMA_URL,
			EBPROF_VERSION);
		json_str(out, cmd && cmd->type == INFO_STR && cmd->v.s ? cmd->v.s : "ebprof");
		fprintf(out, ",\"activeProfileIndex\":%zu,", active);
		write_frames(out, &t);
		fprintf(out, ",\"profiles\":[");
		nprof = 0;
		for (size_t i = 0; i < n; i++)
			for (size_t m = 0; maps[i] && m < profiles[i]->nmetrics; m++) {
				fprintf(out, "%s", nprof++ ? "," : "");
				write_profile(out, profiles[i], (int)m, maps[i]);
			}
		fprintf(out, "]}\n");
	}
	for (size_t i = 0; i < n; i++)
		free(maps[i]);
	strtab_free(&t);
	return r ? r : ferror(out) ? -EIO : 0;
}

const struct writer writer_speedscope = {
	.name = "speedscope",
	.desc = "speedscope JSON, every metric its own profile",
	.write = speedscope_write,
};
