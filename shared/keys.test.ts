import { mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadSettings } from "./config.js";
import { checkKey, ensureLocalKeys, keySetFrom, matchesAny, readStoredKeys, unresolvedKeyReferences } from "./keys.js";

const k = (c: string): string => c.repeat(32);

describe("keys", () => {
  it("accepts a role's key and its _NEXT twin; admin passes for read, not for webhook", () => {
    const keys = keySetFrom(loadSettings([{ READ_KEY: k("r"), READ_KEY_NEXT: k("n"), ADMIN_KEY: k("a"), WEBHOOK_KEY: k("w") }]));
    expect(checkKey(keys, "read", k("r"))).toBe("ok");
    expect(checkKey(keys, "read", k("n"))).toBe("ok");
    expect(checkKey(keys, "read", k("a"))).toBe("ok");
    expect(checkKey(keys, "admin", k("r"))).toBe("wrong");
    expect(checkKey(keys, "webhook", k("a"))).toBe("wrong");
    expect(checkKey(keys, "webhook", undefined)).toBe("missing");
    expect(checkKey(keys, "admission", k("a"))).toBe("unconfigured");
  });

  it("never accepts an unresolved Key Vault reference as a key", () => {
    const reference = "@Microsoft.KeyVault(SecretUri=https://kv.vault.azure.net/secrets/read-key/0123456789abcdef)";
    const settings = loadSettings([{ READ_KEY: reference, ADMIN_KEY: k("a") }]);
    const keys = keySetFrom(settings);
    expect(keys.read).toEqual([]);
    expect(checkKey(keys, "read", reference)).toBe("wrong");
    expect(unresolvedKeyReferences(settings)).toEqual(["READ_KEY"]);
  });

  it("compares whole keys only", () => {
    expect(matchesAny(k("x"), [k("x")])).toBe(true);
    expect(matchesAny(k("x").slice(1), [k("x")])).toBe(false);
    expect(matchesAny(`${k("x")}y`, [k("x")])).toBe(false);
    expect(matchesAny("", [k("x")])).toBe(false);
    // Equal UTF-16 length is not equal bytes; a match among candidates of several lengths.
    expect(matchesAny("é".repeat(20), ["e".repeat(20)])).toBe(false);
    expect(matchesAny("é".repeat(20), ["x", "é".repeat(20)])).toBe(true);
    expect(matchesAny(k("y"), ["short", k("x"), k("y")])).toBe(true);
    expect(matchesAny(k("z"), ["short", k("x"), k("y")])).toBe(false);
    expect(matchesAny(k("x"), [])).toBe(false);
  });

  it("generates missing keys once, keeps them 0600, and prefers settings", async () => {
    const dir = mkdtempSync(join(tmpdir(), "scanhook-keys-"));
    const settings = loadSettings([{ READ_KEY: k("r") }]);
    const first = await ensureLocalKeys(settings, dir);
    expect(Object.keys(first.generated).sort()).toEqual(["ADMIN_KEY", "ADMISSION_SECRET", "WEBHOOK_KEY"]);
    expect(first.fromFile).toEqual(["WEBHOOK_KEY", "ADMIN_KEY", "ADMISSION_SECRET"]);
    expect(first.keys.read).toEqual([k("r")]);
    expect(statSync(first.file).mode & 0o777).toBe(0o600);
    const second = await ensureLocalKeys(settings, dir);
    expect(second.generated).toEqual({});
    expect(second.keys).toEqual(first.keys);
    expect(await readStoredKeys(dir)).toEqual(first.generated);
  });
});
