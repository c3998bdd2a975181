/* The registry of collectors. */
#include <string.h>

#include "collector.h"

extern const struct collector_ops cpu_collector;
#ifdef EBPROF_HAVE_FUNC
extern const struct collector_ops func_collector;
#endif

static const struct collector_ops *const collectors[] = {
	&cpu_collector,
#ifdef EBPROF_HAVE_FUNC
	&func_collector,
#endif
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
