import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Digest } from "../domain/digest.js";
import type { ImageRecord } from "../domain/image-record.js";
import { parseRegistries } from "../domain/registries.js";
import type { RegistryEvent } from "../domain/registry-event.js";
import type { QueueSender, Reachability } from "../queues/queues.js";
import { openStore } from "../store/open-store.js";
import type { Store } from "../store/port.js";
import { recordEvents } from "./record-events.js";

/** Records what was enqueued; `failing` makes every send fail like an unreachable queue. */
class MemoryQueues implements QueueSender {
  sent: { queue: string; body: unknown }[] = [];
  failing = false;
  async send(queue: string, body: unknown): Promise<void> {
    if (this.failing) throw Object.assign(new Error("queue down"), { code: "ECONNREFUSED" });
    this.sent.push({ queue, body: structuredClone(body) });
  }
  async ping(): Promise<Reachability> {
    return { ok: true };
  }
}

const D1 = `sha256:${"1".repeat(64)}` as Digest;
const D2 = `sha256:${"2".repeat(64)}` as Digest;
const registries = (() => {
  const r = parseRegistries(JSON.stringify([{ host: "reg.example.com" }, { host: "myreg.azurecr.io", pullIdentity: "scanner-token" }]));
  if (!r.ok) throw new Error(r.error);
  return r.value;
})();

function event(partial: Partial<RegistryEvent> & Pick<RegistryEvent, "action">): RegistryEvent {
  return {
    registry: "reg.example.com",
    repository: "team/app",
    time: "2026-11-20T10:00:00.000Z",
    source: "distribution",
    eventId: `e-${Math.random()}`,
    ...partial
  } as RegistryEvent;
}

describe("recordEvents", () => {
  let store: Store<ImageRecord>;
  let queues: MemoryQueues;
  const deps = () => ({ images: store.images, queues, registries, now: () => new Date("2026-11-23T00:00:00Z") });

  beforeEach(async () => {
    store = await openStore({ kind: "sqlite", path: ":memory:" });
    queues = new MemoryQueues();
  });
  afterEach(async () => store.close());

  it("a push records the location and tag and asks for a scan once the manifest is unknown", async () => {
    const outcome = await recordEvents([event({ action: "push", digest: D1, tag: "v1" })], deps());
    expect(outcome).toEqual({ applied: 1, scansRequested: 1, ignored: [] });
    const record = (await store.images.get(D1))?.doc;
    expect(record?.locations).toEqual([
      { registry: "reg.example.com", repository: "team/app", tags: ["v1"], firstPushedAt: "2026-11-20T10:00:00.000Z", lastPushedAt: "2026-11-20T10:00:00.000Z" }
    ]);
    expect(record?.scan.state).toBe("queued");
    expect(queues.sent).toEqual([
      {
        queue: "scan-requests",
        body: expect.objectContaining({ kind: "index", digest: D1, registry: "reg.example.com", repository: "team/app", tag: "v1" })
      }
    ]);
  });

  it("a push of a digest whose manifest is recorded adds the tag without another scan", async () => {
    await recordEvents([event({ action: "push", digest: D1, tag: "v1" })], deps());
    await store.images.update(D1, (r) => (r === undefined ? r : { ...r, kind: "image", mediaType: "application/vnd.oci.image.manifest.v1+json" }));
    const outcome = await recordEvents([event({ action: "push", digest: D1, tag: "latest", repository: "team/other" })], deps());
    expect(outcome.scansRequested).toBe(0);
    expect((await store.images.get(D1))?.doc.locationKeys).toEqual(["reg.example.com/team/app", "reg.example.com/team/other"]);
  });

  it("refuses events from a registry not in REGISTRIES with 403, before writing anything", async () => {
    const events = [event({ action: "push", digest: D1 }), event({ action: "push", digest: D2, registry: "evil.example.com" })];
    await expect(recordEvents(events, deps())).rejects.toMatchObject({ code: "EVENT.REGISTRY_NOT_ALLOWED", status: 403 });
    expect(await store.images.get(D1)).toBeUndefined();
    expect(queues.sent).toEqual([]);
  });

  it("a pull sets last-pulled; scanhook's own pulls (user agent or account) are ignored", async () => {
    await recordEvents([event({ action: "push", digest: D1, registry: "myreg.azurecr.io", source: "acr" })], deps());
    const outcome = await recordEvents(
      [
        event({ action: "pull", digest: D1, registry: "myreg.azurecr.io", userAgent: "scanhook/0.1.0", time: "2026-11-21T00:00:00.000Z" }),
        event({ action: "pull", digest: D1, registry: "myreg.azurecr.io", actor: "scanner-token", time: "2026-11-21T00:00:00.000Z" }),
        event({ action: "pull", digest: D1, registry: "myreg.azurecr.io", userAgent: "containerd/1.7", time: "2026-11-22T00:00:00.000Z" })
      ],
      deps()
    );
    expect(outcome.ignored.map((i) => i.reason)).toEqual(["scanhook's own pull", "scanhook's own pull"]);
    expect((await store.images.get(D1))?.doc.lastPulledAt).toBe("2026-11-22T00:00:00.000Z");
  });

  it("a delete by digest removes the location, and marks the record deleted when none remain", async () => {
    await recordEvents([event({ action: "push", digest: D1, tag: "v1" }), event({ action: "push", digest: D1, repository: "team/copy" })], deps());
    await recordEvents([event({ action: "delete", digest: D1 })], deps());
    let record = (await store.images.get(D1))?.doc;
    expect(record?.locationKeys).toEqual(["reg.example.com/team/copy"]);
    expect(record?.deleted).toBe(false);
    await recordEvents([event({ action: "delete", digest: D1, repository: "team/copy" })], deps());
    record = (await store.images.get(D1))?.doc;
    expect(record?.deleted).toBe(true);
    expect(record?.deletedAt).toBe("2026-11-23T00:00:00.000Z");
    // A delete of a digest never seen (or of a blob) changes nothing.
    await recordEvents([event({ action: "delete", digest: D2 })], deps());
    expect(await store.images.get(D2)).toBeUndefined();
  });

  it("a delete by tag removes only that tag", async () => {
    await recordEvents([event({ action: "push", digest: D1, tag: "v1" }), event({ action: "push", digest: D1, tag: "latest" })], deps());
    await recordEvents([event({ action: "delete", tag: "latest" })], deps());
    expect((await store.images.get(D1))?.doc.locations[0]?.tags).toEqual(["v1"]);
  });

  it("redelivered and concurrent events for one digest make one record", async () => {
    const push = event({ action: "push", digest: D1, tag: "v1" });
    await Promise.all(Array.from({ length: 50 }, () => recordEvents([push], deps())));
    const record = (await store.images.get(D1))?.doc;
    expect(record?.locations).toHaveLength(1);
    expect(record?.locations[0]?.tags).toEqual(["v1"]);
    expect(queues.sent.length).toBeGreaterThanOrEqual(1);
  });

  it("propagates a queue failure (so the webhook answers 503) with nothing stored", async () => {
    queues.failing = true;
    await expect(recordEvents([event({ action: "push", digest: D1 })], deps())).rejects.toThrow("queue down");
    expect(await store.images.get(D1)).toBeUndefined();
  });
});
