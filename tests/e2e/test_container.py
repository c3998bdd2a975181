"""A target in its own root (a chroot, as containers are): its files exist
only under /proc/PID/root, and its paths mean nothing on the host.  Both
reports must still resolve its symbols and place its probes."""
import os
import shutil
import subprocess
import tempfile

from lib import (EXACT, BpfSnapshot, check, equal, finish, node_totals, report, run_gated,
                 run_json,
                 start, stop, table, workload)


def make_root(tmp):
    """A minimal root: the workloads and the libraries they load, at paths
    that do not exist on the host (/app, /rootlib)."""
    os.makedirs(f"{tmp}/app")
    for w in ("cpusplit", "cprofile"):
        shutil.copy(workload(w), f"{tmp}/app/{w}")
    out = subprocess.run(["ldd", workload("cprofile")], capture_output=True, text=True).stdout
    for line in out.splitlines():
        parts = line.split()
        path = parts[2] if "=>" in parts and len(parts) > 2 else parts[0]
        if path.startswith("/"):
            dest = f"{tmp}{path}"
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            shutil.copy(path, dest)


def main():
    tmp = tempfile.mkdtemp(prefix="ebprof-root-")
    # Named so that no host path matches: /app/cpusplit only exists inside.
    try:
        make_root(tmp)
        snap = BpfSnapshot()
        p = start(["chroot", tmp, "/app/cpusplit", "1000", "300", "sig"], gated=True)
        try:
            r, doc = run_gated(["-p", str(p.pid), "cpu"], p)
            equal(r.returncode, 0, "chroot cpu: exit 0")
            rep = report(doc, "cpu")
            check(node_totals(rep, "oncpu").get("spin_a", 0) > 0, "chroot cpu: spin_a symbolized")
            check(node_totals(rep, "offcpu").get("block_wait", 0) > 0,
                  "chroot cpu: block_wait symbolized")
            mods = {f["module"] for f in rep["frames"] if f["func"]}
            check("libc.so.6" in mods, "chroot cpu: libc frames symbolized", sorted(m for m in mods if m)[:8])
        finally:
            stop(p)
        snap.check("chroot cpu")

        snap = BpfSnapshot()
        p = start(["chroot", tmp, "/app/cprofile", "100", "sig"], gated=True)
        try:
            r, doc = run_gated(EXACT + ["-p", str(p.pid),
                                "-f", "heavy,medium,light,libc:nanosleep"], p)
            equal(r.returncode, 0, "chroot func: exit 0")
            rows = {x["name"]: x for x in table(report(doc, "func"), "functions")}
            equal(rows.get("medium", {}).get("calls"), 400, "chroot func: medium calls")
            equal(rows.get("light", {}).get("calls"), 200, "chroot func: light calls")
            # 2 x (100 x 3 + 1) sleeps; the probe sits on the file the target maps
            equal(rows.get("nanosleep", {}).get("calls"), 602, "chroot func: libc nanosleep calls")
        finally:
            stop(p)
        snap.check("chroot func")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


main()
finish()
