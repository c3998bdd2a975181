"""Shared by the tests of the formats' consumers: a scratch directory whose
run must leave nothing in the kernel, a live run that writes a format and
saves the same profile as JSON, and frame names as the writers spell them."""
import contextlib
import json
import shutil
import tempfile

from lib import BpfSnapshot, equal, run


@contextlib.contextmanager
def scratch(what):
    """A temporary directory, removed after; then checks that nothing the
    test loaded stays in the kernel."""
    snap = BpfSnapshot()
    tmp = tempfile.mkdtemp()
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp)
    snap.check(what)


def live_saved(tmp, fmt, args):
    """ebprof ARGS (ending in -- COMMAND) writing --format fmt to a file and
    the profile to a JSON file; (the first report of the JSON, the path)."""
    saved, out = f"{tmp}/{fmt}.json", f"{tmp}/out.{fmt}"
    cut = args.index("--")
    r = run(args[:cut] + ["--save", saved, "--format", fmt, "-o", out] + args[cut:])
    equal(r.returncode, 0, f"{fmt}: exit status")
    with open(saved) as f:
        return json.load(f)["reports"][0], out


def frame_name(f):
    """A saved profile's frame as the writers name it (folded's rule)."""
    if f["func"] is not None:
        return f["func"]
    return f"{f['module']}+0x{f['offset']:x}" if f["module"] else f"0x{f['offset']:x}"
