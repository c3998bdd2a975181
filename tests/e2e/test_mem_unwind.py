"""mem report stacks by the unwind tables: memsites built without frame
pointers (memsites_nofp), attached with -p behind the start gate.  At the
allocator's entry the CFI walk finds the caller, so every site keeps its
exact counts under its own function, every stack is exactly
_start > ... > main > the site > the allocator function, nothing is cut
and the header has no "[rsp]" workaround note; with --unwind fp the caller
still comes from [rsp] (and the note says so)."""
from lib import EXACT, BpfSnapshot, check, equal, finish, info, report, run_gated, start, stop, workload
from test_mem import SITES, check_sites

LIBC_START = ["_start", "__libc_start_main", "__libc_start_call_main", "main"]
SITE_FUNCS = set(SITES) | {"overflow_site", "refail_site", "rezero_site"}
ALLOC_FUNCS = {"malloc", "calloc", "realloc", "reallocarray", "posix_memalign",
               "aligned_alloc", "memalign", "valloc", "pvalloc"}
RSP_NOTE = "return address at [rsp]"


def profile(unwind):
    snap = BpfSnapshot()
    target = start([workload("memsites_nofp"), "sig"], gated=True)
    try:
        r, doc = run_gated(EXACT + ["--unwind", unwind, "-p", str(target.pid), "mem"], target)
    finally:
        target.wait()
        stop(target)
    what = f"memsites_nofp --unwind {unwind}"
    equal(r.returncode, 0, f"{what}: exit status")
    rep = report(doc, "mem")
    snap.check(what)
    return rep, what


def user_stacks(rep):
    """Every site's user stack as function names, root first
    (.constprop suffixes dropped)."""
    frames = rep["frames"]
    return [[frames[i]["func"].split(".")[0] for i in s["stack"] if frames[i]["kind"] == "user"]
            for s in rep["samples"]]


def test_cfi(unwind):
    rep, what = profile(unwind)
    check_sites(what, rep, True)
    stacks = user_stacks(rep)
    bad = [s for s in stacks
           if s[:4] != LIBC_START or len(s) != 6 or s[4] not in SITE_FUNCS or s[5] not in ALLOC_FUNCS]
    check(stacks and not bad, f"{what}: every stack is main > site > allocator from _start",
          bad[:3])
    equal({s[4] for s in stacks}, SITE_FUNCS, f"{what}: every site seen under its function")
    for k in ("lost_user_stack_read", "lost_no_unwind_info", "lost_table_too_large",
              "lost_bad_walk", "lost_truncated"):
        equal(info(rep, k), 0, f"{what}: {k}")
    notes = " ".join(rep.get("notes", []))
    check(RSP_NOTE not in notes, f"{what}: no [rsp] workaround note")


def test_fp():
    rep, what = profile("fp")
    check_sites(what, rep, True)
    check(RSP_NOTE in " ".join(rep.get("notes", [])), f"{what}: the [rsp] note says how")


if __name__ == "__main__":
    test_cfi("auto")
    test_cfi("dwarf")
    test_fp()
    finish()
