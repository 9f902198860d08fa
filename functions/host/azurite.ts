import { execFile, spawn } from "node:child_process";
import { closeSync, existsSync, openSync } from "node:fs";
import { mkdir, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { request } from "node:http";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { dirname, join, resolve } from "node:path";
import { promisify } from "node:util";
import { ScanhookError, describeError } from "../../shared/domain/errors.js";
import type { HostLog } from "./timer-scheduler.js";

/**
 * Azurite (Blob and Queue) for the local host, as a child process in its own process group with a
 * pidfile, so a host that dies without cleaning up (SIGKILL, a crash) leaves an Azurite the next
 * start can find: reused when it is ours, alive and on the wanted ports, otherwise stopped. It
 * never keeps the ports from a new start.
 *
 * Layout under the data directory: `azurite/` (Azurite's `--location`), `azurite.pid` (JSON),
 * `azurite.log` (its stdout and stderr, appended).
 *
 * Azurite's combined `azurite` command always starts Table too and has no switch to leave it out;
 * Blob and Queue alone would take two processes (`azurite-blob`, `azurite-queue`) — two heaps, two
 * pids to track. So one `azurite` process runs with Table on an ephemeral loopback port
 * (`--tablePort 0`), where it can collide with nothing and nobody is told of it.
 */

/** Azurite's well-known development account (public, documented; not a secret). */
export const AZURITE_ACCOUNT = "devstoreaccount1";
const AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
const HOST = "127.0.0.1";
const execFileAsync = promisify(execFile);

export interface StartAzuriteOptions {
  /** The host's data directory (`SCANHOOK_DATA_DIR`). */
  readonly dataDir: string;
  readonly blobPort: number;
  readonly queuePort: number;
  readonly log?: HostLog;
  /** How long to wait for a new Azurite to answer. Defaults to 30 s. */
  readonly startTimeoutMs?: number;
  /** How long SIGTERM gets before SIGKILL. Defaults to 10 s. */
  readonly stopTimeoutMs?: number;
}

export interface AzuriteHandle {
  readonly connectionString: string;
  readonly blobEndpoint: string;
  readonly queueEndpoint: string;
  readonly pid: number;
  /** True when an Azurite left by an earlier run was taken over instead of starting one. */
  readonly reused: boolean;
  readonly logFile: string;
  /** Stops the whole process group (SIGTERM, then SIGKILL after `stopTimeoutMs`) and removes the pidfile. Idempotent. */
  stop(): Promise<void>;
}

interface PidFile {
  readonly pid: number;
  readonly blobPort: number;
  readonly queuePort: number;
  readonly location: string;
  readonly startedAt: string;
}

/** Connection string for Azurite on loopback, with explicit endpoints (the SDKs need nothing else). */
export function azuriteConnectionString(blobPort: number, queuePort: number): string {
  return (
    `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};` +
    `BlobEndpoint=http://${HOST}:${blobPort}/${AZURITE_ACCOUNT};QueueEndpoint=http://${HOST}:${queuePort}/${AZURITE_ACCOUNT};`
  );
}

export function azuriteScriptPath(): string {
  const require = createRequire(import.meta.url);
  const pkgPath = require.resolve("azurite/package.json");
  const pkg = require(pkgPath) as { bin?: Record<string, string> };
  const bin = pkg.bin?.["azurite"];
  if (bin === undefined) throw new ScanhookError("HOST.AZURITE_MISSING", `the azurite package at ${pkgPath} has no "azurite" command`);
  return resolve(dirname(pkgPath), bin);
}

export function azuriteFiles(dataDir: string): { location: string; pidFile: string; logFile: string } {
  const root = resolve(dataDir);
  return { location: join(root, "azurite"), pidFile: join(root, "azurite.pid"), logFile: join(root, "azurite.log") };
}

// ---- processes ------------------------------------------------------------------------------

/** Linux has /proc; elsewhere (macOS) `ps` answers the same questions, less exactly. */
const HAS_PROC = existsSync("/proc/self/cmdline");

/** `ps` for one process: state, process group and arguments (space-joined, so split on spaces). */
async function psInfo(pid: number): Promise<{ state: string; pgid: number; args: string[] } | undefined> {
  try {
    const { stdout } = await execFileAsync("ps", ["-o", "stat=,pgid=,args=", "-p", String(pid)]);
    const [state = "?", pgid = "", ...args] = stdout.trim().split(/\s+/);
    return stdout.trim() === "" ? undefined : { state, pgid: Number(pgid), args };
  } catch {
    return undefined;
  }
}

/** The process's arguments, or undefined when it does not exist (or cannot be read). */
async function readCmdline(pid: number): Promise<string[] | undefined> {
  if (!HAS_PROC) return (await psInfo(pid))?.args;
  try {
    const raw = await readFile(`/proc/${pid}/cmdline`, "utf8");
    if (raw === "") return undefined; // a zombie or a kernel thread
    return raw.split("\0").filter((a) => a !== "");
  } catch {
    return undefined;
  }
}

async function readStat(pid: number): Promise<{ state: string; pgid: number } | undefined> {
  if (!HAS_PROC) return psInfo(pid);
  try {
    const raw = await readFile(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces and parentheses: split after its last ")".
    const rest = raw.slice(raw.lastIndexOf(")") + 2).split(" ");
    return { state: rest[0] ?? "?", pgid: Number(rest[2]) };
  } catch {
    return undefined;
  }
}

async function isAlive(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
  const stat = await readStat(pid);
  // A zombie holds no ports and will never run again.
  return !(stat?.state.startsWith("Z") ?? false) && !(stat?.state.startsWith("X") ?? false);
}

function argValue(args: readonly string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

/** Whether the process is an Azurite serving this data directory (whichever ports). */
function isOurAzurite(args: readonly string[] | undefined, location: string): boolean {
  if (args === undefined) return false;
  const runsAzurite = args.some((a) => a.replace(/\\/g, "/").endsWith("azurite/dist/src/azurite.js"));
  const loc = argValue(args, "--location");
  return runsAzurite && loc !== undefined && resolve(loc) === location;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function waitUntil(condition: () => Promise<boolean>, timeoutMs: number, everyMs = 100): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(everyMs);
  }
}

/** SIGTERM to the process group (or the lone process when it leads none), SIGKILL after `timeoutMs`. */
async function stopProcess(pid: number, timeoutMs: number, log: HostLog): Promise<void> {
  const stat = await readStat(pid);
  const target = stat?.pgid === pid ? -pid : pid;
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(target, sig);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ESRCH") throw e;
    }
  };
  signal("SIGTERM");
  if (await waitUntil(async () => !(await isAlive(pid)), timeoutMs)) return;
  log("warn", `Azurite (pid ${pid}) did not stop within ${timeoutMs} ms of SIGTERM; sending SIGKILL`);
  signal("SIGKILL");
  if (!(await waitUntil(async () => !(await isAlive(pid)), 5_000))) {
    throw new ScanhookError("HOST.AZURITE_STOP_FAILED", `Azurite (pid ${pid}) is still running after SIGKILL`, { meta: { pid } });
  }
}

