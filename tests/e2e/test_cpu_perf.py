"""ebprof's DWARF-unwound stacks against perf's on the same workload
built without frame pointers (tests/workloads/unwind.c, -O2
-fomit-frame-pointer): `perf record --call-graph dwarf,16384 -e cpu-clock
-F 999` collapsed from `perf script`, and `ebprof --unwind dwarf cpu
--metric oncpu --format folded`, both on the same run (both attached
before the workload's gate opens), so they sample the same execution.
The top stacks' shares of the user on-CPU time must agree within 2 points.

Normalisation (what differs legitimately between the two):
- user frames only: kernel frames (perf's [kernel.kallsyms], ebprof's
  `_[k]`) and ebprof's markers ([runnable], ...) are dropped;
- frames without a symbol are dropped (perf's `[unknown]`, ebprof's
  `module+0x...` or `0x...`): perf's copy of 16 KiB of stack, or its
  libunwind, may stop where ebprof goes on, and the reverse;
- perf's `+0x` offsets are removed (ebprof's folded has none), inlined
  frames are not asked for (`perf script --no-inline`: ebprof shows the
  functions that have a frame), and glibc's internal alias `__GI___NAME`
  is read as `NAME`;
- stacks of either tool that reach neither `main` nor a thread's
  function are dropped (a walk cut short), and everything above `main`
  or the thread function (`_start`, libc's start-up, `start_thread`).
Shares are of each tool's own total after this, so sample counts (perf
counts samples, ebprof microseconds of on-CPU time) need not match."""
import os
import re
import shutil
import signal
import subprocess
import tempfile
from collections import Counter

from lib import (BpfSnapshot, check, equal, finish, popen_ebprof, start, stop, wait_profiling,
                 workload)

CPU_MS = 2000
MODES = ("qsort", "threads")
POINTS = 2.0
# glibc's internal alias of a public function, which perf may pick from
# the debug symbols where ebprof reads the public name from .symtab.
ALIAS = re.compile(r"^__GI___")


def user_frames(frames):
    out = []
    for f in frames:
        if f.endswith("_[k]") or (f.startswith("[") and f.endswith("]")):
            continue
        if f.startswith("0x") or "+0x" in f:
            continue
        out.append(f)
    if "main" in out:
        return tuple(out[out.index("main"):])
    if any(f.startswith("thread_") for f in out):  # a thread's root: start_thread
        return tuple(out[next(i for i, f in enumerate(out) if f.startswith("thread_")):])
    return None


def shares(counter):
    total = sum(counter.values())
    return {k: 100.0 * v / total for k, v in counter.items()} if total else {}


def collapse_perf(text):
    """perf script output, collapsed: root first, ';'-joined, counted."""
    out = Counter()
    for block in text.split("\n\n"):
        lines = [ln for ln in block.splitlines() if ln.strip()]
        frames = []
        for ln in lines[1:]:  # after "comm tid", leaf first: "addr sym+0xoff"
            parts = ln.split(None, 1)
            if parts[0].startswith("ffff"):  # the kernel's half of the address space
                continue
            sym = parts[1].strip() if len(parts) > 1 else "[unknown]"
            sym = ALIAS.sub("", re.sub(r"\+0x[0-9a-f]+$", "", sym))
            frames.append(sym)
        st = user_frames(list(reversed(frames)))
        if st:
            out[";".join(st)] += 1
    return out


def collapse_folded(text):
    c = Counter()
    for ln in text.splitlines():
        stack, n = ln.rsplit(" ", 1)
        st = user_frames(stack.split(";"))
        if st:
            c[";".join(st)] += int(n)
    return c


def profile_both(mode):
    """One gated run of the workload, profiled by ebprof and perf at once:
    ebprof attached (it says so), then perf started disabled and enabled
    through its control FIFO (its ack says it is on), then the gate."""
    snap = BpfSnapshot()
    d = tempfile.mkdtemp(prefix="ebprof-e2e-perf-")
    data, folded = os.path.join(d, "perf.data"), os.path.join(d, "out.folded")
    ctl, ack = os.path.join(d, "ctl"), os.path.join(d, "ack")
    os.mkfifo(ctl)
    os.mkfifo(ack)
    p = start([workload("unwind"), mode, str(CPU_MS), "sig"], gated=True)
    e = perf = None
    try:
        e = popen_ebprof(["-v", "-F", "999", "--unwind", "dwarf", "--format", "folded", "-o",
                          folded, "-p", str(p.pid), "cpu", "--metric", "oncpu"],
                         stderr=subprocess.PIPE, text=True)
        wait_profiling(e)
        perf = subprocess.Popen(["perf", "record", "-q", "-o", data, "--call-graph",
                                 "dwarf,16384", "-e", "cpu-clock", "-F", "999", "-D", "-1",
                                 "--control", f"fifo:{ctl},{ack}", "-p", str(p.pid)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        with open(ctl, "w") as c:
            c.write("enable\n")
        with open(ack) as a:
            check(a.read(4) == "ack\n", f"{mode}: perf acknowledges enable")
        os.kill(p.pid, signal.SIGUSR1)
        p.wait()
        e.stderr.read()
        equal(e.wait(timeout=300), 0, f"ebprof {mode}: exit status")
        perf.wait(timeout=300)  # perf record -p ends when the target does
        equal(perf.returncode, 0, f"perf record {mode}: exit status")
        s = subprocess.run(["perf", "script", "--no-inline", "-i", data, "-F", "comm,tid,ip,sym"],
                           capture_output=True, text=True, timeout=300)
        equal(s.returncode, 0, f"perf script {mode}: exit status")
        with open(folded) as f:
            text = f.read()
    finally:
        stop(p)
        for x in (e, perf):
            if x and x.poll() is None:
                x.kill()
                x.wait()
        shutil.rmtree(d, ignore_errors=True)
    snap.check(f"cpu perf {mode}")
    return collapse_perf(s.stdout), collapse_folded(text)


def main():
    for mode in MODES:
        pc, ec = profile_both(mode)
        ps, es = shares(pc), shares(ec)
        check(ps and es, f"{mode}: both tools have user stacks", (len(ps), len(es)))
        top = sorted(set(ps) | set(es), key=lambda k: -max(ps.get(k, 0), es.get(k, 0)))[:5]
        covered = sum(es.get(k, 0.0) for k in top)
        check(covered >= 40.0, f"{mode}: the compared stacks are much of the profile",
              f"{covered:.1f} %")
        for k in top:
            a, b = ps.get(k, 0.0), es.get(k, 0.0)
            print(f"  {mode}: perf {a:5.1f} %  ebprof {b:5.1f} %  {k}")
            check(abs(a - b) <= POINTS, f"{mode}: shares within {POINTS} points", k)
    finish()


if __name__ == "__main__":
    main()
