#!/bin/sh
# Runs every end-to-end test (tests/e2e/test_*.py) with real BPF.  Needs
# root.  They fail, never skip, when BPF cannot load; EBPROF_SKIP_E2E=1
# skips them explicitly.
set -e
cd "$(dirname "$0")/../.."
if [ "${EBPROF_SKIP_E2E:-0}" = 1 ]; then
	echo "e2e: skipped (EBPROF_SKIP_E2E=1)"
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "e2e: must run as root (BPF, uprobes, perf events); EBPROF_SKIP_E2E=1 skips" >&2
	exit 1
fi
fail=0
for t in tests/e2e/test_*.py; do
	[ -n "$E2E_ONLY" ] && case "$t" in *"$E2E_ONLY"*) ;; *) continue ;; esac
	echo "== $t"
	if ! python3 "$t"; then
		echo "FAIL: $t"
		fail=1
	fi
done
[ $fail = 0 ] && echo "e2e: all passed"
exit $fail
