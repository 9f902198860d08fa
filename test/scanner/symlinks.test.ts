import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { gzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import type { Digest } from "../../shared/domain/digest.js";
import { ANALYZERS } from "../../shared/scanner/analyzers/index.js";
import { indexImage, type ImageIndex, type ImageSource } from "../../shared/scanner/indexer.js";
import { readLayer } from "../../shared/scanner/layer.js";
import { DEFAULT_SCAN_LIMITS } from "../../shared/scanner/limits.js";
import { directorySource } from "../../shared/scanner/sources/directory.js";
import { resolveParents } from "../../shared/scanner/view.js";
import { sha256 } from "../helpers/images.js";

/**
 * Directory symlinks in the middle of a path, resolved inside the image root as a runtime
 * extracting the layers would: Fedora/RHEL's `var/lib/rpm` → `usr/lib/sysimage/rpm`, merged-usr
 * `lib` → `usr/lib`, and hostile ones (out of the root, loops).
 */

const NOW = new Date("2026-11-23T00:00:00Z");
const DEBIAN_12 = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n';
const RPMDB = readFileSync(new URL("../fixtures/rpmdb/cbl-mariner-2.0/rpmdb.sqlite", import.meta.url));
const work = mkdtempSync(join(tmpdir(), "scanhook-symlinks-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** One ustar entry: `0` file, `2` symlink, `5` directory. */
function entry(path: string, type: "0" | "2" | "5", body: string | Buffer = "", linkTarget = ""): Buffer {
  const data = typeof body === "string" ? Buffer.from(body) : body;
  const h = Buffer.alloc(512);
  h.write(path, 0, 100, "utf8");
  h.write(type === "5" ? "0000755\0" : "0000644\0", 100, "ascii");
  h.write("0000000\0", 108, "ascii");
  h.write("0000000\0", 116, "ascii");
  h.write(`${data.length.toString(8).padStart(11, "0")}\0`, 124, "ascii");
  h.write("00000000000\0", 136, "ascii");
  h.write("        ", 148, "ascii");
  h.write(type, 156, "ascii");
  h.write(linkTarget, 157, 100, "utf8");
  h.write("ustar\0", 257, "ascii");
  h.write("00", 263, "ascii");
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "ascii");
  return Buffer.concat([h, data, Buffer.alloc((512 - (data.length % 512)) % 512)]);
}
const layer = (...entries: Buffer[]): Buffer => gzipSync(Buffer.concat([...entries, Buffer.alloc(1024)]));

function source(layers: readonly Buffer[]): ImageSource {
  return {
    name: "test",
    digest: undefined,
    layers: layers.map((bytes) => ({ digest: sha256(bytes) as Digest, diffId: undefined, size: bytes.length, read: (analyzers, options) => readLayer(Readable.from([bytes]), analyzers, options) }))
  };
}
const index = (...layers: Buffer[]): Promise<ImageIndex> => indexImage(source(layers), { analyzers: ANALYZERS, limits: DEFAULT_SCAN_LIMITS, now: NOW });

describe("resolveParents", () => {
  const links = new Map([
    ["lib", "usr/lib"],
    ["var/lib/rpm", "usr/lib/sysimage/rpm"],
    ["loop/a", "loop/b"],
    ["loop/b", "loop/a"],
    ["up", ""]
  ]);
  it.each([
    ["lib/os-release", "usr/lib/os-release"],
    ["var/lib/rpm/rpmdb.sqlite", "usr/lib/sysimage/rpm/rpmdb.sqlite"],
    ["lib", "lib"], // the last segment is the entry itself, not a directory on the way
    ["up/etc/os-release", "etc/os-release"],
    ["loop/a/x", "loop/a/x"], // a loop: as written
    ["usr/lib/os-release", "usr/lib/os-release"]
  ])("%s → %s", (path, resolved) => {
    expect(resolveParents(path, links)).toBe(resolved);
  });
});

describe("directory symlinks in a path", () => {
  const rpmBase = layer(entry("usr/lib/sysimage/rpm/", "5"), entry("usr/lib/sysimage/rpm/rpmdb.sqlite", "0", RPMDB), entry("var/lib/rpm", "2", "", "../../usr/lib/sysimage/rpm"));

  it("a whiteout through var/lib/rpm → usr/lib/sysimage/rpm deletes the real database", async () => {
    const before = await index(rpmBase);
    expect(before.facts.packages.length).toBe(129);
    const after = await index(rpmBase, layer(entry("var/lib/rpm/.wh.rpmdb.sqlite", "0")));
    expect(after.facts.packages).toEqual([]);
  });

  it("an opaque var/lib/rpm/ (through the link) hides the database below it", async () => {
    const after = await index(rpmBase, layer(entry("var/lib/rpm/.wh..wh..opq", "0")));
    expect(after.facts.packages).toEqual([]);
  });

  it("a whiteout of the link itself leaves the real database visible", async () => {
    const after = await index(rpmBase, layer(entry("var/lib/.wh.rpm", "0")));
    expect(after.facts.packages.length).toBe(129);
  });

  it("etc/os-release → ../lib/os-release finds usr/lib/os-release through merged-usr lib → usr/lib, across layers", async () => {
    const merged = layer(entry("lib", "2", "", "usr/lib"), entry("usr/lib/", "5"));
    const r = await index(merged, layer(entry("usr/lib/os-release", "0", DEBIAN_12), entry("etc/os-release", "2", "", "../lib/os-release")));
    expect(r.facts.distribution).toBe("Debian:12");
    expect(r.warnings).toEqual([]);
  });

  it("a link out of the root stays inside it, and a loop ends in a warning, not a hang", async () => {
    const outside = await index(layer(entry("l", "2", "", "../../../../../usr/lib"), entry("usr/lib/os-release", "0", DEBIAN_12), entry("etc/os-release", "2", "", "/l/os-release")));
    expect(outside.facts.distribution).toBe("Debian:12");
    const loop = await index(layer(entry("a", "2", "", "b"), entry("b", "2", "", "a"), entry("etc/os-release", "2", "", "/a/os-release")));
    expect(loop.facts.distribution).toBeUndefined();
    expect(loop.warnings).toEqual([expect.stringContaining("etc/os-release links to")]);
  });

  it("dir: a root on disk with absolute links resolves them in the root, never on the host", async () => {
    const root = join(work, "rootfs");
    mkdirSync(join(root, "usr/lib"), { recursive: true });
    mkdirSync(join(root, "etc"), { recursive: true });
    // Not the host's distribution, so reading the host's /usr/lib/os-release could not pass.
    writeFileSync(join(root, "usr/lib/os-release"), 'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.20.3\n');
    symlinkSync("/usr/lib", join(root, "lib"));
    symlinkSync("/lib/os-release", join(root, "etc/os-release"));
    const r = await indexImage(directorySource(root), { analyzers: ANALYZERS, limits: DEFAULT_SCAN_LIMITS, now: NOW });
    expect(r.facts.distribution).toBe("Alpine:v3.20");
    expect(r.warnings).toEqual([]);
  });
});
