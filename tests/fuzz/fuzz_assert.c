/* libFuzzer harness: assertion_parse on arbitrary bytes (an --assert
 * expression is user input), then, when it parses, its evaluation over a
 * small profile with a table and info. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/assertion.h"

static struct profile *fixture(void)
{
	struct profile *p = profile_new("func", "t");
	struct ptable *t = profile_table(p, "functions", "f");

	ptable_add_col(t, "cumtime", "cumtime", "ns", COL_INT);
	ptable_add_col(t, "name", "function", "", COL_STR);
	ptable_add_row(t);
	ptable_cell(t, 0, 0)->i = 5;
	ptable_set_str(t, 0, 1, "heavy");
	profile_info_int(p, "duration", "d", "ns", 7);
	return p;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct profile *p;
	struct assertion a;
	char *text = malloc(size + 1), err[256];
	const char *unit;
	double v;

	if (!p)
		p = fixture();
	memcpy(text, data, size);
	text[size] = 0;
	if (assertion_parse(text, &a, err, sizeof(err)) == 0) {
		const struct profile *const list[] = { p };

		if (assertion_eval(&a, list, 1, &v, &unit, err, sizeof(err)) == 0)
			assertion_holds(&a, v);
		assertion_free(&a);
	}
	free(text);
	return 0;
}
