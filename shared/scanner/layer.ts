import { Readable, Transform, Writable, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { Decompress } from "fzstd";
import { describeError, isScanhookError, ScanhookError } from "../domain/errors.js";
import { runExtract, type Analyzer } from "./analyzer.js";
import { limitError, type ScanLimits } from "./limits.js";
import { normalizeEntryPath, resolveLinkTarget } from "./paths.js";
import { TarParser, type TarEntry } from "./tar.js";

/**
 * Reads one layer as it streams: detects its compression from its first bytes (gzip, zstd or
 * none; the media type is only a hint and is not trusted), parses the tar, records whiteouts, and
 * hands every file an analyzer claims to that analyzer. Nothing is written to disk and only
 * claimed files (each at most `maxFileBytes`) are held in memory.
 *
 * Whiteouts follow the OCI image spec's layer changesets
 * (https://github.com/opencontainers/image-spec/blob/main/layer.md#whiteouts): `.wh.<name>`
 * deletes `<name>` from the layers below, `.wh..wh..opq` hides everything below its directory.
 *
 * Errors: `LAYER.TOO_LARGE` (compressed or uncompressed bound), `LAYER.CORRUPT` (bad gzip, zstd or
 * tar), `LAYER.TOO_MANY_ENTRIES`, `LAYER.PATH_TOO_LONG`, plus whatever the input stream errors
 * with (the registry's `REGISTRY.DIGEST_MISMATCH`). A path escaping the root with `..`, or a file
 * larger than `maxFileBytes`, is a warning.
 */

/** What one analyzer found in one layer: the per-layer cache entry. */
export interface AnalyzerLayerResult {
  /** Claimed regular files; `value` is null when extraction found nothing usable. */
  readonly files: readonly { readonly path: string; readonly value: unknown }[];
  /** Claimed paths that are links, with their target resolved inside the root. */
  readonly links: readonly { readonly path: string; readonly target: string }[];
  readonly warnings: readonly string[];
}

/** What every analyzer's view needs of a layer besides its claimed files: deletions and symlinks. */
export interface LayerChanges {
  readonly whiteouts: readonly string[];
  readonly opaqueDirs: readonly string[];
  /**
   * The layer's symlinks (up to `MAX_SYMLINKS`), target resolved inside the root: a directory
   * symlink in the middle of a path (`var/lib/rpm` → `usr/lib/sysimage/rpm`, merged-usr `lib` →
   * `usr/lib`) is resolved through them, since the tar does not say which links are directories.
   */
  readonly symlinks: readonly { readonly path: string; readonly target: string }[];
}

export interface LayerScan {
  readonly results: ReadonlyMap<string, AnalyzerLayerResult>;
  readonly changes: LayerChanges;
  readonly warnings: readonly string[];
  readonly entries: number;
  readonly compressedBytes: number;
  readonly uncompressedBytes: number;
}

export type Compression = "gzip" | "zstd" | "none";

export function detectCompression(head: Uint8Array): Compression {
  if (head[0] === 0x1f && head[1] === 0x8b) return "gzip";
  if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return "zstd";
  return "none";
}

/** Most warnings kept per layer; the rest are counted. */
const MAX_WARNINGS = 100;
/** Most symlinks recorded per layer (a Debian base has about 650): bounds the per-layer cache entry. */
export const MAX_SYMLINKS = 50_000;

class ZstdDecoder extends Transform {
  private readonly decoder = new Decompress((data) => {
    this.push(Buffer.from(data));
  });
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.decoder.push(chunk);
      callback();
    } catch (e) {
      callback(new ScanhookError("LAYER.CORRUPT", `layer is not valid zstd: ${describeError(e)}`, { cause: e }));
    }
  }
  override _flush(callback: TransformCallback): void {
    try {
      this.decoder.push(new Uint8Array(0), true);
      callback();
    } catch (e) {
      callback(new ScanhookError("LAYER.CORRUPT", `layer is not valid zstd: ${describeError(e)}`, { cause: e }));
    }
  }
}

function counter(limit: number, code: string, what: string, count: (n: number) => void): Transform {
  let total = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      total += chunk.length;
      count(total);
      if (total > limit) callback(limitError(code, what, limit, { bytes: total }));
      else callback(null, chunk);
    }
  });
}

