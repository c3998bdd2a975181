"""mem report: exact allocation counts and bytes per site against the
memsites workload's known sites (tests/workloads/memsites.c), attached with
-p behind the start gate, with glibc's allocator and with jemalloc
preloaded; the leak site leaks exactly its bytes and nothing else is
flagged; a failed realloc keeps its block, a failed calloc is no leak;
frees of blocks from before the attach never go negative; launched with --
the totals are the same; nothing stays in the kernel."""
import os

from lib import (EXACT, BpfSnapshot, check, equal, finish, info, report, run, run_gated, run_json,
                 start, stop, table, workload)

JEMALLOC = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"

# caller -> (allocations, bytes, frees, temporaries), from memsites.c
SITES = {
    "leak_site": (50, 50 * 96, 0, 0),
    "temp_site": (200, 200 * 40, 200, 200),
    "grow_site": (50, 50 * 256, 50, 0),
    "realloc_site": (5, 16 + 32 + 64 + 128 + 256, 5, 1),
    "calloc_site": (20, 20 * 8 * 24, 20, 0),
    "memalign_site": (10, 10 * 200, 10, 0),
    "big_site": (1, 1 << 20, 1, 1),
}
LEAK_BYTES = 50 * 96


def sites_summed(rep, name_of):
    """Site rows summed per the workload function name_of(caller) names."""
    out = {}
    for r in table(rep, "mem_sites"):
        acc = out.setdefault(name_of(r["caller"]), dict.fromkeys(
            ("allocs", "bytes", "frees", "temps", "failed", "leak_bytes", "inuse_bytes"), 0))
        for k in acc:
            acc[k] += r[k]
    return out


def by_caller(rep):
    """Site rows summed per calling function (gcc's .constprop suffixes
    dropped; an unrolled loop makes one site per call)."""
    return sites_summed(rep, lambda caller: caller.split(".")[0])


def check_counts(name, sites, expected):
    """Each site's exact allocations, bytes, frees and temporaries:
    expected maps a site to (allocs, bytes, frees, temps)."""
    for caller, (n, b, f, t) in expected.items():
        s = sites.get(caller, {})
        equal(s.get("allocs"), n, f"{name}: {caller} allocations")
        equal(s.get("bytes"), b, f"{name}: {caller} bytes")
        equal(s.get("frees"), f, f"{name}: {caller} frees")
        equal(s.get("temps"), t, f"{name}: {caller} temporaries")


def check_sites(name, rep, pre_attached):
    sites = by_caller(rep)
    check_counts(name, sites, SITES)
    equal(sites.get("overflow_site", {}).get("failed"), 1, f"{name}: calloc overflow failed")
    equal(sites.get("overflow_site", {}).get("allocs", 0), 0, f"{name}: calloc overflow no block")
    refail = sites.get("refail_site", {})
    equal(refail.get("failed"), 1, f"{name}: failed realloc counted as failed")
    equal(refail.get("frees"), 1, f"{name}: the block a failed realloc kept is freed later")
    rezero = sites.get("rezero_site", {})
    equal(rezero.get("inuse_bytes"), 0, f"{name}: realloc(p, 0) leaves nothing outstanding")
    leaks = table(rep, "mem_leaks")
    equal([r["caller"].split(".")[0] for r in leaks], ["leak_site"],
          f"{name}: only the leak site is flagged")
    equal(info(rep, "leak_bytes"), LEAK_BYTES, f"{name}: leaked bytes")
    equal(info(rep, "leak_count"), 50, f"{name}: leaked blocks")
    equal(info(rep, "inuse_bytes"), LEAK_BYTES, f"{name}: outstanding at the end")
    check(info(rep, "peak_bytes") >= (1 << 20) + LEAK_BYTES,
          f"{name}: peak holds the big block and the leaks", info(rep, "peak_bytes"))
    peak = {r["caller"].split(".")[0]: r["peak_bytes"] for r in table(rep, "mem_peak")}
    equal(peak.get("big_site"), 1 << 20, f"{name}: big block's bytes at the peak")
    if pre_attached:
        check(info(rep, "unknown_frees") >= 5, f"{name}: frees of pre-attach blocks counted",
              info(rep, "unknown_frees"))
        check(all(r["inuse_bytes"] >= 0 for r in table(rep, "mem_sites")),
              f"{name}: no site goes negative")
    for k in ("lost_blocks_full", "lost_sites_full", "lost_stack", "lost_read",
              "lost_threads_full", "lost_inflight"):
        equal(info(rep, k), 0, f"{name}: {k}")


