#!/usr/bin/env node
// Gibbons' unbounded spigot with JavaScript BigInt: the same plain transcription as
// src/pi/baseline.rs (start q=1, r=180, t=60, i=2; each step emits
// y = ((27i−12)q + 5r) div (5t), then with u = 3(3i+1)(3i+2):
// r ← 10u(q(5i−2) + r − yt), q ← 10qi(2i−1), t ← tu, i ← i+1).
//
// `node benches/spigot.js 10000` prints one JSON line in the shape of
// `cargo run --release --example baseline -- 10000`:
// {"algorithm":"spigot-js","digits":10000,"elapsed_ms":…,"sha256":"…"} where sha256 hashes
// the digit string ("31415…", no point). Plain node, no dependencies.
"use strict";

const { createHash } = require("node:crypto");

function digits(n) {
  const out = [];
  let q = 1n;
  let r = 180n;
  let t = 60n;
  let i = 2n;
  while (out.length < n) {
    const u = 3n * (3n * i + 1n) * (3n * i + 2n);
    const y = ((27n * i - 12n) * q + 5n * r) / (5n * t);
    out.push(y.toString());
    r = 10n * u * (q * (5n * i - 2n) + r - y * t);
    q = 10n * q * i * (2n * i - 1n);
    t = t * u;
    i += 1n;
  }
  return out.join("");
}

function main() {
  const arg = (process.argv[2] || "").replace(/_/g, "");
  if (!/^[0-9]+$/.test(arg)) {
    console.error("usage: node benches/spigot.js <number of digits>");
    process.exit(2);
  }
  const n = Number(arg);
  const start = process.hrtime.bigint();
  const result = digits(n);
  const elapsedMs = Number(process.hrtime.bigint() - start) / 1e6;
  const sha256 = createHash("sha256").update(result).digest("hex");
  console.log(
    JSON.stringify({
      algorithm: "spigot-js",
      digits: result.length,
      elapsed_ms: Number(elapsedMs.toFixed(3)),
      sha256,
    })
  );
}

if (require.main === module) {
  main();
}

module.exports = { digits };
