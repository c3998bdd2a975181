"""func report: -p attach, --count-only, LIB:GLOB patterns, the overhead
governor, and the errors for patterns that match nothing."""
import os
import shutil
import subprocess
import tempfile
import time

from lib import (EXACT, ROOT, BpfSnapshot, calibration_run, check, equal, finish, report, run, run_gated, run_json,
                 start, stop, table, within, workload)

CALLS = {"heavy": 2, "medium": 400, "light": 200}


def rows_by_name(rep):
    return {r["name"]: r for r in table(rep, "functions")}


def test_stdout_refused():
    """-- COMMAND shares stdout with the report: a format for programs
    needs -o, refused at once with one line (nothing runs)."""
    for fmt in ("json", "folded", "dot", "callgrind"):
        r = run(["--format", fmt, "-f", "heavy", "--", "sh", "-c", "echo RAN"])
        equal(r.returncode, 2, f"--format {fmt} -- COMMAND without -o: usage error")
        check("RAN" not in r.stdout and r.stdout == "", f"--format {fmt}: the command never ran",
              r.stdout)
        lines = r.stderr.strip().splitlines()
        check(len(lines) == 1 and "-o FILE" in lines[0], f"--format {fmt}: one line naming -o",
              r.stderr)
    r = run(EXACT + ["-f", "heavy", "--", workload("cprofile"), "50"])
    equal(r.returncode, 0, "text with -- COMMAND: still on stdout")
    check("Exact function profile" in r.stdout, "text with -- COMMAND: report written")


def test_pid():
    """Attach to a running cprofile before its work starts: same counts."""
    snap = BpfSnapshot()
    p = start([workload("cprofile"), "20", "sig"], gated=True)  # scale 20
    try:
        r, doc = run_gated(EXACT + ["-p", str(p.pid), "-f", "heavy,medium,light"], p)
        equal(r.returncode, 0, "pid: exit status")
        rows = rows_by_name(report(doc, "func"))
        for f, n in CALLS.items():
            equal(rows.get(f, {}).get("calls"), n, f"pid: ncalls of {f}")
        check(p.wait(timeout=30) == 0, "pid: target finished normally")
    finally:
        stop(p)
    snap.check("pid")


def test_inflight():
    """Collection stopping mid-call: the call is in flight, not finished."""
    snap = BpfSnapshot()
    p = start([workload("cprofile"), "1", "sig"], gated=True)  # heavy runs 4.1 s
    try:
        r, doc = run_gated(EXACT + ["-p", str(p.pid), "-f", "heavy", "-d", "2"], p)
        equal(r.returncode, 0, "inflight: exit status")
        rows = rows_by_name(report(doc, "func"))
        heavy = rows.get("heavy", {})
        equal(heavy.get("calls"), 0, "inflight: heavy has not finished")
        equal(heavy.get("inflight"), 1, "inflight: heavy in flight once")
        # heavy began after the gate opened (else no frame) and was still
        # running when the report was read, before ebprof exited
        within(heavy.get("inflight_time", 0), 0.3e9, r.gate_to_exit_s * 1e9,
               "inflight: time so far (ns), at most gate to exit")
    finally:
        stop(p)
    snap.check("inflight")


def test_count_only():
    snap = BpfSnapshot()
    r, doc = run_json(EXACT + ["--count-only", "-f", "heavy,medium,light", "--",
                       workload("cprofile"), "50"])
    equal(r.returncode, 0, "count-only: exit status")
    rep = report(doc, "func")
    rows = rows_by_name(rep)
    for f, n in CALLS.items():
        equal(rows.get(f, {}).get("calls"), n, f"count-only: ncalls of {f}")
    equal(rep["info"].get("probe_hits"), sum(CALLS.values()), "count-only: entry probes only")
    snap.check("count-only")


def test_libc():
    """LIB:GLOB on a library resolved before exec (DT_NEEDED), falling back to
    .dynsym: cprofile calls nanosleep once per sleep: 2 x (100 x 3 + 1)."""
    snap = BpfSnapshot()
    r, doc = run_json(EXACT + ["-f", "libc:nanosleep,heavy", "--", workload("cprofile"), "50"])
    equal(r.returncode, 0, "libc: exit status")
    rep = report(doc, "func")
    rows = rows_by_name(rep)
    equal(rows.get("nanosleep", {}).get("calls"), 602, "libc: nanosleep calls")
    check(rows.get("nanosleep", {}).get("module", "").startswith("libc"), "libc: module is libc",
          rows.get("nanosleep", {}).get("module"))
    names = [rep["frames"][n["frame"]]["func"] for n in rep["nodes"]]
    edges = {(names[e["caller"]], names[e["callee"]]): e["calls"] for e in rep["edges"]}
    # light and medium are not traced: their sleeps count under heavy too
    equal(edges.get(("heavy", "nanosleep")), 602, "libc: edge to nearest traced caller")
    check(any(".dynsym" in n or "debug file" in n for n in rep["notes"]),
          "libc: report says where libc's symbols came from", rep["notes"])
    snap.check("libc")


