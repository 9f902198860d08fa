import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRegistryClient } from "../../shared/registry/client.js";
import { buildImage, buildIndex, writeOciLayout } from "../helpers/images.js";
import { startRegistry, type TestRegistry } from "../helpers/registry.js";

const run = promisify(execFile);

// The image helper's output is read by real tools: GNU tar lists the layer, skopeo copies the
// OCI layout into docker-registry, and the registry client reads back the same digests.
describe("test/helpers/images.ts builds images real tools accept", () => {
  let registry: TestRegistry;
  let dir: string;

  beforeAll(async () => {
    registry = await startRegistry();
    dir = await mkdtemp(join(tmpdir(), "scanhook-layout-"));
  });
  afterAll(async () => {
    await registry?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it("a layer is a gzipped tar GNU tar can list", async () => {
    const image = buildImage({ layers: [{ "etc/": "", "etc/os-release": "ID=test\n", [`usr/share/${"d".repeat(90)}/${"f".repeat(60)}`]: "long path\n" }] });
    const path = join(dir, "layer.tar.gz");
    await writeFile(path, image.layers[0]?.bytes ?? Buffer.alloc(0));
    const { stdout } = await run("tar", ["-tzf", path]);
    expect(stdout.trim().split("\n")).toEqual(["etc/", "etc/os-release", `usr/share/${"d".repeat(90)}/${"f".repeat(60)}`]);
  });

  it("skopeo copies an OCI layout of an index to the registry, digests unchanged", async () => {
    const amd = buildImage({ layers: [{ "a": "amd64\n" }] });
    const arm = buildImage({ layers: [{ "a": "arm64\n" }], platform: { os: "linux", architecture: "arm64", variant: "v8" } });
    const built = buildIndex([amd, arm]);
    const layout = join(dir, "layout");
    await writeOciLayout(layout, built, "v1");
    await run("skopeo", ["copy", "--all", "--preserve-digests", "--dest-tls-verify=false", `oci:${layout}:v1`, `docker://${registry.host}/layout:v1`]);
    const client = createRegistryClient([{ host: registry.host, kind: "oci", plainHttp: true, credential: { type: "none" } }]);
    try {
      const index = await client.getManifest({ host: registry.host, repository: "layout", reference: "v1" });
      expect(index.digest).toBe(built.index.digest);
      const child = await client.getManifest({ host: registry.host, repository: "layout", reference: arm.manifest.digest });
      expect(child.json).toMatchObject({ config: { digest: arm.config.digest } });
    } finally {
      client.close();
    }
  });
});
