"""User stacks unwound from CFI in BPF (--unwind auto|dwarf) on workloads
built without frame pointers (tests/workloads/unwind.c, PIE and not;
tests/workloads/plt.c, calls through a lazy .plt): every on-CPU sample in
a known leaf must carry exactly its known chain, libc's frames included
(Debian's libc has no frame pointers)."""
import os
import re
import subprocess

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


def profile(binary, mode, unwind, env=None, extra=(), freq=499, ms=CPU_MS, wl_env=()):
    """One cpu run of workload binary (mode: its first argument, or None);
    env for ebprof and the workload, wl_env (K=V strings) for the workload
    alone."""
    snap = BpfSnapshot()
    if env:
        os.environ.update(env)
    wrap = ["env", *wl_env] if wl_env else []
    p = start([*wrap, workload(binary), *([mode] if mode else []), str(ms), "sig"], gated=True)
    try:
        r, doc = run_gated(["-F", str(freq), "--unwind", unwind, "-p", str(p.pid), *extra, "cpu"],
                           p)
    finally:
        p.wait()
        stop(p)
        for k in env or {}:
            os.environ.pop(k)
    what = " ".join([*wl_env, binary, *([mode] if mode else []), "--unwind", unwind])
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


def few_stack_reads_failed(rep, what):
    """A sample that interrupts the target while a page of its stack is
    not present (its first touch, a page fault in progress) cannot read
    it from interrupt context: counted as lost_user_stack_read.  Seen 0,
    and 1 in about one run of ten of a few thousand samples: bounded at
    0.1 % of the samples (at least 1 allowed), not asserted 0."""
    n, samples = rep["info"]["lost_user_stack_read"], rep["info"]["samples"]
    check(0 <= n and n * 1000 <= max(samples, 1000),
          f"{what}: lost_user_stack_read at most 0.1 % of samples", f"{n} of {samples}")


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
        for k in ("lost_no_unwind_info", "lost_bad_walk"):
            equal(rep["info"][k], 0, f"{what}: {k}")
        few_stack_reads_failed(rep, what)


def test_signal_first_instruction():
    """SIGALRM taken with the pc on sig_first's first instruction (the
    handler spins only then, so ground truth is exact), sig_first a
    one-byte function right after another one, sig_before: the frame under
    __restore_rt is the interrupted pc, which the walker marks exact and
    the symbolizer looks up as it is (at pc - 1, a return address's rule,
    it would name sig_before)."""
    for binary, unwind in (("unwind", "dwarf"), ("unwind_nopie", "auto")):
        rep, what = profile(binary, "sigfirst", unwind)
        exact(rep, what, "first_spin",
              LIBC_START + ["first_caller", "sig_first", "__restore_rt", "on_first",
                            "first_spin"])
        frames = rep["frames"]
        under = {frames[i]["offset"] for s in rep["samples"] for i in s["stack"]
                 if frames[i]["func"] == "sig_first"}
        equal(sorted(under), [0], f"{what}: sig_first's frame at its first byte")
        # (No loss counts asserted: test_signal checks the walk through
        # the signal frame; a rare sample in the dynamic linker's lazy
        # resolver, whose CFA is in rbx, may be cut and counted.)


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
        for k in ("lost_no_unwind_info", "lost_bad_walk"):
            equal(rep["info"][k], 0, f"{what}: {k}")
        few_stack_reads_failed(rep, what)


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


def tool(*args):
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


