/* The library the unwind workload dlopens (its dlopen mode), built without
 * frame pointers: dl_entry > dl_mid > dl_spin, spinning until *done. */
#include <signal.h>

#define KEEP __attribute__((noinline, noclone))

static volatile unsigned long dl_sink;

KEEP static unsigned long dl_spin(volatile sig_atomic_t *done)
{
	unsigned long x = 0;

	while (!*done)
		x += dl_sink * 3 + 1;
	return x;
}

KEEP static unsigned long dl_mid(volatile sig_atomic_t *done)
{
	return dl_spin(done) + 1;
}

unsigned long dl_entry(volatile sig_atomic_t *done);

KEEP unsigned long dl_entry(volatile sig_atomic_t *done)
{
	return dl_mid(done) + 1;
}
