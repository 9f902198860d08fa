import { writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ImageRecord } from "../../shared/domain/image-record.js";
import { KEYS, startVerdictHost, type VerdictHost } from "./host.js";
import { digestOf, finding, record, result } from "./records.js";

/**
 * `GET /api/verdicts/{digest}` over HTTP on the local host, records written directly: every status
 * of DESIGN principle 4, references and platforms, ETag/304, keys, the verdict written back on
 * the record and the in-memory cache.
 */
describe("GET /api/verdicts/{digest}", () => {
  let t: VerdictHost;
  const images = () => t.host.services.store.images;
  const put = (r: ImageRecord) => images().upsert(r);
  const get = (digest: string, query = "", headers: Record<string, string> = {}) => t.call(`api/verdicts/${digest}${query}`, { headers });
  const json = async (r: Response) => (await r.json()) as Record<string, unknown> & { verdict?: string; status: string };

  // Matched "now", so a stale match never colours these answers.
  const fresh = (findings: Parameters<typeof result>[0]) => result(findings, { matchedAt: new Date().toISOString(), indexedAt: new Date().toISOString() });

  beforeAll(async () => {
    t = await startVerdictHost({ VERDICT_CACHE_SECONDS: "300" });
  });
  afterAll(async () => {
    await t?.stop();
  });

  it("200 with the verdict and why; the same answer again is 304 with If-None-Match", async () => {
    const r = record("critical", { result: fresh([finding("CVE-1", { severity: "critical" })]) });
    await put(r);
    const first = await get(r.id);
    expect(first.status).toBe(200);
    const body = await json(first);
    expect(body).toMatchObject({ status: "verdict", digest: r.id, verdict: "deny", decidedBy: { code: "max-severity", rule: "default" }, dbVersion: "db-1" });
    const etag = first.headers.get("etag") ?? "";
    expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    const again = await get(r.id, "", { "if-none-match": etag });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");
    expect((await get(r.id, "", { "if-none-match": '"other"' })).status).toBe(200);
  });

  it("writes the verdict back on the record, with the policy version and the match", async () => {
    const r = record("written-back", { result: fresh([]) });
    await put(r);
    expect((await get(r.id)).status).toBe(200);
    const stored = (await images().get(r.id))?.doc.verdict;
    expect(stored).toMatchObject({ overall: "allow", locations: [{ registry: "myacr.azurecr.io", repository: "team/api", verdict: "allow" }], match: { dbVersion: "db-1" } });
    expect(stored?.policyVersion).toBe((await t.host.services.policy.current()).policy.version);
  });

  it("202 pending with Retry-After while never scanned, saying what admission would do", async () => {
    const r = record("queued", { state: "queued" });
    await put(r);
    const res = await get(r.id);
    expect(res.status).toBe(202);
    expect(res.headers.get("retry-after")).toBe("10");
    expect(await json(res)).toMatchObject({ status: "pending", scanState: "queued", admission: { verdict: "deny", mode: "pending" } });
  });

  it("a rescan in progress keeps the previous verdict: 200, not 202", async () => {
    const r = record("rescanning", { result: fresh([finding("CVE-2", { severity: "critical" })]), state: "scanning" });
    await put(r);
    const res = await get(r.id);
    expect(res.status).toBe(200);
    expect((await json(res)).verdict).toBe("deny");
  });

  it("200 for a failed first scan, by the policy's failedScan answer, with the cause", async () => {
    const r = record("failed", { state: "failed", lastError: { code: "REGISTRY.UNAUTHORIZED", message: "401" } });
    await put(r);
    const res = await get(r.id);
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ verdict: "deny", decidedBy: { code: "failed-scan" }, scan: { state: "failed", lastError: { code: "REGISTRY.UNAUTHORIZED" } } });
  });

  it("404 unknown, saying what admission would do; 422 for a skipped artifact", async () => {
    const unknown = await get(digestOf("never-seen"));
    expect(unknown.status).toBe(404);
    expect(await json(unknown)).toMatchObject({ status: "unknown", admission: { verdict: "deny", mode: "unknown" }, error: { code: "IMAGE.UNKNOWN" } });
    const a = record("signature", { kind: "artifact", skipReason: "a cosign signature", state: "skipped" });
    await put(a);
    const res = await get(a.id);
    expect(res.status).toBe(422);
    expect(await json(res)).toMatchObject({ status: "not-an-image", reason: "a cosign signature", error: { code: "IMAGE.NOT_AN_IMAGE" } });
  });

  it("?reference= answers for one location; the digest's own answer is the strictest", async () => {
    writeFileSync(t.policyPath, "rules:\n  - { repository: 'prod/**', maxSeverity: medium }\n");
    await t.host.services.policy.reload();
    const r = record("two-repos", {
      locations: [{ registry: "myacr.azurecr.io", repository: "prod/api" }, { registry: "myacr.azurecr.io", repository: "dev/api" }],
      result: fresh([finding("CVE-3", { severity: "high" })])
    });
    await put(r);
    expect((await json(await get(r.id))).verdict).toBe("deny");
    expect((await json(await get(r.id, "?reference=myacr.azurecr.io/dev/api"))).verdict).toBe("allow");
    expect((await json(await get(r.id, "?reference=myacr.azurecr.io/prod/api"))).verdict).toBe("deny");
    expect((await json(await get(r.id, `?reference=${encodeURIComponent(`myacr.azurecr.io/dev/api@${r.id}`)}`))).verdict).toBe("allow");
    expect((await json(await get(r.id, "?reference=myacr.azurecr.io/dev/api:v1"))).verdict).toBe("warn");
    writeFileSync(t.policyPath, "");
    await t.host.services.policy.reload();
  });

  it("?platform= for one platform of an index; without it, the worst of its platforms", async () => {
    const amd = { ...record("amd64", { locations: [], result: fresh([]) }), platform: { os: "linux", architecture: "amd64" }, parentDigests: [digestOf("index")] };
    const arm = { ...record("arm64", { locations: [], result: fresh([finding("CVE-4", { severity: "critical" })]) }), platform: { os: "linux", architecture: "arm64", variant: "v8" }, parentDigests: [digestOf("index")] };
    const index: ImageRecord = { ...record("index", {}), kind: "index", scan: { ...record("index").scan, state: "done" }, childDigests: [amd.id, arm.id] };
    await Promise.all([put(amd), put(arm), put(index)]);
    const whole = await json(await get(index.id));
    expect(whole).toMatchObject({ verdict: "deny", decidedBy: { platform: "linux/arm64/v8" } });
    expect((await json(await get(index.id, "?platform=linux/amd64"))).verdict).toBe("allow");
    expect((await json(await get(index.id, "?platform=linux/arm64"))).verdict).toBe("deny");
    const missing = await get(index.id, "?platform=linux/s390x");
    expect(missing.status).toBe(404);
    expect(((await json(missing)).error as { code: string }).code).toBe("VERDICT.PLATFORM_NOT_FOUND");
    // A platform manifest asked about directly is judged where its index lives.
    expect((await json(await get(arm.id))).locations).toMatchObject([{ repository: "team/api", verdict: "deny" }]);
  });

  it("400 naming the field for a bad digest, reference or platform", async () => {
    const r = record("for-400", { result: fresh([]) });
    await put(r);
    const cases: [string, string][] = [
      ["api/verdicts/sha256:xyz", "digest"],
      ["api/verdicts/sha256%E0%A4", "digest"],
      [`api/verdicts/${r.id}?reference=nohost`, "reference"],
      [`api/verdicts/${r.id}?reference=${encodeURIComponent(`myacr.azurecr.io/a@${digestOf("other")}`)}`, "reference"],
      [`api/verdicts/${r.id}?platform=linux`, "platform"],
      [`api/verdicts/${r.id}?platform=linux/amd64`, "platform"]
    ];
    for (const [path, field] of cases) {
      const res = await t.call(path);
      expect(res.status, path).toBe(400);
      expect(((await json(res)).error as { message: string }).message.startsWith(`${field}:`), path).toBe(true);
    }
  });

  it("401 without a key or with the webhook key; the admin key reads too", async () => {
    const r = record("keys", { result: fresh([]) });
    await put(r);
    expect((await t.call(`api/verdicts/${r.id}`, { key: "" })).status).toBe(401);
    expect((await t.call(`api/verdicts/${r.id}`, { key: KEYS.webhook })).status).toBe(401);
    expect((await t.call(`api/verdicts/${r.id}`, { key: KEYS.admin })).status).toBe(200);
  });

  it("POST /api/verdicts/batch: each digest's own answer, at most VERDICT_BATCH_MAX, 400 naming the field", async () => {
    const a = record("batch-a", { result: fresh([finding("CVE-9", { severity: "critical" })]) });
    const b = record("batch-b", { state: "queued" });
    await Promise.all([put(a), put(b)]);
    const post = (payload: unknown) => t.call("api/verdicts/batch", { method: "POST", body: JSON.stringify(payload), headers: { "content-type": "application/json" } });
    const res = await post({ items: [{ digest: a.id }, { digest: b.id }, { digest: digestOf("batch-none") }, { digest: a.id, reference: "bad" }] });
    expect(res.status).toBe(200);
    const { results } = (await res.json()) as { results: { digest: string; status: number; body: { verdict?: string; status?: string } }[] };
    expect(results.map((r) => [r.digest, r.status])).toEqual([[a.id, 200], [b.id, 202], [digestOf("batch-none"), 404], [a.id, 400]]);
    expect(results[0]?.body.verdict).toBe("deny");
    expect((await post({ digests: [a.id] })).status).toBe(200);
    const tooMany = await post({ digests: Array.from({ length: 101 }, (_, i) => digestOf(`n${i}`)) });
    expect(tooMany.status).toBe(400);
    expect(((await json(tooMany)).error as { message: string }).message).toMatch(/^digests: at most 100/);
    const malformed = await post({ items: [{ digest: "sha256:1" }] });
    expect(malformed.status).toBe(400);
    expect(((await json(malformed)).error as { message: string }).message).toMatch(/^items\.0\.digest:/);
    expect((await t.call("api/verdicts/batch", { method: "POST", body: "{", headers: { "content-type": "application/json" } })).status).toBe(400);
  });

  it("answers from memory until this instance writes the record; a policy change is seen at once", async () => {
    const r = record("cached", { result: fresh([]) });
    await put(r);
    expect((await json(await get(r.id))).verdict).toBe("allow");
    // Written behind the cache's back (as another instance would): still the remembered answer.
    const raw = t.host.services.store.documents("images");
    const stored = await raw.get(r.id);
    await raw.upsert({ ...(stored?.doc ?? { id: r.id }), result: fresh([finding("CVE-5", { severity: "critical" })]) });
    expect((await json(await get(r.id))).verdict).toBe("allow");
    // Written through this instance: dropped at once.
    await images().update(r.id, (cur) => cur);
    expect((await json(await get(r.id))).verdict).toBe("deny");
    // A new policy version: a new answer, with no rescan, and the record's cache follows.
    writeFileSync(t.policyPath, "default: { maxSeverity: critical }\n");
    const active = await t.host.services.policy.reload();
    const after = await json(await get(r.id));
    expect(after).toMatchObject({ verdict: "allow", policyVersion: active.policy.version });
    expect((await images().get(r.id))?.doc.verdict).toMatchObject({ overall: "allow", policyVersion: active.policy.version });
    writeFileSync(t.policyPath, "");
    await t.host.services.policy.reload();
  });
});
