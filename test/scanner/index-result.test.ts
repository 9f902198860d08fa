import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DirectoryBlobStore } from "../../shared/blobs/directory-blobs.js";
import type { Digest } from "../../shared/domain/digest.js";
import { newImageRecord, type ImageRecord, type PlatformResult } from "../../shared/domain/image-record.js";
import type { ScanRequest } from "../../shared/domain/scan-request.js";
import { parseRegistries } from "../../shared/domain/registries.js";
import type { QueueSender, Reachability } from "../../shared/queues/queues.js";
import { createRegistryClient } from "../../shared/registry/client.js";
import type { RegistryClient } from "../../shared/registry/port.js";
import { mergeIndexResult } from "../../shared/scanner/index-result.js";
import { DEFAULT_SCAN_LIMITS } from "../../shared/scanner/limits.js";
import { createScanner } from "../../shared/scanner/scanner.js";
import { openStore } from "../../shared/store/open-store.js";
import type { Store } from "../../shared/store/port.js";
import { processScanRequest } from "../../shared/usecases/process-scan-request.js";
import { blob, buildImage, OCI_INDEX, pushImage, pushManifest } from "../helpers/images.js";
import { startRegistry, type TestRegistry } from "../helpers/registry.js";

/**
 * An index's result is the set of its platforms' (issue 7): the index record's `platformResults`
 * follows each platform's scan, and says `complete` once every platform has a result or was
 * skipped. First the merge rule on its own, then the consumer and the real Scanner adapter against
 * Debian's docker-registry, with a buildx attestation entry and a filtered platform in the index.
 */

const D = (c: string): Digest => `sha256:${c.repeat(64)}` as Digest;
const T0 = "2026-11-23T10:00:00.000Z";
const T1 = "2026-11-23T10:00:01.000Z";
const NOW = new Date("2026-11-23T10:00:02.000Z");
const SBOM = { blob: "sboms/sha256/x.cdx.json", mediaType: "application/vnd.cyclonedx+json" };

function indexRecord(children: readonly Digest[], platforms?: readonly PlatformResult[]): ImageRecord {
  return { ...newImageRecord(D("f"), NOW), kind: "index", childDigests: [...children], ...(platforms === undefined ? {} : { platformResults: { platforms: [...platforms], complete: false, updatedAt: T0 } }) };
}
const entry = (digest: Digest, state: PlatformResult["state"], updatedAt: string, withResult = false): PlatformResult => ({
  digest,
  state,
  updatedAt,
  ...(withResult ? { result: { sbom: SBOM, packageCounts: { "Debian:12": 2 }, indexedAt: updatedAt } } : {})
});

describe("mergeIndexResult", () => {
  it("complete only when every child is recorded and each has a result or was skipped", () => {
    const index = indexRecord([D("1"), D("2"), D("3")]);
    expect(mergeIndexResult(index, [entry(D("1"), "done", T0, true), entry(D("2"), "skipped", T0)], NOW)?.complete).toBe(false);
    expect(mergeIndexResult(index, [entry(D("1"), "done", T0, true), entry(D("2"), "skipped", T0), entry(D("3"), "failed", T0)], NOW)?.complete).toBe(false);
    const all = mergeIndexResult(index, [entry(D("3"), "done", T0, true), entry(D("1"), "done", T0, true), entry(D("2"), "skipped", T0)], NOW);
    expect(all?.complete).toBe(true);
    expect(all?.platforms.map((p) => p.digest)).toEqual([D("1"), D("2"), D("3")]);
  });

  it("an older entry never replaces a newer one, whatever order writers land in", () => {
    const index = indexRecord([D("1"), D("2")], [entry(D("1"), "done", T1, true), entry(D("2"), "scanning", T0)]);
    // A writer that read platform 1 before it finished, and platform 2 done.
    const merged = mergeIndexResult(index, [entry(D("1"), "scanning", T0), entry(D("2"), "done", T1, true)], NOW);
    expect(merged?.platforms.map((p) => p.state)).toEqual(["done", "done"]);
    expect(merged?.complete).toBe(true);
  });

  it("nothing changed: no write", () => {
    const index = indexRecord([D("1")], [entry(D("1"), "done", T1, true)]);
    expect(mergeIndexResult({ ...index, platformResults: { platforms: [entry(D("1"), "done", T1, true)], complete: true, updatedAt: T1 } }, [entry(D("1"), "done", T1, true)], NOW)).toBeUndefined();
  });
});

class CollectingQueues implements QueueSender {
  sent: ScanRequest[] = [];
  async send(_queue: string, body: unknown): Promise<void> {
    this.sent.push(body as ScanRequest);
  }
  async ping(): Promise<Reachability> {
    return { ok: true };
  }
}

