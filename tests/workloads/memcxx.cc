/* C++ allocation sites with known counts and bytes, for the mem report's
 * operator new/delete (libstdc++'s, which call malloc and free inside).
 *
 *   memcxx START
 *
 * Every site is its own function (the caller of operator new in its
 * stacks, but for the vector's, whose caller is libstdc++'s out-of-line
 * growth function); every pointer escapes into sink[] so the compiler
 * keeps each call.  After START (tests/workloads/gate.h), in this order:
 *
 *   leak_new      LEAK_N x new Obj (sizeof 48), never deleted
 *   temp_array    TEMP_N x new int[TEMP_K] + delete[]: all temporaries
 *   vector_grow   a std::vector<long> pushed VEC_N times, no reserve:
 *                 capacities 1, 2, 4 .. 128 (8 buffers, 2040 bytes), each
 *                 freed after the next is allocated, the last at the end
 *                 (one temporary)
 *   nothrow_new   NOTHROW_N x new (std::nothrow) Obj, all deleted (sized
 *                 delete) oldest first once made: one temporary (the last
 *                 made, freed with no allocation after it)
 *   aligned_new   ALIGNED_N x new Aligned (alignas 64, sizeof 64) +
 *                 delete: all temporaries */
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <vector>

extern "C" {
#include "gate.h"
}

#define LEAK_N 40
#define TEMP_N 100
#define TEMP_K 10
#define VEC_N 100
#define NOTHROW_N 10
#define ALIGNED_N 5

struct Obj {
	long v[6];
};

struct alignas(64) Aligned {
	long v[8];
};

void *volatile sink[LEAK_N + NOTHROW_N + 4];

#define NOINLINE __attribute__((noinline))

NOINLINE static void leak_new(void *volatile *out)
{
	for (int i = 0; i < LEAK_N; i++) {
		Obj *o = new Obj;

		o->v[0] = i;
		out[i] = o;
	}
}

NOINLINE static void temp_array(void)
{
	for (int i = 0; i < TEMP_N; i++) {
		int *p = new int[TEMP_K];

		sink[0] = p;
		p[0] = i;
		delete[] static_cast<int *>(sink[0]);
	}
}

NOINLINE static void vector_grow(void)
{
	std::vector<long> v;

	for (long i = 0; i < VEC_N; i++) {
		v.push_back(i);
		sink[0] = v.data();
	}
}

NOINLINE static void nothrow_new(void *volatile *out)
{
	for (int i = 0; i < NOTHROW_N; i++) {
		Obj *o = new (std::nothrow) Obj;

		if (o)
			o->v[0] = i;
		out[i] = o;
	}
	for (int i = 0; i < NOTHROW_N; i++)
		delete static_cast<Obj *>(out[i]);
}

NOINLINE static void aligned_new(void)
{
	for (int i = 0; i < ALIGNED_N; i++) {
		Aligned *a = new Aligned;

		sink[0] = a;
		a->v[0] = i;
		delete static_cast<Aligned *>(sink[0]);
	}
}

int main(int argc, char **argv)
{
	gate_init();
	if (gate_wait(argc > 1 ? argv[1] : "0") != 0) {
		fprintf(stderr, "usage: memcxx [START]\n");
		return 2;
	}
	leak_new(sink + 2);
	temp_array();
	vector_grow();
	nothrow_new(sink + 2 + LEAK_N);
	aligned_new();
	return 0;
}
