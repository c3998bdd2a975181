/* A command that ends within a few milliseconds, its time in a shared
 * library's function: main calls shortlib_hot (libshortlib.so, a
 * DT_NEEDED library) for MS milliseconds of CPU time, then exits.  Its
 * library's frames can only be symbolized from mappings read before it
 * ends (a launched command held at its entry point).
 * Usage: shortlib MS [START]; START is the start gate (gate.h). */
#include <stdlib.h>

#include "gate.h"

void shortlib_hot(double ms);

int main(int argc, char **argv)
{
	double ms = argc > 1 ? atof(argv[1]) : 5;

	gate_init();
	if (gate_wait(argc > 2 ? argv[2] : NULL))
		return 2;
	shortlib_hot(ms);
	return 0;
}
