"""net report against netpair, whose traffic is known exactly: CONNS
loopback TCP connections of REQS requests of Q bytes, each answered with A
bytes after DELAY_MS (the workload measures the delays it really got and
writes them to NET_TRUTH); UDP datagrams over a connected client and an
unconnected server socket; IPv6 on ::1; the event stream through pipes."""
import json
import os
import subprocess
import tempfile

from lib import (BpfSnapshot, check, equal, finish, near, popen_ebprof, report, run, run_gated,
                 run_json, start, stop, table, wait_profiling, workload)

CONNS, REQS, Q, A, DELAY_MS = 3, 5, 1000, 7000, 20


def tcp_args(host="127.0.0.1", conns=CONNS, reqs=REQS, delay=DELAY_MS, gate=None):
    a = [workload("netpair"), "tcp", host, str(conns), str(reqs), str(Q), str(A), str(delay)]
    return a + ([gate] if gate else [])


def truth_file():
    fd, path = tempfile.mkstemp(prefix="ebprof-net-truth-")
    os.close(fd)
    return path


def read_truth(path):
    """(server p50, client p50, {client local port: its own p50}), ns."""
    with open(path) as f:
        lines = [ln.split() for ln in f if ln.strip()]
    os.unlink(path)
    srv, cli = (int(x) for x in lines[0])
    own = {ln[1]: int(ln[2]) for ln in lines[1:] if ln[0] == "client"}
    return srv, cli, own


def check_tcp(rep, what, family, conns=CONNS, reqs=REQS, truth=None):
    socks = [s for s in table(rep, "sockets") if s["proto"] == "tcp"]
    clients = [s for s in socks if s["role"] == "client"]
    servers = [s for s in socks if s["role"] == "server"]
    equal(len(clients), conns, f"{what}: client sockets")
    equal(len(servers), conns, f"{what}: server sockets")
    equal(len(socks), 2 * conns, f"{what}: no other tcp sockets")
    for s in clients:
        equal((s["tx_bytes"], s["rx_bytes"]), (reqs * Q, reqs * A),
              f"{what}: client {s['local']} bytes sent, received")
    for s in servers:
        equal((s["tx_bytes"], s["rx_bytes"]), (reqs * A, reqs * Q),
              f"{what}: server {s['local']} bytes sent, received")
    equal(sum(s["tx_bytes"] for s in socks), conns * reqs * (Q + A), f"{what}: total bytes sent")
    equal(sum(s["rx_bytes"] for s in socks), conns * reqs * (Q + A),
          f"{what}: total bytes received")
    check(all(s["lifetime"] > 0 for s in socks), f"{what}: lifetimes > 0",
          [s["lifetime"] for s in socks])
    check(all(s["family"] == family for s in socks), f"{what}: family {family}")
    check(all(s["state"] == "CLOSE" for s in socks), f"{what}: all closed",
          [s["state"] for s in socks])
    check(all(s["retrans"] == 0 for s in socks), f"{what}: no retransmits on loopback")
    check(all(s["srtt_mean"] > 0 for s in socks), f"{what}: srtt read from the socket")
    for s in socks:
        equal(s["responses"], reqs, f"{what}: {s['role']} {s['local']} responses")
    # The server's port is the port every client connected to.
    ports = {s["local"].rsplit(":", 1)[1] for s in servers}
    equal(len(ports), 1, f"{what}: one listening port")
    check(all(s["remote"].rsplit(":", 1)[1] in ports for s in clients),
          f"{what}: clients connected to the server's port")
    eps = table(rep, "endpoints")
    for role in ("client", "server"):
        row = [e for e in eps if e["role"] == role and e["proto"] == "tcp"]
        equal(len(row), 1, f"{what}: one {role} endpoint")
        if row:
            equal(row[0]["conns"], conns, f"{what}: {role} endpoint sockets")
            equal(str(row[0]["port"]), next(iter(ports)), f"{what}: {role} endpoint port")
            equal(row[0]["responses"], conns * reqs, f"{what}: {role} endpoint responses")
    if truth:
        srv, cli, own = truth
        row = {e["role"]: e for e in eps if e["proto"] == "tcp"}
        near(row["server"]["resp_p50"], srv, 0.10, f"{what}: server service time p50 (ns)")
        near(row["client"]["resp_p50"], cli, 0.10, f"{what}: client response time p50 (ns)")
        equal(len(own), conns, f"{what}: the workload's own p50 of each connection")
        for s in clients:
            # Each socket against its own connection's times (under load
            # one connection's sleeps can overshoot more than another's).
            port = s["local"].rsplit(":", 1)[1]
            near(s["resp_p50"], own.get(port, 0), 0.10,
                 f"{what}: client {s['local']} response p50 (ns)")
    equal(rep["info"]["lost"], 0, f"{what}: nothing lost")


