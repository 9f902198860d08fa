import type { QueueClient, QueueServiceClient } from "@azure/storage-queue";
import { describeError, ScanhookError } from "../domain/errors.js";
import { OncePerKey } from "../once.js";
import { QUEUES, type QueueSender, type Reachability, type SendOptions } from "./queues.js";

/**
 * Azure Storage queues (Azurite locally). Messages are JSON, base64-encoded: host.json sets
 * `messageEncoding` to `base64`, so the Functions host (and the local host) decode them the same.
 */
export const MESSAGE_ENCODING = "base64";

/** The queue service's limit is 64 KiB of (encoded) message text. */
export const MAX_MESSAGE_BYTES = 64 * 1024;

export function encodeMessage(body: unknown): string {
  const encoded = Buffer.from(JSON.stringify(body), "utf8").toString("base64");
  if (encoded.length > MAX_MESSAGE_BYTES) {
    throw new ScanhookError("QUEUE.MESSAGE_TOO_LARGE", `queue message is ${encoded.length} bytes encoded; the limit is ${MAX_MESSAGE_BYTES}`);
  }
  return encoded;
}

export class StorageQueueSender implements QueueSender {
  private readonly created = new OncePerKey();

  constructor(private readonly service: QueueServiceClient) {}

  private async queue(name: string): Promise<QueueClient> {
    const client = this.service.getQueueClient(name);
    await this.created.run(name, () => client.createIfNotExists());
    return client;
  }

  async send(queue: string, body: unknown, options: SendOptions = {}): Promise<void> {
    const text = encodeMessage(body);
    try {
      const client = await this.queue(queue);
      await client.sendMessage(text, {
        ...(options.visibilityTimeoutSeconds === undefined ? {} : { visibilityTimeout: options.visibilityTimeoutSeconds }),
        ...(options.abortSignal === undefined ? {} : { abortSignal: options.abortSignal })
      });
    } catch (e) {
      throw new ScanhookError("QUEUE.UNAVAILABLE", `could not enqueue on ${queue}: ${describeError(e)}`, { cause: e, status: 503 });
    }
  }

  /**
   * Reads one queue's properties: that needs only `queues/read`, which Storage Queue Data
   * Contributor grants (the service's properties need more). A missing queue still answered.
   */
  async ping(): Promise<Reachability> {
    try {
      await this.service.getQueueClient(QUEUES.scanRequests).exists({ abortSignal: AbortSignal.timeout(5000) });
      return { ok: true };
    } catch (e) {
      return { ok: false, error: describeError(e) };
    }
  }
}
