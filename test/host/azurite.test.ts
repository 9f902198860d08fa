import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { BlobServiceClient } from "@azure/storage-blob";
import { QueueServiceClient } from "@azure/storage-queue";
import ts from "typescript";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { azuriteFiles, startAzurite, type AzuriteHandle } from "../../functions/host/azurite.js";
import { azuritesUnder, eventually, freePort, isAlive, killAzuritesUnder, portIsFree } from "./azurite-helpers.js";

const repo = fileURLToPath(new URL("../../", import.meta.url));
let root: string;
const handles: AzuriteHandle[] = [];
const logs: string[] = [];
const log = (_level: string, message: string) => void logs.push(message);

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "scanhook-azurite-"));
});

afterEach(async () => {
  for (const h of handles.splice(0)) await h.stop().catch(() => undefined);
  await killAzuritesUnder(root);
  logs.length = 0;
});

afterAll(async () => {
  await killAzuritesUnder(root);
  await rm(root, { recursive: true, force: true });
});

async function start(dataDir: string, blobPort: number, queuePort: number): Promise<AzuriteHandle> {
  const h = await startAzurite({ dataDir, blobPort, queuePort, log });
  handles.push(h);
  return h;
}

async function newDataDir(name: string): Promise<string> {
  const dir = join(root, name);
  await mkdir(dir, { recursive: true });
  return dir;
}

/**
 * The crash test needs a separate Node process that starts Azurite through the very module under
 * test. Node 20 cannot run TypeScript, so the module and what it imports are transpiled (no type
 * check) into a folder inside the repository, where `azurite` resolves from node_modules.
 */
async function writeCrashScript(): Promise<{ script: string; cleanup: () => Promise<void> }> {
  await mkdir(join(repo, ".tmp"), { recursive: true });
  const out = await mkdtemp(join(repo, ".tmp", "azurite-crash-"));
  // azurite.ts's other imports are type-only and vanish in the output
  for (const file of ["functions/host/azurite.ts", "shared/domain/errors.ts"]) {
    const source = await readFile(join(repo, file), "utf8");
    const js = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true }
    }).outputText;
    const target = join(out, file.replace(/\.ts$/, ".js"));
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, js);
  }
  await writeFile(join(out, "package.json"), JSON.stringify({ type: "module" }));
  const script = join(out, "crash-child.js");
  await writeFile(
    script,
    [
      'import { startAzurite } from "./functions/host/azurite.js";',
      "const [dataDir, blobPort, queuePort] = process.argv.slice(2);",
      "const h = await startAzurite({ dataDir, blobPort: Number(blobPort), queuePort: Number(queuePort) });",
      "process.stdout.write(JSON.stringify({ pid: h.pid }) + '\\n');",
      "setInterval(() => {}, 1000);"
    ].join("\n")
  );
  return { script, cleanup: () => rm(out, { recursive: true, force: true }) };
}

/** Runs the crash script, waits for its Azurite, then SIGKILLs the script (the "host"). */
async function crashAHost(script: string, dataDir: string, blobPort: number, queuePort: number): Promise<number> {
  const child = spawn(process.execPath, [script, dataDir, String(blobPort), String(queuePort)], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  try {
    const started = await eventually(() => out.includes("\n") || child.exitCode !== null, 60_000);
    if (!started || !out.includes("\n")) throw new Error(`the crash script did not start Azurite: ${err || out}`);
    return (JSON.parse(out.split("\n")[0] ?? "") as { pid: number }).pid;
  } finally {
    child.kill("SIGKILL");
    await exited;
  }
}

async function listenOn(port: number): Promise<Server> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(port, "127.0.0.1", () => r()));
  return server;
}

