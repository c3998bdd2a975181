"""Where symbols came from, in the cpu report: symless spins in
libsymless_dyn.so (stripped to its .dynsym), libsymless_none.so (no function
symbol at all: two hidden spinning functions) and its own spin_in_main.  The report's notes name each module without a
.symtab and its source; the function table has one row for the symbol-less
library, its self the sum of every sample whose leaf is in it."""
from lib import check, equal, finish, metric_index, run_json, table, workload

ROUNDS = 600


def test_symbol_sources():
    r, doc = run_json(["-F", "499", "cpu", "--", workload("symless"), str(ROUNDS)])
    equal(r.returncode, 0, "symless: exit status")
    rep = next(x for x in doc["reports"] if x["report"] == "cpu")
    notes = rep["notes"]
    check(any(n.startswith("libsymless_none.so has no symbols") for n in notes),
          "note: the symbol-less library and its source (none)", notes)
    check(any(n.startswith("libsymless_dyn.so has no .symtab: fell back to .dynsym")
              for n in notes), "note: the .dynsym-only library", notes)
    check(not any(n.startswith("symless") for n in notes),
          "no note for the program's own .symtab", notes)

    rows = table(rep, "functions_oncpu")
    none_rows = [x for x in rows if x["module"] == "libsymless_none.so"]
    equal([x["name"] for x in none_rows], ["[libsymless_none.so]"],
          "one row for the symbol-less library's code")
    # Its self: every on-CPU sample whose leaf frame is in the library.
    m = metric_index(rep, "oncpu")
    frames = rep["frames"]
    leaf_ns = sum(s["values"][m] for s in rep["samples"]
                  if s["stack"] and frames[s["stack"][-1]]["module"] == "libsymless_none.so")
    check(leaf_ns > 0, "samples in the symbol-less library", leaf_ns)
    equal(none_rows[0]["self"], leaf_ns, "its self = the sum of its leaf samples (ns)")
    # The .dynsym library's exported functions are rows of their own.
    dyn = {x["name"]: x for x in rows if x["module"] == "libsymless_dyn.so"}
    check("symless_spin" in dyn and "symless_inner" in dyn, ".dynsym functions named",
          sorted(dyn))
    # Its total: every sample with the library anywhere on its stack, once.
    through = sum(s["values"][m] for s in rep["samples"]
                  if any(frames[k]["module"] == "libsymless_none.so" for k in s["stack"]))
    equal(none_rows[0]["total"], through, "its total = the samples through it, once (ns)")

test_symbol_sources()
finish()
