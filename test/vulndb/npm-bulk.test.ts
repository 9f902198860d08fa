import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import semver from "semver";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildVulnDb } from "../../shared/vulndb/db/build.js";
import { VulnDb } from "../../shared/vulndb/db/reader.js";
import { createMatcher } from "../../shared/vulndb/match/matcher.js";
import { convertSemverRange, NPM_BULK_PATH, npmBulkInput } from "../../shared/vulndb/npm-bulk.js";
import { facts, pkg, tempDir } from "./support.js";

/**
 * The npm bulk advisory endpoint, served on 127.0.0.1 in the shape the registry answers (per
 * package name: id, url, title, severity, vulnerable_versions, cwe, cvss): what scanhook posts,
 * the records it makes, and findings that agree with node-semver's `satisfies` on the same
 * versions and ranges.
 */

const t = tempDir("npm-bulk");
let server: Server;
let registry: string;
const requests: { method: string; path: string; type: string; body: unknown }[] = [];

const ADVISORIES: Record<string, object[]> = {
  lodash: [
    {
      id: 1106913,
      url: "https://github.com/advisories/GHSA-35jh-r3h4-6jhm",
      title: "Command Injection in lodash",
      severity: "high",
      vulnerable_versions: "<4.17.21",
      cwe: ["CWE-77", "CWE-94"],
      cvss: { score: 7.2, vectorString: "CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H" }
    },
    { id: 1094500, url: "https://github.com/advisories/GHSA-29mw-wpgm-hmr9", title: "ReDoS in lodash", severity: "moderate", vulnerable_versions: ">=4.0.0 <4.17.21 || <3.10.2", cwe: ["CWE-400"], cvss: { score: 5.3, vectorString: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L" } }
  ],
  minimist: [{ id: 1097677, url: "https://github.com/advisories/GHSA-xvch-5gv4-984h", title: "Prototype Pollution in minimist", severity: "critical", vulnerable_versions: "<=1.2.5", cwe: ["CWE-1321"], cvss: { score: 9.8, vectorString: null } }],
  // One advisory concerning two packages, and a range OSV cannot state exactly.
  "@babel/traverse": [{ id: 1096879, url: "https://github.com/advisories/GHSA-67hx-6x53-jw92", title: "Arbitrary code execution", severity: "critical", vulnerable_versions: "<7.23.2", cwe: [] }],
  "babel-traverse": [
    { id: 1096880, url: "https://github.com/advisories/GHSA-67hx-6x53-jw92", title: "Arbitrary code execution", severity: "critical", vulnerable_versions: ">= 0.0.0", cwe: [] },
    { id: 999, url: "https://github.com/advisories/GHSA-xxxx-xxxx-xxxx", title: "caret", severity: "low", vulnerable_versions: "^6.0.0", cwe: [] }
  ]
};

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (d: Buffer) => (body += d.toString()));
    req.on("end", () => {
      requests.push({ method: req.method ?? "", path: req.url ?? "", type: req.headers["content-type"] ?? "", body: JSON.parse(body === "" ? "null" : body) });
      if (req.method !== "POST" || req.url !== NPM_BULK_PATH) {
        res.writeHead(405).end();
        return;
      }
      const asked = Object.keys(JSON.parse(body) as Record<string, string[]>);
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(Object.fromEntries(asked.filter((n) => ADVISORIES[n] !== undefined).map((n) => [n, ADVISORIES[n]]))));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  registry = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  t.remove();
});

describe("convertSemverRange", () => {
  it.each([
    ["<4.17.21", { ok: true, ranges: [[{ introduced: "0" }, { fixed: "4.17.21" }]], versions: [] }],
    [">=4.0.0 <4.17.21 || <3.10.2", { ok: true, ranges: [[{ introduced: "4.0.0" }, { fixed: "4.17.21" }], [{ introduced: "0" }, { fixed: "3.10.2" }]], versions: [] }],
    ["<=1.2.5", { ok: true, ranges: [[{ introduced: "0" }, { last_affected: "1.2.5" }]], versions: [] }],
    [">= 0.0.0", { ok: true, ranges: [[{ introduced: "0.0.0" }]], versions: [] }],
    ["*", { ok: true, ranges: [[{ introduced: "0" }]], versions: [] }],
    ["1.0.2 || 2.0.0-beta.1", { ok: true, ranges: [], versions: ["1.0.2", "2.0.0-beta.1"] }]
  ])("%s", (range, expected) => expect(convertSemverRange(range)).toEqual(expected));

  it.each(["^6.0.0", "~1.2.3", ">1.0.0", "1.x", "1.0.0 - 2.0.0"])("refuses %s rather than approximating it", (range) => expect(convertSemverRange(range).ok).toBe(false));
});

