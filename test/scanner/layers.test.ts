import { spawnSync } from "node:child_process";
import { Readable } from "node:stream";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import type { Digest } from "../../shared/domain/digest.js";
import { ANALYZERS } from "../../shared/scanner/analyzers/index.js";
import { indexImage, type ImageSource } from "../../shared/scanner/indexer.js";
import { readLayer } from "../../shared/scanner/layer.js";
import { DEFAULT_SCAN_LIMITS, type ScanLimits } from "../../shared/scanner/limits.js";
import { sha256, tar, type Files } from "../helpers/images.js";

/**
 * Layer walking on layers built by code: compressions, whiteouts across layers, links inside the
 * root, and every hostile shape the indexer must refuse with a clear error or a warning.
 */

const NOW = new Date("2026-11-23T00:00:00Z");
const STATUS = (pkgs: readonly [string, string, string?][]): string =>
  pkgs.map(([name, version, source]) => `Package: ${name}\nStatus: install ok installed\nArchitecture: amd64\n${source === undefined ? "" : `Source: ${source}\n`}Version: ${version}\nDescription: x\n multi-line\n`).join("\n");
const DEBIAN_12 = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n';

function source(layers: readonly Buffer[], limits: ScanLimits = DEFAULT_SCAN_LIMITS): ImageSource {
  void limits;
  return {
    name: "test",
    digest: undefined,
    layers: layers.map((bytes) => ({
      digest: sha256(bytes) as Digest,
      diffId: undefined,
      size: bytes.length,
      read: (analyzers, options) => readLayer(Readable.from([bytes]), analyzers, options)
    }))
  };
}

async function index(layers: readonly Buffer[], limits: ScanLimits = DEFAULT_SCAN_LIMITS) {
  return indexImage(source(layers), { analyzers: ANALYZERS, limits, now: NOW });
}

function zstd(bytes: Buffer): Buffer {
  const r = spawnSync("zstd", ["-q", "-c", "-"], { input: bytes, maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`zstd failed: ${r.stderr.toString()}`);
  return r.stdout;
}

/** A tar with one raw header, for entries the helper will not write (links, `..`). */
function rawEntry(path: string, type: string, linkTarget = "", body = Buffer.alloc(0)): Buffer {
  const header = Buffer.alloc(512);
  header.write(path, 0, 100, "utf8");
  header.write("0000644\0", 100, "ascii");
  header.write("0000000\0", 108, "ascii");
  header.write("0000000\0", 116, "ascii");
  header.write(`${body.length.toString(8).padStart(11, "0")}\0`, 124, "ascii");
  header.write("00000000000\0", 136, "ascii");
  header.write("        ", 148, "ascii");
  header.write(type, 156, "ascii");
  header.write(linkTarget, 157, 100, "utf8");
  header.write("ustar\0", 257, "ascii");
  header.write("00", 263, "ascii");
  let sum = 0;
  for (const b of header) sum += b;
  header.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "ascii");
  const pad = Buffer.alloc((512 - (body.length % 512)) % 512);
  return Buffer.concat([header, body, pad]);
}

function archive(...entries: Buffer[]): Buffer {
  return Buffer.concat([...entries, Buffer.alloc(1024)]);
}

const base: Files = { "etc/": "", "etc/os-release": DEBIAN_12, "var/lib/dpkg/status": STATUS([["libc6", "2.36-9+deb12u4", "glibc"], ["bash", "5.2.15-2+b7", "bash (5.2.15-2)"]]) };

