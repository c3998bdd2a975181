#!/bin/sh
# Writes vmlinux.h for this kernel to stdout, from its BTF.
set -e
btf=/sys/kernel/btf/vmlinux
if [ ! -r "$btf" ]; then
	echo "gen-vmlinux: $btf not readable: this kernel has no BTF (CONFIG_DEBUG_INFO_BTF); use the committed vmlinux/vmlinux.h" >&2
	exit 1
fi
exec bpftool btf dump file "$btf" format c
