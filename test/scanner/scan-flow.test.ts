import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FUNCTIONS } from "../../functions/all.js";
import { startLocalHost, type LocalHost } from "../../functions/host/local-host.js";
import { BLOB_CONTAINERS } from "../../shared/blobs/blobs.js";
import type { Digest } from "../../shared/domain/digest.js";
import type { ImageRecord } from "../../shared/domain/image-record.js";
import { NO_DB_GAP, NO_DB_VERSION } from "../../shared/domain/match.js";
import { loadSettings } from "../../shared/config.js";
import { createLogger } from "../../shared/log.js";
import { QUEUES } from "../../shared/queues/queues.js";
import { buildImage, buildIndex, pushImage, pushIndex } from "../helpers/images.js";
import { startRegistry, type TestRegistry } from "../helpers/registry.js";
import { eventually, freePort, killAzuritesUnder } from "../host/azurite-helpers.js";
import { storedSbomFacts } from "../helpers/sbom.js";

/**
 * The indexer end to end: push to Debian's docker-registry → webhook → scan-requests → the
 * Scanner adapter → a record with a result and an SBOM blob, over real sockets and Azurite.
 */

const quiet = createLogger("error");
const WEBHOOK_KEY = "w".repeat(40);
const DEBIAN_12 = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n';
const status = (names: readonly string[]): string => names.map((n) => `Package: ${n}\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.0-1\n`).join("\n");

/** GETs of a blob by scanhook, from the registry's request log. */
function blobReads(registry: TestRegistry, digest: string): number {
  return registry
    .log()
    .split("\n")
    .filter((l) => l.includes('msg="response completed"') && l.includes("http.request.method=GET") && l.includes(`/blobs/${digest}"`) && l.includes("http.request.useragent=scanhook/")).length;
}

describe("push → scan → record with an SBOM", () => {
  const dir = mkdtempSync(join(tmpdir(), "scanhook-scan-flow-"));
  let registry: TestRegistry;
  let host: LocalHost;
  const baseLayer = { "etc/os-release": DEBIAN_12, "var/lib/dpkg/status": status(["base-files", "libc6"]) };
  const first = buildImage({ layers: [baseLayer, { "app/one.txt": "1" }] });
  const second = buildImage({ layers: [baseLayer, { "var/lib/dpkg/status": status(["base-files", "libc6", "curl"]) }] });
  const amd64 = buildImage({ layers: [{ "etc/os-release": DEBIAN_12, "var/lib/dpkg/status": status(["amd64-only"]) }], platform: { os: "linux", architecture: "amd64" } });
  const arm64 = buildImage({ layers: [{ "etc/os-release": DEBIAN_12, "var/lib/dpkg/status": status(["arm64-only"]) }], platform: { os: "linux", architecture: "arm64", variant: "v8" } });

  const get = async (digest: string): Promise<ImageRecord | undefined> => (await host.services.store.images.get(digest))?.doc;
  const done = (digest: string) => eventually(async () => (await get(digest))?.scan.state === "done" && (await get(digest))?.result !== undefined, 30_000);

  beforeAll(async () => {
    const port = await freePort();
    registry = await startRegistry({ notifications: { url: `http://127.0.0.1:${port}/api/webhooks/distribution`, headers: { "x-functions-key": WEBHOOK_KEY } } });
    const settings = loadSettings([
      {
        PORT: String(port),
        AZURITE_BLOB_PORT: String(await freePort()),
        AZURITE_QUEUE_PORT: String(await freePort()),
        SCANHOOK_DATA_DIR: join(dir, "data"),
        REGISTRIES: `http://${registry.host}`,
        WEBHOOK_KEY,
        VULNDB_DOWNLOAD: "false"
      }
    ]);
    host = await startLocalHost({ settings, functions: FUNCTIONS, log: quiet });
  });

  afterAll(async () => {
    await host?.stop();
    await registry?.stop();
    await killAzuritesUnder(dir);
    rmSync(dir, { recursive: true, force: true });
  });

  it("a pushed image gets a result: SBOM blob, counts, no DB yet as a gap", async () => {
    await pushImage(registry.url, "team/app", first, { tag: "v1" });
    expect(await done(first.manifest.digest)).toBe(true);
    const r = await get(first.manifest.digest);
    const result = r?.result;
    expect(result?.packageCounts).toEqual({ "Debian:12": 2 });
    expect(result?.dbVersion).toBe(NO_DB_VERSION);
    expect(result?.findings).toEqual([]);
    expect(result?.coverageGaps).toEqual([NO_DB_GAP]);
    expect(result?.analyzers).toEqual({ "os/release": "1", "os/dpkg": "1", "os/apk": "1", "os/rpm": "1" });
    expect(r?.lastScannedAt).toBeDefined();
    const bytes = await host.services.blobs.get(BLOB_CONTAINERS.results, result?.sbom.blob ?? "");
    expect(bytes?.length).toBe(result?.sbom.size);
    const facts = storedSbomFacts(bytes);
    expect(facts.distribution).toBe("Debian:12");
    expect(facts.packages.map((p) => [p.name, p.layer])).toEqual([
      ["base-files", first.diffIds[0]],
      ["libc6", first.diffIds[0]]
    ]);
    expect(blobReads(registry, first.layers[0]?.digest ?? "")).toBe(1);
  });

  it("a second image on the same base layer does not read that layer again", async () => {
    await pushImage(registry.url, "team/other", second, { tag: "v1" });
    expect(await done(second.manifest.digest)).toBe(true);
    expect((await get(second.manifest.digest))?.result?.packageCounts).toEqual({ "Debian:12": 3 });
    expect(blobReads(registry, second.layers[0]?.digest ?? "")).toBe(1);
    expect(blobReads(registry, second.layers[1]?.digest ?? "")).toBe(1);
  });

  it("an index request for a scanned image is skipped; a reindex request scans it again", async () => {
    const before = (await get(first.manifest.digest))?.result?.indexedAt;
    const request = (kind: "index" | "reindex") => ({
      kind,
      digest: first.manifest.digest as Digest,
      registry: registry.host,
      repository: "team/app",
      cause: "test",
      requestedAt: new Date().toISOString()
    });
    await host.services.queues.send(QUEUES.scanRequests, request("index"));
    await new Promise((r) => setTimeout(r, 1500));
    expect((await get(first.manifest.digest))?.result?.indexedAt).toBe(before);
    await host.services.queues.send(QUEUES.scanRequests, request("reindex"));
    expect(await eventually(async () => (await get(first.manifest.digest))?.result?.indexedAt !== before, 30_000)).toBe(true);
    expect((await get(first.manifest.digest))?.scan.state).toBe("done");
  });

  it("a two-platform index gives two child results", async () => {
    await pushIndex(registry.url, "team/multi", buildIndex([amd64, arm64]), { tag: "1.0" });
    expect(await done(amd64.manifest.digest)).toBe(true);
    expect(await done(arm64.manifest.digest)).toBe(true);
    const names = async (d: string) => {
      const r = await get(d);
      const bytes = await host.services.blobs.get(BLOB_CONTAINERS.results, r?.result?.sbom.blob ?? "");
      return storedSbomFacts(bytes).packages.map((p) => p.name);
    };
    expect(await names(amd64.manifest.digest)).toEqual(["amd64-only"]);
    expect(await names(arm64.manifest.digest)).toEqual(["arm64-only"]);
  });
});
