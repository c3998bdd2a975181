"""func report: times without probe cost.  probecost's outer() calls the
traced empty() 10,000 times per run between fixed spins; the workload times
the same loop without probes itself (outer_ref), and outer's corrected own
time must match it.  Also: --raw-times keeps the probe cost in."""
import os
import tempfile

from lib import (EXACT, BpfSnapshot, calibration_run, check, equal, finish, near, report, run_json,
                 table, workload)


def rows_by_name(rep):
    return {r["name"]: r for r in table(rep, "functions")}


def probecost_run(work_us, extra=()):
    fd, truth = tempfile.mkstemp(prefix="ebprof-e2e-probecost-")
    os.close(fd)
    try:
        os.environ["PROBECOST_TRUTH"] = truth
        r, doc = run_json(EXACT + list(extra) + ["-f", "outer,empty", "--",
                                                 workload("probecost"), str(work_us)])
        with open(truth) as f:
            ref_ns, outer_ns, calls, outer_calls = (int(x) for x in f.read().split())
    finally:
        os.environ.pop("PROBECOST_TRUTH", None)
        os.unlink(truth)
    return r, report(doc, "func"), ref_ns, outer_ns, calls, outer_calls


def test_corrected():
    snap = BpfSnapshot()
    # The correction removes the calibrated cost: this test checks that
    # calibration, so a cost given in the environment must not replace it.
    os.environ.pop("EBPROF_PROBE_COST_NS", None)
    cost = calibration_run(["-f", "outer,empty", "--", workload("probecost"), "1"])
    cost_ns = cost["info"]["probe_cost_ns"]
    # Spins four times what the probes of one call cost, however dear
    # probes are here: uncorrected, they add a quarter to outer's cumtime;
    # 10 % of the untraced time is 40 % of the probe cost, room for the
    # probe cost of a loaded machine drifting from what was calibrated.
    work_us = max(10, int(4 * cost_ns / 1000))
    r, rep, ref_ns, outer_ns, calls, outer_calls = probecost_run(work_us)
    equal(r.returncode, 0, "corrected: exit status")
    rows = rows_by_name(rep)
    outer, empty = rows.get("outer", {}), rows.get("empty", {})
    equal(empty.get("calls"), calls, "corrected: empty's calls")
    equal(outer.get("calls"), outer_calls, "corrected: outer's calls")
    info = rep["info"]
    check(info.get("times") == "corrected for probe cost", "corrected: header says so",
          info.get("times"))
    check(0 < info.get("probe_cost_inside_ns", 0) < info.get("probe_cost_ns", 0),
          "corrected: the inner part of the probe cost is measured, below the whole",
          (info.get("probe_cost_inside_ns"), info.get("probe_cost_ns")))
    check(any("--raw-times" in n and "corrected" in n for n in rep["notes"]),
          "corrected: a note says how to turn the correction off", rep["notes"])
    # outer's own time per run, without the probes of its 10,000 empty()
    # calls (and its own), against the same loop timed without probes.
    # Within 10 %, plus what the run itself says the correction can be off
    # by: the probe cost measured again at the end differs from the one
    # corrected with by that much per traced call (a busy machine).
    drift_ns = abs(info.get("probe_cost_end_ns", cost_ns) - info.get("probe_cost_ns", 0))
    tol_ns = 0.10 * ref_ns + (calls / 2 + 1) * drift_ns
    for key in ("tottime", "cumtime"):
        got = outer.get(key, 0) / 2
        check(abs(got - ref_ns) <= tol_ns,
              f"corrected: outer {key} per run ~ untraced, within 10 % + the run's cost drift",
              f"{got:.0f} vs {ref_ns}, tolerance {tol_ns:.0f} (drift {drift_ns:.0f} ns)")
    check("probe_cost_end_ns" in info, "corrected: the cost is measured again at the end",
          sorted(info))
    # The raw values stay in json, and hold the probe cost the workload saw.
    near(outer.get("cumtime_raw", 0) / 2, outer_ns, 0.05,
         "corrected: raw cumtime per run ~ what outer measured of itself")
    check(outer.get("tottime_raw", 0) > outer.get("tottime", 0), "corrected: raw tottime is larger",
          (outer.get("tottime_raw"), outer.get("tottime")))
    # empty() does nothing: uncorrected its time is the inner part of every
    # call's probes; corrected, that part is taken off.  (How much is left
    # depends on how far the probe cost during the run drifted from the
    # calibration, which a loaded machine decides: the bound is outer's.)
    check(empty.get("tottime", 1e18) < empty.get("tottime_raw", 0),
          "corrected: empty's time is less than as measured",
          (empty.get("tottime"), empty.get("tottime_raw")))
    check(empty.get("min", 1e18) < 0.5 * cost_ns, "corrected: empty's min too", empty.get("min"))
    snap.check("corrected")


def test_raw_times():
    snap = BpfSnapshot()
    r, rep, ref_ns, outer_ns, calls, _ = probecost_run(10, ["--raw-times"])
    equal(r.returncode, 0, "--raw-times: exit status")
    outer = rows_by_name(rep).get("outer", {})
    equal(rep["info"].get("times"), "raw (probe cost included)", "--raw-times: header says so")
    equal(outer.get("tottime"), outer.get("tottime_raw"), "--raw-times: tottime is the raw one")
    near(outer.get("cumtime", 0) / 2, outer_ns, 0.05,
         "--raw-times: cumtime per run ~ what outer measured of itself")
    snap.check("--raw-times")


test_corrected()
test_raw_times()
finish()
