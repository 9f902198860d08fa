import { createHash } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

/**
 * Small real images built by code, for tests that push to a registry or read an OCI layout:
 * a tar layer written here (ustar, regular files and directories), gzipped, a config whose
 * `rootfs.diff_ids` are the uncompressed layer digests, and a manifest — OCI
 * (https://github.com/opencontainers/image-spec/blob/main/manifest.md) or Docker v2 schema 2.
 * Everything is deterministic: the same input gives the same digests.
 */

export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
export const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
export const OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
export const OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip";
export const DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
export const DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
export const DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json";
export const DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip";

export interface Blob {
  readonly mediaType: string;
  readonly bytes: Buffer;
  readonly digest: string;
  readonly size: number;
}

export interface BuiltImage {
  readonly manifest: Blob;
  readonly config: Blob;
  readonly layers: readonly Blob[];
  /** sha256 of each uncompressed layer tar, as in the config. */
  readonly diffIds: readonly string[];
}

export interface BuiltIndex {
  readonly index: Blob;
  readonly images: readonly BuiltImage[];
}

export function sha256(bytes: Uint8Array): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

export function blob(mediaType: string, bytes: Buffer): Blob {
  return { mediaType, bytes, digest: sha256(bytes), size: bytes.length };
}

const descriptor = (b: Blob, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ mediaType: b.mediaType, digest: b.digest, size: b.size, ...extra });

