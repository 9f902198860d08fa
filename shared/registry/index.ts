/** The registry client: port, adapters and guards. See ./port.ts for the contract. */
export { createRegistryClient, type RegistryClientOptions } from "./client.js";
export type {
  BlobRef,
  GetManifestOptions,
  ListOptions,
  Manifest,
  ManifestRef,
  OpenBlobOptions,
  PagedAsyncIterable,
  RegistryClient,
  RepositoryRef,
  RequestOptions,
  ResolveTagOptions,
  TagRef
} from "./port.js";
export { DEFAULT_LIMITS, isNonPublicAddress, type RegistryLimits } from "./guard.js";
export { MANIFEST_ACCEPT } from "./oci.js";
export { createKeyVaultSecretReader, type SecretReader } from "./key-vault.js";
export type { BasicCredential, CredentialDeps } from "./credentials.js";
