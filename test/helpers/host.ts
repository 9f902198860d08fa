import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FUNCTIONS } from "../../functions/all.js";
import type { FunctionDeclaration } from "../../functions/declaration.js";
import { startLocalHost, type LocalHost } from "../../functions/host/local-host.js";
import type { Clock } from "../../functions/host/timer-scheduler.js";
import type { Services } from "../../functions/services.js";
import { loadSettings } from "../../shared/config.js";
import { createLogger } from "../../shared/log.js";
import { freePort, killAzuritesUnder } from "../host/azurite-helpers.js";

/**
 * The local host as `npm start` runs it, in a temporary data directory on free ports, for
 * integration tests:
 *
 *   const t = await startTestHost({ settings: { REGISTRIES: `http://${registry.host}` } });
 *   afterAll(() => t.stop());
 *
 * `stop()` stops the host, any Azurite left under the directory, and removes the directory.
 */
export interface TestHostOptions {
  /** Settings on top of the test defaults (ports, data dir, keys). */
  readonly settings?: Readonly<Record<string, string>>;
  /** host.json contents to use instead of the package's (e.g. short visibility timeouts). */
  readonly hostJson?: unknown;
  readonly functions?: readonly FunctionDeclaration<Services>[];
  readonly clock?: Clock;
}

export interface TestHost {
  readonly host: LocalHost;
  readonly dir: string;
  readonly webhookKey: string;
  readonly readKey: string;
  readonly adminKey: string;
  stop(): Promise<void>;
}

export const TEST_KEYS = { webhook: "w".repeat(40), read: "r".repeat(40), admin: "a".repeat(40), admission: "s".repeat(40) } as const;

export async function startTestHost(options: TestHostOptions = {}): Promise<TestHost> {
  const dir = mkdtempSync(join(tmpdir(), "scanhook-test-host-"));
  let hostJsonPath: string | undefined;
  if (options.hostJson !== undefined) {
    hostJsonPath = join(dir, "host.json");
    writeFileSync(hostJsonPath, JSON.stringify(options.hostJson));
  }
  const settings = loadSettings([
    {
      PORT: String(await freePort()),
      AZURITE_BLOB_PORT: String(await freePort()),
      AZURITE_QUEUE_PORT: String(await freePort()),
      SCANHOOK_DATA_DIR: join(dir, "data"),
      WEBHOOK_KEY: TEST_KEYS.webhook,
      READ_KEY: TEST_KEYS.read,
      ADMIN_KEY: TEST_KEYS.admin,
      ADMISSION_SECRET: TEST_KEYS.admission,
      // Tests reach only servers on 127.0.0.1: no OSV download unless a test points it at one.
      VULNDB_DOWNLOAD: "false",
      ...options.settings
    }
  ]);
  const cleanup = async (): Promise<void> => {
    await killAzuritesUnder(dir);
    rmSync(dir, { recursive: true, force: true });
  };
  let host: LocalHost;
  try {
    host = await startLocalHost({
      settings,
      functions: options.functions ?? FUNCTIONS,
      log: createLogger("error"),
      ...(hostJsonPath === undefined ? {} : { hostJsonPath }),
      ...(options.clock === undefined ? {} : { clock: options.clock })
    });
  } catch (e) {
    await cleanup();
    throw e;
  }
  return {
    host,
    dir,
    webhookKey: TEST_KEYS.webhook,
    readKey: TEST_KEYS.read,
    adminKey: TEST_KEYS.admin,
    stop: async () => {
      await host.stop();
      await cleanup();
    }
  };
}
