import { Readable } from "node:stream";
import type { BlobServiceClient, ContainerClient } from "@azure/storage-blob";
import { RestError } from "@azure/storage-blob";
import { describeError } from "../domain/errors.js";
import { OncePerKey } from "../once.js";
import type { Reachability } from "../queues/queues.js";
import { checkBlobName, type BlobStore, type PutBlobOptions } from "./blobs.js";

/** Azure Blob Storage (Azurite locally). Containers are created on first use. */
export class AzureBlobStore implements BlobStore {
  private readonly created = new OncePerKey();

  constructor(private readonly service: BlobServiceClient) {}

  private async container(name: string): Promise<ContainerClient> {
    const client = this.service.getContainerClient(name);
    await this.created.run(name, () => client.createIfNotExists());
    return client;
  }

  async get(container: string, name: string, options: { abortSignal?: AbortSignal } = {}): Promise<Buffer | undefined> {
    const client = (await this.container(container)).getBlobClient(checkBlobName(name));
    try {
      return await client.downloadToBuffer(0, undefined, options.abortSignal === undefined ? {} : { abortSignal: options.abortSignal });
    } catch (e) {
      if (e instanceof RestError && e.statusCode === 404) return undefined;
      throw e;
    }
  }

  async openRead(container: string, name: string, options: { abortSignal?: AbortSignal } = {}): Promise<Readable | undefined> {
    const client = (await this.container(container)).getBlobClient(checkBlobName(name));
    try {
      const response = await client.download(0, undefined, options.abortSignal === undefined ? {} : { abortSignal: options.abortSignal });
      const body = response.readableStreamBody;
      return body === undefined ? Readable.from([]) : Readable.from(body);
    } catch (e) {
      if (e instanceof RestError && e.statusCode === 404) return undefined;
      throw e;
    }
  }

  async put(container: string, name: string, body: Buffer | Readable, options: PutBlobOptions = {}): Promise<boolean> {
    const client = (await this.container(container)).getBlockBlobClient(checkBlobName(name));
    const common = {
      ...(options.contentType === undefined ? {} : { blobHTTPHeaders: { blobContentType: options.contentType } }),
      ...(options.ifNotExists === true ? { conditions: { ifNoneMatch: "*" } } : {}),
      ...(options.abortSignal === undefined ? {} : { abortSignal: options.abortSignal })
    };
    try {
      if (Buffer.isBuffer(body)) await client.uploadData(body, common);
      else await client.uploadStream(body, 4 * 1024 * 1024, 4, common);
      return true;
    } catch (e) {
      if (options.ifNotExists === true && e instanceof RestError && (e.statusCode === 409 || e.statusCode === 412)) return false;
      throw e;
    }
  }

  async delete(container: string, name: string): Promise<void> {
    await (await this.container(container)).getBlobClient(checkBlobName(name)).deleteIfExists();
  }

  async *list(container: string, prefix?: string): AsyncIterable<string> {
    const client = await this.container(container);
    for await (const item of client.listBlobsFlat(prefix === undefined ? {} : { prefix })) yield item.name;
  }

  async ping(): Promise<Reachability> {
    try {
      await this.service.getContainerClient(BLOB_PING_CONTAINER).exists({ abortSignal: AbortSignal.timeout(5000) });
      return { ok: true };
    } catch (e) {
      return { ok: false, error: describeError(e) };
    }
  }
}

/** `exists` on a container needs only read access to it (Storage Blob Data Reader or more). */
const BLOB_PING_CONTAINER = "scanhook-results";