def test_tcp_launch():
    snap = BpfSnapshot()
    truth = truth_file()
    os.environ["NET_TRUTH"] = truth
    try:
        r, doc = run_json(["net", "--"] + tcp_args())
    finally:
        del os.environ["NET_TRUTH"]
    equal(r.returncode, 0, "launch: exit status")
    rep = report(doc, "net")
    t = read_truth(truth)
    check_tcp(rep, "launch", "ipv4", truth=t)
    clients = [s for s in table(rep, "sockets") if s["role"] == "client"]
    check(all(s["connect"] > 0 for s in clients), "launch: connect latency of every client",
          [s["connect"] for s in clients])
    snap.check("launch")


def interval_tables(stdout):
    """The -i snapshots of the text output: [(interval_ns, {table title:
    [(name, role, [the six interval columns])]})], a socket's name its
    local and remote address, an endpoint's its host."""
    import re
    snaps = []
    for chunk in re.split(r"^=== interval \d+: .*$", stdout, flags=re.M)[1:]:
        ns = int(re.search(r"^interval \(ns\):\s+(\d+)$", chunk, re.M).group(1))
        tables = {}
        for title, body in re.findall(r"^(Sockets|Remote endpoints).*\n.*\n((?:.+\n)*)", chunk,
                                      re.M):
            rows = [ln.split() for ln in body.splitlines()]
            tables[title] = [(x[2] + " " + x[3] if title == "Sockets" else x[0],
                              x[4] if title == "Sockets" else x[3],
                              [int(v) for v in x[-6:]]) for x in rows]
        snaps.append((ns, tables))
    return snaps


