"""mem report against an independent tool: the memsites workload
(tests/workloads/memsites.c) run under heaptrack (Debian's, LD_PRELOAD-
based) and under ebprof mem; per site, the allocation counts, leaked bytes
and temporary counts agree.  heaptrack_print writes one folded stack per
site for a cost type (-F with --flamegraph-cost-type allocations,
temporary, leaked); its leaf frame is the caller of the allocator, as
ebprof's site caller is.

Temporaries: ebprof's is a block its thread frees before its next
allocation (by address; other frees may come between).  heaptrack's
analyser calls a free temporary when it is the first free since the last
allocation and its block has the last allocation's size and stack (it
identifies blocks by size and stack, not address); any free ends that.

Definitional differences, asserted as such (each from the workloads):
- realloc: heaptrack books a realloc as a free of the old block and a new
  allocation, so a realloc of the thread's last block is a temporary:
  realloc_site's 4 resizes (16 -> 32 -> .. -> 256) are 4 more temporaries
  than ebprof's 1 (ebprof: a block is temporary when free() releases it
  before its thread's next allocation; a realloc's release of the old
  block is part of the new allocation, not a free).
- realloc(p, 0): glibc frees p and returns NULL; heaptrack takes the NULL
  as a failed realloc that kept the block, so rezero_site's 32 bytes are
  a leak to heaptrack and none to ebprof (test_mem checks that nothing is
  outstanding there).
- std::vector growth (memcxx's vector_grow): the last buffer is allocated,
  the previous one freed, then the last one freed at the end: a temporary
  to ebprof, not to heaptrack (a free came between).
Failed calls (overflow_site's calloc, refail_site's realloc) are not
allocations to either.  With jemalloc preloaded the same sites are checked
in test_mem.py (attached with -p).  The same for the C++ sites of
tests/workloads/memcxx.cc (operator new/delete; heaptrack names inlined
frames, so its site is the innermost frame that is a memcxx site
function)."""
import os
import re
import subprocess
import tempfile

from lib import (EXACT, BpfSnapshot, check, equal, finish, report, run_gated, start, stop,
                 workload)
from test_mem import by_caller
from test_mem_cxx import SITES as CXX_SITES, by_site

SITES = ("leak_site", "temp_site", "grow_site", "realloc_site", "calloc_site",
         "memalign_site", "refail_site", "rezero_site", "big_site")
# site -> (heaptrack's temporaries - ebprof's, heaptrack's leaked bytes - ebprof's)
DIFF = {"realloc_site": (4, 0), "rezero_site": (0, 32)}
CXX_DIFF = {"vector_grow": (-1, 0)}


def heaptrack_costs(data, cost, scratch, names):
    """heaptrack_print's folded stacks of one cost type, summed per site:
    the innermost frame that is one of names (heaptrack shows inlined
    frames and operator new itself, ebprof the caller of the outermost
    allocator), else the leaf (gcc's .constprop suffixes dropped)."""
    out = os.path.join(scratch, cost + ".folded")
    p = subprocess.run(["heaptrack_print", "-f", data, "-p", "0", "-a", "0", "-T", "0",
                        "--flamegraph-cost-type", cost, "-F", out],
                       capture_output=True, text=True, timeout=120)
    equal(p.returncode, 0, f"heaptrack_print {cost}: exit status")
    sums = {}
    with open(out) as f:
        for line in f:
            stack, _, value = line.rstrip("\n").rpartition(" ")
            frames = [re.sub(r" \(.*\)$", "", x).split(".")[0]
                      for x in stack.rstrip(";").split(";")]
            name = next((x for x in reversed(frames) if x in names), frames[-1])
            sums[name] = sums.get(name, 0) + int(value)
    return sums


def heaptrack_run(name, sites):
    """heaptrack's allocations, temporaries and leaked bytes per site of a
    workload run from its start."""
    with tempfile.TemporaryDirectory(prefix="ebprof-heaptrack-") as scratch:
        data = os.path.join(scratch, name)
        p = subprocess.run(["heaptrack", "-o", data, workload(name), "0"],
                           capture_output=True, text=True, timeout=120)
        equal(p.returncode, 0, f"heaptrack {name}: exit status")
        data += ".zst"
        check(os.path.exists(data), f"heaptrack {name}: wrote its data", data)
        return {c: heaptrack_costs(data, c, scratch, sites)
                for c in ("allocations", "temporary", "leaked")}


def cross_check(name, sites, per_site, diff):
    snap = BpfSnapshot()
    ht = heaptrack_run(name, sites)
    # Attached behind the start gate: every allocation after the probes and
    # the unwind tables are in place (the launched case is test_mem's and
    # test_mem_cxx's).
    target = start([workload(name), "sig"], gated=True)
    try:
        r, doc = run_gated(EXACT + ["-p", str(target.pid), "mem"], target)
    finally:
        target.wait()
        stop(target)
    equal(r.returncode, 0, f"ebprof {name}: exit status")
    eb = per_site(report(doc, "mem"))
    for site in sites:
        s = eb.get(site, {})
        dt, dl = diff.get(site, (0, 0))
        check(site in ht["allocations"], f"{name}: heaptrack saw {site}")
        equal(s.get("allocs"), ht["allocations"].get(site), f"{name} {site}: allocations agree")
        equal(s.get("temps", 0) + dt, ht["temporary"].get(site),
              f"{name} {site}: temporaries agree ({dt} by definition)")
        equal(s.get("leak_bytes", 0) + dl, ht["leaked"].get(site),
              f"{name} {site}: leaked bytes agree ({dl} by definition)")
    snap.check(f"heaptrack cross-check {name}")


if __name__ == "__main__":
    cross_check("memsites", SITES, by_caller, DIFF)
    # C++: operator new/delete (heaptrack sees them through malloc/free).
    cross_check("memcxx", tuple(CXX_SITES), by_site, CXX_DIFF)
    finish()