class PltBinary:
    """The plt workload's lazy stubs, from the binary itself: its sections
    and symbols (readelf), plt_tiny's slot in .rela.plt, and the
    instructions of the stubs (objdump)."""

    def __init__(self, name):
        self.path = workload(name)
        self.sections = {}  # name: (addr, file offset, size)
        for m in re.finditer(r"\] (\.\S+)\s+\S+\s+([0-9a-f]+) ([0-9a-f]+) ([0-9a-f]+)",
                             tool("readelf", "-SW", self.path)):
            self.sections[m[1]] = (int(m[2], 16), int(m[3], 16), int(m[4], 16))
        self.symbols = {}
        for line in tool("readelf", "-sW", self.path).splitlines():
            f = line.split()
            if len(f) >= 8 and f[3] == "FUNC" and f[6] != "UND":
                self.symbols[f[7]] = int(f[1], 16)
        self.dynamic = tool("readelf", "-dW", self.path)
        relas = tool("readelf", "-rW", self.path).split("'.rela.plt'")[1].splitlines()
        slots = [line.split()[4] for line in relas if "R_X86_64_JUMP_SLOT" in line]
        self.slot = slots.index("plt_tiny")
        self.insns = {}  # section: [(addr, text)]
        self.stubs = {}  # binutils' synthetic "name@plt" symbols: address
        sec = None
        for line in tool("objdump", "-d", "--no-show-raw-insn", "-j", ".plt", "-j", ".plt.sec",
                         self.path).splitlines():
            m = re.match(r"Disassembly of section (\S+):", line)
            if m:
                sec = m[1]
            m = re.match(r"([0-9a-f]+) <(\S+@plt)>:", line)
            if m:
                self.stubs[m[2]] = int(m[1], 16)
            m = re.match(r"\s+([0-9a-f]+):\s+(.*)", line)
            if m and sec:
                self.insns.setdefault(sec, []).append((int(m[1], 16), m[2].strip()))

    def range(self, sec):
        a, _, size = self.sections.get(sec, (0, 0, 0))
        return a, a + size

    def lazy_entry(self):
        """plt_tiny's lazy .plt entry [lo, hi) and where its part after
        the push begins (its jump to PLT0), from the instructions."""
        plt0 = self.range(".plt")[0]
        ins = self.insns.get(".plt", [])
        for i, (a, text) in enumerate(ins):
            if text.split() == ["push", f"${self.slot:#x}"] and i + 1 < len(ins):
                j, jtext = ins[i + 1]
                if jtext.startswith("jmp") and jtext.split()[1] == f"{plt0:x}":
                    return a & ~15, (a & ~15) + 16, j
        return None

    def addr(self, frame):
        """The link-time address of a frame in this file: a PLT stub's
        ("plt_tiny@plt", at the address objdump gives binutils' own
        synthetic symbol of that name: the .plt entry, or with IBT the
        .plt.sec one), the lazy binding code's ("[plt]", from the .plt's
        start) or a symbol's address plus the offset, or a file offset (no
        symbol)."""
        if frame["func"] == "[plt]":
            return self.range(".plt")[0] + frame["offset"]
        if frame["func"]:
            a = self.stubs.get(frame["func"], self.symbols.get(frame["func"]))
            return a + frame["offset"] if a is not None else None
        for a, off, size in self.sections.values():
            if off <= frame["offset"] < off + size and a:
                return frame["offset"] - off + a
        return None


def check_lazy(b, what):
    """The binary really calls plt_tiny through a lazy .plt."""
    check(not re.search(r"BIND_NOW|FLAGS.*\bNOW\b", b.dynamic), f"{what}: lazy binding (no NOW)")
    lo, hi = b.range(".plt")
    check(hi - lo >= 32, f"{what}: a .plt with PLT0 and entries", hi - lo)
    check(b.lazy_entry() is not None, f"{what}: plt_tiny's .plt entry pushes its slot "
          f"{b.slot} and jumps to PLT0")
    frames = tool("readelf", "--debug-dump=frames", b.path)
    check("DW_CFA_def_cfa_expression (DW_OP_breg7 (rsp): 8; DW_OP_breg16 (rip): 0" in frames,
          f"{what}: the .plt's CFI is binutils' lazy expression")


def plt_samples(rep, b, what):
    """{where: samples} of the samples whose leaf is in the .plt or the
    .plt.sec; each must be in plt_tiny's stub (or PLT0) with exactly
    LIBC_START > plt_caller under it: the walk through the stub found the
    function that made the call.  The stub is named after the function it
    calls, plt_tiny@plt (the lazy code behind it [plt]), as binutils names
    it, never after the symbol before the .plt (_init)."""
    m = metric_index(rep, "samples")
    frames = rep["frames"]
    name = os.path.basename(b.path)
    plt0 = b.range(".plt")[0]
    entry = b.lazy_entry() or (0, 0, 0)
    sec_lo = b.range(".plt.sec")[0] + 16 * b.slot if ".plt.sec" in b.sections else 0
    where, bad = {}, []
    for s in rep["samples"]:
        n = s["values"][m]
        user = [frames[i] for i in s["stack"] if frames[i]["kind"] == "user"]
        if not n or not user or user[-1].get("module") != name:
            continue
        pc = b.addr(user[-1])
        if pc is None or not any(lo <= pc < hi for lo, hi in
                                 (b.range(".plt"), b.range(".plt.sec"))):
            continue
        if plt0 <= pc < plt0 + 16:
            k = "plt0"
        elif entry[0] <= pc < entry[1]:
            k = "entry, after the push" if pc >= entry[2] else "entry, before the push"
        elif sec_lo and sec_lo <= pc < sec_lo + 16:
            k = ".plt.sec"
        else:
            k = f"another stub ({pc:#x})"
        where[k] = where.get(k, 0) + n
        funcs = [f["func"] for f in user[:-1]]
        named = user[-1]["func"] == ("[plt]" if k == "plt0" or (
            k.startswith("entry") and ".plt.sec" in b.sections) else "plt_tiny@plt")
        if funcs != LIBC_START + ["plt_caller"] or k.startswith("another") or not named:
            bad.append((f"{pc:#x}", user[-1]["func"], funcs[-3:], n))
    check(not bad, f"{what}: every .plt sample is in plt_tiny's stub, named plt_tiny@plt "
          f"([plt] in the lazy code), with {';'.join(LIBC_START)};plt_caller under it", bad[:4])
    return where