/** Every Azurite process serving this data directory (one whose pidfile was lost, say). */
async function findOurAzurites(location: string): Promise<number[]> {
  const candidates: { pid: number; args: string[] | undefined }[] = [];
  try {
    if (HAS_PROC) {
      for (const entry of await readdir("/proc")) {
        if (/^\d+$/.test(entry)) candidates.push({ pid: Number(entry), args: await readCmdline(Number(entry)) });
      }
    } else {
      const { stdout } = await execFileAsync("ps", ["-A", "-o", "pid=,args="], { maxBuffer: 16 * 1024 * 1024 });
      for (const line of stdout.split("\n")) {
        const [pid = "", ...args] = line.trim().split(/\s+/);
        if (/^\d+$/.test(pid)) candidates.push({ pid: Number(pid), args });
      }
    }
  } catch {
    return [];
  }
  const found: number[] = [];
  for (const { pid, args } of candidates) {
    if (pid !== process.pid && isOurAzurite(args, location) && (await isAlive(pid))) found.push(pid);
  }
  return found;
}

// ---- ports and readiness -------------------------------------------------------------------

async function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolvePort) => {
    const server = createServer();
    server.once("error", () => resolvePort(false));
    server.listen({ port, host: HOST, exclusive: true }, () => server.close(() => resolvePort(true)));
  });
}