def test_dynsym():
    """A stripped executable: only .dynsym is left (exported with -rdynamic);
    counts stay exact and the report says it fell back."""
    snap = BpfSnapshot()
    tmp = tempfile.mkdtemp()
    try:
        exe = os.path.join(tmp, "cprofile-stripped")
        src = os.path.join(ROOT, "tests", "workloads", "cprofile.c")
        subprocess.run(["cc", "-O2", "-fno-inline-small-functions", "-rdynamic", "-o", exe, src],
                       check=True)
        subprocess.run(["strip", "--strip-all", exe], check=True)
        r, doc = run_json(EXACT + ["-f", "heavy,medium,light", "--", exe, "50"])
        equal(r.returncode, 0, "dynsym: exit status")
        rep = report(doc, "func")
        rows = rows_by_name(rep)
        for f, n in CALLS.items():
            equal(rows.get(f, {}).get("calls"), n, f"dynsym: ncalls of {f}")
        check(any(".dynsym" in n for n in rep["notes"]), "dynsym: report says so", rep["notes"])
    finally:
        shutil.rmtree(tmp)
    snap.check("dynsym")


def test_governor():
    snap = BpfSnapshot()
    n = 3000000
    r, doc = run_json(["--max-overhead", "1", "-f", "tiny,cold", "--", workload("hotloop"), str(n)],
                      timeout=120)
    equal(r.returncode, 0, "governor: target finished, exit status 0")
    rep = report(doc, "func")
    rows = rows_by_name(rep)
    tiny = rows.get("tiny", {}).get("calls", 0)
    check(0 < tiny < n, "governor: tiny detached before the end", tiny)
    equal(rows.get("cold", {}).get("calls"), n // 100000, "governor: cold kept, exact")
    equal(rep["info"].get("detached"), 1, "governor: one function detached")
    check(any("detached tiny" in x and "calls/s" in x for x in rep["notes"]),
          "governor: note names tiny, its rate and when", rep["notes"])
    check(rep["info"].get("peak_overhead_pct", 0) > 1, "governor: peak estimate above budget",
          rep["info"].get("peak_overhead_pct"))
    snap.check("governor")


def test_bad_patterns():
    snap = BpfSnapshot()
    r = run(["-f", "hevy", "--", workload("cprofile"), "50"])
    equal(r.returncode, 2, "bad pattern: usage error")
    lines = r.stderr.strip().splitlines()
    equal(len(lines), 1, "bad pattern: one line on stderr")
    check("hevy" in r.stderr and "heavy" in r.stderr, "bad pattern: names close match",
          r.stderr.strip())
    r = run(["-f", "libnosuchlib:foo", "--", workload("cprofile"), "50"])
    equal(r.returncode, 1, "missing library: runtime failure")
    lines = r.stderr.strip().splitlines()
    equal(len(lines), 1, "missing library: one line on stderr")
    check("libnosuchlib" in r.stderr, "missing library: named", r.stderr.strip())
    # Mistakes in report options fail before anything is collected.
    t0 = time.time()
    r = run(["-f", "heavy", "--callers", "hevy", "--", workload("cprofile"), "2"])
    equal(r.returncode, 2, "--callers of an untraced function: usage error")
    check(r.stderr.count("\n") == 1 and "hevy" in r.stderr, "--callers: one line", r.stderr)
    r = run(["-f", "heavy", "--metric", "bytes", "--", workload("cprofile"), "2"])
    equal(r.returncode, 2, "unknown --metric: usage error")
    check(time.time() - t0 < 3, "option errors come before the 2 s+ run")
    snap.check("bad patterns")


def test_thread_id():
    """-p with the id of a non-main thread profiles its whole process."""
    snap = BpfSnapshot()
    p = start([workload("threads"), "4", "100", "sig"], gated=True)
    try:
        tids = []
        for _ in range(50):
            tids = [int(t) for t in os.listdir(f"/proc/{p.pid}/task") if int(t) != p.pid]
            if tids:
                break
            time.sleep(0.02)
        check(bool(tids), "threads workload has worker threads", tids)
        # 4 threads at ~6000 calls/s each: keep the governor out of a count test
        r, doc = run_gated(EXACT + ["-p", str(tids[0]), "-f", "work,leaf"], p)
        equal(r.returncode, 0, "-p TID: exit 0")
        rows = rows_by_name(report(doc, "func"))
        # Thread i calls work (i + 1) * 100 times: 100 * 4 * 5 / 2.
        equal(rows.get("work", {}).get("calls"), 1000, "-p TID: work calls of all threads")
        equal(rows.get("leaf", {}).get("calls"), 1000, "-p TID: leaf calls of all threads")
    finally:
        stop(p)
    snap.check("-p TID")


def test_detached_inflight():
    """hot is detached while hot(1) runs (and perhaps one hot(0)): those
    calls count once as in flight at detach, never as in flight at the end
    (hot(1) returned long before; the process is alive, asleep)."""
    snap = BpfSnapshot()
    cal = calibration_run(["-f", "hot", "--", workload("detachwork"), "1000", "0"])
    # hot(0) calls for 2 s at full rate (one probed call costs probe_cost_ns),
    # a budget a fifth of what they cost: detached at the first tick.
    n = int(2e9 / cal["info"]["probe_cost_ns"])
    r, doc = run_json(["--max-overhead", "20", "-d", "4", "-f", "hot", "--",
                       workload("detachwork"), str(n), "5000"])
    rep = report(doc, "func")
    row = rows_by_name(rep).get("hot", {})
    equal(rep["info"].get("detached"), 1, "detached in flight: hot detached")
    equal(row.get("inflight"), 0, "detached in flight: nothing in flight at the end")
    equal(row.get("inflight_time"), 0, "detached in flight: no in-flight time")
    within(rep["info"].get("lost_detached", 0), 1, 2,
           "detached in flight: hot(1) (and at most one hot(0)) counted once")
    snap.check("detached in flight")


test_stdout_refused()
test_pid()
test_detached_inflight()
test_inflight()
test_count_only()
test_libc()
test_dynsym()
test_governor()
test_bad_patterns()
test_thread_id()
finish()
