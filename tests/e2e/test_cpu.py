"""cpu report against cpusplit, whose split is known: spin_a/spin_b/spin_c
use 60/30/10 % of the CPU phase, then block_wait sleeps BLOCK_MS."""
import contextlib
import json
import os
import signal
import subprocess
import tempfile
import time

from lib import (BpfSnapshot, CpuHogs, check, equal, finish, metric_index, near, node_totals,
                 popen_ebprof, report, run, run_gated, run_json, run_json_truth, start, stop, table,
                 wait_profiling, within, workload)

CPU_MS, BLOCK_MS = 3000, 1000
SPLIT = {"spin_a": 60.0, "spin_b": 30.0, "spin_c": 10.0}


def blocked_in(rep, func):
    """Off-CPU ns of stacks through func that were blocked, not [runnable]
    (a loaded machine preempts a spinning function: that is waiting to run)."""
    m = metric_index(rep, "offcpu")
    names = [f["func"] for f in rep["frames"]]
    return sum(s["values"][m] for s in rep["samples"]
               if s["stack"] and names[s["stack"][-1]] != "[runnable]"
               and any(names[i] == func for i in s["stack"]))


def check_split(rep, what):
    oncpu = node_totals(rep, "oncpu")
    got = {f: oncpu.get(f, 0) for f in SPLIT}
    total = sum(got.values())
    check(total > 0, f"{what}: samples in spin_a/b/c", got)
    for f, want in SPLIT.items():
        share = 100.0 * got[f] / total if total else 0
        within(round(share, 1), want - 5, want + 5, f"{what}: {f} share of the CPU phase (%)")
    offcpu = node_totals(rep, "offcpu")
    near(offcpu.get("block_wait", 0) / 1e6, BLOCK_MS, 0.10,
         f"{what}: block_wait off-CPU ms")
    # The spinning functions were not blocked.
    check(blocked_in(rep, "spin_a") / 1e6 < 0.05 * BLOCK_MS, f"{what}: spin_a barely blocked",
          blocked_in(rep, "spin_a"))
    threads = table(rep, "threads")
    equal(len(threads), 1, f"{what}: one thread")
    check(threads and threads[0]["comm"] == "cpusplit", f"{what}: thread named", threads)


def test_launch():
    snap = BpfSnapshot()
    r, doc = run_json(["-F", "499", "cpu", "--", workload("cpusplit"), str(CPU_MS), str(BLOCK_MS)])
    equal(r.returncode, 0, "launch: exit status of the command")
    equal(doc["schema"], "ebprof-profile", "json schema name")
    rep = report(doc, "cpu")
    check_split(rep, "launch")
    lost = rep["info"]["lost"]
    check(lost <= rep["info"]["samples"] * 0.01, "launch: lost samples under 1 %", lost)
    snap.check("launch")


def test_pid():
    snap = BpfSnapshot()
    p = start([workload("cpusplit"), str(CPU_MS), str(BLOCK_MS), "sig"], gated=True)
    try:
        r, doc = run_gated(["-p", str(p.pid), "-F", "499"], p)
        equal(r.returncode, 0, "-p: exit status")
        rep = report(doc, "cpu")
        check_split(rep, "-p")
        # Collection ended when the target exited: cpu's window (from its
        # attach, before ebprof says it is profiling, as cpu samples while
        # vm's object loads) began before the gate opened and ended after
        # the work (at least its 4 s) and before ebprof did.
        t0 = rep["info"]["attach_monotonic"] / 1e9
        end = t0 + rep["info"]["duration"] / 1e9
        check(t0 <= r.gate_mono, "-p: cpu attached before the gate opened", r.gate_mono - t0)
        within(end, r.gate_mono + (CPU_MS + BLOCK_MS) / 1e3, r.exit_mono,
               "-p: collection until the target's exit (CLOCK_MONOTONIC s)")
        equal(p.wait(timeout=10), 0, "-p: target unharmed, exit 0")
    finally:
        stop(p)
    snap.check("-p")


def test_folded_and_output_file(tmp="/tmp/ebprof-e2e.folded"):
    if os.path.exists(tmp):
        os.unlink(tmp)
    r = run(["cpu", "--format", "folded", "--metric", "offcpu", "-o", tmp, "--",
             workload("cpusplit"), "300", "300"])
    equal(r.returncode, 0, "folded: exit 0")
    equal(r.stdout, "", "folded -o: nothing on stdout")
    lines = open(tmp).read().splitlines()
    os.unlink(tmp)
    ok = all(l.rsplit(" ", 1)[1].isdigit() for l in lines) and lines
    check(ok, "folded: every line is 'stack value'", lines[:3])
    sleeping = sum(int(l.rsplit(" ", 1)[1]) for l in lines if "block_wait" in l)
    near(sleeping / 1000.0, 300, 0.15, "folded offcpu: block_wait ms (values in us)")
    check(all(l.rsplit(" ", 1)[0].endswith(("[off-cpu]", "[runnable]")) for l in lines),
          "folded offcpu: stacks end in an off-CPU marker", lines[:2])


