"""A launched command is held at its start until every collector has read
its mappings, then let go: stopped in the dynamic loader (its
_dl_debug_state hook, before ld.so maps the DT_NEEDED libraries and once
they are mapped and relocated, before their constructors) and at its
executable's entry point, before any of its own code runs.

- shortlib spends 5 ms of CPU time in shortlib_hot, in its DT_NEEDED
  libshortlib.so, and exits: the cpu report names that function (without
  the hold the library's frames stayed unsymbolized: the process was gone
  before the first refresh);
- the hold is shown (info entry_hold_ns, a note) and booked as what it is:
  off-CPU time at each stop, in the stop signal's kernel frames
  (do_signal_stop): two in ld.so's dl_main, one at the entry (_start);
- PIE, non-PIE, static executables and a "#!" script are held; the
  command's exit status is unchanged (exit code, death by a signal);
- a command that dies before its entry (a missing library) keeps its
  status and the report says it was not held; one whose library
  constructor sleeps past the 5 s timeout is not held (nor stopped later),
  with a note;
- a SIGSTOP the user sends later stops the command for as long as the user
  wants (ebprof does not continue it), and SIGCONT lets it finish;
- the loader's own work is walked with tables: clang++ --version bound at
  load (LD_BIND_NOW=1: ld.so relocating libLLVM and libclang-cpp is most
  of its CPU time), --unwind dwarf: its walks through ld.so reach ld.so's
  entry point, the outermost frame, and few walks are cut (before the
  loader's stops, 9 in 10 were: ld.so had no table until the entry);
- idle and with every CPU busy; nothing stays in the kernel."""
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

from lib import (EBPROF, BpfSnapshot, CpuHogs, _our_pids, check, equal, finish, info,
                 metric_index, report, run_json, workload)

HOT_MS = 5


def leaf_times(rep, metric):
    """{(module, function): metric} by the stacks' leaf frames."""
    m = metric_index(rep, metric)
    out = {}
    for s in rep["samples"]:
        f = rep["frames"][s["stack"][-1]]
        key = (f["module"], f["func"])
        out[key] = out.get(key, 0) + s["values"][m]
    return out


def check_short_lib(what):
    snap = BpfSnapshot()
    r, doc = run_json(["-F", "4999", "cpu", "--", workload("shortlib"), str(HOT_MS)])
    equal(r.returncode, 0, f"{what}: exit status")
    rep = report(doc, "cpu")
    check(rep["info"].get("entry_hold_ns", 0) > 0, f"{what}: held at its entry point",
          rep["info"].get("entry_hold_ns"))
    on = leaf_times(rep, "oncpu")
    hot = on.get(("libshortlib.so", "shortlib_hot"), 0)
    nameless = {k: v for k, v in on.items() if k[0] == "libshortlib.so" and not k[1]}
    unknown = sum(v for k, v in on.items() if k[0] is None and v)
    check(hot > 0, f"{what}: the library's hot function is symbolized", hot)
    equal(nameless, {}, f"{what}: no frame of the library without its name")
    # The 5 ms spin is the bulk of the run's CPU time; what no mapping
    # names (ld.so's first steps, ebprof's fork before exec) is far less.
    check(unknown < hot, f"{what}: less on-CPU time in unknown code than in the hot function",
          f"{unknown} < {hot}")
    callers = set()
    for s in rep["samples"]:
        names = [rep["frames"][i]["func"] for i in s["stack"]]
        if names and names[-1] == "shortlib_hot" and len(names) >= 2:
            callers.add(names[-2])
    check("main" in callers, f"{what}: called from main", callers)
    snap.check(what)


