"""Debian's chromium, headless, for the svg flame graph tests: the DOM
after the page's scripts ran, and a screenshot."""
import shutil
import subprocess
import tempfile

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _run(args):
    profile = tempfile.mkdtemp()
    try:
        r = subprocess.run(["/usr/bin/chromium"] + FLAGS + [f"--user-data-dir={profile}"] + args,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=300)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    if r.returncode:
        raise AssertionError(f"chromium failed: {r.stderr[-2000:]}")
    return r.stdout


def dump_dom(url):
    return _run(["--dump-dom", url])


def screenshot(url, png, width, height):
    _run([f"--window-size={width},{height}", f"--screenshot={png}", url])


def png_pixels(path):
    """The (r, g, b) pixels of an 8-bit RGB or RGBA non-interlaced PNG (what
    chromium's screenshots are), decoded with zlib."""
    import struct
    import zlib
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise AssertionError("not a PNG")
    pos, idat, hdr = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            hdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    width, height, depth, ctype, _, _, interlace = hdr
    if depth != 8 or ctype not in (2, 6) or interlace:
        raise AssertionError(f"unexpected PNG layout {hdr}")
    bpp = 3 if ctype == 2 else 4
    raw, stride, prev, out = zlib.decompress(idat), width * bpp, bytearray(width * bpp), []
    for y in range(height):
        ftype, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if ftype == 1:
                line[i] = (line[i] + a) & 255
            elif ftype == 2:
                line[i] = (line[i] + b) & 255
            elif ftype == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        out.extend(tuple(line[i:i + 3]) for i in range(0, stride, bpp))
        prev = line
    return out