describe("the npm bulk advisory source", () => {
  const installed = new Map([
    ["lodash", ["4.17.20", "4.17.21", "3.10.1", "3.10.2", "2.4.2"]],
    ["minimist", ["1.2.5", "1.2.6", "0.0.8"]],
    ["@babel/traverse", ["7.23.1", "7.23.2"]],
    ["babel-traverse", ["6.26.0"]],
    ["left-pad", ["1.3.0"]]
  ]);
  let db: VulnDb;

  beforeAll(async () => {
    const out = join(t.dir, "vulndb.sqlite");
    const report = await buildVulnDb({ out, inputs: [npmBulkInput(registry, installed, new Date("2024-06-01T00:00:00Z"))], now: new Date("2024-06-01T00:00:00Z") });
    expect(report.warnings.map((w) => [w.origin, w.reason])).toEqual([["GHSA-xxxx-xxxx-xxxx (babel-traverse)", 'vulnerable_versions "^6.0.0": "^6.0.0" is not a comparator OSV can express']]);
    db = VulnDb.open(out);
  });
  afterAll(() => db.close());

  it("posts the installed versions as one JSON map", () => {
    expect(requests).toEqual([{ method: "POST", path: NPM_BULK_PATH, type: "application/json", body: Object.fromEntries(installed) }]);
  });

  it("makes one record per advisory, with every package it concerns", () => {
    expect(db.info.records).toBe(4);
    expect(db.vuln("GHSA-67hx-6x53-jw92")).toBeDefined();
    expect(db.affected("npm", "@babel/traverse").vulnIds).toEqual(["GHSA-67hx-6x53-jw92"]);
    expect(db.affected("npm", "babel-traverse").vulnIds).toEqual(["GHSA-67hx-6x53-jw92"]);
  });

  it("finds exactly what semver.satisfies says of the same versions and ranges, with npm's severity", () => {
    const packages = [...installed].flatMap(([name, versions]) => versions.map((v) => pkg(name, v, "npm")));
    const outcome = createMatcher(db).match(facts(packages), new Date());
    const got = outcome.findings.map((f) => `${f.packageName}@${f.packageVersion} ${f.id}`).sort();
    const expected = Object.entries(ADVISORIES)
      .flatMap(([name, list]) =>
        (list as { url: string; vulnerable_versions: string }[]).flatMap((a) =>
          a.vulnerable_versions.startsWith("^") ? [] : (installed.get(name) ?? []).filter((v) => semver.satisfies(v, a.vulnerable_versions)).map((v) => `${name}@${v} ${a.url.split("/").pop() ?? ""}`)
        )
      )
      .sort();
    expect(got).toEqual(expected);
    expect(got.length).toBeGreaterThan(5);
    const minimist = outcome.findings.find((f) => f.packageName === "minimist");
    expect(minimist?.severity).toBe("critical");
    const lodash = outcome.findings.find((f) => f.id === "GHSA-35jh-r3h4-6jhm");
    expect([lodash?.severity, lodash?.score, lodash?.fixedVersion]).toEqual(["high", 7.2, "4.17.21"]);
  });

  it("an endpoint that refuses the POST (as these machines' registry access does) is a clear error", async () => {
    const input = npmBulkInput(`${registry}refuses`, installed, new Date());
    await expect(buildVulnDb({ out: join(t.dir, "never.sqlite"), inputs: [input], now: new Date() })).rejects.toMatchObject({ code: "VULNDB.SOURCE_FAILED", message: expect.stringContaining("405") });
  });
});
