import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../cli/main.js";
import { VulnDb } from "../../shared/vulndb/db/reader.js";
import { ExportServer, fixedRecord, zipOf } from "./export-server.js";
import { tempDir, writeRecords } from "./support.js";

/** `scanhook db build | update | info | fetch` as a user runs them, against files and a server on 127.0.0.1. */

const server = new ExportServer();
const { files } = server;
let base: string;
const t = tempDir("cli-db");

beforeAll(async () => {
  base = await server.start();
});
afterAll(async () => {
  await server.close();
  t.remove();
});

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, (l) => out.push(l), (l) => err.push(l));
  return { code, out: out.join("\n"), err: err.join("\n") };
}

describe("scanhook db", () => {
  const debian = [fixedRecord("DSA-1000-1", "Debian:12", "openssl", "2024-01-15T00:00:00Z", "3.0.11-1~deb12u2")];
  const npm = [fixedRecord("GHSA-aaaa-0001-xxxx", "npm", "a", "2024-01-01T00:00:00Z", "1.0.0"), fixedRecord("GHSA-bbbb-0001-xxxx", "npm", "b", "2024-02-01T00:00:00Z", "2.0.0")];
  const built = join(t.dir, "built.sqlite");

  it("build takes directories, zips and URLs together, skips a bad record with a warning, and info describes the result", async () => {
    const dir = join(t.dir, "osv-dir");
    writeRecords(dir, debian);
    writeFileSync(join(dir, "broken.json"), "{ not json");
    const zip = join(t.dir, "npm-all.zip");
    writeFileSync(zip, zipOf(npm.slice(0, 1)));
    files.set("/PyPI/all.zip", zipOf([fixedRecord("PYSEC-2024-1", "PyPI", "django", "2024-03-01T00:00:00Z", "4.2.1")]));
    const build = await run(["db", "build", "--osv", dir, "--osv", zip, "--osv", `${base}/PyPI/all.zip`, "--out", built]);
    expect(build.code, build.err).toBe(0);
    expect(build.out).toMatch(new RegExp(`^${built.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: version \\S+, 3 records \\(0 withdrawn dropped, 1 invalid skipped\\)$`));
    expect(build.err).toContain("skipped");
    expect(build.err).toContain("broken.json");

    const info = await run(["db", "info", "--db", built, "--json"]);
    expect(info.code).toBe(0);
    const parsed = JSON.parse(info.out) as { path: string; version: string; records: number; ecosystems: Record<string, number>; sources: { name: string; records: number; warnings: number }[] };
    expect(parsed.path).toBe(built);
    expect(parsed.records).toBe(3);
    expect(parsed.ecosystems).toEqual({ "Debian:12": 1, npm: 1, PyPI: 1 });
    expect(parsed.sources.map((s) => [s.records, s.warnings])).toEqual(expect.arrayContaining([[1, 1], [1, 0], [1, 0]]));
    const text = await run(["db", "info", "--db", built]);
    expect(text.out).toContain(`  version   ${parsed.version}`);
    expect(text.out).toContain("  records   3");
    expect(text.out).toMatch(/built {5}\S+ \(\d+\.\d (hours|days) ago\)/);
  });

  it("update builds from the export at --osv-base, then fetches only what changed", async () => {
    const target = join(t.dir, "updated.sqlite");
    server.publish("Debian", debian);
    files.set("/redhat/repository-to-cpe.json", Buffer.from(JSON.stringify({ data: { "rhel-9-for-x86_64-baseos-rpms": { cpes: ["cpe:/o:redhat:enterprise_linux:9::baseos"] } } })));
    server.fetched.length = 0;
    const first = await run(["db", "update", "--db", target, "--osv-base", base, "--ecosystems", "Debian", "--redhat-cpe", `${base}/redhat/repository-to-cpe.json`]);
    expect(first.code, first.err).toBe(0);
    expect(first.out).toMatch(/: version \S+, 1 records$/);
    expect(server.paths().sort()).toEqual(["/Debian/all.zip", "/redhat/repository-to-cpe.json"]);
    expect(JSON.parse((await run(["db", "info", "--db", target, "--json"])).out)).toMatchObject({ records: 1, repositoryCpes: 1 });

    // `none` skips the Red Hat map: nothing but the CSV is read.
    server.fetched.length = 0;
    const again = await run(["db", "update", "--db", target, "--osv-base", base, "--ecosystems", "Debian", "--redhat-cpe", "none"]);
    expect(again.code).toBe(0);
    expect(again.out).toMatch(/: up to date \(version \S+\)$/);
    expect(server.paths()).toEqual(["/Debian/modified_id.csv"]);
  });

  it("fetch downloads a built DB from a mirror, checks it opens, and refuses a file that is no DB", async () => {
    files.set("/mirror/vulndb.sqlite", readFileSync(built));
    const target = join(t.dir, "fetched.sqlite");
    const r = await run(["db", "fetch", "--url", `${base}/mirror/vulndb.sqlite`, "--out", target]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/: version \S+, 3 records$/);
    const db = VulnDb.open(target);
    expect(db.info.records).toBe(3);
    db.close();

    files.set("/mirror/not-a-db", Buffer.from("hello"));
    const bad = await run(["db", "fetch", "--url", `${base}/mirror/not-a-db`, "--out", join(t.dir, "bad.sqlite")]);
    expect(bad.code).not.toBe(0);
    expect(bad.err).toContain("VULNDB.INVALID");
  });

  it("says what is missing, with exit 2", async () => {
    for (const args of [["db"], ["db", "build"], ["db", "fetch"], ["db", "frob"], ["db", "info", "extra"]]) {
      const r = await run(args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.err, args.join(" ")).not.toBe("");
    }
  });
});
