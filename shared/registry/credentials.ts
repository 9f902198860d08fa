import { ScanhookError } from "../domain/errors.js";
import type { RegistryConfig } from "../domain/registries.js";
import { defaultDockerConfigPath, readDockerConfigCredential, type DockerConfigOptions } from "./docker-config.js";
import type { SecretReader } from "./key-vault.js";

/**
 * Where a registry's user name and password come from (`REGISTRIES` `credential`): nowhere,
 * two environment variables, a Docker config file, or a Key Vault secret. Managed identity is
 * not a password: it is an Entra ID token exchanged at ACR (./acr-token.ts).
 *
 * Values are read at the moment of use (a rotated secret is picked up) and kept briefly, so a
 * registry that wants Basic auth on every request does not cost a file read or a vault call each
 * time. Nothing here logs, and no error message quotes a value.
 */
export interface BasicCredential {
  readonly username: string;
  readonly password: string;
}

/** Undefined means anonymous. */
export type BasicCredentialSource = () => Promise<BasicCredential | undefined>;

export interface CredentialDeps {
  readonly env?: NodeJS.ProcessEnv;
  readonly dockerConfig?: DockerConfigOptions;
  /** Needed only by `key-vault` credentials. */
  readonly secretReader?: SecretReader;
  readonly now?: () => number;
  /** How long a value read from a file or a vault is reused. */
  readonly cacheTtlInMs?: number;
}

export function basicCredentialSource(registry: RegistryConfig, deps: CredentialDeps = {}): BasicCredentialSource {
  const credential = registry.credential;
  const env = deps.env ?? process.env;
  switch (credential.type) {
    case "none":
      return () => Promise.resolve(undefined);
    case "env":
      return () => {
        const username = env[credential.usernameVar];
        const password = env[credential.passwordVar];
        if (username === undefined || username === "" || password === undefined || password === "") {
          return Promise.reject(
            new ScanhookError(
              "REGISTRY.CREDENTIAL_UNAVAILABLE",
              `the environment variables ${credential.usernameVar} and ${credential.passwordVar} must both be set for ${registry.host}`,
              { meta: { host: registry.host } }
            )
          );
        }
        return Promise.resolve({ username, password });
      };
    case "docker-config": {
      const path = credential.path ?? defaultDockerConfigPath(env);
      return cached(() => readDockerConfigCredential(path, registry.host, { env, ...deps.dockerConfig }), deps);
    }
    case "key-vault": {
      const reader = deps.secretReader;
      return cached(async () => {
        if (reader === undefined) {
          throw new ScanhookError("REGISTRY.CREDENTIAL_UNAVAILABLE", `no Key Vault reader is configured for ${registry.host}`, { meta: { host: registry.host } });
        }
        const password = await reader.getSecret(credential.vaultUrl, credential.secretName);
        return { username: credential.username, password };
      }, deps);
    }
    case "managed-identity":
      return () =>
        Promise.reject(
          new ScanhookError("REGISTRY.CREDENTIAL_UNAVAILABLE", `${registry.host} uses a managed identity, which is not a user name and password`, {
            meta: { host: registry.host }
          })
        );
  }
}

function cached(read: () => Promise<BasicCredential | undefined>, deps: CredentialDeps): BasicCredentialSource {
  const now = deps.now ?? Date.now;
  const ttl = deps.cacheTtlInMs ?? 60_000;
  let value: { at: number; credential: Promise<BasicCredential | undefined> } | undefined;
  return () => {
    if (value !== undefined && now() - value.at < ttl) return value.credential;
    const credential = read();
    const entry = { at: now(), credential };
    value = entry;
    // A failed read is not kept: the next request tries again.
    credential.catch(() => {
      if (value === entry) value = undefined;
    });
    return credential;
  };
}
