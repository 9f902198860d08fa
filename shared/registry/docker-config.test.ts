import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ScanhookError } from "../domain/errors.js";
import { defaultDockerConfigPath, readDockerConfigCredential } from "./docker-config.js";

let dir: string;
let env: NodeJS.ProcessEnv;
const b64 = (s: string): string => Buffer.from(s).toString("base64");

async function config(name: string, json: unknown): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, typeof json === "string" ? json : JSON.stringify(json));
  return path;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "scanhook-docker-config-unit-"));
  const bin = join(dir, "bin");
  await mkdir(bin);
  // A credential helper that knows one server and fails like real helpers for the rest.
  const helper = join(bin, "docker-credential-unit");
  await writeFile(helper, '#!/bin/sh\nread s\nif [ "$s" = "helped.example.com" ]; then echo \'{"ServerURL":"helped.example.com","Username":"hu","Secret":"hs"}\'; else echo "credentials not found in native keychain"; exit 1; fi\n');
  await chmod(helper, 0o755);
  const broken = join(bin, "docker-credential-broken");
  await writeFile(broken, "#!/bin/sh\necho garbage\n");
  await chmod(broken, 0o755);
  env = { PATH: `${bin}:${process.env.PATH ?? ""}` };
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("readDockerConfigCredential", () => {
  it("reads `auths` under any key spelling: host, scheme://host, scheme://host/v1/", async () => {
    const path = await config("auths.json", {
      auths: {
        "a.example.com": { auth: b64("ua:pa") },
        "https://b.example.com/v1/": { auth: b64("ub:p:with:colons") },
        "http://127.0.0.1:5000": { username: "uc", password: "pc" }
      }
    });
    expect(await readDockerConfigCredential(path, "a.example.com")).toEqual({ username: "ua", password: "pa" });
    expect(await readDockerConfigCredential(path, "B.example.com")).toEqual({ username: "ub", password: "p:with:colons" });
    expect(await readDockerConfigCredential(path, "127.0.0.1:5000")).toEqual({ username: "uc", password: "pc" });
    expect(await readDockerConfigCredential(path, "127.0.0.1:5001")).toBeUndefined();
  });

  it("asks a credential helper: per-registry `credHelpers` first, then `credsStore`", async () => {
    const path = await config("helpers.json", { auths: { "helped.example.com": {} }, credHelpers: { "helped.example.com": "unit" } });
    expect(await readDockerConfigCredential(path, "helped.example.com", { env })).toEqual({ username: "hu", password: "hs" });
    const store = await config("store.json", { auths: { "helped.example.com": {}, "other.example.com": {} }, credsStore: "unit" });
    expect(await readDockerConfigCredential(store, "helped.example.com", { env })).toEqual({ username: "hu", password: "hs" });
    // "not found" from a helper is no credential, not an error.
    expect(await readDockerConfigCredential(store, "other.example.com", { env })).toBeUndefined();
  });

  it("reports unusable entries without quoting the file", async () => {
    const code = async (path: string, host: string): Promise<string> => {
      try {
        await readDockerConfigCredential(path, host, { env });
        return "no error";
      } catch (e) {
        if (!(e instanceof ScanhookError)) throw e;
        expect(e.message).not.toContain("SECRET-IN-FILE");
        return e.code;
      }
    };
    expect(await code(await config("bad.json", '{"auths": {"x": SECRET-IN-FILE'), "x")).toBe("REGISTRY.CREDENTIAL_UNAVAILABLE");
    expect(await code(await config("identity.json", { auths: { x: { identitytoken: "SECRET-IN-FILE" } } }), "x")).toBe("REGISTRY.CREDENTIAL_UNAVAILABLE");
    expect(await code(await config("noauth.json", { auths: { x: { auth: b64("SECRET-IN-FILE") } } }), "x")).toBe("REGISTRY.CREDENTIAL_UNAVAILABLE");
    expect(await code(await config("slash.json", { credHelpers: { x: "../../bin/sh" } }), "x")).toBe("REGISTRY.CREDENTIAL_UNAVAILABLE");
    expect(await code(await config("missing-helper.json", { credsStore: "does-not-exist" }), "x")).toBe("REGISTRY.CREDENTIAL_UNAVAILABLE");
    expect(await code(await config("broken-helper.json", { credsStore: "broken" }), "x")).toBe("REGISTRY.CREDENTIAL_UNAVAILABLE");
    expect(await code(join(dir, "absent.json"), "x")).toBe("REGISTRY.CREDENTIAL_UNAVAILABLE");
  });

  it("finds the file under DOCKER_CONFIG, else ~/.docker", () => {
    expect(defaultDockerConfigPath({ DOCKER_CONFIG: "/etc/scanhook/docker" })).toBe("/etc/scanhook/docker/config.json");
    expect(defaultDockerConfigPath({})).toMatch(/\.docker\/config\.json$/);
  });
});
