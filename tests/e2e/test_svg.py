"""--format svg, opened in headless Chromium: the script runs without
error and lays out every frame; the search highlights the frames named
and reports the share the saved profile gives them; zoom keeps only the
zoomed frame's subtree (with its ancestors) at full width; icicle mode
puts the root at the top; and a screenshot shows frames in the user,
kernel and off-CPU colours."""
import re

from chromium import dump_dom, png_pixels, screenshot
from formats import frame_name, live_saved, scratch
from lib import check, equal, finish, workload


def frames(dom):
    """(name, depth, rect y, rect width, hidden, highlighted) of each frame."""
    out = []
    for m in re.finditer(r'<g class="f([^"]*)"([^>]*)>.*?<rect ([^>]*)/>', dom, re.S):
        attrs, rect = m.group(2), m.group(3)
        out.append((re.search(r'data-n="([^"]*)"', attrs).group(1),
                    int(re.search(r'data-d="(\d+)"', attrs).group(1)),
                    float(re.search(r' y="([-\d.]+)"', " " + rect).group(1)),
                    float(re.search(r'width="([\d.]+)"', rect).group(1)),
                    "display: none" in attrs, "hl" in m.group(1)))
    return out


def test_svg():
    with scratch("svg") as tmp:
        rep, svg = live_saved(tmp, "svg", ["cpu", "--", workload("cpusplit"), "300", "100"])
        m = [x["name"] for x in rep["metrics"]].index(rep["default_metric"])
        total = sum(s["values"][m] for s in rep["samples"])
        with_a = sum(s["values"][m] for s in rep["samples"]
                     if "spin_a" in [frame_name(rep["frames"][i]) for i in s["stack"]])
        url = f"file://{svg}"

        dom = dump_dom(url + "#search=^spin_a$")
        svg_tag = re.search(r"<svg[^>]*>", dom).group(0)
        check("data-error" not in svg_tag, "the script ran without error", svg_tag)
        fr = frames(dom)
        rendered = int(re.search(r'data-rendered="(\d+)"', dom).group(1))
        equal(rendered, len(fr), "every frame laid out")
        check(rendered > 3, "frames drawn", rendered)
        matched = float(re.search(r'data-matched="([\d.]+)%"', dom).group(1))
        check(abs(matched - 100.0 * with_a / total) < 0.15, "search: spin_a's share",
              (matched, 100.0 * with_a / total))
        check(all(h == (n == "spin_a") for n, _, _, _, _, h in fr), "search highlights spin_a only")
        root = [f for f in fr if f[1] == 0][0]

        dom = dump_dom(url + "#zoom=spin_a")
        fr = frames(dom)
        a = [f for f in fr if f[0] == "spin_a"][0]
        check(a[3] > 1170, "zoom: spin_a at full width", a)
        check(all(f[4] for f in fr if f[0] == "spin_b"), "zoom: spin_b hidden")
        check(not [f for f in fr if f[1] == 0][0][4], "zoom: the root still shown")

        dom = dump_dom(url + "#icicle")
        iroot = [f for f in frames(dom) if f[1] == 0][0]
        check(iroot[2] < root[2], "icicle: the root moves to the top", (iroot, root))

        height = int(re.search(r'height="(\d+)"', open(svg).read()).group(1))
        png = f"{tmp}/shot.png"
        screenshot(url, png, 1200, height)
        px = png_pixels(png)
        warm = sum(1 for r_, g, b in px if r_ >= 200 and b <= 60)
        blue = sum(1 for r_, g, b in px if b >= 200 and r_ <= 120)
        check(warm > len(px) // 50, "screenshot: user frames (warm) drawn", warm)
        check(blue > 0, "screenshot: off-CPU frames (blue) drawn", blue)


test_svg()
finish()
