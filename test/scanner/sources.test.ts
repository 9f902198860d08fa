import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { DirectoryBlobStore } from "../../shared/blobs/directory-blobs.js";
import { ANALYZERS } from "../../shared/scanner/analyzers/index.js";
import { BlobLayerCache } from "../../shared/scanner/cache.js";
import { indexImage } from "../../shared/scanner/indexer.js";
import { DEFAULT_SCAN_LIMITS } from "../../shared/scanner/limits.js";
import { dockerArchiveSource } from "../../shared/scanner/sources/docker-archive.js";
import { ociLayoutSource } from "../../shared/scanner/sources/oci-layout.js";
import { buildImage, sha256, tar, writeOciLayout } from "../helpers/images.js";

/**
 * Image sources on disk against tampered content: a layer (or manifest) whose bytes do not match
 * the digest it is named by fails the scan with `IMAGE.DIGEST_MISMATCH` naming the layer, and
 * nothing it produced reaches the per-layer cache. Also the two docker-archive shapes: classic
 * `docker save` (`<id>/layer.tar`, `<hex>.json`) and Docker 25+ (`blobs/sha256/<hex>` for every
 * member, the config included).
 */

const DEBIAN_12 = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n';
const STATUS = "Package: libc6\nStatus: install ok installed\nArchitecture: amd64\nVersion: 2.36-9\n";
const FILES = { "etc/os-release": DEBIAN_12, "var/lib/dpkg/status": STATUS };
const TAMPERED = { "etc/os-release": DEBIAN_12, "var/lib/dpkg/status": STATUS.replace("2.36-9", "9.99-9") };
const work = mkdtempSync(join(tmpdir(), "scanhook-sources-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

let n = 0;
const fresh = (): string => join(work, String(++n));

function cacheIn(dir: string): BlobLayerCache {
  return new BlobLayerCache(new DirectoryBlobStore(dir));
}
const entriesUnder = (dir: string): string[] => {
  try {
    return readdirSync(dir, { recursive: true }).map(String);
  } catch {
    return [];
  }
};

/** A classic `docker save` archive: uncompressed `<n>/layer.tar`, cached and verified by diff id. */
function classicArchive(path: string, layerTar: Buffer, diffId: string): void {
  const config = Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [diffId] } }));
  const configName = `${sha256(config).slice(7)}.json`;
  writeFileSync(path, tar({ "manifest.json": JSON.stringify([{ Config: configName, RepoTags: ["t:1"], Layers: ["0/layer.tar"] }]), [configName]: config, "0/layer.tar": layerTar }));
}

/** A Docker 25+ archive: every member under `blobs/sha256/<hex>`, gzip layers allowed. */
function blobsArchive(path: string, layer: Buffer, layerDigest: string, diffId: string): void {
  const config = Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [diffId] } }));
  const configName = `blobs/sha256/${sha256(config).slice(7)}`;
  const layerName = `blobs/sha256/${layerDigest.slice(7)}`;
  writeFileSync(path, tar({ "manifest.json": JSON.stringify([{ Config: configName, RepoTags: ["t:1"], Layers: [layerName] }]), [configName]: config, [layerName]: layer }));
}

