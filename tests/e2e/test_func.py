"""func report: exact call counts and cProfile times against workloads whose
calls and sleeps are known (cprofile, fib, threads), launched with --."""
import os
import shutil
import subprocess
import tempfile

from lib import (EXACT, BpfSnapshot, check, equal, finish, metric_index, near, report, run, run_json,
                 table, within, workload)

PATTERNS = "main,heavy,medium,light"
SCALE = 2  # cprofile sleeps divided by this
# cprofile: heavy() x2, each: 100 x (light 1 ms + 2 x medium 10 ms), then 2 s.
CALLS = {"main": 1, "heavy": 2, "medium": 400, "light": 200}


def rows_by_name(rep):
    return {r["name"]: r for r in table(rep, "functions")}


def node_by_name(rep):
    out = {}
    for n in rep["nodes"]:
        out[rep["frames"][n["frame"]]["func"]] = n
    return out


def edge_map(rep):
    names = [rep["frames"][n["frame"]]["func"] for n in rep["nodes"]]
    return {(names[e["caller"]], names[e["callee"]]): e for e in rep["edges"]}


def fib_calls(n):
    a, b = 0, 1  # F(0), F(1)
    for _ in range(n + 1):
        a, b = b, a + b
    return 2 * a - 1  # 2*F(n+1) - 1


