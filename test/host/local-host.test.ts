import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Timer } from "@azure/functions";
import { QueueServiceClient } from "@azure/storage-queue";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FUNCTIONS } from "../../functions/all.js";
import type { FunctionDeclaration } from "../../functions/declaration.js";
import { startLocalHost, type LocalHost } from "../../functions/host/local-host.js";
import type { Clock } from "../../functions/host/timer-scheduler.js";
import { json } from "../../functions/http.js";
import type { PoisonMessage } from "../../functions/invoke.js";
import type { Services } from "../../functions/services.js";
import { loadSettings } from "../../shared/config.js";
import { ScanhookError } from "../../shared/domain/errors.js";
import { newImageRecord } from "../../shared/domain/image-record.js";
import type { Digest } from "../../shared/domain/digest.js";
import { createLogger } from "../../shared/log.js";
import { azuritesUnder, eventually, freePort, killAzuritesUnder, portIsFree } from "./azurite-helpers.js";

/**
 * The local host as `npm start` runs it, over a real Azurite: keys on HTTP functions, the queue
 * trigger's retry/poison semantics counted on the real queue, timers under an injected clock, a
 * second start finding its data, and a SIGKILLed host leaving no Azurite behind.
 */

const KEY = "r".repeat(32);
const DIGEST = `sha256:${"a".repeat(64)}` as Digest;
const quiet = createLogger("error");

/** A clock the test moves by hand. */
class ManualClock implements Clock {
  private current = Date.parse("2026-11-23T10:00:00.000Z");
  private timers: { at: number; callback: () => void; id: number }[] = [];
  private nextId = 1;
  now(): number {
    return this.current;
  }
  setTimeout(callback: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.push({ at: this.current + ms, callback, id });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((t) => t.id !== handle);
  }
  async advanceTo(iso: string): Promise<void> {
    const target = Date.parse(iso);
    for (;;) {
      const due = this.timers.filter((t) => t.at <= target).sort((a, b) => a.at - b.at)[0];
      if (due === undefined) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.current = due.at;
      due.callback();
      // let the run finish and schedule the next occurrence
      await new Promise((r) => setTimeout(r, 20));
    }
    this.current = target;
  }
}

