/**
 * Where OSV records come from before they are validated: a directory of `*.json` files (any depth)
 * or a zip such as the OSV bulk export's `<ECOSYSTEM>/all.zip`
 * (https://google.github.io/osv.dev/data/). Each yields raw texts with where they came from; the
 * build validates them (`osv.ts`). Reading is streamed and bounded: a record larger than
 * {@link MAX_RECORD_BYTES} is reported as a bad entry, never buffered whole.
 */
import { createReadStream } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import { join, relative } from "node:path";
import { Unzip, UnzipInflate, type UnzipFile } from "fflate";

/** No OSV record comes near this; a bigger entry is hostile or broken. */
export const MAX_RECORD_BYTES = 16 * 1024 * 1024;
/** Directory depth and entry count bounds, so a wrong path cannot walk a whole disk. */
const MAX_DEPTH = 8;
export const MAX_ENTRIES = 5_000_000;

export type RawRecord =
  | { readonly origin: string; readonly text: string }
  | { readonly origin: string; readonly error: string };

/** Every `*.json` under `dir`, sorted by path so builds are reproducible. */
export async function* readDirectory(dir: string): AsyncGenerator<RawRecord> {
  const files: string[] = [];
  const walk = async (at: string, depth: number): Promise<void> => {
    if (depth > MAX_DEPTH) return;
    for (const entry of await readdir(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      if (entry.isDirectory()) await walk(path, depth + 1);
      else if (entry.isFile() && entry.name.endsWith(".json")) {
        if (files.length >= MAX_ENTRIES) throw new Error(`${dir}: more than ${MAX_ENTRIES} files`);
        files.push(path);
      }
    }
  };
  await walk(dir, 0);
  files.sort();
  for (const file of files) {
    const origin = relative(dir, file);
    const size = (await stat(file)).size;
    if (size > MAX_RECORD_BYTES) yield { origin, error: `larger than ${MAX_RECORD_BYTES} bytes` };
    else yield { origin, text: await readFile(file, "utf8") };
  }
}

/**
 * Every `*.json` entry of a zip, streamed from `chunks` (a file stream or an HTTP body): entries
 * are inflated one at a time and yielded as they complete, so memory holds one record, not the zip.
 */
export async function* readZip(chunks: AsyncIterable<Uint8Array>, label: string): AsyncGenerator<RawRecord> {
  const ready: RawRecord[] = [];
  let failure: Error | undefined;
  let entries = 0;
  const unzip = new Unzip((file: UnzipFile) => {
    if (!file.name.endsWith(".json")) return;
    if (++entries > MAX_ENTRIES) {
      failure = new Error(`${label}: more than ${MAX_ENTRIES} entries`);
      return;
    }
    const parts: Uint8Array[] = [];
    let size = 0;
    let tooBig = false;
    file.ondata = (err, data, final) => {
      if (err !== null) {
        ready.push({ origin: file.name, error: `cannot inflate: ${err.message}` });
        return;
      }
      size += data.length;
      if (size > MAX_RECORD_BYTES) tooBig = true;
      else parts.push(data);
      if (!final) return;
      ready.push(tooBig ? { origin: file.name, error: `larger than ${MAX_RECORD_BYTES} bytes` } : { origin: file.name, text: Buffer.concat(parts).toString("utf8") });
    };
    file.start();
  });
  unzip.register(UnzipInflate);
  for await (const chunk of chunks) {
    unzip.push(chunk);
    if (failure !== undefined) throw failure;
    while (ready.length > 0) yield ready.shift() as RawRecord;
  }
  unzip.push(new Uint8Array(0), true);
  if (failure !== undefined) throw failure;
  while (ready.length > 0) yield ready.shift() as RawRecord;
}

/** A local path: a directory, a zip, or a single `.json` record. */
export async function* readLocalSource(path: string): AsyncGenerator<RawRecord> {
  const info = await stat(path);
  if (info.isDirectory()) {
    yield* readDirectory(path);
    return;
  }
  if (path.endsWith(".json")) {
    yield info.size > MAX_RECORD_BYTES ? { origin: path, error: `larger than ${MAX_RECORD_BYTES} bytes` } : { origin: path, text: await readFile(path, "utf8") };
    return;
  }
  yield* readZip(createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Uint8Array>, path);
}