describe("startAzurite", () => {
  it("starts Blob and Queue on loopback and a second start finds the data again", async () => {
    const dataDir = await newDataDir("reuse-data");
    const [blobPort, queuePort] = [await freePort(), await freePort()];
    const first = await start(dataDir, blobPort, queuePort);
    expect(first.reused).toBe(false);
    expect(first.connectionString).toContain(`BlobEndpoint=http://127.0.0.1:${blobPort}/devstoreaccount1`);
    expect(first.connectionString).toContain(`QueueEndpoint=http://127.0.0.1:${queuePort}/devstoreaccount1`);
    const { pidFile, location } = azuriteFiles(dataDir);
    expect(JSON.parse(await readFile(pidFile, "utf8"))).toMatchObject({ pid: first.pid, blobPort, queuePort });

    const container = BlobServiceClient.fromConnectionString(first.connectionString).getContainerClient("keep");
    await container.createIfNotExists();
    await container.getBlockBlobClient("note.txt").upload("kept", 4);
    const queue = QueueServiceClient.fromConnectionString(first.connectionString).getQueueClient("kept-messages");
    await queue.createIfNotExists();
    await queue.sendMessage("still here");

    await first.stop();
    expect(isAlive(first.pid)).toBe(false);
    expect(existsSync(pidFile)).toBe(false);
    expect(await portIsFree(blobPort)).toBe(true);
    expect(await portIsFree(queuePort)).toBe(true);
    expect(existsSync(location)).toBe(true);

    const second = await start(dataDir, blobPort, queuePort);
    expect(second.reused).toBe(false);
    expect(second.pid).not.toBe(first.pid);
    const blob = BlobServiceClient.fromConnectionString(second.connectionString).getContainerClient("keep").getBlockBlobClient("note.txt");
    expect((await blob.downloadToBuffer()).toString()).toBe("kept");
    const peeked = await QueueServiceClient.fromConnectionString(second.connectionString).getQueueClient("kept-messages").peekMessages();
    expect(peeked.peekedMessageItems.map((m) => m.messageText)).toEqual(["still here"]);
    await second.stop();
    await second.stop(); // idempotent
  });

  it("after a host is SIGKILLed, reuses its Azurite by the pidfile; stop() then frees everything", async () => {
    const dataDir = await newDataDir("crash-reuse");
    const [blobPort, queuePort] = [await freePort(), await freePort()];
    const { script, cleanup } = await writeCrashScript();
    try {
      const orphan = await crashAHost(script, dataDir, blobPort, queuePort);
      // the host is gone; its Azurite, in its own process group, lives on and holds the ports
      expect(isAlive(orphan)).toBe(true);
      expect(await portIsFree(blobPort)).toBe(false);

      const h = await start(dataDir, blobPort, queuePort);
      expect(h.reused).toBe(true);
      expect(h.pid).toBe(orphan);
      const queue = QueueServiceClient.fromConnectionString(h.connectionString).getQueueClient("after-crash");
      await queue.createIfNotExists();
      await queue.sendMessage("works");

      await h.stop();
      expect(await eventually(() => !isAlive(orphan), 5_000)).toBe(true);
      expect(await portIsFree(blobPort)).toBe(true);
      expect(await portIsFree(queuePort)).toBe(true);
      expect(await azuritesUnder(dataDir)).toEqual([]);
      expect(existsSync(azuriteFiles(dataDir).pidFile)).toBe(false);
    } finally {
      await cleanup();
    }
  });

  it("after a crash, stops the old Azurite when the ports changed and starts a new one", async () => {
    const dataDir = await newDataDir("crash-ports");
    const [oldBlob, oldQueue, newBlob, newQueue] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const { script, cleanup } = await writeCrashScript();
    try {
      const orphan = await crashAHost(script, dataDir, oldBlob, oldQueue);
      const h = await start(dataDir, newBlob, newQueue);
      expect(h.reused).toBe(false);
      expect(h.pid).not.toBe(orphan);
      expect(isAlive(orphan)).toBe(false);
      expect(await portIsFree(oldBlob)).toBe(true);
      expect(await portIsFree(oldQueue)).toBe(true);
      expect(logs.some((l) => l.includes("serves other ports"))).toBe(true);
      await h.stop();
      expect(await azuritesUnder(dataDir)).toEqual([]);
    } finally {
      await cleanup();
    }
  });

  it("removes a stale pidfile: a dead pid, or a live process that is not Azurite (left alone)", async () => {
    const dataDir = await newDataDir("stale");
    const { pidFile } = azuriteFiles(dataDir);
    const dead = spawn(process.execPath, ["-e", ""]);
    await new Promise((r) => dead.once("exit", r));
    const [blobPort, queuePort] = [await freePort(), await freePort()];

    await writeFile(pidFile, JSON.stringify({ pid: dead.pid, blobPort, queuePort }));
    const a = await start(dataDir, blobPort, queuePort);
    expect(a.reused).toBe(false);
    expect(logs.some((l) => l.includes("stale Azurite pidfile"))).toBe(true);
    await a.stop();

    // a recycled pid: this very test process is alive and is not Azurite
    await writeFile(pidFile, JSON.stringify({ pid: process.pid, blobPort, queuePort }));
    const b = await start(dataDir, blobPort, queuePort);
    expect(b.reused).toBe(false);
    expect(JSON.parse(await readFile(pidFile, "utf8"))).toMatchObject({ pid: b.pid });
    await b.stop();

    await writeFile(pidFile, "not json");
    const c = await start(dataDir, blobPort, queuePort);
    expect(c.reused).toBe(false);
    await c.stop();
  });

  it("a start that fails is a clear error with the tail of Azurite's log, and leaves no pidfile", async () => {
    const dataDir = await newDataDir("corrupt");
    const { location, pidFile, logFile } = azuriteFiles(dataDir);
    await mkdir(location, { recursive: true });
    // Azurite exits when its blob metadata database is not JSON.
    await writeFile(join(location, "__azurite_db_blob__.json"), "garbage{");
    const error = await startAzurite({ dataDir, blobPort: await freePort(), queuePort: await freePort(), log }).then(
      (h) => {
        handles.push(h);
        return undefined;
      },
      (e: unknown) => e
    );
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toContain("Azurite did not start: it exited");
    expect((error as Error).message).toContain(logFile);
    expect((error as Error).message).toContain("not valid JSON");
    expect(existsSync(pidFile)).toBe(false);
    expect(await azuritesUnder(dataDir)).toEqual([]);
  });

  it.each([
    ["blob", "AZURITE_BLOB_PORT"],
    ["queue", "AZURITE_QUEUE_PORT"]
  ] as const)("refuses a %s port held by another program, naming the port and %s", async (which, setting) => {
    const dataDir = await newDataDir(`busy-${which}`);
    const [blobPort, queuePort] = [await freePort(), await freePort()];
    const busy = which === "blob" ? blobPort : queuePort;
    const server = await listenOn(busy);
    try {
      const error = await startAzurite({ dataDir, blobPort, queuePort, log }).then(
        (h) => {
          handles.push(h);
          return undefined;
        },
        (e: unknown) => e
      );
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toContain(`Port ${busy}`);
      expect((error as Error).message).toContain(setting);
      expect(await azuritesUnder(dataDir)).toEqual([]);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
