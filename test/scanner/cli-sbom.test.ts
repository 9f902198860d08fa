import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "../../cli/main.js";
import { buildImage, writeOciLayout } from "../helpers/images.js";

/** `scanhook sbom` on an OCI layout: the SBOM on stdout or in a file, progress on stderr, the cache used on a second run. */

const dir = mkdtempSync(join(tmpdir(), "scanhook-cli-sbom-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function cli(args: string[]): Promise<{ code: number; out: string; err: string[] }> {
  let out = "";
  const err: string[] = [];
  const previous = process.env.SCAN_CACHE_DIR;
  process.env.SCAN_CACHE_DIR = join(dir, "cache");
  try {
    const code = await main(args, (l) => (out += `${l}\n`), (l) => err.push(l), (c) => (out += typeof c === "string" ? c : Buffer.from(c).toString("utf8")));
    return { code, out, err };
  } finally {
    if (previous === undefined) delete process.env.SCAN_CACHE_DIR;
    else process.env.SCAN_CACHE_DIR = previous;
  }
}

describe("scanhook sbom", () => {
  const image = buildImage({ layers: [{ "etc/os-release": "ID=alpine\nVERSION_ID=3.22.1\n", "lib/apk/db/installed": "P:musl\nV:1.2.5-r10\nA:x86_64\no:musl\n\nP:busybox\nV:1.37.0-r18\nA:x86_64\no:busybox\n" }] });

  it("writes CycloneDX for an OCI layout, then reads no layer on the second run", async () => {
    const layout = join(dir, "layout");
    await writeOciLayout(layout, image, "v1");
    const first = await cli(["sbom", `oci:${layout}:v1`]);
    expect(first.code).toBe(0);
    const bom = JSON.parse(first.out) as { bomFormat: string; components: { name: string; purl?: string }[] };
    expect(bom.bomFormat).toBe("CycloneDX");
    expect(bom.components.map((c) => c.purl ?? c.name)).toEqual(["alpine", "pkg:apk/alpine/musl@1.2.5-r10?arch=x86_64&distro=alpine-3.22.1", "pkg:apk/alpine/busybox@1.37.0-r18?arch=x86_64&distro=alpine-3.22.1"]);
    expect(first.err).toContain("2 packages, 1 of 1 layers read");
    const second = await cli(["sbom", `oci:${layout}:v1`, "--format", "spdx", "--output", join(dir, "out.spdx.json")]);
    expect(second.code).toBe(0);
    expect(second.err).toContain("layer 1/1: cached");
    expect((JSON.parse(readFileSync(join(dir, "out.spdx.json"), "utf8")) as { spdxVersion: string }).spdxVersion).toBe("SPDX-2.3");
  });

  it("exit code 2 for bad usage, 1 for an image it cannot read", async () => {
    expect((await cli(["sbom"])).code).toBe(2);
    expect((await cli(["sbom", "dir:/x", "--format", "xml"])).code).toBe(2);
    expect((await cli(["sbom", "ubuntu"])).code).toBe(2);
    const missing = await cli(["sbom", `oci:${join(dir, "nothing")}`]);
    expect(missing.code).toBe(1);
    expect(missing.err.join("\n")).toContain("IMAGE.NOT_FOUND");
  });
});
