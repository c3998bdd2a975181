/* The library of the symless workload, built twice (Makefile): stripped to
 * its .dynsym (SYMLESS_EXPORT: the spinning function is exported), and
 * stripped with every function hidden, so that no function symbol is left
 * at all (only the data pointer that main calls through).  Two functions
 * of its own spin, so the code has more than one address. */
#ifdef SYMLESS_EXPORT
#define ENTRY(name) name
#define VIS __attribute__((visibility("default")))
#else
#define ENTRY(name) name##_hidden
#define VIS __attribute__((visibility("hidden")))
#endif

static volatile unsigned long sink;

VIS __attribute__((noinline)) void ENTRY(symless_inner)(unsigned long n)
{
	for (unsigned long i = 0; i < n; i++)
		sink += i;
}

VIS __attribute__((noinline)) void ENTRY(symless_spin)(unsigned long n)
{
	for (unsigned long i = 0; i < n; i++)
		sink ^= i;
	ENTRY(symless_inner)(n);
}

/* What main calls: an object, not a function symbol. */
void (*const SYMLESS_ENTRY)(unsigned long) = ENTRY(symless_spin);
