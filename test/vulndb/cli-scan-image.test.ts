import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../cli/main.js";
import { buildVulnDb } from "../../shared/vulndb/db/build.js";
import { readLocalSource } from "../../shared/vulndb/sources.js";
import { osv, tempDir, writeRecords } from "./support.js";

/** `scanhook scan <image target>`: the image is indexed as `scanhook sbom` does, then matched. */
describe("scanhook scan dir:", () => {
  const t = tempDir("cli-scan-image");
  const rootfs = join(t.dir, "rootfs");
  const db = join(t.dir, "vulndb.sqlite");

  beforeAll(async () => {
    mkdirSync(join(rootfs, "etc"), { recursive: true });
    mkdirSync(join(rootfs, "var/lib/dpkg"), { recursive: true });
    writeFileSync(join(rootfs, "etc/os-release"), 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n');
    writeFileSync(
      join(rootfs, "var/lib/dpkg/status"),
      "Package: libuuid1\nStatus: install ok installed\nArchitecture: amd64\nSource: util-linux\nVersion: 2.38.1-5+b1\n\nPackage: zlib1g\nStatus: install ok installed\nArchitecture: amd64\nSource: zlib\nVersion: 1:1.2.13.dfsg-1\n"
    );
    const src = join(t.dir, "osv");
    writeRecords(src, [osv("DSA-9997-1", "Debian:12", "util-linux", [{ introduced: "0" }, { fixed: "2.38.1-5+deb12u1" }])]);
    await buildVulnDb({ out: db, inputs: [{ name: "osv-dir:test", kind: "osv-dir", location: src, records: readLocalSource(src) }], now: new Date("2026-11-01T00:00:00Z") });
  }, 60_000);
  afterAll(() => t.remove());

  it("reports the finding through the source package and exits with --exit-code", async () => {
    const lines: string[] = [];
    const progress: string[] = [];
    const code = await main(["scan", `dir:${rootfs}`, "--db", db, "--format", "json", "--no-cache", "--exit-code", "4"], (l) => lines.push(l), (l) => progress.push(l));
    expect(code).toBe(4);
    const report = JSON.parse(lines.join("\n")) as { findings: { id: string; packageName: string; sourcePackage?: string }[] };
    expect(report.findings.map((f) => [f.id, f.packageName, f.sourcePackage])).toEqual([["DSA-9997-1", "libuuid1", "util-linux"]]);
    expect(progress.some((l) => l.startsWith("layer 1/1"))).toBe(true);
  });
});
