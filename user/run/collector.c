/* The registry of collectors. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "run/collector.h"
#include "util/util.h"

extern const struct collector_ops cpu_collector;
extern const struct collector_ops func_collector;

static const struct collector_ops *const collectors[] = {
	&cpu_collector,
	&func_collector,
	NULL,
};

const struct collector_ops *const *collector_list(void)
{
	return collectors;
}

const struct collector_ops *collector_find(const char *name)
{
	for (size_t i = 0; collectors[i]; i++)
		if (!strcmp(collectors[i]->name, name))
			return collectors[i];
	return NULL;
}

static int has_word(const char *list, const char *w)
{
	size_t n = strlen(w);

	for (const char *p = list; (p = strstr(p, w)); p += n)
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == 0))
			return 1;
	return 0;
}

/* 0 when some wanted collector lists word in the field at offset off;
 * else one line naming the valid words and -EINVAL. */
static int check_word(const struct options *o, const char *what, const char *word, size_t off)
{
	char valid[512] = "";

	for (size_t i = 0; collectors[i]; i++) {
		const char *list = *(const char *const *)((const char *)collectors[i] + off);

		if (!options_wants_report(o, collectors[i]->name))
			continue;
		if (!list || has_word(list, word))
			return 0;
		snprintf(valid + strlen(valid), sizeof(valid) - strlen(valid), "%s%s",
			 valid[0] ? " " : "", list);
	}
	fprintf(stderr, "ebprof: unknown %s '%s' (valid: %s)\n", what, word, valid);
	return -EINVAL;
}

int collector_check_sort(const struct options *o, const char *key)
{
	return check_word(o, "sort key", key, offsetof(struct collector_ops, sort_keys));
}

int collector_check_metric(const struct options *o, const char *name)
{
	return check_word(o, "metric", name, offsetof(struct collector_ops, metrics));
}

void collector_bpf_error(const char *name, int loading, int err)
{
	if (!loading)
		ebprof_err("cannot open the %s BPF object: %s", name, strerror(-err));
	else
		ebprof_err("cannot load the %s BPF programs: %s%s", name, strerror(-err),
			   err == -EPERM ? " (need root or CAP_BPF+CAP_PERFMON)" : "");
}
