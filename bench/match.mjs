// npm run bench:match — re-match 1,000 stored Debian-sized SBOMs (100–400 packages) against a DB of
// ≥ 100,000 generated OSV records, as the product's rematch does (storedFacts, then matcher.match:
// shared/vulndb/rematch.ts), and in the same run time plain JSON.parse of the same files (the
// floor: reading a stored SBOM at all): with a cold matcher, and after an update of the DB (the
// matcher for the new version made from the one before). The product reads its own SBOMs without
// JSON.parse (shared/sbom/own-form.ts); for comparison, a last set of cold rounds reads each SBOM
// in full (JSON.parse and readSbomFacts), as it reads any other tool's. Also the time and peak RSS
// of building a DB from 300,000 records. A benchmark, not a test: it prints figures and asserts
// nothing.
/* global console, process, setInterval, clearInterval */
import { performance } from "node:perf_hooks";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildVulnDb } from "../dist/shared/vulndb/db/build.js";
import { VulnDb } from "../dist/shared/vulndb/db/reader.js";
import { createMatcher } from "../dist/shared/vulndb/match/matcher.js";
import { storedFacts } from "../dist/shared/vulndb/rematch.js";
import { readSbomFacts } from "../dist/shared/sbom/cyclonedx.js";

const SBOMS = Number(process.env.BENCH_SBOMS ?? 1000);
const MATCH_RECORDS = Number(process.env.BENCH_RECORDS ?? 100_000);
const BUILD_RECORDS = Number(process.env.BENCH_BUILD_RECORDS ?? 300_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SOURCES = 4000;
const dir = mkdtempSync(join(tmpdir(), "scanhook-bench-"));

/**
 * A deterministic PRNG (mulberry32), so runs compare: 32-bit integer steps with Math.imul. The
 * LCG used before multiplied in floating point, lost the low bits past 2^53 and fell into a cycle
 * of about 10,000 values, so the SBOMs repeated far more than intended.
 */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = prng(42);
const source = (i) => `src${i}`;
const version = (i, rev) => `${1 + (i % 7)}.${i % 13}.${rev}-${1 + (rev % 3)}+deb12u${rev % 4}`;

/**
 * The generated records, the same on every call; `update` n > 0 is the DB after the nth update,
 * each of which gives one more record in a hundred (i % 100 === n) a new fix and a newer
 * `modified` — more than an hourly OSV update changes in a DB of this size.
 */
function* records(n, update = 0) {
  const r = prng(7);
  for (let i = 0; i < n; i++) {
    const s = Math.floor(r() * SOURCES);
    const rev = 1 + Math.floor(r() * 8);
    // Each update changes another 1% on top of the ones before.
    const changed = i % 100 >= 1 && i % 100 <= update;
    const fixed = version(s, changed ? 1 + (rev % 8) : rev);
    const rec = {
      id: `DEBIAN-CVE-2099-${String(i).padStart(6, "0")}`,
      // Dated by the update that changed it: each DB differs from the one before in 1% of records.
      modified: changed ? `2024-06-${String(1 + ((i % 100) % 28)).padStart(2, "0")}T00:00:00Z` : "2024-05-01T00:00:00Z",
      upstream: [`CVE-2099-${String(i).padStart(6, "0")}`],
      summary: `generated record ${i}`,
      severity: i % 3 === 0 ? [{ type: "CVSS_V3", score: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H" }] : undefined,
      affected: [{ package: { ecosystem: "Debian:12", name: source(s) }, ranges: [{ type: "ECOSYSTEM", events: [{ introduced: "0" }, { fixed }] }] }]
    };
    yield { origin: rec.id, text: JSON.stringify(rec) };
  }
}

function peakRss() {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 20);
  return () => {
    clearInterval(timer);
    return Math.max(peak, process.memoryUsage.rss());
  };
}

async function build(n, out, update = 0) {
  const stop = peakRss();
  const t0 = performance.now();
  const report = await buildVulnDb({ out, inputs: [{ name: "gen", kind: "osv-dir", location: "generated", records: (async function* () { yield* records(n, update); })() }], now: new Date() });
  return { ms: performance.now() - t0, peak: stop(), report };
}

const mb = (b) => `${(b / 1024 / 1024).toFixed(0)} MB`;
// npm run bench:match runs Node with the heap flag the product runs with (NODE_OPTIONS in
// infra/modules/function-app.bicep, and npm start): both sides of the ratio run under it.
console.log(`node ${process.version} ${process.execArgv.join(" ")}`);
try {
  const big = await build(BUILD_RECORDS, join(dir, "big.sqlite"));
  console.log(`build ${BUILD_RECORDS} records: ${(big.ms / 1000).toFixed(1)} s, peak RSS ${mb(big.peak)}`);
  const dbFile = join(dir, "match.sqlite");
  const small = await build(MATCH_RECORDS, dbFile);
  console.log(`build ${MATCH_RECORDS} records (match DB): ${(small.ms / 1000).toFixed(1)} s`);

  mkdirSync(join(dir, "sboms"));
  const files = [];
  for (let i = 0; i < SBOMS; i++) {
    const count = 100 + Math.floor(rand() * 301);
    const components = [];
    for (let p = 0; p < count; p++) {
      const s = Math.floor(rand() * SOURCES);
      // Most installed packages are past most fixes, as on a maintained image: ~5% sit on an old revision.
      const v = version(s, rand() < 0.05 ? Math.floor(rand() * 9) : 9);
      // Shaped as scanhook stores them (`scanhook sbom` on a Debian image): bom-ref, purl, properties.
      const purl = `pkg:deb/debian/bin${s}-${p % 3}@${encodeURIComponent(v)}?arch=amd64&distro=debian-12`;
      components.push({
        type: "library",
        "bom-ref": purl,
        name: `bin${s}-${p % 3}`,
        version: v,
        purl,
        properties: [
          { name: "scanhook:analyzer", value: "os/dpkg" },
          { name: "scanhook:ecosystem", value: "Debian:12" },
          { name: "scanhook:source-name", value: source(s) },
          { name: "scanhook:source-version", value: v },
          { name: "scanhook:layer", value: `sha256:${"a".repeat(64)}` }
        ]
      });
    }
    const file = join(dir, "sboms", `${i}.cdx.json`);
    writeFileSync(file, JSON.stringify({ bomFormat: "CycloneDX", specVersion: "1.5", metadata: { properties: [{ name: "scanhook:distribution", value: "Debian:12" }] }, components }));
    files.push(file);
  }

  const db = VulnDb.open(dbFile);
  // As the product's rematch (shared/vulndb/rematch.ts) reads a stored SBOM: bytes → JSON → facts.
  const factsOf = (file) => {
    const read = storedFacts({ sbom: { blob: file }, coverageGaps: [] }, readFileSync(file));
    if (!read.ok) throw new Error(read.reason);
    return read.facts;
  };
  // The full read, as for an SBOM not in scanhook's own form.
  const parsedFactsOf = (file) => {
    const read = readSbomFacts(JSON.parse(readFileSync(file).toString("utf8")));
    if (!read.ok) throw new Error(read.reason);
    return read.facts;
  };
  const now = new Date();
  let sink = 0;
  // Warm the JIT and the page cache on a few files, with a matcher thrown away after.
  const warmMatcher = createMatcher(db);
  for (const f of files.slice(0, 50)) sink += JSON.parse(readFileSync(f).toString("utf8")).components.length;
  for (const f of files.slice(0, 50)) sink += warmMatcher.match(factsOf(f), now).findings.length;

  // Rounds alternate the floor and a rematch, so a neighbour's burst of load on a shared machine
  // falls on both; each kind reports the median of its rounds' ratios.
  //  - cold: a new matcher with nothing compiled (a process's first rematch after it starts);
  //  - after an update: the DB rebuilt with 1% of its records changed, and the matcher for it made
  //    from the one before (as the DB providers make it when the hourly refresh lands a version).
  // Each timed pass starts from a collected heap (node --expose-gc), so garbage left by the DB
  // build or the pass before is not charged to it.
  const settle = () => globalThis.gc?.();
  const rematch = (matcher, read = factsOf) => {
    settle();
    const t0 = performance.now();
    let findings = 0;
    for (const f of files) findings += matcher.match(read(f), now).findings.length;
    return { ms: performance.now() - t0, findings };
  };
  const floor = () => {
    settle();
    const t0 = performance.now();
    for (const f of files) sink += JSON.parse(readFileSync(f).toString("utf8")).components.length;
    return performance.now() - t0;
  };
  const report = (label, parseMs, run) => {
    const parseRate = SBOMS / (parseMs / 1000);
    const matchRate = SBOMS / (run.ms / 1000);
    console.log(`${label}: JSON.parse floor ${parseRate.toFixed(0)} SBOMs/s; scanhook re-match ${matchRate.toFixed(0)} SBOMs/s (${run.findings} findings); ratio ${(matchRate / parseRate).toFixed(2)}×`);
    return matchRate / parseRate;
  };
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

  const cold = [];
  let previous;
  for (let round = 1; round <= ROUNDS; round++) {
    const parseMs = floor();
    previous = createMatcher(db);
    cold.push(report(`cold ${round}`, parseMs, rematch(previous)));
  }
  const parsed = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const parseMs = floor();
    parsed.push(report(`cold, full parse ${round}`, parseMs, rematch(createMatcher(db), parsedFactsOf)));
  }
  const updated = [];
  let current = db;
  for (let round = 1; round <= ROUNDS; round++) {
    const file = join(dir, `update-${round}.sqlite`);
    await build(MATCH_RECORDS, file, round);
    const next = VulnDb.open(file);
    const parseMs = floor();
    const matcher = createMatcher(next, { previous });
    updated.push(report(`update ${round}`, parseMs, rematch(matcher)));
    current.close();
    current = next;
    previous = matcher;
  }
  current.close();
  console.log(`cold: ratio per round ${cold.map((r) => r.toFixed(2)).join(", ")}; median ${median(cold).toFixed(2)}× (target ≥ 0.5×)`);
  console.log(`after an update (1% of records changed): ratio per round ${updated.map((r) => r.toFixed(2)).join(", ")}; median ${median(updated).toFixed(2)}× (target ≥ 0.5×)`);
  console.log(`for comparison, cold with each SBOM parsed in full (another tool's form): ratio per round ${parsed.map((r) => r.toFixed(2)).join(", ")}; median ${median(parsed).toFixed(2)}×`);
  if (sink < 0) console.log(sink);
} finally {
  if (!process.env.BENCH_KEEP) rmSync(dir, { recursive: true, force: true }); else console.log(dir);
}
