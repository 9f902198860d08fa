import type { Settings } from "../config.js";
import { ScanhookError } from "../domain/errors.js";

/**
 * Every bound the indexer keeps while reading an untrusted image (DESIGN principle 8). Each is a
 * setting (`SCAN_MAX_*`, see shared/config.ts); breaking one fails the image with the code below
 * and a message naming the limit, except `maxFileBytes`, which skips the file with a warning.
 */
export interface ScanLimits {
  /** Largest manifest or config read (`SCAN.TOO_LARGE`); the `MANIFEST_MAX_BYTES` setting. */
  readonly maxManifestBytes: number;
  /** Largest compressed layer (`LAYER.TOO_LARGE`). */
  readonly maxLayerBytes: number;
  /** Largest uncompressed layer tar: the decompression-bomb bound (`LAYER.TOO_LARGE`). */
  readonly maxLayerUncompressedBytes: number;
  /** Most tar entries in one layer, metadata entries included (`LAYER.TOO_MANY_ENTRIES`). */
  readonly maxEntries: number;
  /** Longest entry path or link target in bytes (`LAYER.PATH_TOO_LONG`). */
  readonly maxPathBytes: number;
  /** Largest file an analyzer reads; a bigger one is skipped with a warning. */
  readonly maxFileBytes: number;
  /** Wall-clock bound of a whole scan (`SCAN.TIMEOUT`). */
  readonly timeoutInMs: number;
}

export const DEFAULT_SCAN_LIMITS: ScanLimits = {
  maxManifestBytes: 4 * 1024 * 1024,
  maxLayerBytes: 4 * 1024 ** 3,
  maxLayerUncompressedBytes: 16 * 1024 ** 3,
  maxEntries: 500_000,
  maxPathBytes: 4096,
  maxFileBytes: 256 * 1024 * 1024,
  timeoutInMs: 15 * 60_000
};

export function limitError(code: string, what: string, limit: number, meta: Record<string, unknown> = {}): ScanhookError {
  return new ScanhookError(code, `${what} exceeds the limit of ${limit}`, { meta: { ...meta, limit } });
}

/** The limits the settings ask for. */
export function scanLimitsFrom(settings: Settings): ScanLimits {
  return {
    maxManifestBytes: settings.MANIFEST_MAX_BYTES,
    maxLayerBytes: settings.SCAN_MAX_LAYER_BYTES,
    maxLayerUncompressedBytes: settings.SCAN_MAX_LAYER_UNCOMPRESSED_BYTES,
    maxEntries: settings.SCAN_MAX_ENTRIES,
    maxPathBytes: settings.SCAN_MAX_PATH_BYTES,
    maxFileBytes: settings.SCAN_MAX_FILE_BYTES,
    timeoutInMs: settings.SCAN_TIMEOUT_SECONDS * 1000
  };
}
