"""--format pprof, read back by the independent npm decoder pprof-format:
gzip-compressed, one sample type per metric with pprof's units, every
sample's frames (names and mappings, root first) and values those of the
profile saved by the same run (--save), for a live cpu and a live func
run."""
import json

from formats import frame_name, live_saved, scratch
from lib import EXACT, check, equal, finish, workload
from npm import node

UNITS = {"ns": "nanoseconds", "bytes": "bytes"}


def check_against(tmp, what, args):
    rep, pb = live_saved(tmp, "pprof", args)
    got = json.loads(node("pprof_decode.js", pb, packages=["pprof-format"]))
    equal(got["sample_types"], [[m["name"], UNITS.get(m["unit"], "count")]
                                for m in rep["metrics"]], f"{what}: one sample type per metric")
    equal(got["default"], rep["default_metric"], f"{what}: default sample type")
    want = [([frame_name(rep["frames"][i]) for i in s["stack"]],
             [rep["frames"][i]["module"] for i in s["stack"]], s["values"])
            for s in rep["samples"]]
    have = [([f["name"] for f in s["frames"]], [f["mapping"] for f in s["frames"]], s["values"])
            for s in got["samples"]]
    equal(len(have), len(want), f"{what}: one sample per stack")
    equal(have, want, f"{what}: frames, mappings and values of every sample")
    check(len(got["mappings"]) == len(set(got["mappings"])), f"{what}: one mapping per module",
          got["mappings"])
    return got


def test_pprof():
    with scratch("pprof") as tmp:
        got = check_against(tmp, "cpu", ["cpu", "--", workload("cpusplit"), "300", "100"])
        names = {f["name"] for s in got["samples"] for f in s["frames"]}
        check("spin_for" in names, "cpu: the workload's functions by name", sorted(names)[:20])
        got = check_against(tmp, "func", EXACT + ["-f", "heavy,medium,light", "--",
                                                  workload("cprofile"), "20"])
        calls = {s["frames"][-1]["name"]: s["values"][1] for s in got["samples"]}
        equal(calls.get("medium"), 400, "func: medium's calls as pprof-format reads them")


test_pprof()
finish()