/** Whether an Azurite service answers on the port (its `Server` header names it). */
async function answers(port: number, service: "Blob" | "Queue"): Promise<boolean> {
  return new Promise((resolveAnswer) => {
    const req = request({ host: HOST, port, path: "/", method: "GET", timeout: 2_000 }, (res) => {
      res.resume();
      resolveAnswer(String(res.headers.server ?? "").startsWith(`Azurite-${service}`));
    });
    req.once("timeout", () => req.destroy());
    req.once("error", () => resolveAnswer(false));
    req.end();
  });
}

async function bothAnswer(blobPort: number, queuePort: number): Promise<boolean> {
  const [blob, queue] = await Promise.all([answers(blobPort, "Blob"), answers(queuePort, "Queue")]);
  return blob && queue;
}

async function logTail(logFile: string, lines = 20): Promise<string> {
  try {
    const text = await readFile(logFile, "utf8");
    return text.trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

// ---- pidfile -------------------------------------------------------------------------------

async function readPidFile(path: string): Promise<PidFile | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    return undefined;
  }
  try {
    const parsed = JSON.parse(text) as Partial<PidFile>;
    if (typeof parsed.pid === "number" && Number.isInteger(parsed.pid) && parsed.pid > 0) {
      return {
        pid: parsed.pid,
        blobPort: Number(parsed.blobPort),
        queuePort: Number(parsed.queuePort),
        location: String(parsed.location),
        startedAt: String(parsed.startedAt)
      };
    }
  } catch {
    // fall through: an unreadable pidfile is a stale one
  }
  return { pid: -1, blobPort: 0, queuePort: 0, location: "", startedAt: "" };
}

/** Removes the pidfile only if it still names `pid`, so a stop never deletes a newer Azurite's. */
async function removePidFile(path: string, pid?: number): Promise<void> {
  if (pid !== undefined) {
    const current = await readPidFile(path);
    if (current !== undefined && current.pid !== pid) return;
  }
  await rm(path, { force: true });
}

// ---- start ---------------------------------------------------------------------------------

/**
 * Starts Azurite for the data directory, or takes over the one a crashed run left. Throws
 * `HOST.AZURITE_PORT_IN_USE` when a port is held by something else (naming the port and the
 * setting to change) and `HOST.AZURITE_START_FAILED` with the tail of its log when it does not
 * come up in time.
 */
