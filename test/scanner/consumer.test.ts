import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DirectoryBlobStore } from "../../shared/blobs/directory-blobs.js";
import type { Digest } from "../../shared/domain/digest.js";
import { ScanhookError } from "../../shared/domain/errors.js";
import { newImageRecord, withLocation, type ImageRecord } from "../../shared/domain/image-record.js";
import type { ScanRequest } from "../../shared/domain/scan-request.js";
import type { QueueSender, Reachability } from "../../shared/queues/queues.js";
import type { RegistryClient } from "../../shared/registry/port.js";
import { createScanner } from "../../shared/scanner/scanner.js";
import { DEFAULT_SCAN_LIMITS } from "../../shared/scanner/limits.js";
import { openStore } from "../../shared/store/open-store.js";
import type { Store } from "../../shared/store/port.js";
import { processScanRequest } from "../../shared/usecases/process-scan-request.js";

/**
 * The `scan-requests` consumer with the real Scanner adapter, for a digest whose manifest is
 * already recorded (the "already-recorded" branch): a transient failure puts the record back to
 * `queued` for the queue's retry, and on the last attempt ends it `failed` with the cause, as the
 * branch that fetches the manifest does.
 */

const NOW = new Date("2026-11-23T10:00:00Z");
const DIGEST = `sha256:${"a".repeat(64)}` as Digest;
const LAYER = `sha256:${"b".repeat(64)}` as Digest;
const CONFIG = `sha256:${"c".repeat(64)}` as Digest;

class NoQueues implements QueueSender {
  async send(): Promise<void> {
    throw new Error("nothing should be enqueued");
  }
  async ping(): Promise<Reachability> {
    return { ok: true };
  }
}

/** A registry that is down for blobs: what a retry might cure. */
function unreachableRegistry(): RegistryClient {
  const down = (): never => {
    throw new ScanhookError("REGISTRY.UNREACHABLE", "connect ECONNREFUSED 127.0.0.1:5000");
  };
  return {
    getManifest: async () => down(),
    openBlob: async () => down(),
    resolveTag: async () => down(),
    listRepositories: () => down(),
    listTags: () => down(),
    close: () => undefined
  };
}

describe("scan-requests consumer, manifest already recorded, scan fails transiently", () => {
  let store: Store<ImageRecord>;
  let dir: string;
  const request: ScanRequest = { kind: "index", digest: DIGEST, registry: "127.0.0.1:5000", repository: "team/app", cause: "test", requestedAt: NOW.toISOString() };

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "scanhook-consumer-"));
    store = await openStore({ kind: "sqlite", path: ":memory:" });
    const base = withLocation(newImageRecord(DIGEST, NOW), { registry: request.registry, repository: request.repository });
    await store.images.upsert({
      ...base,
      kind: "image",
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      manifest: { size: 400, configDigest: CONFIG, layers: [{ digest: LAYER, size: 10, mediaType: "application/vnd.oci.image.layer.v1.tar+gzip" }], fetchedAt: NOW.toISOString() }
    });
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const deps = () => {
    const registry = unreachableRegistry();
    const scanner = createScanner({ images: store.images, registry, blobs: new DirectoryBlobStore(dir), limits: DEFAULT_SCAN_LIMITS, platforms: [], now: () => NOW });
    return { images: store.images, registry, queues: new NoQueues(), scanner, now: () => NOW };
  };

  it("before the last attempt: rejects for the retry and leaves the record queued with the cause", async () => {
    await expect(processScanRequest(request, deps(), { messageId: "m1", isLastAttempt: false })).rejects.toMatchObject({ code: "REGISTRY.UNREACHABLE" });
    const record = (await store.images.get(DIGEST))?.doc;
    expect(record?.scan.state).toBe("queued");
    expect(record?.scan.lastError).toMatchObject({ code: "REGISTRY.UNREACHABLE", message: expect.stringContaining("ECONNREFUSED") });
  });

  it("on the last attempt: rejects (to the poison queue) and the record ends failed with the cause", async () => {
    await expect(processScanRequest(request, deps(), { messageId: "m1", isLastAttempt: true })).rejects.toMatchObject({ code: "REGISTRY.UNREACHABLE" });
    const record = (await store.images.get(DIGEST))?.doc;
    expect(record?.scan.state).toBe("failed");
    expect(record?.scan.lastError).toEqual({ code: "REGISTRY.UNREACHABLE", message: expect.stringContaining("ECONNREFUSED"), at: NOW.toISOString() });
    expect(record?.result).toBeUndefined();
  });

  it("does not give back a lease another request holds", async () => {
    const until = new Date(NOW.getTime() + 60_000).toISOString();
    await store.images.update(DIGEST, (r) => (r === undefined ? r : { ...r, scan: { ...r.scan, lease: { owner: "other", until } } }));
    await expect(processScanRequest(request, deps(), { messageId: "m1", isLastAttempt: true })).rejects.toMatchObject({ code: "REGISTRY.UNREACHABLE" });
    const record = (await store.images.get(DIGEST))?.doc;
    expect(record?.scan.lease).toEqual({ owner: "other", until });
    expect(record?.scan.state).toBe("failed");
  });
});
