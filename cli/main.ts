import { parseArgs } from "node:util";
import { loadProcessSettings, SETTINGS, type SettingName } from "../shared/config.js";
import { describeError, isScanhookError } from "../shared/domain/errors.js";
import { VERSION } from "../shared/version.js";

/**
 * The `scanhook` command: argument parsing and output only; the work is done by the same use cases
 * the functions call. Exit codes: 0 success, 1 failure, 2 bad usage or settings.
 */

const USAGE = `scanhook ${VERSION}

Usage:
  scanhook settings [--json]            validate the settings and show them (secrets masked)
  scanhook health [--url URL] [--key K] ask a running scanhook whether its store and queues answer
  scanhook version                      print the version

Settings come from the environment, then ./local.settings.json "Values", then defaults.
health reads SCANHOOK_URL (default http://127.0.0.1:7071/) and SCANHOOK_KEY when not given.`;

type Out = (line: string) => void;

function showSettings(json: boolean, out: Out): number {
  const settings = loadProcessSettings();
  const rows = (Object.keys(SETTINGS) as SettingName[]).map((name) => {
    const value = settings[name];
    const shown = value === undefined ? undefined : "secret" in SETTINGS[name] && SETTINGS[name].secret ? "(set)" : value;
    return { name, value: shown };
  });
  if (json) {
    out(JSON.stringify({ settings: Object.fromEntries(rows.map((r) => [r.name, r.value ?? null])), registries: settings.registries }, null, 2));
    return 0;
  }
  for (const r of rows) out(`${r.name.padEnd(34)} ${r.value === undefined ? "-" : String(r.value)}`);
  out(`registries: ${settings.registries.length === 0 ? "none (no registry is trusted)" : settings.registries.map((r) => `${r.host} (${r.kind}${r.plainHttp ? ", plain HTTP" : ""}, ${r.credential.type})`).join(", ")}`);
  if (settings.disabledFunctions.size > 0) out(`disabled functions: ${[...settings.disabledFunctions].join(", ")}`);
  return 0;
}

async function health(url: string, key: string | undefined, out: Out): Promise<number> {
  const target = new URL("api/health", url.endsWith("/") ? url : `${url}/`);
  const response = await fetch(target, { headers: key === undefined ? {} : { "x-functions-key": key }, signal: AbortSignal.timeout(10_000) });
  out(JSON.stringify(await response.json(), null, 2));
  return response.ok ? 0 : 1;
}

export async function main(argv: readonly string[], out: Out = (l) => process.stdout.write(`${l}\n`), err: Out = (l) => process.stderr.write(`${l}\n`)): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: { json: { type: "boolean" }, url: { type: "string" }, key: { type: "string" }, help: { type: "boolean", short: "h" }, version: { type: "boolean" } }
    });
  } catch (e) {
    err(`${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const [command, ...rest] = parsed.positionals;
  if (parsed.values.version === true || command === "version") {
    out(VERSION);
    return 0;
  }
  if (parsed.values.help === true || command === undefined || command === "help") {
    out(USAGE);
    return command === undefined && parsed.values.help !== true ? 2 : 0;
  }
  if (rest.length > 0) {
    err(`unexpected argument: ${rest[0]}\n\n${USAGE}`);
    return 2;
  }
  try {
    switch (command) {
      case "settings":
        return showSettings(parsed.values.json === true, out);
      case "health":
        return await health(parsed.values.url ?? process.env.SCANHOOK_URL ?? "http://127.0.0.1:7071/", parsed.values.key ?? process.env.SCANHOOK_KEY, out);
      default:
        err(`unknown command: ${command}\n\n${USAGE}`);
        return 2;
    }
  } catch (e) {
    err(`scanhook ${command}: ${describeError(e)}`);
    return isScanhookError(e, "CONFIG.INVALID") ? 2 : 1;
  }
}
