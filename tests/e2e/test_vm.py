"""vm report (the light layer of the memory report) against touchmem, whose
growth is known exactly: grow_memory() touches TOUCHED pages of new memory
(an anonymous mmap, malloc'd 1 MiB blocks, sbrk growth) and churn() reuses
one 64 KiB heap block CHURN times; the workload writes what it touched and
mapped to TOUCHMEM_TRUTH.  Attached with -p behind the start gate, and
launched with -- (idle and with every CPU busy: held at its entry point
until the unwind tables are loaded); the default run (no report named) has
cpu and vm."""
import os
import tempfile

from lib import (BpfSnapshot, CpuHogs, check, equal, finish, info, near, node_totals, report, run,
                 run_gated, run_json, start, stop, table, truth_file, workload)

MMAP_PAGES, BLOCKS, BRK_PAGES, CHURN = 512, 4, 256, 3000
LONG_NAME = "long_name_" * 70  # grow_memory's caller: a 700-byte name, whole in every format


def args(gate):
    return [workload("touchmem"), gate, str(MMAP_PAGES), str(BLOCKS), str(BRK_PAGES),
            str(CHURN)]


def truth(rows):
    return {k: int(v) for k, v in rows()}


def by_prefix(totals, name):
    """A function's value, its compiler clones (name.constprop.0) included."""
    return sum(v for k, v in totals.items() if k == name or k.startswith(name + "."))


def check_vm(rep, t, what):
    page = t["page"]
    touched = node_totals(rep, "touched_bytes")
    mapped = node_totals(rep, "mapped_bytes")
    truth_touched = t["touched_pages"] * page
    near(by_prefix(touched, "grow_memory"), truth_touched, 0.10,
         f"{what}: bytes touched by grow_memory")
    # churn reuses one block: at most that block's pages are new, however
    # many times it runs.
    churned = by_prefix(touched, "churn")
    check(churned <= t["churn_block"] + page,
          f"{what}: churn's {CHURN} allocate-free rounds are no growth",
          f"{churned} <= {t['churn_block'] + page}")
    # Every mapping grow_memory makes is booked under it: its own mmap, and
    # those libc makes for it (malloc's mmap of a large block, sbrk's brk),
    # whose wrappers keep no frame pointer: the unwind tables find the
    # caller.  (The workload's truth is the sum of what it asked for.)  A
    # command launched with no delay too: it is held at its entry point
    # until the tables of its libraries are loaded.
    check(by_prefix(mapped, "grow_memory") >= t["mapped_bytes"],
          f"{what}: every mapping grow_memory made (also through malloc and sbrk) is under it",
          f"{by_prefix(mapped, 'grow_memory')} >= {t['mapped_bytes']}")
    check(info(rep, "mapped_bytes") >= t["mapped_bytes"], f"{what}: every mapping counted",
          f"{info(rep, 'mapped_bytes')} >= {t['mapped_bytes']}")
    sites = table(rep, "sites")
    top = max(sites, key=lambda s: s["touched_bytes"])
    equal(top["function"], "grow_memory", f"{what}: the largest site")
    check(top["caller"] == LONG_NAME, f"{what}: the site's caller, its 700-byte name whole",
          f"{len(top['caller'])} bytes, {top['caller'][:40]}")
    near(top["touched_bytes"], truth_touched, 0.10, f"{what}: the grow_memory site's bytes")
    tl = table(rep, "timeline")
    check(len(tl) >= 2, f"{what}: resident-set timeline", len(tl))
    check(all(a["time"] <= b["time"] for a, b in zip(tl, tl[1:])), f"{what}: timeline in order")
    peak = max(r["rss"] for r in tl)
    equal(info(rep, "rss_peak"), peak, f"{what}: rss_peak is the timeline's peak")
    check(peak >= truth_touched, f"{what}: resident peak holds the touched bytes",
          f"{peak} >= {truth_touched}")
    check(max(r["anon"] for r in tl) >= truth_touched, f"{what}: anonymous peak")
    check(len(table(rep, "rss_curve")) >= 2, f"{what}: compact curve")
    check(info(rep, "minflt") >= t["touched_pages"], f"{what}: minor faults counted",
          f"{info(rep, 'minflt')} >= {t['touched_pages']}")
    check(info(rep, "first_touch_faults") >= t["touched_pages"],
          f"{what}: first-touch faults counted")
    for k in ("lost_sites_full", "lost_stacks", "lost_calls_full", "lost_readings",
              "lost_no_unwind_info"):
        equal(info(rep, k), 0, f"{what}: {k}")
    # A fault on a stack page not yet present (the stack growing) cannot
    # be walked through that page: the kernel takes no nested fault in a
    # tracepoint.  Such cuts are counted; a handful in a run.
    cut = info(rep, "lost_user_stack_read")
    check(cut is not None and cut * 100 <= info(rep, "first_touch_faults"),
          f"{what}: stacks cut by an unreadable user stack: shown, under 1 % of faults", cut)


