import type { HttpRequest, HttpResponseInit, InvocationContext, Timer } from "@azure/functions";
import { describeError, isScanhookError } from "../shared/domain/errors.js";
import { checkKey, type KeySet } from "../shared/keys.js";
import { poisonQueueOf, type QueueSender } from "../shared/queues/queues.js";
import type { HttpFunction, QueueFunction, TimerFunction } from "./declaration.js";
import { errorResponse } from "./http.js";

/**
 * The one invocation path both runtimes use: `functions/index.ts` (Azure Functions) and the local
 * host (`npm start`) call these, so key checks, error mapping and poisoning cannot drift.
 */

export interface InvokeServices {
  readonly keys: KeySet;
  readonly queues: QueueSender;
}

/** The key a caller presented: `x-functions-key`, else the `code` query value (both Functions conventions). */
function presentedKey(request: HttpRequest): string | undefined {
  return request.headers.get("x-functions-key") ?? request.query.get("code") ?? undefined;
}

export async function invokeHttp<S extends InvokeServices>(
  fn: HttpFunction<S>,
  request: HttpRequest,
  context: InvocationContext,
  services: S
): Promise<HttpResponseInit> {
  if (fn.key !== "none") {
    const presented = fn.key === "admission" ? request.params.secret : presentedKey(request);
    const check = checkKey(services.keys, fn.key, presented);
    if (check !== "ok") {
      // Say what is wrong, never which part of a key matched; the key itself is never logged.
      context.warn(`${fn.name}: refused, ${check} ${fn.key} key`);
      if (check === "unconfigured") return errorResponse(503, "AUTH.UNCONFIGURED", `no ${fn.key} key is configured on this server`);
      return errorResponse(
        401,
        check === "missing" ? "AUTH.MISSING_KEY" : "AUTH.WRONG_KEY",
        fn.key === "admission"
          ? "missing or wrong admission secret (last path segment)"
          : `missing or wrong ${fn.key} key: send it as the x-functions-key header or the code query value`
      );
    }
  }
  try {
    return await fn.handler(request, context, services);
  } catch (e) {
    if (isScanhookError(e) && e.status !== undefined && e.status < 500) {
      return errorResponse(e.status, e.code, e.message);
    }
    if (isScanhookError(e) && e.status !== undefined) {
      context.error(`${fn.name}: ${describeError(e)}`);
      return errorResponse(e.status, e.code, e.message, e.status === 503 ? { "retry-after": "10" } : {});
    }
    context.error(`${fn.name}: unexpected error: ${describeError(e)}`, e);
    return errorResponse(500, "INTERNAL", `internal error (invocation ${context.invocationId})`);
  }
}

/** What a poison message carries: the original message and why it failed. */
export interface PoisonMessage {
  readonly poisoned: {
    readonly function: string;
    readonly queue: string;
    readonly dequeueCount: number;
    readonly at: string;
    readonly reason: { readonly code: string; readonly message: string };
  };
  readonly message: unknown;
}

export function dequeueCountOf(context: InvocationContext): number {
  const n = Number(context.triggerMetadata?.dequeueCount);
  return Number.isFinite(n) && n > 0 ? n : 1;
}

/**
 * Runs a queue function. A failure is rethrown (the host retries after `visibilityTimeout`) unless
 * this was the last attempt: then the message goes to `<queue>-poison` with the reason and the
 * invocation completes, so the host deletes the original instead of moving it without a reason.
 */
export async function invokeQueue<S extends InvokeServices>(
  fn: QueueFunction<S>,
  message: unknown,
  context: InvocationContext,
  services: S,
  maxDequeueCount: number,
  now: () => Date = () => new Date()
): Promise<void> {
  try {
    await fn.handler(message, context, services);
  } catch (e) {
    const dequeueCount = dequeueCountOf(context);
    if (dequeueCount < maxDequeueCount) {
      context.warn(`${fn.name}: attempt ${dequeueCount} of ${maxDequeueCount} failed: ${describeError(e)}`);
      throw e;
    }
    context.error(`${fn.name}: giving up after ${dequeueCount} attempts, to ${poisonQueueOf(fn.queueName)}: ${describeError(e)}`);
    await sendToPoison(services.queues, fn, message, dequeueCount, { code: isScanhookError(e) ? e.code : "INTERNAL", message: describeError(e) }, now);
  }
}

/** Writes `message` with the reason to `<queue>-poison` (the host's own move carries no reason). */
export async function sendToPoison(
  queues: QueueSender,
  fn: Pick<QueueFunction<never>, "name" | "queueName">,
  message: unknown,
  dequeueCount: number,
  reason: { code: string; message: string },
  now: () => Date = () => new Date()
): Promise<void> {
  const poison: PoisonMessage = {
    poisoned: { function: fn.name, queue: fn.queueName, dequeueCount, at: now().toISOString(), reason },
    message
  };
  await queues.send(poisonQueueOf(fn.queueName), poison);
}

export async function invokeTimer<S extends InvokeServices>(
  fn: TimerFunction<S>,
  timer: Timer,
  context: InvocationContext,
  services: S
): Promise<void> {
  await fn.handler(timer, context, services);
}
