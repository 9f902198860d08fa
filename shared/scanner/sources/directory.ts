import { lstat, open, readdir, readlink } from "node:fs/promises";
import { join } from "node:path";
import { ScanhookError } from "../../domain/errors.js";
import type { Analyzer } from "../analyzer.js";
import type { ImageSource } from "../indexer.js";
import { LayerCollector, type LayerScan, type ReadLayerOptions } from "../layer.js";
import { limitError } from "../limits.js";

/**
 * A root file system on disk (`dir:<rootfs>`), read as one layer and never cached. Symlinks are
 * never followed on the host: each is read with `readlink` and resolved inside the root like a
 * layer's, so a link to `/etc/passwd` reads the rootfs's file, not the machine's. Special files
 * are skipped. The same limits apply as to a layer (entries, path length, file size).
 */

async function readBounded(path: string, size: number): Promise<Buffer> {
  const handle = await open(path, "r");
  try {
    const buf = Buffer.alloc(size);
    const { bytesRead } = await handle.read(buf, 0, size, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

async function readDirectory(root: string, analyzers: readonly Analyzer[], options: ReadLayerOptions): Promise<LayerScan> {
  const collector = new LayerCollector(analyzers, options.limits);
  let entries = 0;
  let bytes = 0;
  const walk = async (rel: string): Promise<void> => {
    const names = await readdir(rel === "" ? root : join(root, rel));
    for (const name of names.sort()) {
      if (options.abortSignal?.aborted === true) throw new ScanhookError("SCAN.ABORTED", "the scan was aborted");
      entries++;
      if (entries > options.limits.maxEntries) throw limitError("LAYER.TOO_MANY_ENTRIES", "the number of entries in the directory", options.limits.maxEntries);
      const path = rel === "" ? name : `${rel}/${name}`;
      if (Buffer.byteLength(path) > options.limits.maxPathBytes) throw limitError("LAYER.PATH_TOO_LONG", "an entry path", options.limits.maxPathBytes);
      const full = join(root, path);
      const st = await lstat(full);
      if (st.isDirectory()) {
        await walk(path);
      } else if (st.isSymbolicLink()) {
        collector.entry(path, "symlink", 0, await readlink(full));
      } else if (st.isFile()) {
        const claim = collector.entry(path, "file", st.size, "");
        if (claim !== undefined) {
          const body = await readBounded(full, st.size);
          bytes += body.length;
          collector.file(claim, body);
        }
      }
    }
  };
  await walk("");
  return collector.finish({ entries, compressedBytes: bytes, uncompressedBytes: bytes });
}

export function directorySource(root: string): ImageSource {
  return {
    name: `dir:${root}`,
    digest: undefined,
    layers: [{ digest: undefined, diffId: undefined, size: undefined, read: (analyzers, options) => readDirectory(root, analyzers, options) }]
  };
}
