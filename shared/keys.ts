import { randomBytes, timingSafeEqual } from "node:crypto";
import { chmod, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import type { Settings } from "./config.js";
import { ScanhookError } from "./domain/errors.js";

/**
 * scanhook's own keys ("Who may call what" in DESIGN.md). Each role accepts its setting and the
 * `…_NEXT` twin, so a key rotates without downtime; the admin key also passes where a read key is
 * asked. In Azure the values are Key Vault references in app settings; under `npm start` any that
 * are unset are generated once and kept in `<SCANHOOK_DATA_DIR>/keys.json` (mode 0600).
 */

export type SecretRole = "webhook" | "read" | "admin" | "admission";

export type KeySet = Readonly<Record<SecretRole, readonly string[]>>;

const PRIMARY = {
  webhook: "WEBHOOK_KEY",
  read: "READ_KEY",
  admin: "ADMIN_KEY",
  admission: "ADMISSION_SECRET"
} as const satisfies Record<SecretRole, keyof Settings>;

const NEXT = {
  webhook: "WEBHOOK_KEY_NEXT",
  read: "READ_KEY_NEXT",
  admin: "ADMIN_KEY_NEXT",
  admission: "ADMISSION_SECRET_NEXT"
} as const satisfies Record<SecretRole, keyof Settings>;

export type PrimaryKeyName = (typeof PRIMARY)[SecretRole];

const storedKeysSchema = z.partialRecord(z.enum(["WEBHOOK_KEY", "READ_KEY", "ADMIN_KEY", "ADMISSION_SECRET"]), z.string().min(24));
export type StoredKeys = Partial<Record<PrimaryKeyName, string>>;

const ROLES: readonly SecretRole[] = ["webhook", "read", "admin", "admission"];

/**
 * When App Service cannot resolve a Key Vault reference it passes the reference text itself as
 * the value: long, and public. It must never pass as a key.
 */
export function isUnresolvedKeyVaultReference(value: string): boolean {
  return /^@Microsoft\.KeyVault\(/i.test(value.trim());
}

/** Settings whose value is an unresolved Key Vault reference (to log at start; the keys are not used). */
export function unresolvedKeyReferences(settings: Settings): string[] {
  return [...Object.values(PRIMARY), ...Object.values(NEXT)].filter((name) => {
    const value = settings[name];
    return typeof value === "string" && isUnresolvedKeyVaultReference(value);
  });
}

/** The accepted keys per role: settings first, then keys stored by `npm start`. */
export function keySetFrom(settings: Settings, stored: StoredKeys = {}): KeySet {
  const usable = (k: string | undefined): k is string => typeof k === "string" && k.length > 0 && !isUnresolvedKeyVaultReference(k);
  const pick = (role: SecretRole): string[] => {
    const primary = settings[PRIMARY[role]] ?? stored[PRIMARY[role]];
    return [primary, settings[NEXT[role]]].filter(usable);
  };
  return { webhook: pick("webhook"), read: pick("read"), admin: pick("admin"), admission: pick("admission") };
}

const bytesOf = (s: string): Buffer => Buffer.from(s, "utf8");

/**
 * Whether `presented` equals one of `accepted`, in time that depends on neither: every candidate
 * is compared whole (no early exit), and against a candidate of another length the candidate is
 * compared with itself, which takes the same time as comparing with an equal-length guess. So the
 * time tells nothing of where a guess differs, nor of a key's length. (Hashing both sides first
 * did the same at five times the cost, on every request.)
 */
function matchesAnyBytes(presented: Buffer, accepted: readonly Buffer[]): boolean {
  let ok = 0;
  for (const candidate of accepted) {
    const sameLength = presented.length === candidate.length;
    ok |= Number(timingSafeEqual(sameLength ? presented : candidate, candidate)) & Number(sameLength);
  }
  return ok === 1;
}

/** Whether `presented` is one of `accepted`, in constant time (see {@link matchesAnyBytes}). */
export function matchesAny(presented: string, accepted: readonly string[]): boolean {
  return matchesAnyBytes(bytesOf(presented), accepted.map(bytesOf));
}

/** The accepted keys' bytes per role, encoded once per key set: the check is on every request. */
const acceptedBytes = new WeakMap<KeySet, Map<SecretRole, readonly Buffer[]>>();

function bytesFor(keys: KeySet, role: SecretRole): readonly Buffer[] {
  let byRole = acceptedBytes.get(keys);
  if (byRole === undefined) {
    byRole = new Map();
    acceptedBytes.set(keys, byRole);
  }
  let bytes = byRole.get(role);
  if (bytes === undefined) {
    bytes = (role === "read" ? [...keys.read, ...keys.admin] : keys[role]).map(bytesOf);
    byRole.set(role, bytes);
  }
  return bytes;
}

export type KeyCheck = "ok" | "missing" | "wrong" | "unconfigured";

/** Checks a presented key for a role; `read` also accepts the admin keys. */
export function checkKey(keys: KeySet, role: SecretRole, presented: string | undefined): KeyCheck {
  const accepted = bytesFor(keys, role);
  if (accepted.length === 0) return "unconfigured";
  if (presented === undefined || presented === "") return "missing";
  return matchesAnyBytes(bytesOf(presented), accepted) ? "ok" : "wrong";
}

export function keysFile(dataDir: string): string {
  return join(dataDir, "keys.json");
}

export async function readStoredKeys(dataDir: string): Promise<StoredKeys | undefined> {
  let text: string;
  try {
    text = await readFile(keysFile(dataDir), "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
  const parsed = storedKeysSchema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new ScanhookError("KEYS.INVALID_FILE", `${keysFile(dataDir)} is not a valid keys file; delete it to generate new keys`);
  return parsed.data;
}

export interface LocalKeys {
  readonly keys: KeySet;
  readonly file: string;
  /** Keys generated by this call (to print once), by setting name. */
  readonly generated: StoredKeys;
  /** Setting names whose key lives in the keys file (not in a setting). */
  readonly fromFile: readonly PrimaryKeyName[];
}

/**
 * For `npm start`: every role whose key is not set gets one from the keys file, generating and
 * storing it the first time. The file is written atomically with mode 0600.
 */
export async function ensureLocalKeys(settings: Settings, dataDir: string): Promise<LocalKeys> {
  const stored: StoredKeys = { ...((await readStoredKeys(dataDir)) ?? {}) };
  const generated: StoredKeys = {};
  const fromFile: PrimaryKeyName[] = [];
  for (const role of ROLES) {
    const name = PRIMARY[role];
    if (settings[name] !== undefined) continue;
    if (stored[name] === undefined) {
      stored[name] = randomBytes(32).toString("base64url");
      generated[name] = stored[name];
    }
    fromFile.push(name);
  }
  const file = keysFile(dataDir);
  if (Object.keys(generated).length > 0) {
    await mkdir(dataDir, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, `${JSON.stringify(stored, null, 2)}\n`, { mode: 0o600 });
    await chmod(tmp, 0o600);
    await rename(tmp, file);
  }
  return { keys: keySetFrom(settings, stored), file, generated, fromFile };
}