/** A file tree: path → content (string or bytes); a path ending in `/` is a directory. */
export type Files = Readonly<Record<string, string | Uint8Array>>;

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, "0")}\0`;
}

/** A ustar archive of `files`, in the order given, with fixed owner, mode and time. */
export function tar(files: Files): Buffer {
  const parts: Buffer[] = [];
  for (const [path, content] of Object.entries(files)) {
    const isDir = path.endsWith("/");
    const data = isDir ? Buffer.alloc(0) : Buffer.from(content);
    const header = Buffer.alloc(512);
    let name = path;
    let prefix = "";
    if (Buffer.byteLength(name) > 100) {
      const cut = path.lastIndexOf("/", path.length - 2);
      prefix = path.slice(0, cut);
      name = path.slice(cut + 1);
      if (Buffer.byteLength(name) > 100 || Buffer.byteLength(prefix) > 155) throw new Error(`path too long for ustar: ${path}`);
    }
    header.write(name, 0, 100, "utf8");
    header.write(octal(isDir ? 0o755 : 0o644, 8), 100, "ascii");
    header.write(octal(0, 8), 108, "ascii");
    header.write(octal(0, 8), 116, "ascii");
    header.write(octal(data.length, 12), 124, "ascii");
    header.write(octal(0, 12), 136, "ascii");
    header.write("        ", 148, "ascii");
    header.write(isDir ? "5" : "0", 156, "ascii");
    header.write("ustar\0", 257, "ascii");
    header.write("00", 263, "ascii");
    header.write("root", 265, "ascii");
    header.write("root", 297, "ascii");
    header.write(prefix, 345, 155, "utf8");
    let sum = 0;
    for (const byte of header) sum += byte;
    header.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "ascii");
    parts.push(header, data);
    const pad = (512 - (data.length % 512)) % 512;
    if (pad > 0) parts.push(Buffer.alloc(pad));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

export interface ImageOptions {
  /** One file tree per layer. */
  readonly layers: readonly Files[];
  readonly format?: "oci" | "docker";
  readonly platform?: { readonly os: string; readonly architecture: string; readonly variant?: string };
  readonly annotations?: Readonly<Record<string, string>>;
  /** Set for an OCI artifact: `artifactType` on the manifest, and this config media type. */
  readonly artifactType?: string;
  readonly configMediaType?: string;
}

export function buildImage(options: ImageOptions): BuiltImage {
  const docker = options.format === "docker";
  const platform = options.platform ?? { os: "linux", architecture: "amd64" };
  const tars = options.layers.map((files) => tar(files));
  // gzipSync writes mtime 0 and no name: the same tar always gives the same layer digest.
  const layers = tars.map((t) => blob(docker ? DOCKER_LAYER_GZIP : OCI_LAYER_GZIP, gzipSync(t)));
  const diffIds = tars.map(sha256);
  const config = blob(
    options.configMediaType ?? (docker ? DOCKER_CONFIG : OCI_CONFIG),
    Buffer.from(
      JSON.stringify({
        architecture: platform.architecture,
        os: platform.os,
        ...(platform.variant === undefined ? {} : { variant: platform.variant }),
        config: {},
        rootfs: { type: "layers", diff_ids: diffIds },
        history: diffIds.map(() => ({ created_by: "scanhook test fixture" }))
      })
    )
  );
  const manifestJson = {
    schemaVersion: 2,
    mediaType: docker ? DOCKER_MANIFEST : OCI_MANIFEST,
    ...(options.artifactType === undefined ? {} : { artifactType: options.artifactType }),
    config: descriptor(config),
    layers: layers.map((l) => descriptor(l)),
    ...(options.annotations === undefined ? {} : { annotations: options.annotations })
  };
  const manifest = blob(manifestJson.mediaType, Buffer.from(JSON.stringify(manifestJson)));
  return { manifest, config, layers, diffIds };
}

/** An index (or Docker manifest list) of platform images. */
export function buildIndex(images: readonly BuiltImage[], format: "oci" | "docker" = "oci"): BuiltIndex {
  const mediaType = format === "docker" ? DOCKER_MANIFEST_LIST : OCI_INDEX;
  const manifests = images.map((image) => {
    const config = JSON.parse(image.config.bytes.toString("utf8")) as { os: string; architecture: string; variant?: string };
    return descriptor(image.manifest, {
      platform: { os: config.os, architecture: config.architecture, ...(config.variant === undefined ? {} : { variant: config.variant }) }
    });
  });
  return { index: blob(mediaType, Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType, manifests }))), images };
}

export interface PushOptions {
  /** Tag to push the manifest under; without one it is pushed by digest. */
  readonly tag?: string;
  /** Headers for every request, e.g. `{ authorization: "Basic …" }`. */
  readonly headers?: Readonly<Record<string, string>>;
}

async function check(res: Response, what: string): Promise<void> {
  if (!res.ok) throw new Error(`${what}: HTTP ${res.status} ${await res.text()}`);
}

/** Pushes one blob (monolithic upload, OCI distribution spec "Pushing blobs"); skips what is there. */
export async function pushBlob(registryUrl: string, repository: string, b: Blob, headers: Readonly<Record<string, string>> = {}): Promise<void> {
  const head = await fetch(`${registryUrl}/v2/${repository}/blobs/${b.digest}`, { method: "HEAD", headers });
  if (head.status === 200) return;
  const start = await fetch(`${registryUrl}/v2/${repository}/blobs/uploads/`, { method: "POST", headers });
  await check(start, `start upload to ${repository}`);
  const location = start.headers.get("location");
  if (location === null) throw new Error("upload without a Location");
  const target = new URL(location, registryUrl);
  target.searchParams.set("digest", b.digest);
  const put = await fetch(target, { method: "PUT", headers: { ...headers, "content-type": "application/octet-stream" }, body: b.bytes });
  await check(put, `upload ${b.digest}`);
}

/** Pushes a manifest (or index) as it is, under a tag or its digest. */
export async function pushManifest(registryUrl: string, repository: string, manifest: Blob, options: PushOptions = {}): Promise<void> {
  const res = await fetch(`${registryUrl}/v2/${repository}/manifests/${options.tag ?? manifest.digest}`, {
    method: "PUT",
    headers: { ...options.headers, "content-type": manifest.mediaType },
    body: manifest.bytes
  });
  await check(res, `push manifest ${manifest.digest}`);
}

export async function pushImage(registryUrl: string, repository: string, image: BuiltImage, options: PushOptions = {}): Promise<void> {
  for (const b of [...image.layers, image.config]) await pushBlob(registryUrl, repository, b, options.headers);
  await pushManifest(registryUrl, repository, image.manifest, options);
}

export async function pushIndex(registryUrl: string, repository: string, built: BuiltIndex, options: PushOptions = {}): Promise<void> {
  for (const image of built.images) await pushImage(registryUrl, repository, image, { ...(options.headers === undefined ? {} : { headers: options.headers }) });
  await pushManifest(registryUrl, repository, built.index, options);
}

/**
 * Writes an OCI image layout (https://github.com/opencontainers/image-spec/blob/main/image-layout.md)
 * holding the image or index, tagged `tag` (`org.opencontainers.image.ref.name`), for tools that
 * read layouts (`skopeo copy oci:<dir>:<tag> …`, `umoci`).
 */
export async function writeOciLayout(dir: string, built: BuiltImage | BuiltIndex, tag = "latest"): Promise<void> {
  const blobsDir = join(dir, "blobs", "sha256");
  await mkdir(blobsDir, { recursive: true });
  const images = "index" in built ? built.images : [built];
  const all = images.flatMap((i) => [i.manifest, i.config, ...i.layers]);
  const top = "index" in built ? built.index : built.manifest;
  if ("index" in built) all.push(built.index);
  for (const b of all) await writeFile(join(blobsDir, b.digest.slice("sha256:".length)), b.bytes);
  await writeFile(join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  await writeFile(
    join(dir, "index.json"),
    JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [descriptor(top, { annotations: { "org.opencontainers.image.ref.name": tag } })] })
  );
}
