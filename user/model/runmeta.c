/* Run facts kept in a saved profile (see runmeta.h). */
#include "model/runmeta.h"

#include <stdlib.h>
#include <string.h>

char *run_meta_join(char *const *words, int n)
{
	size_t len = 1;
	char *s;

	for (int i = 0; i < n; i++)
		len += strlen(words[i]) + 1;
	s = malloc(len);
	if (!s)
		return NULL;
	s[0] = '\0';
	for (int i = 0; i < n; i++) {
		if (i)
			strcat(s, " ");
		strcat(s, words[i]);
	}
	return s;
}

void run_meta_free(struct run_meta *m)
{
	char **strings[] = { &m->command, &m->target, &m->kernel, &m->version };

	for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
		free(*strings[i]);
	memset(m, 0, sizeof(*m));
}
