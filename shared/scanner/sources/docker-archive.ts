import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import { Readable } from "node:stream";
import { z } from "zod";
import type { Digest } from "../../domain/digest.js";
import { isDigest } from "../../domain/digest.js";
import { ScanhookError } from "../../domain/errors.js";
import type { ImageSource } from "../indexer.js";
import { readLayer } from "../layer.js";
import type { ScanLimits } from "../limits.js";
import { normalizeEntryPath } from "../paths.js";
import { TarParser } from "../tar.js";
import { diffIdsOf, verifying } from "./common.js";

/**
 * A `docker save` archive (https://github.com/moby/docker-image-spec/blob/main/v1.2.md, "Combined
 * Image JSON + Filesystem Changeset Format"; also what `skopeo copy … docker-archive:` writes): a
 * tar holding `manifest.json` (`[{Config, RepoTags, Layers}]`), the config and one tar per layer.
 * The outer tar is indexed once (headers only); each layer is then streamed from its offset, so
 * nothing is extracted. Layers are cached by their uncompressed digest when the config lists it.
 */

const ManifestSchema = z.array(z.object({ Config: z.string(), RepoTags: z.array(z.string()).nullish(), Layers: z.array(z.string()) })).min(1);

interface Member {
  readonly offset: number;
  readonly size: number;
}

async function indexArchive(path: string, limits: ScanLimits): Promise<{ members: Map<string, Member>; small: Map<string, Buffer> }> {
  const members = new Map<string, Member>();
  const small = new Map<string, Buffer>();
  const parser = new TarParser(
    {
      onEntry(entry) {
        const name = normalizeEntryPath(entry.path);
        if (name === undefined || entry.type !== "file") return false;
        members.set(name, { offset: entry.dataOffset, size: entry.size });
        return (name === "manifest.json" || name.endsWith(".json")) && entry.size <= limits.maxManifestBytes;
      },
      onFile(entry, body) {
        const name = normalizeEntryPath(entry.path);
        if (name !== undefined) small.set(name, body);
      }
    },
    { maxEntries: limits.maxEntries, maxPathBytes: limits.maxPathBytes }
  );
  // Headers are read and bodies skipped by seeking: an archive of gigabytes indexes in milliseconds.
  const handle = await open(path, "r");
  try {
    const size = (await handle.stat()).size;
    let position = 0;
    const header = Buffer.alloc(512);
    while (position + 512 <= size) {
      await handle.read(header, 0, 512, position);
      position += 512;
      parser.write(header);
      const body = parser.pendingBody;
      if (body === undefined) continue;
      if (!body.collecting) {
        parser.skipBody();
        position += body.bytes;
        continue;
      }
      if (position + body.bytes > size) throw new ScanhookError("IMAGE.INVALID", `${path}: the archive is truncated`);
      const bytes = Buffer.alloc(body.bytes);
      await handle.read(bytes, 0, body.bytes, position);
      position += body.bytes;
      parser.write(bytes);
    }
    parser.end();
  } finally {
    await handle.close();
  }
  return { members, small };
}

/**
 * A member read by its offset: the config, which newer `docker save` (Docker 25+, an OCI layout
 * inside) names `blobs/sha256/<hex>` rather than `<hex>.json`, so the index did not collect it.
 */
async function readMember(path: string, member: Member | undefined, limits: ScanLimits): Promise<Buffer | undefined> {
  if (member === undefined || member.size > limits.maxManifestBytes) return undefined;
  const handle = await open(path, "r");
  try {
    const bytes = Buffer.alloc(member.size);
    const { bytesRead } = await handle.read(bytes, 0, member.size, member.offset);
    return bytesRead === member.size ? bytes : undefined;
  } finally {
    await handle.close();
  }
}

export async function dockerArchiveSource(path: string, options: { readonly limits: ScanLimits }): Promise<ImageSource> {
  const what = `docker-archive:${path}`;
  const { members, small } = await indexArchive(path, options.limits);
  const manifestBytes = small.get("manifest.json");
  if (manifestBytes === undefined) throw new ScanhookError("IMAGE.INVALID", `${what}: no manifest.json in the archive`);
  const parsed = ManifestSchema.safeParse(JSON.parse(manifestBytes.toString("utf8")));
  if (!parsed.success) throw new ScanhookError("IMAGE.INVALID", `${what}: manifest.json is not a docker archive manifest`);
  const image = parsed.data[0];
  if (image === undefined) throw new ScanhookError("IMAGE.INVALID", `${what}: manifest.json lists no image`);
  const configName = normalizeEntryPath(image.Config) ?? "";
  const config = small.get(configName) ?? (await readMember(path, members.get(configName), options.limits));
  if (config === undefined) throw new ScanhookError("IMAGE.INVALID", `${what}: config ${image.Config} is missing`);
  const diffIds = diffIdsOf(config, image.Layers.length);
  return {
    name: what,
    digest: undefined,
    layers: image.Layers.map((layerName, i) => {
      const member = members.get(normalizeEntryPath(layerName) ?? "");
      if (member === undefined) throw new ScanhookError("IMAGE.INVALID", `${what}: layer ${layerName} is missing`);
      // The cache key must be the digest of the bytes read, checked while they stream, or a crafted
      // archive could poison the cache for a real layer: `blobs/sha256/<hex>` names (newer docker)
      // are that digest, and for an uncompressed layer (docker save) so is its diff id.
      const fromName = /^blobs\/sha256\/([a-f0-9]{64})$/.exec(normalizeEntryPath(layerName) ?? "");
      const named = fromName?.[1] === undefined ? undefined : `sha256:${fromName[1]}`;
      const digest: Digest | undefined = named !== undefined && isDigest(named) ? named : diffIds[i];
      return {
        digest,
        diffId: diffIds[i],
        size: member.size,
        read(analyzers, readOptions) {
          const raw = createReadStream(path, { start: member.offset, end: Math.max(member.offset, member.offset + member.size - 1) });
          const input = member.size === 0 ? Readable.from([]) : raw;
          return readLayer(digest === undefined ? input : input.pipe(verifying(digest, `${what} layer ${i + 1}`)), analyzers, readOptions);
        }
      };
    })
  };
}
