import { ScanhookError } from "../domain/errors.js";
import type { Digest } from "../domain/digest.js";
import { newImageRecord, withLocation, locationKey, type ImageRecord } from "../domain/image-record.js";
import { findRegistry, type RegistryConfig } from "../domain/registries.js";
import { isOwnPull, type RegistryEvent } from "../domain/registry-event.js";
import type { ScanRequest } from "../domain/scan-request.js";
import { QUEUES, type QueueSender } from "../queues/queues.js";
import type { Container } from "../store/port.js";
import { listImagesByLocation } from "../store/image-queries.js";

/**
 * What a registry event does to the records (issue: registry events in):
 * - a manifest push adds the location and tag, and asks for a scan unless the digest needs none;
 * - a pull sets last-pulled, except scanhook's own pulls (its user agent, or its account);
 * - a delete by digest removes that location (the record is marked deleted once none remain);
 *   a delete by tag removes the tag.
 * Every event is applied before the caller answers 2xx, so a 2xx means it is durable; a failure
 * propagates as 503 and the registry retries (each step is idempotent, so retries are safe). Events
 * are applied in order; a failure part-way leaves the earlier ones applied, which the retry of the
 * whole delivery applies again without harm.
 */

export interface RecordEventsDeps {
  readonly images: Container<ImageRecord>;
  readonly queues: QueueSender;
  readonly registries: readonly RegistryConfig[];
  readonly now: () => Date;
}

export interface RecordEventsOutcome {
  readonly applied: number;
  readonly scansRequested: number;
  readonly ignored: { readonly reason: string; readonly eventId?: string }[];
}

/** Most tags a single tag delete touches; a repository has few digests under one tag (one, really). */
const TAG_DELETE_PAGES = 20;

/** The 403 for events from a registry not in `REGISTRIES`, checked before anything is written. */
export function checkRegistriesAllowed(events: readonly RegistryEvent[], registries: readonly RegistryConfig[]): void {
  const unlisted = [...new Set(events.map((e) => e.registry).filter((host) => findRegistry(registries, host) === undefined))];
  if (unlisted.length > 0) {
    throw new ScanhookError(
      "EVENT.REGISTRY_NOT_ALLOWED",
      `events from ${unlisted.join(", ")}: not in REGISTRIES, so scanhook neither records nor contacts ${unlisted.length === 1 ? "it" : "them"}`,
      { status: 403, meta: { registries: unlisted } }
    );
  }
}

/** Whether a known record needs its manifest read or its scan retried after a push. */
function needsScan(record: ImageRecord | undefined): boolean {
  if (record === undefined || record.kind === undefined) return true;
  return record.scan.state === "failed" || record.scan.state === "timeout";
}

export async function recordEvents(events: readonly RegistryEvent[], deps: RecordEventsDeps): Promise<RecordEventsOutcome> {
  checkRegistriesAllowed(events, deps.registries);
  let applied = 0;
  let scansRequested = 0;
  const ignored: { reason: string; eventId?: string }[] = [];
  for (const event of events) {
    const registry = findRegistry(deps.registries, event.registry);
    if (event.action === "pull" && isOwnPull(event, registry?.pullIdentity === undefined ? [] : [registry.pullIdentity])) {
      ignored.push({ reason: "scanhook's own pull", eventId: event.eventId });
      continue;
    }
    if (event.action === "delete") {
      await applyDelete(event, deps);
      applied++;
      continue;
    }
    const digest = event.digest;
    if (digest === undefined) continue; // the schema makes push and pull carry one
    // Enqueue before writing: when the queue is down the event is refused (503) with nothing
    // stored, and when the store is down after the enqueue, the retry only enqueues again (the
    // consumer reads each digest once, and creates the record if it is missing).
    const current = (await deps.images.get(digest))?.doc;
    if (needsScan(current) && (event.action === "push" || current === undefined)) {
      await requestScan(deps, {
        kind: "index",
        digest,
        registry: event.registry,
        repository: event.repository,
        ...(event.tag === undefined ? {} : { tag: event.tag }),
        cause: `${event.source} ${event.action} ${event.eventId}`,
        requestedAt: deps.now().toISOString()
      });
      scansRequested++;
    }
    await deps.images.update(digest, (latest) => {
      let next = latest ?? newImageRecord(digest, deps.now());
      if (next.deleted) next = { ...next, deleted: false, deletedAt: undefined };
      return withLocation(next, {
        registry: event.registry,
        repository: event.repository,
        ...(event.tag === undefined ? {} : { tag: event.tag }),
        ...(event.action === "push" ? { pushedAt: new Date(event.time) } : { pulledAt: new Date(event.time) })
      });
    });
    applied++;
  }
  return { applied, scansRequested, ignored };
}

export function requestScan(deps: Pick<RecordEventsDeps, "queues">, request: ScanRequest): Promise<void> {
  return deps.queues.send(QUEUES.scanRequests, request);
}

async function applyDelete(event: RegistryEvent, deps: RecordEventsDeps): Promise<void> {
  if (event.digest !== undefined) {
    await removeLocation(event.digest, event, deps);
    return;
  }
  const tag = event.tag;
  if (tag === undefined) return;
  // A delete by tag names no digest: find the records that carry the tag at that location.
  const holders: Digest[] = [];
  let continuation: string | undefined;
  for (let page = 0; page < TAG_DELETE_PAGES; page++) {
    const found = await listImagesByLocation(deps.images, { registry: event.registry, repository: event.repository }, {
      limit: 100,
      ...(continuation === undefined ? {} : { continuation })
    });
    for (const record of found.items) {
      if (record.locations.some((l) => l.registry === event.registry && l.repository === event.repository && l.tags.includes(tag))) {
        holders.push(record.id as Digest);
      }
    }
    continuation = found.continuation;
    if (continuation === undefined) break;
  }
  for (const digest of holders) {
    await deps.images.update(digest, (current) => {
      if (current === undefined) return undefined;
      return {
        ...current,
        locations: current.locations.map((l) =>
          l.registry === event.registry && l.repository === event.repository ? { ...l, tags: l.tags.filter((t) => t !== tag) } : l
        )
      };
    });
  }
}

async function removeLocation(digest: Digest, event: RegistryEvent, deps: RecordEventsDeps): Promise<void> {
  const key = locationKey(event.registry, event.repository);
  await deps.images.update(digest, (current) => {
    // A delete of a digest scanhook never saw (or a blob delete, which looks the same) changes nothing.
    if (current === undefined || !current.locationKeys.includes(key)) return undefined;
    const locations = current.locations.filter((l) => !(l.registry === event.registry && l.repository === event.repository));
    const gone = locations.length === 0;
    return {
      ...current,
      locations,
      locationKeys: current.locationKeys.filter((k) => k !== key),
      ...(gone ? { deleted: true, deletedAt: deps.now().toISOString() } : {})
    };
  });
}
