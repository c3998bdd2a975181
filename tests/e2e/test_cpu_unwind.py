"""User stacks unwound from CFI in BPF (--unwind auto|dwarf) on a workload
built without frame pointers (tests/workloads/unwind.c), PIE and not:
every on-CPU sample in a known leaf must carry exactly its known chain,
libc's frames included (Debian's libc has no frame pointers)."""
import os

from lib import (BpfSnapshot, check, equal, finish, metric_index, report, run_gated, start, stop,
                 table, workload)

CPU_MS = 1500
LIBC_START = ["_start", "__libc_start_main", "__libc_start_call_main", "main"]


def leaf_stacks(rep, leaf):
    """(stack as function names root first, samples) of every on-CPU
    sample whose leaf (kernel frames and markers left out) is leaf; and
    the total of on-CPU samples."""
    m = metric_index(rep, "samples")
    frames = rep["frames"]
    out, total = [], 0
    for s in rep["samples"]:
        n = s["values"][m]
        if not n:
            continue
        total += n
        user = [frames[i]["func"] for i in s["stack"] if frames[i]["kind"] == "user"]
        if user and user[-1] == leaf:
            out.append((user, n))
    return out, total


def profile(binary, mode, unwind, env=None, extra=()):
    snap = BpfSnapshot()
    if env:
        os.environ.update(env)
    p = start([workload(binary), mode, str(CPU_MS), "sig"], gated=True)
    try:
        r, doc = run_gated(["-F", "499", "--unwind", unwind, "-p", str(p.pid), *extra, "cpu"], p)
    finally:
        p.wait()
        stop(p)
        for k in env or {}:
            os.environ.pop(k)
    what = f"{binary} {mode} --unwind {unwind}"
    equal(r.returncode, 0, f"{what}: exit status")
    check("unwind: tables of" in r.stderr, f"{what}: -v says what the tables cost")
    rep = report(doc, "cpu")
    check(rep["info"]["unwind"].startswith(unwind), f"{what}: header names the unwinder",
          rep["info"]["unwind"])
    snap.check(what)
    return (rep, what, doc) if extra else (rep, what)


def exact(rep, what, leaf, want):
    """Every sample in leaf has stack want; they are most of the samples."""
    got, total = leaf_stacks(rep, leaf)
    n = sum(c for _, c in got)
    wrong = [(s, c) for s, c in got if s != want]
    check(n > 0, f"{what}: samples in {leaf}", total)
    check(not wrong, f"{what}: every {leaf} sample has exactly {';'.join(want)}", wrong[:3])
    check(n >= 0.9 * total, f"{what}: {leaf} holds most samples", f"{n} of {total}")


def test_chain():
    for binary in ("unwind", "unwind_nopie"):
        for unwind in ("dwarf", "auto"):
            rep, what = profile(binary, "chain", unwind)
            exact(rep, what, "spin_leaf",
                  LIBC_START + ["chain_a", "chain_b", "chain_c", "spin_leaf"])
            # Cut stacks are counted and shown.
            for k in ("lost_no_unwind_info", "lost_user_stack_read", "lost_table_too_large"):
                check(k in rep["info"], f"{what}: {k} shown", rep["info"].get(k))


def test_recursion():
    rep, what = profile("unwind", "recurse", "dwarf", {"UNWIND_DEPTH": "100"})
    exact(rep, what, "spin_leaf", LIBC_START + ["recurse"] * 100 + ["rec_leaf", "spin_leaf"])
    # Deeper than a stack holds: cut at the root, counted and marked.
    rep, what = profile("unwind", "recurse", "dwarf", {"UNWIND_DEPTH": "200"})
    m = metric_index(rep, "samples")
    frames = rep["frames"]
    deep = [[frames[i]["func"] for i in s["stack"] if frames[i]["kind"] != "kernel"]
            for s in rep["samples"] if s["values"][m]]
    deep = [s for s in deep if s and s[-1] == "spin_leaf"]
    check(deep and all(s[0] == "[truncated]" for s in deep),
          f"{what}: stacks deeper than 127 frames start with [truncated]")
    check(deep and all(s[1:] == ["recurse"] * 125 + ["rec_leaf", "spin_leaf"] for s in deep),
          f"{what}: the 127 leaf-side frames are kept")
    check(rep["info"]["truncated"] > 0, f"{what}: truncated stacks counted",
          rep["info"]["truncated"])


def test_threads():
    rep, what = profile("unwind_nopie", "threads", "dwarf")
    for chain in (["thread_one", "one_a", "spin_one"], ["thread_two", "two_a", "two_b", "spin_two"]):
        got, total = leaf_stacks(rep, "spin_leaf")
        mine = [(s, c) for s, c in got if chain[0] in s]
        want = ["clone3", "start_thread"] + chain + ["spin_leaf"]
        check(mine and all(s == want for s, _ in mine), f"{what}: {chain[0]} stacks exact",
              [s for s, _ in mine if s != want][:2])
    got, total = leaf_stacks(rep, "spin_leaf")
    check(sum(c for _, c in got) >= 0.9 * total, f"{what}: spin_leaf holds most samples")


