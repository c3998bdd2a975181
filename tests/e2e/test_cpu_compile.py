"""A large program at a high rate: ebprof -F 4999 --unwind dwarf on GCC's
C++ compiler proper (cc1plus, a ~30 MB binary without frame pointers,
with libstdc++, libc and its other libraries) compiling a generated C++
file of many templates and functions for a few seconds.  Deep, varied
stacks from a big binary: the stack table must not fill
(lost_stackmap_full == 0, so every sample's stack was kept) and every
loss counter is shown in the report.  cc1plus is run directly (the g++
driver would run it as a child, a process ebprof is not told about).
Measured on a busy 2-CPU machine: 22900-32700 samples (the frames map is
drained as it fills, so their number is not bounded by its 16384 stacks;
test_cpu_stacks shows that), lost_no_unwind_info ~8 % (samples taken before
cc1plus's tables were loaded, or in code without CFI: counted, shown, not
asserted).  An insert the kernel refuses for another reason than a full
table (a sample interrupting ebprof's own update of the same bucket on
that CPU) is counted apart as lost_stack_insert, bounded here at 0.1 % of
the samples: it was 0 or 1 a run while the map allocated on insert (its
second new stack in one sched_switch on a fresh CPU found no memory), 0
since the map is preallocated."""
import os
import shutil
import subprocess
import tempfile

from lib import BpfSnapshot, check, equal, finish, metric_index, report, run_json

FUNCS = 250


def source():
    """Templates instantiated at many types and depths, and plain functions
    calling each other: work for the optimizer and the template engine."""
    out = ["template <int N, typename T> struct Fold {",
           "  static T run(T x) { return Fold<N - 1, T>::run(x * 3 + N) ^ (x >> 1); } };",
           "template <typename T> struct Fold<0, T> { static T run(T x) { return x; } };"]
    for i in range(FUNCS):
        t = ("int", "long", "unsigned", "short", "char", "long long")[i % 6]
        out.append(f"{t} f{i}({t} x) {{ {t} s = 0; for (int k = 0; k < {i % 17 + 3}; k++)"
                   f" s += Fold<{i % 40 + 10}, {t}>::run(x + k);"
                   + (f" return s + f{i - 1}(s & 7); }}" if i else " return s; }"))
    out.append(f"int main() {{ return (int)f{FUNCS - 1}(1); }}")
    return "\n".join(out) + "\n"


def main():
    cc1 = subprocess.run(["g++", "-print-prog-name=cc1plus"], capture_output=True,
                         text=True).stdout.strip()
    check(os.path.isabs(cc1) and os.path.exists(cc1), "cc1plus found", cc1)
    d = tempfile.mkdtemp(prefix="ebprof-e2e-compile-")
    src = os.path.join(d, "big.cpp")
    with open(src, "w") as f:
        f.write(source())
    snap = BpfSnapshot()
    try:
        r, doc = run_json(["-F", "4999", "--unwind", "dwarf", "cpu", "--", cc1, "-quiet",
                           "-O2", src, "-o", os.path.join(d, "big.s")], timeout=600)
    finally:
        shutil.rmtree(d, ignore_errors=True)
    equal(r.returncode, 0, "ebprof (and cc1plus): exit status")
    rep = report(doc, "cpu")
    inf = rep["info"]
    m = metric_index(rep, "samples")
    samples = sum(s["values"][m] for s in rep["samples"])
    losses = {k: v for k, v in inf.items() if k.startswith("lost")}
    print(f"  {samples} on-CPU samples; losses: {losses}")
    check(samples >= 1000, "thousands of samples at 4999 Hz", samples)
    equal(inf.get("lost_stackmap_full"), 0, "no sample lost to a full stack table")
    equal(inf.get("lost_map_full"), 0, "no sample lost to a full counts map")
    check(inf.get("lost_stack_insert", -1) * 1000 <= samples and inf.get("lost_stack_insert", -1) >= 0,
          "inserts the kernel refused: shown, at most 0.1 % of samples", inf.get("lost_stack_insert"))
    for k in ("lost", "lost_no_unwind_info", "lost_user_stack_read", "lost_table_too_large",
              "lost_bad_walk"):
        check(k in inf, f"{k} shown", inf.get(k))
    snap.check("cpu compile")
    finish()


if __name__ == "__main__":
    main()
