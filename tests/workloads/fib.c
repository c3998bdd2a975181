/* Recursive Fibonacci: fib(n) makes exactly 2*F(n+1)-1 calls, one of them
 * primitive (the outermost).  Usage: fib N [REPEAT] [START]
 * repeats the top-level call REPEAT times (REPEAT primitive calls). */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "gate.h"

long fib(int n);
/* Through a volatile pointer: the compiler may not turn the recursion into
 * a loop, so the symbol fib is really called 2*F(n+1)-1 times. */
static long (*volatile fib_call)(int) = fib;

__attribute__((noinline)) long fib(int n)
{
	if (n < 2)
		return n;
	return fib_call(n - 1) + fib_call(n - 2);
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 20;
	int repeat = argc > 2 ? atoi(argv[2]) : 1;
	volatile long sum = 0;

	gate_init();
	if (gate_wait(argc > 3 ? argv[3] : NULL))
		return 2;
	for (int i = 0; i < repeat; i++)
		sum += fib_call(n);
	return sum == -1;
}