/** Reads until it has `n` bytes (or the input ends), and gives back a stream of everything. */
async function peek(input: AsyncIterable<Buffer>, n: number): Promise<{ head: Buffer; stream: Readable }> {
  const it = input[Symbol.asyncIterator]();
  const chunks: Buffer[] = [];
  let size = 0;
  let done = false;
  while (size < n) {
    const r = await it.next();
    if (r.done === true) {
      done = true;
      break;
    }
    const chunk = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value as Uint8Array);
    chunks.push(chunk);
    size += chunk.length;
  }
  const head = Buffer.concat(chunks);
  async function* all(): AsyncGenerator<Buffer> {
    if (head.length > 0) yield head;
    if (done) return;
    for (;;) {
      const r = await it.next();
      if (r.done === true) return;
      yield Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value as Uint8Array);
    }
  }
  return { head, stream: Readable.from(all(), { objectMode: false }) };
}

export interface ReadLayerOptions {
  readonly limits: ScanLimits;
  readonly abortSignal?: AbortSignal;
}

/**
 * What a layer reader (a tar stream, or a directory) reports entry by entry, turned into a
 * `LayerScan`: whiteouts, claims, links, extractions, warnings.
 */
export class LayerCollector {
  private readonly results = new Map<string, { files: Map<string, unknown>; links: Map<string, string>; warnings: string[] }>();
  private readonly whiteouts = new Set<string>();
  private readonly opaqueDirs = new Set<string>();
  private readonly symlinks = new Map<string, string>();
  private symlinksDropped = 0;
  private readonly warnings: string[] = [];
  private suppressed = 0;

  constructor(
    private readonly analyzers: readonly Analyzer[],
    private readonly limits: ScanLimits
  ) {
    for (const a of analyzers) this.results.set(a.name, { files: new Map(), links: new Map(), warnings: [] });
  }

  warn(w: string): void {
    if (this.warnings.length < MAX_WARNINGS) this.warnings.push(w);
    else this.suppressed++;
  }

  /**
   * Reports one entry; returns the analyzers that want its content (then call `file`), or
   * undefined. `linkTarget` is the symlink's text or the hard link's archive path.
   */
  entry(rawPath: string, type: TarEntry["type"], size: number, linkTarget: string): { path: string; analyzers: Analyzer[] } | undefined {
    const path = normalizeEntryPath(rawPath);
    if (path === undefined) {
      this.warn(`entry ${JSON.stringify(rawPath.slice(0, 200))} climbs out of the image root with "..": ignored`);
      return undefined;
    }
    const slash = path.lastIndexOf("/");
    const base = path.slice(slash + 1);
    if (base.startsWith(".wh.")) {
      const dir = slash === -1 ? "" : path.slice(0, slash);
      if (base === ".wh..wh..opq") this.opaqueDirs.add(dir);
      else if (!base.startsWith(".wh..wh.")) this.whiteouts.add(dir === "" ? base.slice(4) : `${dir}/${base.slice(4)}`);
      return undefined;
    }
    if (type === "symlink") {
      if (this.symlinks.size < MAX_SYMLINKS || this.symlinks.has(path)) this.symlinks.set(path, resolveLinkTarget(path, linkTarget));
      else if (this.symlinksDropped++ === 0) this.warn(`more than ${MAX_SYMLINKS} symlinks: paths through the others are not resolved`);
    } else if (this.symlinks.size > 0) {
      // A later entry at the same path replaces the link.
      this.symlinks.delete(path);
    }
    if (type !== "file" && type !== "symlink" && type !== "hardlink") return undefined;
    const claiming = this.analyzers.filter((a) => a.matches(path));
    if (claiming.length === 0) return undefined;
    if (type !== "file") {
      // A symlink's target is relative to its directory; a hard link names an archive path.
      const target = type === "symlink" ? resolveLinkTarget(path, linkTarget) : normalizeEntryPath(linkTarget);
      for (const a of claiming) {
        const r = this.results.get(a.name);
        if (r === undefined) continue;
        r.files.delete(path);
        if (target === undefined) r.warnings.push(`${path}: hard link target ${JSON.stringify(linkTarget.slice(0, 200))} is outside the image root`);
        else r.links.set(path, target);
      }
      return undefined;
    }
    if (size > this.limits.maxFileBytes) {
      for (const a of claiming) this.results.get(a.name)?.warnings.push(`${path}: ${size} bytes is larger than the file limit of ${this.limits.maxFileBytes}: not read`);
      return undefined;
    }
    return { path, analyzers: claiming };
  }