def test_cprofile():
    """Times against what the workload measured of itself (its sleeps last
    longer on a loaded machine)."""
    snap = BpfSnapshot()
    fd, truth = tempfile.mkstemp(prefix="ebprof-e2e-cprofile-")
    os.close(fd)
    try:
        os.environ["CPROFILE_TRUTH"] = truth
        r, doc = run_json(EXACT + ["-f", PATTERNS, "--", workload("cprofile"), str(SCALE)])
        with open(truth) as f:
            medium_ns, light_ns, heavy_ns = (int(x) for x in f.read().split())
    finally:
        os.environ.pop("CPROFILE_TRUTH", None)
        os.unlink(truth)
    heavy_own_ns, run_ns = heavy_ns - medium_ns - light_ns, heavy_ns
    equal(r.returncode, 0, "cprofile: exit status")
    rep = report(doc, "func")
    rows = rows_by_name(rep)
    for f, n in CALLS.items():
        equal(rows.get(f, {}).get("calls"), n, f"cprofile: ncalls of {f}")
        equal(rows.get(f, {}).get("prim"), n, f"cprofile: primitive calls of {f}")
        equal(rows.get(f, {}).get("inflight"), 0, f"cprofile: nothing in flight for {f}")
    med, light, heavy, main = (rows.get(k, {}) for k in ("medium", "light", "heavy", "main"))
    near(med.get("cumtime", 0), medium_ns, 0.05, "cprofile: medium cumtime ~ its sleeps (ns)")
    # medium and light call nothing traced: own time is all their time.
    equal(med.get("tottime"), med.get("cumtime"), "cprofile: medium tottime == cumtime")
    near(heavy.get("tottime", 0), heavy_own_ns, 0.05, "cprofile: heavy tottime ~ its own sleeps")
    near(heavy.get("cumtime", 0), run_ns, 0.05, "cprofile: heavy cumtime ~ whole run")
    near(main.get("cumtime", 0), run_ns, 0.05, "cprofile: main cumtime ~ whole run")
    check(main.get("tottime", 1e18) < 0.01 * run_ns, "cprofile: main's own time is tiny",
          main.get("tottime"))
    # cumtime = tottime + time in traced callees, for a non-recursive tree
    sub = heavy.get("tottime", 0) + med.get("cumtime", 0) + light.get("cumtime", 0)
    near(heavy.get("cumtime", 0), sub, 0.001, "cprofile: heavy cumtime = own + callees")
    # latency columns: medium sleeps 5 ms each
    # no call sleeps less than asked (less the probe cost the correction
    # takes off, which may differ from what that call's probes cost); the
    # shortest is at most the mean the workload measured plus a probe cost
    within(med.get("min", 0), 10e6 / SCALE - rep["info"].get("probe_cost_ns", 0),
           medium_ns / 400 + rep["info"].get("probe_cost_ns", 0), "cprofile: medium min (ns)")
    check(med.get("min", 0) <= med.get("p50", 0) <= med.get("p90", 0) <= med.get("p99", 0)
          <= med.get("max", 0), "cprofile: min <= p50 <= p90 <= p99 <= max",
          [med.get(k) for k in ("min", "p50", "p90", "p99", "max")])
    near(med.get("p50", 0), med.get("cumtime", 0) / 400, 0.10, "cprofile: medium p50 ~ mean")
    equal(med.get("percall"), med.get("tottime", 0) // 400, "cprofile: medium percall")
    # graph: nodes and edges
    nodes = node_by_name(rep)
    equal(nodes.get("medium", {}).get("calls"), 400, "cprofile: medium node calls")
    edges = edge_map(rep)
    equal(edges.get(("heavy", "medium"), {}).get("calls"), 400, "cprofile: edge heavy->medium")
    equal(edges.get(("heavy", "light"), {}).get("calls"), 200, "cprofile: edge heavy->light")
    equal(edges.get(("main", "heavy"), {}).get("calls"), 2, "cprofile: edge main->heavy")
    equal(len(edges), 3, "cprofile: exactly three edges")
    m = metric_index(rep, "time")
    near(edges.get(("heavy", "medium"), {}).get("total", [0] * 2)[m], med.get("cumtime", 0),
         0.001, "cprofile: edge heavy->medium time = medium cumtime")
    # honest accounting
    for k in ("lost_mismatch", "lost_overflow", "lost_abandoned", "lost_no_entry"):
        equal(rep["info"].get(k), 0, f"cprofile: info {k}")
    hits = rep["info"].get("probe_hits")
    equal(hits, 2 * sum(CALLS.values()), "cprofile: probe hits = entries + returns")
    check(rep["info"].get("probe_cost_ns", 0) > 0, "cprofile: calibrated probe cost shown",
          rep["info"].get("probe_cost_ns"))
    equal(rep["info"].get("detached"), 0, "cprofile: nothing detached (governor off)")
    snap.check("cprofile")


def test_fib():
    snap = BpfSnapshot()
    n, repeat = 15, 3
    # ~6000 calls in ~30 ms: counting, not the governor, is under test here.
    # fib's own work is a few ns a call, all the rest probe cost: corrected,
    # its times are about 0, so the recursion accounting is checked raw.
    r, doc = run_json(EXACT + ["--raw-times", "-f", "fib", "--", workload("fib"), str(n),
                       str(repeat)])
    equal(r.returncode, 0, "fib: exit status")
    rep = report(doc, "func")
    row = rows_by_name(rep).get("fib", {})
    equal(row.get("calls"), repeat * fib_calls(n), "fib: total calls")
    equal(row.get("prim"), repeat, "fib: primitive calls")
    # cumtime counted once per outermost call: equals the sum of all own time
    near(row.get("cumtime", 0), row.get("tottime", 1), 0.001, "fib: cumtime == tottime")
    check(0 < row.get("cumtime", 0) <= row.get("max", 0) * repeat,
          "fib: cumtime counted once (<= repeat x longest call)",
          (row.get("cumtime"), row.get("max")))
    edges = edge_map(rep)
    equal(edges.get(("fib", "fib"), {}).get("calls"), repeat * (fib_calls(n) - 1),
          "fib: recursive edge calls")
    snap.check("fib")


def test_threads():
    snap = BpfSnapshot()
    nthreads, calls = 4, 50
    want = calls * nthreads * (nthreads + 1) // 2
    r, doc = run_json(EXACT + ["-f", "work,leaf", "--", workload("threads"),
                       str(nthreads), str(calls)])
    equal(r.returncode, 0, "threads: exit status")
    rep = report(doc, "func")
    rows = rows_by_name(rep)
    equal(rows.get("work", {}).get("calls"), want, "threads: work calls over all threads")
    equal(rows.get("leaf", {}).get("calls"), want, "threads: leaf calls over all threads")
    equal(rows.get("work", {}).get("prim"), want, "threads: no false recursion across threads")
    work = rows.get("work", {})
    # work sleeps >= 100 us per call; its own time excludes leaf
    # as measured (the correction takes off what --probe-cost or
    # EBPROF_PROBE_COST_NS says a probe costs, which a test may set to any
    # figure)
    check(work.get("cumtime_raw", 0) >= want * 100e3, "threads: work cumtime >= its sleeps",
          work.get("cumtime_raw"))
    # the accounting identity holds exactly in the measured times (the
    # probe-cost correction then rounds each side on its own)
    near(work.get("cumtime_raw", 0) - work.get("tottime_raw", 0),
         rows.get("leaf", {}).get("cumtime_raw", 0), 0.001,
         "threads: work cumtime - tottime = leaf time (as measured)")
    equal(edge_map(rep).get(("work", "leaf"), {}).get("calls"), want, "threads: edge work->leaf")
    for k in ("lost_mismatch", "lost_abandoned", "lost_threads_full"):
        equal(rep["info"].get(k), 0, f"threads: info {k}")
    snap.check("threads")


def test_outputs():
    snap = BpfSnapshot()
    tmp = tempfile.mkdtemp()
    try:
        out = f"{tmp}/callgrind.out"
        r = run(EXACT + ["-f", PATTERNS, "--format", "callgrind", "-o", out, "--",
                 workload("cprofile"), "50"])
        equal(r.returncode, 0, "callgrind: exit status")
        if shutil.which("callgrind_annotate"):
            a = subprocess.run(["callgrind_annotate", out], capture_output=True, text=True)
            equal(a.returncode, 0, "callgrind_annotate parses the output")
            check("medium" in a.stdout, "callgrind_annotate shows medium")
            cmd = f"{workload('cprofile')} 50"
            check(f"Profiled target:  {cmd}" in a.stdout,
                  "callgrind_annotate: the profiled target is the command line",
                  [ln for ln in a.stdout.splitlines() if "Profiled target" in ln])
        with open(out) as f:
            check(f"cmd: {workload('cprofile')} 50\n" in f.read(), "callgrind: cmd: line")
        r = run(EXACT + ["-f", PATTERNS, "--format", "dot", "-o", f"{tmp}/g.dot", "--",
                 workload("cprofile"), "50"])
        equal(r.returncode, 0, "dot: exit status")
        with open(f"{tmp}/g.dot") as f:
            dot = f.read()
        check("heavy" in dot and "medium" in dot and "->" in dot, "dot: graph with edges")
        if shutil.which("dot"):
            d = subprocess.run(["dot", "-Tpng", "-o", f"{tmp}/g.png", f"{tmp}/g.dot"],
                               capture_output=True, text=True)
            equal(d.returncode, 0, "dot -Tpng renders it")
        r = run(EXACT + ["-f", PATTERNS, "-s", "calls", "--", workload("cprofile"), "50"])
        equal(r.returncode, 0, "text: exit status")
        lines = [ln for ln in r.stdout.splitlines() if ln.rstrip().endswith(" cprofile")]
        first = lines[0].split() if lines else []
        check(first and first[0] == "400", "text -s calls: medium (400 calls) first", first)
    finally:
        shutil.rmtree(tmp)
    snap.check("outputs")


test_cprofile()
test_fib()
test_threads()
test_outputs()
finish()
