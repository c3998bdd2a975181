/* Shared by bpf/entry.bpf.c and user/run/entry.c: what stopped a
 * launched command at its start (the probe's attach cookie). */
#ifndef EBPROF_ENTRY_STOP_H
#define EBPROF_ENTRY_STOP_H

enum entry_stop_kind {
	ENTRY_STOP_ENTRY = 1,  /* the executable's entry point: the last stop */
	ENTRY_STOP_LOADER = 2, /* ld.so's _dl_debug_state (libraries mapped or about to be) */
};

#endif
