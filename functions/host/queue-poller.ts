import type { DequeuedMessageItem, QueueServiceClient } from "@azure/storage-queue";
import { describeError } from "../../shared/domain/errors.js";
import type { QueueHostSettings } from "./host-json.js";
import type { HostLog } from "./timer-scheduler.js";

/**
 * Feeds a queue function from a real Azure Storage queue (Azurite locally) with the Functions
 * host's semantics (host.json `extensions.queues`):
 * - receives up to `batchSize` messages, and fetches the next batch once the messages in flight
 *   drop to `newBatchThreshold` (so at most batchSize + newBatchThreshold run at once);
 * - polls an empty queue with a doubling wait from 100 ms up to `maxPollingInterval`, back to
 *   immediate as soon as a message comes;
 * - success deletes the message; failure makes it visible again after exactly
 *   `visibilityTimeout` (no backoff between attempts: the Functions host has none); a failure
 *   on attempt `maxDequeueCount` copies the message, as stored, to `<queue>-poison` and deletes it;
 * - a message received with a dequeue count already above `maxDequeueCount` (its earlier
 *   attempts died with their process) goes to poison without running;
 * - a message that cannot be decoded (not base64 when base64 is expected) goes to poison at once,
 *   as the Functions extension does;
 * - while a handler runs its message stays invisible: it is received with a lease that is renewed
 *   at half-time.
 */

/** `context.triggerMetadata` of a queue trigger, as Azure shapes it (times as ISO strings). */
export type QueueTriggerMetadata = {
  readonly id: string;
  readonly dequeueCount: number;
  readonly insertionTime: string;
  readonly expirationTime: string;
  readonly nextVisibleTime: string;
  readonly popReceipt: string;
  /** The decoded message text. */
  readonly queueTrigger: string;
};

/**
 * Called once per attempt with the body as the Functions host hands it over (parsed JSON when the
 * text is a JSON object or array, else the string). Rejecting means "retry". The signal aborts
 * when the poller stops.
 */
export type QueueMessageHandler = (body: unknown, metadata: QueueTriggerMetadata, signal: AbortSignal) => Promise<void>;

export interface QueuePollerOptions {
  readonly service: QueueServiceClient;
  readonly queueName: string;
  readonly settings: QueueHostSettings;
  readonly handler: QueueMessageHandler;
  readonly log?: HostLog;
  /** The function's name, for log lines. Defaults to the queue name. */
  readonly name?: string;
  /**
   * How long a received message stays invisible while its handler runs, renewed at half-time.
   * Defaults to 10 minutes, as the Functions host.
   */
  readonly leaseMs?: number;
}

export interface QueuePoller {
  /** Messages whose handler is running now. */
  readonly inFlight: number;
  /**
   * Stops polling, aborts the handlers' signal and waits up to `timeoutMs` (default 30 s) for
   * them to finish. A handler still running after that is left to its lease: its message comes
   * back once the lease runs out.
   */
  stop(timeoutMs?: number): Promise<void>;
}

const MIN_POLL_MS = 100;
const DEFAULT_LEASE_MS = 10 * 60_000;

/** The message text, decoded per host.json `messageEncoding`; undefined when it cannot be. */
export function decodeMessageText(text: string, encoding: QueueHostSettings["messageEncoding"]): string | undefined {
  if (encoding === "none") return text;
  // .NET's base64 decoder skips white space; anything else outside the alphabet is an error.
  const compact = text.replace(/\s+/g, "");
  if (compact.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(compact)) return undefined;
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(Buffer.from(compact, "base64"));
  } catch {
    return undefined;
  }
}

/** The text to store for a message, encoded per `messageEncoding` (what a producer should send). */
export function encodeMessageText(text: string, encoding: QueueHostSettings["messageEncoding"]): string {
  return encoding === "none" ? text : Buffer.from(text, "utf8").toString("base64");
}

/**
 * The body a queue function receives: the Functions host passes text that looks like a JSON object
 * or array as JSON (which the Node worker parses) and anything else, `"42"` included, as a string.
 * Text that looks like JSON but does not parse stays a string here rather than failing the call.
 */
