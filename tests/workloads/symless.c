/* Spins alternately in two libraries without a .symtab: libsymless_dyn.so
 * (its functions in .dynsym) and libsymless_none.so (no function symbol at
 * all), from main's own symbolized spin_in_main.
 * Usage: symless ROUNDS [START]; START is the start gate (gate.h). */
#include <stdlib.h>

#include "gate.h"

extern void (*const symless_dyn_entry)(unsigned long);
extern void (*const symless_none_entry)(unsigned long);

static volatile unsigned long sink;

__attribute__((noinline)) void spin_in_main(unsigned long n)
{
	for (unsigned long i = 0; i < n; i++)
		sink += i;
}

int main(int argc, char **argv)
{
	long rounds = argc > 1 ? atol(argv[1]) : 100;

	gate_init();
	if (gate_wait(argc > 2 ? argv[2] : NULL))
		return 2;
	for (long r = 0; r < rounds; r++) {
		symless_dyn_entry(1000000);
		symless_none_entry(1000000);
		spin_in_main(1000000);
	}
	return 0;
}
