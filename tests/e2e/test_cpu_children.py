"""cpu -p of a process whose work is done by its children (forkwork: two
children forked before attach spin in child_spin_a and child_spin_b, one
forked while profiled spins in child_spin_late; the parent only waits).
Without --children the report names the children and shows none of their
work; with --children each child's spin appears with the CPU time the
child measured itself, and the threads table labels each child thread
with its process."""
import re

from lib import (BpfSnapshot, check, equal, finish, near, node_totals, report, run, run_gated,
                 start, stop, table, truth_file, workload)

CHILD_MS = 600
FUNCS = ("child_spin_a", "child_spin_b", "child_spin_late")


def profile(extra):
    with truth_file("FORKWORK_TRUTH") as truth:
        p = start([workload("forkwork"), str(CHILD_MS), "sig"], gated=True)
        try:
            r, doc = run_gated(["-p", str(p.pid)] + extra + ["cpu"], p)
            p.wait(timeout=60)
        finally:
            stop(p)
        rows = truth()
    return r, report(doc, "cpu"), {f: (int(pid), int(ns)) for f, pid, ns in rows}


def test_without_children():
    snap = BpfSnapshot()
    r, rep, truth = profile([])
    equal(r.returncode, 0, "no --children: exit 0")
    equal(sorted(truth), sorted(FUNCS), "no --children: the three children measured themselves")
    notes = [n for n in rep["notes"] if n.startswith("target has ")]
    check(len(notes) == 1, "no --children: a note on the target's children", rep["notes"])
    note = notes[0] if notes else ""
    m = re.match(r"target has (\d+) child process\(es\) \(pids ([0-9 ]+)\); --children follows them$",
                 note)
    check(m is not None, "no --children: the note's form", note)
    if m:
        equal(int(m.group(1)), 3, "no --children: the note counts 3 children")
        equal(sorted(int(x) for x in m.group(2).split()), sorted(pid for pid, _ in truth.values()),
              "no --children: the note names each child's pid")
    totals = node_totals(rep, "oncpu")
    for f in FUNCS:
        check(f not in totals, f"no --children: {f} not in the report")
    snap.check("no --children")


def test_children():
    snap = BpfSnapshot()
    r, rep, truth = profile(["--children"])
    equal(r.returncode, 0, "--children: exit 0")
    equal(sorted(truth), sorted(FUNCS), "--children: the three children measured themselves")
    totals = node_totals(rep, "oncpu")
    threads = table(rep, "threads")
    for f in FUNCS:
        pid, ns = truth[f]
        # The child's thread on-CPU time is exact; its samples fall in the
        # spin but for the few around it (fork, pipe read, truth write).
        near(totals.get(f, 0), ns, 0.15, f"--children: {f} on-CPU vs the child's own CPU time")
        rows = [t for t in threads if t["tid"] == pid]
        check(len(rows) == 1 and f"[pid {pid} " in rows[0]["comm"],
              f"--children: the threads table labels child {pid} with its process", rows)
        if rows:
            check(rows[0]["oncpu"] >= ns, f"--children: child {pid}'s thread on-CPU >= its spin",
                  (rows[0]["oncpu"], ns))
    check(not any(n.startswith("target has ") for n in rep["notes"]),
          "--children: no note about unfollowed children", rep["notes"])
    equal(rep["info"]["children"]["value"] if isinstance(rep["info"]["children"], dict)
          else rep["info"]["children"], "3 (2 at attach, 1 forked since)",
          "--children: the children followed, in the info")
    snap.check("--children")


def test_refused():
    snap = BpfSnapshot()
    r = run(["--children", "func", "-f", "x", "-p", "1"])
    equal(r.returncode, 2, "--children func: exit 2")
    lines = r.stderr.strip().splitlines()
    check(len(lines) == 1 and "--children: only the cpu report follows child processes" in lines[0],
          "--children func: one clear line", r.stderr)
    snap.check("--children func refused")


test_refused()
test_without_children()
test_children()
finish()
