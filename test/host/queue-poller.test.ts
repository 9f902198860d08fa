import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { QueueClient, QueueServiceClient } from "@azure/storage-queue";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { startAzurite, type AzuriteHandle } from "../../functions/host/azurite.js";
import type { QueueHostSettings } from "../../functions/host/host-json.js";
import {
  decodeMessageText,
  encodeMessageText,
  messageBody,
  startQueuePoller,
  type QueueMessageHandler,
  type QueuePoller,
  type QueueTriggerMetadata
} from "../../functions/host/queue-poller.js";
import { eventually, freePort, killAzuritesUnder } from "./azurite-helpers.js";

let root: string;
let azurite: AzuriteHandle | undefined;
let service: QueueServiceClient;
const pollers: QueuePoller[] = [];
const logs: string[] = [];
let queueSeq = 0;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "scanhook-poller-"));
  azurite = await startAzurite({ dataDir: root, blobPort: await freePort(), queuePort: await freePort() });
  service = QueueServiceClient.fromConnectionString(azurite.connectionString);
});

afterEach(async () => {
  for (const p of pollers.splice(0)) await p.stop(5_000);
  vi.restoreAllMocks();
  logs.length = 0;
});

afterAll(async () => {
  await azurite?.stop().catch(() => undefined);
  await killAzuritesUnder(root);
  await rm(root, { recursive: true, force: true });
});

function settings(over: Partial<QueueHostSettings> = {}): QueueHostSettings {
  return {
    batchSize: 16,
    newBatchThreshold: 8,
    maxPollingIntervalMs: 200,
    visibilityTimeoutMs: 1_000,
    maxDequeueCount: 3,
    messageEncoding: "base64",
    ...over
  };
}

function newQueueName(): string {
  return `poller-test-${process.pid}-${++queueSeq}`;
}

async function poll(queueName: string, s: QueueHostSettings, handler: QueueMessageHandler, leaseMs?: number): Promise<QueuePoller> {
  const p = await startQueuePoller({
    service,
    queueName,
    settings: s,
    handler,
    log: (_level, message) => logs.push(message),
    ...(leaseMs === undefined ? {} : { leaseMs })
  });
  pollers.push(p);
  return p;
}

async function visibleTexts(queueName: string): Promise<string[]> {
  const q = service.getQueueClient(queueName);
  if (!(await q.exists())) return [];
  return (await q.peekMessages({ numberOfMessages: 32 })).peekedMessageItems.map((m) => m.messageText);
}

async function messageCount(queueName: string): Promise<number> {
  const q = service.getQueueClient(queueName);
  if (!(await q.exists())) return 0;
  return (await q.getProperties()).approximateMessagesCount ?? 0;
}

