"""--format speedscope, checked against the file-format schema of the npm
speedscope package (validated with ajv) and against the profile saved by
the same run: one sampled profile per metric of every stack report, each
sample's frames (names and files, root first) and weights the profile's,
the active profile the default metric."""
import json

from formats import frame_name, live_saved, scratch
from lib import check, equal, finish, workload
from npm import node

UNITS = {"ns": "nanoseconds", "bytes": "bytes"}


def test_speedscope():
    with scratch("speedscope") as tmp:
        rep, out = live_saved(tmp, "speedscope", ["cpu", "--", workload("cpusplit"), "300", "100"])
        equal(node("speedscope_check.js", out, packages=["speedscope", "ajv"]).strip(), "ok",
              "valid against speedscope's file-format schema")
        with open(out) as f:
            doc = json.load(f)
        frames = doc["shared"]["frames"]
        equal([p["name"] for p in doc["profiles"]], [f"cpu: {m['name']}" for m in rep["metrics"]],
              "one profile per metric")
        names = [m["name"] for m in rep["metrics"]]
        equal(doc["activeProfileIndex"], names.index(rep["default_metric"]), "active profile")
        for m, prof in enumerate(doc["profiles"]):
            equal(prof["unit"], UNITS.get(rep["metrics"][m]["unit"], "none"), f"{names[m]}: unit")
            want = [([frame_name(rep["frames"][i]) for i in s["stack"]], s["values"][m])
                    for s in rep["samples"] if s["values"][m]]
            have = [([frames[i]["name"] for i in st], w)
                    for st, w in zip(prof["samples"], prof["weights"])]
            equal(have, want, f"{names[m]}: stacks and weights")
            equal(prof["endValue"], sum(w for _, w in want), f"{names[m]}: endValue is the total")
        check(any(f["name"] == "spin_for" and f.get("file") == "cpusplit" for f in frames),
              "the workload's function with its module", frames[:5])


test_speedscope()
finish()