describe("docker-archive", () => {
  it("classic docker save: indexes, and caches the layer under its diff id", async () => {
    const layer = tar(FILES);
    const path = `${fresh()}.tar`;
    classicArchive(path, layer, sha256(layer));
    const cacheDir = fresh();
    const r = await indexImage(await dockerArchiveSource(path, { limits: DEFAULT_SCAN_LIMITS }), { analyzers: ANALYZERS, limits: DEFAULT_SCAN_LIMITS, cache: cacheIn(cacheDir) });
    expect(r.facts.packages.map((p) => `${p.name} ${p.version}`)).toEqual(["libc6 2.36-9"]);
    expect(entriesUnder(cacheDir).some((e) => e.includes(sha256(layer).slice(7)))).toBe(true);
  });

  it("Docker 25+ layout (config named blobs/sha256/<hex>, gzip layer): indexes", async () => {
    const layerTar = tar(FILES);
    const layer = gzipSync(layerTar);
    const path = `${fresh()}.tar`;
    blobsArchive(path, layer, sha256(layer), sha256(layerTar));
    const r = await indexImage(await dockerArchiveSource(path, { limits: DEFAULT_SCAN_LIMITS }), { analyzers: ANALYZERS, limits: DEFAULT_SCAN_LIMITS });
    expect(r.facts.packages.map((p) => `${p.name} ${p.version}`)).toEqual(["libc6 2.36-9"]);
    expect(r.facts.distribution).toBe("Debian:12");
  });

  it("a layer whose bytes do not match its diff id: IMAGE.DIGEST_MISMATCH naming the layer, nothing cached", async () => {
    const path = `${fresh()}.tar`;
    classicArchive(path, tar(TAMPERED), sha256(tar(FILES)));
    const cacheDir = fresh();
    const source = await dockerArchiveSource(path, { limits: DEFAULT_SCAN_LIMITS });
    await expect(indexImage(source, { analyzers: ANALYZERS, limits: DEFAULT_SCAN_LIMITS, cache: cacheIn(cacheDir) })).rejects.toMatchObject({
      code: "IMAGE.DIGEST_MISMATCH",
      message: expect.stringMatching(/docker-archive:.*layer 1: content does not match its digest sha256:[a-f0-9]{64}/)
    });
    expect(entriesUnder(cacheDir).filter((e) => e.endsWith(".json"))).toEqual([]);
  });

  it("a blobs/sha256 layer whose bytes do not match its name: IMAGE.DIGEST_MISMATCH, nothing cached", async () => {
    const good = gzipSync(tar(FILES));
    const path = `${fresh()}.tar`;
    blobsArchive(path, gzipSync(tar(TAMPERED)), sha256(good), sha256(tar(FILES)));
    const cacheDir = fresh();
    const source = await dockerArchiveSource(path, { limits: DEFAULT_SCAN_LIMITS });
    await expect(indexImage(source, { analyzers: ANALYZERS, limits: DEFAULT_SCAN_LIMITS, cache: cacheIn(cacheDir) })).rejects.toMatchObject({ code: "IMAGE.DIGEST_MISMATCH" });
    expect(entriesUnder(cacheDir).filter((e) => e.endsWith(".json"))).toEqual([]);
  });
});

describe("OCI layout", () => {
  const image = buildImage({ layers: [FILES] });
  const layerHex = image.layers[0]?.digest.slice(7) ?? "";

  it("indexes an untouched layout", async () => {
    const dir = fresh();
    await writeOciLayout(dir, image, "v1");
    const r = await indexImage(await ociLayoutSource(dir, "v1", { limits: DEFAULT_SCAN_LIMITS, platforms: [] }), { analyzers: ANALYZERS, limits: DEFAULT_SCAN_LIMITS });
    expect(r.facts.packages.map((p) => p.name)).toEqual(["libc6"]);
  });

  it("a layer blob replaced by other bytes: IMAGE.DIGEST_MISMATCH naming the layer, nothing cached", async () => {
    const dir = fresh();
    await writeOciLayout(dir, image, "v1");
    await writeFile(join(dir, "blobs", "sha256", layerHex), gzipSync(tar(TAMPERED)));
    const cacheDir = fresh();
    const source = await ociLayoutSource(dir, "v1", { limits: DEFAULT_SCAN_LIMITS, platforms: [] });
    await expect(indexImage(source, { analyzers: ANALYZERS, limits: DEFAULT_SCAN_LIMITS, cache: cacheIn(cacheDir) })).rejects.toMatchObject({
      code: "IMAGE.DIGEST_MISMATCH",
      message: expect.stringContaining(`oci:${dir}:v1 layer 1: content does not match its digest ${image.layers[0]?.digest ?? ""}`)
    });
    expect(entriesUnder(cacheDir).filter((e) => e.endsWith(".json"))).toEqual([]);
  });

  it("a manifest blob replaced by other bytes: IMAGE.DIGEST_MISMATCH before any layer is read", async () => {
    const dir = fresh();
    await writeOciLayout(dir, image, "v1");
    const other = buildImage({ layers: [TAMPERED] });
    await mkdir(join(dir, "blobs", "sha256"), { recursive: true });
    await writeFile(join(dir, "blobs", "sha256", image.manifest.digest.slice(7)), other.manifest.bytes);
    await expect(ociLayoutSource(dir, "v1", { limits: DEFAULT_SCAN_LIMITS, platforms: [] })).rejects.toMatchObject({
      code: "IMAGE.DIGEST_MISMATCH",
      message: expect.stringContaining(`does not match its digest ${image.manifest.digest}`)
    });
  });
});
