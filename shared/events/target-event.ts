import type { Digest } from "../domain/digest.js";
import type { RegistryEventAction, RegistryEventSource } from "../domain/registry-event.js";
import { ignored, invalid, type EventConversion } from "./result.js";
import { definedOnly, manifestSize, nonManifestReason } from "./wire.js";

/**
 * The notification shape ACR (webhooks, Event Grid and CloudEvents data) and CNCF distribution
 * share — a `target` manifest and the `request` that touched it — already validated by each
 * format's own schema.
 */
export interface TargetNotification {
  readonly id: string;
  readonly timestamp: string;
  readonly target: {
    readonly repository: string;
    readonly tag?: string | undefined;
    readonly digest?: Digest | undefined;
    readonly mediaType?: string | undefined;
    readonly size?: number | null | undefined;
    readonly length?: number | null | undefined;
  };
  readonly request: { readonly host: string; readonly useragent?: string | undefined };
  readonly actor?: { readonly name?: string | undefined } | null | undefined;
}

/**
 * The `RegistryEvent` a validated notification reports, or why it is ignored or invalid: push and
 * pull need a digest; a delete needs a digest or a tag (neither is ignored: possibly a whole
 * repository delete, which one event cannot express — the scheduled reconcile catches it); a
 * target that is not a manifest is ignored.
 */
export function eventFromTarget(
  notification: TargetNotification,
  action: RegistryEventAction,
  source: RegistryEventSource,
  path: readonly PropertyKey[]
): EventConversion {
  const { target } = notification;
  if (action !== "delete" && target.digest === undefined) {
    return invalid([...path, "target", "digest"], `is required for a ${action}`);
  }
  if (target.digest === undefined && target.tag === undefined) {
    return ignored("delete names neither target.digest nor target.tag", notification.id);
  }
  const notManifest = nonManifestReason(target.mediaType, "target.mediaType");
  if (notManifest !== undefined) return ignored(notManifest, notification.id);
  return {
    kind: "event",
    event: definedOnly({
      action,
      registry: notification.request.host,
      repository: target.repository,
      tag: target.tag,
      digest: target.digest,
      mediaType: target.mediaType,
      time: notification.timestamp,
      source,
      eventId: notification.id,
      userAgent: notification.request.useragent,
      actor: notification.actor?.name,
      size: manifestSize(target.size, target.length)
    })
  };
}