describe("layers", () => {
  it("reads gzip, zstd and plain tar layers alike", async () => {
    for (const wrap of [gzipSync, zstd, (b: Buffer) => b]) {
      const r = await index([wrap(tar(base))]);
      expect(r.facts.distribution).toBe("Debian:12");
      expect(r.facts.packages.map((p) => [p.name, p.version, p.source?.name, p.source?.version])).toEqual([
        ["libc6", "2.36-9+deb12u4", "glibc", "2.36-9+deb12u4"],
        ["bash", "5.2.15-2+b7", "bash", "5.2.15-2"]
      ]);
      expect(r.facts.packages[1]?.purl).toBe("pkg:deb/debian/bash@5.2.15-2%2Bb7?arch=amd64&distro=debian-12");
    }
  });

  it("a package removed in a later layer is not reported, and each package keeps the layer that last changed it", async () => {
    const l1 = tar(base);
    const l2 = tar({ "var/lib/dpkg/status": STATUS([["libc6", "2.36-9+deb12u9", "glibc"], ["bash", "5.2.15-2+b7", "bash (5.2.15-2)"], ["curl", "7.88.1-10"]]) });
    const l3 = tar({ "var/lib/dpkg/status": STATUS([["libc6", "2.36-9+deb12u9", "glibc"], ["bash", "5.2.15-2+b7", "bash (5.2.15-2)"]]) });
    const r = await index([gzipSync(l1), gzipSync(l2), gzipSync(l3)]);
    expect(r.facts.packages.map((p) => [p.name, p.version, p.layer])).toEqual([
      ["libc6", "2.36-9+deb12u9", sha256(gzipSync(l2))],
      ["bash", "5.2.15-2+b7", sha256(gzipSync(l1))]
    ]);
  });

  it("whiteouts apply across layers: a deleted database and an opaque directory hide what is below", async () => {
    const alpine = { "etc/os-release": "ID=alpine\nVERSION_ID=3.22.1\n", "lib/apk/db/installed": "P:musl\nV:1.2.5-r10\nA:x86_64\no:musl\nF:lib\nR:ld-musl-x86_64.so.1\n\n" };
    const deleted = await index([gzipSync(tar(alpine)), gzipSync(tar({ "lib/apk/db/.wh.installed": "" }))]);
    expect(deleted.facts.packages).toEqual([]);
    const opaque = await index([gzipSync(tar(alpine)), gzipSync(tar({ "lib/apk/.wh..wh..opq": "" }))]);
    expect(opaque.facts.packages).toEqual([]);
    const kept = await index([gzipSync(tar(alpine)), gzipSync(tar({ "lib/.wh.other": "" }))]);
    expect(kept.facts.packages.map((p) => [p.name, p.ecosystem, p.purl, p.files])).toEqual([
      ["musl", "Alpine:v3.22", "pkg:apk/alpine/musl@1.2.5-r10?arch=x86_64&distro=alpine-3.22.1", ["lib/ld-musl-x86_64.so.1"]]
    ]);
  });

  it("symlinks resolve inside the image root only: etc/os-release → ../usr/lib/os-release, and /etc/shadow stays in the image", async () => {
    const layer = archive(
      rawEntry("usr/lib/os-release", "0", "", Buffer.from(DEBIAN_12)),
      rawEntry("etc/os-release", "2", "../../../../usr/lib/os-release")
    );
    const r = await index([layer]);
    expect(r.facts.distribution).toBe("Debian:12");
    // An absolute link to a host file resolves in the image, where there is nothing scanhook read.
    const out = await index([archive(rawEntry("etc/os-release", "2", "/etc/shadow"))]);
    expect(out.facts.distribution).toBeUndefined();
    expect(out.warnings).toContain("os/release: etc/os-release links to etc/shadow, which is not a file scanhook read");
    expect(out.facts.coverageGaps).toEqual([{ kind: "distro-unknown", detail: "no os-release file: the distribution is unknown" }]);
  });

  it("`../` and absolute entry paths: climbing out is a warning and ignored, a leading / is dropped", async () => {
    const layer = archive(
      rawEntry("../../etc/os-release", "0", "", Buffer.from("ID=evil\n")),
      rawEntry("/etc/os-release", "0", "", Buffer.from(DEBIAN_12))
    );
    const r = await index([layer]);
    expect(r.facts.distribution).toBe("Debian:12");
    expect(r.warnings).toEqual(['layer 1: entry "../../etc/os-release" climbs out of the image root with "..": ignored']);
  });

  it("a truncated gzip is LAYER.CORRUPT", async () => {
    const gz = gzipSync(tar(base));
    await expect(index([gz.subarray(0, gz.length - 40)])).rejects.toMatchObject({ code: "LAYER.CORRUPT" });
  });

  it("a truncated tar is LAYER.CORRUPT", async () => {
    const t = tar(base);
    await expect(index([t.subarray(0, 700)])).rejects.toMatchObject({ code: "LAYER.CORRUPT" });
  });

  it("a decompression bomb stops at the uncompressed limit (LAYER.TOO_LARGE) without inflating it all", async () => {
    // 1 GiB of zeros inside one entry gzips to about 1 MiB.
    const zeros = Buffer.alloc(64 * 1024 * 1024);
    const header = rawEntry("big", "0", "", Buffer.alloc(0)).subarray(0, 512);
    const big = Buffer.from(header);
    big.write(`${(1024 ** 3).toString(8).padStart(11, "0")}\0`, 124, "ascii");
    big.write("        ", 148, "ascii");
    let sum = 0;
    for (const b of big) sum += b;
    big.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "ascii");
    const { createGzip } = await import("node:zlib");
    const gz = createGzip();
    const chunks: Buffer[] = [];
    gz.on("data", (c: Buffer) => chunks.push(c));
    const done = new Promise((r) => gz.on("end", r));
    gz.write(big);
    for (let i = 0; i < 16; i++) gz.write(zeros);
    gz.end();
    await done;
    const bomb = Buffer.concat(chunks);
    expect(bomb.length).toBeLessThan(4 * 1024 * 1024);
    await expect(index([bomb], { ...DEFAULT_SCAN_LIMITS, maxLayerUncompressedBytes: 100 * 1024 * 1024 })).rejects.toMatchObject({
      code: "LAYER.TOO_LARGE",
      message: "the layer's uncompressed size exceeds the limit of 104857600"
    });
  });

  it("a million tiny entries stop at the entry limit (LAYER.TOO_MANY_ENTRIES)", async () => {
    const one = rawEntry("f", "0");
    const entries = Buffer.concat(Array.from({ length: 1_000_000 }, () => one));
    const layer = gzipSync(Buffer.concat([entries, Buffer.alloc(1024)]));
    await expect(index([layer], { ...DEFAULT_SCAN_LIMITS, maxEntries: 500_000 })).rejects.toMatchObject({ code: "LAYER.TOO_MANY_ENTRIES" });
    // Under a higher limit the same layer is read, and holds nothing scanhook knows.
    const r = await index([layer], { ...DEFAULT_SCAN_LIMITS, maxEntries: 2_000_000 });
    expect(r.facts.packages).toEqual([]);
  });

  it("a path longer than the limit is LAYER.PATH_TOO_LONG", async () => {
    const layer = archive(rawEntry("a".repeat(90), "0", "", Buffer.from("x")));
    await expect(index([layer], { ...DEFAULT_SCAN_LIMITS, maxPathBytes: 64 })).rejects.toMatchObject({ code: "LAYER.PATH_TOO_LONG" });
  });

  it("a file larger than the analyzer limit is skipped with a warning", async () => {
    const r = await index([gzipSync(tar(base))], { ...DEFAULT_SCAN_LIMITS, maxFileBytes: 50 });
    expect(r.facts.packages).toEqual([]);
    expect(r.warnings.some((w) => w.startsWith("var/lib/dpkg/status: ") && w.endsWith("larger than the file limit of 50: not read"))).toBe(true);
  });

  it("corrupt package databases give partial results and warnings", async () => {
    const status = `${STATUS([["libc6", "2.36-9"]])}\nStatus: install ok installed\nVersion: 1\n\n${STATUS([["zlib1g", "1:1.2.13.dfsg-1"]])}`;
    const r = await index([gzipSync(tar({ "etc/os-release": DEBIAN_12, "var/lib/dpkg/status": status, "var/lib/rpm/rpmdb.sqlite": "not sqlite at all", "lib/apk/db/installed": "V:1\n\nP:x\nV:1-r0\n" }))]);
    expect(r.facts.packages.map((p) => `${p.analyzer} ${p.name} ${p.version}`)).toEqual(["os/dpkg libc6 2.36-9", "os/dpkg zlib1g 1:1.2.13.dfsg-1", "os/apk x 1-r0"]);
    expect(r.warnings).toEqual([
      "os/dpkg: var/lib/dpkg/status:8: a stanza without Package or Version: skipped",
      "os/apk: lib/apk/db/installed:1: a stanza without P or V: skipped",
      "os/rpm: var/lib/rpm/rpmdb.sqlite: file is not a database"
    ]);
  });

  it("distroless dpkg status.d, with a source version that differs (binNMU)", async () => {
    const r = await index([gzipSync(tar({ "etc/os-release": DEBIAN_12, "var/lib/dpkg/status.d/libssl3": STATUS([["libssl3", "3.0.15-1~deb12u1", "openssl"]]), "var/lib/dpkg/status.d/tzdata": STATUS([["tzdata", "2024a-0+deb12u1"]]), "var/lib/dpkg/status.d/libssl3.md5sums": "x" }))]);
    expect(r.facts.packages.map((p) => [p.name, p.source?.name, p.source?.version])).toEqual([
      ["libssl3", "openssl", "3.0.15-1~deb12u1"],
      ["tzdata", "tzdata", "2024a-0+deb12u1"]
    ]);
  });

  it("an end-of-life or unknown distribution is a coverage gap, not a guess", async () => {
    const eol = await index([gzipSync(tar({ "etc/os-release": 'ID=debian\nVERSION_ID="10"\nPRETTY_NAME="Debian GNU/Linux 10 (buster)"\n' }))]);
    expect(eol.facts.distribution).toBe("Debian:10");
    expect(eol.facts.coverageGaps).toEqual([{ kind: "distro-eol", detail: "Debian GNU/Linux 10 (buster): security support ended on 2024-06-30" }]);
    const unknown = await index([gzipSync(tar({ "etc/os-release": 'ID=fedora\nVERSION_ID=41\nPRETTY_NAME="Fedora Linux 41"\n' }))]);
    expect(unknown.facts.distribution).toBeUndefined();
    expect(unknown.facts.coverageGaps).toEqual([{ kind: "distro-unknown", detail: "Fedora Linux 41 has no OSV ecosystem scanhook knows" }]);
  });
});