  file(claim: { path: string; analyzers: readonly Analyzer[] }, body: Buffer): void {
    for (const a of claim.analyzers) {
      const r = this.results.get(a.name);
      if (r === undefined) continue;
      const extraction = runExtract(a, claim.path, body);
      r.links.delete(claim.path);
      r.files.set(claim.path, extraction.value ?? null);
      r.warnings.push(...extraction.warnings);
    }
  }

  finish(stats: { entries: number; compressedBytes: number; uncompressedBytes: number }): LayerScan {
    const warnings = [...this.warnings];
    if (this.suppressed > 0) warnings.push(`${this.suppressed} more warnings for this layer`);
    const results = new Map<string, AnalyzerLayerResult>();
    for (const [name, r] of this.results) {
      results.set(name, {
        files: [...r.files].map(([path, value]) => ({ path, value })),
        links: [...r.links].map(([path, target]) => ({ path, target })),
        warnings: r.warnings.slice(0, MAX_WARNINGS)
      });
    }
    const symlinks = [...this.symlinks].map(([path, target]) => ({ path, target }));
    return { results, changes: { whiteouts: [...this.whiteouts], opaqueDirs: [...this.opaqueDirs], symlinks }, warnings, ...stats };
  }
}

/**
 * Streams one layer through `analyzers` (those that still need it: the others were served from
 * the cache). Resolves once the whole input was read and verified; on any error nothing partial
 * is returned, so nothing partial can be cached.
 */
export async function readLayer(input: Readable, analyzers: readonly Analyzer[], options: ReadLayerOptions): Promise<LayerScan> {
  const { limits } = options;
  const collector = new LayerCollector(analyzers, limits);
  let compressedBytes = 0;
  let uncompressedBytes = 0;
  const claims = new Map<TarEntry, { path: string; analyzers: Analyzer[] }>();
  const parser = new TarParser(
    {
      onEntry(entry) {
        const claim = collector.entry(entry.path, entry.type, entry.size, entry.linkTarget);
        if (claim === undefined) return false;
        claims.set(entry, claim);
        return true;
      },
      onFile(entry, body) {
        const claim = claims.get(entry);
        claims.delete(entry);
        if (claim !== undefined) collector.file(claim, body);
      }
    },
    limits
  );

  const { head, stream } = await peek(input, 4);
  const compression = detectCompression(head);
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      uncompressedBytes += chunk.length;
      if (uncompressedBytes > limits.maxLayerUncompressedBytes) {
        callback(limitError("LAYER.TOO_LARGE", "the layer's uncompressed size", limits.maxLayerUncompressedBytes));
        return;
      }
      try {
        parser.write(chunk);
        callback();
      } catch (e) {
        callback(e as Error);
      }
    },
    final(callback) {
      try {
        parser.end();
        callback();
      } catch (e) {
        callback(e as Error);
      }
    }
  });
  const count = counter(limits.maxLayerBytes, "LAYER.TOO_LARGE", "the layer's compressed size", (n) => {
    compressedBytes = n;
  });
  const signal = options.abortSignal === undefined ? {} : { signal: options.abortSignal };
  try {
    if (compression === "gzip") await pipeline(stream, count, createGunzip(), sink, signal);
    else if (compression === "zstd") await pipeline(stream, count, new ZstdDecoder(), sink, signal);
    else await pipeline(stream, count, sink, signal);
  } catch (e) {
    if (isScanhookError(e)) throw e;
    if (e instanceof Error && e.name === "AbortError") throw new ScanhookError("SCAN.ABORTED", "the scan was aborted", { cause: e });
    const zlibCode = (e as NodeJS.ErrnoException).code;
    if (compression === "gzip" && typeof zlibCode === "string" && zlibCode.startsWith("Z_")) {
      throw new ScanhookError("LAYER.CORRUPT", `layer is not valid gzip: ${describeError(e)}`, { cause: e });
    }
    throw e;
  }
  return collector.finish({ entries: parser.entryCount, compressedBytes, uncompressedBytes });
}
