/**
 * Content digests (OCI image spec, "Digests"): `algorithm:encoded`. scanhook keys every record by
 * a sha256 digest; sha512 is accepted where the spec allows it.
 */
const DIGEST = /^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;

export type Digest = string & { readonly __brand: "Digest" };

export function isDigest(value: unknown): value is Digest {
  return typeof value === "string" && DIGEST.test(value);
}

/** Returns the digest, or undefined when the string is not a well-formed lowercase digest. */
export function parseDigest(value: string): Digest | undefined {
  return isDigest(value) ? value : undefined;
}
