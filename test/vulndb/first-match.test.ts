import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Digest } from "../../shared/domain/digest.js";
import { buildVulnDb } from "../../shared/vulndb/db/build.js";
import { readLocalSource } from "../../shared/vulndb/sources.js";
import { startTestHost, type TestHost } from "../helpers/host.js";
import { buildImage, pushImage } from "../helpers/images.js";
import { startRegistry, type TestRegistry } from "../helpers/registry.js";
import { eventually } from "../host/azurite-helpers.js";
import { osv, tempDir, writeRecords } from "./support.js";

/**
 * The whole product path with a vulnerability DB present: a push is indexed and matched in one
 * scan (no rematch hop), the compact findings land on the record, the verdict answers from them,
 * and the SARIF report is made from the stored SBOM when asked for.
 */
const DEBIAN_12 = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n';
const STATUS = [
  "Package: bsdutils\nStatus: install ok installed\nArchitecture: amd64\nSource: util-linux (2.38.1-5)\nVersion: 1:2.38.1-5+b1\n",
  "Package: zlib1g\nStatus: install ok installed\nArchitecture: amd64\nSource: zlib\nVersion: 1:1.2.13.dfsg-1\n"
].join("\n");

describe("push → index + match in one scan", () => {
  const t = tempDir("first-match");
  let registry: TestRegistry;
  let host: TestHost;

  beforeAll(async () => {
    const src = join(t.dir, "osv");
    writeRecords(src, [
      osv("DSA-9999-1", "Debian:12", "util-linux", [{ introduced: "0" }, { fixed: "2.38.1-5+deb12u1" }], { upstream: ["CVE-2024-28085"], summary: "util-linux: wall escape sequences" }),
      osv("DSA-9998-1", "Debian:11", "zlib", [{ introduced: "0" }, { fixed: "1:1.2.13.dfsg-9" }])
    ]);
    const db = join(t.dir, "vulndb.sqlite");
    await buildVulnDb({ out: db, inputs: [{ name: "osv-dir:test", kind: "osv-dir", location: src, records: readLocalSource(src) }], now: new Date("2026-11-01T00:00:00Z") });
    registry = await startRegistry();
    host = await startTestHost({ settings: { REGISTRIES: `http://${registry.host}`, VULNDB_PATH: db, VULNDB_DOWNLOAD: "false" } });
  }, 120_000);

  afterAll(async () => {
    await host?.stop();
    await registry?.stop();
    t.remove();
  });

  it("writes findings, answers the verdict from them, and makes the report on request", async () => {
    const image = buildImage({ layers: [{ "etc/os-release": DEBIAN_12, "var/lib/dpkg/status": STATUS }] });
    await pushImage(registry.url, "team/app", image, { tag: "v1" });
    const digest = image.manifest.digest as Digest;
    const accepted = await fetch(`${host.host.url}api/webhooks/distribution`, {
      method: "POST",
      headers: { "x-functions-key": host.webhookKey, "content-type": "application/vnd.docker.distribution.events.v1+json" },
      body: JSON.stringify({
        events: [
          {
            id: "first-match-1",
            timestamp: "2026-11-23T10:00:00.000Z",
            action: "push",
            target: { mediaType: image.manifest.mediaType, size: image.manifest.size, digest, repository: "team/app", tag: "v1" },
            request: { id: "r-1", host: registry.host, method: "PUT", useragent: "test/1.0" }
          }
        ]
      })
    });
    expect(accepted.status).toBe(200);
    const images = host.host.services.store.images;
    expect(await eventually(async () => (await images.get(digest))?.doc.scan.state === "done", 60_000)).toBe(true);
    const result = (await images.get(digest))?.doc.result;
    expect(result?.dbVersion).not.toBe("none");
    // util-linux's advisory reaches the binary bsdutils through its source; Debian 11's zlib record does not apply to Debian 12.
    expect(result?.findings.map((f) => [f.id, f.packageName, f.sourcePackage, f.fixedVersion])).toEqual([["DSA-9999-1", "bsdutils", "util-linux", "2.38.1-5+deb12u1"]]);
    expect(result?.coverageGaps.map((g) => g.kind)).not.toContain("no-vulnerability-db");

    // The report is made on request from the stored SBOM: the same findings, with the records' summaries.
    const sarif = await fetch(`${host.host.url}api/images/${digest}/report?format=sarif`, { headers: { "x-functions-key": host.readKey } });
    expect(sarif.status).toBe(200);
    const run = ((await sarif.json()) as { runs: { results: { ruleId: string }[]; tool: { driver: { rules: { id: string; shortDescription: { text: string } }[] } }; properties: { dbVersion: string } }[] }).runs[0];
    expect(run?.results.map((x) => x.ruleId)).toEqual(["DSA-9999-1"]);
    expect(run?.tool.driver.rules.map((x) => x.shortDescription.text)).toEqual(["util-linux: wall escape sequences"]);
    expect(run?.properties.dbVersion).toBe(result?.dbVersion);
    const verdict = await fetch(`${host.host.url}api/verdicts/${digest}`, { headers: { "x-functions-key": host.readKey } });
    expect(verdict.status).toBe(200);
    expect(((await verdict.json()) as { dbVersion?: string; verdict?: string }).dbVersion).toBe(result?.dbVersion);
  }, 120_000);
});
