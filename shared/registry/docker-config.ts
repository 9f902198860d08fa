import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { ScanhookError } from "../domain/errors.js";
import type { BasicCredential } from "./credentials.js";

/**
 * Credentials from a Docker config file (`~/.docker/config.json`, or `$DOCKER_CONFIG/config.json`),
 * the way the Docker CLI looks them up
 * (https://docs.docker.com/reference/cli/docker/login/#credential-stores): a per-registry
 * `credHelpers` entry first, then an inline `auths` entry (`auth` = base64 `user:password`, or
 * `username`/`password`), then the default `credsStore`. A helper is the program
 * `docker-credential-<name>`, run with `get` and the server name on stdin (never in arguments);
 * it answers `{"ServerURL","Username","Secret"}`.
 *
 * `identitytoken` entries (an OAuth2 refresh token, `docker login` with some identity providers)
 * are not supported and are reported as such, not silently ignored.
 */

const authEntry = z
  .object({
    auth: z.string().optional(),
    username: z.string().optional(),
    password: z.string().optional(),
    identitytoken: z.string().optional()
  })
  .loose();

const configSchema = z
  .object({
    auths: z.record(z.string(), authEntry).optional(),
    credsStore: z.string().optional(),
    credHelpers: z.record(z.string(), z.string()).optional()
  })
  .loose();

const helperAnswer = z.object({ Username: z.string(), Secret: z.string() }).loose();

const HELPER_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const CONFIG_MAX_BYTES = 1024 * 1024;
const HELPER_OUTPUT_MAX_BYTES = 64 * 1024;

export interface DockerConfigOptions {
  /** Environment for finding the file and for running helpers (PATH); defaults to process.env. */
  readonly env?: NodeJS.ProcessEnv;
  readonly helperTimeoutInMs?: number;
}

export function defaultDockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env.DOCKER_CONFIG;
  return dir !== undefined && dir !== "" ? join(dir, "config.json") : join(homedir(), ".docker", "config.json");
}

/** `https://host/v1/`, `http://host`, `host` → `host`, as `auths` keys come in all three. */
function normaliseKey(key: string): string {
  return key
    .trim()
    .toLowerCase()
    .replace(/^[a-z]+:\/\//, "")
    .replace(/\/.*$/, "");
}

function unavailable(host: string, reason: string, cause?: unknown): ScanhookError {
  return new ScanhookError("REGISTRY.CREDENTIAL_UNAVAILABLE", `no usable Docker config credential for ${host}: ${reason}`, {
    ...(cause === undefined ? {} : { cause }),
    meta: { host }
  });
}

/**
 * The credential for `host` from the Docker config file at `path`; undefined when the file has
 * nothing for it. Throws `REGISTRY.CREDENTIAL_UNAVAILABLE` when it has something unusable
 * (unreadable file, bad JSON, a failing helper). Error messages never quote the file's values.
 */
export async function readDockerConfigCredential(
  path: string,
  host: string,
  options: DockerConfigOptions = {}
): Promise<BasicCredential | undefined> {
  let text: string;
  try {
    const bytes = await readFile(path);
    if (bytes.length > CONFIG_MAX_BYTES) throw unavailable(host, `${path} is larger than ${CONFIG_MAX_BYTES} bytes`);
    text = bytes.toString("utf8");
  } catch (cause) {
    if (cause instanceof ScanhookError) throw cause;
    throw unavailable(host, `cannot read ${path}`, cause);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw unavailable(host, `${path} is not valid JSON`);
  }
  const parsed = configSchema.safeParse(json);
  if (!parsed.success) throw unavailable(host, `${path} does not have the Docker config shape`);
  const config = parsed.data;
  const wanted = host.toLowerCase();

  const helper = Object.entries(config.credHelpers ?? {}).find(([k]) => normaliseKey(k) === wanted)?.[1];
  if (helper !== undefined) return runHelper(helper, host, options);

  const entry = Object.entries(config.auths ?? {}).find(([k]) => normaliseKey(k) === wanted)?.[1];
  if (entry !== undefined) {
    if (entry.auth !== undefined && entry.auth !== "") {
      const decoded = Buffer.from(entry.auth, "base64").toString("utf8");
      const colon = decoded.indexOf(":");
      if (colon <= 0) throw unavailable(host, "the `auth` entry is not base64 of user:password");
      return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
    }
    if (entry.username !== undefined && entry.password !== undefined) return { username: entry.username, password: entry.password };
    if (entry.identitytoken !== undefined) throw unavailable(host, "identity tokens (`identitytoken`) are not supported; use a user name and password or a credential helper");
  }
  if (config.credsStore !== undefined && config.credsStore !== "") return runHelper(config.credsStore, host, options);
  return undefined;
}

async function runHelper(name: string, host: string, options: DockerConfigOptions): Promise<BasicCredential | undefined> {
  if (!HELPER_NAME.test(name)) throw unavailable(host, "the credential helper's name is not a plain program name");
  const program = `docker-credential-${name}`;
  const timeout = options.helperTimeoutInMs ?? 30_000;
  const { code, stdout } = await new Promise<{ code: number | null; stdout: string }>((resolve, reject) => {
    const child = spawn(program, ["get"], { env: options.env ?? process.env, stdio: ["pipe", "pipe", "ignore"], timeout });
    let out = "";
    let size = 0;
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (s: string) => {
      size += s.length;
      if (size > HELPER_OUTPUT_MAX_BYTES) child.kill();
      else out += s;
    });
    child.on("error", (cause) => reject(unavailable(host, `cannot run ${program}`, cause)));
    child.on("close", (c) => resolve({ code: c, stdout: out }));
    child.stdin.on("error", () => undefined);
    child.stdin.end(host);
  });
  // Helpers answer "credentials not found in native keychain" with a non-zero exit.
  if (code !== 0) {
    if (/not found/i.test(stdout)) return undefined;
    throw unavailable(host, `${program} exited with ${code ?? "a signal"}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(stdout);
  } catch {
    throw unavailable(host, `${program} did not answer JSON`);
  }
  const answer = helperAnswer.safeParse(json);
  if (!answer.success) throw unavailable(host, `${program} did not answer Username and Secret`);
  if (answer.data.Username === "<token>") throw unavailable(host, `${program} holds an identity token, which is not supported`);
  return { username: answer.data.Username, password: answer.data.Secret };
}
