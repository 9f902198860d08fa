import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { isScanhookError } from "../../shared/domain/errors.js";
import { parseQueueSettings, readQueueSettings } from "../../functions/host/host-json.js";
import { parseTimeSpan } from "../../functions/host/timespan.js";

describe("host.json queue settings", () => {
  it("takes the Functions host's defaults where fields are absent", () => {
    expect(parseQueueSettings({ version: "2.0" })).toEqual({
      batchSize: 16,
      newBatchThreshold: 8,
      maxPollingIntervalMs: 60_000,
      visibilityTimeoutMs: 0,
      maxDequeueCount: 5,
      messageEncoding: "base64"
    });
  });

  it("derives newBatchThreshold from batchSize when absent", () => {
    expect(parseQueueSettings({ extensions: { queues: { batchSize: 5 } } }).newBatchThreshold).toBe(2);
    expect(parseQueueSettings({ extensions: { queues: { batchSize: 1 } } }).newBatchThreshold).toBe(0);
  });

  it("reads every field, TimeSpans included, with keys in any case", () => {
    expect(
      parseQueueSettings({
        Extensions: {
          Queues: {
            BatchSize: 4,
            newBatchThreshold: 1,
            maxPollingInterval: "00:00:02",
            visibilityTimeout: "00:01:30.5",
            maxDequeueCount: 3,
            messageEncoding: "None"
          }
        }
      })
    ).toEqual({
      batchSize: 4,
      newBatchThreshold: 1,
      maxPollingIntervalMs: 2_000,
      visibilityTimeoutMs: 90_500,
      maxDequeueCount: 3,
      messageEncoding: "none"
    });
  });

  it.each([
    [{ batchSize: 0 }, "extensions.queues.batchSize"],
    [{ batchSize: 33 }, "extensions.queues.batchSize"],
    [{ batchSize: "16" }, "extensions.queues.batchSize"],
    [{ newBatchThreshold: -1 }, "extensions.queues.newBatchThreshold"],
    [{ maxPollingInterval: "2s" }, "extensions.queues.maxPollingInterval"],
    [{ maxPollingInterval: "00:00:00.050" }, "extensions.queues.maxPollingInterval"],
    [{ visibilityTimeout: "8.00:00:00" }, "extensions.queues.visibilityTimeout"],
    [{ maxDequeueCount: 0 }, "extensions.queues.maxDequeueCount"],
    [{ messageEncoding: "utf8" }, "extensions.queues.messageEncoding"]
  ])("refuses %j naming %s", (queues, field) => {
    let error: unknown;
    try {
      parseQueueSettings({ extensions: { queues } }, "my/host.json");
    } catch (e) {
      error = e;
    }
    expect(isScanhookError(error, "HOST.HOST_JSON_INVALID")).toBe(true);
    expect((error as Error).message).toContain(field);
    expect((error as Error).message).toContain("my/host.json");
  });

  it("reads the project's own host.json", async () => {
    const path = fileURLToPath(new URL("../../host.json", import.meta.url));
    const settings = await readQueueSettings(path);
    expect(settings.messageEncoding).toBe("base64");
    expect(settings.batchSize).toBeGreaterThanOrEqual(1);
  });

  it("names the file when it is not JSON, and uses defaults when it is missing", async () => {
    const dir = await mkdtemp(join(tmpdir(), "scanhook-hostjson-"));
    try {
      await writeFile(join(dir, "host.json"), "{ nope");
      await expect(readQueueSettings(join(dir, "host.json"))).rejects.toThrow(/host\.json: not valid JSON/);
      expect((await readQueueSettings(join(dir, "missing.json"))).batchSize).toBe(16);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("parseTimeSpan", () => {
  it.each([
    ["00:00:02", 2_000],
    ["00:01", 60_000],
    ["1.02:03:04", 93_784_000],
    ["00:00:00.1234567", 123.4567],
    ["23:59:59", 86_399_000]
  ] as const)("%s = %d ms", (text, ms) => {
    expect(parseTimeSpan(text)).toBeCloseTo(ms, 6);
  });

  it.each(["", "2", "24:00:00", "00:60:00", "00:00:60", "-00:00:01", "00:00:01.12345678", "1:2:3:4"])("%j is not a TimeSpan", (text) => {
    expect(parseTimeSpan(text)).toBeUndefined();
  });
});