describe("local host", () => {
  const dir = mkdtempSync(join(tmpdir(), "scanhook-host-"));
  const dataDir = join(dir, "data");
  const hostJson = join(dir, "host.json");
  let host: LocalHost;
  let ports: { http: number; blob: number; queue: number };
  const attempts: number[] = [];
  const attemptTimes: number[] = [];
  const fired: Timer[] = [];
  const clock = new ManualClock();

  const echo: FunctionDeclaration<Services> = {
    kind: "http",
    name: "echo",
    route: "api/echo/{word}",
    methods: ["POST"],
    key: "webhook",
    handler: async (request) => json(200, { word: request.params.word, body: await request.text() })
  };
  const flaky: FunctionDeclaration<Services> = {
    kind: "queue",
    name: "flaky",
    queueName: "flaky-requests",
    handler: async (message, context) => {
      attempts.push(Number(context.triggerMetadata?.dequeueCount));
      attemptTimes.push(Date.now());
      throw new ScanhookError("TEST.ALWAYS_FAILS", `cannot handle ${JSON.stringify(message)}`);
    }
  };
  const tick: FunctionDeclaration<Services> = {
    kind: "timer",
    name: "tick",
    schedule: "0 */5 * * * *",
    handler: async (timer) => {
      fired.push(timer);
    }
  };

  const settingsFor = (extra: Record<string, string> = {}) =>
    loadSettings([
      {
        PORT: String(ports.http),
        AZURITE_BLOB_PORT: String(ports.blob),
        AZURITE_QUEUE_PORT: String(ports.queue),
        SCANHOOK_DATA_DIR: dataDir,
        READ_KEY: KEY,
        VULNDB_DOWNLOAD: "false",
        ...extra
      }
    ]);

  beforeAll(async () => {
    ports = { http: await freePort(), blob: await freePort(), queue: await freePort() };
    writeFileSync(
      hostJson,
      JSON.stringify({
        version: "2.0",
        extensions: {
          http: { routePrefix: "" },
          queues: { batchSize: 4, newBatchThreshold: 2, maxPollingInterval: "00:00:00.200", visibilityTimeout: "00:00:01", maxDequeueCount: 3, messageEncoding: "base64" }
        }
      })
    );
    host = await startLocalHost({ settings: settingsFor(), functions: [...FUNCTIONS, echo, flaky, tick], log: quiet, hostJsonPath: hostJson, clock });
  });

  afterAll(async () => {
    await host?.stop();
    await killAzuritesUnder(dir);
    rmSync(dir, { recursive: true, force: true });
  });

  it("answers HTTP functions with the right key and 401 without", async () => {
    const url = `http://127.0.0.1:${ports.http}/api/health`;
    expect((await fetch(url)).status).toBe(401);
    expect((await fetch(url, { headers: { "x-functions-key": "x".repeat(32) } })).status).toBe(401);
    const ok = await fetch(url, { headers: { "x-functions-key": KEY } });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ status: "ok", store: { kind: "sqlite", ok: true }, queue: { ok: true } });
    expect((await fetch(`${url}?code=${KEY}`)).status).toBe(200);

    const webhookKey = host.keys.keys.webhook[0] ?? "";
    const echoUrl = `http://127.0.0.1:${ports.http}/api/echo/hello`;
    expect((await fetch(echoUrl, { method: "POST", body: "x", headers: { "x-functions-key": KEY } })).status).toBe(401);
    const echoed = await fetch(echoUrl, { method: "POST", body: "payload", headers: { "x-functions-key": webhookKey } });
    expect(await echoed.json()).toEqual({ word: "hello", body: "payload" });
    expect((await fetch(echoUrl, { method: "GET" })).status).toBe(405);
    expect((await fetch(`http://127.0.0.1:${ports.http}/api/nothing`)).status).toBe(404);
  });

  it("refuses a body over HTTP_MAX_BODY_BYTES with 413", async () => {
    const big = "x".repeat(1048577);
    const r = await fetch(`http://127.0.0.1:${ports.http}/api/echo/big`, { method: "POST", body: big, headers: { "x-functions-key": host.keys.keys.webhook[0] ?? "" } });
    expect(r.status).toBe(413);
  });

  it("retries a queue message after the visibility timeout and poisons it with the reason after maxDequeueCount", async () => {
    const service = QueueServiceClient.fromConnectionString(host.azurite?.connectionString ?? "");
    await host.services.queues.send("flaky-requests", { digest: DIGEST });
    const poison = service.getQueueClient("flaky-requests-poison");
    let poisoned: PoisonMessage | undefined;
    expect(
      await eventually(async () => {
        if (!(await poison.exists())) return false;
        const peeked = await poison.peekMessages({ numberOfMessages: 1 });
        const text = peeked.peekedMessageItems[0]?.messageText;
        if (text === undefined) return false;
        poisoned = JSON.parse(Buffer.from(text, "base64").toString("utf8")) as PoisonMessage;
        return true;
      }, 30_000)
    ).toBe(true);
    expect(attempts).toEqual([1, 2, 3]);
    // Each retry waits out the fixed visibilityTimeout (1 s here); no backoff makes it longer by design.
    for (let i = 1; i < attemptTimes.length; i++) expect((attemptTimes[i] ?? 0) - (attemptTimes[i - 1] ?? 0)).toBeGreaterThanOrEqual(900);
    expect(poisoned?.message).toEqual({ digest: DIGEST });
    expect(poisoned?.poisoned).toMatchObject({
      function: "flaky",
      queue: "flaky-requests",
      dequeueCount: 3,
      reason: { code: "TEST.ALWAYS_FAILS", message: `TEST.ALWAYS_FAILS: cannot handle {"digest":"${DIGEST}"}` }
    });
    const main = await service.getQueueClient("flaky-requests").getProperties();
    expect(main.approximateMessagesCount).toBe(0);
  });

  it("fires a timer on its NCRONTAB schedule under the injected clock", async () => {
    expect(host.timers.get("tick")?.nextRunAt).toBe(Date.parse("2026-11-23T10:05:00.000Z"));
    await clock.advanceTo("2026-11-23T10:04:59.000Z");
    expect(fired).toHaveLength(0);
    await clock.advanceTo("2026-11-23T10:10:00.000Z");
    expect(fired).toHaveLength(2);
    expect(fired[0]?.isPastDue).toBe(false);
    expect(host.timers.get("tick")?.nextRunAt).toBe(Date.parse("2026-11-23T10:15:00.000Z"));
  });

  it("honours AzureWebJobs.<name>.Disabled and finds its data again on a second start", async () => {
    await host.services.store.images.upsert(newImageRecord(DIGEST, new Date("2026-11-23T10:00:00Z")));
    const keys = host.keys.keys;
    await host.stop();
    expect(await azuritesUnder(dir)).toEqual([]);

    host = await startLocalHost({
      settings: settingsFor({ "AzureWebJobs.health.Disabled": "true" }),
      functions: [...FUNCTIONS, echo],
      log: quiet,
      hostJsonPath: hostJson
    });
    expect(host.keys.generated).toEqual({});
    expect(host.keys.keys).toEqual(keys);
    expect((await host.services.store.images.get(DIGEST))?.doc.id).toBe(DIGEST);
    expect(host.mounted.disabled).toEqual(["health"]);
    expect((await fetch(`http://127.0.0.1:${ports.http}/api/health`, { headers: { "x-functions-key": KEY } })).status).toBe(404);
  });
});

