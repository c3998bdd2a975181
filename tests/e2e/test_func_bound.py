"""func report: a traced library function that got no calls because the
target binds its name to another library says so.  With
LD_PRELOAD=libjemalloc.so.2, -f 'libc:malloc' counts nothing, and a note
names libjemalloc.so.2 and the pattern to use instead; that pattern then
counts the calls.  Without the preload libc's malloc gets the calls and
no such note appears.  Nothing stays in the kernel."""
import os

from lib import EXACT, BpfSnapshot, check, equal, finish, report, run_json, table, workload

JEMALLOC = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"


def malloc_calls(rep):
    return sum(r["calls"] for r in table(rep, "functions") if r["name"] == "malloc")


def traced(name, pattern, preload):
    """Runs memsites under -f pattern, LD_PRELOAD=preload (or none);
    returns (malloc calls, notes about a binding elsewhere)."""
    os.environ.pop("LD_PRELOAD", None)
    if preload:
        os.environ["LD_PRELOAD"] = preload  # ebprof passes it on to the command
    try:
        r, doc = run_json(EXACT + ["-f", pattern, "--", workload("memsites"), "0"])
    finally:
        os.environ.pop("LD_PRELOAD", None)
    equal(r.returncode, 0, f"{name}: exit status")
    rep = report(doc, "func")
    return malloc_calls(rep), [n for n in rep["notes"] if "got no calls" in n]


def main():
    snap = BpfSnapshot()
    calls, notes = traced("preloaded, libc:malloc", "libc:malloc", JEMALLOC)
    equal(calls, 0, "preloaded, libc:malloc: no calls reach libc's malloc")
    check(len(notes) == 1 and "binds malloc to libjemalloc.so.2" in notes[0] and
          ("-f '%s:malloc'" % JEMALLOC) in notes[0],
          "preloaded: the note names libjemalloc.so.2 and the pattern to use", notes)
    # a launched command's preload is found by its path (the pattern the note gives)
    jcalls, jnotes = traced("preloaded, the note's pattern", JEMALLOC + ":malloc", JEMALLOC)
    # memsites calls malloc directly 303 times after the gate (leak 50, temp
    # 200, grow 50, refail, rezero, big), more before it and from libc
    check(jcalls >= 303, "preloaded: the suggested pattern counts the calls", jcalls)
    equal(jnotes, [], "preloaded, the note's pattern: no note")
    calls, notes = traced("no preload", "libc:malloc", None)
    check(calls >= 303, "no preload: libc's malloc counts the calls", calls)
    equal(notes, [], "no preload: no note")
    snap.check("bound")
    finish()


if __name__ == "__main__":
    main()