export async function startAzurite(options: StartAzuriteOptions): Promise<AzuriteHandle> {
  const log = options.log ?? (() => undefined);
  const stopTimeoutMs = options.stopTimeoutMs ?? 10_000;
  const { blobPort, queuePort } = options;
  const { location, pidFile, logFile } = azuriteFiles(options.dataDir);
  await mkdir(location, { recursive: true });

  const handleFor = (pid: number, reused: boolean): AzuriteHandle => {
    let stopping: Promise<void> | undefined;
    return {
      connectionString: azuriteConnectionString(blobPort, queuePort),
      blobEndpoint: `http://${HOST}:${blobPort}/${AZURITE_ACCOUNT}`,
      queueEndpoint: `http://${HOST}:${queuePort}/${AZURITE_ACCOUNT}`,
      pid,
      reused,
      logFile,
      stop() {
        stopping ??= (async () => {
          await stopProcess(pid, stopTimeoutMs, log);
          await removePidFile(pidFile, pid);
        })();
        return stopping;
      }
    };
  };

  // 1. An Azurite named by the pidfile: reuse it, stop it, or forget a stale pidfile.
  const previous = await readPidFile(pidFile);
  if (previous !== undefined) {
    const args = previous.pid > 0 ? await readCmdline(previous.pid) : undefined;
    if (previous.pid > 0 && isOurAzurite(args, location) && (await isAlive(previous.pid))) {
      const onWantedPorts =
        args !== undefined && argValue(args, "--blobPort") === String(blobPort) && argValue(args, "--queuePort") === String(queuePort);
      if (onWantedPorts && (await waitUntil(() => bothAnswer(blobPort, queuePort), 5_000, 250))) {
        log("info", `reusing Azurite (pid ${previous.pid}) left running by an earlier run`);
        return handleFor(previous.pid, true);
      }
      log(
        "info",
        onWantedPorts
          ? `stopping Azurite (pid ${previous.pid}) left by an earlier run: it does not answer`
          : `stopping Azurite (pid ${previous.pid}) left by an earlier run: it serves other ports`
      );
      await stopProcess(previous.pid, stopTimeoutMs, log);
    } else {
      log("info", `removing a stale Azurite pidfile (pid ${previous.pid} is not a running Azurite of ${location})`);
    }
    await removePidFile(pidFile);
  }

  // 2. An Azurite of this data directory without a pidfile (lost, or from an interrupted start).
  for (const orphan of await findOurAzurites(location)) {
    log("info", `stopping an Azurite (pid ${orphan}) of this data directory that had no pidfile`);
    await stopProcess(orphan, stopTimeoutMs, log);
  }

  // 3. The ports must be free now; whoever holds one is not ours.
  for (const [port, setting, service] of [
    [blobPort, "AZURITE_BLOB_PORT", "Blob"],
    [queuePort, "AZURITE_QUEUE_PORT", "Queue"]
  ] as const) {
    if (!(await portIsFree(port))) {
      throw new ScanhookError(
        "HOST.AZURITE_PORT_IN_USE",
        `Port ${port} on ${HOST} (Azurite ${service}) is in use by another program. Stop it, or set ${setting} to a free port.`,
        { meta: { port, setting } }
      );
    }
  }

  // 4. Start a new one.
  const args = [
    azuriteScriptPath(),
    "--disableTelemetry",
    // Access logs would grow the log file on every poll; startup lines and errors still go there.
    "--silent",
    // The Azure SDKs move to newer service API versions faster than Azurite releases follow.
    "--skipApiVersionCheck",
    "--blobHost",
    HOST,
    "--blobPort",
    String(blobPort),
    "--queueHost",
    HOST,
    "--queuePort",
    String(queuePort),
    "--tableHost",
    HOST,
    "--tablePort",
    "0",
    "--location",
    location
  ];
  const logFd = openSync(logFile, "a");
  let pid: number;
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  try {
    await writeFile(logFile, `--- ${new Date().toISOString()} starting Azurite: ${args.slice(1).join(" ")}\n`, { flag: "a" });
    const child = spawn(process.execPath, args, { cwd: location, detached: true, stdio: ["ignore", logFd, logFd] });
    const spawnError = new Promise<Error>((resolveError) => child.once("error", resolveError));
    child.once("exit", (code, signal) => (exited = { code, signal }));
    if (child.pid === undefined) {
      throw new ScanhookError("HOST.AZURITE_START_FAILED", `could not start Azurite: ${describeError(await spawnError)}`);
    }
    pid = child.pid;
    // The host may exit (or be killed) while Azurite runs on; the pidfile is how the next run finds it.
    child.unref();
  } finally {
    closeSync(logFd);
  }
  const record: PidFile = { pid, blobPort, queuePort, location, startedAt: new Date().toISOString() };
  await writeFile(pidFile, `${JSON.stringify(record)}\n`);

  const startTimeoutMs = options.startTimeoutMs ?? 30_000;
  const ready = await waitUntil(async () => exited !== undefined || (await bothAnswer(blobPort, queuePort)), startTimeoutMs);
  if (!ready || exited !== undefined) {
    const why =
      exited !== undefined
        ? `it exited (${exited.signal ?? `code ${String(exited.code)}`})`
        : `it did not answer on ports ${blobPort} and ${queuePort} within ${startTimeoutMs} ms`;
    if (exited === undefined) await stopProcess(pid, stopTimeoutMs, log).catch(() => undefined);
    await removePidFile(pidFile, pid);
    throw new ScanhookError("HOST.AZURITE_START_FAILED", `Azurite did not start: ${why}. Its log (${logFile}) ends:\n${await logTail(logFile)}`, {
      meta: { logFile }
    });
  }
  log("info", `Azurite (pid ${pid}) serving Blob on ${blobPort} and Queue on ${queuePort}, data in ${location}`);
  return handleFor(pid, false);
}