describe("an index in a registry: consumer + Scanner adapter", () => {
  const dir = mkdtempSync(join(tmpdir(), "scanhook-index-result-"));
  let registry: TestRegistry;
  let client: RegistryClient;
  let store: Store<ImageRecord>;
  const DEBIAN_12 = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n';
  const status = (name: string): string => `Package: ${name}\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.0-1\n`;
  const amd64 = buildImage({ layers: [{ "etc/os-release": DEBIAN_12, "var/lib/dpkg/status": status("amd64-only") }], platform: { os: "linux", architecture: "amd64" } });
  const arm64 = buildImage({ layers: [{ "etc/os-release": DEBIAN_12, "var/lib/dpkg/status": status("arm64-only") }], platform: { os: "linux", architecture: "arm64", variant: "v8" } });
  const s390x = buildImage({ layers: [{ "etc/os-release": DEBIAN_12, "var/lib/dpkg/status": status("s390x-only") }], platform: { os: "linux", architecture: "s390x" } });
  const attestation = buildImage({ layers: [{ "intoto.json": "{}" }], platform: { os: "unknown", architecture: "unknown" } });
  const platformOf = (d: string, os: string, architecture: string, variant?: string) => ({ mediaType: "application/vnd.oci.image.manifest.v1+json", digest: d, size: 0, platform: { os, architecture, ...(variant === undefined ? {} : { variant }) } });
  const index = blob(
    OCI_INDEX,
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_INDEX,
        manifests: [
          { ...platformOf(amd64.manifest.digest, "linux", "amd64"), size: amd64.manifest.size },
          { ...platformOf(arm64.manifest.digest, "linux", "arm64", "v8"), size: arm64.manifest.size },
          { ...platformOf(s390x.manifest.digest, "linux", "s390x"), size: s390x.manifest.size },
          { ...platformOf(attestation.manifest.digest, "unknown", "unknown"), size: attestation.manifest.size, annotations: { "vnd.docker.reference.type": "attestation-manifest", "vnd.docker.reference.digest": amd64.manifest.digest } }
        ]
      })
    )
  );

  beforeAll(async () => {
    registry = await startRegistry();
    for (const image of [amd64, arm64, s390x, attestation]) await pushImage(registry.url, "team/multi", image);
    await pushManifest(registry.url, "team/multi", index, { tag: "v1" });
    const registries = parseRegistries(`http://${registry.host}`);
    if (!registries.ok) throw new Error(registries.error);
    client = createRegistryClient(registries.value);
    store = await openStore({ kind: "sqlite", path: ":memory:" });
  }, 60_000);
  afterAll(async () => {
    await store.close();
    client.close();
    await registry.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("platformResults follows each platform and is complete once all have a result or were skipped", async () => {
    const queues = new CollectingQueues();
    const scanner = createScanner({
      images: store.images,
      registry: client,
      blobs: new DirectoryBlobStore(dir),
      limits: DEFAULT_SCAN_LIMITS,
      platforms: [
        { os: "linux", architecture: "amd64" },
        { os: "linux", architecture: "arm64" }
      ]
    });
    const deps = { images: store.images, registry: client, queues, scanner, now: () => new Date() };
    const request = (digest: string, cause: string): ScanRequest => ({ kind: "index", digest: digest as Digest, registry: registry.host, repository: "team/multi", cause, requestedAt: new Date().toISOString() });
    const indexDoc = async () => (await store.images.get(index.digest))?.doc;

    await processScanRequest(request(index.digest, "push"), deps, { messageId: "index", isLastAttempt: false });
    // The attestation is known from the index alone: recorded skipped, never requested.
    expect(queues.sent.map((r) => r.digest).sort()).toEqual([amd64.manifest.digest, arm64.manifest.digest, s390x.manifest.digest].sort());
    expect((await indexDoc())?.platformResults).toMatchObject({ complete: false });

    const [first, ...rest] = queues.sent;
    if (first === undefined) throw new Error("no platform requested");
    await processScanRequest(first, deps, { messageId: "p0", isLastAttempt: false });
    expect((await indexDoc())?.platformResults?.complete).toBe(false);
    for (const [i, r] of rest.entries()) await processScanRequest(r, deps, { messageId: `p${i + 1}`, isLastAttempt: false });

    const done = await indexDoc();
    expect(done?.platformResults?.complete).toBe(true);
    const byDigest = new Map<string, PlatformResult>(done?.platformResults?.platforms.map((p) => [p.digest, p]));
    expect(done?.platformResults?.platforms.map((p) => p.digest)).toEqual([amd64.manifest.digest, arm64.manifest.digest, s390x.manifest.digest, attestation.manifest.digest]);
    for (const image of [amd64, arm64]) {
      const child = (await store.images.get(image.manifest.digest))?.doc;
      expect(byDigest.get(image.manifest.digest)).toEqual({
        digest: image.manifest.digest,
        platform: child?.platform,
        state: "done",
        updatedAt: child?.scan.updatedAt,
        result: { sbom: child?.result?.sbom, packageCounts: { "Debian:12": 1 }, indexedAt: child?.result?.indexedAt }
      });
    }
    expect(byDigest.get(s390x.manifest.digest)).toMatchObject({ state: "skipped", lastError: { code: "SCAN.PLATFORM_FILTERED" } });
    expect(byDigest.get(attestation.manifest.digest)).toMatchObject({ state: "skipped" });
    expect(byDigest.get(attestation.manifest.digest)?.result).toBeUndefined();
  }, 60_000);

  it("a second index listing platforms already scanned is complete as soon as it is recorded", async () => {
    const again = blob(OCI_INDEX, Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ ...platformOf(amd64.manifest.digest, "linux", "amd64"), size: amd64.manifest.size }] })));
    await pushManifest(registry.url, "team/multi", again, { tag: "amd64-only" });
    const queues = new CollectingQueues();
    const deps = { images: store.images, registry: client, queues, scanner: undefined, now: () => new Date() };
    await processScanRequest({ kind: "index", digest: again.digest as Digest, registry: registry.host, repository: "team/multi", cause: "push", requestedAt: new Date().toISOString() }, deps, { messageId: "again", isLastAttempt: false });
    expect(queues.sent).toEqual([]);
    const doc = (await store.images.get(again.digest))?.doc;
    expect(doc?.platformResults).toMatchObject({ complete: true, platforms: [{ digest: amd64.manifest.digest, state: "done" }] });
  }, 60_000);
});
