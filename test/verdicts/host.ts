import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FUNCTIONS } from "../../functions/all.js";
import { startLocalHost, type LocalHost } from "../../functions/host/local-host.js";
import type { Clock } from "../../functions/host/timer-scheduler.js";
import { loadSettings } from "../../shared/config.js";
import { createLogger } from "../../shared/log.js";
import { freePort, killAzuritesUnder } from "../host/azurite-helpers.js";

/** The local host on free ports in a temporary directory, with known keys, for the verdict and images API tests. */
export const KEYS = { read: "r".repeat(40), admin: "a".repeat(40), webhook: "w".repeat(40) } as const;

export interface VerdictHost {
  readonly host: LocalHost;
  readonly dir: string;
  readonly policyPath: string;
  /** GET/POST/PUT relative to the host, with the read key unless `key` is given ("" for none). */
  call(path: string, init?: { method?: string; body?: string; key?: string; headers?: Record<string, string> }): Promise<Response>;
  stop(): Promise<void>;
}

export async function startVerdictHost(settings: Record<string, string> = {}, clock?: Clock): Promise<VerdictHost> {
  const dir = mkdtempSync(join(tmpdir(), "scanhook-verdicts-"));
  const policyPath = join(dir, "policy.yaml");
  const host = await startLocalHost({
    settings: loadSettings([
      {
        PORT: String(await freePort()),
        AZURITE_BLOB_PORT: String(await freePort()),
        AZURITE_QUEUE_PORT: String(await freePort()),
        SCANHOOK_DATA_DIR: join(dir, "data"),
        READ_KEY: KEYS.read,
        ADMIN_KEY: KEYS.admin,
        WEBHOOK_KEY: KEYS.webhook,
        POLICY_LOCATION: `file:${policyPath}`,
        REGISTRIES: "myacr.azurecr.io",
        VULNDB_DOWNLOAD: "false",
        "AzureWebJobs.scanRequests.Disabled": "true",
        ...settings
      }
    ]),
    functions: FUNCTIONS,
    log: createLogger("error"),
    ...(clock === undefined ? {} : { clock })
  });
  return {
    host,
    dir,
    policyPath,
    call: (path, init = {}) => {
      const key = init.key ?? KEYS.read;
      return fetch(new URL(path, host.url), {
        method: init.method ?? "GET",
        ...(init.body === undefined ? {} : { body: init.body }),
        headers: { ...(key === "" ? {} : { "x-functions-key": key }), ...(init.headers ?? {}) }
      });
    },
    stop: async () => {
      await host.stop();
      await killAzuritesUnder(dir);
      rmSync(dir, { recursive: true, force: true });
    }
  };
}
