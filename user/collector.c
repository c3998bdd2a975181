/* The registry of collectors. */
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
