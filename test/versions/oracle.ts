import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository's root. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** A fixture kept in the repository (`test/fixtures/`), so a clean clone has it. */
export function sharedFixture(path: string): string {
  return join(repoRoot, "test", "fixtures", path);
}

/** A recorded sample under `test/versions/samples/`. */
export function sample(name: string): string {
  return join(repoRoot, "test", "versions", "samples", name);
}

export const isCI = process.env.CI === "true" || process.env.CI === "1";

export interface Tool {
  readonly available: boolean;
  /** Why it is missing and what installs it. */
  readonly missing: string;
}

/**
 * Probes an oracle by running it once. CI installs every oracle (`.ci/apt-packages`), so there a
 * missing one fails the test with this message; on a developer's machine the test is skipped.
 */
export function probe(command: string, args: readonly string[], install: string, env?: NodeJS.ProcessEnv): Tool {
  if (command.startsWith("/") && !existsSync(command)) {
    return { available: false, missing: `${command} not found; install Debian package(s): ${install}` };
  }
  const r = spawnSync(command, [...args], { encoding: "utf8", timeout: 120_000, env: env ?? process.env });
  if (r.error !== undefined || r.status !== 0) {
    const why = r.error?.message ?? (r.stderr || `exit ${String(r.status)}`);
    return { available: false, missing: `${command} ${args.join(" ")} failed (${why.trim()}); install Debian package(s): ${install}` };
  }
  return { available: true, missing: "" };
}

/** Fails in CI, skips locally: returns whether the test should run. */
export function requireTool(tool: Tool): void {
  if (!tool.available) throw new Error(`oracle not installed: ${tool.missing}`);
}

export function shouldRun(tool: Tool): boolean {
  return tool.available || isCI;
}

/**
 * Runs one oracle process, feeding it `input` on standard input (never a shell, never an
 * argument built from version strings), and returns its standard output.
 */
export function runOracle(
  command: string,
  args: readonly string[],
  input: string,
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}
): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, [...args], { stdio: ["pipe", "pipe", "pipe"], env: options.env ?? process.env, cwd: options.cwd });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (d: Buffer) => out.push(d));
    child.stderr.on("data", (d: Buffer) => err.push(d));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) resolvePromise(Buffer.concat(out).toString("utf8"));
      else reject(new Error(`${command} exited ${String(code)}: ${Buffer.concat(err).toString("utf8").slice(0, 2000)}`));
    });
    child.stdin.on("error", reject);
    child.stdin.end(input);
  });
}

/** Runs a command with an argument array (no shell) and resolves with its exit code and stderr. */
export function exitCode(command: string, args: readonly string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, [...args], { stdio: ["ignore", "ignore", "pipe"] });
    const err: Buffer[] = [];
    child.stderr.on("data", (d: Buffer) => err.push(d));
    child.on("error", reject);
    child.on("close", (code) => resolvePromise({ code: code ?? -1, stderr: Buffer.concat(err).toString("utf8") }));
  });
}
