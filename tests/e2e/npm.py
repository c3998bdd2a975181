"""npm packages the e2e tests use as independent consumers, installed by
the test into build/npm (never committed)."""
import os
import subprocess

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PREFIX = os.path.join(ROOT, "build", "npm")


def require(*packages):
    """Installs the packages into build/npm unless there; its node_modules."""
    mods = os.path.join(PREFIX, "node_modules")
    missing = [p for p in packages if not os.path.isdir(os.path.join(mods, p))]
    if missing:
        os.makedirs(PREFIX, exist_ok=True)
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefix", PREFIX] + missing,
                       check=True, stdout=subprocess.DEVNULL)
    return mods


def node(script, *args, packages):
    """Runs a node script with the packages resolvable; its stdout (a
    failing script raises, with its output)."""
    env = dict(os.environ, NODE_PATH=require(*packages))
    r = subprocess.run(["node", os.path.join(os.path.dirname(__file__), script)] + list(args),
                       env=env, stdout=subprocess.PIPE, text=True)
    if r.returncode:
        raise AssertionError(f"{script}: {r.stdout}")
    return r.stdout

