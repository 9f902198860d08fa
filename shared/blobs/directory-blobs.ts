import { createReadStream } from "node:fs";
import { mkdir, open, readdir, readFile, rename, rm, stat } from "node:fs/promises";
import { dirname, join, relative, sep } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createWriteStream } from "node:fs";
import { randomUUID } from "node:crypto";
import { describeError } from "../domain/errors.js";
import type { Reachability } from "../queues/queues.js";
import { checkBlobName, type BlobStore, type PutBlobOptions } from "./blobs.js";

/**
 * Blobs as files under a directory (`<root>/<container>/<name>`): the CLI's cache and any
 * single-machine use. Writes go to a temporary file renamed into place, so a reader never sees
 * half a blob; `ifNotExists` holds across processes because the rename target is checked first.
 */
export class DirectoryBlobStore implements BlobStore {
  constructor(private readonly root: string) {}

  private path(container: string, name: string): string {
    return join(this.root, checkBlobName(container), ...checkBlobName(name).split("/"));
  }

  async get(container: string, name: string): Promise<Buffer | undefined> {
    try {
      return await readFile(this.path(container, name));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw e;
    }
  }

  async openRead(container: string, name: string): Promise<Readable | undefined> {
    const path = this.path(container, name);
    try {
      await stat(path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw e;
    }
    return createReadStream(path);
  }

  async put(container: string, name: string, body: Buffer | Readable, options: PutBlobOptions = {}): Promise<boolean> {
    const path = this.path(container, name);
    await mkdir(dirname(path), { recursive: true });
    if (options.ifNotExists === true && (await exists(path))) return false;
    const tmp = `${path}.${randomUUID()}.tmp`;
    try {
      if (Buffer.isBuffer(body)) {
        const handle = await open(tmp, "w");
        try {
          await handle.writeFile(body);
        } finally {
          await handle.close();
        }
      } else {
        await pipeline(body, createWriteStream(tmp));
      }
      if (options.ifNotExists === true && (await exists(path))) return false;
      await rename(tmp, path);
      return true;
    } finally {
      await rm(tmp, { force: true });
    }
  }

  async delete(container: string, name: string): Promise<void> {
    await rm(this.path(container, name), { force: true });
  }

  async *list(container: string, prefix = ""): AsyncIterable<string> {
    const base = join(this.root, checkBlobName(container));
    const walk = async function* (dir: string): AsyncIterable<string> {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
        throw e;
      }
      for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
        const full = join(dir, entry.name);
        if (entry.isDirectory()) yield* walk(full);
        else if (!entry.name.endsWith(".tmp")) yield relative(base, full).split(sep).join("/");
      }
    };
    for await (const name of walk(base)) if (name.startsWith(prefix)) yield name;
  }

  async ping(): Promise<Reachability> {
    try {
      await mkdir(this.root, { recursive: true });
      return { ok: true };
    } catch (e) {
      return { ok: false, error: describeError(e) };
    }
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