def test_qsort():
    """cmp_slow is called by libc's qsort: its caller sort_caller is below
    the libc frames (a frame-pointer walk skips it)."""
    for binary in ("unwind", "unwind_nopie"):
        rep, what = profile(binary, "qsort", "dwarf")
        got, total = leaf_stacks(rep, "cmp_slow")
        bad = []
        for s, _ in got:
            i = s.index("sort_caller") if "sort_caller" in s else -1
            libc = s[i + 1:-1] if i >= 0 else []
            if (s[:i + 1] != LIBC_START + ["sort_caller"] or not libc or libc[0] != "qsort_r"
                    or any(not f.startswith("msort_with_tmp") for f in libc[1:])):
                bad.append(s)
        check(got and not bad, f"{what}: main > sort_caller > qsort_r > msort... > cmp_slow",
              bad[:2])
        check(sum(c for _, c in got) >= 0.8 * total, f"{what}: cmp_slow holds most samples",
              f"{sum(c for _, c in got)} of {total}")


def test_uretprobe():
    """func traces chain_b while cpu samples spin_leaf under it: chain_b's
    return address on the stack is the uretprobe trampoline all along;
    the walker puts back the real one from the task's pending return
    instances, so the stacks keep chain_a and show no [uprobes] frame."""
    for unwind in ("dwarf", "auto"):
        rep, what, doc = profile("unwind", "chain", unwind, extra=["-f", "chain_b", "func"])
        what += " with func -f chain_b"
        calls = {r["name"]: r["calls"] for r in table(report(doc, "func"), "functions")}
        equal(calls.get("chain_b"), 1, f"{what}: chain_b traced (its return probe pending)")
        exact(rep, what, "spin_leaf", LIBC_START + ["chain_a", "chain_b", "chain_c", "spin_leaf"])
        # Every stack through chain_b (its return address is the trampoline
        # all along): no unnamed or [uprobes] user frame.  A stack elsewhere
        # (a sample at attach, in the kernel's entry path) may hold an
        # unnamed frame for reasons of its own: not this check's business.
        stacks = [[rep["frames"][i] for i in s["stack"]] for s in rep["samples"]]
        under = [st for st in stacks if any(f["func"] == "chain_b" for f in st)]
        check(len(under) > 0, f"{what}: stacks through chain_b", len(under))
        check(not [f for st in under for f in st if f["kind"] == "user" and
                   (not f["func"] or "uprobes" in (f.get("module") or f["func"]))],
              f"{what}: no [uprobes] frame")


def test_signal():
    """A SIGALRM handler spinning over an interrupted function: the walk
    crosses glibc's __restore_rt signal frame (registers from the
    ucontext on the stack, the interrupted pc taken as exact) down to
    _start, nothing cut."""
    for binary, unwind in (("unwind", "dwarf"), ("unwind_nopie", "auto")):
        rep, what = profile(binary, "signal", unwind)
        exact(rep, what, "handler_spin",
              LIBC_START + ["sig_caller", "sig_interrupted", "__restore_rt", "on_alarm",
                            "handler_spin"])
        for k in ("lost_no_unwind_info", "lost_user_stack_read", "lost_bad_walk"):
            equal(rep["info"][k], 0, f"{what}: {k}")


def test_vdso():
    """clock_gettime in a loop: samples inside the vdso walk out of it by
    the vdso's own CFI (built from ebprof's vdso image: the same kernel)
    to the caller chain; with --unwind dwarf nothing is cut."""
    for binary, unwind in (("unwind", "dwarf"), ("unwind_nopie", "auto")):
        rep, what = profile(binary, "vdso", unwind)
        m = metric_index(rep, "samples")
        frames = rep["frames"]
        want = LIBC_START + ["vdso_caller", "vdso_loop", "clock_gettime"]
        n, bad = 0, []
        for s in rep["samples"]:
            user = [frames[i] for i in s["stack"] if frames[i]["kind"] == "user"]
            k = next((j for j, f in enumerate(user) if f.get("module") == "[vdso]"), None)
            if not s["values"][m] or k is None:
                continue
            n += s["values"][m]
            if ([f["func"] for f in user[:k]] != want or
                    any(f.get("module") != "[vdso]" for f in user[k:])):
                bad.append([f["func"] for f in user])
        check(n > 0, f"{what}: samples inside the vdso", n)
        check(not bad, f"{what}: every vdso sample has {';'.join(want)} under it", bad[:2])
        for k in ("lost_no_unwind_info", "lost_user_stack_read", "lost_bad_walk"):
            equal(rep["info"][k], 0, f"{what}: {k}")


def test_dlopen():
    """A library dlopened after the start (built without frame pointers):
    its table is loaded at the next mapping refresh, and from then on its
    samples carry the whole chain; a sample before that is cut at its
    first frame and counted (--unwind dwarf)."""
    lib = workload("libunwind_dl.so")
    for binary in ("unwind", "unwind_nopie"):
        rep, what = profile(binary, "dlopen", "dwarf", {"UNWIND_DL": lib})
        want = LIBC_START + ["dlopen_caller", "dl_entry", "dl_mid", "dl_spin"]
        got, total = leaf_stacks(rep, "dl_spin")
        full = sum(c for s, c in got if s == want)
        cut = sum(c for s, c in got if s == ["dl_spin"])
        other = [s for s, _ in got if s not in (want, ["dl_spin"])]
        check(full > 0, f"{what}: dl_spin samples with {';'.join(want)}", full)
        check(not other, f"{what}: no other dl_spin stack", other[:2])
        check(cut <= rep["info"]["lost_no_unwind_info"],
              f"{what}: samples before the library's table are counted cuts",
              f"{cut} cut, {rep['info']['lost_no_unwind_info']} counted")


if __name__ == "__main__":
    test_dlopen()
    test_vdso()
    test_signal()
    test_uretprobe()
    test_chain()
    test_recursion()
    test_threads()
    test_qsort()
    finish()
