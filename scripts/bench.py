#!/usr/bin/env python3
"""ebprof overhead benchmarks against perf, bpftrace and libbpf-tools.

Run as root from the repository root after `make` (`make bench`, as root, does
both).  One run measures, with the repetitions of every configuration
interleaved (round-robin, rotating order) so slow drift of the machine
spreads evenly over them:

  cpu     slowdown of a fixed CPU-bound workload (build/workloads/fixedwork,
          which times its own work loop) under ebprof cpu, perf record -g and
          bpftrace profile at 99 and 4999 Hz; each profiler's peak RSS and
          CPU time; ebprof's time from start to the first sample
  func    added cost per traced call of a tiny function (fixedwork -c N)
          under ebprof -f (entry+return), ebprof --count-only, bpftrace
          uprobe+uretprobe and libbpf-tools funclatency
  net     throughput loss of a loopback bulk transfer in 64 KiB writes and
          in 1 KiB writes, and added time per message of a 1 KiB
          request/response loop
          (build/workloads/netbench, which times its own transfer) under
          ebprof net and under bpftrace summing sock_send_length /
          sock_recv_length by socket (tracefs is mounted for it when
          absent, and unmounted at exit)
  vm      slowdown of the light memory layer: the default run (cpu + vm),
          cpu alone and vm alone against no profiler, attached with -p to
          memloop (malloc-heavy) and to fixedwork (steady state), timed
          from the target's release to its exit; also the target's CPU
          time and its time waiting for a CPU (schedstat), and ebprof's
          CPU in total and while the target ran
  attach  time to attach N = 10, 100, 1000 functions (entry and return
          probes; generated program with 1000 functions) and the time to
          tear them down again; bpftrace with entry probes for comparison
  entry   how long a launched command is held at its entry point while the
          collectors read its mappings (/bin/true and memcxx; cpu, cpu + vm,
          mem + vm), and ebprof's wall time for the whole command

Every process is started in its own session and killed by process group on
any exit path, so nothing is left running.  A peer tool that is not
installed is skipped with one line (scripts/deps.sh installs them).
Results: tables on stdout, plus --json FILE for the raw numbers."""
import argparse
import atexit
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EBPROF = os.path.join(ROOT, "ebprof")
FIXEDWORK = os.path.join(ROOT, "build", "workloads", "fixedwork")
MEMBENCH = os.path.join(ROOT, "build", "workloads", "membench")
NETBENCH = os.path.join(ROOT, "build", "workloads", "netbench")
TRACEFS = "/sys/kernel/tracing"
BENCH_DIR = os.path.join(ROOT, "build", "bench")

LIVE = {}          # pid -> Popen of every process group we started
TMP = None         # scratch directory, removed at exit
MOUNTED = []       # tracefs mounted for bpftrace, unmounted at exit


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- processes

def cleanup():
    for pid in list(LIVE):
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
        LIVE.pop(pid, None)
    while MOUNTED:
        subprocess.run(["umount", MOUNTED.pop()], stderr=subprocess.DEVNULL)
    if TMP and os.path.isdir(TMP):
        shutil.rmtree(TMP, ignore_errors=True)


def on_signal(signum, _frame):
    cleanup()
    sys.exit(128 + signum)


def start(cmd, stdin=None, stdout=None, stderr=None):
    p = subprocess.Popen(cmd, stdin=stdin, stdout=stdout, stderr=stderr,
                         start_new_session=True, close_fds=True)
    LIVE[p.pid] = p
    return p


def reap(p, timeout):
    """wait4() the process with a deadline; returns (status, rusage, wall
    seconds since the call, timed_out).  On timeout the whole process group
    is killed first."""
    timed_out = []

    def kill():
        timed_out.append(1)
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    timer = threading.Timer(timeout, kill)
    timer.start()
    try:
        while True:
            try:
                _, status, ru = os.wait4(p.pid, 0)
                break
            except InterruptedError:
                continue
    finally:
        timer.cancel()
    p.returncode = os.waitstatus_to_exitcode(status)
    # Anything left in its process group (a child it did not reap) goes too.
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    LIVE.pop(p.pid, None)
    return p.returncode, ru, bool(timed_out)


class LineWatcher(threading.Thread):
    """Reads a pipe line by line and timestamps each line (monotonic)."""

    def __init__(self, pipe):
        super().__init__(daemon=True)
        self.pipe = pipe
        self.lines = []            # (t, text)
        self.cond = threading.Condition()

    def run(self):
        for raw in iter(self.pipe.readline, b""):
            with self.cond:
                self.lines.append((time.monotonic(),
                                   raw.decode(errors="replace").rstrip("\n")))
                self.cond.notify_all()
        with self.cond:
            self.lines.append((time.monotonic(), None))
            self.cond.notify_all()

    def wait_for(self, pattern, timeout):
        rx = re.compile(pattern)
        end = time.monotonic() + timeout
        with self.cond:
            seen = 0
            while True:
                for t, text in self.lines[seen:]:
                    if text is None:
                        return None, None
                    m = rx.search(text)
                    if m:
                        return t, m
                seen = len(self.lines)
                left = end - time.monotonic()
                if left <= 0:
                    return None, None
                self.cond.wait(left)

    def text(self):
        with self.cond:
            return "\n".join(t for _, t in self.lines if t is not None)


# fixedwork and netbench both time their own work and print this line.
FW_RX = re.compile(r"(?:fixedwork|netbench|membench): work_ns=(\d+) cpu_ns=(\d+) calls=(\d+)")


def run_measured(cmd, timeout, workload_stdin=None, go=None):
    """Runs cmd (a profiler launching fixedwork, or fixedwork itself) and
    returns a dict: work_ns and fw_cpu_ns from fixedwork's line, the
    process tree's rusage (the profiler plus the workload it reaped), wall
    time, exit status, stderr tail.  go(proc) is called right after start
    (for profilers attaching with -p)."""
    out = open(os.path.join(TMP, "out"), "w+b")
    err = open(os.path.join(TMP, "err"), "w+b")
    t0 = time.monotonic()
    p = start(cmd, stdin=workload_stdin, stdout=out, stderr=err)
    hwm = HwmPoller(p.pid)
    hwm.start()
    rc, ru, timed_out = reap(p, timeout)
    wall = time.monotonic() - t0
    hwm.stop()
    out.seek(0)
    err.seek(0)
    stdout = out.read().decode(errors="replace")
    stderr = err.read().decode(errors="replace")
    out.close()
    err.close()
    r = finish_record(cmd, rc, ru, wall, timed_out, stdout, stderr)
    r["vmhwm_kb"] = hwm.kb
    return r


