/**
 * The queues between scanhook's functions (DESIGN principle 7): each has exactly one consumer in a
 * deployment; `verdict-changes` is a feed for users. A failed message ends in `<queue>-poison`
 * with the reason.
 */
export const QUEUES = {
  scanRequests: "scan-requests",
  rematchRequests: "rematch-requests",
  notifications: "notifications",
  verdictChanges: "verdict-changes"
} as const;

export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

export const poisonQueueOf = (queue: string): string => `${queue}-poison`;

export type Reachability = { readonly ok: true } | { readonly ok: false; readonly error: string };

/** The producer side of the queues; the consumers are queue functions. */
export interface QueueSender {
  /** Enqueues `body` as JSON. Resolves only once the queue service has accepted the message. */
  send(queue: string, body: unknown, options?: SendOptions): Promise<void>;
  /** Whether the queue service answers. */
  ping(): Promise<Reachability>;
}

export interface SendOptions {
  /** Delay before the message becomes visible, in seconds. */
  readonly visibilityTimeoutSeconds?: number;
  readonly abortSignal?: AbortSignal;
}
