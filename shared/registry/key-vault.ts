import type { TokenCredential } from "@azure/core-auth";
import { z } from "zod";
import { ScanhookError } from "../domain/errors.js";
import { USER_AGENT } from "../version.js";

/**
 * Reads a Key Vault secret's current value. `@azure/keyvault-secrets` is not a dependency, so
 * this is the one REST call it would make: `GET {vaultUrl}/secrets/{name}?api-version=7.4` with a
 * bearer token for `https://vault.azure.net/.default`
 * (https://learn.microsoft.com/rest/api/keyvault/secrets/get-secret/get-secret).
 */
export interface SecretReader {
  getSecret(vaultUrl: string, name: string, options?: { abortSignal?: AbortSignal }): Promise<string>;
}

const secretBundle = z.object({ value: z.string() }).loose();
const VAULT_SCOPE = "https://vault.azure.net/.default";
const SECRET_MAX_BYTES = 64 * 1024;

export function createKeyVaultSecretReader(credential: TokenCredential, fetchImpl: typeof fetch = fetch): SecretReader {
  return {
    async getSecret(vaultUrl, name, options = {}) {
      const url = new URL(`secrets/${encodeURIComponent(name)}`, vaultUrl.endsWith("/") ? vaultUrl : `${vaultUrl}/`);
      url.searchParams.set("api-version", "7.4");
      if (url.protocol !== "https:") throw new ScanhookError("REGISTRY.CREDENTIAL_UNAVAILABLE", "a Key Vault URL must use HTTPS");
      const token = await credential.getToken(VAULT_SCOPE, options.abortSignal === undefined ? {} : { abortSignal: options.abortSignal });
      if (token === null) throw new ScanhookError("REGISTRY.CREDENTIAL_UNAVAILABLE", "no token for Key Vault");
      let response: Response;
      try {
        response = await fetchImpl(url, {
          headers: { authorization: `Bearer ${token.token}`, "user-agent": USER_AGENT, accept: "application/json" },
          redirect: "error",
          ...(options.abortSignal === undefined ? {} : { signal: options.abortSignal })
        });
      } catch (cause) {
        throw new ScanhookError("REGISTRY.CREDENTIAL_UNAVAILABLE", `cannot reach Key Vault ${url.origin}`, { cause, meta: { vault: url.origin } });
      }
      const text = await response.text();
      if (!response.ok) {
        throw new ScanhookError("REGISTRY.CREDENTIAL_UNAVAILABLE", `Key Vault ${url.origin} answered ${response.status} for secret ${name}`, {
          meta: { vault: url.origin, secret: name, status: response.status }
        });
      }
      if (text.length > SECRET_MAX_BYTES) throw new ScanhookError("REGISTRY.CREDENTIAL_UNAVAILABLE", `secret ${name} is too large`);
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        throw new ScanhookError("REGISTRY.CREDENTIAL_UNAVAILABLE", `Key Vault answered something that is not JSON for secret ${name}`);
      }
      const bundle = secretBundle.safeParse(json);
      if (!bundle.success) throw new ScanhookError("REGISTRY.CREDENTIAL_UNAVAILABLE", `Key Vault secret ${name} has no value`);
      return bundle.data.value;
    }
  };
}
