import { createHash } from "node:crypto";
import { Transform } from "node:stream";
import type { Digest } from "../domain/digest.js";
import { ScanhookError } from "../domain/errors.js";

/**
 * Content verification (OCI image spec "Digests",
 * https://github.com/opencontainers/image-spec/blob/main/descriptor.md#digests): the digest is
 * `algorithm:hex(hash(bytes))`, sha256 or sha512.
 */

function algorithmOf(digest: Digest): "sha256" | "sha512" {
  return digest.startsWith("sha512:") ? "sha512" : "sha256";
}

export function digestOf(bytes: Uint8Array, algorithm: "sha256" | "sha512" = "sha256"): Digest {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest("hex")}` as Digest;
}

export function mismatch(what: string, expected: string, actual: string, meta: Record<string, unknown> = {}): ScanhookError {
  return new ScanhookError("REGISTRY.DIGEST_MISMATCH", `${what}: expected ${expected}, got ${actual}`, {
    meta: { ...meta, expected, actual },
    status: 502
  });
}

/** Throws `REGISTRY.DIGEST_MISMATCH` unless `bytes` hash to `expected`. */
export function verifyBytes(bytes: Uint8Array, expected: Digest, what: string, meta: Record<string, unknown> = {}): void {
  const actual = digestOf(bytes, algorithmOf(expected));
  if (actual !== expected) throw mismatch(what, expected, actual, meta);
}

export interface VerifyOptions {
  readonly expectedSize?: number;
  readonly maxBytes?: number;
  readonly meta?: Record<string, unknown>;
}

/**
 * A pass-through that hashes what flows and, instead of ending, errors with
 * `REGISTRY.DIGEST_MISMATCH` when the bytes do not hash to `expected` or their count is not
 * `expectedSize`; past `maxBytes` it errors at once with `REGISTRY.TOO_LARGE`.
 */
export function verifyingStream(expected: Digest, options: VerifyOptions = {}): Transform {
  const hash = createHash(algorithmOf(expected));
  const meta = { ...options.meta, digest: expected };
  let total = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      total += chunk.length;
      if (options.maxBytes !== undefined && total > options.maxBytes) {
        callback(new ScanhookError("REGISTRY.TOO_LARGE", `blob ${expected} is larger than the limit of ${options.maxBytes} bytes`, { meta: { ...meta, limit: options.maxBytes }, status: 502 }));
        return;
      }
      if (options.expectedSize !== undefined && total > options.expectedSize) {
        callback(mismatch(`blob ${expected} is longer than its descriptor says`, `${options.expectedSize} bytes`, `more than ${options.expectedSize}`, meta));
        return;
      }
      hash.update(chunk);
      callback(null, chunk);
    },
    flush(callback) {
      if (options.expectedSize !== undefined && total !== options.expectedSize) {
        callback(mismatch(`blob ${expected} is shorter than its descriptor says`, `${options.expectedSize} bytes`, `${total} bytes`, meta));
        return;
      }
      const actual = `${algorithmOf(expected)}:${hash.digest("hex")}`;
      if (actual !== expected) callback(mismatch("blob content does not match its digest", expected, actual, meta));
      else callback();
    }
  });
}
