#!/bin/sh
# Overhead benchmarks: ebprof against perf, bpftrace and libbpf-tools.
# `make bench` (as root) builds everything first and runs this; extra arguments
# go to scripts/bench.py (see `scripts/bench.py --help`), e.g.
#   scripts/bench.sh --only cpu --reps 7
# Prints the result tables; raw numbers go to build/bench/results.json.
set -e
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
	echo "bench: needs root (BPF and perf events): run make bench as root" >&2
	exit 1
fi
for f in ebprof build/workloads/fixedwork build/workloads/netbench; do
	if [ ! -x "$f" ]; then
		echo "bench: $f missing; run make first" >&2
		exit 1
	fi
done
if ! command -v python3 >/dev/null 2>&1; then
	echo "bench: python3 not installed (scripts/deps.sh installs it)" >&2
	exit 1
fi
mkdir -p build/bench
exec python3 scripts/bench.py --json build/bench/results.json "$@"
