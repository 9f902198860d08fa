import type { BlobStore } from "../shared/blobs/blobs.js";
import type { ImageRecord } from "../shared/domain/image-record.js";
import { QUEUES } from "../shared/queues/queues.js";
import type { Store } from "../shared/store/port.js";
import type { VulnDbProvider } from "../shared/vulndb/provider.js";
import { rematch, RematchRequestSchema } from "../shared/vulndb/rematch.js";
import type { QueueFunction } from "./declaration.js";
import { dequeueCountOf, sendToPoison, type InvokeServices } from "./invoke.js";

/** What this function needs of `Services`. */
export interface RematchServices extends InvokeServices {
  readonly store: Store<ImageRecord>;
  readonly blobs: BlobStore;
  readonly vulndb: VulnDbProvider;
}

/**
 * Consumes `rematch-requests` (DESIGN principle 7: the function app): matches a stored SBOM again
 * against the current DB. Without a DB the message completes and the record keeps its
 * `no-vulnerability-db` gap; it is queued again when a DB is published. A message that is not a
 * rematch request is poisoned at once with the reason.
 */
export const rematchRequests: QueueFunction<RematchServices> = {
  kind: "queue",
  name: "rematchRequests",
  queueName: QUEUES.rematchRequests,
  handler: async (message, context, services) => {
    const parsed = RematchRequestSchema.safeParse(message);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const reason = `not a rematch request: ${issue?.path.join(".") || "message"}: ${issue?.message ?? "invalid"}`;
      await sendToPoison(services.queues, rematchRequests, message, dequeueCountOf(context), { code: "QUEUE.INVALID_MESSAGE", message: reason });
      context.error(reason);
      return;
    }
    const outcome = await rematch(parsed.data, { images: services.store.images, blobs: services.blobs, matcher: () => services.vulndb.matcher(), now: () => new Date() });
    context.debug(`${parsed.data.digest}: ${outcome.kind}`);
  }
};
