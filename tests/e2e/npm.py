"""npm packages the e2e tests use as independent consumers, installed by
the test into build/npm (never committed)."""
import os
import subprocess

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PREFIX = os.path.join(ROOT, "build", "npm")


def require(package):
    """Installs package into build/npm unless it is there; its node_modules."""
    mods = os.path.join(PREFIX, "node_modules")
    if not os.path.isdir(os.path.join(mods, package)):
        os.makedirs(PREFIX, exist_ok=True)
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefix", PREFIX, package],
                       check=True, stdout=subprocess.DEVNULL)
    return mods


def node(script, *args, package):
    """Runs a node script with package resolvable; its stdout."""
    env = dict(os.environ, NODE_PATH=require(package))
    return subprocess.run(["node", os.path.join(os.path.dirname(__file__), script)] + list(args),
                          env=env, check=True, stdout=subprocess.PIPE, text=True).stdout
