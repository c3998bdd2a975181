/* libFuzzer harness: saved_run_parse on arbitrary bytes (a saved profile
 * handed to ebprof report is untrusted).  Each rejected input prints its
 * one error line on stderr, as ebprof report does. */
#include <stddef.h>
#include <stdint.h>

#include "load/saved.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct saved_run s;

	if (saved_run_parse((const char *)data, size, "fuzz.json", &s) == 0)
		saved_run_free(&s);
	return 0;
}
