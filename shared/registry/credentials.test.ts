import { describe, expect, it } from "vitest";
import type { RegistryConfig, RegistryCredential } from "../domain/registries.js";
import { basicCredentialSource } from "./credentials.js";
import type { SecretReader } from "./key-vault.js";

const entry = (credential: RegistryCredential): RegistryConfig => ({ host: "r.example.com", kind: "oci", plainHttp: false, credential });

describe("basicCredentialSource", () => {
  it("none is anonymous; managed identity is not a password", async () => {
    expect(await basicCredentialSource(entry({ type: "none" }))()).toBeUndefined();
    await expect(basicCredentialSource(entry({ type: "managed-identity" }))()).rejects.toMatchObject({ code: "REGISTRY.CREDENTIAL_UNAVAILABLE" });
  });

  it("reads environment variables at the moment of use, so a rotation is seen", async () => {
    const env: NodeJS.ProcessEnv = { U: "user", P: "one" };
    const source = basicCredentialSource(entry({ type: "env", usernameVar: "U", passwordVar: "P" }), { env });
    expect(await source()).toEqual({ username: "user", password: "one" });
    env.P = "two";
    expect(await source()).toEqual({ username: "user", password: "two" });
    delete env.P;
    await expect(source()).rejects.toThrow(/U and P must both be set/);
  });

  it("reads a Key Vault secret once per TTL, and again after a failure", async () => {
    let calls = 0;
    let fail = false;
    const reader: SecretReader = {
      getSecret(vaultUrl, name) {
        calls++;
        expect([vaultUrl, name]).toEqual(["https://kv.vault.azure.net", "registry-password"]);
        return fail ? Promise.reject(new Error("vault down")) : Promise.resolve(`secret-${calls}`);
      }
    };
    let now = 0;
    const source = basicCredentialSource(entry({ type: "key-vault", vaultUrl: "https://kv.vault.azure.net", secretName: "registry-password", username: "scanner" }), {
      secretReader: reader,
      now: () => now,
      cacheTtlInMs: 1000
    });
    expect(await source()).toEqual({ username: "scanner", password: "secret-1" });
    now = 999;
    expect(await source()).toEqual({ username: "scanner", password: "secret-1" });
    now = 1000;
    fail = true;
    await expect(source()).rejects.toThrow("vault down");
    fail = false;
    expect(await source()).toEqual({ username: "scanner", password: "secret-3" });
  });

  it("a Key Vault credential without a reader says so", async () => {
    const source = basicCredentialSource(entry({ type: "key-vault", vaultUrl: "https://kv.vault.azure.net", secretName: "p", username: "u" }));
    await expect(source()).rejects.toMatchObject({ code: "REGISTRY.CREDENTIAL_UNAVAILABLE" });
  });
});
