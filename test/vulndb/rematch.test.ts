import { copyFileSync, renameSync } from "node:fs";
import { join } from "node:path";
import { InvocationContext } from "@azure/functions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rematchRequests, type RematchServices } from "../../functions/rematch-requests.js";
import { BLOB_CONTAINERS } from "../../shared/blobs/blobs.js";
import { DirectoryBlobStore } from "../../shared/blobs/directory-blobs.js";
import type { Digest } from "../../shared/domain/digest.js";
import type { ImageRecord } from "../../shared/domain/image-record.js";
import { NO_DB_GAP, NO_DB_VERSION } from "../../shared/domain/match.js";
import type { QueueSender } from "../../shared/queues/queues.js";
import { openStore } from "../../shared/store/open-store.js";
import type { Store } from "../../shared/store/port.js";
import { buildVulnDb } from "../../shared/vulndb/db/build.js";
import { fileDbProvider, blobDbProvider, publishDb } from "../../shared/vulndb/provider.js";
import { rematch } from "../../shared/vulndb/rematch.js";
import { getSarifReport } from "../../shared/usecases/images-api.js";
import { readLocalSource } from "../../shared/vulndb/sources.js";
import { facts, neverMatched, osv, pkg, tempDir, utilLinuxSbom, writeRecords } from "./support.js";

const t = tempDir("rematch");
const digest = `sha256:${"b".repeat(64)}` as Digest;
const layer = `sha256:${"c".repeat(64)}`;
const sbomBlob = `sboms/sha256/${"b".repeat(64)}.cdx.json`;
let store: Store<ImageRecord>;
const blobs = new DirectoryBlobStore(join(t.dir, "blobs"));
const sent: unknown[] = [];
const queues: QueueSender = { send: async (_q, body) => void sent.push(body), ping: async () => ({ ok: true }) };
const dbFile = join(t.dir, "vulndb.sqlite");

const sbom = utilLinuxSbom(layer);

beforeAll(async () => {
  store = await openStore({ kind: "sqlite", path: join(t.dir, "store.sqlite") });
  await blobs.put(BLOB_CONTAINERS.results, sbomBlob, Buffer.from(JSON.stringify(sbom)));
  await store.images.upsert(neverMatched(digest, sbomBlob, [NO_DB_GAP, { kind: "distro-eol", detail: "kept: the indexer's" }]));
});
afterAll(async () => {
  await store.close?.();
  t.remove();
});

const services = (vulndb: RematchServices["vulndb"]): RematchServices => ({ keys: {} as RematchServices["keys"], queues, store, blobs, vulndb });
const invoke = (message: unknown, s: RematchServices): Promise<void> => rematchRequests.handler(message, new InvocationContext({ functionName: "rematchRequests" }), s);

