import { ScanRequestSchema } from "../shared/domain/scan-request.js";
import { QUEUES } from "../shared/queues/queues.js";
import { processScanRequest } from "../shared/usecases/process-scan-request.js";
import type { QueueFunction } from "./declaration.js";
import { dequeueCountOf, sendToPoison } from "./invoke.js";
import type { Services } from "./services.js";

/**
 * Consumes `scan-requests` (kinds `index` and `reindex`): reads the manifest, records what it says
 * and hands images to the scanner. A message that is not a scan request is poisoned at once with
 * the reason: retrying cannot make it valid.
 */
export const scanRequests: QueueFunction<Services> = {
  kind: "queue",
  name: "scanRequests",
  queueName: QUEUES.scanRequests,
  handler: async (message, context, services) => {
    const parsed = ScanRequestSchema.safeParse(message);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const reason = `not a scan request: ${issue?.path.join(".") || "message"}: ${issue?.message ?? "invalid"}`;
      await sendToPoison(services.queues, scanRequests, message, dequeueCountOf(context), { code: "QUEUE.INVALID_MESSAGE", message: reason });
      context.error(reason);
      return;
    }
    const messageId = typeof context.triggerMetadata?.id === "string" ? context.triggerMetadata.id : context.invocationId;
    const outcome = await processScanRequest(
      parsed.data,
      { images: services.store.images, registry: services.registry, queues: services.queues, scanner: services.scanner, now: () => new Date() },
      { messageId, isLastAttempt: dequeueCountOf(context) >= services.maxDequeueCount }
    );
    context.debug(`${parsed.data.digest}: ${outcome.kind}`);
    if (outcome.kind === "leased-elsewhere") context.info(`${parsed.data.digest} is being read by ${outcome.owner}; this request completes`);
  }
};
