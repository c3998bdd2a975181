"""One set of unwind tables per run (user/unwind/share.c): cpu and vm run
together (the default pair) build each file's table once, hold one
unwind_rows map in the kernel that both collectors' programs use, and
their reports are what each one alone proves (test_vm's exact growth of
touchmem, test_cpu_unwind's exact chain)."""
import json
import os
import signal
import subprocess
import tempfile

from lib import (BpfSnapshot, check, equal, finish, popen_ebprof, report, start, stop,
                 truth_file, wait_profiling, workload)
from test_cpu_unwind import LIBC_START, exact
from test_vm import args as touchmem_args
from test_vm import check_vm, truth

FILES_ENTRIES = 256      # UNWIND_MAX_FILES (include/unwind.h): unwind_rows' slots
ARRAY_OF_MAPS = 12       # BPF_MAP_TYPE_ARRAY_OF_MAPS


def fdinfo(pid):
    """The BPF maps and programs pid holds: ({map_id: fields}, {prog_id})."""
    maps, progs = {}, set()
    for fd in os.listdir(f"/proc/{pid}/fdinfo"):
        try:
            with open(f"/proc/{pid}/fdinfo/{fd}") as f:
                fields = dict(l.split(":", 1) for l in f.read().splitlines() if ":" in l)
        except OSError:
            continue
        fields = {k.strip(): v.strip() for k, v in fields.items()}
        if "map_id" in fields:
            maps[int(fields["map_id"])] = fields
        elif "prog_id" in fields:
            progs.add(int(fields["prog_id"]))
    return maps, progs


def prog_maps(ids):
    """{program name: set of map ids it uses}."""
    out = {}
    for i in ids:
        r = subprocess.run(["bpftool", "-j", "prog", "show", "id", str(i)],
                           capture_output=True, text=True)
        if r.returncode == 0:
            p = json.loads(r.stdout)
            out[p.get("name", str(i))] = set(p.get("map_ids", []))
    return out


def run_pair(target, extra, what):
    """ebprof -v --unwind dwarf -p target cpu vm; looks at the kernel's
    side once everything is attached, then opens the target's gate.
    Returns (stderr, doc)."""
    fd, out = tempfile.mkstemp(prefix="ebprof-e2e-share-", suffix=".json")
    os.close(fd)
    p = popen_ebprof(["-v", "--format", "json", "-o", out, "-F", "499", "--unwind", "dwarf",
                      "-p", str(target.pid), *extra, "cpu", "vm"],
                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        lines = wait_profiling(p)
        check(lines and lines[-1].startswith("ebprof: profiling pid"), f"{what}: profiling",
              lines[-3:])
        maps, progs = fdinfo(p.pid)
        used = prog_maps(progs)  # while ebprof holds them
        os.kill(target.pid, signal.SIGUSR1)
        err = "".join(lines) + p.stderr.read()
        p.wait(timeout=120)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        stop(target)
    equal(p.returncode, 0, f"{what}: exit status")
    # One unwind_rows (an array of maps: each file's rows an array of
    # their own, held by it) for both objects: the rows exist once.
    rows = {i: m for i, m in maps.items()
            if int(m.get("map_type", 0)) == ARRAY_OF_MAPS and
            int(m.get("max_entries", 0)) == FILES_ENTRIES}
    equal(len(rows), 1, f"{what}: one unwind_rows map in the kernel for cpu and vm")
    for name in ("cpu_sample", "vm_fault", "vm_sys_enter"):
        check(name in used and set(rows) <= used[name],
              f"{what}: {name} walks with the shared tables", sorted(used.get(name, [])))
    # Each file's table is built once (-v names every file it builds).
    built = [l.split(": ")[2] for l in err.splitlines()
             if l.startswith("ebprof: unwind: /") and " rows from " in l]
    check(built, f"{what}: -v names the files built", len(built))
    check(len(built) == len(set(built)), f"{what}: every file's table built once",
          sorted(b for b in built if built.count(b) > 1))
    check("uses the run's unwind maps (2 object(s))" in err,
          f"{what}: -v says the second object reuses the maps")
    with open(out) as f:
        doc = json.load(f)
    os.unlink(out)
    return err, doc


def test_touchmem():
    """vm's exact growth of touchmem with cpu beside it."""
    snap = BpfSnapshot()
    with truth_file("TOUCHMEM_TRUTH") as rows:
        target = start(touchmem_args("sig"), gated=True)
        _, doc = run_pair(target, [], "cpu+vm touchmem")
        check_vm(report(doc, "vm"), truth(rows), "cpu+vm touchmem")
        check(report(doc, "cpu")["info"]["unwind"].startswith("dwarf"),
              "cpu+vm touchmem: cpu walks with the tables")
    snap.check("cpu+vm touchmem")


def test_chain():
    """cpu's exact chain on a binary without frame pointers with vm beside it."""
    snap = BpfSnapshot()
    target = start([workload("unwind"), "chain", "1500", "sig"], gated=True)
    _, doc = run_pair(target, [], "cpu+vm chain")
    exact(report(doc, "cpu"), "cpu+vm chain", "spin_leaf",
          LIBC_START + ["chain_a", "chain_b", "chain_c", "spin_leaf"])
    snap.check("cpu+vm chain")


if __name__ == "__main__":
    test_touchmem()
    test_chain()
    finish()