def test_exit_status():
    r = run(["--", "sh", "-c", "exit 7"])
    equal(r.returncode, 7, "launch: ebprof exits with the command's status")
    r = run(["--", "/nonexistent/cmd"])
    equal(r.returncode, 1, "launch: missing command -> 1")
    check(r.stderr.count("\n") == 1 and r.stderr.startswith("ebprof: "),
          "launch: missing command -> one line", r.stderr)


def test_errors():
    r = run(["-p", "999999"])
    equal(r.returncode, 1, "no such pid -> 1")
    check("no such process" in r.stderr and r.stderr.count("\n") == 1,
          "no such pid -> one clear line", r.stderr)
    r = run(["-p", "2"])
    equal(r.returncode, 1, "kernel thread -> 1")
    check("kernel thread" in r.stderr, "kernel thread -> said so", r.stderr)
    t0 = time.time()
    r = run(["-p", str(os.getpid()), "-s", "bogus", "-d", "60"])
    equal(r.returncode, 2, "bad sort key -> 2")
    check(time.time() - t0 < 60, "bad sort key fails before collecting (-d 60 not waited)")
    t0 = time.time()
    r = run(["-p", str(os.getpid()), "-d", "60", "-o", "/nonexistent/dir/out.txt"])
    equal(r.returncode, 1, "-o in a missing directory -> 1")
    check(time.time() - t0 < 60 and r.stderr.count("\n") == 1
          and "/nonexistent/dir/out.txt" in r.stderr,
          "-o in a missing directory: one line, before collecting (-d 60 not waited)", r.stderr)
    r = run(["-p", "1", "-F", "abc"])
    equal(r.returncode, 2, "bad frequency -> 2")
    r = run(["-p", str(os.getpid()), "--metric", "bogus", "-d", "0.1"])
    equal(r.returncode, 2, "bad metric -> 2")
    check(r.stderr.count("\n") == 1, "bad metric -> one line", r.stderr)