def test_interval():
    """-i: every snapshot's sockets and endpoints tables have the traffic
    since the previous snapshot and its rates over the interval measured by
    the snapshots themselves; summed over the snapshots, the traffic is the
    final report's totals, the workload's exact bytes (it lingers without
    traffic after its sockets closed, so the last snapshot comes after all
    of it).  The final report has totals only."""
    conns, reqs = 2, 25
    fd, out = tempfile.mkstemp(prefix="ebprof-e2e-", suffix=".json")
    os.close(fd)
    try:
        r = run(["-i", "0.2", "--format", "json", "-o", out, "net", "--"] +
                tcp_args(conns=conns, reqs=reqs),
                env=dict(os.environ, NETPAIR_LINGER_MS="700"))
        with open(out) as f:
            doc = json.load(f)
    finally:
        os.unlink(out)
    equal(r.returncode, 0, "interval: exit status")
    rep = report(doc, "net")
    check_tcp(rep, "interval final", "ipv4", conns=conns, reqs=reqs)
    final = table(rep, "sockets")
    check(not any("tx_rate" in s or "tx_interval" in s for s in final),
          "interval: the final report keeps totals, no interval columns")
    snaps = interval_tables(r.stdout)
    check(len(snaps) >= 3, "interval: -i 0.2 over >= 1.2 s of sleeps: 3 or more snapshots",
          len(snaps))
    sums = {}
    for k, (ns, tables) in enumerate(snaps):
        check(ns > 0, f"interval {k + 1}: its length measured", ns)
        socks = tables.get("Sockets", [])
        check(socks, f"interval {k + 1}: a sockets table")
        for local, role, (tx, rx, tx_rate, rx_rate, calls_rate, retrans) in socks:
            equal((tx_rate, rx_rate), (tx * 10**9 // ns, rx * 10**9 // ns),
                  f"interval {k + 1}: {role} {local} rates = bytes / interval")
            acc = sums.setdefault(local, [0, 0, 0])
            acc[0] += tx
            acc[1] += rx
            acc[2] += retrans
        for role in ("client", "server"):
            eps = [v for _, rl, v in tables.get("Remote endpoints", []) if rl == role]
            mine = [v for _, rl, v in socks if rl == role]
            equal(len(eps), 1, f"interval {k + 1}: one {role} endpoint")
            if eps:
                equal(eps[0][:2], [sum(v[0] for v in mine), sum(v[1] for v in mine)],
                      f"interval {k + 1}: {role} endpoint = its sockets' interval bytes")
    busy = [k for k, (_, t) in enumerate(snaps) if any(v[0] for _, _, v in t["Sockets"])]
    check(len(busy) >= 2, "interval: traffic spread over 2 or more snapshots", busy)
    equal(len(sums), 2 * conns, "interval: every socket in the snapshots")
    for s in final:
        equal(sums.get(s["local"] + " " + s["remote"]),
              [s["tx_bytes"], s["rx_bytes"], s["retrans"]],
              f"interval: {s['role']} {s['local']} interval bytes, retransmits sum to the totals")


def check_tcp_pid(what):
    """The loopback TCP workload started first, its sockets open, then
    ebprof net -p: exact figures against its truth, the target unharmed."""
    truth = truth_file()
    os.environ["NET_TRUTH"] = truth
    try:
        p = start(tcp_args(gate="sig"), gated=True)
    finally:
        del os.environ["NET_TRUTH"]
    try:
        r, doc = run_gated(["-p", str(p.pid), "net"], p)
        equal(r.returncode, 0, f"{what}: exit status")
        equal(p.wait(timeout=30), 0, f"{what}: target unharmed, exit 0")
        check_tcp(report(doc, "net"), what, "ipv4", truth=read_truth(truth))
    finally:
        stop(p)


def test_tcp_pid():
    """Sockets opened before ebprof attached: picked up on first use."""
    snap = BpfSnapshot()
    check_tcp_pid("-p")
    snap.check("-p")


def test_ipv6():
    snap = BpfSnapshot()
    r, doc = run_json(["net", "--"] + tcp_args(host="::1", conns=2, reqs=3, delay=1))
    equal(r.returncode, 0, "ipv6: exit status")
    rep = report(doc, "net")
    check_tcp(rep, "ipv6", "ipv6", conns=2, reqs=3)
    check(all(s["local"].startswith("[::1]:") for s in table(rep, "sockets")),
          "ipv6: addresses [::1]:port")
    snap.check("ipv6")


def test_udp():
    n, q, a = 50, 100, 300
    snap = BpfSnapshot()
    r, doc = run_json(["net", "--", workload("netpair"), "udp", "127.0.0.1", str(n), str(q),
                       str(a)])
    equal(r.returncode, 0, "udp: exit status")
    socks = [s for s in table(report(doc, "net"), "sockets") if s["proto"] == "udp"]
    conn = [s for s in socks if s["state"] == "connected"]
    unconn = [s for s in socks if s["state"] == "unconnected"]
    equal((len(conn), len(unconn)), (1, 1), "udp: one connected, one unconnected socket")
    if conn and unconn:
        c, s = conn[0], unconn[0]
        equal((c["tx_bytes"], c["rx_bytes"], c["tx_calls"], c["rx_calls"]),
              (n * q, n * a, n, n), "udp connected: bytes and datagrams each way")
        equal((s["tx_bytes"], s["rx_bytes"], s["tx_calls"], s["rx_calls"]),
              (n * a, n * q, n, n), "udp unconnected: bytes and datagrams each way")
        equal(c["role"], "client", "udp connected: client")
        equal(c["remote"], s["local"], "udp: the client's remote is the server socket")
        equal(s["remote"], "*", "udp unconnected: no remote address")
    snap.check("udp")


def stream_lines(args, env_truth=None):
    """Runs ebprof --stream on a launched netpair, reading its stdout
    through a pipe while it runs."""
    p = popen_ebprof(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = [ln.rstrip("\n") for ln in p.stdout]
    err = p.stderr.read()
    return p.wait(), lines, err


def check_events(evs, what, conns=2, reqs=3):
    kinds = [e["event"] for e in evs]
    equal(kinds.count("connect"), conns, f"{what}: connect events")
    equal(kinds.count("accept"), conns, f"{what}: accept events")
    equal(kinds.count("close"), 2 * conns, f"{what}: close events")
    equal(kinds.count("response"), 2 * conns * reqs, f"{what}: response events (both ends)")
    check(all(int(e["latency_ns"]) > 0 for e in evs if e["event"] == "connect"),
          f"{what}: connect latency")
    resp = [e for e in evs if e["event"] == "response"]
    check(all(int(e["latency_ns"]) > 0 for e in resp), f"{what}: response latency")
    for role, tx, rx in (("client", Q, A), ("server", A, Q)):
        rs = [(int(e["tx_bytes"]), int(e["rx_bytes"])) for e in resp if e["role"] == role]
        check(rs and all(x == (tx, rx) for x in rs),
              f"{what}: {role} responses carry {tx}/{rx} bytes", rs[:3])
    closes = [e for e in evs if e["event"] == "close"]
    check(all(int(e["tx_bytes"]) + int(e["rx_bytes"]) == reqs * (Q + A) for e in closes),
          f"{what}: close totals")
    check(all(e["comm"] == "netpair" and e["proto"] == "tcp" and e["local"] and e["remote"]
              for e in evs), f"{what}: comm, proto and 4-tuple")


def test_stream_tsv():
    snap = BpfSnapshot()
    rc, lines, err = stream_lines(["--stream", "--"] + tcp_args(conns=2, reqs=3, delay=1))
    equal(rc, 0, "stream tsv: exit status")
    header = lines[0].split("\t") if lines else []
    check(header[:3] == ["time", "event", "pid"], "stream tsv: header line", header)
    rows = [dict(zip(header, ln.split("\t"))) for ln in lines[1:] if not ln.startswith("#")]
    check(all(len(ln.split("\t")) == len(header) for ln in lines[1:] if not ln.startswith("#")),
          "stream tsv: every line has every field")
    check_events(rows, "stream tsv")
    snap.check("stream tsv")


def test_stream_jsonl_file():
    snap = BpfSnapshot()
    fd, out = tempfile.mkstemp(prefix="ebprof-net-", suffix=".jsonl")
    os.close(fd)
    try:
        r = run(["--stream", "--format", "jsonl", "-o", out, "--"] +
                tcp_args(conns=2, reqs=3, delay=1))
        equal(r.returncode, 0, "stream jsonl: exit status")
        equal(r.stdout, "", "stream jsonl -o: nothing on stdout")
        with open(out) as f:
            evs = [json.loads(ln) for ln in f]
        check_events(evs, "stream jsonl -o")
    finally:
        os.unlink(out)
    snap.check("stream jsonl")


def test_stream_head():
    """| head -2: ebprof ends with status 0 and leaves nothing behind."""
    snap = BpfSnapshot()
    p = start(tcp_args(conns=1, reqs=100000, delay=1, gate="sig"), gated=True)
    try:
        e = popen_ebprof(["-v", "--stream", "-p", str(p.pid)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
        h = subprocess.Popen(["head", "-2"], stdin=e.stdout, stdout=subprocess.PIPE)
        e.stdout.close()
        wait_profiling(e)
        os.kill(p.pid, 10)  # SIGUSR1: the gate
        out = h.communicate(timeout=60)[0].decode()
        rc = e.wait(timeout=60)
        err = e.stderr.read()
        equal(rc, 0, "| head -2: ebprof exit status")
        equal(len(out.splitlines()), 2, "| head -2: two lines")
        check("ebprof: cannot" not in err, "| head -2: no error line", err[-300:])
        check(p.poll() is None, "| head -2: target still running, unharmed")
    finally:
        stop(p)
    snap.check("| head -2")


HASH_NOTE = "per-socket state found through a hash by socket pointer"


def sk_storage_present():
    """What ebprof --features says of tp_btf_sk_storage."""
    r = run(["--features"])
    line = [ln for ln in r.stdout.splitlines() if ln.startswith("tp_btf_sk_storage ")]
    check(len(line) == 1, "features: one tp_btf_sk_storage line", r.stdout[-500:])
    return bool(line) and line[0].split()[1] == "yes"


def test_socket_lookup():
    """Each socket's record is found from the socket (sk_storage, tp_btf
    programs) when the kernel has it, else through a hash by socket
    pointer (raw_tp programs) with a note saying so; EBPROF_NO_SK_STORAGE=1
    forces the hash.  Both give the same exact figures: launched (connect,
    accept), attached to a running target (sockets picked up on first use)
    and UDP."""
    present = sk_storage_present()
    snap = BpfSnapshot()
    r, doc = run_json(["net", "--"] + tcp_args(conns=2, reqs=3, delay=1))
    rep = report(doc, "net")
    check(any(n.startswith(HASH_NOTE) for n in rep["notes"]) != present,
          "default: the hash note exactly when the kernel lacks tp_btf_sk_storage",
          rep["notes"])
    check_tcp(rep, "default", "ipv4", conns=2, reqs=3)
    os.environ["EBPROF_NO_SK_STORAGE"] = "1"
    truth = truth_file()
    os.environ["NET_TRUTH"] = truth
    try:
        r, doc = run_json(["net", "--"] + tcp_args())
        equal(r.returncode, 0, "hash: exit status")
        rep = report(doc, "net")
        notes = [n for n in rep["notes"] if n.startswith(HASH_NOTE)]
        check(len(notes) == 1 and "EBPROF_NO_SK_STORAGE" in notes[0], "hash: the note says why",
              rep["notes"])
        check_tcp(rep, "hash launch", "ipv4", truth=read_truth(truth))
        del os.environ["NET_TRUTH"]
        check_tcp_pid("hash -p")
        n, q, a = 20, 100, 300
        r, doc = run_json(["net", "--", workload("netpair"), "udp", "127.0.0.1", str(n),
                           str(q), str(a)])
        socks = [s for s in table(report(doc, "net"), "sockets") if s["proto"] == "udp"]
        equal(sorted((s["tx_bytes"], s["rx_bytes"], s["tx_calls"], s["rx_calls"])
                     for s in socks), [(n * q, n * a, n, n), (n * a, n * q, n, n)],
              "hash udp: bytes and datagrams each way of both sockets")
    finally:
        del os.environ["EBPROF_NO_SK_STORAGE"]
        os.environ.pop("NET_TRUTH", None)
    snap.check("socket lookup")


def test_slots_full():
    """More sockets in one run than there are slots (NET_MAX_SOCKS, 24576):
    every send is either in a socket's record or counted in
    lost_socks_full, never dropped silently; with sk_storage each socket
    has its own record, so exactly the first 24576 are recorded."""
    slots, n = 24576, 25000
    present = sk_storage_present()
    snap = BpfSnapshot()
    r, doc = run_json(["net", "--", workload("netpair"), "udpmany", "127.0.0.1", str(n)])
    equal(r.returncode, 0, "slots full: exit status")
    rep = report(doc, "net")
    socks = table(rep, "sockets")
    lost = rep["info"]["lost_socks_full"]
    equal(sum(s["tx_calls"] for s in socks) + lost, n,
          "slots full: sends recorded + sends counted lost = all sends")
    equal(rep["info"]["lost"], lost, "slots full: no other loss")
    if present:
        equal((len(socks), lost), (slots, n - slots),
              "slots full: every slot one socket, the rest counted")
        check(all((s["tx_bytes"], s["tx_calls"]) == (1, 1) for s in socks),
              "slots full: one byte in one send per socket")
    else:
        check(lost > 0, "slots full (hash): sockets without a slot counted", lost)
    snap.check("slots full")


def test_errors():
    r = run(["--format", "jsonl", "-p", "1"])
    equal(r.returncode, 2, "--format jsonl without --stream: usage error")
    r = run(["--stream", "cpu", "-p", "1"])
    equal(r.returncode, 2, "--stream with another report: usage error")
    check(r.stderr.count("\n") == 1 and r.stderr.startswith("ebprof: "), "one error line",
          r.stderr)


test_tcp_launch()
test_interval()
test_tcp_pid()
test_ipv6()
test_udp()
test_stream_tsv()
test_stream_jsonl_file()
test_stream_head()
test_socket_lookup()
test_slots_full()
test_errors()
finish()
