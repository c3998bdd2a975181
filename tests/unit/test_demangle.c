/* Symbol names demangled (symbols/demangle.h): C++ names as g++ and
 * libstdc++ spell them, a clone's and a PLT stub's suffix kept; C names,
 * strings that are not mangled names and invalid "_Z" strings left to
 * the caller (NULL). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "symbols/demangle.h"

static void expect(const char *mangled, const char *want)
{
	char *got = demangle(mangled);

	if (!want) {
		if (got)
			fail_msg("%s: demangled to \"%s\", want none", mangled ? mangled : "NULL",
				 got);
		return;
	}
	if (!got)
		fail_msg("%s: not demangled, want \"%s\"", mangled ? mangled : "NULL", want);
	assert_string_equal(got, want);
	free(got);
}

static void test_cxx_names(void **state)
{
	(void)state;
	expect("_Znwm", "operator new(unsigned long)");
	expect("_ZdlPvm", "operator delete(void*, unsigned long)");
	expect("_ZL8leak_newPv", "leak_new(void*)");
	expect("_ZN4llvm15ScalarEvolution10getAddExprERNS_15SmallVectorImplIPKNS_4SCEVEEEj",
	       "llvm::ScalarEvolution::getAddExpr(llvm::SmallVectorImpl<llvm::SCEV const*>&, "
	       "unsigned int)");
	/* gcc's clones keep their suffix, as gdb shows it */
	expect("_ZL8leak_newPVPv.constprop.0", "leak_new(void* volatile*) [clone .constprop.0]");
	/* a PLT stub's name: the function's demangled, "@plt" kept */
	expect("_Znwm@plt", "operator new(unsigned long)@plt");
}

static void test_left_as_is(void **state)
{
	(void)state;
	/* C names, including those the demangler would read as a type */
	expect("main", NULL);
	expect("malloc", NULL);
	expect("i", NULL);
	expect("f", NULL);
	expect("__libc_start_main", NULL);
	expect("", NULL);
	expect(NULL, NULL);
	/* "_Z" strings that are not valid mangled names */
	expect("_Z", NULL);
	expect("_Zfoo", NULL);
	expect("_ZN4llvm", NULL);
	expect("_Z@plt", NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cxx_names),
		cmocka_unit_test(test_left_as_is),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