def test_attached():
    snap = BpfSnapshot()
    with truth_file("TOUCHMEM_TRUTH") as rows:
        target = start(args("sig"), gated=True)
        try:
            r, doc = run_gated(["-p", str(target.pid), "vm"], target)
        finally:
            stop(target)
        equal(r.returncode, 0, "attached: exit status")
        check_vm(report(doc, "vm"), truth(rows), "attached")
    snap.check("attached")


def test_default_launched(what="launched"):
    snap = BpfSnapshot()
    with truth_file("TOUCHMEM_TRUTH") as rows:
        r, doc = run_json(["--"] + args("0"))
        equal(r.returncode, 0, f"{what}: exit status")
        names = [rep["report"] for rep in doc["reports"]]
        equal(names, ["cpu", "vm"], f"{what}: no report named runs cpu and vm")
        check(report(doc, "vm")["info"].get("entry_hold_ns", 0) > 0,
              f"{what}: held at its entry point")
        check_vm(report(doc, "vm"), truth(rows), what)
    snap.check(what)


def out_file():
    fd, path = tempfile.mkstemp(prefix="ebprof-e2e-vm-")
    os.close(fd)
    return path


def read_out(path):
    with open(path, "rb") as f:
        text = f.read()
    os.unlink(path)
    return text


def test_folded_metric():
    out = out_file()
    with truth_file("TOUCHMEM_TRUTH") as rows:
        r = run(["vm", "--format", "folded", "--metric", "touched_bytes", "-o", out, "--"]
                + args("0"))
        equal(r.returncode, 0, "folded: exit status")
        t = truth(rows)
    lines = read_out(out).decode().splitlines()
    grown = [ln for ln in lines if ";grow_memory" in ln]
    near(sum(int(ln.rsplit(" ", 1)[1]) for ln in grown), t["touched_pages"] * t["page"], 0.10,
         "folded: grow_memory's touched bytes")
    check(grown and all(f";main;{LONG_NAME};grow_memory" in ln for ln in grown),
          "folded: grow_memory under its caller's 700-byte name, whole",
          [ln[:120] for ln in grown[:2]])


def test_single_report_format():
    # A format of one report with no report named renders cpu alone (the
    # light layer needs a format with room for two reports).
    out = out_file()
    r = run(["--format", "folded", "-o", out, "--", workload("touchmem"), "0", "1", "0", "0",
             "0", "0"])
    equal(r.returncode, 0, "one-report format, no report named: exit status")
    text = read_out(out).decode()
    check(text.strip() != "", "one-report format: a profile written")
    check(all(ln.rsplit(" ", 1)[1].isdigit() for ln in text.splitlines()),
          "one-report format: folded lines of one report")


if __name__ == "__main__":
    test_attached()
    test_default_launched()
    with CpuHogs():
        test_default_launched("launched, busy CPUs")
    test_folded_metric()
    test_single_report_format()
    finish()
