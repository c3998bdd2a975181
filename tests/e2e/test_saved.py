"""Saved profiles: a live run saved with --save (or -o FILE.json) and
rendered again by `ebprof report FILE` gives byte-identical text, folded and
callgrind output, keeps the run's facts, and needs no target and no
privileges; a damaged or foreign file is one error line and status 1."""
import json
import os
import shutil
import subprocess
import tempfile

from lib import EXACT, BpfSnapshot, check, equal, finish, run, workload

PATTERNS = "main,heavy,medium,light"


def read(path):
    with open(path, "rb") as f:
        return f.read()


def unprivileged(args):
    """ebprof as nobody: a saved profile needs no root."""
    def drop():
        os.setgroups([])
        os.setgid(65534)
        os.setuid(65534)
    return run(args, preexec_fn=drop)


def round_trip(tmp, what, live_args, report_args):
    saved, live = f"{tmp}/{what}.json", f"{tmp}/{what}.live"
    r = run(["--save", saved, "-o", live] + live_args)
    equal(r.returncode, 0, f"{what}: live run exit status")
    os.chmod(tmp, 0o755)
    for p in (saved, live):
        os.chmod(p, 0o644)
    again = unprivileged(["report", saved] + report_args)
    equal(again.returncode, 0, f"{what}: ebprof report exit status")
    check(again.stderr == "", f"{what}: ebprof report is silent on stderr", again.stderr)
    check(len(read(live)) > 0, f"{what}: live output not empty")
    equal(again.stdout.encode(), read(live), f"{what}: report FILE renders the live output again")
    return saved


def test_round_trip():
    snap = BpfSnapshot()
    tmp = tempfile.mkdtemp()
    try:
        cmd = ["--", workload("cprofile"), "20"]
        saved = round_trip(tmp, "text", EXACT + ["-f", PATTERNS, "-s", "calls"] + cmd, [])
        round_trip(tmp, "callers", EXACT + ["-f", PATTERNS, "--callers", "light", "-n", "2"] + cmd,
                   ["--callers", "light", "-n", "2"])
        round_trip(tmp, "callgrind", EXACT + ["-f", PATTERNS, "--format", "callgrind"] + cmd,
                   ["--format", "callgrind"])
        round_trip(tmp, "folded", ["cpu", "-d", "1", "--metric", "oncpu", "--format", "folded",
                                   "--", workload("cpusplit")],
                   ["--metric", "oncpu", "--format", "folded"])

        with open(saved) as f:
            doc = json.load(f)
        equal(doc["version"], 2, "schema version")
        rn = doc["run"]
        check(rn["command"].endswith(f" --save {saved} -o {tmp}/text.live --max-overhead 0 "
                                     f"-f {PATTERNS} -s calls -- {workload('cprofile')} 20"),
              "run.command", rn["command"])
        equal(rn["target"], f"{workload('cprofile')} 20", "run.target")
        equal(rn["kernel"], os.uname().release, "run.kernel")
        check(rn["duration"] > 0, "run.duration", rn["duration"])
        calls = {r[-2]: r[1] for r in doc["reports"][0]["tables"][0]["rows"]}
        equal(calls.get("medium"), 400, "saved calls of medium")

        # -o FILE.json saves the profile without --format; it renders again.
        r = run(EXACT + ["-f", "medium", "-o", f"{tmp}/o.json"] + cmd)
        equal(r.returncode, 0, "-o FILE.json: exit status")
        with open(f"{tmp}/o.json") as f:
            equal(json.load(f)["schema"], "ebprof-profile", "-o FILE.json is a saved profile")
        r = run(["report", f"{tmp}/o.json", "-s", "calls", "func"])
        equal(r.returncode, 0, "report FILE REPORT: exit status")
        check("medium" in r.stdout, "report FILE REPORT: the func table", r.stdout)
    finally:
        shutil.rmtree(tmp)
    snap.check("round trip")


def test_bad_files():
    tmp = tempfile.mkdtemp()
    try:
        good = f"{tmp}/good.json"
        r = run(EXACT + ["-f", "medium", "-o", good, "--", workload("cprofile"), "20"])
        equal(r.returncode, 0, "good file: exit status")
        data = read(good)
        doc = json.loads(data)
        other = dict(doc, version=1)
        hostile = json.loads(data)
        hostile["reports"][0]["samples"] = [{"stack": [10 ** 6], "values": [1, 1]}]
        cases = {
            "truncated": data[: len(data) // 2],
            "not json": b"\x7fELF\x02\x01",
            "other schema version": json.dumps(other).encode(),
            "hostile frame index": json.dumps(hostile).encode(),
            "empty": b"",
        }
        for what, content in cases.items():
            path = f"{tmp}/bad.json"
            with open(path, "wb") as f:
                f.write(content)
            r = run(["report", path])
            equal(r.returncode, 1, f"{what}: exit status 1")
            lines = r.stderr.splitlines()
            check(len(lines) == 1 and lines[0].startswith("ebprof: "), f"{what}: one error line",
                  r.stderr)
            equal(r.stdout, "", f"{what}: nothing on stdout")
        r = run(["report", f"{tmp}/missing.json"])
        equal(r.returncode, 1, "missing file: exit status 1")
        for args in (["report"], ["report", good, "-p", "1"], ["report", good, "--metric", "nope"],
                     ["report", good, "cpu"]):
            r = run(args)
            equal(r.returncode, 2, f"{' '.join(args[:1] + args[2:])}: usage error")
            equal(len(r.stderr.splitlines()), 1, f"{args}: one line")
    finally:
        shutil.rmtree(tmp)


test_round_trip()
test_bad_files()
finish()
