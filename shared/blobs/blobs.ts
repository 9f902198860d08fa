import type { Readable } from "node:stream";
import type { Reachability } from "../queues/queues.js";

/**
 * Blob storage by role (DESIGN principle 6): SBOMs and full reports per digest, the per-layer
 * index cache, the vulnerability DB. Adapters: Azure Blob Storage (Azurite locally) and a
 * directory (the CLI's cache). Names are `/`-separated paths inside one container.
 */
export const BLOB_CONTAINERS = {
  /** `sboms/<algorithm>/<hex>.cdx.json`, `reports/<algorithm>/<hex>.json` */
  results: "scanhook-results",
  /** `layers/<algorithm>/<hex>/<analyzer>/<version>.json` */
  layerCache: "scanhook-layer-cache",
  /** the compiled vulnerability DB and its manifest */
  vulndb: "scanhook-vulndb"
} as const;

export interface PutBlobOptions {
  readonly contentType?: string;
  /** Write only when no blob of that name exists (a cache entry is written once). */
  readonly ifNotExists?: boolean;
  readonly abortSignal?: AbortSignal;
}

export interface BlobStore {
  /** The blob's bytes, or undefined when it does not exist. */
  get(container: string, name: string, options?: { abortSignal?: AbortSignal }): Promise<Buffer | undefined>;
  /** A stream of the blob's bytes, or undefined when it does not exist. */
  openRead(container: string, name: string, options?: { abortSignal?: AbortSignal }): Promise<Readable | undefined>;
  /** Writes the blob; with `ifNotExists`, resolves `false` (and writes nothing) when it exists. */
  put(container: string, name: string, body: Buffer | Readable, options?: PutBlobOptions): Promise<boolean>;
  /** Succeeds when absent. */
  delete(container: string, name: string): Promise<void>;
  /** Names under a prefix, in pages. */
  list(container: string, prefix?: string): AsyncIterable<string>;
  ping(): Promise<Reachability>;
}

/** Blob names are relative paths of safe segments; anything else is a programming error. */
export function checkBlobName(name: string): string {
  if (name.length === 0 || name.length > 1024 || name.startsWith("/") || name.split("/").some((s) => s === "" || s === "." || s === ".." || !/^[A-Za-z0-9._:+=@-]+$/.test(s))) {
    throw new Error(`invalid blob name ${JSON.stringify(name)}`);
  }
  return name;
}
