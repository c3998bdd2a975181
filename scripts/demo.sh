#!/bin/sh
# The main job on a bundled demo: profile tests/workloads/cpusplit (three
# functions sharing a CPU phase 60/30/10, then a 1 s block) and print the
# cpu report, then the exact function report of the cProfile example.
set -e
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
	echo "demo: run as root (BPF needs CAP_BPF and CAP_PERFMON)" >&2
	exit 1
fi
echo "== ebprof -F 499 -- build/workloads/cpusplit 2000 1000"
./ebprof -F 499 -n 12 -- build/workloads/cpusplit 2000 1000
if [ -x build/workloads/cprofile ] && ./ebprof --help | grep -q '^  func'; then
	echo
	echo "== ebprof -f 'main,heavy,medium,light' -- build/workloads/cprofile 10"
	./ebprof -f 'main,heavy,medium,light' -- build/workloads/cprofile 10
fi
