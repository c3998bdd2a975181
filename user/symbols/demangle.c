/* Demangled symbol names (see demangle.h). */
#include "symbols/demangle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* libstdc++'s demangler (<cxxabi.h> is C++ only): the name demangled,
 * malloc'd, or NULL with *status < 0. */
extern char *__cxa_demangle(const char *mangled, char *buf, size_t *len, int *status);

char *demangle(const char *name)
{
	size_t n, slen;
	char *base, *out, *full;
	int status = 0;

	/* Only "_Z": the demangler also reads bare types ("i" is int). */
	if (!name || strncmp(name, "_Z", 2) != 0)
		return NULL;
	n = strcspn(name, "@");
	base = strndup(name, n);
	if (!base)
		return NULL;
	out = __cxa_demangle(base, NULL, NULL, &status);
	free(base);
	if (!out || status != 0) {
		free(out);
		return NULL;
	}
	slen = strlen(name + n);
	if (!slen)
		return out;
	full = malloc(strlen(out) + slen + 1);
	if (full)
		sprintf(full, "%s%s", out, name + n);
	free(out);
	return full;
}