def check_hold_booked():
    """The hold is off-CPU time at its stops (the stop's kernel frames):
    in ld.so's dl_main (it calls _dl_debug_state; the uprobe's single
    step has run the hook's return when the stop is taken) and at the
    entry."""
    r, doc = run_json(["cpu", "--", workload("shortlib"), "1"])
    equal(r.returncode, 0, "hold: exit status")
    rep = report(doc, "cpu")
    held = info(rep, "entry_hold_ns")
    off = metric_index(rep, "offcpu")
    at_stop, where = 0, {}
    for s in rep["samples"]:
        names = [rep["frames"][i]["func"] for i in s["stack"]]
        user = [rep["frames"][i]["func"] for i in s["stack"] if rep["frames"][i]["kind"] == "user"]
        if "do_signal_stop" in names and s["values"][off]:
            at_stop += s["values"][off]
            k = "entry" if user == ["_start"] else "loader" if user[-1:] == ["dl_main"] else \
                "elsewhere"
            where.setdefault(k, []).append(user)
    check(set(where) == {"entry", "loader"} and len(where["entry"]) == 1,
          "hold: stopped at the entry (_start) once, in ld.so's dl_main otherwise", where)
    # The episode runs from the stop to the command's next run (the
    # scheduler's wake-up after SIGCONT included): about the hold, which
    # ebprof times from the hit to its SIGCONT; no bound between the two.
    check(held > 0, "hold: its length shown", held)
    check(0 < at_stop <= info(rep, "offcpu_total"),
          "hold: booked as off-CPU time in do_signal_stop, part of the off-CPU total",
          f"0 < {at_stop} <= {info(rep, 'offcpu_total')}")
    check(any("held stopped at its start (3 stop(s)" in n for n in rep["notes"]),
          "hold: a note says so (its three stops)", rep["notes"])


def elf_entry(path):
    """e_entry of the ELF file path."""
    out = subprocess.run(["readelf", "-h", path], capture_output=True, text=True,
                         check=True).stdout
    return int(re.search(r"Entry point address:\s+(0x[0-9a-f]+)", out).group(1), 16)


def check_loader_walked(what):
    clang = shutil.which("clang++")
    check(clang is not None, f"{what}: clang++ (make deps installs it)")
    if not clang:
        return
    ld = os.path.realpath("/lib64/ld-linux-x86-64.so.2")
    entry = elf_entry(ld)
    snap = BpfSnapshot()
    os.environ["LD_BIND_NOW"] = "1"
    try:
        r, doc = run_json(["-F", "4999", "--unwind", "dwarf", "cpu", "--", clang, "--version"])
    finally:
        os.environ.pop("LD_BIND_NOW")
    equal(r.returncode, 0, f"{what}: exit status")
    rep = report(doc, "cpu")
    m = metric_index(rep, "samples")
    frames = rep["frames"]
    in_ld, bad = 0, []
    for s in rep["samples"]:
        user = [frames[i] for i in s["stack"] if frames[i]["kind"] == "user"]
        n = s["values"][m]
        if not n or not user or user[-1].get("module") != os.path.basename(ld):
            continue
        in_ld += n
        root = user[0]
        # ld.so's _start calls _dl_start, then _dl_init: the return
        # addresses a few bytes past its entry
        if not (root.get("module") == os.path.basename(ld) and
                entry <= root["offset"] < entry + 0x40) and root["func"] != "_start":
            bad.append(([f["func"] for f in user[-3:]], root.get("module"), root["offset"], n))
    total = rep["info"]["samples"]
    cut = rep["info"]["lost_no_unwind_info"] + rep["info"]["lost_bad_walk"]
    check(in_ld * 4 >= total, f"{what}: ld.so's relocation is much of the run's samples",
          (in_ld, total))
    # Cut walks are counted (ld.so's first steps, before the first stop,
    # have no table yet): the rest reach the entry.
    check(sum(b[-1] for b in bad) <= cut, f"{what}: every walk from ld.so reaches its entry "
          f"point (or the program's _start) but the counted cuts", (cut, bad[:4]))
    check(cut * 10 <= total, f"{what}: few walks cut (9 in 10 before the loader's stops)",
          (cut, total))
    snap.check(what)


