"""Helpers for ebprof end-to-end tests: run ebprof against workloads with
known ground truth, parse its JSON, assert numbers, and check that nothing
ebprof loaded stays in the kernel afterwards."""
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
EBPROF = os.path.join(ROOT, "ebprof")
WL = os.path.join(ROOT, "build", "workloads")

_failures = []

# Tests that check exact counts turn the overhead governor off: whether it
# would detach a function depends on what a probe hit costs on the machine
# (about 1 us on bare metal, 25 us on slow VMs).  Governor tests size their
# workloads from the probe cost the run itself calibrated (calibration_run).
EXACT = ["--max-overhead", "0"]


def workload(name):
    return os.path.join(WL, name)


_our_pids = set()


def _fd_owners(kind):
    """{id: pids} from /proc/*/fdinfo: who holds a file of each object."""
    key = f"{kind}_id:"
    owners = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            fds = os.listdir(f"/proc/{pid}/fdinfo")
        except OSError:
            continue
        for fd in fds:
            try:
                with open(f"/proc/{pid}/fdinfo/{fd}") as f:
                    for line in f:
                        if line.startswith(key):
                            owners.setdefault(int(line.split()[1]), set()).add(int(pid))
                            break
            except (OSError, ValueError):
                continue
    return owners


def bpf_objects(kind="prog"):
    """{id: set of owner pids} of the BPF objects of this kind now loaded."""
    # bpftool fails when an object it listed is freed before it reads it
    # (RCU frees them after their last holder exits): list again.
    for attempt in range(10):
        r = subprocess.run(["bpftool", "-j", kind, "show"], capture_output=True, text=True)
        if r.returncode == 0:
            break
        time.sleep(0.1)
    else:
        raise RuntimeError(f"bpftool {kind} show: {r.stderr.strip()}")
    out = r.stdout
    owners = _fd_owners(kind)
    return {o["id"]: owners.get(o["id"], set()) for o in json.loads(out or "[]")}


class BpfSnapshot:
    """Remembers what the kernel holds; check() fails on anything new that
    nobody holds, or that a process this test started still holds (other
    tools running on the machine at the same time are left out)."""

    def __init__(self):
        self.before = {k: set(bpf_objects(k)) for k in ("prog", "link", "map")}

    def loaded(self, kind="prog"):
        return {i for i, owners in bpf_objects(kind).items()
                if i not in self.before[kind] and (owners & _our_pids)}

    def leaked(self):
        left = {}
        for k in self.before:
            left[k] = {i for i, owners in bpf_objects(k).items()
                       if i not in self.before[k] and (not owners or owners & _our_pids)}
        return left

    def check(self, what):
        # Freed objects go away asynchronously (RCU); give them a moment.
        for _ in range(50):
            left = self.leaked()
            if not any(left.values()):
                break
            time.sleep(0.1)
        check(not any(left.values()), f"{what}: nothing left in kernel", left)


def run(args, timeout=120, **kw):
    """Runs ebprof with args; returns CompletedProcess (text)."""
    cmd = [EBPROF] + list(args)
    print("  $", " ".join(cmd), flush=True)
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)
    _our_pids.add(p.pid)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        raise
    return subprocess.CompletedProcess(cmd, p.returncode, out, err)


def run_json(args, timeout=120):
    """Runs ebprof --format json -o TMPFILE (a launched command shares
    stdout, so machine-readable formats need -o); returns
    (CompletedProcess, doc)."""
    fd, out = tempfile.mkstemp(prefix="ebprof-e2e-", suffix=".json")
    os.close(fd)
    try:
        r = run(["--format", "json", "-o", out] + list(args), timeout=timeout)
        if r.returncode != 0:
            print(r.stderr, file=sys.stderr)
        with open(out) as f:
            text = f.read()
    finally:
        os.unlink(out)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError:
        print("  report was not JSON:", text[:2000], r.stderr[:2000])
        raise
    return r, doc


def run_gated(args, target, timeout=120):
    """Runs ebprof -v --format json against a workload started with START
    "sig" (tests/workloads/gate.h) and opens its gate, SIGUSR1, once ebprof
    says it is profiling: the work begins after every probe is attached,
    however slow the machine.  Returns (CompletedProcess, doc)."""
    fd, out = tempfile.mkstemp(prefix="ebprof-e2e-", suffix=".json")
    os.close(fd)
    args = ["-v", "--format", "json", "-o", out] + list(args)
    print("  $", EBPROF, " ".join(args), flush=True)
    p = popen_ebprof(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    watchdog = threading.Timer(timeout, p.kill)
    watchdog.start()
    err = []
    opened = None
    try:
        for line in p.stderr:
            err.append(line)
            if line.startswith("ebprof: profiling pid "):
                sent = time.monotonic()
                os.kill(target.pid, signal.SIGUSR1)
                opened = time.monotonic()
                break
        err.append(p.stderr.read())
        p.wait()
    finally:
        watchdog.cancel()
        # ebprof ended before profiling: the gate stays shut, so the
        # workload would wait at it for ever (and the caller with it).
        if opened is None:
            target.kill()
    r = subprocess.CompletedProcess(p.args, p.returncode, "", "".join(err))
    # Seconds from the gate's opening to ebprof's exit: an upper bound for
    # anything the report measured of the work, however slow the machine.
    r.gate_to_exit_s = time.monotonic() - opened if opened else 0.0
    # CLOCK_MONOTONIC s (the clock of a report's attach_monotonic): just
    # before the gate's signal (the work begins after it), and once ebprof
    # had exited.
    r.gate_mono = sent if opened else 0.0
    r.exit_mono = time.monotonic()
    if r.returncode != 0:
        print(r.stderr, file=sys.stderr)
    try:
        with open(out) as f:
            doc = json.load(f)
    except (OSError, json.JSONDecodeError):
        print("  no JSON report:", r.stderr[:2000])
        raise
    finally:
        if os.path.exists(out):
            os.unlink(out)
    return r, doc


@contextlib.contextmanager
def truth_file(var):
    """A temporary file named in environment variable var for a workload's
    own ground truth (THREADS_TRUTH, BURSTY_TRUTH); yields a function that
    returns its lines split in fields."""
    fd, truth = tempfile.mkstemp(prefix="ebprof-e2e-truth-")
    os.close(fd)

    def rows():
        with open(truth) as f:
            return [ln.split() for ln in f if ln.strip()]
    try:
        os.environ[var] = truth
        yield rows
    finally:
        os.environ.pop(var, None)
        os.unlink(truth)


def run_json_truth(var, args, timeout=120):
    """run_json with a workload that writes its own ground truth to the
    file named in environment variable var: returns (CompletedProcess,
    doc, the file's lines split in fields)."""
    with truth_file(var) as rows:
        r, doc = run_json(args, timeout=timeout)
        return r, doc, rows()


class CpuHogs:
    """Context manager: one busy process per CPU for its duration, so a
    test runs with the CPUs loaded; killed on the way out, whatever
    happened."""

    def __enter__(self):
        self.procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
                      for _ in range(os.cpu_count() or 1)]
        return self

    def __exit__(self, *exc):
        for p in self.procs:
            p.kill()
            p.wait()
        return False