def resolver_samples(rep, what):
    """The samples in the dynamic linker's lazy binding (a frame of
    _dl_runtime_resolve_*, whose CFA is rbx-based: it keeps its entry rsp
    in rbx and realigns rsp): each must have exactly LIBC_START >
    plt_caller under the resolver (the .plt jumps to it, no call), the
    resolver's rbx recovered from _dl_fixup's and its callees' saves when
    the sample is in them.  Their number."""
    m = metric_index(rep, "samples")
    frames = rep["frames"]
    got, bad = 0, []
    for s in rep["samples"]:
        n = s["values"][m]
        user = [frames[i]["func"] or "" for i in s["stack"] if frames[i]["kind"] == "user"]
        at = [k for k, f in enumerate(user) if f.startswith("_dl_runtime_resolve")]
        if not n or not at:
            continue
        got += n
        if user[:at[0]] != LIBC_START + ["plt_caller"]:
            bad.append((user[-4:], n))
    check(not bad, f"{what}: every sample in the lazy resolver has "
          f"{';'.join(LIBC_START)};plt_caller under it", bad[:4])
    return got


def test_plt():
    """plt_tiny (libplt.so) called in a loop through the executable's lazy
    .plt: a sample on any instruction of the stub has its caller
    plt_caller under it (binutils' .plt CFA expression, UNWIND_PLT).
    Bound, the samples are on the entry's jump through the GOT; with
    LD_BIND_NOT=1 the GOT is never written, so every call runs the whole
    lazy path: the entry's push and jump to PLT0 (CFA rsp + 16: the
    expression's + 8), PLT0's push and jump (rsp + 16, + 24).  plt_ibt
    (-z ibtplt) calls through .plt.sec (an ordinary rsp + 8 row) into the
    IBT lazy .plt (its expression's threshold 9, not 11)."""
    for name in ("plt", "plt_ibt"):
        b = PltBinary(name)
        check_lazy(b, name)
        if name == "plt_ibt":
            check(".plt.sec" in b.sections, f"{name}: a .plt.sec")
        for unwind, lazy in (("auto", False), ("dwarf", True)):
            # The lazy path is mostly the resolver: more samples for the
            # stub's own few instructions (the count follows the
            # workload's CPU time, not the machine's speed).
            rep, what = profile(name, None, unwind, freq=4999 if lazy else 499,
                                ms=3000 if lazy else CPU_MS,
                                wl_env=["LD_BIND_NOT=1"] if lazy else [])
            where = plt_samples(rep, b, what)
            # (Under LD_BIND_NOT plt_tiny itself takes only a few samples.)
            got, total = leaf_stacks(rep, "plt_tiny")
            check(all(s == LIBC_START + ["plt_caller", "plt_tiny"] for s, _ in got),
                  f"{what}: plt_tiny's samples have plt_caller under them (the stub jumped)",
                  [s for s, _ in got if s != LIBC_START + ["plt_caller", "plt_tiny"]][:2])
            if not lazy:
                # Bound, the loop is a few instructions long and samples
                # come at a fixed period of its CPU time: in some runs
                # they all miss plt_tiny, in others the stub (seen once
                # each in about thirty runs).  One of the two is required.
                k = ".plt.sec" if name == "plt_ibt" else "entry, before the push"
                check(where.get(k, 0) + sum(n for _, n in got) > 0,
                      f"{what}: samples on the bound stub ({k}) or in plt_tiny past it",
                      (where, sum(n for _, n in got)))
            else:
                check(sum(where.values()) > 0, f"{what}: samples in the .plt", where)
                # The resolver is most of the lazy path: none of its walks
                # may be cut (before UNWIND_CFA_RBX, all were).
                res = resolver_samples(rep, what)
                check(res > sum(where.values()), f"{what}: samples in the lazy resolver",
                      (res, sum(where.values())))
                # Cut walks (before UNWIND_CFA_RBX: nearly every sample)
                # only at exit: crtstuff's __do_global_dtors_aux has no CFI
                # and calls __cxa_finalize through the lazy .plt (1 or 2).
                cut = sum(rep["info"][k] for k in ("lost_no_unwind_info", "lost_bad_walk"))
                check(cut <= 3 + rep["info"]["samples"] // 1000,
                      f"{what}: walks cut for want of a rule: the exit path's few at most",
                      (cut, rep["info"]["samples"]))
                check(where.get("plt0", 0) > 0, f"{what}: samples in PLT0", where)
                # The IBT entry's jump after the push takes few samples
                # (they land on the push): required of the standard one.
                if name == "plt":
                    check(where.get("entry, after the push", 0) > 0,
                          f"{what}: samples after the entry's push (CFA rsp + 16)", where)
                else:
                    check(where.get("entry, before the push", 0) > 0,
                          f"{what}: samples in the IBT lazy entry", where)


if __name__ == "__main__":
    test_plt()
    test_dlopen()
    test_vdso()
    test_signal()
    test_signal_first_instruction()
    test_uretprobe()
    test_chain()
    test_recursion()
    test_threads()
    test_qsort()
    finish()
