import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Digest } from "../../shared/domain/digest.js";
import { ANALYZERS } from "../../shared/scanner/analyzers/index.js";
import { indexImage, type ImageIndex } from "../../shared/scanner/indexer.js";
import { DEFAULT_SCAN_LIMITS } from "../../shared/scanner/limits.js";
import { directorySource } from "../../shared/scanner/sources/directory.js";
import { ociLayoutSource } from "../../shared/scanner/sources/oci-layout.js";
import { sha256 } from "../helpers/images.js";
import { debianRootfs } from "./debian-rootfs.js";

/**
 * Exactness: a real debootstrapped Debian 12, packed into an image by GNU tar, scanned, and
 * compared with what `dpkg-query` says about the same tree — every package, version, source
 * package and source version equal.
 */

const run = promisify(execFile);

describe("os/dpkg against dpkg-query on a debootstrapped Debian 12", () => {
  const work = mkdtempSync(join(tmpdir(), "scanhook-debian-"));
  let rootfs: string;
  let truth: string[];

  beforeAll(async () => {
    rootfs = await debianRootfs();
    const { stdout } = await run("dpkg-query", ["--admindir", join(rootfs, "var/lib/dpkg"), "-W", "-f", "${Package}\\t${Version}\\t${source:Package}\\t${source:Version}\\t${Architecture}\\n"]);
    truth = stdout.split("\n").filter((l) => l !== "").sort();
  }, 20 * 60_000);
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  const lines = (r: ImageIndex): string[] => r.facts.packages.map((p) => [p.name, p.version, p.source?.name, p.source?.version, p.arch].join("\t")).sort();

  it("from the rootfs as a directory: equal", async () => {
    const r = await indexImage(directorySource(rootfs), { analyzers: ANALYZERS, limits: DEFAULT_SCAN_LIMITS });
    expect(truth.length).toBeGreaterThan(80);
    expect(lines(r)).toEqual(truth);
    expect(r.facts.distribution).toBe("Debian:12");
    // binNMUs: the source version differs from the binary's for some packages.
    expect(r.facts.packages.some((p) => p.source?.version !== p.version)).toBe(true);
  });

  it("packed by GNU tar into an OCI image (etc/os-release is a symlink there): equal", async () => {
    const layout = join(work, "layout");
    mkdirSync(join(layout, "blobs", "sha256"), { recursive: true });
    const layerPath = join(work, "layer.tar.gz");
    await run("tar", ["--numeric-owner", "-czf", layerPath, "-C", rootfs, "."], { maxBuffer: 1024 * 1024 });
    const layer = readFileSync(layerPath);
    const { stdout: diffIdHex } = await run("sh", ["-c", 'gzip -dc "$1" | sha256sum', "sh", layerPath]);
    const diffId = `sha256:${diffIdHex.slice(0, 64)}`;
    const write = (bytes: Buffer): { digest: string; size: number } => {
      const digest = sha256(bytes);
      writeFileSync(join(layout, "blobs", "sha256", digest.slice(7)), bytes);
      return { digest, size: bytes.length };
    };
    const l = write(layer);
    const config = write(Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [diffId] } })));
    const manifest = write(
      Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: "application/vnd.oci.image.manifest.v1+json",
          config: { mediaType: "application/vnd.oci.image.config.v1+json", ...config },
          layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", ...l }]
        })
      )
    );
    writeFileSync(join(layout, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
    writeFileSync(join(layout, "index.json"), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: "application/vnd.oci.image.manifest.v1+json", ...manifest, annotations: { "org.opencontainers.image.ref.name": "bookworm" } }] }));
    const r = await indexImage(await ociLayoutSource(layout, "bookworm", { limits: DEFAULT_SCAN_LIMITS, platforms: [] }), { analyzers: ANALYZERS, limits: DEFAULT_SCAN_LIMITS });
    expect(lines(r)).toEqual(truth);
    expect(r.facts.distribution).toBe("Debian:12");
    expect(new Set(r.facts.packages.map((p) => p.layer))).toEqual(new Set([diffId as Digest]));
    const bash = r.facts.packages.find((p) => p.name === "bash");
    expect(bash?.files).toContain("bin/bash");
    expect(r.warnings).toEqual([]);
  });
});