def check_kinds():
    script = tempfile.NamedTemporaryFile("w", prefix="ebprof-e2e-", suffix=".sh", delete=False)
    script.write("#!/bin/sh\nexit 5\n")
    script.close()
    os.chmod(script.name, 0o755)
    try:
        for what, argv, status in (
                ("PIE", [workload("shortlib"), "1"], 0),
                ("non-PIE", [workload("unwind_nopie"), "chain", "1"], 0),
                ("static", [workload("fixedwork_static"), "-n", "1"], 0),
                ("script", [script.name], 5),
                ("exit code", ["sh", "-c", "exit 7"], 7),
                ("killed", ["sh", "-c", "kill -TERM $$"], 128 + signal.SIGTERM)):
            r, doc = run_json(["cpu", "--"] + argv)
            equal(r.returncode, status, f"{what}: the command's exit status")
            rep = report(doc, "cpu")
            check(rep["info"].get("entry_hold_ns", 0) > 0, f"{what}: held at its entry point",
                  rep["info"].get("entry_hold_ns"))
    finally:
        os.unlink(script.name)


def check_dies_before_entry():
    """shortlib without its library: ld.so exits 127 before the entry."""
    d = tempfile.mkdtemp(prefix="ebprof-e2e-")
    try:
        shutil.copy(workload("shortlib"), d)
        r, doc = run_json(["cpu", "--", os.path.join(d, "shortlib"), "1"])
    finally:
        shutil.rmtree(d)
    equal(r.returncode, 127, "dies before entry: ld.so's exit status")
    rep = report(doc, "cpu")
    # (Stopped in the loader before it looked for the library.)
    check(not any("at its entry point)" in n for n in rep["notes"]),
          "dies before entry: not held there", rep["notes"])
    check(any("exited before reaching its entry point" in n for n in rep["notes"]),
          "dies before entry: the report says so", rep["notes"])


def check_timeout():
    """slowinit's library constructor sleeps 6 s before the entry: after
    5 s ebprof gives up the hold, says so, and the command, reaching its
    entry later, is not stopped (it ends with its status; a stop nobody
    continued would leave ebprof waiting for it)."""
    snap = BpfSnapshot()
    r, doc = run_json(["cpu", "--", workload("slowinit")])
    equal(r.returncode, 0, "entry not reached: the command's exit status")
    rep = report(doc, "cpu")
    check(not any("at its entry point)" in n for n in rep["notes"]),
          "entry not reached: not held there", rep["notes"])
    check(any("had not reached its entry point 5 s after exec" in n for n in rep["notes"]),
          "entry not reached: the report says so", rep["notes"])
    snap.check("entry not reached")


def child_of(pid):
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as f:
            kids = f.read().split()
        if kids:
            return int(kids[0])
    return None


def state(pid):
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0]


def check_user_stop():
    """After the hold, the user's SIGSTOP holds the command until their
    SIGCONT: ebprof neither continues nor loses it."""
    snap = BpfSnapshot()
    out = tempfile.mktemp(prefix="ebprof-e2e-", suffix=".json")
    p = subprocess.Popen([EBPROF, "-v", "cpu", "--format", "json", "-o", out, "--", "sh", "-c",
                          "read x; exit 3"], stdin=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    _our_pids.add(p.pid)
    try:
        for line in p.stderr:
            if "at its entry point for" in line:
                break
        pid = child_of(p.pid)
        check(pid is not None, "user stop: the command runs")
        os.kill(pid, signal.SIGSTOP)
        deadline = time.monotonic() + 10
        while state(pid) != "T" and time.monotonic() < deadline:
            time.sleep(0.01)
        equal(state(pid), "T", "user stop: stopped by the user's SIGSTOP")
        p.stdin.write("go\n")
        p.stdin.flush()
        time.sleep(0.3)
        equal(state(pid), "T", "user stop: still stopped (input waiting, nobody continued it)")
        check(p.poll() is None, "user stop: ebprof still profiling it")
        os.kill(pid, signal.SIGCONT)
        p.stdin.close()
        p.stderr.read()
        p.wait(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        if os.path.exists(out):
            os.unlink(out)
    equal(p.returncode, 3, "user stop: the command's exit status after SIGCONT")
    snap.check("user stop")


if __name__ == "__main__":
    check_short_lib("idle")
    check_hold_booked()
    check_kinds()
    check_dies_before_entry()
    check_timeout()
    check_user_stop()
    check_loader_walked("loader walked, idle")
    with CpuHogs():
        check_short_lib("busy CPUs")
        check_loader_walked("loader walked, busy CPUs")
        check_kinds()
    finish()
