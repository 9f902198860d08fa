/* global process, console, fetch, URL, Buffer */
// npm run bench:verdict — the verdict read path on the local host, against its floor in the same
// run: a bare node:http server answering a fixed JSON body of the same size, same machine, same
// connections, same duration. Then 10,000 distinct digests, each asked once (in-memory cache
// misses: one store point read each). A benchmark, not a test: it prints figures, asserts nothing.
//
// BENCH_CONNECTIONS (default 50), BENCH_SECONDS (default 10), BENCH_ROUNDS (default 3),
// BENCH_DIGESTS (default 10000).
import { createServer } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHash } from "node:crypto";
import autocannon from "autocannon";
import { FUNCTIONS } from "../dist/functions/all.js";
import { startLocalHost } from "../dist/functions/host/local-host.js";
import { loadSettings } from "../dist/shared/config.js";
import { createLogger } from "../dist/shared/log.js";
import { newImageRecord, withLocation } from "../dist/shared/domain/image-record.js";
import { decideRecord, cachedVerdictOf } from "../dist/shared/domain/verdict.js";

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const DIGESTS = Number(process.env.BENCH_DIGESTS ?? 10_000);
const READ_KEY = "r".repeat(40);

const dir = mkdtempSync(join(tmpdir(), "scanhook-bench-verdict-"));
const digestOf = (name) => `sha256:${createHash("sha256").update(name).digest("hex")}`;

async function freePort() {
  const server = createServer();
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address();
  await new Promise((r) => server.close(r));
  return port;
}

function recordFor(name, now, policy) {
  let r = newImageRecord(digestOf(name), now);
  r = withLocation(r, { registry: "myacr.azurecr.io", repository: "team/api", tag: "v1", pushedAt: now });
  const at = now.toISOString();
  r = {
    ...r,
    kind: "image",
    scan: { state: "done", requestKind: "index", attempts: 0, updatedAt: at },
    lastScannedAt: at,
    result: {
      analyzers: { "os/dpkg": "1" },
      sbom: { blob: `sboms/sha256/${name}.cdx.json`, mediaType: "application/vnd.cyclonedx+json" },
      packageCounts: { deb: 120 },
      findings: Array.from({ length: 20 }, (_, i) => ({
        id: `CVE-2026-${1000 + i}`,
        aliases: [],
        upstreamIds: [],
        severity: i === 0 ? "critical" : i < 5 ? "high" : "medium",
        score: i === 0 ? 9.8 : 7.5,
        fixable: i % 2 === 0,
        packageName: `pkg${i}`,
        packageVersion: "1.0-1",
        ecosystem: "Debian:12",
        fixedVersion: "1.0-2"
      })),
      coverageGaps: [],
      indexedAt: at,
      dbVersion: "db-bench",
      matchedAt: at
    }
  };
  // Written with its verdict already cached, as the sweep leaves it: the read path then only reads.
  const decision = decideRecord(policy, r.id, r, { now });
  return decision.status === "verdict" ? { ...r, verdict: cachedVerdictOf(decision.evaluation) } : r;
}

function run(options) {
  return new Promise((resolve, reject) => {
    const instance = autocannon({ connections: CONNECTIONS, pipelining: 1, ...options }, (err, result) => (err ? reject(err) : resolve(result)));
    autocannon.track(instance, { renderProgressBar: false, renderResultsTable: false, renderLatencyTable: false });
  });
}

const line = (name, r) =>
  `${name.padEnd(44)} ${String(Math.round(r.requests.average)).padStart(8)} req/s   p99 ${String(r.latency.p99).padStart(4)} ms   non-2xx ${r.non2xx}   errors ${r.errors}`;

