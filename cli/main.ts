import { parseArgs } from "node:util";
import { describeError, isScanhookError } from "../shared/domain/errors.js";
import { VERSION } from "../shared/version.js";
import type { CliIo } from "./command.js";
import { COMMANDS } from "./commands/index.js";

/**
 * The `scanhook` command: argument parsing and output only; the work is done by the same use cases
 * the functions call. Exit codes: 0 success, 1 failure, 2 bad usage or settings.
 */

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    `scanhook ${VERSION}`,
    "",
    "Usage:",
    ...COMMANDS.map((c) => `  scanhook ${c.name.padEnd(width)} ${c.summary}`),
    `  scanhook ${"version".padEnd(width)} print the version`,
    "",
    'Settings come from the environment, then ./local.settings.json "Values", then defaults.',
    "health reads SCANHOOK_URL (default http://127.0.0.1:7071/) and SCANHOOK_KEY when not given."
  ].join("\n");
}

export async function main(
  argv: readonly string[],
  out: CliIo["out"] = (l) => process.stdout.write(`${l}\n`),
  err: CliIo["err"] = (l) => process.stderr.write(`${l}\n`),
  write: CliIo["write"] = (chunk) => process.stdout.write(chunk)
): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    err(usage());
    return 2;
  }
  if (name === "--help" || name === "-h" || name === "help") {
    out(usage());
    return 0;
  }
  if (name === "--version" || name === "version") {
    out(VERSION);
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (command === undefined) {
    err(`unknown command: ${name}\n\n${usage()}`);
    return 2;
  }
  let parsed;
  try {
    parsed = parseArgs({ args: rest, allowPositionals: command.positionals === true, options: command.options, strict: true });
  } catch (e) {
    err(`scanhook ${name}: ${(e as Error).message}\n\n${usage()}`);
    return 2;
  }
  try {
    return await command.run(parsed.values, parsed.positionals, { out, err, write });
  } catch (e) {
    err(`scanhook ${name}: ${describeError(e)}`);
    return isScanhookError(e, "CONFIG.INVALID") || isScanhookError(e, "CLI.USAGE") ? 2 : 1;
  }
}