describe("npm start's process", () => {
  const dir = mkdtempSync(join(tmpdir(), "scanhook-main-"));
  const children: ChildProcess[] = [];

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
    await killAzuritesUnder(dir);
    rmSync(dir, { recursive: true, force: true });
  });

  async function start(env: Record<string, string>): Promise<{ child: ChildProcess; output: () => string }> {
    const child = spawn(process.execPath, [new URL("../../dist/functions/host/main.js", import.meta.url).pathname], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? "", HOME: dir, VULNDB_DOWNLOAD: "false", ...env },
      stdio: ["ignore", "pipe", "pipe"]
    });
    children.push(child);
    let text = "";
    child.stdout?.on("data", (d: Buffer) => (text += d.toString()));
    child.stderr?.on("data", (d: Buffer) => (text += d.toString()));
    const up = await eventually(() => text.includes("Ctrl-C stops everything") || child.exitCode !== null, 60_000);
    if (!up || child.exitCode !== null) throw new Error(`host did not start:\n${text}`);
    return { child, output: () => text };
  }

  const exited = (child: ChildProcess) => new Promise<number | null>((r) => (child.exitCode !== null ? r(child.exitCode) : child.once("exit", (c) => r(c))));

  it("after a SIGKILL, the next start takes over the Azurite it left, and Ctrl-C leaves nothing on the ports", async () => {
    const env = {
      PORT: String(await freePort()),
      AZURITE_BLOB_PORT: String(await freePort()),
      AZURITE_QUEUE_PORT: String(await freePort()),
      SCANHOOK_DATA_DIR: join(dir, "data")
    };
    const first = await start(env);
    expect(first.output()).toMatch(/keys {5}generated now/);
    first.child.kill("SIGKILL");
    await exited(first.child);
    // The host is gone; its Azurite, in its own process group, is not.
    expect(await azuritesUnder(dir)).toHaveLength(1);

    const second = await start(env);
    expect(second.output()).toMatch(/reused/);
    expect(second.output()).toMatch(/keys {5}WEBHOOK_KEY, READ_KEY, ADMIN_KEY, ADMISSION_SECRET in/);
    expect(await azuritesUnder(dir)).toHaveLength(1);

    second.child.kill("SIGINT");
    expect(await exited(second.child)).toBe(0);
    expect(await azuritesUnder(dir)).toEqual([]);
    for (const port of [env.PORT, env.AZURITE_BLOB_PORT, env.AZURITE_QUEUE_PORT]) expect(await portIsFree(Number(port))).toBe(true);
  });
});
