import { QueueServiceClient } from "@azure/storage-queue";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InvocationContext } from "../../functions/azure-functions.js";
import { invokeTimer } from "../../functions/invoke.js";
import { verdictSweep } from "../../functions/verdict-sweep.js";
import { BLOB_CONTAINERS } from "../../shared/blobs/blobs.js";
import type { Digest } from "../../shared/domain/digest.js";
import type { ImageRecord } from "../../shared/domain/image-record.js";
import { toCycloneDx } from "../../shared/scanner/index.js";
import { KEYS, startVerdictHost, type VerdictHost } from "./host.js";
import { digestOf, finding, record, result } from "./records.js";

/**
 * The images API and the policy API over HTTP: continuation paging over more records than a page,
 * every filter, detail, findings, SBOM and report (404 with the reason until stored), rescan
 * (admin), and a policy change that flips a verdict with no rescan, after which the sweep makes
 * `GET /api/images?verdict=` agree.
 */
describe("images and policy API", () => {
  let t: VerdictHost;
  const images = () => t.host.services.store.images;
  const fresh = (findings: Parameters<typeof result>[0]) => result(findings, { matchedAt: new Date().toISOString(), indexedAt: new Date().toISOString() });
  const body = async <T = Record<string, unknown>>(r: Response) => (await r.json()) as T;
  type Page = { items: { digest: string; verdict?: { overall: string; current: boolean } }[]; continuation?: string };

  async function listAll(query: string, limit: number): Promise<{ digests: string[]; pages: number }> {
    const digests: string[] = [];
    let continuation: string | undefined;
    let pages = 0;
    do {
      const r = await t.call(`api/images?${query}&limit=${limit}${continuation === undefined ? "" : `&continuation=${encodeURIComponent(continuation)}`}`);
      expect(r.status).toBe(200);
      const page = await body<Page>(r);
      digests.push(...page.items.map((i) => i.digest));
      continuation = page.continuation;
      pages++;
    } while (continuation !== undefined && pages < 50);
    return { digests, pages };
  }

  async function sweep(): Promise<void> {
    await invokeTimer(verdictSweep, { isPastDue: false } as Parameters<typeof verdictSweep.handler>[0], new InvocationContext({ functionName: "verdictSweep" }), t.host.services);
  }

  const many: ImageRecord[] = Array.from({ length: 25 }, (_, i) =>
    record(`many-${i}`, {
      locations: [{ registry: "myacr.azurecr.io", repository: i % 2 === 0 ? "team/even" : "team/odd" }],
      ...(i % 5 === 0 ? { state: "queued" as const } : { result: fresh(i % 3 === 0 ? [finding(`CVE-${i}`, { severity: "high" })] : []) })
    })
  );

  beforeAll(async () => {
    t = await startVerdictHost();
    for (const r of many) await images().upsert(r);
  });
  afterAll(async () => {
    await t?.stop();
  });

  it("pages with continuation tokens over more records than a page, each record once", async () => {
    const { digests, pages } = await listAll("", 10);
    expect(pages).toBeGreaterThanOrEqual(3);
    expect(new Set(digests).size).toBe(digests.length);
    expect(digests.sort()).toEqual(many.map((r) => r.id).sort());
  });

  it("filters by location, scan state and pull time", async () => {
    const even = await listAll("registry=myacr.azurecr.io&repository=team/even", 4);
    expect(even.digests.sort()).toEqual(many.filter((_, i) => i % 2 === 0).map((r) => r.id).sort());
    const queued = await listAll("scanState=queued", 2);
    expect(queued.digests.sort()).toEqual(many.filter((_, i) => i % 5 === 0).map((r) => r.id).sort());
    const pulled = many[3];
    if (pulled === undefined) throw new Error("fixture");
    await images().upsert({ ...pulled, lastPulledAt: "2030-01-01T00:00:00.000Z" });
    expect((await listAll("pulledSince=2029-12-31T00:00:00Z", 10)).digests).toEqual([pulled.id]);
  });

  it("400 naming the field for a bad filter", async () => {
    for (const [query, field] of [
      ["scanState=resting", "scanState"],
      ["verdict=maybe", "verdict"],
      ["registry=myacr.azurecr.io", "repository"],
      ["pulledSince=yesterday", "pulledSince"],
      ["limit=0", "limit"],
      ["limit=1001", "limit"],
      ["continuation=not-a-token", "continuation"]
    ] as const) {
      const r = await t.call(`api/images?${query}`);
      expect(r.status, query).toBe(400);
      expect((await body<{ error: { message: string } }>(r)).error.message.startsWith(`${field}:`), query).toBe(true);
    }
  });

  it("one record, its findings; 404 with the reason when unknown or without a result", async () => {
    const withResult = many[3];
    const queued = many[5];
    if (withResult === undefined || queued === undefined) throw new Error("fixture");
    const detail = await t.call(`api/images/${withResult.id}`);
    expect(detail.status).toBe(200);
    expect(await body(detail)).toMatchObject({ id: withResult.id, scan: { state: "done" }, result: { dbVersion: "db-1" } });
    const findings = await t.call(`api/images/${withResult.id}/findings`);
    expect(await body(findings)).toMatchObject({ digest: withResult.id, findings: [{ id: "CVE-3" }], coverageGaps: [], dbVersion: "db-1" });
    expect((await t.call(`api/images/${digestOf("nope")}`)).status).toBe(404);
    const none = await t.call(`api/images/${queued.id}/findings`);
    expect(none.status).toBe(404);
    expect((await body<{ error: { code: string; message: string } }>(none)).error).toMatchObject({ code: "IMAGE.NO_RESULT", message: expect.stringContaining("no scan result yet") });
  });

  it("SBOM: 404 with the reason until stored, then the stored bytes; the report needs a DB", async () => {
    const r = many[1];
    if (r === undefined) throw new Error("fixture");
    const missing = await t.call(`api/images/${r.id}/sbom`);
    expect(missing.status).toBe(404);
    expect((await body<{ error: { code: string } }>(missing)).error.code).toBe("IMAGE.NO_BLOB");
    const sbom = JSON.stringify(
      toCycloneDx({
        subject: "myacr.azurecr.io/team/api@" + r.id,
        digest: r.id as Digest,
        facts: {
          distribution: "Debian:12",
          contentSetCpes: [],
          coverageGaps: [],
          packages: [{ name: "bash", version: "5.2.15-2+b2", purl: "pkg:deb/debian/bash@5.2.15-2%2Bb2?arch=amd64&distro=debian-12", ecosystem: "Debian:12", source: { name: "bash", version: "5.2.15-2" }, analyzer: "os/dpkg" }]
        },
        distribution: undefined,
        analyzers: { "os/dpkg": "1" },
        indexedAt: new Date("2026-11-20T00:00:00Z")
      })
    );
    await t.host.services.blobs.put(BLOB_CONTAINERS.results, r.result?.sbom.blob ?? "", Buffer.from(sbom));
    const found = await t.call(`api/images/${r.id}/sbom?format=cyclonedx`);
    expect(found.status).toBe(200);
    expect(found.headers.get("content-type")).toBe("application/vnd.cyclonedx+json");
    expect(await found.text()).toBe(sbom);
    const spdx = await t.call(`api/images/${r.id}/sbom?format=spdx`);
    expect(spdx.status).toBe(200);
    const spdxDoc = await body<{ spdxVersion: string; packages: { name: string }[] }>(spdx);
    expect(spdxDoc.spdxVersion).toBe("SPDX-2.3");
    expect(spdxDoc.packages.map((p) => p.name)).toContain("bash");
    expect((await t.call(`api/images/${r.id}/sbom?format=xml`)).status).toBe(400);
    // The report is made on request against the DB, and this host has none (first-match.test.ts has one).
    const report = await t.call(`api/images/${r.id}/report?format=sarif`);
    expect(report.status).toBe(503);
    expect((await body<{ error: { code: string; message: string } }>(report)).error).toMatchObject({ code: "VULNDB.UNAVAILABLE", message: expect.stringContaining("no vulnerability DB yet") });
    expect((await t.call(`api/images/${r.id}/report?format=html`)).status).toBe(400);
  });

  it("rescan: admin only, queues a reindex request, the verdict stays", async () => {
    const r = many[3];
    if (r === undefined) throw new Error("fixture");
    expect((await t.call(`api/images/${r.id}/rescan`, { method: "POST" })).status).toBe(401);
    const res = await t.call(`api/images/${r.id}/rescan`, { method: "POST", key: KEYS.admin });
    expect(res.status).toBe(202);
    const queue = QueueServiceClient.fromConnectionString(t.host.azurite?.connectionString ?? "").getQueueClient("scan-requests");
    const peeked = await queue.peekMessages({ numberOfMessages: 32 });
    const messages = peeked.peekedMessageItems.map((m) => JSON.parse(Buffer.from(m.messageText, "base64").toString("utf8")) as { kind: string; digest: string });
    expect(messages).toContainEqual(expect.objectContaining({ kind: "reindex", digest: r.id, registry: "myacr.azurecr.io", repository: "team/odd" }));
    expect((await t.call(`api/images/${digestOf("nope")}/rescan`, { method: "POST", key: KEYS.admin })).status).toBe(404);

    const artifact = record("rescan-artifact", { kind: "artifact", skipReason: "a Helm chart (config application/vnd.cncf.helm.config.v1+json)", state: "skipped" });
    const gone = { ...record("rescan-gone"), locations: [], locationKeys: [], deleted: true };
    await images().upsert(artifact);
    await images().upsert(gone);
    const refused = await t.call(`api/images/${artifact.id}/rescan`, { method: "POST", key: KEYS.admin });
    expect(refused.status).toBe(422);
    expect((await body<{ error: { message: string } }>(refused)).error.message).toContain("Helm chart");
    expect((await t.call(`api/images/${gone.id}/rescan`, { method: "POST", key: KEYS.admin })).status).toBe(409);
    // Leave the shared fixture as the other tests count it.
    await images().delete(artifact.id);
    await images().delete(gone.id);
  });

  it("policy: read, validate with line and field, PUT is admin only and refuses an invalid document", async () => {
    const active = await body<{ version: string; builtInDefaults: boolean }>(await t.call("api/policy"));
    expect(active.builtInDefaults).toBe(true);
    const invalid = await body<{ valid: boolean; problems: unknown[] }>(await t.call("api/policy/validate", { method: "POST", body: "default:\n  maxSeverity: extreme\n" }));
    expect(invalid).toMatchObject({ valid: false, problems: [{ line: 2, column: 16, field: "default.maxSeverity" }] });
    expect(await body(await t.call("api/policy/validate", { method: "POST", body: "default: { maxSeverity: low }" }))).toMatchObject({ valid: true });
    expect((await t.call("api/policy", { method: "PUT", body: "default: { maxSeverity: low }" })).status).toBe(401);
    const refused = await t.call("api/policy", { method: "PUT", body: "rules: [ { maxSeverity: low } ]", key: KEYS.admin });
    expect(refused.status).toBe(400);
    expect((await body<{ error: { problems: { field: string }[] } }>(refused)).error.problems[0]?.field).toBe("rules.0");
    expect((await body<{ version: string }>(await t.call("api/policy"))).version).toBe(active.version);
  });

  it("a policy change flips an existing verdict with no rescan; after the sweep, lists by verdict agree", async () => {
    await sweep();
    const high = many.filter((_, i) => i % 5 !== 0 && i % 3 === 0).map((r) => r.id).sort();
    expect(high.length).toBeGreaterThan(0);
    expect((await listAll("verdict=deny", 100)).digests).toEqual([]);
    const target = high[0] ?? "";
    expect((await body<{ verdict: string }>(await t.call(`api/verdicts/${target}`))).verdict).toBe("allow");

    const put = await t.call("api/policy", { method: "PUT", body: "default:\n  maxSeverity: medium\n", key: KEYS.admin });
    expect(put.status).toBe(200);
    const { version } = await body<{ version: string }>(put);
    // At once on read, with no rescan.
    expect(await body(await t.call(`api/verdicts/${target}`))).toMatchObject({ verdict: "deny", policyVersion: version });
    // Lists follow once the sweep has passed.
    await sweep();
    expect((await listAll("verdict=deny", 3)).digests.sort()).toEqual(high);
    const page = await body<Page>(await t.call("api/images?verdict=deny&limit=100"));
    expect(page.items.every((i) => i.verdict?.current === true)).toBe(true);
    expect((await body<{ version: string; builtInDefaults: boolean }>(await t.call("api/policy"))).builtInDefaults).toBe(false);
  });

  it("GET /api/stats: counts from the sweep's last pass, queue depths with poison counts, scans in the last hour, the DB", async () => {
    await sweep();
    const r = await t.call("api/stats");
    expect(r.status).toBe(200);
    const s = await body<{ counts: { images: number; byVerdict: Record<string, number>; byScanState: Record<string, number>; findingsBySeverity: Record<string, number> }; queues: Record<string, { depth: number; poison: number }>; scansLastHour: { count: number }; db: { version: string } }>(r);
    expect(s.counts.images).toBe(25);
    expect(s.counts.byScanState.queued).toBe(5);
    expect(s.counts.byVerdict.pending).toBe(5);
    expect((s.counts.byVerdict.allow ?? 0) + (s.counts.byVerdict.deny ?? 0)).toBe(20);
    expect(s.counts.findingsBySeverity.high).toBe(many.filter((_, i) => i % 5 !== 0 && i % 3 === 0).length);
    expect(s.queues["scan-requests"]?.depth).toBeGreaterThanOrEqual(1);
    expect(s.queues["scan-requests"]?.poison).toBe(0);
    expect(s.scansLastHour.count).toBe(20);
    expect(s.db.version).toBe("db-1");
  });
});
