import { readFile } from "node:fs/promises";
import { z } from "zod";
import { ScanhookError } from "../../shared/domain/errors.js";
import { parseTimeSpan } from "./timespan.js";

/**
 * The queue trigger settings of host.json (`extensions.queues`), with the Functions host's own
 * defaults where a field is absent, so the local host polls exactly as Azure would.
 * https://learn.microsoft.com/azure/azure-functions/functions-bindings-storage-queue#host-json
 */
export interface QueueHostSettings {
  /** Messages received per poll, 1–32 (the storage service's maximum). */
  readonly batchSize: number;
  /** A new batch is fetched when the messages in flight drop to this many. */
  readonly newBatchThreshold: number;
  /** Longest wait between polls of an empty queue. */
  readonly maxPollingIntervalMs: number;
  /** How long a failed message stays invisible before its next attempt (fixed: no backoff). */
  readonly visibilityTimeoutMs: number;
  /** Attempts before a message leaves for `<queue>-poison`. */
  readonly maxDequeueCount: number;
  readonly messageEncoding: "base64" | "none";
}

export const QUEUE_DEFAULTS = {
  batchSize: 16,
  maxPollingIntervalMs: 60_000,
  visibilityTimeoutMs: 0,
  maxDequeueCount: 5,
  messageEncoding: "base64"
} as const;

/** The storage service limits a visibility timeout to seven days. */
const SEVEN_DAYS_MS = 7 * 24 * 3600 * 1000;

const timeSpan = (min: number, max: number) =>
  z.string().transform((text, ctx) => {
    const ms = parseTimeSpan(text);
    if (ms === undefined) {
      ctx.addIssue({ code: "custom", message: `"${text}" is not a TimeSpan (hh:mm:ss)` });
      return z.NEVER;
    }
    if (ms < min || ms > max) {
      ctx.addIssue({ code: "custom", message: `"${text}" must be between ${min} ms and ${max} ms` });
      return z.NEVER;
    }
    return ms;
  });

const queuesSchema = z.object({
  batchSize: z.number().int().min(1).max(32).optional(),
  newBatchThreshold: z.number().int().min(0).optional(),
  // The Functions host refuses a polling interval under 100 ms.
  maxPollingInterval: timeSpan(100, Number.MAX_SAFE_INTEGER).optional(),
  visibilityTimeout: timeSpan(0, SEVEN_DAYS_MS).optional(),
  maxDequeueCount: z.number().int().min(1).optional(),
  messageEncoding: z
    .string()
    .transform((s) => s.toLowerCase())
    .pipe(z.enum(["base64", "none"]))
    .optional()
});

/** .NET binds configuration keys case-insensitively; host.json written as `BatchSize` works in Azure. */
function pickCaseInsensitive(obj: unknown, key: string): unknown {
  if (obj === null || typeof obj !== "object" || Array.isArray(obj)) return undefined;
  const wanted = key.toLowerCase();
  for (const [k, v] of Object.entries(obj)) if (k.toLowerCase() === wanted) return v;
  return undefined;
}

function normaliseKeys(obj: unknown, keys: readonly string[]): unknown {
  if (obj === undefined) return {};
  if (obj === null || typeof obj !== "object" || Array.isArray(obj)) return obj;
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    const v = pickCaseInsensitive(obj, key);
    if (v !== undefined) out[key] = v;
  }
  return out;
}

/**
 * The queue settings from a parsed host.json document. Throws `HOST.HOST_JSON_INVALID` naming the
 * field (`extensions.queues.batchSize`, …) and the file.
 */
export function parseQueueSettings(hostJson: unknown, source = "host.json"): QueueHostSettings {
  const queues = pickCaseInsensitive(pickCaseInsensitive(hostJson, "extensions"), "queues");
  const parsed = queuesSchema.safeParse(normaliseKeys(queues, Object.keys(queuesSchema.shape)));
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (i) => `${["extensions", "queues", ...i.path.map(String)].join(".")}: ${i.message}`
    );
    throw new ScanhookError("HOST.HOST_JSON_INVALID", `${source}: ${problems.join("; ")}`, { meta: { source, problems } });
  }
  const q = parsed.data;
  const batchSize = q.batchSize ?? QUEUE_DEFAULTS.batchSize;
  return {
    batchSize,
    newBatchThreshold: q.newBatchThreshold ?? Math.floor(batchSize / 2),
    maxPollingIntervalMs: q.maxPollingInterval ?? QUEUE_DEFAULTS.maxPollingIntervalMs,
    visibilityTimeoutMs: q.visibilityTimeout ?? QUEUE_DEFAULTS.visibilityTimeoutMs,
    maxDequeueCount: q.maxDequeueCount ?? QUEUE_DEFAULTS.maxDequeueCount,
    messageEncoding: q.messageEncoding ?? QUEUE_DEFAULTS.messageEncoding
  };
}

/** Reads host.json from disk; a missing file means every default, as for the Functions host. */
export async function readQueueSettings(hostJsonPath: string): Promise<QueueHostSettings> {
  let text: string;
  try {
    text = await readFile(hostJsonPath, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return parseQueueSettings({}, hostJsonPath);
    throw e;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ScanhookError("HOST.HOST_JSON_INVALID", `${hostJsonPath}: not valid JSON (${(e as Error).message})`, {
      cause: e,
      meta: { source: hostJsonPath }
    });
  }
  return parseQueueSettings(json, hostJsonPath);
}
