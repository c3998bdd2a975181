/* The library of the plt workload (built without frame pointers): one
 * tiny exported function, so that the executable calls it through its
 * .plt and a good share of the time goes to the stub. */
unsigned long plt_tiny(unsigned long x);

__attribute__((noinline)) unsigned long plt_tiny(unsigned long x)
{
	return x * 3 + 1;
}
