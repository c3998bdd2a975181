"""ebprof diff on saved profiles with known differences (the unit test
fixtures): the text report names each changed row with before, after and
change in regression order; --format folded is "stack before after"; a
file of another schema version, a missing file and bad options are one
error line with status 1 or 2.  Needs no privileges or BPF."""
import json
import os
import re
import shutil
import tempfile

from chromium import dump_dom
from lib import check, equal, finish, run

FIX = os.path.join(os.path.dirname(__file__), "..", "unit", "fixtures", "saved")


def fix(name):
    return os.path.abspath(os.path.join(FIX, name))


def test_text():
    r = run(["diff", fix("func.json"), fix("func_after.json")])
    equal(r.returncode, 0, "diff: exit status")
    rows = [l.split()[0] for l in r.stdout.splitlines()
            if l and l.split()[0] in ("heavy", "medium", "light", "extra", "main")]
    equal(rows, ["heavy", "extra", "main", "medium", "light"], "rows in regression order (tottime)")
    line = next(l for l in r.stdout.splitlines() if l.startswith("medium"))
    check("400" in line and "500" in line and "+25.0%" in line, "medium ncalls 400 -> 500", line)
    heavy = r.stdout.split("heavy cprofile", 1)[1].splitlines()
    cum = next(l for l in heavy if l.split()[0] == "cumtime")
    check("+100 ms" in cum and "523 ms" in cum and "623 ms" in cum, "heavy cumtime +100 ms", cum)
    check("light cprofile (gone)" in r.stdout and "extra cprofile (new)" in r.stdout,
          "rows only on one side are marked", r.stdout)


def test_folded():
    r = run(["diff", fix("cpu.json"), fix("cpu_after.json"), "--format", "folded",
             "--metric", "offcpu"])
    equal(r.returncode, 0, "diff --format folded: exit status")
    changed = [l for l in r.stdout.splitlines() if l.split()[-1] != l.split()[-2]]
    equal(len(changed), 1, "one stack changed")
    equal(changed[0].split()[-2:], ["8785", "17570"], "its before and after (us)")


def test_svg():
    """The differential flame graph in headless Chromium: the script runs,
    widths are AFTER's, the grown stack red, the unchanged frames white."""
    tmp = tempfile.mkdtemp()
    try:
        out = f"{tmp}/diff.svg"
        r = run(["diff", fix("cpu.json"), fix("cpu_after.json"), "--format", "svg",
                 "--metric", "offcpu", "-o", out])
        equal(r.returncode, 0, "diff --format svg: exit status")
        dom = dump_dom(f"file://{out}")
        tag = re.search(r"<svg[^>]*>", dom).group(0)
        check("data-rendered" in tag and "data-error" not in tag, "the script ran", tag)
        fill = {}
        for m in re.finditer(r'data-d="(\d+)" data-n="([^"]*)" data-info="([^"]*)".*?fill="rgb\((\d+),(\d+),(\d+)\)"',
                             dom, re.S):
            fill.setdefault((int(m.group(1)), m.group(2)), (m.group(3), tuple(map(int, m.groups()[3:]))))
        info, rgb = fill[(3, "spin_a")]
        equal(rgb, (255, 255, 255), "spin_a unchanged: white")
        check("change 0 ns" in info, "spin_a: no change in its details", info)
        info, rgb = fill[(3, "spin_b")]
        check(rgb[0] == 255 and rgb[1] < 255 and rgb[1] == rgb[2], "spin_b grew: red", rgb)
        check("before 147 ms" in info and "+8.79 ms" in info, "spin_b: before and change", info)
    finally:
        shutil.rmtree(tmp)


def test_errors():
    tmp = tempfile.mkdtemp()
    try:
        with open(fix("func.json")) as f:
            doc = json.load(f)
        doc["version"] = 1
        old = f"{tmp}/v1.json"
        with open(old, "w") as f:
            json.dump(doc, f)
        for args, status in ((["diff", fix("func.json"), old], 1),
                             (["diff", old, fix("func.json")], 1),
                             (["diff", fix("func.json"), f"{tmp}/missing.json"], 1),
                             (["diff", fix("func.json")], 2),
                             (["diff", fix("func.json"), fix("func.json"), "--format", "dot"], 2),
                             (["diff", fix("cpu.json"), fix("cpu_after.json"), "--format", "svg", "--metric", "nope"], 2),
                             (["diff", fix("func.json"), fix("func.json"), "cpu"], 2)):
            r = run(args)
            equal(r.returncode, status, f"{' '.join(args[2:])}: exit status {status}")
            lines = r.stderr.splitlines()
            check(len(lines) == 1 and lines[0].startswith("ebprof: "), "one error line", r.stderr)
    finally:
        shutil.rmtree(tmp)


test_text()
test_folded()
test_svg()
test_errors()
finish()
