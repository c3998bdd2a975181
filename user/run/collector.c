/* The registry of collectors. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "run/collector.h"
#include "util/util.h"

extern const struct collector_ops cpu_collector;
extern const struct collector_ops func_collector;
extern const struct collector_ops net_collector;
extern const struct collector_ops mem_collector;
extern const struct collector_ops vm_collector;

static const struct collector_ops *const collectors[] = {
	&cpu_collector, &func_collector, &net_collector, &mem_collector, &vm_collector, NULL,
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

/* 1 when some table of c has a column named key. */
static int has_sort_key(const struct collector_ops *c, const char *key)
{
	for (const struct ptable_def *const *t = c->tables; t && *t; t++)
		for (size_t i = 0; i < (*t)->ncols; i++)
			if (!strcmp((*t)->cols[i].key, key))
				return 1;
	return 0;
}

static int has_metric(const struct collector_ops *c, const char *name)
{
	for (size_t i = 0; i < c->nmetrics; i++)
		if (!strcmp(c->metrics[i].name, name))
			return 1;
	return 0;
}

/* 1 when column i of table t is the first of its key in c's tables. */
static int first_of_key(const struct collector_ops *c, const struct ptable_def *t, size_t i)
{
	for (const struct ptable_def *const *u = c->tables; *u; u++)
		for (size_t j = 0; j < (*u)->ncols; j++) {
			if (*u == t && j == i)
				return 1;
			if (!strcmp((*u)->cols[j].key, t->cols[i].key))
				return 0;
		}
	return 0;
}

void collector_print_sort_keys(FILE *f, const struct collector_ops *c, const char *sep)
{
	int first = 1;

	for (const struct ptable_def *const *t = c->tables; t && *t; t++)
		for (size_t i = 0; i < (*t)->ncols; i++)
			if (first_of_key(c, *t, i)) {
				fprintf(f, "%s%s", first ? "" : sep, (*t)->cols[i].key);
				first = 0;
			}
}

void collector_print_metrics(FILE *f, const struct collector_ops *c, const char *sep)
{
	for (size_t i = 0; i < c->nmetrics; i++)
		fprintf(f, "%s%s", i ? sep : "", c->metrics[i].name);
}

/* 0 when some wanted collector has word (has()); else one line naming the
 * valid words (print()) and -EINVAL. */
static int check_word(const struct options *o, const char *what, const char *word,
		      int (*has)(const struct collector_ops *, const char *),
		      void (*print)(FILE *, const struct collector_ops *, const char *))
{
	int first = 1;

	for (size_t i = 0; collectors[i]; i++)
		if (options_wants_report(o, collectors[i]->name) && has(collectors[i], word))
			return 0;
	fprintf(stderr, "ebprof: unknown %s '%s' (valid: ", what, word);
	for (size_t i = 0; collectors[i]; i++) {
		if (!options_wants_report(o, collectors[i]->name))
			continue;
		fprintf(stderr, "%s", first ? "" : " ");
		print(stderr, collectors[i], " ");
		first = 0;
	}
	fprintf(stderr, ")\n");
	return -EINVAL;
}

int collector_check_sort(const struct options *o, const char *key)
{
	return check_word(o, "sort key", key, has_sort_key, collector_print_sort_keys);
}

int collector_check_metric(const struct options *o, const char *name)
{
	return check_word(o, "metric", name, has_metric, collector_print_metrics);
}

void collector_bpf_error(const char *name, int loading, int err)
{
	if (!loading)
		ebprof_err("cannot open the %s BPF object: %s", name, strerror(-err));
	else
		ebprof_err("cannot load the %s BPF programs: %s%s", name, strerror(-err),
			   err == -EPERM ? " (need root or CAP_BPF+CAP_PERFMON)" : "");
}
