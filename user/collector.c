/* The registry of collectors. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "collector.h"

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

int collector_check_sort(const struct options *o, const char *key)
{
	char valid[512] = "";

	for (size_t i = 0; collectors[i]; i++) {
		if (!options_wants_report(o, collectors[i]->name))
			continue;
		if (!collectors[i]->sort_keys || has_word(collectors[i]->sort_keys, key))
			return 0;
		snprintf(valid + strlen(valid), sizeof(valid) - strlen(valid), "%s%s",
			 valid[0] ? " " : "", collectors[i]->sort_keys);
	}
	fprintf(stderr, "ebprof: unknown sort key '%s' (valid: %s)\n", key, valid);
	return -EINVAL;
}
