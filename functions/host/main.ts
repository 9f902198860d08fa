import { relative } from "node:path";
import { loadProcessSettings, type Settings } from "../../shared/config.js";
import { ConfigError, describeError } from "../../shared/domain/errors.js";
import { createLogger } from "../../shared/log.js";
import { VERSION } from "../../shared/version.js";
import { FUNCTIONS } from "../all.js";
import { startLocalHost } from "./local-host.js";

/** `npm start`: the local host with every function, until Ctrl-C. */

let settings: Settings;
try {
  settings = loadProcessSettings();
} catch (e) {
  process.stderr.write(`${e instanceof ConfigError ? e.message : describeError(e)}\n`);
  process.exit(2);
}

const log = createLogger(settings.LOG_LEVEL, "host");
const host = await startLocalHost({ settings, functions: FUNCTIONS, log }).catch((e: unknown) => {
  process.stderr.write(`scanhook could not start: ${describeError(e)}\n`);
  process.exit(1);
});

const shown = (path: string): string => {
  const rel = relative(process.cwd(), path);
  return rel === "" || rel.startsWith("..") ? path : rel;
};
const lines = [
  `scanhook ${VERSION} — local host`,
  `  http     ${host.url}   (${host.mounted.http.length} HTTP functions: ${host.mounted.http.join(", ")})`,
  `  data     ${host.dataDir}`,
  `  store    ${host.services.store.kind}`,
  host.azurite === undefined
    ? `  storage  ${host.services.storage.description}`
    : `  storage  Azurite ${host.azurite.blobEndpoint} ${host.azurite.queueEndpoint} (pid ${host.azurite.pid}${host.azurite.reused ? ", reused" : ""})`,
  `  queues   ${host.mounted.queue.length === 0 ? "none" : host.mounted.queue.join(", ")}   timers ${host.mounted.timer.length === 0 ? "none" : host.mounted.timer.join(", ")}`,
  ...(host.mounted.disabled.length > 0 ? [`  disabled ${host.mounted.disabled.join(", ")}`] : []),
  `  registries ${settings.registries.length === 0 ? "none: set REGISTRIES to accept events (see README)" : settings.registries.map((r) => r.host).join(", ")}`
];
const generated = Object.entries(host.keys.generated);
if (generated.length > 0) {
  lines.push(`  keys     generated now, stored in ${shown(host.keys.file)} (shown this once):`);
  for (const [name, value] of generated) lines.push(`             ${name}=${value}`);
} else if (host.keys.fromFile.length > 0) {
  lines.push(`  keys     ${host.keys.fromFile.join(", ")} in ${shown(host.keys.file)}; the rest from settings`);
} else {
  lines.push("  keys     all from settings");
}
lines.push("Ctrl-C stops everything, Azurite included.");
process.stdout.write(`${lines.join("\n")}\n`);

let signals = 0;
const shutdown = (signal: string): void => {
  signals += 1;
  if (signals > 1) {
    process.stderr.write("stopping at once\n");
    process.exit(130);
  }
  log.info(`${signal}: stopping`);
  host.stop().then(
    () => {
      log.info("stopped");
      process.exit(0);
    },
    (e: unknown) => {
      log.error(`stopping: ${describeError(e)}`);
      process.exit(1);
    }
  );
};
process.on("SIGINT", () => shutdown("SIGINT"));
process.on("SIGTERM", () => shutdown("SIGTERM"));