describe("rematch-requests", () => {
  it("without a DB completes and leaves the record pending its match", async () => {
    await invoke({ digest }, services(fileDbProvider(dbFile)));
    expect((await store.images.get(digest))?.doc.result?.dbVersion).toBe(NO_DB_VERSION);
  });

  it("matches the stored SBOM against the DB and writes findings, gaps and version; the report is made on request", async () => {
    writeRecords(join(t.dir, "osv"), [osv("DSA-5500-1", "Debian:12", "util-linux", [{ introduced: "0" }, { fixed: "2.38.1-5+deb12u4" }], { summary: "util-linux: wall escape sequences", references: [{ type: "ADVISORY", url: "https://security-tracker.debian.org/tracker/DSA-5500-1" }] })]);
    const report = await buildVulnDb({ out: dbFile, inputs: [{ name: "t", kind: "osv-dir", location: "t", records: readLocalSource(join(t.dir, "osv")) }], now: new Date() });
    await invoke({ digest, cause: "new DB" }, services(fileDbProvider(dbFile)));
    const result = (await store.images.get(digest))?.doc.result;
    expect(result?.dbVersion).toBe(report.version);
    expect(result?.findings.map((f) => [f.id, f.packageName, f.sourcePackage, f.layer])).toEqual([
      ["DSA-5500-1", "bsdutils", "util-linux", layer],
      ["DSA-5500-1", "mount", "util-linux", layer]
    ]);
    expect(result?.coverageGaps).toEqual([{ kind: "distro-eol", detail: "kept: the indexer's" }]);
    // No report is written: it is made on request, with the records' summaries and references.
    const reports: string[] = [];
    for await (const name of blobs.list(BLOB_CONTAINERS.results, "reports/")) reports.push(name);
    expect(reports).toEqual([]);
    const sarif = JSON.parse(
      (await getSarifReport({ images: store.images, blobs, matcher: () => fileDbProvider(dbFile).matcher(), now: () => new Date() }, digest)).bytes.toString("utf8")
    ) as { runs: { results: { ruleId: string; locations: unknown[] }[]; tool: { driver: { rules: { shortDescription: { text: string }; helpUri?: string }[] } } }[] };
    expect(sarif.runs[0]?.results.map((r) => r.ruleId)).toEqual(["DSA-5500-1", "DSA-5500-1"]);
    expect(sarif.runs[0]?.tool.driver.rules).toEqual([expect.objectContaining({ shortDescription: { text: "util-linux: wall escape sequences" }, helpUri: "https://security-tracker.debian.org/tracker/DSA-5500-1" })]);
  });

  it("serves a DB published as a blob, downloading each version once", async () => {
    await publishDb(blobs, dbFile, "v-test");
    const provider = blobDbProvider(blobs, join(t.dir, "cache"));
    const m = await provider.matcher();
    expect(m?.dbVersion).toBeDefined();
    expect(await provider.matcher()).toBe(m);
  });

  it("swaps to a new DB version, and the matcher of the version before still works meanwhile", async () => {
    const file = join(t.dir, "swapped.sqlite");
    copyFileSync(dbFile, file);
    let clock = 0;
    const provider = fileDbProvider(file, () => clock);
    const before = await provider.matcher();
    // A new version lands in place (a rename, as `db update` writes it).
    const next = join(t.dir, "next.sqlite");
    await buildVulnDb({ out: next, base: file, inputs: [], now: new Date("2030-01-01T00:00:00Z") });
    renameSync(next, file);
    clock += 120_000;
    const after = await provider.matcher();
    expect(after?.dbVersion).not.toBe(before?.dbVersion);
    // A rematch that began on the old matcher reads its (still open) DB without failing.
    const sbom = facts([pkg("bsdutils", "1:2.38.1-5", "Debian:12", { source: { name: "util-linux", version: "2.38.1-5" } })]);
    expect(before?.match(sbom, new Date()).findings.length).toBeGreaterThan(0);
  });

  it("an SBOM blob that is not JSON, or not CycloneDX, fails the rematch and the report with the reason, and the record keeps its result", async () => {
    const kept = (await store.images.get(digest))?.doc.result;
    const provider = fileDbProvider(dbFile);
    const current = await provider.matcher();
    if (current === undefined) throw new Error("fixture: no DB");
    // A DB version the record was not matched with, so the rematch reads the blob.
    const newer = async (): Promise<typeof current> => ({ ...current, dbVersion: "newer" });
    try {
      for (const [bytes, reason] of [
        ["{ not json", /is not JSON/],
        [JSON.stringify({ spdxVersion: "SPDX-2.3" }), /not a CycloneDX JSON SBOM: bomFormat/]
      ] as const) {
        await blobs.put(BLOB_CONTAINERS.results, sbomBlob, Buffer.from(bytes));
        await expect(rematch({ digest }, { images: store.images, blobs, matcher: newer, now: () => new Date() })).rejects.toMatchObject({ code: "REMATCH.SBOM_INVALID", message: expect.stringMatching(reason) });
        await expect(getSarifReport({ images: store.images, blobs, matcher: () => provider.matcher(), now: () => new Date() }, digest)).rejects.toMatchObject({ code: "IMAGE.BLOB_INVALID", status: 500 });
        expect((await store.images.get(digest))?.doc.result).toEqual(kept);
      }
    } finally {
      await blobs.put(BLOB_CONTAINERS.results, sbomBlob, Buffer.from(JSON.stringify(sbom)));
    }
  });

  it("poisons a message that is not a rematch request, with the reason", async () => {
    sent.length = 0;
    await invoke({ digest: "latest" }, services(fileDbProvider(dbFile)));
    expect(sent).toEqual([expect.objectContaining({ poisoned: expect.objectContaining({ reason: expect.objectContaining({ code: "QUEUE.INVALID_MESSAGE" }) }) })]);
  });
});
