/* Symbol names as people read them: C++ (and Rust's legacy scheme, the
 * same mangling) demangled by libstdc++'s __cxa_demangle, the demangler
 * gdb and perf use. */
#ifndef EBPROF_DEMANGLE_H
#define EBPROF_DEMANGLE_H

/* The demangled form of a mangled name ("_Z..."; a suffix from '@' on,
 * as in "_Znwm@plt", is kept as it is), malloc'd; NULL when name is not a
 * mangled name (a C name, an invalid "_Z" string) or without memory: the
 * raw name is then the name to show. */
char *demangle(const char *name);

#endif
