"""Exact on-CPU time per thread and sampling without aliasing, with the
CPUs loaded: bursty (tests/workloads/bursty.c) alternates 50 us spins and
50 us nanosleeps, two spins of three in burst_a, and measures itself: each
worker's CPU clock, the kernel's schedstat run time over the same span, and
its CPU time in burst_a and in burst_b."""
import math

from lib import (BpfSnapshot, CpuHogs, check, equal, finish, near, node_totals, report,
                 run_json_truth, table, workload)

RUN_MS = 3000


def check_run(hz, threads):
    what = f"bursty {threads} thread(s) at {hz} Hz"
    snap = BpfSnapshot()
    with CpuHogs():
        r, doc, rows = run_json_truth("BURSTY_TRUTH", ["-F", str(hz), "cpu", "--",
                                                       workload("bursty"), str(threads),
                                                       str(RUN_MS)])
    equal(r.returncode, 0, f"{what}: exit 0")
    rep = report(doc, "cpu")
    by_tid = {x["tid"]: x for x in table(rep, "threads")}
    equal(len(rows), threads, f"{what}: every worker measured itself")
    period = 1e9 / hz
    a_truth = b_truth = 0
    for tid, cpu_ns, sched_ns, a_ns, b_ns in ((int(f[0]),) + tuple(map(int, f[1:])) for f in rows):
        row = by_tid.get(tid, {})
        a_truth, b_truth = a_truth + a_ns, b_truth + b_ns
        near(row.get("oncpu", 0), cpu_ns, 0.01, f"{what}: tid {tid} on-CPU = its CPU clock (ns)")
        near(row.get("oncpu", 0), sched_ns, 0.01, f"{what}: tid {tid} on-CPU = schedstat (ns)")
        # Sampling in the thread's own CPU time: one sample a period of it,
        # whatever its timer does (per-CPU sampling aliased: -99 % at 4999 Hz).
        # 10 %, or 3 standard deviations of a count this size when more.
        want = cpu_ns / period
        near(row.get("samples", 0), want, max(0.10, 3 / math.sqrt(max(want, 1))),
             f"{what}: tid {tid} samples = CPU clock / period")
    duration = rep["info"]["duration"]
    for x in by_tid.values():
        equal(x["oncpu"] + x["offcpu"], x["wall"], f"{what}: tid {x['tid']} on + off = wall")
        check(x["wall"] <= duration, f"{what}: tid {x['tid']} wall <= duration",
              (x["wall"], duration))
    # The function split: the workload's own measure against the samples'
    # share.
    oncpu = node_totals(rep, "oncpu")
    got_a, got_b = oncpu.get("burst_a", 0), oncpu.get("burst_b", 0)
    check(got_a + got_b > 0, f"{what}: samples in burst_a/b", (got_a, got_b))
    want = 100.0 * a_truth / (a_truth + b_truth)
    share = 100.0 * got_a / (got_a + got_b) if got_a + got_b else 0
    n = sum(by_tid.get(int(f[0]), {}).get("samples", 0) for f in rows)
    # 2 points, or 4 standard errors of a share of n samples when that is
    # more (at 99 and 999 Hz there are too few samples for 2 points)
    tol = max(2.0, 400.0 * math.sqrt(want / 100 * (1 - want / 100) / max(n, 1)))
    check(abs(share - want) <= tol,
          f"{what}: burst_a share {share:.1f} % = measured {want:.1f} % +- {tol:.1f}")
    # No frame of the tracing path that ran ebprof's programs is a leaf.
    tracing = ("bpf_prog_", "bpf_trace_run", "__bpf_trace_", "__traceiter_", "__probestub_")
    names = [f["func"] or "" for f in rep["frames"]]
    leaves = {names[s["stack"][-1]] for s in rep["samples"] if s["stack"]}
    leaves |= {names[s["stack"][-2]] for s in rep["samples"] if len(s["stack"]) > 1}
    check(not [n for n in leaves if n.startswith(tracing)],
          f"{what}: no tracing frame at the leaf", sorted(n for n in leaves if n.startswith(tracing)))
    snap.check(what)


for hz in (99, 999, 4999):
    check_run(hz, 1)
    check_run(hz, 3)
finish()
