import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { defaultPolicy } from "../domain/policy.js";
import { filePolicySource, InvalidPolicyError, PolicyProvider } from "./verdicts-policy.js";

describe("PolicyProvider", () => {
  const dir = mkdtempSync(join(tmpdir(), "scanhook-policy-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("no document: the built-in defaults; a changed document is picked up after the reload interval", async () => {
    const path = join(dir, "a.yaml");
    let now = 0;
    const changes: string[] = [];
    const provider = new PolicyProvider(filePolicySource(path), { reloadMs: 1000, now: () => now });
    provider.onChange((p) => changes.push(p.policy.version));
    expect((await provider.current()).policy.version).toBe(defaultPolicy().version);
    writeFileSync(path, "default: { maxSeverity: low }\n");
    now = 999;
    expect((await provider.current()).policy.version).toBe(defaultPolicy().version);
    now = 1000;
    await provider.current(); // starts the background re-read
    const next = await provider.reload();
    expect(next.policy.defaultRule.maxSeverity).toBe("low");
    expect(changes).toEqual([defaultPolicy().version, next.policy.version]);
  });

  it("an invalid stored document keeps the last good one (and says so); a first load of one is a 503", async () => {
    const path = join(dir, "b.yaml");
    writeFileSync(path, "default: { maxSeverity: medium }\n");
    const errors: string[] = [];
    const provider = new PolicyProvider(filePolicySource(path), { reloadMs: 1, onError: (m) => errors.push(m) });
    const good = await provider.current();
    writeFileSync(path, "default: { maxSeverity: extreme }\n");
    expect((await provider.reload()).policy.version).toBe(good.policy.version);
    expect(errors[0]).toMatch(/invalid, keeping sha256:/);
    const fresh = new PolicyProvider(filePolicySource(path), { reloadMs: 1 });
    await expect(fresh.current()).rejects.toMatchObject({ code: "POLICY.INVALID", status: 503 });
  });

  it("put validates before storing: an invalid document is refused with every problem and nothing changes", async () => {
    const path = join(dir, "c.yaml");
    const provider = new PolicyProvider(filePolicySource(path), { reloadMs: 1000 });
    const before = await provider.current();
    const refused = await provider.put("default: { maxSeverity: x, onViolation: y }").catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(InvalidPolicyError);
    expect((refused as InvalidPolicyError).problems).toHaveLength(2);
    expect((await provider.current()).policy.version).toBe(before.policy.version);
    const stored = await provider.put("# ours\ndefault: { maxSeverity: low }\n");
    expect((await filePolicySource(path).read())?.startsWith("# ours")).toBe(true);
    expect((await provider.current()).policy.version).toBe(stored.policy.version);
  });
});