export function messageBody(text: string): unknown {
  const t = text.trim();
  if ((t.startsWith("{") && t.endsWith("}")) || (t.startsWith("[") && t.endsWith("]"))) {
    try {
      return JSON.parse(t) as unknown;
    } catch {
      return text;
    }
  }
  return text;
}

/** Creates the queue if needed and starts polling it. */
export async function startQueuePoller(options: QueuePollerOptions): Promise<QueuePoller> {
  const { settings, handler } = options;
  const name = options.name ?? options.queueName;
  const log = options.log ?? (() => undefined);
  const queue = options.service.getQueueClient(options.queueName);
  const poisonQueue = options.service.getQueueClient(`${options.queueName}-poison`);
  const leaseMs = Math.max(1000, options.leaseMs ?? DEFAULT_LEASE_MS);
  const leaseSeconds = Math.ceil(leaseMs / 1000);
  // The service counts visibility in whole seconds; a non-zero timeout never rounds down to 0.
  const retrySeconds = Math.ceil(settings.visibilityTimeoutMs / 1000);

  await queue.createIfNotExists();

  let stopped = false;
  let abandoned = false;
  const stopController = new AbortController();
  const hardStop = new AbortController();
  const inFlight = new Set<Promise<void>>();
  let capacityWaiter: (() => void) | undefined;
  let sleepWaiter: { timer: ReturnType<typeof setTimeout>; resolve: () => void } | undefined;

  const wakeCapacity = () => {
    const w = capacityWaiter;
    capacityWaiter = undefined;
    w?.();
  };

  let poisonReady: Promise<unknown> | undefined;
  const sendToPoison = async (msg: DequeuedMessageItem) => {
    poisonReady ??= poisonQueue.createIfNotExists().catch((e: unknown) => {
      poisonReady = undefined;
      throw e;
    });
    await poisonReady;
    await poisonQueue.sendMessage(msg.messageText);
  };

  const processMessage = async (msg: DequeuedMessageItem): Promise<void> => {
    let popReceipt = msg.popReceipt;
    const tag = `queue ${name}: message ${msg.messageId} (attempt ${msg.dequeueCount})`;

    const poison = async (why: string) => {
      try {
        await sendToPoison(msg);
        await queue.deleteMessage(msg.messageId, popReceipt);
        log("warn", `${tag} moved to ${options.queueName}-poison: ${why}`);
      } catch (e) {
        log("error", `${tag} could not be moved to ${options.queueName}-poison (${describeError(e)}); it will come back`);
      }
    };

    if (msg.dequeueCount > settings.maxDequeueCount) {
      await poison(`dequeue count ${msg.dequeueCount} is above maxDequeueCount ${settings.maxDequeueCount} (earlier attempts ended without a result)`);
      return;
    }
    const text = decodeMessageText(msg.messageText, settings.messageEncoding);
    if (text === undefined) {
      await poison(`the message is not valid ${settings.messageEncoding} text`);
      return;
    }

    // Keep the message invisible while the handler runs; renewals and the final update/delete
    // are serialised, since each renewal replaces the pop receipt.
    let renewing: Promise<void> = Promise.resolve();
    const renewTimer = setInterval(() => {
      if (abandoned) {
        clearInterval(renewTimer);
        return;
      }
      renewing = renewing.then(async () => {
        try {
          const res = await queue.updateMessage(msg.messageId, popReceipt, undefined, leaseSeconds);
          if (res.popReceipt !== undefined) popReceipt = res.popReceipt;
        } catch (e) {
          log("warn", `${tag}: could not renew its lease (${describeError(e)})`);
        }
      });
    }, leaseMs / 2);
    renewTimer.unref();

    let failure: unknown;
    let failed = false;
    try {
      const metadata: QueueTriggerMetadata = {
        id: msg.messageId,
        dequeueCount: msg.dequeueCount,
        insertionTime: msg.insertedOn.toISOString(),
        expirationTime: msg.expiresOn.toISOString(),
        nextVisibleTime: msg.nextVisibleOn.toISOString(),
        popReceipt: msg.popReceipt,
        queueTrigger: text
      };
      await handler(messageBody(text), metadata, stopController.signal);
    } catch (e) {
      failed = true;
      failure = e;
    } finally {
      clearInterval(renewTimer);
      await renewing;
    }

    if (!failed) {
      try {
        await queue.deleteMessage(msg.messageId, popReceipt);
      } catch (e) {
        log("warn", `${tag}: handled, but could not be deleted (${describeError(e)}); it may run again`);
      }
      return;
    }
    if (stopped) {
      // Most likely the handler gave up on the stop signal: not a verdict on the message, so it
      // goes back at once instead of waiting out the retry delay or being poisoned.
      log("warn", `${tag} did not finish before the host stopped (${describeError(failure)}); released`);
      await queue.updateMessage(msg.messageId, popReceipt, undefined, 0).catch(() => undefined);
      return;
    }
    if (msg.dequeueCount >= settings.maxDequeueCount) {
      await poison(`failed on attempt ${msg.dequeueCount} of ${settings.maxDequeueCount}: ${describeError(failure)}`);
      return;
    }
    log("warn", `${tag} failed: ${describeError(failure)}; retrying in ${retrySeconds} s`);
    try {
      await queue.updateMessage(msg.messageId, popReceipt, undefined, retrySeconds);
    } catch (e) {
      log("warn", `${tag}: could not set its retry visibility (${describeError(e)}); it returns when its lease ends`);
    }
  };

  const track = (msg: DequeuedMessageItem) => {
    const p = processMessage(msg)
      .catch((e: unknown) => log("error", `queue ${name}: ${describeError(e)}`))
      .finally(() => {
        inFlight.delete(p);
        wakeCapacity();
      });
    inFlight.add(p);
  };

  /** Makes received messages visible again at once (received during stop: not ours to run). */
  const release = async (messages: readonly DequeuedMessageItem[]) => {
    await Promise.all(
      messages.map((m) => queue.updateMessage(m.messageId, m.popReceipt, undefined, 0).catch(() => undefined))
    );
  };

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        sleepWaiter = undefined;
        resolve();
      }, ms);
      sleepWaiter = { timer, resolve };
    });

  const loop = async () => {
    let backoffMs = 0;
    while (!stopped) {
      while (!stopped && inFlight.size > settings.newBatchThreshold) {
        await new Promise<void>((resolve) => (capacityWaiter = resolve));
      }
      if (stopped) break;
      let messages: DequeuedMessageItem[] = [];
      try {
        // Not aborted by stop(): messages the service already handed out would stay invisible for
        // a whole lease. Only a stop that runs out of time cuts the call short.
        const res = await queue.receiveMessages({
          numberOfMessages: settings.batchSize,
          visibilityTimeout: leaseSeconds,
          abortSignal: hardStop.signal
        });
        messages = res.receivedMessageItems;
      } catch (e) {
        if (!stopped) log("warn", `queue ${name}: receive failed (${describeError(e)})`);
      }
      if (stopped) {
        await release(messages);
        break;
      }
      if (messages.length > 0) {
        backoffMs = 0;
        for (const m of messages) track(m);
        continue;
      }
      backoffMs = Math.min(Math.max(MIN_POLL_MS, backoffMs * 2), settings.maxPollingIntervalMs);
      await sleep(backoffMs);
    }
  };

  const running = loop().catch((e: unknown) => log("error", `queue ${name}: polling stopped: ${describeError(e)}`));

  return {
    get inFlight() {
      return inFlight.size;
    },
    async stop(timeoutMs = 30_000) {
      if (!stopped) {
        stopped = true;
        stopController.abort();
        if (sleepWaiter !== undefined) {
          clearTimeout(sleepWaiter.timer);
          sleepWaiter.resolve();
          sleepWaiter = undefined;
        }
        wakeCapacity();
      }
      let bound: ReturnType<typeof setTimeout> | undefined;
      const timedOut = new Promise<boolean>((resolve) => {
        bound = setTimeout(() => resolve(true), timeoutMs);
        bound.unref();
      });
      const leftBehind = await Promise.race([Promise.all([running, ...inFlight]).then(() => false), timedOut]);
      clearTimeout(bound);
      if (leftBehind) {
        abandoned = true;
        hardStop.abort();
        log("warn", `queue ${name}: ${inFlight.size} handler(s) still running after ${timeoutMs} ms; their messages return when their leases end`);
      }
    }
  };
}
