import type { AccessToken, TokenCredential } from "@azure/core-auth";
import { describe, expect, it } from "vitest";
import { createKeyVaultSecretReader } from "./key-vault.js";

const credential = (scopes: string[]): TokenCredential => ({
  getToken(scope): Promise<AccessToken> {
    scopes.push(...(Array.isArray(scope) ? scope : [scope]));
    return Promise.resolve({ token: "vault-token", expiresOnTimestamp: Date.now() + 60_000 });
  }
});

describe("createKeyVaultSecretReader", () => {
  it("GETs the secret with api-version 7.4 and a token for Key Vault's scope", async () => {
    const scopes: string[] = [];
    const seen: Array<{ url: string; auth: string | null }> = [];
    const fetchImpl: typeof fetch = (input, init) => {
      seen.push({ url: String(input), auth: new Headers(init?.headers).get("authorization") });
      return Promise.resolve(new Response(JSON.stringify({ value: "the-password", id: "x" }), { status: 200 }));
    };
    const reader = createKeyVaultSecretReader(credential(scopes), fetchImpl);
    expect(await reader.getSecret("https://kv.vault.azure.net", "acr-password")).toBe("the-password");
    expect(seen).toEqual([{ url: "https://kv.vault.azure.net/secrets/acr-password?api-version=7.4", auth: "Bearer vault-token" }]);
    expect(scopes).toEqual(["https://vault.azure.net/.default"]);
  });

  it("maps failures to CREDENTIAL_UNAVAILABLE without the body", async () => {
    const reader = createKeyVaultSecretReader(credential([]), () => Promise.resolve(new Response('{"error":{"code":"Forbidden","value":"leak?"}}', { status: 403 })));
    await expect(reader.getSecret("https://kv.vault.azure.net/", "p")).rejects.toMatchObject({ code: "REGISTRY.CREDENTIAL_UNAVAILABLE", message: expect.not.stringContaining("leak") });
    const insecure = createKeyVaultSecretReader(credential([]), () => Promise.reject(new Error("must not be called")));
    await expect(insecure.getSecret("http://kv.example", "p")).rejects.toMatchObject({ code: "REGISTRY.CREDENTIAL_UNAVAILABLE" });
  });
});