def test_launch_duration_and_sigterm():
    """-d expiring before a launched command ends: the report is written
    then, the command runs on, ebprof exits with its status.  SIGTERM to
    ebprof is passed on to the command."""
    t0 = time.time()
    r, doc = run_json(["-d", "0.5", "--", "sh", "-c", "sleep 1.5; exit 3"])
    equal(r.returncode, 3, "-d with a command: exit status of the command")
    check(time.time() - t0 >= 1.4, "-d with a command: the command was not cut short")
    # -d honoured: collection stopped at 0.5 s, before the 1.5 s command ended
    within(report(doc, "cpu")["info"]["duration"] / 1e9, 0.5, 1.5, "-d: collection time (s)")

    snap = BpfSnapshot()
    fd, jpath = tempfile.mkstemp(prefix="ebprof-e2e-", suffix=".json")
    os.close(fd)
    e = popen_ebprof(["-v", "--format", "json", "-o", jpath, "--", "sleep", "30"],
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_profiling(e)
    e.send_signal(signal.SIGTERM)
    out, err = e.communicate(timeout=20)
    with open(jpath) as f:
        out = f.read()
    os.unlink(jpath)
    equal(e.returncode, 128 + signal.SIGTERM, "SIGTERM: passed on, the command's status")
    check('"report":"cpu"' in out.replace(" ", ""), "SIGTERM with a command: report written")
    snap.check("SIGTERM with a command")


def test_min_block():
    """--min-block drops off-CPU episodes shorter than it: the 400 ms block
    counts with --min-block 300000 (300 ms), not with 500000."""
    for usec, counted in ((300000, True), (500000, False)):
        r, doc = run_json(["--min-block", str(usec), "cpu", "--",
                           workload("cpusplit"), "100", "400"])
        equal(r.returncode, 0, f"--min-block {usec}: exit 0")
        off = node_totals(report(doc, "cpu"), "offcpu").get("block_wait", 0) / 1e6
        if counted:
            near(off, 400, 0.10, f"--min-block {usec}: block_wait off-CPU ms")
        else:
            equal(off, 0, f"--min-block {usec}: block_wait not counted")
    # A thread that never blocks long enough to count and is never sampled
    # (1 Hz, 0.5 s) was running, not blocked for the whole run.
    r, doc = run_json(["-F", "1", "-d", "0.5", "--min-block", "200000", "cpu", "--",
                       workload("cpusplit"), "2000", "0"])
    equal(r.returncode, 0, "spinner at 1 Hz: exit 0")
    rep = report(doc, "cpu")
    names = {f["func"] for f in rep["frames"]}
    check("[blocked whole run]" not in names, "spinner at 1 Hz: not blocked whole run",
          sorted(n for n in names if n)[:6])
    # But for its hold at the entry point (off-CPU at _start, in the stop
    # signal's kernel frames), which lasts as long as the unwind tables
    # take to build: past --min-block on a loaded machine.
    off = metric_index(rep, "offcpu")
    held = sum(s["values"][off] for s in rep["samples"]
               if "do_signal_stop" in [rep["frames"][i]["func"] for i in s["stack"]])
    equal(rep["info"].get("offcpu_total") - held, 0,
          "spinner at 1 Hz: no off-CPU time but its hold at the entry point")


def check_threads(hz, loaded):
    """Per-thread totals against the kernel's own figures.  threads N CALLS
    has main, an idle thread and N workers; worker i blocks (i + 1) * CALLS
    times in a 100 us sleep, and reads its clocks at its first and last
    instruction of work (threadclock.h: CLOCK_MONOTONIC, its CPU clock,
    schedstat).  Its CPU clock counts from its birth, so up to its last
    reading (mono1) the kernel's figures cover what ebprof watched from the
    thread's first switch-in: on-CPU = cpu1, wall = mono1 - start, off-CPU
    = wall - cpu1.  After mono1 only ebprof sees it (its exit: end - mono1,
    the time the thread lived on, on or off a CPU: long on a loaded
    machine), so ebprof's figures lie between the kernel's and the kernel's
    plus that tail; within 1 % or one sampling period (the issue's bound)
    either side of it."""
    what = f"threads at {hz} Hz{' under two busy loops' if loaded else ''}"
    hogs = CpuHogs() if loaded else contextlib.nullcontext()
    with hogs:
        r, doc, truth = run_json_truth("THREADS_TRUTH", ["-F", str(hz), "cpu", "--",
                                                         workload("threads"), "3", "300"])
    equal(r.returncode, 0, f"{what}: exit 0")
    rep = report(doc, "cpu")
    rows = table(rep, "threads")
    period = 1e9 / hz
    t0 = rep["info"]["attach_monotonic"]
    duration = rep["info"]["duration"]
    by_tid = {x["tid"]: x for x in rows}
    equal(len(truth), 3, f"{what}: three workers measured themselves")

    def tol(x):
        return max(0.01 * x, period)

    # Every thread is a row of the JSON table, idle ones marked: main, the
    # idle thread (pause() after its start) and the three workers.
    equal(len(rows), 5, f"{what}: main + idle + 3 workers, every one a row")
    check_idle_marks(rep, what)
    for x in rows:
        check(x["oncpu"] + x["offcpu"] == x["wall"] and 0 <= x["start"] <= x["end"] <= duration,
              f"{what}: tid {x['tid']} on + off = wall, watched within the run",
              (x["oncpu"], x["offcpu"], x["wall"], x["start"], x["end"], duration))
        # The sums of its episodes telescope: wall = the span watched (an
        # episode lost, e.g. a switch-in not seen, breaks this).
        check(abs(x["wall"] - (x["end"] - x["start"])) <= tol(x["wall"]),
              f"{what}: tid {x['tid']} wall = end - start within 1 % or a period",
              (x["wall"], x["end"] - x["start"]))
    for i, f in enumerate(sorted(truth, key=lambda f: int(f[0]))):
        tid, m0, m1, c0, c1, r0, r1, w0, w1 = map(int, f)
        x = by_tid.get(tid)
        check(x is not None, f"{what}: worker {i + 1} (tid {tid}) has a row")
        if not x:
            continue
        start, end = t0 + x["start"], t0 + x["end"]
        check(start <= m0 and end >= m1, f"{what}: worker {i + 1} watched over its whole work",
              (start - m0, end - m1))
        tail = max(end - m1, 0)
        on, off = c1, (m1 - start) - c1
        within(x["oncpu"], on - tol(on), on + tail + tol(on),
               f"{what}: worker {i + 1} on-CPU = its CPU clock (+ its exit, {tail} ns)")
        within(x["offcpu"], off - tol(off), off + tail + tol(off),
               f"{what}: worker {i + 1} off-CPU = wall - CPU clock (+ its exit)")
        within(x["wall"], m1 - start - tol(m1 - start), m1 - start + tail + tol(m1 - start),
               f"{what}: worker {i + 1} wall = mono1 - its first switch-in (+ its exit)")
        # schedstat: its run time (the CPU clock as of the thread's last
        # switch: it lags while the thread runs) is within ebprof's on-CPU
        # time; its run-queue wait over the worker's span within its
        # off-CPU time.
        check(r1 <= x["oncpu"] + tol(on) and r1 - r0 <= c1 - c0 + tol(on),
              f"{what}: worker {i + 1} schedstat run time within the CPU clock and on-CPU",
              (r1, c1, x["oncpu"]))
        check(w1 - w0 <= x["offcpu"], f"{what}: worker {i + 1} run-queue wait within off-CPU",
              (w1 - w0, x["offcpu"]))


def check_idle_marks(rep, what):
    """Idle (on-CPU under 1 % of wall) marks exactly the idle rows, and the
    info line idle_threads counts them."""
    rows = table(rep, "threads")
    check(all(bool(x["idle"]) == (x["oncpu"] * 100 < x["wall"]) for x in rows),
          f"{what}: idle marks the rows with on-CPU under 1 % of wall",
          [(x["tid"], x["oncpu"], x["wall"], x["idle"]) for x in rows])
    equal(int(rep["info"].get("idle_threads", "0").split()[0]), sum(x["idle"] for x in rows),
          f"{what}: idle_threads counts the rows marked idle")


def test_threads():
    for _ in range(2):
        check_threads(999, False)
    for hz in (99, 999, 4999):
        for _ in range(2):
            check_threads(hz, True)


def test_idle_rows():
    """A thread blocked all run is a row of the JSON threads table, marked
    idle; text leaves it out of its table and sums it in one line.  threads
    1 3000 sig with -p: its idle thread is in pause() from before attach
    (its exit at the end takes a few ms on a CPU: under 1 % of a run of at
    least 0.3 s)."""
    p = start([workload("threads"), "1", "3000", "sig"], gated=True)
    try:
        r, doc = run_gated(["-p", str(p.pid), "-F", "999", "cpu"], p)
        equal(p.wait(timeout=30), 0, "idle rows: target unharmed, exit 0")
    finally:
        stop(p)
    equal(r.returncode, 0, "idle rows: exit 0")
    rep = report(doc, "cpu")
    rows = table(rep, "threads")
    equal(len(rows), 3, "idle rows: main, the idle thread and the worker, each a row")
    # The idle thread: not main, there at attach (the worker was created
    # after); woken only by the process's exit.
    blocked = [x for x in rows if x["tid"] != p.pid and x["start"] == 0]
    check(len(blocked) == 1 and blocked[0]["idle"] == 1,
          "idle rows: the idle thread, blocked until the exit, marked idle",
          [(x["tid"], x["oncpu"], x["wall"], x["start"], x["idle"]) for x in rows])
    check_idle_marks(rep, "idle rows")
    # The same profile as text.
    fd, path = tempfile.mkstemp(prefix="ebprof-e2e-", suffix=".json")
    with os.fdopen(fd, "w") as f:
        json.dump(doc, f)
    try:
        r = run(["report", path, "-n", "0"])
    finally:
        os.unlink(path)
    equal(r.returncode, 0, "idle rows text: exit 0")
    rows = table(report(doc, "cpu"), "threads")
    text = r.stdout.split("\nThreads\n", 1)[-1].split("\n\n", 1)[0].splitlines()[1:]
    shown = {int(l.split()[0]) for l in text if l.split() and l.split()[0].isdigit()}
    equal(shown, {x["tid"] for x in rows if not x["idle"]},
          "idle rows text: the rows of the threads that are not idle")
    check("idle threads (not in Threads):" in r.stdout and blocked and
          blocked[0]["tid"] not in shown,
          "idle rows text: the idle thread in the idle line, not the table", r.stdout[-600:])


def test_interval():
    """-i: the tables as they stand every interval, then the final report;
    each snapshot's duration grows and none exceeds the final one."""
    import re
    r = run(["-i", "0.3", "-d", "1.0", "cpu", "--", workload("cpusplit"), "3000", "0"])
    equal(r.returncode, 0, "-i: exit 0")
    marks = re.findall(r"^=== interval (\d+): ", r.stdout, re.M)
    durations = [float(x) * {"ms": 1e-3, "s": 1.0}[u]
                 for x, u in re.findall(r"^duration:\s+([\d.]+) (ms|s)$", r.stdout, re.M)]
    check(1 <= len(marks) <= 3 and marks == [str(i + 1) for i in range(len(marks))],
          "-i 0.3 -d 1.0: one to three numbered interval tables", marks)
    equal(len(durations), len(marks) + 1, "-i: a report per interval and the final one")
    check(durations == sorted(durations), "-i: durations grow to the final report", durations)
    r = run(["-i", "1", "--format", "json", "-p", str(os.getpid()), "-d", "1"])
    equal(r.returncode, 2, "-i with json on stdout -> usage error")
    check("-o" in r.stderr and r.stderr.count("\n") == 1, "-i with json: one line naming -o",
          r.stderr)


def test_deleted_binary(path="/tmp/ebprof-e2e-deleted"):
    """A binary deleted after start is read through /proc/PID/map_files."""
    import shutil
    shutil.copy(workload("cpusplit"), path)
    p = start([path, "1500", "0", "sig"], gated=True)
    try:
        os.unlink(path)
        r, doc = run_gated(["-p", str(p.pid), "cpu"], p)
        equal(r.returncode, 0, "deleted binary: exit 0")
        oncpu = node_totals(report(doc, "cpu"), "oncpu")
        check(oncpu.get("spin_a", 0) > 0 and oncpu.get("spin_b", 0) > 0,
              "deleted binary: functions symbolized", sorted(oncpu)[:8])
    finally:
        stop(p)
        if os.path.exists(path):
            os.unlink(path)


def test_idle_target():
    """An idle target: no samples is an empty report, not an error."""
    p = start(["sleep", "30"])
    try:
        r = run(["-p", str(p.pid), "-d", "0.5", "--format", "folded"])
        equal(r.returncode, 0, "idle target folded: exit 0")
        r, doc = run_json(["-p", str(p.pid), "-d", "1.5"])
        rep = report(doc, "cpu")
        equal(rep["info"]["samples"], 0, "idle target: no samples")
        # The whole run asleep: the in-flight off-CPU time is counted, all of it.
        near(rep["info"].get("offcpu_total", 0), rep["info"]["duration"], 0.01,
             "idle target: off-CPU = collection time (ns)")
    finally:
        stop(p)


def test_signals():
    """Every way ebprof can end leaves nothing in the kernel."""
    for sig, name in ((signal.SIGINT, "SIGINT"), (signal.SIGTERM, "SIGTERM"),
                      (signal.SIGKILL, "SIGKILL")):
        snap = BpfSnapshot()
        p = start([workload("cpusplit"), "60000", "0"])
        try:
            e = popen_ebprof(["-v", "-p", str(p.pid), "--format", "json"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            wait_profiling(e)
            check(len(snap.loaded("prog")) > 0, f"{name}: programs loaded while running")
            e.send_signal(sig)
            out, err = e.communicate(timeout=30)
            if sig == signal.SIGKILL:
                equal(e.returncode, -9, f"{name}: killed")
            else:
                equal(e.returncode, 0, f"{name}: clean exit with a report")
                check('"report":"cpu"' in out.replace(" ", ""), f"{name}: report written")
            check(p.poll() is None, f"{name}: target still running")
        finally:
            stop(p)
        snap.check(name)


def test_features():
    """--features: one line per feature, what this machine has, exit 0
    without a target; -vv shows the same table on stderr at start (-v
    does not: probing every feature would delay the run's start)."""
    r = run(["--features"])
    equal(r.returncode, 0, "--features: exit 0")
    rows = {}
    for line in r.stdout.splitlines()[1:]:
        key, present = line.split()[:2]
        check(key not in rows, f"--features: {key} on one line")
        rows[key] = present
    for key in ("btf", "raw_tracepoint", "tp_sched_switch", "tp_sched_process_exit",
                "perf_cpu_clock", "ringbuf", "bpf_loop"):
        equal(rows.get(key), "yes", f"--features: {key}")
    check("uprobe_multi" in rows, "--features: uprobe_multi reported", sorted(rows))
    r = run(["-vv", "-d", "0.1", "--", "true"])
    equal(r.returncode, 0, "-vv: exit 0")
    check(all(f"\n{k} " in "\n" + r.stderr for k in rows), "-vv: the table on stderr",
          r.stderr[:300])
    r = run(["-v", "-d", "0.1", "--", "true"])
    equal(r.returncode, 0, "-v: exit 0")
    check("\nbtf " not in "\n" + r.stderr, "-v: no features table", r.stderr[:300])


test_features()
test_launch()
test_pid()
test_folded_and_output_file()
test_exit_status()
test_launch_duration_and_sigterm()
test_threads()
test_idle_rows()
test_min_block()
test_interval()
test_deleted_binary()
test_idle_target()
test_errors()
test_signals()
finish()
