import type { ImageRecord } from "../domain/image-record.js";
import type { QueueSender } from "../queues/queues.js";
import { listImagesByScanState } from "../store/image-queries.js";
import type { Container } from "../store/port.js";
import { requestScan } from "./record-events.js";

/**
 * At start, asks again for every record still `queued`, so nothing waits forever: a scan request
 * lost with a crashed queue, or images recorded before a scanner existed. Records whose manifest is
 * already known are asked for only when a scanner can take them (`includeRecorded`). Bounded:
 * at most `maxRecords` per call; the next start continues.
 */
export async function resumeWaiting(
  deps: { readonly images: Container<ImageRecord>; readonly queues: QueueSender; readonly now: () => Date },
  options: { readonly includeRecorded: boolean; readonly maxRecords?: number }
): Promise<number> {
  const max = options.maxRecords ?? 10_000;
  let requested = 0;
  let seen = 0;
  let continuation: string | undefined;
  do {
    const page = await listImagesByScanState(deps.images, "queued", { limit: 200, ...(continuation === undefined ? {} : { continuation }) });
    for (const record of page.items) {
      seen++;
      const location = record.locations[0];
      if (location === undefined || (record.kind !== undefined && !options.includeRecorded)) continue;
      await requestScan(deps, {
        kind: "index",
        digest: record.id,
        registry: location.registry,
        repository: location.repository,
        cause: "resumed at start",
        requestedAt: deps.now().toISOString()
      });
      requested++;
    }
    continuation = page.continuation;
  } while (continuation !== undefined && seen < max);
  return requested;
}
