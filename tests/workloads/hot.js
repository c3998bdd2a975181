// A JIT-compiled hot function with a distinctive name, for the perf-map
// (JIT symbol) test: run under `node --perf-basic-prof`.  Waits for
// SIGUSR2 (its start gate: node keeps SIGUSR1 for its inspector) when
// argv[3] is "sig", then spins for argv[2] milliseconds of wall time
// (default 1500) in ebprofHotSpin, called from ebprofHotDriver, and exits;
// writes the calls it made to the file named in HOT_TRUTH, if set.
"use strict";
const fs = require("fs");

function ebprofHotSpin(n) {
  let x = 0;
  for (let i = 0; i < n; i++) x = (x * 1103515245 + 12345 + i) % 2147483647;
  return x;
}

function ebprofHotDriver(ms) {
  const end = Date.now() + ms;
  let calls = 0, acc = 0;
  while (Date.now() < end) {
    acc ^= ebprofHotSpin(200000);
    calls++;
  }
  return [calls, acc];
}

function run() {
  const ms = parseInt(process.argv[2] || "1500", 10);
  const [calls, acc] = ebprofHotDriver(ms);
  if (process.env.HOT_TRUTH) fs.writeFileSync(process.env.HOT_TRUTH, `${calls} ${acc}\n`);
}

if (process.argv[3] === "sig") {
  const keep = setInterval(() => {}, 1000);
  process.on("SIGUSR2", () => {
    clearInterval(keep);
    run();
    process.exit(0);
  });
  if (process.env.HOT_READY) fs.writeFileSync(process.env.HOT_READY, "ready\n");
} else {
  run();
}