def test_attached(name, preload, allocator):
    snap = BpfSnapshot()
    old = os.environ.get("LD_PRELOAD")
    if preload:
        os.environ["LD_PRELOAD"] = preload
    try:
        target = start([workload("memsites"), "sig"], gated=True)
    finally:
        if preload:
            if old is None:
                os.environ.pop("LD_PRELOAD")
            else:
                os.environ["LD_PRELOAD"] = old
    try:
        r, doc = run_gated(EXACT + ["-p", str(target.pid), "mem"], target)
    finally:
        target.wait()
        stop(target)
    equal(r.returncode, 0, f"{name}: exit status")
    rep = report(doc, "mem")
    equal(info(rep, "allocator"), allocator, f"{name}: allocator found")
    check_sites(name, rep, True)
    snap.check(name)


def test_launched():
    snap = BpfSnapshot()
    r, doc = run_json(EXACT + ["mem", "--", workload("memsites"), "0"])
    equal(r.returncode, 0, "launched: exit status")
    rep = report(doc, "mem")
    equal(info(rep, "leak_bytes"), LEAK_BYTES, "launched: leaked bytes")
    equal(info(rep, "leak_count"), 50, "launched: leaked blocks")
    check(info(rep, "temporaries") >= 200 + 1 + 1, "launched: temporaries",
          info(rep, "temporaries"))
    equal(info(rep, "failed_allocs"), 2, "launched: failed allocations")
    snap.check("launched")


def test_growth():
    """memsites with ROUND_MS: the grow site gains GROW_PER blocks every
    round, longer apart than the -i interval that samples it, so it rises
    in every round's interval and is flagged; the leak site (one step),
    the temporary and the other sites are not.  With -i the growth table
    is printed each interval."""
    snap = BpfSnapshot()
    r, doc = run_json(EXACT + ["-i", "0.25", "mem", "--", workload("memsites"), "0", "600"])
    equal(r.returncode, 0, "growth: exit status")
    rep = report(doc, "mem")
    rows = table(rep, "mem_growth")
    equal([x["caller"].split(".")[0] for x in rows], ["grow_site"],
          "growth: only the growing site flagged")
    equal(info(rep, "growing_sites"), 1, "growth: one growing site")
    grow = rows[0] if rows else {}
    equal(grow.get("inuse_bytes"), 50 * 256, "growth: its outstanding bytes")
    check(grow.get("rises", 0) >= 5, "growth: rose in every round", grow.get("rises"))
    check(grow.get("growth_per_s", 0) > 0, "growth: a rate", grow.get("growth_per_s"))
    check(r.stdout.count("Growing sites") >= 2, "growth: table printed per interval",
          r.stdout.count("Growing sites"))
    snap.check("growth")


def test_bad_allocator():
    snap = BpfSnapshot()
    r = run(["mem", "--allocator", "libnosuchalloc", "--", workload("memsites"), "0"])
    check(r.returncode in (1, 2), "bad --allocator: fails", r.returncode)
    lines = [l for l in r.stderr.splitlines() if l.startswith("ebprof: ")]
    equal(len(lines), 1, "bad --allocator: one error line")
    snap.check("bad allocator")


if __name__ == "__main__":
    test_attached("glibc -p", None, "libc.so.6")
    test_attached("jemalloc -p", JEMALLOC, "libjemalloc.so.2")
    test_launched()
    test_growth()
    test_bad_allocator()
    finish()