interface Gate {
  promise: Promise<void>;
  open: () => void;
}
function gate(): Gate {
  let open: () => void = () => undefined;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

describe("queue poller against Azurite", () => {
  it("retries after the fixed visibility timeout, dequeueCount 1,2,3, then moves the message to <queue>-poison", async () => {
    const queueName = newQueueName();
    const s = settings({ visibilityTimeoutMs: 2_000, maxDequeueCount: 3 });
    const update = vi.spyOn(QueueClient.prototype, "updateMessage");
    const attempts: { count: number; at: number }[] = [];
    await poll(queueName, s, async (_body, meta) => {
      attempts.push({ count: meta.dequeueCount, at: Date.now() });
      throw new Error(`nope #${meta.dequeueCount}`);
    });
    const stored = encodeMessageText(JSON.stringify({ digest: "sha256:abc" }), "base64");
    await service.getQueueClient(queueName).sendMessage(stored);

    expect(await eventually(async () => (await visibleTexts(`${queueName}-poison`)).length === 1, 30_000)).toBe(true);
    expect(attempts.map((a) => a.count)).toEqual([1, 2, 3]);
    expect(await visibleTexts(`${queueName}-poison`)).toEqual([stored]);
    expect(await messageCount(queueName)).toBe(0);
    // Each retry waited for the visibility timeout (Azurite counts in whole seconds, hence the slack)…
    for (let i = 1; i < attempts.length; i++) {
      expect((attempts[i]?.at ?? 0) - (attempts[i - 1]?.at ?? 0)).toBeGreaterThanOrEqual(1_000);
    }
    // …set to exactly host.json's visibilityTimeout every time: no backoff.
    const retryVisibilities = update.mock.calls.filter((c) => c[3] !== 600).map((c) => c[3]);
    expect(retryVisibilities).toEqual([2, 2]);
    expect(logs.some((l) => l.includes("moved to") && l.includes("nope #3"))).toBe(true);
  });

  it("deletes a message once a retry succeeds", async () => {
    const queueName = newQueueName();
    const counts: number[] = [];
    await poll(queueName, settings({ maxDequeueCount: 5 }), async (_body, meta) => {
      counts.push(meta.dequeueCount);
      if (meta.dequeueCount < 3) throw new Error("not yet");
    });
    await service.getQueueClient(queueName).sendMessage(encodeMessageText("hello", "base64"));
    expect(await eventually(() => counts.length === 3, 30_000)).toBe(true);
    expect(await eventually(async () => (await messageCount(queueName)) === 0, 10_000)).toBe(true);
    expect(counts).toEqual([1, 2, 3]);
    expect(await service.getQueueClient(`${queueName}-poison`).exists()).toBe(false);
  });

  it("poisons, without running it, a message received with a dequeue count above the maximum", async () => {
    const queueName = newQueueName();
    const q = service.getQueueClient(queueName);
    await q.createIfNotExists();
    await q.sendMessage(encodeMessageText("orphaned", "base64"));
    // An earlier host received it and died: dequeue count 1, then visible again.
    const taken = (await q.receiveMessages({ visibilityTimeout: 30 })).receivedMessageItems[0];
    if (taken === undefined) throw new Error("no message");
    await q.updateMessage(taken.messageId, taken.popReceipt, undefined, 0);

    let calls = 0;
    await poll(queueName, settings({ maxDequeueCount: 1 }), async () => {
      calls++;
    });
    expect(await eventually(async () => (await visibleTexts(`${queueName}-poison`)).length === 1, 20_000)).toBe(true);
    expect(calls).toBe(0);
    expect(await messageCount(queueName)).toBe(0);
    expect(logs.some((l) => l.includes("above maxDequeueCount"))).toBe(true);
  });

  it("receives batchSize messages and fetches again when in-flight drops to newBatchThreshold", async () => {
    const queueName = newQueueName();
    const receive = vi.spyOn(QueueClient.prototype, "receiveMessages");
    const q = service.getQueueClient(queueName);
    await q.createIfNotExists();
    for (let i = 0; i < 10; i++) await q.sendMessage(encodeMessageText(`m${i}`, "base64"));

    const gates = new Map<string, Gate>();
    let running = 0;
    let maxRunning = 0;
    const done: string[] = [];
    const poller = await poll(queueName, settings({ batchSize: 4, newBatchThreshold: 2, maxDequeueCount: 5 }), async (body) => {
      const g = gate();
      gates.set(String(body), g);
      running++;
      maxRunning = Math.max(maxRunning, running);
      await g.promise;
      running--;
      done.push(String(body));
    });

    expect(await eventually(() => running === 4)).toBe(true);
    expect(receive.mock.calls.every((c) => c[0]?.numberOfMessages === 4)).toBe(true);
    // Four in flight is above the threshold of two: no further receive happens, however long we wait.
    const receivesAt4 = receive.mock.calls.length;
    await new Promise((r) => setTimeout(r, 1_000));
    expect(receive.mock.calls.length).toBe(receivesAt4);
    expect(poller.inFlight).toBe(4);

    // Finishing one leaves three (still above two); finishing a second reaches two → a new batch of four.
    const firstFour = [...gates.keys()];
    gates.get(firstFour[0] ?? "")?.open();
    gates.get(firstFour[1] ?? "")?.open();
    expect(await eventually(() => running === 6)).toBe(true);

    // Let everything finish: every message handled once, the queue empty, never more than 4 + 2 at once.
    const release = setInterval(() => {
      for (const g of gates.values()) g.open();
    }, 50);
    try {
      expect(await eventually(() => done.length === 10, 30_000)).toBe(true);
    } finally {
      clearInterval(release);
    }
    expect([...done].sort()).toEqual(["m0", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "m9"]);
    expect(maxRunning).toBe(6);
    expect(await eventually(async () => (await messageCount(queueName)) === 0, 10_000)).toBe(true);
  });

  it.each([
    ["base64", encodeMessageText('{"kind":"index","n":1}', "base64"), { kind: "index", n: 1 }, '{"kind":"index","n":1}'],
    ["base64", encodeMessageText("[1,2]", "base64"), [1, 2], "[1,2]"],
    ["base64", encodeMessageText("plain text", "base64"), "plain text", "plain text"],
    ["base64", encodeMessageText("42", "base64"), "42", "42"],
    ["base64", encodeMessageText("{not json}", "base64"), "{not json}", "{not json}"],
    ["none", '{"kind":"rematch"}', { kind: "rematch" }, '{"kind":"rematch"}'],
    ["none", "hello world", "hello world", "hello world"]
  ] as const)("%s encoding: stored %j reaches the handler as %j", async (encoding, stored, body, trigger) => {
    const queueName = newQueueName();
    const seen: { body: unknown; meta: QueueTriggerMetadata }[] = [];
    await poll(queueName, settings({ messageEncoding: encoding }), async (b, meta) => {
      seen.push({ body: b, meta });
    });
    await service.getQueueClient(queueName).sendMessage(stored);
    expect(await eventually(() => seen.length === 1)).toBe(true);
    expect(seen[0]?.body).toEqual(body);
    const meta = seen[0]?.meta;
    expect(Object.keys(meta ?? {}).sort()).toEqual(
      ["dequeueCount", "expirationTime", "id", "insertionTime", "nextVisibleTime", "popReceipt", "queueTrigger"].sort()
    );
    expect(meta?.queueTrigger).toBe(trigger);
    expect(meta?.dequeueCount).toBe(1);
    expect(new Date(meta?.insertionTime ?? "").toISOString()).toBe(meta?.insertionTime);
    expect(Date.parse(meta?.expirationTime ?? "")).toBeGreaterThan(Date.parse(meta?.insertionTime ?? ""));
  });

  it("poisons at once a message that is not base64 when base64 is expected", async () => {
    const queueName = newQueueName();
    let calls = 0;
    await poll(queueName, settings({ messageEncoding: "base64" }), async () => {
      calls++;
    });
    await service.getQueueClient(queueName).sendMessage("this is not base64!");
    expect(await eventually(async () => (await visibleTexts(`${queueName}-poison`)).length === 1, 20_000)).toBe(true);
    expect(await visibleTexts(`${queueName}-poison`)).toEqual(["this is not base64!"]);
    expect(calls).toBe(0);
  });

  it("keeps a long-running message invisible by renewing its lease", async () => {
    const queueName = newQueueName();
    const g = gate();
    const counts: number[] = [];
    await poll(
      queueName,
      settings(),
      async (_b, meta) => {
        counts.push(meta.dequeueCount);
        await g.promise;
      },
      4_000
    );
    await service.getQueueClient(queueName).sendMessage(encodeMessageText("slow", "base64"));
    expect(await eventually(() => counts.length === 1)).toBe(true);
    // Well past one lease of 4 s: without renewal the message would be visible (and run again).
    await new Promise((r) => setTimeout(r, 7_000));
    expect(await visibleTexts(queueName)).toEqual([]);
    expect(counts).toEqual([1]);
    g.open();
    expect(await eventually(async () => (await messageCount(queueName)) === 0, 10_000)).toBe(true);
    expect(counts).toEqual([1]);
  });

  it("stop() stops polling, waits for handlers, and releases a message whose handler gave up", async () => {
    const queueName = newQueueName();
    const started = gate();
    let aborted = false;
    const poller = await poll(queueName, settings({ maxDequeueCount: 1 }), async (_b, _meta, signal) => {
      started.open();
      await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve()));
      aborted = true;
      throw new Error("stopping");
    });
    expect(await service.getQueueClient(queueName).exists()).toBe(true);
    await service.getQueueClient(queueName).sendMessage(encodeMessageText("interrupted", "base64"));
    await started.promise;
    await poller.stop(10_000);
    expect(aborted).toBe(true);
    expect(poller.inFlight).toBe(0);
    // Released at once, not poisoned (a stop is not a verdict on the message), and no longer polled.
    expect(await visibleTexts(queueName)).toEqual([encodeMessageText("interrupted", "base64")]);
    expect(await service.getQueueClient(`${queueName}-poison`).exists()).toBe(false);
    await service.getQueueClient(queueName).sendMessage(encodeMessageText("after stop", "base64"));
    await new Promise((r) => setTimeout(r, 500));
    expect((await visibleTexts(queueName)).length).toBe(2);
  });
});

describe("message decoding", () => {
  it.each([
    ["aGVsbG8=", "base64", "hello"],
    ["aGVs\nbG8=", "base64", "hello"],
    ["aGVsbG8", "base64", undefined],
    ["hello!", "base64", undefined],
    ["/w==", "base64", undefined],
    ["hello!", "none", "hello!"]
  ] as const)("%j as %s → %j", (text, encoding, expected) => {
    expect(decodeMessageText(text, encoding)).toBe(expected);
  });

  it.each([
    ['{"a":1}', { a: 1 }],
    [' [1, "x"] ', [1, "x"]],
    ["42", "42"],
    ["true", "true"],
    ['"quoted"', '"quoted"'],
    ["{broken", "{broken"],
    ["{broken}", "{broken}"],
    ["", ""]
  ] as const)("body of %j is %j", (text, expected) => {
    expect(messageBody(text)).toEqual(expected);
  });
});
