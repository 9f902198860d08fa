import { writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VulnDb } from "../../shared/vulndb/db/reader.js";
import { updateFromExport } from "../../shared/vulndb/update.js";
import { expandRanges } from "../../shared/vulndb/versions/ranges.js";
import { ExportServer, fixedRecord } from "./export-server.js";
import { tempDir } from "./support.js";

const osvServer = new ExportServer();
const { files, fetched } = osvServer;
let base: string;
const t = tempDir("download");

beforeAll(async () => {
  base = await osvServer.start();
});
afterAll(async () => {
  await osvServer.close();
  t.remove();
});

describe("OSV export download", () => {
  const out = join(t.dir, "vulndb.sqlite");
  const npm = [fixedRecord("GHSA-aaaa-0001-xxxx", "npm", "a", "2024-01-01T00:00:00Z", "1.0.0"), fixedRecord("GHSA-bbbb-0001-xxxx", "npm", "b", "2024-02-01T00:00:00Z", "2.0.0")];
  const debian = [fixedRecord("DSA-1000-1", "Debian:12", "openssl", "2024-01-15T00:00:00Z", "3.0.11-1~deb12u2")];

  it("a first build fetches each ecosystem's all.zip and nothing else", async () => {
    osvServer.publish("npm", npm);
    osvServer.publish("Debian", debian);
    const outcome = await updateFromExport({ out, osvBaseUrl: base, ecosystems: ["npm", "Debian"], now: new Date("2024-03-01T00:00:00Z") });
    expect(outcome.changed).toBe(true);
    expect(fetched.map((f) => f.path)).toEqual(["/npm/all.zip", "/Debian/all.zip"]);
    const db = VulnDb.open(out);
    expect(db.info.records).toBe(3);
    expect(db.info.sources.map((s) => [s.name, s.watermark])).toEqual([
      ["osv:Debian", "2024-01-15T00:00:00.000Z"],
      ["osv:npm", "2024-02-01T00:00:00.000Z"]
    ]);
    db.close();
  });

  it("an update reads modified_id.csv down to the watermark and fetches only the records modified since", async () => {
    fetched.length = 0;
    const changed = fixedRecord("GHSA-aaaa-0001-xxxx", "npm", "a", "2024-03-05T00:00:00Z", "1.0.1");
    const added = fixedRecord("GHSA-cccc-0001-xxxx", "npm", "c", "2024-03-04T00:00:00Z", "3.0.0");
    osvServer.publish("npm", [changed, npm[1] as Record<string, unknown>, added]);
    const outcome = await updateFromExport({ out, osvBaseUrl: base, ecosystems: ["npm", "Debian"], now: new Date("2024-03-06T00:00:00Z") });
    expect(outcome.changed).toBe(true);
    expect(fetched.map((f) => f.path)).toEqual(["/npm/modified_id.csv", "/Debian/modified_id.csv", "/npm/GHSA-aaaa-0001-xxxx.json", "/npm/GHSA-cccc-0001-xxxx.json"]);
    const jsonBytes = fetched.filter((f) => f.path.endsWith(".json")).reduce((n, f) => n + f.bytes, 0);
    expect(jsonBytes).toBe(JSON.stringify(changed).length + JSON.stringify(added).length);
    const db = VulnDb.open(out);
    expect(db.info.records).toBe(4);
    expect(expandRanges(db.affected("npm", "a").ranges[0] ?? 0)?.[0]).toEqual(["ECOSYSTEM", "introduced", "0", "fixed", "1.0.1"]);
    expect(db.info.sources.find((s) => s.name === "osv:npm")?.watermark).toBe("2024-03-05T00:00:00.000Z");
    db.close();
  });

  it("nothing modified: only the CSVs are read and the DB is left as it is", async () => {
    fetched.length = 0;
    const before = VulnDb.open(out);
    const version = before.version;
    before.close();
    const outcome = await updateFromExport({ out, osvBaseUrl: base, ecosystems: ["npm", "Debian"], now: new Date("2024-03-07T00:00:00Z") });
    expect(outcome).toMatchObject({ changed: false, version });
    expect(fetched.map((f) => f.path)).toEqual(["/npm/modified_id.csv", "/Debian/modified_id.csv"]);
  });

  it("fetches Red Hat's repository-to-cpe.json into the content-set map", async () => {
    files.set("/redhat/repository-to-cpe.json", Buffer.from(JSON.stringify({ data: { "rhel-9-for-x86_64-baseos-rpms": { cpes: ["cpe:/o:redhat:enterprise_linux:9::baseos"] }, "no-cpes": {} } })));
    await updateFromExport({ out, osvBaseUrl: base, ecosystems: ["npm"], redHatCpeUrl: `${base}/redhat/repository-to-cpe.json`, now: new Date("2024-03-08T00:00:00Z") });
    const db = VulnDb.open(out);
    expect(db.cpesOfRepository("rhel-9-for-x86_64-baseos-rpms")).toEqual(["cpe:/o:redhat:enterprise_linux:9::baseos"]);
    expect(db.info.repositoryCpes).toBe(1);
    expect(db.info.records).toBe(4);
    db.close();
  });

  it("a DB this version cannot read (an older format, a damaged file) is built again from every source, and says so", async () => {
    const stale = join(t.dir, "stale.sqlite");
    writeFileSync(stale, "not a scanhook DB");
    osvServer.publish("npm", npm);
    fetched.length = 0;
    const lines: string[] = [];
    const outcome = await updateFromExport({ out: stale, osvBaseUrl: base, ecosystems: ["npm"], now: new Date("2024-03-01T00:00:00Z"), onProgress: (l) => lines.push(l) });
    expect(outcome.changed).toBe(true);
    expect(fetched.map((f) => f.path)).toEqual(["/npm/all.zip"]);
    expect(lines.some((l) => l.includes("building a new DB from every source"))).toBe(true);
    const db = VulnDb.open(stale);
    expect(db.info.records).toBe(2);
    db.close();
  });

  it("an unreachable export is a clear error naming the URL, and the DB is untouched", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const err = join(t.dir, "never.sqlite");
    await expect(updateFromExport({ out: err, osvBaseUrl: `http://127.0.0.1:${port}`, ecosystems: ["npm"], now: new Date() })).rejects.toMatchObject({
      code: "VULNDB.SOURCE_UNREACHABLE",
      message: expect.stringContaining(`127.0.0.1:${port}/npm/all.zip`)
    });
  });
});
