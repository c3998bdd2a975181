"""net retransmits against the kernel's own count: two network namespaces
joined by veth, nftables dropping a random share of the TCP packets into
each, netpair's clients in one and its server in the other.  Every
retransmit ebprof attributes to the target's sockets must equal
TcpRetransSegs of both namespaces over the run.  The namespaces (and with
them the veth pair and the nftables rules) are created and removed here."""
import os
import subprocess

from lib import (BpfSnapshot, check, equal, finish, report, run_gated, start, stop, table,
                 workload)

TAG = f"ebp{os.getpid()}"
NS_A, NS_B = f"{TAG}a", f"{TAG}b"
ADDR_A, ADDR_B = "10.213.0.1", "10.213.0.2"
DROP_PCT = 10


def sh(*args):
    print("  #", " ".join(args), flush=True)
    subprocess.run(args, check=True)


def in_ns(ns, *args):
    sh("ip", "netns", "exec", ns, *args)


def retrans_segs(ns):
    out = subprocess.run(["ip", "netns", "exec", ns, "nstat", "-asz", "TcpRetransSegs"],
                         capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        if line.startswith("TcpRetransSegs"):
            return int(line.split()[1])
    return 0


def setup():
    sh("ip", "netns", "add", NS_A)
    sh("ip", "netns", "add", NS_B)
    sh("ip", "link", "add", f"{TAG}x", "netns", NS_A, "type", "veth", "peer", "name",
       f"{TAG}y", "netns", NS_B)
    for ns, dev, addr in ((NS_A, f"{TAG}x", ADDR_A), (NS_B, f"{TAG}y", ADDR_B)):
        in_ns(ns, "ip", "addr", "add", f"{addr}/24", "dev", dev)
        in_ns(ns, "ip", "link", "set", dev, "up")
        in_ns(ns, "ip", "link", "set", "lo", "up")


def drop_packets():
    for ns in (NS_A, NS_B):
        in_ns(ns, "nft", "add", "table", "inet", TAG)
        in_ns(ns, "nft", "add", "chain", "inet", TAG, "in",
              "{ type filter hook input priority 0; }")
        # Data segments only (no SYN, FIN, RST, nor bare ACKs): every loss
        # is then repaired while the workload still exchanges data, so the
        # kernel's count over the run is the count of the run ebprof saw
        # (a dropped FIN or final ACK is retransmitted after the target has
        # exited and ebprof has stopped).
        in_ns(ns, "nft", "add", "rule", "inet", TAG, "in", "meta", "l4proto", "tcp",
              "tcp", "flags", "&", "(syn|fin|rst)", "==", "0", "meta", "length", ">", "200",
              "numgen", "random", "mod", "100", "<", str(DROP_PCT), "drop")


def teardown():
    for ns in (NS_A, NS_B):  # the veth pair and the rules go with them
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def test_retransmits():
    snap = BpfSnapshot()
    p = None
    try:
        setup()
        os.environ["NETPAIR_SERVER_NETNS"] = f"/run/netns/{NS_B}"
        try:
            # connections set up before the drops: only data and ACKs are lost
            p = start(["ip", "netns", "exec", NS_A, workload("netpair"), "tcp", ADDR_B, "2",
                       "300", "1000", "3000", "0", "sig"], gated=True)
        finally:
            del os.environ["NETPAIR_SERVER_NETNS"]
        drop_packets()
        before = retrans_segs(NS_A) + retrans_segs(NS_B)
        r, doc = run_gated(["-p", str(p.pid), "net"], p, timeout=600)
        equal(r.returncode, 0, "retrans: exit status")
        equal(p.wait(timeout=60), 0, "retrans: target exit 0")
        kernel = retrans_segs(NS_A) + retrans_segs(NS_B) - before
        socks = [s for s in table(report(doc, "net"), "sockets") if s["proto"] == "tcp"]
        equal(len(socks), 4, "retrans: two client and two server sockets")
        ours = sum(s["retrans"] for s in socks)
        check(kernel > 0, "retrans: the drops caused retransmits", kernel)
        equal(ours, kernel, "retrans: ebprof's count == TcpRetransSegs of both namespaces")
        eps = table(report(doc, "net"), "endpoints")
        equal(sum(e["retrans"] for e in eps), ours, "retrans: endpoints sum the sockets")
        check(all(s["remote"].startswith(ADDR_A) or s["remote"].startswith(ADDR_B)
                  for s in socks), "retrans: traffic between the namespaces only")
    finally:
        if p:
            stop(p)
        teardown()
    left = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    check(TAG not in left, "retrans: namespaces removed")
    snap.check("retrans")


test_retransmits()
finish()
