import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import { describeError, isScanhookError } from "../shared/domain/errors.js";
import type { EventParseResult } from "../shared/events/index.js";
import { recordEvents } from "../shared/usecases/record-events.js";
import { errorResponse, json, readBody } from "./http.js";
import type { Services } from "./services.js";

/** How long a registry should wait before redelivering after a 503. */
const RETRY_AFTER_SECONDS = "30";

/**
 * The shared path of the three webhook endpoints: bounded body → the format's parser → records and
 * scan requests → 200. A 2xx only ever follows a successful write and enqueue; anything that is
 * not the sender's fault is a 503 with Retry-After, so the registry delivers the event again.
 */
export async function acceptRegistryEvents(
  request: HttpRequest,
  context: InvocationContext,
  services: Services,
  parse: (contentType: string | undefined, body: string) => EventParseResult
): Promise<HttpResponseInit> {
  const body = await readBody(request, services.settings.HTTP_MAX_BODY_BYTES);
  const parsed = parse(request.headers.get("content-type") ?? undefined, body.toString("utf8"));
  switch (parsed.kind) {
    case "invalid":
      return json(400, { error: { code: "EVENT.INVALID", message: parsed.reason, field: parsed.field } });
    case "unsupported-media-type":
      return errorResponse(415, "EVENT.UNSUPPORTED_MEDIA_TYPE", parsed.reason);
    case "subscription-validation":
      context.info(`Event Grid subscription validation answered`);
      return json(200, parsed.response);
    case "events":
      break;
  }
  try {
    const outcome = await recordEvents(parsed.events, {
      images: services.store.images,
      queues: services.queues,
      registries: services.settings.registries,
      now: () => new Date()
    });
    return json(200, {
      accepted: outcome.applied,
      scansRequested: outcome.scansRequested,
      ignored: [...parsed.ignored, ...outcome.ignored]
    });
  } catch (e) {
    if (isScanhookError(e) && e.status !== undefined && e.status < 500) throw e;
    context.error(`events not recorded, the registry will retry: ${describeError(e)}`);
    return errorResponse(503, "EVENT.NOT_RECORDED", "the event could not be stored or queued now; retry later", {
      "retry-after": RETRY_AFTER_SECONDS
    });
  }
}
