import { execFile } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import type { FileVersion } from "../../shared/scanner/analyzer.js";
import { rpmAnalyzer } from "../../shared/scanner/analyzers/rpm.js";
import { parseRpmHeader } from "../../shared/scanner/analyzers/rpm-header.js";
import { readNdbBlobs } from "../../shared/scanner/analyzers/rpm-ndb.js";

/**
 * The rpm analyzer against real databases (test/fixtures/rpmdb, see its README), with Debian's
 * own `rpm` as the truth for SQLite and Berkeley DB; NDB has no reader here, so its result is
 * checked for consistency.
 */

const run = promisify(execFile);
const fixtures = new URL("../fixtures/rpmdb/", import.meta.url);
const QF = "%{NAME}\\t%{EPOCH}\\t%{VERSION}\\t%{RELEASE}\\t%{ARCH}\\t%{SOURCERPM}\\n";
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function truth(file: string, backend: string): Promise<string[]> {
  const d = mkdtempSync(join(tmpdir(), "scanhook-rpmdb-"));
  dirs.push(d);
  const name = file.slice(file.lastIndexOf("/") + 1);
  copyFileSync(new URL(file, fixtures), join(d, name));
  const { stdout } = await run("rpm", ["--define", `_db_backend ${backend}`, "--dbpath", d, "-qa", "--qf", QF], { maxBuffer: 16 * 1024 * 1024 });
  return stdout
    .split("\n")
    .filter((l) => l !== "" && !l.startsWith("gpg-pubkey\t"))
    .sort();
}

function ours(file: string, path: string): { lines: string[]; warnings: readonly string[]; files: number } {
  const content = readFileSync(new URL(file, fixtures));
  const extraction = rpmAnalyzer.extract({ path, content });
  const versions: FileVersion<unknown>[] = [{ path, layerIndex: 0, layer: undefined, value: extraction.value, visible: true }];
  const out = rpmAnalyzer.combine(versions, { distribution: undefined, now: new Date() });
  const lines = out.packages.map((p) => {
    const m = /^(?:(\d+):)?(.+)-([^-]+)$/.exec(p.version);
    return [p.name, m?.[1] ?? "(none)", m?.[2], m?.[3], p.arch ?? "(none)", p.source === undefined ? "(none)" : `${p.source.name}-${(p.source.version ?? "").replace(/^\d+:/, "")}.src.rpm`].join("\t");
  });
  return { lines: lines.sort(), warnings: [...extraction.warnings, ...out.warnings], files: out.packages.reduce((n, p) => n + (p.files?.length ?? 0), 0) };
}

describe("os/rpm against Debian's rpm", () => {
  it("SQLite (CBL-Mariner 2.0): every package, epoch, version, release, arch and source RPM equal", async () => {
    const expected = await truth("cbl-mariner-2.0/rpmdb.sqlite", "sqlite");
    const got = ours("cbl-mariner-2.0/rpmdb.sqlite", "var/lib/rpm/rpmdb.sqlite");
    expect(expected.length).toBe(129);
    expect(got.warnings).toEqual([]);
    expect(got.lines).toEqual(expected);
    expect(got.files).toBeGreaterThan(1000);
  });

  it("Berkeley DB (RHEL 8, libuuid): equal", async () => {
    const expected = await truth("libuuid/Packages", "bdb_ro");
    const got = ours("libuuid/Packages", "var/lib/rpm/Packages");
    expect(got.warnings).toEqual([]);
    expect(got.lines).toEqual(expected);
    expect(expected).toEqual(["libuuid\t(none)\t2.32.1\t42.el8_8\tx86_64\tutil-linux-2.32.1-42.el8_8.src.rpm"]);
  });

  it("NDB (SLE 15 BCI): every header parses, names and versions are well-formed, source RPMs match", () => {
    const blobs = readNdbBlobs(readFileSync(new URL("sle15-bci/Packages.db", fixtures)));
    expect(blobs.warnings).toEqual([]);
    const headers = blobs.values.map(parseRpmHeader);
    expect(headers.length).toBeGreaterThan(20);
    const got = ours("sle15-bci/Packages.db", "usr/lib/sysimage/rpm/Packages.db");
    expect(got.warnings).toEqual([]);
    for (const h of headers) {
      expect(h.name).toMatch(/^[A-Za-z0-9._+-]+$/);
      expect(h.version).toMatch(/^[A-Za-z0-9._+~^]+$/);
      expect(h.release).toMatch(/^[A-Za-z0-9._+~^]+$/);
      if (h.name !== "gpg-pubkey") expect(h.sourceRpm).toMatch(/^.+-[^-]+-[^-]+\.(no)?src\.rpm$/);
    }
    expect(headers.map((h) => h.name)).toContain("glibc");
  });
});
