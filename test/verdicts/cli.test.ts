import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../cli/main.js";
import { KEYS, startVerdictHost, type VerdictHost } from "./host.js";
import { digestOf, finding, record, result } from "./records.js";

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, (l) => out.push(l), (l) => err.push(l));
  return { code, out: out.join("\n"), err: err.join("\n") };
}

describe("scanhook policy validate", () => {
  const dir = mkdtempSync(join(tmpdir(), "scanhook-policy-cli-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("exit 0 and the version for a valid file; 1 with file:line:column: field for each problem; 2 for bad usage", async () => {
    const good = join(dir, "good.yaml");
    writeFileSync(good, "default: { maxSeverity: medium }\n");
    const ok = await run(["policy", "validate", good]);
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/valid, version sha256:[a-f0-9]{16}/);
    const bad = join(dir, "bad.yaml");
    writeFileSync(bad, "default:\n  maxSeverity: severe\n  onViolation: block\n");
    const r = await run(["policy", "validate", bad]);
    expect(r.code).toBe(1);
    expect(r.out.split("\n")).toEqual([`${bad}:2:16: default.maxSeverity: ${r.out.split("\n")[0]?.split("default.maxSeverity: ")[1] ?? ""}`, expect.stringMatching(new RegExp(`^${bad.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:3:16: default.onViolation: `))]);
    expect((await run(["policy", "check", good])).code).toBe(2);
    expect((await run(["policy", "validate", join(dir, "missing.yaml")])).code).toBe(2);
  });
});

describe("scanhook verdict", () => {
  let t: VerdictHost;
  beforeAll(async () => {
    t = await startVerdictHost();
    const now = new Date().toISOString();
    await t.host.services.store.images.upsert(record("cli-deny", { result: result([finding("CVE-1", { severity: "critical" })], { matchedAt: now }) }));
    await t.host.services.store.images.upsert(record("cli-allow", { result: result([], { matchedAt: now }) }));
    await t.host.services.store.images.upsert(record("cli-pending", { state: "queued" }));
    await t.host.services.store.images.upsert(record("cli-warn", { result: result([finding("CVE-2", { severity: "unknown" })], { matchedAt: now }) }));
  });
  afterAll(async () => {
    await t?.stop();
  });

  const ask = (target: string, ...more: string[]) => run(["verdict", target, "--server", t.host.url, "--key", KEYS.read, ...more]);

  it("exits as admission would decide: 0 allow, 1 deny, pending and unknown by the policy's answer", async () => {
    const allow = await ask(digestOf("cli-allow"));
    expect(allow.code).toBe(0);
    expect(allow.out).toMatch(/^allow {2}sha256:/);
    const deny = await ask(digestOf("cli-deny"));
    expect(deny.code).toBe(1);
    expect(deny.out).toContain("max-severity");
    expect((await ask(digestOf("cli-pending"))).code).toBe(1);
    expect((await ask(digestOf("cli-never"))).code).toBe(1);
    expect((await ask(digestOf("cli-warn"))).code).toBe(0);
    expect((await ask(digestOf("cli-warn"), "--strict")).code).toBe(1);
  });

  it("a reference with a tag and a digest asks for that location, pinned (not tag-only); a tag alone is refused", async () => {
    const ref = `myacr.azurecr.io/team/api:v1@${digestOf("cli-allow")}`;
    expect((await ask(ref, "--json")).code).toBe(0);
    expect((await ask(ref, "--strict")).code).toBe(0);
    expect((await ask("myacr.azurecr.io/team/api:v1")).code).toBe(2);
  });

  it("exit 3 when there is no answer (wrong key, nobody listening)", async () => {
    expect((await run(["verdict", digestOf("cli-allow"), "--server", t.host.url, "--key", "x".repeat(40)])).code).toBe(3);
    expect((await run(["verdict", digestOf("cli-allow"), "--server", "http://127.0.0.1:9/"])).code).toBe(3);
  });
});
