import { describe, expect, it } from "vitest";
import { findRegistry, parseRegistries } from "./registries.js";

describe("parseRegistries", () => {
  it("reads the compact form with kinds and credentials inferred", () => {
    const r = parseRegistries("myreg.azurecr.io, http://127.0.0.1:5000 ,ghcr.io");
    expect(r).toEqual({
      ok: true,
      value: [
        { host: "myreg.azurecr.io", kind: "acr", plainHttp: false, credential: { type: "managed-identity" } },
        { host: "127.0.0.1:5000", kind: "oci", plainHttp: true, credential: { type: "none" } },
        { host: "ghcr.io", kind: "oci", plainHttp: false, credential: { type: "none" } }
      ]
    });
  });

  it("is empty for an empty value", () => {
    expect(parseRegistries("  ")).toEqual({ ok: true, value: [] });
  });

  it("reads the JSON form with every attribute", () => {
    const r = parseRegistries(
      JSON.stringify([
        { host: "Reg.AzureCR.io", credential: { type: "managed-identity", clientId: "abc" }, pullIdentity: "scanner-token" },
        { host: "registry.example.com:8443", credential: { type: "docker-config" } },
        { host: "quay.io", credential: { type: "env", usernameVar: "QUAY_USER", passwordVar: "QUAY_PASSWORD" } },
        { host: "harbor.example.com", credential: { type: "key-vault", vaultUrl: "https://kv.vault.azure.net", secretName: "harbor-robot", username: "robot$scan" } }
      ])
    );
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value[0]).toEqual({
      host: "reg.azurecr.io",
      kind: "acr",
      plainHttp: false,
      credential: { type: "managed-identity", clientId: "abc" },
      pullIdentity: "scanner-token"
    });
    expect(r.value.map((x) => x.kind)).toEqual(["acr", "oci", "oci", "oci"]);
    expect(r.value[3]?.credential).toEqual({ type: "key-vault", vaultUrl: "https://kv.vault.azure.net", secretName: "harbor-robot", username: "robot$scan" });
  });

  it.each([
    ["https://reg.example.com/path", /entry 1.*host/],
    ["reg.example.com:99999", /port out of range/],
    ["a.example.com,a.example.com", /listed twice/],
    ["[{\"host\":\"x.io\",\"credential\":{\"type\":\"password\"}}]", /entry 1 \(x.io\)\.credential/],
    ["[{\"host\":\"x.io\",\"unknown\":1}]", /entry 1/],
    ["[{\"host\":\"kv.io\",\"credential\":{\"type\":\"key-vault\",\"vaultUrl\":\"https://kv.vault.azure.net\",\"secretName\":\"a.b\",\"username\":\"u\"}}]", /secret names/],
    ["[not json", /not valid JSON/],
    ["{\"host\":\"x.io\"}", /not valid JSON|array/]
  ])("rejects %s with a reason", (raw, reason) => {
    const r = parseRegistries(raw);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(reason);
  });

  it("finds a registry by host, case-insensitively", () => {
    const r = parseRegistries("reg.azurecr.io,127.0.0.1:5000");
    if (!r.ok) throw new Error(r.error);
    expect(findRegistry(r.value, "REG.azurecr.io")?.kind).toBe("acr");
    expect(findRegistry(r.value, "127.0.0.1:5001")).toBeUndefined();
    expect(findRegistry(r.value, "127.0.0.1")).toBeUndefined();
  });
});