let host;
let bare;
try {
  host = await startLocalHost({
    settings: loadSettings([
      {
        PORT: String(await freePort()),
        AZURITE_BLOB_PORT: String(await freePort()),
        AZURITE_QUEUE_PORT: String(await freePort()),
        SCANHOOK_DATA_DIR: join(dir, "data"),
        READ_KEY,
        ADMIN_KEY: "a".repeat(40),
        WEBHOOK_KEY: "w".repeat(40),
        LOG_LEVEL: "error",
        VERDICT_CACHE_SECONDS: "300",
        VERDICT_CACHE_MAX_ENTRIES: String(DIGESTS * 2),
        "AzureWebJobs.scanRequests.Disabled": "true",
        "AzureWebJobs.verdictSweep.Disabled": "true"
      }
    ]),
    functions: FUNCTIONS,
    log: createLogger("error")
  });
  const { services } = host;
  const policy = (await services.policy.current()).policy;
  const now = new Date();
  const warm = recordFor("warm", now, policy);
  await services.store.images.upsert(warm);
  const warmUrl = new URL(`api/verdicts/${warm.id}`, host.url).toString();
  const first = await fetch(warmUrl, { headers: { "x-functions-key": READ_KEY } });
  const body = await first.text();
  if (first.status !== 200) throw new Error(`warm-up answered ${first.status}: ${body}`);

  // The floor: the same bytes from a bare node:http server.
  const headers = { "content-type": "application/json; charset=utf-8", "content-length": String(Buffer.byteLength(body)), "cache-control": "no-cache" };
  // Encoded once, as scanhook keeps a warm answer's bytes: the floor does no work per request either.
  const bytes = Buffer.from(body, "utf8");
  bare = createServer((_req, res) => {
    res.writeHead(200, headers);
    res.end(bytes);
  });
  await new Promise((r) => bare.listen(0, "127.0.0.1", r));
  const bareUrl = `http://127.0.0.1:${bare.address().port}/`;

  console.log(`verdict benchmark: ${CONNECTIONS} connections, ${ROUNDS} rounds of ${SECONDS} s per server, body ${Buffer.byteLength(body)} bytes, Node ${process.version}`);
  // The load generator runs in a worker thread, so its own HTTP parsing does not share the
  // servers' event loop (it would tax the slower server more and distort the ratio). The two
  // servers take turns, round after round, so a neighbour's burst of load on a shared machine
  // falls on both; the ratio reported is the median of the rounds'.
  const ratios = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const floor = await run({ url: bareUrl, duration: SECONDS, workers: 1 });
    const hot = await run({ url: warmUrl, duration: SECONDS, workers: 1, headers: { "x-functions-key": READ_KEY } });
    console.log(line(`round ${round}: bare node:http (fixed JSON)`, floor));
    console.log(line(`round ${round}: GET /api/verdicts/{digest}`, hot));
    ratios.push(hot.requests.average / floor.requests.average);
  }
  const sorted = [...ratios].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  console.log(`ratio warm/bare per round: ${ratios.map((r) => r.toFixed(2)).join(", ")}; median ${median.toFixed(2)}x (target >= 0.7x)`);

  // Cache misses: every digest asked once, each a point read of a record whose verdict is current.
  const digests = [];
  for (let i = 0; i < DIGESTS; i++) {
    const r = recordFor(`cold-${i}`, now, policy);
    await services.store.images.upsert(r);
    digests.push(r.id);
  }
  services.verdictCache.clear();
  let next = 0;
  const cold = await run({
    url: host.url,
    amount: DIGESTS,
    headers: { "x-functions-key": READ_KEY },
    requests: [
      {
        setupRequest: (req) => ({ ...req, method: "GET", path: `/api/verdicts/${digests[next++ % digests.length]}` })
      }
    ]
  });
  console.log(line(`${DIGESTS} distinct digests (misses)`, cold));
  console.log(`store: ${services.store.kind}; cache entries after: ${services.verdictCache.size}`);
} finally {
  bare?.close();
  await host?.stop();
  rmSync(dir, { recursive: true, force: true });
}
