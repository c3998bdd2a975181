"""--assert on a live run and on saved profiles: one PASS/FAIL line per
assertion with the measured value (the profile's own, read back from the
--save copy), exit status 3 on any FAIL; a bad expression, unknown name,
unit or untraced function is one line and status 2 before anything runs.
Verdicts here never depend on machine speed: counts are exact and time
limits are on the side of zero."""
import json
import os
import re

from formats import scratch
from lib import EXACT, check, equal, finish, run, workload

LINE = re.compile(r"^assert (PASS|FAIL): (.*) \(measured (.*)\)$")


def verdicts(stdout):
    return [LINE.match(l).groups() for l in stdout.splitlines() if LINE.match(l)]


def row(doc, name):
    t = doc["reports"][0]["tables"][0]
    keys = [c["key"] for c in t["columns"]]
    for r in t["rows"]:
        d = dict(zip(keys, r))
        if d["name"] == name:
            return d
    raise AssertionError(f"no row {name}")


def test_live():
    with scratch("live --assert") as tmp:
        saved = f"{tmp}/run.json"
        checks = ["medium.ncalls == 400", "heavy.cumtime > 0ns", "light.ncalls == 201",
                  "func.functions == 3"]
        args = EXACT + ["-f", "heavy,medium,light", "--save", saved, "-o", f"{tmp}/out.txt"]
        for a in checks:
            args += ["--assert", a]
        r = run(args + ["--", workload("cprofile"), "20"])
        equal(r.returncode, 3, "a failing assertion: exit status 3")
        v = verdicts(r.stdout)
        equal([x[1] for x in v], checks, "one line per assertion, in order")
        equal([x[0] for x in v], ["PASS", "PASS", "FAIL", "PASS"], "verdicts")
        with open(saved) as f:
            doc = json.load(f)
        equal(v[0][2], str(row(doc, "medium")["calls"]), "measured ncalls is the profile's")
        equal(v[2][2], "200", "measured light ncalls")
        # The report renders the same verdicts from the saved profile.
        again = run(["report", saved, "-o", f"{tmp}/again.txt"] +
                    sum((["--assert", a] for a in checks), []))
        equal(again.returncode, 3, "report FILE --assert: exit status 3")
        equal(verdicts(again.stdout), v, "report FILE: the same verdicts and values")
        ok = run(["report", saved, "-o", f"{tmp}/ok.txt", "--assert", "medium.ncalls == 400"])
        equal(ok.returncode, 0, "all pass: exit status 0")


def test_refused_before_collecting():
    with scratch("refused --assert") as tmp:
        marker = f"{tmp}/ran"
        cases = {
            "malformed": "heavy.cumtime <",
            "unknown unit": "heavy.cumtime < 9 parsecs",
            "missing unit": "heavy.cumtime < 9",
            "unknown column": "heavy.nocol < 1",
            "untraced function": "medium.cumtime < 1s",
            "report not collected": "mem.leaked < 1MB",
            "kstones without --calibrate": "heavy.cumtime < 9 kstones",
        }
        for what, expr in cases.items():
            r = run(EXACT + ["-f", "heavy", "--assert", expr, "--", "touch", marker])
            equal(r.returncode, 2, f"{what}: exit status 2")
            lines = r.stderr.splitlines()
            check(len(lines) == 1 and lines[0].startswith("ebprof: --assert "),
                  f"{what}: one error line", r.stderr)
            check(not os.path.exists(marker), f"{what}: the command never ran")


def test_calibrate():
    """--calibrate records the figure in every report, and a kstones
    assertion is the time divided by it (no verdict here depends on the
    machine's speed: the limits are on the side of zero)."""
    with scratch("--calibrate") as tmp:
        saved = f"{tmp}/run.json"
        r = run(EXACT + ["-f", "heavy", "--calibrate", "--save", saved, "-o", f"{tmp}/o.txt",
                         "--assert", "heavy.cumtime > 0 kstones",
                         "--assert", "heavy.cumtime < 0 kstones",
                         "--", workload("cprofile"), "20"])
        equal(r.returncode, 3, "one failing kstones assertion: exit status 3")
        v = verdicts(r.stdout)
        equal([x[0] for x in v], ["PASS", "FAIL"], "kstones verdicts")
        with open(saved) as f:
            doc = json.load(f)
        k = doc["reports"][0]["info"]["kstone_ns"]
        check(k > 0, "the calibration figure is in the report", k)
        want = row(doc, "heavy")["cumtime"] / k
        got = float(v[0][2].split()[0])
        check(abs(got - want) <= 0.05 + want * 1e-9, "measured kstones = cumtime / kstone_ns",
              (got, want))
        check("calibration" in open(f"{tmp}/o.txt").read(), "the text report shows the figure")


test_live()
test_refused_before_collecting()
test_calibrate()
finish()