class HwmPoller(threading.Thread):
    """Polls VmHWM (peak RSS) of one process every 20 ms: the profiler's own
    peak, without the workload it launched (whose maxrss wait4 would merge
    in).  The last read before exit stands; only the final ~20 ms of a run
    can go unseen."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.path = "/proc/%d/status" % pid
        self.kb = None
        self.done = threading.Event()

    def run(self):
        while not self.done.is_set():
            try:
                with open(self.path) as f:
                    for line in f:
                        if line.startswith("VmHWM:"):
                            kb = int(line.split()[1])
                            self.kb = max(self.kb or 0, kb)
                            break
            except (OSError, ValueError):
                pass
            self.done.wait(0.02)

    def stop(self):
        self.done.set()
        self.join(1)


def finish_record(cmd, rc, ru, wall, timed_out, stdout, stderr):
    r = {"cmd": cmd, "rc": rc, "wall_s": wall, "timed_out": timed_out,
         "cpu_s": (ru.ru_utime + ru.ru_stime) if ru else None,
         "maxrss_kb": ru.ru_maxrss if ru else None,
         "stderr": stderr[-2000:]}
    m = FW_RX.search(stdout)
    if m:
        r["work_ns"] = int(m.group(1))
        r["fw_cpu_ns"] = int(m.group(2))
        r["calls"] = int(m.group(3))
    m = re.search(r"first sample within ([\d.]+) ms", stderr)
    if m:
        r["first_sample_ms"] = float(m.group(1))
    if timed_out:
        r["error"] = "timed out"
    elif "work_ns" not in r:
        lines = [l for l in stderr.strip().splitlines() if l.strip()]
        r["error"] = "exit %d: %s" % (rc, lines[-1] if lines else "no output")
    return r


# ---------------------------------------------------------------- peers

def have_tool(name, probe):
    path = shutil.which(name)
    if not path:
        return None, "%s not installed (scripts/deps.sh installs it)" % name
    try:
        cp = subprocess.run([path] + probe, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, "%s unusable: %s" % (name, e)
    if cp.returncode != 0:
        first = cp.stdout.decode(errors="replace").strip().splitlines()
        return None, "%s unusable: %s" % (name, first[0] if first else
                                          "exit %d" % cp.returncode)
    return path, None


# ---------------------------------------------------------------- stats

def med(xs):
    return statistics.median(xs) if xs else None


def spread_pct(xs):
    """(max - min) / median in percent."""
    if len(xs) < 2:
        return 0.0
    m = statistics.median(xs)
    return 100.0 * (max(xs) - min(xs)) / m if m else 0.0


def interleaved(configs, reps, run_one, label):
    """configs: list of (name, fn) where fn() returns a record.  Runs reps
    rounds; round r starts at config r mod len, so no config is always
    first or last.  Returns name -> list of records."""
    res = {name: [] for name, _ in configs}
    n = len(configs)
    for r in range(reps):
        for k in range(n):
            name, fn = configs[(r + k) % n]
            rec = run_one(fn)
            res[name].append(rec)
            status = ("%.3f s" % (rec["work_ns"] / 1e9)
                      if "work_ns" in rec else rec.get("error", "?"))
            log("  %s rep %d/%d %-22s %s" % (label, r + 1, reps, name, status))
    return res


def table(headers, rows):
    w = [len(h) for h in headers]
    srows = [[("" if c is None else str(c)) for c in row] for row in rows]
    for row in srows:
        for i, c in enumerate(row):
            w[i] = max(w[i], len(c))
    line = "| " + " | ".join(h.ljust(w[i]) for i, h in enumerate(headers)) + " |"
    sep = "|" + "|".join("-" * (x + 2) for x in w) + "|"
    out = [line, sep]
    for row in srows:
        out.append("| " + " | ".join(c.ljust(w[i]) for i, c in enumerate(row)) + " |")
    return "\n".join(out)


def fmt(x, spec):
    return "-" if x is None else format(x, spec)


# ---------------------------------------------------------------- cpu

def bench_cpu(args, tools, results):
    rounds = str(args.rounds)
    fw = [FIXEDWORK, "-n", rounds]
    configs = [("baseline", fw)]
    for hz in (99, 4999):
        configs.append(("ebprof %d Hz" % hz,
                        [EBPROF, "-v", "-F", str(hz), "cpu", "-o", "/dev/null",
                         "--"] + fw))
    # The same rates with another ebprof build (--compare-ebprof), in the
    # same interleaved run: e.g. one from before a change to the cpu
    # collector, to show what the change costs.
    for hz in (99, 4999):
        if args.compare_ebprof:
            configs.append(("compared ebprof %d Hz" % hz,
                            [args.compare_ebprof, "-v", "-F", str(hz), "cpu", "-o",
                             "/dev/null", "--"] + fw))
    for hz in (99, 4999):
        if tools.get("perf"):
            configs.append(("perf %d Hz" % hz,
                            [tools["perf"], "record", "-e", "cpu-clock", "-g",
                             "-F", str(hz), "-q", "-o",
                             os.path.join(TMP, "perf.data"), "--"] + fw))
    for hz in (99, 4999):
        if tools.get("bpftrace"):
            prog = "profile:hz:%d /pid == cpid/ { @[ustack] = count(); }" % hz
            configs.append(("bpftrace %d Hz" % hz,
                            [tools["bpftrace"], "-o",
                             os.path.join(TMP, "bpftrace.out"), "-e", prog,
                             "-c", " ".join(fw)]))
    log("cpu: %d configurations x %d repetitions" % (len(configs), args.reps))
    res = interleaved([(n, c) for n, c in configs], args.reps,
                      lambda c: run_measured(c, args.timeout, subprocess.DEVNULL),
                      "cpu")
    base = med([r["work_ns"] for r in res["baseline"] if "work_ns" in r])
    summary = []
    for name, _ in configs:
        recs = res[name]
        ok = [r for r in recs if "work_ns" in r]
        row = {"name": name, "runs": len(ok), "failed": len(recs) - len(ok)}
        if not ok:
            row["error"] = recs[0].get("error") if recs else "no runs"
            summary.append(row)
            continue
        works = [r["work_ns"] / 1e9 for r in ok]
        row["work_s"] = med(works)
        row["spread_pct"] = spread_pct(works)
        row["ratio"] = row["work_s"] * 1e9 / base if base else None
        if name != "baseline":
            prof_cpu = [r["cpu_s"] - r["fw_cpu_ns"] / 1e9 for r in ok]
            row["profiler_cpu_s"] = med(prof_cpu)
            row["profiler_cpu_pct"] = 100.0 * med(
                [(r["cpu_s"] - r["fw_cpu_ns"] / 1e9) / (r["work_ns"] / 1e9)
                 for r in ok])
            hw = [r["vmhwm_kb"] / 1024.0 for r in ok if r.get("vmhwm_kb")]
            row["peak_rss_mb"] = med(hw)
        fs = [r["first_sample_ms"] for r in ok if "first_sample_ms" in r]
        if fs:
            row["first_sample_ms"] = med(fs)
            row["first_sample_max_ms"] = max(fs)
        summary.append(row)
    results["cpu"] = {"runs": res, "summary": summary, "rounds": args.rounds}

    rows = []
    for s in summary:
        if "error" in s:
            rows.append([s["name"], "failed: " + s["error"], "", "", "", "", "", ""])
            continue
        rows.append([s["name"], fmt(s["work_s"], ".3f"),
                     "%.1f %%" % s["spread_pct"],
                     fmt(s["ratio"], ".4f"),
                     fmt(s.get("profiler_cpu_s"), ".3f"),
                     fmt(s.get("profiler_cpu_pct"), ".2f"),
                     fmt(s.get("peak_rss_mb"), ".1f"),
                     fmt(s.get("first_sample_ms"), ".1f")])
    out = ["### CPU report overhead (fixedwork -n %d, median of %d)" %
           (args.rounds, args.reps), "",
           table(["configuration", "work s", "spread", "slowdown",
                  "profiler CPU s", "profiler CPU % of work",
                  "peak RSS MB", "first sample ms"], rows)]
    by = {s["name"]: s for s in summary}
    goals = []
    e99 = by.get("ebprof 99 Hz", {}).get("ratio")
    if e99:
        goals.append("goal <= 1 %% slowdown at 99 Hz: %+.2f %% -> %s" %
                     (100 * (e99 - 1), "met" if e99 <= 1.01 else "MISSED"))
    e4, p4 = by.get("ebprof 4999 Hz", {}).get("ratio"), by.get("perf 4999 Hz", {}).get("ratio")
    if e4 and p4:
        goals.append("goal no slower than perf at 4999 Hz: ebprof %+.2f %%, "
                     "perf %+.2f %% -> %s" % (100 * (e4 - 1), 100 * (p4 - 1),
                                              "met" if e4 <= p4 + 0.005 else "MISSED"))
    out += [""] + goals
    return "\n".join(out)


# ---------------------------------------------------------------- func

def run_funclatency(tool, n, timeout):
    """funclatency needs a running pid: start fixedwork waiting on stdin,
    attach, wait for 'Tracing', let the work run, then SIGINT the tool."""
    out = open(os.path.join(TMP, "out"), "w+b")
    fw = start([FIXEDWORK, "-w", "-c", str(n)], stdin=subprocess.PIPE,
               stdout=out, stderr=subprocess.DEVNULL)
    t0 = time.monotonic()
    # stdbuf: the 'Tracing' line must not sit in a pipe's stdio buffer.
    stdbuf = shutil.which("stdbuf")
    pre = [stdbuf, "-oL"] if stdbuf else []
    tool_p = start(pre + [tool, "-p", str(fw.pid), ":tiny_call"],
                   stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                   stderr=subprocess.STDOUT)
    watch = LineWatcher(tool_p.stdout)
    watch.start()
    t_ready, _ = watch.wait_for(r"^Tracing", 30)
    if t_ready is None:
        fw.stdin.close()
        reap(fw, 5)
        rc, ru, _ = reap(tool_p, 5)
        out.close()
        lines = watch.text().strip().splitlines()
        return {"error": "funclatency did not attach: %s" %
                (lines[-1] if lines else "exit %s" % rc)}
    fw.stdin.write(b"go\n")
    fw.stdin.close()
    reap(fw, timeout)
    os.killpg(tool_p.pid, signal.SIGINT)
    rc, ru, timed_out = reap(tool_p, 30)
    watch.join(5)
    wall = time.monotonic() - t0
    out.seek(0)
    stdout = out.read().decode(errors="replace")
    out.close()
    r = finish_record(["funclatency", "-p", "PID", ":tiny_call"], rc, ru, wall,
                      timed_out, stdout, watch.text())
    # Hits seen: the histogram counts.
    r["seen_calls"] = sum(int(c) for c in re.findall(
        r"^\s*\d+ -> \d+\s*: (\d+)", watch.text(), re.M))
    return r


def bench_mem(args, tools, results):
    """mem's exact layer: added cost per malloc + free pair (membench N,
    64-byte blocks) under ebprof mem, bpftrace doing the same work (entry
    probe saving the size, return probe counting by user stack and
    keeping the block, free's probe dropping it) and heaptrack, against
    the same loop unprobed; interleaved repetitions, medians and spreads.
    Then ebprof's own peak RSS with --mem-blocks outstanding blocks."""
    n = args.mem_pairs
    mb = [MEMBENCH, str(n)]
    jpath = os.path.join(TMP, "mem.json")
    ebp = [EBPROF, "--max-overhead", "0", "--format", "json", "-o", jpath, "mem", "--"]
    configs = [("no probes", lambda: run_measured(mb, args.timeout, subprocess.DEVNULL)),
               ("ebprof mem", lambda: run_measured(ebp + mb, args.timeout,
                                                   subprocess.DEVNULL))]
    if tools.get("bpftrace"):
        libc = "/lib/x86_64-linux-gnu/libc.so.6"
        prog = ("uprobe:%s:malloc /pid == cpid/ { @sz[tid] = arg0; } "
                "uretprobe:%s:malloc /pid == cpid && @sz[tid]/ { @sites[ustack] = count(); "
                "@blk[retval] = @sz[tid]; delete(@sz[tid]); } "
                "uprobe:%s:free /pid == cpid/ { delete(@blk[arg0]); } "
                "END { clear(@blk); }" % (libc, libc, libc))
        bt = [tools["bpftrace"], "-o", os.path.join(TMP, "bpftrace.out"), "-e", prog,
              "-c", " ".join(mb)]
        configs.append(("bpftrace malloc/free by ustack",
                        lambda: run_measured(bt, args.timeout, subprocess.DEVNULL)))
    ht = shutil.which("heaptrack")
    if ht:
        configs.append(("heaptrack", lambda: run_measured(
            [ht, "-o", os.path.join(TMP, "heaptrack.mem")] + mb, args.timeout,
            subprocess.DEVNULL)))
    log("mem: %d configurations x %d repetitions, %d pairs" % (len(configs), args.reps, n))
    res = interleaved(configs, args.reps, lambda fn: fn(), "mem")
    base = med([r["work_ns"] for r in res["no probes"] if "work_ns" in r])
    rows, summary = [], []
    for name, _ in configs:
        ok = [r for r in res[name] if "work_ns" in r and "error" not in r]
        if not ok:
            err = res[name][0].get("error") if res[name] else "no runs"
            summary.append({"name": name, "error": err})
            rows.append([name, "failed: %s" % err, "", "", "", ""])
            continue
        works = [r["work_ns"] for r in ok]
        row = {"name": name, "runs": len(ok), "work_s": med(works) / 1e9,
               "spread_pct": spread_pct(works), "ratio": med(works) / base if base else None}
        if name != "no probes" and base:
            row["ns_per_pair"] = (med(works) - base) / n
            row["ns_per_pair_range"] = [(min(works) - base) / n, (max(works) - base) / n]
        summary.append(row)
        rng = row.get("ns_per_pair_range")
        rows.append([name, fmt(row["work_s"], ".3f"), "%.1f %%" % row["spread_pct"],
                     fmt(row["ratio"], ".1f"), fmt(row.get("ns_per_pair"), ".0f"),
                     "%.0f - %.0f" % tuple(rng) if rng else "-"])
    out = ["### Memory report (mem): added cost per malloc + free pair "
           "(membench %d, median of %d)" % (n, args.reps), "",
           table(["configuration", "work s", "spread", "x unprobed", "ns per pair",
                  "ns per pair min - max"], rows)]
    by = {x["name"]: x for x in summary}
    e = by.get("ebprof mem", {}).get("ns_per_pair")
    b = by.get("bpftrace malloc/free by ustack", {}).get("ns_per_pair")
    if e and b:
        out += ["", "goal ebprof mem no more than bpftrace: %.0f vs %.0f ns -> %s"
                % (e, b, "met" if e <= b * 1.02 else "MISSED")]

    # Peak RSS of ebprof itself with many outstanding blocks tracked.
    k = args.mem_blocks
    r = run_measured(ebp + [MEMBENCH, str(k), "keep"], args.timeout * 4, subprocess.DEVNULL)
    tracked = None
    try:
        with open(jpath) as f:
            rep_ = json.load(f)["reports"][0]
        tracked = rep_["info"].get("alloc_calls")
    except (OSError, ValueError, KeyError, IndexError):
        pass
    out += ["", "ebprof mem with %d outstanding blocks (membench %d keep): peak RSS of ebprof "
            "%s KiB, allocations booked %s%s" % (k, k, r.get("vmhwm_kb"), tracked,
                                                 "" if "error" not in r else
                                                 ", failed: " + r["error"])]
    results["mem"] = {"runs": res, "summary": summary, "pairs": n,
                      "blocks_run": r, "blocks": k}
    return "\n".join(out)


def bench_func(args, tools, results):
    n = args.calls
    fw = [FIXEDWORK, "-c", str(n)]
    jpath = os.path.join(TMP, "func.json")

    def ebprof_cmd(extra):
        return [EBPROF, "-f", "tiny_call", "--max-overhead", "0"] + extra + \
               ["--format", "json", "-o", jpath, "--"] + fw

    def run_ebprof(extra):
        def fn():
            if os.path.exists(jpath):
                os.unlink(jpath)
            r = run_measured(ebprof_cmd(extra), args.timeout, subprocess.DEVNULL)
            try:
                with open(jpath) as f:
                    doc = json.load(f)
                rep = doc["reports"][0]
                r["probe_hits"] = rep["info"].get("probe_hits")
                t = rep["tables"][0]
                col = [c["key"] for c in t["columns"]].index("calls")
                r["seen_calls"] = sum(row[col] for row in t["rows"])
            except (OSError, ValueError, KeyError, IndexError) as e:
                r.setdefault("error", "no json report: %s" % e)
            return r
        return fn

    configs = [("no probes", lambda: run_measured(fw, args.timeout, subprocess.DEVNULL)),
               ("ebprof -f", run_ebprof([])),
               ("ebprof -f --count-only", run_ebprof(["--count-only"]))]
    if tools.get("bpftrace"):
        prog = ("uprobe:%s:tiny_call { @s[tid] = nsecs; } "
                "uretprobe:%s:tiny_call /@s[tid]/ { @h = hist(nsecs - @s[tid]); "
                "delete(@s[tid]); }" % (FIXEDWORK, FIXEDWORK))
        bt = [tools["bpftrace"], "-o", os.path.join(TMP, "bpftrace.out"),
              "-e", prog, "-c", " ".join(fw)]
        configs.append(("bpftrace uprobe+uretprobe",
                        lambda: run_measured(bt, args.timeout, subprocess.DEVNULL)))
    if tools.get("funclatency"):
        configs.append(("funclatency",
                        lambda: run_funclatency(tools["funclatency"], n, args.timeout)))
    log("func: %d configurations x %d repetitions, %d calls" %
        (len(configs), args.reps, n))
    res = interleaved(configs, args.reps, lambda fn: fn(), "func")
    base = med([r["work_ns"] for r in res["no probes"] if "work_ns" in r])
    summary = []
    for name, _ in configs:
        recs = res[name]
        ok = [r for r in recs if "work_ns" in r and "error" not in r]
        row = {"name": name, "runs": len(ok), "failed": len(recs) - len(ok)}
        if not ok:
            row["error"] = recs[0].get("error") if recs else "no runs"
            summary.append(row)
            continue
        works = [r["work_ns"] for r in ok]
        row["work_s"] = med(works) / 1e9
        row["spread_pct"] = spread_pct(works)
        if name != "no probes" and base:
            row["ns_per_call"] = (med(works) - base) / n
            row["ns_per_call_range"] = [(min(works) - base) / n, (max(works) - base) / n]
        seen = [r["seen_calls"] for r in ok if r.get("seen_calls") is not None]
        if seen:
            row["seen_calls"] = min(seen)
        summary.append(row)
    results["func"] = {"runs": res, "summary": summary, "calls": n}

    rows = []
    for s in summary:
        if "error" in s:
            rows.append([s["name"], "failed: " + s["error"], "", "", "", ""])
            continue
        rng = s.get("ns_per_call_range")
        rows.append([s["name"], fmt(s["work_s"], ".3f"), "%.1f %%" % s["spread_pct"],
                     fmt(s.get("ns_per_call"), ".0f"),
                     "%.0f - %.0f" % tuple(rng) if rng else "-",
                     s.get("seen_calls", "-")])
    out = ["### Exact function tracing: added cost per call "
           "(fixedwork -c %d, median of %d)" % (n, args.reps), "",
           table(["configuration", "work s", "spread", "ns per call",
                  "ns per call min - max", "calls seen"], rows)]
    by = {s["name"]: s for s in summary}
    e = by.get("ebprof -f", {}).get("ns_per_call")
    c = by.get("ebprof -f --count-only", {}).get("ns_per_call")
    f = by.get("funclatency", {}).get("ns_per_call")
    out.append("")
    if e and f:
        out.append("goal ebprof -f no more than funclatency: %.0f vs %.0f ns -> %s"
                   % (e, f, "met" if e <= f * 1.02 else "MISSED"))
    if e and c:
        out.append("goal --count-only about half: %.0f / %.0f = %.2f -> %s"
                   % (c, e, c / e, "met" if c / e <= 0.6 else "MISSED"))
    return "\n".join(out)


# ---------------------------------------------------------------- net

def tracefs_ready():
    """bpftrace's tracepoint: probes read their format from tracefs (ebprof
    needs none).  Mounts it when absent, to be unmounted at exit; returns
    None, or why bpftrace cannot run."""
    if os.path.isdir(os.path.join(TRACEFS, "events")):
        return None
    cp = subprocess.run(["mount", "-t", "tracefs", "nodev", TRACEFS],
                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if cp.returncode != 0:
        return "tracefs not mounted and mount failed: %s" % \
            cp.stdout.decode(errors="replace").strip()
    MOUNTED.append(TRACEFS)
    return None


def net_summary(res, name, base):
    """Medians and spreads of one configuration's wall time (work_ns) and
    the target's own CPU time (fw_cpu_ns: the BPF programs run in its
    system calls, so their cost is there, whatever else loads the
    machine), each with its ratio to and its excess over base's."""
    ok = [r for r in res[name] if "work_ns" in r]
    row = {"name": name, "runs": len(ok), "failed": len(res[name]) - len(ok)}
    if not ok:
        row["error"] = res[name][0].get("error") if res[name] else "no runs"
        return row
    row["calls"] = min(r["calls"] for r in ok)
    for key in ("work_ns", "fw_cpu_ns"):
        xs = [r[key] for r in ok]
        row[key] = med(xs)
        row[key + "_spread_pct"] = spread_pct(xs)
        if base and base.get(key):
            row[key + "_ratio"] = med(xs) / base[key]
            row[key + "_added"] = med(xs) - base[key]
    return row


BPF_STATS = "/proc/sys/kernel/bpf_stats_enabled"


def bpf_prog_costs(cmd, names, timeout):
    """Runs cmd with the kernel's BPF run-time statistics on; returns
    {program name: (run_cnt, run_time_ns)} of the programs named (prefix
    match) as last seen while cmd ran (bpftool, every 0.2 s: the counts
    stop a little before the end).  A program's own time per event, in
    the kernel's accounting: load on the machine changes it far less than
    wall or CPU time.  Statistics off again after."""
    with open(BPF_STATS) as f:
        was = f.read().strip()
    with open(BPF_STATS, "w") as f:
        f.write("1")
    last = {}
    try:
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        t0 = time.monotonic()
        while p.poll() is None and time.monotonic() - t0 < timeout:
            cp = subprocess.run(["bpftool", "-j", "prog", "show"], stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True)
            try:
                progs = json.loads(cp.stdout or "[]")
            except ValueError:
                progs = []
            for x in progs:
                if x.get("run_cnt") and any(x.get("name", "").startswith(n) for n in names):
                    last[(x["id"], x["name"])] = (x["run_cnt"], x["run_time_ns"])
            time.sleep(0.2)
        if p.poll() is None:
            p.kill()
        p.wait()
    finally:
        with open(BPF_STATS, "w") as f:
            f.write(was)
    return {name: v for (_, name), v in last.items()}


def net_prog_rows(configs, args):
    """Per-event cost of the send and receive programs of ebprof and
    bpftrace in the rr configurations, args.reps runs each, interleaved:
    median ns per run of each program."""
    got = {}
    for rep in range(args.reps):
        for name, cmd in configs:
            if not name.startswith("rr ") or "baseline" in name:
                continue
            for prog, (cnt, ns) in bpf_prog_costs(
                    cmd, ("net_send", "net_recv", "sock_send_lengt", "sock_recv_lengt"),
                    args.timeout).items():
                got.setdefault((name, prog), []).append(ns / cnt)
    return [[name, prog, "%.1f" % med(xs), "%.1f %%" % spread_pct(xs)]
            for (name, prog), xs in sorted(got.items())]


def bench_net(args, tools, results):
    if not os.access(NETBENCH, os.X_OK):
        raise RuntimeError("%s missing; run make first" % os.path.relpath(NETBENCH, ROOT))
    bt_prog = ("tracepoint:sock:sock_send_length /pid == cpid/ "
               "{ @tx[args->sk] = sum(args->ret); } "
               "tracepoint:sock:sock_recv_length /pid == cpid/ "
               "{ @rx[args->sk] = sum(args->ret); }")
    bt = tools.get("bpftrace")
    if bt:
        why = tracefs_ready()
        if why:
            print("skip: bpftrace in net: " + why, flush=True)
            bt = None
    modes = [("bulk", ["bulk", "65536", str(args.net_bytes)]),
             ("bulk1k", ["bulk", "1024", str(args.net_bytes_1k)]),
             ("rr", ["rr", "1024", str(args.net_msgs)])]
    configs = []
    for mode, margs in modes:
        wl = [NETBENCH] + margs
        configs.append(("%s baseline" % mode, wl))
        configs.append(("%s ebprof net" % mode,
                        [EBPROF, "net", "-o", "/dev/null", "--"] + wl))
        if mode == "rr":  # the fallback: raw_tp programs, slots through a hash
            configs.append(("rr ebprof net (hash)",
                            ["env", "EBPROF_NO_SK_STORAGE=1", EBPROF, "net", "-o",
                             "/dev/null", "--"] + wl))
        if mode in ("rr", "bulk1k") and args.compare_ebprof:  # another build, same run
            configs.append(("%s ebprof OLD net" % mode,
                            [args.compare_ebprof, "net", "-o", "/dev/null", "--"] + wl))
        if bt:
            configs.append(("%s bpftrace" % mode,
                            [bt, "-o", os.path.join(TMP, "bpftrace.out"), "-e",
                             bt_prog, "-c", " ".join(wl)]))
    log("net: %d configurations x %d repetitions" % (len(configs), args.reps))
    res = interleaved(configs, args.reps,
                      lambda c: run_measured(c, args.timeout, subprocess.DEVNULL),
                      "net")
    by = {}
    for name, _ in configs:
        mode = name.split()[0]
        by[name] = net_summary(res, name, net_summary(res, mode + " baseline", None))
    results["net"] = {"runs": res, "summary": list(by.values()),
                      "bytes": args.net_bytes, "bytes_1k": args.net_bytes_1k,
                      "messages": args.net_msgs}

    rows = []
    for name, _ in configs:
        s = by[name]
        if "error" in s:
            rows.append([name, "failed: " + s["error"]] + [""] * 7)
            continue
        per = (s["calls"] if name.startswith("bulk") else args.net_msgs) * 1e3
        rows.append([name, fmt(s["work_ns"] / 1e9, ".3f"),
                     "%.1f %%" % s["work_ns_spread_pct"], fmt(s.get("work_ns_ratio"), ".4f"),
                     fmt(s["fw_cpu_ns"] / 1e9, ".3f"), "%.1f %%" % s["fw_cpu_ns_spread_pct"],
                     fmt(s.get("fw_cpu_ns_ratio"), ".4f"),
                     fmt(s.get("work_ns_added") and s["work_ns_added"] / per, "+.2f"),
                     fmt(s.get("fw_cpu_ns_added") and s["fw_cpu_ns_added"] / per, "+.2f")])
    out = ["### Network report overhead (netbench bulk: %d bytes in 64 KiB writes; "
           "bulk1k: %d bytes in 1 KiB writes; rr: %d round trips of 1 KiB; median of %d)" %
           (args.net_bytes, args.net_bytes_1k, args.net_msgs, args.reps), "",
           table(["configuration", "work s", "spread", "work ratio", "target CPU s",
                  "spread", "CPU ratio", "added work us per op", "added CPU us per op"],
                 rows), "",
           "(op: one send() in bulk and bulk1k, one round trip in rr)", ""]
    if shutil.which("bpftool") and os.path.exists(BPF_STATS):
        out += ["Programs' own run time per event (kernel.bpf_stats_enabled, rr, "
                "median of %d):" % args.reps, "",
                table(["configuration", "program", "ns per run", "spread"],
                      net_prog_rows(configs, args)), ""]
    for key, what in (("work_ns", "wall time"), ("fw_cpu_ns", "target CPU time")):
        eb = by.get("bulk ebprof net", {}).get(key + "_ratio")
        if eb:
            loss = 100 * (1 - 1 / eb)
            out.append("goal <= 2 %% throughput loss with 64 KiB writes (%s): %.2f %% -> %s"
                       % (what, loss, "met" if loss <= 2 else "MISSED"))
        for mode, goal in (("bulk1k", True), ("rr", False)):
            er = by.get(mode + " ebprof net", {}).get(key + "_added")
            br = by.get(mode + " bpftrace", {}).get(key + "_added")
            if er is None or not br or br <= 0:
                continue
            line = "%s ebprof's added %s against bpftrace's: %.0f / %.0f ms = %.2f" % (
                mode, what, er / 1e6, br / 1e6, er / br)
            if goal:  # the goal: a bulk transfer in 1 KiB writes
                line = "goal 1 KiB writes: at most half of bpftrace's added time, " + line + \
                    " -> " + ("met" if er <= br / 2 else "MISSED")
            out.append(line)
    return "\n".join(out)


# ---------------------------------------------------------------- attach

def build_manyfuncs():
    os.makedirs(BENCH_DIR, exist_ok=True)
    src = os.path.join(BENCH_DIR, "manyfuncs.c")
    binp = os.path.join(BENCH_DIR, "manyfuncs")
    gen = os.path.join(ROOT, "scripts", "gen-manyfuncs.py")
    with open(src + ".tmp", "w") as f:
        subprocess.run([sys.executable, gen, "1000"], stdout=f, check=True)
    os.replace(src + ".tmp", src)
    cc = os.environ.get("CC", "cc")
    subprocess.run([cc, "-O2", "-g", "-fno-omit-frame-pointer", "-o", binp, src],
                   check=True)
    return binp


def run_attach(cmd, ready_rx, timeout):
    """Launches a tracer on manyfuncs; times start -> ready line on stderr
    (probes attached, target running) and start -> exit."""
    t0 = time.monotonic()
    p = start(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
              stderr=subprocess.PIPE)
    watch = LineWatcher(p.stderr)
    watch.start()
    rc, ru, timed_out = reap(p, timeout)
    t_end = time.monotonic()
    watch.join(5)
    r = {"cmd": cmd, "rc": rc, "total_s": t_end - t0, "timed_out": timed_out,
         "cpu_s": ru.ru_utime + ru.ru_stime}
    for t, text in watch.lines:
        if text is None:
            continue
        m = re.search(r"attached (\d+) functions in ([\d.]+) s", text)
        if m:
            r["functions"] = int(m.group(1))
            r["attach_s"] = float(m.group(2))
        if ready_rx and "ready_s" not in r and re.search(ready_rx, text):
            r["ready_s"] = t - t0
    if "ready_s" in r:
        r["after_ready_s"] = r["total_s"] - r["ready_s"]
    if timed_out:
        r["error"] = "timed out after %d s" % timeout
    elif rc != 0:
        lines = [l for l in watch.text().splitlines() if l.strip()]
        r["error"] = "exit %d: %s" % (rc, lines[-1] if lines else "no output")
    return r


def bench_attach(args, tools, results):
    binp = build_manyfuncs()
    pats = {10: "f000*", 100: "f00*", 1000: "f0*"}
    ns = [n for n in (10, 100, 1000) if n <= args.max_funcs]
    configs = [("baseline (no probes)", lambda: run_attach(
        [EBPROF, "-v", "cpu", "-o", "/dev/null", "--", binp],
        r"profiling pid", args.attach_timeout))]
    for n in ns:
        configs.append(("ebprof %d functions" % n, (lambda n=n: run_attach(
            [EBPROF, "-v", "-f", pats[n], "--max-overhead", "0",
             "-o", "/dev/null", "--", binp], r"profiling pid",
            args.attach_timeout))))
    if tools.get("bpftrace") and not args.no_bpftrace_attach:
        for n in ns:
            if n > args.bpftrace_max_funcs:
                continue
            prog = "uprobe:%s:%s { @c = count(); }" % (binp, pats[n])
            configs.append(("bpftrace %d functions" % n, (lambda prog=prog: run_attach(
                [tools["bpftrace"], "-e", prog, "-c", binp], None,
                args.attach_timeout))))
    reps = args.attach_reps
    log("attach: %d configurations x %d repetitions (1000 functions: %d)" %
        (len(configs), reps, min(reps, args.attach_reps_1000)))
    res = {name: [] for name, _ in configs}
    for r in range(reps):
        for name, fn in configs:
            if " 1000 " in name and r >= args.attach_reps_1000:
                continue
            rec = fn()
            res[name].append(rec)
            log("  attach rep %d/%d %-22s %s" % (
                r + 1, reps, name, rec.get("error") or
                "attach %s s, ready %s s, total %.2f s" % (
                    fmt(rec.get("attach_s"), ".3f"), fmt(rec.get("ready_s"), ".3f"),
                    rec["total_s"])))
    summary = []
    for name, _ in configs:
        recs = res[name]
        ok = [r for r in recs if "error" not in r]
        row = {"name": name, "runs": len(ok), "failed": len(recs) - len(ok)}
        if not ok:
            row["error"] = recs[0].get("error") if recs else "no runs"
            summary.append(row)
            continue
        for k in ("attach_s", "ready_s", "total_s", "after_ready_s", "cpu_s"):
            xs = [r[k] for r in ok if k in r]
            if xs:
                row[k] = med(xs)
        fs = [r["functions"] for r in ok if "functions" in r]
        if fs:
            row["functions"] = min(fs)
        summary.append(row)
    results["attach"] = {"runs": res, "summary": summary}
    rows = []
    for s in summary:
        if "error" in s:
            rows.append([s["name"], "failed: " + s["error"], "", "", "", ""])
            continue
        rows.append([s["name"], s.get("functions", "-"),
                     fmt(s.get("attach_s"), ".3f"), fmt(s.get("ready_s"), ".3f"),
                     fmt(s.get("total_s"), ".2f"), fmt(s.get("after_ready_s"), ".2f")])
    out = ["### Attach and detach time for N uprobes (manyfuncs, median of %d; "
           "1000 functions: %d)" % (reps, min(reps, args.attach_reps_1000)),
           "", table(["configuration", "functions", "attach s (reported)",
                      "start to profiling s", "total s", "after start s (run + detach)"],
                     rows)]
    by = {s["name"]: s for s in summary}
    a = by.get("ebprof 1000 functions", {})
    if a.get("attach_s") is not None:
        out += ["", "goal attach 1000 functions < 2 s: %.3f s -> %s" %
                (a["attach_s"], "met" if a["attach_s"] < 2 else "MISSED")]
    return "\n".join(out)


# ---------------------------------------------------------------- main

# ---------------------------------------------------------------- vm

MEMLOOP = os.path.join(ROOT, "build", "workloads", "memloop")


def at_sigwait(pid):
    """The main thread waits at its start gate (gate.h: sigwait)."""
    try:
        with open("/proc/%d/wchan" % pid) as f:
            return "sigtimedwait" in f.read()
    except OSError:
        return False


def schedstat(pid):
    """(CPU ns, run-queue wait ns) summed over pid's threads, from
    /proc/PID/task/*/schedstat; None when it cannot be read."""
    run = wait = 0
    try:
        for tid in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                v = f.read().split()
            run, wait = run + int(v[0]), wait + int(v[1])
    except (OSError, ValueError, IndexError):
        return None
    return run, wait


def wait_exited(pid):
    """Blocks until pid has exited, leaving it to reap (a zombie)."""
    while True:
        try:
            os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)
            return
        except InterruptedError:
            continue
        except ChildProcessError:
            return


def run_released(target, gate, prof, timeout):
    """Starts target held at its gate (gate "sig": SIGUSR1; "stdin": one
    line), attaches ebprof -p with prof's arguments (None: no profiler)
    and waits until it says it is profiling, then releases the target and
    times it from release to exit (it is our child: wait4 sees the exit).
    ebprof's start-up and report are outside the measured time."""
    tgt = start(target, stdin=subprocess.PIPE if gate == "stdin" else subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while gate == "sig" and not at_sigwait(tgt.pid):
        if time.monotonic() > deadline:
            reap(tgt, 1)
            return {"error": "target did not reach its gate"}
        time.sleep(0.01)
    prof_p = watch = None
    if prof is not None:
        prof_p = start([EBPROF, "-v", "-p", str(tgt.pid), "-o", "/dev/null"] + prof,
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE)
        watch = LineWatcher(prof_p.stderr)
        watch.start()
        t_ready, _ = watch.wait_for(r"profiling pid", 120)
        if t_ready is None:
            reap(tgt, 1)
            reap(prof_p, 30)
            lines = watch.text().strip().splitlines()
            return {"error": "ebprof did not attach: %s" % (lines[-1] if lines else "?")}
    # ebprof's own CPU while the target runs (its start-up and report
    # fall outside), and the target's time waiting for a CPU: what ebprof's
    # work beside the target can cost it on a small machine.
    p0 = schedstat(prof_p.pid) if prof_p is not None else None
    t0 = time.monotonic()
    if gate == "sig":
        os.kill(tgt.pid, signal.SIGUSR1)
    else:
        tgt.stdin.write(b"go\n")
        tgt.stdin.close()
    timer = threading.Timer(timeout, lambda: os.killpg(tgt.pid, signal.SIGKILL))
    timer.start()
    wait_exited(tgt.pid)
    timer.cancel()
    work_ns = int((time.monotonic() - t0) * 1e9)
    p1 = schedstat(prof_p.pid) if prof_p is not None else None
    tss = schedstat(tgt.pid)  # the zombie's threads, before it is reaped
    rc, tru, timed_out = reap(tgt, timeout)
    r = {"work_ns": work_ns, "rc": rc,
         "target_cpu_s": tru.ru_utime + tru.ru_stime if tru else None,
         "target_wait_s": tss[1] / 1e9 if tss else None}
    if p0 and p1:
        r["profiler_run_cpu_s"] = (p1[0] - p0[0]) / 1e9
    if prof_p is not None:
        prc, pru, _ = reap(prof_p, 60)
        watch.join(5)
        r["profiler_cpu_s"] = pru.ru_utime + pru.ru_stime if pru else None
        if prc != 0:
            lines = watch.text().strip().splitlines()
            r["error"] = "ebprof exit %d: %s" % (prc, lines[-1] if lines else "?")
    if timed_out:
        r["error"] = "timed out"
    elif rc != 0 and "error" not in r:
        r["error"] = "target exit %d" % rc
    if "error" in r:
        r.pop("work_ns", None)
    return r


def bench_vm(args, tools, results):
    """Slowdown of the light memory layer: the default run (cpu + vm),
    cpu alone and vm alone against no profiler, on a malloc-heavy loop
    (memloop: malloc + free of 64 bytes, no syscall after the first) and
    on a steady-state CPU-bound program (fixedwork)."""
    if not os.access(MEMLOOP, os.X_OK):
        return "### vm\n\nfailed: build/workloads/memloop missing; run make first"
    workloads = [
        ("memloop %d" % args.vm_allocs, [MEMLOOP, "sig", str(args.vm_allocs)], "sig"),
        ("fixedwork -n %d" % args.vm_rounds,
         [FIXEDWORK, "-w", "-n", str(args.vm_rounds)], "stdin"),
    ]
    profs = [("no profiler", None), ("ebprof cpu", ["cpu"]),
             ("ebprof default (cpu + vm)", []), ("ebprof vm", ["vm"])]
    out = ["### Light memory layer (vm) overhead (median of %d, interleaved)" % args.reps, ""]
    results["vm"] = {}
    for wname, cmd, gate in workloads:
        configs = [(pname, (lambda prof=prof, cmd=cmd, gate=gate:
                            run_released(cmd, gate, prof, args.timeout)))
                   for pname, prof in profs]
        log("vm: %s, %d configurations x %d repetitions" % (wname, len(configs), args.reps))
        res = interleaved(configs, args.reps, lambda fn: fn(), "vm " + wname.split()[0])
        base = med([r["work_ns"] for r in res["no profiler"] if "work_ns" in r])
        rows, summary, base_cpu = [], [], None
        for pname, _ in profs:
            ok = [r for r in res[pname] if "work_ns" in r]
            if not ok:
                err = res[pname][0].get("error") if res[pname] else "no runs"
                rows.append([pname, "failed: %s" % err, "", "", "", "", "", "", "", ""])
                continue
            works = [r["work_ns"] / 1e9 for r in ok]
            ratio = med(works) * 1e9 / base if base else None
            pcpu = [r["profiler_cpu_s"] for r in ok if r.get("profiler_cpu_s") is not None]
            prun = [r["profiler_run_cpu_s"] for r in ok
                    if r.get("profiler_run_cpu_s") is not None]
            twait = [r["target_wait_s"] for r in ok if r.get("target_wait_s") is not None]
            # The target's own CPU time (user + sys, from wait4): what BPF
            # programs running in its context add, less disturbed than wall
            # time by other load on the machine.
            tcpu = [r["target_cpu_s"] for r in ok if r.get("target_cpu_s") is not None]
            if pname == "no profiler":
                base_cpu = med(tcpu)
            cratio = med(tcpu) / base_cpu if tcpu and base_cpu else None
            summary.append({"name": pname, "work_s": med(works), "ratio": ratio,
                            "spread_pct": spread_pct(works), "runs": len(ok),
                            "profiler_cpu_s": med(pcpu), "target_cpu_s": med(tcpu),
                            "target_cpu_spread_pct": spread_pct(tcpu),
                            "cpu_ratio": cratio, "profiler_run_cpu_s": med(prun),
                            "target_wait_s": med(twait)})
            rows.append([pname, fmt(med(works), ".3f"), "%.1f %%" % spread_pct(works),
                         fmt(ratio, ".4f"), fmt(med(tcpu), ".3f"),
                         "%.1f %%" % spread_pct(tcpu), fmt(cratio, ".4f"),
                         fmt(med(twait), ".3f"), fmt(med(pcpu), ".3f"),
                         fmt(med(prun), ".4f")])
        results["vm"][wname] = {"runs": res, "summary": summary}
        out += ["%s:" % wname, "",
                table(["configuration", "work s", "spread", "slowdown", "target CPU s",
                       "CPU spread", "CPU ratio", "target wait s", "ebprof CPU s",
                       "ebprof CPU in run s"], rows), ""]
        by = {s["name"]: s for s in summary}
        d, c = by.get("ebprof default (cpu + vm)"), by.get("ebprof cpu")
        if d and c and d["ratio"] and c["ratio"]:
            out.append("goal: the light layer adds <= 3 %% to cpu alone: %+.2f %% wall "
                       "(spreads %.0f %%, %.0f %%) -> %s" %
                       (100 * (d["ratio"] / c["ratio"] - 1), d["spread_pct"], c["spread_pct"],
                        "met" if d["ratio"] <= c["ratio"] * 1.03 else "MISSED"))
            if d.get("cpu_ratio") and c.get("cpu_ratio"):
                out.append("target CPU time, default against cpu alone: %+.2f %%" %
                           (100 * (d["cpu_ratio"] / c["cpu_ratio"] - 1)))
            out.append("")
    return "\n".join(out).rstrip()
# ---------------------------------------------------------------- unwind

def unwind_big_source(path, funcs=1500):
    """A C++ file cc1plus takes several seconds over (templates, calls)."""
    out = ["template <int N, typename T> struct Fold {",
           "  static T run(T x) { return Fold<N - 1, T>::run(x * 3 + N) ^ (x >> 1); } };",
           "template <typename T> struct Fold<0, T> { static T run(T x) { return x; } };"]
    for i in range(funcs):
        t = ("int", "long", "unsigned", "short", "long long")[i % 5]
        out.append("%s f%d(%s x) { %s s = 0; for (int k = 0; k < %d; k++) s += "
                   "Fold<%d, %s>::run(x + k); return s%s; }" %
                   (t, i, t, t, i % 17 + 3, i % 40 + 10, t,
                    " + f%d(s & 7)" % (i - 1) if i else ""))
    with open(path, "w") as f:
        f.write("\n".join(out) + "\nint main() { return (int)f%d(1); }\n" % (funcs - 1))


def mapped_code_files(pid):
    """{path: size} of the files pid maps executable."""
    out = {}
    try:
        with open("/proc/%d/maps" % pid) as f:
            for line in f:
                w = line.split()
                if len(w) >= 6 and "x" in w[1] and w[5].startswith("/"):
                    out[w[5]] = os.path.getsize(w[5])
    except OSError:
        pass
    return out


def unwind_big_runs(args, argv):
    """ebprof -v -F 99 --unwind dwarf -p on the command argv, args.reps
    times: its wall and CPU time, peak RSS, table build time and first
    sample."""
    runs = []
    for rep in range(args.reps):
        c = start(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.3)  # past exec and the dynamic loader: all its libraries mapped
        files = mapped_code_files(c.pid)
        err = open(os.path.join(TMP, "err"), "w+b")
        t0 = time.monotonic()
        e = start([EBPROF, "-v", "-F", "99", "--unwind", "dwarf", "-d", "3", "-p", str(c.pid),
                   "cpu", "-o", "/dev/null"], stdout=subprocess.DEVNULL, stderr=err)
        hwm = HwmPoller(e.pid)
        hwm.start()
        rc, ru, timed_out = reap(e, args.timeout)
        wall = time.monotonic() - t0
        hwm.stop()
        c.kill()
        reap(c, args.timeout)
        err.seek(0)
        text = err.read().decode(errors="replace")
        err.close()
        tabs = re.search(r"tables of (\d+) new files built in ([\d.]+) ms; \d+ files, "
                         r"([\d.]+) KiB", text)
        first = re.search(r"first sample within ([\d.]+) ms", text)
        rec = {"rc": rc, "wall_s": wall, "cpu_s": (ru.ru_utime + ru.ru_stime) if ru else None,
               "peak_rss_mb": hwm.kb / 1024.0 if hwm.kb else None,
               "files": int(tabs.group(1)) if tabs else None,
               "tables_ms": float(tabs.group(2)) if tabs else None,
               "rows_mib": float(tabs.group(3)) / 1024 if tabs else None,
               "too_large": len(re.findall(r"over a table limit", text)),
               "first_sample_ms": float(first.group(1)) if first else None,
               "mapped": files}
        runs.append(rec)
        log("  unwind %s rep %d/%d %s" % (os.path.basename(argv[0]), rep + 1, args.reps, rec))
    return runs


def unwind_big_table(name, runs):
    ok = [r for r in runs if r["rc"] == 0]
    mapped = ok[0]["mapped"] if ok else {}
    biggest = sorted(mapped.items(), key=lambda kv: -kv[1])[:3]

    def col(k):
        xs = [r[k] for r in ok if r.get(k) is not None]
        return ("%.1f (%.1f-%.1f)" % (med(xs), min(xs), max(xs))) if xs else "-"
    out = ["### DWARF unwinding: ebprof -F 99 --unwind dwarf -d 3 -p on %s compiling a "
           "generated file (median (min-max) of %d)" % (name, len(ok)), "",
           "It maps %d files of code, %.0f MB, the largest %s." %
           (len(mapped), sum(mapped.values()) / 1e6,
            ", ".join("%s %.0f MB" % (os.path.basename(p), n / 1e6) for p, n in biggest)), "",
           table(["ebprof wall s", "ebprof CPU s", "peak RSS MB", "files", "tables built ms",
                  "table MiB", "over a limit", "first sample ms"],
                 [[col("wall_s"), col("cpu_s"), col("peak_rss_mb"), col("files"),
                   col("tables_ms"), col("rows_mib"), col("too_large"),
                   col("first_sample_ms")]])]
    fs = [r["first_sample_ms"] for r in ok if r.get("first_sample_ms") is not None]
    if fs:
        out += ["", "goal first sample < 1 s (%s): median %.0f ms -> %s" %
                (name, med(fs), "met" if med(fs) < 1000 else "MISSED")]
    return out


def bench_unwind(args, tools, results):
    """DWARF unwinding: the target's slowdown with --unwind dwarf, --unwind
    fp and perf --call-graph dwarf on fixedwork rebuilt without frame
    pointers; then ebprof's own cost on large processes attached with -p:
    GCC's cc1plus (~35 MB), and clang, which maps libstdc++, libc and
    libLLVM (110 MB) and libclang-cpp (59 MB)."""
    nofp = os.path.join(TMP, "fixedwork_nofp")
    subprocess.run(["cc", "-O2", "-g", "-fomit-frame-pointer", "-fno-inline-small-functions",
                    "-o", nofp, os.path.join(ROOT, "tests", "workloads", "fixedwork.c"), "-lm"],
                   check=True)
    fw = [nofp, "-n", str(args.rounds)]
    configs = [("baseline", fw)]
    for hz in (99, 4999):
        for mode in ("dwarf", "fp"):
            configs.append(("ebprof --unwind %s %d Hz" % (mode, hz),
                            [EBPROF, "-v", "-F", str(hz), "--unwind", mode, "cpu", "-o",
                             "/dev/null", "--"] + fw))
        if tools.get("perf"):
            configs.append(("perf dwarf %d Hz" % hz,
                            [tools["perf"], "record", "-e", "cpu-clock", "--call-graph",
                             "dwarf,16384", "-F", str(hz), "-q", "-o",
                             os.path.join(TMP, "perf.data"), "--"] + fw))
    log("unwind: %d configurations x %d repetitions" % (len(configs), args.reps))
    res = interleaved(configs, args.reps,
                      lambda c: run_measured(c, args.timeout, subprocess.DEVNULL), "unwind")
    base = med([r["work_ns"] for r in res["baseline"] if "work_ns" in r])
    rows, summary = [], []
    for name, _ in configs:
        ok = [r for r in res[name] if "work_ns" in r]
        if not ok or not base:
            rows.append([name, "failed: %s" % (res[name][0].get("error") if res[name] else "-"),
                         "", "", ""])
            continue
        ratios = [r["work_ns"] / base for r in ok]
        row = {"name": name, "ratio": med(ratios), "spread_pct": spread_pct(
            [r["work_ns"] for r in ok]), "min": min(ratios), "max": max(ratios)}
        summary.append(row)
        rows.append([name, "%.4f" % row["ratio"], "%.4f-%.4f" % (row["min"], row["max"]),
                     "%.1f %%" % row["spread_pct"], len(ok)])
    out = ["### DWARF unwinding: slowdown of fixedwork without frame pointers "
           "(-n %d, median of %d)" % (args.rounds, args.reps), "",
           table(["configuration", "slowdown", "min-max", "spread", "runs"], rows)]

    # ebprof on large processes: cc1plus, and clang (its libLLVM and
    # libclang-cpp, libstdc++, libc), each compiling a generated file.
    src = os.path.join(TMP, "big.cpp")
    unwind_big_source(src)
    cc1 = subprocess.run(["g++", "-print-prog-name=cc1plus"], capture_output=True,
                         text=True).stdout.strip()
    big = {}
    targets = [("cc1plus", [cc1, "-quiet", "-O2", src, "-o", os.path.join(TMP, "big.s")])]
    clang = shutil.which("clang++") or shutil.which("clang")
    if clang:
        targets.append(("clang", [clang, "-O2", "-c", src, "-o", os.path.join(TMP, "big.o")]))
    for name, argv in targets:
        big[name] = unwind_big_runs(args, argv)
        out += [""] + unwind_big_table(name, big[name])
    results["unwind"] = {"runs": res, "summary": summary, "big": big}
    return "\n".join(out)


def bench_entry(args, tools, results):
    """How long a launched command stands held at its start (in the
    dynamic loader and at its entry point, all stops) while the
    collectors read its mappings (ebprof -v prints it), per report set:
    cpu alone, the default cpu + vm, mem (+ vm); and ebprof's whole wall
    time for the command.  /bin/true maps libc only; memcxx libstdc++,
    libm, libgcc_s and libc."""
    memcxx = os.path.join(ROOT, "build", "workloads", "memcxx")
    cases = [("true, cpu", ["cpu", "-o", "/dev/null", "--", "/bin/true"]),
             ("true, cpu + vm", ["-o", "/dev/null", "--", "/bin/true"]),
             ("memcxx, cpu + vm", ["-o", "/dev/null", "--", memcxx, "0"]),
             ("memcxx, mem + vm", ["mem", "-o", "/dev/null", "--", memcxx, "0"])]
    rx = re.compile(r"held pid \d+ (?:at its entry point|in its dynamic loader) for ([0-9.]+) ms")
    rows, res = [], {}
    for name, argv in cases:
        held, wall = [], []
        for _ in range(args.reps):
            t0 = time.monotonic()
            r = subprocess.run([EBPROF, "-v"] + argv, capture_output=True, text=True,
                               timeout=args.timeout)
            wall.append((time.monotonic() - t0) * 1e3)
            m = rx.findall(r.stderr)
            if r.returncode != 0 or not m:
                raise RuntimeError("%s: no hold seen (status %d)" % (name, r.returncode))
            held.append(sum(float(x) for x in m))  # its stops in the loader and at the entry
        res[name] = {"held_ms": held, "wall_ms": wall}
        rows.append([name, fmt(med(held), ".1f"), fmt(spread_pct(held), ".0f"),
                     fmt(med(wall), ".0f")])
    results["entry"] = res
    return "### entry hold (launched command at its entry point)\n\n" + table(
        ["command, reports", "held ms (median)", "spread %", "ebprof wall ms"], rows)


def machine():
    model, cores = "unknown", os.cpu_count()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
            mem = "%.1f GiB" % (kb / 1048576)
    except (OSError, ValueError, IndexError):
        pass
    return {"cpu": model, "cpus": cores, "kernel": platform.release(), "memory": mem}


def main():
    global TMP
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", default="cpu,func,net,attach,vm,unwind,entry",
                    help="comma-separated parts: cpu, func, net, attach, vm, mem, unwind")
    ap.add_argument("--mem-pairs", type=int, default=20000,
                    help="malloc + free pairs for the mem part")
    ap.add_argument("--mem-blocks", type=int, default=1000000,
                    help="outstanding blocks for the mem part's ebprof peak RSS")
    ap.add_argument("--reps", type=int, default=5,
                    help="repetitions per configuration (cpu, func, net)")
    ap.add_argument("--rounds", type=int, default=1200,
                    help="fixedwork rounds for the cpu part (1M steps each)")
    ap.add_argument("--calls", type=int, default=200000,
                    help="tiny_call calls for the func part")
    ap.add_argument("--net-bytes", type=int, default=2000000000,
                    help="bytes of the net part's bulk transfer (64 KiB writes)")
    ap.add_argument("--net-bytes-1k", type=int, default=500000000,
                    help="bytes of the net part's bulk transfer in 1 KiB writes")
    ap.add_argument("--net-msgs", type=int, default=50000,
                    help="round trips of 1 KiB in the net part's request/response loop")
    ap.add_argument("--attach-reps", type=int, default=3,
                    help="repetitions of the attach part (N = 10, 100)")
    ap.add_argument("--attach-reps-1000", type=int, default=3,
                    help="repetitions for N = 1000 (takes minutes on kernels "
                    "without uprobe_multi, where the kernel removes uprobes "
                    "one grace period at a time)")
    ap.add_argument("--max-funcs", type=int, default=1000,
                    help="largest N for the attach part (10, 100, 1000)")
    ap.add_argument("--bpftrace-max-funcs", type=int, default=100,
                    help="largest N for bpftrace in the attach part")
    ap.add_argument("--no-bpftrace-attach", action="store_true")
    ap.add_argument("--compare-ebprof", metavar="PATH",
                    help="cpu part: also run this ebprof binary at 99 and 4999 Hz; "
                         "net part: also in the rr loop")
    ap.add_argument("--timeout", type=int, default=300,
                    help="seconds before one cpu/func/net run is killed")
    ap.add_argument("--attach-timeout", type=int, default=900,
                    help="seconds before one attach run is killed")
    ap.add_argument("--vm-allocs", type=int, default=30000000,
                    help="malloc + free pairs of memloop in the vm part")
    ap.add_argument("--vm-rounds", type=int, default=600,
                    help="fixedwork rounds of the vm part's steady-state program")
    ap.add_argument("--json", help="write raw results to this file")
    args = ap.parse_args()
    parts = [p.strip() for p in args.only.split(",") if p.strip()]
    for p in parts:
        if p not in ("cpu", "func", "net", "attach", "vm", "mem", "unwind", "entry"):
            ap.error("unknown part %r" % p)
    if min(args.reps, args.attach_reps) < 1:
        ap.error("repetitions must be >= 1")

    if os.geteuid() != 0:
        sys.exit("bench: needs root (BPF, perf events): run make bench as root")
    for path in (EBPROF, FIXEDWORK):
        if not os.access(path, os.X_OK):
            sys.exit("bench: %s missing; run make first" % os.path.relpath(path, ROOT))

    atexit.register(cleanup)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    TMP = tempfile.mkdtemp(prefix="ebprof-bench.")

    tools = {}
    for name, probe in (("perf", ["--version"]), ("bpftrace", ["--version"]),
                        ("funclatency", ["--help"])):
        path, why = have_tool(name, probe)
        tools[name] = path
        if why:
            print("skip: " + why, flush=True)

    results = {"machine": machine(), "args": vars(args),
               "started": time.strftime("%Y-%m-%d %H:%M:%S")}
    m = results["machine"]
    print("## ebprof benchmarks\n\nmachine: %s, %s CPUs, %s RAM, kernel %s\n" %
          (m["cpu"], m["cpus"], m["memory"], m["kernel"]), flush=True)
    runners = {"cpu": bench_cpu, "func": bench_func, "net": bench_net,
               "attach": bench_attach, "vm": bench_vm, "mem": bench_mem,
               "unwind": bench_unwind, "entry": bench_entry}
    reports = []
    for p in parts:
        try:
            text = runners[p](args, tools, results)
        except Exception as e:  # one broken part must not hide the others
            text = "### %s\n\nfailed: %s: %s" % (p, type(e).__name__, e)
            results.setdefault("errors", {})[p] = str(e)
        reports.append(text)
        print(text + "\n", flush=True)
    if args.json:
        with open(args.json + ".tmp", "w") as f:
            json.dump(results, f, indent=1, default=str)
        os.replace(args.json + ".tmp", args.json)
        log("bench: raw results in %s" % args.json)
    cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