def wait_profiling(proc, timeout=120):
    """Reads an ebprof started with -v and stderr=PIPE until it says it is
    profiling (every probe attached); returns the lines read."""
    lines = []
    deadline = time.monotonic() + timeout
    for line in proc.stderr:
        lines.append(line)
        if line.startswith("ebprof: profiling pid ") or time.monotonic() > deadline:
            break
    return lines


def calibration_run(args, name="func"):
    """Runs ebprof --format json with the governor off (args: the -f and
    the command) and returns its report name: what a probe hit costs here
    (info probe_cost_ns, as calibrated or overridden with --probe-cost /
    EBPROF_PROBE_COST_NS) and the overhead the governor estimated
    (info peak_overhead_pct), from which governor tests size their budgets
    and call rates."""
    r, doc = run_json(EXACT + list(args))
    if r.returncode != 0:
        raise RuntimeError(f"calibration run failed: {r.stderr}")
    rep = report(doc, name)
    print(f"  info: calibration: probe cost {rep['info']['probe_cost_ns']:.0f} ns "
          f"({rep['info']['probe_cost_source']}), peak estimate "
          f"{rep['info']['peak_overhead_pct']:.1f}%", flush=True)
    return rep


def report(doc, name):
    for rep in doc["reports"]:
        if rep["report"] == name:
            return rep
    raise KeyError(f"report {name} not in output")


def table(rep, name):
    """A table as a list of dicts keyed by column key."""
    for t in rep["tables"]:
        if t["name"] == name:
            keys = [c["key"] for c in t["columns"]]
            return [dict(zip(keys, row)) for row in t["rows"]]
    raise KeyError(f"table {name} not in report {rep['report']}")


def metric_index(rep, name):
    return [x["name"] for x in rep["metrics"]].index(name)


def node_totals(rep, metric):
    """Inclusive value of metric per function name, from the call graph."""
    m = metric_index(rep, metric)
    out = {}
    for n in rep["nodes"]:
        f = rep["frames"][n["frame"]]
        if f["func"]:
            out[f["func"]] = out.get(f["func"], 0) + n["total"][m]
    return out


def info(rep, key):
    return rep["info"][key]


def check(cond, what, detail=""):
    status = "ok  " if cond else "FAIL"
    print(f"  {status} {what}" + (f"  [{detail}]" if detail != "" else ""), flush=True)
    if not cond:
        _failures.append(what)


def near(actual, expected, rel, what):
    ok = expected != 0 and abs(actual - expected) <= rel * abs(expected)
    check(ok, f"{what}: {actual} within {rel*100:.0f}% of {expected}")


def within(actual, lo, hi, what):
    check(lo <= actual <= hi, f"{what}: {actual} in [{lo}, {hi}]")


def equal(actual, expected, what):
    check(actual == expected, f"{what}: {actual} == {expected}")


def start(args, gated=False):
    """Starts a workload in the background (own process group).  gated: it
    was given START "sig"; return once it waits at its gate (in sigwait,
    so also after any exec in between, as through chroot)."""
    p = subprocess.Popen(args, start_new_session=True)
    _our_pids.add(p.pid)
    if gated:
        deadline = time.time() + 10
        while time.time() < deadline and not _at_gate(p.pid):
            time.sleep(0.01)
        if not _at_gate(p.pid):
            stop(p)
            raise RuntimeError(f"{args[0]} did not reach its start gate")
    return p


def _at_gate(pid):
    """The main thread sleeps in sigwait (rt_sigtimedwait)."""
    try:
        with open(f"/proc/{pid}/wchan") as f:
            return "sigtimedwait" in f.read()
    except OSError:
        return False


def popen_ebprof(args, **kw):
    """Starts ebprof in the background (its pid counts as ours)."""
    p = subprocess.Popen([EBPROF] + list(args), **kw)
    _our_pids.add(p.pid)
    return p


def stop(proc):
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def finish():
    """Ends the test: exit 1 if any check failed."""
    if _failures:
        print(f"  {len(_failures)} check(s) failed", flush=True)
        sys.exit(1)
    print("  passed", flush=True)
    sys.exit(0)
