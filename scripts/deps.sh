#!/bin/sh
# Installs the Debian 12 packages ebprof needs to build, test and benchmark.
# Runs apt-get only when something is missing.
set -e
PKGS="make gcc clang llvm bpftool libbpf-dev libelf-dev zlib1g-dev libcmocka-dev
      pkg-config python3 graphviz linux-perf bpftrace libbpf-tools valgrind
      binutils libclang-rt-14-dev clang-format iproute2 nftables libjemalloc2
      libjansson-dev libdw-dev libprotobuf-c-dev protobuf-c-compiler chromium g++
      heaptrack nodejs"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -z "$missing" ]; then
	echo "deps: all packages present"
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing packages:$missing; run make deps as root" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends $missing
